//! Delivering the outbox to KCIDB: every document once, in order, with
//! retries, and a record of each request.
//!
//! One *pass* claims pending documents in batches (merged up to the size
//! limit, a test after the build it refers to), sends each batch, and
//! records what KCIDB answered:
//!
//! | answer | what happens |
//! |---|---|
//! | 200 with an id | the documents are `submitted`, with the submission |
//! | 400 (and other refusals) | a batch is halved until the refused document is alone; it is `failed` with KCIDB's message |
//! | 401/403 | the token was refused: nothing changes and the pass stops, naming where the token came from |
//! | 404/405 | the URL is not KCIDB's: the pass stops, naming where the URL came from |
//! | 413 | a batch is halved; a document alone is split (builds with their checkouts first, then tests in halves) |
//! | 408, 429, 5xx, no answer | retried with backoff and `Retry-After`, until `kcidb.retry_for` |
//!
//! A crash after KCIDB accepted a batch but before the answer was recorded
//! sends that batch again once its claim expires: KCIDB merges by id and
//! the bytes are the same, so that costs a request, not a duplicate.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;

use crate::clock::now_ms;
use crate::kcidb::batch;
use crate::kcidb::check;
use crate::kcidb::client::{Client, SendError};
use crate::model::JobState;
use crate::retry::{Backoff, Deadline, Next};
use crate::store::{Pending, Store, StoreError};

/// How many candidates are read at a time.
const PAGE: usize = 256;

/// How delivery is set up.
pub struct Delivery {
    pub client: Client,
    /// The largest request, in bytes.
    pub max_request: usize,
    pub backoff: Backoff,
    /// How long a document is retried before it is marked failed.
    pub retry_for: Duration,
    /// How long a claim holds; longer than one request can take.
    pub claim_for: Duration,
    /// Who claims: unique per process.
    pub owner: String,
}

/// Which pending documents a pass takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Those whose retry is due (the listener, which keeps trying).
    Due,
    /// All of them, now (`kbridge submit`).
    Now,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pass {
    pub submitted: usize,
    pub failed: usize,
    /// Tried and left pending for a later attempt.
    pub retrying: usize,
    /// Held back until the build they refer to is delivered.
    pub waiting: usize,
    /// HTTP requests sent.
    pub requests: usize,
    /// Why the pass stopped early (the token or URL was refused).
    pub stopped: Option<String>,
    /// Lines worth a log entry.
    #[serde(skip)]
    pub lines: Vec<String>,
}

/// A claimed document, parsed once.
struct Claimed {
    row: Pending,
    value: Value,
}

impl Delivery {
    /// One pass over the outbox.
    pub fn pass(&self, store: &mut Store, schedule: Schedule) -> Result<Pass, StoreError> {
        let mut pass = Pass::default();
        let mut tried: HashSet<i64> = HashSet::new();
        loop {
            let group = self.claim_next(store, schedule, &tried, &mut pass)?;
            if group.is_empty() {
                break;
            }
            tried.extend(group.iter().map(|c| c.row.id));
            let refs: Vec<&Claimed> = group.iter().collect();
            if let Err(stop) = self.send(store, &refs, &mut pass)? {
                // Give back whatever this group still holds.
                let batch = store.batch()?;
                for c in &group {
                    batch.release(c.row.id, None)?;
                }
                batch.commit()?;
                pass.stopped = Some(stop);
                break;
            }
        }
        Ok(pass)
    }

    /// Picks the next batch and claims it. Rows another process claimed
    /// in the meantime are left to it, and the pick is made again.
    fn claim_next(
        &self,
        store: &mut Store,
        schedule: Schedule,
        tried: &HashSet<i64>,
        pass: &mut Pass,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut lost: HashSet<i64> = HashSet::new();
        loop {
            let (claimed, raced) = self.claim_once(store, schedule, tried, &lost, pass)?;
            if !claimed.is_empty() || raced.is_empty() {
                return Ok(claimed);
            }
            lost.extend(raced);
        }
    }

    /// One pick and claim; also returns the rows that were picked but
    /// claimed by someone else first.
    fn claim_once(
        &self,
        store: &mut Store,
        schedule: Schedule,
        tried: &HashSet<i64>,
        lost: &HashSet<i64>,
        pass: &mut Pass,
    ) -> Result<(Vec<Claimed>, Vec<i64>), StoreError> {
        let now = now_ms();
        release_dead_claims(store, now)?;
        let pending_builds: HashMap<String, i64> =
            store.read().outbox_pending_builds()?.into_iter().collect();
        let mut chosen: Vec<Pending> = Vec::new();
        let mut chosen_builds: HashSet<String> = HashSet::new();
        let mut size = 0usize;
        let mut waiting = 0;
        let mut after = 0;
        // Candidates are read a page at a time, so a large backlog costs
        // what one request holds, not the whole backlog.
        'pages: loop {
            let page = store
                .read()
                .outbox_pending(now, schedule == Schedule::Due, after, PAGE)?;
            let Some(last) = page.last().map(|c| c.id) else {
                break;
            };
            after = last;
            for c in page {
                if tried.contains(&c.id) || lost.contains(&c.id) {
                    continue;
                }
                let mut ready = true;
                for b in &c.needs_builds {
                    let ok = match pending_builds.get(b) {
                        Some(_) => chosen_builds.contains(b),
                        None => !build_unfinished(store, b)?,
                    };
                    if !ok {
                        ready = false;
                        break;
                    }
                }
                if !ready {
                    waiting += 1;
                    continue;
                }
                if !chosen.is_empty() && size + c.document.len() > self.max_request {
                    break 'pages;
                }
                size += c.document.len();
                chosen_builds.extend(c.builds.iter().cloned());
                chosen.push(c);
            }
        }
        pass.waiting = waiting;
        if chosen.is_empty() {
            return Ok((vec![], vec![]));
        }
        let ids: Vec<i64> = chosen.iter().map(|c| c.id).collect();
        let batch = store.batch()?;
        let until = now + self.claim_for.as_millis() as i64;
        let got: HashSet<i64> = batch
            .claim(&ids, &self.owner, now, until)?
            .into_iter()
            .collect();
        batch.commit()?;
        let raced: Vec<i64> = ids.iter().copied().filter(|id| !got.contains(id)).collect();
        let mut out = Vec::new();
        for row in chosen.into_iter().filter(|c| got.contains(&c.id)) {
            // Checked again before it leaves, whoever made it: KCIDB only
            // spools, and one bad object would fail the whole submission.
            let checked = serde_json::from_str::<Value>(&row.document)
                .map_err(|e| format!("the stored document is not JSON: {e}"))
                .and_then(|value| {
                    check::check(&value, &check::Rules::foreign())
                        .map(|()| value)
                        .map_err(|why| format!("not sent: it fails the local check: {why}"))
                });
            match checked {
                Ok(value) => out.push(Claimed { row, value }),
                Err(reason) => {
                    let batch = store.batch()?;
                    batch.mark_undeliverable(row.id, &reason)?;
                    batch.commit()?;
                    pass.failed += 1;
                    pass.lines.push(format!(
                        "outbox {} ({}) failed: {reason}",
                        row.id, row.label
                    ));
                }
            }
        }
        Ok((out, raced))
    }

    /// Sends documents as one request; on 400 and 413, in halves. The
    /// outer error stops the pass.
    fn send(
        &self,
        store: &mut Store,
        docs: &[&Claimed],
        pass: &mut Pass,
    ) -> Result<Result<(), String>, StoreError> {
        let body = batch::merge(docs.iter().map(|c| &c.value));
        let bytes = serde_json::to_vec(&body).expect("JSON values always serialise");
        pass.requests += 1;
        match counted(self.client.submit(&bytes)) {
            Ok(accepted) => {
                let batch = store.batch()?;
                let sub = record(&batch, &bytes, docs.len(), &accepted)?;
                for c in docs {
                    batch.mark_delivered(c.row.id, sub)?;
                }
                batch.commit()?;
                pass.submitted += docs.len();
                pass.lines.push(format!(
                    "submitted {} document(s) to KCIDB as {} ({} bytes)",
                    docs.len(),
                    accepted.id,
                    bytes.len()
                ));
                Ok(Ok(()))
            }
            Err(e @ (SendError::Rejected { .. } | SendError::TooLarge)) if docs.len() > 1 => {
                let _ = e;
                let (a, b) = docs.split_at(docs.len() / 2);
                if let Err(stop) = self.send(store, a, pass)? {
                    return Ok(Err(stop));
                }
                self.send(store, b, pass)
            }
            Err(SendError::TooLarge) => {
                let c = docs[0];
                match self.send_parts(store, c.row.id, &c.value, pass)? {
                    Parts::Delivered(sub) => {
                        let batch = store.batch()?;
                        batch.mark_delivered(c.row.id, sub)?;
                        batch.commit()?;
                        pass.submitted += 1;
                        Ok(Ok(()))
                    }
                    Parts::Failed(reason) => {
                        self.fail(store, c, &reason, pass)?;
                        Ok(Ok(()))
                    }
                    Parts::Later(why, after) => {
                        self.later(store, &[c], &why, after, pass)?;
                        Ok(Ok(()))
                    }
                    Parts::Stop(stop) => Ok(Err(stop)),
                }
            }
            Err(e @ SendError::Rejected { .. }) => {
                self.fail(store, docs[0], &e.to_string(), pass)?;
                Ok(Ok(()))
            }
            Err(
                e @ (SendError::Unauthorized { .. }
                | SendError::WrongUrl { .. }
                | SendError::PlainHttp { .. }),
            ) => Ok(Err(self.stop_reason(&e))),
            Err(SendError::Retry { why, after }) => {
                self.later(store, docs, &why, after, pass)?;
                Ok(Ok(()))
            }
        }
    }

    /// Sends one document too large to go whole, in parts.
    fn send_parts(
        &self,
        store: &mut Store,
        id: i64,
        doc: &Value,
        pass: &mut Pass,
    ) -> Result<Parts, StoreError> {
        let Some(parts) = batch::split(doc) else {
            return Ok(Parts::Failed(format!(
                "KCIDB found it too large (413) even split to one object ({} bytes)",
                doc.to_string().len()
            )));
        };
        let mut last = None;
        for part in parts {
            let bytes = serde_json::to_vec(&part).expect("JSON values always serialise");
            pass.requests += 1;
            match counted(self.client.submit(&bytes)) {
                Ok(accepted) => {
                    let batch = store.batch()?;
                    let sub = record(&batch, &bytes, 1, &accepted)?;
                    batch.carried(id, sub)?;
                    batch.commit()?;
                    last = Some(sub);
                }
                Err(SendError::TooLarge) => match self.send_parts(store, id, &part, pass)? {
                    Parts::Delivered(sub) => last = Some(sub),
                    other => return Ok(other),
                },
                Err(e @ SendError::Rejected { .. }) => return Ok(Parts::Failed(e.to_string())),
                Err(
                    e @ (SendError::Unauthorized { .. }
                    | SendError::WrongUrl { .. }
                    | SendError::PlainHttp { .. }),
                ) => return Ok(Parts::Stop(self.stop_reason(&e))),
                Err(SendError::Retry { why, after }) => return Ok(Parts::Later(why, after)),
            }
        }
        Ok(Parts::Delivered(last.expect("a split has parts")))
    }

    /// Why a refusal of the token or the URL stops the pass, naming the
    /// setting to check.
    fn stop_reason(&self, e: &SendError) -> String {
        let endpoint = self.client.endpoint();
        match e {
            SendError::WrongUrl { .. } | SendError::PlainHttp { .. } => {
                format!("{e}; check the KCIDB URL from {}", endpoint.url_source)
            }
            _ => format!("{e}; check the token from {}", endpoint.token_source),
        }
    }

    fn fail(
        &self,
        store: &mut Store,
        c: &Claimed,
        reason: &str,
        pass: &mut Pass,
    ) -> Result<(), StoreError> {
        let batch = store.batch()?;
        batch.mark_undeliverable(c.row.id, reason)?;
        batch.commit()?;
        pass.failed += 1;
        pass.lines.push(format!(
            "outbox {} ({}) failed: {reason}",
            c.row.id, c.row.label
        ));
        Ok(())
    }

    /// Leaves documents pending for a later attempt, or gives up on those
    /// retried for longer than `retry_for`.
    fn later(
        &self,
        store: &mut Store,
        docs: &[&Claimed],
        why: &str,
        after: Option<Duration>,
        pass: &mut Pass,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let batch = store.batch()?;
        let deadline = Deadline {
            backoff: self.backoff,
            retry_for: self.retry_for,
        };
        for c in docs {
            let first = c.row.first_attempt_ms.unwrap_or(now);
            match deadline.next(first, c.row.attempts, now, after) {
                Next::GiveUp { tried } => {
                    let reason = format!(
                        "gave up after {}s of retries: {why}; `kbridge outbox retry {}` tries again",
                        tried.as_secs(),
                        c.row.id
                    );
                    batch.mark_undeliverable(c.row.id, &reason)?;
                    pass.failed += 1;
                }
                Next::RetryAt { at_ms, .. } => {
                    batch.deliver_later(c.row.id, now, at_ms, why)?;
                    pass.retrying += 1;
                }
            }
        }
        batch.commit()?;
        pass.lines.push(format!(
            "KCIDB delivery of {} document(s) will be retried: {why}",
            docs.len()
        ));
        Ok(())
    }
}

/// Counts a request's outcome for `/metrics`.
fn counted(
    sent: Result<crate::kcidb::client::Accepted, SendError>,
) -> Result<crate::kcidb::client::Accepted, SendError> {
    crate::metrics::global().submitted(match &sent {
        Ok(_) => "accepted",
        Err(SendError::Retry { .. }) => "failed",
        Err(_) => "refused",
    });
    sent
}

/// Records a request KCIDB accepted.
fn record(
    batch: &crate::store::Batch<'_>,
    bytes: &[u8],
    documents: usize,
    accepted: &crate::kcidb::client::Accepted,
) -> Result<i64, StoreError> {
    batch.record_submission(
        bytes.len(),
        documents,
        Some(200),
        Some(&accepted.id),
        accepted.message.as_deref(),
    )
}

/// How sending a document in parts ended.
enum Parts {
    Delivered(i64),
    Failed(String),
    Later(String, Option<Duration>),
    Stop(String),
}

/// Whether `build_id` (kbridge's own) names a build that has not finished:
/// its tests wait for its document.
fn build_unfinished(store: &Store, build_id: &str) -> Result<bool, StoreError> {
    if store.read().outbox_defines(build_id)? {
        return Ok(false);
    }
    let Some((_, uid)) = build_id.split_once(':') else {
        return Ok(false);
    };
    Ok(match store.read().find(uid)? {
        Some(job) => matches!(
            job.state,
            JobState::Submitting | JobState::Submitted | JobState::Received
        ),
        None => false,
    })
}

/// Frees claims held by processes of this machine that are gone (killed
/// in the middle of a run), so their documents need not wait for the claim
/// to expire.
fn release_dead_claims(store: &mut Store, now: i64) -> Result<(), StoreError> {
    let dead: Vec<String> = store
        .read()
        .outbox_claimants(now)?
        .into_iter()
        .filter(|owner| super::claims::gone(owner))
        .collect();
    if dead.is_empty() {
        return Ok(());
    }
    let batch = store.batch()?;
    for owner in &dead {
        batch.release_claims_of(owner)?;
    }
    batch.commit()
}

/// How long delivery pauses after KCIDB refused the token or the URL: the
/// same request would fail the same way until someone fixes the setting.
const REFUSED_PAUSE: Duration = Duration::from_secs(600);
/// How often an idle delivery stage looks for new documents.
const IDLE: Duration = Duration::from_millis(500);

/// The delivery stage: delivers the outbox on its own connection until
/// `stop`, so a slow or dead KCIDB only grows the backlog and never holds
/// up a callback.
pub(super) fn run(
    mut store: Store,
    delivery: Delivery,
    stop: super::stop::Stop,
    log: crate::log::Log,
) {
    // One listener delivers for all on a shared database, so KCIDB gets
    // full batches from one sender; the others wait their turn.
    let mut role = super::claims::Role::new("deliver", "delivers to KCIDB");
    while !stop.is_stopped() {
        match role.take(&store, &log) {
            Ok(true) => {}
            Ok(false) => {
                stop.wait(IDLE);
                continue;
            }
            Err(e) => {
                log.error(&format!("KCIDB delivery: {e}"));
                stop.wait(Duration::from_secs(5));
                continue;
            }
        }
        match delivery.pass(&mut store, Schedule::Due) {
            Ok(pass) => {
                for line in &pass.lines {
                    log.info(line);
                }
                if let Some(refused) = &pass.stopped {
                    log.error(&format!(
                        "{refused}; KCIDB delivery pauses for {} minutes (documents stay pending)",
                        REFUSED_PAUSE.as_secs() / 60
                    ));
                    stop.wait(REFUSED_PAUSE);
                } else if pass.requests == 0 {
                    stop.wait(IDLE);
                }
            }
            Err(e) => {
                log.error(&format!("KCIDB delivery: {e}"));
                stop.wait(Duration::from_secs(5));
            }
        }
    }
}
