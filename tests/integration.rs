//! One test binary for every integration test, so the crate is linked once.

mod cli;
mod doctor;
mod first_contact;
mod hardening;
mod jobs;
mod kcidb;
mod lava;
mod listen;
mod parity;
mod postgres;
mod schedule;
mod security;
#[allow(dead_code)]
mod util;
mod wait;
