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
    let started = std::time::Instant::now();
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
    // The job is still waiting for its result, and the lab was asked about
    // it at most once per 10 s however many notices came.
    let allowed = 2 + started.elapsed().as_secs() as usize / 10;
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
    assert!(
        asked <= allowed,
        "the lab was asked {asked} times in {:?}",
        started.elapsed()
    );

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
    // The token is in the stored definition; nothing kbridge prints shows
    // it.
    for cmd in [
        vec!["show".to_string(), id.to_string()],
        vec!["show".to_string(), id.to_string(), "--json".to_string()],
        vec!["jobs".to_string(), "--json".to_string()],
    ] {
        let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let run = w.env.run(&cmd).expect(0);
        hides(&run, &token, &cmd.join(" "));
        assert!(run.stdout.contains("<redacted>"), "{}", run.stdout);
    }
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

/// A TuxSuite stand-in, an artefact server and a finished build whose
/// files are there.
struct Storage {
    tux: FakeTuxSuite,
    art: crate::util::Artifacts,
    env: Env,
    uid: String,
    base: String,
}

impl Storage {
    fn new() -> Storage {
        let tux = FakeTuxSuite::start();
        let mut env = Env::new(&tux);
        let art = crate::util::Artifacts::start();
        env.set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
        let build = env
            .run(&crate::util::build_args(&["--json"]))
            .expect(0)
            .json();
        let uid = build["uid"].as_str().unwrap().to_string();
        let base = format!("{}/builds/{uid}/", art.url());
        tux.finish_build(&uid, &base, true);
        Storage {
            tux,
            art,
            env,
            uid,
            base,
        }
    }

    fn list(&self, files: &[&str]) {
        let files: Vec<Value> = files.iter().map(|f| json!({ "Url": f })).collect();
        self.art.put(
            &format!("/builds/{}/?export=json", self.uid),
            json!({"files": files, "folders": []}).to_string(),
        );
    }
}

#[test]
fn a_download_stays_within_its_caps_and_names_what_it_cut() {
    let s = Storage::new();
    let uid = &s.uid;
    s.art
        .put(&format!("/builds/{uid}/config"), "CONFIG_RISCV=y\n");
    s.art
        .put(&format!("/builds/{uid}/Image"), vec![b'k'; 300_000]);
    // 50 MB of zeros, about 50 KB on the wire.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, &vec![0u8; 50 << 20]).unwrap();
    s.art
        .put_gzipped(&format!("/builds/{uid}/vmlinux"), gz.finish().unwrap());
    s.art.endless(&format!("/builds/{uid}/endless.log"));
    s.list(&[
        &format!("{}config", s.base),
        &format!("{}Image", s.base),
        &format!("{}vmlinux", s.base),
        &format!("{}endless.log", s.base),
        "https://elsewhere.example/builds/x/secret",
        &format!("{}a//b", s.base),
    ]);
    let listed = s.env.run(&["artefacts", uid]).expect(0);
    assert!(
        listed
            .stdout
            .contains("secret  (not fetched: it is outside the job's folder"),
        "{}",
        listed.stdout
    );
    assert!(listed
        .stdout
        .contains("a//b  (not fetched: its path has an empty"));
    assert!(listed.stdout.lines().any(|l| l == "config"));

    let out = s.env.path("out");
    let run = s
        .env
        .run(&[
            "artefacts",
            uid,
            "--download",
            out.to_str().unwrap(),
            "--max-file-bytes",
            "256KiB",
            "--json",
        ])
        .expect(1);
    let dir = out.join(uid);
    assert_eq!(
        std::fs::read_to_string(dir.join("config")).unwrap(),
        "CONFIG_RISCV=y\n"
    );
    for cut in ["Image", "vmlinux", "endless.log"] {
        assert!(!dir.join(cut).exists(), "{cut} was left under its name");
        assert!(
            run.stderr.contains(&format!(
                "not fetched: {cut}: cut: larger than download_max_file (262144 bytes)"
            )),
            "{cut}: {}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("not fetched: secret: it is outside"));
    assert!(
        run.error_line_last()
            .contains("5 problem(s) among 6 file(s)"),
        "{}",
        run.stderr
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["config"], "no partial file is left");
    let doc = run.json();
    assert_eq!(doc["kbridge"], 1);
    let by_name = |n: &str| {
        doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("config")["outcome"], "written");
    assert_eq!(by_name("Image")["outcome"], "skipped");

    // The job's total is capped too.
    let out = s.env.path("out2");
    let run = s
        .env
        .run(&[
            "artefacts",
            uid,
            "--download",
            out.to_str().unwrap(),
            "--max-job-bytes",
            "100KiB",
        ])
        .expect(1);
    assert!(run.stderr.contains("download_max_job"), "{}", run.stderr);
}

#[test]
fn an_endless_folder_tree_is_read_within_a_bound_and_said_to_be_cut() {
    let s = Storage::new();
    s.art.endless_folders(&format!("/builds/{}/", s.uid));
    let before = s.art.hits.load(std::sync::atomic::Ordering::SeqCst);
    let run = s.env.run(&["artefacts", &s.uid]).expect(1);
    let asked = s.art.hits.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert!(asked <= 201, "{asked} requests for one listing");
    assert!(
        run.stderr
            .contains("the listing of job 1 is incomplete: the listing stopped after 200 folders"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.is_empty(), "what was read is listed");
    drop(s.tux);
}

#[test]
fn a_log_with_one_endless_line_is_cut_not_held() {
    let s = Storage::new();
    let test = s
        .env
        .run(&[
            "schedule",
            "test",
            "--kernel",
            "https://storage.example/Image",
            "--tests",
            "ltp-smoke",
            "--build-id",
            "maestro:1",
            "--json",
        ])
        .expect(0)
        .json();
    let uid = test["uid"].as_str().unwrap();
    let line = "z".repeat(8 << 20);
    s.art.put(
        &format!("/tests/{uid}/lava-logs.yaml"),
        format!(
            "- {{\"dt\": \"1\", \"lvl\": \"target\", \"msg\": \"{line}\"}}\n- {{\"dt\": \"2\", \"lvl\": \"target\", \"msg\": \"login:\"}}\n"
        ),
    );
    s.tux.finish_test(
        uid,
        &format!("{}/tests/{uid}/", s.art.url()),
        json!({"boot": "pass"}),
    );
    let run = s.env.run(&["logs", uid]).expect(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", &run.stdout[..200]);
    assert!(lines[0].ends_with("[… line cut: longer than 64 KiB]"));
    assert!(lines[0].len() < 70_000);
    assert_eq!(lines[1], "login:");
}

#[test]
fn hostile_plans_and_series_are_refused_before_anything_is_recorded() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let plan = env.path("plan.yaml");
    let refused = |text: &str, want: &str| {
        std::fs::write(&plan, text).unwrap();
        let run = env
            .run(&[
                "schedule",
                "plan",
                plan.to_str().unwrap(),
                "--build-id",
                "maestro:1",
            ])
            .expect(2);
        assert!(run.error_line().contains(want), "{want}: {}", run.stderr);
    };
    refused(
        "version: 1\nname: n\njobs:\n- tests: [{device: qemu-x86_64, kernel: 'https://k/I', tests: [ltp-smoke], sharding: 18446744073709551615}]\n",
        "more shards than kbridge makes of one test (at most 100)",
    );
    refused(
        &format!("version: 1\nname: n\njobs: {}\n", "[".repeat(200_000)),
        "nests deeper than 64 levels (at line 3)",
    );
    assert!(tux.submissions().is_empty());
    assert_eq!(env.job_rows(), 0);

    // A quilt directory with a link to the TuxSuite token file.
    let series = env.path("series-dir");
    std::fs::create_dir_all(&series).unwrap();
    std::fs::write(series.join("series"), "0001.patch\n").unwrap();
    std::fs::write(series.join("0001.patch"), "--- a\n+++ b\n").unwrap();
    let secret = env.path("home/.config/tuxsuite/config.ini");
    std::fs::create_dir_all(secret.parent().unwrap()).unwrap();
    std::fs::write(&secret, "[default]\ntoken=tux-secret\n").unwrap();
    std::os::unix::fs::symlink(&secret, series.join("0002.patch")).unwrap();
    let args = |series: &str| {
        let mut a = crate::util::build_args(&["--patch-series"]);
        a.push(Box::leak(series.to_string().into_boxed_str()));
        a
    };
    for extra in [vec![], vec!["--dry-run"]] {
        let mut a = args(series.to_str().unwrap());
        a.extend(extra);
        let run = env.run(&a).expect(2);
        assert!(
            run.error_line().contains(&format!(
                "{} is a symbolic link",
                series.join("0002.patch").display()
            )),
            "{}",
            run.stderr
        );
        assert!(
            !run.stdout.contains("dHV4LXNlY3JldA"),
            "the token is not printed"
        );
    }
    // A link to the directory itself would make the walk endless.
    std::fs::remove_file(series.join("0002.patch")).unwrap();
    std::os::unix::fs::symlink(&series, series.join("loop")).unwrap();
    let run = env.run(&args(series.to_str().unwrap())).expect(2);
    assert!(
        run.error_line().contains("loop is a symbolic link"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(series.join("loop")).unwrap();

    // Too large a series, named with its size and the limit.
    let big = env.path("big.mbox");
    std::fs::write(&big, vec![b'x'; (16 << 20) + 1]).unwrap();
    let run = env.run(&args(big.to_str().unwrap())).expect(2);
    assert!(
        run.error_line()
            .contains("16777217 bytes is more than kbridge sends (16 MiB)"),
        "{}",
        run.stderr
    );
    assert!(tux.submissions().is_empty());
    assert_eq!(env.job_rows(), 0);

    // A series that fits is kept once, in the request as sent.
    let fits = env.path("fits.mbox");
    std::fs::write(&fits, "From x\n".repeat(150_000)).unwrap();
    env.run(&args(fits.to_str().unwrap())).expect(0);
    let db = rusqlite::Connection::open(env.db()).unwrap();
    let (spec, request): (String, String) = db
        .query_row("SELECT spec, request FROM jobs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(
        spec.len() < 2000,
        "the spec holds the series: {} bytes",
        spec.len()
    );
    assert!(spec.contains("\"recorded\""), "{spec}");
    assert!(request.len() > 1_000_000, "the request holds it");
}

#[test]
fn a_config_file_made_to_hurt_is_answered_at_once() {
    let env = Env::bare();
    let file = env.path("c.toml");
    std::fs::write(
        &file,
        format!(
            "[report.sources.{}]\nsecret_file = \"/nonexistent\"\n",
            "s".repeat(1_000_000)
        ),
    )
    .unwrap();
    let run = env
        .run(&["--config", file.to_str().unwrap(), "config"])
        .expect(0);
    assert!(run.stdout.contains("report.sources.sss"));
    let keys: String = (0..80_000).map(|i| format!("unknown_{i} = 1\n")).collect();
    std::fs::write(&file, keys).unwrap();
    let run = env
        .run(&["--config", file.to_str().unwrap(), "config"])
        .expect(2);
    assert!(
        run.error_line()
            .contains("line 1 column 1: unknown key 'unknown_0'"),
        "{}",
        run.stderr
    );
    std::fs::write(&file, format!("{} = 1\n", "k".repeat(1_000_000))).unwrap();
    let run = env
        .run(&["--config", file.to_str().unwrap(), "config"])
        .expect(2);
    assert!(run.error_line().len() < 300, "{}", run.error_line());
}

#[test]
fn a_signed_callback_for_a_job_still_running_changes_nothing_for_good() {
    let w = World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    let mut body: Value = serde_json::from_str(&w.test_body(&job.uid)).unwrap();
    body["status"]["state"] = json!("running");
    w.deliver(&l, &job, &body.to_string());
    wait_until(
        Duration::from_secs(15),
        "the report to be looked at",
        || w.inbox()[0]["status"] == "early",
    );
    assert_eq!(w.job(job.id)["state"], "submitted");
    // The real one is processed.
    let done = w.test_body(&job.uid);
    let a = w.send(&l, &job, done.as_bytes(), done.as_bytes());
    assert_eq!(a.status, 202, "{}", a.body);
    w.wait_state(job.id, "completed");
}
