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

use crate::model::{is_kcidb_id, Job, JobKind, JobSpec, JobState, PlanState};
use crate::runner::{
    self, Accepted, CallbackTarget, Feedback, Halted, JobBatch, PlanSink, Plans, PrepareError,
    Runner, StageError, Submission, SubmitError,
};
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
        JobState::Submitted | JobState::Received
            if runner.chaining().is_some_and(|c| c.can_wait_for(&build)) =>
        {
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
                    at: store.location().clone(),
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
    /// The plans of the runner `runner_code`.
    pub plans: &'a dyn Plans,
    pub runner_code: &'a str,
    pub plan: &'a runner::Plan,
    pub callback_base: Option<&'a str>,
    pub origin: &'a str,
    /// The KCIDB build id of tests that have no build in the plan.
    pub standalone: Option<&'a str>,
}

/// Submits a plan: the plan itself, then its jobs in the runner's own
/// stages and batches ([`Plans::stage`]). The plan and each batch's rows
/// are recorded, and committed, before the request that creates them, so
/// an interrupted plan leaves a record of every job that may exist.
pub fn schedule_plan(
    store: &mut Store,
    req: &PlanRequest<'_>,
    feedback: &dyn Feedback,
) -> Result<PlanOutcome, ScheduleError> {
    let PlanRequest {
        plans,
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
    let created = plans.submit_plan(plan, callback.as_ref(), feedback);
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
    let mut recorder = Recorder {
        store,
        runner_code,
        plan_uid: &uid,
        callback_base,
        origin,
        standalone,
        feedback,
        batch: Vec::new(),
        jobs: Vec::new(),
        error: None,
    };
    let staged = plans.stage(plan, &uid, &mut recorder);
    match staged {
        Ok(()) => {
            let jobs = recorder.jobs;
            Ok(PlanOutcome {
                id: plan_id,
                uid,
                jobs,
            })
        }
        Err(StageError::Prepare(e)) => Err(e.into()),
        Err(StageError::Halted) => Err(recorder.error.take().expect("a sink that halts says why")),
    }
}

/// Records a plan's batches for the runner's staging: each batch's rows are
/// committed before the request that creates its jobs, and completed in
/// one transaction with the runner's answer.
struct Recorder<'a> {
    store: &'a mut Store,
    runner_code: &'a str,
    plan_uid: &'a str,
    callback_base: Option<&'a str>,
    origin: &'a str,
    standalone: Option<&'a str>,
    feedback: &'a dyn Feedback,
    /// The ids of the batch last recorded.
    batch: Vec<i64>,
    /// Every job recorded.
    jobs: Vec<i64>,
    error: Option<ScheduleError>,
}

impl Recorder<'_> {
    fn halt(&mut self, e: impl Into<ScheduleError>) -> Halted {
        self.error = Some(e.into());
        Halted
    }

    fn record_batch(
        &mut self,
        batch: &JobBatch,
        jobs: &[(JobSpec, Option<CallbackTarget>)],
    ) -> Result<(), ScheduleError> {
        let (runner_code, plan_uid) = (self.runner_code, self.plan_uid);
        if batch.entries.len() != jobs.len() {
            return Err(ScheduleError::Plan(format!(
                "{runner_code} prepared {} request entries for {} jobs of plan {plan_uid}; nothing more was sent",
                batch.entries.len(),
                jobs.len()
            )));
        }
        let rows = self.store.batch()?;
        let mut ids = Vec::new();
        for ((spec, callback), entry) in jobs.iter().zip(&batch.entries) {
            let id = rows.insert_job(&NewJob {
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
        rows.commit()?;
        self.jobs.extend(&ids);
        self.batch = ids;
        Ok(())
    }

    fn complete_batch(
        &mut self,
        answer: Result<Vec<Accepted>, SubmitError>,
    ) -> Result<Vec<String>, ScheduleError> {
        let (runner_code, plan_uid) = (self.runner_code, self.plan_uid);
        let ids = std::mem::take(&mut self.batch);
        let done = self.store.batch()?;
        match answer {
            Ok(accepted) => {
                let mut out = Vec::new();
                let mut refused = None;
                for (id, a) in ids.into_iter().zip(accepted) {
                    // Every row is completed, even after a uid kbridge cannot use.
                    match crate::model::check_uid(&a.uid) {
                        Ok(()) => {
                            done.mark_submitted(id, &a.uid, &a.response)?;
                            out.push(a.uid);
                        }
                        Err(e) => {
                            let message = format!("{runner_code} accepted job {id} but {e}");
                            done.mark_unsubmitted(
                                id,
                                JobState::Unknown,
                                &message,
                                Some(&a.response),
                            )?;
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
}

impl PlanSink for Recorder<'_> {
    fn callback(&mut self, kind: JobKind) -> Option<CallbackTarget> {
        callback_target(self.callback_base, self.runner_code, kind)
    }

    fn build_id(&self, build: Option<&str>) -> String {
        match build {
            Some(uid) => format!("{}:{uid}", self.origin),
            None => self.standalone.unwrap_or_default().to_string(),
        }
    }

    fn record(
        &mut self,
        batch: &JobBatch,
        jobs: &[(JobSpec, Option<CallbackTarget>)],
    ) -> Result<(), Halted> {
        self.record_batch(batch, jobs).map_err(|e| self.halt(e))
    }

    fn submitted(
        &mut self,
        answer: Result<Vec<Accepted>, SubmitError>,
    ) -> Result<Vec<String>, Halted> {
        self.complete_batch(answer).map_err(|e| self.halt(e))
    }

    fn feedback(&self) -> &dyn Feedback {
        self.feedback
    }
}
