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
         VALUES ('2026-01-01T00:00:00Z', 'tuxsuite', 'test', 'rejected', '{not json', '2026-01-01T00:00:00Z')",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO documents (job_id, document, created_at) VALUES (1, '{\"truncated', '2026-01-01T00:00:00Z')",
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
