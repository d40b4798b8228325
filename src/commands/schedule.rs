//! `kbridge schedule build|test|boot`.
//!
//! Order matters: everything that can be checked without sending anything
//! is checked first (arguments, settings, the build under test, duplicates);
//! then the job is recorded as `submitting`; only then is the request sent,
//! and the record completed with the answer. A crash or a network failure
//! in between leaves a record that says so, never a job that runs on the
//! runner with no trace here.

use crate::cli::{BootArgs, BuildArgs, KernelArgs, Schedule, TestArgs};
use crate::commands::{json, load, open_runner, open_store, print};
use crate::config::{Config, Overrides};
use crate::error::Error;
use crate::model::{is_kcidb_id, BuildSpec, Job, JobKind, JobSpec, TestSpec};
use crate::progress::Ui;
use crate::runner::{self, CallbackTarget, Purpose, RunnerInfo};
use crate::store::{NewJob, Store};

pub fn run(cmd: Schedule, mut overrides: Overrides, ui: &Ui) -> Result<(), Error> {
    let (common, request) = match cmd {
        Schedule::Build(a) => (a.common.clone(), Request::Build(a)),
        Schedule::Test(a) => (a.common.clone(), Request::Test(a)),
        Schedule::Boot(a) => (a.common.clone(), Request::Boot(a)),
    };
    let info = runner::find(&common.runner).ok_or_else(|| {
        Error::Usage(format!(
            "unknown runner '{}'; available runners: {}",
            common.runner,
            runner::available()
        ))
    })?;
    let (mut spec, force) = request.into_spec(common.private)?;

    overrides.callback_url = common.callback_url.clone();
    let config = load(&overrides)?;
    let runner = open_runner(&config, info, Purpose::Schedule)?;

    // A dry run reads an existing database for de-duplication but never
    // creates one: it stores nothing.
    let store = if common.dry_run && !config.database.value.exists() {
        None
    } else {
        Some(open_store(&config)?)
    };

    if let JobSpec::Test(t) | JobSpec::Boot(t) = &mut spec {
        t.build_id = resolve_build_id(store.as_ref(), &config, &t.build_id)?;
    }
    if let (Some(store), false) = (&store, force) {
        if !drop_duplicates(store, &mut spec, ui)? {
            ui.note("nothing left to schedule");
            return if common.json { print("null") } else { Ok(()) };
        }
    }

    let callback = callback_target(&config, info, spec.kind(), common.dry_run);
    if callback.is_none() {
        ui.note("no callback_url is set: the runner will not report back, so results will have to be polled (set --callback-url or KBRIDGE_CALLBACK_URL)");
    }
    let submission = runner.prepare(&spec, callback.as_ref());

    if common.dry_run {
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

    let mut store = store.expect("opened unless dry run");
    let id = store.insert_submitting(&NewJob {
        runner: info.code,
        spec: &spec,
        request: &submission.body,
        callback_url: callback.as_ref().map(|c| c.url.as_str()),
        callback_token: callback.as_ref().map(|c| c.token.as_str()),
    })?;

    ui.start(&format!("submitting {} to {}", spec.kind(), info.code));
    let result = runner.submit(&submission, ui);
    ui.finish();

    match result {
        Ok(accepted) => {
            store
                .mark_submitted(id, &accepted.uid, &accepted.response)
                .map_err(|e| {
                    Error::Failed(format!(
                        "{} accepted the job as {} but recording that failed ({e}); job {id} stays 'submitting'",
                        info.code, accepted.uid
                    ))
                })?;
            let job = find(&store, id)?.redacted();
            if common.json {
                print(&json(&job))
            } else {
                print(&scheduled_line(&job))
            }
        }
        Err(e) => {
            let state = e.job_state();
            store.mark_unsubmitted(id, state, &e.to_string(), e.response())?;
            Err(Error::Failed(format!(
                "{e}; job {id} is recorded as '{state}'"
            )))
        }
    }
}

enum Request {
    Build(BuildArgs),
    Test(TestArgs),
    Boot(BootArgs),
}

impl Request {
    /// Turns the arguments into a runner-neutral job, checking what clap
    /// cannot, and says whether `--force` was given.
    fn into_spec(self, private: bool) -> Result<(JobSpec, bool), Error> {
        match self {
            Request::Build(a) => {
                let mut kconfig: Vec<String> = a.kconfig.into_iter().collect();
                kconfig.extend(a.fragment);
                // Builds are never de-duplicated: rebuilding is a normal
                // request.
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
            Request::Test(a) => {
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
                let collection = a
                    .collection
                    .unwrap_or_else(|| default_collection(&tests[0]));
                let force = a.kernel.force;
                let spec = test_spec(a.kernel, tests, Some(collection), private);
                Ok((JobSpec::Test(spec), force))
            }
            Request::Boot(a) => {
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

/// `ltp-smoke` → `ltp`; a name without `-` is its own collection.
fn default_collection(test: &str) -> String {
    test.split('-').next().unwrap_or(test).to_string()
}

/// Resolves `--build-id` to a KCIDB build id: one given as `origin:...` is
/// taken as is; otherwise it must name a build kbridge scheduled (job id or
/// runner uid), whose KCIDB id is `{origin}:{uid}`.
fn resolve_build_id(store: Option<&Store>, config: &Config, given: &str) -> Result<String, Error> {
    if is_kcidb_id(given) {
        return Ok(given.to_string());
    }
    let unknown = || {
        Error::Usage(format!(
            "unknown build '{given}': give a KCIDB build id (origin:...) or the uid or job id of a build kbridge scheduled (see `kbridge jobs --kind build`)"
        ))
    };
    let job = match store {
        Some(s) => s.find(given)?.ok_or_else(unknown)?,
        None => return Err(unknown()),
    };
    match (&job.kind, &job.uid) {
        (JobKind::Build, Some(uid)) => Ok(format!("{}:{uid}", config.origin.value)),
        (JobKind::Build, None) => Err(Error::Usage(format!(
            "build job {} has no runner uid (it is '{}'), so it has no results to test; schedule the build again",
            job.id, job.state
        ))),
        (kind, _) => Err(Error::Usage(format!(
            "job {} is a {kind} job, not a build; --build-id needs a build",
            job.id
        ))),
    }
}

/// Removes from `spec` what is already scheduled for the same build and
/// device (failed submissions do not count), with a note for each. Returns
/// whether anything is left to schedule.
fn drop_duplicates(store: &Store, spec: &mut JobSpec, ui: &Ui) -> Result<bool, Error> {
    let kind = spec.kind();
    let t = match spec {
        JobSpec::Test(t) | JobSpec::Boot(t) => t,
        JobSpec::Build(_) => return Ok(true),
    };
    let existing: Vec<Job> = store
        .live_jobs_for_build(&t.build_id, kind)?
        .into_iter()
        .filter(|j| j.device.as_deref() == Some(t.device.as_str()))
        .collect();
    let describe = |j: &Job| {
        format!(
            "job {} ({}, {})",
            j.id,
            j.uid.as_deref().unwrap_or("no uid"),
            j.state
        )
    };
    if kind == JobKind::Boot {
        if let Some(j) = existing.first() {
            ui.note(&format!(
                "skipping boot on {}: already scheduled for {} as {}; --force schedules it again",
                t.device,
                t.build_id,
                describe(j)
            ));
            return Ok(false);
        }
        return Ok(true);
    }
    t.tests.retain(
        |name| match existing.iter().find(|j| j.tests.contains(name)) {
            Some(j) => {
                ui.note(&format!(
                "skipping {name} on {}: already scheduled for {} as {}; --force schedules it again",
                t.device,
                t.build_id,
                describe(j)
            ));
                false
            }
            None => true,
        },
    );
    Ok(!t.tests.is_empty())
}

/// The callback for a new job, when `callback_url` is set. A dry run shows
/// where the token goes without making one.
fn callback_target(
    config: &Config,
    info: &RunnerInfo,
    kind: JobKind,
    dry_run: bool,
) -> Option<CallbackTarget> {
    let base = config.callback_url.as_ref()?;
    let url = runner::callback_url(&base.value, info.code, kind);
    Some(if dry_run {
        CallbackTarget {
            url,
            token: "<redacted>".into(),
        }
    } else {
        CallbackTarget::new(url)
    })
}

fn find(store: &Store, id: i64) -> Result<Job, Error> {
    store
        .find(&id.to_string())?
        .ok_or_else(|| Error::Failed(format!("job {id} vanished from the database")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_is_the_first_dash_part() {
        assert_eq!(default_collection("ltp-smoke"), "ltp");
        assert_eq!(default_collection("kselftest-net-forwarding"), "kselftest");
        assert_eq!(default_collection("kunit"), "kunit");
    }
}
