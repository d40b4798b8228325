//! kbridge: schedule kernel builds and tests on hosted runners and report
//! their results to KernelCI's KCIDB.
//!
//! `main` only parses the command line, runs the command and turns the
//! outcome into an exit status; see `error.rs` for the statuses.

mod cli;
mod commands;
mod config;
mod error;
mod kcidb;
mod listen;
mod model;
mod progress;
mod runner;
mod store;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
