//! The HTTP edge: axum handlers that check who is calling, parse the request, hand the
//! event to the core through the store, and render the answer.

pub mod api;
pub mod error;
pub mod ivr;
pub mod operator;
pub mod signed_form;
pub mod sms;
pub mod taskrouter;
pub mod voice;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};

use crate::clock::Clock;
use crate::config::Settings;
use crate::core::intake::Context;
use crate::i18n::Messages;
use crate::store::Store;

/// What every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub messages: Arc<Messages>,
    pub clock: Arc<dyn Clock>,
    /// Wakes the outbox delivery after a commit that wrote commands.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The TaskRouter workflow customers' calls are enqueued to: from the configuration,
    /// or found by name once the workspace is set up.
    pub workflow: Arc<std::sync::RwLock<Option<String>>>,
}

impl AppState {
    pub fn workflow_sid(&self) -> Option<String> {
        self.workflow
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// After a commit: make it durable (a reply reports stored state, so it waits until
    /// that state is on disk), then wake the outbox for any commands it wrote.
    pub async fn persisted(&self) -> Result<(), error::WebError> {
        self.store
            .durable()
            .await
            .map_err(error::WebError::internal)?;
        self.outbox_wake.notify_one();
        Ok(())
    }

    /// `persisted` for a worker's event, counting the state changes it made.
    pub async fn committed(&self, applied: &crate::store::Applied) -> Result<(), error::WebError> {
        self.persisted().await?;
        if let crate::store::Applied::Fresh { before, after, .. } = applied {
            self.metrics
                .worker_changed(before.as_deref(), after.as_deref());
        }
        Ok(())
    }

    pub fn set_workflow_sid(&self, sid: String) {
        *self.workflow.write().unwrap_or_else(|e| e.into_inner()) = Some(sid);
    }

    /// The business facts the pure core needs.
    pub fn context(&self) -> Context<'_> {
        Context {
            catalog: &self.settings.catalog,
            enrolment: self.settings.enrolment.as_ref(),
            default_language: self.settings.default_language,
        }
    }
}

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

/// Prometheus text exposition.
async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(&state.store),
    )
}

/// How long the oldest command may wait in the outbox before the service reports itself
/// not ready: Twilio has been failing (or unreachable) for that long.
const OUTBOX_STUCK: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Ready: the store answers and the outbox is moving.
async fn readyz(State(state): State<AppState>) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    let now = state.clock.now();
    match state.store.outbox() {
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}\n")),
        Ok(pending) => {
            // Timers wait on purpose; only commands that failed and keep failing count.
            let stuck = pending
                .iter()
                .filter(|e| e.attempts > 0 && now - e.enqueued_at > OUTBOX_STUCK)
                .count();
            if stuck > 0 {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("outbox stuck: {stuck} command(s) failing for over 10 minutes\n"),
                )
            } else {
                (
                    StatusCode::OK,
                    format!("ready ({} pending)\n", pending.len()),
                )
            }
        }
    }
}

/// The store was opened before the router was built, so answering at all means ready.
async fn healthz() -> &'static str {
    "ok\n"
}
