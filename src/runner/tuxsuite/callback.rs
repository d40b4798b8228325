//! Parsing TuxSuite's completion callbacks, after their signature held.
//!
//! The body is `{"kind": K, "status": OBJECT}`. It may be a JSON string
//! whose content is that document (the double-encoded form), and some build
//! callbacks contained `\'`, which is not legal JSON: a strict parse comes
//! first, and only if it fails is `\'` replaced with `'`.

use serde_json::Value;

use crate::model::{Callback, JobKind};
use crate::runner::UNVERIFIED;

/// The raw body was signed.
pub const RAW: &str = "raw";
/// The content of the JSON string that is the body was signed.
pub const INNER: &str = "inner";

/// Parses a stored callback body.
pub fn parse(route: JobKind, body: &[u8], verified_as: &str) -> Result<Callback, String> {
    let inner = super::signature::inner_string(body);
    let payload: &[u8] = match (verified_as, &inner) {
        (INNER, Some(inner)) => inner.as_bytes(),
        (INNER, None) => return Err("body is not the JSON string that was verified".into()),
        // Unverified bodies get the same leniency as verified ones.
        (UNVERIFIED, Some(inner)) => inner.as_bytes(),
        _ => body,
    };
    let doc = parse_lenient(payload)?;
    let kind = doc
        .get("kind")
        .and_then(Value::as_str)
        .ok_or("callback has no \"kind\"")?;
    let status = doc
        .get("status")
        .filter(|s| s.is_object())
        .ok_or("callback has no \"status\" object")?;
    let expected = match route {
        JobKind::Build => ["build", "kbuild"].contains(&kind),
        JobKind::Test | JobKind::Boot => kind == "test",
    };
    if !expected {
        return Err(format!(
            "callback of kind \"{}\" sent to the {route} route",
            kind.escape_default()
        ));
    }
    let uid = status
        .get("uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty() && u.len() <= 64 && u.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or("callback status has no valid \"uid\"")?;
    Ok(Callback {
        uid: uid.to_string(),
        status: status.clone(),
    })
}

fn parse_lenient(bytes: &[u8]) -> Result<Value, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => Ok(v),
        Err(strict) => {
            let text =
                std::str::from_utf8(bytes).map_err(|_| "callback body is not UTF-8".to_string())?;
            if !text.contains("\\'") {
                return Err(format!("callback body is not JSON: {strict}"));
            }
            serde_json::from_str(&text.replace("\\'", "'"))
                .map_err(|e| format!("callback body is not JSON: {e}"))
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
        assert_eq!(cb.uid, "2MBYa8FhoBHkRCX2BMMPusjuClf");
        let cb = parse(JobKind::Build, BUILD.as_bytes(), RAW).unwrap();
        assert_eq!(cb.uid, "2ZITcwA6wxeKxh9cZA5HBJ6FkSj");
    }

    #[test]
    fn double_encoded_and_backslash_quote_bodies_parse() {
        let wrapped = serde_json::to_vec(TEST).unwrap();
        assert_eq!(
            parse(JobKind::Boot, &wrapped, INNER).unwrap().uid,
            "2MBYa8FhoBHkRCX2BMMPusjuClf"
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
