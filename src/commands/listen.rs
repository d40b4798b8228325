//! `kbridge listen`: wires the settings, the store, the runners and the
//! server together, and stops them in order.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::cli::ListenArgs;
use crate::commands::{load, log, open_runners, open_store};
use crate::config::Overrides;
use crate::error::Error;
use crate::listen::handler::Shared;
use crate::listen::inbox::{Msg, Writer, WriterConfig};
use crate::listen::process::{self, Processor};

/// Fetching artefacts is I/O-bound: more workers than cores.
const WORKERS: usize = 8;
/// How long workers get to finish the job in hand after a stop; what they
/// do not finish stays pending in the store and is redone on restart.
const WORKER_GRACE: Duration = Duration::from_secs(5);
/// How often the WAL is copied into the database file, off the writer's
/// path.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// How long a client may take to send a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(args: ListenArgs, mut overrides: Overrides) -> Result<(), Error> {
    overrides.bind = args.bind;
    overrides.output_dir = args.output_dir;
    overrides.max_body = args.max_body;
    overrides.tuxsuite_public_keys = args.tuxsuite_public_keys;
    overrides.artifact_hosts = args.artifact_hosts;
    let config = load(&overrides)?;
    let verify = !args.insecure_skip_verify;
    let runners = open_runners(&config, verify)?;
    let store = open_store(&config)?;
    store.defer_checkpoints()?;
    let checkpoints = open_store(&config)?;
    let output_dir = config.output_dir.value.clone();
    std::fs::create_dir_all(&output_dir).map_err(|source| Error::Io {
        context: format!("cannot create output directory {}", output_dir.display()),
        source,
    })?;

    let bind = &config.bind.value;
    let std_listener = std::net::TcpListener::bind(bind).map_err(|e| {
        Error::Failed(format!(
            "cannot listen on {bind}: {e}; choose another address with --bind"
        ))
    })?;
    let addr = std_listener
        .set_nonblocking(true)
        .and_then(|()| std_listener.local_addr())
        .map_err(|source| Error::Io {
            context: format!("cannot listen on {bind}"),
            source,
        })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            context: "cannot start the async runtime".into(),
            source,
        })?;

    let (writer_tx, writer_rx) = mpsc::channel();
    let (work_tx, work_rx) = mpsc::channel();
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
    let writer = Writer::new(
        store,
        WriterConfig {
            origin: config.origin.value.clone(),
            retry_delay: config.retry_delay.value,
            retry_for: config.fetch_retry_for.value,
            when_done: args.exit_when_done.then_some(done_tx),
        },
        work_tx,
        log,
    );
    let writer_thread = std::thread::Builder::new()
        .name("kbridge-inbox".into())
        .spawn(move || writer.run(writer_rx))
        .map_err(|source| Error::Io {
            context: "cannot start the inbox writer".into(),
            source,
        })?;
    let stop = Arc::new(AtomicBool::new(false));
    let checkpointer = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("kbridge-checkpoint".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    if let Err(e) = checkpoints.checkpoint() {
                        log(&format!("warning: checkpoint failed: {e}"));
                    }
                }
            })
            .map_err(|source| Error::Io {
                context: "cannot start the checkpointer".into(),
                source,
            })?
    };
    let workers = process::spawn(
        WORKERS,
        Arc::new(Processor {
            runners: runners.clone(),
            origin: config.origin.value.clone(),
            output_dir: output_dir.clone(),
        }),
        work_rx,
        writer_tx.clone(),
        stop.clone(),
    );

    let shared = Arc::new(Shared {
        runners,
        verify,
        max_body: config.max_body.value,
        body_timeout: BODY_TIMEOUT,
        writer: writer_tx.clone(),
        log,
    });
    // Scripts and tests read the address from the first line of stdout.
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    if verify {
        log(&format!(
            "verifying callbacks; writing KCIDB documents to {}; database {}",
            output_dir.display(),
            config.database.value.display()
        ));
    } else {
        log("warning: --insecure-skip-verify: callback signatures are NOT checked; never use this where the listener can be reached by others");
    }

    let exit_when_done = args.exit_when_done;
    let serve = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let done = async move {
            if exit_when_done && done_rx.wait_for(|done| *done).await.is_ok() {
                return;
            }
            std::future::pending::<()>().await
        };
        let shutdown = async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => log("interrupted; stopping"),
                _ = term.recv() => log("terminated; stopping"),
                () = done => log("no job is waiting for a callback; stopping"),
            }
        };
        crate::listen::serve(listener, shutdown, shared, config.header_timeout.value).await;
        Ok::<(), std::io::Error>(())
    });
    runtime.shutdown_timeout(Duration::from_secs(1));

    stop.store(true, Ordering::Relaxed);
    let deadline = Instant::now() + WORKER_GRACE;
    while workers.iter().any(|w| !w.is_finished()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = writer_tx.send(Msg::Stop);
    let _ = writer_thread.join();
    let _ = checkpointer.join();
    serve.map_err(|source| Error::Io {
        context: format!("serving on {addr}"),
        source,
    })
}
