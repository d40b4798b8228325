//! A runner written only for the tests, to show that the shared code fits
//! a runner unlike TuxSuite: callbacks authenticated by the per-job token
//! alone, a body that repeats the token, results read from the lab's own
//! HTTP API, integer job ids namespaced as `lab.N`, and no builds.
//!
//! The lab is a small HTTP server the test starts ([`Lab::start`]):
//! `POST /jobs` answers `{"id": N}`; `GET /jobs/N` answers
//! `{"id", "state"}`; `GET /jobs/N/results` answers
//! `{"boot": verdict, "tests": {name: verdict}}`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::model::{Callback, Job, JobKind, JobResults, JobSpec, Status, TestResults};
use crate::runner::{
    Accepted, CallbackAuth, CallbackTarget, Feedback, FetchError, ParseError, Polled, PrepareError,
    Protocol, Runner, Submission, SubmitError, VerifyError, CALLBACK_TOKEN_HEADER,
};

/// The runner's code.
pub const CODE: &str = "testlab";

/// The runner.
pub struct TestLab {
    base: String,
    agent: ureq::Agent,
}

impl TestLab {
    pub fn new(base: &str) -> TestLab {
        TestLab {
            base: base.to_string(),
            agent: crate::http::agent(Duration::from_secs(5)),
        }
    }

    fn get(&self, path: &str) -> Result<Value, FetchError> {
        let mut resp = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .map_err(|e| FetchError::Transient(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(FetchError::Transient(format!(
                "lab answered {}",
                resp.status()
            )));
        }
        resp.body_mut()
            .read_json()
            .map_err(|e| FetchError::Permanent(e.to_string()))
    }

    fn lab_id(job: &Job) -> Result<String, FetchError> {
        job.uid
            .as_deref()
            .and_then(|u| u.strip_prefix("lab."))
            .map(str::to_string)
            .ok_or_else(|| FetchError::Permanent("not a lab job".into()))
    }
}

impl Runner for TestLab {
    fn prepare(
        &self,
        spec: &JobSpec,
        callback: Option<&CallbackTarget>,
        _job_id: Option<i64>,
    ) -> Result<Submission, PrepareError> {
        let t = match spec {
            JobSpec::Build(_) => {
                return Err(PrepareError::Unsupported(
                    "the test lab runs tests and boots, not builds".into(),
                ))
            }
            JobSpec::Test(t) | JobSpec::Boot(t) => t,
        };
        Ok(Submission {
            method: "POST",
            url: format!("{}/jobs", self.base),
            headers: vec![],
            body: json!({
                "device": t.device,
                "kernel": t.kernel,
                "tests": t.tests,
                "notify": callback.map(|c| json!({"url": c.url, "token": c.token})),
            }),
            idempotent: false,
            notes: vec![],
            shown: None,
            device: None,
        })
    }

    fn submit(&self, sub: &Submission, _: &dyn Feedback) -> Result<Accepted, SubmitError> {
        let mut resp = self
            .agent
            .post(&sub.url)
            .send_json(&sub.body)
            .map_err(|e| SubmitError::Unreachable {
                message: e.to_string(),
            })?;
        let v: Value = resp
            .body_mut()
            .read_json()
            .map_err(|e| SubmitError::Uncertain {
                message: e.to_string(),
                response: None,
            })?;
        Ok(Accepted {
            uid: format!("lab.{}", v["id"]),
            response: v,
        })
    }

    fn verify_callback(
        &self,
        headers: &::http::HeaderMap,
        _: &[u8],
    ) -> Result<&'static str, VerifyError> {
        match crate::runner::callback_token(headers) {
            Some(t) if !t.is_empty() => Ok("token"),
            _ => Err(VerifyError::Missing(CALLBACK_TOKEN_HEADER)),
        }
    }

    fn stored_body(&self, body: Vec<u8>) -> Vec<u8> {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(mut m)) => {
                m.remove("token");
                serde_json::to_vec(&m).expect("JSON values always serialise")
            }
            _ => body,
        }
    }

    fn parse_callback(&self, _: JobKind, body: &[u8], _: &str) -> Result<Callback, ParseError> {
        let status: Value =
            serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))?;
        if !status["id"].is_u64() {
            return Err(ParseError::Missing("\"id\""));
        }
        Ok(Callback {
            uid: None,
            subject: Some(format!("lab.{}", status["id"])),
            status,
        })
    }

    fn callback_is_for(&self, job: &Job, subject: Option<&str>) -> bool {
        subject.is_some() && job.uid.as_deref() == subject
    }

    fn poll(&self, job: &Job) -> Result<Polled, FetchError> {
        let v = self.get(&format!("/jobs/{}", TestLab::lab_id(job)?))?;
        if v["state"] == "finished" {
            Ok(Polled::Finished(Callback {
                uid: job.uid.clone(),
                subject: None,
                status: v,
            }))
        } else {
            Ok(Polled::Running {
                state: v["state"].as_str().unwrap_or("?").to_string(),
                queued: false,
                status: v,
            })
        }
    }

    fn fetch_results(&self, job: &Job, _: &Callback) -> Result<JobResults, FetchError> {
        let v = self.get(&format!("/jobs/{}/results", TestLab::lab_id(job)?))?;
        let mut verdicts = BTreeMap::new();
        verdicts.insert("boot".to_string(), Status::from_runner(v["boot"].as_str()));
        for (name, verdict) in v["tests"].as_object().into_iter().flatten() {
            verdicts.insert(name.clone(), Status::from_runner(verdict.as_str()));
        }
        Ok(JobResults::Test(TestResults {
            device: job.device.clone(),
            verdicts,
            ..TestResults::default()
        }))
    }

    fn protocol(&self) -> Protocol {
        Protocol {
            auth: CallbackAuth::TokenOnly,
            auth_header: CALLBACK_TOKEN_HEADER,
            kept_headers: &[],
            results_lifetime: None,
        }
    }
}

/// A lab: a local HTTP server with jobs the test finishes at will.
pub struct Lab {
    server: Arc<tiny_http::Server>,
    state: Arc<Mutex<LabState>>,
}

#[derive(Default)]
struct LabState {
    next: u64,
    jobs: BTreeMap<u64, (String, Value)>,
    submitted: Vec<Value>,
}

impl Lab {
    pub fn start() -> Lab {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let state = Arc::new(Mutex::new(LabState::default()));
        let (s, st) = (server.clone(), state.clone());
        std::thread::spawn(move || {
            while let Ok(mut req) = s.recv() {
                let mut body = String::new();
                let _ = std::io::Read::read_to_string(req.as_reader(), &mut body);
                let mut st = st.lock().unwrap();
                let url = req.url().to_string();
                let parts: Vec<&str> = url.trim_start_matches('/').split('/').collect();
                let answer = match (req.method().as_str(), parts.as_slice()) {
                    ("POST", ["jobs"]) => {
                        st.next += 1;
                        let id = st.next;
                        st.submitted
                            .push(serde_json::from_str(&body).unwrap_or(Value::Null));
                        st.jobs.insert(id, ("running".into(), Value::Null));
                        Some(json!({"id": id}))
                    }
                    ("GET", ["jobs", id]) => id.parse::<u64>().ok().and_then(|id| {
                        st.jobs
                            .get(&id)
                            .map(|(state, _)| json!({"id": id, "state": state}))
                    }),
                    // No results until the job finishes.
                    ("GET", ["jobs", id, "results"]) => id
                        .parse::<u64>()
                        .ok()
                        .and_then(|id| st.jobs.get(&id))
                        .and_then(|(_, r)| (!r.is_null()).then(|| r.clone())),
                    _ => None,
                };
                let resp = match answer {
                    Some(v) => tiny_http::Response::from_string(v.to_string()),
                    None => tiny_http::Response::from_string("{}").with_status_code(404),
                };
                // Closed after each answer: tiny_http's few pooled threads can
                // all be held by a client's idle keep-alive connections.
                let close = "Connection: close"
                    .parse::<tiny_http::Header>()
                    .expect("valid");
                let _ = req.respond(resp.with_header(close));
            }
        });
        Lab { server, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.server_addr().to_ip().unwrap())
    }

    /// Finishes job `id` with these results.
    pub fn finish(&self, id: u64, results: Value) {
        self.state
            .lock()
            .unwrap()
            .jobs
            .insert(id, ("finished".into(), results));
    }

    /// The bodies submitted so far.
    pub fn submitted(&self) -> Vec<Value> {
        self.state.lock().unwrap().submitted.clone()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.server.unblock();
    }
}
