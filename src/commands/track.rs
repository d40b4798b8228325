//! `kbridge track UID...`: adopts jobs kbridge did not schedule (from the
//! runner's own client or web UI), so they are followed, polled and turned
//! into KCIDB documents like any other. Tracking a uid twice is a no-op.

use crate::cli::{TrackArgs, TrackKind};
use crate::commands::Setup;
use crate::commands::{json_list, open_runner, print};
use crate::error::Error;
use crate::model::{check_uid, JobSpec};
use crate::runner::Purpose;
use crate::store::{NewJob, Store};

pub fn run(args: TrackArgs, config: &Setup) -> Result<(), Error> {
    let info = super::chosen_runner(config)?;
    for uid in &args.uids {
        check_uid(uid).map_err(|why| Error::Usage(format!("'{uid}': {why}")))?;
    }
    let opened = open_runner(config, info, Purpose::Process)?;
    let runner = opened.track().ok_or_else(|| {
        Error::Failed(
            crate::runner::lacking(info.code, "cannot look up jobs kbridge did not schedule")
                .to_string(),
        )
    })?;
    let mut store = Store::open(&config.database()?)?;
    let origin = config.origin();
    let mut shown = Vec::new();
    for uid in &args.uids {
        if let Some(job) = store.read().job_by_uid(info.code, uid)? {
            eprintln!("kbridge: {uid} is already tracked as job {}", job.id);
            shown.push(job.redacted());
            continue;
        }
        let build = args.kind.map(|k| k == TrackKind::Build);
        let tracked = runner
            .track(uid, build)
            .map_err(|e| Error::Failed(format!("cannot track {uid}: {e}")))?;
        let mut spec = tracked.spec;
        if let JobSpec::Test(t) | JobSpec::Boot(t) = &mut spec {
            t.build_id = match (&args.build_id, &tracked.build_uid) {
                (Some(given), _) => {
                    crate::scheduler::resolve_build_id(Some(store.read()), &origin, given)?
                }
                (None, Some(build)) => {
                    // Its build is adopted too, so the test's document
                    // refers to a build KCIDB is told about.
                    if store.read().job_by_uid(info.code, build)?.is_none() {
                        let b = runner.track(build, Some(true)).map_err(|e| {
                            Error::Failed(format!(
                                "cannot track {build}, the build {uid} ran on: {e}; give --build-id"
                            ))
                        })?;
                        let job = record(&mut store, info.code, build, &b.spec, &b.status)?;
                        if !args.json {
                            println!("tracking build {build} as job {}, the build {uid} ran on", job.id);
                        }
                    }
                    format!("{origin}:{build}")
                }
                (None, None) => {
                    return Err(Error::Usage(format!(
                        "{uid} does not say which build it tested: give --build-id (a KCIDB build id, or a build kbridge knows)"
                    )))
                }
            };
        }
        let job = record(&mut store, info.code, uid, &spec, &tracked.status)?;
        if !args.json {
            println!(
                "tracking {} {uid} as job {}: `kbridge wait {}` follows it to its KCIDB document",
                job.kind, job.id, job.id
            );
        }
        shown.push(job);
    }
    if args.json {
        print(&json_list(&shown))?;
    }
    Ok(())
}

/// Records a job found on the runner as submitted, with what the runner
/// says of it.
fn record(
    store: &mut Store,
    runner: &str,
    uid: &str,
    spec: &JobSpec,
    status: &serde_json::Value,
) -> Result<crate::model::Job, Error> {
    let mut spec = spec.clone();
    if let JobSpec::Build(b) = &mut spec {
        if let Some(note) = crate::scheduler::public_repository(b) {
            eprintln!("note: {note}");
        }
    }
    let spec = &spec;
    let batch = store.batch()?;
    let id = batch.insert_job(&NewJob {
        runner,
        spec,
        request: &serde_json::Value::Null,
        callback_url: None,
        callback_token: None,
        after_job: None,
        plan: None,
    })?;
    batch.set_job_status(id, status)?;
    batch.commit()?;
    store.mark_submitted(id, uid, status)?;
    Ok(store
        .read()
        .job_by_id(id)?
        .expect("just recorded")
        .redacted())
}
