//! A real PostgreSQL server for the tests that need one: the server libpq's
//! variables name (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`), as
//! `pg_virtualenv` sets them around the test command. Each test gets a
//! database of its own, created empty.
//!
//! The tests that need it are `#[ignore]`d with the reason, so a plain
//! `cargo test` on a machine without PostgreSQL lists them as ignored,
//! never as passed; README's test command runs them under a throwaway
//! cluster.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a test is ignored without a server.
pub const NEEDS: &str = "needs PostgreSQL: run under pg_virtualenv (see README)";

thread_local! {
    /// The database the current test's environments store in.
    static CURRENT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The server's address, user and password, from libpq's variables.
struct Server {
    host: String,
    port: String,
    user: String,
    password: String,
}

fn server() -> Server {
    let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.to_string());
    let server = Server {
        host: var("PGHOST", ""),
        port: var("PGPORT", "5432"),
        user: var("PGUSER", "postgres"),
        password: var("PGPASSWORD", ""),
    };
    assert!(
        !server.host.is_empty(),
        "this test {NEEDS}: PGHOST is not set"
    );
    server
}

impl Server {
    fn url(&self, database: &str, password: &str) -> String {
        let host = if self.host.starts_with('/') {
            format!("@/{database}?host={}&", self.host)
        } else {
            format!("@{}:{}/{database}?", self.host, self.port)
        };
        let password = if password.is_empty() {
            String::new()
        } else {
            format!(":{password}")
        };
        format!("postgresql://{}{password}{host}sslmode=disable", self.user)
    }
}

/// A new, empty database; its URL, with the password.
pub fn fresh_database() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let s = server();
    let name = format!(
        "kbridge_test_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = postgres::Client::connect(&s.url("postgres", &s.password), postgres::NoTls)
        .expect("the PostgreSQL server takes connections");
    // One statement per call: neither may run in the implicit transaction
    // of a multi-statement query.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    s.url(&name, &s.password)
}

/// The URL of a database the server does not have.
pub fn missing_database() -> String {
    let s = server();
    s.url("kbridge_no_such_database", &s.password)
}

/// The URL of the server's database with a wrong password.
pub fn wrong_password() -> String {
    let s = server();
    s.url("postgres", "not-the-password")
}

/// The URL of the server's database under `sslmode`.
pub fn with_sslmode(mode: &str) -> String {
    let s = server();
    s.url("postgres", &s.password)
        .replace("sslmode=disable", &format!("sslmode={mode}"))
}

/// Runs `test` with every [`crate::util::Env`] it makes storing in a
/// fresh PostgreSQL database; returns that database's URL.
pub fn on_postgres(test: impl FnOnce()) -> String {
    let url = fresh_database();
    on_postgres_at(&url, test);
    url
}

/// Runs `test` with every [`crate::util::Env`] it makes storing in the
/// database at `url`.
pub fn on_postgres_at(url: &str, test: impl FnOnce()) {
    let url = url.to_string();
    CURRENT.with(|c| *c.borrow_mut() = Some(url.clone()));
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| *c.borrow_mut() = None);
        }
    }
    let _reset = Reset;
    test();
}

/// The database the current test stores in, when it runs on PostgreSQL.
pub fn current() -> Option<String> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Runs one statement on a database and returns the first column of each
/// row, as text.
pub fn query(url: &str, sql: &str) -> Vec<String> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .simple_query(sql)
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("").to_string()),
            _ => None,
        })
        .collect()
}
