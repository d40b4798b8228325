//! HTTP client plumbing shared by runners and KCIDB submission: one way to
//! build a client, one answer to "could this failed request have reached
//! the server?" (which decides whether a retry may create a duplicate job),
//! `Retry-After`, and URLs made safe to print.

use std::io::ErrorKind;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use ureq::http::HeaderMap;
use ureq::middleware::MiddlewareNext;
use ureq::{Body, SendBody};

/// How much of each exchange `-v` prints: 0 nothing, 1 one line per
/// request (method, URL, status, time), 2 the headers too.
static VERBOSITY: AtomicU8 = AtomicU8::new(0);

/// Sets what `-v` prints, for the whole process.
pub fn set_verbosity(level: u8) {
    VERBOSITY.store(level, Ordering::Relaxed);
}

/// Headers whose values are never printed.
const SECRET_HEADERS: [&str; 4] = ["authorization", "x-kbridge-token", "cookie", "set-cookie"];

/// Prints each request and its answer on stderr when `-v` asks for it,
/// secrets redacted. Every client kbridge builds goes through it.
pub fn trace(
    req: ureq::http::Request<SendBody>,
    next: MiddlewareNext,
) -> Result<ureq::http::Response<Body>, ureq::Error> {
    let level = VERBOSITY.load(Ordering::Relaxed);
    if level == 0 {
        return next.handle(req);
    }
    let method = req.method().clone();
    let url = redact_url(&req.uri().to_string());
    let headers = |prefix: &str, map: &HeaderMap| {
        for (name, value) in map {
            let shown = if SECRET_HEADERS.contains(&name.as_str()) {
                "<redacted>".to_string()
            } else {
                crate::secrets::redact(value.to_str().unwrap_or("<binary>")).into_owned()
            };
            eprintln!("kbridge: http: {prefix} {name}: {shown}");
        }
    };
    if level >= 2 {
        headers(">", req.headers());
    }
    let started = Instant::now();
    let answer = next.handle(req);
    let ms = started.elapsed().as_millis();
    match &answer {
        Ok(resp) => {
            eprintln!(
                "kbridge: http: {method} {url} -> {} in {ms} ms",
                resp.status()
            );
            if level >= 2 {
                headers("<", resp.headers());
            }
        }
        Err(e) => eprintln!(
            "kbridge: http: {method} {url} -> failed after {ms} ms: {}",
            crate::secrets::redact(&e.to_string())
        ),
    }
    answer
}

/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!("kbridge/", env!("CARGO_PKG_VERSION"));

/// The longest `Retry-After` kbridge waits for; a longer one ends the
/// attempt so a CI job does not hang.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A client that returns HTTP error statuses as responses (callers branch
/// on them) and times each phase separately, so a timeout says how far the
/// request got.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(USER_AGENT)
        .timeout_connect(Some(timeout.min(Duration::from_secs(15))))
        .timeout_send_request(Some(timeout))
        .timeout_send_body(Some(timeout))
        .timeout_recv_response(Some(timeout))
        .timeout_recv_body(Some(timeout))
        .middleware(trace)
        .build()
        .into()
}

/// Whether a failed request may have been seen by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The request surely never reached the server (no connection).
    NotReached,
    /// The request may have been received.
    Maybe,
}

/// Classifies a transport error.
pub fn reach(e: &ureq::Error) -> Reach {
    use ureq::Error as E;
    use ureq::Timeout as T;
    if plain_http(e) {
        return Reach::NotReached;
    }
    match e {
        E::HostNotFound | E::ConnectionFailed | E::BadUri(_) | E::Tls(_) => Reach::NotReached,
        E::Timeout(T::Resolve | T::Connect) => Reach::NotReached,
        E::Io(io)
            if matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::AddrNotAvailable
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
            ) =>
        {
            Reach::NotReached
        }
        _ => Reach::Maybe,
    }
}

/// Whether a request that asked for https met a server that answers in
/// plain HTTP (TLS read an HTTP answer where a handshake should be):
/// asking again cannot help, so it is said once, not retried.
pub fn plain_http(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => io.to_string().contains("InvalidContentType"),
        ureq::Error::Tls(why) => why.contains("InvalidContentType"),
        _ => false,
    }
}

/// Describes a transport error in words a user can act on.
pub fn describe(e: &ureq::Error, timeout: Duration) -> String {
    if plain_http(e) {
        return "the server speaks plain HTTP, not https: give its http:// URL, or the port where it serves TLS".into();
    }
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {}s", timeout.as_secs_f64()),
        ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => {
            "connection refused".to_string()
        }
        other => other.to_string(),
    }
}

/// The delay a `Retry-After` header asks for: whole seconds, or an HTTP
/// date (a date in the past means "now").
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = when.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// A URL with its user information replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    crate::urls::redact(url).into_owned()
}

/// Cuts a response body to one short line for an error message.
pub fn one_line(text: &str) -> String {
    let flat: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    if flat.is_empty() {
        "(empty answer)".to_string()
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("Retry-After", " 3 ".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            "Retry-After",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a date in the past");
        h.insert("Retry-After", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn userinfo_is_redacted() {
        assert_eq!(
            redact_url("https://tok:en@db.example.org/x?a=b@c"),
            "https://[redacted]@db.example.org/x?a=b@c"
        );
        assert_eq!(
            redact_url("https://db.example.org/a@b"),
            "https://db.example.org/a@b"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn refused_connections_never_reached() {
        let e = ureq::Error::Io(std::io::Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(reach(&e), Reach::NotReached);
        let e = ureq::Error::Io(std::io::Error::from(ErrorKind::ConnectionReset));
        assert_eq!(reach(&e), Reach::Maybe);
        assert_eq!(
            reach(&ureq::Error::Timeout(ureq::Timeout::RecvResponse)),
            Reach::Maybe
        );
    }

    #[test]
    fn bodies_become_one_short_line() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        assert_eq!(one_line(""), "(empty answer)");
        assert_eq!(one_line(&"x".repeat(500)).len(), 200);
    }
}
