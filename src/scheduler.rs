//! Recording and submitting a job, for any runner.
//!
//! Order matters: everything that can be checked without sending anything
//! is checked first (the build under test, duplicates); then the job is
//! recorded as `submitting`; only then is the request sent, and the record
//! completed with the answer. A crash or a network failure in between
//! leaves a record that says so, never a job that runs on the runner with
//! no trace here. The duplicate check and the record are one transaction,
//! so two `kbridge schedule` started together cannot both send the same
//! test.

use crate::model::{is_kcidb_id, Job, JobKind, JobSpec, JobState, PlanState, TestSpec};
use crate::runner::{self, CallbackTarget, Feedback, PrepareError, Runner, Submission};
use crate::store::{Db, NewJob, Store, StoreError};

/// What to schedule.
pub struct Request<'a> {
    pub runner_code: &'static str,
    pub runner: &'a dyn Runner,
    pub spec: JobSpec,
    /// The public base URL of `kbridge listen`, if jobs should call back.
    pub callback_base: Option<String>,
    /// Schedule even what is already scheduled for the same build.
    pub force: bool,
    /// The build job a test runs on (`--after`).
    pub after_job: Option<i64>,
}

/// How scheduling ended, when it did not fail.
#[derive(Debug)]
pub enum Outcome {
    /// The runner accepted the job; the stored record, as it is now.
    Scheduled(Box<Job>),
    /// Everything asked for was already scheduled; nothing was sent.
    NothingLeft,
}

/// Why scheduling failed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The request cannot be made as asked; nothing was recorded.
    #[error("{0}")]
    Usage(String),
    /// The runner's settings do not allow it; nothing was recorded.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runner did not create the plan; nothing was recorded.
    #[error("{0}")]
    Plan(String),
    /// The job was recorded and its submission failed; the record says
    /// whether it may exist on the runner anyway.
    #[error("{message}; job {job_id} is recorded as '{state}'")]
    Submission {
        message: String,
        job_id: i64,
        state: JobState,
        /// Whether the runner answered and refused (a bad token, a bad
        /// request): asking again the same way cannot help.
        refused: bool,
    },
}

impl From<PrepareError> for ScheduleError {
    fn from(e: PrepareError) -> ScheduleError {
        match e {
            PrepareError::Unsupported(m) => ScheduleError::Usage(m),
            PrepareError::Config(m) => ScheduleError::Config(m),
        }
    }
}

/// Resolves `--build-id` to a KCIDB build id: one given as `origin:...` is
/// taken as is; otherwise it must name a build kbridge scheduled (job id or
/// runner uid), whose KCIDB id is `{origin}:{uid}`.
pub fn resolve_build_id(
    db: Option<Db<'_>>,
    origin: &str,
    given: &str,
) -> Result<String, ScheduleError> {
    if is_kcidb_id(given) {
        return Ok(given.to_string());
    }
    let unknown = || {
        ScheduleError::Usage(format!(
            "unknown build '{given}': give a KCIDB build id (origin:...) or the uid or job id of a build kbridge scheduled (see `kbridge jobs --kind build`)"
        ))
    };
    let job = match db {
        Some(db) => db.find(given)?.ok_or_else(unknown)?,
        None => return Err(unknown()),
    };
    match (&job.kind, &job.uid) {
        (JobKind::Build, Some(uid)) => Ok(format!("{origin}:{uid}")),
        (JobKind::Build, None) => Err(ScheduleError::Usage(format!(
            "build job {} has no runner uid (it is '{}'), so it has no results to test; schedule the build again",
            job.id, job.state
        ))),
        (kind, _) => Err(ScheduleError::Usage(format!(
            "job {} is a {kind} job, not a build; --build-id needs a build",
            job.id
        ))),
    }
}

/// Chains a test to a build kbridge scheduled (`--after JOB`): a finished
/// build gives its kernel and modules; one still running is waited for by
/// the runner, if it can. Fills `spec` and returns the build job.
pub fn chain(
    db: Db<'_>,
    origin: &str,
    given: &str,
    spec: &mut crate::model::TestSpec,
    runner: &dyn Runner,
    built_kernel: &dyn Fn(&Job) -> Option<crate::runner::BuiltKernel>,
) -> Result<Job, ScheduleError> {
    let build = db.find(given)?.ok_or_else(|| {
        ScheduleError::Usage(format!(
            "unknown build '{given}': give the job id or uid of a build kbridge scheduled (see `kbridge jobs --kind build`)"
        ))
    })?;
    if build.kind != JobKind::Build {
        return Err(ScheduleError::Usage(format!(
            "job {} is a {} job, not a build; --after needs a build",
            build.id, build.kind
        )));
    }
    let Some(uid) = build.uid.clone() else {
        return Err(ScheduleError::Usage(format!(
            "build job {} has no runner uid (it is '{}'): there is nothing to run after; schedule the build again",
            build.id, build.state
        )));
    };
    spec.build_id = format!("{origin}:{uid}");
    match build.state {
        JobState::Canceled => {
            return Err(ScheduleError::Usage(format!(
                "build job {} was canceled: there is no kernel to test",
                build.id
            )))
        }
        JobState::Completed | JobState::Errored => {
            if let Some(status @ (crate::model::Status::Fail | crate::model::Status::Error | crate::model::Status::Miss)) =
                build.result
            {
                return Err(ScheduleError::Usage(format!(
                    "build job {} did not succeed ({status}): there is no kernel to test",
                    build.id
                )));
            }
            let built = built_kernel(&build).ok_or_else(|| {
                ScheduleError::Usage(format!(
                    "build job {} finished, but what its runner reported does not say where the kernel is; give --kernel and --build-id",
                    build.id
                ))
            })?;
            spec.kernel = Some(built.kernel);
            spec.modules = built.modules;
        }
        JobState::Submitted | JobState::Received if runner.can_wait_for(&build) => {
            spec.waits_for = Some(uid);
        }
        JobState::Submitted | JobState::Received => {
            return Err(ScheduleError::Usage(format!(
                "build job {} is still running and this runner cannot start a test when it finishes; run `kbridge wait {}` first",
                build.id, build.id
            )))
        }
        state => {
            return Err(ScheduleError::Usage(format!(
                "build job {} is '{state}': the runner may not have it, so there is nothing to run after",
                build.id
            )))
        }
    }
    Ok(build)
}

/// Removes from `spec` what is already scheduled for the same build and
/// device (failed submissions do not count), with a note for each. Returns
/// whether anything is left to schedule.
fn drop_duplicates(
    db: Db<'_>,
    spec: &mut JobSpec,
    feedback: &dyn Feedback,
) -> Result<bool, StoreError> {
    let kind = spec.kind();
    let t = match spec {
        JobSpec::Test(t) | JobSpec::Boot(t) => t,
        // Builds are never de-duplicated: rebuilding is a normal request.
        JobSpec::Build(_) => return Ok(true),
    };
    // A job definition of the user's own is whatever it says: kbridge
    // cannot tell two apart by their test names.
    if t.definition.is_some() {
        return Ok(true);
    }
    let existing: Vec<Job> = db
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
            feedback.note(&format!(
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
                feedback.note(&format!(
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

/// Removes the user information of a build's repository URL (a GitLab CI
/// remote's `gitlab-ci-token:TOKEN@`, a password), and says so: the runner
/// fetches the repository as a public URL, and KCIDB publishes it, so
/// credentials in it are never recorded, sent or shown. Returns the note
/// for the user, if anything was removed.
pub fn public_repository(spec: &mut crate::model::BuildSpec) -> Option<String> {
    let (tree, had) = crate::urls::without_userinfo(&spec.tree);
    if !had {
        return None;
    }
    let tree = tree.into_owned();
    let note = format!(
        "removed the user name and password from the repository URL {tree}: runners fetch it as a public URL and KCIDB publishes it, so credentials in it are never recorded, sent or shown"
    );
    spec.tree = tree;
    Some(note)
}

/// [`public_repository`] for a job, with its note given to `feedback`.
fn strip_credentials(spec: &mut JobSpec, feedback: &dyn Feedback) {
    if let JobSpec::Build(b) = spec {
        if let Some(note) = public_repository(b) {
            feedback.note(&note);
        }
    }
}

/// Removes the user information of every repository URL in a plan, in its
/// builds and in the plan file the runner keeps, with one note per URL.
pub fn public_plan(plan: &mut runner::Plan, feedback: &dyn Feedback) {
    let mut said = std::collections::BTreeSet::new();
    for build in plan.entries.iter_mut().filter_map(|e| e.build.as_mut()) {
        if let Some(note) = public_repository(build) {
            if said.insert(note.clone()) {
                feedback.note(&note);
            }
        }
    }
    if let std::borrow::Cow::Owned(text) = crate::urls::strip_all(&plan.text) {
        plan.text = text;
    }
}

/// The callback for a new job, when a base URL is set.
fn callback_target(base: Option<&str>, runner: &str, kind: JobKind) -> Option<CallbackTarget> {
    base.map(|b| CallbackTarget::new(runner::callback_url(b, runner, kind)))
}

/// What a dry run prints: the request, with secrets shown as `<redacted>`.
pub fn dry_run(
    req: &Request<'_>,
    db: Option<Db<'_>>,
    feedback: &dyn Feedback,
) -> Result<Option<Submission>, ScheduleError> {
    let mut spec = req.spec.clone();
    strip_credentials(&mut spec, feedback);
    if let (Some(db), false) = (db, req.force) {
        if !drop_duplicates(db, &mut spec, feedback)? {
            return Ok(None);
        }
    }
    let callback = req.callback_base.as_deref().map(|b| CallbackTarget {
        url: runner::callback_url(b, req.runner_code, spec.kind()),
        token: "<redacted>".into(),
    });
    let submission = req.runner.prepare(&spec, callback.as_ref(), None)?;
    if let Some(word) = req.runner.validate(&submission)? {
        feedback.note(&word);
    }
    Ok(Some(submission))
}

/// Records the job, submits it and completes the record.
pub fn schedule(
    store: &mut Store,
    req: Request<'_>,
    feedback: &dyn Feedback,
) -> Result<Outcome, ScheduleError> {
    let mut spec = req.spec;
    strip_credentials(&mut spec, feedback);
    let batch = store.batch()?;
    if !req.force && !drop_duplicates(batch.read(), &mut spec, feedback)? {
        return Ok(Outcome::NothingLeft);
    }
    let callback = callback_target(req.callback_base.as_deref(), req.runner_code, spec.kind());
    // The row comes first so the runner may label the job with its id; a
    // request the runner will not make leaves nothing (no commit).
    let id = batch.insert_job(&NewJob {
        runner: req.runner_code,
        spec: &spec,
        request: &serde_json::Value::Null,
        callback_url: callback.as_ref().map(|c| c.url.as_str()),
        callback_token: callback.as_ref().map(|c| c.token.as_str()),
        after_job: req.after_job,
        plan: None,
    })?;
    let submission = req.runner.prepare(&spec, callback.as_ref(), Some(id))?;
    batch.set_job_request(id, &submission.body)?;
    if let Some(device) = &submission.device {
        batch.set_job_device(id, device)?;
    }
    batch.commit()?;

    feedback.started(&format!(
        "submitting {} to {}",
        spec.kind(),
        req.runner_code
    ));
    let result = req.runner.submit(&submission, feedback);
    feedback.finished();
    match result {
        Ok(accepted) => {
            if let Err(e) = crate::model::check_uid(&accepted.uid) {
                let message = format!("{} accepted the job but {e}", req.runner_code);
                store.mark_unsubmitted(
                    id,
                    JobState::Unknown,
                    &message,
                    Some(&accepted.response),
                )?;
                return Err(ScheduleError::Submission {
                    message,
                    job_id: id,
                    state: JobState::Unknown,
                    refused: false,
                });
            }
            store
                .mark_submitted(id, &accepted.uid, &accepted.response)
                .map_err(|e| ScheduleError::Submission {
                    message: format!(
                        "{} accepted the job as {} but recording that failed ({e})",
                        req.runner_code, accepted.uid
                    ),
                    job_id: id,
                    state: JobState::Submitting,
                    refused: false,
                })?;
            let job = store
                .read()
                .job_by_id(id)?
                .ok_or_else(|| StoreError::Corrupt {
                    path: store.path().to_path_buf(),
                    what: format!("job {id}"),
                    message: "it vanished from the database".into(),
                })?;
            Ok(Outcome::Scheduled(Box::new(job)))
        }
        Err(e) => {
            let state = e.job_state();
            let refused = matches!(e, runner::SubmitError::Refused { .. });
            store.mark_unsubmitted(id, state, &e.to_string(), e.response())?;
            // A callback may have moved the job on meanwhile; say what the
            // record says now.
            let state = store
                .read()
                .job_by_id(id)?
                .map(|j| j.state)
                .unwrap_or(state);
            Err(ScheduleError::Submission {
                message: e.to_string(),
                job_id: id,
                state,
                refused,
            })
        }
    }
}

/// What submitting a plan made.
#[derive(Debug)]
pub struct PlanOutcome {
    /// kbridge's id for the plan.
    pub id: i64,
    /// The runner's uid for the plan.
    pub uid: String,
    /// kbridge's ids of its jobs, in submission order.
    pub jobs: Vec<i64>,
}

/// A plan to submit, and where its jobs report back.
#[derive(Clone, Copy)]
pub struct PlanRequest<'a> {
    pub runner: &'a dyn Runner,
    pub runner_code: &'a str,
    pub plan: &'a runner::Plan,
    pub callback_base: Option<&'a str>,
    pub origin: &'a str,
    /// The KCIDB build id of tests that have no build in the plan.
    pub standalone: Option<&'a str>,
}

/// The most jobs sent in one request, as the tuxsuite client sends them.
const PLAN_BATCH: usize = 500;

/// Submits a plan in the runner's order: the plan, its builds, the sanity
/// tests waiting for their builds, then the other tests waiting for the
/// sanity test (else the build). Each batch's rows are recorded, and
/// committed, before the request that creates its jobs, so an interrupted
/// plan leaves a record of every job that may exist.
pub fn schedule_plan(
    store: &mut Store,
    req: &PlanRequest<'_>,
    feedback: &dyn Feedback,
) -> Result<PlanOutcome, ScheduleError> {
    let PlanRequest {
        runner,
        runner_code,
        plan,
        callback_base,
        origin,
        standalone,
    } = *req;
    if standalone.is_none()
        && plan
            .entries
            .iter()
            .any(|e| e.build.is_none() && (e.sanity.is_some() || !e.tests.is_empty()))
    {
        return Err(ScheduleError::Usage(
            "the plan has tests without a build of its own: give --build-id for the build they test".into(),
        ));
    }
    // The plan is on record before the request that creates it, with the
    // token its own callback must carry.
    let callback =
        callback_base.map(|b| CallbackTarget::new(runner::plan_callback_url(b, runner_code)));
    let plan_id = store.insert_plan(
        runner_code,
        &plan.name,
        callback.as_ref().map(|c| c.token.as_str()),
    )?;
    feedback.started(&format!("creating plan {} on {runner_code}", plan.name));
    let created = runner.submit_plan(plan, callback.as_ref(), feedback);
    feedback.finished();
    let uid = match created {
        Ok(uid) => {
            store.mark_plan(plan_id, Some(&uid), PlanState::Submitted, None)?;
            uid
        }
        Err(e) => {
            let state = match e.job_state() {
                JobState::Unknown => PlanState::Unknown,
                _ => PlanState::Failed,
            };
            store.mark_plan(plan_id, None, state, Some(&e.to_string()))?;
            return Err(ScheduleError::Plan(match state {
                PlanState::Unknown => format!(
                    "the plan may exist on {runner_code} but no usable answer came: {e}; \
                     check {runner_code} before submitting it again (`kbridge plans` lists it as plan {plan_id})"
                ),
                _ => format!("the plan was not created: {e}"),
            }));
        }
    };
    let mut jobs = Vec::new();
    // Submits one stage of the plan, in requests of at most `size` jobs,
    // and gives each entry's runner uid.
    let mut stage = |items: &[(usize, JobSpec)], size: usize| {
        let mut uids = Vec::new();
        for chunk in items.chunks(size.max(1)) {
            let accepted = submit_batch(
                store,
                runner,
                runner_code,
                &uid,
                chunk,
                callback_base,
                feedback,
            )?;
            for ((i, _), (id, job_uid)) in chunk.iter().zip(accepted) {
                jobs.push(id);
                uids.push((*i, job_uid));
            }
        }
        Ok::<_, ScheduleError>(uids)
    };
    let n = plan.entries.len();
    // Per entry: the build's uid, then the sanity test's.
    let mut built: Vec<Option<String>> = vec![None; n];
    let mut sane: Vec<Option<String>> = vec![None; n];

    let builds: Vec<(usize, JobSpec)> = plan
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, JobSpec::Build(e.build.clone()?))))
        .collect();
    for (i, job_uid) in stage(&builds, PLAN_BATCH)? {
        built[i] = Some(job_uid);
    }
    let sanity: Vec<(usize, JobSpec)> = plan
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let s = e.sanity.as_ref()?;
            Some((
                i,
                plan_test(s, built[i].as_deref(), None, origin, standalone),
            ))
        })
        .collect();
    // One request for every sanity test, as the client sends them.
    for (i, job_uid) in stage(&sanity, sanity.len())? {
        sane[i] = Some(job_uid);
    }
    let rest: Vec<(usize, JobSpec)> = plan
        .entries
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            let after = e.sanity.as_ref().and(sane[i].as_deref());
            e.tests
                .iter()
                .map(|t| {
                    (
                        i,
                        plan_test(t, built[i].as_deref(), after, origin, standalone),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    stage(&rest, PLAN_BATCH)?;
    Ok(PlanOutcome {
        id: plan_id,
        uid,
        jobs,
    })
}

/// A plan test as it is submitted: after the sanity test when there is
/// one, else after its build (whose kernel the runner gives it).
fn plan_test(
    t: &TestSpec,
    build: Option<&str>,
    sanity: Option<&str>,
    origin: &str,
    standalone: Option<&str>,
) -> JobSpec {
    let mut t = t.clone();
    match build {
        Some(uid) => {
            t.build_id = format!("{origin}:{uid}");
            t.kernel = None;
            t.modules = None;
            match sanity {
                Some(s) => t.waits_for_test = Some(s.to_string()),
                None => t.waits_for = Some(uid.to_string()),
            }
        }
        None => {
            t.build_id = standalone.unwrap_or_default().to_string();
            t.waits_for_test = sanity.map(str::to_string);
        }
    }
    if t.tests.is_empty() {
        JobSpec::Boot(t)
    } else {
        JobSpec::Test(t)
    }
}

/// Records one batch of a plan's jobs, submits it, and completes the
/// records; returns each job's id and runner uid.
fn submit_batch(
    store: &mut Store,
    runner: &dyn Runner,
    runner_code: &str,
    plan_uid: &str,
    chunk: &[(usize, JobSpec)],
    callback_base: Option<&str>,
    feedback: &dyn Feedback,
) -> Result<Vec<(i64, String)>, ScheduleError> {
    let jobs: Vec<(JobSpec, Option<CallbackTarget>)> = chunk
        .iter()
        .map(|(_, spec)| {
            let callback = callback_target(callback_base, runner_code, spec.kind());
            (spec.clone(), callback)
        })
        .collect();
    let prepared = runner.prepare_jobs(plan_uid, &jobs)?;
    if prepared.entries.len() != jobs.len() {
        return Err(ScheduleError::Plan(format!(
            "{runner_code} prepared {} request entries for {} jobs of plan {plan_uid}; nothing more was sent",
            prepared.entries.len(),
            jobs.len()
        )));
    }
    let batch = store.batch()?;
    let mut ids = Vec::new();
    for ((spec, callback), entry) in jobs.iter().zip(&prepared.entries) {
        let id = batch.insert_job(&NewJob {
            runner: runner_code,
            spec,
            // Each job keeps its own entry of the batch request.
            request: entry,
            callback_url: callback.as_ref().map(|c| c.url.as_str()),
            callback_token: callback.as_ref().map(|c| c.token.as_str()),
            after_job: None,
            plan: Some(plan_uid),
        })?;
        ids.push(id);
    }
    batch.commit()?;
    feedback.started(&format!(
        "submitting {} job(s) of plan {plan_uid}",
        jobs.len()
    ));
    let result = runner.submit_jobs(&prepared, feedback);
    feedback.finished();
    // The batch's rows are completed in one transaction, as they were
    // recorded.
    let done = store.batch()?;
    match result {
        Ok(accepted) => {
            let mut out = Vec::new();
            let mut refused = None;
            for (id, a) in ids.into_iter().zip(accepted) {
                // Every row is completed, even after a uid kbridge cannot use.
                match crate::model::check_uid(&a.uid) {
                    Ok(()) => {
                        done.mark_submitted(id, &a.uid, &a.response)?;
                        out.push((id, a.uid));
                    }
                    Err(e) => {
                        let message = format!("{runner_code} accepted job {id} but {e}");
                        done.mark_unsubmitted(id, JobState::Unknown, &message, Some(&a.response))?;
                        refused.get_or_insert((message, id));
                    }
                }
            }
            done.commit()?;
            match refused {
                None => Ok(out),
                Some((message, job_id)) => Err(ScheduleError::Submission {
                    message,
                    job_id,
                    state: JobState::Unknown,
                    refused: false,
                }),
            }
        }
        Err(e) => {
            for id in &ids {
                done.mark_unsubmitted(*id, e.job_state(), &e.to_string(), e.response())?;
            }
            done.commit()?;
            Err(ScheduleError::Submission {
                message: format!("{e} (plan {plan_uid})"),
                job_id: ids[0],
                state: e.job_state(),
                refused: matches!(e, runner::SubmitError::Refused { .. }),
            })
        }
    }
}
