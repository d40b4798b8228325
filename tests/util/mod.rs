//! The test harness, one concern per file:
//!
//! - `env`: a sealed environment per test that drives the real binary;
//! - `tuxsuite`: a TuxSuite stand-in that follows the documented protocol;
//! - `listener`: TuxSuite's signing keys, and a running `kbridge listen`;
//! - `artifacts`: an artefact server, and the example callbacks and results;
//! - `kcidb`: a KCIDB REST API stand-in.

pub mod artifacts;
pub mod env;
pub mod kcidb;
pub mod lava;
pub mod listener;
pub mod tuxsuite;

use std::time::Duration;

pub use artifacts::*;
pub use env::*;
pub use kcidb::*;
pub use lava::*;
pub use listener::*;
pub use tuxsuite::*;

/// Polls `cond` until it holds, failing the test after `timeout`.
#[track_caller]
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Answers a stand-in's request and closes the connection: tiny_http
/// serves each connection on one of a few pooled threads, and a client's
/// idle keep-alive connections can hold them all, leaving a new
/// connection unserved.
pub fn respond<R: std::io::Read>(req: tiny_http::Request, resp: tiny_http::Response<R>) {
    let close = "Connection: close"
        .parse::<tiny_http::Header>()
        .expect("a valid header");
    let _ = req.respond(resp.with_header(close));
}
