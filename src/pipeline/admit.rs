//! Matching an admitted item to its job, and deciding what may be kept.
//!
//! How much a callback can be trusted before its job is known depends on
//! the runner ([`CallbackAuth`]): a signed callback is genuine on its own,
//! so one for a job kbridge does not know yet is kept as unmatched; a
//! token-only callback is genuine only if its token is a known job's, so
//! one whose token matches nothing is refused and nothing of it is kept.

use subtle::ConstantTimeEq;

use crate::model::{check_uid, Callback, Job, JobKind, PlanRecord};
use crate::runner::{CallbackAuth, ParseError, Runner};
use crate::store::{Db, StoreError};

/// An authenticated callback on its way into the inbox.
#[derive(Debug)]
pub struct Incoming {
    pub runner: &'static str,
    pub kind: JobKind,
    /// The headers kept with it, as a JSON object.
    pub headers: String,
    /// The per-job token it carried.
    pub token: Option<String>,
    /// What is stored of the body ([`Runner::stored_body`]).
    pub body: Vec<u8>,
    /// What the runner verified (or [`crate::runner::UNVERIFIED`]).
    pub verified_as: &'static str,
    /// What the parsed body says about which job it reports on.
    pub parsed: Result<Matching, ParseError>,
}

/// What matching a callback to its job needs of its parsed body. The rest
/// of the report is dropped where it was parsed: the writer, which every
/// callback passes through, never spends time on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matching {
    /// The runner's uid for the job, when the body says.
    pub uid: Option<String>,
    /// What the report names its job by ([`Callback::names`]).
    pub subject: Option<String>,
}

impl Matching {
    pub fn of(cb: &Callback) -> Matching {
        Matching {
            subject: cb.names().map(str::to_string),
            uid: cb.uid.clone(),
        }
    }
}

/// Where an item belongs.
#[derive(Debug)]
pub enum Admission {
    Matched(Job),
    /// For a job kbridge does not know (yet); only signed callbacks get
    /// here.
    Unmatched,
    Duplicate(Job),
    Rejected(String),
    Invalid(String),
}

/// Matches a parsed callback to its job.
///
/// Signed callbacks are matched by the runner's uid, else by the per-job
/// token (the callback can race the schedule command's final write).
/// Token-only callbacks are matched by token alone. Either way a job that
/// has a token must be sent exactly that token (compared in constant time).
pub fn admit(
    db: Db<'_>,
    runner_code: &str,
    runner: &dyn Runner,
    kind: JobKind,
    callback: &Matching,
    token: Option<&str>,
) -> Result<Admission, StoreError> {
    if let Some(uid) = &callback.uid {
        if let Err(why) = check_uid(uid) {
            return Ok(Admission::Invalid(why.to_string()));
        }
    }
    let job = match runner.protocol().auth {
        CallbackAuth::Signed => {
            let Some(uid) = callback.uid.as_deref() else {
                return Ok(Admission::Invalid(
                    "the callback does not say which job it reports on".into(),
                ));
            };
            let job = match db.job_by_uid(runner_code, uid)? {
                Some(job) => Some(job),
                None => match token {
                    Some(t) => db.job_by_token(runner_code, t)?,
                    None => None,
                },
            };
            match job {
                Some(job) => job,
                None => return Ok(Admission::Unmatched),
            }
        }
        CallbackAuth::TokenOnly => {
            let Some(t) = token else {
                return Ok(Admission::Rejected(format!(
                    "{} header is missing",
                    crate::runner::CALLBACK_TOKEN_HEADER
                )));
            };
            match db.job_by_token(runner_code, t)? {
                Some(job) => job,
                None => {
                    return Ok(Admission::Rejected(format!(
                        "{} matches no job",
                        crate::runner::CALLBACK_TOKEN_HEADER
                    )))
                }
            }
        }
    };
    if let Some(expected) = &job.callback_token {
        match token {
            Some(t) if bool::from(t.as_bytes().ct_eq(expected.as_bytes())) => {}
            Some(_) => {
                return Ok(Admission::Rejected(format!(
                    "{} does not match the job's token",
                    crate::runner::CALLBACK_TOKEN_HEADER
                )))
            }
            None => {
                return Ok(Admission::Rejected(format!(
                    "{} header is missing; this job was scheduled with one",
                    crate::runner::CALLBACK_TOKEN_HEADER
                )))
            }
        }
    }
    if !runner.callback_is_for(&job, callback.subject.as_deref()) {
        return Ok(Admission::Rejected(
            "the callback's uid is not the uid of the job its token belongs to".into(),
        ));
    }
    if job.kind != kind {
        return Ok(Admission::Invalid(format!(
            "callback for {} job {} sent to the {kind} route",
            job.kind, job.id
        )));
    }
    if job.state.reported() {
        return Ok(Admission::Duplicate(job));
    }
    Ok(Admission::Matched(job))
}

/// An authenticated plan callback on its way to its plan's record.
#[derive(Debug)]
pub struct IncomingPlan {
    pub runner: &'static str,
    /// The token it carried.
    pub token: Option<String>,
    pub parsed: Result<crate::runner::PlanReport, ParseError>,
}

/// Where a plan callback belongs.
#[derive(Debug)]
pub enum PlanAdmission {
    Matched(PlanRecord),
    Duplicate(PlanRecord),
    Rejected(String),
    Invalid(String),
}

/// Matches a plan callback to its plan by the token kbridge gave the
/// plan (compared in constant time), and its uid to the plan's. Plans are
/// recorded before they are created, so a callback whose token matches
/// nothing is not one of kbridge's: it is refused and nothing is kept.
pub fn admit_plan(db: Db<'_>, c: &IncomingPlan) -> Result<PlanAdmission, StoreError> {
    let report = match &c.parsed {
        Ok(r) => r,
        Err(e) => return Ok(PlanAdmission::Invalid(e.to_string())),
    };
    if let Some(uid) = &report.uid {
        if let Err(why) = check_uid(uid) {
            return Ok(PlanAdmission::Invalid(why.to_string()));
        }
    }
    let header = crate::runner::CALLBACK_TOKEN_HEADER;
    let Some(token) = c.token.as_deref() else {
        return Ok(PlanAdmission::Rejected(format!(
            "{header} header is missing"
        )));
    };
    let plan = match db.plan_by_token(c.runner, token)? {
        Some(p)
            if p.callback_token
                .as_deref()
                .is_some_and(|t| bool::from(t.as_bytes().ct_eq(token.as_bytes()))) =>
        {
            p
        }
        _ => return Ok(PlanAdmission::Rejected(format!("{header} matches no plan"))),
    };
    if let (Some(theirs), Some(ours)) = (&report.uid, &plan.uid) {
        if theirs != ours {
            return Ok(PlanAdmission::Rejected(
                "the callback's uid is not the uid of the plan its token belongs to".into(),
            ));
        }
    }
    if plan.finished_at.is_some() {
        return Ok(PlanAdmission::Duplicate(plan));
    }
    Ok(PlanAdmission::Matched(plan))
}

/// Whether a test job's build is resolvable: not one of ours, or one of
/// ours that kbridge scheduled.
pub fn build_known(db: Db<'_>, origin: &str, job: &Job) -> Result<bool, StoreError> {
    match job
        .build_id
        .as_deref()
        .and_then(|b| b.strip_prefix(origin)?.strip_prefix(':'))
    {
        Some(uid) if job.kind != JobKind::Build => db.build_known(uid),
        _ => Ok(true),
    }
}
