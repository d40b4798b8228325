//! `kbridge listen` attacked as an internet-facing webhook receiver would
//! be, on 127.0.0.1 and with bounded loads: what it stores, holds in
//! memory and answers when clients misbehave, and how it runs as a
//! service.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::listen::World;
use crate::util::{test_callback, wait_until, Keys, RESULTS_JSON};

/// The database and its WAL, in bytes.
fn store_bytes(w: &World) -> u64 {
    let db = w.env.db();
    let wal = db.with_extension("db-wal");
    [db, wal]
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

/// Sends raw bytes and returns what came back (until the server closes or
/// a second passes without data).
fn raw(addr: &str, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn metric(l: &crate::util::Listener, line_start: &str) -> u64 {
    let m = l.get("/metrics");
    m.body
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn refused_requests_are_counted_and_keep_nothing() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let body = w.test_body(&job.uid);
    let before = store_bytes(&w);
    let agent_name = "x".repeat(4000);
    for _ in 0..300 {
        let a = l.post(
            &job.path,
            body.as_bytes(),
            &[
                ("x-tux-payload-signature", &w.keys.sign(b"something else")),
                ("X-Kbridge-Token", &job.token),
                ("User-Agent", &agent_name),
            ],
        );
        assert_eq!(a.status, 401, "{}", a.body);
    }
    // No signature at all: refused before the body is read.
    let big = vec![b'{'; 512 * 1024];
    for _ in 0..20 {
        assert_eq!(l.post(&job.path, &big, &[]).status, 401);
    }
    // Headers beyond a few KB: 431, from the HTTP layer.
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nUser-Agent: {}\r\nContent-Length: 2\r\n\r\n{{}}",
        job.path,
        "y".repeat(16 * 1024)
    );
    let answer = raw(&l.addr(), head.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");

    assert_eq!(w.inbox(), Vec::<Value>::new(), "nothing stored");
    let grown = store_bytes(&w).saturating_sub(before);
    assert!(grown < 256 * 1024, "the store grew by {grown} bytes");
    assert_eq!(
        metric(
            &l,
            r#"kbridge_callbacks_total{outcome="rejected",reason="signature"}"#
        ),
        320
    );
    // The log says so at a bounded rate, with no header echoed.
    let log = l.stderr();
    let refused = log
        .lines()
        .filter(|l| l.contains("refused callback"))
        .count();
    assert!(refused <= 20, "{refused} lines:\n{log}");
    assert!(!log.contains(&agent_name[..100]));
    // The genuine callback still goes through.
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
}

#[test]
fn a_captured_callback_cannot_be_replayed_or_rewrapped_into_the_store() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let stranger = "2MBY0000000000000000stranger";
    let stranger = &stranger[..27];
    let download = w.art.test_job(stranger, RESULTS_JSON, "log\n");
    let unknown = test_callback(stranger, &download, json!({"boot": "pass"}));
    let sig = w.keys.sign(unknown.as_bytes());
    let post = |body: &[u8], sig: &str, token: &str| {
        let mut headers = vec![("x-tux-payload-signature", sig)];
        if !token.is_empty() {
            headers.push(("X-Kbridge-Token", token));
        }
        l.post(&job.path, body, &headers)
    };
    // A signed callback for a job kbridge does not know is kept once.
    let a = post(unknown.as_bytes(), &sig, "");
    assert_eq!(a.status, 202, "{}", a.body);
    for _ in 0..50 {
        let a = post(unknown.as_bytes(), &sig, "");
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.json()["result"], "duplicate");
    }
    // The double-encoded form verifies only spelt as TuxSuite spells it:
    // the same string padded with escapes does not.
    let inner_sig = w.keys.sign(unknown.as_bytes());
    let canonical = serde_json::to_string(&unknown).unwrap();
    let rewrapped = canonical.replace("kind", "\\u006b\\u0069\\u006e\\u0064");
    assert_eq!(post(canonical.as_bytes(), &inner_sig, "").status, 200);
    let a = post(rewrapped.as_bytes(), &inner_sig, "");
    assert_eq!(a.status, 401, "{}", a.body);
    let spaced = format!("{canonical}{}", " ".repeat(4096));
    assert_eq!(post(spaced.as_bytes(), &inner_sig, "").status, 401);

    // A real job's callback, then replays of it and a wrong token.
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
    let before = store_bytes(&w);
    let sig = w.keys.sign(body.as_bytes());
    for _ in 0..200 {
        assert_eq!(post(body.as_bytes(), &sig, &job.token).status, 200);
    }
    assert_eq!(post(body.as_bytes(), &sig, &"0".repeat(64)).status, 401);
    let grown = store_bytes(&w).saturating_sub(before);
    assert!(
        grown < 128 * 1024,
        "replays grew the store by {grown} bytes"
    );
    let statuses: Vec<String> = w
        .inbox()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["processed", "unmatched"], "newest first");
    assert_eq!(
        metric(
            &l,
            r#"kbridge_callbacks_total{outcome="duplicate",reason=""}"#
        ),
        251
    );
}

#[test]
fn unmatched_callbacks_expire_after_their_time() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let stranger = "2MBY00000000000000000expire";
    let download = w.art.test_job(stranger, RESULTS_JSON, "log\n");
    let body = test_callback(stranger, &download, json!({"boot": "pass"}));
    let a = l.post(
        &job.path,
        body.as_bytes(),
        &[("x-tux-payload-signature", &w.keys.sign(body.as_bytes()))],
    );
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(l.terminate(), 0);
    // Received eight days ago, past the default seven.
    let conn = rusqlite::Connection::open(w.env.db()).unwrap();
    conn.execute(
        "UPDATE inbox SET received_at = 1577836800000 WHERE status = 'unmatched'",
        [],
    )
    .unwrap();
    let l = w.listen(&[]);
    wait_until(Duration::from_secs(10), "the old row to go", || {
        w.inbox().is_empty()
    });
    assert!(
        l.stderr().contains("removed 1 unmatched callback(s)"),
        "{}",
        l.stderr()
    );
}

#[test]
fn one_client_cannot_take_every_connection_and_healthz_stays_up() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[
        "--max-connections-per-client",
        "20",
        "--ops-bind",
        "127.0.0.1:0",
    ]);
    let ops = l.ops_url().expect("the operations address is printed");
    // 60 connections trickling a body that never ends.
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nx-tux-payload-signature: {}\r\nContent-Length: 1000000\r\n\r\n{{",
        job.path,
        w.keys.sign(b"x")
    );
    let mut open = Vec::new();
    for _ in 0..60 {
        let mut s = TcpStream::connect(l.addr()).unwrap();
        let _ = s.write_all(head.as_bytes());
        open.push(s);
    }
    // The ones beyond the limit are closed at once; the others wait for
    // their body.
    std::thread::sleep(Duration::from_millis(300));
    let mut closed = 0;
    for s in &mut open {
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut buf = [0u8; 16];
        match s.read(&mut buf) {
            Ok(0) => closed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            _ => {}
        }
    }
    assert!(closed >= 40, "{closed} of 60 closed");
    // The operations address answers at once.
    let started = Instant::now();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into();
    let health = agent.get(format!("{ops}/healthz")).call().unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    // It serves nothing but operations.
    let other = agent
        .post(format!("{ops}{}", job.path))
        .send(b"{}".as_slice())
        .unwrap();
    assert_eq!(other.status().as_u16(), 404);
    let refused = agent
        .get(format!("{ops}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        refused
            .lines()
            .any(|l| l.starts_with("kbridge_connections_refused_total") && !l.ends_with(" 0")),
        "{refused}"
    );
    drop(open);
}

#[test]
fn a_request_refused_before_its_body_is_read_still_gets_its_answer() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&["--max-body", "1MiB"]);
    // Two MiB sent in one go, without Expect: 100-continue, as Python's
    // urllib does: the client must read 413, not a broken pipe.
    let body = vec![b'x'; 2 * 1024 * 1024];
    for _ in 0..5 {
        let mut s = TcpStream::connect(l.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: x\r\nx-tux-payload-signature: {}\r\nContent-Length: {}\r\n\r\n",
            job.path,
            w.keys.sign(b"x"),
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body).expect("the whole body is taken in");
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    }
}

#[test]
fn readyz_and_metrics_tell_an_operator_what_is_wrong() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let ready = l.get("/readyz");
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(l.get("/healthz").status, 200);
    let metrics = l.get("/metrics");
    assert!(
        metrics
            .body
            .contains(r#"kbridge_jobs{state="submitted"} 1"#),
        "{}",
        metrics.body
    );
    // A job whose callback is long overdue makes the listener not ready.
    let conn = rusqlite::Connection::open(w.env.db()).unwrap();
    conn.execute(
        "UPDATE jobs SET scheduled_at = 1577836800000 WHERE id = ?1",
        [job.id],
    )
    .unwrap();
    let ready = l.get("/readyz");
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(
        ready.json()["reasons"][0]
            .as_str()
            .unwrap()
            .contains("overdue"),
        "{}",
        ready.body
    );
}

#[test]
fn a_store_that_cannot_be_written_is_refused_at_start() {
    let w = World::new();
    w.schedule_test();
    let out = w.env.path("kcidb");
    std::fs::create_dir_all(&out).unwrap();
    let key = w.env.path("tuxsuite.pub");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kbridge"));
    cmd.args([
        "listen",
        "--bind",
        "127.0.0.1:0",
        "--output-dir",
        out.to_str().unwrap(),
        "--tuxsuite-public-key",
        key.to_str().unwrap(),
    ])
    .env_clear()
    .envs(&w.env.vars)
    .stdin(std::process::Stdio::null());
    // Everything readable, nothing writable by the listener: as root the
    // permissions do not bind, so it runs as another user.
    make_readable(w.env.path("").as_path());
    let db = w.env.db();
    for f in [
        db.clone(),
        db.with_extension("db-wal"),
        db.with_extension("db-shm"),
    ] {
        if f.exists() {
            set_mode(&f, 0o644);
        }
    }
    set_mode(db.parent().unwrap(), 0o555);
    if is_root() {
        use std::os::unix::process::CommandExt;
        cmd.uid(65534).gid(65534);
    }
    let run = cmd.output().unwrap();
    set_mode(db.parent().unwrap(), 0o755);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&run.stdout).contains("listening on"),
        "it never listened"
    );
    assert!(
        stderr.contains("read-only") || stderr.contains("permission denied"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Opens a tree to other users: directories 0755, files 0644.
fn make_readable(root: &std::path::Path) {
    let mut dir = Some(root);
    // The directories above the temporary one must be passable too.
    while let Some(d) = dir {
        if d == std::path::Path::new("/") {
            break;
        }
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(d) {
            let mode = m.permissions().mode() | 0o005;
            let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode));
        }
        dir = d.parent();
    }
    fn walk(p: &std::path::Path) {
        if p.is_dir() {
            set_mode(p, 0o755);
            for e in std::fs::read_dir(p).unwrap().flatten() {
                walk(&e.path());
            }
        } else {
            set_mode(p, 0o644);
        }
    }
    walk(root);
}

#[test]
fn sighup_reloads_the_keys_without_dropping_connections() {
    let w = World::new();
    let job = w.schedule_test();
    let config = w.env.path("kbridge.toml");
    let write_keys = |lines: &[&str]| {
        let list: Vec<String> = lines.iter().map(|l| format!("{l:?}")).collect();
        std::fs::write(
            &config,
            format!(
                "[tuxsuite]\npublic_keys = [{}]\nartifact_hosts = [\"{}\"]\n",
                list.join(", "),
                w.art.url()
            ),
        )
        .unwrap();
    };
    write_keys(&[&w.keys.line]);
    let l = w.env.listen(&["--config", config.to_str().unwrap()]);
    let rotated = Keys::new();
    let body = w.test_body(&job.uid);
    let signed_by_new = |l: &crate::util::Listener| {
        l.post(
            &job.path,
            body.as_bytes(),
            &[
                ("x-tux-payload-signature", &rotated.sign(body.as_bytes())),
                ("X-Kbridge-Token", &job.token),
            ],
        )
    };
    assert_eq!(signed_by_new(&l).status, 401);
    // A keep-alive connection open across the reload.
    let mut kept = TcpStream::connect(l.addr()).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    write_keys(&[&w.keys.line, &rotated.line]);
    std::process::Command::new("kill")
        .args(["-HUP", &l.pid().to_string()])
        .status()
        .unwrap();
    wait_until(Duration::from_secs(5), "the reload", || {
        l.stderr().contains("reloaded the configuration")
    });
    assert_eq!(signed_by_new(&l).status, 202);
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 1024];
    let n = kept.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // A configuration that does not load changes nothing.
    std::fs::write(&config, "[tuxsuite\n").unwrap();
    std::process::Command::new("kill")
        .args(["-HUP", &l.pid().to_string()])
        .status()
        .unwrap();
    wait_until(Duration::from_secs(5), "the failed reload", || {
        l.stderr()
            .contains("reloading the configuration (SIGHUP) failed")
    });
    assert_eq!(l.get("/healthz").status, 200);
}

#[test]
fn json_log_lines_carry_the_request_and_never_a_secret() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&["--log-format", "json"]);
    let body = w.test_body(&job.uid);
    let a = l.post(
        &job.path,
        body.as_bytes(),
        &[
            ("x-tux-payload-signature", &w.keys.sign(b"other")),
            ("X-Kbridge-Token", &job.token),
        ],
    );
    assert_eq!(a.status, 401);
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
    let log = l.stderr();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let refused = lines
        .iter()
        .find(|l| l["message"].as_str().unwrap().contains("refused callback"))
        .expect("the refusal is logged");
    assert_eq!(refused["runner"], "tuxsuite");
    assert!(refused["request_id"].as_u64().is_some());
    assert!(!log.contains(&job.token), "no token in the log");
    assert!(
        !log.contains(crate::util::TOKEN),
        "no TuxSuite token in the log"
    );
}

#[test]
fn systemd_hears_ready_and_the_watchdog() {
    use std::os::unix::net::UnixDatagram;
    let w = World::new();
    let socket_path = w.env.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut env = crate::util::Env::new(&w.tux);
    env.vars = w.env.vars.clone();
    env.set("NOTIFY_SOCKET", socket_path.to_str().unwrap())
        .set("WATCHDOG_USEC", "400000");
    let key = w.env.path("tuxsuite.pub");
    let l = env.listen(&["--tuxsuite-public-key", key.to_str().unwrap()]);
    let mut heard = Vec::new();
    let mut buf = [0u8; 256];
    while heard.len() < 3 {
        let n = socket.recv(&mut buf).expect("a notification");
        heard.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(heard[0].contains("READY=1"), "{heard:?}");
    assert!(
        heard[1..].iter().all(|m| m.contains("WATCHDOG=1")),
        "{heard:?}"
    );
    assert_eq!(l.terminate(), 0);
}

#[test]
fn a_huge_results_json_and_an_endless_log_are_capped_and_the_verdicts_stay() {
    let mut w = World::new();
    w.env
        .set("KBRIDGE_MAX_CASES", "1000")
        .set("KBRIDGE_ARTIFACT_MAX_BYTES", "1MiB")
        .set("KBRIDGE_ARTIFACT_TIMEOUT", "5");
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let cases: serde_json::Map<String, Value> = (0..5000)
        .map(|i| {
            (
                format!("case{i:05}"),
                json!({"result": "pass", "duration": "0.1"}),
            )
        })
        .collect();
    let results = json!({"ltp-smoke": cases}).to_string();
    let download = w.art.test_job(&job.uid, &results, "");
    w.art.endless(&format!("/tests/{}/logs.txt", job.uid));
    let body = test_callback(
        &job.uid,
        &download,
        json!({"boot": "pass", "ltp-smoke": "fail", "ltp-fsx": "pass"}),
    );
    let started = Instant::now();
    w.deliver(&l, &job, &body);
    let done = w.wait_state(job.id, "completed");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        done["detail"]
            .as_str()
            .unwrap()
            .contains("5000 test cases are more than max_cases (1000)"),
        "{done}"
    );
    let doc = w.env.run(&["results", &job.uid, "--json"]).expect(1).json();
    let paths: Vec<&str> = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["boot", "ltp.smoke", "ltp.fsx"], "the verdicts stay");
    assert_eq!(doc["tests"][1]["status"], "FAIL");
}

#[test]
fn permanent_artefact_errors_are_not_retried_and_keep_the_verdicts() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let body = test_callback(
        &job.uid,
        "ftp://storage.tuxsuite.com/tests/x/",
        json!({"boot": "pass", "ltp-smoke": "fail"}),
    );
    let started = Instant::now();
    w.deliver(&l, &job, &body);
    let done = w.wait_state(job.id, "errored");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        done["detail"]
            .as_str()
            .unwrap()
            .contains("is not http or https"),
        "{done}"
    );
    let doc = w.env.run(&["results", &job.uid, "--json"]).json();
    // boot, ltp-smoke, and the ltp-fsx that was asked for (MISS).
    assert_eq!(doc["tests"].as_array().unwrap().len(), 3, "{doc}");
    // A 403 is permanent too.
    let job = w.schedule(&[
        "schedule",
        "test",
        "--kernel",
        "https://storage.example/Image2",
        "--tests",
        "ltp-smoke",
        "--build-id",
        "maestro:2",
    ]);
    let download = format!("{}/forbidden/{}/", w.art.url(), job.uid);
    let body = test_callback(&job.uid, &download, json!({"boot": "pass"}));
    w.deliver(&l, &job, &body);
    let done = w.wait_state(job.id, "errored");
    assert!(
        done["detail"].as_str().unwrap().contains("HTTP 404")
            || done["detail"].as_str().unwrap().contains("not among"),
        "{done}"
    );
}

#[test]
fn a_token_echoed_by_tuxsuite_is_redacted_everywhere() {
    let w = World::new();
    w.tux.script([crate::util::Reply::Status(
        400,
        json!({"error": format!("token {} is not allowed here", crate::util::TOKEN)}),
        vec![],
    )]);
    let run = w.env.run(&[
        "schedule",
        "boot",
        "--kernel",
        "https://storage.example/Image",
        "--build-id",
        "maestro:1",
        "--force",
    ]);
    assert_ne!(run.code, 0);
    assert!(!run.stderr.contains(crate::util::TOKEN), "{}", run.stderr);
    assert!(run.stderr.contains("[redacted]"), "{}", run.stderr);
    let jobs = w.env.run(&["jobs", "--json"]).expect(0).stdout;
    assert!(!jobs.contains(crate::util::TOKEN), "{jobs}");
    // A token that cannot be a header is a configuration error, and no
    // job is recorded.
    let before = w.env.job_rows();
    let mut env = crate::util::Env::new(&w.tux);
    env.vars = w.env.vars.clone();
    env.set("TUXSUITE_TOKEN", "abc\r\nX-Evil: 1");
    let run = env.run(&[
        "schedule",
        "boot",
        "--kernel",
        "https://storage.example/Image3",
        "--build-id",
        "maestro:1",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.error_line().contains("control character"),
        "{}",
        run.stderr
    );
    assert_eq!(w.env.job_rows(), before);
}

#[test]
fn temporary_files_left_by_a_crash_are_removed_at_start() {
    let w = World::new();
    w.schedule_test();
    let out = w.env.path("kcidb");
    std::fs::create_dir_all(&out).unwrap();
    // Above any pid_max Linux allows, so no live process has it.
    let stale = out.join(".tuxsuite-2MBY.json.4294000000.tmp");
    std::fs::write(&stale, "half a document").unwrap();
    let kept = out.join("tuxsuite-2MBY.json");
    // A finished document (CI validates every one the tests leave).
    std::fs::write(&kept, r#"{"version": {"major": 5, "minor": 3}}"#).unwrap();
    let l = w.listen(&[]);
    assert!(!stale.exists(), "the temporary file is gone");
    assert!(kept.exists(), "documents stay");
    drop(l);
}

#[test]
fn settings_out_of_range_are_refused_with_the_range() {
    let mut w = World::new();
    // The tests' own short delay would take precedence over the file.
    w.env.unset("KBRIDGE_RETRY_DELAY");
    let config = w.env.path("kbridge.toml");
    for (line, range) in [
        ("header_timeout = 1e9", "0.1 to 600"),
        ("retry_delay = 0", "0.01 to 3600"),
        ("max_connections_per_client = 100000", "0 to 65536"),
    ] {
        std::fs::write(&config, format!("{line}\n")).unwrap();
        let run = w.env.run(&[
            "--config",
            config.to_str().unwrap(),
            "listen",
            "--bind",
            "127.0.0.1:0",
        ]);
        assert_eq!(run.code, 2, "{line}: {}", run.stderr);
        assert!(run.error_line().contains(range), "{line}: {}", run.stderr);
    }
}

#[test]
fn systemd_credentials_give_the_key_and_the_tokens() {
    let w = World::new();
    let job = w.schedule_test();
    let creds = w.env.path("credentials");
    std::fs::create_dir_all(&creds).unwrap();
    w.keys.write(&creds.join("tuxsuite.pub"));
    std::fs::write(creds.join("kcidb-token"), crate::util::KCIDB_TOKEN).unwrap();
    let kcidb = crate::util::FakeKcidb::start();
    let mut env = crate::util::Env::new(&w.tux);
    env.vars = w.env.vars.clone();
    env.set("CREDENTIALS_DIRECTORY", creds.to_str().unwrap())
        .set("KBRIDGE_KCIDB_URL", &kcidb.url());
    // No key flag, no KCIDB token anywhere but the credentials.
    let origin = w.art.host();
    let l = env.listen(&["--allow-artifact-host", &origin]);
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
    wait_until(
        Duration::from_secs(10),
        "the document to reach KCIDB",
        || !kcidb.objects().is_empty(),
    );
    assert!(
        l.stderr().contains("the systemd credential"),
        "{}",
        l.stderr()
    );
}
