//! Where shiftline keeps its state: one narrow interface (`Store`), with sled as the embedded
//! backend (`sled`) and PostgreSQL for two or more instances (`postgres`).
//!
//! Every change is a unit of work: the backend loads what one event needs (a worker's
//! record and PIN count, or a reservation and its worker), calls the pure `decide` closure
//! the caller gave, and writes the new state, the outbox commands, the timers and the
//! idempotency record together or not at all. A backend may call `decide` more than once
//! (sled re-runs a transaction on a conflict), which is safe only because it is pure. No
//! business rule lives in a backend: what changes is always the caller's `decide`.
//!
//! Commands wait in the outbox in lanes (a worker's, a call's, a recipient's), delivered in
//! order within a lane and concurrently across lanes: a deliverer claims a lane's head and
//! finishes the claim when it knows how the command went. Timers wait in their own
//! keyspace, ordered by when they are due.

pub mod postgres;
pub mod sled;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::core::callback::CallbackRecord;
use crate::core::dispatch::DispatchRecord;
use crate::core::domain::PhoneNumber;
use crate::core::effects::{Command, Priority, TimerEvent};
use crate::core::intake::PinUpdate;
use crate::core::intake::enrol::PinAttempts;
use crate::core::intake::record::WorkerRecord;

pub use self::postgres::PgStore;
pub use self::sled::SledStore;

/// A store failure, whatever the backend: what went wrong, in words for the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Backend(String),
    #[error("a stored record could not be read: {0}")]
    Codec(String),
    #[error("storage could not be made durable: {0}")]
    Flush(String),
    /// The store is held by another process (a running `shiftline serve` on the same
    /// directory): the operator CLI then goes through the service's API instead.
    #[error("the store is in use by another process")]
    Locked,
}

/// How long a handled webhook id is remembered with its reply. Twilio retries a webhook
/// within seconds (at most 5 retries within 15 s, REFERENCE "Timeouts, fallback,
/// retries"), a person resends within minutes; two days covers both with a wide margin
/// and keeps the records in proportion to two days of traffic.
pub const SEEN_RETENTION: TimeDelta = TimeDelta::hours(48);

/// How often a running service forgets ids older than `SEEN_RETENTION`.
pub const SEEN_SWEEP: std::time::Duration = std::time::Duration::from_secs(3600);

/// A command waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: u64,
    pub enqueued_at: DateTime<Utc>,
    pub command: Command,
    pub attempts: u32,
    /// Not to be tried again before this time (backoff after a transient failure).
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_error: Option<String>,
}

impl OutboxEntry {
    /// A new entry; a command meant for later (`Command::due`) waits until then.
    pub fn new(id: u64, command: &Command, now: DateTime<Utc>) -> Self {
        Self {
            id,
            enqueued_at: now,
            command: command.clone(),
            attempts: 0,
            not_before: command.due(),
            last_error: None,
        }
    }
}

/// The head of one lane, taken for delivery by one deliverer (see `Store::claim`).
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub lane: String,
    /// The lane holds a command a customer waits on.
    pub urgent: bool,
    /// One command, or a run of consecutive syncs of which the last supersedes the others.
    pub entries: Vec<OutboxEntry>,
}

impl Claim {
    pub fn ids(&self) -> Vec<u64> {
        self.entries.iter().map(|e| e.id).collect()
    }
}

/// A command Twilio refused for good, kept for an operator to see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParkedEntry {
    pub entry: OutboxEntry,
    pub parked_at: DateTime<Utc>,
    pub error: String,
}

/// An event the core asked to be fed back to a worker's machines at `due`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerEntry {
    pub id: u64,
    pub worker: PhoneNumber,
    pub due: DateTime<Utc>,
    pub event: TimerEvent,
}

/// Which timer: its id, and when it is due (the sled backend orders timers by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId {
    pub id: u64,
    pub due: DateTime<Utc>,
}

impl TimerEntry {
    pub fn key(&self) -> TimerId {
        TimerId {
            id: self.id,
            due: self.due,
        }
    }
}

/// A voicemail a caller left.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoicemailRecord {
    pub recording_sid: String,
    pub call_sid: String,
    pub caller: String,
    pub skill: Option<String>,
    pub recording_url: String,
    pub duration_secs: u32,
    pub at: DateTime<Utc>,
}

/// Where a change came from, for the audit trail of presence changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Sms,
    Ivr,
    Schedule,
    Dispatch,
    Operator,
    Config,
}

/// One presence change in a worker's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceChange {
    pub at: DateTime<Utc>,
    pub from: String,
    pub to: String,
    pub via: Via,
}

impl PresenceChange {
    /// The history entry for a record going from `old` to `new`, if its presence changed
    /// (a new worker has no history until their presence first changes).
    pub fn between(
        old: Option<&WorkerRecord>,
        new: &WorkerRecord,
        via: Via,
        at: DateTime<Utc>,
    ) -> Option<Self> {
        let old = old.filter(|o| o.presence != new.presence)?;
        Some(Self {
            at,
            from: old.presence.as_str().to_string(),
            to: new.presence.as_str().to_string(),
            via,
        })
    }
}

/// What an event does to a worker's stored record.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordChange {
    Keep,
    Put(WorkerRecord),
    /// The worker leaves the roster, as this last state of theirs: the record goes, the
    /// presence history stays and notes the change to it.
    Delete(WorkerRecord),
}

/// What an event does to one number's stored state, decided by the pure core.
#[derive(Clone, Debug)]
pub struct WorkerChange {
    pub record: RecordChange,
    pub pins: PinUpdate,
    /// Outbox commands and timers (`Command::Timer` goes to the timers).
    pub commands: Vec<Command>,
    /// The rendered answer, kept so a replay of the same webhook gets the very same one.
    pub reply: String,
}

impl WorkerChange {
    /// Nothing changes.
    pub fn none() -> Self {
        Self {
            record: RecordChange::Keep,
            pins: PinUpdate::Keep,
            commands: Vec::new(),
            reply: String::new(),
        }
    }

    /// The record becomes `new` when it differs from `old`, with these commands.
    pub fn put(old: Option<&WorkerRecord>, new: WorkerRecord, commands: Vec<Command>) -> Self {
        Self {
            record: if old == Some(&new) {
                RecordChange::Keep
            } else {
                RecordChange::Put(new)
            },
            commands,
            ..Self::none()
        }
    }
}

/// The pure decision for a worker's event, given their stored record and wrong-PIN count.
pub type DecideWorker =
    Box<dyn Fn(Option<&WorkerRecord>, Option<&PinAttempts>) -> WorkerChange + Send + Sync>;

/// One event for one phone number (a text, a key, a timer, an operator's change).
pub struct WorkerUnit {
    pub phone: PhoneNumber,
    /// The webhook's id: an event seen before is answered from the stored reply and changes
    /// nothing. None for events that cannot be retried (an operator's, a timer's).
    pub event_id: Option<String>,
    pub now: DateTime<Utc>,
    pub via: Via,
    /// The timer this event fires: taken out in the same unit, so it fires once; a timer
    /// already gone (fired by someone else) makes the unit change nothing.
    pub timer: Option<TimerId>,
    pub decide: DecideWorker,
}

/// What an event about a reservation does, decided by the pure dispatcher.
#[derive(Clone, Debug)]
pub struct DispatchChange {
    pub record: Option<DispatchRecord>,
    pub worker: Option<WorkerRecord>,
    pub commands: Vec<Command>,
    /// The rendered answer (TwiML, or empty), kept so a retried webhook gets the same one.
    pub reply: String,
}

impl DispatchChange {
    pub fn none() -> Self {
        Self {
            record: None,
            worker: None,
            commands: Vec::new(),
            reply: String::new(),
        }
    }
}

/// The pure decision for a reservation's event, given its record and the worker's.
pub type DecideDispatch =
    Box<dyn Fn(Option<&DispatchRecord>, Option<&WorkerRecord>) -> DispatchChange + Send + Sync>;

/// One event about one reservation and the worker it was offered to.
pub struct DispatchUnit {
    pub reservation_sid: String,
    pub worker: PhoneNumber,
    pub event_id: String,
    pub now: DateTime<Utc>,
    pub decide: DecideDispatch,
}

/// What an event about a callback request does, decided by `core::callback`.
#[derive(Clone, Debug)]
pub struct CallbackChange {
    /// The new record; None leaves it as it is.
    pub record: Option<CallbackRecord>,
    pub commands: Vec<Command>,
    /// Kept with the event id, so a retried webhook gets the same answer.
    pub reply: String,
}

impl CallbackChange {
    pub fn none() -> Self {
        Self {
            record: None,
            commands: Vec::new(),
            reply: String::new(),
        }
    }
}

/// The pure decision for a callback's event, given its record (None: not asked yet).
pub type DecideCallback = Box<dyn Fn(Option<&CallbackRecord>) -> CallbackChange + Send + Sync>;

/// One event about one callback request.
pub struct CallbackUnit {
    pub id: String,
    pub event_id: String,
    pub now: DateTime<Utc>,
    pub decide: DecideCallback,
}

/// The result of a unit of work.
#[derive(Clone, Debug, PartialEq)]
pub enum Applied {
    /// Applied now; the outbox ids of the commands it wrote, and the worker's record before
    /// and after (for metrics).
    Fresh {
        reply: String,
        outbox: Vec<u64>,
        before: Option<Box<WorkerRecord>>,
        after: Option<Box<WorkerRecord>>,
    },
    /// This event id was handled before; nothing changed.
    Replayed { reply: String },
}

impl Applied {
    pub fn reply(&self) -> &str {
        match self {
            Applied::Fresh { reply, .. } | Applied::Replayed { reply } => reply,
        }
    }
}

/// A handled webhook: its id, the reply it got, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenEvent {
    pub event_id: String,
    pub reply: String,
    pub at: DateTime<Utc>,
}

/// Everything a store holds, for `shiftline store copy`: in each list the order the store
/// reads it in, ids kept, so a copy continues where the original stopped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub workers: Vec<WorkerRecord>,
    pub pins: Vec<(PhoneNumber, PinAttempts)>,
    pub seen: Vec<SeenEvent>,
    pub outbox: Vec<OutboxEntry>,
    pub parked: Vec<ParkedEntry>,
    pub timers: Vec<TimerEntry>,
    pub dispatch: Vec<DispatchRecord>,
    pub voicemails: Vec<VoicemailRecord>,
    /// Callback requests, oldest request first.
    pub callbacks: Vec<CallbackRecord>,
    /// Each worker's presence changes (also of numbers no longer on the roster), oldest
    /// first.
    pub history: Vec<(PhoneNumber, Vec<PresenceChange>)>,
}

impl Snapshot {
    pub fn is_empty(&self) -> bool {
        *self == Snapshot::default()
    }

    /// The highest outbox or timer id, which a copy's id sequence must go past.
    pub fn last_id(&self) -> u64 {
        let outbox = self.outbox.iter().map(|e| e.id);
        let parked = self.parked.iter().map(|p| p.entry.id);
        let timers = self.timers.iter().map(|t| t.id);
        outbox.chain(parked).chain(timers).max().unwrap_or(0)
    }
}

/// How much waits, for `/metrics` and `/readyz`, counted without reading every entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxStats {
    pub pending: usize,
    pub timers: usize,
    pub parked: usize,
    /// Commands that failed at least once and were first written before the `since` asked.
    pub failing_since: usize,
}

/// The state every part of shiftline reads and writes; a backend implements it without any
/// business rule. Object-safe: the service holds an `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync {
    /// Applies one worker's event as one unit of work (see the module doc). Like every
    /// unit below, it returns only once what it wrote survives a crash of the process.
    async fn apply_worker(&self, unit: WorkerUnit) -> Result<Applied, StoreError>;

    /// Applies one reservation's event as one unit of work: the dispatch record, the
    /// worker's record, the commands and the idempotency record together.
    async fn apply_dispatch(&self, unit: DispatchUnit) -> Result<Applied, StoreError>;

    /// Applies one callback request's event as one unit of work: the record, the commands
    /// and the idempotency record together. `Applied::Fresh` carries no worker records.
    async fn apply_callback(&self, unit: CallbackUnit) -> Result<Applied, StoreError>;

    /// Stores a voicemail and the commands announcing it, once per recording. Returns
    /// whether it was new.
    async fn add_voicemail(
        &self,
        voicemail: VoicemailRecord,
        commands: Vec<Command>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Writes commands that belong to no record (a redirect), once per `event_id`. Returns
    /// whether they were new.
    async fn enqueue(
        &self,
        event_id: &str,
        commands: Vec<Command>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Returns once every change made before the call survives a crash of the process,
    /// including the outbox's own bookkeeping (at shutdown, say).
    async fn durable(&self) -> Result<(), StoreError>;

    async fn worker(&self, phone: &PhoneNumber) -> Result<Option<WorkerRecord>, StoreError>;
    async fn workers(&self) -> Result<Vec<WorkerRecord>, StoreError>;
    async fn dispatch_record(
        &self,
        reservation_sid: &str,
    ) -> Result<Option<DispatchRecord>, StoreError>;
    async fn dispatch_records(&self) -> Result<Vec<DispatchRecord>, StoreError>;
    async fn callback(&self, id: &str) -> Result<Option<CallbackRecord>, StoreError>;
    /// Callback requests, oldest request first (open and closed).
    async fn callbacks(&self) -> Result<Vec<CallbackRecord>, StoreError>;
    /// Voicemails, oldest first.
    async fn voicemails(&self) -> Result<Vec<VoicemailRecord>, StoreError>;
    /// A worker's presence changes, oldest first.
    async fn history(&self, phone: &PhoneNumber) -> Result<Vec<PresenceChange>, StoreError>;

    /// Every command still in the outbox, oldest first (for operators).
    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError>;
    /// Commands Twilio refused for good, oldest first.
    async fn parked(&self) -> Result<Vec<ParkedEntry>, StoreError>;
    /// Every timer still to fire, soonest first.
    async fn timers(&self) -> Result<Vec<TimerEntry>, StoreError>;
    async fn outbox_stats(&self, failing_since: DateTime<Utc>) -> Result<OutboxStats, StoreError>;

    /// Takes the heads of up to `limit` lanes whose first command is due, most urgent lane
    /// first (one holding a command a customer waits on), then the longest due. A taken
    /// lane is offered to nobody else until its claim is finished (`delivered`, `retry`,
    /// `park`) or given back (`release`): that is what keeps two deliveries of one command
    /// from ever running at once, and the lane's order whole.
    async fn claim(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Claim>, StoreError> {
        self.claim_upto(now, limit, Priority::Notice).await
    }
    /// `claim`, taking only lanes whose most urgent command is at least as urgent as
    /// `at_most` (while Twilio asks for a pause, only what customers wait on goes).
    async fn claim_upto(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        at_most: Priority,
    ) -> Result<Vec<Claim>, StoreError>;
    /// The claim's commands were carried out (the superseded syncs with the last): they
    /// leave the outbox and the lane is free.
    async fn delivered(&self, claim: &Claim) -> Result<(), StoreError>;
    /// The claim's first command failed and waits until `not_before`; the lane is free.
    async fn retry(
        &self,
        claim: &Claim,
        not_before: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError>;
    /// Twilio refused the claim's commands for good: they move out of the outbox, with the
    /// error, and the lane is free.
    async fn park(&self, claim: &Claim, error: &str, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Gives a claim back untouched (delivery stopped before trying it).
    async fn release(&self, claim: &Claim) -> Result<(), StoreError>;
    /// Tells the store this instance still works on its claims. A shared backend leases
    /// claims and lets another instance take them over when the lease runs out (the
    /// holder died); an embedded one, held by one process, has nothing to renew.
    async fn keep_claims(&self, _now: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(())
    }

    /// Timers due at `now`, soonest first, at most `limit`.
    async fn due_timers(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<TimerEntry>, StoreError>;
    /// When the next unclaimed command or the next timer is due (maybe already).
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Forgets handled webhook ids older than `before`. Returns how many.
    async fn prune_seen(&self, before: DateTime<Utc>) -> Result<usize, StoreError>;

    /// Everything the store holds. Meant for a stopped deployment (`store copy`).
    async fn export(&self) -> Result<Snapshot, StoreError>;
    /// Fills an empty store with `snapshot`, ids kept; refuses a store that holds anything.
    async fn import(&self, snapshot: &Snapshot) -> Result<(), StoreError>;
}
