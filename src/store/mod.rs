//! The job store: one SQLite file shared by every kbridge process of a
//! machine (the default), or one PostgreSQL database shared by several
//! machines and listeners.
//!
//! `kbridge listen` and several `kbridge schedule` processes may use the
//! store at once. An SQLite file runs in WAL mode (readers never block the
//! writer) with a busy timeout (a writer waits its turn instead of failing
//! at once); on PostgreSQL, writers take an advisory lock for the same
//! one-at-a-time order. The store takes a [`Location`], never a `Config`,
//! and talks to nothing but its database.
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
//! - `copy`: a whole store into an empty one, on either engine;
//! - `sql`, `postgres`: running the statements on either engine, and
//!   PostgreSQL's session, schema and errors;
//! - `checkpoint`: the thread that keeps the WAL short while a listener
//!   runs;
//! - `migrations`: the schema.

mod checkpoint;
pub mod copy;
mod inbox;
mod jobs;
mod migrations;
mod outbox;
mod plans;
pub mod postgres;
mod refusals;
pub(crate) mod sql;
pub mod stamp;

pub use checkpoint::Checkpoint;
pub use inbox::{Batch, NewInbox};
pub use jobs::{JobFilter, NewJob, PollSlot};
pub use outbox::{NewDocument, Pending, Queued};
pub use refusals::Refused;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use crate::location::Location;
pub use sql::Dialect;
use sql::{Conn, DbErr};

/// How long a writer waits for another process's transaction to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The WAL is cut back to this size when it is reset, so a burst of writes
/// does not leave a large file behind.
const JOURNAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;
/// Prepared statements kept per connection: more than every statement the
/// store has, so none is ever compiled twice on a long-lived connection.
const STATEMENT_CACHE: usize = 128;

/// Why the store could not do what was asked; messages name the store and
/// what to do. The caller's error type picks the exit status from the
/// variant: what the user fixes in a setting is a usage error.
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
    #[error("database {at} is locked by another process (waited {}s); try again when it is done", BUSY_TIMEOUT.as_secs())]
    Locked { at: Location },
    #[error("database {at} is read-only; make it writable or pass --db PATH")]
    ReadOnly { at: Location },
    #[error("{} is not a kbridge database; pass --db PATH to use another file", path.display())]
    NotADatabase { path: PathBuf },
    #[error("database {at} was written by a newer kbridge (schema {found}, this one knows {latest}); upgrade kbridge")]
    TooNew {
        at: Location,
        found: i64,
        latest: i64,
    },
    #[error("database {at}: {message}")]
    Query { at: Location, message: String },
    #[error("database {at}: stored {what} is unreadable: {message}")]
    Corrupt {
        at: Location,
        what: String,
        message: String,
    },
    /// A PostgreSQL database that cannot be used as set: a wrong password,
    /// a database that does not exist, TLS that does not hold.
    #[error("{0}")]
    Setting(String),
    /// A PostgreSQL server that cannot be reached or went away.
    #[error("database {at}: {message}; check that the server is up and reachable")]
    Unreachable { at: Location, message: String },
}

/// The open engine.
enum Engine {
    Lite(Connection),
    Pg(Box<RefCell<sql::Pg>>),
}

/// The schema version this kbridge writes.
pub const SCHEMA_VERSION: i64 = migrations::LATEST;

/// An open store.
pub struct Store {
    engine: Engine,
    at: Location,
}

impl Store {
    /// Opens the store at `at`, creating it (an SQLite file and its parent
    /// directories, or the schema in an empty PostgreSQL database) if
    /// needed, and brings its schema up to date.
    pub fn open(at: impl Into<Location>) -> Result<Store, StoreError> {
        let path = match at.into() {
            Location::File(path) => path,
            Location::Postgres(target) => return Store::open_pg(target),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::CreateDir {
                dir: dir.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        create_private(&path);
        Store::connect(&path)
    }

    /// Opens an existing store; a missing file is an error and nothing is
    /// created. For commands that only read.
    pub fn open_existing(at: impl Into<Location>) -> Result<Store, StoreError> {
        let path = match at.into() {
            Location::File(path) => path,
            Location::Postgres(target) => return Store::open_pg(target),
        };
        // A file that cannot even be looked at (a directory on its path
        // that this user may not enter) is not a missing one.
        match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(StoreError::PermissionDenied { path })
            }
            Err(_) => return Err(StoreError::Missing { path }),
            Ok(_) => {}
        }
        Store::connect(&path)
    }

    fn open_pg(target: Box<crate::location::Target>) -> Result<Store, StoreError> {
        let pg = Box::new(RefCell::new(postgres::connect(&target)?));
        let at = Location::Postgres(target);
        let outcome = postgres::migrate(&pg).map_err(|e| classify(&at, e))?;
        Store::opened(Engine::Pg(pg), at, outcome)
    }

    /// The store, once its schema is known to be current; a newer one is
    /// refused.
    fn opened(
        engine: Engine,
        at: Location,
        outcome: migrations::Outcome,
    ) -> Result<Store, StoreError> {
        match outcome {
            migrations::Outcome::Current => Ok(Store { engine, at }),
            migrations::Outcome::TooNew(found) => Err(StoreError::TooNew {
                at,
                found,
                latest: migrations::LATEST,
            }),
        }
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
        let at = Location::File(":memory:".into());
        let conn = Connection::open_in_memory().map_err(|e| classify(&at, e.into()))?;
        Store::init(conn, ":memory:".into())
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Store, StoreError> {
        let at = Location::File(path);
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(&at, e.into()))?;
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
                other => break other.map_err(|e| classify(&at, e.into()))?,
            }
        };
        Store::opened(Engine::Lite(conn), at, outcome)
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

    /// Whether this connection holds the store-wide lock named `name`,
    /// taking it if it is free: for what one process at a time may do
    /// (polling runners, delivering to KCIDB) among several listeners on
    /// one PostgreSQL database. Held until the connection ends, so it
    /// moves to another process when its holder dies. An SQLite file has
    /// one listener: always true.
    pub fn singleton(&self, name: &str) -> Result<bool, StoreError> {
        match &self.engine {
            Engine::Lite(_) => Ok(true),
            Engine::Pg(pg) => postgres::singleton(pg, name).map_err(|e| classify(&self.at, e)),
        }
    }

    /// Where the store is.
    pub fn location(&self) -> &Location {
        &self.at
    }

    /// Which engine holds the store.
    pub fn dialect(&self) -> Dialect {
        self.conn().dialect()
    }

    fn conn(&self) -> Conn<'_> {
        match &self.engine {
            Engine::Lite(c) => Conn::Lite(c),
            Engine::Pg(p) => Conn::Pg(p),
        }
    }

    /// The read-only queries, outside any transaction: they never wait for
    /// the write lock.
    pub fn read(&self) -> Db<'_> {
        Db {
            conn: self.conn(),
            at: &self.at,
        }
    }

    /// Checks that the database can be written, by rewriting its schema
    /// version with the same value: a listener on a read-only file (or in a
    /// read-only directory, where the WAL cannot grow), or on a PostgreSQL
    /// server in recovery, would accept nothing.
    pub fn check_writable(&mut self) -> Result<(), StoreError> {
        let at = &self.at;
        let fail = |e: DbErr| classify(at, e);
        match &mut self.engine {
            Engine::Lite(conn) => {
                let fail = |e: rusqlite::Error| fail(e.into());
                if conn.is_readonly(rusqlite::MAIN_DB).map_err(fail)? {
                    return Err(StoreError::ReadOnly { at: at.clone() });
                }
                let version: i64 = conn
                    .query_row("PRAGMA user_version", [], |r| r.get(0))
                    .map_err(fail)?;
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(fail)?;
                tx.execute_batch(&format!("PRAGMA user_version = {version}"))
                    .map_err(fail)?;
                tx.commit().map_err(fail)
            }
            Engine::Pg(pg) => postgres::check_writable(pg).map_err(fail),
        }
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
    conn: Conn<'a>,
    at: &'a Location,
}

impl Db<'_> {
    /// The first row of a query.
    fn one<T>(
        &self,
        sql: &str,
        args: &[&dyn sql::Arg],
        f: impl FnOnce(&sql::Row<'_>) -> Result<T, DbErr>,
    ) -> Result<T, DbErr> {
        self.conn.query_row(sql, args, f)
    }

    fn fail(&self, e: DbErr) -> StoreError {
        classify(self.at, e)
    }

    fn corrupt(&self, what: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            at: self.at.clone(),
            what: what.into(),
            message: message.into(),
        }
    }

    /// A `LIMIT` value: `limit`, or none (SQLite spells none -1,
    /// PostgreSQL NULL).
    fn limit(&self, limit: Option<u32>) -> Option<i64> {
        match (limit, self.conn.dialect()) {
            (Some(n), _) => Some(i64::from(n)),
            (None, Dialect::Sqlite) => Some(-1),
            (None, Dialect::Postgres) => None,
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

/// Turns the engines' errors into errors a user can act on.
fn classify(at: &Location, e: DbErr) -> StoreError {
    let e = match e {
        DbErr::Lite(e) => e,
        DbErr::Pg(e) => return postgres::classify(at, &e),
        DbErr::NoRow => {
            return StoreError::Query {
                at: at.clone(),
                message: DbErr::NoRow.to_string(),
            }
        }
        DbErr::Closed => {
            return StoreError::Unreachable {
                at: at.clone(),
                message: DbErr::Closed.to_string(),
            }
        }
    };
    let path = at.file().unwrap_or(Path::new("")).to_path_buf();
    if is_busy(&e) {
        return StoreError::Locked { at: at.clone() };
    }
    match e.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { at: at.clone() },
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path },
        Some(ErrorCode::PermissionDenied) => StoreError::PermissionDenied { path },
        Some(ErrorCode::CannotOpen) => open_error(&path, &e),
        _ => StoreError::Query {
            message: sqlite_message(&e),
            at: at.clone(),
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
