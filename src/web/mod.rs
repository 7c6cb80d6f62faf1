//! The HTTP edge: axum handlers that check who is calling, parse the request, hand the
//! event to the core through the store, and render the answer.

pub mod api;
pub mod error;
pub mod signed_form;
pub mod sms;

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
}

impl AppState {
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
        .route("/api/workers", get(api::list_workers))
        .route("/api/workers/{phone}", get(api::get_worker))
        .route("/api/outbox", get(api::outbox))
        .with_state(state)
}

/// The store was opened before the router was built, so answering at all means ready.
async fn healthz() -> &'static str {
    "ok\n"
}
