//! A KCIDB REST API stand-in on 127.0.0.1, following `kcidb.md`:
//! `POST /submit` with `Authorization: Bearer <token>` (401 without it,
//! 400 for a body that is not JSON, 413 past a size limit, else 200 with a
//! submission id), `GET /status?id=` (the status the test set, `ready` by
//! default, 404 `notfound` for an unknown id) and `GET /health`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

/// The token the stand-in accepts.
pub const KCIDB_TOKEN: &str = "eyJhbGciOi.kcidb-test-token.sig";

/// A scripted answer for the next submission, replacing the protocol's.
#[derive(Debug, Clone)]
pub enum KcidbReply {
    /// The protocol's answer.
    Normal,
    Status(u16, Value),
    /// Wait, then close the connection without answering (nothing is
    /// accepted).
    HangThenDrop(Duration),
}

#[derive(Default)]
struct State {
    script: VecDeque<KcidbReply>,
    max_body: Option<usize>,
    delay: Duration,
    accepted: Vec<(String, Value)>,
    requests: usize,
    statuses: BTreeMap<String, (String, String)>,
    auth_seen: Vec<Option<String>>,
    bodies_seen: Vec<String>,
}

pub struct FakeKcidb {
    server: Arc<tiny_http::Server>,
    state: Arc<Mutex<State>>,
}

impl FakeKcidb {
    pub fn start() -> FakeKcidb {
        FakeKcidb::on("127.0.0.1:0")
    }

    /// On a given address (to appear where a client already points).
    pub fn on(addr: &str) -> FakeKcidb {
        let server = Arc::new(super::http_server(addr));
        let state = Arc::new(Mutex::new(State::default()));
        let (s, st) = (server.clone(), state.clone());
        std::thread::spawn(move || {
            while let Ok(req) = s.recv() {
                let st = st.clone();
                std::thread::spawn(move || answer(req, &st));
            }
        });
        FakeKcidb { server, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.server_addr().to_ip().unwrap())
    }

    /// `KCIDB_REST` for this stand-in, token in the userinfo.
    pub fn rest(&self) -> String {
        format!(
            "http://{KCIDB_TOKEN}@{}",
            self.server.server_addr().to_ip().unwrap()
        )
    }

    pub fn script(&self, replies: impl IntoIterator<Item = KcidbReply>) {
        self.state.lock().unwrap().script.extend(replies);
    }

    /// Bodies larger than this get 413.
    pub fn max_body(&self, n: usize) {
        self.state.lock().unwrap().max_body = Some(n);
    }

    /// Every answer waits this long.
    pub fn delay(&self, d: Duration) {
        self.state.lock().unwrap().delay = d;
    }

    /// The status `GET /status` gives a submission.
    pub fn set_status(&self, id: &str, status: &str, message: &str) {
        self.state
            .lock()
            .unwrap()
            .statuses
            .insert(id.into(), (status.into(), message.into()));
    }

    /// Accepted submissions: their ids and documents.
    pub fn accepted(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().accepted.clone()
    }

    /// How many times each object id (kind/id) was accepted.
    pub fn objects(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for (_, doc) in self.accepted() {
            for kind in ["checkouts", "builds", "tests"] {
                for o in doc[kind].as_array().into_iter().flatten() {
                    *out.entry(format!("{kind}/{}", o["id"].as_str().unwrap()))
                        .or_insert(0) += 1;
                }
            }
        }
        out
    }

    /// Requests to `/submit`, answered or not.
    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().requests
    }

    /// Every `Authorization` header and body received (to check that no
    /// token leaks where it should not).
    pub fn seen(&self) -> (Vec<Option<String>>, Vec<String>) {
        let st = self.state.lock().unwrap();
        (st.auth_seen.clone(), st.bodies_seen.clone())
    }
}

impl Drop for FakeKcidb {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// Keeps every document KCIDB accepted where CI validates documents with
/// KCIDB's own `kcidb-io`: what is sent (merged or split) must be valid too.
fn keep_sent(body: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    if std::env::var_os("KBRIDGE_BENCH").is_some() {
        return;
    }
    let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("kcidb-docs");
    let _ = std::fs::create_dir_all(&keep);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let _ = std::fs::write(
        keep.join(format!("sent-{}-{n}.json", std::process::id())),
        body,
    );
}

fn answer(mut req: tiny_http::Request, st: &Mutex<State>) {
    let mut body = String::new();
    let _ = std::io::Read::read_to_string(req.as_reader(), &mut body);
    let auth = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.to_string());
    let url = req.url().to_string();
    let method = req.method().to_string();
    let (scripted, delay, max_body) = {
        let mut s = st.lock().unwrap();
        s.auth_seen.push(auth.clone());
        s.bodies_seen.push(body.clone());
        let scripted = if url == "/submit" {
            s.requests += 1;
            s.script.pop_front()
        } else {
            None
        };
        (scripted, s.delay, s.max_body)
    };
    std::thread::sleep(delay);
    let reply = |code: u16, v: Value| {
        tiny_http::Response::from_string(v.to_string())
            .with_status_code(code)
            .with_header(
                "Content-Type: application/json"
                    .parse::<tiny_http::Header>()
                    .unwrap(),
            )
    };
    let authorised = auth.as_deref() == Some(&format!("Bearer {KCIDB_TOKEN}"));
    match (method.as_str(), url.split('?').next().unwrap_or("")) {
        ("GET", "/health") => {
            super::respond(req, tiny_http::Response::from_string("OK"));
        }
        ("POST", "/submit") => {
            let scripted = scripted.filter(|r| !matches!(r, KcidbReply::Normal));
            if let Some(KcidbReply::HangThenDrop(d)) = scripted {
                std::thread::sleep(d);
                return;
            }
            if let Some(KcidbReply::Status(code, v)) = scripted {
                super::respond(req, reply(code, v));
                return;
            }
            if !authorised {
                super::respond(
                    req,
                    reply(
                        401,
                        json!({"status": "error", "message": "token missing, expired or wrong"}),
                    ),
                );
                return;
            }
            if max_body.is_some_and(|m| body.len() > m) {
                super::respond(
                    req,
                    reply(413, json!({"status": "error", "message": "too large"})),
                );
                return;
            }
            let Ok(doc) = serde_json::from_str::<Value>(&body) else {
                super::respond(
                    req,
                    reply(
                        400,
                        json!({"status": "error", "message": "the body is not JSON"}),
                    ),
                );
                return;
            };
            // KCIDB's submission ids are letters and digits only.
            let id = format!("sub{}", uuid::Uuid::new_v4().simple());
            keep_sent(&body);
            st.lock().unwrap().accepted.push((id.clone(), doc));
            super::respond(
                req,
                reply(200, json!({"id": id, "status": "ok", "message": "spooled"})),
            );
        }
        ("GET", "/status") => {
            if !authorised {
                super::respond(
                    req,
                    reply(401, json!({"status": "error", "message": "no token"})),
                );
                return;
            }
            let id = url.split("id=").nth(1).unwrap_or("").to_string();
            // As the real API: an id that is not alphanumeric is refused.
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                super::respond(
                    req,
                    reply(400, json!({"status": "error", "message": "Invalid id"})),
                );
                return;
            }
            let s = st.lock().unwrap();
            let known = s.accepted.iter().any(|(a, _)| *a == id);
            let answer = match (known, s.statuses.get(&id)) {
                (_, Some((status, message))) => {
                    reply(200, json!({"id": id, "status": status, "message": message}))
                }
                (true, None) => reply(
                    200,
                    json!({"id": id, "status": "ready", "message": "spooled"}),
                ),
                (false, None) => reply(
                    404,
                    json!({"id": id, "status": "notfound", "message": "no such submission"}),
                ),
            };
            drop(s);
            super::respond(req, answer);
        }
        _ => {
            super::respond(req, reply(404, json!({"message": "not found"})));
        }
    }
}
