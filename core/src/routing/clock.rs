//! The clock health state runs on: tokio's, so tests can pause and advance it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Milliseconds since the gateway started (never 0, which health uses for "not set"),
/// on tokio's clock, plus the wall-clock time of the start for reporting.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: Instant,
    wall_epoch_ms: u64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    /// A clock starting now.
    pub fn new() -> Clock {
        let wall_epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        Clock {
            epoch: Instant::now(),
            wall_epoch_ms,
        }
    }

    /// Now, in clock milliseconds (>= 1).
    pub fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    /// The tokio instant of a clock time, for sleeping until it.
    pub fn instant(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms.saturating_sub(1))
    }

    /// The clock time of a tokio instant.
    pub fn ms_of(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64 + 1
    }

    /// The Unix time in ms of a clock time, for showing when a cooldown ends.
    pub fn unix_ms(&self, ms: u64) -> u64 {
        self.wall_epoch_ms + ms.saturating_sub(1)
    }
}
