//! What the KCIDB schema cannot check, and the limits that are easy to get
//! wrong, over any document: kbridge's own before they are stored, and a
//! document made elsewhere before `kbridge submit --file` sends it.
//!
//! KCIDB's REST API only spools what it is sent; schema validation comes
//! later and one bad object fails the whole submission, so a document that
//! fails here is never sent. CI also validates every document the tests
//! produce with KCIDB's own `kcidb-io`.

use std::collections::HashSet;

use serde_json::{Map, Value};

/// The longest `log_excerpt` KCIDB takes, in characters.
pub const MAX_EXCERPT: usize = 16384;

/// The statuses KCIDB takes.
const STATUSES: [&str; 6] = ["FAIL", "ERROR", "MISS", "PASS", "DONE", "SKIP"];

/// What to hold a document to beyond its own consistency.
pub struct Rules<'a> {
    /// Every object must have this origin (kbridge's own documents).
    pub origin: Option<&'a str>,
    /// Every build's checkout must be in the document (kbridge writes them
    /// together).
    pub checkouts_included: bool,
    /// For a test of a build with `origin`: whether kbridge knows the
    /// build.
    pub known_build: &'a dyn Fn(&str) -> bool,
}

impl<'a> Rules<'a> {
    /// The rules for kbridge's own documents.
    pub fn own(origin: &'a str, known_build: &'a dyn Fn(&str) -> bool) -> Rules<'a> {
        Rules {
            origin: Some(origin),
            checkouts_included: true,
            known_build,
        }
    }

    /// The rules for a document made elsewhere.
    pub fn foreign() -> Rules<'static> {
        Rules {
            origin: None,
            checkouts_included: false,
            known_build: &|_| true,
        }
    }
}

/// Why a document fails the check: the object and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Checks a document; the error names the object and what is wrong.
pub fn check(doc: &Value, rules: &Rules<'_>) -> Result<(), Invalid> {
    checked(doc, rules).map_err(Invalid)
}

fn checked(doc: &Value, rules: &Rules<'_>) -> Result<(), String> {
    let top = doc.as_object().ok_or("the document is not a JSON object")?;
    for key in top.keys() {
        if ![
            "version",
            "checkouts",
            "builds",
            "tests",
            "issues",
            "incidents",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("the document has an unknown top-level key '{key}'"));
        }
    }
    let version = top.get("version").ok_or("the document has no version")?;
    if version["major"] != 5 || version["minor"].as_u64().is_none_or(|m| m > 3) {
        return Err(format!(
            "the document's version is {version}; kbridge sends KCIDB schema 5.0 to 5.3"
        ));
    }
    no_nulls("the document", doc)?;
    let mut ids = HashSet::new();
    let checkouts = objects(top, "checkouts")?;
    let builds = objects(top, "builds")?;
    let tests = objects(top, "tests")?;
    for c in &checkouts {
        let id = identity("checkout", c, rules, &mut ids)?;
        if let Some(hash) = c.get("git_commit_hash") {
            let ok = hash.as_str().is_some_and(|h| {
                h.len() == 40
                    && h.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            });
            if !ok {
                return Err(format!(
                    "checkout {id} has a git_commit_hash that is not 40 lower-case hex digits"
                ));
            }
        }
        if let Some(url) = c.get("git_repository_url") {
            if !url.as_str().is_some_and(|u| u.starts_with("https://")) {
                return Err(format!(
                    "checkout {id} has a git_repository_url that is not https://"
                ));
            }
        }
        common("checkout", id, c)?;
    }
    let checkout_ids: HashSet<&str> = checkouts.iter().filter_map(|c| c["id"].as_str()).collect();
    for b in &builds {
        let id = identity("build", b, rules, &mut ids)?;
        let checkout = b["checkout_id"]
            .as_str()
            .ok_or_else(|| format!("build {id} has no checkout_id"))?;
        if !crate::model::is_kcidb_id(checkout) {
            return Err(format!(
                "build {id} has checkout_id '{checkout}', which is not a KCIDB id"
            ));
        }
        if rules.checkouts_included && !checkout_ids.contains(checkout) {
            return Err(format!(
                "build {id} refers to a checkout not in the document"
            ));
        }
        if b.get("valid").is_some() {
            return Err(format!(
                "build {id} has 'valid', which KCIDB schema 5 does not take (use status)"
            ));
        }
        common("build", id, b)?;
    }
    for t in &tests {
        let id = identity("test", t, rules, &mut ids)?;
        let build = t["build_id"]
            .as_str()
            .ok_or_else(|| format!("test {id} has no build_id"))?;
        if !crate::model::is_kcidb_id(build) {
            return Err(format!(
                "test {id} has build id '{build}', which is not a KCIDB id"
            ));
        }
        if let Some(origin) = rules.origin {
            if build.starts_with(&format!("{origin}:")) && !(rules.known_build)(build) {
                return Err(format!(
                    "test {id} refers to build '{build}', which kbridge does not know"
                ));
            }
        }
        if let Some(path) = t.get("path") {
            let path = path.as_str().unwrap_or("-");
            if !path_ok(path) {
                return Err(format!("test {id} has an illegal path '{path}'"));
            }
        }
        common("test", id, t)?;
    }
    Ok(())
}

fn objects<'v>(
    top: &'v Map<String, Value>,
    key: &str,
) -> Result<Vec<&'v Map<String, Value>>, String> {
    match top.get(key) {
        None => Ok(vec![]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_object()
                    .ok_or_else(|| format!("an element of {key} is not an object"))
            })
            .collect(),
        Some(_) => Err(format!("{key} is not a list")),
    }
}

/// Checks an object's id and origin, and that the id is new.
fn identity<'v>(
    kind: &str,
    obj: &'v Map<String, Value>,
    rules: &Rules<'_>,
    ids: &mut HashSet<String>,
) -> Result<&'v str, String> {
    let id = obj["id"]
        .as_str()
        .ok_or_else(|| format!("a {kind} has no id"))?;
    let origin = obj["origin"]
        .as_str()
        .ok_or_else(|| format!("{kind} {id} has no origin"))?;
    if !crate::model::is_valid_origin(origin) {
        return Err(format!(
            "{kind} {id} has origin '{origin}', which is not a KCIDB origin"
        ));
    }
    if rules.origin.is_some_and(|o| o != origin) {
        return Err(format!(
            "{kind} id '{id}' does not belong to origin '{}'",
            rules.origin.unwrap_or_default()
        ));
    }
    let prefix = format!("{origin}:");
    if !id.starts_with(&prefix) || id.len() == prefix.len() {
        return Err(format!(
            "{kind} id '{id}' does not belong to origin '{origin}'"
        ));
    }
    if !ids.insert(format!("{kind}/{id}")) {
        return Err(format!("{kind} id '{id}' appears twice"));
    }
    Ok(id)
}

/// The fields builds and tests share.
fn common(kind: &str, id: &str, obj: &Map<String, Value>) -> Result<(), String> {
    if let Some(status) = obj.get("status") {
        if !status.as_str().is_some_and(|s| STATUSES.contains(&s)) {
            return Err(format!(
                "{kind} {id} has status {status}; use one of {}",
                STATUSES.join(", ")
            ));
        }
    }
    if let Some(excerpt) = obj.get("log_excerpt") {
        let n = excerpt.as_str().map(|e| e.chars().count()).unwrap_or(0);
        if n > MAX_EXCERPT {
            return Err(format!(
                "{kind} {id} has a log excerpt longer than {MAX_EXCERPT} characters"
            ));
        }
    }
    if let Some(d) = obj.get("duration") {
        if !d.is_number() {
            return Err(format!("{kind} {id} has a duration that is not a number"));
        }
    }
    if let Some(t) = obj.get("start_time") {
        if t.as_str()
            .is_none_or(|t| t.parse::<jiff::Timestamp>().is_err())
        {
            return Err(format!(
                "{kind} {id} has a start_time that is not RFC 3339 with a zone"
            ));
        }
    }
    Ok(())
}

/// KCIDB takes no nulls and no NUL characters anywhere.
fn no_nulls(at: &str, v: &Value) -> Result<(), String> {
    match v {
        Value::Null => Err(format!("{at} holds a null; leave the field out instead")),
        Value::String(s) if s.contains('\0') => Err(format!("{at} contains a NUL character")),
        Value::Array(items) => items.iter().try_for_each(|i| no_nulls(at, i)),
        Value::Object(map) => map.values().try_for_each(|i| no_nulls(at, i)),
        _ => Ok(()),
    }
}

/// `^([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?$`.
pub fn path_ok(path: &str) -> bool {
    path.is_empty()
        || path.split('.').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn own(doc: &Value) -> Result<(), Invalid> {
        check(doc, &Rules::own("kbridge", &|id| id == "kbridge:known"))
    }

    #[test]
    fn a_good_document_passes() {
        let doc = json!({"version": {"major": 5, "minor": 3},
            "checkouts": [{"id": "kbridge:c", "origin": "kbridge", "valid": true}],
            "builds": [{"id": "kbridge:b", "origin": "kbridge", "checkout_id": "kbridge:c", "status": "PASS", "duration": 3.5}],
            "tests": [{"id": "kbridge:t", "origin": "kbridge", "build_id": "kbridge:known", "path": "ltp.smoke", "status": "FAIL",
                       "start_time": "2026-02-24T12:42:27Z"}]});
        own(&doc).unwrap();
    }

    #[test]
    fn each_rule_names_what_is_wrong() {
        let base = json!({"version": {"major": 5, "minor": 3}, "tests": [{"id": "kbridge:t", "origin": "kbridge", "build_id": "maestro:1"}]});
        let bad = |edit: &dyn Fn(&mut Value)| {
            let mut d = base.clone();
            edit(&mut d);
            own(&d).unwrap_err().0
        };
        assert!(bad(&|d| d["tests"][0]["path"] = json!("a..b")).contains("illegal path"));
        assert!(bad(&|d| d["tests"][0]["status"] = json!("pass")).contains("has status"));
        assert!(bad(&|d| d["tests"][0]["origin"] = json!("other")).contains("does not belong"));
        assert!(bad(&|d| d["tests"][0]["id"] = json!("other:t")).contains("does not belong"));
        assert!(
            bad(&|d| d["tests"][0]["build_id"] = json!("kbridge:unknown"))
                .contains("does not know")
        );
        assert!(bad(&|d| d["tests"][0]["build_id"] = json!("nope")).contains("not a KCIDB id"));
        assert!(
            bad(&|d| d["tests"][0]["log_excerpt"] = json!("x".repeat(MAX_EXCERPT + 1)))
                .contains("longer")
        );
        assert!(bad(&|d| d["tests"][0]["duration"] = json!("3")).contains("not a number"));
        assert!(
            bad(&|d| d["tests"][0]["start_time"] = json!("2026-02-24 12:00")).contains("RFC 3339")
        );
        assert!(bad(&|d| d["tests"][0]["comment"] = json!("a\u{0}b")).contains("NUL"));
        assert!(bad(&|d| d["tests"][0]["comment"] = Value::Null).contains("null"));
        assert!(bad(&|d| d["version"]["major"] = json!(4)).contains("version"));
        assert!(bad(&|d| d["extra"] = json!(1)).contains("unknown top-level key"));
        assert!(bad(&|d| {
            let t = d["tests"][0].clone();
            d["tests"].as_array_mut().unwrap().push(t)
        })
        .contains("appears twice"));
        assert!(bad(&|d| d["builds"] =
            json!([{"id": "kbridge:b", "origin": "kbridge", "checkout_id": "kbridge:c"}]))
        .contains("checkout not in the document"));
        assert!(bad(&|d| d["builds"] = json!([{"id": "kbridge:b", "origin": "kbridge", "checkout_id": "kbridge:c", "valid": true}]))
            .contains("not in the document"));
    }

    #[test]
    fn foreign_documents_need_only_be_consistent() {
        let doc = json!({"version": {"major": 5, "minor": 3},
            "builds": [{"id": "lab:b", "origin": "lab", "checkout_id": "lab:c"}],
            "tests": [{"id": "lab:t", "origin": "lab", "build_id": "kbridge:anything"}]});
        check(&doc, &Rules::foreign()).unwrap();
        assert!(own(&doc).is_err());
    }
}
