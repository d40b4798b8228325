//! `kbridge schedule build|test|boot`: turns the arguments into a
//! runner-neutral job and hands it to the scheduler.

use crate::cli::{BootArgs, BuildArgs, KernelArgs, Schedule, TestArgs};
use crate::commands::{json, open_runner, print, Context};
use crate::config::keys;
use crate::error::Error;
use crate::model::{BuildSpec, Job, JobSpec, TestSpec};
use crate::runner::{self, Purpose};
use crate::scheduler::{self, Outcome, Request};
use crate::store::Store;

pub fn run(cmd: Schedule, ctx: &Context) -> Result<(), Error> {
    let (common, request) = match cmd {
        Schedule::Build(a) => (a.common.clone(), Args::Build(a)),
        Schedule::Test(a) => (a.common.clone(), Args::Test(a)),
        Schedule::Boot(a) => (a.common.clone(), Args::Boot(a)),
    };
    let (mut spec, force) = request.into_spec(common.private)?;
    let config = ctx.load()?;
    let code = config.text(keys::RUNNER).expect("runner has a default");
    let info = runner::find(&code.value).ok_or_else(|| {
        Error::Usage(format!(
            "unknown runner '{}' (from {}); available runners: {}",
            code.value,
            code.source,
            runner::available()
        ))
    })?;
    let runner = open_runner(
        &config,
        info,
        Purpose::Schedule {
            dry_run: common.dry_run,
        },
    )?;
    let database = config.database();
    let callback_base = config.text(keys::CALLBACK_URL).map(|s| s.value);
    if callback_base.is_none() {
        ctx.ui.note("no callback_url is set: the runner will not report back, so results will have to be polled (set --callback-url or KBRIDGE_CALLBACK_URL)");
    }

    // A dry run reads an existing database for de-duplication but never
    // creates one: it stores nothing.
    let store = if !common.dry_run {
        Some(Store::open(&database)?)
    } else if database.exists() {
        Some(Store::open_existing(&database)?)
    } else {
        None
    };
    if let JobSpec::Test(t) | JobSpec::Boot(t) = &mut spec {
        t.build_id = scheduler::resolve_build_id(
            store.as_ref().map(Store::read),
            &config.origin(),
            &t.build_id,
        )?;
    }
    let req = Request {
        runner_code: info.code,
        runner: runner.as_ref(),
        spec,
        callback_base,
        force,
    };
    if common.dry_run {
        let Some(submission) = scheduler::dry_run(&req, store.as_ref().map(Store::read), &ctx.ui)?
        else {
            ctx.ui.note("nothing left to schedule");
            return if common.json { print("null") } else { Ok(()) };
        };
        return if common.json {
            print(&json(&serde_json::json!({
                "method": submission.method,
                "url": submission.url,
                "headers": submission
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
                    .collect::<serde_json::Map<_, _>>(),
                "body": submission.body,
            })))
        } else {
            print(&submission.to_string())
        };
    }
    let mut store = store.expect("opened unless a dry run");
    match scheduler::schedule(&mut store, req, &ctx.ui)? {
        Outcome::NothingLeft => {
            ctx.ui.note("nothing left to schedule");
            if common.json {
                print("null")
            } else {
                Ok(())
            }
        }
        Outcome::Scheduled(job) => {
            let job = job.redacted();
            if common.json {
                print(&json(&job))
            } else {
                print(&scheduled_line(&job))
            }
        }
    }
}

enum Args {
    Build(BuildArgs),
    Test(TestArgs),
    Boot(BootArgs),
}

impl Args {
    /// Turns the arguments into a runner-neutral job, checking what clap
    /// cannot, and says whether `--force` was given.
    fn into_spec(self, private: bool) -> Result<(JobSpec, bool), Error> {
        match self {
            Args::Build(a) => {
                let mut kconfig: Vec<String> = a.kconfig.into_iter().collect();
                kconfig.extend(a.fragment);
                let spec = JobSpec::Build(BuildSpec {
                    tree: a.tree,
                    branch: a.branch,
                    sha: a.sha,
                    arch: a.arch,
                    toolchain: a.toolchain,
                    kconfig,
                    targets: a.targets,
                    private,
                });
                Ok((spec, true))
            }
            Args::Test(a) => {
                let mut tests: Vec<String> = Vec::new();
                for t in a.tests {
                    if t == "boot" || tests.contains(&t) {
                        continue;
                    }
                    tests.push(t);
                }
                if tests.is_empty() {
                    return Err(Error::Usage(
                        "--tests names no test (boot always runs); use `kbridge schedule boot` to only boot".into(),
                    ));
                }
                let force = a.kernel.force;
                let spec = test_spec(a.kernel, tests, a.collection, private);
                Ok((JobSpec::Test(spec), force))
            }
            Args::Boot(a) => {
                let force = a.kernel.force;
                Ok((
                    JobSpec::Boot(test_spec(a.kernel, vec![], None, private)),
                    force,
                ))
            }
        }
    }
}

fn test_spec(
    k: KernelArgs,
    tests: Vec<String>,
    collection: Option<String>,
    private: bool,
) -> TestSpec {
    TestSpec {
        device: k.device,
        kernel: k.kernel,
        modules: k.modules,
        build_id: k.build_id,
        tests,
        collection,
        parameters: k.parameters,
        private,
    }
}

/// `scheduled test 2MBYa8… (job 3) on qemu-riscv64: ltp-smoke, ltp-fsx`.
fn scheduled_line(job: &Job) -> String {
    let uid = job.uid.as_deref().unwrap_or("?");
    match &job.spec {
        JobSpec::Build(_) => format!("scheduled build {uid} (job {}): {}", job.id, job.summary),
        JobSpec::Test(t) => format!(
            "scheduled test {uid} (job {}) on {}: {}",
            job.id,
            t.device,
            t.tests.join(", ")
        ),
        JobSpec::Boot(t) => format!("scheduled boot {uid} (job {}) on {}", job.id, t.device),
    }
}
