//! What the outbox's backlog and the presence history cost in memory, per entry, on sled.
//!
//! ```text
//! cargo run --release --example bench_backlog -- --workers 100000
//! ```
//!
//! shiftline is built with the library (`app::build`, which starts no outbox) on a fresh
//! store rostering `--workers` workers; then every worker picks a skill (SKILLS, 1, YES)
//! and texts ON, OFF, ON, OFF. With nothing delivering, saving the skill leaves one
//! waiting sync per worker, and each later round supersedes it (the backlog stays one per
//! worker) while adding a presence change to the history. After each round it prints the
//! process's RSS, and its growth per worker, as `BACKLOG round=... ` lines. jemalloc gives
//! freed pages back at once here, so that RSS follows what is held, not what was freed a
//! few seconds ago.

mod common;

use std::sync::Arc;

use clap::Parser;
use shiftline::core::domain::PhoneNumber;

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

/// The process's resident memory, in bytes.
fn rss() -> f64 {
    common::proc_self("status", "VmRSS") * 1024.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    shiftline::allocator::give_back_freed_pages(0)?;
    let dir = tempfile::tempdir()?;
    let state = common::service(dir.path(), args.workers, &["support"]).await?;
    let phones: Arc<Vec<PhoneNumber>> = Arc::new(
        (0..args.workers)
            .map(|i| PhoneNumber::parse(&common::phone(i)))
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
                    let sid = format!("sms:SM{round}x{i:030}");
                    let applied = common::apply(&state, &sid, &phones[i], text).await;
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
