//! The HTTP contract of the SMS webhook and the operators' API.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeZone, Utc};
use common::{API_TOKEN, Signing, TestApp, message_text};
use shiftline::clock::ManualClock;
use shiftline::core::domain::PhoneNumber;
use shiftline::core::intake::machines::Presence;

const ANA: &str = "+15550001111";

async fn app(dir: &std::path::Path) -> TestApp {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
    ));
    TestApp::start(dir, clock, &common::Options::set_up()).await
}

async fn ana(app: &TestApp) -> shiftline::core::intake::record::WorkerRecord {
    app.state
        .store
        .worker(&PhoneNumber::parse(ANA).unwrap())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn healthz_answers_once_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let (status, body) = app(dir.path()).await.get("/healthz", None).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok\n"));
}

#[tokio::test]
async fn a_missing_field_is_a_400_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (status, body) = app
        .post_form(
            "/twilio/sms",
            &[("From", ANA), ("Body", "on")],
            Signing::Twilio,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("MessageSid"), "{body}");
    let (status, body) = app
        .post_form(
            "/twilio/sms",
            &[("MessageSid", "SM1"), ("From", "anonymous"), ("Body", "on")],
            Signing::Twilio,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("From"), "{body}");
}

#[tokio::test]
async fn a_body_that_is_not_a_form_is_a_400() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let request = Request::post("/twilio/sms")
        .header("content-type", "application/json")
        .header("x-twilio-signature", "x")
        .body(Body::from("{\"Body\":\"on\"}"))
        .unwrap();
    let (status, _) = app.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let request = Request::post("/twilio/sms")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", "x")
        .body(Body::from(vec![b'B', b'o', b'd', b'y', b'=', 0xff, 0xfe]))
        .unwrap();
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn unsigned_and_wrongly_signed_requests_are_403_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let params = [("MessageSid", "SM1"), ("From", ANA), ("Body", "skills")];
    for signing in [Signing::Missing, Signing::WrongToken] {
        let (status, body) = app.post_form("/twilio/sms", &params, signing).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{signing:?}: {body}");
        assert!(body.contains("X-Twilio-Signature"));
    }
    assert_eq!(ana(&app).await.dialogue.as_str(), "idle");
}

#[tokio::test]
async fn a_signature_for_another_url_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    // Signed for /twilio/sms but sent to the same path with a query added by someone else.
    let params = vec![
        ("MessageSid".to_string(), "SM1".to_string()),
        ("From".to_string(), ANA.to_string()),
    ];
    let signature = shiftline::twilio::signature::sign(
        common::AUTH_TOKEN,
        &format!("{}/twilio/sms", app.public_url()),
        &params,
    );
    let request = Request::post("/twilio/sms?x=1")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(Body::from(serde_urlencoded::to_string(&params).unwrap()))
        .unwrap();
    assert_eq!(app.send(request).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_needs_the_bearer_token() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    assert_eq!(
        app.get("/api/workers", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/workers", Some("wrong")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&format!("/api/workers/{ANA}"), None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_api_shows_what_the_worker_texted() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for (i, text) in ["on", "1 3"].iter().enumerate() {
        app.sms(ANA, text, &format!("SM{i}")).await;
    }
    let (status, body) = app
        .get(&format!("/api/workers/{ANA}"), Some(API_TOKEN))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(view["phone"], ANA);
    assert_eq!(view["name"], "Ana");
    assert_eq!(view["presence"], "offline");
    assert_eq!(view["dialogue"], "confirm");
    assert_eq!(view["language"], "en");
    assert_eq!(view["time_zone"], "America/Chicago");
    app.sms(ANA, "yes", "SM9").await;
    let (_, body) = app.get("/api/workers", Some(API_TOKEN)).await;
    let list: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(list.len(), 3);
    let ana = list.iter().find(|w| w["phone"] == ANA).unwrap();
    assert_eq!(ana["presence"], "online");
    assert_eq!(ana["skills"], serde_json::json!(["billing", "spanish"]));
    // Without the "+", as it is often lost in URLs.
    assert_eq!(
        app.get("/api/workers/15550001111", Some(API_TOKEN)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/workers/+15559999999", Some(API_TOKEN))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_expired_menu_reads_as_idle_in_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    app.sms(ANA, "skills", "SM1").await;
    app.clock.advance(chrono::TimeDelta::minutes(16));
    let (_, body) = app
        .get(&format!("/api/workers/{ANA}"), Some(API_TOKEN))
        .await;
    assert!(body.contains("\"dialogue\":\"idle\""), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_messages_from_one_worker_lose_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(app(dir.path()).await);
    app.sms(ANA, "skills", "SMa").await;
    app.sms(ANA, "1", "SMb").await;
    app.sms(ANA, "yes", "SMc").await;
    // 40 ON/OFF texts at once: each must be applied exactly once, in some order, so the
    // presence history gets one change per text that changed something, and the one sync
    // left waiting (each newer one supersedes the untried one before it) carries the
    // state of the last text applied.
    let before = app
        .state
        .store
        .history(&PhoneNumber::parse(ANA).unwrap())
        .await
        .unwrap()
        .len();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let text = if i % 2 == 0 { "on" } else { "off" };
            let (status, body) = app.sms(ANA, text, &format!("SMc{i:03}")).await;
            assert_eq!(status, StatusCode::OK);
            message_text(&body)
        }));
    }
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    let changes = replies.iter().filter(|r| !r.contains("already")).count();
    let history = app
        .state
        .store
        .history(&PhoneNumber::parse(ANA).unwrap())
        .await
        .unwrap();
    assert_eq!(history.len() - before, changes, "replies: {replies:#?}");
    let outbox = app.state.store.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:#?}");
    let last_is_online = outbox[0].command.describe().contains("Available");
    assert_eq!(ana(&app).await.presence == Presence::Online, last_is_online);
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    app.sms(ANA, "on", "SM1").await;
    app.sms(ANA, "2", "SM2").await;
    app.sms(ANA, "yes", "SM3").await;
    let app = app.restart(dir.path(), &common::Options::set_up()).await;
    assert_eq!(ana(&app).await.presence, Presence::Online);
    // A replay after the restart still changes nothing.
    let (_, body) = app.sms(ANA, "on", "SM1").await;
    assert!(message_text(&body).starts_with("Hi Ana!"), "{body}");
    assert_eq!(app.state.store.outbox().await.unwrap().len(), 1);
}
