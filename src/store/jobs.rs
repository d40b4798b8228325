//! Job rows: recorded before a request is sent, completed with the
//! runner's answer, moved on by the pipeline.

use super::sql::{args, DbErr, Optional, Row};

use super::stamp::Stamp;
use super::{Batch, Db, Store, StoreError};
use crate::model::{InboxStatus, Job, JobKind, JobSpec, JobState, OutboxState};

/// A job about to be submitted: everything known before the runner
/// answers.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub runner: &'a str,
    pub spec: &'a JobSpec,
    pub request: &'a serde_json::Value,
    pub callback_url: Option<&'a str>,
    pub callback_token: Option<&'a str>,
    /// The build job a test waits for.
    pub after_job: Option<i64>,
    /// The runner's plan the job belongs to.
    pub plan: Option<&'a str>,
}

/// What the store holds, in numbers; see [`Db::figures`].
pub type Figures = crate::metrics::StoreFigures;

/// Where a job the poller may ask about stands in its poll schedule.
#[derive(Debug, Clone)]
pub struct PollSlot {
    pub job_id: i64,
    pub runner: String,
    /// When it is due next; `None` before its first poll.
    pub next_poll_ms: Option<i64>,
    pub scheduled_at: String,
    /// Whether its runner was given a callback URL.
    pub has_callback: bool,
}

/// Which jobs `list` returns.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub kind: Option<JobKind>,
    pub state: Option<JobState>,
    pub limit: Option<u32>,
    /// Only the jobs of this runner plan.
    pub plan: Option<String>,
}

impl Db<'_> {
    /// Runs a query that returns job rows.
    fn jobs(&self, sql: &str, args: &[&dyn super::sql::Arg]) -> Result<Vec<Job>, StoreError> {
        self.conn
            .query_map(sql, args, raw_job)
            .map_err(|e| self.fail(e))?
            .into_iter()
            .map(|r| r.into_job(self))
            .collect()
    }

    /// Runs a query that returns at most one job row.
    fn job(&self, sql: &str, args: &[&dyn super::sql::Arg]) -> Result<Option<Job>, StoreError> {
        let row = self
            .conn
            .query_row(sql, args, raw_job)
            .optional()
            .map_err(|e| self.fail(e))?;
        row.map(|r| r.into_job(self)).transpose()
    }

    /// Finds a job by kbridge's id or by the runner's uid.
    pub fn find(&self, key: &str) -> Result<Option<Job>, StoreError> {
        let by_id = key.parse::<i64>().ok();
        self.job(
            "SELECT * FROM jobs WHERE id = ?1 OR uid = ?2 ORDER BY (id = ?1) DESC, id DESC LIMIT 1",
            args![by_id, key],
        )
    }

    /// A job by kbridge's id.
    pub fn job_by_id(&self, id: i64) -> Result<Option<Job>, StoreError> {
        self.job("SELECT * FROM jobs WHERE id = ?1", args![id])
    }

    /// These jobs, in the order given (missing ones left out), read in one
    /// pass.
    pub fn jobs_by_ids(&self, ids: &[i64]) -> Result<Vec<Job>, StoreError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        // One placeholder per id: both engines take a list that way.
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("?{i}")).collect();
        let values: Vec<&dyn super::sql::Arg> =
            ids.iter().map(|id| id as &dyn super::sql::Arg).collect();
        let mut by_id: std::collections::HashMap<i64, Job> = self
            .jobs(
                &format!("SELECT * FROM jobs WHERE id IN ({})", marks.join(", ")),
                &values,
            )?
            .into_iter()
            .map(|j| (j.id, j))
            .collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// A job by its runner and uid.
    pub fn job_by_uid(&self, runner: &str, uid: &str) -> Result<Option<Job>, StoreError> {
        self.job(
            "SELECT * FROM jobs WHERE runner = ?1 AND uid = ?2 ORDER BY id DESC LIMIT 1",
            args![runner, uid],
        )
    }

    /// A job by its runner and callback token.
    pub fn job_by_token(&self, runner: &str, token: &str) -> Result<Option<Job>, StoreError> {
        self.job(
            "SELECT * FROM jobs WHERE runner = ?1 AND callback_token = ?2 ORDER BY id DESC LIMIT 1",
            args![runner, token],
        )
    }

    /// Jobs newest first.
    pub fn list(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError> {
        self.jobs(
            "SELECT * FROM jobs
             WHERE (CAST(?1 AS TEXT) IS NULL OR kind = ?1) AND (CAST(?2 AS TEXT) IS NULL OR state = ?2)
               AND (CAST(?4 AS TEXT) IS NULL OR plan = ?4)
             ORDER BY id DESC LIMIT ?3",
            args![
                filter.kind.map(JobKind::as_str),
                filter.state.map(JobState::as_str),
                self.limit(filter.limit),
                filter.plan
            ],
        )
    }

    /// Jobs of `kind` for `build_id` whose submission did not fail: the
    /// ones a new request for the same build would duplicate.
    pub fn live_jobs_for_build(
        &self,
        build_id: &str,
        kind: JobKind,
    ) -> Result<Vec<Job>, StoreError> {
        self.jobs(
            "SELECT * FROM jobs WHERE build_id = ?1 AND kind = ?2 AND state NOT IN (?3, ?4) ORDER BY id",
            args![
                build_id,
                kind.as_str(),
                JobState::Failed.as_str(),
                JobState::Canceled.as_str()
            ],
        )
    }

    /// Whether a build kbridge scheduled has this runner uid.
    pub fn build_known(&self, uid: &str) -> Result<bool, StoreError> {
        self.one(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = ?2 AND uid = ?1)",
            args![uid, JobKind::Build.as_str()],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    /// The poll schedule of the jobs the runner accepted and has not
    /// reported on that are due at `now_ms` or were never polled, oldest
    /// first. Only what deciding needs is read; [`Db::jobs_by_ids`] loads
    /// the ones that are due.
    pub fn poll_slots(&self, now_ms: i64) -> Result<Vec<PollSlot>, StoreError> {
        self.conn
            .query_map(
                "SELECT id, runner, next_poll_ms, scheduled_at, callback_url IS NOT NULL \
                 FROM jobs WHERE state = ?1 AND uid IS NOT NULL \
                 AND (next_poll_ms IS NULL OR next_poll_ms <= ?2) ORDER BY id",
                args![JobState::Submitted.as_str(), now_ms],
                |r| {
                    Ok(PollSlot {
                        job_id: r.get(0)?,
                        runner: r.get(1)?,
                        next_poll_ms: r.get(2)?,
                        scheduled_at: Stamp::text(r.get(3)?),
                        has_callback: r.get(4)?,
                    })
                },
            )
            .map_err(|e| self.fail(e))
    }

    /// The jobs of a runner's plan that polling may ask about: accepted,
    /// and not reported on.
    pub fn pollable_plan_jobs(&self, runner: &str, plan: &str) -> Result<Vec<Job>, StoreError> {
        self.jobs(
            "SELECT * FROM jobs WHERE runner = ?1 AND plan = ?2 AND state = ?3 AND uid IS NOT NULL
             ORDER BY id",
            args![runner, plan, JobState::Submitted.as_str()],
        )
    }

    /// The earliest poll scheduled after `now_ms`, among the jobs
    /// [`Db::poll_slots`] would return then.
    pub fn next_poll_after(&self, now_ms: i64) -> Result<Option<i64>, StoreError> {
        self.one(
            "SELECT min(next_poll_ms) FROM jobs WHERE state = ?1 AND uid IS NOT NULL \
             AND next_poll_ms > ?2",
            args![JobState::Submitted.as_str(), now_ms],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    /// What `/metrics` and `/readyz` say of the store: jobs by state, the
    /// backlogs, and how long the oldest overdue job has been overdue (a
    /// job given a callback URL still without a report `poll_after` after
    /// it was submitted).
    pub fn figures(&self, poll_after: std::time::Duration) -> Result<Figures, StoreError> {
        let fail = |e| self.fail(e);
        let mut jobs = Vec::new();
        let counts = self
            .conn
            .query_map(
                "SELECT state, count(*) FROM jobs GROUP BY state",
                args![],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .map_err(fail)?;
        for (state, n) in counts {
            if let Some(s) = JobState::parse(&state) {
                jobs.push((s.as_str(), n));
            }
        }
        let inbox_backlog: i64 = self
            .one(
                "SELECT count(*) FROM inbox WHERE status = ?1",
                args![InboxStatus::Pending],
                |r| r.get(0),
            )
            .map_err(fail)?;
        let outbox_backlog: i64 = self
            .one(
                "SELECT count(*) FROM outbox WHERE state = ?1",
                args![OutboxState::Pending],
                |r| r.get(0),
            )
            .map_err(fail)?;
        let cutoff = Stamp::ago(poll_after);
        let oldest: Option<Stamp> = self
            .one(
                "SELECT min(scheduled_at) FROM jobs WHERE state = ?1 AND callback_url IS NOT NULL
                 AND scheduled_at < ?2",
                args![JobState::Submitted.as_str(), cutoff],
                |r| r.get(0),
            )
            .map_err(fail)?;
        let oldest_overdue_seconds = oldest
            .map(|t| ((cutoff.0 - t.0) / 1000).max(0))
            .unwrap_or(0);
        Ok(Figures {
            jobs,
            inbox_backlog,
            outbox_backlog,
            oldest_overdue_seconds,
        })
    }

    /// How many listeners said they were alive since `since_ms`.
    pub fn live_listeners(&self, since_ms: i64) -> Result<i64, StoreError> {
        self.one(
            "SELECT count(*) FROM listeners WHERE seen_ms >= ?1",
            args![since_ms],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    /// The listeners that said they were alive since `since_ms`: who, and
    /// the address each listens on.
    pub fn listeners_alive(&self, since_ms: i64) -> Result<Vec<(String, String)>, StoreError> {
        self.conn
            .query_map(
                "SELECT id, bind FROM listeners WHERE seen_ms >= ?1 ORDER BY id",
                args![since_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.fail(e))
    }

    /// Jobs still waiting for their report: accepted by their runner, not
    /// reported on, and not given up on by polling. Plus reports still
    /// being processed.
    pub fn waiting(&self) -> Result<i64, StoreError> {
        self.one(
                "SELECT (SELECT count(*) FROM jobs WHERE state = ?1 AND uid IS NOT NULL AND poll_note IS NULL)
                      + (SELECT count(*) FROM inbox WHERE status = ?2)",
                args![
                    JobState::Submitted.as_str(),
                    crate::model::InboxStatus::Pending.as_str()
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))
    }
}

impl Batch<'_> {
    /// Records a job in state `submitting`, before its request is sent, and
    /// returns its id.
    /// Records the request a job is submitted with.
    pub fn set_job_request(
        &self,
        job_id: i64,
        request: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET request = ?2 WHERE id = ?1",
                args![job_id, request.to_string()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    pub fn insert_job(&self, job: &NewJob<'_>) -> Result<i64, StoreError> {
        let now = Stamp::now();
        let tests = job.spec.tests();
        let spec = serde_json::to_string(job.spec.recorded().as_ref())
            .expect("a job spec always serialises");
        let test_names = serde_json::to_string(&tests.map(|t| &t.tests[..]).unwrap_or(&[]))
            .expect("a list of strings always serialises");
        self.conn()
            .query_row(
                "INSERT INTO jobs (runner, kind, state, spec, request, build_id, collection,
                                   tests, device, callback_url, callback_token,
                                   scheduled_at, updated_at, after_job, plan)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14)
                 RETURNING id",
                args![
                    job.runner,
                    job.spec.kind().as_str(),
                    JobState::Submitting.as_str(),
                    spec,
                    job.request.to_string(),
                    tests.map(|t| &t.build_id),
                    tests.and_then(|t| t.collection.as_ref()),
                    test_names,
                    tests.map(|t| &t.device),
                    job.callback_url,
                    job.callback_token,
                    now,
                    job.after_job,
                    job.plan,
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// Records the device a job runs on when it is not the one asked for:
    /// the one its own definition names, or the one the runner ran it on.
    pub fn set_job_device(&self, job_id: i64, device: &str) -> Result<(), StoreError> {
        let set_spec = match self.conn().dialect() {
            super::Dialect::Sqlite => "json_set(spec, '$.device', ?2)",
            super::Dialect::Postgres => {
                "jsonb_set(spec::jsonb, '{device}', to_jsonb(?2::text))::text"
            }
        };
        self.conn()
            .execute(
                &format!(
                    "UPDATE jobs SET device = ?2, spec = {set_spec}
                     WHERE id = ?1 AND kind != ?3 AND device IS DISTINCT FROM ?2"
                ),
                args![job_id, device, JobKind::Build],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records the device the runner says it ran a job on.
    pub fn set_actual_device(&self, job_id: i64, device: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET actual_device = ?2 WHERE id = ?1",
                args![job_id, device],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records what the runner last said of a job.
    pub fn set_job_status(
        &self,
        job_id: i64,
        status: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET status = ?2, status_at = ?3 WHERE id = ?1",
                args![job_id, status.to_string(), Stamp::now()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records the worst KCIDB status of a job's document.
    pub fn set_job_result(
        &self,
        job_id: i64,
        result: crate::model::Status,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET result = ?2 WHERE id = ?1",
                args![job_id, result.as_str()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records a poll and when the next one is due.
    pub fn schedule_poll(&self, job_id: i64, next_ms: i64) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET next_poll_ms = ?2, polls = polls + 1 WHERE id = ?1",
                args![job_id, next_ms],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records what polling a job found worth saying once.
    pub fn set_poll_note(&self, job_id: i64, note: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET poll_note = ?2 WHERE id = ?1",
                args![job_id, crate::secrets::redact(note)],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Says that a listener is alive; `kbridge wait` trusts callbacks
    /// while one is.
    pub fn heartbeat(&self, id: &str, bind: &str, now_ms: i64) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO listeners (id, bind, seen_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET seen_ms = excluded.seen_ms",
                args![id, bind, now_ms],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// A listener that stopped.
    pub fn forget_listener(&self, id: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM listeners WHERE id = ?1", args![id])
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records the runner's uid on a job matched by token before its
    /// schedule command finished.
    pub fn set_job_uid(&self, job_id: i64, uid: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET uid = ?2 WHERE id = ?1 AND uid IS NULL",
                args![job_id, uid],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Puts a job whose report turned out not to be the verdict (a notice
    /// that came early, or one whose fetching gave up) back among the jobs
    /// waiting for their runner: it is polled, and its next callback is
    /// acted on. A job already past `received` is left alone.
    pub fn reopen_job(&self, job_id: i64, detail: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET state = ?2, detail = ?3, updated_at = ?4 WHERE id = ?1 AND state = ?5",
                args![
                    job_id,
                    JobState::Submitted.as_str(),
                    crate::secrets::redact(detail),
                    Stamp::now(),
                    JobState::Received.as_str()
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    pub fn set_job_state(
        &self,
        job_id: i64,
        state: JobState,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET state = ?2, detail = ?3, updated_at = ?4 WHERE id = ?1",
                args![
                    job_id,
                    state.as_str(),
                    detail.map(crate::secrets::redact),
                    Stamp::now()
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }
}

impl Store {
    /// Records a job in state `submitting` in a transaction of its own.
    #[cfg(test)]
    pub fn insert_submitting(&mut self, job: &NewJob<'_>) -> Result<i64, StoreError> {
        let batch = self.batch()?;
        let id = batch.insert_job(job)?;
        batch.commit()?;
        Ok(id)
    }

    /// Completes a job the runner accepted, in a transaction of its own.
    pub fn mark_submitted(
        &mut self,
        id: i64,
        uid: &str,
        response: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let batch = self.batch()?;
        batch.mark_submitted(id, uid, response)?;
        batch.commit()
    }

    /// Records that a submission did not succeed, and why, in a
    /// transaction of its own.
    pub fn mark_unsubmitted(
        &mut self,
        id: i64,
        state: JobState,
        detail: &str,
        response: Option<&serde_json::Value>,
    ) -> Result<(), StoreError> {
        let batch = self.batch()?;
        batch.mark_unsubmitted(id, state, detail, response)?;
        batch.commit()
    }
}

impl Batch<'_> {
    /// Completes a job the runner accepted.
    pub fn mark_submitted(
        &self,
        id: i64,
        uid: &str,
        response: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET uid = ?2, response = ?4, updated_at = ?5,
                     -- A callback may already have moved the job on.
                     state = CASE WHEN state = ?6 THEN ?3 ELSE state END,
                     detail = CASE WHEN state = ?6 THEN NULL ELSE detail END
                 WHERE id = ?1",
                args![
                    id,
                    uid,
                    JobState::Submitted.as_str(),
                    response.to_string(),
                    Stamp::now(),
                    JobState::Submitting.as_str(),
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records that a submission did not succeed, and why.
    pub fn mark_unsubmitted(
        &self,
        id: i64,
        state: JobState,
        detail: &str,
        response: Option<&serde_json::Value>,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE jobs SET state = ?2, detail = ?3, response = ?4, updated_at = ?5
                 WHERE id = ?1 AND state = ?6",
                args![
                    id,
                    state.as_str(),
                    crate::secrets::redact(detail),
                    response.map(|r| crate::secrets::redact(&r.to_string()).into_owned()),
                    Stamp::now(),
                    JobState::Submitting.as_str(),
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }
}

/// A row as stored, before its JSON columns are decoded.
pub(super) struct RawJob {
    id: i64,
    runner: String,
    kind: String,
    uid: Option<String>,
    state: String,
    detail: Option<String>,
    spec: String,
    request: String,
    response: Option<String>,
    build_id: Option<String>,
    collection: Option<String>,
    tests: String,
    device: Option<String>,
    callback_url: Option<String>,
    callback_token: Option<String>,
    scheduled_at: String,
    updated_at: String,
    status: Option<String>,
    status_at: Option<String>,
    result: Option<String>,
    after_job: Option<i64>,
    poll_note: Option<String>,
    plan: Option<String>,
    actual_device: Option<String>,
}

pub(super) fn raw_job(row: &Row<'_>) -> Result<RawJob, DbErr> {
    Ok(RawJob {
        id: row.get("id")?,
        runner: row.get("runner")?,
        kind: row.get("kind")?,
        uid: row.get("uid")?,
        state: row.get("state")?,
        detail: row.get("detail")?,
        spec: row.get("spec")?,
        request: row.get("request")?,
        response: row.get("response")?,
        build_id: row.get("build_id")?,
        collection: row.get("collection")?,
        tests: row.get("tests")?,
        device: row.get("device")?,
        callback_url: row.get("callback_url")?,
        callback_token: row.get("callback_token")?,
        scheduled_at: Stamp::text(row.get("scheduled_at")?),
        updated_at: Stamp::text(row.get("updated_at")?),
        status: row.get("status")?,
        status_at: super::stamp::text_opt(row.get("status_at")?),
        result: row.get("result")?,
        after_job: row.get("after_job")?,
        poll_note: row.get("poll_note")?,
        plan: row.get("plan")?,
        actual_device: row.get("actual_device")?,
    })
}

impl RawJob {
    pub(super) fn into_job(self, db: &Db<'_>) -> Result<Job, StoreError> {
        let what = format!("job {}", self.id);
        let corrupt = |message: String| db.corrupt(what.clone(), message);
        let json = |field: &str, s: &str| {
            serde_json::from_str::<serde_json::Value>(s)
                .map_err(|e| corrupt(format!("{field}: {e}")))
        };
        let spec: JobSpec =
            serde_json::from_str(&self.spec).map_err(|e| corrupt(format!("spec: {e}")))?;
        Ok(Job {
            id: self.id,
            kind: JobKind::parse(&self.kind)
                .ok_or_else(|| corrupt(format!("kind '{}'", self.kind)))?,
            state: JobState::parse(&self.state)
                .ok_or_else(|| corrupt(format!("state '{}'", self.state)))?,
            summary: spec.summary(),
            spec,
            request: json("request", &self.request)?,
            response: self
                .response
                .as_deref()
                .map(|r| json("response", r))
                .transpose()?,
            status: self
                .status
                .as_deref()
                .map(|r| json("status", r))
                .transpose()?,
            status_at: self.status_at,
            result: self
                .result
                .as_deref()
                .map(|r| {
                    crate::model::Status::parse(r).ok_or_else(|| corrupt(format!("result '{r}'")))
                })
                .transpose()?,
            after_job: self.after_job,
            poll_note: self.poll_note,
            plan: self.plan,
            tests: serde_json::from_str(&self.tests).map_err(|e| corrupt(format!("tests: {e}")))?,
            runner: self.runner,
            uid: self.uid,
            detail: self.detail,
            build_id: self.build_id,
            collection: self.collection,
            device: self.device,
            actual_device: self.actual_device,
            callback_url: self.callback_url,
            callback_token: self.callback_token,
            scheduled_at: self.scheduled_at,
            updated_at: self.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_spec(build_id: &str, tests: &[&str]) -> JobSpec {
        JobSpec::Test(crate::model::sample_test_spec(build_id, tests))
    }

    fn insert(store: &mut Store, spec: &JobSpec) -> i64 {
        store
            .insert_submitting(&NewJob {
                runner: "tuxsuite",
                spec,
                request: &serde_json::json!({"tests": ["x"]}),
                callback_url: None,
                callback_token: Some("tok"),
                after_job: None,
                plan: None,
            })
            .unwrap()
    }

    #[test]
    fn job_lifecycle() {
        let mut store = Store::open_in_memory().unwrap();
        let spec = test_spec("maestro:1", &["ltp-smoke"]);
        let id = insert(&mut store, &spec);
        let job = store.read().find(&id.to_string()).unwrap().unwrap();
        assert_eq!(job.state, JobState::Submitting);
        assert_eq!(job.tests, vec!["ltp-smoke"]);
        assert_eq!(job.callback_token.as_deref(), Some("tok"));

        store
            .mark_submitted(
                id,
                "2MBYa8FhoBHkRCX2BMMPusjuClf",
                &serde_json::json!({"uid": 1}),
            )
            .unwrap();
        let job = store
            .read()
            .find("2MBYa8FhoBHkRCX2BMMPusjuClf")
            .unwrap()
            .unwrap();
        assert_eq!(job.id, id);
        assert_eq!(job.state, JobState::Submitted);
        assert!(store.read().find("nope").unwrap().is_none());
        assert_eq!(
            store
                .read()
                .job_by_token("tuxsuite", "tok")
                .unwrap()
                .unwrap()
                .id,
            id
        );
    }

    #[test]
    fn failed_jobs_do_not_count_as_live() {
        let mut store = Store::open_in_memory().unwrap();
        let a = insert(&mut store, &test_spec("maestro:1", &["ltp-smoke"]));
        let b = insert(&mut store, &test_spec("maestro:1", &["ltp-fsx"]));
        insert(&mut store, &test_spec("maestro:2", &["ltp-fsx"]));
        store
            .mark_unsubmitted(a, JobState::Failed, "refused", None)
            .unwrap();
        let live = store
            .read()
            .live_jobs_for_build("maestro:1", JobKind::Test)
            .unwrap();
        assert_eq!(live.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b]);
        assert!(store
            .read()
            .live_jobs_for_build("maestro:1", JobKind::Boot)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn list_filters_and_orders_newest_first() {
        let mut store = Store::open_in_memory().unwrap();
        let a = insert(&mut store, &test_spec("maestro:1", &["a"]));
        let b = insert(&mut store, &test_spec("maestro:1", &["b"]));
        store
            .mark_unsubmitted(b, JobState::Unknown, "timeout", None)
            .unwrap();
        let all = store.read().list(&JobFilter::default()).unwrap();
        assert_eq!(all.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b, a]);
        let unknown = store
            .read()
            .list(&JobFilter {
                state: Some(JobState::Unknown),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(unknown.len(), 1);
        let limited = store
            .read()
            .list(&JobFilter {
                limit: Some(1),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(limited.len(), 1);
    }

    #[test]
    fn a_corrupt_row_is_reported_not_hidden() {
        let mut store = Store::open_in_memory().unwrap();
        let id = insert(&mut store, &test_spec("maestro:1", &["a"]));
        store
            .conn()
            .execute("UPDATE jobs SET request = '{oops'", args![])
            .unwrap();
        let err = store.read().job_by_id(id).unwrap_err().to_string();
        assert!(
            err.contains(&format!("stored job {id} is unreadable: request")),
            "{err}"
        );
    }
}
