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
use crate::runner::http;

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

impl Settings {
    /// Resolves the settings, asking the auth service for a missing group
    /// or project.
    pub fn resolve(env: &Environment, timeout: Duration) -> Result<Settings, ConfigError> {
        let ini = IniSection::load(env)?;
        let (token, token_source) = match env.get("TUXSUITE_TOKEN") {
            Some(t) => (t.trim().to_string(), "TUXSUITE_TOKEN".to_string()),
            None => match ini.get("token") {
                Some(t) => (t.to_string(), ini.describe("token")),
                None => {
                    return Err(ConfigError::Runner(format!(
                        "no TuxSuite token: TUXSUITE_TOKEN is not set and there is no {}; set one of them (`tuxsuite` keeps its token there)",
                        ini.describe("token")
                    )))
                }
            },
        };
        let api_url = api_url_from(env, &ini);

        let mut group = env
            .get("TUXSUITE_GROUP")
            .or_else(|| ini.get("group"))
            .map(str::to_string);
        let mut project = env
            .get("TUXSUITE_PROJECT")
            .or_else(|| ini.get("project"))
            .map(str::to_string);
        if group.is_none() || project.is_none() {
            let auth = env
                .get("TUXAUTH_URL")
                .unwrap_or(DEFAULT_AUTH_URL)
                .trim_end_matches('/');
            let (g, p) = lookup_user(auth, &token, timeout).map_err(|why| {
                ConfigError::Runner(format!(
                    "TuxSuite group or project not set and the auth service could not tell them ({why}); set TUXSUITE_GROUP and TUXSUITE_PROJECT, or group= and project= in {}",
                    ini.path.display()
                ))
            })?;
            group = group.or(Some(g));
            project = project.or(Some(p));
        }
        Ok(Settings {
            token,
            token_source,
            group: group.expect("set above"),
            project: project.expect("set above"),
            api_url,
        })
    }

    /// The API base URL alone, for a listener that needs no token.
    pub fn api_url(env: &Environment) -> Result<String, ConfigError> {
        Ok(api_url_from(env, &IniSection::load(env)?))
    }

    /// The token, if one is configured, for fetching private artefacts.
    pub fn token_if_any(env: &Environment) -> Option<String> {
        env.get("TUXSUITE_TOKEN")
            .map(|t| t.trim().to_string())
            .or_else(|| IniSection::load(env).ok()?.get("token").map(str::to_string))
    }

    /// `{api}/v1/groups/{group}/projects/{project}`.
    pub fn project_url(&self) -> String {
        format!(
            "{}/v1/groups/{}/projects/{}",
            self.api_url, self.group, self.project
        )
    }
}

fn api_url_from(env: &Environment, ini: &IniSection) -> String {
    env.get("TUXAPI_URL")
        .or_else(|| ini.get("tuxapi_url"))
        .unwrap_or(DEFAULT_API_URL)
        .trim_end_matches('/')
        .to_string()
}

/// Asks the auth service which group and project a token belongs to, as
/// the official client does: `GET {auth}/v1/tokens/{uuid3(DNS, token)}`.
fn lookup_user(auth: &str, token: &str, timeout: Duration) -> Result<(String, String), String> {
    let id = uuid::Uuid::new_v3(&uuid::Uuid::NAMESPACE_DNS, token.as_bytes());
    let url = format!("{auth}/v1/tokens/{id}");
    let mut resp = http::agent(timeout)
        .get(&url)
        .header("Authorization", token)
        .call()
        .map_err(|e| format!("{auth}: {}", http::describe(&e, timeout)))?;
    let status = resp.status();
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("{auth}: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "{auth} answered {status}: {}",
            http::one_line(&text)
        ));
    }
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| format!("{auth} answered with non-JSON"))?;
    let details = &v["UserDetails"];
    let group = details["Groups"][0].as_str().filter(|s| !s.is_empty());
    let project = details["Name"].as_str().filter(|s| !s.is_empty());
    match (group, project) {
        (Some(g), Some(p)) => Ok((g.to_string(), p.to_string())),
        _ => Err(format!(
            "{auth} answered without UserDetails.Groups and Name"
        )),
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
