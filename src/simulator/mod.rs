//! A small in-process Twilio: a test double with Twilio's real paths, parameter names and
//! JSON shapes, so shiftline's REST client talks to it exactly as it talks to Twilio
//! (with `api_base` and `taskrouter_base` both set to [`Simulator::base_url`]). It backs
//! the end-to-end tests and lets a newcomer run shiftline without a Twilio account.
//!
//! What is simulated:
//! - REST with HTTP Basic auth (`AccountSid:AuthToken`, else 401 code 20003), form
//!   bodies, JSON answers, Twilio's error body (`code message more_info status`).
//! - TaskRouter (`routes`, `taskrouter`): one workspace, which starts empty; Activities,
//!   Workers, TaskQueues, Workflows, Tasks and Reservations with their filters and
//!   paginated lists (`meta.next_page_url` with a `PageToken`).
//! - Routing (`routing`, `expression`): workflow filters and targets, target timeouts
//!   and `skip_if`, reservations offered to the worker idle longest, accept, reject,
//!   reservation timeouts with the workspace's `TimeoutActivitySid`.
//! - Callbacks (`events`, `callbacks`): the assignment callback and workspace event
//!   callbacks, signed with `X-Twilio-Signature` using the auth token, delivered in order
//!   by one background task.
//! - API 2010 (`api2010`): Messages and Calls are created and stored; calls keep their
//!   parameters and can be updated (redirected, hung up).
//!
//! Simplified (each module says more): time only moves when the test moves its clock,
//! and timers only fire in [`Simulator::tick`]; routing runs after every change; one
//! reservation per task, single-tasking workers; no task channels, statistics, Events
//! list, assignment instructions (the answer to an assignment callback is ignored: a
//! reservation is decided over REST, as shiftline does), `Instruction` updates or
//! `If-Match`; calls and messages never progress on their own yet (scripted answerers
//! come later); a failed callback is logged and dropped, never retried.
//!
//! SIDs are deterministic (`WK` + a 32-hex-digit counter per prefix: `WK000…0001`), so
//! transcripts built from [`Simulator::take_requests`] are stable from run to run.

mod api2010;
mod callbacks;
mod error;
mod events;
mod expression;
mod json;
mod routes;
mod routing;
mod state;
mod taskrouter;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::clock::Clock;
use state::{Call, State, attributes};

/// What the simulated account is.
#[derive(Clone)]
pub struct SimulatorConfig {
    /// `AC` + 32 hex digits: the Basic auth user and the account in API 2010 paths.
    pub account_sid: String,
    /// `WS` + 32 hex digits: the one workspace.
    pub workspace_sid: String,
    /// The Basic auth password REST requests must carry, and the key every callback is
    /// signed with.
    pub auth_token: String,
    pub clock: Arc<dyn Clock>,
}

/// A running simulator; a cheap handle, clone it freely.
#[derive(Clone)]
pub struct Simulator {
    // A std Mutex, not a tokio one: it is held for bookkeeping only, never across an
    // await (callbacks are queued under it and sent by another task).
    state: Arc<Mutex<State>>,
    base_url: String,
}

/// One REST request the simulator answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path without host or query.
    pub path: String,
    /// Query and form parameters, in the order sent.
    pub params: Vec<(String, String)>,
    /// The HTTP status answered.
    pub status: u16,
}

impl RecordedRequest {
    /// One readable line: `POST /v1/Workspaces/WS…/Workers FriendlyName=Ana
    /// ActivitySid=WA… Attributes={...}`, with ` -> 500` appended when the answer was not
    /// a success. Values with spaces are quoted.
    pub fn describe(&self) -> String {
        let mut line = format!("{} {}", self.method, self.path);
        for (name, value) in &self.params {
            if value.is_empty() || value.contains(char::is_whitespace) {
                line.push_str(&format!(" {name}={value:?}"));
            } else {
                line.push_str(&format!(" {name}={value}"));
            }
        }
        if !(200..300).contains(&self.status) {
            line.push_str(&format!(" -> {}", self.status));
        }
        line
    }
}

/// A worker as TaskRouter holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct SimWorker {
    pub sid: String,
    pub friendly_name: String,
    pub activity_name: String,
    pub available: bool,
    pub attributes: Value,
}

/// A task and every reservation made for it, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct SimTask {
    pub sid: String,
    pub attributes: Value,
    /// `pending reserved assigned canceled completed`.
    pub assignment_status: String,
    /// The friendly name of the queue it is in, once routed.
    pub queue: Option<String>,
    pub reservations: Vec<SimReservation>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimReservation {
    pub sid: String,
    pub worker_sid: String,
    /// `pending accepted rejected timeout canceled completed`.
    pub status: String,
}

/// A message sent over REST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimMessage {
    pub sid: String,
    pub to: String,
    /// `From`, or the `MessagingServiceSid` it was sent with.
    pub from: String,
    pub body: String,
}

/// A call: placed over REST, or the customer's call behind a task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimCall {
    pub sid: String,
    pub to: String,
    pub from: String,
    /// `queued`, `in-progress`, `completed`, `canceled`, ...
    pub status: String,
    /// `outbound-api` or `inbound`.
    pub direction: String,
    /// The TwiML URL or document the call runs now (after any redirect).
    pub url: Option<String>,
    pub twiml: Option<String>,
    /// The parameters it was created with.
    pub params: Vec<(String, String)>,
    /// The parameters of each later update, in order.
    pub updates: Vec<Vec<(String, String)>>,
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port, serves the REST subset and returns once listening.
    pub async fn start(config: SimulatorConfig) -> std::io::Result<Simulator> {
        Self::start_with(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Like [`Simulator::start`], on `addr`.
    pub async fn start_with(
        config: SimulatorConfig,
        addr: SocketAddr,
    ) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let outbox = callbacks::start(config.auth_token.clone())?;
        let simulator = Simulator {
            state: Arc::new(Mutex::new(State::new(config, base_url.clone(), outbox))),
            base_url,
        };
        let app = routes::router(simulator.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the Twilio simulator stopped serving");
            }
        });
        Ok(simulator)
    }

    /// `http://127.0.0.1:PORT`: the base for both API 2010 and TaskRouter.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic under the lock leaves plain data behind; carry on with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.lock())
    }

    /// Every REST request answered since the last call, in order.
    pub fn take_requests(&self) -> Vec<RecordedRequest> {
        std::mem::take(&mut self.lock().requests)
    }

    /// The next `times` authenticated REST requests get `status` with a Twilio error body
    /// (20500 for a 5xx, 20429 for 429, 20001 for 400) and are not applied.
    pub fn fail_next(&self, status: u16, times: u32) {
        self.lock().failures = (times > 0).then_some((status, times));
    }

    /// Fires what is due at the clock's now (reservation timeouts, target timeouts, task
    /// TTLs), then offers pending tasks.
    pub async fn tick(&self) {
        self.lock().tick();
    }

    /// Waits until every callback queued so far has been delivered or given up.
    pub async fn settle(&self) {
        let mut pending = self.lock().outbox.pending();
        // An error means the delivery task is gone, and so is anything left to wait for.
        let _ = pending.wait_for(|n| *n == 0).await;
    }

    pub fn workers(&self) -> Vec<SimWorker> {
        let state = self.lock();
        state
            .workers
            .values()
            .map(|w| SimWorker {
                sid: w.sid.clone(),
                friendly_name: w.friendly_name.clone(),
                activity_name: state.activity_name(&w.activity_sid),
                available: state.is_available(w),
                attributes: attributes(&w.attributes),
            })
            .collect()
    }

    pub fn tasks(&self) -> Vec<SimTask> {
        let state = self.lock();
        state
            .tasks
            .values()
            .map(|t| SimTask {
                sid: t.sid.clone(),
                attributes: attributes(&t.attributes),
                assignment_status: t.status.as_str().to_string(),
                queue: t
                    .route
                    .as_ref()
                    .and_then(|r| state.queues.get(&r.queue_sid))
                    .map(|q| q.friendly_name.clone()),
                reservations: state
                    .reservations
                    .values()
                    .filter(|r| r.task_sid == t.sid)
                    .map(|r| SimReservation {
                        sid: r.sid.clone(),
                        worker_sid: r.worker_sid.clone(),
                        status: r.status.as_str().to_string(),
                    })
                    .collect(),
            })
            .collect()
    }

    pub fn messages(&self) -> Vec<SimMessage> {
        self.lock()
            .messages
            .iter()
            .map(|m| SimMessage {
                sid: m.sid.clone(),
                to: m.to.clone(),
                from: m
                    .from
                    .clone()
                    .or_else(|| m.messaging_service_sid.clone())
                    .unwrap_or_default(),
                body: m.body.clone(),
            })
            .collect()
    }

    pub fn calls(&self) -> Vec<SimCall> {
        self.lock()
            .calls
            .values()
            .map(|c| SimCall {
                sid: c.sid.clone(),
                to: c.to.clone(),
                from: c.from.clone(),
                status: c.status.clone(),
                direction: c.direction.clone(),
                url: c.url.clone(),
                twiml: c.twiml.clone(),
                params: c.params.clone(),
                updates: c.updates.clone(),
            })
            .collect()
    }

    /// A customer task, as `<Enqueue workflowSid>` creates one; the task SID.
    ///
    /// When `attributes` carry a `call_sid` (as Enqueue's do) and no such call is known,
    /// the customer's call is registered as an `inbound`, `in-progress` call, so that
    /// shiftline can redirect it (to voicemail) over the Calls API.
    pub fn create_task(&self, workflow_sid: &str, attributes: Value) -> Result<String, String> {
        if !attributes.is_object() {
            return Err("task attributes must be a JSON object".into());
        }
        let mut state = self.lock();
        let now = state.now();
        if let Some(call_sid) = attributes.get("call_sid").and_then(Value::as_str) {
            let field = |name: &str| {
                attributes
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            if !state.calls.contains_key(call_sid) {
                let call = inbound_call(call_sid, field("from"), field("to"), now);
                state.calls.insert(call_sid.to_string(), call);
            }
        }
        state
            .create_task(workflow_sid, attributes.to_string(), 0, 86_400)
            .map_err(|e| e.message)
    }
}

fn inbound_call(sid: &str, from: String, to: String, now: DateTime<Utc>) -> Call {
    Call {
        sid: sid.to_string(),
        to,
        from,
        direction: "inbound".into(),
        status: "in-progress".into(),
        url: None,
        twiml: None,
        params: Vec::new(),
        updates: Vec::new(),
        date_created: now,
        date_updated: now,
    }
}
