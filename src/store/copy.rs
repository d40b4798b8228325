//! Copying a whole store into an empty one, on either engine: an SQLite
//! file into PostgreSQL when a team moves to several listeners, or back.
//!
//! Every row of every table is copied with its id, in one transaction on
//! the target (a failed copy leaves it empty), and read back before the
//! transaction commits: the row counts and a digest of every value must be
//! those of the source. Listeners' heartbeats are not copied: they say
//! which processes are alive on the source.

use sha2::{Digest, Sha256};

use super::sql::{args, Arg, Conn, DbErr, Dialect};
use super::{Store, StoreError};

/// The tables copied, each with its key, in an order that respects the
/// references between them.
const TABLES: &[(&str, &str)] = &[
    ("jobs", "id"),
    ("plans", "id"),
    ("submissions", "id"),
    ("inbox", "id"),
    ("documents", "job_id"),
    ("outbox", "id"),
    ("outbox_submissions", "outbox_id, submission_id"),
    ("refusals", "runner, reason, minute"),
];

/// The tables whose ids the target's sequences must continue after.
const WITH_IDS: &[&str] = &["jobs", "plans", "submissions", "inbox", "outbox"];

/// Why a copy was not made.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The target holds records already: copying would mix two stores.
    #[error("{target} already holds kbridge records ({what}); copy into an empty database")]
    NotEmpty { target: String, what: String },
    /// What was read back differs from the source.
    #[error("the copy into {target} does not match the source ({what}); nothing was kept")]
    Mismatch { target: String, what: String },
}

/// What a copy moved, table by table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Copied {
    pub tables: Vec<(String, usize)>,
    /// SHA-256 over every copied value, table by table, in key order.
    pub digest: String,
}

/// One value of a row, whatever its column.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl rusqlite::types::FromSql for Value {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Value> {
        use rusqlite::types::ValueRef as V;
        Ok(match v {
            V::Null => Value::Null,
            V::Integer(i) => Value::Int(i),
            V::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            V::Blob(b) => Value::Bytes(b.to_vec()),
            V::Real(_) => return Err(rusqlite::types::FromSqlError::InvalidType),
        })
    }
}

impl<'a> postgres::types::FromSql<'a> for Value {
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Value, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        Ok(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::BYTEA => Value::Bytes(Vec::<u8>::from_sql(ty, raw)?),
            _ => Value::Text(String::from_sql(ty, raw)?),
        })
    }

    fn from_sql_null(
        _: &postgres::types::Type,
    ) -> Result<Value, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Value::Null)
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        use postgres::types::Type;
        matches!(*ty, Type::INT8 | Type::BYTEA | Type::TEXT | Type::VARCHAR)
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        // The column's type decides: a value of another kind is refused,
        // never sent as bytes the server would read as something else.
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Text(t), &Type::TEXT | &Type::VARCHAR) => t.to_sql(ty, out),
            (Value::Bytes(b), &Type::BYTEA) => b.to_sql(ty, out),
            (v, ty) => Err(format!("a {v:?} cannot go in a column of type {ty}").into()),
        }
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        <Value as postgres::types::FromSql>::accepts(ty)
    }

    postgres::types::to_sql_checked!();
}

/// The columns of `table`, as this store has them.
fn columns(conn: Conn<'_>, table: &str) -> Result<Vec<String>, DbErr> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
        Dialect::Postgres => {
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position"
        }
    };
    conn.query_map(sql, args![table], |r| r.get(0))
}

/// Every row of `table`, its values in `columns`' order, in key order.
fn rows(
    conn: Conn<'_>,
    table: &str,
    key: &str,
    columns: &[String],
) -> Result<Vec<Vec<Value>>, DbErr> {
    let sql = format!("SELECT {} FROM {table} ORDER BY {key}", columns.join(", "));
    conn.query_map(&sql, args![], |r| {
        (0..columns.len()).map(|i| r.get::<_, Value>(i)).collect()
    })
}

/// Adds a table's rows to a digest, unambiguously.
fn digest(hash: &mut Sha256, table: &str, rows: &[Vec<Value>]) {
    hash.update(format!("{table}:{}\n", rows.len()));
    for row in rows {
        for v in row {
            match v {
                Value::Null => hash.update(b"n"),
                Value::Int(i) => hash.update(format!("i{i};")),
                Value::Text(t) => {
                    hash.update(format!("t{}:", t.len()));
                    hash.update(t.as_bytes());
                }
                Value::Bytes(b) => {
                    hash.update(format!("b{}:", b.len()));
                    hash.update(b);
                }
            }
        }
    }
}

impl Store {
    /// Copies every record of `self` into `target`, which must hold none.
    pub fn copy_into(&self, target: &mut Store) -> Result<Copied, CopyError> {
        let shown = target.location().to_string();
        let mut held = Vec::new();
        for (table, _) in TABLES {
            let n: i64 = target
                .read()
                .one(&format!("SELECT count(*) FROM {table}"), args![], |r| {
                    r.get(0)
                })
                .map_err(|e| target.read().fail(e))?;
            if n > 0 {
                held.push(format!("{n} {table} rows"));
            }
        }
        if !held.is_empty() {
            return Err(CopyError::NotEmpty {
                target: shown,
                what: held.join(", "),
            });
        }
        let source = self.read();
        let fail = |e| source.fail(e);
        let mut sent = Sha256::new();
        let mut tables = Vec::new();
        let batch = target.batch()?;
        let mut checked = Sha256::new();
        for (table, key) in TABLES {
            let cols = columns(source.conn, table).map_err(fail)?;
            let data = rows(source.conn, table, key, &cols).map_err(fail)?;
            digest(&mut sent, table, &data);
            let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
            let insert = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                cols.join(", "),
                marks.join(", ")
            );
            for row in &data {
                let values: Vec<&dyn Arg> = row.iter().map(|v| v as &dyn Arg).collect();
                batch
                    .conn()
                    .execute(&insert, &values)
                    .map_err(|e| batch.fail(e))?;
            }
            // Read back through the transaction, as the target holds it.
            let back = rows(batch.conn(), table, key, &cols).map_err(|e| batch.fail(e))?;
            digest(&mut checked, table, &back);
            tables.push((table.to_string(), data.len()));
        }
        let sent = crate::model::hex(&sent.finalize());
        let checked = crate::model::hex(&checked.finalize());
        if sent != checked {
            return Err(CopyError::Mismatch {
                target: shown,
                what: format!("digest {checked} against the source's {sent}"),
            });
        }
        if batch.conn().dialect() == Dialect::Postgres {
            // New rows continue after the copied ids.
            for table in WITH_IDS {
                batch
                    .conn()
                    .query_row(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                           coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                        ),
                        args![],
                        |_| Ok(()),
                    )
                    .map_err(|e| batch.fail(e))?;
            }
        }
        batch.commit()?;
        Ok(Copied {
            tables,
            digest: sent,
        })
    }
}
