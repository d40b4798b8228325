//! `kbridge cancel JOB...`: asks each job's runner to cancel it. A job that
//! has finished, or never reached its runner, is named and left alone.
//! `kbridge cancel --plan PLAN` asks the runner to cancel a whole plan.
//! `--json` says what happened to each.

use crate::commands::Setup;
use serde::Serialize;

use crate::cli::CancelArgs;
use crate::commands::jobs::find_job;
use crate::commands::{json, open_existing, print};
use crate::error::{exit, Error};
use crate::model::{JobState, PlanState};

/// What became of one job.
#[derive(Debug, Serialize)]
struct Outcome {
    job: i64,
    uid: Option<String>,
    runner: String,
    /// `asked`: the runner was asked to cancel it; `left`: nothing to
    /// cancel; `failed`: the runner could not be asked.
    outcome: &'static str,
    detail: String,
}

pub fn run(args: CancelArgs, config: &Setup) -> Result<u8, Error> {
    if let Some(plan) = &args.plan {
        return cancel_plan(plan, args.json, config);
    }
    let store = open_existing(config)?;
    let mut jobs = Vec::new();
    for key in &args.jobs {
        jobs.push(find_job(&store, key)?);
    }
    drop(store);
    let mut outcomes = Vec::new();
    let mut runners: std::collections::BTreeMap<String, Box<dyn crate::runner::Runner>> =
        Default::default();
    for job in jobs {
        let name = format!(
            "job {} ({})",
            job.id,
            job.uid.as_deref().unwrap_or("no uid")
        );
        let outcome = |outcome, detail: String| Outcome {
            job: job.id,
            uid: job.uid.clone(),
            runner: job.runner.clone(),
            outcome,
            detail,
        };
        let leave = match job.state {
            s if s.reported() => Some(format!(
                "{name} has already finished ({s}{}): nothing to cancel",
                job.result
                    .map(|r| format!(", result {}", r.as_str().to_ascii_lowercase()))
                    .unwrap_or_default()
            )),
            JobState::Failed => Some(format!(
                "{name} never reached {}: its submission failed, so there is nothing to cancel",
                job.runner
            )),
            _ if job.uid.is_none() => Some(format!(
                "{name} has no {} id (it is '{}'): cancel it on {} itself if it exists there",
                job.runner, job.state, job.runner
            )),
            _ => None,
        };
        if let Some(why) = leave {
            outcomes.push(outcome("left", why));
            continue;
        }
        // Each runner is opened once, however many of its jobs are named.
        if !runners.contains_key(&job.runner) {
            match super::job_runner(config, &job) {
                Ok(r) => {
                    runners.insert(job.runner.clone(), r);
                }
                Err(e) => {
                    outcomes.push(outcome("failed", format!("cannot cancel {name}: {e}")));
                    continue;
                }
            }
        }
        let asked = runners[&job.runner]
            .cancel()
            .ok_or_else(|| crate::runner::lacking(&job.runner, "cannot cancel jobs from kbridge"))
            .and_then(|c| c.cancel(&job));
        outcomes.push(match asked {
            Ok(()) => outcome(
                "asked",
                format!(
                    "canceling {name} on {}: it ends canceled when {} says so (`kbridge wait {}` follows it)",
                    job.runner, job.runner, job.id
                ),
            ),
            Err(e) => outcome("failed", format!("cannot cancel {name}: {e}")),
        });
    }
    let all_asked = outcomes.iter().all(|o| o.outcome == "asked");
    if args.json {
        print(&json(&serde_json::json!({
            "jobs": outcomes,
        })))?;
    } else {
        for o in &outcomes {
            match o.outcome {
                "asked" => print(&o.detail)?,
                _ => eprintln!("kbridge: {}", crate::secrets::redact(&o.detail)),
            }
        }
    }
    Ok(if all_asked {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}

fn cancel_plan(key: &str, as_json: bool, config: &Setup) -> Result<u8, Error> {
    let mut store = open_existing(config)?;
    let plan = store.read().find_plan(key)?.ok_or_else(|| {
        Error::NotFound(format!(
            "no plan '{key}' in {}; `kbridge plans` lists them",
            store.location()
        ))
    })?;
    let name = format!(
        "plan {} ({})",
        plan.id,
        plan.uid.as_deref().unwrap_or("no uid")
    );
    let Some(uid) = plan.uid.as_deref() else {
        return Err(Error::Failed(format!(
            "{name} has no {} id (it is '{}'): cancel it on {} itself if it exists there",
            plan.runner, plan.state, plan.runner
        )));
    };
    if plan.state == PlanState::Finished || (plan.jobs > 0 && plan.jobs_done == plan.jobs) {
        return Err(Error::Failed(format!(
            "{name} has already finished ({} of {} job(s) done): nothing to cancel",
            plan.jobs_done, plan.jobs
        )));
    }
    let runner = super::recorded_runner(config, &plan.runner, &format!("plan {}", plan.id))?;
    runner
        .plans()
        .ok_or_else(|| crate::runner::lacking(&plan.runner, "has no plans"))
        .and_then(|p| p.cancel_plan(uid))
        .map_err(|e| Error::Failed(format!("cannot cancel {name}: {e}")))?;
    store.mark_plan_canceled(plan.id)?;
    let unfinished = plan.jobs - plan.jobs_done;
    if as_json {
        print(&json(&serde_json::json!({
            "plan": plan.id,
            "uid": uid,
            "runner": plan.runner,
            "outcome": "asked",
            "unfinished_jobs": unfinished,
        })))?;
    } else {
        print(&format!(
            "canceling {name} on {}: {unfinished} of its {} job(s) had not finished; each ends canceled when {} says so (`kbridge wait --plan {uid}` follows them)",
            plan.runner, plan.jobs, plan.runner
        ))?;
    }
    Ok(exit::SUCCESS)
}
