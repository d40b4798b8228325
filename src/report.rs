//! Results from systems that are not runners: a lab script, a GitHub
//! Actions job, another kbridge.
//!
//! A results file is one JSON object:
//!
//! ```json
//! {"test_uid": "lab1-run-42", "build_id": "maestro:681b…", "device": "visionfive2",
//!  "runtime": "lab1", "start_time": "2026-11-28T08:40:14Z", "duration": 312.5,
//!  "tests": [{"test_name": "ltp-smoke", "test_collection": "ltp", "result": "pass", "logs": "…"}]}
//! ```
//!
//! It becomes a KCIDB document with the same id and path rules as a
//! runner's results. Over HTTP (`POST /results`) it is authenticated with
//! HMAC-SHA256 over `timestamp + "." + body`, per reporting source.

use std::collections::BTreeMap;

use hmac::{KeyInit, Mac};
use serde_json::{Map, Value};

use crate::config::{keys, read_secret_file, ConfigError, Secret, Section};
use crate::kcidb::{Report, ReportedTest};
use crate::model::{excerpt, is_kcidb_id, Status};

/// The headers of a signed report.
pub const SIGNATURE_HEADER: &str = "X-Kbridge-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Kbridge-Timestamp";
pub const SOURCE_HEADER: &str = "X-Kbridge-Source";
/// How far a report's timestamp may be from the receiver's clock.
pub const MAX_SKEW_SECS: i64 = 300;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Why a results file cannot be read: the field that is wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Reads a results file, naming the field that is wrong.
pub fn parse(bytes: &[u8]) -> Result<Report, Invalid> {
    parsed(bytes).map_err(Invalid)
}

fn parsed(bytes: &[u8]) -> Result<Report, String> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the results file is not JSON: {e}"))?;
    let top = v
        .as_object()
        .ok_or("the results file is not a JSON object")?;
    only(
        top,
        "",
        &[
            "test_uid",
            "build_id",
            "device",
            "runtime",
            "start_time",
            "duration",
            "tests",
        ],
    )?;
    let test_uid = text(top, "test_uid", "")?;
    if test_uid.len() > 256 {
        return Err("test_uid: longer than 256 characters".into());
    }
    let build_id = text(top, "build_id", "")?;
    if !is_kcidb_id(&build_id) {
        return Err(format!(
            "build_id: '{build_id}' is not a KCIDB id; give origin:local-part, such as maestro:681b69099ae9711e9ed49766"
        ));
    }
    let device = text(top, "device", "")?;
    let runtime = text(top, "runtime", "")?;
    let start_time = match top.get("start_time") {
        None => None,
        Some(t) => {
            let t = t.as_str().ok_or("start_time: expected a string")?;
            let ts: jiff::Timestamp = t.parse().map_err(|_| {
                format!(
                    "start_time: '{t}' is not RFC 3339 with a zone, such as 2026-11-28T08:40:14Z"
                )
            })?;
            Some(ts.to_string())
        }
    };
    let duration = match top.get("duration") {
        None => None,
        Some(d) => Some(
            d.as_f64()
                .filter(|d| d.is_finite() && *d >= 0.0)
                .ok_or("duration: expected a number of seconds, 0 or more")?,
        ),
    };
    let tests = top
        .get("tests")
        .ok_or("tests: missing; give a list of {\"test_name\", \"result\"}")?
        .as_array()
        .ok_or("tests: expected a list")?;
    if tests.is_empty() {
        return Err("tests: the list is empty".into());
    }
    let mut out = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, t) in tests.iter().enumerate() {
        let at = format!("tests[{i}].");
        let t = t
            .as_object()
            .ok_or_else(|| format!("tests[{i}]: expected an object"))?;
        only(t, &at, &["test_name", "test_collection", "result", "logs"])?;
        let name = text(t, "test_name", &at)?;
        let collection = t
            .get("test_collection")
            .map(|c| {
                c.as_str()
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .ok_or_else(|| format!("{at}test_collection: expected a non-empty string"))
            })
            .transpose()?;
        let result = text(t, "result", &at)?;
        let status = parse_status(&result).ok_or_else(|| {
            format!("{at}result: '{result}' is not a KCIDB status; use PASS, FAIL, ERROR, MISS, DONE or SKIP (any case)")
        })?;
        let logs = match t.get("logs") {
            None => None,
            Some(l) => Some(
                l.as_str()
                    .ok_or_else(|| format!("{at}logs: expected a string"))?,
            ),
        };
        if !names.insert((collection.clone(), name.clone())) {
            return Err(format!("{at}test_name: '{name}' is reported twice"));
        }
        out.push(ReportedTest {
            name,
            collection,
            status,
            log_excerpt: logs
                .filter(|l| !l.is_empty())
                .map(|l| excerpt(l.as_bytes())),
        });
    }
    Ok(Report {
        test_uid,
        build_id,
        device: Some(device),
        runtime,
        start_time,
        duration,
        tests: out,
    })
}

fn only(obj: &Map<String, Value>, at: &str, allowed: &[&str]) -> Result<(), String> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{at}{k}: unknown field; the fields are {}",
            allowed.join(", ")
        )),
        None => Ok(()),
    }
}

fn text(obj: &Map<String, Value>, key: &str, at: &str) -> Result<String, String> {
    let v = obj.get(key).ok_or_else(|| format!("{at}{key}: missing"))?;
    let s = v
        .as_str()
        .ok_or_else(|| format!("{at}{key}: expected a string, got {v}"))?
        .trim();
    if s.is_empty() {
        return Err(format!("{at}{key}: empty"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{at}{key}: holds a control character"));
    }
    Ok(s.to_string())
}

/// One of KCIDB's six statuses, in any case.
fn parse_status(s: &str) -> Option<Status> {
    Some(match s.to_ascii_uppercase().as_str() {
        "PASS" => Status::Pass,
        "FAIL" => Status::Fail,
        "ERROR" => Status::Error,
        "MISS" => Status::Miss,
        "DONE" => Status::Done,
        "SKIP" => Status::Skip,
        _ => return None,
    })
}

/// `sha256=<hex of HMAC-SHA256(secret, timestamp + "." + body)>`.
pub fn sign(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let code = mac.finalize().into_bytes();
    format!("sha256={}", crate::model::hex(&code))
}

/// Why a signed report was refused. The log says which ([`Display`]); the
/// sender hears [`RefusedReport::answer`], which says the same to a sender
/// that named a source this listener does not know as to one whose
/// signature did not hold, so no stranger learns which sources exist.
///
/// [`Display`]: std::fmt::Display
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefusedReport {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("unknown source '{0}'")]
    UnknownSource(String),
    #[error("{SIGNATURE_HEADER} is not sha256=<hex>")]
    Malformed,
    #[error("{SIGNATURE_HEADER} does not match")]
    Mismatch,
    #[error("{TIMESTAMP_HEADER} is more than 5 minutes from this listener's clock; send it at once, with a synchronised clock")]
    Stale,
}

impl RefusedReport {
    /// What the sender is told.
    pub fn answer(&self) -> String {
        match self {
            RefusedReport::UnknownSource(_) | RefusedReport::Mismatch => format!(
                "{SIGNATURE_HEADER} does not hold for {SOURCE_HEADER}: sign timestamp.body with that source's secret"
            ),
            other => other.to_string(),
        }
    }
}

/// What another kbridge answered a report sent to it.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Where it went, without userinfo.
    pub url: String,
    pub status: u16,
    /// It already had the report.
    pub duplicate: bool,
    pub answer: Value,
}

/// Why a report was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No answer came.
    #[error("cannot send the report to {url}: {why}")]
    Unreachable { url: String, why: String },
    /// The listener answered and refused it.
    #[error("{url} refused the report ({status}): {message}")]
    Refused {
        url: String,
        status: u16,
        message: String,
    },
}

/// Signs `body` as `source` and sends it to the listener at `to`
/// (`POST {to}/results`).
pub fn send(
    to: &str,
    source: &str,
    secret: &Secret,
    body: &[u8],
    timeout: std::time::Duration,
) -> Result<Sent, SendError> {
    let ts = jiff::Timestamp::now().as_second();
    let url = format!("{}/results", to.trim_end_matches('/'));
    let shown = crate::http::redact_url(&url).to_string();
    let mut resp = crate::http::agent(timeout)
        .post(&url)
        .header("Content-Type", "application/json")
        .header(SOURCE_HEADER, source)
        .header(TIMESTAMP_HEADER, &ts.to_string())
        .header(SIGNATURE_HEADER, &sign(secret, ts, body))
        .send(body)
        .map_err(|e| SendError::Unreachable {
            url: shown.clone(),
            why: crate::http::describe(&e, timeout),
        })?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    match status {
        200 | 202 => Ok(Sent {
            duplicate: answer["result"] == "duplicate",
            url: shown,
            status,
            answer,
        }),
        _ => Err(SendError::Refused {
            message: answer["error"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| crate::http::one_line(&text)),
            url: shown,
            status,
        }),
    }
}

/// A report whose signature held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub source: String,
    /// The signature in one canonical form (`sha256=` and lower-case hex),
    /// so a replay that only changes its spelling is still a replay.
    pub signature: String,
}

/// The reporting sources this kbridge accepts, with their secrets.
#[derive(Debug, Clone, Default)]
pub struct Sources(BTreeMap<String, Secret>);

impl Sources {
    /// Reads every `report.sources.NAME.secret_file`.
    pub fn load(settings: Section<'_>) -> Result<Sources, ConfigError> {
        let mut map = BTreeMap::new();
        for name in settings.names_under("report.sources") {
            if let Some(path) = settings.get_named(keys::REPORT_SECRET_FILE, &name) {
                let secret = read_secret_file(
                    &path.value,
                    &format!("the secret of report source '{name}'"),
                    &path.source,
                )?;
                map.insert(name, secret);
            }
        }
        Ok(Sources(map))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks a signed report's headers against its raw body, at `now`
    /// (Unix seconds). Returns the source's name.
    pub fn verify(
        &self,
        source: Option<&str>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, RefusedReport> {
        let source = source.ok_or(RefusedReport::Missing(SOURCE_HEADER))?;
        let timestamp = timestamp.ok_or(RefusedReport::Missing(TIMESTAMP_HEADER))?;
        let signature = signature.ok_or(RefusedReport::Missing(SIGNATURE_HEADER))?;
        let code = signature
            .trim()
            .strip_prefix("sha256=")
            .and_then(unhex)
            .ok_or(RefusedReport::Malformed)?;
        let ts: i64 = timestamp.trim().parse().map_err(|_| RefusedReport::Stale)?;
        // An unknown source costs the same work as a known one: how long
        // the answer takes says nothing about which names exist.
        let (secret, known) = match self.0.get(source) {
            Some(s) => (s.expose(), true),
            None => ("an unknown source has no secret", false),
        };
        let mut mac =
            HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(timestamp.trim().as_bytes());
        mac.update(b".");
        mac.update(body);
        // verify_slice compares in constant time.
        let held = mac.verify_slice(&code).is_ok();
        if !known {
            return Err(RefusedReport::UnknownSource(crate::config::shown(source)));
        }
        if !held {
            return Err(RefusedReport::Mismatch);
        }
        if (now - ts).abs() > MAX_SKEW_SECS {
            return Err(RefusedReport::Stale);
        }
        Ok(Verified {
            source: source.to_string(),
            signature: format!("sha256={}", crate::model::hex(&code)),
        })
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 256 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"test_uid": "lab1-42", "build_id": "maestro:1", "device": "vf2", "runtime": "lab1",
        "start_time": "2026-11-28T08:40:14+01:00", "duration": 3,
        "tests": [{"test_name": "ltp-smoke", "result": "pass"}, {"test_name": "boot", "result": "Fail", "logs": "oops\u0000"}]}"#;

    #[test]
    fn a_good_file_parses() {
        let r = parse(GOOD.as_bytes()).unwrap();
        assert_eq!(r.start_time.as_deref(), Some("2026-11-28T07:40:14Z"));
        assert_eq!(r.tests[1].status, Status::Fail);
        assert_eq!(r.tests[1].log_excerpt.as_deref(), Some("oops"));
    }

    #[test]
    fn bad_files_name_the_field() {
        let bad = |edit: &dyn Fn(&mut Value)| {
            let mut v: Value = serde_json::from_str(GOOD).unwrap();
            edit(&mut v);
            parse(v.to_string().as_bytes()).unwrap_err().0
        };
        assert!(bad(&|v| v["tests"][0]["result"] = "passed".into())
            .starts_with("tests[0].result: 'passed' is not a KCIDB status"));
        assert!(bad(&|v| v["build_id"] = "1234".into()).starts_with("build_id:"));
        assert!(bad(&|v| v["tests"][0]["test_nmae"] = "x".into())
            .starts_with("tests[0].test_nmae: unknown field"));
        assert!(bad(&|v| {
            v.as_object_mut().unwrap().remove("device");
        })
        .starts_with("device: missing"));
        assert!(bad(&|v| v["start_time"] = "yesterday".into()).starts_with("start_time:"));
        assert!(bad(&|v| v["duration"] = "3s".into()).starts_with("duration:"));
        assert!(bad(&|v| v["tests"] = Value::Array(vec![])).starts_with("tests: the list is empty"));
        assert!(parse(b"[1]").unwrap_err().0.contains("not a JSON object"));
    }

    #[test]
    fn signatures_hold_only_for_their_source_body_and_time() {
        let mut map = BTreeMap::new();
        map.insert("lab1".to_string(), Secret::new("s3cret"));
        let sources = Sources(map);
        let body = b"{}";
        let sig = sign(&Secret::new("s3cret"), 1000, body);
        let ok = Ok(Verified {
            source: "lab1".into(),
            signature: sig.clone(),
        });
        assert_eq!(
            sources.verify(Some("lab1"), Some("1000"), Some(&sig), body, 1100),
            ok
        );
        // Another spelling of the same signature is the same signature.
        let upper = sig.replace("sha256=", "").to_ascii_uppercase();
        assert_eq!(
            sources.verify(
                Some("lab1"),
                Some("1000"),
                Some(&format!(" sha256={upper} ")),
                body,
                1100
            ),
            ok
        );
        assert_eq!(
            sources.verify(Some("lab1"), Some("1000"), Some(&sig), b"{ }", 1100),
            Err(RefusedReport::Mismatch)
        );
        assert_eq!(
            sources.verify(Some("lab1"), Some("1001"), Some(&sig), body, 1100),
            Err(RefusedReport::Mismatch)
        );
        assert_eq!(
            sources.verify(Some("lab1"), Some("1000"), Some(&sig), body, 1400),
            Err(RefusedReport::Stale)
        );
        let unknown = sources.verify(Some("lab2"), Some("1000"), Some(&sig), body, 1100);
        assert_eq!(unknown, Err(RefusedReport::UnknownSource("lab2".into())));
        assert_eq!(
            unknown.unwrap_err().answer(),
            RefusedReport::Mismatch.answer(),
            "a stranger cannot tell an unknown source from a bad signature"
        );
        assert_eq!(
            sources.verify(Some("lab1"), Some("1000"), Some("md5=00"), body, 1100),
            Err(RefusedReport::Malformed)
        );
        assert_eq!(
            sources.verify(None, Some("1000"), Some(&sig), body, 1100),
            Err(RefusedReport::Missing(SOURCE_HEADER))
        );
    }
}
