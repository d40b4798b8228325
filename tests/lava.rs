//! The LAVA runner against the lab stand-in: scheduling with the built-in
//! template and with definition files, callbacks authenticated by token
//! alone, results from REST, polling, two labs, and the lab's refusals.

use std::time::Duration;

use serde_json::{json, Value};

use crate::util::{wait_until, Case, Env, FakeLava, LAVA_TOKEN};

const KERNEL: &str = "https://storage.example/riscv/Image";
const ROOTFS: &str = "https://storage.example/rootfs/riscv64/rootfs.cpio.gz";

/// Labs and an environment whose config.toml names them.
pub(crate) struct World {
    labs: Vec<(String, FakeLava)>,
    pub(crate) env: Env,
}

impl World {
    pub(crate) fn new() -> World {
        World::with_labs(&[("mylab", 1)])
    }

    pub(crate) fn with_labs(labs: &[(&str, u64)]) -> World {
        let mut env = Env::bare();
        let token = env.path("mylab.token");
        std::fs::write(&token, format!("{LAVA_TOKEN}\n")).unwrap();
        let mut config = String::from("callback_url = \"https://ci.example.org/kbridge\"\n");
        let mut started = Vec::new();
        for (name, first) in labs {
            let lab = FakeLava::start(*first);
            config.push_str(&format!(
                "[lava.labs.{name}]\nurl = \"{}\"\ntoken_file = \"{}\"\ndevice_type = \"qemu-riscv64\"\nrootfs = \"{ROOTFS}\"\n",
                lab.url(),
                token.display()
            ));
            started.push((name.to_string(), lab));
        }
        let file = env.path("kbridge.toml");
        std::fs::write(&file, config).unwrap();
        let out = env.path("kcidb");
        env.set("KBRIDGE_CONFIG", file.to_str().unwrap())
            .set("KBRIDGE_OUTPUT_DIR", out.to_str().unwrap())
            .set("KBRIDGE_POLL_INTERVAL", "0.2");
        World { labs: started, env }
    }

    pub(crate) fn lab(&self) -> &FakeLava {
        &self.labs[0].1
    }

    pub(crate) fn schedule(&self, args: &[&str]) -> Value {
        let mut all = vec!["schedule"];
        all.extend_from_slice(args);
        all.extend(["--runner", "lava", "--json"]);
        self.env.run(&all).expect(0).json()
    }

    /// `kbridge schedule ARGS --runner lava`, whatever its exit status.
    pub(crate) fn lava(&self, args: &[&str]) -> crate::util::Run {
        let mut all = vec!["schedule"];
        all.extend_from_slice(args);
        all.extend(["--runner", "lava"]);
        self.env.run(&all)
    }

    pub(crate) fn boot(&self) -> Value {
        self.schedule(&["boot", "--kernel", KERNEL, "--build-id", "maestro:1"])
    }

    pub(crate) fn job(&self, id: i64) -> Value {
        self.env
            .run(&["show", &id.to_string(), "--json"])
            .expect(0)
            .json()
    }

    pub(crate) fn document(&self, id: i64) -> Value {
        self.env.run(&["results", &id.to_string(), "--json"]).json()
    }

    /// The job's callback token, which only the store knows.
    pub(crate) fn token(&self, id: i64) -> String {
        let db = rusqlite::Connection::open(self.env.db()).unwrap();
        db.query_row("SELECT callback_token FROM jobs WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap()
    }

    /// A test from a minimal definition file of the user's own.
    pub(crate) fn definition_test(&self, tests: &str) -> i64 {
        let file = self.env.path("tests.yaml");
        std::fs::write(
            &file,
            "device_type: qemu\njob_name: {job_name}\nactions: []\n",
        )
        .unwrap();
        self.schedule(&[
            "test",
            "--job-definition",
            file.to_str().unwrap(),
            "--kernel",
            KERNEL,
            "--tests",
            tests,
            "--build-id",
            "maestro:1",
        ])["id"]
            .as_i64()
            .unwrap()
    }

    pub(crate) fn wait_state(&self, id: i64, state: &str) -> Value {
        let mut last = Value::Null;
        wait_until(
            Duration::from_secs(20),
            &format!("job {id} {state}"),
            || {
                last = self.job(id);
                last["state"] == state
            },
        );
        last
    }
}

fn smoke_cases() -> Vec<Case> {
    vec![
        Case::new("lava", "validate", "pass"),
        Case::new("lava", "auto-login-action", "pass"),
        Case::new("lava", "0_smoke", "pass"),
        Case::new("lava", "job", "pass"),
        Case::new("0_smoke", "uname", "pass"),
        Case::new("0_smoke", "always-fails", "fail"),
        Case::new("0_smoke", "skipped-case", "skip"),
        Case {
            measurement: Some(("1.5000000000", "seconds")),
            ..Case::new("0_smoke", "boot-time", "pass")
        },
        Case {
            set: Some("subsuite"),
            ..Case::new("0_smoke", "in-a-set", "pass")
        },
    ]
}

fn tests_of(doc: &Value) -> Vec<(String, String)> {
    doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["path"].as_str().unwrap().to_string(),
                t["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_boot_with_the_built_in_template_carries_kbridges_callback_and_ids() {
    let w = World::new();
    let job = w.boot();
    assert_eq!(job["uid"], "mylab.1", "ids are namespaced by lab");
    assert_eq!(job["device"], "qemu-riscv64", "the lab's device_type");
    let sent = &w.lab().submitted()[0];
    assert_eq!(
        sent.authorization.as_deref(),
        Some(&*format!("Token {LAVA_TOKEN}"))
    );
    let d = &sent.definition;
    assert_eq!(d["device_type"].as_str(), Some("qemu"));
    assert_eq!(d["context"]["arch"].as_str(), Some("riscv64"));
    let images = &d["actions"][0]["deploy"]["images"];
    assert_eq!(images["kernel"]["url"].as_str(), Some(KERNEL));
    assert_eq!(images["ramdisk"]["url"].as_str(), Some(ROOTFS));
    assert_eq!(d["actions"][1]["boot"]["method"].as_str(), Some("qemu"));
    let cb = &d["notify"]["callbacks"][0];
    assert_eq!(
        cb["url"].as_str(),
        Some("https://ci.example.org/kbridge/callback/lava/boot")
    );
    assert_eq!(cb["header"].as_str(), Some("X-Kbridge-Token"));
    assert_eq!(cb["method"].as_str(), Some("POST"));
    assert_eq!(cb["content-type"].as_str(), Some("json"));
    assert_eq!(cb["dataset"].as_str(), Some("minimal"));
    assert_eq!(d["notify"]["criteria"]["status"].as_str(), Some("finished"));
    // The token is the job's own, which only the store knows.
    assert_eq!(cb["token"].as_str(), Some(w.token(1).as_str()));
    assert_eq!(
        d["metadata"]["kbridge.job_id"].as_str(),
        Some("1"),
        "a string"
    );
    assert_eq!(
        d["metadata"]["kbridge.build_id"].as_str(),
        Some("maestro:1")
    );
}

#[test]
fn a_definition_file_is_filled_and_keeps_its_own_notify() {
    let w = World::new();
    let file = w.env.path("board.yaml");
    std::fs::write(
        &file,
        "device_type: {device_type}\njob_name: {job_name}\ntimeouts:\n  job:\n    minutes: 10\nnotify:\n  criteria:\n    status: finished\n  callbacks:\n  - url: https://lab-owner.example/hook\nactions:\n- deploy:\n    to: tftp\n    kernel:\n      url: {kernel}\n      image_arg: -kernel {kernel}\n    modules:\n      url: \"{modules}\"\n- test:\n    definitions:\n    - name: ltp\n      parameters:\n        TESTS: {tests}\n",
    )
    .unwrap();
    let job = w.schedule(&[
        "test",
        "--job-definition",
        file.to_str().unwrap(),
        "--kernel",
        KERNEL,
        "--modules",
        "https://storage.example/modules.tar.xz",
        "--tests",
        "ltp-smoke,ltp-fsx",
        "--build-id",
        "maestro:1",
    ]);
    assert_eq!(job["state"], "submitted");
    let d = &w.lab().submitted()[0].definition;
    assert_eq!(d["device_type"].as_str(), Some("qemu-riscv64"));
    let deploy = &d["actions"][0]["deploy"];
    assert_eq!(deploy["kernel"]["url"].as_str(), Some(KERNEL));
    assert_eq!(
        deploy["kernel"]["image_arg"].as_str(),
        Some("-kernel {kernel}"),
        "LAVA's own placeholder is left for LAVA"
    );
    assert_eq!(
        deploy["modules"]["url"].as_str(),
        Some("https://storage.example/modules.tar.xz")
    );
    let tests = &d["actions"][1]["test"]["definitions"][0]["parameters"]["TESTS"];
    assert_eq!(tests[1].as_str(), Some("ltp-fsx"), "{tests:?}");
    let callbacks = d["notify"]["callbacks"].as_sequence().unwrap();
    assert_eq!(
        callbacks.len(),
        2,
        "kbridge's is added beside the lab owner's"
    );
    assert_eq!(
        callbacks[0]["url"].as_str(),
        Some("https://lab-owner.example/hook")
    );

    // A placeholder kbridge does not know is refused before anything is kept.
    std::fs::write(&file, "device_type: {device}\n").unwrap();
    let run = w.lava(&[
        "test",
        "--job-definition",
        file.to_str().unwrap(),
        "--build-id",
        "maestro:1",
    ]);
    let run = run.expect(2);
    assert!(
        run.error_line()
            .contains("{device} is not a placeholder kbridge knows"),
        "{}",
        run.stderr
    );
    assert_eq!(w.env.job_rows(), 1);
}

#[test]
fn a_complete_job_called_back_becomes_a_document_from_rest() {
    let w = World::new();
    let id = w.definition_test("smoke");
    let l = w.env.listen(&[]);
    // The callback URL points at the public name; the lab is told where
    // this listener is instead.
    w.lab().finish(
        1,
        "Complete",
        smoke_cases(),
        &["Linux version 6.12", "/ # "],
    );
    let body = json!({"id": 1, "state_string": "Finished", "health_string": "Complete",
                      "token": "<repeated>", "end_time": "None"});
    let token = w.token(id);
    let mut with_token = body.clone();
    with_token["token"] = json!(token);
    let answer = l.post(
        "/callback/lava/test",
        with_token.to_string().as_bytes(),
        &[
            ("X-Kbridge-Token", &token),
            ("Content-Type", "application/json"),
        ],
    );
    assert_eq!(answer.status, 202, "{}", answer.body);
    w.wait_state(id, "completed");
    let doc = w.document(id);
    let tests = tests_of(&doc);
    for expected in [
        ("boot", "PASS"),
        ("smoke", "FAIL"),
        ("smoke.uname", "PASS"),
        ("smoke.always-fails", "FAIL"),
        ("smoke.skipped-case", "SKIP"),
        ("smoke.boot-time", "PASS"),
        ("smoke.subsuite.in-a-set", "PASS"),
    ] {
        assert!(
            tests.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {tests:?}"
        );
    }
    let t = doc["tests"].as_array().unwrap();
    let boot_time = t.iter().find(|t| t["path"] == "smoke.boot-time").unwrap();
    assert_eq!(
        boot_time["number"],
        json!({"value": 1.5, "unit": "seconds"})
    );
    assert_eq!(t[0]["misc"]["lava_job_id"], 1);
    assert_eq!(t[0]["misc"]["runtime"], "mylab");
    assert_eq!(t[0]["environment"]["misc"]["platform"], "qemu01");
    assert_eq!(
        t[0]["log_url"],
        format!("{}/scheduler/job/1", w.lab().url())
    );
    assert!(t[1]["log_excerpt"]
        .as_str()
        .unwrap()
        .contains("Linux version 6.12"));
    // The body's token never reached the store.
    let inbox = w.env.run(&["inbox", "--json"]).expect(0).stdout;
    assert!(!inbox.contains(&token), "{inbox}");
    let db = rusqlite::Connection::open(w.env.db()).unwrap();
    let kept: i64 = db
        .query_row(
            "SELECT count(*) FROM inbox WHERE instr(CAST(coalesce(body, '') AS TEXT), ?1) > 0 OR instr(headers, ?1) > 0",
            [&token],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 0, "the body's copy of the token is not kept");
    let notices: i64 = db
        .query_row(
            "SELECT count(*) FROM inbox WHERE instr(CAST(body AS TEXT), 'Finished') > 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(notices, 1, "the notice itself is kept");
    // Results came from REST, over every page, on the lab's own origin.
    let requests = w.lab().requests();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("/tests/?limit=256&offset=5")),
        "{requests:?}"
    );
}

#[test]
fn lab_trouble_and_cancels_are_misses_with_the_reason() {
    let w = World::new();
    let a = w.boot()["id"].as_i64().unwrap();
    let b = w.boot_forced();
    w.lab().finish(
        1,
        "Incomplete",
        vec![
            Case::new("lava", "validate", "fail"),
            Case {
                error: Some(("Infrastructure", "Device qemu01 went offline")),
                ..Case::new("lava", "job", "fail")
            },
        ],
        &[],
    );
    w.lab().finish(2, "Canceled", vec![], &[]);
    let run = w.env.run(&["wait", "--json"]).expect(3);
    assert_eq!(run.json()["exit_status"], 3);
    let doc = w.document(a);
    assert_eq!(tests_of(&doc), [("boot".to_string(), "MISS".to_string())]);
    assert_eq!(
        doc["tests"][0]["misc"]["error"],
        "Infrastructure: Device qemu01 went offline"
    );
    assert_eq!(
        tests_of(&w.document(b)),
        [("boot".to_string(), "MISS".to_string())]
    );
}

impl World {
    fn boot_forced(&self) -> i64 {
        self.schedule(&[
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:1",
            "--force",
        ])["id"]
            .as_i64()
            .unwrap()
    }
}

#[test]
fn an_unknown_callback_token_is_401_and_nothing_is_kept() {
    let w = World::new();
    w.boot();
    let l = w.env.listen(&[]);
    let body = json!({"id": 1, "state_string": "Finished", "token": "guess"}).to_string();
    for headers in [vec![("X-Kbridge-Token", "guess")], vec![]] {
        let answer = l.post("/callback/lava/boot", body.as_bytes(), &headers);
        assert_eq!(answer.status, 401, "{}", answer.body);
    }
    let inbox = w.env.run(&["inbox", "--json"]).expect(0).json();
    assert_eq!(inbox, json!([]));
}

#[test]
fn a_lost_callback_is_recovered_by_polling_and_processed_once() {
    let w = World::new();
    let id = w.boot()["id"].as_i64().unwrap();
    w.lab().run(1);
    w.lab().finish(
        1,
        "Complete",
        vec![Case::new("lava", "auto-login-action", "pass")],
        &[],
    );
    let run = w.env.run(&["wait", &id.to_string(), "--json"]).expect(0);
    assert_eq!(run.json()["jobs"][0]["result"], "pass");
    // The callback that comes late changes nothing.
    let l = w.env.listen(&[]);
    let token = w.token(id);
    let late = l.post(
        "/callback/lava/boot",
        json!({"id": 1, "state_string": "Finished", "token": token})
            .to_string()
            .as_bytes(),
        &[("X-Kbridge-Token", &token)],
    );
    assert_eq!(late.status, 200, "{}", late.body);
    assert_eq!(
        tests_of(&w.document(id)),
        [("boot".to_string(), "PASS".to_string())]
    );
}

#[test]
fn two_labs_can_both_have_job_42() {
    let w = World::with_labs(&[("north", 42), ("south", 42)]);
    let a = w.schedule(&[
        "boot",
        "--lab",
        "north",
        "--kernel",
        KERNEL,
        "--build-id",
        "maestro:1",
    ]);
    let b = w.schedule(&[
        "boot",
        "--lab",
        "south",
        "--kernel",
        KERNEL,
        "--build-id",
        "maestro:1",
        "--force",
    ]);
    assert_eq!(
        (a["uid"].as_str(), b["uid"].as_str()),
        (Some("north.42"), Some("south.42"))
    );
    w.labs[0].1.finish(
        42,
        "Complete",
        vec![Case::new("lava", "auto-login-action", "pass")],
        &[],
    );
    w.labs[1].1.finish(
        42,
        "Complete",
        vec![Case::new("lava", "auto-login-action", "fail")],
        &[],
    );
    w.env.run(&["wait"]).expect(1);
    let da = w.document(a["id"].as_i64().unwrap());
    let db = w.document(b["id"].as_i64().unwrap());
    assert_eq!(da["tests"][0]["status"], "PASS");
    assert_eq!(db["tests"][0]["status"], "FAIL");
    assert_ne!(
        da["tests"][0]["id"], db["tests"][0]["id"],
        "KCIDB ids differ too"
    );
    // Without --lab, several labs are a usage error that lists them.
    let run = w
        .lava(&["boot", "--kernel", KERNEL, "--build-id", "maestro:1"])
        .expect(2);
    assert!(run.error_line().contains("north, south"), "{}", run.stderr);
    let run = w
        .lava(&[
            "boot",
            "--lab",
            "west",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:1",
        ])
        .expect(2);
    assert!(
        run.error_line().contains("no LAVA lab 'west'")
            && run.error_line().contains("north, south"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_labs_refusals_are_reported_as_it_gave_them() {
    let w = World::new();
    w.lab().script(
        400,
        json!({"message": "Devices unavailable: Device type 'juno-r2' is unavailable."}),
    );
    let run = w
        .lava(&[
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:1",
            "--device",
            "juno-r2",
        ])
        .expect(1);
    assert!(
        run.error_line()
            .contains("Devices unavailable: Device type 'juno-r2' is unavailable."),
        "{}",
        run.stderr
    );
    // A wrong token: 403, named with the file it came from.
    std::fs::write(w.env.path("mylab.token"), "wrong\n").unwrap();
    let run = w
        .lava(&[
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:2",
            "--json",
        ])
        .expect(1);
    let line = run.error_line();
    assert!(
        line.contains("the lab refused the API token") && line.contains("mylab.token"),
        "{line}"
    );
    assert_eq!(run.json()["state"], "failed");
    // LAVA runs no builds.
    let run = w
        .lava(&[
            "build",
            "--tree",
            "https://git.example/linux.git",
            "--branch",
            "master",
            "--toolchain",
            "gcc-13",
            "--kconfig",
            "defconfig",
        ])
        .expect(2);
    assert!(
        run.error_line()
            .contains("LAVA runs tests and boots, not builds"),
        "{}",
        run.stderr
    );
    // A missing token file says where it looked.
    std::fs::remove_file(w.env.path("mylab.token")).unwrap();
    let run = w.lava(&["boot", "--kernel", KERNEL, "--build-id", "maestro:3"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("mylab.token") && run.stderr.contains("no such file"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_dry_run_prints_the_definition_and_validate_asks_the_lab() {
    let w = World::new();
    let run = w
        .lava(&[
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:1",
            "--dry-run",
        ])
        .expect(0);
    assert!(
        run.stdout
            .starts_with(&format!("POST {}/api/v0.2/jobs/", w.lab().url())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Authorization: Token <redacted>"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("definition:\ndevice_type: qemu"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("token: <redacted>"), "{}", run.stdout);
    assert!(w.lab().submitted().is_empty());
    w.lab().invalid("extra keys not allowed @ data['colour']");
    let run = w
        .lava(&[
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:1",
            "--dry-run",
            "--validate",
        ])
        .expect(2);
    assert!(
        run.error_line()
            .contains("not valid: Job invalid: extra keys"),
        "{}",
        run.stderr
    );
    assert!(!w.env.db().exists(), "nothing stored");
}

#[test]
fn config_shows_each_lab_without_its_token() {
    let w = World::new();
    let run = w.env.run(&["config"]).expect(0);
    assert!(run.stdout.contains("lava.labs.mylab.url"), "{}", run.stdout);
    assert!(
        run.stdout.contains("lava.labs.mylab.token"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(LAVA_TOKEN), "{}", run.stdout);
}

#[test]
fn a_test_error_keeps_what_ran_and_a_definition_that_stopped_is_an_error() {
    let w = World::new();
    let id = w.definition_test("smoke,ltp-syscalls");
    w.lab().finish(
        1,
        "Incomplete",
        vec![
            Case::new("lava", "auto-login-action", "pass"),
            Case::new("lava", "0_smoke", "pass"),
            Case::new("lava", "1_ltp-syscalls", "fail"),
            Case {
                error: Some(("Test", "lava-test-shell timed out")),
                ..Case::new("lava", "job", "fail")
            },
            Case::new("0_smoke", "uname", "pass"),
            Case::new("1_ltp-syscalls", "open01", "pass"),
        ],
        &["open02 hangs"],
    );
    w.env.run(&["wait", &id.to_string()]).expect(3);
    let tests = tests_of(&w.document(id));
    for expected in [
        ("boot", "PASS"),
        ("smoke", "PASS"),
        ("ltp-syscalls", "ERROR"),
        ("ltp-syscalls.open01", "PASS"),
    ] {
        assert!(
            tests.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {tests:?}"
        );
    }
}

#[test]
fn a_submission_that_may_have_arrived_is_unknown_and_multinode_is_refused() {
    let w = World::new();
    w.lab().script(502, json!({"message": "Bad Gateway"}));
    let run = w
        .lava(&[
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:1",
            "--json",
        ])
        .expect(1);
    assert_eq!(run.json()["state"], "unknown");
    assert_eq!(w.lab().submitted().len(), 1, "not sent again");
    let file = w.env.path("multi.yaml");
    std::fs::write(
        &file,
        "job_name: x\nprotocols:\n  lava-multinode:\n    roles: {}\n",
    )
    .unwrap();
    let run = w
        .lava(&[
            "test",
            "--job-definition",
            file.to_str().unwrap(),
            "--build-id",
            "maestro:1",
        ])
        .expect(2);
    assert!(run.error_line().contains("multinode"), "{}", run.stderr);
}

#[test]
fn logs_of_a_lava_job_are_its_console() {
    let w = World::new();
    let id = w.boot()["id"].as_i64().unwrap();
    w.lab()
        .finish(1, "Complete", vec![], &["Linux version 6.12", "/ # "]);
    let run = w.env.run(&["logs", &id.to_string()]).expect(0);
    assert_eq!(run.stdout, "Linux version 6.12\n/ # \n");
    let raw = w.env.run(&["logs", &id.to_string(), "--raw"]).expect(0);
    assert!(raw.stdout.contains("\"lvl\": \"info\""), "{}", raw.stdout);
    let said = w
        .env
        .run(&["logs", &id.to_string(), "--json"])
        .expect(0)
        .json();
    assert_eq!(
        said["source"],
        format!("{}/api/v0.2/jobs/1/logs/", w.lab().url())
    );
}

#[test]
fn a_lab_kbridge_cannot_use_is_a_configuration_error() {
    let mut env = Env::bare();
    let file = env.path("kbridge.toml");
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    for (config, expected) in [
        (
            "[lava.labs.My-Lab]\nurl = \"https://lava.example\"\n",
            "lab names are lower-case",
        ),
        ("[lava.labs.mylab]\ndevice_type = \"qemu\"\n", "has no url"),
    ] {
        std::fs::write(&file, config).unwrap();
        let run = env
            .run(&[
                "schedule",
                "boot",
                "--runner",
                "lava",
                "--kernel",
                KERNEL,
                "--build-id",
                "maestro:1",
            ])
            .expect(2);
        assert!(
            run.error_line().contains(expected),
            "{expected}: {}",
            run.stderr
        );
    }
    assert_eq!(env.job_rows(), 0);
}

#[test]
fn a_job_definition_is_recorded_on_its_own_device_and_show_says_what_is_current() {
    let w = World::new();
    let file = w.env.path("ssh.yaml");
    std::fs::write(
        &file,
        "device_type: ssh\njob_name: {job_name}\ntimeouts: {job: {minutes: 5}, action: {minutes: 1}, connection: {minutes: 1}}\nactions: []\n",
    )
    .unwrap();
    let job = w.schedule(&[
        "test",
        "--job-definition",
        file.to_str().unwrap(),
        "--kernel",
        KERNEL,
        "--tests",
        "smoke",
        "--build-id",
        "maestro:1",
    ]);
    let id = job["id"].as_i64().unwrap();
    assert_eq!(job["device"], "ssh", "{job}");
    let jobs = w.env.run(&["jobs"]).expect(0).stdout;
    assert!(jobs.contains("ssh: smoke"), "{jobs}");
    let l = w.env.listen(&[]);
    w.lab().finish(1, "Complete", smoke_cases(), &[]);
    let token = w.token(id);
    let a = l.post(
        "/callback/lava/test",
        json!({"id": 1, "state_string": "Finished"})
            .to_string()
            .as_bytes(),
        &[("X-Kbridge-Token", &token)],
    );
    assert_eq!(a.status, 202, "{}", a.body);
    let done = w.wait_state(id, "completed");
    assert_eq!(done["actual_device"], "ssh01");
    let shown = w.env.run(&["show", &id.to_string()]).expect(0).stdout;
    assert!(
        shown.contains("device          ssh (ran on ssh01)"),
        "{shown}"
    );
    // What the runner says now comes first; the answer at submission is
    // labelled as such, with its time.
    let now = shown.find("runner_status").unwrap();
    let then = shown
        .find("response        (the runner's answer at submission, ")
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(now < then, "{shown}");
    let text = w
        .env
        .run(&["show", &id.to_string(), "--json"])
        .expect(0)
        .stdout;
    let at = |k: &str| {
        text.find(&format!("\n  \"{k}\":"))
            .unwrap_or_else(|| panic!("{text}"))
    };
    assert!(
        at("status") < at("request") && at("request") < at("response"),
        "{text}"
    );
}
