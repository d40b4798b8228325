//! A LAVA lab stand-in that follows `docs/lava.md` and answers
//! with the captured shapes: `Token` auth with 403 (never 401), `job_ids`
//! as a list, REST times with `Z`, paginated `suites/` and `tests/` whose
//! `next` points at the lab's internal address, YAML-string metadata, and
//! callbacks whose scalars are strings, whose missing times are `"None"`
//! and whose body repeats the token.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{json, Value};

use super::respond;

/// The API token the stand-in accepts.
pub const LAVA_TOKEN: &str = "lava-api-secret";

/// A case of a finished job: suite, name, result, and optionally a
/// measurement with its unit, a test set, or job-error metadata.
#[derive(Debug, Clone, Default)]
pub struct Case {
    pub suite: &'static str,
    pub name: &'static str,
    pub result: &'static str,
    pub measurement: Option<(&'static str, &'static str)>,
    pub set: Option<&'static str>,
    pub error: Option<(&'static str, &'static str)>,
}

impl Case {
    pub fn new(suite: &'static str, name: &'static str, result: &'static str) -> Case {
        Case {
            suite,
            name,
            result,
            ..Case::default()
        }
    }
}

#[derive(Debug, Clone)]
pub struct Submitted {
    pub authorization: Option<String>,
    /// The definition as submitted (a YAML string), parsed.
    pub definition: yaml_serde::Value,
    pub text: String,
}

#[derive(Default)]
struct Job {
    state: String,
    health: String,
    device: String,
    definition: String,
    cases: Vec<Case>,
    log: String,
}

#[derive(Default)]
struct State {
    next_id: u64,
    jobs: BTreeMap<u64, Job>,
    submitted: Vec<Submitted>,
    /// Scripted `(status, body)` answers to the next submissions.
    script: Vec<(u16, Value)>,
    invalid: Option<String>,
    requests: Vec<String>,
    /// The REST API answers every GET with 503 (maintenance).
    down: bool,
}

pub struct FakeLava {
    server: Arc<tiny_http::Server>,
    state: Arc<Mutex<State>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeLava {
    /// A lab whose first job gets id `first_id`.
    pub fn start(first_id: u64) -> FakeLava {
        let server = Arc::new(super::http_server("127.0.0.1:0"));
        let state = Arc::new(Mutex::new(State {
            next_id: first_id,
            ..State::default()
        }));
        let (s, st) = (server.clone(), state.clone());
        let thread = std::thread::spawn(move || {
            while let Ok(req) = s.recv() {
                let st = st.clone();
                std::thread::spawn(move || answer(req, &st));
            }
        });
        FakeLava {
            server,
            state,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.server_addr().to_ip().unwrap())
    }

    pub fn submitted(&self) -> Vec<Submitted> {
        self.state.lock().unwrap().submitted.clone()
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The next submission is answered with this.
    pub fn script(&self, status: u16, body: Value) {
        self.state.lock().unwrap().script.push((status, body));
    }

    /// `validate/` says the definition is invalid, for this reason.
    pub fn invalid(&self, why: &str) {
        self.state.lock().unwrap().invalid = Some(why.into());
    }

    /// Makes the REST API answer every GET with 503, or serve again.
    pub fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
    }

    /// Moves a job to Running.
    pub fn run(&self, id: u64) {
        let mut st = self.state.lock().unwrap();
        st.jobs.get_mut(&id).unwrap().state = "Running".into();
    }

    /// Finishes a job with this health and these cases (the `lava` suite's
    /// own cases included), and a console log.
    pub fn finish(&self, id: u64, health: &str, cases: Vec<Case>, console: &[&str]) {
        let mut st = self.state.lock().unwrap();
        let job = st.jobs.get_mut(&id).unwrap();
        job.state = "Finished".into();
        job.health = health.into();
        job.cases = cases;
        let mut log = String::from(
            "- {\"dt\": \"2026-11-28T08:40:41.693741\", \"lvl\": \"info\", \"msg\": \"lava-dispatcher, installed at version: 2023.01\"}\n",
        );
        for line in console {
            log.push_str(&format!(
                "- {{\"dt\": \"2026-11-28T08:40:42.0\", \"lvl\": \"target\", \"msg\": {}}}\n",
                serde_json::to_string(line).unwrap()
            ));
        }
        job.log = log;
    }

    /// Sends the job's callbacks as LAVA does (once, minimal dataset, the
    /// token under the configured header and repeated in the body), and
    /// returns the statuses the receivers answered.
    pub fn call_back(&self, id: u64) -> Vec<u16> {
        let (definition, body_base) = {
            let st = self.state.lock().unwrap();
            let job = &st.jobs[&id];
            (job.definition.clone(), callback_body(id, job))
        };
        let def: yaml_serde::Value = yaml_serde::from_str(&definition).unwrap();
        let mut statuses = Vec::new();
        for cb in def["notify"]["callbacks"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let url = cb["url"].as_str().unwrap();
            let token = cb["token"].as_str().unwrap_or_default();
            let header = cb["header"].as_str().unwrap_or("Authorization");
            let mut body = body_base.clone();
            body["token"] = json!(token);
            body["definition"] = json!(definition);
            statuses.push(post(url, header, token, &body.to_string()));
        }
        statuses
    }
}

/// POSTs like python-requests, returning the status (0 if unreachable).
pub fn post(url: &str, header: &str, token: &str, body: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "python-requests/2.28.1")
        .header(header, token)
        .send(body)
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

impl Drop for FakeLava {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn callback_body(id: u64, job: &Job) -> Value {
    let (status, string) = match job.health.as_str() {
        "Complete" => (2, "complete"),
        "Incomplete" => (3, "incomplete"),
        "Canceled" => (4, "canceled"),
        _ => (1, "unknown"),
    };
    json!({
        "id": id, "status": status, "status_string": string, "state": 5,
        "state_string": "Finished", "health": status - 1, "health_string": job.health,
        "submit_time": "2026-11-28 08:40:14.145671+00:00",
        "start_time": "2026-11-28 08:40:41.393311+00:00", "end_time": "None",
        "submitter_username": "admin", "failure_comment": null, "priority": 50,
        "description": "a job", "actual_device_id": job.device, "metadata": []
    })
}

fn reply(req: tiny_http::Request, status: u16, body: Value) {
    let resp = tiny_http::Response::from_string(body.to_string())
        .with_status_code(status)
        .with_header(
            "Content-Type: application/json"
                .parse::<tiny_http::Header>()
                .unwrap(),
        );
    respond(req, resp);
}

fn text(req: tiny_http::Request, body: String) {
    respond(req, tiny_http::Response::from_string(body));
}

/// A page of `items` from `offset`, 5 per page whatever was asked, with
/// `next` on the lab's internal address as a proxied lab gives it.
fn page(items: Vec<Value>, path: &str, offset: usize) -> Value {
    const SIZE: usize = 5;
    let count = items.len();
    let next = (offset + SIZE < count).then(|| {
        format!(
            "http://lava.internal:8000{path}?limit=256&offset={}",
            offset + SIZE
        )
    });
    json!({
        "count": count, "next": next, "previous": null,
        "results": items.into_iter().skip(offset).take(SIZE).collect::<Vec<_>>()
    })
}

fn answer(mut req: tiny_http::Request, st: &Mutex<State>) {
    let url = req.url().to_string();
    let method = req.method().to_string();
    st.lock().unwrap().requests.push(format!("{method} {url}"));
    let auth = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.to_string());
    let authorized = auth.as_deref() == Some(&format!("Token {LAVA_TOKEN}"));
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let offset: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("offset="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = String::new();
    let _ = req.as_reader().read_to_string(&mut body);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), &parts[..]) {
        ("POST", ["api", "v0.2", "jobs", "validate"]) => {
            let why = st.lock().unwrap().invalid.clone();
            let message = match why {
                Some(w) => format!("Job invalid: {w}"),
                None => "Job valid.".into(),
            };
            reply(req, 200, json!({ "message": message }))
        }
        ("POST", ["api", "v0.2", "jobs"]) => {
            if auth.is_none() {
                return reply(
                    req,
                    403,
                    json!({"detail": "Authentication credentials were not provided."}),
                );
            }
            if !authorized {
                return reply(req, 403, json!({"detail": "Invalid token."}));
            }
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let text = v["definition"].as_str().unwrap_or_default().to_string();
            let Ok(definition) = yaml_serde::from_str::<yaml_serde::Value>(&text) else {
                return reply(
                    req,
                    400,
                    json!({"message": "Problem with submitted job data: not YAML"}),
                );
            };
            let mut s = st.lock().unwrap();
            s.submitted.push(Submitted {
                authorization: auth.clone(),
                definition: definition.clone(),
                text: text.clone(),
            });
            if !s.script.is_empty() {
                let (status, answer) = s.script.remove(0);
                drop(s);
                return reply(req, status, answer);
            }
            let id = s.next_id;
            s.next_id += 1;
            let device = definition["device_type"]
                .as_str()
                .unwrap_or("qemu")
                .to_string();
            s.jobs.insert(
                id,
                Job {
                    state: "Submitted".into(),
                    health: "Unknown".into(),
                    device: format!("{device}01"),
                    definition: text,
                    ..Job::default()
                },
            );
            drop(s);
            reply(
                req,
                201,
                json!({"message": "job(s) successfully submitted", "job_ids": [id]}),
            )
        }
        ("GET", ["api", "v0.2", "jobs", ..]) if st.lock().unwrap().down => {
            reply(req, 503, json!({"detail": "maintenance"}))
        }
        ("GET", ["api", "v0.2", "jobs", id, rest @ ..]) => {
            let Some(id) = id.parse::<u64>().ok() else {
                return reply(req, 404, json!({"detail": "Not found."}));
            };
            if !authorized {
                return reply(req, 403, json!({"detail": "Invalid token."}));
            }
            let s = st.lock().unwrap();
            let Some(job) = s.jobs.get(&id) else {
                drop(s);
                return reply(req, 404, json!({"detail": "Not found."}));
            };
            let mut suites: Vec<&str> = vec!["lava"];
            for c in &job.cases {
                if !suites.contains(&c.suite) {
                    suites.push(c.suite);
                }
            }
            let suite_id = |name: &str| suites.iter().position(|s| *s == name).unwrap() as u64 + 10;
            match rest {
                [] => {
                    let finished = job.state == "Finished";
                    let answer = json!({
                        "id": id, "submitter": "admin", "description": "a job",
                        "requested_device_type": "qemu", "actual_device": job.device,
                        "submit_time": "2026-11-28T08:40:14.145671Z",
                        "start_time": if job.state == "Submitted" { Value::Null } else { json!("2026-11-28T08:40:41.393311Z") },
                        "end_time": if finished { json!("2026-11-28T08:41:01.288991Z") } else { Value::Null },
                        "state": job.state, "health": job.health, "priority": 50,
                        "definition": job.definition, "failure_comment": null,
                        "token": "<job-token>"
                    });
                    drop(s);
                    reply(req, 200, answer)
                }
                ["suites"] => {
                    let items = suites
                        .iter()
                        .map(|n| json!({"id": suite_id(n), "name": n, "job": id}))
                        .collect();
                    let answer = page(items, path, offset);
                    drop(s);
                    reply(req, 200, answer)
                }
                ["tests"] => {
                    let items = job
                        .cases
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            let mut meta = format!(
                                "case: {}\ndefinition: {}\nresult: {}\n",
                                c.name, c.suite, c.result
                            );
                            if let Some(set) = c.set {
                                meta.push_str(&format!("set: {set}\n"));
                            }
                            if let Some((t, m)) = c.error {
                                meta.push_str(&format!("error_type: {t}\nerror_msg: '{m}'\n"));
                            }
                            json!({
                                "id": i + 100, "result": c.result, "name": c.name,
                                "unit": c.measurement.map(|m| m.1).unwrap_or(""),
                                "measurement": c.measurement.map(|m| m.0),
                                "metadata": meta, "suite": suite_id(c.suite),
                                "test_set": c.set.map(|_| 1)
                            })
                        })
                        .collect();
                    let answer = page(items, path, offset);
                    drop(s);
                    reply(req, 200, answer)
                }
                ["logs"] => {
                    let log = job.log.clone();
                    drop(s);
                    text(req, log)
                }
                _ => {
                    drop(s);
                    reply(req, 404, json!({"detail": "Not found."}))
                }
            }
        }
        _ => reply(req, 404, json!({"detail": "Not found."})),
    }
}
