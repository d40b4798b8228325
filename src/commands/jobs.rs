//! `kbridge jobs` and `kbridge show`: what the store knows.

use crate::cli::{JobsArgs, KindArg, ShowArgs};
use crate::commands::{json, open_store, print};
use crate::config::Config;
use crate::error::Error;
use crate::model::{Job, JobKind, JobState};
use crate::store::JobFilter;

pub fn list(args: JobsArgs, config: &Config) -> Result<(), Error> {
    let state = args
        .state
        .as_deref()
        .map(|s| {
            JobState::parse(s).ok_or_else(|| {
                let known: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
                Error::Usage(format!(
                    "unknown state '{s}'; use one of: {}",
                    known.join(", ")
                ))
            })
        })
        .transpose()?;
    let kind = args.kind.map(|k| match k {
        KindArg::Build => JobKind::Build,
        KindArg::Test => JobKind::Test,
        KindArg::Boot => JobKind::Boot,
    });
    let store = open_store(config)?;
    let jobs = store.list(&JobFilter {
        kind,
        state,
        limit: args.limit,
    })?;
    if args.json {
        let shown: Vec<Job> = jobs.into_iter().map(Job::redacted).collect();
        return print(&json(&shown));
    }
    if jobs.is_empty() {
        return print("no jobs");
    }
    print(&jobs_table(&jobs))
}

pub fn show(args: ShowArgs, config: &Config) -> Result<(), Error> {
    let store = open_store(config)?;
    let job = store.find(&args.job)?.ok_or_else(|| {
        Error::Failed(format!(
            "no job '{}' in {}; `kbridge jobs` lists them",
            args.job,
            store.path().display()
        ))
    })?;
    let job = job.redacted();
    if args.json {
        return print(&json(&job));
    }
    print(&details(&job))
}

fn jobs_table(jobs: &[Job]) -> String {
    let header = [
        "ID",
        "KIND",
        "RUNNER",
        "UID",
        "STATE",
        "SCHEDULED",
        "SUMMARY",
    ];
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.id.to_string(),
                j.kind.to_string(),
                j.runner.clone(),
                j.uid.clone().unwrap_or_else(|| "-".into()),
                j.state.to_string(),
                j.scheduled_at.clone(),
                j.summary.clone(),
            ]
        })
        .collect();
    super::table(&header, &rows)
}

fn details(job: &Job) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let pretty = |v: &serde_json::Value| {
        serde_json::to_string_pretty(v)
            .unwrap_or_default()
            .replace('\n', "\n  ")
    };
    let mut fields = vec![
        ("id", job.id.to_string()),
        ("runner", job.runner.clone()),
        ("kind", job.kind.to_string()),
        ("uid", opt(&job.uid)),
        ("state", job.state.to_string()),
        ("detail", opt(&job.detail)),
        ("summary", job.summary.clone()),
        ("build_id", opt(&job.build_id)),
        ("collection", opt(&job.collection)),
        ("tests", job.tests.join(", ")),
        ("device", opt(&job.device)),
        ("callback_url", opt(&job.callback_url)),
        (
            "callback_token",
            if job.callback_token.is_some() {
                "(set)".into()
            } else {
                "-".into()
            },
        ),
        ("scheduled_at", job.scheduled_at.clone()),
        ("updated_at", job.updated_at.clone()),
        ("request", pretty(&job.request)),
    ];
    fields.push((
        "response",
        job.response
            .as_ref()
            .map(pretty)
            .unwrap_or_else(|| "-".into()),
    ));
    fields
        .iter()
        .map(|(k, v)| format!("{k:<15} {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}
