//! `kbridge schedule build|test|boot`: turns the arguments into a
//! runner-neutral job and hands it to the scheduler.

use crate::cli::{BootArgs, BuildArgs, GivenOption, KernelArgs, Schedule, TestArgs, TimeoutArg};
use crate::commands::wait::{self, WaitFor};
use crate::commands::{json, open_runner, print, Context};
use crate::config::keys;
use crate::error::{exit, Error};
use crate::model::{BuildOptions, BuildSpec, Job, JobSpec, RunnerOptions, TestOptions, TestSpec};
use crate::runner::Purpose;
use crate::scheduler::{self, Outcome, Request};
use crate::store::Store;

pub fn run(cmd: Schedule, ctx: &Context) -> Result<u8, Error> {
    let (common, request) = match cmd {
        Schedule::Build(a) => (a.common.clone(), Args::Build(a)),
        Schedule::Test(a) => (a.common.clone(), Args::Test(a)),
        Schedule::Boot(a) => (a.common.clone(), Args::Boot(a)),
        Schedule::Plan(a) => {
            let (wait, bisect) = (a.common.wait, a.common.bisect);
            return super::plan::run(a, ctx).map_err(|e| verdict(e, wait, bisect));
        }
    };
    let (wait, bisect) = (common.wait, common.bisect);
    schedule(common, request, ctx).map_err(|e| verdict(e, wait, bisect))
}

/// With `--wait`, exit status 1 means a FAIL and nothing else: a failed
/// operation is an infrastructure problem (3, or 125 with `--bisect`).
fn verdict(e: Error, wait: bool, bisect: bool) -> Error {
    if wait {
        e.in_verdict_command(bisect)
    } else {
        e
    }
}

/// What a submission that failed is, for a command that waits for its
/// verdict: a runner that refused it (a bad token, a bad request) is told
/// the same the next time, a usage or configuration error; anything else
/// is the runner's trouble.
pub fn submission_error(e: scheduler::ScheduleError, wait: bool) -> Error {
    match e {
        scheduler::ScheduleError::Submission { refused: true, .. } if wait => {
            Error::Usage(e.to_string())
        }
        e => e.into(),
    }
}

fn schedule(common: crate::cli::ScheduleCommon, request: Args, ctx: &Context) -> Result<u8, Error> {
    if let (true, Some(junit)) = (common.wait, &common.junit) {
        wait::check_junit_path(junit)?;
    }
    // One --timeout flag, two meanings: a duration bounds --wait, NAME=MINUTES
    // limits one of a test's tests.
    let mut wait_timeout = None;
    let mut test_timeouts = Vec::new();
    for t in &common.timeout {
        match t {
            TimeoutArg::Wait(_) if !common.wait => {
                return Err(Error::Usage(
                    "--timeout DURATION bounds --wait; add --wait, or give a test's limit as NAME=MINUTES (boot=30)".into(),
                ))
            }
            TimeoutArg::Wait(_) if wait_timeout.is_some() => {
                return Err(Error::Usage("--timeout DURATION is given twice; give it once".into()))
            }
            TimeoutArg::Wait(d) => wait_timeout = Some(*d),
            TimeoutArg::Test(name, minutes) => test_timeouts.push((name.clone(), *minutes)),
        }
    }
    if !test_timeouts.is_empty() && matches!(request, Args::Build(_)) {
        return Err(Error::Usage(
            "--timeout NAME=MINUTES limits a test; a build takes --timeout DURATION with --wait only".into(),
        ));
    }
    let (mut spec, force, after) = request.into_spec(common.private, common.dry_run)?;
    if let JobSpec::Test(t) | JobSpec::Boot(t) = &mut spec {
        t.options.timeouts = test_timeouts;
    }
    let config = ctx.load()?;
    let info = super::chosen_runner(&config)?;
    let purpose = Purpose::Schedule {
        dry_run: common.dry_run,
    };
    let options = runner_options(&ctx.options, info.code)?;
    match &mut spec {
        JobSpec::Build(b) => b.options.runner = options,
        JobSpec::Test(t) | JobSpec::Boot(t) => t.options.runner = options,
    }
    let runner = open_runner(&config, info, purpose)?;
    if let JobSpec::Test(t) | JobSpec::Boot(t) = &mut spec {
        if t.device.is_empty() {
            t.device = runner
                .default_device()
                .unwrap_or_else(|| crate::model::DEFAULT_DEVICE.to_string());
        }
    }
    let database = config.database()?;
    let callback_base = config.get(keys::CALLBACK_URL).map(|s| s.value);
    if callback_base.is_none() && !common.wait {
        ctx.ui.note("no callback_url is set: the runner will not report back, so `kbridge wait` will poll for results (set --callback-url or KBRIDGE_CALLBACK_URL for callbacks)");
    }

    // A dry run reads an existing database for de-duplication but never
    // creates one: it stores nothing.
    let store = if !common.dry_run {
        Some(Store::open(&database)?)
    } else if database.file().is_none_or(std::path::Path::exists) {
        Some(Store::open_existing(&database)?)
    } else {
        None
    };
    let mut after_job = None;
    if let JobSpec::Test(t) | JobSpec::Boot(t) = &mut spec {
        match (after.as_deref(), &store) {
            (Some(after), Some(store)) => {
                let built_kernel = |build: &Job| {
                    super::job_runner(&config, build)
                        .ok()
                        .and_then(|r| r.chaining()?.built_kernel(build))
                };
                let origin = config.origin();
                let build = scheduler::chain(store.read(), &origin, after, t, runner.as_ref(), &built_kernel)?;
                after_job = Some(build.id);
            }
            (Some(after), None) => {
                return Err(Error::Usage(format!(
                    "unknown build '{after}': there is no database at {}, so no build kbridge scheduled",
                    database
                )))
            }
            (None, store) => {
                let db = store.as_ref().map(Store::read);
                t.build_id = scheduler::resolve_build_id(db, &config.origin(), &t.build_id)?;
            }
        }
    }
    let req = Request {
        runner_code: info.code,
        runner: runner.as_ref(),
        spec,
        callback_base,
        force,
        after_job,
    };
    if common.dry_run {
        let Some(submission) = scheduler::dry_run(&req, store.as_ref().map(Store::read), &ctx.ui)?
        else {
            ctx.ui.note("nothing left to schedule");
            return if common.json { print("null") } else { Ok(()) }.map(|()| exit::SUCCESS);
        };
        for note in &submission.notes {
            ctx.ui.note(note);
        }
        let shown = if common.json {
            json(&serde_json::json!({
                "method": submission.method,
                "url": submission.url,
                "headers": submission
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
                    .collect::<serde_json::Map<_, _>>(),
                "body": submission.body,
            }))
        } else {
            submission.to_string()
        };
        return print(&shown).map(|()| exit::SUCCESS);
    }
    let mut store = store.expect("opened unless a dry run");
    let outcome = match scheduler::schedule(&mut store, req, &ctx.ui) {
        // A script reading --json still learns the job's id and state.
        Err(e @ scheduler::ScheduleError::Submission { job_id, .. }) if common.json => {
            if let Some(job) = store.read().job_by_id(job_id)? {
                print(&json(&job.redacted()))?;
            }
            return Err(submission_error(e, common.wait));
        }
        Err(e) => return Err(submission_error(e, common.wait)),
        Ok(outcome) => outcome,
    };
    let job = match outcome {
        Outcome::NothingLeft => {
            ctx.ui.note("nothing left to schedule");
            return if common.json { print("null") } else { Ok(()) }.map(|()| exit::SUCCESS);
        }
        Outcome::Scheduled(job) => job.redacted(),
    };
    drop(store);
    if !common.wait {
        let shown = if common.json {
            json(&job)
        } else {
            scheduled_line(&job)
        };
        return print(&shown).map(|()| exit::SUCCESS);
    }
    ctx.ui.note(&scheduled_line(&job));
    wait::wait(
        &config,
        ctx,
        &WaitFor {
            jobs: vec![job.id.to_string()],
            timeout: wait_timeout,
            junit: common.junit.clone(),
            bisect: common.bisect,
            json: common.json,
        },
    )
}

enum Args {
    Build(BuildArgs),
    Test(TestArgs),
    Boot(BootArgs),
}

impl Args {
    /// Turns the arguments into a runner-neutral job, checking what clap
    /// cannot, and says whether `--force` was given and which build it runs
    /// after.
    fn into_spec(
        self,
        private: bool,
        dry_run: bool,
    ) -> Result<(JobSpec, bool, Option<String>), Error> {
        match self {
            Args::Build(a) => {
                let mut kconfig: Vec<String> = a.kconfig.into_iter().collect();
                kconfig.extend(a.fragment);
                let (tree, sha) = if a.git_head {
                    let head = crate::githead::resolve(std::path::Path::new("."), a.push, dry_run)?;
                    (head.repo, Some(head.sha))
                } else {
                    (
                        a.tree.expect("clap requires --tree without --git-head"),
                        a.sha,
                    )
                };
                let spec = JobSpec::Build(BuildSpec {
                    tree,
                    branch: a.branch,
                    sha,
                    arch: a.arch,
                    toolchain: a.toolchain,
                    kconfig,
                    targets: a.targets,
                    private,
                    options: BuildOptions {
                        make_variables: a.make_variables,
                        environment: a.environment,
                        build_name: a.build_name,
                        kernel_image: a.kernel_image,
                        image_sha: a.image_sha,
                        no_cache: a.no_cache,
                        notify_emails: a.notify_emails,
                        patch_series: a
                            .patch_series
                            .as_deref()
                            .map(crate::patches::load)
                            .transpose()?,
                        runner: Default::default(),
                    },
                });
                Ok((spec, true, None))
            }
            Args::Test(a) => {
                let overlays = overlays(&a.kernel)?;
                let mut tests: Vec<String> = Vec::new();
                for t in a.tests {
                    if t == "boot" || tests.contains(&t) {
                        continue;
                    }
                    tests.push(t);
                }
                if tests.is_empty() && a.kernel.job_definition.is_none() {
                    return Err(Error::Usage(
                        "--tests names no test (boot always runs); use `kbridge schedule boot` to only boot".into(),
                    ));
                }
                let (force, after) = (a.kernel.force, a.kernel.after.clone());
                let mut spec = test_spec(a.kernel, tests, a.collection, private);
                spec.options.overlays = overlays;
                Ok((JobSpec::Test(spec), force, after))
            }
            Args::Boot(a) => {
                let overlays = overlays(&a.kernel)?;
                let (force, after) = (a.kernel.force, a.kernel.after.clone());
                let mut spec = test_spec(a.kernel, vec![], None, private);
                spec.options.overlays = overlays;
                Ok((JobSpec::Boot(spec), force, after))
            }
        }
    }
}

/// The runners' own options given, as the job on `runner` keeps them:
/// another runner's option is a usage error, not something dropped.
fn runner_options(given: &[GivenOption], runner: &str) -> Result<RunnerOptions, Error> {
    let mut out = RunnerOptions::new();
    for g in given {
        if g.runner != runner {
            return Err(Error::Usage(format!(
                "--{} is an option of --runner {}, and this job runs on {runner}; give --runner {} or leave --{} out",
                g.def.long, g.runner, g.runner, g.def.long
            )));
        }
        out.insert(g.def.key.to_string(), g.value.clone());
    }
    Ok(out)
}

/// `--overlay URL [PATH]`, repeatable: clap gives the values flat, so each
/// URL starts an overlay and an absolute path after it is where it goes.
fn overlays(k: &KernelArgs) -> Result<Vec<(String, String)>, Error> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut path_given = false;
    for v in &k.overlay {
        if v.starts_with("https://") || v.starts_with("http://") {
            out.push((v.clone(), "/".into()));
            path_given = false;
        } else if out.is_empty() || path_given {
            return Err(Error::Usage(format!(
                "--overlay '{v}': expected URL [PATH], the URL of an archive first"
            )));
        } else if !v.starts_with('/') {
            return Err(Error::Usage(format!(
                "--overlay '{v}': the path to unpack at must be absolute (/opt)"
            )));
        } else {
            out.last_mut().expect("checked above").1 = v.clone();
            path_given = true;
        }
    }
    Ok(out)
}

fn test_spec(
    k: KernelArgs,
    tests: Vec<String>,
    collection: Option<String>,
    private: bool,
) -> TestSpec {
    let options = TestOptions {
        rootfs: k.rootfs,
        dtb: k.dtb,
        bios: k.bios,
        boot_args: k.boot_args,
        timeouts: vec![],
        overlays: vec![],
        commands: k.commands,
        test_name: k.test_name,
        notify_emails: k.notify_emails,
        ..TestOptions::default()
    };
    TestSpec {
        options,
        // Empty until the runner is known: it may have a default of its own.
        device: k.device.unwrap_or_default(),
        definition: k.job_definition,
        kernel: k.kernel,
        modules: k.modules,
        // Filled from the build when the test runs after one.
        build_id: k.build_id.unwrap_or_default(),
        tests,
        collection,
        parameters: k.parameters,
        private,
        waits_for: None,
        waits_for_test: None,
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
