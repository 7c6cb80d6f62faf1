//! The HTTP edge: axum handlers that check who is calling, parse the request into typed
//! values, call one use case of the service, and render the answer.

pub mod api;
pub mod error;
pub mod ivr;
pub mod operator;
pub mod recordings;
pub mod signed_form;
pub mod sms;
pub mod taskrouter;
pub mod voice;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};

use crate::service::Service;

/// What every handler shares: the use cases (cheap to clone).
pub type AppState = Service;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/workers/{phone}/history", get(api::history))
        .route("/twilio/sms", post(sms::inbound))
        .route("/twilio/voice/intake", post(ivr::intake))
        .route("/twilio/voice/intake/pin", post(ivr::pin))
        .route("/twilio/voice/intake/menu", post(ivr::menu))
        .route("/twilio/voice/intake/skills", post(ivr::skills))
        .route("/twilio/voice/intake/confirm", post(ivr::confirm))
        .route("/twilio/voice/customer", post(voice::customer))
        .route(
            "/twilio/voice/customer/choice",
            post(voice::customer_choice),
        )
        .route("/twilio/voice/customer/wait", post(voice::customer_wait))
        .route(
            "/twilio/voice/customer/callback",
            post(voice::customer_callback),
        )
        .route("/twilio/voice/customer/left", post(voice::customer_left))
        .route(
            "/twilio/voice/callback/dialed",
            post(voice::callback_dialed),
        )
        .route(
            "/twilio/voice/voicemail/transcribed",
            post(voice::voicemail_transcribed),
        )
        .route("/voicemails/{recording_sid}", get(recordings::listen))
        .route("/api/callbacks", get(api::callbacks))
        .route(
            "/twilio/voice/dispatch/answer",
            post(voice::dispatch_answer),
        )
        .route("/twilio/voice/dispatch/key", post(voice::dispatch_key))
        .route("/twilio/voice/dispatch/amd", post(voice::dispatch_amd))
        .route(
            "/twilio/voice/dispatch/status",
            post(voice::dispatch_status),
        )
        .route(
            "/twilio/voice/voicemail/start",
            post(voice::voicemail_start),
        )
        .route("/twilio/voice/voicemail/done", post(voice::voicemail_done))
        .route(
            "/twilio/voice/voicemail/recorded",
            post(voice::voicemail_recorded),
        )
        .route(
            "/twilio/taskrouter/assignment",
            post(taskrouter::assignment),
        )
        .route("/twilio/taskrouter/events", post(taskrouter::events))
        .route("/api/voicemails", get(api::voicemails))
        .route("/api/workers", get(api::list_workers))
        .route("/api/workers/{phone}", get(api::get_worker))
        .route("/api/outbox", get(api::outbox))
        .route("/api/workers", post(operator::add_worker))
        .route(
            "/api/workers/{phone}",
            axum::routing::delete(operator::remove_worker),
        )
        .route(
            "/api/workers/{phone}/offline",
            post(operator::force_offline),
        )
        .layer(axum::middleware::from_fn_with_state(state.clone(), timed))
        .with_state(state)
}

/// Measures every request for the latency histogram, by route (never by raw path, which
/// would carry phone numbers).
async fn timed(
    State(state): State<AppState>,
    matched: Option<axum::extract::MatchedPath>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let route = matched.as_ref().map(|m| m.as_str()).unwrap_or("unmatched");
    state.metrics.webhook(
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

async fn stats_or_default(state: &AppState) -> crate::store::OutboxStats {
    let since = state.clock.now() - OUTBOX_STUCK;
    state.store.outbox_stats(since).await.unwrap_or_default()
}

/// Prometheus text exposition.
async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(&stats_or_default(&state).await),
    )
}

/// How long the oldest command may wait in the outbox before the service reports itself
/// not ready: Twilio has been failing (or unreachable) for that long.
const OUTBOX_STUCK: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Ready: the store answers and the outbox is moving.
async fn readyz(State(state): State<AppState>) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    let since = state.clock.now() - OUTBOX_STUCK;
    match state.store.outbox_stats(since).await {
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}\n")),
        // Timers wait on purpose; only commands that failed and keep failing count.
        Ok(stats) if stats.failing_since > 0 => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "outbox stuck: {} command(s) failing for over 10 minutes\n",
                stats.failing_since
            ),
        ),
        Ok(stats) => (
            StatusCode::OK,
            format!("ready ({} pending)\n", stats.pending),
        ),
    }
}

/// The store was opened before the router was built, so answering at all means ready.
async fn healthz() -> &'static str {
    "ok\n"
}
