//! Routing and the life of one request: cap the body, verify the raw bytes,
//! hand the callback to the inbox writer, and answer once it is on disk.
//!
//! | route | answer |
//! |---|---|
//! | `POST /callback/{runner}/{kind}` | 202 stored, 200 duplicate, 400 unreadable, 401 rejected, 404 unknown runner or kind, 408 body too slow, 413 body too large, 503 store failed |
//! | `GET /healthz` | 200 |
//! | anything else | 404, or 405 with `Allow` on a known path |

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming as Body};
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::listen::inbox::{Answer, Incoming, Msg, Rejected};
use crate::model::JobKind;
use crate::runner::{Runner, CALLBACK_TOKEN_HEADER, UNVERIFIED};

/// What every request handler shares.
pub struct Shared {
    pub runners: BTreeMap<&'static str, Arc<dyn Runner>>,
    /// False only under `--insecure-skip-verify`.
    pub verify: bool,
    pub max_body: u64,
    /// How long a client may take to send its body.
    pub body_timeout: Duration,
    pub writer: Sender<Msg>,
    pub log: fn(&str),
}

type Reply = Response<Full<Bytes>>;

/// Answers one request.
pub async fn handle(
    req: Request<Body>,
    shared: Arc<Shared>,
    peer: SocketAddr,
) -> Result<Reply, Infallible> {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    Ok(match (req.method(), segments.as_slice()) {
        (&Method::GET | &Method::HEAD, ["healthz"]) => text(StatusCode::OK, "ok\n"),
        (_, ["healthz"]) => not_allowed("GET, HEAD"),
        (&Method::POST, ["callback", runner, kind]) => {
            let (runner, kind) = (runner.to_string(), kind.to_string());
            callback(req, &shared, peer, &runner, &kind).await
        }
        (_, ["callback", _, _]) => not_allowed("POST"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    })
}

async fn callback(
    req: Request<Body>,
    shared: &Shared,
    peer: SocketAddr,
    runner: &str,
    kind: &str,
) -> Reply {
    let Some((&code, runner)) = shared.runners.get_key_value(runner) else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("unknown runner '{}'", runner.escape_default()),
        );
    };
    let Some(kind) = JobKind::parse(kind) else {
        return error(
            StatusCode::NOT_FOUND,
            &format!(
                "unknown kind '{}'; use build, test or boot",
                kind.escape_default()
            ),
        );
    };
    // Only log lines name the route; build it only for them.
    let route = || format!("/callback/{code}/{kind}");
    if !shared.verify {
        (shared.log)(&format!(
            "warning: callback from {peer} on {} accepted WITHOUT signature verification (--insecure-skip-verify)",
            route()
        ));
    }

    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.max_body) {
        return too_large(shared.max_body);
    }
    let (parts, body) = req.into_parts();
    let limited = Limited::new(body, shared.max_body as usize);
    let body = match tokio::time::timeout(shared.body_timeout, limited.collect()).await {
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                "the body took too long to arrive",
            )
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return too_large(shared.max_body)
        }
        Ok(Err(_)) => return error(StatusCode::BAD_REQUEST, "the body could not be read"),
        Ok(Ok(collected)) => collected.to_bytes(),
    };

    let headers = parts.headers;
    let token = headers
        .get(CALLBACK_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let kept: serde_json::Map<String, serde_json::Value> = runner
        .callback_headers()
        .iter()
        .filter_map(|&name| {
            let v = headers.get(name)?.to_str().ok()?;
            Some((name.to_string(), v.into()))
        })
        .collect();
    let kept = serde_json::Value::Object(kept).to_string();

    // Verifying costs tens of microseconds of CPU: keep it off the threads
    // that drive connections.
    let (runner, verify) = (runner.clone(), shared.verify);
    let checked = tokio::task::spawn_blocking(move || {
        let verified = if verify {
            runner.verify_callback(&headers, &body)
        } else {
            Ok(UNVERIFIED)
        };
        // Parsing only ever sees bytes whose signature held.
        let uid = verified
            .as_ref()
            .ok()
            .map(|v| runner.parse_callback(kind, &body, v).map(|cb| cb.uid));
        (verified, uid, body)
    })
    .await;
    let Ok((verified, uid, body)) = checked else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "verification failed unexpectedly",
        );
    };

    let verified_as = match verified {
        Ok(v) => v,
        Err(reason) => {
            (shared.log)(&format!(
                "rejected callback from {peer} on {}: {reason}",
                route()
            ));
            let _ = shared.writer.send(Msg::Rejected(Rejected {
                runner: code,
                kind,
                headers: kept,
                body_bytes: body.len(),
                reason: reason.clone(),
            }));
            return error(StatusCode::UNAUTHORIZED, &reason);
        }
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    let incoming = Incoming {
        runner: code,
        kind,
        headers: kept,
        token,
        // Reuses the buffer when nothing else holds it.
        body: Vec::from(body),
        verified_as,
        uid: uid.expect("parsed whenever verified"),
    };
    if shared
        .writer
        .send(Msg::Callback(Box::new(incoming), reply))
        .is_err()
    {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down; try again");
    }
    match answer.await {
        Ok(Answer::Accepted { inbox, job }) => json_reply(
            StatusCode::ACCEPTED,
            json!({"result": "accepted", "inbox": inbox, "job": job}),
        ),
        Ok(Answer::Duplicate { inbox }) => json_reply(
            StatusCode::OK,
            json!({"result": "duplicate", "inbox": inbox}),
        ),
        Ok(Answer::Rejected(reason)) => {
            (shared.log)(&format!(
                "rejected callback from {peer} on {}: {reason}",
                route()
            ));
            error(StatusCode::UNAUTHORIZED, &reason)
        }
        Ok(Answer::Invalid(reason)) => {
            (shared.log)(&format!(
                "invalid callback from {peer} on {}: {reason}",
                route()
            ));
            error(StatusCode::BAD_REQUEST, &reason)
        }
        Ok(Answer::Unavailable(_)) | Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the callback could not be stored; try again",
        ),
    }
}

fn text(status: StatusCode, body: &'static str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn json_reply(status: StatusCode, body: serde_json::Value) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// A short reason, never the expected signature, a key or the body.
fn error(status: StatusCode, reason: &str) -> Reply {
    json_reply(status, json!({"error": reason}))
}

fn too_large(max: u64) -> Reply {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the body is larger than {max} bytes"),
    )
}

fn not_allowed(allow: &'static str) -> Reply {
    let mut r = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    r.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    r
}
