//! Where KCIDB documents go: the endpoint and its token, resolved from
//! the settings once, for the commands that deliver, check or show it.

use crate::config::{keys, read_secret_file, Config, ConfigError, Source};
use crate::http;
use crate::kcidb::client::Endpoint;
use crate::secrets::Secret;

/// Finds the endpoint, in precedence order: `--kcidb-url` and
/// `--kcidb-token-file`; `KCIDB_REST` (token in the userinfo);
/// `KBRIDGE_KCIDB_URL` and `KBRIDGE_KCIDB_TOKEN`; `url` and
/// `token_file` under `[kcidb]`. `None` when no URL is set anywhere.
pub fn resolve(config: &Config) -> Result<Option<Endpoint>, ConfigError> {
    let url = config.get(keys::KCIDB_URL);
    let rest = config
        .get(keys::KCIDB_REST)
        .map(|s| parse_rest(&s.value))
        .transpose()?;
    let token_file = config.get(keys::KCIDB_TOKEN_FILE);
    let token_env = config.get(keys::KCIDB_TOKEN);

    let from_flag = |s: &Source| matches!(s, Source::Flag(_));
    let (url, url_source) = match (&url, &rest) {
        (Some(u), _) if from_flag(&u.source) => (u.value.clone(), u.source.to_string()),
        (_, Some((rest_url, _))) => (rest_url.clone(), "env KCIDB_REST".to_string()),
        (Some(u), None) => (u.value.clone(), u.source.to_string()),
        (None, None) => {
            if let Some(t) = token_env {
                return Err(ConfigError::Runner(format!(
                    "a KCIDB token is set ({}) but no KCIDB URL; set --kcidb-url, KBRIDGE_KCIDB_URL or url under [kcidb]",
                    t.source
                )));
            }
            return Ok(None);
        }
    };
    let token = match (&token_file, &rest, &token_env) {
        (Some(f), _, _) if from_flag(&f.source) => {
            (read_secret_file(&f.value, "the KCIDB token", &f.source)?, f.source.to_string())
        }
        (_, Some((_, t)), _) => (t.clone(), "env KCIDB_REST".to_string()),
        (_, _, Some(t)) => (Secret::new(t.value.clone()), t.source.to_string()),
        (Some(f), _, _) => (read_secret_file(&f.value, "the KCIDB token", &f.source)?, f.source.to_string()),
        // Under systemd, LoadCredential=kcidb-token:….
        (None, None, None) if config.env.credential(TOKEN_CREDENTIAL).is_some() => {
            let path = config.env.credential(TOKEN_CREDENTIAL).expect("checked");
            let source = Source::Env("CREDENTIALS_DIRECTORY");
            (
                read_secret_file(&path, "the KCIDB token", &source)?,
                format!("the systemd credential {}", path.display()),
            )
        }
        (None, None, None) => {
            return Err(ConfigError::Runner(format!(
                "the KCIDB URL is set ({url_source}) but no token: give --kcidb-token-file FILE, KBRIDGE_KCIDB_TOKEN, token_file under [kcidb], or KCIDB_REST (KCIDB's URL with the token as its user part)"
            )))
        }
    };
    if let Some(base) = url.strip_suffix("/submit") {
        return Err(ConfigError::Runner(format!(
            "the KCIDB URL {} (from {url_source}) ends in /submit, which kbridge adds itself: drop /submit and give {}",
            http::redact_url(&url),
            http::redact_url(base)
        )));
    }
    Ok(Some(Endpoint {
        url,
        token: token.0,
        url_source,
        token_source: token.1,
    }))
}

/// The systemd credential holding the KCIDB token.
const TOKEN_CREDENTIAL: &str = "kcidb-token";

/// `https://TOKEN@host[/path]` → the URL without userinfo, and the token.
fn parse_rest(raw: &str) -> Result<(String, Secret), ConfigError> {
    let bad = |why: &str| {
        ConfigError::Runner(format!(
            "KCIDB_REST ({}) {why}; give KCIDB's https URL with the token as its user part, before the host",
            http::redact_url(raw)
        ))
    };
    let raw = raw.trim();
    let (scheme, _) = raw.split_once("://").ok_or_else(|| bad("is not a URL"))?;
    if !matches!(scheme, "https" | "http") {
        return Err(bad("is not an http(s) URL"));
    }
    let userinfo = crate::urls::userinfo(raw).ok_or_else(|| bad("has no token before the host"))?;
    // A token given as user:password keeps both parts, as KernelCI's tools
    // send the whole userinfo.
    let token = raw[userinfo].trim();
    let (url, _) = crate::urls::without_userinfo(raw);
    let url = url.trim_end_matches('/');
    if token.is_empty() || url.len() <= scheme.len() + 3 {
        return Err(bad("has no token or no host"));
    }
    Ok((url.to_string(), Secret::new(token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kcidb_rest_carries_the_token_in_its_userinfo() {
        let (url, token) = parse_rest("https://eyJ.tok.en@db.kernelci.org/").unwrap();
        assert_eq!(url, "https://db.kernelci.org");
        assert_eq!(token.expose(), "eyJ.tok.en");
        let (url, _) = parse_rest("http://t@127.0.0.1:8080/api").unwrap();
        assert_eq!(url, "http://127.0.0.1:8080/api");
        let err = parse_rest("https://db.kernelci.org")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no token"), "{err}");
        let err = parse_rest("db.kernelci.org").unwrap_err().to_string();
        assert!(err.contains("the token as its user part"), "{err}");
        let err = parse_rest("ftp://s3cret@x").unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(!format!("{token:?}").contains("tok"));
    }
}
