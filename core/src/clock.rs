//! Time, injected. Everything that compares ages or schedules reminders asks a [`Clock`], so tests
//! move time forward instead of sleeping.

use std::{
    fmt,
    sync::{Mutex, OnceLock},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use crate::sync::lock;

/// A source of the current wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time in milliseconds since the Unix epoch, the unit Matrix uses for
    /// `origin_server_ts`.
    fn now_millis(&self) -> u64 {
        millis_since_epoch(self.now())
    }

    /// Milliseconds on a clock that never steps back (unlike the wall clock, which the
    /// operating system may set), for measuring how long ago something happened.
    fn monotonic_millis(&self) -> u64;
}

/// `duration` in whole milliseconds (saturating).
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds since the Unix epoch; times before the epoch count as zero.
pub fn millis_since_epoch(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn monotonic_millis(&self) -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        millis(START.get_or_init(Instant::now).elapsed())
    }
}

/// The operating system's clock, a fixed time ahead: for end-to-end tests of what happens days
/// later (an overdue follow-up) against real homeservers, which keep their own time.
#[derive(Debug, Default, Clone, Copy)]
pub struct AheadClock(pub Duration);

impl Clock for AheadClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + self.0
    }

    fn monotonic_millis(&self) -> u64 {
        SystemClock.monotonic_millis()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct TestClock {
    now: Mutex<SystemTime>,
}

impl TestClock {
    /// A clock stopped at `start`.
    pub fn new(start: SystemTime) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// A clock stopped at `millis` after the Unix epoch.
    pub fn at_millis(millis: u64) -> Self {
        Self::new(UNIX_EPOCH + Duration::from_millis(millis))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *lock(&self.now) += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        *lock(&self.now)
    }

    /// The test clock's time: it only moves forward, when advanced.
    fn monotonic_millis(&self) -> u64 {
        self.now_millis()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_clock_moves_only_when_advanced() {
        let clock = TestClock::at_millis(1_000);
        assert_eq!(clock.now_millis(), 1_000);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now_millis(), 3_000);
    }

    #[test]
    fn times_before_the_epoch_count_as_zero() {
        assert_eq!(millis_since_epoch(UNIX_EPOCH - Duration::from_secs(1)), 0);
    }
}
