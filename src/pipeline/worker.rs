//! Processing workers: from a matched report's stored bytes to a KCIDB
//! document on disk.
//!
//! Workers run on plain threads because fetching artefacts is blocking
//! I/O, and they never touch the store: they take [`Work`] from the writer
//! and send back what they [`Finish`]ed. The document file is written
//! before the writer records it, and its name and bytes are deterministic,
//! so a crash in between leaves exactly one document after reprocessing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Mutex;

use super::{Msg, Runners};
use crate::kcidb;
use crate::model::{check_uid, Job, JobState};
use crate::runner::FetchError;

/// Work for a processing worker: a matched report.
#[derive(Debug, Clone)]
pub struct Work {
    pub inbox_id: i64,
    pub job: Job,
    pub body: Vec<u8>,
    pub verified_as: String,
    /// Whether the job's build id, if it is one of ours, names a build
    /// kbridge knows.
    pub build_known: bool,
}

/// What a worker made of a report.
#[derive(Debug, Clone)]
pub enum Finish {
    /// A KCIDB document was written. `detail` says what was incomplete.
    Completed {
        document: String,
        path: String,
        state: JobState,
        detail: Option<String>,
        /// The builds it defines and kbridge's own builds its tests need,
        /// for the order of delivery.
        builds: Vec<String>,
        needs_builds: Vec<String>,
        /// The worst status in the document.
        worst: Option<crate::model::Status>,
        /// The device the runner ran the job on, when it says.
        device: Option<String>,
    },
    /// Fetching failed in a way worth retrying. `notice`: the report alone
    /// does not prove the job finished (a token-only callback, a poll), so
    /// when retrying gives up the job goes back to being polled instead of
    /// waiting for `kbridge inbox replay`.
    Retry { error: String, notice: bool },
    /// The runner says the job has not finished: the report was a notice
    /// that came early. The job goes back to being polled.
    Early { why: String },
    /// The results cannot be turned into a document.
    Errored { reason: String },
}

/// What every worker shares.
pub struct Processor {
    pub runners: Runners,
    pub origin: String,
    pub output_dir: PathBuf,
    /// The most test cases a document keeps.
    pub max_cases: usize,
    /// The largest document, in bytes.
    pub max_document: usize,
}

impl Processor {
    /// Turns one matched report into a document, or says why not; also
    /// returns what the runner said of the job, when it could be read.
    pub fn process(&self, w: &Work) -> (Finish, Option<serde_json::Value>) {
        let Some(runner) = self.runners.get(w.job.runner.as_str()) else {
            let reason = format!("runner '{}' is not available", w.job.runner);
            return (Finish::Errored { reason }, None);
        };
        let callback = match runner.parse_callback(w.job.kind, &w.body, &w.verified_as) {
            Ok(cb) => cb,
            Err(e) => {
                return (
                    Finish::Errored {
                        reason: e.to_string(),
                    },
                    None,
                )
            }
        };
        let status = callback.status.clone();
        (self.document(runner.as_ref(), w, callback), Some(status))
    }

    fn document(
        &self,
        runner: &dyn crate::runner::Runner,
        w: &Work,
        callback: crate::model::Callback,
    ) -> Finish {
        let mut job = w.job.clone();
        if job.uid.is_none() {
            job.uid = callback.uid.clone();
        }
        let Some(uid) = job.uid.clone() else {
            // A token-only callback that beat its schedule command's final
            // write: the uid arrives with that write.
            return Finish::Retry {
                error: "the job's uid is not recorded yet".into(),
                notice: false,
            };
        };
        if let Err(reason) = check_uid(&uid) {
            return Finish::Errored {
                reason: reason.to_string(),
            };
        }
        let fetched = runner.fetch_results(&job, &callback);
        crate::metrics::global().fetched(fetched.is_err());
        let notice = runner.protocol().auth == crate::runner::CallbackAuth::TokenOnly
            || w.verified_as == crate::runner::POLLED;
        let mut results = match fetched {
            Ok(r) => r,
            Err(FetchError::Transient(error) | FetchError::Throttled { why: error, .. }) => {
                return Finish::Retry { error, notice }
            }
            Err(FetchError::Permanent(reason)) => return Finish::Errored { reason },
            Err(FetchError::NotFinished(why)) => return Finish::Early { why },
        };
        // Bounded whatever the runner sent: beyond the caps the cases go and
        // the verdicts stay.
        if results.cases() > self.max_cases {
            results.drop_cases(format!(
                "{} test cases are more than max_cases ({}): the verdicts are kept, the cases dropped",
                results.cases(),
                self.max_cases
            ));
        }
        let mut doc = kcidb::document(&job, &self.origin, &results);
        let mut bytes = match kcidb::checked_bytes(&doc, &self.origin, &|_| w.build_known) {
            Ok(bytes) => bytes,
            Err(e) => {
                return Finish::Errored {
                    reason: format!("the KCIDB document fails a check: {e}"),
                }
            }
        };
        if bytes.len() > self.max_document && results.cases() > 0 {
            results.drop_cases(format!(
                "the document would be {} bytes, more than max_document ({}): the verdicts are kept, the cases dropped",
                bytes.len(),
                self.max_document
            ));
            doc = kcidb::document(&job, &self.origin, &results);
            bytes = match kcidb::checked_bytes(&doc, &self.origin, &|_| w.build_known) {
                Ok(bytes) => bytes,
                Err(e) => {
                    return Finish::Errored {
                        reason: format!("the KCIDB document fails a check: {e}"),
                    }
                }
            };
        }
        let path = self.output_dir.join(format!("{}-{uid}.json", job.runner));
        if let Err(e) = write_atomically(&path, &bytes) {
            return Finish::Retry {
                error: format!("cannot write {}: {e}", path.display()),
                notice: false,
            };
        }
        let problem = results.problem().map(str::to_string);
        let trimmed = results.trimmed().map(str::to_string);
        let (builds, needs_builds) = kcidb::references(&doc, &self.origin);
        let worst = kcidb::worst(&doc);
        Finish::Completed {
            document: String::from_utf8(bytes).expect("JSON is UTF-8"),
            path: path.display().to_string(),
            state: if results.canceled() {
                JobState::Canceled
            } else if problem.is_some() {
                JobState::Errored
            } else {
                JobState::Completed
            },
            detail: problem.or(trimmed),
            builds,
            needs_builds,
            worst,
            device: match &results {
                crate::model::JobResults::Test(t) => t.device.clone(),
                crate::model::JobResults::Build(_) => None,
            },
        }
    }
}

/// Writes to a temporary file beside `path`, flushes it to disk, then
/// renames it over `path`: a reader sees the old file or the new one,
/// never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("document");
    let tmp = dir.join(format!(".{name}.{}{TMP_SUFFIX}", std::process::id()));
    // Not for everyone to read, whatever the umask: documents name the
    // jobs and their logs.
    let mut file = {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o640);
        o.open(&tmp)?
    };
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

/// How a document being written is named: `.{name}.{pid}.tmp`.
const TMP_SUFFIX: &str = ".tmp";

/// Removes the temporary files a process that died (`kill -9`) left in
/// `dir`; those of a process still running are left alone. Returns how
/// many went.
pub fn remove_stale_temporaries(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(TMP_SUFFIX))
        else {
            continue;
        };
        let Some(pid) = stem.rsplit('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let alive = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
        if !alive && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Names of the worker threads.
pub(super) const NAMES: [&str; 8] = [
    "worker-0", "worker-1", "worker-2", "worker-3", "worker-4", "worker-5", "worker-6", "worker-7",
];

/// A worker: takes work until `stop`, finishing the item in hand. A `None`
/// on the queue wakes it to look at `stop`.
pub(super) fn run(
    processor: &Processor,
    work: &Mutex<Receiver<Option<Work>>>,
    writer: &Sender<Msg>,
    stop: &super::stop::Stop,
) {
    while !stop.is_stopped() {
        let next = match work.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let w = match next {
            Ok(Some(w)) if !stop.is_stopped() => w,
            // Work queued behind a stop stays pending in the store: the
            // next start does it.
            Ok(_) => continue,
            Err(_) => return,
        };
        let (finish, status) = processor.process(&w);
        let _ = writer.send(Msg::Finished {
            inbox_id: w.inbox_id,
            job_id: w.job.id,
            finish,
            status,
        });
    }
}
