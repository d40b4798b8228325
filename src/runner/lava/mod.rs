//! LAVA labs: the job scheduler most kernel test labs (and KernelCI) run
//! their boards and QEMU workers under.
//!
//! LAVA differs from TuxSuite in every way the runner boundary cares
//! about: job definitions are YAML, submitted as `POST jobs/` with
//! `Authorization: Token …`; ids are integers local to a lab (stored as
//! `{lab}.{id}`); callbacks are unsigned and sent once with no retry, so
//! only the per-job token (bound to one job) authenticates them, their
//! bodies are a notice and nothing more, and polling is the safety net;
//! results come from the lab's REST API. See `docs/lava.md`.
//!
//! A public job's definition shows its callback token to anyone who can
//! read the lab. That is acceptable only because a callback body is never
//! trusted: it makes kbridge look at a job it scheduled, through the REST
//! API with kbridge's own token, and nothing else. Keep it that way.

mod definition;
mod labs;
mod results;

use std::time::Duration;

use serde_json::{json, Value};

use crate::config::{setting, Key, Kind, SettingDef};
use crate::http::{self, Reach};
use crate::model::{Callback, Job, JobKind, JobResults, JobSpec};
use crate::retry::Backoff;
use crate::runner::{
    Accepted, ArtifactCaps, CallbackAuth, CallbackTarget, Cancel, Check, ConfigRow, Feedback,
    FetchError, Logs, OpenError, ParseError, Polled, PrepareError, Protocol, Purpose, Runner,
    RunnerContext, RunnerInfo, Submission, SubmitError, VerifyError, CALLBACK_TOKEN_HEADER,
};

use labs::Lab;

/// The registry entry.
pub const INFO: RunnerInfo = RunnerInfo {
    code: "lava",
    description:
        "LAVA labs (lava.readthedocs.io): tests and boot tests on a lab's boards and QEMU workers",
    settings: SETTINGS,
    options: &[],
    open,
    describe,
};

const LAB: Key<String> = Key::new("lava.lab");
const VALIDATE: Key<bool> = Key::new("lava.validate");

/// `[lava]` and one `[lava.labs.NAME]` table per lab.
const SETTINGS: &[SettingDef] = &[
    setting(
        LAB.name(),
        Kind::Text,
        "The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured",
    )
    .flag("lab", "NAME", &["schedule *"])
    .env("KBRIDGE_LAVA_LAB"),
    setting(
        VALIDATE.name(),
        Kind::Bool,
        "With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)",
    )
    .switch("validate", "true", &["schedule *"])
    .not_in_file(),
    setting("lava.labs.*.url", Kind::Url, "A LAVA lab's base URL, such as https://lava.example.org"),
    setting(
        "lava.labs.*.token_file",
        Kind::Path,
        "File holding the lab's REST API token (sent as Authorization: Token …)",
    ),
    setting(
        "lava.labs.*.device_type",
        Kind::Text,
        "The lab's default for --device (qemu-ARCH is LAVA's qemu type with that arch)",
    ),
    setting(
        "lava.labs.*.rootfs",
        Kind::Url,
        "Root filesystem (a cpio archive) the built-in QEMU boot deploys as its ramdisk",
    ),
    setting(
        "lava.labs.*.test_template",
        Kind::Path,
        "Job definition for `schedule test` on this lab, with {kernel}, {modules}, {rootfs}, {device_type}, {job_name}, {tests}",
    ),
    setting(
        "lava.labs.*.boot_template",
        Kind::Path,
        "Job definition for `schedule boot` on this lab, instead of the built-in QEMU boot",
    ),
];

/// What is kept of a callback body: which job, and where LAVA says it
/// stands.
const NOTICE_FIELDS: [&str; 14] = [
    "id",
    "status",
    "status_string",
    "state",
    "state_string",
    "health",
    "health_string",
    "submit_time",
    "start_time",
    "end_time",
    "actual_device_id",
    "description",
    "failure_comment",
    "submitter_username",
];

/// A scalar cut to a length worth showing; anything else is dropped.
fn short(v: &Value) -> Option<Value> {
    const MAX: usize = 200;
    match v {
        Value::String(s) if s.chars().count() > MAX => {
            Some(Value::String(s.chars().take(MAX).collect::<String>() + "…"))
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => Some(v.clone()),
        _ => None,
    }
}

/// How many times a request that surely never reached the lab is sent.
const MAX_TRIES: u32 = 3;

fn open(ctx: &RunnerContext<'_>) -> Result<Box<dyn Runner>, OpenError> {
    let labs = labs::configured(ctx.settings)?;
    // Processing stored callbacks opens every runner; without labs there
    // is just nothing it can fetch.
    if labs.is_empty() && !matches!(ctx.purpose, Purpose::Process) {
        return Err(OpenError::Unused(
            "no LAVA lab is configured: add a [lava.labs.NAME] table with url and token_file to config.toml".into(),
        ));
    }
    let chosen = match ctx.purpose {
        Purpose::Schedule { .. } => Some(choose(&labs, ctx)?),
        _ => None,
    };
    let validate = ctx.settings.value(VALIDATE).unwrap_or(false);
    let config_error = |m: String| OpenError::Config(crate::config::ConfigError::Runner(m));
    if let (Purpose::Schedule { dry_run: false }, Some(i)) = (ctx.purpose, chosen) {
        if validate {
            return Err(config_error(
                "--validate asks the lab about a job without creating it: add --dry-run".into(),
            ));
        }
        // Before anything is recorded: a job that cannot be sent is no job.
        labs[i].token().map_err(config_error)?;
    }
    Ok(Box::new(Lava {
        agent: http::agent(ctx.http_timeout),
        labs,
        chosen,
        validate,
        timeout: ctx.http_timeout,
        caps: ctx.artifact_caps,
        backoff: ctx.backoff.exact(),
    }))
}

/// The lab a schedule command means: `--lab`, or the only one.
fn choose(labs: &[Lab], ctx: &RunnerContext<'_>) -> Result<usize, OpenError> {
    let bad = |m: String| OpenError::Config(crate::config::ConfigError::Runner(m));
    match ctx.settings.get(LAB) {
        Some(name) => labs
            .iter()
            .position(|l| l.name == name.value)
            .ok_or_else(|| {
                bad(format!(
                    "no LAVA lab '{}' (from {}); configured: {}",
                    name.value,
                    name.source,
                    labs::names(labs)
                ))
            }),
        None if labs.len() == 1 => Ok(0),
        None => Err(bad(format!(
            "several LAVA labs are configured ({}); choose one with --lab NAME",
            labs::names(labs)
        ))),
    }
}

fn describe(ctx: &RunnerContext<'_>) -> Vec<ConfigRow> {
    let Ok(labs) = labs::configured(ctx.settings) else {
        return vec![];
    };
    labs.iter()
        .map(|lab| ConfigRow {
            key: format!("lava.labs.{}.token", lab.name),
            value: match lab.token() {
                Ok(_) => "(set)".into(),
                Err(_) => "(missing)".into(),
            },
            source: lab.token_path(),
        })
        .collect()
}

/// The LAVA runner: every configured lab.
pub struct Lava {
    agent: ureq::Agent,
    labs: Vec<Lab>,
    /// The lab a schedule command submits to.
    chosen: Option<usize>,
    validate: bool,
    timeout: Duration,
    caps: ArtifactCaps,
    backoff: Backoff,
}

impl Lava {
    fn lab(&self) -> &Lab {
        &self.labs[self
            .chosen
            .expect("only a runner opened to schedule prepares jobs")]
    }

    /// The lab and id of a job kbridge stored as `{lab}.{id}`.
    fn locate(&self, job: &Job) -> Result<(&Lab, u64), FetchError> {
        let uid = job.uid.as_deref().ok_or_else(|| {
            FetchError::Permanent(
                "the job has no LAVA id (its submission did not go through)".into(),
            )
        })?;
        let (name, id) = labs::split_uid(uid).ok_or_else(|| {
            FetchError::Permanent(format!("'{uid}' is not a LAVA job id (LAB.ID)"))
        })?;
        let lab = self.labs.iter().find(|l| l.name == name).ok_or_else(|| {
            FetchError::Permanent(format!(
                "job {uid} ran on LAVA lab '{name}', which is not configured here (configured: {})",
                labs::names(&self.labs)
            ))
        })?;
        Ok((lab, id))
    }

    fn client<'a>(&'a self, lab: &'a Lab) -> Result<results::Client<'a>, FetchError> {
        let token = lab.token().map_err(FetchError::Permanent)?;
        Ok(results::Client {
            agent: &self.agent,
            lab,
            token: Some(token),
            timeout: self.timeout,
            caps: self.caps,
        })
    }

    fn definition(
        &self,
        kind: JobKind,
        t: &crate::model::TestSpec,
        callback: Option<&CallbackTarget>,
        job_id: Option<i64>,
    ) -> Result<(String, Option<String>), PrepareError> {
        let lab = self.lab();
        let usage = PrepareError::Unsupported;
        let name = definition::job_name(kind, t);
        let fill = definition::Fill {
            kernel: t.kernel.as_deref(),
            modules: t.modules.as_deref(),
            rootfs: lab.rootfs.as_deref(),
            device_type: &t.device,
            job_name: &name,
            tests: &t.tests,
        };
        let template = t.definition.clone().or(match kind {
            JobKind::Test => lab.test_template.clone(),
            _ => lab.boot_template.clone(),
        });
        let mut def = match (&template, kind) {
            (Some(file), _) => definition::from_file(file, &fill).map_err(usage)?,
            (None, JobKind::Boot) => definition::qemu_boot(t, &fill).map_err(usage)?,
            (None, _) => {
                return Err(usage(format!(
                    "LAVA test definitions are each lab's own: set test_template under [lava.labs.{}] or give --job-definition FILE",
                    lab.name
                )))
            }
        };
        definition::add_kbridge(&mut def, job_id, &t.build_id, callback);
        // A definition of the user's (or the lab's) says its own device.
        let device = template
            .as_ref()
            .and_then(|_| def.get("device_type")?.as_str().map(str::to_string))
            .filter(|d| *d != t.device);
        let yaml = yaml_serde::to_string(&def)
            .map_err(|e| PrepareError::Config(format!("cannot write the job definition: {e}")))?;
        Ok((yaml, device))
    }

    fn post(
        &self,
        url: &str,
        body: &[u8],
        token: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        self.agent
            .post(url)
            .header("Authorization", &format!("Token {token}"))
            .header("Content-Type", "application/json")
            .send(body)
    }
}

impl Runner for Lava {
    fn prepare(
        &self,
        spec: &JobSpec,
        callback: Option<&CallbackTarget>,
        job_id: Option<i64>,
    ) -> Result<Submission, PrepareError> {
        let (kind, t) = match spec {
            JobSpec::Build(_) => {
                return Err(PrepareError::Unsupported(
                    "LAVA runs tests and boots, not builds: build on TuxSuite (--runner tuxsuite) and test the result here with --kernel URL".into(),
                ))
            }
            JobSpec::Test(t) => (JobKind::Test, t),
            JobSpec::Boot(t) => (JobKind::Boot, t),
        };
        if let Some(key) = t.options.runner.keys().next() {
            return Err(PrepareError::Unsupported(format!(
                "LAVA takes no option '{key}': the job definition says how the job runs"
            )));
        }
        if t.waits_for.is_some() {
            return Err(PrepareError::Unsupported(
                "a LAVA job cannot wait on a build that is still running; wait for it, then give --after again".into(),
            ));
        }
        let (yaml, device) = self.definition(kind, t, callback, job_id)?;
        let lab = self.lab();
        Ok(Submission {
            method: "POST",
            url: lab.api("jobs/"),
            headers: vec![
                ("Authorization".into(), "Token <redacted>".into()),
                ("Content-Type".into(), "application/json".into()),
                ("User-Agent".into(), http::USER_AGENT.into()),
            ],
            shown: Some(format!("definition:\n{yaml}")),
            body: json!({ "definition": yaml }),
            // LAVA has no idempotency key: a submission that may have
            // arrived is never sent again.
            idempotent: false,
            notes: vec![],
            device,
        })
    }

    fn default_device(&self) -> Option<String> {
        self.chosen.and_then(|_| self.lab().device_type.clone())
    }

    fn validate(&self, sub: &Submission) -> Result<Option<String>, PrepareError> {
        if !self.validate {
            return Ok(None);
        }
        let lab = self.lab();
        let body = serde_json::to_vec(&sub.body).expect("JSON values always serialise");
        // Validation needs no token; one is sent if there is one.
        let mut req = self
            .agent
            .post(&lab.api("jobs/validate/"))
            .header("Content-Type", "application/json");
        if let Ok(t) = lab.token() {
            req = req.header("Authorization", &format!("Token {t}"));
        }
        let mut resp = req.send(&body[..]).map_err(|e| {
            PrepareError::Config(format!(
                "cannot ask LAVA lab '{}' to validate the job: {}",
                lab.name,
                http::describe(&e, self.timeout)
            ))
        })?;
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| http::one_line(&text));
        if message.starts_with("Job valid") {
            Ok(Some(format!("LAVA lab '{}' says: {message}", lab.name)))
        } else {
            Err(PrepareError::Unsupported(format!(
                "LAVA lab '{}' says the job definition is not valid: {message}",
                lab.name
            )))
        }
    }

    fn submit(&self, sub: &Submission, feedback: &dyn Feedback) -> Result<Accepted, SubmitError> {
        let lab = self.lab();
        let token = lab.token().map_err(|message| SubmitError::Refused {
            message,
            response: None,
        })?;
        let body = serde_json::to_vec(&sub.body).expect("JSON values always serialise");
        let mut attempt = 1;
        let mut resp = loop {
            match self.post(&sub.url, &body, &token) {
                Ok(r) => break r,
                Err(e) => {
                    let why = format!(
                        "LAVA lab '{}' at {}: {}",
                        lab.name,
                        lab.url,
                        http::describe(&e, self.timeout)
                    );
                    match http::reach(&e) {
                        Reach::NotReached if attempt < MAX_TRIES && !http::plain_http(&e) => {
                            let pause = self.backoff.delay(attempt);
                            feedback.progress(&format!(
                                "{why}; trying again in {:.1}s",
                                pause.as_secs_f64()
                            ));
                            std::thread::sleep(pause);
                            attempt += 1;
                        }
                        Reach::NotReached => return Err(SubmitError::Unreachable { message: why }),
                        Reach::Maybe => {
                            return Err(SubmitError::Uncertain {
                                message: format!("{why}; the job may have been created (LAVA cannot recognise a repeated submission), so it was not sent again: check the lab"),
                                response: None,
                            })
                        }
                    }
                }
            }
        };
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let answer: Option<Value> = serde_json::from_str(&text).ok();
        let said = |k: &str| {
            answer
                .as_ref()
                .and_then(|a| a[k].as_str().map(str::to_string))
                .unwrap_or_else(|| http::one_line(&text))
        };
        match status {
            200..=299 => {
                let ids = answer.as_ref().and_then(|a| a["job_ids"].as_array());
                match ids.map(|ids| ids.as_slice()) {
                    Some([id]) => {
                        let id = id
                            .as_u64()
                            .or_else(|| id.as_str().and_then(|s| s.parse().ok()));
                        match id {
                            Some(id) => Ok(Accepted {
                                uid: format!("{}.{id}", lab.name),
                                response: answer.clone().unwrap_or(Value::Null),
                            }),
                            None => Err(SubmitError::Uncertain {
                                message: format!("LAVA lab '{}' accepted the job but its id is not a number: {text}", lab.name),
                                response: answer,
                            }),
                        }
                    }
                    _ => Err(SubmitError::Uncertain {
                        message: format!(
                            "LAVA lab '{}' answered {status} without one job id ({}); check the lab before scheduling again",
                            lab.name,
                            http::one_line(&text)
                        ),
                        response: answer,
                    }),
                }
            }
            401 | 403 => Err(SubmitError::Refused {
                message: format!(
                    "the lab refused the API token ({status}: {}); check the token in {}",
                    said("detail"),
                    lab.token_path()
                ),
                response: answer,
            }),
            400 => Err(SubmitError::Refused {
                message: said("message"),
                response: answer,
            }),
            404 => Err(SubmitError::Refused {
                message: format!(
                    "LAVA lab '{}' has no REST API at {} (404); check lava.labs.{}.url",
                    lab.name, sub.url, lab.name
                ),
                response: answer,
            }),
            s if s >= 500 => Err(SubmitError::Uncertain {
                message: format!(
                    "LAVA lab '{}' answered {s}: {}; the job may have been created, check the lab before scheduling again",
                    lab.name,
                    said("message")
                ),
                response: answer,
            }),
            s => Err(SubmitError::Refused {
                message: format!("LAVA lab '{}' answered {s}: {}", lab.name, said("message")),
                response: answer,
            }),
        }
    }

    fn verify_callback(
        &self,
        headers: &::http::HeaderMap,
        _body: &[u8],
    ) -> Result<&'static str, VerifyError> {
        // The token is all there is; the shared code binds it to one job
        // (constant time) before anything is kept.
        match headers.get(CALLBACK_TOKEN_HEADER) {
            Some(v) if !v.as_bytes().trim_ascii().is_empty() => Ok("token"),
            _ => Err(VerifyError::Missing(CALLBACK_TOKEN_HEADER)),
        }
    }

    fn stored_body(&self, body: Vec<u8>) -> Vec<u8> {
        // LAVA repeats the secret in the body (and in the definition); an
        // unreadable body could hold it anywhere, so nothing of it stays.
        // The body is a notice and only says which job changed state: what
        // is kept of it is that, and a few short facts worth showing,
        // whatever size the sender made it.
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(o)) => {
                let kept: serde_json::Map<String, Value> = NOTICE_FIELDS
                    .iter()
                    .filter_map(|k| Some((k.to_string(), short(o.get(*k)?)?)))
                    .collect();
                serde_json::to_vec(&kept).expect("JSON values always serialise")
            }
            _ => Vec::new(),
        }
    }

    fn parse_callback(
        &self,
        _kind: JobKind,
        body: &[u8],
        _verified_as: &str,
    ) -> Result<Callback, ParseError> {
        let v: Value =
            serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))?;
        let id = v["id"]
            .as_u64()
            .or_else(|| v["id"].as_str().and_then(|s| s.parse().ok()));
        let Some(id) = id else {
            return Err(ParseError::Missing("job id"));
        };
        // A notice only: which job, and that it changed state. The lab is
        // not in it, so the id alone is matched.
        Ok(Callback {
            uid: None,
            subject: Some(id.to_string()),
            status: v,
        })
    }

    fn callback_is_for(&self, job: &Job, subject: Option<&str>) -> bool {
        match (subject, job.uid.as_deref().and_then(labs::split_uid)) {
            (Some(s), Some((_, id))) => s == id.to_string(),
            _ => true,
        }
    }

    fn poll(&self, job: &Job) -> Result<Polled, FetchError> {
        let (lab, id) = self.locate(job)?;
        let rest = self.client(lab)?.job(id)?;
        let state = rest["state"].as_str().unwrap_or("Unknown").to_string();
        let status = results::polled_status(rest);
        if state == "Finished" {
            return Ok(Polled::Finished(Callback {
                uid: job.uid.clone(),
                subject: None,
                status,
            }));
        }
        Ok(Polled::Running {
            queued: matches!(state.as_str(), "Submitted" | "Scheduling" | "Scheduled"),
            state,
            status,
        })
    }

    fn doctor(&self, _listening: bool) -> Vec<Check> {
        self.labs
            .iter()
            .map(|lab| {
                let what = format!("lava lab {}", lab.name);
                let client = match self.client(lab) {
                    Ok(c) => c,
                    Err(e) => return Check::fail(what, e.to_string()),
                };
                match client.get_json(&lab.api("jobs/?limit=1")) {
                    Ok(_) => Check::ok(
                        what,
                        format!("{} accepts the token from {}", lab.url, lab.token_path()),
                    ),
                    Err(e) => Check::fail(what, e.to_string()),
                }
            })
            .collect()
    }

    fn fetch_results(&self, job: &Job, _callback: &Callback) -> Result<JobResults, FetchError> {
        let (lab, id) = self.locate(job)?;
        self.client(lab)?
            .results(id, job.kind, &job.tests)
            .map(JobResults::Test)
    }

    fn protocol(&self) -> Protocol {
        Protocol {
            auth: CallbackAuth::TokenOnly,
            auth_header: CALLBACK_TOKEN_HEADER,
            kept_headers: &["content-type", "user-agent"],
            results_lifetime: None,
        }
    }

    fn cancel(&self) -> Option<&dyn Cancel> {
        Some(self)
    }

    fn logs(&self) -> Option<&dyn Logs> {
        Some(self)
    }
}

impl Cancel for Lava {
    fn cancel(&self, job: &Job) -> Result<(), FetchError> {
        let (lab, id) = self.locate(job)?;
        // LAVA cancels with a GET, and says the same whatever it did.
        self.client(lab)?
            .get_json(&lab.api(&format!("jobs/{id}/cancel/")))
            .map(|_| ())
    }
}

impl Logs for Lava {
    fn log_source(&self, job: &Job) -> Result<String, FetchError> {
        let (lab, id) = self.locate(job)?;
        Ok(lab.api(&format!("jobs/{id}/logs/")))
    }

    fn logs(&self, job: &Job, raw: bool, out: &mut dyn std::io::Write) -> Result<(), FetchError> {
        let (lab, id) = self.locate(job)?;
        self.client(lab)?.log(id, raw, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bodies_keep_no_token() {
        let lab = Lab {
            name: "l".into(),
            url: "https://lava.example".into(),
            token_file: None,
            device_type: None,
            rootfs: None,
            test_template: None,
            boot_template: None,
        };
        let r = Lava {
            agent: http::agent(Duration::from_secs(1)),
            labs: vec![lab],
            chosen: Some(0),
            validate: false,
            timeout: Duration::from_secs(1),
            caps: ArtifactCaps {
                bytes: 1 << 20,
                time: Duration::from_secs(5),
                cases: 100,
            },
            backoff: Backoff::new(Duration::ZERO, Duration::ZERO),
        };
        let body = br#"{"id": 4, "token": "s3cret", "definition": "notify: {token: s3cret}", "state_string": "Finished"}"#;
        let kept = r.stored_body(body.to_vec());
        assert!(!String::from_utf8_lossy(&kept).contains("s3cret"));
        assert!(r.stored_body(b"not json s3cret".to_vec()).is_empty());
        let cb = r.parse_callback(JobKind::Test, &kept, "token").unwrap();
        assert_eq!(cb.names(), Some("4"));
    }
}
