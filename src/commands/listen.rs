//! `kbridge listen`: wires the settings, the runners, the pipeline and the
//! HTTP server together, and stops them in order.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::ListenArgs;
use crate::commands::{open_configured, pipeline_settings, Context};
use crate::config::keys;
use crate::error::{exit, Error};
use crate::listen::handler::{Routes, Shared};
use crate::listen::Limits;
use crate::log::Log;
use crate::model::JobState;
use crate::outcome::{JobOutcome, Summary};
use crate::pipeline::poller::{Pace, Plan, Poller, Seen, Watch};
use crate::pipeline::Pipeline;
use crate::runner::Purpose;

/// Fetching artefacts is I/O-bound: more workers than cores.
const WORKERS: usize = 8;
/// How long a client may take to send a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections the operations address serves at once.
const OPS_CONNECTIONS: usize = 64;

pub fn run(args: ListenArgs, ctx: &Context) -> Result<u8, Error> {
    // With --exit-when-done the exit status is a verdict, as wait's is.
    let verdict = args.exit_when_done;
    serve(args, ctx).map_err(|e| {
        if verdict {
            e.in_verdict_command(false)
        } else {
            e
        }
    })
}

fn serve(args: ListenArgs, ctx: &Context) -> Result<u8, Error> {
    let config = ctx.load()?;
    let format = config
        .get(keys::LOG_FORMAT)
        .and_then(|f| crate::log::Format::parse(&f.value))
        .unwrap_or_default();
    let log = Log::stderr_as(format);
    let verify = !args.insecure_skip_verify;
    let runners = open_configured(&config, Purpose::Listen { verify }, &log)?;
    let settings = pipeline_settings(&config, WORKERS);
    let output_dir = settings.output_dir.clone();
    std::fs::create_dir_all(&output_dir).map_err(|e| {
        Error::io(
            format!("cannot create output directory {}", output_dir.display()),
            &e,
        )
    })?;
    let stale = crate::pipeline::remove_stale_temporaries(&output_dir);
    if stale > 0 {
        log.info(&format!(
            "removed {stale} half-written document(s) left in {} by a process that died",
            output_dir.display()
        ));
    }

    let (std_listener, addr) = bind_listener(&config)?;
    let ops_listener = match config.get(keys::OPS_BIND) {
        Some(ops) => Some(bind_addr(&ops.value, "--ops-bind")?),
        None => None,
    };
    let database = config.database();
    let endpoint = super::endpoint::resolve(&config)?;
    let sources = crate::report::Sources::load(config.section("report"))?;
    let pipeline = Pipeline::start(&database, runners.clone(), settings, log.clone())?;
    let submit = config
        .get(keys::KCIDB_SUBMIT)
        .map(|s| s.value)
        .unwrap_or(true);
    let submitter = match endpoint {
        Some(endpoint) if submit => {
            if let Some(w) = endpoint.origin_warning(&config.origin()) {
                log.warn(&w);
            }
            log.info(&format!(
                "submitting KCIDB documents to {} (token from {})",
                crate::http::redact_url(&endpoint.url),
                endpoint.token_source
            ));
            Some(crate::pipeline::deliver::Submitter::start(
                &database,
                super::outbox::delivery(&config, endpoint),
                log.clone(),
            )?)
        }
        Some(_) => {
            log.info(
                "not submitting to KCIDB (--no-submit): documents are kept for `kbridge submit`",
            );
            None
        }
        None => {
            log.info("no KCIDB URL is configured: documents are kept for `kbridge submit`");
            None
        }
    };
    let interval = config.required(keys::POLL_INTERVAL);
    let poll_after = config.required(keys::POLL_AFTER);
    let seen_log = log.clone();
    let refusals = crate::pipeline::poller::RefusalTally::default();
    let watch = Watch::start(
        &database,
        Poller {
            runners: runners.clone(),
            intake: pipeline.intake(),
            concurrency: 8,
        },
        Plan {
            pace: Pace {
                interval,
                max: Duration::from_secs(3600),
                // An overdue callback is asked about at a slower pace.
                trust_callbacks: Some((poll_after, (poll_after / 6).max(interval))),
            },
            only: None,
            listener: Some(addr.to_string()),
            trust_while_listening: None,
            refusals: Some(refusals.clone()),
        },
        move |seen| match seen {
            Seen::Note(note) => seen_log.info(&note),
            Seen::Finished(id) => seen_log.info(&format!(
                "job {id}: its callback did not come; polling found it finished"
            )),
        },
        log.clone(),
    )?;
    // The jobs --exit-when-done reports on: those waiting now, and those
    // scheduled while it runs.
    let (waiting_at_start, last_at_start) = {
        let store = crate::store::Store::open_existing(&database)?;
        let all = store.read().list(&crate::store::JobFilter::default())?;
        let last = all.first().map(|j| j.id).unwrap_or(0);
        let waiting: Vec<i64> = all
            .iter()
            .filter(|j| matches!(j.state, JobState::Submitted | JobState::Received))
            .map(|j| j.id)
            .collect();
        (waiting, last)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", &e))?;

    let ops = crate::listen::ops::Ops::open(
        &database,
        config.required(keys::READY_MAX_BACKLOG),
        config.required(keys::READY_MAX_OVERDUE),
        poll_after,
    )?;
    let buffered_kib = config.required(keys::MAX_BUFFERED) / 1024;
    let shared = Arc::new(Shared {
        runners: std::sync::RwLock::new(runners),
        verify,
        max_body: config.required(keys::MAX_BODY),
        body_timeout: BODY_TIMEOUT,
        intake: pipeline.intake(),
        log: log.clone(),
        reports: std::sync::RwLock::new(reports(&config, sources)),
        buffered: Arc::new(tokio::sync::Semaphore::new(
            usize::try_from(buffered_kib)
                .unwrap_or(usize::MAX)
                .min(tokio::sync::Semaphore::MAX_PERMITS),
        )),
        ops: Some(Arc::new(ops)),
        requests: std::sync::atomic::AtomicU64::new(0),
        refusals,
    });
    let limits = Limits {
        connections: config.required(keys::MAX_CONNECTIONS) as usize,
        per_client: config.required(keys::MAX_CONNECTIONS_PER_CLIENT) as usize,
        header_timeout: config.required(keys::HEADER_TIMEOUT),
    };
    // Scripts and tests read the address from the first line of stdout.
    println!("listening on http://{addr}");
    if let Some((_, ops_addr)) = &ops_listener {
        println!("operations on http://{ops_addr}");
    }
    let _ = std::io::stdout().flush();
    if verify {
        log.info(&format!(
            "verifying callbacks; writing KCIDB documents to {}; database {}",
            output_dir.display(),
            database.display()
        ));
    } else {
        log.warn("--insecure-skip-verify: callback signatures are NOT checked; never use this where the listener can be reached by others");
    }

    let mut idle = pipeline.idle();
    let exit_when_done = args.exit_when_done;
    let timeout = args.timeout;
    let timed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let timed_out_flag = timed_out.clone();
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let ops_listener = match ops_listener {
            Some((l, _)) => Some(tokio::net::TcpListener::from_std(l)?),
            None => None,
        };
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let done = async move {
            if !exit_when_done {
                return std::future::pending::<()>().await;
            }
            let expiry = async move {
                match timeout {
                    Some(t) => tokio::time::sleep(t).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                Ok(_) = idle.wait_for(|idle| *idle) => {}
                () = expiry => timed_out_flag.store(true, std::sync::atomic::Ordering::Relaxed),
            }
        };
        let stop_log = log.clone();
        let reload_shared = shared.clone();
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
                    _ = hangup.recv() => reload(ctx, verify, &reload_shared, &stop_log),
                }
            }
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        };
        let (stop_ops, ops_stopped) = tokio::sync::watch::channel(false);
        let ops_task = ops_listener.map(|l| {
            let mut stopped = ops_stopped.clone();
            tokio::spawn(crate::listen::serve(
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
        // Bound and with the store open: systemd may send traffic now.
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
        crate::listen::serve(listener, shutdown, shared.clone(), limits, Routes::All).await;
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
    watch.stop();
    if let Some(s) = submitter {
        s.stop();
    }
    pipeline.stop();
    served.map_err(|e| Error::io(format!("serving on {addr}"), &e))?;
    if !exit_when_done {
        return Ok(exit::SUCCESS);
    }
    // The same summary and exit status as `kbridge wait`.
    let store = crate::store::Store::open_existing(&database)?;
    let mut outcomes = Vec::new();
    for job in store.read().list(&crate::store::JobFilter::default())? {
        if waiting_at_start.contains(&job.id) || job.id > last_at_start {
            let doc = store.read().document(job.id)?.map(|d| d.document);
            outcomes.push(JobOutcome::of(job.redacted(), doc.as_deref()));
        }
    }
    outcomes.reverse();
    let summary = Summary {
        outcomes,
        timed_out: timed_out.load(std::sync::atomic::Ordering::Relaxed),
        interrupted: false,
    };
    super::print(&summary.human())?;
    Ok(summary.exit_status(false))
}

/// The listening socket: the one systemd passed (socket activation), else
/// `bind`.
fn bind_listener(
    config: &crate::config::Config,
) -> Result<(std::net::TcpListener, std::net::SocketAddr), Error> {
    if let Some(l) = activated_socket() {
        let addr = l
            .set_nonblocking(true)
            .and_then(|()| l.local_addr())
            .map_err(|e| Error::io("cannot use the socket systemd passed", &e))?;
        return Ok((l, addr));
    }
    let bind = config.get(keys::BIND).expect("bind has a default").value;
    bind_addr(&bind, "--bind")
}

fn bind_addr(
    bind: &str,
    flag: &str,
) -> Result<(std::net::TcpListener, std::net::SocketAddr), Error> {
    let l = std::net::TcpListener::bind(bind).map_err(|e| {
        Error::Failed(format!(
            "cannot listen on {bind}: {e}; choose another address with {flag}"
        ))
    })?;
    let addr = l
        .set_nonblocking(true)
        .and_then(|()| l.local_addr())
        .map_err(|e| Error::io(format!("cannot listen on {bind}"), &e))?;
    Ok((l, addr))
}

/// The first socket systemd passed, if it passed one for us.
fn activated_socket() -> Option<std::net::TcpListener> {
    use std::os::fd::FromRawFd;
    let fd = sd_notify::listen_fds().ok()?.next()?;
    // SAFETY: systemd hands the process this descriptor (LISTEN_FDS, for
    // our PID) to own; nothing else in kbridge uses it.
    Some(unsafe { std::net::TcpListener::from_raw_fd(fd) })
}

/// Who may send `POST /results`, if anyone.
fn reports(
    config: &crate::config::Config,
    sources: crate::report::Sources,
) -> Option<Arc<crate::listen::handler::Reports>> {
    (!sources.is_empty()).then(|| {
        Arc::new(crate::listen::handler::Reports {
            sources,
            origin: config.origin(),
        })
    })
}

/// SIGHUP: reads the configuration again and swaps in the runners (their
/// keys, hosts and tokens) and the report sources, without touching the
/// connections. What cannot change without a restart (addresses, limits)
/// keeps its value. A configuration that does not load changes nothing.
fn reload(ctx: &Context, verify: bool, shared: &Shared, log: &Log) {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Reloading]);
    let reloaded = ctx.load().and_then(|config| {
        let runners = open_configured(&config, Purpose::Listen { verify }, log)?;
        let sources = crate::report::Sources::load(config.section("report"))?;
        Ok((runners, reports(&config, sources)))
    });
    match reloaded {
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
