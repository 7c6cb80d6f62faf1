//! A shiftline instance for tests: the real router on a temporary sled store, served on a
//! loopback port so the built-in Twilio simulator can call it back, a clock the test moves
//! by hand, and requests signed the way Twilio signs them.
#![allow(dead_code)]

pub mod balancer;
pub mod pg;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use shiftline::app::{self, Application};
use shiftline::clock::{Clock, ManualClock};
use shiftline::config::{ENV_API_TOKEN, ENV_AUTH_TOKEN, ENV_ENROLMENT_PIN, Settings};
use shiftline::outbox::Delivery;
use shiftline::twilio::rest::TwilioClient;
use shiftline::twilio::signature;
use shiftline::web::AppState;
use tokio::task::JoinHandle;
use tower::ServiceExt;
use twilio_sim::Simulator;

pub const AUTH_TOKEN: &str = "test-auth-token";
pub const API_TOKEN: &str = "test-api-token";
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
    pub delivery: Delivery,
    pub twilio: TwilioClient,
    pub sim: Simulator,
    pub addr: SocketAddr,
    server: JoinHandle<()>,
}

/// What a test changes from the fixture roster.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub pin: Option<String>,
    pub confirm: Option<shiftline::core::domain::ConfirmMode>,
    /// What the whisper says about the caller (`dispatch.whisper_caller`).
    pub whisper_caller: Option<shiftline::core::dispatch::whisper::WhisperCaller>,
    /// Start-up sets up the simulated workspace, as `serve` does.
    pub set_up: bool,
    /// `[callbacks] enabled`, when not the default (on).
    pub callbacks: Option<bool>,
    /// A whole configuration to use instead of the fixture roster.
    pub roster: Option<String>,
    /// Requests the outbox keeps in flight; 1 unless a test says (replays stay
    /// deterministic when requests reach the simulator one after another).
    pub concurrency: Option<usize>,
    /// How slow and unreliable the simulated Twilio is.
    pub realism: Option<shiftline::config::SimulatorRealism>,
    /// A PostgreSQL database (a URL) instead of sled in the test's directory.
    pub database: Option<String>,
    /// The URL Twilio calls, when it is not the instance's own (a load balancer's).
    pub public_url: Option<String>,
}

impl Options {
    pub fn set_up() -> Self {
        Self {
            set_up: true,
            ..Self::default()
        }
    }
}

pub fn settings(data_dir: &Path, options: &Options) -> Settings {
    let pin = options.pin.as_deref();
    let roster = options.roster.as_deref().unwrap_or(ROSTER);
    let mut settings = Settings::parse(roster, |name| match name {
        n if n == ENV_AUTH_TOKEN => Some(AUTH_TOKEN.into()),
        n if n == ENV_API_TOKEN => Some(API_TOKEN.into()),
        n if n == ENV_ENROLMENT_PIN => pin.map(str::to_string),
        _ => None,
    })
    .expect("the test roster parses");
    settings.data_dir = data_dir.to_path_buf();
    if let Some(mode) = options.confirm {
        settings.dispatch.confirm = mode;
    }
    if let Some(enabled) = options.callbacks {
        settings.callbacks.enabled = enabled;
    }
    if let Some(whisper_caller) = options.whisper_caller {
        settings.dispatch.whisper_caller = whisper_caller;
    }
    settings.requests.max_concurrent = options.concurrency.unwrap_or(1);
    if let Some(realism) = &options.realism {
        settings.simulator = realism.clone();
    }
    if let Some(url) = &options.database {
        settings.store = shiftline::config::StoreChoice::Postgres {
            url: url.clone().into(),
        };
    }
    settings
}

impl TestApp {
    /// A new simulator and a shiftline on a fresh port, its workspace set up.
    pub async fn start(dir: &Path, clock: Arc<ManualClock>, options: &Options) -> Self {
        let settings = settings(dir, options);
        let sim = app::start_simulator(&settings, clock.clone())
            .await
            .expect("simulator starts");
        Self::start_with(dir, clock, options, sim, "127.0.0.1:0".parse().unwrap()).await
    }

    /// shiftline on `addr` against an existing simulator (which outlives restarts, as
    /// Twilio does); the workspace is set up again as `serve` does with the simulator.
    pub async fn start_with(
        dir: &Path,
        clock: Arc<ManualClock>,
        options: &Options,
        sim: Simulator,
        addr: SocketAddr,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let mut settings = settings(dir, options);
        settings.public_url = options
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let app = Application::build(settings, clock.clone(), Some(sim.clone()))
            .await
            .expect("app builds");
        // Like `serve` with the simulator: set it up, or find the workflow set up before.
        if options.set_up {
            app.set_up_workspace().await.expect("setup runs");
        }
        let (state, delivery, twilio) = (
            app.service.clone(),
            app.delivery.clone(),
            app.twilio.clone(),
        );
        let workflows = twilio
            .list_workflows(Some(shiftline::service::setup::WORKFLOW))
            .await
            .unwrap_or_default();
        if let Some(sid) = workflows.into_iter().next().and_then(|w| w.sid) {
            state.set_workflow_sid(sid);
        }
        sim.settle().await;
        sim.take_requests();
        // The tests deliver the outbox themselves (`settle`), so replays are deterministic.
        let server = tokio::spawn(async move {
            let _ = app
                .run_until_stopped(listener, std::future::pending(), false)
                .await;
        });
        Self {
            state,
            clock,
            delivery,
            twilio,
            sim,
            addr,
            server,
        }
    }

    /// Stops this instance and starts a new one on the same store, port and simulator. The
    /// simulator outlives the restart, as Twilio does, so its workspace is not set up again.
    pub async fn restart(self, dir: &Path, options: &Options) -> Self {
        self.restart_after(dir, options, chrono::TimeDelta::zero())
            .await
    }

    /// A restart after `downtime` with the service stopped: nothing is delivered meanwhile.
    pub async fn restart_after(
        self,
        dir: &Path,
        options: &Options,
        downtime: chrono::TimeDelta,
    ) -> Self {
        let (clock, sim, addr) = (self.clock.clone(), self.sim.clone(), self.addr);
        self.stop().await;
        clock.advance(downtime);
        let options = Options {
            set_up: false,
            ..options.clone()
        };
        Self::start_with(dir, clock, &options, sim, addr).await
    }

    pub async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn public_url(&self) -> &str {
        &self.state.settings.public_url
    }

    /// Lets the outbox and the simulator do everything that is due now.
    pub async fn settle(&self) {
        // Each round may start the next (a call placed, then answered, then rejected...).
        for _ in 0..10 {
            let report = self.delivery.deliver_due().await.expect("outbox readable");
            self.sim.tick().await;
            self.sim.settle().await;
            if report.delivered == 0 && report.parked == 0 && report.retrying == 0 {
                break;
            }
        }
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
        let url = format!("{}{path}", self.public_url());
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

/// Waits until a spawned `shiftline serve` at `base` answers `/healthz`.
pub async fn wait_healthy(client: &reqwest::Client, base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("shiftline did not become healthy");
}

/// A signed SMS webhook to a running server over HTTP, as Twilio sends it; the status, or
/// None when the server did not answer (it was killed, say).
pub async fn post_sms(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    from: &str,
    body: &str,
    sid: &str,
) -> Option<u16> {
    post_sms_via(client, base, base, token, from, body, sid).await
}

/// `post_sms` signed for the public URL `public` (a load balancer's, say) and sent
/// straight to the server at `to`.
pub async fn post_sms_via(
    client: &reqwest::Client,
    public: &str,
    to: &str,
    token: &str,
    from: &str,
    body: &str,
    sid: &str,
) -> Option<u16> {
    let params = vec![
        ("MessageSid".to_string(), sid.to_string()),
        ("From".to_string(), from.to_string()),
        ("To".to_string(), "+15550100000".to_string()),
        ("Body".to_string(), body.to_string()),
    ];
    let sig = signature::sign(token, &format!("{public}/twilio/sms"), &params);
    let response = client
        .post(format!("{to}/twilio/sms"))
        .header("x-twilio-signature", sig)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&params).unwrap())
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    response.text().await.ok()?;
    Some(status)
}

/// A port nothing listens on now, for a process the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A callback request `id`, asked for in the queue at `at`, waiting: what the store tests
/// keep and copy.
pub fn waiting_callback(id: &str, at: DateTime<Utc>) -> shiftline::core::callback::CallbackRecord {
    let request = shiftline::core::callback::Request {
        id: id.into(),
        customer: "+15559990000".into(),
        caller_city: None,
        skill: None,
        language: shiftline::core::domain::Locale::En,
        source: shiftline::core::callback::Source::Queue,
        voicemail: None,
    };
    shiftline::core::callback::CallbackRecord::new(&request, at)
}

/// The outbox command that puts callback `id` in TaskRouter, at `not_before` or at once.
pub fn create_task(
    id: &str,
    not_before: Option<DateTime<Utc>>,
) -> shiftline::core::effects::Command {
    shiftline::core::effects::Command::CreateTask {
        callback: id.into(),
        attributes: format!(r#"{{"type":"callback","callback":"{id}"}}"#),
        priority: 0,
        timeout_secs: 86_400,
        not_before,
    }
}
