//! Delivering the outbox: commands the core wrote are carried out against Twilio after the
//! transaction that wrote them committed.
//!
//! - Per worker, in order: a worker's later command waits while an earlier one is backing
//!   off, so TaskRouter never sees OFF before the ON that preceded it.
//! - Coalescing: a `SyncWorker` carries the worker's whole desired state, so of several
//!   pending ones only the last is sent; the others are superseded and removed with it.
//! - Transient failures (network, 429, 5xx) are retried with exponential backoff and jitter,
//!   across restarts, since the entries stay in sled until delivered.
//! - A command Twilio refuses for good (another 4xx) is parked with its error, visible in
//!   `GET /api/outbox` and logged, never retried forever nor dropped silently.
//!
//! `deliver_due` is one deterministic step that tests call directly; `run` loops it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::commands::{Activity, Command, WorkerSpec};
use crate::domain::PhoneNumber;
use crate::store::{OutboxEntry, Store, StoreError};
use crate::twilio::rest::{TwilioClient, TwilioError, WorkerFilter, WorkerUpdate};

/// The longest wait between two tries of one command.
const MAX_BACKOFF: TimeDelta = TimeDelta::seconds(300);

/// What one pass over the outbox did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub delivered: usize,
    pub superseded: usize,
    pub retrying: usize,
    pub parked: usize,
    /// When the earliest entry that is backing off becomes due.
    pub next_due: Option<DateTime<Utc>>,
}

#[derive(Clone)]
pub struct Delivery {
    store: Store,
    client: TwilioClient,
    clock: Arc<dyn Clock>,
    /// Activity SIDs by name; looked up once, then kept (setup creates them).
    activities: Arc<Mutex<HashMap<&'static str, String>>>,
    wake: Arc<Notify>,
}

impl Delivery {
    /// `wake` is notified by whoever commits new commands (the web handlers).
    pub fn new(
        store: Store,
        client: TwilioClient,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            client,
            clock,
            activities: Arc::default(),
            wake,
        }
    }

    /// Delivers until stopped: after every commit (`wake`), when a backoff ends, and every
    /// few seconds in case a wake-up was missed.
    pub async fn run(self) {
        loop {
            let wait = match self.deliver_due().await {
                Ok(report) => report
                    .next_due
                    .map(|due| (due - self.clock.now()).to_std().unwrap_or_default())
                    .unwrap_or(std::time::Duration::from_secs(5))
                    .min(std::time::Duration::from_secs(5)),
                Err(e) => {
                    tracing::error!(error = %e, "outbox: cannot read the store");
                    std::time::Duration::from_secs(1)
                }
            };
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
        }
    }

    /// One pass: every entry that is due is delivered, retried later or parked.
    pub async fn deliver_due(&self) -> Result<Report, StoreError> {
        let now = self.clock.now();
        let mut report = Report::default();
        let mut by_worker: Vec<(PhoneNumber, Vec<OutboxEntry>)> = Vec::new();
        for entry in self.store.outbox()? {
            let phone = entry.command.worker().clone();
            match by_worker.iter_mut().find(|(p, _)| *p == phone) {
                Some((_, entries)) => entries.push(entry),
                None => by_worker.push((phone, vec![entry])),
            }
        }
        for (phone, entries) in by_worker {
            // The first entry decides: if it is backing off, the worker's later ones wait.
            if let Some(due) = entries[0].not_before.filter(|due| *due > now) {
                report.next_due = Some(report.next_due.map_or(due, |d| d.min(due)));
                continue;
            }
            self.deliver_worker(&phone, entries, now, &mut report)
                .await?;
        }
        Ok(report)
    }

    async fn deliver_worker(
        &self,
        phone: &PhoneNumber,
        entries: Vec<OutboxEntry>,
        now: DateTime<Utc>,
        report: &mut Report,
    ) -> Result<(), StoreError> {
        // Only SyncWorker exists so far, and the last one carries the whole state.
        let ids: Vec<u64> = entries.iter().map(|e| e.id).collect();
        let last = entries.last().expect("a worker group is never empty");
        let Command::SyncWorker { spec, .. } = &last.command;
        // If any superseded command would have rejected pending reservations and the worker
        // ends up unavailable, the last one must reject them too.
        let reject = spec.activity == Activity::Offline
            && entries.iter().any(|e| {
                matches!(
                    &e.command,
                    Command::SyncWorker {
                        reject_pending_reservations: true,
                        ..
                    }
                )
            });
        match self.sync_worker(spec, reject, now).await {
            Ok(sid) => {
                self.store.set_worker_sid(phone, &sid, now)?;
                self.store.outbox_done(&ids)?;
                report.delivered += 1;
                report.superseded += ids.len() - 1;
                tracing::info!(worker = %phone.masked(), sid, activity = spec.activity.name(), "taskrouter worker synced");
            }
            Err(e) if e.is_permanent() => {
                self.store.outbox_park(&ids, &e.to_string(), now)?;
                report.parked += ids.len();
                tracing::error!(worker = %phone.masked(), error = %e, "outbox: Twilio refused a command for good; parked");
            }
            Err(e) => {
                let due = now + backoff(last.attempts);
                self.store
                    .outbox_retry(entries[0].id, due, &e.to_string())?;
                report.retrying += 1;
                report.next_due = Some(report.next_due.map_or(due, |d| d.min(due)));
                tracing::warn!(worker = %phone.masked(), error = %e, attempts = last.attempts + 1, "outbox: will retry");
            }
        }
        Ok(())
    }

    /// Makes TaskRouter's Worker match `spec`, creating it if needed. Returns its SID.
    async fn sync_worker(
        &self,
        spec: &WorkerSpec,
        reject: bool,
        now: DateTime<Utc>,
    ) -> Result<String, TwilioError> {
        let activity = self.activity_sid(spec.activity).await?;
        let attributes = serde_json::to_string(&spec.attributes).unwrap_or_else(|_| "{}".into());
        // The phone number is the Worker's FriendlyName: unique in a workspace and stable.
        let friendly_name = spec.phone.as_str();
        let stored = self
            .store
            .worker(&spec.phone)
            .ok()
            .flatten()
            .and_then(|r| r.worker_sid);
        let sid = match stored {
            Some(sid) => Some(sid),
            None => {
                let filter = WorkerFilter {
                    friendly_name: Some(friendly_name.to_string()),
                    ..WorkerFilter::default()
                };
                self.client
                    .list_workers(&filter)
                    .await?
                    .into_iter()
                    .next()
                    .and_then(|w| w.sid)
            }
        };
        let update = WorkerUpdate {
            activity_sid: Some(activity.clone()),
            attributes: Some(attributes.clone()),
            reject_pending_reservations: reject.then_some(true),
            ..WorkerUpdate::default()
        };
        match sid {
            Some(sid) => match self.client.update_worker(&sid, &update).await {
                Ok(_) => Ok(sid),
                // Deleted in the console since we saw it: make a new one.
                Err(e) if e.status == Some(404) => {
                    self.create_worker(friendly_name, &attributes, &activity, now)
                        .await
                }
                Err(e) => Err(e),
            },
            None => {
                self.create_worker(friendly_name, &attributes, &activity, now)
                    .await
            }
        }
    }

    async fn create_worker(
        &self,
        friendly_name: &str,
        attributes: &str,
        activity: &str,
        _now: DateTime<Utc>,
    ) -> Result<String, TwilioError> {
        let worker = self
            .client
            .create_worker(friendly_name, Some(attributes), Some(activity))
            .await?;
        worker
            .sid
            .ok_or_else(|| TwilioError::malformed("created Worker has no sid"))
    }

    async fn activity_sid(&self, activity: Activity) -> Result<String, TwilioError> {
        let name = activity.name();
        if let Some(sid) = self
            .activities
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Ok(sid.clone());
        }
        let found = self.client.list_activities(Some(name), None).await?;
        let sid = found
            .into_iter()
            .find(|a| a.friendly_name.as_deref() == Some(name))
            .and_then(|a| a.sid)
            // Not permanent: once `shiftline twilio setup` has run, the next try succeeds.
            .ok_or_else(|| {
                TwilioError::transient(format!(
                    "TaskRouter has no {name:?} activity: run `shiftline twilio setup`"
                ))
            })?;
        self.activities
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, sid.clone());
        Ok(sid)
    }
}

/// 1 s, 2 s, 4 s ... up to five minutes, with up to 20% jitter so that many workers' retries
/// do not all land on Twilio in the same second.
fn backoff(attempts: u32) -> TimeDelta {
    let base = TimeDelta::seconds(1i64 << attempts.min(9)).min(MAX_BACKOFF);
    let jitter = rand::random_range(0..=base.num_milliseconds() / 5);
    base + TimeDelta::milliseconds(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_stops_at_five_minutes() {
        assert!(backoff(0) >= TimeDelta::seconds(1) && backoff(0) <= TimeDelta::milliseconds(1200));
        assert!(backoff(3) >= TimeDelta::seconds(8));
        assert!(backoff(30) <= MAX_BACKOFF + MAX_BACKOFF / 5);
    }
}
