//! Routing and the life of one request: cap the body, verify the raw bytes,
//! hand the callback to the pipeline, and answer once it is on disk.
//!
//! | route | answer |
//! |---|---|
//! | `POST /callback/{runner}/{kind}` | 202 stored, 200 duplicate, 400 unreadable, 401 rejected, 404 unknown or unconfigured runner or kind, 408 body too slow, 413 body too large, 503 store failed |
//! | `POST /results` | a signed report: 202 stored, 200 duplicate, 400 unreadable, 401 rejected, 404 no sources configured |
//! | `GET /healthz` | 200 |
//! | anything else | 404, or 405 with `Allow` on a known path |
//!
//! [`handle`] is generic over the body type, so tests drive it with an
//! in-memory request and no socket.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Bytes};
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::log::Log;
use crate::model::JobKind;
use crate::pipeline::{Answer, Incoming, Intake, Matching, Refused, Runners};
use crate::runner::{CallbackAuth, UNVERIFIED};

/// What every request handler shares.
pub struct Shared {
    /// The runners configured to receive callbacks.
    pub runners: Runners,
    /// False only under `--insecure-skip-verify`.
    pub verify: bool,
    pub max_body: u64,
    /// How long a client may take to send its body.
    pub body_timeout: Duration,
    pub intake: Intake,
    pub log: Log,
    /// Who may send results with `POST /results`; `None` when no source is
    /// configured.
    pub reports: Option<Reports>,
}

/// What `POST /results` needs.
pub struct Reports {
    pub sources: crate::report::Sources,
    /// The KCIDB origin of the documents made from reports.
    pub origin: String,
}

/// An answer.
pub type Reply = Response<Full<Bytes>>;

/// Answers one request.
pub async fn handle<B>(
    req: Request<B>,
    shared: Arc<Shared>,
    peer: SocketAddr,
) -> Result<Reply, Infallible>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
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
        (&Method::POST, ["results"]) => results(req, &shared, peer).await,
        (_, ["results"]) => not_allowed("POST"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    })
}

async fn callback<B>(
    req: Request<B>,
    shared: &Shared,
    peer: SocketAddr,
    runner: &str,
    kind: &str,
) -> Reply
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some((&code, runner)) = shared.runners.get_key_value(runner) else {
        let shown = runner.escape_default().to_string();
        return match crate::runner::find(runner) {
            Some(_) => error(
                StatusCode::NOT_FOUND,
                &format!("runner '{shown}' is not configured on this listener; `kbridge config` shows its settings"),
            ),
            None => error(StatusCode::NOT_FOUND, &format!("unknown runner '{shown}'")),
        };
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
        shared.log.warn(&format!(
            "callback from {peer} on {} accepted WITHOUT signature verification (--insecure-skip-verify)",
            route()
        ));
    }
    // A request without the runner's authentication header is refused
    // before its body is read into memory. What the client is still
    // sending is read and thrown away, up to a bound, so that it gets to
    // read the answer instead of a broken pipe.
    if shared.verify && !req.headers().contains_key(runner.auth_header()) {
        let reason = crate::runner::VerifyError::Missing(runner.auth_header()).to_string();
        refused(
            shared,
            runner.as_ref(),
            code,
            kind,
            peer,
            &reason,
            "{}".into(),
            0,
        );
        let drained = drain(req.into_body(), shared.max_body, shared.body_timeout).await;
        let mut reply = error(StatusCode::UNAUTHORIZED, &reason);
        if !drained {
            reply
                .headers_mut()
                .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
        }
        return reply;
    }

    let headers = req.headers().clone();
    let body = match read_body(req, shared).await {
        Ok(b) => b,
        Err(reply) => return reply,
    };

    let token = runner.callback_token(&headers).map(str::to_string);
    let kept: serde_json::Map<String, serde_json::Value> = runner
        .kept_headers()
        .iter()
        .filter_map(|&name| {
            let v = headers.get(name)?.to_str().ok()?;
            Some((name.to_string(), v.into()))
        })
        .collect();
    let kept = serde_json::Value::Object(kept).to_string();

    // Verifying costs tens of microseconds of CPU: keep it off the threads
    // that drive connections.
    let (r, verify) = (runner.clone(), shared.verify);
    let checked = tokio::task::spawn_blocking(move || {
        let verified = if verify {
            r.verify_callback(&headers, &body)
        } else {
            Ok(UNVERIFIED)
        };
        match verified {
            Err(e) => Err((e, body.len())),
            Ok(v) => {
                let stored = r.stored_body(Vec::from(body));
                // Parsing only ever sees bytes whose authentication held.
                let parsed = r
                    .parse_callback(kind, &stored, v)
                    .map(|cb| Matching::of(r.as_ref(), &cb));
                Ok((v, stored, parsed))
            }
        }
    })
    .await;
    let Ok(checked) = checked else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "verification failed unexpectedly",
        );
    };
    let (verified_as, body, parsed) = match checked {
        Ok(ok) => ok,
        Err((reason, body_bytes)) => {
            let reason = reason.to_string();
            refused(
                shared,
                runner.as_ref(),
                code,
                kind,
                peer,
                &reason,
                kept,
                body_bytes,
            );
            return error(StatusCode::UNAUTHORIZED, &reason);
        }
    };
    let answer = shared.intake.admit(Incoming {
        runner: code,
        kind,
        headers: kept,
        token,
        body,
        verified_as,
        parsed,
    });
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
            shared.log.info(&format!(
                "rejected callback from {peer} on {}: {reason}",
                route()
            ));
            error(StatusCode::UNAUTHORIZED, &reason)
        }
        Ok(Answer::Invalid(reason)) => {
            shared.log.info(&format!(
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

/// `POST /results`: a signed report from a system that is not a runner.
async fn results<B>(req: Request<B>, shared: &Shared, peer: SocketAddr) -> Reply
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use crate::report::{SIGNATURE_HEADER, SOURCE_HEADER, TIMESTAMP_HEADER};
    let Some(reports) = &shared.reports else {
        return error(
            StatusCode::NOT_FOUND,
            "this listener takes no reports: no [report.sources.NAME] is configured",
        );
    };
    let header = |req: &Request<B>, name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    if header(&req, SIGNATURE_HEADER).is_none() {
        let reason = format!("missing {SIGNATURE_HEADER} header");
        shared
            .log
            .info(&format!("rejected report from {peer}: {reason}"));
        let _ = drain(req.into_body(), shared.max_body, shared.body_timeout).await;
        return error(StatusCode::UNAUTHORIZED, &reason);
    }
    let (source, timestamp, signature) = (
        header(&req, SOURCE_HEADER),
        header(&req, TIMESTAMP_HEADER),
        header(&req, SIGNATURE_HEADER),
    );
    let body = match read_body(req, shared).await {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let now = jiff::Timestamp::now().as_second();
    let source = match reports.sources.verify(
        source.as_deref(),
        timestamp.as_deref(),
        signature.as_deref(),
        &body,
        now,
    ) {
        Ok(s) => s,
        Err(why) => {
            shared
                .log
                .info(&format!("rejected report from {peer}: {why}"));
            return error(StatusCode::UNAUTHORIZED, &why.to_string());
        }
    };
    let report = match crate::report::parse(&body) {
        Ok(r) => r,
        Err(why) => {
            shared
                .log
                .info(&format!("invalid report from {source} ({peer}): {why}"));
            return error(StatusCode::BAD_REQUEST, &why);
        }
    };
    let doc = crate::kcidb::report_document(&report, &reports.origin);
    let mut document = serde_json::to_string_pretty(&doc).expect("documents always serialise");
    document.push('\n');
    let answer = shared.intake.report(crate::pipeline::SignedReport {
        source: source.clone(),
        signature: signature.unwrap_or_default(),
        body: body.to_vec(),
        test_uid: report.test_uid.clone(),
        document,
    });
    match answer.await {
        Ok(Answer::Accepted { inbox, .. }) => {
            shared.log.info(&format!(
                "report {} from {source}: {} test(s) queued for KCIDB (inbox {inbox})",
                report.test_uid,
                report.tests.len()
            ));
            json_reply(
                StatusCode::ACCEPTED,
                json!({"result": "accepted", "inbox": inbox}),
            )
        }
        Ok(Answer::Duplicate { inbox }) => json_reply(
            StatusCode::OK,
            json!({"result": "duplicate", "inbox": inbox}),
        ),
        Ok(Answer::Rejected(reason)) => {
            shared
                .log
                .info(&format!("rejected report from {source} ({peer}): {reason}"));
            error(StatusCode::UNAUTHORIZED, &reason)
        }
        Ok(Answer::Invalid(reason)) => error(StatusCode::BAD_REQUEST, &reason),
        Ok(Answer::Unavailable(_)) | Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the report could not be stored; try again",
        ),
    }
}

/// Reads a body up to the size limit, in the time allowed.
async fn read_body<B>(req: Request<B>, shared: &Shared) -> Result<Bytes, Reply>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.max_body) {
        return Err(too_large(shared.max_body));
    }
    let limited = Limited::new(
        req.into_body(),
        usize::try_from(shared.max_body).unwrap_or(usize::MAX),
    );
    match tokio::time::timeout(shared.body_timeout, limited.collect()).await {
        Err(_) => Err(error(
            StatusCode::REQUEST_TIMEOUT,
            "the body took too long to arrive",
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(too_large(shared.max_body))
        }
        Ok(Err(_)) => Err(error(StatusCode::BAD_REQUEST, "the body could not be read")),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Logs a request whose authentication did not hold and records it,
/// without its body; nothing is kept for a token-only runner.
#[allow(clippy::too_many_arguments)]
fn refused(
    shared: &Shared,
    runner: &dyn crate::runner::Runner,
    code: &'static str,
    kind: JobKind,
    peer: SocketAddr,
    reason: &str,
    headers: String,
    body_bytes: usize,
) {
    shared.log.info(&format!(
        "rejected callback from {peer} on /callback/{code}/{kind}: {reason}"
    ));
    if runner.callback_auth() == CallbackAuth::Signed {
        shared.intake.refused(Refused {
            runner: code,
            kind,
            headers,
            body_bytes,
            reason: reason.to_string(),
        });
    }
}

/// Reads a body to its end without keeping it, up to `limit` bytes and
/// `timeout`. Returns whether the end was reached (the connection can be
/// reused).
async fn drain<B>(body: B, limit: u64, timeout: Duration) -> bool
where
    B: Body,
{
    let reading = async {
        let mut body = std::pin::pin!(body);
        let mut seen: u64 = 0;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                seen += hyper::body::Buf::remaining(data) as u64;
                if seen > limit {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(timeout, reading)
        .await
        .unwrap_or(false)
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
