//! Realism knobs: what makes the simulated REST API behave like Twilio's over a real
//! network (DESIGN 7). Twilio takes 100-500 ms to answer, answers 429 with `Retry-After`
//! when an account sends too much at once, fails now and then, and sometimes never
//! answers at all. Everything is off by default, so a test gets an instant and perfect
//! Twilio unless it asks for more.
//!
//! The knobs act in the REST handler (`routes`), on every request, in this order: the
//! rate limit (a request over it is answered 429 at once and does not count), then a
//! hang, then an error; the latency is slept before any answer, refusals included.
//! Refused and failed requests are recorded with their status and never applied; a
//! request that hangs is neither applied nor recorded (it is never answered). Callbacks
//! to shiftline are not affected.
//!
//! Randomness (jitter, errors, hangs) comes from one generator seeded with
//! [`Realism::seed`], drawn in the order requests arrive: the same seed and the same
//! sequence of requests give the same outcomes.

use std::collections::VecDeque;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

/// How far the simulated REST API is from an instant, perfect one. The default is all
/// off. In JSON (the control API's `/__sim/realism`), a field left out is off and an
/// unknown one is refused.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Realism {
    /// Every REST answer is sent this many milliseconds after the request arrived...
    pub latency_ms: u64,
    /// ...plus a uniform draw from `0..=jitter_ms` milliseconds.
    pub jitter_ms: u64,
    /// Requests per second the whole account may make, over any rolling second. A
    /// request past it is answered 429 with `Retry-After` (whole seconds until one is
    /// allowed again) and Twilio's error 20429. `None`: no limit.
    pub rps_limit: Option<u32>,
    /// The fraction of requests, 0.0 to 1.0, answered 500 with Twilio's error 20500.
    pub error_rate: f64,
    /// The fraction of requests, 0.0 to 1.0, never answered: the connection stays open
    /// until the client gives up.
    pub hang_rate: f64,
    /// Seeds the generator behind the jitter, the errors and the hangs.
    pub seed: u64,
}

impl Realism {
    /// Why these knobs cannot be used, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("hang_rate", self.hang_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be from 0.0 to 1.0, not {rate}"));
            }
        }
        if self.rps_limit == Some(0) {
            return Err("rps_limit must be at least 1 (or None for no limit)".into());
        }
        Ok(())
    }
}

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Answered as usual.
    Serve,
    /// 429, with `Retry-After` in seconds.
    Throttle { retry_after_secs: u64 },
    /// 500.
    Fail,
    /// Never answered.
    Hang,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// How long to wait before answering.
    pub delay: Duration,
    pub outcome: Outcome,
}

/// The knobs and what they need to remember.
pub(crate) struct Conditions {
    realism: Realism,
    rng: StdRng,
    /// When each request let through in the last second arrived, oldest first.
    recent: VecDeque<Instant>,
}

const WINDOW: Duration = Duration::from_secs(1);

impl Conditions {
    /// Takes knobs that passed [`Realism::validate`].
    pub fn new(realism: Realism) -> Self {
        Self {
            rng: StdRng::seed_from_u64(realism.seed),
            realism,
            recent: VecDeque::new(),
        }
    }

    /// The knobs.
    pub fn realism(&self) -> &Realism {
        &self.realism
    }

    /// Decides the fate of a request arriving at `now`.
    pub fn decide(&mut self, now: Instant) -> Verdict {
        let Realism {
            latency_ms,
            jitter_ms,
            error_rate,
            hang_rate,
            ..
        } = self.realism;
        let jitter = if jitter_ms > 0 {
            self.rng.random_range(0..=jitter_ms)
        } else {
            0
        };
        let delay = Duration::from_millis(latency_ms.saturating_add(jitter));
        let outcome = if let Some(retry_after_secs) = self.throttled(now) {
            Outcome::Throttle { retry_after_secs }
        } else if hang_rate > 0.0 && self.rng.random_bool(hang_rate) {
            Outcome::Hang
        } else if error_rate > 0.0 && self.rng.random_bool(error_rate) {
            Outcome::Fail
        } else {
            Outcome::Serve
        };
        Verdict { delay, outcome }
    }

    /// `Some(seconds to wait)` when the request arriving at `now` is over the limit;
    /// otherwise it is counted.
    fn throttled(&mut self, now: Instant) -> Option<u64> {
        let limit = usize::try_from(self.realism.rps_limit?).unwrap_or(usize::MAX);
        while self
            .recent
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= WINDOW)
        {
            self.recent.pop_front();
        }
        if self.recent.len() < limit {
            self.recent.push_back(now);
            return None;
        }
        // The oldest request in the window leaves it first; whole seconds, at least one,
        // as Twilio's `Retry-After` is.
        let oldest = *self.recent.front()?;
        let wait = (oldest + WINDOW).saturating_duration_since(now);
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Some(secs.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(realism: Realism, n: usize) -> Vec<Outcome> {
        let mut conditions = Conditions::new(realism);
        let now = Instant::now();
        (0..n).map(|_| conditions.decide(now).outcome).collect()
    }

    #[test]
    fn the_default_is_an_instant_perfect_twilio() {
        let mut conditions = Conditions::new(Realism::default());
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(
                conditions.decide(now),
                Verdict {
                    delay: Duration::ZERO,
                    outcome: Outcome::Serve
                }
            );
        }
    }

    #[test]
    fn latency_and_jitter_stay_in_their_range_and_jitter_varies() {
        let mut conditions = Conditions::new(Realism {
            latency_ms: 100,
            jitter_ms: 50,
            ..Realism::default()
        });
        let now = Instant::now();
        let delays: Vec<Duration> = (0..200).map(|_| conditions.decide(now).delay).collect();
        assert!(delays.iter().all(|d| (100..=150).contains(&d.as_millis())));
        assert!(delays.iter().any(|d| *d != delays[0]));
    }

    #[test]
    fn the_same_seed_gives_the_same_outcomes() {
        let realism = Realism {
            jitter_ms: 1000,
            error_rate: 0.3,
            hang_rate: 0.1,
            seed: 7,
            ..Realism::default()
        };
        let run = |realism: Realism| {
            let mut conditions = Conditions::new(realism);
            let now = Instant::now();
            (0..100).map(|_| conditions.decide(now)).collect::<Vec<_>>()
        };
        assert_eq!(run(realism.clone()), run(realism.clone()));
        assert_ne!(run(realism.clone()), run(Realism { seed: 8, ..realism }));
    }

    #[test]
    fn rates_give_roughly_their_fraction() {
        let errors = outcomes(
            Realism {
                error_rate: 0.25,
                ..Realism::default()
            },
            4000,
        );
        let failed = errors.iter().filter(|o| **o == Outcome::Fail).count();
        assert!((800..1200).contains(&failed), "{failed} of 4000 failed");
        assert!(
            outcomes(
                Realism {
                    hang_rate: 1.0,
                    ..Realism::default()
                },
                10
            )
            .iter()
            .all(|o| *o == Outcome::Hang)
        );
    }

    #[test]
    fn the_limit_counts_a_rolling_second() {
        let mut conditions = Conditions::new(Realism {
            rps_limit: Some(2),
            ..Realism::default()
        });
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        assert_eq!(conditions.decide(at(0)).outcome, Outcome::Serve);
        assert_eq!(conditions.decide(at(600)).outcome, Outcome::Serve);
        // Full until the request at 0 ms is a second old; refusals do not count.
        assert_eq!(
            conditions.decide(at(700)).outcome,
            Outcome::Throttle {
                retry_after_secs: 1
            }
        );
        assert_eq!(conditions.decide(at(1000)).outcome, Outcome::Serve);
        assert!(matches!(
            conditions.decide(at(1100)).outcome,
            Outcome::Throttle { .. }
        ));
        assert_eq!(conditions.decide(at(1600)).outcome, Outcome::Serve);
    }

    #[test]
    fn impossible_knobs_are_refused() {
        let bad = [
            Realism {
                error_rate: 1.5,
                ..Realism::default()
            },
            Realism {
                hang_rate: -0.1,
                ..Realism::default()
            },
            Realism {
                error_rate: f64::NAN,
                ..Realism::default()
            },
            Realism {
                rps_limit: Some(0),
                ..Realism::default()
            },
        ];
        for realism in bad {
            assert!(realism.validate().is_err(), "{realism:?}");
        }
        assert!(Realism::default().validate().is_ok());
    }
}
