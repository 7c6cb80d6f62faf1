//! Dispatch at Twilio's speed, for `bench/run.sh`: how long a customer's call waits between
//! TaskRouter's assignment callback and shiftline's request to call the worker, alone, in
//! bursts, and while 2,000 workers' shifts start at once; and whether a shift-start storm
//! gets every worker's TaskRouter change through, in order, when Twilio says 429.
//!
//! ```text
//! cargo run --release --example bench_dispatch -- --reservations 2000 --concurrency 16
//! cargo run --release --example bench_dispatch -- --phases burst16,burst64,storm --twilio-latency-ms 200
//! cargo run --release --example bench_dispatch -- --phases burst16 --twilio-latency-ms 200 --outbox-concurrency 1
//! cargo run --release --example bench_dispatch -- --phases storm429 --twilio-latency-ms 200 --throttle-rate 0.2
//! ```
//!
//! Everything runs in this process on one tokio runtime, like `shiftline serve`:
//! - a stand-in for Twilio on 127.0.0.1:0. It answers every request after
//!   `--twilio-latency-ms` (a tokio sleep in the handler, so slow answers overlap, as
//!   Twilio's do), and a `--throttle-rate` fraction of them (drawn from an RNG seeded with
//!   `--seed`) with 429, Twilio's 20429 body and `Retry-After: 1`. It keeps TaskRouter
//!   Workers (listed by FriendlyName, created with a `sid`, updated) so a sync sees what it
//!   would see in Twilio, and logs every request: what it was, for whom, the ActivitySid,
//!   when it came, when and how it was answered.
//! - shiftline, built with the library (`Application::build_with`, a `TwilioClient`
//!   pointed at the stand-in, `run_until_stopped` delivering the outbox), on 127.0.0.1:0
//!   with a fresh store, a clock of its own (below) and `--outbox-concurrency` as
//!   `[twilio] max_concurrent_requests` (default 32). Each storm gets a fresh shiftline.
//! - senders of signed webhooks (assignment callbacks, SMS), as Twilio sends them.
//!
//! A reservation's latency runs from just before its callback is sent to the stand-in's
//! receipt of the `Calls.json` whose `Url` names it (`reservation=WR...`; a request the
//! stand-in throttles does not count). Every reservation is for a worker of its own, rostered
//! through `[[workers]]`, so no call waits behind another in a worker's lane.
//!
//! Phases (`--phases`, comma separated, default `serial,concurrent`), a `DISPATCH phase=...
//! n=... p50_ms=... p99_ms=... max_ms=... webhook_p50_ms=... webhook_p99_ms=...
//! missing=...` line each (`webhook_*`: the callback's own answer time; `missing`: calls
//! that never came), plus phase-specific fields:
//! - `serial`: `--reservations` callbacks one at a time; `concurrent`: as many again from
//!   `--concurrency` senders, each one at a time.
//! - `burst16`, `burst64` (any `burstN`): N callbacks spawned at once, all waiting for the
//!   same instant and then sent together; one round to warm up, then `--burst-rounds`
//!   measured rounds, each once the outbox is idle again (`waited_a_round_trip`: calls
//!   that took longer than the latency, having found every request slot taken). Run it
//!   with `--outbox-concurrency 1` for the old outbox's one request at a time.
//! - `storm`: `--storm-workers` workers each text "skills", "1", "yes", "schedule weekdays
//!   9am-5pm", "yes" through the signed SMS webhook (as in
//!   dialogues/schedule_set_confirm_and_follow.toml), so each has a real ShiftBoundary timer
//!   at Monday 09:00 Chicago time. shiftline's clock runs at real speed from Monday 08:00;
//!   for the storm it jumps to 08:59:59 and runs on, so the outbox's `run` loop itself
//!   fires the 2,000 timers when 09:00:00 comes (the storm's start, t0). Each timer writes
//!   the worker's sync (Available) and their "your shift started" text. `--storm-calls`
//!   assignment callbacks arrive spread evenly over the storm's first 5 s. Reports the
//!   callbacks' latency, `syncs_all_ms` (t0 to the stand-in's receipt of the last worker's
//!   first successful Worker update; target: workers x latency / max_concurrent x 1.5,
//!   `syncs_target_ms`; `syncs_by_target`: how many were in by then), `texts_all_ms`,
//!   `timers_all_ms` (when the last timer had fired) and `drained_ms` (the outbox empty
//!   again), with the requests the stand-in saw (`max_in_flight`, `mean_in_flight`,
//!   `accepted_per_s`).
//! - `storm429`: the same storm with `--throttle-rate` (default 0.2 for this phase), where
//!   300 of the workers also text "off" at t0 + 0..3 s once their shift started: half as
//!   soon as the store shows them online (their Available sync most likely still waits,
//!   and is superseded), half once their Available request has reached the stand-in (in
//!   flight, throttled or done), so Offline is written behind a request whose outcome is
//!   open. It stops at `--storm-cap-secs` if the outbox has not drained by then
//!   (`finished=0`).
//!
//! Both storms print, per storm worker, whether TaskRouter ended up as shiftline wrote it:
//! `delivered` (the last ActivitySid the stand-in accepted is the worker's activity in the
//! store), `pending` (not yet, its sync still waits in the outbox), `parked`, or `lost` (none
//! of these); `order_violations` (workers whose accepted ActivitySids are not in the order
//! their presence changed, from the store's history: an older state after a newer one;
//! `seen_twice` says how many workers had two states accepted, i.e. how much the order was
//! put to the test) and `overlaps` (two requests for one worker in flight at once, which
//! lanes forbid).
//!
//! To keep a run short, what sets a phase up (rostering, the workers' texts and the syncs
//! they cause, warm-up callbacks) runs against an instant stand-in that never throttles;
//! latency and throttling start with the measured phases. The set-up also takes one worker
//! online and off, so shiftline has looked up the Available activity before the storm, as
//! a service running since yesterday has.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::ops::Range;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::SecretString;
use serde_json::{Value, json};
use shiftline::app::{Application, SIMULATOR_ACCOUNT, SIMULATOR_WORKSPACE, StartError};
use shiftline::clock::Clock;
use shiftline::config::Settings;
use shiftline::core::domain::PhoneNumber;
use shiftline::outbox::Delivery;
use shiftline::service::Service;
use shiftline::twilio::rest::{Endpoints, RetryPolicy, TwilioClient};
use shiftline::twilio::signature;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

type BoxError = Box<dyn Error>;

const TOKEN: &str = "bench-dispatch-token";
/// Reservations sent first and not counted: connections, caches.
const WARMUP: usize = 50;
/// The same, before a storm.
const STORM_WARMUP: usize = 10;
/// How long a callback's sender waits for its call before counting it missing.
const CALL_WAIT: Duration = Duration::from_secs(30);
/// What a storm worker texts to get a skill and weekday hours.
const SCHEDULE_DIALOGUE: [&str; 5] = ["skills", "1", "yes", "schedule weekdays 9am-5pm", "yes"];
/// Workers texting at once while a storm is set up.
const PREPARE_SENDERS: usize = 32;
/// shiftline's clock starts on a Monday at 08:00 in Chicago (the roster's default zone)...
const DAY_START: &str = "2026-03-02T08:00:00-06:00";
/// ...and the storm is the 09:00 shift start.
const BOUNDARY: &str = "2026-03-02T09:00:00-06:00";
/// A storm's customer calls arrive over this long from t0.
const CALL_SPREAD: Duration = Duration::from_secs(5);
/// storm429: workers who go online at t0 and text "off" soon after...
const CHANGERS: usize = 300;
/// ...at t0 plus up to this long.
const CHANGE_SPREAD: Duration = Duration::from_secs(3);
/// The stand-in's activities, as `twilio setup` names them.
const ACTIVITIES: [&str; 3] = ["Available", "Offline", "Unavailable"];

#[derive(Parser)]
#[command(about = "Measure assignment callback -> Calls.json latency, at Twilio's speed")]
struct Args {
    /// Phases to run, in order: serial, concurrent, burstN (burst16, burst64...), storm,
    /// storm429.
    #[arg(long, value_delimiter = ',', default_value = "serial,concurrent")]
    phases: Vec<Phase>,
    /// Reservations in the serial phase, and again in the concurrent one.
    #[arg(long, default_value_t = 2000)]
    reservations: usize,
    /// Senders in the concurrent phase.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// The stand-in answers every request of a measured phase after this long.
    #[arg(long, default_value_t = 0)]
    twilio_latency_ms: u64,
    /// shiftline's `[twilio] max_concurrent_requests` (1 to 100; default 32).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100))]
    outbox_concurrency: Option<u64>,
    /// Fraction (0 to 1) of a measured phase's requests answered 429 (default 0, and 0.2
    /// for storm429).
    #[arg(long)]
    throttle_rate: Option<f64>,
    /// Seeds the throttling draws.
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// Measured rounds of each burst.
    #[arg(long, default_value_t = 5)]
    burst_rounds: usize,
    /// Workers whose shift starts at once in a storm.
    #[arg(long, default_value_t = 2000)]
    storm_workers: usize,
    /// Customer calls (assignment callbacks) during a storm.
    #[arg(long, default_value_t = 50)]
    storm_calls: usize,
    /// A storm stops after this long even if its outbox has not drained.
    #[arg(long, default_value_t = 120)]
    storm_cap_secs: u64,
}

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Serial,
    Concurrent,
    Burst(usize),
    Storm,
    Storm429,
}

impl FromStr for Phase {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "serial" => Ok(Self::Serial),
            "concurrent" => Ok(Self::Concurrent),
            "storm" => Ok(Self::Storm),
            "storm429" => Ok(Self::Storm429),
            _ => s
                .strip_prefix("burst")
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .map(Self::Burst)
                .ok_or_else(|| {
                    format!("{s:?}: phases are serial, concurrent, burstN, storm, storm429")
                }),
        }
    }
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("a valid constant")
        .with_timezone(&Utc)
}

// --- The clock -----------------------------------------------------------------------

/// Real time from an offset that can jump forward: shiftline sees Monday morning, and the
/// 09:00 boundary comes when the benchmark wants it, after which retries, backoffs and
/// Retry-After pauses still come due at real speed.
struct JumpClock {
    origin: Instant,
    at_origin: DateTime<Utc>,
    jumped: Mutex<TimeDelta>,
}

impl JumpClock {
    fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            origin: Instant::now(),
            at_origin: start,
            jumped: Mutex::new(TimeDelta::zero()),
        }
    }

    /// What the clock reads at the real instant `when`.
    fn reading(&self, when: Instant) -> DateTime<Utc> {
        let elapsed = TimeDelta::from_std(when.saturating_duration_since(self.origin))
            .unwrap_or(TimeDelta::MAX);
        self.at_origin + elapsed + *self.jumped.lock().unwrap()
    }

    /// Moves the clock so that it reads `to` now.
    fn jump_to(&self, to: DateTime<Utc>) {
        let now = self.now();
        *self.jumped.lock().unwrap() += to - now;
    }

    /// The real instant at which the clock will read `t`.
    fn instant_at(&self, t: DateTime<Utc>) -> Instant {
        let now = Instant::now();
        now + (t - self.reading(now)).to_std().unwrap_or_default()
    }
}

impl Clock for JumpClock {
    fn now(&self) -> DateTime<Utc> {
        self.reading(Instant::now())
    }
}

// --- The Twilio stand-in -------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Activities,
    WorkerList,
    WorkerCreate,
    WorkerUpdate,
    Call,
    Text,
    Other,
}

/// One request the stand-in answered.
#[derive(Clone, Debug)]
struct Hit {
    kind: Kind,
    /// The worker (FriendlyName, or the Worker SID's), or the number called or texted.
    phone: Option<String>,
    /// The ActivitySid a Worker create or update asked for.
    activity: Option<String>,
    received: Instant,
    answered: Instant,
    status: u16,
}

impl Hit {
    fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A TaskRouter Worker the stand-in holds.
#[derive(Clone)]
struct Worker {
    sid: String,
    phone: String,
    activity: String,
    attributes: String,
}

impl Worker {
    fn json(&self) -> Value {
        json!({
            "sid": self.sid,
            "friendly_name": self.phone,
            "activity_sid": self.activity,
            "activity_name": activity_name(&self.activity),
            "attributes": self.attributes,
            "available": activity_name(&self.activity) == "Available",
            "workspace_sid": SIMULATOR_WORKSPACE,
        })
    }
}

#[derive(Default)]
struct Workers {
    by_phone: HashMap<String, Worker>,
    phone_of: HashMap<String, String>,
}

#[derive(Default)]
struct StandInState {
    latency_ms: AtomicU64,
    /// The throttle rate and the draws; a std Mutex, never held across an await.
    throttle: Mutex<(f64, Option<StdRng>)>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Instant>>>,
    workers: Mutex<Workers>,
    log: Mutex<Vec<Hit>>,
    /// Workers a request to make Available has arrived for.
    available_sent: Mutex<HashSet<String>>,
    next_sid: AtomicU64,
    calls: AtomicU64,
    unexpected: AtomicU64,
}

/// The stand-in for Twilio's REST APIs, and what it saw.
#[derive(Clone, Default)]
struct StandIn(Arc<StandInState>);

/// What a request is, read from its method, path and parameters.
struct Request {
    kind: Kind,
    phone: Option<String>,
    activity: Option<String>,
    /// A Worker update's SID.
    worker_sid: Option<String>,
    /// The reservation a call's Url names.
    reservation: Option<String>,
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl Request {
    fn read(
        method: &Method,
        path: &str,
        form: &[(String, String)],
        query: &[(String, String)],
    ) -> Self {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let after_workers = segments
            .iter()
            .position(|s| *s == "Workers")
            .map(|i| &segments[i + 1..]);
        let last = segments.last().copied().unwrap_or_default();
        let post = method == Method::POST;
        let kind = match (after_workers, last) {
            (Some([]), _) if post => Kind::WorkerCreate,
            (Some([]), _) => Kind::WorkerList,
            (Some([_]), _) if post => Kind::WorkerUpdate,
            (_, "Activities") => Kind::Activities,
            (_, "Calls.json") if post => Kind::Call,
            (_, "Messages.json") if post => Kind::Text,
            _ => Kind::Other,
        };
        let phone = match kind {
            Kind::WorkerCreate => param(form, "FriendlyName"),
            Kind::WorkerList => param(query, "FriendlyName"),
            Kind::Call | Kind::Text => param(form, "To"),
            _ => None,
        };
        let reservation = (kind == Kind::Call)
            .then(|| param(form, "Url"))
            .flatten()
            .and_then(|url| url.split_once("reservation="))
            .map(|(_, rest)| rest.chars().take(34).collect());
        Self {
            kind,
            phone: phone.map(str::to_string),
            activity: param(form, "ActivitySid").map(str::to_string),
            worker_sid: match (kind, after_workers) {
                (Kind::WorkerUpdate, Some([sid])) => Some(sid.to_string()),
                _ => None,
            },
            reservation,
        }
    }
}

fn activity_sid(name: &str) -> String {
    let i = ACTIVITIES.iter().position(|a| *a == name).unwrap_or(0) + 1;
    format!("WA{i:032x}")
}

fn activity_name(sid: &str) -> &'static str {
    ACTIVITIES
        .iter()
        .find(|a| activity_sid(a) == sid)
        .copied()
        .unwrap_or("?")
}

impl StandIn {
    /// From now on, answer after `latency_ms` and throttle `rate` of the requests.
    fn set(&self, latency_ms: u64, rate: f64, seed: u64) {
        self.0.latency_ms.store(latency_ms, Ordering::Relaxed);
        *self.0.throttle.lock().unwrap() = (rate, Some(StdRng::seed_from_u64(seed)));
    }

    fn throttles_now(&self) -> bool {
        let mut throttle = self.0.throttle.lock().unwrap();
        let (rate, rng) = &mut *throttle;
        *rate > 0.0 && rng.as_mut().is_some_and(|r| r.random_bool(rate.min(1.0)))
    }

    /// Waits for the call naming `reservation`.
    fn expect(&self, reservation: &str) -> oneshot::Receiver<Instant> {
        let (tx, rx) = oneshot::channel();
        self.0
            .waiting
            .lock()
            .unwrap()
            .insert(reservation.to_string(), tx);
        rx
    }

    fn forget(&self, reservation: &str) {
        self.0.waiting.lock().unwrap().remove(reservation);
    }

    fn call_arrived(&self, reservation: Option<&str>, received: Instant) {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        let waiter = reservation.and_then(|r| self.0.waiting.lock().unwrap().remove(r));
        match waiter {
            Some(tx) => {
                let _ = tx.send(received);
            }
            None => {
                self.0.unexpected.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn sid(&self, prefix: &str) -> String {
        format!(
            "{prefix}{:032x}",
            self.0.next_sid.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// The answer to a request that was not throttled, and the worker it was about.
    fn answer(&self, request: &Request, form: &[(String, String)]) -> (StatusCode, Value) {
        let mut workers = self.0.workers.lock().unwrap();
        match request.kind {
            Kind::Activities => {
                let list: Vec<Value> = ACTIVITIES
                    .iter()
                    .map(|name| {
                        json!({"sid": activity_sid(name), "friendly_name": name, "available": *name == "Available"})
                    })
                    .collect();
                let meta = json!({"key": "activities", "next_page_url": null});
                (StatusCode::OK, json!({"activities": list, "meta": meta}))
            }
            Kind::WorkerList => {
                let found: Vec<Value> = request
                    .phone
                    .as_ref()
                    .and_then(|p| workers.by_phone.get(p))
                    .map(Worker::json)
                    .into_iter()
                    .collect();
                let meta = json!({"key": "workers", "next_page_url": null});
                (StatusCode::OK, json!({"workers": found, "meta": meta}))
            }
            Kind::WorkerCreate => {
                let phone = request.phone.clone().unwrap_or_default();
                if workers.by_phone.contains_key(&phone) {
                    // TaskRouter's answer to a second Worker with the same FriendlyName.
                    let body = json!({"code": 20001, "message": "Worker FriendlyName already exists", "status": 400});
                    return (StatusCode::BAD_REQUEST, body);
                }
                let worker = Worker {
                    sid: self.sid("WK"),
                    phone: phone.clone(),
                    activity: request
                        .activity
                        .clone()
                        .unwrap_or_else(|| activity_sid("Offline")),
                    attributes: param(form, "Attributes").unwrap_or("{}").to_string(),
                };
                workers.phone_of.insert(worker.sid.clone(), phone.clone());
                let body = worker.json();
                workers.by_phone.insert(phone.clone(), worker);
                (StatusCode::CREATED, body)
            }
            Kind::WorkerUpdate => {
                let sid = request.worker_sid.clone().unwrap_or_default();
                let Some(phone) = workers.phone_of.get(&sid).cloned() else {
                    let body = json!({"code": 20404, "message": "Worker not found", "status": 404});
                    return (StatusCode::NOT_FOUND, body);
                };
                let worker = workers.by_phone.get_mut(&phone).expect("indexed");
                if let Some(activity) = &request.activity {
                    worker.activity = activity.clone();
                }
                if let Some(attributes) = param(form, "Attributes") {
                    worker.attributes = attributes.to_string();
                }
                (StatusCode::OK, worker.json())
            }
            Kind::Call => (
                StatusCode::CREATED,
                json!({"sid": self.sid("CA"), "status": "queued"}),
            ),
            Kind::Text => (
                StatusCode::CREATED,
                json!({"sid": self.sid("SM"), "status": "queued"}),
            ),
            Kind::Other => (StatusCode::OK, json!({"sid": format!("XX{:032x}", 0)})),
        }
    }

    fn phone_of(&self, worker_sid: Option<&str>) -> Option<String> {
        let workers = self.0.workers.lock().unwrap();
        worker_sid.and_then(|sid| workers.phone_of.get(sid).cloned())
    }

    /// Whether a request to make this worker Available has arrived (answered or not).
    fn available_sent(&self, phone: &str) -> bool {
        self.0.available_sent.lock().unwrap().contains(phone)
    }

    /// Every request answered since `since`, in the order answered.
    fn hits_since(&self, since: Instant) -> Vec<Hit> {
        let log = self.0.log.lock().unwrap();
        log.iter()
            .filter(|h| h.received >= since)
            .cloned()
            .collect()
    }
}

/// Every request to the stand-in: throttled or not (drawn on arrival), answered after the
/// latency, logged when answered.
async fn twilio(State(standin): State<StandIn>, method: Method, uri: Uri, body: Bytes) -> Response {
    let received = Instant::now();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let request = Request::read(&method, uri.path(), &form, &query);
    let phone = request
        .phone
        .clone()
        .or_else(|| standin.phone_of(request.worker_sid.as_deref()));
    if request.kind == Kind::WorkerUpdate
        && request.activity.as_deref() == Some(&activity_sid("Available"))
        && let Some(phone) = &phone
    {
        standin
            .0
            .available_sent
            .lock()
            .unwrap()
            .insert(phone.clone());
    }
    let throttled = standin.throttles_now();
    if request.kind == Kind::Call && !throttled {
        standin.call_arrived(request.reservation.as_deref(), received);
    }
    let latency = standin.0.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let (status, body) = if throttled {
        let body = json!({"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429});
        (StatusCode::TOO_MANY_REQUESTS, body)
    } else {
        standin.answer(&request, &form)
    };
    standin.0.log.lock().unwrap().push(Hit {
        kind: request.kind,
        phone,
        activity: request.activity,
        received,
        answered: Instant::now(),
        status: status.as_u16(),
    });
    let mut response = (
        status,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if throttled {
        response
            .headers_mut()
            .insert(RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
    }
    response
}

async fn start_standin(standin: StandIn) -> Result<String, BoxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = Router::new().fallback(twilio).with_state(standin);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

// --- shiftline ------------------------------------------------------------------------

/// A reservation's worker.
fn phone(i: usize) -> String {
    format!("+15554{i:06}")
}

/// A storm worker.
fn storm_phone(i: usize) -> String {
    format!("+15553{i:06}")
}

/// The worker who goes online and off before a storm, to warm the activity cache.
const WARM_PHONE: &str = "+15552000000";

/// Hands out reservation numbers, so no two phases (or instances) share one.
#[derive(Default)]
struct Indices(usize);

impl Indices {
    fn take(&mut self, n: usize) -> Range<usize> {
        self.0 += n;
        self.0 - n..self.0
    }
}

/// One running shiftline.
struct Shiftline {
    base: String,
    service: Service,
    delivery: Delivery,
    clock: Arc<JumpClock>,
    max_concurrent: usize,
    stop: Option<oneshot::Sender<()>>,
    running: JoinHandle<Result<(), StartError>>,
    _dir: tempfile::TempDir,
}

impl Shiftline {
    /// Starts shiftline on a fresh store with `roster` (phone, name) in its configuration,
    /// talking to the stand-in at `twilio_base`.
    async fn start(
        twilio_base: &str,
        roster: &[(String, String)],
        outbox_concurrency: Option<u64>,
        clock: Arc<JumpClock>,
    ) -> Result<Self, BoxError> {
        let dir = tempfile::tempdir()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let mut toml = format!(
            "[server]\nlisten = \"{addr}\"\npublic_url = \"{base}\"\ndata_dir = \"{}\"\n",
            dir.path().join("data").display()
        );
        for key in ["billing", "support", "spanish"] {
            toml += &format!("[[skills]]\nkey = \"{key}\"\n");
        }
        for (phone, name) in roster {
            toml += &format!("[[workers]]\nphone = \"{phone}\"\nname = \"{name}\"\n");
        }
        let mut settings = Settings::parse(&toml, |name| {
            (name == "SHIFTLINE_TWILIO_AUTH_TOKEN").then(|| TOKEN.to_string())
        })?;
        if let Some(n) = outbox_concurrency {
            settings.requests.max_concurrent = n as usize;
        }
        let max_concurrent = settings.requests.max_concurrent;
        let client = TwilioClient::new(
            SIMULATOR_ACCOUNT,
            SecretString::from(TOKEN.to_string()),
            SIMULATOR_WORKSPACE,
            Endpoints {
                api_base: twilio_base.to_string(),
                taskrouter_base: twilio_base.to_string(),
            },
            RetryPolicy::default(),
        );
        let app = Application::build_with(settings, clock.clone(), client, None).await?;
        let (service, delivery) = (app.service.clone(), app.delivery.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let running = tokio::spawn(app.run_until_stopped(listener, shutdown, true));
        Ok(Self {
            base,
            service,
            delivery,
            clock,
            max_concurrent,
            stop: Some(stop),
            running,
            _dir: dir,
        })
    }

    /// Stops serving and delivering (what is left stays in the store, readable).
    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.running).await;
        }
    }

    async fn outbox_len(&self) -> Result<usize, String> {
        let stats = self.service.store.outbox_stats(self.clock.now()).await;
        Ok(stats.map_err(|e| e.to_string())?.pending)
    }

    /// Waits until the outbox is empty and nothing is being delivered.
    async fn settle(&self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            if self.outbox_len().await? == 0 {
                let idle = tokio::time::timeout(within, self.delivery.idle()).await;
                if idle.is_ok() && self.outbox_len().await? == 0 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!("the outbox did not drain within {within:?}"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

// --- Webhooks -------------------------------------------------------------------------

static MESSAGE_SIDS: AtomicU64 = AtomicU64::new(1);

/// A worker's text through the signed SMS webhook; returns the TwiML reply.
async fn text(
    http: &reqwest::Client,
    base: &str,
    from: &str,
    body: &str,
) -> Result<String, String> {
    let sid = format!("SM{:032x}", MESSAGE_SIDS.fetch_add(1, Ordering::Relaxed));
    let params: Vec<(String, String)> = [
        ("AccountSid", SIMULATOR_ACCOUNT),
        ("From", from),
        ("To", "+15550100000"),
        ("Body", body),
        ("NumMedia", "0"),
        ("MessageSid", &sid),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let url = format!("{base}/twilio/sms");
    let response = http
        .post(&url)
        .header("x-twilio-signature", signature::sign(TOKEN, &url, &params))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&params).map_err(|e| e.to_string())?)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let reply = response.text().await.map_err(|e| e.to_string())?;
    if status != StatusCode::OK {
        return Err(format!(
            "{from} texting {body:?}: the webhook answered {status}"
        ));
    }
    Ok(reply)
}

/// A signed assignment callback for reservation `i`, ready to send.
struct Callback {
    reservation: String,
    url: String,
    signature: String,
    body: String,
}

struct Sample {
    to_call: Option<Duration>,
    webhook: Duration,
}

impl Callback {
    fn new(base: &str, i: usize) -> Self {
        let reservation = format!("WR{i:032x}");
        let params: Vec<(String, String)> = [
            ("AccountSid", SIMULATOR_ACCOUNT.to_string()),
            ("WorkspaceSid", SIMULATOR_WORKSPACE.to_string()),
            ("WorkflowSid", format!("WW{:032x}", 1)),
            ("TaskQueueSid", format!("WQ{:032x}", 1)),
            ("WorkerSid", format!("WK{i:032x}")),
            ("ReservationSid", reservation.clone()),
            ("TaskSid", format!("WT{i:032x}")),
            (
                "TaskAttributes",
                r#"{"skill":"billing","language":"en","caller":"+15559990000"}"#.to_string(),
            ),
            (
                "WorkerAttributes",
                format!(
                    r#"{{"contact_uri":"{}","skills":["billing"],"languages":["en"]}}"#,
                    phone(i)
                ),
            ),
            ("TaskAge", "3".to_string()),
            ("TaskPriority", "0".to_string()),
            ("Timestamp", Utc::now().timestamp().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let url = format!("{base}/twilio/taskrouter/assignment");
        Self {
            signature: signature::sign(TOKEN, &url, &params),
            body: serde_urlencoded::to_string(&params).expect("strings always encode"),
            reservation,
            url,
        }
    }

    /// Sends the callback and waits (up to `wait`) for the stand-in to receive its call.
    async fn send(
        self,
        http: &reqwest::Client,
        standin: &StandIn,
        wait: Duration,
    ) -> Result<Sample, String> {
        let call = standin.expect(&self.reservation);
        let start = Instant::now();
        let response = http
            .post(&self.url)
            .header("x-twilio-signature", self.signature)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(self.body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        response.bytes().await.map_err(|e| e.to_string())?;
        let webhook = start.elapsed();
        if status != StatusCode::OK {
            return Err(format!("assignment callback answered {status}"));
        }
        let to_call = match tokio::time::timeout(wait, call).await {
            Ok(Ok(at)) => Some(at.saturating_duration_since(start)),
            _ => {
                standin.forget(&self.reservation);
                None
            }
        };
        Ok(Sample { to_call, webhook })
    }
}

async fn reserve(
    http: &reqwest::Client,
    standin: &StandIn,
    base: &str,
    i: usize,
) -> Result<Sample, String> {
    Callback::new(base, i).send(http, standin, CALL_WAIT).await
}

// --- Figures --------------------------------------------------------------------------

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

/// `n=... p50_ms=... p99_ms=... max_ms=... webhook_p50_ms=... webhook_p99_ms=... missing=...`
fn latency_fields(samples: &[Sample]) -> String {
    let mut calls: Vec<Duration> = samples.iter().filter_map(|s| s.to_call).collect();
    let mut hooks: Vec<Duration> = samples.iter().map(|s| s.webhook).collect();
    calls.sort();
    hooks.sort();
    format!(
        "n={} p50_ms={:.3} p99_ms={:.3} max_ms={:.3} webhook_p50_ms={:.3} webhook_p99_ms={:.3} missing={}",
        samples.len(),
        percentile(&calls, 0.50),
        percentile(&calls, 0.99),
        percentile(&calls, 1.0),
        percentile(&hooks, 0.50),
        percentile(&hooks, 0.99),
        samples.len() - calls.len(),
    )
}

fn report(phase: &str, samples: &[Sample], elapsed: Duration) {
    println!(
        "DISPATCH phase={phase} {} per_s={:.0}",
        latency_fields(samples),
        samples.len() as f64 / elapsed.as_secs_f64(),
    );
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e3)
}

/// The most requests the stand-in had in flight at once.
fn max_in_flight(hits: &[Hit]) -> usize {
    let mut edges: Vec<(Instant, i32)> = hits
        .iter()
        .flat_map(|h| [(h.received, 1), (h.answered, -1)])
        .collect();
    // At one instant an answer goes before an arrival.
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as usize
}

// --- Phases ---------------------------------------------------------------------------

/// What every measured phase prints about its setting.
struct Setting {
    latency_ms: u64,
    throttle_rate: f64,
    max_concurrent: usize,
}

impl Setting {
    fn fields(&self) -> String {
        format!(
            "latency_ms={} outbox_concurrency={} throttle_rate={}",
            self.latency_ms, self.max_concurrent, self.throttle_rate
        )
    }
}

/// `serial`: one callback at a time.
async fn serial(
    http: &reqwest::Client,
    standin: &StandIn,
    base: &str,
    range: Range<usize>,
) -> Result<(), BoxError> {
    let started = Instant::now();
    let mut samples = Vec::with_capacity(range.len());
    for i in range {
        samples.push(reserve(http, standin, base, i).await?);
    }
    report("serial", &samples, started.elapsed());
    Ok(())
}

/// `concurrent`: `senders` senders, each one callback at a time.
async fn concurrent(
    http: &reqwest::Client,
    standin: &StandIn,
    base: &str,
    range: Range<usize>,
    senders: usize,
) -> Result<(), BoxError> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..senders {
        let (http, standin, base) = (http.clone(), standin.clone(), base.to_string());
        let mine: Vec<usize> = range.clone().filter(|i| i % senders == s).collect();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(mine.len());
            for i in mine {
                samples.push(reserve(&http, &standin, &base, i).await?);
            }
            Ok::<_, String>(samples)
        }));
    }
    let mut samples = Vec::with_capacity(range.len());
    for t in tasks {
        samples.extend(t.await??);
    }
    report(&format!("concurrent{senders}"), &samples, started.elapsed());
    Ok(())
}

/// Sends the callbacks of `range` at one instant: each is signed and spawned first, and
/// all wait for the same moment to send.
async fn burst(
    http: &reqwest::Client,
    standin: &StandIn,
    base: &str,
    range: Range<usize>,
) -> Result<Vec<Sample>, String> {
    let go = tokio::time::Instant::now() + Duration::from_millis(50);
    let tasks: Vec<_> = range
        .map(|i| {
            let callback = Callback::new(base, i);
            let (http, standin) = (http.clone(), standin.clone());
            tokio::spawn(async move {
                tokio::time::sleep_until(go).await;
                callback.send(&http, &standin, CALL_WAIT).await
            })
        })
        .collect();
    let mut samples = Vec::new();
    for t in tasks {
        samples.push(t.await.map_err(|e| e.to_string())??);
    }
    Ok(samples)
}

/// `burstN`: a warm-up burst, then the measured ones, each on an idle outbox.
async fn bursts(
    sl: &Shiftline,
    http: &reqwest::Client,
    standin: &StandIn,
    n: usize,
    rounds: Vec<Range<usize>>,
    setting: &Setting,
) -> Result<(), BoxError> {
    let measured = rounds.len() - 1;
    let mut samples = Vec::new();
    let mut in_flight = 0;
    for (round, range) in rounds.into_iter().enumerate() {
        sl.settle(Duration::from_secs(60)).await?;
        let since = Instant::now();
        let got = burst(http, standin, &sl.base, range).await?;
        // The stand-in logs a request once it has answered it.
        sl.settle(Duration::from_secs(60)).await?;
        if round > 0 {
            samples.extend(got);
            in_flight = in_flight.max(max_in_flight(&standin.hits_since(since)));
        }
    }
    // Calls that waited longer than one Twilio round trip: they found every slot taken.
    let round_trip = Duration::from_millis(setting.latency_ms);
    let waited = samples
        .iter()
        .filter(|s| setting.latency_ms > 0 && s.to_call.is_some_and(|d| d > round_trip))
        .count();
    println!(
        "DISPATCH phase=burst{n} {} rounds={measured} max_in_flight={in_flight} waited_a_round_trip={waited} {}",
        latency_fields(&samples),
        setting.fields()
    );
    Ok(())
}

// --- Storms ---------------------------------------------------------------------------

/// What a storm is made of.
struct Storm {
    name: &'static str,
    workers: usize,
    /// Workers who text "off" once their shift started.
    changers: usize,
    cap: Duration,
}

/// Gives every storm worker a skill and weekday hours by text, `PREPARE_SENDERS` workers at
/// a time; checks each was saved.
async fn schedule_workers(
    http: &reqwest::Client,
    base: &str,
    workers: usize,
) -> Result<(), String> {
    let next = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..PREPARE_SENDERS)
        .map(|_| {
            let (http, base, next) = (http.clone(), base.to_string(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= workers {
                        return Ok::<_, String>(());
                    }
                    let mut reply = String::new();
                    for body in SCHEDULE_DIALOGUE {
                        reply = text(&http, &base, &storm_phone(i), body).await?;
                    }
                    if !reply.contains("Saved: Mon-Fri 9:00-17:00") {
                        return Err(format!("worker {i}'s schedule was not saved: {reply}"));
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// Everything before the boundary: schedules, the activity cache, warm-up callbacks, an
/// idle outbox, and one due timer per storm worker.
async fn prepare_storm(
    sl: &Shiftline,
    http: &reqwest::Client,
    standin: &StandIn,
    storm: &Storm,
    warmup: Range<usize>,
) -> Result<(), BoxError> {
    let started = Instant::now();
    schedule_workers(http, &sl.base, storm.workers).await?;
    let texted = started.elapsed();
    // Looks Available up once, as a service that had anyone online since it started has.
    for body in ["on", "1", "yes", "off"] {
        text(http, &sl.base, WARM_PHONE, body).await?;
    }
    for i in warmup {
        reserve(http, standin, &sl.base, i).await?;
    }
    sl.settle(Duration::from_secs(120)).await?;
    let due = sl
        .service
        .store
        .due_timers(at(BOUNDARY), storm.workers + 1)
        .await?
        .len();
    if due != storm.workers {
        return Err(format!(
            "{due} shift-start timers at 09:00 for {} workers",
            storm.workers
        )
        .into());
    }
    println!(
        "DISPATCH_INFO phase={} prepared_workers={} texts={} texting_ms={} prepare_ms={}",
        storm.name,
        storm.workers,
        storm.workers * SCHEDULE_DIALOGUE.len(),
        ms(texted),
        ms(started.elapsed())
    );
    Ok(())
}

/// How a storm429 worker who changes twice times their "off".
#[derive(Clone, Copy)]
enum ChangeAt {
    /// As soon as the store shows them online (their timer fired): their Available sync
    /// most likely still waits in the lane and is superseded.
    Online,
    /// Once their Available request has reached Twilio (in flight, throttled, or done):
    /// Offline is written behind a request whose fate is still open, the case lanes are
    /// for. Gives up waiting at `give_up` and texts anyway.
    AvailableSent { give_up: Instant },
}

/// A storm worker who texts "off" soon after their shift started, at `after` or later.
async fn change_back(
    sl: (String, Service),
    standin: StandIn,
    http: reqwest::Client,
    worker: String,
    after: tokio::time::Instant,
    when: ChangeAt,
) -> Result<(), String> {
    let (base, service) = sl;
    tokio::time::sleep_until(after).await;
    let phone = PhoneNumber::parse(&worker).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let record = service
            .store
            .worker(&phone)
            .await
            .map_err(|e| e.to_string())?;
        if record.is_some_and(|r| r.spec().activity.name() == "Available") {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("{worker} never went online"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let ChangeAt::AvailableSent { give_up } = when {
        while !standin.available_sent(&worker) && Instant::now() < give_up {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    text(&http, &base, &worker, "off").await.map(|_| ())
}

/// When things happened during a storm, from t0 (09:00:00 by shiftline's clock).
struct Timeline {
    t0: Instant,
    timers_all: Option<Duration>,
    drained: Option<Duration>,
}

/// What a storm left behind.
struct Leftovers {
    outbox: usize,
    parked: usize,
    /// Workers who could not text "off" (never online, or the webhook failed).
    change_errors: usize,
}

/// Watches the storm until the timers have fired, every call and change is done and the
/// outbox is empty, or until the cap.
async fn watch(
    sl: &Shiftline,
    t0: Instant,
    cap: Duration,
    senders_done: impl Fn() -> bool,
) -> Result<Timeline, String> {
    let mut timeline = Timeline {
        t0,
        timers_all: None,
        drained: None,
    };
    tokio::time::sleep_until(t0.into()).await;
    while t0.elapsed() < cap {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if timeline.timers_all.is_none() {
            let due = sl.service.store.due_timers(at(BOUNDARY), 1).await;
            if due.map_err(|e| e.to_string())?.is_empty() {
                timeline.timers_all = Some(t0.elapsed());
            }
        }
        if timeline.timers_all.is_some() && senders_done() && sl.outbox_len().await? == 0 {
            timeline.drained = Some(t0.elapsed());
            break;
        }
    }
    Ok(timeline)
}

/// One storm worker's fate, from the stand-in's log and the store.
#[derive(Default)]
struct Fates {
    fired: usize,
    delivered: usize,
    pending: usize,
    parked: usize,
    lost: usize,
    order_violations: usize,
    overlaps: usize,
    /// Workers the stand-in accepted more than one state from: what tests the order.
    seen_twice: usize,
    /// From t0 to the receipt of the worker's first accepted Worker update.
    first_sync: Vec<Duration>,
    /// From t0 to the receipt of the worker's first accepted text.
    first_text: Vec<Duration>,
}

/// Whether `seen` is `written` with some states left out (superseded), in order.
fn in_order(seen: &[&str], written: &[&str]) -> bool {
    let mut rest = written.iter();
    seen.iter().all(|s| rest.any(|w| w == s))
}

async fn fates(
    sl: &Shiftline,
    hits: &[Hit],
    t0: Instant,
    workers: usize,
) -> Result<Fates, BoxError> {
    let store = &sl.service.store;
    let boundary = at(BOUNDARY);
    let lanes: HashSet<String> = store
        .outbox()
        .await?
        .iter()
        .filter(|e| e.command.is_sync())
        .map(|e| e.command.lane())
        .collect();
    let parked: HashSet<String> = store
        .parked()
        .await?
        .iter()
        .filter(|p| p.entry.command.is_sync())
        .map(|p| p.entry.command.lane())
        .collect();
    let mut by_phone: HashMap<&str, Vec<&Hit>> = HashMap::new();
    for hit in hits {
        if let Some(phone) = &hit.phone {
            by_phone.entry(phone.as_str()).or_default().push(hit);
        }
    }
    let mut fates = Fates::default();
    for i in 0..workers {
        let worker = storm_phone(i);
        let phone = PhoneNumber::parse(&worker)?;
        let mut mine = by_phone.remove(worker.as_str()).unwrap_or_default();
        mine.sort_by_key(|h| h.received);
        let syncs: Vec<&Hit> = mine
            .iter()
            .copied()
            .filter(|h| matches!(h.kind, Kind::WorkerCreate | Kind::WorkerUpdate))
            .collect();
        fates.overlaps += usize::from(syncs.windows(2).any(|w| w[1].received < w[0].answered));
        let seen: Vec<&str> = syncs
            .iter()
            .filter(|h| h.accepted())
            .map(|h| activity_name(h.activity.as_deref().unwrap_or_default()))
            .collect();
        let written: Vec<&str> = store
            .history(&phone)
            .await?
            .iter()
            .filter(|c| c.at >= boundary)
            .map(|c| {
                if c.to == "offline" {
                    "Offline"
                } else {
                    "Available"
                }
            })
            .collect();
        fates.fired += usize::from(!written.is_empty());
        fates.order_violations += usize::from(!in_order(&seen, &written));
        fates.seen_twice += usize::from(seen.len() > 1);
        if let Some(first) = syncs.iter().find(|h| h.accepted()) {
            fates
                .first_sync
                .push(first.received.saturating_duration_since(t0));
        }
        if let Some(first) = mine.iter().find(|h| h.kind == Kind::Text && h.accepted()) {
            fates
                .first_text
                .push(first.received.saturating_duration_since(t0));
        }
        let now = store
            .worker(&phone)
            .await?
            .map(|r| r.spec().activity.name());
        if now.is_some() && seen.last().copied() == now {
            fates.delivered += 1;
        } else if lanes.contains(&worker) {
            fates.pending += 1;
        } else if parked.contains(&worker) {
            fates.parked += 1;
        } else {
            fates.lost += 1;
        }
    }
    Ok(fates)
}

/// A storm, from a fresh shiftline: see the module doc.
async fn run_storm(
    args: &Args,
    standin: &StandIn,
    twilio_base: &str,
    indices: &mut Indices,
    storm: Storm,
    throttle_rate: f64,
) -> Result<(), BoxError> {
    let warmup = indices.take(STORM_WARMUP);
    let calls = indices.take(args.storm_calls);
    let mut roster: Vec<(String, String)> = (0..storm.workers)
        .map(|i| (storm_phone(i), format!("S{i}")))
        .collect();
    roster.push((WARM_PHONE.to_string(), "Warm".to_string()));
    roster.extend((warmup.start..calls.end).map(|i| (phone(i), format!("W{i}"))));
    let clock = Arc::new(JumpClock::starting_at(at(DAY_START)));
    let mut sl =
        Shiftline::start(twilio_base, &roster, args.outbox_concurrency, clock.clone()).await?;
    let http = reqwest::Client::new();
    standin.set(0, 0.0, args.seed);
    prepare_storm(&sl, &http, standin, &storm, warmup).await?;

    // The boundary: a second before 09:00, then real time. The outbox loop is woken once so
    // it sleeps until 09:00 by the new clock, as it would have all along.
    let setting = Setting {
        latency_ms: args.twilio_latency_ms,
        throttle_rate,
        max_concurrent: sl.max_concurrent,
    };
    standin.set(setting.latency_ms, throttle_rate, args.seed);
    clock.jump_to(at(BOUNDARY) - TimeDelta::seconds(1));
    sl.service.outbox_wake.notify_one();
    let t0 = clock.instant_at(at(BOUNDARY));
    let t0_tokio = tokio::time::Instant::from_std(t0);

    // Customers' calls, spread evenly over the first seconds; each waits for its call until
    // the cap at most.
    let n_calls = calls.len().max(1) as u32;
    let call_tasks: Vec<_> = calls
        .enumerate()
        .map(|(k, i)| {
            let callback = Callback::new(&sl.base, i);
            let (http, standin) = (http.clone(), standin.clone());
            let offset = CALL_SPREAD * k as u32 / n_calls;
            let wait = storm.cap.saturating_sub(offset).max(Duration::from_secs(1));
            tokio::spawn(async move {
                tokio::time::sleep_until(t0_tokio + offset).await;
                callback.send(&http, &standin, wait).await
            })
        })
        .collect();
    // Workers who change twice: online at the boundary, then "off", every other one once
    // their Available request reached the stand-in.
    let give_up = t0 + storm.cap.saturating_sub(Duration::from_secs(10));
    let change_tasks: Vec<_> = (0..storm.changers)
        .map(|k| {
            let worker = storm_phone(k * storm.workers / storm.changers);
            let after = t0_tokio + CHANGE_SPREAD * k as u32 / storm.changers as u32;
            let when = if k % 2 == 0 {
                ChangeAt::Online
            } else {
                ChangeAt::AvailableSent { give_up }
            };
            let sl = (sl.base.clone(), sl.service.clone());
            let task = change_back(sl, standin.clone(), http.clone(), worker, after, when);
            tokio::spawn(task)
        })
        .collect();
    let senders_done = || {
        call_tasks.iter().all(|t| t.is_finished()) && change_tasks.iter().all(|t| t.is_finished())
    };
    let timeline = watch(&sl, t0, storm.cap, senders_done).await?;

    // Stop shiftline so nothing changes while the figures are read; answers in flight at
    // the stand-in land in its log within the latency.
    sl.stop().await;
    tokio::time::sleep(Duration::from_millis(setting.latency_ms + 200)).await;
    let mut samples = Vec::new();
    for t in call_tasks {
        samples.push(t.await??);
    }
    let mut change_errors = 0;
    for t in change_tasks {
        let done = tokio::time::timeout(Duration::from_secs(1), t).await;
        change_errors += usize::from(!matches!(done, Ok(Ok(Ok(())))));
    }
    let hits = standin.hits_since(t0);
    let fates = fates(&sl, &hits, t0, storm.workers).await?;
    let left = Leftovers {
        outbox: sl.outbox_len().await?,
        parked: sl.service.store.parked().await?.len(),
        change_errors,
    };
    print_storm(&storm, &setting, &samples, &hits, &fates, &timeline, &left);
    Ok(())
}

fn all_within(times: &[Duration], expected: usize) -> String {
    match times.iter().max() {
        Some(last) if times.len() == expected => ms(*last),
        _ => "nan".to_string(),
    }
}

fn print_storm(
    storm: &Storm,
    setting: &Setting,
    samples: &[Sample],
    hits: &[Hit],
    fates: &Fates,
    timeline: &Timeline,
    left: &Leftovers,
) {
    let target = storm.workers as f64 * setting.latency_ms as f64 / setting.max_concurrent as f64;
    let by_target = fates
        .first_sync
        .iter()
        .filter(|d| d.as_secs_f64() * 1e3 <= target * 1.5)
        .count();
    let accepted = |kind: Kind| {
        hits.iter()
            .filter(|h| h.kind == kind && h.accepted())
            .count()
    };
    let called: HashSet<_> = hits
        .iter()
        .filter(|h| h.kind == Kind::Call && h.accepted())
        .map(|h| &h.phone)
        .collect();
    let window = hits
        .iter()
        .map(|h| h.answered)
        .max()
        .map_or(Duration::ZERO, |last| {
            last.saturating_duration_since(timeline.t0)
        });
    // Request-seconds at the stand-in over the storm's length: the mean requests in flight.
    let busy: Duration = hits.iter().map(|h| h.answered - h.received).sum();
    let optional = |d: Option<Duration>| d.map_or("nan".to_string(), ms);
    println!(
        "DISPATCH phase={} {} workers={} changers={} fired={} syncs_delivered={} syncs_all_ms={} syncs_target_ms={:.0} syncs_ideal_ms={:.0} syncs_by_target={} texts_delivered={} texts_all_ms={} timers_all_ms={} drained_ms={} finished={} delivered={} pending={} parked={} lost={} order_violations={} seen_twice={} overlaps={} requests={} throttled={} accepted_per_s={:.1} worker_updates={} texts={} calls={} duplicate_calls={} max_in_flight={} mean_in_flight={:.1} outbox_left={} parked_total={} change_errors={} {}",
        storm.name,
        latency_fields(samples),
        storm.workers,
        storm.changers,
        fates.fired,
        fates.first_sync.len(),
        all_within(&fates.first_sync, storm.workers),
        target * 1.5,
        target,
        by_target,
        fates.first_text.len(),
        all_within(&fates.first_text, storm.workers),
        optional(timeline.timers_all),
        optional(timeline.drained),
        u8::from(timeline.drained.is_some()),
        fates.delivered,
        fates.pending,
        fates.parked,
        fates.lost,
        fates.order_violations,
        fates.seen_twice,
        fates.overlaps,
        hits.len(),
        hits.iter().filter(|h| h.status == 429).count(),
        hits.iter().filter(|h| h.accepted()).count() as f64 / window.as_secs_f64().max(1e-3),
        accepted(Kind::WorkerUpdate) + accepted(Kind::WorkerCreate),
        accepted(Kind::Text),
        accepted(Kind::Call),
        accepted(Kind::Call) - called.len(),
        max_in_flight(hits),
        busy.as_secs_f64() / window.as_secs_f64().max(1e-3),
        left.outbox,
        left.parked,
        left.change_errors,
        setting.fields(),
    );
}

// --- main -----------------------------------------------------------------------------

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    if let Some(rate) = args.throttle_rate
        && !(0.0..=1.0).contains(&rate)
    {
        return Err(format!("--throttle-rate {rate} must be from 0 to 1").into());
    }
    let standin = StandIn::default();
    let twilio_base = start_standin(standin.clone()).await?;
    let mut indices = Indices::default();

    // The phases that share one shiftline: each gets reservations of its own.
    let warmup = indices.take(WARMUP);
    let mut plan = Vec::new();
    for phase in &args.phases {
        let ranges = match phase {
            Phase::Serial | Phase::Concurrent => vec![indices.take(args.reservations)],
            Phase::Burst(n) => (0..=args.burst_rounds).map(|_| indices.take(*n)).collect(),
            Phase::Storm | Phase::Storm429 => continue,
        };
        plan.push((phase.clone(), ranges));
    }
    if !plan.is_empty() {
        let roster: Vec<(String, String)> = (0..indices.0)
            .map(|i| (phone(i), format!("W{i}")))
            .collect();
        let clock = Arc::new(JumpClock::starting_at(at(DAY_START)));
        let mut sl =
            Shiftline::start(&twilio_base, &roster, args.outbox_concurrency, clock).await?;
        let http = reqwest::Client::new();
        standin.set(0, 0.0, args.seed);
        for i in warmup {
            reserve(&http, &standin, &sl.base, i).await?;
        }
        let setting = Setting {
            latency_ms: args.twilio_latency_ms,
            throttle_rate: args.throttle_rate.unwrap_or(0.0),
            max_concurrent: sl.max_concurrent,
        };
        standin.set(setting.latency_ms, setting.throttle_rate, args.seed);
        for (phase, mut ranges) in plan {
            match phase {
                Phase::Serial => serial(&http, &standin, &sl.base, ranges.remove(0)).await?,
                Phase::Concurrent => {
                    concurrent(
                        &http,
                        &standin,
                        &sl.base,
                        ranges.remove(0),
                        args.concurrency,
                    )
                    .await?
                }
                Phase::Burst(n) => bursts(&sl, &http, &standin, n, ranges, &setting).await?,
                Phase::Storm | Phase::Storm429 => unreachable!("storms run on their own"),
            }
        }
        sl.settle(Duration::from_secs(60)).await?;
        println!(
            "DISPATCH_INFO calls={} unexpected={} outbox_left={}",
            standin.0.calls.load(Ordering::Relaxed),
            standin.0.unexpected.load(Ordering::Relaxed),
            sl.outbox_len().await?
        );
        sl.stop().await;
    }

    for phase in &args.phases {
        let (name, changers, rate) = match phase {
            Phase::Storm => ("storm", 0, args.throttle_rate.unwrap_or(0.0)),
            Phase::Storm429 => (
                "storm429",
                CHANGERS.min(args.storm_workers),
                args.throttle_rate.unwrap_or(0.2),
            ),
            _ => continue,
        };
        let plan = Storm {
            name,
            workers: args.storm_workers,
            changers,
            cap: Duration::from_secs(args.storm_cap_secs),
        };
        run_storm(&args, &standin, &twilio_base, &mut indices, plan, rate).await?;
    }
    Ok(())
}
