//! The top-level error, and the one place where an outcome becomes an
//! exit status.
//!
//! | status | name | meaning |
//! |---|---|---|
//! | 0 | [`exit::SUCCESS`] | success |
//! | 1 | [`exit::FAILURE`] | for `wait`, `results`, `schedule --wait` and `listen --exit-when-done`: a kernel failure (a FAIL), and nothing else; for other commands: the operation failed (a runner refused or could not be reached, the database is locked) |
//! | 2 | [`exit::USAGE`] | usage or configuration error, found before anything was sent (clap uses 2 for its own parse errors too); a job, plan or database that does not exist |
//! | 3 | [`exit::INFRA`] | `wait`/`results`: no FAIL, but an infrastructure problem (ERROR, MISS, canceled), or the operation itself failed (a runner unreachable, the database locked, a file that cannot be written) |
//! | 124 | [`exit::TIMEOUT`] | `wait`: the timeout expired |
//! | 125 | [`exit::BISECT_SKIP`] | `wait --bisect`: what 3 becomes, so `git bisect run` skips the commit |
//! | 130 | [`exit::INTERRUPTED`] | interrupted (Ctrl-C) |

use std::process::ExitCode;

use crate::config::ConfigError;
use crate::store::StoreError;

/// The exit statuses kbridge uses, each named once.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const INFRA: u8 = 3;
    pub const TIMEOUT: u8 = 124;
    pub const BISECT_SKIP: u8 = 125;
    pub const INTERRUPTED: u8 = 130;
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
                | S::Open { .. },
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
