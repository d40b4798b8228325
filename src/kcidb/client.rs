//! KCIDB's REST API: where it is, and the two calls kbridge makes.
//!
//! `POST {url}/submit` with `Authorization: Bearer <token>` spools one
//! document and answers its submission id; `GET {url}/status?id=` says
//! whether that submission was ingested. Every outcome is a typed answer
//! the caller branches on; messages never hold the token, and URLs are
//! shown without userinfo.

use std::time::Duration;

use serde_json::Value;

use crate::http;
use crate::secrets::Secret;

/// Where documents go, and with which token.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The base URL, without userinfo and without a trailing `/`.
    pub url: String,
    pub token: Secret,
    /// Where the URL came from, in words.
    pub url_source: String,
    /// Where the token came from, in words (named when it is refused).
    pub token_source: String,
}

impl Endpoint {
    /// The origin a KernelCI token was issued for, when it says (a JWT's
    /// `origin` claim), so a token meant for another origin is named
    /// before KCIDB takes documents it will file elsewhere, or refuse.
    pub fn token_origin(&self) -> Option<String> {
        use base64::Engine;
        let claims = self.token.expose().split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims.trim_end_matches('='))
            .ok()?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        v["origin"].as_str().map(str::to_string)
    }

    /// A warning when the token was issued for another origin than
    /// `origin`.
    pub fn origin_warning(&self, origin: &str) -> Option<String> {
        let theirs = self.token_origin()?;
        (theirs != origin).then(|| {
            format!(
                "the KCIDB token (from {}) was issued for origin '{theirs}', but kbridge reports as origin '{origin}': set origin = \"{theirs}\", or get a token for '{origin}'",
                self.token_source
            )
        })
    }
}

/// Why a request to KCIDB did not succeed; the variant decides what
/// happens to the documents it carried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 400 and other refusals of the content: not retried.
    #[error("KCIDB refused the document ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// 401/403: the token was refused. Everything else would fail the same
    /// way, so the run stops.
    #[error("KCIDB refused the token ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// 404/405: the URL is not KCIDB's API; the run stops.
    #[error("{url} answered {status}: it is not a KCIDB REST API")]
    WrongUrl { status: u16, url: String },
    /// The URL says https and the server speaks plain HTTP; the run stops.
    #[error("KCIDB at {url}: the server speaks plain HTTP, not https: give its http:// URL, or the port where it serves TLS")]
    PlainHttp { url: String },
    /// 413: too large; split it.
    #[error("KCIDB found the request too large (413)")]
    TooLarge,
    /// 408, 429, 5xx, connection errors, timeouts: retried with backoff.
    #[error("{why}")]
    Retry {
        why: String,
        after: Option<Duration>,
    },
}

/// KCIDB's answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The submission id, for `GET /status`.
    pub id: String,
    pub message: Option<String>,
}

/// What KCIDB says of a submission's ingestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingest {
    /// `inprogress`, `ready`, `processed`, `failed` or `notfound`.
    pub status: String,
    pub message: Option<String>,
}

/// A client for one endpoint.
pub struct Client {
    agent: ureq::Agent,
    endpoint: Endpoint,
    timeout: Duration,
}

impl Client {
    pub fn new(endpoint: Endpoint, timeout: Duration) -> Client {
        Client {
            agent: http::agent(timeout),
            endpoint,
            timeout,
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends one document.
    pub fn submit(&self, body: &[u8]) -> Result<Accepted, SendError> {
        let url = format!("{}/submit", self.endpoint.url);
        let sent = self
            .agent
            .post(&url)
            .header(
                "Authorization",
                &format!("Bearer {}", self.endpoint.token.expose()),
            )
            .header("Content-Type", "application/json")
            .send(body);
        let (status, headers, text) = self.answer(sent)?;
        let v: Option<Value> = serde_json::from_str(&text).ok();
        let message = self.message(v.as_ref(), &text);
        match status {
            200..=299 => match v
                .as_ref()
                .and_then(|v| v["id"].as_str())
                .filter(|id| !id.is_empty())
            {
                Some(id) => Ok(Accepted {
                    id: id.to_string(),
                    message: v
                        .as_ref()
                        .and_then(|v| v["message"].as_str())
                        .map(String::from),
                }),
                // A 200 without an id is not the API's answer: keep the
                // document and try later rather than count it delivered.
                None => Err(SendError::Retry {
                    why: format!("KCIDB answered {status} without a submission id: {message}"),
                    after: None,
                }),
            },
            401 | 403 => Err(SendError::Unauthorized { status, message }),
            404 | 405 => Err(SendError::WrongUrl {
                status,
                url: http::redact_url(&url),
            }),
            413 => Err(SendError::TooLarge),
            408 | 429 | 500..=599 => Err(SendError::Retry {
                why: format!("KCIDB answered {status}: {message}"),
                after: http::retry_after(&headers).map(|d| d.min(http::MAX_RETRY_AFTER * 10)),
            }),
            _ => Err(SendError::Rejected { status, message }),
        }
    }

    /// Asks whether a submission was ingested.
    pub fn status(&self, id: &str) -> Result<Ingest, SendError> {
        let url = format!("{}/status", self.endpoint.url);
        let sent = self
            .agent
            .get(&url)
            .query("id", id)
            .header(
                "Authorization",
                &format!("Bearer {}", self.endpoint.token.expose()),
            )
            .call();
        let (status, headers, text) = self.answer(sent)?;
        let v: Option<Value> = serde_json::from_str(&text).ok();
        let message = self.message(v.as_ref(), &text);
        let field = |k: &str| v.as_ref().and_then(|v| v[k].as_str()).map(String::from);
        match status {
            200..=299 => Ok(Ingest {
                status: field("status").unwrap_or_else(|| "unknown".into()),
                message: field("message"),
            }),
            404 if field("status").as_deref() == Some("notfound") || v.is_some() => Ok(Ingest {
                status: "notfound".into(),
                message: field("message"),
            }),
            401 | 403 => Err(SendError::Unauthorized { status, message }),
            404 | 405 => Err(SendError::WrongUrl {
                status,
                url: http::redact_url(&url),
            }),
            408 | 429 | 500..=599 => Err(SendError::Retry {
                why: format!("KCIDB answered {status}: {message}"),
                after: http::retry_after(&headers),
            }),
            _ => Err(SendError::Rejected { status, message }),
        }
    }

    /// The status, headers and body of an answer; no answer at all is
    /// worth retrying (the ids are deterministic, so a resend is safe).
    fn answer(
        &self,
        sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, ureq::http::HeaderMap, String), SendError> {
        let mut resp = sent.map_err(|e| {
            if http::plain_http(&e) {
                return SendError::PlainHttp {
                    url: http::redact_url(&self.endpoint.url),
                };
            }
            SendError::Retry {
                why: format!(
                    "KCIDB at {}: {}",
                    http::redact_url(&self.endpoint.url),
                    http::describe(&e, self.timeout)
                ),
                after: None,
            }
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        Ok((status, headers, text))
    }

    /// The server's message, cut to one line, with the token removed in
    /// case the server repeats it.
    fn message(&self, v: Option<&Value>, text: &str) -> String {
        let raw = v
            .and_then(|v| {
                v["message"]
                    .as_str()
                    .or(v["error"].as_str())
                    .or(v["detail"].as_str())
            })
            .map(String::from)
            .unwrap_or_else(|| text.to_string());
        http::one_line(&raw).replace(self.endpoint.token.expose(), "<redacted>")
    }
}
