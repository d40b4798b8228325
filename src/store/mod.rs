//! The job store: one SQLite file shared by every kbridge process.
//!
//! `kbridge listen` and several `kbridge schedule` processes may use the
//! file at once, so it runs in WAL mode (readers never block the writer)
//! with a busy timeout (a writer waits its turn instead of failing at
//! once). The store takes a path, never a `Config`, and never touches the
//! network.

mod inbox;
mod migrations;

pub use inbox::{Batch, NewInbox};

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, Row};

use crate::model::{now_rfc3339, Job, JobKind, JobSpec, JobState};

/// How long a writer waits for another process's transaction to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the store could not do what was asked. Every variant is an
/// operation failure (exit status 1); messages name the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create directory {} for the database: {source}; pass --db PATH to use another place", dir.display())]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
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
    #[error("database {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database {}: stored job {id} is unreadable: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        id: i64,
        message: String,
    },
}

/// A job about to be submitted: everything known before the runner
/// answers.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub runner: &'a str,
    pub spec: &'a JobSpec,
    pub request: &'a serde_json::Value,
    pub callback_url: Option<&'a str>,
    pub callback_token: Option<&'a str>,
}

/// Which jobs `list` returns.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub kind: Option<JobKind>,
    pub state: Option<JobState>,
    pub limit: Option<u32>,
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, with its parent
    /// directories, and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| StoreError::Open {
            path: path.to_path_buf(),
            message: sqlite_message(&e),
        })?;
        Store::init(conn, path.to_path_buf())
    }

    /// An in-memory store, for tests.
    #[cfg(test)]
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Sqlite {
            path: ":memory:".into(),
            source,
        })?;
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
        // FULL: a job row must survive a power cut, since the job it
        // records may already run on the runner.
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        migrations::migrate(conn)
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a job in state `submitting`, before its request is sent, and
    /// returns its id.
    pub fn insert_submitting(&mut self, job: &NewJob<'_>) -> Result<i64, StoreError> {
        let now = now_rfc3339();
        let tests = job.spec.tests();
        let spec = serde_json::to_string(job.spec).expect("a job spec always serialises");
        let test_names = serde_json::to_string(&tests.map(|t| &t.tests[..]).unwrap_or(&[]))
            .expect("a list of strings always serialises");
        self.conn
            .execute(
                "INSERT INTO jobs (runner, kind, state, spec, request, build_id, collection,
                                   tests, device, callback_url, callback_token,
                                   scheduled_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
                params![
                    job.runner,
                    job.spec.kind().as_str(),
                    JobState::Submitting.as_str(),
                    spec,
                    job.request.to_string(),
                    tests.map(|t| &t.build_id),
                    tests.and_then(|t| t.collection.as_ref()),
                    test_names,
                    tests.map(|t| &t.device),
                    job.callback_url,
                    job.callback_token,
                    now,
                ],
            )
            .map_err(|e| classify(&self.path, e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Completes a job the runner accepted.
    pub fn mark_submitted(
        &mut self,
        id: i64,
        uid: &str,
        response: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE jobs SET uid = ?2, response = ?4, updated_at = ?5,
                     -- A callback may already have moved the job on.
                     state = CASE WHEN state = 'submitting' THEN ?3 ELSE state END,
                     detail = CASE WHEN state = 'submitting' THEN NULL ELSE detail END
                 WHERE id = ?1",
                params![
                    id,
                    uid,
                    JobState::Submitted.as_str(),
                    response.to_string(),
                    now_rfc3339()
                ],
            )
            .map_err(|e| classify(&self.path, e))?;
        Ok(())
    }

    /// Records that a submission did not succeed, and why.
    pub fn mark_unsubmitted(
        &mut self,
        id: i64,
        state: JobState,
        detail: &str,
        response: Option<&serde_json::Value>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE jobs SET state = ?2, detail = ?3, response = ?4, updated_at = ?5
                 WHERE id = ?1 AND state = 'submitting'",
                params![
                    id,
                    state.as_str(),
                    detail,
                    response.map(|r| r.to_string()),
                    now_rfc3339()
                ],
            )
            .map_err(|e| classify(&self.path, e))?;
        Ok(())
    }

    /// Finds a job by kbridge's id or by the runner's uid.
    pub fn find(&self, key: &str) -> Result<Option<Job>, StoreError> {
        let by_id = key.parse::<i64>().ok();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT * FROM jobs WHERE id = ?1 OR uid = ?2 ORDER BY (id = ?1) DESC, id DESC LIMIT 1",
            )
            .map_err(|e| classify(&self.path, e))?;
        let row = stmt
            .query_row(params![by_id, key], raw_job)
            .optional()
            .map_err(|e| classify(&self.path, e))?;
        row.map(|r| r.into_job(&self.path)).transpose()
    }

    /// Jobs newest first.
    pub fn list(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT * FROM jobs
                 WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR state = ?2)
                 ORDER BY id DESC LIMIT ?3",
            )
            .map_err(|e| classify(&self.path, e))?;
        let limit = filter.limit.map(i64::from).unwrap_or(-1);
        let rows = stmt
            .query_map(
                params![
                    filter.kind.map(JobKind::as_str),
                    filter.state.map(JobState::as_str),
                    limit
                ],
                raw_job,
            )
            .map_err(|e| classify(&self.path, e))?;
        rows.map(|r| r.map_err(|e| classify(&self.path, e))?.into_job(&self.path))
            .collect()
    }

    /// Jobs of `kind` for `build_id` whose submission did not fail: the
    /// ones a new request for the same build would duplicate.
    pub fn live_jobs_for_build(
        &self,
        build_id: &str,
        kind: JobKind,
    ) -> Result<Vec<Job>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT * FROM jobs WHERE build_id = ?1 AND kind = ?2 AND state != ?3
                 ORDER BY id",
            )
            .map_err(|e| classify(&self.path, e))?;
        let rows = stmt
            .query_map(
                params![build_id, kind.as_str(), JobState::Failed.as_str()],
                raw_job,
            )
            .map_err(|e| classify(&self.path, e))?;
        rows.map(|r| r.map_err(|e| classify(&self.path, e))?.into_job(&self.path))
            .collect()
    }
}

/// A row as stored, before its JSON columns are decoded.
struct RawJob {
    id: i64,
    runner: String,
    kind: String,
    uid: Option<String>,
    state: String,
    detail: Option<String>,
    spec: String,
    request: String,
    response: Option<String>,
    build_id: Option<String>,
    collection: Option<String>,
    tests: String,
    device: Option<String>,
    callback_url: Option<String>,
    callback_token: Option<String>,
    scheduled_at: String,
    updated_at: String,
}

fn raw_job(row: &Row<'_>) -> rusqlite::Result<RawJob> {
    Ok(RawJob {
        id: row.get("id")?,
        runner: row.get("runner")?,
        kind: row.get("kind")?,
        uid: row.get("uid")?,
        state: row.get("state")?,
        detail: row.get("detail")?,
        spec: row.get("spec")?,
        request: row.get("request")?,
        response: row.get("response")?,
        build_id: row.get("build_id")?,
        collection: row.get("collection")?,
        tests: row.get("tests")?,
        device: row.get("device")?,
        callback_url: row.get("callback_url")?,
        callback_token: row.get("callback_token")?,
        scheduled_at: row.get("scheduled_at")?,
        updated_at: row.get("updated_at")?,
    })
}

impl RawJob {
    fn into_job(self, path: &Path) -> Result<Job, StoreError> {
        let id = self.id;
        let corrupt = |message: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            id,
            message,
        };
        let json = |what: &str, s: &str| {
            serde_json::from_str::<serde_json::Value>(s)
                .map_err(|e| corrupt(format!("{what}: {e}")))
        };
        let spec: JobSpec =
            serde_json::from_str(&self.spec).map_err(|e| corrupt(format!("spec: {e}")))?;
        Ok(Job {
            id,
            kind: JobKind::parse(&self.kind)
                .ok_or_else(|| corrupt(format!("kind '{}'", self.kind)))?,
            state: JobState::parse(&self.state)
                .ok_or_else(|| corrupt(format!("state '{}'", self.state)))?,
            summary: spec.summary(),
            spec,
            request: json("request", &self.request)?,
            response: self
                .response
                .as_deref()
                .map(|r| json("response", r))
                .transpose()?,
            tests: serde_json::from_str(&self.tests).map_err(|e| corrupt(format!("tests: {e}")))?,
            runner: self.runner,
            uid: self.uid,
            detail: self.detail,
            build_id: self.build_id,
            collection: self.collection,
            device: self.device,
            callback_url: self.callback_url,
            callback_token: self.callback_token,
            scheduled_at: self.scheduled_at,
            updated_at: self.updated_at,
        })
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
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
        Some(ErrorCode::CannotOpen) => StoreError::Open {
            message: sqlite_message(&e),
            path,
        },
        _ => StoreError::Sqlite { path, source: e },
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
    use crate::model::TestSpec;

    fn test_spec(build_id: &str, tests: &[&str]) -> JobSpec {
        JobSpec::Test(TestSpec {
            device: "qemu-riscv64".into(),
            kernel: "https://example.org/Image".into(),
            modules: None,
            build_id: build_id.into(),
            tests: tests.iter().map(|s| s.to_string()).collect(),
            collection: Some("ltp".into()),
            parameters: vec![],
            private: false,
        })
    }

    fn insert(store: &mut Store, spec: &JobSpec) -> i64 {
        store
            .insert_submitting(&NewJob {
                runner: "tuxsuite",
                spec,
                request: &serde_json::json!({"tests": ["x"]}),
                callback_url: None,
                callback_token: Some("tok"),
            })
            .unwrap()
    }

    #[test]
    fn job_lifecycle() {
        let mut store = Store::open_in_memory().unwrap();
        let spec = test_spec("maestro:1", &["ltp-smoke"]);
        let id = insert(&mut store, &spec);
        let job = store.find(&id.to_string()).unwrap().unwrap();
        assert_eq!(job.state, JobState::Submitting);
        assert_eq!(job.tests, vec!["ltp-smoke"]);
        assert_eq!(job.callback_token.as_deref(), Some("tok"));

        store
            .mark_submitted(
                id,
                "2MBYa8FhoBHkRCX2BMMPusjuClf",
                &serde_json::json!({"uid": 1}),
            )
            .unwrap();
        let job = store.find("2MBYa8FhoBHkRCX2BMMPusjuClf").unwrap().unwrap();
        assert_eq!(job.id, id);
        assert_eq!(job.state, JobState::Submitted);
        assert!(store.find("nope").unwrap().is_none());
    }

    #[test]
    fn failed_jobs_do_not_count_as_live() {
        let mut store = Store::open_in_memory().unwrap();
        let a = insert(&mut store, &test_spec("maestro:1", &["ltp-smoke"]));
        let b = insert(&mut store, &test_spec("maestro:1", &["ltp-fsx"]));
        insert(&mut store, &test_spec("maestro:2", &["ltp-fsx"]));
        store
            .mark_unsubmitted(a, JobState::Failed, "refused", None)
            .unwrap();
        let live = store
            .live_jobs_for_build("maestro:1", JobKind::Test)
            .unwrap();
        assert_eq!(live.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b]);
        assert!(store
            .live_jobs_for_build("maestro:1", JobKind::Boot)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn list_filters_and_orders_newest_first() {
        let mut store = Store::open_in_memory().unwrap();
        let a = insert(&mut store, &test_spec("maestro:1", &["a"]));
        let b = insert(&mut store, &test_spec("maestro:1", &["b"]));
        store
            .mark_unsubmitted(b, JobState::Unknown, "timeout", None)
            .unwrap();
        let all = store.list(&JobFilter::default()).unwrap();
        assert_eq!(all.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b, a]);
        let unknown = store
            .list(&JobFilter {
                state: Some(JobState::Unknown),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(unknown.len(), 1);
        let limited = store
            .list(&JobFilter {
                limit: Some(1),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(limited.len(), 1);
    }
}
