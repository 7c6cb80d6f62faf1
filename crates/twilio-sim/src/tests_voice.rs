//! Calls end to end: scripted phones, shiftline's TwiML served by the test receiver (a
//! small axum app that answers fixed TwiML per path and checks every signature), the
//! clock moved by hand.

use serde_json::{Value, json};

use super::tests::{ACCOUNT, Harness, Received, event_types, events};
use super::*;

const CUSTOMER: &str = "+15559990000";
const BUSINESS: &str = "+15550100001";
const ANA: &str = "+15550001111";
const DAN: &str = "+15550002222";

/// The requests made to `/voice/...` paths, in order.
pub(super) fn voice(received: &[Received]) -> Vec<&Received> {
    received
        .iter()
        .filter(|r| r.path.starts_with("/voice/"))
        .collect()
}

pub(super) fn paths(received: &[&Received]) -> Vec<String> {
    received.iter().map(|r| r.path.clone()).collect()
}

fn has(received: &Received, name: &str) -> bool {
    received.params.iter().any(|(k, _)| k == name)
}

fn answer(text: &str) -> Answer {
    Answer::parse(text).unwrap()
}

impl Harness {
    pub(super) fn calls_url(&self, tail: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{ACCOUNT}/Calls{tail}",
            self.sim.base_url()
        )
    }

    /// `POST /Calls.json`, as shiftline's dispatcher places a call; the CallSid.
    pub(super) async fn dial_out(&self, params: &[(&str, &str)]) -> String {
        let (status, body) = self
            .send(self.http.post(self.calls_url(".json")).form(params))
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["status"], "queued");
        body["sid"].as_str().unwrap().to_string()
    }

    /// A press-1 prompt call with asynchronous AMD.
    async fn dial_out_with_async_amd(&self, to: &str) -> String {
        let (url, amd) = (
            self.receiver.url("/voice/worker"),
            self.receiver.url("/voice/amd"),
        );
        self.dial_out(&[
            ("To", to),
            ("From", BUSINESS),
            ("Url", &url),
            ("MachineDetection", "Enable"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", &amd),
            ("Timeout", "20"),
        ])
        .await
    }

    pub(super) async fn update_call(&self, sid: &str, params: &[(&str, &str)]) -> Value {
        let (status, body) = self
            .send(
                self.http
                    .post(self.calls_url(&format!("/{sid}.json")))
                    .form(params),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// shiftline's customer line: a greeting, then Enqueue with the Task JSON.
    fn serve_customer_line(&self, ws: &tests::Workspace, task: &str) {
        let twiml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thanks for calling</Say><Enqueue workflowSid="{}" waitUrl="/voice/wait"><Task>{task}</Task></Enqueue></Response>"#,
            ws.workflow
        );
        self.receiver.serve("/voice/customer", 200, &twiml);
        self.receiver.serve(
            "/voice/wait",
            200,
            "<Response><Say>Please hold</Say><Play>https://cdn.example.com/hold.mp3</Play><Redirect>/voice/wait</Redirect></Response>",
        );
    }

    /// shiftline's worker prompt: the whisper and a press-1 Gather.
    pub(super) fn serve_worker_prompt(&self) {
        self.receiver.serve(
            "/voice/worker",
            200,
            r#"<Response><Say>Billing call from Chicago</Say><Gather numDigits="1" timeout="6" action="/voice/worker/confirm"><Say>Press 1 to take it</Say></Gather><Hangup/></Response>"#,
        );
    }

    pub(super) fn call_status(&self, sid: &str) -> String {
        self.sim
            .calls()
            .into_iter()
            .find(|c| c.sid == sid)
            .unwrap()
            .status
    }
}

#[tokio::test]
async fn a_busy_phone_gets_only_a_busy_status_callback() {
    let h = Harness::start().await;
    h.sim.script_phone(ANA, vec![answer("busy")]);
    h.serve_worker_prompt();
    let status = h.receiver.url("/voice/status");
    let url = h.receiver.url("/voice/worker");
    let sid = h
        .dial_out(&[
            ("To", ANA),
            ("From", BUSINESS),
            ("Url", &url),
            ("StatusCallback", &status),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
            ("Timeout", "20"),
        ])
        .await;
    h.sim.settle().await;
    h.wait(60).await;

    let received = h.receiver.take();
    let calls = voice(&received);
    assert_eq!(paths(&calls), ["/voice/status"], "the Url is never fetched");
    let callback = calls[0];
    assert!(callback.signed);
    assert_eq!(callback.get("CallSid"), sid);
    assert_eq!(callback.get("AccountSid"), ACCOUNT);
    assert_eq!(callback.get("CallStatus"), "busy");
    assert_eq!(callback.get("Direction"), "outbound-api");
    assert_eq!(callback.get("From"), BUSINESS);
    assert_eq!(callback.get("To"), ANA);
    assert_eq!(callback.get("ApiVersion"), "2010-04-01");
    assert_eq!(callback.get("CallDuration"), "0");
    assert!(!has(callback, "AnsweredBy"), "no AMD asked for");
    assert_eq!(h.call_status(&sid), "busy");
    assert_eq!(
        h.sim.take_call_log(),
        [
            format!("CA..01 {BUSINESS} -> {ANA}: busy"),
            "CA..01 completed (busy)".to_string(),
        ]
    );
}

#[tokio::test]
async fn a_human_who_presses_1_is_bridged_to_the_waiting_customer_and_the_reservation_is_accepted()
{
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    let ana = h.worker(ANA, &["billing"], &ws.available).await;
    h.sim.settle().await;
    h.receiver.take();
    h.sim.script_phone(ANA, vec![answer("human:1:3:45")]);
    h.serve_customer_line(&ws, r#"{"skill":"billing"}"#);
    h.serve_worker_prompt();

    let customer = h
        .sim
        .place_call(CUSTOMER, BUSINESS, &h.receiver.url("/voice/customer"));
    h.sim.settle().await;
    let task = h.sim.tasks().remove(0);
    assert_eq!(task.assignment_status, "reserved");
    let reservation = task.reservations[0].sid.clone();
    assert_eq!(task.reservations[0].worker_sid, ana);

    // shiftline's dispatcher, on the assignment callback: call Ana.
    let confirm = format!(
        r#"<Response><Dial><Queue reservationSid="{reservation}" postWorkActivitySid="{}"/></Dial></Response>"#,
        ws.unavailable
    );
    h.receiver.serve("/voice/worker/confirm", 200, &confirm);
    let (url, status) = (
        h.receiver.url("/voice/worker?r=1"),
        h.receiver.url("/voice/status"),
    );
    let worker_call = h
        .dial_out(&[
            ("To", ANA),
            ("From", BUSINESS),
            ("Url", &url),
            ("StatusCallback", &status),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
            ("Timeout", "20"),
        ])
        .await;
    h.sim.settle().await;
    assert_eq!(
        h.sim.take_call_log(),
        [
            format!("CA..01 {CUSTOMER} -> {BUSINESS} inbound: ringing"),
            r#"CA..01 hears "Thanks for calling""#.to_string(),
            "CA..01 waits in queue (position 1)".to_string(),
            r#"CA..01 hears "Please hold""#.to_string(),
            "CA..01 hears audio /hold.mp3".to_string(),
            format!("CA..02 {BUSINESS} -> {ANA}: ringing"),
        ]
    );

    h.wait(2).await;
    assert_eq!(h.call_status(&worker_call), "ringing");
    h.wait(1).await;
    assert_eq!(
        h.sim.take_call_log(),
        [
            "CA..02 answered by human",
            r#"CA..02 hears "Billing call from Chicago""#,
            r#"CA..02 hears "Press 1 to take it""#,
            "CA..02 presses 1",
            "CA..02 bridged with CA..01 (reservation WR..01 accepted)",
        ]
    );
    let snapshot = h.sim.tasks().remove(0);
    assert_eq!(snapshot.assignment_status, "assigned");
    assert_eq!(snapshot.reservations[0].status, "accepted");
    assert_eq!(h.call_status(&customer), "in-progress");

    let received = h.receiver.take();
    assert!(received.iter().all(|r| r.signed), "{received:?}");
    let calls = voice(&received);
    assert_eq!(
        paths(&calls),
        [
            "/voice/customer",
            "/voice/wait",
            "/voice/status",
            "/voice/status",
            "/voice/status",
            "/voice/worker",
            "/voice/worker/confirm",
        ]
    );
    let first = calls[0];
    assert_eq!(first.get("CallStatus"), "ringing");
    assert_eq!(first.get("Direction"), "inbound");
    assert_eq!(first.get("From"), CUSTOMER);
    let wait = calls[1];
    assert_eq!(wait.get("QueuePosition"), "1");
    assert_eq!(wait.get("CurrentQueueSize"), "1");
    assert!(wait.get("QueueSid").starts_with("QU"));
    let statuses: Vec<&str> = calls[2..5].iter().map(|r| r.get("CallStatus")).collect();
    assert_eq!(statuses, ["initiated", "ringing", "in-progress"]);
    let prompt = calls[5];
    assert_eq!(prompt.get("CallSid"), worker_call);
    assert_eq!(prompt.get("CallStatus"), "in-progress");
    assert!(!has(prompt, "AnsweredBy"));
    assert_eq!(calls[6].get("Digits"), "1");
    assert_eq!(
        event_types(&received),
        [
            "task.created",
            "task-queue.entered",
            "reservation.created",
            "reservation.accepted"
        ]
    );

    h.wait(44).await;
    assert!(h.sim.take_call_log().is_empty(), "still talking");
    h.wait(1).await;
    assert_eq!(
        h.sim.take_call_log(),
        ["CA..02 completed", "CA..01 completed"]
    );
    let snapshot = h.sim.tasks().remove(0);
    assert_eq!(snapshot.assignment_status, "completed");
    assert_eq!(snapshot.reservations[0].status, "completed");
    assert_eq!(h.activity_of(&ana), "Unavailable", "postWorkActivitySid");
    let received = h.receiver.take();
    let completed = voice(&received);
    assert_eq!(paths(&completed), ["/voice/status"]);
    assert_eq!(completed[0].get("CallStatus"), "completed");
    assert_eq!(completed[0].get("CallDuration"), "45");
    assert_eq!(
        event_types(&received),
        [
            "reservation.completed",
            "task.completed",
            "worker.activity.update"
        ]
    );
    let (_, fetched) = h.get(&h.calls_url(&format!("/{worker_call}.json"))).await;
    assert_eq!(fetched["status"], "completed");
    assert_eq!(fetched["duration"], "45");
}

#[tokio::test]
async fn async_amd_posts_machine_start_for_a_voicemail_before_any_gather_action() {
    let h = Harness::start().await;
    h.sim.script_phone(ANA, vec![answer("voicemail")]);
    h.sim.script_phone(DAN, vec![answer("human:1")]);
    h.serve_worker_prompt();
    h.receiver.serve(
        "/voice/worker/confirm",
        200,
        "<Response><Say>Connecting</Say></Response>",
    );
    let machine = h.dial_out_with_async_amd(ANA).await;
    h.sim.settle().await;
    h.wait(10).await;

    let received = h.receiver.take();
    let calls = voice(&received);
    assert_eq!(paths(&calls), ["/voice/worker", "/voice/amd"]);
    assert!(
        !has(calls[0], "AnsweredBy"),
        "async: the Url comes before the verdict"
    );
    let verdict = calls[1];
    assert!(verdict.signed);
    assert_eq!(
        verdict.names(),
        [
            "CallSid",
            "AccountSid",
            "AnsweredBy",
            "MachineDetectionDuration"
        ]
    );
    assert_eq!(verdict.get("CallSid"), machine);
    assert_eq!(verdict.get("AnsweredBy"), "machine_start");
    assert_eq!(
        h.sim.take_call_log(),
        [
            format!("CA..01 {BUSINESS} -> {ANA}: ringing"),
            "CA..01 answered by voicemail".to_string(),
            r#"CA..01 hears "Billing call from Chicago""#.to_string(),
            r#"CA..01 hears "Press 1 to take it""#.to_string(),
            "CA..01 AMD: machine_start".to_string(),
        ]
    );
    // shiftline rejects the reservation and hangs up before the Gather times out.
    let hung_up = h.update_call(&machine, &[("Status", "completed")]).await;
    assert_eq!(hung_up["answered_by"], "machine_start");
    h.wait(10).await;
    assert!(voice(&h.receiver.take()).is_empty(), "no Gather action");
    assert_eq!(
        h.sim.take_call_log(),
        ["CA..01 hung up over REST", "CA..01 completed"]
    );

    // A person: the verdict still comes before the digits are posted.
    h.dial_out_with_async_amd(DAN).await;
    h.sim.settle().await;
    h.wait(3).await;
    let received = h.receiver.take();
    let calls = voice(&received);
    assert_eq!(
        paths(&calls),
        ["/voice/worker", "/voice/amd", "/voice/worker/confirm"]
    );
    assert_eq!(calls[1].get("AnsweredBy"), "human");
    assert_eq!(calls[2].get("Digits"), "1");
    assert!(received.iter().all(|r| r.signed));
}

#[tokio::test]
async fn sync_amd_fetches_the_url_with_answered_by_and_a_silent_gather_falls_through_after_its_timeout()
 {
    let h = Harness::start().await;
    h.sim.script_phone(ANA, vec![answer("voicemail:5")]);
    h.serve_worker_prompt();
    let (url, status) = (
        h.receiver.url("/voice/worker"),
        h.receiver.url("/voice/status"),
    );
    let sid = h
        .dial_out(&[
            ("To", ANA),
            ("From", BUSINESS),
            ("Url", &url),
            ("MachineDetection", "DetectMessageEnd"),
            ("StatusCallback", &status),
            ("StatusCallbackEvent", "answered completed"),
        ])
        .await;
    h.sim.settle().await;
    h.wait(5).await;
    let received = h.receiver.take();
    let calls = voice(&received);
    assert_eq!(paths(&calls), ["/voice/status", "/voice/worker"]);
    assert_eq!(calls[0].get("AnsweredBy"), "machine_end_beep");
    assert_eq!(calls[1].get("AnsweredBy"), "machine_end_beep");

    h.wait(5).await;
    assert_eq!(h.call_status(&sid), "in-progress", "the Gather still waits");
    h.wait(1).await;
    assert_eq!(
        h.call_status(&sid),
        "completed",
        "fell through to <Hangup/>"
    );
    let received = h.receiver.take();
    let calls = voice(&received);
    assert_eq!(paths(&calls), ["/voice/status"]);
    assert_eq!(calls[0].get("CallDuration"), "6");
    assert_eq!(calls[0].get("AnsweredBy"), "machine_end_beep");
    assert_eq!(
        h.sim.take_call_log(),
        [
            format!("CA..01 {BUSINESS} -> {ANA}: ringing"),
            "CA..01 answered by voicemail".to_string(),
            "CA..01 AMD: machine_end_beep".to_string(),
            r#"CA..01 hears "Billing call from Chicago""#.to_string(),
            r#"CA..01 hears "Press 1 to take it""#.to_string(),
            "CA..01 presses nothing".to_string(),
            "CA..01 completed".to_string(),
        ]
    );
}

#[tokio::test]
async fn a_no_answer_phone_reports_no_answer_after_timeout_at_tick() {
    let h = Harness::start().await;
    let (url, status) = (
        h.receiver.url("/voice/worker"),
        h.receiver.url("/voice/status"),
    );
    let sid = h
        .dial_out(&[
            ("To", ANA),
            ("From", BUSINESS),
            ("Url", &url),
            ("StatusCallback", &status),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "completed"),
            ("Timeout", "20"),
        ])
        .await;
    h.sim.settle().await;
    let statuses: Vec<String> = voice(&h.receiver.take())
        .iter()
        .map(|r| r.get("CallStatus").to_string())
        .collect();
    assert_eq!(statuses, ["initiated", "ringing"]);

    h.wait(19).await;
    assert!(h.receiver.take().is_empty());
    assert_eq!(h.call_status(&sid), "ringing");
    h.wait(1).await;
    let received = h.receiver.take();
    let calls = voice(&received);
    assert_eq!(paths(&calls), ["/voice/status"], "the Url is never fetched");
    assert_eq!(calls[0].get("CallStatus"), "no-answer");
    assert_eq!(calls[0].get("CallDuration"), "0");
    assert!(calls[0].signed);
    assert_eq!(
        h.sim.take_call_log(),
        [
            format!("CA..01 {BUSINESS} -> {ANA}: ringing"),
            "CA..01 completed (no-answer)".to_string(),
        ]
    );
}

#[tokio::test]
async fn an_outbound_call_hung_up_over_rest_while_ringing_reports_canceled() {
    let h = Harness::start().await;
    h.sim.script_phone(ANA, vec![answer("human:1:slow")]);
    h.serve_worker_prompt();
    let (url, status) = (
        h.receiver.url("/voice/worker"),
        h.receiver.url("/voice/status"),
    );
    let params = [
        ("To", ANA),
        ("From", BUSINESS),
        ("Url", url.as_str()),
        ("StatusCallback", status.as_str()),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
        ("Timeout", "20"),
    ];
    let canceled = h.dial_out(&params).await;
    let completed = h.dial_out(&params).await;
    h.sim.settle().await;
    h.wait(10).await;
    h.receiver.take();

    let body = h.update_call(&canceled, &[("Status", "canceled")]).await;
    assert_eq!(body["status"], "canceled");
    let body = h.update_call(&completed, &[("Status", "completed")]).await;
    assert_eq!(body["status"], "completed");
    h.sim.settle().await;
    h.wait(30).await;

    let received = h.receiver.take();
    let calls = voice(&received);
    assert_eq!(
        paths(&calls),
        ["/voice/status", "/voice/status"],
        "never answered"
    );
    assert_eq!(calls[0].get("CallSid"), canceled);
    assert_eq!(calls[0].get("CallStatus"), "canceled");
    assert_eq!(calls[1].get("CallSid"), completed);
    assert_eq!(calls[1].get("CallStatus"), "completed");
    assert_eq!(calls[1].get("CallDuration"), "0");
    assert_eq!(
        h.sim.take_call_log()[2..],
        [
            "CA..01 canceled over REST",
            "CA..01 completed (canceled)",
            "CA..02 hung up over REST",
            "CA..02 completed",
        ]
    );
}

#[tokio::test]
async fn a_customer_enqueued_with_a_task_creates_a_taskrouter_task_with_the_task_json_plus_call_sid()
 {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    h.sim.settle().await;
    h.receiver.take();
    h.serve_customer_line(&ws, r#"{"skill":"billing","language":"es"}"#);
    h.sim.script_phone(CUSTOMER, vec![answer("human:2")]);
    h.receiver.serve(
        "/voice/customer",
        200,
        r#"<Response><Gather numDigits="1" action="/voice/customer/menu"><Say language="es-US">Para español, oprima 2</Say></Gather></Response>"#,
    );
    h.receiver.serve(
        "/voice/customer/menu",
        200,
        &format!(
            r#"<Response><Enqueue workflowSid="{}" waitUrl="/voice/wait"><Task priority="3">{{"skill":"billing","language":"es"}}</Task></Enqueue></Response>"#,
            ws.workflow
        ),
    );

    let first = h
        .sim
        .place_call(CUSTOMER, BUSINESS, &h.receiver.url("/voice/customer"));
    let second = h
        .sim
        .place_call("+15559990001", BUSINESS, &h.receiver.url("/voice/customer"));
    h.sim.settle().await;

    let tasks = h.sim.tasks();
    assert_eq!(tasks.len(), 1, "the second caller pressed nothing");
    let task = &tasks[0];
    assert_eq!(
        task.attributes,
        json!({
            "skill": "billing",
            "language": "es",
            "call_sid": first,
            "account_sid": ACCOUNT,
            "from": CUSTOMER,
            "to": BUSINESS,
            "caller": CUSTOMER,
            "called": BUSINESS,
            "call_status": "in-progress",
            "api_version": "2010-04-01",
            "direction": "inbound",
        })
    );
    assert_eq!(task.queue.as_deref(), Some("Billing"));
    assert_eq!(task.assignment_status, "pending", "nobody is available");
    let received = h.receiver.take();
    let created = events(&received, "task.created");
    assert_eq!(created.len(), 1);
    let attributes: Value = serde_json::from_str(created[0].get("TaskAttributes")).unwrap();
    assert_eq!(attributes["call_sid"], first.as_str());
    assert_eq!(created[0].get("TaskPriority"), "3");
    let menu = voice(&received)
        .into_iter()
        .find(|r| r.path == "/voice/customer/menu")
        .unwrap();
    assert_eq!(menu.get("Digits"), "2");
    assert_eq!(menu.get("CallStatus"), "in-progress");
    assert_eq!(
        h.sim.take_call_log(),
        [
            format!("CA..01 {CUSTOMER} -> {BUSINESS} inbound: ringing"),
            format!("CA..02 +15559990001 -> {BUSINESS} inbound: ringing"),
            r#"CA..01 hears "Para español, oprima 2" (es-US)"#.to_string(),
            "CA..01 presses 2".to_string(),
            r#"CA..02 hears "Para español, oprima 2" (es-US)"#.to_string(),
            "CA..01 waits in queue (position 1)".to_string(),
            r#"CA..01 hears "Please hold""#.to_string(),
            "CA..01 hears audio /hold.mp3".to_string(),
        ]
    );
    // The silent caller's Gather times out and the document ends.
    h.wait(5).await;
    assert_eq!(
        h.sim.take_call_log(),
        ["CA..02 presses nothing", "CA..02 completed"]
    );
    assert_eq!(h.call_status(&second), "completed");
    assert_eq!(h.call_status(&first), "in-progress", "still waiting");
}

#[tokio::test]
async fn redirecting_a_waiting_customer_to_record_posts_the_recording_callbacks_and_cancels_the_task()
 {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    h.sim.script_phone(
        CUSTOMER,
        vec![Answer::Human {
            after_secs: 0,
            digits: None,
            talk_secs: 12,
        }],
    );
    h.serve_customer_line(&ws, r#"{"skill":"billing"}"#);
    h.receiver.serve(
        "/voice/voicemail",
        200,
        r#"<Response><Say>Nobody is available. Please leave a message.</Say><Record action="/voice/voicemail/done" maxLength="120" recordingStatusCallback="/voice/voicemail/recording"/><Say>unreachable</Say></Response>"#,
    );
    let customer = h
        .sim
        .place_call(CUSTOMER, BUSINESS, &h.receiver.url("/voice/customer"));
    h.sim.settle().await;
    let task = h.sim.tasks().remove(0).sid;
    h.sim.take_call_log();
    h.receiver.take();

    // shiftline, on task-queue.entered for the voicemail queue:
    let voicemail = h.receiver.url("/voice/voicemail");
    h.update_call(&customer, &[("Url", &voicemail)]).await;
    h.sim.settle().await;

    let snapshot = h.sim.tasks().remove(0);
    assert_eq!(snapshot.sid, task);
    assert_eq!(snapshot.assignment_status, "canceled");
    let received = h.receiver.take();
    assert!(received.iter().all(|r| r.signed));
    let canceled = events(&received, "task.canceled");
    assert_eq!(canceled.len(), 1);
    assert_eq!(canceled[0].get("TaskCanceledReason"), "redirected");
    let recordings = h.sim.recordings();
    assert_eq!(recordings.len(), 1);
    let recording = &recordings[0];
    assert_eq!(recording.call_sid, customer);
    assert_eq!(recording.sid, "RE00000000000000000000000000000001");
    assert_eq!(
        recording.url,
        format!("{}/recordings/{}", h.sim.base_url(), recording.sid)
    );
    assert_eq!(recording.duration, 12);

    let calls = voice(&received);
    assert_eq!(
        paths(&calls),
        [
            "/voice/voicemail",
            "/voice/voicemail/done",
            "/voice/voicemail/recording"
        ]
    );
    let done = calls[1];
    assert_eq!(done.get("CallSid"), customer);
    assert_eq!(done.get("RecordingUrl"), recording.url);
    assert_eq!(done.get("RecordingDuration"), "12");
    assert_eq!(done.get("Digits"), "hangup");
    let status = calls[2];
    assert_eq!(
        status.names(),
        [
            "AccountSid",
            "CallSid",
            "RecordingSid",
            "RecordingUrl",
            "RecordingStatus",
            "RecordingDuration",
            "RecordingChannels",
            "RecordingSource",
        ]
    );
    assert_eq!(status.get("RecordingSid"), recording.sid);
    assert_eq!(status.get("RecordingStatus"), "completed");
    assert_eq!(status.get("RecordingDuration"), "12");
    assert_eq!(status.get("RecordingChannels"), "1");
    assert_eq!(status.get("RecordingSource"), "RecordVerb");
    assert_eq!(h.call_status(&customer), "completed");
    assert_eq!(
        h.sim.take_call_log(),
        [
            "CA..01 redirected over REST",
            "CA..01 leaves the queue (redirected)",
            r#"CA..01 hears "Nobody is available. Please leave a message.""#,
            "CA..01 records a voicemail (12 s)",
            "CA..01 completed",
        ]
    );
}

#[tokio::test]
async fn a_customer_hanging_up_while_waiting_cancels_the_task_with_an_event() {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    h.worker(ANA, &["billing"], &ws.available).await;
    h.sim.script_phone(ANA, vec![answer("human:1")]);
    h.serve_customer_line(&ws, r#"{"skill":"billing"}"#);
    h.serve_worker_prompt();
    let customer = h
        .sim
        .place_call(CUSTOMER, BUSINESS, &h.receiver.url("/voice/customer"));
    h.sim.settle().await;
    let reservation = h.sim.tasks()[0].reservations[0].sid.clone();
    h.receiver.serve(
        "/voice/worker/confirm",
        200,
        &format!(r#"<Response><Dial><Queue reservationSid="{reservation}"/></Dial><Say>Sorry, the caller hung up</Say></Response>"#),
    );
    let url = h.receiver.url("/voice/worker");
    h.dial_out(&[("To", ANA), ("From", BUSINESS), ("Url", &url)])
        .await;
    h.sim.settle().await;
    h.receiver.take();
    h.sim.take_call_log();

    h.sim.hang_up(&customer);
    h.sim.settle().await;
    let task = h.sim.tasks().remove(0);
    assert_eq!(task.assignment_status, "canceled");
    assert_eq!(task.reservations[0].status, "canceled");
    let received = h.receiver.take();
    assert_eq!(
        event_types(&received),
        ["reservation.canceled", "task.canceled"]
    );
    assert_eq!(
        events(&received, "task.canceled")[0].get("TaskCanceledReason"),
        "hangup"
    );
    assert!(received.iter().all(|r| r.signed));

    // The worker still presses 1: nobody is left to bridge.
    h.wait(3).await;
    assert_eq!(
        h.sim.take_call_log(),
        [
            "CA..01 hangs up",
            "CA..01 completed",
            "CA..02 answered by human",
            r#"CA..02 hears "Billing call from Chicago""#,
            r#"CA..02 hears "Press 1 to take it""#,
            "CA..02 presses 1",
            "CA..02 dial failed: reservation WR..01 is canceled",
            r#"CA..02 hears "Sorry, the caller hung up""#,
            "CA..02 completed",
        ]
    );
}

#[tokio::test]
async fn a_malformed_document_or_an_http_error_ends_the_call_with_a_logged_error() {
    let h = Harness::start().await;
    h.receiver
        .serve("/voice/bad", 200, "<Response><Say>oops</Response>");
    h.receiver
        .serve("/voice/wrong-root", 200, "<Say>not a response</Say>");
    h.receiver.serve(
        "/voice/broken",
        500,
        "<Response><Say>never heard</Say></Response>",
    );
    for path in ["/voice/bad", "/voice/wrong-root", "/voice/broken"] {
        h.sim.place_call(CUSTOMER, BUSINESS, &h.receiver.url(path));
    }
    h.sim.settle().await;
    let log = h.sim.take_call_log();
    let ends: Vec<&String> = log.iter().filter(|l| !l.ends_with("ringing")).collect();
    assert_eq!(ends.len(), 6, "{log:?}");
    assert!(
        ends[0].starts_with("CA..01 error 12100: not XML"),
        "{log:?}"
    );
    assert_eq!(ends[1], "CA..01 completed");
    assert_eq!(
        ends[2],
        "CA..02 error 12100: the root element is <Say>, not <Response>"
    );
    assert_eq!(ends[4], "CA..03 error 11200: HTTP 500 from /voice/broken");
    assert_eq!(ends[5], "CA..03 completed");
    assert!(h.sim.calls().iter().all(|c| c.status == "completed"));
}

#[tokio::test]
async fn a_redirect_loop_is_cut_off_instead_of_running_forever() {
    let h = Harness::start().await;
    h.receiver.serve(
        "/voice/loop",
        200,
        "<Response><Redirect>/voice/loop</Redirect></Response>",
    );
    let sid = h
        .sim
        .place_call(CUSTOMER, BUSINESS, &h.receiver.url("/voice/loop"));
    h.sim.settle().await;
    assert_eq!(voice(&h.receiver.take()).len(), 100);
    assert_eq!(h.call_status(&sid), "completed");
    assert_eq!(
        h.sim.take_call_log()[1..],
        [
            "CA..01 error: 100 TwiML documents without time passing (a redirect loop?)",
            "CA..01 completed",
        ]
    );
}
