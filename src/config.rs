//! Settings: where each one comes from and which source wins.
//!
//! Precedence is flag, then environment (`KBRIDGE_*`), then the TOML file,
//! then the built-in default. Every setting remembers its [`Source`], so
//! `kbridge config` can say why a value is what it is and a value the user
//! never gave stays distinguishable from a default.
//!
//! This is the only module that reads the process environment. It takes one
//! snapshot ([`Environment`]) and hands it to whoever needs a variable, such
//! as runners that honour their own service's variables; tests build the
//! snapshot by hand.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::model::is_valid_origin;

/// A snapshot of the process environment.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// Captures the current process environment. Variables that are not
    /// valid UTF-8 are left out.
    pub fn from_process() -> Environment {
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// Builds a snapshot from explicit pairs.
    #[cfg(test)]
    pub fn from_pairs<I, K, V>(pairs: I) -> Environment
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Environment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable's value; an empty value counts as unset, as in most tools.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }

    /// `$XDG_CONFIG_HOME`, else `$HOME/.config`.
    pub fn config_home(&self) -> Option<PathBuf> {
        self.get("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| self.home().map(|h| h.join(".config")))
    }

    /// `$XDG_DATA_HOME`, else `$HOME/.local/share`.
    pub fn data_home(&self) -> Option<PathBuf> {
        self.get("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| self.home().map(|h| h.join(".local").join("share")))
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(name) => write!(f, "flag {name}"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

/// A resolved value and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

/// Values given on the command line; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub db: Option<PathBuf>,
    pub callback_url: Option<String>,
    pub bind: Option<String>,
    pub output_dir: Option<PathBuf>,
    pub max_body: Option<u64>,
    /// Files with TuxSuite public keys (`--tuxsuite-public-key`).
    pub tuxsuite_public_keys: Vec<PathBuf>,
    /// Hosts results may be fetched from (`--allow-artifact-host`).
    pub artifact_hosts: Vec<String>,
}

/// Why the settings could not be resolved. Always a configuration error
/// (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}; fix the path given by {given_by}", path.display())]
    Read {
        path: PathBuf,
        given_by: Source,
        source: std::io::Error,
    },
    #[error("config file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{key} from {from}: {message}")]
    Invalid {
        key: &'static str,
        from: Source,
        message: String,
    },
    #[error("cannot tell where to keep the database: neither XDG_DATA_HOME nor HOME is set; pass --db PATH or set KBRIDGE_DB")]
    NoDataHome,
    /// A runner's own settings are missing or wrong.
    #[error("{0}")]
    Runner(String),
}

/// The TOML file's shape. Unknown keys are refused, so a typo is reported
/// instead of silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database: Option<PathBuf>,
    callback_url: Option<String>,
    origin: Option<String>,
    http_timeout: Option<f64>,
    retry_delay: Option<f64>,
    bind: Option<String>,
    output_dir: Option<PathBuf>,
    max_body: Option<u64>,
    header_timeout: Option<f64>,
    fetch_retry_for: Option<f64>,
    tuxsuite: Option<RunnerFileSettings>,
}

/// A runner's table in the TOML file, such as `[tuxsuite]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunnerFileSettings {
    #[serde(default)]
    public_keys: Vec<String>,
    artifact_hosts: Option<Vec<String>>,
}

/// Settings a runner needs to receive callbacks.
#[derive(Debug, Clone, Default)]
pub struct RunnerSettings {
    /// OpenSSH public key lines that may sign callbacks, with where each
    /// came from.
    pub public_keys: Vec<(String, Source)>,
    /// Hosts results may be fetched from; `None` means the runner's own
    /// defaults.
    pub artifact_hosts: Option<Setting<Vec<String>>>,
}

/// Every resolved setting.
#[derive(Debug, Clone)]
pub struct Config {
    /// The TOML file that was read, if any.
    pub file: Option<PathBuf>,
    /// SQLite database path.
    pub database: Setting<PathBuf>,
    /// Public base URL of `kbridge listen`, without a trailing slash.
    pub callback_url: Option<Setting<String>>,
    /// KCIDB origin of everything kbridge reports.
    pub origin: Setting<String>,
    /// How long to wait for a runner to answer one request.
    pub http_timeout: Setting<Duration>,
    /// The first pause before retrying a request; later pauses double.
    pub retry_delay: Setting<Duration>,
    /// Address `kbridge listen` binds.
    pub bind: Setting<String>,
    /// Where `kbridge listen` writes KCIDB documents.
    pub output_dir: Setting<PathBuf>,
    /// The largest callback body accepted, in bytes.
    pub max_body: Setting<u64>,
    /// How long a client may take to send its request headers.
    pub header_timeout: Setting<Duration>,
    /// How long fetching a job's results is retried before giving up.
    pub fetch_retry_for: Setting<Duration>,
    /// Per-runner callback settings, by runner code.
    pub runners: BTreeMap<&'static str, RunnerSettings>,
    /// The environment snapshot the settings were resolved from.
    pub env: Environment,
}

const DEFAULT_ORIGIN: &str = "kbridge";
const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(2);
const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_MAX_BODY: u64 = 1024 * 1024;
const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_FETCH_RETRY_FOR: Duration = Duration::from_secs(3600);

impl Config {
    /// Resolves every setting from the command line, the environment and
    /// the TOML file.
    pub fn load(flags: &Overrides, env: Environment) -> Result<Config, ConfigError> {
        let (file, settings) = read_file(flags, &env)?;
        let file_source = || Source::File(file.clone().unwrap_or_default());
        let file_dir = file
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);

        // Defaults for paths live under the XDG data directory.
        let in_data_dir = |name: &str| -> Result<Setting<PathBuf>, ConfigError> {
            Ok(Setting {
                value: env
                    .data_home()
                    .ok_or(ConfigError::NoDataHome)?
                    .join("kbridge")
                    .join(name),
                source: Source::Default,
            })
        };
        let database = path_setting(
            flags.db.clone(),
            ("--db", "KBRIDGE_DB"),
            settings.database,
            &env,
            file_dir.as_deref(),
            &file_source,
        )
        .map_or_else(|| in_data_dir("kbridge.db"), Ok)?;
        let output_dir = path_setting(
            flags.output_dir.clone(),
            ("--output-dir", "KBRIDGE_OUTPUT_DIR"),
            settings.output_dir,
            &env,
            file_dir.as_deref(),
            &file_source,
        )
        .map_or_else(|| in_data_dir("kcidb"), Ok)?;
        let bind = pick(
            flags.bind.clone(),
            ("--bind", "KBRIDGE_BIND"),
            settings.bind,
            &env,
            &file_source,
        )
        .unwrap_or(Setting {
            value: DEFAULT_BIND.into(),
            source: Source::Default,
        });
        let max_body = match (
            flags.max_body,
            env.get("KBRIDGE_MAX_BODY"),
            settings.max_body,
        ) {
            (Some(v), _, _) => Setting {
                value: v,
                source: Source::Flag("--max-body"),
            },
            (None, Some(v), _) => Setting {
                value: v.trim().parse().map_err(|_| ConfigError::Invalid {
                    key: "max_body",
                    from: Source::Env("KBRIDGE_MAX_BODY"),
                    message: format!("'{v}' is not a number of bytes"),
                })?,
                source: Source::Env("KBRIDGE_MAX_BODY"),
            },
            (None, None, Some(v)) => Setting {
                value: v,
                source: file_source(),
            },
            (None, None, None) => Setting {
                value: DEFAULT_MAX_BODY,
                source: Source::Default,
            },
        };
        let header_timeout = seconds(
            "header_timeout",
            "KBRIDGE_HEADER_TIMEOUT",
            settings.header_timeout,
            DEFAULT_HEADER_TIMEOUT,
            &env,
            &file_source,
        )?;
        let fetch_retry_for = seconds(
            "fetch_retry_for",
            "KBRIDGE_FETCH_RETRY_FOR",
            settings.fetch_retry_for,
            DEFAULT_FETCH_RETRY_FOR,
            &env,
            &file_source,
        )?;
        let runners = BTreeMap::from([(
            "tuxsuite",
            runner_settings(
                &flags.tuxsuite_public_keys,
                &flags.artifact_hosts,
                settings.tuxsuite.unwrap_or_default(),
                file_dir.as_deref(),
                &file_source,
            )?,
        )]);

        let callback_url = pick(
            flags.callback_url.clone(),
            ("--callback-url", "KBRIDGE_CALLBACK_URL"),
            settings.callback_url,
            &env,
            &file_source,
        )
        .map(|s| {
            validate_callback_url(&s.value)
                .map(|value| Setting {
                    value,
                    source: s.source.clone(),
                })
                .map_err(|message| ConfigError::Invalid {
                    key: "callback_url",
                    from: s.source,
                    message,
                })
        })
        .transpose()?;

        let origin = pick(
            None,
            ("", "KBRIDGE_ORIGIN"),
            settings.origin,
            &env,
            &file_source,
        )
        .unwrap_or(Setting {
            value: DEFAULT_ORIGIN.into(),
            source: Source::Default,
        });
        if !is_valid_origin(&origin.value) {
            return Err(ConfigError::Invalid {
                key: "origin",
                from: origin.source,
                message: format!(
                    "'{}' is not a KCIDB origin; use lower-case letters, digits and '_' only",
                    origin.value
                ),
            });
        }

        let http_timeout = seconds(
            "http_timeout",
            "KBRIDGE_HTTP_TIMEOUT",
            settings.http_timeout,
            DEFAULT_HTTP_TIMEOUT,
            &env,
            &file_source,
        )?;
        let retry_delay = seconds(
            "retry_delay",
            "KBRIDGE_RETRY_DELAY",
            settings.retry_delay,
            DEFAULT_RETRY_DELAY,
            &env,
            &file_source,
        )?;

        Ok(Config {
            file,
            database,
            callback_url,
            origin,
            http_timeout,
            retry_delay,
            bind,
            output_dir,
            max_body,
            header_timeout,
            fetch_retry_for,
            runners,
            env,
        })
    }

    /// A runner's callback settings (empty for a runner with none).
    pub fn runner_settings(&self, code: &str) -> RunnerSettings {
        self.runners.get(code).cloned().unwrap_or_default()
    }
}

/// Picks flag, then env, then file for a path; a relative path in the file
/// is relative to the file, so the file means the same thing whatever the
/// working directory.
fn path_setting(
    flag: Option<PathBuf>,
    (flag_name, env_name): (&'static str, &'static str),
    file: Option<PathBuf>,
    env: &Environment,
    file_dir: Option<&Path>,
    file_source: &dyn Fn() -> Source,
) -> Option<Setting<PathBuf>> {
    if let Some(value) = flag {
        return Some(Setting {
            value,
            source: Source::Flag(flag_name),
        });
    }
    if let Some(value) = env.get(env_name) {
        return Some(Setting {
            value: PathBuf::from(value),
            source: Source::Env(env_name),
        });
    }
    file.map(|p| Setting {
        value: relative_to(file_dir, p),
        source: file_source(),
    })
}

/// A path from the config file: relative ones are relative to the file.
fn relative_to(file_dir: Option<&Path>, p: PathBuf) -> PathBuf {
    match file_dir {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p,
    }
}

/// Reads public keys from `--tuxsuite-public-key` files and the file's
/// `public_keys` (each a key line or the path of a file of key lines), and
/// the artefact hosts (flags replace the file's list).
fn runner_settings(
    key_files: &[PathBuf],
    flag_hosts: &[String],
    file: RunnerFileSettings,
    file_dir: Option<&Path>,
    file_source: &dyn Fn() -> Source,
) -> Result<RunnerSettings, ConfigError> {
    let mut public_keys = Vec::new();
    let read_keys = |path: &Path, source: Source| -> Result<Vec<(String, Source)>, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
            key: "tuxsuite.public_keys",
            from: source.clone(),
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| (l.to_string(), source.clone()))
            .collect())
    };
    for path in key_files {
        public_keys.extend(read_keys(path, Source::Flag("--tuxsuite-public-key"))?);
    }
    for entry in file.public_keys {
        let entry = entry.trim();
        let is_key_line = ["ecdsa-", "ssh-", "sk-"]
            .iter()
            .any(|p| entry.starts_with(p));
        if is_key_line {
            public_keys.push((entry.to_string(), file_source()));
        } else {
            let p = relative_to(file_dir, PathBuf::from(entry));
            public_keys.extend(read_keys(&p, file_source())?);
        }
    }
    let artifact_hosts = if flag_hosts.is_empty() {
        file.artifact_hosts.map(|value| Setting {
            value,
            source: file_source(),
        })
    } else {
        Some(Setting {
            value: flag_hosts.to_vec(),
            source: Source::Flag("--allow-artifact-host"),
        })
    };
    Ok(RunnerSettings {
        public_keys,
        artifact_hosts,
    })
}

/// Picks flag, then env, then file for a string setting.
fn pick(
    flag: Option<String>,
    (flag_name, env_name): (&'static str, &'static str),
    file: Option<String>,
    env: &Environment,
    file_source: &dyn Fn() -> Source,
) -> Option<Setting<String>> {
    if let Some(value) = flag {
        return Some(Setting {
            value,
            source: Source::Flag(flag_name),
        });
    }
    if let Some(value) = env.get(env_name) {
        return Some(Setting {
            value: value.to_string(),
            source: Source::Env(env_name),
        });
    }
    file.map(|value| Setting {
        value,
        source: file_source(),
    })
}

fn seconds(
    key: &'static str,
    env_name: &'static str,
    file: Option<f64>,
    default: Duration,
    env: &Environment,
    file_source: &dyn Fn() -> Source,
) -> Result<Setting<Duration>, ConfigError> {
    let (raw, source) = if let Some(v) = env.get(env_name) {
        let parsed = v.trim().parse::<f64>().map_err(|_| ConfigError::Invalid {
            key,
            from: Source::Env(env_name),
            message: format!("'{v}' is not a number of seconds"),
        })?;
        (parsed, Source::Env(env_name))
    } else if let Some(v) = file {
        (v, file_source())
    } else {
        return Ok(Setting {
            value: default,
            source: Source::Default,
        });
    };
    let value = Duration::try_from_secs_f64(raw).map_err(|_| ConfigError::Invalid {
        key,
        from: source.clone(),
        message: format!("{raw} is not a non-negative number of seconds"),
    })?;
    Ok(Setting { value, source })
}

fn validate_callback_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim().trim_end_matches('/');
    let uri: http::Uri = trimmed.parse().map_err(|_| {
        format!("'{value}' is not a URL; give the public http(s) base URL of kbridge listen")
    })?;
    let ok = matches!(uri.scheme_str(), Some("http" | "https"))
        && uri.host().is_some_and(|h| !h.is_empty())
        && uri.query().is_none();
    if !ok {
        return Err(format!(
            "'{value}' is not an absolute http(s) URL without a query; give the public base URL of kbridge listen"
        ));
    }
    Ok(trimmed.to_string())
}

/// Finds and parses the TOML file: `--config`, else `KBRIDGE_CONFIG`, else
/// the default path if it exists. A file named explicitly must exist.
fn read_file(
    flags: &Overrides,
    env: &Environment,
) -> Result<(Option<PathBuf>, FileSettings), ConfigError> {
    let (path, given_by) = if let Some(p) = &flags.config {
        (p.clone(), Source::Flag("--config"))
    } else if let Some(p) = env.get("KBRIDGE_CONFIG") {
        (PathBuf::from(p), Source::Env("KBRIDGE_CONFIG"))
    } else {
        match env.config_home() {
            Some(dir) => {
                let p = dir.join("kbridge").join("config.toml");
                if !p.exists() {
                    return Ok((None, FileSettings::default()));
                }
                (p, Source::Default)
            }
            None => return Ok((None, FileSettings::default())),
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        given_by,
        source,
    })?;
    let settings = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.clone(),
        // toml's own message spans several lines with a source excerpt;
        // keep the first line so the error stays one line.
        message: e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_string()
            + &e.span()
                .map(|s| format!(" (at byte {})", s.start))
                .unwrap_or_default(),
    })?;
    Ok((Some(path), settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn defaults_follow_xdg() {
        let c = Config::load(
            &Overrides::default(),
            env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/nonexistent")]),
        )
        .unwrap();
        assert_eq!(
            c.database.value,
            PathBuf::from("/home/u/.local/share/kbridge/kbridge.db")
        );
        assert_eq!(c.database.source, Source::Default);
        assert_eq!(c.origin.value, "kbridge");
        assert!(c.callback_url.is_none());
    }

    #[test]
    fn flag_beats_env_beats_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "database = \"rel.db\"\norigin = \"lab_a\"\ncallback_url = \"https://file.example/\"\n",
        )
        .unwrap();
        let e = env(&[
            ("HOME", "/home/u"),
            ("KBRIDGE_CALLBACK_URL", "https://env.example"),
        ]);
        let flags = Overrides {
            config: Some(file.clone()),
            ..Default::default()
        };
        let c = Config::load(&flags, e.clone()).unwrap();
        assert_eq!(c.database.value, dir.path().join("rel.db"));
        assert_eq!(c.origin.value, "lab_a");
        let cb = c.callback_url.unwrap();
        assert_eq!(cb.value, "https://env.example");
        assert_eq!(cb.source, Source::Env("KBRIDGE_CALLBACK_URL"));

        let flags = Overrides {
            config: Some(file),
            db: Some("/x.db".into()),
            callback_url: Some("http://flag.example/base/".into()),
            ..Default::default()
        };
        let c = Config::load(&flags, e).unwrap();
        assert_eq!(c.database.source, Source::Flag("--db"));
        assert_eq!(c.callback_url.unwrap().value, "http://flag.example/base");
    }

    #[test]
    fn bad_values_are_config_errors() {
        let e = env(&[("HOME", "/h"), ("KBRIDGE_ORIGIN", "My-Lab")]);
        let err = Config::load(&Overrides::default(), e).unwrap_err();
        assert!(err.to_string().contains("KBRIDGE_ORIGIN"), "{err}");

        let e = env(&[("HOME", "/h"), ("KBRIDGE_HTTP_TIMEOUT", "soon")]);
        assert!(Config::load(&Overrides::default(), e).is_err());

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "databse = \"x\"\n").unwrap();
        let flags = Overrides {
            config: Some(file),
            ..Default::default()
        };
        let err = Config::load(&flags, env(&[("HOME", "/h")])).unwrap_err();
        assert!(err.to_string().contains("databse"), "{err}");
        assert_eq!(err.to_string().lines().count(), 1);
    }
}
