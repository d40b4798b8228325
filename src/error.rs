//! The top-level error, and the one place where an outcome becomes an
//! exit status: [`exit`] names each status and says what it means (the
//! text `--help`, the man pages and README.md give), and
//! [`Error::exit_status`] picks one by the kind of error.

use std::process::ExitCode;

use crate::config::ConfigError;
use crate::store::StoreError;

/// The exit statuses kbridge uses, each named once, and what each means:
/// `--help`, the man pages and README.md say this (tests hold them to it).
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const INFRA: u8 = 3;
    pub const TIMEOUT: u8 = 124;
    pub const BISECT_SKIP: u8 = 125;
    pub const INTERRUPTED: u8 = 130;

    /// What a status means for every command.
    pub const COMMON: &[(u8, &str)] = &[
        (SUCCESS, "success (also when every requested test was already scheduled)"),
        (FAILURE, "the operation failed: a runner refused the job or could not be reached, the database is locked, the listen address is taken"),
        (USAGE, "usage or configuration error, found before anything was sent: a bad flag, setting or URL, a missing token, an unknown runner; a job, plan or database that does not exist"),
        (INTERRUPTED, "interrupted (Ctrl-C or SIGTERM); nothing recorded is lost"),
    ];

    /// What a status means for the commands that give a kernel's verdict
    /// (`wait`, `results`, `schedule … --wait`, `listen --exit-when-done`):
    /// 1 is a FAIL and nothing else.
    pub const VERDICT: &[(u8, &str)] = &[
        (SUCCESS, "every job passed"),
        (FAILURE, "a kernel failure: a FAIL in any build or test, and nothing else"),
        (INFRA, "no FAIL, but an infrastructure problem (ERROR, MISS, canceled), or the operation itself failed (a runner unreachable, the database locked, a file that cannot be written)"),
        (TIMEOUT, "the timeout expired (the jobs still pending are named)"),
        (BISECT_SKIP, "with --bisect: what 3 is otherwise, so `git bisect run` skips the commit"),
    ];

    /// Commands whose statuses say more than [`COMMON`], by man page.
    #[cfg(test)]
    pub const BY_PAGE: &[(&str, &[(u8, &str)])] = &[
        ("kbridge-wait", VERDICT),
        ("kbridge-results", VERDICT),
        ("kbridge-schedule", VERDICT),
        ("kbridge-schedule-build", VERDICT),
        ("kbridge-schedule-test", VERDICT),
        ("kbridge-schedule-boot", VERDICT),
        ("kbridge-schedule-plan", VERDICT),
        ("kbridge-listen", VERDICT),
        ("kbridge-doctor", &[(FAILURE, "a check failed; its line says what to do")]),
        ("kbridge-artefacts", &[(FAILURE, "a file was not fetched, or the listing was cut; each is named on stderr")]),
        ("kbridge-cancel", &[(FAILURE, "a job was not canceled (finished already, or the runner could not be asked); each is named")]),
    ];

    /// The statuses of one man page's command, in order.
    #[cfg(test)]
    pub fn of_page(page: &str) -> Vec<(u8, &'static str)> {
        let mut all: std::collections::BTreeMap<u8, &'static str> =
            COMMON.iter().copied().collect();
        if let Some((_, more)) = BY_PAGE.iter().find(|(p, _)| *p == page) {
            all.extend(more.iter().copied());
        }
        all.into_iter().collect()
    }

    /// The table `--help` ends with.
    pub fn help() -> String {
        let mut out = String::from("Exit status:\n");
        for (code, what) in COMMON {
            out.push_str(&format!("  {code:<4} {what}\n"));
        }
        out.push_str("  For wait, results, schedule --wait and listen --exit-when-done:\n");
        for (code, what) in VERDICT.iter().filter(|(c, _)| *c != SUCCESS) {
            out.push_str(&format!("  {code:<4} {what}\n"));
        }
        out.trim_end().to_string()
    }
}

/// Everything a command can fail with. The variant, not the message,
/// decides the exit status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something the user named does not exist (a job, a callback, a
    /// document).
    #[error("{0}")]
    NotFound(String),
    /// An operation failed after it started; the message says what is left
    /// behind.
    #[error("{0}")]
    Failed(String),
    /// A local file or stream could not be used. The message includes the
    /// cause once.
    #[error("{context}: {message}")]
    Io { context: String, message: String },
    /// In a command whose exit status 1 means a kernel failure: the
    /// operation failed for a reason that says nothing about the kernel
    /// (exit status 3, or 125 with `--bisect` so `git bisect run` skips the
    /// commit).
    #[error("{message}")]
    Infra { message: String, bisect: bool },
}

impl Error {
    /// An I/O error with what kbridge was doing.
    pub fn io(context: impl Into<String>, e: &std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            message: e.to_string(),
        }
    }

    /// The exit status for this error.
    pub fn exit_status(&self) -> u8 {
        use StoreError as S;
        match self {
            Error::Usage(_) | Error::Config(_) | Error::NotFound(_) => exit::USAGE,
            // What the user can fix by naming another file or running as
            // another user is a usage error, as a missing job is.
            Error::Store(
                S::Missing { .. }
                | S::CreateDir { .. }
                | S::PermissionDenied { .. }
                | S::ReadOnly { .. }
                | S::NotADatabase { .. }
                | S::TooNew { .. }
                | S::Open { .. }
                | S::Setting(_),
            ) => exit::USAGE,
            Error::Store(_) | Error::Failed(_) | Error::Io { .. } => exit::FAILURE,
            Error::Infra { bisect: true, .. } => exit::BISECT_SKIP,
            Error::Infra { bisect: false, .. } => exit::INFRA,
        }
    }

    /// This error as a command that reports a verdict (`wait`, `results`,
    /// `schedule --wait`) gives it: what would be exit status 1 (the
    /// operation failed) is an infrastructure problem instead, since 1
    /// means a FAIL there; usage errors stay what they are.
    pub fn in_verdict_command(self, bisect: bool) -> Error {
        match self.exit_status() {
            exit::FAILURE => Error::Infra {
                message: self.to_string(),
                bisect,
            },
            _ => self,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit_status())
    }
}

impl From<crate::report::SendError> for Error {
    fn from(e: crate::report::SendError) -> Error {
        Error::Failed(e.to_string())
    }
}

/// What `--patch-series` or `--git-head` names cannot be used: found
/// before anything is sent, so a usage error.
impl From<crate::patches::PatchError> for Error {
    fn from(e: crate::patches::PatchError) -> Error {
        Error::Usage(e.0)
    }
}

impl From<crate::githead::GitHeadError> for Error {
    fn from(e: crate::githead::GitHeadError) -> Error {
        Error::Usage(e.0)
    }
}
