//! The upload limit: a token bucket the packer waits on before it sends a pack.

use std::time::{Duration, Instant};

/// A token bucket for uploads: each upload of `n` bytes waits until the bytes before it have
/// gone out at `rate` bytes/s.
#[derive(Debug)]
pub(super) struct Throttle {
    rate: u64,
    free_at: Option<Instant>,
}

impl Throttle {
    pub fn new(rate: u64) -> Throttle {
        Throttle {
            rate: rate.max(1),
            free_at: None,
        }
    }

    /// How long to wait before sending `bytes` at `now`.
    pub fn delay_for(&mut self, now: Instant, bytes: u64) -> Duration {
        let start = self.free_at.filter(|t| *t > now).unwrap_or(now);
        self.free_at = Some(start + Duration::from_secs_f64(bytes as f64 / self.rate as f64));
        start - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_spaces_uploads_at_the_rate() {
        let mut t = Throttle::new(1_000_000);
        let now = Instant::now();
        assert_eq!(t.delay_for(now, 2_000_000), Duration::ZERO);
        assert_eq!(t.delay_for(now, 1_000_000), Duration::from_secs(2));
        assert_eq!(
            t.delay_for(now + Duration::from_secs(10), 5),
            Duration::ZERO
        );
    }
}
