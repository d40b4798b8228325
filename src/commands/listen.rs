//! `kbridge listen`: wires the settings, the runners, the pipeline and the
//! HTTP server together, and stops them in order.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::ListenArgs;
use crate::commands::{open_configured, pipeline_settings, Context};
use crate::config::keys;
use crate::error::Error;
use crate::listen::handler::Shared;
use crate::log::Log;
use crate::pipeline::Pipeline;
use crate::runner::Purpose;

/// Fetching artefacts is I/O-bound: more workers than cores.
const WORKERS: usize = 8;
/// How long a client may take to send a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(args: ListenArgs, ctx: &Context) -> Result<(), Error> {
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
    let header_timeout = config.required_seconds(keys::HEADER_TIMEOUT);
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let done = async move {
            if exit_when_done && idle.wait_for(|idle| *idle).await.is_ok() {
                return;
            }
            std::future::pending::<()>().await
        };
        let stop_log = log.clone();
        let shutdown = async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => stop_log.info("interrupted; stopping"),
                _ = term.recv() => stop_log.info("terminated; stopping"),
                () = done => stop_log.info("no job is waiting for a callback; stopping"),
            }
        };
        crate::listen::serve(listener, shutdown, shared, header_timeout).await;
        Ok::<(), std::io::Error>(())
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    if let Some(s) = submitter {
        s.stop();
    }
    pipeline.stop();
    served.map_err(|e| Error::io(format!("serving on {addr}"), &e))
}
