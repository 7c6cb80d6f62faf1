//! Which outbox lanes have work, and in what order to deliver them, kept in memory beside
//! the `outbox` tree so a claim costs in proportion to what is due, not to the backlog.
//!
//! The index is rebuilt from the tree when the store opens (sled's directory lock means one
//! process holds the store, so no other process changes the tree) and is told of every
//! entry written, finished or rescheduled after the transaction that did it commits.
//! Claims live only here: after a crash nothing is claimed and every entry still in the
//! tree is delivered again, which is the outbox's at-least-once promise.
//!
//! Memory: about 190 bytes for a lane with one waiting entry, by the sizes of its map
//! entry, its name and its place in `ready` (a waiting sync costs about 280 in all, sled's
//! share included: `examples/bench_backlog`), and one lane per worker at most. The
//! writer keeps at most one waiting untried sync per worker (`superseded_syncs`), so a
//! backlog that grows while Twilio is slower than the texts stays in proportion to the
//! roster.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use smallvec::SmallVec;

use crate::core::effects::{Command, Priority};
use crate::store::OutboxEntry;

/// What the index needs to know of one entry.
#[derive(Clone, Copy, Debug)]
struct Meta {
    id: u64,
    priority: Priority,
    sync: bool,
    /// Milliseconds since the epoch before which it must not be tried; `i64::MIN` for now.
    not_before: i64,
}

impl Meta {
    fn of(entry: &OutboxEntry) -> Self {
        Self {
            id: entry.id,
            priority: entry.command.priority(),
            sync: entry.command.is_sync(),
            not_before: entry.not_before.map_or(i64::MIN, |t| t.timestamp_millis()),
        }
    }
}

/// A lane's place in the delivery order: by the most urgent command it holds, then by
/// when its head is due, then by the head's id (oldest first). The lane name makes keys
/// unique.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    priority: Priority,
    due: i64,
    head: u64,
    lane: Arc<str>,
}

impl Place {
    /// A bound before every place of its priority due at `due` or later.
    fn first(priority: Priority, due: i64) -> Self {
        Self {
            priority,
            due,
            head: 0,
            lane: Arc::from(""),
        }
    }
}

#[derive(Default)]
struct Lane {
    /// In id order, which is the order they were written. Inline while there is one: most
    /// lanes hold one entry (a worker's waiting sync), and a heap allocation, or a map's
    /// node, for each of a hundred thousand of them would cost more than the entry itself;
    /// shifting a handful of entries when the head goes is nothing.
    entries: SmallVec<[Meta; 1]>,
    /// How many entries of each priority it holds.
    counts: [u32; 3],
    /// The last id of the claim being delivered, while there is one: entries after it
    /// came later and are not part of it.
    claimed: Option<u64>,
}

const PRIORITIES: [Priority; 3] = [Priority::Customer, Priority::Worker, Priority::Notice];

impl Lane {
    /// The most urgent priority among its entries.
    fn priority(&self) -> Priority {
        PRIORITIES
            .into_iter()
            .find(|p| self.counts[*p as usize] > 0)
            .unwrap_or(Priority::Notice)
    }

    /// Where it stands in `ready`: nowhere while claimed or empty. Worked out from the
    /// lane each time rather than kept, which would double what a lane costs.
    fn place(&self, name: &Arc<str>) -> Option<Place> {
        let head = self.entries.first().filter(|_| self.claimed.is_none())?;
        Some(Place {
            priority: self.priority(),
            due: head.not_before,
            head: head.id,
            lane: name.clone(),
        })
    }

    fn insert(&mut self, meta: Meta) -> bool {
        match self.entries.binary_search_by_key(&meta.id, |m| m.id) {
            Ok(_) => false,
            Err(at) => {
                self.entries.insert(at, meta);
                self.counts[meta.priority as usize] += 1;
                true
            }
        }
    }

    fn remove(&mut self, id: u64) -> bool {
        match self.entries.binary_search_by_key(&id, |m| m.id) {
            Ok(at) => {
                let meta = self.entries.remove(at);
                self.counts[meta.priority as usize] -= 1;
                true
            }
            Err(_) => false,
        }
    }
}

#[derive(Default)]
struct Index {
    lanes: HashMap<Arc<str>, Lane>,
    ready: BTreeSet<Place>,
    /// Entries in every lane.
    pending: usize,
}

/// The ids to deliver as one claim: the head, or the run of syncs it starts.
pub(super) struct Taken {
    pub lane: String,
    pub urgent: bool,
    pub ids: Vec<u64>,
}

#[derive(Default)]
pub(super) struct Lanes {
    index: Mutex<Index>,
}

impl std::fmt::Debug for Lanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let index = self.lock();
        f.debug_struct("Lanes")
            .field("lanes", &index.lanes.len())
            .field("ready", &index.ready.len())
            .finish()
    }
}

impl Lanes {
    /// Entries written by a committed batch: `removed` left the outbox (superseded),
    /// `added` joined it.
    pub fn add<'a>(&self, added: impl IntoIterator<Item = &'a OutboxEntry>) {
        self.update(&[], added);
    }

    /// `add`, after taking out what the same batch removed.
    pub fn update<'a>(
        &self,
        removed: &[(Arc<str>, u64)],
        added: impl IntoIterator<Item = &'a OutboxEntry>,
    ) {
        let mut index = self.lock();
        for (name, id) in removed {
            index.change(name, false, |lane| {
                lane.remove(*id);
            });
        }
        for entry in added {
            if matches!(entry.command, Command::Timer { .. }) {
                continue;
            }
            index.change(&entry.command.lane(), true, |lane| {
                lane.insert(Meta::of(entry));
            });
        }
    }

    /// How many entries wait in the outbox (every lane, claimed or not).
    pub fn pending(&self) -> usize {
        self.lock().pending
    }

    /// The syncs at the end of `lane` that a newer sync makes pointless: a run of syncs no
    /// claim holds and nobody has tried yet (one that failed keeps its backoff and its
    /// place in the failing count, so it stays).
    pub fn superseded_syncs(&self, lane: &str) -> Vec<u64> {
        let index = self.lock();
        let Some(lane) = index.lanes.get(lane) else {
            return Vec::new();
        };
        lane.entries
            .iter()
            .rev()
            .take_while(|m| {
                m.sync && m.not_before == i64::MIN && lane.claimed.is_none_or(|last| m.id > last)
            })
            .map(|m| m.id)
            .collect()
    }

    /// Takes up to `limit` due lanes, in delivery order, and marks them claimed. The mark
    /// is made under the same lock that found them, and a claimed lane leaves `ready`, so
    /// no second caller can take it before `finish` or `release`.
    pub fn claim(&self, now: DateTime<Utc>, limit: usize, at_most: Priority) -> Vec<Taken> {
        let mut index = self.lock();
        let now = now.timestamp_millis();
        let mut places = Vec::new();
        for priority in PRIORITIES.into_iter().filter(|p| *p <= at_most) {
            let until = Place::first(priority, now.saturating_add(1));
            let due = index.ready.range(Place::first(priority, i64::MIN)..until);
            places.extend(due.take(limit - places.len()).cloned());
        }
        places
            .into_iter()
            .map(|place| {
                index.ready.remove(&place);
                let lane = index
                    .lanes
                    .get_mut(&place.lane)
                    .expect("a ready lane exists");
                // A run of syncs coalesces; anything else goes alone.
                let mut ids = Vec::new();
                let mut entries = lane.entries.iter();
                if let Some(head) = entries.next() {
                    ids.push(head.id);
                    if head.sync {
                        ids.extend(entries.take_while(|m| m.sync).map(|m| m.id));
                    }
                }
                lane.claimed = ids.last().copied();
                Taken {
                    urgent: place.priority == Priority::Customer,
                    lane: place.lane.to_string(),
                    ids,
                }
            })
            .collect()
    }

    /// A claim is over: `removed` left the outbox, `rescheduled` waits until a new time,
    /// and the lane may be claimed again.
    pub fn finish(&self, lane: &str, removed: &[u64], rescheduled: Option<(u64, DateTime<Utc>)>) {
        self.lock().change(lane, false, |lane| {
            for id in removed {
                lane.remove(*id);
            }
            if let Some((id, due)) = rescheduled
                && let Some(meta) = lane.entries.iter_mut().find(|m| m.id == id)
            {
                meta.not_before = due.timestamp_millis();
            }
            lane.claimed = None;
        });
    }

    /// When the soonest unclaimed lane is due (maybe already).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let index = self.lock();
        // The soonest of each priority is the first of its range.
        let due = PRIORITIES
            .iter()
            .filter_map(|p| index.ready.range(Place::first(*p, i64::MIN)..).next())
            .map(|place| place.due)
            .min()?;
        Some(DateTime::from_timestamp_millis(due).unwrap_or(DateTime::<Utc>::MIN_UTC))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Index {
    /// Changes the lane named `name` (made empty first if there is none and `create`),
    /// keeping `ready` and `pending` true to it: its place goes before the change and
    /// comes back after it, where its head now puts it; an empty lane nobody claims goes.
    fn change(&mut self, name: &str, create: bool, change: impl FnOnce(&mut Lane)) {
        let name = match self.lanes.get_key_value(name) {
            Some((name, _)) => name.clone(),
            None if create => Arc::from(name),
            None => return,
        };
        let lane = self.lanes.entry(name.clone()).or_default();
        if let Some(place) = lane.place(&name) {
            self.ready.remove(&place);
        }
        let before = lane.entries.len();
        change(lane);
        self.pending = self.pending + lane.entries.len() - before;
        if let Some(place) = lane.place(&name) {
            self.ready.insert(place);
        } else if lane.claimed.is_none() {
            self.lanes.remove(&name);
        }
    }
}
