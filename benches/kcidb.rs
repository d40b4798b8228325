//! KCIDB delivery's figures, on loopback with a release build:
//!
//! 1. documents per second delivered by `kbridge submit` from a backlog of
//!    small pending documents, and how many requests that took (batching
//!    merges them up to `kcidb.max_request`);
//! 2. callback intake per second at 64 connections while the listener
//!    submits a large backlog at the same time, against intake with
//!    submission off.
//!
//! Run with `cargo bench --bench kcidb`. KBRIDGE_BENCH_DOCS (default
//! 10000) sets the backlog of part 1, KBRIDGE_BENCH_CALLBACKS (default
//! 30000) the callbacks of part 2.

#[allow(dead_code, unused_imports)]
#[path = "../tests/util/mod.rs"]
mod util;

#[allow(dead_code)]
#[path = "support/load.rs"]
mod load;

use std::time::{Duration, Instant};

/// Puts `n` small, valid documents in the outbox of `env`'s database.
fn backlog(env: &util::Env, n: usize) {
    let file = env.path("seed.json");
    std::fs::write(
        &file,
        r#"{"test_uid": "seed", "build_id": "maestro:1", "device": "qemu-riscv64", "runtime": "bench",
            "tests": [{"test_name": "boot", "result": "pass"}]}"#,
    )
    .unwrap();
    env.run(&["report", file.to_str().unwrap()]).expect(0);
    let mut conn = rusqlite::Connection::open(env.db()).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO outbox (key, label, document, state, created_ms, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'pending', 0, 1767225600000, 1767225600000)",
            )
            .unwrap();
        for i in 0..n {
            let doc = serde_json::json!({"version": {"major": 5, "minor": 3},
                "tests": [{"id": format!("kbridge:bench{i:08}"), "origin": "kbridge", "build_id": "maestro:1",
                           "path": "ltp.smoke", "status": "PASS",
                           "environment": {"misc": {"platform": "qemu-riscv64"}}, "misc": {"runtime": "bench"}}]});
            stmt.execute(rusqlite::params![
                format!("bench:{i}"),
                format!("bench document {i}"),
                doc.to_string()
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn main() {
    // The stand-in need not keep what it accepts for validation here.
    std::env::set_var("KBRIDGE_BENCH", "1");
    let docs = load::size("KBRIDGE_BENCH_DOCS", 10_000);
    let callbacks = load::size("KBRIDGE_BENCH_CALLBACKS", 30_000);

    // 1. A backlog delivered by `kbridge submit`.
    let k = util::FakeKcidb::start();
    let mut env = util::Env::bare();
    env.set("KCIDB_REST", &k.rest());
    backlog(&env, docs);
    let start = Instant::now();
    let run = env.run(&["submit", "--quiet"]).expect(0);
    let elapsed = start.elapsed();
    println!("{}", run.stdout.trim());
    println!(
        "submit: {} documents delivered in {:.2}s = {:.0} documents/s, in {} HTTP requests",
        docs + 1,
        elapsed.as_secs_f64(),
        (docs + 1) as f64 / elapsed.as_secs_f64(),
        k.requests()
    );
    assert!(k.objects().values().all(|&n| n == 1));

    // 2. Intake, without and with submission running.
    let rates: Vec<f64> = [false, true]
        .into_iter()
        .map(|submitting| {
            let tux = util::FakeTuxSuite::start();
            let mut env = util::Env::new(&tux);
            let k = util::FakeKcidb::start();
            // Slow enough that delivery of the backlog lasts the whole
            // intake run.
            k.delay(Duration::from_millis(5));
            if submitting {
                env.set("KCIDB_REST", &k.rest());
                let file = env.path("k.toml");
                std::fs::write(&file, "[kcidb]\nmax_request = 65536\n").unwrap();
                env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
            }
            backlog(&env, 100_000);
            let (signer, _) = load::Signer::generate();
            let key = env.path("key.pub");
            std::fs::write(&key, signer.public_line() + "\n").unwrap();
            let listener = env.listen(&["--tuxsuite-public-key", key.to_str().unwrap()]);
            if submitting {
                util::wait_until(Duration::from_secs(30), "delivery to start", || {
                    k.requests() > 0
                });
            }
            let before = k.requests();
            let report = load::run(
                &listener.url,
                load::unmatched_callbacks(&signer, callbacks),
                64,
            );
            let during = k.requests() - before;
            let label = if submitting {
                format!("accept while submitting ({during} KCIDB requests meanwhile)")
            } else {
                "accept, no submission".to_string()
            };
            report.print(&label);
            if submitting {
                assert!(during > 0, "submission ran during the intake");
            }
            report.rate()
        })
        .collect();
    println!(
        "intake with submission running: {:.0}% of intake without it",
        100.0 * rates[1] / rates[0]
    );
}
