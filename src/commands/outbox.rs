//! `kbridge submit` and `kbridge outbox`: delivering KCIDB documents, and
//! what became of them.

use std::time::Duration;

use serde_json::json;

use crate::cli::{OutboxAction, OutboxArgs, SubmitArgs};
use crate::clock::now_ms;
use crate::commands::{json, json_list, open_existing, print, Context};
use crate::config::{keys, Config, ConfigError};
use crate::error::{exit, Error};
use crate::kcidb::client::{Client, Endpoint};
use crate::model::{OutboxEntry, OutboxState};
use crate::pipeline::deliver::{self as outbox, Delivery, Schedule};
use crate::retry::Backoff;
use crate::store::{NewDocument, Queued, Store};

/// How many times `kbridge submit` tries a document before it leaves it
/// pending and says so.
const SUBMIT_TRIES: u32 = 5;

/// The configured endpoint, or the error that says how to set one.
pub fn endpoint(config: &Config) -> Result<Endpoint, Error> {
    super::endpoint::resolve(config)?.ok_or_else(|| {
        Error::Config(ConfigError::Runner(
            "no KCIDB URL is configured: set KCIDB_REST (KCIDB's URL with the token as its user part), or --kcidb-url with --kcidb-token-file, or KBRIDGE_KCIDB_URL with KBRIDGE_KCIDB_TOKEN, or url and token_file under [kcidb]".into(),
        ))
    })
}

/// Delivery with the configured endpoint and limits.
pub fn delivery(config: &Config, endpoint: Endpoint) -> Delivery {
    let timeout = config.required(keys::HTTP_TIMEOUT);
    Delivery {
        client: Client::new(endpoint, timeout),
        max_request: config.required(keys::KCIDB_MAX_REQUEST) as usize,
        backoff: Backoff::new(config.required(keys::RETRY_DELAY), Duration::from_secs(600)),
        retry_for: config.required(keys::KCIDB_RETRY_FOR),
        claim_for: timeout * 2 + Duration::from_secs(30),
        owner: crate::pipeline::claims::owner(),
    }
}

pub fn submit(args: SubmitArgs, ctx: &Context) -> Result<u8, Error> {
    let config = ctx.load()?;
    let endpoint = endpoint(&config)?;
    if let Some(w) = endpoint.origin_warning(&config.origin()) {
        crate::runner::Feedback::warning(&ctx.ui, &w);
    }
    let mut store = match &args.file {
        Some(_) => Store::open(&config.database()?)?,
        None => open_existing(&config)?,
    };
    if let Some(file) = &args.file {
        let id = queue_file(&mut store, file, &config.origin())?;
        ctx.ui
            .note(&format!("{} is queued as outbox {id}", file.display()));
    }
    if args.dry_run {
        return dry_run(&store, &endpoint, &config, args.json).map(|()| exit::SUCCESS);
    }
    let delivery = delivery(&config, endpoint);
    let mut total = outbox::Pass::default();
    for round in 0..SUBMIT_TRIES {
        ctx.ui.start("submitting to KCIDB");
        let pass = delivery.pass(&mut store, Schedule::Now);
        ctx.ui.finish();
        let pass = pass?;
        for line in &pass.lines {
            ctx.ui.note(line);
        }
        total.submitted += pass.submitted;
        total.failed += pass.failed;
        total.requests += pass.requests;
        total.waiting = pass.waiting;
        if pass.stopped.is_some() {
            total.stopped = pass.stopped;
            break;
        }
        if pass.retrying == 0 {
            break;
        }
        if round + 1 < SUBMIT_TRIES {
            std::thread::sleep(delivery.backoff.delay(round));
        }
    }
    let (all_pending, _) = store.read().outbox_backlog()?;
    // What another `kbridge submit` or a listener is sending right now is
    // theirs to report.
    let pending = store.read().outbox_unclaimed(now_ms(), &delivery.owner)?;
    let elsewhere = all_pending - pending;
    let mut summary = format!(
        "submitted {} document(s) to KCIDB in {} request(s); {} failed; {} still pending",
        total.submitted, total.requests, total.failed, pending,
    );
    if total.waiting > 0 {
        summary.push_str(&format!(
            " ({} waiting for their build's document)",
            total.waiting
        ));
    }
    if elsewhere > 0 {
        summary.push_str(&format!("; {elsewhere} being sent by another process"));
    }
    if args.json {
        print(&json(&json!({
            "submitted": total.submitted,
            "failed": total.failed,
            "pending": pending,
            "waiting": total.waiting,
            "requests": total.requests,
            "stopped": total.stopped,
        })))?;
    } else {
        print(&summary)?;
    }
    if let Some(stop) = total.stopped {
        return Err(Error::Failed(format!("{stop}; the documents stay pending")));
    }
    if total.failed > 0 || pending > 0 {
        return Err(Error::Failed(format!(
            "{} document(s) failed and {pending} are still pending; `kbridge outbox` shows why",
            total.failed
        )));
    }
    Ok(exit::SUCCESS)
}

/// Checks a KCIDB document made elsewhere and queues it, once per content.
fn queue_file(store: &mut Store, file: &std::path::Path, origin: &str) -> Result<i64, Error> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::io(format!("cannot read {}", file.display()), &e))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Failed(format!("{} is not JSON: {e}", file.display())))?;
    crate::kcidb::check::check(&value, &crate::kcidb::check::Rules::foreign())
        .map_err(|why| Error::Failed(format!("{} is not sent: {why}", file.display())))?;
    let key = format!("file:{}", crate::kcidb::sha256_hex(&text));
    let (builds, needs) = crate::kcidb::references_of(&value, origin);
    let label = format!("file {}", file.display());
    let batch = store.batch()?;
    let queued = batch.queue_document(
        &NewDocument {
            key: &key,
            job_id: None,
            label: &label,
            document: &text,
            builds: &builds,
            needs_builds: &needs,
        },
        now_ms(),
    )?;
    batch.commit()?;
    Ok(match queued {
        Queued::New(id)
        | Queued::Replaced(id)
        | Queued::Unchanged(id)
        | Queued::ChangedAfterSubmission(id) => id,
    })
}

fn dry_run(
    store: &Store,
    endpoint: &Endpoint,
    config: &Config,
    as_json: bool,
) -> Result<(), Error> {
    let pending = store.read().outbox(Some(OutboxState::Pending))?;
    let max = config.required(keys::KCIDB_MAX_REQUEST) as usize;
    let bytes: usize = pending.iter().map(|e| e.bytes).sum();
    let requests = if pending.is_empty() {
        0
    } else {
        bytes.div_ceil(max).max(1)
    };
    let url = format!("{}/submit", crate::http::redact_url(&endpoint.url));
    if as_json {
        return print(&json(&json!({
            "url": url,
            "token_from": endpoint.token_source,
            "documents": pending,
            "bytes": bytes,
            "requests": requests,
        })));
    }
    let mut lines = vec![format!(
        "would POST {} pending document(s), {bytes} bytes, in about {requests} request(s) to {url} (token from {})",
        pending.len(),
        endpoint.token_source
    )];
    lines.extend(
        pending
            .iter()
            .map(|e| format!("  {:>6}  {:>8} bytes  {}", e.id, e.bytes, e.label)),
    );
    print(&lines.join("\n"))
}

pub fn run(args: OutboxArgs, ctx: &Context) -> Result<u8, Error> {
    let config = ctx.load()?;
    match args.action {
        Some(OutboxAction::Retry(r)) => {
            let mut store = open_existing(&config)?;
            let batch = store.batch()?;
            let n = if r.all_failed {
                batch.retry_failed(None)?
            } else {
                for id in &r.ids {
                    let row = batch.read().outbox(None)?.into_iter().find(|e| e.id == *id);
                    match row {
                        None => {
                            return Err(Error::NotFound(format!(
                                "no outbox document {id}; `kbridge outbox` lists them"
                            )))
                        }
                        Some(e) if e.state != OutboxState::Failed => ctx.ui.note(&format!(
                            "outbox {id} is {}, not failed: left as it is",
                            e.state
                        )),
                        Some(_) => {}
                    }
                }
                batch.retry_failed(Some(&r.ids))?
            };
            batch.commit()?;
            print(&format!("{n} document(s) back in the queue"))?;
            Ok(exit::SUCCESS)
        }
        Some(OutboxAction::Check(c)) => check(&config, c.json),
        None => {
            let store = open_existing(&config)?;
            let state = args.state;
            let entries = store.read().outbox(state)?;
            let (pending, oldest) = store.read().outbox_backlog()?;
            let oldest_age = oldest.map(|ms| ((now_ms() - ms).max(0) / 1000) as u64);
            if args.json {
                print(&json(&json!({
                    "backlog": {"pending": pending, "oldest_pending_seconds": oldest_age},
                    "documents": entries,
                })))?;
                return Ok(exit::SUCCESS);
            }
            let mut text = if entries.is_empty() {
                "no KCIDB documents".to_string()
            } else {
                outbox_table(&entries)
            };
            text.push_str(&format!(
                "\nbacklog: {pending} pending{}",
                oldest_age
                    .map(|a| format!(", the oldest made {} ago", human_age(a)))
                    .unwrap_or_default()
            ));
            print(&text)?;
            Ok(exit::SUCCESS)
        }
    }
}

fn outbox_table(entries: &[OutboxEntry]) -> String {
    let header = [
        "ID",
        "STATE",
        "CREATED",
        "DOCUMENT",
        "TRIES",
        "SUBMISSION",
        "INGEST",
        "NOTE",
    ];
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let note = match (&e.changed, &e.reason) {
                (Some(_), _) => "changed after submission".to_string(),
                (None, Some(r)) => r.clone(),
                (None, None) => String::new(),
            };
            vec![
                e.id.to_string(),
                e.state.to_string(),
                e.created_at.clone(),
                e.label.clone(),
                e.attempts.to_string(),
                e.submission.clone().unwrap_or_else(|| "-".into()),
                e.ingest.clone().unwrap_or_else(|| "-".into()),
                note,
            ]
        })
        .collect();
    super::table(&header, &rows)
}

fn human_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// `kbridge outbox check`: asks KCIDB about every submission whose
/// ingestion may still change.
fn check(config: &Config, as_json: bool) -> Result<u8, Error> {
    let endpoint = endpoint(config)?;
    let mut store = open_existing(config)?;
    let client = Client::new(endpoint, config.required(keys::HTTP_TIMEOUT));
    for s in store.read().unchecked_submissions()? {
        match client.status(&s.server_id) {
            Ok(ingest) => {
                let batch = store.batch()?;
                batch.record_ingest(s.id, &ingest.status, ingest.message.as_deref())?;
                batch.commit()?;
            }
            Err(e @ crate::kcidb::client::SendError::Retry { .. }) => {
                return Err(Error::Failed(format!(
                    "asking KCIDB about {}: {e}; try again later",
                    s.server_id
                )))
            }
            Err(e) => {
                return Err(Error::Failed(format!(
                    "asking KCIDB about {}: {e}",
                    s.server_id
                )))
            }
        }
    }
    let rows = store.read().submissions()?;
    let failed = rows
        .iter()
        .filter(|r| r.ingest.as_deref() == Some("failed"))
        .count();
    if as_json {
        print(&json_list(&rows))?;
    } else if rows.is_empty() {
        print("nothing has been submitted")?;
    } else {
        let header = ["ID", "SUBMISSION", "SENT", "DOCUMENTS", "INGEST", "MESSAGE"];
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.server_id.clone().unwrap_or_default(),
                    r.sent_at.clone(),
                    r.documents.to_string(),
                    r.ingest.clone().unwrap_or_else(|| "-".into()),
                    r.ingest_message.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print(&super::table(&header, &table))?;
    }
    if failed > 0 {
        return Err(Error::Failed(format!(
            "KCIDB failed to ingest {failed} submission(s); their messages say why"
        )));
    }
    Ok(exit::SUCCESS)
}
