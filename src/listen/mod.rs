//! `kbridge listen`: the HTTP side only. What happens to a callback once it
//! is authenticated belongs to the pipeline (`crate::pipeline`).
//!
//! # Layout
//! - this file: the accept loop, a function of an already-bound listener
//!   and a shutdown future, so tests bind port 0 and stop it at will;
//! - `handler`: routing and one request's life (body cap, verification,
//!   hand-off to the pipeline), generic over the body type so it can be
//!   driven with an in-memory request.
//!
//! Data flows one way: HTTP → verify → pipeline.

pub mod handler;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use handler::Shared;

/// The most connections served at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 1024;
/// How long in-flight requests may take to finish after a stop.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves until `shutdown` completes, then stops accepting and lets
/// in-flight requests finish (up to [`DRAIN`]).
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    shared: Arc<Shared>,
    header_timeout: Duration,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
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
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let service = service_fn(move |req| handler::handle(req, shared.clone(), peer));
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => {}
    }
}
