//! Parsing TuxSuite's completion callbacks, after their signature held.
//!
//! The body is `{"kind": K, "status": OBJECT}`. It may be a JSON string
//! whose content is that document (the double-encoded form), and some build
//! callbacks contained `\'`, which is not legal JSON: a strict parse comes
//! first, and only if it fails is `\'` replaced with `'`.

use serde_json::Value;

use crate::model::{Callback, JobKind};
use crate::runner::{ParseError, POLLED, UNVERIFIED};

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
            status,
        });
    }
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
    let doc = parse_lenient(payload)?;
    let kind = doc
        .get("kind")
        .and_then(Value::as_str)
        .ok_or(ParseError::Missing("\"kind\""))?;
    let status = doc
        .get("status")
        .filter(|s| s.is_object())
        .ok_or(ParseError::Missing("\"status\" object"))?;
    let expected = match route {
        JobKind::Build => ["build", "kbuild"].contains(&kind),
        JobKind::Test | JobKind::Boot => kind == "test",
    };
    if !expected {
        return Err(ParseError::WrongRoute {
            got: kind.escape_default().to_string(),
            route,
        });
    }
    Ok(Callback {
        uid: Some(valid_uid(status)?),
        status: status.clone(),
    })
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

    const TEST: &str = include_str!("../../../tests/data/test-callback.json");
    const BUILD: &str = include_str!("../../../tests/data/build-callback.json");

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
