//! The dispatcher's use cases: TaskRouter reserved a worker; something happened to the call
//! to that worker (a webhook, or what the outbox learnt from Twilio); a reservation ended.

use std::sync::Arc;

use super::Service;
use crate::core::dispatch::{self, Assignment, DispatchRecord, Event, Voice};
use crate::core::domain::Locale;
use crate::core::effects::Command;
use crate::store::{Applied, DispatchChange, DispatchUnit, StoreError};

/// Renders what the worker's call hears, inside the unit of work (so a retried webhook gets
/// the stored TwiML).
pub type RenderVoice = Arc<dyn Fn(&DispatchRecord, &Voice, Locale) -> String + Send + Sync>;

impl Service {
    /// TaskRouter reserved a worker: record the reservation and queue the call to the
    /// worker's phone. A repeated callback for the same reservation places no second call.
    pub async fn assignment(&self, assignment: Assignment) -> Result<Applied, StoreError> {
        let now = self.clock.now();
        let settings = self.settings.clone();
        let event_id = format!("assign:{}", assignment.reservation_sid);
        let unit = DispatchUnit {
            reservation_sid: assignment.reservation_sid.to_string(),
            worker: assignment.worker.clone(),
            event_id,
            now,
            decide: Box::new(move |existing, worker| {
                let decision = dispatch::assign(
                    &assignment,
                    existing,
                    worker,
                    now,
                    &settings.dispatch,
                    settings.default_language,
                );
                match decision {
                    Some((record, command)) => DispatchChange {
                        record: Some(record),
                        commands: vec![command],
                        ..DispatchChange::none()
                    },
                    None => DispatchChange::none(),
                }
            }),
        };
        let applied = self.store.apply_dispatch(unit).await?;
        self.persisted().await?;
        Ok(applied)
    }

    /// One event about a reservation, through the dispatcher, durably. Returns the answer
    /// `render` made for the worker's call (empty when it needs none), or None when
    /// shiftline has no record of the reservation (not ours, or long gone).
    pub async fn call_event(
        &self,
        reservation_sid: &str,
        event_id: String,
        event: Event,
        render: RenderVoice,
    ) -> Result<Option<String>, StoreError> {
        let Some(existing) = self.store.dispatch_record(reservation_sid).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let settings = self.settings.clone();
        let messages = self.messages.clone();
        let ended: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
        let ended_in = ended.clone();
        let call_over = matches!(event, Event::CallStatus { .. });
        let decided: Arc<std::sync::Mutex<Option<DispatchRecord>>> = Arc::default();
        let decided_in = decided.clone();
        let unit = DispatchUnit {
            reservation_sid: reservation_sid.to_string(),
            worker: existing.worker.clone(),
            event_id,
            now,
            decide: Box::new(move |record, worker| {
                let Some(record) = record else {
                    return DispatchChange::none();
                };
                let d = dispatch::decide(record, worker, &event, now, &settings.dispatch);
                // Set, not counted here: a backend may run this more than once.
                *ended_in.lock().unwrap_or_else(|e| e.into_inner()) = (d.record.outcome
                    != record.outcome)
                    .then(|| d.record.outcome.as_ref().map(|o| o.to_string()))
                    .flatten();
                *decided_in.lock().unwrap_or_else(|e| e.into_inner()) = Some(d.record.clone());
                let locale = worker.map(|w| w.language).unwrap_or(record.language);
                let reply = render(&d.record, &d.voice, locale);
                let mut commands = d.commands;
                commands.extend(d.texts.iter().map(|t| Command::SendSms {
                    to: t.to.clone(),
                    body: messages.render(t.locale, &t.reply, &settings.catalog),
                }));
                DispatchChange {
                    record: Some(d.record),
                    worker: d.worker,
                    commands,
                    reply,
                }
            }),
        };
        let applied = self.store.apply_dispatch(unit).await?;
        self.persisted().await?;
        if let Applied::Fresh { before, after, .. } = &applied {
            self.metrics
                .worker_changed(before.as_deref(), after.as_deref());
            if let Some(outcome) = ended.lock().unwrap_or_else(|e| e.into_inner()).take() {
                self.metrics.dispatch_outcome(&outcome);
            }
        }
        let decided = decided.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(record) = decided.filter(|r| r.callback.is_some())
            && worker_call_over(&record, call_over)
        {
            self.callback_worker_gone(&record).await?;
        }
        Ok(Some(applied.reply().to_string()))
    }

    /// An event the worker's call answers nothing to (the outbox's news, a status callback).
    pub async fn call_news(
        &self,
        reservation_sid: &str,
        event_id: String,
        event: Event,
    ) -> Result<(), StoreError> {
        let silent: RenderVoice = Arc::new(|_, _, _| String::new());
        self.call_event(reservation_sid, event_id, event, silent)
            .await
            .map(|_| ())
    }

    /// Whether the call to a reserved worker is still wanted: the reservation may have
    /// ended while the command waited (Twilio was down), and ringing the worker then would
    /// be for a caller who is gone.
    pub async fn call_wanted(&self, reservation_sid: &str) -> Result<bool, StoreError> {
        let record = self.store.dispatch_record(reservation_sid).await?;
        Ok(record.is_some_and(|r| dispatch::still_offered(&r)))
    }
}

/// Whether a callback's reservation is done with its worker: they missed it (or it ended
/// elsewhere), or they took it and their call is now over.
fn worker_call_over(record: &DispatchRecord, call_over: bool) -> bool {
    use crate::core::dispatch::machine::ReservationState;
    match record.state {
        ReservationState::Missed | ReservationState::Gone => true,
        ReservationState::Bridged => call_over,
        _ => false,
    }
}
