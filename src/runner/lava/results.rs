//! A finished LAVA job's results, read from the lab's REST API with
//! kbridge's own token (never from a callback body, which is unsigned),
//! and mapped to kbridge's results as `docs/lava.md` says.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::labs::Lab;
use crate::http;
use crate::model::{CaseResult, JobKind, Measurement, Status, TestResults};
use crate::runner::{ArtifactCaps, FetchError};

/// Cases asked for per page (the most LAVA serves at once is larger).
const PAGE: usize = 256;

/// Error types that mean lab trouble: nothing is known about the kernel.
const INFRA_ERRORS: [&str; 5] = [
    "Infrastructure",
    "Bug",
    "Configuration",
    "LAVATimeout",
    "MultinodeTimeout",
];

/// Talks to one lab's REST API.
pub struct Client<'a> {
    pub agent: &'a ureq::Agent,
    pub lab: &'a Lab,
    pub token: Option<String>,
    pub timeout: Duration,
    pub caps: ArtifactCaps,
}

impl Client<'_> {
    /// GET a JSON answer; what the status means is the lab's.
    pub fn get_json(&self, url: &str) -> Result<Value, FetchError> {
        let mut resp = self.get(url)?;
        let limit = self.caps.bytes;
        let mut text = String::new();
        resp.body_mut()
            .as_reader()
            .take(limit)
            .read_to_string(&mut text)
            .map_err(|e| FetchError::Transient(format!("reading {url}: {e}")))?;
        serde_json::from_str(&text).map_err(|e| {
            FetchError::Permanent(format!("the lab's answer to {url} is not JSON: {e}"))
        })
    }

    fn get(&self, url: &str) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
        let mut req = self.agent.get(url);
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Token {t}"));
        }
        let resp = req.call().map_err(|e| {
            let why = format!(
                "LAVA lab '{}' at {url}: {}",
                self.lab.name,
                http::describe(&e, self.timeout)
            );
            FetchError::transport(&e, why)
        })?;
        let status = resp.status().as_u16();
        match status {
            200..=299 => Ok(resp),
            403 => Err(FetchError::Permanent(format!(
                "the lab '{}' refused the API token (403) from {}; put a valid token there",
                self.lab.name,
                self.lab.token_path()
            ))),
            404 => Err(FetchError::Permanent(format!(
                "the lab '{}' has no {url} (404)",
                self.lab.name
            ))),
            _ => Err(FetchError::from_status(
                status,
                http::retry_after(resp.headers()),
                format!("the lab '{}' answered {status} to {url}", self.lab.name),
            )),
        }
    }

    /// The job, without the secrets and bulk REST repeats (`token`, the
    /// definitions).
    pub fn job(&self, id: u64) -> Result<Value, FetchError> {
        let mut job = self.get_json(&self.lab.api(&format!("jobs/{id}/")))?;
        strip(&mut job);
        Ok(job)
    }

    /// Every element of a paginated list, following `next` on the lab's
    /// own origin only (the token never goes anywhere else).
    fn all(&self, first: &str, max: usize) -> Result<(Vec<Value>, usize), FetchError> {
        let mut out = Vec::new();
        let mut url = Some(first.to_string());
        let mut total = 0;
        let mut pages = 0;
        while let Some(u) = url.take() {
            pages += 1;
            if pages > max / PAGE + 2 {
                break;
            }
            let page = self.get_json(&u)?;
            total = page["count"].as_u64().unwrap_or(0) as usize;
            for item in page["results"].as_array().into_iter().flatten() {
                if out.len() < max {
                    out.push(item.clone());
                }
            }
            url = page["next"]
                .as_str()
                .and_then(|n| same_origin(&self.lab.url, n));
        }
        let total = total.max(out.len());
        Ok((out, total))
    }

    /// The job's results, mapped.
    pub fn results(
        &self,
        id: u64,
        kind: JobKind,
        requested: &[String],
    ) -> Result<TestResults, FetchError> {
        let job = self.job(id)?;
        if job["state"].as_str() != Some("Finished") {
            return Err(FetchError::NotFinished(format!(
                "LAVA job {id} is {}, not finished yet",
                job["state"].as_str().unwrap_or("in an unknown state")
            )));
        }
        let (suites, _) = self.all(
            &self.lab.api(&format!("jobs/{id}/suites/?limit={PAGE}")),
            100_000,
        )?;
        let suites: BTreeMap<u64, String> = suites
            .iter()
            .filter_map(|s| Some((s["id"].as_u64()?, s["name"].as_str()?.to_string())))
            .collect();
        let (cases, total) = self.all(
            &self.lab.api(&format!("jobs/{id}/tests/?limit={PAGE}")),
            self.caps.cases,
        )?;
        let mut results = map(&job, &suites, &cases, self.lab, id, kind, requested);
        if total > cases.len() {
            results.trimmed = Some(format!(
                "{} of {total} test cases kept (max_cases)",
                cases.len()
            ));
        }
        let failed = results
            .verdicts
            .values()
            .any(|s| !matches!(s, Status::Pass | Status::Skip));
        if failed {
            // A missing log takes nothing from the verdicts.
            results.log_excerpt = self.console_tail(id).ok().filter(|t| !t.is_empty());
        }
        Ok(results)
    }

    /// The job's log, streamed: its console lines, or `raw` the whole
    /// YAML as the lab serves it.
    pub fn log(&self, id: u64, raw: bool, out: &mut dyn std::io::Write) -> Result<(), FetchError> {
        let url = self.lab.api(&format!("jobs/{id}/logs/"));
        let mut resp = self.get(&url)?;
        let mut reader = resp.body_mut().as_reader();
        let copied = if raw {
            std::io::copy(&mut reader, out).map(|_| ())
        } else {
            crate::runner::console_lines(BufReader::new(reader), |l| writeln!(out, "{l}"))
        };
        copied.map_err(|e| FetchError::Transient(format!("reading {url}: {e}")))
    }

    /// The end of the console output (`lvl: target` lines), read line by
    /// line so a large log is never held whole.
    fn console_tail(&self, id: u64) -> Result<String, FetchError> {
        let url = self.lab.api(&format!("jobs/{id}/logs/"));
        let mut resp = self.get(&url)?;
        let reader = BufReader::new(resp.body_mut().as_reader().take(self.caps.bytes));
        Ok(console_tail(reader))
    }
}

/// The console lines of a LAVA log (`- {"dt": …, "lvl": "target", "msg":
/// …}` per line), their last [`crate::model::LOG_EXCERPT_CHARS`]
/// characters.
pub fn console_tail(reader: impl BufRead) -> String {
    let mut kept: VecDeque<String> = VecDeque::new();
    let mut chars = 0;
    // A read error ends the log where it broke; what came before stands.
    let _ = crate::runner::console_lines(reader, |msg| {
        chars += msg.chars().count() + 1;
        kept.push_back(msg.to_string());
        while chars > crate::model::LOG_EXCERPT_CHARS * 2 && kept.len() > 1 {
            let gone = kept.pop_front().expect("more than one line");
            chars -= gone.chars().count() + 1;
        }
        Ok(())
    });
    let text: Vec<String> = kept.into();
    crate::model::excerpt(text.join("\n").as_bytes())
}

/// `next` rewritten onto the lab's own origin.
fn same_origin(lab_url: &str, next: &str) -> Option<String> {
    let lab: ::http::Uri = lab_url.parse().ok()?;
    let next: ::http::Uri = next.parse().ok()?;
    let pq = next.path_and_query()?;
    Some(format!("{}://{}{pq}", lab.scheme_str()?, lab.authority()?))
}

/// Removes what must not be stored or shown from a job as REST or a
/// callback gives it: the job's dispatcher token and the callback token
/// (repeated in `token` and inside the definitions), and bulk (logs,
/// inline results).
pub fn strip(job: &mut Value) {
    if let Some(o) = job.as_object_mut() {
        for k in [
            "token",
            "definition",
            "original_definition",
            "multinode_definition",
            "log",
            "results",
        ] {
            o.remove(k);
        }
    }
}

fn status_of(result: &str) -> Status {
    match result {
        "pass" => Status::Pass,
        "fail" => Status::Fail,
        "skip" => Status::Skip,
        _ => Status::Error,
    }
}

/// A LAVA time (`2026-11-28T08:40:41.393311Z`, or the callbacks'
/// `2026-11-28 08:40:41.393311+00:00`) as RFC 3339 UTC; `"None"` is none.
fn time(v: &Value) -> Option<jiff::Timestamp> {
    let s = v.as_str()?.trim();
    if s.is_empty() || s == "None" {
        return None;
    }
    s.replace(' ', "T").parse::<jiff::Timestamp>().ok()
}

/// A suite's name without its index (`0_smoke` → `smoke`).
fn strip_index(name: &str) -> &str {
    match name.split_once('_') {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => name,
    }
}

/// A KCIDB path part: `[A-Za-z0-9_-]` only.
fn path_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The mapping, from what REST gave: the job, its suites by id and its
/// cases.
pub fn map(
    job: &Value,
    suites: &BTreeMap<u64, String>,
    cases: &[Value],
    lab: &Lab,
    id: u64,
    kind: JobKind,
    requested: &[String],
) -> TestResults {
    let health = job["health"].as_str().unwrap_or("Unknown");
    let meta = |c: &Value| -> yaml_serde::Value {
        c["metadata"]
            .as_str()
            .and_then(|m| crate::yaml::parse(m).ok())
            .unwrap_or(yaml_serde::Value::Null)
    };
    let text =
        |v: &yaml_serde::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);

    // The dispatcher's own suite: the job verdict, the login, and one case
    // per test definition.
    let mut job_error: Option<(String, String)> = None;
    let mut login: Option<Status> = None;
    let mut definitions: BTreeMap<String, Status> = BTreeMap::new();
    let suite_of = |c: &Value| c["suite"].as_u64().and_then(|s| suites.get(&s)).cloned();
    for c in cases
        .iter()
        .filter(|c| suite_of(c).as_deref() == Some("lava"))
    {
        let name = c["name"].as_str().unwrap_or_default();
        let result = status_of(c["result"].as_str().unwrap_or("unknown"));
        match name {
            "job" if result == Status::Fail => {
                let m = meta(c);
                job_error = Some((
                    text(&m, "error_type").unwrap_or_else(|| "Unknown".into()),
                    text(&m, "error_msg").unwrap_or_default(),
                ));
            }
            "auto-login-action" | "login-action" => {
                login = Some(login.map_or(result, |l| l.min(result)));
            }
            n if strip_index(n) != n => {
                definitions.insert(n.to_string(), result);
            }
            _ => {}
        }
    }

    // Test definitions by display name: without the index, unless two
    // share a name.
    let mut names: Vec<String> = suites
        .values()
        .filter(|s| s.as_str() != "lava")
        .cloned()
        .chain(definitions.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    let display = |full: &str| -> String {
        let short = strip_index(full);
        let clashes = names.iter().filter(|n| strip_index(n) == short).count();
        if clashes > 1 {
            full.to_string()
        } else {
            short.to_string()
        }
    };

    let mut out = TestResults {
        device: job["actual_device"]
            .as_str()
            .or(job["requested_device_type"].as_str())
            .map(str::to_string),
        log_url: Some(lab.job_page(id)),
        canceled: health == "Canceled",
        ..TestResults::default()
    };
    let start = time(&job["start_time"]);
    let end = time(&job["end_time"]);
    out.start_time = start.map(|t| t.to_string());
    if let (Some(s), Some(e)) = (start, end) {
        let secs = e.duration_since(s).as_secs_f64();
        out.duration = (secs >= 0.0).then_some(secs);
    }
    out.misc.insert("lava_job_id".into(), json!(id));
    out.misc.insert("runtime".into(), json!(lab.name));

    let mut worst: BTreeMap<String, Status> = BTreeMap::new();
    for c in cases {
        let Some(suite) = suite_of(c) else { continue };
        if suite == "lava" {
            continue;
        }
        let name = display(&suite);
        let m = meta(c);
        let status = status_of(c["result"].as_str().unwrap_or("unknown"));
        let measurement = c["measurement"]
            .as_str()
            .filter(|v| *v != "None")
            .and_then(|v| v.parse::<f64>().ok())
            .map(|value| Measurement {
                value,
                unit: c["unit"].as_str().unwrap_or_default().to_string(),
            });
        worst
            .entry(name.clone())
            .and_modify(|w| *w = (*w).min(status))
            .or_insert(status);
        out.cases.push(CaseResult {
            test: name,
            set: text(&m, "set").filter(|s| !s.is_empty()),
            name: c["name"].as_str().unwrap_or("unnamed").to_string(),
            status,
            duration: None,
            measurement,
        });
    }

    let infra = job_error
        .as_ref()
        .is_some_and(|(t, _)| INFRA_ERRORS.contains(&t.as_str()));
    if let Some((t, m)) = &job_error {
        out.misc.insert("error".into(), json!(format!("{t}: {m}")));
    }
    // Every definition that ran, and every requested test.
    let mut all: Vec<String> = names.iter().map(|n| display(n)).collect();
    for r in requested {
        if !all.contains(r) {
            all.push(r.clone());
        }
    }
    for name in &all {
        let ran = definitions
            .iter()
            .find(|(full, _)| display(full) == *name)
            .map(|(_, s)| *s);
        let cases_worst = worst.get(name).copied();
        let verdict = match health {
            "Canceled" => Status::Miss,
            "Complete" | "Incomplete" => match (ran, cases_worst) {
                // Never reached: nothing known.
                (None, None) => Status::Miss,
                (Some(Status::Pass), Some(w)) => w,
                (Some(Status::Pass), None) => Status::Pass,
                // The definition stopped: its failed cases say FAIL, else
                // it is an error of the test itself.
                (_, Some(Status::Fail)) => Status::Fail,
                _ if infra => Status::Error,
                _ => Status::Error,
            },
            _ => Status::Error,
        };
        out.verdicts.insert(name.clone(), verdict);
        out.paths.insert(name.clone(), path_part(name));
    }
    let boot = match health {
        "Canceled" => Status::Miss,
        "Complete" => login.unwrap_or(Status::Pass),
        "Incomplete" => match login {
            Some(s) => s,
            None if infra => Status::Miss,
            // Tests ran, so it booted.
            None if !definitions.is_empty() || !worst.is_empty() => Status::Pass,
            None => Status::Fail,
        },
        _ => Status::Error,
    };
    out.verdicts.insert("boot".into(), boot);
    if kind == JobKind::Boot {
        out.verdicts.retain(|k, _| k == "boot");
        out.cases.clear();
    }
    out
}

/// What a poll keeps of a REST job: the state words and times, no
/// secrets.
pub fn polled_status(mut job: Value) -> Value {
    strip(&mut job);
    let keep = [
        "id",
        "state",
        "health",
        "description",
        "requested_device_type",
        "actual_device",
        "submit_time",
        "start_time",
        "end_time",
        "failure_comment",
    ];
    let kept: Map<String, Value> = job
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab() -> Lab {
        Lab {
            name: "mylab".into(),
            url: "https://lava.example".into(),
            token_file: None,
            device_type: None,
            rootfs: None,
            test_template: None,
            boot_template: None,
        }
    }

    fn capture(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lava")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn mapped(file: &str, id: u64, requested: &[String]) -> TestResults {
        let rest = capture(file);
        let get = |p: &str| rest[format!("GET /api/v0.2/jobs/{id}/{p}")]["body"].clone();
        let suites: BTreeMap<u64, String> = get("suites/")["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_u64().unwrap(),
                    s["name"].as_str().unwrap().into(),
                )
            })
            .collect();
        let cases = get("tests/")["results"].as_array().unwrap().clone();
        map(
            &get(""),
            &suites,
            &cases,
            &lab(),
            id,
            JobKind::Test,
            requested,
        )
    }

    #[test]
    fn a_complete_job_keeps_every_case_with_sets_and_measurements() {
        let r = mapped("job4-rest.json", 4, &[]);
        assert_eq!(r.verdicts["boot"], Status::Pass);
        assert_eq!(r.verdicts["smoke"], Status::Fail, "a case failed");
        assert_eq!(r.paths["smoke"], "smoke");
        let case = |n: &str| r.cases.iter().find(|c| c.name == n).unwrap();
        assert_eq!(case("always-fails").status, Status::Fail);
        assert_eq!(case("skipped-case").status, Status::Skip);
        assert_eq!(case("in-a-set").set.as_deref(), Some("subsuite"));
        let m = case("boot-time").measurement.clone().unwrap();
        assert_eq!((m.value, m.unit.as_str()), (1.5, "seconds"));
        assert_eq!(
            r.cases.len(),
            6,
            "the lava suite's own actions are not cases"
        );
        assert_eq!(r.device.as_deref(), Some("ssh01"));
        assert_eq!(
            r.log_url.as_deref(),
            Some("https://lava.example/scheduler/job/4")
        );
        assert_eq!(r.misc["lava_job_id"], 4);
        assert_eq!(r.start_time.as_deref(), Some("2026-11-28T08:40:41.393311Z"));
        assert!((r.duration.unwrap() - 19.89568).abs() < 0.001);
    }

    #[test]
    fn lab_trouble_is_a_miss_with_the_reason() {
        let r = mapped("job3-rest.json", 3, &["smoke".to_string()]);
        assert_eq!(r.verdicts["boot"], Status::Miss);
        assert_eq!(r.verdicts["smoke"], Status::Miss);
        assert_eq!(
            r.misc["error"],
            "Bug: [Errno 2] No such file or directory: 'qemu-system-x86_64'"
        );
    }

    #[test]
    fn the_console_tail_is_the_target_lines() {
        let log = "- {\"dt\": \"1\", \"lvl\": \"info\", \"msg\": \"start\"}\n- {\"dt\": \"2\", \"lvl\": \"target\", \"msg\": \"Linux version 6.1\"}\n- {\"dt\": \"3\", \"lvl\": \"results\", \"msg\": {\"case\": \"x\"}}\n- {\"dt\": \"4\", \"lvl\": \"target\", \"msg\": \"/ # \"}\n";
        assert_eq!(console_tail(log.as_bytes()), "Linux version 6.1\n/ # ");
    }

    #[test]
    fn pages_are_followed_on_the_labs_own_origin_only() {
        assert_eq!(
            same_origin(
                "https://lava.example/sub",
                "http://10.0.0.1:8000/api/v0.2/jobs/4/tests/?limit=256&offset=256"
            )
            .as_deref(),
            Some("https://lava.example/api/v0.2/jobs/4/tests/?limit=256&offset=256")
        );
    }
}
