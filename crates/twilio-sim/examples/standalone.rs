//! The simulator as its own process, for several shiftline instances to share:
//!
//! ```text
//! TWILIO_SIM_AUTH_TOKEN=... cargo run -p twilio-sim --example standalone -- 127.0.0.1:4010
//! ```
//!
//! It ticks itself every 250 ms on the real clock, logs each simulated call line (and
//! each REST request at debug level), and serves the control API under
//! `/__sim/` beside Twilio's paths, so that tests in other processes can script phones,
//! place calls and read what happened with `twilio_sim::Remote`:
//!
//! ```text
//! curl -u AC00000000000000000000000000000000:$TWILIO_SIM_AUTH_TOKEN \
//!     http://127.0.0.1:4010/__sim/calls
//! ```
//!
//! The requests and call log it keeps for them are capped at the most recent 100,000
//! each (`twilio_sim::RECORD_LIMIT`), so it can run for hours.
//!
//! The account is `AC000…0`, the workspace `WS000…0` (shiftline's simulated ones) unless
//! `TWILIO_SIM_ACCOUNT_SID` / `TWILIO_SIM_WORKSPACE_SID` say otherwise. The realism knobs
//! come from `TWILIO_SIM_LATENCY_MS`, `TWILIO_SIM_JITTER_MS`, `TWILIO_SIM_RPS_LIMIT`,
//! `TWILIO_SIM_ERROR_RATE`, `TWILIO_SIM_HANG_RATE` and `TWILIO_SIM_SEED`; all off unless set.

use std::str::FromStr;

use twilio_sim::{Realism, SimulatorConfig, system_time};

fn env<T: FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={raw:?} is not a valid value")),
        Err(_) => Ok(None),
    }
}

fn config() -> Result<SimulatorConfig, String> {
    let realism = Realism {
        latency_ms: env("TWILIO_SIM_LATENCY_MS")?.unwrap_or(0),
        jitter_ms: env("TWILIO_SIM_JITTER_MS")?.unwrap_or(0),
        rps_limit: env("TWILIO_SIM_RPS_LIMIT")?,
        error_rate: env("TWILIO_SIM_ERROR_RATE")?.unwrap_or(0.0),
        hang_rate: env("TWILIO_SIM_HANG_RATE")?.unwrap_or(0.0),
        seed: env("TWILIO_SIM_SEED")?.unwrap_or(0),
    };
    Ok(SimulatorConfig {
        account_sid: env("TWILIO_SIM_ACCOUNT_SID")?
            .unwrap_or_else(|| format!("AC{}", "0".repeat(32))),
        workspace_sid: env("TWILIO_SIM_WORKSPACE_SID")?
            .unwrap_or_else(|| format!("WS{}", "0".repeat(32))),
        auth_token: env("TWILIO_SIM_AUTH_TOKEN")?
            .ok_or("set TWILIO_SIM_AUTH_TOKEN: REST requests must carry it and callbacks are signed with it")?,
        clock: system_time(),
        realism,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4010".into());
    let config = config()?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    twilio_sim::serve(listener, config).await?;
    Ok(())
}
