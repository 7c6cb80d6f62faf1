//! The client against a local axum server that records each request and answers from a
//! script, so every test sees exactly what went on the wire.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::*;

const AC: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "test-auth-token";
const WS: &str = "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const WK: &str = "WKcccccccccccccccccccccccccccccccc";
const WR: &str = "WRdddddddddddddddddddddddddddddddd";
const WA_IDLE: &str = "WAeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
const WA_OFFLINE: &str = "WAffffffffffffffffffffffffffffffff";
const WT: &str = "WT22222222222222222222222222222222";

#[derive(Clone)]
struct Canned {
    status: u16,
    body: String,
    delay: Duration,
    retry_after: Option<&'static str>,
}

fn answer(status: u16, body: &str) -> Canned {
    Canned {
        status,
        body: body.to_string(),
        delay: Duration::ZERO,
        retry_after: None,
    }
}

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

// A std Mutex, not a tokio one: no .await happens while either is held.
struct Script {
    answers: Mutex<VecDeque<Canned>>,
    seen: Mutex<Vec<Seen>>,
}

struct Mock {
    addr: SocketAddr,
    script: Arc<Script>,
}

impl Mock {
    /// Answers with `answers` in order; the last one repeats once the script runs out.
    async fn start(answers: Vec<Canned>) -> Self {
        let script = Arc::new(Script {
            answers: Mutex::new(answers.into()),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, script }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().expect("lock").clone()
    }

    fn client(&self) -> TwilioClient {
        self.client_with(quick_retry(3))
    }

    fn client_with(&self, retry: RetryPolicy) -> TwilioClient {
        client_at(&self.base(), retry)
    }
}

fn client_at(base: &str, retry: RetryPolicy) -> TwilioClient {
    TwilioClient::new(
        AC,
        TOKEN.into(),
        WS,
        Endpoints {
            api_base: base.to_string(),
            taskrouter_base: base.to_string(),
        },
        retry,
    )
}

fn quick_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        timeout: Duration::from_secs(5),
    }
}

async fn handle(
    State(script): State<Arc<Script>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    script.seen.lock().expect("lock").push(Seen {
        method,
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers,
        body,
    });
    let canned = {
        let mut answers = script.answers.lock().expect("lock");
        if answers.len() > 1 {
            answers.pop_front()
        } else {
            answers.front().cloned()
        }
    }
    .unwrap_or_else(|| answer(200, "{}"));
    tokio::time::sleep(canned.delay).await;
    let mut response = (
        StatusCode::from_u16(canned.status).expect("status"),
        [("content-type", "application/json")],
        canned.body,
    )
        .into_response();
    if let Some(wait) = canned.retry_after {
        response
            .headers_mut()
            .insert("retry-after", wait.parse().expect("a header value"));
    }
    response
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn worker_create_sends_the_sdk_form_with_basic_auth() {
    let mock = Mock::start(vec![answer(201, r#"{"sid": "WKcccccccccccccccccccccccccccccccc", "friendly_name": "alice", "available": false}"#)]).await;
    let attributes = r#"{"skills": ["en", "support"], "contact_uri": "client:alice"}"#;
    let worker = mock
        .client()
        .create_worker("alice", Some(attributes), Some(WA_IDLE))
        .await
        .expect("created");
    assert_eq!(worker.sid.as_deref(), Some(WK));
    assert_eq!(worker.available, Some(false));

    let seen = mock.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, Method::POST);
    assert_eq!(req.path, format!("/v1/Workspaces/{WS}/Workers"));
    assert_eq!(
        req.body,
        "FriendlyName=alice&ActivitySid=WAeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\
         &Attributes=%7B%22skills%22%3A+%5B%22en%22%2C+%22support%22%5D%2C+\
         %22contact_uri%22%3A+%22client%3Aalice%22%7D"
    );
    let credentials = STANDARD.encode(format!("{AC}:{TOKEN}"));
    assert_eq!(req.header("authorization"), format!("Basic {credentials}"));
    assert_eq!(
        req.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(req.header("accept"), "application/json");
    assert!(req.header("user-agent").starts_with("shiftline/"));
}

#[tokio::test]
async fn worker_update_sends_only_the_fields_given() {
    let mock = Mock::start(vec![answer(200, r#"{"sid": "WK1"}"#)]).await;
    let update = WorkerUpdate {
        activity_sid: Some(WA_OFFLINE.into()),
        reject_pending_reservations: Some(true),
        ..Default::default()
    };
    mock.client()
        .update_worker(WK, &update)
        .await
        .expect("updated");
    let req = &mock.seen()[0];
    assert_eq!(req.path, format!("/v1/Workspaces/{WS}/Workers/{WK}"));
    assert_eq!(
        req.form(),
        pairs(&[
            ("ActivitySid", WA_OFFLINE),
            ("RejectPendingReservations", "true")
        ])
    );
}

#[tokio::test]
async fn call_create_with_async_amd_repeats_status_callback_event() {
    let mock = Mock::start(vec![answer(
        201,
        r#"{"sid": "CA33333333333333333333333333333333", "status": "queued", "answered_by": null}"#,
    )])
    .await;
    let call = CallCreate {
        to: "+15557654321".into(),
        from: "+15551234567".into(),
        url: Some("https://svc.example/voice/outbound".into()),
        status_callback: Some("https://svc.example/voice/status".into()),
        status_callback_event: ["initiated", "ringing", "answered", "completed"]
            .map(String::from)
            .to_vec(),
        record: Some(false),
        machine_detection: Some("DetectMessageEnd".into()),
        machine_detection_timeout: Some(30),
        machine_detection_speech_threshold: Some(2000),
        async_amd: Some(true),
        async_amd_status_callback: Some("https://svc.example/voice/amd".into()),
        async_amd_status_callback_method: Some("POST".into()),
        ..Default::default()
    };
    let created = mock.client().create_call(&call).await.expect("created");
    assert_eq!(created.status.as_deref(), Some("queued"));
    assert_eq!(created.answered_by, None);

    let req = &mock.seen()[0];
    assert_eq!(req.path, format!("/2010-04-01/Accounts/{AC}/Calls.json"));
    assert_eq!(
        req.form(),
        pairs(&[
            ("To", "+15557654321"),
            ("From", "+15551234567"),
            ("Url", "https://svc.example/voice/outbound"),
            ("StatusCallback", "https://svc.example/voice/status"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
            ("Record", "false"),
            ("MachineDetection", "DetectMessageEnd"),
            ("MachineDetectionTimeout", "30"),
            ("MachineDetectionSpeechThreshold", "2000"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", "https://svc.example/voice/amd"),
            ("AsyncAmdStatusCallbackMethod", "POST"),
        ])
    );
}

#[tokio::test]
async fn message_create_sends_to_from_body_and_status_callback() {
    let mock = Mock::start(vec![answer(201, r#"{"sid": "SM1", "status": "queued"}"#)]).await;
    let message = MessageCreate {
        to: "+15557654321".into(),
        from: "+15551234567".into(),
        body: "Your ticket #42 é ✓".into(),
        status_callback: Some("https://svc.example/sms/status".into()),
    };
    let sent = mock.client().create_message(&message).await.expect("sent");
    assert_eq!(sent.status.as_deref(), Some("queued"));
    let req = &mock.seen()[0];
    assert_eq!(req.path, format!("/2010-04-01/Accounts/{AC}/Messages.json"));
    assert_eq!(
        req.body,
        "To=%2B15557654321&From=%2B15551234567&Body=Your+ticket+%2342+%C3%A9+%E2%9C%93\
         &StatusCallback=https%3A%2F%2Fsvc.example%2Fsms%2Fstatus"
    );
}

#[tokio::test]
async fn reservation_updates_use_the_task_or_worker_path() {
    let mock = Mock::start(vec![answer(
        200,
        r#"{"sid": "WR1", "reservation_status": "accepted"}"#,
    )])
    .await;
    let client = mock.client();
    let accept = ReservationUpdate {
        reservation_status: Some("accepted".into()),
        ..Default::default()
    };
    let worker_path = ReservationPath::Worker {
        worker_sid: WK.into(),
        reservation_sid: WR.into(),
    };
    let accepted = client
        .update_reservation(worker_path, &accept)
        .await
        .expect("accepted");
    assert_eq!(accepted.reservation_status.as_deref(), Some("accepted"));
    let dequeue = ReservationUpdate {
        instruction: Some("dequeue".into()),
        dequeue_from: Some("+15550001111".into()),
        dequeue_post_work_activity_sid: Some(WA_IDLE.into()),
        dequeue_timeout: Some(20),
        dequeue_status_callback_url: Some("https://svc.example/tr/dequeue-status".into()),
        dequeue_status_callback_event: vec!["initiated".into(), "completed".into()],
        ..Default::default()
    };
    let task_path = ReservationPath::Task {
        task_sid: WT.into(),
        reservation_sid: WR.into(),
    };
    client
        .update_reservation(task_path, &dequeue)
        .await
        .expect("dequeued");

    let seen = mock.seen();
    assert_eq!(
        seen[0].path,
        format!("/v1/Workspaces/{WS}/Workers/{WK}/Reservations/{WR}")
    );
    assert_eq!(seen[0].body, "ReservationStatus=accepted");
    assert_eq!(
        seen[1].path,
        format!("/v1/Workspaces/{WS}/Tasks/{WT}/Reservations/{WR}")
    );
    assert_eq!(
        seen[1].form(),
        pairs(&[
            ("Instruction", "dequeue"),
            ("DequeueFrom", "+15550001111"),
            ("DequeuePostWorkActivitySid", WA_IDLE),
            ("DequeueTimeout", "20"),
            (
                "DequeueStatusCallbackUrl",
                "https://svc.example/tr/dequeue-status"
            ),
            ("DequeueStatusCallbackEvent", "initiated"),
            ("DequeueStatusCallbackEvent", "completed"),
        ])
    );
}

#[tokio::test]
async fn list_filters_are_sent_as_query_parameters() {
    let mock = Mock::start(vec![answer(
        200,
        r#"{"activities": [{"sid": "WA1", "friendly_name": "Available", "available": true}],
            "meta": {"key": "activities", "next_page_url": null}}"#,
    )])
    .await;
    let activities = mock
        .client()
        .list_activities(Some("Available"), Some(20))
        .await
        .expect("listed");
    assert_eq!(activities.len(), 1);
    assert_eq!(activities[0].available, Some(true));
    let req = &mock.seen()[0];
    assert_eq!(req.method, Method::GET);
    assert_eq!(req.path, format!("/v1/Workspaces/{WS}/Activities"));
    assert_eq!(
        req.query.as_deref(),
        Some("FriendlyName=Available&PageSize=20")
    );
    assert_eq!(req.body, "");
}

#[tokio::test]
async fn pagination_follows_next_page_url_across_two_pages() {
    let page_one = format!(
        r#"{{"workers": [{{"sid": "WK1"}}, {{"sid": "WK2"}}],
            "meta": {{"key": "workers", "page": 0, "page_size": 2,
                      "next_page_url": "https://taskrouter.twilio.com/v1/Workspaces/{WS}/Workers?PageSize=2&Page=1&PageToken=PTabc"}}}}"#
    );
    let page_two = r#"{"workers": [{"sid": "WK3"}],
        "meta": {"key": "workers", "page": 1, "page_size": 2, "next_page_url": null}}"#;
    let mock = Mock::start(vec![answer(200, &page_one), answer(200, page_two)]).await;
    let filter = WorkerFilter {
        page_size: Some(2),
        ..Default::default()
    };
    let workers = mock.client().list_workers(&filter).await.expect("listed");
    let sids: Vec<_> = workers.iter().filter_map(|w| w.sid.as_deref()).collect();
    assert_eq!(sids, ["WK1", "WK2", "WK3"]);

    let seen = mock.seen();
    assert_eq!(
        seen.len(),
        2,
        "the next page came from the mock, not Twilio"
    );
    assert_eq!(seen[0].query.as_deref(), Some("PageSize=2"));
    assert_eq!(seen[1].path, format!("/v1/Workspaces/{WS}/Workers"));
    assert_eq!(
        seen[1].query.as_deref(),
        Some("PageSize=2&Page=1&PageToken=PTabc")
    );
    assert!(seen[1].header("authorization").starts_with("Basic "));
}

#[tokio::test]
async fn api_2010_lists_follow_the_relative_next_page_uri() {
    let page_one = format!(
        r#"{{"calls": [{{"sid": "CA1", "status": "completed"}}], "page": 0,
            "next_page_uri": "/2010-04-01/Accounts/{AC}/Calls.json?PageSize=1&Page=1&PageToken=PA1"}}"#
    );
    let page_two = r#"{"calls": [{"sid": "CA2"}], "page": 1, "next_page_uri": null}"#;
    let mock = Mock::start(vec![answer(200, &page_one), answer(200, page_two)]).await;
    let client = mock.client();
    let url = client.account_url(&["Calls"]).expect("url");
    let query = super::form::Params::new().set("PageSize", 1);
    let calls: Vec<Call> = client
        .list(super::client::Api::Api2010, url, &query, "calls")
        .await
        .expect("listed");
    let sids: Vec<_> = calls.iter().filter_map(|c| c.sid.as_deref()).collect();
    assert_eq!(sids, ["CA1", "CA2"]);
    let seen = mock.seen();
    assert_eq!(
        seen[1].path,
        format!("/2010-04-01/Accounts/{AC}/Calls.json")
    );
    assert_eq!(
        seen[1].query.as_deref(),
        Some("PageSize=1&Page=1&PageToken=PA1")
    );
}

#[tokio::test]
async fn a_500_is_retried_and_the_second_answer_wins() {
    let mock = Mock::start(vec![
        answer(
            500,
            r#"{"code": 20500, "message": "Internal Server Error"}"#,
        ),
        answer(200, r#"{"sid": "WT1", "assignment_status": "completed"}"#),
    ])
    .await;
    let update = TaskUpdate {
        assignment_status: Some("completed".into()),
        reason: Some("call ended".into()),
    };
    let task = mock
        .client()
        .update_task(WT, &update)
        .await
        .expect("second try succeeds");
    assert_eq!(task.assignment_status.as_deref(), Some("completed"));
    let seen = mock.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body, "the same form both times");
}

#[tokio::test]
async fn a_429_is_retried() {
    let mock = Mock::start(vec![
        answer(
            429,
            r#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#,
        ),
        answer(200, r#"{"sid": "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}"#),
    ])
    .await;
    let workspace = mock.client().fetch_workspace().await.expect("fetched");
    assert_eq!(workspace.sid.as_deref(), Some(WS));
    assert_eq!(mock.seen().len(), 2);
    assert_eq!(mock.seen()[0].path, format!("/v1/Workspaces/{WS}"));
}

#[tokio::test]
async fn a_429_tells_how_long_twilio_asked_to_wait() {
    let throttled = Canned {
        retry_after: Some("7"),
        ..answer(
            429,
            r#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#,
        )
    };
    let mock = Mock::start(vec![throttled]).await;
    let err = mock
        .client_with(RetryPolicy::once(Duration::from_secs(5)))
        .fetch_workspace()
        .await
        .expect_err("throttled");
    assert!(err.is_throttled());
    assert!(!err.is_permanent());
    assert_eq!(err.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(mock.seen().len(), 1, "tried once: the caller retries");
}

#[tokio::test]
async fn a_400_is_not_retried_and_is_permanent() {
    let mock = Mock::start(vec![answer(
        400,
        r#"{"code": 20001, "message": "Invalid Activity", "status": 400,
            "more_info": "https://www.twilio.com/docs/errors/20001"}"#,
    )])
    .await;
    let err = mock
        .client()
        .create_activity("Available", true)
        .await
        .expect_err("rejected");
    assert_eq!(mock.seen().len(), 1, "a 4xx is never retried");
    assert!(err.is_permanent());
    assert_eq!(err.status, Some(400));
    assert_eq!(mock.seen()[0].body, "FriendlyName=Available&Available=true");
}

#[tokio::test]
async fn a_twilio_error_body_is_surfaced_after_the_last_attempt() {
    let mock = Mock::start(vec![answer(
        503,
        r#"{"code": 20503, "message": "Service unavailable", "status": 503,
            "more_info": "https://www.twilio.com/docs/errors/20503"}"#,
    )])
    .await;
    let err = mock
        .client()
        .update_call(
            "CA33333333333333333333333333333333",
            &CallUpdate {
                status: Some("completed".into()),
                ..Default::default()
            },
        )
        .await
        .expect_err("never recovers");
    assert_eq!(mock.seen().len(), 3, "all attempts used");
    assert!(!err.is_permanent());
    assert_eq!(err.status, Some(503));
    assert_eq!(err.code, Some(20503));
    assert_eq!(err.message, "Service unavailable");
    assert_eq!(
        err.more_info.as_deref(),
        Some("https://www.twilio.com/docs/errors/20503")
    );
    let shown = err.to_string();
    assert!(shown.contains("503") && shown.contains("20503"), "{shown}");
    assert!(!shown.contains(TOKEN));
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let slow = Canned {
        delay: Duration::from_millis(500),
        ..answer(200, r#"{"sid": "late"}"#)
    };
    let page =
        r#"{"workflows": [{"sid": "WW1"}], "meta": {"key": "workflows", "next_page_url": null}}"#;
    let mock = Mock::start(vec![slow, answer(200, page)]).await;
    let retry = RetryPolicy {
        timeout: Duration::from_millis(100),
        ..quick_retry(2)
    };
    let workflows = mock
        .client_with(retry)
        .list_workflows(None)
        .await
        .expect("the second try answers in time");
    assert_eq!(workflows.len(), 1);
    assert_eq!(mock.seen().len(), 2);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let err = client_at(&base, quick_retry(2))
        .fetch_workspace()
        .await
        .expect_err("nothing listens");
    assert_eq!(err.status, None);
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(!err.is_permanent());
}

#[tokio::test]
async fn empty_url_fields_parse_as_none_and_unknown_fields_are_ignored() {
    let mock = Mock::start(vec![answer(
        201,
        r#"{"sid": "WW11111111111111111111111111111111", "friendly_name": "Dispatch",
            "assignment_callback_url": "", "fallback_assignment_callback_url": "",
            "task_reservation_timeout": 120, "configuration": "{\"task_routing\":{}}",
            "document_content_type": null, "links": {"statistics": "x"}, "new_field": 7}"#,
    )])
    .await;
    let spec = WorkflowSpec {
        friendly_name: Some("Dispatch".into()),
        configuration: Some(r#"{"task_routing":{}}"#.into()),
        assignment_callback_url: Some("https://svc.example/tr/assignment".into()),
        task_reservation_timeout: Some(120),
        ..Default::default()
    };
    let workflow = mock.client().create_workflow(&spec).await.expect("created");
    assert_eq!(workflow.assignment_callback_url, None);
    assert_eq!(workflow.fallback_assignment_callback_url, None);
    assert_eq!(workflow.task_reservation_timeout, Some(120));
    assert_eq!(
        workflow.configuration.as_deref(),
        Some(r#"{"task_routing":{}}"#)
    );
    assert_eq!(
        mock.seen()[0].form(),
        pairs(&[
            ("FriendlyName", "Dispatch"),
            ("Configuration", r#"{"task_routing":{}}"#),
            ("AssignmentCallbackUrl", "https://svc.example/tr/assignment"),
            ("TaskReservationTimeout", "120"),
        ])
    );
}
