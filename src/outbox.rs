//! Delivering the outbox: commands the core wrote are carried out against Twilio after the
//! transaction that wrote them committed.
//!
//! - Lanes, in order: a worker's commands (TaskRouter sync, the call to their phone, a
//!   rejection, a hang-up, a timer) run one after another, and a later one waits while an
//!   earlier one backs off, so TaskRouter never sees OFF before the ON that preceded it.
//! - Coalescing: a `SyncWorker` carries the worker's whole desired state, so of several
//!   consecutive ones only the last is sent; the others are superseded and removed with it.
//! - Transient failures (network, 429, 5xx) are retried with exponential backoff and jitter,
//!   across restarts, since the entries stay in sled until delivered.
//! - A command Twilio refuses for good (another 4xx) is parked with its error, visible in
//!   `GET /api/outbox` and logged, never retried forever nor dropped silently. Rejecting a
//!   reservation or ending a call that is already over is not an error: it is done.
//! - Timers are outbox entries that wait until they are due, then feed an event back to the
//!   worker's machines.
//!
//! `deliver_due` is one deterministic step that tests call directly; `run` loops it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use crate::core::dispatch::Event;
use crate::core::domain::ConfirmMode;
use crate::core::effects::{Activity, Command, WorkerSpec};
use crate::store::{OutboxEntry, StoreError};
use crate::twilio::rest::{
    CallCreate, CallUpdate, MessageCreate, ReservationPath, ReservationUpdate, TwilioClient,
    TwilioError, WorkerFilter, WorkerUpdate,
};
use crate::web::AppState;

/// The longest wait between two tries of one command.
const MAX_BACKOFF: TimeDelta = TimeDelta::seconds(300);

/// What one pass over the outbox did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub delivered: usize,
    pub superseded: usize,
    pub retrying: usize,
    pub parked: usize,
    /// When the earliest entry that waits (a backoff, a timer) becomes due.
    pub next_due: Option<DateTime<Utc>>,
}

impl Report {
    fn due_at(&mut self, due: DateTime<Utc>) {
        self.next_due = Some(self.next_due.map_or(due, |d| d.min(due)));
    }
}

/// How one command went.
enum Outcome {
    Done,
    /// Twilio refused it for good; keep it for an operator.
    Parked(TwilioError),
    Retry(TwilioError),
}

#[derive(Clone)]
pub struct Delivery {
    state: AppState,
    client: TwilioClient,
    /// Activity SIDs by name; looked up once, then kept (setup creates them).
    activities: Arc<Mutex<HashMap<&'static str, String>>>,
    /// One pass at a time: two passes at once could both send the same command.
    pass: Arc<tokio::sync::Mutex<()>>,
}

impl Delivery {
    pub fn new(state: AppState, client: TwilioClient) -> Self {
        Self {
            state,
            client,
            activities: Arc::default(),
            pass: Arc::default(),
        }
    }

    /// Delivers until stopped: after every commit (the state's `outbox_wake`), when a wait
    /// ends, and every few seconds in case a wake-up was missed.
    pub async fn run(self) {
        let wake = self.state.outbox_wake.clone();
        loop {
            let wait = match self.deliver_due().await {
                Ok(report) => report
                    .next_due
                    .map(|due| (due - self.state.clock.now()).to_std().unwrap_or_default())
                    .unwrap_or(std::time::Duration::from_secs(5))
                    .min(std::time::Duration::from_secs(5)),
                Err(e) => {
                    tracing::error!(error = %e, "outbox: cannot read the store");
                    std::time::Duration::from_secs(1)
                }
            };
            let _ = tokio::time::timeout(wait, wake.notified()).await;
        }
    }

    /// One pass: every entry that is due is delivered, retried later or parked.
    pub async fn deliver_due(&self) -> Result<Report, StoreError> {
        let _one_at_a_time = self.pass.lock().await;
        let now = self.state.clock.now();
        let mut report = Report::default();
        // Lanes in the order their first entry was written, each in id order.
        let mut lanes: Vec<Vec<OutboxEntry>> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for entry in self.state.store.outbox()? {
            let lane = entry.command.lane();
            match index.get(&lane) {
                Some(&i) => lanes[i].push(entry),
                None => {
                    index.insert(lane, lanes.len());
                    lanes.push(vec![entry]);
                }
            }
        }
        for entries in lanes {
            self.deliver_lane(entries, now, &mut report).await?;
        }
        Ok(report)
    }

    async fn deliver_lane(
        &self,
        entries: Vec<OutboxEntry>,
        now: DateTime<Utc>,
        report: &mut Report,
    ) -> Result<(), StoreError> {
        let mut i = 0;
        while i < entries.len() {
            if let Some(due) = entries[i].not_before.filter(|due| *due > now) {
                report.due_at(due);
                // A timer waits for its moment without holding back the lane; a command
                // backing off after a failure does, to keep the worker's order.
                if matches!(entries[i].command, Command::Timer { .. }) {
                    i += 1;
                    continue;
                }
                return Ok(());
            }
            // A run of consecutive syncs is one: the last carries the whole state.
            let run = if matches!(entries[i].command, Command::SyncWorker { .. }) {
                entries[i..]
                    .iter()
                    .take_while(|e| matches!(e.command, Command::SyncWorker { .. }))
                    .count()
            } else {
                1
            };
            let batch = &entries[i..i + run];
            let ids: Vec<u64> = batch.iter().map(|e| e.id).collect();
            let outcome = match &batch[run - 1].command {
                Command::SyncWorker { spec, .. } => {
                    // If a superseded sync would have rejected pending reservations and the
                    // worker ends up offline, the last one must reject them too.
                    let reject = spec.activity == Activity::Offline
                        && batch.iter().any(|e| {
                            matches!(
                                &e.command,
                                Command::SyncWorker {
                                    reject_pending_reservations: true,
                                    ..
                                }
                            )
                        });
                    self.sync_worker(spec, reject, now).await
                }
                command => self.execute(command, now).await?,
            };
            let last = &batch[run - 1];
            match outcome {
                Outcome::Done => {
                    self.state.store.outbox_done(&ids)?;
                    report.delivered += 1;
                    report.superseded += run - 1;
                    tracing::info!(command = %crate::core::domain::redact(&last.command.describe()), "outbox: delivered");
                }
                Outcome::Parked(e) => {
                    self.state.metrics.outbox_failure("parked");
                    self.state.store.outbox_park(&ids, &e.to_string(), now)?;
                    report.parked += run;
                    tracing::error!(command = %crate::core::domain::redact(&last.command.describe()), error = %crate::core::domain::redact(&e.to_string()), "outbox: Twilio refused a command for good; parked");
                }
                Outcome::Retry(e) => {
                    self.state.metrics.outbox_failure("retry");
                    let due = now + backoff(batch[0].attempts, &last.command.lane());
                    self.state
                        .store
                        .outbox_retry(batch[0].id, due, &e.to_string())?;
                    report.retrying += 1;
                    report.due_at(due);
                    tracing::warn!(command = %crate::core::domain::redact(&last.command.describe()), error = %crate::core::domain::redact(&e.to_string()), attempts = batch[0].attempts + 1, "outbox: will retry");
                    return Ok(());
                }
            }
            i += run;
        }
        Ok(())
    }

    async fn execute(&self, command: &Command, now: DateTime<Utc>) -> Result<Outcome, StoreError> {
        let settings = &self.state.settings;
        let base = &settings.public_url;
        Ok(match command {
            Command::SyncWorker { .. } => unreachable!("syncs are delivered in runs"),
            Command::Timer { worker, event, .. } => {
                let (event, state) = (*event, &self.state);
                state.store.apply_worker(worker, now, via_of(event), |w| {
                    let out = crate::core::intake::timers::on_timer(
                        w,
                        event,
                        now,
                        &state.settings.catalog,
                    );
                    let texts = out.notices.iter().map(|reply| Command::SendSms {
                        to: w.phone.clone(),
                        body: state
                            .messages
                            .render(w.language, reply, &state.settings.catalog),
                    });
                    let commands = out.commands.into_iter().chain(texts).collect();
                    (out.record, commands)
                })?;
                self.state.outbox_wake.notify_one();
                Outcome::Done
            }
            Command::PlaceCall {
                reservation_sid,
                worker,
                mode,
                ring_timeout_secs,
            } => {
                // The reservation may have ended while this call waited (Twilio was down):
                // calling the worker now would ring them for a caller who is gone.
                let record = self.state.store.dispatch_record(reservation_sid)?;
                if !record.is_some_and(|r| {
                    r.state == crate::core::dispatch::machine::ReservationState::Offered
                }) {
                    tracing::info!(
                        reservation_sid,
                        "outbox: reservation no longer offered, call not placed"
                    );
                    return Ok(Outcome::Done);
                }
                let query = format!("reservation={reservation_sid}");
                let (machine_detection, async_amd) = match mode {
                    ConfirmMode::Amd => (Some("Enable".to_string()), None),
                    ConfirmMode::Press1 => (None, None),
                    ConfirmMode::AmdPress1 => (Some("Enable".to_string()), Some(true)),
                };
                let call = CallCreate {
                    to: worker.to_string(),
                    from: settings.business_number().to_string(),
                    url: Some(format!("{base}/twilio/voice/dispatch/answer?{query}")),
                    status_callback: Some(format!("{base}/twilio/voice/dispatch/status?{query}")),
                    timeout: Some(*ring_timeout_secs),
                    machine_detection,
                    async_amd,
                    async_amd_status_callback: async_amd
                        .map(|_| format!("{base}/twilio/voice/dispatch/amd?{query}")),
                    async_amd_status_callback_method: async_amd.map(|_| "POST".to_string()),
                    ..CallCreate::default()
                };
                match self.client.create_call(&call).await {
                    Ok(created) => {
                        if let Some(call_sid) = created.sid {
                            self.dispatch_event(
                                reservation_sid,
                                &format!("placed:{reservation_sid}"),
                                Event::CallStarted { call_sid },
                            )?;
                        }
                        Outcome::Done
                    }
                    Err(e) if e.is_permanent() => {
                        // The worker cannot be called (a bad number, say): give the call to
                        // someone else, and keep the error for an operator.
                        let event = Event::CallFailed {
                            error: e.to_string(),
                        };
                        self.dispatch_event(
                            reservation_sid,
                            &format!("failed:{reservation_sid}"),
                            event,
                        )?;
                        Outcome::Parked(e)
                    }
                    Err(e) => Outcome::Retry(e),
                }
            }
            Command::RejectReservation {
                task_sid,
                reservation_sid,
                ..
            } => {
                let activity = match self.activity_sid(Activity::Unavailable).await {
                    Ok(sid) => sid,
                    Err(e) => return Ok(Outcome::Retry(e)),
                };
                let update = ReservationUpdate {
                    reservation_status: Some("rejected".into()),
                    worker_activity_sid: Some(activity),
                    ..ReservationUpdate::default()
                };
                let path = ReservationPath::Task {
                    task_sid: task_sid.clone(),
                    reservation_sid: reservation_sid.clone(),
                };
                settled(
                    self.client.update_reservation(path, &update).await,
                    "the reservation is already over",
                )
            }
            Command::HangUpCall {
                call_sid, ringing, ..
            } => {
                let status = if *ringing { "canceled" } else { "completed" };
                let update = CallUpdate {
                    status: Some(status.into()),
                    ..CallUpdate::default()
                };
                match self.client.update_call(call_sid, &update).await {
                    // It was answered meanwhile: canceling no longer applies, hanging up does.
                    Err(e) if *ringing && e.is_permanent() => {
                        let update = CallUpdate {
                            status: Some("completed".into()),
                            ..CallUpdate::default()
                        };
                        settled(
                            self.client.update_call(call_sid, &update).await,
                            "the call is already over",
                        )
                    }
                    result => settled(result, "the call is already over"),
                }
            }
            Command::RedirectCall { call_sid, path } => {
                let update = CallUpdate {
                    url: Some(format!("{base}{path}")),
                    method: Some("POST".into()),
                    ..CallUpdate::default()
                };
                settled(
                    self.client.update_call(call_sid, &update).await,
                    "the caller already hung up",
                )
            }
            Command::SendSms { to, body } => {
                let message = MessageCreate {
                    to: to.to_string(),
                    from: settings.intake_number().to_string(),
                    body: body.clone(),
                    ..MessageCreate::default()
                };
                match self.client.create_message(&message).await {
                    Ok(_) => Outcome::Done,
                    Err(e) if e.is_permanent() => Outcome::Parked(e),
                    Err(e) => Outcome::Retry(e),
                }
            }
        })
    }

    /// Feeds what the outbox learnt about a call back to the dispatcher.
    fn dispatch_event(
        &self,
        reservation_sid: &str,
        event_id: &str,
        event: Event,
    ) -> Result<(), StoreError> {
        crate::web::voice::apply_dispatch_event(&self.state, reservation_sid, event_id, &event)?;
        self.state.outbox_wake.notify_one();
        Ok(())
    }

    /// Makes TaskRouter's Worker match `spec`, creating it if needed.
    async fn sync_worker(&self, spec: &WorkerSpec, reject: bool, now: DateTime<Utc>) -> Outcome {
        match self.try_sync_worker(spec, reject).await {
            Ok(sid) => match self.state.store.set_worker_sid(&spec.phone, &sid, now) {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Retry(TwilioError::transient(format!(
                    "storing the Worker SID: {e}"
                ))),
            },
            Err(e) if e.is_permanent() => Outcome::Parked(e),
            Err(e) => Outcome::Retry(e),
        }
    }

    async fn try_sync_worker(
        &self,
        spec: &WorkerSpec,
        reject: bool,
    ) -> Result<String, TwilioError> {
        let activity = self.activity_sid(spec.activity).await?;
        let attributes = serde_json::to_string(&spec.attributes).unwrap_or_else(|_| "{}".into());
        // The phone number is the Worker's FriendlyName: unique in a workspace and stable.
        let friendly_name = spec.phone.as_str();
        let stored = self
            .state
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
        let create = || async {
            let worker = self
                .client
                .create_worker(friendly_name, Some(&attributes), Some(&activity))
                .await?;
            worker
                .sid
                .ok_or_else(|| TwilioError::malformed("created Worker has no sid"))
        };
        match sid {
            Some(sid) => match self.client.update_worker(&sid, &update).await {
                Ok(_) => Ok(sid),
                // Deleted in the console since we saw it: make a new one.
                Err(e) if e.status == Some(404) => create().await,
                Err(e) => Err(e),
            },
            None => create().await,
        }
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

/// Where a timer's change comes from, for the presence history.
fn via_of(event: crate::core::effects::TimerEvent) -> crate::store::Via {
    match event {
        crate::core::effects::TimerEvent::CoolDownOver => crate::store::Via::Dispatch,
        crate::core::effects::TimerEvent::ShiftBoundary { .. }
        | crate::core::effects::TimerEvent::HoldOver { .. } => crate::store::Via::Schedule,
    }
}

/// For commands about something that may have ended by itself (a reservation, a call): a
/// permanent refusal means it is over already, which is what the command wanted.
fn settled<T>(result: Result<T, TwilioError>, why: &str) -> Outcome {
    match result {
        Ok(_) => Outcome::Done,
        Err(e) if e.is_permanent() => {
            tracing::info!(error = %crate::core::domain::redact(&e.to_string()), "outbox: nothing to do, {why}");
            Outcome::Done
        }
        Err(e) => Outcome::Retry(e),
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
