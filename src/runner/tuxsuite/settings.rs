//! TuxSuite settings, read from the places the official `tuxsuite` client
//! reads them, so a user with a working TuxSuite setup configures nothing.
//!
//! Token, group, project and API URL come from `TUXSUITE_TOKEN`,
//! `TUXSUITE_GROUP`, `TUXSUITE_PROJECT` and `TUXAPI_URL`, else from the INI
//! file (`$TUXSUITE_CONFIG`, else `$XDG_CONFIG_HOME/tuxsuite/config.ini`),
//! section `$TUXSUITE_ENV` (default `default`). A missing group or project
//! is asked of the auth service, as the official client does.

use std::path::PathBuf;
use std::time::Duration;

use ini::{Ini, ParseOption};

use crate::config::{ConfigError, Environment};
use crate::http;
use crate::runner::{ConfigRow, OpenError};

const DEFAULT_API_URL: &str = "https://tuxapi.tuxsuite.com";
const DEFAULT_AUTH_URL: &str = "https://auth.tuxsuite.com";

/// Resolved TuxSuite settings.
#[derive(Clone)]
pub struct Settings {
    pub token: String,
    /// Where the token came from, for the message when it is refused.
    pub token_source: String,
    pub group: String,
    pub project: String,
    /// Without a trailing `/`.
    pub api_url: String,
    /// Where the API URL, group and project came from, for errors that
    /// suggest checking them.
    pub sources: Sources,
}

/// Where each of the account's settings was found.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub api_url: String,
    pub group: String,
    pub project: String,
}

// The token must never reach a log or an error message.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("token", &"<redacted>")
            .field("group", &self.group)
            .field("project", &self.project)
            .field("api_url", &self.api_url)
            .finish()
    }
}

/// The INI file and the section that applies.
struct IniSection {
    path: PathBuf,
    section: String,
    /// `None` when the file does not exist.
    values: Option<Vec<(String, String)>>,
}

impl IniSection {
    fn load(env: &Environment) -> Result<IniSection, ConfigError> {
        let path = match env.get("TUXSUITE_CONFIG") {
            Some(p) => PathBuf::from(p),
            None => env
                .config_home()
                .unwrap_or_else(|| PathBuf::from("~/.config"))
                .join("tuxsuite")
                .join("config.ini"),
        };
        let section = env.get("TUXSUITE_ENV").unwrap_or("default").to_string();
        if !path.exists() {
            return Ok(IniSection {
                path,
                section,
                values: None,
            });
        }
        // Python's configparser, which the official client uses, takes
        // values literally: no quotes, no escapes.
        let opt = ParseOption {
            enabled_quote: false,
            enabled_escape: false,
            ..ParseOption::default()
        };
        let ini = Ini::load_from_file_opt(&path, opt).map_err(|e| {
            ConfigError::Runner(format!(
                "cannot read TuxSuite config {}: {e}; fix it or set TUXSUITE_CONFIG",
                path.display()
            ))
        })?;
        if ini.section(Some(section.as_str())).is_none() {
            let present: Vec<String> = ini
                .sections()
                .flatten()
                .map(|name| format!("[{name}]"))
                .collect();
            let present = if present.is_empty() {
                "it has no sections".to_string()
            } else {
                format!("sections present: {}", present.join(", "))
            };
            let chosen = match env.get("TUXSUITE_ENV") {
                Some(_) => format!(" (chosen by TUXSUITE_ENV={section})"),
                None => String::new(),
            };
            return Err(ConfigError::Runner(format!(
                "TuxSuite config {} has no section [{section}]{chosen}; {present}; set TUXSUITE_ENV to one of them or add the section",
                path.display()
            )));
        }
        let values = ini
            .section(Some(section.as_str()))
            .map(|props| {
                props
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(IniSection {
            path,
            section,
            values: Some(values),
        })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .as_ref()?
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// "`token=` in section \[default\] of FILE (file not found)".
    fn describe(&self, key: &str) -> String {
        let state = if self.values.is_none() {
            " (file not found)"
        } else {
            ""
        };
        format!(
            "{key}= in section [{}] of {}{state}",
            self.section,
            self.path.display()
        )
    }
}

/// The token systemd passed as the `tuxsuite-token` credential, and where
/// it came from.
fn credential_token(env: &Environment) -> Option<(String, String)> {
    let path = env.credential(super::TOKEN_CREDENTIAL)?;
    let token = std::fs::read_to_string(&path).ok()?.trim().to_string();
    Some((token, format!("the systemd credential {}", path.display())))
}

impl Settings {
    /// Resolves the settings, asking the auth service for a missing group
    /// or project. A malformed setting is a configuration error; an auth
    /// service that cannot be reached is not.
    pub fn resolve(env: &Environment, timeout: Duration) -> Result<Settings, OpenError> {
        let ini = IniSection::load(env)?;
        let credential = credential_token(env);
        let (token, token_source) = match (env.get("TUXSUITE_TOKEN"), credential) {
            (Some(t), _) => (t.trim().to_string(), "TUXSUITE_TOKEN".to_string()),
            (None, Some(c)) => c,
            (None, None) => match ini.get("token") {
                Some(t) => (t.to_string(), ini.describe("token")),
                None => {
                    return Err(ConfigError::Runner(format!(
                        "no TuxSuite token: TUXSUITE_TOKEN is not set and there is no {}; set one of them (`tuxsuite` keeps its token there)",
                        ini.describe("token")
                    ))
                    .into())
                }
            },
        };
        if token.bytes().any(|b| b.is_ascii_control()) {
            return Err(ConfigError::Runner(format!(
                "the TuxSuite token from {token_source} contains a control character (a line break?); fix it there"
            ))
            .into());
        }
        crate::secrets::register(&token);
        let api = api_url_from(env, &ini)?;
        let api_url = api.value;
        let from = |var: &str, key: &str| match env.get(var) {
            Some(v) => Some((v.to_string(), format!("env {var}"))),
            None => ini.get(key).map(|v| (v.to_string(), ini.describe(key))),
        };
        let (mut group, mut group_source) = from("TUXSUITE_GROUP", "group").unzip();
        let (mut project, mut project_source) = from("TUXSUITE_PROJECT", "project").unzip();
        if group.is_none() || project.is_none() {
            let auth = env
                .get("TUXAUTH_URL")
                .unwrap_or(DEFAULT_AUTH_URL)
                .trim_end_matches('/');
            let advice = format!(
                "set TUXSUITE_GROUP and TUXSUITE_PROJECT, or group= and project= in {}",
                ini.path.display()
            );
            let (g, p) = lookup_user(auth, &token, timeout).map_err(|e| match e {
                Lookup::Unreachable(why) => OpenError::Unreachable(format!(
                    "TuxSuite group or project not set, and the auth service could not be reached to ask ({why}); try again, or {advice}"
                )),
                Lookup::Refused(why) => OpenError::Config(ConfigError::Runner(format!(
                    "TuxSuite group or project not set and the auth service could not tell them ({why}); {advice}"
                ))),
            })?;
            let asked = format!("the auth service {auth}");
            group = group.or(Some(g));
            project = project.or(Some(p));
            group_source = group_source.or(Some(asked.clone()));
            project_source = project_source.or(Some(asked));
        }
        Ok(Settings {
            token,
            token_source,
            group: group.expect("set above"),
            project: project.expect("set above"),
            api_url,
            sources: Sources {
                api_url: api.source,
                group: group_source.expect("set with the group"),
                project: project_source.expect("set with the project"),
            },
        })
    }

    /// Settings for a dry run that could not resolve the account: what is
    /// set is used, what is missing is a placeholder (`<group>`,
    /// `<project>`), and the note says which settings are missing. Nothing
    /// is asked of the network; a malformed setting is still an error.
    pub fn placeholder(env: &Environment, why: &str) -> Result<(Settings, String), ConfigError> {
        let ini = IniSection::load(env)?;
        let api_url = api_url_from(env, &ini)?.value;
        let mut missing = Vec::new();
        let mut value = |var: &'static str, key: &str| {
            env.get(var)
                .or_else(|| ini.get(key))
                .map(str::to_string)
                .unwrap_or_else(|| {
                    missing.push(var);
                    format!("<{key}>")
                })
        };
        let group = value("TUXSUITE_GROUP", "group");
        let project = value("TUXSUITE_PROJECT", "project");
        if Settings::token_if_any(env).is_none() {
            missing.insert(0, "TUXSUITE_TOKEN");
        }
        let note = if missing.is_empty() {
            format!("dry run without a usable TuxSuite account ({why}); the request is what would be sent once it is fixed")
        } else {
            format!(
                "dry run without a TuxSuite account: {} not set, so placeholders stand in the request; set {} (or their keys in {}) to schedule for real",
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" },
                ini.path.display()
            )
        };
        Ok((
            Settings {
                token: String::new(),
                token_source: "nowhere (dry run)".into(),
                group,
                project,
                api_url,
                sources: Sources::default(),
            },
            note,
        ))
    }

    /// The API base URL alone, for a listener that needs no token.
    pub fn api_url(env: &Environment) -> Result<String, ConfigError> {
        Ok(api_url_from(env, &IniSection::load(env)?)?.value)
    }

    /// What `kbridge config` shows: where the API URL, group, project and
    /// token come from. Never the token itself; nothing is asked of the
    /// network.
    pub fn describe(env: &Environment) -> Vec<ConfigRow> {
        let row = |key: &str, value: String, source: String| ConfigRow {
            key: format!("tuxsuite.{key}"),
            value,
            source,
        };
        let ini = match IniSection::load(env) {
            Ok(ini) => ini,
            Err(e) => return vec![row("config_file", String::new(), e.to_string())],
        };
        let mut rows = vec![row(
            "config_file",
            ini.path.display().to_string(),
            format!(
                "section [{}]{}",
                ini.section,
                if ini.values.is_none() {
                    ", file not found"
                } else {
                    ""
                }
            ),
        )];
        match api_url_from(env, &ini) {
            Ok(Found { value, source }) => rows.push(row("api_url", value, source)),
            Err(e) => rows.push(row("api_url", String::new(), e.to_string())),
        }
        let pick = |var: &str, key: &str| -> (String, String) {
            match (env.get(var), ini.get(key)) {
                (Some(v), _) => (v.to_string(), format!("env {var}")),
                (None, Some(v)) => (v.to_string(), ini.describe(key)),
                (None, None) => (
                    String::new(),
                    "not set: asked of the auth service when scheduling".into(),
                ),
            }
        };
        let (group, from) = pick("TUXSUITE_GROUP", "group");
        rows.push(row("group", group, from));
        let (project, from) = pick("TUXSUITE_PROJECT", "project");
        rows.push(row("project", project, from));
        let token_source = match (env.get("TUXSUITE_TOKEN"), ini.get("token")) {
            (Some(_), _) => Some("env TUXSUITE_TOKEN".to_string()),
            (None, Some(_)) => Some(ini.describe("token")),
            (None, None) => None,
        };
        rows.push(match token_source {
            Some(from) => row("token", "(set)".into(), from),
            None => row(
                "token",
                "(not set)".into(),
                format!("looked in TUXSUITE_TOKEN and {}", ini.describe("token")),
            ),
        });
        rows
    }

    /// The token, if one is configured, for fetching private artefacts.
    pub fn token_if_any(env: &Environment) -> Option<String> {
        let token = env
            .get("TUXSUITE_TOKEN")
            .map(|t| t.trim().to_string())
            .or_else(|| credential_token(env).map(|(t, _)| t))
            .or_else(|| IniSection::load(env).ok()?.get("token").map(str::to_string))?;
        crate::secrets::register(&token);
        // A token that cannot be a header value is never sent.
        (!token.bytes().any(|b| b.is_ascii_control())).then_some(token)
    }

    /// `{api}/v1/groups/{group}/projects/{project}`.
    pub fn project_url(&self) -> String {
        format!(
            "{}/v1/groups/{}/projects/{}",
            self.api_url, self.group, self.project
        )
    }
}

/// The API base URL and where it came from, checked: a URL without a
/// scheme would otherwise look like a request that may have been sent.
fn api_url_from(env: &Environment, ini: &IniSection) -> Result<Found, ConfigError> {
    let (raw, source) = match (env.get("TUXAPI_URL"), ini.get("tuxapi_url")) {
        (Some(v), _) => (v, "env TUXAPI_URL".to_string()),
        (None, Some(v)) => (v, ini.describe("tuxapi_url")),
        (None, None) => (DEFAULT_API_URL, "default".to_string()),
    };
    let url = raw.trim().trim_end_matches('/');
    let ok = url.parse::<::http::Uri>().ok().is_some_and(|u| {
        matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty())
    });
    if !ok {
        return Err(ConfigError::Runner(format!(
            "the TuxSuite API URL '{}' from {source} is not an absolute http(s) URL; give it as https://host[:port]",
            http::redact_url(raw)
        )));
    }
    Ok(Found {
        value: url.to_string(),
        source,
    })
}

/// A TuxSuite setting and where it was found, in words.
struct Found {
    value: String,
    source: String,
}

/// Why the auth service could not say which group and project a token
/// belongs to.
enum Lookup {
    /// No answer: the network, not the configuration.
    Unreachable(String),
    /// It answered, but not with a group and project.
    Refused(String),
}

/// Asks the auth service which group and project a token belongs to, as
/// the official client does: `GET {auth}/v1/tokens/{uuid3(DNS, token)}`.
fn lookup_user(auth: &str, token: &str, timeout: Duration) -> Result<(String, String), Lookup> {
    let id = uuid::Uuid::new_v3(&uuid::Uuid::NAMESPACE_DNS, token.as_bytes());
    let url = format!("{auth}/v1/tokens/{id}");
    let shown = http::redact_url(auth);
    let mut resp = http::agent(timeout)
        .get(&url)
        .header("Authorization", token)
        .call()
        .map_err(|e| Lookup::Unreachable(format!("{shown}: {}", http::describe(&e, timeout))))?;
    let status = resp.status();
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| Lookup::Unreachable(format!("{shown}: {e}")))?;
    if status.is_server_error() {
        return Err(Lookup::Unreachable(format!("{shown} answered {status}")));
    }
    if !status.is_success() {
        return Err(Lookup::Refused(format!(
            "{shown} answered {status}: {}",
            http::one_line(&text)
        )));
    }
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|_| Lookup::Refused(format!("{shown} answered with non-JSON")))?;
    let details = &v["UserDetails"];
    let group = details["Groups"][0].as_str().filter(|s| !s.is_empty());
    let project = details["Name"].as_str().filter(|s| !s.is_empty());
    match (group, project) {
        (Some(g), Some(p)) => Ok((g.to_string(), p.to_string())),
        _ => Err(Lookup::Refused(format!(
            "{shown} answered without UserDetails.Groups and Name"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_beats_file_and_section_is_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.ini");
        std::fs::write(
            &file,
            "[default]\ntoken=filetoken\ngroup=g1\nproject=p1\n\n[staging]\nTOKEN = stagetoken\ngroup=g2\nproject=p2\ntuxapi_url=https://staging.example/\n",
        )
        .unwrap();
        let file = file.to_str().unwrap();
        let s = Settings::resolve(
            &Environment::from_pairs([("TUXSUITE_CONFIG", file)]),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!((s.token.as_str(), s.group.as_str()), ("filetoken", "g1"));
        assert_eq!(s.api_url, DEFAULT_API_URL);

        let s = Settings::resolve(
            &Environment::from_pairs([
                ("TUXSUITE_CONFIG", file),
                ("TUXSUITE_ENV", "staging"),
                ("TUXSUITE_PROJECT", "envproject"),
            ]),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(s.token, "stagetoken");
        assert_eq!(s.project, "envproject");
        assert_eq!(
            s.project_url(),
            "https://staging.example/v1/groups/g2/projects/envproject"
        );
        assert!(!format!("{s:?}").contains("stagetoken"));
    }

    #[test]
    fn missing_token_names_every_place_looked() {
        let err = Settings::resolve(
            &Environment::from_pairs([("XDG_CONFIG_HOME", "/nonexistent")]),
            Duration::from_secs(1),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("TUXSUITE_TOKEN"), "{err}");
        assert!(
            err.contains("/nonexistent/tuxsuite/config.ini (file not found)"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
    }
}
