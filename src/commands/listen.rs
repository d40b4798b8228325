//! `kbridge listen`: wires the settings, the runners, the pipeline and the
//! HTTP server together, and stops them in order.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::ListenArgs;
use crate::commands::{open_configured, pipeline_settings, Context};
use crate::config::keys;
use crate::error::{exit, Error};
use crate::listen::handler::Shared;
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

pub fn run(args: ListenArgs, ctx: &Context) -> Result<u8, Error> {
    let config = ctx.load()?;
    let log = Log::stderr();
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

    let bind = config.text(keys::BIND).expect("bind has a default").value;
    let std_listener = std::net::TcpListener::bind(&bind).map_err(|e| {
        Error::Failed(format!(
            "cannot listen on {bind}: {e}; choose another address with --bind"
        ))
    })?;
    let addr = std_listener
        .set_nonblocking(true)
        .and_then(|()| std_listener.local_addr())
        .map_err(|e| Error::io(format!("cannot listen on {bind}"), &e))?;
    let database = config.database();
    let endpoint = crate::kcidb::client::Endpoint::resolve(&config)?;
    let sources = crate::report::Sources::load(&config)?;
    let pipeline = Pipeline::start(&database, runners.clone(), settings, log.clone())?;
    let submit = config
        .bool(keys::KCIDB_SUBMIT)
        .map(|s| s.value)
        .unwrap_or(true);
    let submitter = match endpoint {
        Some(endpoint) if submit => {
            log.info(&format!(
                "submitting KCIDB documents to {} (token from {})",
                crate::http::redact_url(&endpoint.url),
                endpoint.token_source
            ));
            Some(crate::kcidb::outbox::Submitter::start(
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
    let interval = config.required_seconds(keys::POLL_INTERVAL);
    let poll_after = config.required_seconds(keys::POLL_AFTER);
    let seen_log = log.clone();
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

    let shared = Arc::new(Shared {
        runners,
        verify,
        max_body: config
            .number(keys::MAX_BODY)
            .expect("max_body has a default")
            .value,
        body_timeout: BODY_TIMEOUT,
        intake: pipeline.intake(),
        log: log.clone(),
        reports: (!sources.is_empty()).then(|| crate::listen::handler::Reports {
            sources,
            origin: config.origin(),
        }),
    });
    // Scripts and tests read the address from the first line of stdout.
    println!("listening on http://{addr}");
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
    let header_timeout = config.required_seconds(keys::HEADER_TIMEOUT);
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
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
        let shutdown = async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => stop_log.info("interrupted; stopping"),
                _ = term.recv() => stop_log.info("terminated; stopping"),
                () = done => stop_log.info("no job is waiting for its results, or the timeout expired; stopping"),
            }
        };
        crate::listen::serve(listener, shutdown, shared, header_timeout).await;
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
