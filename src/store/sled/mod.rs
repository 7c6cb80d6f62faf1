//! The embedded backend: sled, one tree per concern. Every unit of work goes through one
//! writer thread that commits and flushes whole batches (see `writer`), so a unit is
//! answered only once it is on disk, and a burst of webhooks costs one flush.
//!
//! Trees: `workers` (by E.164 phone), `pins` (wrong-PIN counts by phone), `recent` (each
//! phone's last texts and keys handled, with the replies given), `seen` (the other event
//! ids handled: calls, TaskRouter's callbacks), `outbox` (commands by sequence number),
//! `failing` (outbox ids that failed at least once, with when they were written), `parked`,
//! `timers` (by due time, then id), `dispatch` (by reservation SID), `voicemails` (by
//! recording SID), `history` (by phone, then day: see `history`), `callbacks` (callback
//! requests by id). Values are JSON.
//!
//! This is the only module that names sled: nothing outside it sees a sled type or error.

mod group_commit;
mod history;
mod lanes;
mod writer;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use ::sled::Transactional;
use ::sled::transaction::{ConflictableTransactionError, TransactionError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Applied, CallbackUnit, Claim, DispatchUnit, OutboxEntry, OutboxStats, ParkedEntry,
    PresenceChange, SeenEvent, Snapshot, Store, StoreError, TimerEntry, TimerId, VoicemailRecord,
    WorkerUnit,
};
use crate::core::callback::CallbackRecord;
use crate::core::dispatch::DispatchRecord;
use crate::core::domain::PhoneNumber;
use crate::core::effects::{Command, Priority};
use crate::core::intake::record::WorkerRecord;
use group_commit::GroupCommit;
use lanes::Lanes;
use tokio::sync::oneshot;
use writer::{Job, Writer};

/// sled's cache when none is given (the command-line tools; the service passes
/// `[store] cache_mb`): the working set is small records, and sled's default (1 GiB)
/// would let the process grow far past what it needs.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

impl From<::sled::Error> for StoreError {
    fn from(e: ::sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Codec(e.to_string())
    }
}

impl From<TransactionError<serde_json::Error>> for StoreError {
    fn from(e: TransactionError<serde_json::Error>) -> Self {
        match e {
            TransactionError::Abort(e) => e.into(),
            TransactionError::Storage(e) => e.into(),
        }
    }
}

/// A webhook already handled, with what was answered.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Seen {
    reply: String,
    at: DateTime<Utc>,
}

impl Seen {
    fn event(self, event_id: String) -> SeenEvent {
        SeenEvent {
            event_id,
            reply: self.reply,
            at: self.at,
        }
    }
}

/// A phone's last events handled (texts, keys pressed), oldest first, by event id.
///
/// Why by phone and not one record per MessageSid: sled keeps some memory for every key
/// it holds, evicted or not: about 32 bytes a key (3 million random ids grew a sled with a
/// 16 MB cache by 80 MB), so a record per text grows the process by 11 MB a minute at the
/// intake benchmark's 6,000 texts/s, for the whole `SEEN_RETENTION`. By phone, the keys
/// are bounded by the roster. The cost: an id older than its sender's last
/// `RECENT_EVENTS` is no longer recognised. Twilio's retries come within seconds, long
/// before a worker texts that many times more; the sweep still forgets events older than
/// `SEEN_RETENTION`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Recent(Vec<(String, Seen)>);

/// How many of a phone's events `Recent` keeps.
const RECENT_EVENTS: usize = 4;

impl Recent {
    /// The reply given to `event_id`, if it is one of these.
    fn reply_to(&self, event_id: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(id, _)| id == event_id)
            .map(|(_, seen)| seen.reply.as_str())
    }

    /// Adds an event handled, forgetting the oldest beyond `RECENT_EVENTS`.
    fn remember(&mut self, event_id: &str, reply: &str, at: DateTime<Utc>) {
        let seen = Seen {
            reply: reply.to_string(),
            at,
        };
        self.0.push((event_id.to_string(), seen));
        let excess = self.0.len().saturating_sub(RECENT_EVENTS);
        self.0.drain(..excess);
    }

    /// Forgets the events handled before `before`; returns how many.
    fn forget_before(&mut self, before: DateTime<Utc>) -> usize {
        let had = self.0.len();
        self.0.retain(|(_, seen)| seen.at >= before);
        had - self.0.len()
    }
}

#[derive(Clone, Debug)]
pub struct SledStore {
    db: ::sled::Db,
    workers: ::sled::Tree,
    seen: ::sled::Tree,
    recent: ::sled::Tree,
    outbox: ::sled::Tree,
    failing: ::sled::Tree,
    parked: ::sled::Tree,
    timers: ::sled::Tree,
    pins: ::sled::Tree,
    dispatch: ::sled::Tree,
    voicemails: ::sled::Tree,
    history: ::sled::Tree,
    callbacks: ::sled::Tree,
    commit: GroupCommit,
    /// The lanes with work, in delivery order, and which are claimed (see `lanes`).
    lanes: Arc<Lanes>,
    /// Every unit of work goes through it (see `writer`).
    writer: Arc<Writer>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`. Needs a tokio runtime for the flush task.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(dir, CACHE_BYTES)
    }

    /// `open`, with sled's cache at most `cache_bytes`.
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let db = ::sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|e| match e {
                // sled reports its directory lock as an I/O error with this text, and has
                // no error kind of its own for it.
                ::sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError::Locked
                }
                other => other.into(),
            })?;
        let trees = writer::Trees {
            workers: db.open_tree("workers")?,
            pins: db.open_tree("pins")?,
            seen: db.open_tree("seen")?,
            recent: db.open_tree("recent")?,
            outbox: db.open_tree("outbox")?,
            timers: db.open_tree("timers")?,
            dispatch: db.open_tree("dispatch")?,
            voicemails: db.open_tree("voicemails")?,
            history: db.open_tree("history")?,
            callbacks: db.open_tree("callbacks")?,
            db: db.clone(),
        };
        let lanes: Arc<Lanes> = Arc::default();
        let store = Self {
            workers: trees.workers.clone(),
            seen: trees.seen.clone(),
            recent: trees.recent.clone(),
            outbox: trees.outbox.clone(),
            failing: db.open_tree("failing")?,
            parked: db.open_tree("parked")?,
            timers: trees.timers.clone(),
            dispatch: trees.dispatch.clone(),
            voicemails: trees.voicemails.clone(),
            history: trees.history.clone(),
            callbacks: trees.callbacks.clone(),
            pins: trees.pins.clone(),
            db,
            commit: GroupCommit::start(),
            writer: Arc::new(Writer::start(trees, lanes.clone())?),
            lanes,
        };
        store.move_old_timers()?;
        let waiting: Vec<OutboxEntry> = Self::all(&store.outbox)?;
        store.lanes.add(&waiting);
        Ok(store)
    }

    /// Stores written before timers had their own tree kept them in the outbox: move them.
    fn move_old_timers(&self) -> Result<(), StoreError> {
        for item in self.outbox.iter() {
            let (key, value) = item?;
            let entry: OutboxEntry = serde_json::from_slice(&value)?;
            if let Command::Timer { worker, due, event } = entry.command {
                let timer = TimerEntry {
                    id: entry.id,
                    worker,
                    due,
                    event,
                };
                self.timers
                    .insert(timer_key(timer.key()), serde_json::to_vec(&timer)?)?;
                self.outbox.remove(key)?;
            }
        }
        Ok(())
    }

    fn all<T: for<'de> Deserialize<'de>>(tree: &::sled::Tree) -> Result<Vec<T>, StoreError> {
        tree.iter()
            .values()
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    fn one<T: for<'de> Deserialize<'de>>(
        tree: &::sled::Tree,
        key: impl AsRef<[u8]>,
    ) -> Result<Option<T>, StoreError> {
        tree.get(key)?
            .map(|v| serde_json::from_slice(&v).map_err(StoreError::from))
            .transpose()
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<serde_json::Error>>;

#[async_trait]
impl Store for SledStore {
    async fn apply_worker(&self, unit: WorkerUnit) -> Result<Applied, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.submit(Job::Worker(unit, reply), answer).await
    }

    async fn apply_dispatch(&self, unit: DispatchUnit) -> Result<Applied, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.submit(Job::Dispatch(unit, reply), answer).await
    }

    async fn apply_callback(&self, unit: CallbackUnit) -> Result<Applied, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.submit(Job::Callback(unit, reply), answer).await
    }

    async fn add_voicemail(
        &self,
        voicemail: VoicemailRecord,
        commands: Vec<Command>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Voicemail {
            voicemail,
            commands,
            now,
            reply,
        };
        self.writer.submit(job, answer).await
    }

    async fn enqueue(
        &self,
        event_id: &str,
        commands: Vec<Command>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Enqueue {
            event_id: event_id.to_string(),
            commands,
            now,
            reply,
        };
        self.writer.submit(job, answer).await
    }

    async fn durable(&self) -> Result<(), StoreError> {
        self.commit
            .durable(&self.db)
            .await
            .map_err(StoreError::Flush)
    }

    async fn worker(&self, phone: &PhoneNumber) -> Result<Option<WorkerRecord>, StoreError> {
        Self::one(&self.workers, phone.as_str())
    }

    async fn workers(&self) -> Result<Vec<WorkerRecord>, StoreError> {
        Self::all(&self.workers)
    }

    async fn dispatch_record(
        &self,
        reservation_sid: &str,
    ) -> Result<Option<DispatchRecord>, StoreError> {
        Self::one(&self.dispatch, reservation_sid)
    }

    async fn dispatch_records(&self) -> Result<Vec<DispatchRecord>, StoreError> {
        Self::all(&self.dispatch)
    }

    async fn callback(&self, id: &str) -> Result<Option<CallbackRecord>, StoreError> {
        Self::one(&self.callbacks, id)
    }

    async fn callbacks(&self) -> Result<Vec<CallbackRecord>, StoreError> {
        // Keyed by id; few enough to order by request time in memory.
        let mut all: Vec<CallbackRecord> = Self::all(&self.callbacks)?;
        all.sort_by(|a, b| (a.requested_at, &a.id).cmp(&(b.requested_at, &b.id)));
        Ok(all)
    }

    async fn voicemails(&self) -> Result<Vec<VoicemailRecord>, StoreError> {
        let mut all: Vec<VoicemailRecord> = Self::all(&self.voicemails)?;
        all.sort_by_key(|v| v.at);
        Ok(all)
    }

    async fn history(&self, phone: &PhoneNumber) -> Result<Vec<PresenceChange>, StoreError> {
        let mut changes = Vec::new();
        for value in self.history.scan_prefix(history::prefix(phone)).values() {
            changes.extend(history::decode(&value?)?);
        }
        Ok(history::in_order(changes))
    }

    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        Self::all(&self.outbox)
    }

    async fn parked(&self) -> Result<Vec<ParkedEntry>, StoreError> {
        Self::all(&self.parked)
    }

    async fn timers(&self) -> Result<Vec<TimerEntry>, StoreError> {
        Self::all(&self.timers)
    }

    async fn outbox_stats(&self, failing_since: DateTime<Utc>) -> Result<OutboxStats, StoreError> {
        let mut failing = 0;
        for value in self.failing.iter().values() {
            let enqueued_at: DateTime<Utc> = serde_json::from_slice(&value?)?;
            failing += usize::from(enqueued_at < failing_since);
        }
        Ok(OutboxStats {
            // From the index: the tree's own count walks every key, and a health check
            // during a backlog would pull all of them through the cache.
            pending: self.lanes.pending(),
            timers: self.timers.len(),
            parked: self.parked.len(),
            failing_since: failing,
        })
    }

    async fn claim_upto(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        at_most: Priority,
    ) -> Result<Vec<Claim>, StoreError> {
        let mut claims = Vec::new();
        for taken in self.lanes.claim(now, limit, at_most) {
            let mut entries = Vec::new();
            for id in &taken.ids {
                if let Some(entry) = Self::one::<OutboxEntry>(&self.outbox, id.to_be_bytes())? {
                    entries.push(entry);
                }
            }
            let claim = Claim {
                lane: taken.lane,
                urgent: taken.urgent,
                entries,
            };
            if claim.entries.is_empty() {
                // Only this store removes entries, after a claim: never expected.
                self.lanes.finish(&claim.lane, &taken.ids, None);
            } else {
                claims.push(claim);
            }
        }
        Ok(claims)
    }

    async fn delivered(&self, claim: &Claim) -> Result<(), StoreError> {
        let ids = claim.ids();
        let mut outbox = ::sled::Batch::default();
        let mut failing = ::sled::Batch::default();
        for id in &ids {
            outbox.remove(&id.to_be_bytes());
            failing.remove(&id.to_be_bytes());
        }
        (&self.outbox, &self.failing).transaction(|(o, f)| {
            o.apply_batch(&outbox)?;
            f.apply_batch(&failing)?;
            Ok::<_, ConflictableTransactionError<serde_json::Error>>(())
        })?;
        self.lanes.finish(&claim.lane, &ids, None);
        Ok(())
    }

    async fn retry(
        &self,
        claim: &Claim,
        not_before: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        let Some(head) = claim.entries.first() else {
            return self.release(claim).await;
        };
        let key = head.id.to_be_bytes();
        (&self.outbox, &self.failing).transaction(|(outbox, failing)| {
            let Some(old) = outbox.get(key)? else {
                return Ok(());
            };
            let mut entry: OutboxEntry = decode(&old)?;
            entry.attempts += 1;
            entry.not_before = Some(not_before);
            entry.last_error = Some(error.to_string());
            outbox.insert(&key, encode(&entry)?)?;
            failing.insert(&key, encode(&entry.enqueued_at)?)?;
            Ok(())
        })?;
        self.lanes
            .finish(&claim.lane, &[], Some((head.id, not_before)));
        Ok(())
    }

    async fn park(&self, claim: &Claim, error: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let ids = claim.ids();
        (&self.outbox, &self.parked, &self.failing).transaction(|(outbox, parked, failing)| {
            for id in &ids {
                let key = id.to_be_bytes();
                failing.remove(&key)?;
                if let Some(old) = outbox.remove(&key)? {
                    let record = ParkedEntry {
                        entry: decode(&old)?,
                        parked_at: now,
                        error: error.to_string(),
                    };
                    parked.insert(&key, encode(&record)?)?;
                }
            }
            Ok(())
        })?;
        self.lanes.finish(&claim.lane, &ids, None);
        Ok(())
    }

    async fn release(&self, claim: &Claim) -> Result<(), StoreError> {
        self.lanes.finish(&claim.lane, &[], None);
        Ok(())
    }

    async fn due_timers(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<TimerEntry>, StoreError> {
        let end = timer_key(TimerId {
            id: u64::MAX,
            due: now,
        });
        self.timers
            .range(..=end)
            .values()
            .take(limit)
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let timer = match self.timers.first()? {
            Some((_, v)) => Some(serde_json::from_slice::<TimerEntry>(&v)?.due),
            None => None,
        };
        Ok(match (timer, self.lanes.next_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    async fn export(&self) -> Result<Snapshot, StoreError> {
        let mut snapshot = Snapshot {
            workers: Self::all(&self.workers)?,
            outbox: Self::all(&self.outbox)?,
            parked: Self::all(&self.parked)?,
            timers: Self::all(&self.timers)?,
            dispatch: Self::all(&self.dispatch)?,
            voicemails: self.voicemails().await?,
            callbacks: self.callbacks().await?,
            ..Snapshot::default()
        };
        for item in self.pins.iter() {
            let (key, value) = item?;
            let phone =
                PhoneNumber::parse(&String::from_utf8_lossy(&key)).map_err(StoreError::Codec)?;
            snapshot.pins.push((phone, serde_json::from_slice(&value)?));
        }
        for item in self.seen.iter() {
            let (key, value) = item?;
            let seen: Seen = serde_json::from_slice(&value)?;
            let event_id = String::from_utf8_lossy(&key).into_owned();
            snapshot.seen.push(seen.event(event_id));
        }
        for item in self.recent.iter() {
            let (_, value) = item?;
            let Recent(events) = serde_json::from_slice(&value)?;
            let events = events.into_iter().map(|(id, seen)| seen.event(id));
            snapshot.seen.extend(events);
        }
        // One list by id, as the other backend reads it, whichever tree each came from.
        snapshot.seen.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        // A phone's keys are next to each other.
        for item in self.history.iter() {
            let (key, value) = item?;
            let phone = history::phone_of(&key)?;
            let changes = history::decode(&value)?;
            match snapshot.history.last_mut() {
                Some((last, all)) if *last == phone => all.extend(changes),
                _ => snapshot.history.push((phone, changes)),
            }
        }
        for (_, changes) in &mut snapshot.history {
            *changes = history::in_order(std::mem::take(changes));
        }
        Ok(snapshot)
    }

    async fn import(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        if !self.export().await?.is_empty() {
            return Err(StoreError::Backend(
                "the store to copy into is not empty".to_string(),
            ));
        }
        // New ids must come after the copied ones.
        while self.db.generate_id()? < snapshot.last_id() {}
        for worker in &snapshot.workers {
            self.workers.insert(worker.phone.as_str(), json(worker)?)?;
        }
        for (phone, attempts) in &snapshot.pins {
            self.pins.insert(phone.as_str(), json(attempts)?)?;
        }
        for seen in &snapshot.seen {
            let value = Seen {
                reply: seen.reply.clone(),
                at: seen.at,
            };
            self.seen.insert(seen.event_id.as_str(), json(&value)?)?;
        }
        for entry in &snapshot.outbox {
            self.outbox.insert(entry.id.to_be_bytes(), json(entry)?)?;
            if entry.attempts > 0 {
                self.failing
                    .insert(entry.id.to_be_bytes(), json(&entry.enqueued_at)?)?;
            }
        }
        for parked in &snapshot.parked {
            self.parked
                .insert(parked.entry.id.to_be_bytes(), json(parked)?)?;
        }
        for timer in &snapshot.timers {
            self.timers.insert(timer_key(timer.key()), json(timer)?)?;
        }
        for record in &snapshot.dispatch {
            self.dispatch
                .insert(record.reservation_sid.as_str(), json(record)?)?;
        }
        for voicemail in &snapshot.voicemails {
            self.voicemails
                .insert(voicemail.recording_sid.as_str(), json(voicemail)?)?;
        }
        for record in &snapshot.callbacks {
            self.callbacks.insert(record.id.as_str(), json(record)?)?;
        }
        // As the writer lays them out: a list per day, a key of its own past its limit.
        for (phone, changes) in &snapshot.history {
            let mut days: BTreeMap<Vec<u8>, Vec<&PresenceChange>> = BTreeMap::new();
            for change in changes {
                let day = days.entry(history::day_key(phone, change.at)).or_default();
                if let Some(lone) = history::append(day, change) {
                    let key = history::change_key(phone, self.db.generate_id()?);
                    self.history.insert(key, json(lone)?)?;
                }
            }
            for (key, day) in days {
                self.history.insert(key, json(&day)?)?;
            }
        }
        self.lanes.add(&snapshot.outbox);
        self.durable().await
    }

    async fn prune_seen(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut removed = 0;
        for item in self.seen.iter() {
            let (key, value) = item?;
            let seen: Seen = serde_json::from_slice(&value)?;
            if seen.at < before {
                self.seen.remove(key)?;
                removed += 1;
            }
        }
        for item in self.recent.iter() {
            let (key, value) = item?;
            let mut recent: Recent = serde_json::from_slice(&value)?;
            let forgotten = recent.forget_before(before);
            if forgotten == 0 {
                continue;
            }
            let kept = (!recent.0.is_empty()).then(|| json(&recent)).transpose()?;
            // Only if the writer has not added an event since it was read; if it has, the
            // next sweep takes the old ones.
            if self
                .recent
                .compare_and_swap(&key, Some(value), kept)?
                .is_ok()
            {
                removed += forgotten;
            }
        }
        Ok(removed)
    }
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(value)?)
}

/// Timers are keyed by due time (milliseconds, big-endian, so byte order is time order),
/// then id.
fn timer_key(timer: TimerId) -> [u8; 16] {
    let mut key = [0; 16];
    let millis = timer.due.timestamp_millis().max(0) as u64;
    key[..8].copy_from_slice(&millis.to_be_bytes());
    key[8..].copy_from_slice(&timer.id.to_be_bytes());
    key
}

fn encode<T: Serialize>(value: &T) -> TxResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(ConflictableTransactionError::Abort)
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> TxResult<T> {
    serde_json::from_slice(bytes).map_err(ConflictableTransactionError::Abort)
}
