//! `kbridge schedule plan` on a 100-job plan (10 builds, a sanity test
//! each, and 8 tests after each sanity test) against the TuxSuite
//! stand-in: wall time and the requests it made; then the requests one
//! round of `kbridge wait --plan` makes over its unfinished jobs.
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
    std::fs::write(&file, plan).unwrap();
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
}
