//! `kbridge doctor` against the TuxSuite and KCIDB stand-ins.

use serde_json::Value;

use crate::util::{Env, FakeKcidb, FakeTuxSuite, Keys, KCIDB_TOKEN};

/// A complete setup: TuxSuite's key, a public callback URL, KCIDB.
fn setup(tux: &FakeTuxSuite, kcidb: &FakeKcidb, keys: &Keys) -> Env {
    let mut env = Env::new(tux);
    keys.write(&env.path("tuxsuite.pub"));
    std::fs::write(env.path("kcidb.token"), KCIDB_TOKEN).unwrap();
    std::fs::write(
        env.path("kbridge.toml"),
        format!(
            "origin = \"myci\"\ncallback_url = \"https://ci.example.org/kbridge\"\n\
             [tuxsuite]\npublic_keys = [\"{}\"]\n\
             [kcidb]\nurl = \"{}\"\ntoken_file = \"{}\"\n",
            env.path("tuxsuite.pub").display(),
            kcidb.url(),
            env.path("kcidb.token").display()
        ),
    )
    .unwrap();
    let config = env.path("kbridge.toml");
    env.set("KBRIDGE_CONFIG", config.to_str().unwrap());
    env
}

#[test]
fn everything_in_order_is_one_tick_per_line_and_exit_0() {
    let tux = FakeTuxSuite::start();
    let kcidb = FakeKcidb::start();
    let keys = Keys::new();
    tux.publish_key(&keys.line);
    let env = setup(&tux, &kcidb, &keys);
    let run = env.run(&["doctor"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    for what in [
        "✓ configuration",
        "✓ database",
        "✓ output directory",
        "✓ origin",
        "✓ callback URL",
        "✓ tuxsuite account",
        "✓ tuxsuite token: accepted",
        "✓ tuxsuite public key",
        "✓ kcidb",
    ] {
        assert!(run.stdout.contains(what), "{what}:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains(crate::util::TOKEN));
    let report: Value = env.run(&["doctor", "--json"]).expect(0).json();
    assert_eq!(report["ok"], true);
    assert!(report["checks"].as_array().unwrap().len() >= 9);
}

#[test]
fn each_problem_is_named_with_what_to_do_and_exit_1() {
    let tux = FakeTuxSuite::start();
    let kcidb = FakeKcidb::start();
    let keys = Keys::new();
    // TuxSuite now signs with another key.
    tux.publish_key(&Keys::new().line);
    let mut env = setup(&tux, &kcidb, &keys);
    std::fs::write(env.path("kcidb.token"), "expired-token-0000").unwrap();
    let run = env.run(&["doctor"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "✗ tuxsuite public key: none of the 1 configured key(s) is the key TuxSuite publishes"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("✗ kcidb"), "{}", run.stdout);
    assert!(run.stdout.contains("get a new token"), "{}", run.stdout);

    // A token TuxSuite refuses, and a callback URL in the clear.
    env.set("TUXSUITE_TOKEN", "not-the-token")
        .set("KBRIDGE_CALLBACK_URL", "http://ci.example.org/kbridge");
    let run = env.run(&["doctor"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("✗ tuxsuite token: refused by TuxSuite (403)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("✗ callback URL"), "{}", run.stdout);
    assert!(!run.stdout.contains("not-the-token"), "{}", run.stdout);
}

#[test]
fn without_a_callback_url_no_key_is_needed() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let run = env.run(&["doctor"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("- callback URL: not set"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("- kcidb: no KCIDB URL"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("tuxsuite public key"),
        "{}",
        run.stdout
    );
}

#[test]
fn doctor_checks_what_listen_is_given_and_tells_kcidb_apart() {
    let tux = FakeTuxSuite::start();
    let kcidb = FakeKcidb::start();
    let keys = Keys::new();
    tux.publish_key(&keys.line);
    let mut env = Env::new(&tux);
    keys.write(&env.path("tuxsuite.pub"));
    std::fs::write(env.path("kcidb.token"), KCIDB_TOKEN).unwrap();
    env.set("KBRIDGE_CALLBACK_URL", "https://ci.example.org/kbridge");
    let key = env.path("tuxsuite.pub");
    let token = env.path("kcidb.token");
    // What the listener would run with, given as its flags.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let args = |kcidb_url: &str| {
        vec![
            "doctor".to_string(),
            "--tuxsuite-public-key".into(),
            key.to_str().unwrap().into(),
            "--kcidb-url".into(),
            kcidb_url.into(),
            "--kcidb-token-file".into(),
            token.to_str().unwrap().into(),
            "--bind".into(),
            addr.clone(),
        ]
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        env.run(&a)
    };
    let ok = run(args(&kcidb.url()));
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(
        ok.stdout.contains(
            "✓ tuxsuite public key: 1 key(s) configured; one is the key TuxSuite publishes"
        ),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout.contains("✓ kcidb: ") && ok.stdout.contains("reachable, and the token works"),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout
            .contains(&format!("- listen address: {addr} is in use")),
        "{}",
        ok.stdout
    );

    // A URL that answers, but is not KCIDB (a file server here).
    let files = crate::util::Artifacts::start();
    let wrong = run(args(&files.url()));
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    assert!(
        wrong.stdout.contains("so it is not KCIDB's REST API"),
        "{}",
        wrong.stdout
    );

    // A token KCIDB refuses.
    std::fs::write(&token, "expired-token-0000").unwrap();
    let refused = run(args(&kcidb.url()));
    assert_eq!(refused.code, 1);
    assert!(
        refused.stdout.contains("✗ kcidb: ") && refused.stdout.contains("token refused"),
        "{}",
        refused.stdout
    );
    drop(taken);
}
