//! `kbridge cancel JOB...`: asks each job's runner to cancel it. A job that
//! has finished, or never reached its runner, is named and left alone.
//! `kbridge cancel --plan PLAN` asks the runner to cancel a whole plan.

use crate::cli::CancelArgs;
use crate::commands::jobs::find_job;
use crate::commands::open_existing;
use crate::config::Config;
use crate::error::{exit, Error};
use crate::model::{JobState, PlanState};

pub fn run(args: CancelArgs, config: &Config) -> Result<u8, Error> {
    if let Some(plan) = &args.plan {
        return cancel_plan(plan, config);
    }
    let store = open_existing(config)?;
    let mut jobs = Vec::new();
    for key in &args.jobs {
        jobs.push(find_job(&store, key)?);
    }
    drop(store);
    let mut refused = 0;
    let mut runners: std::collections::BTreeMap<String, Box<dyn crate::runner::Runner>> =
        Default::default();
    for job in jobs {
        let name = format!(
            "job {} ({})",
            job.id,
            job.uid.as_deref().unwrap_or("no uid")
        );
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
            eprintln!("kbridge: {why}");
            refused += 1;
            continue;
        }
        // Each runner is opened once, however many of its jobs are named.
        if !runners.contains_key(&job.runner) {
            match super::job_runner(config, &job) {
                Ok(r) => {
                    runners.insert(job.runner.clone(), r);
                }
                Err(e) => {
                    eprintln!("kbridge: cannot cancel {name}: {e}");
                    refused += 1;
                    continue;
                }
            }
        }
        match runners[&job.runner].cancel(&job) {
            Ok(()) => println!(
                "canceling {name} on {}: it ends canceled when {} says so (`kbridge wait {}` follows it)",
                job.runner, job.runner, job.id
            ),
            Err(e) => {
                eprintln!("kbridge: cannot cancel {name}: {e}");
                refused += 1;
            }
        }
    }
    Ok(if refused == 0 {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}

fn cancel_plan(key: &str, config: &Config) -> Result<u8, Error> {
    let mut store = open_existing(config)?;
    let plan = store.read().find_plan(key)?.ok_or_else(|| {
        Error::NotFound(format!(
            "no plan '{key}' in {}; `kbridge plans` lists them",
            store.path().display()
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
        .cancel_plan(uid)
        .map_err(|e| Error::Failed(format!("cannot cancel {name}: {e}")))?;
    store.mark_plan_canceled(plan.id)?;
    println!(
        "canceling {name} on {}: {} of its {} job(s) had not finished; each ends canceled when {} says so (`kbridge wait --plan {uid}` follows them)",
        plan.runner,
        plan.jobs - plan.jobs_done,
        plan.jobs,
        plan.runner
    );
    Ok(exit::SUCCESS)
}
