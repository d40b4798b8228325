//! TuxSuite, Linaro's hosted kernel build and test service.
//!
//! Tests and boot tests go to `POST {project}/tests` (one object in, one
//! object out); builds go to `POST {project}/builds` (`{"builds": [..]}` in,
//! an array out). The token is sent raw in `Authorization`, with no
//! `Bearer`. Retries follow the official client, with one difference that
//! matters: TuxSuite has no idempotency key for tests, so a test request is
//! retried only when it surely never arrived or the service asked for a
//! retry (429/503 with `Retry-After`). Builds carry a fresh `client_token`
//! and are retried with the same one.

mod callback;
mod results;
mod settings;
mod signature;

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::config::ConfigError;
use crate::model::{BuildSpec, Callback, Job, JobKind, JobResults, JobSpec, TestSpec};
use crate::runner::http::{self, Reach};
use crate::runner::{
    Accepted, CallbackTarget, Feedback, FetchError, Purpose, Runner, RunnerContext, RunnerInfo,
    Submission, SubmitError, CALLBACK_TOKEN_HEADER,
};

pub use settings::Settings;
pub use signature::PublicKey;

/// The registry entry.
pub const INFO: RunnerInfo = RunnerInfo {
    code: "tuxsuite",
    description: "TuxSuite (tuxsuite.com): kernel builds, tests and boot tests",
    open,
};

/// How many times one request is sent at most, as in the official client.
const MAX_TRIES: u32 = 3;

/// Hosts TuxSuite serves artefacts from, besides its configured API host.
const DEFAULT_ARTIFACT_HOSTS: [&str; 2] = ["storage.tuxsuite.com", "tuxapi.tuxsuite.com"];

fn open(ctx: &RunnerContext<'_>) -> Result<Box<dyn Runner>, ConfigError> {
    let (settings, keys) = match ctx.purpose {
        Purpose::Schedule => (Some(Settings::resolve(ctx.env, ctx.http_timeout)?), vec![]),
        Purpose::Listen { verify } => (None, listen_keys(ctx, verify)?),
    };
    let api_url = match &settings {
        Some(s) => s.api_url.clone(),
        None => Settings::api_url(ctx.env)?,
    };
    let artifact_hosts = match &ctx.settings.artifact_hosts {
        Some(hosts) => hosts.value.iter().map(|h| h.to_ascii_lowercase()).collect(),
        None => {
            let mut hosts: Vec<String> = DEFAULT_ARTIFACT_HOSTS.map(String::from).to_vec();
            if let Some(host) = api_url
                .parse::<::http::Uri>()
                .ok()
                .and_then(|u| u.host().map(str::to_ascii_lowercase))
            {
                hosts.push(host);
            }
            hosts
        }
    };
    Ok(Box::new(TuxSuite {
        agent: http::agent(ctx.http_timeout),
        artifacts: results::Fetcher::new(
            ctx.http_timeout,
            artifact_hosts,
            Settings::token_if_any(ctx.env),
        ),
        settings,
        keys,
        timeout: ctx.http_timeout,
        retry_delay: ctx.retry_delay,
    }))
}

/// The keys that verify callbacks; refusing to start without one unless
/// verification is explicitly off.
fn listen_keys(ctx: &RunnerContext<'_>, verify: bool) -> Result<Vec<PublicKey>, ConfigError> {
    let keys = ctx
        .settings
        .public_keys
        .iter()
        .map(|(line, source)| {
            PublicKey::from_openssh(line).map_err(|e| {
                ConfigError::Runner(format!(
                    "TuxSuite public key from {source} is {e}; use the ssh.pub line that `tuxsuite keys get` prints"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if verify && keys.is_empty() {
        return Err(ConfigError::Runner(
            "no TuxSuite public key configured, so callbacks cannot be verified: get it with `tuxsuite keys get` (or GET {api}/v1/groups/{group}/projects/{project}/keys, field ssh.pub) and pass --tuxsuite-public-key FILE or set public_keys under [tuxsuite] in config.toml (--insecure-skip-verify is for development only)".into(),
        ));
    }
    Ok(keys)
}

/// The TuxSuite runner.
pub struct TuxSuite {
    agent: ureq::Agent,
    artifacts: results::Fetcher,
    /// Present when opened to schedule.
    settings: Option<Settings>,
    /// Present when opened to receive callbacks.
    keys: Vec<PublicKey>,
    timeout: Duration,
    retry_delay: Duration,
}

/// What to do after one attempt.
enum Next {
    Done(Result<Accepted, SubmitError>),
    /// Try again after the pause (`None`: the usual backoff). `maybe_sent`
    /// records that this attempt may have reached TuxSuite.
    Retry {
        after: Option<Duration>,
        why: String,
        maybe_sent: bool,
    },
}

impl TuxSuite {
    fn settings(&self) -> &Settings {
        self.settings
            .as_ref()
            .expect("scheduling calls only reach a runner opened to schedule")
    }

    fn test_body(t: &TestSpec, callback: Option<&CallbackTarget>) -> Value {
        let mut body = Map::new();
        body.insert("device".into(), json!(t.device));
        body.insert("kernel".into(), json!(t.kernel));
        if let Some(m) = &t.modules {
            body.insert("modules".into(), json!(m));
        }
        // Boot always runs on TuxSuite and must not be named; a boot-only
        // job sends no test list at all.
        let tests: Vec<&String> = t.tests.iter().filter(|n| *n != "boot").collect();
        if !tests.is_empty() {
            body.insert("tests".into(), json!(tests));
        }
        let params: Map<String, Value> = t
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        body.insert("parameters".into(), Value::Object(params));
        body.insert("is_public".into(), json!(!t.private));
        add_callback(&mut body, callback);
        Value::Object(body)
    }

    fn build_body(b: &BuildSpec, callback: Option<&CallbackTarget>) -> Value {
        let mut entry = Map::new();
        entry.insert("git_repo".into(), json!(b.tree));
        match (&b.branch, &b.sha) {
            (_, Some(sha)) => entry.insert("git_sha".into(), json!(sha)),
            (Some(branch), None) => entry.insert("git_ref".into(), json!(branch)),
            (None, None) => None,
        };
        entry.insert("target_arch".into(), json!(b.arch));
        entry.insert("toolchain".into(), json!(b.toolchain));
        entry.insert("kconfig".into(), json!(b.kconfig));
        entry.insert(
            "client_token".into(),
            json!(uuid::Uuid::new_v4().to_string()),
        );
        entry.insert("environment".into(), json!({}));
        entry.insert("make_variables".into(), json!({}));
        entry.insert("targets".into(), json!(b.targets));
        entry.insert("is_public".into(), json!(!b.private));
        add_callback(&mut entry, callback);
        json!({"builds": [entry], "patches": {}})
    }

    /// One attempt, and what to do next.
    fn attempt(&self, sub: &Submission, body: &[u8], feedback: &dyn Feedback) -> Next {
        let sent = self
            .agent
            .post(&sub.url)
            .header("Authorization", &self.settings().token)
            .header("Content-Type", "application/json")
            .send(body);
        let mut resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                let why = format!(
                    "TuxSuite at {}: {}",
                    self.settings().api_url,
                    http::describe(&e, self.timeout)
                );
                return match http::reach(&e) {
                    Reach::NotReached => Next::Retry {
                        after: None,
                        why,
                        maybe_sent: false,
                    },
                    Reach::Maybe if sub.idempotent => Next::Retry {
                        after: None,
                        why,
                        maybe_sent: true,
                    },
                    Reach::Maybe => Next::Done(Err(SubmitError::Uncertain {
                        message: format!("{why}; the request may have reached TuxSuite, so it was not sent again"),
                        response: None,
                    })),
                };
            }
        };
        let status = resp.status().as_u16();
        for (name, value) in resp.headers() {
            if name.as_str().starts_with("x-tuxsuite-warning") {
                feedback.warning(&format!("TuxSuite: {}", value.to_str().unwrap_or("?")));
            }
        }
        let retry_after = http::retry_after(resp.headers());
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let answer: Option<Value> = serde_json::from_str(&text).ok();

        if (200..300).contains(&status) {
            return Next::Done(accepted(answer, &text));
        }
        let message = error_message(answer.as_ref(), &text);
        let why = format!("TuxSuite answered {status}: {message}");
        match (status, retry_after) {
            (429 | 503, Some(after)) if after <= http::MAX_RETRY_AFTER => Next::Retry {
                after: Some(after),
                why,
                maybe_sent: false,
            },
            (429 | 503, Some(after)) => Next::Done(Err(SubmitError::Unreachable {
                message: format!(
                    "{why}; it asks to wait {}s, try again later",
                    after.as_secs()
                ),
            })),
            (503, None) => Next::Done(Err(SubmitError::Unreachable {
                message: format!("{why}; the service is down, try again later"),
            })),
            (413 | 429 | 500 | 502 | 504, _) if sub.idempotent => Next::Retry {
                after: None,
                why,
                maybe_sent: status >= 500,
            },
            (403, _) => Next::Done(Err(SubmitError::Refused {
                message: format!(
                    "TuxSuite refused the token (403): {message}; check the token from {}",
                    self.settings().token_source
                ),
                response: answer,
            })),
            (400..=499, _) => Next::Done(Err(SubmitError::Refused {
                message: why,
                response: answer,
            })),
            _ => Next::Done(Err(SubmitError::Uncertain {
                message: format!(
                    "{why}; the job may have been created, check TuxSuite before scheduling again"
                ),
                response: answer,
            })),
        }
    }
}

impl Runner for TuxSuite {
    fn prepare(&self, spec: &JobSpec, callback: Option<&CallbackTarget>) -> Submission {
        let (path, body, idempotent) = match spec {
            JobSpec::Build(b) => ("builds", TuxSuite::build_body(b, callback), true),
            JobSpec::Test(t) | JobSpec::Boot(t) => {
                ("tests", TuxSuite::test_body(t, callback), false)
            }
        };
        Submission {
            method: "POST",
            url: format!("{}/{path}", self.settings().project_url()),
            headers: vec![
                ("Authorization".into(), "<redacted>".into()),
                ("Content-Type".into(), "application/json".into()),
                ("User-Agent".into(), http::USER_AGENT.into()),
            ],
            body,
            idempotent,
        }
    }

    fn submit(&self, sub: &Submission, feedback: &dyn Feedback) -> Result<Accepted, SubmitError> {
        let body = serde_json::to_vec(&sub.body).expect("JSON values always serialise");
        let mut delay = self.retry_delay;
        let mut maybe_created = false;
        for attempt in 1..=MAX_TRIES {
            match self.attempt(sub, &body, feedback) {
                Next::Done(result) => return result,
                Next::Retry {
                    after,
                    why,
                    maybe_sent,
                } => {
                    maybe_created |= maybe_sent;
                    if attempt == MAX_TRIES {
                        let message = format!("{why} (tried {MAX_TRIES} times)");
                        return Err(if maybe_created {
                            SubmitError::Uncertain {
                                message: format!("{message}; the build may have been created, check TuxSuite before scheduling again"),
                                response: None,
                            }
                        } else {
                            SubmitError::Unreachable {
                                message: format!("{message}; try again later"),
                            }
                        });
                    }
                    let pause = after.unwrap_or(delay);
                    feedback.progress(&format!(
                        "{why}; retrying in {:.0}s (try {} of {MAX_TRIES})",
                        pause.as_secs_f64(),
                        attempt + 1
                    ));
                    std::thread::sleep(pause);
                    delay *= 2;
                }
            }
        }
        unreachable!("the last attempt always returns")
    }

    fn verify_callback(
        &self,
        headers: &::http::HeaderMap,
        body: &[u8],
    ) -> Result<&'static str, String> {
        let header = headers
            .get(signature::SIGNATURE_HEADER)
            .map(|v| v.as_bytes());
        match signature::verify(&self.keys, header, body) {
            Ok(signature::Signed::Raw) => Ok(callback::RAW),
            Ok(signature::Signed::Inner) => Ok(callback::INNER),
            Err(e) => Err(e.to_string()),
        }
    }

    fn callback_headers(&self) -> &'static [&'static str] {
        &[signature::SIGNATURE_HEADER, "content-type", "user-agent"]
    }

    fn parse_callback(
        &self,
        kind: JobKind,
        body: &[u8],
        verified_as: &str,
    ) -> Result<Callback, String> {
        callback::parse(kind, body, verified_as)
    }

    fn fetch_results(&self, job: &Job, callback: &Callback) -> Result<JobResults, FetchError> {
        self.artifacts.results(job, callback)
    }
}

fn add_callback(body: &mut Map<String, Value>, callback: Option<&CallbackTarget>) {
    if let Some(cb) = callback {
        body.insert("callback".into(), json!(cb.url));
        body.insert(
            "callback_headers".into(),
            json!({ CALLBACK_TOKEN_HEADER: cb.token }),
        );
    }
}

/// Takes the uid from a 2xx answer: a test object, or an array of builds.
fn accepted(answer: Option<Value>, text: &str) -> Result<Accepted, SubmitError> {
    let uid = answer.as_ref().and_then(|v| {
        let obj = if v.is_array() { &v[0] } else { v };
        obj["uid"]
            .as_str()
            .filter(|u| !u.is_empty())
            .map(str::to_string)
    });
    match (uid, answer) {
        (Some(uid), Some(response)) => Ok(Accepted { uid, response }),
        (_, answer) => Err(SubmitError::Uncertain {
            message: format!(
                "TuxSuite accepted the request but its answer has no uid: {}; check TuxSuite before scheduling again",
                http::one_line(text)
            ),
            response: answer,
        }),
    }
}

/// The message TuxSuite gives for a refusal: `error`, else
/// `status_message`, else the body itself.
fn error_message(answer: Option<&Value>, text: &str) -> String {
    let field = |name: &str| {
        answer
            .and_then(|v| v.get(name))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .filter(|s| !s.is_empty())
    };
    field("error")
        .or_else(|| field("status_message"))
        .map(|s| http::one_line(&s))
        .unwrap_or_else(|| http::one_line(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner() -> TuxSuite {
        TuxSuite {
            agent: http::agent(Duration::from_secs(1)),
            artifacts: results::Fetcher::new(Duration::from_secs(1), vec![], None),
            settings: Some(Settings {
                token: "secret".into(),
                token_source: "TUXSUITE_TOKEN".into(),
                group: "g".into(),
                project: "p".into(),
                api_url: "https://tuxapi.example".into(),
            }),
            keys: vec![],
            timeout: Duration::from_secs(1),
            retry_delay: Duration::ZERO,
        }
    }

    fn test_spec(tests: &[&str]) -> TestSpec {
        TestSpec {
            device: "qemu-riscv64".into(),
            kernel: "https://example.org/Image".into(),
            modules: None,
            build_id: "maestro:1".into(),
            tests: tests.iter().map(|s| s.to_string()).collect(),
            collection: None,
            parameters: vec![("SKIPFILE".into(), "x".into())],
            private: false,
        }
    }

    #[test]
    fn boot_jobs_send_no_tests_and_boot_is_never_named() {
        let r = runner();
        let boot = r.prepare(&JobSpec::Boot(test_spec(&[])), None);
        assert!(boot.body.get("tests").is_none());
        assert!(boot.body.get("callback").is_none());
        assert_eq!(
            boot.url,
            "https://tuxapi.example/v1/groups/g/projects/p/tests"
        );
        assert!(!boot.idempotent);
        let t = r.prepare(&JobSpec::Test(test_spec(&["boot", "ltp-smoke"])), None);
        assert_eq!(t.body["tests"], json!(["ltp-smoke"]));
        assert_eq!(t.body["parameters"], json!({"SKIPFILE": "x"}));
        assert!(!t.to_string().contains("secret"));
    }

    #[test]
    fn builds_carry_a_client_token_and_the_callback() {
        let spec = JobSpec::Build(BuildSpec {
            tree: "https://git.example/linux.git".into(),
            branch: None,
            sha: Some("abcdef0".into()),
            arch: "riscv".into(),
            toolchain: "gcc-13".into(),
            kconfig: vec!["defconfig".into(), "CONFIG_KASAN=y".into()],
            targets: vec![],
            private: true,
        });
        let cb = CallbackTarget {
            url: "https://ci.example/callback/tuxsuite/build".into(),
            token: "tok".into(),
        };
        let sub = runner().prepare(&spec, Some(&cb));
        let entry = &sub.body["builds"][0];
        assert_eq!(entry["git_sha"], "abcdef0");
        assert!(entry.get("git_ref").is_none());
        assert_eq!(entry["kconfig"], json!(["defconfig", "CONFIG_KASAN=y"]));
        assert_eq!(entry["client_token"].as_str().unwrap().len(), 36);
        assert_eq!(entry["callback_headers"]["X-Kbridge-Token"], "tok");
        assert_eq!(sub.body["patches"], json!({}));
        assert!(sub.idempotent);
        assert_eq!(entry["is_public"], false);
    }

    #[test]
    fn answers_yield_uids() {
        let build = json!([{"uid": "2ZITcwA6wxeKxh9cZA5HBJ6FkSj"}]);
        assert_eq!(
            accepted(Some(build), "").unwrap().uid,
            "2ZITcwA6wxeKxh9cZA5HBJ6FkSj"
        );
        let test = json!({"uid": "2MBYa8FhoBHkRCX2BMMPusjuClf"});
        assert_eq!(
            accepted(Some(test), "").unwrap().uid,
            "2MBYa8FhoBHkRCX2BMMPusjuClf"
        );
        assert!(matches!(
            accepted(Some(json!({})), "{}"),
            Err(SubmitError::Uncertain { .. })
        ));
    }

    #[test]
    fn refusal_messages() {
        let a = json!({"error": "bad device", "status_message": "x"});
        assert_eq!(error_message(Some(&a), ""), "bad device");
        let a = json!({"status_message": "quota exceeded"});
        assert_eq!(error_message(Some(&a), ""), "quota exceeded");
        assert_eq!(
            error_message(None, "<html>oops</html>"),
            "<html>oops</html>"
        );
    }
}
