//! Everything the simulated account holds, as plain records behind one lock.
//!
//! Maps are `BTreeMap`s keyed by SID, and SIDs come from a per-prefix counter, so
//! iteration order is creation order and every run of a test sees the same SIDs.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::callbacks::Outbox;
use super::error::ApiError;
use super::journal::{Journal, RECORD_LIMIT};
use super::phones::Phones;
use super::realism::Conditions;
use super::routing::TaskRouting;
use super::voice::Voice;
use super::{RecordedRequest, SimulatorConfig, TimeSource};

pub(crate) struct Workspace {
    pub friendly_name: String,
    pub event_callback_url: Option<String>,
    pub events_filter: Option<String>,
    pub default_activity_sid: Option<String>,
    pub timeout_activity_sid: Option<String>,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
}

pub(crate) struct Activity {
    pub sid: String,
    pub friendly_name: String,
    pub available: bool,
    pub date_created: DateTime<Utc>,
}

pub(crate) struct Worker {
    pub sid: String,
    pub friendly_name: String,
    pub activity_sid: String,
    /// The JSON string as given: Twilio hands it back verbatim.
    pub attributes: String,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
    pub date_status_changed: DateTime<Utc>,
    /// When the worker last became available or was last offered a task: the worker
    /// idle longest is offered the next task.
    pub idle_since: DateTime<Utc>,
}

pub(crate) struct TaskQueue {
    pub sid: String,
    pub friendly_name: String,
    pub target_workers: String,
    pub max_reserved_workers: u32,
    pub task_order: String,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
}

pub(crate) struct Workflow {
    pub sid: String,
    pub friendly_name: String,
    /// The JSON string as given, and what it says.
    pub configuration: String,
    pub routing: TaskRouting,
    pub assignment_callback_url: Option<String>,
    pub fallback_assignment_callback_url: Option<String>,
    pub task_reservation_timeout: u64,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskStatus {
    Pending,
    Reserved,
    Assigned,
    Canceled,
    Completed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Reserved => "reserved",
            TaskStatus::Assigned => "assigned",
            TaskStatus::Canceled => "canceled",
            TaskStatus::Completed => "completed",
        }
    }
}

/// Where a task is in its workflow: which filter (`None` = the default filter), which
/// target of it, and that target's queue.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub filter: Option<usize>,
    pub target: usize,
    pub queue_sid: String,
    pub entered: DateTime<Utc>,
}

pub(crate) struct Task {
    pub sid: String,
    pub attributes: String,
    pub status: TaskStatus,
    pub priority: i64,
    /// Time to live in seconds.
    pub timeout: u64,
    pub workflow_sid: String,
    /// `None` when no filter matched and the workflow has no default filter.
    pub route: Option<Route>,
    pub reason: Option<String>,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReservationStatus {
    Pending,
    Accepted,
    Rejected,
    Timeout,
    Canceled,
    Completed,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Pending => "pending",
            ReservationStatus::Accepted => "accepted",
            ReservationStatus::Rejected => "rejected",
            ReservationStatus::Timeout => "timeout",
            ReservationStatus::Canceled => "canceled",
            ReservationStatus::Completed => "completed",
        }
    }

    /// A reservation that keeps its worker busy (single-tasking).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ReservationStatus::Pending | ReservationStatus::Accepted
        )
    }
}

pub(crate) struct Reservation {
    pub sid: String,
    pub task_sid: String,
    pub worker_sid: String,
    pub status: ReservationStatus,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
}

pub(crate) struct Message {
    pub sid: String,
    pub to: String,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: String,
    pub date_created: DateTime<Utc>,
}

/// A call: placed over REST (the create parameters are kept whole: AMD options, status
/// callbacks, timeout) or a customer's call into shiftline. `voice` is where it is in
/// its TwiML and who is on the line.
pub(crate) struct Call {
    pub sid: String,
    pub to: String,
    pub from: String,
    /// `outbound-api` for calls made over REST, `inbound` for a customer's call.
    pub direction: String,
    pub status: String,
    pub url: Option<String>,
    pub twiml: Option<String>,
    pub params: Vec<(String, String)>,
    /// The parameters of every later `POST /Calls/{sid}.json`, in order.
    pub updates: Vec<Vec<(String, String)>>,
    /// The call whose `<Dial><Number>` made this one (its `direction` is `outbound-dial`).
    pub parent_call_sid: Option<String>,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
    pub voice: Voice,
}

/// A voicemail left with `<Record>`.
pub(crate) struct Recording {
    pub sid: String,
    pub call_sid: String,
    pub url: String,
    pub duration: u32,
    pub date_created: DateTime<Utc>,
    /// What `transcribe="true"` made of it: the text, or `None` for a failed one.
    pub transcription: Option<Transcription>,
}

pub(crate) struct Transcription {
    /// `TR…`.
    pub sid: String,
    pub text: Option<String>,
}

pub(crate) struct State {
    pub account_sid: String,
    pub workspace_sid: String,
    pub auth_token: String,
    pub base_url: String,
    pub clock: TimeSource,
    counters: HashMap<&'static str, u64>,
    pub workspace: Workspace,
    pub activities: BTreeMap<String, Activity>,
    pub workers: BTreeMap<String, Worker>,
    pub queues: BTreeMap<String, TaskQueue>,
    pub workflows: BTreeMap<String, Workflow>,
    pub tasks: BTreeMap<String, Task>,
    pub reservations: BTreeMap<String, Reservation>,
    pub messages: Vec<Message>,
    pub calls: BTreeMap<String, Call>,
    /// The REST requests answered since `take_requests`, the most recent
    /// [`RECORD_LIMIT`].
    pub requests: Journal<RecordedRequest>,
    /// `fail_next`: the status to answer with and how many more times.
    pub failures: Option<(u16, u32)>,
    /// The realism knobs and what they remember (the rate limit's window, the generator).
    pub conditions: Conditions,
    pub outbox: Outbox,
    /// Scripted phones, by number.
    pub phones: Phones,
    /// What happened on calls since `take_call_log`, one line each, the most recent
    /// [`RECORD_LIMIT`].
    pub call_log: Journal<String>,
    /// Running on its own (`serve`): each call log line and REST request is also logged
    /// with `tracing` as it happens (call lines at info, requests at debug).
    pub standalone: bool,
    pub recordings: Vec<Recording>,
    /// The voice queue (`QU…`) Twilio makes for each workflow that `<Enqueue>` uses.
    pub voice_queues: BTreeMap<String, String>,
}

impl State {
    pub fn new(config: SimulatorConfig, base_url: String, outbox: Outbox) -> Self {
        let now = (config.clock)();
        State {
            account_sid: config.account_sid,
            workspace_sid: config.workspace_sid,
            auth_token: config.auth_token,
            base_url,
            clock: config.clock,
            counters: HashMap::new(),
            workspace: Workspace {
                friendly_name: "shiftline (simulated)".into(),
                event_callback_url: None,
                events_filter: None,
                default_activity_sid: None,
                timeout_activity_sid: None,
                date_created: now,
                date_updated: now,
            },
            activities: BTreeMap::new(),
            workers: BTreeMap::new(),
            queues: BTreeMap::new(),
            workflows: BTreeMap::new(),
            tasks: BTreeMap::new(),
            reservations: BTreeMap::new(),
            messages: Vec::new(),
            calls: BTreeMap::new(),
            requests: Journal::new(RECORD_LIMIT),
            failures: None,
            conditions: Conditions::new(config.realism),
            outbox,
            phones: Phones::default(),
            call_log: Journal::new(RECORD_LIMIT),
            standalone: false,
            recordings: Vec::new(),
            voice_queues: BTreeMap::new(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// `prefix` + 32 hex digits from a counter per prefix: `WK000…0001`, `WK000…0002`.
    pub fn next_sid(&mut self, prefix: &'static str) -> String {
        let n = self.counters.entry(prefix).or_insert(0);
        *n += 1;
        format!("{prefix}{n:032x}")
    }

    pub fn activity(&self, sid: &str) -> Result<&Activity, ApiError> {
        self.activities
            .get(sid)
            .ok_or_else(|| ApiError::not_found("Activity", sid))
    }

    pub fn worker(&self, sid: &str) -> Result<&Worker, ApiError> {
        self.workers
            .get(sid)
            .ok_or_else(|| ApiError::not_found("Worker", sid))
    }

    pub fn queue(&self, sid: &str) -> Result<&TaskQueue, ApiError> {
        self.queues
            .get(sid)
            .ok_or_else(|| ApiError::not_found("TaskQueue", sid))
    }

    pub fn workflow(&self, sid: &str) -> Result<&Workflow, ApiError> {
        self.workflows
            .get(sid)
            .ok_or_else(|| ApiError::not_found("Workflow", sid))
    }

    pub fn task(&self, sid: &str) -> Result<&Task, ApiError> {
        self.tasks
            .get(sid)
            .ok_or_else(|| ApiError::not_found("Task", sid))
    }

    pub fn reservation(&self, sid: &str) -> Result<&Reservation, ApiError> {
        self.reservations
            .get(sid)
            .ok_or_else(|| ApiError::not_found("Reservation", sid))
    }

    pub fn activity_name(&self, sid: &str) -> String {
        self.activities
            .get(sid)
            .map(|a| a.friendly_name.clone())
            .unwrap_or_default()
    }

    pub fn is_available(&self, worker: &Worker) -> bool {
        self.activities
            .get(&worker.activity_sid)
            .is_some_and(|a| a.available)
    }

    /// Whether a worker holds a pending or accepted reservation.
    pub fn is_busy(&self, worker_sid: &str) -> bool {
        self.reservations
            .values()
            .any(|r| r.worker_sid == worker_sid && r.status.is_open())
    }

    /// A worker as expressions see it: its attributes plus the fields TaskRouter lets
    /// `TargetWorkersExpression` use.
    pub fn worker_value(&self, worker: &Worker) -> Value {
        let mut value = attributes(&worker.attributes);
        if let Value::Object(map) = &mut value {
            let extra = [
                ("sid", worker.sid.clone()),
                ("friendly_name", worker.friendly_name.clone()),
                ("activity_sid", worker.activity_sid.clone()),
                ("activity_name", self.activity_name(&worker.activity_sid)),
            ];
            for (key, v) in extra {
                map.entry(key).or_insert(Value::String(v));
            }
        }
        value
    }
}

/// A JSON attributes string as a value; anything unparsable is an empty object (the
/// REST layer refuses such strings before they are stored).
pub(crate) fn attributes(raw: &str) -> Value {
    serde_json::from_str::<Value>(raw)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}))
}

/// Seconds from `since` to `now`, never negative.
pub(crate) fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((now - since).num_seconds()).unwrap_or(0)
}
