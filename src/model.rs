//! The shared vocabulary: job kinds, states, what a job asks for, and the
//! record kept of it. Imports nothing else from kbridge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares an enum whose values each have one spelling, written once
/// here: `as_str`, `parse`, `ALL`, `Display`, serde, and rusqlite's
/// `ToSql`/`FromSql` all use it, so the store, JSON output and `--help`
/// cannot disagree.
macro_rules! spelled {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            // Not every enum lists its values outside the tests.
            #[allow(dead_code)]
            pub const ALL: [$name; [$($text),*].len()] = [$($name::$variant),*];

            /// The one spelling of the value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value spelled `s`.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::unknown_variant(&text, &[$($text),*])
                })
            }
        }

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<$name> {
                let text = value.as_str()?;
                $name::parse(text).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("'{text}' is not a {}", stringify!($name)).into(),
                    )
                })
            }
        }

        impl postgres::types::ToSql for $name {
            fn to_sql(
                &self,
                ty: &postgres::types::Type,
                out: &mut bytes::BytesMut,
            ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
                self.as_str().to_sql(ty, out)
            }

            fn accepts(ty: &postgres::types::Type) -> bool {
                <&str as postgres::types::ToSql>::accepts(ty)
            }

            postgres::types::to_sql_checked!();
        }

        impl<'a> postgres::types::FromSql<'a> for $name {
            fn from_sql(
                ty: &postgres::types::Type,
                raw: &'a [u8],
            ) -> Result<$name, Box<dyn std::error::Error + Sync + Send>> {
                let text = <&str as postgres::types::FromSql>::from_sql(ty, raw)?;
                $name::parse(text)
                    .ok_or_else(|| format!("'{text}' is not a {}", stringify!($name)).into())
            }

            fn accepts(ty: &postgres::types::Type) -> bool {
                <&str as postgres::types::FromSql>::accepts(ty)
            }
        }
    };
}

spelled! {
    /// What a job does. Boot tests and tests are the same kind of job on
    /// TuxSuite; kbridge keeps the distinction because KCIDB reports them
    /// differently.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum JobKind {
        Build = "build",
        Test = "test",
        Boot = "boot",
    }
}

spelled! {
    /// Where a job stands, as far as kbridge knows.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum JobState {
        /// Recorded, request under way. A job left here means kbridge stopped
        /// between recording and hearing back; it may exist on the runner.
        Submitting = "submitting",
        /// The runner accepted the job and gave it a uid.
        Submitted = "submitted",
        /// The runner refused the job, or could not be reached: it does not
        /// exist there.
        Failed = "failed",
        /// The request may have reached the runner but no answer came back: the
        /// job may or may not exist there.
        Unknown = "unknown",
        /// The runner's completion callback arrived and was verified; results
        /// are being fetched (the detail says why, if that is taking a while).
        Received = "received",
        /// Results are in and the KCIDB document is written.
        Completed = "completed",
        /// The callback arrived but its results could not be read completely;
        /// the detail says why. A document is still written from what is known.
        Errored = "errored",
        /// The runner canceled the job before it finished (`kbridge cancel`,
        /// or someone on the runner); its document says MISS.
        Canceled = "canceled",
    }
}

impl JobState {
    /// Whether the runner's report on the job (a callback or a poll) has
    /// been accepted: a later one changes nothing.
    pub fn reported(self) -> bool {
        matches!(
            self,
            JobState::Received | JobState::Completed | JobState::Errored | JobState::Canceled
        )
    }

    /// What the state means to a user: `jobs --help` and the README's
    /// table both say this (a test holds the README to it).
    pub fn meaning(self) -> &'static str {
        match self {
            JobState::Submitting => "recorded; kbridge stopped before hearing back (the job may exist on the runner)",
            JobState::Submitted => "the runner accepted the job; its uid is stored; no result yet",
            JobState::Failed => "the runner refused the job or could not be reached: it does not exist there",
            JobState::Unknown => "the request may have reached the runner but no answer came: check the runner before scheduling again",
            JobState::Received => "the runner reported the job finished; its results are being fetched",
            JobState::Completed => "results are in and the KCIDB document is written (RESULT says whether the kernel passed)",
            JobState::Errored => "the job finished but its results could not all be read; a document is written from what is known",
            JobState::Canceled => "the runner canceled the job before it finished (`kbridge cancel`); its KCIDB document says MISS",
        }
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
    /// Everything else a build may be asked for.
    #[serde(default, skip_serializing_if = "BuildOptions::is_empty")]
    pub options: BuildOptions,
}

/// A build's further options, each kept as given (every KEY=VALUE of a
/// repeated flag).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BuildOptions {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub make_variables: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_sha: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub no_cache: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notify_emails: Vec<String>,
    /// An unmerged series to apply before building.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_series: Option<PatchSeries>,
    /// What only the job's runner knows of.
    #[serde(flatten)]
    pub runner: RunnerOptions,
}

/// A patch series, as `--patch-series` read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchSeries {
    /// The file's bytes (a directory packed as a gzip tar), base64.
    File { name: String, base64: String },
    /// Fetched by the runner itself.
    Url(String),
    /// A file series as the job's record keeps it: the bytes went into the
    /// request (kept with the job as sent), so the record names them by
    /// size and the SHA-256 of their base64 text instead of holding them
    /// twice.
    Recorded {
        name: String,
        bytes: u64,
        sha256: String,
    },
}

impl JobSpec {
    /// The job as its record keeps it: a patch series' bytes are in the
    /// request sent, so the spec keeps only what names them.
    pub fn recorded(&self) -> std::borrow::Cow<'_, JobSpec> {
        let JobSpec::Build(b) = self else {
            return std::borrow::Cow::Borrowed(self);
        };
        let Some(PatchSeries::File { name, base64 }) = &b.options.patch_series else {
            return std::borrow::Cow::Borrowed(self);
        };
        let mut b = b.clone();
        b.options.patch_series = Some(PatchSeries::Recorded {
            name: name.clone(),
            bytes: (base64.len() / 4 * 3 - base64.bytes().rev().take_while(|&c| c == b'=').count())
                as u64,
            sha256: sha256_hex(base64.as_bytes()),
        });
        std::borrow::Cow::Owned(JobSpec::Build(b))
    }
}

impl BuildOptions {
    pub fn is_empty(&self) -> bool {
        *self == BuildOptions::default()
    }
}

/// A test's or boot's further options.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TestOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dtb: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bios: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_args: Option<String>,
    /// Minutes, by test name (`boot` included).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeouts: Vec<(String, u64)>,
    /// Archive URL and where it is unpacked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overlays: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notify_emails: Vec<String>,
    /// What only the job's runner knows of.
    #[serde(flatten)]
    pub runner: RunnerOptions,
}

/// A job's options that only its runner knows of, by the keys the runner
/// declares ([`crate::runner::OptionDef`]) or reads from its own plan
/// files: kept with the job's description, at its top level, and checked
/// by the runner when it builds the request.
pub type RunnerOptions = serde_json::Map<String, serde_json::Value>;

impl TestOptions {
    pub fn is_empty(&self) -> bool {
        *self == TestOptions::default()
    }
}

/// A test or boot job on a built kernel. For a boot job `tests` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSpec {
    /// Filled with the runner's default device when not given.
    pub device: String,
    /// A job definition file in the runner's own format, submitted instead
    /// of one the runner writes (runners that take none refuse it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<std::path::PathBuf>,
    /// The kernel image; `None` when the job waits for a build and runs on
    /// its kernel (`waits_for`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
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
    /// The runner uid of a build still running: the runner starts the job
    /// on its kernel when it succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
    /// The runner uid of a test (a plan's sanity test) this one starts
    /// after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waits_for_test: Option<String>,
    /// Everything else a test may be asked for.
    #[serde(default, skip_serializing_if = "TestOptions::is_empty")]
    pub options: TestOptions,
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
    /// What the runner last said of the job (its callback, or a poll):
    /// where it stands now, so it comes before the request and its answer.
    pub status: Option<serde_json::Value>,
    /// When it said it (RFC 3339 UTC).
    pub status_at: Option<String>,
    /// The exact body sent to the runner.
    pub request: serde_json::Value,
    /// The runner's answer to the submission, as received when the job was
    /// scheduled: what it said then, not now.
    pub response: Option<serde_json::Value>,
    /// The worst KCIDB status in the job's document, once there is one.
    pub result: Option<Status>,
    /// The build job this test waits for (`--after`).
    pub after_job: Option<i64>,
    /// Something polling found worth saying once (results expired).
    pub poll_note: Option<String>,
    /// The runner's plan the job belongs to, if any.
    pub plan: Option<String>,
    pub build_id: Option<String>,
    pub collection: Option<String>,
    pub tests: Vec<String>,
    pub device: Option<String>,
    /// The device the runner ran the job on, once it says (a LAVA lab's
    /// board, where `device` is its type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_device: Option<String>,
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

spelled! {
    /// Where a runner's plan stands, as far as kbridge knows. Its jobs have
    /// their own states; this is the plan's record itself.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum PlanState {
        /// Recorded, request under way (or kbridge stopped before hearing
        /// back: the plan may exist on the runner).
        Submitting = "submitting",
        /// The runner created the plan and gave it a uid.
        Submitted = "submitted",
        /// The runner refused the plan or could not be reached.
        Failed = "failed",
        /// The request may have reached the runner but no usable answer came.
        Unknown = "unknown",
        /// The runner's plan callback arrived: every job of the plan is done.
        Finished = "finished",
    }
}

/// A runner's plan as recorded: written before the request that creates
/// it, so a plan that may exist on the runner is always on record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRecord {
    /// kbridge's own id for the plan.
    pub id: i64,
    pub runner: String,
    /// The runner's uid, once it answered.
    pub uid: Option<String>,
    /// The plan file's name (none for plans recorded before kbridge kept
    /// plans, known only from their jobs).
    pub name: Option<String>,
    pub state: PlanState,
    /// Why the plan is in its state, when that is not plain success.
    pub detail: Option<String>,
    /// The jobs recorded for the plan, and how many of them the runner
    /// has reported on.
    pub jobs: i64,
    pub jobs_done: i64,
    /// What the plan callback said, summarised (result counts per kind).
    pub report: Option<serde_json::Value>,
    /// The secret the plan callback must carry. Never printed.
    #[serde(serialize_with = "redact")]
    pub callback_token: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// When the plan callback arrived.
    pub finished_at: Option<String>,
    /// When `kbridge cancel --plan` asked the runner to cancel it.
    pub canceled_at: Option<String>,
}

/// `builds 2 pass, tests 3 pass 1 fail`, from the summary a plan's
/// callback left ([`PlanRecord::report`]).
pub fn plan_results(summary: &serde_json::Value) -> String {
    let parts: Vec<String> = ["builds", "tests", "oebuilds"]
        .iter()
        .filter_map(|kind| {
            let counts = summary.get(*kind)?.as_object()?;
            let words: Vec<String> = counts
                .iter()
                .filter_map(|(result, n)| Some(format!("{} {result}", n.as_u64()?)))
                .collect();
            (!words.is_empty()).then(|| format!("{kind} {}", words.join(" ")))
        })
        .collect();
    if parts.is_empty() {
        "no job results in the callback".into()
    } else {
        parts.join(", ")
    }
}

fn redact<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_str("<redacted>"),
        None => s.serialize_none(),
    }
}

spelled! {
    /// A verdict in KCIDB's vocabulary, in priority order (a summary of
    /// several is the first that appears).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub enum Status {
        Fail = "FAIL",
        Error = "ERROR",
        Miss = "MISS",
        Pass = "PASS",
        Done = "DONE",
        Skip = "SKIP",
    }
}

impl Status {
    /// Maps a runner's or LAVA's verdict. Anything not clearly a verdict
    /// (`canceled`, `unknown`, absent) is MISS: upper-casing is not enough.
    pub fn from_runner(verdict: Option<&str>) -> Status {
        match verdict.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("pass") => Status::Pass,
            Some("fail") => Status::Fail,
            Some("skip") => Status::Skip,
            Some("error") => Status::Error,
            _ => Status::Miss,
        }
    }
}

/// A file a job produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputFile {
    pub name: String,
    pub url: String,
}

/// What a finished build produced, independently of the runner.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BuildResults {
    /// The runner canceled the build before it finished.
    pub canceled: bool,
    pub git_repo: Option<String>,
    pub git_ref: Option<String>,
    pub git_sha: Option<String>,
    pub git_describe: Option<String>,
    pub arch: Option<String>,
    pub toolchain: Option<String>,
    pub kconfig: Vec<String>,
    pub status: Option<Status>,
    /// RFC 3339 UTC.
    pub start_time: Option<String>,
    /// Seconds.
    pub duration: Option<f64>,
    pub log_url: Option<String>,
    pub log_excerpt: Option<String>,
    pub config_url: Option<String>,
    pub output_files: Vec<OutputFile>,
    /// Runner-specific facts for KCIDB's `misc`.
    pub misc: serde_json::Map<String, serde_json::Value>,
}

/// One test case found in a test job's detailed results.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// The requested test (suite) it belongs to.
    pub test: String,
    /// A set the case belongs to within its test (a level of its path).
    pub set: Option<String>,
    pub name: String,
    pub status: Status,
    pub duration: Option<f64>,
    /// What the case measured, as KCIDB's `number`.
    pub measurement: Option<Measurement>,
}

/// A value a test measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub value: f64,
    /// Empty when the runner gave none.
    pub unit: String,
}

/// What a finished test or boot job found, independently of the runner.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TestResults {
    pub device: Option<String>,
    /// Each requested test's verdict (and `boot`'s), as the runner gave it.
    pub verdicts: std::collections::BTreeMap<String, Status>,
    pub cases: Vec<CaseResult>,
    /// RFC 3339 UTC.
    pub start_time: Option<String>,
    pub duration: Option<f64>,
    pub log_url: Option<String>,
    pub log_excerpt: Option<String>,
    /// Why the detailed results are incomplete, if they are.
    pub problem: Option<String>,
    /// What was left out to keep the document within bounds (the verdicts
    /// stand).
    pub trimmed: Option<String>,
    pub misc: serde_json::Map<String, serde_json::Value>,
    /// The runner canceled the job before it finished.
    pub canceled: bool,
    /// KCIDB paths a runner gives its tests itself (by test name), instead
    /// of kbridge's `{collection}.{rest}` rule: for runners whose suites
    /// already name themselves.
    pub paths: std::collections::BTreeMap<String, String>,
}

/// The results of a finished job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobResults {
    Build(BuildResults),
    Test(TestResults),
}

impl JobResults {
    /// Why the results are incomplete, if they are.
    /// Whether the runner canceled the job before it finished.
    pub fn canceled(&self) -> bool {
        match self {
            JobResults::Build(b) => b.canceled,
            JobResults::Test(t) => t.canceled,
        }
    }

    pub fn problem(&self) -> Option<&str> {
        match self {
            JobResults::Build(_) => None,
            JobResults::Test(t) => t.problem.as_deref(),
        }
    }

    /// What was left out to keep the document within bounds.
    pub fn trimmed(&self) -> Option<&str> {
        match self {
            JobResults::Build(_) => None,
            JobResults::Test(t) => t.trimmed.as_deref(),
        }
    }

    /// Drops the test cases, keeping the verdicts, and says why.
    pub fn drop_cases(&mut self, why: String) {
        if let JobResults::Test(t) = self {
            let n = t.cases.len();
            t.cases.clear();
            t.misc
                .entry("cases_dropped")
                .or_insert_with(|| serde_json::Value::from(n as u64));
            t.trimmed = Some(why);
        }
    }

    /// How many test cases there are.
    pub fn cases(&self) -> usize {
        match self {
            JobResults::Build(_) => 0,
            JobResults::Test(t) => t.cases.len(),
        }
    }
}

spelled! {
    /// Where a received callback stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum InboxStatus {
        /// Its signature or token did not hold; answered 401.
        Rejected = "rejected",
        /// Verified, but not a callback kbridge can read; answered 400.
        Invalid = "invalid",
        /// Verified, for a job kbridge does not know (yet).
        Unmatched = "unmatched",
        /// Matched to a job; results are being fetched.
        Pending = "pending",
        /// Results are in and the KCIDB document is written.
        Processed = "processed",
        /// For a job that already had its callback; changed nothing.
        Duplicate = "duplicate",
        /// Fetching results kept failing; `kbridge inbox replay` tries again.
        Failed = "failed",
        /// A callback whose runner said, when asked, that the job had not
        /// finished: a notice that came early (or was sent by someone who read
        /// the job's token). The job stays submitted and is polled; the row is
        /// reused by the job's next callback.
        Early = "early",
    }
}

spelled! {
    /// Where a KCIDB document's delivery stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum OutboxState {
        /// Not sent yet, or sent and to be tried again.
        Pending = "pending",
        /// KCIDB accepted it (spooled it: `kbridge outbox check` asks whether
        /// it was ingested).
        Submitted = "submitted",
        /// It will not be sent as it is: it failed the local check, or KCIDB
        /// refused it, or retrying gave up. The reason says which.
        Failed = "failed",
    }
}

/// A document in the outbox, as `kbridge outbox` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    /// What the document is about (`job 3 (tuxsuite test 2MBY…)`).
    pub label: String,
    pub job_id: Option<i64>,
    pub state: OutboxState,
    pub attempts: i64,
    /// Why it is in its state, or the last error before a retry.
    pub reason: Option<String>,
    /// Set when the job was processed again after submission and made
    /// different bytes; the bytes first sent are kept.
    pub changed: Option<String>,
    /// KCIDB's id for the submission that carried it.
    pub submission: Option<String>,
    /// What `kbridge outbox check` last heard about that submission.
    pub ingest: Option<String>,
    pub bytes: usize,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
    /// Milliseconds since the epoch, for ages.
    #[serde(skip)]
    pub created_ms: i64,
}

/// A received callback as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboxEntry {
    pub id: i64,
    /// RFC 3339 UTC.
    pub received_at: String,
    pub runner: String,
    pub kind: JobKind,
    pub status: InboxStatus,
    /// What the signature covered (`raw`, `inner`), `unverified`, or none
    /// for a callback whose signature did not hold.
    pub verified_as: Option<String>,
    /// Why it is in its status, when that is not plain success.
    pub reason: Option<String>,
    /// The headers kept with it (signature, content type, user agent).
    pub headers: serde_json::Value,
    /// Whether it carried a callback token (the token itself is never shown).
    #[serde(skip)]
    pub token: Option<String>,
    /// The raw body as received; none for rejected signatures.
    #[serde(skip)]
    pub body: Option<Vec<u8>>,
    pub body_bytes: usize,
    pub uid: Option<String>,
    pub job_id: Option<i64>,
    pub attempts: i64,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// What a runner reports about a finished job, from a verified callback or
/// from polling it.
#[derive(Debug, Clone, PartialEq)]
pub struct Callback {
    /// The runner's id of the job it reports on, in the form kbridge stores
    /// it; `None` when the report alone cannot tell (a runner whose
    /// callbacks are bound to their job by token only).
    pub uid: Option<String>,
    /// What the report names its job by when it is not a uid kbridge
    /// stores (a LAVA job id without its lab); matched against the job by
    /// [`crate::runner::Runner::callback_is_for`].
    pub subject: Option<String>,
    /// The runner's description of the finished job.
    pub status: serde_json::Value,
}

impl Callback {
    /// What the report names its job by: its subject, else its uid.
    pub fn names(&self) -> Option<&str> {
        self.subject.as_deref().or(self.uid.as_deref())
    }
}

/// The longest runner job id kbridge accepts.
pub const MAX_UID_LEN: usize = 128;

/// Checks a runner's job id before it is used in a file name, a URL or a
/// KCIDB id, whichever runner produced it: ASCII letters, digits, `.`, `_`
/// and `-`, at most [`MAX_UID_LEN`] characters, not starting with `.` and
/// without `..`.
pub fn check_uid(uid: &str) -> Result<(), BadUid> {
    let safe = uid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if uid.is_empty()
        || uid.len() > MAX_UID_LEN
        || !safe
        || uid.starts_with('.')
        || uid.contains("..")
    {
        let shown: String = uid
            .chars()
            .take(40)
            .flat_map(char::escape_default)
            .collect();
        return Err(BadUid(shown));
    }
    Ok(())
}

/// A runner's job id that [`check_uid`] refuses, as it may be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job id '{0}' is not usable: ids are 1 to {MAX_UID_LEN} letters, digits, '.', '_' or '-', without '..'")]
pub struct BadUid(String);

impl Job {
    /// The job as it may be shown: the callback token is replaced wherever
    /// it appears in the stored request and response, whatever field the
    /// runner put it in, and inside any text (a LAVA job definition is
    /// YAML in a JSON string, with the token in its `notify` block).
    pub fn redacted(mut self) -> Job {
        fn scrub(v: &mut serde_json::Value, secret: &str) {
            match v {
                serde_json::Value::String(s) if s.contains(secret) => {
                    *s = s.replace(secret, "<redacted>")
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(|i| scrub(i, secret)),
                serde_json::Value::Object(map) => map.values_mut().for_each(|i| scrub(i, secret)),
                _ => {}
            }
        }
        if let Some(token) = self.callback_token.clone().filter(|t| !t.is_empty()) {
            scrub(&mut self.request, &token);
            for v in [&mut self.response, &mut self.status].into_iter().flatten() {
                scrub(v, &token);
            }
        }
        self
    }
}

/// KCIDB's limit on `log_excerpt`, in characters.
pub const LOG_EXCERPT_CHARS: usize = 16384;

/// The last [`LOG_EXCERPT_CHARS`] characters of a log (the end is where
/// failures are), NULs removed, cut on a character boundary.
pub fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes).replace('\0', "");
    let count = text.chars().count();
    if count <= LOG_EXCERPT_CHARS {
        return text;
    }
    text.chars().skip(count - LOG_EXCERPT_CHARS).collect()
}

/// A test job on QEMU for tests written in unit tests across modules.
#[cfg(test)]
pub fn sample_test_spec(build_id: &str, tests: &[&str]) -> TestSpec {
    TestSpec {
        options: Default::default(),
        device: "qemu-riscv64".into(),
        definition: None,
        kernel: Some("https://example.org/Image".into()),
        modules: None,
        build_id: build_id.into(),
        tests: tests.iter().map(|s| s.to_string()).collect(),
        collection: Some("ltp".into()),
        parameters: vec![],
        private: false,
        waits_for: None,
        waits_for_test: None,
    }
}

/// A recorded test job built from `spec`, for unit tests.
#[cfg(test)]
pub fn sample_job(id: i64, kind: JobKind, spec: TestSpec) -> Job {
    Job {
        id,
        runner: "tuxsuite".into(),
        kind,
        uid: Some("2MBYa8FhoBHkRCX2BMMPusjuClf".into()),
        state: JobState::Received,
        detail: None,
        summary: String::new(),
        build_id: Some(spec.build_id.clone()),
        collection: spec.collection.clone(),
        tests: spec.tests.clone(),
        device: Some(spec.device.clone()),
        actual_device: None,
        spec: if kind == JobKind::Boot {
            JobSpec::Boot(spec)
        } else {
            JobSpec::Test(spec)
        },
        request: serde_json::Value::Null,
        response: None,
        status: None,
        status_at: None,
        result: None,
        after_job: None,
        poll_note: None,
        plan: None,
        callback_url: None,
        callback_token: None,
        scheduled_at: String::new(),
        updated_at: String::new(),
    }
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

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

/// The device a test runs on when neither the command line nor the runner
/// names one: the RISC-V community kbridge grew from tests on QEMU.
pub const DEFAULT_DEVICE: &str = "qemu-riscv64";

/// The QEMU devices hosted runners offer under these names (TuxRun's),
/// offered by shell completion for `--device`.
pub const QEMU_DEVICES: &[&str] = &[
    "qemu-arm64",
    "qemu-arm64be",
    "qemu-armv5",
    "qemu-armv7",
    "qemu-armv7be",
    "qemu-i386",
    "qemu-m68k",
    "qemu-mips32",
    "qemu-mips32el",
    "qemu-mips64",
    "qemu-mips64el",
    "qemu-ppc32",
    "qemu-ppc64",
    "qemu-ppc64le",
    "qemu-riscv32",
    "qemu-riscv64",
    "qemu-s390",
    "qemu-sh4",
    "qemu-sparc64",
    "qemu-x86_64",
];

/// The toolchain names builds usually ask for, offered by shell
/// completion for `--toolchain`.
pub const USUAL_TOOLCHAINS: &[&str] = &[
    "gcc-10",
    "gcc-11",
    "gcc-12",
    "gcc-13",
    "gcc-14",
    "clang-15",
    "clang-16",
    "clang-17",
    "clang-18",
    "clang-19",
    "clang-nightly",
    "korg-gcc-13",
    "korg-clang-18",
    "rustgcc",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Each value of a spelled enum: its JSON is its spelling, and SQL
    /// gives back what was bound.
    fn round_trips<T>(all: &[T])
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + Serialize + for<'de> Deserialize<'de>,
        T: rusqlite::ToSql + rusqlite::types::FromSql,
    {
        let sql = rusqlite::Connection::open_in_memory().unwrap();
        let mut seen = std::collections::HashSet::new();
        for v in all {
            let spelled = v.to_string();
            assert!(seen.insert(spelled.clone()), "{spelled} is spelled twice");
            assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{spelled}\""));
            assert_eq!(
                serde_json::from_str::<T>(&format!("\"{spelled}\"")).unwrap(),
                *v
            );
            let (back, text): (T, String) = sql
                .query_row("SELECT ?1, ?1", [v], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            assert_eq!((back, text.as_str()), (*v, spelled.as_str()));
        }
        assert!(serde_json::from_str::<T>("\"no such value\"").is_err());
        let e = sql
            .query_row("SELECT 'no such value'", [], |r| r.get::<_, T>(0))
            .unwrap_err();
        assert!(e.to_string().contains("no such value"), "{e}");
    }

    #[test]
    fn every_enum_has_one_spelling_in_json_and_sql() {
        round_trips(&JobKind::ALL);
        round_trips(&JobState::ALL);
        round_trips(&PlanState::ALL);
        round_trips(&Status::ALL);
        round_trips(&InboxStatus::ALL);
        round_trips(&OutboxState::ALL);
    }

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
    fn uids_are_checked() {
        assert!(check_uid("2MBYa8FhoBHkRCX2BMMPusjuClf").is_ok());
        assert!(check_uid("mylab.42").is_ok());
        for bad in ["", "..", "../etc", "a/b", ".hidden", "a..b", "a b", "é"] {
            assert!(check_uid(bad).is_err(), "{bad}");
        }
        assert!(check_uid(&"x".repeat(MAX_UID_LEN + 1)).is_err());
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
