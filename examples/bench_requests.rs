//! Pre-generates signed SMS webhooks for `bench/run.sh` (wrk's Lua cannot compute
//! HMAC-SHA1), and optionally the configuration that rosters their senders.
//!
//! ```text
//! cargo run --release --example bench_requests -- --public-url http://127.0.0.1:18080 \
//!     --token bench-token --workers 10000 --requests 400000 --out requests --split 2 \
//!     --config shiftline.toml --listen 127.0.0.1:18080 --data-dir ./data
//! ```
//!
//! Request `k` is a complete HTTP/1.1 `POST /twilio/sms` signed for
//! `<public-url>/twilio/sms`, from worker `k % workers`, with its own MessageSid, so every
//! request is a fresh durable turn (never a replay) and consecutive requests come from
//! different workers; each worker walks `--texts` in order. The requests are split over
//! `--split` files `<out>.0`, `<out>.1`, ... (request `k` in file `k % split`), one per
//! wrk thread, each request written as its length in 8 decimal digits and then its
//! bytes, so `bench/intake.lua` can load a file at once and slice it as it goes.
//! Workers' numbers are `+15553` followed by six digits, the same numbering `bench_seed`
//! uses, so a store seeded by it knows every sender.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use clap::Parser;
use shiftline::twilio::signature;

#[derive(Parser)]
#[command(about = "Write signed SMS webhooks (and a roster) for the intake benchmark")]
struct Args {
    /// The server's public URL (what signatures cover), without a trailing slash.
    #[arg(long)]
    public_url: String,
    /// SHIFTLINE_TWILIO_AUTH_TOKEN of the server.
    #[arg(long)]
    token: String,
    /// Distinct senders (rostered workers).
    #[arg(long, default_value_t = 10_000)]
    workers: usize,
    /// Requests to write.
    #[arg(long, default_value_t = 400_000)]
    requests: usize,
    /// What each worker texts, in order, round and round (comma-separated).
    #[arg(long, default_value = "status,skills,1,yes,on,status,off")]
    texts: String,
    /// Where to write the requests: `<out>.0` ... `<out>.<split - 1>`.
    #[arg(long)]
    out: PathBuf,
    /// How many files to split the requests over (one per wrk thread).
    #[arg(long, default_value_t = 2)]
    split: usize,
    /// Also write a configuration rostering the workers here.
    #[arg(long)]
    config: Option<PathBuf>,
    /// `server.listen` for `--config`.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// `server.data_dir` for `--config`.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
}

/// The benchmark's worker `i`; shared with `bench_seed`.
fn phone(i: usize) -> String {
    format!("+15553{i:06}")
}

/// Form encoding as Twilio sends it (`+` for space, `%2B` for plus).
fn encode(params: &[(String, String)]) -> String {
    serde_urlencoded::to_string(params).expect("strings always encode")
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    assert!(
        args.workers > 0 && args.workers < 1_000_000,
        "1..=999999 workers"
    );
    let texts: Vec<&str> = args.texts.split(',').map(str::trim).collect();
    let url = format!("{}/twilio/sms", args.public_url);
    let host = args
        .public_url
        .split_once("://")
        .map_or(args.public_url.as_str(), |(_, rest)| rest)
        .trim_end_matches('/');

    assert!(args.split > 0, "--split must be at least 1");
    let mut outs = (0..args.split)
        .map(|i| {
            let mut name = args.out.clone().into_os_string();
            name.push(format!(".{i}"));
            Ok(std::io::BufWriter::new(std::fs::File::create(name)?))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut request = String::new();
    for k in 0..args.requests {
        let worker = k % args.workers;
        let round = k / args.workers;
        // MessageSid goes last: LuaJIT hashes a string from a few sampled positions, its
        // end among them, and requests that all ended alike would share one hash chain.
        let params = vec![
            ("ToCountry".to_string(), "US".to_string()),
            ("SmsMessageSid".to_string(), format!("SM{k:032x}")),
            ("NumMedia".to_string(), "0".to_string()),
            ("AccountSid".to_string(), format!("AC{:032x}", 0)),
            ("From".to_string(), phone(worker)),
            ("To".to_string(), "+15550100000".to_string()),
            ("Body".to_string(), texts[round % texts.len()].to_string()),
            ("NumSegments".to_string(), "1".to_string()),
            ("ApiVersion".to_string(), "2010-04-01".to_string()),
            ("MessageSid".to_string(), format!("SM{k:032x}")),
        ];
        let sig = signature::sign(&args.token, &url, &params);
        let body = encode(&params);
        request.clear();
        let _ = write!(
            request,
            "POST /twilio/sms HTTP/1.1\r\nHost: {host}\r\nUser-Agent: TwilioProxy/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: {sig}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let out = &mut outs[k % args.split];
        write!(out, "{:08}", request.len())?;
        out.write_all(request.as_bytes())?;
    }
    for mut out in outs {
        out.flush()?;
    }

    if let Some(path) = &args.config {
        let mut text = String::new();
        let _ = write!(
            text,
            "[server]\nlisten = \"{}\"\npublic_url = \"{}\"\ndata_dir = \"{}\"\n\n",
            args.listen,
            args.public_url,
            args.data_dir.display()
        );
        for (key, en, es) in [
            ("billing", "Billing", "Facturación"),
            ("support", "Support", "Soporte"),
            ("spanish", "Spanish", "Español"),
        ] {
            let _ = write!(
                text,
                "[[skills]]\nkey = \"{key}\"\nnames = {{ en = \"{en}\", es = \"{es}\" }}\n\n"
            );
        }
        for i in 0..args.workers {
            let _ = write!(
                text,
                "[[workers]]\nphone = \"{}\"\nname = \"Worker {i}\"\n",
                phone(i)
            );
        }
        std::fs::write(path, text)?;
    }
    Ok(())
}
