//! shiftline against the built-in TaskRouter simulator: texts reach the Worker, and a
//! workspace built by `twilio setup` routes a customer's task to the right worker.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::TestApp;
use shiftline::clock::ManualClock;

const ANA: &str = "+15550001111";
const BEN: &str = "+15550003333";

async fn app(dir: &std::path::Path) -> TestApp {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
    ));
    TestApp::start(dir, clock, &common::Options::set_up()).await
}

async fn go_online_with(app: &TestApp, phone: &str, skill: &str, n: &mut u32) {
    for text in ["on", skill, "yes"] {
        *n += 1;
        app.sms(phone, text, &format!("SM{n:032}")).await;
    }
}

#[tokio::test]
async fn a_billing_task_reserves_the_online_billing_worker() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let mut n = 0;
    go_online_with(&app, ANA, "support", &mut n).await;
    go_online_with(&app, BEN, "billing", &mut n).await;
    app.settle().await;

    let report = shiftline::service::setup::run(&app.twilio, &app.state.settings)
        .await
        .unwrap();
    assert_eq!(
        report.changes, 0,
        "serve already set the workspace up: {:?}",
        report.lines
    );
    let workflow = report.workflow_sid.unwrap();
    let task = app
        .sim
        .create_task(
            &workflow,
            serde_json::json!({"skill": "billing", "language": "en"}),
        )
        .unwrap();
    app.settle().await;

    let ben = app
        .sim
        .workers()
        .into_iter()
        .find(|w| w.friendly_name == BEN)
        .expect("Ben's Worker exists");
    let tasks = app.sim.tasks();
    let task = tasks.iter().find(|t| t.sid == task).unwrap();
    assert_eq!(task.reservations.len(), 1, "{task:?}");
    assert_eq!(
        task.reservations[0].worker_sid, ben.sid,
        "the billing worker is reserved, not Ana"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_task_for_a_skill_nobody_serves_goes_to_voicemail() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let mut n = 0;
    go_online_with(&app, ANA, "support", &mut n).await;
    app.settle().await;
    let workflow = shiftline::service::setup::run(&app.twilio, &app.state.settings)
        .await
        .unwrap()
        .workflow_sid
        .unwrap();
    let task = app
        .sim
        .create_task(
            &workflow,
            serde_json::json!({"skill": "spanish", "language": "es"}),
        )
        .unwrap();
    app.settle().await;
    let tasks = app.sim.tasks();
    let task = tasks.iter().find(|t| t.sid == task).unwrap();
    assert!(task.reservations.is_empty());
    assert_eq!(
        task.queue.as_deref(),
        Some(shiftline::service::setup::VOICEMAIL_QUEUE)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_loop_brings_a_text_to_taskrouter_without_being_polled() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    tokio::spawn(app.delivery.clone().run());
    let mut n = 0;
    let started = Instant::now();
    go_online_with(&app, BEN, "billing", &mut n).await;
    let deadline = started + Duration::from_secs(5);
    loop {
        let online = app
            .sim
            .workers()
            .iter()
            .any(|w| w.friendly_name == BEN && w.activity_name == "Available");
        if online {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Ben never became Available in TaskRouter"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!("text to TaskRouter Worker: {:?}", started.elapsed());
    app.stop().await;
}
