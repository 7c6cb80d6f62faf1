//! What the outbox's backlog and the presence history cost in memory, per entry, on sled.
//!
//! ```text
//! cargo run --release --example bench_backlog -- --workers 100000
//! ```
//!
//! shiftline is built with the library (`app::build`, which starts no outbox) on a fresh
//! store rostering `--workers` workers; then every worker texts ON, then OFF, then ON.
//! With nothing delivering, the first round leaves one waiting sync per worker, and the
//! next rounds supersede it (the backlog stays one per worker) while each adds a presence
//! change to the history. After each round it prints the process's RSS, and its growth per
//! worker, as `BACKLOG round=... ` lines.

use std::sync::Arc;

use clap::Parser;
use shiftline::clock::SystemClock;
use shiftline::config::Settings;
use shiftline::core::domain::PhoneNumber;
use shiftline::core::intake::Input;
use shiftline::service::intake::Render;
use shiftline::store::Via;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(about = "Memory per waiting sync and per presence change")]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    workers: usize,
    /// Texts in flight at once (the store's writer batches them, as under load).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

fn phone(i: usize) -> String {
    format!("+15553{i:06}")
}

/// The process's resident memory, in bytes.
fn rss() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        * 1024.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let mut toml = format!(
        "[server]\ndata_dir = \"{}\"\n[[skills]]\nkey = \"support\"\n",
        dir.path().join("data").display()
    );
    for i in 0..args.workers {
        toml += &format!("[[workers]]\nphone = \"{}\"\nname = \"W{i}\"\n", phone(i));
    }
    let settings = Settings::parse(&toml, |name| {
        (name == "SHIFTLINE_TWILIO_AUTH_TOKEN").then(|| "bench".to_string())
    })?;
    drop(toml);
    let state = shiftline::app::Application::build(settings, Arc::new(SystemClock), None)
        .await?
        .service;
    let phones: Arc<Vec<PhoneNumber>> = Arc::new(
        (0..args.workers)
            .map(|i| PhoneNumber::parse(&phone(i)))
            .collect::<Result<_, _>>()?,
    );
    let n = args.workers as f64;
    let mut last = rss();
    println!("BACKLOG round=rostered rss_mb={:.1}", last / 1e6);
    for (round, text) in ["skills", "1", "yes", "on", "off", "on", "off"]
        .into_iter()
        .enumerate()
    {
        let mut tasks = Vec::new();
        for t in 0..args.concurrency {
            let (state, phones) = (state.clone(), phones.clone());
            let concurrency = args.concurrency;
            tasks.push(tokio::spawn(async move {
                for i in (t..phones.len()).step_by(concurrency) {
                    let (messages, settings) = (state.messages.clone(), state.settings.clone());
                    let render: Render = Arc::new(move |outcome, _| {
                        messages.render_all(outcome.locale, &outcome.replies, &settings.catalog)
                    });
                    let applied = state
                        .apply_input(
                            phones[i].clone(),
                            format!("sms:SM{round}x{i:030}"),
                            Input::Text(text.to_string()),
                            Via::Sms,
                            render,
                        )
                        .await
                        .expect("the store applies the turn");
                    if i == 0 {
                        println!("worker 0, {text}: {}", applied.reply());
                    }
                }
            }));
        }
        for task in tasks {
            task.await?;
        }
        let now = rss();
        let pending = state.store.outbox_stats(state.clock.now()).await?.pending;
        println!(
            "BACKLOG round={round}:{text} pending={pending} rss_mb={:.1} rss_per_worker={:.0}",
            now / 1e6,
            (now - last) / n
        );
        last = now;
    }
    Ok(())
}
