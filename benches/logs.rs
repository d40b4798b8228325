//! `kbridge logs` on a large test log: wall time and the process's peak
//! resident memory while it streams a `lava-logs.yaml` of
//! KBRIDGE_BENCH_LOG_MB megabytes (default 200) from a local artefact
//! server, console lines only.
//!
//! Run with `cargo bench --bench logs`.

#[allow(dead_code, unused_imports)]
#[path = "../tests/util/mod.rs"]
mod util;

#[allow(dead_code)]
#[path = "support/load.rs"]
mod load;

use std::time::{Duration, Instant};

fn main() {
    let mb = load::size("KBRIDGE_BENCH_LOG_MB", 200);
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
            "--json",
        ])
        .expect(0)
        .json();
    let uid = job["uid"].as_str().unwrap().to_string();
    let mut log = String::with_capacity(mb << 20);
    let mut i = 0u64;
    while log.len() < mb << 20 {
        let lvl = if i.is_multiple_of(3) {
            "debug"
        } else {
            "target"
        };
        log.push_str(&format!(
            "- {{\"dt\": \"2026-02-24T12:41:42.{i:06}\", \"lvl\": \"{lvl}\", \"msg\": \"line {i} of the console, as a board prints it: ok\"}}\n"
        ));
        i += 1;
    }
    art.put(&format!("/tests/{uid}/lava-logs.yaml"), log);
    tux.finish_test(
        &uid,
        &format!("{}/tests/{uid}/", art.url()),
        serde_json::json!({"boot": "pass"}),
    );

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
        "kbridge logs: {mb} MB lava-logs.yaml -> {:.0} MB of console in {:.2}s; peak RSS {:.1} MB",
        bytes as f64 / 1e6,
        start.elapsed().as_secs_f64(),
        peak as f64 / 1024.0
    );
}
