//! Settings: one table says what each one is, and resolution follows it.
//!
//! Every setting is a [`SettingDef`]: its key in the TOML file, its flag
//! (and which commands take it), its environment variable, its default,
//! whether it is secret, and one line of documentation. The same table
//! drives resolution here, the flags `cli` adds to the commands, what
//! `kbridge config` shows, and a test that keeps `--help`, README.md and
//! docs/configuration.md in agreement with it. kbridge's own settings are
//! [`CORE`]; each runner declares its own in its module
//! ([`crate::runner::RunnerInfo::settings`]) and the registry gathers them, so
//! this file names no runner and imports none.
//!
//! Precedence is flag, then environment, then the TOML file, then the
//! default. Every resolved value remembers its [`Source`], so a value the
//! user never gave stays distinguishable from a default.
//!
//! This is the only module that reads the process environment. It takes one
//! snapshot ([`Environment`]) and hands it to whoever needs a variable, such
//! as runners that honour their own service's variables; tests build the
//! snapshot by hand. Nothing here opens a socket, a database or a file
//! other than the TOML file itself.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::is_valid_origin;

/// A snapshot of the process environment.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// Captures the current process environment. Variables that are not
    /// valid UTF-8 are left out.
    pub fn from_process() -> Environment {
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// The credential systemd passed under this name (`LoadCredential=`),
    /// if the service has one: `$CREDENTIALS_DIRECTORY/NAME`.
    pub fn credential(&self, name: &str) -> Option<PathBuf> {
        let path = Path::new(self.get("CREDENTIALS_DIRECTORY")?).join(name);
        path.is_file().then_some(path)
    }

    /// Builds a snapshot from explicit pairs.
    #[cfg(test)]
    pub fn from_pairs<I, K, V>(pairs: I) -> Environment
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Environment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable's value; an empty value counts as unset, as in most tools.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }

    /// `$XDG_CONFIG_HOME`, else `$HOME/.config`.
    pub fn config_home(&self) -> Option<PathBuf> {
        self.get("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| self.home().map(|h| h.join(".config")))
    }

    /// `$XDG_DATA_HOME`, else `$HOME/.local/share`.
    pub fn data_home(&self) -> Option<PathBuf> {
        self.get("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| self.home().map(|h| h.join(".local").join("share")))
    }

    /// Expands a leading `~/` to `$HOME/`.
    pub fn expand_home(&self, p: &str) -> PathBuf {
        match (p.strip_prefix("~/"), self.home()) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(p),
        }
    }
}

/// A secret: never printed, logged or serialised. `Debug` shows only that
/// there is one.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret and registers it, so it is redacted from every text
    /// kbridge prints or stores from now on.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        crate::secrets::register(&value);
        Secret(value)
    }

    /// The value itself, for the one place it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Reads a secret from a file (a token, an HMAC key): surrounding
/// whitespace is dropped; an empty one, or one with a line break or other
/// control character inside, is refused with the file named.
pub fn read_secret_file(path: &Path, what: &str, given_by: &Source) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::Runner(format!(
            "cannot read {what} from {} (given by {given_by}): {e}",
            path.display()
        ))
    })?;
    let value = text.trim();
    if value.is_empty() {
        return Err(ConfigError::Runner(format!(
            "{what} file {} (given by {given_by}) is empty",
            path.display()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ConfigError::Runner(format!(
            "{what} in {} (given by {given_by}) spans several lines or holds a control character; put the secret alone on one line",
            path.display()
        )));
    }
    Ok(Secret::new(value))
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    /// The TOML file, and the line the value is on.
    File(PathBuf, usize),
    /// The TOML file, line and column of a value that is wrong: errors
    /// point at the value itself.
    FileAt(PathBuf, usize, usize),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(name) => write!(f, "flag --{name}"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::File(path, line) => write!(f, "file {} line {line}", path.display()),
            Source::FileAt(path, line, column) => {
                write!(f, "file {} line {line} column {column}", path.display())
            }
            Source::Default => f.write_str("default"),
        }
    }
}

/// A resolved value and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

/// What kind of value a setting takes, with the bounds that are checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    /// A file or directory. In the TOML file, relative paths are relative
    /// to the file and `~/` is the home directory.
    Path,
    /// An absolute `http(s)` URL; a trailing `/` is dropped.
    Url,
    /// `host:port`.
    Addr,
    /// A KCIDB origin: `^[a-z0-9_]+$`.
    Origin,
    /// A duration: a number of seconds, or a number with `s`, `m`, `h` or
    /// `d`.
    Seconds {
        min: f64,
        max: f64,
    },
    /// A size: a number of bytes, or a number with `KiB`, `MiB`, `GiB`
    /// (1024-based) or `kB`, `MB`, `GB` (1000-based).
    Bytes {
        min: u64,
        max: u64,
    },
    /// A whole number.
    Count {
        min: u64,
        max: u64,
    },
    Bool,
    /// Several strings: a repeated flag, a comma-separated variable, or a
    /// TOML array. With `append`, flags add to the file's list instead of
    /// replacing it.
    List {
        append: bool,
    },
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
}

/// A setting's flag.
#[derive(Debug, Clone, Copy)]
pub struct FlagDef {
    /// Without the leading `--`.
    pub long: &'static str,
    /// The placeholder in `--help`; `None` for a switch that takes no
    /// value.
    pub value_name: Option<&'static str>,
    /// For a switch, the value it sets.
    pub sets: &'static str,
    /// For a switch, what it does, when the setting's doc (which says what
    /// the setting is) would read backwards on the switch.
    pub help: Option<&'static str>,
    /// The commands that take it, as paths (`"listen"`, `"schedule build"`,
    /// `"schedule *"` for every `schedule` command, `""` for every command).
    pub on: &'static [&'static str],
}

/// A setting's default.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    /// No value unless one is given.
    None,
    /// This value.
    Value(&'static str),
    /// Worked out at run time (a path under the data directory, the first
    /// registered runner): `describe` is what documentation shows.
    Computed {
        describe: &'static str,
        compute: fn(&Environment) -> Option<String>,
    },
    /// Chosen by the code that uses it; `describe` says what it is.
    Described(&'static str),
}

impl DefaultValue {
    /// The default as documentation shows it.
    pub fn describe(&self) -> Option<&'static str> {
        match self {
            DefaultValue::None => None,
            DefaultValue::Value(v) => Some(v),
            DefaultValue::Computed { describe, .. } | DefaultValue::Described(describe) => {
                Some(describe)
            }
        }
    }
}

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct SettingDef {
    /// The key in the TOML file; dots are tables (`tuxsuite.public_keys` is
    /// `public_keys` under `[tuxsuite]`), and `*` stands for any name
    /// (`lava.labs.*.url`).
    pub key: &'static str,
    pub flag: Option<FlagDef>,
    pub env: Option<&'static str>,
    pub default: DefaultValue,
    pub kind: Kind,
    /// Never shown: `kbridge config` says only whether it is set.
    pub secret: bool,
    /// Whether the TOML file may set it (secrets are given as files there,
    /// never inline).
    pub in_file: bool,
    /// One line for `--help`, `kbridge config` and the documentation.
    pub doc: &'static str,
}

/// A setting with no flag, variable or default yet; the builder methods
/// below add them.
pub const fn setting(key: &'static str, kind: Kind, doc: &'static str) -> SettingDef {
    SettingDef {
        key,
        flag: None,
        env: None,
        default: DefaultValue::None,
        kind,
        secret: false,
        in_file: true,
        doc,
    }
}

impl SettingDef {
    pub const fn flag(
        mut self,
        long: &'static str,
        value_name: &'static str,
        on: &'static [&'static str],
    ) -> Self {
        self.flag = Some(FlagDef {
            long,
            value_name: Some(value_name),
            sets: "",
            help: None,
            on,
        });
        self
    }

    pub const fn switch(
        mut self,
        long: &'static str,
        sets: &'static str,
        on: &'static [&'static str],
    ) -> Self {
        self.flag = Some(FlagDef {
            long,
            value_name: None,
            sets,
            help: None,
            on,
        });
        self
    }

    /// What a switch does, in its own words.
    pub const fn switch_help(mut self, help: &'static str) -> Self {
        if let Some(f) = self.flag.as_mut() {
            f.help = Some(help);
        }
        self
    }

    pub const fn env(mut self, name: &'static str) -> Self {
        self.env = Some(name);
        self
    }

    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = DefaultValue::Value(value);
        self
    }

    pub const fn computed(
        mut self,
        describe: &'static str,
        compute: fn(&Environment) -> Option<String>,
    ) -> Self {
        self.default = DefaultValue::Computed { describe, compute };
        self
    }

    pub const fn described(mut self, describe: &'static str) -> Self {
        self.default = DefaultValue::Described(describe);
        self
    }

    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Not a key of the TOML file: only a flag or the environment sets it.
    pub const fn not_in_file(mut self) -> Self {
        self.in_file = false;
        self
    }

    /// Whether `key` (a concrete key from the file) is this setting.
    fn matches(&self, key: &str) -> bool {
        let mut want = self.key.split('.');
        let mut got = key.split('.');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some("*"), Some(g)) if !g.is_empty() => {}
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }

    fn is_pattern(&self) -> bool {
        self.key.contains('*')
    }
}

/// The keys of kbridge's own settings.
pub mod keys {
    pub const DATABASE: &str = "database";
    pub const CALLBACK_URL: &str = "callback_url";
    pub const RUNNER: &str = "runner";
    pub const ORIGIN: &str = "origin";
    pub const HTTP_TIMEOUT: &str = "http_timeout";
    pub const RETRY_DELAY: &str = "retry_delay";
    pub const BIND: &str = "bind";
    pub const OUTPUT_DIR: &str = "output_dir";
    pub const MAX_BODY: &str = "max_body";
    pub const HEADER_TIMEOUT: &str = "header_timeout";
    pub const FETCH_RETRY_FOR: &str = "fetch_retry_for";
    pub const KCIDB_URL: &str = "kcidb.url";
    pub const KCIDB_TOKEN_FILE: &str = "kcidb.token_file";
    pub const KCIDB_TOKEN: &str = "kcidb.token";
    pub const KCIDB_REST: &str = "kcidb.rest";
    pub const KCIDB_SUBMIT: &str = "kcidb.submit";
    pub const KCIDB_RETRY_FOR: &str = "kcidb.retry_for";
    pub const KCIDB_MAX_REQUEST: &str = "kcidb.max_request";
    pub const REPORT_SECRET_FILE: &str = "report.sources.*.secret_file";
    pub const POLL_INTERVAL: &str = "poll_interval";
    pub const POLL_AFTER: &str = "poll_after";
    pub const UNMATCHED_TTL: &str = "unmatched_ttl";
    pub const MAX_CONNECTIONS: &str = "max_connections";
    pub const MAX_CONNECTIONS_PER_CLIENT: &str = "max_connections_per_client";
    pub const MAX_BUFFERED: &str = "max_buffered";
    pub const OPS_BIND: &str = "ops_bind";
    pub const LOG_FORMAT: &str = "log_format";
    pub const READY_MAX_BACKLOG: &str = "ready.max_backlog";
    pub const READY_MAX_OVERDUE: &str = "ready.max_overdue";
    pub const MAX_CASES: &str = "max_cases";
    pub const MAX_DOCUMENT: &str = "max_document";
    pub const ARTIFACT_MAX_BYTES: &str = "artifact_max_bytes";
    pub const ARTIFACT_TIMEOUT: &str = "artifact_timeout";
    pub const DOWNLOAD_MAX_FILE: &str = "download_max_file";
    pub const DOWNLOAD_MAX_JOB: &str = "download_max_job";
}

/// The commands that talk to KCIDB.
const KCIDB_COMMANDS: &[&str] = &["listen", "submit", "outbox check", "doctor"];

const SCHEDULE: &[&str] = &["schedule *"];

fn default_database(env: &Environment) -> Option<String> {
    Some(
        env.data_home()?
            .join("kbridge")
            .join("kbridge.db")
            .display()
            .to_string(),
    )
}

fn default_output_dir(env: &Environment) -> Option<String> {
    Some(
        env.data_home()?
            .join("kbridge")
            .join("kcidb")
            .display()
            .to_string(),
    )
}

/// kbridge's own settings.
pub const CORE: &[SettingDef] = &[
    setting(keys::DATABASE, Kind::Path, "SQLite database that records every job")
        .flag("db", "PATH", &[""])
        .env("KBRIDGE_DB")
        .computed("$XDG_DATA_HOME/kbridge/kbridge.db", default_database),
    setting(
        keys::CALLBACK_URL,
        Kind::Url,
        "Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind}",
    )
    .flag("callback-url", "URL", SCHEDULE)
    .env("KBRIDGE_CALLBACK_URL"),
    setting(keys::RUNNER, Kind::Text, "Runner to submit to")
        .flag("runner", "RUNNER", SCHEDULE)
        .env("KBRIDGE_RUNNER")
        .described("the first registered runner (see --help)"),
    setting(keys::ORIGIN, Kind::Origin, "KCIDB origin of everything kbridge reports")
        .env("KBRIDGE_ORIGIN")
        .default("kbridge"),
    setting(
        keys::HTTP_TIMEOUT,
        Kind::Seconds { min: 0.1, max: 3600.0 },
        "How long to wait for a runner's answer to one request",
    )
    .env("KBRIDGE_HTTP_TIMEOUT")
    .default("60"),
    setting(
        keys::RETRY_DELAY,
        Kind::Seconds { min: 0.01, max: 3600.0 },
        "The pause before the first retry of a request; later pauses double",
    )
    .env("KBRIDGE_RETRY_DELAY")
    .default("2"),
    setting(keys::BIND, Kind::Addr, "Address `kbridge listen` listens on; port 0 picks a free port")
        .flag("bind", "ADDR", &["listen", "doctor"])
        .env("KBRIDGE_BIND")
        .default("127.0.0.1:8080"),
    setting(keys::OUTPUT_DIR, Kind::Path, "Where KCIDB documents are written")
        .flag("output-dir", "DIR", &["listen", "inbox replay", "doctor"])
        .env("KBRIDGE_OUTPUT_DIR")
        .computed("$XDG_DATA_HOME/kbridge/kcidb", default_output_dir),
    setting(
        keys::MAX_BODY,
        Kind::Bytes { min: 1024, max: 1 << 30 },
        "Largest callback body accepted",
    )
    .flag("max-body", "BYTES", &["listen"])
    .env("KBRIDGE_MAX_BODY")
    .default("1048576"),
    setting(
        keys::HEADER_TIMEOUT,
        Kind::Seconds { min: 0.1, max: 600.0 },
        "How long a client may take to send its request headers",
    )
    .env("KBRIDGE_HEADER_TIMEOUT")
    .default("10"),
    setting(
        keys::FETCH_RETRY_FOR,
        Kind::Seconds { min: 0.0, max: 2_592_000.0 },
        "How long fetching a job's results is retried before giving up",
    )
    .env("KBRIDGE_FETCH_RETRY_FOR")
    .default("3600"),
    setting(
        keys::POLL_INTERVAL,
        Kind::Seconds { min: 0.1, max: 3600.0 },
        "How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time)",
    )
    .flag("poll-interval", "DURATION", &["wait", "schedule *"])
    .env("KBRIDGE_POLL_INTERVAL")
    .default("30"),
    setting(
        keys::POLL_AFTER,
        Kind::Seconds { min: 0.0, max: 2_592_000.0 },
        "How long `kbridge listen` waits for a job's callback before it asks the runner (then at a slower pace)",
    )
    .flag("poll-after", "DURATION", &["listen"])
    .env("KBRIDGE_POLL_AFTER")
    .default("1800"),
    setting(
        keys::UNMATCHED_TTL,
        Kind::Seconds { min: 60.0, max: 31_536_000.0 },
        "How long a signed callback for a job not known here is kept, waiting for its job to appear",
    )
    .env("KBRIDGE_UNMATCHED_TTL")
    .default("7d"),
    setting(
        keys::MAX_CONNECTIONS,
        Kind::Count { min: 1, max: 65536 },
        "Most connections `kbridge listen` serves at once; more wait in the kernel's accept queue",
    )
    .env("KBRIDGE_MAX_CONNECTIONS")
    .default("1024"),
    setting(
        keys::MAX_CONNECTIONS_PER_CLIENT,
        Kind::Count { min: 0, max: 65536 },
        "Most connections one client address may hold open; 0 for no limit (behind a reverse proxy every connection comes from its address)",
    )
    .flag("max-connections-per-client", "N", &["listen"])
    .env("KBRIDGE_MAX_CONNECTIONS_PER_CLIENT")
    .default("64"),
    setting(
        keys::MAX_BUFFERED,
        Kind::Bytes { min: 1 << 20, max: 1 << 34 },
        "Most request body bytes `kbridge listen` holds in memory at once; a request beyond it gets 503",
    )
    .env("KBRIDGE_MAX_BUFFERED")
    .default("64MiB"),
    setting(
        keys::OPS_BIND,
        Kind::Addr,
        "A second address serving only /healthz, /readyz and /metrics, out of reach of callback traffic",
    )
    .flag("ops-bind", "ADDR", &["listen", "doctor"])
    .env("KBRIDGE_OPS_BIND"),
    setting(
        keys::LOG_FORMAT,
        Kind::Choice(&["human", "json"]),
        "How `kbridge listen` writes its log lines: human, or one JSON object per line",
    )
    .flag("log-format", "FORMAT", &["listen"])
    .env("KBRIDGE_LOG_FORMAT")
    .default("human"),
    setting(
        keys::READY_MAX_BACKLOG,
        Kind::Count { min: 1, max: 1 << 40 },
        "/readyz fails when more callbacks than this wait to be processed",
    )
    .default("1000"),
    setting(
        keys::READY_MAX_OVERDUE,
        Kind::Seconds { min: 60.0, max: 31_536_000.0 },
        "/readyz fails when a job's report is overdue (no callback after poll_after) for longer than this",
    )
    .default("6h"),
    setting(
        keys::MAX_CASES,
        Kind::Count { min: 1, max: 100_000_000 },
        "Most test cases kept per job; beyond it the verdicts stay, the cases are dropped and the job says so",
    )
    .env("KBRIDGE_MAX_CASES")
    .default("50000"),
    setting(
        keys::MAX_DOCUMENT,
        Kind::Bytes { min: 65536, max: 1 << 32 },
        "Largest KCIDB document made for one job; beyond it cases are dropped as for max_cases",
    )
    .env("KBRIDGE_MAX_DOCUMENT")
    .default("32MiB"),
    setting(
        keys::ARTIFACT_MAX_BYTES,
        Kind::Bytes { min: 65536, max: 1 << 34 },
        "Most bytes read of one artefact (results.json); a larger one is not used",
    )
    .env("KBRIDGE_ARTIFACT_MAX_BYTES")
    .default("64MiB"),
    setting(
        keys::ARTIFACT_TIMEOUT,
        Kind::Seconds { min: 1.0, max: 3600.0 },
        "Longest time spent fetching one artefact, whatever the server's pace",
    )
    .env("KBRIDGE_ARTIFACT_TIMEOUT")
    .default("120"),
    setting(
        keys::DOWNLOAD_MAX_FILE,
        Kind::Bytes { min: 1024, max: 1 << 44 },
        "Most bytes `kbridge artefacts --download` writes of one file; a larger one is cut, removed and named",
    )
    .flag("max-file-bytes", "BYTES", &["artefacts"])
    .env("KBRIDGE_DOWNLOAD_MAX_FILE")
    .default("4GiB"),
    setting(
        keys::DOWNLOAD_MAX_JOB,
        Kind::Bytes { min: 1024, max: 1 << 46 },
        "Most bytes `kbridge artefacts --download` writes of one job's files together",
    )
    .flag("max-job-bytes", "BYTES", &["artefacts"])
    .env("KBRIDGE_DOWNLOAD_MAX_JOB")
    .default("16GiB"),
    setting(
        keys::KCIDB_REST,
        Kind::Text,
        "KCIDB's REST API as https://TOKEN@HOST[/PATH], the convention of KernelCI's own tools; the token is sent as a Bearer header, never in the URL",
    )
    .env("KCIDB_REST")
    .secret()
    .not_in_file(),
    setting(keys::KCIDB_URL, Kind::Url, "KCIDB's REST API base URL; documents go to {URL}/submit")
        .flag("kcidb-url", "URL", KCIDB_COMMANDS)
        .env("KBRIDGE_KCIDB_URL"),
    setting(keys::KCIDB_TOKEN_FILE, Kind::Path, "File holding the KCIDB token (a JWT from KernelCI)")
        .flag("kcidb-token-file", "FILE", KCIDB_COMMANDS),
    setting(keys::KCIDB_TOKEN, Kind::Text, "The KCIDB token itself")
        .env("KBRIDGE_KCIDB_TOKEN")
        .secret()
        .not_in_file(),
    setting(
        keys::KCIDB_SUBMIT,
        Kind::Bool,
        "Whether `kbridge listen` submits the documents it makes when a KCIDB URL is set",
    )
    .switch("no-submit", "false", &["listen"])
    .switch_help("Keep the documents for `kbridge submit` instead of submitting them to KCIDB (sets kcidb.submit = false)")
    .default("true"),
    setting(
        keys::KCIDB_RETRY_FOR,
        Kind::Seconds { min: 0.0, max: 2_592_000.0 },
        "How long delivering a document is retried (timeouts, 408, 429, 5xx) before it is marked failed",
    )
    .default("86400"),
    setting(
        keys::KCIDB_MAX_REQUEST,
        Kind::Bytes { min: 65536, max: 1 << 30 },
        "Largest request sent to KCIDB; pending documents are merged up to it",
    )
    .default("5242880"),
    setting(
        keys::REPORT_SECRET_FILE,
        Kind::Path,
        "File holding the HMAC secret of the reporting system NAME, for POST /results and `kbridge report --to`",
    ),
];

/// Values given on the command line for settings, by key; a switch gives
/// the value it sets. Only what was given is here.
pub type FlagValues = BTreeMap<&'static str, Vec<String>>;

/// Why the settings could not be resolved. Always a configuration error
/// (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {message}; fix the path given by {given_by}", path.display())]
    Read {
        path: PathBuf,
        given_by: Source,
        message: String,
    },
    #[error("config file {} line {line} column {column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{key} from {from}: {message}")]
    Invalid {
        key: String,
        from: Source,
        message: String,
    },
    #[error("cannot tell where to keep the database: neither XDG_DATA_HOME nor HOME is set; pass --db PATH or set KBRIDGE_DB")]
    NoDataHome,
    /// A runner's own settings are missing or wrong.
    #[error("{0}")]
    Runner(String),
}

/// A value as found in the TOML file.
#[derive(Debug, Clone, PartialEq)]
enum FileValue {
    String(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<FileValue>),
    Other(&'static str),
}

impl FileValue {
    /// "the string \"60\"", for messages.
    fn describe(&self) -> String {
        match self {
            FileValue::String(s) => format!("the string \"{}\"", s.escape_default()),
            FileValue::Integer(i) => format!("the number {i}"),
            FileValue::Float(f) => format!("the number {f}"),
            FileValue::Bool(b) => format!("{b}"),
            FileValue::Array(_) => "a list".into(),
            FileValue::Other(what) => format!("a {what}"),
        }
    }
}

/// A value in the file and the line it is on.
#[derive(Debug, Clone)]
struct Located {
    value: FileValue,
    line: usize,
    column: usize,
    /// Where the value starts, for errors about it.
    value_at: (usize, usize),
}

/// The TOML file, flattened to dotted keys.
#[derive(Debug, Default)]
struct FileSettings {
    path: Option<PathBuf>,
    values: BTreeMap<String, Located>,
}

/// One resolved setting.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub def: &'static SettingDef,
    pub value: Value,
    pub source: Source,
}

/// A resolved value, typed by its [`Kind`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Path(PathBuf),
    Seconds(Duration),
    Number(u64),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    /// The value as `kbridge config` prints it.
    pub fn display(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Path(p) => p.display().to_string(),
            Value::Seconds(d) => format!("{}", d.as_secs_f64()),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::List(l) => l.join(","),
        }
    }
}

/// Every resolved setting.
#[derive(Debug, Clone)]
pub struct Config {
    /// The TOML file that was read, if any.
    pub file: Option<PathBuf>,
    /// Resolved settings by concrete key; a setting with no value and no
    /// default is absent.
    values: BTreeMap<String, Resolved>,
    /// The environment snapshot the settings were resolved from.
    pub env: Environment,
}

impl Config {
    /// Resolves every setting of `defs` (kbridge's own and the registered
    /// runners', [`crate::registry::Registry::settings`]) from the command
    /// line, the environment and the TOML file (`--config FILE`, else
    /// `KBRIDGE_CONFIG`, else the default path if it exists).
    pub fn load(
        defs: &[&'static SettingDef],
        config_file: Option<&Path>,
        flags: &FlagValues,
        env: Environment,
    ) -> Result<Config, ConfigError> {
        let file = read_file(config_file, &env)?;
        for (key, loc) in &file.values {
            if !defs.iter().any(|d| d.in_file && d.matches(key)) {
                return Err(unknown_key(&file, key, loc, defs));
            }
        }
        let mut values = BTreeMap::new();
        for &def in defs {
            if def.is_pattern() {
                for (key, loc) in file.values.iter().filter(|(k, _)| def.matches(k)) {
                    let source = Source::File(file.path.clone().unwrap_or_default(), loc.line);
                    let value =
                        from_file(def, loc, &file, &env).map_err(|m| ConfigError::Invalid {
                            key: key.clone(),
                            from: source.clone(),
                            message: m,
                        })?;
                    values.insert(key.clone(), Resolved { def, value, source });
                }
                continue;
            }
            if let Some(r) = resolve_one(def, flags, &env, &file)? {
                values.insert(def.key.to_string(), r);
            }
        }
        let config = Config {
            file: file.path,
            values,
            env,
        };
        if defs.iter().any(|d| d.key == keys::DATABASE) && config.get(keys::DATABASE).is_none() {
            return Err(ConfigError::NoDataHome);
        }
        if let Some(cb) = config.text(keys::CALLBACK_URL) {
            check_callback_base(&cb.value).map_err(|message| ConfigError::Invalid {
                key: keys::CALLBACK_URL.into(),
                from: cb.source.clone(),
                message,
            })?;
        }
        Ok(config)
    }

    /// A resolved setting.
    pub fn get(&self, key: &str) -> Option<&Resolved> {
        self.values.get(key)
    }

    /// Every resolved setting, by key.
    pub fn all(&self) -> impl Iterator<Item = (&String, &Resolved)> {
        self.values.iter()
    }

    /// The concrete keys under `prefix.` whose next part is a name, such as
    /// the labs under `lava.labs`.
    pub fn names_under(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .values
            .keys()
            .filter_map(|k| k.strip_prefix(prefix)?.strip_prefix('.')?.split('.').next())
            .map(str::to_string)
            .collect();
        names.dedup();
        names
    }

    fn typed<T>(&self, key: &str, pick: impl Fn(&Value) -> Option<T>) -> Option<Setting<T>> {
        let r = self.values.get(key)?;
        let value =
            pick(&r.value).unwrap_or_else(|| panic!("setting {key} is not of the kind asked for"));
        Some(Setting {
            value,
            source: r.source.clone(),
        })
    }

    pub fn text(&self, key: &str) -> Option<Setting<String>> {
        self.typed(key, |v| match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        })
    }

    pub fn path(&self, key: &str) -> Option<Setting<PathBuf>> {
        self.typed(key, |v| match v {
            Value::Path(p) => Some(p.clone()),
            _ => None,
        })
    }

    pub fn seconds(&self, key: &str) -> Option<Setting<Duration>> {
        self.typed(key, |v| match v {
            Value::Seconds(d) => Some(*d),
            _ => None,
        })
    }

    pub fn number(&self, key: &str) -> Option<Setting<u64>> {
        self.typed(key, |v| match v {
            Value::Number(n) => Some(*n),
            _ => None,
        })
    }

    pub fn bool(&self, key: &str) -> Option<Setting<bool>> {
        self.typed(key, |v| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        })
    }

    pub fn list(&self, key: &str) -> Option<Setting<Vec<String>>> {
        self.typed(key, |v| match v {
            Value::List(l) => Some(l.clone()),
            _ => None,
        })
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.path(keys::DATABASE)
            .expect("load refuses a config without a database")
            .value
    }

    /// A setting that has a default, so it always has a value.
    pub fn required_seconds(&self, key: &str) -> Duration {
        self.seconds(key)
            .unwrap_or_else(|| panic!("{key} has a default"))
            .value
    }

    /// A number setting that has a default, so always a value.
    pub fn required_number(&self, key: &str) -> u64 {
        self.number(key)
            .unwrap_or_else(|| panic!("{key} has a default"))
            .value
    }

    /// The KCIDB origin.
    pub fn origin(&self) -> String {
        self.text(keys::ORIGIN).expect("origin has a default").value
    }
}

/// The longest part of a user's text an error message repeats.
const SHOWN_CHARS: usize = 80;

/// `text` as an error message repeats it: at most [`SHOWN_CHARS`]
/// characters, control characters escaped.
pub fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(SHOWN_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// The known name closest to `given` (at most three edits away), for
/// "did you mean". Names whose lengths differ by more than that cannot be
/// that close, so a long `given` costs nothing.
pub fn closest<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    const MAX_EDITS: usize = 3;
    let len = given.chars().count();
    known
        .into_iter()
        .filter(|k| k.chars().count().abs_diff(len) <= MAX_EDITS)
        .map(|k| (strsim::levenshtein(k, given), k))
        .filter(|(d, _)| *d <= MAX_EDITS)
        .min()
        .map(|(_, k)| k)
}

fn unknown_key(
    file: &FileSettings,
    key: &str,
    loc: &Located,
    defs: &[&'static SettingDef],
) -> ConfigError {
    let hint = closest(key, defs.iter().filter(|d| !d.is_pattern()).map(|d| d.key))
        .map(|k| format!("; did you mean '{k}'?"))
        .unwrap_or_else(|| "; docs/configuration.md lists every key".into());
    ConfigError::Parse {
        path: file.path.clone().unwrap_or_default(),
        line: loc.line,
        column: loc.column,
        message: format!("unknown key '{}'{hint}", shown(key)),
    }
}

/// Flag, then environment, then file, then default.
fn resolve_one(
    def: &'static SettingDef,
    flags: &FlagValues,
    env: &Environment,
    file: &FileSettings,
) -> Result<Option<Resolved>, ConfigError> {
    let invalid = |from: Source, message: String| ConfigError::Invalid {
        key: def.key.to_string(),
        from,
        message,
    };
    let from_flag = def.flag.and_then(|f| Some((f, flags.get(def.key)?)));
    let file_value = file.values.get(def.key);
    let file_source = |loc: &Located| {
        Source::FileAt(
            file.path.clone().unwrap_or_default(),
            loc.value_at.0,
            loc.value_at.1,
        )
    };

    // An appended list gathers the file's entries and the flags'.
    if let (Kind::List { append: true }, Some((f, given))) = (def.kind, from_flag) {
        let source = Source::Flag(f.long);
        let mut value = from_text_list(def, given, env).map_err(|m| invalid(source.clone(), m))?;
        if let Some(loc) = file_value {
            let earlier =
                from_file(def, loc, file, env).map_err(|m| invalid(file_source(loc), m))?;
            value = merge_lists(earlier, value);
        }
        return Ok(Some(Resolved { def, value, source }));
    }

    if let Some((f, given)) = from_flag {
        let source = Source::Flag(f.long);
        let value = from_text_list(def, given, env).map_err(|m| invalid(source.clone(), m))?;
        return Ok(Some(Resolved { def, value, source }));
    }
    if let Some(name) = def.env {
        if let Some(raw) = env.get(name) {
            let source = Source::Env(name);
            let parts: Vec<String> = match def.kind {
                Kind::List { .. } => raw
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
                _ => vec![raw.to_string()],
            };
            let value = from_text_list(def, &parts, env).map_err(|m| invalid(source.clone(), m))?;
            return Ok(Some(Resolved { def, value, source }));
        }
    }
    if let Some(loc) = file_value {
        let value = from_file(def, loc, file, env).map_err(|m| invalid(file_source(loc), m))?;
        let source = Source::File(file.path.clone().unwrap_or_default(), loc.line);
        return Ok(Some(Resolved { def, value, source }));
    }
    let default = match def.default {
        DefaultValue::Value(v) => Some(v.to_string()),
        DefaultValue::Computed { compute, .. } => compute(env),
        DefaultValue::None | DefaultValue::Described(_) => None,
    };
    let Some(default) = default else {
        return Ok(None);
    };
    let value = from_text_list(def, &[default], env)
        .unwrap_or_else(|m| panic!("the default of {} is invalid: {m}", def.key));
    Ok(Some(Resolved {
        def,
        value,
        source: Source::Default,
    }))
}

fn merge_lists(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::List(mut a), Value::List(b)) => {
            a.extend(b);
            Value::List(a)
        }
        (_, b) => b,
    }
}

/// Parses values given as text (flags, the environment, defaults).
fn from_text_list(def: &SettingDef, given: &[String], env: &Environment) -> Result<Value, String> {
    match def.kind {
        Kind::List { .. } => given
            .iter()
            .map(|s| non_empty(s))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        _ => {
            // A single-valued flag given twice: the last one wins, as with
            // most tools.
            let last = given.last().map(String::as_str).unwrap_or("");
            from_text(def, last, env)
        }
    }
}

fn non_empty(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(t.to_string())
    }
}

/// Parses one value given as text.
pub fn from_text(def: &SettingDef, raw: &str, env: &Environment) -> Result<Value, String> {
    let raw = raw.trim();
    match def.kind {
        Kind::Text => non_empty(raw).map(Value::Text),
        Kind::Path => non_empty(raw).map(|p| Value::Path(env.expand_home(&p))),
        Kind::Url => validate_url(raw).map(Value::Text),
        Kind::Addr => validate_addr(raw).map(Value::Text),
        Kind::Origin => validate_origin(raw).map(Value::Text),
        Kind::Choice(words) => {
            if words.contains(&raw) {
                Ok(Value::Text(raw.to_string()))
            } else {
                Err(format!("'{raw}' is not one of: {}", words.join(", ")))
            }
        }
        Kind::Seconds { min, max } => {
            let secs = parse_duration(raw).ok_or_else(|| {
                format!("'{raw}' is not a duration; give seconds (60) or a number with s, m, h or d (90s, 30m, 2h)")
            })?;
            seconds_in_range(secs, min, max)
        }
        Kind::Bytes { min, max } => {
            let n = parse_bytes(raw).ok_or_else(|| {
                format!("'{raw}' is not a number of bytes; give bytes (1048576) or a size such as 512KiB, 1MiB or 1MB")
            })?;
            number_in_range(n, min, max, "bytes")
        }
        Kind::Count { min, max } => {
            let n = raw
                .parse::<u64>()
                .map_err(|_| format!("'{raw}' is not a whole number"))?;
            number_in_range(n, min, max, "")
        }
        Kind::Bool => match raw.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(Value::Bool(true)),
            "false" | "no" | "0" | "off" => Ok(Value::Bool(false)),
            _ => Err(format!("'{raw}' is not true or false")),
        },
        Kind::List { .. } => from_text_list(def, &[raw.to_string()], env),
    }
}

/// Parses a value found in the TOML file.
fn from_file(
    def: &SettingDef,
    loc: &Located,
    file: &FileSettings,
    env: &Environment,
) -> Result<Value, String> {
    let v = &loc.value;
    let expected = |what: &str| format!("expected {what}, got {}", v.describe());
    let file_path = |s: &str| -> PathBuf {
        let p = env.expand_home(s);
        match file.path.as_deref().and_then(Path::parent) {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p,
        }
    };
    match (def.kind, v) {
        (Kind::Path, FileValue::String(s)) => non_empty(s).map(|s| Value::Path(file_path(&s))),
        (Kind::Path, _) => Err(expected("a path in quotes")),
        (Kind::Seconds { min, max }, FileValue::Integer(i)) => {
            seconds_in_range(*i as f64, min, max)
        }
        (Kind::Seconds { min, max }, FileValue::Float(f)) => seconds_in_range(*f, min, max),
        // A quoted bare number is a slip worth naming: TOML has numbers.
        (Kind::Seconds { .. }, FileValue::String(s)) if s.trim().parse::<f64>().is_ok() => {
            Err(format!(
                "{}; write {} without quotes, or a duration such as \"{}s\"",
                expected("a number of seconds"),
                s.trim(),
                s.trim()
            ))
        }
        (Kind::Seconds { .. }, FileValue::String(s)) => from_text(def, s, env)
            .map_err(|_| expected("a number of seconds, or a duration such as \"30m\"")),
        (Kind::Seconds { .. }, _) => Err(expected("a number of seconds")),
        (Kind::Bytes { min, max } | Kind::Count { min, max }, FileValue::Integer(i)) => {
            let n = u64::try_from(*i).map_err(|_| expected("a positive number"))?;
            number_in_range(
                n,
                min,
                max,
                if matches!(def.kind, Kind::Bytes { .. }) {
                    "bytes"
                } else {
                    ""
                },
            )
        }
        (Kind::Bytes { .. }, FileValue::String(s)) if s.trim().parse::<u64>().is_ok() => {
            Err(format!(
                "{}; write {} without quotes, or a size such as \"1MiB\"",
                expected("a number of bytes"),
                s.trim()
            ))
        }
        (Kind::Bytes { .. }, FileValue::String(s)) => from_text(def, s, env)
            .map_err(|_| expected("a number of bytes, or a size such as \"1MiB\"")),
        (Kind::Bytes { .. }, _) => Err(expected("a number of bytes")),
        (Kind::Count { .. }, _) => Err(expected("a whole number")),
        (Kind::Bool, FileValue::Bool(b)) => Ok(Value::Bool(*b)),
        (Kind::Bool, _) => Err(expected("true or false")),
        (Kind::List { .. }, FileValue::Array(items)) => {
            let texts = items
                .iter()
                .map(|i| match i {
                    FileValue::String(s) => Ok(s.clone()),
                    other => Err(format!(
                        "expected a list of strings, got {} in it",
                        other.describe()
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            from_text_list(def, &texts, env)
        }
        (Kind::List { .. }, FileValue::String(s)) => {
            from_text_list(def, std::slice::from_ref(s), env)
        }
        (Kind::List { .. }, _) => Err(expected("a list of strings")),
        (_, FileValue::String(s)) => from_text(def, s, env),
        (_, _) => Err(expected("a string in quotes")),
    }
}

fn seconds_in_range(secs: f64, min: f64, max: f64) -> Result<Value, String> {
    if !(secs.is_finite() && secs >= min && secs <= max) {
        return Err(format!(
            "{secs} seconds is out of range; use {} to {} seconds",
            trim_float(min),
            trim_float(max)
        ));
    }
    Ok(Value::Seconds(Duration::from_secs_f64(secs)))
}

fn number_in_range(n: u64, min: u64, max: u64, unit: &str) -> Result<Value, String> {
    if n < min || n > max {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        return Err(format!(
            "{n}{unit} is out of range; use {min} to {max}{unit}"
        ));
    }
    Ok(Value::Number(n))
}

fn trim_float(f: f64) -> String {
    let s = format!("{f}");
    s.strip_suffix(".0").map(String::from).unwrap_or(s)
}

/// `90`, `90s`, `1.5m`, `2h`, `7d` → seconds.
pub fn parse_duration(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    let (number, unit) = match raw.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => raw.split_at(i),
        None => (raw, ""),
    };
    let n: f64 = number.trim().parse().ok()?;
    let factor = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => return None,
    };
    Some(n * factor).filter(|s| s.is_finite())
}

/// `1048576`, `512KiB`, `1MiB`, `1MB` → bytes.
pub fn parse_bytes(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    let (number, unit) = match raw.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => raw.split_at(i),
        None => (raw, ""),
    };
    let n: f64 = number.trim().parse().ok()?;
    let factor: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "K" | "KiB" | "k" => 1024.0,
        "kB" | "KB" => 1000.0,
        "M" | "MiB" => 1048576.0,
        "MB" => 1e6,
        "G" | "GiB" => 1073741824.0,
        "GB" => 1e9,
        _ => return None,
    };
    let bytes = n * factor;
    (bytes.is_finite() && bytes >= 0.0 && bytes.fract() == 0.0).then_some(bytes as u64)
}

fn validate_origin(raw: &str) -> Result<String, String> {
    if is_valid_origin(raw) {
        Ok(raw.to_string())
    } else {
        Err(format!(
            "'{raw}' is not a KCIDB origin; use lower-case letters, digits and '_' only"
        ))
    }
}

fn validate_addr(raw: &str) -> Result<String, String> {
    let expected = "give HOST:PORT, such as 127.0.0.1:8080 or [::1]:8080 (port 0 picks a free one)";
    let (host, port) = raw
        .rsplit_once(':')
        .ok_or_else(|| format!("'{raw}' is not an address; {expected}"))?;
    let host_ok = !host.is_empty()
        && (host.parse::<std::net::Ipv4Addr>().is_ok()
            || host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .is_some_and(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
            || host.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }));
    if !host_ok || port.parse::<u16>().is_err() {
        return Err(format!("'{raw}' is not an address; {expected}"));
    }
    Ok(raw.to_string())
}

/// A callback base URL a runner can reach, and that kbridge can append
/// its routes to.
fn check_callback_base(url: &str) -> Result<(), String> {
    let shown = crate::http::redact_url(url);
    let uri: http::Uri = url.parse().map_err(|_| format!("'{shown}' is not a URL"))?;
    let host = uri.host().unwrap_or("").trim_matches(['[', ']']);
    let unspecified = host == "0"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_unspecified());
    if unspecified {
        return Err(format!(
            "'{shown}': {host} is where `kbridge listen --bind` listens, not an address a runner can reach; give the listener's public URL (https://ci.example.org/kbridge)"
        ));
    }
    let parts: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    if let [.., "callback", _, _] = parts[..] {
        let base = url
            .trim_end_matches('/')
            .rsplitn(4, '/')
            .last()
            .unwrap_or(url);
        return Err(format!(
            "'{shown}' already ends in /callback/RUNNER/KIND, which kbridge adds to each job's; give the listener's base URL ({})",
            crate::http::redact_url(base)
        ));
    }
    Ok(())
}

fn validate_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim().trim_end_matches('/');
    let uri: http::Uri = trimmed
        .parse()
        .map_err(|_| format!("'{value}' is not a URL; give an absolute http(s) URL"))?;
    let ok = matches!(uri.scheme_str(), Some("http" | "https"))
        && uri.host().is_some_and(|h| !h.is_empty())
        && uri.query().is_none();
    if !ok {
        return Err(format!(
            "'{}' is not an absolute http(s) URL without a query",
            crate::http::redact_url(value)
        ));
    }
    Ok(trimmed.to_string())
}

/// Finds and parses the TOML file: `config_file` (from `--config`), else
/// `KBRIDGE_CONFIG`, else the default path if it exists. A file named
/// explicitly must exist.
fn read_file(config_file: Option<&Path>, env: &Environment) -> Result<FileSettings, ConfigError> {
    let (path, given_by) = if let Some(p) = config_file {
        (p.to_path_buf(), Source::Flag("config"))
    } else if let Some(p) = env.get("KBRIDGE_CONFIG") {
        (PathBuf::from(p), Source::Env("KBRIDGE_CONFIG"))
    } else {
        match env.config_home() {
            Some(dir) => {
                let p = dir.join("kbridge").join("config.toml");
                if !p.exists() {
                    return Ok(FileSettings::default());
                }
                (p, Source::Default)
            }
            None => return Ok(FileSettings::default()),
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
        path: path.clone(),
        given_by,
        message: e.to_string(),
    })?;
    let table = toml::de::DeTable::parse(&text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|s| Lines::new(&text).at(s.start))
            .unwrap_or((1, 1));
        ConfigError::Parse {
            path: path.clone(),
            line,
            column,
            // toml's own message spans several lines with a source excerpt;
            // keep the first line so the error stays one line.
            message: e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_string(),
        }
    })?;
    let mut values = BTreeMap::new();
    flatten(&Lines::new(&text), "", table.get_ref(), &mut values);
    Ok(FileSettings {
        path: Some(path),
        values,
    })
}

fn flatten(
    lines: &Lines<'_>,
    prefix: &str,
    table: &toml::de::DeTable<'_>,
    out: &mut BTreeMap<String, Located>,
) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        if let Some(inner) = value.get_ref().as_table() {
            flatten(lines, &full, inner, out);
            continue;
        }
        let (line, column) = lines.at(key.span().start);
        out.insert(
            full,
            Located {
                value: convert(value.get_ref()),
                line,
                column,
                value_at: lines.at(value.span().start),
            },
        );
    }
}

fn convert(v: &toml::de::DeValue<'_>) -> FileValue {
    use toml::de::DeValue as D;
    match v {
        D::String(s) => FileValue::String(s.to_string()),
        D::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map(FileValue::Integer)
            .unwrap_or(FileValue::Other("number too large")),
        D::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse()
            .map(FileValue::Float)
            .unwrap_or(FileValue::Other("number")),
        D::Boolean(b) => FileValue::Bool(*b),
        D::Array(items) => FileValue::Array(items.iter().map(|i| convert(i.get_ref())).collect()),
        D::Datetime(_) => FileValue::Other("date"),
        D::Table(_) => FileValue::Other("table"),
    }
}

/// Where each line of a text starts, so a byte offset becomes a line and
/// column in logarithmic time: a file with many keys costs no more than
/// reading it.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn at(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |l| l.chars().count())
            + 1;
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().copied())
    }

    fn load(
        file: Option<&Path>,
        flags: &[(&'static str, &str)],
        e: Environment,
    ) -> Result<Config, ConfigError> {
        let mut f = FlagValues::new();
        for (k, v) in flags {
            f.entry(*k).or_default().push(v.to_string());
        }
        Config::load(
            &crate::registry::Registry::builtin().settings(),
            file,
            &f,
            e,
        )
    }

    #[test]
    fn defaults_follow_xdg() {
        let c = load(
            None,
            &[],
            env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/nonexistent")]),
        )
        .unwrap();
        assert_eq!(
            c.database(),
            PathBuf::from("/home/u/.local/share/kbridge/kbridge.db")
        );
        assert_eq!(c.get(keys::DATABASE).unwrap().source, Source::Default);
        assert_eq!(c.origin(), "kbridge");
        assert!(c.text(keys::CALLBACK_URL).is_none());
        assert_eq!(
            c.required_seconds(keys::HTTP_TIMEOUT),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn flag_beats_env_beats_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "database = \"rel.db\"\norigin = \"lab_a\"\ncallback_url = \"https://file.example/\"\n",
        )
        .unwrap();
        let e = env(&[
            ("HOME", "/home/u"),
            ("KBRIDGE_CALLBACK_URL", "https://env.example"),
        ]);
        let c = load(Some(&file), &[], e.clone()).unwrap();
        assert_eq!(c.database(), dir.path().join("rel.db"));
        assert_eq!(c.origin(), "lab_a");
        assert_eq!(
            c.get(keys::ORIGIN).unwrap().source,
            Source::File(file.clone(), 2)
        );
        let cb = c.text(keys::CALLBACK_URL).unwrap();
        assert_eq!(cb.value, "https://env.example");
        assert_eq!(cb.source, Source::Env("KBRIDGE_CALLBACK_URL"));

        let c = load(
            Some(&file),
            &[
                (keys::DATABASE, "/x.db"),
                (keys::CALLBACK_URL, "http://flag.example/base/"),
            ],
            e,
        )
        .unwrap();
        assert_eq!(c.get(keys::DATABASE).unwrap().source, Source::Flag("db"));
        assert_eq!(
            c.text(keys::CALLBACK_URL).unwrap().value,
            "http://flag.example/base"
        );
    }

    #[test]
    fn bad_values_are_config_errors_with_the_allowed_range() {
        let e = env(&[("HOME", "/h"), ("KBRIDGE_ORIGIN", "My-Lab")]);
        let err = load(None, &[], e).unwrap_err().to_string();
        assert!(err.contains("KBRIDGE_ORIGIN"), "{err}");

        let e = env(&[("HOME", "/h"), ("KBRIDGE_HTTP_TIMEOUT", "soon")]);
        assert!(load(None, &[], e).is_err());
        let e = env(&[("HOME", "/h"), ("KBRIDGE_HTTP_TIMEOUT", "0")]);
        let err = load(None, &[], e).unwrap_err().to_string();
        assert!(err.contains("use 0.1 to 3600 seconds"), "{err}");

        let err = load(None, &[(keys::BIND, "8080")], env(&[("HOME", "/h")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("give HOST:PORT"), "{err}");
        assert!(load(
            None,
            &[(keys::BIND, "localhost:8080x")],
            env(&[("HOME", "/h")])
        )
        .is_err());
        assert!(load(None, &[(keys::BIND, "[::1]:0")], env(&[("HOME", "/h")])).is_ok());
        let c = load(None, &[(keys::MAX_BODY, "1MiB")], env(&[("HOME", "/h")])).unwrap();
        assert_eq!(c.number(keys::MAX_BODY).unwrap().value, 1048576);
        let err = load(None, &[(keys::MAX_BODY, "lots")], env(&[("HOME", "/h")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("such as 512KiB"), "{err}");
    }

    #[test]
    fn file_errors_give_line_column_and_plain_words() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "origin = \"x\"\ndatabse = \"x\"\n").unwrap();
        let err = load(Some(&file), &[], env(&[("HOME", "/h")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2 column 1: unknown key 'databse'; did you mean 'database'?"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);

        std::fs::write(&file, "\nhttp_timeout = \"sixty\"\n").unwrap();
        let err = load(Some(&file), &[], env(&[("HOME", "/h")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected a number of seconds"), "{err}");
        assert!(err.contains("got the string \"sixty\""), "{err}");
        assert!(err.contains("line 2 column 16"), "{err}");

        std::fs::write(&file, "http_timeout = \"60\"\n").unwrap();
        let err = load(Some(&file), &[], env(&[("HOME", "/h")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "expected a number of seconds, got the string \"60\"; write 60 without quotes"
            ),
            "{err}"
        );

        std::fs::write(&file, "origin = [1,\n").unwrap();
        let err = load(Some(&file), &[], env(&[("HOME", "/h")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line "), "{err}");
        assert_eq!(err.lines().count(), 1);
    }

    #[test]
    fn units() {
        assert_eq!(parse_duration("90"), Some(90.0));
        assert_eq!(parse_duration("30m"), Some(1800.0));
        assert_eq!(parse_duration("2h"), Some(7200.0));
        assert_eq!(parse_duration("1.5 d"), Some(129600.0));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_bytes("1MB"), Some(1_000_000));
        assert_eq!(parse_bytes("1MiB"), Some(1_048_576));
        assert_eq!(parse_bytes("512KiB"), Some(524_288));
        assert_eq!(parse_bytes("1.5"), None);
    }

    #[test]
    fn patterns_match_names() {
        let d = setting("lava.labs.*.url", Kind::Url, "");
        assert!(d.matches("lava.labs.mylab.url"));
        assert!(!d.matches("lava.labs.url"));
        assert!(!d.matches("lava.labs.a.b.url"));
        assert_eq!(closest("databse", ["database", "bind"]), Some("database"));
        assert_eq!(closest(&"x".repeat(100_000), ["database"]), None);
        assert_eq!(shown(&"y".repeat(200)).chars().count(), SHOWN_CHARS + 1);
    }
}

#[cfg(test)]
mod docs {
    //! The settings table is the one source of truth: `--help`, README.md
    //! and docs/configuration.md must agree with it.

    use super::*;

    const BEGIN: &str = "<!-- BEGIN settings table";
    const END: &str = "<!-- END settings table -->";

    fn where_flag(on: &[&str]) -> String {
        let places: Vec<String> = on
            .iter()
            .map(|p| match *p {
                "" => "every command".to_string(),
                p => format!("`{}`", p.replace(" *", "")),
            })
            .collect();
        places.join(", ")
    }

    /// The table docs/configuration.md carries.
    fn markdown_table() -> String {
        let mut out = String::from(
            "| key | flag | environment | default | meaning |\n|---|---|---|---|---|\n",
        );
        for def in crate::registry::Registry::builtin().settings() {
            let flag = def
                .flag
                .map(|f| {
                    let value = f.value_name.map(|v| format!(" {v}")).unwrap_or_default();
                    format!("`--{}{value}` ({})", f.long, where_flag(f.on))
                })
                .unwrap_or_default();
            let env = def.env.map(|e| format!("`{e}`")).unwrap_or_default();
            let default = def
                .default
                .describe()
                .map(|d| format!("`{d}`"))
                .unwrap_or_else(|| "none".into());
            let range = match def.kind {
                Kind::Seconds { min, max } => format!(
                    " A duration, {} to {} seconds.",
                    trim_float(min),
                    trim_float(max)
                ),
                Kind::Bytes { min, max } => format!(" A size, {min} to {max} bytes."),
                Kind::Count { min, max } => format!(" {min} to {max}."),
                Kind::Choice(words) => format!(" One of: {}.", words.join(", ")),
                _ => String::new(),
            };
            let secret = if def.secret {
                " Secret: never shown."
            } else {
                ""
            };
            out.push_str(&format!(
                "| `{}` | {flag} | {env} | {default} | {}.{range}{secret} |\n",
                def.key, def.doc
            ));
        }
        out
    }

    fn repo_file(name: &str) -> (std::path::PathBuf, String) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        (path, text)
    }

    #[test]
    fn configuration_md_carries_the_table() {
        let (path, text) = repo_file("docs/configuration.md");
        let start = text
            .find(BEGIN)
            .expect("docs/configuration.md has the table markers");
        let body_start = start + text[start..].find('\n').unwrap() + 1;
        let end = text
            .find(END)
            .expect("docs/configuration.md has the end marker");
        let fresh = markdown_table();
        if std::env::var_os("KBRIDGE_UPDATE_GENERATED").is_some() {
            let updated = format!("{}{fresh}{}", &text[..body_start], &text[end..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        assert_eq!(
            &text[body_start..end],
            fresh,
            "docs/configuration.md is out of date: KBRIDGE_UPDATE_GENERATED=1 cargo test configuration_md rewrites it"
        );
    }

    #[test]
    fn readme_rows_agree_with_the_table() {
        let (_, text) = repo_file("README.md");
        let defs = crate::registry::Registry::builtin().settings();
        let mut rows = 0;
        for line in text.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let key = cells[0].trim_matches('`');
            let Some(def) = defs.iter().find(|d| d.key == key) else {
                // Other tables (exit statuses, job states) start the same way.
                continue;
            };
            rows += 1;
            let flag = def
                .flag
                .map(|f| format!("--{}", f.long))
                .unwrap_or_default();
            assert!(
                cells[1].contains(&flag),
                "README row for {key}: flag should be {flag}: {line}"
            );
            assert_eq!(
                cells[2].trim_matches('`'),
                def.env.unwrap_or(""),
                "README row for {key}: {line}"
            );
            let default = def.default.describe().unwrap_or("none");
            assert!(
                cells[3].contains(default),
                "README row for {key}: default should be {default}: {line}"
            );
        }
        assert!(rows >= 8, "README.md's settings table is missing");
    }

    #[test]
    fn help_names_every_flag_with_its_variable() {
        let mut cmd = crate::cli::command();
        cmd.build();
        for def in crate::registry::Registry::builtin().settings() {
            let Some(flag) = def.flag else { continue };
            for path in flag.on {
                let mut sub = &cmd;
                for part in path.split_whitespace() {
                    if part == "*" {
                        sub = sub.get_subcommands().next().expect("a subcommand");
                    } else {
                        sub = sub.find_subcommand(part).expect("the command exists");
                    }
                }
                // Wrapping may split "[env: NAME]" over two lines.
                let help = sub
                    .clone()
                    .render_long_help()
                    .to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                assert!(
                    help.contains(&format!("--{}", flag.long)),
                    "{path}: no --{}",
                    flag.long
                );
                if let Some(env) = def.env {
                    assert!(
                        help.contains(&format!("[env: {env}]")),
                        "{path}: --{} does not name {env}",
                        flag.long
                    );
                }
            }
        }
    }
}
