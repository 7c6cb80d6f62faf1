//! Assignment callback -> outbound call request latency, for `bench/run.sh`.
//!
//! ```text
//! cargo run --release --example bench_dispatch -- --reservations 2000 --concurrency 16
//! ```
//!
//! Everything runs in this process on one tokio runtime, like `shiftline serve`:
//! - a stand-in for Twilio on 127.0.0.1:0 that answers `POST .../Calls.json` with 201 and
//!   notes when each one arrived (anything else gets minimal JSON);
//! - shiftline itself, built with the library (`app::build`, `web::router`, and the outbox
//!   `Delivery` pointed at the stand-in), on 127.0.0.1:0 with a fresh store and a roster
//!   of one worker per reservation (so no worker's lane waits behind another call);
//! - senders of signed `POST /twilio/taskrouter/assignment` callbacks, as TaskRouter sends
//!   them.
//!
//! A reservation's latency runs from just before its callback is sent to the stand-in's
//! receipt of the `Calls.json` whose `Url` names it (`reservation=WR...`). It is measured
//! one reservation at a time, then with `--concurrency` senders. Prints a line per phase:
//! `DISPATCH phase=... n=... p50_ms=... p99_ms=... max_ms=... webhook_p50_ms=...
//! webhook_p99_ms=... missing=...` (`webhook_*` is the callback's own answer time, which
//! includes the group-commit flush; `missing` counts calls that never came).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::post;
use clap::Parser;
use secrecy::SecretString;
use shiftline::app::{SIMULATOR_ACCOUNT, SIMULATOR_WORKSPACE};
use shiftline::clock::SystemClock;
use shiftline::config::Settings;
use shiftline::twilio::rest::{Endpoints, RetryPolicy, TwilioClient};
use shiftline::twilio::signature;
use tokio::sync::oneshot;

const TOKEN: &str = "bench-dispatch-token";
/// Reservations sent first and not counted: connections, caches.
const WARMUP: usize = 50;

#[derive(Parser)]
#[command(about = "Measure assignment callback -> Calls.json latency")]
struct Args {
    /// Reservations per phase.
    #[arg(long, default_value_t = 2000)]
    reservations: usize,
    /// Senders in the concurrent phase.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

/// When each reservation's call reached the stand-in, handed to whoever waits for it.
#[derive(Clone, Default)]
struct Capture {
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Instant>>>>,
    unexpected: Arc<AtomicU64>,
    calls: Arc<AtomicU64>,
}

impl Capture {
    fn expect(&self, reservation: &str) -> oneshot::Receiver<Instant> {
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap()
            .insert(reservation.to_string(), tx);
        rx
    }
}

/// `POST /2010-04-01/Accounts/{AC}/Calls.json`.
async fn calls(State(capture): State<Capture>, body: Bytes) -> impl IntoResponse {
    let received = Instant::now();
    let n = capture.calls.fetch_add(1, Ordering::Relaxed);
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let reservation = params
        .iter()
        .find(|(k, _)| k == "Url")
        .and_then(|(_, url)| url.split_once("reservation="))
        .map(|(_, rest)| rest.chars().take(34).collect::<String>());
    let waiter = reservation.and_then(|r| capture.waiting.lock().unwrap().remove(&r));
    match waiter {
        Some(tx) => {
            let _ = tx.send(received);
        }
        None => {
            capture.unexpected.fetch_add(1, Ordering::Relaxed);
        }
    }
    (
        StatusCode::CREATED,
        [(CONTENT_TYPE, "application/json")],
        format!("{{\"sid\":\"CA{n:032x}\",\"status\":\"queued\"}}"),
    )
}

/// Anything else shiftline might ask TaskRouter or API 2010: minimal JSON.
async fn other(method: Method, uri: Uri) -> impl IntoResponse {
    let body = if method == Method::GET && uri.path().ends_with("/Activities") {
        let activity = |i: u32, name: &str, available: bool| {
            format!(
                "{{\"sid\":\"WA{i:032x}\",\"friendly_name\":\"{name}\",\"available\":{available}}}"
            )
        };
        format!(
            "{{\"activities\":[{},{},{}],\"meta\":{{\"key\":\"activities\",\"next_page_url\":null}}}}",
            activity(1, "Available", true),
            activity(2, "Offline", false),
            activity(3, "Unavailable", false)
        )
    } else if method == Method::GET && uri.path().ends_with("/Workers") {
        "{\"workers\":[],\"meta\":{\"key\":\"workers\",\"next_page_url\":null}}".to_string()
    } else {
        format!("{{\"sid\":\"XX{:032x}\"}}", 0)
    };
    ([(CONTENT_TYPE, "application/json")], body)
}

fn phone(i: usize) -> String {
    format!("+15554{i:06}")
}

struct Sample {
    to_call: Option<Duration>,
    webhook: Duration,
}

/// Sends reservation `i`'s assignment callback and waits for its call.
async fn reserve(
    http: &reqwest::Client,
    capture: &Capture,
    base: &str,
    i: usize,
) -> Result<Sample, String> {
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
        ("Timestamp", chrono::Utc::now().timestamp().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let url = format!("{base}/twilio/taskrouter/assignment");
    let sig = signature::sign(TOKEN, &url, &params);
    let body = serde_urlencoded::to_string(&params).map_err(|e| e.to_string())?;
    let call = capture.expect(&reservation);

    let start = Instant::now();
    let response = http
        .post(&url)
        .header("x-twilio-signature", sig)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    response.bytes().await.map_err(|e| e.to_string())?;
    let webhook = start.elapsed();
    if status != StatusCode::OK {
        return Err(format!("assignment callback answered {status}"));
    }
    let to_call = match tokio::time::timeout(Duration::from_secs(10), call).await {
        Ok(Ok(at)) => Some(at.saturating_duration_since(start)),
        _ => {
            capture.waiting.lock().unwrap().remove(&reservation);
            None
        }
    };
    Ok(Sample { to_call, webhook })
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

fn report(phase: &str, samples: &[Sample], elapsed: Duration) {
    let mut calls: Vec<Duration> = samples.iter().filter_map(|s| s.to_call).collect();
    let mut hooks: Vec<Duration> = samples.iter().map(|s| s.webhook).collect();
    calls.sort();
    hooks.sort();
    let missing = samples.len() - calls.len();
    println!(
        "DISPATCH phase={phase} n={} p50_ms={:.3} p99_ms={:.3} max_ms={:.3} webhook_p50_ms={:.3} webhook_p99_ms={:.3} missing={missing} per_s={:.0}",
        samples.len(),
        percentile(&calls, 0.50),
        percentile(&calls, 0.99),
        percentile(&calls, 1.0),
        percentile(&hooks, 0.50),
        percentile(&hooks, 0.99),
        samples.len() as f64 / elapsed.as_secs_f64(),
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let total = WARMUP + 2 * args.reservations;

    // The stand-in for Twilio.
    let capture = Capture::default();
    let twilio = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let twilio_base = format!("http://{}", twilio.local_addr()?);
    let app = Router::new()
        .route("/2010-04-01/Accounts/{account}/Calls.json", post(calls))
        .fallback(other)
        .with_state(capture.clone());
    tokio::spawn(async move { axum::serve(twilio, app).await });

    // shiftline, with a roster of one worker per reservation.
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
    for i in 0..total {
        toml += &format!("[[workers]]\nphone = \"{}\"\nname = \"W{i}\"\n", phone(i));
    }
    let settings = Settings::parse(&toml, |name| {
        (name == "SHIFTLINE_TWILIO_AUTH_TOKEN").then(|| TOKEN.to_string())
    })?;
    let client = TwilioClient::new(
        SIMULATOR_ACCOUNT,
        SecretString::from(TOKEN.to_string()),
        SIMULATOR_WORKSPACE,
        Endpoints {
            api_base: twilio_base.clone(),
            taskrouter_base: twilio_base,
        },
        RetryPolicy::default(),
    );
    let app =
        shiftline::app::Application::build_with(settings, Arc::new(SystemClock), client, None)
            .await?;
    let store = app.service.store.clone();
    tokio::spawn(app.run_until_stopped(listener, std::future::pending(), true));

    let http = reqwest::Client::new();
    for i in 0..WARMUP {
        reserve(&http, &capture, &base, i).await?;
    }

    // One at a time.
    let started = Instant::now();
    let mut serial = Vec::with_capacity(args.reservations);
    for i in WARMUP..WARMUP + args.reservations {
        serial.push(reserve(&http, &capture, &base, i).await?);
    }
    report("serial", &serial, started.elapsed());

    // `concurrency` senders, each one reservation at a time.
    let first = WARMUP + args.reservations;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..args.concurrency {
        let (http, capture, base) = (http.clone(), capture.clone(), base.clone());
        let mine: Vec<usize> = (first..first + args.reservations)
            .filter(|i| i % args.concurrency == s)
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(mine.len());
            for i in mine {
                samples.push(reserve(&http, &capture, &base, i).await?);
            }
            Ok::<_, String>(samples)
        }));
    }
    let mut concurrent = Vec::with_capacity(args.reservations);
    for t in tasks {
        concurrent.extend(t.await??);
    }
    report(
        &format!("concurrent{}", args.concurrency),
        &concurrent,
        started.elapsed(),
    );
    println!(
        "DISPATCH_INFO calls={} unexpected={} outbox_left={}",
        capture.calls.load(Ordering::Relaxed),
        capture.unexpected.load(Ordering::Relaxed),
        store.outbox().await?.len()
    );
    Ok(())
}
