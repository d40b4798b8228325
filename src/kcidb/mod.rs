//! KCIDB: the documents kbridge sends, their checks, and the REST API
//! they go to. Pure: no store, no settings, no clock (delivery, which
//! needs all three, is a stage of the pipeline, `pipeline::deliver`).
//!
//! Ids are deterministic, so processing the same report twice yields the
//! same bytes and KCIDB merges rather than duplicates. KCIDB keeps the
//! first value it sees of every field, so the mapping below is settled
//! once (docs/kcidb.md has it as a table):
//!
//! - a build is `ORIGIN:{uid}`; builds of the same repository and commit
//!   share one checkout, `ORIGIN:` + SHA-256 of `"{repo}|{commit}"` (a
//!   build whose commit is unknown gets a checkout of its own);
//! - a test is `ORIGIN:` + SHA-256 of `"{uid}-{collection}-{test}"` with
//!   path `{collection}.{test without its first dash-separated part}`, for
//!   continuity with the Python bridge kbridge replaces; the collection is
//!   `--collection`, else each test's own prefix (`kselftest-timers` →
//!   `kselftest`);
//! - every test or boot job reports its boot as a test with path `boot`,
//!   `ORIGIN:` + SHA-256 of `"{uid}-boot-boot"`.
//!
//! # Layout
//! - this file: documents from runner results and from reports;
//! - `model`: the schema's objects as serde types;
//! - `check`: what the schema cannot check, over any document;
//! - `batch`: merging documents into one submission, and splitting one;
//! - `client`: the REST API (submit, status), given its endpoint.

pub mod batch;
pub mod check;
pub mod client;
pub mod model;

use serde_json::{Map, Value};

use crate::model::{BuildResults, Job, JobKind, JobResults, Status, TestResults};
use model::{Build, Checkout, Document, Environment, Number, Test, Version};

/// An empty document of the version kbridge writes.
fn empty() -> Document {
    Document {
        version: Version {
            major: model::VERSION.0,
            minor: model::VERSION.1,
        },
        checkouts: vec![],
        builds: vec![],
        tests: vec![],
    }
}

/// Builds the document for `job` from its results.
pub fn document(job: &Job, origin: &str, results: &JobResults) -> Document {
    let mut doc = empty();
    let uid = job.uid.as_deref().unwrap_or_default();
    match results {
        JobResults::Build(b) => {
            let checkout = checkout(origin, uid, job, b);
            doc.builds.push(build(origin, uid, &checkout.id, job, b));
            doc.checkouts.push(checkout);
        }
        JobResults::Test(t) => doc.tests = tests(origin, uid, job, t),
    }
    doc
}

/// Checks one of kbridge's own documents (see [`check::check`]) and
/// serialises it, once: pretty, with a final newline, always the same
/// bytes for the same document.
pub fn checked_bytes(
    doc: &Document,
    origin: &str,
    known_build: &dyn Fn(&str) -> bool,
) -> Result<Vec<u8>, check::Invalid> {
    let value = serde_json::to_value(doc).expect("documents always serialise");
    check::check(&value, &check::Rules::own(origin, known_build))?;
    let mut bytes = serde_json::to_vec_pretty(doc).expect("documents always serialise");
    bytes.push(b'\n');
    Ok(bytes)
}

/// The worst status among a document's builds and tests (KCIDB's
/// priority: FAIL, ERROR, MISS, PASS, DONE, SKIP).
pub fn worst(doc: &Document) -> Option<Status> {
    doc.builds
        .iter()
        .filter_map(|b| b.status)
        .chain(doc.tests.iter().map(|t| t.status))
        .min()
}

/// The build ids a document defines, and kbridge's own build ids its tests
/// refer to (sent after those builds).
pub fn references(doc: &Document, origin: &str) -> (Vec<String>, Vec<String>) {
    let builds: Vec<String> = doc.builds.iter().map(|b| b.id.clone()).collect();
    let prefix = format!("{origin}:");
    let mut needs: Vec<String> = doc
        .tests
        .iter()
        .map(|t| t.build_id.clone())
        .filter(|b| b.starts_with(&prefix) && !builds.contains(b))
        .collect();
    needs.sort();
    needs.dedup();
    (builds, needs)
}

/// The same, for a document given as JSON.
pub fn references_of(doc: &Value, origin: &str) -> (Vec<String>, Vec<String>) {
    let ids = |kind: &str, field: &str| -> Vec<String> {
        doc[kind]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o[field].as_str().map(String::from))
            .collect()
    };
    let builds = ids("builds", "id");
    let prefix = format!("{origin}:");
    let mut needs: Vec<String> = ids("tests", "build_id")
        .into_iter()
        .filter(|b| b.starts_with(&prefix) && !builds.contains(b))
        .collect();
    needs.sort();
    needs.dedup();
    (builds, needs)
}

pub(crate) fn sha256_hex(s: &str) -> String {
    crate::model::sha256_hex(s.as_bytes())
}

/// The build's checkout: shared by every build of the same repository and
/// commit, so its fields are only those that do not depend on the build.
fn checkout(origin: &str, uid: &str, job: &Job, b: &BuildResults) -> Checkout {
    // KCIDB publishes the URL: whatever credentials a runner echoed in it
    // stay here.
    let repo = crate::urls::without_userinfo(b.git_repo.as_deref().unwrap_or_default())
        .0
        .into_owned();
    let hash = b
        .git_sha
        .as_ref()
        .map(|s| s.to_ascii_lowercase())
        .filter(|s| s.len() == 40 && s.bytes().all(|c| c.is_ascii_hexdigit()));
    let mut misc = Map::new();
    misc.insert("runtime".into(), job.runner.clone().into());
    if !repo.starts_with("https://") && !repo.is_empty() {
        // KCIDB takes only https:// repository URLs; keep the real one.
        misc.insert("git_repository_url".into(), repo.clone().into());
    }
    let id = match &hash {
        Some(commit) => sha256_hex(&format!("{repo}|{commit}")),
        None => {
            // Without a commit nothing says two builds had the same tree.
            misc.insert("build_uid".into(), uid.into());
            let rev = b.git_ref.clone().unwrap_or_default();
            sha256_hex(&format!("{repo}|{rev}|{uid}"))
        }
    };
    Checkout {
        id: format!("{origin}:{id}"),
        origin: origin.into(),
        tree_name: None,
        git_repository_url: Some(repo.clone()).filter(|r| r.starts_with("https://")),
        git_repository_branch: b.git_ref.clone(),
        git_commit_name: b.git_describe.clone(),
        // The tree was checked out when the build reports its commit; a
        // failed compile is the build's FAIL, not an invalid checkout.
        valid: hash.as_ref().map(|_| true),
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

/// The collection a test is filed under: the one given, else the test's
/// own name up to its first `-` (`ltp-smoke` → `ltp`).
pub fn collection_of(given: Option<&str>, test: &str) -> String {
    match given {
        Some(c) => c.to_string(),
        None => test.split('-').next().unwrap_or(test).to_string(),
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
    // A runner with several sites (LAVA labs) names the one it ran on.
    misc.entry("runtime")
        .or_insert_with(|| job.runner.clone().into());
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
        number: None,
        misc: misc.clone(),
    };

    // Every test job boots first; KernelCI's dashboards count boots.
    let status = t.verdicts.get("boot").copied().unwrap_or(Status::Miss);
    let mut boot = make(&format!("{uid}-boot-boot"), "boot".into(), status);
    boot.log_excerpt = t.log_excerpt.clone();
    let mut out = vec![boot];
    if job.kind == JobKind::Boot {
        return out;
    }

    // The requested tests, then any other the runner gave a verdict for
    // (a suite of a job definition kbridge did not write).
    let mut names: Vec<&String> = job.tests.iter().collect();
    names.extend(
        t.verdicts
            .keys()
            .filter(|n| n.as_str() != "boot" && !job.tests.contains(n)),
    );
    for name in names {
        let (key, path) = match t.paths.get(name) {
            Some(path) => (format!("{uid}-{path}"), path.clone()),
            None => {
                let collection = collection_of(job.collection.as_deref(), name);
                (
                    format!("{uid}-{collection}-{name}"),
                    suite_path(&collection, name),
                )
            }
        };
        let status = t.verdicts.get(name).copied().unwrap_or(Status::Miss);
        let mut suite = make(&key, path.clone(), status);
        suite.log_excerpt = t.log_excerpt.clone();
        out.push(suite);
        for case in t.cases.iter().filter(|c| &c.test == name) {
            out.push(case_test(&make, case, &key, &path));
        }
    }
    // Suites the job ran that have neither a verdict nor a name in the
    // request still have cases worth reporting; they get a path of their
    // own.
    for case in t
        .cases
        .iter()
        .filter(|c| !job.tests.contains(&c.test) && !t.verdicts.contains_key(&c.test))
    {
        let (key, path) = match t.paths.get(&case.test) {
            Some(path) => (format!("{uid}-{path}"), path.clone()),
            None => {
                let first = collection_of(None, &case.test);
                (
                    format!("{uid}-{first}-{}", case.test),
                    suite_path(&first, &case.test),
                )
            }
        };
        out.push(case_test(&make, case, &key, &path));
    }
    out
}

/// One case under its test's id key and path: a set, when it has one, is
/// a level of its own.
fn case_test(
    make: &dyn Fn(&str, String, Status) -> Test,
    case: &crate::model::CaseResult,
    key: &str,
    path: &str,
) -> Test {
    let (key, path) = match &case.set {
        Some(set) => (
            format!("{key}/{set}/{}", case.name),
            format!("{path}.{}.{}", sanitise(set), sanitise(&case.name)),
        ),
        None => (
            format!("{key}/{}", case.name),
            format!("{path}.{}", sanitise(&case.name)),
        ),
    };
    let mut test = make(&key, path, case.status);
    test.duration = case.duration;
    test.number = case.measurement.as_ref().map(|m| Number {
        value: m.value,
        unit: (!m.unit.is_empty()).then(|| m.unit.clone()),
    });
    test
}

/// One test reported by a system that is not a runner.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedTest {
    pub name: String,
    pub collection: Option<String>,
    pub status: Status,
    pub log_excerpt: Option<String>,
}

/// Results from a system that is not a runner, already checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The reporting system's id for the test run.
    pub test_uid: String,
    pub build_id: String,
    pub device: Option<String>,
    /// Where it ran (`misc.runtime`).
    pub runtime: String,
    pub start_time: Option<String>,
    pub duration: Option<f64>,
    pub tests: Vec<ReportedTest>,
}

/// The document for a report: the same id and path rules as a runner's
/// tests, with the report's own uid.
pub fn report_document(report: &Report, origin: &str) -> Document {
    let mut doc = empty();
    let environment = report.device.clone().map(|d| {
        let mut misc = Map::new();
        misc.insert("platform".into(), Value::from(d));
        Environment { misc }
    });
    let mut misc = Map::new();
    misc.insert("runtime".into(), report.runtime.clone().into());
    misc.insert("report_uid".into(), report.test_uid.clone().into());
    for t in &report.tests {
        let collection = collection_of(t.collection.as_deref(), &t.name);
        let (id_key, path) = if t.name == "boot" {
            (format!("{}-boot-boot", report.test_uid), "boot".to_string())
        } else {
            (
                format!("{}-{collection}-{}", report.test_uid, t.name),
                suite_path(&collection, &t.name),
            )
        };
        doc.tests.push(Test {
            id: format!("{origin}:{}", sha256_hex(&id_key)),
            origin: origin.into(),
            build_id: report.build_id.clone(),
            path,
            status: t.status,
            start_time: report.start_time.clone(),
            duration: report.duration,
            log_url: None,
            log_excerpt: t.log_excerpt.clone(),
            environment: environment.clone(),
            number: None,
            misc: misc.clone(),
        });
    }
    doc
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CaseResult;

    fn test_job(kind: JobKind, tests: &[&str]) -> Job {
        let mut spec = crate::model::sample_test_spec("maestro:681b", tests);
        spec.kernel = Some("https://k".into());
        crate::model::sample_job(1, kind, spec)
    }

    fn own(doc: &Document, known: &dyn Fn(&str) -> bool) -> Result<(), check::Invalid> {
        check::check(
            &serde_json::to_value(doc).unwrap(),
            &check::Rules::own("kbridge", known),
        )
    }

    #[test]
    fn test_ids_and_paths_follow_the_python_bridge() {
        let job = test_job(JobKind::Test, &["ltp-smoke", "ltp-fsx"]);
        let mut results = TestResults::default();
        results.verdicts.insert("boot".into(), Status::Pass);
        results.verdicts.insert("ltp-smoke".into(), Status::Fail);
        results.cases.push(CaseResult {
            test: "ltp-smoke".into(),
            set: None,
            name: "access 01/x:y".into(),
            status: Status::Fail,
            duration: Some(1.5),
            measurement: None,
        });
        let doc = document(&job, "kbridge", &JobResults::Test(results));
        let t = &doc.tests;
        assert_eq!(t.len(), 4);
        assert_eq!(t[0].path, "boot", "a test job reports its boot");
        assert_eq!(t[0].status, Status::Pass);
        assert_eq!(
            t[0].id,
            format!(
                "kbridge:{}",
                sha256_hex("2MBYa8FhoBHkRCX2BMMPusjuClf-boot-boot")
            )
        );
        assert_eq!(
            t[1].id,
            format!(
                "kbridge:{}",
                sha256_hex("2MBYa8FhoBHkRCX2BMMPusjuClf-ltp-ltp-smoke")
            )
        );
        assert_eq!(t[1].path, "ltp.smoke");
        assert_eq!(t[1].status, Status::Fail);
        assert_eq!(t[2].path, "ltp.smoke.access_01_x_y");
        assert_eq!(t[2].duration, Some(1.5));
        assert_eq!(t[3].path, "ltp.fsx");
        assert_eq!(t[3].status, Status::Miss, "no verdict is MISS");
        assert!(t.iter().all(|t| t.misc["runtime"] == "tuxsuite"));
        assert!(own(&doc, &|_| false).is_ok());
        assert!(check::check(
            &serde_json::to_value(&doc).unwrap(),
            &check::Rules::own("other", &|_| true)
        )
        .is_err());
    }

    #[test]
    fn without_a_collection_each_test_has_its_own() {
        let mut job = test_job(JobKind::Test, &["perf", "kselftest-timers"]);
        job.collection = None;
        let doc = document(&job, "kbridge", &JobResults::Test(TestResults::default()));
        let paths: Vec<&str> = doc.tests.iter().map(|t| t.path.as_str()).collect();
        assert_eq!(paths, ["boot", "perf", "kselftest.timers"]);
        assert_eq!(
            doc.tests[2].id,
            format!(
                "kbridge:{}",
                sha256_hex("2MBYa8FhoBHkRCX2BMMPusjuClf-kselftest-kselftest-timers")
            )
        );
    }

    fn build_job(uid: &str) -> Job {
        let mut job = test_job(JobKind::Build, &[]);
        job.uid = Some(uid.into());
        job
    }

    fn build_results(sha: Option<&str>) -> JobResults {
        JobResults::Build(BuildResults {
            git_repo: Some("https://git.kernel.org/linux.git".into()),
            git_ref: Some("for-next".into()),
            git_sha: sha.map(String::from),
            status: Some(Status::Fail),
            ..BuildResults::default()
        })
    }

    #[test]
    fn builds_of_one_commit_share_one_checkout() {
        let sha = "5e3f5b81de80c98338bcb47c233aebefee5a4801";
        let a = document(
            &build_job("2ZITaaaaaaaaaaaaaaaaaaaaaaa"),
            "kbridge",
            &build_results(Some(sha)),
        );
        let b = document(
            &build_job("2ZITbbbbbbbbbbbbbbbbbbbbbbb"),
            "kbridge",
            &build_results(Some(sha)),
        );
        assert_eq!(a.checkouts[0].id, b.checkouts[0].id);
        assert_eq!(
            a.checkouts[0], b.checkouts[0],
            "nothing build-specific in a shared checkout"
        );
        assert_eq!(
            a.checkouts[0].valid,
            Some(true),
            "checked out, although the compile failed"
        );
        assert_eq!(a.builds[0].status, Some(Status::Fail));
        assert_eq!(a.checkouts[0].misc["runtime"], "tuxsuite");
        let c = document(
            &build_job("2ZITccccccccccccccccccccccc"),
            "kbridge",
            &build_results(None),
        );
        let d = document(
            &build_job("2ZITddddddddddddddddddddddd"),
            "kbridge",
            &build_results(None),
        );
        assert_ne!(
            c.checkouts[0].id, d.checkouts[0].id,
            "no commit, no sharing"
        );
        assert_eq!(c.checkouts[0].valid, None, "unknown, not false");
        own(&a, &|_| true).unwrap();
        own(&c, &|_| true).unwrap();
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
            .0
            .contains("NUL"));
    }

    #[test]
    fn collections_default_to_each_test_prefix() {
        assert_eq!(collection_of(None, "ltp-smoke"), "ltp");
        assert_eq!(collection_of(None, "kselftest-net-forwarding"), "kselftest");
        assert_eq!(collection_of(None, "kunit"), "kunit");
        assert_eq!(collection_of(Some("mine"), "kunit"), "mine");
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
        assert!(check::path_ok("a.b-c_d") && !check::path_ok("a..b") && !check::path_ok("a b"));
    }

    #[test]
    fn own_builds_must_be_known() {
        let mut job = test_job(JobKind::Boot, &[]);
        job.build_id = Some("kbridge:2ZIT".into());
        let doc = document(&job, "kbridge", &JobResults::Test(TestResults::default()));
        assert!(own(&doc, &|_| false)
            .unwrap_err()
            .0
            .contains("does not know"));
        assert!(own(&doc, &|id| id == "kbridge:2ZIT").is_ok());
        assert_eq!(
            references(&doc, "kbridge"),
            (vec![], vec!["kbridge:2ZIT".to_string()])
        );
    }

    #[test]
    fn reports_follow_the_same_rules() {
        let report = Report {
            test_uid: "lab1-42".into(),
            build_id: "maestro:1".into(),
            device: Some("vf2".into()),
            runtime: "lab1".into(),
            start_time: None,
            duration: Some(3.0),
            tests: vec![
                ReportedTest {
                    name: "boot".into(),
                    collection: None,
                    status: Status::Pass,
                    log_excerpt: None,
                },
                ReportedTest {
                    name: "kselftest-timers".into(),
                    collection: None,
                    status: Status::Fail,
                    log_excerpt: Some("x".into()),
                },
            ],
        };
        let doc = report_document(&report, "kbridge");
        assert_eq!(doc.tests[0].path, "boot");
        assert_eq!(doc.tests[1].path, "kselftest.timers");
        assert_eq!(
            doc.tests[1].id,
            format!(
                "kbridge:{}",
                sha256_hex("lab1-42-kselftest-kselftest-timers")
            )
        );
        assert_eq!(doc.tests[1].misc["runtime"], "lab1");
        own(&doc, &|_| true).unwrap();
    }
}
