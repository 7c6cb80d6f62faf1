//! What shiftline's callbacks rely on: `<Dial><Number>` (a worker's call bridged to a
//! customer), a waiting caller's `waitUrl` Gather, `<Leave/>` and the Enqueue action,
//! digits pressed at successive Gathers, transcriptions, and recordings over REST.

use super::tests::{ACCOUNT, Harness, Received, TOKEN, event_types, events};
use super::tests_voice::{paths, voice};
use super::*;

const CUSTOMER: &str = "+15559990000";
const BUSINESS: &str = "+15550100001";
const ANA: &str = "+15550001111";
/// The customer who asked to be called back.
const BACK: &str = "+15559990001";

fn answer(text: &str) -> Answer {
    Answer::parse(text).unwrap()
}

fn only<'a>(received: &'a [Received], path: &str) -> &'a Received {
    let found: Vec<&Received> = received.iter().filter(|r| r.path == path).collect();
    assert_eq!(found.len(), 1, "{path} in {received:?}");
    found[0]
}

impl Harness {
    /// Ana's phone rings and runs `twiml` once she answers (3 s); the CallSid.
    async fn ana_runs(&self, twiml: &str) -> String {
        self.sim.script_phone(ANA, vec![answer("human")]);
        let sid = self
            .dial_out(&[("To", ANA), ("From", BUSINESS), ("Twiml", twiml)])
            .await;
        self.sim.settle().await;
        self.wait(3).await;
        sid
    }

    fn dial_back(&self, attributes: &str) -> String {
        let action = self.receiver.url("/voice/dialed");
        format!(
            r#"<Response><Dial action="{action}" {attributes}><Number>{BACK}</Number></Dial><Say>not reached</Say></Response>"#
        )
    }

    fn call(&self, sid: &str) -> SimCall {
        self.sim.calls().into_iter().find(|c| c.sid == sid).unwrap()
    }
}

#[tokio::test]
async fn a_worker_who_presses_1_dials_the_customer_back_and_hears_the_dial_action_answer() {
    let h = Harness::start().await;
    h.sim.script_phone(ANA, vec![answer("human:1")]);
    h.sim.script_phone(BACK, vec![answer("human::5:40")]);
    h.serve_worker_prompt();
    h.receiver.serve(
        "/voice/worker/confirm",
        200,
        &format!(
            r#"<Response><Dial callerId="{BUSINESS}" action="/voice/dialed" timeout="30"><Number>{BACK}</Number></Dial></Response>"#
        ),
    );
    h.receiver.serve(
        "/voice/dialed",
        200,
        "<Response><Say>The call has ended</Say><Hangup/></Response>",
    );
    let url = h.receiver.url("/voice/worker");
    let worker_call = h
        .dial_out(&[("To", ANA), ("From", BUSINESS), ("Url", &url)])
        .await;
    h.sim.settle().await;
    h.wait(3).await;
    assert_eq!(
        h.sim.take_call_log(),
        [
            format!("CA..01 {BUSINESS} -> {ANA}: ringing"),
            "CA..01 answered by human".to_string(),
            r#"CA..01 hears "Billing call from Chicago""#.to_string(),
            r#"CA..01 hears "Press 1 to take it""#.to_string(),
            "CA..01 presses 1".to_string(),
            format!("CA..01 dials {BACK} (caller ID {BUSINESS})"),
            format!("CA..02 {BUSINESS} -> {BACK}: ringing"),
        ]
    );
    let child = h.call("CA00000000000000000000000000000002");
    assert_eq!(child.direction, "outbound-dial");
    assert_eq!(child.parent_call_sid.as_deref(), Some(worker_call.as_str()));
    assert_eq!((child.from.as_str(), child.to.as_str()), (BUSINESS, BACK));
    assert_eq!(child.status, "ringing");
    h.receiver.take();

    h.wait(5).await;
    assert_eq!(
        h.sim.take_call_log(),
        ["CA..02 answered by human", "CA..02 bridged with CA..01"]
    );
    assert_eq!(h.call_status(&child.sid), "in-progress");
    h.wait(39).await;
    assert!(h.sim.take_call_log().is_empty(), "still talking");
    h.wait(1).await;
    assert_eq!(
        h.sim.take_call_log(),
        [
            "CA..02 completed (talked 40 s)",
            r#"CA..01 hears "The call has ended""#,
            "CA..01 completed",
        ]
    );
    let received = h.receiver.take();
    assert_eq!(paths(&voice(&received)), ["/voice/dialed"]);
    let dialed = only(&received, "/voice/dialed");
    assert!(dialed.signed);
    assert_eq!(dialed.get("CallSid"), worker_call);
    assert_eq!(dialed.get("CallStatus"), "in-progress");
    assert_eq!(dialed.get("DialCallStatus"), "completed");
    assert_eq!(dialed.get("DialCallSid"), child.sid);
    assert_eq!(dialed.get("DialCallDuration"), "40");

    let (_, fetched) = h.get(&h.calls_url(&format!("/{}.json", child.sid))).await;
    assert_eq!(fetched["parent_call_sid"], worker_call.as_str());
    assert_eq!(fetched["direction"], "outbound-dial");
    assert_eq!(fetched["duration"], "40");
    assert_eq!(fetched["status"], "completed");
}

#[tokio::test]
async fn a_dialled_number_that_is_busy_fails_or_does_not_answer_in_time_is_reported_to_the_action()
{
    // (script, DialCallStatus, DialCallDuration, the child's last log line)
    let cases = [
        ("busy", "busy", "0", "CA..02 completed (busy)"),
        ("fail", "failed", "0", "CA..02 completed (failed)"),
        (
            "no-answer",
            "no-answer",
            "0",
            "CA..02 completed (no-answer)",
        ),
        (
            "human::15",
            "no-answer",
            "0",
            "CA..02 completed (no-answer)",
        ),
        (
            "voicemail:4",
            "completed",
            "20",
            "CA..02 completed (talked 20 s)",
        ),
        (
            "short-greeting:4",
            "completed",
            "20",
            "CA..02 completed (talked 20 s)",
        ),
    ];
    for (script, status, duration, last) in cases {
        let h = Harness::start().await;
        h.sim.script_phone(BACK, vec![answer(script)]);
        h.receiver
            .serve("/voice/dialed", 200, "<Response></Response>");
        let parent = h.ana_runs(&h.dial_back(r#"timeout="10""#)).await;
        // Timers fire at the tick's time: step to the answer (4 s), then the talk's end.
        h.wait(4).await;
        h.wait(20).await;
        let received = h.receiver.take();
        let dialed = only(&received, "/voice/dialed");
        assert_eq!(dialed.get("CallSid"), parent, "{script}");
        assert_eq!(dialed.get("DialCallStatus"), status, "{script}");
        assert_eq!(dialed.get("DialCallDuration"), duration, "{script}");
        assert_eq!(
            dialed.get("DialCallSid"),
            "CA00000000000000000000000000000002"
        );
        let log = h.sim.take_call_log();
        assert!(log.contains(&last.to_string()), "{script}: {log:?}");
        let child = h.call("CA00000000000000000000000000000002");
        assert_eq!(
            child.from, BUSINESS,
            "callerId defaults to the parent's From"
        );
        assert_eq!(
            child.status,
            if status == "completed" {
                "completed"
            } else {
                status
            }
        );
        // The action answered nothing: the parent's call ends there.
        assert_eq!(h.call_status(&parent), "completed", "{script}");
        assert!(!log.iter().any(|l| l.contains("not reached")), "{log:?}");
    }
}

#[tokio::test]
async fn a_dial_without_action_goes_on_with_the_next_verb() {
    let h = Harness::start().await;
    h.sim.script_phone(BACK, vec![answer("busy")]);
    let twiml = format!(
        r#"<Response><Dial><Number>{BACK}</Number></Dial><Say>Nobody there</Say></Response>"#
    );
    h.ana_runs(&twiml).await;
    assert_eq!(
        h.sim.take_call_log()[1..],
        [
            "CA..01 answered by human".to_string(),
            format!("CA..01 dials {BACK} (caller ID {BUSINESS})"),
            format!("CA..02 {BUSINESS} -> {BACK}: busy"),
            "CA..02 completed (busy)".to_string(),
            r#"CA..01 hears "Nobody there""#.to_string(),
            "CA..01 completed".to_string(),
        ]
    );
}

#[tokio::test]
async fn the_worker_hanging_up_during_the_dial_ends_the_customer_leg_and_still_posts_the_action() {
    let h = Harness::start().await;
    h.sim.script_phone(BACK, vec![answer("human::8")]);
    h.receiver.serve(
        "/voice/dialed",
        200,
        "<Response><Say>never heard</Say></Response>",
    );
    // Hung up while the customer's phone rings: canceled.
    let ringing = h.ana_runs(&h.dial_back("")).await;
    h.receiver.take();
    h.sim.take_call_log();
    h.sim.hang_up(&ringing);
    h.sim.settle().await;
    assert_eq!(
        h.sim.take_call_log(),
        [
            "CA..01 hangs up",
            "CA..01 completed",
            "CA..02 completed (canceled)"
        ]
    );
    let received = h.receiver.take();
    let dialed = only(&received, "/voice/dialed");
    assert_eq!(dialed.get("CallStatus"), "completed");
    assert_eq!(dialed.get("DialCallStatus"), "canceled");
    assert_eq!(dialed.get("DialCallDuration"), "0");

    // Hung up over REST while talking: the customer's leg completes with its talk time.
    let talking = h.ana_runs(&h.dial_back("")).await;
    h.wait(8).await;
    h.wait(12).await;
    h.receiver.take();
    h.sim.take_call_log();
    h.update_call(&talking, &[("Status", "completed")]).await;
    h.sim.settle().await;
    assert_eq!(
        h.sim.take_call_log(),
        [
            "CA..03 hung up over REST",
            "CA..03 completed",
            "CA..04 completed (talked 12 s)"
        ]
    );
    let received = h.receiver.take();
    let dialed = only(&received, "/voice/dialed");
    assert_eq!(dialed.get("DialCallStatus"), "completed");
    assert_eq!(dialed.get("DialCallDuration"), "12");
    assert_eq!(
        h.call_status("CA00000000000000000000000000000004"),
        "completed"
    );
}

#[tokio::test]
async fn digits_groups_are_pressed_at_successive_gathers_and_an_empty_group_times_out() {
    let h = Harness::start().await;
    h.receiver.serve(
        "/voice/ivr",
        200,
        r#"<Response><Gather numDigits="1" action="/voice/ivr/2"><Say>First</Say></Gather><Redirect>/voice/ivr/2</Redirect></Response>"#,
    );
    h.receiver.serve(
        "/voice/ivr/2",
        200,
        r#"<Response><Gather numDigits="1" action="/voice/ivr/3"><Say>Second</Say></Gather><Gather action="/voice/ivr/3"><Say>Third</Say></Gather></Response>"#,
    );
    h.receiver
        .serve("/voice/ivr/3", 200, "<Response><Hangup/></Response>");
    h.sim.script_phone(CUSTOMER, vec![answer("human:2/1")]);
    h.sim.script_phone(BACK, vec![answer("human:/7")]);
    let url = h.receiver.url("/voice/ivr");
    h.sim.place_call(CUSTOMER, BUSINESS, &url);
    h.sim.settle().await;
    assert_eq!(
        h.sim.take_call_log()[1..],
        [
            r#"CA..01 hears "First""#,
            "CA..01 presses 2",
            r#"CA..01 hears "Second""#,
            "CA..01 presses 1",
            "CA..01 completed",
        ]
    );
    let digits: Vec<String> = voice(&h.receiver.take())
        .iter()
        .filter(|r| r.path != "/voice/ivr")
        .map(|r| r.get("Digits").to_string())
        .collect();
    assert_eq!(digits, ["2", "1"]);

    h.sim.place_call(BACK, BUSINESS, &url);
    h.sim.settle().await;
    h.wait(5).await;
    assert_eq!(
        h.sim.take_call_log()[1..],
        [
            r#"CA..02 hears "First""#,
            "CA..02 presses nothing",
            r#"CA..02 hears "Second""#,
            "CA..02 presses 7",
            "CA..02 completed",
        ]
    );
}

/// shiftline's customer line with a callback offer: Enqueue (with `action` if given),
/// a waitUrl whose Gather offers the callback, and `<Leave/>` on 9.
fn serve_callback_line(h: &Harness, ws: &tests::Workspace, action: &str) {
    h.receiver.serve(
        "/voice/customer",
        200,
        &format!(
            r#"<Response><Enqueue workflowSid="{}" waitUrl="/voice/wait" {action}><Task>{{"skill":"billing"}}</Task></Enqueue><Say>Talk to you soon</Say></Response>"#,
            ws.workflow
        ),
    );
    h.receiver.serve(
        "/voice/wait",
        200,
        r#"<Response><Say>Please hold</Say><Gather numDigits="1" action="/voice/wait/key"><Say>Press 9 to be called back</Say></Gather><Play>https://cdn.example.com/hold.mp3</Play></Response>"#,
    );
    h.receiver.serve(
        "/voice/wait/key",
        200,
        "<Response><Say>We will call you back</Say><Leave/><Say>unreachable</Say></Response>",
    );
    h.receiver.serve(
        "/voice/customer/left",
        200,
        "<Response><Say>Goodbye</Say><Hangup/></Response>",
    );
}

#[tokio::test]
async fn a_waiting_caller_who_presses_9_at_the_wait_gather_leaves_the_queue_for_the_enqueue_action()
{
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    h.worker(ANA, &["billing"], &ws.available).await;
    h.sim.settle().await;
    h.receiver.take();
    serve_callback_line(&h, &ws, r#"action="/voice/customer/left""#);
    h.sim.script_phone(CUSTOMER, vec![answer("human:9")]);

    let customer = h
        .sim
        .place_call(CUSTOMER, BUSINESS, &h.receiver.url("/voice/customer"));
    h.sim.settle().await;
    assert_eq!(
        h.sim.take_call_log(),
        [
            format!("CA..01 {CUSTOMER} -> {BUSINESS} inbound: ringing"),
            "CA..01 waits in queue (position 1)".to_string(),
            r#"CA..01 hears "Please hold""#.to_string(),
            r#"CA..01 hears "Press 9 to be called back""#.to_string(),
            "CA..01 presses 9".to_string(),
            r#"CA..01 hears "We will call you back""#.to_string(),
            "CA..01 leaves the queue (leave)".to_string(),
            r#"CA..01 hears "Goodbye""#.to_string(),
            "CA..01 completed".to_string(),
        ]
    );
    let task = h.sim.tasks().remove(0);
    assert_eq!(task.assignment_status, "canceled");
    assert_eq!(task.reservations[0].status, "canceled", "Ana's offer");
    let received = h.receiver.take();
    assert!(received.iter().all(|r| r.signed));
    assert_eq!(
        event_types(&received),
        [
            "task.created",
            "task-queue.entered",
            "reservation.created",
            "reservation.canceled",
            "task.canceled"
        ]
    );
    let canceled = events(&received, "task.canceled");
    assert_eq!(canceled[0].get("TaskCanceledReason"), "leave");
    assert_eq!(
        paths(&voice(&received)),
        [
            "/voice/customer",
            "/voice/wait",
            "/voice/wait/key",
            "/voice/customer/left"
        ]
    );
    let wait = only(&received, "/voice/wait");
    let key = only(&received, "/voice/wait/key");
    assert_eq!(key.get("CallSid"), customer);
    assert_eq!(key.get("Digits"), "9");
    for name in ["QueuePosition", "QueueSid", "QueueTime", "CurrentQueueSize"] {
        assert_eq!(key.get(name), wait.get(name), "{name}");
    }
    let left = only(&received, "/voice/customer/left");
    assert_eq!(left.get("QueueResult"), "leave");
    assert_eq!(left.get("QueueSid"), wait.get("QueueSid"));
    assert_eq!(left.get("QueueTime"), "0");
    assert_eq!(left.get("CallStatus"), "in-progress");
}

#[tokio::test]
async fn leaving_without_an_enqueue_action_goes_on_after_enqueue_and_a_caller_without_digits_stays()
{
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    serve_callback_line(&h, &ws, "");
    h.sim.script_phone(CUSTOMER, vec![answer("human:9")]);
    h.sim
        .place_call(CUSTOMER, BUSINESS, &h.receiver.url("/voice/customer"));
    h.sim
        .place_call("+15559990002", BUSINESS, &h.receiver.url("/voice/customer"));
    h.sim.settle().await;
    let log = h.sim.take_call_log();
    let first: Vec<&String> = log.iter().filter(|l| l.starts_with("CA..01")).collect();
    assert_eq!(
        first[first.len() - 4..],
        [
            r#"CA..01 hears "We will call you back""#,
            "CA..01 leaves the queue (leave)",
            r#"CA..01 hears "Talk to you soon""#,
            "CA..01 completed",
        ]
    );
    let second: Vec<&String> = log.iter().filter(|l| l.starts_with("CA..02")).collect();
    assert_eq!(
        second[second.len() - 2..],
        [
            r#"CA..02 hears "Press 9 to be called back""#,
            "CA..02 hears audio /hold.mp3",
        ],
        "pressed nothing: the wait document plays on"
    );
    let statuses: Vec<String> = h
        .sim
        .tasks()
        .into_iter()
        .map(|t| t.assignment_status)
        .collect();
    assert_eq!(statuses, ["canceled", "pending"]);
    assert_eq!(
        paths(&voice(&h.receiver.take()))
            .iter()
            .filter(|p| p.as_str() == "/voice/customer/left")
            .count(),
        0
    );
}

/// The voicemail line: `<Record transcribe>` with all three callbacks.
fn serve_voicemail(h: &Harness) {
    h.receiver.serve(
        "/voice/voicemail",
        200,
        r#"<Response><Say>Leave a message</Say><Record action="/voice/voicemail/done" maxLength="120" recordingStatusCallback="/voice/voicemail/recording" transcribe="true" transcribeCallback="/voice/voicemail/transcribed"/></Response>"#,
    );
}

#[tokio::test]
async fn a_transcribed_voicemail_posts_what_the_caller_says_after_the_recording_callback() {
    let h = Harness::start().await;
    serve_voicemail(&h);
    h.sim.script_phone(CUSTOMER, vec![answer("human::0:12")]);
    h.sim
        .phone_says(CUSTOMER, " Please call me back about my bill ");
    let customer = h
        .sim
        .place_call(CUSTOMER, BUSINESS, &h.receiver.url("/voice/voicemail"));
    h.sim.settle().await;
    let received = h.receiver.take();
    assert_eq!(
        paths(&voice(&received)),
        [
            "/voice/voicemail",
            "/voice/voicemail/done",
            "/voice/voicemail/recording",
            "/voice/voicemail/transcribed"
        ]
    );
    let recording = h.sim.recordings().remove(0);
    let transcribed = only(&received, "/voice/voicemail/transcribed");
    assert!(transcribed.signed);
    assert_eq!(
        transcribed.names()[transcribed.names().len() - 6..],
        [
            "TranscriptionSid",
            "TranscriptionText",
            "TranscriptionStatus",
            "TranscriptionUrl",
            "RecordingSid",
            "RecordingUrl"
        ]
    );
    assert_eq!(transcribed.get("CallSid"), customer);
    assert_eq!(transcribed.get("AccountSid"), ACCOUNT);
    assert_eq!(
        transcribed.get("TranscriptionSid"),
        "TR00000000000000000000000000000001"
    );
    assert_eq!(
        transcribed.get("TranscriptionText"),
        "Please call me back about my bill"
    );
    assert_eq!(transcribed.get("TranscriptionStatus"), "completed");
    assert_eq!(transcribed.get("RecordingSid"), recording.sid);
    assert_eq!(transcribed.get("RecordingUrl"), recording.url);
    assert_eq!(
        recording.transcription,
        Some(SimTranscription {
            sid: "TR00000000000000000000000000000001".into(),
            text: Some("Please call me back about my bill".into()),
        })
    );
    let (status, fetched) = h.get(transcribed.get("TranscriptionUrl")).await;
    assert_eq!(status, 200, "{fetched}");
    assert_eq!(
        fetched["transcription_text"],
        "Please call me back about my bill"
    );
    assert_eq!(fetched["recording_sid"], recording.sid.as_str());
    assert_eq!(
        h.sim.take_call_log()[1..],
        [
            r#"CA..01 hears "Leave a message""#,
            "CA..01 records a voicemail (12 s)",
            r#"CA..01 transcription: "Please call me back about my bill""#,
            "CA..01 completed",
        ]
    );

    // Someone whose script says nothing: a failed transcription, no text.
    h.sim
        .place_call(BACK, BUSINESS, &h.receiver.url("/voice/voicemail"));
    h.sim.settle().await;
    let received = h.receiver.take();
    let failed = only(&received, "/voice/voicemail/transcribed");
    assert_eq!(failed.get("TranscriptionStatus"), "failed");
    assert!(!failed.names().contains(&"TranscriptionText"));
    assert!(
        h.sim
            .take_call_log()
            .contains(&"CA..02 transcription failed".to_string())
    );
}

/// A GET with (or without) the account's Basic auth: status, Content-Type, body.
async fn download(h: &Harness, url: &str, auth: bool) -> (u16, String, Vec<u8>) {
    let mut request = h.http.get(url);
    if auth {
        request = request.basic_auth(ACCOUNT, Some(TOKEN));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

#[tokio::test]
async fn a_recording_is_served_over_rest_as_json_wav_and_mp3_behind_basic_auth() {
    let h = Harness::start().await;
    serve_voicemail(&h);
    h.sim.script_phone(CUSTOMER, vec![answer("human::0:12")]);
    let customer = h
        .sim
        .place_call(CUSTOMER, BUSINESS, &h.receiver.url("/voice/voicemail"));
    h.sim.settle().await;
    let recording = h.sim.recordings().remove(0);
    let base = format!(
        "{}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{}",
        h.sim.base_url(),
        recording.sid
    );
    h.sim.take_requests();

    let (status, json) = h.get(&format!("{base}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(json["sid"], recording.sid.as_str());
    assert_eq!(json["call_sid"], customer.as_str());
    assert_eq!(json["duration"], "12");
    assert_eq!(json["status"], "completed");
    assert_eq!(json["source"], "RecordVerb");
    assert_eq!(json["date_created"], "Mon, 02 Mar 2026 15:00:00 +0000");
    assert_eq!(
        json["uri"],
        format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Recordings/{}.json",
            recording.sid
        )
    );

    for url in [format!("{base}.wav"), base.clone(), recording.url.clone()] {
        let (status, content_type, bytes) = download(&h, &url, true).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "audio/x-wav"),
            "{url}"
        );
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(bytes.len(), 44 + 3 * 16_000, "12 s capped at 3 s");
    }
    let (status, content_type, bytes) = download(&h, &format!("{base}.mp3"), true).await;
    assert_eq!((status, content_type.as_str()), (200, "audio/mpeg"));
    assert_eq!(bytes[..2], [0xFF, 0xFB]);

    let (status, _, body) = download(&h, &format!("{base}.wav"), false).await;
    assert_eq!(status, 401);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], 20003);
    let unknown = format!(
        "{}/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE0000000000000000000000000000dead.mp3",
        h.sim.base_url()
    );
    let (status, _, body) = download(&h, &unknown, true).await;
    assert_eq!(status, 404);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], 20404);
    assert_eq!(body["status"], 404);

    let recorded: Vec<(String, u16)> = h
        .sim
        .take_requests()
        .into_iter()
        .map(|r| (r.path.rsplit('/').next().unwrap().to_string(), r.status))
        .collect();
    let sid = &recording.sid;
    assert_eq!(
        recorded,
        [
            (format!("{sid}.json"), 200),
            (format!("{sid}.wav"), 200),
            (sid.clone(), 200),
            (sid.clone(), 200),
            (format!("{sid}.mp3"), 200),
            (format!("{sid}.wav"), 401),
            ("RE0000000000000000000000000000dead.mp3".into(), 404),
        ]
    );
}
