//! The schema, as an append-only list of migrations keyed on
//! `PRAGMA user_version`.
//!
//! Never edit or remove an entry once it has shipped: a database created by
//! an older kbridge is brought up to date by running, in order, exactly the
//! entries it has not seen. Add a new entry for every change.

use rusqlite::{Connection, TransactionBehavior};

/// Each entry moves the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: jobs, written before a request is sent and completed afterwards.
    "CREATE TABLE jobs (
        id             INTEGER PRIMARY KEY,
        runner         TEXT NOT NULL,
        kind           TEXT NOT NULL CHECK (kind IN ('build', 'test', 'boot')),
        uid            TEXT,
        state          TEXT NOT NULL,
        detail         TEXT,
        spec           TEXT NOT NULL,
        request        TEXT NOT NULL,
        response       TEXT,
        build_id       TEXT,
        collection     TEXT,
        tests          TEXT NOT NULL DEFAULT '[]',
        device         TEXT,
        callback_url   TEXT,
        callback_token TEXT,
        scheduled_at   TEXT NOT NULL,
        updated_at     TEXT NOT NULL
    );
    CREATE UNIQUE INDEX jobs_runner_uid ON jobs (runner, uid) WHERE uid IS NOT NULL;
    CREATE INDEX jobs_build_id ON jobs (build_id, kind);",
    // 2: the callback inbox and the KCIDB documents made from it.
    "CREATE TABLE inbox (
        id              INTEGER PRIMARY KEY,
        received_at     TEXT NOT NULL,
        runner          TEXT NOT NULL,
        kind            TEXT NOT NULL,
        status          TEXT NOT NULL,
        verified_as     TEXT,
        reason          TEXT,
        headers         TEXT NOT NULL DEFAULT '{}',
        token           TEXT,
        body            BLOB,
        body_bytes      INTEGER NOT NULL DEFAULT 0,
        uid             TEXT,
        job_id          INTEGER REFERENCES jobs (id),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER,
        first_fetch_ms  INTEGER,
        updated_at      TEXT NOT NULL
    );
    CREATE INDEX inbox_status ON inbox (status);
    CREATE INDEX jobs_callback_token ON jobs (callback_token) WHERE callback_token IS NOT NULL;
    CREATE TABLE documents (
        job_id     INTEGER PRIMARY KEY REFERENCES jobs (id),
        document   TEXT NOT NULL,
        path       TEXT,
        created_at TEXT NOT NULL
    );",
    // 3: the outbox: every KCIDB document's delivery, and each request
    // that carried documents to KCIDB. Report signatures, to refuse
    // replays.
    "CREATE TABLE submissions (
        id             INTEGER PRIMARY KEY,
        sent_at        TEXT NOT NULL,
        bytes          INTEGER NOT NULL,
        documents      INTEGER NOT NULL,
        status         INTEGER,
        server_id      TEXT,
        message        TEXT,
        ingest         TEXT,
        ingest_message TEXT,
        checked_at     TEXT
    );
    CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY,
        key              TEXT NOT NULL UNIQUE,
        job_id           INTEGER REFERENCES jobs (id),
        label            TEXT NOT NULL,
        document         TEXT NOT NULL,
        builds           TEXT NOT NULL DEFAULT '[]',
        needs_builds     TEXT NOT NULL DEFAULT '[]',
        state            TEXT NOT NULL CHECK (state IN ('pending', 'submitted', 'failed')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        first_attempt_ms INTEGER,
        next_attempt_ms  INTEGER,
        claimed_by       TEXT,
        claim_expires_ms INTEGER,
        submission_id    INTEGER REFERENCES submissions (id),
        reason           TEXT,
        changed          TEXT,
        created_ms       INTEGER NOT NULL,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL
    );
    CREATE INDEX outbox_state ON outbox (state, id);
    CREATE TABLE outbox_submissions (
        outbox_id     INTEGER NOT NULL REFERENCES outbox (id),
        submission_id INTEGER NOT NULL REFERENCES submissions (id),
        PRIMARY KEY (outbox_id, submission_id)
    );
    ALTER TABLE inbox ADD COLUMN signature TEXT;
    CREATE UNIQUE INDEX inbox_signature ON inbox (signature) WHERE signature IS NOT NULL;",
    // 4: what the runner last said of each job (from a callback or a
    // poll), its worst KCIDB status, when to poll it next; and the
    // listeners alive, so `kbridge wait` knows when callbacks can come.
    "ALTER TABLE jobs ADD COLUMN status TEXT;
    ALTER TABLE jobs ADD COLUMN status_at TEXT;
    ALTER TABLE jobs ADD COLUMN result TEXT;
    ALTER TABLE jobs ADD COLUMN next_poll_ms INTEGER;
    ALTER TABLE jobs ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN poll_note TEXT;
    ALTER TABLE jobs ADD COLUMN after_job INTEGER REFERENCES jobs (id);
    CREATE INDEX jobs_state ON jobs (state);
    CREATE TABLE listeners (
        id      TEXT PRIMARY KEY,
        bind    TEXT NOT NULL,
        seen_ms INTEGER NOT NULL
    );",
    // 5: one unmatched row per runner and uid (replays of a signed
    // callback for a job not known keep nothing more), and nothing of
    // refused requests but what an earlier version kept.
    "DELETE FROM inbox WHERE status = 'unmatched' AND id NOT IN
        (SELECT min(id) FROM inbox WHERE status = 'unmatched' GROUP BY runner, uid);
    CREATE UNIQUE INDEX inbox_unmatched ON inbox (runner, uid) WHERE status = 'unmatched';",
    // 6: jobs submitted as part of a runner's plan.
    "ALTER TABLE jobs ADD COLUMN plan TEXT;
    CREATE INDEX jobs_plan ON jobs (plan) WHERE plan IS NOT NULL;",
    // 7: plans recorded before they are created, with the token their
    // callback carries; plans of earlier versions are known from their
    // jobs only.
    "CREATE TABLE plans (
        id             INTEGER PRIMARY KEY,
        runner         TEXT NOT NULL,
        uid            TEXT,
        name           TEXT,
        state          TEXT NOT NULL,
        detail         TEXT,
        callback_token TEXT,
        report         TEXT,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        finished_at    TEXT,
        canceled_at    TEXT
    );
    CREATE UNIQUE INDEX plans_uid ON plans (runner, uid) WHERE uid IS NOT NULL;
    CREATE INDEX plans_token ON plans (callback_token) WHERE callback_token IS NOT NULL;
    INSERT INTO plans (runner, uid, state, created_at, updated_at)
        SELECT runner, plan, 'submitted', min(scheduled_at), min(scheduled_at)
        FROM jobs WHERE plan IS NOT NULL GROUP BY runner, plan;",
    // 8: callbacks the listener refused lately, counted by runner, reason
    // and minute (nothing of the requests themselves), so `wait`, `jobs`
    // and `doctor` can say that a runner's callbacks are being refused.
    "CREATE TABLE refusals (
        runner  TEXT NOT NULL,
        reason  TEXT NOT NULL,
        minute  INTEGER NOT NULL,
        count   INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        PRIMARY KEY (runner, reason, minute)
    );",
    // 9: the device the runner says it ran a job on, once it says.
    "ALTER TABLE jobs ADD COLUMN actual_device TEXT;",
];

/// The schema version this kbridge writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// What [`migrate`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The database is at [`LATEST`] (possibly after applying migrations).
    Current,
    /// The database was written by a newer kbridge.
    TooNew(i64),
}

/// Brings the schema up to date inside one immediate transaction, so two
/// processes opening a fresh database at once cannot both migrate it.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<Outcome> {
    // Reading the version first keeps an up-to-date database from taking
    // the write lock just to be opened, so readers never queue behind a
    // busy writer here.
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == LATEST {
        return Ok(Outcome::Current);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > LATEST {
        return Ok(Outcome::TooNew(version));
    }
    for sql in &MIGRATIONS[version as usize..] {
        tx.execute_batch(sql)?;
    }
    if version < LATEST {
        // PRAGMA takes no bound parameters; LATEST is a constant.
        tx.execute_batch(&format!("PRAGMA user_version = {LATEST}"))?;
    }
    tx.commit()?;
    Ok(Outcome::Current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Outcome::Current);
        assert_eq!(migrate(&mut conn).unwrap(), Outcome::Current);
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, LATEST);
    }

    #[test]
    fn plans_of_a_version_6_store_are_kept_from_their_jobs() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch("PRAGMA user_version = 6").unwrap();
        for (uid, at) in [
            ("a1", "2026-01-02T00:00:00Z"),
            ("a2", "2026-01-01T00:00:00Z"),
        ] {
            conn.execute(
                "INSERT INTO jobs (runner, kind, uid, state, spec, request, scheduled_at, updated_at, plan)
                 VALUES ('tuxsuite', 'build', ?1, 'completed', '{}', 'null', ?2, ?2, 'P1')",
                [uid, at],
            )
            .unwrap();
        }
        assert_eq!(migrate(&mut conn).unwrap(), Outcome::Current);
        let (uid, state, created): (String, String, String) = conn
            .query_row("SELECT uid, state, created_at FROM plans", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(
            (uid.as_str(), state.as_str(), created.as_str()),
            ("P1", "submitted", "2026-01-01T00:00:00Z")
        );
    }

    #[test]
    fn newer_schema_is_reported() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", LATEST + 1))
            .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Outcome::TooNew(LATEST + 1));
    }
}
