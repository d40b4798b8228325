//! The inbox writer: the one thread that writes to the store while
//! `kbridge listen` runs.
//!
//! Requests hand their verified callbacks to this thread and wait for its
//! answer; it takes every message waiting, writes them all in one
//! transaction (group commit: one fsync for many callbacks) and only then
//! answers each request, so a 202 always means "on disk". It also matches
//! callbacks to jobs, hands matched ones to the processing workers, records
//! what they finish, retries failed fetches with backoff, and re-matches
//! callbacks that arrived before their job's record did.

use std::collections::HashSet;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use crate::model::{InboxEntry, InboxStatus, Job, JobKind, JobState};
use crate::store::{Batch, NewInbox, Store, StoreError};

/// The most messages written in one transaction.
const MAX_BATCH: usize = 1024;
/// How often the writer looks for due retries and late jobs when idle.
const TICK: Duration = Duration::from_millis(200);
/// The longest pause between two fetch attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A verified callback on its way to the inbox.
#[derive(Debug)]
pub struct Incoming {
    pub runner: &'static str,
    pub kind: JobKind,
    /// The kept headers, as a JSON object.
    pub headers: String,
    pub token: Option<String>,
    pub body: Vec<u8>,
    pub verified_as: &'static str,
    /// The runner's uid, or why the callback could not be read.
    pub uid: Result<String, String>,
}

/// A callback whose signature did not hold. Its body is not kept.
#[derive(Debug)]
pub struct Rejected {
    pub runner: &'static str,
    pub kind: JobKind,
    pub headers: String,
    pub body_bytes: usize,
    pub reason: String,
}

/// What the writer answers a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Stored (and matched to a job, if `job` is set).
    Accepted { inbox: i64, job: Option<i64> },
    /// For a job that already had its callback; stored, changes nothing.
    Duplicate { inbox: i64 },
    /// The token did not hold.
    Rejected(String),
    /// Verified but unreadable.
    Invalid(String),
    /// The store failed; nothing was kept.
    Unavailable(String),
}

/// Work for a processing worker: a matched callback.
#[derive(Debug, Clone)]
pub struct Work {
    pub inbox_id: i64,
    pub job: Job,
    pub body: Vec<u8>,
    pub verified_as: String,
    /// Whether the job's build id, if it is one of ours, names a build
    /// kbridge knows.
    pub build_known: bool,
}

/// What a worker made of a callback.
#[derive(Debug, Clone)]
pub enum Finish {
    /// A KCIDB document was written. `detail` says what was incomplete.
    Completed {
        document: String,
        path: String,
        state: JobState,
        detail: Option<String>,
    },
    /// Fetching failed in a way worth retrying.
    Retry { error: String },
    /// The results cannot be turned into a document.
    Errored { reason: String },
}

/// Messages to the writer.
pub enum Msg {
    Callback(Box<Incoming>, tokio::sync::oneshot::Sender<Answer>),
    Rejected(Rejected),
    Finished {
        inbox_id: i64,
        job_id: i64,
        finish: Finish,
    },
    Stop,
}

/// How the writer is set up.
pub struct WriterConfig {
    pub origin: String,
    pub retry_delay: Duration,
    pub retry_for: Duration,
    /// Told once no job is waiting for a callback any more.
    pub when_done: Option<tokio::sync::watch::Sender<bool>>,
}

/// Where a callback belongs.
#[derive(Debug)]
pub enum Admission {
    Matched(Job),
    Unmatched,
    Duplicate(Job),
    Rejected(String),
    Invalid(String),
}

/// Matches a callback to its job: by the runner's uid, else by the per-job
/// token (the callback can race the schedule command's final write). The
/// token must match the job's in constant time.
pub fn admit(
    batch: &Batch<'_>,
    runner: &str,
    kind: JobKind,
    uid: &str,
    token: Option<&str>,
) -> Result<Admission, StoreError> {
    let job = match batch.job_by_uid(runner, uid)? {
        Some(job) => Some(job),
        None => match token {
            Some(t) => batch.job_by_token(runner, t)?,
            None => None,
        },
    };
    let Some(job) = job else {
        return Ok(Admission::Unmatched);
    };
    if let Some(expected) = &job.callback_token {
        match token {
            Some(t) if bool::from(t.as_bytes().ct_eq(expected.as_bytes())) => {}
            Some(_) => {
                return Ok(Admission::Rejected(
                    "X-Kbridge-Token does not match the job's token".into(),
                ))
            }
            None => {
                return Ok(Admission::Rejected(
                    "X-Kbridge-Token header is missing; this job was scheduled with one".into(),
                ))
            }
        }
    }
    if job.uid.as_deref().is_some_and(|u| u != uid) {
        return Ok(Admission::Rejected(
            "the callback's uid is not the uid of the job its token belongs to".into(),
        ));
    }
    if job.kind != kind {
        return Ok(Admission::Invalid(format!(
            "callback for {} job {} sent to the {kind} route",
            job.kind, job.id
        )));
    }
    if job.state.is_final() {
        return Ok(Admission::Duplicate(job));
    }
    Ok(Admission::Matched(job))
}

/// Whether a test job's build is resolvable: not one of ours, or one of
/// ours that kbridge scheduled.
pub fn build_known(batch: &Batch<'_>, origin: &str, job: &Job) -> Result<bool, StoreError> {
    match job
        .build_id
        .as_deref()
        .and_then(|b| b.strip_prefix(origin)?.strip_prefix(':'))
    {
        Some(uid) if job.kind != JobKind::Build => batch.build_known(uid),
        _ => Ok(true),
    }
}

/// Marks a stored callback pending and its job received.
pub fn accept(batch: &Batch<'_>, inbox_id: i64, job: &Job, uid: &str) -> Result<(), StoreError> {
    batch.set_inbox(inbox_id, InboxStatus::Pending, Some(job.id), None)?;
    mark_received(batch, job, uid)
}

/// Marks a job as having had its callback, recording the runner's uid if
/// the callback came before the schedule command's final write.
fn mark_received(batch: &Batch<'_>, job: &Job, uid: &str) -> Result<(), StoreError> {
    batch.set_job_state(job.id, JobState::Received, None)?;
    if job.uid.is_none() {
        batch.set_job_uid(job.id, uid)?;
    }
    Ok(())
}

/// The work for a stored callback, taking its bytes.
pub fn work_from_entry(
    batch: &Batch<'_>,
    origin: &str,
    entry: InboxEntry,
    job: Job,
) -> Result<Work, StoreError> {
    Ok(Work {
        inbox_id: entry.id,
        build_known: build_known(batch, origin, &job)?,
        job,
        body: entry.body.unwrap_or_default(),
        verified_as: entry.verified_as.unwrap_or_default(),
    })
}

/// Records what a worker finished. Returns a line for the log.
pub fn record_finish(
    batch: &Batch<'_>,
    inbox_id: i64,
    job_id: i64,
    finish: &Finish,
    cfg: &WriterConfig,
) -> Result<String, StoreError> {
    let now_ms = now_ms();
    match finish {
        Finish::Completed {
            document,
            path,
            state,
            detail,
        } => {
            batch.save_document(job_id, document, Some(path))?;
            batch.set_job_state(job_id, *state, detail.as_deref())?;
            batch.set_inbox(inbox_id, InboxStatus::Processed, None, detail.as_deref())?;
            Ok(match detail {
                Some(d) => format!("job {job_id}: {state} ({d}); wrote {path}"),
                None => format!("job {job_id}: {state}; wrote {path}"),
            })
        }
        Finish::Errored { reason } => {
            batch.set_job_state(job_id, JobState::Errored, Some(reason))?;
            batch.set_inbox(inbox_id, InboxStatus::Failed, None, Some(reason))?;
            Ok(format!("job {job_id}: errored: {reason}"))
        }
        Finish::Retry { error } => {
            let (first_fetch_ms, attempts) = batch.inbox_fetch_state(inbox_id)?;
            let first = first_fetch_ms.unwrap_or(now_ms);
            let elapsed = Duration::from_millis((now_ms - first).max(0) as u64);
            if elapsed >= cfg.retry_for {
                let reason = format!(
                    "gave up fetching results after {}s: {error}; `kbridge inbox replay {inbox_id}` tries again",
                    elapsed.as_secs()
                );
                batch.set_inbox(inbox_id, InboxStatus::Failed, None, Some(&reason))?;
                batch.set_job_state(job_id, JobState::Received, Some(&reason))?;
                return Ok(format!("job {job_id}: {reason}"));
            }
            let pause = backoff(cfg.retry_delay, attempts);
            let detail = format!(
                "fetching results failed (attempt {}): {error}; retrying in {:.1}s",
                attempts + 1,
                pause.as_secs_f64()
            );
            batch.retry_later(inbox_id, first, now_ms + pause.as_millis() as i64, &detail)?;
            batch.set_job_state(job_id, JobState::Received, Some(&detail))?;
            Ok(format!("job {job_id}: {detail}"))
        }
    }
}

fn backoff(first: Duration, attempts: i64) -> Duration {
    let factor = 2u32.saturating_pow(attempts.clamp(0, 16) as u32);
    first.saturating_mul(factor).min(MAX_BACKOFF)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The writer thread's state.
pub struct Writer {
    store: Store,
    cfg: WriterConfig,
    work: Sender<Work>,
    in_flight: HashSet<i64>,
    /// Whether pending callbacks may exist that no worker has in hand and
    /// no retry is scheduled for: at start, and after a failed write.
    recover: bool,
    data_version: Option<i64>,
    log: fn(&str),
}

impl Writer {
    pub fn new(store: Store, cfg: WriterConfig, work: Sender<Work>, log: fn(&str)) -> Writer {
        Writer {
            store,
            cfg,
            work,
            in_flight: HashSet::new(),
            recover: true,
            data_version: None,
            log,
        }
    }

    /// Runs until [`Msg::Stop`] or until every sender is gone.
    pub fn run(mut self, rx: Receiver<Msg>) {
        // Callbacks stored but not finished before a stop or a crash.
        self.on_tick();
        let mut last_tick = Instant::now();
        loop {
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
            if !batch.is_empty() {
                self.write(batch);
            }
            if stop {
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
        let result = (|| -> Result<(), StoreError> {
            let batch = self.store.batch()?;
            for msg in msgs {
                match msg {
                    Msg::Callback(incoming, reply) => {
                        let answer = store_callback(&batch, &self.cfg, *incoming, &mut work)?;
                        replies.push((reply, answer));
                    }
                    Msg::Rejected(r) => {
                        batch.insert_inbox(&NewInbox {
                            runner: r.runner,
                            kind: r.kind,
                            status: InboxStatus::Rejected,
                            verified_as: None,
                            reason: Some(&r.reason),
                            headers: &r.headers,
                            token: None,
                            body: None,
                            body_bytes: r.body_bytes,
                            uid: None,
                            job_id: None,
                        })?;
                    }
                    Msg::Finished {
                        inbox_id,
                        job_id,
                        finish,
                    } => {
                        let line = record_finish(&batch, inbox_id, job_id, &finish, &self.cfg)?;
                        self.in_flight.remove(&inbox_id);
                        lines.push(line);
                    }
                    Msg::Stop => {}
                }
            }
            batch.commit()
        })();
        match result {
            Ok(()) => {
                for (reply, answer) in replies {
                    let _ = reply.send(answer);
                }
                for w in work {
                    self.dispatch(w);
                }
                for line in lines {
                    (self.log)(&line);
                }
            }
            Err(e) => {
                // Nothing of this group was kept: every request hears so
                // (503, so a sender that retries will), and finished work
                // is redone from the stored callback.
                (self.log)(&format!("error: could not store callbacks: {e}"));
                for (reply, _) in replies {
                    let _ = reply.send(Answer::Unavailable(e.to_string()));
                }
                self.in_flight.clear();
                self.recover = true;
            }
        }
    }

    fn dispatch(&mut self, w: Work) {
        if self.in_flight.insert(w.inbox_id) {
            let _ = self.work.send(w);
        }
    }

    /// Periodic duties: re-match early callbacks when other processes
    /// changed the store, start due retries, and say when nothing is left
    /// to wait for.
    fn on_tick(&mut self) {
        if let Err(e) = self.tick() {
            (self.log)(&format!("error: {e}"));
        }
    }

    fn tick(&mut self) -> Result<(), StoreError> {
        let version = self.store.data_version()?;
        if self.data_version != Some(version) {
            self.data_version = Some(version);
            self.rematch()?;
        }
        let due: Vec<InboxEntry> = self
            .store
            .due_pending(now_ms(), self.recover)?
            .into_iter()
            .filter(|e| !self.in_flight.contains(&e.id))
            .collect();
        self.recover = false;
        let mut work = Vec::new();
        if !due.is_empty() {
            let batch = self.store.batch()?;
            for e in due {
                let Some(job_id) = e.job_id else { continue };
                let Some(job) = batch.job_by_id(job_id)? else {
                    continue;
                };
                work.push(work_from_entry(&batch, &self.cfg.origin, e, job)?);
            }
            batch.commit()?;
        }
        for w in work {
            self.dispatch(w);
        }
        if self.in_flight.is_empty() && self.store.waiting()? == 0 {
            if let Some(done) = &self.cfg.when_done {
                let _ = done.send(true);
            }
        }
        Ok(())
    }

    fn rematch(&mut self) -> Result<(), StoreError> {
        let unmatched = self.store.matchable_unmatched()?;
        if unmatched.is_empty() {
            return Ok(());
        }
        let mut work = Vec::new();
        let mut lines = Vec::new();
        let batch = self.store.batch()?;
        for e in unmatched {
            let Some(uid) = e.uid.clone() else {
                continue;
            };
            match admit(&batch, &e.runner, e.kind, &uid, e.token.as_deref())? {
                Admission::Unmatched => {}
                Admission::Matched(job) => {
                    accept(&batch, e.id, &job, &uid)?;
                    lines.push(format!("callback {} matched job {} ({uid})", e.id, job.id));
                    work.push(work_from_entry(&batch, &self.cfg.origin, e, job)?);
                }
                Admission::Duplicate(job) => {
                    batch.set_inbox(e.id, InboxStatus::Duplicate, Some(job.id), None)?
                }
                Admission::Rejected(why) => {
                    lines.push(format!("callback {} rejected: {why}", e.id));
                    batch.set_inbox(e.id, InboxStatus::Rejected, None, Some(&why))?
                }
                Admission::Invalid(why) => {
                    batch.set_inbox(e.id, InboxStatus::Invalid, None, Some(&why))?
                }
            }
        }
        batch.commit()?;
        for line in lines {
            (self.log)(&line);
        }
        for w in work {
            self.dispatch(w);
        }
        Ok(())
    }
}

/// Stores one verified callback and decides its answer.
fn store_callback(
    batch: &Batch<'_>,
    cfg: &WriterConfig,
    c: Incoming,
    work: &mut Vec<Work>,
) -> Result<Answer, StoreError> {
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
        uid: c.uid.as_deref().ok(),
        job_id: None,
    };
    let uid = match &c.uid {
        Ok(uid) => uid,
        Err(why) => {
            row.status = InboxStatus::Invalid;
            row.reason = Some(why);
            batch.insert_inbox(&row)?;
            return Ok(Answer::Invalid(why.clone()));
        }
    };
    match admit(batch, c.runner, c.kind, uid, c.token.as_deref())? {
        Admission::Unmatched => {
            let id = batch.insert_inbox(&row)?;
            Ok(Answer::Accepted {
                inbox: id,
                job: None,
            })
        }
        Admission::Matched(job) => {
            row.status = InboxStatus::Pending;
            row.job_id = Some(job.id);
            let id = batch.insert_inbox(&row)?;
            mark_received(batch, &job, uid)?;
            let job_id = job.id;
            work.push(Work {
                inbox_id: id,
                build_known: build_known(batch, &cfg.origin, &job)?,
                job,
                body: c.body,
                verified_as: c.verified_as.to_string(),
            });
            Ok(Answer::Accepted {
                inbox: id,
                job: Some(job_id),
            })
        }
        Admission::Duplicate(job) => {
            row.status = InboxStatus::Duplicate;
            row.job_id = Some(job.id);
            let id = batch.insert_inbox(&row)?;
            Ok(Answer::Duplicate { inbox: id })
        }
        Admission::Rejected(why) => {
            row.status = InboxStatus::Rejected;
            row.reason = Some(&why);
            batch.insert_inbox(&row)?;
            Ok(Answer::Rejected(why))
        }
        Admission::Invalid(why) => {
            row.status = InboxStatus::Invalid;
            row.reason = Some(&why);
            batch.insert_inbox(&row)?;
            Ok(Answer::Invalid(why))
        }
    }
}
