//! Where the CLI's changes go: the running service's API, or the store itself.
//!
//! sled lets one process open a store, so while `shiftline serve` runs the store is its
//! own and the CLI must ask it; when it is stopped the CLI opens the store directly and
//! writes the same transactions the API would (the TaskRouter syncs they cause wait in the
//! outbox for the service's next start). Which one applies is found by asking the service
//! for `/healthz`, at its listen address and then at its public URL.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::Failure;
use crate::config::Settings;
use crate::core::callback::CallbackRecord;
use crate::core::domain::PhoneNumber;
use crate::core::intake::record::WorkerRecord;
use crate::service::roster;
use crate::store::{PresenceChange, SledStore, Store, StoreError, VoicemailRecord};
use crate::web::api::OutboxView;
use crate::web::operator::NewWorker;

/// How long the CLI waits for the service to say it is there. A healthy service answers at
/// once; a longer wait would only delay the commands run while it is stopped.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an API request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A worker as the CLI shows it: the API's worker view, the fields the CLI uses.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct WorkerRow {
    pub phone: String,
    pub name: String,
    pub presence: String,
    pub dialogue: String,
    pub skills: Vec<String>,
    pub language: String,
    pub languages: Vec<String>,
    pub time_zone: String,
    #[serde(default)]
    pub opted_out: bool,
    #[serde(default = "yes")]
    pub on_roster: bool,
    #[serde(default)]
    pub worker_sid: Option<String>,
    #[serde(default)]
    pub updated_at: String,
}

impl WorkerRow {
    /// What `GET /api/workers/{phone}` would say about `record`.
    fn of(record: &WorkerRecord) -> Self {
        Self {
            phone: record.phone.to_string(),
            name: record.name.clone(),
            presence: record.presence.as_str().to_string(),
            dialogue: record.dialogue_at(Utc::now()).as_str().to_string(),
            skills: record.skills.iter().map(|s| s.to_string()).collect(),
            language: record.language.to_string(),
            languages: record.languages.iter().map(|l| l.to_string()).collect(),
            time_zone: record.time_zone.name().to_string(),
            opted_out: record.opted_out,
            on_roster: !record.deactivated,
            worker_sid: record.worker_sid.clone(),
            updated_at: record.updated_at.to_rfc3339(),
        }
    }
}

fn yes() -> bool {
    true
}

/// What adding a worker did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Added {
    Created,
    /// The number was already on the roster; nothing changed.
    Existing,
    /// The worker was refused, with the field and the reason.
    Invalid(String),
}

/// What a change to one worker did.
#[derive(Clone, Debug, PartialEq)]
pub struct Changed {
    pub worker: Option<WorkerRow>,
    /// TaskRouter will only hear of it when the service starts.
    pub deferred_sync: bool,
}

pub enum Backend {
    Api(Api),
    Direct(Direct),
}

pub struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

pub struct Direct {
    store: std::sync::Arc<dyn Store>,
    /// Where the store is, for messages.
    location: String,
    /// What a worker added without a language or a zone gets, as in the file.
    default_language: crate::core::domain::Locale,
    default_time_zone: chrono_tz::Tz,
    /// The skills' names, for the text telling a worker they were taken offline.
    catalog: crate::core::domain::catalog::Catalog,
}

/// Finds the running service, or else opens the store. `create` lets the store be made
/// when there is none yet (adding workers before the first start); reading a store that is
/// not there is refused instead, since it usually means the wrong configuration file.
pub async fn connect(settings: &Settings, create: bool) -> Result<Backend, Failure> {
    if matches!(settings.store, crate::config::StoreChoice::Postgres { .. }) {
        // Shared by every instance: change it directly; a running instance delivers the
        // TaskRouter syncs this writes.
        let store = crate::app::open_store(settings)
            .await
            .map_err(|e| Failure::Failed(format!("cannot open the database: {e}")))?;
        return Ok(Backend::Direct(Direct {
            store,
            location: crate::app::store_location(settings),
            default_language: settings.default_language,
            default_time_zone: settings.default_time_zone,
            catalog: settings.catalog.clone(),
        }));
    }
    let bases = candidates(settings);
    let probe = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .build()
        .map_err(|e| Failure::Failed(format!("cannot make an HTTP client: {e}")))?;
    for base in &bases {
        if healthy(&probe, base).await {
            let Some(token) = &settings.api_token else {
                return Err(Failure::Usage(format!(
                    "shiftline is running at {base} and holds the store: set SHIFTLINE_API_TOKEN to its API token to work through its API"
                )));
            };
            let client = reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .map_err(|e| Failure::Failed(format!("cannot make an HTTP client: {e}")))?;
            return Ok(Backend::Api(Api {
                client,
                base: base.clone(),
                token: token.expose_secret().to_string(),
            }));
        }
    }
    let dir = settings.data_dir.clone();
    if !create && !dir.exists() {
        return Err(Failure::Failed(format!(
            "no store in {}: shiftline has not run with this configuration, and it does not answer at {}",
            dir.display(),
            bases.join(" or ")
        )));
    }
    let store = SledStore::open(&dir).map_err(|e| {
        if matches!(e, StoreError::Locked) {
            Failure::Failed(format!(
                "the store in {} is in use by another process: is `shiftline serve` running? It does not answer at {}",
                dir.display(),
                bases.join(" or ")
            ))
        } else {
            Failure::Failed(format!("cannot open the store in {}: {e}", dir.display()))
        }
    })?;
    Ok(Backend::Direct(Direct {
        store: std::sync::Arc::new(store),
        location: dir.display().to_string(),
        default_language: settings.default_language,
        default_time_zone: settings.default_time_zone,
        catalog: settings.catalog.clone(),
    }))
}

/// The service's own address first (the CLI usually runs beside it), then its public URL.
fn candidates(settings: &Settings) -> Vec<String> {
    let mut listen = settings.listen;
    // A service listening on every interface is reachable on loopback.
    if listen.ip().is_unspecified() {
        listen.set_ip(match listen {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let mut bases = vec![format!("http://{listen}")];
    if !bases.contains(&settings.public_url) {
        bases.push(settings.public_url.clone());
    }
    bases
}

async fn healthy(client: &reqwest::Client, base: &str) -> bool {
    match client.get(format!("{base}/healthz")).send().await {
        Ok(response) => response.status().is_success(),
        Err(_) => false,
    }
}

impl Backend {
    /// Where the commands go, for messages.
    pub fn describe(&self) -> String {
        match self {
            Backend::Api(api) => format!("the running service at {}", api.base),
            Backend::Direct(direct) => {
                format!("the store at {}", direct.location)
            }
        }
    }

    pub async fn list(&self) -> Result<Vec<WorkerRow>, Failure> {
        match self {
            Backend::Api(api) => {
                let response = api.send(api.client.get(api.url("/api/workers"))).await?;
                api.json(response, "listing workers").await
            }
            Backend::Direct(direct) => Ok(direct
                .store
                .workers()
                .await
                .map_err(store_failure)?
                .iter()
                .map(WorkerRow::of)
                .collect()),
        }
    }

    /// A worker and their presence history, oldest first; None when not on the roster.
    pub async fn show(
        &self,
        phone: &PhoneNumber,
    ) -> Result<Option<(WorkerRow, Vec<PresenceChange>)>, Failure> {
        match self {
            Backend::Api(api) => {
                let path = worker_path(phone);
                let response = api.send(api.client.get(api.url(&path))).await?;
                if response.status() == StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                let worker = api.json(response, "reading the worker").await?;
                let history = api
                    .send(api.client.get(api.url(&format!("{path}/history"))))
                    .await?;
                let history = api.json(history, "reading the history").await?;
                Ok(Some((worker, history)))
            }
            Backend::Direct(direct) => {
                let Some(record) = direct.store.worker(phone).await.map_err(store_failure)? else {
                    return Ok(None);
                };
                let history = direct.store.history(phone).await.map_err(store_failure)?;
                Ok(Some((WorkerRow::of(&record), history)))
            }
        }
    }

    /// Adds a worker. The store is not flushed here (an import adds many); see `finish`.
    pub async fn add(&self, new: &NewWorker) -> Result<Added, Failure> {
        match self {
            Backend::Api(api) => {
                let request = api.client.post(api.url("/api/workers")).json(new);
                let response = api.send(request).await?;
                match response.status() {
                    StatusCode::CREATED => Ok(Added::Created),
                    StatusCode::OK => Ok(Added::Existing),
                    StatusCode::BAD_REQUEST => {
                        let reason = response.text().await.unwrap_or_default();
                        Ok(Added::Invalid(reason.trim().to_string()))
                    }
                    _ => Err(api.refused(response, "adding the worker").await),
                }
            }
            Backend::Direct(direct) => {
                let entry = match new.validate(direct.default_language, direct.default_time_zone) {
                    Ok(entry) => entry,
                    Err(e) => return Ok(Added::Invalid(e.to_string())),
                };
                let created = roster::add(direct.store.as_ref(), &entry, Utc::now())
                    .await
                    .map_err(store_failure)?;
                Ok(if created {
                    Added::Created
                } else {
                    Added::Existing
                })
            }
        }
    }

    /// Removes a worker; None when not on the roster.
    pub async fn remove(&self, phone: &PhoneNumber) -> Result<Option<Changed>, Failure> {
        match self {
            Backend::Api(api) => {
                let request = api.client.delete(api.url(&worker_path(phone)));
                let response = api.send(request).await?;
                match response.status() {
                    StatusCode::NO_CONTENT => Ok(Some(Changed {
                        worker: None,
                        deferred_sync: false,
                    })),
                    StatusCode::NOT_FOUND => Ok(None),
                    _ => Err(api.refused(response, "removing the worker").await),
                }
            }
            Backend::Direct(direct) => {
                let removal = roster::remove(direct.store.as_ref(), phone, Utc::now())
                    .await
                    .map_err(store_failure)?;
                Ok(removal.map(|r| Changed {
                    worker: Some(WorkerRow::of(&r.record)),
                    deferred_sync: r.synced,
                }))
            }
        }
    }

    /// Takes a worker offline, texting them when `text`; None when not on the roster.
    pub async fn offline(
        &self,
        phone: &PhoneNumber,
        text: bool,
    ) -> Result<Option<Changed>, Failure> {
        match self {
            Backend::Api(api) => {
                let query = if text { "" } else { "?text=false" };
                let path = format!("{}/offline{query}", worker_path(phone));
                let response = api.send(api.client.post(api.url(&path))).await?;
                if response.status() == StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                let worker = api.json(response, "taking the worker offline").await?;
                Ok(Some(Changed {
                    worker: Some(worker),
                    deferred_sync: false,
                }))
            }
            Backend::Direct(direct) => {
                let notice = match text {
                    true => Some(roster::offline_notice(
                        std::sync::Arc::new(crate::i18n::Messages::load().map_err(|e| {
                            Failure::Failed(format!("cannot load the messages: {e}"))
                        })?),
                        direct.catalog.clone(),
                    )),
                    false => None,
                };
                let forced =
                    roster::force_offline(direct.store.as_ref(), phone, Utc::now(), notice)
                        .await
                        .map_err(store_failure)?;
                Ok(forced.map(|f| Changed {
                    worker: Some(WorkerRow::of(&f.after)),
                    deferred_sync: f.synced,
                }))
            }
        }
    }

    /// Voicemails callers left, oldest first.
    pub async fn voicemails(&self) -> Result<Vec<VoicemailRecord>, Failure> {
        match self {
            Backend::Api(api) => {
                let response = api.send(api.client.get(api.url("/api/voicemails"))).await?;
                api.json(response, "listing voicemails").await
            }
            Backend::Direct(direct) => direct.store.voicemails().await.map_err(store_failure),
        }
    }

    /// Callback requests, oldest first.
    pub async fn callbacks(&self) -> Result<Vec<CallbackRecord>, Failure> {
        match self {
            Backend::Api(api) => {
                let response = api.send(api.client.get(api.url("/api/callbacks"))).await?;
                api.json(response, "listing callbacks").await
            }
            Backend::Direct(direct) => direct.store.callbacks().await.map_err(store_failure),
        }
    }

    /// What waits for Twilio and what Twilio refused for good.
    pub async fn outbox(&self) -> Result<OutboxView, Failure> {
        match self {
            Backend::Api(api) => {
                let response = api.send(api.client.get(api.url("/api/outbox"))).await?;
                api.json(response, "reading the outbox").await
            }
            Backend::Direct(direct) => {
                let pending = direct.store.outbox().await.map_err(store_failure)?;
                let parked = direct.store.parked().await.map_err(store_failure)?;
                Ok(OutboxView::of(&pending, &parked))
            }
        }
    }

    /// Makes the changes made directly to the store durable (the API already has).
    pub async fn finish(&self) -> Result<(), Failure> {
        match self {
            Backend::Api(_) => Ok(()),
            Backend::Direct(direct) => direct.store.durable().await.map_err(store_failure),
        }
    }
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, Failure> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| Failure::Failed(format!("the service at {}: {e}", self.base)))?;
        if response.status() == StatusCode::UNAUTHORIZED {
            let reason = response.text().await.unwrap_or_default();
            return Err(Failure::Usage(format!(
                "the service at {} refused SHIFTLINE_API_TOKEN: {}",
                self.base,
                reason.trim()
            )));
        }
        Ok(response)
    }

    async fn json<T: for<'de> Deserialize<'de>>(
        &self,
        response: reqwest::Response,
        doing: &str,
    ) -> Result<T, Failure> {
        if !response.status().is_success() {
            return Err(self.refused(response, doing).await);
        }
        response
            .json()
            .await
            .map_err(|e| Failure::Failed(format!("{doing}: the service's answer: {e}")))
    }

    async fn refused(&self, response: reqwest::Response, doing: &str) -> Failure {
        let status = response.status();
        let reason = response.text().await.unwrap_or_default();
        let message = format!("{doing}: the service answered {status}: {}", reason.trim());
        if status.is_client_error() {
            Failure::Usage(message)
        } else {
            Failure::Failed(message)
        }
    }
}

/// `/api/workers/%2B1555...`: a bare "+" in a path is kept by axum, but proxies and URL
/// tools may read it as a space.
fn worker_path(phone: &PhoneNumber) -> String {
    format!("/api/workers/{}", phone.as_str().replace('+', "%2B"))
}

fn store_failure(e: crate::store::StoreError) -> Failure {
    Failure::Failed(format!("store: {e}"))
}
