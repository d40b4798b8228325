//! The attacks that fell on the newer surfaces, each shown failing:
//! credentials in URLs, what a public LAVA token can make kbridge keep or
//! lose, hostile servers and hostile local input, and `POST /results`
//! telling strangers apart.

use std::time::Duration;

use serde_json::{json, Value};

use crate::lava::World as LavaWorld;
use crate::listen::World;
use crate::util::{build_callback, git, wait_until, Env, FakeTuxSuite};

/// Every byte of the database, its WAL included, as text.
fn store_text(env: &Env) -> String {
    let mut all = Vec::new();
    for suffix in ["", "-wal"] {
        let mut p = env.db().into_os_string();
        p.push(suffix);
        if let Ok(b) = std::fs::read(p) {
            all.extend(b);
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

/// Asserts that no output of `run` holds `secret`.
#[track_caller]
fn hides(run: &crate::util::Run, secret: &str, what: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{what} shows the secret:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

const GITLAB_TOKEN: &str = "glcbt-64_Zx9SECRETgitlab";

#[test]
fn credentials_in_a_repository_url_are_never_stored_sent_or_printed() {
    let w = World::new();
    let tree = format!("https://gitlab-ci-token:{GITLAB_TOKEN}@gitlab.example/g/linux.git");
    let args = [
        "schedule",
        "build",
        "--tree",
        &tree,
        "--branch",
        "master",
        "--toolchain",
        "gcc-13",
        "--kconfig",
        "defconfig",
    ];
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let run = w.env.run(&dry).expect(0);
    hides(&run, GITLAB_TOKEN, "--dry-run");
    assert!(
        run.stderr
            .contains("removed the user name and password from the repository URL https://gitlab.example/g/linux.git"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("https://gitlab.example/g/linux.git"));

    let job = w.schedule(&args);
    let sent = &w.tux.submissions().last().unwrap().json()["builds"][0];
    assert_eq!(sent["git_repo"], "https://gitlab.example/g/linux.git");
    for cmd in [
        vec!["show", &job.uid],
        vec!["show", &job.uid, "--json"],
        vec!["jobs", "--json"],
        vec!["jobs"],
    ] {
        hides(&w.env.run(&cmd).expect(0), GITLAB_TOKEN, &cmd.join(" "));
    }
    assert!(!store_text(&w.env).contains(GITLAB_TOKEN), "stored");

    // A runner that echoes the credentials back (an old job, a job started
    // elsewhere) does not get them into KCIDB.
    let l = w.listen(&[]);
    let mut body: Value = serde_json::from_str(&build_callback(
        &job.uid,
        &format!("{}/builds/{}/", w.art.url(), job.uid),
    ))
    .unwrap();
    body["status"]["git_repo"] = json!(tree);
    w.deliver(&l, &job, &body.to_string());
    w.wait_state(job.id, "completed");
    let run = w.env.run(&["results", &job.uid, "--json"]).expect(0);
    hides(&run, GITLAB_TOKEN, "results --json");
    assert_eq!(
        run.json()["checkouts"][0]["git_repository_url"],
        "https://gitlab.example/g/linux.git"
    );
    let doc =
        std::fs::read_to_string(w.env.path(&format!("kcidb/tuxsuite-{}.json", job.uid))).unwrap();
    assert!(!doc.contains(GITLAB_TOKEN), "{doc}");
    for cmd in [vec!["show", &job.uid, "--json"], vec!["inbox", "--json"]] {
        hides(&w.env.run(&cmd).expect(0), GITLAB_TOKEN, &cmd.join(" "));
    }
}

#[test]
fn a_gitlab_ci_remote_is_built_without_its_token() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("PATH", &std::env::var("PATH").unwrap_or_default());
    let bare = env.path("linux.git");
    let work = env.path("linux");
    std::fs::create_dir_all(&bare).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    git(&bare, &["init", "--bare", "-q"]);
    git(&work, &["init", "-q"]);
    std::fs::write(work.join("Makefile"), "all:\n").unwrap();
    git(&work, &["add", "Makefile"]);
    git(&work, &["commit", "-q", "-m", "first"]);
    // GitLab CI's checkout remote, the token in its user part; pushes go to
    // the local bare repository.
    let remote = format!("https://gitlab-ci-token:{GITLAB_TOKEN}@gitlab.example/g/linux.git");
    git(&work, &["remote", "add", "origin", &remote]);
    git(
        &work,
        &[
            "config",
            &format!("url.{}.insteadOf", bare.display()),
            &remote,
        ],
    );
    let args = [
        "schedule",
        "build",
        "--git-head",
        "--push",
        "--toolchain",
        "gcc-13",
        "--kconfig",
        "defconfig",
        "--json",
    ];
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    hides(
        &env.run_in(&work, &dry).expect(0),
        GITLAB_TOKEN,
        "--dry-run",
    );
    let run = env.run_in(&work, &args).expect(0);
    hides(&run, GITLAB_TOKEN, "--json");
    assert!(run.stderr.contains("removed the user name and password"));
    let entry = &tux.submissions()[0].json()["builds"][0];
    assert_eq!(entry["git_repo"], "https://gitlab.example/g/linux.git");
    assert!(!tux.submissions()[0].body.contains(GITLAB_TOKEN));

    // A plan built from the checkout: its builds and the plan file the
    // runner keeps.
    let plan = env.path("plan.yaml");
    std::fs::write(
        &plan,
        format!("version: 1\nname: head\njobs:\n- build: {{git_repo: '{remote}', git_ref: master, toolchain: gcc-13, target_arch: riscv, kconfig: [defconfig]}}\n"),
    )
    .unwrap();
    let run = env
        .run_in(
            &work,
            &["schedule", "plan", plan.to_str().unwrap(), "--json"],
        )
        .expect(0);
    hides(&run, GITLAB_TOKEN, "schedule plan");
    for r in tux.submissions() {
        assert!(!r.body.contains(GITLAB_TOKEN), "sent: {}", r.body);
    }
    assert!(!store_text(&env).contains(GITLAB_TOKEN), "stored");
}

#[test]
fn every_url_kbridge_prints_has_its_user_part_redacted() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    // Upper case, as placeholders are spelt: still a secret.
    env.set(
        "KBRIDGE_CALLBACK_URL",
        "https://HOOKUSER:HOOKPASSWORD@ci.example.org/kbridge",
    );
    let secrets = ["HOOKUSER", "HOOKPASSWORD"];
    let test = [
        "schedule",
        "test",
        "--kernel",
        "https://storage.example/Image",
        "--tests",
        "ltp-smoke",
        "--build-id",
        "maestro:1",
    ];
    let mut dry = test.to_vec();
    dry.push("--dry-run");
    let mut json = test.to_vec();
    json.push("--json");
    let mut runs = vec![
        ("config", env.run(&["config"]).expect(0)),
        ("config --json", env.run(&["config", "--json"]).expect(0)),
        ("doctor", env.run(&["doctor"])),
        ("--dry-run", env.run(&dry).expect(0)),
        ("--json", env.run(&json).expect(0)),
    ];
    // The runner still gets the URL it must call, credentials and all.
    let sent = tux.submissions()[0].json();
    assert!(sent["callback"]
        .as_str()
        .unwrap()
        .starts_with("https://HOOKUSER:HOOKPASSWORD@ci.example.org/kbridge/callback/"));
    runs.push(("show", env.run(&["show", "1"]).expect(0)));
    runs.push(("show --json", env.run(&["show", "1", "--json"]).expect(0)));
    runs.push(("jobs --json", env.run(&["jobs", "--json"]).expect(0)));
    for (what, run) in &runs {
        for s in secrets {
            hides(run, s, what);
        }
    }
    let shown = &runs[0].1.stdout;
    assert!(
        shown.contains("https://[redacted]@ci.example.org/kbridge"),
        "{shown}"
    );

    // A database URL's password, however it is given.
    let run = env
        .run(&[
            "config",
            "--db",
            "postgresql://kb:DBPASSWORD@db.example/kbridge",
        ])
        .expect(0);
    hides(&run, "DBPASSWORD", "config --db");
}

#[test]
fn a_public_lava_token_cannot_fill_the_disk() {
    let w = LavaWorld::new();
    let id = w.boot()["id"].as_i64().unwrap();
    let token = w.token(id);
    let l = w.env.listen(&[]);
    let before = std::fs::metadata(w.env.db()).unwrap().len()
        + std::fs::metadata(format!("{}-wal", w.env.db().display()))
            .map(|m| m.len())
            .unwrap_or(0);
    // 300 distinct bodies of 1 MiB each (max_body), with the job's real
    // token: some unreadable, some for the wrong route, some readable
    // notices.
    let filler = "x".repeat((1 << 20) - 200);
    for i in 0..300 {
        let (route, body) = match i % 3 {
            0 => (
                "/callback/lava/boot",
                format!("{{\"pad{i}\": \"{filler}\"}}"),
            ),
            1 => (
                "/callback/lava/test",
                json!({"id": 1, "n": i, "pad": filler}).to_string(),
            ),
            _ => (
                "/callback/lava/boot",
                json!({"id": 1, "n": i, "description": filler, "state_string": "Running"})
                    .to_string(),
            ),
        };
        let status = crate::util::post(
            &format!("{}{route}", l.url),
            "X-Kbridge-Token",
            &token,
            &body,
        );
        assert!(
            matches!(status, 200 | 202 | 400),
            "{status} for body {}",
            i % 3
        );
    }
    let after = std::fs::metadata(w.env.db()).unwrap().len()
        + std::fs::metadata(format!("{}-wal", w.env.db().display()))
            .map(|m| m.len())
            .unwrap_or(0);
    let growth = after.saturating_sub(before);
    assert!(growth < 1 << 20, "the database grew by {growth} bytes");
    let inbox = w.env.run(&["inbox", "--json"]).expect(0).json();
    let rows = inbox.as_array().unwrap();
    assert!(rows.len() <= 4, "{} rows kept: {inbox}", rows.len());
    // The job is still waiting for its result, and the lab was asked no
    // more than once for all those notices.
    let job = w.job(id);
    assert!(
        matches!(job["state"].as_str(), Some("submitted" | "received")),
        "{job}"
    );
    let asked = w
        .lab()
        .requests()
        .iter()
        .filter(|r| r.contains("/jobs/1/"))
        .count();
    assert!(asked <= 2, "the lab was asked {asked} times");

    // Once the job is final, its token makes kbridge keep nothing more.
    w.lab().finish(
        1,
        "Complete",
        vec![crate::util::Case::new("lava", "auto-login-action", "pass")],
        &[],
    );
    w.env
        .run(&["wait", &id.to_string(), "--timeout", "60"])
        .expect(0);
    let kept = w.env.run(&["inbox", "--json"]).expect(0).json();
    for i in 0..5 {
        crate::util::post(
            &format!("{}/callback/lava/boot", l.url),
            "X-Kbridge-Token",
            &token,
            &format!("not json {i}"),
        );
    }
    assert_eq!(w.env.run(&["inbox", "--json"]).expect(0).json(), kept);

    // What is kept can go.
    let run = w.env.run(&["inbox", "prune", "--json"]).expect(0);
    assert!(
        run.json()["removed"].as_i64().unwrap() >= 1,
        "{}",
        run.stdout
    );
    let left = w.env.run(&["inbox", "--json"]).expect(0).json();
    assert!(
        left.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "processed"),
        "{left}"
    );
}

#[test]
fn a_lava_callback_for_a_running_job_is_a_notice_and_loses_nothing() {
    let w = LavaWorld::new();
    let id = w.boot()["id"].as_i64().unwrap();
    let token = w.token(id);
    let l = w.env.listen(&[]);
    w.lab().run(1);
    // Someone who read the public definition sends the token while the job
    // runs.
    let early = l.post(
        "/callback/lava/boot",
        json!({"id": 1, "state_string": "Running"})
            .to_string()
            .as_bytes(),
        &[("X-Kbridge-Token", &token)],
    );
    assert_eq!(early.status, 202, "{}", early.body);
    wait_until(
        Duration::from_secs(15),
        "the notice to be looked at",
        || w.env.run(&["inbox", "--json"]).expect(0).json()[0]["status"] == "early",
    );
    let job = w.job(id);
    assert_eq!(job["state"], "submitted", "{job}");
    assert!(
        job["detail"].as_str().unwrap().contains("came early"),
        "{job}"
    );

    // The genuine callback, when the job finishes, is acted on: not a
    // duplicate.
    w.lab().finish(
        1,
        "Complete",
        vec![crate::util::Case::new("lava", "auto-login-action", "pass")],
        &[],
    );
    let genuine = l.post(
        "/callback/lava/boot",
        json!({"id": 1, "state_string": "Finished", "health_string": "Complete", "token": token})
            .to_string()
            .as_bytes(),
        &[("X-Kbridge-Token", &token)],
    );
    assert_eq!(
        genuine.status, 202,
        "the genuine callback: {}",
        genuine.body
    );
    let run = w
        .env
        .run(&["wait", &id.to_string(), "--timeout", "60", "--json"])
        .expect(0);
    assert_eq!(run.json()["jobs"][0]["result"], "pass");
    assert_eq!(w.job(id)["state"], "completed");
}

#[test]
fn a_notice_whose_fetching_gives_up_leaves_the_job_polled() {
    let mut w = LavaWorld::new();
    w.env.set("KBRIDGE_FETCH_RETRY_FOR", "0.5");
    let id = w.boot()["id"].as_i64().unwrap();
    let token = w.token(id);
    let l = w.env.listen(&[]);
    // The lab's REST API is down when the callback comes.
    w.lab().set_down(true);
    let a = l.post(
        "/callback/lava/boot",
        json!({"id": 1, "state_string": "Finished"})
            .to_string()
            .as_bytes(),
        &[("X-Kbridge-Token", &token)],
    );
    assert_eq!(a.status, 202, "{}", a.body);
    wait_until(Duration::from_secs(20), "fetching to give up", || {
        w.job(id)["state"] == "submitted"
    });
    assert!(
        w.job(id)["detail"]
            .as_str()
            .unwrap()
            .contains("the job is polled again"),
        "{}",
        w.job(id)
    );
    drop(l);
    // Polling then finds it.
    w.lab().set_down(false);
    w.lab().run(1);
    w.lab().finish(
        1,
        "Complete",
        vec![crate::util::Case::new("lava", "auto-login-action", "pass")],
        &[],
    );
    w.env
        .run(&["wait", &id.to_string(), "--timeout", "60"])
        .expect(0);
}
