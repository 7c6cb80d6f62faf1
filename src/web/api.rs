//! The operators' API, behind a bearer token.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::WebError;
use crate::core::intake::record::WorkerRecord;
use crate::store::{OutboxEntry, ParkedEntry};

/// A worker as operators see it.
#[derive(Debug, Serialize)]
pub struct WorkerView {
    pub phone: String,
    pub name: String,
    pub presence: &'static str,
    pub dialogue: &'static str,
    pub skills: Vec<String>,
    pub language: String,
    pub languages: Vec<String>,
    pub time_zone: String,
    pub opted_out: bool,
    /// False once the configuration file no longer lists a worker it listed.
    pub on_roster: bool,
    /// The weekly hours, as the worker would read them in English ("Mon-Fri 9:00-17:00").
    pub schedule: Option<String>,
    pub missed_calls: u32,
    pub worker_sid: Option<String>,
    pub updated_at: String,
}

impl WorkerView {
    fn of(r: &WorkerRecord, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            phone: r.phone.to_string(),
            name: r.name.clone(),
            presence: r.presence.as_str(),
            dialogue: r.dialogue_at(now).as_str(),
            skills: r.skills.iter().map(|s| s.to_string()).collect(),
            language: r.language.to_string(),
            languages: r.languages.iter().map(|l| l.to_string()).collect(),
            time_zone: r.time_zone.name().to_string(),
            opted_out: r.opted_out,
            on_roster: !r.deactivated,
            schedule: r
                .schedule
                .as_ref()
                .map(|s| s.describe(crate::core::domain::Locale::En)),
            missed_calls: r.missed_calls,
            worker_sid: r.worker_sid.clone(),
            updated_at: r.updated_at.to_rfc3339(),
        }
    }
}

pub(crate) fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), WebError> {
    let Some(expected) = &state.settings.api_token else {
        return Err(WebError::Unauthorized(
            "the API is off: set SHIFTLINE_API_TOKEN".into(),
        ));
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let expected = expected.expose_secret().as_bytes();
    let same = given.len() == expected.len()
        && given
            .bytes()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(WebError::Unauthorized(
            "a valid bearer token is required".into(),
        ))
    }
}

pub async fn list_workers(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<WorkerView>>, WebError> {
    authorize(&state, &headers)?;
    let now = state.clock.now();
    let workers = state.store.workers().await.map_err(WebError::internal)?;
    Ok(Json(
        workers.iter().map(|w| WorkerView::of(w, now)).collect(),
    ))
}

pub async fn get_worker(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(phone): Path<String>,
) -> Result<Json<WorkerView>, WebError> {
    authorize(&state, &headers)?;
    // A "+" is easy to lose in a URL; accept the digits alone too.
    let phone = super::operator::path_phone(&phone)?;
    let record = state
        .store
        .worker(&phone)
        .await
        .map_err(WebError::internal)?;
    let record =
        record.ok_or_else(|| WebError::NotFound(format!("no worker with phone {phone}")))?;
    Ok(Json(WorkerView::of(&record, state.clock.now())))
}

/// The outbox as operators see it: what waits for Twilio and what Twilio refused for good.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxView {
    pub pending: Vec<PendingView>,
    pub parked: Vec<ParkedView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingView {
    pub id: u64,
    pub lane: String,
    pub command: String,
    pub enqueued_at: DateTime<Utc>,
    pub attempts: u32,
    /// Not tried again before this time (a backoff); None when due at once.
    pub not_before: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParkedView {
    pub id: u64,
    pub lane: String,
    pub command: String,
    pub enqueued_at: DateTime<Utc>,
    pub attempts: u32,
    pub parked_at: DateTime<Utc>,
    pub error: String,
}

impl OutboxView {
    pub fn of(pending: &[OutboxEntry], parked: &[ParkedEntry]) -> Self {
        Self {
            pending: pending
                .iter()
                .map(|e| PendingView {
                    id: e.id,
                    lane: e.command.lane(),
                    command: e.command.describe(),
                    enqueued_at: e.enqueued_at,
                    attempts: e.attempts,
                    not_before: e.not_before,
                    last_error: e.last_error.clone(),
                })
                .collect(),
            parked: parked
                .iter()
                .map(|p| ParkedView {
                    id: p.entry.id,
                    lane: p.entry.command.lane(),
                    command: p.entry.command.describe(),
                    enqueued_at: p.entry.enqueued_at,
                    attempts: p.entry.attempts,
                    parked_at: p.parked_at,
                    error: p.error.clone(),
                })
                .collect(),
        }
    }
}

/// Commands waiting for Twilio and commands Twilio refused for good.
pub async fn outbox(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<OutboxView>, WebError> {
    authorize(&state, &headers)?;
    let pending = state.store.outbox().await.map_err(WebError::internal)?;
    let parked = state.store.parked().await.map_err(WebError::internal)?;
    Ok(Json(OutboxView::of(&pending, &parked)))
}

/// Voicemails callers left, oldest first.
pub async fn voicemails(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<crate::store::VoicemailRecord>>, WebError> {
    authorize(&state, &headers)?;
    Ok(Json(
        state.store.voicemails().await.map_err(WebError::internal)?,
    ))
}

/// `GET /api/callbacks[?status=open|closed]`: callback requests, oldest first, with every
/// attempt.
pub async fn callbacks(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<Vec<crate::core::callback::CallbackRecord>>, WebError> {
    authorize(&state, &headers)?;
    let wanted = match query.get("status").map(String::as_str) {
        None | Some("all") => None,
        Some("open") => Some(true),
        Some("closed") => Some(false),
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "status {other:?}: use open, closed or all"
            )));
        }
    };
    let mut all = state.store.callbacks().await.map_err(WebError::internal)?;
    all.retain(|c| wanted.is_none_or(|open| c.status.is_open() == open));
    Ok(Json(all))
}

/// A worker's presence changes and where each came from (sms, ivr, schedule, dispatch,
/// operator).
pub async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(phone): Path<String>,
) -> Result<Json<Vec<crate::store::PresenceChange>>, WebError> {
    authorize(&state, &headers)?;
    let phone = super::operator::path_phone(&phone)?;
    if state
        .store
        .worker(&phone)
        .await
        .map_err(WebError::internal)?
        .is_none()
    {
        return Err(WebError::NotFound(format!("no worker with phone {phone}")));
    }
    Ok(Json(
        state
            .store
            .history(&phone)
            .await
            .map_err(WebError::internal)?,
    ))
}
