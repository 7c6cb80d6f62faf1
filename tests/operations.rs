//! What operators see: `/metrics`, `/readyz` and a worker's presence history.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{TimeDelta, TimeZone, Utc};
use common::{API_TOKEN, Options, TestApp};
use shiftline::clock::ManualClock;

const ANA: &str = "+15550001111";

async fn app(dir: &std::path::Path) -> TestApp {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
    ));
    TestApp::start(dir, clock, &Options::set_up()).await
}

fn line<'a>(metrics: &'a str, prefix: &str) -> Option<&'a str> {
    metrics.lines().find(|l| l.starts_with(prefix))
}

#[tokio::test]
async fn metrics_count_keywords_transitions_and_latency() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for (i, text) in ["on", "1", "yes", "banana", "off"].iter().enumerate() {
        app.sms(ANA, text, &format!("SM{i}")).await;
    }
    let (status, body) = app.get("/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        line(
            &body,
            "shiftline_messages_total{keyword=\"on\",language=\"en\"} 1"
        )
        .is_some(),
        "{body}"
    );
    // A menu's answer is counted as one, not as a text nobody understood.
    for counted in [
        "shiftline_messages_total{keyword=\"menu_answer\",language=\"en\"} 1",
        "shiftline_messages_total{keyword=\"yes\",language=\"en\"} 1",
        "shiftline_messages_total{keyword=\"other\",language=\"en\"} 1",
    ] {
        assert!(line(&body, counted).is_some(), "{counted}\n{body}");
    }
    assert!(
        line(
            &body,
            "shiftline_transitions_total{machine=\"presence\",from=\"online\",to=\"offline\"} 1"
        )
        .is_some(),
        "{body}"
    );
    assert!(
        line(
            &body,
            "shiftline_transitions_total{machine=\"dialogue\",from=\"idle\",to=\"skill_menu\"} 1"
        )
        .is_some()
    );
    assert!(
        line(&body, "shiftline_outbox_depth 1").is_some(),
        "OFF's sync superseded ON's, so one waits for delivery: {body}"
    );
    assert!(
        line(
            &body,
            "shiftline_webhook_seconds_count{route=\"/twilio/sms\",status=\"200\"} 5"
        )
        .is_some(),
        "{body}"
    );
    assert!(!body.contains("+1555"), "no phone number in metrics");
    app.stop().await;
}

#[tokio::test]
async fn history_tells_each_presence_change_and_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for (i, text) in ["on", "1", "yes"].iter().enumerate() {
        app.sms(ANA, text, &format!("SM{i}")).await;
    }
    let call = [
        ("CallSid", "CA00000000000000000000000000000042"),
        ("From", ANA),
    ];
    app.post_form("/twilio/voice/intake", &call, common::Signing::Twilio)
        .await;
    app.post_form(
        "/twilio/voice/intake/menu?step=1&tries=0",
        &[call[0], call[1], ("Digits", "2")],
        common::Signing::Twilio,
    )
    .await;
    let (status, body) = app
        .get(&format!("/api/workers/{ANA}/history"), Some(API_TOKEN))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let history: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let steps: Vec<(String, String, String)> = history
        .iter()
        .map(|h| {
            (
                h["from"].as_str().unwrap().into(),
                h["to"].as_str().unwrap().into(),
                h["via"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("offline".into(), "online".into(), "sms".into()),
            ("online".into(), "offline".into(), "ivr".into())
        ]
    );
    assert_eq!(
        app.get(&format!("/api/workers/{ANA}/history"), None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/workers/+15559999999/history", Some(API_TOKEN))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn readyz_fails_while_the_outbox_is_stuck() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    assert_eq!(app.get("/readyz", None).await.0, StatusCode::OK);
    app.sim.fail_next(503, 1000);
    for (i, text) in ["on", "1", "yes"].iter().enumerate() {
        app.sms(ANA, text, &format!("SM{i}")).await;
    }
    app.delivery.deliver_due().await.unwrap();
    assert_eq!(
        app.get("/readyz", None).await.0,
        StatusCode::OK,
        "a fresh failure is not stuck yet"
    );
    app.clock.advance(TimeDelta::minutes(11));
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("outbox stuck"), "{body}");
    app.sim.fail_next(200, 0);
    app.settle().await;
    assert_eq!(
        app.get("/readyz", None).await.0,
        StatusCode::OK,
        "delivered once Twilio is back"
    );
    app.stop().await;
}
