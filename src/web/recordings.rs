//! `GET /voicemails/{RecordingSid}?expires=..&sig=..`: the listen link of a voicemail text.
//! The link is its own credential (signed, expiring; `service::listen_link`); the audio is
//! streamed from Twilio with the account's credentials, which the listener never sees.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;

use super::AppState;
use super::error::WebError;
use crate::service::listen_link::{self, LinkError};

pub async fn listen(
    State(state): State<AppState>,
    Path(recording_sid): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let well_formed = recording_sid.len() == 34
        && recording_sid.starts_with("RE")
        && recording_sid[2..].chars().all(|c| c.is_ascii_hexdigit());
    if !well_formed {
        return Err(WebError::NotFound("no such voicemail".into()));
    }
    let expires = params
        .get("expires")
        .and_then(|e| e.parse::<i64>().ok())
        .ok_or_else(|| WebError::Forbidden("the link has no expiry".into()))?;
    let sig = params.get("sig").map(String::as_str).unwrap_or_default();
    let secret = state.settings.auth_token.expose_secret();
    listen_link::check(secret, &recording_sid, expires, sig, state.clock.now()).map_err(
        |e| match e {
            LinkError::Forged => WebError::Forbidden(e.to_string()),
            LinkError::Expired => WebError::Gone(e.to_string()),
        },
    )?;
    let audio = match state.twilio.recording_audio(&recording_sid).await {
        Ok(audio) => audio,
        Err(e) if e.status == Some(404) => {
            return Err(WebError::NotFound(
                "Twilio no longer has this voicemail".into(),
            ));
        }
        Err(e) => {
            tracing::warn!(error = %e, "voicemail audio unavailable");
            return Ok((
                StatusCode::BAD_GATEWAY,
                "Twilio did not send the recording; try again\n",
            )
                .into_response());
        }
    };
    let content_type = audio
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("audio/mpeg")
        .to_string();
    Ok((
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "private, no-store".to_string()),
        ],
        Body::from_stream(audio.bytes_stream()),
    )
        .into_response())
}
