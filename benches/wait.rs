//! `kbridge wait`'s figures, against a loopback TuxSuite stand-in with a
//! release build:
//!
//! 1. requests sent to the runner per minute while waiting on 1000 pending
//!    jobs at the default poll interval, and the CPU time and peak memory
//!    of `kbridge wait` over that minute;
//! 2. the time from a job finishing on the stand-in to `kbridge wait`
//!    returning, at a 1 s poll interval.
//!
//! Run with `cargo bench --bench wait`. KBRIDGE_BENCH_JOBS (default 1000)
//! and KBRIDGE_BENCH_WAIT_SECS (default 60) set the sizes.

#[allow(dead_code, unused_imports)]
#[path = "../tests/util/mod.rs"]
mod util;

#[allow(dead_code)]
#[path = "support/load.rs"]
mod load;

use std::time::{Duration, Instant};

/// CPU seconds (user + system) of a running process, from /proc.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let jobs = load::size("KBRIDGE_BENCH_JOBS", 1000);
    let secs = load::size("KBRIDGE_BENCH_WAIT_SECS", 60) as u64;

    // 1. Many pending jobs at the default interval.
    let tux = util::FakeTuxSuite::start();
    let env = util::Env::new(&tux);
    let t = Instant::now();
    for _ in 0..jobs {
        schedule_boot(&env);
    }
    println!(
        "setup: scheduled {jobs} jobs in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let gets = || tux.received().iter().filter(|r| r.method == "GET").count();
    let before = gets();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kbridge"))
        .args(["wait", "--quiet", "--timeout", &format!("{secs}s")])
        .env_clear()
        .envs(&env.vars)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (mut cpu, mut rss) = (0.0, 0);
    while child.try_wait().unwrap().is_none() {
        cpu = cpu_seconds(child.id()).unwrap_or(cpu);
        rss = load::peak_rss_kib(child.id()).unwrap_or(rss);
        std::thread::sleep(Duration::from_millis(100));
    }
    let requests = gets() - before;
    println!(
        "waiting on {jobs} pending jobs for {secs}s at the default 30 s interval: {requests} requests = {:.0} per minute; \
         CPU {cpu:.2}s; peak RSS {:.1} MB",
        requests as f64 * 60.0 / secs as f64,
        rss as f64 / 1024.0
    );

    // 2. From finishing to `wait` returning, at a 1 s interval.
    let tux = util::FakeTuxSuite::start();
    let mut env = util::Env::new(&tux);
    let art = util::Artifacts::start();
    env.set("KBRIDGE_POLL_INTERVAL", "1")
        .set("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS", &art.host());
    let mut delays = Vec::new();
    for _ in 0..9 {
        let uid = schedule_boot(&env);
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_kbridge"))
            .args(["wait", "--quiet", &uid])
            .env_clear()
            .envs(&env.vars)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Let it settle into its polling rhythm, then finish the job at a
        // random point of the interval.
        std::thread::sleep(Duration::from_millis(1500 + nanos() % 1000));
        let download = art.test_job(&uid, "{}", "login:\n");
        let polls = tux.polls(&uid);
        let finished = Instant::now();
        tux.finish_test(&uid, &download, serde_json::json!({"boot": "pass"}));
        let mut child = child;
        let mut seen = None;
        let status = loop {
            if seen.is_none() && tux.polls(&uid) > polls {
                seen = Some(finished.elapsed());
            }
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        assert!(status.success());
        let total = finished.elapsed();
        let seen = seen.unwrap_or(total);
        delays.push((total, seen, total - seen));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let spread = |mut v: Vec<Duration>| {
        v.sort();
        (ms(v[0]), ms(v[v.len() / 2]), ms(v[v.len() - 1]))
    };
    let runs = delays.len();
    for (what, values) in [
        (
            "job finished -> wait returned",
            delays.iter().map(|d| d.0).collect::<Vec<_>>(),
        ),
        (
            "  of which: finished -> polled",
            delays.iter().map(|d| d.1).collect(),
        ),
        (
            "  of which: polled -> wait returned",
            delays.iter().map(|d| d.2).collect(),
        ),
    ] {
        let (min, med, max) = spread(values);
        println!("{what}, 1 s interval, {runs} runs: min {min:.0} ms, median {med:.0} ms, max {max:.0} ms");
    }
}

/// Schedules a boot test and returns its uid.
fn schedule_boot(env: &util::Env) -> String {
    let job = env
        .run(&[
            "schedule",
            "boot",
            "--kernel",
            "https://storage.example/Image",
            "--build-id",
            "maestro:1",
            "--force",
            "--quiet",
            "--json",
        ])
        .expect(0)
        .json();
    job["uid"].as_str().unwrap().to_string()
}

/// A number that differs from call to call, to vary the moment a job
/// finishes within the poll interval.
fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0)
}
