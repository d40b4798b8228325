//! `kbridge schedule`, against the TuxSuite stand-in.

use std::time::Duration;

use serde_json::{json, Value};

use crate::util::{build_args, Env, FakeTuxSuite, Reply, GROUP, PROJECT, TOKEN};

const KERNEL: &str = "https://storage.example/builds/2ZITcwA6wxeKxh9cZA5HBJ6FkSj/Image";
const MODULES: &str = "https://storage.example/builds/2ZITcwA6wxeKxh9cZA5HBJ6FkSj/modules.tar.xz";
const BUILD: &str = "maestro:681b69099ae9711e9ed49766";

fn test_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "schedule",
        "test",
        "--kernel",
        KERNEL,
        "--tests",
        "ltp-smoke,ltp-fsx",
        "--build-id",
        BUILD,
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn test_job_is_sent_as_the_protocol_says_and_recorded() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_CALLBACK_URL", "https://ci.example.org/kbridge/");
    let run = env
        .run(&test_args(&[
            "--modules",
            MODULES,
            "--tests",
            "kselftest-net",
        ]))
        .expect(0);

    let subs = tux.submissions();
    assert_eq!(subs.len(), 1);
    let req = &subs[0];
    assert_eq!(
        req.path,
        format!("/v1/groups/{GROUP}/projects/{PROJECT}/tests")
    );
    assert_eq!(
        req.header("Authorization"),
        Some(TOKEN),
        "raw token, no Bearer"
    );
    assert!(req.header("User-Agent").unwrap().starts_with("kbridge/"));
    let body = req.json();
    assert_eq!(body["device"], "qemu-riscv64");
    assert_eq!(body["kernel"], KERNEL);
    assert_eq!(body["modules"], MODULES);
    assert_eq!(
        body["tests"],
        json!(["ltp-smoke", "ltp-fsx", "kselftest-net"])
    );
    assert_eq!(body["is_public"], true);
    assert_eq!(
        body["callback"],
        "https://ci.example.org/kbridge/callback/tuxsuite/test"
    );
    let token = body["callback_headers"]["X-Kbridge-Token"]
        .as_str()
        .unwrap();
    assert!(token.len() >= 32 && token.bytes().all(|b| b.is_ascii_hexdigit()));

    // One human line on stdout.
    let line = run.stdout.trim();
    assert!(line.starts_with("scheduled test 2MBY"), "{line}");
    assert!(
        line.ends_with("on qemu-riscv64: ltp-smoke, ltp-fsx, kselftest-net"),
        "{line}"
    );

    let show = env.run(&["show", "1", "--json"]).expect(0).json();
    assert_eq!(show["state"], "submitted");
    assert_eq!(show["kind"], "test");
    assert_eq!(
        show["collection"],
        Value::Null,
        "each test has its own collection"
    );
    assert_eq!(show["build_id"], BUILD);
    assert_eq!(show["device"], "qemu-riscv64");
    let mut shown_body = body.clone();
    shown_body["callback_headers"]["X-Kbridge-Token"] = json!("<redacted>");
    assert_eq!(
        show["request"], shown_body,
        "the token is redacted from the request too"
    );
    assert_eq!(show["response"]["tests"][0], "boot");
    assert_eq!(
        show["callback_token"], "<redacted>",
        "the token is never printed"
    );
    assert!(!env.run(&["show", "1"]).stdout.contains(token));
    // The stored token is the one sent.
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let stored: String = conn
        .query_row("SELECT callback_token FROM jobs WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, token);
}

#[test]
fn boot_job_sends_no_tests_and_json_prints_the_record() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let run = env
        .run(&[
            "schedule",
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            BUILD,
            "--device",
            "qemu-arm64",
            "--json",
        ])
        .expect(0);
    let job = run.json();
    assert_eq!(job["kind"], "boot");
    assert_eq!(job["state"], "submitted");
    assert_eq!(job["device"], "qemu-arm64");
    assert!(job["uid"].as_str().unwrap().len() == 27);
    let body = tux.submissions()[0].json();
    assert!(body.get("tests").is_none(), "{body}");
    assert!(body.get("callback").is_none());
    assert!(
        run.stderr.contains("`kbridge wait` will poll for results"),
        "{}",
        run.stderr
    );
}

#[test]
fn build_answer_is_one_object_and_its_uid_is_recorded() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let run = env.run(&build_args(&["--json"])).expect(0);
    let job = run.json();
    let body = tux.submissions()[0].json();
    let entry = &body["builds"][0];
    assert_eq!(entry["git_ref"], "for-next");
    assert!(entry.get("git_sha").is_none());
    assert_eq!(entry["target_arch"], "riscv");
    assert_eq!(entry["toolchain"], "gcc-13");
    assert_eq!(entry["kconfig"], json!(["defconfig", "CONFIG_KASAN=y"]));
    assert_eq!(body["patches"], json!({}));
    // TuxSuite answers with a one-element array; its element is stored.
    assert!(job["response"].is_object(), "{}", job["response"]);
    assert_eq!(job["uid"], job["response"]["uid"]);
    assert_eq!(job["kind"], "build");

    // A test can name that build by job id or uid; it becomes origin:uid.
    let uid = job["uid"].as_str().unwrap().to_string();
    let by_job = env
        .run(&[
            "schedule",
            "test",
            "--kernel",
            KERNEL,
            "--tests",
            "ltp-smoke",
            "--build-id",
            "1",
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(by_job["build_id"], format!("kbridge:{uid}"));
    let by_uid = env
        .run(&[
            "schedule",
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            &uid,
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(by_uid["build_id"], format!("kbridge:{uid}"));
}

#[test]
fn build_by_sha_and_private() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    env.run(&[
        "schedule",
        "build",
        "--tree",
        "git://git.kernel.org/linux.git",
        "--sha",
        "5E3F5B81DE80C98338BCB47C233AEBEFEE5A4801",
        "--toolchain",
        "clang-18",
        "--arch",
        "arm64",
        "--fragment",
        "CONFIG_KASAN=y",
        "--private",
        "--target",
        "kernel",
    ])
    .expect(0);
    let entry = tux.submissions()[0].json()["builds"][0].clone();
    assert_eq!(entry["git_sha"], "5e3f5b81de80c98338bcb47c233aebefee5a4801");
    assert_eq!(entry["kconfig"], json!(["CONFIG_KASAN=y"]));
    assert_eq!(entry["is_public"], false);
    assert_eq!(entry["targets"], json!(["kernel"]));
}

#[test]
fn already_scheduled_tests_are_skipped_unless_forced() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    env.run(&test_args(&[])).expect(0);

    // Same build, one old and one new test: only the new one is sent.
    let run = env
        .run(&[
            "schedule",
            "test",
            "--kernel",
            KERNEL,
            "--build-id",
            BUILD,
            "--tests",
            "ltp-fsx",
            "--tests",
            "ltp-mm",
        ])
        .expect(0);
    assert!(run.stderr.contains("skipping ltp-fsx on qemu-riscv64: already scheduled for maestro:681b69099ae9711e9ed49766 as job 1"), "{}", run.stderr);
    assert_eq!(tux.submissions()[1].json()["tests"], json!(["ltp-mm"]));

    // Nothing left: nothing sent, exit 0, `null` for --json.
    let run = env.run(&test_args(&["--json"])).expect(0);
    assert_eq!(run.stdout.trim(), "null");
    assert!(run.stderr.contains("nothing left to schedule"));
    assert_eq!(tux.submissions().len(), 2);
    assert_eq!(env.job_rows(), 2);

    // Another device is another job; --force sends anyway.
    env.run(&test_args(&["--device", "qemu-arm64"])).expect(0);
    env.run(&test_args(&["--force"])).expect(0);
    assert_eq!(tux.submissions().len(), 4);

    // Boot is de-duplicated the same way.
    env.run(&["schedule", "boot", "--kernel", KERNEL, "--build-id", BUILD])
        .expect(0);
    let run = env
        .run(&["schedule", "boot", "--kernel", KERNEL, "--build-id", BUILD])
        .expect(0);
    assert!(
        run.stderr.contains("skipping boot on qemu-riscv64"),
        "{}",
        run.stderr
    );
    assert_eq!(tux.submissions().len(), 5);
}

#[test]
fn failed_submissions_do_not_count_as_scheduled() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    tux.script([Reply::Status(
        400,
        json!({"error": "device not available"}),
        vec![],
    )]);
    let run = env.run(&test_args(&[])).expect(1);
    assert_eq!(
        run.error_line(),
        "error: TuxSuite answered 400: device not available; job 1 is recorded as 'failed'"
    );
    env.run(&test_args(&[])).expect(0);
    assert_eq!(tux.submissions().len(), 2);
}

#[test]
fn dry_run_prints_the_request_and_sends_and_stores_nothing() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_CALLBACK_URL", "https://ci.example.org");
    let run = env.run(&test_args(&["--dry-run"])).expect(0);
    let out = &run.stdout;
    assert!(
        out.starts_with(&format!(
            "POST {}/v1/groups/riscv/projects/kbridge/tests\n",
            tux.url()
        )),
        "{out}"
    );
    assert!(out.contains("Authorization: <redacted>"), "{out}");
    assert!(!out.contains(TOKEN));
    assert!(out.contains("\"X-Kbridge-Token\": \"<redacted>\""), "{out}");
    assert!(out.contains("\"callback\": \"https://ci.example.org/callback/tuxsuite/test\""));
    assert!(tux.submissions().is_empty());
    assert!(!env.db().exists(), "a dry run creates no database");

    let run = env.run(&build_args(&["--dry-run", "--json"])).expect(0);
    let req = run.json();
    assert_eq!(req["method"], "POST");
    assert_eq!(
        req["body"]["builds"][0]["kconfig"],
        json!(["defconfig", "CONFIG_KASAN=y"])
    );
    assert!(tux.submissions().is_empty());
}

#[test]
fn settings_come_from_the_tuxsuite_config_file_and_auth_service() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::bare();
    let ini = env.path("tux.ini");
    std::fs::write(
        &ini,
        format!(
            "[default]\ntoken = wrong\n\n[ci]\ntoken = {TOKEN}\ntuxapi_url = {}/\n",
            tux.url()
        ),
    )
    .unwrap();
    env.set("TUXSUITE_CONFIG", ini.to_str().unwrap())
        .set("TUXSUITE_ENV", "ci")
        .set("TUXAUTH_URL", &tux.url());
    env.run(&test_args(&[])).expect(0);
    let got = tux.received();
    assert_eq!(
        got[0].method, "GET",
        "group and project are asked of the auth service"
    );
    assert!(got[0].path.starts_with("/v1/tokens/"));
    assert_eq!(got[1].path, "/v1/groups/riscv/projects/kbridge/tests");
}

#[test]
fn missing_token_says_where_it_looked() {
    let env = Env::bare();
    let run = env.run(&test_args(&[])).expect(2);
    let line = run.error_line();
    assert!(line.contains("TUXSUITE_TOKEN"), "{line}");
    assert!(
        line.contains("home/.config/tuxsuite/config.ini (file not found)"),
        "{line}"
    );
    assert!(!env.db().exists());
}

#[test]
fn missing_group_and_failed_lookup_names_both_variables() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.unset("TUXSUITE_GROUP")
        .set("TUXAUTH_URL", &tux.url())
        .set("TUXSUITE_TOKEN", "unknown-token");
    let run = env.run(&test_args(&[])).expect(2);
    let line = run.error_line();
    assert!(
        line.contains("TUXSUITE_GROUP and TUXSUITE_PROJECT"),
        "{line}"
    );
    assert!(line.contains("404"), "{line}");
    assert!(
        !line.contains("unknown-token"),
        "the token is never printed: {line}"
    );
    assert!(tux.submissions().is_empty());
}

#[test]
fn usage_errors_come_before_any_request() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            test_args(&["--runner", "nope"]),
            "invalid value 'nope' for '--runner <RUNNER>' [possible values: tuxsuite, lava]",
        ),
        (
            build_args(&["--sha", "5e3f5b81de80"]),
            "cannot be used with",
        ),
        (
            vec![
                "schedule",
                "build",
                "--tree",
                "https://git.example/l.git",
                "--branch",
                "master",
                "--toolchain",
                "gcc-13",
            ],
            "--kconfig",
        ),
        (
            vec![
                "schedule",
                "test",
                "--kernel",
                "/tmp/Image",
                "--tests",
                "ltp-smoke",
                "--build-id",
                BUILD,
            ],
            "not an absolute URL starting with https:// or http://",
        ),
        (
            vec![
                "schedule",
                "test",
                "--kernel",
                KERNEL,
                "--modules",
                "ftp://x/m.tar.xz",
                "--tests",
                "ltp-smoke",
                "--build-id",
                BUILD,
            ],
            "--modules",
        ),
        (
            vec![
                "schedule",
                "build",
                "--tree",
                "ssh://git.example/l.git",
                "--branch",
                "m",
                "--toolchain",
                "gcc-13",
                "--kconfig",
                "defconfig",
            ],
            "not an absolute URL starting with https://, http:// or git://",
        ),
        (
            vec![
                "schedule",
                "test",
                "--kernel",
                KERNEL,
                "--tests",
                "",
                "--build-id",
                BUILD,
            ],
            "must not be empty",
        ),
        (
            vec![
                "schedule",
                "test",
                "--kernel",
                KERNEL,
                "--tests",
                "boot",
                "--build-id",
                BUILD,
            ],
            "--tests names no test (boot always runs)",
        ),
        (
            vec![
                "schedule",
                "test",
                "--kernel",
                KERNEL,
                "--tests",
                "ltp-smoke",
                "--build-id",
                "2ZITcwA6wxeKxh9cZA5HBJ6FkSj",
            ],
            "unknown build '2ZITcwA6wxeKxh9cZA5HBJ6FkSj'",
        ),
    ];
    for (args, expected) in cases {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}\n{}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "{args:?}: expected {expected:?} in\n{}",
            run.stderr
        );
    }
    assert!(tux.received().is_empty(), "no request was sent");
    assert_eq!(env.job_rows(), 0);

    // The runner can come from the environment or the file too.
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_RUNNER", "nope");
    let run = env.run(&test_args(&[])).expect(2);
    assert!(
        run.error_line().contains(
            "unknown runner 'nope' (from env KBRIDGE_RUNNER); available runners: tuxsuite"
        ),
        "{}",
        run.stderr
    );
    assert!(tux.received().is_empty(), "no request was sent");
}

#[test]
fn refused_token_says_so() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("TUXSUITE_TOKEN", "bad-token");
    let run = env.run(&test_args(&[])).expect(1);
    assert_eq!(
        run.error_line(),
        "error: TuxSuite refused the token (403): invalid token; check the token from TUXSUITE_TOKEN; job 1 is recorded as 'failed'"
    );
    let job = env.run(&["show", "1", "--json"]).expect(0).json();
    assert_eq!(job["state"], "failed");
    assert_eq!(job["response"]["error"], "invalid token");
}

#[test]
fn status_message_is_shown_when_there_is_no_error_field() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    tux.script([Reply::Status(
        400,
        json!({"status_message": "kconfig is invalid"}),
        vec![],
    )]);
    let run = env.run(&build_args(&[])).expect(1);
    assert!(
        run.error_line()
            .contains("TuxSuite answered 400: kconfig is invalid"),
        "{}",
        run.stderr
    );
}

#[test]
fn retry_after_is_honoured_for_tests() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    tux.script([
        Reply::Status(
            429,
            json!({"error": "slow down"}),
            vec![("Retry-After", "0".into())],
        ),
        Reply::Status(
            503,
            json!({"error": "maintenance"}),
            vec![("Retry-After", "1".into())],
        ),
    ]);
    let run = env.run(&test_args(&["--json"])).expect(0);
    assert_eq!(tux.submissions().len(), 3);
    assert!(
        run.stderr.contains("retrying in 0s (try 2 of 3)"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["state"], "submitted");
}

#[test]
fn test_post_is_not_retried_after_a_server_error() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    tux.script([Reply::Status(500, json!({"error": "internal"}), vec![])]);
    let run = env.run(&test_args(&[])).expect(1);
    assert!(
        run.error_line().contains("the job may have been created"),
        "{}",
        run.stderr
    );
    assert_eq!(
        tux.submissions().len(),
        1,
        "a test POST is never blindly retried"
    );
    let job = env.run(&["show", "1", "--json"]).expect(0).json();
    assert_eq!(job["state"], "unknown");
    // An unknown job may exist on TuxSuite, so it still counts as scheduled.
    let run = env.run(&test_args(&[])).expect(0);
    assert!(run.stderr.contains("nothing left to schedule"));
}

#[test]
fn service_down_is_reported_without_retrying() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    tux.script([Reply::Status(503, json!({"error": "down"}), vec![])]);
    let run = env.run(&build_args(&[])).expect(1);
    assert!(
        run.error_line().contains("the service is down"),
        "{}",
        run.stderr
    );
    assert_eq!(tux.submissions().len(), 1);
    assert_eq!(env.run(&["show", "1", "--json"]).json()["state"], "failed");
}

#[test]
fn build_post_is_retried_with_the_same_client_token() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    tux.script([
        Reply::Status(500, json!({"error": "internal"}), vec![]),
        Reply::Status(502, json!({}), vec![]),
    ]);
    let job = env.run(&build_args(&["--json"])).expect(0).json();
    let subs = tux.submissions();
    assert_eq!(subs.len(), 3);
    let tokens: Vec<_> = subs
        .iter()
        .map(|s| s.json()["builds"][0]["client_token"].clone())
        .collect();
    assert!(tokens.iter().all(|t| t == &tokens[0]), "{tokens:?}");
    assert_eq!(job["state"], "submitted");
}

#[test]
fn build_gives_up_after_three_tries_and_says_it_may_exist() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    tux.script(std::iter::repeat_n(
        Reply::Status(504, json!({}), vec![]),
        3,
    ));
    let run = env.run(&build_args(&[])).expect(1);
    assert!(run.error_line().contains("tried 3 times"), "{}", run.stderr);
    assert_eq!(tux.submissions().len(), 3);
    assert_eq!(env.run(&["show", "1", "--json"]).json()["state"], "unknown");
}

#[test]
fn connection_refused_is_retried_then_reported() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("TUXAPI_URL", &format!("http://127.0.0.1:{port}"));
    let run = env.run(&test_args(&[])).expect(1);
    let line = run.error_line();
    assert!(line.contains("connection refused"), "{line}");
    assert!(line.contains("tried 3 times"), "{line}");
    assert!(line.ends_with("job 1 is recorded as 'failed'"), "{line}");
}

#[test]
fn timeout_on_a_test_is_not_retried_and_leaves_the_job_unknown() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_HTTP_TIMEOUT", "0.5");
    tux.script([Reply::Hang(Duration::from_millis(1500))]);
    let run = env.run(&test_args(&[])).expect(1);
    let line = run.error_line();
    assert!(line.contains("no answer within 0.5s"), "{line}");
    assert!(line.contains("may have reached TuxSuite"), "{line}");
    assert!(line.ends_with("job 1 is recorded as 'unknown'"), "{line}");
    assert_eq!(tux.submissions().len(), 1);
}

#[test]
fn timeout_on_a_build_is_retried() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_HTTP_TIMEOUT", "0.5");
    tux.script([Reply::Hang(Duration::from_millis(1500))]);
    let job = env.run(&build_args(&["--json"])).expect(0).json();
    assert_eq!(job["state"], "submitted");
    let subs = tux.submissions();
    assert_eq!(subs.len(), 2);
    assert_eq!(
        subs[0].json()["builds"][0]["client_token"],
        subs[1].json()["builds"][0]["client_token"]
    );
}

#[test]
fn warnings_from_tuxsuite_are_shown_once() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    tux.warn("this API version is deprecated");
    // A retried request sees the warning twice; it is shown once.
    tux.script([Reply::Status(
        429,
        json!({"error": "slow down"}),
        vec![("Retry-After", "0".into())],
    )]);
    let run = env.run(&test_args(&["--quiet"])).expect(0);
    assert_eq!(
        run.stderr
            .matches("warning: TuxSuite: this API version is deprecated")
            .count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn locked_database_fails_cleanly_before_sending() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    env.run(&test_args(&[])).expect(0);
    let mut conn = rusqlite::Connection::open(env.db()).unwrap();
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
        .unwrap();
    let run = env.run(&test_args(&["--tests", "ltp-mm"]));
    drop(tx);
    let run = run.expect(1);
    assert!(
        run.error_line().contains("is locked by another process"),
        "{}",
        run.stderr
    );
    assert_eq!(tux.submissions().len(), 1, "nothing was sent");
    assert_eq!(env.job_rows(), 1, "nothing half-written");
}

#[test]
fn unusable_database_paths_fail_cleanly() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    std::fs::write(env.path("plainfile"), "x").unwrap();
    std::fs::write(env.path("garbage.db"), "this is not sqlite, and it is long enough to have a header............................................................................................").unwrap();
    std::fs::create_dir(env.path("adir")).unwrap();
    for (db, expected) in [
        ("plainfile/sub/k.db", "cannot create directory"),
        ("adir", "cannot open database"),
        ("garbage.db", "is not a kbridge database"),
    ] {
        let path = env.path(db);
        let run = env.run(&test_args(&["--db", path.to_str().unwrap()]));
        let run = run.expect(2);
        assert!(run.error_line().contains(expected), "{db}: {}", run.stderr);
    }
    assert!(tux.submissions().is_empty());
    assert!(std::fs::read_to_string(env.path("garbage.db"))
        .unwrap()
        .starts_with("this is not sqlite"));
}

#[test]
fn parallel_schedules_share_a_new_database() {
    // CI jobs often schedule several tests at once on a fresh machine: the
    // first processes create the file and its schema concurrently.
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let env = &env;
                s.spawn(move || {
                    let test = format!("ltp-t{i}");
                    env.run(&test_args(&["--tests", &test]))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in runs {
        run.expect(0);
    }
    assert_eq!(env.job_rows(), 8);
}

#[test]
fn an_api_url_without_a_scheme_is_a_configuration_error_before_anything_is_recorded() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let bare = tux.url().trim_start_matches("http://").to_string();
    env.set("TUXAPI_URL", &bare);
    let run = env.run(&test_args(&[])).expect(2);
    let line = run.error_line();
    assert!(
        line.contains(&format!(
            "the TuxSuite API URL '{bare}' from env TUXAPI_URL"
        )),
        "{line}"
    );
    assert!(line.contains("https://host[:port]"), "{line}");
    assert_eq!(env.job_rows(), 0, "nothing was recorded");
    // With the URL fixed, the same test is scheduled: nothing stale stands
    // in its way.
    env.set("TUXAPI_URL", &tux.url());
    env.run(&test_args(&[])).expect(0);
    assert_eq!(tux.submissions().len(), 1);
}

#[test]
fn an_unreachable_auth_service_is_an_operation_failure() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.unset("TUXSUITE_PROJECT")
        .set("TUXAUTH_URL", &format!("http://127.0.0.1:{port}"));
    let run = env.run(&test_args(&[])).expect(1);
    let line = run.error_line();
    assert!(
        line.contains("the auth service could not be reached"),
        "{line}"
    );
    assert!(
        line.contains("TUXSUITE_GROUP and TUXSUITE_PROJECT"),
        "{line}"
    );
    assert_eq!(env.job_rows(), 0);
}

#[test]
fn two_schedules_of_the_same_test_at_once_send_it_once() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    env.run(&["schedule", "boot", "--kernel", KERNEL, "--build-id", BUILD])
        .expect(0);
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let env = &env;
                s.spawn(move || env.run(&test_args(&[])))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &runs {
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let sent: Vec<_> = tux
        .submissions()
        .iter()
        .filter(|r| r.json()["tests"] == json!(["ltp-smoke", "ltp-fsx"]))
        .cloned()
        .collect();
    assert_eq!(
        sent.len(),
        1,
        "the duplicate check and the record are one transaction"
    );
    let skipped = runs
        .iter()
        .filter(|r| r.stderr.contains("skipping ltp-smoke"))
        .count();
    assert_eq!(skipped, 9);
}
