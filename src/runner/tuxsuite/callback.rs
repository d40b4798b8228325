//! Parsing TuxSuite's completion callbacks, after their signature held.
//!
//! The body is `{"kind": K, "status": OBJECT}`. It may be a JSON string
//! whose content is that document (the double-encoded form), and some build
//! callbacks contained `\'`, which is not legal JSON: a strict parse comes
//! first, and only if it fails is `\'` replaced with `'`.

use serde_json::Value;

use crate::model::{Callback, JobKind};
use crate::runner::{ParseError, PlanReport, POLLED, UNVERIFIED};

/// The raw body was signed.
pub const RAW: &str = "raw";
/// The content of the JSON string that is the body was signed.
pub const INNER: &str = "inner";

/// Parses a stored callback body. A report obtained by polling is stored
/// as the status object itself.
pub fn parse(route: JobKind, body: &[u8], verified_as: &str) -> Result<Callback, ParseError> {
    if verified_as == POLLED {
        let status: Value =
            serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))?;
        let uid = valid_uid(&status)?;
        return Ok(Callback {
            uid: Some(uid),
            subject: None,
            status,
        });
    }
    let (kind, status) = document(body, verified_as)?;
    let expected = match route {
        JobKind::Build => ["build", "kbuild"].contains(&kind.as_str()),
        JobKind::Test | JobKind::Boot => kind == "test",
    };
    if !expected {
        return Err(ParseError::WrongRoute {
            got: kind.escape_default().to_string(),
            route,
        });
    }
    Ok(Callback {
        uid: Some(valid_uid(&status)?),
        subject: None,
        status,
    })
}

/// Parses a plan callback: `kind` is `plan` and the status is the plan as
/// `GET …/plans/{uid}` gives it. What is kept is a summary: the plan's
/// uid and name, and per kind of job how many ended with each result.
pub fn parse_plan(body: &[u8], verified_as: &str) -> Result<PlanReport, ParseError> {
    let (kind, status) = document(body, verified_as)?;
    if kind != "plan" {
        return Err(ParseError::Invalid(format!(
            "callback of kind \"{}\" sent to the plan route",
            kind.escape_default()
        )));
    }
    let uid = valid_uid(&status)?;
    let mut summary = serde_json::Map::new();
    if let Some(name) = status.get("name").and_then(Value::as_str) {
        summary.insert(
            "name".into(),
            name.chars().take(200).collect::<String>().into(),
        );
    }
    for kind in ["builds", "tests", "oebuilds"] {
        // Each is `{"results": [...], "next": …}`; a bare list is read too.
        let list = match &status[kind] {
            Value::Array(items) => Some(items),
            other => other["results"].as_array(),
        };
        let Some(items) = list else { continue };
        let mut counts = std::collections::BTreeMap::<String, u64>::new();
        for item in items {
            let result = item["result"].as_str().unwrap_or("unknown");
            // Results are short words; anything else is counted as one.
            let result = if result.len() <= 32 {
                result
            } else {
                "unknown"
            };
            *counts.entry(result.to_string()).or_default() += 1;
        }
        let mut entry = serde_json::json!(counts);
        if !status[kind]["next"].is_null() {
            // More pages than the callback carried: the counts are partial.
            entry["more"] = Value::Bool(true);
        }
        summary.insert(kind.into(), entry);
    }
    Ok(PlanReport {
        uid: Some(uid),
        summary: Value::Object(summary),
    })
}

/// The kind and status object of a callback body whose signature held
/// over `verified_as`.
fn document(body: &[u8], verified_as: &str) -> Result<(String, Value), ParseError> {
    let inner = super::signature::inner_string(body);
    let payload: &[u8] = match (verified_as, &inner) {
        (INNER, Some(inner)) => inner.as_bytes(),
        (INNER, None) => {
            return Err(ParseError::Invalid(
                "body is not the JSON string that was verified".into(),
            ))
        }
        // Unverified bodies get the same leniency as verified ones.
        (UNVERIFIED, Some(inner)) => inner.as_bytes(),
        _ => body,
    };
    let mut doc = parse_lenient(payload)?;
    let kind = doc
        .get("kind")
        .and_then(Value::as_str)
        .ok_or(ParseError::Missing("\"kind\""))?
        .to_string();
    let status = doc
        .get_mut("status")
        .filter(|s| s.is_object())
        .ok_or(ParseError::Missing("\"status\" object"))?
        .take();
    Ok((kind, status))
}

/// TuxSuite uids are base62 strings.
fn valid_uid(status: &Value) -> Result<String, ParseError> {
    status
        .get("uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty() && u.len() <= 64 && u.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(str::to_string)
        .ok_or(ParseError::Missing("valid \"uid\" in its status"))
}

fn parse_lenient(bytes: &[u8]) -> Result<Value, ParseError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => Ok(v),
        Err(strict) => {
            let text =
                std::str::from_utf8(bytes).map_err(|_| ParseError::NotJson("not UTF-8".into()))?;
            if !text.contains("\\'") {
                return Err(ParseError::NotJson(strict.to_string()));
            }
            serde_json::from_str(&text.replace("\\'", "'"))
                .map_err(|e| ParseError::NotJson(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: &str = include_str!("../../../tests/fixtures/tuxsuite/test-callback.json");
    const BUILD: &str = include_str!("../../../tests/fixtures/tuxsuite/build-callback.json");

    #[test]
    fn example_callbacks_parse() {
        let cb = parse(JobKind::Test, TEST.as_bytes(), RAW).unwrap();
        assert_eq!(cb.uid.as_deref(), Some("2MBYa8FhoBHkRCX2BMMPusjuClf"));
        let cb = parse(JobKind::Build, BUILD.as_bytes(), RAW).unwrap();
        assert_eq!(cb.uid.as_deref(), Some("2ZITcwA6wxeKxh9cZA5HBJ6FkSj"));
        let polled = serde_json::to_vec(&cb.status).unwrap();
        assert_eq!(parse(JobKind::Build, &polled, POLLED).unwrap(), cb);
    }

    #[test]
    fn double_encoded_and_backslash_quote_bodies_parse() {
        let wrapped = serde_json::to_vec(TEST).unwrap();
        assert_eq!(
            parse(JobKind::Boot, &wrapped, INNER)
                .unwrap()
                .uid
                .as_deref(),
            Some("2MBYa8FhoBHkRCX2BMMPusjuClf")
        );
        let quirky = BUILD.replace("Merge tag 'riscv", "Merge tag \\'riscv");
        assert!(serde_json::from_str::<Value>(&quirky).is_err());
        let cb = parse(JobKind::Build, quirky.as_bytes(), RAW).unwrap();
        assert!(cb.status["git_short_log"]
            .as_str()
            .unwrap()
            .contains("tag 'riscv"));
    }

    #[test]
    fn plan_callbacks_are_summarised_by_result() {
        let body = serde_json::json!({"kind": "plan", "status": {
            "uid": "2Zk00052rdUGExAcikZAlwCOacI", "name": "riscv-smoke",
            "builds": {"results": [{"result": "pass"}, {"result": "fail"}], "next": null},
            "tests": {"results": [{"result": "pass"}, {"result": "pass"}, {}], "next": "t0k"},
        }})
        .to_string();
        for (bytes, verified) in [
            (body.clone().into_bytes(), RAW),
            (serde_json::to_vec(&body).unwrap(), INNER),
        ] {
            let r = parse_plan(&bytes, verified).unwrap();
            assert_eq!(r.uid.as_deref(), Some("2Zk00052rdUGExAcikZAlwCOacI"));
            assert_eq!(
                r.summary["builds"],
                serde_json::json!({"pass": 1, "fail": 1})
            );
            assert_eq!(
                r.summary["tests"],
                serde_json::json!({"pass": 2, "unknown": 1, "more": true})
            );
            assert!(r.summary.get("oebuilds").is_none());
        }
        let e = parse_plan(TEST.as_bytes(), RAW).unwrap_err().to_string();
        assert!(e.contains("\"test\" sent to the plan route"), "{e}");
        assert!(parse_plan(br#"{"kind":"plan","status":{}}"#, RAW).is_err());
    }

    #[test]
    fn wrong_kinds_and_garbage_are_refused() {
        assert!(parse(JobKind::Build, TEST.as_bytes(), RAW)
            .unwrap_err()
            .to_string()
            .contains("build route"));
        assert!(parse(JobKind::Test, b"{not json", RAW).is_err());
        assert!(parse(JobKind::Test, br#"{"kind":"test","status":{}}"#, RAW).is_err());
        assert!(parse(
            JobKind::Test,
            br#"{"kind":"plan","status":{"uid":"a"}}"#,
            RAW
        )
        .is_err());
        assert!(parse(JobKind::Test, TEST.as_bytes(), INNER).is_err());
    }
}
