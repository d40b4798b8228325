//! `kbridge inbox` and `kbridge inbox replay`: what the listener received,
//! and processing a stored callback again.

use crate::cli::{InboxAction, InboxArgs, PruneArgs};
use crate::commands::Setup;
use crate::commands::{json, json_list, open_configured, open_existing, pipeline_settings, print};
use crate::config::keys;
use crate::error::Error;
use crate::log::Log;
use crate::model::InboxEntry;
use crate::pipeline::Pipeline;
use crate::runner::Purpose;

pub fn run(args: InboxArgs, config: &Setup) -> Result<(), Error> {
    match args.action {
        Some(InboxAction::Replay(r)) => return replay(r.id, config),
        Some(InboxAction::Prune(p)) => return prune(&p, config),
        None => {}
    }
    let store = open_existing(config)?;
    let entries = store.read().inbox(args.limit)?;
    if args.json {
        return print(&json_list(&entries));
    }
    if entries.is_empty() {
        return print("no callbacks received");
    }
    print(&inbox_table(&entries))
}

fn inbox_table(entries: &[InboxEntry]) -> String {
    let header = [
        "ID", "RECEIVED", "RUNNER", "KIND", "STATUS", "VERIFIED", "JOB", "UID", "REASON",
    ];
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.received_at.clone(),
                e.runner.clone(),
                e.kind.to_string(),
                e.status.to_string(),
                e.verified_as.clone().unwrap_or_else(|| "no".into()),
                e.job_id
                    .map(|j| j.to_string())
                    .unwrap_or_else(|| "-".into()),
                e.uid.clone().unwrap_or_else(|| "-".into()),
                e.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    super::table(&header, &rows)
}

/// Processes a stored callback again, here and now, from its stored bytes,
/// through the same pipeline the listener runs (handling only this one).
fn replay(id: i64, config: &Setup) -> Result<(), Error> {
    // The bytes were verified when they arrived; the store is trusted.
    let log = Log::stderr();
    drop(open_existing(config)?);
    let runners = open_configured(config, Purpose::Process, &log)?;
    let mut settings = pipeline_settings(config, 1);
    settings.service = false;
    let pipeline = Pipeline::start(
        &config.database()?,
        runners,
        settings,
        crate::pipeline::Stages::default(),
        log,
    )?;
    let answer = pipeline.intake().replay(id).blocking_recv();
    pipeline.stop();
    match answer {
        Ok(Ok(r)) if r.completed => print(&format!("callback {id}: {}", r.line)),
        Ok(Ok(r)) => Err(Error::Failed(format!("callback {id}: {}", r.line))),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(Error::Failed(format!(
            "callback {id}: processing stopped before it finished"
        ))),
    }
}

/// Removes refused and duplicate rows (received before `--older-than`, if
/// given) and unmatched rows past `unmatched_ttl`, in one transaction.
fn prune(args: &PruneArgs, config: &Setup) -> Result<(), Error> {
    let mut store = open_existing(config)?;
    let ago = crate::store::stamp::Stamp::ago;
    // Everything received up to now, unless told otherwise.
    let before = ago(args.older_than.unwrap_or_default());
    let unmatched_before = ago(config.required(keys::UNMATCHED_TTL));
    let removed = if args.dry_run {
        store.read().prunable(before, unmatched_before)?
    } else {
        let batch = store.batch()?;
        let n = batch.prune(before, unmatched_before)?;
        batch.commit()?;
        n as i64
    };
    if args.json {
        return print(&json(&serde_json::json!({
            "removed": if args.dry_run { 0 } else { removed },
            "would_remove": if args.dry_run { removed } else { 0 },
            "dry_run": args.dry_run,
        })));
    }
    print(&if args.dry_run {
        format!("would remove {removed} callback(s); nothing was removed (--dry-run)")
    } else {
        format!("removed {removed} callback(s)")
    })
}
