//! `kbridge jobs` and `kbridge show`.

use crate::util::{Env, FakeTuxSuite, Reply};

const KERNEL: &str = "https://storage.example/Image";

#[test]
fn jobs_lists_newest_first_with_filters() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    // Listing creates nothing: without a database there is nothing to list.
    let run = env.run(&["jobs"]).expect(2);
    assert!(
        run.error_line().contains("no database at"),
        "{}",
        run.stderr
    );
    assert!(
        run.error_line().contains(env.db().to_str().unwrap()),
        "{}",
        run.stderr
    );
    assert!(!env.db().exists() && !env.db().parent().unwrap().exists());
    env.run(&[
        "schedule",
        "boot",
        "--kernel",
        KERNEL,
        "--build-id",
        "lab:1",
    ])
    .expect(0);
    tux.script([Reply::Status(
        400,
        serde_json::json!({"error": "no"}),
        vec![],
    )]);
    env.run(&[
        "schedule",
        "test",
        "--kernel",
        KERNEL,
        "--build-id",
        "lab:1",
        "--tests",
        "ltp-smoke",
    ])
    .expect(1);

    let table = env.run(&["jobs"]).expect(0).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("ID  KIND  RUNNER    UID"), "{table}");
    assert!(lines[1].starts_with("2   test  tuxsuite  -"), "{table}");
    assert!(
        lines[1].contains("failed") && lines[1].ends_with("qemu-riscv64: ltp-smoke"),
        "{table}"
    );
    assert!(lines[2].starts_with("1   boot  tuxsuite  2MBY"), "{table}");

    let all = env.run(&["jobs", "--json"]).expect(0).json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["id"], 2);
    let failed = env
        .run(&["jobs", "--state", "failed", "--json"])
        .expect(0)
        .json();
    assert_eq!(failed.as_array().unwrap().len(), 1);
    let boots = env
        .run(&["jobs", "--kind", "boot", "--json"])
        .expect(0)
        .json();
    assert_eq!(boots[0]["kind"], "boot");
    let run = env.run(&["jobs", "--state", "done"]).expect(2);
    assert!(
        run.error_line()
            .contains("invalid value 'done' for '--state <STATE>' [possible values: submitting, submitted, failed, unknown, received, completed, errored, canceled]"),
        "{}",
        run.stderr
    );
}

#[test]
fn show_finds_by_uid_or_id_and_says_when_missing() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let job = env
        .run(&[
            "schedule",
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "lab:1",
            "--json",
        ])
        .expect(0)
        .json();
    let uid = job["uid"].as_str().unwrap();
    let by_uid = env.run(&["show", uid]).expect(0).stdout;
    assert!(by_uid.contains("state           submitted"), "{by_uid}");
    assert!(by_uid.contains("callback_token  -"), "{by_uid}");
    assert_eq!(
        env.run(&["show", "1", "--json"]).expect(0).json()["uid"],
        uid
    );
    let run = env.run(&["show", "42"]).expect(2);
    assert!(run.error_line().contains("no job '42'"), "{}", run.stderr);
}
