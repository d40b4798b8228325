//! The test harness: a sealed environment per test that drives the real
//! binary, and a local TuxSuite stand-in that follows the documented
//! protocol.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

pub const TOKEN: &str = "tux-secret-token";
pub const GROUP: &str = "riscv";
pub const PROJECT: &str = "kbridge";

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
        let out = Command::new(env!("CARGO_BIN_EXE_kbridge"))
            .args(args)
            .env_clear()
            .envs(&self.vars)
            .current_dir(self.dir.path())
            .output()
            .expect("the kbridge binary runs");
        Run::from(out)
    }

    /// Number of job rows in the database, read directly.
    pub fn job_rows(&self) -> i64 {
        count_rows(&self.db())
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

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A scripted answer that replaces the protocol answer for one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answer with this status, JSON body and extra headers.
    Status(u16, Value, Vec<(&'static str, String)>),
    /// Wait this long, then give the normal answer (the client has given
    /// up by then).
    Hang(Duration),
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    script: VecDeque<Reply>,
    warnings: Vec<String>,
}

/// A TuxSuite stand-in on 127.0.0.1 with an ephemeral port. Unless told
/// otherwise it answers as the service does: it checks the raw token, the
/// URL and the body, and answers a test with an object and a build with an
/// array, each carrying a fresh 27-character uid.
pub struct FakeTuxSuite {
    server: Arc<tiny_http::Server>,
    state: Arc<Mutex<State>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeTuxSuite {
    pub fn start() -> FakeTuxSuite {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let (s, st) = (server.clone(), state.clone());
        let thread = std::thread::spawn(move || {
            // One thread per request, so a hanging answer does not hold up
            // the retry that follows it.
            while let Ok(req) = s.recv() {
                let st = st.clone();
                std::thread::spawn(move || answer(req, &st));
            }
        });
        FakeTuxSuite {
            server,
            state,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.server_addr().to_ip().unwrap())
    }

    /// Queues scripted answers for the next requests.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().script.extend(replies);
    }

    /// Adds an `x-tuxsuite-warning-*` header to every answer.
    pub fn warn(&self, text: &str) {
        self.state.lock().unwrap().warnings.push(text.into());
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Requests other than the auth look-up.
    pub fn submissions(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect()
    }
}

impl Drop for FakeTuxSuite {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(mut req: tiny_http::Request, st: &Mutex<State>) {
    let mut body = String::new();
    let _ = std::io::Read::read_to_string(req.as_reader(), &mut body);
    let received = Received {
        method: req.method().to_string(),
        path: req.url().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|h| (h.field.to_string(), h.value.to_string()))
            .collect(),
        body,
    };
    let (scripted, warnings) = {
        let mut st = st.lock().unwrap();
        st.received.push(received.clone());
        (st.script.pop_front(), st.warnings.clone())
    };
    let (status, answer, mut headers) = match scripted {
        Some(Reply::Status(code, body, headers)) => (code, body, headers),
        Some(Reply::Hang(d)) => {
            std::thread::sleep(d);
            let (c, b) = protocol_answer(&received);
            (c, b, vec![])
        }
        None => {
            let (c, b) = protocol_answer(&received);
            (c, b, vec![])
        }
    };
    for w in warnings {
        headers.push(("x-tuxsuite-warning-deprecated", w));
    }
    let mut resp = tiny_http::Response::from_string(answer.to_string())
        .with_status_code(status)
        .with_header(
            "Content-Type: application/json"
                .parse::<tiny_http::Header>()
                .unwrap(),
        );
    for (k, v) in headers {
        resp.add_header(tiny_http::Header::from_bytes(k, v).unwrap());
    }
    let _ = req.respond(resp);
}

fn new_uid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("2MBY{:011}{:012}", std::process::id(), n)
}

/// What TuxSuite would answer, per the spec.
fn protocol_answer(r: &Received) -> (u16, Value) {
    let refuse = |code: u16, msg: &str| (code, json!({"error": msg}));
    if r.method == "GET" {
        if let Some(id) = r.path.strip_prefix("/v1/tokens/") {
            let expected = uuid_v3_dns(TOKEN);
            if id == expected && r.header("Authorization") == Some(TOKEN) {
                return (
                    200,
                    json!({"UserDetails": {"Groups": [GROUP, "other"], "Name": PROJECT}}),
                );
            }
            return refuse(404, "unknown token");
        }
        return refuse(404, "not found");
    }
    if r.header("Authorization") != Some(TOKEN) {
        return refuse(403, "invalid token");
    }
    if r.header("Content-Type") != Some("application/json") {
        return refuse(400, "expected application/json");
    }
    let Ok(body) = serde_json::from_str::<Value>(&r.body) else {
        return refuse(400, "body is not JSON");
    };
    let prefix = format!("/v1/groups/{GROUP}/projects/{PROJECT}/");
    match r.path.strip_prefix(&prefix) {
        Some("tests") => {
            if body["device"].as_str().is_none() || body["kernel"].as_str().is_none() {
                return refuse(400, "device and kernel are required");
            }
            let tests = body.get("tests").cloned().unwrap_or(json!([]));
            if tests
                .as_array()
                .is_some_and(|t| t.iter().any(|n| n == "boot"))
            {
                return refuse(400, "boot must not be listed");
            }
            let mut all = vec![json!("boot")];
            all.extend(tests.as_array().cloned().unwrap_or_default());
            let mut answer = body.clone();
            answer["uid"] = json!(new_uid());
            answer["tests"] = Value::Array(all);
            answer["state"] = json!("provisioning");
            answer["project"] = json!(format!("{GROUP}/{PROJECT}"));
            (201, answer)
        }
        Some("builds") => {
            let Some(builds) = body["builds"].as_array().filter(|b| b.len() == 1) else {
                return refuse(400, "builds must be a list");
            };
            let b = &builds[0];
            let repo_ok = b["git_repo"].as_str().is_some_and(|u| {
                ["https://", "http://", "git://"]
                    .iter()
                    .any(|p| u.starts_with(p))
            });
            let refs = b.get("git_ref").is_some() as u8 + b.get("git_sha").is_some() as u8;
            if !repo_ok
                || refs != 1
                || !b["kconfig"].is_array()
                || b["client_token"].as_str().is_none()
            {
                return refuse(400, "invalid build request");
            }
            let mut answer = b.clone();
            answer["uid"] = json!(new_uid());
            answer["state"] = json!("queued");
            (201, json!([answer]))
        }
        _ => refuse(404, "no such project"),
    }
}

/// uuid3(NAMESPACE_DNS, name), computed independently of kbridge.
fn uuid_v3_dns(name: &str) -> String {
    uuid::Uuid::new_v3(&uuid::Uuid::NAMESPACE_DNS, name.as_bytes()).to_string()
}
