//! Delivering the outbox: commands the core wrote are carried out against Twilio after the
//! unit of work that wrote them committed, and timers come back when they are due.
//!
//! - Lanes, in order: a worker's commands (TaskRouter sync, the call to their phone, a
//!   rejection, a hang-up) run one after another, and a later one waits while an earlier
//!   one backs off, so TaskRouter never sees OFF before the ON that preceded it.
//! - Coalescing: a `SyncWorker` carries the worker's whole desired state, so of several
//!   consecutive ones only the last is sent; the others are superseded and removed with it.
//! - Transient failures (network, 429, 5xx) are retried with exponential backoff and jitter,
//!   across restarts, since the entries stay in the store until delivered.
//! - A command Twilio refuses for good (another 4xx) is parked with its error, visible in
//!   `GET /api/outbox` and logged, never retried forever nor dropped silently. Rejecting a
//!   reservation or ending a call that is already over is not an error: it is done.
//! - What Twilio's answers teach (a call's SID, a Worker's SID) and due timers go back to
//!   the use cases through `Feedback`, which the service implements: the outbox knows the
//!   store and Twilio, never the layers above it.
//!
//! `deliver_due` is one deterministic step that tests call directly; `run` loops it.

mod execute;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Settings;
use crate::core::dispatch::Event;
use crate::core::domain::{PhoneNumber, ReservationSid, redact};
use crate::core::effects::{Activity, Command};
use crate::metrics::Metrics;
use crate::store::{OutboxEntry, Store, StoreError, TimerEntry};
use crate::twilio::rest::{TwilioClient, TwilioError};
pub use execute::Executor;

/// The longest wait between two tries of one command.
const MAX_BACKOFF: TimeDelta = TimeDelta::seconds(300);
/// How many lanes (and timers) one pass takes.
const BATCH: usize = 500;

/// What the outbox tells the use cases above it.
#[async_trait]
pub trait Feedback: Send + Sync {
    /// Whether the call to a reserved worker is still wanted (the reservation may have
    /// ended while the command waited).
    async fn call_wanted(&self, reservation: &ReservationSid) -> Result<bool, StoreError>;
    /// What Twilio said about the call to a reserved worker (created, or refused).
    async fn call_news(
        &self,
        reservation: &ReservationSid,
        event_id: String,
        event: Event,
    ) -> Result<(), StoreError>;
    /// TaskRouter's Worker SID for the worker with this phone.
    async fn worker_synced(&self, phone: &PhoneNumber, sid: &str) -> Result<(), StoreError>;
    /// A timer is due: feed it back to the worker's machines (at most once).
    async fn timer_due(&self, timer: TimerEntry) -> Result<(), StoreError>;
}

/// What one pass over the outbox did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub delivered: usize,
    pub superseded: usize,
    pub retrying: usize,
    pub parked: usize,
    pub timers: usize,
}

/// How one attempt at a command went.
pub enum Attempt {
    Done,
    /// Twilio refused it for good; keep it for an operator.
    Parked(TwilioError),
    Retry(TwilioError),
}

#[derive(Clone)]
pub struct Delivery {
    store: Arc<dyn Store>,
    executor: Executor,
    feedback: Arc<dyn Feedback>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    /// One pass at a time: two passes at once could both send the same command.
    pass: Arc<tokio::sync::Mutex<()>>,
}

impl Delivery {
    pub fn new(
        store: Arc<dyn Store>,
        client: TwilioClient,
        settings: Arc<Settings>,
        feedback: Arc<dyn Feedback>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            executor: Executor::new(client, settings),
            feedback,
            clock,
            metrics,
            wake,
            pass: Arc::default(),
        }
    }

    /// Delivers until stopped: after every commit (the wake), when a wait ends, and every
    /// few seconds in case a wake-up was missed.
    pub async fn run(self) {
        loop {
            let wait = match self.deliver_due().await {
                Ok(_) => match self.store.next_due().await {
                    Ok(Some(due)) => (due - self.clock.now())
                        .to_std()
                        .unwrap_or_default()
                        .min(std::time::Duration::from_secs(5)),
                    _ => std::time::Duration::from_secs(5),
                },
                Err(e) => {
                    tracing::error!(error = %e, "outbox: cannot read the store");
                    std::time::Duration::from_secs(1)
                }
            };
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
        }
    }

    /// One pass: every timer that is due fires, every command that is due is delivered,
    /// retried later or parked.
    pub async fn deliver_due(&self) -> Result<Report, StoreError> {
        let _one_at_a_time = self.pass.lock().await;
        let now = self.clock.now();
        let mut report = Report::default();
        for timer in self.store.due_timers(now, BATCH).await? {
            self.feedback.timer_due(timer).await?;
            report.timers += 1;
        }
        for lane in self.store.due(now, BATCH).await? {
            self.deliver(lane, now, &mut report).await?;
        }
        Ok(report)
    }

    /// The head of one lane: a command, or a run of syncs of which the last is sent.
    async fn deliver(
        &self,
        run: Vec<OutboxEntry>,
        now: DateTime<Utc>,
        report: &mut Report,
    ) -> Result<(), StoreError> {
        let Some(last) = run.last() else {
            return Ok(());
        };
        let ids: Vec<u64> = run.iter().map(|e| e.id).collect();
        let command = match &last.command {
            // If a superseded sync would have rejected pending reservations and the worker
            // ends up offline, the last one must reject them too.
            Command::SyncWorker { spec, .. } => Command::SyncWorker {
                spec: spec.clone(),
                reject_pending_reservations: spec.activity == Activity::Offline
                    && run.iter().any(|e| {
                        matches!(
                            &e.command,
                            Command::SyncWorker {
                                reject_pending_reservations: true,
                                ..
                            }
                        )
                    }),
            },
            other => other.clone(),
        };
        let outcome = self
            .executor
            .run(&command, self.store.as_ref(), self.feedback.as_ref())
            .await;
        let described = || redact(&last.command.describe());
        match outcome {
            Attempt::Done => {
                self.store.delivered(&ids).await?;
                report.delivered += 1;
                report.superseded += run.len() - 1;
            }
            Attempt::Parked(e) => {
                self.metrics.outbox_failure("parked");
                self.store.park(&ids, &e.to_string(), now).await?;
                report.parked += run.len();
                tracing::error!(command = %described(), error = %redact(&e.to_string()), "outbox: Twilio refused a command for good; parked");
            }
            Attempt::Retry(e) => {
                self.metrics.outbox_failure("retry");
                let head = &run[0];
                let due = now + backoff(head.attempts, &head.command.lane());
                self.store.retry(head.id, due, &e.to_string()).await?;
                report.retrying += 1;
                tracing::warn!(command = %described(), error = %redact(&e.to_string()), attempts = head.attempts + 1, "outbox: will retry");
            }
        }
        Ok(())
    }
}

/// 1 s, 2 s, 4 s ... up to five minutes, with up to 20% jitter so that many workers' retries
/// do not all land on Twilio in the same second. The jitter comes from the lane (the worker),
/// not a random number: workers still spread out, and a replayed scenario retries at the
/// same moments every time.
fn backoff(attempts: u32, lane: &str) -> TimeDelta {
    let base = TimeDelta::seconds(1i64 << attempts.min(9)).min(MAX_BACKOFF);
    let spread = (base.num_milliseconds() / 5).max(1) as u64;
    // FNV-1a: a stable hash (std's is randomly seeded per process).
    let hash = lane.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mixed = hash ^ u64::from(attempts).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    base + TimeDelta::milliseconds((mixed % spread) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_stops_at_five_minutes() {
        assert!(
            backoff(0, "a") >= TimeDelta::seconds(1)
                && backoff(0, "a") <= TimeDelta::milliseconds(1200)
        );
        assert!(backoff(3, "a") >= TimeDelta::seconds(8));
        assert!(backoff(30, "a") <= MAX_BACKOFF + MAX_BACKOFF / 5);
    }

    #[test]
    fn different_workers_back_off_by_different_amounts() {
        let waits: std::collections::HashSet<_> = (0..50)
            .map(|n| backoff(4, &format!("+1555000{n:04}")))
            .collect();
        assert!(
            waits.len() > 25,
            "jitter spreads retries: {} distinct waits",
            waits.len()
        );
    }
}
