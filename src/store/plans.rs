//! Plan rows: a runner's plan is recorded before the request that creates
//! it, completed with the runner's uid, and finished by its callback.

use super::sql::{args, DbErr, Optional, Row};

use super::stamp::Stamp;
use super::{classify, Batch, Db, Store, StoreError};
use crate::model::{JobState, PlanRecord, PlanState};

/// The columns of a plan row, with its job counts. `?` placeholders stay
/// free for the caller's WHERE clause, so the states a done job is in are
/// in the text.
static SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let done: Vec<JobState> = JobState::ALL
        .into_iter()
        .filter(|s| s.reported() || *s == JobState::Failed)
        .collect();
    format!(
        "SELECT p.*,
            (SELECT count(*) FROM jobs j WHERE j.runner = p.runner AND j.plan = p.uid) AS jobs,
            (SELECT count(*) FROM jobs j WHERE j.runner = p.runner AND j.plan = p.uid
                AND j.state IN ({})) AS jobs_done
         FROM plans p",
        super::sql_list(&done)
    )
});

impl Db<'_> {
    fn plan(
        &self,
        filter: &str,
        args: &[&dyn super::sql::Arg],
    ) -> Result<Option<PlanRecord>, StoreError> {
        self.conn
            .query_row(&format!("{} {filter}", *SELECT), args, plan_row)
            .optional()
            .map_err(|e| self.fail(e))?
            .map(|raw| raw.into_plan(self))
            .transpose()
    }

    /// The plan with this runner uid, or this kbridge id.
    pub fn find_plan(&self, key: &str) -> Result<Option<PlanRecord>, StoreError> {
        if let Some(p) = self.plan("WHERE p.uid = ?1 ORDER BY p.id DESC LIMIT 1", args![key])? {
            return Ok(Some(p));
        }
        match key.parse::<i64>() {
            Ok(id) => self.plan("WHERE p.id = ?1", args![id]),
            Err(_) => Ok(None),
        }
    }

    /// The plan whose callback carries this token (compared again, in
    /// constant time, by the caller).
    pub fn plan_by_token(
        &self,
        runner: &str,
        token: &str,
    ) -> Result<Option<PlanRecord>, StoreError> {
        self.plan(
            "WHERE p.callback_token = ?2 AND p.runner = ?1 ORDER BY p.id DESC LIMIT 1",
            args![runner, token],
        )
    }

    /// Plans newest first.
    pub fn plans(&self, limit: Option<u32>) -> Result<Vec<PlanRecord>, StoreError> {
        self.conn
            .query_map(
                &format!("{} ORDER BY p.id DESC LIMIT ?1", *SELECT),
                args![self.limit(limit)],
                plan_row,
            )
            .map_err(|e| self.fail(e))?
            .into_iter()
            .map(|r| r.into_plan(self))
            .collect()
    }
}

impl Batch<'_> {
    /// Records that the plan's callback came, what it said, and makes the
    /// plan's unfinished jobs due for a poll now: their own callbacks may
    /// have been lost, and the plan's says they are all done. Returns how
    /// many jobs that was.
    pub fn finish_plan(
        &self,
        plan: &PlanRecord,
        uid: Option<&str>,
        report: &serde_json::Value,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let now = Stamp::now();
        self.conn()
            .execute(
                "UPDATE plans SET state = ?2, report = ?3, finished_at = ?4, updated_at = ?4,
                     uid = coalesce(uid, ?5), detail = NULL
                 WHERE id = ?1",
                args![
                    plan.id,
                    PlanState::Finished.as_str(),
                    report.to_string(),
                    now,
                    uid
                ],
            )
            .map_err(|e| self.fail(e))?;
        let Some(uid) = plan.uid.as_deref().or(uid) else {
            return Ok(0);
        };
        self.conn()
            .execute(
                "UPDATE jobs SET next_poll_ms = ?4
                 WHERE runner = ?1 AND plan = ?2 AND state = ?3",
                args![plan.runner, uid, JobState::Submitted.as_str(), now_ms],
            )
            .map_err(|e| self.fail(e))
    }
}

impl Store {
    /// Records a plan about to be created, in a transaction of its own.
    pub fn insert_plan(
        &mut self,
        runner: &str,
        name: &str,
        callback_token: Option<&str>,
    ) -> Result<i64, StoreError> {
        let now = Stamp::now();
        self.conn()
            .query_row(
                "INSERT INTO plans (runner, name, state, callback_token, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 RETURNING id",
                args![
                    runner,
                    name,
                    PlanState::Submitting.as_str(),
                    callback_token,
                    now
                ],
                |r| r.get(0),
            )
            .map_err(|e| classify(&self.at, e))
    }

    /// Completes a plan's record: its uid once created, or why it was not.
    pub fn mark_plan(
        &mut self,
        id: i64,
        uid: Option<&str>,
        state: PlanState,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE plans SET uid = coalesce(?2, uid), detail = ?4, updated_at = ?5,
                     -- The plan's callback may already have finished it.
                     state = CASE WHEN state = ?6 THEN ?3 ELSE state END
                 WHERE id = ?1",
                args![
                    id,
                    uid,
                    state.as_str(),
                    detail.map(|d| crate::secrets::redact(d).into_owned()),
                    Stamp::now(),
                    PlanState::Submitting.as_str(),
                ],
            )
            .map_err(|e| classify(&self.at, e))?;
        Ok(())
    }

    /// Records that the runner was asked to cancel the plan.
    pub fn mark_plan_canceled(&mut self, id: i64) -> Result<(), StoreError> {
        let now = Stamp::now();
        self.conn()
            .execute(
                "UPDATE plans SET canceled_at = ?2, updated_at = ?2 WHERE id = ?1",
                args![id, now],
            )
            .map_err(|e| classify(&self.at, e))?;
        Ok(())
    }
}

/// A plan row as stored, before its columns are decoded.
struct RawPlan {
    id: i64,
    runner: String,
    uid: Option<String>,
    name: Option<String>,
    state: String,
    detail: Option<String>,
    callback_token: Option<String>,
    report: Option<String>,
    created_at: String,
    finished_at: Option<String>,
    canceled_at: Option<String>,
    jobs: i64,
    jobs_done: i64,
}

fn plan_row(row: &Row<'_>) -> Result<RawPlan, DbErr> {
    Ok(RawPlan {
        id: row.get("id")?,
        runner: row.get("runner")?,
        uid: row.get("uid")?,
        name: row.get("name")?,
        state: row.get("state")?,
        detail: row.get("detail")?,
        callback_token: row.get("callback_token")?,
        report: row.get("report")?,
        created_at: Stamp::text(row.get("created_at")?),
        finished_at: super::stamp::text_opt(row.get("finished_at")?),
        canceled_at: super::stamp::text_opt(row.get("canceled_at")?),
        jobs: row.get("jobs")?,
        jobs_done: row.get("jobs_done")?,
    })
}

impl RawPlan {
    fn into_plan(self, db: &Db<'_>) -> Result<PlanRecord, StoreError> {
        let what = format!("plan {}", self.id);
        Ok(PlanRecord {
            state: PlanState::parse(&self.state)
                .ok_or_else(|| db.corrupt(what.clone(), format!("state '{}'", self.state)))?,
            report: self
                .report
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| db.corrupt(what.clone(), format!("report: {e}")))?,
            id: self.id,
            runner: self.runner,
            uid: self.uid,
            name: self.name,
            detail: self.detail,
            jobs: self.jobs,
            jobs_done: self.jobs_done,
            callback_token: self.callback_token,
            created_at: self.created_at,
            finished_at: self.finished_at,
            canceled_at: self.canceled_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "2Zk00052rdUGExAcikZAlwCOacI";

    #[test]
    fn a_job_is_done_once_reported_on_or_never_created() {
        for state in JobState::ALL {
            let done = state.reported() || state == JobState::Failed;
            assert_eq!(
                SELECT.contains(&format!("'{state}'")),
                done,
                "{state} in the done count"
            );
        }
    }

    #[test]
    fn a_plan_is_recorded_completed_and_finished_once_known() {
        let mut store = Store::open_in_memory().unwrap();
        let id = store.insert_plan("tuxsuite", "smoke", Some("tok")).unwrap();
        let p = store
            .read()
            .plan_by_token("tuxsuite", "tok")
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.id, p.state, p.uid.as_deref()),
            (id, PlanState::Submitting, None)
        );
        assert!(store.read().plan_by_token("lava", "tok").unwrap().is_none());

        store
            .mark_plan(id, Some(UID), PlanState::Submitted, None)
            .unwrap();
        let p = store.read().find_plan(UID).unwrap().unwrap();
        assert_eq!((p.state, p.jobs, p.jobs_done), (PlanState::Submitted, 0, 0));
        assert_eq!(
            store.read().find_plan(&id.to_string()).unwrap().unwrap().id,
            id
        );
        assert!(store.read().find_plan("nope").unwrap().is_none());

        let batch = store.batch().unwrap();
        batch
            .finish_plan(&p, None, &serde_json::json!({"tests": {"pass": 2}}), 0)
            .unwrap();
        batch.commit().unwrap();
        let p = store.read().plans(None).unwrap().remove(0);
        assert_eq!(p.state, PlanState::Finished);
        assert!(p.finished_at.is_some());
        assert_eq!(p.report.unwrap()["tests"]["pass"], 2);
        // A late answer to the create request does not undo the callback.
        store
            .mark_plan(id, Some(UID), PlanState::Submitted, None)
            .unwrap();
        let p = store.read().find_plan(&id.to_string()).unwrap().unwrap();
        assert_eq!(p.state, PlanState::Finished);
        let shown = serde_json::to_value(&p).unwrap();
        assert_eq!(shown["callback_token"], "<redacted>");
    }
}
