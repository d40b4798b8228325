//! kbridge's own settings (a runner declares its own in its module).

use super::*;

/// The keys of kbridge's own settings, each with the type its value is
/// read as: reading one as another type does not compile, and a test
/// checks each type against its setting's kind.
pub mod keys {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::Key;

    macro_rules! keys {
        ($($name:ident: $t:ty = $key:literal;)*) => {
            $(pub const $name: Key<$t> = Key::new($key);)*

            /// Every key, with what its type can hold.
            #[cfg(test)]
            pub const ALL: &[(&str, fn(&super::Kind) -> bool)] =
                &[$(($key, <$t as super::Read>::fits)),*];
        };
    }

    keys! {
        DATABASE: crate::location::Location = "database";
        DATABASE_PASSWORD_FILE: PathBuf = "database_password_file";
        CALLBACK_URL: String = "callback_url";
        RUNNER: String = "runner";
        ORIGIN: String = "origin";
        HTTP_TIMEOUT: Duration = "http_timeout";
        RETRY_DELAY: Duration = "retry_delay";
        BIND: String = "bind";
        OUTPUT_DIR: PathBuf = "output_dir";
        MAX_BODY: u64 = "max_body";
        HEADER_TIMEOUT: Duration = "header_timeout";
        FETCH_RETRY_FOR: Duration = "fetch_retry_for";
        KCIDB_URL: String = "kcidb.url";
        KCIDB_TOKEN_FILE: PathBuf = "kcidb.token_file";
        KCIDB_TOKEN: String = "kcidb.token";
        KCIDB_REST: String = "kcidb.rest";
        KCIDB_SUBMIT: bool = "kcidb.submit";
        KCIDB_RETRY_FOR: Duration = "kcidb.retry_for";
        KCIDB_MAX_REQUEST: u64 = "kcidb.max_request";
        REPORT_SECRET_FILE: PathBuf = "report.sources.*.secret_file";
        POLL_INTERVAL: Duration = "poll_interval";
        POLL_AFTER: Duration = "poll_after";
        UNMATCHED_TTL: Duration = "unmatched_ttl";
        CLAIM_LEASE: Duration = "claim_lease";
        MAX_CONNECTIONS: u64 = "max_connections";
        MAX_CONNECTIONS_PER_CLIENT: u64 = "max_connections_per_client";
        MAX_BUFFERED: u64 = "max_buffered";
        OPS_BIND: String = "ops_bind";
        LOG_FORMAT: String = "log_format";
        READY_MAX_BACKLOG: u64 = "ready.max_backlog";
        READY_MAX_OVERDUE: Duration = "ready.max_overdue";
        MAX_CASES: u64 = "max_cases";
        MAX_DOCUMENT: u64 = "max_document";
        ARTIFACT_MAX_BYTES: u64 = "artifact_max_bytes";
        ARTIFACT_TIMEOUT: Duration = "artifact_timeout";
        DOWNLOAD_MAX_FILE: u64 = "download_max_file";
        DOWNLOAD_MAX_JOB: u64 = "download_max_job";
    }
}

/// The commands that talk to KCIDB.
pub(super) const KCIDB_COMMANDS: &[&str] = &["listen", "submit", "outbox check", "doctor"];

pub(super) const SCHEDULE: &[&str] = &["schedule *"];

pub(super) fn default_database(env: &Environment) -> Option<String> {
    Some(
        env.data_home()?
            .join("kbridge")
            .join("kbridge.db")
            .display()
            .to_string(),
    )
}

pub(super) fn default_output_dir(env: &Environment) -> Option<String> {
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
    setting(
        keys::DATABASE.name(),
        Kind::Store,
        "Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md)",
    )
    .flag("db", "DB", &[""])
    .env("KBRIDGE_DB")
    .computed("$XDG_DATA_HOME/kbridge/kbridge.db", default_database),
    setting(
        keys::DATABASE_PASSWORD_FILE.name(),
        Kind::Path,
        "File holding the PostgreSQL password, when the database URL gives none (systemd's LoadCredential puts one in $CREDENTIALS_DIRECTORY)",
    )
    .env("KBRIDGE_DB_PASSWORD_FILE"),
    setting(
        keys::CALLBACK_URL.name(),
        Kind::Url,
        "Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind}",
    )
    .flag("callback-url", "URL", SCHEDULE)
    .env("KBRIDGE_CALLBACK_URL"),
    setting(keys::RUNNER.name(), Kind::Text, "Runner to submit to")
        .flag("runner", "RUNNER", SCHEDULE)
        .env("KBRIDGE_RUNNER")
        .described("the first registered runner (see --help)"),
    setting(keys::ORIGIN.name(), Kind::Origin, "KCIDB origin of everything kbridge reports")
        .env("KBRIDGE_ORIGIN")
        .default("kbridge"),
    setting(
        keys::HTTP_TIMEOUT.name(),
        Kind::Seconds { min: 0.1, max: 3600.0 },
        "How long to wait for a runner's answer to one request",
    )
    .env("KBRIDGE_HTTP_TIMEOUT")
    .default("60"),
    setting(
        keys::RETRY_DELAY.name(),
        Kind::Seconds { min: 0.01, max: 3600.0 },
        "The pause before the first retry of a request; later pauses double",
    )
    .env("KBRIDGE_RETRY_DELAY")
    .default("2"),
    setting(keys::BIND.name(), Kind::Addr, "Address `kbridge listen` listens on; port 0 picks a free port")
        .flag("bind", "ADDR", &["listen", "doctor"])
        .env("KBRIDGE_BIND")
        .default("127.0.0.1:8080"),
    setting(keys::OUTPUT_DIR.name(), Kind::Path, "Where KCIDB documents are written")
        .flag("output-dir", "DIR", &["listen", "inbox replay", "doctor"])
        .env("KBRIDGE_OUTPUT_DIR")
        .computed("$XDG_DATA_HOME/kbridge/kcidb", default_output_dir),
    setting(
        keys::MAX_BODY.name(),
        Kind::Bytes { min: 1024, max: 1 << 30 },
        "Largest callback body accepted",
    )
    .flag("max-body", "BYTES", &["listen"])
    .env("KBRIDGE_MAX_BODY")
    .default("1048576"),
    setting(
        keys::HEADER_TIMEOUT.name(),
        Kind::Seconds { min: 0.1, max: 600.0 },
        "How long a client may take to send its request headers",
    )
    .env("KBRIDGE_HEADER_TIMEOUT")
    .default("10"),
    setting(
        keys::FETCH_RETRY_FOR.name(),
        Kind::Seconds { min: 0.0, max: 2_592_000.0 },
        "How long fetching a job's results is retried before giving up",
    )
    .env("KBRIDGE_FETCH_RETRY_FOR")
    .default("3600"),
    setting(
        keys::POLL_INTERVAL.name(),
        Kind::Seconds { min: 0.1, max: 3600.0 },
        "How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time)",
    )
    .flag("poll-interval", "DURATION", &["wait", "schedule *"])
    .env("KBRIDGE_POLL_INTERVAL")
    .default("30"),
    setting(
        keys::POLL_AFTER.name(),
        Kind::Seconds { min: 0.0, max: 2_592_000.0 },
        "How long `kbridge listen` waits for a job's callback before it asks the runner (then at a slower pace)",
    )
    .flag("poll-after", "DURATION", &["listen"])
    .env("KBRIDGE_POLL_AFTER")
    .default("1800"),
    setting(
        keys::UNMATCHED_TTL.name(),
        Kind::Seconds { min: 60.0, max: 31_536_000.0 },
        "How long a signed callback for a job not known here is kept, waiting for its job to appear",
    )
    .env("KBRIDGE_UNMATCHED_TTL")
    .default("7d"),
    setting(
        keys::CLAIM_LEASE.name(),
        Kind::Seconds { min: 1.0, max: 3600.0 },
        "How long a listener's claim on a callback it is processing lasts unless renewed; when a listener dies, another on the same database takes its callbacks over this long after",
    )
    .env("KBRIDGE_CLAIM_LEASE")
    .default("30"),
    setting(
        keys::MAX_CONNECTIONS.name(),
        Kind::Count { min: 1, max: 65536 },
        "Most connections `kbridge listen` serves at once; more wait in the kernel's accept queue",
    )
    .env("KBRIDGE_MAX_CONNECTIONS")
    .default("1024"),
    setting(
        keys::MAX_CONNECTIONS_PER_CLIENT.name(),
        Kind::Count { min: 0, max: 65536 },
        "Most connections one client address may hold open; 0 for no limit (behind a reverse proxy every connection comes from its address)",
    )
    .flag("max-connections-per-client", "N", &["listen"])
    .env("KBRIDGE_MAX_CONNECTIONS_PER_CLIENT")
    .default("64"),
    setting(
        keys::MAX_BUFFERED.name(),
        Kind::Bytes { min: 1 << 20, max: 1 << 34 },
        "Most request body bytes `kbridge listen` holds in memory at once; a request beyond it gets 503",
    )
    .env("KBRIDGE_MAX_BUFFERED")
    .default("64MiB"),
    setting(
        keys::OPS_BIND.name(),
        Kind::Addr,
        "A second address serving only /healthz, /readyz and /metrics, out of reach of callback traffic",
    )
    .flag("ops-bind", "ADDR", &["listen", "doctor"])
    .env("KBRIDGE_OPS_BIND"),
    setting(
        keys::LOG_FORMAT.name(),
        Kind::Choice(&["human", "json"]),
        "How `kbridge listen` writes its log lines: human, or one JSON object per line",
    )
    .flag("log-format", "FORMAT", &["listen"])
    .env("KBRIDGE_LOG_FORMAT")
    .default("human"),
    setting(
        keys::READY_MAX_BACKLOG.name(),
        Kind::Count { min: 1, max: 1 << 40 },
        "/readyz fails when more callbacks than this wait to be processed",
    )
    .default("1000"),
    setting(
        keys::READY_MAX_OVERDUE.name(),
        Kind::Seconds { min: 60.0, max: 31_536_000.0 },
        "/readyz fails when a job's report is overdue (no callback after poll_after) for longer than this",
    )
    .default("6h"),
    setting(
        keys::MAX_CASES.name(),
        Kind::Count { min: 1, max: 100_000_000 },
        "Most test cases kept per job; beyond it the verdicts stay, the cases are dropped and the job says so",
    )
    .env("KBRIDGE_MAX_CASES")
    .default("50000"),
    setting(
        keys::MAX_DOCUMENT.name(),
        Kind::Bytes { min: 65536, max: 1 << 32 },
        "Largest KCIDB document made for one job; beyond it cases are dropped as for max_cases",
    )
    .env("KBRIDGE_MAX_DOCUMENT")
    .default("32MiB"),
    setting(
        keys::ARTIFACT_MAX_BYTES.name(),
        Kind::Bytes { min: 65536, max: 1 << 34 },
        "Most bytes read of one artefact (results.json); a larger one is not used",
    )
    .env("KBRIDGE_ARTIFACT_MAX_BYTES")
    .default("64MiB"),
    setting(
        keys::ARTIFACT_TIMEOUT.name(),
        Kind::Seconds { min: 1.0, max: 3600.0 },
        "Longest time spent fetching one artefact, whatever the server's pace",
    )
    .env("KBRIDGE_ARTIFACT_TIMEOUT")
    .default("120"),
    setting(
        keys::DOWNLOAD_MAX_FILE.name(),
        Kind::Bytes { min: 1024, max: 1 << 44 },
        "Most bytes `kbridge artefacts --download` writes of one file; a larger one is cut, removed and named",
    )
    .flag("max-file-bytes", "BYTES", &["artefacts"])
    .env("KBRIDGE_DOWNLOAD_MAX_FILE")
    .default("4GiB"),
    setting(
        keys::DOWNLOAD_MAX_JOB.name(),
        Kind::Bytes { min: 1024, max: 1 << 46 },
        "Most bytes `kbridge artefacts --download` writes of one job's files together",
    )
    .flag("max-job-bytes", "BYTES", &["artefacts"])
    .env("KBRIDGE_DOWNLOAD_MAX_JOB")
    .default("16GiB"),
    setting(
        keys::KCIDB_REST.name(),
        Kind::Text,
        "KCIDB's REST API as https://TOKEN@HOST[/PATH], the convention of KernelCI's own tools; the token is sent as a Bearer header, never in the URL",
    )
    .env("KCIDB_REST")
    .secret()
    .not_in_file(),
    setting(keys::KCIDB_URL.name(), Kind::Url, "KCIDB's REST API base URL; documents go to {URL}/submit")
        .flag("kcidb-url", "URL", KCIDB_COMMANDS)
        .env("KBRIDGE_KCIDB_URL"),
    setting(keys::KCIDB_TOKEN_FILE.name(), Kind::Path, "File holding the KCIDB token (a JWT from KernelCI)")
        .flag("kcidb-token-file", "FILE", KCIDB_COMMANDS),
    setting(keys::KCIDB_TOKEN.name(), Kind::Text, "The KCIDB token itself")
        .env("KBRIDGE_KCIDB_TOKEN")
        .secret()
        .not_in_file(),
    setting(
        keys::KCIDB_SUBMIT.name(),
        Kind::Bool,
        "Whether `kbridge listen` submits the documents it makes when a KCIDB URL is set",
    )
    .switch("no-submit", "false", &["listen"])
    .switch_help("Keep the documents for `kbridge submit` instead of submitting them to KCIDB (sets kcidb.submit = false)")
    .default("true"),
    setting(
        keys::KCIDB_RETRY_FOR.name(),
        Kind::Seconds { min: 0.0, max: 2_592_000.0 },
        "How long delivering a document is retried (timeouts, 408, 429, 5xx) before it is marked failed",
    )
    .default("86400"),
    setting(
        keys::KCIDB_MAX_REQUEST.name(),
        Kind::Bytes { min: 65536, max: 1 << 30 },
        "Largest request sent to KCIDB; pending documents are merged up to it",
    )
    .default("5242880"),
    setting(
        keys::REPORT_SECRET_FILE.name(),
        Kind::Path,
        "File holding the HMAC secret of the reporting system NAME, for POST /results and `kbridge report --to`",
    ),
];
