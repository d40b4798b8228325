//! Turning a finished job's results into a KCIDB v5.3 document, and the
//! checks the schema cannot express.
//!
//! Ids are deterministic, so processing the same callback twice yields the
//! same bytes and KCIDB merges rather than duplicates. For continuity with
//! the Python bridge kbridge replaces, a test's id is `ORIGIN:` + hex
//! SHA-256 of `"{uid}-{collection}-{test}"` and its path is
//! `{collection}.{test without its first dash-separated part}`; a build's
//! id is `ORIGIN:{uid}`. No network, no store: rows in, document out.

pub mod model;

use std::collections::HashSet;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{BuildResults, Job, JobKind, JobResults, Status, TestResults};
use model::{Build, Checkout, Document, Environment, Test, Version};

/// The longest `log_excerpt` KCIDB takes, in characters.
const MAX_EXCERPT: usize = 16384;

/// Builds the document for `job` from its results.
pub fn document(job: &Job, origin: &str, results: &JobResults) -> Document {
    let mut doc = Document {
        version: Version {
            major: model::VERSION.0,
            minor: model::VERSION.1,
        },
        checkouts: vec![],
        builds: vec![],
        tests: vec![],
    };
    let uid = job.uid.as_deref().unwrap_or_default();
    match results {
        JobResults::Build(b) => {
            let checkout = checkout(origin, uid, b);
            doc.builds.push(build(origin, uid, &checkout.id, job, b));
            doc.checkouts.push(checkout);
        }
        JobResults::Test(t) => doc.tests = tests(origin, uid, job, t),
    }
    doc
}

/// Checks a document (see [`check`]) and serialises it, once: pretty, with
/// a final newline, always the same bytes for the same document.
pub fn checked_bytes(
    doc: &Document,
    origin: &str,
    known_build: &dyn Fn(&str) -> bool,
) -> Result<Vec<u8>, String> {
    check(doc, origin, known_build)?;
    let mut bytes = serde_json::to_vec_pretty(doc).expect("documents always serialise");
    // serde_json writes a NUL in a string as this escape, and KCIDB
    // refuses NULs anywhere.
    if bytes.windows(6).any(|w| w == b"\\u0000") {
        return Err("the document contains a NUL character".into());
    }
    bytes.push(b'\n');
    Ok(bytes)
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn checkout(origin: &str, uid: &str, b: &BuildResults) -> Checkout {
    let repo = b.git_repo.clone().unwrap_or_default();
    let rev = b.git_sha.clone().or(b.git_ref.clone()).unwrap_or_default();
    let hash = b
        .git_sha
        .as_ref()
        .map(|s| s.to_ascii_lowercase())
        .filter(|s| s.len() == 40 && s.bytes().all(|c| c.is_ascii_hexdigit()));
    let mut misc = Map::new();
    misc.insert("runtime".into(), "tuxsuite".into());
    misc.insert("build_uid".into(), uid.into());
    if !repo.starts_with("https://") && !repo.is_empty() {
        // KCIDB takes only https:// repository URLs; keep the real one.
        misc.insert("git_repository_url".into(), repo.clone().into());
    }
    Checkout {
        id: format!("{origin}:{}", sha256_hex(&format!("{repo}|{rev}|{uid}"))),
        origin: origin.into(),
        tree_name: None,
        git_repository_url: Some(repo.clone()).filter(|r| r.starts_with("https://")),
        git_repository_branch: b.git_ref.clone(),
        git_commit_name: b.git_describe.clone(),
        valid: Some(hash.is_some()),
        git_commit_hash: hash,
        start_time: b.start_time.clone(),
        misc,
    }
}

fn build(origin: &str, uid: &str, checkout_id: &str, job: &Job, b: &BuildResults) -> Build {
    let mut misc = b.misc.clone();
    misc.insert("runtime".into(), job.runner.clone().into());
    misc.insert("uid".into(), uid.into());
    Build {
        id: format!("{origin}:{uid}"),
        origin: origin.into(),
        checkout_id: checkout_id.into(),
        architecture: b.arch.clone().filter(|a| {
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        }),
        compiler: b.toolchain.clone(),
        config_name: Some(b.kconfig.join("+")).filter(|c| !c.is_empty()),
        config_url: b.config_url.clone(),
        start_time: b.start_time.clone(),
        duration: b.duration,
        log_url: b.log_url.clone(),
        log_excerpt: b.log_excerpt.clone(),
        output_files: b.output_files.clone(),
        status: b.status,
        misc,
    }
}

fn tests(origin: &str, uid: &str, job: &Job, t: &TestResults) -> Vec<Test> {
    let build_id = job.build_id.clone().unwrap_or_default();
    let device = t.device.clone().or(job.device.clone());
    let environment = device.map(|d| {
        let mut misc = Map::new();
        misc.insert("platform".into(), Value::from(d));
        Environment { misc }
    });
    let mut misc = t.misc.clone();
    misc.insert("runtime".into(), job.runner.clone().into());
    let make = |id_key: &str, path: String, status: Status| Test {
        id: format!("{origin}:{}", sha256_hex(id_key)),
        origin: origin.into(),
        build_id: build_id.clone(),
        path,
        status,
        start_time: t.start_time.clone(),
        duration: t.duration,
        log_url: t.log_url.clone(),
        log_excerpt: None,
        environment: environment.clone(),
        misc: misc.clone(),
    };

    if job.kind == JobKind::Boot {
        let status = t.verdicts.get("boot").copied().unwrap_or(Status::Miss);
        let mut boot = make(&format!("{uid}-boot-boot"), "boot".into(), status);
        boot.log_excerpt = t.log_excerpt.clone();
        return vec![boot];
    }

    let collection = job.collection.clone().unwrap_or_else(|| "tests".into());
    let mut out = Vec::new();
    for name in &job.tests {
        let path = suite_path(&collection, name);
        let status = t.verdicts.get(name).copied().unwrap_or(Status::Miss);
        let mut suite = make(&format!("{uid}-{collection}-{name}"), path.clone(), status);
        suite.log_excerpt = t.log_excerpt.clone();
        out.push(suite);
        for case in t.cases.iter().filter(|c| &c.test == name) {
            let mut test = make(
                &format!("{uid}-{collection}-{name}/{}", case.name),
                format!("{path}.{}", sanitise(&case.name)),
                case.status,
            );
            test.duration = case.duration;
            out.push(test);
        }
    }
    // Suites the job ran that were not asked for by name still have cases
    // worth reporting; they get a path of their own.
    for case in t.cases.iter().filter(|c| !job.tests.contains(&c.test)) {
        let first = case.test.split('-').next().unwrap_or(&case.test);
        let path = suite_path(first, &case.test);
        let mut test = make(
            &format!("{uid}-{first}-{}/{}", case.test, case.name),
            format!("{path}.{}", sanitise(&case.name)),
            case.status,
        );
        test.duration = case.duration;
        out.push(test);
    }
    out
}

/// `ltp` + `ltp-smoke` → `ltp.smoke`; a test without `-` keeps its name.
fn suite_path(collection: &str, test: &str) -> String {
    let rest = test.split_once('-').map(|(_, r)| r).unwrap_or(test);
    let collection = sanitise(collection);
    if rest == collection {
        collection
    } else {
        format!("{collection}.{}", sanitise(rest))
    }
}

/// Makes a name legal in a KCIDB path: each dot-separated part keeps
/// letters, digits, `_` and `-`, and anything else becomes `_`; empty parts
/// are dropped (a `.` inside a name adds a tree level).
pub fn sanitise(name: &str) -> String {
    let parts: Vec<String> = name
        .split('.')
        .map(|p| {
            p.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        "unnamed".into()
    } else {
        parts.join(".")
    }
}

/// Checks what the schema cannot: every id is `origin:` + something with
/// this document's origin, ids are unique, every build's checkout is in
/// the document, every test's build id is a KCIDB id and, when it is one of
/// ours, names a build we know (`known_build`). Also the limits that are
/// easy to get wrong: paths, excerpt length. [`checked_bytes`] adds NULs.
pub fn check(
    doc: &Document,
    origin: &str,
    known_build: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    let prefix = format!("{origin}:");
    let mut ids = HashSet::new();
    let mut own = |kind: &str, id: &str, obj_origin: &str| -> Result<(), String> {
        if obj_origin != origin || !id.starts_with(&prefix) || id.len() == prefix.len() {
            return Err(format!(
                "{kind} id '{id}' does not belong to origin '{origin}'"
            ));
        }
        if !ids.insert(id.to_string()) {
            return Err(format!("{kind} id '{id}' appears twice"));
        }
        Ok(())
    };
    let checkouts: HashSet<&str> = doc.checkouts.iter().map(|c| c.id.as_str()).collect();
    for c in &doc.checkouts {
        own("checkout", &c.id, &c.origin)?;
    }
    for b in &doc.builds {
        own("build", &b.id, &b.origin)?;
        if !checkouts.contains(b.checkout_id.as_str()) {
            return Err(format!(
                "build {} refers to a checkout not in the document",
                b.id
            ));
        }
        excerpt_ok(&b.log_excerpt)?;
    }
    for t in &doc.tests {
        own("test", &t.id, &t.origin)?;
        if !crate::model::is_kcidb_id(&t.build_id) {
            return Err(format!(
                "test {} has build id '{}', which is not a KCIDB id",
                t.id, t.build_id
            ));
        }
        if t.build_id.starts_with(&prefix) && !known_build(&t.build_id) {
            return Err(format!(
                "test {} refers to build '{}', which kbridge does not know",
                t.id, t.build_id
            ));
        }
        if !path_ok(&t.path) {
            return Err(format!("test {} has an illegal path '{}'", t.id, t.path));
        }
        excerpt_ok(&t.log_excerpt)?;
    }
    Ok(())
}

fn excerpt_ok(e: &Option<String>) -> Result<(), String> {
    match e {
        Some(e) if e.chars().count() > MAX_EXCERPT => Err(format!(
            "a log excerpt is longer than {MAX_EXCERPT} characters"
        )),
        _ => Ok(()),
    }
}

fn path_ok(path: &str) -> bool {
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
    use crate::model::{CaseResult, JobSpec, JobState, TestSpec};

    fn test_job(kind: JobKind, tests: &[&str]) -> Job {
        let spec = TestSpec {
            device: "qemu-riscv64".into(),
            kernel: "https://k".into(),
            modules: None,
            build_id: "maestro:681b".into(),
            tests: tests.iter().map(|s| s.to_string()).collect(),
            collection: Some("ltp".into()),
            parameters: vec![],
            private: false,
        };
        Job {
            id: 1,
            runner: "tuxsuite".into(),
            kind,
            uid: Some("2MBYa8FhoBHkRCX2BMMPusjuClf".into()),
            state: JobState::Received,
            detail: None,
            summary: String::new(),
            spec: if kind == JobKind::Boot {
                JobSpec::Boot(spec)
            } else {
                JobSpec::Test(spec)
            },
            request: Value::Null,
            response: None,
            build_id: Some("maestro:681b".into()),
            collection: Some("ltp".into()),
            tests: tests.iter().map(|s| s.to_string()).collect(),
            device: Some("qemu-riscv64".into()),
            callback_url: None,
            callback_token: None,
            scheduled_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn test_ids_and_paths_follow_the_python_bridge() {
        let job = test_job(JobKind::Test, &["ltp-smoke", "ltp-fsx"]);
        let mut results = TestResults::default();
        results.verdicts.insert("ltp-smoke".into(), Status::Fail);
        results.cases.push(CaseResult {
            test: "ltp-smoke".into(),
            name: "access 01/x:y".into(),
            status: Status::Fail,
            duration: Some(1.5),
        });
        let doc = document(&job, "kbridge", &JobResults::Test(results));
        let t = &doc.tests;
        assert_eq!(t.len(), 3);
        assert_eq!(
            t[0].id,
            format!(
                "kbridge:{}",
                sha256_hex("2MBYa8FhoBHkRCX2BMMPusjuClf-ltp-ltp-smoke")
            )
        );
        assert_eq!(t[0].path, "ltp.smoke");
        assert_eq!(t[0].status, Status::Fail);
        assert_eq!(t[1].path, "ltp.smoke.access_01_x_y");
        assert_eq!(t[1].duration, Some(1.5));
        assert_eq!(t[2].path, "ltp.fsx");
        assert_eq!(t[2].status, Status::Miss, "no verdict is MISS");
        assert!(check(&doc, "kbridge", &|_| false).is_ok());
        assert!(check(&doc, "other", &|_| true).is_err());
    }

    #[test]
    fn boot_jobs_have_one_boot_test() {
        let job = test_job(JobKind::Boot, &[]);
        let mut results = TestResults::default();
        results.verdicts.insert("boot".into(), Status::Pass);
        let doc = document(&job, "kbridge", &JobResults::Test(results));
        assert_eq!(doc.tests.len(), 1);
        assert_eq!(doc.tests[0].path, "boot");
        assert_eq!(doc.tests[0].status, Status::Pass);
    }

    #[test]
    fn documents_with_nul_are_refused() {
        let job = test_job(JobKind::Boot, &[]);
        let mut results = TestResults::default();
        let doc = document(&job, "kbridge", &JobResults::Test(results.clone()));
        let bytes = checked_bytes(&doc, "kbridge", &|_| true).unwrap();
        assert!(bytes.ends_with(b"}\n"));
        results.misc.insert("note".into(), "a\0b".into());
        let doc = document(&job, "kbridge", &JobResults::Test(results));
        assert!(checked_bytes(&doc, "kbridge", &|_| true)
            .unwrap_err()
            .contains("NUL"));
    }

    #[test]
    fn sanitising_paths() {
        assert_eq!(sanitise("a b/c+d"), "a_b_c_d");
        assert_eq!(sanitise("x..y."), "x.y");
        assert_eq!(sanitise("..."), "unnamed");
        assert_eq!(suite_path("kunit", "kunit"), "kunit");
        assert_eq!(
            suite_path("kselftest", "kselftest-net-forwarding"),
            "kselftest.net-forwarding"
        );
        assert!(path_ok("a.b-c_d") && !path_ok("a..b") && !path_ok("a b"));
    }

    #[test]
    fn own_builds_must_be_known() {
        let mut job = test_job(JobKind::Boot, &[]);
        job.build_id = Some("kbridge:2ZIT".into());
        let doc = document(&job, "kbridge", &JobResults::Test(TestResults::default()));
        assert!(check(&doc, "kbridge", &|_| false)
            .unwrap_err()
            .contains("does not know"));
        assert!(check(&doc, "kbridge", &|id| id == "kbridge:2ZIT").is_ok());
    }
}
