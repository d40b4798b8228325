//! Routing and the life of one request: check what the headers allow,
//! cap the body, verify the raw bytes, hand the callback to the pipeline,
//! and answer once it is on disk.
//!
//! | route | answer |
//! |---|---|
//! | `POST /callback/{runner}/{kind}` (kind: build, test, boot, or plan for a runner with plans) | 202 stored, 200 duplicate, 400 unreadable, 401 rejected, 404 unknown or unconfigured runner or kind, 408 body too slow, 413 body too large, 503 store or queue full |
//! | `POST /results` | a signed report: 202 stored, 200 duplicate, 400 unreadable, 401 rejected, 404 no sources configured |
//! | `GET /healthz` | 200 when the process and its store writer are alive |
//! | `GET /readyz` | 200 when callbacks can be stored and nothing is piling up, else 503 with the reasons |
//! | `GET /metrics` | the Prometheus text format |
//! | anything else | 404, or 405 with `Allow` on a known path |
//!
//! Nothing of a refused request is stored: it is counted
//! ([`crate::metrics`]) and logged at a bounded rate. A request refused
//! before its body is read has the body drained, up to a bound, so the
//! client reads the answer instead of a broken pipe.
//!
//! [`handle`] is generic over the body type, so tests drive it with an
//! in-memory request and no socket.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Bytes};
use hyper::header::{HeaderValue, ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::log::{Fields, Level, Log};
use crate::metrics::Refusal;
use crate::model::JobKind;
use crate::pipeline::{Answer, Incoming, IncomingPlan, Intake, Matching, Runners};
use crate::runner::UNVERIFIED;

/// What every request handler shares.
pub struct Shared {
    /// The runners configured to receive callbacks; SIGHUP swaps them.
    pub runners: RwLock<Runners>,
    /// False only under `--insecure-skip-verify`.
    pub verify: bool,
    pub max_body: u64,
    /// How long a client may take to send its body.
    pub body_timeout: Duration,
    pub intake: Intake,
    pub log: Log,
    /// Who may send results with `POST /results`; `None` when no source is
    /// configured. SIGHUP swaps it.
    pub reports: RwLock<Option<Arc<Reports>>>,
    /// Request body bytes that may be held in memory at once, in KiB.
    pub buffered: Arc<Semaphore>,
    /// What `/readyz` and `/metrics` read.
    pub ops: Option<Arc<crate::pipeline::health::Health>>,
    /// Numbers requests for log lines.
    pub requests: AtomicU64,
    /// Callbacks refused for a reason that says a runner's setup here is
    /// wrong, counted for `wait`, `jobs` and `doctor`.
    pub refusals: crate::pipeline::poller::RefusalTally,
}

/// What `POST /results` needs.
pub struct Reports {
    pub sources: crate::report::Sources,
    /// The KCIDB origin of the documents made from reports.
    pub origin: String,
}

/// Which routes an address serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    /// Everything: callbacks, reports and the operations routes.
    All,
    /// Only `/healthz`, `/readyz` and `/metrics` (the operations address).
    Ops,
}

/// An answer.
pub type Reply = Response<Full<Bytes>>;

/// The most of a refused request's body read and thrown away so the client
/// reads the answer; beyond it (or [`DRAIN_TIME`]) the connection is closed.
const DRAIN_BYTES: u64 = 8 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(2);
/// How long a request waits for room in the body budget before 503.
const BUDGET_WAIT: Duration = Duration::from_secs(2);

/// Answers one request.
pub async fn handle<B>(
    req: Request<B>,
    shared: Arc<Shared>,
    peer: SocketAddr,
    routes: Routes,
) -> Result<Reply, Infallible>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let get = matches!(req.method(), &Method::GET | &Method::HEAD);
    let reply = match (segments.as_slice(), routes) {
        (["healthz"], _) if get => healthz(&shared),
        (["readyz"], _) if get => readyz(&shared).await,
        (["metrics"], _) if get => metrics(&shared).await,
        (["healthz" | "readyz" | "metrics"], _) => not_allowed("GET, HEAD"),
        (["callback", runner, kind], Routes::All) if req.method() == Method::POST => {
            let (runner, kind) = (runner.to_string(), kind.to_string());
            callback(req, &shared, peer, &runner, &kind).await
        }
        (["callback", _, _], Routes::All) => not_allowed("POST"),
        (["results"], Routes::All) if req.method() == Method::POST => {
            results(req, &shared, peer).await
        }
        (["results"], Routes::All) => not_allowed("POST"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    Ok(reply)
}

fn healthz(shared: &Shared) -> Reply {
    if shared.intake.writer_alive() {
        text(StatusCode::OK, "ok\n")
    } else {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the store writer has stopped\n",
        )
    }
}

async fn readyz(shared: &Shared) -> Reply {
    let Some(ops) = shared.ops.clone() else {
        return text(StatusCode::OK, "ready\n");
    };
    let intake = shared.intake.clone();
    let checked = tokio::task::spawn_blocking(move || ops.readiness(&intake)).await;
    match checked {
        Ok(Ok(())) => json_reply(StatusCode::OK, json!({"ready": true})),
        Ok(Err(reasons)) => json_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"ready": false, "reasons": reasons}),
        ),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "readiness check failed"),
    }
}

async fn metrics(shared: &Shared) -> Reply {
    let figures = match shared.ops.clone() {
        Some(ops) => tokio::task::spawn_blocking(move || ops.figures())
            .await
            .unwrap_or_default(),
        None => Default::default(),
    };
    let body = crate::metrics::global().render(&figures);
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

/// Verifies a callback's raw bytes, keeps what may be stored of them, and
/// parses that: parsing only ever sees bytes whose authentication held.
fn check(
    runner: &dyn crate::runner::Runner,
    verify: bool,
    headers: &hyper::HeaderMap,
    body: Bytes,
    kind: Option<JobKind>,
) -> Result<(&'static str, Vec<u8>, Parsed), crate::runner::VerifyError> {
    let verified = if verify {
        runner.verify_callback(headers, &body)?
    } else {
        UNVERIFIED
    };
    let stored = runner.stored_body(Vec::from(body));
    let parsed = match kind {
        Some(kind) => Parsed::Job(
            kind,
            runner
                .parse_callback(kind, &stored, verified)
                .map(|cb| Matching::of(&cb)),
        ),
        None => Parsed::Plan(match runner.plans() {
            Some(p) => p.parse_plan_callback(&stored, verified),
            // The route is served only for runners with plans.
            None => Err(crate::runner::ParseError::Invalid("no plans here".into())),
        }),
    };
    Ok((verified, stored, parsed))
}

/// Counts a refused callback whose signature was there but did not hold:
/// what a wrong key on this side looks like (a request without one is
/// anyone's, and says nothing about the setup).
fn counted(shared: &Shared, runner: &str, e: &crate::runner::VerifyError) {
    if !matches!(e, crate::runner::VerifyError::Missing(_)) {
        shared.refusals.record(runner, &e.to_string());
    }
}

/// Counts a refused request and logs it at a bounded rate.
fn refuse(shared: &Shared, why: Refusal, message: &str, fields: Fields<'_>) {
    crate::metrics::global().refused(why);
    shared.log.limited("refused", Level::Info, message, fields);
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
    let request = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let fields = Fields {
        request: Some(request),
        ..Fields::default()
    };
    let runners = shared.runners.read().map(|r| r.clone()).unwrap_or_default();
    let Some((&code, runner)) = runners.get_key_value(runner) else {
        let shown = runner.escape_default().to_string();
        let reason = match crate::registry::Registry::builtin().find(runner) {
            Some(_) => format!("runner '{shown}' is not configured on this listener; `kbridge config` shows its settings"),
            None => format!("unknown runner '{shown}'"),
        };
        refuse(
            shared,
            Refusal::Route,
            &format!("refused request from {peer}: {reason}"),
            fields,
        );
        return early(req.into_body(), error(StatusCode::NOT_FOUND, &reason)).await;
    };
    let fields = Fields {
        runner: Some(code),
        ..fields
    };
    // `None` is the route of the runner's plan callbacks.
    let kind = match (kind, JobKind::parse(kind)) {
        (_, Some(k)) => Some(k),
        ("plan", None) if runner.plans().is_some() => None,
        (kind, None) => {
            let reason = format!(
                "unknown kind '{}'; use build, test{}",
                kind.escape_default(),
                if runner.plans().is_some() {
                    ", boot or plan"
                } else {
                    " or boot"
                }
            );
            refuse(
                shared,
                Refusal::Route,
                &format!("refused request from {peer}: {reason}"),
                fields,
            );
            return early(req.into_body(), error(StatusCode::NOT_FOUND, &reason)).await;
        }
    };
    let route = format!("/callback/{code}/{}", kind.map_or("plan", JobKind::as_str));
    if shared.verify {
        // A request without the runner's authentication, or with one that
        // cannot be right, is refused before its body is read.
        if let Err(e) = runner.precheck(req.headers()) {
            let reason = e.to_string();
            counted(shared, code, &e);
            refuse(
                shared,
                Refusal::Signature,
                &format!("refused callback from {peer} on {route}: {reason}"),
                fields,
            );
            return early(req.into_body(), error(StatusCode::UNAUTHORIZED, &reason)).await;
        }
    } else {
        shared.log.warn(&format!(
            "callback from {peer} on {route} accepted WITHOUT signature verification (--insecure-skip-verify)"
        ));
    }
    let headers = req.headers().clone();
    let what = format!("callback from {peer} on {route}");
    // Room in memory for the body, held until the answer is known.
    let (body, _permit) = match bounded_body(req, shared, &what, fields).await {
        Ok(b) => b,
        Err(reply) => return reply,
    };

    let token = crate::runner::callback_token(&headers).map(str::to_string);
    let kept: serde_json::Map<String, serde_json::Value> = runner
        .protocol()
        .kept_headers
        .iter()
        .filter_map(|&name| {
            let v = headers.get(name)?.to_str().ok()?;
            // Headers are capped as a whole; each kept one is short too.
            Some((
                name.to_string(),
                v.chars().take(256).collect::<String>().into(),
            ))
        })
        .collect();
    let kept = serde_json::Value::Object(kept).to_string();

    // Verifying costs tens of microseconds of CPU: keep it off the threads
    // that drive connections.
    let (r, verify) = (runner.clone(), shared.verify);
    let checked =
        tokio::task::spawn_blocking(move || check(r.as_ref(), verify, &headers, body, kind)).await;
    let Ok(checked) = checked else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "verification failed unexpectedly",
        );
    };
    let (verified_as, body, parsed) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            let reason = e.to_string();
            counted(shared, code, &e);
            refuse(
                shared,
                Refusal::Signature,
                &format!("refused callback from {peer} on {route}: {reason}"),
                fields,
            );
            return error(StatusCode::UNAUTHORIZED, &reason);
        }
    };
    let uid = match &parsed {
        Parsed::Job(_, p) => p.as_ref().ok().and_then(|m| m.uid.clone()),
        Parsed::Plan(p) => p.as_ref().ok().and_then(|r| r.uid.clone()),
    };
    let fields = Fields {
        uid: uid.as_deref(),
        ..fields
    };
    let answer = match parsed {
        Parsed::Job(kind, parsed) => shared.intake.admit(Incoming {
            runner: code,
            kind,
            headers: kept,
            token,
            body,
            verified_as,
            parsed,
        }),
        // A plan callback is recorded on its plan; its body is not kept.
        Parsed::Plan(parsed) => shared.intake.plan(IncomingPlan {
            runner: code,
            token,
            parsed,
        }),
    };
    let m = crate::metrics::global();
    match answer.await {
        Ok(Answer::Accepted { inbox, job }) => {
            m.accepted();
            json_reply(
                StatusCode::ACCEPTED,
                json!({"result": "accepted", "inbox": inbox, "job": job}),
            )
        }
        Ok(Answer::Unmatched { inbox }) => {
            m.unmatched();
            json_reply(
                StatusCode::ACCEPTED,
                json!({"result": "accepted", "inbox": inbox, "job": null}),
            )
        }
        Ok(Answer::Duplicate { inbox }) => {
            m.duplicate();
            json_reply(
                StatusCode::OK,
                json!({"result": "duplicate", "inbox": inbox}),
            )
        }
        Ok(Answer::PlanRecorded { plan, polled }) => {
            m.accepted();
            json_reply(
                StatusCode::ACCEPTED,
                json!({"result": "accepted", "plan": plan, "polling": polled}),
            )
        }
        Ok(Answer::PlanDuplicate { plan }) => {
            m.duplicate();
            json_reply(StatusCode::OK, json!({"result": "duplicate", "plan": plan}))
        }
        Ok(Answer::Rejected(reason)) => {
            refuse(
                shared,
                Refusal::Token,
                &format!("refused callback from {peer} on {route}: {reason}"),
                fields,
            );
            error(StatusCode::UNAUTHORIZED, &reason)
        }
        Ok(Answer::Invalid(reason)) => {
            refuse(
                shared,
                Refusal::Malformed,
                &format!("invalid callback from {peer} on {route}: {reason}"),
                fields,
            );
            error(StatusCode::BAD_REQUEST, &reason)
        }
        Ok(Answer::Unavailable(_)) | Err(_) => {
            m.refused(Refusal::Unavailable);
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the callback could not be stored; try again",
            )
        }
    }
}

/// A verified callback's body, parsed for its route.
enum Parsed {
    Job(JobKind, Result<Matching, crate::runner::ParseError>),
    Plan(Result<crate::runner::PlanReport, crate::runner::ParseError>),
}

/// `POST /results`: a signed report from a system that is not a runner.
async fn results<B>(req: Request<B>, shared: &Shared, peer: SocketAddr) -> Reply
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use crate::report::{SIGNATURE_HEADER, SOURCE_HEADER, TIMESTAMP_HEADER};
    let request = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let fields = Fields {
        request: Some(request),
        ..Fields::default()
    };
    let reports = shared.reports.read().ok().and_then(|r| r.clone());
    let Some(reports) = reports else {
        refuse(
            shared,
            Refusal::Route,
            &format!("refused report from {peer}: no sources configured"),
            fields,
        );
        let reply = error(
            StatusCode::NOT_FOUND,
            "this listener takes no reports: no [report.sources.NAME] is configured",
        );
        return early(req.into_body(), reply).await;
    };
    let header = |req: &Request<B>, name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    if header(&req, SIGNATURE_HEADER).is_none() {
        let reason = format!("missing {SIGNATURE_HEADER} header");
        refuse(
            shared,
            Refusal::Signature,
            &format!("refused report from {peer}: {reason}"),
            fields,
        );
        return early(req.into_body(), error(StatusCode::UNAUTHORIZED, &reason)).await;
    }
    let (source, timestamp, signature) = (
        header(&req, SOURCE_HEADER),
        header(&req, TIMESTAMP_HEADER),
        header(&req, SIGNATURE_HEADER),
    );
    let what = format!("report from {peer}");
    let (body, _permit) = match bounded_body(req, shared, &what, fields).await {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let now = jiff::Timestamp::now().as_second();
    let verified = match reports.sources.verify(
        source.as_deref(),
        timestamp.as_deref(),
        signature.as_deref(),
        &body,
        now,
    ) {
        Ok(v) => v,
        Err(why) => {
            refuse(
                shared,
                Refusal::Signature,
                &format!("refused report from {peer}: {why}"),
                fields,
            );
            return error(StatusCode::UNAUTHORIZED, &why.answer());
        }
    };
    let source = verified.source;
    let report = match crate::report::parse(&body) {
        Ok(r) => r,
        Err(why) => {
            refuse(
                shared,
                Refusal::Malformed,
                &format!("invalid report from {source} ({peer}): {why}"),
                fields,
            );
            return error(StatusCode::BAD_REQUEST, &why.to_string());
        }
    };
    let doc = crate::kcidb::report_document(&report, &reports.origin);
    let mut document = serde_json::to_string_pretty(&doc).expect("documents always serialise");
    document.push('\n');
    let answer = shared.intake.report(crate::pipeline::SignedReport {
        source: source.clone(),
        signature: verified.signature,
        body: body.to_vec(),
        test_uid: report.test_uid.clone(),
        document,
    });
    let m = crate::metrics::global();
    match answer.await {
        Ok(Answer::Accepted { inbox, .. } | Answer::Unmatched { inbox }) => {
            m.accepted();
            shared.log.event(
                Level::Info,
                &format!(
                    "report {} from {source}: {} test(s) queued for KCIDB (inbox {inbox})",
                    report.test_uid,
                    report.tests.len()
                ),
                fields,
            );
            json_reply(
                StatusCode::ACCEPTED,
                json!({"result": "accepted", "inbox": inbox}),
            )
        }
        Ok(Answer::Duplicate { inbox }) => {
            m.duplicate();
            json_reply(
                StatusCode::OK,
                json!({"result": "duplicate", "inbox": inbox}),
            )
        }
        Ok(Answer::Rejected(reason)) => {
            refuse(
                shared,
                Refusal::Signature,
                &format!("refused report from {source} ({peer}): {reason}"),
                fields,
            );
            error(StatusCode::UNAUTHORIZED, &reason)
        }
        Ok(Answer::Invalid(reason)) => {
            refuse(
                shared,
                Refusal::Malformed,
                &format!("invalid report from {source} ({peer}): {reason}"),
                fields,
            );
            error(StatusCode::BAD_REQUEST, &reason)
        }
        Ok(Answer::Unavailable(_) | Answer::PlanRecorded { .. } | Answer::PlanDuplicate { .. })
        | Err(_) => {
            m.refused(Refusal::Unavailable);
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the report could not be stored; try again",
            )
        }
    }
}

fn declared_length<B>(req: &Request<B>) -> Option<u64> {
    req.headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
}

/// Room in the memory budget for a body of `declared` bytes (the most a
/// body may be when it does not say), waiting a moment for it.
/// A request's body within the listener's limits, with the room it takes
/// in memory (held until the permit is dropped). A declared size over
/// `max_body` is refused unread (413), a body the memory budget cannot
/// take waits briefly and then gets 503, and one too slow or too large as
/// it arrives is refused as [`read_body`] says; each refusal is counted
/// and logged as about `what`.
async fn bounded_body<B>(
    req: Request<B>,
    shared: &Shared,
    what: &str,
    fields: Fields<'_>,
) -> Result<(Bytes, OwnedSemaphorePermit), Reply>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = declared_length(&req);
    if declared.is_some_and(|n| n > shared.max_body) {
        refuse(
            shared,
            Refusal::Oversize,
            &format!("refused {what}: body larger than {} bytes", shared.max_body),
            fields,
        );
        return Err(early(req.into_body(), too_large(shared.max_body)).await);
    }
    let Some(permit) = budget(shared, declared).await else {
        refuse(
            shared,
            Refusal::Unavailable,
            &format!("refused {what}: too many bodies in memory"),
            fields,
        );
        let reply = error(StatusCode::SERVICE_UNAVAILABLE, "too busy; try again");
        return Err(early(req.into_body(), reply).await);
    };
    match read_body(req, shared).await {
        Ok(body) => Ok((body, permit)),
        Err((why, reply)) => {
            refuse(
                shared,
                why,
                &format!("refused {what}: {}", reply.status()),
                fields,
            );
            Err(reply)
        }
    }
}

async fn budget(shared: &Shared, declared: Option<u64>) -> Option<OwnedSemaphorePermit> {
    let bytes = declared.unwrap_or(shared.max_body).min(shared.max_body);
    let kib = u32::try_from(bytes.div_ceil(1024).max(1)).unwrap_or(u32::MAX);
    let wanted = shared.buffered.clone().acquire_many_owned(kib);
    tokio::time::timeout(BUDGET_WAIT, wanted).await.ok()?.ok()
}

/// Reads a body up to the size limit, in the time allowed; on failure,
/// what to count it as and the answer.
async fn read_body<B>(req: Request<B>, shared: &Shared) -> Result<Bytes, (Refusal, Reply)>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let limited = Limited::new(
        req.into_body(),
        usize::try_from(shared.max_body).unwrap_or(usize::MAX),
    );
    match tokio::time::timeout(shared.body_timeout, limited.collect()).await {
        Err(_) => Err((
            Refusal::Malformed,
            close(error(
                StatusCode::REQUEST_TIMEOUT,
                "the body took too long to arrive",
            )),
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err((Refusal::Oversize, close(too_large(shared.max_body))))
        }
        Ok(Err(_)) => Err((
            Refusal::Malformed,
            error(StatusCode::BAD_REQUEST, "the body could not be read"),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Answers a request refused before its body was read: what the client is
/// still sending is read and thrown away first, up to a bound, so that it
/// reads the answer; beyond the bound the connection is closed.
async fn early<B>(body: B, reply: Reply) -> Reply
where
    B: Body,
{
    if drain(body, DRAIN_BYTES, DRAIN_TIME).await {
        reply
    } else {
        close(reply)
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

fn close(mut reply: Reply) -> Reply {
    reply
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    reply
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
