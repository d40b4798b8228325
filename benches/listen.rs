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
//!
//! Side by side with another build: `KBRIDGE_BENCH_BASELINE=/path/to/kbridge
//! cargo bench --bench listen` measures intake with an independent load
//! generator, wrk (64 connections, two threads, distinct pre-signed
//! callbacks, each verified and committed before its 202), alternating the
//! two builds for KBRIDGE_BENCH_ROUNDS rounds (default 4) of
//! KBRIDGE_BENCH_SECONDS each (default 10), each on a fresh database, and
//! prints every run and the medians.
//!
//! SQLite and PostgreSQL side by side: `KBRIDGE_BENCH_STORES=1
//! pg_virtualenv cargo bench --bench listen` measures the same intake with
//! wrk on an SQLite file, on PostgreSQL with one listener, and on
//! PostgreSQL with two listeners sharing the load (32 connections each,
//! distinct callbacks), alternating for KBRIDGE_BENCH_ROUNDS rounds, then
//! the wall time of `kbridge schedule test` on each store.

#[allow(dead_code, unused_imports)]
#[path = "../tests/util/mod.rs"]
mod util;

#[allow(dead_code)]
#[path = "support/load.rs"]
mod load;

use std::time::{Duration, Instant};

fn main() {
    if let Some(baseline) = std::env::var_os("KBRIDGE_BENCH_BASELINE") {
        return side_by_side(std::path::Path::new(&baseline));
    }
    if std::env::var_os("KBRIDGE_BENCH_STORES").is_some() {
        return stores();
    }
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

/// What wrk said of one run.
#[derive(Debug, Clone, Copy)]
struct Run {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Answers other than 2xx, and socket errors.
    bad: u64,
}

/// wrk's script: each thread loads its share of the pre-signed callbacks
/// (`signature TAB body` per line) and sends each once.
const WRK_SCRIPT: &str = r#"
local threads = {}
local count = 0
function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end
function init(args)
  reqs = {}
  local n = 0
  local line_no = 0
  for line in io.lines(args[1]) do
    if line_no % tonumber(args[2]) == tid then
      local tab = line:find("\t", 1, true)
      n = n + 1
      reqs[n] = wrk.format("POST", "/callback/tuxsuite/test",
        {["x-tux-payload-signature"] = line:sub(1, tab - 1),
         ["content-type"] = "application/json"},
        line:sub(tab + 1))
    end
    line_no = line_no + 1
  end
  sent = 0
  total = n
end
function request()
  sent = sent + 1
  return reqs[((sent - 1) % total) + 1]
end
"#;

fn wrk(url: &str, script: &std::path::Path, data: &std::path::Path, seconds: u64) -> Run {
    wrk_with(url, script, data, seconds, 64)
}

fn wrk_with(
    url: &str,
    script: &std::path::Path,
    data: &std::path::Path,
    seconds: u64,
    connections: usize,
) -> Run {
    let out = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .arg("--")
        .arg(data)
        .arg("2")
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |prefix: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    };
    let ms = |v: String| -> f64 {
        let v = v.split_whitespace().next().unwrap_or("0").to_string();
        if let Some(us) = v.strip_suffix("us") {
            us.parse::<f64>().unwrap() / 1000.0
        } else if let Some(m) = v.strip_suffix("ms") {
            m.parse().unwrap()
        } else if let Some(s) = v.strip_suffix('s') {
            s.parse::<f64>().unwrap() * 1000.0
        } else {
            v.parse().unwrap()
        }
    };
    let errors: u64 = field("Socket errors:")
        .map(|l| {
            l.split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    Run {
        rate: field("Requests/sec:")
            .unwrap_or_else(|| panic!("wrk said: {text}"))
            .parse()
            .unwrap(),
        p50_ms: ms(field("50%").unwrap()),
        p99_ms: ms(field("99%").unwrap()),
        bad: field("Non-2xx or 3xx responses:")
            .map(|n| n.parse().unwrap())
            .unwrap_or(0)
            + errors,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Intake of this build and `baseline`, alternating, measured by wrk.
fn side_by_side(baseline: &std::path::Path) {
    assert!(
        std::process::Command::new("wrk")
            .arg("--version")
            .output()
            .is_ok(),
        "wrk is needed for the side-by-side run (apt install wrk)"
    );
    let rounds = load::size("KBRIDGE_BENCH_ROUNDS", 4);
    let seconds = load::size("KBRIDGE_BENCH_SECONDS", 10) as u64;
    let pool = load::size("KBRIDGE_BENCH_POOL", 250_000);
    let current = std::path::PathBuf::from(env!("CARGO_BIN_EXE_kbridge"));
    let (signer, _) = load::Signer::generate();
    // KBRIDGE_BENCH_DIR keeps the script, the callbacks and the key, to
    // run a listener under a profiler with the same load.
    let temp = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("KBRIDGE_BENCH_DIR").map(std::path::PathBuf::from);
    let dir = kept.as_deref().unwrap_or(temp.path());
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("key.pub"), signer.public_line() + "\n").unwrap();
    let script = dir.join("callbacks.lua");
    std::fs::write(&script, WRK_SCRIPT).unwrap();
    let data = dir.join("callbacks.tsv");
    let t = Instant::now();
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&data).unwrap());
        for r in load::unmatched_callbacks(&signer, pool) {
            let sig = &r.headers[0].1;
            let body = String::from_utf8(r.body).unwrap();
            assert!(!body.contains(['\t', '\n']));
            writeln!(f, "{sig}\t{body}").unwrap();
        }
    }
    println!(
        "setup: {pool} distinct signed callbacks in {:.1}s; {rounds} rounds of {seconds}s per build, alternating",
        t.elapsed().as_secs_f64()
    );
    let tux = util::FakeTuxSuite::start();
    let mut runs: Vec<(&str, Run)> = Vec::new();
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [("baseline", baseline), ("this build", current.as_path())]
        } else {
            [("this build", current.as_path()), ("baseline", baseline)]
        };
        for (name, bin) in order {
            let env = util::Env::new(&tux);
            let key = env.path("key.pub");
            std::fs::write(&key, signer.public_line() + "\n").unwrap();
            let listener = env.listen_with(bin, &["--tuxsuite-public-key", key.to_str().unwrap()]);
            let run = wrk(&listener.url, &script, &data, seconds);
            let conn = rusqlite::Connection::open(env.db()).unwrap();
            let stored: i64 = conn
                .query_row("SELECT count(*) FROM inbox", [], |r| r.get(0))
                .unwrap();
            println!(
                "round {round} {name:<10}: {:>7.0} accepted/s  p50 {:>6.2} ms  p99 {:>6.2} ms  not accepted {}  rows {stored}",
                run.rate, run.p50_ms, run.p99_ms, run.bad
            );
            drop(listener);
            runs.push((name, run));
        }
    }
    for name in ["baseline", "this build"] {
        let mine: Vec<Run> = runs
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, r)| *r)
            .collect();
        println!(
            "median {name:<10}: {:>7.0} accepted/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
            median(mine.iter().map(|r| r.rate).collect()),
            median(mine.iter().map(|r| r.p50_ms).collect()),
            median(mine.iter().map(|r| r.p99_ms).collect()),
        );
    }
}

/// Intake on an SQLite file, on PostgreSQL with one listener, and on
/// PostgreSQL with two listeners sharing the load; then `kbridge schedule`
/// on each store.
fn stores() {
    let rounds = load::size("KBRIDGE_BENCH_ROUNDS", 4);
    let seconds = load::size("KBRIDGE_BENCH_SECONDS", 10) as u64;
    let pool = load::size("KBRIDGE_BENCH_POOL", 250_000);
    let (signer, _) = load::Signer::generate();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("callbacks.lua");
    std::fs::write(&script, WRK_SCRIPT).unwrap();
    // Two halves, so two listeners never get the same callback.
    let halves = [dir.path().join("a.tsv"), dir.path().join("b.tsv")];
    let all = dir.path().join("all.tsv");
    {
        use std::io::Write;
        let mut files: Vec<_> = halves
            .iter()
            .chain([&all])
            .map(|p| std::io::BufWriter::new(std::fs::File::create(p).unwrap()))
            .collect();
        for (i, r) in load::unmatched_callbacks(&signer, pool)
            .into_iter()
            .enumerate()
        {
            let line = format!(
                "{}\t{}\n",
                r.headers[0].1,
                String::from_utf8(r.body).unwrap()
            );
            files[i % 2].write_all(line.as_bytes()).unwrap();
            files[2].write_all(line.as_bytes()).unwrap();
        }
    }
    let tux = util::FakeTuxSuite::start();
    let setup = |db: Option<&str>| {
        let mut env = util::Env::new(&tux);
        if let Some(url) = db {
            env.set("KBRIDGE_DB", url);
        }
        let key = env.path("key.pub");
        std::fs::write(&key, signer.public_line() + "\n").unwrap();
        env
    };
    let listen = |env: &util::Env| {
        let key = env.path("key.pub");
        env.listen(&["--tuxsuite-public-key", key.to_str().unwrap()])
    };
    let mut runs: Vec<(&str, Run)> = Vec::new();
    let kinds = ["sqlite", "postgresql", "postgresql x2"];
    for round in 0..rounds {
        for k in 0..kinds.len() {
            let kind = kinds[(k + round) % kinds.len()];
            let run = match kind {
                "sqlite" => {
                    let env = setup(None);
                    let l = listen(&env);
                    wrk_with(&l.url, &script, &all, seconds, 64)
                }
                "postgresql" => {
                    let env = setup(Some(&util::postgres::fresh_database()));
                    let l = listen(&env);
                    wrk_with(&l.url, &script, &all, seconds, 64)
                }
                _ => {
                    let env = setup(Some(&util::postgres::fresh_database()));
                    let (a, b) = (listen(&env), listen(&env));
                    let (ra, rb) = std::thread::scope(|s| {
                        let ta = s.spawn(|| wrk_with(&a.url, &script, &halves[0], seconds, 32));
                        let tb = s.spawn(|| wrk_with(&b.url, &script, &halves[1], seconds, 32));
                        (ta.join().unwrap(), tb.join().unwrap())
                    });
                    Run {
                        rate: ra.rate + rb.rate,
                        p50_ms: ra.p50_ms.max(rb.p50_ms),
                        p99_ms: ra.p99_ms.max(rb.p99_ms),
                        bad: ra.bad + rb.bad,
                    }
                }
            };
            println!(
                "round {round} {kind:<14}: {:>7.0} accepted/s  p50 {:>6.2} ms  p99 {:>6.2} ms  not accepted {}",
                run.rate, run.p50_ms, run.p99_ms, run.bad
            );
            runs.push((kind, run));
        }
    }
    for kind in kinds {
        let mine: Vec<Run> = runs
            .iter()
            .filter(|(n, _)| *n == kind)
            .map(|(_, r)| *r)
            .collect();
        println!(
            "median {kind:<14}: {:>7.0} accepted/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
            median(mine.iter().map(|r| r.rate).collect()),
            median(mine.iter().map(|r| r.p50_ms).collect()),
            median(mine.iter().map(|r| r.p99_ms).collect()),
        );
    }
    // `kbridge schedule test` on each store, alternating.
    let on = [
        ("sqlite", setup(None)),
        ("postgresql", setup(Some(&util::postgres::fresh_database()))),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(), Vec::new()];
    for i in 0..40 {
        for (k, (_, env)) in on.iter().enumerate() {
            let build = format!("maestro:{i:024x}");
            let t = Instant::now();
            env.run(&[
                "schedule",
                "test",
                "--kernel",
                "https://storage.example/Image",
                "--tests",
                "ltp-smoke",
                "--build-id",
                &build,
                "--quiet",
            ])
            .expect(0);
            times[k].push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    for (k, (kind, _)) in on.iter().enumerate() {
        println!(
            "schedule test on {kind:<10}: median {:.1} ms over 40",
            median(times[k].clone())
        );
    }
}
