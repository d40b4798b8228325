//! Where the store is: an SQLite file's path, or a PostgreSQL database
//! named by a URL.
//!
//! The URL is libpq's (`postgresql://user@host:port/db?sslmode=…`);
//! `sslmode` takes libpq's six values with libpq's meaning, and
//! `sslrootcert` names the certificates to trust instead of the web's
//! roots. The password is never shown: [`Target`]'s `Display` and `Debug`
//! leave it out, and it is registered as a secret so no log line carries
//! it.

use std::path::{Path, PathBuf};

/// Where a store is: an SQLite file, or a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Postgres(Box<Target>),
}

impl Location {
    /// A `postgresql://` or `postgres://` URL, or else a file's path.
    pub fn parse(text: &str) -> Result<Location, BadUrl> {
        if is_url(text) {
            Ok(Location::Postgres(Box::new(Target::parse(text)?)))
        } else {
            Ok(Location::File(PathBuf::from(text)))
        }
    }

    /// The file, for an SQLite store.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }
}

/// The file's path, or the database's URL without its password.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => p.display().fmt(f),
            Location::Postgres(t) => t.fmt(f),
        }
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Location {
        Location::File(p.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Location {
        Location::File(p.clone())
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Location {
        Location::File(p)
    }
}

impl From<&Location> for Location {
    fn from(l: &Location) -> Location {
        l.clone()
    }
}

/// Whether `text` names a PostgreSQL database rather than a file.
pub fn is_url(text: &str) -> bool {
    text.starts_with("postgresql://") || text.starts_with("postgres://")
}

/// A URL that does not name a PostgreSQL database kbridge can use.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct BadUrl(String);

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    const NAMES: &'static str = "disable, prefer, require, verify-ca or verify-full";

    fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// A PostgreSQL database, as a URL named it.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL without its password: what kbridge shows.
    shown: String,
    /// The URL the driver parses: `sslmode` in the driver's three words,
    /// without the password and the parameters kbridge handles itself.
    driver: String,
    password: Option<String>,
    ssl: SslMode,
    root_cert: Option<PathBuf>,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({})", self.shown)
    }
}

impl Target {
    /// Reads a `postgresql://` URL.
    pub fn parse(text: &str) -> Result<Target, BadUrl> {
        let decode = |p: &str| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        };
        // libpq's socket form, a user and no host (`postgresql://kb@/db?
        // host=/run/postgresql`), is no URL the `url` crate reads: the user
        // moves to the query, where libpq also takes it.
        let (text, socket_user) = match text.split_once("://") {
            Some((scheme, rest)) => match rest.split_once("@/") {
                Some((userinfo, path)) if !userinfo.contains('/') => (
                    format!("{scheme}:///{path}"),
                    Some(match userinfo.split_once(':') {
                        Some((user, password)) => (decode(user), Some(decode(password))),
                        None => (decode(userinfo), None),
                    }),
                ),
                _ => (text.to_string(), None),
            },
            None => (text.to_string(), None),
        };
        let mut url = url::Url::parse(&text).map_err(|e| {
            BadUrl(format!(
                "database URL is not a URL ({e}); write it as postgresql://USER@HOST/DATABASE"
            ))
        })?;
        let mut password = url.password().map(decode);
        let mut kept = Vec::new();
        if let Some((user, socket_password)) = socket_user {
            kept.push(("user".to_string(), user));
            password = password.or(socket_password);
        }
        if url.password().is_some() {
            url.set_password(None)
                .map_err(|()| BadUrl("database URL has no host".into()))?;
        }
        if let Some(p) = &password {
            crate::secrets::register(p);
        }
        // What is shown: the URL as given, without its password.
        let mut shown_url = url.clone();
        shown_url.query_pairs_mut().clear().extend_pairs(
            kept.iter().cloned().chain(
                url.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned())),
            ),
        );
        if shown_url.query() == Some("") {
            shown_url.set_query(None);
        }
        let shown = shown_url.to_string();
        let mut ssl = SslMode::Prefer;
        let mut root_cert = None;
        for (key, value) in url.query_pairs() {
            match &*key {
                "sslmode" => {
                    ssl = SslMode::parse(&value).ok_or_else(|| {
                        BadUrl(format!(
                            "database URL: sslmode '{value}' is not one of {}",
                            SslMode::NAMES
                        ))
                    })?;
                }
                "sslrootcert" => root_cert = Some(PathBuf::from(&*value)),
                "password" => {
                    return Err(BadUrl(
                        "database URL: give the password before the host (postgresql://USER:PASSWORD@HOST/DB) or in database_password_file".into(),
                    ))
                }
                _ => kept.push((key.into_owned(), value.into_owned())),
            }
        }
        let user_given = !url.username().is_empty() || kept.iter().any(|(k, _)| k == "user");
        if !user_given {
            // libpq's default user is the one running the program.
            let user = std::env::var("USER").unwrap_or_else(|_| "postgres".into());
            kept.push(("user".into(), user));
        }
        let driver_mode = match ssl {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
        };
        kept.push(("sslmode".into(), driver_mode.into()));
        url.query_pairs_mut().clear().extend_pairs(kept);
        let driver = url.to_string();
        driver
            .parse::<postgres::Config>()
            .map_err(|e| BadUrl(format!("database URL {shown}: {e}")))?;
        Ok(Target {
            shown,
            driver,
            password,
            ssl,
            root_cert,
        })
    }

    /// The password, when the URL does not give one.
    pub fn with_password(mut self, password: String) -> Target {
        if self.password.is_none() {
            crate::secrets::register(&password);
            self.password = Some(password);
        }
        self
    }

    /// Whether the URL gave a password, or one was added.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }
}

impl Target {
    /// The URL the driver parses (with the user, never the password).
    pub fn driver_url(&self) -> &str {
        &self.driver
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    pub fn sslmode(&self) -> SslMode {
        self.ssl
    }

    /// The CA certificates to trust instead of the web's roots.
    pub fn root_cert(&self) -> Option<&Path> {
        self.root_cert.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        let t = Target::parse(
            "postgresql://kb:s%40cret@db.example.org:5433/kbridge?sslmode=verify-full",
        )
        .unwrap();
        assert_eq!(
            t.to_string(),
            "postgresql://kb@db.example.org:5433/kbridge?sslmode=verify-full"
        );
        assert!(!format!("{t:?}").contains("cret"));
        assert_eq!(t.password.as_deref(), Some("s@cret"));
        assert!(t.driver.contains("sslmode=require"), "{}", t.driver);
        assert_eq!(t.ssl, SslMode::VerifyFull);
    }

    #[test]
    fn a_socket_directory_and_libpq_modes_are_understood() {
        let t = Target::parse("postgresql://kb:pw@/kbridge?host=/run/postgresql&sslmode=disable")
            .unwrap();
        assert_eq!(t.ssl, SslMode::Disable);
        assert_eq!(t.password.as_deref(), Some("pw"));
        assert!(t.driver.contains("user=kb"), "{}", t.driver);
        assert!(!t.to_string().contains("pw"), "{t}");
        let e = Target::parse("postgres://kb@db/kb?sslmode=always").unwrap_err();
        assert!(e.to_string().contains("sslmode 'always'"), "{e}");
    }

    #[test]
    fn a_password_in_the_query_is_refused_without_being_shown() {
        let e = Target::parse("postgresql://kb@db/kb?password=s3cret").unwrap_err();
        assert!(e.to_string().contains("database_password_file"), "{e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}
