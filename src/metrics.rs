//! What `GET /metrics` reports, in the Prometheus text format.
//!
//! Counters are process-wide: every part that has something to count
//! (the HTTP handler, the pipeline, the KCIDB submitter) adds to
//! [`global`]. Gauges that describe the store (jobs by state, backlogs)
//! are read from it when a scrape asks, so they are true after a restart.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Why a request to a callback route was not taken, as the `reason`
/// label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The signature is missing, malformed or does not verify.
    Signature,
    /// The per-job token is missing or wrong.
    Token,
    /// The body or the headers are too large.
    Oversize,
    /// Authenticated but unreadable, or the body came too slowly.
    Malformed,
    /// No such runner, kind or method.
    Route,
    /// The store or its queue could not take it (503).
    Unavailable,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Refusal::Signature => "signature",
            Refusal::Token => "token",
            Refusal::Oversize => "oversize",
            Refusal::Malformed => "malformed",
            Refusal::Route => "route",
            Refusal::Unavailable => "unavailable",
        }
    }
}

type Labels = [(&'static str, &'static str); 2];

/// Every counter kbridge keeps.
pub struct Metrics {
    registry: Registry,
    callbacks: Family<Labels, Counter>,
    connections_refused: Counter,
    fetches: Counter,
    fetch_failures: Counter,
    processing: Histogram,
    submissions: Family<[(&'static str, &'static str); 1], Counter>,
    jobs: Family<[(&'static str, &'static str); 1], Gauge>,
    inbox_backlog: Gauge,
    outbox_backlog: Gauge,
    oldest_overdue: Gauge,
    log_suppressed: Counter,
    claims_lost: Counter,
    store_reconnects: Counter,
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// What the store says when a scrape asks.
#[derive(Debug, Default, Clone)]
pub struct StoreFigures {
    /// Jobs by state name.
    pub jobs: Vec<(&'static str, i64)>,
    /// Callbacks stored and waiting to be processed.
    pub inbox_backlog: i64,
    /// Documents waiting to be submitted to KCIDB.
    pub outbox_backlog: i64,
    /// Seconds since the oldest job whose report is overdue was submitted.
    pub oldest_overdue_seconds: i64,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("kbridge");
        let callbacks = Family::<Labels, Counter>::default();
        registry.register(
            "callbacks",
            "Requests to the callback and report routes, by outcome (accepted, duplicate, unmatched, rejected) and reason",
            callbacks.clone(),
        );
        let connections_refused = Counter::default();
        registry.register(
            "connections_refused",
            "Connections closed at once because their client address had too many open",
            connections_refused.clone(),
        );
        let fetches = Counter::default();
        registry.register(
            "fetch_attempts",
            "Attempts to fetch a job's results from its runner",
            fetches.clone(),
        );
        let fetch_failures = Counter::default();
        registry.register(
            "fetch_failures",
            "Attempts to fetch a job's results that failed",
            fetch_failures.clone(),
        );
        let processing =
            Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]);
        registry.register(
            "processing_seconds",
            "Time from a callback being stored to its job's document being written",
            processing.clone(),
        );
        let submissions = Family::default();
        registry.register(
            "kcidb_submissions",
            "Requests sent to KCIDB, by outcome (accepted, refused, failed)",
            submissions.clone(),
        );
        let jobs = Family::default();
        registry.register("jobs", "Jobs in the store, by state", jobs.clone());
        let inbox_backlog = Gauge::default();
        registry.register(
            "inbox_backlog",
            "Callbacks stored and waiting to be processed",
            inbox_backlog.clone(),
        );
        let outbox_backlog = Gauge::default();
        registry.register(
            "outbox_backlog",
            "KCIDB documents waiting to be submitted",
            outbox_backlog.clone(),
        );
        let oldest_overdue = Gauge::default();
        registry.register(
            "oldest_overdue_job_seconds",
            "Age of the oldest job whose report is overdue (0 when none is)",
            oldest_overdue.clone(),
        );
        let log_suppressed = Counter::default();
        registry.register(
            "log_lines_suppressed",
            "Log lines about refused requests left out to keep the log readable",
            log_suppressed.clone(),
        );
        let claims_lost = Counter::default();
        registry.register(
            "claims_lost",
            "Callbacks another listener on the same database took over while this one processed them (its result was dropped)",
            claims_lost.clone(),
        );
        let store_reconnects = Counter::default();
        registry.register(
            "store_reconnects",
            "Sessions opened again after the PostgreSQL server closed them",
            store_reconnects.clone(),
        );
        Metrics {
            registry,
            claims_lost,
            store_reconnects,
            callbacks,
            connections_refused,
            fetches,
            fetch_failures,
            processing,
            submissions,
            jobs,
            inbox_backlog,
            outbox_backlog,
            oldest_overdue,
            log_suppressed,
        }
    }

    /// A worker's result dropped: its callback's claim had passed to
    /// another listener.
    pub fn claim_lost(&self) {
        self.claims_lost.inc();
    }

    /// A PostgreSQL session opened again.
    pub fn store_reconnected(&self) {
        self.store_reconnects.inc();
    }

    /// A callback or report stored as new work.
    pub fn accepted(&self) {
        self.count("accepted", "");
    }

    /// A callback or report for something already reported on.
    pub fn duplicate(&self) {
        self.count("duplicate", "");
    }

    /// A signed callback for a job not known (yet).
    pub fn unmatched(&self) {
        self.count("unmatched", "");
    }

    /// A request that was refused.
    pub fn refused(&self, why: Refusal) {
        self.count("rejected", why.label());
    }

    fn count(&self, outcome: &'static str, reason: &'static str) {
        self.callbacks
            .get_or_create(&[("outcome", outcome), ("reason", reason)])
            .inc();
    }

    pub fn connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// One attempt to fetch results, and whether it failed.
    pub fn fetched(&self, failed: bool) {
        self.fetches.inc();
        if failed {
            self.fetch_failures.inc();
        }
    }

    /// A job's document was written this long after its callback was stored.
    pub fn processed(&self, took: Duration) {
        self.processing.observe(took.as_secs_f64());
    }

    /// A request to KCIDB ended this way (`accepted`, `refused`, `failed`).
    pub fn submitted(&self, outcome: &'static str) {
        self.submissions
            .get_or_create(&[("outcome", outcome)])
            .inc();
    }

    pub fn log_suppressed(&self, n: u64) {
        self.log_suppressed.inc_by(n);
    }

    /// The text a scrape gets, with the store's figures as they are now.
    pub fn render(&self, store: &StoreFigures) -> String {
        for (state, n) in &store.jobs {
            self.jobs.get_or_create(&[("state", state)]).set(*n);
        }
        self.inbox_backlog.set(store.inbox_backlog);
        self.outbox_backlog.set(store.outbox_backlog);
        self.oldest_overdue.set(store.oldest_overdue_seconds);
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_store_figures_are_in_the_text() {
        let m = Metrics::new();
        m.accepted();
        m.refused(Refusal::Signature);
        m.refused(Refusal::Signature);
        m.processed(Duration::from_millis(300));
        let text = m.render(&StoreFigures {
            jobs: vec![("submitted", 3)],
            inbox_backlog: 2,
            ..StoreFigures::default()
        });
        assert!(
            text.contains(r#"kbridge_callbacks_total{outcome="rejected",reason="signature"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"kbridge_jobs{state="submitted"} 3"#),
            "{text}"
        );
        assert!(text.contains("kbridge_inbox_backlog 2"), "{text}");
        assert!(text.contains("kbridge_processing_seconds_bucket"), "{text}");
    }
}
