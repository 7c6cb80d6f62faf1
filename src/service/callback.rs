//! Callbacks: a caller asked to be called back (the queue's callback key, or a voicemail),
//! TaskRouter offered the request to a worker, the worker's call to the customer ended.
//! Each runs `core::callback::decide` in one unit of work of the store.

use super::Service;
use super::voicemail::to_notify_list;
use crate::core::callback::{self, CallbackRecord, DialOutcome, Event, Offer, Request};
use crate::core::dispatch::{CallbackCall, DispatchRecord, Outcome};
use crate::core::domain::{Locale, PhoneNumber, ReservationSid, TaskSid};
use crate::core::intake::reply::Reply;
use crate::store::{Applied, CallbackChange, CallbackUnit, StoreError};

/// The reply kept with a `Reserved` event, so a retried assignment callback decides the
/// same way.
const CALL_WORKER: &str = "call worker";

impl Service {
    /// Runs one event through the callback core, durably. Returns what the unit applied.
    pub async fn callback_event(
        &self,
        id: &str,
        event_id: String,
        event: Event,
    ) -> Result<Applied, StoreError> {
        let now = self.clock.now();
        let settings = self.settings.clone();
        let messages = self.messages.clone();
        let unit = CallbackUnit {
            id: id.to_string(),
            event_id,
            now,
            decide: Box::new(move |record| {
                let decision = callback::decide(record, &event, now, &settings.callbacks);
                let mut commands = decision.commands;
                for notice in &decision.notices {
                    let reply = with_skill(&notice.reply, record, &settings);
                    let body =
                        messages.render(settings.default_language, &reply, &settings.catalog);
                    commands.extend(to_notify_list(&settings, &body));
                }
                CallbackChange {
                    record: decision.record,
                    commands,
                    reply: match decision.offer {
                        Some(Offer::CallWorker) => CALL_WORKER.to_string(),
                        _ => String::new(),
                    },
                }
            }),
        };
        let applied = self.store.apply_callback(unit).await?;
        self.persisted().await?;
        Ok(applied)
    }

    /// A caller asked to be called back. Returns whether the request is new (a retried
    /// webhook, or a voicemail after the key, asks again for the same call).
    pub async fn request_callback(&self, request: Request) -> Result<bool, StoreError> {
        if !self.settings.callbacks.enabled {
            return Ok(false);
        }
        let id = request.id.clone();
        // The event id is the call's: a second ask for the same call is a replay.
        let event_id = format!("callback-requested:{id}");
        let applied = self
            .callback_event(&id, event_id, Event::Requested(request))
            .await?;
        let fresh = matches!(applied, Applied::Fresh { .. });
        if fresh {
            self.metrics.callback("requested");
        }
        Ok(fresh)
    }

    /// TaskRouter reserved a worker for a callback task. Returns what the worker is to
    /// call back, or None when the request is not to be made now (outside calling hours,
    /// already closed, unknown): the task was withdrawn and the worker is not called.
    pub async fn callback_reserved(
        &self,
        id: &str,
        task_sid: &TaskSid,
        reservation_sid: &ReservationSid,
    ) -> Result<Option<CallbackCall>, StoreError> {
        let event = Event::Reserved {
            task_sid: task_sid.clone(),
            reservation_sid: reservation_sid.clone(),
        };
        let applied = self
            .callback_event(id, format!("callback-reserved:{reservation_sid}"), event)
            .await?;
        if applied.reply() != CALL_WORKER {
            tracing::info!(callback = id, %reservation_sid, "callback task withdrawn");
            return Ok(None);
        }
        Ok(self.store.callback(id).await?.map(|r| CallbackCall {
            id: r.id,
            requested_at: r.requested_at,
            recording_sid: r.voicemail.map(|v| v.recording_sid),
        }))
    }

    /// The worker's call to the customer ended (the `<Dial>` action).
    pub async fn callback_dialed(
        &self,
        record: &DispatchRecord,
        outcome: DialOutcome,
        talk_secs: u32,
    ) -> Result<Option<CallbackRecord>, StoreError> {
        let Some(call) = &record.callback else {
            return Ok(None);
        };
        let event = Event::Dialed {
            reservation_sid: record.reservation_sid.clone(),
            worker: record.worker.clone(),
            outcome,
            talk_secs,
        };
        let event_id = format!("callback-dialed:{}", record.reservation_sid);
        let applied = self.callback_event(&call.id, event_id, event).await?;
        let after = self.store.callback(&call.id).await?;
        if matches!(applied, Applied::Fresh { .. })
            && let Some(closed) = after.as_ref().filter(|r| !r.status.is_open())
        {
            self.metrics.callback(closed.status.as_str());
        }
        Ok(after)
    }

    /// The call to a worker reserved for a callback is over (or was never taken): the
    /// request goes back to TaskRouter unless the customer was dialled.
    pub async fn callback_worker_gone(&self, record: &DispatchRecord) -> Result<(), StoreError> {
        let Some(call) = &record.callback else {
            return Ok(());
        };
        let event = Event::WorkerCallEnded {
            reservation_sid: record.reservation_sid.clone(),
            worker: record.worker.clone(),
            bridged: record.outcome == Some(Outcome::Bridged),
        };
        let event_id = format!("callback-worker-gone:{}", record.reservation_sid);
        self.callback_event(&call.id, event_id, event).await?;
        Ok(())
    }

    /// TaskRouter dropped a callback's task.
    pub async fn callback_task_canceled(
        &self,
        id: &str,
        task_sid: &TaskSid,
    ) -> Result<(), StoreError> {
        let event = Event::TaskCanceled {
            task_sid: task_sid.clone(),
        };
        self.callback_event(id, format!("callback-task-canceled:{task_sid}"), event)
            .await?;
        Ok(())
    }

    /// The language a worker hears, when they are on the roster.
    pub async fn worker_language(&self, phone: &PhoneNumber) -> Option<Locale> {
        let record = self.store.worker(phone).await.ok().flatten()?;
        Some(record.language)
    }

    /// Twilio transcribed a voicemail: keep the words with the callback request.
    pub async fn callback_transcribed(&self, id: &str, text: String) -> Result<(), StoreError> {
        if self.store.callback(id).await?.is_none() {
            return Ok(());
        }
        self.callback_event(
            id,
            format!("callback-transcribed:{id}"),
            Event::Transcribed { text },
        )
        .await?;
        Ok(())
    }
}

/// A notice names the request's skill in the business's language.
fn with_skill(
    reply: &Reply,
    record: Option<&CallbackRecord>,
    settings: &crate::config::Settings,
) -> Reply {
    let skill = record.and_then(|r| r.skill.as_ref());
    let skill = settings.catalog.name_of(skill, settings.default_language);
    reply.clone().text("skill", skill)
}
