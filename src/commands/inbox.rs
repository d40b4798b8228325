//! `kbridge inbox`, `kbridge inbox replay` and `kbridge results`: what the
//! listener received and made.

use crate::cli::{InboxAction, InboxArgs, ResultsArgs};
use crate::commands::{json, open_runners, open_store, print};
use crate::config::Config;
use crate::error::Error;
use crate::listen::inbox::{
    accept, admit, record_finish, work_from_entry, Admission, Finish, WriterConfig,
};
use crate::listen::process::Processor;
use crate::model::{InboxEntry, Job};
use crate::store::Store;

pub fn run(args: InboxArgs, config: &Config) -> Result<(), Error> {
    if let Some(InboxAction::Replay(r)) = args.action {
        return replay(r.id, config);
    }
    let store = open_store(config)?;
    let entries = store.inbox(args.limit)?;
    if args.json {
        return print(&json(&entries));
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

/// Processes a stored callback again, here and now, from its stored bytes.
fn replay(id: i64, config: &Config) -> Result<(), Error> {
    // The bytes were verified when they arrived; the store is trusted.
    let runners = open_runners(config, false)?;
    let mut store = open_store(config)?;
    let entry = store
        .inbox_entry(id)?
        .ok_or_else(|| Error::Failed(format!("no callback {id}; `kbridge inbox` lists them")))?;
    let (Some(body), Some(verified_as)) = (&entry.body, &entry.verified_as) else {
        return Err(Error::Failed(format!(
            "callback {id} was rejected ({}): its body was not kept, so there is nothing to replay",
            entry.reason.as_deref().unwrap_or("signature did not hold")
        )));
    };
    let runner = runners.get(entry.runner.as_str()).ok_or_else(|| {
        Error::Failed(format!(
            "callback {id} is for unknown runner '{}'",
            entry.runner
        ))
    })?;
    let uid = runner
        .parse_callback(entry.kind, body, verified_as)
        .map_err(|e| Error::Failed(format!("callback {id} cannot be read: {e}")))?
        .uid;

    let cfg = WriterConfig {
        origin: config.origin.value.clone(),
        retry_delay: config.retry_delay.value,
        retry_for: config.fetch_retry_for.value,
        when_done: None,
    };
    let batch = store.batch()?;
    let job: Job = match admit(
        &batch,
        &entry.runner,
        entry.kind,
        &uid,
        entry.token.as_deref(),
    )? {
        Admission::Matched(job) | Admission::Duplicate(job) => job,
        Admission::Unmatched => {
            return Err(Error::Failed(format!(
                "callback {id} (uid {uid}) matches no job kbridge scheduled"
            )))
        }
        Admission::Rejected(why) | Admission::Invalid(why) => {
            return Err(Error::Failed(format!(
                "callback {id} cannot be processed: {why}"
            )))
        }
    };
    batch.requeue(id)?;
    accept(&batch, id, &job, &uid)?;
    let work = work_from_entry(&batch, &cfg.origin, entry, job)?;
    batch.commit()?;

    let processor = Processor {
        runners,
        origin: cfg.origin.clone(),
        output_dir: config.output_dir.value.clone(),
    };
    let finish = processor.process(&work);
    let batch = store.batch()?;
    let line = record_finish(&batch, id, work.job.id, &finish, &cfg)?;
    batch.commit()?;
    match finish {
        Finish::Completed { .. } => print(&format!("callback {id}: {line}")),
        _ => Err(Error::Failed(format!("callback {id}: {line}"))),
    }
}

/// `kbridge results JOB`.
pub fn results(args: ResultsArgs, config: &Config) -> Result<(), Error> {
    let store = open_store(config)?;
    let job = find_job(&store, &args.job)?;
    let doc = store.document(job.id)?.ok_or_else(|| {
        Error::Failed(format!(
            "job {} has no KCIDB document yet (it is '{}'{}); `kbridge listen` makes one when the runner reports back",
            job.id,
            job.state,
            job.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
        ))
    })?;
    if args.json {
        return print(doc.document.trim_end());
    }
    let value: serde_json::Value = serde_json::from_str(&doc.document).unwrap_or_default();
    let mut lines = vec![format!(
        "job {} ({} {} {}): {} at {}{}",
        job.id,
        job.runner,
        job.kind,
        job.uid.as_deref().unwrap_or("-"),
        job.state,
        doc.created_at,
        doc.path.map(|p| format!(", {p}")).unwrap_or_default()
    )];
    for b in value["builds"].as_array().into_iter().flatten() {
        lines.push(format!(
            "{:<5}  build {}  {} {} {}",
            b["status"].as_str().unwrap_or("-"),
            b["id"].as_str().unwrap_or("-"),
            b["architecture"].as_str().unwrap_or("-"),
            b["compiler"].as_str().unwrap_or("-"),
            b["config_name"].as_str().unwrap_or("-"),
        ));
    }
    for t in value["tests"].as_array().into_iter().flatten() {
        lines.push(format!(
            "{:<5}  {}",
            t["status"].as_str().unwrap_or("-"),
            t["path"].as_str().unwrap_or("-")
        ));
    }
    print(&lines.join("\n"))
}

fn find_job(store: &Store, key: &str) -> Result<Job, Error> {
    store.find(key)?.ok_or_else(|| {
        Error::Failed(format!(
            "no job '{key}' in {}; `kbridge jobs` lists them",
            store.path().display()
        ))
    })
}
