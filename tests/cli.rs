//! The command line itself: help, version, settings, and the generated
//! completions and man pages.

use crate::util::Env;

#[test]
fn help_and_version() {
    let env = Env::bare();
    let help = env.run(&["--help"]).expect(0).stdout;
    assert!(help.contains("Exit status:"), "{help}");
    for cmd in ["schedule", "jobs", "show", "config"] {
        assert!(help.contains(cmd), "{cmd} missing from help");
    }
    assert!(!help.contains("generate"), "generate is hidden");
    let version = env.run(&["--version"]).expect(0).stdout;
    assert_eq!(
        version.trim(),
        format!("kbridge {}", env!("CARGO_PKG_VERSION"))
    );
    env.run(&["frobnicate"]).expect(2);
}

#[test]
fn config_shows_values_and_sources() {
    let mut env = Env::bare();
    let file = env.path("k.toml");
    std::fs::write(
        &file,
        "origin = \"riscv_lab\"\ncallback_url = \"https://ci.example\"\n",
    )
    .unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap())
        .set("KBRIDGE_CALLBACK_URL", "https://env.example/");
    let cfg = env
        .run(&["config", "--json", "--db", "/tmp/x.db"])
        .expect(0)
        .json();
    assert_eq!(cfg["database"]["value"], "/tmp/x.db");
    assert_eq!(cfg["database"]["source"], "flag --db");
    assert_eq!(cfg["callback_url"]["value"], "https://env.example");
    assert_eq!(cfg["callback_url"]["source"], "env KBRIDGE_CALLBACK_URL");
    assert_eq!(cfg["origin"]["value"], "riscv_lab");
    assert!(cfg["origin"]["source"]
        .as_str()
        .unwrap()
        .starts_with("file "));
    assert_eq!(cfg["retry_delay"]["source"], "env KBRIDGE_RETRY_DELAY");
    assert_eq!(cfg["http_timeout"]["source"], "default");
}

#[test]
fn bad_config_is_a_one_line_usage_error() {
    let mut env = Env::bare();
    let file = env.path("k.toml");
    std::fs::write(&file, "origin = \"Not-Valid\"\n").unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    let run = env.run(&["jobs"]).expect(2);
    assert!(
        run.error_line().contains("not a KCIDB origin"),
        "{}",
        run.stderr
    );

    env.set("KBRIDGE_CONFIG", env.path("missing.toml").to_str().unwrap());
    let run = env.run(&["jobs"]).expect(2);
    assert!(
        run.error_line().contains("cannot read config file"),
        "{}",
        run.stderr
    );
    assert!(
        run.error_line().contains("KBRIDGE_CONFIG"),
        "{}",
        run.stderr
    );

    std::fs::write(&file, "callback_url = \"ftp://x\"\n").unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    let run = env.run(&["jobs"]).expect(2);
    assert!(
        run.error_line().contains("callback_url from file"),
        "{}",
        run.stderr
    );
}

#[test]
fn did_you_mean_suggestions_survive_the_one_line_error() {
    let env = Env::bare();
    let run = env
        .run(&["schedule", "test", "--test", "ltp-smoke"])
        .expect(2);
    let line = run.error_line();
    assert!(line.contains("unexpected argument '--test'"), "{line}");
    assert!(
        line.contains("a similar argument exists: '--tests'"),
        "{line}"
    );
}

#[test]
fn read_only_commands_never_create_a_database() {
    let env = Env::bare();
    for args in [
        vec!["jobs"],
        vec!["show", "1"],
        vec!["results", "1"],
        vec!["inbox"],
        vec!["inbox", "replay", "1"],
    ] {
        // Nothing recorded here is a usage error, as a job that does not
        // exist is, in every command.
        let run = env.run(&args).expect(2);
        let line = run.error_line();
        assert!(
            line.contains(&format!("no database at {}", env.db().display())),
            "{args:?}: {line}"
        );
    }
    assert!(
        !env.db().parent().unwrap().exists(),
        "not even its directory"
    );
    env.run(&["config"]).expect(0);
    assert!(!env.db().parent().unwrap().exists());
}

#[test]
fn a_stale_key_path_breaks_only_listen() {
    let tux = crate::util::FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let file = env.path("k.toml");
    std::fs::write(
        &file,
        "[tuxsuite]\npublic_keys = [\"/nonexistent/tuxsuite.pub\"]\n",
    )
    .unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    env.run(&[
        "schedule",
        "boot",
        "--kernel",
        "https://storage.example/Image",
        "--build-id",
        "lab:1",
    ])
    .expect(0);
    env.run(&["jobs"]).expect(0);
    env.run(&["show", "1"]).expect(0);
    let cfg = env.run(&["config", "--json"]).expect(0).json();
    assert_eq!(
        cfg["tuxsuite.public_keys"]["value"],
        "/nonexistent/tuxsuite.pub"
    );
    let run = env.run(&["listen", "--bind", "127.0.0.1:0"]).expect(2);
    assert!(
        run.error_line()
            .contains("cannot read /nonexistent/tuxsuite.pub"),
        "{}",
        run.stderr
    );
}

#[test]
fn config_shows_the_tuxsuite_settings_and_never_the_token() {
    let tux = crate::util::FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.unset("TUXSUITE_PROJECT");
    let run = env.run(&["config", "--json"]).expect(0);
    assert!(!run.stdout.contains(crate::util::TOKEN), "{}", run.stdout);
    let cfg = run.json();
    assert_eq!(cfg["tuxsuite.api_url"]["value"], tux.url());
    assert_eq!(cfg["tuxsuite.api_url"]["source"], "env TUXAPI_URL");
    assert_eq!(cfg["tuxsuite.group"]["value"], crate::util::GROUP);
    assert_eq!(cfg["tuxsuite.group"]["source"], "env TUXSUITE_GROUP");
    assert!(cfg["tuxsuite.project"]["source"]
        .as_str()
        .unwrap()
        .contains("asked of the auth service"));
    assert_eq!(cfg["tuxsuite.token"]["value"], "(set)");
    assert_eq!(cfg["tuxsuite.token"]["source"], "env TUXSUITE_TOKEN");
    assert!(
        tux.received().is_empty(),
        "config asks nothing of the network"
    );
    let text = env.run(&["config"]).expect(0).stdout;
    assert!(text.contains("tuxsuite.token"), "{text}");
    assert!(!text.contains(crate::util::TOKEN));
}

#[test]
fn corrupt_stored_rows_are_reported_not_shown_as_empty() {
    let tux = crate::util::FakeTuxSuite::start();
    let env = Env::new(&tux);
    env.run(&[
        "schedule",
        "boot",
        "--kernel",
        "https://storage.example/Image",
        "--build-id",
        "lab:1",
    ])
    .expect(0);
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    conn.execute(
        "INSERT INTO inbox (received_at, runner, kind, status, headers, updated_at)
         VALUES (1767225600000, 'tuxsuite', 'test', 'rejected', '{not json', 1767225600000)",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO documents (job_id, document, created_at) VALUES (1, '{\"truncated', 1767225600000)",
        [],
    )
    .unwrap();
    let run = env.run(&["inbox"]).expect(1);
    assert!(
        run.error_line()
            .contains("stored callback 1 is unreadable: headers"),
        "{}",
        run.stderr
    );
    // results' 1 is a FAIL: a store it cannot read is an operational
    // problem, 3.
    let run = env.run(&["results", "1"]).expect(3);
    assert!(
        run.error_line()
            .contains("stored document of job 1 is unreadable"),
        "{}",
        run.stderr
    );
}

#[test]
fn tuxsuite_client_habits_lead_to_the_right_flag() {
    let tux = crate::util::FakeTuxSuite::start();
    let env = Env::new(&tux);
    // The client's spellings of the same thing are taken as they are.
    let run = env
        .run(&[
            "schedule",
            "build",
            "--git-repo",
            "https://git.example/l.git",
            "--git-ref",
            "master",
            "--target-arch",
            "arm64",
            "--toolchain",
            "gcc-13",
            "--kconfig",
            "defconfig",
            "--json",
        ])
        .expect(0);
    let sent = &tux.submissions()[0].json()["builds"][0];
    assert_eq!(sent["git_repo"], "https://git.example/l.git");
    assert_eq!(sent["git_ref"], "master");
    assert_eq!(sent["target_arch"], "arm64");
    assert_eq!(run.json()["kind"], "build");
    env.run(&[
        "schedule",
        "build",
        "--git-repo",
        "https://git.example/l.git",
        "--git-sha",
        "5e3f5b81de80c98338bcb47c233aebefee5a4801",
        "--toolchain",
        "gcc-13",
        "--kconfig",
        "defconfig",
    ])
    .expect(0);
    assert_eq!(
        tux.submissions()[1].json()["builds"][0]["git_sha"],
        "5e3f5b81de80c98338bcb47c233aebefee5a4801"
    );
    let test = [
        "schedule",
        "test",
        "--kernel",
        "https://k/Image",
        "--tests",
        "ltp-smoke",
        "--build-id",
        "maestro:1",
    ];
    let mut timeouts = test.to_vec();
    timeouts.extend(["--timeouts", "boot=30"]);
    env.run(&timeouts).expect(0);
    assert_eq!(
        tux.submissions()[2].json()["timeouts"],
        serde_json::json!({"boot": 30})
    );

    // Where the meaning differs, what kbridge does instead.
    for (extra, sub, want) in [
        (vec!["--wait-for", "BUILD#2MBY"], "test", "with --after JOB"),
        (
            vec!["--no-wait"],
            "test",
            "kbridge does not wait unless you pass --wait",
        ),
        (
            vec!["--tests", "ltp-smoke"],
            "boot",
            "`kbridge schedule test --tests …`",
        ),
    ] {
        let mut args = vec![
            "schedule",
            sub,
            "--kernel",
            "https://k/Image",
            "--build-id",
            "maestro:1",
        ];
        if sub == "test" {
            args.extend(["--tests", "ltp-fsx"]);
        }
        args.extend(extra);
        let run = env.run(&args).expect(2);
        assert!(run.error_line().contains(want), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn settings_that_cannot_be_right_are_refused_or_named() {
    let tux = crate::util::FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let test = [
        "schedule",
        "test",
        "--kernel",
        "https://k/Image",
        "--tests",
        "ltp-smoke",
        "--build-id",
        "maestro:1",
        "--dry-run",
    ];
    for (url, want) in [
        (
            "https://ci.example.org/kbridge/callback/tuxsuite/test",
            "already ends in /callback/RUNNER/KIND, which kbridge adds to each job's; give the listener's base URL (https://ci.example.org/kbridge)",
        ),
        (
            "http://0.0.0.0:8080",
            "0.0.0.0 is where `kbridge listen --bind` listens, not an address a runner can reach",
        ),
        ("http://[::]:8080/kb", ":: is where `kbridge listen --bind` listens"),
    ] {
        env.set("KBRIDGE_CALLBACK_URL", url);
        let run = env.run(&test).expect(2);
        assert!(run.error_line().contains(want), "{url}: {}", run.stderr);
    }
    env.unset("KBRIDGE_CALLBACK_URL");

    // KCIDB's URL given with the /submit kbridge adds.
    env.set("KCIDB_REST", "https://tok1234567@db.example.org/submit");
    let run = env.run(&["submit"]).expect(2);
    assert!(
        run.error_line()
            .contains("ends in /submit, which kbridge adds itself: drop /submit and give https://db.example.org"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("tok1234567"));
    env.unset("KCIDB_REST");

    // A fragment that says neither on nor off.
    let run = env
        .run(&[
            "schedule",
            "build",
            "--tree",
            "https://g/l.git",
            "--branch",
            "m",
            "--toolchain",
            "gcc-13",
            "--kconfig",
            "defconfig",
            "--fragment",
            "CONFIG_KASAN",
        ])
        .expect(2);
    assert!(
        run.error_line().contains(
            "CONFIG_KASAN gives no value; write CONFIG_KASAN=y (built in), CONFIG_KASAN=m (a module), CONFIG_KASAN=n (off) or CONFIG_KASAN=VALUE"
        ),
        "{}",
        run.stderr
    );

    // A plan with a slip in it.
    let plan = env.path("plan.yaml");
    for (text, want) in [
        (
            "version: 1\nname: p\njobs:\n- name: smoke\n  tests:\n  - {device: qemu-riscv64, kernel: 'https://k/I', test: [ltp-smoke]}\n",
            "a plan test does not take 'test'; did you mean 'tests'?",
        ),
        (
            "version: 1\nname: p\njobs:\n- name: smoke\n  testz: []\n",
            "a plan job does not take 'testz'; did you mean 'test'?",
        ),
        (
            "version: 1\nname: p\njobs:\n-\tname: smoke\n",
            "line 4 column 2 indents with a tab; YAML indents with spaces only",
        ),
    ] {
        std::fs::write(&plan, text).unwrap();
        let run = env
            .run(&["schedule", "plan", plan.to_str().unwrap(), "--build-id", "maestro:1"])
            .expect(2);
        assert!(run.error_line().contains(want), "{text}: {}", run.stderr);
    }
    std::fs::write(
        &plan,
        "version: 1\nname: p\njobs:\n- name: smoke\n  tests: [{device: qemu-riscv64, kernel: 'https://k/I', tests: [ltp-smoke]}]\n- name: full\n  tests: [{device: qemu-riscv64, kernel: 'https://k/I', tests: [ltp-fsx]}]\n",
    )
    .unwrap();
    let run = env
        .run(&[
            "schedule",
            "plan",
            plan.to_str().unwrap(),
            "--build-id",
            "maestro:1",
            "--job",
            "smok",
        ])
        .expect(2);
    assert!(
        run.error_line().contains(
            "no job of the plan is named smok; did you mean 'smoke'? its jobs are smoke, full"
        ),
        "{}",
        run.stderr
    );
    assert!(tux.submissions().is_empty());
}

/// A server that answers whatever it is sent, a TLS handshake included,
/// with a plain HTTP 400, as most HTTP servers do.
fn plain_http_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad request",
            );
        }
    });
    format!("https://{addr}")
}

#[test]
fn https_to_a_plain_http_server_is_said_once() {
    let tux = crate::util::FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let plain = plain_http_server();
    env.set("TUXAPI_URL", &plain);
    let run = env
        .run(&[
            "schedule",
            "build",
            "--tree",
            "https://g/l.git",
            "--branch",
            "m",
            "--toolchain",
            "gcc-13",
            "--kconfig",
            "defconfig",
        ])
        .expect(1);
    assert!(
        run.error_line()
            .contains("the server speaks plain HTTP, not https: give its http:// URL"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("retrying"),
        "said once: {}",
        run.stderr
    );
    env.set(
        "KCIDB_REST",
        &plain.replace(
            "https://",
            &format!("https://{}@", crate::util::KCIDB_TOKEN),
        ),
    );
    std::fs::write(
        env.path("doc.json"),
        r#"{"version": {"major": 5, "minor": 3}}"#,
    )
    .unwrap();
    let doc = env.path("doc.json");
    let run = env.run(&["submit", "--file", doc.to_str().unwrap()]);
    assert!(
        run.stderr.contains("the server speaks plain HTTP"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("retrying"),
        "said once: {}",
        run.stderr
    );
}

#[test]
fn a_kcidb_token_for_another_origin_is_named() {
    use base64::Engine;
    let tux = crate::util::FakeTuxSuite::start();
    let kcidb = crate::util::FakeKcidb::start();
    let mut env = Env::new(&tux);
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(br#"{"origin": "theirlab", "sub": "ci"}"#);
    let jwt = format!("eyJhbGciOiJIUzI1NiJ9.{claims}.c2lnbmF0dXJl");
    env.set("KBRIDGE_KCIDB_URL", &kcidb.url())
        .set("KBRIDGE_KCIDB_TOKEN", &jwt)
        .set("KBRIDGE_ORIGIN", "mylab");
    let doctor = env.run(&["doctor"]);
    assert!(
        doctor.stdout.contains(
            "was issued for origin 'theirlab', but kbridge reports as origin 'mylab': set origin = \"theirlab\""
        ),
        "{}",
        doctor.stdout
    );
    let run = env.run(&["submit"]);
    assert!(
        run.stderr.contains("warning: the KCIDB token"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_example_plan_is_one_kbridge_takes() {
    let env = Env::bare();
    let plan = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plan.yaml");
    let run = env
        .run(&["schedule", "plan", plan.to_str().unwrap(), "--dry-run"])
        .expect(0);
    assert!(
        run.stdout
            .starts_with("plan riscv-for-next (10 jobs), nothing sent:"),
        "{}",
        run.stdout
    );
}

#[test]
fn listen_without_a_runner_names_only_what_the_user_could_mean() {
    let tux = crate::util::FakeTuxSuite::start();
    let env = Env::new(&tux);
    // A TuxSuite user who forgot the key is not told about LAVA labs.
    let run = env.run(&["listen", "--bind", "127.0.0.1:0"]).expect(2);
    let line = run.error_line();
    assert!(line.contains("--tuxsuite-public-key"), "{line}");
    assert!(!line.contains("LAVA"), "{line}");
}
