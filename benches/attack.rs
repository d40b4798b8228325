//! `kbridge listen` under attack, on loopback with a release build:
//!
//! 1. store growth per 10,000 anonymous requests (a signature that does not
//!    verify, a 4 KB User-Agent);
//! 2. store growth per 10,000 replays of one genuine signed callback;
//! 3. accepted callbacks per second at 64 connections, and p99, with every
//!    protection on;
//! 4. `/healthz` latency on the operations address while 1,100 connections
//!    trickle bodies, and the listener's peak memory under that attack,
//!    with the per-client limit (the default) and without it (as behind a
//!    reverse proxy).
//!
//! Run with `cargo bench --bench attack`.

#[allow(dead_code, unused_imports)]
#[path = "../tests/util/mod.rs"]
mod util;

#[allow(dead_code)]
#[path = "support/load.rs"]
mod load;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const REQUESTS: usize = 10_000;
const CONNECTIONS: usize = 64;
const SLOW: usize = 1_100;

/// The database and its WAL once the WAL is copied back and cut, so what
/// is counted is what was kept, not the WAL's high-water mark.
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

fn main() {
    let tux = util::FakeTuxSuite::start();
    let mut env = util::Env::new(&tux);
    env.set("KBRIDGE_CALLBACK_URL", "https://ci.example.org");
    let art = util::Artifacts::start();
    let (signer, _) = load::Signer::generate();
    let key = env.path("key.pub");
    std::fs::write(&key, signer.public_line() + "\n").unwrap();
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
    let token = tux.submissions()[0].json()["callback_headers"]["X-Kbridge-Token"]
        .as_str()
        .unwrap()
        .to_string();
    let origin = art.host();
    let start = |extra: &[&str]| {
        let mut args = vec![
            "--tuxsuite-public-key",
            key.to_str().unwrap(),
            "--allow-artifact-host",
            &origin,
            "--ops-bind",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        env.listen(&args)
    };
    let listener = start(&[]);

    // 1. Anonymous requests.
    let before = store_bytes(&env);
    let agent_name = "x".repeat(4096);
    let anonymous: Vec<load::Request> = (0..REQUESTS)
        .map(|i| {
            let mut r = load::callback(
                &signer,
                &load::uid(i),
                "https://storage.tuxsuite.com/x/",
                None,
            );
            // Signed over other bytes: it does not verify.
            r.headers[0].1 = signer.sign(b"other bytes");
            r.headers.push(("User-Agent".into(), agent_name.clone()));
            r
        })
        .collect();
    let report = load::run(&listener.url, anonymous, CONNECTIONS);
    report.print("anonymous requests (bad signature, 4 KB User-Agent)");
    println!(
        "store growth per {REQUESTS} anonymous requests: {} bytes",
        store_bytes(&env).saturating_sub(before)
    );

    // 2. Replays of one genuine callback.
    let download = art.test_job(&uid, util::RESULTS_JSON, "log\n");
    let genuine = load::callback(&signer, &uid, &download, Some(&token));
    let first = load::run(&listener.url, vec![genuine], 1);
    assert_eq!(first.statuses.get(&202), Some(&1), "{:?}", first.statuses);
    util::wait_until(Duration::from_secs(30), "the job to complete", || {
        env.run(&["show", &uid, "--json"]).json()["state"] == "completed"
    });
    std::thread::sleep(Duration::from_secs(1));
    let before = store_bytes(&env);
    let replays: Vec<load::Request> = (0..REQUESTS)
        .map(|_| load::callback(&signer, &uid, &download, Some(&token)))
        .collect();
    let report = load::run(&listener.url, replays, CONNECTIONS);
    report.print("replays of one signed callback");
    println!(
        "store growth per {REQUESTS} replays: {} bytes",
        store_bytes(&env).saturating_sub(before)
    );

    // 3. Accepted callbacks with the protections on.
    let accepted = load::unmatched_callbacks(&signer, 30_000)
        .into_iter()
        .skip(REQUESTS + 1)
        .collect::<Vec<_>>();
    let n = accepted.len();
    let report = load::run(&listener.url, accepted, CONNECTIONS);
    report.print(&format!(
        "accepted ({n} distinct signed callbacks, {CONNECTIONS} connections)"
    ));
    drop(listener);

    // 4. Slow bodies, with and without the per-client limit.
    for (label, extra) in [
        ("per-client limit 64 (default)", vec![]),
        (
            "no per-client limit (behind a proxy)",
            vec!["--max-connections-per-client", "0"],
        ),
    ] {
        let listener = start(&extra);
        let ops = listener.ops_url().unwrap();
        let head = format!(
            "POST /callback/tuxsuite/test HTTP/1.1\r\nHost: x\r\nx-tux-payload-signature: {}\r\nContent-Length: 1048576\r\n\r\n",
            signer.sign(b"x")
        );
        let mut slow: Vec<TcpStream> = Vec::new();
        for _ in 0..SLOW {
            if let Ok(mut s) = TcpStream::connect(listener.addr()) {
                let _ = s.write_all(head.as_bytes());
                slow.push(s);
            }
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut latencies = Vec::new();
        let mut peak = 0;
        let chunk = vec![b'{'; 4096];
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            // Every connection sends a little more of its body.
            for s in &mut slow {
                let _ = s.write_all(&chunk);
            }
            let t = Instant::now();
            let ok = agent
                .get(format!("{ops}/healthz"))
                .call()
                .map(|r| r.status().as_u16() == 200)
                .unwrap_or(false);
            if ok {
                latencies.push(t.elapsed());
            }
            peak = peak.max(load::peak_rss_kib(listener.pid()).unwrap_or(0));
            std::thread::sleep(Duration::from_millis(100));
        }
        latencies.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let p = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .map(|d| ms(*d))
                .unwrap_or(f64::NAN)
        };
        println!(
            "{SLOW} slow connections, {label}: /healthz on the ops address answered {} times, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; listener peak RSS {:.1} MB",
            latencies.len(),
            p(0.5),
            p(0.99),
            latencies.last().map(|d| ms(*d)).unwrap_or(f64::NAN),
            peak as f64 / 1024.0
        );
        drop(slow);
        drop(listener);
    }
    let _ = std::fs::remove_dir_all(env.path("kcidb"));
}
