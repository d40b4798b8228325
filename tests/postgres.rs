//! kbridge on a PostgreSQL store: the same test bodies as on SQLite, run
//! again with every environment storing in a fresh PostgreSQL database,
//! and what only a server store can get wrong (its settings, several
//! processes creating its schema at once).
//!
//! Each test is ignored without a server (see `util::postgres`).

use crate::util::postgres::{self as pg, on_postgres};
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

fn schedule_args() -> Vec<&'static str> {
    schedule_tests("ltp-smoke")
}

fn schedule_tests(tests: &'static str) -> Vec<&'static str> {
    vec![
        "schedule",
        "test",
        "--kernel",
        "https://storage.example/Image",
        "--tests",
        tests,
        "--build-id",
        "maestro:681b69099ae9711e9ed49766",
        "--json",
    ]
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
            let mut e = Env::bare();
            e.vars = env.vars.clone();
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
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, p)| p.to_string())
        .expect("the test server has a password");
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
    let doctor = env.run(&["doctor"]).stdout;
    assert!(
        doctor.contains("✓ database: PostgreSQL") && doctor.contains("listener(s) alive"),
        "{doctor}"
    );
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
}
