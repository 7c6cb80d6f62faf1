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
//!   twilio = { status = 500, times = 1 }      # the next REST requests to Twilio fail
//!   setup = true                              # run `shiftline twilio setup` and show its report
//! Every step after the first also moves the clock 20 seconds, like a person typing. After
//! each step the outbox delivers what is due to the built-in Twilio simulator, and the
//! transcript shows the REST requests it received and the Workers it now holds.

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
    /// Start with an empty TaskRouter workspace instead of one `serve` has set up.
    #[serde(default)]
    fresh_workspace: bool,
    step: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    sms: Option<Sms>,
    wait: Option<String>,
    #[serde(default)]
    restart: bool,
    twilio: Option<Failure>,
    #[serde(default)]
    setup: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Failure {
    status: u16,
    times: u32,
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
    let mut app = TestApp::start(dir.path(), clock.clone(), pin, !dialogue.fresh_workspace).await;
    let mut sim_workers = BTreeMap::new();
    let mut out = vec![format!("# {}", dialogue.title)];
    let mut outbox_seen = None;
    let mut parked_seen = 0;
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
        if let Some(failure) = &step.twilio {
            app.sim.fail_next(failure.status, failure.times);
            out.push(match failure.times {
                0 => format!("{stamp}  ~~ Twilio is back ~~"),
                n => format!(
                    "{stamp}  ~~ Twilio will answer the next {n} request(s) with HTTP {} ~~",
                    failure.status
                ),
            });
        }
        if step.restart {
            app = app.restart(dir.path(), pin).await;
            out.push(format!("{stamp}  ~~ shiftline restarts ~~"));
        }
        if step.setup {
            out.push(format!("{stamp}  operator runs `shiftline twilio setup`"));
            let report = shiftline::setup::run(&app.twilio, &app.state.settings)
                .await
                .expect("setup runs");
            for line in report.lines {
                out.push(format!("          {line}"));
            }
            out.push(format!("          {} change(s)", report.changes));
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
        let last_id = outbox.iter().map(|e| e.id).max();
        for entry in outbox.iter().filter(|e| Some(e.id) > outbox_seen) {
            out.push(format!("          outbox: {}", entry.command.describe()));
        }
        outbox_seen = last_id.max(outbox_seen);
        app.settle().await;
        for request in app.sim.take_requests() {
            out.push(format!(
                "          Twilio <- {}",
                short(&request.describe())
            ));
        }
        for worker in app.sim.workers() {
            let line = format!(
                "{} {} {}",
                worker.activity_name, worker.friendly_name, worker.attributes
            );
            if sim_workers.get(&worker.sid) != Some(&line) {
                out.push(format!("          TaskRouter now: {} {}", worker.sid, line));
                sim_workers.insert(worker.sid.clone(), line);
            }
        }
        let parked = app.state.store.parked().unwrap();
        for p in parked.iter().skip(parked_seen) {
            out.push(format!(
                "          parked: {} ({})",
                p.entry.command.describe(),
                p.error
            ));
        }
        parked_seen = parked.len();
    }
    // The port changes from run to run; the snapshot shows a fixed stand-in.
    let transcript = out
        .join("\n")
        .replace(app.public_url(), "https://shiftline.example.com");
    app.stop().await;
    transcript + "\n"
}

/// A REST request without the account and workspace prefix, which are the same everywhere.
fn short(line: &str) -> String {
    let workspace = format!("/v1/Workspaces/{}", shiftline::app::SIMULATOR_WORKSPACE);
    let line = line.replace(&format!("{workspace}/"), "/");
    let line = match line.strip_suffix(&workspace) {
        Some(start) => format!("{start}/Workspace"),
        None => line.replace(&format!("{workspace} "), "/Workspace "),
    };
    line.replace(
        &format!("/2010-04-01/Accounts/{}", shiftline::app::SIMULATOR_ACCOUNT),
        "",
    )
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
