//! The operator's roster tools: `shiftline workers ...` on a stopped service's store and
//! through a running service's API, and the API's answers to bad requests.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeZone, Utc};
use common::{API_TOKEN, Options, TestApp, free_port};
use shiftline::clock::ManualClock;

const TWILIO_TOKEN: &str = "operator-test-token";
const API: &str = "operator-api-token";
const ANA: &str = "+15550001111";
const SKILLS: &str = "[[skills]]\nkey = \"billing\"\nnames = { en = \"Billing\", es = \"Facturación\" }\n[[skills]]\nkey = \"support\"\nnames = { en = \"Support\", es = \"Soporte\" }\n";

/// A configuration like `tests/fixtures/roster.toml`: its skills, Ana in `[[workers]]`, a
/// store in `data` and the service on `port`.
fn config(dir: &Path, name: &str, data: &Path, port: u16) -> PathBuf {
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\ndata_dir = \"{}\"\n\n[defaults]\nlanguage = \"en\"\ntime_zone = \"America/Chicago\"\n\n{SKILLS}\n[[workers]]\nphone = \"{ANA}\"\nname = \"Ana\"\n",
        data.display()
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `shiftline workers ARGS --config CONFIG`, with the API token only when given.
fn workers(config: &Path, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shiftline"));
    command
        .arg("workers")
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("SHIFTLINE_CONFIG")
        .env_remove("SHIFTLINE_API_TOKEN")
        .env_remove("SHIFTLINE_TWILIO_AUTH_TOKEN")
        .env("RUST_LOG", "warn");
    if let Some(token) = token {
        command.env("SHIFTLINE_API_TOKEN", token);
    }
    command.output().expect("the shiftline binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn expect_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

#[test]
fn the_cli_manages_the_roster_in_a_stopped_services_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "a.toml", &dir.path().join("a"), free_port());

    // Reading a store that was never made is refused: it is most likely the wrong file.
    let output = workers(&config, None, &["list"]);
    expect_code(&output, 1);
    assert!(stderr(&output).contains("no store"), "{}", stderr(&output));

    let output = workers(
        &config,
        None,
        &[
            "add",
            "+15550004444",
            "Ortiz, Zoe",
            "--languages",
            "es,en",
            "--time-zone",
            "America/Denver",
        ],
    );
    expect_code(&output, 0);
    assert_eq!(stdout(&output), "added +15550004444 (Ortiz, Zoe)\n");
    let output = workers(&config, None, &["add", "+15550004444", "Zoe"]);
    expect_code(&output, 0);
    assert!(stdout(&output).contains("already on the roster"));
    let output = workers(&config, None, &["add", "555", "Bad"]);
    expect_code(&output, 2);
    assert!(
        stderr(&output).contains("phone: \"555\""),
        "{}",
        stderr(&output)
    );
    let output = workers(
        &config,
        None,
        &["add", "+15550008888", "Eve", "--time-zone", "EST"],
    );
    expect_code(&output, 2);
    assert!(
        stderr(&output).contains("time_zone:"),
        "{}",
        stderr(&output)
    );

    let output = workers(&config, None, &["list"]);
    expect_code(&output, 0);
    let list = stdout(&output);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    for column in [
        "PHONE",
        "NAME",
        "PRESENCE",
        "DIALOGUE",
        "SKILLS",
        "LANGUAGE",
        "TIME ZONE",
    ] {
        assert!(lines[0].contains(column), "{list}");
    }
    for value in [
        "+15550004444",
        "Ortiz, Zoe",
        "offline",
        "idle",
        "en",
        "America/Denver",
    ] {
        assert!(lines[1].contains(value), "{list}");
    }

    // Export, then import the file with a new worker and a bad row into a new store.
    let output = workers(&config, None, &["export"]);
    expect_code(&output, 0);
    let exported = stdout(&output);
    assert_eq!(
        exported,
        "phone,name,language,languages,time_zone\n+15550004444,\"Ortiz, Zoe\",en,es en,America/Denver\n"
    );
    let file = dir.path().join("roster.csv");
    let csv = format!("{exported}555-1234,Bad,en,,\n+15550005555,Ben,es,,\n");
    std::fs::write(&file, csv).unwrap();
    let other = config_for(dir.path(), "b");
    let output = workers(&other, None, &["import", file.to_str().unwrap()]);
    expect_code(&output, 2);
    let report = stdout(&output);
    assert!(report.contains("line 2: added +15550004444"), "{report}");
    assert!(
        report.contains("line 3: invalid: phone: \"555-1234\""),
        "{report}"
    );
    assert!(report.contains("line 4: added +15550005555"), "{report}");
    assert!(
        report.contains("2 added, 0 already on the roster, 1 invalid"),
        "{report}"
    );
    let output = workers(&other, None, &["export"]);
    let mut imported: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    imported.sort();
    assert_eq!(
        imported,
        vec![
            "+15550004444,\"Ortiz, Zoe\",en,es en,America/Denver",
            "+15550005555,Ben,es,es,America/Chicago",
            "phone,name,language,languages,time_zone",
        ]
    );
    // The same file again: nothing new.
    let output = workers(&other, None, &["import", file.to_str().unwrap()]);
    assert!(stdout(&output).contains("0 added, 2 already on the roster, 1 invalid"));

    let output = workers(&config, None, &["show", "+15550004444"]);
    expect_code(&output, 0);
    assert!(
        stdout(&output).contains("takes calls in: es, en"),
        "{}",
        stdout(&output)
    );

    let output = workers(&config, None, &["remove", "+15550004444"]);
    expect_code(&output, 0);
    assert_eq!(stdout(&output), "removed +15550004444\n");
    let output = workers(&config, None, &["list"]);
    assert!(
        !stdout(&output).contains("+15550004444"),
        "{}",
        stdout(&output)
    );
    let output = workers(&config, None, &["remove", "+15550004444"]);
    expect_code(&output, 1);
    assert!(stderr(&output).contains("no worker with phone +15550004444"));
}

fn config_for(dir: &Path, name: &str) -> PathBuf {
    config(dir, &format!("{name}.toml"), &dir.join(name), free_port())
}

/// A `shiftline serve` process, killed when the test ends however it ends.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(config: &Path) -> Service {
    let child = Command::new(env!("CARGO_BIN_EXE_shiftline"))
        .args(["serve", "--config"])
        .arg(config)
        .env("SHIFTLINE_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
        .env("SHIFTLINE_API_TOKEN", API)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the shiftline binary starts");
    Service(child)
}

/// A signed SMS webhook, as Twilio sends it; returns the status.
async fn text(client: &reqwest::Client, base: &str, from: &str, body: &str, sid: &str) -> u16 {
    common::post_sms(client, base, TWILIO_TOKEN, from, body, sid)
        .await
        .expect("the service answers")
}

async fn presence(client: &reqwest::Client, base: &str, phone: &str) -> String {
    let view: serde_json::Value = client
        .get(format!("{base}/api/workers/{phone}"))
        .bearer_auth(API)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    view["presence"].as_str().unwrap().to_string()
}

/// Runs a CLI command off the test's runtime (it blocks until the process ends).
async fn cli(config: &Path, token: Option<&'static str>, args: &[&str]) -> Output {
    let config = config.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        workers(&config, token, &args)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_takes_a_worker_offline_through_the_running_service() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let data = dir.path().join("data");
    let config = config(dir.path(), "shiftline.toml", &data, port);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let _service = serve(&config);
    common::wait_healthy(&client, &base).await;

    for (i, body) in ["on", "1", "yes"].iter().enumerate() {
        let sid = format!("SM{i:032}");
        assert_eq!(text(&client, &base, ANA, body, &sid).await, 200);
    }
    assert_eq!(presence(&client, &base, ANA).await, "online");

    // The service holds the store: without the API token the CLI cannot do anything.
    let output = cli(&config, None, &["list"]).await;
    expect_code(&output, 2);
    assert!(
        stderr(&output).contains("SHIFTLINE_API_TOKEN"),
        "{}",
        stderr(&output)
    );
    // Pointed at the same store by a configuration the service does not answer on, the
    // CLI says the store is in use rather than failing obscurely.
    let elsewhere = self::config(dir.path(), "elsewhere.toml", &data, free_port());
    let output = cli(&elsewhere, None, &["list"]).await;
    expect_code(&output, 1);
    assert!(stderr(&output).contains("in use"), "{}", stderr(&output));

    let output = cli(&config, Some(API), &["offline", ANA]).await;
    expect_code(&output, 0);
    assert_eq!(stdout(&output), format!("{ANA} (Ana) is offline\n"));
    assert_eq!(presence(&client, &base, ANA).await, "offline");

    let output = cli(&config, Some(API), &["show", ANA]).await;
    expect_code(&output, 0);
    let shown = stdout(&output);
    assert!(shown.contains("skills:         billing"), "{shown}");
    let history: Vec<&str> = shown.lines().filter(|l| l.contains(" -> ")).collect();
    assert_eq!(history.len(), 2, "{shown}");
    assert!(
        history[0].ends_with("offline -> online  via sms"),
        "{shown}"
    );
    assert!(
        history[1].ends_with("online -> offline  via operator"),
        "{shown}"
    );

    // Adding and removing go through the API too.
    let output = cli(&config, Some(API), &["add", "+15550007777", "Dee"]).await;
    expect_code(&output, 0);
    let output = cli(&config, Some(API), &["list"]).await;
    expect_code(&output, 0);
    assert!(
        stdout(&output).contains("+15550007777  Dee"),
        "{}",
        stdout(&output)
    );
    let output = cli(&config, Some(API), &["remove", "+15550007777"]).await;
    expect_code(&output, 0);
    let output = cli(&config, Some(API), &["offline", "+15550007777"]).await;
    expect_code(&output, 1);
    let output = cli(&config, Some("not-the-token"), &["list"]).await;
    expect_code(&output, 2);
    assert!(stderr(&output).contains("refused"), "{}", stderr(&output));
}

async fn app(dir: &Path) -> TestApp {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
    ));
    TestApp::start(dir, clock, &Options::set_up()).await
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, String) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    app.send(request.body(Body::from(body.to_string())).unwrap())
        .await
}

fn sim_worker(app: &TestApp, phone: &str) -> twilio_sim::SimWorker {
    app.sim
        .workers()
        .into_iter()
        .find(|w| w.friendly_name == phone)
        .expect("the worker is in TaskRouter")
}

#[tokio::test]
async fn the_roster_api_refuses_strangers_and_bad_input_and_reaches_taskrouter() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let zoe = r#"{"phone":"+15550004444","name":"Zoe","languages":["es","en"]}"#;

    for token in [None, Some("wrong")] {
        for (method, path) in [
            ("POST", "/api/workers"),
            ("DELETE", "/api/workers/+15550001111"),
            ("POST", "/api/workers/+15550001111/offline"),
        ] {
            let (status, _) = call(&app, method, path, token, zoe).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        }
    }
    assert!(
        app.state
            .store
            .worker(&phone("+15550004444"))
            .await
            .unwrap()
            .is_none()
    );

    let bad = [
        (r#"{"phone":"555","name":"Zoe"}"#, "phone: "),
        (r#"{"phone":"+15550004444","name":" "}"#, "name: "),
        (
            r#"{"phone":"+15550004444","name":"Zoe","language":"fr"}"#,
            "language: ",
        ),
        (
            r#"{"phone":"+15550004444","name":"Zoe","languages":["de"]}"#,
            "languages: ",
        ),
        (
            r#"{"phone":"+15550004444","name":"Zoe","time_zone":"EST"}"#,
            "time_zone: ",
        ),
        (r#"{"phone":"+15550004444"}"#, "missing field `name`"),
        (
            r#"{"phone":"+15550004444","name":"Zoe","nmae":"x"}"#,
            "unknown field `nmae`",
        ),
        ("not json", "body: "),
    ];
    for (body, reason) in bad {
        let (status, text) = call(&app, "POST", "/api/workers", Some(API_TOKEN), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(text.contains(reason), "{body}: {text}");
    }

    let (status, body) = call(&app, "POST", "/api/workers", Some(API_TOKEN), zoe).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(view["presence"], "offline");
    assert_eq!(view["languages"], serde_json::json!(["es", "en"]));
    assert_eq!(view["time_zone"], "America/Chicago");
    let (status, _) = call(&app, "POST", "/api/workers", Some(API_TOKEN), zoe).await;
    assert_eq!(status, StatusCode::OK);

    for (method, path) in [
        ("DELETE", "/api/workers/+15559999999"),
        ("POST", "/api/workers/+15559999999/offline"),
    ] {
        let (status, _) = call(&app, method, path, Some(API_TOKEN), "").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let (status, _) = call(&app, "DELETE", "/api/workers/abc", Some(API_TOKEN), "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Ana goes online by text; the operator takes her offline, and TaskRouter follows.
    for (i, body) in ["on", "1", "yes"].iter().enumerate() {
        app.sms(ANA, body, &format!("SM{i}")).await;
    }
    app.settle().await;
    assert_eq!(sim_worker(&app, ANA).activity_name, "Available");
    let (status, body) = call(
        &app,
        "POST",
        "/api/workers/15550001111/offline",
        Some(API_TOKEN),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(view["presence"], "offline");
    assert_eq!(view["skills"], serde_json::json!(["billing"]));
    app.settle().await;
    assert_eq!(sim_worker(&app, ANA).activity_name, "Offline");
    let (_, history) = app
        .get(&format!("/api/workers/{ANA}/history"), Some(API_TOKEN))
        .await;
    assert!(history.contains(r#""via":"operator""#), "{history}");

    // Removed: gone from the roster, and TaskRouter's Worker matches no queue.
    app.sms(ANA, "on", "SM9").await;
    app.settle().await;
    assert_eq!(sim_worker(&app, ANA).activity_name, "Available");
    let (status, _) = call(
        &app,
        "DELETE",
        &format!("/api/workers/{ANA}"),
        Some(API_TOKEN),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .get(&format!("/api/workers/{ANA}"), Some(API_TOKEN))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.settle().await;
    let worker = sim_worker(&app, ANA);
    assert_eq!(worker.activity_name, "Offline");
    assert_eq!(worker.attributes["skills"], serde_json::json!([]));
    app.stop().await;
}

fn phone(raw: &str) -> shiftline::core::domain::PhoneNumber {
    shiftline::core::domain::PhoneNumber::parse(raw).unwrap()
}

/// The fixture roster without Ana's `[[workers]]` entry.
fn roster_without_ana() -> String {
    let start = common::ROSTER
        .find("[[workers]]\nphone = \"+15550001111\"")
        .expect("Ana is in the fixture");
    let end = start + common::ROSTER[start..].find("\n\n").unwrap() + 2;
    format!("{}{}", &common::ROSTER[..start], &common::ROSTER[end..])
}

#[tokio::test]
async fn a_worker_taken_out_of_the_file_is_off_the_roster_until_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let zoe = "+15550004444";
    let with_ana = Options {
        pin: Some("4321".into()),
        ..Options::set_up()
    };
    let app = app_with(dir.path(), &with_ana).await;
    for (i, body) in ["on", "1", "yes"].iter().enumerate() {
        app.sms(ANA, body, &format!("SMa{i}")).await;
    }
    app.sms(zoe, "JOIN 4321 Zoe", "SMz0").await;
    app.settle().await;
    assert_eq!(sim_worker(&app, ANA).activity_name, "Available");
    let stored = |app: &TestApp, raw: &str| {
        let store = app.state.store.clone();
        let phone = phone(raw);
        async move { store.worker(&phone).await.unwrap() }
    };
    let zoe_before = stored(&app, zoe).await.expect("Zoe joined");

    // The file no longer lists Ana: at start-up she goes offline, and TaskRouter with her.
    let without_ana = Options {
        roster: Some(roster_without_ana()),
        ..with_ana.clone()
    };
    let app = app.restart(dir.path(), &without_ana).await;
    app.settle().await;
    let ana = stored(&app, ANA).await.expect("kept in the store");
    assert!(ana.deactivated);
    assert_eq!(ana.presence.as_str(), "offline");
    assert_eq!(sim_worker(&app, ANA).activity_name, "Offline");
    let (_, history) = app
        .get(&format!("/api/workers/{ANA}/history"), Some(API_TOKEN))
        .await;
    assert!(history.contains(r#""via":"config""#), "{history}");
    let (_, view) = app
        .get(&format!("/api/workers/{ANA}"), Some(API_TOKEN))
        .await;
    assert!(view.contains(r#""on_roster":false"#), "{view}");
    // Her texts change nothing and say why.
    let (_, reply) = app.sms(ANA, "on", "SMa9").await;
    assert!(
        common::message_text(&reply).contains("isn't registered"),
        "{reply}"
    );
    app.settle().await;
    assert_eq!(sim_worker(&app, ANA).activity_name, "Offline");
    assert_eq!(
        stored(&app, ANA).await.unwrap().presence.as_str(),
        "offline"
    );
    // Zoe joined by text: the file never owned her.
    assert_eq!(stored(&app, zoe).await, Some(zoe_before));

    // Back in the file: on the roster again, with her skills, and ON works.
    let app = app.restart(dir.path(), &with_ana).await;
    let ana = stored(&app, ANA).await.unwrap();
    assert!(!ana.deactivated);
    assert_eq!(ana.skills.len(), 1);
    app.sms(ANA, "on", "SMa10").await;
    app.settle().await;
    assert_eq!(sim_worker(&app, ANA).activity_name, "Available");
    app.stop().await;
}

async fn app_with(dir: &Path, options: &Options) -> TestApp {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
    ));
    TestApp::start(dir, clock, options).await
}

/// `shiftline twilio sign ARGS`, with the auth token only when given.
fn sign(token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shiftline"));
    command
        .args(["twilio", "sign"])
        .args(args)
        .env_remove("SHIFTLINE_CONFIG")
        .env_remove("SHIFTLINE_TWILIO_AUTH_TOKEN");
    if let Some(token) = token {
        command.env("SHIFTLINE_TWILIO_AUTH_TOKEN", token);
    }
    command.output().expect("the shiftline binary runs")
}

#[tokio::test]
async fn twilio_sign_signs_a_webhook_the_service_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let url = format!("{}/twilio/sms", app.public_url());
    let output = sign(
        Some(common::AUTH_TOKEN),
        &[
            &url,
            "-d",
            "MessageSid=SM00000000000000000000000000000001",
            "-d",
            &format!("From={ANA}"),
            "To=+15550100000",
            "Body=I'm on",
        ],
    );
    expect_code(&output, 0);
    let signature = stdout(&output).trim().to_string();
    let form = [
        ("MessageSid", "SM00000000000000000000000000000001"),
        ("From", ANA),
        ("To", "+15550100000"),
        ("Body", "I'm on"),
    ];
    let client = reqwest::Client::new();
    let response = client
        .post(&url)
        .header("X-Twilio-Signature", &signature)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("skills"));

    // The same as a command to paste: the signature, and every parameter encoded for curl.
    let output = sign(
        Some(common::AUTH_TOKEN),
        &["--curl", &url, "-d", &format!("From={ANA}"), "Body=I'm on"],
    );
    expect_code(&output, 0);
    let curl = stdout(&output);
    assert!(curl.starts_with("curl "), "{curl}");
    assert!(curl.contains(&format!("'{url}'")), "{curl}");
    assert!(curl.contains("X-Twilio-Signature: "), "{curl}");
    assert!(
        curl.contains(&format!("--data-urlencode 'From={ANA}'")),
        "{curl}"
    );
    assert!(curl.contains(r"'Body=I'\''m on'"), "{curl}");

    // Without the token there is nothing to sign with.
    let output = sign(None, &[&url, "Body=on"]);
    expect_code(&output, 2);
    assert!(
        stderr(&output).contains("SHIFTLINE_TWILIO_AUTH_TOKEN"),
        "{}",
        stderr(&output)
    );
    let output = sign(Some("t"), &[&url, "Body"]);
    expect_code(&output, 2);
    assert!(
        stderr(&output).contains("NAME=VALUE"),
        "{}",
        stderr(&output)
    );
    app.stop().await;
}

/// The texts to `to` waiting in the outbox.
async fn texts_to(app: &TestApp, to: &str) -> Vec<String> {
    app.state
        .store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.command {
            shiftline::core::effects::Command::SendSms { to: t, body } if t.as_str() == to => {
                Some(body)
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn an_operator_taking_a_worker_offline_texts_them_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for (i, body) in ["on", "1", "yes"].iter().enumerate() {
        app.sms(ANA, body, &format!("SM{i}")).await;
    }
    app.settle().await;
    let (status, body) = call(
        &app,
        "POST",
        "/api/workers/15550001111/offline",
        Some(API_TOKEN),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let texts = texts_to(&app, ANA).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("manager took you offline"), "{texts:?}");
    app.settle().await;

    // Already offline: nothing happened to tell her about.
    call(
        &app,
        "POST",
        "/api/workers/15550001111/offline",
        Some(API_TOKEN),
        "",
    )
    .await;
    assert!(texts_to(&app, ANA).await.is_empty());

    app.sms(ANA, "on", "SM9").await;
    app.settle().await;
    let (status, _) = call(
        &app,
        "POST",
        "/api/workers/15550001111/offline?text=false",
        Some(API_TOKEN),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts_to(&app, ANA).await.is_empty());
    assert_eq!(
        app.state
            .store
            .worker(&phone(ANA))
            .await
            .unwrap()
            .unwrap()
            .presence
            .as_str(),
        "offline"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_the_outbox_the_voicemails_and_the_callbacks_of_a_stopped_service() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let app = app(&data).await;
    for (i, body) in ["on", "1", "yes"].iter().enumerate() {
        app.sms(ANA, body, &format!("SM{i}")).await;
    }
    let voicemail = shiftline::store::VoicemailRecord {
        recording_sid: "RE00000000000000000000000000000001".into(),
        call_sid: "CA00000000000000000000000000000001".into(),
        caller: "+15559990000".into(),
        skill: Some("billing".into()),
        recording_url: "https://api.twilio.com/Recordings/RE00000000000000000000000000000001"
            .into(),
        duration_secs: 42,
        at: app.now(),
    };
    app.state
        .store
        .add_voicemail(voicemail, Vec::new(), app.now())
        .await
        .unwrap();
    let request = shiftline::core::callback::Request {
        id: "CA00000000000000000000000000000002".into(),
        customer: "+15559990002".into(),
        caller_city: None,
        skill: Some(shiftline::core::domain::SkillKey::parse("support").unwrap()),
        language: shiftline::core::domain::Locale::En,
        source: shiftline::core::callback::Source::Queue,
        voicemail: None,
    };
    assert!(app.state.request_callback(request).await.unwrap());
    app.state.store.durable().await.unwrap();
    let waiting = app.state.store.outbox().await.unwrap().len();
    assert!(waiting > 0);
    // Stopped: the CLI opens the store itself.
    app.stop().await;

    let config = config(dir.path(), "shiftline.toml", &data, free_port());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_shiftline"))
            .args(args)
            .env("SHIFTLINE_CONFIG", &config)
            .env_remove("SHIFTLINE_API_TOKEN")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let output = run(&["voicemails"]);
    expect_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("+15559990000"), "{out}");
    assert!(out.contains("billing"), "{out}");
    assert!(out.contains("42"), "{out}");
    assert!(out.contains("RE00000000000000000000000000000001"), "{out}");

    let output = run(&["callbacks"]);
    expect_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("CUSTOMER"), "{out}");
    assert!(out.contains("+15559990002"), "{out}");
    assert!(out.contains("support"), "{out}");
    assert!(out.contains("waiting (queue)"), "{out}");

    let output = run(&["outbox"]);
    expect_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("DUE"), "{out}");
    assert!(out.contains("sync worker"), "{out}");
    assert!(
        out.contains(&format!("{waiting} waiting, 0 parked")),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_warns_when_the_api_is_off_and_logs_plain_text_to_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = config(dir.path(), "shiftline.toml", &dir.path().join("data"), port);
    let child = Command::new(env!("CARGO_BIN_EXE_shiftline"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("SHIFTLINE_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
        .env_remove("SHIFTLINE_API_TOKEN")
        .env_remove("SHIFTLINE_LOG_JSON")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the shiftline binary starts");
    let mut service = Service(child);
    common::wait_healthy(&reqwest::Client::new(), &format!("http://127.0.0.1:{port}")).await;
    let _ = service.0.kill();
    let mut log = String::new();
    std::io::Read::read_to_string(service.0.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(log.contains("SHIFTLINE_API_TOKEN"), "{log}");
    assert!(log.contains("roster loaded"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes in a pipe: {log:?}"
    );
}
