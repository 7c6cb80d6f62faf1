//! Replays every scripted conversation in `dialogues/` through the real router, on a fresh
//! store and a clock the script moves, and snapshots the transcript into `snapshots/`.
//!
//! A dialogue file is TOML: a `title`, a `start` time, optionally the enrolment `pin`, and
//! `[[step]]`s, each one of:
//!   sms = { from = "ana", text = "ON" }      # a rostered worker by name, or a raw number
//!   sms = { from = "ana", text = "ON", sid = "SMfirst" }   # a fixed MessageSid, to replay
//!   sms = { from = "ana", text = "ON", signature = "missing" | "wrong" }
//!   wait = "15m"                              # move the clock (s, m, h)
//!   restart = true                            # stop the service and start it on the same store
//! Every step after the first also moves the clock 20 seconds, like a person typing.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, TimeDelta};
use common::{Signing, TestApp, message_text};
use serde::Deserialize;
use shiftline::clock::ManualClock;
use shiftline::intake::record::WorkerRecord;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Dialogue {
    title: String,
    start: DateTime<FixedOffset>,
    pin: Option<String>,
    step: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    sms: Option<Sms>,
    wait: Option<String>,
    #[serde(default)]
    restart: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sms {
    from: String,
    text: String,
    sid: Option<String>,
    signature: Option<String>,
}

const PEOPLE: [(&str, &str); 3] = [
    ("ana", "+15550001111"),
    ("luis", "+15550002222"),
    ("ben", "+15550003333"),
];

fn phone_of(who: &str) -> String {
    PEOPLE
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(who))
        .map(|(_, phone)| phone.to_string())
        .unwrap_or_else(|| who.to_string())
}

fn who_is(phone: &str) -> String {
    PEOPLE
        .iter()
        .find(|(_, p)| *p == phone)
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| phone.to_string())
}

fn duration(text: &str) -> TimeDelta {
    let (n, unit) = text.split_at(text.len() - 1);
    let n: i64 = n
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("bad wait {text:?}"));
    match unit {
        "s" => TimeDelta::seconds(n),
        "m" => TimeDelta::minutes(n),
        "h" => TimeDelta::hours(n),
        "d" => TimeDelta::days(n),
        _ => panic!("bad wait unit in {text:?} (use s, m, h or d)"),
    }
}

/// Everyone's record, to tell what a step changed.
fn records(app: &TestApp) -> BTreeMap<String, WorkerRecord> {
    app.state
        .store
        .workers()
        .unwrap()
        .into_iter()
        .map(|r| (r.phone.to_string(), r))
        .collect()
}

fn changes(
    before: &BTreeMap<String, WorkerRecord>,
    after: &BTreeMap<String, WorkerRecord>,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (phone, new) in after {
        let who = who_is(phone);
        let Some(old) = before.get(phone) else {
            lines.push(format!(
                "{who} registered as {:?} ({}, {})",
                new.name,
                new.language,
                new.time_zone.name()
            ));
            continue;
        };
        let mut diff = |what: &str, a: String, b: String| {
            if a != b {
                lines.push(format!("{who} {what} {a} -> {b}"));
            }
        };
        diff(
            "presence",
            old.presence.as_str().into(),
            new.presence.as_str().into(),
        );
        diff(
            "dialogue",
            old.dialogue.as_str().into(),
            new.dialogue.as_str().into(),
        );
        let skills = |r: &WorkerRecord| {
            format!(
                "[{}]",
                r.skills
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        diff("skills", skills(old), skills(new));
        diff(
            "language",
            old.language.to_string(),
            new.language.to_string(),
        );
        diff(
            "opted_out",
            old.opted_out.to_string(),
            new.opted_out.to_string(),
        );
    }
    lines
}

async fn replay(path: &Path) -> String {
    let dialogue: Dialogue = toml::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dir = tempfile::tempdir().unwrap();
    let offset = *dialogue.start.offset();
    let clock = Arc::new(ManualClock::new(dialogue.start.to_utc()));
    let pin = dialogue.pin.as_deref();
    let mut app = TestApp::start(dir.path(), clock.clone(), pin);
    let mut out = vec![format!("# {}", dialogue.title)];
    let mut outbox_seen = 0;
    let mut counter = 0;

    for (i, step) in dialogue.step.iter().enumerate() {
        if i > 0 {
            clock.advance(TimeDelta::seconds(20));
        }
        let stamp = app
            .now()
            .with_timezone(&offset)
            .format("%a %H:%M:%S")
            .to_string();
        let before = records(&app);
        if let Some(wait) = &step.wait {
            clock.advance(duration(wait));
            out.push(format!("{stamp}  ... {wait} pass"));
        }
        if step.restart {
            drop(app);
            app = TestApp::start(dir.path(), clock.clone(), pin);
            out.push(format!("{stamp}  ~~ shiftline restarts ~~"));
        }
        if let Some(sms) = &step.sms {
            counter += 1;
            let sid = sms
                .sid
                .clone()
                .unwrap_or_else(|| format!("SM{counter:032x}"));
            let from = phone_of(&sms.from);
            let shown = if sms.text.chars().count() > 80 {
                format!(
                    "{}... ({} characters)",
                    sms.text.chars().take(60).collect::<String>(),
                    sms.text.chars().count()
                )
            } else {
                sms.text.clone()
            };
            out.push(format!("{stamp}  {} texts {shown:?}", who_is(&from)));
            let signing = match sms.signature.as_deref() {
                None => Signing::Twilio,
                Some("missing") => Signing::Missing,
                Some("wrong") => Signing::WrongToken,
                Some(other) => panic!("unknown signature {other:?}"),
            };
            let params = [
                ("MessageSid", sid.as_str()),
                ("AccountSid", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                ("From", from.as_str()),
                ("To", "+15550100000"),
                ("Body", sms.text.as_str()),
                ("NumMedia", "0"),
            ];
            let (status, body) = app.post_form("/twilio/sms", &params, signing).await;
            if status.is_success() {
                let text = message_text(&body);
                if text.is_empty() {
                    out.push("          (no reply)".into());
                }
                for line in text.lines() {
                    let segments = shiftline::i18n::sms::segments(&text);
                    out.push(format!(
                        "          reply {line:?}{}",
                        if segments > 1 {
                            format!(" [{segments} segments]")
                        } else {
                            String::new()
                        }
                    ));
                }
            } else {
                out.push(format!(
                    "          HTTP {} {}",
                    status.as_u16(),
                    body.trim()
                ));
            }
        }
        for line in changes(&before, &records(&app)) {
            out.push(format!("          {line}"));
        }
        let outbox = app.state.store.outbox().unwrap();
        for entry in outbox.iter().skip(outbox_seen) {
            out.push(format!("          outbox: {}", entry.command.describe()));
        }
        outbox_seen = outbox.len();
    }
    out.join("\n") + "\n"
}

#[test]
fn dialogues() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!("../dialogues", "*.toml", |path| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let transcript = runtime.block_on(replay(path));
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            // One snapshot per dialogue, named after its file.
            insta::with_settings!({ snapshot_suffix => "" }, {
                insta::assert_snapshot!(name, transcript);
            });
        });
    });
}
