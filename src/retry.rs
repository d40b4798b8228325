//! The one backoff policy: exponential, capped, with jitter.
//!
//! Every retry in kbridge waits through [`Backoff`]: submissions to a
//! runner, fetching results, delivering documents to KCIDB and polling. The
//! jitter matters once many jobs retry together (a listener restarting with
//! a backlog, a KCIDB outage ending): without it they would all come back
//! in the same instant.

use std::time::Duration;

/// How long to wait before each retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The pause before the first retry.
    pub first: Duration,
    /// No pause is longer than this.
    pub max: Duration,
    /// Each pause is this many times the previous one.
    pub factor: u32,
    /// The fraction of each pause that is random (0 for none, 0.5 for
    /// "somewhere between half and all of it").
    pub jitter: f64,
}

impl Backoff {
    /// Doubling pauses from `first` up to `max`, each shortened by up to
    /// half at random.
    pub fn new(first: Duration, max: Duration) -> Backoff {
        Backoff {
            first,
            max,
            factor: 2,
            jitter: 0.5,
        }
    }

    /// The same pauses without randomness, for callers that must be
    /// predictable (a short CLI retry the user watches).
    pub fn exact(self) -> Backoff {
        Backoff {
            jitter: 0.0,
            ..self
        }
    }

    /// The pause before retry number `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let growth = self.factor.max(1).saturating_pow(attempt.min(30));
        let full = self.first.saturating_mul(growth).min(self.max);
        if self.jitter <= 0.0 {
            return full;
        }
        let cut = full.mul_f64(self.jitter.min(1.0) * random_fraction());
        full.saturating_sub(cut)
    }
}

/// Retrying durable work (a stored callback's fetch, a stored document's
/// delivery) until a deadline: the inbox and the outbox decide the same
/// way from what they keep of each item, when it was first tried and how
/// many times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deadline {
    pub backoff: Backoff,
    /// How long after the first attempt an item is given up on.
    pub retry_for: Duration,
}

/// What to do with an item whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Tried for `tried` already, longer than allowed: give up.
    GiveUp { tried: Duration },
    /// Try again at `at_ms` (ms since the epoch), after `pause`.
    RetryAt { at_ms: i64, pause: Duration },
}

impl Deadline {
    /// The next step for an item first tried at `first_ms` and tried
    /// `attempts` times, at `now_ms`; a service's `Retry-After` is
    /// `at_least`.
    pub fn next(
        &self,
        first_ms: i64,
        attempts: i64,
        now_ms: i64,
        at_least: Option<Duration>,
    ) -> Next {
        let tried = Duration::from_millis((now_ms - first_ms).max(0) as u64);
        if tried >= self.retry_for {
            return Next::GiveUp { tried };
        }
        let pause = self
            .backoff
            .delay(u32::try_from(attempts).unwrap_or(u32::MAX))
            .max(at_least.unwrap_or(Duration::ZERO));
        Next::RetryAt {
            at_ms: now_ms + pause.as_millis() as i64,
            pause,
        }
    }
}

/// `d` lengthened by up to `fraction` of itself at random: never shorter,
/// so "at most once per interval" still holds.
pub fn jitter_up(d: Duration, fraction: f64) -> Duration {
    d + d.mul_f64(fraction.clamp(0.0, 1.0) * random_fraction())
}

/// A number in [0, 1) from the operating system's random source.
fn random_fraction() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_cap() {
        let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(60)).exact();
        let pauses: Vec<u64> = (0..7).map(|a| b.delay(a).as_secs()).collect();
        assert_eq!(pauses, [2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn upward_jitter_never_shortens() {
        let d = Duration::from_secs(30);
        for _ in 0..100 {
            let j = jitter_up(d, 0.2);
            assert!(j >= d && j <= Duration::from_secs(36), "{j:?}");
        }
    }

    #[test]
    fn jitter_stays_between_half_and_all() {
        let b = Backoff::new(Duration::from_secs(8), Duration::from_secs(60));
        let seen: Vec<Duration> = (0..200).map(|_| b.delay(0)).collect();
        assert!(seen
            .iter()
            .all(|d| *d >= Duration::from_secs(4) && *d <= Duration::from_secs(8)));
        assert!(
            seen.iter().any(|d| *d != seen[0]),
            "the pauses are not all the same"
        );
    }

    #[test]
    fn durable_work_is_retried_with_backoff_until_its_deadline() {
        let d = Deadline {
            backoff: Backoff::new(Duration::from_secs(2), Duration::from_secs(60)).exact(),
            retry_for: Duration::from_secs(100),
        };
        assert_eq!(
            d.next(0, 0, 1_000, None),
            Next::RetryAt {
                at_ms: 3_000,
                pause: Duration::from_secs(2)
            }
        );
        assert_eq!(
            d.next(0, 3, 1_000, Some(Duration::from_secs(30))),
            Next::RetryAt {
                at_ms: 31_000,
                pause: Duration::from_secs(30)
            }
        );
        assert_eq!(
            d.next(0, 9, 100_000, None),
            Next::GiveUp {
                tried: Duration::from_secs(100)
            }
        );
    }
}
