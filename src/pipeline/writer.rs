//! The inbox writer: the one thread that writes to the store while a
//! pipeline runs.
//!
//! Request handlers hand their items to this thread and wait for its
//! answer; it takes every message waiting, writes them all in one
//! transaction (group commit: one fsync for many callbacks) and only then
//! answers each, so an answer always means "on disk". It also matches items
//! to jobs, hands matched ones to the workers, records what they finish,
//! retries failed fetches with backoff, and re-matches callbacks that
//! arrived before their job's record did.
//!
//! Reads that decide what to do next (due retries, early callbacks that
//! can now match) run outside any write transaction, so they never hold
//! the write lock that other processes' `kbridge schedule` need.
//!
//! A callback is processed under a claim: the writer claims it in the
//! transaction that hands it to a worker, renews its claims while workers
//! have them in hand, and records a worker's result only if it still holds
//! the claim. Several listeners on one database so take each callback
//! once, and one that dies leaves its callbacks to the others when its
//! claims expire (`claim_lease`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::admit::{
    admit, admit_plan, build_known, Admission, Incoming, IncomingPlan, Matching, PlanAdmission,
};
use super::worker::{Finish, Work};
use super::{
    Answer, Health, Msg, PolledReport, ReplayError, Replayed, Runners, Settings, SignedReport,
};
use crate::clock::now_ms;
use crate::log::Log;
use crate::model::{InboxEntry, InboxStatus, Job, JobState};
use crate::retry::{Backoff, Deadline, Next};
use crate::runner::CallbackAuth;
use crate::store::{Batch, NewDocument, NewInbox, Queued, Store, StoreError};

/// The most messages written in one transaction.
const MAX_BATCH: usize = 1024;
/// How often the writer looks for due retries and late jobs when idle.
const TICK: Duration = Duration::from_millis(200);

/// How often unmatched callbacks past `unmatched_ttl` are removed.
const EXPIRE_EVERY: Duration = Duration::from_secs(600);

/// What a token can make kbridge do and keep. A token-only callback (LAVA)
/// authenticates with a secret anyone who can read a public job's
/// definition can see, so what it makes kbridge keep is bounded per job:
/// one notice row (reused by the job's next notice), and at most
/// [`MAX_INVALID_PER_JOB`] unreadable bodies of [`KEPT_INVALID_BYTES`]
/// each, and nothing once the job is final. A notice makes kbridge ask the
/// runner at most once per [`NOTICE_PAUSE`].
const NOTICE_PAUSE: Duration = Duration::from_secs(10);
const MAX_INVALID_PER_JOB: i64 = 3;
const KEPT_INVALID_BYTES: usize = 4096;

/// The writer thread's state.
pub(super) struct Writer {
    store: Store,
    runners: Runners,
    settings: Settings,
    work: Sender<Option<Work>>,
    idle: tokio::sync::watch::Sender<bool>,
    log: Log,
    /// Callbacks a worker has in hand.
    in_flight: HashSet<i64>,
    /// Outside service mode, the callbacks this pipeline was handed: the
    /// only ones it retries.
    owned: HashSet<i64>,
    /// Replays waiting to hear how their callback ended.
    waiters: HashMap<i64, tokio::sync::oneshot::Sender<Result<Replayed, ReplayError>>>,
    /// Whether pending callbacks may exist that no worker has in hand and
    /// no retry is scheduled for: at start, and after a failed write.
    recover: bool,
    data_version: Option<i64>,
    /// After the store fails, periodic work waits before trying again, so
    /// a full disk does not turn into a tight loop of re-fetching.
    store_failures: u32,
    quiet_until: Option<Instant>,
    /// When each callback in a worker's hand was handed out, for the
    /// processing-time histogram.
    handed_out: HashMap<i64, Instant>,
    /// When unmatched callbacks past their time were last removed.
    last_expiry: Option<Instant>,
    /// Jobs up to this id have been looked at for unmatched callbacks.
    rematched: i64,
    /// Who this writer's claims are held by: unique per pipeline.
    owner: String,
    /// When this writer's claims were last renewed.
    last_renewal: Instant,
    /// Items admitted and not yet taken (shared with the intake).
    queued: Arc<AtomicUsize>,
    /// How the writer is doing (shared with the intake).
    health: Arc<Health>,
    /// A step that fails once, for tests of what a failure leaves behind.
    #[cfg(test)]
    fail_at: Option<&'static str>,
}

impl Writer {
    pub(super) fn new(
        store: Store,
        runners: Runners,
        settings: Settings,
        work: Sender<Option<Work>>,
        idle: tokio::sync::watch::Sender<bool>,
        log: Log,
    ) -> Writer {
        Writer {
            store,
            runners,
            settings,
            work,
            idle,
            log,
            in_flight: HashSet::new(),
            owned: HashSet::new(),
            waiters: HashMap::new(),
            recover: true,
            data_version: None,
            store_failures: 0,
            quiet_until: None,
            handed_out: HashMap::new(),
            last_expiry: None,
            rematched: 0,
            owner: super::claims::owner(),
            last_renewal: Instant::now(),
            queued: Arc::default(),
            health: Arc::default(),
            #[cfg(test)]
            fail_at: None,
        }
    }

    /// Shares the intake's queue count and the store's health.
    pub(super) fn share(&mut self, queued: Arc<AtomicUsize>, health: Arc<Health>) {
        self.queued = queued;
        self.health = health;
    }

    /// Fails once at `step` when a test asked for it.
    fn failpoint(&mut self, step: &'static str) -> Result<(), StoreError> {
        #[cfg(test)]
        if self.fail_at == Some(step) {
            self.fail_at = None;
            return Err(StoreError::Locked {
                at: self.store.location().clone(),
            });
        }
        let _ = step;
        Ok(())
    }

    /// Runs until [`Msg::Stop`] or until every sender is gone.
    pub(super) fn run(mut self, rx: Receiver<Msg>) {
        // Callbacks stored but not finished before a stop or a crash.
        self.on_tick();
        let mut last_tick = Instant::now();
        loop {
            self.health.beat();
            let first = match rx.recv_timeout(TICK) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut batch: Vec<Msg> = first.into_iter().collect();
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            let stop = batch.iter().any(|m| matches!(m, Msg::Stop));
            let taken = batch
                .iter()
                .filter(|m| {
                    matches!(
                        m,
                        Msg::Admit(..) | Msg::Plan(..) | Msg::Report(..) | Msg::Polled(..)
                    )
                })
                .count();
            self.queued.fetch_sub(taken, Ordering::AcqRel);
            if !batch.is_empty() {
                self.write(batch);
            }
            if stop {
                // What workers still have in hand is left to whoever comes
                // next, at once rather than when the claims expire.
                if let Err(e) = self.release_own_claims() {
                    self.log.error(&format!("could not give up claims: {e}"));
                }
                return;
            }
            if last_tick.elapsed() >= TICK {
                self.on_tick();
                last_tick = Instant::now();
            }
        }
    }

    /// Writes one group of messages in one transaction, then answers.
    fn write(&mut self, msgs: Vec<Msg>) {
        let mut replies = Vec::new();
        let mut work = Vec::new();
        let mut lines = Vec::new();
        let mut finished = Vec::new();
        let mut replays = Vec::new();
        let mut resumes = Vec::new();
        let result = (|| -> Result<(), StoreError> {
            let batch = self.store.batch()?;
            for msg in msgs {
                match msg {
                    Msg::Admit(incoming, reply) => {
                        let answer = store_callback(
                            &batch,
                            &self.runners,
                            &self.settings,
                            *incoming,
                            &mut work,
                        )?;
                        replies.push((reply, answer));
                    }
                    Msg::Plan(incoming, reply) => {
                        let (answer, line) = store_plan_callback(&batch, &incoming)?;
                        if let Some(line) = line {
                            lines.push(line);
                        }
                        replies.push((reply, answer));
                    }
                    Msg::Report(report, reply) => {
                        let answer = store_report(&batch, &self.settings.origin, *report)?;
                        replies.push((reply, answer));
                    }
                    Msg::Polled(report, reply) => {
                        let answer = store_polled(
                            &batch,
                            &self.runners,
                            &self.settings,
                            *report,
                            &mut work,
                        )?;
                        replies.push((reply, answer));
                    }
                    Msg::Resume(jobs) => resumes.extend(jobs),
                    Msg::Alive { id, bind, refused } => {
                        batch.heartbeat(&id, &bind, now_ms())?;
                        batch.add_refusals(&refused, now_ms())?;
                    }
                    Msg::Finished {
                        inbox_id,
                        job_id,
                        finish,
                        status,
                    } => {
                        if !batch.release_claim(inbox_id, &self.owner)? {
                            // The claim expired and another process took
                            // the callback over: its result is the one kept.
                            let line = format!(
                                "callback {inbox_id}: taken over by another listener while it was processed here; its result there is kept"
                            );
                            finished.push((inbox_id, line.clone(), false));
                            lines.push(line);
                            crate::metrics::global().claim_lost();
                            continue;
                        }
                        if let Some(status) = &status {
                            batch.set_job_status(job_id, status)?;
                        }
                        let line =
                            record_finish(&batch, inbox_id, job_id, &finish, &self.settings)?;
                        let completed = matches!(finish, Finish::Completed { .. });
                        finished.push((inbox_id, line.clone(), completed));
                        lines.push(line);
                    }
                    Msg::Replay(id, reply) => replays.push((id, reply)),
                    Msg::Stop => {}
                }
            }
            work = claim(
                &batch,
                std::mem::take(&mut work),
                &self.owner,
                self.settings.lease,
            )?;
            batch.commit()
        })();
        match result {
            Ok(()) => {
                self.store_failures = 0;
                self.quiet_until = None;
                self.health.wrote(true);
                for (reply, answer) in replies {
                    let _ = reply.send(answer);
                }
                for (id, line, completed) in finished {
                    self.in_flight.remove(&id);
                    if let Some(at) = self.handed_out.remove(&id) {
                        if completed {
                            crate::metrics::global().processed(at.elapsed());
                        }
                    }
                    if let Some(waiter) = self.waiters.remove(&id) {
                        let _ = waiter.send(Ok(Replayed {
                            line: line.clone(),
                            completed,
                        }));
                    }
                }
                for w in work {
                    self.dispatch(w);
                }
                for line in lines {
                    self.log.info(&line);
                }
            }
            Err(e) => {
                // Nothing of this group was kept: every request hears so
                // (503, so a sender that retries will), and finished work
                // is redone from the stored callback once the store is
                // usable again.
                self.log.error(&format!("could not store callbacks: {e}"));
                for (reply, _) in replies {
                    let _ = reply.send(Answer::Unavailable(e.to_string()));
                }
                for (id, _, _) in finished {
                    self.in_flight.remove(&id);
                }
                self.store_failed();
            }
        }
        if !resumes.is_empty() {
            if let Err(e) = self.resume(&resumes) {
                self.log.error(&e.to_string());
            }
        }
        for (id, reply) in replays {
            match self.replay(id) {
                Ok(w) => {
                    self.waiters.insert(id, reply);
                    self.dispatch(w);
                }
                Err(why) => {
                    let _ = reply.send(Err(why));
                }
            }
        }
    }

    fn store_failed(&mut self) {
        self.health.wrote(false);
        self.in_flight.clear();
        self.handed_out.clear();
        self.recover = true;
        self.store_failures = self.store_failures.saturating_add(1);
        let pause = Backoff::new(TICK, Duration::from_secs(30)).delay(self.store_failures - 1);
        self.quiet_until = Some(Instant::now() + pause);
    }

    fn dispatch(&mut self, w: Work) {
        self.owned.insert(w.inbox_id);
        if self.in_flight.insert(w.inbox_id) {
            self.handed_out
                .entry(w.inbox_id)
                .or_insert_with(Instant::now);
            let _ = self.work.send(Some(w));
        }
    }

    /// Periodic duties: re-match early callbacks when other processes
    /// changed the store, start due retries, and say when nothing is left
    /// to wait for.
    fn on_tick(&mut self) {
        if self.quiet_until.is_some_and(|t| Instant::now() < t) {
            return;
        }
        if let Err(e) = self.tick() {
            self.log.error(&e.to_string());
            self.store_failed();
        }
    }

    fn tick(&mut self) -> Result<(), StoreError> {
        if self.settings.service && self.last_expiry.is_none_or(|t| t.elapsed() >= EXPIRE_EVERY) {
            self.expire()?;
            self.last_expiry = Some(Instant::now());
        }
        let version = self.store.data_version()?;
        if self.settings.service && self.data_version != Some(version) {
            self.rematch()?;
            // Recorded only once the rematch held: a failed one is tried
            // again on the next tick, not forgotten.
            self.data_version = Some(version);
        }
        self.failpoint("due")?;
        if self.recover {
            self.release_dead_claims()?;
        }
        let due: Vec<InboxEntry> = self
            .store
            .read()
            .due_pending(now_ms(), self.recover, &self.owner)?
            .into_iter()
            .filter(|e| !self.in_flight.contains(&e.id))
            .filter(|e| self.settings.service || self.owned.contains(&e.id))
            .collect();
        let mut work = Vec::new();
        for e in due {
            let Some(job_id) = e.job_id else { continue };
            let Some(job) = self.store.read().job_by_id(job_id)? else {
                continue;
            };
            work.push(work_from_entry(&self.store, &self.settings.origin, e, job)?);
        }
        work = self.claimed(work)?;
        self.renew()?;
        // Cleared only once every pending callback is in hand.
        self.recover = false;
        for w in work {
            self.dispatch(w);
        }
        let idle = self.in_flight.is_empty()
            && (!self.settings.service || self.store.read().waiting()? == 0);
        self.idle
            .send_if_modified(|v| std::mem::replace(v, idle) != idle);
        Ok(())
    }

    /// Matches callbacks that arrived before their job's record.
    /// Removes unmatched callbacks kept longer than `unmatched_ttl`: the
    /// job they report on never appeared here.
    fn expire(&mut self) -> Result<(), StoreError> {
        let before = crate::store::stamp::Stamp::ago(self.settings.unmatched_ttl);
        // Looked for first: the write lock is taken only when there is
        // something to remove.
        if !self.store.read().unmatched_before(before)? {
            return Ok(());
        }
        let batch = self.store.batch()?;
        let gone = batch.expire_unmatched(before)?;
        batch.commit()?;
        if gone > 0 {
            self.log.info(&format!(
                "removed {gone} unmatched callback(s) older than {}s: no job of theirs appeared",
                self.settings.unmatched_ttl.as_secs()
            ));
        }
        Ok(())
    }

    fn rematch(&mut self) -> Result<(), StoreError> {
        self.failpoint("rematch")?;
        // Read first: jobs that appear while this runs are looked at next
        // time.
        let upto = self.store.read().rematched_upto()?;
        let unmatched = self.store.read().matchable_unmatched(self.rematched)?;
        if unmatched.is_empty() {
            self.rematched = upto;
            return Ok(());
        }
        let mut work = Vec::new();
        let mut lines = Vec::new();
        let batch = self.store.batch()?;
        for e in unmatched {
            // Another listener may have matched it since it was read.
            if batch.read().inbox_status(e.id)? != Some(InboxStatus::Unmatched) {
                continue;
            }
            let Some(runner) = self.runners.get(e.runner.as_str()) else {
                continue;
            };
            let (Some(body), Some(verified_as)) = (e.body.as_deref(), e.verified_as.as_deref())
            else {
                continue;
            };
            let cb = match runner.parse_callback(e.kind, body, verified_as) {
                Ok(cb) => Matching::of(&cb),
                Err(why) => {
                    batch.set_inbox(e.id, InboxStatus::Invalid, None, Some(&why.to_string()))?;
                    continue;
                }
            };
            match admit(
                batch.read(),
                &e.runner,
                runner.as_ref(),
                e.kind,
                &cb,
                e.token.as_deref(),
            )? {
                Admission::Unmatched => {}
                Admission::Matched(job) => {
                    accept(&batch, e.id, &job, cb.uid.as_deref())?;
                    lines.push(format!(
                        "callback {} matched job {} ({})",
                        e.id,
                        job.id,
                        cb.uid.as_deref().unwrap_or("-")
                    ));
                    let build_known = build_known(batch.read(), &self.settings.origin, &job)?;
                    work.push(Work {
                        inbox_id: e.id,
                        job,
                        body: body.to_vec(),
                        verified_as: verified_as.to_string(),
                        build_known,
                    });
                }
                Admission::Duplicate(job) => {
                    batch.set_inbox(e.id, InboxStatus::Duplicate, Some(job.id), None)?;
                    batch.drop_body(e.id)?;
                }
                Admission::Rejected(why) => {
                    lines.push(format!("callback {} rejected: {why}", e.id));
                    batch.set_inbox(e.id, InboxStatus::Rejected, None, Some(&why))?;
                    batch.drop_body(e.id)?;
                }
                Admission::Invalid(why) => {
                    batch.set_inbox(e.id, InboxStatus::Invalid, None, Some(&why))?
                }
            }
        }
        let work = claim(&batch, work, &self.owner, self.settings.lease)?;
        batch.commit()?;
        self.rematched = upto;
        for line in lines {
            self.log.info(&line);
        }
        for w in work {
            self.dispatch(w);
        }
        Ok(())
    }

    /// Hands out what is pending for these jobs, now.
    fn resume(&mut self, jobs: &[i64]) -> Result<(), StoreError> {
        let pending = self.store.read().due_pending(i64::MAX, true, &self.owner)?;
        let mut work = Vec::new();
        for e in pending
            .into_iter()
            .filter(|e| e.job_id.is_some_and(|j| jobs.contains(&j)))
        {
            if self.in_flight.contains(&e.id) {
                continue;
            }
            let Some(job) = self.store.read().job_by_id(e.job_id.unwrap_or_default())? else {
                continue;
            };
            work.push(work_from_entry(&self.store, &self.settings.origin, e, job)?);
        }
        work = self.claimed(work)?;
        for w in work {
            self.dispatch(w);
        }
        Ok(())
    }

    /// Claims `work` in a transaction of its own; returns what it got.
    fn claimed(&mut self, work: Vec<Work>) -> Result<Vec<Work>, StoreError> {
        if work.is_empty() {
            return Ok(work);
        }
        let batch = self.store.batch()?;
        let work = claim(&batch, work, &self.owner, self.settings.lease)?;
        batch.commit()?;
        Ok(work)
    }

    /// Gives up every claim this writer holds.
    fn release_own_claims(&mut self) -> Result<(), StoreError> {
        let batch = self.store.batch()?;
        batch.release_inbox_claims_of(&self.owner)?;
        batch.commit()
    }

    /// Frees the claims of processes of this machine that are gone (a
    /// listener killed and started again), so their callbacks need not
    /// wait for the claims to expire.
    fn release_dead_claims(&mut self) -> Result<(), StoreError> {
        let dead: Vec<String> = self
            .store
            .read()
            .inbox_claimants(now_ms())?
            .into_iter()
            .filter(|o| super::claims::gone(o))
            .collect();
        if dead.is_empty() {
            return Ok(());
        }
        let batch = self.store.batch()?;
        for owner in &dead {
            batch.release_inbox_claims_of(owner)?;
        }
        batch.commit()
    }

    /// Renews this writer's claims while workers have callbacks in hand,
    /// at a third of the lease, so they never expire under a live writer.
    fn renew(&mut self) -> Result<(), StoreError> {
        if self.in_flight.is_empty() || self.last_renewal.elapsed() < self.settings.lease / 3 {
            return Ok(());
        }
        let batch = self.store.batch()?;
        batch.renew_claims(
            &self.owner,
            now_ms() + self.settings.lease.as_millis() as i64,
        )?;
        batch.commit()?;
        self.last_renewal = Instant::now();
        Ok(())
    }

    /// Puts a stored callback back in the queue and returns its work.
    fn replay(&mut self, id: i64) -> Result<Work, ReplayError> {
        let entry = self
            .store
            .read()
            .inbox_entry(id)?
            .ok_or(ReplayError::NotFound(id))?;
        let (Some(body), Some(verified_as)) = (entry.body.clone(), entry.verified_as.clone())
        else {
            return Err(ReplayError::Cannot(format!(
                "callback {id} was rejected ({}): its body was not kept, so there is nothing to replay",
                entry.reason.as_deref().unwrap_or("its authentication did not hold")
            )));
        };
        let runner = self.runners.get(entry.runner.as_str()).ok_or_else(|| {
            ReplayError::Cannot(format!(
                "callback {id} is for runner '{}', which is not configured here",
                entry.runner
            ))
        })?;
        let cb = runner
            .parse_callback(entry.kind, &body, &verified_as)
            .map(|cb| Matching::of(&cb))
            .map_err(|e| ReplayError::Cannot(format!("callback {id} cannot be read: {e}")))?;
        let batch = self.store.batch()?;
        let job = match admit(
            batch.read(),
            &entry.runner,
            runner.as_ref(),
            entry.kind,
            &cb,
            entry.token.as_deref(),
        )? {
            Admission::Matched(job) | Admission::Duplicate(job) => job,
            Admission::Unmatched => {
                return Err(ReplayError::Cannot(format!(
                    "callback {id} (uid {}) matches no job kbridge scheduled",
                    cb.uid.as_deref().unwrap_or("-")
                )))
            }
            Admission::Rejected(why) | Admission::Invalid(why) => {
                return Err(ReplayError::Cannot(format!(
                    "callback {id} cannot be processed: {why}"
                )))
            }
        };
        batch.requeue(id)?;
        accept(&batch, id, &job, cb.uid.as_deref())?;
        let build_known = build_known(batch.read(), &self.settings.origin, &job)?;
        let work = Work {
            inbox_id: id,
            job,
            body,
            verified_as,
            build_known,
        };
        let Some(work) = claim(&batch, vec![work], &self.owner, self.settings.lease)?.pop() else {
            return Err(ReplayError::Cannot(format!(
                "callback {id} is being processed by a listener; try again when it is done"
            )));
        };
        batch.commit()?;
        self.in_flight.remove(&id);
        Ok(work)
    }
}

/// Claims the callbacks of `work` for `owner`; returns the work whose
/// claim it got (another process may be processing the rest).
fn claim(
    batch: &Batch<'_>,
    work: Vec<Work>,
    owner: &str,
    lease: Duration,
) -> Result<Vec<Work>, StoreError> {
    if work.is_empty() {
        return Ok(work);
    }
    let ids: Vec<i64> = work.iter().map(|w| w.inbox_id).collect();
    let now = now_ms();
    let got: HashSet<i64> = batch
        .claim_inbox(&ids, owner, now, now + lease.as_millis() as i64)?
        .into_iter()
        .collect();
    Ok(work
        .into_iter()
        .filter(|w| got.contains(&w.inbox_id))
        .collect())
}

/// Marks a stored callback pending and its job received.
fn accept(
    batch: &Batch<'_>,
    inbox_id: i64,
    job: &Job,
    uid: Option<&str>,
) -> Result<(), StoreError> {
    batch.set_inbox(inbox_id, InboxStatus::Pending, Some(job.id), None)?;
    mark_received(batch, job, uid)
}

/// Marks a job as having had its report, recording the runner's uid if the
/// report came before the schedule command's final write.
fn mark_received(batch: &Batch<'_>, job: &Job, uid: Option<&str>) -> Result<(), StoreError> {
    batch.set_job_state(job.id, JobState::Received, None)?;
    if let (None, Some(uid)) = (&job.uid, uid) {
        batch.set_job_uid(job.id, uid)?;
    }
    Ok(())
}

/// The work for a stored callback, taking its bytes.
fn work_from_entry(
    store: &Store,
    origin: &str,
    entry: InboxEntry,
    job: Job,
) -> Result<Work, StoreError> {
    Ok(Work {
        inbox_id: entry.id,
        build_known: build_known(store.read(), origin, &job)?,
        job,
        body: entry.body.unwrap_or_default(),
        verified_as: entry.verified_as.unwrap_or_default(),
    })
}

/// Records what a worker finished. Returns a line for the log.
fn record_finish(
    batch: &Batch<'_>,
    inbox_id: i64,
    job_id: i64,
    finish: &Finish,
    settings: &Settings,
) -> Result<String, StoreError> {
    let now_ms = now_ms();
    match finish {
        Finish::Completed {
            document,
            path,
            state,
            detail,
            builds,
            needs_builds,
            worst,
            device,
        } => {
            batch.save_document(job_id, document, Some(path))?;
            if let Some(device) = device {
                batch.set_actual_device(job_id, device)?;
            }
            if let Some(worst) = worst {
                batch.set_job_result(job_id, *worst)?;
            }
            batch.set_job_state(job_id, *state, detail.as_deref())?;
            batch.set_inbox(inbox_id, InboxStatus::Processed, None, detail.as_deref())?;
            let job = batch.read().job_by_id(job_id)?;
            let label = job
                .as_ref()
                .map(outbox_label)
                .unwrap_or_else(|| format!("job {job_id}"));
            let queued = batch.queue_document(
                &NewDocument {
                    key: &format!("job:{job_id}"),
                    job_id: Some(job_id),
                    label: &label,
                    document,
                    builds,
                    needs_builds,
                },
                now_ms,
            )?;
            let mut line = match detail {
                Some(d) => format!("job {job_id}: {state} ({d}); wrote {path}"),
                None => format!("job {job_id}: {state}; wrote {path}"),
            };
            if let Queued::ChangedAfterSubmission(id) = queued {
                line.push_str(&format!(
                    "; warning: its KCIDB document changed after it was submitted: the bytes first sent are kept (outbox {id})"
                ));
            }
            Ok(line)
        }
        Finish::Errored { reason } => {
            batch.set_job_state(job_id, JobState::Errored, Some(reason))?;
            batch.set_inbox(inbox_id, InboxStatus::Failed, None, Some(reason))?;
            Ok(format!("job {job_id}: errored: {reason}"))
        }
        Finish::Early { why } => {
            let reason =
                format!("{why}: the callback was a notice that came early; the job is polled until it finishes");
            batch.set_early(inbox_id, now_ms + NOTICE_PAUSE.as_millis() as i64, &reason)?;
            batch.reopen_job(job_id, &reason)?;
            Ok(format!("job {job_id}: {reason}"))
        }
        Finish::Retry { error, notice } => {
            let (first_fetch_ms, attempts) = batch.read().inbox_fetch_state(inbox_id)?;
            let first = first_fetch_ms.unwrap_or(now_ms);
            let deadline = Deadline {
                backoff: settings.backoff,
                retry_for: settings.retry_for,
            };
            match deadline.next(first, attempts, now_ms, None) {
                Next::GiveUp { tried } if *notice => {
                    // The report did not prove the job finished: polling
                    // (or the job's next callback) will bring it again.
                    let reason = format!(
                        "gave up fetching results after {}s: {error}; the job is polled again",
                        tried.as_secs()
                    );
                    batch.set_inbox(inbox_id, InboxStatus::Failed, None, Some(&reason))?;
                    batch.reopen_job(job_id, &reason)?;
                    Ok(format!("job {job_id}: {reason}"))
                }
                Next::GiveUp { tried } => {
                    let reason = format!(
                        "gave up fetching results after {}s: {error}; `kbridge inbox replay {inbox_id}` tries again",
                        tried.as_secs()
                    );
                    batch.set_inbox(inbox_id, InboxStatus::Failed, None, Some(&reason))?;
                    batch.set_job_state(job_id, JobState::Received, Some(&reason))?;
                    Ok(format!("job {job_id}: {reason}"))
                }
                Next::RetryAt { at_ms, pause } => {
                    let detail = format!(
                        "fetching results failed (attempt {}): {error}; retrying in {:.1}s",
                        attempts + 1,
                        pause.as_secs_f64()
                    );
                    batch.retry_later(inbox_id, first, at_ms, &detail)?;
                    batch.set_job_state(job_id, JobState::Received, Some(&detail))?;
                    Ok(format!("job {job_id}: {detail}"))
                }
            }
        }
    }
}

/// Stores a finished job's report found by polling, unless the job was
/// reported on already (by a callback, or another poll): then nothing is
/// kept.
fn store_polled(
    batch: &Batch<'_>,
    runners: &Runners,
    settings: &Settings,
    p: PolledReport,
    work: &mut Vec<Work>,
) -> Result<Answer, StoreError> {
    let Some(job) = batch.read().job_by_id(p.job_id)? else {
        return Ok(Answer::Invalid(format!("no job {}", p.job_id)));
    };
    if job.state.reported() {
        return Ok(Answer::Duplicate { inbox: None });
    }
    if !runners.contains_key(job.runner.as_str()) {
        return Ok(Answer::Invalid(format!(
            "runner '{}' is not configured here",
            job.runner
        )));
    }
    let uid = job.uid.clone().or(p.callback.uid.clone());
    if let Some(u) = &uid {
        if let Err(why) = crate::model::check_uid(u) {
            return Ok(Answer::Invalid(why.to_string()));
        }
    }
    let body = serde_json::to_vec(&p.callback.status).expect("JSON values always serialise");
    let inbox = batch.insert_inbox(&NewInbox {
        runner: &job.runner,
        kind: job.kind,
        status: InboxStatus::Pending,
        verified_as: Some(crate::runner::POLLED),
        reason: None,
        headers: "{}",
        token: None,
        body: Some(&body),
        body_bytes: body.len(),
        uid: uid.as_deref(),
        job_id: Some(job.id),
        digest: None,
    })?;
    mark_received(batch, &job, uid.as_deref())?;
    batch.set_job_status(job.id, &p.callback.status)?;
    let job_id = job.id;
    let build_known = build_known(batch.read(), &settings.origin, &job)?;
    work.push(Work {
        inbox_id: inbox,
        job,
        body,
        verified_as: crate::runner::POLLED.to_string(),
        build_known,
    });
    Ok(Answer::Accepted {
        inbox,
        job: Some(job_id),
    })
}

/// The outbox key of a report: one document per source and test run.
pub fn report_key(source: &str, test_uid: &str) -> String {
    format!("report:{source}:{test_uid}")
}

/// Stores a signed report and queues its document, once per source and
/// test run; a signature is accepted once.
fn store_report(batch: &Batch<'_>, origin: &str, r: SignedReport) -> Result<Answer, StoreError> {
    if batch.read().signature_seen(&r.signature)? {
        return Ok(Answer::Rejected(
            "this signature was already used: each signed report is accepted once".into(),
        ));
    }
    let verified_as = format!("hmac:{}", r.source);
    if let Some(inbox) = batch.read().report_inbox(&verified_as, &r.test_uid)? {
        return Ok(Answer::Duplicate { inbox: Some(inbox) });
    }
    let value: serde_json::Value =
        serde_json::from_str(&r.document).expect("the handler serialised it");
    let read = batch.read();
    let known = |id: &str| {
        id.split_once(':')
            .is_some_and(|(_, uid)| read.build_known(uid).unwrap_or(false))
    };
    if let Err(why) =
        crate::kcidb::check::check(&value, &crate::kcidb::check::Rules::own(origin, &known))
    {
        return Ok(Answer::Invalid(format!(
            "the report's KCIDB document fails a check: {why}"
        )));
    }
    let headers = serde_json::json!({"source": r.source}).to_string();
    let inbox = batch.insert_inbox(&NewInbox {
        runner: "report",
        kind: crate::model::JobKind::Test,
        status: InboxStatus::Processed,
        verified_as: Some(&verified_as),
        reason: None,
        headers: &headers,
        token: None,
        body: Some(&r.body),
        body_bytes: r.body.len(),
        uid: Some(&r.test_uid),
        job_id: None,
        digest: None,
    })?;
    batch.set_signature(inbox, &r.signature)?;
    let (builds, needs) = crate::kcidb::references_of(&value, origin);
    batch.queue_document(
        &NewDocument {
            key: &report_key(&r.source, &r.test_uid),
            job_id: None,
            label: &format!("report {} from {}", r.test_uid, r.source),
            document: &r.document,
            builds: &builds,
            needs_builds: &needs,
        },
        now_ms(),
    )?;
    Ok(Answer::Accepted { inbox, job: None })
}

/// How the outbox names a job's document.
pub fn outbox_label(job: &Job) -> String {
    format!(
        "job {} ({} {} {})",
        job.id,
        job.runner,
        job.kind,
        job.uid.as_deref().unwrap_or("-")
    )
}

/// Records a plan callback on its plan, and says what became of it in a
/// log line. Nothing of a refused one is kept.
fn store_plan_callback(
    batch: &Batch<'_>,
    c: &IncomingPlan,
) -> Result<(Answer, Option<String>), StoreError> {
    Ok(match admit_plan(batch.read(), c)? {
        PlanAdmission::Rejected(why) => (Answer::Rejected(why), None),
        PlanAdmission::Invalid(why) => (Answer::Invalid(why), None),
        PlanAdmission::Duplicate(plan) => (Answer::PlanDuplicate { plan: plan.id }, None),
        PlanAdmission::Matched(plan) => {
            let report = c
                .parsed
                .as_ref()
                .expect("a matched plan callback was parsed");
            let polled =
                batch.finish_plan(&plan, report.uid.as_deref(), &report.summary, now_ms())?;
            let uid = plan.uid.as_deref().or(report.uid.as_deref()).unwrap_or("-");
            let line = format!(
                "plan {} ({uid}) on {} finished: {}{}",
                plan.id,
                plan.runner,
                crate::model::plan_results(&report.summary),
                match polled {
                    0 => String::new(),
                    n => format!("; polling its {n} job(s) not reported on yet"),
                }
            );
            (
                Answer::PlanRecorded {
                    plan: plan.id,
                    polled,
                },
                Some(line),
            )
        }
    })
}

/// Stores one authenticated callback and decides its answer.
fn store_callback(
    batch: &Batch<'_>,
    runners: &Runners,
    settings: &Settings,
    c: Incoming,
    work: &mut Vec<Work>,
) -> Result<Answer, StoreError> {
    let Some(runner) = runners.get(c.runner) else {
        return Ok(Answer::Invalid(format!(
            "runner '{}' is not configured here",
            c.runner
        )));
    };
    let auth = runner.protocol().auth;
    let uid = c.parsed.as_ref().ok().and_then(|cb| cb.uid.clone());
    let mut row = NewInbox {
        runner: c.runner,
        kind: c.kind,
        status: InboxStatus::Unmatched,
        verified_as: Some(c.verified_as),
        reason: None,
        headers: &c.headers,
        token: c.token.as_deref(),
        body: Some(&c.body),
        body_bytes: c.body.len(),
        uid: uid.as_deref(),
        job_id: None,
        digest: None,
    };
    let cb = match &c.parsed {
        Ok(cb) => cb,
        Err(why) => return keep_invalid(batch, auth, &c, &row, why.to_string()),
    };
    match admit(
        batch.read(),
        c.runner,
        runner.as_ref(),
        c.kind,
        cb,
        c.token.as_deref(),
    )? {
        Admission::Unmatched => {
            // One row per runner and uid: a replay adds nothing.
            let uid = uid.as_deref().unwrap_or_default();
            if let Some(inbox) = batch.read().unmatched_row(c.runner, uid)? {
                return Ok(Answer::Duplicate { inbox: Some(inbox) });
            }
            let id = batch.insert_inbox(&row)?;
            Ok(Answer::Unmatched { inbox: id })
        }
        Admission::Matched(job) if auth == CallbackAuth::TokenOnly => {
            // A notice: the job's one notice row is reused, and the runner
            // is asked no more often than NOTICE_PAUSE.
            let now = now_ms();
            let id = match batch.read().notice_row(job.id)? {
                Some((id, not_before)) => {
                    let wait = not_before.filter(|t| *t > now);
                    batch.renew_notice(id, &c.headers, &c.body, wait)?;
                    mark_received(batch, &job, uid.as_deref())?;
                    if wait.is_some() {
                        // The writer's retry timer hands it out then.
                        return Ok(Answer::Accepted {
                            inbox: id,
                            job: Some(job.id),
                        });
                    }
                    id
                }
                None => {
                    row.status = InboxStatus::Pending;
                    row.job_id = Some(job.id);
                    let id = batch.insert_inbox(&row)?;
                    mark_received(batch, &job, uid.as_deref())?;
                    id
                }
            };
            let job_id = job.id;
            let build_known = build_known(batch.read(), &settings.origin, &job)?;
            work.push(Work {
                inbox_id: id,
                job,
                body: c.body,
                verified_as: c.verified_as.to_string(),
                build_known,
            });
            Ok(Answer::Accepted {
                inbox: id,
                job: Some(job_id),
            })
        }
        Admission::Matched(job) => {
            row.status = InboxStatus::Pending;
            row.job_id = Some(job.id);
            let id = batch.insert_inbox(&row)?;
            mark_received(batch, &job, uid.as_deref())?;
            let job_id = job.id;
            let build_known = build_known(batch.read(), &settings.origin, &job)?;
            work.push(Work {
                inbox_id: id,
                job,
                body: c.body,
                verified_as: c.verified_as.to_string(),
                build_known,
            });
            Ok(Answer::Accepted {
                inbox: id,
                job: Some(job_id),
            })
        }
        // Nothing is kept of a replay or of a callback whose token did not
        // hold: keeping them would let anyone holding one signed callback
        // fill the disk.
        Admission::Duplicate(_) => Ok(Answer::Duplicate { inbox: None }),
        Admission::Rejected(why) => Ok(Answer::Rejected(why)),
        Admission::Invalid(why) => keep_invalid(batch, auth, &c, &row, why),
    }
}

/// Keeps an authenticated but unreadable callback (or one sent to the
/// wrong route) for diagnosis, once per digest of its bytes. A token-only
/// callback is kept only while its token's job is not final, bound to that
/// job, at most [`MAX_INVALID_PER_JOB`] times and cut to
/// [`KEPT_INVALID_BYTES`]: whoever read a public job's token cannot fill
/// the disk with it.
fn keep_invalid(
    batch: &Batch<'_>,
    auth: CallbackAuth,
    c: &Incoming,
    row: &NewInbox<'_>,
    why: String,
) -> Result<Answer, StoreError> {
    let mut body = c.body.as_slice();
    let mut job_id = None;
    if auth == CallbackAuth::TokenOnly {
        // Authenticated only once its token is known to belong to a job.
        let job = match c.token.as_deref() {
            Some(t) => batch.read().job_by_token(c.runner, t)?,
            None => None,
        };
        let Some(job) = job else {
            return Ok(Answer::Rejected(format!(
                "{} matches no job",
                crate::runner::CALLBACK_TOKEN_HEADER
            )));
        };
        if job.state.reported() || batch.read().invalid_rows(job.id)? >= MAX_INVALID_PER_JOB {
            return Ok(Answer::Invalid(why));
        }
        job_id = Some(job.id);
        body = &body[..body.len().min(KEPT_INVALID_BYTES)];
    }
    // The same unreadable bytes are kept once, however often sent.
    let digest = digest(&c.body);
    if let Some(inbox) = batch.read().digest_row(&digest)? {
        return Ok(Answer::Duplicate { inbox: Some(inbox) });
    }
    batch.insert_inbox(&NewInbox {
        status: InboxStatus::Invalid,
        reason: Some(&why),
        digest: Some(&digest),
        body: Some(body),
        job_id: job_id.or(row.job_id),
        ..row.clone()
    })?;
    Ok(Answer::Invalid(why))
}

/// What identifies a callback's stored bytes.
fn digest(body: &[u8]) -> String {
    format!("sha256:{}", crate::model::sha256_hex(body))
}

#[cfg(test)]
mod tests {
    //! What a failed step leaves behind, at the writer's own level.

    use std::collections::BTreeMap;
    use std::sync::{mpsc, Arc};

    use super::*;
    use crate::model::{JobKind, JobSpec};
    use crate::runner::testing::{TestLab, CODE};
    use crate::runner::Runner;
    use crate::store::NewJob;

    struct Fixture {
        _dir: tempfile::TempDir,
        db: std::path::PathBuf,
        writer: Writer,
        work: mpsc::Receiver<Option<Work>>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kbridge.db");
        let store = Store::open(&db).unwrap();
        let mut map: BTreeMap<&'static str, Arc<dyn Runner>> = BTreeMap::new();
        map.insert(CODE, Arc::new(TestLab::new("http://127.0.0.1:9")));
        let (work_tx, work) = mpsc::channel();
        let (idle, _) = tokio::sync::watch::channel(false);
        let settings = Settings {
            origin: "kbridge".into(),
            output_dir: dir.path().join("out"),
            backoff: Backoff::new(Duration::from_millis(10), Duration::from_millis(10)),
            retry_for: Duration::from_secs(60),
            workers: 1,
            grace: Duration::ZERO,
            service: true,
            unmatched_ttl: Duration::from_secs(7 * 86400),
            lease: Duration::from_secs(30),
            max_cases: 50_000,
            max_document: 32 << 20,
        };
        let writer = Writer::new(store, Arc::new(map), settings, work_tx, idle, Log::memory());
        Fixture {
            _dir: dir,
            db,
            writer,
            work,
        }
    }

    /// A job and a stored callback for it, written by another connection
    /// as another process would.
    fn job_and_callback(db: &std::path::Path, status: InboxStatus) -> (i64, i64) {
        let mut other = Store::open(db).unwrap();
        let spec = JobSpec::Test(crate::model::sample_test_spec("maestro:1", &["ltp-smoke"]));
        let batch = other.batch().unwrap();
        let job = batch
            .insert_job(&NewJob {
                runner: CODE,
                spec: &spec,
                request: &serde_json::json!({}),
                callback_url: Some("https://ci.example/callback/testlab/test"),
                callback_token: Some("tok"),
                after_job: None,
                plan: None,
            })
            .unwrap();
        batch.set_job_uid(job, "lab.1").unwrap();
        let inbox = batch
            .insert_inbox(&NewInbox {
                runner: CODE,
                kind: JobKind::Test,
                status,
                verified_as: Some("token"),
                reason: None,
                headers: "{}",
                token: Some("tok"),
                body: Some(br#"{"id": 1}"#),
                body_bytes: 9,
                uid: None,
                job_id: (status == InboxStatus::Pending).then_some(job),
                digest: None,
            })
            .unwrap();
        batch.commit().unwrap();
        (job, inbox)
    }

    #[test]
    fn callbacks_left_pending_are_recovered_after_a_failed_tick() {
        let mut f = fixture();
        let (_, inbox) = job_and_callback(&f.db, InboxStatus::Pending);
        f.writer.fail_at = Some("due");
        assert!(f.writer.tick().is_err());
        assert!(f.writer.recover, "a failed tick keeps the recovery pending");
        assert!(f.work.try_recv().ok().flatten().is_none());
        f.writer.tick().unwrap();
        assert_eq!(f.work.try_recv().unwrap().expect("work").inbox_id, inbox);
        assert!(!f.writer.recover);
    }

    #[test]
    fn after_failed_writes_pending_callbacks_are_handed_out_ever_more_slowly() {
        let mut f = fixture();
        let (_, inbox) = job_and_callback(&f.db, InboxStatus::Pending);
        let mut pauses = Vec::new();
        for _ in 0..10 {
            let before = Instant::now();
            f.writer.store_failed();
            let quiet = f.writer.quiet_until.unwrap() - before;
            pauses.push(quiet.as_millis() as u64);
            // While quiet, nothing is handed out again.
            f.writer.on_tick();
            assert!(f.work.try_recv().ok().flatten().is_none());
        }
        // Doubling from the tick to 30 s, with jitter that at most halves.
        let exact = [200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000];
        for (p, e) in pauses.iter().zip(exact) {
            assert!((e / 2 - 5..=e + 5).contains(p), "{pauses:?}");
        }
        // Once the store works again, the callback goes out once.
        f.writer.quiet_until = None;
        f.writer.on_tick();
        assert_eq!(f.work.try_recv().unwrap().expect("work").inbox_id, inbox);
        f.writer.on_tick();
        assert!(f.work.try_recv().is_err(), "not handed out twice");
    }

    #[test]
    fn a_failed_rematch_is_tried_again_on_the_next_tick() {
        let mut f = fixture();
        f.writer.tick().unwrap();
        let (job, inbox) = job_and_callback(&f.db, InboxStatus::Unmatched);
        f.writer.fail_at = Some("rematch");
        let before = f.writer.data_version;
        assert!(f.writer.tick().is_err());
        assert_eq!(
            f.writer.data_version, before,
            "the version is recorded only after a rematch held"
        );
        f.writer.tick().unwrap();
        let w = f
            .work
            .try_recv()
            .ok()
            .flatten()
            .expect("the early callback was matched");
        assert_eq!((w.inbox_id, w.job.id), (inbox, job));
    }

    #[test]
    fn periodic_reads_do_not_wait_for_the_write_lock() {
        let mut f = fixture();
        let (_, inbox) = job_and_callback(&f.db, InboxStatus::Pending);
        f.writer.data_version = Some(f.writer.store.data_version().unwrap());
        f.writer.tick().unwrap();
        assert_eq!(f.work.try_recv().unwrap().expect("work").inbox_id, inbox);
        // With nothing new to claim, a tick only reads: another process's
        // write transaction does not hold it up.
        let locker = rusqlite::Connection::open(&f.db).unwrap();
        locker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let start = Instant::now();
        f.writer.tick().unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        assert!(f.work.try_recv().is_err(), "handed out once");
        locker.execute_batch("ROLLBACK").unwrap();
    }
}
