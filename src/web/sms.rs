//! `POST /twilio/sms`: a worker's text in, TwiML `<Message>` out.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::AppState;
use super::error::WebError;
use super::signed_form::SignedForm;
use crate::core::domain::PhoneNumber;
use crate::core::intake;
use crate::store::{Applied, Change};
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
    let now = state.clock.now();
    let ctx = state.context();

    let applied = state
        .store
        .apply(
            Some(&format!("sms:{sid}")),
            &from,
            now,
            crate::store::Via::Sms,
            |record, attempts| {
                let outcome = intake::on_text(&ctx, &from, &text, now, record, attempts);
                Change {
                    reply: state
                        .messages
                        .render_all(outcome.locale, &outcome.replies, ctx.catalog),
                    record: outcome.record,
                    pins: outcome.pins,
                    commands: outcome.commands,
                }
            },
        )
        .map_err(WebError::internal)?;
    state.committed(&applied).await?;
    if let Applied::Fresh { after, .. } = &applied {
        let keyword = crate::core::intake::understand::understand(
            &text,
            crate::core::domain::Locale::En,
            &state.settings.catalog,
        )
        .map_or("other", |i| i.name());
        let language = after
            .as_ref()
            .map_or(state.settings.default_language, |w| w.language);
        state.metrics.message(keyword, language.code());
    }
    let replayed = matches!(applied, Applied::Replayed { .. });
    tracing::info!(from = %from.masked(), sid, replayed, "sms handled");
    Ok((
        [(CONTENT_TYPE, "text/xml; charset=utf-8")],
        twiml::message(applied.reply()),
    ))
}
