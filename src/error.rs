//! The top-level error, and the one place where an outcome becomes an
//! exit status.
//!
//! | status | name | meaning |
//! |---|---|---|
//! | 0 | [`exit::SUCCESS`] | success |
//! | 1 | [`exit::FAILURE`] | the operation failed: a runner refused or could not be reached, the database is locked or unreadable, a job was not found; for `wait` and `results`, a kernel failure (a FAIL) |
//! | 2 | [`exit::USAGE`] | usage or configuration error, found before anything was sent (clap uses 2 for its own parse errors too) |
//! | 3 | [`exit::INFRA`] | `wait`/`results`: no FAIL, but an infrastructure problem (ERROR, MISS, canceled) |
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
        match self {
            Error::Usage(_) | Error::Config(_) => exit::USAGE,
            Error::Store(_) | Error::NotFound(_) | Error::Failed(_) | Error::Io { .. } => {
                exit::FAILURE
            }
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit_status())
    }
}
