//! The command-line surface: clap types and their help text.
//!
//! This text is also the text of the man pages and shell completions (see
//! `src/manual.rs`), so it is written for readers of both. The commands
//! and their own options are the derive types below; the flags that set a
//! *setting* (`--db`, `--bind`, a runner's `--tuxsuite-public-key`, ...)
//! are added from the settings table ([`crate::registry::Registry::settings`]), so each
//! is declared once, beside its environment variable and default. This
//! module names no runner.
//!
//! Values are validated here only where the check needs nothing but the
//! value itself (URL shapes, non-empty lists); everything that needs
//! configuration or the store is checked later.

use std::path::PathBuf;

use clap::builder::{NonEmptyStringValueParser, PossibleValuesParser, TypedValueParser, ValueHint};
use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::config::{self, FlagValues, Kind, SettingDef};
use crate::model::{JobKind, JobState, OutboxState};
use crate::registry::Registry;
use crate::runner::{OptionDef, OptionValue};

/// Schedule kernel builds and tests on hosted runners and report the results
/// to KernelCI's KCIDB.
#[derive(Debug, Parser)]
#[command(name = "kbridge", version, about, long_about = None)]
#[command(propagate_version = true)]
pub struct Cli {
    /// Read settings from this TOML file instead of
    /// $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]
    #[arg(long, global = true, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub config: Option<PathBuf>,

    /// Print no progress indicators or notes, only results and errors
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Print each HTTP request kbridge sends and the answer (method, URL,
    /// status, time) on stderr, secrets redacted; twice for headers too
    #[arg(long, short, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit a build, test or boot test to a runner and record it
    #[command(subcommand)]
    Schedule(Box<Schedule>),

    /// List recorded jobs, newest first
    Jobs(JobsArgs),

    /// Show every stored field of one job
    Show(ShowArgs),

    /// List recorded plans, newest first, with how many of their jobs are
    /// done and what the runner's plan callback said
    Plans(PlansArgs),

    /// Receive runners' completion callbacks and write KCIDB documents
    Listen(ListenArgs),

    /// Show the KCIDB document produced for a job
    Results(ResultsArgs),

    /// Print a job's log from its runner: a build's log, or a test's
    /// console, streamed
    Logs(LogsArgs),

    /// List what a job produced, or download it
    Artefacts(ArtefactsArgs),

    /// Ask the runner to cancel jobs that have not finished (exit status 1
    /// if any could not be)
    Cancel(CancelArgs),

    /// Follow jobs kbridge did not schedule (from the runner's own client
    /// or web UI) to their KCIDB documents
    Track(TrackArgs),

    /// List received callbacks, or process one again
    Inbox(InboxArgs),

    /// Send pending KCIDB documents to KCIDB now, then exit
    Submit(SubmitArgs),

    /// List KCIDB documents and their delivery; retry or check them
    Outbox(OutboxArgs),

    /// Wait for jobs to finish, polling their runners, and sum up their
    /// results (exit status 0 pass, 1 fail, 3 infrastructure, 124 timeout)
    Wait(WaitArgs),

    /// Queue results from a system that is not a runner, or send them,
    /// signed, to another kbridge
    Report(ReportArgs),

    /// Show the resolved settings and where each one came from
    Config(ConfigArgs),

    /// Copy a whole store (an SQLite file or a PostgreSQL database) into
    /// an empty one
    Store(StoreArgs),

    /// Check the setup: one line per check with what to do; exit status 0
    /// only when everything the configuration needs is fine
    Doctor(DoctorArgs),
}

/// `kbridge doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print a JSON object instead of one line per check
    #[arg(long)]
    pub json: bool,
}

/// What `kbridge schedule` can submit.
#[derive(Debug, Subcommand)]
pub enum Schedule {
    /// Build a kernel tree
    Build(BuildArgs),
    /// Run tests on a built kernel (a boot always runs first)
    Test(TestArgs),
    /// Boot a built kernel and run nothing else
    Boot(BootArgs),
    /// Submit a plan file: builds, and tests chained to them
    Plan(PlanArgs),
}

/// `kbridge schedule plan`.
#[derive(Debug, Args)]
#[command(next_help_heading = "The plan")]
pub struct PlanArgs {
    /// The plan file (the tuxsuite client's plan YAML)
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,

    /// Only the plan's jobs with this name (`*` matches anything);
    /// repeatable
    #[arg(long = "job", value_name = "NAME")]
    pub jobs: Vec<String>,

    /// The build the plan's standalone tests (those without a build of
    /// the plan) test: its KCIDB id, or a build kbridge knows
    #[arg(long, value_name = "ID", value_parser = non_empty)]
    pub build_id: Option<String>,

    /// Mail the whole plan's result to this address (once, not per job);
    /// repeatable
    #[arg(long = "notify-email", value_name = "ADDRESS", value_parser = email)]
    pub notify_emails: Vec<String>,

    /// Repository of the plan's builds that name no git_repo (https://,
    /// http:// or git://)
    #[arg(long, value_name = "URL", value_parser = git_url, value_hint = ValueHint::Url,
          conflicts_with = "git_head", alias = "git-repo")]
    pub tree: Option<String>,

    /// Builds that name no repository build the local checkout's HEAD (as
    /// `schedule build --git-head` does)
    #[arg(long, conflicts_with_all = ["branch", "sha"])]
    pub git_head: bool,

    /// With --git-head: push HEAD to `refs/tuxsuite/<sha>` on the remote first
    #[arg(long, requires = "git_head")]
    pub push: bool,

    /// Branch or tag of the builds that name neither git_ref nor git_sha
    #[arg(long, value_name = "REF", value_parser = non_empty, conflicts_with = "sha", alias = "git-ref")]
    pub branch: Option<String>,

    /// Commit of the builds that name neither git_ref nor git_sha
    #[arg(long, value_name = "SHA", value_parser = commit_sha, alias = "git-sha")]
    pub sha: Option<String>,

    /// A patch series applied by every build that names no patch_series
    /// of its own (the forms `schedule build --patch-series` takes)
    #[arg(long, value_name = "SERIES", value_parser = non_empty)]
    pub patch_series: Option<String>,

    /// Builds skip the runner's cache unless the plan says otherwise
    #[arg(long)]
    pub no_cache: bool,

    /// Test parameter KEY=VALUE added to every test of the plan, sanity
    /// tests included, unless the test sets KEY itself; repeatable
    #[arg(long = "parameter", value_name = "KEY=VALUE", value_parser = key_value)]
    pub parameters: Vec<(String, String)>,

    #[command(flatten)]
    pub common: ScheduleCommon,
}

/// Flags shared by every `schedule` command.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Submitting, waiting and output")]
pub struct ScheduleCommon {
    /// Ask the runner to keep the results private
    #[arg(long)]
    pub private: bool,

    /// Print the request that would be sent; send and store nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Print the stored job record as one JSON object (with --wait, the
    /// summary `kbridge wait --json` prints)
    #[arg(long)]
    pub json: bool,

    /// Wait for the job to finish, as `kbridge wait` does, with its output
    /// and exit status
    #[arg(long)]
    pub wait: bool,

    /// With --wait: stop waiting after this long (exit status 124), such as
    /// 90m or 2h. For a test, NAME=MINUTES is the runner's time limit for
    /// one of its tests (boot=30); repeatable
    #[arg(long, value_name = "DURATION|NAME=MINUTES", value_parser = timeout_arg, allow_negative_numbers = true, alias = "timeouts")]
    pub timeout: Vec<TimeoutArg>,

    /// With --wait: write the results as JUnit XML to this file
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "wait")]
    pub junit: Option<PathBuf>,

    /// With --wait: exit 125 instead of 3 for an infrastructure problem, so
    /// `git bisect run` skips the commit
    #[arg(long, requires = "wait")]
    pub bisect: bool,
}

/// A `--timeout` value: how long `--wait` waits, or a test's time limit.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeoutArg {
    Wait(std::time::Duration),
    Test(String, u64),
}

fn timeout_arg(value: &str) -> Result<TimeoutArg, String> {
    match value.split_once('=') {
        Some((name, minutes)) => {
            let name = name.trim();
            let minutes: u64 = minutes.trim().parse().map_err(|_| {
                format!(
                    "'{minutes}' is not a whole number of minutes (NAME=MINUTES, such as boot=30)"
                )
            })?;
            if name.is_empty() {
                return Err("expected NAME=MINUTES, such as boot=30".into());
            }
            Ok(TimeoutArg::Test(name.to_string(), minutes))
        }
        None => duration(value).map(TimeoutArg::Wait),
    }
}

/// `kbridge schedule build`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("revision").required(true).args(["branch", "sha", "git_head"])))]
#[command(group(clap::ArgGroup::new("config_source").required(true).multiple(true).args(["kconfig", "fragment"])))]
#[command(next_help_heading = "The build")]
pub struct BuildArgs {
    /// Git repository to build (https://, http:// or git://)
    #[arg(long, value_name = "URL", value_parser = git_url, value_hint = ValueHint::Url,
          required_unless_present = "git_head", conflicts_with = "git_head", alias = "git-repo")]
    pub tree: Option<String>,

    /// Build the local checkout's HEAD: the repository is its remote
    /// (git config tuxsuite.remote, else origin) as an https URL, and the
    /// commit must be on that remote
    #[arg(long)]
    pub git_head: bool,

    /// With --git-head: push HEAD to `refs/tuxsuite/<sha>` on the remote first
    #[arg(long, requires = "git_head")]
    pub push: bool,

    /// Branch or tag to build
    #[arg(long, value_name = "REF", value_parser = non_empty, alias = "git-ref")]
    pub branch: Option<String>,

    /// Commit to build (full or abbreviated hash)
    #[arg(long, value_name = "SHA", value_parser = commit_sha, alias = "git-sha")]
    pub sha: Option<String>,

    /// Target architecture
    #[arg(long, default_value = "riscv", value_name = "ARCH", value_parser = non_empty, alias = "target-arch")]
    pub arch: String,

    /// Toolchain, such as gcc-13 or clang-18
    #[arg(long, value_name = "TOOLCHAIN", value_parser = Suggested(crate::model::USUAL_TOOLCHAINS), hide_possible_values = true)]
    pub toolchain: String,

    /// Base configuration: a defconfig name or the URL of a config file
    #[arg(long, value_name = "CONFIG", value_parser = non_empty)]
    pub kconfig: Option<String>,

    /// Configuration fragment applied on top (CONFIG_X=y or a fragment URL);
    /// repeatable
    #[arg(long, value_name = "FRAGMENT", value_parser = fragment)]
    pub fragment: Vec<String>,

    /// Make target to build instead of the runner's default; repeatable
    #[arg(long = "target", value_name = "TARGET", value_parser = non_empty)]
    pub targets: Vec<String>,

    /// Make variable KEY=VALUE (W=1, LLVM=1); repeatable, every one kept
    #[arg(long = "make-var", value_name = "KEY=VALUE", value_parser = key_value)]
    pub make_variables: Vec<(String, String)>,

    /// Build environment variable KEY=VALUE (KCFLAGS=-Werror); repeatable
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = key_value)]
    pub environment: Vec<(String, String)>,

    /// A name for the build, shown by the runner
    #[arg(long, value_name = "NAME", value_parser = non_empty)]
    pub build_name: Option<String>,

    /// The kernel image to build (Image.gz, bzImage) instead of the default
    #[arg(long, value_name = "NAME", value_parser = non_empty)]
    pub kernel_image: Option<String>,

    /// Pin the build container image to this sha256 (64 hex digits)
    #[arg(long, value_name = "HEX", value_parser = image_sha)]
    pub image_sha: Option<String>,

    /// Build without the runner's build cache
    #[arg(long)]
    pub no_cache: bool,

    /// Mail the result to this address; repeatable
    #[arg(long = "notify-email", value_name = "ADDRESS", value_parser = email)]
    pub notify_emails: Vec<String>,

    /// An unmerged patch series to apply first: an mbox, .patch or .txt
    /// file, a directory or .tar.gz with a quilt series file, a URL, or a
    /// lore link or message-id (needs b4)
    #[arg(long, value_name = "SERIES", value_hint = ValueHint::AnyPath)]
    pub patch_series: Option<String>,

    #[command(flatten)]
    pub common: ScheduleCommon,
}

/// Flags shared by `schedule test` and `schedule boot`.
#[derive(Debug, Args)]
#[command(next_help_heading = "The kernel and how it runs")]
pub struct KernelArgs {
    /// Device to run on [default: the runner's (a LAVA lab's device_type),
    /// else qemu-riscv64]
    #[arg(long, value_name = "DEVICE", value_parser = Suggested(crate::model::QEMU_DEVICES), hide_possible_values = true)]
    pub device: Option<String>,

    /// URL of the kernel image
    #[arg(long, value_name = "URL", value_parser = http_url, value_hint = ValueHint::Url,
          required_unless_present_any = ["after", "job_definition"], conflicts_with = "after")]
    pub kernel: Option<String>,

    /// A job definition in the runner's own format (a LAVA job YAML) to
    /// submit instead of one kbridge writes; kbridge fills its
    /// placeholders and adds only its callback and metadata
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub job_definition: Option<PathBuf>,

    /// URL of a compressed modules archive
    #[arg(long, value_name = "URL", value_parser = http_url, value_hint = ValueHint::Url, conflicts_with = "after")]
    pub modules: Option<String>,

    /// Build under test: its KCIDB id (origin:...), or the uid or job id of
    /// a build kbridge scheduled
    #[arg(long, value_name = "ID", value_parser = non_empty, required_unless_present = "after", conflicts_with = "after")]
    pub build_id: Option<String>,

    /// Run on the kernel of this build kbridge scheduled (job id or uid):
    /// its kernel and modules if it has finished, else as soon as it
    /// succeeds; the KCIDB build id is that build
    #[arg(long, value_name = "JOB", value_parser = non_empty)]
    pub after: Option<String>,

    /// Runner parameter KEY=VALUE passed to the test definitions; repeatable
    #[arg(long = "parameter", value_name = "KEY=VALUE", value_parser = key_value)]
    pub parameters: Vec<(String, String)>,

    /// Schedule even if the same build already has this job
    #[arg(long)]
    pub force: bool,

    /// Root filesystem image to boot
    #[arg(long, value_name = "URL", value_parser = http_url, value_hint = ValueHint::Url)]
    pub rootfs: Option<String>,

    /// Device tree blob
    #[arg(long, value_name = "URL", value_parser = http_url, value_hint = ValueHint::Url)]
    pub dtb: Option<String>,

    /// Firmware (BIOS, OpenSBI) to boot with
    #[arg(long, value_name = "URL", value_parser = http_url, value_hint = ValueHint::Url)]
    pub bios: Option<String>,

    /// Extra kernel command line arguments
    #[arg(long, value_name = "ARGS", value_parser = non_empty)]
    pub boot_args: Option<String>,

    /// An overlay archive unpacked into the root filesystem, at PATH
    /// (default /); repeatable
    #[arg(long, value_names = ["URL", "PATH"], num_args = 1..=2)]
    pub overlay: Vec<String>,

    /// A shell command run in the booted system (with the command test);
    /// repeatable, in order
    #[arg(long = "command", value_name = "COMMAND", value_parser = non_empty)]
    pub commands: Vec<String>,

    /// A name for the test job, shown by the runner
    #[arg(long, value_name = "NAME", value_parser = non_empty)]
    pub test_name: Option<String>,

    /// Mail the result to this address; repeatable
    #[arg(long = "notify-email", value_name = "ADDRESS", value_parser = email)]
    pub notify_emails: Vec<String>,
}

/// `kbridge schedule test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub kernel: KernelArgs,

    /// Tests to run, comma-separated and/or repeated (ltp-smoke,ltp-fsx)
    #[arg(long, required_unless_present = "job_definition", value_name = "TESTS", value_delimiter = ',', value_parser = non_empty, help_heading = "The tests")]
    pub tests: Vec<String>,

    /// Test collection used in KCIDB paths for every test [default: each
    /// test's own name up to its first '-': kselftest-timers is filed under
    /// kselftest]
    #[arg(long, value_name = "NAME", value_parser = non_empty, help_heading = "The tests")]
    pub collection: Option<String>,

    #[command(flatten)]
    pub common: ScheduleCommon,
}

/// `kbridge schedule boot`.
#[derive(Debug, Args)]
pub struct BootArgs {
    #[command(flatten)]
    pub kernel: KernelArgs,

    #[command(flatten)]
    pub common: ScheduleCommon,
}

/// `kbridge jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only jobs of this kind
    #[arg(long, value_parser = PossibleValuesParser::new(JobKind::ALL.map(JobKind::as_str)).map(|k| JobKind::parse(&k).expect("one of its possible values")))]
    pub kind: Option<JobKind>,

    /// Only jobs in this state
    #[arg(long, value_name = "STATE", value_parser = PossibleValuesParser::new(JobState::ALL.map(|s| clap::builder::PossibleValue::new(s.as_str()).help(s.meaning()))).map(|s| JobState::parse(&s).expect("one of its possible values")))]
    pub state: Option<JobState>,

    /// Show at most this many jobs
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,

    /// Only the jobs of this plan (its uid, or its id from `kbridge plans`)
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<String>,

    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `kbridge show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The runner's uid or kbridge's job id
    #[arg(value_name = "JOB")]
    pub job: String,

    /// Print the job as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `kbridge listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Exit once no job in the store is waiting for its results, with the
    /// exit status `kbridge wait` gives
    #[arg(long)]
    pub exit_when_done: bool,

    /// With --exit-when-done: stop after this long (exit status 124), such
    /// as 2h
    #[arg(long, value_name = "DURATION", value_parser = duration, requires = "exit_when_done", allow_negative_numbers = true)]
    pub timeout: Option<std::time::Duration>,

    /// Accept callbacks without checking their signatures. For development
    /// only: anyone who can reach the listener can then forge results
    #[arg(long)]
    pub insecure_skip_verify: bool,
}

/// `kbridge artefacts`.
#[derive(Debug, Args)]
pub struct ArtefactsArgs {
    /// The runner's uid or kbridge's job id
    #[arg(value_name = "JOB")]
    pub job: String,

    /// Fetch every file into DIR/UID/ instead of listing them (each within
    /// --max-file-bytes, all within --max-job-bytes); exit status 1 when
    /// any was not fetched, each named on stderr
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub download: Option<PathBuf>,

    /// Print a JSON object (the files, and with --download what became of
    /// each) instead of lines
    #[arg(long)]
    pub json: bool,
}

/// `kbridge track`.
#[derive(Debug, Args)]
pub struct TrackArgs {
    /// The runner's uids of the jobs
    #[arg(value_name = "UID", required = true)]
    pub uids: Vec<String>,

    /// What the uids are, when known (else a test is looked for first)
    #[arg(long, value_enum)]
    pub kind: Option<TrackKind>,

    /// The build a test ran on, when the runner does not say: its KCIDB id
    /// (origin:...), or a build kbridge knows
    #[arg(long, value_name = "ID", value_parser = non_empty)]
    pub build_id: Option<String>,

    /// Print the job records as a JSON array
    #[arg(long)]
    pub json: bool,
}

/// What `kbridge track` looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrackKind {
    Build,
    Test,
}

/// `kbridge cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The jobs to cancel (job ids or uids)
    #[arg(
        value_name = "JOB",
        required_unless_present = "plan",
        conflicts_with = "plan"
    )]
    pub jobs: Vec<String>,

    /// Cancel every unfinished job of this plan instead (its uid, or
    /// kbridge's plan id from `kbridge plans`)
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<String>,

    /// Print a JSON object saying what happened to each job instead of
    /// lines
    #[arg(long)]
    pub json: bool,
}

/// `kbridge plans`.
#[derive(Debug, Args)]
pub struct PlansArgs {
    /// Show at most this many plans
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,

    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `kbridge logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The runner's uid or kbridge's job id
    #[arg(value_name = "JOB")]
    pub job: String,

    /// The log file as the runner keeps it (a test's whole LAVA log)
    #[arg(long)]
    pub raw: bool,

    /// Print where the log is (a JSON object with its URL) instead of the
    /// log itself
    #[arg(long)]
    pub json: bool,
}

/// `kbridge results`.
#[derive(Debug, Args)]
pub struct ResultsArgs {
    /// The runner's uid or kbridge's job id
    #[arg(value_name = "JOB")]
    pub job: String,

    /// Print the KCIDB document itself
    #[arg(long)]
    pub json: bool,
}

/// `kbridge inbox`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct InboxArgs {
    #[command(subcommand)]
    pub action: Option<InboxAction>,

    /// Show at most this many callbacks
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,

    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

/// What `kbridge inbox` can do besides listing.
#[derive(Debug, Subcommand)]
pub enum InboxAction {
    /// Process a stored callback again from its stored bytes
    Replay(ReplayArgs),
    /// Remove what need not be kept: refused and duplicate callbacks, and
    /// unmatched ones past unmatched_ttl; never a pending one
    Prune(PruneArgs),
}

/// `kbridge inbox prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Only refused and duplicate callbacks received longer ago than this,
    /// such as 30d [default: all of them]
    #[arg(long, value_name = "DURATION", value_parser = duration, allow_negative_numbers = true)]
    pub older_than: Option<std::time::Duration>,

    /// Say how many would go, and remove nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Print a JSON object instead of a sentence
    #[arg(long)]
    pub json: bool,
}

/// `kbridge inbox replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The callback's id, as `kbridge inbox` shows it
    #[arg(value_name = "ID")]
    pub id: i64,
}

/// `kbridge wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The jobs to wait for (job ids or uids) [default: every job not yet
    /// finished]
    #[arg(value_name = "JOB", conflicts_with = "plan")]
    pub jobs: Vec<String>,

    /// Wait for every job of this plan (its uid, or its id from `kbridge plans`)
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<String>,

    /// Stop waiting after this long (exit status 124), such as 90m or 2h
    #[arg(long, value_name = "DURATION", value_parser = duration, allow_negative_numbers = true)]
    pub timeout: Option<std::time::Duration>,

    /// Write the results as JUnit XML to this file (one testsuite per job,
    /// one testcase per KCIDB test)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub junit: Option<PathBuf>,

    /// Exit 125 instead of 3 for an infrastructure problem, so `git bisect
    /// run` skips the commit
    #[arg(long)]
    pub bisect: bool,

    /// Print the summary as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `kbridge submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Queue this KCIDB document (made elsewhere; it is checked first)
    /// before sending
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: Option<PathBuf>,

    /// Show what would be sent; send and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Print the summary as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `kbridge outbox`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct OutboxArgs {
    #[command(subcommand)]
    pub action: Option<OutboxAction>,

    /// Only documents in this delivery state
    #[arg(long, value_name = "STATE", value_parser = PossibleValuesParser::new(OutboxState::ALL.map(OutboxState::as_str)).map(|s| OutboxState::parse(&s).expect("one of its possible values")))]
    pub state: Option<OutboxState>,

    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// What `kbridge outbox` can do besides listing.
#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// Put failed documents back in the queue
    Retry(OutboxRetryArgs),
    /// Ask KCIDB whether it ingested what was submitted
    Check(OutboxCheckArgs),
}

/// `kbridge outbox retry`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["ids", "all_failed"])))]
pub struct OutboxRetryArgs {
    /// The documents' ids, as `kbridge outbox` shows them
    #[arg(value_name = "ID")]
    pub ids: Vec<i64>,

    /// Every failed document
    #[arg(long)]
    pub all_failed: bool,
}

/// `kbridge outbox check`.
#[derive(Debug, Args)]
pub struct OutboxCheckArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `kbridge report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The results file, or - for standard input
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,

    /// Send the results, signed, to the kbridge listening at this base URL
    /// (POST {URL}/results) instead of queueing them here
    #[arg(long, value_name = "URL", value_parser = http_url, value_hint = ValueHint::Url, requires = "source")]
    pub to: Option<String>,

    /// The reporting source's name, as the receiving kbridge knows it
    #[arg(long, value_name = "NAME", value_parser = non_empty)]
    pub source: Option<String>,

    /// File with the source's HMAC secret [default: report.sources.NAME.secret_file]
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "to")]
    pub secret_file: Option<PathBuf>,

    /// Print the outcome as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `kbridge store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub action: StoreAction,
}

/// What `kbridge store` does.
#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Copy every job, plan, callback, document and delivery from one store
    /// into another that holds none, checked (row counts and a digest of
    /// every value) before it says done
    Copy(StoreCopyArgs),
}

/// `kbridge store copy`.
#[derive(Debug, Args)]
pub struct StoreCopyArgs {
    /// The store to copy: an SQLite file or a postgresql:// URL
    #[arg(long, value_name = "DB", value_hint = ValueHint::AnyPath)]
    pub from: String,

    /// The store to copy into, empty: an SQLite file (created) or a
    /// postgresql:// URL
    #[arg(long, value_name = "DB", value_hint = ValueHint::AnyPath)]
    pub to: String,

    /// Print what was copied as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `kbridge config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the settings as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// The parsed command line: the commands and their options, the settings
/// given by flag, and the runners' own job options given.
#[derive(Debug)]
pub struct Parsed {
    pub cli: Cli,
    pub flags: FlagValues,
    pub options: Vec<GivenOption>,
    /// The runners the command line was read for.
    pub registry: Registry,
}

/// A runner's job option given on the command line.
#[derive(Debug, Clone)]
pub struct GivenOption {
    /// The runner that declares it.
    pub runner: &'static str,
    pub def: &'static OptionDef,
    /// As the job keeps it: `true`, a string, or a list of strings.
    pub value: serde_json::Value,
}

/// The full clap command of the built-in runners.
#[cfg(test)]
pub fn command() -> clap::Command {
    command_for(Registry::builtin())
}

/// The full clap command: the derive types plus a flag for every setting
/// that has one and for every runner's job options.
pub fn command_for(registry: Registry) -> clap::Command {
    let mut cmd = <Cli as clap::CommandFactory>::command().after_help(crate::error::exit::help());
    for def in registry.settings() {
        let Some(flag) = def.flag else { continue };
        for path in flag.on {
            cmd = add_to(cmd, path, setting_arg(def, registry));
        }
    }
    for info in registry.runners() {
        for def in info.options {
            for kind in def.kinds {
                let path = format!("schedule {kind}");
                cmd = add_to(cmd, &path, option_arg(info.code, def));
            }
        }
    }
    cmd
}

/// The clap id of a runner's job option.
fn option_id(runner: &str, def: &OptionDef) -> String {
    format!("{runner}:{}", def.key)
}

/// The clap argument for a runner's job option, under a heading that names
/// its runner.
fn option_arg(runner: &'static str, def: &'static OptionDef) -> Arg {
    let arg = Arg::new(option_id(runner, def))
        .long(def.long)
        .help(def.help)
        .help_heading(format!("Options of --runner {runner}"));
    match def.value {
        OptionValue::Switch => arg.action(ArgAction::SetTrue),
        OptionValue::One(name) => arg
            .value_name(name)
            .value_parser(NonEmptyStringValueParser::new())
            .action(ArgAction::Set),
    }
}

/// The runners' job options given on the chosen command.
fn given_options(matches: &ArgMatches, registry: Registry) -> Vec<GivenOption> {
    let mut out = Vec::new();
    let mut level = Some(matches);
    while let Some(m) = level {
        for info in registry.runners() {
            for def in info.options {
                let id = option_id(info.code, def);
                let value = match def.value {
                    OptionValue::Switch => (m.try_get_one::<bool>(&id).ok().flatten()
                        == Some(&true))
                    .then_some(serde_json::Value::Bool(true)),
                    OptionValue::One(_) => m
                        .try_get_one::<String>(&id)
                        .ok()
                        .flatten()
                        .map(|v| v.clone().into()),
                };
                if let Some(value) = value {
                    out.push(GivenOption {
                        runner: info.code,
                        def,
                        value,
                    });
                }
            }
        }
        level = m.subcommand().map(|(_, sub)| sub);
    }
    out
}

/// Adds `arg` to the command at `path` (`"listen"`, `"schedule *"`, or `""`
/// for every command).
fn add_to(cmd: clap::Command, path: &str, arg: Arg) -> clap::Command {
    let mut parts = path.split_whitespace();
    match parts.next() {
        None => cmd.arg(arg.global(true)),
        Some(first) => {
            let rest: Vec<&str> = parts.collect();
            let rest = rest.join(" ");
            if first == "*" {
                cmd.mut_subcommands(|sub| add_to(sub, &rest, arg.clone()))
            } else {
                assert!(
                    cmd.find_subcommand(first).is_some(),
                    "setting flag for unknown command {first}"
                );
                cmd.mut_subcommand(first, |sub| add_to(sub, &rest, arg))
            }
        }
    }
}

/// The clap argument for a setting's flag. Its help carries the
/// environment variable and the default, so `--help`, the man page and the
/// table agree.
fn setting_arg(def: &'static SettingDef, registry: Registry) -> Arg {
    let flag = def.flag.expect("only settings with a flag");
    let mut help = flag.help.unwrap_or(def.doc).to_string();
    if let Some(env) = def.env {
        help.push_str(&format!(" [env: {env}]"));
    }
    // A switch's default is the setting's, not the switch's own.
    if let (Some(default), Some(_)) = (def.default.describe(), flag.value_name) {
        help.push_str(&format!(" [default: {default}]"));
    }
    let mut arg = Arg::new(def.key)
        .long(flag.long)
        .help(help)
        .help_heading("Settings (also from the environment or config.toml)");
    match flag.value_name {
        None => return arg.action(ArgAction::SetTrue),
        Some(name) => arg = arg.value_name(name),
    }
    arg = match def.kind {
        Kind::List { .. } => arg.action(ArgAction::Append),
        _ => arg.action(ArgAction::Set),
    };
    match def.kind {
        Kind::Path | Kind::Store => arg.value_hint(ValueHint::AnyPath),
        Kind::Url => arg.value_hint(ValueHint::Url),
        Kind::Choice(words) => arg.value_parser(PossibleValuesParser::new(words)),
        Kind::Bool => arg.value_parser(PossibleValuesParser::new(["true", "false"])),
        _ if def.key == config::keys::RUNNER.name() => arg.value_parser(PossibleValuesParser::new(
            registry.runners().iter().map(|r| r.code),
        )),
        _ => arg.value_hint(ValueHint::Other),
    }
}

/// The settings given by flag on the chosen commands.
fn flag_values(matches: &ArgMatches, registry: Registry) -> FlagValues {
    let mut out = FlagValues::new();
    let defs = registry.settings();
    let mut level = Some(matches);
    while let Some(m) = level {
        for def in &defs {
            let Some(flag) = def.flag else { continue };
            // Setting flags have no clap default, so a value is one the
            // user gave; `try_` because most levels do not define the flag.
            if flag.value_name.is_none() {
                if m.try_get_one::<bool>(def.key).ok().flatten() == Some(&true) {
                    out.insert(def.key, vec![flag.sets.to_string()]);
                }
            } else if let Ok(Some(values)) = m.try_get_many::<String>(def.key) {
                out.insert(def.key, values.cloned().collect());
            }
        }
        level = m.subcommand().map(|(_, sub)| sub);
    }
    out
}

/// Parses `args` (the process's, in `main`). Help and version come back as
/// errors too: the caller prints them and chooses the exit status.
pub fn parse_from<I, T>(args: I) -> Result<Parsed, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    parse_for(Registry::builtin(), args)
}

/// Parses `args` for the runners of `registry`.
pub fn parse_for<I, T>(registry: Registry, args: I) -> Result<Parsed, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command_for(registry).try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok(Parsed {
        cli,
        flags: flag_values(&matches, registry),
        options: given_options(&matches, registry),
        registry,
    })
}

/// The one line to print for a usage error, keeping clap's "did you mean"
/// tip; `None` for help and version, which clap prints itself.
pub fn usage_line(e: &clap::Error) -> Option<String> {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => None,
        ErrorKind::UnknownArgument => {
            Some(client_habit(e).unwrap_or_else(|| one_line_usage_error(&e.render().to_string())))
        }
        _ => Some(one_line_usage_error(&e.render().to_string())),
    }
}

/// What to say to a `tuxsuite` client habit whose meaning kbridge spells
/// differently (its same-meaning spellings are accepted as aliases).
fn client_habit(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let arg = match e.get(ContextKind::InvalidArg)? {
        ContextValue::String(s) => s.clone(),
        _ => return None,
    };
    let usage = e
        .get(ContextKind::Usage)
        .map(|u| u.to_string())
        .unwrap_or_default();
    let name = arg.split('=').next().unwrap_or(&arg);
    let advice = match name {
        "--wait-for" => "a test runs after a build with --after JOB (the build's job id or uid, as `kbridge jobs --kind build` lists it)",
        "--no-wait" => "kbridge does not wait unless you pass --wait; drop --no-wait",
        "--tests" if usage.contains("schedule boot") => {
            "a boot runs no tests; `kbridge schedule test --tests …` boots and runs them"
        }
        "--git-head" if usage.contains("schedule test") || usage.contains("schedule boot") => {
            "--git-head builds the local checkout: use it with `kbridge schedule build`"
        }
        _ => return None,
    };
    Some(format!("error: unexpected argument '{arg}': {advice}"))
}

/// Any non-empty value, with `known` offered by shell completion: the
/// usual names, not a closed list (runners add devices and toolchains).
#[derive(Clone)]
struct Suggested(&'static [&'static str]);

impl clap::builder::TypedValueParser for Suggested {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let text = value.to_str().ok_or_else(|| {
            clap::Error::raw(clap::error::ErrorKind::InvalidUtf8, "not UTF-8").with_cmd(cmd)
        })?;
        non_empty(text).map_err(|why| {
            let name = arg.map(|a| a.to_string()).unwrap_or_default();
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("invalid value '{text}' for '{name}': {why}\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.0.iter().map(|v| clap::builder::PossibleValue::new(*v)),
        ))
    }
}

fn non_empty(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(trimmed.to_string())
}

/// Checks an absolute URL with one of `schemes` and a host, using the same
/// parser the HTTP stack uses, so a URL accepted here is one we can send.
fn absolute_url(value: &str, schemes: &[&str]) -> Result<String, String> {
    let mut names: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
    let last = names.pop().expect("at least one scheme");
    let expected = if names.is_empty() {
        last
    } else {
        format!("{} or {last}", names.join(", "))
    };
    let uri: http::Uri = value
        .parse()
        .map_err(|_| format!("not a valid URL; give an absolute URL starting with {expected}"))?;
    let scheme_ok = uri
        .scheme_str()
        .is_some_and(|s| schemes.iter().any(|want| s.eq_ignore_ascii_case(want)));
    let host_ok = uri.host().is_some_and(|h| !h.is_empty());
    if !scheme_ok || !host_ok {
        return Err(format!("not an absolute URL starting with {expected}"));
    }
    Ok(value.to_string())
}

fn http_url(value: &str) -> Result<String, String> {
    absolute_url(value, &["https", "http"])
}

fn git_url(value: &str) -> Result<String, String> {
    absolute_url(value, &["https", "http", "git"])
}

/// The longest duration a flag takes: a year and a day, far past any wait
/// and far below what a clock can add without overflowing.
const MAX_DURATION_SECS: f64 = 366.0 * 86400.0;

fn duration(value: &str) -> Result<std::time::Duration, String> {
    const FORMS: &str = "give seconds (90) or a number with s, m, h or d (90s, 30m, 2h)";
    let secs = config::parse_duration(value).ok_or_else(|| format!("not a duration; {FORMS}"))?;
    if secs < 0.0 {
        return Err(format!("durations are positive; {FORMS}"));
    }
    if secs == 0.0 {
        return Err(format!("must be more than zero; {FORMS}"));
    }
    if secs > MAX_DURATION_SECS {
        return Err(format!(
            "is longer than kbridge waits; give more than 0 and at most 366d ({MAX_DURATION_SECS} seconds)"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// A configuration fragment: `CONFIG_X=VALUE`, a fragment's URL, or a
/// named fragment (`kvm_guest.config`). A bare `CONFIG_X` is a slip: it
/// says neither on nor off.
fn fragment(value: &str) -> Result<String, String> {
    let v = non_empty(value)?;
    if v.starts_with("CONFIG_") && !v.contains('=') {
        return Err(format!(
            "{v} gives no value; write {v}=y (built in), {v}=m (a module), {v}=n (off) or {v}=VALUE"
        ));
    }
    Ok(v)
}

fn commit_sha(value: &str) -> Result<String, String> {
    let ok = (7..=40).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err("not a commit hash (7 to 40 hex digits)".into());
    }
    Ok(value.to_ascii_lowercase())
}

fn image_sha(value: &str) -> Result<String, String> {
    let v = value.trim().to_ascii_lowercase();
    if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(v)
    } else {
        Err("expected the 64 hex digits of a sha256".into())
    }
}

fn email(value: &str) -> Result<String, String> {
    let v = value.trim();
    let ok = match v.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && !domain.contains('@')
                && domain
                    .split_once('.')
                    .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
        }
        None => false,
    };
    if ok {
        Ok(v.to_string())
    } else {
        Err("not an e-mail address (user@example.org)".into())
    }
}

fn key_value(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err("expected KEY=VALUE".into()),
    }
}

/// `error: X\n  detail\n\n  tip: ...\n\nUsage: ...\n\nFor more information,
/// try '--help'.` becomes `error: X detail (tip: ...; try '--help')`.
fn one_line_usage_error(rendered: &str) -> String {
    let mut message = Vec::new();
    let mut tips = Vec::new();
    for line in rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        match line.strip_prefix("tip:") {
            Some(tip) => tips.push(tip.trim().to_string()),
            None => message.push(line),
        }
    }
    tips.push("try '--help'".into());
    format!("{} ({})", message.join(" "), tips.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn urls_need_scheme_and_host() {
        assert!(http_url("https://example.org/Image").is_ok());
        assert!(http_url("HTTP://example.org/Image").is_ok());
        assert!(http_url("/tmp/Image").is_err());
        assert!(http_url("example.org/Image").is_err());
        assert!(http_url("ftp://example.org/Image").is_err());
        assert!(http_url("https://exa mple.org/").is_err());
        assert!(git_url("git://git.kernel.org/linux.git").is_ok());
        assert!(git_url("ssh://git.kernel.org/linux.git").is_err());
    }

    #[test]
    fn usage_errors_fit_one_line() {
        let err =
            parse_from(["kbridge", "schedule", "build", "--tree", "https://x/l.git"]).unwrap_err();
        let line = usage_line(&err).unwrap();
        assert!(
            line.starts_with("error: the following required arguments"),
            "{line}"
        );
        assert!(line.contains("--toolchain"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn suggestions_survive() {
        let err = parse_from(["kbridge", "schedule", "test", "--test", "x"]).unwrap_err();
        let line = usage_line(&err).unwrap();
        assert!(
            line.contains("a similar argument exists: '--tests'"),
            "{line}"
        );
        assert!(line.ends_with("try '--help')"), "{line}");
    }

    #[test]
    fn help_spells_each_value_as_the_store_does() {
        let mut cmd = command();
        let jobs = cmd
            .find_subcommand_mut("jobs")
            .unwrap()
            .render_long_help()
            .to_string();
        for state in JobState::ALL {
            assert!(
                jobs.contains(&format!("{state}:")),
                "jobs --help lacks {state}"
            );
        }
        assert!(
            jobs.contains("[possible values: build, test, boot]"),
            "{jobs}"
        );
        let outbox = cmd
            .find_subcommand_mut("outbox")
            .unwrap()
            .render_help()
            .to_string();
        let outbox = outbox.split_whitespace().collect::<Vec<_>>().join(" ");
        let values: Vec<&str> = OutboxState::ALL.iter().map(|s| s.as_str()).collect();
        assert!(outbox.contains(&values.join(", ")), "{outbox}");
        // And what --help offers parses back to the value.
        let p = parse_from(["kbridge", "jobs", "--state", "errored", "--kind", "boot"]).unwrap();
        let Command::Jobs(a) = p.cli.command else {
            panic!()
        };
        assert_eq!(
            (a.state, a.kind),
            (Some(JobState::Errored), Some(JobKind::Boot))
        );
    }

    #[test]
    fn setting_flags_land_in_flag_values() {
        let p = parse_from([
            "kbridge",
            "listen",
            "--bind",
            "127.0.0.1:0",
            "--db",
            "/x.db",
            "--max-body",
            "4096",
        ])
        .unwrap();
        assert_eq!(p.flags[config::keys::BIND.name()], ["127.0.0.1:0"]);
        assert_eq!(p.flags[config::keys::DATABASE.name()], ["/x.db"]);
        assert_eq!(p.flags[config::keys::MAX_BODY.name()], ["4096"]);
        let p = parse_from(["kbridge", "--db", "/y.db", "jobs"]).unwrap();
        assert_eq!(p.flags[config::keys::DATABASE.name()], ["/y.db"]);
        assert!(
            parse_from(["kbridge", "jobs", "--bind", "x:1"]).is_err(),
            "--bind is listen's"
        );
    }

    #[test]
    fn shas_are_hex() {
        assert_eq!(commit_sha("ABCDEF0").unwrap(), "abcdef0");
        assert!(commit_sha("abc").is_err());
        assert!(commit_sha("master").is_err());
    }
}
