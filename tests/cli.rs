//! The command line itself: help, version, settings, and the generated
//! completions and man pages.

use std::path::Path;

use crate::util::Env;

#[test]
fn help_and_version() {
    let env = Env::bare();
    let help = env.run(&["--help"]).expect(0).stdout;
    assert!(help.contains("Exit status:"), "{help}");
    for cmd in ["schedule", "jobs", "show", "config"] {
        assert!(help.contains(cmd), "{cmd} missing from help");
    }
    assert!(!help.contains("generate"), "generate is hidden");
    let version = env.run(&["--version"]).expect(0).stdout;
    assert_eq!(
        version.trim(),
        format!("kbridge {}", env!("CARGO_PKG_VERSION"))
    );
    env.run(&["frobnicate"]).expect(2);
}

#[test]
fn config_shows_values_and_sources() {
    let mut env = Env::bare();
    let file = env.path("k.toml");
    std::fs::write(
        &file,
        "origin = \"riscv_lab\"\ncallback_url = \"https://ci.example\"\n",
    )
    .unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap())
        .set("KBRIDGE_CALLBACK_URL", "https://env.example/");
    let cfg = env
        .run(&["config", "--json", "--db", "/tmp/x.db"])
        .expect(0)
        .json();
    assert_eq!(cfg["database"]["value"], "/tmp/x.db");
    assert_eq!(cfg["database"]["source"], "flag --db");
    assert_eq!(cfg["callback_url"]["value"], "https://env.example");
    assert_eq!(cfg["callback_url"]["source"], "env KBRIDGE_CALLBACK_URL");
    assert_eq!(cfg["origin"]["value"], "riscv_lab");
    assert!(cfg["origin"]["source"]
        .as_str()
        .unwrap()
        .starts_with("file "));
    assert_eq!(cfg["retry_delay"]["source"], "env KBRIDGE_RETRY_DELAY");
    assert_eq!(cfg["http_timeout"]["source"], "default");
}

#[test]
fn bad_config_is_a_one_line_usage_error() {
    let mut env = Env::bare();
    let file = env.path("k.toml");
    std::fs::write(&file, "origin = \"Not-Valid\"\n").unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    let run = env.run(&["jobs"]).expect(2);
    assert!(
        run.error_line().contains("not a KCIDB origin"),
        "{}",
        run.stderr
    );

    env.set("KBRIDGE_CONFIG", env.path("missing.toml").to_str().unwrap());
    let run = env.run(&["jobs"]).expect(2);
    assert!(
        run.error_line().contains("cannot read config file"),
        "{}",
        run.stderr
    );
    assert!(
        run.error_line().contains("KBRIDGE_CONFIG"),
        "{}",
        run.stderr
    );

    std::fs::write(&file, "callback_url = \"ftp://x\"\n").unwrap();
    env.set("KBRIDGE_CONFIG", file.to_str().unwrap());
    let run = env.run(&["jobs"]).expect(2);
    assert!(
        run.error_line().contains("callback_url from file"),
        "{}",
        run.stderr
    );
}

/// The committed completions and man pages match the CLI. Run with
/// `KBRIDGE_UPDATE_GENERATED=1` to rewrite them.
#[test]
fn generated_files_are_current() {
    let env = Env::bare();
    let out = env.path("gen");
    env.run(&["generate", "--out-dir", out.to_str().unwrap()])
        .expect(0);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("KBRIDGE_UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    for sub in ["completions", "man"] {
        let fresh_dir = out.join(sub);
        let committed_dir = repo.join(sub);
        let mut names: Vec<_> = std::fs::read_dir(&fresh_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert!(names.len() >= 3, "{sub}: {names:?}");
        if update {
            let _ = std::fs::remove_dir_all(&committed_dir);
            std::fs::create_dir_all(&committed_dir).unwrap();
        }
        for name in &names {
            let fresh = std::fs::read(fresh_dir.join(name)).unwrap();
            let committed_path = committed_dir.join(name);
            if update {
                std::fs::write(&committed_path, &fresh).unwrap();
            } else if std::fs::read(&committed_path).ok().as_deref() != Some(&fresh[..]) {
                stale.push(format!("{sub}/{}", name.to_string_lossy()));
            }
        }
        let committed_count = std::fs::read_dir(&committed_dir)
            .map(|d| d.count())
            .unwrap_or(0);
        if committed_count != names.len() {
            stale.push(format!(
                "{sub}/ has {committed_count} files, expected {}",
                names.len()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files: {stale:?}\nregenerate with: KBRIDGE_UPDATE_GENERATED=1 cargo test generated_files_are_current"
    );
}
