//! `kbridge jobs`, `kbridge show` and `kbridge plans`: what the store
//! knows.

use crate::cli::{JobsArgs, PlansArgs, ShowArgs};
use crate::commands::{json, json_list, open_existing, print};
use crate::config::Config;
use crate::error::Error;
use crate::model::Job;
use crate::store::JobFilter;

pub fn list(args: JobsArgs, config: &Config) -> Result<(), Error> {
    let (state, kind) = (args.state, args.kind);
    let store = open_existing(config)?;
    let plan = args
        .plan
        .as_deref()
        .map(|key| plan_uid(&store, key))
        .transpose()?;
    let jobs = store.read().list(&JobFilter {
        kind,
        state,
        limit: args.limit,
        plan,
    })?;
    // On stderr, so the listing itself stays as scripts read it.
    for r in super::wait::refused_lately(&store) {
        eprintln!("warning: {}", crate::secrets::redact(&r.line()));
    }
    if args.json {
        let shown: Vec<Job> = jobs.into_iter().map(Job::redacted).collect();
        return print(&json_list(&shown));
    }
    if jobs.is_empty() {
        return print("no jobs");
    }
    print(&jobs_table(&jobs))
}

pub fn plans(args: PlansArgs, config: &Config) -> Result<(), Error> {
    let store = open_existing(config)?;
    let plans = store.read().plans(args.limit)?;
    if args.json {
        return print(&json_list(&plans));
    }
    if plans.is_empty() {
        return print("no plans");
    }
    let header = [
        "ID", "RUNNER", "UID", "NAME", "STATE", "JOBS", "CREATED", "FINISHED", "RESULTS",
    ];
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = plans
        .iter()
        .map(|p| {
            vec![
                p.id.to_string(),
                p.runner.clone(),
                dash(&p.uid),
                dash(&p.name),
                if p.canceled_at.is_some() && p.finished_at.is_none() {
                    format!("{} (cancel asked)", p.state)
                } else {
                    p.state.to_string()
                },
                format!("{}/{} done", p.jobs_done, p.jobs),
                p.created_at.clone(),
                dash(&p.finished_at),
                match (&p.report, &p.detail) {
                    (Some(r), _) => crate::model::plan_results(r),
                    (None, Some(d)) => d.clone(),
                    (None, None) => "-".into(),
                },
            ]
        })
        .collect();
    print(&super::table(&header, &rows))
}

pub fn show(args: ShowArgs, config: &Config) -> Result<(), Error> {
    let store = open_existing(config)?;
    let job = find_job(&store, &args.job)?.redacted();
    if args.json {
        return print(&json(&job));
    }
    print(&details(&job))
}

/// The runner uid of the plan `key` names: a uid, or kbridge's plan id
/// from `kbridge plans`. A key no plan record has is taken as a uid (plans
/// of earlier versions are known from their jobs only).
pub fn plan_uid(store: &crate::store::Store, key: &str) -> Result<String, Error> {
    Ok(store
        .read()
        .find_plan(key)?
        .and_then(|p| p.uid)
        .unwrap_or_else(|| key.to_string()))
}

/// A job by kbridge's id or the runner's uid, or a message saying how to
/// find one.
pub fn find_job(store: &crate::store::Store, key: &str) -> Result<Job, Error> {
    store.read().find(key)?.ok_or_else(|| {
        Error::NotFound(format!(
            "no job '{key}' in {}; `kbridge jobs` lists them",
            store.location()
        ))
    })
}

fn jobs_table(jobs: &[Job]) -> String {
    let header = [
        "ID",
        "KIND",
        "RUNNER",
        "UID",
        "STATE",
        "RESULT",
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
                result_word(j),
                j.scheduled_at.clone(),
                match (&j.actual_device, &j.device) {
                    (Some(on), Some(d)) if on != d => format!("{} (ran on {on})", j.summary),
                    _ => j.summary.clone(),
                },
            ]
        })
        .collect();
    super::table(&header, &rows)
}

/// A job's verdict for people: pass, fail, error, miss, ... from its
/// results (the worst of several tests), `-` while there are none.
fn result_word(job: &Job) -> String {
    job.result
        .map(|r| r.as_str().to_ascii_lowercase())
        .unwrap_or_else(|| "-".into())
}

fn details(job: &Job) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let pretty = |v: &serde_json::Value| {
        serde_json::to_string_pretty(v)
            .unwrap_or_default()
            .replace('\n', "\n  ")
    };
    let fields = [
        ("id", job.id.to_string()),
        ("runner", job.runner.clone()),
        ("kind", job.kind.to_string()),
        ("uid", opt(&job.uid)),
        ("state", job.state.to_string()),
        ("result", result_word(job)),
        ("detail", opt(&job.detail)),
        ("summary", job.summary.clone()),
        ("build_id", opt(&job.build_id)),
        ("collection", opt(&job.collection)),
        ("tests", job.tests.join(", ")),
        (
            "device",
            match (&job.device, &job.actual_device) {
                (Some(d), Some(on)) if d != on => format!("{d} (ran on {on})"),
                _ => opt(&job.device),
            },
        ),
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
        // What the runner last said (its callback or a poll) comes before
        // the answer to the submission, which is stale once the job ran.
        (
            "runner_status",
            match (&job.status, &job.status_at) {
                (Some(s), Some(at)) => format!("(as of {at}) {}", pretty(s)),
                (Some(s), None) => pretty(s),
                (None, _) => "- (nothing from the runner since it accepted the job)".into(),
            },
        ),
        ("request", pretty(&job.request)),
    ];
    let mut lines: Vec<String> = fields.iter().map(|(k, v)| format!("{k:<15} {v}")).collect();
    lines.push(format!(
        "{:<15} {}",
        "response",
        match &job.response {
            Some(r) => format!(
                "(the runner's answer at submission, {}; runner_status says where the job is now) {}",
                job.scheduled_at,
                pretty(r)
            ),
            None => "-".into(),
        }
    ));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use crate::model::JobState;

    #[test]
    fn the_readme_lists_every_state_as_jobs_help_does() {
        let readme = include_str!("../../README.md");
        for s in JobState::ALL {
            let row = format!("| `{}` | {} |", s.as_str(), s.meaning());
            assert!(readme.contains(&row), "README lacks: {row}");
        }
    }
}
