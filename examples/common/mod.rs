//! What the in-process benchmarks share: a service on a fresh sled store rostering many
//! workers, one text through it as the SMS handler applies it, and readings of /proc/self.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use shiftline::clock::SystemClock;
use shiftline::config::Settings;
use shiftline::core::domain::PhoneNumber;
use shiftline::core::intake::Input;
use shiftline::service::Service;
use shiftline::service::intake::Render;
use shiftline::store::{Applied, Via};

/// The phone of worker `i`.
pub fn phone(i: usize) -> String {
    format!("+15553{i:06}")
}

/// shiftline built with the library (`app::build`, which starts no outbox) on a store in
/// `dir`, with `workers` workers and `skills` in its configuration.
pub async fn service(
    dir: &Path,
    workers: usize,
    skills: &[&str],
) -> Result<Service, Box<dyn Error>> {
    let mut toml = format!("[server]\ndata_dir = \"{}\"\n", dir.join("data").display());
    for key in skills {
        toml += &format!("[[skills]]\nkey = \"{key}\"\n");
    }
    for i in 0..workers {
        toml += &format!("[[workers]]\nphone = \"{}\"\nname = \"W{i}\"\n", phone(i));
    }
    let settings = Settings::parse(&toml, |name| {
        (name == "SHIFTLINE_TWILIO_AUTH_TOKEN").then(|| "bench".to_string())
    })?;
    drop(toml);
    let app = shiftline::app::Application::build(settings, Arc::new(SystemClock), None).await?;
    Ok(app.service)
}

/// One text through the store, as the SMS handler does it, without the flush.
pub async fn apply(state: &Service, sid: &str, from: &PhoneNumber, text: &str) -> Applied {
    let (messages, settings) = (state.messages.clone(), state.settings.clone());
    let render: Render = Arc::new(move |outcome, _| {
        messages.render_all(outcome.locale, &outcome.replies, &settings.catalog)
    });
    state
        .apply_input(
            from.clone(),
            sid.to_string(),
            Input::Text(text.to_string()),
            Via::Sms,
            render,
        )
        .await
        .expect("the store applies the turn")
}

/// The number after `field:` in /proc/self/`file` (kB for sizes); 0 when unreadable.
pub fn proc_self(file: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/self/{file}"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                let value = l.strip_prefix(field)?.strip_prefix(':')?;
                value.trim().trim_end_matches(" kB").parse().ok()
            })
        })
        .unwrap_or(0.0)
}
