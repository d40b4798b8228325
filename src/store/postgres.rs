//! A store on a PostgreSQL server: the session (TLS through rustls, as
//! the URL's `sslmode` asks), the schema, and PostgreSQL's errors in words
//! a user can act on.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::migrations::{self, Outcome};
use super::sql::{DbErr, Pg};
use super::{Location, StoreError};
use crate::location::{SslMode, Target};

/// Serializes schema changes between processes opening one database.
const MIGRATE_LOCK: i64 = 0x6b62_7269_6467_6501;
/// Taken by every write transaction for its length: writers run one at a
/// time, as on SQLite, so each batch sees the store as it left it.
const WRITE_LOCK: i64 = 0x6b62_7269_6467_6502;
/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a session on the database.
pub fn connect(target: &Target) -> Result<Pg, StoreError> {
    let mut config: postgres::Config = target
        .driver_url()
        .parse()
        .map_err(|e| StoreError::Setting(format!("database URL {target}: {e}")))?;
    if let Some(password) = target.password() {
        config.password(password);
    }
    config.application_name("kbridge");
    config.connect_timeout(CONNECT_TIMEOUT);
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(target)?);
    let client = config
        .connect(tls.clone())
        .map_err(|e| classify(&Location::Postgres(Box::new(target.clone())), &e))?;
    Ok(Pg::new(client, config, tls))
}

/// Starts a write transaction, waiting for the other writers' to end.
pub(super) fn begin(pg: &RefCell<Pg>) -> Result<(), DbErr> {
    let sql = format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})");
    let mut pg = pg.borrow_mut();
    pg.ensure()?;
    pg.client.batch_execute(&sql)?;
    pg.in_transaction = true;
    Ok(())
}

/// Whether this session holds the lock named `name`, taking it if it is
/// free. Held until the session ends: a process that dies (or loses the
/// server) lets another take it.
pub(super) fn singleton(pg: &RefCell<Pg>, name: &str) -> Result<bool, DbErr> {
    let key = singleton_key(name);
    let mut pg = pg.borrow_mut();
    pg.ensure()?;
    if pg.held.contains(&key) {
        return Ok(true);
    }
    let got: bool = pg
        .client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
        .try_get(0)?;
    if got {
        pg.held.insert(key);
    }
    Ok(got)
}

/// A lock key of kbridge's own for `name`: the name's first bytes beside
/// kbridge's prefix, so other applications' keys are unlikely to meet it.
fn singleton_key(name: &str) -> i64 {
    let mut key = [0u8; 8];
    key[..4].copy_from_slice(b"kbs:");
    for (k, b) in key[4..].iter_mut().zip(name.bytes()) {
        *k = b;
    }
    i64::from_be_bytes(key)
}

/// Writes to the database and rolls the write back: fails on a server
/// that accepts no writes (a standby) or a user who may not write.
pub(super) fn check_writable(pg: &RefCell<Pg>) -> Result<(), DbErr> {
    let mut pg = pg.borrow_mut();
    pg.ensure()?;
    let written = pg
        .client
        .batch_execute("BEGIN; UPDATE kbridge_schema SET version = version");
    let _ = pg.client.batch_execute("ROLLBACK");
    Ok(written?)
}

/// Brings the schema up to date, one process at a time.
pub(super) fn migrate(pg: &RefCell<Pg>) -> Result<Outcome, DbErr> {
    let mut pg = pg.borrow_mut();
    pg.ensure()?;
    let client = &mut pg.client;
    // An up-to-date database costs one round trip to open.
    if let Some(version) = version(client)? {
        if version == migrations::LATEST {
            return Ok(Outcome::Current);
        }
        if version > migrations::LATEST {
            return Ok(Outcome::TooNew(version));
        }
    }
    client.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATE_LOCK})"))?;
    let outcome = apply(client);
    let unlocked = client.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATE_LOCK})"));
    let outcome = outcome?;
    unlocked?;
    Ok(outcome)
}

fn version(client: &mut postgres::Client) -> Result<Option<i64>, DbErr> {
    let row = client.query_one(
        "SELECT CASE WHEN to_regclass('kbridge_schema') IS NULL THEN NULL
                ELSE (SELECT max(version) FROM kbridge_schema) END",
        &[],
    );
    match row {
        Ok(row) => Ok(row.try_get(0)?),
        // The table appeared between the two halves of the statement.
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn apply(client: &mut postgres::Client) -> Result<Outcome, DbErr> {
    let mut tx = client.transaction()?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS kbridge_schema (version BIGINT NOT NULL)")?;
    let found: Option<i64> = tx
        .query_one("SELECT max(version) FROM kbridge_schema", &[])?
        .try_get(0)?;
    let found = found.unwrap_or(0);
    if found > migrations::LATEST {
        return Ok(Outcome::TooNew(found));
    }
    for sql in migrations::postgres_steps(found) {
        tx.batch_execute(&sql)?;
    }
    if found < migrations::LATEST {
        tx.execute("DELETE FROM kbridge_schema", &[])?;
        tx.execute(
            "INSERT INTO kbridge_schema (version) VALUES ($1)",
            &[&migrations::LATEST],
        )?;
    }
    tx.commit()?;
    Ok(Outcome::Current)
}

/// PostgreSQL's errors in words a user can act on.
pub(super) fn classify(at: &Location, e: &postgres::Error) -> StoreError {
    use postgres::error::SqlState as S;
    let Location::Postgres(target) = at else {
        unreachable!("a PostgreSQL error comes from a PostgreSQL store")
    };
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let class = &code.code()[..2];
        if *code == S::INVALID_PASSWORD || class == "28" {
            let how = if target.has_password() {
                "check the password (in the URL or database_password_file) and the user"
            } else {
                "give the password in database_password_file or the URL"
            };
            return StoreError::Setting(format!(
                "cannot sign in to PostgreSQL at {target}: {}; {how}",
                db.message()
            ));
        }
        if *code == S::INVALID_CATALOG_NAME {
            return StoreError::Setting(format!(
                "PostgreSQL at {target}: {}; create it (createdb) or name another database in the URL",
                db.message()
            ));
        }
        if *code == S::INSUFFICIENT_PRIVILEGE {
            return StoreError::Setting(format!(
                "PostgreSQL at {target}: {}; grant the user the rights on the database, or use another user",
                db.message()
            ));
        }
        if *code == S::READ_ONLY_SQL_TRANSACTION {
            return StoreError::ReadOnly { at: at.clone() };
        }
        if class == "08" || class == "57" || class == "53" {
            return StoreError::Unreachable {
                at: at.clone(),
                message: db.message().to_string(),
            };
        }
        return StoreError::Query {
            at: at.clone(),
            message: db.message().to_string(),
        };
    }
    // The driver's own errors carry no code: a TLS failure and a refused
    // configuration are told from a lost server by their words.
    let text = match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    };
    if text.contains("TLS") || text.contains("certificate") {
        return StoreError::Setting(format!(
            "PostgreSQL at {target}: {text}; check sslmode and sslrootcert in the URL, or the server's TLS setup"
        ));
    }
    if text.contains("password missing") {
        return StoreError::Setting(format!(
            "PostgreSQL at {target} asks for a password; give it in database_password_file or the URL"
        ));
    }
    StoreError::Unreachable {
        at: at.clone(),
        message: text,
    }
}

/// rustls set up for the URL's `sslmode` and `sslrootcert`, as libpq
/// reads them: `prefer` and `require` encrypt without checking whom they
/// talk to (unless a root certificate is named, which makes `require`
/// mean `verify-ca`); `verify-ca` checks the chain; `verify-full` also the
/// host name.
fn tls_config(target: &Target) -> Result<rustls::ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match target.root_cert() {
        Some(path) => {
            use rustls::pki_types::pem::PemObject;
            let bad = |e: String| {
                StoreError::Setting(format!(
                    "database URL {target}: sslrootcert {}: {e}; name a PEM file of CA certificates",
                    path.display()
                ))
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(bad("no certificate in it".into()));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Setting(format!("TLS for {target}: {e}")))?;
    let verify = match target.sslmode() {
        SslMode::Require if target.root_cert().is_some() => SslMode::VerifyCa,
        mode => mode,
    };
    let config = match verify {
        SslMode::VerifyFull => builder.with_root_certificates(roots),
        SslMode::VerifyCa | SslMode::Disable | SslMode::Prefer | SslMode::Require => {
            let chain = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| StoreError::Setting(format!("TLS for {target}: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Lenient {
                    chain,
                    check_chain: verify == SslMode::VerifyCa,
                }))
        }
    };
    Ok(config.with_no_client_auth())
}

/// libpq's checks below `verify-full`: the chain only (`verify-ca`), or
/// nothing but the handshake's own signatures (`prefer`, `require`).
#[derive(Debug)]
struct Lenient {
    chain: Arc<rustls::client::WebPkiServerVerifier>,
    check_chain: bool,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.check_chain {
            return Ok(ServerCertVerified::assertion());
        }
        match self
            .chain
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_root_certificate_is_a_setting_error_before_any_connection() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        for path in [dir.path().join("missing.pem"), empty] {
            // Port 9 on loopback: nothing answers, so an error about the
            // server would show that a connection was tried.
            let url = format!(
                "postgresql://kb@127.0.0.1:9/kb?sslmode=verify-full&sslrootcert={}",
                path.display()
            );
            let target = Target::parse(&url).unwrap();
            let e = connect(&target).err().expect("refused");
            assert!(
                matches!(e, StoreError::Setting(_)) && e.to_string().contains("sslrootcert"),
                "{e}"
            );
        }
    }
}
