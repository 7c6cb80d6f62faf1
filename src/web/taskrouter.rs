//! TaskRouter's callbacks: the assignment callback (a worker was reserved for a customer)
//! and workspace events (a reservation ended elsewhere; a customer reached the voicemail
//! queue).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::Value;

use super::AppState;
use super::error::WebError;
use super::signed_form::SignedForm;
use super::voice::{dispatch_event, query_value};
use crate::core::dispatch::machine::ReservationState;
use crate::core::dispatch::{DispatchRecord, Event};
use crate::core::domain::{Locale, PhoneNumber, SkillKey};
use crate::core::effects::Command;
use crate::store::DispatchChange;

/// A SID of the given kind: two letters and 32 hex digits.
fn sid<'a>(form: &'a SignedForm, name: &str, prefix: &str) -> Result<&'a str, WebError> {
    let value = form.required(name)?;
    if crate::core::domain::is_sid(value, prefix) {
        Ok(value)
    } else {
        Err(WebError::BadRequest(format!(
            "{name} is not a {prefix} SID"
        )))
    }
}

fn json_field(form: &SignedForm, name: &str) -> Result<Value, WebError> {
    let raw = form.get(name).unwrap_or("{}");
    serde_json::from_str(raw).map_err(|e| WebError::BadRequest(format!("{name} is not JSON: {e}")))
}

fn text(attrs: &Value, key: &str) -> Option<String> {
    attrs.get(key).and_then(Value::as_str).map(str::to_string)
}

/// `POST /twilio/taskrouter/assignment`: record the reservation and queue the call to the
/// worker, then answer an empty 200 at once; the decision comes later over REST. A repeated
/// callback for the same reservation places no second call.
pub async fn assignment(
    State(state): State<AppState>,
    form: SignedForm,
) -> Result<impl IntoResponse, WebError> {
    let reservation_sid = sid(&form, "ReservationSid", "WR")?;
    let task_sid = sid(&form, "TaskSid", "WT")?;
    let worker_sid = sid(&form, "WorkerSid", "WK")?;
    let worker_attrs = json_field(&form, "WorkerAttributes")?;
    let task_attrs = json_field(&form, "TaskAttributes")?;
    let phone = text(&worker_attrs, "contact_uri")
        .ok_or_else(|| WebError::BadRequest("WorkerAttributes has no contact_uri".into()))?;
    let phone = PhoneNumber::parse(&phone)
        .map_err(|e| WebError::BadRequest(format!("contact_uri: {e}")))?;
    let now = state.clock.now();
    let settings = &state.settings;
    let applied = state
        .store
        .apply_dispatch(
            &format!("assign:{reservation_sid}"),
            reservation_sid,
            &phone,
            now,
            |existing, worker| {
                if existing.is_some() {
                    // TaskRouter retried the callback: the call is already on its way.
                    return DispatchChange {
                        record: None,
                        worker: None,
                        commands: Vec::new(),
                        reply: String::new(),
                    };
                }
                let language = text(&task_attrs, "language")
                    .and_then(|l| Locale::parse(&l).ok())
                    .or(worker.map(|w| w.language))
                    .unwrap_or(settings.default_language);
                let record = DispatchRecord {
                    schema: 1,
                    reservation_sid: reservation_sid.to_string(),
                    task_sid: task_sid.to_string(),
                    worker_sid: worker_sid.to_string(),
                    worker: phone.clone(),
                    skill: text(&task_attrs, "skill").and_then(|s| SkillKey::parse(&s).ok()),
                    language,
                    caller: text(&task_attrs, "caller")
                        .or_else(|| text(&task_attrs, "from"))
                        .unwrap_or_default(),
                    caller_city: text(&task_attrs, "caller_city")
                        .or_else(|| text(&task_attrs, "from_city"))
                        .filter(|c| !c.is_empty()),
                    call_sid: None,
                    mode: settings.dispatch.confirm,
                    state: ReservationState::Offered,
                    outcome: None,
                    created_at: now,
                    updated_at: now,
                };
                // A Worker shiftline does not know (made by hand in the console) is not called.
                let command = match worker {
                    Some(_) => Command::PlaceCall {
                        reservation_sid: reservation_sid.to_string(),
                        worker: phone.clone(),
                        mode: settings.dispatch.confirm,
                        ring_timeout_secs: settings.dispatch.ring_timeout_secs,
                    },
                    None => Command::RejectReservation {
                        task_sid: task_sid.to_string(),
                        reservation_sid: reservation_sid.to_string(),
                        worker: phone.clone(),
                    },
                };
                DispatchChange {
                    record: Some(record),
                    worker: None,
                    commands: vec![command],
                    reply: String::new(),
                }
            },
        )
        .map_err(WebError::internal)?;
    state.persisted().await?;
    tracing::info!(reservation_sid, worker = %phone.masked(), replayed = matches!(applied, crate::store::Applied::Replayed { .. }), "assignment");
    Ok(StatusCode::OK)
}

/// `POST /twilio/taskrouter/events`: answers 204 to everything; acts on the few it needs.
pub async fn events(
    State(state): State<AppState>,
    form: SignedForm,
) -> Result<impl IntoResponse, WebError> {
    let event_type = form.required("EventType")?;
    let now = state.clock.now();
    match event_type {
        "reservation.timeout" | "reservation.canceled" | "reservation.rescinded" => {
            let reservation_sid = sid(&form, "ReservationSid", "WR")?;
            let reason = event_type.trim_start_matches("reservation.").to_string();
            let id = format!("event:{event_type}:{reservation_sid}");
            dispatch_event(
                &state,
                reservation_sid,
                &id,
                Event::ReservationEnded { reason },
            )
            .await?;
        }
        "task-queue.entered"
            if form.get("TaskQueueName") == Some(crate::service::setup::VOICEMAIL_QUEUE) =>
        {
            let task_sid = sid(&form, "TaskSid", "WT")?;
            let attrs = json_field(&form, "TaskAttributes")?;
            let Some(call_sid) = text(&attrs, "call_sid") else {
                return Ok(StatusCode::NO_CONTENT);
            };
            let path = format!(
                "/twilio/voice/voicemail/start?skill={}&lang={}&caller={}",
                query_value(&text(&attrs, "skill").unwrap_or_default()),
                query_value(&text(&attrs, "language").unwrap_or_default()),
                query_value(
                    &text(&attrs, "caller")
                        .or_else(|| text(&attrs, "from"))
                        .unwrap_or_default()
                ),
            );
            let command = Command::RedirectCall { call_sid, path };
            state
                .store
                .enqueue(&format!("voicemail:{task_sid}"), &[command], now)
                .map_err(WebError::internal)?;
            state.persisted().await?;
        }
        _ => {}
    }
    Ok(StatusCode::NO_CONTENT)
}
