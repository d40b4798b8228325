//! kbridge: schedule kernel builds and tests on hosted runners and report
//! their results to KernelCI's KCIDB.
//!
//! `main` only parses the command line, runs the command and turns the
//! outcome into an exit status; see `error.rs` for the statuses.
//!
//! # Layout
//! From the bottom up; each module imports only those above it in this
//! list (`layers.rs` checks it):
//! - `clock`, `metrics`, `retry`, `urls`, `yaml`: time, counters, backoff,
//!   URL userinfo, bounded YAML;
//! - `secrets`: secrets and their redaction from everything printed;
//! - `model`: the runner-neutral vocabulary (jobs, specs, results, states);
//! - `location`: where the store is (a file, or a PostgreSQL URL);
//! - `http`, `log`: the HTTP client and the service log;
//! - `config`: the settings table, the environment, resolution;
//! - `runner`: the runner traits and the runners (one module each);
//! - `kcidb`: KCIDB documents, their checks, and the REST client;
//! - `store`: the record of jobs, callbacks and documents, on SQLite or
//!   PostgreSQL;
//! - `patches`, `githead`: what `--patch-series` and `--git-head` read;
//! - `report`: signed reports from other CI systems;
//! - `registry`: the runners kbridge knows, above `config` and `runner`;
//! - `scheduler`: recording and submitting a job or a plan, for any runner;
//! - `download`, `progress`: artefact downloads, and what a terminal sees;
//! - `error`, `outcome`: the top-level error and its exit status, and a
//!   job's verdict;
//! - `pipeline`: from an admitted callback to a delivered KCIDB document,
//!   every stage, started and stopped together;
//! - `listen`: the HTTP service of `kbridge listen`;
//! - `cli`, `commands`: the command line, and one file per command wiring
//!   the parts above together.
//!
//! `manual` (man pages, completions) and `layers` exist for the tests.

mod cli;
mod clock;
mod commands;
mod config;
mod download;
mod error;
mod githead;
mod http;
mod kcidb;
#[cfg(test)]
mod layers;
mod listen;
mod location;
mod log;
#[cfg(test)]
mod manual;
mod metrics;
mod model;
mod outcome;
mod patches;
mod pipeline;
mod progress;
mod registry;
mod report;
mod retry;
mod runner;
mod scheduler;
mod secrets;
mod store;
mod urls;
mod yaml;

use std::process::ExitCode;

fn main() -> ExitCode {
    let parsed = match cli::parse_from(std::env::args_os()) {
        Ok(p) => p,
        Err(e) => match cli::usage_line(&e) {
            // Help and version: clap knows where and how to print them.
            None => {
                let _ = e.print();
                return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(error::exit::USAGE));
            }
            Some(line) => {
                eprintln!("{line}");
                return ExitCode::from(error::exit::USAGE);
            }
        },
    };
    match commands::run(parsed) {
        Ok(status) => ExitCode::from(status),
        Err(e) => {
            eprintln!("error: {}", secrets::redact(&e.to_string()));
            e.exit_code()
        }
    }
}
