//! The one stop signal every stage of a pipeline waits on. A stage that
//! has nothing to do sleeps on it, so a stop is seen at once, without
//! waking up to look at a flag.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Set once; every clone sees it.
#[derive(Clone, Default)]
pub struct Stop(Arc<(Mutex<bool>, Condvar)>);

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Tells every stage to stop, waking those that sleep.
    pub fn stop(&self) {
        let (set, woken) = &*self.0;
        if let Ok(mut set) = set.lock() {
            *set = true;
        }
        woken.notify_all();
    }

    pub fn is_stopped(&self) -> bool {
        self.0 .0.lock().map(|s| *s).unwrap_or(true)
    }

    /// Sleeps for `d` unless a stop comes first; says whether it came.
    pub fn wait(&self, d: Duration) -> bool {
        let (set, woken) = &*self.0;
        let deadline = Instant::now() + d;
        let Ok(mut stopped) = set.lock() else {
            return true;
        };
        while !*stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            stopped = match woken.wait_timeout(stopped, left) {
                Ok((s, _)) => s,
                Err(_) => return true,
            };
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleeping_stage_wakes_at_the_stop() {
        let stop = Stop::new();
        assert!(!stop.wait(Duration::from_millis(10)));
        let other = stop.clone();
        let started = Instant::now();
        let t = std::thread::spawn(move || other.wait(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(50));
        stop.stop();
        assert!(t.join().unwrap());
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(stop.is_stopped() && stop.wait(Duration::from_secs(60)));
    }
}
