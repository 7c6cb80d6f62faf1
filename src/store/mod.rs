//! The sled store: one tree per concern, one transaction per event, and a group-commit
//! flush before anyone is told the event happened.
//!
//! Trees: `workers` (by E.164 phone), `seen` (webhook ids already handled, with the reply
//! given, for idempotent replays), `outbox` (commands by sequence number), `pins` (wrong-PIN
//! counts by phone). Values are JSON with a schema version in the record.
//!
//! This is the only module that knows about sled, so another backend (PostgreSQL for several
//! instances) can stand behind the same few methods.

mod group_commit;
pub mod roster;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::path::Path;

use crate::config::RosterEntry;
use crate::core::domain::PhoneNumber;
use crate::core::effects::Command;
use crate::core::intake::PinUpdate;
use crate::core::intake::enrol::PinAttempts;
use crate::core::intake::record::{Source, WorkerRecord};
use group_commit::GroupCommit;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    #[error("a stored record could not be read: {0}")]
    Codec(#[from] serde_json::Error),
    #[error("storage could not be made durable: {0}")]
    Flush(String),
}

impl From<TransactionError<serde_json::Error>> for StoreError {
    fn from(e: TransactionError<serde_json::Error>) -> Self {
        match e {
            TransactionError::Abort(e) => StoreError::Codec(e),
            TransactionError::Storage(e) => StoreError::Sled(e),
        }
    }
}

/// How long a handled webhook id is remembered; Twilio retries within minutes.
pub const SEEN_RETENTION: TimeDelta = TimeDelta::days(7);

/// A webhook already handled, with what was answered.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Seen {
    reply: String,
    at: DateTime<Utc>,
}

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
    fn new(id: u64, command: &Command, now: DateTime<Utc>) -> Self {
        Self {
            id,
            enqueued_at: now,
            command: command.clone(),
            attempts: 0,
            // A timer waits in the outbox until it is due, holding back its lane.
            not_before: command.due(),
            last_error: None,
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

/// What a dispatch event does, decided by the pure dispatcher.
#[derive(Clone, Debug)]
pub struct DispatchChange {
    pub record: Option<crate::core::dispatch::DispatchRecord>,
    pub worker: Option<WorkerRecord>,
    pub commands: Vec<Command>,
    /// The rendered answer (TwiML, or empty), kept so a retried webhook gets the same one.
    pub reply: String,
}

/// A command Twilio refused for good, kept for an operator to see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParkedEntry {
    pub entry: OutboxEntry,
    pub parked_at: DateTime<Utc>,
    pub error: String,
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

/// What an event does to one number's stored state, decided by the pure core.
#[derive(Clone, Debug)]
pub struct Change {
    /// The record to store; None leaves the number without a record.
    pub record: Option<WorkerRecord>,
    pub pins: PinUpdate,
    pub commands: Vec<Command>,
    /// The rendered answer, kept so a replay gets the very same one.
    pub reply: String,
}

/// The result of applying an event.
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
    /// This webhook id was handled before; nothing changed.
    Replayed { reply: String },
}

impl Applied {
    pub fn reply(&self) -> &str {
        match self {
            Applied::Fresh { reply, .. } | Applied::Replayed { reply } => reply,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    db: sled::Db,
    workers: sled::Tree,
    seen: sled::Tree,
    outbox: sled::Tree,
    parked: sled::Tree,
    pins: sled::Tree,
    dispatch: sled::Tree,
    voicemails: sled::Tree,
    history: sled::Tree,
    commit: GroupCommit,
}

impl Store {
    /// Opens (or creates) the store in `dir`. Needs a tokio runtime for the flush task.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            // sled's default cache is 1 GiB; the working set here is small records.
            .cache_capacity(64 * 1024 * 1024)
            .open()?;
        Ok(Self {
            workers: db.open_tree("workers")?,
            seen: db.open_tree("seen")?,
            outbox: db.open_tree("outbox")?,
            parked: db.open_tree("parked")?,
            dispatch: db.open_tree("dispatch")?,
            voicemails: db.open_tree("voicemails")?,
            history: db.open_tree("history")?,
            pins: db.open_tree("pins")?,
            db,
            commit: GroupCommit::start(),
        })
    }

    /// Returns once every change applied before the call survives a crash of the process.
    pub async fn durable(&self) -> Result<(), StoreError> {
        self.commit
            .durable(&self.db)
            .await
            .map_err(StoreError::Flush)
    }

    pub fn worker(&self, phone: &PhoneNumber) -> Result<Option<WorkerRecord>, StoreError> {
        self.workers
            .get(phone.as_str())?
            .map(|v| serde_json::from_slice(&v).map_err(StoreError::from))
            .transpose()
    }

    pub fn workers(&self) -> Result<Vec<WorkerRecord>, StoreError> {
        self.workers
            .iter()
            .values()
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    /// Every command still in the outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.outbox
            .iter()
            .values()
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    /// Commands Twilio refused for good, oldest first.
    pub fn parked(&self) -> Result<Vec<ParkedEntry>, StoreError> {
        self.parked
            .iter()
            .values()
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    /// Removes delivered commands from the outbox.
    pub fn outbox_done(&self, ids: &[u64]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for id in ids {
            batch.remove(&id.to_be_bytes());
        }
        self.outbox.apply_batch(batch)?;
        Ok(())
    }

    /// Records a failed attempt; the entry waits until `not_before`.
    pub fn outbox_retry(
        &self,
        id: u64,
        not_before: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        let key = id.to_be_bytes();
        self.outbox.fetch_and_update(key, |old| {
            let mut entry: OutboxEntry = serde_json::from_slice(old?).ok()?;
            entry.attempts += 1;
            entry.not_before = Some(not_before);
            entry.last_error = Some(error.to_string());
            serde_json::to_vec(&entry).ok()
        })?;
        Ok(())
    }

    /// Moves commands Twilio refused for good out of the outbox, atomically, with the error.
    pub fn outbox_park(
        &self,
        ids: &[u64],
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        (&self.outbox, &self.parked).transaction(|(outbox, parked)| {
            for id in ids {
                let key = id.to_be_bytes();
                if let Some(old) = outbox.remove(&key)? {
                    let entry: OutboxEntry = decode(&old)?;
                    let record = ParkedEntry {
                        entry,
                        parked_at: now,
                        error: error.to_string(),
                    };
                    parked.insert(&key, encode(&record)?)?;
                }
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Remembers the TaskRouter Worker SID of a worker.
    pub fn set_worker_sid(
        &self,
        phone: &PhoneNumber,
        sid: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.apply(None, phone, now, Via::Dispatch, |record, _| Change {
            record: record
                .filter(|r| r.worker_sid.as_deref() != Some(sid))
                .map(|r| WorkerRecord {
                    worker_sid: Some(sid.to_string()),
                    ..r.clone()
                }),
            pins: PinUpdate::Keep,
            commands: Vec::new(),
            reply: String::new(),
        })?;
        Ok(())
    }

    /// Applies one event for `phone` atomically: the state, the outbox commands and the
    /// idempotency record under `event_id` are written together or not at all. `decide` is
    /// the pure core; sled may call it again when another transaction touched the same keys.
    pub fn apply(
        &self,
        event_id: Option<&str>,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
        via: Via,
        decide: impl Fn(Option<&WorkerRecord>, Option<&PinAttempts>) -> Change,
    ) -> Result<Applied, StoreError> {
        let key = phone.as_str().as_bytes();
        let result = (
            &self.workers,
            &self.seen,
            &self.outbox,
            &self.pins,
            &self.history,
        )
            .transaction(|(workers, seen, outbox, pins, history)| {
                if let Some(old) = event_id.map(|id| seen.get(id)).transpose()?.flatten() {
                    let old: Seen = decode(&old)?;
                    return Ok(Applied::Replayed { reply: old.reply });
                }
                let record: Option<WorkerRecord> =
                    workers.get(key)?.map(|v| decode(&v)).transpose()?;
                let attempts: Option<PinAttempts> =
                    pins.get(key)?.map(|v| decode(&v)).transpose()?;
                let change = decide(record.as_ref(), attempts.as_ref());

                if let Some(new) = &change.record {
                    if record.as_ref() != Some(new) {
                        workers.insert(key, encode(new)?)?;
                        note_presence(history, record.as_ref(), new, via, now)?;
                    }
                }
                match &change.pins {
                    PinUpdate::Keep => {}
                    PinUpdate::Set(a) => {
                        pins.insert(key, encode(a)?)?;
                    }
                    PinUpdate::Clear => {
                        pins.remove(key)?;
                    }
                }
                let ids = write_commands(outbox, &change.commands, now)?;
                // A number with no record and no PIN state keeps nothing, not even the id:
                // an unknown number's texts leave no trace in the store.
                let touched =
                    record.is_some() || change.record.is_some() || change.pins != PinUpdate::Keep;
                if let (true, Some(event_id)) = (touched, event_id) {
                    let seen_entry = Seen {
                        reply: change.reply.clone(),
                        at: now,
                    };
                    seen.insert(event_id, encode(&seen_entry)?)?;
                }
                Ok(Applied::Fresh {
                    reply: change.reply,
                    outbox: ids,
                    before: record.map(Box::new),
                    after: change.record.map(Box::new),
                })
            })?;
        Ok(result)
    }

    pub fn dispatch_record(
        &self,
        reservation_sid: &str,
    ) -> Result<Option<crate::core::dispatch::DispatchRecord>, StoreError> {
        self.dispatch
            .get(reservation_sid)?
            .map(|v| serde_json::from_slice(&v).map_err(StoreError::from))
            .transpose()
    }

    pub fn dispatch_records(
        &self,
    ) -> Result<Vec<crate::core::dispatch::DispatchRecord>, StoreError> {
        self.dispatch
            .iter()
            .values()
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    pub fn voicemails(&self) -> Result<Vec<VoicemailRecord>, StoreError> {
        let mut all: Vec<VoicemailRecord> = self
            .voicemails
            .iter()
            .values()
            .map(|v| serde_json::from_slice(&v?).map_err(StoreError::from))
            .collect::<Result<_, _>>()?;
        all.sort_by_key(|v| v.at);
        Ok(all)
    }

    /// A worker's presence changes, oldest first.
    pub fn history(&self, phone: &PhoneNumber) -> Result<Vec<PresenceChange>, StoreError> {
        let mut prefix = phone.as_str().as_bytes().to_vec();
        prefix.push(0);
        self.history
            .scan_prefix(prefix)
            .values()
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    /// Applies one event about a reservation atomically: the dispatch record, the worker's
    /// record (`phone`), the outbox commands and the idempotency record under `event_id`.
    pub fn apply_dispatch(
        &self,
        event_id: &str,
        reservation_sid: &str,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
        decide: impl Fn(
            Option<&crate::core::dispatch::DispatchRecord>,
            Option<&WorkerRecord>,
        ) -> DispatchChange,
    ) -> Result<Applied, StoreError> {
        let key = phone.as_str().as_bytes();
        let result = (
            &self.dispatch,
            &self.workers,
            &self.seen,
            &self.outbox,
            &self.history,
        )
            .transaction(|(dispatch, workers, seen, outbox, history)| {
                if let Some(old) = seen.get(event_id)? {
                    let old: Seen = decode(&old)?;
                    return Ok(Applied::Replayed { reply: old.reply });
                }
                let record = dispatch
                    .get(reservation_sid)?
                    .map(|v| decode(&v))
                    .transpose()?;
                let worker: Option<WorkerRecord> =
                    workers.get(key)?.map(|v| decode(&v)).transpose()?;
                let change = decide(record.as_ref(), worker.as_ref());
                if let Some(new) = &change.record {
                    dispatch.insert(reservation_sid, encode(new)?)?;
                }
                if let Some(new) = &change.worker {
                    workers.insert(key, encode(new)?)?;
                    note_presence(history, worker.as_ref(), new, Via::Dispatch, now)?;
                }
                let ids = write_commands(outbox, &change.commands, now)?;
                seen.insert(
                    event_id,
                    encode(&Seen {
                        reply: change.reply.clone(),
                        at: now,
                    })?,
                )?;
                Ok(Applied::Fresh {
                    reply: change.reply,
                    outbox: ids,
                    before: worker.map(Box::new),
                    after: change.worker.map(Box::new),
                })
            })?;
        Ok(result)
    }

    /// Applies a timer to the worker's record, with the commands it causes.
    pub fn apply_worker(
        &self,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
        via: Via,
        decide: impl Fn(&WorkerRecord) -> (WorkerRecord, Vec<Command>),
    ) -> Result<(), StoreError> {
        let key = phone.as_str().as_bytes();
        (&self.workers, &self.outbox, &self.history).transaction(
            |(workers, outbox, history)| {
                let Some(worker) = workers
                    .get(key)?
                    .map(|v| decode::<WorkerRecord>(&v))
                    .transpose()?
                else {
                    return Ok(());
                };
                let (new, commands) = decide(&worker);
                if new != worker {
                    workers.insert(key, encode(&new)?)?;
                    note_presence(history, Some(&worker), &new, via, now)?;
                }
                write_commands(outbox, &commands, now)?;
                Ok(())
            },
        )?;
        Ok(())
    }

    /// Stores a voicemail and the commands announcing it, once per recording.
    pub fn add_voicemail(
        &self,
        voicemail: &VoicemailRecord,
        commands: &[Command],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let added = (&self.voicemails, &self.outbox).transaction(|(voicemails, outbox)| {
            if voicemails.get(voicemail.recording_sid.as_str())?.is_some() {
                return Ok(false);
            }
            voicemails.insert(voicemail.recording_sid.as_str(), encode(voicemail)?)?;
            write_commands(outbox, commands, now)?;
            Ok(true)
        })?;
        Ok(added)
    }

    /// Writes commands that belong to no record (a redirect), once per `event_id`.
    pub fn enqueue(
        &self,
        event_id: &str,
        commands: &[Command],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        (&self.seen, &self.outbox).transaction(|(seen, outbox)| {
            if seen.get(event_id)?.is_some() {
                return Ok(());
            }
            write_commands(outbox, commands, now)?;
            seen.insert(
                event_id,
                encode(&Seen {
                    reply: String::new(),
                    at: now,
                })?,
            )?;
            Ok(())
        })?;
        Ok(())
    }

    /// Makes the stored roster match the configuration: new workers are added offline; a
    /// changed name, call languages or time zone is updated (the worker's chosen texting
    /// language is theirs to keep). Workers who joined by PIN are left alone.
    pub fn seed_roster(
        &self,
        roster: &[RosterEntry],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut changed = 0;
        for entry in roster {
            // Most start-ups change nobody: a read is far cheaper than a sled transaction.
            if let Some(stored) = self.worker(&entry.phone)?
                && stored.name == entry.name
                && stored.languages == entry.languages
                && stored.time_zone == entry.time_zone
                && stored.source == Source::Config
            {
                continue;
            }
            // Set, not added to: sled may run the closure more than once.
            let differs_now = std::cell::Cell::new(false);
            self.apply(None, &entry.phone, now, Via::Config, |record, _| {
                let new = match record {
                    None => WorkerRecord::new(
                        entry.phone.clone(),
                        entry.name.clone(),
                        entry.language,
                        entry.languages.clone(),
                        entry.time_zone,
                        Source::Config,
                        now,
                    ),
                    Some(r) => WorkerRecord {
                        name: entry.name.clone(),
                        languages: entry.languages.clone(),
                        time_zone: entry.time_zone,
                        source: Source::Config,
                        ..r.clone()
                    },
                };
                let commands = record
                    .and_then(|old| Command::sync(old, &new))
                    .into_iter()
                    .collect();
                let differs = record != Some(&new);
                differs_now.set(differs);
                Change {
                    record: differs.then_some(new),
                    pins: PinUpdate::Keep,
                    commands,
                    reply: String::new(),
                }
            })?;
            changed += usize::from(differs_now.get());
        }
        Ok(changed)
    }

    /// Forgets handled webhook ids older than `SEEN_RETENTION`.
    pub fn prune_seen(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut removed = 0;
        for item in self.seen.iter() {
            let (key, value) = item?;
            let seen: Seen = serde_json::from_slice(&value)?;
            if now - seen.at > SEEN_RETENTION {
                self.seen.remove(key)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<serde_json::Error>>;

/// Appends to the audit trail when a worker's presence changed. Keys are the phone, a zero
/// byte and a sequence number, so one worker's history is a prefix scan in time order.
fn note_presence(
    history: &sled::transaction::TransactionalTree,
    old: Option<&WorkerRecord>,
    new: &WorkerRecord,
    via: Via,
    now: DateTime<Utc>,
) -> TxResult<()> {
    let Some(old) = old.filter(|o| o.presence != new.presence) else {
        return Ok(());
    };
    let mut key = new.phone.as_str().as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(&history.generate_id()?.to_be_bytes());
    let change = PresenceChange {
        at: now,
        from: presence_name(old),
        to: presence_name(new),
        via,
    };
    history.insert(key, encode(&change)?)?;
    Ok(())
}

fn presence_name(record: &WorkerRecord) -> String {
    serde_json::to_value(record.presence)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn write_commands(
    outbox: &sled::transaction::TransactionalTree,
    commands: &[Command],
    now: DateTime<Utc>,
) -> TxResult<Vec<u64>> {
    let mut ids = Vec::new();
    for command in commands {
        let id = outbox.generate_id()?;
        outbox.insert(
            &id.to_be_bytes(),
            encode(&OutboxEntry::new(id, command, now))?,
        )?;
        ids.push(id);
    }
    Ok(ids)
}

fn encode<T: Serialize>(
    value: &T,
) -> Result<Vec<u8>, ConflictableTransactionError<serde_json::Error>> {
    serde_json::to_vec(value).map_err(ConflictableTransactionError::Abort)
}

fn decode<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
) -> Result<T, ConflictableTransactionError<serde_json::Error>> {
    serde_json::from_slice(bytes).map_err(ConflictableTransactionError::Abort)
}
