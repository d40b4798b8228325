//! TuxSuite plans: the tuxsuite client's plan YAML, read and expanded as
//! the client does (every test of a job for every build of it, a sanity
//! test per build, sharding), with kbridge's own callback and token per
//! job rather than one for all.

use serde_json::{Map, Value};

use super::options::TestExtras;
use super::FIRMWARE;
use crate::model::{BuildOptions, BuildSpec, JobSpec, TestOptions, TestSpec};
use crate::runner::{CallbackTarget, Plan, PlanDefaults, PlanEntry, PlanSink, StageError};

/// The keys a plan build may carry.
const BUILD_KEYS: [&str; 19] = [
    "git_repo",
    "git_ref",
    "git_sha",
    "target_arch",
    "toolchain",
    "kconfig",
    "environment",
    "make_variables",
    "targets",
    "kernel_image",
    "image_sha",
    "build_name",
    "no_cache",
    "is_public",
    "notify_emails",
    "patch_series",
    "callback",
    "callback_headers",
    "name",
];

/// The keys a plan test may carry, besides the firmware keys.
const TEST_KEYS: [&str; 24] = [
    "device",
    "tests",
    "parameters",
    "timeouts",
    "rootfs",
    "dtb",
    "bios",
    "boot_args",
    "overlay",
    "commands",
    "qemu_image",
    "shared",
    "host",
    "tuxbuild",
    "test_name",
    "lab",
    "lava_test_plans_project",
    "notify_emails",
    "callback",
    "callback_header",
    "sharding",
    "kernel",
    "modules",
    "name",
];

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(after) = name.strip_prefix(head) else {
                return false;
            };
            (0..=after.len()).any(|i| after.is_char_boundary(i) && glob(rest, &after[i..]))
        }
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    match &v[key] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A string or a list of strings, as a list (what is not a string is
/// left out).
pub(super) fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => vec![],
    }
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn check_keys(v: &Value, allowed: &[&[&str]], what: &str) -> Result<(), String> {
    let allowed: Vec<&str> = allowed.concat();
    let Some(m) = v.as_object() else {
        return Err(format!("a {what} must be a mapping"));
    };
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(unknown(what, k, &allowed)),
        None => Ok(()),
    }
}

/// `a plan test does not take 'test'; did you mean 'tests'? It takes …`.
fn unknown(what: &str, key: &str, allowed: &[&str]) -> String {
    let hint = crate::config::closest(key, allowed.iter().copied())
        .map(|k| format!(" did you mean '{k}'?"))
        .unwrap_or_default();
    format!(
        "a {what} does not take '{}';{hint} it takes {}",
        crate::config::shown(key),
        allowed.join(", ")
    )
}

fn build(v: &Value, defaults: &PlanDefaults) -> Result<BuildSpec, String> {
    check_keys(v, &[&BUILD_KEYS], "plan build")?;
    let tree = text(v, "git_repo")
        .or_else(|| defaults.tree.clone())
        .ok_or("a plan build needs git_repo (or give --tree or --git-head)")?;
    // The build's own ref or commit replaces the command line's.
    let (branch, sha) = match (text(v, "git_ref"), text(v, "git_sha")) {
        (None, None) => (defaults.branch.clone(), defaults.sha.clone()),
        own => own,
    };
    if branch.is_some() == sha.is_some() {
        return Err(format!(
            "the build of {tree} needs exactly one of git_ref and git_sha (or give --branch or --sha)"
        ));
    }
    let private = defaults.private;
    Ok(BuildSpec {
        tree,
        branch,
        sha,
        arch: text(v, "target_arch").ok_or("a plan build needs target_arch")?,
        toolchain: text(v, "toolchain").ok_or("a plan build needs toolchain")?,
        kconfig: strings(&v["kconfig"]),
        targets: strings(&v["targets"]),
        private: private || v["is_public"] == Value::Bool(false),
        options: BuildOptions {
            make_variables: pairs(&v["make_variables"]),
            environment: pairs(&v["environment"]),
            build_name: text(v, "build_name"),
            kernel_image: text(v, "kernel_image"),
            image_sha: text(v, "image_sha"),
            no_cache: match &v["no_cache"] {
                Value::Bool(b) => *b,
                _ => defaults.no_cache,
            },
            notify_emails: strings(&v["notify_emails"]),
            patch_series: None,
            runner: Default::default(),
        },
    })
}

/// The most shards one test of a plan is split into.
pub const MAX_SHARDS: u64 = 100;
/// The most jobs one plan makes.
pub const MAX_JOBS: usize = 5000;

/// One test map, expanded by its `sharding`.
fn tests(v: &Value, defaults: &PlanDefaults) -> Result<Vec<TestSpec>, String> {
    check_keys(v, &[&TEST_KEYS, &FIRMWARE], "plan test")?;
    let private = defaults.private;
    let mut parameters = pairs(&v["parameters"]);
    for (k, val) in &defaults.parameters {
        if !parameters.iter().any(|(own, _)| own == k) {
            parameters.push((k.clone(), val.clone()));
        }
    }
    let device = text(v, "device").ok_or("a plan test needs device")?;
    let overlays = match &v["overlay"] {
        Value::String(u) => vec![(u.clone(), "/".to_string())],
        Value::Array(items) => items
            .iter()
            .filter_map(|o| match o {
                Value::String(u) => Some((u.clone(), "/".to_string())),
                Value::Array(pair) => Some((
                    pair.first()?.as_str()?.to_string(),
                    pair.get(1)
                        .and_then(Value::as_str)
                        .unwrap_or("/")
                        .to_string(),
                )),
                _ => None,
            })
            .collect(),
        _ => vec![],
    };
    let timeouts = v["timeouts"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, n)| Some((k.clone(), n.as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    let base = TestSpec {
        device,
        definition: None,
        kernel: text(v, "kernel"),
        modules: text(v, "modules"),
        build_id: String::new(),
        tests: strings(&v["tests"])
            .into_iter()
            .filter(|t| t != "boot")
            .collect(),
        collection: None,
        parameters,
        // A private plan's tests are private too (the client forgets).
        private,
        waits_for: None,
        waits_for_test: None,
        options: TestOptions {
            rootfs: text(v, "rootfs"),
            dtb: text(v, "dtb"),
            bios: text(v, "bios"),
            boot_args: text(v, "boot_args"),
            timeouts,
            overlays,
            commands: strings(&v["commands"]),
            test_name: text(v, "test_name"),
            notify_emails: strings(&v["notify_emails"]),
            runner: TestExtras {
                qemu_image: text(v, "qemu_image"),
                shared: v["shared"] == Value::Bool(true),
                host: text(v, "host"),
                lab: text(v, "lab"),
                lava_test_plans_project: text(v, "lava_test_plans_project"),
                tuxbuild: text(v, "tuxbuild"),
                firmware: FIRMWARE
                    .iter()
                    .filter_map(|k| Some((k.to_string(), text(v, k)?)))
                    .collect(),
            }
            .into_options(),
        },
    };
    let shards = match v.get("sharding") {
        None | Some(Value::Null) => 1,
        Some(n) => match n.as_u64() {
            Some(n @ 1..=MAX_SHARDS) => n,
            Some(0) | None => {
                return Err(format!(
                    "sharding {n} is not a number of shards; give 1 to {MAX_SHARDS}"
                ))
            }
            Some(n) => {
                return Err(format!(
                "sharding {n} is more shards than kbridge makes of one test (at most {MAX_SHARDS})"
            ))
            }
        },
    };
    if shards == 1 {
        return Ok(vec![base]);
    }
    Ok((1..=shards)
        .map(|i| {
            let mut t = base.clone();
            t.parameters
                .retain(|(k, _)| k != "SHARD_NUMBER" && k != "SHARD_INDEX");
            t.parameters
                .push(("SHARD_NUMBER".into(), shards.to_string()));
            t.parameters.push(("SHARD_INDEX".into(), i.to_string()));
            t
        })
        .collect())
}

fn list<'a>(job: &'a Map<String, Value>, one: &str, many: &str) -> Vec<&'a Value> {
    match (job.get(one), job.get(many)) {
        (Some(v), _) => vec![v],
        (None, Some(Value::Array(items))) => items.iter().collect(),
        _ => vec![],
    }
}

/// Reads a plan file; errors name what is wrong, and where.
pub fn read(file: &str, defaults: &PlanDefaults) -> Result<Plan, String> {
    // YAML indents with spaces only; the parser's own words for a tab
    // ("found character that cannot start any token") say nothing of one.
    let indent = |l: &str| -> Option<usize> {
        let prefix = &l[..l.len() - l.trim_start_matches([' ', '\t', '-']).len()];
        prefix.find('\t')
    };
    if let Some((n, column)) = file
        .lines()
        .enumerate()
        .find_map(|(n, l)| Some((n, indent(l)? + 1)))
    {
        return Err(format!(
            "line {} column {column} indents with a tab; YAML indents with spaces only",
            n + 1
        ));
    }
    let yaml: yaml_serde::Value =
        crate::yaml::parse(file).map_err(|e| format!("the plan is not valid YAML: {e}"))?;
    let v: Value = serde_json::to_value(&yaml).map_err(|e| format!("the plan: {e}"))?;
    if v["version"].as_u64() != Some(1) {
        return Err("the plan has no `version: 1`".into());
    }
    let name = text(&v, "name").ok_or("the plan has no name")?;
    let description = text(&v, "description").unwrap_or_default();
    let jobs = v["jobs"].as_array().ok_or("the plan has no jobs list")?;
    let only = &defaults.only;
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    let mut total = 0usize;
    for (i, job) in jobs.iter().enumerate() {
        let Some(m) = job.as_object() else {
            return Err(format!("job {} of the plan is not a mapping", i + 1));
        };
        let job_name = m.get("name").and_then(Value::as_str).unwrap_or_default();
        if !only.is_empty() && !only.iter().any(|p| glob(p, job_name)) {
            continue;
        }
        let at = |e: String| format!("job {} ({}) of the plan: {e}", i + 1, job_name);
        const JOB_KEYS: [&str; 6] = ["name", "build", "builds", "test", "tests", "sanity_test"];
        if let Some(k) = m.keys().find(|k| !JOB_KEYS.contains(&k.as_str())) {
            return Err(at(unknown("plan job", k, &JOB_KEYS)));
        }
        let mut builds = Vec::new();
        for b in list(m, "build", "builds") {
            builds.push((build(b, defaults).map_err(at)?, text(b, "patch_series")));
        }
        let mut job_tests = Vec::new();
        for t in list(m, "test", "tests") {
            job_tests.extend(tests(t, defaults).map_err(at)?);
            if job_tests.len() > MAX_JOBS {
                return Err(at(format!(
                    "its tests make more than {MAX_JOBS} jobs; kbridge submits at most {MAX_JOBS} jobs per plan"
                )));
            }
        }
        // Counted before the matrix is made: a few hundred bytes of plan
        // must not become a million jobs in memory.
        let made = builds.len().max(1)
            * (usize::from(m.contains_key("sanity_test")) + job_tests.len())
            + builds.len();
        total += made;
        if total > MAX_JOBS {
            return Err(format!(
                "the plan makes more than {MAX_JOBS} jobs (job {} ({job_name}) alone makes {made}); kbridge submits at most {MAX_JOBS} jobs per plan: split the plan, or choose jobs with --job NAME",
                i + 1
            ));
        }
        let sanity = match m.get("sanity_test") {
            Some(s) => {
                let mut one = tests(s, defaults).map_err(at)?;
                if one.len() != 1 {
                    return Err(at("a sanity test cannot be sharded".into()));
                }
                one.pop()
            }
            None => None,
        };
        // Every job reports to kbridge, with a token of its own.
        let maps = list(m, "build", "builds")
            .into_iter()
            .chain(list(m, "test", "tests"))
            .chain(m.get("sanity_test"));
        if maps.into_iter().any(|j| {
            j.get("callback").is_some()
                || j.get("callback_header").is_some()
                || j.get("callback_headers").is_some()
        }) {
            notes.push(format!(
                "job {} ({job_name}) of the plan: its callback settings are replaced by kbridge's own (each job reports to `kbridge listen` with a token of its own)",
                i + 1
            ));
        }
        if builds.is_empty() {
            entries.push(PlanEntry {
                build: None,
                patch_series: None,
                sanity,
                tests: job_tests,
            });
        } else {
            // A matrix: every test of the job for every build of it.
            for (b, patch_series) in builds {
                entries.push(PlanEntry {
                    build: Some(b),
                    patch_series,
                    sanity: sanity.clone(),
                    tests: job_tests.clone(),
                });
            }
        }
    }
    if entries.is_empty() {
        return Err(if only.is_empty() {
            "the plan has no jobs".into()
        } else {
            let names: Vec<&str> = jobs
                .iter()
                .filter_map(|j| j.get("name").and_then(Value::as_str))
                .collect();
            let hint = only
                .iter()
                .find_map(|o| crate::config::closest(o, names.iter().copied()))
                .map(|n| format!("did you mean '{n}'? "))
                .unwrap_or_default();
            format!(
                "no job of the plan is named {}; {hint}its jobs are {}",
                only.join(" or "),
                if names.is_empty() {
                    "unnamed (a job's name: key names it)".to_string()
                } else {
                    names.join(", ")
                }
            )
        });
    }
    Ok(Plan {
        name,
        description,
        text: file.to_string(),
        private: defaults.private,
        notify_emails: defaults.notify_emails.clone(),
        entries,
        notes,
    })
}

/// The most jobs sent in one request, as the tuxsuite client sends them.
const BATCH: usize = 500;

/// Submits a plan's jobs in TuxSuite's order: its builds, the sanity tests
/// waiting for their builds (all in one request, as the client sends
/// them), then the other tests waiting for the sanity test, else the
/// build.
pub fn stage(
    tux: &super::TuxSuite,
    plan: &Plan,
    uid: &str,
    sink: &mut dyn PlanSink,
) -> Result<(), StageError> {
    let n = plan.entries.len();
    // Per entry: the build's uid, then the sanity test's.
    let mut built: Vec<Option<String>> = vec![None; n];
    let mut sane: Vec<Option<String>> = vec![None; n];

    let builds: Vec<(usize, JobSpec)> = plan
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, JobSpec::Build(e.build.clone()?))))
        .collect();
    for (i, job_uid) in send(tux, uid, &builds, BATCH, sink)? {
        built[i] = Some(job_uid);
    }
    let sanity: Vec<(usize, JobSpec)> = plan
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let s = e.sanity.as_ref()?;
            Some((i, chained(s, built[i].as_deref(), None, sink)))
        })
        .collect();
    for (i, job_uid) in send(tux, uid, &sanity, sanity.len(), sink)? {
        sane[i] = Some(job_uid);
    }
    let rest: Vec<(usize, JobSpec)> = plan
        .entries
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            let after = e.sanity.as_ref().and(sane[i].as_deref());
            e.tests
                .iter()
                .map(|t| (i, chained(t, built[i].as_deref(), after, sink)))
                .collect::<Vec<_>>()
        })
        .collect();
    send(tux, uid, &rest, BATCH, sink)?;
    Ok(())
}

/// A plan test as it is submitted: after the sanity test when there is
/// one, else after its build (whose kernel TuxSuite gives it).
fn chained(
    t: &TestSpec,
    build: Option<&str>,
    sanity: Option<&str>,
    sink: &dyn PlanSink,
) -> JobSpec {
    let mut t = t.clone();
    t.build_id = sink.build_id(build);
    match build {
        Some(uid) => {
            t.kernel = None;
            t.modules = None;
            match sanity {
                Some(s) => t.waits_for_test = Some(s.to_string()),
                None => t.waits_for = Some(uid.to_string()),
            }
        }
        None => t.waits_for_test = sanity.map(str::to_string),
    }
    if t.tests.is_empty() {
        JobSpec::Boot(t)
    } else {
        JobSpec::Test(t)
    }
}

/// Sends one stage in requests of at most `size` jobs, each recorded
/// before it is sent; gives each entry's runner uid.
fn send(
    tux: &super::TuxSuite,
    plan_uid: &str,
    items: &[(usize, JobSpec)],
    size: usize,
    sink: &mut dyn PlanSink,
) -> Result<Vec<(usize, String)>, StageError> {
    let mut uids = Vec::new();
    for chunk in items.chunks(size.max(1)) {
        let jobs: Vec<(JobSpec, Option<CallbackTarget>)> = chunk
            .iter()
            .map(|(_, spec)| (spec.clone(), sink.callback(spec.kind())))
            .collect();
        let batch = tux.prepare_jobs(plan_uid, &jobs)?;
        sink.record(&batch, &jobs)?;
        sink.feedback().started(&format!(
            "submitting {} job(s) of plan {plan_uid}",
            jobs.len()
        ));
        let answer = tux.submit_jobs(&batch, sink.feedback());
        sink.feedback().finished();
        for ((i, _), job_uid) in chunk.iter().zip(sink.submitted(answer)?) {
            uids.push((*i, job_uid));
        }
    }
    Ok(uids)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "version: 1\nname: riscv-smoke\ndescription: d\njobs:\n- name: defconfig\n  builds:\n  - {toolchain: gcc-13, target_arch: riscv, kconfig: [defconfig], git_repo: 'https://git.example/l.git', git_ref: master}\n  - {toolchain: clang-18, target_arch: riscv, kconfig: [defconfig], git_repo: 'https://git.example/l.git', git_ref: master}\n  sanity_test: {device: qemu-riscv64}\n  tests:\n  - {device: qemu-riscv64, tests: [ltp-smoke], timeouts: {boot: 30}}\n  - {device: qemu-riscv64, tests: [kselftest-memfd], sharding: 2, parameters: {KSELFTEST: '$BUILD/kselftest.tar.xz'}}\n";

    fn only(names: &[&str], private: bool) -> PlanDefaults {
        PlanDefaults {
            only: names.iter().map(|n| n.to_string()).collect(),
            private,
            ..PlanDefaults::default()
        }
    }

    #[test]
    fn shards_and_jobs_are_bounded_before_anything_is_made() {
        let plan = |jobs: &str| format!("version: 1\nname: big\njobs:\n{jobs}");
        for (sharding, want) in [
            ("18446744073709551615", "at most 100"),
            ("1000000", "at most 100"),
            ("0", "give 1 to 100"),
            ("-3", "give 1 to 100"),
            ("two", "give 1 to 100"),
        ] {
            let p = plan(&format!(
                "- tests: [{{device: qemu-x86_64, kernel: 'https://k/Image', tests: [ltp-smoke], sharding: {sharding}}}]\n"
            ));
            let e = read(&p, &PlanDefaults::default()).unwrap_err();
            assert!(e.contains(want), "{sharding}: {e}");
        }
        // 60 builds, each with 100 shards of one test: 6,060 jobs.
        let builds: String = (0..60)
            .map(|i| format!("  - {{toolchain: gcc-{i}, target_arch: riscv, kconfig: [defconfig], git_repo: 'https://g/l.git', git_ref: master}}\n"))
            .collect();
        let p = plan(&format!(
            "- builds:\n{builds}  tests: [{{device: qemu-riscv64, tests: [ltp-smoke], sharding: 100}}]\n"
        ));
        let e = read(&p, &PlanDefaults::default()).unwrap_err();
        assert!(
            e.contains("more than 5000 jobs") && e.contains("6060"),
            "{e}"
        );
    }

    #[test]
    fn a_plan_is_a_matrix_with_sanity_tests_and_shards() {
        let p = read(PLAN, &only(&[], true)).unwrap();
        assert_eq!(p.entries.len(), 2, "one entry per build");
        assert_eq!(
            p.count(),
            2 + 2 + 2 * 3,
            "builds, sanity tests, tests (one sharded in 2)"
        );
        let tests = &p.entries[1].tests;
        assert_eq!(tests[0].options.timeouts, [("boot".to_string(), 30)]);
        assert!(tests[2]
            .parameters
            .contains(&("SHARD_INDEX".into(), "2".into())));
        assert!(
            tests.iter().all(|t| t.private),
            "a private plan's tests are private"
        );
        assert!(read(PLAN, &only(&["nope*"], false))
            .unwrap_err()
            .contains("no job"));
        assert!(read(PLAN, &only(&["def*"], false)).is_ok());
        let bad = PLAN.replace("timeouts", "timeoutz");
        assert!(read(&bad, &only(&[], false))
            .unwrap_err()
            .contains("does not take 'timeoutz'"));
        assert!(read("version: 2\n", &only(&[], false))
            .unwrap_err()
            .contains("version: 1"));
    }

    /// The spec's own example: builds take their repository and ref from
    /// the command line, which a build's own settings replace.
    #[test]
    fn the_command_line_gives_what_the_file_leaves_out() {
        let file = "version: 1\nname: n\njobs:\n- builds:\n  - {toolchain: gcc-13, target_arch: riscv, kconfig: [defconfig]}\n  - {toolchain: gcc-13, target_arch: riscv, kconfig: [defconfig], git_sha: abc1234, no_cache: false, patch_series: fixes.mbox, callback: 'https://elsewhere.example/cb'}\n  tests:\n  - {device: qemu-riscv64, tests: [ltp-smoke], parameters: {SKIPFILE: own}, lab: 'https://lab.example', lava_test_plans_project: lkft}\n";
        let missing = read(file, &only(&[], false)).unwrap_err();
        assert!(missing.contains("give --tree or --git-head"), "{missing}");
        let defaults = PlanDefaults {
            tree: Some("https://git.example/l.git".into()),
            branch: Some("master".into()),
            no_cache: true,
            parameters: vec![
                ("SKIPFILE".into(), "cli".into()),
                ("SHARD".into(), "1".into()),
            ],
            ..PlanDefaults::default()
        };
        let p = read(file, &defaults).unwrap();
        let (a, b) = (
            p.entries[0].build.as_ref().unwrap(),
            p.entries[1].build.as_ref().unwrap(),
        );
        assert_eq!(a.tree, "https://git.example/l.git");
        assert_eq!(
            (a.branch.as_deref(), a.sha.as_deref()),
            (Some("master"), None)
        );
        assert!(a.options.no_cache);
        assert_eq!(
            (b.branch.as_deref(), b.sha.as_deref()),
            (None, Some("abc1234"))
        );
        assert!(!b.options.no_cache, "the build's own setting wins");
        assert_eq!(p.entries[1].patch_series.as_deref(), Some("fixes.mbox"));
        assert_eq!(p.entries[0].patch_series, None);
        let t = &p.entries[0].tests[0];
        assert_eq!(
            t.parameters,
            [
                ("SKIPFILE".to_string(), "own".to_string()),
                ("SHARD".to_string(), "1".to_string())
            ]
        );
        let extras = super::super::options::TestExtras::of(&t.options.runner).unwrap();
        assert_eq!(extras.lab.as_deref(), Some("https://lab.example"));
        assert_eq!(extras.lava_test_plans_project.as_deref(), Some("lkft"));
        assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
        assert!(p.notes[0].contains("replaced by kbridge's own"));
    }
}
