//! Start-up: open the store, bring the roster up to date, build the router, serve until
//! told to stop.

use std::future::Future;
use std::sync::Arc;

use secrecy::ExposeSecret;

use crate::clock::Clock;
use crate::config::Settings;
use crate::i18n::Messages;
use crate::store::{Store, StoreError};
use crate::web::{AppState, router};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the store in {dir}: {source}")]
    Store { dir: String, source: StoreError },
    #[error("locales: {0}")]
    Locales(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// Opens the store in `settings.data_dir` and makes the roster match the configuration.
pub fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
    let dir = settings.data_dir.display().to_string();
    let store_error = |source| StartError::Store {
        dir: dir.clone(),
        source,
    };
    let store = Store::open(&settings.data_dir).map_err(store_error)?;
    let now = clock.now();
    let changed = store
        .seed_roster(&settings.roster, now)
        .map_err(store_error)?;
    let pruned = store.prune_seen(now).map_err(store_error)?;
    tracing::info!(
        workers = settings.roster.len(),
        changed,
        pruned,
        "roster loaded"
    );
    let messages = Messages::load().map_err(StartError::Locales)?;
    Ok(AppState {
        settings: Arc::new(settings),
        store,
        messages: Arc::new(messages),
        clock,
    })
}

/// Serves until `shutdown` resolves, then finishes the requests in flight and makes the
/// store durable.
pub async fn serve(
    settings: Settings,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let addr = settings.listen;
    if settings.auth_token_generated {
        tracing::warn!(
            token = settings.auth_token.expose_secret(),
            "no SHIFTLINE_TWILIO_AUTH_TOKEN set: using this development token to check signatures"
        );
    }
    if settings.twilio.is_none() {
        tracing::info!(
            "no [twilio] section: commands stay in the outbox for the built-in simulator"
        );
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: addr.to_string(),
            source,
        })?;
    let state = build(settings, clock)?;
    let store = state.store.clone();
    tracing::info!(%addr, public_url = %state.settings.public_url, "shiftline listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartError::Serve)?;
    store.durable().await.map_err(|source| StartError::Store {
        dir: String::new(),
        source,
    })?;
    tracing::info!("stopped");
    Ok(())
}
