//! The runners this kbridge knows: the one place a runner is registered,
//! and what the registered runners add to kbridge's settings and command
//! line. It sits above both the settings (`config`) and the runners
//! (`runner`), so neither needs the other's list.

use crate::config::{SettingDef, CORE};
use crate::runner::{lava, tuxsuite, RunnerInfo};

/// Every runner kbridge knows. One line per runner.
pub const RUNNERS: &[RunnerInfo] = &[tuxsuite::INFO, lava::INFO];

/// A set of runners, with what they add to the settings table: the
/// built-in one, or one a test makes with a runner of its own.
#[derive(Clone, Copy)]
pub struct Registry {
    runners: &'static [RunnerInfo],
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.runners.iter().map(|r| r.code))
            .finish()
    }
}

impl Registry {
    /// The runners kbridge is built with.
    pub const fn builtin() -> Registry {
        Registry { runners: RUNNERS }
    }

    /// Another set of runners: a test's own runner beside the built-in ones.
    #[cfg(test)]
    pub const fn of(runners: &'static [RunnerInfo]) -> Registry {
        Registry { runners }
    }

    pub fn runners(&self) -> &'static [RunnerInfo] {
        self.runners
    }

    /// A runner by its code.
    pub fn find(&self, code: &str) -> Option<&'static RunnerInfo> {
        self.runners.iter().find(|r| r.code == code)
    }

    /// The runner used when none is named: the first registered.
    pub fn default_runner(&self) -> &'static RunnerInfo {
        self.runners
            .first()
            .expect("at least one runner is registered")
    }

    /// Every registered runner with its description, for messages.
    pub fn available(&self) -> String {
        self.runners
            .iter()
            .map(|r| format!("{} ({})", r.code, r.description))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every setting: kbridge's own, then each runner's.
    pub fn settings(&self) -> Vec<&'static SettingDef> {
        CORE.iter()
            .chain(self.runners.iter().flat_map(|r| r.settings.iter()))
            .collect()
    }
}

#[cfg(test)]
mod fourth;

#[cfg(test)]
mod conformance {
    //! Checks every registered runner against what the shared code
    //! assumes of it.

    use crate::config::FlagValues;
    use crate::config::{Config, Environment};
    use crate::model::{JobKind, JobSpec};
    use crate::registry::RUNNERS;
    use crate::retry::Backoff;
    use crate::runner::*;
    use std::time::Duration;

    fn context<'a>(config: &'a Config, code: &'static str, purpose: Purpose) -> RunnerContext<'a> {
        RunnerContext {
            purpose,
            env: &config.env,
            settings: config.section(code),
            http_timeout: Duration::from_secs(1),
            artifact_caps: ArtifactCaps {
                bytes: 1 << 20,
                time: Duration::from_secs(5),
                cases: 1000,
            },
            backoff: Backoff::new(Duration::from_millis(1), Duration::from_millis(2)),
        }
    }

    fn empty_config() -> Config {
        let env = Environment::from_pairs([
            ("HOME", "/nonexistent"),
            ("XDG_CONFIG_HOME", "/nonexistent"),
        ]);
        Config::load(
            &crate::registry::Registry::builtin().settings(),
            None,
            &FlagValues::new(),
            env,
        )
        .unwrap()
    }

    #[test]
    fn http_failures_are_waited_for_retried_or_final() {
        let wait = Some(Duration::from_secs(7));
        let e = |status, after| FetchError::from_status(status, after, "x".into());
        assert_eq!(
            e(503, wait),
            FetchError::Throttled {
                why: "x".into(),
                after: Duration::from_secs(7)
            }
        );
        for status in [408, 429, 500, 503, 599] {
            assert_eq!(
                e(status, None),
                FetchError::Transient("x".into()),
                "{status}"
            );
        }
        for status in [400, 401, 410, 418] {
            assert_eq!(
                e(status, wait),
                FetchError::Permanent("x".into()),
                "{status}"
            );
        }
    }

    #[test]
    fn codes_are_unique_and_url_safe() {
        let mut seen = std::collections::HashSet::new();
        for r in RUNNERS {
            assert!(seen.insert(r.code), "{} registered twice", r.code);
            assert!(
                !r.code.is_empty()
                    && r.code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{}",
                r.code
            );
            assert!(!r.description.is_empty());
        }
    }

    #[test]
    fn settings_belong_to_their_runner() {
        let mut flags = std::collections::HashSet::new();
        for def in crate::registry::Registry::builtin().settings() {
            if let Some(f) = def.flag {
                assert!(flags.insert(f.long), "--{} is declared twice", f.long);
            }
        }
        for r in RUNNERS {
            for def in r.settings {
                assert!(
                    def.key.starts_with(&format!("{}.", r.code)),
                    "{}'s setting {} is outside [{}]",
                    r.code,
                    def.key,
                    r.code
                );
                assert!(!def.doc.is_empty(), "{} has no doc", def.key);
            }
        }
    }

    #[test]
    fn every_runner_opens_without_the_network_and_says_what_it_lacks() {
        let config = empty_config();
        for r in RUNNERS {
            // Processing stored callbacks needs nothing configured.
            let runner = (r.open)(&context(&config, r.code, Purpose::Process))
                .unwrap_or_else(|e| panic!("{} cannot open to process: {e}", r.code));
            let protocol = runner.protocol();
            assert!(!protocol.auth_header.is_empty());
            assert!(!protocol.kept_headers.is_empty() || protocol.auth == CallbackAuth::TokenOnly);
            // A listener without the runner's settings is told why, in one
            // line, and is not handed a runner that accepts anything.
            match (r.open)(&context(&config, r.code, Purpose::Listen { verify: true })) {
                Ok(runner) => {
                    let h = ::http::HeaderMap::new();
                    assert!(
                        runner.verify_callback(&h, b"{}").is_err(),
                        "{} accepts anything",
                        r.code
                    );
                }
                Err(e) => assert_eq!(e.to_string().lines().count(), 1, "{e}"),
            }
            let _ = (r.describe)(&context(&config, r.code, Purpose::Process));
        }
    }

    #[test]
    fn every_runner_prepares_or_refuses_every_kind() {
        let config = empty_config();
        let spec_test = crate::model::sample_test_spec("maestro:1", &["ltp-smoke"]);
        let specs = [
            JobSpec::Build(crate::model::BuildSpec {
                options: Default::default(),
                tree: "https://git.example/linux.git".into(),
                branch: Some("master".into()),
                sha: None,
                arch: "riscv".into(),
                toolchain: "gcc-13".into(),
                kconfig: vec!["defconfig".into()],
                targets: vec![],
                private: false,
            }),
            JobSpec::Test(spec_test.clone()),
            JobSpec::Boot(crate::model::TestSpec {
                tests: vec![],
                ..spec_test
            }),
        ];
        for r in RUNNERS {
            let Ok(runner) = (r.open)(&context(
                &config,
                r.code,
                Purpose::Schedule { dry_run: true },
            )) else {
                continue;
            };
            let target =
                CallbackTarget::new(callback_url("https://ci.example", r.code, JobKind::Test));
            for spec in &specs {
                match runner.prepare(spec, Some(&target), None) {
                    Ok(sub) => assert!(
                        sub.to_string().contains(&target.url),
                        "{}: the request does not carry its callback URL",
                        r.code
                    ),
                    Err(PrepareError::Unsupported(m) | PrepareError::Config(m)) => {
                        assert_eq!(m.lines().count(), 1, "{m}")
                    }
                }
            }
        }
    }
}
