//! Asking runners about jobs whose report has not come.
//!
//! A callback may never arrive (no public URL, a lost delivery, LAVA's
//! single attempt), so jobs are polled through [`Runner::poll`](crate::runner::Runner::poll). What a
//! poll finds finished goes through the same pipeline as a callback, so a
//! job polled and later called back is processed once.
//!
//! Polling is gentle: each job has its own next poll time, a job is asked
//! at most once per interval (jitter only lengthens the pause), a job
//! queued for long is asked less often, a `Retry-After` is honoured, and a
//! job older than its runner keeps results is reported once and then left
//! alone.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::stop::Stop;
use super::{Intake, PolledReport, Runners};
use crate::clock::now_ms;
use crate::log::Log;
use crate::model::Job;
use crate::retry::jitter_up;
use crate::runner::{FetchError, Polled};
use crate::store::{PollSlot, Store, StoreError};

/// How often jobs are polled.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Between two polls of a job that is running.
    pub interval: Duration,
    /// The longest pause between polls of one job.
    pub max: Duration,
    /// When a listener can receive a job's callback: how long after
    /// submission its first poll waits for it, and the slower pace after.
    pub trust_callbacks: Option<(Duration, Duration)>,
}

/// What one round of polling did.
#[derive(Debug, Default)]
pub struct Round {
    /// Requests sent.
    pub polled: usize,
    /// Jobs found finished and handed to the pipeline.
    pub finished: Vec<i64>,
    /// The earliest next poll among the jobs looked at.
    pub next_due_ms: Option<i64>,
    /// Lines worth saying once.
    pub notes: Vec<String>,
}

/// Polls jobs and hands finished ones to a pipeline.
pub struct Poller {
    pub runners: Runners,
    pub intake: Intake,
    /// Requests sent at once.
    pub concurrency: usize,
}

/// The fewest due jobs of one plan asked about together: below it, each
/// is asked on its own (one request each, against at least one per page
/// of the plan).
const PLAN_POLL_MIN: usize = 4;

/// A job queued this long is asked half as often, and four times less
/// after [`QUEUED_LONGER`].
const QUEUED_LONG: Duration = Duration::from_secs(600);
const QUEUED_LONGER: Duration = Duration::from_secs(3600);

impl Poller {
    /// Polls the jobs that are due, among `only` if given.
    pub fn round(
        &self,
        store: &mut Store,
        only: Option<&HashSet<i64>>,
        pace: &Pace,
        distrusted: &HashSet<String>,
    ) -> Result<Round, StoreError> {
        let now = now_ms();
        let mut round = Round {
            next_due_ms: store.read().next_poll_after(now)?,
            ..Round::default()
        };
        // Only the schedule of jobs due now (or never polled) is read, and
        // only the due ones are loaded: a round among many jobs polled at
        // staggered times stays cheap.
        let mut due_ids = Vec::new();
        for slot in store.read().poll_slots(now)? {
            if only.is_some_and(|o| !o.contains(&slot.job_id))
                || !self.runners.contains_key(slot.runner.as_str())
            {
                continue;
            }
            let at = match slot.next_poll_ms {
                Some(at) => at,
                None if distrusted.contains(&slot.runner) => 0,
                None => first_poll(&slot, pace),
            };
            if at > now {
                round.next_due_ms = Some(round.next_due_ms.map_or(at, |n: i64| n.min(at)));
                continue;
            }
            due_ids.push(slot.job_id);
        }
        if due_ids.is_empty() {
            return Ok(round);
        }
        let mut due = store.read().jobs_by_ids(&due_ids)?;
        // A plan read through its pages is read for all its unfinished
        // jobs at once, those not due yet included: its pages cost the
        // same, and its jobs then share one schedule (one read of the
        // plan per interval, whatever the jitter drew for each job).
        let mut plans: HashSet<(String, String)> = HashSet::new();
        for job in &due {
            let pages = self
                .runners
                .get(job.runner.as_str())
                .is_some_and(|r| r.plans().is_some());
            if let (true, Some(plan)) = (pages, &job.plan) {
                plans.insert((job.runner.clone(), plan.clone()));
            }
        }
        let mut seen: HashSet<i64> = due.iter().map(|j| j.id).collect();
        for (runner, plan) in &plans {
            for job in store.read().pollable_plan_jobs(runner, plan)? {
                if only.is_none_or(|o| o.contains(&job.id)) && seen.insert(job.id) {
                    due.push(job);
                }
            }
        }
        let results = self.poll_all(due);
        round.polled = results.len();
        // One pause per plan polled together, its jitter drawn once: the
        // shortest its jobs ask for.
        let mut plan_next: HashMap<(String, String), i64> = HashMap::new();
        for (job, result) in &results {
            let Some(key) = together(job, &plans) else {
                continue;
            };
            let job_pace = pace_for(pace, job, distrusted);
            let base = |queued| base_pause(&job_pace, job, age(job, now), queued);
            let base = match result {
                Ok(Polled::Running { queued, .. }) => base(*queued),
                Err(FetchError::Throttled { after, .. }) => (*after).max(base(false)),
                Err(FetchError::Transient(_) | FetchError::NotFinished(_)) => base(false),
                Ok(Polled::Finished(_)) | Err(FetchError::Permanent(_)) => continue,
            };
            let at = now + base.as_millis() as i64;
            plan_next
                .entry(key)
                .and_modify(|n| *n = (*n).min(at))
                .or_insert(at);
        }
        for at in plan_next.values_mut() {
            *at = now
                + jitter_up(Duration::from_millis((*at - now).max(0) as u64), 0.2).as_millis()
                    as i64;
        }
        let mut updates = Vec::new();
        for (job, result) in results {
            let age = age(&job, now);
            let pace = &pace_for(pace, &job, distrusted);
            let shared = together(&job, &plans).and_then(|k| plan_next.get(&k).copied());
            let lifetime = self
                .runners
                .get(job.runner.as_str())
                .and_then(|r| r.protocol().results_lifetime);
            let mut update = Update {
                id: job.id,
                status: None,
                note: None,
                next: None,
            };
            let pause = match result {
                Ok(Polled::Finished(callback)) => {
                    let answer = self.intake.polled(PolledReport {
                        job_id: job.id,
                        callback,
                    });
                    let _ = answer.blocking_recv();
                    round.finished.push(job.id);
                    continue;
                }
                Ok(Polled::Running { queued, status, .. }) => {
                    update.status = Some(status);
                    pause_for(pace, &job, age, queued)
                }
                Err(FetchError::Throttled { after, .. }) => {
                    after.max(pause_for(pace, &job, age, false))
                }
                Err(FetchError::Transient(_) | FetchError::NotFinished(_)) => {
                    pause_for(pace, &job, age, false)
                }
                Err(FetchError::Permanent(why)) => {
                    if job.poll_note.as_deref() != Some(why.as_str()) {
                        round.notes.push(format!(
                            "job {} ({}): {why}",
                            job.id,
                            job.uid.as_deref().unwrap_or("-")
                        ));
                        update.note = Some(why);
                    }
                    pace.max
                }
            };
            let mut next = match shared {
                Some(at) if pause < pace.max => at,
                _ => now + pause.as_millis() as i64,
            };
            // A job older than its runner keeps results will have none.
            if let Some(lifetime) = lifetime.filter(|l| age > *l) {
                if job.poll_note.is_none() {
                    let note = format!(
                        "submitted {} days ago and still without results; its runner keeps results about {} days, so they are gone: it is no longer polled",
                        age.as_secs() / 86400,
                        lifetime.as_secs() / 86400
                    );
                    round.notes.push(format!(
                        "job {} ({}): {note}",
                        job.id,
                        job.uid.as_deref().unwrap_or("-")
                    ));
                    update.note = Some(note);
                }
                next = i64::MAX / 2;
            }
            round.next_due_ms = Some(round.next_due_ms.map_or(next, |n| n.min(next)));
            update.next = Some(next);
            updates.push(update);
        }
        if !updates.is_empty() {
            let batch = store.batch()?;
            for u in &updates {
                if let Some(status) = &u.status {
                    batch.set_job_status(u.id, status)?;
                }
                if let Some(note) = &u.note {
                    batch.set_poll_note(u.id, note)?;
                }
                if let Some(next) = u.next {
                    batch.schedule_poll(u.id, next)?;
                }
            }
            batch.commit()?;
        }
        Ok(round)
    }

    /// Polls jobs, `concurrency` at a time, on as many threads for the
    /// whole round.
    fn poll_all(&self, due: Vec<Job>) -> Vec<(Job, Result<Polled, FetchError>)> {
        // Several due jobs of one plan are asked about together, when
        // their runner can: a plan's pages cost fewer requests than its
        // jobs one by one.
        let mut plans: HashMap<(&str, &str), Vec<&Job>> = HashMap::new();
        for job in &due {
            if let Some(plan) = job.plan.as_deref() {
                plans.entry((&job.runner, plan)).or_default().push(job);
            }
        }
        let mut work: Vec<Vec<&Job>> = Vec::new();
        for job in &due {
            match job
                .plan
                .as_deref()
                .and_then(|p| plans.get(&(job.runner.as_str(), p)))
            {
                Some(group) if group.len() >= PLAN_POLL_MIN => {
                    if group[0].id == job.id {
                        work.push(group.clone());
                    }
                }
                _ => work.push(vec![job]),
            }
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let threads = self.concurrency.clamp(1, work.len().max(1));
        let mut by_id: HashMap<i64, Result<Polled, FetchError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        while let Some(jobs) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
                            let Some(r) = self.runners.get(jobs[0].runner.as_str()) else {
                                for job in jobs {
                                    let why = FetchError::Permanent("runner not configured".into());
                                    mine.push((job.id, Err(why)));
                                }
                                continue;
                            };
                            let together = match (jobs.len(), jobs[0].plan.as_deref()) {
                                (2.., Some(plan)) => r
                                    .plans()
                                    .and_then(|p| p.poll_plan(plan, jobs))
                                    .filter(|answers| answers.len() == jobs.len()),
                                _ => None,
                            };
                            match together {
                                Some(answers) => {
                                    mine.extend(jobs.iter().map(|j| j.id).zip(answers));
                                }
                                None => mine.extend(jobs.iter().map(|j| (j.id, r.poll(j)))),
                            }
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        due.into_iter()
            .map(|job| {
                // A poll that panicked is asked again next time.
                let result = by_id
                    .remove(&job.id)
                    .unwrap_or_else(|| Err(FetchError::Transient("the poll failed".into())));
                (job, result)
            })
            .collect()
    }
}

/// What a poll changes of a job.
struct Update {
    id: i64,
    status: Option<serde_json::Value>,
    note: Option<String>,
    next: Option<i64>,
}

/// How long ago a job was submitted.
fn age(job: &Job, now: i64) -> Duration {
    let scheduled = scheduled_ms(&job.scheduled_at).unwrap_or(now);
    Duration::from_millis((now - scheduled).max(0) as u64)
}

fn scheduled_ms(at: &str) -> Option<i64> {
    crate::clock::ms_of(at)
}

/// When a job is first polled: at once, unless a listener can receive its
/// callback, which is then given time to arrive.
fn first_poll(slot: &PollSlot, pace: &Pace) -> i64 {
    let scheduled = scheduled_ms(&slot.scheduled_at).unwrap_or(0);
    match pace.trust_callbacks {
        Some((after, _)) if slot.has_callback => scheduled + after.as_millis() as i64,
        _ => scheduled,
    }
}

/// The pause before the next poll of a job that has not finished.
fn pause_for(pace: &Pace, job: &Job, age: Duration, queued: bool) -> Duration {
    jitter_up(base_pause(pace, job, age, queued), 0.2)
}

/// [`pause_for`] before its jitter.
fn base_pause(pace: &Pace, job: &Job, age: Duration, queued: bool) -> Duration {
    let mut base = match (pace.trust_callbacks, &job.callback_url) {
        // Its callback is overdue: ask, but at the slower pace.
        (Some((_, overdue)), Some(_)) => overdue.max(pace.interval),
        _ => pace.interval,
    };
    if queued && age > QUEUED_LONGER {
        base *= 4;
    } else if queued && age > QUEUED_LONG {
        base *= 2;
    }
    base.min(pace.max).max(pace.interval.min(pace.max))
}

/// The pace for one job: a runner whose callbacks a listener refuses gets
/// no time for callbacks that will not come.
fn pace_for(pace: &Pace, job: &Job, distrusted: &HashSet<String>) -> Pace {
    let mut pace = *pace;
    if distrusted.contains(&job.runner) {
        pace.trust_callbacks = None;
    }
    pace
}

/// The plan a job was polled with, through the plan's pages.
fn together(job: &Job, plans: &HashSet<(String, String)>) -> Option<(String, String)> {
    let key = (job.runner.clone(), job.plan.clone()?);
    plans.contains(&key).then_some(key)
}

/// Callbacks refused since the last heartbeat, counted by runner and
/// reason in memory (a flood of refusals costs no write each), and written
/// to the store with the listener's heartbeat.
#[derive(Clone, Default)]
pub struct RefusalTally(Arc<std::sync::Mutex<Counts>>);

/// Count and last time (ms), by runner and reason.
type Counts = HashMap<(String, String), (i64, i64)>;

/// The most distinct reasons counted between two heartbeats: reasons are
/// fixed texts, so more means something odd, and it is not worth memory.
const MAX_REASONS: usize = 64;

impl RefusalTally {
    /// Counts one refused callback of `runner` for `reason` (a fixed text
    /// that holds nothing of the request).
    pub fn record(&self, runner: &str, reason: &str) {
        let Ok(mut all) = self.0.lock() else { return };
        let key = (runner.to_string(), reason.chars().take(300).collect());
        if all.len() >= MAX_REASONS && !all.contains_key(&key) {
            return;
        }
        let entry = all.entry(key).or_insert((0, 0));
        entry.0 += 1;
        entry.1 = now_ms();
    }

    /// What was counted, emptied.
    fn take(&self) -> Vec<crate::store::Refused> {
        let Ok(mut all) = self.0.lock() else {
            return vec![];
        };
        all.drain()
            .map(
                |((runner, reason), (count, last_ms))| crate::store::Refused {
                    runner,
                    reason,
                    count,
                    last_ms,
                },
            )
            .collect()
    }
}

/// How recent a refusal makes a runner's callbacks untrusted: its jobs are
/// polled as if their callbacks were overdue.
pub const DISTRUST_FOR: Duration = Duration::from_secs(900);

/// What the polling stage tells the command that started it.
#[derive(Debug, Clone)]
pub enum Seen {
    /// A line worth saying once.
    Note(String),
    /// A poll found this job finished and handed it to the pipeline.
    Finished(i64),
}

/// Which jobs the polling stage polls, and at what pace.
pub struct Plan {
    pub pace: Pace,
    /// Only these jobs (`kbridge wait`), or every pollable one.
    pub only: Option<HashSet<i64>>,
    /// Set for a listener: the address it says it is alive under, every
    /// few seconds, so `kbridge wait` knows callbacks can come.
    pub listener: Option<String>,
    /// For a command that is not a listener: the pace to use instead of
    /// `pace.trust_callbacks` while some listener is alive.
    pub trust_while_listening: Option<(Duration, Duration)>,
    /// For a listener: the callbacks it refused, written with each
    /// heartbeat.
    pub refusals: Option<RefusalTally>,
}

/// What the polling stage of a pipeline does: which jobs, at what pace,
/// and who hears of what it finds.
pub struct Polling {
    /// Requests sent at once.
    pub concurrency: usize,
    pub plan: Plan,
    pub seen: Box<dyn Fn(Seen) + Send>,
}

/// How often a listener says it is alive.
const BEAT: Duration = Duration::from_secs(2);
/// A listener that said it was alive this recently can receive callbacks.
pub const LISTENER_FRESH: Duration = Duration::from_secs(15);
/// How long stopping waits for a poll in flight. Polls only read, so one
/// abandoned when the process exits loses nothing: the job is asked again
/// next time.
pub const GRACE: Duration = Duration::from_secs(2);

/// The polling stage: polls on its own connection until `stop`, so a
/// runner slow to answer never holds up what started it. A listener also
/// says every few seconds that it is alive, with the callbacks it refused.
pub(super) fn run(mut store: Store, poller: Poller, polling: Polling, stop: Stop, log: Log) {
    let Polling { plan, seen, .. } = polling;
    // Host and process, so `kbridge doctor` can say which listeners share
    // a database.
    let id = super::claims::owner();
    // Jobs a round did not see (scheduled since) are looked for this often.
    let rescan = plan
        .pace
        .interval
        .clamp(Duration::from_secs(1), Duration::from_secs(10));
    // Jobs falling due within this of each other share a round: a poll is
    // never early, at worst this late.
    let gather = (plan.pace.interval / 10).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let mut next_round = Instant::now();
    let mut next_beat = Instant::now();
    let mut role = super::claims::Role::new("poll", "polls the runners");
    while !stop.is_stopped() {
        if let Some(bind) = plan
            .listener
            .as_deref()
            .filter(|_| Instant::now() >= next_beat)
        {
            let refused = plan
                .refusals
                .as_ref()
                .map(RefusalTally::take)
                .unwrap_or_default();
            poller.intake.alive(&id, bind, refused);
            next_beat = Instant::now() + BEAT;
        }
        // Among several listeners on one database, one polls for all:
        // the runners are never asked twice about a job in one interval.
        // The others look again each rescan, and one of them takes over
        // when the poller's connection ends.
        if Instant::now() >= next_round
            && plan.only.is_none()
            && !role.take(&store, &log).unwrap_or_else(|e| {
                log.error(&format!("polling: {e}"));
                false
            })
        {
            next_round = Instant::now() + rescan;
        } else if Instant::now() >= next_round {
            let mut pace = plan.pace;
            if let Some(trust) = plan.trust_while_listening {
                let since = now_ms() - LISTENER_FRESH.as_millis() as i64;
                if store.read().live_listeners(since).unwrap_or(0) > 0 {
                    pace.trust_callbacks = Some(trust);
                }
            }
            // A runner whose callbacks a listener refuses (a wrong key)
            // will not report back: its jobs are polled as if their
            // callbacks were overdue.
            let since = now_ms() - DISTRUST_FOR.as_millis() as i64;
            let distrusted: HashSet<String> = store
                .read()
                .refusals(since)
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.runner)
                .collect();
            next_round = Instant::now() + rescan;
            match poller.round(&mut store, plan.only.as_ref(), &pace, &distrusted) {
                Ok(round) => {
                    round.notes.into_iter().for_each(|n| seen(Seen::Note(n)));
                    round
                        .finished
                        .into_iter()
                        .for_each(|j| seen(Seen::Finished(j)));
                    if let Some(due) = round.next_due_ms {
                        let wait = Duration::from_millis((due - now_ms()).max(0) as u64);
                        next_round = next_round.min(Instant::now() + wait.max(gather));
                    }
                }
                Err(e) => log.error(&format!("polling: {e}")),
            }
        }
        let mut until = next_round;
        if plan.listener.is_some() {
            until = until.min(next_beat);
        }
        stop.wait(until.saturating_duration_since(Instant::now()));
    }
    if plan.listener.is_some() {
        let _ = store.batch().and_then(|b| {
            b.forget_listener(&id)?;
            b.commit()
        });
    }
}
