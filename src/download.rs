//! Fetching a job's files into a directory, whatever its runner, within
//! bounds a hostile server cannot stretch: a cap per file and per job
//! (`download_max_file`, `download_max_job`, counted on the bytes as
//! written, after any `Content-Encoding` is undone), each file written
//! under a temporary name and renamed only once complete, so a file that
//! was cut or failed is never left under its real name.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::model::Job;
use crate::runner::{Artefact, Artefacts};

/// How much one download may write.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub per_file: u64,
    pub per_job: u64,
}

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "outcome")]
pub enum Fetched {
    /// Written whole, at `path`.
    Written { path: PathBuf, bytes: u64 },
    /// Not fetched, or not kept: `why` says which and what to do.
    Skipped { why: String },
}

/// A writer that takes at most `left` bytes, then refuses.
struct Capped<W> {
    inner: W,
    left: u64,
    over: bool,
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            self.over = true;
            return Err(std::io::Error::other("over the download cap"));
        }
        let n = self.inner.write(buf)?;
        self.left -= n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The suffix of a file being written; it never stays once kbridge is
/// done with the file.
const PARTIAL: &str = ".kbridge-partial";

/// Fetches every file of `files` into `dir/<uid>/`, each within the caps,
/// and says what became of each, in order.
pub fn fetch_all(
    runner: &dyn Artefacts,
    job: &Job,
    files: &[Artefact],
    dir: &Path,
    caps: Caps,
    mut each: impl FnMut(&Artefact, &Fetched),
) -> Vec<Fetched> {
    let root = dir.join(job.uid.as_deref().unwrap_or("job"));
    let mut left = caps.per_job;
    let mut out = Vec::new();
    for file in files {
        let fetched = match &file.refused {
            Some(why) => Fetched::Skipped { why: why.clone() },
            None => one(runner, job, file, &root, caps.per_file, &mut left, caps),
        };
        each(file, &fetched);
        out.push(fetched);
    }
    out
}

fn one(
    runner: &dyn Artefacts,
    job: &Job,
    file: &Artefact,
    root: &Path,
    per_file: u64,
    job_left: &mut u64,
    caps: Caps,
) -> Fetched {
    let skipped = |why: String| Fetched::Skipped { why };
    let path = root.join(&file.name);
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return skipped("it has no file name".into());
    };
    let partial = path.with_file_name(format!(".{name}{PARTIAL}"));
    if let Some(parent) = path.parent() {
        if let Err(e) = std::fs::create_dir_all(parent) {
            return skipped(format!("cannot create {}: {e}", parent.display()));
        }
    }
    let file_out = match std::fs::File::create(&partial) {
        Ok(f) => f,
        Err(e) => return skipped(format!("cannot create {}: {e}", partial.display())),
    };
    let job_bound = *job_left < per_file;
    let mut capped = Capped {
        inner: std::io::BufWriter::new(file_out),
        left: per_file.min(*job_left),
        over: false,
    };
    let result = runner.download(job, file, &mut capped);
    let flushed = capped.flush();
    let over = capped.over;
    drop(capped);
    let why = match (result, flushed) {
        (Ok(bytes), Ok(())) => match std::fs::rename(&partial, &path) {
            Ok(()) => {
                *job_left -= bytes;
                return Fetched::Written { path, bytes };
            }
            Err(e) => format!("cannot rename it into place: {e}"),
        },
        _ if over && job_bound => format!(
            "cut: the job's files are larger than download_max_job ({} bytes); raise --max-job-bytes",
            caps.per_job
        ),
        _ if over => format!(
            "cut: larger than download_max_file ({per_file} bytes); raise --max-file-bytes"
        ),
        (Err(e), _) => e.to_string(),
        (_, Err(e)) => format!("cannot write {}: {e}", path.display()),
    };
    let _ = std::fs::remove_file(&partial);
    skipped(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_refuses_the_write_that_would_pass_it() {
        let mut c = Capped {
            inner: Vec::new(),
            left: 5,
            over: false,
        };
        c.write_all(b"abc").unwrap();
        assert!(c.write_all(b"def").is_err());
        assert!(c.over);
        assert_eq!(c.inner, b"abc");
    }
}
