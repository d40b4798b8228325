//! A sealed environment per test that drives the real binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::tuxsuite::FakeTuxSuite;

pub const TOKEN: &str = "tux-secret-token";
pub const GROUP: &str = "riscv";
pub const PROJECT: &str = "kbridge";

/// `kbridge schedule build` of the RISC-V tree, plus `extra` arguments.
pub fn build_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "schedule",
        "build",
        "--tree",
        "https://git.kernel.org/pub/scm/linux/kernel/git/riscv/linux.git",
        "--branch",
        "for-next",
        "--toolchain",
        "gcc-13",
        "--kconfig",
        "defconfig",
        "--fragment",
        "CONFIG_KASAN=y",
    ];
    v.extend_from_slice(extra);
    v
}

/// A temp dir with its own HOME and XDG dirs, and the variables a test
/// gives the binary. Nothing from the developer's environment leaks in.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub vars: BTreeMap<String, String>,
}

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Asserts the exit status, showing both outputs when it differs.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The one `error: ...` line, asserting there is exactly one line.
    #[track_caller]
    pub fn error_line(&self) -> &str {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.starts_with("note:"))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one error line, got:\n{}",
            self.stderr
        );
        assert!(lines[0].starts_with("error: "), "{}", self.stderr);
        lines[0]
    }

    /// The `error: ...` line that ends stderr, after the lines that named
    /// each problem.
    #[track_caller]
    pub fn error_line_last(&self) -> &str {
        let last = self.stderr.lines().last().unwrap_or_default();
        assert!(last.starts_with("error: "), "{}", self.stderr);
        last
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Env {
    /// An environment with no TuxSuite settings at all.
    pub fn bare() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let mut vars = BTreeMap::new();
        for (k, sub) in [
            ("HOME", "home"),
            ("XDG_CONFIG_HOME", "home/.config"),
            ("XDG_DATA_HOME", "home/.local/share"),
        ] {
            let p = dir.path().join(sub);
            std::fs::create_dir_all(&p).unwrap();
            vars.insert(k.to_string(), p.to_str().unwrap().to_string());
        }
        // Retries in tests need not wait seconds.
        vars.insert("KBRIDGE_RETRY_DELAY".into(), "0.05".into());
        if let Some(url) = super::postgres::current() {
            vars.insert("KBRIDGE_DB".into(), url);
        }
        Env { dir, vars }
    }

    /// An environment pointed at `tux` with a full TuxSuite setup.
    pub fn new(tux: &FakeTuxSuite) -> Env {
        let mut env = Env::bare();
        env.set("TUXSUITE_TOKEN", TOKEN)
            .set("TUXSUITE_GROUP", GROUP)
            .set("TUXSUITE_PROJECT", PROJECT)
            .set("TUXAPI_URL", &tux.url());
        env
    }

    /// Another environment with the same settings and a directory of its
    /// own: another host of the same deployment.
    pub fn sibling(&self) -> Env {
        let mut env = Env::bare();
        env.vars = self.vars.clone();
        env
    }

    pub fn set(&mut self, k: &str, v: &str) -> &mut Env {
        self.vars.insert(k.into(), v.into());
        self
    }

    pub fn unset(&mut self, k: &str) -> &mut Env {
        self.vars.remove(k);
        self
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The default database path under this environment.
    pub fn db(&self) -> PathBuf {
        self.path("home/.local/share/kbridge/kbridge.db")
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.dir.path(), args)
    }

    /// Runs the binary with `dir` as its working directory.
    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Run {
        self.run_bin(Path::new(env!("CARGO_BIN_EXE_kbridge")), dir, args)
    }

    /// Runs another kbridge binary (a benchmark's baseline build).
    pub fn run_bin(&self, bin: &Path, dir: &Path, args: &[&str]) -> Run {
        let out = Command::new(bin)
            .args(args)
            .env_clear()
            .envs(&self.vars)
            .current_dir(dir)
            .output()
            .expect("the kbridge binary runs");
        Run::from(out)
    }

    /// Number of job rows in the database, read directly.
    pub fn job_rows(&self) -> i64 {
        match self.vars.get("KBRIDGE_DB") {
            Some(url) if url.starts_with("postgresql://") => {
                super::postgres::query(url, "SELECT count(*) FROM jobs")[0]
                    .parse()
                    .unwrap()
            }
            _ => count_rows(&self.db()),
        }
    }
}

pub fn count_rows(db: &Path) -> i64 {
    if !db.exists() {
        return 0;
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
        .unwrap()
}

/// Copies every KCIDB document a test produced to one place, so CI can
/// check them all with KCIDB's own validator.
pub fn keep_documents(dir: &Path) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kcidb-docs");
    std::fs::create_dir_all(&keep).unwrap();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".json") && !name.starts_with('.') {
            let n = N.fetch_add(1, Ordering::Relaxed);
            std::fs::copy(
                e.path(),
                keep.join(format!("{}-{n}-{name}", std::process::id())),
            )
            .unwrap();
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        keep_documents(&self.path("kcidb"));
    }
}

/// Runs git in `dir`, failing the test if it fails.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=Dev",
            "-c",
            "user.email=dev@example.org",
            "-c",
            "init.defaultBranch=master",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
