//! The control API, end to end: a simulator running on its own (`twilio_sim::serve` on
//! 127.0.0.1:0, as `shiftline simulator` runs it) driven only over HTTP with
//! `twilio_sim::Remote`, as a test in another process drives it. A small receiver stands
//! in for shiftline: it answers fixed TwiML per path and records what it was sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use twilio_sim::{Answer, Realism, Remote, RemoteError, SimulatorConfig, system_time};

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const WORKSPACE: &str = "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const TOKEN: &str = "control-test-token";

const CUSTOMER: &str = "+15559990000";
const BUSINESS: &str = "+15550100001";
const ANA: &str = "+15550001111";
const DAN: &str = "+15550002222";

/// A request the receiver got: its path and form parameters.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    params: Vec<(String, String)>,
}

impl Received {
    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

type Log = Arc<Mutex<Vec<Received>>>;
type Pages = Arc<HashMap<&'static str, &'static str>>;

/// shiftline's stand-in: answers `pages[path]` as TwiML (an empty 200 elsewhere).
struct Receiver {
    base: String,
    log: Log,
}

impl Receiver {
    async fn start(pages: &[(&'static str, &'static str)]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Log::default();
        let pages: Pages = Arc::new(pages.iter().copied().collect());
        let app = Router::new()
            .fallback(receive)
            .with_state((log.clone(), pages));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { base, log }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut self.log.lock().unwrap())
    }
}

async fn receive(State((log, pages)): State<(Log, Pages)>, uri: Uri, body: Bytes) -> Response {
    let params = url::form_urlencoded::parse(&body).into_owned().collect();
    log.lock().unwrap().push(Received {
        path: uri.path().to_string(),
        params,
    });
    match pages.get(uri.path()) {
        Some(twiml) => ([(header::CONTENT_TYPE, "text/xml")], *twiml).into_response(),
        None => StatusCode::OK.into_response(),
    }
}

/// A simulator served on its own, and a `Remote` for it once it answers.
async fn standalone() -> Remote {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = SimulatorConfig {
        account_sid: ACCOUNT.into(),
        workspace_sid: WORKSPACE.into(),
        auth_token: TOKEN.into(),
        clock: system_time(),
        realism: Realism::default(),
    };
    tokio::spawn(twilio_sim::serve(listener, config));
    let remote = Remote::new(format!("{url}/"), ACCOUNT, TOKEN).unwrap();
    let info = remote.wait_until_up(Duration::from_secs(5)).await.unwrap();
    assert_eq!(info.base_url, url);
    assert_eq!(remote.base_url(), url, "the trailing slash is dropped");
    remote
}

/// Twilio's REST API on the simulator, as shiftline's client calls it.
struct Rest {
    http: reqwest::Client,
    base: String,
}

impl Rest {
    fn new(remote: &Remote) -> Rest {
        Rest {
            http: reqwest::Client::new(),
            base: remote.base_url(),
        }
    }

    /// The status and JSON body.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(ACCOUNT, Some(TOKEN))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, path: &str, form: &[(&str, &str)]) -> String {
        let (status, body) = self.send(reqwest::Method::POST, path, form).await;
        assert_eq!(status, 201, "{path}: {body}");
        body["sid"].as_str().unwrap().to_string()
    }
}

fn api2010(tail: &str) -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT}/{tail}")
}

fn taskrouter(tail: &str) -> String {
    format!("/v1/Workspaces/{WORKSPACE}/{tail}")
}

const CUSTOMER_LINE: &str = r#"<Response><Say>Thanks for calling</Say><Gather numDigits="1" timeout="60" action="/voice/menu"><Say>Press 1 for billing</Say></Gather><Say>Goodbye</Say></Response>"#;
const MENU: &str = "<Response><Say>Billing it is</Say><Hangup/></Response>";
const VOICEMAIL: &str = r#"<Response><Say>Leave a message</Say><Record maxLength="30" action="/voice/recorded" recordingStatusCallback="/voice/recording"/></Response>"#;
const WORKER_PROMPT: &str = "<Response><Say>A call for you</Say><Hangup/></Response>";

#[tokio::test]
async fn calls_are_scripted_placed_inspected_and_hung_up_over_the_control_api() {
    let remote = standalone().await;
    let shiftline = Receiver::start(&[
        ("/voice/customer", CUSTOMER_LINE),
        ("/voice/menu", MENU),
        ("/voice/voicemail", VOICEMAIL),
        ("/voice/worker", WORKER_PROMPT),
    ])
    .await;

    // The customer presses 1 on their first call and nothing on the next ones (for a
    // caller, any answer but a person's is a person who presses nothing).
    remote
        .script_phone_text(CUSTOMER, "human:1, busy")
        .await
        .unwrap();
    let first = remote
        .place_call(CUSTOMER, BUSINESS, &shiftline.url("/voice/customer"))
        .await
        .unwrap();
    assert!(first.starts_with("CA"), "{first}");
    remote.settle().await.unwrap();

    let received = shiftline.take();
    let paths: Vec<&str> = received.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/voice/customer", "/voice/menu"]);
    assert_eq!(received[0].get("CallSid"), Some(first.as_str()));
    assert_eq!(received[0].get("From"), Some(CUSTOMER));
    assert_eq!(received[1].get("Digits"), Some("1"));
    let calls = remote.calls().await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].sid, first);
    assert_eq!(calls[0].direction, "inbound");
    assert_eq!(calls[0].status, "completed");
    assert_eq!(
        (calls[0].from.as_str(), calls[0].to.as_str()),
        (CUSTOMER, BUSINESS)
    );

    // The call log can be read, then taken.
    let log = remote.call_log().await.unwrap();
    assert!(log.contains(&"CA..01 presses 1".to_string()), "{log:#?}");
    assert!(
        log.contains(&"CA..01 hears \"Billing it is\"".to_string()),
        "{log:#?}"
    );
    assert_eq!(
        remote.call_log().await.unwrap(),
        log,
        "reading takes nothing"
    );
    assert_eq!(remote.take_call_log().await.unwrap(), log);
    assert!(remote.call_log().await.unwrap().is_empty());

    // The second call waits at the Gather (its 60 s timeout is far off) until the
    // customer hangs up.
    let second = remote
        .place_call(CUSTOMER, BUSINESS, &shiftline.url("/voice/customer"))
        .await
        .unwrap();
    remote.settle().await.unwrap();
    let status = |calls: &[twilio_sim::SimCall], sid: &str| {
        calls.iter().find(|c| c.sid == sid).unwrap().status.clone()
    };
    assert_eq!(
        status(&remote.calls().await.unwrap(), &second),
        "in-progress"
    );
    remote.hang_up(&second).await.unwrap();
    remote.settle().await.unwrap();
    assert_eq!(status(&remote.calls().await.unwrap(), &second), "completed");
    let paths: Vec<String> = shiftline.take().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/voice/customer"], "no digits, no menu");
    let log = remote.take_call_log().await.unwrap();
    assert!(!log.iter().any(|l| l.contains("presses")), "{log:#?}");
    assert_eq!(
        log.last().map(String::as_str),
        Some("CA..02 completed"),
        "{log:#?}"
    );

    // A voicemail: a caller who talks 12 s records 12 s.
    remote
        .script_phone(
            DAN,
            vec![Answer::Human {
                after_secs: 0,
                digits: None,
                talk_secs: 12,
            }],
        )
        .await
        .unwrap();
    let third = remote
        .place_call(DAN, BUSINESS, &shiftline.url("/voice/voicemail"))
        .await
        .unwrap();
    remote.settle().await.unwrap();
    let recordings = remote.recordings().await.unwrap();
    assert_eq!(recordings.len(), 1, "{recordings:?}");
    assert_eq!(recordings[0].call_sid, third);
    assert_eq!(recordings[0].duration, 12);
    assert!(recordings[0].sid.starts_with("RE"));

    // Outbound calls placed over REST ring the scripted phones: Ana picks up at once
    // (her answer is due at the next tick), Dan's line is busy from now on.
    remote
        .script_phone(
            ANA,
            vec![Answer::Human {
                after_secs: 0,
                digits: None,
                talk_secs: 5,
            }],
        )
        .await
        .unwrap();
    remote.script_phone(DAN, vec![Answer::Busy]).await.unwrap();
    let rest = Rest::new(&remote);
    let worker_url = shiftline.url("/voice/worker");
    let to_ana = rest
        .create(
            &api2010("Calls.json"),
            &[("To", ANA), ("From", BUSINESS), ("Url", &worker_url)],
        )
        .await;
    let to_dan = rest
        .create(
            &api2010("Calls.json"),
            &[("To", DAN), ("From", BUSINESS), ("Url", &worker_url)],
        )
        .await;
    remote.tick().await.unwrap();
    remote.settle().await.unwrap();
    let calls = remote.calls().await.unwrap();
    assert_eq!(status(&calls, &to_ana), "completed");
    assert_eq!(status(&calls, &to_dan), "busy");
    let fetched: Vec<Option<String>> = shiftline
        .take()
        .into_iter()
        .filter(|r| r.path == "/voice/worker")
        .map(|r| r.get("CallSid").map(str::to_string))
        .collect();
    assert_eq!(
        fetched,
        [Some(to_ana)],
        "only the call answered runs its TwiML"
    );

    // A script that does not read is refused, with the reason.
    let refused = remote.script_phone_text(ANA, "human:one").await;
    match refused {
        Err(RemoteError::Refused { status, message }) => {
            assert_eq!(status, 400);
            assert!(message.contains("not keypad digits"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

const TRANSCRIBED: &str = r#"<Response><Record maxLength="30" transcribe="true" transcribeCallback="/voice/transcribed"/></Response>"#;

#[tokio::test]
async fn what_a_caller_says_is_set_over_the_control_api_and_transcribed() {
    let remote = standalone().await;
    let shiftline = Receiver::start(&[("/voice/voicemail", TRANSCRIBED)]).await;
    remote.phone_says(DAN, "Please call me back").await.unwrap();
    // Scripting the answers afterwards keeps what the caller says.
    remote.script_phone_text(DAN, "human::0:12").await.unwrap();
    remote
        .place_call(DAN, BUSINESS, &shiftline.url("/voice/voicemail"))
        .await
        .unwrap();
    remote.settle().await.unwrap();
    let recording = remote.recordings().await.unwrap().remove(0);
    let transcription = recording.transcription.unwrap();
    assert_eq!(transcription.text.as_deref(), Some("Please call me back"));
    let received = shiftline.take();
    let callback = received
        .iter()
        .find(|r| r.path == "/voice/transcribed")
        .unwrap();
    assert_eq!(
        callback.get("TranscriptionText"),
        Some("Please call me back")
    );
    assert_eq!(
        callback.get("TranscriptionSid"),
        Some(transcription.sid.as_str())
    );

    // Forgotten: the next transcription fails.
    remote.phone_says(DAN, "").await.unwrap();
    remote
        .place_call(DAN, BUSINESS, &shiftline.url("/voice/voicemail"))
        .await
        .unwrap();
    remote.settle().await.unwrap();
    let received = shiftline.take();
    let failed = received
        .iter()
        .find(|r| r.path == "/voice/transcribed")
        .unwrap();
    assert_eq!(failed.get("TranscriptionStatus"), Some("failed"));
    assert_eq!(failed.get("TranscriptionText"), None);
}

#[tokio::test]
async fn rest_requests_are_read_drained_and_failed_over_the_control_api() {
    let remote = standalone().await;
    let rest = Rest::new(&remote);
    let message = rest
        .create(
            &api2010("Messages.json"),
            &[("To", ANA), ("From", BUSINESS), ("Body", "Shift at 9?")],
        )
        .await;
    let (status, _) = rest
        .send(reqwest::Method::GET, &taskrouter("Workers"), &[])
        .await;
    assert_eq!(status, 200);

    let messages = remote.messages().await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].sid, message);
    assert_eq!(
        (
            messages[0].to.as_str(),
            messages[0].from.as_str(),
            messages[0].body.as_str()
        ),
        (ANA, BUSINESS, "Shift at 9?")
    );

    // Read (the control requests themselves are never recorded), then drained.
    let requests = remote.requests().await.unwrap();
    let seen: Vec<(String, String, u16)> = requests
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("POST".into(), api2010("Messages.json"), 201),
            ("GET".into(), taskrouter("Workers"), 200),
        ]
    );
    assert!(
        requests[0]
            .params
            .contains(&("Body".into(), "Shift at 9?".into()))
    );
    assert_eq!(
        remote.requests().await.unwrap(),
        requests,
        "reading takes nothing"
    );
    let info = remote.info().await.unwrap();
    assert_eq!(info.requests_held, 2);
    assert_eq!(info.record_limit, twilio_sim::RECORD_LIMIT);
    assert_eq!(info.record_limit, 100_000);
    assert_eq!(info.requests_dropped, 0);
    assert_eq!(remote.take_requests().await.unwrap(), requests);
    assert!(remote.requests().await.unwrap().is_empty());
    assert!(remote.take_requests().await.unwrap().is_empty());

    // Injected failures: the next two REST requests fail and are not applied.
    remote.fail_next(503, 2).await.unwrap();
    let mut statuses = Vec::new();
    for body in ["one", "two", "three"] {
        let (status, answer) = rest
            .send(
                reqwest::Method::POST,
                &api2010("Messages.json"),
                &[("To", ANA), ("From", BUSINESS), ("Body", body)],
            )
            .await;
        if status == 503 {
            assert_eq!(answer["code"], 20500);
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [503, 503, 201]);
    let recorded: Vec<u16> = remote
        .take_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(recorded, [503, 503, 201]);
    let bodies: Vec<String> = remote
        .messages()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies, ["Shift at 9?", "three"]);
    let refused = remote.fail_next(200, 1).await;
    assert!(
        matches!(refused, Err(RemoteError::Refused { status: 400, .. })),
        "{refused:?}"
    );

    // Realism: impossible knobs are refused and the old ones kept; the control API
    // itself never sees them.
    let refused = remote
        .set_realism(Realism {
            error_rate: 1.5,
            ..Realism::default()
        })
        .await;
    match refused {
        Err(RemoteError::Refused { status, message }) => {
            assert_eq!(status, 400);
            assert!(message.contains("error_rate"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(remote.realism().await.unwrap(), Realism::default());
    let failing = Realism {
        error_rate: 1.0,
        rps_limit: Some(50),
        seed: 3,
        ..Realism::default()
    };
    remote.set_realism(failing.clone()).await.unwrap();
    assert_eq!(remote.realism().await.unwrap(), failing);
    let (status, _) = rest
        .send(reqwest::Method::GET, &taskrouter("Workers"), &[])
        .await;
    assert_eq!(status, 500);
    assert!(
        remote.workers().await.unwrap().is_empty(),
        "control still answers"
    );
    remote.set_realism(Realism::default()).await.unwrap();
    let (status, _) = rest
        .send(reqwest::Method::GET, &taskrouter("Workers"), &[])
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn taskrouter_is_inspected_and_fed_tasks_over_the_control_api() {
    let remote = standalone().await;
    let rest = Rest::new(&remote);
    let available = rest
        .create(
            &taskrouter("Activities"),
            &[("FriendlyName", "Available"), ("Available", "true")],
        )
        .await;
    let queue = rest
        .create(
            &taskrouter("TaskQueues"),
            &[("FriendlyName", "Everyone"), ("TargetWorkers", "1==1")],
        )
        .await;
    let configuration = json!({"task_routing": {"default_filter": {"queue": queue}}});
    let workflow = rest
        .create(
            &taskrouter("Workflows"),
            &[
                ("FriendlyName", "Customers"),
                ("Configuration", &configuration.to_string()),
            ],
        )
        .await;
    let ana = rest
        .create(
            &taskrouter("Workers"),
            &[
                ("FriendlyName", "Ana"),
                ("ActivitySid", &available),
                ("Attributes", r#"{"languages":["es"]}"#),
            ],
        )
        .await;

    let workers = remote.workers().await.unwrap();
    assert_eq!(workers.len(), 1);
    assert_eq!(workers[0].sid, ana);
    assert_eq!(workers[0].friendly_name, "Ana");
    assert_eq!(workers[0].activity_name, "Available");
    assert!(workers[0].available);
    assert_eq!(workers[0].attributes, json!({"languages": ["es"]}));

    let task = remote
        .create_task(&workflow, json!({"skill": "billing"}))
        .await
        .unwrap();
    assert!(task.starts_with("WT"), "{task}");
    let tasks = remote.tasks().await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].sid, task);
    assert_eq!(tasks[0].attributes, json!({"skill": "billing"}));
    assert_eq!(tasks[0].assignment_status, "reserved");
    assert_eq!(tasks[0].queue.as_deref(), Some("Everyone"));
    assert_eq!(tasks[0].reservations.len(), 1);
    assert_eq!(tasks[0].reservations[0].worker_sid, ana);
    assert_eq!(tasks[0].reservations[0].status, "pending");

    let refused = remote
        .create_task(&workflow, json!(["not", "an", "object"]))
        .await;
    assert!(
        matches!(refused, Err(RemoteError::Refused { status: 400, .. })),
        "{refused:?}"
    );
    let refused = remote.create_task("WWnope", json!({})).await;
    assert!(
        matches!(refused, Err(RemoteError::Refused { status: 400, .. })),
        "{refused:?}"
    );
    assert_eq!(remote.tasks().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_control_api_wants_the_accounts_credentials() {
    let remote = standalone().await;
    let http = reqwest::Client::new();
    let base = remote.base_url();

    let anonymous = http
        .get(format!("{base}/__sim/calls"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], 20003);
    let placed = http
        .post(format!("{base}/__sim/calls"))
        .json(&json!({"from": CUSTOMER, "to": BUSINESS, "url": "http://127.0.0.1:9/voice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 401);
    let wrong_token = http
        .post(format!("{base}/__sim/fail-next"))
        .basic_auth(ACCOUNT, Some("not-the-token"))
        .json(&json!({"status": 500, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_token.status(), 401);
    let stranger = Remote::new(&base, ACCOUNT, "not-the-token").unwrap();
    match stranger.take_requests().await {
        Err(RemoteError::Refused { status: 401, .. }) => {}
        other => panic!("{other:?}"),
    }
    match stranger.wait_until_up(Duration::from_secs(5)).await {
        Err(RemoteError::Refused { status: 401, .. }) => {}
        other => panic!("{other:?}"),
    }

    // Nothing was done: no call placed, no failure armed, nothing recorded.
    assert!(remote.calls().await.unwrap().is_empty());
    assert!(remote.requests().await.unwrap().is_empty());
    let rest = Rest::new(&remote);
    let (status, _) = rest
        .send(reqwest::Method::GET, &taskrouter("Workers"), &[])
        .await;
    assert_eq!(status, 200);

    // Unknown control paths are the control API's 404, not a recorded Twilio request.
    let unknown = http
        .get(format!("{base}/__sim/nothing/here"))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["code"], 20404);
    let bad_body = http
        .post(format!("{base}/__sim/calls"))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_body.status(), 400);
    let recorded: Vec<String> = remote
        .take_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(recorded, [taskrouter("Workers")]);
}

#[tokio::test]
async fn a_remote_for_a_simulator_that_is_not_there_says_so() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let remote = Remote::new(&url, ACCOUNT, TOKEN).unwrap();
    let error = remote.workers().await.unwrap_err();
    assert!(matches!(error, RemoteError::Http(_)), "{error:?}");
    assert!(error.to_string().contains("did not answer"), "{error}");
    let error = remote
        .wait_until_up(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(error, RemoteError::Http(_)), "{error:?}");
}

#[tokio::test]
async fn a_standalone_simulator_rings_and_answers_on_the_real_clock_by_itself() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = SimulatorConfig {
        account_sid: ACCOUNT.into(),
        workspace_sid: WORKSPACE.into(),
        auth_token: TOKEN.into(),
        clock: system_time(),
        realism: Realism::default(),
    };
    let sim = twilio_sim::Simulator::start_standalone(listener, config).unwrap();
    let remote = Remote::new(sim.base_url(), ACCOUNT, TOKEN).unwrap();
    let shiftline = Receiver::start(&[("/voice/worker", WORKER_PROMPT)]).await;
    remote.script_phone_text(ANA, "human::1").await.unwrap();
    let rest = Rest::new(&remote);
    let url = shiftline.url("/voice/worker");
    let sid = rest
        .create(
            &api2010("Calls.json"),
            &[("To", ANA), ("From", BUSINESS), ("Url", &url)],
        )
        .await;

    // Ana picks up after a second of real time; nobody calls `tick`. Polled, since
    // what is awaited is the simulator's own timer.
    let started = std::time::Instant::now();
    let status = loop {
        remote.settle().await.unwrap();
        let status = remote
            .calls()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.sid == sid)
            .unwrap()
            .status;
        if status == "completed" || started.elapsed() > Duration::from_secs(10) {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, "completed");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it rang first"
    );
    let paths: Vec<String> = shiftline.take().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/voice/worker"]);
    // The in-process handle and the remote one see the same simulator.
    assert_eq!(sim.call_log(), remote.call_log().await.unwrap());
    assert!(
        sim.call_log()
            .contains(&"CA..01 answered by human".to_string())
    );
}
