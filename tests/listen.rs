//! `kbridge listen` over real HTTP: verification, the inbox, processing
//! into KCIDB documents, and every bad input the listener must survive.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use crate::util::{
    build_args, build_callback, test_callback, wait_until, Artifacts, Env, FakeTuxSuite, Keys,
    Listener, RESULTS_JSON,
};

const KERNEL: &str = "https://storage.example/Image";
const BUILD: &str = "maestro:681b69099ae9711e9ed49766";
const WAIT: Duration = Duration::from_secs(15);

/// Everything a listener test needs: a TuxSuite stand-in to schedule on,
/// a signing key, an artefact server and the environment.
pub(crate) struct World {
    pub(crate) tux: FakeTuxSuite,
    pub(crate) keys: Keys,
    pub(crate) art: Artifacts,
    pub(crate) env: Env,
}

/// A job as TuxSuite saw it: what it must send back, and where.
pub(crate) struct Scheduled {
    pub(crate) id: i64,
    pub(crate) uid: String,
    pub(crate) token: String,
    pub(crate) path: String,
}

impl World {
    pub(crate) fn new() -> World {
        let tux = FakeTuxSuite::start();
        let mut env = Env::new(&tux);
        let art = Artifacts::start();
        // Replays and polls fetch from the artefact server too.
        env.set("KBRIDGE_CALLBACK_URL", "https://ci.example.org/kbridge")
            .set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
        let keys = Keys::new();
        keys.write(&env.path("tuxsuite.pub"));
        World {
            tux,
            keys,
            art,
            env,
        }
    }

    pub(crate) fn listen(&self, extra: &[&str]) -> Listener {
        let key = self.env.path("tuxsuite.pub");
        let origin = self.art.host();
        let mut args = vec![
            "--tuxsuite-public-key",
            key.to_str().unwrap(),
            "--allow-artifact-host",
            &origin,
        ];
        args.extend_from_slice(extra);
        self.env.listen(&args)
    }

    pub(crate) fn schedule(&self, args: &[&str]) -> Scheduled {
        let mut all = args.to_vec();
        all.push("--json");
        let job = self.env.run(&all).expect(0).json();
        let sent = self.tux.submissions().last().unwrap().json();
        let sent = if sent.get("builds").is_some() {
            sent["builds"][0].clone()
        } else {
            sent
        };
        let callback = sent["callback"].as_str().unwrap();
        Scheduled {
            id: job["id"].as_i64().unwrap(),
            uid: job["uid"].as_str().unwrap().to_string(),
            token: sent["callback_headers"]["X-Kbridge-Token"]
                .as_str()
                .unwrap()
                .to_string(),
            path: callback
                .trim_start_matches("https://ci.example.org/kbridge")
                .to_string(),
        }
    }

    pub(crate) fn schedule_test(&self) -> Scheduled {
        self.schedule(&[
            "schedule",
            "test",
            "--kernel",
            KERNEL,
            "--tests",
            "ltp-smoke,ltp-fsx",
            "--build-id",
            BUILD,
        ])
    }

    /// Sends `body` signed over `signed`, with the job's token.
    pub(crate) fn send(
        &self,
        l: &Listener,
        job: &Scheduled,
        body: &[u8],
        signed: &[u8],
    ) -> crate::util::Answer {
        let sig = self.keys.sign(signed);
        l.post(
            &job.path,
            body,
            &[
                ("x-tux-payload-signature", &sig),
                ("X-Kbridge-Token", &job.token),
                ("Content-Type", "application/json"),
            ],
        )
    }

    /// Sends `body` signed as is and expects it to be accepted.
    #[track_caller]
    pub(crate) fn deliver(&self, l: &Listener, job: &Scheduled, body: &str) {
        let a = self.send(l, job, body.as_bytes(), body.as_bytes());
        assert_eq!(a.status, 202, "{}", a.body);
    }

    pub(crate) fn test_body(&self, uid: &str) -> String {
        let download = self
            .art
            .test_job(uid, RESULTS_JSON, "boot ok\nltp: access01 FAIL\n");
        test_callback(
            uid,
            &download,
            json!({"boot": "pass", "ltp-smoke": "fail", "ltp-fsx": "pass"}),
        )
    }

    pub(crate) fn job(&self, id: i64) -> Value {
        self.env
            .run(&["show", &id.to_string(), "--json"])
            .expect(0)
            .json()
    }

    pub(crate) fn wait_state(&self, id: i64, state: &str) -> Value {
        let mut last = Value::Null;
        wait_until(WAIT, &format!("job {id} to be {state}"), || {
            last = self.job(id);
            last["state"] == state
        });
        last
    }

    pub(crate) fn inbox(&self) -> Vec<Value> {
        self.env
            .run(&["inbox", "--json"])
            .expect(0)
            .json()
            .as_array()
            .unwrap()
            .clone()
    }
}

#[test]
pub(crate) fn a_signed_test_callback_becomes_a_kcidb_document() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let body = w.test_body(&job.uid);
    let answer = w.send(&l, &job, body.as_bytes(), body.as_bytes());
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.json()["job"], job.id);
    w.wait_state(job.id, "completed");

    let doc = w.env.run(&["results", &job.uid, "--json"]).expect(1).json();
    assert_eq!(doc["version"], json!({"major": 5, "minor": 3}));
    let tests = doc["tests"].as_array().unwrap();
    let by_path = |p: &str| {
        tests
            .iter()
            .find(|t| t["path"] == p)
            .unwrap_or_else(|| panic!("no {p}: {doc}"))
    };
    assert_eq!(by_path("ltp.smoke")["status"], "FAIL");
    assert_eq!(by_path("ltp.fsx")["status"], "PASS");
    assert_eq!(by_path("ltp.smoke.access01")["status"], "FAIL");
    assert_eq!(by_path("ltp.smoke.chdir01")["status"], "SKIP");
    assert_eq!(by_path("ltp.smoke.shmat1")["status"], "MISS");
    assert_eq!(by_path("ltp.fsx.fsx-linux")["status"], "PASS");
    assert_eq!(
        by_path("boot")["status"],
        "PASS",
        "a test job reports its boot"
    );
    assert_eq!(
        tests.len(),
        8,
        "the boot, two suites and five cases; nothing from lava"
    );
    let smoke = by_path("ltp.smoke");
    assert_eq!(smoke["build_id"], BUILD);
    assert_eq!(smoke["environment"]["misc"]["platform"], "qemu-riscv64");
    assert_eq!(smoke["misc"]["runtime"], "tuxsuite");
    assert_eq!(smoke["start_time"], "2026-02-24T12:42:27.314447Z");
    assert_eq!(smoke["duration"], 117.0);
    assert!(smoke["log_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/tests/{}/logs.txt", job.uid)));
    assert!(smoke["log_excerpt"]
        .as_str()
        .unwrap()
        .contains("access01 FAIL"));
    let id = smoke["id"].as_str().unwrap();
    assert!(
        id.starts_with("kbridge:") && id.len() == "kbridge:".len() + 64,
        "{id}"
    );

    // The same bytes are on disk, under the runner and uid.
    let file = w.env.path(&format!("kcidb/tuxsuite-{}.json", job.uid));
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(on_disk, doc);
    let human = w
        .env
        .run(&["results", &job.id.to_string()])
        .expect(1)
        .stdout;
    assert!(human.contains("FAIL   ltp.smoke.access01"), "{human}");

    let inbox = w.inbox();
    assert_eq!(inbox[0]["status"], "processed");
    assert_eq!(inbox[0]["verified_as"], "raw");
    assert_eq!(l.terminate(), 0);
}

#[test]
fn a_build_callback_with_backslash_quote_becomes_checkout_and_build() {
    let w = World::new();
    let job = w.schedule(&build_args(&[]));
    let l = w.listen(&[]);
    let body = build_callback(&job.uid, &format!("{}/builds/{}/", w.art.url(), job.uid))
        .replace("Merge tag 'riscv", "Merge tag \\'riscv");
    assert!(
        serde_json::from_str::<Value>(&body).is_err(),
        "the quirk makes it invalid JSON"
    );
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
    let doc = w.env.run(&["results", &job.uid, "--json"]).expect(0).json();
    let build = &doc["builds"][0];
    let checkout = &doc["checkouts"][0];
    assert_eq!(build["id"], format!("kbridge:{}", job.uid));
    assert_eq!(build["checkout_id"], checkout["id"]);
    assert_eq!(build["status"], "PASS");
    assert_eq!(build["architecture"], "riscv");
    assert_eq!(build["compiler"], "gcc-13");
    assert_eq!(build["config_name"], "defconfig+CONFIG_KASAN=y");
    assert_eq!(build["duration"], 258.0);
    let files: Vec<&str> = build["output_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["Image", "modules.tar.xz"]);
    assert!(build["log_url"].as_str().unwrap().ends_with("/build.log"));
    assert_eq!(
        checkout["git_commit_hash"],
        "5e3f5b81de80c98338bcb47c233aebefee5a4801"
    );
    assert_eq!(checkout["git_repository_branch"], "for-next");
    assert!(build["misc"]["git_short_log"]
        .as_str()
        .unwrap()
        .contains("tag 'riscv"));
}

#[test]
fn a_double_encoded_body_verifies_over_its_inner_string() {
    let w = World::new();
    let job = w.schedule(&["schedule", "boot", "--kernel", KERNEL, "--build-id", BUILD]);
    let l = w.listen(&[]);
    let download = w.art.test_job(&job.uid, "{}", "login:\n");
    let inner = test_callback(&job.uid, &download, json!({"boot": "pass"}));
    let body = serde_json::to_vec(&inner).unwrap();
    let answer = w.send(&l, &job, &body, inner.as_bytes());
    assert_eq!(answer.status, 202, "{}", answer.body);
    w.wait_state(job.id, "completed");
    let doc = w.env.run(&["results", &job.uid, "--json"]).expect(0).json();
    assert_eq!(doc["tests"].as_array().unwrap().len(), 1);
    assert_eq!(doc["tests"][0]["path"], "boot");
    assert_eq!(doc["tests"][0]["status"], "PASS");
    assert_eq!(w.inbox()[0]["verified_as"], "inner");
}

#[test]
fn bad_signatures_and_tokens_are_rejected_with_401() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let body = w.test_body(&job.uid);
    let other = Keys::new();
    let token = job.token.as_str();
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![("X-Kbridge-Token", token.into())],
            "missing x-tux-payload-signature",
        ),
        (
            vec![
                ("x-tux-payload-signature", w.keys.sign(b"other bytes")),
                ("X-Kbridge-Token", token.into()),
            ],
            "does not match any configured key",
        ),
        (
            vec![
                ("x-tux-payload-signature", "%%% not base64 %%%".into()),
                ("X-Kbridge-Token", token.into()),
            ],
            "not base64",
        ),
        (
            vec![
                ("x-tux-payload-signature", other.sign(body.as_bytes())),
                ("X-Kbridge-Token", token.into()),
            ],
            "does not match any configured key",
        ),
        (
            vec![
                ("x-tux-payload-signature", w.keys.sign(body.as_bytes())),
                ("X-Kbridge-Token", "0".repeat(64)),
            ],
            "X-Kbridge-Token does not match",
        ),
        (
            vec![("x-tux-payload-signature", w.keys.sign(body.as_bytes()))],
            "X-Kbridge-Token header is missing",
        ),
    ];
    for (headers, expected) in cases {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = l.post(&job.path, body.as_bytes(), &h);
        assert_eq!(a.status, 401, "{expected}: {}", a.body);
        assert!(
            a.json()["error"].as_str().unwrap().contains(expected),
            "{expected}: {}",
            a.body
        );
        assert!(
            !a.body.contains(&w.keys.line[20..60]) && !a.body.contains("ltp-smoke"),
            "nothing echoed: {}",
            a.body
        );
    }
    assert_eq!(
        w.job(job.id)["state"],
        "submitted",
        "no rejected callback touched the job"
    );
    // Nothing of a refused request is stored: it is counted and logged.
    assert_eq!(w.inbox(), Vec::<Value>::new());
    let metrics = l.get("/metrics");
    assert_eq!(metrics.status, 200);
    for (reason, n) in [("signature", 4), ("token", 2)] {
        let line =
            format!("kbridge_callbacks_total{{outcome=\"rejected\",reason=\"{reason}\"}} {n}");
        assert!(metrics.body.contains(&line), "{line}: {}", metrics.body);
    }
    assert!(l.stderr().contains("refused callback from 127.0.0.1"));
    // The real one still goes through afterwards.
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
}

#[test]
fn bodies_over_the_limit_get_413_even_when_chunked() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&["--max-body", "4096"]);
    let big = format!("{{\"kind\":\"test\",\"pad\":\"{}\"}}", "x".repeat(10_000));
    let sig = w.keys.sign(big.as_bytes());
    let a = l.post(
        &job.path,
        big.as_bytes(),
        &[("x-tux-payload-signature", &sig)],
    );
    assert_eq!(a.status, 413, "{}", a.body);

    // Chunked, with no Content-Length.
    let mut s = TcpStream::connect(l.addr()).unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nx-tux-payload-signature: {sig}\r\nConnection: close\r\n\r\n",
        job.path
    );
    s.write_all(head.as_bytes()).unwrap();
    for chunk in big.as_bytes().chunks(1000) {
        if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .is_err()
            || s.write_all(chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(w.job(job.id)["state"], "submitted");
}

#[test]
fn a_client_that_never_finishes_its_headers_is_dropped_without_stalling_others() {
    let mut w = World::new();
    w.env.set("KBRIDGE_HEADER_TIMEOUT", "1");
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let mut slow = TcpStream::connect(l.addr()).unwrap();
    slow.write_all(b"POST /callback/tuxsuite/test HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // Others are served meanwhile.
    let start = std::time::Instant::now();
    assert_eq!(l.get("/healthz").status, 200);
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    assert!(start.elapsed() < Duration::from_millis(900));
    // And the slow one is cut off.
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let n = slow.read_to_end(&mut buf);
    assert!(
        n.is_ok(),
        "the connection was closed, not left hanging: {n:?}"
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
}

#[test]
fn malformed_json_after_a_valid_signature_is_400_and_kept() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let body = b"{\"kind\": \"test\", \"status\": {";
    let a = w.send(&l, &job, body, body);
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.json()["error"].as_str().unwrap().contains("not JSON"));
    let inbox = w.inbox();
    assert_eq!(inbox[0]["status"], "invalid");
    assert_eq!(inbox[0]["verified_as"], "raw");
    assert_eq!(inbox[0]["body_bytes"], body.len());
}

#[test]
fn routes_unknown_kinds_and_methods() {
    let w = World::new();
    let l = w.listen(&[]);
    assert_eq!(l.get("/healthz").body, "ok\n");
    let sig = w.keys.sign(b"{}");
    let h = [("x-tux-payload-signature", sig.as_str())];
    assert_eq!(l.post("/callback/tuxsuite/oebuild", b"{}", &h).status, 404);
    assert!(l
        .post("/callback/tuxsuite/oebuild", b"{}", &h)
        .body
        .contains("unknown kind"));
    assert_eq!(l.post("/callback/lava/test", b"{}", &h).status, 404);
    assert_eq!(l.get("/callback/tuxsuite/test").status, 405);
    assert_eq!(l.post("/healthz", b"", &[]).status, 405);
    assert_eq!(l.get("/nope").status, 404);
    assert!(w.inbox().is_empty());
}

#[test]
pub(crate) fn an_unknown_uid_is_kept_unmatched_then_matched_when_the_job_appears() {
    let w = World::new();
    let l = w.listen(&[]);
    let uid = "2MBYearlyCallbackAAAAAAAAAA";
    let body = w.test_body(uid);
    let sig = w.keys.sign(body.as_bytes());
    let a = l.post(
        "/callback/tuxsuite/test",
        body.as_bytes(),
        &[("x-tux-payload-signature", &sig)],
    );
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(a.json()["job"], Value::Null);
    assert_eq!(w.inbox()[0]["status"], "unmatched");

    // The job appears later (scheduled without a callback token).
    w.tux
        .script([crate::util::Reply::Status(201, json!({"uid": uid}), vec![])]);
    let mut env = Env::bare();
    env.vars = w.env.vars.clone();
    env.unset("KBRIDGE_CALLBACK_URL");
    let job = env
        .run(&[
            "schedule",
            "test",
            "--kernel",
            KERNEL,
            "--tests",
            "ltp-smoke,ltp-fsx",
            "--build-id",
            BUILD,
            "--json",
        ])
        .expect(0)
        .json();
    let id = job["id"].as_i64().unwrap();
    w.wait_state(id, "completed");
    assert_eq!(w.inbox()[0]["status"], "processed");
    assert_eq!(w.inbox()[0]["job_id"], id);
    assert!(
        l.stderr().contains(&format!("matched job {id}")),
        "{}",
        l.stderr()
    );
}

#[test]
pub(crate) fn a_callback_racing_the_schedule_command_is_matched_by_its_token() {
    let w = World::new();
    let l = w.listen(&[]);
    // TuxSuite answers slowly: the job row exists, with its token, but
    // without a uid yet when the callback arrives.
    let uid = "2MBYracingCallbackAAAAAAAAA";
    w.tux.script([crate::util::Reply::Slow(
        Duration::from_secs(2),
        json!({"uid": uid}),
    )]);
    let scheduling = std::thread::spawn({
        let mut env = Env::bare();
        env.vars = w.env.vars.clone();
        move || {
            env.run(&[
                "schedule",
                "test",
                "--kernel",
                KERNEL,
                "--tests",
                "ltp-smoke",
                "--build-id",
                BUILD,
                "--json",
            ])
        }
    });
    wait_until(WAIT, "the request to reach TuxSuite", || {
        !w.tux.submissions().is_empty()
    });
    let sent = w.tux.submissions()[0].json();
    let token = sent["callback_headers"]["X-Kbridge-Token"]
        .as_str()
        .unwrap();
    let body = w.test_body(uid);
    let sig = w.keys.sign(body.as_bytes());
    let a = l.post(
        "/callback/tuxsuite/test",
        body.as_bytes(),
        &[
            ("x-tux-payload-signature", &sig),
            ("X-Kbridge-Token", token),
        ],
    );
    assert_eq!(a.status, 202, "{}", a.body);
    assert!(!scheduling.is_finished(), "the callback arrived first");
    assert!(a.json()["job"].is_i64(), "matched by token: {}", a.body);
    let run = scheduling.join().unwrap().expect(0).json();
    let id = run["id"].as_i64().unwrap();
    let job = w.wait_state(id, "completed");
    assert_eq!(job["uid"], uid);
}

#[test]
pub(crate) fn the_same_callback_twice_is_a_200_no_op() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
    let first = w.env.run(&["results", &job.uid, "--json"]).expect(1).stdout;
    // A different verdict in a replayed capture changes nothing.
    let tampered = body.replace("\"ltp-smoke\":\"fail\"", "\"ltp-smoke\":\"pass\"");
    let again = w.send(&l, &job, tampered.as_bytes(), tampered.as_bytes());
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["result"], "duplicate");
    assert_eq!(
        w.env.run(&["results", &job.uid, "--json"]).expect(1).stdout,
        first
    );
    // A replay keeps nothing: the one row is the processed callback.
    let inbox = w.inbox();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0]["status"], "processed");
}

#[test]
fn artefact_server_down_then_up_completes_after_retries() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    w.art.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    let pending = w.wait_state(job.id, "received");
    wait_until(WAIT, "a failed fetch to be recorded", || {
        w.job(job.id)["detail"]
            .as_str()
            .is_some_and(|d| d.contains("HTTP 503"))
    });
    let _ = pending;
    w.art.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let done = w.wait_state(job.id, "completed");
    assert_eq!(done["detail"], Value::Null);
    assert!(w.art.hits.load(std::sync::atomic::Ordering::SeqCst) >= 3);
}

#[test]
fn malformed_results_json_marks_the_job_errored_without_crashing() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let download = w
        .art
        .test_job(&job.uid, "{\"0_ltp-smoke\": [not json", "log\n");
    let body = test_callback(
        &job.uid,
        &download,
        json!({"boot": "pass", "ltp-smoke": "fail"}),
    );
    w.deliver(&l, &job, &body);
    let done = w.wait_state(job.id, "errored");
    assert!(
        done["detail"]
            .as_str()
            .unwrap()
            .contains("results.json is malformed"),
        "{done}"
    );
    let doc = w.env.run(&["results", &job.uid, "--json"]).expect(1).json();
    let statuses: Vec<(&str, &str)> = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["path"].as_str().unwrap(), t["status"].as_str().unwrap()))
        .collect();
    // The job's own verdicts stand; no case is invented; a test with no
    // verdict is MISS.
    assert_eq!(
        statuses,
        [("boot", "PASS"), ("ltp.smoke", "FAIL"), ("ltp.fsx", "MISS")]
    );
    assert_eq!(l.get("/healthz").status, 200, "the listener is still up");
}

#[test]
fn artefacts_from_hosts_not_allowed_are_not_fetched() {
    let mut w = World::new();
    w.env.unset("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS");
    let job = w.schedule_test();
    let key = w.env.path("tuxsuite.pub");
    let l = w.env.listen(&[
        "--tuxsuite-public-key",
        key.to_str().unwrap(),
        "--allow-artifact-host",
        "storage.example",
    ]);
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    // The verdicts the callback gave stand; the job says what is missing.
    let done = w.wait_state(job.id, "errored");
    let detail = done["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!(
            "could not fetch results.json: artefacts from 127.0.0.1 are not allowed; add it with --allow-artifact-host {}",
            w.art.host()
        )),
        "{done}"
    );
    assert_eq!(w.art.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(w.inbox()[0]["status"], "processed");
    let doc = w.env.run(&["results", &job.uid, "--json"]).json();
    assert!(
        doc["tests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["path"] == "ltp.smoke"),
        "the verdicts are in the document: {doc}"
    );
    drop(l);

    // Allowing the origin and replaying the stored callback completes it.
    let inbox_id = w.inbox()[0]["id"].as_i64().unwrap().to_string();
    let config = w.env.path("kbridge.toml");
    std::fs::write(
        &config,
        format!("[tuxsuite]\nartifact_hosts = [\"{}\"]\n", w.art.host()),
    )
    .unwrap();
    let run = w
        .env
        .run(&[
            "--config",
            config.to_str().unwrap(),
            "inbox",
            "replay",
            &inbox_id,
        ])
        .expect(0);
    assert!(
        run.stdout
            .contains(&format!("callback {inbox_id}: job {}: completed", job.id)),
        "{}",
        run.stdout
    );
    assert_eq!(w.job(job.id)["state"], "completed");
    assert_eq!(w.inbox()[0]["status"], "processed");

    // An unknown callback is named.
    let run = w.env.run(&["inbox", "replay", "99"]).expect(2);
    assert!(
        run.error_line().contains("no callback 99"),
        "{}",
        run.stderr
    );
}

#[test]
pub(crate) fn kill_9_after_the_202_loses_nothing() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    // Processing cannot finish while the artefact server is this slow.
    *w.art.delay.lock().unwrap() = Duration::from_secs(30);
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    wait_until(WAIT, "processing to start", || {
        w.art.hits.load(std::sync::atomic::Ordering::SeqCst) > 0
    });
    l.kill9();
    assert_eq!(w.job(job.id)["state"], "received");
    *w.art.delay.lock().unwrap() = Duration::ZERO;

    let l = w.listen(&[]);
    w.wait_state(job.id, "completed");
    let docs: Vec<_> = std::fs::read_dir(w.env.path("kcidb"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        docs,
        [format!("tuxsuite-{}.json", job.uid)],
        "exactly one document"
    );
    assert_eq!(w.inbox().len(), 1);
    drop(l);
}

#[test]
fn starting_without_a_key_is_refused_unless_insecure() {
    let w = World::new();
    let out = w.env.path("kcidb");
    let run = w.env.run(&[
        "listen",
        "--bind",
        "127.0.0.1:0",
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    let run = run.expect(2);
    let line = run.error_line();
    assert!(line.contains("no TuxSuite public key configured"), "{line}");
    assert!(line.contains("tuxsuite keys get"), "{line}");

    std::fs::write(
        w.env.path("bad.pub"),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG6bYhwzAUa3VUPZx3w0VsyHHJtFz6WsH1+b2mfr2i1J x\n",
    )
    .unwrap();
    let run = w.env.run(&[
        "listen",
        "--bind",
        "127.0.0.1:0",
        "--tuxsuite-public-key",
        w.env.path("bad.pub").to_str().unwrap(),
    ]);
    assert!(run.expect(2).error_line().contains("ecdsa-sha2-nistp256"));

    let job = w.schedule_test();
    let origin = w.art.host();
    let l = w
        .env
        .listen(&["--insecure-skip-verify", "--allow-artifact-host", &origin]);
    let body = w.test_body(&job.uid);
    let a = l.post(
        &job.path,
        body.as_bytes(),
        &[("X-Kbridge-Token", &job.token)],
    );
    assert_eq!(a.status, 202, "{}", a.body);
    w.wait_state(job.id, "completed");
    assert!(
        l.stderr().contains("WITHOUT signature verification"),
        "{}",
        l.stderr()
    );
    assert_eq!(w.inbox()[0]["verified_as"], "unverified");
}

#[test]
fn exit_when_done_stops_once_no_job_waits() {
    let w = World::new();
    let a = w.schedule_test();
    let b = w.schedule(&["schedule", "boot", "--kernel", KERNEL, "--build-id", BUILD]);
    let l = w.listen(&["--exit-when-done"]);
    let body = w.test_body(&a.uid);
    w.deliver(&l, &a, &body);
    w.wait_state(a.id, "completed");
    assert_eq!(
        l.get("/healthz").status,
        200,
        "still waiting for the boot job"
    );
    let download = w.art.test_job(&b.uid, "{}", "login:\n");
    let body = test_callback(&b.uid, &download, json!({"boot": "fail"}));
    w.deliver(&l, &b, &body);
    assert_eq!(
        l.wait_exit(WAIT),
        1,
        "a kernel failure is exit status 1, as for kbridge wait"
    );
    assert_eq!(w.job(b.id)["state"], "completed");
    let doc = w.env.run(&["results", &b.uid, "--json"]).expect(1).json();
    assert_eq!(doc["tests"][0]["status"], "FAIL");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let w = World::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let key = w.env.path("tuxsuite.pub");
    let run = w
        .env
        .run(&[
            "listen",
            "--bind",
            &addr,
            "--tuxsuite-public-key",
            key.to_str().unwrap(),
        ])
        .expect(1);
    assert!(
        run.error_line()
            .contains(&format!("cannot listen on {addr}")),
        "{}",
        run.stderr
    );
}

#[test]
fn private_artefacts_get_the_token_and_redirects_stay_on_allowed_hosts() {
    let mut w = World::new();
    let job = w.schedule_test();
    // The token goes to TuxSuite's API origin only: here the artefacts are
    // served from it.
    w.env.set("TUXAPI_URL", &w.art.url());
    let l = w.listen(&[]);
    let download = w.art.test_job(&job.uid, "{}", "log\n");
    // results.json lives elsewhere on the same (allowed) host.
    let original = format!("/tests/{}/results.json", job.uid);
    w.art
        .redirect(&original, &format!("{}/moved/results.json", w.art.url()));
    w.art.put("/moved/results.json", RESULTS_JSON);
    let mut body: Value = serde_json::from_str(&test_callback(
        &job.uid,
        &download,
        json!({"ltp-smoke": "fail", "ltp-fsx": "pass"}),
    ))
    .unwrap();
    body["status"]["is_public"] = json!(false);
    let body = body.to_string();
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
    assert_eq!(
        w.art.auth_for(&original),
        [Some(crate::util::TOKEN.to_string())]
    );
    assert_eq!(
        w.art.auth_for("/moved/results.json"),
        [None],
        "the token never follows a redirect"
    );
    let doc = w.env.run(&["results", &job.uid, "--json"]).expect(1).json();
    assert_eq!(
        doc["tests"].as_array().unwrap().len(),
        8,
        "cases came from the moved file"
    );
}

#[test]
fn the_token_never_goes_to_an_origin_other_than_the_api() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let download = w.art.test_job(&job.uid, RESULTS_JSON, "log\n");
    let mut body: Value = serde_json::from_str(&test_callback(
        &job.uid,
        &download,
        json!({"ltp-smoke": "fail", "ltp-fsx": "pass"}),
    ))
    .unwrap();
    body["status"]["is_public"] = json!(false);
    w.deliver(&l, &job, &body.to_string());
    w.wait_state(job.id, "completed");
    let original = format!("/tests/{}/results.json", job.uid);
    assert_eq!(
        w.art.auth_for(&original),
        [None],
        "the artefacts are on an allowed origin that is not the API's"
    );
}

#[test]
fn a_redirect_to_a_host_not_allowed_is_not_followed() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let download = w.art.test_job(&job.uid, RESULTS_JSON, "log\n");
    let port = w.art.url().rsplit(':').next().unwrap().to_string();
    w.art.redirect(
        &format!("/tests/{}/results.json", job.uid),
        &format!("http://127.0.0.2:{port}/elsewhere"),
    );
    let body = test_callback(&job.uid, &download, json!({"ltp-smoke": "pass"}));
    w.deliver(&l, &job, &body);
    let done = w.wait_state(job.id, "errored");
    assert!(
        done["detail"].as_str().unwrap().contains(&format!(
            "artefacts from 127.0.0.2 are not allowed; add it with --allow-artifact-host 127.0.0.2:{port}"
        )),
        "{done}"
    );
    assert!(w.art.auth_for("/elsewhere").is_empty());
}

#[test]
fn fetching_gives_up_after_its_time_and_replay_tries_again() {
    let mut w = World::new();
    w.env.set("KBRIDGE_FETCH_RETRY_FOR", "0.3");
    let job = w.schedule_test();
    let l = w.listen(&[]);
    w.art.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    wait_until(WAIT, "the listener to give up", || {
        w.inbox()[0]["status"] == "failed"
    });
    let stuck = w.job(job.id);
    assert_eq!(stuck["state"], "received", "visibly pending");
    assert!(
        stuck["detail"]
            .as_str()
            .unwrap()
            .contains("gave up fetching results"),
        "{stuck}"
    );
    assert!(
        stuck["detail"]
            .as_str()
            .unwrap()
            .contains("kbridge inbox replay"),
        "{stuck}"
    );

    w.art.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let id = w.inbox()[0]["id"].to_string();
    let run = w.env.run(&["inbox", "replay", &id]).expect(0);
    assert!(run.stdout.contains("completed"), "{}", run.stdout);
    assert_eq!(w.job(job.id)["state"], "completed");
    drop(l);
}

#[test]
fn a_failed_build_gets_the_tail_of_its_log() {
    let w = World::new();
    let job = w.schedule(&[
        "schedule",
        "build",
        "--tree",
        "git://git.kernel.org/linux.git",
        "--sha",
        "5e3f5b81de80c98338bcb47c233aebefee5a4801",
        "--toolchain",
        "gcc-13",
        "--kconfig",
        "defconfig",
    ]);
    let l = w.listen(&[]);
    let log = format!(
        "{}\0error: implicit declaration of function 'foo'\n",
        "make[2]: line\n".repeat(5000)
    );
    w.art.put(&format!("/builds/{}/build.log", job.uid), log);
    let mut body: Value = serde_json::from_str(&build_callback(
        &job.uid,
        &format!("{}/builds/{}/", w.art.url(), job.uid),
    ))
    .unwrap();
    body["status"]["build_status"] = json!("fail");
    body["status"]["modules"] = json!(false);
    body["status"]["git_repo"] = json!("git://git.kernel.org/linux.git");
    let body = body.to_string();
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
    let doc = w.env.run(&["results", &job.uid, "--json"]).expect(1).json();
    let build = &doc["builds"][0];
    assert_eq!(build["status"], "FAIL");
    let excerpt = build["log_excerpt"].as_str().unwrap();
    assert!(excerpt.ends_with("implicit declaration of function 'foo'\n"));
    assert!(excerpt.chars().count() <= 16384 && !excerpt.contains('\0'));
    let names: Vec<&str> = build["output_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Image"], "modules: false means no modules");
    // KCIDB takes only https:// repositories; the git:// one is kept in misc.
    assert!(doc["checkouts"][0].get("git_repository_url").is_none());
    assert_eq!(
        doc["checkouts"][0]["misc"]["git_repository_url"],
        "git://git.kernel.org/linux.git"
    );
}

#[test]
fn results_inbox_and_listen_explain_what_is_missing() {
    let w = World::new();
    let job = w.schedule_test();
    let run = w.env.run(&["results", &job.uid]).expect(3);
    assert!(
        run.error_line().contains(&format!(
            "job {} has no KCIDB document yet (it is 'submitted')",
            job.id
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        w.env.run(&["inbox"]).expect(0).stdout.trim(),
        "no callbacks received"
    );

    let missing = w.env.path("missing.pub");
    let run = w
        .env
        .run(&["listen", "--tuxsuite-public-key", missing.to_str().unwrap()])
        .expect(2);
    assert!(run.error_line().contains("cannot read"), "{}", run.stderr);
    let mut env = Env::bare();
    env.vars = w.env.vars.clone();
    env.set("KBRIDGE_MAX_BODY", "lots");
    let run = env.run(&["listen", "--insecure-skip-verify"]).expect(2);
    assert!(
        run.error_line().contains("not a number of bytes"),
        "{}",
        run.stderr
    );

    // A stored callback that matches no job cannot be replayed yet.
    let l = w.listen(&[]);
    let body = w.test_body("2MBYnoSuchJobAAAAAAAAAAAAAA");
    let sig = w.keys.sign(body.as_bytes());
    let a = l.post(
        "/callback/tuxsuite/test",
        body.as_bytes(),
        &[("x-tux-payload-signature", &sig)],
    );
    assert_eq!(a.status, 202, "{}", a.body);
    let id = a.json()["inbox"].to_string();
    let run = w.env.run(&["inbox", "replay", &id]).expect(1);
    assert!(
        run.error_line()
            .contains("matches no job kbridge scheduled"),
        "{}",
        run.stderr
    );
}

/// Signs a report body as a reporting source does.
fn signed(secret: &str, ts: i64, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(body);
    let code = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        code.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn outbox(env: &Env) -> Vec<Value> {
    env.run(&["outbox", "--json"]).expect(0).json()["documents"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn the_listener_submits_what_it_makes() {
    let mut w = World::new();
    let k = crate::util::FakeKcidb::start();
    w.env.set("KCIDB_REST", &k.rest());
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
    wait_until(WAIT, "the document to reach KCIDB", || {
        k.accepted().len() == 1
    });
    let sent = &k.accepted()[0].1;
    let doc = w.env.run(&["results", &job.uid, "--json"]).expect(1).json();
    assert_eq!(
        sent["tests"], doc["tests"],
        "what was made is what was sent"
    );
    wait_until(WAIT, "the outbox to say so", || {
        outbox(&w.env)[0]["state"] == "submitted"
    });
    assert!(
        l.stderr()
            .contains(&format!("submitting KCIDB documents to {}", k.url())),
        "{}",
        l.stderr()
    );
    assert!(!l.stderr().contains(crate::util::KCIDB_TOKEN));
}

#[test]
fn without_a_kcidb_url_or_with_no_submit_documents_wait_for_kbridge_submit() {
    let mut w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    wait_until(WAIT, "the listener to say where documents go", || {
        l.stderr()
            .contains("no KCIDB URL is configured: documents are kept for `kbridge submit`")
    });
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
    drop(l);
    let k = crate::util::FakeKcidb::start();
    w.env.set("KCIDB_REST", &k.rest());
    let l = w.listen(&["--no-submit"]);
    wait_until(WAIT, "the listener to say it does not submit", || {
        l.stderr().contains("--no-submit")
    });
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(k.requests(), 0);
    assert_eq!(outbox(&w.env)[0]["state"], "pending");
    drop(l);
    w.env.run(&["submit"]).expect(0);
    assert_eq!(k.accepted().len(), 1);
}

#[test]
fn a_replay_that_changes_a_submitted_document_keeps_the_bytes_first_sent() {
    let mut w = World::new();
    let k = crate::util::FakeKcidb::start();
    w.env.set("KCIDB_REST", &k.rest());
    let job = w.schedule_test();
    let l = w.listen(&["--no-submit"]);
    let body = w.test_body(&job.uid);
    w.deliver(&l, &job, &body);
    w.wait_state(job.id, "completed");
    drop(l);
    w.env.run(&["submit"]).expect(0);
    let first = outbox(&w.env)[0].clone();
    // The artefacts change (a re-run overwrote them); processing again
    // makes other bytes.
    w.art
        .put(&format!("/tests/{}/logs.txt", job.uid), "a different log\n");
    let inbox_id = w.inbox()[0]["id"].to_string();
    let run = w.env.run(&["inbox", "replay", &inbox_id]).expect(0);
    assert!(
        run.stdout.contains("warning: its KCIDB document changed after it was submitted: the bytes first sent are kept"),
        "{}",
        run.stdout
    );
    let now = outbox(&w.env)[0].clone();
    assert_eq!(now["state"], "submitted");
    assert_eq!(now["bytes"], first["bytes"], "the old bytes are kept");
    assert!(now["changed"]
        .as_str()
        .unwrap()
        .contains("changed after submission"));
    let table = w.env.run(&["outbox"]).expect(0).stdout;
    assert!(table.contains("changed after submission"), "{table}");
    w.env.run(&["submit"]).expect(0);
    assert_eq!(k.accepted().len(), 1, "nothing is sent again");
}

#[test]
fn a_test_document_is_sent_after_its_build_document() {
    let mut w = World::new();
    let k = crate::util::FakeKcidb::start();
    w.env.set("KCIDB_REST", &k.rest());
    let build = w.schedule(&build_args(&[]));
    let test = w.schedule(&[
        "schedule",
        "test",
        "--kernel",
        KERNEL,
        "--tests",
        "ltp-smoke",
        "--build-id",
        &build.uid,
    ]);
    let l = w.listen(&["--no-submit"]);
    let body = w.test_body(&test.uid);
    w.deliver(&l, &test, &body);
    w.wait_state(test.id, "completed");
    let run = w.env.run(&["submit"]).expect(1);
    assert!(
        run.stdout.contains("1 waiting for their build's document"),
        "{}",
        run.stdout
    );
    assert_eq!(k.requests(), 0);
    let body = build_callback(
        &build.uid,
        &format!("{}/builds/{}/", w.art.url(), build.uid),
    );
    w.deliver(&l, &build, &body);
    w.wait_state(build.id, "completed");
    w.env.run(&["submit"]).expect(0);
    let accepted = k.accepted();
    let mut order = Vec::new();
    for (_, doc) in &accepted {
        for kind in ["builds", "tests"] {
            if doc.get(kind).is_some() {
                order.push(kind);
            }
        }
    }
    assert_eq!(order, ["builds", "tests"], "{accepted:?}");
}

/// A listener that takes reports from source `lab1`.
fn with_reports(w: &mut World) -> &'static str {
    let secret = "lab1-hmac-secret";
    std::fs::write(w.env.path("lab1.secret"), format!("{secret}\n")).unwrap();
    let file = w.env.path("k.toml");
    std::fs::write(
        &file,
        "[report.sources.lab1]\nsecret_file = \"lab1.secret\"\n",
    )
    .unwrap();
    w.env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    secret
}

fn report_body(uid: &str) -> String {
    json!({"test_uid": uid, "build_id": BUILD, "device": "visionfive2", "runtime": "lab1",
           "tests": [{"test_name": "boot", "result": "pass"}, {"test_name": "ltp-smoke", "result": "FAIL", "logs": "access01 FAIL"}]})
    .to_string()
}

#[test]
fn signed_reports_are_accepted_once_and_nothing_else_is_trusted() {
    let mut w = World::new();
    let secret = with_reports(&mut w);
    let l = w.listen(&[]);
    let body = report_body("lab1-run-7");
    let post = |source: &str, ts: i64, sig: &str, body: &str| {
        l.post(
            "/results",
            body.as_bytes(),
            &[
                ("X-Kbridge-Source", source),
                ("X-Kbridge-Timestamp", &ts.to_string()),
                ("X-Kbridge-Signature", sig),
                ("Content-Type", "application/json"),
            ],
        )
    };
    let t = now();
    let good = signed(secret, t, body.as_bytes());
    // An unknown source and a bad signature get the same answer: a
    // stranger learns no source's name. The log tells them apart.
    let same = "X-Kbridge-Signature does not hold for X-Kbridge-Source";
    let refused = [
        (
            post("lab1", t, &signed("wrong", t, body.as_bytes()), &body),
            same,
        ),
        (
            post(
                "lab1",
                t - 600,
                &signed(secret, t - 600, body.as_bytes()),
                &body,
            ),
            "more than 5 minutes",
        ),
        (
            post(
                "lab1",
                t + 600,
                &signed(secret, t + 600, body.as_bytes()),
                &body,
            ),
            "more than 5 minutes",
        ),
        (post("lab9", t, &good, &body), same),
        (post("lab1", t, &good, &body.replace("FAIL", "PASS")), same),
    ];
    for (answer, why) in refused {
        assert_eq!(answer.status, 401, "{why}: {}", answer.body);
        assert!(
            answer.json()["error"].as_str().unwrap().contains(why),
            "{why}: {}",
            answer.body
        );
    }
    let none = l.post("/results", body.as_bytes(), &[]);
    assert_eq!(none.status, 401);
    assert!(w.inbox().is_empty(), "nothing of a refused report is kept");
    assert!(outbox(&w.env).is_empty());

    wait_until(WAIT, "the refusals in the log", || {
        let log = l.stderr();
        log.contains("unknown source 'lab9'") && log.contains("does not match")
    });

    let a = post("lab1", t, &good, &body);
    assert_eq!(a.status, 202, "{}", a.body);
    let replay = post("lab1", t, &good, &body);
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert!(replay.body.contains("already used"), "{}", replay.body);
    // The same signature spelt in upper case is the same signature.
    let shouted = format!("sha256={}", good["sha256=".len()..].to_ascii_uppercase());
    let replay = post("lab1", t, &shouted, &body);
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert!(replay.body.contains("already used"), "{}", replay.body);
    // The same run reported again (newly signed) is a duplicate.
    let again = post(
        "lab1",
        t + 1,
        &signed(secret, t + 1, body.as_bytes()),
        &body,
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["result"], "duplicate");
    let docs = outbox(&w.env);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["label"], "report lab1-run-7 from lab1");
    let bad = report_body("lab1-run-8").replace("\"FAIL\"", "\"FLAKY\"");
    let answer = post("lab1", t, &signed(secret, t, bad.as_bytes()), &bad);
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("tests[1].result"), "{}", answer.body);
}

#[test]
fn report_to_a_second_kbridge_ends_in_kcidb_there() {
    let mut w = World::new();
    let secret = with_reports(&mut w);
    let k = crate::util::FakeKcidb::start();
    w.env.set("KCIDB_REST", &k.rest());
    let l = w.listen(&[]);
    let sender = Env::bare();
    let file = sender.path("run.json");
    std::fs::write(&file, report_body("lab1-run-9")).unwrap();
    let secret_file = sender.path("s");
    std::fs::write(&secret_file, secret).unwrap();
    let run = sender
        .run(&[
            "report",
            file.to_str().unwrap(),
            "--to",
            &l.url,
            "--source",
            "lab1",
            "--secret-file",
            secret_file.to_str().unwrap(),
        ])
        .expect(0);
    assert!(
        run.stdout.contains("sent report lab1-run-9 (2 test(s))"),
        "{}",
        run.stdout
    );
    wait_until(WAIT, "the report to reach KCIDB", || {
        k.accepted().len() == 1
    });
    let doc = &k.accepted()[0].1;
    let paths: Vec<&str> = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["boot", "ltp.smoke"]);
    assert_eq!(doc["tests"][1]["log_excerpt"], "access01 FAIL");
    assert!(!sender.db().exists(), "the sender keeps nothing");
    // A wrong secret is refused, and says so.
    std::fs::write(&secret_file, "not-it").unwrap();
    let run = sender
        .run(&[
            "report",
            file.to_str().unwrap(),
            "--to",
            &l.url,
            "--source",
            "lab1",
            "--secret-file",
            secret_file.to_str().unwrap(),
        ])
        .expect(1);
    assert!(
        run.error_line().contains("refused the report (401)"),
        "{}",
        run.stderr
    );
}
