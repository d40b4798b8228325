//! The outbox: every KCIDB document's delivery state, and the requests
//! that carried documents to KCIDB. Nothing here is ever deleted.
//!
//! Rows are claimed in a write transaction before they are sent, so two
//! processes delivering at once never send the same document; a claim left
//! by a killed process expires.

use super::sql::{args, Optional};

use super::stamp::Stamp;
use super::{Batch, Db, StoreError};
use crate::model::{OutboxEntry, OutboxState};

/// A document on its way into the outbox.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    /// What identifies the document across reprocessing: `job:{id}`,
    /// `report:{source}:{uid}`, `file:{sha256}`.
    pub key: &'a str,
    pub job_id: Option<i64>,
    pub label: &'a str,
    pub document: &'a str,
    /// The build ids the document defines.
    pub builds: &'a [String],
    /// kbridge's own build ids its tests refer to: it is sent after them.
    pub needs_builds: &'a [String],
}

/// What queueing a document did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    /// A new row.
    New(i64),
    /// The row's document was not sent yet and is replaced.
    Replaced(i64),
    /// The same bytes were already there.
    Unchanged(i64),
    /// The document was already sent (or is being sent) with other bytes:
    /// those are kept, and the row says so.
    ChangedAfterSubmission(i64),
}

/// An outbox row as queueing finds it: id, state, document, claim owner,
/// claim expiry.
type Existing = (i64, String, String, Option<String>, Option<i64>);

/// An outbox row ready to send.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub label: String,
    pub document: String,
    pub needs_builds: Vec<String>,
    pub builds: Vec<String>,
    pub attempts: i64,
    pub first_attempt_ms: Option<i64>,
}

/// A submission KCIDB accepted whose ingestion is not known to be final.
#[derive(Debug, Clone)]
pub struct Unchecked {
    pub id: i64,
    pub server_id: String,
}

/// A request that carried documents, as `kbridge outbox check` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SubmissionRow {
    pub id: i64,
    pub sent_at: String,
    pub bytes: i64,
    pub documents: i64,
    pub status: Option<i64>,
    pub server_id: Option<String>,
    pub ingest: Option<String>,
    pub ingest_message: Option<String>,
    pub checked_at: Option<String>,
}

fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

impl Db<'_> {
    /// Documents as `kbridge outbox` lists them, oldest first.
    pub fn outbox(&self, state: Option<OutboxState>) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = self
            .conn
            .query_map(
                "SELECT o.id, o.label, o.job_id, o.state, o.attempts, o.reason, o.changed,
                        s.server_id, s.ingest, CAST(length(o.document) AS BIGINT), o.created_at, o.updated_at, o.created_ms
                 FROM outbox o LEFT JOIN submissions s ON s.id = o.submission_id
                 WHERE (CAST(?1 AS TEXT) IS NULL OR o.state = ?1) ORDER BY o.id",
                args![state.map(OutboxState::as_str)], |r| {
                Ok((
                    OutboxEntry {
                        id: r.get(0)?,
                        label: r.get(1)?,
                        job_id: r.get(2)?,
                        state: OutboxState::Pending,
                        attempts: r.get(4)?,
                        reason: r.get(5)?,
                        changed: r.get(6)?,
                        submission: r.get(7)?,
                        ingest: r.get(8)?,
                        bytes: r.get::<_, i64>(9)? as usize,
                        created_at: Stamp::text(r.get(10)?),
                        updated_at: Stamp::text(r.get(11)?),
                        created_ms: r.get(12)?,
                    },
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.fail(e))?;
        rows.into_iter()
            .map(|(mut entry, state)| {
                entry.state = OutboxState::parse(&state).ok_or_else(|| {
                    self.corrupt(
                        format!("outbox row {}", entry.id),
                        format!("state '{state}'"),
                    )
                })?;
                Ok(entry)
            })
            .collect()
    }

    /// Pending documents after row `after`, oldest first, that nobody else
    /// has claimed; with `due_only`, only those whose retry is due at
    /// `now_ms`.
    pub fn outbox_pending(
        &self,
        now_ms: i64,
        due_only: bool,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Pending>, StoreError> {
        let rows = self
            .conn
            .query_map(
                "SELECT id, label, document, needs_builds, builds, attempts, first_attempt_ms FROM outbox
                 WHERE state = ?1 AND id > ?5 AND (claimed_by IS NULL OR claim_expires_ms < ?2)
                   AND (NOT ?3 OR next_attempt_ms IS NULL OR next_attempt_ms <= ?2)
                 ORDER BY id LIMIT ?4",
                args![
                    OutboxState::Pending.as_str(),
                    now_ms,
                    due_only,
                    limit as i64,
                    after
                ],
                |r| {
                    Ok(Pending {
                        id: r.get(0)?,
                        label: r.get(1)?,
                        document: r.get(2)?,
                        needs_builds: json_list(&r.get::<_, String>(3)?),
                        builds: json_list(&r.get::<_, String>(4)?),
                        attempts: r.get(5)?,
                        first_attempt_ms: r.get(6)?,
                    })
                },
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows)
    }

    /// The build ids that pending documents define, with their rows.
    pub fn outbox_pending_builds(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self
            .conn
            .query_map(
                "SELECT id, builds FROM outbox WHERE state = ?1 AND builds != '[]'",
                args![OutboxState::Pending.as_str()],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for (id, builds) in rows {
            out.extend(json_list(&builds).into_iter().map(|b| (b, id)));
        }
        Ok(out)
    }

    /// Whether the outbox holds a document defining this build.
    pub fn outbox_defines(&self, build_id: &str) -> Result<bool, StoreError> {
        let sql = match self.conn.dialect() {
            super::Dialect::Sqlite => {
                "SELECT EXISTS (SELECT 1 FROM outbox, json_each(outbox.builds) b WHERE b.value = ?1)"
            }
            super::Dialect::Postgres => {
                "SELECT EXISTS (SELECT 1 FROM outbox, json_array_elements_text(outbox.builds::json) b
                                WHERE b = ?1)"
            }
        };
        self.one(sql, args![build_id], |r| r.get(0))
            .map_err(|e| self.fail(e))
    }

    /// Who holds claims that have not expired.
    pub fn outbox_claimants(&self, now_ms: i64) -> Result<Vec<String>, StoreError> {
        let rows = self
            .conn
            .query_map(
                "SELECT DISTINCT claimed_by FROM outbox WHERE claimed_by IS NOT NULL AND claim_expires_ms >= ?1",
                args![now_ms], |r| r.get::<_, String>(0))
            .map_err(|e| self.fail(e))?;
        Ok(rows)
    }

    /// How many pending documents no other process is sending now.
    pub fn outbox_unclaimed(&self, now_ms: i64, owner: &str) -> Result<i64, StoreError> {
        self.one(
            "SELECT count(*) FROM outbox WHERE state = ?1
                   AND (claimed_by IS NULL OR claimed_by = ?3 OR claim_expires_ms < ?2)",
            args![OutboxState::Pending.as_str(), now_ms, owner],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    /// How many documents are pending, and when the oldest was made.
    pub fn outbox_backlog(&self) -> Result<(i64, Option<i64>), StoreError> {
        self.one(
            "SELECT count(*), min(created_ms) FROM outbox WHERE state = ?1",
            args![OutboxState::Pending.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| self.fail(e))
    }

    /// Submissions KCIDB accepted whose ingestion may still change.
    pub fn unchecked_submissions(&self) -> Result<Vec<Unchecked>, StoreError> {
        let rows = self
            .conn
            .query_map(
                "SELECT id, server_id FROM submissions WHERE server_id IS NOT NULL
                   AND (ingest IS NULL OR ingest IN ('ready', 'inprogress')) ORDER BY id",
                args![],
                |r| {
                    Ok(Unchecked {
                        id: r.get(0)?,
                        server_id: r.get(1)?,
                    })
                },
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows)
    }

    /// Every request that carried documents and was accepted.
    pub fn submissions(&self) -> Result<Vec<SubmissionRow>, StoreError> {
        let rows = self
            .conn
            .query_map(
                "SELECT id, sent_at, bytes, documents, status, server_id, ingest, ingest_message, checked_at
                 FROM submissions WHERE server_id IS NOT NULL ORDER BY id",
                args![], |r| {
                Ok(SubmissionRow {
                    id: r.get(0)?,
                    sent_at: Stamp::text(r.get(1)?),
                    bytes: r.get(2)?,
                    documents: r.get(3)?,
                    status: r.get(4)?,
                    server_id: r.get(5)?,
                    ingest: r.get(6)?,
                    ingest_message: r.get(7)?,
                    checked_at: super::stamp::text_opt(r.get(8)?),
                })
            })
            .map_err(|e| self.fail(e))?;
        Ok(rows)
    }
}

impl Batch<'_> {
    /// Queues a document, keeping the bytes first sent: a document already
    /// submitted (or being sent) is never replaced.
    pub fn queue_document(&self, doc: &NewDocument<'_>, now_ms: i64) -> Result<Queued, StoreError> {
        let now = Stamp::now();
        let existing: Option<Existing> = self
            .conn()
            .query_row(
                "SELECT id, state, document, claimed_by, claim_expires_ms FROM outbox WHERE key = ?1",
                args![doc.key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        let builds = serde_json::to_string(doc.builds).expect("strings serialise");
        let needs = serde_json::to_string(doc.needs_builds).expect("strings serialise");
        let Some((id, state, old, claimed_by, claim_until)) = existing else {
            let id = self
                .conn()
                .query_row(
                    "INSERT INTO outbox (key, job_id, label, document, builds, needs_builds, state,
                                         created_ms, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
                     RETURNING id",
                    args![
                        doc.key,
                        doc.job_id,
                        doc.label,
                        doc.document,
                        builds,
                        needs,
                        OutboxState::Pending.as_str(),
                        now_ms,
                        now
                    ],
                    |r| r.get(0),
                )
                .map_err(|e| self.fail(e))?;
            return Ok(Queued::New(id));
        };
        if old == doc.document {
            return Ok(Queued::Unchanged(id));
        }
        let in_flight = claimed_by.is_some() && claim_until.is_some_and(|t| t >= now_ms);
        let sent = state == OutboxState::Submitted.as_str();
        if sent || in_flight {
            let note = format!(
                "changed after submission: processed again at {now} with different bytes; the bytes first sent are kept"
            );
            self.conn()
                .execute(
                    "UPDATE outbox SET changed = ?2, updated_at = ?3 WHERE id = ?1",
                    args![id, note, now],
                )
                .map_err(|e| self.fail(e))?;
            return Ok(Queued::ChangedAfterSubmission(id));
        }
        // Pending or failed: nothing was accepted yet, so the new bytes are
        // the ones to send, from a fresh start.
        self.conn()
            .execute(
                "UPDATE outbox SET document = ?2, builds = ?3, needs_builds = ?4, label = ?5, state = ?6,
                                   attempts = 0, first_attempt_ms = NULL, next_attempt_ms = NULL,
                                   reason = NULL, updated_at = ?7
                 WHERE id = ?1",
                args![id, doc.document, builds, needs, doc.label, OutboxState::Pending.as_str(), now],
            )
            .map_err(|e| self.fail(e))?;
        Ok(Queued::Replaced(id))
    }

    /// Claims rows for `owner` until `until_ms`; returns the ids it got
    /// (another process may have been first).
    pub fn claim(
        &self,
        ids: &[i64],
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut got = Vec::new();
        for &id in ids {
            let n = self
                .conn()
                .execute(
                    "UPDATE outbox SET claimed_by = ?2, claim_expires_ms = ?3
                     WHERE id = ?1 AND state = ?5 AND (claimed_by IS NULL OR claim_expires_ms < ?4)",
                    args![id, owner, until_ms, now_ms, OutboxState::Pending.as_str()],
                )
                .map_err(|e| self.fail(e))?;
            if n == 1 {
                got.push(id);
            }
        }
        Ok(got)
    }

    /// Records a request that carried documents, and returns its row.
    pub fn record_submission(
        &self,
        bytes: usize,
        documents: usize,
        status: Option<u16>,
        server_id: Option<&str>,
        message: Option<&str>,
    ) -> Result<i64, StoreError> {
        self.conn()
            .query_row(
                "INSERT INTO submissions (sent_at, bytes, documents, status, server_id, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 RETURNING id",
                args![
                    Stamp::now(),
                    bytes as i64,
                    documents as i64,
                    status.map(i64::from),
                    server_id,
                    message
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// Notes that a submission carried (part of) a document.
    pub fn carried(&self, outbox_id: i64, submission_id: i64) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO outbox_submissions (outbox_id, submission_id) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
                args![outbox_id, submission_id],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// A document KCIDB accepted.
    pub fn mark_delivered(&self, id: i64, submission_id: i64) -> Result<(), StoreError> {
        self.carried(id, submission_id)?;
        self.conn()
            .execute(
                "UPDATE outbox SET state = ?2, submission_id = ?3, claimed_by = NULL, claim_expires_ms = NULL,
                                   reason = NULL, attempts = attempts + 1, updated_at = ?4
                 WHERE id = ?1",
                args![id, OutboxState::Submitted.as_str(), submission_id, Stamp::now()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// A document that will not be sent as it is.
    pub fn mark_undeliverable(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE outbox SET state = ?2, reason = ?3, claimed_by = NULL, claim_expires_ms = NULL,
                                   updated_at = ?4
                 WHERE id = ?1",
                args![
                    id,
                    OutboxState::Failed.as_str(),
                    crate::secrets::redact(reason),
                    Stamp::now()
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// A failed attempt: the document stays pending until `next_ms`.
    pub fn deliver_later(
        &self,
        id: i64,
        now_ms: i64,
        next_ms: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, first_attempt_ms = coalesce(first_attempt_ms, ?2),
                                   next_attempt_ms = ?3, reason = ?4, claimed_by = NULL,
                                   claim_expires_ms = NULL, updated_at = ?5
                 WHERE id = ?1",
                args![
                    id,
                    now_ms,
                    next_ms,
                    crate::secrets::redact(reason),
                    Stamp::now()
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Gives claimed rows back untouched (the run stopped).
    pub fn release(&self, id: i64, reason: Option<&str>) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE outbox SET claimed_by = NULL, claim_expires_ms = NULL, reason = coalesce(?2, reason),
                                   updated_at = ?3
                 WHERE id = ?1",
                args![
                    id,
                    reason.map(crate::secrets::redact),
                    Stamp::now()
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Frees every claim an owner holds.
    pub fn release_claims_of(&self, owner: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE outbox SET claimed_by = NULL, claim_expires_ms = NULL WHERE claimed_by = ?1",
                args![owner],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Puts failed documents back in the queue: these ids, or every failed
    /// one. Returns how many.
    pub fn retry_failed(&self, ids: Option<&[i64]>) -> Result<usize, StoreError> {
        let now = Stamp::now();
        let sql = "UPDATE outbox SET state = ?2, attempts = 0, first_attempt_ms = NULL, next_attempt_ms = NULL,
                                     reason = NULL, updated_at = ?3
                   WHERE state = ?4 AND (CAST(?1 AS BIGINT) IS NULL OR id = ?1)";
        let pending = OutboxState::Pending.as_str();
        let failed = OutboxState::Failed.as_str();
        let n = match ids {
            None => self
                .conn()
                .execute(sql, args![Option::<i64>::None, pending, now, failed])
                .map_err(|e| self.fail(e))?,
            Some(ids) => {
                let mut n = 0;
                for id in ids {
                    n += self
                        .conn()
                        .execute(sql, args![id, pending, now, failed])
                        .map_err(|e| self.fail(e))?;
                }
                n
            }
        };
        Ok(n)
    }

    /// Records what KCIDB says of a submission's ingestion.
    pub fn record_ingest(
        &self,
        submission_id: i64,
        status: &str,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE submissions SET ingest = ?2, ingest_message = ?3, checked_at = ?4 WHERE id = ?1",
                args![submission_id, status, message, Stamp::now()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn doc<'a>(key: &'a str, body: &'a str) -> NewDocument<'a> {
        NewDocument {
            key,
            job_id: None,
            label: "a document",
            document: body,
            builds: &[],
            needs_builds: &[],
        }
    }

    #[test]
    fn bytes_first_sent_are_kept() {
        let mut store = Store::open_in_memory().unwrap();
        let b = store.batch().unwrap();
        let Queued::New(id) = b.queue_document(&doc("job:1", "v1"), 0).unwrap() else {
            panic!()
        };
        assert_eq!(
            b.queue_document(&doc("job:1", "v1"), 0).unwrap(),
            Queued::Unchanged(id)
        );
        assert_eq!(
            b.queue_document(&doc("job:1", "v2"), 0).unwrap(),
            Queued::Replaced(id)
        );
        let sub = b
            .record_submission(2, 1, Some(200), Some("s1"), None)
            .unwrap();
        b.mark_delivered(id, sub).unwrap();
        assert_eq!(
            b.queue_document(&doc("job:1", "v3"), 0).unwrap(),
            Queued::ChangedAfterSubmission(id)
        );
        b.commit().unwrap();
        let rows = store.read().outbox(None).unwrap();
        assert_eq!(rows[0].state, OutboxState::Submitted);
        assert!(rows[0]
            .changed
            .as_deref()
            .unwrap()
            .contains("changed after submission"));
        assert_eq!(rows[0].bytes, 2, "still v2");
    }

    #[test]
    fn a_claim_is_exclusive_until_it_expires() {
        let mut store = Store::open_in_memory().unwrap();
        let b = store.batch().unwrap();
        let Queued::New(id) = b.queue_document(&doc("file:x", "{}"), 0).unwrap() else {
            panic!()
        };
        assert_eq!(b.claim(&[id], "a", 100, 200).unwrap(), vec![id]);
        assert!(b.claim(&[id], "b", 150, 300).unwrap().is_empty());
        assert_eq!(b.claim(&[id], "b", 201, 300).unwrap(), vec![id], "expired");
        b.commit().unwrap();
        assert!(store
            .read()
            .outbox_pending(250, false, 0, 10)
            .unwrap()
            .is_empty());
        assert_eq!(
            store
                .read()
                .outbox_pending(301, false, 0, 10)
                .unwrap()
                .len(),
            1
        );
        assert!(store
            .read()
            .outbox_pending(301, false, id, 10)
            .unwrap()
            .is_empty());
    }
}
