//! `kbridge results JOB`: the KCIDB document made for a job.

use crate::cli::ResultsArgs;
use crate::commands::jobs::find_job;
use crate::commands::{open_existing, print};
use crate::config::Config;
use crate::error::{exit, Error};
use crate::model::{Job, JobState};
use crate::outcome::{JobOutcome, Summary};
use crate::store::StoreError;

/// Why a job has no document, and what to do: some never will have one.
fn no_document(job: &Job) -> String {
    let detail = job
        .detail
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    let id = job.id;
    match job.state {
        JobState::Failed => format!(
            "job {id} will never have a KCIDB document: its submission failed{detail}, so it does not exist on {}; fix the cause and schedule it again",
            job.runner
        ),
        JobState::Unknown | JobState::Submitting if job.uid.is_none() => format!(
            "job {id} has no KCIDB document, and kbridge cannot get one: the submission may have reached {} but no id came back{detail}; look for it there, and schedule it again if it is not",
            job.runner
        ),
        _ => {
            let how = match &job.callback_url {
                Some(url) => format!("`kbridge listen` receives its callback at {url}, or `kbridge wait {id}` polls the runner"),
                None => format!("it was scheduled without a callback URL, so nothing reports back: `kbridge wait {id}` polls the runner for it"),
            };
            format!(
                "job {id} has no KCIDB document yet (it is '{}'{detail}); {how}",
                job.state
            )
        }
    }
}

/// Prints a job's document and exits as `kbridge wait` would for it alone:
/// 0 pass, 1 FAIL, 3 an infrastructure problem or no results yet.
pub fn run(args: ResultsArgs, config: &Config) -> Result<u8, Error> {
    document(args, config).map_err(|e| e.in_verdict_command(false))
}

fn document(args: ResultsArgs, config: &Config) -> Result<u8, Error> {
    let store = open_existing(config)?;
    let job = find_job(&store, &args.job)?;
    let Some(doc) = store.read().document(job.id)? else {
        eprintln!("error: {}", no_document(&job));
        return Ok(exit::INFRA);
    };
    let read = crate::kcidb::model::read(&doc.document).map_err(|e| StoreError::Corrupt {
        at: store.location().clone(),
        what: format!("document of job {}", job.id),
        message: e.to_string(),
    })?;
    let status = Summary {
        outcomes: vec![JobOutcome::of(job.clone(), Some(&doc.document))],
        ..Summary::default()
    }
    .exit_status(false);
    if args.json {
        return print(doc.document.trim_end()).map(|()| status);
    }
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
    for b in &read.builds {
        lines.push(format!(
            "{:<5}  build {}  {}",
            b.status.map_or("-", |s| s.as_str()),
            b.id,
            crate::outcome::build_words(b),
        ));
    }
    for t in &read.tests {
        lines.push(format!("{:<5}  {}", t.status.as_str(), t.path));
    }
    print(&lines.join("\n")).map(|()| status)
}
