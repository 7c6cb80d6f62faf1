//! A small Twilio: a test double with Twilio's real paths, parameter names and JSON
//! shapes, so shiftline's REST client talks to it exactly as it talks to Twilio (with
//! `api_base` and `taskrouter_base` both set to [`Simulator::base_url`]). It backs
//! shiftline's end-to-end tests and lets a newcomer run shiftline without a Twilio
//! account, in-process ([`Simulator::start`], ticked by its owner) or as its own process
//! shared by several shiftline instances ([`serve`]), which tests in other processes drive
//! over HTTP with [`Remote`].
//!
//! Running on its own ([`serve`], [`serve_until`], or [`Simulator::start_standalone`] for
//! a handle too): the timers fire every [`TICK`] (250 ms) on the clock given (the real one,
//! [`system_time`]), each call log line is logged (`tracing`, info) and each REST request
//! (debug) as it happens, and it can run for hours: what is kept for a test to read (the
//! REST requests answered, the call log) is capped at the most recent [`RECORD_LIMIT`]
//! (100,000) entries each, in every mode; the oldest are dropped and counted
//! ([`SimInfo`]) unless taken first. (The account's resources, calls, tasks,
//! reservations, messages and recordings, are not capped: they are kept as on Twilio and
//! grow with the traffic.) A `shiftline simulator --listen ADDR` subcommand binds `ADDR`
//! and calls [`serve_until`] (or [`serve`]) with a [`SimulatorConfig`] whose clock is
//! [`system_time`].
//!
//! The control API (`control`): what a test does through [`Simulator`]'s methods, over
//! HTTP, under `/__sim/` (a prefix no Twilio path uses), with the REST API's Basic auth
//! (account SID and auth token, else 401) and JSON bodies. Its requests see no realism
//! knob or injected failure and are not recorded. [`Remote`] is its client, with
//! [`Simulator`]'s method names and answers, async and fallible:
//!
//! ```text
//! GET  /__sim/info                     SimInfo: base URL, account, caps, counts held
//! GET  /__sim/requests                 [RecordedRequest], kept      Remote::requests
//! POST /__sim/requests/take            [RecordedRequest], taken     Remote::take_requests
//! GET  /__sim/call-log                 [String], kept               Remote::call_log
//! POST /__sim/call-log/take            [String], taken              Remote::take_call_log
//! GET  /__sim/workers | tasks | calls | messages | recordings     [SimWorker] ...
//! POST /__sim/tasks                    {"workflow_sid","attributes"} -> {"sid"}
//! POST /__sim/calls                    {"from","to","url"} -> {"sid"}   (place_call)
//! POST /__sim/calls/{sid}/hang-up      204
//! POST /__sim/phones                   {"number","answers":"human:1, busy"} -> 204
//!                                      (or "answers":["human:1","busy"]; "" clears)
//!                                      and/or "says":"Call me back" (phone_says;
//!                                      "" forgets); a field left out stays as it was
//! GET  /__sim/realism                  Realism
//! PUT  /__sim/realism                  Realism (fields left out are off) -> 204, or 400
//! POST /__sim/fail-next                {"status":500,"times":2} -> 204
//! POST /__sim/tick                     204
//! POST /__sim/settle                   204 once every callback queued is delivered
//! ```
//!
//! Errors are Twilio's error body (`code message more_info status`): 401 (20003), 400
//! (20001) for a body or value refused, 404 (20404) for an unknown `/__sim/` path.
//!
//! This crate depends on nothing of shiftline's, so that it checks shiftline instead of
//! agreeing with it: the time comes in as a function ([`TimeSource`]), callbacks are
//! signed by its own signer (`signature`), and its logs mask phone numbers with its own
//! few lines (`redact`).
//!
//! What is simulated:
//! - REST with HTTP Basic auth (`AccountSid:AuthToken`, else 401 code 20003), form
//!   bodies, JSON answers, Twilio's error body (`code message more_info status`).
//! - Realism (`realism`, [`Realism`]), all off by default: latency and jitter slept in
//!   the REST handler, a per-account rate limit answered with 429 and `Retry-After`,
//!   500s, and requests never answered, drawn from a seeded generator.
//! - TaskRouter (`routes`, `taskrouter`): one workspace, which starts empty; Activities,
//!   Workers, TaskQueues, Workflows, Tasks and Reservations with their filters and
//!   paginated lists (`meta.next_page_url` with a `PageToken`).
//! - Routing (`routing`, `expression`): workflow filters and targets, target timeouts
//!   and `skip_if`, reservations offered to the worker idle longest, accept, reject,
//!   reservation timeouts with the workspace's `TimeoutActivitySid`.
//! - Callbacks (`events`, `callbacks`): the assignment callback and workspace event
//!   callbacks, signed with `X-Twilio-Signature` using the auth token, delivered in order
//!   by one background task.
//! - API 2010 (`api2010`): Messages are stored; Calls are stored with their parameters
//!   and progress (`voice`): an outbound call rings the phone scripted with
//!   [`Simulator::script_phone`], is answered (or not) on the simulator's clock, runs
//!   shiftline's TwiML, and can be updated (redirected, hung up, canceled). Recordings
//!   are served: `GET /Recordings/{RE}.json` (the resource as Twilio shapes it:
//!   `duration` a string, `status`, `uri`, RFC 2822 dates), `/Recordings/{RE}` and
//!   `{RE}.wav` (a WAV of silence, 8 kHz 16-bit mono, as long as the recording but at most
//!   3 s, `audio/x-wav`), `{RE}.mp3` (`audio/mpeg`: well-formed MPEG-1 Layer III frames
//!   of silence, not encoded audio), and `GET /Transcriptions/{TR}.json`; an unknown SID
//!   is a 404 (20404). These answers are recorded like every REST request.
//! - Phone calls (`voice`, `twiml`, `phones`): inbound calls from
//!   [`Simulator::place_call`]; status callbacks (`StatusCallbackEvent` initiated,
//!   ringing, answered, completed; default completed), sync and async AMD
//!   (`AnsweredBy`, `AsyncAmdStatusCallback`), and a TwiML interpreter (read with
//!   roxmltree) for `Say Play Pause Gather Redirect Hangup Reject Enqueue(+Task) Leave
//!   Dial(Queue, Number) Record`. `<Enqueue workflowSid>` creates the TaskRouter task (the
//!   `<Task>` JSON plus the call parameters snake_cased: `call_sid from to direction
//!   ...`; `<Task priority>` is the task's priority), `<Dial><Queue reservationSid>`
//!   accepts that pending reservation and bridges the two calls, hanging up or being
//!   redirected while waiting cancels the task (`task.canceled`, plus
//!   `reservation.canceled` for a pending reservation). The `waitUrl` document runs in the
//!   wait context (`voice::waiting`): its `<Gather>` takes the caller's next digits and
//!   posts its action (`Digits` plus the queue parameters), and `<Leave/>` there cancels
//!   the task (reason `leave`) and requests the `<Enqueue action>` with
//!   `QueueResult=leave QueueSid QueueTime`, whose answer the call goes on with (without
//!   an action: the verbs after `<Enqueue>`). `<Dial callerId action timeout><Number>`
//!   places a child call (`voice::dial`: `outbound-dial`, `ParentCallSid`) that rings the
//!   scripted number; when it ends the Dial `action` gets `DialCallStatus DialCallSid
//!   DialCallDuration`. `<Record>` leaves a voicemail ([`Simulator::recordings`]), with
//!   `transcribe="true"` a transcription of what the caller says
//!   ([`Simulator::phone_says`]) posted to the `transcribeCallback`.
//!   [`Simulator::take_call_log`] tells it all line by line.
//!
//! Every request to shiftline (TaskRouter callbacks, TwiML fetches, Gather and Record
//! actions, status, AMD and recording callbacks) is signed and goes through one ordered
//! queue; the answer to a TwiML fetch is acted on before the request stops counting, so
//! [`Simulator::settle`] waits for a whole call flow (fetch, Gather action, next
//! document, ...). Call timers (ringing, ring `Timeout`, Gather `timeout`, talk time)
//! fire in [`Simulator::tick`] when the clock says they are due.
//!
//! Simplified (each module says more): time only moves when the clock given moves, and
//! timers only fire in [`Simulator::tick`] ([`serve`] calls it every [`TICK`]); routing
//! runs after every change; one reservation per task, single-tasking workers; no task channels, statistics, Events
//! list, assignment instructions (the answer to an assignment callback is ignored: a
//! reservation is decided over REST, as shiftline does), `Instruction` updates or
//! `If-Match`; messages never progress; a failed callback is logged and dropped, never
//! retried.
//!
//! Calls, simplified:
//! - Every request is a POST (`method` attributes are ignored); no `FallbackUrl`; speech
//!   input, `finishOnKey` timing, `Say loop`, `Play` and `Pause` take no time: only ringing,
//!   Gather timeouts and bridged talk run on the clock. Sync AMD adds no delay; the
//!   `MachineDetectionDuration` reported is a fixed number per verdict.
//! - `FromCity`/`FromState`/`FromCountry` (and `To...`) are sent only for the few real
//!   area codes the simulator knows (`+1312...` is Chicago); `555` numbers have none.
//! - A scripted person presses each digits group of their script at the `<Gather>` of
//!   that rank they reach (`human:2/1`: 2 at the first, 1 at the second; an empty group,
//!   or none left, lets it time out; a `waitUrl` Gather counts), at once after its
//!   prompts; anyone else lets each Gather time out.
//!   With async AMD the verdict is posted when the first document reaches its first verb
//!   that waits or leaves (`Gather` once its prompts have played, `Dial Enqueue Record
//!   Hangup Redirect`, or its end), so before any digits; the document goes on once
//!   shiftline has answered the verdict.
//! - `waitUrl` is fetched once and its document played once, taking no time: `Say` and
//!   `Play` are heard, a `Gather` the caller has no digits for plays its prompts and the
//!   document goes on, `Leave` and `Hangup` are run, a `Redirect` is not followed (one
//!   to another URL is logged). `<Enqueue>`'s `action` is requested only after
//!   `<Leave/>` (not when a bridged call ends, nor on a hang-up or redirect); a task
//!   canceled by TaskRouter (TTL, workflow timeout) leaves its caller waiting. Only
//!   `<Enqueue workflowSid>`, `<Dial><Queue reservationSid>` and `<Dial><Number>` are
//!   simulated (no plain named queues, no `<Client>`, `<Conference>`, `<Sip>`: those log
//!   a failure); a failed Dial of a queue goes on with the next verb and requests no
//!   `action`.
//! - `<Dial><Number>`: `answerOnBridge`, `<Number statusCallback>`, `sendDigits` and
//!   `url` are ignored; the child rings for the Dial `timeout` (default 30 s) and any
//!   pick-up is an answer (no AMD): a person talks their `talk_secs`, a voicemail box or
//!   fax 20 s, then the child completes and the dialling call goes on. The dialling call
//!   hanging up ends the child (`completed` if answered, `canceled` if ringing) and the
//!   action is still posted, its answer not run; a REST redirect of it ends the child
//!   without the action.
//! - A bridge lasts the worker's (callee's) `talk_secs`, then both legs complete, the task
//!   completes ("call completed") and the worker takes the `postWorkActivitySid`. A
//!   redirect or hang-up of either leg ends both.
//! - `<Record>` is instantaneous: a person records `min(talk_secs, maxLength)` seconds,
//!   anyone else 10 s; the action is posted with `Digits=hangup` (its answer is not run),
//!   then the `recordingStatusCallback`, then (with `transcribe="true"` and a
//!   `transcribeCallback`) the transcription callback, then the call completes. A
//!   transcription is the [`Simulator::phone_says`] text of the person recorded, verbatim:
//!   `failed` with no text for anyone without one, a machine, or a recording outside 2 to
//!   120 s. The `RecordingUrl` is `{base}/recordings/RE…` (not Twilio's
//!   `/2010-04-01/Accounts/{AC}/Recordings/RE…`, which is served too), and serves the
//!   same audio behind the same Basic auth.
//! - `hang_up` of an outbound call that is still ringing is the callee declining: `busy`.
//!   `Status=completed` over REST on a ringing call reports `completed`, `canceled`
//!   reports `canceled` (ignored once answered, as on Twilio).
//! - A TwiML answer that is not 2xx, or no answer, ends the call (error 11200 in the call
//!   log); a document that is not XML or whose root is not `<Response>` (empty bodies
//!   included) ends it with 12100; an unknown verb is logged (12200) and skipped. More
//!   than 100 documents for one call without the clock moving ends it (a redirect loop).
//!   A failed status, AMD or recording callback is only logged.
//!
//! SIDs are deterministic (`WK` + a 32-hex-digit counter per prefix: `WK000…0001`), so
//! transcripts built from [`Simulator::take_requests`] are stable from run to run.

mod api2010;
mod callbacks;
mod control;
mod error;
mod events;
mod expression;
mod geo;
mod journal;
mod json;
mod media;
mod phones;
mod realism;
mod redact;
mod remote;
mod routes;
mod routing;
mod signature;
mod state;
mod taskrouter;
mod twiml;
mod voice;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_callbacks;
#[cfg(test)]
mod tests_voice;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

pub use journal::RECORD_LIMIT;
pub use phones::Answer;
pub use realism::Realism;
pub use remote::{Remote, RemoteError};

use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::net::TcpListener;

use state::{Call, State, attributes};
use voice::Voice;

/// Where the simulator reads the time: the caller's clock (a test's hand-moved one, or
/// [`system_time`]). A plain function rather than a trait, so that the simulator depends
/// on nothing of shiftline's.
pub type TimeSource = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The real time, for a simulator running on its own ([`serve`]).
pub fn system_time() -> TimeSource {
    Arc::new(Utc::now)
}

/// How often a simulator running on its own ([`serve`], [`Simulator::start_standalone`])
/// fires its timers.
pub const TICK: Duration = Duration::from_millis(250);

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
    pub clock: TimeSource,
    /// How far the REST API is from an instant, perfect one; all off by default.
    pub realism: Realism,
}

/// Runs a simulator on `listener` on its own until serving fails: what `shiftline
/// simulator` runs, for several shiftline processes (and the tests driving them, with
/// [`Remote`]) to share. Its timers fire every [`TICK`] (250 ms) on `config.clock` (give
/// it [`system_time`]); the control API under `/__sim/` is served beside the REST API,
/// and what is kept for a test to read (the REST requests answered, the call log) is
/// capped at the most recent [`RECORD_LIMIT`] each. Each call log line is also logged
/// (`tracing`, info) and each REST request (debug), phone numbers masked.
///
/// Where callbacks go is never configured here: as on Twilio, each URL comes with the
/// REST request that set it up (a workflow's `AssignmentCallbackUrl`, the workspace's
/// `EventCallbackUrl`, a call's `Url`, `StatusCallback` and `AsyncAmdStatusCallback`;
/// TwiML actions are resolved against the document's URL). So several shiftline
/// instances can share one simulator: a call's callbacks go to the URLs it was placed
/// with, and the workspace's and workflow's to the URLs set last (one public URL in front
/// of all instances, as with Twilio). The simulator's own links (`next_page_url`,
/// recording URLs) use the listener's local address.
pub async fn serve(listener: TcpListener, config: SimulatorConfig) -> std::io::Result<()> {
    serve_until(listener, config, std::future::pending()).await
}

/// [`serve`], until `shutdown` resolves (a signal, say): then it returns `Ok(())` at
/// once, without waiting for requests in flight.
pub async fn serve_until(
    listener: TcpListener,
    config: SimulatorConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let (simulator, app) = Simulator::build(&listener, config)?;
    simulator.with_state(|state| state.standalone = true);
    tracing::info!(url = %simulator.base_url, "Twilio simulator listening");
    let server = async move { axum::serve(listener, app).await };
    tokio::select! {
        served = server => served,
        () = simulator.run_timers() => unreachable!("the timer loop never ends"),
        () = shutdown => Ok(()),
    }
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimWorker {
    pub sid: String,
    pub friendly_name: String,
    pub activity_name: String,
    pub available: bool,
    pub attributes: Value,
}

/// A task and every reservation made for it, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimTask {
    pub sid: String,
    pub attributes: Value,
    /// `pending reserved assigned canceled completed`.
    pub assignment_status: String,
    /// The friendly name of the queue it is in, once routed.
    pub queue: Option<String>,
    pub reservations: Vec<SimReservation>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimReservation {
    pub sid: String,
    pub worker_sid: String,
    /// `pending accepted rejected timeout canceled completed`.
    pub status: String,
}

/// A message sent over REST.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimMessage {
    pub sid: String,
    pub to: String,
    /// `From`, or the `MessagingServiceSid` it was sent with.
    pub from: String,
    pub body: String,
}

/// A call: placed over REST, dialled by `<Dial><Number>`, or the customer's call behind
/// a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCall {
    pub sid: String,
    pub to: String,
    pub from: String,
    /// `queued`, `in-progress`, `completed`, `canceled`, ...
    pub status: String,
    /// `outbound-api`, `outbound-dial` (a `<Dial><Number>`) or `inbound`.
    pub direction: String,
    /// The TwiML URL or document the call runs now (after any redirect).
    pub url: Option<String>,
    pub twiml: Option<String>,
    /// The parameters it was created with (none for a dialled call).
    pub params: Vec<(String, String)>,
    /// The parameters of each later update, in order.
    pub updates: Vec<Vec<(String, String)>>,
    /// For a call placed by a `<Dial><Number>` (`direction` `outbound-dial`): the call
    /// that dialled.
    #[serde(default)]
    pub parent_call_sid: Option<String>,
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
        Self::start_on(TcpListener::bind(addr).await?, config)
    }

    /// Serves on `listener` in a background task and returns the handle. Nothing fires
    /// the timers: the caller calls [`Simulator::tick`] (see
    /// [`Simulator::start_standalone`] for a simulator that runs on its own).
    pub fn start_on(listener: TcpListener, config: SimulatorConfig) -> std::io::Result<Simulator> {
        let (simulator, app) = Self::build(&listener, config)?;
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the Twilio simulator stopped serving");
            }
        });
        Ok(simulator)
    }

    /// [`Simulator::start_on`], running on its own as [`serve`] does (timers fired every
    /// [`TICK`] on `config.clock`, call log and requests logged as they happen) until the
    /// tokio runtime shuts down, and the handle to inspect it in-process too.
    pub fn start_standalone(
        listener: TcpListener,
        config: SimulatorConfig,
    ) -> std::io::Result<Simulator> {
        let simulator = Self::start_on(listener, config)?;
        simulator.with_state(|state| state.standalone = true);
        tokio::spawn(simulator.clone().run_timers());
        Ok(simulator)
    }

    /// Ticks every [`TICK`], forever.
    async fn run_timers(self) {
        let mut every = tokio::time::interval(TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.tick().await;
        }
    }

    /// The handle, and the app to serve on `listener`. Refuses knobs that fail
    /// [`Realism::validate`].
    fn build(
        listener: &TcpListener,
        config: SimulatorConfig,
    ) -> std::io::Result<(Simulator, Router)> {
        config
            .realism
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let client = callbacks::client()?;
        // The delivery task hands shiftline's answers back to the state it was started
        // for; a weak reference, so dropping the last handle still ends it.
        let state = Arc::new_cyclic(|weak: &Weak<Mutex<State>>| {
            let weak = weak.clone();
            let on_reply: callbacks::OnReply = Box::new(move |reply| {
                if let Some(state) = weak.upgrade() {
                    state
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .on_reply(reply);
                }
            });
            let outbox = callbacks::start(client, config.auth_token.clone(), on_reply);
            Mutex::new(State::new(config, base_url.clone(), outbox))
        });
        let simulator = Simulator { state, base_url };
        let app = routes::router(simulator.clone());
        Ok((simulator, app))
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

    /// Every REST request answered since the last call, in order (at most the most
    /// recent [`RECORD_LIMIT`]).
    pub fn take_requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.take()
    }

    /// What [`Simulator::take_requests`] would answer, without taking anything.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.to_vec()
    }

    /// Who the simulator is, and how much it holds of what a test takes.
    pub fn info(&self) -> SimInfo {
        let state = self.lock();
        SimInfo {
            base_url: self.base_url.clone(),
            account_sid: state.account_sid.clone(),
            workspace_sid: state.workspace_sid.clone(),
            record_limit: RECORD_LIMIT,
            requests_held: state.requests.len(),
            requests_dropped: state.requests.dropped(),
            call_log_held: state.call_log.len(),
            call_log_dropped: state.call_log.dropped(),
        }
    }

    /// The realism knobs in force.
    pub fn realism(&self) -> Realism {
        self.lock().conditions.realism().clone()
    }

    /// The next `times` authenticated REST requests get `status` with a Twilio error body
    /// (20500 for a 5xx, 20429 for 429, 20001 for 400) and are not applied.
    pub fn fail_next(&self, status: u16, times: u32) {
        self.lock().failures = (times > 0).then_some((status, times));
    }

    /// Turns the realism knobs to `realism` from the next request on (the generator is
    /// seeded afresh and the rate limit's window starts empty); knobs that fail
    /// [`Realism::validate`] are refused and the old ones kept.
    pub fn set_realism(&self, realism: Realism) -> Result<(), String> {
        realism.validate()?;
        self.lock().conditions = realism::Conditions::new(realism);
        Ok(())
    }

    /// Fires what is due at the clock's now: call timers first (phones answering, ring
    /// timeouts, Gather timeouts, bridged talk ending), then TaskRouter's (reservation
    /// timeouts, target timeouts, task TTLs); then offers pending tasks.
    pub async fn tick(&self) {
        let mut state = self.lock();
        state.tick_calls();
        state.tick();
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
                parent_call_sid: c.parent_call_sid.clone(),
            })
            .collect()
    }

    /// A customer task, as `<Enqueue workflowSid>` creates one; the task SID.
    ///
    /// When `attributes` carry a `call_sid` (as Enqueue's do) and no such call is known,
    /// the customer's call is registered as an `inbound`, `in-progress` call waiting
    /// behind this task, so that shiftline can redirect it (to voicemail) over the Calls
    /// API, which cancels the task as a real redirect would. [`Simulator::place_call`] is
    /// the fuller way: the call runs shiftline's own TwiML up to its `<Enqueue>`.
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
                let task_sid = state
                    .create_task(workflow_sid, attributes.to_string(), 0, 86_400)
                    .map_err(|e| e.message)?;
                state.wait_in_queue(call_sid, &task_sid);
                return Ok(task_sid);
            }
        }
        state
            .create_task(workflow_sid, attributes.to_string(), 0, 86_400)
            .map_err(|e| e.message)
    }

    /// The next calls TO `number` are answered this way, in order; the last one repeats.
    /// Numbers with no script: [`Answer::NoAnswer`]. Calls FROM `number` (see
    /// [`Simulator::place_call`]) take their caller's behaviour from the same list.
    pub fn script_phone(&self, number: &str, answers: Vec<Answer>) {
        self.lock().phones.script(number, answers);
    }

    /// What the person on `number` says when a `<Record transcribe="true">` records
    /// them: the `TranscriptionText` of their recordings (verbatim, trimmed). An empty
    /// text forgets it. Kept apart from [`Simulator::script_phone`], which leaves it as
    /// it is. Without it (or for a machine, or a recording outside 2 to 120 s) a
    /// transcription fails (`TranscriptionStatus=failed`, no text).
    pub fn phone_says(&self, number: &str, text: &str) {
        self.lock().phones.say(number, text);
    }

    /// A call FROM `from` to `to` (a shiftline number) whose voice webhook is `url`: the
    /// simulator fetches it like Twilio does (a signed POST with `CallSid AccountSid From
    /// To CallStatus=ringing ApiVersion Direction=inbound Caller Called`) and follows the
    /// TwiML. The caller behaves per `script_phone(from, ..)`: a `Human`'s digits groups
    /// are pressed at the successive `<Gather>`s (see [`Answer::parse`]), and with no
    /// script the caller is a person who presses nothing. Returns the CallSid; [`Simulator::settle`] waits for what follows.
    pub fn place_call(&self, from: &str, to: &str, url: &str) -> String {
        self.lock().place_call(from, to, url)
    }

    /// The caller (or callee) of `call_sid` hangs up now: a waiting caller's task is
    /// canceled, a bridge ends for both legs, a ringing outbound call is declined
    /// (`busy`). Nothing happens to a call that has ended or is unknown.
    pub fn hang_up(&self, call_sid: &str) {
        self.lock().hang_up(call_sid);
    }

    /// What happened on calls since the last call, one readable line each, in order:
    /// `CA..01 +15559990000 -> +15550100001 inbound: ringing`, `CA..01 hears "Thanks for
    /// calling"`, `CA..01 presses 1`, `CA..01 waits in queue (position 1)`, `CA..02
    /// +15550100001 -> +15550001111: ringing`, `CA..02 answered by human`, `CA..02 AMD:
    /// machine_start`, `CA..02 bridged with CA..01 (reservation WR..01 accepted)`, `CA..01
    /// records a voicemail (12 s)`, `CA..01 transcription: "Call me back"` (or
    /// `transcription failed`), `CA..02 completed (busy)`; while waiting, `CA..01 presses
    /// 9`, `CA..01 leaves the queue (leave)`, `CA..01 wait redirects to /other (not
    /// followed)`; a `<Dial><Number>`: `CA..03 dials +15559990001 (caller ID
    /// +15550100001)`, `CA..04 +15550100001 -> +15559990001: ringing`, `CA..04 answered by
    /// human`, `CA..04 bridged with CA..03`, `CA..04 completed (talked 60 s)` (or
    /// `completed (busy)`, `(no-answer)`, `(failed)`, `(canceled)`). SIDs the simulator
    /// made are shortened (`CA..01`), URLs shown as their path.
    ///
    /// At most the most recent [`RECORD_LIMIT`] lines are kept.
    pub fn take_call_log(&self) -> Vec<String> {
        self.lock().call_log.take()
    }

    /// What [`Simulator::take_call_log`] would answer, without taking anything.
    pub fn call_log(&self) -> Vec<String> {
        self.lock().call_log.to_vec()
    }

    /// Voicemails recorded with `<Record>`, oldest first.
    pub fn recordings(&self) -> Vec<SimRecording> {
        self.lock()
            .recordings
            .iter()
            .map(|r| SimRecording {
                call_sid: r.call_sid.clone(),
                sid: r.sid.clone(),
                url: r.url.clone(),
                duration: r.duration,
                transcription: r.transcription.as_ref().map(|t| SimTranscription {
                    sid: t.sid.clone(),
                    text: t.text.clone(),
                }),
            })
            .collect()
    }
}

/// A voicemail left on a call with `<Record>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimRecording {
    pub call_sid: String,
    /// `RE…`.
    pub sid: String,
    /// `{base_url}/recordings/RE…`: the audio, as at the REST API's
    /// `/2010-04-01/Accounts/{AC}/Recordings/RE…` (Basic auth).
    pub url: String,
    /// Seconds.
    pub duration: u32,
    /// With `<Record transcribe="true">`.
    #[serde(default)]
    pub transcription: Option<SimTranscription>,
}

/// A recording's transcription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimTranscription {
    /// `TR…`.
    pub sid: String,
    /// `None` when it failed.
    pub text: Option<String>,
}

/// Who a simulator is ([`Simulator::info`], `GET /__sim/info`), and how much it holds of
/// what a test reads or takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimInfo {
    /// As [`Simulator::base_url`].
    pub base_url: String,
    pub account_sid: String,
    pub workspace_sid: String,
    /// [`RECORD_LIMIT`]: how many requests, and how many call log lines, are kept.
    pub record_limit: usize,
    /// REST requests held, not yet taken.
    pub requests_held: usize,
    /// REST requests dropped, ever, because more than `record_limit` were held.
    pub requests_dropped: u64,
    pub call_log_held: usize,
    pub call_log_dropped: u64,
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
        parent_call_sid: None,
        date_created: now,
        date_updated: now,
        voice: Voice::default(),
    }
}
