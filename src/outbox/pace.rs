//! How fast the outbox may go, shared by every lane: at most `limit` requests in flight,
//! and none while Twilio has asked the account to wait.
//!
//! Twilio answers 429 (error 20429) when an account has too many requests in flight, so a
//! 429 concerns the whole service, not the lane that happened to get it: the outbox halves
//! how many requests it keeps in flight and pauses everything but what customers wait on
//! (for Retry-After when Twilio gives it, a second otherwise), then grows back by one
//! request per success. The 429s of one burst arrive while the pause they caused is on and
//! count once.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// The pause after a 429 that gave no Retry-After.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Pace {
    max: usize,
    limit: usize,
    paused_until: Option<DateTime<Utc>>,
}

impl Pace {
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            limit: max.max(1),
            paused_until: None,
        }
    }

    /// How many requests may be in flight now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Until when nothing may be sent, if Twilio asked for a pause that is not over.
    pub fn paused_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.paused_until.filter(|until| *until > now)
    }

    /// A request went through: allow one more in flight, up to the maximum. Growing back
    /// fast matters: a 429 that says nothing about load (another app on the account
    /// bursting) must not leave the outbox crawling for minutes.
    pub fn succeeded(&mut self) {
        self.limit = (self.limit + 1).min(self.max);
    }

    /// Twilio answered 429. Returns when the request may be tried again.
    pub fn throttled(
        &mut self,
        now: DateTime<Utc>,
        retry_after: Option<Duration>,
    ) -> DateTime<Utc> {
        let wait = retry_after.unwrap_or(DEFAULT_PAUSE);
        let until = now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::seconds(1));
        if self.paused_until(now).is_none() {
            self.limit = (self.limit / 2).max(1);
        }
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
        until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn a_429_pauses_everything_for_retry_after_and_halves_the_requests_in_flight() {
        let mut pace = Pace::new(32);
        let until = pace.throttled(at(0), Some(Duration::from_secs(3)));
        assert_eq!(until, at(3));
        assert_eq!(pace.paused_until(at(2)), Some(at(3)));
        assert_eq!(pace.paused_until(at(3)), None);
        assert_eq!(pace.limit(), 16);
    }

    #[test]
    fn the_429s_of_one_burst_count_once() {
        let mut pace = Pace::new(32);
        pace.throttled(at(0), None);
        pace.throttled(at(0), None);
        pace.throttled(at(0), None);
        assert_eq!(pace.limit(), 16, "the same burst halves once");
        assert_eq!(pace.paused_until(at(0)), Some(at(1)));
        pace.throttled(at(1), None);
        assert_eq!(pace.limit(), 8, "a 429 after the pause is news");
    }

    #[test]
    fn successes_grow_the_limit_back_to_the_maximum() {
        let mut pace = Pace::new(8);
        pace.throttled(at(0), None);
        pace.throttled(at(2), None);
        assert_eq!(pace.limit(), 2);
        pace.succeeded();
        assert_eq!(pace.limit(), 3, "one more per success");
        for _ in 0..100 {
            pace.succeeded();
        }
        assert_eq!(pace.limit(), 8, "never past the configured maximum");
    }

    #[test]
    fn the_limit_never_falls_below_one() {
        let mut pace = Pace::new(2);
        for n in 0..10 {
            pace.throttled(at(n * 10), None);
        }
        assert_eq!(pace.limit(), 1);
    }
}
