//! Use cases between the HTTP edge and the core. The web layer parses a request into typed
//! values and calls one function here; each runs the pure core inside one unit of work of
//! the store, waits until it is durable, wakes the outbox and returns what to answer.
//!
//! - `intake`: a worker's text or phone-menu input;
//! - `dispatch`: TaskRouter's assignment and the events of the call to a reserved worker,
//!   and what the outbox learns about those calls;
//! - `roster`: the configuration's roster and operators' changes;
//! - `voicemail`: a caller's recording, and sending callers to voicemail;
//! - `callback`: calling back a caller who asked for it or left a voicemail;
//! - `timers`: a timer the core set, come due;
//! - `setup`: `shiftline twilio setup`.

pub mod callback;
pub mod dispatch;
pub mod intake;
pub mod listen_link;
pub mod roster;
pub mod setup;
pub mod timers;
pub mod voicemail;

use std::sync::{Arc, RwLock};

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Settings;
use crate::core::dispatch::Event;
use crate::core::domain::{PhoneNumber, ReservationSid};
use crate::core::intake::Context;
use crate::i18n::Messages;
use crate::metrics::Metrics;
use crate::store::{Applied, Store, StoreError, TimerEntry};
use crate::twilio::rest::TwilioClient;

/// What every use case shares; cheap to clone.
#[derive(Clone)]
pub struct Service {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub messages: Arc<Messages>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// Wakes the outbox delivery after a commit that wrote commands.
    pub outbox_wake: Arc<Notify>,
    /// Twilio, for what is read live rather than sent through the outbox (a voicemail's
    /// audio for a listen link).
    pub twilio: TwilioClient,
    /// The TaskRouter workflow customers' calls are enqueued to: from the configuration,
    /// or found by name once the workspace is set up.
    workflow: Arc<RwLock<Option<String>>>,
}

impl Service {
    pub fn new(
        settings: Arc<Settings>,
        store: Arc<dyn Store>,
        messages: Arc<Messages>,
        clock: Arc<dyn Clock>,
        twilio: TwilioClient,
    ) -> Self {
        let workflow = settings
            .twilio
            .as_ref()
            .and_then(|t| t.workflow_sid.clone());
        Self {
            settings,
            store,
            messages,
            clock,
            metrics: Arc::new(Metrics::new()),
            outbox_wake: Arc::new(Notify::new()),
            twilio,
            workflow: Arc::new(RwLock::new(workflow)),
        }
    }

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
        context(&self.settings)
    }

    /// After a unit of work: it is durable already (every backend answers a unit only once
    /// it survives a crash, so an answer never reports state that could be lost); wake the
    /// outbox for any commands it wrote.
    pub async fn persisted(&self) -> Result<(), StoreError> {
        self.outbox_wake.notify_one();
        Ok(())
    }

    /// `persisted` for a worker's event, counting the state changes it made.
    pub async fn committed(&self, applied: &Applied) -> Result<(), StoreError> {
        self.persisted().await?;
        if let Applied::Fresh { before, after, .. } = applied {
            self.metrics
                .worker_changed(before.as_deref(), after.as_deref());
        }
        Ok(())
    }
}

/// What the outbox learns comes back through the same use cases as webhooks do.
#[async_trait::async_trait]
impl crate::outbox::Feedback for Service {
    async fn call_wanted(&self, reservation: &ReservationSid) -> Result<bool, StoreError> {
        Service::call_wanted(self, reservation.as_str()).await
    }

    async fn call_news(
        &self,
        reservation: &ReservationSid,
        event_id: String,
        event: Event,
    ) -> Result<(), StoreError> {
        Service::call_news(self, reservation.as_str(), event_id, event).await
    }

    async fn worker_synced(&self, phone: &PhoneNumber, sid: &str) -> Result<(), StoreError> {
        roster::worker_synced(self.store.as_ref(), phone, sid, self.clock.now()).await
    }

    async fn timer_due(&self, timer: TimerEntry) -> Result<(), StoreError> {
        self.fire_timer(timer).await
    }

    async fn announce_voicemail(&self, recording_sid: &str) -> Result<(), StoreError> {
        self.voicemail_transcribed(recording_sid, None).await
    }

    fn workflow_sid(&self) -> Option<String> {
        Service::workflow_sid(self)
    }
}

/// The business facts the pure core needs, from the configuration.
pub fn context(settings: &Settings) -> Context<'_> {
    Context {
        catalog: &settings.catalog,
        enrolment: settings.enrolment.as_ref(),
        default_language: settings.default_language,
    }
}
