//! Merging pending documents into one submission, and splitting a
//! document KCIDB found too large.
//!
//! KCIDB merges objects by id, so a merged document carries each object
//! once (the first copy: every copy of an id kbridge made is the same), and
//! a split document carries every object exactly once across its parts.

use std::collections::HashSet;

use serde_json::{Map, Value};

const KINDS: [&str; 3] = ["checkouts", "builds", "tests"];

/// One document holding every object of `docs`, each once, in order:
/// checkouts, then builds, then tests, so a build's test never comes before
/// it.
pub fn merge<'a>(docs: impl IntoIterator<Item = &'a Value>) -> Value {
    let mut seen: HashSet<(usize, String)> = HashSet::new();
    let mut lists: [Vec<Value>; 3] = Default::default();
    let mut version = None;
    for doc in docs {
        version.get_or_insert_with(|| doc["version"].clone());
        for (k, kind) in KINDS.iter().enumerate() {
            for obj in doc[*kind].as_array().into_iter().flatten() {
                let id = obj["id"].as_str().unwrap_or_default().to_string();
                if seen.insert((k, id)) {
                    lists[k].push(obj.clone());
                }
            }
        }
    }
    assemble(
        version.unwrap_or_else(|| serde_json::json!({"major": 5, "minor": 3})),
        lists,
    )
}

fn assemble(version: Value, lists: [Vec<Value>; 3]) -> Value {
    let mut out = Map::new();
    out.insert("version".into(), version);
    for (kind, list) in KINDS.iter().zip(lists) {
        if !list.is_empty() {
            out.insert((*kind).into(), Value::Array(list));
        }
    }
    Value::Object(out)
}

/// Splits one document into smaller ones: builds first, with the
/// checkouts they need, then the tests in halves. `None` when it holds a
/// single object and cannot be split.
pub fn split(doc: &Value) -> Option<Vec<Value>> {
    let list = |kind: &str| doc[kind].as_array().cloned().unwrap_or_default();
    let (checkouts, builds, tests) = (list("checkouts"), list("builds"), list("tests"));
    let version = doc["version"].clone();
    let objects = checkouts.len() + builds.len() + tests.len();
    if objects <= 1 {
        return None;
    }
    let mut parts = Vec::new();
    if !builds.is_empty() || !checkouts.is_empty() {
        if tests.is_empty() {
            // Only builds (and their checkouts): halve the builds, each half
            // with the checkouts it refers to.
            if builds.len() <= 1 {
                // One build and its checkout: send the checkout alone first.
                parts.push(assemble(
                    version.clone(),
                    [checkouts.clone(), vec![], vec![]],
                ));
                parts.push(assemble(version, [vec![], builds, vec![]]));
                return Some(parts);
            }
            let (a, b) = builds.split_at(builds.len() / 2);
            for half in [a, b] {
                let wanted: HashSet<&str> = half
                    .iter()
                    .filter_map(|b| b["checkout_id"].as_str())
                    .collect();
                let cs: Vec<Value> = checkouts
                    .iter()
                    .filter(|c| c["id"].as_str().is_some_and(|id| wanted.contains(id)))
                    .cloned()
                    .collect();
                parts.push(assemble(version.clone(), [cs, half.to_vec(), vec![]]));
            }
            return Some(parts);
        }
        parts.push(assemble(version.clone(), [checkouts, builds, vec![]]));
        parts.push(assemble(version, [vec![], vec![], tests]));
        return Some(parts);
    }
    let (a, b) = tests.split_at(tests.len() / 2);
    parts.push(assemble(version.clone(), [vec![], vec![], a.to_vec()]));
    parts.push(assemble(version, [vec![], vec![], b.to_vec()]));
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(doc: &Value) -> Vec<String> {
        KINDS
            .iter()
            .flat_map(|k| doc[*k].as_array().cloned().unwrap_or_default())
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn merging_keeps_each_object_once_in_kind_order() {
        let a = json!({"version": {"major": 5, "minor": 3}, "checkouts": [{"id": "k:c"}], "builds": [{"id": "k:b1", "checkout_id": "k:c"}]});
        let b = json!({"version": {"major": 5, "minor": 3}, "checkouts": [{"id": "k:c"}], "builds": [{"id": "k:b2", "checkout_id": "k:c"}]});
        let t = json!({"version": {"major": 5, "minor": 3}, "tests": [{"id": "k:t"}]});
        let m = merge([&t, &a, &b]);
        assert_eq!(ids(&m), ["k:c", "k:b1", "k:b2", "k:t"]);
    }

    #[test]
    fn splitting_delivers_every_object_once() {
        let doc = json!({"version": {"major": 5, "minor": 3},
            "checkouts": [{"id": "k:c"}], "builds": [{"id": "k:b", "checkout_id": "k:c"}],
            "tests": [{"id": "k:t1"}, {"id": "k:t2"}, {"id": "k:t3"}]});
        let parts = split(&doc).unwrap();
        assert_eq!(
            ids(&parts[0]),
            ["k:c", "k:b"],
            "builds first, with their checkout"
        );
        let mut all: Vec<String> = parts.iter().flat_map(ids).collect();
        let tests = split(&parts[1]).unwrap();
        assert_eq!(tests.len(), 2);
        all.sort();
        assert_eq!(all, ["k:b", "k:c", "k:t1", "k:t2", "k:t3"]);
        assert!(split(&json!({"version": {}, "tests": [{"id": "k:t"}]})).is_none());
    }
}
