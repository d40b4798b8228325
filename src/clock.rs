//! Time, in the forms kbridge uses: milliseconds since the Unix epoch (the
//! clock retries, polls and leases are scheduled on, and every time the
//! store keeps), RFC 3339 UTC with second precision (every time shown),
//! and cut-offs ("received more than D ago"). Nothing else in kbridge
//! reads the clock.

use std::time::Duration;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A time as kbridge shows it: RFC 3339 UTC with second precision.
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The time `d` ago (a duration too long to subtract is the epoch).
pub fn ago(d: Duration) -> jiff::Timestamp {
    jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// A shown RFC 3339 time in milliseconds since the epoch.
pub fn ms_of(rfc3339: &str) -> Option<i64> {
    rfc3339
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_and_cut_offs_saturate() {
        let now = rfc3339(jiff::Timestamp::now());
        assert_eq!(now.len(), "2026-12-07T03:27:49Z".len());
        let ms = ms_of(&now).unwrap();
        assert!((now_ms() - ms).abs() < 2_000);
        assert_eq!(rfc3339(ago(Duration::MAX)), "1970-01-01T00:00:00Z");
        assert!(rfc3339(ago(Duration::from_secs(60))) < now);
    }
}
