//! `twilio_sim::serve`: the simulator on its own, as a separate process runs it. Nobody
//! ticks it or tells it where shiftline is: its timers run on the real clock, and its
//! callbacks go, signed, to the URLs the REST requests gave it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha1::Sha1;
use tokio::net::TcpListener;
use twilio_sim::{Realism, SimulatorConfig, system_time};

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const WORKSPACE: &str = "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const TOKEN: &str = "standalone-test-token";

/// A callback shiftline would have received: its path, its parameters and whether its
/// `X-Twilio-Signature` is right.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    params: Vec<(String, String)>,
    signed: bool,
}

type Log = Arc<Mutex<Vec<Received>>>;

/// Twilio's signature, computed here from its definition rather than with the
/// simulator's own signer, so that this test checks the signer too.
fn expected_signature(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<_> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(TOKEN.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

async fn receive(
    State((base, log)): State<(String, Log)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let signed = signature == expected_signature(&format!("{base}{uri}"), &params);
    log.lock().unwrap().push(Received {
        path: uri.path().to_string(),
        params,
        signed,
    });
    ""
}

/// Stands in for a shiftline instance: records every callback.
async fn shiftline() -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Log::default();
    let app = Router::new()
        .fallback(receive)
        .with_state((base.clone(), log.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, log)
}

struct Rest {
    http: reqwest::Client,
    workspace: String,
}

impl Rest {
    async fn post(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.workspace))
            .basic_auth(ACCOUNT, Some(TOKEN))
            .form(params)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}");
        response.json().await.unwrap()
    }

    async fn create(&self, path: &str, params: &[(&str, &str)]) -> String {
        self.post(path, params).await["sid"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[tokio::test]
async fn a_standalone_simulator_runs_its_timers_and_calls_back_where_it_was_told() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    let config = SimulatorConfig {
        account_sid: ACCOUNT.into(),
        workspace_sid: WORKSPACE.into(),
        auth_token: TOKEN.into(),
        clock: system_time(),
        realism: Realism::default(),
    };
    let server = tokio::spawn(twilio_sim::serve(listener, config));
    let (base, log) = shiftline().await;
    let rest = Rest {
        http: reqwest::Client::new(),
        workspace: format!("{sim_url}/v1/Workspaces/{WORKSPACE}"),
    };

    // Set up the way `shiftline twilio setup` does, with shiftline's URLs.
    let available = rest
        .create(
            "/Activities",
            &[("FriendlyName", "Available"), ("Available", "true")],
        )
        .await;
    let unavailable = rest
        .create("/Activities", &[("FriendlyName", "Unavailable")])
        .await;
    rest.post(
        "",
        &[
            ("EventCallbackUrl", &format!("{base}/events")),
            ("DefaultActivitySid", &unavailable),
            ("TimeoutActivitySid", &unavailable),
        ],
    )
    .await;
    let queue = rest
        .create(
            "/TaskQueues",
            &[("FriendlyName", "Everyone"), ("TargetWorkers", "1==1")],
        )
        .await;
    let configuration = json!({"task_routing": {"default_filter": {"queue": queue}}});
    let workflow = rest
        .create(
            "/Workflows",
            &[
                ("FriendlyName", "Customers"),
                ("Configuration", &configuration.to_string()),
                ("AssignmentCallbackUrl", &format!("{base}/assignment")),
                ("TaskReservationTimeout", "1"),
            ],
        )
        .await;
    rest.create(
        "/Workers",
        &[("FriendlyName", "Ana"), ("ActivitySid", &available)],
    )
    .await;
    rest.create(
        "/Tasks",
        &[
            ("WorkflowSid", &workflow),
            ("Attributes", r#"{"skill":"billing"}"#),
        ],
    )
    .await;

    // Nobody answers the reservation: its one-second timeout fires on the real clock.
    let mut received = Vec::new();
    for _ in 0..100 {
        received = log.lock().unwrap().clone();
        let timed_out = received.iter().any(|r| {
            r.params
                .contains(&("EventType".into(), "reservation.timeout".into()))
        });
        if timed_out {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let event_types: Vec<&str> = received
        .iter()
        .filter(|r| r.path == "/events")
        .flat_map(|r| r.params.iter().filter(|(k, _)| k == "EventType"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        event_types.contains(&"reservation.timeout"),
        "{event_types:?}"
    );
    assert!(received.iter().any(|r| r.path == "/assignment"));
    assert!(received.iter().all(|r| r.signed), "{received:?}");
    assert!(!server.is_finished());
}
