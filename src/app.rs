//! Start-up, written once: `Application::build` opens the store, brings the roster up to
//! date and connects to Twilio (or to the built-in simulator); `run_until_stopped` serves
//! the router and delivers the outbox until told to stop. `serve`, the demo and the tests
//! all start shiftline this way.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use twilio_sim::{Realism, Simulator, SimulatorConfig};

use crate::clock::Clock;
use crate::config::{Settings, SimulatorRealism, StoreChoice};
use crate::i18n::Messages;
use crate::outbox::Delivery;
use crate::service::{Service, roster, setup};
use crate::store::{PgStore, SEEN_RETENTION, SEEN_SWEEP, SledStore, Store, StoreError};
use crate::twilio::rest::{Endpoints, RetryPolicy, TwilioClient, TwilioError};
use crate::web::router;

/// The account and workspace the built-in simulator pretends to be.
pub const SIMULATOR_ACCOUNT: &str = "AC00000000000000000000000000000000";
pub const SIMULATOR_WORKSPACE: &str = "WS00000000000000000000000000000000";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the store at {dir}: {source}")]
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

/// A built shiftline: the use cases, the outbox delivery and the Twilio it talks to.
pub struct Application {
    pub service: Service,
    pub delivery: Delivery,
    pub twilio: TwilioClient,
    /// The built-in Twilio in this process, when there is no `[twilio]` account and no
    /// shared simulator.
    pub simulator: Option<Simulator>,
}

impl Application {
    /// Opens the store in `settings.data_dir`, makes the roster match the configuration and
    /// wires the use cases, the outbox and the Twilio client together. Without a `[twilio]`
    /// section it talks to `simulator`, or starts one.
    pub async fn build(
        settings: Settings,
        clock: Arc<dyn Clock>,
        simulator: Option<Simulator>,
    ) -> Result<Self, StartError> {
        let simulator = match (&settings.twilio, &settings.simulator_url, simulator) {
            (Some(_), _, _) | (None, Some(_), None) => None,
            (None, _, Some(sim)) => Some(sim),
            (None, None, None) => Some(start_simulator(&settings, clock.clone()).await?),
        };
        let twilio = twilio_client(&settings, simulator.as_ref());
        Self::build_with(settings, clock, twilio, simulator).await
    }

    /// `build`, talking to Twilio through `twilio` (a benchmark's stand-in, say).
    pub async fn build_with(
        mut settings: Settings,
        clock: Arc<dyn Clock>,
        twilio: TwilioClient,
        simulator: Option<Simulator>,
    ) -> Result<Self, StartError> {
        let dir = store_location(&settings);
        let store_error = |source| StartError::Store {
            dir: dir.clone(),
            source,
        };
        let store = open_store(&settings).await.map_err(store_error)?;
        let now = clock.now();
        // The roster lives in the store from here on; a configuration listing 100,000
        // workers would otherwise hold some 13 MB for the life of the service.
        let configured = std::mem::take(&mut settings.roster);
        let seeded = roster::seed(store.as_ref(), &configured, now)
            .await
            .map_err(store_error)?;
        let pruned = store
            .prune_seen(now - SEEN_RETENTION)
            .await
            .map_err(store_error)?;
        tracing::info!(
            workers = configured.len(),
            changed = seeded.changed,
            deactivated = seeded.deactivated,
            pruned,
            "roster loaded"
        );
        drop(configured);
        let messages = Messages::load().map_err(StartError::Locales)?;
        crate::core::intake::understand::warm_up(&settings.catalog);
        let settings = Arc::new(settings);
        let service = Service::new(
            settings.clone(),
            store.clone(),
            Arc::new(messages),
            clock.clone(),
            twilio.clone(),
        );
        let delivery = Delivery::new(
            store,
            twilio.clone(),
            settings,
            Arc::new(service.clone()),
            clock,
            service.metrics.clone(),
            service.outbox_wake.clone(),
        );
        Ok(Self {
            service,
            delivery,
            twilio,
            simulator,
        })
    }

    /// Makes the simulated TaskRouter workspace ready, as `twilio setup` would a real one,
    /// and remembers its workflow. Returns how many resources it changed.
    pub async fn set_up_workspace(&self) -> Result<usize, StartError> {
        let report = setup::run(&self.twilio, &self.service.settings)
            .await
            .map_err(StartError::Setup)?;
        if let Some(sid) = report.workflow_sid {
            self.service.set_workflow_sid(sid);
        }
        Ok(report.changes)
    }

    /// Serves `listener` until `shutdown` resolves, with the outbox delivered in the
    /// background (`deliver_outbox` false leaves it to the caller, as the tests do), then
    /// finishes the requests in flight and makes the store durable.
    pub async fn run_until_stopped(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
        deliver_outbox: bool,
    ) -> Result<(), StartError> {
        let mut background = Vec::new();
        if deliver_outbox {
            background.push(tokio::spawn(self.delivery.clone().run()));
        }
        let store = self.service.store.clone();
        background.push(tokio::spawn(forget_old_events(
            Arc::downgrade(&store),
            self.service.clock.clone(),
        )));
        axum::serve(listener, router(self.service))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(StartError::Serve)?;
        for task in background {
            task.abort();
        }
        store.durable().await.map_err(|source| StartError::Store {
            dir: String::new(),
            source,
        })
    }
}

/// Forgets handled webhook ids older than `SEEN_RETENTION`, every `SEEN_SWEEP`, so the
/// idempotency records stay in proportion to a couple of days' traffic however long the
/// service runs. With two instances both sweep; deleting what is gone already is harmless.
/// It holds the store weakly, so a stopped service's store closes without waiting for it.
async fn forget_old_events(store: std::sync::Weak<dyn Store>, clock: Arc<dyn Clock>) {
    let mut every = tokio::time::interval(SEEN_SWEEP);
    every.tick().await; // start-up swept already
    loop {
        every.tick().await;
        let Some(store) = store.upgrade() else { return };
        match store.prune_seen(clock.now() - SEEN_RETENTION).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "old webhook ids forgotten"),
            Err(e) => tracing::warn!(error = %e, "cannot forget old webhook ids"),
        }
    }
}

/// The store the configuration names: sled in `server.data_dir`, or PostgreSQL (its
/// schema brought up to date).
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match &settings.store {
        StoreChoice::Sled => Arc::new(SledStore::open_with_cache(
            &settings.data_dir,
            settings.store_cache_mb * 1024 * 1024,
        )?),
        StoreChoice::Postgres { url } => Arc::new(PgStore::open(url.expose_secret()).await?),
    })
}

/// Where the store is, for messages: a directory, or the database (without credentials).
pub fn store_location(settings: &Settings) -> String {
    match &settings.store {
        StoreChoice::Sled => settings.data_dir.display().to_string(),
        StoreChoice::Postgres { url } => match url::Url::parse(url.expose_secret()) {
            Ok(url) => format!(
                "postgres://{}{}",
                url.host_str().unwrap_or_default(),
                url.path()
            ),
            Err(_) => "PostgreSQL".to_string(),
        },
    }
}

/// A REST client for the configured Twilio account, or for a simulator when there is none:
/// the shared one at `simulator.url`, or `simulator` in this process.
pub fn twilio_client(settings: &Settings, simulator: Option<&Simulator>) -> TwilioClient {
    let token = settings.auth_token.clone();
    let shared = settings.simulator_url.clone();
    match (&settings.twilio, simulator) {
        (Some(account), _) => TwilioClient::new(
            &account.account_sid,
            token,
            &account.workspace_sid,
            Endpoints::twilio(),
            RetryPolicy::default(),
        ),
        (None, sim) => {
            let base = shared
                .or_else(|| sim.map(Simulator::base_url))
                .unwrap_or_default();
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
        realism: realism(&settings.simulator),
    })
    .await
    .map_err(StartError::Simulator)
}

/// `shiftline simulator`: the built-in Twilio on `listen`, on its own, until `shutdown`. It
/// signs callbacks with `auth_token`, or with a development token it prints.
pub async fn run_simulator(
    listen: std::net::SocketAddr,
    auth_token: Option<String>,
    knobs: &SimulatorRealism,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: listen.to_string(),
            source,
        })?;
    let token = auth_token.unwrap_or_else(|| {
        let token = format!("dev-{:032x}", rand::random::<u128>());
        tracing::warn!(
            %token,
            "no SHIFTLINE_TWILIO_AUTH_TOKEN set: signing with this development token; give the instances the same one"
        );
        token
    });
    tracing::info!(%listen, account = SIMULATOR_ACCOUNT, "Twilio simulator listening (control API under /__sim/)");
    let config = SimulatorConfig {
        account_sid: SIMULATOR_ACCOUNT.to_string(),
        workspace_sid: SIMULATOR_WORKSPACE.to_string(),
        auth_token: token,
        clock: twilio_sim::system_time(),
        realism: realism(knobs),
    };
    twilio_sim::serve_until(listener, config, shutdown)
        .await
        .map_err(StartError::Simulator)
}

/// The configuration's `[simulator]` knobs, as the simulator takes them.
pub fn realism(knobs: &SimulatorRealism) -> Realism {
    Realism {
        latency_ms: knobs.latency_ms,
        jitter_ms: knobs.jitter_ms,
        rps_limit: knobs.requests_per_second,
        error_rate: knobs.error_rate,
        hang_rate: knobs.hang_rate,
        seed: knobs.seed,
    }
}

/// Looks the `shiftline` workflow up by name when the configuration gives no `workflow_sid`,
/// retrying until `twilio setup` has made it; until then callers go to voicemail.
async fn find_workflow(service: Service, twilio: TwilioClient) {
    loop {
        match twilio.list_workflows(Some(setup::WORKFLOW)).await {
            Ok(found) => {
                if let Some(sid) = found.into_iter().find_map(|w| w.sid) {
                    tracing::info!(workflow = %sid, "TaskRouter workflow found");
                    service.set_workflow_sid(sid);
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

/// `shiftline serve`: listens on `settings.listen` until `shutdown` resolves. Without a
/// `[twilio]` section it runs against the built-in simulator, whose workspace it sets up
/// first and whose clock it ticks.
pub async fn serve(
    settings: Settings,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let addr = settings.listen;
    if settings.api_token.is_none() {
        tracing::warn!(
            "no SHIFTLINE_API_TOKEN set: the operators' API (/api/...) answers 401 to everyone, and `shiftline workers` cannot work while the service runs"
        );
    }
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
    let app = Application::build(settings, clock, None).await?;
    if app.service.settings.twilio.is_none() {
        // Set up as `twilio setup` would a real workspace; idempotent, so every instance
        // sharing a simulator may do it.
        let changes = app.set_up_workspace().await?;
        let url = app.twilio.endpoints().api_base.clone();
        tracing::info!(%url, changes, "no Twilio account: running against the Twilio simulator");
    }
    if let Some(sim) = app.simulator.clone() {
        // A simulator in this process fires its timers when told; a shared one ticks itself.
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(twilio_sim::TICK).await;
                sim.tick().await;
            }
        });
    }
    if app.service.workflow_sid().is_none() {
        tokio::spawn(find_workflow(app.service.clone(), app.twilio.clone()));
    }
    tracing::info!(%addr, public_url = %app.service.settings.public_url, "shiftline listening");
    app.run_until_stopped(listener, shutdown, true).await?;
    tracing::info!("stopped");
    Ok(())
}
