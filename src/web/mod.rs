//! The HTTP edge: axum handlers that check who is calling, parse the request, hand the
//! event to the core through the store, and render the answer.

pub mod api;
pub mod error;
pub mod ivr;
pub mod signed_form;
pub mod sms;
pub mod taskrouter;
pub mod voice;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::clock::Clock;
use crate::config::Settings;
use crate::i18n::Messages;
use crate::intake::Context;
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
        .with_state(state)
}

/// The store was opened before the router was built, so answering at all means ready.
async fn healthz() -> &'static str {
    "ok\n"
}
