//! `kbridge artefacts JOB [--download DIR] [--json]`: what a job produced,
//! listed (files kbridge will not fetch named as such), or fetched into
//! `DIR/<uid>/` within the download caps. Anything not fetched, and a
//! listing the runner's storage made too long to read whole, is named on
//! stderr and makes the exit status 1.

use crate::cli::ArtefactsArgs;
use crate::commands::jobs::find_job;
use crate::commands::Setup;
use crate::commands::{json, open_existing, print};
use crate::config::keys;
use crate::download::{self, Fetched};
use crate::error::Error;

pub fn run(args: ArtefactsArgs, config: &Setup) -> Result<(), Error> {
    let store = open_existing(config)?;
    let job = find_job(&store, &args.job)?;
    drop(store);
    let opened = super::job_runner(config, &job)?;
    let runner = opened.artefacts().ok_or_else(|| {
        Error::Failed(format!(
            "artefacts of job {}: {}",
            job.id,
            crate::runner::lacking(&job.runner, "does not list its artefacts to kbridge")
        ))
    })?;
    let listing = runner
        .list(&job)
        .map_err(|e| Error::Failed(format!("artefacts of job {}: {e}", job.id)))?;
    let say = |line: &str| eprintln!("kbridge: {}", crate::secrets::redact(line));
    if let Some(cut) = &listing.cut {
        say(&format!(
            "the listing of job {} is incomplete: {cut}",
            job.id
        ));
    }
    let mut problems = usize::from(listing.cut.is_some());
    let Some(dir) = &args.download else {
        let refused = listing.files.iter().filter(|f| f.refused.is_some()).count();
        if args.json {
            print(&json(&serde_json::json!({
                "job": job.id,
                "files": listing.files,
                "cut": listing.cut,
            })))?;
        } else {
            let lines: Vec<String> = listing
                .files
                .iter()
                .map(|f| match &f.refused {
                    Some(why) => format!("{}  (not fetched: {why})", f.name),
                    None => f.name.clone(),
                })
                .collect();
            if !lines.is_empty() {
                print(&lines.join("\n"))?;
            }
        }
        if refused > 0 {
            say(&format!(
                "{refused} of the {} files listed will not be fetched; each says why",
                listing.files.len()
            ));
        }
        return incomplete(&job, problems, listing.files.len());
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), &e))?;
    let caps = download::Caps {
        per_file: config.required(keys::DOWNLOAD_MAX_FILE),
        per_job: config.required(keys::DOWNLOAD_MAX_JOB),
    };
    let fetched =
        download::fetch_all(
            runner,
            &job,
            &listing.files,
            dir,
            caps,
            |file, outcome| match outcome {
                Fetched::Written { path, .. } if !args.json => {
                    let _ = print(&path.display().to_string());
                }
                Fetched::Skipped { why } => say(&format!("not fetched: {}: {why}", file.name)),
                Fetched::Written { .. } => {}
            },
        );
    problems += fetched
        .iter()
        .filter(|f| matches!(f, Fetched::Skipped { .. }))
        .count();
    if args.json {
        let files: Vec<serde_json::Value> = listing
            .files
            .iter()
            .zip(&fetched)
            .map(|(file, outcome)| {
                let mut v = serde_json::to_value(file).expect("files serialise");
                let o = serde_json::to_value(outcome).expect("outcomes serialise");
                if let (Some(v), Some(o)) = (v.as_object_mut(), o.as_object()) {
                    v.extend(o.clone());
                }
                v
            })
            .collect();
        print(&json(&serde_json::json!({
            "job": job.id,
            "files": files,
            "cut": listing.cut,
        })))?;
    }
    incomplete(&job, problems, listing.files.len())
}

/// Exit status 1 when anything was left out, said in one line.
fn incomplete(job: &crate::model::Job, problems: usize, files: usize) -> Result<(), Error> {
    if problems == 0 {
        return Ok(());
    }
    Err(Error::Failed(format!(
        "artefacts of job {}: {problems} problem(s) among {files} file(s), each named above",
        job.id
    )))
}
