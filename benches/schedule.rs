//! How long one `kbridge schedule test` takes, process start to exit,
//! against a TuxSuite stand-in on loopback; and how big the binary is.
//!
//! Run with `cargo bench --bench schedule` (release profile). Prints the
//! median and spread of RUNS runs (default 30; set KBRIDGE_BENCH_RUNS).
//! With KBRIDGE_BENCH_TUXSUITE set to the official `tuxsuite` client's
//! executable, the same test is also submitted with
//! `tuxsuite test --no-wait` against the same stand-in, and the ratio of
//! the medians is printed.

#[allow(dead_code, unused_imports)]
#[path = "../tests/util/mod.rs"]
mod util;

use std::time::{Duration, Instant};

fn main() {
    // `cargo bench` passes --bench; there is nothing to filter.
    let runs: usize = std::env::var("KBRIDGE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let tux = util::FakeTuxSuite::start();
    let mut env = util::Env::new(&tux);
    env.set("KBRIDGE_CALLBACK_URL", "https://ci.example.org");
    let args = [
        "schedule",
        "test",
        "--kernel",
        "https://storage.example/Image",
        "--tests",
        "ltp-smoke,ltp-fsx",
        "--build-id",
        "maestro:681b69099ae9711e9ed49766",
        "--force",
        "--quiet",
    ];
    // One warm-up run creates the database, as on a machine in use.
    env.run(&args).expect(0);
    let times = timed(runs, || {
        env.run(&args).expect(0);
    });
    let ours = report("kbridge schedule test", runs, &times);
    let size = std::fs::metadata(env!("CARGO_BIN_EXE_kbridge"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "binary size: {:.1} MiB ({size} bytes)",
        size as f64 / 1048576.0
    );
    assert_eq!(tux.submissions().len(), runs + 1);

    let Some(client) = std::env::var_os("KBRIDGE_BENCH_TUXSUITE") else {
        println!(
            "(set KBRIDGE_BENCH_TUXSUITE=/path/to/tuxsuite to compare with the official client)"
        );
        return;
    };
    let client_args = [
        "test",
        "--device",
        "qemu-riscv64",
        "--kernel",
        "https://storage.example/Image",
        "--tests",
        "ltp-smoke,ltp-fsx",
        "--no-wait",
    ];
    let run_client = || {
        let out = std::process::Command::new(&client)
            .args(client_args)
            .env_clear()
            .envs(&env.vars)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .expect("the tuxsuite client runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run_client();
    let times = timed(runs, run_client);
    let theirs = report("tuxsuite test --no-wait", runs, &times);
    println!(
        "kbridge takes 1/{:.0} of the official client's wall time (medians)",
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
}

fn timed(runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}

/// Prints the spread of sorted `times` and returns their median.
fn report(what: &str, runs: usize, times: &[Duration]) -> Duration {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!("{what}, {runs} runs against a loopback TuxSuite stand-in:");
    println!(
        "  min {:.1} ms  median {:.1} ms  p90 {:.1} ms  max {:.1} ms",
        ms(times[0]),
        ms(pick(0.5)),
        ms(pick(0.9)),
        ms(times[times.len() - 1])
    );
    pick(0.5)
}
