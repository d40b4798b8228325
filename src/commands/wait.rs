//! `kbridge wait`: blocks until jobs are final, learning of completion from
//! the store (a running listener updates it) and by polling the runners,
//! then sums up and exits with a status CI and `git bisect run` can trust.

use crate::commands::Setup;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::WaitArgs;
use crate::clock::now_ms;
use crate::commands::{json, open_configured, open_existing, pipeline_settings, print, Context};
use crate::config::keys;
use crate::error::Error;
use crate::model::{Job, JobSpec, JobState};
use crate::outcome::{JobOutcome, Summary};
use crate::pipeline::poller::{Pace, Plan, Polling, Seen, LISTENER_FRESH};
use crate::pipeline::{Pipeline, Stages};
use crate::progress::{JobLine, WaitView};
use crate::runner::Purpose;
use crate::store::{JobFilter, Store};

/// What to wait for, and how to report it.
pub struct WaitFor {
    /// Job ids or uids; empty for every job not yet final.
    pub jobs: Vec<String>,
    pub timeout: Option<Duration>,
    pub junit: Option<PathBuf>,
    pub bisect: bool,
    pub json: bool,
}

/// The longest pause between two polls of one job.
const MAX_PAUSE: Duration = Duration::from_secs(600);
/// How often the store is looked at for changes a listener made.
const LOOK: Duration = Duration::from_millis(250);
/// How often while a job is being processed.
const LOOK_SOON: Duration = Duration::from_millis(25);
/// How often the job lines are redrawn when nothing changed.
const REDRAW: Duration = Duration::from_secs(1);

pub fn run(args: WaitArgs, ctx: &Context) -> Result<u8, Error> {
    let bisect = args.bisect;
    find_and_wait(args, ctx).map_err(|e| e.in_verdict_command(bisect))
}

fn find_and_wait(args: WaitArgs, ctx: &Context) -> Result<u8, Error> {
    if let Some(junit) = &args.junit {
        check_junit_path(junit)?;
    }
    let config = ctx.load()?;
    let jobs = match &args.plan {
        Some(plan) => {
            let store = open_existing(&config)?;
            let uid = super::jobs::plan_uid(&store, plan)?;
            let ids: Vec<String> = store
                .read()
                .list(&JobFilter {
                    plan: Some(uid),
                    ..JobFilter::default()
                })?
                .into_iter()
                .map(|j| j.id.to_string())
                .collect();
            if ids.is_empty() {
                return Err(Error::Usage(format!(
                    "no job of plan '{plan}' in {}; `kbridge plans` lists the plans",
                    store.location()
                )));
            }
            ids
        }
        None => args.jobs,
    };
    wait(
        &config,
        ctx,
        &WaitFor {
            jobs,
            timeout: args.timeout,
            junit: args.junit,
            bisect: args.bisect,
            json: args.json,
        },
    )
}

/// Whether `kbridge wait` is done with a job: it finished, or it can never
/// be known to finish (the runner may not have it).
fn settled(job: &Job) -> bool {
    !matches!(job.state, JobState::Submitted | JobState::Received)
}

/// Checks, before waiting, that the JUnit file can be written: a wait of
/// hours must not end in an error about a directory that does not exist.
pub fn check_junit_path(path: &std::path::Path) -> Result<(), Error> {
    let bad = |why: String| Error::Usage(format!("--junit {}: {why}", path.display()));
    if path.is_dir() {
        return Err(bad("is a directory; give a file name".into()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Err(bad(format!(
            "the directory {} does not exist; create it first",
            dir.display()
        )));
    }
    // Can a file be made there (permissions, a read-only file system)?
    let probe = dir.join(format!(".kbridge-junit-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) => return Err(bad(format!("cannot write in {}: {e}", dir.display()))),
    }
    if path.exists() && std::fs::OpenOptions::new().append(true).open(path).is_err() {
        return Err(bad("cannot be overwritten; check its permissions".into()));
    }
    Ok(())
}

pub fn wait(config: &Setup, ctx: &Context, w: &WaitFor) -> Result<u8, Error> {
    wait_for(config, ctx, w).map_err(|e| e.in_verdict_command(w.bisect))
}

fn wait_for(config: &Setup, ctx: &Context, w: &WaitFor) -> Result<u8, Error> {
    let store = open_existing(config)?;
    let targets = targets(&store, &w.jobs)?;
    let mut view = WaitView::new(ctx.ui.is_quiet(), targets.len());
    // Everything the pipeline says goes above the live job lines.
    let log = view.log();
    // Jobs whose runner is not configured here are still waited for: a
    // listener may report them.
    let runners = match open_configured(config, Purpose::Process, &log) {
        Ok(r) => r,
        Err(_) => std::sync::Arc::new(Default::default()),
    };
    let mut settings = pipeline_settings(config, 4);
    settings.service = false;
    let interval = config.required(keys::POLL_INTERVAL);
    let poll_after = config.required(keys::POLL_AFTER);
    let interrupted = interrupt_flag();
    let start = Instant::now();

    // Polls run on their own stage and say what they found, so a runner
    // slow to answer never delays the timeout or Ctrl-C, and a finished
    // job is shown as soon as it is stored.
    let (seen_tx, seen) = std::sync::mpsc::channel();
    let polling = Polling {
        concurrency: 8,
        plan: Plan {
            pace: Pace {
                interval,
                max: MAX_PAUSE.max(interval),
                trust_callbacks: None,
            },
            only: Some(targets.iter().copied().collect()),
            listener: None,
            // With a listener alive, callbacks are given time to arrive.
            trust_while_listening: Some((poll_after, (interval * 10).min(MAX_PAUSE).max(interval))),
            refusals: None,
        },
        seen: Box::new(move |s| {
            let _ = seen_tx.send(s);
        }),
    };
    let pipeline = Pipeline::start(
        &config.database()?,
        runners,
        settings,
        Stages {
            poll: Some(polling),
            ..Stages::default()
        },
        log,
    )?;

    // What a stopped `kbridge wait` or listener left half-processed, when no
    // listener is there to finish it.
    if live_listener(&store)? == 0 {
        let received: Vec<i64> = jobs(&store, &targets)?
            .into_iter()
            .filter(|j| j.state == JobState::Received)
            .map(|j| j.id)
            .collect();
        if !received.is_empty() {
            pipeline.intake().resume(received);
        }
    }

    let mut timed_out = false;
    // What a listener refused is said once per runner and reason, as soon
    // as it is seen: a wrong key otherwise looks like a slow runner.
    let mut refusals_said = std::collections::HashSet::new();
    let mut refusals_looked: Option<Instant> = None;
    // The jobs are read again only when the store changed (a listener, the
    // pipeline, or a poll wrote to it).
    let mut seen_version = None;
    let mut current = Vec::new();
    let mut shown: Option<Instant> = None;
    loop {
        let version = store.data_version()?;
        let changed = seen_version != Some(version);
        if changed {
            current = jobs(&store, &targets)?;
            seen_version = Some(version);
        }
        // Redrawn on a change, and each second for the elapsed times.
        if changed || shown.is_none_or(|t| t.elapsed() >= REDRAW) {
            view.show(&current.iter().map(line).collect::<Vec<_>>());
            shown = Some(Instant::now());
        }
        let waiting = current.iter().filter(|j| !settled(j)).count();
        if waiting == 0 || interrupted.load(Ordering::Relaxed) {
            break;
        }
        if refusals_looked.is_none_or(|t| t.elapsed() >= REFUSALS_EVERY) {
            refusals_looked = Some(Instant::now());
            for r in refused_lately(&store) {
                if refusals_said.insert((r.runner.clone(), r.reason.clone())) {
                    view.warn(&format!("{}; its jobs are polled meanwhile", r.line()));
                }
            }
        }
        if w.timeout.is_some_and(|t| start.elapsed() >= t) {
            timed_out = true;
            break;
        }
        // A job being processed is final within moments: look sooner.
        let processing = current.iter().any(|j| j.state == JobState::Received);
        let mut look = Instant::now() + if processing { LOOK_SOON } else { LOOK };
        if let Some(t) = w.timeout {
            look = look.min(start + t);
        }
        match seen.recv_timeout(look.saturating_duration_since(Instant::now())) {
            Ok(Seen::Note(note)) => view.note(&note, &ctx.ui),
            Ok(Seen::Finished(_)) | Err(_) => {}
        }
    }
    view.finish();
    pipeline.stop();

    let summary = Summary {
        outcomes: jobs(&store, &targets)?
            .into_iter()
            .map(|job| {
                let doc = store
                    .read()
                    .document(job.id)
                    .ok()
                    .flatten()
                    .map(|d| d.document);
                JobOutcome::of(job.redacted(), doc.as_deref())
            })
            .collect(),
        timed_out,
        interrupted: interrupted.load(Ordering::Relaxed) && !timed_out,
    };
    // The summary first: whatever happens to the JUnit file, the verdict
    // has been said.
    if w.json {
        print(&json(&summary.json(w.bisect)))?;
    } else {
        print(&summary.human())?;
    }
    if let Some(path) = &w.junit {
        std::fs::write(path, crate::secrets::redact(&summary.junit()).as_bytes()).map_err(|e| {
            Error::Infra {
                message: format!(
                    "cannot write the JUnit file {}: {e}; the summary above stands",
                    path.display()
                ),
                bisect: w.bisect,
            }
        })?;
    }
    Ok(summary.exit_status(w.bisect))
}

/// How often `wait` looks for callbacks a listener refused.
const REFUSALS_EVERY: Duration = Duration::from_secs(5);

/// Callbacks a listener refused in the last hour, by runner and reason
/// (nothing when the store cannot say).
pub fn refused_lately(store: &Store) -> Vec<crate::store::Refused> {
    store
        .read()
        .refusals(now_ms() - 3_600_000)
        .unwrap_or_default()
}

/// The jobs to wait for: those named, or every job not yet final.
fn targets(store: &Store, given: &[String]) -> Result<Vec<i64>, Error> {
    if given.is_empty() {
        let all = store.read().list(&JobFilter::default())?;
        let mut ids: Vec<i64> = all
            .into_iter()
            .filter(|j| !final_state(j.state))
            .map(|j| j.id)
            .collect();
        ids.sort();
        return Ok(ids);
    }
    given
        .iter()
        .map(|key| {
            // A job that does not exist is how wait was called, not how the
            // kernel fared: exit status 2, never 1.
            store.read().find(key)?.map(|j| j.id).ok_or_else(|| {
                Error::Usage(format!(
                    "no job '{key}' in {}; `kbridge jobs` lists them",
                    store.location()
                ))
            })
        })
        .collect()
}

/// States nothing more will come of.
fn final_state(s: JobState) -> bool {
    matches!(
        s,
        JobState::Completed | JobState::Errored | JobState::Failed | JobState::Canceled
    )
}

fn jobs(store: &Store, ids: &[i64]) -> Result<Vec<Job>, Error> {
    Ok(store.read().jobs_by_ids(ids)?)
}

fn live_listener(store: &Store) -> Result<i64, Error> {
    Ok(store
        .read()
        .live_listeners(now_ms() - LISTENER_FRESH.as_millis() as i64)?)
}

/// One job's line: what it is, and where it stands.
fn line(j: &Job) -> JobLine {
    let target = match &j.spec {
        JobSpec::Build(b) => b.arch.clone(),
        // The device it ran on, once known; else the one its record names.
        JobSpec::Test(t) | JobSpec::Boot(t) => j
            .actual_device
            .clone()
            .or_else(|| j.device.clone())
            .unwrap_or_else(|| t.device.clone()),
    };
    let runner_state = j
        .status
        .as_ref()
        .and_then(|s| s["state"].as_str())
        .filter(|_| j.state == JobState::Submitted);
    let state = match (j.state, runner_state, j.result) {
        (JobState::Completed | JobState::Errored, _, Some(r)) => format!("{} {r}", j.state),
        (_, Some(r), _) => format!("{} ({r})", j.state),
        _ => j.state.to_string(),
    };
    JobLine {
        id: j.id,
        label: format!("{} {} {target}", j.kind, j.uid.as_deref().unwrap_or("-")),
        state,
        done: settled(j),
        finished: final_state(j.state),
    }
}

/// Set when Ctrl-C or SIGTERM arrives: waiting stops, and everything is
/// left as it is for a second `kbridge wait`.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    let _ = std::thread::Builder::new()
        .name("kbridge-signals".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let Ok(mut term) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                else {
                    return;
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                set.store(true, Ordering::Relaxed);
            });
        });
    flag
}
