//! The outbox against a Twilio that takes real time to answer (the simulator's latency),
//! with several requests in flight: a customer's call is not held behind a burst of syncs,
//! order holds within each lane, and a 429 storm slows the whole outbox down until it
//! passes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use common::{Options, TestApp};
use shiftline::clock::ManualClock;
use shiftline::config::SimulatorRealism;
use shiftline::core::domain::{CallSid, PhoneNumber};
use shiftline::core::effects::{Activity, Command, WorkerAttributes, WorkerSpec};

const CONCURRENCY: usize = 8;

async fn slow_twilio(dir: &std::path::Path, latency_ms: u64, jitter_ms: u64) -> TestApp {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let options = Options {
        concurrency: Some(CONCURRENCY),
        realism: Some(SimulatorRealism {
            latency_ms,
            jitter_ms,
            seed: 7,
            ..SimulatorRealism::default()
        }),
        ..Options::set_up()
    };
    TestApp::start(dir, clock, &options).await
}

fn phone(n: usize) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1555700{n:04}")).unwrap()
}

/// A shift start: every one of `workers` goes Available.
fn shift_start(workers: usize) -> Vec<Command> {
    (0..workers)
        .map(|n| Command::SyncWorker {
            spec: WorkerSpec {
                phone: phone(n),
                name: format!("Worker {n}"),
                activity: Activity::Available,
                attributes: WorkerAttributes {
                    skills: vec!["billing".into()],
                    contact_uri: phone(n).to_string(),
                    languages: vec!["en".into()],
                },
            },
            reject_pending_reservations: false,
        })
        .collect()
}

fn text(to: usize, body: String) -> Command {
    Command::SendSms {
        to: phone(to),
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_call_is_not_held_behind_a_burst_of_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let app = slow_twilio(dir.path(), 20, 0).await;
    let store = app.state.store.clone();
    let now = app.now();
    store
        .enqueue("shift-start", shift_start(300), now)
        .await
        .unwrap();
    let delivery = tokio::spawn(app.delivery.clone().run());
    app.state.outbox_wake.notify_one();

    // Well into the burst, a waiting caller is sent to voicemail.
    let mut seen = Vec::new();
    for _ in 0..500 {
        if seen.len() >= 60 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        seen.extend(app.sim.take_requests());
    }
    assert!(seen.len() >= 60, "the burst is being delivered");
    let caller = CallSid::parse("CA00000000000000000000000000000abc").unwrap();
    let redirect = Command::RedirectCall {
        call_sid: caller,
        path: "/twilio/voice/voicemail/start?skill=billing&lang=en".into(),
    };
    store
        .enqueue("customer", vec![redirect], app.now())
        .await
        .unwrap();
    app.state.outbox_wake.notify_one();
    let before = seen.len();
    let mut waited = 0;
    while !seen.iter().any(|r| r.path.contains("/Calls/")) && waited < 500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        seen.extend(app.sim.take_requests());
        waited += 1;
    }
    delivery.abort();
    let at = seen
        .iter()
        .position(|r| r.path.contains("/Calls/"))
        .expect("the redirect reached Twilio");
    // What was in flight when it was written finishes first: each of the CONCURRENCY
    // slots may be in the middle of a sync, which takes two requests (find the Worker,
    // create it), and this test looks every few milliseconds. Then the redirect takes the
    // first free slot, ahead of the hundreds of syncs still waiting.
    assert!(
        at <= before + 4 * CONCURRENCY,
        "the redirect was request {at}, written after request {before}"
    );
    let syncs_left = store.outbox().await.unwrap().len();
    assert!(
        syncs_left > 100,
        "the burst was still going on ({syncs_left} syncs left)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_holds_within_each_lane_while_lanes_run_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let app = slow_twilio(dir.path(), 5, 25).await;
    // Ten recipients, five numbered texts each, written interleaved.
    let texts: Vec<Command> = (1..=5)
        .flat_map(|n| (0..10).map(move |to| text(to, format!("text {n}"))))
        .collect();
    let store = app.state.store.clone();
    store.enqueue("texts", texts, app.now()).await.unwrap();
    // One Twilio error in five: retries must not let a later text overtake.
    app.sim
        .set_realism(twilio_sim::Realism {
            latency_ms: 5,
            jitter_ms: 25,
            error_rate: 0.2,
            seed: 11,
            ..twilio_sim::Realism::default()
        })
        .unwrap();
    let mut passes = 0;
    while !store.outbox().await.unwrap().is_empty() {
        app.delivery.deliver_due().await.unwrap();
        app.clock.advance(TimeDelta::seconds(2));
        passes += 1;
        assert!(passes < 60, "the outbox never emptied");
    }
    let requests = app.sim.take_requests();
    // One at a time, the first texts would reach Twilio in the order they were taken
    // (recipient 0, 1, 2...); with several in flight and answers of uneven speed they
    // overtake each other across lanes.
    let first_round: Vec<String> = requests
        .iter()
        .take(10)
        .filter_map(|r| {
            r.params
                .iter()
                .find(|(k, _)| k == "To")
                .map(|(_, v)| v.clone())
        })
        .collect();
    let taken_order: Vec<String> = (0..10).map(|to| phone(to).to_string()).collect();
    assert_ne!(first_round, taken_order, "lanes ran concurrently");
    let delivered: Vec<(String, String)> = requests
        .into_iter()
        .filter(|r| r.status == 201)
        .map(|r| {
            let get = |k: &str| {
                r.params
                    .iter()
                    .find(|(name, _)| name == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            (get("To"), get("Body"))
        })
        .collect();
    assert_eq!(delivered.len(), 50, "every text went out once");
    for to in 0..10 {
        let bodies: Vec<&str> = delivered
            .iter()
            .filter(|(t, _)| *t == phone(to).to_string())
            .map(|(_, b)| b.as_str())
            .collect();
        assert_eq!(
            bodies,
            ["text 1", "text 2", "text 3", "text 4", "text 5"],
            "texts to {to}"
        );
    }
    assert!(store.parked().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_backs_the_whole_outbox_off_and_it_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let app = slow_twilio(dir.path(), 20, 0).await;
    let store = app.state.store.clone();
    let texts: Vec<Command> = (0..100).map(|to| text(to, "hello".into())).collect();
    store.enqueue("texts", texts, app.now()).await.unwrap();
    app.sim.fail_next(429, 3);

    // The first requests meet the 429s: the outbox pauses, for every lane.
    let report = app.delivery.deliver_due().await.unwrap();
    let first = app.sim.take_requests();
    let throttled = first.iter().filter(|r| r.status == 429).count();
    assert_eq!(throttled, 3);
    // What was in flight finishes; little else starts before the 429s are seen.
    assert!(
        first.len() <= 2 * CONCURRENCY,
        "the outbox stopped after the 429s: {} requests",
        first.len()
    );
    assert_eq!(report.retrying, 3);
    // While paused, no text goes out; a caller waiting for voicemail still does.
    let caller = CallSid::parse("CA00000000000000000000000000000abc").unwrap();
    let redirect = Command::RedirectCall {
        call_sid: caller,
        path: "/twilio/voice/voicemail/start?skill=billing&lang=en".into(),
    };
    store
        .enqueue("customer", vec![redirect], app.now())
        .await
        .unwrap();
    let again = app.delivery.deliver_due().await.unwrap();
    assert_eq!(again.delivered, 1);
    let during = app.sim.take_requests();
    assert_eq!(during.len(), 1);
    assert!(during[0].path.contains("/Calls/"), "{:?}", during[0].path);

    // The pause over, it delivers everything, nothing lost and nothing parked.
    app.clock.advance(TimeDelta::seconds(1));
    let mut delivered = report.delivered + again.delivered - 1;
    for _ in 0..5 {
        delivered += app.delivery.deliver_due().await.unwrap().delivered;
        app.clock.advance(TimeDelta::seconds(1));
    }
    assert_eq!(delivered, 100);
    assert!(store.outbox().await.unwrap().is_empty());
    assert!(store.parked().await.unwrap().is_empty());
}
