//! `shiftline store copy`: a deployment moves from sled to PostgreSQL and back without
//! losing or changing anything. The state is made the way a business makes it: workers
//! text, set hours, take and miss calls, and a caller leaves a voicemail; callers wait to
//! be called back.

mod common;

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use common::pg::TestDatabase;
use common::{Options, TestApp};
use shiftline::cli::store::{Location, copy};
use shiftline::clock::ManualClock;
use shiftline::core::callback::CallbackRecord;
use shiftline::core::effects::Command;
use shiftline::store::{CallbackChange, CallbackUnit, SledStore, Store};
use twilio_sim::Answer;

fn sid(n: usize) -> String {
    format!("SM{n:032x}")
}

/// Stores `record` (with `commands`) as a callback request's event.
async fn ask(store: &dyn Store, record: CallbackRecord, commands: Vec<Command>) {
    let (id, now) = (record.id.clone(), record.requested_at);
    store
        .apply_callback(CallbackUnit {
            id: id.clone(),
            event_id: format!("ask-{id}"),
            now,
            decide: Box::new(move |_| CallbackChange {
                record: Some(record.clone()),
                commands: commands.clone(),
                reply: "queued".into(),
            }),
        })
        .await
        .unwrap();
}

/// A sled store with some of everything in it (its service still running: the
/// simulator's kept-alive callback connections hold the directory for a while).
async fn a_day_of_state(dir: &std::path::Path) -> TestApp {
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 14, 0, 0).unwrap();
    let app = TestApp::start(dir, Arc::new(ManualClock::new(start)), &Options::set_up()).await;
    let texts = [
        ("+15550001111", "on"),
        ("+15550001111", "1"),
        ("+15550001111", "yes"),
        ("+15550002222", "skills"),
        ("+15550002222", "all"),
        ("+15550002222", "yes"),
        ("+15550002222", "schedule weekdays 9am-5pm"),
        ("+15550002222", "yes"),
    ];
    for (n, (from, text)) in texts.iter().enumerate() {
        app.sms(from, text, &sid(n)).await;
        app.settle().await;
    }
    // Ana misses a call (her voicemail answers), then nobody is left: the caller leaves
    // a voicemail.
    app.sim
        .script_phone("+15550001111", vec![Answer::parse("voicemail").unwrap()]);
    app.sim
        .script_phone("+15559990000", vec![Answer::parse("human:1").unwrap()]);
    let url = format!("{}/twilio/voice/customer", app.public_url());
    let business = app.state.settings.business_number().to_string();
    app.sim.place_call("+15559990000", &business, &url);
    for _ in 0..400 {
        app.clock.advance(TimeDelta::seconds(1));
        app.sim.tick().await;
        app.settle().await;
    }
    // Twilio refuses a change for good: it is parked.
    app.sms("+15550003333", "skills", &sid(10)).await;
    app.sms("+15550003333", "1", &sid(11)).await;
    app.sim.fail_next(400, 1);
    app.sms("+15550003333", "yes", &sid(12)).await;
    app.settle().await;
    // Twilio fails Luis's next change once: it waits in the outbox, backing off.
    app.sim.fail_next(503, 1);
    app.sms("+15550002222", "on", &sid(13)).await;
    app.settle().await;
    // Two callers wait to be called back (their tasks already gone to TaskRouter).
    let now = app.now();
    let store = app.state.store.as_ref();
    ask(store, common::waiting_callback("CA2", now), vec![]).await;
    ask(
        store,
        common::waiting_callback("CA1", now - TimeDelta::seconds(30)),
        vec![],
    )
    .await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_moves_from_sled_to_postgres_and_back_unchanged() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = a_day_of_state(&dir.path().join("original")).await;
    let sled = app.state.store.clone();
    let snapshot = sled.export().await.unwrap();
    assert!(!snapshot.workers.is_empty() && !snapshot.timers.is_empty());
    assert!(!snapshot.dispatch.is_empty() && !snapshot.voicemails.is_empty());
    assert!(!snapshot.parked.is_empty() && !snapshot.seen.is_empty());
    // Luis's change backing off, the voicemail's callback task, which waits for the
    // calling hours (the day starts before 9:00 in Chicago), and its announcement, which
    // waits for the transcription.
    assert!(!snapshot.history.is_empty() && snapshot.outbox.len() == 3);
    assert!(snapshot.outbox.iter().any(|e| e.not_before.is_some()));
    assert_eq!(snapshot.callbacks.len(), 3);

    let postgres = Location::Postgres(db.url.clone()).open(true).await.unwrap();
    let there = copy(sled.as_ref(), postgres.as_ref()).await.unwrap();
    assert_eq!(there.workers, snapshot.workers.len());

    let back = Location::Sled(dir.path().join("back"))
        .open(true)
        .await
        .unwrap();
    copy(postgres.as_ref(), back.as_ref()).await.unwrap();
    assert_eq!(
        back.export().await.unwrap(),
        snapshot,
        "the round trip changes nothing"
    );

    // What waited in the original waits in the copy, each until the same moment.
    let mut waiting: Vec<_> = snapshot.outbox.iter().collect();
    waiting.sort_by_key(|e| e.not_before);
    for entry in waiting {
        let due = entry
            .not_before
            .expect("backing off, or waiting for the calling hours");
        let early = back.claim(due - TimeDelta::seconds(1), 10).await.unwrap();
        assert!(early.iter().all(|c| c.entries[0] != *entry), "{early:?}");
        let claimed = back.claim(due, 10).await.unwrap();
        assert!(
            claimed.iter().any(|c| c.entries[0] == *entry),
            "{claimed:?}"
        );
        for claim in &claimed {
            back.release(claim).await.unwrap();
        }
    }

    // A copy only goes into an empty store.
    let refused = copy(postgres.as_ref(), back.as_ref()).await.unwrap_err();
    assert!(refused.contains("not empty"), "{refused}");

    // The copy goes on where the original stopped: new commands come after the old ones.
    let last = snapshot.last_id();
    back.enqueue(
        "after-copy",
        vec![shiftline::core::effects::Command::SendSms {
            to: shiftline::core::domain::PhoneNumber::parse("+15550001111").unwrap(),
            body: "hello".into(),
        }],
        Utc::now(),
    )
    .await
    .unwrap();
    let newest = back
        .outbox()
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .max()
        .unwrap();
    assert!(newest > last, "{newest} after {last}");
}

/// Callback requests and the tasks they wait to put in TaskRouter go along, and a task
/// meant for later still waits for its time in the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_and_their_delayed_tasks_move_from_sled_to_postgres_and_back() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 22, 0, 0).unwrap();
    let later = start + TimeDelta::hours(11);
    let sled = SledStore::open(&dir.path().join("original")).unwrap();
    ask(
        &sled,
        common::waiting_callback("CA1", start),
        vec![common::create_task("CA1", None)],
    )
    .await;
    // Asked at night: the task goes in when the calling hours open.
    ask(
        &sled,
        common::waiting_callback("CA2", start + TimeDelta::seconds(5)),
        vec![common::create_task("CA2", Some(later))],
    )
    .await;
    let snapshot = sled.export().await.unwrap();
    assert_eq!(snapshot.callbacks.len(), 2);
    assert_eq!(snapshot.outbox.len(), 2);

    let postgres = Location::Postgres(db.url.clone()).open(true).await.unwrap();
    let there = copy(&sled, postgres.as_ref()).await.unwrap();
    assert_eq!(there.callbacks, 2);
    let back = Location::Sled(dir.path().join("back"))
        .open(true)
        .await
        .unwrap();
    copy(postgres.as_ref(), back.as_ref()).await.unwrap();
    assert_eq!(back.export().await.unwrap(), snapshot);
    assert_eq!(
        back.callbacks().await.unwrap(),
        sled.callbacks().await.unwrap()
    );

    for store in [postgres.as_ref(), back.as_ref()] {
        let now = store.claim(start, 10).await.unwrap();
        assert_eq!(now.len(), 1, "only the task for now: {now:?}");
        assert_eq!(now[0].entries[0], snapshot.outbox[0]);
        store.delivered(&now[0]).await.unwrap();
        assert_eq!(store.next_due().await.unwrap(), Some(later));
        let early = later - TimeDelta::seconds(1);
        assert!(store.claim(early, 10).await.unwrap().is_empty());
        let due = store.claim(later, 10).await.unwrap();
        assert_eq!(due[0].entries[0], snapshot.outbox[1]);
    }
}
