//! kbridge: schedule kernel builds and tests on hosted runners and report
//! their results to KernelCI's KCIDB.
//!
//! `main` only parses the command line, runs the command and turns the
//! outcome into an exit status; see `error.rs` for the statuses.
//!
//! # Layout
//! - `cli`, `config`: the command line and the settings table;
//! - `commands`: one file per command, wiring the parts below together;
//! - `runner`: the services that run jobs (one module each) and the trait
//!   they implement;
//! - `scheduler`: recording and submitting a job, for any runner;
//! - `store`: the SQLite file;
//! - `pipeline`: from an admitted callback to a KCIDB document, for any
//!   runner, with or without an HTTP server in front;
//! - `listen`: the HTTP side of `kbridge listen`;
//! - `kcidb`: KCIDB documents and their checks;
//! - `http`, `retry`, `log`, `progress`: shared plumbing;
//! - `secrets`, `urls`: what never leaves kbridge in the clear.

mod cli;
mod clock;
mod commands;
mod config;
mod download;
mod error;
mod githead;
mod http;
mod kcidb;
mod listen;
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
