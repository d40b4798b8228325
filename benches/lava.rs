//! The LAVA runner's figures, on loopback with a release build, against
//! the lab stand-in:
//!
//! 1. `kbridge schedule boot --runner lava` wall time (median and p90 of
//!    KBRIDGE_BENCH_RUNS runs, default 40);
//! 2. LAVA callbacks accepted per second at 64 connections, each bound to
//!    its job by token (constant time) and committed before its 202;
//! 3. those jobs completed end to end (results fetched from REST,
//!    KCIDB documents on disk).
//!
//! Run with `cargo bench --bench lava`; KBRIDGE_BENCH_JOBS (default 3000)
//! sets how many jobs are called back.

#[allow(dead_code, unused_imports)]
#[path = "../tests/util/mod.rs"]
mod util;

#[allow(dead_code)]
#[path = "support/load.rs"]
mod load;

use std::time::{Duration, Instant};

fn main() {
    let jobs = load::size("KBRIDGE_BENCH_JOBS", 3_000);
    let runs = load::size("KBRIDGE_BENCH_RUNS", 40);
    let lab = util::FakeLava::start(1);
    let mut env = util::Env::bare();
    let token = env.path("lab.token");
    std::fs::write(&token, util::LAVA_TOKEN).unwrap();
    let file = env.path("kbridge.toml");
    std::fs::write(
        &file,
        format!(
            "callback_url = \"https://ci.example.org\"\n[lava.labs.bench]\nurl = \"{}\"\ntoken_file = \"{}\"\nrootfs = \"https://storage.example/rootfs.cpio.gz\"\n",
            lab.url(),
            token.display()
        ),
    )
    .unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    let boot = [
        "schedule",
        "boot",
        "--runner",
        "lava",
        "--kernel",
        "https://storage.example/Image",
        "--build-id",
        "maestro:1",
        "--force",
        "--quiet",
    ];

    // 1. One schedule at a time, as a CI script runs it.
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            env.run(&boot).expect(0);
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "schedule boot --runner lava: median {:.1} ms, p90 {:.1} ms over {runs} runs",
        times[runs / 2].as_secs_f64() * 1000.0,
        times[runs * 9 / 10].as_secs_f64() * 1000.0
    );

    // 2. Many jobs, finished on the lab, then called back at once.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..jobs.div_ceil(4) {
                    env.run(&boot).expect(0);
                }
            });
        }
    });
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let scheduled: Vec<(u64, String)> = conn
        .prepare("SELECT uid, callback_token FROM jobs WHERE id > ?1 ORDER BY id")
        .unwrap()
        .query_map([runs as i64], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .map(|(uid, token)| (uid.rsplit('.').next().unwrap().parse().unwrap(), token))
        .take(jobs)
        .collect();
    for (id, _) in &scheduled {
        lab.finish(
            *id,
            "Complete",
            vec![util::Case::new("lava", "auto-login-action", "pass")],
            &[],
        );
    }
    let listener = env.listen(&[]);
    let requests: Vec<load::Request> = scheduled
        .iter()
        .map(|(id, token)| load::Request {
            path: "/callback/lava/boot".into(),
            body: format!(
                "{{\"id\": {id}, \"status\": 2, \"state_string\": \"Finished\", \"health_string\": \"Complete\", \"end_time\": \"None\", \"token\": \"{token}\"}}"
            )
            .into_bytes(),
            headers: vec![
                ("X-Kbridge-Token".into(), token.clone()),
                ("Content-Type".into(), "application/json".into()),
            ],
        })
        .collect();
    let start = Instant::now();
    let report = load::run(&listener.url, requests, 64);
    report.print("LAVA callbacks (64 connections, token-bound + durable inbox commit)");
    let docs = || -> i64 {
        conn.query_row("SELECT count(*) FROM documents", [], |r| r.get(0))
            .unwrap()
    };
    util::wait_until(Duration::from_secs(600), "every job to complete", || {
        docs() as usize >= scheduled.len()
    });
    let elapsed = start.elapsed();
    println!(
        "end to end: {} LAVA jobs completed (results from REST) in {:.2}s = {:.0} jobs/s",
        scheduled.len(),
        elapsed.as_secs_f64(),
        scheduled.len() as f64 / elapsed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(env.path("kcidb"));
}
