//! What hostile peers and inputs can make kbridge spend, with a release
//! build on loopback:
//!
//! 1. database growth from 300 distinct 1 MiB callback bodies sent with
//!    one valid LAVA callback token (unreadable, wrong-route and readable
//!    notices alike);
//! 2. peak memory of `kbridge logs` on a log that is one line of
//!    KBRIDGE_BENCH_LINE_MB megabytes (default 1024);
//! 3. requests `kbridge artefacts` makes against a storage whose every
//!    folder lists three more;
//! 4. the time `kbridge schedule plan --dry-run` takes to refuse a plan of
//!    200,000 `[` (400 KB).
//!
//! Run with `cargo bench --bench hostile`.

#[allow(dead_code, unused_imports)]
#[path = "../tests/util/mod.rs"]
mod util;

#[allow(dead_code)]
#[path = "support/load.rs"]
mod load;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

/// The database and its WAL once the WAL is copied back and cut.
fn store_bytes(env: &util::Env) -> u64 {
    let db = env.db();
    if let Ok(conn) = rusqlite::Connection::open(&db) {
        let _ = conn.busy_timeout(Duration::from_secs(5));
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
    [db.clone(), db.with_extension("db-wal")]
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

fn lava_growth() {
    let lab = util::FakeLava::start(1);
    let mut env = util::Env::bare();
    let token_file = env.path("lab.token");
    std::fs::write(&token_file, format!("{}\n", util::LAVA_TOKEN)).unwrap();
    let config = env.path("kbridge.toml");
    std::fs::write(
        &config,
        format!(
            "callback_url = \"https://ci.example.org/kbridge\"\n[lava.labs.lab]\nurl = \"{}\"\ntoken_file = \"{}\"\ndevice_type = \"qemu-riscv64\"\nrootfs = \"https://storage.example/rootfs.cpio.gz\"\n",
            lab.url(),
            token_file.display()
        ),
    )
    .unwrap();
    env.set("KBRIDGE_CONFIG", config.to_str().unwrap());
    env.run(&[
        "schedule",
        "boot",
        "--runner",
        "lava",
        "--kernel",
        "https://storage.example/Image",
        "--build-id",
        "maestro:1",
        "--quiet",
    ])
    .expect(0);
    let db = rusqlite::Connection::open(env.db()).unwrap();
    let token: String = db
        .query_row("SELECT callback_token FROM jobs", [], |r| r.get(0))
        .unwrap();
    drop(db);
    let listener = env.listen(&[]);
    let before = store_bytes(&env);
    let filler = "x".repeat((1 << 20) - 200);
    let started = Instant::now();
    for i in 0..300 {
        let (route, body) = match i % 3 {
            0 => ("boot", format!("{{\"pad{i}\": \"{filler}\"}}")),
            1 => ("test", json!({"id": 1, "n": i, "pad": filler}).to_string()),
            _ => (
                "boot",
                json!({"id": 1, "n": i, "description": filler}).to_string(),
            ),
        };
        util::post(
            &format!("{}/callback/lava/{route}", listener.url),
            "X-Kbridge-Token",
            &token,
            &body,
        );
    }
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    drop(listener);
    let after = store_bytes(&env);
    println!(
        "lava token: 300 distinct 1 MiB bodies in {:.1}s grew the database from {:.2} MB to {:.2} MB ({} bytes)",
        took.as_secs_f64(),
        before as f64 / 1e6,
        after as f64 / 1e6,
        after.saturating_sub(before)
    );
}

/// A TuxSuite stand-in, an artefact server, and a finished test job.
fn storage() -> (util::FakeTuxSuite, util::Artifacts, util::Env, String) {
    let tux = util::FakeTuxSuite::start();
    let mut env = util::Env::new(&tux);
    let art = util::Artifacts::start();
    env.set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
    let job = env
        .run(&[
            "schedule",
            "test",
            "--kernel",
            "https://storage.example/Image",
            "--tests",
            "ltp-smoke",
            "--build-id",
            "maestro:1",
            "--quiet",
            "--json",
        ])
        .expect(0)
        .json();
    let uid = job["uid"].as_str().unwrap().to_string();
    tux.finish_test(
        &uid,
        &format!("{}/tests/{uid}/", art.url()),
        json!({"boot": "pass"}),
    );
    (tux, art, env, uid)
}

fn one_line_log() {
    let mb = load::size("KBRIDGE_BENCH_LINE_MB", 1024);
    let (_tux, art, env, uid) = storage();
    let mut log = Vec::with_capacity((mb << 20) + 100);
    log.extend_from_slice(b"- {\"dt\": \"1\", \"lvl\": \"target\", \"msg\": \"");
    log.resize(log.len() + (mb << 20), b'z');
    log.extend_from_slice(b"\"}\n");
    art.put(&format!("/tests/{uid}/lava-logs.yaml"), log);
    let start = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kbridge"))
        .args(["logs", &uid])
        .env_clear()
        .envs(&env.vars)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut sink = std::io::sink();
        std::io::copy(&mut out, &mut sink).unwrap()
    });
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        peak = peak.max(load::peak_rss_kib(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    }
    let bytes = reader.join().unwrap();
    println!(
        "kbridge logs: a {mb} MB single-line log -> {bytes} bytes printed in {:.2}s; peak RSS {:.1} MB",
        start.elapsed().as_secs_f64(),
        peak as f64 / 1024.0
    );
}

fn endless_folders() {
    let (_tux, art, env, uid) = storage();
    art.endless_folders(&format!("/tests/{uid}/"));
    let before = art.hits.load(Ordering::SeqCst);
    let start = Instant::now();
    let run = env.run(&["artefacts", &uid]);
    let asked = art.hits.load(Ordering::SeqCst) - before;
    println!(
        "kbridge artefacts on an endless folder tree: {asked} requests in {:.2}s, exit status {}, {} files listed",
        start.elapsed().as_secs_f64(),
        run.code,
        run.stdout.lines().count()
    );
}

fn nested_yaml() {
    let tux = util::FakeTuxSuite::start();
    let env = util::Env::new(&tux);
    let plan = env.path("plan.yaml");
    std::fs::write(
        &plan,
        format!("version: 1\nname: n\njobs: {}\n", "[".repeat(200_000)),
    )
    .unwrap();
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        env.run(&["schedule", "plan", plan.to_str().unwrap(), "--dry-run"])
            .expect(2);
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "a 400 KB plan of nested [ refused in {:.1} ms (median of 5 runs of the whole command)",
        times[2].as_secs_f64() * 1e3
    );
}

fn main() {
    lava_growth();
    one_line_log();
    endless_folders();
    nested_yaml();
}
