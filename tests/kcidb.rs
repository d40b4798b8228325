//! Delivering documents to KCIDB: `kbridge submit`, `kbridge outbox`,
//! `kbridge report`, and `POST /results`, against the KCIDB stand-in.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::util::{wait_until, Env, FakeKcidb, KcidbReply, KCIDB_TOKEN};

/// An environment that submits to `k`.
fn env_for(k: &FakeKcidb) -> Env {
    let mut env = Env::bare();
    env.set("KCIDB_REST", &k.rest());
    env
}

/// A results file for `uid` with `tests` tests, each with a log of
/// `log_bytes`.
fn results_file(env: &Env, uid: &str, tests: usize, log_bytes: usize) -> PathBuf {
    let tests: Vec<Value> = (0..tests)
        .map(|i| {
            json!({"test_name": format!("kselftest-case{i}"), "result": if i % 3 == 0 { "fail" } else { "pass" },
                   "logs": "x".repeat(log_bytes)})
        })
        .collect();
    let body = json!({"test_uid": uid, "build_id": "maestro:681b69099ae9711e9ed49766", "device": "visionfive2",
                      "runtime": "lab1", "start_time": "2026-11-28T08:40:14Z", "duration": 12.5, "tests": tests});
    let path = env.path(&format!("{uid}.json"));
    std::fs::write(&path, body.to_string()).unwrap();
    path
}

/// Queues a report with `kbridge report`.
fn queue(env: &Env, uid: &str, tests: usize) {
    let file = results_file(env, uid, tests, 10);
    let run = env.run(&["report", file.to_str().unwrap()]).expect(0);
    assert!(run.stdout.contains("queued as outbox"), "{}", run.stdout);
}

fn outbox(env: &Env) -> Vec<Value> {
    env.run(&["outbox", "--json"]).expect(0).json()["documents"]
        .as_array()
        .unwrap()
        .clone()
}

fn states(env: &Env) -> Vec<String> {
    outbox(env)
        .iter()
        .map(|d| d["state"].as_str().unwrap().to_string())
        .collect()
}

#[test]
pub(crate) fn submit_sends_each_pending_document_once_and_records_the_submission() {
    let k = FakeKcidb::start();
    let env = env_for(&k);
    for uid in ["run-1", "run-2", "run-3"] {
        queue(&env, uid, 2);
    }
    let run = env.run(&["submit"]).expect(0);
    assert!(
        run.stdout.contains(
            "submitted 3 document(s) to KCIDB in 1 request(s); 0 failed; 0 still pending"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(k.requests(), 1, "merged into one request");
    let objects = k.objects();
    assert_eq!(objects.len(), 6);
    assert!(objects.values().all(|&n| n == 1), "{objects:?}");
    let (auth, _) = k.seen();
    assert_eq!(
        auth[0].as_deref(),
        Some(format!("Bearer {KCIDB_TOKEN}").as_str())
    );
    let docs = outbox(&env);
    assert!(docs.iter().all(|d| d["state"] == "submitted"), "{docs:?}");
    let id = k.accepted()[0].0.clone();
    assert!(docs.iter().all(|d| d["submission"] == id.as_str()));

    // Nothing is left, so nothing is sent again.
    let run = env.run(&["submit", "--json"]).expect(0);
    assert_eq!(run.json()["submitted"], 0);
    assert_eq!(k.requests(), 1);
    let table = env.run(&["outbox"]).expect(0).stdout;
    assert!(table.contains("backlog: 0 pending"), "{table}");
}

#[test]
fn a_refused_token_stops_the_run_names_its_source_and_is_never_printed() {
    let k = FakeKcidb::start();
    let mut env = Env::bare();
    let wrong = "wrong-secret-token-value";
    env.set("KCIDB_REST", &k.rest().replace(KCIDB_TOKEN, wrong));
    queue(&env, "run-1", 1);
    queue(&env, "run-2", 1);
    let run = env.run(&["submit"]).expect(1);
    let line = run.error_line();
    assert!(line.contains("KCIDB refused the token (401)"), "{line}");
    assert!(
        line.contains("check the token from env KCIDB_REST"),
        "{line}"
    );
    assert_eq!(k.requests(), 1, "the run stopped at the first refusal");
    assert_eq!(
        states(&env),
        ["pending", "pending"],
        "nothing marked submitted"
    );
    let mut printed = vec![run.stdout, run.stderr];
    for args in [
        vec!["outbox"],
        vec!["outbox", "--json"],
        vec!["config"],
        vec!["config", "--json"],
        vec!["submit", "--dry-run"],
        vec!["submit", "--dry-run", "--json"],
    ] {
        let r = env.run(&args);
        printed.push(r.stdout);
        printed.push(r.stderr);
    }
    for text in printed {
        assert!(!text.contains(wrong), "the token leaked: {text}");
    }
    let cfg = env.run(&["config", "--json"]).expect(0).json();
    assert_eq!(cfg["kcidb.rest"]["value"], "(set)");
    assert_eq!(cfg["kcidb.rest"]["source"], "env KCIDB_REST");
    assert_eq!(
        cfg["kcidb.endpoint"]["value"],
        format!("{}/submit", k.url())
    );
    assert_eq!(cfg["kcidb.token_in_use"]["source"], "env KCIDB_REST");
}

#[test]
fn server_errors_are_retried_and_the_document_is_submitted_once() {
    let k = FakeKcidb::start();
    let env = env_for(&k);
    queue(&env, "run-1", 3);
    let busy = KcidbReply::Status(500, json!({"status": "error", "message": "busy"}));
    k.script([busy.clone(), busy.clone(), busy]);
    let run = env.run(&["submit"]).expect(0);
    assert!(
        run.stdout.contains("submitted 1 document(s)"),
        "{}",
        run.stdout
    );
    assert_eq!(k.requests(), 4);
    assert_eq!(k.accepted().len(), 1, "submitted exactly once");
    assert!(k.objects().values().all(|&n| n == 1));
    let doc = &outbox(&env)[0];
    assert_eq!(doc["state"], "submitted");
    assert_eq!(doc["attempts"], 4);
}

#[test]
fn a_server_that_appears_later_gets_the_document_on_the_next_attempt() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut env = Env::bare();
    env.set(
        "KCIDB_REST",
        &format!("http://{KCIDB_TOKEN}@127.0.0.1:{port}"),
    );
    queue(&env, "run-1", 1);
    let run = env.run(&["submit"]).expect(1);
    assert!(run.stdout.contains("1 still pending"), "{}", run.stdout);
    assert!(run.error_line().contains("still pending"), "{}", run.stderr);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    let doc = &outbox(&env)[0];
    assert_eq!(doc["state"], "pending");
    assert!(doc["reason"]
        .as_str()
        .unwrap()
        .contains("connection refused"));

    let k = FakeKcidb::on(&format!("127.0.0.1:{port}"));
    env.run(&["submit"]).expect(0);
    assert_eq!(k.accepted().len(), 1);
    assert_eq!(states(&env), ["submitted"]);
}

#[test]
fn a_document_too_large_is_split_and_every_object_arrives_once() {
    let k = FakeKcidb::start();
    let env = env_for(&k);
    let file = results_file(&env, "big-run", 30, 600);
    env.run(&["report", file.to_str().unwrap()]).expect(0);
    queue(&env, "small-run", 1);
    k.max_body(6000);
    let run = env.run(&["submit"]).expect(0);
    assert!(
        run.stdout.contains("submitted 2 document(s)"),
        "{}",
        run.stdout
    );
    let objects = k.objects();
    assert_eq!(objects.len(), 31);
    assert!(objects.values().all(|&n| n == 1), "{objects:?}");
    assert!(k.accepted().len() > 2, "split into several requests");
    assert_eq!(states(&env), ["submitted", "submitted"]);
}

#[test]
fn a_document_failing_the_local_check_is_failed_and_never_sent() {
    let k = FakeKcidb::start();
    let env = env_for(&k);
    queue(&env, "run-1", 1);
    // A document that a store written elsewhere holds, and that breaks a
    // rule: an illegal test path.
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let bad = json!({"version": {"major": 5, "minor": 3},
        "tests": [{"id": "kbridge:t", "origin": "kbridge", "build_id": "maestro:1", "path": "a..b"}]});
    conn.execute(
        "INSERT INTO outbox (key, label, document, state, created_ms, created_at, updated_at)
         VALUES ('file:bad', 'a bad document', ?1, 'pending', 0, 1767225600000, 1767225600000)",
        [bad.to_string()],
    )
    .unwrap();
    drop(conn);
    let run = env.run(&["submit"]).expect(1);
    assert!(run.stdout.contains("1 failed"), "{}", run.stdout);
    let docs = outbox(&env);
    let failed = docs
        .iter()
        .find(|d| d["label"] == "a bad document")
        .unwrap();
    assert_eq!(failed["state"], "failed");
    assert!(
        failed["reason"].as_str().unwrap().contains("illegal path"),
        "{failed}"
    );
    let (_, bodies) = k.seen();
    assert!(bodies.iter().all(|b| !b.contains("a..b")), "never sent");

    // One given with --file is checked before it is queued.
    let file = env.path("bad.json");
    std::fs::write(&file, bad.to_string()).unwrap();
    let run = env
        .run(&["submit", "--file", file.to_str().unwrap()])
        .expect(1);
    assert!(
        run.error_line()
            .contains("is not sent: test kbridge:t has an illegal path"),
        "{}",
        run.stderr
    );
    assert_eq!(outbox(&env).len(), 2, "not queued");
    // A good one is queued and sent.
    let good = json!({"version": {"major": 5, "minor": 3},
        "tests": [{"id": "other_lab:t", "origin": "other_lab", "build_id": "maestro:1", "path": "a.b", "status": "PASS"}]});
    std::fs::write(&file, good.to_string()).unwrap();
    env.run(&["submit", "--file", file.to_str().unwrap()])
        .expect(0);
    assert!(k.objects().contains_key("tests/other_lab:t"));
}

#[test]
pub(crate) fn kill_9_during_a_submission_run_loses_nothing_and_resends_nothing_accepted() {
    let k = FakeKcidb::start();
    let mut env = env_for(&k);
    env.set("KBRIDGE_HTTP_TIMEOUT", "10");
    let file = env.path("k.toml");
    std::fs::write(&file, "[kcidb]\nmax_request = 65536\n").unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    for i in 0..6 {
        let f = results_file(&env, &format!("run-{i}"), 4, 8000);
        env.run(&["report", f.to_str().unwrap()]).expect(0);
    }
    // The third request hangs and is never answered: the process is killed
    // while it waits.
    k.script([
        KcidbReply::Normal,
        KcidbReply::Normal,
        KcidbReply::HangThenDrop(Duration::from_secs(30)),
    ]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kbridge"))
        .arg("submit")
        .env_clear()
        .envs(&env.vars)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(20), "a third request in flight", || {
        k.requests() >= 3
    });
    assert_eq!(k.accepted().len(), 2);
    child.kill().unwrap();
    child.wait().unwrap();
    let before = k.accepted().len();
    let pending_before = states(&env).iter().filter(|s| *s == "pending").count();
    assert!(pending_before > 0, "the kill left something to send");

    env.run(&["submit"]).expect(0);
    assert!(k.accepted().len() > before);
    let objects = k.objects();
    assert_eq!(objects.len(), 24, "nothing lost");
    assert!(
        objects.values().all(|&n| n == 1),
        "nothing accepted was sent again: {objects:?}"
    );
    assert!(states(&env).iter().all(|s| s == "submitted"));
}

#[test]
pub(crate) fn two_submits_at_once_send_each_document_once() {
    let k = FakeKcidb::start();
    let mut env = env_for(&k);
    let file = env.path("k.toml");
    std::fs::write(&file, "[kcidb]\nmax_request = 65536\n").unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    for i in 0..12 {
        let f = results_file(&env, &format!("run-{i}"), 2, 12000);
        env.run(&["report", f.to_str().unwrap()]).expect(0);
    }
    k.delay(Duration::from_millis(100));
    let runs: Vec<_> = std::thread::scope(|s| {
        let a = s.spawn(|| env.run(&["submit"]));
        let b = s.spawn(|| env.run(&["submit"]));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    for r in &runs {
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    }
    let objects = k.objects();
    assert_eq!(objects.len(), 24);
    assert!(objects.values().all(|&n| n == 1), "{objects:?}");
    assert!(states(&env).iter().all(|s| s == "submitted"));
}

#[test]
fn outbox_check_records_what_kcidb_ingested() {
    let k = FakeKcidb::start();
    let mut env = env_for(&k);
    let file = env.path("k.toml");
    std::fs::write(&file, "[kcidb]\nmax_request = 65536\n").unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    for i in 0..2 {
        let f = results_file(&env, &format!("run-{i}"), 2, 20000);
        env.run(&["report", f.to_str().unwrap()]).expect(0);
    }
    env.run(&["submit"]).expect(0);
    let ids: Vec<String> = k.accepted().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), 2);
    let run = env.run(&["outbox", "check", "--json"]).expect(0);
    assert!(run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["ingest"] == "ready"));
    k.set_status(&ids[0], "processed", "ingested");
    k.set_status(&ids[1], "failed", "tests[0].path: does not match pattern");
    let run = env.run(&["outbox", "check"]).expect(1);
    assert!(run.stdout.contains("processed"), "{}", run.stdout);
    assert!(
        run.stdout.contains("does not match pattern"),
        "{}",
        run.stdout
    );
    assert!(
        run.error_line()
            .contains("KCIDB failed to ingest 1 submission(s)"),
        "{}",
        run.stderr
    );
    let docs = outbox(&env);
    let ingests: Vec<&str> = docs.iter().map(|d| d["ingest"].as_str().unwrap()).collect();
    assert_eq!(ingests, ["processed", "failed"]);
    // Final answers are not asked again.
    let before = k.seen().0.len();
    env.run(&["outbox", "check"]).expect(1);
    assert_eq!(k.seen().0.len(), before);
}

#[test]
pub(crate) fn failed_documents_can_be_put_back_in_the_queue() {
    let k = FakeKcidb::start();
    let env = env_for(&k);
    queue(&env, "run-1", 1);
    k.script([KcidbReply::Status(
        400,
        json!({"status": "error", "message": "malformed: no"}),
    )]);
    env.run(&["submit"]).expect(1);
    let doc = &outbox(&env)[0];
    assert_eq!(doc["state"], "failed");
    assert!(
        doc["reason"].as_str().unwrap().contains("malformed: no"),
        "{doc}"
    );
    let run = env.run(&["outbox", "retry", "--all-failed"]).expect(0);
    assert!(run.stdout.contains("1 document(s) back in the queue"));
    env.run(&["submit"]).expect(0);
    assert_eq!(states(&env), ["submitted"]);
    let run = env.run(&["outbox", "retry", "42"]).expect(2);
    assert!(
        run.error_line().contains("no outbox document 42"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_report_with_a_bad_field_says_which_and_queues_nothing() {
    let env = Env::bare();
    let file = env.path("r.json");
    std::fs::write(
        &file,
        json!({"test_uid": "x", "build_id": "maestro:1", "device": "d", "runtime": "lab",
               "tests": [{"test_name": "boot", "result": "passed"}]})
        .to_string(),
    )
    .unwrap();
    let run = env.run(&["report", file.to_str().unwrap()]).expect(1);
    assert!(
        run.error_line().contains("tests[0].result: 'passed' is not a KCIDB status; use PASS, FAIL, ERROR, MISS, DONE or SKIP (any case)"),
        "{}",
        run.stderr
    );
    assert!(!env.db().exists(), "nothing was queued");
    // Standard input works too.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kbridge"))
        .args(["report", "-"])
        .env_clear()
        .envs(&env.vars)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            json!({"test_uid": "x", "build_id": "maestro:1", "device": "d", "runtime": "lab",
                   "tests": [{"test_name": "boot", "result": "PASS"}]})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(outbox(&env).len(), 1);
}

#[test]
fn submit_without_a_kcidb_url_is_a_configuration_error() {
    let env = Env::bare();
    let run = env.run(&["submit"]).expect(2);
    assert!(
        run.error_line()
            .contains("no KCIDB URL is configured: set KCIDB_REST (KCIDB's URL with the token as its user part)"),
        "{}",
        run.stderr
    );
    let mut env = Env::bare();
    env.set("KBRIDGE_KCIDB_URL", "https://db.example.org");
    let run = env.run(&["submit"]).expect(2);
    assert!(run.error_line().contains("but no token"), "{}", run.stderr);
    let mut env = Env::bare();
    env.set("KCIDB_REST", "db.example.org");
    let run = env.run(&["submit"]).expect(2);
    assert!(
        run.error_line()
            .contains("with the token as its user part, before the host"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_url_and_token_follow_the_usual_precedence() {
    let k = FakeKcidb::start();
    let other = FakeKcidb::start();
    let mut env = Env::bare();
    // KCIDB_REST points elsewhere; the flag wins for the URL, and the
    // token file given by flag wins for the token.
    env.set("KCIDB_REST", &other.rest());
    let token = env.path("kcidb.token");
    std::fs::write(&token, format!("{KCIDB_TOKEN}\n")).unwrap();
    queue(&env, "run-1", 1);
    env.run(&[
        "submit",
        "--kcidb-url",
        &k.url(),
        "--kcidb-token-file",
        token.to_str().unwrap(),
    ])
    .expect(0);
    assert_eq!(k.accepted().len(), 1);
    assert_eq!(other.requests(), 0);
}
