//! `kbridge artefacts JOB [--download DIR]`: what a job produced, listed,
//! or fetched into `DIR/<uid>/` (with the runner's token only where the
//! runner's own rules send it).

use std::io::Write;

use crate::cli::ArtefactsArgs;
use crate::commands::jobs::find_job;
use crate::commands::open_existing;
use crate::config::Config;
use crate::error::Error;

pub fn run(args: ArtefactsArgs, config: &Config) -> Result<(), Error> {
    let store = open_existing(config)?;
    let job = find_job(&store, &args.job)?;
    drop(store);
    let runner = super::job_runner(config, &job)?;
    if let Some(dir) = &args.download {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), &e))?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    runner
        .artefacts(&job, args.download.as_deref(), &mut out)
        .map_err(|e| Error::Failed(format!("artefacts of job {}: {e}", job.id)))?;
    out.flush()
        .map_err(|e| Error::io("cannot write the list", &e))
}
