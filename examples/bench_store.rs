//! Where an intake turn's time goes, for `bench/run.sh`: the pure core, the sled
//! transaction and the group-commit flush, each timed on its own in this process.
//!
//! ```text
//! cargo run --release --example bench_store -- --workers 10000 --turns 20000
//! ```
//!
//! shiftline is built with the library (`app::build`) on a fresh store rostering
//! `--workers` workers, and every turn is what `POST /twilio/sms` does for one text
//! (`intake::on_text` and rendering the reply inside `Store::apply`, then
//! `Store::durable`), minus HTTP and the signature:
//! - `core`: `on_text` + rendering alone, on a record read once;
//! - `apply`: the sled transaction around it (read record, write seen and record);
//! - `apply+durable`: one turn at a time, each waiting for its flush;
//! - `concurrent`: `--concurrency` tasks doing apply+durable for `--seconds`, with the
//!   write system calls per turn (from /proc/self/io) to show how much flushes batch.
//!
//! Prints `STORE phase=... per_turn_us=...` lines.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use shiftline::core::domain::PhoneNumber;
use shiftline::core::intake;

#[derive(Parser)]
#[command(about = "Time the parts of an intake turn")]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    workers: usize,
    /// Turns in the serial phases (apply+durable does a fifth of them).
    #[arg(long, default_value_t = 20_000)]
    turns: usize,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// What the workers text, round and round.
    #[arg(long, default_value = "status,skills,1,yes,on,status,off")]
    texts: String,
}

/// Write system calls made by this process so far.
fn write_syscalls() -> u64 {
    common::proc_self("io", "syscw") as u64
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let texts: Arc<Vec<String>> = Arc::new(args.texts.split(',').map(str::to_string).collect());
    let dir = tempfile::tempdir()?;
    let state =
        common::service(dir.path(), args.workers, &["billing", "support", "spanish"]).await?;
    let phones: Arc<Vec<PhoneNumber>> = Arc::new(
        (0..args.workers)
            .map(|i| PhoneNumber::parse(&common::phone(i)))
            .collect::<Result<_, _>>()?,
    );
    let turn = |k: usize| {
        (
            &phones[k % phones.len()],
            texts[(k / phones.len()) % texts.len()].as_str(),
        )
    };
    let mut next = 0usize;

    // The pure core, on records read once.
    let mut records = Vec::new();
    for p in phones.iter() {
        records.push(state.store.worker(p).await?);
    }
    let ctx = state.context();
    let now = state.clock.now();
    let started = Instant::now();
    let mut bytes = 0;
    for k in 0..args.turns {
        let (from, text) = turn(k);
        let outcome = intake::on_text(
            &ctx,
            from,
            text,
            now,
            records[k % records.len()].as_ref(),
            None,
        );
        bytes += state
            .messages
            .render_all(outcome.locale, &outcome.replies, ctx.catalog)
            .len();
    }
    let core = started.elapsed().as_secs_f64() * 1e6 / args.turns as f64;
    println!("STORE phase=core per_turn_us={core:.1} (reply bytes {bytes})");

    // The transaction around it.
    let started = Instant::now();
    for _ in 0..args.turns {
        let (from, text) = turn(next);
        common::apply(&state, &format!("sms:SM{next:032x}"), from, text).await;
        next += 1;
    }
    let tx = started.elapsed().as_secs_f64() * 1e6 / args.turns as f64;
    println!("STORE phase=apply per_turn_us={tx:.1}");
    state.store.durable().await?;

    // Each turn waiting for its own flush.
    let serial = args.turns / 5;
    let writes = write_syscalls();
    let started = Instant::now();
    for _ in 0..serial {
        let (from, text) = turn(next);
        common::apply(&state, &format!("sms:SM{next:032x}"), from, text).await;
        state.store.durable().await?;
        next += 1;
    }
    let durable = started.elapsed().as_secs_f64() * 1e6 / serial as f64;
    println!(
        "STORE phase=apply+durable per_turn_us={durable:.1} flush_us={:.1} writes_per_turn={:.2}",
        durable - tx,
        (write_syscalls() - writes) as f64 / serial as f64
    );

    // Many turns in flight, sharing flushes.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(next as u64));
    let writes = write_syscalls();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (state, phones, texts) = (state.clone(), phones.clone(), texts.clone());
        let (stop, done, counter) = (stop.clone(), done.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let k = counter.fetch_add(1, Ordering::Relaxed) as usize;
                let from = &phones[k % phones.len()];
                let text = &texts[(k / phones.len()) % texts.len()];
                common::apply(&state, &format!("sms:SM{k:032x}"), from, text).await;
                state.store.durable().await.expect("durable");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed) as f64;
    println!(
        "STORE phase=concurrent{} turns_per_s={:.0} per_turn_us={:.1} writes_per_turn={:.2}",
        args.concurrency,
        n / elapsed,
        elapsed * 1e6 / n,
        (write_syscalls() - writes) as f64 / n
    );
    Ok(())
}
