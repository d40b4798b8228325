//! The top-level error and the one place errors become exit statuses.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the operation failed: the runner refused or could not be reached, the database is locked or unreadable, a job was not found |
//! | 2 | usage or configuration error, found before anything was sent (clap uses 2 for its own parse errors too) |

use std::process::ExitCode;

use crate::config::ConfigError;
use crate::store::StoreError;

/// Exit status for an operation that failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a usage or configuration error.
pub const EXIT_USAGE: u8 = 2;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An operation failed after it started; the message says what is left
    /// behind.
    #[error("{0}")]
    Failed(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Error::Usage(_) | Error::Config(_) => EXIT_USAGE,
            Error::Store(_) | Error::Failed(_) | Error::Io { .. } => EXIT_FAILURE,
        })
    }
}
