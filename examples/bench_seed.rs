//! Writes a store holding many workers for `bench/run.sh`'s start-up and memory figures.
//!
//! ```text
//! cargo run --release --example bench_seed -- --data-dir /tmp/seeded --workers 100000
//! ```
//!
//! Workers are `+15553` followed by six digits (the numbering `bench_requests` uses),
//! written through the store's public API as the service does it at start-up
//! (`Store::seed_roster`, one transaction per worker), with a name, one or two languages
//! and one of three time zones. Prints how long it took and the directory's size.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use shiftline::config::RosterEntry;
use shiftline::core::domain::{Locale, PhoneNumber};
use shiftline::store::{SledStore, Store};

#[derive(Parser)]
#[command(about = "Write a store with many workers")]
struct Args {
    /// The store's directory (created; must not hold another store).
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 100_000)]
    workers: usize,
}

fn phone(i: usize) -> String {
    format!("+15553{i:06}")
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let started = Instant::now();
    let zones = [
        chrono_tz::America::Chicago,
        chrono_tz::America::New_York,
        chrono_tz::America::Los_Angeles,
    ];
    let roster = (0..args.workers)
        .map(|i| {
            let spanish = i % 3 == 0;
            Ok(RosterEntry {
                phone: PhoneNumber::parse(&phone(i))?,
                name: format!("Worker {i}"),
                language: if spanish { Locale::Es } else { Locale::En },
                languages: if spanish {
                    vec![Locale::Es, Locale::En]
                } else {
                    vec![Locale::En]
                },
                time_zone: zones[i % zones.len()],
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let store = SledStore::open(&args.data_dir)?;
    let added = shiftline::service::roster::seed(&store, &roster, chrono::Utc::now())
        .await?
        .changed;
    store.durable().await?;
    drop(store);
    println!(
        "seeded {added} workers in {:.1} s; {} holds {:.1} MB",
        started.elapsed().as_secs_f64(),
        args.data_dir.display(),
        dir_size(&args.data_dir) as f64 / 1e6
    );
    Ok(())
}
