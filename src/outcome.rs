//! What became of jobs, for people and scripts: a verdict per job, the
//! tests that did not pass, and the exit status CI and `git bisect run`
//! can rely on.
//!
//! | exit status | when |
//! |---|---|
//! | 0 | every job passed |
//! | 1 | at least one kernel failure: a FAIL in any build or test |
//! | 3 | no FAIL, but an infrastructure problem: ERROR, MISS, canceled, a job the runner did not accept or may not have |
//! | 124 | the timeout expired (the jobs still pending are listed) |
//! | 125 | what 3 becomes under `--bisect`, so `git bisect run` skips the commit |

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::error::exit;
use crate::kcidb::model::Document;
use crate::model::{Job, JobState, Status};

/// A job's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// A kernel failure.
    Fail,
    /// Nothing says the kernel is broken, but the results are not whole.
    Infra(String),
    /// Not finished.
    Pending,
}

/// One build or test of a job's document.
#[derive(Debug, Clone, PartialEq)]
pub struct TestLine {
    pub path: String,
    pub status: Status,
    pub excerpt: Option<String>,
    pub duration: Option<f64>,
}

/// What became of one job.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    pub job: Job,
    pub verdict: Verdict,
    /// Every build and test of its document.
    pub tests: Vec<TestLine>,
}

impl JobOutcome {
    /// A job and its stored document (if it has one).
    pub fn of(job: Job, document: Option<&str>) -> JobOutcome {
        let doc = document.and_then(|d| crate::kcidb::model::read(d).ok());
        let tests = doc.as_ref().map(lines).unwrap_or_default();
        let worst = tests.iter().map(|t| t.status).min();
        let detail = job.detail.clone().unwrap_or_default();
        let verdict = match job.state {
            JobState::Submitted | JobState::Received => Verdict::Pending,
            JobState::Failed => Verdict::Infra(format!("the runner did not accept it: {detail}")),
            JobState::Unknown | JobState::Submitting => Verdict::Infra(format!(
                "it is '{}': the runner may or may not have it, so it is not waited for; check the runner",
                job.state
            )),
            JobState::Canceled => Verdict::Infra(if detail.is_empty() {
                "it was canceled before it finished".into()
            } else {
                format!("it was canceled: {detail}")
            }),
            JobState::Completed | JobState::Errored => match (worst, &doc) {
                (_, None) => Verdict::Infra("it has no readable KCIDB document".into()),
                (Some(Status::Fail), _) => Verdict::Fail,
                (Some(s @ (Status::Error | Status::Miss)), _) => Verdict::Infra(if detail.is_empty() {
                    format!("results with {s}")
                } else {
                    detail.clone()
                }),
                _ if job.state == JobState::Errored => Verdict::Infra(detail.clone()),
                _ => Verdict::Pass,
            },
        };
        JobOutcome {
            job,
            verdict,
            tests,
        }
    }

    /// The builds and tests that did not pass (FAIL, ERROR, MISS).
    pub fn not_passing(&self) -> impl Iterator<Item = &TestLine> {
        self.tests
            .iter()
            .filter(|t| matches!(t.status, Status::Fail | Status::Error | Status::Miss))
    }

    fn word(&self) -> &'static str {
        match self.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Infra(_) => "infra",
            Verdict::Pending => "pending",
        }
    }
}

/// Every build and test of a document, builds first.
fn lines(doc: &Document) -> Vec<TestLine> {
    let mut out = Vec::new();
    for b in &doc.builds {
        if let Some(status) = b.status {
            out.push(TestLine {
                path: format!("build {}", build_words(b)),
                status,
                excerpt: b.log_excerpt.clone(),
                duration: b.duration,
            });
        }
    }
    for t in &doc.tests {
        out.push(TestLine {
            path: t.path.clone(),
            status: t.status,
            excerpt: t.log_excerpt.clone(),
            duration: t.duration,
        });
    }
    out
}

/// A build as a person reads it: its architecture, compiler and config.
pub fn build_words(b: &crate::kcidb::model::Build) -> String {
    let word = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    format!(
        "{} {} {}",
        word(&b.architecture),
        word(&b.compiler),
        word(&b.config_name)
    )
}

/// What became of a set of jobs.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub outcomes: Vec<JobOutcome>,
    pub timed_out: bool,
    pub interrupted: bool,
}

impl Summary {
    /// The exit status, by the rules at the top of this file.
    pub fn exit_status(&self, bisect: bool) -> u8 {
        if self.interrupted {
            return exit::INTERRUPTED;
        }
        if self.timed_out {
            return exit::TIMEOUT;
        }
        let verdicts = || self.outcomes.iter().map(|o| &o.verdict);
        if verdicts().any(|v| *v == Verdict::Fail) {
            return exit::FAILURE;
        }
        if verdicts().any(|v| matches!(v, Verdict::Infra(_) | Verdict::Pending)) {
            return if bisect {
                exit::BISECT_SKIP
            } else {
                exit::INFRA
            };
        }
        exit::SUCCESS
    }

    fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for t in self.outcomes.iter().flat_map(|o| &o.tests) {
            *counts.entry(t.status.as_str()).or_insert(0) += 1;
        }
        counts
    }

    /// The summary a person reads: per job its result, and every build or
    /// test that did not pass.
    pub fn human(&self) -> String {
        let mut out = Vec::new();
        for o in &self.outcomes {
            let j = &o.job;
            let head = format!(
                "job {} {} {} ({}):",
                j.id,
                j.kind,
                j.uid.as_deref().unwrap_or("-"),
                j.summary
            );
            out.push(match &o.verdict {
                Verdict::Pass => format!("{head} PASS"),
                Verdict::Fail => format!("{head} FAIL"),
                Verdict::Infra(why) => format!("{head} infrastructure problem: {why}"),
                Verdict::Pending => format!("{head} still {}", j.state),
            });
            for t in o.not_passing() {
                out.push(format!("  {:<5}  {}", t.status.as_str(), t.path));
            }
        }
        let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
        for o in &self.outcomes {
            *tally.entry(o.word()).or_insert(0) += 1;
        }
        let mut end = format!(
            "{} job(s): {} passed, {} failed, {} with an infrastructure problem",
            self.outcomes.len(),
            tally.get("pass").unwrap_or(&0),
            tally.get("fail").unwrap_or(&0),
            tally.get("infra").unwrap_or(&0)
        );
        let pending = tally.get("pending").copied().unwrap_or(0);
        if pending > 0 {
            end.push_str(&format!(", {pending} still pending"));
        }
        if self.timed_out {
            end.push_str("; the timeout expired");
        }
        if self.interrupted {
            end.push_str("; interrupted (a second `kbridge wait` carries on)");
        }
        out.push(end);
        out.join("\n")
    }

    /// One JSON object for scripts.
    pub fn json(&self, bisect: bool) -> Value {
        let jobs: Vec<Value> = self
            .outcomes
            .iter()
            .map(|o| {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for t in &o.tests {
                    *counts.entry(t.status.as_str()).or_insert(0) += 1;
                }
                json!({
                    "id": o.job.id,
                    "runner": o.job.runner,
                    "kind": o.job.kind,
                    "uid": o.job.uid,
                    "state": o.job.state,
                    "result": o.word(),
                    "reason": match &o.verdict { Verdict::Infra(w) => Some(w.clone()), _ => None },
                    "counts": counts,
                    "failing": o.not_passing().map(|t| json!({"path": t.path, "status": t.status})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let failing: Vec<Value> = self
            .outcomes
            .iter()
            .flat_map(|o| {
                o.not_passing()
                    .map(move |t| json!({"job": o.job.id, "path": t.path, "status": t.status}))
            })
            .collect();
        let pending: Vec<i64> = self
            .outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Pending)
            .map(|o| o.job.id)
            .collect();
        json!({
            "jobs": jobs,
            "counts": self.counts(),
            "failing": failing,
            "pending": pending,
            "timed_out": self.timed_out,
            "exit_status": self.exit_status(bisect),
        })
    }

    /// JUnit XML: one testsuite per job, one testcase per build or test;
    /// failures and errors carry the log excerpt.
    pub fn junit(&self) -> String {
        use quick_xml::events::{BytesDecl, BytesText, Event};
        let mut w = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
        let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        let count =
            |o: &JobOutcome, s: &[Status]| o.tests.iter().filter(|t| s.contains(&t.status)).count();
        let total_failures: usize = self
            .outcomes
            .iter()
            .map(|o| count(o, &[Status::Fail]))
            .sum();
        let total_errors: usize = self
            .outcomes
            .iter()
            .map(|o| {
                count(o, &[Status::Error, Status::Miss])
                    + usize::from(o.tests.is_empty() && o.verdict != Verdict::Pass)
            })
            .sum();
        let total_tests: usize = self.outcomes.iter().map(|o| o.tests.len().max(1)).sum();
        let result = w
            .create_element("testsuites")
            .with_attribute(("name", "kbridge"))
            .with_attribute(("tests", total_tests.to_string().as_str()))
            .with_attribute(("failures", total_failures.to_string().as_str()))
            .with_attribute(("errors", total_errors.to_string().as_str()))
            .write_inner_content(|w| {
                for o in &self.outcomes {
                    let j = &o.job;
                    let name = format!(
                        "job {} {} {}",
                        j.id,
                        j.kind,
                        j.uid.as_deref().unwrap_or("-")
                    );
                    let failures = count(o, &[Status::Fail]);
                    let skipped = count(o, &[Status::Skip]);
                    let no_tests = o.tests.is_empty();
                    let errors = count(o, &[Status::Error, Status::Miss])
                        + usize::from(no_tests && o.verdict != Verdict::Pass);
                    w.create_element("testsuite")
                        .with_attribute(("name", xml_safe(&name).as_str()))
                        .with_attribute(("tests", o.tests.len().max(1).to_string().as_str()))
                        .with_attribute(("failures", failures.to_string().as_str()))
                        .with_attribute(("errors", errors.to_string().as_str()))
                        .with_attribute(("skipped", skipped.to_string().as_str()))
                        .write_inner_content(|w| {
                            if no_tests {
                                // A job with no results still shows, as one
                                // case saying why.
                                let why = match &o.verdict {
                                    Verdict::Infra(why) => why.clone(),
                                    Verdict::Pending => {
                                        format!("still {} when waiting stopped", j.state)
                                    }
                                    _ => String::new(),
                                };
                                let case = w
                                    .create_element("testcase")
                                    .with_attribute(("name", "job"))
                                    .with_attribute(("classname", xml_safe(&name).as_str()));
                                if why.is_empty() {
                                    case.write_empty()?;
                                } else {
                                    case.write_inner_content(|w| {
                                        w.create_element("error")
                                            .with_attribute(("message", xml_safe(&why).as_str()))
                                            .write_empty()?;
                                        Ok(())
                                    })?;
                                }
                                return Ok(());
                            }
                            for t in &o.tests {
                                let mut case = w
                                    .create_element("testcase")
                                    .with_attribute(("name", xml_safe(&t.path).as_str()))
                                    .with_attribute(("classname", xml_safe(&name).as_str()));
                                if let Some(d) = t.duration {
                                    case = case.with_attribute(("time", format!("{d}").as_str()));
                                }
                                let tag = match t.status {
                                    Status::Fail => Some("failure"),
                                    Status::Error | Status::Miss => Some("error"),
                                    Status::Skip => Some("skipped"),
                                    Status::Pass | Status::Done => None,
                                };
                                match tag {
                                    None => {
                                        case.write_empty()?;
                                    }
                                    Some(tag) => {
                                        case.write_inner_content(|w| {
                                            let el = w
                                                .create_element(tag)
                                                .with_attribute(("message", t.status.as_str()));
                                            match (&t.excerpt, tag) {
                                                (Some(e), "failure" | "error") => {
                                                    el.write_text_content(BytesText::new(
                                                        &xml_safe(e),
                                                    ))?;
                                                }
                                                _ => {
                                                    el.write_empty()?;
                                                }
                                            }
                                            Ok(())
                                        })?;
                                    }
                                }
                            }
                            Ok(())
                        })?;
                }
                Ok(())
            });
        let _ = result;
        String::from_utf8(w.into_inner()).expect("the writer writes UTF-8") + "\n"
    }
}

/// Text XML 1.0 can hold: control characters other than tab, newline and
/// carriage return (ANSI colours in a console log) are dropped.
fn xml_safe(s: &str) -> String {
    s.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{sample_test_spec, JobKind};

    fn job(id: i64, state: JobState) -> Job {
        let mut j = crate::model::sample_job(
            id,
            JobKind::Test,
            sample_test_spec("maestro:1", &["ltp-smoke"]),
        );
        j.uid = Some(format!("uid{id}"));
        j.state = state;
        j.summary = "qemu-riscv64: ltp-smoke".into();
        j
    }

    fn doc(statuses: &[(&str, &str)]) -> String {
        let tests: Vec<Value> = statuses
            .iter()
            .map(|(p, s)| json!({"id": format!("k:{p}"), "origin": "k", "build_id": "m:1", "path": p, "status": s, "log_excerpt": "oops\u{1b}[31m"}))
            .collect();
        json!({"version": {"major": 5, "minor": 3}, "tests": tests}).to_string()
    }

    fn summary(outcomes: Vec<JobOutcome>) -> Summary {
        Summary {
            outcomes,
            ..Summary::default()
        }
    }

    #[test]
    fn exit_statuses_follow_the_rules() {
        let pass = JobOutcome::of(
            job(1, JobState::Completed),
            Some(&doc(&[("boot", "PASS"), ("ltp.smoke", "SKIP")])),
        );
        let fail = JobOutcome::of(
            job(2, JobState::Completed),
            Some(&doc(&[("boot", "PASS"), ("ltp.smoke", "FAIL")])),
        );
        let miss = JobOutcome::of(job(3, JobState::Completed), Some(&doc(&[("boot", "MISS")])));
        let refused = JobOutcome::of(job(4, JobState::Failed), None);
        let unknown = JobOutcome::of(job(5, JobState::Unknown), None);
        assert_eq!(summary(vec![pass.clone()]).exit_status(false), 0);
        assert_eq!(
            summary(vec![pass.clone(), fail.clone(), miss.clone()]).exit_status(true),
            1
        );
        assert_eq!(
            summary(vec![pass.clone(), miss.clone()]).exit_status(false),
            3
        );
        assert_eq!(summary(vec![pass.clone(), miss]).exit_status(true), 125);
        assert_eq!(summary(vec![refused]).exit_status(false), 3);
        assert_eq!(summary(vec![unknown]).exit_status(false), 3);
        let mut s = summary(vec![pass, fail]);
        s.timed_out = true;
        assert_eq!(s.exit_status(false), 124);
    }

    #[test]
    fn the_summary_lists_what_did_not_pass() {
        let fail = JobOutcome::of(
            job(2, JobState::Completed),
            Some(&doc(&[("boot", "PASS"), ("ltp.smoke", "FAIL")])),
        );
        let s = summary(vec![fail]);
        let text = s.human();
        assert!(
            text.contains("job 2 test uid2 (qemu-riscv64: ltp-smoke): FAIL"),
            "{text}"
        );
        assert!(text.contains("  FAIL   ltp.smoke"), "{text}");
        assert!(!text.contains("  PASS"), "{text}");
        let v = s.json(false);
        assert_eq!(v["counts"]["FAIL"], 1);
        assert_eq!(v["failing"][0]["path"], "ltp.smoke");
        assert_eq!(v["exit_status"], 1);
    }

    #[test]
    fn junit_is_well_formed_and_carries_the_excerpt() {
        let fail = JobOutcome::of(
            job(2, JobState::Completed),
            Some(&doc(&[("boot", "PASS"), ("ltp.smoke", "FAIL")])),
        );
        let refused = JobOutcome::of(job(4, JobState::Failed), None);
        let xml = summary(vec![fail, refused]).junit();
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut names = Vec::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                quick_xml::events::Event::Eof => break,
                quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                    names.push(e.name().as_ref().to_string())
                }
                _ => {}
            }
        }
        assert_eq!(names.iter().filter(|n| *n == "testsuite").count(), 2);
        assert_eq!(names.iter().filter(|n| *n == "testcase").count(), 3);
        assert!(names.contains(&"failure".to_string()) && names.contains(&"error".to_string()));
        assert!(xml.contains("oops[31m") && !xml.contains('\u{1b}'), "{xml}");
    }
}
