//! Drive every `TwilioClient` operation against stand-ins for Twilio, for `.ci/conformance`.
//!
//! ```text
//! cargo run --quiet --example conformance -- --taskrouter URL --api URL [--only-sdk]
//! ```
//!
//! The first ten operations are, value for value and in order, the `scenarios()` of the
//! conformance kit's `sdk_capture.py`, so a capture of them can be compared field by field
//! with what Twilio's official SDK sends. `--only-sdk` stops there; otherwise every other
//! operation follows, so Prism (serving Twilio's OpenAPI specs) checks each one. Prints
//! `OK name` or `FAIL name: error` per operation and `N passed, M failed`; exits 1 if any
//! failed.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use shiftline::twilio::rest::{
    CallCreate, CallUpdate, Endpoints, MessageCreate, ReservationPath, ReservationUpdate,
    RetryPolicy, TaskQueueSpec, TaskUpdate, TwilioClient, TwilioError, WorkerFilter, WorkerUpdate,
    WorkflowSpec, WorkspaceUpdate,
};

// The kit's fixed identities (sdk_capture.py).
const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "test-auth-token";
const WS: &str = "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const WK: &str = "WKcccccccccccccccccccccccccccccccc";
const WR: &str = "WRdddddddddddddddddddddddddddddddd";
const WA_IDLE: &str = "WAeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
const WA_OFFLINE: &str = "WAffffffffffffffffffffffffffffffff";
const WW: &str = "WW11111111111111111111111111111111";
const WT: &str = "WT22222222222222222222222222222222";
const CA: &str = "CA33333333333333333333333333333333";
const WQ: &str = "WQ44444444444444444444444444444444";

#[derive(Parser)]
#[command(about = "Send every Twilio REST operation shiftline uses to the given servers")]
struct Args {
    /// Base URL standing in for https://taskrouter.twilio.com
    #[arg(long)]
    taskrouter: String,
    /// Base URL standing in for https://api.twilio.com
    #[arg(long)]
    api: String,
    /// Send only the ten operations the official SDK capture covers.
    #[arg(long)]
    only_sdk: bool,
}

/// Counts and prints outcomes.
#[derive(Default)]
struct Tally {
    passed: u32,
    failed: u32,
}

impl Tally {
    async fn run<T>(&mut self, name: &str, call: impl Future<Output = Result<T, TwilioError>>) {
        match call.await {
            Ok(_) => {
                self.passed += 1;
                println!("OK {name}");
            }
            Err(e) => {
                self.failed += 1;
                println!("FAIL {name}: {e}");
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let client = TwilioClient::new(
        ACCOUNT,
        TOKEN.into(),
        WS,
        Endpoints {
            api_base: args.api,
            taskrouter_base: args.taskrouter,
        },
        // One try: a retry would hide a rejected request and double the capture.
        RetryPolicy {
            attempts: 1,
            timeout: Duration::from_secs(10),
            ..RetryPolicy::default()
        },
    );
    let mut tally = Tally::default();
    sdk_scenarios(&client, &mut tally).await;
    if !args.only_sdk {
        other_operations(&client, &mut tally).await;
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

/// sdk_capture.py `scenarios()`, in the same order with the same values.
async fn sdk_scenarios(client: &TwilioClient, tally: &mut Tally) {
    let attributes = r#"{"skills": ["en", "support"], "contact_uri": "client:alice"}"#;
    tally
        .run(
            "worker.create",
            client.create_worker("alice", Some(attributes), Some(WA_IDLE)),
        )
        .await;

    let offline = WorkerUpdate {
        activity_sid: Some(WA_OFFLINE.into()),
        reject_pending_reservations: Some(true),
        ..Default::default()
    };
    tally
        .run("worker.update_activity", client.update_worker(WK, &offline))
        .await;

    tally
        .run(
            "activity.list",
            client.list_activities(Some("Available"), Some(20)),
        )
        .await;

    let accept = ReservationUpdate {
        reservation_status: Some("accepted".into()),
        ..Default::default()
    };
    let via_worker = ReservationPath::Worker {
        worker_sid: WK.into(),
        reservation_sid: WR.into(),
    };
    tally
        .run(
            "reservation.accept",
            client.update_reservation(via_worker, &accept),
        )
        .await;

    let via_task = || ReservationPath::Task {
        task_sid: WT.into(),
        reservation_sid: WR.into(),
    };
    let reject = ReservationUpdate {
        reservation_status: Some("rejected".into()),
        worker_activity_sid: Some(WA_OFFLINE.into()),
        ..Default::default()
    };
    tally
        .run(
            "reservation.reject",
            client.update_reservation(via_task(), &reject),
        )
        .await;

    let dequeue = ReservationUpdate {
        instruction: Some("dequeue".into()),
        dequeue_from: Some("+15550001111".into()),
        dequeue_post_work_activity_sid: Some(WA_IDLE.into()),
        dequeue_timeout: Some(20),
        dequeue_status_callback_url: Some("https://svc.example/tr/dequeue-status".into()),
        dequeue_status_callback_event: strings(&["initiated", "answered", "completed"]),
        ..Default::default()
    };
    tally
        .run(
            "reservation.dequeue",
            client.update_reservation(via_task(), &dequeue),
        )
        .await;

    let complete = TaskUpdate {
        assignment_status: Some("completed".into()),
        reason: Some("call ended".into()),
    };
    tally
        .run("task.complete", client.update_task(WT, &complete))
        .await;

    let amd_call = CallCreate {
        to: "+15557654321".into(),
        from: "+15551234567".into(),
        url: Some("https://svc.example/voice/outbound".into()),
        machine_detection: Some("DetectMessageEnd".into()),
        machine_detection_timeout: Some(30),
        async_amd: Some(true),
        async_amd_status_callback: Some("https://svc.example/voice/amd".into()),
        async_amd_status_callback_method: Some("POST".into()),
        status_callback: Some("https://svc.example/voice/status".into()),
        status_callback_event: strings(&["initiated", "ringing", "answered", "completed"]),
        record: Some(false),
        ..Default::default()
    };
    tally
        .run("call.create_amd", client.create_call(&amd_call))
        .await;

    let hang_up_twiml = CallUpdate {
        twiml: Some("<Response><Hangup/></Response>".into()),
        ..Default::default()
    };
    tally
        .run("call.update_twiml", client.update_call(CA, &hang_up_twiml))
        .await;

    let message = MessageCreate {
        to: "+15557654321".into(),
        from: "+15551234567".into(),
        body: "Your ticket #42 é ✓".into(),
        status_callback: Some("https://svc.example/sms/status".into()),
    };
    tally
        .run("message.create", client.create_message(&message))
        .await;
}

/// Every other operation, with values a real deployment would send.
async fn other_operations(client: &TwilioClient, tally: &mut Tally) {
    tally.run("workspace.fetch", client.fetch_workspace()).await;

    let workspace = WorkspaceUpdate {
        friendly_name: Some("shiftline".into()),
        event_callback_url: Some("https://svc.example/tr/events".into()),
        events_filter: Some("task.created,task.canceled,worker.activity.update".into()),
        default_activity_sid: Some(WA_OFFLINE.into()),
        timeout_activity_sid: Some(WA_OFFLINE.into()),
    };
    tally
        .run("workspace.update", client.update_workspace(&workspace))
        .await;

    tally
        .run("activity.list_all", client.list_activities(None, None))
        .await;
    tally
        .run("activity.create", client.create_activity("Busy", false))
        .await;

    tally
        .run("worker.list", client.list_workers(&WorkerFilter::default()))
        .await;
    let filter = WorkerFilter {
        friendly_name: Some("alice".into()),
        target_workers_expression: Some(r#"skills HAS "en""#.into()),
        page_size: Some(50),
    };
    tally
        .run("worker.list_filtered", client.list_workers(&filter))
        .await;
    tally
        .run(
            "worker.create_minimal",
            client.create_worker("bob", None, None),
        )
        .await;
    let rename = WorkerUpdate {
        friendly_name: Some("alice b".into()),
        attributes: Some(r#"{"skills":["en"],"contact_uri":"+15557654321"}"#.into()),
        ..Default::default()
    };
    tally
        .run(
            "worker.update_attributes",
            client.update_worker(WK, &rename),
        )
        .await;

    tally
        .run("task_queue.list", client.list_task_queues(Some("en")))
        .await;
    let queue = TaskQueueSpec {
        friendly_name: Some("en".into()),
        target_workers: Some(r#"skills HAS "en""#.into()),
        max_reserved_workers: Some(1),
        task_order: Some("FIFO".into()),
        reservation_activity_sid: Some(WA_OFFLINE.into()),
        assignment_activity_sid: Some(WA_OFFLINE.into()),
    };
    tally
        .run("task_queue.create", client.create_task_queue(&queue))
        .await;
    tally
        .run("task_queue.update", client.update_task_queue(WQ, &queue))
        .await;

    tally
        .run("workflow.list", client.list_workflows(Some("dispatch")))
        .await;
    let configuration = serde_json::json!({
        "task_routing": {
            "filters": [{
                "filter_friendly_name": "English",
                "expression": r#"skill == "en""#,
                "targets": [{"queue": WQ, "timeout": 60}],
            }],
            "default_filter": {"queue": WQ},
        }
    })
    .to_string();
    let workflow = WorkflowSpec {
        friendly_name: Some("dispatch".into()),
        configuration: Some(configuration),
        assignment_callback_url: Some("https://svc.example/tr/assignment".into()),
        fallback_assignment_callback_url: Some("https://svc.example/tr/assignment-fallback".into()),
        task_reservation_timeout: Some(30),
    };
    tally
        .run("workflow.create", client.create_workflow(&workflow))
        .await;
    tally
        .run("workflow.update", client.update_workflow(WW, &workflow))
        .await;
    tally
        .run("workflow.re_evaluate", client.re_evaluate_tasks(WW))
        .await;

    tally
        .run(
            "task.create",
            client.create_task(
                WW,
                r#"{"skill":"en","call_sid":"CA33333333333333333333333333333333"}"#,
                Some(5),
                Some(3600),
            ),
        )
        .await;

    let redirect = CallUpdate {
        url: Some("https://svc.example/voice/connect".into()),
        method: Some("POST".into()),
        ..Default::default()
    };
    tally
        .run("call.update_url", client.update_call(CA, &redirect))
        .await;
    let hang_up = CallUpdate {
        status: Some("completed".into()),
        ..Default::default()
    };
    tally
        .run("call.update_status", client.update_call(CA, &hang_up))
        .await;

    let tuned_call = CallCreate {
        to: "+15557654321".into(),
        from: "+15551234567".into(),
        twiml: Some("<Response><Say>Hello</Say></Response>".into()),
        status_callback: Some("https://svc.example/voice/status".into()),
        status_callback_method: Some("POST".into()),
        timeout: Some(25),
        machine_detection: Some("Enable".into()),
        machine_detection_timeout: Some(10),
        machine_detection_speech_threshold: Some(2000),
        machine_detection_speech_end_threshold: Some(1500),
        machine_detection_silence_timeout: Some(5000),
        ..Default::default()
    };
    tally
        .run(
            "call.create_twiml_tuned_amd",
            client.create_call(&tuned_call),
        )
        .await;

    let plain = MessageCreate {
        to: "+15557654321".into(),
        from: "+15551234567".into(),
        body: "You are online.".into(),
        status_callback: None,
    };
    tally
        .run("message.create_plain", client.create_message(&plain))
        .await;
}
