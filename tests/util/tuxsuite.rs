//! A TuxSuite stand-in that follows the documented protocol.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

use super::env::{GROUP, PROJECT, TOKEN};

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Job rows in the observed database when the request arrived.
    pub rows: Option<i64>,
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
    /// Every job created, by uid, as `GET .../tests/{uid}` and
    /// `.../builds/{uid}` answer it.
    jobs: std::collections::BTreeMap<String, Value>,
    /// Every plan created, by uid, as its POST gave it.
    plans: std::collections::BTreeMap<String, Value>,
    /// How many builds or tests `GET …/plans/UID` gives per page (50 when
    /// unset).
    plan_page: Option<usize>,
    /// The key `GET .../keys` gives as `ssh.pub`.
    key: Option<String>,
    /// A kbridge database whose job rows are counted at each request.
    observe: Option<std::path::PathBuf>,
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
        let server = Arc::new(super::http_server("127.0.0.1:0"));
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

    /// Publishes the group's signing key at `GET .../keys`.
    pub fn publish_key(&self, line: &str) {
        self.state.lock().unwrap().key = Some(line.to_string());
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

    /// `GET`s of one job (polls).
    pub fn polls(&self, uid: &str) -> usize {
        self.received()
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with(&format!("/{uid}")))
            .count()
    }

    /// Sets how many builds or tests a plan's page holds.
    pub fn set_plan_page(&self, n: usize) {
        self.state.lock().unwrap().plan_page = Some(n);
    }

    /// The `GET …/plans/…` requests received.
    pub fn plan_gets(&self) -> Vec<String> {
        self.received()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.contains("/plans/"))
            .map(|r| r.path)
            .collect()
    }

    /// The job as TuxSuite describes it now.
    pub fn job(&self, uid: &str) -> Value {
        self.state.lock().unwrap().jobs[uid].clone()
    }

    /// Counts the job rows of this database as each request arrives.
    pub fn observe(&self, db: &std::path::Path) {
        self.state.lock().unwrap().observe = Some(db.to_path_buf());
    }

    /// A job started elsewhere (the tuxsuite client, the web UI).
    pub fn add_job(&self, uid: &str, fields: Value) {
        let mut job = json!({"uid": uid, "project": format!("{GROUP}/{PROJECT}"), "state": "provisioning", "is_public": true});
        for (k, v) in fields.as_object().unwrap() {
            job[k] = v.clone();
        }
        self.state.lock().unwrap().jobs.insert(uid.to_string(), job);
    }

    /// Changes fields of a job (`state`, `download_url`, ...).
    pub fn update(&self, uid: &str, fields: Value) {
        let mut st = self.state.lock().unwrap();
        let job = st.jobs.get_mut(uid).expect("a job the stand-in created");
        for (k, v) in fields.as_object().unwrap() {
            job[k] = v.clone();
        }
    }

    /// Finishes a test job with these verdicts, its artefacts at
    /// `download_url`.
    pub fn finish_test(&self, uid: &str, download_url: &str, results: Value) {
        let failed = results
            .as_object()
            .is_some_and(|r| r.values().any(|v| v == "fail"));
        self.update(
            uid,
            json!({"state": "finished", "results": results, "download_url": download_url,
                   "result": if failed { "fail" } else { "pass" }, "duration": 90,
                   "running_time": "2026-02-24T12:42:27.314447"}),
        );
    }

    /// Finishes a build; tests chained to a build that did not pass finish
    /// with no results, as TuxSuite does.
    pub fn finish_build(&self, uid: &str, download_url: &str, pass: bool) {
        let verdict = if pass { "pass" } else { "fail" };
        let example: Value = serde_json::from_str(super::BUILD_CALLBACK).unwrap();
        let mut fields = example["status"].clone();
        for k in [
            "uid",
            "client_token",
            "callback",
            "callback_headers",
            "plan",
        ] {
            fields.as_object_mut().unwrap().remove(k);
        }
        fields["state"] = json!("finished");
        fields["result"] = json!(verdict);
        fields["build_status"] = json!(verdict);
        fields["download_url"] = json!(download_url);
        self.update(uid, fields);
        let mut st = self.state.lock().unwrap();
        let chained = format!("BUILD#{uid}");
        for job in st.jobs.values_mut() {
            if job["waiting_for"] == chained.as_str() {
                if pass {
                    job["state"] = json!("provisioning");
                } else {
                    job["state"] = json!("finished");
                    job["result"] = json!("unknown");
                    job["results"] = json!({});
                }
            }
        }
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
        rows: None,
    };
    let observed = st.lock().unwrap().observe.clone();
    let mut received = received;
    received.rows = observed.and_then(|db| {
        let conn = rusqlite::Connection::open(db).ok()?;
        conn.query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
            .ok()
    });
    let (scripted, warnings) = {
        let mut st = st.lock().unwrap();
        st.received.push(received.clone());
        (st.script.pop_front(), st.warnings.clone())
    };
    let (status, answer, mut headers) = match scripted {
        Some(Reply::Status(code, body, headers)) => (code, body, headers),
        Some(Reply::Hang(d)) => {
            std::thread::sleep(d);
            let (c, b) = protocol_answer(&received, st);
            (c, b, vec![])
        }
        Some(Reply::Slow(d, body)) => {
            std::thread::sleep(d);
            (201, body, vec![])
        }
        None => {
            let (c, b) = protocol_answer(&received, st);
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
    super::respond(req, resp);
}

fn new_uid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("2MBY{:011}{:012}", std::process::id(), n)
}

/// What TuxSuite would answer, per the spec.
fn protocol_answer(r: &Received, st: &Mutex<State>) -> (u16, Value) {
    let refuse = |code: u16, msg: &str| (code, json!({"error": msg}));
    let prefix = format!("/v1/groups/{GROUP}/projects/{PROJECT}/");
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
        // The group's keys are served to anyone, token or not.
        if r.path.strip_prefix(&prefix) == Some("keys") {
            return match st.lock().unwrap().key.clone() {
                Some(k) => (200, json!({"ssh": {"pub": k}})),
                None => refuse(404, "no key"),
            };
        }
        if r.header("Authorization") != Some(TOKEN) {
            return refuse(403, "invalid token");
        }
        // `GET …/tests[?…]`: the first page of the project's tests.
        if let Some(query) = r
            .path
            .strip_prefix(&prefix)
            .and_then(|p| p.strip_prefix("tests"))
        {
            if query.is_empty() || query.starts_with('?') {
                let st = st.lock().unwrap();
                let tests: Vec<&Value> = st
                    .jobs
                    .values()
                    .filter(|j| j.get("git_repo").is_none())
                    .take(50)
                    .collect();
                return (200, json!({"results": tests, "next": null}));
            }
        }
        // `GET …/plans/UID[?start_builds=N&start_tests=N]`: the plan with
        // a page of its builds and of its tests, each with its `next`.
        if let Some(rest) = r
            .path
            .strip_prefix(&prefix)
            .and_then(|p| p.strip_prefix("plans/"))
        {
            let (uid, query) = rest.split_once('?').unwrap_or((rest, ""));
            let st = st.lock().unwrap();
            let Some(plan) = st.plans.get(uid) else {
                return refuse(404, "not found");
            };
            let size = st.plan_page.unwrap_or(50);
            let page = |kind: &str, builds: bool| {
                let all: Vec<&Value> = st
                    .jobs
                    .values()
                    .filter(|j| j["plan"] == uid && j.get("git_repo").is_some() == builds)
                    .collect();
                let from = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(&format!("start_{kind}=")))
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0)
                    .min(all.len());
                let to = (from + size).min(all.len());
                let next = if to < all.len() {
                    json!(to.to_string())
                } else {
                    Value::Null
                };
                json!({"results": all[from..to], "next": next})
            };
            return (
                200,
                json!({"uid": uid, "project": format!("{GROUP}/{PROJECT}"), "name": plan["name"],
                       "builds": page("builds", true), "tests": page("tests", false),
                       "oebuilds": {"results": [], "next": null}}),
            );
        }
        let job = r
            .path
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_prefix("tests/").or(rest.strip_prefix("builds/")))
            .and_then(|uid| st.lock().unwrap().jobs.get(uid).cloned());
        return match job {
            Some(j) => (200, j),
            None => refuse(404, "not found"),
        };
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
    // `POST …/{builds|tests}/UID/cancel`: the job ends canceled.
    if let Some(uid) = r
        .path
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_prefix("tests/").or(rest.strip_prefix("builds/")))
        .and_then(|rest| rest.strip_suffix("/cancel"))
    {
        let mut st = st.lock().unwrap();
        return match st.jobs.get_mut(uid) {
            Some(job) => {
                job["state"] = json!("finished");
                job["result"] = json!("canceled");
                (200, json!({}))
            }
            None => refuse(404, "not found"),
        };
    }
    // `POST …/plans/UID/cancel`: every unfinished job of the plan ends
    // canceled.
    if let Some(uid) = r
        .path
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_prefix("plans/"))
        .and_then(|rest| rest.strip_suffix("/cancel"))
    {
        let mut st = st.lock().unwrap();
        if !st.plans.contains_key(uid) {
            return refuse(404, "not found");
        }
        for job in st.jobs.values_mut() {
            if job["plan"] == uid && job["state"] != "finished" {
                job["state"] = json!("finished");
                job["result"] = json!("canceled");
            }
        }
        return (200, json!({}));
    }
    match r.path.strip_prefix(&prefix) {
        Some("tests") => match body.as_array() {
            // A plan's tests come as one array.
            Some(items) => {
                let mut out = Vec::new();
                for item in items {
                    match new_test(item, st) {
                        Ok(a) => out.push(a),
                        Err(e) => return e,
                    }
                }
                (201, Value::Array(out))
            }
            None => match new_test(&body, st) {
                Ok(a) => (201, a),
                Err(e) => e,
            },
        },
        Some("plans") => {
            let keys = [
                "name",
                "description",
                "is_public",
                "plan_callback",
                "plan_callback_headers",
                "count",
                "plan_file",
                "notify_emails",
            ];
            if keys.iter().any(|k| body.get(*k).is_none()) {
                return refuse(400, "a plan needs its eight keys");
            }
            let uid = new_uid();
            st.lock().unwrap().plans.insert(uid.clone(), body);
            (201, json!({"uid": uid}))
        }
        Some("builds") => {
            let Some(builds) = body["builds"].as_array().filter(|b| !b.is_empty()) else {
                return refuse(400, "builds must be a list");
            };
            let mut out = Vec::new();
            for b in builds {
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
                let uid = answer["uid"].as_str().unwrap().to_string();
                st.lock().unwrap().jobs.insert(uid, answer.clone());
                out.push(answer);
            }
            (201, Value::Array(out))
        }
        _ => refuse(404, "no such project"),
    }
}

/// uuid3(NAMESPACE_DNS, name), computed independently of kbridge.
fn uuid_v3_dns(name: &str) -> String {
    uuid::Uuid::new_v3(&uuid::Uuid::NAMESPACE_DNS, name.as_bytes()).to_string()
}

/// One test request, checked and created, or the refusal.
fn new_test(body: &Value, st: &Mutex<State>) -> Result<Value, (u16, Value)> {
    let refuse = |code: u16, msg: &str| (code, json!({"error": msg}));
    let waits = body["waiting_for"].as_str();
    let kernel = body["kernel"].as_str().or(body["tuxbuild"].as_str());
    if body["device"].as_str().is_none() || (kernel.is_none() && waits.is_none()) {
        return Err(refuse(400, "device and kernel are required"));
    }
    if waits.is_some() && body["kernel"].as_str().is_some() {
        return Err(refuse(400, "kernel and waiting_for are mutually exclusive"));
    }
    let tests = body.get("tests").cloned().unwrap_or(json!([]));
    if tests
        .as_array()
        .is_some_and(|t| t.iter().any(|n| n == "boot"))
    {
        return Err(refuse(400, "boot must not be listed"));
    }
    let mut all = vec![json!("boot")];
    all.extend(tests.as_array().cloned().unwrap_or_default());
    let mut answer = body.clone();
    answer["uid"] = json!(new_uid());
    answer["tests"] = Value::Array(all);
    answer["state"] = json!(if waits.is_some() {
        "waiting"
    } else {
        "provisioning"
    });
    answer["result"] = json!("unknown");
    answer["project"] = json!(format!("{GROUP}/{PROJECT}"));
    let uid = answer["uid"].as_str().unwrap().to_string();
    st.lock().unwrap().jobs.insert(uid, answer.clone());
    Ok(answer)
}
