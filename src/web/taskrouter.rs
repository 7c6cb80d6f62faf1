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
use super::voice::{dispatch_event, voicemail_path};
use crate::core::dispatch::{Assignment, EndReason, Event};
use crate::core::domain::{
    CallSid, Locale, PhoneNumber, ReservationSid, SkillKey, TaskSid, WorkerSid,
};
use crate::store::Applied;

/// A required SID field, parsed into its type.
fn sid<T>(
    form: &SignedForm,
    name: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, WebError> {
    parse(form.required(name)?).map_err(|e| WebError::BadRequest(format!("{name}: {e}")))
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
    let reservation_sid = sid(&form, "ReservationSid", ReservationSid::parse)?;
    let task_sid = sid(&form, "TaskSid", TaskSid::parse)?;
    let worker_sid = sid(&form, "WorkerSid", WorkerSid::parse)?;
    let worker_attrs = json_field(&form, "WorkerAttributes")?;
    let task_attrs = json_field(&form, "TaskAttributes")?;
    let phone = text(&worker_attrs, "contact_uri")
        .ok_or_else(|| WebError::BadRequest("WorkerAttributes has no contact_uri".into()))?;
    let worker = PhoneNumber::parse(&phone)
        .map_err(|e| WebError::BadRequest(format!("contact_uri: {e}")))?;
    // A callback request's task: the worker is called only if the request still wants it
    // now (open, within calling hours); otherwise the task was withdrawn.
    let callback = match callback_id(&task_attrs) {
        Some(id) => match state
            .callback_reserved(&id, &task_sid, &reservation_sid)
            .await
            .map_err(WebError::internal)?
        {
            Some(call) => Some(call),
            None => return Ok(StatusCode::OK),
        },
        None => None,
    };
    let assignment = Assignment {
        reservation_sid: reservation_sid.clone(),
        task_sid,
        worker_sid,
        worker: worker.clone(),
        skill: text(&task_attrs, "skill").and_then(|s| SkillKey::parse(&s).ok()),
        language: text(&task_attrs, "language").and_then(|l| Locale::parse(&l).ok()),
        caller: text(&task_attrs, "caller")
            .or_else(|| text(&task_attrs, "from"))
            .unwrap_or_default(),
        caller_city: text(&task_attrs, "caller_city")
            .or_else(|| text(&task_attrs, "from_city"))
            .filter(|c| !c.is_empty()),
        callback,
    };
    let applied = state
        .assignment(assignment)
        .await
        .map_err(WebError::internal)?;
    let replayed = matches!(applied, Applied::Replayed { .. });
    tracing::info!(%reservation_sid, worker = %worker.masked(), replayed, "assignment");
    Ok(StatusCode::OK)
}

/// The callback request a task carries out, if it is a callback task.
fn callback_id(attrs: &Value) -> Option<String> {
    (text(attrs, "type").as_deref() == Some("callback"))
        .then(|| text(attrs, "callback"))
        .flatten()
}

/// `POST /twilio/taskrouter/events`: answers 204 to everything; acts on the few it needs.
pub async fn events(
    State(state): State<AppState>,
    form: SignedForm,
) -> Result<impl IntoResponse, WebError> {
    let event_type = form.required("EventType")?;
    match event_type {
        "reservation.timeout" | "reservation.canceled" | "reservation.rescinded" => {
            let reservation_sid = sid(&form, "ReservationSid", ReservationSid::parse)?;
            let reason = match event_type {
                "reservation.timeout" => EndReason::Timeout,
                "reservation.rescinded" => EndReason::Rescinded,
                _ => EndReason::Canceled,
            };
            let id = format!("event:{event_type}:{reservation_sid}");
            dispatch_event(
                &state,
                &reservation_sid,
                id,
                Event::ReservationEnded { reason },
            )
            .await?;
        }
        "task.canceled" => {
            let attrs = json_field(&form, "TaskAttributes")?;
            if let Some(id) = callback_id(&attrs) {
                let task_sid = sid(&form, "TaskSid", TaskSid::parse)?;
                state
                    .callback_task_canceled(&id, &task_sid)
                    .await
                    .map_err(WebError::internal)?;
            }
        }
        "task-queue.entered"
            if form.get("TaskQueueName") == Some(crate::service::setup::VOICEMAIL_QUEUE) =>
        {
            let task_sid = sid(&form, "TaskSid", TaskSid::parse)?;
            let attrs = json_field(&form, "TaskAttributes")?;
            // A callback task has no caller on the line; it only lands here without a skill.
            if callback_id(&attrs).is_some() {
                tracing::warn!(%task_sid, "a callback task reached the voicemail queue: it has no skill");
                return Ok(StatusCode::NO_CONTENT);
            }
            let Some(call_sid) = text(&attrs, "call_sid").and_then(|c| CallSid::parse(&c).ok())
            else {
                return Ok(StatusCode::NO_CONTENT);
            };
            // The caller's city goes along for the callback's whisper.
            let path = voicemail_path(
                &text(&attrs, "skill").unwrap_or_default(),
                &text(&attrs, "language").unwrap_or_default(),
                &text(&attrs, "caller")
                    .or_else(|| text(&attrs, "from"))
                    .unwrap_or_default(),
                &text(&attrs, "caller_city").unwrap_or_default(),
            );
            state
                .to_voicemail(&task_sid, call_sid, path)
                .await
                .map_err(WebError::internal)?;
        }
        _ => {}
    }
    Ok(StatusCode::NO_CONTENT)
}
