//! Delivering the outbox: commands the core wrote are carried out against Twilio after the
//! unit of work that wrote them committed, and timers come back when they are due.
//!
//! - Lanes: a worker's TaskRouter changes, a reservation's call, a call's changes, a
//!   recipient's texts (`Command::lane`). Order is kept inside a lane (a later command
//!   waits while an earlier one backs off), never across lanes: lanes are delivered
//!   concurrently, up to `[twilio] max_concurrent_requests` requests in flight for the
//!   whole service.
//! - Priority: a free request slot goes to the most urgent due lane, one holding what a
//!   waiting customer needs (the worker's call, a rejection, a redirect, a hang-up), before
//!   syncs and texts. So a burst of syncs delays a customer's call by at most the one round
//!   trip it takes for a slot to free up. Timers fire beside the requests, taking no slot.
//! - Exclusive claims: a lane is delivered by whoever claimed it from the store, and
//!   nobody else can claim it until that claim is finished (`Store::claim`), so one command
//!   never runs twice at once, whether two passes or two loops are running.
//! - Coalescing: a `SyncWorker` carries the worker's whole desired state, so of several
//!   consecutive ones only the last is sent; the others are superseded and removed with it.
//! - One retry policy, here: a request is tried once (with a timeout, so a hung request
//!   fails like a 5xx) and nothing sleeps in a request slot. A transient failure (network,
//!   timeout, 5xx) waits out an exponential backoff with jitter, in the store, so it
//!   survives restarts; a 429 slows the whole service down (`pace`).
//! - A command Twilio refuses for good (another 4xx) is parked with its error, visible in
//!   `GET /api/outbox` and logged, never retried forever nor dropped silently. Rejecting a
//!   reservation or ending a call that is already over is not an error: it is done.
//! - What Twilio's answers teach (a call's SID, a Worker's SID) and due timers go back to
//!   the use cases through `Feedback`, which the service implements: the outbox knows the
//!   store and Twilio, never the layers above it.
//!
//! `deliver_due` delivers everything due now and returns, for tests and the demo; `run`
//! delivers continuously.

mod execute;
mod pace;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::Settings;
use crate::core::dispatch::Event;
use crate::core::domain::{PhoneNumber, ReservationSid, redact};
use crate::core::effects::{Command, Priority};
use crate::metrics::Metrics;
use crate::store::{Claim, Store, StoreError, TimerEntry};
use crate::twilio::rest::{RetryPolicy, TwilioClient, TwilioError};
pub use execute::Executor;
use pace::Pace;

/// The longest wait between two tries of one command...
const MAX_BACKOFF: TimeDelta = TimeDelta::seconds(300);
/// ...and of one a customer waits on: a caller on hold should hear the voicemail prompt
/// within seconds of Twilio coming back, not minutes.
const MAX_URGENT_BACKOFF: TimeDelta = TimeDelta::seconds(10);
/// Timers taken from the store at once.
const TIMER_BATCH: usize = 500;
/// Timers fired at once, at most: enough for their flushes to share one group commit.
const TIMERS_AT_ONCE: usize = 16;
/// How often `run` renews its claims on a shared store: well within the lease, so a live
/// instance never loses a lane it is working on.
const RENEW_CLAIMS: Duration = Duration::from_secs(4);
/// Lanes one `deliver_due` pass takes.
const PASS: usize = 1000;
/// The longest `run` sleeps without looking, in case a wake-up was missed.
const IDLE_LOOK: Duration = Duration::from_secs(5);

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
    /// A voicemail's transcription did not come in time: text the notify list without it
    /// (nothing when it was announced already).
    async fn announce_voicemail(&self, recording_sid: &str) -> Result<(), StoreError>;
    /// The TaskRouter workflow customers' calls go through, once known.
    fn workflow_sid(&self) -> Option<String>;
}

/// What delivery did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub delivered: usize,
    pub superseded: usize,
    pub retrying: usize,
    pub parked: usize,
    pub timers: usize,
}

impl Report {
    fn add(&mut self, other: Report) {
        self.delivered += other.delivered;
        self.superseded += other.superseded;
        self.retrying += other.retrying;
        self.parked += other.parked;
        self.timers += other.timers;
    }
}

/// How one attempt at a command went.
pub enum Attempt {
    Done,
    /// Twilio refused it for good; keep it for an operator.
    Parked(TwilioError),
    Retry(TwilioError),
}

type Requests = JoinSet<Result<Report, StoreError>>;

#[derive(Clone)]
pub struct Delivery {
    store: Arc<dyn Store>,
    executor: Executor,
    feedback: Arc<dyn Feedback>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    pace: Arc<Mutex<Pace>>,
    /// Claims being delivered now, by any clone.
    in_flight: Arc<tokio::sync::watch::Sender<usize>>,
    /// Timers fired at once: as many as requests in flight (one at a time, when requests
    /// go one at a time, keeps replays deterministic), at most `TIMERS_AT_ONCE`.
    timers_at_once: usize,
}

impl Delivery {
    /// Delivery through `client`'s account, trying each request once with the configured
    /// timeout: retrying is the outbox's own business.
    pub fn new(
        store: Arc<dyn Store>,
        client: TwilioClient,
        settings: Arc<Settings>,
        feedback: Arc<dyn Feedback>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        wake: Arc<Notify>,
    ) -> Self {
        let limits = settings.requests;
        let client = client.with_retry(RetryPolicy::once(limits.timeout));
        Self {
            store,
            executor: Executor::new(client, settings),
            feedback,
            clock,
            metrics,
            wake,
            pace: Arc::new(Mutex::new(Pace::new(limits.max_concurrent))),
            in_flight: Arc::new(tokio::sync::watch::channel(0).0),
            timers_at_once: limits.max_concurrent.clamp(1, TIMERS_AT_ONCE),
        }
    }

    /// Delivers until stopped: starts what is due whenever a request slot is free, fires
    /// timers beside it, and sleeps until a commit wakes it, a request finishes, or the
    /// next backoff or timer is due.
    pub async fn run(self) {
        let mut requests = Requests::new();
        // At most one batch of timers fires at a time.
        let mut timers = Requests::new();
        let mut renewed = std::time::Instant::now();
        loop {
            let now = self.clock.now();
            if renewed.elapsed() >= RENEW_CLAIMS {
                // A shared store leases claims: say this instance is alive and still on them.
                if let Err(e) = self.store.keep_claims(now).await {
                    tracing::warn!(error = %e, "outbox: cannot renew the claims");
                }
                renewed = std::time::Instant::now();
            }
            if timers.is_empty() && self.timers_due(now).await {
                let this = self.clone();
                timers.spawn(async move { this.fire_timers(now).await });
            }
            if let Err(e) = self.start_due(&mut requests).await {
                tracing::error!(error = %e, "outbox: cannot read the store");
            }
            let idle = requests.is_empty() && timers.is_empty();
            let wait = self.wait(now, idle).await;
            // An empty JoinSet answers None at once, which disables its branch.
            tokio::select! {
                Some(done) = requests.join_next() => self.finished(done),
                Some(done) = timers.join_next() => self.finished(done),
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One pass over what is due now: the due timers fire, then the lanes due at the start
    /// of the pass are claimed at once, most urgent first, and delivered in that order, up
    /// to the request limit at a time. What their delivery sets off (a lane's next command,
    /// a command written by a callback meanwhile) waits for the next pass, so a pass with
    /// one request at a time is a deterministic step for tests and the demo.
    pub async fn deliver_due(&self) -> Result<Report, StoreError> {
        let now = self.clock.now();
        let mut report = self.fire_timers(now).await?;
        let mut waiting = self
            .store
            .claim_upto(now, PASS, self.allowed())
            .await?
            .into_iter();
        let mut held = Vec::new();
        let mut requests = Requests::new();
        let mut failed = None;
        loop {
            while self.has_room(requests.len()) {
                let Some(claim) = waiting.next() else { break };
                if !claim.urgent && self.allowed() == Priority::Customer {
                    held.push(claim);
                    continue;
                }
                self.in_flight.send_modify(|n| *n += 1);
                let this = self.clone();
                requests.spawn(async move { this.deliver(claim).await });
            }
            match requests.join_next().await {
                Some(Ok(Ok(done))) => report.add(done),
                Some(Ok(Err(e))) => failed = Some(e),
                Some(Err(e)) => failed = Some(StoreError::Backend(e.to_string())),
                None => break,
            }
        }
        // Twilio asked for a pause before these could go: they wait for the next pass.
        for claim in held.into_iter().chain(waiting) {
            self.store.release(&claim).await?;
        }
        failed.map_or(Ok(report), Err)
    }

    /// Whether another request may start now: a slot is free.
    fn has_room(&self, in_flight: usize) -> bool {
        in_flight < self.pace().limit()
    }

    /// What may go now: everything, or, while Twilio has asked the account to wait, only
    /// what a customer waits on (a handful of requests, against thousands of syncs).
    fn allowed(&self) -> Priority {
        match self.pace().paused_until(self.clock.now()) {
            Some(_) => Priority::Customer,
            None => Priority::Notice,
        }
    }

    /// Whether some delivery (this loop's or another's) is running; waits until none is.
    /// Returns whether there was one to wait for.
    pub async fn idle(&self) -> bool {
        let mut watch = self.in_flight.subscribe();
        let busy = *watch.borrow() > 0;
        let _ = watch.wait_for(|n| *n == 0).await;
        busy
    }

    /// Claims due lanes, most urgent first, while a request slot is free and Twilio has
    /// not asked for a pause, and starts delivering each.
    async fn start_due(&self, requests: &mut Requests) -> Result<(), StoreError> {
        loop {
            if !self.has_room(requests.len()) {
                return Ok(());
            }
            let now = self.clock.now();
            // Counted from before the claim, so `idle` never misses one being taken.
            self.in_flight.send_modify(|n| *n += 1);
            let claim = match self.store.claim_upto(now, 1, self.allowed()).await {
                Ok(mut claims) => claims.pop(),
                Err(e) => {
                    self.in_flight.send_modify(|n| *n -= 1);
                    return Err(e);
                }
            };
            let Some(claim) = claim else {
                self.in_flight.send_modify(|n| *n -= 1);
                return Ok(());
            };
            let this = self.clone();
            requests.spawn(async move { this.deliver(claim).await });
        }
    }

    /// How long `run` may sleep when nothing wakes it.
    async fn wait(&self, now: DateTime<Utc>, idle: bool) -> Duration {
        let paused = self.pace().paused_until(now);
        let due = self.store.next_due().await.ok().flatten();
        let next = match (paused, due) {
            (Some(until), Some(due)) => Some(until.min(due)),
            (paused, due) => paused.or(due),
        };
        match next {
            Some(at) if at > now => (at - now).to_std().unwrap_or_default().min(IDLE_LOOK),
            // Due already but not started: no free slot (a request ending wakes us) or a
            // timer being fired (its end wakes us); a short look if nothing is running.
            Some(_) if idle => Duration::from_millis(50),
            _ => IDLE_LOOK,
        }
    }

    fn finished(&self, done: Result<Result<Report, StoreError>, tokio::task::JoinError>) {
        match done {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "outbox: delivery stopped on a store error; it will be tried again")
            }
            // A bug: its lane stays claimed until the next start.
            Err(e) => tracing::error!(error = %e, "outbox: a delivery task failed"),
        }
    }

    async fn timers_due(&self, now: DateTime<Utc>) -> bool {
        match self.store.due_timers(now, 1).await {
            Ok(due) => !due.is_empty(),
            Err(e) => {
                tracing::error!(error = %e, "outbox: cannot read the timers");
                false
            }
        }
    }

    /// Fires the timers due at `now`, a few at a time.
    async fn fire_timers(&self, now: DateTime<Utc>) -> Result<Report, StoreError> {
        let mut report = Report::default();
        loop {
            let due = self.store.due_timers(now, TIMER_BATCH).await?;
            if due.is_empty() {
                return Ok(report);
            }
            let mut firing = JoinSet::new();
            for timer in due {
                if firing.len() >= self.timers_at_once
                    && let Some(done) = firing.join_next().await
                {
                    done.map_err(|e| StoreError::Backend(e.to_string()))??;
                }
                let feedback = self.feedback.clone();
                firing.spawn(async move { feedback.timer_due(timer).await });
                report.timers += 1;
            }
            for done in firing.join_all().await {
                done?;
            }
        }
    }

    /// Delivers one claim and finishes it: done, retried later, or parked. A store error
    /// gives the claim back untouched, so another try takes it.
    async fn deliver(self, claim: Claim) -> Result<Report, StoreError> {
        let result = self.try_claim(&claim).await;
        if result.is_err() {
            let _ = self.store.release(&claim).await;
        }
        self.in_flight.send_modify(|n| *n -= 1);
        // The lane may have more due, and a slot is free.
        self.wake.notify_one();
        result
    }

    async fn try_claim(&self, claim: &Claim) -> Result<Report, StoreError> {
        let run = &claim.entries;
        let Some(last) = run.last() else {
            self.store.release(claim).await?;
            return Ok(Report::default());
        };
        let command = Command::coalesce_syncs(run.iter().map(|e| &e.command))
            .unwrap_or_else(|| last.command.clone());
        tracing::debug!(
            lane = %redact(&claim.lane),
            ids = ?run.iter().map(|e| e.id).collect::<Vec<_>>(),
            "outbox: delivering"
        );
        let outcome = self
            .executor
            .run(&command, self.store.as_ref(), self.feedback.as_ref())
            .await;
        let now = self.clock.now();
        let described = || redact(&last.command.describe());
        let mut report = Report::default();
        match outcome {
            Attempt::Done => {
                self.pace().succeeded();
                self.store.delivered(claim).await?;
                report.delivered = 1;
                report.superseded = run.len() - 1;
            }
            Attempt::Parked(e) => {
                self.metrics.outbox_failure("parked");
                self.store.park(claim, &e.to_string(), now).await?;
                report.parked = run.len();
                tracing::error!(command = %described(), error = %redact(&e.to_string()), "outbox: Twilio refused a command for good; parked");
            }
            Attempt::Retry(e) => {
                self.metrics.outbox_failure("retry");
                let head = &run[0];
                let due = if e.is_throttled() {
                    self.pace().throttled(now, e.retry_after)
                } else {
                    let most = if claim.urgent {
                        MAX_URGENT_BACKOFF
                    } else {
                        MAX_BACKOFF
                    };
                    now + backoff(head.attempts, &claim.lane, most)
                };
                self.store.retry(claim, due, &e.to_string()).await?;
                report.retrying = 1;
                tracing::warn!(command = %described(), error = %redact(&e.to_string()), attempts = head.attempts + 1, "outbox: will retry");
            }
        }
        Ok(report)
    }

    fn pace(&self) -> std::sync::MutexGuard<'_, Pace> {
        self.pace.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// 1 s, 2 s, 4 s ... up to `most`, with up to 20% jitter so that many workers' retries
/// do not all land on Twilio in the same second. The jitter comes from the lane (the worker),
/// not a random number: workers still spread out, and a replayed scenario retries at the
/// same moments every time.
fn backoff(attempts: u32, lane: &str, most: TimeDelta) -> TimeDelta {
    let base = TimeDelta::seconds(1i64 << attempts.min(9)).min(most);
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
            backoff(0, "a", MAX_BACKOFF) >= TimeDelta::seconds(1)
                && backoff(0, "a", MAX_BACKOFF) <= TimeDelta::milliseconds(1200)
        );
        assert!(backoff(3, "a", MAX_BACKOFF) >= TimeDelta::seconds(8));
        assert!(backoff(30, "a", MAX_BACKOFF) <= MAX_BACKOFF + MAX_BACKOFF / 5);
    }

    #[test]
    fn what_a_customer_waits_on_backs_off_ten_seconds_at_most() {
        assert!(backoff(30, "reservation:WR1", MAX_URGENT_BACKOFF) <= TimeDelta::seconds(12));
    }

    #[test]
    fn different_workers_back_off_by_different_amounts() {
        let waits: std::collections::HashSet<_> = (0..50)
            .map(|n| backoff(4, &format!("+1555000{n:04}"), MAX_BACKOFF))
            .collect();
        assert!(
            waits.len() > 25,
            "jitter spreads retries: {} distinct waits",
            waits.len()
        );
    }
}
