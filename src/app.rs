//! Start-up: open the store, bring the roster up to date, connect to Twilio (or start the
//! built-in simulator), build the router, serve until told to stop.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::sync::Notify;
use twilio_sim::{Realism, Simulator, SimulatorConfig};

use crate::clock::Clock;
use crate::config::Settings;
use crate::i18n::Messages;
use crate::outbox::Delivery;
use crate::setup;
use crate::store::{Store, StoreError};
use crate::twilio::rest::{Endpoints, RetryPolicy, TwilioClient, TwilioError};
use crate::web::{AppState, router};

/// The account and workspace the built-in simulator pretends to be.
pub const SIMULATOR_ACCOUNT: &str = "AC00000000000000000000000000000000";
pub const SIMULATOR_WORKSPACE: &str = "WS00000000000000000000000000000000";

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
    #[error("cannot start the Twilio simulator: {0}")]
    Simulator(std::io::Error),
    #[error("setting up the simulated TaskRouter workspace: {0}")]
    Setup(TwilioError),
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// Everything a running shiftline is made of.
pub struct Services {
    pub state: AppState,
    pub delivery: Delivery,
    pub twilio: TwilioClient,
}

/// Opens the store in `settings.data_dir`, makes the roster match the configuration and
/// builds the handlers' shared state.
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
    let configured_workflow = settings
        .twilio
        .as_ref()
        .and_then(|t| t.workflow_sid.clone());
    Ok(AppState {
        settings: Arc::new(settings),
        store,
        messages: Arc::new(messages),
        clock,
        outbox_wake: Arc::new(Notify::new()),
        metrics: Arc::new(crate::metrics::Metrics::new()),
        workflow: Arc::new(std::sync::RwLock::new(configured_workflow)),
    })
}

/// A REST client for the configured Twilio account, or for `simulator` when there is none.
pub fn twilio_client(settings: &Settings, simulator: Option<&Simulator>) -> TwilioClient {
    let token = settings.auth_token.clone();
    match (&settings.twilio, simulator) {
        (Some(account), _) => TwilioClient::new(
            &account.account_sid,
            token,
            &account.workspace_sid,
            Endpoints::twilio(),
            RetryPolicy::default(),
        ),
        (None, sim) => {
            let base = sim.map(Simulator::base_url).unwrap_or_default();
            let endpoints = Endpoints {
                api_base: base.clone(),
                taskrouter_base: base,
            };
            TwilioClient::new(
                SIMULATOR_ACCOUNT,
                token,
                SIMULATOR_WORKSPACE,
                endpoints,
                RetryPolicy::default(),
            )
        }
    }
}

/// The built-in simulator, for running without a Twilio account.
pub async fn start_simulator(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<Simulator, StartError> {
    Simulator::start(SimulatorConfig {
        account_sid: SIMULATOR_ACCOUNT.to_string(),
        workspace_sid: SIMULATOR_WORKSPACE.to_string(),
        auth_token: settings.auth_token.expose_secret().to_string(),
        clock: Arc::new(move || clock.now()),
        realism: Realism::default(),
    })
    .await
    .map_err(StartError::Simulator)
}

/// The state, the outbox delivery and the Twilio client, wired together.
pub fn assemble(
    settings: Settings,
    clock: Arc<dyn Clock>,
    simulator: Option<&Simulator>,
) -> Result<Services, StartError> {
    let twilio = twilio_client(&settings, simulator);
    let state = build(settings, clock)?;
    let delivery = Delivery::new(state.clone(), twilio.clone());
    Ok(Services {
        state,
        delivery,
        twilio,
    })
}

/// Looks the `shiftline` workflow up by name when the configuration gives no `workflow_sid`,
/// retrying until `twilio setup` has made it; until then callers go to voicemail.
async fn find_workflow(state: AppState, twilio: TwilioClient) {
    loop {
        match twilio.list_workflows(Some(setup::WORKFLOW)).await {
            Ok(found) => {
                if let Some(sid) = found.into_iter().find_map(|w| w.sid) {
                    tracing::info!(workflow = %sid, "TaskRouter workflow found");
                    state.set_workflow_sid(sid);
                    return;
                }
                tracing::warn!(
                    "no `shiftline` workflow in TaskRouter yet: run `shiftline twilio setup`"
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up the TaskRouter workflow; will retry")
            }
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
}

/// Serves until `shutdown` resolves, then finishes the requests in flight and makes the
/// store durable. Without a `[twilio]` section it runs against the built-in simulator,
/// whose workspace it sets up first.
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
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: addr.to_string(),
            source,
        })?;
    let simulator = match settings.twilio {
        Some(_) => None,
        None => Some(start_simulator(&settings, clock.clone()).await?),
    };
    let services = assemble(settings, clock, simulator.as_ref())?;
    if let Some(sim) = &simulator {
        let report = setup::run(&services.twilio, &services.state.settings)
            .await
            .map_err(StartError::Setup)?;
        if let Some(sid) = report.workflow_sid {
            services.state.set_workflow_sid(sid);
        }
        tracing::info!(url = %sim.base_url(), changes = report.changes, "no [twilio] section: running against the built-in Twilio simulator");
        let sim = sim.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                sim.tick().await;
            }
        });
    }
    if services.state.workflow_sid().is_none() {
        tokio::spawn(find_workflow(
            services.state.clone(),
            services.twilio.clone(),
        ));
    }
    tokio::spawn(services.delivery.clone().run());
    let state = services.state;
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
