//! The roster: the configuration's workers at start-up, and operators' changes (add a
//! worker, remove one, take one offline). Each change is one unit of work, like every other:
//! the record, the TaskRouter sync it causes and the presence history are written together,
//! so a crash can never leave a removed worker Available in TaskRouter with nothing left to
//! take them offline.

use chrono::{DateTime, Utc};

use super::Service;
use crate::config::RosterEntry;
use crate::core::domain::PhoneNumber;
use crate::core::effects::Command;
use crate::core::intake::machines::{Dialogue, Presence, PresenceInput, fire, presence};
use crate::core::intake::record::{Source, WorkerRecord};
use crate::store::{Applied, RecordChange, Store, StoreError, Via, WorkerChange, WorkerUnit};

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

/// The text telling a worker an operator took them offline, rendered for them.
pub type Notice = std::sync::Arc<dyn Fn(&WorkerRecord) -> String + Send + Sync>;

/// One operator's (or the configuration's) change to a worker, not retried by anyone.
fn unit(
    phone: &PhoneNumber,
    now: DateTime<Utc>,
    via: Via,
    decide: impl Fn(Option<&WorkerRecord>) -> WorkerChange + Send + Sync + 'static,
) -> WorkerUnit {
    WorkerUnit {
        phone: phone.clone(),
        event_id: None,
        now,
        via,
        timer: None,
        decide: Box::new(move |record, _| decide(record)),
    }
}

/// What `seed` changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seeded {
    /// Records added or updated from the file (including those put back on the roster).
    pub changed: usize,
    /// Workers the file listed before and no longer does, now off the roster.
    pub deactivated: usize,
}

/// Makes the stored roster match the configuration: new workers are added offline; a
/// changed name, call languages or time zone is updated (the worker's chosen texting
/// language is theirs to keep). Workers who joined by PIN are left alone.
///
/// The file is the roster for the workers it owns: one it listed before and no longer
/// lists is taken offline (TaskRouter too, rejecting their pending calls) and off the
/// roster. Their record and history stay, and listing them again puts them back.
pub async fn seed(
    store: &dyn Store,
    roster: &[RosterEntry],
    now: DateTime<Utc>,
) -> Result<Seeded, StoreError> {
    let mut seeded = Seeded::default();
    for entry in roster {
        // Most start-ups change nobody: a read is far cheaper than a unit of work.
        if let Some(stored) = store.worker(&entry.phone).await?
            && stored.name == entry.name
            && stored.languages == entry.languages
            && stored.time_zone == entry.time_zone
            && stored.source == Source::Config
            && !stored.deactivated
        {
            continue;
        }
        let entry = entry.clone();
        let applied = store
            .apply_worker(unit(
                &entry.phone.clone(),
                now,
                Via::Config,
                move |record| {
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
                            deactivated: false,
                            ..r.clone()
                        },
                    };
                    let commands = record
                        .and_then(|old| WorkerRecord::sync(old, &new))
                        .into_iter()
                        .collect();
                    WorkerChange::put(record, new, commands)
                },
            ))
            .await?;
        if let Applied::Fresh { before, after, .. } = applied {
            seeded.changed += usize::from(before != after);
        }
    }
    let listed: std::collections::HashSet<&PhoneNumber> = roster.iter().map(|e| &e.phone).collect();
    for stored in store.workers().await? {
        if stored.source != Source::Config || stored.deactivated || listed.contains(&stored.phone) {
            continue;
        }
        if deactivate(store, &stored.phone, now).await? {
            tracing::info!(
                phone = %stored.phone.masked(),
                "not in the configuration file any more: taken offline and off the roster"
            );
            seeded.deactivated += 1;
        }
    }
    Ok(seeded)
}

/// Takes a worker the file no longer lists off the roster, as an operator's OFF does
/// (an open menu closes, a temporary ON or OFF ends) with TaskRouter told in the same
/// unit. Returns whether the record changed.
async fn deactivate(
    store: &dyn Store,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let applied = store
        .apply_worker(unit(phone, now, Via::Config, move |record| {
            let Some(old) = record else {
                return WorkerChange::none();
            };
            // Checked again inside the unit: the file owns only what it added.
            if old.source != Source::Config || old.deactivated {
                return WorkerChange::none();
            }
            let new = WorkerRecord {
                presence: offline(old.presence),
                dialogue: Dialogue::Idle,
                dialogue_since: None,
                pending: None,
                hold_version: old.hold_version.wrapping_add(1),
                hold_until: None,
                deactivated: true,
                updated_at: now,
                ..old.clone()
            };
            let commands = WorkerRecord::sync(old, &new).into_iter().collect();
            WorkerChange::put(record, new, commands)
        }))
        .await?;
    Ok(matches!(applied, Applied::Fresh { before, after, .. } if before != after))
}

/// Adds a worker to the roster, offline with no skills, unless the number already has a
/// record (which is then left exactly as it is). Returns whether it was created.
///
/// The record's source is `Enrolled`: there is no separate "added by an operator" source,
/// and `Enrolled` already means what matters, that the configuration file does not own the
/// record (`seed` leaves it alone). No TaskRouter command is written: an offline worker
/// needs no Worker yet; the first sync (going online) creates it.
pub async fn add(
    store: &dyn Store,
    entry: &RosterEntry,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let entry = entry.clone();
    let applied = store
        .apply_worker(unit(
            &entry.phone.clone(),
            now,
            Via::Operator,
            move |record| {
                if record.is_some() {
                    return WorkerChange::none();
                }
                let new = WorkerRecord::new(
                    entry.phone.clone(),
                    entry.name.clone(),
                    entry.language,
                    entry.languages.clone(),
                    entry.time_zone,
                    Source::Enrolled,
                    now,
                );
                WorkerChange::put(None, new, Vec::new())
            },
        ))
        .await?;
    Ok(matches!(
        applied,
        Applied::Fresh {
            before: None,
            after: Some(_),
            ..
        }
    ))
}

/// Deletes a worker's record. If TaskRouter may know the worker (they are online or cooling
/// down, or have a Worker SID), the same unit writes a sync taking the Worker offline with no
/// skills and rejecting pending reservations, so no call is offered to someone who is no
/// longer on the roster. Returns None when the number has no record.
///
/// The presence history is kept (it is an audit trail), and gains an `operator` entry when
/// the worker was online.
pub async fn remove(
    store: &dyn Store,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) -> Result<Option<Removal>, StoreError> {
    let applied = store
        .apply_worker(unit(phone, now, Via::Operator, move |record| {
            let Some(record) = record else {
                return WorkerChange::none();
            };
            let retired = WorkerRecord {
                presence: offline(record.presence),
                // TaskRouter keeps the Worker; with no skills it matches no queue even if
                // someone makes it Available again in the console.
                skills: Vec::new(),
                pending: None,
                updated_at: now,
                ..record.clone()
            };
            let known_to_taskrouter =
                record.presence != Presence::Offline || record.worker_sid.is_some();
            let commands = if known_to_taskrouter {
                vec![Command::SyncWorker {
                    spec: retired.spec(),
                    reject_pending_reservations: true,
                }]
            } else {
                Vec::new()
            };
            WorkerChange {
                record: RecordChange::Delete(retired),
                commands,
                ..WorkerChange::none()
            }
        }))
        .await?;
    Ok(match applied {
        Applied::Fresh {
            before: Some(before),
            outbox,
            ..
        } => Some(Removal {
            record: *before,
            synced: !outbox.is_empty(),
        }),
        _ => None,
    })
}

/// Takes a worker offline through the presence machine, as if they had texted OFF: their
/// dialogue (an open menu) is left as it is, and a temporary ON or OFF they set ends now.
/// When the TaskRouter activity changes, a sync rejecting pending reservations is written
/// with it, and the presence history records `operator`. A weekly schedule still brings the
/// worker online at their next shift start. Returns None when the number has no record.
///
/// With `notice`, a worker who was online (or cooling down) and has not opted out is texted
/// its text in the same unit, so they know why calls stopped; one already offline is not.
pub async fn force_offline(
    store: &dyn Store,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
    notice: Option<Notice>,
) -> Result<Option<ForcedOffline>, StoreError> {
    let applied = store
        .apply_worker(unit(phone, now, Via::Operator, move |record| {
            let Some(old) = record else {
                return WorkerChange::none();
            };
            let new = WorkerRecord {
                presence: offline(old.presence),
                // As a texted OFF does: the end of an earlier "OFF for 30m" or "ON until
                // 6pm" must not bring the worker back, so its timer is made stale. This is
                // why the record is written even when the worker was already offline.
                hold_version: old.hold_version.wrapping_add(1),
                hold_until: None,
                updated_at: now,
                ..old.clone()
            };
            let mut commands: Vec<Command> = WorkerRecord::sync(old, &new).into_iter().collect();
            if let Some(notice) = &notice
                && old.presence != Presence::Offline
                && !old.opted_out
            {
                commands.push(Command::SendSms {
                    to: old.phone.clone(),
                    body: notice(&new),
                });
            }
            WorkerChange::put(record, new, commands)
        }))
        .await?;
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

/// Remembers the TaskRouter Worker SID of a worker (what the outbox learnt syncing them).
pub async fn worker_synced(
    store: &dyn Store,
    phone: &PhoneNumber,
    sid: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sid = sid.to_string();
    store
        .apply_worker(unit(
            phone,
            now,
            Via::Dispatch,
            move |record| match record {
                Some(r) if r.worker_sid.as_deref() != Some(sid.as_str()) => WorkerChange::put(
                    record,
                    WorkerRecord {
                        worker_sid: Some(sid.clone()),
                        ..r.clone()
                    },
                    Vec::new(),
                ),
                _ => WorkerChange::none(),
            },
        ))
        .await?;
    Ok(())
}

/// The text `force_offline` sends, from the shipped messages.
pub fn offline_notice(
    messages: std::sync::Arc<crate::i18n::Messages>,
    catalog: crate::core::domain::catalog::Catalog,
) -> Notice {
    std::sync::Arc::new(move |worker| {
        messages.render(
            worker.language,
            &crate::core::intake::reply::Reply::new("operator-offline"),
            &catalog,
        )
    })
}

/// The presence after the worker is asked off (Offline from every state).
fn offline(state: Presence) -> Presence {
    fire::<presence::Impl>(state, &PresenceInput::AskedOff).0
}

impl Service {
    /// `roster::force_offline`, made durable and announced to the outbox; `text` tells the
    /// worker, in their language.
    pub async fn force_offline(
        &self,
        phone: &PhoneNumber,
        text: bool,
    ) -> Result<Option<ForcedOffline>, StoreError> {
        let notice =
            text.then(|| offline_notice(self.messages.clone(), self.settings.catalog.clone()));
        let forced = force_offline(self.store.as_ref(), phone, self.clock.now(), notice).await?;
        self.persisted().await?;
        Ok(forced)
    }

    /// `roster::add`, made durable.
    pub async fn add_worker(&self, entry: &RosterEntry) -> Result<bool, StoreError> {
        let added = add(self.store.as_ref(), entry, self.clock.now()).await?;
        self.persisted().await?;
        Ok(added)
    }

    /// `roster::remove`, made durable and announced to the outbox.
    pub async fn remove_worker(&self, phone: &PhoneNumber) -> Result<Option<Removal>, StoreError> {
        let removal = remove(self.store.as_ref(), phone, self.clock.now()).await?;
        self.persisted().await?;
        Ok(removal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::Locale;
    use crate::store::SledStore;

    fn entry(phone: &str) -> RosterEntry {
        RosterEntry {
            phone: PhoneNumber::parse(phone).unwrap(),
            name: "Ana".into(),
            language: Locale::En,
            languages: vec![Locale::En],
            time_zone: chrono_tz::America::Chicago,
        }
    }

    async fn online(store: &SledStore, phone: &PhoneNumber, now: DateTime<Utc>) {
        store
            .apply_worker(unit(phone, now, Via::Sms, |record| {
                let w = WorkerRecord {
                    presence: Presence::Online,
                    skills: vec![crate::core::domain::SkillKey::parse("billing").unwrap()],
                    ..record.unwrap().clone()
                };
                WorkerChange::put(record, w, Vec::new())
            }))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn adding_twice_creates_once_and_keeps_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let now = Utc::now();
        let ana = entry("+15550001111");
        assert!(add(&store, &ana, now).await.unwrap());
        online(&store, &ana.phone, now).await;
        let renamed = RosterEntry {
            name: "Other".into(),
            ..ana.clone()
        };
        assert!(!add(&store, &renamed, now).await.unwrap());
        let record = store.worker(&ana.phone).await.unwrap().unwrap();
        assert_eq!(record.name, "Ana");
        assert_eq!(record.presence, Presence::Online);
        assert_eq!(record.source, Source::Enrolled);
        assert!(store.outbox().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn removing_an_online_worker_takes_them_offline_in_taskrouter_in_the_same_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let now = Utc::now();
        let ana = entry("+15550001111");
        add(&store, &ana, now).await.unwrap();
        online(&store, &ana.phone, now).await;

        let removal = remove(&store, &ana.phone, now).await.unwrap().unwrap();
        assert!(removal.synced);
        assert_eq!(removal.record.presence, Presence::Online);
        assert!(store.worker(&ana.phone).await.unwrap().is_none());
        let outbox = store.outbox().await.unwrap();
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
        let history = store.history(&ana.phone).await.unwrap();
        assert_eq!(history.last().map(|h| h.via), Some(Via::Operator));

        assert_eq!(remove(&store, &ana.phone, now).await.unwrap(), None);
    }

    #[tokio::test]
    async fn removing_a_worker_taskrouter_never_knew_writes_no_command() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let now = Utc::now();
        let ana = entry("+15550001111");
        add(&store, &ana, now).await.unwrap();
        let removal = remove(&store, &ana.phone, now).await.unwrap().unwrap();
        assert!(!removal.synced);
        assert!(store.outbox().await.unwrap().is_empty());
        assert!(store.history(&ana.phone).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn forcing_offline_goes_through_the_machine_and_is_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let now = Utc::now();
        let ana = entry("+15550001111");
        add(&store, &ana, now).await.unwrap();
        online(&store, &ana.phone, now).await;

        let forced = force_offline(&store, &ana.phone, now, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(forced.before.presence, Presence::Online);
        assert_eq!(forced.after.presence, Presence::Offline);
        assert_eq!(forced.after.skills, forced.before.skills, "skills are kept");
        assert!(forced.synced);
        let outbox = store.outbox().await.unwrap();
        assert!(matches!(
            outbox[0].command,
            Command::SyncWorker {
                reject_pending_reservations: true,
                ..
            }
        ));

        // Already offline: no sync and no history, only the hold is over.
        let again = force_offline(&store, &ana.phone, now, None)
            .await
            .unwrap()
            .unwrap();
        assert!(!again.synced);
        assert_eq!(again.after.presence, Presence::Offline);
        assert_eq!(again.after.hold_version, again.before.hold_version + 1);
        assert_eq!(store.outbox().await.unwrap().len(), 1);
        let history = store.history(&ana.phone).await.unwrap();
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
        let catalog =
            crate::core::domain::catalog::Catalog::new(vec![crate::core::domain::catalog::Skill {
                key: crate::core::domain::SkillKey::parse("billing").unwrap(),
                names: Default::default(),
            }]);
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
        assert_eq!(
            force_offline(&store, &nobody, now, None).await.unwrap(),
            None
        );
        assert!(store.worker(&nobody).await.unwrap().is_none());
    }
}
