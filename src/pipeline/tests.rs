//! The pipeline driven in-process: a runner written for the tests (token
//! only, results from a local HTTP server) is handed to it and goes from
//! schedule to callback to KCIDB document, with the HTTP handler called on
//! in-memory requests.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use serde_json::{json, Value};

use super::*;
use crate::listen::handler::{handle, Routes, Shared};
use crate::model::{Job, JobSpec, JobState};
use crate::runner::testing::{Lab, TestLab, CODE};
use crate::runner::Feedback;
use crate::scheduler::{self, Outcome};

struct Quiet;

impl Feedback for Quiet {
    fn progress(&self, _: &str) {}
    fn warning(&self, _: &str) {}
}

struct World {
    _dir: tempfile::TempDir,
    db: PathBuf,
    out: PathBuf,
    lab: Lab,
    runner: Arc<TestLab>,
    pipeline: Option<Pipeline>,
    shared: Arc<Shared>,
    log: Log,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kbridge.db");
        let out = dir.path().join("kcidb");
        let lab = Lab::start();
        let runner = Arc::new(TestLab::new(&lab.url()));
        let mut map: BTreeMap<&'static str, Arc<dyn Runner>> = BTreeMap::new();
        map.insert(CODE, runner.clone());
        let runners: Runners = Arc::new(map);
        let log = Log::memory();
        let pipeline = Pipeline::start(
            &db.clone().into(),
            runners.clone(),
            settings(&out),
            Stages::default(),
            log.clone(),
        )
        .unwrap();
        let shared = Arc::new(Shared {
            runners: runners.into(),
            verify: true,
            max_body: 1 << 20,
            body_timeout: Duration::from_secs(5),
            intake: pipeline.intake(),
            log: log.clone(),
            reports: None.into(),
            buffered: Arc::new(tokio::sync::Semaphore::new(1 << 16)),
            ops: None,
            requests: Default::default(),
            refusals: Default::default(),
        });
        World {
            _dir: dir,
            db,
            out,
            lab,
            runner,
            pipeline: Some(pipeline),
            shared,
            log,
        }
    }

    fn store(&self) -> Store {
        Store::open_existing(&self.db).unwrap()
    }

    /// Schedules a test job on the lab with a callback, as `kbridge
    /// schedule` does.
    fn schedule(&self, tests: &[&str]) -> Job {
        let mut store = Store::open(&self.db).unwrap();
        let spec = crate::model::sample_test_spec("maestro:1", tests);
        let req = scheduler::Request {
            runner_code: CODE,
            runner: self.runner.as_ref(),
            spec: JobSpec::Test(spec),
            callback_base: Some("https://ci.example".into()),
            force: false,
            after_job: None,
        };
        match scheduler::schedule(&mut store, req, &Quiet).unwrap() {
            Outcome::Scheduled(job) => *job,
            other => panic!("{other:?}"),
        }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = Request::builder().method("POST").uri(path);
        if let Some(t) = token {
            req = req.header("X-Kbridge-Token", t);
        }
        let req = req.body(Full::new(Bytes::from(body.to_string()))).unwrap();
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let resp = handle(req, self.shared.clone(), peer, Routes::All)
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn wait_state(&self, id: i64, state: JobState) -> Job {
        let start = Instant::now();
        loop {
            let job = self.store().read().job_by_id(id).unwrap().unwrap();
            if job.state == state {
                return job;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "job {id} is {:?}, not {state:?}",
                job.state
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(p) = self.pipeline.take() {
            p.stop();
        }
    }
}

fn settings(out: &Path) -> Settings {
    Settings {
        origin: "kbridge".into(),
        output_dir: out.to_path_buf(),
        backoff: Backoff::new(Duration::from_millis(20), Duration::from_millis(100)),
        retry_for: Duration::from_secs(30),
        workers: 2,
        grace: Duration::from_secs(2),
        service: true,
        unmatched_ttl: Duration::from_secs(7 * 86400),
        lease: Duration::from_secs(30),
        max_cases: 50_000,
        max_document: 32 << 20,
    }
}

fn lab_id(job: &Job) -> u64 {
    job.uid
        .as_deref()
        .unwrap()
        .strip_prefix("lab.")
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_token_only_runner_goes_from_schedule_to_a_kcidb_document() {
    let w = World::new();
    let job = w.schedule(&["ltp-smoke"]);
    assert_eq!(job.state, JobState::Submitted);
    let sent = &w.lab.submitted()[0];
    assert_eq!(
        sent["notify"]["url"],
        "https://ci.example/callback/testlab/test"
    );
    let token = job.callback_token.clone().unwrap();
    assert_eq!(sent["notify"]["token"], token.as_str());

    let id = lab_id(&job);
    w.lab
        .finish(id, json!({"boot": "pass", "tests": {"ltp-smoke": "fail"}}));
    let (status, answer) = w
        .post(
            "/callback/testlab/test",
            Some(&token),
            json!({"id": id, "token": token}),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["job"], job.id);
    w.wait_state(job.id, JobState::Completed);

    let store = w.store();
    let doc: Value =
        serde_json::from_str(&store.read().document(job.id).unwrap().unwrap().document).unwrap();
    let smoke = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["path"] == "ltp.smoke")
        .unwrap();
    assert_eq!(smoke["status"], "FAIL");
    assert_eq!(smoke["misc"]["runtime"], CODE);
    assert!(w.out.join(format!("{CODE}-lab.{id}.json")).exists());

    // The token the body repeats is not what was stored.
    let entry = store
        .read()
        .inbox_entry(answer["inbox"].as_i64().unwrap())
        .unwrap()
        .unwrap();
    let stored = String::from_utf8(entry.body.unwrap()).unwrap();
    assert!(!stored.contains(&token), "{stored}");
}

#[tokio::test]
async fn an_unknown_token_is_401_and_nothing_is_stored() {
    let w = World::new();
    let job = w.schedule(&["ltp-smoke"]);
    let id = lab_id(&job);
    for token in [Some("0".repeat(64)), None] {
        let (status, answer) = w
            .post(
                "/callback/testlab/test",
                token.as_deref(),
                json!({"id": id}),
            )
            .await;
        assert_eq!(status, 401, "{answer}");
    }
    // A token of another job does not work for this one either.
    let other = w.schedule(&["ltp-fsx"]);
    let (status, answer) = w
        .post(
            "/callback/testlab/test",
            other.callback_token.as_deref(),
            json!({"id": id}),
        )
        .await;
    assert_eq!(status, 401, "{answer}");
    assert!(
        w.store().read().inbox(None).unwrap().is_empty(),
        "nothing unauthenticated is kept"
    );
    assert_eq!(
        w.store().read().job_by_id(job.id).unwrap().unwrap().state,
        JobState::Submitted
    );
}

#[tokio::test]
async fn a_second_callback_for_a_finished_job_changes_nothing() {
    let w = World::new();
    let job = w.schedule(&["ltp-smoke"]);
    let id = lab_id(&job);
    let token = job.callback_token.clone().unwrap();
    w.lab
        .finish(id, json!({"boot": "pass", "tests": {"ltp-smoke": "pass"}}));
    let (status, _) = w
        .post("/callback/testlab/test", Some(&token), json!({"id": id}))
        .await;
    assert_eq!(status, 202);
    w.wait_state(job.id, JobState::Completed);
    let before = w.store().read().document(job.id).unwrap().unwrap().document;
    w.lab
        .finish(id, json!({"boot": "fail", "tests": {"ltp-smoke": "fail"}}));
    let (status, answer) = w
        .post("/callback/testlab/test", Some(&token), json!({"id": id}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "duplicate");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        w.store().read().document(job.id).unwrap().unwrap().document,
        before
    );
}

#[tokio::test]
async fn a_callback_on_the_wrong_route_or_runner_is_refused() {
    let w = World::new();
    let job = w.schedule(&["ltp-smoke"]);
    let token = job.callback_token.clone().unwrap();
    let (status, _) = w
        .post(
            "/callback/testlab/boot",
            Some(&token),
            json!({"id": lab_id(&job)}),
        )
        .await;
    assert_eq!(status, 400, "a test job's callback on the boot route");
    let (status, answer) = w
        .post("/callback/tuxsuite/test", Some(&token), json!({}))
        .await;
    assert_eq!(status, 404);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("not configured on this listener"),
        "{answer}"
    );
    let (status, _) = w.post("/callback/nope/test", Some(&token), json!({})).await;
    assert_eq!(status, 404);
}

#[test]
fn builds_are_refused_by_a_runner_that_does_not_do_them() {
    let w = World::new();
    let spec = JobSpec::Build(crate::model::BuildSpec {
        options: Default::default(),
        tree: "https://git.example/linux.git".into(),
        branch: Some("master".into()),
        sha: None,
        arch: "riscv".into(),
        toolchain: "gcc-13".into(),
        kconfig: vec!["defconfig".into()],
        targets: vec![],
        private: false,
    });
    let mut store = Store::open(&w.db).unwrap();
    let err = scheduler::schedule(
        &mut store,
        scheduler::Request {
            runner_code: CODE,
            runner: w.runner.as_ref(),
            spec,
            callback_base: None,
            force: false,
            after_job: None,
        },
        &Quiet,
    )
    .unwrap_err();
    assert!(matches!(err, scheduler::ScheduleError::Usage(_)), "{err}");
    assert!(
        store.read().list(&Default::default()).unwrap().is_empty(),
        "nothing was recorded"
    );
}

#[test]
fn replay_processes_the_one_callback_it_is_given() {
    let mut w = World::new();
    let job = w.schedule(&["ltp-smoke"]);
    let id = lab_id(&job);
    let token = job.callback_token.clone().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The lab has no results yet: fetching fails until it does.
    let (status, answer) =
        rt.block_on(w.post("/callback/testlab/test", Some(&token), json!({"id": id})));
    assert_eq!(status, 202);
    let inbox = answer["inbox"].as_i64().unwrap();
    w.pipeline.take().unwrap().stop();

    w.lab
        .finish(id, json!({"boot": "pass", "tests": {"ltp-smoke": "pass"}}));
    let mut map: BTreeMap<&'static str, Arc<dyn Runner>> = BTreeMap::new();
    map.insert(CODE, w.runner.clone());
    let mut s = settings(&w.out);
    s.service = false;
    let p = Pipeline::start(
        &w.db.clone().into(),
        Arc::new(map),
        s,
        Stages::default(),
        w.log.clone(),
    )
    .unwrap();
    let done = p.intake().replay(inbox).blocking_recv().unwrap().unwrap();
    assert!(done.completed, "{done:?}");
    assert!(done.line.contains("completed"), "{done:?}");
    let missing = p.intake().replay(999).blocking_recv().unwrap().unwrap_err();
    assert!(matches!(missing, ReplayError::NotFound(999)), "{missing}");
    assert!(missing.to_string().contains("no callback 999"), "{missing}");
    p.stop();
    assert_eq!(
        w.store().read().job_by_id(job.id).unwrap().unwrap().state,
        JobState::Completed
    );
}

#[test]
fn polling_reports_what_a_callback_would() {
    let w = World::new();
    let job = w.schedule(&["ltp-smoke"]);
    assert!(matches!(
        w.runner.poll(&job).unwrap(),
        crate::runner::Polled::Running { .. }
    ));
    w.lab
        .finish(lab_id(&job), json!({"boot": "pass", "tests": {}}));
    match w.runner.poll(&job).unwrap() {
        crate::runner::Polled::Finished(cb) => {
            assert!(w.runner.callback_is_for(&job, cb.names()))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_full_queue_refuses_at_once_instead_of_growing() {
    let (tx, rx) = mpsc::channel();
    let intake = Intake {
        tx,
        queued: Arc::default(),
        health: Arc::default(),
    };
    let report = || PolledReport {
        job_id: 1,
        callback: crate::model::Callback {
            uid: None,
            subject: None,
            status: json!({}),
        },
    };
    // Nothing takes from the queue: it fills to the limit, then refuses.
    let waiting: Vec<_> = (0..QUEUE_LIMIT).map(|_| intake.polled(report())).collect();
    let mut refused = intake.polled(report());
    assert!(matches!(refused.try_recv(), Ok(Answer::Unavailable(_))));
    assert_eq!(waiting.len(), QUEUE_LIMIT);
    drop(rx);
}

#[test]
fn one_stop_ends_every_stage_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kbridge.db");
    let lab = Lab::start();
    let mut map: BTreeMap<&'static str, Arc<dyn Runner>> = BTreeMap::new();
    map.insert(CODE, Arc::new(TestLab::new(&lab.url())));
    // Nothing answers there: delivery has nothing to send anyway.
    let endpoint = crate::kcidb::client::Endpoint {
        url: "http://127.0.0.1:9".into(),
        token: crate::secrets::Secret::new("a-token-for-the-test"),
        url_source: "test".into(),
        token_source: "test".into(),
    };
    let stages = Stages {
        deliver: Some(deliver::Delivery {
            client: crate::kcidb::client::Client::new(endpoint, Duration::from_secs(5)),
            max_request: 1 << 20,
            backoff: Backoff::new(Duration::from_millis(10), Duration::from_secs(1)),
            retry_for: Duration::from_secs(60),
            claim_for: Duration::from_secs(60),
            owner: claims::owner(),
        }),
        poll: Some(poller::Polling {
            concurrency: 2,
            plan: poller::Plan {
                pace: poller::Pace {
                    interval: Duration::from_secs(600),
                    max: Duration::from_secs(3600),
                    trust_callbacks: None,
                },
                only: None,
                listener: Some("127.0.0.1:1".into()),
                trust_while_listening: None,
                refusals: None,
            },
            seen: Box::new(|_| {}),
        }),
        health: Some(Limits {
            max_backlog: 100,
            max_overdue: Duration::from_secs(3600),
            poll_after: Duration::from_secs(600),
        }),
    };
    let p = Pipeline::start(
        &db.clone().into(),
        Arc::new(map),
        settings(&dir.path().join("kcidb")),
        stages,
        Log::memory(),
    )
    .unwrap();
    // Every stage is asleep (polling waits ten minutes, delivery half a
    // second, the checkpoint half a second, workers for work) when the
    // stop comes.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let stopped = p.stop();
    let took = started.elapsed();
    let names: Vec<&str> = stopped.stages.iter().map(|(n, _)| *n).collect();
    for stage in [
        "poll",
        "deliver",
        "writer",
        "checkpoint",
        "worker-0",
        "worker-1",
    ] {
        assert!(names.contains(&stage), "{stage} is not among {names:?}");
    }
    assert!(stopped.left_running().is_empty(), "{stopped:?}");
    assert!(
        took < Duration::from_secs(2),
        "stopping took {took:?}: {stopped:?}"
    );
    // The listener's heartbeat was taken back on the way out.
    let store = Store::open_existing(&db).unwrap();
    assert_eq!(store.read().live_listeners(0).unwrap(), 0);
}
