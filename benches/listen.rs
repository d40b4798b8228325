//! The listener's figures, on loopback with a release build:
//!
//! 1. accepted callbacks per second at 64 concurrent connections, each
//!    verified (ECDSA P-256) and committed to the inbox before its 202,
//!    with latency percentiles;
//! 2. completed jobs per second end to end: callback → artefacts fetched
//!    from a local server → KCIDB document on disk;
//! 3. the listener's peak resident memory over both.
//!
//! Run with `cargo bench --bench listen`. KBRIDGE_BENCH_CALLBACKS (default
//! 30000) and KBRIDGE_BENCH_JOBS (default 2000) set the sizes.

#[allow(dead_code, unused_imports)]
#[path = "../tests/util/mod.rs"]
mod util;

#[allow(dead_code)]
#[path = "support/load.rs"]
mod load;

use std::time::{Duration, Instant};

fn main() {
    let callbacks = load::size("KBRIDGE_BENCH_CALLBACKS", 30_000);
    let jobs = load::size("KBRIDGE_BENCH_JOBS", 2_000);
    let connections = 64;

    let tux = util::FakeTuxSuite::start();
    let mut env = util::Env::new(&tux);
    env.set("KBRIDGE_CALLBACK_URL", "https://ci.example.org");
    let art = util::Artifacts::start();
    let (signer, _) = load::Signer::generate();
    let key = env.path("key.pub");
    std::fs::write(&key, signer.public_line() + "\n").unwrap();

    // The jobs for the end-to-end part, scheduled the ordinary way.
    let t = Instant::now();
    let scheduled: Vec<(String, String)> = std::thread::scope(|s| {
        let per = jobs.div_ceil(4);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let env = &env;
                s.spawn(move || {
                    (0..per)
                        .map(|_| {
                            let job = env
                                .run(&[
                                    "schedule",
                                    "test",
                                    "--kernel",
                                    "https://storage.example/Image",
                                    "--tests",
                                    "ltp-smoke,ltp-fsx",
                                    "--build-id",
                                    "maestro:1",
                                    "--force",
                                    "--quiet",
                                    "--json",
                                ])
                                .expect(0)
                                .json();
                            (
                                job["uid"].as_str().unwrap().to_string(),
                                job["id"].to_string(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .take(jobs)
            .collect()
    });
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let tokens: std::collections::HashMap<String, String> = conn
        .prepare("SELECT uid, callback_token FROM jobs")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    println!(
        "setup: scheduled {} jobs in {:.1}s",
        scheduled.len(),
        t.elapsed().as_secs_f64()
    );

    let origin = art.host();
    let listener = env.listen(&[
        "--tuxsuite-public-key",
        key.to_str().unwrap(),
        "--allow-artifact-host",
        &origin,
    ]);

    // 1. Accept rate: distinct callbacks for uids no job has.
    let requests: Vec<load::Request> = load::unmatched_callbacks(&signer, callbacks);
    let report = load::run(&listener.url, requests, connections);
    report.print(&format!(
        "accept ({connections} connections, verify + durable inbox commit)"
    ));
    let stored: i64 = conn
        .query_row(
            "SELECT count(*) FROM inbox WHERE status = 'unmatched'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored as usize, callbacks, "every 202 is a stored row");
    let rss_accept = load::peak_rss_kib(listener.pid()).unwrap_or(0);

    // 2. End to end: matched callbacks, artefacts from the local server.
    let requests: Vec<load::Request> = scheduled
        .iter()
        .map(|(uid, _)| {
            let download =
                art.test_job(uid, util::RESULTS_JSON, "boot\nltp-smoke: access01 FAIL\n");
            load::callback(&signer, uid, &download, Some(&tokens[uid]))
        })
        .collect();
    let start = Instant::now();
    let report = load::run(&listener.url, requests, connections);
    report.print("end-to-end callbacks");
    let docs = || -> i64 {
        conn.query_row("SELECT count(*) FROM documents", [], |r| r.get(0))
            .unwrap()
    };
    util::wait_until(Duration::from_secs(300), "every job to complete", || {
        docs() as usize >= scheduled.len()
    });
    let elapsed = start.elapsed();
    let files = std::fs::read_dir(env.path("kcidb")).unwrap().count();
    println!(
        "end to end: {} jobs completed (KCIDB documents on disk: {files}) in {:.2}s = {:.0} jobs/s",
        scheduled.len(),
        elapsed.as_secs_f64(),
        scheduled.len() as f64 / elapsed.as_secs_f64()
    );

    let rss = load::peak_rss_kib(listener.pid()).unwrap_or(0);
    println!(
        "listener peak RSS: {:.1} MB after accepting, {:.1} MB at the end",
        rss_accept as f64 / 1024.0,
        rss as f64 / 1024.0
    );
    // Keep the benchmark's documents out of the tests' collection.
    let _ = std::fs::remove_dir_all(env.path("kcidb"));
}
