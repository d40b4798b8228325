//! A fourth runner, added the way `docs/runners.md` says: this one module
//! and one registry line (`REGISTRY` below, standing in for the line in
//! `RUNNERS`). It declares a setting (`kiln.url`) and a job option
//! (`--glaze` on `schedule test` and `schedule boot`) of its own. The tests
//! drive kbridge's shared command line, settings and scheduler with it;
//! nothing shared names it.
//!
//! It speaks the test lab's protocol (`runner::testing`), so its jobs run
//! on the same local server, and adds its option to each request.

use std::time::Duration;

use serde_json::Value;

use crate::config::{setting, ConfigError, Key, Kind, SettingDef};
use crate::model::{Callback, Job, JobKind, JobResults, JobSpec};
use crate::registry::Registry;
use crate::runner::testing::TestLab;
use crate::runner::{
    Accepted, CallbackTarget, Feedback, FetchError, OpenError, OptionDef, OptionValue, ParseError,
    Polled, PrepareError, Protocol, Runner, RunnerContext, RunnerInfo, Submission, SubmitError,
    VerifyError,
};

/// The registry entry.
pub const INFO: RunnerInfo = RunnerInfo {
    code: "kiln",
    description: "Kiln: a runner of the tests' own",
    settings: SETTINGS,
    options: OPTIONS,
    open,
    describe: |_| vec![],
};

/// The one registry line.
pub const REGISTRY: Registry = Registry::of(&[
    crate::runner::tuxsuite::INFO,
    crate::runner::lava::INFO,
    INFO,
]);

const URL: Key<String> = Key::new("kiln.url");

const SETTINGS: &[SettingDef] = &[setting(
    URL.name(),
    Kind::Url,
    "The Kiln service's base URL",
)];

const OPTIONS: &[OptionDef] = &[OptionDef {
    key: "glaze",
    long: "glaze",
    value: OptionValue::One("GLAZE"),
    help: "The glaze Kiln fires the job with",
    kinds: &[JobKind::Test, JobKind::Boot],
}];

struct Kiln {
    lab: TestLab,
}

fn open(ctx: &RunnerContext<'_>) -> Result<Box<dyn Runner>, OpenError> {
    let url = ctx.settings.get(URL).ok_or_else(|| {
        OpenError::Config(ConfigError::Runner(
            "Kiln needs its URL: set url under [kiln] in config.toml".into(),
        ))
    })?;
    Ok(Box::new(Kiln {
        lab: TestLab::new(&url.value),
    }))
}

impl Runner for Kiln {
    fn prepare(
        &self,
        spec: &JobSpec,
        callback: Option<&CallbackTarget>,
        job_id: Option<i64>,
    ) -> Result<Submission, PrepareError> {
        let glaze = match spec {
            JobSpec::Test(t) | JobSpec::Boot(t) => t.options.runner.get("glaze").cloned(),
            JobSpec::Build(_) => None,
        };
        let mut sub = self.lab.prepare(spec, callback, job_id)?;
        match glaze {
            Some(Value::String(g)) if g == "lead" => {
                return Err(PrepareError::Unsupported(
                    "Kiln does not fire lead glazes; choose another --glaze".into(),
                ))
            }
            Some(g) => sub.body["glaze"] = g,
            None => {}
        }
        Ok(sub)
    }

    fn submit(&self, sub: &Submission, feedback: &dyn Feedback) -> Result<Accepted, SubmitError> {
        self.lab.submit(sub, feedback)
    }

    fn protocol(&self) -> Protocol {
        Protocol {
            results_lifetime: Some(Duration::from_secs(86400)),
            ..self.lab.protocol()
        }
    }

    fn verify_callback(
        &self,
        headers: &::http::HeaderMap,
        body: &[u8],
    ) -> Result<&'static str, VerifyError> {
        self.lab.verify_callback(headers, body)
    }

    fn parse_callback(
        &self,
        kind: JobKind,
        body: &[u8],
        verified_as: &str,
    ) -> Result<Callback, ParseError> {
        self.lab.parse_callback(kind, body, verified_as)
    }

    fn callback_is_for(&self, job: &Job, subject: Option<&str>) -> bool {
        self.lab.callback_is_for(job, subject)
    }

    fn poll(&self, job: &Job) -> Result<Polled, FetchError> {
        self.lab.poll(job)
    }

    fn fetch_results(&self, job: &Job, callback: &Callback) -> Result<JobResults, FetchError> {
        self.lab.fetch_results(job, callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::runner::testing::Lab;
    use crate::store::Store;

    struct Place {
        dir: tempfile::TempDir,
        lab: Lab,
    }

    impl Place {
        fn new() -> Place {
            let dir = tempfile::tempdir().unwrap();
            let lab = Lab::start();
            std::fs::write(
                dir.path().join("config.toml"),
                format!("[kiln]\nurl = \"{}\"\n", lab.url()),
            )
            .unwrap();
            Place { dir, lab }
        }

        /// Runs `kbridge ARGS` for the registry with Kiln in it.
        fn run(&self, args: &[&str]) -> Result<u8, Error> {
            let config = self.dir.path().join("config.toml");
            let db = self.dir.path().join("kbridge.db");
            let mut all = vec![
                "kbridge".to_string(),
                "--quiet".into(),
                "--config".into(),
                config.display().to_string(),
                "--db".into(),
                db.display().to_string(),
            ];
            all.extend(args.iter().map(|a| a.to_string()));
            let parsed =
                crate::cli::parse_for(REGISTRY, all).map_err(|e| Error::Usage(e.to_string()))?;
            crate::commands::run(parsed)
        }

        fn store(&self) -> Store {
            Store::open_existing(self.dir.path().join("kbridge.db")).unwrap()
        }
    }

    const TEST: &[&str] = &[
        "schedule",
        "test",
        "--kernel",
        "https://kernels.example.org/Image",
        "--build-id",
        "maestro:1",
        "--tests",
        "ltp-smoke",
        "--callback-url",
        "https://ci.example.org",
    ];

    #[test]
    fn its_option_reaches_its_requests_and_its_records() {
        let place = Place::new();
        let mut args = TEST.to_vec();
        args.extend(["--runner", "kiln", "--glaze", "celadon"]);
        assert_eq!(place.run(&args).unwrap(), 0);
        let sent = place.lab.submitted();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["glaze"], "celadon");
        assert_eq!(
            sent[0]["notify"]["url"],
            "https://ci.example.org/callback/kiln/test"
        );
        let store = place.store();
        let jobs = store.read().list(&Default::default()).unwrap();
        let JobSpec::Test(t) = &jobs[0].spec else {
            panic!("{:?}", jobs[0].spec)
        };
        assert_eq!(t.options.runner["glaze"], "celadon");
        assert_eq!(jobs[0].runner, "kiln");
    }

    #[test]
    fn it_checks_its_own_option() {
        let place = Place::new();
        let mut args = TEST.to_vec();
        args.extend(["--runner", "kiln", "--glaze", "lead"]);
        match place.run(&args) {
            Err(Error::Usage(m)) => assert!(m.contains("lead glazes"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(place.lab.submitted().is_empty());
    }

    #[test]
    fn another_runner_refuses_its_option_by_name() {
        let place = Place::new();
        let mut args = TEST.to_vec();
        args.extend(["--runner", "tuxsuite", "--glaze", "celadon", "--dry-run"]);
        match place.run(&args) {
            Err(Error::Usage(m)) => {
                assert!(m.contains("--glaze is an option of --runner kiln"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        // And the other way round: TuxSuite's options are TuxSuite's.
        let mut args = TEST.to_vec();
        args.extend(["--runner", "kiln", "--qemu-image", "q"]);
        match place.run(&args) {
            Err(Error::Usage(m)) => {
                assert!(
                    m.contains("--qemu-image is an option of --runner tuxsuite"),
                    "{m}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(place.lab.submitted().is_empty());
    }

    #[test]
    fn help_shows_its_option_and_setting_under_its_name() {
        let mut cmd = crate::cli::command_for(REGISTRY);
        let test = cmd
            .find_subcommand_mut("schedule")
            .unwrap()
            .find_subcommand_mut("test")
            .unwrap();
        let help = test.render_long_help().to_string();
        assert!(help.contains("Options of --runner kiln"), "{help}");
        assert!(help.contains("--glaze <GLAZE>"), "{help}");
        assert!(
            REGISTRY.settings().iter().any(|d| d.key == URL.name()),
            "its setting joins the table"
        );
        // Builds take no glaze.
        let build =
            crate::cli::parse_for(REGISTRY, ["kbridge", "schedule", "build", "--glaze", "x"]);
        assert!(build.is_err());
    }
}
