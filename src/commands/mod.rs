//! Each command wires the resolved settings into concrete parts and calls
//! them in order. This is the only layer that sees every other module; it
//! holds no SQL, HTTP or protocol details.

mod generate;
mod inbox;
mod jobs;
mod listen;
mod schedule;
mod settings;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use crate::cli::{Cli, Command};
use crate::config::{Config, Environment, Overrides};
use crate::error::Error;
use crate::progress::Ui;
use crate::runner::{self, Purpose, Runner, RunnerContext, RunnerInfo};
use crate::store::Store;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), Error> {
    let ui = Ui::new(cli.quiet);
    let overrides = Overrides {
        config: cli.config,
        db: cli.db,
        ..Overrides::default()
    };
    match cli.command {
        Command::Schedule(s) => schedule::run(*s, overrides, &ui),
        Command::Jobs(args) => jobs::list(args, &load(&overrides)?),
        Command::Show(args) => jobs::show(args, &load(&overrides)?),
        Command::Listen(args) => listen::run(args, overrides),
        Command::Results(args) => inbox::results(args, &load(&overrides)?),
        Command::Inbox(args) => inbox::run(args, &load(&overrides)?),
        Command::Config(args) => settings::show(args, &load(&overrides)?),
        Command::Generate(args) => generate::run(args),
    }
}

fn load(overrides: &Overrides) -> Result<Config, Error> {
    Ok(Config::load(overrides, Environment::from_process())?)
}

fn open_store(config: &Config) -> Result<Store, Error> {
    Ok(Store::open(&config.database.value)?)
}

/// Opens one runner with its share of the settings.
fn open_runner(
    config: &Config,
    info: &RunnerInfo,
    purpose: Purpose,
) -> Result<Box<dyn Runner>, Error> {
    Ok((info.open)(&RunnerContext {
        purpose,
        env: &config.env,
        settings: &config.runner_settings(info.code),
        http_timeout: config.http_timeout.value,
        retry_delay: config.retry_delay.value,
    })?)
}

/// Opens every registered runner for receiving callbacks.
fn open_runners(
    config: &Config,
    verify: bool,
) -> Result<BTreeMap<&'static str, Arc<dyn Runner>>, Error> {
    runner::RUNNERS
        .iter()
        .map(|info| {
            let r = open_runner(config, info, Purpose::Listen { verify })?;
            Ok((info.code, Arc::from(r)))
        })
        .collect()
}

/// A line in the listener's log, on stderr.
fn log(line: &str) {
    eprintln!("kbridge: {line}");
}

/// Writes command output to stdout. A closed pipe (`kbridge jobs | head`)
/// is not an error: the reader has what it wanted.
fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            context: "cannot write to standard output".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Renders a left-aligned table; the last column is not padded.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
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

/// Serialises a value as pretty JSON for `--json` output.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("output types always serialise")
}
