//! Runners: services that take a job and a callback URL and report back
//! when the job is done.
//!
//! Adding a runner means writing one module that implements [`Runner`] and
//! adding one [`RunnerInfo`] line to [`RUNNERS`]. Everything around it comes
//! from shared code: `kbridge schedule --runner CODE`, the callback URL
//! `{callback_url}/callback/{CODE}/{kind}` with its per-job token, the job
//! record in the store, de-duplication, `--dry-run` and `--json`. See
//! `docs/runners.md` for a walk through the TuxSuite module.
//!
//! Runners know nothing of the store or of KCIDB.

pub mod http;
pub mod tuxsuite;

use std::fmt;
use std::time::Duration;

use crate::config::{ConfigError, Environment, RunnerSettings};
use crate::model::{Callback, Job, JobKind, JobResults, JobSpec, JobState};

/// The header carrying the per-job secret that binds a callback to its job.
pub const CALLBACK_TOKEN_HEADER: &str = "X-Kbridge-Token";

/// Every runner kbridge knows. One line per runner.
pub const RUNNERS: &[RunnerInfo] = &[tuxsuite::INFO];

/// A registry entry: a runner's code and how to open it.
pub struct RunnerInfo {
    /// The name used on the command line and in callback URLs.
    pub code: &'static str,
    /// One line for help and error messages.
    pub description: &'static str,
    /// Reads the runner's own settings and returns a ready runner.
    pub open: fn(&RunnerContext<'_>) -> Result<Box<dyn Runner>, ConfigError>,
}

/// Looks a runner up by code.
pub fn find(code: &str) -> Option<&'static RunnerInfo> {
    RUNNERS.iter().find(|r| r.code == code)
}

/// Every registered runner with its description, for messages.
pub fn available() -> String {
    RUNNERS
        .iter()
        .map(|r| format!("{} ({})", r.code, r.description))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the runner is opened for: each needs different settings (a token
/// to schedule; public keys to receive callbacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Schedule,
    /// Receive callbacks; `verify` is false only under
    /// `--insecure-skip-verify`.
    Listen {
        verify: bool,
    },
}

/// What a runner may use to set itself up.
pub struct RunnerContext<'a> {
    pub purpose: Purpose,
    /// The environment, for the runner service's own variables and files.
    pub env: &'a Environment,
    /// Callback keys and artefact hosts from kbridge's settings.
    pub settings: &'a RunnerSettings,
    /// How long to wait for one answer.
    pub http_timeout: Duration,
    /// The first pause before a retry; later pauses double.
    pub retry_delay: Duration,
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
}

impl fmt::Display for Submission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.url)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {value}")?;
        }
        writeln!(f)?;
        let body = serde_json::to_string_pretty(&self.body).map_err(|_| fmt::Error)?;
        write!(f, "{body}")
    }
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

/// Receives what a runner has to tell the user while it works: progress
/// (shown on a terminal only) and warnings from the service (always shown).
pub trait Feedback {
    fn progress(&self, message: &str);
    fn warning(&self, message: &str);
}

/// Why a job's results could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Worth retrying later: a network error, a timeout, a 5xx.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help: a host that is not allowed, a missing field.
    #[error("{0}")]
    Permanent(String),
}

/// A service that runs jobs and calls back when they finish.
///
/// The shared code calls, in order: `verify_callback` on the raw request
/// (nothing else happens to a request that fails it), `parse_callback` on
/// the stored bytes, then `fetch_results` for a callback matched to a job.
pub trait Runner: Send + Sync {
    /// Builds the request for `spec`. Pure: nothing is sent.
    fn prepare(&self, spec: &JobSpec, callback: Option<&CallbackTarget>) -> Submission;

    /// Sends a prepared request, retrying where that cannot create a
    /// duplicate job, and returns the runner's id for the job.
    fn submit(
        &self,
        submission: &Submission,
        feedback: &dyn Feedback,
    ) -> Result<Accepted, SubmitError>;

    /// Checks that a callback comes from the runner, from the raw bytes and
    /// headers only. Returns a short name for what was verified (stored
    /// with the callback and given back to `parse_callback`), or a reason
    /// safe to send back to the client.
    fn verify_callback(
        &self,
        headers: &::http::HeaderMap,
        body: &[u8],
    ) -> Result<&'static str, String>;

    /// The request headers worth keeping with a stored callback.
    fn callback_headers(&self) -> &'static [&'static str];

    /// Parses a callback received on `/callback/{code}/{kind}`.
    /// `verified_as` is what `verify_callback` returned, or `unverified`.
    fn parse_callback(
        &self,
        kind: JobKind,
        body: &[u8],
        verified_as: &str,
    ) -> Result<Callback, String>;

    /// Fetches and reads the results of a finished job.
    fn fetch_results(&self, job: &Job, callback: &Callback) -> Result<JobResults, FetchError>;
}

/// What `verify_callback` is replaced by under `--insecure-skip-verify`.
pub const UNVERIFIED: &str = "unverified";

/// `{base}/callback/{runner}/{kind}`: the one URL scheme `kbridge listen`
/// serves, for every runner.
pub fn callback_url(base: &str, runner: &str, kind: crate::model::JobKind) -> String {
    format!("{}/callback/{runner}/{kind}", base.trim_end_matches('/'))
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
        let token = bytes.iter().map(|b| format!("{b:02x}")).collect();
        CallbackTarget { url, token }
    }
}
