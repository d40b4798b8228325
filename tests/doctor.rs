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
