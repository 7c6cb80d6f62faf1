//! One contract for every store backend: each test below runs against sled (in a temporary
//! directory) and against PostgreSQL (in a fresh schema; skipped, loudly, when no server
//! answers outside CI).
//!
//! Idempotency, the outbox's order and claims, timers firing once, concurrent events for
//! one worker: what the service relies on, whichever backend holds the state.

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::pg::TestDatabase;
use shiftline::core::callback::{CallbackRecord, Status};
use shiftline::core::dispatch::{Assignment, DispatchSettings, assign};
use shiftline::core::domain::{CallSid, Locale, PhoneNumber, ReservationSid, TaskSid, WorkerSid};
use shiftline::core::effects::{Activity, Command, TimerEvent, WorkerAttributes, WorkerSpec};
use shiftline::core::intake::PinUpdate;
use shiftline::core::intake::enrol::PinAttempts;
use shiftline::core::intake::machines::Presence;
use shiftline::core::intake::record::{Source, WorkerRecord};
use shiftline::store::{
    Applied, CallbackChange, CallbackUnit, Claim, DispatchChange, DispatchUnit, PgStore, SledStore,
    Store, TimerId, Via, VoicemailRecord, WorkerChange, WorkerUnit,
};

/// Runs `$body(store)` on each backend.
macro_rules! contract {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sled() {
                let dir = tempfile::tempdir().unwrap();
                let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
                ($body)(store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = TestDatabase::create().await else {
                    return;
                };
                let store: Arc<dyn Store> = Arc::new(PgStore::open(&db.url).await.unwrap());
                ($body)(store).await;
            }
        }
    };
}

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap() + TimeDelta::seconds(secs)
}

fn phone(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1555800{n:04}")).unwrap()
}

fn worker(n: u32) -> WorkerRecord {
    WorkerRecord::new(
        phone(n),
        format!("W{n}"),
        Locale::En,
        vec![Locale::En],
        chrono_tz::America::Chicago,
        Source::Config,
        t(0),
    )
}

fn sync(n: u32, activity: Activity) -> Command {
    Command::SyncWorker {
        spec: WorkerSpec {
            phone: phone(n),
            name: format!("W{n}"),
            activity,
            attributes: WorkerAttributes {
                skills: vec![],
                contact_uri: phone(n).to_string(),
                languages: vec!["en".into()],
            },
        },
        reject_pending_reservations: false,
    }
}

fn text(n: u32, body: &str) -> Command {
    Command::SendSms {
        to: phone(n),
        body: body.into(),
    }
}

fn redirect(call: u32) -> Command {
    Command::RedirectCall {
        call_sid: CallSid::parse(&format!("CA{call:032x}")).unwrap(),
        path: "/twilio/voice/voicemail/start".into(),
    }
}

/// A unit for worker `n` that puts `record` with `commands`, replying `reply`.
fn put(
    n: u32,
    event: Option<&str>,
    now: DateTime<Utc>,
    record: WorkerRecord,
    commands: Vec<Command>,
    reply: &str,
) -> WorkerUnit {
    let reply = reply.to_string();
    WorkerUnit {
        phone: phone(n),
        event_id: event.map(str::to_string),
        now,
        via: Via::Sms,
        timer: None,
        decide: Box::new(move |old, _| WorkerChange {
            reply: reply.clone(),
            ..WorkerChange::put(old, record.clone(), commands.clone())
        }),
    }
}

fn bodies(claim: &Claim) -> Vec<String> {
    claim
        .entries
        .iter()
        .map(|e| match &e.command {
            Command::SendSms { body, .. } => body.clone(),
            other => other.describe(),
        })
        .collect()
}

contract!(
    a_retried_event_gets_the_stored_reply_and_changes_nothing,
    |store: Arc<dyn Store>| async move {
        let mut online = worker(1);
        online.presence = Presence::Online;
        let first = store
            .apply_worker(put(
                1,
                Some("SM1"),
                t(0),
                online.clone(),
                vec![text(1, "hi")],
                "You're online",
            ))
            .await
            .unwrap();
        assert!(matches!(first, Applied::Fresh { ref outbox, .. } if outbox.len() == 1));
        // The same webhook again, deciding something else: answered from the first reply.
        let again = store
            .apply_worker(put(
                1,
                Some("SM1"),
                t(5),
                worker(1),
                vec![text(1, "bye")],
                "other",
            ))
            .await
            .unwrap();
        assert_eq!(
            again,
            Applied::Replayed {
                reply: "You're online".into()
            }
        );
        assert_eq!(store.worker(&phone(1)).await.unwrap(), Some(online));
        assert_eq!(store.outbox().await.unwrap().len(), 1);
    }
);

contract!(an_unknown_number_leaves_no_trace, |store: Arc<
    dyn Store,
>| async move {
    let unit = |reply: &str| {
        let reply = reply.to_string();
        WorkerUnit {
            phone: phone(9),
            event_id: Some("SM9".into()),
            now: t(0),
            via: Via::Sms,
            timer: None,
            decide: Box::new(move |_, _| WorkerChange {
                reply: reply.clone(),
                ..WorkerChange::none()
            }),
        }
    };
    assert!(matches!(
        store.apply_worker(unit("who?")).await.unwrap(),
        Applied::Fresh { .. }
    ));
    // Not remembered: nothing about this number is kept, so the retry is decided afresh.
    let again = store.apply_worker(unit("who, again?")).await.unwrap();
    assert_eq!(again.reply(), "who, again?");
    assert!(!matches!(again, Applied::Replayed { .. }));
    assert!(store.workers().await.unwrap().is_empty());
});

contract!(
    pins_are_counted_and_cleared,
    |store: Arc<dyn Store>| async move {
        let attempts = PinAttempts {
            failures: 2,
            window_start: t(0),
        };
        let set = attempts.clone();
        store
            .apply_worker(WorkerUnit {
                phone: phone(3),
                event_id: Some("SMp1".into()),
                now: t(0),
                via: Via::Sms,
                timer: None,
                decide: Box::new(move |_, _| WorkerChange {
                    pins: PinUpdate::Set(set.clone()),
                    ..WorkerChange::none()
                }),
            })
            .await
            .unwrap();
        let seen = Arc::new(std::sync::Mutex::new(None));
        let seen_in = seen.clone();
        store
            .apply_worker(WorkerUnit {
                phone: phone(3),
                event_id: Some("SMp2".into()),
                now: t(1),
                via: Via::Sms,
                timer: None,
                decide: Box::new(move |_, pins| {
                    *seen_in.lock().unwrap() = pins.cloned();
                    WorkerChange {
                        pins: PinUpdate::Clear,
                        ..WorkerChange::none()
                    }
                }),
            })
            .await
            .unwrap();
        assert_eq!(seen.lock().unwrap().clone(), Some(attempts));
        let after = Arc::new(std::sync::Mutex::new(Some(PinAttempts {
            failures: 99,
            window_start: t(0),
        })));
        let after_in = after.clone();
        store
            .apply_worker(WorkerUnit {
                phone: phone(3),
                event_id: Some("SMp3".into()),
                now: t(2),
                via: Via::Sms,
                timer: None,
                decide: Box::new(move |_, pins| {
                    *after_in.lock().unwrap() = pins.cloned();
                    WorkerChange::none()
                }),
            })
            .await
            .unwrap();
        assert_eq!(*after.lock().unwrap(), None, "cleared");
    }
);

contract!(
    history_notes_each_presence_change_with_its_source,
    |store: Arc<dyn Store>| async move {
        store
            .apply_worker(put(4, Some("a"), t(0), worker(4), vec![], ""))
            .await
            .unwrap();
        let mut online = worker(4);
        online.presence = Presence::Online;
        store
            .apply_worker(put(4, Some("b"), t(10), online.clone(), vec![], ""))
            .await
            .unwrap();
        let mut renamed = online.clone();
        renamed.name = "Renamed".into();
        store
            .apply_worker(put(4, Some("c"), t(20), renamed, vec![], ""))
            .await
            .unwrap();
        let history = store.history(&phone(4)).await.unwrap();
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(
            (history[0].from.as_str(), history[0].to.as_str()),
            ("offline", "online")
        );
        assert_eq!(history[0].at, t(10));
        assert_eq!(history[0].via, Via::Sms);
    }
);

// A worker toggling every 5 minutes from 15:00 UTC to past midnight: more changes in one
// day than sled keeps in a day's list (the rest get keys of their own), then a new day.
contract!(a_busy_day_keeps_every_change_in_order, |store: Arc<
    dyn Store,
>| async move {
    let changes = 150;
    let mut record = worker(5);
    let mut previous = None;
    for i in 0..=changes {
        record.presence = match i % 2 {
            0 => Presence::Offline,
            _ => Presence::Online,
        };
        let id = format!("toggle{i}");
        let at = t(i * 300);
        store
            .apply_worker(put(5, Some(&id), at, record.clone(), vec![], ""))
            .await
            .unwrap();
        previous = Some(at);
    }
    let history = store.history(&phone(5)).await.unwrap();
    assert_eq!(
        history.len(),
        changes as usize,
        "the first put only creates"
    );
    for (i, change) in history.iter().enumerate() {
        let i = i as i64 + 1;
        assert_eq!(change.at, t(i * 300), "in the order they happened");
        let to = if i % 2 == 1 { "online" } else { "offline" };
        assert_eq!(change.to, to, "change {i}");
    }
    assert_eq!(history.last().map(|c| c.at), previous);
});

contract!(timers_come_due_in_order_and_fire_once, |store: Arc<
    dyn Store,
>| async move {
    let timer = |due: i64| Command::Timer {
        worker: phone(5),
        due: t(due),
        event: TimerEvent::CoolDownOver,
    };
    store
        .apply_worker(put(
            5,
            Some("t"),
            t(0),
            worker(5),
            vec![timer(30), timer(10), timer(20)],
            "",
        ))
        .await
        .unwrap();
    assert_eq!(store.next_due().await.unwrap(), Some(t(10)));
    let due = store.due_timers(t(25), 10).await.unwrap();
    assert_eq!(
        due.iter().map(|d| d.due).collect::<Vec<_>>(),
        vec![t(10), t(20)]
    );
    let fire = |id: TimerId| WorkerUnit {
        phone: phone(5),
        event_id: None,
        now: t(25),
        via: Via::Schedule,
        timer: Some(id),
        decide: Box::new(|old, _| {
            let mut record = old.cloned().unwrap();
            record.missed_calls += 1;
            WorkerChange::put(old, record, vec![])
        }),
    };
    let first = store.apply_worker(fire(due[0].key())).await.unwrap();
    assert!(matches!(first, Applied::Fresh { .. }));
    let twice = store.apply_worker(fire(due[0].key())).await.unwrap();
    assert!(
        matches!(twice, Applied::Replayed { .. }),
        "a timer fires once"
    );
    assert_eq!(
        store.worker(&phone(5)).await.unwrap().unwrap().missed_calls,
        1
    );
    let left = store.timers().await.unwrap();
    assert_eq!(
        left.iter().map(|d| d.due).collect::<Vec<_>>(),
        vec![t(20), t(30)]
    );
});

contract!(
    claims_go_urgent_first_keep_lane_order_and_are_exclusive,
    |store: Arc<dyn Store>| async move {
        // Two texts to one recipient, a sync run for worker 2, then a redirect (urgent).
        store
            .enqueue("e1", vec![text(1, "first"), text(1, "second")], t(0))
            .await
            .unwrap();
        store
            .enqueue(
                "e2",
                vec![sync(2, Activity::Available), sync(2, Activity::Offline)],
                t(0),
            )
            .await
            .unwrap();
        store.enqueue("e3", vec![redirect(1)], t(1)).await.unwrap();
        assert!(
            !store.enqueue("e3", vec![redirect(1)], t(1)).await.unwrap(),
            "once per event id"
        );

        let first = store.claim(t(2), 1).await.unwrap();
        assert_eq!(first.len(), 1);
        assert!(first[0].urgent, "the redirect goes first");
        let rest = store.claim(t(2), 10).await.unwrap();
        assert_eq!(rest.len(), 2, "each lane once: {rest:?}");
        assert!(
            store.claim(t(2), 10).await.unwrap().is_empty(),
            "claimed lanes are taken"
        );
        let texts = rest.iter().find(|c| c.lane.starts_with("sms:")).unwrap();
        assert_eq!(
            bodies(texts),
            vec!["first"],
            "a text goes alone, oldest first"
        );
        let syncs = rest.iter().find(|c| !c.lane.starts_with("sms:")).unwrap();
        assert_eq!(
            syncs.entries.len(),
            1,
            "the newer sync superseded the older"
        );
        assert_eq!(syncs.entries[0].command, sync(2, Activity::Offline));

        store.delivered(texts).await.unwrap();
        store.delivered(syncs).await.unwrap();
        store.release(&first[0]).await.unwrap();
        let next = store.claim(t(2), 10).await.unwrap();
        let lanes: Vec<(bool, Vec<String>)> = next.iter().map(|c| (c.urgent, bodies(c))).collect();
        assert_eq!(lanes.len(), 2, "{lanes:?}");
        assert!(lanes[0].0, "the released redirect is still first");
        assert_eq!(lanes[1].1, vec!["second"]);
        for claim in &next {
            store.delivered(claim).await.unwrap();
        }
        assert!(store.outbox().await.unwrap().is_empty());
        assert_eq!(store.next_due().await.unwrap(), None);
    }
);

fn rejecting(command: Command) -> Command {
    match command {
        Command::SyncWorker { spec, .. } => Command::SyncWorker {
            spec,
            reject_pending_reservations: true,
        },
        other => other,
    }
}

/// Worker 2's waiting commands, oldest first, as (id, activity or "reject", rejects).
async fn lane_two(store: &dyn Store) -> Vec<(u64, String, bool)> {
    store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.command.lane() == phone(2).to_string())
        .map(|e| match e.command {
            Command::SyncWorker {
                spec,
                reject_pending_reservations,
            } => (
                e.id,
                format!("{:?}", spec.activity),
                reject_pending_reservations,
            ),
            _ => (e.id, "reject".into(), false),
        })
        .collect()
}

contract!(
    a_new_sync_supersedes_the_untried_syncs_waiting_but_not_a_claimed_or_failed_one,
    |store: Arc<dyn Store>| async move {
        let pending =
            |store: Arc<dyn Store>| async move { store.outbox_stats(t(0)).await.unwrap().pending };
        store
            .enqueue("s1", vec![sync(2, Activity::Available)], t(0))
            .await
            .unwrap();
        store
            .enqueue("s2", vec![rejecting(sync(2, Activity::Offline))], t(1))
            .await
            .unwrap();
        store
            .enqueue("s3", vec![sync(2, Activity::Offline)], t(2))
            .await
            .unwrap();
        let waiting = lane_two(store.as_ref()).await;
        assert_eq!(
            waiting
                .iter()
                .map(|w| (w.1.as_str(), w.2))
                .collect::<Vec<_>>(),
            vec![("Offline", true)],
            "one sync, the newest state, still rejecting what the superseded one would have"
        );
        let first_id = waiting[0].0;
        assert_eq!(pending(store.clone()).await, 1);

        // While the lane is being delivered, its claimed sync stays; later ones supersede
        // each other.
        let claim = store.claim(t(3), 10).await.unwrap().remove(0);
        assert_eq!(claim.ids(), vec![first_id]);
        store
            .enqueue("s4", vec![sync(2, Activity::Available)], t(4))
            .await
            .unwrap();
        store
            .enqueue("s5", vec![sync(2, Activity::Offline)], t(5))
            .await
            .unwrap();
        let waiting = lane_two(store.as_ref()).await;
        assert_eq!(waiting.len(), 2, "{waiting:?}");
        assert_eq!(waiting[0].0, first_id);
        assert_eq!(
            (waiting[1].1.as_str(), waiting[1].2),
            ("Offline", false),
            "a worker going online then offline rejects nothing"
        );

        // A sync that failed keeps its backoff: it is not superseded, the untried one is.
        store.retry(&claim, t(60), "Twilio 503").await.unwrap();
        store
            .enqueue("s6", vec![sync(2, Activity::Available)], t(6))
            .await
            .unwrap();
        let waiting = lane_two(store.as_ref()).await;
        assert_eq!(
            waiting.iter().map(|w| w.1.as_str()).collect::<Vec<_>>(),
            vec!["Offline", "Available"]
        );
        assert_eq!(waiting[0].0, first_id);

        // Nothing is superseded across another command of the lane.
        let reject = Command::RejectReservation {
            task_sid: TaskSid::parse(&format!("WT{:032x}", 1)).unwrap(),
            reservation_sid: ReservationSid::parse(&format!("WR{:032x}", 1)).unwrap(),
            worker: phone(2),
        };
        store.enqueue("r", vec![reject], t(7)).await.unwrap();
        store
            .enqueue("s7", vec![sync(2, Activity::Offline)], t(8))
            .await
            .unwrap();
        let waiting = lane_two(store.as_ref()).await;
        assert_eq!(
            waiting.iter().map(|w| w.1.as_str()).collect::<Vec<_>>(),
            vec!["Offline", "Available", "reject", "Offline"]
        );
        assert_eq!(pending(store.clone()).await, 4);

        // Delivered in order (the two syncs at the head as one run), the lane empties and
        // nothing is counted.
        let mut runs = Vec::new();
        for at in [61, 62, 63] {
            let claims = store.claim(t(at), 10).await.unwrap();
            assert_eq!(claims.len(), 1, "{claims:?}");
            runs.push(claims[0].entries.len());
            store.delivered(&claims[0]).await.unwrap();
        }
        assert_eq!(runs, vec![2, 1, 1]);
        assert_eq!(pending(store.clone()).await, 0);
        assert!(store.outbox().await.unwrap().is_empty());
    }
);

contract!(
    syncs_go_before_texts_and_customers_before_both,
    |store: Arc<dyn Store>| async move {
        store
            .enqueue("t", vec![text(1, "shift started")], t(0))
            .await
            .unwrap();
        store
            .enqueue("s", vec![sync(2, Activity::Available)], t(1))
            .await
            .unwrap();
        store.enqueue("r", vec![redirect(3)], t(2)).await.unwrap();
        let claims = store.claim(t(3), 10).await.unwrap();
        let kinds: Vec<&str> = claims
            .iter()
            .map(|c| match c.entries[0].command {
                Command::RedirectCall { .. } => "redirect",
                Command::SyncWorker { .. } => "sync",
                _ => "text",
            })
            .collect();
        assert_eq!(kinds, vec!["redirect", "sync", "text"]);
        for claim in &claims {
            store.release(claim).await.unwrap();
        }
        let paused = store
            .claim_upto(t(3), 10, shiftline::core::effects::Priority::Customer)
            .await
            .unwrap();
        assert_eq!(paused.len(), 1, "only what a customer waits on");
        assert!(paused[0].urgent);
    }
);

contract!(
    a_retry_waits_and_holds_its_lane_and_a_park_moves_out,
    |store: Arc<dyn Store>| async move {
        store
            .enqueue("e", vec![text(1, "a"), text(1, "b"), text(2, "c")], t(0))
            .await
            .unwrap();
        let claims = store.claim(t(0), 10).await.unwrap();
        let one = claims.iter().find(|c| bodies(c) == ["a"]).unwrap();
        let two = claims.iter().find(|c| bodies(c) == ["c"]).unwrap();
        store.retry(one, t(30), "Twilio 503").await.unwrap();
        store
            .park(two, "Twilio 400: bad number", t(0))
            .await
            .unwrap();

        assert!(
            store.claim(t(10), 10).await.unwrap().is_empty(),
            "b waits behind a"
        );
        assert_eq!(store.next_due().await.unwrap(), Some(t(30)));
        let stats = store.outbox_stats(t(1)).await.unwrap();
        assert_eq!(
            (stats.pending, stats.parked, stats.failing_since),
            (2, 1, 1)
        );
        let parked = store.parked().await.unwrap();
        assert_eq!(parked[0].error, "Twilio 400: bad number");

        let later = store.claim(t(30), 10).await.unwrap();
        assert_eq!(bodies(&later[0]), vec!["a"]);
        assert_eq!(later[0].entries[0].attempts, 1);
        assert_eq!(
            later[0].entries[0].last_error.as_deref(),
            Some("Twilio 503")
        );
    }
);

contract!(
    one_workers_concurrent_events_apply_one_at_a_time,
    |store: Arc<dyn Store>| async move {
        store
            .apply_worker(put(6, None, t(0), worker(6), vec![], ""))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..24 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .apply_worker(WorkerUnit {
                        phone: phone(6),
                        event_id: Some(format!("SMc{i}")),
                        now: t(i),
                        via: Via::Sms,
                        timer: None,
                        decide: Box::new(|old, _| {
                            let mut record = old.cloned().unwrap();
                            record.missed_calls += 1;
                            WorkerChange::put(old, record, vec![])
                        }),
                    })
                    .await
                    .unwrap()
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let record = store.worker(&phone(6)).await.unwrap().unwrap();
        assert_eq!(record.missed_calls, 24, "no event's change is lost");
    }
);

contract!(
    a_dispatch_event_writes_its_record_and_worker_once,
    |store: Arc<dyn Store>| async move {
        store
            .apply_worker(put(7, None, t(0), worker(7), vec![], ""))
            .await
            .unwrap();
        let assignment = Assignment {
            callback: None,
            reservation_sid: ReservationSid::parse(&format!("WR{:032x}", 7)).unwrap(),
            task_sid: TaskSid::parse(&format!("WT{:032x}", 7)).unwrap(),
            worker_sid: WorkerSid::parse(&format!("WK{:032x}", 7)).unwrap(),
            worker: phone(7),
            skill: None,
            language: None,
            caller: "+15559990000".into(),
            caller_city: None,
        };
        let unit = |event: &str| {
            let assignment = assignment.clone();
            DispatchUnit {
                reservation_sid: assignment.reservation_sid.to_string(),
                worker: phone(7),
                event_id: event.to_string(),
                now: t(1),
                decide: Box::new(move |existing, worker| {
                    let Some((record, command)) = assign(
                        &assignment,
                        existing,
                        worker,
                        t(1),
                        &DispatchSettings::default(),
                        Locale::En,
                    ) else {
                        return DispatchChange::none();
                    };
                    let mut busy = worker.cloned().unwrap();
                    busy.presence = Presence::CoolDown;
                    DispatchChange {
                        record: Some(record),
                        worker: Some(busy),
                        commands: vec![command],
                        reply: "{}".into(),
                    }
                }),
            }
        };
        store.apply_dispatch(unit("assign-1")).await.unwrap();
        let again = store.apply_dispatch(unit("assign-1")).await.unwrap();
        assert_eq!(again, Applied::Replayed { reply: "{}".into() });
        let records = store.dispatch_records().await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            store
                .dispatch_record(records[0].reservation_sid.as_str())
                .await
                .unwrap(),
            Some(records[0].clone())
        );
        assert_eq!(
            store.worker(&phone(7)).await.unwrap().unwrap().presence,
            Presence::CoolDown
        );
        assert_eq!(
            store.history(&phone(7)).await.unwrap()[0].via,
            Via::Dispatch
        );
        let claim = store.claim(t(1), 10).await.unwrap();
        assert!(
            claim[0].urgent && matches!(claim[0].entries[0].command, Command::PlaceCall { .. })
        );
    }
);

contract!(a_voicemail_is_stored_once_with_its_notices, |store: Arc<
    dyn Store,
>| async move {
    let voicemail = |at: i64| VoicemailRecord {
        recording_sid: format!("RE{at:032x}"),
        call_sid: format!("CA{at:032x}"),
        caller: "+15559990000".into(),
        skill: Some("billing".into()),
        recording_url: "https://api.twilio.com/recordings/RE1".into(),
        duration_secs: 30,
        at: t(at),
    };
    assert!(
        store
            .add_voicemail(voicemail(2), vec![text(9, "new voicemail")], t(2))
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_voicemail(voicemail(2), vec![text(9, "again")], t(3))
            .await
            .unwrap()
    );
    assert!(
        store
            .add_voicemail(voicemail(1), vec![], t(4))
            .await
            .unwrap()
    );
    let stored = store.voicemails().await.unwrap();
    assert_eq!(
        stored.iter().map(|v| v.at).collect::<Vec<_>>(),
        vec![t(1), t(2)],
        "oldest first"
    );
    assert_eq!(store.outbox().await.unwrap().len(), 1);
});

contract!(
    old_handled_events_are_forgotten,
    |store: Arc<dyn Store>| async move {
        store
            .apply_worker(put(8, Some("old"), t(0), worker(8), vec![], "then"))
            .await
            .unwrap();
        store
            .apply_worker(put(8, Some("new"), t(100), worker(8), vec![], "now"))
            .await
            .unwrap();
        assert_eq!(store.prune_seen(t(50)).await.unwrap(), 1);
        let replay = store
            .apply_worker(put(8, Some("new"), t(101), worker(8), vec![], "x"))
            .await
            .unwrap();
        assert_eq!(
            replay,
            Applied::Replayed {
                reply: "now".into()
            }
        );
        let fresh = store
            .apply_worker(put(8, Some("old"), t(101), worker(8), vec![], "x"))
            .await
            .unwrap();
        assert_eq!(fresh.reply(), "x", "forgotten, so decided afresh");
    }
);

contract!(
    a_worker_leaves_the_roster,
    |store: Arc<dyn Store>| async move {
        let mut online = worker(2);
        online.presence = Presence::Online;
        store
            .apply_worker(put(2, None, t(0), online.clone(), vec![], ""))
            .await
            .unwrap();
        let mut last = online.clone();
        last.presence = Presence::Offline;
        store
            .apply_worker(WorkerUnit {
                phone: phone(2),
                event_id: None,
                now: t(5),
                via: Via::Operator,
                timer: None,
                decide: Box::new(move |_, _| WorkerChange {
                    record: shiftline::store::RecordChange::Delete(last.clone()),
                    ..WorkerChange::none()
                }),
            })
            .await
            .unwrap();
        assert_eq!(store.worker(&phone(2)).await.unwrap(), None);
        let history = store.history(&phone(2)).await.unwrap();
        assert_eq!(history.last().map(|h| h.via), Some(Via::Operator));
    }
);

/// A unit for callback `id` that stores `record` (None: keeps it) with `commands`.
fn callback_unit(
    id: &str,
    event: &str,
    now: DateTime<Utc>,
    record: Option<CallbackRecord>,
    commands: Vec<Command>,
    reply: &str,
) -> CallbackUnit {
    let reply = reply.to_string();
    CallbackUnit {
        id: id.into(),
        event_id: event.into(),
        now,
        decide: Box::new(move |_| CallbackChange {
            record: record.clone(),
            commands: commands.clone(),
            reply: reply.clone(),
        }),
    }
}

contract!(
    a_callback_event_is_stored_once_and_updates_its_record,
    |store: Arc<dyn Store>| async move {
        let asked = common::waiting_callback("CA1", t(0));
        let first = store
            .apply_callback(callback_unit(
                "CA1",
                "cb-1",
                t(0),
                Some(asked.clone()),
                vec![common::create_task("CA1", None)],
                "queued",
            ))
            .await
            .unwrap();
        let Applied::Fresh {
            reply,
            outbox,
            before,
            after,
        } = first
        else {
            panic!("fresh: {first:?}");
        };
        assert_eq!((reply.as_str(), outbox.len()), ("queued", 1));
        assert_eq!((before, after), (None, None), "no worker records");
        assert_eq!(store.callback("CA1").await.unwrap(), Some(asked.clone()));
        assert_eq!(store.callback("CA2").await.unwrap(), None);

        // The same webhook again, deciding something else: answered from the first reply.
        let mut other = asked.clone();
        other.customer = "+15550000000".into();
        let again = store
            .apply_callback(callback_unit(
                "CA1",
                "cb-1",
                t(5),
                Some(other),
                vec![common::create_task("CA1", None)],
                "other",
            ))
            .await
            .unwrap();
        assert_eq!(
            again,
            Applied::Replayed {
                reply: "queued".into()
            }
        );
        assert_eq!(store.callback("CA1").await.unwrap(), Some(asked.clone()));
        assert_eq!(store.outbox().await.unwrap().len(), 1);

        // The next event sees the stored record and changes it.
        let task_sid = TaskSid::parse(&format!("WT{:032x}", 1)).unwrap();
        let reservation_sid = ReservationSid::parse(&format!("WR{:032x}", 1)).unwrap();
        let mut calling = asked.clone();
        calling.status = Status::Calling;
        calling.task_sid = Some(task_sid.clone());
        calling.reservation_sid = Some(reservation_sid.clone());
        calling.updated_at = t(10);
        let seen = Arc::new(std::sync::Mutex::new(None));
        let (seen_in, next) = (seen.clone(), calling.clone());
        let accept = Command::AcceptReservation {
            task_sid,
            reservation_sid,
        };
        let commands = vec![accept.clone()];
        let updated = store
            .apply_callback(CallbackUnit {
                id: "CA1".into(),
                event_id: "cb-2".into(),
                now: t(10),
                decide: Box::new(move |old| {
                    *seen_in.lock().unwrap() = old.cloned();
                    CallbackChange {
                        record: Some(next.clone()),
                        commands: commands.clone(),
                        reply: "{}".into(),
                    }
                }),
            })
            .await
            .unwrap();
        assert!(matches!(updated, Applied::Fresh { ref outbox, .. } if outbox.len() == 1));
        assert_eq!(seen.lock().unwrap().clone(), Some(asked));
        assert_eq!(store.callback("CA1").await.unwrap(), Some(calling.clone()));
        let outbox = store.outbox().await.unwrap();
        assert_eq!(outbox.len(), 2);
        assert_eq!(outbox[1].command, accept);
        assert_eq!(store.callbacks().await.unwrap(), vec![calling.clone()]);

        // An event that changes nothing is still remembered with its reply.
        let none = |reply: &str| {
            let reply = reply.to_string();
            CallbackUnit {
                id: "CA1".into(),
                event_id: "cb-3".into(),
                now: t(20),
                decide: Box::new(move |_| CallbackChange {
                    reply: reply.clone(),
                    ..CallbackChange::none()
                }),
            }
        };
        assert_eq!(
            store.apply_callback(none("late")).await.unwrap().reply(),
            "late"
        );
        assert_eq!(
            store.apply_callback(none("again")).await.unwrap(),
            Applied::Replayed {
                reply: "late".into()
            }
        );
        assert_eq!(store.callback("CA1").await.unwrap(), Some(calling));
        assert_eq!(store.outbox().await.unwrap().len(), 2);
    }
);

contract!(
    a_delayed_command_waits_in_the_outbox_until_it_is_due,
    |store: Arc<dyn Store>| async move {
        // A new lane whose first command is meant for later, beside one for now.
        store
            .apply_callback(callback_unit(
                "CA1",
                "cb-1",
                t(0),
                Some(common::waiting_callback("CA1", t(0))),
                vec![common::create_task("CA1", Some(t(600))), text(1, "now")],
                "",
            ))
            .await
            .unwrap();
        let waiting = store.outbox().await.unwrap();
        assert_eq!(waiting[0].not_before, Some(t(600)));
        assert_eq!(waiting[1].not_before, None);
        let now = store.claim(t(0), 10).await.unwrap();
        assert_eq!(now.len(), 1, "only the text: {now:?}");
        assert_eq!(bodies(&now[0]), vec!["now"]);
        store.delivered(&now[0]).await.unwrap();
        assert_eq!(store.next_due().await.unwrap(), Some(t(600)));
        assert!(store.claim(t(599), 10).await.unwrap().is_empty());

        // An existing lane keeps its head's time: a command for now waits behind it.
        store
            .apply_callback(callback_unit(
                "CA1",
                "cb-2",
                t(1),
                None,
                vec![common::create_task("CA1", None)],
                "",
            ))
            .await
            .unwrap();
        assert!(store.claim(t(2), 10).await.unwrap().is_empty());
        assert_eq!(store.next_due().await.unwrap(), Some(t(600)));

        let due = store.claim(t(600), 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].entries.len(), 1);
        assert!(matches!(
            due[0].entries[0].command,
            Command::CreateTask { not_before: Some(at), .. } if at == t(600)
        ));
        store.delivered(&due[0]).await.unwrap();
        let next = store.claim(t(600), 10).await.unwrap();
        assert!(matches!(
            next[0].entries[0].command,
            Command::CreateTask {
                not_before: None,
                ..
            }
        ));
        store.delivered(&next[0]).await.unwrap();
        assert_eq!(store.next_due().await.unwrap(), None);

        // A lane that emptied and fills again with a command for later waits for it too.
        store
            .apply_callback(callback_unit(
                "CA1",
                "cb-3",
                t(700),
                None,
                vec![common::create_task("CA1", Some(t(900)))],
                "",
            ))
            .await
            .unwrap();
        assert!(store.claim(t(899), 10).await.unwrap().is_empty());
        assert_eq!(store.next_due().await.unwrap(), Some(t(900)));
        assert_eq!(store.claim(t(900), 10).await.unwrap().len(), 1);
    }
);

contract!(callbacks_are_listed_oldest_request_first, |store: Arc<
    dyn Store,
>| async move {
    for (id, at) in [("CA-b", 30), ("CA-z", 10), ("CA-a", 10), ("CA-c", 20)] {
        store
            .apply_callback(callback_unit(
                id,
                &format!("ask-{id}"),
                t(at),
                Some(common::waiting_callback(id, t(at))),
                vec![],
                "",
            ))
            .await
            .unwrap();
    }
    let listed = store.callbacks().await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec!["CA-a", "CA-z", "CA-c", "CA-b"]
    );
    let snapshot = store.export().await.unwrap();
    assert_eq!(snapshot.callbacks, listed, "exported in the same order");
});

/// Only the shared backend has more than one instance.
mod two_instances {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn claim_disjoint_lanes_and_take_over_a_dead_ones_after_its_lease() {
        let Some(db) = TestDatabase::create().await else {
            return;
        };
        let a = PgStore::open(&db.url).await.unwrap();
        let b = PgStore::open(&db.url).await.unwrap();
        let commands: Vec<Command> = (0..40).map(|n| text(n, "hello")).collect();
        a.enqueue("burst", commands, t(0)).await.unwrap();
        let (from_a, from_b) = tokio::join!(a.claim(t(0), 25), b.claim(t(0), 25));
        let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
        assert_eq!(from_a.len() + from_b.len(), 40);
        let mut lanes: Vec<&str> = from_a
            .iter()
            .chain(&from_b)
            .map(|c| c.lane.as_str())
            .collect();
        lanes.sort();
        lanes.dedup();
        assert_eq!(lanes.len(), 40, "no lane claimed twice");

        // `a` dies holding its claims: `b` takes them once the lease has run out, not before.
        let lease = shiftline::store::postgres::LEASE;
        b.keep_claims(t(0) + lease / 2).await.unwrap();
        assert!(b.claim(t(0) + lease / 2, 100).await.unwrap().is_empty());
        let taken = b.claim(t(1) + lease, 100).await.unwrap();
        assert_eq!(taken.len(), from_a.len(), "a's lanes, and only those");
        for claim in taken.iter().chain(&from_b) {
            b.delivered(claim).await.unwrap();
        }
        assert!(b.outbox().await.unwrap().is_empty());
    }

    /// Two instances claiming and finishing while commands keep arriving in the same few
    /// lanes, as at a shift start: every command is carried out exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_instances_claiming_at_once_never_carry_out_one_command_twice() {
        let Some(db) = TestDatabase::create().await else {
            return;
        };
        const LANES: u32 = 6;
        const PER_LANE: u32 = 60;
        let stores = [
            Arc::new(PgStore::open(&db.url).await.unwrap()),
            Arc::new(PgStore::open(&db.url).await.unwrap()),
        ];
        let done = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
        let written = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (store, written) = (stores[0].clone(), written.clone());
            tokio::spawn(async move {
                for k in 0..PER_LANE {
                    for n in 0..LANES {
                        let command = if k % 2 == 0 {
                            sync(n, Activity::Available)
                        } else {
                            text(n, &format!("{k}"))
                        };
                        store
                            .enqueue(&format!("e{n}-{k}"), vec![command], t(0))
                            .await
                            .unwrap();
                    }
                }
                written.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        let mut claimers = Vec::new();
        for c in 0..6 {
            let (store, done, written) = (stores[c % 2].clone(), done.clone(), written.clone());
            claimers.push(tokio::spawn(async move {
                loop {
                    let finished = written.load(std::sync::atomic::Ordering::SeqCst);
                    let claims = store
                        .claim_upto(t(1), 3, shiftline::core::effects::Priority::Notice)
                        .await
                        .unwrap();
                    if claims.is_empty() && finished {
                        return;
                    }
                    for claim in claims {
                        done.lock()
                            .unwrap()
                            .extend(claim.entries.iter().map(|e| e.id));
                        tokio::task::yield_now().await;
                        store.delivered(&claim).await.unwrap();
                    }
                }
            }));
        }
        writer.await.unwrap();
        for claimer in claimers {
            claimer.await.unwrap();
        }
        let mut ids = done.lock().unwrap().clone();
        let carried = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(carried, ids.len(), "a command carried out twice");
        assert_eq!(
            ids.len(),
            (LANES * PER_LANE) as usize,
            "every command carried out"
        );
        assert!(stores[0].outbox().await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrations_run_once_when_two_instances_start_together() {
        let Some(db) = TestDatabase::create().await else {
            return;
        };
        let a = PgStore::connect(&db.url).unwrap();
        let b = PgStore::connect(&db.url).unwrap();
        let (ran_a, ran_b) = tokio::join!(a.migrate(), b.migrate());
        let mut ran = ran_a.unwrap();
        ran.extend(ran_b.unwrap());
        assert_eq!(
            ran,
            vec![1, 2, 3, 4],
            "each migration applied by exactly one of them"
        );
        assert!(a.migrate().await.unwrap().is_empty());
    }
}

/// sled remembers a phone's last few events rather than every id it ever handled (so its
/// memory does not grow with traffic): a retry among them still gets its own reply, and
/// however many texts a worker sends, a bounded few ids are kept for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_keeps_a_few_event_ids_per_phone() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    for i in 0..10 {
        let id = format!("SM{i}");
        let unit = put(3, Some(&id), t(i), worker(3), vec![], &format!("reply {i}"));
        store.apply_worker(unit).await.unwrap();
    }
    for i in [8, 9] {
        let id = format!("SM{i}");
        let retry = put(3, Some(&id), t(20), worker(3), vec![text(3, "x")], "x");
        assert_eq!(
            store.apply_worker(retry).await.unwrap(),
            Applied::Replayed {
                reply: format!("reply {i}")
            }
        );
    }
    assert!(store.outbox().await.unwrap().is_empty());
    let kept = store.export().await.unwrap().seen;
    assert!(kept.len() <= 4, "{} ids kept for one phone", kept.len());
}

/// Ids copied from another store (or written before sled kept them by phone) are still
/// recognised.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_recognises_the_ids_a_copy_brought() {
    let source = tempfile::tempdir().unwrap();
    let store = SledStore::open(source.path()).unwrap();
    let unit = put(4, Some("SMcopied"), t(0), worker(4), vec![], "copied reply");
    store.apply_worker(unit).await.unwrap();
    let snapshot = store.export().await.unwrap();
    drop(store);
    let target = tempfile::tempdir().unwrap();
    let copy = SledStore::open(target.path()).unwrap();
    copy.import(&snapshot).await.unwrap();
    let retry = put(4, Some("SMcopied"), t(5), worker(4), vec![], "other");
    assert_eq!(
        copy.apply_worker(retry).await.unwrap(),
        Applied::Replayed {
            reply: "copied reply".into()
        }
    );
}
