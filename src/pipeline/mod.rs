//! The results pipeline: from an admitted report on a job to a KCIDB
//! document, for every runner, with or without an HTTP server in front.
//!
//! An *item* is admitted: a verified callback now, a poll result or an
//! external report later. The pipeline stores it durably in the inbox,
//! matches it to its job, processes it on workers (fetch results, make the
//! KCIDB document), records the outcome, and retries transient failures
//! with the one backoff policy. `kbridge listen` puts an HTTP server in
//! front of it; `kbridge inbox replay` and tests drive it directly.
//!
//! # Layout
//! - this file: [`Pipeline`] (start, stop) and [`Intake`], the handle that
//!   admits items;
//! - `admit`: matching an item to its job, and what may be kept of it;
//! - `writer`: the one thread that writes to the store, in group commits;
//! - `worker`: the threads that fetch results and write documents;
//! - `poller`: asking runners about jobs whose report has not come;
//! - `claims`: who holds a claim, and whether that process is gone.
//!
//! Data flows one way: intake → writer (store) → workers → writer (store).

mod admit;
mod checkpoint;
pub mod claims;
pub mod deliver;
pub mod health;
pub mod poller;
mod stop;
mod worker;
mod writer;

pub use admit::{Incoming, IncomingPlan, Matching};
pub use health::Limits;
pub use worker::remove_stale_temporaries;
pub use writer::report_key;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::clock::now_ms;
use crate::log::Log;
use crate::retry::Backoff;
use crate::runner::Runner;
use crate::store::{Location, Store, StoreError};

/// The runners a pipeline serves, by code.
pub type Runners = Arc<BTreeMap<&'static str, Arc<dyn Runner>>>;

/// How a pipeline is set up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The KCIDB origin of the documents.
    pub origin: String,
    /// Where documents are written.
    pub output_dir: PathBuf,
    /// The pauses between attempts to fetch a job's results.
    pub backoff: Backoff,
    /// How long fetching is retried before a callback is marked failed.
    pub retry_for: Duration,
    /// Processing threads; fetching artefacts is I/O-bound, so more than
    /// cores.
    pub workers: usize,
    /// How long workers get to finish the item in hand after a stop; what
    /// they do not finish stays pending in the store and is redone on the
    /// next start.
    pub grace: Duration,
    /// Whether the pipeline also takes on work it was not handed: what an
    /// earlier run left pending, early callbacks whose job has appeared,
    /// and their retries. A listener does; a replay handles only what it
    /// is given, so it never races a listener for the rest.
    pub service: bool,
    /// How long a signed callback for a job not known is kept.
    pub unmatched_ttl: Duration,
    /// How long a claim on a callback being processed lasts unless
    /// renewed (it is renewed at a third of this).
    pub lease: Duration,
    /// The most test cases a document keeps.
    pub max_cases: usize,
    /// The largest document, in bytes.
    pub max_document: usize,
}

/// What the pipeline answers for an admitted item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Stored (and matched to a job, if `job` is set).
    Accepted { inbox: i64, job: Option<i64> },
    /// A signed callback for a job not known (yet), stored until its job
    /// appears or `unmatched_ttl` passes.
    Unmatched { inbox: i64 },
    /// Already reported on, or already kept (the row, if one holds it);
    /// changes nothing and keeps nothing more.
    Duplicate { inbox: Option<i64> },
    /// A plan's callback, recorded on plan `plan`; `polled` of its jobs,
    /// not reported on yet, are polled now.
    PlanRecorded { plan: i64, polled: usize },
    /// A plan callback for a plan whose callback came before.
    PlanDuplicate { plan: i64 },
    /// The token did not hold (nothing of it was kept as trusted).
    Rejected(String),
    /// Authenticated but unreadable.
    Invalid(String),
    /// The store failed; nothing was kept.
    Unavailable(String),
}

/// How a replayed callback ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// A line saying what became of the job.
    pub line: String,
    /// Whether a document was written.
    pub completed: bool,
}

/// Why a stored callback could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no callback {0}; `kbridge inbox` lists them")]
    NotFound(i64),
    /// It is there but cannot be processed again (its body was not kept,
    /// its runner is not configured, it matches no job); the message says
    /// which.
    #[error("{0}")]
    Cannot(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A signed report from a system that is not a runner, already turned
/// into its KCIDB document.
#[derive(Debug)]
pub struct SignedReport {
    /// The reporting source, whose secret signed it.
    pub source: String,
    /// The signature header, refused if it was seen before (a replay).
    pub signature: String,
    pub body: Vec<u8>,
    pub test_uid: String,
    /// The document, serialised.
    pub document: String,
}

/// A finished job's report obtained by polling its runner.
#[derive(Debug)]
pub struct PolledReport {
    pub job_id: i64,
    pub callback: crate::model::Callback,
}

/// Messages to the writer.
enum Msg {
    Polled(Box<PolledReport>, tokio::sync::oneshot::Sender<Answer>),
    /// Processes again what is pending for these jobs (left by a stopped
    /// `kbridge wait` or listener).
    Resume(Vec<i64>),
    Admit(Box<Incoming>, tokio::sync::oneshot::Sender<Answer>),
    Plan(Box<IncomingPlan>, tokio::sync::oneshot::Sender<Answer>),
    Report(Box<SignedReport>, tokio::sync::oneshot::Sender<Answer>),
    Replay(
        i64,
        tokio::sync::oneshot::Sender<Result<Replayed, ReplayError>>,
    ),
    /// A listener is alive, with the callbacks it refused since it last
    /// said so. Written by the writer, like everything a listener stores,
    /// so saying it never makes the writer wait for the write lock.
    Alive {
        id: String,
        bind: String,
        refused: Vec<crate::store::Refused>,
    },
    Finished {
        inbox_id: i64,
        job_id: i64,
        finish: worker::Finish,
        /// What the runner said of the job, when the report could be read.
        status: Option<serde_json::Value>,
    },
    Stop,
}

/// Admits items into a running pipeline. Cheap to clone; every request
/// handler holds one.
#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Msg>,
    /// Items handed over and not yet taken by the writer.
    queued: Arc<AtomicUsize>,
    health: Arc<Health>,
}

/// How the writer is doing, as it says itself.
#[derive(Debug)]
pub struct Health {
    /// Whether its last write held.
    store_ok: AtomicBool,
    /// When its loop last went round, in ms since the epoch.
    beat_ms: std::sync::atomic::AtomicI64,
}

impl Default for Health {
    fn default() -> Health {
        Health {
            store_ok: AtomicBool::new(true),
            beat_ms: std::sync::atomic::AtomicI64::new(now_ms()),
        }
    }
}

impl Health {
    pub(crate) fn wrote(&self, ok: bool) {
        self.store_ok.store(ok, Ordering::Relaxed);
    }

    pub(crate) fn beat(&self) {
        self.beat_ms.store(now_ms(), Ordering::Relaxed);
    }
}

/// The most items waiting for the writer: beyond it an item is refused at
/// once (a listener answers 503), so a flood cannot pile up in memory.
pub const QUEUE_LIMIT: usize = 8192;

impl Intake {
    /// Sends a message that carries an answer, unless the queue is full.
    fn send(
        &self,
        msg: impl FnOnce(tokio::sync::oneshot::Sender<Answer>) -> Msg,
    ) -> tokio::sync::oneshot::Receiver<Answer> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.queued.fetch_add(1, Ordering::AcqRel) >= QUEUE_LIMIT {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            let _ = reply.send(Answer::Unavailable(
                "too many callbacks wait to be stored".into(),
            ));
            return answer;
        }
        if let Err(mpsc::SendError(_)) = self.tx.send(msg(reply)) {
            self.queued.fetch_sub(1, Ordering::AcqRel);
        }
        answer
    }

    /// Hands an item to the writer. The answer comes once the item is on
    /// disk (or could not be stored); a closed channel means the pipeline
    /// stopped.
    pub fn admit(&self, item: Incoming) -> tokio::sync::oneshot::Receiver<Answer> {
        self.send(|reply| Msg::Admit(Box::new(item), reply))
    }

    /// Records a plan's callback on its plan.
    pub fn plan(&self, item: IncomingPlan) -> tokio::sync::oneshot::Receiver<Answer> {
        self.send(|reply| Msg::Plan(Box::new(item), reply))
    }

    /// Stores a signed report and queues its document.
    pub fn report(&self, report: SignedReport) -> tokio::sync::oneshot::Receiver<Answer> {
        self.send(|reply| Msg::Report(Box::new(report), reply))
    }

    /// Hands over a finished job's report found by polling: the same path
    /// as a callback, so a job polled and then called back is processed
    /// once.
    pub fn polled(&self, report: PolledReport) -> tokio::sync::oneshot::Receiver<Answer> {
        self.send(|reply| Msg::Polled(Box::new(report), reply))
    }

    /// Whether the store took the last write (false after a failed one,
    /// until a write holds again).
    pub fn store_ok(&self) -> bool {
        self.health.store_ok.load(Ordering::Relaxed)
    }

    /// Whether the writer went round its loop in the last few seconds (it
    /// does several times a second when alive).
    pub fn writer_alive(&self) -> bool {
        now_ms() - self.health.beat_ms.load(Ordering::Relaxed) < 5_000
    }

    /// Records that the listener `id` on `bind` is alive, with the
    /// callbacks it refused since it last said so.
    pub(crate) fn alive(&self, id: &str, bind: &str, refused: Vec<crate::store::Refused>) {
        let _ = self.tx.send(Msg::Alive {
            id: id.to_string(),
            bind: bind.to_string(),
            refused,
        });
    }

    /// Processes what is pending for these jobs.
    pub fn resume(&self, jobs: Vec<i64>) {
        let _ = self.tx.send(Msg::Resume(jobs));
    }

    /// Processes a stored callback again from its stored bytes, and says
    /// how that ended.
    pub fn replay(
        &self,
        inbox_id: i64,
    ) -> tokio::sync::oneshot::Receiver<Result<Replayed, ReplayError>> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let _ = self.tx.send(Msg::Replay(inbox_id, reply));
        answer
    }
}

/// The stages a pipeline runs beside its core (the writer, which stores
/// what is admitted, and the workers, which process it): each is started
/// only when asked for.
#[derive(Default)]
pub struct Stages {
    /// Delivering documents to KCIDB.
    pub deliver: Option<deliver::Delivery>,
    /// Polling jobs whose report has not come.
    pub poll: Option<poller::Polling>,
    /// Answering whether the pipeline is ready, and what the store holds.
    pub health: Option<health::Limits>,
}

/// How long stopping waits for each stage after the stop signal, beyond
/// the workers' grace. A stage still running then is left to end with the
/// process: none of them holds anything that is not already stored.
const STAGE_GRACE: Duration = poller::GRACE;

/// A stage's thread; it drops its end of `ended` when it returns.
struct Stage {
    name: &'static str,
    thread: JoinHandle<()>,
    ended: mpsc::Receiver<()>,
}

impl Stage {
    fn spawn(
        name: &'static str,
        at: &Location,
        run: impl FnOnce() + Send + 'static,
    ) -> Result<Stage, StoreError> {
        let (ended_tx, ended) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("kbridge-{name}"))
            .spawn(move || {
                let _ended = ended_tx;
                run();
            })
            .map_err(|e| StoreError::Query {
                at: at.clone(),
                message: format!("cannot start the {name} stage: {e}"),
            })?;
        Ok(Stage {
            name,
            thread,
            ended,
        })
    }

    /// Waits for the stage until `deadline`; says how long it took, or
    /// that it was left running.
    fn wait(self, started: Instant, deadline: Instant) -> (&'static str, Option<Duration>) {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.ended.recv_timeout(left) {
            Err(mpsc::RecvTimeoutError::Disconnected) | Ok(()) => {
                let _ = self.thread.join();
                (self.name, Some(started.elapsed()))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => (self.name, None),
        }
    }
}

/// How a pipeline stopped: each stage, and how long it took to end
/// (`None`: still running when stopping gave up on it).
#[derive(Debug)]
pub struct Stopped {
    pub stages: Vec<(&'static str, Option<Duration>)>,
}

impl Stopped {
    /// The stages that did not end in time.
    pub fn left_running(&self) -> Vec<&'static str> {
        self.stages
            .iter()
            .filter(|(_, took)| took.is_none())
            .map(|(name, _)| *name)
            .collect()
    }
}

/// A running pipeline: every stage from an admitted item to a delivered
/// document, started together, stopped together by one signal. Only the
/// pipeline opens the store; what else a service needs of it (health,
/// figures, reads) it asks the pipeline.
pub struct Pipeline {
    intake: Intake,
    idle: tokio::sync::watch::Receiver<bool>,
    stop: stop::Stop,
    /// Stopped first, in order: they feed the core or read from it.
    feeders: Vec<Stage>,
    workers: Vec<Stage>,
    /// The workers' queue, to wake those that wait for work.
    wake: mpsc::Sender<Option<worker::Work>>,
    writer: Option<Stage>,
    checkpoint: Option<Stage>,
    health: Option<Arc<health::Health>>,
    grace: Duration,
}

impl Pipeline {
    /// Opens the store at `store_path` (creating it if needed), recovers
    /// what an earlier run left pending, and starts the writer, the
    /// workers, the checkpoint stage and the `stages` asked for.
    pub fn start(
        store_path: &Location,
        runners: Runners,
        settings: Settings,
        stages: Stages,
        log: Log,
    ) -> Result<Pipeline, StoreError> {
        let mut store = Store::open(store_path)?;
        store.check_writable()?;
        store.defer_checkpoints()?;
        let stop = stop::Stop::new();
        // Only an SQLite file has a WAL to keep short: a PostgreSQL server
        // checkpoints on its own, and the stage's connection would be idle.
        let checkpoint = match store_path {
            Location::File(_) => {
                let (store, stop, log) =
                    (Store::open_existing(store_path)?, stop.clone(), log.clone());
                Some(Stage::spawn("checkpoint", store_path, move || {
                    checkpoint::run(store, stop, log)
                })?)
            }
            Location::Postgres(_) => None,
        };
        let (tx, rx) = mpsc::channel();
        let (work_tx, work_rx) = mpsc::channel();
        let (idle_tx, idle) = tokio::sync::watch::channel(false);
        let processor = Arc::new(worker::Processor {
            runners: runners.clone(),
            origin: settings.origin.clone(),
            output_dir: settings.output_dir.clone(),
            max_cases: settings.max_cases,
            max_document: settings.max_document,
        });
        let work_rx = Arc::new(std::sync::Mutex::new(work_rx));
        let workers = (0..settings.workers.max(1))
            .map(|i| {
                let (processor, work, writer, stop) =
                    (processor.clone(), work_rx.clone(), tx.clone(), stop.clone());
                Stage::spawn(
                    worker::NAMES[i % worker::NAMES.len()],
                    store_path,
                    move || worker::run(&processor, &work, &writer, &stop),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let grace = settings.grace;
        let queued = Arc::new(AtomicUsize::new(0));
        let health = Arc::new(Health::default());
        let intake = Intake {
            tx: tx.clone(),
            queued: queued.clone(),
            health: health.clone(),
        };
        let mut writer = writer::Writer::new(
            store,
            runners.clone(),
            settings,
            work_tx.clone(),
            idle_tx,
            log.clone(),
        );
        writer.share(queued, health);
        let writer = Stage::spawn("writer", store_path, move || writer.run(rx))?;
        let mut feeders = Vec::new();
        if let Some(polling) = stages.poll {
            let poller = poller::Poller {
                runners,
                intake: intake.clone(),
                concurrency: polling.concurrency,
            };
            let (store, stop, log) = (Store::open_existing(store_path)?, stop.clone(), log.clone());
            feeders.push(Stage::spawn("poll", store_path, move || {
                poller::run(store, poller, polling, stop, log)
            })?);
        }
        if let Some(delivery) = stages.deliver {
            let (store, stop, log) = (Store::open_existing(store_path)?, stop.clone(), log.clone());
            feeders.push(Stage::spawn("deliver", store_path, move || {
                deliver::run(store, delivery, stop, log)
            })?);
        }
        let health = stages
            .health
            .map(|limits| health::Health::open(store_path, limits).map(Arc::new))
            .transpose()?;
        Ok(Pipeline {
            intake,
            idle,
            stop,
            feeders,
            workers,
            wake: work_tx,
            writer: Some(writer),
            checkpoint,
            health,
            grace,
        })
    }

    /// A handle that admits items.
    pub fn intake(&self) -> Intake {
        self.intake.clone()
    }

    /// Becomes true whenever no job waits for a report and nothing is
    /// being processed.
    pub fn idle(&self) -> tokio::sync::watch::Receiver<bool> {
        self.idle.clone()
    }

    /// The health stage, when it was asked for.
    pub fn health(&self) -> Option<Arc<health::Health>> {
        self.health.clone()
    }

    /// Stops every stage with one signal: polling and delivery end after
    /// what they have in hand, workers finish the item in hand (up to the
    /// grace period), the writer records what they finished, and the
    /// checkpoint stage ends last. Says how long each took.
    pub fn stop(mut self) -> Stopped {
        self.halt()
    }

    fn halt(&mut self) -> Stopped {
        let started = Instant::now();
        self.stop.stop();
        // Idle workers wait on the queue; wake each to see the stop.
        for _ in &self.workers {
            let _ = self.wake.send(None);
        }
        let mut stages = Vec::new();
        for s in std::mem::take(&mut self.feeders) {
            stages.push(s.wait(started, started + STAGE_GRACE));
        }
        for w in std::mem::take(&mut self.workers) {
            stages.push(w.wait(started, started + self.grace));
        }
        if let Some(w) = self.writer.take() {
            let _ = self.intake.tx.send(Msg::Stop);
            stages.push(w.wait(started, Instant::now() + STAGE_GRACE));
        }
        if let Some(c) = self.checkpoint.take() {
            stages.push(c.wait(started, Instant::now() + STAGE_GRACE));
        }
        Stopped { stages }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.halt();
        }
    }
}

impl From<ReplayError> for crate::error::Error {
    fn from(e: ReplayError) -> crate::error::Error {
        use crate::error::Error;
        use ReplayError as R;
        match e {
            e @ R::NotFound(_) => Error::NotFound(e.to_string()),
            R::Cannot(m) => Error::Failed(m),
            R::Store(s) => Error::Store(s),
        }
    }
}

#[cfg(test)]
mod tests;
