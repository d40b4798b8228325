//! Each command wires the resolved settings into concrete parts and calls
//! them in order. This is the only layer that sees every other module; it
//! holds no SQL, HTTP or protocol details.
//!
//! Commands load only what they need: read-only commands open an existing
//! database and never create one, and only `listen` reads a runner's keys.

mod artefacts;
mod cancel;
mod doctor;
mod endpoint;
mod inbox;
mod jobs;
mod listen;
mod logs;
mod outbox;
mod plan;
mod report;
mod results;
mod schedule;
mod settings;
mod store;
mod track;
pub mod wait;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::{Command, GivenOption, Parsed};
use crate::config::{keys, Config, ConfigError, Environment, FlagValues};
use crate::error::{exit, Error};
use crate::log::Log;
use crate::pipeline::{self, Runners};
use crate::progress::Ui;
use crate::registry::Registry;
use crate::retry::Backoff;
use crate::runner::{OpenError, Purpose, Runner, RunnerContext, RunnerInfo};
use crate::scheduler::ScheduleError;
use crate::store::Store;

/// The version of every `--json` object's format, in its `kbridge` key: it
/// changes only when a field is removed or changes meaning (fields are
/// added freely).
pub const JSON_VERSION: u32 = 1;

/// What every command starts from.
pub struct Context {
    loader: Loader,
    /// The runners' own job options given.
    options: Vec<GivenOption>,
    ui: Ui,
}

impl Context {
    /// Resolves the settings.
    fn load(&self) -> Result<Setup, Error> {
        self.loader.load()
    }

    /// What resolves the settings again, for a service that reloads them.
    fn reloader(&self) -> Loader {
        self.loader.clone()
    }
}

/// Where the settings come from, besides the environment.
#[derive(Clone)]
struct Loader {
    config_file: Option<PathBuf>,
    flags: FlagValues,
    registry: Registry,
}

impl Loader {
    fn load(&self) -> Result<Setup, Error> {
        let config = Config::load(
            &self.registry.settings(),
            self.config_file.as_deref(),
            &self.flags,
            Environment::from_process(),
        )?;
        Ok(Setup {
            config,
            registry: self.registry,
        })
    }
}

/// The resolved settings, and the runners they apply to.
pub struct Setup {
    config: Config,
    registry: Registry,
}

impl std::ops::Deref for Setup {
    type Target = Config;

    fn deref(&self) -> &Config {
        &self.config
    }
}

/// Runs the parsed command line and returns the exit status.
pub fn run(parsed: Parsed) -> Result<u8, Error> {
    crate::http::set_verbosity(parsed.cli.verbose);
    let ctx = Context {
        loader: Loader {
            config_file: parsed.cli.config,
            flags: parsed.flags,
            registry: parsed.registry,
        },
        options: parsed.options,
        ui: Ui::new(parsed.cli.quiet),
    };
    let done = |r: Result<(), Error>| r.map(|()| exit::SUCCESS);
    match parsed.cli.command {
        Command::Schedule(s) => schedule::run(*s, &ctx),
        Command::Wait(args) => wait::run(args, &ctx),
        Command::Jobs(args) => done(jobs::list(args, &*ctx.load()?)),
        Command::Show(args) => done(jobs::show(args, &*ctx.load()?)),
        Command::Plans(args) => done(jobs::plans(args, &*ctx.load()?)),
        Command::Listen(args) => listen::run(args, &ctx),
        Command::Results(args) => results::run(args, &*ctx.load()?),
        Command::Logs(args) => done(logs::run(args, &ctx.load()?)),
        Command::Cancel(args) => cancel::run(args, &ctx.load()?),
        Command::Artefacts(args) => done(artefacts::run(args, &ctx.load()?)),
        Command::Track(args) => done(track::run(args, &ctx.load()?)),
        Command::Inbox(args) => done(inbox::run(args, &ctx.load()?)),
        Command::Submit(args) => outbox::submit(args, &ctx),
        Command::Outbox(args) => outbox::run(args, &ctx),
        Command::Report(args) => report::run(args, &ctx),
        Command::Config(args) => done(settings::show(args, &ctx.load()?)),
        Command::Doctor(args) => doctor::run(args, &ctx.load()?),
        Command::Store(args) => done(store::run(args, &ctx.load()?)),
    }
}

/// Opens the existing database, for commands that only read.
fn open_existing(config: &Config) -> Result<Store, Error> {
    Ok(Store::open_existing(&config.database()?)?)
}

/// The shared HTTP settings a runner is opened with.
fn runner_context<'a>(
    config: &'a Config,
    info: &RunnerInfo,
    purpose: Purpose,
) -> RunnerContext<'a> {
    RunnerContext {
        purpose,
        env: &config.env,
        settings: config.section(info.code),
        http_timeout: config.required(keys::HTTP_TIMEOUT),
        artifact_caps: crate::runner::ArtifactCaps {
            bytes: config.required(keys::ARTIFACT_MAX_BYTES),
            time: config.required(keys::ARTIFACT_TIMEOUT),
            cases: config.required(keys::MAX_CASES) as usize,
        },
        backoff: Backoff::new(
            config.required(keys::RETRY_DELAY),
            std::time::Duration::from_secs(60),
        ),
    }
}

impl From<OpenError> for Error {
    fn from(e: OpenError) -> Error {
        match e {
            OpenError::NotConfigured(m) | OpenError::Unused(m) => {
                Error::Config(ConfigError::Runner(m))
            }
            OpenError::Config(c) => Error::Config(c),
            OpenError::Unreachable(m) => Error::Failed(m),
        }
    }
}

impl From<ScheduleError> for Error {
    fn from(e: ScheduleError) -> Error {
        match e {
            ScheduleError::Usage(m) => Error::Usage(m),
            ScheduleError::Config(m) => Error::Config(ConfigError::Runner(m)),
            ScheduleError::Store(s) => Error::Store(s),
            e @ (ScheduleError::Submission { .. } | ScheduleError::Plan(_)) => {
                Error::Failed(e.to_string())
            }
        }
    }
}

/// The runner the `runner` setting names (`--runner`, `KBRIDGE_RUNNER`,
/// else the first registered), or a usage error listing them.
fn chosen_runner(setup: &Setup) -> Result<&'static RunnerInfo, Error> {
    let (config, registry) = (&setup.config, setup.registry);
    let Some(code) = config.get(keys::RUNNER) else {
        return Ok(registry.default_runner());
    };
    registry.find(&code.value).ok_or_else(|| {
        Error::Usage(format!(
            "unknown runner '{}' (from {}); available runners: {}",
            code.value,
            code.source,
            registry.available()
        ))
    })
}

/// The runner a recorded job ran on, opened to process it.
fn job_runner(setup: &Setup, job: &crate::model::Job) -> Result<Box<dyn Runner>, Error> {
    recorded_runner(setup, &job.runner, &format!("job {}", job.id))
}

/// Opens the runner `what` (a recorded job or plan) was submitted to.
fn recorded_runner(setup: &Setup, code: &str, what: &str) -> Result<Box<dyn Runner>, Error> {
    let info = setup.registry.find(code).ok_or_else(|| {
        Error::Failed(format!(
            "{what} ran on '{code}', a runner this kbridge does not know"
        ))
    })?;
    open_runner(setup, info, Purpose::Process)
}

/// Opens one runner with its share of the settings.
fn open_runner(
    config: &Config,
    info: &RunnerInfo,
    purpose: Purpose,
) -> Result<Box<dyn Runner>, Error> {
    Ok((info.open)(&runner_context(config, info, purpose))?)
}

/// Opens every registered runner for `purpose`, leaving out those not
/// configured for it (each named in the log). None at all is an error that
/// says what each one lacks.
fn open_configured(setup: &Setup, purpose: Purpose, log: &Log) -> Result<Runners, Error> {
    let mut open = BTreeMap::new();
    let mut missing = Vec::new();
    let mut unused = Vec::new();
    for info in setup.registry.runners() {
        match (info.open)(&runner_context(setup, info, purpose)) {
            Ok(r) => {
                open.insert(info.code, Arc::from(r));
            }
            Err(OpenError::NotConfigured(why)) => missing.push((info.code, why)),
            Err(OpenError::Unused(why)) => unused.push((info.code, why)),
            Err(e) => return Err(e.into()),
        }
    }
    if open.is_empty() {
        // Only what the user could mean: a runner with nothing set up here
        // is named only when no runner has anything set up.
        if missing.is_empty() {
            missing = unused;
        }
        let why: Vec<String> = missing
            .iter()
            .map(|(code, why)| {
                if missing.len() == 1 {
                    why.clone()
                } else {
                    format!("{code}: {why}")
                }
            })
            .collect();
        return Err(Error::Config(ConfigError::Runner(why.join("; "))));
    }
    for (code, why) in missing {
        log.info(&format!("not receiving {code} callbacks: {why}"));
    }
    Ok(Arc::new(open))
}

/// The pipeline's settings from the resolved configuration.
fn pipeline_settings(config: &Config, workers: usize) -> pipeline::Settings {
    pipeline::Settings {
        origin: config.origin(),
        output_dir: config
            .get(keys::OUTPUT_DIR)
            .map(|s| s.value)
            .unwrap_or_else(|| PathBuf::from("kcidb")),
        backoff: Backoff::new(
            config.required(keys::RETRY_DELAY),
            std::time::Duration::from_secs(60),
        ),
        retry_for: config.required(keys::FETCH_RETRY_FOR),
        workers,
        grace: std::time::Duration::from_secs(5),
        service: true,
        unmatched_ttl: config.required(keys::UNMATCHED_TTL),
        lease: config.required(keys::CLAIM_LEASE),
        max_cases: config.required(keys::MAX_CASES) as usize,
        max_document: config.required(keys::MAX_DOCUMENT) as usize,
    }
}

/// Writes command output to stdout, with every secret kbridge knows and
/// the user information of every URL redacted: whatever a job, a setting
/// or a runner's answer holds, this is the one way out. A closed pipe
/// (`kbridge jobs | head`) is not an error: the reader has what it wanted.
fn print(text: &str) -> Result<(), Error> {
    let text = crate::secrets::redact(text);
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("cannot write to standard output", &e))
        }
        _ => Ok(()),
    }
}

/// Renders a left-aligned table; the last column is not padded.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    // A column is as wide as its widest cell of a sensible length; a longer
    // cell just pushes its row out (and format! refuses widths past u16).
    const WIDEST: usize = 100;
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            let n = cell.chars().count();
            if n <= WIDEST {
                *w = (*w).max(n);
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.to_string()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

/// An object as `--json` prints it: the format version first, then its
/// own fields in their order.
#[derive(serde::Serialize)]
struct Versioned<'a, T: serde::Serialize> {
    kbridge: u32,
    #[serde(flatten)]
    value: &'a T,
}

/// Serialises an object as pretty JSON for `--json` output, with the
/// format version under `kbridge`.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(&Versioned {
        kbridge: JSON_VERSION,
        value,
    })
    .expect("output types always serialise")
}

/// A list as `--json` prints it: an array of objects, each with the
/// format version, so a list stays a list.
fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    let items: Vec<Versioned<'_, T>> = items
        .iter()
        .map(|value| Versioned {
            kbridge: JSON_VERSION,
            value,
        })
        .collect();
    serde_json::to_string_pretty(&items).expect("output types always serialise")
}
