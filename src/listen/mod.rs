//! `kbridge listen`: the HTTP side only. What happens to a callback once it
//! is authenticated belongs to the pipeline (`crate::pipeline`).
//!
//! # Layout
//! - this file: the accept loop, a function of an already-bound listener
//!   and a shutdown future, so tests bind port 0 and stop it at will; it
//!   caps connections (in all and per client address) and header sizes;
//! - `handler`: routing and one request's life (body cap, verification,
//!   hand-off to the pipeline), generic over the body type so it can be
//!   driven with an in-memory request;
//! - `service`: the service around them: bind, serve, reload on SIGHUP,
//!   stop, with the pipeline that stores and processes what is received.
//!
//! Data flows one way: HTTP → verify → pipeline.

pub mod handler;
pub mod service;

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use handler::{Routes, Shared};

/// How long in-flight requests may take to finish after a stop.
const DRAIN: Duration = Duration::from_secs(10);
/// The most bytes of request line and headers: beyond it, 431.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
/// A connection's read buffer; bounds what a client can make the listener
/// hold while it trickles an endless header.
const READ_BUFFER: usize = 64 * 1024;

/// How many connections an address serves.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// At once, from everyone; more wait in the kernel's accept queue.
    pub connections: usize,
    /// At once, from one client address; more are closed at once. 0 for
    /// no limit.
    pub per_client: usize,
    /// How long a client may take to send its request headers.
    pub header_timeout: Duration,
}

/// Open connections by client address.
#[derive(Default)]
struct Clients(Mutex<HashMap<IpAddr, usize>>);

/// One connection counted against its client's share.
struct Counted {
    clients: Arc<Clients>,
    ip: IpAddr,
}

impl Clients {
    fn enter(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<Counted> {
        let mut open = self.0.lock().ok()?;
        let n = open.entry(ip).or_insert(0);
        if limit > 0 && *n >= limit {
            return None;
        }
        *n += 1;
        Some(Counted {
            clients: self.clone(),
            ip,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Ok(mut open) = self.clients.0.lock() {
            if let Some(n) = open.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&self.ip);
                }
            }
        }
    }
}

/// Serves `routes` until `shutdown` completes, then stops accepting and
/// lets in-flight requests finish (up to [`DRAIN`]).
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    shared: Arc<Shared>,
    limits: Limits,
    routes: Routes,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .max_buf_size(READ_BUFFER)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.connections.max(1)));
    let clients = Arc::new(Clients::default());
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather
                    // than spin.
                    shared.log.error(&format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(counted) = clients.enter(peer.ip(), limits.per_client) else {
            crate::metrics::global().connection_refused();
            shared.log.limited(
                "connections",
                crate::log::Level::Warn,
                &format!(
                    "closed a connection from {}: it already has {} open (max_connections_per_client)",
                    peer.ip(),
                    limits.per_client
                ),
                crate::log::Fields::default(),
            );
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let service = service_fn(move |req| handler::handle(req, shared.clone(), peer, routes));
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = conn.await;
            drop(counted);
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => {}
    }
}
