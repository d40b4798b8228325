//! The schema, as an append-only list of migrations keyed on
//! `PRAGMA user_version`.
//!
//! Never edit or remove an entry once it has shipped: a database created by
//! an older kbridge is brought up to date by running, in order, exactly the
//! entries it has not seen. Add a new entry for every change.
//!
//! A PostgreSQL store starts at [`POSTGRES_BASELINE`]: its schema is
//! created at that version in one step ([`postgres_baseline`], the same
//! tables, indexes and constraints in PostgreSQL's words), and the version
//! is kept in a `kbridge_schema` table. An entry after the baseline gives
//! its change in both dialects.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::model::{InboxStatus, JobKind, JobState, OutboxState, PlanState};

/// One migration: SQL, or code for what SQL alone cannot say.
enum Step {
    /// After the PostgreSQL baseline, SQL both engines take.
    Sql(&'static str),
    /// Rebuilds tables, so foreign keys are off while it runs (SQLite
    /// cannot drop a table others refer to otherwise) and checked before
    /// it commits. Before the PostgreSQL baseline only.
    Rebuild(fn(&Transaction<'_>) -> rusqlite::Result<()>),
    /// A change each engine makes its own way: SQLite by rebuilding tables
    /// (as [`Step::Rebuild`]), PostgreSQL by the SQL given.
    Each {
        sqlite: fn(&Transaction<'_>) -> rusqlite::Result<()>,
        postgres: fn() -> String,
    },
}

use Step::Sql;

/// Each entry moves the schema from version `index` to `index + 1`.
const MIGRATIONS: &[Step] = &[
    // 1: jobs, written before a request is sent and completed afterwards.
    Sql("CREATE TABLE jobs (
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
    CREATE INDEX jobs_build_id ON jobs (build_id, kind);"),
    // 2: the callback inbox and the KCIDB documents made from it.
    Sql("CREATE TABLE inbox (
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
    );"),
    // 3: the outbox: every KCIDB document's delivery, and each request
    // that carried documents to KCIDB. Report signatures, to refuse
    // replays.
    Sql("CREATE TABLE submissions (
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
    CREATE UNIQUE INDEX inbox_signature ON inbox (signature) WHERE signature IS NOT NULL;"),
    // 4: what the runner last said of each job (from a callback or a
    // poll), its worst KCIDB status, when to poll it next; and the
    // listeners alive, so `kbridge wait` knows when callbacks can come.
    Sql("ALTER TABLE jobs ADD COLUMN status TEXT;
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
    );"),
    // 5: one unmatched row per runner and uid (replays of a signed
    // callback for a job not known keep nothing more), and nothing of
    // refused requests but what an earlier version kept.
    Sql("DELETE FROM inbox WHERE status = 'unmatched' AND id NOT IN
        (SELECT min(id) FROM inbox WHERE status = 'unmatched' GROUP BY runner, uid);
    CREATE UNIQUE INDEX inbox_unmatched ON inbox (runner, uid) WHERE status = 'unmatched';"),
    // 6: jobs submitted as part of a runner's plan.
    Sql("ALTER TABLE jobs ADD COLUMN plan TEXT;
    CREATE INDEX jobs_plan ON jobs (plan) WHERE plan IS NOT NULL;"),
    // 7: plans recorded before they are created, with the token their
    // callback carries; plans of earlier versions are known from their
    // jobs only.
    Sql("CREATE TABLE plans (
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
        FROM jobs WHERE plan IS NOT NULL GROUP BY runner, plan;"),
    // 8: callbacks the listener refused lately, counted by runner, reason
    // and minute (nothing of the requests themselves), so `wait`, `jobs`
    // and `doctor` can say that a runner's callbacks are being refused.
    Sql("CREATE TABLE refusals (
        runner  TEXT NOT NULL,
        reason  TEXT NOT NULL,
        minute  INTEGER NOT NULL,
        count   INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        PRIMARY KEY (runner, reason, minute)
    );"),
    // 9: the device the runner says it ran a job on, once it says.
    Sql("ALTER TABLE jobs ADD COLUMN actual_device TEXT;"),
    // 10: a CHECK constraint on every column holding an enum value (jobs'
    // kind and outbox's state had theirs): a value no kbridge writes is
    // refused by the store itself.
    Step::Rebuild(check_enum_columns),
    // 11: unmatched callbacks found by their token, for a job that
    // appears (the uid has its own index since 5).
    Sql("CREATE INDEX inbox_unmatched_token ON inbox (runner, token)
        WHERE status = 'unmatched' AND token IS NOT NULL;"),
    // 12: who is processing a callback, and until when: several listeners
    // on one database take each callback once, and take over the ones a
    // listener that died was processing once its claim expires.
    Sql("ALTER TABLE inbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE inbox ADD COLUMN claim_expires_ms BIGINT;
    CREATE INDEX inbox_claimed ON inbox (claimed_by) WHERE claimed_by IS NOT NULL;"),
    // 13: every time as integer milliseconds since the epoch, in both
    // engines (it was RFC 3339 text), as the times that schedule work
    // already were.
    Step::Each {
        sqlite: times_as_ms,
        postgres: times_as_ms_postgres,
    },
];

/// The columns holding a time, by table, that migration 13 makes integer
/// milliseconds.
const TIME_COLUMNS: &[(&str, &[&str])] = &[
    ("jobs", &["scheduled_at", "updated_at", "status_at"]),
    ("inbox", &["received_at", "updated_at"]),
    ("documents", &["created_at"]),
    ("submissions", &["sent_at", "checked_at"]),
    ("outbox", &["created_at", "updated_at"]),
    (
        "plans",
        &["created_at", "updated_at", "finished_at", "canceled_at"],
    ),
];

/// Migration 13 on SQLite: each table rebuilt with its time columns
/// INTEGER (a TEXT column would turn the numbers back into text), their
/// values converted; an unreadable time becomes the epoch.
fn times_as_ms(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for (table, times) in TIME_COLUMNS {
        let mut sql = definition(tx, table)?;
        for column in *times {
            sql = integer_column(&sql, column);
        }
        rebuild_table(tx, table, &sql, |c| {
            if times.contains(&c) {
                format!(
                    "CASE WHEN typeof({c}) = 'text'
                          THEN coalesce(CAST(round((julianday({c}) - 2440587.5) * 86400000.0) AS INTEGER), 0)
                          ELSE {c} END"
                )
            } else {
                c.to_string()
            }
        })?;
    }
    Ok(())
}

/// A table's definition with `column` declared INTEGER instead of TEXT.
fn integer_column(sql: &str, column: &str) -> String {
    let bytes = sql.as_bytes();
    let mut from = 0;
    while let Some(at) = sql[from..].find(column).map(|i| i + from) {
        let end = at + column.len();
        let starts_word = at == 0 || matches!(bytes[at - 1], b' ' | b'\n' | b'\t' | b'(' | b',');
        let rest = &sql[end..];
        let spaces = rest.len() - rest.trim_start().len();
        if starts_word && spaces > 0 && rest.trim_start().starts_with("TEXT") {
            let type_at = end + spaces;
            return format!(
                "{}INTEGER{}",
                &sql[..type_at],
                &sql[type_at + "TEXT".len()..]
            );
        }
        from = end;
    }
    panic!("{column} is not a TEXT column of {sql}")
}

/// Migration 13 on PostgreSQL.
fn times_as_ms_postgres() -> String {
    TIME_COLUMNS
        .iter()
        .map(|(table, times)| {
            let alters: Vec<String> = times
                .iter()
                .map(|c| {
                    format!(
                        "ALTER COLUMN {c} TYPE BIGINT USING (extract(epoch FROM {c}::timestamptz) * 1000)::bigint"
                    )
                })
                .collect();
            format!("ALTER TABLE {table} {};\n", alters.join(", "))
        })
        .collect()
}

/// The enum columns given a CHECK constraint by migration 10, with their
/// values' one spelling.
fn enum_columns() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        (
            "jobs",
            "state",
            JobState::ALL.map(JobState::as_str).to_vec(),
        ),
        ("inbox", "kind", JobKind::ALL.map(JobKind::as_str).to_vec()),
        (
            "inbox",
            "status",
            InboxStatus::ALL.map(InboxStatus::as_str).to_vec(),
        ),
        (
            "plans",
            "state",
            PlanState::ALL.map(PlanState::as_str).to_vec(),
        ),
    ]
}

/// Rebuilds each table of [`enum_columns`] with the constraint added to
/// its column, keeping every row, column and index.
fn check_enum_columns(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let columns = enum_columns();
    let mut tables: Vec<&str> = columns.iter().map(|(t, _, _)| *t).collect();
    tables.dedup();
    for table in tables {
        let mut sql = definition(tx, table)?;
        for (_, column, values) in columns.iter().filter(|(t, _, _)| *t == table) {
            let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
            let plain = "TEXT NOT NULL,";
            // The column's own line, as migration 1, 2 or 7 wrote it:
            // `name   TEXT NOT NULL,`.
            let at = sql
                .find(&format!("\n        {column} "))
                .expect("the column is in its table's definition");
            let end =
                at + sql[at..].find(plain).expect("the column is TEXT NOT NULL") + plain.len() - 1;
            sql.insert_str(
                end,
                &format!(" CHECK ({column} IN ({}))", quoted.join(", ")),
            );
        }
        rebuild_table(tx, table, &sql, str::to_string)?;
    }
    Ok(())
}

/// A table's definition, as SQLite keeps it.
fn definition(tx: &Transaction<'_>, table: &str) -> rusqlite::Result<String> {
    tx.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get(0),
    )
}

/// Replaces `table` with one defined by `create` (its definition, edited),
/// copying every row with each column's value given by `value` (an SQL
/// expression of the column's name) and keeping every index.
fn rebuild_table(
    tx: &Transaction<'_>,
    table: &str,
    create: &str,
    value: impl Fn(&str) -> String,
) -> rusqlite::Result<()> {
    let columns: Vec<String> = tx
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?
        .query_map([table], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let values: Vec<String> = columns.iter().map(|c| value(c)).collect();
    let indexes: Vec<String> = tx
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL")?
        .query_map([table], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let new = format!("{table}_rebuilt");
    // A table renamed by an earlier rebuild has its name quoted.
    let create = [
        format!("CREATE TABLE \"{table}\""),
        format!("CREATE TABLE {table}"),
    ]
    .iter()
    .find(|head| create.starts_with(head.as_str()))
    .map(|head| create.replacen(head.as_str(), &format!("CREATE TABLE {new}"), 1))
    .expect("a table's definition starts with its name");
    tx.execute_batch(&format!(
        "{create};
         INSERT INTO {new} ({}) SELECT {} FROM {table};
         DROP TABLE {table};
         ALTER TABLE {new} RENAME TO {table};",
        columns.join(", "),
        values.join(", ")
    ))?;
    for index in indexes {
        tx.execute_batch(&index)?;
    }
    Ok(())
}

/// The version a PostgreSQL store's schema is created at.
pub const POSTGRES_BASELINE: i64 = 11;

/// What brings a PostgreSQL store from version `found` to [`LATEST`]: the
/// baseline, then the entries after it, whose SQL both engines take.
pub fn postgres_steps(found: i64) -> Vec<String> {
    let mut steps = Vec::new();
    if found < POSTGRES_BASELINE {
        steps.push(postgres_baseline());
    }
    for step in &MIGRATIONS[found.max(POSTGRES_BASELINE) as usize..] {
        match step {
            Step::Sql(sql) => steps.push(sql.to_string()),
            Step::Each { postgres, .. } => steps.push(postgres()),
            Step::Rebuild(_) => {
                unreachable!("steps after the PostgreSQL baseline are not SQLite's own")
            }
        }
    }
    steps
}

/// The schema at [`POSTGRES_BASELINE`], as migrations 1 to 11 leave an
/// SQLite store: integers are BIGINT (what SQLite's INTEGER holds), bytes
/// BYTEA, ids identities.
fn postgres_baseline() -> String {
    let check = |column: &str, values: &[&str]| {
        let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
        format!("CHECK ({column} IN ({}))", quoted.join(", "))
    };
    let job_state = check("state", &JobState::ALL.map(JobState::as_str));
    let job_kind = check("kind", &JobKind::ALL.map(JobKind::as_str));
    let inbox_status = check("status", &InboxStatus::ALL.map(InboxStatus::as_str));
    let plan_state = check("state", &PlanState::ALL.map(PlanState::as_str));
    let outbox_state = check("state", &OutboxState::ALL.map(OutboxState::as_str));
    format!(
        "CREATE TABLE jobs (
        id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        runner         TEXT NOT NULL,
        kind           TEXT NOT NULL CHECK (kind IN ('build', 'test', 'boot')),
        uid            TEXT,
        state          TEXT NOT NULL {job_state},
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
        updated_at     TEXT NOT NULL,
        status         TEXT,
        status_at      TEXT,
        result         TEXT,
        next_poll_ms   BIGINT,
        polls          BIGINT NOT NULL DEFAULT 0,
        poll_note      TEXT,
        after_job      BIGINT REFERENCES jobs (id),
        plan           TEXT,
        actual_device  TEXT
    );
    CREATE UNIQUE INDEX jobs_runner_uid ON jobs (runner, uid) WHERE uid IS NOT NULL;
    CREATE INDEX jobs_build_id ON jobs (build_id, kind);
    CREATE INDEX jobs_callback_token ON jobs (callback_token) WHERE callback_token IS NOT NULL;
    CREATE INDEX jobs_state ON jobs (state);
    CREATE INDEX jobs_plan ON jobs (plan) WHERE plan IS NOT NULL;
    CREATE TABLE inbox (
        id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        received_at     TEXT NOT NULL,
        runner          TEXT NOT NULL,
        kind            TEXT NOT NULL {job_kind},
        status          TEXT NOT NULL {inbox_status},
        verified_as     TEXT,
        reason          TEXT,
        headers         TEXT NOT NULL DEFAULT '{{}}',
        token           TEXT,
        body            BYTEA,
        body_bytes      BIGINT NOT NULL DEFAULT 0,
        uid             TEXT,
        job_id          BIGINT REFERENCES jobs (id),
        attempts        BIGINT NOT NULL DEFAULT 0,
        next_attempt_ms BIGINT,
        first_fetch_ms  BIGINT,
        updated_at      TEXT NOT NULL,
        signature       TEXT
    );
    CREATE INDEX inbox_status ON inbox (status);
    CREATE UNIQUE INDEX inbox_signature ON inbox (signature) WHERE signature IS NOT NULL;
    CREATE UNIQUE INDEX inbox_unmatched ON inbox (runner, uid) WHERE status = 'unmatched';
    CREATE INDEX inbox_unmatched_token ON inbox (runner, token)
        WHERE status = 'unmatched' AND token IS NOT NULL;
    CREATE TABLE documents (
        job_id     BIGINT PRIMARY KEY REFERENCES jobs (id),
        document   TEXT NOT NULL,
        path       TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE submissions (
        id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        sent_at        TEXT NOT NULL,
        bytes          BIGINT NOT NULL,
        documents      BIGINT NOT NULL,
        status         BIGINT,
        server_id      TEXT,
        message        TEXT,
        ingest         TEXT,
        ingest_message TEXT,
        checked_at     TEXT
    );
    CREATE TABLE outbox (
        id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        key              TEXT NOT NULL UNIQUE,
        job_id           BIGINT REFERENCES jobs (id),
        label            TEXT NOT NULL,
        document         TEXT NOT NULL,
        builds           TEXT NOT NULL DEFAULT '[]',
        needs_builds     TEXT NOT NULL DEFAULT '[]',
        state            TEXT NOT NULL {outbox_state},
        attempts         BIGINT NOT NULL DEFAULT 0,
        first_attempt_ms BIGINT,
        next_attempt_ms  BIGINT,
        claimed_by       TEXT,
        claim_expires_ms BIGINT,
        submission_id    BIGINT REFERENCES submissions (id),
        reason           TEXT,
        changed          TEXT,
        created_ms       BIGINT NOT NULL,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL
    );
    CREATE INDEX outbox_state ON outbox (state, id);
    CREATE TABLE outbox_submissions (
        outbox_id     BIGINT NOT NULL REFERENCES outbox (id),
        submission_id BIGINT NOT NULL REFERENCES submissions (id),
        PRIMARY KEY (outbox_id, submission_id)
    );
    CREATE TABLE listeners (
        id      TEXT PRIMARY KEY,
        bind    TEXT NOT NULL,
        seen_ms BIGINT NOT NULL
    );
    CREATE TABLE plans (
        id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        runner         TEXT NOT NULL,
        uid            TEXT,
        name           TEXT,
        state          TEXT NOT NULL {plan_state},
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
    CREATE TABLE refusals (
        runner  TEXT NOT NULL,
        reason  TEXT NOT NULL,
        minute  BIGINT NOT NULL,
        count   BIGINT NOT NULL,
        last_ms BIGINT NOT NULL,
        PRIMARY KEY (runner, reason, minute)
    );"
    )
}

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
    if version > LATEST {
        return Ok(Outcome::TooNew(version));
    }
    // A rebuild needs foreign keys off, which cannot change inside a
    // transaction; they are checked before the migration commits.
    let rebuilds = MIGRATIONS[version.max(0) as usize..]
        .iter()
        .any(|s| matches!(s, Step::Rebuild(_) | Step::Each { .. }));
    if rebuilds {
        conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    }
    let migrated = apply(conn);
    if rebuilds {
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
    }
    migrated
}

fn apply(conn: &mut Connection) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > LATEST {
        return Ok(Outcome::TooNew(version));
    }
    for step in &MIGRATIONS[version as usize..] {
        match step {
            Step::Sql(sql) => tx.execute_batch(sql)?,
            Step::Rebuild(rebuild)
            | Step::Each {
                sqlite: rebuild, ..
            } => {
                rebuild(&tx)?;
                let broken: i64 =
                    tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                        r.get(0)
                    })?;
                if broken > 0 {
                    return Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                        Some(format!("{broken} rows refer to rows that are gone")),
                    ));
                }
            }
        }
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
        for step in &MIGRATIONS[..6] {
            let Sql(sql) = step else { panic!() };
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
        let (uid, state, created): (String, String, i64) = conn
            .query_row("SELECT uid, state, created_at FROM plans", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        // 2026-01-01T00:00:00Z, in milliseconds since migration 13.
        assert_eq!(
            (uid.as_str(), state.as_str(), created),
            ("P1", "submitted", 1_767_225_600_000)
        );
    }

    #[test]
    fn postgresql_gets_the_baseline_then_every_later_step() {
        let later = (LATEST - POSTGRES_BASELINE) as usize;
        assert_eq!(postgres_steps(0).len(), 1 + later);
        assert_eq!(postgres_steps(POSTGRES_BASELINE).len(), later);
        assert!(postgres_steps(LATEST).is_empty());
        // The baseline is the SQLite schema at that version: the same
        // tables and columns.
        let mut conn = Connection::open_in_memory().unwrap();
        for step in &MIGRATIONS[..POSTGRES_BASELINE as usize] {
            match step {
                Sql(sql) => conn.execute_batch(sql).unwrap(),
                Step::Rebuild(f) | Step::Each { sqlite: f, .. } => {
                    let tx = conn.transaction().unwrap();
                    f(&tx).unwrap();
                    tx.commit().unwrap();
                }
            }
        }
        let baseline = postgres_baseline();
        let columns: Vec<(String, String)> = conn
            .prepare("SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (table, column) in columns {
            let at = baseline
                .find(&format!("CREATE TABLE {table} ("))
                .unwrap_or_else(|| panic!("no table {table} in the baseline"));
            let body = &baseline[at..at + baseline[at..].find(");").unwrap()];
            assert!(
                body.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{column} "))),
                "{table}.{column} is not in the PostgreSQL baseline"
            );
        }
    }

    #[test]
    fn newer_schema_is_reported() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", LATEST + 1))
            .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Outcome::TooNew(LATEST + 1));
    }

    #[test]
    fn every_enum_column_refuses_a_value_no_kbridge_writes() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        migrate(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO jobs (runner, kind, uid, state, spec, request, scheduled_at, updated_at)
                 VALUES ('tuxsuite', 'test', 'u1', 'submitted', '{}', 'null', 't', 't');
             INSERT INTO inbox (received_at, runner, kind, status, updated_at) VALUES ('t', 'tuxsuite', 'test', 'pending', 't');
             INSERT INTO plans (runner, name, state, created_at, updated_at) VALUES ('tuxsuite', 'p', 'submitted', 't', 't');",
        )
        .unwrap();
        for (table, column) in [
            ("jobs", "state"),
            ("jobs", "kind"),
            ("inbox", "kind"),
            ("inbox", "status"),
            ("plans", "state"),
            ("outbox", "state"),
        ] {
            if table == "outbox" {
                let e = conn
                    .execute(
                        "INSERT INTO outbox (key, label, document, state, created_ms, created_at, updated_at)
                         VALUES ('k', 'l', '{}', 'lost', 0, 't', 't')",
                        [],
                    )
                    .unwrap_err();
                assert!(e.to_string().contains("CHECK"), "{table}.{column}: {e}");
                continue;
            }
            let e = conn
                .execute(&format!("UPDATE {table} SET {column} = 'lost'"), [])
                .unwrap_err();
            assert!(e.to_string().contains("CHECK"), "{table}.{column}: {e}");
        }
        // Every value kbridge writes is taken.
        for state in JobState::ALL {
            conn.execute("UPDATE jobs SET state = ?1", [state]).unwrap();
        }
        for status in InboxStatus::ALL {
            conn.execute("UPDATE inbox SET status = ?1", [status])
                .unwrap();
        }
        for state in PlanState::ALL {
            conn.execute("UPDATE plans SET state = ?1", [state])
                .unwrap();
        }
    }

    #[test]
    fn the_rebuild_keeps_rows_indexes_and_references() {
        let mut conn = Connection::open_in_memory().unwrap();
        for step in &MIGRATIONS[..9] {
            let Sql(sql) = step else { panic!() };
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 9;
             INSERT INTO jobs (runner, kind, uid, state, spec, request, scheduled_at, updated_at)
                 VALUES ('tuxsuite', 'test', 'u1', 'completed', '{}', 'null', 't', 't');
             INSERT INTO inbox (received_at, runner, kind, status, job_id, updated_at) VALUES ('t', 'tuxsuite', 'test', 'processed', 1, 't');
             INSERT INTO documents (job_id, path, document, created_at) VALUES (1, 'p', '{}', 't');",
        )
        .unwrap();
        let indexes = |conn: &Connection| -> Vec<String> {
            conn.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let before = indexes(&conn);
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Outcome::Current);
        let after = indexes(&conn);
        for index in &before {
            assert!(after.contains(index), "{index} is gone: {after:?}");
        }
        let fk: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(fk, "foreign keys are on again");
        let (state, job): (String, i64) = conn
            .query_row(
                "SELECT j.state, i.job_id FROM inbox i JOIN jobs j ON j.id = i.job_id",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((state.as_str(), job), ("completed", 1));
        // A document still refers to its job: deleting the job is refused.
        assert!(conn.execute("DELETE FROM jobs WHERE id = 1", []).is_err());
    }
}
