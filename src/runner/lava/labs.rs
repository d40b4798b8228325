//! The LAVA labs kbridge knows: `[lava.labs.NAME]` tables in config.toml.
//!
//! LAVA job ids are integers local to a lab, so kbridge stores a job as
//! `{lab}.{id}` (two labs can both have job 42) and keys everything on
//! that form.

use std::path::PathBuf;

use crate::config::{ConfigError, Section, Source};

/// One lab's settings.
#[derive(Debug, Clone)]
pub struct Lab {
    pub name: String,
    /// The lab's base URL, without a trailing `/`.
    pub url: String,
    /// Where the REST API token is read from, and where that was set.
    pub token_file: Option<(PathBuf, Source)>,
    /// The default for `--device`.
    pub device_type: Option<String>,
    /// The root filesystem the built-in boot template deploys.
    pub rootfs: Option<String>,
    pub test_template: Option<PathBuf>,
    pub boot_template: Option<PathBuf>,
}

impl Lab {
    /// `{url}/api/v0.2/{path}`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v0.2/{path}", self.url)
    }

    /// The lab's web page for a job, as KCIDB's `log_url`.
    pub fn job_page(&self, id: u64) -> String {
        format!("{}/scheduler/job/{id}", self.url)
    }

    /// The REST API token, read from its file each time it is needed, so
    /// a rotated token is picked up without a restart.
    pub fn token(&self) -> Result<String, String> {
        let Some((path, source)) = &self.token_file else {
            return Err(format!(
                "LAVA lab '{}' has no token_file: set lava.labs.{}.token_file to a file holding the lab's REST API token",
                self.name, self.name
            ));
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read the API token of LAVA lab '{}' from {} (lava.labs.{}.token_file, from {source}): {}; put the token from the lab's API tokens page there",
                self.name,
                path.display(),
                self.name,
                io_reason(&e)
            )
        })?;
        let token = text.trim().to_string();
        if token.is_empty() || token.bytes().any(|b| b.is_ascii_control()) {
            return Err(format!(
                "the LAVA API token in {} is empty or has a control character; put the token alone on one line",
                path.display()
            ));
        }
        crate::secrets::register(&token);
        Ok(token)
    }

    /// Where the token comes from, for messages.
    pub fn token_path(&self) -> String {
        self.token_file
            .as_ref()
            .map(|(p, _)| p.display().to_string())
            .unwrap_or_else(|| format!("lava.labs.{}.token_file (not set)", self.name))
    }
}

/// An I/O error in plain words.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Every lab configured, by name.
pub fn configured(config: Section<'_>) -> Result<Vec<Lab>, ConfigError> {
    let mut labs = Vec::new();
    for name in config.names_under("lava.labs") {
        let key = |k: &str| format!("lava.labs.{name}.{k}");
        if !valid_name(&name) {
            return Err(ConfigError::Runner(format!(
                "LAVA lab name '{name}' is not usable: lab names are lower-case letters, digits, '-' and '_' (they name jobs as LAB.ID)"
            )));
        }
        let Some(url) = config.get_at::<String>(&key("url")) else {
            return Err(ConfigError::Runner(format!(
                "LAVA lab '{name}' has no url: set lava.labs.{name}.url to the lab's base URL, such as https://lava.example.org"
            )));
        };
        let path = |k: &str| config.get_at::<PathBuf>(&key(k)).map(|s| s.value);
        labs.push(Lab {
            url: url.value.trim_end_matches('/').to_string(),
            token_file: config
                .get_at::<PathBuf>(&key("token_file"))
                .map(|s| (s.value, s.source)),
            device_type: config
                .get_at::<String>(&key("device_type"))
                .map(|s| s.value),
            rootfs: config.get_at::<String>(&key("rootfs")).map(|s| s.value),
            test_template: path("test_template"),
            boot_template: path("boot_template"),
            name,
        });
    }
    Ok(labs)
}

/// Lab names become part of job ids: `[a-z0-9_-]`, not empty.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// `lab.42` → (`lab`, 42).
pub fn split_uid(uid: &str) -> Option<(&str, u64)> {
    let (lab, id) = uid.rsplit_once('.')?;
    Some((lab, id.parse().ok()?))
}

/// The names, for messages that list them.
pub fn names(labs: &[Lab]) -> String {
    if labs.is_empty() {
        return "none is configured (add a [lava.labs.NAME] table to config.toml)".into();
    }
    labs.iter()
        .map(|l| l.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_lab_then_id() {
        assert_eq!(split_uid("mylab.42"), Some(("mylab", 42)));
        assert_eq!(split_uid("a-b_c.7"), Some(("a-b_c", 7)));
        assert_eq!(split_uid("mylab"), None);
        assert_eq!(split_uid("mylab.x"), None);
        assert!(valid_name("lab-1_a"));
        assert!(!valid_name("Lab"));
        assert!(!valid_name("a.b"));
    }
}
