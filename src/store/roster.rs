//! Operators' changes to the roster: add a worker, remove one, take one offline.
//!
//! Each is one transaction, like every other change to the store: the worker's record, the
//! TaskRouter sync it causes (in the outbox) and the presence history are written together
//! or not at all, so a crash can never leave a removed worker Available in TaskRouter with
//! nothing left to take them offline. Callers make the change durable (`Store::durable`)
//! before they report it and wake the outbox delivery.

use chrono::{DateTime, Utc};
use sled::Transactional;

use super::{Applied, Change, Store, StoreError, Via, decode, note_presence, write_commands};
use crate::config::RosterEntry;
use crate::core::domain::PhoneNumber;
use crate::core::effects::{Command, WorkerSpec};
use crate::core::intake::PinUpdate;
use crate::core::intake::machines::{Presence, PresenceInput, fire, presence};
use crate::core::intake::record::{Source, WorkerRecord};

/// A worker an operator removed.
#[derive(Clone, Debug, PartialEq)]
pub struct Removal {
    /// The record as it was before removal.
    pub record: WorkerRecord,
    /// A TaskRouter sync taking the Worker offline was written to the outbox.
    pub synced: bool,
}

/// A worker an operator took offline.
#[derive(Clone, Debug, PartialEq)]
pub struct ForcedOffline {
    pub before: WorkerRecord,
    pub after: WorkerRecord,
    /// A TaskRouter sync was written to the outbox (the activity changed).
    pub synced: bool,
}

impl Store {
    /// Adds a worker to the roster, offline with no skills, unless the number already has a
    /// record (which is then left exactly as it is). Returns whether it was created.
    ///
    /// The record's source is `Enrolled`: there is no separate "added by an operator"
    /// source, and `Enrolled` already means what matters, that the configuration file does
    /// not own the record (`seed_roster` leaves it alone). No TaskRouter command is written:
    /// an offline worker needs no Worker yet; the first sync (going online) creates it.
    pub fn add_worker(&self, entry: &RosterEntry, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let applied = self.apply(None, &entry.phone, now, Via::Operator, |record, _| Change {
            record: record.is_none().then(|| {
                WorkerRecord::new(
                    entry.phone.clone(),
                    entry.name.clone(),
                    entry.language,
                    entry.languages.clone(),
                    entry.time_zone,
                    Source::Enrolled,
                    now,
                )
            }),
            pins: PinUpdate::Keep,
            commands: Vec::new(),
            reply: String::new(),
        })?;
        Ok(matches!(
            applied,
            Applied::Fresh {
                before: None,
                after: Some(_),
                ..
            }
        ))
    }

    /// Deletes a worker's record. If TaskRouter may know the worker (they are online or
    /// cooling down, or have a Worker SID), the same transaction writes a sync taking the
    /// Worker offline with no skills and rejecting pending reservations, so no call is
    /// offered to someone who is no longer on the roster. Returns None when the number has
    /// no record.
    ///
    /// The presence history is kept (it is an audit trail), and gains an `operator` entry
    /// when the worker was online.
    pub fn remove_worker(
        &self,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
    ) -> Result<Option<Removal>, StoreError> {
        let key = phone.as_str().as_bytes();
        let removal = (&self.workers, &self.outbox, &self.history).transaction(
            |(workers, outbox, history)| {
                let Some(old) = workers.remove(key)? else {
                    return Ok(None);
                };
                let record: WorkerRecord = decode(&old)?;
                let retired = WorkerRecord {
                    presence: offline(record.presence),
                    // TaskRouter keeps the Worker; with no skills it matches no queue even
                    // if someone makes it Available again in the console.
                    skills: Vec::new(),
                    pending: None,
                    updated_at: now,
                    ..record.clone()
                };
                note_presence(history, Some(&record), &retired, Via::Operator, now)?;
                let known_to_taskrouter =
                    record.presence != Presence::Offline || record.worker_sid.is_some();
                let commands = if known_to_taskrouter {
                    vec![Command::SyncWorker {
                        spec: WorkerSpec::of(&retired),
                        reject_pending_reservations: true,
                    }]
                } else {
                    Vec::new()
                };
                let ids = write_commands(outbox, &commands, now)?;
                Ok(Some(Removal {
                    record,
                    synced: !ids.is_empty(),
                }))
            },
        )?;
        Ok(removal)
    }

    /// Takes a worker offline through the presence machine, as if they had texted OFF:
    /// their dialogue (an open menu) is left as it is, and a temporary ON or OFF they set
    /// ends now. When the TaskRouter activity changes, a sync rejecting pending reservations
    /// is written with it, and the presence history records `operator`. A weekly schedule
    /// still brings the worker online at their next shift start. Returns None when the
    /// number has no record.
    pub fn force_offline(
        &self,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
    ) -> Result<Option<ForcedOffline>, StoreError> {
        let applied = self.apply(None, phone, now, Via::Operator, |record, _| {
            let Some(old) = record else {
                return Change {
                    record: None,
                    pins: PinUpdate::Keep,
                    commands: Vec::new(),
                    reply: String::new(),
                };
            };
            let new = WorkerRecord {
                presence: offline(old.presence),
                // As a texted OFF does: the end of an earlier "OFF for 30m" or "ON until
                // 6pm" must not bring the worker back, so its timer is made stale. This is
                // why the record is written even when the worker was already offline.
                hold_version: old.hold_version.wrapping_add(1),
                updated_at: now,
                ..old.clone()
            };
            let commands = Command::sync(old, &new).into_iter().collect();
            Change {
                record: Some(new),
                pins: PinUpdate::Keep,
                commands,
                reply: String::new(),
            }
        })?;
        Ok(match applied {
            Applied::Fresh {
                before: Some(before),
                after: Some(after),
                outbox,
                ..
            } => Some(ForcedOffline {
                before: *before,
                after: *after,
                synced: !outbox.is_empty(),
            }),
            _ => None,
        })
    }
}

impl StoreError {
    /// The store is open in another process (sled locks its directory): most likely a
    /// running `shiftline serve`.
    pub fn is_locked(&self) -> bool {
        // sled reports it as an I/O error with this text, and has no error kind of its own.
        matches!(self, StoreError::Sled(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock"))
    }
}

/// The presence after GoOffline. The table has a GoOffline rule for every state (checked by
/// `machines::tests`), so the fallback is never used; Offline would be its answer anyway.
fn offline(state: Presence) -> Presence {
    fire::<presence::Impl>(state, &PresenceInput::GoOffline).map_or(Presence::Offline, |(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::Locale;

    fn entry(phone: &str) -> RosterEntry {
        RosterEntry {
            phone: PhoneNumber::parse(phone).unwrap(),
            name: "Ana".into(),
            language: Locale::En,
            languages: vec![Locale::En],
            time_zone: chrono_tz::America::Chicago,
        }
    }

    fn online(store: &Store, phone: &PhoneNumber, now: DateTime<Utc>) {
        store
            .apply_worker(phone, now, Via::Sms, |w| {
                let w = WorkerRecord {
                    presence: Presence::Online,
                    skills: vec![crate::core::domain::SkillKey::parse("billing").unwrap()],
                    ..w.clone()
                };
                (w, Vec::new())
            })
            .unwrap();
    }

    #[tokio::test]
    async fn adding_twice_creates_once_and_keeps_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let ana = entry("+15550001111");
        assert!(store.add_worker(&ana, now).unwrap());
        online(&store, &ana.phone, now);
        let renamed = RosterEntry {
            name: "Other".into(),
            ..ana.clone()
        };
        assert!(!store.add_worker(&renamed, now).unwrap());
        let record = store.worker(&ana.phone).unwrap().unwrap();
        assert_eq!(record.name, "Ana");
        assert_eq!(record.presence, Presence::Online);
        assert_eq!(record.source, Source::Enrolled);
        assert!(store.outbox().unwrap().is_empty());
    }

    #[tokio::test]
    async fn removing_an_online_worker_takes_them_offline_in_taskrouter_in_the_same_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let ana = entry("+15550001111");
        store.add_worker(&ana, now).unwrap();
        online(&store, &ana.phone, now);

        let removal = store.remove_worker(&ana.phone, now).unwrap().unwrap();
        assert!(removal.synced);
        assert_eq!(removal.record.presence, Presence::Online);
        assert!(store.worker(&ana.phone).unwrap().is_none());
        let outbox = store.outbox().unwrap();
        assert_eq!(outbox.len(), 1);
        let Command::SyncWorker {
            spec,
            reject_pending_reservations,
        } = &outbox[0].command
        else {
            panic!("expected a sync, got {:?}", outbox[0].command);
        };
        assert_eq!(spec.activity, crate::core::effects::Activity::Offline);
        assert!(spec.attributes.skills.is_empty());
        assert!(reject_pending_reservations);
        let history = store.history(&ana.phone).unwrap();
        assert_eq!(history.last().map(|h| h.via), Some(Via::Operator));

        assert_eq!(store.remove_worker(&ana.phone, now).unwrap(), None);
    }

    #[tokio::test]
    async fn removing_a_worker_taskrouter_never_knew_writes_no_command() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let ana = entry("+15550001111");
        store.add_worker(&ana, now).unwrap();
        let removal = store.remove_worker(&ana.phone, now).unwrap().unwrap();
        assert!(!removal.synced);
        assert!(store.outbox().unwrap().is_empty());
        assert!(store.history(&ana.phone).unwrap().is_empty());
    }

    #[tokio::test]
    async fn forcing_offline_goes_through_the_machine_and_is_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let ana = entry("+15550001111");
        store.add_worker(&ana, now).unwrap();
        online(&store, &ana.phone, now);

        let forced = store.force_offline(&ana.phone, now).unwrap().unwrap();
        assert_eq!(forced.before.presence, Presence::Online);
        assert_eq!(forced.after.presence, Presence::Offline);
        assert_eq!(forced.after.skills, forced.before.skills, "skills are kept");
        assert!(forced.synced);
        let outbox = store.outbox().unwrap();
        assert!(matches!(
            outbox[0].command,
            Command::SyncWorker {
                reject_pending_reservations: true,
                ..
            }
        ));

        // Already offline: no sync and no history, only the hold is over.
        let again = store.force_offline(&ana.phone, now).unwrap().unwrap();
        assert!(!again.synced);
        assert_eq!(again.after.presence, Presence::Offline);
        assert_eq!(again.after.hold_version, again.before.hold_version + 1);
        assert_eq!(store.outbox().unwrap().len(), 1);
        let history = store.history(&ana.phone).unwrap();
        let operator: Vec<_> = history.iter().filter(|h| h.via == Via::Operator).collect();
        assert_eq!(operator.len(), 1);
        assert_eq!(
            (operator[0].from.as_str(), operator[0].to.as_str()),
            ("online", "offline")
        );

        // "OFF for 30m" would have ended in a HoldOver bringing Ana back online; after the
        // operator's OFF that timer is stale.
        let hold = crate::core::effects::TimerEvent::HoldOver {
            version: forced.before.hold_version,
            online: false,
        };
        let catalog = crate::core::domain::catalog::Catalog {
            skills: vec![crate::core::domain::catalog::Skill {
                key: crate::core::domain::SkillKey::parse("billing").unwrap(),
                names: Default::default(),
            }],
        };
        let later = crate::core::intake::timers::on_timer(&again.after, hold, now, &catalog);
        assert_eq!(later.record.presence, Presence::Offline);
        assert!(later.commands.is_empty());
        // Without the operator, the same hold's end would have: the check above means it.
        let current = crate::core::effects::TimerEvent::HoldOver {
            version: again.after.hold_version,
            online: false,
        };
        let would = crate::core::intake::timers::on_timer(&again.after, current, now, &catalog);
        assert_eq!(would.record.presence, Presence::Online);

        let nobody = PhoneNumber::parse("+15559999999").unwrap();
        assert_eq!(store.force_offline(&nobody, now).unwrap(), None);
        assert!(store.worker(&nobody).unwrap().is_none());
    }
}
