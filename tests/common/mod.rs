//! A shiftline instance for tests: the real router on a temporary sled store, a clock the
//! test moves by hand, and requests signed the way Twilio signs them.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use shiftline::clock::ManualClock;
use shiftline::config::{ENV_API_TOKEN, ENV_AUTH_TOKEN, ENV_ENROLMENT_PIN, Settings};
use shiftline::twilio::signature;
use shiftline::web::AppState;
use tower::ServiceExt;

pub const AUTH_TOKEN: &str = "test-auth-token";
pub const API_TOKEN: &str = "test-api-token";
pub const PUBLIC_URL: &str = "https://shiftline.example.com";
pub const ROSTER: &str = include_str!("../fixtures/roster.toml");

/// How a request is signed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Signing {
    Twilio,
    Missing,
    WrongToken,
}

pub struct TestApp {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
}

pub fn settings(data_dir: &Path, pin: Option<&str>) -> Settings {
    let text = format!("{ROSTER}\n");
    let mut settings = Settings::parse(&text, |name| match name {
        n if n == ENV_AUTH_TOKEN => Some(AUTH_TOKEN.into()),
        n if n == ENV_API_TOKEN => Some(API_TOKEN.into()),
        n if n == ENV_ENROLMENT_PIN => pin.map(str::to_string),
        _ => None,
    })
    .expect("the test roster parses");
    settings.data_dir = data_dir.to_path_buf();
    settings
}

impl TestApp {
    /// Opens the store in `dir` (a restart when it was opened before).
    pub fn start(dir: &Path, clock: Arc<ManualClock>, pin: Option<&str>) -> Self {
        let state = shiftline::app::build(settings(dir, pin), clock.clone()).expect("app builds");
        Self { state, clock }
    }

    pub fn now(&self) -> DateTime<Utc> {
        use shiftline::clock::Clock;
        self.clock.now()
    }

    /// A signed Twilio SMS webhook.
    pub async fn sms(&self, from: &str, text: &str, sid: &str) -> (StatusCode, String) {
        let params = [
            ("MessageSid", sid),
            ("SmsSid", sid),
            ("AccountSid", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("From", from),
            ("To", "+15550100000"),
            ("Body", text),
            ("NumMedia", "0"),
        ];
        self.post_form("/twilio/sms", &params, Signing::Twilio)
            .await
    }

    pub async fn post_form(
        &self,
        path: &str,
        params: &[(&str, &str)],
        signing: Signing,
    ) -> (StatusCode, String) {
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let body = serde_urlencoded::to_string(&owned).unwrap();
        let url = format!("{PUBLIC_URL}{path}");
        let mut request =
            Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        match signing {
            Signing::Twilio => {
                request = request.header(
                    "x-twilio-signature",
                    signature::sign(AUTH_TOKEN, &url, &owned),
                )
            }
            Signing::WrongToken => {
                request = request.header(
                    "x-twilio-signature",
                    signature::sign("not-the-token", &url, &owned),
                )
            }
            Signing::Missing => {}
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> (StatusCode, String) {
        let mut request = Request::get(path);
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, String) {
        let response = shiftline::web::router(self.state.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The text of the `<Message>` in a TwiML reply, unescaped; empty for `<Response/>`.
pub fn message_text(twiml: &str) -> String {
    let Some(start) = twiml.find("<Message>") else {
        return String::new();
    };
    let end = twiml.find("</Message>").unwrap_or(twiml.len());
    twiml[start + "<Message>".len()..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}
