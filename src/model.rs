//! The shared vocabulary: job kinds, states, what a job asks for, and the
//! record kept of it. Imports nothing else from kbridge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a job does. Boot tests and tests are the same kind of job on
/// TuxSuite; kbridge keeps the distinction because KCIDB reports them
/// differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Build,
    Test,
    Boot,
}

impl JobKind {
    /// Every kind, in the order used for routes and documentation.
    pub const ALL: [JobKind; 3] = [JobKind::Build, JobKind::Test, JobKind::Boot];

    /// The lower-case name used in the store, URLs and output.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Build => "build",
            JobKind::Test => "test",
            JobKind::Boot => "boot",
        }
    }

    /// Parses the name written by [`JobKind::as_str`].
    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a job stands, as far as kbridge knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Recorded, request under way. A job left here means kbridge stopped
    /// between recording and hearing back; it may exist on the runner.
    Submitting,
    /// The runner accepted the job and gave it a uid.
    Submitted,
    /// The runner refused the job, or could not be reached: it does not
    /// exist there.
    Failed,
    /// The request may have reached the runner but no answer came back: the
    /// job may or may not exist there.
    Unknown,
}

impl JobState {
    /// Every state, for validating filters.
    pub const ALL: [JobState; 4] = [
        JobState::Submitting,
        JobState::Submitted,
        JobState::Failed,
        JobState::Unknown,
    ];

    /// The lower-case name used in the store and output.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Submitting => "submitting",
            JobState::Submitted => "submitted",
            JobState::Failed => "failed",
            JobState::Unknown => "unknown",
        }
    }

    /// Parses the name written by [`JobState::as_str`].
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kernel build, as kbridge describes it independently of any runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildSpec {
    pub tree: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    pub arch: String,
    pub toolchain: String,
    /// Base configuration first (when given), then the fragments.
    pub kconfig: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Ask the runner to keep the results private.
    #[serde(default, skip_serializing_if = "is_false")]
    pub private: bool,
}

/// A test or boot job on a built kernel. For a boot job `tests` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSpec {
    pub device: String,
    pub kernel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modules: Option<String>,
    /// KCIDB id of the build under test.
    pub build_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<(String, String)>,
    /// Ask the runner to keep the results private.
    #[serde(default, skip_serializing_if = "is_false")]
    pub private: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What a job asks a runner to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum JobSpec {
    Build(BuildSpec),
    Test(TestSpec),
    Boot(TestSpec),
}

impl JobSpec {
    /// The job's kind.
    pub fn kind(&self) -> JobKind {
        match self {
            JobSpec::Build(_) => JobKind::Build,
            JobSpec::Test(_) => JobKind::Test,
            JobSpec::Boot(_) => JobKind::Boot,
        }
    }

    /// The test or boot part, if this is not a build.
    pub fn tests(&self) -> Option<&TestSpec> {
        match self {
            JobSpec::Build(_) => None,
            JobSpec::Test(t) | JobSpec::Boot(t) => Some(t),
        }
    }

    /// One line saying what the job does, for tables and messages.
    pub fn summary(&self) -> String {
        match self {
            JobSpec::Build(b) => {
                let rev = b.branch.as_deref().or(b.sha.as_deref()).unwrap_or("?");
                format!(
                    "{} {} {} {}@{}",
                    b.arch,
                    b.toolchain,
                    b.kconfig.join("+"),
                    b.tree,
                    rev
                )
            }
            JobSpec::Test(t) => format!("{}: {}", t.device, t.tests.join(", ")),
            JobSpec::Boot(t) => format!("{}: boot", t.device),
        }
    }
}

/// Everything kbridge stores about one job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// kbridge's own id, assigned when the job is first recorded.
    pub id: i64,
    pub runner: String,
    pub kind: JobKind,
    /// The runner's id for the job, once it accepted it.
    pub uid: Option<String>,
    pub state: JobState,
    /// Why the job is in its state, when that is not plain success.
    pub detail: Option<String>,
    pub summary: String,
    pub spec: JobSpec,
    /// The exact body sent to the runner.
    pub request: serde_json::Value,
    /// The runner's answer, as received.
    pub response: Option<serde_json::Value>,
    pub build_id: Option<String>,
    pub collection: Option<String>,
    pub tests: Vec<String>,
    pub device: Option<String>,
    pub callback_url: Option<String>,
    /// The per-job secret the runner echoes in its callback. Never printed:
    /// output says only whether there is one.
    #[serde(serialize_with = "redact")]
    pub callback_token: Option<String>,
    /// RFC 3339 UTC.
    pub scheduled_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

fn redact<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_str("<redacted>"),
        None => s.serialize_none(),
    }
}

impl Job {
    /// The job as it may be shown: the callback token is replaced wherever
    /// it appears in the stored request and response, whatever field the
    /// runner put it in.
    pub fn redacted(mut self) -> Job {
        fn scrub(v: &mut serde_json::Value, secret: &str) {
            match v {
                serde_json::Value::String(s) if s == secret => *s = "<redacted>".into(),
                serde_json::Value::Array(items) => items.iter_mut().for_each(|i| scrub(i, secret)),
                serde_json::Value::Object(map) => map.values_mut().for_each(|i| scrub(i, secret)),
                _ => {}
            }
        }
        if let Some(token) = self.callback_token.clone() {
            scrub(&mut self.request, &token);
            if let Some(r) = &mut self.response {
                scrub(r, &token);
            }
        }
        self
    }
}

/// The current time as RFC 3339 UTC with second precision, the format of
/// every timestamp kbridge stores.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Whether `s` looks like a KCIDB id (`origin:local-part`).
pub fn is_kcidb_id(s: &str) -> bool {
    match s.split_once(':') {
        Some((origin, rest)) => is_valid_origin(origin) && !rest.is_empty(),
        None => false,
    }
}

/// Whether `s` is a legal KCIDB origin (`^[a-z0-9_]+$`).
pub fn is_valid_origin(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kcidb_ids() {
        assert!(is_kcidb_id("maestro:681b69099ae9711e9ed49766"));
        assert!(is_kcidb_id("kbridge:2ZITcwA6wxeKxh9cZA5HBJ6FkSj"));
        assert!(!is_kcidb_id("2ZITcwA6wxeKxh9cZA5HBJ6FkSj"));
        assert!(!is_kcidb_id("Maestro:1"));
        assert!(!is_kcidb_id("maestro:"));
        assert!(!is_kcidb_id("my-lab:1"));
    }

    #[test]
    fn names_round_trip() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
    }
}
