//! `kbridge schedule plan FILE`: a runner's plan of builds and the tests
//! chained to them, each job recorded before the request that creates it.

use crate::cli::PlanArgs;
use crate::commands::wait::{self, WaitFor};
use crate::commands::{json, open_runner, print, Context};
use crate::config::keys;
use crate::error::{exit, Error};
use crate::runner::{PlanDefaults, Purpose};
use crate::scheduler;
use crate::store::Store;

pub fn run(args: PlanArgs, ctx: &Context) -> Result<u8, Error> {
    let common = &args.common;
    if let (true, Some(junit)) = (common.wait, &common.junit) {
        wait::check_junit_path(junit)?;
    }
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Error::Usage(format!("cannot read the plan {}: {e}", args.file.display())))?;
    let config = ctx.load()?;
    let info = super::chosen_runner(&config)?;
    let runner = open_runner(
        &config,
        info,
        Purpose::Schedule {
            dry_run: common.dry_run,
        },
    )?;
    let (tree, sha) = if args.git_head {
        let head = crate::githead::resolve(std::path::Path::new("."), args.push, common.dry_run)?;
        (Some(head.repo), Some(head.sha))
    } else {
        (args.tree.clone(), args.sha.clone())
    };
    let defaults = PlanDefaults {
        only: args.jobs.clone(),
        private: common.private,
        tree,
        branch: args.branch.clone(),
        sha,
        no_cache: args.no_cache,
        parameters: args.parameters.clone(),
        notify_emails: args.notify_emails.clone(),
    };
    let plans = runner.plans().ok_or_else(|| {
        Error::Usage(format!(
            "{}: {} has no plans; schedule its jobs one by one",
            args.file.display(),
            info.code
        ))
    })?;
    let mut plan = plans
        .read_plan(&text, &defaults)
        .map_err(|e| Error::Usage(format!("{}: {e}", args.file.display())))?;
    // Series are read before anything is recorded: one that cannot be
    // used stops the plan here.
    let series = args
        .patch_series
        .as_deref()
        .map(crate::patches::load)
        .transpose()?;
    for entry in &mut plan.entries {
        let Some(build) = entry.build.as_mut() else {
            continue;
        };
        build.options.patch_series = match &entry.patch_series {
            // Its messages name the flag; here the value came from the file.
            Some(own) => Some(crate::patches::load(own).map_err(|e| {
                let e = e.0.replacen("--patch-series ", "patch_series ", 1);
                Error::Usage(format!("{}: {e}", args.file.display()))
            })?),
            None => series.clone(),
        };
    }
    for note in &plan.notes {
        ctx.ui.note(note);
    }
    scheduler::public_plan(&mut plan, &ctx.ui);
    if common.dry_run {
        let mut lines = vec![format!(
            "plan {} ({} jobs), nothing sent:",
            plan.name,
            plan.count()
        )];
        for e in &plan.entries {
            if let Some(b) = &e.build {
                lines.push(format!(
                    "build {} {} {}",
                    b.arch,
                    b.toolchain,
                    b.kconfig.join("+")
                ));
            }
            if let Some(s) = &e.sanity {
                lines.push(format!("  sanity test on {}, after the build", s.device));
            }
            let after = if e.sanity.is_some() {
                "the sanity test"
            } else {
                "the build"
            };
            for t in &e.tests {
                lines.push(format!(
                    "  test {} on {}, after {after}",
                    if t.tests.is_empty() {
                        "boot".to_string()
                    } else {
                        t.tests.join(",")
                    },
                    t.device
                ));
            }
        }
        return print(&lines.join("\n")).map(|()| exit::SUCCESS);
    }
    let mut store = Store::open(&config.database()?)?;
    let origin = config.origin();
    let standalone = args
        .build_id
        .as_deref()
        .map(|given| scheduler::resolve_build_id(Some(store.read()), &origin, given))
        .transpose()?;
    let callback_base = config.get(keys::CALLBACK_URL).map(|s| s.value);
    let outcome = scheduler::schedule_plan(
        &mut store,
        &scheduler::PlanRequest {
            plans,
            runner_code: info.code,
            plan: &plan,
            callback_base: callback_base.as_deref(),
            origin: &origin,
            standalone: standalone.as_deref(),
        },
        &ctx.ui,
    )
    .map_err(|e| super::schedule::submission_error(e, common.wait))?;
    let line = format!(
        "scheduled plan {} ({}): {} jobs; `kbridge wait --plan {}` follows them",
        outcome.uid,
        plan.name,
        outcome.jobs.len(),
        outcome.uid
    );
    if common.wait {
        ctx.ui.note(&line);
        return wait::wait(
            &config,
            ctx,
            &WaitFor {
                jobs: outcome.jobs.iter().map(i64::to_string).collect(),
                timeout: common.timeout.iter().find_map(|t| match t {
                    crate::cli::TimeoutArg::Wait(d) => Some(*d),
                    _ => None,
                }),
                junit: common.junit.clone(),
                bisect: common.bisect,
                json: common.json,
            },
        );
    }
    if common.json {
        let jobs: Vec<_> = store
            .read()
            .jobs_by_ids(&outcome.jobs)?
            .into_iter()
            .map(|j| j.redacted())
            .collect();
        return print(&json(
            &serde_json::json!({"plan": outcome.uid, "plan_id": outcome.id, "jobs": jobs}),
        ))
        .map(|()| exit::SUCCESS);
    }
    print(&line).map(|()| exit::SUCCESS)
}
