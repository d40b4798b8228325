//! `kbridge listen` as a service: bind, serve, reload, stop.
//!
//! [`Service::new`] binds the addresses (or takes the socket systemd
//! passed) and starts the pipeline with every stage a listener runs;
//! [`Service::run`] serves until a signal, `--exit-when-done` or its
//! timeout, reloads the runners and report sources on SIGHUP, tells
//! systemd where it stands, and stops the server and then the pipeline.

use std::io::Write;
use std::net::SocketAddr;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::handler::{Reports, Routes, Shared};
use super::Limits;
use crate::log::Log;
use crate::model::JobState;
use crate::pipeline::deliver::Delivery;
use crate::pipeline::poller::{Pace, Plan, Polling, RefusalTally, Seen};
use crate::pipeline::{self, Pipeline, Runners, Stages};
use crate::store::{JobFilter, StoreError};

/// Connections the operations address serves at once.
const OPS_CONNECTIONS: usize = 64;
/// How long a client may take to send a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// What the runners and report sources are read from again on SIGHUP.
pub type Reload = Box<dyn Fn() -> Result<(Runners, Option<Arc<Reports>>), String> + Send + Sync>;

/// Everything a listener is set up with, resolved from the settings.
pub struct Options {
    pub log: Log,
    pub runners: Runners,
    /// False only under `--insecure-skip-verify`.
    pub verify: bool,
    pub database: crate::store::Location,
    pub pipeline: pipeline::Settings,
    /// Delivery to KCIDB, when it is configured and not turned off.
    pub deliver: Option<Delivery>,
    pub poll_interval: Duration,
    pub poll_after: Duration,
    pub health: pipeline::Limits,
    /// `--bind`, unless systemd passed a socket.
    pub bind: String,
    pub ops_bind: Option<String>,
    pub limits: Limits,
    pub max_body: u64,
    /// Request bytes held in memory at once.
    pub max_buffered: u64,
    pub reports: Option<Arc<Reports>>,
    /// `--exit-when-done`, with its timeout.
    pub exit_when_done: Option<Option<Duration>>,
    pub reload: Reload,
}

/// Why the service could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// An address cannot be listened on.
    #[error("cannot listen on {addr}: {source}; choose another address with {flag}")]
    Bind {
        addr: String,
        flag: &'static str,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a run ended.
#[derive(Debug)]
pub struct Served {
    /// With `--exit-when-done`: the jobs it reported on (those waiting at
    /// the start, and those scheduled while it ran), with their documents.
    pub reported: Vec<(crate::model::Job, Option<String>)>,
    /// The `--exit-when-done` timeout expired first.
    pub timed_out: bool,
}

/// A bound listener with its pipeline running.
pub struct Service {
    options: Options,
    listener: std::net::TcpListener,
    addr: SocketAddr,
    ops: Option<(std::net::TcpListener, SocketAddr)>,
    pipeline: Pipeline,
    shared: Arc<Shared>,
    /// The jobs waiting at the start, and the newest job then.
    waiting: (Vec<i64>, i64),
}

impl Service {
    /// Binds and starts the pipeline; nothing is served yet.
    pub fn new(mut options: Options) -> Result<Service, ServiceError> {
        keep_freed_memory();
        let (listener, addr) = match activated_socket() {
            Some(l) => {
                let addr = l
                    .set_nonblocking(true)
                    .and_then(|()| l.local_addr())
                    .map_err(|source| ServiceError::Io {
                        what: "cannot use the socket systemd passed".into(),
                        source,
                    })?;
                (l, addr)
            }
            None => bind(&options.bind, "--bind")?,
        };
        let ops = options
            .ops_bind
            .as_deref()
            .map(|a| bind(a, "--ops-bind"))
            .transpose()?;
        let refusals = RefusalTally::default();
        let log = options.log.clone();
        let seen_log = log.clone();
        let polling = Polling {
            concurrency: 8,
            plan: Plan {
                pace: Pace {
                    interval: options.poll_interval,
                    max: Duration::from_secs(3600),
                    // An overdue callback is asked about at a slower pace.
                    trust_callbacks: Some((
                        options.poll_after,
                        (options.poll_after / 6).max(options.poll_interval),
                    )),
                },
                only: None,
                listener: Some(addr.to_string()),
                trust_while_listening: None,
                refusals: Some(refusals.clone()),
            },
            seen: Box::new(move |seen| match seen {
                Seen::Note(note) => seen_log.info(&note),
                Seen::Finished(id) => seen_log.info(&format!(
                    "job {id}: its callback did not come; polling found it finished"
                )),
            }),
        };
        let stages = Stages {
            deliver: options.deliver.take(),
            poll: Some(polling),
            health: Some(options.health),
        };
        let pipeline = Pipeline::start(
            &options.database,
            options.runners.clone(),
            options.pipeline.clone(),
            stages,
            log.clone(),
        )?;
        let health = pipeline.health();
        let waiting = match &health {
            Some(h) => h.read(|db| {
                let all = db.list(&JobFilter::default())?;
                let last = all.first().map(|j| j.id).unwrap_or(0);
                let waiting = all
                    .iter()
                    .filter(|j| matches!(j.state, JobState::Submitted | JobState::Received))
                    .map(|j| j.id);
                Ok((waiting.collect(), last))
            })?,
            None => (vec![], 0),
        };
        let shared = Arc::new(Shared {
            runners: RwLock::new(options.runners.clone()),
            verify: options.verify,
            max_body: options.max_body,
            body_timeout: BODY_TIMEOUT,
            intake: pipeline.intake(),
            log,
            reports: RwLock::new(options.reports.clone()),
            buffered: Arc::new(tokio::sync::Semaphore::new(
                usize::try_from(options.max_buffered / 1024)
                    .unwrap_or(usize::MAX)
                    .min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
            ops: health,
            requests: AtomicU64::new(0),
            refusals,
        });
        Ok(Service {
            options,
            listener,
            addr,
            ops,
            pipeline,
            shared,
            waiting,
        })
    }

    /// The address callbacks are served on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The operations address, if there is one.
    pub fn ops_addr(&self) -> Option<SocketAddr> {
        self.ops.as_ref().map(|(_, a)| *a)
    }

    /// Serves until SIGINT or SIGTERM, or with `--exit-when-done` until no
    /// job waits (or its timeout); then stops the server, then every stage
    /// of the pipeline.
    pub fn run(self) -> Result<Served, ServiceError> {
        let Service {
            options,
            listener,
            addr,
            ops,
            pipeline,
            shared,
            waiting,
        } = self;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|source| ServiceError::Io {
                what: "cannot start the async runtime".into(),
                source,
            })?;
        let timed_out = Arc::new(AtomicBool::new(false));
        let mut idle = pipeline.idle();
        let exit_when_done = options.exit_when_done;
        let log = options.log.clone();
        let limits = options.limits;
        let reload = options.reload;
        let verify_note = options.verify;
        let (output_dir, database) = (
            options.pipeline.output_dir.clone(),
            options.database.clone(),
        );
        let timed_out_flag = timed_out.clone();
        let served = runtime.block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let ops_listener = match ops {
                Some((l, _)) => Some(tokio::net::TcpListener::from_std(l)?),
                None => None,
            };
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate())?;
            let mut hangup = signal(SignalKind::hangup())?;
            let done = async move {
                let Some(timeout) = exit_when_done else {
                    return std::future::pending::<()>().await;
                };
                let expiry = async move {
                    match timeout {
                        Some(t) => tokio::time::sleep(t).await,
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    Ok(_) = idle.wait_for(|idle| *idle) => {}
                    () = expiry => timed_out_flag.store(true, Ordering::Relaxed),
                }
            };
            let (stop_log, reload_shared) = (log.clone(), shared.clone());
            let shutdown = async move {
                tokio::pin!(done);
                loop {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => { stop_log.info("interrupted; stopping"); break }
                        _ = term.recv() => { stop_log.info("terminated; stopping"); break }
                        () = &mut done => {
                            stop_log.info("no job is waiting for its results, or the timeout expired; stopping");
                            break
                        }
                        _ = hangup.recv() => reloaded(&reload, &reload_shared, &stop_log),
                    }
                }
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
            };
            let (stop_ops, ops_stopped) = tokio::sync::watch::channel(false);
            let ops_task = ops_listener.map(|l| {
                let mut stopped = ops_stopped.clone();
                tokio::spawn(super::serve(
                    l,
                    async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    },
                    shared.clone(),
                    Limits {
                        connections: OPS_CONNECTIONS,
                        per_client: 0,
                        header_timeout: limits.header_timeout,
                    },
                    Routes::Ops,
                ))
            });
            let watchdog = watchdog(shared.clone());
            if verify_note {
                log.info(&format!(
                    "verifying callbacks; writing KCIDB documents to {}; database {}",
                    output_dir.display(),
                    database
                ));
            } else {
                log.warn("--insecure-skip-verify: callback signatures are NOT checked; never use this where the listener can be reached by others");
            }
            // Bound and with the store open: systemd may send traffic now.
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
            super::serve(listener, shutdown, shared.clone(), limits, Routes::All).await;
            let _ = stop_ops.send(true);
            if let Some(t) = ops_task {
                let _ = t.await;
            }
            if let Some(w) = watchdog {
                w.abort();
            }
            Ok::<(), std::io::Error>(())
        });
        runtime.shutdown_timeout(Duration::from_secs(1));
        let health = pipeline.health();
        drop(shared);
        let stopped = pipeline.stop();
        for stage in stopped.left_running() {
            log.warn(&format!(
                "the {stage} stage did not stop in time; it ends with the process"
            ));
        }
        served.map_err(|source| ServiceError::Io {
            what: format!("serving on {addr}"),
            source,
        })?;
        let mut reported = Vec::new();
        if let (Some(_), Some(health)) = (exit_when_done, health) {
            let (waiting, last) = waiting;
            reported = health.read(|db| {
                let mut out = Vec::new();
                for job in db.list(&JobFilter::default())? {
                    if waiting.contains(&job.id) || job.id > last {
                        let doc = db.document(job.id)?.map(|d| d.document);
                        out.push((job.redacted(), doc));
                    }
                }
                out.reverse();
                Ok(out)
            })?;
        }
        Ok(Served {
            reported,
            timed_out: timed_out.load(Ordering::Relaxed),
        })
    }
}

/// Lets the allocator keep memory it freed for the next batch of
/// callbacks: glibc otherwise gives the top of each thread's heap back to
/// the system after every batch the writer frees, and faulting it in again
/// (with the TLB flushes that cost every core) took a sixth of the
/// listener's time under load.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's thresholds; it is called
    // before the service's threads start.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TOP_PAD, 4 << 20);
    }
}

fn bind(
    addr: &str,
    flag: &'static str,
) -> Result<(std::net::TcpListener, SocketAddr), ServiceError> {
    let bad = |source| ServiceError::Bind {
        addr: addr.to_string(),
        flag,
        source,
    };
    let l = std::net::TcpListener::bind(addr).map_err(bad)?;
    let local = l
        .set_nonblocking(true)
        .and_then(|()| l.local_addr())
        .map_err(bad)?;
    Ok((l, local))
}

/// The first socket systemd passed, if it passed one for us.
fn activated_socket() -> Option<std::net::TcpListener> {
    use std::os::fd::FromRawFd;
    let fd = sd_notify::listen_fds().ok()?.next()?;
    // SAFETY: systemd hands the process this descriptor (LISTEN_FDS, for
    // our PID) to own; nothing else in kbridge uses it.
    Some(unsafe { std::net::TcpListener::from_raw_fd(fd) })
}

/// SIGHUP: reads the configuration again and swaps in the runners (their
/// keys, hosts and tokens) and the report sources, without touching the
/// connections. What cannot change without a restart (addresses, limits)
/// keeps its value. A configuration that does not load changes nothing.
fn reloaded(reload: &Reload, shared: &Shared, log: &Log) {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Reloading]);
    match reload() {
        Ok((runners, reports)) => {
            let n = runners.len();
            if let Ok(mut r) = shared.runners.write() {
                *r = runners;
            }
            if let Ok(mut r) = shared.reports.write() {
                *r = reports;
            }
            log.info(&format!(
                "reloaded the configuration (SIGHUP): {n} runner(s) receiving callbacks; addresses and limits need a restart to change"
            ));
        }
        Err(e) => log.error(&format!(
            "reloading the configuration (SIGHUP) failed, nothing changed: {e}"
        )),
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
}

/// Tells systemd the listener is alive, at half its `WatchdogSec=`, as
/// long as the store writer is: a stuck writer gets the service
/// restarted.
fn watchdog(shared: Arc<Shared>) -> Option<tokio::task::JoinHandle<()>> {
    let every = sd_notify::watchdog_enabled()? / 2;
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if shared.intake.writer_alive() {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            }
        }
    }))
}

/// Prints where the service listens: scripts and tests read the address
/// from the first line of standard output.
pub fn announce(service: &Service) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on http://{}", service.addr());
    if let Some(ops) = service.ops_addr() {
        let _ = writeln!(out, "operations on http://{ops}");
    }
    let _ = out.flush();
}

impl From<ServiceError> for crate::error::Error {
    fn from(e: ServiceError) -> crate::error::Error {
        use crate::error::Error;
        match e {
            ServiceError::Store(s) => Error::Store(s),
            e @ ServiceError::Bind { .. } => Error::Failed(e.to_string()),
            ServiceError::Io { what, source } => Error::io(what, &source),
        }
    }
}
