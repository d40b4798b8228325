//! `kbridge schedule plan` on a 100-job plan (10 builds, a sanity test
//! each, and 8 tests after each sanity test) against the TuxSuite
//! stand-in: wall time and the requests it made; the requests one round
//! of `kbridge wait --plan` makes over its unfinished jobs; and the
//! requests per minute `kbridge wait --plan` makes while the plan runs, at
//! the default poll interval (30 s), for KBRIDGE_BENCH_PLAN_SECS seconds
//! (default 150). With KBRIDGE_BENCH_BASELINE=/path/to/an/older/kbridge
//! the last figure is measured for both builds, alternating.
//!
//! Run with `cargo bench --bench plan`.

#[allow(dead_code, unused_imports)]
#[path = "../tests/util/mod.rs"]
mod util;

use std::time::Instant;

fn main() {
    let tux = util::FakeTuxSuite::start();
    let mut env = util::Env::new(&tux);
    env.set("KBRIDGE_CALLBACK_URL", "https://ci.example.org");
    let mut plan = String::from(
        "version: 1\nname: bench\ndescription: 100 jobs\njobs:\n- name: matrix\n  builds:\n",
    );
    for tc in 0..10 {
        plan.push_str(&format!(
            "  - {{git_repo: 'https://git.example/linux.git', git_ref: master, toolchain: gcc-{tc}, target_arch: riscv, kconfig: [defconfig]}}\n"
        ));
    }
    plan.push_str("  sanity_test: {device: qemu-riscv64}\n  tests:\n");
    for t in 0..8 {
        plan.push_str(&format!("  - {{device: qemu-riscv64, tests: [ltp-{t}]}}\n"));
    }
    let file = env.path("plan.yaml");
    let plan_text = plan;
    std::fs::write(&file, &plan_text).unwrap();
    let start = Instant::now();
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
    let elapsed = start.elapsed();
    println!(
        "schedule plan: {} jobs in {:.0} ms with {} requests",
        out["jobs"].as_array().unwrap().len(),
        elapsed.as_secs_f64() * 1000.0,
        tux.submissions().len()
    );

    // One round of polling over the plan's 100 unfinished jobs: the
    // plan's pages (50 jobs each, per kind) rather than a request per job.
    let plan = out["plan"].as_str().unwrap();
    let before = tux.received().len();
    env.set("KBRIDGE_POLL_INTERVAL", "600");
    env.run(&["wait", "--plan", plan, "--timeout", "2s", "--quiet"])
        .expect(124);
    println!(
        "wait --plan, one round over 100 unfinished jobs: {} requests",
        tux.received().len() - before
    );

    // A running plan, polled at the default interval: each build schedules
    // the plan into a database of its own, then waits on it.
    let secs: u64 = std::env::var("KBRIDGE_BENCH_PLAN_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    let this = std::path::PathBuf::from(env!("CARGO_BIN_EXE_kbridge"));
    let mut builds = vec![("this build", this)];
    if let Ok(old) = std::env::var("KBRIDGE_BENCH_BASELINE") {
        builds.push(("baseline", old.into()));
    }
    let rounds = if builds.len() > 1 { 2 } else { 1 };
    for _ in 0..rounds {
        for (name, bin) in &builds {
            let env = util::Env::new(&tux);
            let file = env.path("plan.yaml");
            std::fs::write(&file, &plan_text).unwrap();
            let out = env
                .run_bin(
                    bin,
                    env.dir.path(),
                    &[
                        "schedule",
                        "plan",
                        file.to_str().unwrap(),
                        "--json",
                        "--quiet",
                    ],
                )
                .expect(0)
                .json();
            let plan = out["plan"].as_str().unwrap().to_string();
            let before = tux.received().len();
            let timeout = format!("{secs}s");
            env.run_bin(
                bin,
                env.dir.path(),
                &["wait", "--plan", &plan, "--timeout", &timeout, "--quiet"],
            )
            .expect(124);
            let asked = &tux.received()[before..];
            let pages = asked.iter().filter(|r| r.path.contains("/plans/")).count();
            let jobs = asked.len() - pages;
            let per_minute = asked.len() as f64 * 60.0 / secs as f64;
            println!(
                "{name}: wait --plan over a running 100-job plan for {secs}s at the default interval: {} requests ({pages} plan pages, {jobs} jobs on their own), {per_minute:.1} per minute",
                asked.len()
            );
        }
    }
}
