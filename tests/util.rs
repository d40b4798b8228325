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
    /// Wait this long, then answer 201 with this body.
    Slow(Duration, Value),
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
        Some(Reply::Slow(d, body)) => {
            std::thread::sleep(d);
            (201, body, vec![])
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
            answer["result"] = json!("unknown");
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
            answer["result"] = json!("unknown");
            (201, json!([answer]))
        }
        _ => refuse(404, "no such project"),
    }
}

/// uuid3(NAMESPACE_DNS, name), computed independently of kbridge.
fn uuid_v3_dns(name: &str) -> String {
    uuid::Uuid::new_v3(&uuid::Uuid::NAMESPACE_DNS, name.as_bytes()).to_string()
}

// ---------------------------------------------------------------------------
// The listener side: keys, a running `kbridge listen`, an artefact server.

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A P-256 key pair made for the test, as TuxSuite's signing key.
pub struct Keys {
    pair: EcdsaKeyPair,
    /// The OpenSSH public line (`ecdsa-sha2-nistp256 AAAA... comment`).
    pub line: String,
}

impl Keys {
    pub fn new() -> Keys {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let ec =
            ssh_key::public::EcdsaPublicKey::from_sec1_bytes(pair.public_key().as_ref()).unwrap();
        let line = ssh_key::PublicKey::new(ec.into(), "tuxsuite@test")
            .to_openssh()
            .unwrap();
        Keys { pair, line }
    }

    /// The DER signature of `msg`, URL-safe base64 with padding, as
    /// TuxSuite sends it.
    pub fn sign(&self, msg: &[u8]) -> String {
        use base64::Engine;
        let sig = self.pair.sign(&SystemRandom::new(), msg).unwrap();
        base64::engine::general_purpose::URL_SAFE.encode(sig.as_ref())
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(path, format!("{}\n", self.line)).unwrap();
    }
}

/// A running `kbridge listen`, killed when dropped.
pub struct Listener {
    child: Option<Child>,
    pub url: String,
    stderr: Arc<Mutex<String>>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

impl Env {
    /// Starts `kbridge listen` on an ephemeral port with `extra` arguments
    /// and waits for the address it prints.
    pub fn listen(&self, extra: &[&str]) -> Listener {
        let out = self.path("kcidb");
        let mut args = vec![
            "listen",
            "--bind",
            "127.0.0.1:0",
            "--output-dir",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_kbridge"))
            .args(&args)
            .env_clear()
            .envs(&self.vars)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                let _ = child.wait();
                panic!(
                    "listener did not start: {first:?}\n{}",
                    stderr.lock().unwrap()
                )
            })
            .to_string();
        Listener {
            child: Some(child),
            url,
            stderr,
        }
    }
}

impl Listener {
    pub fn post(&self, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Answer {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent.post(format!("{}{path}", self.url));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut resp = req.send(body).unwrap();
        Answer {
            status: resp.status().as_u16(),
            body: resp.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    pub fn get(&self, path: &str) -> Answer {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut resp = agent.get(format!("{}{path}", self.url)).call().unwrap();
        Answer {
            status: resp.status().as_u16(),
            body: resp.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    /// `host:port`.
    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The listener's process id (benchmarks read its memory use).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> i32 {
        let mut child = self.child.take().unwrap();
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap().code().unwrap_or(-1)
    }

    /// Waits for the listener to exit by itself.
    pub fn wait_exit(mut self, timeout: Duration) -> i32 {
        let mut child = self.child.take().unwrap();
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if start.elapsed() > timeout {
                let _ = child.kill();
                panic!("listener did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Polls `cond` until it holds, failing the test after `timeout`.
#[track_caller]
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Requests an artefact server saw: path and `Authorization` header.
pub type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// An artefact server: serves files set by the test, or 503 while down.
pub struct Artifacts {
    server: Arc<tiny_http::Server>,
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    redirects: Arc<Mutex<BTreeMap<String, String>>>,
    /// Each request's path and `Authorization` header.
    pub seen: Seen,
    pub down: Arc<AtomicBool>,
    pub hits: Arc<AtomicUsize>,
    pub delay: Arc<Mutex<Duration>>,
}

impl Artifacts {
    pub fn start() -> Artifacts {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let files: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
        let redirects: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
        let seen: Seen = Arc::default();
        let down = Arc::new(AtomicBool::new(false));
        let hits = Arc::new(AtomicUsize::new(0));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let (s, f, d, h, dl) = (
            server.clone(),
            files.clone(),
            down.clone(),
            hits.clone(),
            delay.clone(),
        );
        let (rd, sn) = (redirects.clone(), seen.clone());
        std::thread::spawn(move || {
            while let Ok(req) = s.recv() {
                let (f, d, h, dl) = (f.clone(), d.clone(), h.clone(), dl.clone());
                let (rd, sn) = (rd.clone(), sn.clone());
                std::thread::spawn(move || {
                    h.fetch_add(1, Ordering::SeqCst);
                    let auth = req
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("Authorization"))
                        .map(|h| h.value.to_string());
                    sn.lock().unwrap().push((req.url().to_string(), auth));
                    let location = rd.lock().unwrap().get(req.url()).cloned();
                    if let Some(to) = location {
                        let header =
                            tiny_http::Header::from_bytes("Location", to.as_bytes()).unwrap();
                        let _ = req.respond(tiny_http::Response::empty(302).with_header(header));
                        return;
                    }
                    let pause = *dl.lock().unwrap();
                    std::thread::sleep(pause);
                    let resp = if d.load(Ordering::SeqCst) {
                        tiny_http::Response::from_data(b"down".to_vec()).with_status_code(503)
                    } else {
                        match f.lock().unwrap().get(req.url()) {
                            Some(body) => tiny_http::Response::from_data(body.clone()),
                            None => tiny_http::Response::from_data(b"missing".to_vec())
                                .with_status_code(404),
                        }
                    };
                    let _ = req.respond(resp);
                });
            }
        });
        Artifacts {
            server,
            files,
            redirects,
            seen,
            down,
            hits,
            delay,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.server_addr().to_ip().unwrap())
    }

    pub fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.files.lock().unwrap().insert(path.into(), body.into());
    }

    /// Answers `path` with a 302 to `to`.
    pub fn redirect(&self, path: &str, to: &str) {
        self.redirects
            .lock()
            .unwrap()
            .insert(path.into(), to.into());
    }

    /// The `Authorization` header each request for `path` carried.
    pub fn auth_for(&self, path: &str) -> Vec<Option<String>> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// Serves a test job's artefacts under `/tests/{uid}/` and returns its
    /// download URL.
    pub fn test_job(&self, uid: &str, results_json: &str, log: &str) -> String {
        self.put(&format!("/tests/{uid}/results.json"), results_json);
        self.put(&format!("/tests/{uid}/logs.txt"), log);
        format!("{}/tests/{uid}/", self.url())
    }
}

impl Drop for Artifacts {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

pub const RESULTS_JSON: &str = include_str!("data/results.json");
pub const TEST_CALLBACK: &str = include_str!("data/test-callback.json");
pub const BUILD_CALLBACK: &str = include_str!("data/build-callback.json");

/// A test job's callback body for `uid`, its artefacts at `download`, with
/// the job's `results`.
pub fn test_callback(uid: &str, download: &str, results: Value) -> String {
    let mut v: Value = serde_json::from_str(TEST_CALLBACK).unwrap();
    v["status"]["uid"] = json!(uid);
    v["status"]["download_url"] = json!(download);
    v["status"]["results"] = results;
    v.to_string()
}

/// A build's callback body for `uid`.
pub fn build_callback(uid: &str, download: &str) -> String {
    let mut v: Value = serde_json::from_str(BUILD_CALLBACK).unwrap();
    v["status"]["uid"] = json!(uid);
    v["status"]["download_url"] = json!(download);
    v.to_string()
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
