//! What a new user meets first: the README's commands as written, key
//! files as `tuxsuite keys get` writes them, dry runs without an account,
//! listings that tell the truth, and errors that say what to do.

use std::path::Path;

use serde_json::json;

use crate::util::{build_args, Artifacts, Env, FakeTuxSuite, Keys, Reply, GROUP, PROJECT, TOKEN};

const KERNEL: &str = "https://storage.example/Image";

/// The `kbridge` command lines of the README section `heading`'s first
/// code block, continuation lines joined, with the `export`s before them.
fn readme_commands(heading: &str) -> (Vec<(String, String)>, Vec<Vec<String>>) {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading}"))..];
    let block = section.split("```sh\n").nth(1).unwrap();
    let block = &block[..block.find("```").unwrap()];
    let joined = block.replace("\\\n", " ");
    let mut exports = Vec::new();
    let mut commands = Vec::new();
    for line in joined.lines().map(str::trim) {
        if let Some(assign) = line.strip_prefix("export ") {
            let (k, v) = assign.split_once('=').unwrap();
            exports.push((
                k.to_string(),
                v.split_whitespace().next().unwrap().to_string(),
            ));
        }
        // `cargo install ... && kbridge ...`: the part after the build.
        let line = line.rsplit("&& ").next().unwrap();
        if line.starts_with("kbridge ") {
            let words = line
                .split('#')
                .next()
                .unwrap()
                .split_whitespace()
                .skip(1)
                .map(str::to_string)
                .collect();
            commands.push(words);
        }
    }
    (exports, commands)
}

#[test]
fn the_readme_quick_start_runs_as_written() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let (exports, commands) = readme_commands("## Quick start");
    assert!(commands.len() >= 6, "{commands:?}");
    for (k, v) in &exports {
        env.set(k, v);
    }
    let mut build_uid = None;
    for words in commands {
        let words: Vec<String> = words
            .into_iter()
            .map(|w| match w.as_str() {
                "URL" => KERNEL.to_string(),
                // The README's example uid is the build it scheduled.
                w if w.len() == 27 && w.starts_with("2") => build_uid.clone().unwrap(),
                _ => w,
            })
            .collect();
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let run = env.run(&args).expect(0);
        if args.starts_with(&["schedule", "build"]) {
            assert!(run.stdout.starts_with("scheduled build "), "{}", run.stdout);
            build_uid = Some(run.stdout.split_whitespace().nth(2).unwrap().to_string());
        }
        if args.contains(&"--json") {
            let listed = run.json();
            assert!(listed.as_array().is_some_and(|a| !a.is_empty()), "{listed}");
        }
    }
    // The build, the test and the boot reached TuxSuite, chained to the build.
    let sent = tux.submissions();
    assert_eq!(sent.len(), 3);
    let uid = build_uid.unwrap();
    let callback = format!("{}/callback/tuxsuite/", exports[0].1);
    for s in &sent {
        let body = s.json();
        let cb = body["callback"]
            .as_str()
            .or(body["builds"][0]["callback"].as_str())
            .unwrap_or_default()
            .to_string();
        assert!(cb.starts_with(&callback), "{}", s.body);
    }
    assert!(env.run(&["show", &uid]).expect(0).stdout.contains("riscv"));

    // And the first command of all, on a fresh machine.
    let (_, first) = readme_commands("## On a fresh machine");
    let args: Vec<&str> = first[0].iter().map(String::as_str).collect();
    assert_eq!(args[..2], ["schedule", "test"]);
    env.run(&args).expect(0);
}

#[test]
fn the_listener_takes_the_key_file_tuxsuite_keys_get_writes() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let keys = Keys::new();
    // `tuxsuite keys get > tuxsuite.pub`, and its --json answer.
    let plain = env.path("tuxsuite.pub");
    // Its exact output, with the sections that follow the key.
    std::fs::write(
        &plain,
        format!(
            "ssh public key:\n\n{}\n\npat keys:\n\nS.no       domain                    username                  token     \n\n1          gitlab.com                alice                     ****      \n\n",
            keys.line
        ),
    )
    .unwrap();
    let answer = env.path("keys.json");
    std::fs::write(&answer, json!({"ssh": {"pub": keys.line}}).to_string()).unwrap();
    for file in [&plain, &answer] {
        let l = env.listen(&["--tuxsuite-public-key", file.to_str().unwrap()]);
        assert_eq!(l.get("/healthz").status, 200);
    }

    // What kbridge cannot use is named: the file, the line, what was expected.
    let bad = env.path("bad.pub");
    std::fs::write(&bad, format!("ssh public key:\n{}\nnot a key\n", keys.line)).unwrap();
    let run = env
        .run(&[
            "listen",
            "--bind",
            "127.0.0.1:0",
            "--tuxsuite-public-key",
            bad.to_str().unwrap(),
        ])
        .expect(2);
    let line = run.error_line();
    assert!(
        line.contains(&format!("{} ", bad.display()))
            && line.contains("line 3")
            && line.contains("expected an OpenSSH public key line")
            && line.contains("\"not a key\""),
        "{line}"
    );
}

#[test]
fn a_dry_run_needs_no_account_and_stores_nothing() {
    let env = Env::bare();
    let run = env
        .run(&[
            "schedule",
            "test",
            "--kernel",
            KERNEL,
            "--tests",
            "ltp-smoke",
            "--build-id",
            "maestro:1",
            "--dry-run",
        ])
        .expect(0);
    assert!(
        run.stdout.starts_with(
            "POST https://tuxapi.tuxsuite.com/v1/groups/<group>/projects/<project>/tests"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\"ltp-smoke\""), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("TUXSUITE_TOKEN, TUXSUITE_GROUP, TUXSUITE_PROJECT not set"),
        "{}",
        run.stderr
    );
    assert!(!env.db().exists(), "nothing stored");
    // Without a dry run the same is a configuration error.
    let run = env
        .run(&[
            "schedule",
            "test",
            "--kernel",
            KERNEL,
            "--tests",
            "ltp-smoke",
            "--build-id",
            "maestro:1",
        ])
        .expect(2);
    assert!(
        run.error_line().contains("no TuxSuite token"),
        "{}",
        run.stderr
    );
}

#[test]
fn listings_tell_a_failed_build_from_a_passed_one() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let art = Artifacts::start();
    env.set("KBRIDGE_POLL_INTERVAL", "0.2")
        .set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
    let mut uids = Vec::new();
    for _ in 0..2 {
        let job = env.run(&build_args(&["--json"])).expect(0).json();
        uids.push(job["uid"].as_str().unwrap().to_string());
    }
    for (uid, pass) in uids.iter().zip([false, true]) {
        art.put(&format!("/builds/{uid}/build.log"), "error: it broke\n");
        tux.finish_build(uid, &format!("{}/builds/{uid}/", art.url()), pass);
    }
    env.run(&["wait"]).expect(1);
    let table = env.run(&["jobs"]).expect(0).stdout;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    let col = header
        .iter()
        .position(|h| *h == "RESULT")
        .expect("a RESULT column");
    let results: Vec<&str> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(col).unwrap())
        .collect();
    assert_eq!(results, ["pass", "fail"], "{table}");
    // show: the runner's latest word, not the answer to the submission.
    let shown = env.run(&["show", &uids[0]]).expect(0).stdout;
    let field = |name: &str| {
        shown
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {shown}"))
            .to_string()
    };
    assert!(field("state ").contains("completed"), "{shown}");
    assert!(field("result ").contains("fail"), "{shown}");
    assert!(field("runner_status ").contains('{'), "{shown}");
    assert!(shown.contains("\"result\": \"fail\""), "{shown}");
    // The runner's answer to a build is stored as the object it holds.
    let job = env.run(&["show", &uids[0], "--json"]).expect(0).json();
    assert!(job["response"].is_object(), "{}", job["response"]);
    assert_eq!(job["status"]["state"], "finished");
}

#[test]
fn a_404_from_tuxsuite_names_the_settings_to_check_and_where_they_came_from() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    tux.script([Reply::Status(404, json!({"error": "Not found"}), vec![])]);
    let run = env
        .run(&[
            "schedule",
            "test",
            "--kernel",
            KERNEL,
            "--tests",
            "ltp-smoke",
            "--build-id",
            "maestro:1",
            "--json",
        ])
        .expect(1);
    let line = run.error_line();
    for part in [
        "TuxSuite answered 404",
        "check the API URL",
        "(from env TUXAPI_URL)",
        &format!("group '{GROUP}' (from env TUXSUITE_GROUP)"),
        &format!("project '{PROJECT}' (from env TUXSUITE_PROJECT)"),
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
    // --json still prints the record, so a script finds the job.
    let job = run.json();
    assert_eq!(job["state"], "failed");
    assert!(job["id"].is_i64(), "{job}");
}

#[test]
fn a_missing_tuxsuite_section_lists_the_ones_present() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.unset("TUXSUITE_TOKEN");
    let ini = env.path("home/.config/tuxsuite/config.ini");
    std::fs::create_dir_all(ini.parent().unwrap()).unwrap();
    std::fs::write(&ini, "[default]\ntoken=a\n[staging]\ntoken=b\n").unwrap();
    env.set("TUXSUITE_ENV", "prod");
    let run = env
        .run(&[
            "schedule",
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:1",
        ])
        .expect(2);
    let line = run.error_line();
    assert!(
        line.contains("has no section [prod]") && line.contains("[default], [staging]"),
        "{line}"
    );
    assert_eq!(env.job_rows(), 0);
}

#[test]
fn usage_errors_show_the_expected_form_and_exit_2() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let cases: [(&[&str], &str); 4] = [
        (&["listen", "--bind", "8080"], "give HOST:PORT"),
        (&["listen", "--bind", "localhost:8080x"], "give HOST:PORT"),
        (
            &[
                "listen",
                "--insecure-skip-verify",
                "--allow-artifact-host",
                "https://storage.example",
            ],
            "did you mean 'storage.example'?",
        ),
        (
            &["listen", "--insecure-skip-verify", "--max-body", "1XB"],
            "a size such as 512KiB",
        ),
    ];
    for (args, expected) in cases {
        let run = env.run(args).expect(2);
        assert!(
            run.error_line().contains(expected),
            "{args:?}: {}",
            run.stderr
        );
    }
    let mut zero = Env::new(&tux);
    zero.set("KBRIDGE_HTTP_TIMEOUT", "0");
    let run = zero
        .run(&[
            "schedule",
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:1",
        ])
        .expect(2);
    assert!(
        run.error_line().contains("use 0.1 to 3600 seconds"),
        "{}",
        run.stderr
    );
    // Units are understood.
    let l = env.listen(&["--insecure-skip-verify", "--max-body", "1MB"]);
    assert_eq!(l.get("/healthz").status, 200);
}

#[test]
fn results_of_a_job_that_will_never_have_a_document_say_why() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    tux.script([Reply::Status(400, json!({"error": "bad device"}), vec![])]);
    env.run(&[
        "schedule",
        "boot",
        "--kernel",
        KERNEL,
        "--build-id",
        "maestro:1",
    ])
    .expect(1);
    let run = env.run(&["results", "1"]).expect(3);
    let line = run.error_line();
    assert!(
        line.contains("will never have a KCIDB document") && line.contains("schedule it again"),
        "{line}"
    );
    // No callback URL: polling is the way, and the message says so.
    env.run(&[
        "schedule",
        "boot",
        "--kernel",
        KERNEL,
        "--build-id",
        "maestro:2",
    ])
    .expect(0);
    let line = env
        .run(&["results", "2"])
        .expect(3)
        .error_line()
        .to_string();
    assert!(
        line.contains("without a callback URL") && line.contains("kbridge wait 2"),
        "{line}"
    );
}

#[test]
fn verbose_shows_each_request_with_secrets_redacted() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let run = env
        .run(&[
            "-vv",
            "schedule",
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:1",
        ])
        .expect(0);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("http: POST "))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(
        line.contains("/tests -> 201") && line.contains(" ms"),
        "{line}"
    );
    assert!(
        run.stderr.contains("> authorization: <redacted>"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(TOKEN), "{}", run.stderr);
    // Without -v, nothing of the sort.
    let quiet = env
        .run(&[
            "schedule",
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:2",
        ])
        .expect(0);
    assert!(!quiet.stderr.contains("http: "), "{}", quiet.stderr);
}

#[cfg(unix)]
#[test]
fn a_database_kbridge_may_not_open_says_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    env.run(&[
        "schedule",
        "boot",
        "--kernel",
        KERNEL,
        "--build-id",
        "maestro:1",
    ])
    .expect(0);
    let db = env.db();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o000)).unwrap();
    // root may open anything: run as nobody then, with a copy it cannot read.
    let run = if running_as_root() {
        let dir = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o755))
            .tempdir()
            .unwrap();
        let copy = dir.path().join("kbridge.db");
        std::fs::copy(&db, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).unwrap();
        let out = std::process::Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                env!("CARGO_BIN_EXE_kbridge"),
                "--db",
            ])
            .arg(&copy)
            .arg("jobs")
            .env_clear()
            .env("HOME", dir.path())
            .output()
            .expect("setpriv (util-linux) runs kbridge as nobody");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        (stderr, copy)
    } else {
        let run = env.run(&["jobs"]).expect(2);
        (run.stderr, db.clone())
    };
    let (stderr, path) = run;
    assert!(
        stderr.contains("permission denied") && stderr.contains(&path.display().to_string()),
        "{stderr}"
    );
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(env.job_rows(), 1, "nothing lost");

    // A database in a directory this user may not enter exists too: it is
    // not "nothing recorded here yet".
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("private");
    std::fs::create_dir(&inner).unwrap();
    let hidden = inner.join("kbridge.db");
    std::fs::copy(&db, &hidden).unwrap();
    let stderr = if running_as_root() {
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o700)).unwrap();
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_kbridge"))
            .arg("--db")
            .arg(&hidden)
            .arg("jobs")
            .env_clear()
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).to_string()
    } else {
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o000)).unwrap();
        let run = env
            .run(&["--db", hidden.to_str().unwrap(), "jobs"])
            .expect(2);
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o700)).unwrap();
        run.stderr
    };
    assert!(
        stderr.contains("permission denied") && stderr.contains(&hidden.display().to_string()),
        "{stderr}"
    );
}

/// Whether this process runs as root (uid 0), read from /proc.
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}
