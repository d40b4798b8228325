//! One test binary for every integration test, so the crate is linked once.

mod cli;
mod jobs;
mod listen;
mod schedule;
mod util;
