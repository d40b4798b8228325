//! kbridge on a PostgreSQL store: the same test bodies as on SQLite, run
//! again with every environment storing in a fresh PostgreSQL database,
//! and what only a server store can get wrong (its settings, several
//! processes creating its schema at once).
//!
//! Each test is ignored without a server (see `util::postgres`).

use crate::util::postgres::{self as pg, on_postgres, on_postgres_at};
use crate::util::{Env, FakeTuxSuite};

/// Runs a test body on PostgreSQL and checks that it stored there.
fn shared(body: fn()) {
    let url = on_postgres(body);
    let rows: i64 = pg::query(
        &url,
        "SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM outbox)",
    )[0]
    .parse()
    .unwrap();
    assert!(
        rows > 0,
        "the test stored its jobs or documents in PostgreSQL"
    );
}

macro_rules! on_both {
    ($($name:ident => $body:path;)*) => {
        $(
            #[test]
            #[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
            fn $name() {
                shared($body);
            }
        )*
    };
}

on_both! {
    callback_to_document => crate::listen::a_signed_test_callback_becomes_a_kcidb_document;
    unmatched_then_matched => crate::listen::an_unknown_uid_is_kept_unmatched_then_matched_when_the_job_appears;
    callback_racing_schedule => crate::listen::a_callback_racing_the_schedule_command_is_matched_by_its_token;
    same_callback_twice => crate::listen::the_same_callback_twice_is_a_200_no_op;
    kill_9_after_202 => crate::listen::kill_9_after_the_202_loses_nothing;
    wait_polls => crate::wait::wait_polls_jobs_that_have_no_listener_and_sums_them_up;
    wait_exit_statuses => crate::wait::every_exit_status;
    lost_callback_polled_once => crate::wait::a_lost_callback_is_found_by_the_listeners_poller_and_processed_once;
    schedule_and_wait => crate::wait::schedule_and_wait_in_one_command;
    submit_once => crate::kcidb::submit_sends_each_pending_document_once_and_records_the_submission;
    kill_9_during_submit => crate::kcidb::kill_9_during_a_submission_run_loses_nothing_and_resends_nothing_accepted;
    two_submits => crate::kcidb::two_submits_at_once_send_each_document_once;
    retry_failed_documents => crate::kcidb::failed_documents_can_be_put_back_in_the_queue;
    cancel => crate::parity::cancel_ends_a_running_job_canceled_and_says_so_for_a_finished_one;
    plan_callback => crate::parity::a_plan_callback_is_verified_recorded_once_and_polls_the_plans_jobs;
    cancel_plan => crate::parity::cancel_plan_cancels_its_unfinished_jobs_and_says_so_when_done;
}

/// `kbridge schedule test` of `tests` on `build`.
fn test_on<'a>(tests: &'a str, build: &'a str) -> Vec<&'a str> {
    vec![
        "schedule",
        "test",
        "--kernel",
        "https://storage.example/Image",
        "--tests",
        tests,
        "--build-id",
        build,
    ]
}

fn schedule_args() -> Vec<&'static str> {
    schedule_tests("ltp-smoke")
}

fn schedule_tests(tests: &'static str) -> Vec<&'static str> {
    [
        test_on(tests, "maestro:681b69099ae9711e9ed49766"),
        vec!["--json"],
    ]
    .concat()
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn several_processes_create_the_schema_at_once() {
    let url = pg::fresh_database();
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_DB", &url);
    // Different tests each: the same ones would be one job, de-duplicated.
    let runs: Vec<_> = ["ltp-smoke", "ltp-fsx", "ltp-mm", "kselftest-net"]
        .into_iter()
        .map(|tests| {
            let e = env.sibling();
            std::thread::spawn(move || e.run(&schedule_tests(tests)))
        })
        .collect();
    for r in runs {
        r.join().unwrap().expect(0);
    }
    assert_eq!(env.job_rows(), 4);
    assert!(!env.db().exists(), "nothing was written to an SQLite file");
    let listed = env.run(&["jobs", "--json"]).expect(0).json();
    assert_eq!(listed.as_array().unwrap().len(), 4);
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn the_password_is_never_shown() {
    let url = pg::fresh_database();
    let password = password_of(&url);
    let mut env = Env::bare();
    env.set("KBRIDGE_DB", &url);
    for args in [
        &["config"][..],
        &["config", "--json"],
        &["doctor"],
        &["jobs"],
    ] {
        let run = env.run(args);
        assert!(
            !run.stdout.contains(&password) && !run.stderr.contains(&password),
            "kbridge {args:?} shows the password:\n{}{}",
            run.stdout,
            run.stderr
        );
    }
    // The same database, its password from a file (as systemd's
    // LoadCredential gives it).
    let file = env.path("db.password");
    std::fs::write(&file, format!("{password}\n")).unwrap();
    let without = url.replace(&format!(":{password}@"), "@");
    env.set("KBRIDGE_DB", &without)
        .set("KBRIDGE_DB_PASSWORD_FILE", file.to_str().unwrap());
    env.run(&["jobs"]).expect(0);
    let config = env.run(&["config", "--json"]).expect(0).json();
    assert_eq!(
        config["database.password_in_use"]["value"], "(set)",
        "{config}"
    );
    assert!(
        config["database.password_in_use"]["source"]
            .as_str()
            .unwrap()
            .contains("KBRIDGE_DB_PASSWORD_FILE"),
        "{config}"
    );
    let doctor = env.run(&["doctor"]).stdout;
    assert!(
        doctor.contains("✓ database: PostgreSQL") && doctor.contains("listener(s) alive"),
        "{doctor}"
    );
    // Or from the credential systemd gives the service.
    let credentials = env.path("credentials");
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::write(credentials.join("db-password"), format!("{password}\n")).unwrap();
    env.unset("KBRIDGE_DB_PASSWORD_FILE")
        .set("CREDENTIALS_DIRECTORY", credentials.to_str().unwrap());
    env.run(&["jobs"]).expect(0);
    // Without it, the server's refusal says where the password goes.
    env.unset("CREDENTIALS_DIRECTORY");
    let refused = env.run(&["jobs"]).expect(2);
    assert!(
        refused.error_line().contains("database_password_file"),
        "{}",
        refused.stderr
    );
}

/// The password a database URL carries.
fn password_of(url: &str) -> String {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, p)| p.to_string())
        .expect("the test server has a password")
}

/// A setting that cannot work: one line naming what to fix, exit status 2,
/// and nothing written anywhere.
fn refused(url: &str, words: &str) {
    let tux = FakeTuxSuite::start();
    let mut env = Env::new(&tux);
    env.set("KBRIDGE_DB", url);
    for args in [schedule_args(), vec!["jobs"]] {
        let run = env.run(&args).expect(2);
        let line = run.error_line();
        assert!(line.contains(words), "{args:?}: {}", run.stderr);
        assert!(
            !line.contains("not-the-password"),
            "the password is shown: {line}"
        );
    }
    assert!(tux.submissions().is_empty(), "nothing was sent to TuxSuite");
    assert!(!env.db().exists(), "nothing was written to an SQLite file");
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn a_wrong_password_is_a_setting_error() {
    refused(&pg::wrong_password(), "cannot sign in to PostgreSQL");
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn a_missing_database_is_a_setting_error() {
    refused(&pg::missing_database(), "createdb");
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn verify_full_against_a_server_it_cannot_verify_is_a_setting_error() {
    // The test server has no TLS, or a self-signed certificate: either way
    // verify-full cannot hold.
    refused(&pg::with_sslmode("verify-full"), "sslmode");
}

#[test]
fn a_bad_database_url_is_a_usage_error() {
    let mut env = Env::bare();
    env.set(
        "KBRIDGE_DB",
        "postgresql://kb@db.example.org/kb?sslmode=always",
    );
    let run = env.run(&["jobs"]).expect(2);
    assert!(
        run.error_line().contains("sslmode 'always'"),
        "{}",
        run.stderr
    );
    // A password file that cannot be read: said before any connection.
    env.set("KBRIDGE_DB", "postgresql://kb@db.example.org/kb")
        .set("KBRIDGE_DB_PASSWORD_FILE", "/nonexistent/db-password");
    let run = env.run(&["jobs"]).expect(2);
    assert!(
        run.error_line()
            .contains("cannot read the database password"),
        "{}",
        run.stderr
    );
    assert!(!env.db().exists(), "nothing was written");
}

/// Documents the listeners wrote, across their hosts' output directories.
fn documents(hosts: &[&Env]) -> Vec<String> {
    let mut docs: Vec<String> = hosts
        .iter()
        .flat_map(|e| std::fs::read_dir(e.path("kcidb")).into_iter().flatten())
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".json"))
        .collect();
    docs.sort();
    docs
}

/// A second host with the same settings, and its listener.
fn second_listener(w: &crate::listen::World) -> (Env, crate::util::Listener) {
    let host = w.env.sibling();
    let key = w.env.path("tuxsuite.pub");
    let l = host.listen(&[
        "--tuxsuite-public-key",
        key.to_str().unwrap(),
        "--allow-artifact-host",
        &w.art.host(),
    ]);
    (host, l)
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn two_listeners_share_the_work_and_take_each_callback_once() {
    on_postgres(|| {
        use std::sync::atomic::Ordering;
        let w = crate::listen::World::new();
        // Each for a build of its own: the same tests of one build would
        // be one job.
        let builds: Vec<String> = (0..6).map(|i| format!("maestro:{i:024x}")).collect();
        let jobs: Vec<_> = builds
            .iter()
            .map(|b| w.schedule(&test_on("ltp-smoke,ltp-fsx", b)))
            .collect();
        let a = w.listen(&[]);
        let (host_b, b) = second_listener(&w);
        // The first job's callback reaches both listeners at once (a load
        // balancer retrying, a runner resending); the others are spread.
        let first = &jobs[0];
        let body = w.test_body(&first.uid);
        let answers: Vec<u16> = std::thread::scope(|s| {
            let sends: Vec<_> = [&a, &b]
                .into_iter()
                .map(|l| s.spawn(|| w.send(l, first, body.as_bytes(), body.as_bytes()).status))
                .collect();
            sends.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let mut sorted = answers.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [200, 202],
            "one listener took it, the other said it was a duplicate"
        );
        for (i, job) in jobs.iter().enumerate().skip(1) {
            let l = if i % 2 == 0 { &a } else { &b };
            w.deliver(l, job, &w.test_body(&job.uid));
        }
        for job in &jobs {
            w.wait_state(job.id, "completed");
        }
        // Each job's results were fetched once, and one document made.
        let fetched = w.art.hits.load(Ordering::SeqCst);
        assert_eq!(
            fetched,
            jobs.len() * 2,
            "results.json and the log, once per job"
        );
        let docs = documents(&[&w.env, &host_b]);
        let mut want: Vec<String> = jobs
            .iter()
            .map(|j| format!("tuxsuite-{}.json", j.uid))
            .collect();
        want.sort();
        assert_eq!(docs, want);
        let inbox = w.inbox();
        assert_eq!(inbox.len(), jobs.len(), "{inbox:?}");
        assert!(
            inbox.iter().all(|r| r["status"] == "processed"),
            "{inbox:?}"
        );
        drop((a, b));
    });
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn a_listener_killed_while_processing_is_taken_over_once_its_claim_expires() {
    on_postgres(|| {
        use std::sync::atomic::Ordering;
        use std::time::{Duration, Instant};
        let mut w = crate::listen::World::new();
        w.env.set("KBRIDGE_CLAIM_LEASE", "2");
        let job = w.schedule_test();
        let a = w.listen(&[]);
        let (host_b, b) = second_listener(&w);
        // A cannot finish while the artefact server is this slow.
        *w.art.delay.lock().unwrap() = Duration::from_secs(60);
        w.deliver(&a, &job, &w.test_body(&job.uid));
        crate::util::wait_until(Duration::from_secs(15), "A to start fetching", || {
            w.art.hits.load(Ordering::SeqCst) > 0
        });
        a.kill9();
        let killed = Instant::now();
        *w.art.delay.lock().unwrap() = Duration::ZERO;
        w.wait_state(job.id, "completed");
        let took = killed.elapsed();
        assert!(took < Duration::from_secs(10), "taken over in {took:?}");
        assert!(
            b.stderr().contains(&format!("job {}: completed", job.id)),
            "{}",
            b.stderr()
        );
        assert_eq!(
            documents(&[&host_b]),
            [format!("tuxsuite-{}.json", job.uid)]
        );
        assert_eq!(w.inbox().len(), 1);
        eprintln!("takeover after kill -9: {took:?}");
        drop(b);
    });
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn one_listener_polls_for_all_and_another_takes_over_when_it_dies() {
    on_postgres(|| {
        use std::time::Duration;
        let w = crate::listen::World::new();
        let a = w.listen(&[]);
        let polls = "this listener polls the runners for every listener on the database";
        crate::util::wait_until(Duration::from_secs(15), "A to take the polling", || {
            a.stderr().contains(polls)
        });
        let (_host_b, b) = second_listener(&w);
        std::thread::sleep(Duration::from_secs(2));
        assert!(!b.stderr().contains(polls), "{}", b.stderr());
        // Either host's doctor sees both.
        crate::util::wait_until(
            Duration::from_secs(10),
            "both listeners to say they are alive",
            || {
                let doctor = w.env.run(&["doctor"]).stdout;
                doctor.contains("2 listener(s) alive")
                    && doctor.contains(&format!("(pid {})", a.pid()))
                    && doctor.contains(&format!("(pid {})", b.pid()))
            },
        );
        a.kill9();
        crate::util::wait_until(
            Duration::from_secs(15),
            "B to take the polling over",
            || b.stderr().contains(polls),
        );
        drop(b);
    });
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn a_listener_carries_on_when_the_server_drops_its_connections() {
    let url = on_postgres(|| {});
    on_postgres_at(&url, || {
        use std::time::Duration;
        let w = crate::listen::World::new();
        let first = w.schedule_test();
        let l = w.listen(&[]);
        w.deliver(&l, &first, &w.test_body(&first.uid));
        w.wait_state(first.id, "completed");
        // As a restart does: every session of the listener ends at once.
        let dropped = pg::query(
            &url,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        );
        assert_ne!(dropped[0], "0", "the listener had sessions");
        let second = w.schedule(&test_on(
            "ltp-smoke,ltp-fsx",
            "maestro:000000000000000000000002",
        ));
        let body = w.test_body(&second.uid);
        // Never a 2xx without a commit: a 503 while it reconnects, then
        // the callback is taken.
        let mut statuses = Vec::new();
        for _ in 0..20 {
            let status = w.send(&l, &second, body.as_bytes(), body.as_bytes()).status;
            statuses.push(status);
            if status != 503 {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        assert_eq!(statuses.last(), Some(&202), "{statuses:?}\n{}", l.stderr());
        w.wait_state(second.id, "completed");
        drop(l);
    });
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn store_copy_moves_a_record_to_postgresql_and_back_unchanged() {
    // A record on the SQLite default: a job, its callback, its document
    // and its delivery.
    let w = crate::listen::World::new();
    let job = w.schedule_test();
    let l = w.listen(&[]);
    w.deliver(&l, &job, &w.test_body(&job.uid));
    w.wait_state(job.id, "completed");
    drop(l);
    let file = w.env.db();
    let views = |env: &Env| -> Vec<String> {
        [
            &["jobs", "--json"][..],
            &["inbox", "--json"],
            &["outbox", "--json"],
            &["plans", "--json"],
            &["results", "--json", &job.uid],
        ]
        .iter()
        .map(|args| {
            let mut v = env.run(args).json();
            // How long ago the oldest document was made moves on.
            if let Some(o) = v.as_object_mut() {
                o.remove("backlog");
            }
            v.to_string()
        })
        .collect()
    };
    let before = views(&w.env);

    let url = pg::fresh_database();
    let copy = |from: &str, to: &str, extra: &[&str]| {
        w.env
            .run(&[&["store", "copy", "--from", from, "--to", to][..], extra].concat())
    };
    let file = file.to_str().unwrap();
    let copied = copy(file, &url, &[]).expect(0);
    assert!(
        copied.stdout.starts_with("copied ") && copied.stdout.contains("1 jobs"),
        "{}",
        copied.stdout
    );
    assert!(
        !copied.stdout.contains(&password_of(&url)),
        "{}",
        copied.stdout
    );
    let mut on_pg = w.env.sibling();
    on_pg.set("KBRIDGE_DB", &url);
    assert_eq!(views(&on_pg), before, "the same record on PostgreSQL");

    // A second copy into it would mix two records.
    let again = copy(file, &url, &[]).expect(2);
    assert!(
        again.error_line().contains("already holds kbridge records"),
        "{}",
        again.stderr
    );

    // And back to a new file.
    let back = w.env.path("back.db");
    let json = copy(&url, back.to_str().unwrap(), &["--json"])
        .expect(0)
        .json();
    assert_eq!(json["tables"]["jobs"], 1);
    assert_eq!(json["tables"]["inbox"], 1);
    let mut on_file = w.env.sibling();
    on_file.set("KBRIDGE_DB", back.to_str().unwrap());
    assert_eq!(views(&on_file), before, "the same record back in a file");

    // New rows continue after the copied ids.
    let next = on_pg
        .run(
            &[
                test_on("ltp-smoke", "maestro:000000000000000000000003"),
                vec!["--json"],
            ]
            .concat(),
        )
        .expect(0)
        .json();
    assert_eq!(next["id"], job.id + 1);
}

#[test]
fn store_copy_refuses_one_store_twice_and_a_missing_source() {
    let env = Env::bare();
    let db = env.path("a.db");
    let same = env
        .run(&[
            "store",
            "copy",
            "--from",
            db.to_str().unwrap(),
            "--to",
            db.to_str().unwrap(),
        ])
        .expect(2);
    assert!(
        same.error_line().contains("the same store"),
        "{}",
        same.stderr
    );
    let missing = env
        .run(&[
            "store",
            "copy",
            "--from",
            db.to_str().unwrap(),
            "--to",
            env.path("b.db").to_str().unwrap(),
        ])
        .expect(2);
    assert!(
        missing.error_line().contains("no database at"),
        "{}",
        missing.stderr
    );
    assert!(!env.path("b.db").exists(), "nothing was created");
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn killing_a_listener_under_load_loses_nothing_and_processes_nothing_twice() {
    on_postgres(|| {
        use std::time::Duration;
        let kcidb = crate::util::FakeKcidb::start();
        let mut w = crate::listen::World::new();
        w.env
            .set("KCIDB_REST", &kcidb.rest())
            .set("KBRIDGE_CLAIM_LEASE", "2");
        let jobs: Vec<_> = (0..12)
            .map(|i| {
                w.schedule(&test_on(
                    "ltp-smoke,ltp-fsx",
                    &format!("maestro:{:024x}", 100 + i),
                ))
            })
            .collect();
        let a = w.listen(&[]);
        let (_host_b, b) = second_listener(&w);
        // Slow enough that A has callbacks in hand when it is killed.
        *w.art.delay.lock().unwrap() = Duration::from_millis(400);
        std::thread::scope(|s| {
            for (i, job) in jobs.iter().enumerate() {
                let (w, l) = (&w, if i % 2 == 0 { &a } else { &b });
                s.spawn(move || w.deliver(l, job, &w.test_body(&job.uid)));
            }
        });
        a.kill9();
        *w.art.delay.lock().unwrap() = Duration::ZERO;
        for job in &jobs {
            w.wait_state(job.id, "completed");
        }
        // One callback row per job, each processed; one document per job
        // in the store and in the outbox.
        let inbox = w.inbox();
        assert_eq!(inbox.len(), jobs.len(), "{inbox:?}");
        assert!(
            inbox.iter().all(|r| r["status"] == "processed"),
            "{inbox:?}"
        );
        crate::util::wait_until(Duration::from_secs(30), "every document delivered", || {
            let outbox = w.env.run(&["outbox", "--json"]).expect(0).json();
            let docs = outbox["documents"].as_array().unwrap().clone();
            docs.len() == jobs.len() && docs.iter().all(|d| d["state"] == "submitted")
        });
        // KCIDB has every job's tests; an object sent twice can only be a
        // batch accepted just before its sender died, sent again as is.
        let objects = kcidb.objects();
        for job in &jobs {
            let doc = w.env.run(&["results", &job.uid, "--json"]).expect(1).json();
            for t in doc["tests"].as_array().unwrap() {
                let id = format!("tests/{}", t["id"].as_str().unwrap());
                let n = objects.get(&id).copied().unwrap_or(0);
                assert!((1..=2).contains(&n), "{id} accepted {n} times");
            }
        }
        drop(b);
    });
}

#[test]
#[ignore = "needs PostgreSQL: run under pg_virtualenv (see README)"]
fn a_listener_stopped_with_work_in_hand_leaves_it_to_another_at_once() {
    on_postgres(|| {
        use std::sync::atomic::Ordering;
        use std::time::{Duration, Instant};
        let w = crate::listen::World::new();
        let job = w.schedule_test();
        let a = w.listen(&[]);
        let (_host_b, b) = second_listener(&w);
        *w.art.delay.lock().unwrap() = Duration::from_secs(60);
        w.deliver(&a, &job, &w.test_body(&job.uid));
        crate::util::wait_until(Duration::from_secs(15), "A to start fetching", || {
            w.art.hits.load(Ordering::SeqCst) > 0
        });
        *w.art.delay.lock().unwrap() = Duration::ZERO;
        let stopped = Instant::now();
        assert_eq!(a.terminate(), 0);
        w.wait_state(job.id, "completed");
        // Not the 30 s claim lease: A gave its claim up as it stopped.
        let took = stopped.elapsed();
        assert!(took < Duration::from_secs(15), "taken over in {took:?}");
        assert!(
            b.stderr().contains(&format!("job {}: completed", job.id)),
            "{}",
            b.stderr()
        );
        assert_eq!(w.inbox().len(), 1);
    });
}
