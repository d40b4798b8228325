//! The process environment, read once, and the secrets kbridge reads from
//! files: this is the only code that reads environment variables.

use super::*;

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

    /// The credential systemd passed under this name (`LoadCredential=`),
    /// if the service has one: `$CREDENTIALS_DIRECTORY/NAME`.
    pub fn credential(&self, name: &str) -> Option<PathBuf> {
        let path = Path::new(self.get("CREDENTIALS_DIRECTORY")?).join(name);
        path.is_file().then_some(path)
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

    pub(super) fn home(&self) -> Option<PathBuf> {
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

    /// Expands a leading `~/` to `$HOME/`.
    pub fn expand_home(&self, p: &str) -> PathBuf {
        match (p.strip_prefix("~/"), self.home()) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(p),
        }
    }
}

/// Reads a secret from a file (a token, an HMAC key): surrounding
/// whitespace is dropped; an empty one, or one with a line break or other
/// control character inside, is refused with the file named.
pub fn read_secret_file(path: &Path, what: &str, given_by: &Source) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::Runner(format!(
            "cannot read {what} from {} (given by {given_by}): {e}",
            path.display()
        ))
    })?;
    let value = text.trim();
    if value.is_empty() {
        return Err(ConfigError::Runner(format!(
            "{what} file {} (given by {given_by}) is empty",
            path.display()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ConfigError::Runner(format!(
            "{what} in {} (given by {given_by}) spans several lines or holds a control character; put the secret alone on one line",
            path.display()
        )));
    }
    Ok(Secret::new(value))
}
