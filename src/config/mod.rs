//! Settings: one table says what each one is, and resolution follows it.
//!
//! Every setting is a [`SettingDef`]: its key in the TOML file, its flag
//! (and which commands take it), its environment variable, its default,
//! whether it is secret, and one line of documentation. The same table
//! drives resolution here, the flags `cli` adds to the commands, what
//! `kbridge config` shows, and a test that keeps `--help`, README.md and
//! docs/configuration.md in agreement with it. kbridge's own settings are
//! [`CORE`]; each runner declares its own in its module
//! ([`crate::runner::RunnerInfo::settings`]) and the registry gathers them, so
//! this file names no runner and imports none.
//!
//! Precedence is flag, then environment, then the TOML file, then the
//! default. Every resolved value remembers its [`Source`], so a value the
//! user never gave stays distinguishable from a default.
//!
//! This is the only module that reads the process environment. It takes one
//! snapshot ([`Environment`]) and hands it to whoever needs a variable, such
//! as runners that honour their own service's variables; tests build the
//! snapshot by hand. Nothing here opens a socket, a database or a file
//! other than the TOML file itself.

mod core;
mod env;
mod file;
mod parse;
mod table;

#[cfg(test)]
mod docs;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::is_valid_origin;

pub use self::core::*;
pub use crate::secrets::Secret;
pub use env::*;
use file::*;
pub use parse::*;
pub use table::*;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    /// The TOML file, and the line the value is on.
    File(PathBuf, usize),
    /// The TOML file, line and column of a value that is wrong: errors
    /// point at the value itself.
    FileAt(PathBuf, usize, usize),
    Default,
    /// A credential systemd passed the service (`LoadCredential=`).
    Credential(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(name) => write!(f, "flag --{name}"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::File(path, line) => write!(f, "file {} line {line}", path.display()),
            Source::FileAt(path, line, column) => {
                write!(f, "file {} line {line} column {column}", path.display())
            }
            Source::Default => f.write_str("default"),
            Source::Credential(name) => write!(f, "systemd credential {name}"),
        }
    }
}

/// A resolved value and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

/// The systemd credential holding the PostgreSQL password.
pub const DB_PASSWORD_CREDENTIAL: &str = "db-password";

/// Values given on the command line for settings, by key; a switch gives
/// the value it sets. Only what was given is here.
pub type FlagValues = BTreeMap<&'static str, Vec<String>>;

/// Why the settings could not be resolved. Always a configuration error
/// (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {message}; fix the path given by {given_by}", path.display())]
    Read {
        path: PathBuf,
        given_by: Source,
        message: String,
    },
    #[error("config file {} line {line} column {column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{key} from {from}: {message}")]
    Invalid {
        key: String,
        from: Source,
        message: String,
    },
    #[error("cannot tell where to keep the database: neither XDG_DATA_HOME nor HOME is set; pass --db PATH or set KBRIDGE_DB")]
    NoDataHome,
    /// A runner's own settings are missing or wrong.
    #[error("{0}")]
    Runner(String),
}

/// One resolved setting.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub def: &'static SettingDef,
    pub value: Value,
    pub source: Source,
}

/// A resolved value, typed by its [`Kind`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Path(PathBuf),
    Store(crate::location::Location),
    Seconds(Duration),
    Number(u64),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    /// The value as `kbridge config` prints it.
    pub fn display(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Path(p) => p.display().to_string(),
            Value::Store(l) => l.to_string(),
            Value::Seconds(d) => format!("{}", d.as_secs_f64()),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::List(l) => l.join(","),
        }
    }
}

/// Every resolved setting.
#[derive(Debug, Clone)]
pub struct Config {
    /// The TOML file that was read, if any.
    pub file: Option<PathBuf>,
    /// Resolved settings by concrete key; a setting with no value and no
    /// default is absent.
    values: BTreeMap<String, Resolved>,
    /// The environment snapshot the settings were resolved from.
    pub env: Environment,
}

impl Config {
    /// Resolves every setting of `defs` (kbridge's own and the registered
    /// runners', [`crate::registry::Registry::settings`]) from the command
    /// line, the environment and the TOML file (`--config FILE`, else
    /// `KBRIDGE_CONFIG`, else the default path if it exists).
    pub fn load(
        defs: &[&'static SettingDef],
        config_file: Option<&Path>,
        flags: &FlagValues,
        env: Environment,
    ) -> Result<Config, ConfigError> {
        let file = read_file(config_file, &env)?;
        for (key, loc) in &file.values {
            if !defs.iter().any(|d| d.in_file && d.matches(key)) {
                return Err(unknown_key(&file, key, loc, defs));
            }
        }
        let mut values = BTreeMap::new();
        for &def in defs {
            if def.is_pattern() {
                for (key, loc) in file.values.iter().filter(|(k, _)| def.matches(k)) {
                    let source = Source::File(file.path.clone().unwrap_or_default(), loc.line);
                    let value =
                        from_file(def, loc, &file, &env).map_err(|m| ConfigError::Invalid {
                            key: key.clone(),
                            from: source.clone(),
                            message: m,
                        })?;
                    values.insert(key.clone(), Resolved { def, value, source });
                }
                continue;
            }
            if let Some(r) = resolve_one(def, flags, &env, &file)? {
                values.insert(def.key.to_string(), r);
            }
        }
        let config = Config {
            file: file.path,
            values,
            env,
        };
        if defs.iter().any(|d| d.key == keys::DATABASE.name())
            && config.get(keys::DATABASE).is_none()
        {
            return Err(ConfigError::NoDataHome);
        }
        if let Some(cb) = config.get(keys::CALLBACK_URL) {
            check_callback_base(&cb.value).map_err(|message| ConfigError::Invalid {
                key: keys::CALLBACK_URL.name().into(),
                from: cb.source.clone(),
                message,
            })?;
        }
        Ok(config)
    }

    /// A setting's value and where it came from, if it has one.
    pub fn get<T: Read>(&self, key: Key<T>) -> Option<Setting<T>> {
        self.get_at(key.name())
    }

    /// A setting's value, if it has one.
    pub fn value<T: Read>(&self, key: Key<T>) -> Option<T> {
        self.get(key).map(|s| s.value)
    }

    /// The value of a setting that has a default: resolution always gives
    /// it one.
    pub fn required<T: Read>(&self, key: Key<T>) -> T {
        self.value(key)
            .unwrap_or_else(|| panic!("{} has a default", key.name()))
    }

    /// A concrete key of a setting whose key is a pattern (`lava.labs.NAME.url`
    /// of `lava.labs.*.url`), read as `T`; `None` when it has no value, or
    /// holds another type.
    pub fn get_at<T: Read>(&self, key: &str) -> Option<Setting<T>> {
        let r = self.values.get(key)?;
        debug_assert!(T::fits(&r.def.kind), "{key} is read as another type");
        Some(Setting {
            value: T::read(&r.value)?,
            source: r.source.clone(),
        })
    }

    /// The value of pattern setting `key` (`report.sources.*.secret_file`)
    /// for one name (`report.sources.NAME.secret_file`).
    pub fn get_named<T: Read>(&self, key: Key<T>, name: &str) -> Option<Setting<T>> {
        self.get_at(&key.name().replacen('*', name, 1))
    }

    /// Every resolved setting, by key.
    pub fn all(&self) -> impl Iterator<Item = (&String, &Resolved)> {
        self.values.iter()
    }

    /// The concrete keys under `prefix.` whose next part is a name, such as
    /// the labs under `lava.labs`.
    pub fn names_under(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .values
            .keys()
            .filter_map(|k| k.strip_prefix(prefix)?.strip_prefix('.')?.split('.').next())
            .map(str::to_string)
            .collect();
        names.dedup();
        names
    }

    /// The settings of one table, such as a runner's `[tuxsuite]`.
    pub fn section(&self, table: &'static str) -> Section<'_> {
        Section {
            config: self,
            table,
        }
    }

    /// Where the store is; a PostgreSQL URL without a password takes the
    /// one [`Config::with_password`] finds.
    pub fn database(&self) -> Result<crate::location::Location, ConfigError> {
        self.with_password(self.required(keys::DATABASE))
    }

    /// For a PostgreSQL store (`None` for a file), where its password comes
    /// from: the URL, or a file; `Some(None)` when nothing gives one.
    pub fn database_password_source(&self) -> Option<Option<String>> {
        let crate::location::Location::Postgres(target) = self.required(keys::DATABASE) else {
            return None;
        };
        if target.has_password() {
            return Some(Some("the database URL".into()));
        }
        Some(
            self.password_file()
                .map(|file| format!("file {}, given by {}", file.value.display(), file.source)),
        )
    }

    /// The file holding the PostgreSQL password: the setting, or else the
    /// credential systemd gives the service.
    fn password_file(&self) -> Option<Setting<PathBuf>> {
        self.get(keys::DATABASE_PASSWORD_FILE).or_else(|| {
            Some(Setting {
                value: self.env.credential(DB_PASSWORD_CREDENTIAL)?,
                source: Source::Credential(DB_PASSWORD_CREDENTIAL),
            })
        })
    }

    /// `at`, given the password in `database_password_file` (or systemd's
    /// `db-password` credential) if it is a PostgreSQL URL without one.
    pub fn with_password(
        &self,
        at: crate::location::Location,
    ) -> Result<crate::location::Location, ConfigError> {
        use crate::location::Location;
        let Location::Postgres(target) = at else {
            return Ok(at);
        };
        if target.has_password() {
            return Ok(Location::Postgres(target));
        }
        match self.password_file() {
            Some(file) => {
                let password =
                    env::read_secret_file(&file.value, "the database password", &file.source)?;
                Ok(Location::Postgres(Box::new(
                    target.with_password(password.expose().to_string()),
                )))
            }
            None => Ok(Location::Postgres(target)),
        }
    }

    /// The KCIDB origin.
    pub fn origin(&self) -> String {
        self.required(keys::ORIGIN)
    }
}

/// The settings of one table (a runner's `[CODE]`): what a runner is given
/// instead of every setting. A key outside the table has no value here.
#[derive(Debug, Clone, Copy)]
pub struct Section<'a> {
    config: &'a Config,
    table: &'static str,
}

impl<'a> Section<'a> {
    fn holds(&self, key: &str) -> bool {
        let inside = key
            .strip_prefix(self.table)
            .is_some_and(|rest| rest.starts_with('.'));
        debug_assert!(inside, "{key} is outside [{}]", self.table);
        inside
    }

    pub fn get<T: Read>(&self, key: Key<T>) -> Option<Setting<T>> {
        self.get_at(key.name())
    }

    pub fn value<T: Read>(&self, key: Key<T>) -> Option<T> {
        self.get(key).map(|s| s.value)
    }

    /// The value of one of the table's pattern settings for one name.
    pub fn get_named<T: Read>(&self, key: Key<T>, name: &str) -> Option<Setting<T>> {
        self.get_at(&key.name().replacen('*', name, 1))
    }

    /// A concrete key of a pattern setting of the table.
    pub fn get_at<T: Read>(&self, key: &str) -> Option<Setting<T>> {
        self.holds(key).then(|| self.config.get_at(key)).flatten()
    }

    /// The names under `prefix` (a key of the table), such as the labs
    /// under `lava.labs`.
    pub fn names_under(&self, prefix: &str) -> Vec<String> {
        if !self.holds(prefix) {
            return vec![];
        }
        self.config.names_under(prefix)
    }
}

fn unknown_key(
    file: &FileSettings,
    key: &str,
    loc: &Located,
    defs: &[&'static SettingDef],
) -> ConfigError {
    let hint = closest(key, defs.iter().filter(|d| !d.is_pattern()).map(|d| d.key))
        .map(|k| format!("; did you mean '{k}'?"))
        .unwrap_or_else(|| "; docs/configuration.md lists every key".into());
    ConfigError::Parse {
        path: file.path.clone().unwrap_or_default(),
        line: loc.line,
        column: loc.column,
        message: format!("unknown key '{}'{hint}", shown(key)),
    }
}

/// Flag, then environment, then file, then default.
fn resolve_one(
    def: &'static SettingDef,
    flags: &FlagValues,
    env: &Environment,
    file: &FileSettings,
) -> Result<Option<Resolved>, ConfigError> {
    let invalid = |from: Source, message: String| ConfigError::Invalid {
        key: def.key.to_string(),
        from,
        message,
    };
    let from_flag = def.flag.and_then(|f| Some((f, flags.get(def.key)?)));
    let file_value = file.values.get(def.key);
    let file_source = |loc: &Located| {
        Source::FileAt(
            file.path.clone().unwrap_or_default(),
            loc.value_at.0,
            loc.value_at.1,
        )
    };

    // An appended list gathers the file's entries and the flags'.
    if let (Kind::List { append: true }, Some((f, given))) = (def.kind, from_flag) {
        let source = Source::Flag(f.long);
        let mut value = from_text_list(def, given, env).map_err(|m| invalid(source.clone(), m))?;
        if let Some(loc) = file_value {
            let earlier =
                from_file(def, loc, file, env).map_err(|m| invalid(file_source(loc), m))?;
            value = merge_lists(earlier, value);
        }
        return Ok(Some(Resolved { def, value, source }));
    }

    if let Some((f, given)) = from_flag {
        let source = Source::Flag(f.long);
        let value = from_text_list(def, given, env).map_err(|m| invalid(source.clone(), m))?;
        return Ok(Some(Resolved { def, value, source }));
    }
    if let Some(name) = def.env {
        if let Some(raw) = env.get(name) {
            let source = Source::Env(name);
            let parts: Vec<String> = match def.kind {
                Kind::List { .. } => raw
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
                _ => vec![raw.to_string()],
            };
            let value = from_text_list(def, &parts, env).map_err(|m| invalid(source.clone(), m))?;
            return Ok(Some(Resolved { def, value, source }));
        }
    }
    if let Some(loc) = file_value {
        let value = from_file(def, loc, file, env).map_err(|m| invalid(file_source(loc), m))?;
        let source = Source::File(file.path.clone().unwrap_or_default(), loc.line);
        return Ok(Some(Resolved { def, value, source }));
    }
    let default = match def.default {
        DefaultValue::Value(v) => Some(v.to_string()),
        DefaultValue::Computed { compute, .. } => compute(env),
        DefaultValue::None | DefaultValue::Described(_) => None,
    };
    let Some(default) = default else {
        return Ok(None);
    };
    let value = from_text_list(def, &[default], env)
        .unwrap_or_else(|m| panic!("the default of {} is invalid: {m}", def.key));
    Ok(Some(Resolved {
        def,
        value,
        source: Source::Default,
    }))
}
