//! The TuxSuite request for every option, field for field as the official
//! client sends it (`docs/tuxsuite.md`), without its bugs:
//! every KEY=VALUE of a repeated flag is kept.

use serde_json::json;

use crate::util::{build_args, git, Env, FakeTuxSuite};

const KERNEL: &str = "https://storage.example/b/Image";

/// Schedules an LTP smoke test and gives its job record.
fn schedule_smoke(env: &Env) -> serde_json::Value {
    env.run(&[
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
    .expect(0)
    .json()
}

#[test]
fn every_build_option_reaches_the_build_entry() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    env.run(&build_args(&[
        "--make-var",
        "W=1",
        "--make-var",
        "LLVM=1",
        "--env",
        "KCFLAGS=-Werror",
        "--env",
        "FOO=a=b",
        "--build-name",
        "kasan-clang",
        "--kernel-image",
        "Image.gz",
        "--image-sha",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "--no-cache",
        "--notify-email",
        "dev@example.org",
        "--notify-email",
        "ci@example.org",
        "--target",
        "config",
        "--target",
        "kernel",
    ]))
    .expect(0);
    let body = tux.submissions()[0].json();
    let e = &body["builds"][0];
    assert_eq!(e["make_variables"], json!({"W": "1", "LLVM": "1"}));
    assert_eq!(
        e["environment"],
        json!({"KCFLAGS": "-Werror", "FOO": "a=b"})
    );
    assert_eq!(e["build_name"], "kasan-clang");
    assert_eq!(e["kernel_image"], "Image.gz");
    assert_eq!(
        e["image_sha"],
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    );
    assert_eq!(e["no_cache"], true);
    assert_eq!(
        e["notify_emails"],
        json!(["dev@example.org", "ci@example.org"])
    );
    assert_eq!(e["targets"], json!(["config", "kernel"]));

    // No target named: the client's six, and no optional field at all.
    env.run(&build_args(&[])).expect(0);
    let e = &tux.submissions()[1].json()["builds"][0];
    assert_eq!(
        e["targets"],
        json!([
            "config",
            "debugkernel",
            "dtbs",
            "kernel",
            "modules",
            "xipkernel"
        ])
    );
    for absent in [
        "build_name",
        "kernel_image",
        "image_sha",
        "no_cache",
        "notify_emails",
    ] {
        assert!(e.get(absent).is_none(), "{absent}: {e}");
    }
    assert_eq!(e["make_variables"], json!({}));
}

#[test]
fn every_test_option_reaches_the_test_request() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    env.run(&[
        "schedule",
        "test",
        "--kernel",
        KERNEL,
        "--tests",
        "ltp-smoke,kselftest-memfd",
        "--build-id",
        "maestro:1",
        "--rootfs",
        "https://storage.example/rootfs.ext4.zst",
        "--dtb",
        "https://storage.example/b/dtbs/sifive.dtb",
        "--bios",
        "https://storage.example/fw_jump.bin",
        "--boot-args",
        "earlycon=sbi",
        "--timeout",
        "boot=30",
        "--timeout",
        "ltp-smoke=60",
        "--overlay",
        "https://storage.example/ov.tar.xz",
        "/opt",
        "--overlay",
        "https://storage.example/ov2.tar.xz",
        "--command",
        "uname -a",
        "--command",
        "cat /proc/cpuinfo",
        "--qemu-image",
        "docker.io/qemu/qemu:latest",
        "--test-name",
        "smoke",
        "--shared",
        "--host",
        "m6a.large",
        "--parameter",
        "SHARD_NUMBER=4",
        "--parameter",
        "SHARD_INDEX=1",
        "--notify-email",
        "dev@example.org",
    ])
    .expect(0);
    let b = tux.submissions()[0].json();
    assert_eq!(b["rootfs"], "https://storage.example/rootfs.ext4.zst");
    assert_eq!(b["dtb"], "https://storage.example/b/dtbs/sifive.dtb");
    assert_eq!(b["bios"], "https://storage.example/fw_jump.bin");
    assert_eq!(b["boot_args"], "earlycon=sbi");
    assert_eq!(
        b["timeouts"],
        json!({"boot": 30, "ltp-smoke": 60}),
        "both kept"
    );
    assert_eq!(
        b["overlays"],
        json!([
            ["https://storage.example/ov.tar.xz", "/opt"],
            ["https://storage.example/ov2.tar.xz", "/"]
        ])
    );
    assert_eq!(b["commands"], json!(["uname -a", "cat /proc/cpuinfo"]));
    assert_eq!(b["qemu_image"], "docker.io/qemu/qemu:latest");
    assert_eq!(b["test_name"], "smoke");
    assert_eq!(b["shared"], true);
    assert_eq!(b["host"], "m6a.large");
    assert_eq!(
        b["parameters"],
        json!({"SHARD_NUMBER": "4", "SHARD_INDEX": "1"}),
        "both kept"
    );
    assert_eq!(b["notify_emails"], json!(["dev@example.org"]));
    // What the client always sends.
    assert_eq!(b["lab"], "https://lkft.validation.linaro.org");
    assert!(b["lava_test_plans_project"].is_null());
    for k in [
        "fip",
        "ap_romfw",
        "mcp_fw",
        "mcp_romfw",
        "scp_fw",
        "scp_romfw",
    ] {
        assert!(b.get(k).is_some_and(|v| v.is_null()), "{k}: {b}");
    }

    // A plain boot: the client's defaults.
    env.run(&[
        "schedule",
        "boot",
        "--kernel",
        KERNEL,
        "--build-id",
        "maestro:2",
    ])
    .expect(0);
    let b = tux.submissions()[1].json();
    assert_eq!(b["host"], "x86_64");
    assert!(
        b["rootfs"].is_null() && b["dtb"].is_null() && b["bios"].is_null(),
        "{b}"
    );
    for absent in [
        "timeouts",
        "overlays",
        "commands",
        "shared",
        "test_name",
        "tests",
    ] {
        assert!(b.get(absent).is_none(), "{absent}: {b}");
    }
}

#[test]
fn bad_option_values_are_usage_errors_before_any_request() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let test = |extra: &[&str]| {
        let mut a = vec![
            "schedule",
            "test",
            "--kernel",
            KERNEL,
            "--tests",
            "ltp-smoke",
            "--build-id",
            "maestro:1",
        ];
        a.extend_from_slice(extra);
        env.run(&a)
    };
    for (extra, expected) in [
        (
            &["--timeout", "boot=soon"][..],
            "not a whole number of minutes",
        ),
        (&["--timeout", "1h"][..], "--timeout DURATION bounds --wait"),
        (&["--overlay", "/opt"][..], "expected URL [PATH]"),
        (
            &["--overlay", "https://s.example/o.tar", "opt"][..],
            "must be absolute",
        ),
        (&["--notify-email", "nobody"][..], "not an e-mail address"),
    ] {
        let run = test(extra).expect(2);
        assert!(
            run.error_line().contains(expected),
            "{extra:?}: {}",
            run.stderr
        );
    }
    let run = env.run(&build_args(&["--image-sha", "abc"])).expect(2);
    assert!(run.error_line().contains("64 hex digits"), "{}", run.stderr);
    let run = env.run(&build_args(&["--timeout", "boot=30"])).expect(2);
    assert!(run.error_line().contains("limits a test"), "{}", run.stderr);
    assert!(tux.submissions().is_empty());
    assert_eq!(env.job_rows(), 0);
}

#[test]
fn logs_print_a_builds_log_and_a_tests_console_streamed() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let art = crate::util::Artifacts::start();
    env.set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
    let build = env.run(&build_args(&["--json"])).expect(0).json();
    let uid = build["uid"].as_str().unwrap();
    art.put(
        &format!("/builds/{uid}/build.log"),
        "make: Entering directory\nerror: it broke\n",
    );
    tux.finish_build(uid, &format!("{}/builds/{uid}/", art.url()), false);
    let run = env.run(&["logs", uid]).expect(0);
    assert_eq!(run.stdout, "make: Entering directory\nerror: it broke\n");

    let test = schedule_smoke(&env);
    let tuid = test["uid"].as_str().unwrap();
    let yaml = "- {\"dt\": \"2026-02-24T12:41:42.5\", \"lvl\": \"info\", \"msg\": \"start: 1 tftp-deploy\"}\n- {\"dt\": \"2026-02-24T12:41:43.0\", \"lvl\": \"target\", \"msg\": \"Linux version 6.12\"}\n- {\"dt\": \"2026-02-24T12:41:44.0\", \"lvl\": \"target\", \"msg\": \"/ # \"}\n";
    art.put(&format!("/tests/{tuid}/lava-logs.yaml"), yaml);
    tux.finish_test(
        tuid,
        &format!("{}/tests/{tuid}/", art.url()),
        json!({"boot": "pass"}),
    );
    let run = env.run(&["logs", tuid]).expect(0);
    assert_eq!(
        run.stdout, "Linux version 6.12\n/ # \n",
        "console lines only"
    );
    let run = env.run(&["logs", tuid, "--raw"]).expect(0);
    assert_eq!(run.stdout, yaml);
    let said = env.run(&["logs", tuid, "--json"]).expect(0).json();
    assert_eq!(said["kbridge"], 1);
    assert_eq!(
        said["source"],
        format!("{}/tests/{tuid}/lava-logs.yaml", art.url())
    );
    assert_eq!(said["shown"], "its console lines");

    // A job that has not run yet has no logs, and says so.
    let later = env
        .run(&[
            "schedule",
            "boot",
            "--kernel",
            KERNEL,
            "--build-id",
            "maestro:2",
            "--json",
        ])
        .expect(0)
        .json();
    let run = env.run(&["logs", later["uid"].as_str().unwrap()]).expect(1);
    assert!(
        run.error_line().contains("has no logs yet"),
        "{}",
        run.stderr
    );
}

/// How many cancel requests TuxSuite received.
fn cancels(tux: &FakeTuxSuite) -> usize {
    tux.received()
        .iter()
        .filter(|r| r.path.ends_with("/cancel"))
        .count()
}

#[test]
pub(crate) fn cancel_ends_a_running_job_canceled_and_says_so_for_a_finished_one() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_POLL_INTERVAL", "0.2");
    let running = schedule_smoke(&env);
    let id = running["id"].to_string();
    let run = env.run(&["cancel", &id]).expect(0);
    assert!(run.stdout.contains("canceling job"), "{}", run.stdout);
    let cancel = tux
        .received()
        .into_iter()
        .find(|r| r.path.ends_with("/cancel"))
        .expect("a cancel request");
    assert_eq!(cancel.method, "POST");
    assert_eq!(
        cancel.path,
        format!(
            "/v1/groups/riscv/projects/kbridge/tests/{}/cancel",
            running["uid"].as_str().unwrap()
        )
    );
    // The runner's word ends it: canceled, MISS, an infrastructure exit.
    let waited = env.run(&["wait", &id, "--json"]).expect(3);
    assert_eq!(waited.json()["jobs"][0]["state"], "canceled");
    let doc = env.run(&["results", &id, "--json"]).json();
    assert!(
        doc["tests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "MISS"),
        "{doc}"
    );
    // A finished job is left alone, and the exit status says so.
    let again = env.run(&["cancel", &id]).expect(1);
    assert!(
        again.stderr.contains("has already finished (canceled"),
        "{}",
        again.stderr
    );
    assert_eq!(cancels(&tux), 1);
    // --json says what happened to each job.
    let other = schedule_smoke(&env);
    let other_id = other["id"].to_string();
    let run = env.run(&["cancel", &id, &other_id, "--json"]).expect(1);
    let said = run.json();
    assert_eq!(said["kbridge"], 1);
    assert_eq!(said["jobs"][0]["outcome"], "left");
    assert_eq!(said["jobs"][1]["outcome"], "asked");
    assert_eq!(said["jobs"][1]["uid"], other["uid"]);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn track_adopts_jobs_started_elsewhere_once() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let art = crate::util::Artifacts::start();
    env.set("KBRIDGE_POLL_INTERVAL", "0.2")
        .set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
    // A finished test that ran after a build, and a running one.
    let done = "2MBYelsewhere0000000000done";
    let running = "2MBYelsewhere00000000running";
    let download = art.test_job(done, crate::util::RESULTS_JSON, "boot\n");
    tux.add_job(
        done,
        json!({"device": "qemu-riscv64", "tests": ["boot", "ltp-smoke"],
        "waiting_for": "BUILD#2MBYbuild00000000000000001"}),
    );
    let build = "2MBYbuild00000000000000001";
    tux.add_job(
        build,
        json!({"git_repo": "https://git.example/linux.git", "git_ref": "master",
        "target_arch": "riscv", "toolchain": "gcc-13", "kconfig": ["defconfig"]}),
    );
    tux.finish_build(build, &format!("{}/builds/{build}/", art.url()), true);
    tux.finish_test(
        done,
        &download,
        json!({"boot": "pass", "ltp-smoke": "pass"}),
    );
    tux.add_job(
        running,
        json!({"device": "qemu-riscv64", "kernel": KERNEL, "tests": ["ltp-smoke"]}),
    );

    let tracked = env.run(&["track", done, "--json"]).expect(0).json();
    assert_eq!(tracked[0]["kind"], "test");
    assert_eq!(env.job_rows(), 2, "its build is adopted too");
    assert_eq!(tracked[0]["state"], "submitted");
    assert_eq!(tracked[0]["build_id"], "kbridge:2MBYbuild00000000000000001");
    // The second time is a no-op.
    let again = env.run(&["track", done]).expect(0);
    assert!(
        again.stderr.contains("already tracked as job 2"),
        "{}",
        again.stderr
    );
    assert_eq!(env.job_rows(), 2);

    // Without a build to name, --build-id is asked for, and then taken.
    let run = env.run(&["track", running]).expect(2);
    assert!(
        run.error_line().contains("give --build-id"),
        "{}",
        run.stderr
    );
    env.run(&["track", running, "--build-id", "maestro:1"])
        .expect(0);
    let download = art.test_job(running, crate::util::RESULTS_JSON, "boot\n");
    tux.finish_test(
        running,
        &download,
        json!({"boot": "pass", "ltp-smoke": "fail"}),
    );
    let summary = env.run(&["wait", "--json"]).expect(1).json();
    let jobs = summary["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3, "{summary}");
    let doc = env.run(&["results", "2", "--json"]).json();
    assert_eq!(
        doc["tests"][0]["build_id"],
        "kbridge:2MBYbuild00000000000000001"
    );
    assert!(
        !tux.submissions().iter().any(|r| r.method == "POST"),
        "nothing was scheduled"
    );
}

/// The key the official client gives a packed series.
fn patch_key(bytes: &[u8], name: &str) -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let sha: String = sha2::Sha256::digest(b64.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (format!("{sha}/{name}"), b64)
}

#[test]
fn patch_series_are_packed_as_the_client_packs_them() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let mbox = b"From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n\n---\n";
    let sent = |arg: &str| {
        env.run(&build_args(&["--patch-series", arg])).expect(0);
        tux.submissions().last().unwrap().json()
    };
    for (file, name) in [
        ("fix.mbox", "fix.mbox"),
        ("fix.patch", "fix.patch"),
        ("b4.mbx", "b4.mbox"),
    ] {
        let path = env.path(file);
        std::fs::write(&path, mbox).unwrap();
        let body = sent(path.to_str().unwrap());
        let (key, b64) = patch_key(mbox, name);
        assert_eq!(body["builds"][0]["kernel_patch_file"], key, "{file}");
        assert_eq!(body["patches"], json!({ key: b64 }), "{file}");
    }
    // A quilt directory goes as <dirname>.tgz holding its files.
    let dir = env.path("quilt");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("series"), "0001-fix.patch\n").unwrap();
    std::fs::write(dir.join("0001-fix.patch"), mbox).unwrap();
    let body = sent(dir.to_str().unwrap());
    let key = body["builds"][0]["kernel_patch_file"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(key.ends_with("/quilt.tgz"), "{key}");
    use base64::Engine;
    let tgz = base64::engine::general_purpose::STANDARD
        .decode(body["patches"][&key].as_str().unwrap())
        .unwrap();
    let mut names: Vec<String> = tar::Archive::new(flate2::read::GzDecoder::new(&tgz[..]))
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["0001-fix.patch", "series"]);
    // A URL is passed on for the service to fetch.
    let body = sent("https://lists.example/fix.mbox");
    assert_eq!(
        body["builds"][0]["kernel_patch_file"],
        "https://lists.example/fix.mbox"
    );
    assert_eq!(
        body["patches"],
        json!({"https://lists.example/fix.mbox": ""})
    );
}

#[test]
fn unusable_patch_series_are_refused_before_anything_is_recorded() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let nodir = env.path("empty");
    std::fs::create_dir_all(&nodir).unwrap();
    let xz = env.path("s.tar.xz");
    std::fs::write(&xz, b"x").unwrap();
    let eml = env.path("s.eml");
    std::fs::write(&eml, b"x").unwrap();
    let tgz = env.path("s.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&tgz).unwrap(),
            flate2::Compression::default(),
        );
        let mut b = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_cksum();
        b.append_data(&mut h, "0001.patch", &b"x"[..]).unwrap();
        b.into_inner().unwrap().finish().unwrap();
    }
    for (arg, expected) in [
        (nodir.to_str().unwrap(), "no series file"),
        (xz.to_str().unwrap(), "xz archives are not supported"),
        (eml.to_str().unwrap(), "not a patch series kbridge knows"),
        (tgz.to_str().unwrap(), "holds no series file"),
        ("20260101.1234-1-dev@example.org", "needs b4"),
        (
            "https://lore.kernel.org/all/20260101.1234-1-dev@example.org/",
            "needs b4",
        ),
    ] {
        let run = env.run(&build_args(&["--patch-series", arg])).expect(2);
        assert!(run.error_line().contains(expected), "{arg}: {}", run.stderr);
    }
    assert!(tux.submissions().is_empty());
    assert_eq!(env.job_rows(), 0);
}

#[test]
fn git_head_builds_the_checkouts_commit_once_the_remote_has_it() {
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
    // The public URL is what is configured; fetches and pushes go to the
    // local bare repository through insteadOf.
    git(
        &work,
        &["remote", "add", "origin", "https://git.example/linux.git"],
    );
    git(
        &work,
        &[
            "config",
            &format!("url.{}.insteadOf", bare.display()),
            "https://git.example/linux.git",
        ],
    );
    let sha = git(&work, &["rev-parse", "HEAD"]);
    let args = [
        "schedule",
        "build",
        "--git-head",
        "--toolchain",
        "gcc-13",
        "--kconfig",
        "defconfig",
    ];

    // Not on the remote yet: what to do.
    let run = env.run_in(&work, &args).expect(2);
    assert!(
        run.error_line().contains("is not on remote 'origin'")
            && run.error_line().contains("--push"),
        "{}",
        run.stderr
    );
    assert_eq!(env.job_rows(), 0);

    // A dry run with --push shows the build and pushes nothing.
    let mut pushing = args.to_vec();
    pushing.push("--push");
    let mut dry = pushing.clone();
    dry.push("--dry-run");
    let shown = env.run_in(&work, &dry).expect(0);
    assert!(shown.stdout.contains(&sha), "{}", shown.stdout);
    assert_eq!(
        git(&bare, &["for-each-ref", "refs/tuxsuite"]),
        "",
        "a dry run pushed"
    );
    assert!(tux.submissions().is_empty());

    // --push puts it there first.
    env.run_in(&work, &pushing).expect(0);
    assert_eq!(
        git(&bare, &["rev-parse", &format!("refs/tuxsuite/{sha}")]),
        sha
    );
    let entry = &tux.submissions()[0].json()["builds"][0];
    assert_eq!(entry["git_repo"], "https://git.example/linux.git");
    assert_eq!(entry["git_sha"], sha.as_str());
    assert!(entry.get("git_ref").is_none());
    // Now the remote has it, plain --git-head works.
    env.run_in(&work, &args).expect(0);
    // A plan's builds that name no repository build it too.
    let plan = env.path("plan.yaml");
    std::fs::write(
        &plan,
        "version: 1\nname: head\njobs:\n- build: {toolchain: gcc-13, target_arch: riscv, kconfig: [defconfig]}\n",
    )
    .unwrap();
    env.run_in(
        &work,
        &["schedule", "plan", plan.to_str().unwrap(), "--git-head"],
    )
    .expect(0);
    let entry = &tux.submissions().last().unwrap().json()["builds"][0];
    assert_eq!(entry["git_repo"], "https://git.example/linux.git");
    assert_eq!(entry["git_sha"], sha.as_str());
    assert!(entry["plan"].is_string());

    // A local path is no URL a runner can fetch.
    git(
        &work,
        &["remote", "set-url", "origin", bare.to_str().unwrap()],
    );
    let run = env.run_in(&work, &args).expect(2);
    assert!(run.error_line().contains("local path"), "{}", run.stderr);
}

#[test]
fn artefacts_are_listed_and_downloaded_from_the_jobs_storage() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let art = crate::util::Artifacts::start();
    env.set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
    let build = env.run(&build_args(&["--json"])).expect(0).json();
    let uid = build["uid"].as_str().unwrap();
    let base = format!("{}/builds/{uid}/", art.url());
    art.put(&format!("/builds/{uid}/build.log"), "make\n");
    art.put(&format!("/builds/{uid}/config"), "CONFIG_RISCV=y\n");
    art.put(&format!("/builds/{uid}/dtbs/sifive.dtb"), "dtb");
    art.put(
        &format!("/builds/{uid}/?export=json"),
        json!({"files": [{"Url": format!("{base}build.log")}, {"Url": format!("{base}config")}],
               "folders": [{"Url": format!("{base}dtbs/")}]})
        .to_string(),
    );
    art.put(
        &format!("/builds/{uid}/dtbs/?export=json"),
        json!({"files": [{"Url": format!("{base}dtbs/sifive.dtb")}], "folders": []}).to_string(),
    );
    tux.finish_build(uid, &base, true);
    let listed = env.run(&["artefacts", uid]).expect(0);
    assert_eq!(listed.stdout, "build.log\nconfig\ndtbs/sifive.dtb\n");
    let out = env.path("out");
    env.run(&["artefacts", uid, "--download", out.to_str().unwrap()])
        .expect(0);
    assert_eq!(
        std::fs::read_to_string(out.join(uid).join("config")).unwrap(),
        "CONFIG_RISCV=y\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join(uid).join("dtbs/sifive.dtb")).unwrap(),
        "dtb"
    );
    // The token never went to the storage, which is not TuxSuite's API.
    assert!(art
        .auth_for(&format!("/builds/{uid}/config"))
        .iter()
        .all(Option::is_none));
}

const PLAN: &str = "version: 1
name: riscv-smoke
description: two builds, a boot sanity check each, then LTP and kselftest
jobs:
- name: defconfig
  builds:
  - {git_repo: 'https://git.example/linux.git', git_ref: master, toolchain: gcc-13, target_arch: riscv, kconfig: [defconfig]}
  - {git_repo: 'https://git.example/linux.git', git_ref: master, toolchain: clang-18, target_arch: riscv, kconfig: [defconfig]}
  sanity_test: {device: qemu-riscv64}
  tests:
  - {device: qemu-riscv64, tests: [ltp-smoke], timeouts: {boot: 30}}
  - {device: qemu-riscv64, tests: [kselftest-memfd], parameters: {KSELFTEST: '$BUILD/kselftest.tar.xz'}}
";

#[test]
fn a_plan_is_submitted_in_the_clients_order_each_job_recorded_first() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let art = crate::util::Artifacts::start();
    env.set("KBRIDGE_CALLBACK_URL", "https://ci.example.org")
        .set("KBRIDGE_POLL_INTERVAL", "0.2")
        .set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
    let file = env.path("plan.yaml");
    std::fs::write(&file, PLAN).unwrap();
    tux.observe(&env.db());
    let dry = env
        .run(&["schedule", "plan", file.to_str().unwrap(), "--dry-run"])
        .expect(0);
    assert!(dry.stdout.contains("(8 jobs)"), "{}", dry.stdout);
    assert!(tux.submissions().is_empty());

    let out = env
        .run(&[
            "schedule",
            "plan",
            file.to_str().unwrap(),
            "--private",
            "--notify-email",
            "me@example.org",
            "--json",
        ])
        .expect(0)
        .json();
    let plan_uid = out["plan"].as_str().unwrap().to_string();
    assert_eq!(out["jobs"].as_array().unwrap().len(), 8);
    let posts = tux.submissions();
    let paths: Vec<String> = posts
        .iter()
        .map(|r| r.path.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(
        paths,
        ["plans", "builds", "tests", "tests"],
        "the client's sequence"
    );
    let plan = posts[0].json();
    assert_eq!(plan["count"], 8);
    assert_eq!(plan["plan_file"], PLAN);
    assert_eq!(plan["is_public"], false);
    // The address goes to the plan only, as the client sends it.
    assert_eq!(plan["notify_emails"], json!(["me@example.org"]));
    assert!(!posts[1].body.contains("me@example.org"));
    // Every job of a batch is recorded before the POST that creates it.
    let rows: Vec<Option<i64>> = posts.iter().map(|r| r.rows).collect();
    assert_eq!(
        rows,
        [Some(0), Some(2), Some(4), Some(8)],
        "rows at each POST"
    );

    let builds = posts[1].json();
    let builds = builds["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 2);
    assert!(builds.iter().all(|b| b["plan"] == plan_uid.as_str()));
    assert!(builds
        .iter()
        .all(|b| b["callback"] == "https://ci.example.org/callback/tuxsuite/build"));
    let sanity = posts[2].json();
    let sanity = sanity.as_array().unwrap();
    assert_eq!(sanity.len(), 2);
    let db = rusqlite::Connection::open(env.db()).unwrap();
    let uid_of = |id: i64| -> String {
        db.query_row("SELECT uid FROM jobs WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(sanity[0]["waiting_for"], format!("BUILD#{}", uid_of(1)));
    assert_eq!(sanity[1]["waiting_for"], format!("BUILD#{}", uid_of(2)));
    assert!(sanity[0]["kernel"].is_null());
    assert_eq!(
        sanity[0]["callback"],
        "https://ci.example.org/callback/tuxsuite/boot"
    );
    let tests = posts[3].json();
    let tests = tests.as_array().unwrap();
    assert_eq!(tests.len(), 4);
    assert_eq!(tests[0]["waiting_for"], format!("TEST#{}", uid_of(3)));
    assert_eq!(tests[3]["waiting_for"], format!("TEST#{}", uid_of(4)));
    assert_eq!(tests[0]["timeouts"], json!({"boot": 30}));
    assert!(
        tests.iter().all(|t| t["is_public"] == false),
        "a private plan's tests are private"
    );
    assert!(tests.iter().all(|t| t["plan"] == plan_uid.as_str()));
    // The client's plan tests carry no host unless the plan names one.
    assert!(
        tests.iter().chain(sanity).all(|t| t.get("host").is_none()),
        "{tests:?}"
    );
    assert!(tests
        .iter()
        .all(|t| t["lab"] == "https://lkft.validation.linaro.org"));
    // One token per job.
    let tokens: std::collections::BTreeSet<String> = builds
        .iter()
        .chain(sanity)
        .chain(tests)
        .map(|e| {
            e["callback_headers"]["X-Kbridge-Token"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(tokens.len(), 8);

    // Each job keeps its own entry of the batch, its token redacted.
    let shown = env.run(&["show", "3", "--json"]).expect(0).json();
    assert_eq!(
        shown["request"]["waiting_for"],
        format!("BUILD#{}", uid_of(1))
    );
    assert_eq!(shown["request"]["plan"], plan_uid.as_str());
    assert_eq!(
        shown["request"]["callback_headers"]["X-Kbridge-Token"],
        "<redacted>"
    );
    let shown = env.run(&["show", "1", "--json"]).expect(0).json();
    assert_eq!(shown["request"], {
        let mut b = builds[0].clone();
        b["callback_headers"]["X-Kbridge-Token"] = json!("<redacted>");
        b
    });

    // jobs --plan, and wait --plan once everything finished.
    let listed = env
        .run(&["jobs", "--plan", &plan_uid, "--json"])
        .expect(0)
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 8);
    // kbridge's plan id names the same plan.
    let by_id = env.run(&["jobs", "--plan", "1", "--json"]).expect(0).json();
    assert_eq!(by_id, listed);
    for id in 1..=2 {
        let uid = uid_of(id);
        tux.finish_build(&uid, &format!("{}/builds/{uid}/", art.url()), true);
    }
    for id in 3..=8 {
        let uid = uid_of(id);
        let download = art.test_job(&uid, crate::util::RESULTS_JSON, "boot\n");
        tux.finish_test(
            &uid,
            &download,
            json!({"boot": "pass", "ltp-smoke": "pass", "kselftest-memfd": "pass"}),
        );
    }
    let summary = env.run(&["wait", "--plan", &plan_uid, "--json"]).json();
    assert_eq!(summary["jobs"].as_array().unwrap().len(), 8, "{summary}");
    let doc = env.run(&["results", "5", "--json"]).json();
    assert_eq!(
        doc["tests"][0]["build_id"],
        format!("kbridge:{}", uid_of(1))
    );
}

#[test]
fn a_plan_kbridge_cannot_use_or_tuxsuite_refuses_leaves_nothing() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let file = env.path("plan.yaml");
    let plan = |text: &str| {
        std::fs::write(&file, text).unwrap();
        env.run(&["schedule", "plan", file.to_str().unwrap()])
    };
    for (text, expected) in [
        (
            PLAN.replace("timeouts", "timeoutz"),
            "does not take 'timeoutz'",
        ),
        (PLAN.replace("version: 1", "version: 2"), "version: 1"),
        (
            "version: 1\nname: n\njobs:\n- tests: [{device: qemu-riscv64, tests: [ltp-smoke]}]\n"
                .to_string(),
            "give --build-id",
        ),
    ] {
        let run = plan(&text).expect(2);
        assert!(
            run.error_line().contains(expected),
            "{expected}: {}",
            run.stderr
        );
    }
    let missing = env.run(&["schedule", "plan", "nowhere.yaml"]).expect(2);
    assert!(
        missing.error_line().contains("cannot read the plan"),
        "{}",
        missing.stderr
    );
    assert!(tux.submissions().is_empty());
    // Refused by TuxSuite: a failure, and no job recorded.
    tux.script([crate::util::Reply::Status(
        400,
        json!({"error": "invalid plan"}),
        vec![],
    )]);
    let run = plan(PLAN).expect(1);
    assert!(
        run.error_line().contains("the plan was not created"),
        "{}",
        run.stderr
    );
    assert_eq!(env.job_rows(), 0);
    // The plan itself was on record before its request, and says why.
    let plans = env.run(&["plans", "--json"]).expect(0).json();
    assert_eq!(plans[0]["state"], "failed", "{plans}");
    assert!(
        plans[0]["detail"]
            .as_str()
            .unwrap()
            .contains("invalid plan"),
        "{plans}"
    );
    // A plan TuxSuite never created has nothing to cancel or wait for.
    let sent = tux.received().len();
    let cancel = env.run(&["cancel", "--plan", "1"]).expect(1);
    assert!(
        cancel
            .error_line()
            .contains("has no tuxsuite id (it is 'failed')"),
        "{}",
        cancel.stderr
    );
    let wait = env.run(&["wait", "--plan", "1"]).expect(2);
    assert!(
        wait.error_line().contains("no job of plan '1'"),
        "{}",
        wait.stderr
    );
    assert_eq!(tux.received().len(), sent, "nothing was asked of TuxSuite");
    assert_eq!(env.run(&["plans", "--json"]).expect(0).json(), plans);
}

#[test]
fn a_plan_whose_creation_may_have_happened_is_recorded_unknown_and_not_resent() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_HTTP_TIMEOUT", "0.5");
    let file = env.path("plan.yaml");
    std::fs::write(&file, PLAN).unwrap();
    tux.script([crate::util::Reply::Hang(std::time::Duration::from_millis(
        1500,
    ))]);
    let run = env
        .run(&["schedule", "plan", file.to_str().unwrap()])
        .expect(1);
    let line = run.error_line();
    assert!(line.contains("the plan may exist on tuxsuite"), "{line}");
    assert!(
        line.contains("`kbridge plans` lists it as plan 1"),
        "{line}"
    );
    assert_eq!(tux.submissions().len(), 1, "a plan POST is never resent");
    assert_eq!(env.job_rows(), 0);
    let plans = env.run(&["plans"]).expect(0).stdout;
    assert!(plans.contains("unknown"), "{plans}");
}

#[test]
fn a_uid_that_cannot_be_one_is_refused_before_tuxsuite_is_asked() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let run = env.run(&["track", "../etc/passwd"]).expect(2);
    assert!(
        run.error_line().contains("'../etc/passwd'"),
        "{}",
        run.stderr
    );
    assert!(tux.received().is_empty());
    assert_eq!(env.job_rows(), 0);
}

/// A plan callback as TuxSuite sends it: the plan as `GET …/plans/UID`
/// gives it, with each job's full status.
fn plan_callback(tux: &FakeTuxSuite, plan_uid: &str, uids: &[String]) -> String {
    let (builds, tests): (Vec<_>, Vec<_>) = uids
        .iter()
        .map(|u| tux.job(u))
        .partition(|j| j.get("builds").is_some() || j.get("git_repo").is_some());
    json!({"kind": "plan", "status": {
        "uid": plan_uid, "project": "riscv/kbridge", "name": "riscv-smoke",
        "builds": {"results": builds, "next": null},
        "tests": {"results": tests, "next": null},
        "oebuilds": {"results": [], "next": null},
    }})
    .to_string()
}

#[test]
pub(crate) fn a_plan_callback_is_verified_recorded_once_and_polls_the_plans_jobs() {
    let mut w = crate::listen::World::new();
    // Callbacks are trusted for an hour: only the plan's callback makes
    // the listener ask about its jobs sooner.
    w.env
        .set("KBRIDGE_POLL_INTERVAL", "1")
        .set("KBRIDGE_POLL_AFTER", "3600");
    let env = &w.env;
    let file = env.path("plan.yaml");
    std::fs::write(&file, PLAN).unwrap();
    let out = env
        .run(&["schedule", "plan", file.to_str().unwrap(), "--json"])
        .expect(0)
        .json();
    let plan_uid = out["plan"].as_str().unwrap().to_string();
    let sent = w.tux.submissions()[0].json();
    assert_eq!(
        sent["plan_callback"],
        "https://ci.example.org/kbridge/callback/tuxsuite/plan"
    );
    let token = sent["plan_callback_headers"]["X-Kbridge-Token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(token.len(), 64);
    let uids: Vec<String> = out["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["uid"].as_str().unwrap().to_string())
        .collect();
    // Each job's token is its own, not the plan's.
    assert!(!w.tux.submissions()[1].body.contains(&token));
    let listed = env.run(&["plans", "--json"]).expect(0).json();
    assert_eq!(listed[0]["uid"], plan_uid.as_str());
    assert_eq!(listed[0]["state"], "submitted");
    assert_eq!(listed[0]["jobs"], 8);
    assert_eq!(listed[0]["callback_token"], "<redacted>");

    let l = w.listen(&[]);
    // Every job finishes on TuxSuite; none of their callbacks arrives.
    for uid in &uids[..2] {
        w.tux
            .finish_build(uid, &format!("{}/builds/{uid}/", w.art.url()), true);
    }
    for uid in &uids[2..] {
        let download = w.art.test_job(uid, crate::util::RESULTS_JSON, "boot\n");
        w.tux.finish_test(
            uid,
            &download,
            json!({"boot": "pass", "ltp-smoke": "pass", "kselftest-memfd": "fail"}),
        );
    }
    let body = plan_callback(&w.tux, &plan_uid, &uids);
    let sig = w.keys.sign(body.as_bytes());
    let post = |body: &str, sig: &str, token: &str| {
        let mut headers = vec![
            ("x-tux-payload-signature", sig),
            ("Content-Type", "application/json"),
        ];
        if !token.is_empty() {
            headers.push(("X-Kbridge-Token", token));
        }
        l.post("/callback/tuxsuite/plan", body.as_bytes(), &headers)
    };
    // Refused, and nothing kept: no token, another token, a bad signature,
    // another plan's uid under this plan's token, a job's kind.
    let other = body.replace(&plan_uid, "2Zk00052rdUGExAcikZAlwCOacI");
    let job_kind = body.replacen("\"plan\"", "\"test\"", 1);
    for (what, body, sig, token, status) in [
        ("no token", body.clone(), sig.clone(), "", 401),
        (
            "wrong token",
            body.clone(),
            sig.clone(),
            &"0".repeat(64)[..],
            401,
        ),
        (
            "bad signature",
            body.clone(),
            w.keys.sign(b"x"),
            &token[..],
            401,
        ),
        (
            "other plan",
            other.clone(),
            w.keys.sign(other.as_bytes()),
            &token[..],
            401,
        ),
        (
            "job kind",
            job_kind.clone(),
            w.keys.sign(job_kind.as_bytes()),
            &token[..],
            400,
        ),
    ] {
        let a = post(&body, &sig, token);
        assert_eq!(a.status, status, "{what}: {}", a.body);
    }
    let plans = env.run(&["plans", "--json"]).expect(0).json();
    assert_eq!(plans[0]["state"], "submitted", "{plans}");
    assert!(w.inbox().is_empty());

    let a = post(&body, &sig, &token);
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(a.json()["plan"], 1);
    assert_eq!(a.json()["polling"], 8);
    let again = post(&body, &sig, &token);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["result"], "duplicate");

    let plans = env.run(&["plans", "--json"]).expect(0).json();
    let p = &plans[0];
    assert_eq!(p["state"], "finished");
    assert!(p["finished_at"].is_string());
    assert_eq!(p["report"]["builds"], json!({"pass": 2}));
    assert_eq!(p["report"]["tests"], json!({"fail": 6}), "{p}");
    // The plan's callback made the listener ask about its jobs at once.
    crate::util::wait_until(
        std::time::Duration::from_secs(20),
        "the plan's jobs to be reported",
        || {
            let p = env.run(&["plans", "--json"]).expect(0).json();
            p[0]["jobs_done"] == 8
        },
    );
    let table = env.run(&["plans"]).expect(0).stdout;
    assert!(table.contains("8/8 done"), "{table}");
    assert!(table.contains("builds 2 pass, tests 6 fail"), "{table}");
    assert!(l.stderr().contains("plan 1 ("), "{}", l.stderr());
}

#[test]
pub(crate) fn cancel_plan_cancels_its_unfinished_jobs_and_says_so_when_done() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_POLL_INTERVAL", "0.2");
    let file = env.path("plan.yaml");
    std::fs::write(&file, PLAN).unwrap();
    let out = env
        .run(&["schedule", "plan", file.to_str().unwrap(), "--json"])
        .expect(0)
        .json();
    let plan_uid = out["plan"].as_str().unwrap().to_string();
    let unknown = env.run(&["cancel", "--plan", "nope"]).expect(2);
    assert!(
        unknown.error_line().contains("no plan 'nope'"),
        "{}",
        unknown.stderr
    );
    let run = env.run(&["cancel", "--plan", &plan_uid]).expect(0);
    assert!(
        run.stdout.contains("8 of its 8 job(s) had not finished"),
        "{}",
        run.stdout
    );
    let cancel: Vec<_> = tux
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/cancel"))
        .collect();
    assert_eq!(cancel.len(), 1);
    assert_eq!(
        cancel[0].path,
        format!("/v1/groups/riscv/projects/kbridge/plans/{plan_uid}/cancel")
    );
    assert_eq!(cancel[0].body, "{}");
    // Every job ends canceled, and wait says infrastructure.
    let waited = env.run(&["wait", "--plan", &plan_uid, "--json"]).expect(3);
    let jobs = waited.json()["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 8);
    assert!(jobs.iter().all(|j| j["state"] == "canceled"), "{jobs:?}");
    // Now there is nothing left to cancel, and TuxSuite is not asked.
    let again = env.run(&["cancel", "--plan", &plan_uid]).expect(1);
    assert!(
        again.error_line().contains("has already finished (8 of 8"),
        "{}",
        again.stderr
    );
    assert_eq!(cancels(&tux), 1);
    let usage = env.run(&["cancel", "1", "--plan", &plan_uid]).expect(2);
    assert!(
        usage.stderr.contains("cannot be used with"),
        "{}",
        usage.stderr
    );
}

/// The spec's example plan: its build names no repository, so the command
/// line gives it, as with the client's `--git-repo`/`--git-ref`.
const SMALL_PLAN: &str = "version: 1
name: riscv-smoke
description: defconfig build, boot sanity check, then LTP and kselftest
jobs:
- name: defconfig
  build: {toolchain: gcc-13, target_arch: riscv, kconfig: [defconfig, CONFIG_KASAN=y]}
  sanity_test: {device: qemu-riscv64}
  tests:
    - {device: qemu-riscv64, tests: [ltp-smoke], timeouts: {boot: 30}}
    - {device: qemu-riscv64, tests: [kselftest-memfd], sharding: 2, parameters: {KSELFTEST: \"$BUILD/kselftest.tar.xz\"}}
- name: fvp
  tests:
    - {device: fvp-aemva, kernel: 'https://storage.example/Image', fip: 'https://storage.example/fip.bin', lab: 'https://lab.example', lava_test_plans_project: lkft}
";

#[test]
fn a_plan_takes_what_its_file_leaves_out_from_the_command_line() {
    let tux = FakeTuxSuite::start();
    let env = Env::new(&tux);
    let file = env.path("small-plan.yaml");
    std::fs::write(&file, SMALL_PLAN).unwrap();
    let mbox = b"From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n\n---\n";
    std::fs::write(env.path("fix.mbox"), mbox).unwrap();
    let plan = |extra: &[&str]| {
        let mut args = vec!["schedule", "plan", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        env.run(&args)
    };
    // Without a repository for the build, nothing is sent.
    let run = plan(&["--build-id", "maestro:1"]).expect(2);
    assert!(
        run.error_line().contains("give --tree or --git-head"),
        "{}",
        run.stderr
    );
    let run = plan(&[
        "--build-id",
        "maestro:1",
        "--tree",
        "https://git.example/linux.git",
        "--branch",
        "master",
        "--patch-series",
        "nowhere.xz",
    ])
    .expect(2);
    assert!(
        run.error_line()
            .contains("--patch-series 'nowhere.xz' is not"),
        "{}",
        run.stderr
    );
    // A build's own series is read the same way, and named as the file's.
    let own = env.path("own-plan.yaml");
    std::fs::write(
        &own,
        SMALL_PLAN.replace("build: {", "build: {patch_series: gone.mbox, "),
    )
    .unwrap();
    let run = env
        .run(&[
            "schedule",
            "plan",
            own.to_str().unwrap(),
            "--build-id",
            "maestro:1",
            "--tree",
            "https://git.example/linux.git",
            "--branch",
            "master",
        ])
        .expect(2);
    assert!(
        run.error_line()
            .contains("own-plan.yaml: patch_series 'gone.mbox' is not"),
        "{}",
        run.stderr
    );
    assert!(tux.submissions().is_empty());
    assert_eq!(env.job_rows(), 0);

    plan(&[
        "--build-id",
        "maestro:1",
        "--tree",
        "https://git.example/linux.git",
        "--branch",
        "master",
        "--no-cache",
        "--patch-series",
        "fix.mbox",
        "--parameter",
        "SKIPFILE=skipfile-lkft.yaml",
        "--parameter",
        "KSELFTEST=ignored",
    ])
    .expect(0);
    let posts = tux.submissions();
    assert_eq!(posts[0].json()["count"], 6);
    let builds = posts[1].json();
    let b = &builds["builds"][0];
    assert_eq!(b["git_repo"], "https://git.example/linux.git");
    assert_eq!(b["git_ref"], "master");
    assert_eq!(b["no_cache"], true);
    let (key, b64) = patch_key(mbox, "fix.mbox");
    assert_eq!(b["kernel_patch_file"], key.as_str());
    assert_eq!(builds["patches"][&key], b64.as_str());
    let sanity = posts[2].json();
    assert_eq!(
        sanity[0]["parameters"],
        json!({"SKIPFILE": "skipfile-lkft.yaml", "KSELFTEST": "ignored"})
    );
    let tests = posts[3].json();
    let tests = tests.as_array().unwrap();
    // The standalone FVP test, and the build's three (one sharded in 2).
    assert_eq!(tests.len(), 4, "{tests:?}");
    let memfd = tests
        .iter()
        .find(|t| t["tests"] == json!(["kselftest-memfd"]))
        .unwrap();
    assert_eq!(
        memfd["parameters"]["KSELFTEST"], "$BUILD/kselftest.tar.xz",
        "the file's own value wins"
    );
    assert_eq!(memfd["parameters"]["SKIPFILE"], "skipfile-lkft.yaml");
    let fvp = tests.iter().find(|t| t["device"] == "fvp-aemva").unwrap();
    assert_eq!(fvp["fip"], "https://storage.example/fip.bin");
    assert!(fvp["scp_fw"].is_null());
    assert_eq!(fvp["lab"], "https://lab.example");
    assert_eq!(fvp["lava_test_plans_project"], "lkft");
    assert_eq!(fvp["kernel"], "https://storage.example/Image");
    assert!(fvp.get("waiting_for").is_none());
}

#[test]
fn waiting_on_a_plan_reads_its_pages_rather_than_each_job() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    let art = crate::util::Artifacts::start();
    env.set("KBRIDGE_POLL_INTERVAL", "0.2")
        .set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
    tux.set_plan_page(3);
    let file = env.path("plan.yaml");
    std::fs::write(&file, PLAN).unwrap();
    let out = env
        .run(&["schedule", "plan", file.to_str().unwrap(), "--json"])
        .expect(0)
        .json();
    let plan_uid = out["plan"].as_str().unwrap().to_string();
    let uids: Vec<String> = out["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["uid"].as_str().unwrap().to_string())
        .collect();
    for uid in &uids[..2] {
        tux.finish_build(uid, &format!("{}/builds/{uid}/", art.url()), true);
    }
    for uid in &uids[2..] {
        let download = art.test_job(uid, crate::util::RESULTS_JSON, "boot\n");
        tux.finish_test(uid, &download, json!({"boot": "pass", "ltp-smoke": "pass"}));
    }
    let summary = env.run(&["wait", "--plan", &plan_uid, "--json"]).json();
    assert_eq!(summary["jobs"].as_array().unwrap().len(), 8, "{summary}");
    // 2 builds fit one page, 6 tests two: two requests, and none per job.
    let gets = tux.plan_gets();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(gets[0].ends_with(&format!("/plans/{plan_uid}")), "{gets:?}");
    assert!(gets[1].ends_with("?start_tests=3"), "{gets:?}");
    let per_job: Vec<usize> = uids.iter().map(|u| tux.polls(u)).collect();
    assert!(
        per_job.iter().all(|n| *n == 0),
        "{per_job:?} {:?}",
        tux.received()
            .iter()
            .filter(|r| r.method == "GET")
            .map(|r| r.path.clone())
            .collect::<Vec<_>>()
    );

    // A job of no plan is asked about on its own.
    let again = schedule_smoke(&env);
    let uid = again["uid"].as_str().unwrap().to_string();
    let download = art.test_job(&uid, crate::util::RESULTS_JSON, "boot\n");
    tux.finish_test(
        &uid,
        &download,
        json!({"boot": "pass", "ltp-smoke": "pass"}),
    );
    let waited = env
        .run(&["wait", &again["id"].to_string(), "--json"])
        .json();
    assert_eq!(waited["jobs"][0]["state"], "completed", "{waited}");
    assert_eq!(tux.polls(&uid), 1);
}

#[test]
fn a_running_plan_is_read_once_per_interval_and_no_job_on_its_own() {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_POLL_INTERVAL", "1");
    // 62 jobs: two pages of tests.
    let mut plan = String::from("version: 1\nname: big\njobs:\n- name: m\n  builds:\n");
    for tc in 0..2 {
        plan.push_str(&format!(
            "  - {{git_repo: 'https://git.example/l.git', git_ref: master, toolchain: gcc-{tc}, target_arch: riscv, kconfig: [defconfig]}}\n"
        ));
    }
    plan.push_str("  tests:\n");
    for t in 0..30 {
        plan.push_str(&format!("  - {{device: qemu-riscv64, tests: [ltp-{t}]}}\n"));
    }
    let file = env.path("plan.yaml");
    std::fs::write(&file, plan).unwrap();
    let out = env
        .run(&[
            "schedule",
            "plan",
            file.to_str().unwrap(),
            "--json",
            "--quiet",
        ])
        .expect(0)
        .json();
    let plan_uid = out["plan"].as_str().unwrap().to_string();
    assert_eq!(out["jobs"].as_array().unwrap().len(), 62);
    let before = tux.received().len();
    let start = std::time::Instant::now();
    env.run(&["wait", "--plan", &plan_uid, "--timeout", "6s", "--quiet"])
        .expect(124);
    let secs = start.elapsed().as_secs_f64();
    let asked: Vec<String> = tux.received()[before..]
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path.clone())
        .collect();
    // A read of the plan starts without a page token.
    let reads = asked
        .iter()
        .filter(|p| p.contains("/plans/") && !p.contains("start_"))
        .count();
    let alone = asked.iter().filter(|p| !p.contains("/plans/")).count();
    assert_eq!(alone, 0, "jobs asked on their own: {asked:?}");
    assert!(
        (reads as f64) <= secs + 1.0,
        "{reads} reads of the plan in {secs:.1}s at a 1s interval: {asked:?}"
    );
}
