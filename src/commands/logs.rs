//! `kbridge logs JOB [--raw]`: a job's log from its runner, streamed to
//! stdout as it arrives.

use crate::commands::Setup;
use std::io::Write;

use crate::cli::LogsArgs;
use crate::commands::jobs::find_job;
use crate::commands::open_existing;
use crate::error::Error;

/// Stdout that remembers a closed pipe (`kbridge logs 3 | head`), which
/// ends the copy and is no failure.
struct Out<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> Write for Out<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            self.closed |= e.kind() == std::io::ErrorKind::BrokenPipe;
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            self.closed |= e.kind() == std::io::ErrorKind::BrokenPipe;
        })
    }
}

pub fn run(args: LogsArgs, config: &Setup) -> Result<(), Error> {
    let store = open_existing(config)?;
    let job = find_job(&store, &args.job)?;
    drop(store);
    let runner = super::job_runner(config, &job)?;
    if args.json {
        let source = runner
            .logs()
            .ok_or_else(|| lacking(&job.runner))
            .and_then(|l| l.log_source(&job))
            .map_err(|e| Error::Failed(format!("logs of job {}: {e}", job.id)))?;
        return super::print(&super::json(&serde_json::json!({
            "job": job.id,
            "runner": job.runner,
            "uid": job.uid,
            "source": source,
            "shown": if args.raw { "the whole file" } else if job.kind == crate::model::JobKind::Build { "the build log" } else { "its console lines" },
        })));
    }
    let stdout = std::io::stdout();
    let mut out = Out {
        inner: std::io::BufWriter::with_capacity(64 * 1024, stdout.lock()),
        closed: false,
    };
    let result = runner
        .logs()
        .ok_or_else(|| lacking(&job.runner))
        .and_then(|l| l.logs(&job, args.raw, &mut out));
    let flushed = out.flush();
    if out.closed {
        return Ok(());
    }
    result.map_err(|e| Error::Failed(format!("logs of job {}: {e}", job.id)))?;
    flushed.map_err(|e| Error::io("cannot write the log", &e))
}

fn lacking(code: &str) -> crate::runner::FetchError {
    crate::runner::lacking(code, "does not give kbridge its logs")
}
