//! `kbridge wait`, polling, `--after` and exit statuses, against the
//! TuxSuite stand-in.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::{
    build_args, test_callback, wait_until, Artifacts, Env, FakeTuxSuite, Keys, Reply, RESULTS_JSON,
};

const KERNEL: &str = "https://storage.example/Image";
const BUILD: &str = "maestro:681b69099ae9711e9ed49766";

/// A TuxSuite stand-in, an artefact server and an environment that polls
/// every 0.2 s.
struct World {
    tux: FakeTuxSuite,
    art: Artifacts,
    env: Env,
}

impl World {
    fn new() -> World {
        let tux = FakeTuxSuite::start();
        let mut env = Env::new(&tux);
        let art = Artifacts::start();
        env.set("KBRIDGE_POLL_INTERVAL", "0.2")
            .set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
        World { tux, art, env }
    }

    fn schedule(&self, args: &[&str]) -> (i64, String) {
        let mut all = args.to_vec();
        all.push("--json");
        let job = self.env.run(&all).expect(0).json();
        (
            job["id"].as_i64().unwrap(),
            job["uid"].as_str().unwrap().to_string(),
        )
    }

    fn test(&self, tests: &str) -> (i64, String) {
        self.schedule(&[
            "schedule",
            "test",
            "--kernel",
            KERNEL,
            "--tests",
            tests,
            "--build-id",
            BUILD,
        ])
    }

    fn boot(&self) -> (i64, String) {
        self.schedule(&[
            "schedule",
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            BUILD,
            "--force",
        ])
    }

    /// Finishes a test job on the stand-in, with artefacts to fetch.
    fn finish(&self, uid: &str, results: Value) {
        let download = self
            .art
            .test_job(uid, RESULTS_JSON, "boot ok\nltp: access01 FAIL\n");
        self.tux.finish_test(uid, &download, results);
    }

    fn job(&self, id: i64) -> Value {
        self.env
            .run(&["show", &id.to_string(), "--json"])
            .expect(0)
            .json()
    }
}

#[test]
pub(crate) fn wait_polls_jobs_that_have_no_listener_and_sums_them_up() {
    let w = World::new();
    let (a, a_uid) = w.test("ltp-smoke,ltp-fsx");
    let (b, b_uid) = w.boot();
    w.finish(
        &a_uid,
        json!({"boot": "pass", "ltp-smoke": "fail", "ltp-fsx": "pass"}),
    );
    w.finish(&b_uid, json!({"boot": "pass"}));
    let run = w.env.run(&["wait", "--json"]).expect(1);
    let summary = run.json();
    assert_eq!(summary["exit_status"], 1);
    assert_eq!(summary["jobs"].as_array().unwrap().len(), 2);
    let results: Vec<&str> = summary["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["fail", "pass"]);
    assert!(summary["counts"]["FAIL"].as_u64().unwrap() >= 2);
    let failing: Vec<&str> = summary["failing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        failing.contains(&"ltp.smoke") && failing.contains(&"ltp.smoke.access01"),
        "{failing:?}"
    );
    // The same document a callback would have made.
    let doc = w
        .env
        .run(&["results", &a.to_string(), "--json"])
        .expect(1)
        .json();
    assert_eq!(doc["tests"].as_array().unwrap().len(), 8);
    w.env.run(&["results", &b.to_string()]).expect(0);
    assert_eq!(w.job(a)["state"], "completed");
    assert_eq!(
        w.job(a)["status"]["state"],
        "finished",
        "show has the runner's latest word"
    );
    // Nothing is left to wait for, so a second wait returns at once.
    let start = Instant::now();
    w.env.run(&["wait"]).expect(0);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
pub(crate) fn every_exit_status() {
    let w = World::new();
    let (_, pass) = w.boot();
    w.finish(&pass, json!({"boot": "pass"}));
    w.env.run(&["wait"]).expect(0);

    let (miss, miss_uid) = w.boot();
    w.finish(&miss_uid, json!({"boot": "unknown"}));
    let run = w.env.run(&["wait", &miss.to_string()]).expect(3);
    assert!(
        run.stdout.contains("infrastructure problem"),
        "{}",
        run.stdout
    );
    w.env
        .run(&["wait", &miss.to_string(), "--bisect"])
        .expect(125);
    w.env.run(&["results", &miss.to_string()]).expect(3);

    let (pending, _) = w.boot();
    let start = Instant::now();
    let run = w
        .env
        .run(&["wait", &pending.to_string(), "--timeout", "1s", "--json"])
        .expect(124);
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(run.json()["pending"], json!([pending]));
    assert_eq!(run.json()["timed_out"], true);

    let run = w.env.run(&["wait", "--timeout", "soon"]).expect(2);
    assert!(
        run.error_line().contains("not a duration"),
        "{}",
        run.stderr
    );
    let run = w.env.run(&["wait", "999"]).expect(2);
    assert!(run.error_line().contains("no job '999'"), "{}", run.stderr);
}

#[test]
fn jobs_the_runner_may_not_have_are_named_not_waited_for() {
    let w = World::new();
    let mut env = Env::new(&w.tux);
    env.vars = w.env.vars.clone();
    env.set("KBRIDGE_HTTP_TIMEOUT", "0.3");
    w.tux.script([Reply::Hang(Duration::from_millis(1000))]);
    env.run(&["schedule", "boot", "--kernel", KERNEL, "--build-id", BUILD])
        .expect(1);
    let start = Instant::now();
    let run = w.env.run(&["wait"]).expect(3);
    assert!(start.elapsed() < Duration::from_secs(5), "not waited for");
    assert!(
        run.stdout.contains(
            "it is 'unknown': the runner may or may not have it, so it is not waited for"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn json_junit_and_plain_lines_for_ci() {
    let w = World::new();
    let (_, a_uid) = w.test("ltp-smoke,ltp-fsx");
    let (_, b_uid) = w.boot();
    w.finish(
        &a_uid,
        json!({"boot": "pass", "ltp-smoke": "fail", "ltp-fsx": "pass"}),
    );
    w.finish(&b_uid, json!({"boot": "pass"}));
    let junit = w.env.path("results.xml");
    let run = w
        .env
        .run(&["wait", "--junit", junit.to_str().unwrap()])
        .expect(1);
    // Off a terminal: plain lines, no control characters.
    assert!(
        run.stderr.chars().all(|c| c == '\n' || !c.is_control()),
        "{:?}",
        run.stderr
    );
    assert!(run.stderr.contains("submitted"), "{}", run.stderr);
    assert!(
        run.stdout.contains("FAIL   ltp.smoke.access01"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("2 job(s): 1 passed, 1 failed"),
        "{}",
        run.stdout
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut suites, mut cases, mut failures) = (0, 0, Vec::new());
    let mut in_failure = false;
    loop {
        match reader
            .read_event()
            .expect("the JUnit file is well-formed XML")
        {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    "testsuite" => suites += 1,
                    "testcase" => cases += 1,
                    "failure" => in_failure = true,
                    _ => {}
                }
            }
            quick_xml::events::Event::Text(t) if in_failure => {
                failures.push(t.into_inner().into_owned());
                in_failure = false;
            }
            _ => {}
        }
    }
    assert_eq!(suites, 2, "one testsuite per job");
    assert_eq!(cases, 9, "one testcase per KCIDB test: 8 and 1");
    assert!(
        failures.iter().any(|f| f.contains("access01 FAIL")),
        "the log excerpt: {failures:?}"
    );
}

/// A boot job scheduled with a public callback URL, with what a listener
/// and its callback need.
struct Listening {
    tux: FakeTuxSuite,
    env: Env,
    keys: Keys,
    art: Artifacts,
    id: i64,
    uid: String,
    token: String,
}

impl Listening {
    fn new() -> Listening {
        let tux = FakeTuxSuite::start();
        let mut env = Env::new(&tux);
        let art = Artifacts::start();
        env.set("KBRIDGE_CALLBACK_URL", "https://ci.example.org/kbridge")
            .set("KBRIDGE_POLL_INTERVAL", "0.2")
            .set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
        let keys = Keys::new();
        keys.write(&env.path("tuxsuite.pub"));
        let job = env
            .run(&[
                "schedule",
                "boot",
                "--kernel",
                KERNEL,
                "--build-id",
                BUILD,
                "--json",
            ])
            .expect(0)
            .json();
        let token = tux.submissions()[0].json()["callback_headers"]["X-Kbridge-Token"]
            .as_str()
            .unwrap()
            .to_string();
        Listening {
            id: job["id"].as_i64().unwrap(),
            uid: job["uid"].as_str().unwrap().to_string(),
            tux,
            env,
            keys,
            art,
            token,
        }
    }

    fn listen(&self, more: &[&str]) -> crate::util::Listener {
        let key = self.env.path("tuxsuite.pub");
        let mut args = vec!["--tuxsuite-public-key", key.to_str().unwrap()];
        args.extend_from_slice(more);
        self.env.listen(&args)
    }

    /// Sends the job's signed callback with this boot result.
    fn call_back(
        &self,
        l: &crate::util::Listener,
        download: &str,
        boot: &str,
    ) -> crate::util::Answer {
        let body = test_callback(&self.uid, download, json!({ "boot": boot }));
        l.post(
            "/callback/tuxsuite/boot",
            body.as_bytes(),
            &[
                ("x-tux-payload-signature", &self.keys.sign(body.as_bytes())),
                ("X-Kbridge-Token", &self.token),
            ],
        )
    }
}

#[test]
fn waiting_beside_a_listener_trusts_its_callbacks() {
    let w = Listening::new();
    let l = w.listen(&[]);
    std::thread::sleep(Duration::from_millis(300));
    let waiting = std::thread::scope(|s| {
        let h = s.spawn(|| w.env.run(&["wait"]));
        std::thread::sleep(Duration::from_millis(800));
        let download = w.art.test_job(&w.uid, "{}", "login:\n");
        let a = w.call_back(&l, &download, "pass");
        assert_eq!(a.status, 202, "{}", a.body);
        h.join().unwrap()
    });
    let run = waiting.expect(0);
    assert!(run.stdout.contains("PASS"), "{}", run.stdout);
    assert_eq!(
        w.tux.polls(&w.uid),
        0,
        "with a listener alive, its callback is waited for"
    );
}

#[test]
pub(crate) fn a_lost_callback_is_found_by_the_listeners_poller_and_processed_once() {
    let w = Listening::new();
    let (id, uid, env) = (w.id, &w.uid, &w.env);
    let download = w.art.test_job(uid, "{}", "login:\n");
    w.tux.finish_test(uid, &download, json!({"boot": "pass"}));
    let l = w.listen(&["--poll-after", "0.5"]);
    wait_until(
        Duration::from_secs(15),
        "polling to find the job finished",
        || env.run(&["show", &id.to_string(), "--json"]).json()["state"] == "completed",
    );
    assert!(
        l.stderr()
            .contains("its callback did not come; polling found it finished"),
        "{}",
        l.stderr()
    );
    // The callback arrives after all: nothing changes.
    let before = env.run(&["results", uid, "--json"]).expect(0).stdout;
    let a = w.call_back(&l, &download, "fail");
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["result"], "duplicate");
    assert_eq!(
        env.run(&["results", uid, "--json"]).expect(0).stdout,
        before
    );
    let inbox = env.run(&["inbox", "--json"]).expect(0).json();
    let processed = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "processed")
        .count();
    assert_eq!(processed, 1, "processed once: {inbox}");
    drop(l);
    // And `kbridge wait` has nothing left to do.
    env.run(&["wait", &id.to_string()]).expect(0);
}

#[test]
fn polling_is_gentle_and_honours_retry_after() {
    let w = World::new();
    let (id, uid) = w.boot();
    let mut env = Env::new(&w.tux);
    env.vars = w.env.vars.clone();
    env.set("KBRIDGE_POLL_INTERVAL", "0.5");
    env.run(&["wait", &id.to_string(), "--timeout", "2.2s"])
        .expect(124);
    let polls = w.tux.polls(&uid);
    assert!(
        (2..=5).contains(&polls),
        "at most one poll per interval: {polls}"
    );

    let (id, uid) = w.boot();
    w.tux.script([Reply::Status(
        429,
        json!({"error": "slow down"}),
        vec![("Retry-After", "2".into())],
    )]);
    env.run(&["wait", &id.to_string(), "--timeout", "1.8s"])
        .expect(124);
    assert_eq!(w.tux.polls(&uid), 1, "Retry-After: 2 is honoured");
}

#[test]
fn a_runner_slow_to_answer_does_not_hold_up_the_timeout() {
    let w = World::new();
    let (id, _) = w.boot();
    // The poll hangs far longer than the timeout (and the HTTP timeout).
    w.tux.script([Reply::Hang(Duration::from_secs(30))]);
    let started = Instant::now();
    let out = w
        .env
        .run(&["wait", &id.to_string(), "--timeout", "1s"])
        .expect(124);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "wait returned after {:?}",
        started.elapsed()
    );
    assert!(out.stdout.contains("the timeout expired"), "{}", out.stdout);
    assert_eq!(w.job(id)["state"], "submitted", "nothing changed");
}

#[test]
fn ctrl_c_stops_waiting_and_a_second_wait_carries_on() {
    let w = World::new();
    let (id, uid) = w.boot();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kbridge"))
        .args(["wait", &id.to_string()])
        .env_clear()
        .envs(&w.env.vars)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(10), "a poll", || w.tux.polls(&uid) > 0);
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&out.stdout).contains("interrupted"));
    assert_eq!(w.job(id)["state"], "submitted", "left as it was");
    w.finish(&uid, json!({"boot": "pass"}));
    w.env.run(&["wait"]).expect(0);
}

#[test]
pub(crate) fn schedule_and_wait_in_one_command() {
    let w = World::new();
    let run = std::thread::scope(|s| {
        let h = s.spawn(|| {
            w.env.run(&[
                "schedule",
                "test",
                "--kernel",
                KERNEL,
                "--tests",
                "ltp-smoke",
                "--build-id",
                BUILD,
                "--wait",
                "--json",
            ])
        });
        let mut uid = String::new();
        wait_until(Duration::from_secs(10), "the job's record", || {
            let jobs = w.env.run(&["jobs", "--json"]);
            match jobs.code {
                0 => {
                    uid = jobs.json()[0]["uid"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    !uid.is_empty()
                }
                _ => false,
            }
        });
        let download = w.art.test_job(&uid, "{}", "boot ok\n");
        w.tux.finish_test(
            &uid,
            &download,
            json!({"boot": "pass", "ltp-smoke": "pass"}),
        );
        h.join().unwrap()
    });
    let run = run.expect(0);
    assert_eq!(run.json()["jobs"][0]["result"], "pass");
    assert!(run.stderr.contains("scheduled test"), "{}", run.stderr);
}

#[test]
fn a_test_after_a_finished_build_runs_on_its_kernel() {
    let w = World::new();
    let (build, build_uid) = w.schedule(&build_args(&[]));
    let download = format!("{}/builds/{build_uid}/", w.art.url());
    w.tux.finish_build(&build_uid, &download, true);
    w.env.run(&["wait", &build.to_string()]).expect(0);
    let (test, _) = w.schedule(&[
        "schedule",
        "test",
        "--after",
        &build.to_string(),
        "--tests",
        "ltp-smoke",
    ]);
    let body = w.tux.submissions().last().unwrap().json();
    assert_eq!(body["kernel"], format!("{download}Image"));
    assert_eq!(body["modules"], format!("{download}modules.tar.xz"));
    assert!(body.get("waiting_for").is_none());
    let job = w.job(test);
    assert_eq!(job["build_id"], format!("kbridge:{build_uid}"));
    assert_eq!(job["after_job"], build);
}

#[test]
fn a_test_after_a_running_build_waits_for_it_on_tuxsuite() {
    let w = World::new();
    let (build, build_uid) = w.schedule(&build_args(&[]));
    let (test, test_uid) = w.schedule(&["schedule", "boot", "--after", &build_uid]);
    let body = w.tux.submissions().last().unwrap().json();
    assert_eq!(body["waiting_for"], format!("BUILD#{build_uid}"));
    assert!(body["kernel"].is_null(), "{body}");
    assert_eq!(w.tux.job(&test_uid)["state"], "waiting");
    // The build passes; the test then runs and finishes.
    w.tux.finish_build(
        &build_uid,
        &format!("{}/builds/{build_uid}/", w.art.url()),
        true,
    );
    w.finish(&test_uid, json!({"boot": "pass"}));
    let run = w
        .env
        .run(&["wait", &build.to_string(), &test.to_string(), "--json"])
        .expect(0);
    assert_eq!(run.json()["exit_status"], 0);
    let doc = w
        .env
        .run(&["results", &test_uid, "--json"])
        .expect(0)
        .json();
    assert_eq!(doc["tests"][0]["build_id"], format!("kbridge:{build_uid}"));
}

#[test]
fn a_test_after_a_failed_build_is_a_miss_with_the_reason_not_a_hang() {
    let w = World::new();
    let (build, build_uid) = w.schedule(&build_args(&[]));
    let (test, test_uid) = w.schedule(&[
        "schedule",
        "test",
        "--after",
        &build.to_string(),
        "--tests",
        "ltp-smoke",
    ]);
    w.tux.finish_build(
        &build_uid,
        &format!("{}/builds/{build_uid}/", w.art.url()),
        false,
    );
    let run = w.env.run(&["wait", "--json"]).expect(1);
    let jobs = run.json()["jobs"].as_array().unwrap().clone();
    let t = jobs.iter().find(|j| j["id"] == test).unwrap();
    assert_eq!(t["result"], "infra");
    assert!(
        t["reason"].as_str().unwrap().contains("it never ran"),
        "{t}"
    );
    let doc = w
        .env
        .run(&["results", &test_uid, "--json"])
        .expect(3)
        .json();
    assert!(doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "MISS"));
    // Scheduling after a build that failed is refused at once.
    let run = w
        .env
        .run(&["schedule", "boot", "--after", &build.to_string()])
        .expect(2);
    assert!(
        run.error_line()
            .contains("did not succeed (FAIL): there is no kernel to test"),
        "{}",
        run.stderr
    );
    let run = w.env.run(&["schedule", "boot", "--after", "42"]).expect(2);
    assert!(
        run.error_line().contains("unknown build '42'"),
        "{}",
        run.stderr
    );
    let run = w
        .env
        .run(&["schedule", "boot", "--after", "1", "--kernel", KERNEL])
        .expect(2);
    assert!(
        run.error_line().contains("cannot be used with"),
        "{}",
        run.stderr
    );
}

#[test]
fn exit_status_1_means_a_fail_and_nothing_else() {
    let w = World::new();
    let boot = [
        "schedule",
        "boot",
        "--kernel",
        KERNEL,
        "--build-id",
        BUILD,
        "--force",
        "--wait",
    ];
    // The runner cannot be reached: an infrastructure problem, skipped by
    // git bisect run.
    let mut down = Env::new(&w.tux);
    down.vars = w.env.vars.clone();
    down.set("TUXAPI_URL", "http://127.0.0.1:9");
    let run = down.run(&boot).expect(3);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    let mut bisect = boot.to_vec();
    bisect.push("--bisect");
    down.run(&bisect).expect(125);
    // The runner refuses the token: the setup is wrong, 2.
    w.tux.script([Reply::Status(
        403,
        json!({"error": "invalid token"}),
        vec![],
    )]);
    let run = w.env.run(&bisect).expect(2);
    assert!(
        run.error_line().contains("refused the token"),
        "{}",
        run.stderr
    );

    // A JUnit file that could not be written is said before waiting.
    for args in [vec!["wait", "--junit", "/nonexistent/dir/junit.xml"], {
        let mut b = boot.to_vec();
        b.extend(["--junit", "/nonexistent/dir/junit.xml"]);
        b
    }] {
        let run = w.env.run(&args).expect(2);
        assert!(
            run.error_line().contains(
                "--junit /nonexistent/dir/junit.xml: the directory /nonexistent/dir does not exist"
            ),
            "{}",
            run.stderr
        );
    }
    let dir = w.env.path("junit-dir");
    std::fs::create_dir(&dir).unwrap();
    let run = w
        .env
        .run(&["wait", "--junit", dir.to_str().unwrap()])
        .expect(2);
    assert!(
        run.error_line().contains("is a directory"),
        "{}",
        run.stderr
    );

    // Durations out of range are usage errors that give the range, in
    // every command that takes one.
    for cmd in [
        vec!["wait"],
        vec!["listen", "--exit-when-done"],
        boot.to_vec(),
    ] {
        for (value, want) in [
            ("99999999999999999999", "at most 366d"),
            ("0", "must be more than zero"),
            ("-5", "durations are positive"),
        ] {
            let mut args = cmd.clone();
            args.extend(["--timeout", value]);
            let run = w.env.run(&args).expect(2);
            assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
        }
    }
}

#[test]
fn no_such_job_is_the_same_status_everywhere() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    // Nothing recorded yet.
    for cmd in [
        vec!["wait", "7"],
        vec!["wait"],
        vec!["show", "7"],
        vec!["results", "7"],
        vec!["cancel", "7"],
        vec!["logs", "7"],
        vec!["artefacts", "7"],
    ] {
        let run = env.run(&cmd).expect(2);
        assert!(
            run.error_line().contains("no database at"),
            "{cmd:?}: {}",
            run.stderr
        );
    }
    env.run(&["schedule", "boot", "--kernel", KERNEL, "--build-id", BUILD])
        .expect(0);
    for cmd in [
        vec!["wait", "7"],
        vec!["show", "7"],
        vec!["results", "7"],
        vec!["cancel", "7"],
        vec!["logs", "7"],
        vec!["artefacts", "7"],
    ] {
        let run = env.run(&cmd).expect(2);
        assert!(
            run.error_line().contains("no job '7'"),
            "{cmd:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn callbacks_the_listener_refuses_are_said_and_their_jobs_polled() {
    let w = Listening::new();
    // The listener was given another key than the one TuxSuite signs with.
    let wrong = Keys::new();
    let key = w.env.path("wrong.pub");
    wrong.write(&key);
    let l = w
        .env
        .listen(&["--tuxsuite-public-key", key.to_str().unwrap()]);
    let download = w.art.test_job(&w.uid, "{}", "login:\n");
    let refused = w.call_back(&l, &download, "pass");
    assert_eq!(refused.status, 401, "{}", refused.body);
    let said = "the listener refused 1 callback(s) from tuxsuite in the last hour: signature does not match any configured key; check --tuxsuite-public-key";
    wait_until(
        Duration::from_secs(15),
        "the refusal to be recorded",
        || w.env.run(&["jobs"]).stderr.contains(said),
    );
    let doctor = w.env.run(&["doctor"]);
    assert!(
        doctor
            .stdout
            .contains(&format!("✗ tuxsuite callbacks: {said}")),
        "{}",
        doctor.stdout
    );
    // `wait` says so, and does not wait poll_after for a callback that
    // will not land: it polls, and the job TuxSuite finished is found.
    w.tux
        .finish_test(&w.uid, &download, json!({"boot": "pass"}));
    let run = w
        .env
        .run(&["wait", &w.id.to_string(), "--timeout", "60"])
        .expect(0);
    assert!(run.stderr.contains(said), "{}", run.stderr);
    assert!(w.tux.polls(&w.uid) >= 1);
    // Nothing of the request was kept.
    let inbox = w.env.run(&["inbox", "--json"]).expect(0).json();
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] != "rejected"),
        "{inbox}"
    );
    drop(l);
}

#[test]
fn on_a_terminal_notes_go_above_the_job_lines_and_the_bar_stays_true() {
    let w = World::new();
    let tests = [
        "ltp-smoke",
        "ltp-fsx",
        "ltp-math",
        "ltp-dio",
        "ltp-nptl",
        "ltp-cve",
    ];
    let jobs: Vec<(i64, String)> = tests.iter().map(|t| w.test(t)).collect();
    for (_, uid) in &jobs {
        w.finish(uid, json!({"boot": "pass", "ltp-smoke": "fail"}));
    }
    // wait fetches the results itself, and its pipeline says so while the
    // job lines are live.
    let raw = crate::util::on_terminal(&w.env, 120, "", &["wait"]);
    let screen = crate::util::screen(&raw, 120);
    let shown = screen.join("\n");
    let wrote: Vec<&String> = screen.iter().filter(|l| l.contains("; wrote ")).collect();
    assert_eq!(wrote.len(), jobs.len(), "each note once, whole:\n{shown}");
    assert!(
        wrote.iter().all(|l| l.starts_with("kbridge: job ")),
        "{shown}"
    );
    for (_, uid) in &jobs {
        let label = format!("test {uid} qemu-riscv64");
        assert!(
            screen.iter().filter(|l| l.contains(&label)).count() <= 1,
            "no stale copy of the job's line:\n{shown}"
        );
    }
    assert!(shown.contains("FAIL"), "{shown}");

    // Interrupted: the bar never counts a pending job as finished.
    let (pending, _) = w.boot();
    let raw = crate::util::on_terminal(
        &w.env,
        120,
        "timeout -s INT 2",
        &["wait", &pending.to_string()],
    );
    let shown = crate::util::screen(&raw, 120).join("\n");
    assert!(!shown.contains("1/1 finished"), "{shown}");
    assert!(shown.contains("pending"), "{shown}");
}
