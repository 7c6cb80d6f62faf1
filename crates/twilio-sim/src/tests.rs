//! The simulator over real HTTP: reqwest as shiftline's stand-in, a clock moved by hand,
//! and a small receiver that records callbacks and checks their signatures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::{Value, json};

use super::*;

pub(super) const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub(super) const WORKSPACE: &str = "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
pub(super) const TOKEN: &str = "simulator-test-token";

/// A clock that only moves when the test moves it.
pub(super) struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }

    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }

    pub(super) fn advance(&self, by: TimeDelta) {
        *self.0.lock().unwrap() += by;
    }
}

/// A callback the receiver got, and whether its `X-Twilio-Signature` was valid.
#[derive(Clone, Debug)]
pub(super) struct Received {
    pub(super) path: String,
    pub(super) params: Vec<(String, String)>,
    pub(super) signed: bool,
}

impl Received {
    pub(super) fn get(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name} missing from {:?}", self.params))
    }

    pub(super) fn names(&self) -> Vec<&str> {
        self.params.iter().map(|(k, _)| k.as_str()).collect()
    }
}

type Log = Arc<Mutex<Vec<Received>>>;
/// Fixed answers by path: status and TwiML.
type Pages = Arc<Mutex<HashMap<String, (u16, String)>>>;

/// shiftline's side of the callbacks: remembers every request, and answers the TwiML
/// set for its path with [`Receiver::serve`] (200 and an empty body for the others).
#[derive(Clone)]
pub(super) struct Receiver {
    pub(super) base: String,
    log: Log,
    pages: Pages,
}

impl Receiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Log::default();
        let pages = Pages::default();
        let app =
            Router::new()
                .fallback(record)
                .with_state((base.clone(), log.clone(), pages.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { base, log, pages }
    }

    pub(super) fn take(&self) -> Vec<Received> {
        std::mem::take(&mut self.log.lock().unwrap())
    }

    /// Answers POSTs to `path` with `status` and `twiml` from now on.
    pub(super) fn serve(&self, path: &str, status: u16, twiml: &str) {
        self.pages
            .lock()
            .unwrap()
            .insert(path.to_string(), (status, twiml.to_string()));
    }

    /// The absolute URL of `path` on this receiver.
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn record(
    AxumState((base, log, pages)): AxumState<(String, Log, Pages)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let header = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let url = format!("{base}{uri}");
    // The simulator's own signer, pinned to Twilio's published vectors in its tests; this
    // checks that what was signed is the exact URL posted to and the parameters sent.
    // (shiftline's end-to-end tests check the same signatures with shiftline's checker.)
    let signed = signature::sign(TOKEN, &url, &params) == header;
    log.lock().unwrap().push(Received {
        path: uri.path().to_string(),
        params,
        signed,
    });
    match pages.lock().unwrap().get(uri.path()).cloned() {
        Some((status, twiml)) => (
            StatusCode::from_u16(status).unwrap(),
            [(header::CONTENT_TYPE, "text/xml")],
            twiml,
        )
            .into_response(),
        None => StatusCode::OK.into_response(),
    }
}

pub(super) fn assignments(received: &[Received]) -> Vec<&Received> {
    received
        .iter()
        .filter(|r| r.path == "/assignment")
        .collect()
}

pub(super) fn event_types(received: &[Received]) -> Vec<&str> {
    received
        .iter()
        .filter(|r| r.path == "/events")
        .map(|r| r.get("EventType"))
        .collect()
}

pub(super) fn events<'a>(received: &'a [Received], event_type: &str) -> Vec<&'a Received> {
    received
        .iter()
        .filter(|r| r.path == "/events" && r.get("EventType") == event_type)
        .collect()
}

/// The SIDs of a workspace set up the way `shiftline twilio setup` does.
pub(super) struct Workspace {
    pub(super) available: String,
    pub(super) unavailable: String,
    pub(super) offline: String,
    pub(super) billing: String,
    pub(super) voicemail: String,
    pub(super) workflow: String,
}

pub(super) struct Harness {
    pub(super) sim: Simulator,
    pub(super) clock: Arc<ManualClock>,
    pub(super) http: reqwest::Client,
    pub(super) receiver: Receiver,
}

impl Harness {
    pub(super) async fn start() -> Self {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
        ));
        let sim = Simulator::start(SimulatorConfig {
            account_sid: ACCOUNT.into(),
            workspace_sid: WORKSPACE.into(),
            auth_token: TOKEN.into(),
            clock: {
                let clock = clock.clone();
                Arc::new(move || clock.now())
            },
            realism: Realism::default(),
        })
        .await
        .unwrap();
        Harness {
            sim,
            clock,
            http: reqwest::Client::new(),
            receiver: Receiver::start().await,
        }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/v1/Workspaces/{WORKSPACE}{path}", self.sim.base_url())
    }

    pub(super) async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request
            .basic_auth(ACCOUNT, Some(TOKEN))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// POST to a path under the workspace.
    pub(super) async fn post(&self, path: &str, params: &[(&str, &str)]) -> (u16, Value) {
        self.send(self.http.post(self.url(path)).form(params)).await
    }

    pub(super) async fn get(&self, url: &str) -> (u16, Value) {
        self.send(self.http.get(url)).await
    }

    pub(super) async fn create(&self, path: &str, params: &[(&str, &str)]) -> String {
        let (status, body) = self.post(path, params).await;
        assert_eq!(status, 201, "{path}: {body}");
        body["sid"].as_str().unwrap().to_string()
    }

    pub(super) async fn workspace(&self, target_timeout: u64) -> Workspace {
        let available = self
            .create(
                "/Activities",
                &[("FriendlyName", "Available"), ("Available", "true")],
            )
            .await;
        let unavailable = self
            .create(
                "/Activities",
                &[("FriendlyName", "Unavailable"), ("Available", "false")],
            )
            .await;
        let offline = self
            .create("/Activities", &[("FriendlyName", "Offline")])
            .await;
        let events = format!("{}/events", self.receiver.base);
        let (status, _) = self
            .post(
                "",
                &[
                    ("DefaultActivitySid", &offline),
                    ("TimeoutActivitySid", &unavailable),
                    ("EventCallbackUrl", &events),
                ],
            )
            .await;
        assert_eq!(status, 200);
        let billing = self
            .create(
                "/TaskQueues",
                &[
                    ("FriendlyName", "Billing"),
                    ("TargetWorkers", r#"skills HAS "billing""#),
                ],
            )
            .await;
        let voicemail = self
            .create(
                "/TaskQueues",
                &[("FriendlyName", "Voicemail"), ("TargetWorkers", "1==2")],
            )
            .await;
        let configuration = json!({"task_routing": {
            "filters": [{
                "filter_friendly_name": "by skill",
                "expression": "skill != null",
                "targets": [
                    {"queue": billing, "expression": "worker.skills HAS task.skill",
                     "timeout": target_timeout},
                    {"queue": voicemail}
                ]
            }],
            "default_filter": {"queue": voicemail}
        }})
        .to_string();
        let assignment = format!("{}/assignment", self.receiver.base);
        let workflow = self
            .create(
                "/Workflows",
                &[
                    ("FriendlyName", "Customers"),
                    ("Configuration", &configuration),
                    ("AssignmentCallbackUrl", &assignment),
                    ("TaskReservationTimeout", "120"),
                ],
            )
            .await;
        Workspace {
            available,
            unavailable,
            offline,
            billing,
            voicemail,
            workflow,
        }
    }

    pub(super) async fn worker(&self, name: &str, skills: &[&str], activity: &str) -> String {
        let attributes = json!({"skills": skills, "contact_uri": name}).to_string();
        self.create(
            "/Workers",
            &[
                ("FriendlyName", name),
                ("ActivitySid", activity),
                ("Attributes", &attributes),
            ],
        )
        .await
    }

    pub(super) async fn task(&self, ws: &Workspace, skill: &str) -> String {
        let attributes = json!({"skill": skill, "call_sid": "CA00000000000000000000000000000099"});
        self.create(
            "/Tasks",
            &[
                ("WorkflowSid", &ws.workflow),
                ("Attributes", &attributes.to_string()),
            ],
        )
        .await
    }

    pub(super) fn task_snapshot(&self, sid: &str) -> SimTask {
        self.sim.tasks().into_iter().find(|t| t.sid == sid).unwrap()
    }

    pub(super) fn activity_of(&self, worker: &str) -> String {
        self.sim
            .workers()
            .into_iter()
            .find(|w| w.sid == worker)
            .unwrap()
            .activity_name
    }

    pub(super) async fn wait(&self, seconds: i64) {
        self.clock.advance(TimeDelta::seconds(seconds));
        self.sim.tick().await;
        self.sim.settle().await;
    }
}

#[tokio::test]
async fn requests_without_basic_auth_are_401() {
    let h = Harness::start().await;
    let url = h.url("");

    let anonymous = h.http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], 20003);
    assert_eq!(body["status"], 401);
    assert_eq!(
        body["more_info"],
        "https://www.twilio.com/docs/errors/20003"
    );

    let wrong = h
        .http
        .post(h.url("/Activities"))
        .basic_auth(ACCOUNT, Some("not-the-token"))
        .form(&[("FriendlyName", "Available")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(
        h.sim.with_state(|s| s.activities.is_empty()),
        "nothing applied"
    );

    let (status, body) = h.get(&url).await;
    assert_eq!(status, 200);
    assert_eq!(body["sid"], WORKSPACE);
    let statuses: Vec<u16> = h.sim.take_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 401, 200]);
}

#[tokio::test]
async fn a_worker_created_and_updated_shows_its_activity_and_attributes() {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;

    let (status, created) = h
        .post(
            "/Workers",
            &[
                ("FriendlyName", "+15550001111"),
                ("Attributes", r#"{"skills":[]}"#),
            ],
        )
        .await;
    assert_eq!(status, 201);
    let sid = created["sid"].as_str().unwrap().to_string();
    assert_eq!(sid, "WK00000000000000000000000000000001");
    assert_eq!(
        created["activity_sid"],
        ws.offline.as_str(),
        "the default activity"
    );
    assert_eq!(created["activity_name"], "Offline");
    assert_eq!(created["available"], false);
    assert_eq!(created["attributes"], r#"{"skills":[]}"#);
    assert_eq!(created["date_created"], "2026-03-02T15:00:00Z");
    assert_eq!(created["url"], h.url(&format!("/Workers/{sid}")));

    let attributes = r#"{"skills":["billing"],"languages":["en"]}"#;
    let (status, updated) = h
        .post(
            &format!("/Workers/{sid}"),
            &[("ActivitySid", &ws.available), ("Attributes", attributes)],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["activity_name"], "Available");
    assert_eq!(updated["available"], true);
    assert_eq!(updated["attributes"], attributes);

    let (_, fetched) = h.get(&h.url(&format!("/Workers/{sid}"))).await;
    assert_eq!(fetched["activity_sid"], ws.available.as_str());
    let worker = &h.sim.workers()[0];
    assert_eq!(worker.activity_name, "Available");
    assert_eq!(
        worker.attributes,
        json!({"skills": ["billing"], "languages": ["en"]})
    );

    let (status, duplicate) = h
        .post("/Workers", &[("FriendlyName", "+15550001111")])
        .await;
    assert_eq!((status, duplicate["code"].clone()), (400, json!(20001)));
    let (status, missing) = h.post("/Workers", &[("Attributes", "{}")]).await;
    assert_eq!((status, missing["code"].clone()), (400, json!(20001)));
    let (status, unknown) = h
        .get(&h.url("/Workers/WK0000000000000000000000000000ffff"))
        .await;
    assert_eq!((status, unknown["code"].clone()), (404, json!(20404)));
}

#[tokio::test]
async fn listing_workers_paginates_with_next_page_url() {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    let mut sids = Vec::new();
    for name in ["ana", "bob", "carl", "dee", "eve"] {
        sids.push(h.worker(name, &["billing"], &ws.available).await);
    }

    let mut url = format!("{}?PageSize=2&Available=true", h.url("/Workers"));
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = h.get(&url).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["meta"]["key"], "workers");
        assert_eq!(page["meta"]["page_size"], 2);
        assert_eq!(page["meta"]["page"], pages);
        pages += 1;
        for worker in page["workers"].as_array().unwrap() {
            seen.push(worker["sid"].as_str().unwrap().to_string());
        }
        match page["meta"]["next_page_url"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&h.sim.base_url()), "absolute: {next}");
                assert!(next.contains("PageToken="), "{next}");
                assert!(next.contains("Available=true"), "filters carried: {next}");
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, sids);

    let (_, filtered) = h
        .get(&format!("{}?FriendlyName=carl", h.url("/Workers")))
        .await;
    assert_eq!(filtered["workers"].as_array().unwrap().len(), 1);
    let (_, by_expression) = h
        .get(&format!(
            "{}?TargetWorkersExpression={}",
            h.url("/Workers"),
            "friendly_name%20IN%20%5B%27ana%27%2C%27eve%27%5D"
        ))
        .await;
    let names: Vec<&str> = by_expression["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["friendly_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ana", "eve"]);
}

#[tokio::test]
async fn a_task_for_billing_reserves_the_available_billing_worker_and_posts_a_signed_assignment_callback()
 {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    let offline_biller = h.worker("carl", &["billing"], &ws.offline).await;
    let support = h.worker("bob", &["support"], &ws.available).await;
    let biller = h.worker("ana", &["billing"], &ws.available).await;
    h.sim.settle().await;
    h.receiver.take();

    h.clock.advance(TimeDelta::seconds(3));
    let task = h.task(&ws, "billing").await;
    h.sim.settle().await;

    let snapshot = h.task_snapshot(&task);
    assert_eq!(snapshot.assignment_status, "reserved");
    assert_eq!(snapshot.queue.as_deref(), Some("Billing"));
    assert_eq!(snapshot.reservations.len(), 1);
    let reservation = &snapshot.reservations[0];
    assert_eq!(reservation.worker_sid, biller);
    assert_ne!(reservation.worker_sid, offline_biller);
    assert_ne!(reservation.worker_sid, support);
    assert_eq!(reservation.status, "pending");

    let received = h.receiver.take();
    let assignment = assignments(&received);
    assert_eq!(assignment.len(), 1);
    let callback = assignment[0];
    assert!(callback.signed, "X-Twilio-Signature checks out");
    assert_eq!(
        callback.names(),
        [
            "AccountSid",
            "WorkspaceSid",
            "WorkflowSid",
            "TaskQueueSid",
            "WorkerSid",
            "WorkerAttributes",
            "TaskSid",
            "TaskAttributes",
            "TaskAge",
            "TaskPriority",
            "ReservationSid",
            "Timestamp",
        ]
    );
    assert_eq!(callback.get("AccountSid"), ACCOUNT);
    assert_eq!(callback.get("WorkspaceSid"), WORKSPACE);
    assert_eq!(callback.get("WorkflowSid"), ws.workflow);
    assert_eq!(callback.get("TaskQueueSid"), ws.billing);
    assert_eq!(callback.get("WorkerSid"), biller);
    assert_eq!(callback.get("TaskSid"), task);
    assert_eq!(callback.get("ReservationSid"), reservation.sid);
    assert_eq!(callback.get("TaskAge"), "0");
    let attributes: Value = serde_json::from_str(callback.get("TaskAttributes")).unwrap();
    assert_eq!(attributes["skill"], "billing");
    let worker: Value = serde_json::from_str(callback.get("WorkerAttributes")).unwrap();
    assert_eq!(worker["skills"], json!(["billing"]));
    assert_eq!(
        event_types(&received),
        ["task.created", "task-queue.entered", "reservation.created"]
    );
    assert!(received.iter().all(|r| r.signed));

    let (_, fetched) = h
        .get(&h.url(&format!("/Tasks/{task}/Reservations/{}", reservation.sid)))
        .await;
    assert_eq!(fetched["reservation_status"], "pending");
    assert_eq!(fetched["worker_name"], "ana");
}

#[tokio::test]
async fn a_higher_priority_task_created_later_is_offered_first_to_the_next_available_worker() {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    let attributes = json!({"skill": "billing"}).to_string();
    let create = async |priority: &str| {
        h.clock.advance(TimeDelta::seconds(5));
        h.create(
            "/Tasks",
            &[
                ("WorkflowSid", &ws.workflow),
                ("Attributes", &attributes),
                ("Priority", priority),
            ],
        )
        .await
    };
    let older = create("0").await;
    let urgent = create("10").await;
    assert_eq!(h.task_snapshot(&older).assignment_status, "pending");

    let ana = h.worker("ana", &["billing"], &ws.available).await;
    let offered = h.task_snapshot(&urgent);
    assert_eq!(offered.assignment_status, "reserved", "priority 10 first");
    assert_eq!(offered.reservations[0].worker_sid, ana);
    assert_eq!(h.task_snapshot(&older).assignment_status, "pending");

    // The one left waiting goes to the next worker.
    let bob = h.worker("bob", &["billing"], &ws.available).await;
    let next = h.task_snapshot(&older);
    assert_eq!(next.assignment_status, "reserved");
    assert_eq!(next.reservations[0].worker_sid, bob);
}

#[tokio::test]
async fn a_reject_with_worker_activity_sid_reroutes_to_the_next_eligible_worker() {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    let ana = h.worker("ana", &["billing"], &ws.available).await;
    let dan = h.worker("dan", &["billing"], &ws.available).await;
    let task = h.task(&ws, "billing").await;
    h.sim.settle().await;
    h.receiver.take();
    let first = h.task_snapshot(&task).reservations[0].clone();
    assert_eq!(first.worker_sid, ana, "ties go to the lowest SID");

    let (status, body) = h
        .post(
            &format!("/Tasks/{task}/Reservations/{}", first.sid),
            &[
                ("ReservationStatus", "rejected"),
                ("WorkerActivitySid", &ws.unavailable),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reservation_status"], "rejected");
    h.sim.settle().await;

    assert_eq!(h.activity_of(&ana), "Unavailable");
    let snapshot = h.task_snapshot(&task);
    assert_eq!(snapshot.assignment_status, "reserved");
    let statuses: Vec<(&str, &str)> = snapshot
        .reservations
        .iter()
        .map(|r| (r.worker_sid.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [(ana.as_str(), "rejected"), (dan.as_str(), "pending")]
    );

    let received = h.receiver.take();
    assert_eq!(
        event_types(&received),
        [
            "reservation.rejected",
            "worker.activity.update",
            "reservation.created"
        ]
    );
    let update = events(&received, "worker.activity.update")[0];
    assert_eq!(update.get("WorkerSid"), ana);
    assert_eq!(update.get("WorkerActivityName"), "Unavailable");
    assert_eq!(update.get("WorkerPreviousActivitySid"), ws.available);
    let assignment = assignments(&received);
    assert_eq!(assignment.len(), 1);
    assert_eq!(assignment[0].get("WorkerSid"), dan);
}

#[tokio::test]
async fn a_reservation_times_out_at_tick_after_task_reservation_timeout_and_moves_the_worker_to_the_timeout_activity()
 {
    let h = Harness::start().await;
    let ws = h.workspace(600).await;
    let ana = h.worker("ana", &["billing"], &ws.available).await;
    let task = h.task(&ws, "billing").await;
    h.sim.settle().await;
    h.receiver.take();

    h.wait(119).await;
    assert_eq!(h.task_snapshot(&task).reservations[0].status, "pending");
    assert!(h.receiver.take().is_empty());

    h.wait(1).await;
    let snapshot = h.task_snapshot(&task);
    assert_eq!(snapshot.reservations[0].status, "timeout");
    assert_eq!(
        snapshot.assignment_status, "pending",
        "nobody else can take it"
    );
    assert_eq!(snapshot.queue.as_deref(), Some("Billing"));
    assert_eq!(h.activity_of(&ana), "Unavailable");
    let received = h.receiver.take();
    assert_eq!(
        event_types(&received),
        ["reservation.timeout", "worker.activity.update"]
    );
    let timeout = events(&received, "reservation.timeout")[0];
    assert_eq!(timeout.get("ReservationSid"), snapshot.reservations[0].sid);
    assert_eq!(timeout.get("TaskSid"), task);
    assert!(timeout.signed);

    let (_, offered_back) = h
        .post(
            &format!("/Workers/{ana}"),
            &[("ActivitySid", &ws.available)],
        )
        .await;
    assert_eq!(offered_back["available"], true);
    h.sim.settle().await;
    let snapshot = h.task_snapshot(&task);
    assert_eq!(
        snapshot.assignment_status, "reserved",
        "available again: offered again"
    );
    assert_eq!(snapshot.reservations.len(), 2);
}

#[tokio::test]
async fn a_task_with_no_eligible_worker_moves_through_the_target_timeout_into_the_voicemail_queue()
{
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    h.worker("bob", &["support"], &ws.available).await;
    let task = h.task(&ws, "billing").await;
    h.sim.settle().await;
    let received = h.receiver.take();
    let entered = events(&received, "task-queue.entered");
    assert_eq!(entered.len(), 1);
    assert_eq!(entered[0].get("TaskQueueName"), "Billing");

    h.wait(59).await;
    assert_eq!(h.task_snapshot(&task).queue.as_deref(), Some("Billing"));
    assert!(h.receiver.take().is_empty());

    h.wait(1).await;
    let snapshot = h.task_snapshot(&task);
    assert_eq!(snapshot.queue.as_deref(), Some("Voicemail"));
    assert_eq!(snapshot.assignment_status, "pending");
    assert!(snapshot.reservations.is_empty());
    let received = h.receiver.take();
    let entered = events(&received, "task-queue.entered");
    assert_eq!(entered.len(), 1);
    let event = entered[0];
    assert!(event.signed);
    assert_eq!(event.get("TaskQueueSid"), ws.voicemail);
    assert_eq!(event.get("TaskQueueName"), "Voicemail");
    assert_eq!(event.get("TaskSid"), task);
    assert_eq!(event.get("TaskAge"), "60");
    let attributes: Value = serde_json::from_str(event.get("TaskAttributes")).unwrap();
    assert_eq!(attributes["call_sid"], "CA00000000000000000000000000000099");

    h.wait(3600).await;
    assert_eq!(
        h.task_snapshot(&task).queue.as_deref(),
        Some("Voicemail"),
        "the last target has no timeout: the task waits there"
    );
}

#[tokio::test]
async fn skip_if_moves_a_task_on_at_once_when_the_queue_has_no_available_worker() {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    h.worker("carl", &["billing"], &ws.offline).await;
    let configuration = json!({"task_routing": {"filters": [{
    "expression": "1==1",
    "targets": [
        {"queue": ws.billing, "timeout": 60, "skip_if": "workers.available == 0"},
        {"queue": ws.voicemail}
    ]}]}})
    .to_string();
    let (status, _) = h
        .post(
            &format!("/Workflows/{}", ws.workflow),
            &[("Configuration", &configuration)],
        )
        .await;
    assert_eq!(status, 200);

    let task = h.task(&ws, "billing").await;
    h.sim.settle().await;
    assert_eq!(h.task_snapshot(&task).queue.as_deref(), Some("Voicemail"));
    let received = h.receiver.take();
    let queues: Vec<&str> = events(&received, "task-queue.entered")
        .iter()
        .map(|e| e.get("TaskQueueName"))
        .collect();
    assert_eq!(queues, ["Billing", "Voicemail"]);
}

#[tokio::test]
async fn fail_next_500_once_answers_one_request_with_500_and_the_next_with_200() {
    let h = Harness::start().await;
    h.sim.fail_next(500, 1);

    let (status, body) = h
        .post("/Activities", &[("FriendlyName", "Available")])
        .await;
    assert_eq!(status, 500);
    assert_eq!(body["code"], 20500);
    assert!(h.sim.with_state(|s| s.activities.is_empty()), "not applied");

    let (status, body) = h
        .post("/Activities", &[("FriendlyName", "Available")])
        .await;
    assert_eq!(status, 201);
    assert_eq!(body["friendly_name"], "Available");

    let lines: Vec<String> = h.sim.take_requests().iter().map(|r| r.describe()).collect();
    let path = format!("/v1/Workspaces/{WORKSPACE}/Activities");
    assert_eq!(
        lines,
        [
            format!("POST {path} FriendlyName=Available -> 500"),
            format!("POST {path} FriendlyName=Available"),
        ]
    );

    h.sim.fail_next(429, 2);
    assert_eq!(h.get(&h.url("")).await.1["code"], 20429);
    assert_eq!(h.get(&h.url("")).await.0, 429);
    assert_eq!(h.get(&h.url("")).await.0, 200);
}

#[tokio::test]
async fn updating_a_reservation_that_is_not_pending_is_a_400() {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    let ana = h.worker("ana", &["billing"], &ws.available).await;
    let task = h.task(&ws, "billing").await;
    let reservation = h.task_snapshot(&task).reservations[0].sid.clone();
    let under_worker = format!("/Workers/{ana}/Reservations/{reservation}");

    let (status, body) = h
        .post(&under_worker, &[("ReservationStatus", "accepted")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reservation_status"], "accepted");
    assert_eq!(h.task_snapshot(&task).assignment_status, "assigned");

    for again in ["accepted", "rejected"] {
        let (status, body) = h.post(&under_worker, &[("ReservationStatus", again)]).await;
        assert_eq!(status, 400);
        assert_eq!(body["code"], 20001);
        assert!(body["message"].as_str().unwrap().contains("not pending"));
    }
    let (status, _) = h
        .post(
            &format!("/Tasks/{task}/Reservations/{reservation}"),
            &[("ReservationStatus", "rejected")],
        )
        .await;
    assert_eq!(status, 400);

    let (status, body) = h
        .post(
            &format!("/Tasks/{task}"),
            &[("AssignmentStatus", "completed"), ("Reason", "call ended")],
        )
        .await;
    assert_eq!(
        (status, body["assignment_status"].clone()),
        (200, json!("completed"))
    );
    assert_eq!(h.task_snapshot(&task).reservations[0].status, "completed");
}

#[tokio::test]
async fn messages_and_calls_are_stored_and_a_customer_call_can_be_redirected() {
    let h = Harness::start().await;
    let ws = h.workspace(60).await;
    let account = format!("{}/2010-04-01/Accounts/{ACCOUNT}", h.sim.base_url());

    let (status, message) = h
        .send(h.http.post(format!("{account}/Messages.json")).form(&[
            ("To", "+15550001111"),
            ("From", "+15550100000"),
            ("Body", "You are online"),
        ]))
        .await;
    assert_eq!(status, 201);
    assert_eq!(message["sid"], "SM00000000000000000000000000000001");
    assert_eq!(message["date_created"], "Mon, 02 Mar 2026 15:00:00 +0000");
    let (status, refused) = h
        .send(h.http.post(format!("{account}/Messages.json")).form(&[
            ("To", "+1555"),
            ("From", "+15550100000"),
            ("Body", "x"),
        ]))
        .await;
    assert_eq!((status, refused["code"].clone()), (400, json!(21211)));
    assert_eq!(
        h.sim.messages(),
        [SimMessage {
            sid: "SM00000000000000000000000000000001".into(),
            to: "+15550001111".into(),
            from: "+15550100000".into(),
            body: "You are online".into(),
        }]
    );

    let params = [
        ("To", "+15550001111"),
        ("From", "+15550100001"),
        (
            "Url",
            "https://shiftline.example.com/twilio/voice/dispatch/answer",
        ),
        ("MachineDetection", "Enable"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
    ];
    let (status, call) = h
        .send(h.http.post(format!("{account}/Calls.json")).form(&params))
        .await;
    assert_eq!(status, 201, "{call}");
    assert_eq!(call["status"], "queued");
    let sid = call["sid"].as_str().unwrap();
    let stored = h.sim.calls().into_iter().find(|c| c.sid == sid).unwrap();
    assert_eq!(stored.params.len(), 6, "repeated parameters kept");
    let (status, hung_up) = h
        .send(
            h.http
                .post(format!("{account}/Calls/{sid}.json"))
                .form(&[("Status", "canceled")]),
        )
        .await;
    assert_eq!(
        (status, hung_up["status"].clone()),
        (200, json!("canceled"))
    );

    let customer = "CA00000000000000000000000000000099";
    h.sim
        .create_task(
            &ws.workflow,
            json!({"skill": "billing", "call_sid": customer, "from": "+15557770000"}),
        )
        .unwrap();
    let twiml = "<Response><Say>Leave a message</Say><Record/></Response>";
    let (status, redirected) = h
        .send(
            h.http
                .post(format!("{account}/Calls/{customer}.json"))
                .form(&[("Twiml", twiml)]),
        )
        .await;
    assert_eq!(status, 200, "{redirected}");
    assert_eq!(redirected["direction"], "inbound");
    let stored = h
        .sim
        .calls()
        .into_iter()
        .find(|c| c.sid == customer)
        .unwrap();
    assert_eq!(stored.twiml.as_deref(), Some(twiml));
    assert_eq!(stored.from, "+15557770000");
}

#[tokio::test]
async fn requests_and_the_call_log_keep_only_the_most_recent_record_limit() {
    let h = Harness::start().await;
    let extra = 5;
    h.sim.with_state(|state| {
        for n in 0..RECORD_LIMIT + extra {
            state.requests.push(RecordedRequest {
                method: "GET".into(),
                path: format!("/{n}"),
                params: Vec::new(),
                status: 200,
            });
            state.call_log.push(format!("line {n}"));
        }
    });
    let info = h.sim.info();
    assert_eq!(info.requests_held, RECORD_LIMIT);
    assert_eq!(info.requests_dropped, extra as u64);
    assert_eq!(info.call_log_held, RECORD_LIMIT);
    assert_eq!(info.call_log_dropped, extra as u64);

    let requests = h.sim.take_requests();
    assert_eq!(requests.len(), RECORD_LIMIT);
    assert_eq!(
        requests[0].path,
        format!("/{extra}"),
        "the oldest went first"
    );
    assert_eq!(
        requests.last().unwrap().path,
        format!("/{}", RECORD_LIMIT + extra - 1)
    );
    let log = h.sim.take_call_log();
    assert_eq!(log.len(), RECORD_LIMIT);
    assert_eq!(log[0], format!("line {extra}"));

    // Taken, they make room again; what was dropped stays counted.
    let (status, _) = h.get(&h.url("")).await;
    assert_eq!(status, 200);
    assert_eq!(h.sim.requests().len(), 1);
    assert_eq!(h.sim.info().requests_dropped, extra as u64);
}
