//! The dispatcher's HTTP contract: TaskRouter's assignment callback and events, and the
//! TwiML every voice route answers. With `SHIFTLINE_TWIML_DIR` set, every TwiML reply is
//! also written there, so CI can lint it with Twilio's grammar (`twiml_lint.py`).

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use common::{Options, Signing, TestApp};
use shiftline::clock::ManualClock;

const ANA: &str = "+15550001111";
const WR: &str = "WR00000000000000000000000000000abc";

async fn app(dir: &std::path::Path) -> TestApp {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
    ));
    TestApp::start(dir, clock, &Options::set_up()).await
}

/// Checks a TwiML reply parses with a `<Response>` root, and keeps it for the linter.
fn twiml(name: &str, body: &str) -> roxmltree::Document<'static> {
    if let Ok(dir) = std::env::var("SHIFTLINE_TWIML_DIR") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/{name}.xml"), body).unwrap();
    }
    let leaked: &'static str = Box::leak(body.to_string().into_boxed_str());
    let doc = roxmltree::Document::parse(leaked).unwrap_or_else(|e| panic!("{name}: {e}: {body}"));
    assert_eq!(
        doc.root_element().tag_name().name(),
        "Response",
        "{name}: {body}"
    );
    doc
}

fn verbs(doc: &roxmltree::Document) -> Vec<String> {
    doc.root_element()
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name().to_string())
        .collect()
}

fn assignment_params(reservation: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AccountSid", "AC00000000000000000000000000000000".into()),
        ("WorkspaceSid", "WS00000000000000000000000000000000".into()),
        ("WorkflowSid", "WW00000000000000000000000000000001".into()),
        ("TaskQueueSid", "WQ00000000000000000000000000000001".into()),
        ("WorkerSid", "WK00000000000000000000000000000001".into()),
        ("TaskSid", "WT00000000000000000000000000000001".into()),
        ("ReservationSid", reservation.into()),
        ("TaskAttributes", r#"{"skill":"billing","language":"en","caller":"+15559990000","caller_city":"Chicago"}"#.into()),
        ("WorkerAttributes", format!(r#"{{"skills":["billing"],"contact_uri":"{ANA}","languages":["en"]}}"#)),
        ("TaskAge", "3".into()),
        ("TaskPriority", "0".into()),
    ]
}

async fn post(app: &TestApp, path: &str, params: &[(&str, String)]) -> (StatusCode, String) {
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form(path, &borrowed, Signing::Twilio).await
}

async fn place_calls(app: &TestApp) -> usize {
    waiting(app, "call worker").await.len()
}

/// The commands waiting in the outbox whose description starts with `what`.
async fn waiting(app: &TestApp, what: &str) -> Vec<String> {
    app.state
        .store
        .outbox()
        .await
        .unwrap()
        .iter()
        .map(|e| e.command.describe())
        .filter(|d| d.starts_with(what))
        .collect()
}

#[tokio::test]
async fn a_repeated_assignment_callback_places_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for _ in 0..3 {
        let (status, body) = post(
            &app,
            "/twilio/taskrouter/assignment",
            &assignment_params(WR),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.is_empty(), "the decision is deferred: an empty 200");
    }
    assert_eq!(place_calls(&app).await, 1);
    let record = app.state.store.dispatch_record(WR).await.unwrap().unwrap();
    assert_eq!(record.caller_city.as_deref(), Some("Chicago"));
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_assignment_is_a_400_and_an_unsigned_one_a_403() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let mut params = assignment_params("WR-not-a-sid");
    let (status, body) = post(&app, "/twilio/taskrouter/assignment", &params).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("ReservationSid"));
    params = assignment_params(WR);
    params.retain(|(k, _)| *k != "WorkerAttributes");
    assert_eq!(
        post(&app, "/twilio/taskrouter/assignment", &params).await.0,
        StatusCode::BAD_REQUEST
    );
    let full = assignment_params(WR);
    let borrowed: Vec<(&str, &str)> = full.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _) = app
        .post_form("/twilio/taskrouter/assignment", &borrowed, Signing::Missing)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(place_calls(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn the_worker_call_is_asked_for_a_key_then_bridged_on_1() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for text in ["on", "1", "yes"] {
        app.sms(ANA, text, &format!("SM{text}")).await;
    }
    post(
        &app,
        "/twilio/taskrouter/assignment",
        &assignment_params(WR),
    )
    .await;
    let call = [
        ("CallSid", "CA00000000000000000000000000000099".to_string()),
        ("CallStatus", "in-progress".into()),
    ];
    let (status, body) = post(
        &app,
        &format!("/twilio/voice/dispatch/answer?reservation={WR}"),
        &call,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let doc = twiml("dispatch_ask_key", &body);
    assert_eq!(verbs(&doc), ["Gather"]);
    assert!(body.contains("Billing call. Press 1 to take it."), "{body}");
    let keys = [call[0].clone(), ("Digits", "1".to_string())];
    let keys: Vec<(&str, String)> = keys.iter().map(|(k, v)| (*k, v.clone())).collect();
    let (_, body) = post(
        &app,
        &format!("/twilio/voice/dispatch/key?reservation={WR}"),
        &keys,
    )
    .await;
    let doc = twiml("dispatch_bridge", &body);
    assert_eq!(verbs(&doc), ["Say", "Dial"]);
    assert!(body.contains("Call from Chicago. Connecting."), "{body}");
    assert!(
        body.contains(&format!("<Queue reservationSid=\"{WR}\"/>")),
        "{body}"
    );
    // Twilio retrying the same Gather action gets the same answer and bridges nothing new.
    let (_, again) = post(
        &app,
        &format!("/twilio/voice/dispatch/key?reservation={WR}"),
        &keys,
    )
    .await;
    assert_eq!(again, body);
    app.stop().await;
}

#[tokio::test]
async fn a_machine_answer_is_hung_up_and_an_unknown_reservation_too() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    post(
        &app,
        "/twilio/taskrouter/assignment",
        &assignment_params(WR),
    )
    .await;
    let call = [
        ("CallSid", "CA00000000000000000000000000000099".to_string()),
        ("AnsweredBy", "machine_start".into()),
    ];
    let (_, body) = post(
        &app,
        &format!("/twilio/voice/dispatch/answer?reservation={WR}"),
        &call,
    )
    .await;
    assert_eq!(verbs(&twiml("dispatch_machine", &body)), ["Hangup"]);
    let other = "WR000000000000000000000000000000ff";
    let (status, body) = post(
        &app,
        &format!("/twilio/voice/dispatch/answer?reservation={other}"),
        &call,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verbs(&twiml("dispatch_unknown", &body)), ["Hangup"]);
    let (status, _) = post(&app, "/twilio/voice/dispatch/answer", &call).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no reservation in the URL");
    app.stop().await;
}

/// Voicemail boxes record what they hear: until a person pressed 1, the worker's call
/// hears nothing of the caller (number, city or digits), whatever AMD said.
#[tokio::test]
async fn nothing_names_the_caller_before_1_is_pressed() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for text in ["on", "1", "yes"] {
        app.sms(ANA, text, &format!("SM{text}")).await;
    }
    let reservations = [
        "WR00000000000000000000000000000a01",
        "WR00000000000000000000000000000a02",
    ];
    for (reservation, answered_by) in reservations.iter().zip([None, Some("unknown")]) {
        post(
            &app,
            "/twilio/taskrouter/assignment",
            &assignment_params(reservation),
        )
        .await;
        let mut call = vec![(
            "CallSid",
            format!("CA000000000000000000000000000{}", &reservation[29..]),
        )];
        if let Some(verdict) = answered_by {
            call.push(("AnsweredBy", verdict.to_string()));
        }
        let (_, body) = post(
            &app,
            &format!("/twilio/voice/dispatch/answer?reservation={reservation}"),
            &call,
        )
        .await;
        let doc = twiml("dispatch_prompt", &body);
        assert_eq!(verbs(&doc), ["Gather"], "{body}");
        let spoken: String = doc
            .descendants()
            .filter(|n| n.has_tag_name("Say"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(
            spoken, "Billing call. Press 1 to take it.",
            "{answered_by:?}"
        );
        for secret in ["Chicago", "5559990000", "9 9 9", "0 0 0 0", "0000"] {
            assert!(
                !spoken.contains(secret),
                "{answered_by:?} says {secret:?}: {spoken}"
            );
        }
        // Nobody pressed anything: a voicemail box is rejected, and still hears nothing.
        let silence = [call[0].clone(), ("Digits", String::new())];
        let (_, body) = post(
            &app,
            &format!("/twilio/voice/dispatch/key?reservation={reservation}"),
            &silence,
        )
        .await;
        assert_eq!(
            verbs(&twiml("dispatch_no_key", &body)),
            ["Hangup"],
            "{body}"
        );
        let record = app
            .state
            .store
            .dispatch_record(reservation)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.outcome.map(|o| o.as_str()), Some("no key"));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_key_says_goodbye() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    post(
        &app,
        "/twilio/taskrouter/assignment",
        &assignment_params(WR),
    )
    .await;
    let call = [("CallSid", "CA00000000000000000000000000000099".to_string())];
    post(
        &app,
        &format!("/twilio/voice/dispatch/answer?reservation={WR}"),
        &call,
    )
    .await;
    let keys = [("CallSid", call[0].1.clone()), ("Digits", "7".to_string())];
    let (_, body) = post(
        &app,
        &format!("/twilio/voice/dispatch/key?reservation={WR}"),
        &keys,
    )
    .await;
    assert_eq!(verbs(&twiml("dispatch_goodbye", &body)), ["Say", "Hangup"]);
    app.stop().await;
}

#[tokio::test]
async fn the_customer_line_greets_offers_the_menu_and_enqueues_the_choice() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let call = [
        ("CallSid", "CA00000000000000000000000000000001".to_string()),
        ("From", "+15559990000".into()),
        ("FromCity", "CHICAGO".into()),
    ];
    let (_, body) = post(&app, "/twilio/voice/customer", &call).await;
    let doc = twiml("customer_menu", &body);
    assert_eq!(verbs(&doc), ["Gather"]);
    assert!(
        body.contains("Para Español, oprima 3.") && body.contains("es-MX"),
        "{body}"
    );

    let mut choice: Vec<(&str, String)> = call.to_vec();
    choice.push(("Digits", "3".into()));
    let (_, body) = post(&app, "/twilio/voice/customer/choice?try=1", &choice).await;
    let doc = twiml("customer_enqueue", &body);
    assert_eq!(verbs(&doc), ["Enqueue"]);
    let task = doc
        .descendants()
        .find(|n| n.has_tag_name("Task"))
        .unwrap()
        .text()
        .unwrap();
    let task: serde_json::Value = serde_json::from_str(task).unwrap();
    assert_eq!(task["skill"], "spanish");
    assert_eq!(task["language"], "es");
    assert_eq!(task["caller"], "+15559990000");

    choice.last_mut().unwrap().1 = "8".into();
    let (_, body) = post(&app, "/twilio/voice/customer/choice?try=1", &choice).await;
    assert!(
        twiml("customer_retry", &body)
            .descendants()
            .any(|n| n.has_tag_name("Gather"))
    );
    let (_, body) = post(&app, "/twilio/voice/customer/choice?try=2", &choice).await;
    assert_eq!(
        verbs(&twiml("customer_default", &body)),
        ["Enqueue"],
        "after two misses the caller still gets in line"
    );

    let wait = [
        ("CallSid", call[0].1.clone()),
        ("QueuePosition", "3".to_string()),
    ];
    let (_, body) = post(&app, "/twilio/voice/customer/wait?lang=es", &wait).await;
    assert_eq!(
        verbs(&twiml("customer_wait", &body)),
        ["Say", "Say", "Play"]
    );
    assert!(body.contains("número 3"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn voicemail_records_stores_once_and_announces_with_its_transcription() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let call = [("CallSid", "CA00000000000000000000000000000001".to_string())];
    let (_, body) = post(
        &app,
        "/twilio/voice/voicemail/start?skill=billing&lang=en&caller=%2B15559990000",
        &call,
    )
    .await;
    let doc = twiml("voicemail_start", &body);
    assert_eq!(verbs(&doc), ["Say", "Record"]);
    let record = doc
        .descendants()
        .find(|n| n.has_tag_name("Record"))
        .unwrap();
    assert_eq!(record.attribute("transcribe"), Some("true"), "{body}");
    let (_, body) = post(&app, "/twilio/voice/voicemail/done?lang=en", &call).await;
    assert_eq!(verbs(&twiml("voicemail_done", &body)), ["Say", "Hangup"]);
    let recorded = [
        ("CallSid", call[0].1.clone()),
        (
            "RecordingSid",
            "RE00000000000000000000000000000001".to_string(),
        ),
        (
            "RecordingUrl",
            "https://api.twilio.com/recordings/RE1".to_string(),
        ),
        ("RecordingDuration", "42".to_string()),
        ("RecordingStatus", "completed".to_string()),
    ];
    for _ in 0..2 {
        let (status, _) = post(
            &app,
            "/twilio/voice/voicemail/recorded?skill=billing&caller=%2B15559990000&lang=en",
            &recorded,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let voicemails = app.state.store.voicemails().await.unwrap();
    assert_eq!(voicemails.len(), 1, "a repeated callback stores it once");
    assert_eq!(voicemails[0].caller, "+15559990000");
    assert!(texts(&app).await.is_empty(), "the text waits for the words");
    let callbacks = app.state.store.callbacks().await.unwrap();
    assert_eq!(callbacks.len(), 1, "the voicemail is a callback request");
    assert_eq!(callbacks[0].customer, "+15559990000");

    let transcribed = [
        ("CallSid", call[0].1.clone()),
        ("RecordingSid", recorded[1].1.clone()),
        ("TranscriptionStatus", "completed".to_string()),
        (
            "TranscriptionText",
            "Please call me about my bill".to_string(),
        ),
    ];
    for _ in 0..2 {
        let (status, _) = post(
            &app,
            "/twilio/voice/voicemail/transcribed?skill=billing&caller=%2B15559990000&lang=en",
            &transcribed,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let texts = texts(&app).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        texts[0].contains("+15550009999")
            && texts[0].contains("42 s")
            && texts[0].contains("Please call me about my bill")
            && texts[0].contains("/voicemails/RE00000000000000000000000000000001?expires="),
        "{texts:?}"
    );
    let announces = waiting(&app, "announce voicemail").await.len();
    assert_eq!(
        announces, 1,
        "the text without the words waits in case they never come"
    );
    let callbacks = app.state.store.callbacks().await.unwrap();
    let voicemail = callbacks[0].voicemail.as_ref().unwrap();
    assert_eq!(
        voicemail.transcription.as_deref(),
        Some("Please call me about my bill")
    );
    let (status, body) = app.get("/api/voicemails", Some(common::API_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("RE00000000000000000000000000000001"));
    let (status, body) = app
        .get("/api/callbacks?status=open", Some(common::API_TOKEN))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Please call me about my bill"), "{body}");
    let (status, body) = app
        .get("/api/callbacks?status=closed", Some(common::API_TOKEN))
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "[]"));
    app.stop().await;
}

/// The texts waiting in the outbox.
async fn texts(app: &TestApp) -> Vec<String> {
    waiting(app, "text").await
}

#[tokio::test]
async fn a_voicemail_whose_transcription_never_comes_is_announced_all_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
    ));
    let app = TestApp::start(dir.path(), clock.clone(), &Options::set_up()).await;
    let recorded = [
        ("CallSid", "CA00000000000000000000000000000001".to_string()),
        (
            "RecordingSid",
            "RE00000000000000000000000000000001".to_string(),
        ),
        (
            "RecordingUrl",
            "https://api.twilio.com/recordings/RE1".to_string(),
        ),
        ("RecordingDuration", "42".to_string()),
        ("RecordingStatus", "completed".to_string()),
    ];
    post(
        &app,
        "/twilio/voice/voicemail/recorded?skill=billing&caller=%2B15559990000&lang=en",
        &recorded,
    )
    .await;
    let announced = |app: &TestApp| {
        app.sim
            .messages()
            .into_iter()
            .filter(|m| m.to == "+15550009999" && m.body.starts_with("New voicemail"))
            .map(|m| m.body)
            .collect::<Vec<_>>()
    };
    app.settle().await;
    assert!(announced(&app).is_empty(), "it waits for the words first");
    clock.advance(chrono::TimeDelta::minutes(10));
    app.settle().await;
    let texts = announced(&app);
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        texts[0].contains("42 s") && texts[0].contains("Listen: "),
        "{texts:?}"
    );
    // The words come after all: kept with the request, and no second text.
    let late = [
        ("CallSid", recorded[0].1.clone()),
        ("RecordingSid", recorded[1].1.clone()),
        ("TranscriptionStatus", "completed".to_string()),
        ("TranscriptionText", "Call me".to_string()),
    ];
    post(&app, "/twilio/voice/voicemail/transcribed", &late).await;
    app.settle().await;
    assert_eq!(announced(&app).len(), 1);
    let callbacks = app.state.store.callbacks().await.unwrap();
    let words = callbacks[0]
        .voicemail
        .as_ref()
        .unwrap()
        .transcription
        .clone();
    assert_eq!(words.as_deref(), Some("Call me"));
    app.stop().await;
}

#[tokio::test]
async fn a_voicemail_link_plays_the_recording_only_while_it_is_valid_and_intact() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
    ));
    let app = TestApp::start(dir.path(), clock.clone(), &Options::set_up()).await;
    // Nobody is online: the caller goes to voicemail, and the recording is on "Twilio".
    let business = app.state.settings.business_number().to_string();
    let url = format!("{}/twilio/voice/customer", app.public_url());
    app.sim.script_phone(
        "+15559990000",
        vec![twilio_sim::Answer::parse("human:1").unwrap()],
    );
    app.sim.place_call("+15559990000", &business, &url);
    for _ in 0..5 {
        clock.advance(chrono::TimeDelta::seconds(1));
        app.settle().await;
    }
    let text = app
        .sim
        .messages()
        .into_iter()
        .find(|m| m.to == "+15550009999")
        .expect("the voicemail is announced")
        .body;
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/voicemails/"))
        .expect("a listen link");
    let path = link.trim_start_matches(app.public_url());
    assert!(path.starts_with("/voicemails/RE"), "{link}");

    let (status, body) = app.get(path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.len() > 100,
        "the recording's audio, {} bytes",
        body.len()
    );

    let forged = path.replace("sig=", "sig=x");
    assert_eq!(app.get(&forged, None).await.0, StatusCode::FORBIDDEN);
    let other = path.replace("RE000", "RE001");
    assert_eq!(app.get(&other, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/voicemails/RE1?expires=1&sig=x", None).await.0,
        StatusCode::NOT_FOUND
    );
    clock.advance(chrono::TimeDelta::hours(73));
    let (status, body) = app.get(path, None).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_waiting_caller_hears_the_callback_key_and_pressing_it_leaves_with_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let query = "lang=en&skill=support&city=CHICAGO";
    let waiting = [
        ("CallSid", "CA00000000000000000000000000000007".to_string()),
        ("From", "+13125550123".to_string()),
        ("QueuePosition", "3".to_string()),
    ];
    let (_, body) = post(
        &app,
        &format!("/twilio/voice/customer/wait?{query}"),
        &waiting,
    )
    .await;
    let doc = twiml("customer_wait_callback", &body);
    assert_eq!(verbs(&doc), ["Gather"]);
    assert!(
        body.contains("press 1 to hang up and be called back"),
        "{body}"
    );
    assert!(
        body.contains("<Play>"),
        "the hold music plays inside the Gather: {body}"
    );

    // A withheld number cannot be called back: no offer.
    let withheld = [
        ("CallSid", "CA00000000000000000000000000000008".to_string()),
        ("From", "anonymous".to_string()),
    ];
    let (_, body) = post(
        &app,
        &format!("/twilio/voice/customer/wait?{query}"),
        &withheld,
    )
    .await;
    assert_eq!(
        verbs(&twiml("customer_wait_withheld", &body)),
        ["Say", "Play"]
    );

    // Another key goes back to the hold, and asks for nothing.
    let mut pressed = waiting.to_vec();
    pressed.push(("Digits", "5".to_string()));
    let (_, body) = post(
        &app,
        &format!("/twilio/voice/customer/callback?{query}"),
        &pressed,
    )
    .await;
    assert_eq!(verbs(&twiml("customer_wrong_key", &body)), ["Gather"]);
    assert!(app.state.store.callbacks().await.unwrap().is_empty());

    pressed.pop();
    pressed.push(("Digits", "1".to_string()));
    for _ in 0..2 {
        let (_, body) = post(
            &app,
            &format!("/twilio/voice/customer/callback?{query}"),
            &pressed,
        )
        .await;
        assert_eq!(verbs(&twiml("customer_callback_key", &body)), ["Leave"]);
    }
    let callbacks = app.state.store.callbacks().await.unwrap();
    assert_eq!(callbacks.len(), 1, "asked twice, one request");
    assert_eq!(callbacks[0].customer, "+13125550123");
    assert_eq!(callbacks[0].caller_city.as_deref(), Some("CHICAGO"));
    assert_eq!(
        callbacks[0].skill.as_ref().map(|s| s.as_str()),
        Some("support")
    );

    let mut left = waiting.to_vec();
    left.push(("QueueResult", "leave".to_string()));
    let (_, body) = post(&app, &format!("/twilio/voice/customer/left?{query}"), &left).await;
    assert_eq!(verbs(&twiml("customer_left", &body)), ["Say", "Hangup"]);
    assert!(body.contains("We will call you back"), "{body}");
    left.pop();
    left.push(("QueueResult", "queue-full".to_string()));
    let (_, body) = post(&app, &format!("/twilio/voice/customer/left?{query}"), &left).await;
    assert_eq!(verbs(&twiml("customer_queue_full", &body)), ["Redirect"]);
    assert!(body.contains("/twilio/voice/voicemail/start"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_worker_who_takes_a_callback_dials_the_customer_and_a_miss_is_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let customer = "CA00000000000000000000000000000007";
    let asked = [
        ("CallSid", customer.to_string()),
        ("From", "+13125550123".to_string()),
        ("Digits", "1".to_string()),
    ];
    post(
        &app,
        "/twilio/voice/customer/callback?lang=en&skill=billing&city=CHICAGO",
        &asked,
    )
    .await;
    let mut assignment = assignment_params(WR);
    for (name, value) in assignment.iter_mut() {
        if *name == "TaskAttributes" {
            *value = format!(
                r#"{{"type":"callback","callback":"{customer}","skill":"billing","language":"en","caller":"+13125550123","caller_city":"CHICAGO"}}"#
            );
        }
    }
    let (status, _) = post(&app, "/twilio/taskrouter/assignment", &assignment).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        place_calls(&app).await,
        1,
        "the worker is called as for a live call"
    );

    let worker_call = [("CallSid", "CA00000000000000000000000000000def".to_string())];
    let (_, body) = post(
        &app,
        &format!("/twilio/voice/dispatch/answer?reservation={WR}"),
        &worker_call,
    )
    .await;
    assert!(body.contains("Billing callback. Press 1"), "{body}");
    let mut key = worker_call.to_vec();
    key.push(("Digits", "1".to_string()));
    let (_, body) = post(
        &app,
        &format!("/twilio/voice/dispatch/key?reservation={WR}"),
        &key,
    )
    .await;
    let doc = twiml("callback_bridge", &body);
    assert_eq!(verbs(&doc), ["Say", "Say", "Dial"]);
    assert!(
        body.contains("Callback for Billing from a caller in Chicago, asked at 09:00."),
        "{body}"
    );
    let dial = doc.descendants().find(|n| n.has_tag_name("Dial")).unwrap();
    assert_eq!(dial.attribute("callerId"), Some("+15550100001"));
    let number = doc
        .descendants()
        .find(|n| n.has_tag_name("Number"))
        .unwrap();
    assert_eq!(number.text(), Some("+13125550123"));
    let accepts = waiting(&app, "accept").await;
    assert_eq!(
        accepts,
        [format!("accept {WR}")],
        "shiftline accepts a callback itself"
    );

    let mut dialed = worker_call.to_vec();
    dialed.push(("DialCallStatus", "no-answer".to_string()));
    dialed.push(("DialCallDuration", "0".to_string()));
    for _ in 0..2 {
        let (_, body) = post(
            &app,
            &format!("/twilio/voice/callback/dialed?reservation={WR}"),
            &dialed,
        )
        .await;
        assert_eq!(
            verbs(&twiml("callback_no_answer", &body)),
            ["Say", "Hangup"]
        );
        assert!(body.contains("try again later"), "{body}");
    }
    let callbacks = app.state.store.callbacks().await.unwrap();
    assert_eq!(
        callbacks[0].attempts.len(),
        1,
        "a repeated action counts once"
    );
    assert_eq!(callbacks[0].status.as_str(), "waiting");
    let retry = app
        .state
        .store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .rfind(|e| e.command.describe().contains("callback task"))
        .expect("a new task for the retry");
    assert_eq!(
        retry.not_before,
        Some(app.now() + chrono::TimeDelta::minutes(30)),
        "tried again 30 minutes later"
    );
    let (status, _) = post(
        &app,
        "/twilio/voice/callback/dialed?reservation=WR00000000000000000000000000000fff",
        &dialed,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "an unknown reservation hangs up");
    app.stop().await;
}

#[tokio::test]
async fn the_sms_reply_is_twiml_too() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (_, body) = app.sms(ANA, "help & <more>", "SM1").await;
    assert_eq!(verbs(&twiml("sms_reply", &body)), ["Message"]);
    app.stop().await;
}

#[tokio::test]
async fn the_intake_line_answers_twiml_for_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let call = |extra: &[(&'static str, &str)]| {
        let mut params = vec![
            ("CallSid", "CA00000000000000000000000000000042".to_string()),
            ("From", ANA.to_string()),
        ];
        params.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        params
    };
    let (_, body) = post(&app, "/twilio/voice/intake", &call(&[])).await;
    let doc = twiml("ivr_hello", &body);
    assert_eq!(verbs(&doc), ["Gather"]);
    assert!(
        body.contains("input=\"dtmf speech\"") && body.contains("Hi Ana, you&apos;re offline."),
        "{body}"
    );
    let (_, body) = post(
        &app,
        "/twilio/voice/intake/menu?step=1&tries=0",
        &call(&[("Digits", "3")]),
    )
    .await;
    assert!(
        body.contains("finishOnKey=\"#\""),
        "the skill prompt takes several keys: {body}"
    );
    twiml("ivr_skills", &body);
    let (_, body) = post(
        &app,
        "/twilio/voice/intake/skills?step=2&tries=0",
        &call(&[("Digits", "13")]),
    )
    .await;
    assert!(body.contains("You chose Billing, Spanish."), "{body}");
    twiml("ivr_confirm", &body);
    let (_, body) = post(
        &app,
        "/twilio/voice/intake/confirm?step=3&tries=0",
        &call(&[("Digits", "1")]),
    )
    .await;
    twiml("ivr_saved", &body);
    let record = app
        .state
        .store
        .worker(&shiftline::core::domain::PhoneNumber::parse(ANA).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.skills.len(),
        2,
        "the phone saved the same skills a text would"
    );
    let (_, body) = post(
        &app,
        "/twilio/voice/intake/menu?step=4&tries=2",
        &call(&[("Digits", "")]),
    )
    .await;
    assert_eq!(
        verbs(&twiml("ivr_goodbye", &body)),
        ["Say", "Say", "Hangup"]
    );
    app.stop().await;
}
