//! One way to run the store's SQL on either engine: SQLite (a file, the
//! default) or PostgreSQL (a server shared by several hosts).
//!
//! The store's statements are written once, with SQLite's numbered
//! placeholders (`?1`); on PostgreSQL they are rewritten to `$1` when
//! first prepared and kept prepared on the connection, as rusqlite's cache
//! keeps them on SQLite. Values go in through [`Arg`] and come out through
//! [`Col`]: the types both drivers can carry. The few statements that
//! need an engine's own words ask [`Conn::dialect`].

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// The two engines a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to a statement, on either engine.
pub trait Arg {
    fn lite(&self) -> &dyn rusqlite::ToSql;
    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync);
}

impl<T: rusqlite::ToSql + postgres::types::ToSql + Sync> Arg for T {
    fn lite(&self) -> &dyn rusqlite::ToSql {
        self
    }

    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync) {
        self
    }
}

/// The values of a statement, in placeholder order.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$(&$value as &dyn $crate::store::sql::Arg),*] as &[&dyn $crate::store::sql::Arg]
    };
}
pub(crate) use args;

/// A value read from a row, on either engine.
pub trait Col: rusqlite::types::FromSql + for<'r> postgres::types::FromSql<'r> {}
impl<T: rusqlite::types::FromSql + for<'r> postgres::types::FromSql<'r>> Col for T {}

/// A column named or numbered, on either engine.
pub trait Index: rusqlite::RowIndex + postgres::row::RowIndex + std::fmt::Display + Copy {}
impl Index for usize {}
impl Index for &str {}

/// Why a statement failed.
#[derive(Debug)]
pub enum DbErr {
    Lite(rusqlite::Error),
    Pg(postgres::Error),
    /// A query that had to return a row returned none.
    NoRow,
    /// The PostgreSQL session ended inside a transaction: what the
    /// transaction wrote is gone, and it is not opened again half-way.
    Closed,
}

impl From<rusqlite::Error> for DbErr {
    fn from(e: rusqlite::Error) -> DbErr {
        match e {
            rusqlite::Error::QueryReturnedNoRows => DbErr::NoRow,
            e => DbErr::Lite(e),
        }
    }
}

impl From<postgres::Error> for DbErr {
    fn from(e: postgres::Error) -> DbErr {
        DbErr::Pg(e)
    }
}

impl std::fmt::Display for DbErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbErr::Lite(e) => e.fmt(f),
            DbErr::Pg(e) => match e.as_db_error() {
                Some(db) => f.write_str(db.message()),
                None => e.fmt(f),
            },
            DbErr::NoRow => f.write_str("the query returned no row"),
            DbErr::Closed => f.write_str("the connection to the server was lost"),
        }
    }
}

/// `Option` for a query that may return no row.
pub trait Optional<T> {
    fn optional(self) -> Result<Option<T>, DbErr>;
}

impl<T> Optional<T> for Result<T, DbErr> {
    fn optional(self) -> Result<Option<T>, DbErr> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbErr::NoRow) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One row of a result.
pub enum Row<'a> {
    Lite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `index`, by position or by name.
    pub fn get<I: Index, T: Col>(&self, index: I) -> Result<T, DbErr> {
        match self {
            Row::Lite(r) => r.get(index).map_err(DbErr::from),
            Row::Pg(r) => r.try_get(index).map_err(DbErr::from),
        }
    }
}

/// A PostgreSQL session, the statements prepared on it, and how to open
/// it again when the server went away.
pub struct Pg {
    pub client: postgres::Client,
    prepared: HashMap<String, postgres::Statement>,
    config: postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    /// The session-level advisory locks this session holds.
    pub held: HashSet<i64>,
    /// Inside a write transaction: a lost session is then an error, never
    /// opened again in the middle of it.
    pub in_transaction: bool,
}

impl Pg {
    pub fn new(
        client: postgres::Client,
        config: postgres::Config,
        tls: tokio_postgres_rustls::MakeRustlsConnect,
    ) -> Pg {
        Pg {
            client,
            prepared: HashMap::new(),
            config,
            tls,
            held: HashSet::new(),
            in_transaction: false,
        }
    }

    /// Opens the session again if the server closed it (a restart, a
    /// failover): what it had prepared and held went with it.
    pub fn ensure(&mut self) -> Result<(), DbErr> {
        if self.client.is_closed() {
            if self.in_transaction {
                return Err(DbErr::Closed);
            }
            self.client = self.config.connect(self.tls.clone())?;
            self.prepared.clear();
            self.held.clear();
            crate::metrics::global().store_reconnected();
        }
        Ok(())
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, DbErr> {
        self.ensure()?;
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&numbered(sql))?;
        self.prepared.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// A connection, or a transaction on one: where a statement runs.
#[derive(Clone, Copy)]
pub enum Conn<'a> {
    Lite(&'a rusqlite::Connection),
    Pg(&'a RefCell<Pg>),
}

impl Conn<'_> {
    pub fn dialect(self) -> Dialect {
        match self {
            Conn::Lite(_) => Dialect::Sqlite,
            Conn::Pg(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; returns how many rows it changed.
    pub fn execute(self, sql: &str, args: &[&dyn Arg]) -> Result<usize, DbErr> {
        match self {
            Conn::Lite(c) => Ok(c.prepare_cached(sql)?.execute(lite(args).as_slice())?),
            Conn::Pg(cell) => {
                let mut pg = cell.borrow_mut();
                let stmt = pg.statement(sql)?;
                Ok(pg.client.execute(&stmt, &pg_values(args))? as usize)
            }
        }
    }

    /// The first row of a query; [`DbErr::NoRow`] if there is none.
    pub fn query_row<T>(
        self,
        sql: &str,
        args: &[&dyn Arg],
        f: impl FnOnce(&Row<'_>) -> Result<T, DbErr>,
    ) -> Result<T, DbErr> {
        match self {
            Conn::Lite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(lite(args).as_slice())?;
                match rows.next()? {
                    Some(r) => f(&Row::Lite(r)),
                    None => Err(DbErr::NoRow),
                }
            }
            Conn::Pg(cell) => {
                let rows = pg_query(cell, sql, args)?;
                match rows.first() {
                    Some(r) => f(&Row::Pg(r)),
                    None => Err(DbErr::NoRow),
                }
            }
        }
    }

    /// Every row of a query, each read by `f`.
    pub fn query_map<T>(
        self,
        sql: &str,
        args: &[&dyn Arg],
        mut f: impl FnMut(&Row<'_>) -> Result<T, DbErr>,
    ) -> Result<Vec<T>, DbErr> {
        match self {
            Conn::Lite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(lite(args).as_slice())?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::Lite(r))?);
                }
                Ok(out)
            }
            Conn::Pg(cell) => pg_query(cell, sql, args)?
                .iter()
                .map(|r| f(&Row::Pg(r)))
                .collect(),
        }
    }
}

fn lite<'a>(args: &'a [&'a dyn Arg]) -> Vec<&'a dyn rusqlite::ToSql> {
    args.iter().map(|a| a.lite()).collect()
}

fn pg_values<'a>(args: &'a [&'a dyn Arg]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    args.iter().map(|a| a.pg()).collect()
}

/// Every row of a query on PostgreSQL, its statement prepared once per
/// session.
fn pg_query(cell: &RefCell<Pg>, sql: &str, args: &[&dyn Arg]) -> Result<Vec<postgres::Row>, DbErr> {
    let mut pg = cell.borrow_mut();
    let stmt = pg.statement(sql)?;
    Ok(pg.client.query(&stmt, &pg_values(args))?)
}

/// SQLite's `?N` placeholders as PostgreSQL's `$N`, outside quoted text
/// and `--` comments.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut comment = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' if comment => comment = false,
            _ if comment => {}
            '\'' => quoted = !quoted,
            '-' if !quoted && chars.peek() == Some(&'-') => comment = true,
            '?' if !quoted && chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT ?1, '?2', ?10 WHERE a = 'it''s ?3' AND b = ?3"),
            "SELECT $1, '?2', $10 WHERE a = 'it''s ?3' AND b = $3"
        );
        assert_eq!(
            numbered("UPDATE t SET a = ?1, -- the plan's ?2\n b = ?2"),
            "UPDATE t SET a = $1, -- the plan's ?2\n b = $2"
        );
    }
}
