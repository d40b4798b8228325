//! The command-line surface: clap types and their help text.
//!
//! This text is also the text of the man pages and shell completions (see
//! `kbridge generate`), so it is written for readers of both. The module
//! imports nothing else from kbridge, so the surface can be rendered on its
//! own. Values are validated here only where the check needs nothing but the
//! value itself (URL shapes, non-empty lists); everything that needs
//! configuration or the store is checked later.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit status documentation, shared by `--help` and the man page.
const EXIT_STATUS: &str = "\
Exit status:
  0  success (also when every requested test was already scheduled)
  1  the operation failed (runner refused or unreachable, database locked, ...)
  2  usage or configuration error (bad flag, missing token, unknown runner)";

/// Schedule kernel builds and tests on hosted runners and report the results
/// to KernelCI's KCIDB.
#[derive(Debug, Parser)]
#[command(name = "kbridge", version, about, long_about = None, after_help = EXIT_STATUS)]
#[command(propagate_version = true)]
pub struct Cli {
    /// Read settings from this TOML file instead of
    /// $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// SQLite database that records every job [env: KBRIDGE_DB]
    /// [default: $XDG_DATA_HOME/kbridge/kbridge.db]
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Print no progress indicators or notes, only results and errors
    #[arg(long, short, global = true)]
    pub quiet: bool,

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

    /// Receive runners' completion callbacks and write KCIDB documents
    Listen(ListenArgs),

    /// Show the KCIDB document produced for a job
    Results(ResultsArgs),

    /// List received callbacks, or process one again
    Inbox(InboxArgs),

    /// Show the resolved settings and where each one came from
    Config(ConfigArgs),

    /// Write shell completions and man pages into a directory
    #[command(hide = true)]
    Generate(GenerateArgs),
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
}

/// Flags shared by every `schedule` command.
#[derive(Debug, Clone, Args)]
pub struct ScheduleCommon {
    /// Runner to submit to
    #[arg(long, default_value = "tuxsuite", value_name = "RUNNER")]
    pub runner: String,

    /// Public base URL where `kbridge listen` is reachable; jobs report back
    /// to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]
    #[arg(long, value_name = "URL", value_parser = http_url)]
    pub callback_url: Option<String>,

    /// Ask the runner to keep the results private
    #[arg(long)]
    pub private: bool,

    /// Print the request that would be sent; send and store nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Print the stored job record as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `kbridge schedule build`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("revision").required(true).args(["branch", "sha"])))]
#[command(group(clap::ArgGroup::new("config_source").required(true).multiple(true).args(["kconfig", "fragment"])))]
pub struct BuildArgs {
    #[command(flatten)]
    pub common: ScheduleCommon,

    /// Git repository to build (https://, http:// or git://)
    #[arg(long, value_name = "URL", value_parser = git_url)]
    pub tree: String,

    /// Branch or tag to build
    #[arg(long, value_name = "REF", value_parser = non_empty)]
    pub branch: Option<String>,

    /// Commit to build (full or abbreviated hash)
    #[arg(long, value_name = "SHA", value_parser = commit_sha)]
    pub sha: Option<String>,

    /// Target architecture
    #[arg(long, default_value = "riscv", value_name = "ARCH", value_parser = non_empty)]
    pub arch: String,

    /// Toolchain, such as gcc-13 or clang-18
    #[arg(long, value_name = "TOOLCHAIN", value_parser = non_empty)]
    pub toolchain: String,

    /// Base configuration: a defconfig name or the URL of a config file
    #[arg(long, value_name = "CONFIG", value_parser = non_empty)]
    pub kconfig: Option<String>,

    /// Configuration fragment applied on top (CONFIG_X=y or a fragment URL);
    /// repeatable
    #[arg(long, value_name = "FRAGMENT", value_parser = non_empty)]
    pub fragment: Vec<String>,

    /// Make target to build instead of the runner's default; repeatable
    #[arg(long = "target", value_name = "TARGET", value_parser = non_empty)]
    pub targets: Vec<String>,
}

/// Flags shared by `schedule test` and `schedule boot`.
#[derive(Debug, Args)]
pub struct KernelArgs {
    /// Device to run on
    #[arg(long, default_value = "qemu-riscv64", value_name = "DEVICE", value_parser = non_empty)]
    pub device: String,

    /// URL of the kernel image
    #[arg(long, value_name = "URL", value_parser = http_url)]
    pub kernel: String,

    /// URL of a compressed modules archive
    #[arg(long, value_name = "URL", value_parser = http_url)]
    pub modules: Option<String>,

    /// Build under test: its KCIDB id (origin:...), or the uid or job id of
    /// a build kbridge scheduled
    #[arg(long, value_name = "ID", value_parser = non_empty)]
    pub build_id: String,

    /// Runner parameter KEY=VALUE passed to the test definitions; repeatable
    #[arg(long = "parameter", value_name = "KEY=VALUE", value_parser = key_value)]
    pub parameters: Vec<(String, String)>,

    /// Schedule even if the same build already has this job
    #[arg(long)]
    pub force: bool,
}

/// `kbridge schedule test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub common: ScheduleCommon,

    #[command(flatten)]
    pub kernel: KernelArgs,

    /// Tests to run, comma-separated and/or repeated (ltp-smoke,ltp-fsx)
    #[arg(long, required = true, value_name = "TESTS", value_delimiter = ',', value_parser = non_empty)]
    pub tests: Vec<String>,

    /// Test collection used in KCIDB paths [default: the first test's name
    /// up to its first '-']
    #[arg(long, value_name = "NAME", value_parser = non_empty)]
    pub collection: Option<String>,
}

/// `kbridge schedule boot`.
#[derive(Debug, Args)]
pub struct BootArgs {
    #[command(flatten)]
    pub common: ScheduleCommon,

    #[command(flatten)]
    pub kernel: KernelArgs,
}

/// Job kinds as accepted on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Build,
    Test,
    Boot,
}

/// `kbridge jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only jobs of this kind
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,

    /// Only jobs in this state (submitting, submitted, failed, unknown)
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,

    /// Show at most this many jobs
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,

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
    /// Address to listen on; port 0 picks a free port (the address bound is
    /// printed) [env: KBRIDGE_BIND] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,

    /// File with TuxSuite's OpenSSH public key (`tuxsuite keys get`);
    /// repeatable, for key rotation
    #[arg(long = "tuxsuite-public-key", value_name = "FILE")]
    pub tuxsuite_public_keys: Vec<PathBuf>,

    /// Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR]
    /// [default: $XDG_DATA_HOME/kbridge/kcidb]
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// Host results may be fetched from (any port); repeatable; replaces
    /// the runner's defaults
    #[arg(long = "allow-artifact-host", value_name = "HOST")]
    pub artifact_hosts: Vec<String>,

    /// Largest callback body accepted, in bytes [env: KBRIDGE_MAX_BODY]
    /// [default: 1048576]
    #[arg(long, value_name = "BYTES")]
    pub max_body: Option<u64>,

    /// Exit once no job in the store is waiting for a callback
    #[arg(long)]
    pub exit_when_done: bool,

    /// Accept callbacks without checking their signatures. For development
    /// only: anyone who can reach the listener can then forge results
    #[arg(long)]
    pub insecure_skip_verify: bool,
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
}

/// `kbridge inbox replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The callback's id, as `kbridge inbox` shows it
    #[arg(value_name = "ID")]
    pub id: i64,
}

/// `kbridge config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the settings as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `kbridge generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory that receives completions/ and man/
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

/// The clap command, for rendering completions and man pages.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
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

fn commit_sha(value: &str) -> Result<String, String> {
    let ok = (7..=40).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err("not a commit hash (7 to 40 hex digits)".into());
    }
    Ok(value.to_ascii_lowercase())
}

fn key_value(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err("expected KEY=VALUE".into()),
    }
}

/// Parses the process arguments. Help and version print as usual; a usage
/// error is printed as one line (clap's message without its usage block)
/// and exits with status 2, like every other usage error.
pub fn parse() -> Cli {
    use clap::error::ErrorKind;
    match <Cli as Parser>::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            e.exit()
        }
        Err(e) => {
            eprintln!("{}", one_line_usage_error(&e.render().to_string()));
            std::process::exit(2)
        }
    }
}

/// `error: X\n  detail\n\nUsage: ...\n\nFor more information, try '--help'.`
/// becomes `error: X detail (try '--help')`.
fn one_line_usage_error(rendered: &str) -> String {
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
        .collect();
    format!("{} (try '--help')", message.join(" "))
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
        let err = command()
            .try_get_matches_from(["kbridge", "schedule", "build", "--tree", "https://x/l.git"])
            .unwrap_err();
        let line = one_line_usage_error(&err.render().to_string());
        assert!(
            line.starts_with("error: the following required arguments"),
            "{line}"
        );
        assert!(line.contains("--toolchain"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn shas_are_hex() {
        assert_eq!(commit_sha("ABCDEF0").unwrap(), "abcdef0");
        assert!(commit_sha("abc").is_err());
        assert!(commit_sha("master").is_err());
    }
}
