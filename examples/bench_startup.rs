//! Start-up time of `shiftline serve`, for `bench/run.sh`: wall time from spawning the
//! process to its first `200` from `GET /healthz`, over several runs.
//!
//! ```text
//! cargo run --release --example bench_startup -- --bin target/release/shiftline \
//!     --config shiftline.toml --addr 127.0.0.1:18080 --runs 5
//! ```
//!
//! The process inherits this one's environment (tokens, `RUST_LOG`). Between runs it is
//! stopped with SIGTERM, as an operator would, so the next run opens a cleanly closed
//! store. `/healthz` is polled every millisecond over a fresh connection. Prints
//! `STARTUP runs_ms=a,b,... median_ms=m rss_mb=r` (`rss_mb`: VmRSS at the first 200 of
//! the last run).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Parser)]
#[command(about = "Time shiftline serve from spawn to the first healthy answer")]
struct Args {
    #[arg(long)]
    bin: PathBuf,
    #[arg(long)]
    config: PathBuf,
    /// The address the configuration listens on.
    #[arg(long)]
    addr: String,
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

fn healthy(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("bench_startup: no exit 10 s after SIGTERM; killing");
    let _ = child.kill();
    let _ = child.wait();
}

fn main() -> ExitCode {
    let args = Args::parse();
    if healthy(&args.addr) {
        eprintln!("bench_startup: something already answers on {}", args.addr);
        return ExitCode::FAILURE;
    }
    let mut runs = Vec::new();
    let mut rss = None;
    for _ in 0..args.runs {
        let started = Instant::now();
        let child = match Command::new(&args.bin)
            .args(["serve", "--config"])
            .arg(&args.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("bench_startup: cannot start {}: {e}", args.bin.display());
                return ExitCode::FAILURE;
            }
        };
        let deadline = started + Duration::from_secs(30);
        let mut ok = false;
        while Instant::now() < deadline {
            if healthy(&args.addr) {
                ok = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let elapsed = started.elapsed();
        rss = rss_mb(child.id());
        stop(child);
        if !ok {
            eprintln!("bench_startup: not healthy within 30 s");
            return ExitCode::FAILURE;
        }
        runs.push(elapsed.as_secs_f64() * 1e3);
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let list: Vec<String> = runs.iter().map(|r| format!("{r:.0}")).collect();
    println!(
        "STARTUP runs_ms={} median_ms={median:.0} rss_mb={:.1}",
        list.join(","),
        rss.unwrap_or(f64::NAN)
    );
    ExitCode::SUCCESS
}
