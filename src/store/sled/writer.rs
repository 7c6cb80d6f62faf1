//! One writer for every unit of work: a thread that takes all the units waiting, decides
//! each against the latest state (a unit sees what the ones before it in the batch wrote,
//! so one worker's texts apply in the order they came), writes the whole batch in one
//! transaction, makes it durable with one flush, and only then answers them all.
//!
//! Why a thread: sled's commits take a process-wide lock and write its log twice, and a
//! flush blocks; done once per batch on a thread of its own, no async task ever waits on
//! sled, and a burst of webhooks costs one commit and one flush instead of one each.
//! Single-writer also means a unit is decided exactly once: no transaction retries.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};

use ::sled::Transactional;
use ::sled::transaction::ConflictableTransactionError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::lanes::Lanes;
use super::{Recent, Seen, history, timer_key};
use crate::core::effects::Command;
use crate::core::intake::PinUpdate;
use crate::core::intake::record::WorkerRecord;
use crate::store::{
    Applied, CallbackUnit, DispatchUnit, OutboxEntry, PresenceChange, RecordChange, StoreError,
    TimerEntry, Via, VoicemailRecord, WorkerUnit,
};

/// The most units one batch takes; the rest wait for the next.
const MAX_BATCH: usize = 512;

/// The trees units of work write, by name; the number is the draft's index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tree {
    Workers,
    Pins,
    Seen,
    Recent,
    Outbox,
    Timers,
    Dispatch,
    Voicemails,
    History,
    Callbacks,
}

const TREES: usize = Tree::Callbacks as usize + 1;

/// The writer's own handles on the trees.
#[derive(Clone)]
pub(super) struct Trees {
    pub db: ::sled::Db,
    pub workers: ::sled::Tree,
    pub pins: ::sled::Tree,
    pub seen: ::sled::Tree,
    pub recent: ::sled::Tree,
    pub outbox: ::sled::Tree,
    pub timers: ::sled::Tree,
    pub dispatch: ::sled::Tree,
    pub voicemails: ::sled::Tree,
    pub history: ::sled::Tree,
    pub callbacks: ::sled::Tree,
}

impl Trees {
    fn tree(&self, tree: Tree) -> &::sled::Tree {
        match tree {
            Tree::Workers => &self.workers,
            Tree::Pins => &self.pins,
            Tree::Seen => &self.seen,
            Tree::Recent => &self.recent,
            Tree::Outbox => &self.outbox,
            Tree::Timers => &self.timers,
            Tree::Dispatch => &self.dispatch,
            Tree::Voicemails => &self.voicemails,
            Tree::History => &self.history,
            Tree::Callbacks => &self.callbacks,
        }
    }
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A unit of work and where its answer goes.
pub(super) enum Job {
    Worker(WorkerUnit, Reply<Applied>),
    Dispatch(DispatchUnit, Reply<Applied>),
    Callback(CallbackUnit, Reply<Applied>),
    Voicemail {
        voicemail: VoicemailRecord,
        commands: Vec<Command>,
        now: DateTime<Utc>,
        reply: Reply<bool>,
    },
    Enqueue {
        event_id: String,
        commands: Vec<Command>,
        now: DateTime<Utc>,
        reply: Reply<bool>,
    },
}

/// The writer thread, joined when the last store handle goes, so that the directory is
/// free again as soon as the store is dropped.
pub(super) struct Writer {
    jobs: Option<Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Writer {
    pub fn start(trees: Trees, lanes: Arc<Lanes>) -> Result<Self, StoreError> {
        let (jobs, queue) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sled-writer".into())
            .spawn(move || run(queue, trees, lanes))
            .map_err(|e| StoreError::Backend(format!("cannot start the writer: {e}")))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Hands `job` to the writer; `answer` is the receiving end of its reply.
    pub async fn submit<T>(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let stopped = || StoreError::Backend("the store's writer has stopped".into());
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(queue: Receiver<Job>, trees: Trees, lanes: Arc<Lanes>) {
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut draft = Draft::new(&trees, &lanes);
        let decided: Vec<Decided> = jobs
            .into_iter()
            .map(|job| decide(job, &mut draft))
            .collect();
        let committed = draft.commit();
        if let Ok((superseded, written)) = &committed {
            // Only now may they be delivered, their state being on disk; and before anyone
            // is answered, so whoever hears back can find them due.
            lanes.update(superseded, written);
        }
        for answer in decided {
            answer(committed.as_ref().err());
        }
    }
}

/// What a committed batch changed in the outbox: entries superseded (by lane) and written.
type Committed = (Vec<(Arc<str>, u64)>, Vec<OutboxEntry>);

/// A unit decided, waiting for its batch to be durable before it is answered: it is
/// called with the batch's failure, if the batch failed.
type Decided = Box<dyn FnOnce(Option<&StoreError>) + Send>;

fn answer_later<T: Send + 'static>(reply: Reply<T>, result: Result<T, StoreError>) -> Decided {
    Box::new(move |failed| {
        let _ = reply.send(match failed {
            None => result,
            Some(e) => Err(StoreError::Backend(e.to_string())),
        });
    })
}

/// Runs one unit against the draft.
fn decide(job: Job, draft: &mut Draft) -> Decided {
    match job {
        Job::Worker(unit, reply) => answer_later(reply, draft.attempt(|d| apply_worker(d, unit))),
        Job::Dispatch(unit, reply) => {
            answer_later(reply, draft.attempt(|d| apply_dispatch(d, unit)))
        }
        Job::Callback(unit, reply) => {
            answer_later(reply, draft.attempt(|d| apply_callback(d, unit)))
        }
        Job::Voicemail {
            voicemail,
            commands,
            now,
            reply,
        } => answer_later(
            reply,
            draft.attempt(|d| add_voicemail(d, &voicemail, &commands, now)),
        ),
        Job::Enqueue {
            event_id,
            commands,
            now,
            reply,
        } => answer_later(
            reply,
            draft.attempt(|d| enqueue(d, &event_id, &commands, now)),
        ),
    }
}

fn apply_worker(draft: &mut Draft, unit: WorkerUnit) -> Result<Applied, StoreError> {
    let key = unit.phone.as_str().as_bytes();
    let now = unit.now;
    // A phone's recent events, else the ids remembered one by one (where a store written
    // before `recent` existed, or copied from another backend, keeps them).
    let mut recent: Recent = match unit.event_id {
        Some(_) => draft.get(Tree::Recent, key)?.unwrap_or_default(),
        None => Recent::default(),
    };
    if let Some(id) = unit.event_id.as_deref() {
        if let Some(old) = recent.reply_to(id) {
            return Ok(Applied::Replayed { reply: old.into() });
        }
        if let Some(old) = seen_reply(draft, Some(id))? {
            return Ok(Applied::Replayed { reply: old });
        }
    }
    if let Some(timer) = unit.timer {
        let key = timer_key(timer);
        if !draft.contains(Tree::Timers, &key)? {
            // Fired already: a timer acts once.
            return Ok(Applied::Replayed {
                reply: String::new(),
            });
        }
        draft.remove(Tree::Timers, &key);
    }
    let record: Option<WorkerRecord> = draft.get(Tree::Workers, key)?;
    let attempts = draft.get(Tree::Pins, key)?;
    let change = (unit.decide)(record.as_ref(), attempts.as_ref());

    let after = match &change.record {
        RecordChange::Keep => record.clone(),
        RecordChange::Put(new) => {
            draft.put(Tree::Workers, key, new)?;
            note_presence(draft, record.as_ref(), new, unit.via, now)?;
            Some(new.clone())
        }
        RecordChange::Delete(last) => {
            draft.remove(Tree::Workers, key);
            note_presence(draft, record.as_ref(), last, unit.via, now)?;
            None
        }
    };
    match &change.pins {
        PinUpdate::Keep => {}
        PinUpdate::Set(attempts) => draft.put(Tree::Pins, key, attempts)?,
        PinUpdate::Clear => draft.remove(Tree::Pins, key),
    }
    let ids = write_commands(draft, &change.commands, now)?;
    // A number with no record and no PIN state keeps nothing, not even the id: an unknown
    // number's texts leave no trace in the store.
    let touched =
        record.is_some() || change.record != RecordChange::Keep || change.pins != PinUpdate::Keep;
    if let (true, Some(id)) = (touched, &unit.event_id) {
        recent.remember(id, &change.reply, now);
        draft.put(Tree::Recent, key, &recent)?;
    }
    Ok(Applied::Fresh {
        reply: change.reply,
        outbox: ids,
        before: record.map(Box::new),
        after: after.map(Box::new),
    })
}

fn apply_dispatch(draft: &mut Draft, unit: DispatchUnit) -> Result<Applied, StoreError> {
    let key = unit.worker.as_str().as_bytes();
    let now = unit.now;
    if let Some(old) = seen_reply(draft, Some(&unit.event_id))? {
        return Ok(Applied::Replayed { reply: old });
    }
    let record = draft.get(Tree::Dispatch, unit.reservation_sid.as_bytes())?;
    let worker: Option<WorkerRecord> = draft.get(Tree::Workers, key)?;
    let change = (unit.decide)(record.as_ref(), worker.as_ref());
    if let Some(new) = &change.record {
        draft.put(Tree::Dispatch, unit.reservation_sid.as_bytes(), new)?;
    }
    if let Some(new) = &change.worker {
        draft.put(Tree::Workers, key, new)?;
        note_presence(draft, worker.as_ref(), new, Via::Dispatch, now)?;
    }
    let ids = write_commands(draft, &change.commands, now)?;
    remember(draft, Some(&unit.event_id), &change.reply, now)?;
    Ok(Applied::Fresh {
        reply: change.reply,
        outbox: ids,
        before: worker.map(Box::new),
        after: change.worker.map(Box::new),
    })
}

fn apply_callback(draft: &mut Draft, unit: CallbackUnit) -> Result<Applied, StoreError> {
    let key = unit.id.as_bytes();
    let now = unit.now;
    if let Some(old) = seen_reply(draft, Some(&unit.event_id))? {
        return Ok(Applied::Replayed { reply: old });
    }
    let record = draft.get(Tree::Callbacks, key)?;
    let change = (unit.decide)(record.as_ref());
    if let Some(new) = &change.record {
        draft.put(Tree::Callbacks, key, new)?;
    }
    let ids = write_commands(draft, &change.commands, now)?;
    remember(draft, Some(&unit.event_id), &change.reply, now)?;
    Ok(Applied::Fresh {
        reply: change.reply,
        outbox: ids,
        before: None,
        after: None,
    })
}

fn add_voicemail(
    draft: &mut Draft,
    voicemail: &VoicemailRecord,
    commands: &[Command],
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let key = voicemail.recording_sid.as_bytes();
    if draft.contains(Tree::Voicemails, key)? {
        return Ok(false);
    }
    draft.put(Tree::Voicemails, key, voicemail)?;
    write_commands(draft, commands, now)?;
    Ok(true)
}

fn enqueue(
    draft: &mut Draft,
    event_id: &str,
    commands: &[Command],
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if draft.contains(Tree::Seen, event_id.as_bytes())? {
        return Ok(false);
    }
    write_commands(draft, commands, now)?;
    remember(draft, Some(event_id), "", now)?;
    Ok(true)
}

/// The reply stored for an event id handled before, if any.
fn seen_reply(draft: &Draft, event_id: Option<&str>) -> Result<Option<String>, StoreError> {
    let Some(id) = event_id else {
        return Ok(None);
    };
    Ok(draft
        .get::<Seen>(Tree::Seen, id.as_bytes())?
        .map(|s| s.reply))
}

fn remember(
    draft: &mut Draft,
    event_id: Option<&str>,
    reply: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if let Some(id) = event_id {
        let seen = Seen {
            reply: reply.to_string(),
            at: now,
        };
        draft.put(Tree::Seen, id.as_bytes(), &seen)?;
    }
    Ok(())
}

/// Appends to the audit trail when a worker's presence changed: to the worker's list for
/// the day, or to a key of its own once that list is full (see `history`).
fn note_presence(
    draft: &mut Draft,
    old: Option<&WorkerRecord>,
    new: &WorkerRecord,
    via: Via,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(change) = PresenceChange::between(old, new, via, now) else {
        return Ok(());
    };
    let key = history::day_key(&new.phone, now);
    let mut day: Vec<PresenceChange> = draft.get(Tree::History, &key)?.unwrap_or_default();
    match history::append(&mut day, change) {
        None => draft.put(Tree::History, &key, &day),
        Some(lone) => {
            let key = history::change_key(&new.phone, draft.trees.db.generate_id()?);
            draft.put(Tree::History, &key, &lone)
        }
    }
}

/// Writes commands to the outbox and timers to their tree; returns the outbox ids.
fn write_commands(
    draft: &mut Draft,
    commands: &[Command],
    now: DateTime<Utc>,
) -> Result<Vec<u64>, StoreError> {
    let mut ids = Vec::new();
    for command in commands {
        let id = draft.trees.db.generate_id()?;
        match command {
            Command::Timer { worker, due, event } => {
                let timer = TimerEntry {
                    id,
                    worker: worker.clone(),
                    due: *due,
                    event: *event,
                };
                draft.put(Tree::Timers, &timer_key(timer.key()), &timer)?;
            }
            command => {
                let (command, taken_over) = match command.is_sync() {
                    true => supersede(draft, command)?,
                    false => (command.clone(), None),
                };
                let id = taken_over.unwrap_or(id);
                let entry = OutboxEntry::new(id, &command, now);
                draft.put(Tree::Outbox, &id.to_be_bytes(), &entry)?;
                // An entry taken over is in the index (or this batch) already, as a sync.
                if taken_over.is_none() {
                    draft.written.push(entry);
                }
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// A new sync for a worker makes the syncs still waiting at the end of their lane
/// pointless (each carries the whole desired state), so the outbox holds at most one
/// untried sync per worker however far Twilio falls behind. The new one takes on what
/// they had to do (`Command::coalesce_syncs`) and the oldest one's id, so a worker who
/// keeps texting keeps their place in the delivery order; the others leave the outbox in
/// the same batch. Returns the command to write and the id it takes over, if any.
fn supersede(draft: &mut Draft, command: &Command) -> Result<(Command, Option<u64>), StoreError> {
    let lane = command.lane();
    // The lane's last entry written by this batch comes after everything the index knows:
    // a sync there already took over whatever waited before it, and another command ends
    // the run. With none, the untried syncs the index holds.
    let ids = match draft
        .written
        .iter()
        .rev()
        .find(|e| e.command.lane() == lane)
    {
        Some(entry) if entry.command.is_sync() => vec![entry.id],
        Some(_) => Vec::new(),
        None => draft.lanes.superseded_syncs(&lane),
    };
    // Read as this batch left them: one it superseded is gone, one it took over is newer.
    let mut older: Vec<(u64, Command)> = Vec::new();
    for id in ids {
        if let Some(entry) = draft.get::<OutboxEntry>(Tree::Outbox, &id.to_be_bytes())? {
            older.push((id, entry.command));
        }
    }
    older.sort_by_key(|(id, _)| *id);
    let Some(&(oldest, _)) = older.first() else {
        return Ok((command.clone(), None));
    };
    let lane: Arc<str> = Arc::from(lane);
    for (id, _) in &older[1..] {
        draft.remove(Tree::Outbox, &id.to_be_bytes());
        draft.superseded.push((lane.clone(), *id));
    }
    let run = older.iter().map(|(_, c)| c).chain([command]);
    let coalesced = Command::coalesce_syncs(run).unwrap_or_else(|| command.clone());
    Ok((coalesced, Some(oldest)))
}

/// A key the running unit wrote, and what the draft held for it before (`None`: nothing;
/// `Some(None)`: a removal).
type Undo = (Tree, Vec<u8>, Option<Option<Vec<u8>>>);

/// A batch being built: the latest value of every key its units wrote (`None`: removed),
/// which later units of the batch read instead of the tree, and which the commit writes.
/// One copy of each: a key written twice in a batch is written once, as its last value.
struct Draft<'a> {
    trees: &'a Trees,
    lanes: &'a Lanes,
    writes: [HashMap<Vec<u8>, Option<Vec<u8>>>; TREES],
    /// What each key the running unit wrote held in the draft before, oldest first, so
    /// that a unit that fails halfway can be taken back out.
    undo: Vec<Undo>,
    written: Vec<OutboxEntry>,
    /// Entries of the index that a newer sync made pointless, by lane (see `supersede`;
    /// one this batch wrote is taken over, never removed).
    superseded: Vec<(Arc<str>, u64)>,
}

impl<'a> Draft<'a> {
    fn new(trees: &'a Trees, lanes: &'a Lanes) -> Self {
        Self {
            trees,
            lanes,
            writes: Default::default(),
            undo: Vec::new(),
            written: Vec::new(),
            superseded: Vec::new(),
        }
    }

    fn contains(&self, tree: Tree, key: &[u8]) -> Result<bool, StoreError> {
        match self.writes[tree as usize].get(key) {
            Some(value) => Ok(value.is_some()),
            None => Ok(self.trees.tree(tree).contains_key(key)?),
        }
    }

    fn get<T: DeserializeOwned>(&self, tree: Tree, key: &[u8]) -> Result<Option<T>, StoreError> {
        let decode = |v: &[u8]| serde_json::from_slice(v).map_err(StoreError::from);
        match self.writes[tree as usize].get(key) {
            Some(value) => value.as_deref().map(decode).transpose(),
            None => self
                .trees
                .tree(tree)
                .get(key)?
                .map(|v| decode(&v))
                .transpose(),
        }
    }

    fn put<T: Serialize>(&mut self, tree: Tree, key: &[u8], value: &T) -> Result<(), StoreError> {
        let value = serde_json::to_vec(value)?;
        self.set(tree, key, Some(value));
        Ok(())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) {
        self.set(tree, key, None);
    }

    fn set(&mut self, tree: Tree, key: &[u8], value: Option<Vec<u8>>) {
        let before = self.writes[tree as usize].insert(key.to_vec(), value);
        self.undo.push((tree, key.to_vec(), before));
    }

    /// Runs one unit; a unit that fails halfway leaves the draft as it found it.
    fn attempt<T>(
        &mut self,
        unit: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.undo.clear();
        let marks = (self.written.len(), self.superseded.len());
        let result = unit(self);
        if result.is_err() {
            while let Some((tree, key, before)) = self.undo.pop() {
                match before {
                    Some(value) => self.writes[tree as usize].insert(key, value),
                    None => self.writes[tree as usize].remove(&key),
                };
            }
            self.written.truncate(marks.0);
            self.superseded.truncate(marks.1);
        }
        result
    }

    /// Writes the batch in one transaction over every tree, then flushes: when this
    /// returns, all of it survives a crash. Returns the outbox entries it superseded and
    /// the ones it wrote.
    fn commit(self) -> Result<Committed, StoreError> {
        let (superseded, written) = (self.superseded, self.written);
        if self.writes.iter().all(HashMap::is_empty) {
            return Ok((superseded, written));
        }
        let batches = self.writes.map(|writes| {
            let mut batch = ::sled::Batch::default();
            for (key, value) in writes {
                match value {
                    Some(value) => batch.insert(key, value),
                    None => batch.remove(key),
                }
            }
            batch
        });
        let t = self.trees;
        let batch = |tree: Tree| &batches[tree as usize];
        (
            &t.workers,
            &t.pins,
            &t.seen,
            &t.recent,
            &t.outbox,
            &t.timers,
            &t.dispatch,
            &t.voicemails,
            &t.history,
            &t.callbacks,
        )
            .transaction(
                |(
                    workers,
                    pins,
                    seen,
                    recent,
                    outbox,
                    timers,
                    dispatch,
                    voicemails,
                    history,
                    callbacks,
                )| {
                    workers.apply_batch(batch(Tree::Workers))?;
                    pins.apply_batch(batch(Tree::Pins))?;
                    seen.apply_batch(batch(Tree::Seen))?;
                    recent.apply_batch(batch(Tree::Recent))?;
                    outbox.apply_batch(batch(Tree::Outbox))?;
                    timers.apply_batch(batch(Tree::Timers))?;
                    dispatch.apply_batch(batch(Tree::Dispatch))?;
                    voicemails.apply_batch(batch(Tree::Voicemails))?;
                    history.apply_batch(batch(Tree::History))?;
                    callbacks.apply_batch(batch(Tree::Callbacks))?;
                    Ok::<_, ConflictableTransactionError<()>>(())
                },
            )
            .map_err(|e| StoreError::Backend(format!("{e:?}")))?;
        t.db.flush().map_err(|e| StoreError::Flush(e.to_string()))?;
        Ok((superseded, written))
    }
}
