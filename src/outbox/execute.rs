//! One command, carried out against Twilio: which REST requests it takes and what their
//! answers mean (done, retry later, or refused for good).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Attempt, Feedback};
use crate::config::Settings;
use crate::core::dispatch::Event;
use crate::core::domain::{CallSid, ConfirmMode, PhoneNumber, ReservationSid, TaskSid};
use crate::core::effects::{Activity, Command, WorkerSpec};
use crate::store::Store;
use crate::twilio::rest::{
    CallCreate, CallUpdate, MessageCreate, ReservationPath, ReservationUpdate, TaskUpdate,
    TwilioClient, TwilioError, WorkerFilter, WorkerUpdate,
};

/// Carries commands out with one Twilio account.
#[derive(Clone)]
pub struct Executor {
    pub client: TwilioClient,
    pub settings: Arc<Settings>,
    /// Activity SIDs by name; looked up once, then kept (setup creates them). An async
    /// lock held across the lookup, so a burst of syncs sends one request, not one each.
    activities: Arc<tokio::sync::Mutex<HashMap<&'static str, String>>>,
    /// When the last re-evaluation of waiting tasks started, in nanoseconds since
    /// `started`: a shift end's burst of workers going offline sends a few requests, not
    /// one each, and no delivery waits on another's to find out.
    re_evaluated: Arc<AtomicU64>,
    started: std::time::Instant,
}

impl Executor {
    pub fn new(client: TwilioClient, settings: Arc<Settings>) -> Self {
        Self {
            client,
            settings,
            activities: Arc::default(),
            re_evaluated: Arc::default(),
            started: std::time::Instant::now(),
        }
    }

    /// Runs one command (for a run of syncs, the last one, rejecting pending reservations
    /// if any of the run asked to).
    pub async fn run(
        &self,
        command: &Command,
        store: &dyn Store,
        feedback: &dyn Feedback,
    ) -> Attempt {
        match command {
            Command::SyncWorker {
                spec,
                reject_pending_reservations,
            } => {
                self.sync_worker(spec, *reject_pending_reservations, store, feedback)
                    .await
            }
            Command::PlaceCall {
                reservation_sid,
                worker,
                mode,
                ring_timeout_secs,
            } => {
                self.place_call(reservation_sid, worker, *mode, *ring_timeout_secs, feedback)
                    .await
            }
            Command::RejectReservation {
                task_sid,
                reservation_sid,
                ..
            } => self.reject(task_sid, reservation_sid).await,
            Command::HangUpCall {
                call_sid, ringing, ..
            } => self.hang_up(call_sid, *ringing).await,
            Command::RedirectCall { call_sid, path } => self.redirect(call_sid, path).await,
            Command::SendSms { to, body } => self.text(to, body).await,
            Command::CreateTask {
                attributes,
                priority,
                timeout_secs,
                ..
            } => {
                self.create_task(attributes, *priority, *timeout_secs, feedback)
                    .await
            }
            Command::AcceptReservation {
                task_sid,
                reservation_sid,
            } => self.accept(task_sid, reservation_sid).await,
            Command::EndTask {
                task_sid,
                completed,
                reason,
            } => self.end_task(task_sid, *completed, reason).await,
            Command::AnnounceVoicemail { recording_sid, .. } => {
                match feedback.announce_voicemail(recording_sid).await {
                    Ok(()) => Attempt::Done,
                    Err(e) => Attempt::Retry(TwilioError::transient(format!("store: {e}"))),
                }
            }
            // Timers wait in their own keyspace and never reach the outbox.
            Command::Timer { .. } => Attempt::Done,
        }
    }

    /// Calls the reserved worker's phone from the business number, with answering machine
    /// detection as the confirm mode asks; the call's URLs carry the reservation.
    async fn place_call(
        &self,
        reservation_sid: &ReservationSid,
        worker: &PhoneNumber,
        mode: ConfirmMode,
        ring_timeout_secs: u32,
        feedback: &dyn Feedback,
    ) -> Attempt {
        match feedback.call_wanted(reservation_sid).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(%reservation_sid, "outbox: reservation no longer offered, call not placed");
                return Attempt::Done;
            }
            Err(e) => return Attempt::Retry(TwilioError::transient(format!("store: {e}"))),
        }
        let base = &self.settings.public_url;
        let query = format!("reservation={reservation_sid}");
        let (machine_detection, async_amd) = match mode {
            ConfirmMode::Amd => (Some("Enable".to_string()), None),
            ConfirmMode::Press1 => (None, None),
            ConfirmMode::AmdPress1 => (Some("Enable".to_string()), Some(true)),
        };
        let call = CallCreate {
            to: worker.to_string(),
            from: self.settings.business_number().to_string(),
            url: Some(format!("{base}/twilio/voice/dispatch/answer?{query}")),
            status_callback: Some(format!("{base}/twilio/voice/dispatch/status?{query}")),
            timeout: Some(ring_timeout_secs),
            machine_detection,
            async_amd,
            async_amd_status_callback: async_amd
                .map(|_| format!("{base}/twilio/voice/dispatch/amd?{query}")),
            async_amd_status_callback_method: async_amd.map(|_| "POST".to_string()),
            ..CallCreate::default()
        };
        match self.client.create_call(&call).await {
            Ok(created) => {
                if let Some(call_sid) = created.sid.and_then(|s| CallSid::parse(&s).ok()) {
                    let event = Event::CallStarted { call_sid };
                    let id = format!("placed:{reservation_sid}");
                    if let Err(e) = feedback.call_news(reservation_sid, id, event).await {
                        tracing::error!(error = %e, "outbox: the call was placed but could not be recorded");
                    }
                }
                Attempt::Done
            }
            Err(e) if e.is_permanent() => {
                // The worker cannot be called (a bad number, say): give the call to someone
                // else, and keep the error for an operator.
                let event = Event::CallFailed {
                    error: e.to_string(),
                };
                let id = format!("failed:{reservation_sid}");
                match feedback.call_news(reservation_sid, id, event).await {
                    Ok(()) => Attempt::Parked(e),
                    Err(store) => Attempt::Retry(TwilioError::transient(format!("store: {store}"))),
                }
            }
            Err(e) => Attempt::Retry(e),
        }
    }

    /// Declines the reservation and rests the worker, so the task goes to someone else.
    async fn reject(&self, task_sid: &TaskSid, reservation_sid: &ReservationSid) -> Attempt {
        let activity = match self.activity_sid(Activity::Unavailable).await {
            Ok(sid) => sid,
            Err(e) => return Attempt::Retry(e),
        };
        let update = ReservationUpdate {
            reservation_status: Some("rejected".into()),
            worker_activity_sid: Some(activity),
            ..ReservationUpdate::default()
        };
        self.update_reservation(task_sid, reservation_sid, &update)
            .await
    }

    /// A reservation's change; one that ended meanwhile needs none.
    async fn update_reservation(
        &self,
        task_sid: &TaskSid,
        reservation_sid: &ReservationSid,
        update: &ReservationUpdate,
    ) -> Attempt {
        let path = ReservationPath::Task {
            task_sid: task_sid.to_string(),
            reservation_sid: reservation_sid.to_string(),
        };
        settled(
            self.client.update_reservation(path, update).await,
            "the reservation is already over",
        )
    }

    /// Puts a callback request in TaskRouter. Without a workflow (setup has not run) it
    /// waits: the request must not be lost.
    async fn create_task(
        &self,
        attributes: &str,
        priority: u32,
        timeout_secs: u32,
        feedback: &dyn Feedback,
    ) -> Attempt {
        let Some(workflow) = feedback.workflow_sid() else {
            return Attempt::Retry(TwilioError::transient(
                "no TaskRouter workflow known yet: run `shiftline twilio setup`",
            ));
        };
        let created = self
            .client
            .create_task(&workflow, attributes, Some(priority), Some(timeout_secs))
            .await;
        attempted(created)
    }

    /// Accepts a callback's reservation: the worker took it and is dialling the customer.
    async fn accept(&self, task_sid: &TaskSid, reservation_sid: &ReservationSid) -> Attempt {
        let update = ReservationUpdate {
            reservation_status: Some("accepted".into()),
            ..ReservationUpdate::default()
        };
        self.update_reservation(task_sid, reservation_sid, &update)
            .await
    }

    /// Completes or cancels a callback's task (a task already over needs nothing).
    async fn end_task(&self, task_sid: &TaskSid, completed: bool, reason: &str) -> Attempt {
        let update = TaskUpdate {
            assignment_status: Some(if completed { "completed" } else { "canceled" }.into()),
            reason: Some(reason.to_string()),
        };
        settled(
            self.client.update_task(task_sid.as_str(), &update).await,
            "the task is already over",
        )
    }

    /// Ends a worker's call: cancels it while it rings, hangs it up once answered.
    async fn hang_up(&self, call_sid: &CallSid, ringing: bool) -> Attempt {
        let status = |s: &str| CallUpdate {
            status: Some(s.into()),
            ..CallUpdate::default()
        };
        let first = if ringing { "canceled" } else { "completed" };
        match self
            .client
            .update_call(call_sid.as_str(), &status(first))
            .await
        {
            // It was answered meanwhile: canceling no longer applies, hanging up does.
            Err(e) if ringing && e.is_permanent() => settled(
                self.client
                    .update_call(call_sid.as_str(), &status("completed"))
                    .await,
                "the call is already over",
            ),
            result => settled(result, "the call is already over"),
        }
    }

    /// Sends a live call (a waiting customer) to other TwiML, at `path` under the public URL.
    async fn redirect(&self, call_sid: &CallSid, path: &str) -> Attempt {
        let update = CallUpdate {
            url: Some(format!("{}{path}", self.settings.public_url)),
            method: Some("POST".into()),
            ..CallUpdate::default()
        };
        settled(
            self.client.update_call(call_sid.as_str(), &update).await,
            "the caller already hung up",
        )
    }

    /// A text from the intake number.
    async fn text(&self, to: &PhoneNumber, body: &str) -> Attempt {
        let message = MessageCreate {
            to: to.to_string(),
            from: self.settings.intake_number().to_string(),
            body: body.to_string(),
            ..MessageCreate::default()
        };
        attempted(self.client.create_message(&message).await)
    }

    /// Makes TaskRouter's Worker match `spec`, creating it if needed, and remembers its SID.
    async fn sync_worker(
        &self,
        spec: &WorkerSpec,
        reject: bool,
        store: &dyn Store,
        feedback: &dyn Feedback,
    ) -> Attempt {
        let known = store
            .worker(&spec.phone)
            .await
            .ok()
            .flatten()
            .and_then(|r| r.worker_sid);
        let synced = match self.try_sync_worker(spec, reject, known).await {
            // A worker going offline may have been the last one who could take the calls
            // waiting for their skill: TaskRouter looks at those calls again, and a step
            // nobody can serve any more is skipped (`skip_if`), so the callers reach
            // voicemail now instead of at the end of the wait.
            Ok(sid) if reject => match self.re_evaluate_waiting(feedback).await {
                // Refused for good (the workflow was deleted in the console, say): the
                // worker is offline all the same, and the callers still reach voicemail
                // when their wait ends.
                Err(e) if e.is_permanent() => {
                    tracing::warn!(error = %e, "cannot ask TaskRouter to route waiting calls again");
                    Ok(sid)
                }
                other => other.map(|()| sid),
            },
            other => other,
        };
        match synced {
            Ok(sid) => match feedback.worker_synced(&spec.phone, &sid).await {
                Ok(()) => Attempt::Done,
                Err(e) => Attempt::Retry(TwilioError::transient(format!(
                    "storing the Worker SID: {e}"
                ))),
            },
            Err(e) if e.is_permanent() => Attempt::Parked(e),
            Err(e) => Attempt::Retry(e),
        }
    }

    /// Asks TaskRouter to route the workflow's waiting tasks again, unless a request that
    /// started after this worker's change already does. Two deliveries that look at once
    /// may both send one: harmless, a re-evaluation changes nothing twice.
    async fn re_evaluate_waiting(&self, feedback: &dyn Feedback) -> Result<(), TwilioError> {
        let Some(workflow) = feedback.workflow_sid() else {
            return Ok(());
        };
        let changed = self.nanos();
        if self.re_evaluated.load(Ordering::Acquire) > changed {
            return Ok(());
        }
        self.re_evaluated.fetch_max(self.nanos(), Ordering::AcqRel);
        self.client.re_evaluate_tasks(&workflow).await.map(|_| ())
    }

    fn nanos(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    async fn try_sync_worker(
        &self,
        spec: &WorkerSpec,
        reject: bool,
        known: Option<String>,
    ) -> Result<String, TwilioError> {
        let activity = self.activity_sid(spec.activity).await?;
        let attributes = serde_json::to_string(&spec.attributes).unwrap_or_else(|_| "{}".into());
        // The phone number is the Worker's FriendlyName: unique in a workspace and stable.
        let friendly_name = spec.phone.as_str();
        let sid = match known {
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
        let mut known = self.activities.lock().await;
        if let Some(sid) = known.get(name) {
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
        known.insert(name, sid.clone());
        Ok(sid)
    }
}

/// For commands that create something: refused for good is parked for an operator, any
/// other failure tried again.
fn attempted<T>(result: Result<T, TwilioError>) -> Attempt {
    match result {
        Ok(_) => Attempt::Done,
        Err(e) if e.is_permanent() => Attempt::Parked(e),
        Err(e) => Attempt::Retry(e),
    }
}

/// For commands about something that may have ended by itself (a reservation, a call): a
/// permanent refusal means it is over already, which is what the command wanted.
fn settled<T>(result: Result<T, TwilioError>, why: &str) -> Attempt {
    match result {
        Ok(_) => Attempt::Done,
        Err(e) if e.is_permanent() => {
            tracing::info!(error = %crate::core::domain::redact(&e.to_string()), "outbox: nothing to do, {why}");
            Attempt::Done
        }
        Err(e) => Attempt::Retry(e),
    }
}
