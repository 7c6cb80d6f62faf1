//! `POST /twilio/sms`: a worker's text in, TwiML `<Message>` out.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::AppState;
use super::error::WebError;
use super::signed_form::SignedForm;
use crate::core::domain::PhoneNumber;
use crate::store::Applied;
use crate::twilio::twiml;

/// Twilio delivers at most 1,600 characters; a longer body is cut, not refused, so the
/// worker still gets an answer.
const MAX_TEXT_CHARS: usize = 1600;

pub async fn inbound(
    State(state): State<AppState>,
    form: SignedForm,
) -> Result<impl IntoResponse, WebError> {
    let from = PhoneNumber::parse(form.required("From")?)
        .map_err(|e| WebError::BadRequest(format!("From: {e}")))?;
    let sid = form.required("MessageSid")?;
    if sid.is_empty() || sid.len() > 64 || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(WebError::BadRequest(
            "MessageSid is not a message SID".into(),
        ));
    }
    let text: String = form
        .get("Body")
        .unwrap_or_default()
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect();
    let applied = state
        .text(from.clone(), sid, text)
        .await
        .map_err(WebError::internal)?;
    let replayed = matches!(applied, Applied::Replayed { .. });
    tracing::info!(from = %from.masked(), sid, replayed, "sms handled");
    Ok((
        [(CONTENT_TYPE, "text/xml; charset=utf-8")],
        twiml::message(applied.reply()),
    ))
}
