//! `kbridge listen`: resolves the settings into the service's options,
//! runs the service, and turns how it ended into output and an exit
//! status.

use std::sync::Arc;

use crate::cli::ListenArgs;
use crate::commands::{open_configured, pipeline_settings, Context, Setup};
use crate::config::keys;
use crate::error::{exit, Error};
use crate::listen::handler::Reports;
use crate::listen::service::{self, Options, Service};
use crate::listen::Limits;
use crate::log::Log;
use crate::outcome::{JobOutcome, Summary};
use crate::runner::Purpose;

/// Fetching artefacts is I/O-bound: more workers than cores.
const WORKERS: usize = 8;

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
    // Said once the service has bound and opened the store: a listener
    // that cannot start says only why.
    let (deliver, delivery_notes) = delivery(&config)?;
    let sources = crate::report::Sources::load(config.section("report"))?;
    let reload_ctx = ctx.reloader();
    let options = Options {
        log: log.clone(),
        runners,
        verify,
        database: config.database()?,
        pipeline: settings,
        deliver,
        poll_interval: config.required(keys::POLL_INTERVAL),
        poll_after: config.required(keys::POLL_AFTER),
        health: crate::pipeline::Limits {
            max_backlog: config.required(keys::READY_MAX_BACKLOG),
            max_overdue: config.required(keys::READY_MAX_OVERDUE),
            poll_after: config.required(keys::POLL_AFTER),
        },
        bind: config.required(keys::BIND),
        ops_bind: config.value(keys::OPS_BIND),
        limits: Limits {
            connections: config.required(keys::MAX_CONNECTIONS) as usize,
            per_client: config.required(keys::MAX_CONNECTIONS_PER_CLIENT) as usize,
            header_timeout: config.required(keys::HEADER_TIMEOUT),
        },
        max_body: config.required(keys::MAX_BODY),
        max_buffered: config.required(keys::MAX_BUFFERED),
        reports: reports(&config, sources),
        exit_when_done: args.exit_when_done.then_some(args.timeout),
        reload: Box::new(move || {
            let config = reload_ctx.load().map_err(|e| e.to_string())?;
            let log = Log::stderr_as(format);
            let runners = open_configured(&config, Purpose::Listen { verify }, &log)
                .map_err(|e| e.to_string())?;
            let sources = crate::report::Sources::load(config.section("report"))
                .map_err(|e| e.to_string())?;
            Ok((runners, reports(&config, sources)))
        }),
    };
    let service = Service::new(options)?;
    for (warn, note) in delivery_notes {
        if warn {
            log.warn(&note);
        } else {
            log.info(&note);
        }
    }
    service::announce(&service);
    let served = service.run()?;
    if !args.exit_when_done {
        return Ok(exit::SUCCESS);
    }
    // The same summary and exit status as `kbridge wait`.
    let summary = Summary {
        outcomes: served
            .reported
            .into_iter()
            .map(|(job, doc)| JobOutcome::of(job, doc.as_deref()))
            .collect(),
        timed_out: served.timed_out,
        interrupted: false,
    };
    super::print(&summary.human())?;
    Ok(summary.exit_status(false))
}

/// A line for the log, and whether it is a warning.
type Note = (bool, String);

/// Delivery to KCIDB, when an endpoint is configured and `--no-submit` is
/// not given, and what to tell the log about it.
fn delivery(
    config: &Setup,
) -> Result<(Option<crate::pipeline::deliver::Delivery>, Vec<Note>), Error> {
    let submit = config.value(keys::KCIDB_SUBMIT).unwrap_or(true);
    Ok(match super::endpoint::resolve(config)? {
        Some(endpoint) if submit => {
            let mut notes = Vec::new();
            if let Some(w) = endpoint.origin_warning(&config.origin()) {
                notes.push((true, w));
            }
            notes.push((
                false,
                format!(
                    "submitting KCIDB documents to {} (token from {})",
                    crate::http::redact_url(&endpoint.url),
                    endpoint.token_source
                ),
            ));
            (Some(super::outbox::delivery(config, endpoint)), notes)
        }
        Some(_) => (
            None,
            vec![(
                false,
                "not submitting to KCIDB (--no-submit): documents are kept for `kbridge submit`"
                    .into(),
            )],
        ),
        None => (
            None,
            vec![(
                false,
                "no KCIDB URL is configured: documents are kept for `kbridge submit`".into(),
            )],
        ),
    })
}

/// Who may send `POST /results`, if anyone.
fn reports(config: &Setup, sources: crate::report::Sources) -> Option<Arc<Reports>> {
    (!sources.is_empty()).then(|| {
        Arc::new(Reports {
            sources,
            origin: config.origin(),
        })
    })
}
