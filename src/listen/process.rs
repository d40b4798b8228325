//! Processing workers: from a matched callback's stored bytes to a KCIDB
//! document on disk.
//!
//! Workers run on plain threads because fetching artefacts is blocking
//! I/O, and they never touch the store: they take [`Work`] from the writer
//! and send back what they [`Finish`]ed. The document file is written
//! before the writer records it, and its name and bytes are deterministic,
//! so a crash in between leaves exactly one document after reprocessing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::kcidb;
use crate::listen::inbox::{Finish, Msg, Work};
use crate::model::JobState;
use crate::runner::{FetchError, Runner};

/// What every worker shares.
pub struct Processor {
    pub runners: BTreeMap<&'static str, Arc<dyn Runner>>,
    pub origin: String,
    pub output_dir: PathBuf,
}

impl Processor {
    /// Turns one matched callback into a document, or says why not.
    pub fn process(&self, w: &Work) -> Finish {
        let Some(runner) = self.runners.get(w.job.runner.as_str()) else {
            return Finish::Errored {
                reason: format!("runner '{}' is not available", w.job.runner),
            };
        };
        let callback = match runner.parse_callback(w.job.kind, &w.body, &w.verified_as) {
            Ok(cb) => cb,
            Err(reason) => return Finish::Errored { reason },
        };
        let mut job = w.job.clone();
        job.uid.get_or_insert_with(|| callback.uid.clone());
        let results = match runner.fetch_results(&job, &callback) {
            Ok(r) => r,
            Err(FetchError::Transient(error)) => return Finish::Retry { error },
            Err(FetchError::Permanent(reason)) => return Finish::Errored { reason },
        };
        let doc = kcidb::document(&job, &self.origin, &results);
        let bytes = match kcidb::checked_bytes(&doc, &self.origin, &|_| w.build_known) {
            Ok(bytes) => bytes,
            Err(e) => {
                return Finish::Errored {
                    reason: format!("the KCIDB document fails a check: {e}"),
                }
            }
        };
        let path = self
            .output_dir
            .join(format!("{}-{}.json", job.runner, callback.uid));
        if let Err(e) = write_atomically(&path, &bytes) {
            return Finish::Retry {
                error: format!("cannot write {}: {e}", path.display()),
            };
        }
        let problem = results.problem().map(str::to_string);
        Finish::Completed {
            document: String::from_utf8(bytes).expect("JSON is UTF-8"),
            path: path.display().to_string(),
            state: if problem.is_some() {
                JobState::Errored
            } else {
                JobState::Completed
            },
            detail: problem,
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
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

/// Starts `n` workers. They stop when `stop` is set, after the item in hand.
pub fn spawn(
    n: usize,
    processor: Arc<Processor>,
    work: Receiver<Work>,
    writer: Sender<Msg>,
    stop: Arc<AtomicBool>,
) -> Vec<JoinHandle<()>> {
    let work = Arc::new(Mutex::new(work));
    (0..n)
        .map(|i| {
            let (processor, work, writer, stop) = (
                processor.clone(),
                work.clone(),
                writer.clone(),
                stop.clone(),
            );
            std::thread::Builder::new()
                .name(format!("kbridge-worker-{i}"))
                .spawn(move || loop {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let next = work
                        .lock()
                        .expect("no worker panics while holding the queue")
                        .recv_timeout(Duration::from_millis(100));
                    let w = match next {
                        Ok(w) => w,
                        Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => return,
                    };
                    let finish = processor.process(&w);
                    let _ = writer.send(Msg::Finished {
                        inbox_id: w.inbox_id,
                        job_id: w.job.id,
                        finish,
                    });
                })
                .expect("threads can be started")
        })
        .collect()
}
