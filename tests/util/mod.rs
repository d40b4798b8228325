//! The test harness, one concern per file:
//!
//! - `env`: a sealed environment per test that drives the real binary;
//! - `tuxsuite`: a TuxSuite stand-in that follows the documented protocol;
//! - `listener`: TuxSuite's signing keys, and a running `kbridge listen`;
//! - `artifacts`: an artefact server, and the example callbacks and results;
//! - `kcidb`: a KCIDB REST API stand-in;
//! - `terminal`: a program on a pseudo-terminal, and the screen it leaves;
//! - `postgres`: a database of its own per test on a real PostgreSQL server.

pub mod artifacts;
pub mod env;
pub mod kcidb;
pub mod lava;
pub mod listener;
pub mod postgres;
pub mod terminal;
pub mod tuxsuite;

use std::time::Duration;

pub use artifacts::*;
pub use env::*;
pub use kcidb::*;
pub use lava::*;
pub use listener::*;
pub use terminal::*;
pub use tuxsuite::*;

/// A stand-in's HTTP server on `addr` whose connections send at once:
/// tiny_http writes an answer's headers and body separately, and with
/// Nagle's algorithm the body then waits for the client's delayed ACK
/// (about 40 ms on Linux), which no real service adds. Accepted sockets
/// inherit TCP_NODELAY from the listening one.
pub fn http_server(addr: &str) -> tiny_http::Server {
    let addr: std::net::SocketAddr = addr.parse().expect("a socket address");
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )
    .unwrap();
    socket.set_reuse_address(true).unwrap();
    socket.set_tcp_nodelay(true).unwrap();
    socket.bind(&addr.into()).unwrap();
    socket.listen(1024).unwrap();
    let listener: std::net::TcpListener = socket.into();
    tiny_http::Server::from_listener(listener, None).unwrap()
}

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
