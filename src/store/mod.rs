//! The job store: one SQLite file shared by every kbridge process.
//!
//! `kbridge listen` and several `kbridge schedule` processes may use the
//! file at once, so it runs in WAL mode (readers never block the writer)
//! with a busy timeout (a writer waits its turn instead of failing at
//! once). The store takes a path, never a `Config`, and never touches the
//! network.
//!
//! # Layout
//! - this file: opening, errors, and [`Db`], the read-only queries that a
//!   plain connection and a write transaction share;
//! - `jobs`: job rows (recording, completing, finding);
//! - `inbox`: received callbacks, documents, and [`Batch`], one write
//!   transaction;
//! - `outbox`: every KCIDB document's delivery;
//! - `plans`: runners' plans (recording, their callback);
//! - `refusals`: callbacks the listener refused lately, as counts;
//! - `checkpoint`: the thread that keeps the WAL short while a listener
//!   runs;
//! - `migrations`: the schema.

mod checkpoint;
mod inbox;
mod jobs;
mod migrations;
mod outbox;
mod plans;
mod refusals;

pub use checkpoint::Checkpoint;
pub use inbox::{Batch, NewInbox};
pub use jobs::{JobFilter, NewJob, PollSlot};
pub use outbox::{NewDocument, Pending, Queued};
pub use refusals::Refused;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags};

/// How long a writer waits for another process's transaction to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The WAL is cut back to this size when it is reset, so a burst of writes
/// does not leave a large file behind.
const JOURNAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;
/// Prepared statements kept per connection: more than every statement the
/// store has, so none is ever compiled twice on a long-lived connection.
const STATEMENT_CACHE: usize = 128;

/// Why the store could not do what was asked. Every variant is an
/// operation failure (exit status 1); messages name the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create directory {} for the database: {message}; pass --db PATH to use another place", dir.display())]
    CreateDir { dir: PathBuf, message: String },
    #[error("no database at {}: nothing has been recorded there yet; check --db or KBRIDGE_DB, or schedule a job first", path.display())]
    Missing { path: PathBuf },
    #[error("cannot open database {}: permission denied; run kbridge as a user who may read and write it, or pass --db PATH", path.display())]
    PermissionDenied { path: PathBuf },
    #[error("cannot open database {}: {message}; check the path or pass --db PATH", path.display())]
    Open { path: PathBuf, message: String },
    #[error("database {} is locked by another process (waited {}s); try again when it is done", path.display(), BUSY_TIMEOUT.as_secs())]
    Locked { path: PathBuf },
    #[error("database {} is read-only; make it writable or pass --db PATH", path.display())]
    ReadOnly { path: PathBuf },
    #[error("{} is not a kbridge database; pass --db PATH to use another file", path.display())]
    NotADatabase { path: PathBuf },
    #[error("database {} was written by a newer kbridge (schema {found}, this one knows {latest}); upgrade kbridge", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        latest: i64,
    },
    #[error("database {}: {message}", path.display())]
    Sqlite { path: PathBuf, message: String },
    #[error("database {}: stored {what} is unreadable: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        what: String,
        message: String,
    },
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens the database at `path`, creating it and its parent directories
    /// if needed, and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::CreateDir {
                dir: dir.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        create_private(path);
        Store::connect(path)
    }

    /// Opens an existing database; a missing one is an error and nothing
    /// is created. For commands that only read.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        // A file that cannot even be looked at (a directory on its path
        // that this user may not enter) is not a missing one.
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(StoreError::PermissionDenied {
                    path: path.to_path_buf(),
                })
            }
            Err(_) => {
                return Err(StoreError::Missing {
                    path: path.to_path_buf(),
                })
            }
            Ok(_) => {}
        }
        Store::connect(path)
    }

    fn connect(path: &Path) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, &e))?;
        Store::init(conn, path.to_path_buf())
    }

    /// An in-memory store, for tests.
    #[cfg(test)]
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| classify(Path::new(":memory:"), e))?;
        Store::init(conn, ":memory:".into())
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Store, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(&path, e))?;
        // Switching a new file to WAL and creating the schema take locks
        // that SQLite may refuse at once, without waiting, while other
        // processes open the same new file (several `kbridge schedule` at
        // once in CI): retry for as long as the busy timeout.
        let start = std::time::Instant::now();
        let outcome = loop {
            match Store::prepare(&mut conn) {
                Err(e) if is_busy(&e) && start.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other.map_err(|e| classify(&path, e))?,
            }
        };
        match outcome {
            migrations::Outcome::Current => Ok(Store { conn, path }),
            migrations::Outcome::TooNew(found) => Err(StoreError::TooNew {
                path,
                found,
                latest: migrations::LATEST,
            }),
        }
    }

    fn prepare(conn: &mut Connection) -> rusqlite::Result<migrations::Outcome> {
        // journal_mode answers with a row, so it is queried, not executed.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        // The WAL outlives each process: a short-lived `kbridge schedule`
        // would otherwise create it (a directory fsync), then checkpoint it
        // and delete it on close (two more). Automatic checkpoints, and the
        // listener's checkpointer, still bound its size.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        // The same plan whatever values are bound: otherwise SQLite (built
        // with STAT4) compiles a statement again each time a parameter it
        // weighs changes, which for the listener's job lookups (a new uid
        // each time) cost more than running them.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        // The listener's writer cycles through more distinct statements than
        // rusqlite's default cache of 16 holds; an evicted one is compiled
        // again on its next use, which costs more than running it.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // FULL: a job row must survive a power cut, since the job it
        // records may already run on the runner.
        conn.execute_batch(&format!(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT};"
        ))?;
        migrations::migrate(conn)
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The read-only queries, outside any transaction: they never wait for
    /// the write lock.
    pub fn read(&self) -> Db<'_> {
        Db {
            conn: &self.conn,
            path: &self.path,
        }
    }

    /// Checks that the database can be written, by rewriting its schema
    /// version with the same value: a listener on a read-only file (or in a
    /// read-only directory, where the WAL cannot grow) would accept nothing.
    pub fn check_writable(&mut self) -> Result<(), StoreError> {
        let fail = |e| classify(&self.path, e);
        if self.conn.is_readonly(rusqlite::MAIN_DB).map_err(fail)? {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
            });
        }
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(fail)?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))
            .map_err(fail)?;
        tx.commit().map_err(fail)
    }
}

/// Creates the database file readable by its owner only (it holds every
/// job's callback token), before SQLite creates it with the umask's mode.
/// The WAL and shared-memory files SQLite makes take the same mode.
/// Enum values as an SQL list (`'a', 'b'`), spelled as the enum spells
/// them: for the few statements that name values in their text (an `IN`
/// list beside the caller's own placeholders, a partial index's condition)
/// rather than binding them.
fn sql_list<T: rusqlite::ToSql>(values: &[T]) -> String {
    values
        .iter()
        .map(|v| match v.to_sql() {
            Ok(rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(t))) => {
                format!("'{}'", String::from_utf8_lossy(t))
            }
            Ok(rusqlite::types::ToSqlOutput::Owned(rusqlite::types::Value::Text(t))) => {
                format!("'{t}'")
            }
            _ => unreachable!("enum values are text"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn create_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
    }
}

/// The read-only queries, over a connection or a transaction.
#[derive(Clone, Copy)]
pub struct Db<'a> {
    conn: &'a Connection,
    path: &'a Path,
}

impl Db<'_> {
    /// One row of a query whose statement stays compiled on this
    /// connection (`Connection::query_row` compiles it on every call).
    fn one<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.conn.prepare_cached(sql)?.query_row(params, f)
    }

    fn fail(&self, e: rusqlite::Error) -> StoreError {
        classify(self.path, e)
    }

    fn corrupt(&self, what: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: self.path.to_path_buf(),
            what: what.into(),
            message: message.into(),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Why a database could not be opened, in words a user can act on.
fn open_error(path: &Path, e: &rusqlite::Error) -> StoreError {
    let denied = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .err()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied);
    if denied {
        return StoreError::PermissionDenied {
            path: path.to_path_buf(),
        };
    }
    StoreError::Open {
        path: path.to_path_buf(),
        message: sqlite_message(e),
    }
}

/// Turns SQLite's codes into errors a user can act on.
fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    if is_busy(&e) {
        return StoreError::Locked { path };
    }
    match e.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path },
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path },
        Some(ErrorCode::PermissionDenied) => StoreError::PermissionDenied { path },
        Some(ErrorCode::CannotOpen) => open_error(&path, &e),
        _ => StoreError::Sqlite {
            message: sqlite_message(&e),
            path,
        },
    }
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_is_not_created_by_readers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/kbridge.db");
        let err = Store::open_existing(&path).err().unwrap();
        assert!(matches!(err, StoreError::Missing { .. }), "{err}");
        assert!(!dir.path().join("sub").exists());
        Store::open(&path).unwrap();
        Store::open_existing(&path).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn new_databases_are_private_and_keep_their_wal() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kbridge.db");
        let mut store = Store::open(&path).unwrap();
        let b = store.batch().unwrap();
        b.commit().unwrap();
        drop(store);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(
            dir.path().join("kbridge.db-wal").exists(),
            "the WAL survives the last connection"
        );
    }
}
