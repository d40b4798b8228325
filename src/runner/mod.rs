//! Runners: services that take a job and a callback URL and report back
//! when the job is done.
//!
//! Adding a runner means writing one module that implements [`Runner`] and
//! adding one [`RunnerInfo`] line to [`crate::registry::RUNNERS`]. Everything around it comes
//! from shared code: `kbridge schedule --runner CODE`, the callback URL
//! `{callback_url}/callback/{CODE}/{kind}` with its per-job token, the job
//! record in the store, de-duplication, `--dry-run` and `--json`; the
//! listener's route, body limits, durable inbox, token binding and
//! idempotency; the results pipeline and the KCIDB document. The runner's
//! settings (its `[CODE]` table, its flags) are declared in its module, in
//! [`RunnerInfo::settings`]. See `docs/runners.md`.
//!
//! A runner depends only on the shared vocabulary (`model`), the
//! environment and resolved settings (`config`), and the HTTP helpers
//! (`http`, `retry`). It knows nothing of the store or of KCIDB.

pub mod lava;
pub mod tuxsuite;

#[cfg(test)]
pub mod testing;

use std::fmt;
use std::time::Duration;

use crate::config::{ConfigError, Environment, Section, SettingDef};
use crate::model::{Callback, Job, JobKind, JobResults, JobSpec, JobState};
use crate::retry::Backoff;

/// The header carrying the per-job secret that binds a callback to its job.
pub const CALLBACK_TOKEN_HEADER: &str = "X-Kbridge-Token";

/// A registry entry: a runner's code, its settings, and how to open it.
pub struct RunnerInfo {
    /// The name used on the command line and in callback URLs: lower-case
    /// letters and digits.
    pub code: &'static str,
    /// One line for help and error messages.
    pub description: &'static str,
    /// The runner's own settings (keys start with `{code}.`), with their
    /// flags; they join kbridge's settings table.
    pub settings: &'static [SettingDef],
    /// The runner's own job options, each a flag of the `schedule`
    /// commands it names; a job carries their values to the runner.
    pub options: &'static [OptionDef],
    /// Reads the runner's settings and returns a ready runner. Opening
    /// sends nothing over the network.
    pub open: fn(&RunnerContext<'_>) -> Result<Box<dyn Runner>, OpenError>,
    /// What `kbridge config` shows about the runner beyond its settings
    /// table (such as where the service's own token was found), never a
    /// secret.
    pub describe: fn(&RunnerContext<'_>) -> Vec<ConfigRow>,
}

/// A job option a runner declares: a flag of `kbridge schedule` commands,
/// whose value reaches the runner in the job's description
/// ([`crate::model::RunnerOptions`], under `key`) for it to check and use.
/// Only jobs on the runner that declares it take it.
#[derive(Debug)]
pub struct OptionDef {
    /// Its key in the job's options.
    pub key: &'static str,
    /// Its flag, without the leading `--`.
    pub long: &'static str,
    pub value: OptionValue,
    /// One line for `--help`.
    pub help: &'static str,
    /// The kinds of job that take it.
    pub kinds: &'static [JobKind],
}

/// What an option's flag takes, and how its value is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionValue {
    /// No value: `true` when given.
    Switch,
    /// One value, not empty (the placeholder shown): a string.
    One(&'static str),
}

/// One line of `kbridge config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRow {
    pub key: String,
    pub value: String,
    pub source: String,
}

/// What the runner is opened for: each needs different settings (a token
/// to schedule; public keys to receive callbacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Submit jobs (`dry_run`: build requests only, nothing is sent).
    Schedule { dry_run: bool },
    /// Receive callbacks; `verify` is false only under
    /// `--insecure-skip-verify`.
    Listen { verify: bool },
    /// Process stored callbacks and poll jobs (replay, wait).
    Process,
}

/// What a runner may use to set itself up.
pub struct RunnerContext<'a> {
    pub purpose: Purpose,
    /// The environment, for the runner service's own variables and files.
    pub env: &'a Environment,
    /// The runner's own settings, its `[CODE]` table: a key of another
    /// table has no value here.
    pub settings: Section<'a>,
    /// How long to wait for one answer.
    pub http_timeout: Duration,
    /// What fetching one job's artefacts may cost.
    pub artifact_caps: ArtifactCaps,
    /// How requests are retried.
    pub backoff: Backoff,
}

/// What fetching one job's artefacts may cost: a runner keeps within it
/// whatever its servers send.
#[derive(Debug, Clone, Copy)]
pub struct ArtifactCaps {
    /// The most bytes read of one artefact.
    pub bytes: u64,
    /// The longest time spent on one artefact.
    pub time: Duration,
    /// The most test cases kept per job.
    pub cases: usize,
}

/// One line of `kbridge doctor`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// What was checked, such as `tuxsuite token`.
    pub what: String,
    pub verdict: Verdict,
    /// What was found, and what to do when it is wrong.
    pub detail: String,
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    /// Needed for what is configured, and wrong.
    Fail,
    /// Worth knowing, but nothing configured depends on it.
    Note,
}

impl Check {
    pub fn ok(what: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            what: what.into(),
            verdict: Verdict::Ok,
            detail: detail.into(),
        }
    }

    pub fn fail(what: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            what: what.into(),
            verdict: Verdict::Fail,
            detail: detail.into(),
        }
    }

    pub fn note(what: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            what: what.into(),
            verdict: Verdict::Note,
            detail: detail.into(),
        }
    }
}

/// Why a runner could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The runner is not set up for this purpose (a listener without the
    /// runner's keys): a listener skips it; anywhere else it is a
    /// configuration error.
    #[error("{0}")]
    NotConfigured(String),
    /// Nothing of the runner is set up here (no LAVA lab at all): a
    /// listener skips it without a word; anywhere else it is a
    /// configuration error.
    #[error("{0}")]
    Unused(String),
    /// Its settings are wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Its service could not be asked for what was missing.
    #[error("{0}")]
    Unreachable(String),
}

/// Where and how a job reports back.
#[derive(Debug, Clone)]
pub struct CallbackTarget {
    /// `{callback_url}/callback/{runner}/{kind}`.
    pub url: String,
    /// Sent back by the runner in [`CALLBACK_TOKEN_HEADER`].
    pub token: String,
}

/// A request ready to send. `--dry-run` prints it and the store keeps its
/// body, so it holds exactly what goes on the wire except secrets, which the
/// runner adds when sending.
#[derive(Debug, Clone)]
pub struct Submission {
    pub method: &'static str,
    pub url: String,
    /// Headers shown to the user; secret values are already redacted.
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    /// Whether sending the request twice cannot create two jobs (the runner
    /// recognises a repeated request), so it may be retried after a failure
    /// that might have reached the runner.
    pub idempotent: bool,
    /// What the user should know about this request before relying on it
    /// (a dry run's placeholders, say); shown as notes.
    pub notes: Vec<String>,
    /// How the body is shown to a person when its JSON is not the clearest
    /// form (a LAVA definition is YAML inside a JSON string).
    pub shown: Option<String>,
    /// The device the request names when it is not the one asked for (a
    /// job definition of the user's own says its own device type): what
    /// the job's record keeps.
    pub device: Option<String>,
}

impl fmt::Display for Submission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.url)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {value}")?;
        }
        writeln!(f)?;
        if let Some(shown) = &self.shown {
            return write!(f, "{}", shown.trim_end());
        }
        let body = serde_json::to_string_pretty(&self.body).map_err(|_| fmt::Error)?;
        write!(f, "{body}")
    }
}

/// Why a runner will not build a request for a job.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The runner does not do this (a kind, an option): a usage error.
    #[error("{0}")]
    Unsupported(String),
    /// The runner's settings do not allow it: a configuration error.
    #[error("{0}")]
    Config(String),
}

/// The runner's acceptance of a job.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The runner's id for the job.
    pub uid: String,
    /// The answer as received.
    pub response: serde_json::Value,
}

/// Why a job was not accepted. The variant says whether the job may exist
/// on the runner anyway, which decides the state it is recorded in.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The runner answered and refused the job.
    #[error("{message}")]
    Refused {
        message: String,
        response: Option<serde_json::Value>,
    },
    /// The request never reached the runner, or the runner said it is down.
    #[error("{message}")]
    Unreachable { message: String },
    /// The request may have reached the runner but no usable answer came
    /// back: the job may exist there.
    #[error("{message}")]
    Uncertain {
        message: String,
        response: Option<serde_json::Value>,
    },
}

impl SubmitError {
    /// The state a job is left in after this error.
    pub fn job_state(&self) -> JobState {
        match self {
            SubmitError::Refused { .. } | SubmitError::Unreachable { .. } => JobState::Failed,
            SubmitError::Uncertain { .. } => JobState::Unknown,
        }
    }

    /// The runner's answer, if there was one worth keeping.
    pub fn response(&self) -> Option<&serde_json::Value> {
        match self {
            SubmitError::Refused { response, .. } | SubmitError::Uncertain { response, .. } => {
                response.as_ref()
            }
            SubmitError::Unreachable { .. } => None,
        }
    }
}

/// Receives what a runner (or the scheduler) has to tell the user while it
/// works: progress (shown on a terminal only), notes (unless `--quiet`) and
/// warnings from the service (always shown).
pub trait Feedback {
    /// A step has started (a spinner on a terminal, nothing elsewhere).
    fn started(&self, _message: &str) {}
    /// The step has ended.
    fn finished(&self) {}
    /// Something a person watching should know (a retry).
    fn progress(&self, message: &str);
    fn warning(&self, message: &str);
    fn note(&self, message: &str) {
        self.progress(message);
    }
}

/// How strongly a runner's callbacks are authenticated, which decides what
/// the shared code may keep of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackAuth {
    /// The runner signs its callbacks (TuxSuite): a callback whose
    /// signature holds is genuine even before its job is known, so it may
    /// be kept as unmatched until the job appears.
    Signed,
    /// Only a shared per-job token authenticates a callback (LAVA): it must
    /// match a known job's token at once, or it is refused and nothing of
    /// it is kept.
    TokenOnly,
}

/// Why a callback's authentication did not hold. Messages are safe to send
/// back: they never include a key, a signature, a token or the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Mismatch(String),
}

/// Why a callback body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("callback body is not JSON: {0}")]
    NotJson(String),
    #[error("callback has no {0}")]
    Missing(&'static str),
    #[error("callback of kind \"{got}\" sent to the {route} route")]
    WrongRoute { got: String, route: JobKind },
    #[error("{0}")]
    Invalid(String),
}

/// Why a job's results could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Worth retrying later: a network error, a timeout, a 5xx.
    #[error("{0}")]
    Transient(String),
    /// The service asked to wait this long before asking again
    /// (`Retry-After`).
    #[error("{why}")]
    Throttled { why: String, after: Duration },
    /// Retrying cannot help: a host that is not allowed, a missing field.
    #[error("{0}")]
    Permanent(String),
    /// The runner says the job has not finished: whatever led here (a
    /// callback authenticated by a token anyone reading the job can see)
    /// came early. Nothing is fetched; the job is polled until it finishes.
    #[error("{0}")]
    NotFinished(String),
}

impl FetchError {
    /// What a request that got no answer means: worth retrying, unless the
    /// server speaks plain HTTP where https was asked for (no retry helps).
    pub fn transport(e: &ureq::Error, why: String) -> FetchError {
        if crate::http::plain_http(e) {
            FetchError::Permanent(why)
        } else {
            FetchError::Transient(why)
        }
    }

    /// What an HTTP answer that is neither a success nor a case the caller
    /// names means: wait as asked (429/503 with `Retry-After`), try again
    /// later (408, 429, 5xx), or give up; `why` says what happened.
    pub fn from_status(status: u16, retry_after: Option<Duration>, why: String) -> FetchError {
        match (status, retry_after) {
            (429 | 503, Some(after)) => FetchError::Throttled { why, after },
            (408 | 429 | 500..=599, _) => FetchError::Transient(why),
            _ => FetchError::Permanent(why),
        }
    }
}

/// What polling a job found.
#[derive(Debug, Clone, PartialEq)]
pub enum Polled {
    /// Finished: the same report a callback would carry.
    Finished(Callback),
    /// Not finished yet; `state` is the runner's word for where it is,
    /// `queued` says whether it has not started, and `status` is what the
    /// runner said.
    Running {
        state: String,
        queued: bool,
        status: serde_json::Value,
    },
}

/// A runner's plan, read and expanded: its jobs and how they chain.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub description: String,
    /// The plan file as given (the runner keeps it with the plan).
    pub text: String,
    pub private: bool,
    /// Who the runner mails when the whole plan ends (not each job).
    pub notify_emails: Vec<String>,
    pub entries: Vec<PlanEntry>,
    /// What the user should know about how the file was read (settings
    /// kbridge replaces with its own).
    pub notes: Vec<String>,
}

/// What the command line gives the jobs of a plan; what the plan file
/// says of a job comes first.
#[derive(Debug, Clone, Default)]
pub struct PlanDefaults {
    /// Job names to keep (`*` matches anything); empty keeps every job.
    pub only: Vec<String>,
    /// Every job private, whatever the file says.
    pub private: bool,
    /// The repository of builds that name none.
    pub tree: Option<String>,
    /// The branch or commit of builds that name neither.
    pub branch: Option<String>,
    pub sha: Option<String>,
    /// Builds skip the runner's cache unless the file says otherwise.
    pub no_cache: bool,
    /// Test parameters added to every test, below the file's own.
    pub parameters: Vec<(String, String)>,
    /// Who the runner mails when the whole plan ends.
    pub notify_emails: Vec<String>,
}

/// One build of a plan and the tests that follow it (or standalone tests
/// when there is no build): a sanity test waits for the build, the other
/// tests for the sanity test, else for the build.
#[derive(Debug, Clone)]
pub struct PlanEntry {
    pub build: Option<crate::model::BuildSpec>,
    /// The build's own `patch_series` as the file gives it (a path, a URL
    /// or a message-id), loaded by the command like `--patch-series`.
    pub patch_series: Option<String>,
    pub sanity: Option<crate::model::TestSpec>,
    pub tests: Vec<crate::model::TestSpec>,
}

impl Plan {
    /// How many jobs the plan makes.
    pub fn count(&self) -> usize {
        self.entries
            .iter()
            .map(|e| e.build.is_some() as usize + e.sanity.is_some() as usize + e.tests.len())
            .sum()
    }
}

/// Jobs of a plan submitted in one request.
#[derive(Debug, Clone)]
pub struct JobBatch {
    pub submission: Submission,
    /// Each job's entry in the request, in order.
    pub entries: Vec<serde_json::Value>,
}

/// What a plan callback says: which plan, and a short summary of how its
/// jobs ended (what is recorded; the jobs' own reports carry the rest).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanReport {
    pub uid: Option<String>,
    pub summary: serde_json::Value,
}

/// A file a job produced, as its runner lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Artefact {
    /// Its path below the job's files; downloads go to `DIR/UID/NAME`.
    pub name: String,
    pub url: String,
    /// Why kbridge will not fetch it (a host that is not allowed, a path
    /// outside the job's folder), if it will not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// Every file of a job a runner lists.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub files: Vec<Artefact>,
    /// Why the listing is not complete, when a bound on what a listing may
    /// cost (folders, requests, entries, time) was reached.
    pub cut: Option<String>,
}

/// A job found on the runner: what it is and what the runner says of it.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// Its description; a test's `build_id` is left empty.
    pub spec: JobSpec,
    /// The runner uid of the build a test ran on, when the runner says.
    pub build_uid: Option<String>,
    pub status: serde_json::Value,
}

/// Where a finished build's kernel is, for a test chained to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltKernel {
    pub kernel: String,
    pub modules: Option<String>,
}

/// Fixed facts of a runner's callback protocol, which decide what the
/// shared code may do with a callback before and after it is verified.
#[derive(Debug, Clone, Copy)]
pub struct Protocol {
    /// How callbacks are authenticated.
    pub auth: CallbackAuth,
    /// The header every genuine callback carries: a request without it is
    /// refused before its body is read.
    pub auth_header: &'static str,
    /// The request headers worth keeping with a stored callback.
    pub kept_headers: &'static [&'static str],
    /// How long the runner keeps a job's results; polling a job older than
    /// that is pointless.
    pub results_lifetime: Option<Duration>,
}

/// A service that runs jobs and calls back when they finish: the core
/// every runner implements.
///
/// The shared code calls, in order: `prepare` and `submit` to schedule;
/// for a callback, `precheck` before the body is read (a request without
/// [`Protocol::auth_header`] is refused unread), `verify_callback` on the
/// raw bytes (nothing else happens to a request that fails it),
/// `stored_body`, `parse_callback` on the stored bytes, `callback_is_for`
/// once its job is known, then `fetch_results`. `poll` stands in for a
/// callback that never came.
///
/// What only some runners do is reached through an accessor that returns
/// `None` unless the runner does it: [`Runner::plans`], [`Runner::cancel`],
/// [`Runner::logs`], [`Runner::artefacts`], [`Runner::track`],
/// [`Runner::chaining`].
pub trait Runner: Send + Sync {
    // Submitting.

    /// Builds the request for `spec`. Pure: nothing is sent. A runner that
    /// does not do what `spec` asks (a kind, an option) says so. `job_id`
    /// is kbridge's id for the job (none in a dry run), for runners that
    /// label their jobs.
    fn prepare(
        &self,
        spec: &JobSpec,
        callback: Option<&CallbackTarget>,
        job_id: Option<i64>,
    ) -> Result<Submission, PrepareError>;

    /// For `--dry-run`: asks the service whether it would accept the
    /// request, creating nothing, when the user asked for that. `Ok(Some)`
    /// is its word to show; `Err` says why it would refuse.
    fn validate(&self, submission: &Submission) -> Result<Option<String>, PrepareError> {
        let _ = submission;
        Ok(None)
    }

    /// Sends a prepared request, retrying where that cannot create a
    /// duplicate job, and returns the runner's id for the job.
    fn submit(
        &self,
        submission: &Submission,
        feedback: &dyn Feedback,
    ) -> Result<Accepted, SubmitError>;

    /// The device a test or boot runs on when the command line names none.
    fn default_device(&self) -> Option<String> {
        None
    }

    // Receiving.

    /// How callbacks are authenticated and what is kept of them.
    fn protocol(&self) -> Protocol;

    /// What can be checked of a callback's authentication from its headers
    /// alone, before its body is read: by default that
    /// [`Protocol::auth_header`] is there and not empty.
    fn precheck(&self, headers: &::http::HeaderMap) -> Result<(), VerifyError> {
        let header = self.protocol().auth_header;
        match headers.get(header) {
            Some(v) if !v.as_bytes().trim_ascii().is_empty() => Ok(()),
            _ => Err(VerifyError::Missing(header)),
        }
    }

    /// Checks that a callback comes from the runner, from the raw bytes and
    /// headers only. Returns a short name for what was verified (stored
    /// with the callback and given back to `parse_callback`).
    fn verify_callback(
        &self,
        headers: &::http::HeaderMap,
        body: &[u8],
    ) -> Result<&'static str, VerifyError>;

    /// What of a verified body is stored: by default all of it, byte for
    /// byte (a signature covers it). A runner whose bodies repeat a secret
    /// removes it here.
    fn stored_body(&self, body: Vec<u8>) -> Vec<u8> {
        body
    }

    /// Parses a callback received on `/callback/{code}/{kind}`.
    /// `verified_as` is what `verify_callback` returned, or [`UNVERIFIED`].
    fn parse_callback(
        &self,
        kind: JobKind,
        body: &[u8],
        verified_as: &str,
    ) -> Result<Callback, ParseError>;

    /// Whether a callback bound to `job` by its token really reports on
    /// that job, given what it names ([`Callback::subject`]).
    fn callback_is_for(&self, job: &Job, subject: Option<&str>) -> bool {
        match (subject, &job.uid) {
            (Some(c), Some(j)) => c == j,
            _ => true,
        }
    }

    // Results.

    /// Asks the runner where a job stands.
    fn poll(&self, job: &Job) -> Result<Polled, FetchError>;

    /// Fetches and reads the results of a finished job.
    fn fetch_results(&self, job: &Job, callback: &Callback) -> Result<JobResults, FetchError>;

    // Setup.

    /// `kbridge doctor`'s checks of this runner's setup: its account (asked
    /// of the service with one cheap authenticated request) and, when
    /// `listening`, what verifies its callbacks.
    fn doctor(&self, listening: bool) -> Vec<Check> {
        let _ = listening;
        vec![]
    }

    // Capabilities: `None` unless the runner has them.

    /// Plans: many jobs created, chained and reported on as one.
    fn plans(&self) -> Option<&dyn Plans> {
        None
    }

    /// Canceling a job that has not finished.
    fn cancel(&self) -> Option<&dyn Cancel> {
        None
    }

    /// A job's log.
    fn logs(&self) -> Option<&dyn Logs> {
        None
    }

    /// The files a job produced.
    fn artefacts(&self) -> Option<&dyn Artefacts> {
        None
    }

    /// Following a job kbridge did not schedule.
    fn track(&self) -> Option<&dyn Track> {
        None
    }

    /// Tests that run on the kernel of a build on the same runner.
    fn chaining(&self) -> Option<&dyn Chaining> {
        None
    }
}

/// A runner's plans: a file of jobs created on the runner as one plan,
/// submitted in stages so each job can wait for the one it needs.
pub trait Plans {
    /// Reads a plan file, with what the command line gives every job of
    /// it. Pure: nothing is read or sent.
    fn read_plan(&self, text: &str, defaults: &PlanDefaults) -> Result<Plan, PrepareError>;

    /// Creates the plan on the runner, returning its uid; its jobs are
    /// submitted after, with [`Plans::stage`]. `callback` is where the
    /// runner reports the whole plan's end, when it does.
    fn submit_plan(
        &self,
        plan: &Plan,
        callback: Option<&CallbackTarget>,
        feedback: &dyn Feedback,
    ) -> Result<String, SubmitError>;

    /// Submits the jobs of plan `plan` (its uid), in the runner's order and
    /// batches, each batch recorded through `sink` before it is sent.
    /// Stops at the first batch the sink refuses or the runner does not
    /// accept.
    fn stage(&self, plan: &Plan, uid: &str, sink: &mut dyn PlanSink) -> Result<(), StageError>;

    /// Parses a plan callback received on `/callback/{code}/plan`, after
    /// `verify_callback` held.
    fn parse_plan_callback(&self, body: &[u8], verified_as: &str)
        -> Result<PlanReport, ParseError>;

    /// Asks the runner where several jobs of plan `plan` stand in as few
    /// requests as it allows: one answer per job, in order. `None`: it
    /// cannot now, and each job is polled on its own.
    fn poll_plan(&self, plan: &str, jobs: &[&Job]) -> Option<Vec<Result<Polled, FetchError>>>;

    /// Asks the runner to cancel every unfinished job of plan `uid`.
    fn cancel_plan(&self, uid: &str) -> Result<(), FetchError>;
}

/// Where a runner's plan staging records its batches: kbridge makes each
/// job's callback, records the batch before it is sent and completes the
/// records with the runner's answer.
pub trait PlanSink {
    /// Where a job of this kind reports back, if anywhere.
    fn callback(&mut self, kind: JobKind) -> Option<CallbackTarget>;

    /// The KCIDB build id of a test of the plan whose build has runner uid
    /// `build` (none: a test with no build in the plan).
    fn build_id(&self, build: Option<&str>) -> String;

    /// Records a batch about to be sent: each job with its own entry of
    /// the request.
    fn record(
        &mut self,
        batch: &JobBatch,
        jobs: &[(JobSpec, Option<CallbackTarget>)],
    ) -> Result<(), Halted>;

    /// Completes the records of the batch last recorded with the runner's
    /// answer, and gives each job's runner uid, in order.
    fn submitted(
        &mut self,
        answer: Result<Vec<Accepted>, SubmitError>,
    ) -> Result<Vec<String>, Halted>;

    fn feedback(&self) -> &dyn Feedback;
}

/// A plan's staging stopped: the sink holds why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Halted;

/// Why a plan's staging stopped.
#[derive(Debug)]
pub enum StageError {
    /// The runner would not build a batch's request.
    Prepare(PrepareError),
    /// The sink refused a batch or its answer; it holds why.
    Halted,
}

impl From<PrepareError> for StageError {
    fn from(e: PrepareError) -> StageError {
        StageError::Prepare(e)
    }
}

impl From<Halted> for StageError {
    fn from(_: Halted) -> StageError {
        StageError::Halted
    }
}

/// Canceling jobs.
pub trait Cancel {
    /// Asks the runner to cancel a job that has not finished. The job ends
    /// `canceled` when the runner reports it so (callback or poll).
    fn cancel(&self, job: &Job) -> Result<(), FetchError>;
}

/// A job's log.
pub trait Logs {
    /// Where [`Logs::logs`] reads a job's log from.
    fn log_source(&self, job: &Job) -> Result<String, FetchError>;

    /// Writes a job's log to `out` as it arrives: a build's log, or a
    /// test's console (`raw`: the log file as the runner keeps it).
    fn logs(&self, job: &Job, raw: bool, out: &mut dyn std::io::Write) -> Result<(), FetchError>;
}

/// The files a job produced.
pub trait Artefacts {
    /// Every file the runner lists for the job, each saying whether kbridge
    /// will fetch it, and whether the listing was cut.
    fn list(&self, job: &Job) -> Result<Listing, FetchError>;

    /// Fetches one listed file into `out`, with the runner's token only
    /// where its own rules send it; returns the bytes written. `out` may
    /// refuse more bytes (a cap): the copy then fails.
    fn download(
        &self,
        job: &Job,
        file: &Artefact,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, FetchError>;
}

/// Following jobs kbridge did not schedule.
pub trait Track {
    /// Looks up a job started with the runner's own client or web UI so it
    /// can be recorded and followed like one kbridge scheduled. `build`
    /// says which kind the uid is, when the user knows.
    fn track(&self, uid: &str, build: Option<bool>) -> Result<Tracked, FetchError>;
}

/// Tests chained to a build on the same runner.
pub trait Chaining {
    /// Where the kernel of a finished build this runner ran is, from what
    /// it reported (`job.status`).
    fn built_kernel(&self, build: &Job) -> Option<BuiltKernel>;

    /// Whether a test can be submitted to start when `build` (still
    /// running) finishes.
    fn can_wait_for(&self, build: &Job) -> bool;
}

/// What using a capability a runner lacks ends in: `what` completes
/// "{code} ...", such as "cannot cancel jobs from kbridge".
pub fn lacking(code: &str, what: &str) -> FetchError {
    FetchError::Permanent(format!("{code} {what}"))
}

/// The per-job token a callback carries, if any.
pub fn callback_token(headers: &::http::HeaderMap) -> Option<&str> {
    headers.get(CALLBACK_TOKEN_HEADER)?.to_str().ok()
}

/// The longest log line handed on whole: a longer one is cut, with a
/// marker, so a log with no line breaks (or a gzip-encoded one that
/// inflates to gigabytes on one line) costs no more memory than this.
pub const MAX_LOG_LINE: usize = 64 * 1024;

/// What ends a line that was cut.
pub const CUT_MARKER: &str = " [… line cut: longer than 64 KiB]";

/// Reads `reader` a line at a time, each at most `max` bytes: a longer
/// line is handed to `each` cut to its first `max` bytes, with `true`, and
/// the rest of it is skipped unread into memory.
pub fn bounded_lines(
    mut reader: impl std::io::BufRead,
    max: usize,
    mut each: impl FnMut(&[u8], bool) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        let (mut cut, mut any, mut ended) = (false, false, false);
        while !ended {
            let buf = match reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                break;
            }
            any = true;
            let (chunk, used) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    ended = true;
                    (&buf[..i], i + 1)
                }
                None => (buf, buf.len()),
            };
            let room = max.saturating_sub(line.len());
            cut |= chunk.len() > room;
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            reader.consume(used);
        }
        if !any {
            return Ok(());
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        each(&line, cut)?;
    }
}

/// The console lines of a LAVA-style log (one `- {"dt", "lvl", "msg"}`
/// mapping per line, console output at `lvl: target`), handed to `each` a
/// line at a time, so a log is never held whole. A line longer than
/// [`MAX_LOG_LINE`] is cut, its message ending in [`CUT_MARKER`].
pub fn console_lines(
    reader: impl std::io::BufRead,
    mut each: impl FnMut(&str) -> std::io::Result<()>,
) -> std::io::Result<()> {
    bounded_lines(reader, MAX_LOG_LINE, |bytes, cut| {
        let line = String::from_utf8_lossy(bytes);
        let Some(item) = line.trim_start().strip_prefix("- ") else {
            return Ok(());
        };
        if cut {
            return match cut_message(item) {
                Some(msg) => each(&format!("{msg}{CUT_MARKER}")),
                None => Ok(()),
            };
        }
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(item) else {
            return Ok(());
        };
        if entry["lvl"] != "target" {
            return Ok(());
        }
        match &entry["msg"] {
            serde_json::Value::String(s) => each(s),
            other => each(&other.to_string()),
        }
    })
}

/// The start of a console message from the first bytes of a log entry too
/// long to read whole: the text after `"msg": "`, unescaped as far as it
/// goes, if the entry is console output.
fn cut_message(item: &str) -> Option<String> {
    let compact: String = item.split_whitespace().collect::<Vec<_>>().join(" ");
    if !compact.contains("\"lvl\": \"target\"") {
        return None;
    }
    let start = item.find("\"msg\"")?;
    let rest = item[start + 5..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let text = rest.strip_prefix('"')?;
    // The cut may fall inside an escape: drop a few characters until what
    // is left reads as a JSON string.
    let mut candidate = text;
    for _ in 0..8 {
        if let Ok(s) = serde_json::from_str::<String>(&format!("\"{candidate}\"")) {
            return Some(s);
        }
        let mut chars = candidate.chars();
        chars.next_back();
        candidate = chars.as_str();
    }
    Some(text.to_string())
}

/// What `verify_callback` is replaced by under `--insecure-skip-verify`.
pub const UNVERIFIED: &str = "unverified";
/// What a report obtained by polling the runner is stored as.
pub const POLLED: &str = "polled";

/// `{base}/callback/{runner}/{kind}`: the one URL scheme `kbridge listen`
/// serves, for every runner.
pub fn callback_url(base: &str, runner: &str, kind: JobKind) -> String {
    route_url(base, runner, kind.as_str())
}

/// `{base}/callback/{runner}/plan`: where a runner reports a whole plan's
/// end.
pub fn plan_callback_url(base: &str, runner: &str) -> String {
    route_url(base, runner, "plan")
}

fn route_url(base: &str, runner: &str, route: &str) -> String {
    format!("{}/callback/{runner}/{route}", base.trim_end_matches('/'))
}

impl CallbackTarget {
    /// A target with a fresh token: 256 bits from the operating system's
    /// random source, hex-encoded.
    pub fn new(url: String) -> CallbackTarget {
        use ring::rand::SecureRandom;
        let mut bytes = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .expect("the OS random source is available");
        let token = crate::model::hex(&bytes);
        // A runner's error answer may echo the callback headers it was
        // sent; the token must not reach the job's detail that way.
        crate::secrets::register(&token);
        CallbackTarget { url, token }
    }
}

#[cfg(test)]
mod log_lines {
    use super::*;

    /// The traits a runner implements, in the order `docs/runners.md`
    /// lists them.
    const TRAITS: [&str; 8] = [
        "Runner",
        "Plans",
        "PlanSink",
        "Cancel",
        "Logs",
        "Artefacts",
        "Track",
        "Chaining",
    ];

    /// Every method signature of the traits `names` in `text` (Rust
    /// source, or a listing of it), as `Trait: fn ...`, whitespace
    /// collapsed and comments and default bodies left out.
    fn signatures(text: &str, names: &[&str]) -> Vec<String> {
        let text: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let mut out = Vec::new();
        for name in names {
            let head = format!("pub trait {name}");
            let start = text
                .match_indices(&head)
                .map(|(i, _)| i)
                .find(|&i| {
                    let rest = &text[i + head.len()..];
                    rest.starts_with(' ') || rest.starts_with(':') || rest.starts_with('{')
                })
                .unwrap_or_else(|| panic!("no `{head}`"));
            let body = &text[start + text[start..].find('{').unwrap() + 1..];
            let (mut depth, mut item, mut in_fn) = (0usize, String::new(), false);
            for c in body.chars() {
                match c {
                    '{' if depth == 0 && in_fn => {
                        out.push(format!("{name}: {}", normalise(&item)));
                        (item, in_fn, depth) = (String::new(), false, 1);
                    }
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ';' if depth == 0 && in_fn => {
                        out.push(format!("{name}: {}", normalise(&item)));
                        (item, in_fn) = (String::new(), false);
                    }
                    _ if depth == 0 => {
                        item.push(c);
                        if !in_fn && item.trim_start().starts_with("fn ") {
                            in_fn = true;
                        } else if !in_fn && !"fn ".starts_with(item.trim_start()) {
                            item.clear();
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    fn normalise(item: &str) -> String {
        item.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace("( ", "(")
            .replace(", )", ")")
            .replace(",)", ")")
    }

    #[test]
    fn the_trait_listing_in_the_docs_is_the_code() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let code = std::fs::read_to_string(root.join("src/runner/mod.rs")).unwrap();
        let docs = std::fs::read_to_string(root.join("docs/runners.md")).unwrap();
        let marker = "<!-- the trait listing: checked against src/runner/mod.rs -->";
        let listing = docs
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split("```rust").nth(1))
            .and_then(|rest| rest.split("```").next())
            .expect("docs/runners.md has the marked trait listing");
        let (code, docs) = (signatures(&code, &TRAITS), signatures(listing, &TRAITS));
        assert!(code.len() > 20, "{code:#?}");
        for s in &code {
            assert!(docs.contains(s), "docs/runners.md lacks {s}");
        }
        for s in &docs {
            assert!(
                code.contains(s),
                "docs/runners.md lists {s}, which the code does not have"
            );
        }
        assert_eq!(
            code, docs,
            "docs/runners.md lists the methods in another order"
        );
    }

    #[test]
    fn a_line_too_long_is_cut_with_a_marker_and_the_next_ones_follow() {
        let huge = "y".repeat(3 * MAX_LOG_LINE);
        let log = format!(
            "- {{\"dt\": \"1\", \"lvl\": \"target\", \"msg\": \"a\\\"b\"}}\r\n\
             - {{\"dt\": \"2\", \"lvl\": \"target\", \"msg\": \"{huge}\"}}\n\
             - {{\"dt\": \"3\", \"lvl\": \"info\", \"msg\": \"{huge}\"}}\n\
             - {{\"dt\": \"4\", \"lvl\": \"target\", \"msg\": \"end\"}}"
        );
        let mut got = Vec::new();
        console_lines(
            std::io::BufReader::with_capacity(1000, log.as_bytes()),
            |l| {
                got.push(l.to_string());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            got.len(),
            3,
            "{:?}",
            got.iter().map(|g| g.len()).collect::<Vec<_>>()
        );
        assert_eq!(got[0], "a\"b");
        assert!(got[1].starts_with("yyyy") && got[1].ends_with(CUT_MARKER));
        assert!(got[1].len() < MAX_LOG_LINE + CUT_MARKER.len());
        assert_eq!(got[2], "end");
    }

    #[test]
    fn a_cut_inside_an_escape_still_reads() {
        let item = "{\"dt\": \"1\", \"lvl\": \"target\", \"msg\": \"ab\\u00";
        assert_eq!(cut_message(item).as_deref(), Some("ab"));
        assert_eq!(cut_message("{\"lvl\": \"info\", \"msg\": \"x"), None);
    }
}
