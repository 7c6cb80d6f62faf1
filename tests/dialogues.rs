//! Replays every scripted conversation in `dialogues/` through the real router, on a fresh
//! store and a clock the script moves, against the built-in Twilio simulator, and snapshots
//! the transcript into `snapshots/`.
//!
//! A dialogue file is TOML: a `title`, a `start` time, optionally the enrolment `pin`,
//! `fresh_workspace = true` (TaskRouter not set up yet), `callbacks = false`, `confirm = "amd"` (or `press1`)
//! and `whisper_caller = "last_digits"` (or `none`, default `city`), and `[[step]]`s, each
//! one of:
//!   sms = { from = "ana", text = "ON" }      # a rostered worker by name, or a raw number
//!   sms = { from = "ana", text = "ON", sid = "SMfirst" }   # a fixed MessageSid, to replay
//!   sms = { from = "ana", text = "ON", signature = "missing" | "wrong" }
//!   phone = { worker = "ana", answers = "busy, human:1" }  # how her phone answers the next calls
//!       (also quiet-human:1 and short-greeting: AMD says "unknown"; see twilio_sim::Answer)
//!   call = { from = "+15559990000", digits = "1" }          # a customer calls the business line
//!   call = { from = "+13125550123", digits = "1" }          # a Chicago number: Twilio sends FromCity
//!   call = { from = "+15559990000", digits = "2/1" }        # presses 2 at the menu, then 1 while waiting
//!   call = { from = "...", digits = "2", later = "no-answer, busy", says = "words" }
//!       # how their phone answers the calls that come back, and what their voicemail says
//!   caller_hangs_up = true                    # the last customer hangs up
//!   ivr = { from = "ana" }                    # a worker calls the intake line
//!   ivr = { press = "1" }  | { say = "online" } | { silence = true }   # at the last prompt
//!   ivr = { retry = true }                    # Twilio sends the last Gather action again
//!   wait = "15m"                              # let time pass (s, m, h)
//!   restart = true                            # stop the service and start it on the same store
//!   down = "2h"                               # stop it, let 2 hours pass, start it again
//!   twilio = { status = 500, times = 1 }      # the next REST requests to Twilio fail (times = 0: Twilio is back)
//!   setup = true                              # run `shiftline twilio setup` and show its report
//! and `twilio_latency_ms = 30` at the top makes the simulated Twilio answer that slowly.
//! After each step 20 seconds pass (or the step's `wait`), second by second: the outbox
//! delivers what is due to the simulator, which rings phones and calls shiftline back. The
//! transcript shows, with their times, the replies, state changes, outbox commands, REST
//! requests Twilio received, what happened on calls, and the TaskRouter Workers.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, TimeDelta};
use common::{Options, Signing, TestApp, message_text};
use serde::Deserialize;
use shiftline::clock::ManualClock;
use shiftline::core::intake::record::WorkerRecord;
use twilio_sim::Answer;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Dialogue {
    title: String,
    start: DateTime<FixedOffset>,
    pin: Option<String>,
    /// Start with an empty TaskRouter workspace instead of one `serve` has set up.
    #[serde(default)]
    fresh_workspace: bool,
    /// The dispatcher's confirm mode: amd, press1 or amd+press1 (the default).
    confirm: Option<String>,
    /// `[callbacks] enabled` (on by default).
    callbacks: Option<bool>,
    /// What the whisper says about the caller: city (the default), last_digits or none.
    whisper_caller: Option<String>,
    /// Show times in this IANA zone (with its DST) instead of the fixed offset of `start`.
    zone: Option<String>,
    /// The simulated Twilio answers every REST request after this many milliseconds.
    twilio_latency_ms: Option<u64>,
    step: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    sms: Option<Sms>,
    phone: Option<Phone>,
    call: Option<Call>,
    #[serde(default)]
    caller_hangs_up: bool,
    ivr: Option<Ivr>,
    wait: Option<String>,
    #[serde(default)]
    restart: bool,
    down: Option<String>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Phone {
    worker: String,
    answers: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ivr {
    from: Option<String>,
    press: Option<String>,
    say: Option<String>,
    #[serde(default)]
    silence: bool,
    #[serde(default)]
    retry: bool,
}

/// A worker's call to the intake line, as Twilio would drive it.
struct IvrCall {
    who: String,
    from: String,
    call_sid: String,
    /// Where the last prompt posts (path and query), and the last request sent.
    action: Option<String>,
    last: Option<(String, Vec<(String, String)>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Call {
    from: String,
    digits: Option<String>,
    /// How the caller's phone answers the calls that come back (callbacks), in order.
    later: Option<String>,
    /// What the caller says on a voicemail (Twilio transcribes it).
    says: Option<String>,
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
async fn records(app: &TestApp) -> BTreeMap<String, WorkerRecord> {
    app.state
        .store
        .workers()
        .await
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

/// What the transcript has shown so far, to print only what changed.
#[derive(Default)]
struct Seen {
    records: BTreeMap<String, WorkerRecord>,
    outbox: Option<u64>,
    parked: usize,
    sim_workers: BTreeMap<String, String>,
    dispatch: BTreeMap<String, String>,
    voicemails: usize,
    callbacks: BTreeMap<String, String>,
    last_stamp: String,
}

impl Seen {
    /// Everything that changed since the last look, under the time `stamp`.
    async fn look(&mut self, app: &TestApp, out: &mut Vec<String>, stamp: &str) {
        let mut lines = Vec::new();
        let records = records(app).await;
        lines.extend(changes(&self.records, &records));
        self.records = records;
        // Commands and timers share one sequence of ids: new ones are those past the last seen.
        let mut written: Vec<(u64, String)> = app
            .state
            .store
            .outbox()
            .await
            .unwrap()
            .iter()
            .map(|e| (e.id, e.command.describe()))
            .collect();
        for timer in app.state.store.timers().await.unwrap() {
            let command = shiftline::core::effects::Command::Timer {
                worker: timer.worker,
                due: timer.due,
                event: timer.event,
            };
            written.push((timer.id, command.describe()));
        }
        written.sort();
        for (_, line) in written.iter().filter(|(id, _)| Some(*id) > self.outbox) {
            lines.push(format!("outbox: {line}"));
        }
        self.outbox = written.iter().map(|(id, _)| *id).max().max(self.outbox);
        for request in app.sim.take_requests() {
            lines.push(format!("Twilio <- {}", short(&request.describe())));
        }
        for line in app.sim.take_call_log() {
            lines.push(format!("phone: {line}"));
        }
        for record in app.state.store.dispatch_records().await.unwrap() {
            let line = match record.outcome.map(|o| o.as_str()) {
                Some(outcome) if outcome != record.state.as_str() => {
                    format!("{} ({outcome})", record.state.as_str())
                }
                _ => record.state.as_str().to_string(),
            };
            if self.dispatch.get(record.reservation_sid.as_str()) != Some(&line) {
                lines.push(format!(
                    "reservation {} for {}: {}",
                    record.reservation_sid,
                    who_is(record.worker.as_str()),
                    line.trim()
                ));
                self.dispatch
                    .insert(record.reservation_sid.to_string(), line);
            }
        }
        for worker in app.sim.workers() {
            let line = format!(
                "{} {} {}",
                worker.activity_name, worker.friendly_name, worker.attributes
            );
            if self.sim_workers.get(&worker.sid) != Some(&line) {
                lines.push(format!("TaskRouter now: {} {}", worker.sid, line));
                self.sim_workers.insert(worker.sid.clone(), line);
            }
        }
        let parked = app.state.store.parked().await.unwrap();
        for p in parked.iter().skip(self.parked) {
            lines.push(format!(
                "parked: {} ({})",
                p.entry.command.describe(),
                p.error
            ));
        }
        self.parked = parked.len();
        let voicemails = app.state.store.voicemails().await.unwrap();
        for v in voicemails.iter().skip(self.voicemails) {
            lines.push(format!(
                "voicemail stored: from {} for {} ({} s) {}",
                v.caller,
                v.skill.clone().unwrap_or_default(),
                v.duration_secs,
                v.recording_url
            ));
        }
        self.voicemails = voicemails.len();
        for callback in app.state.store.callbacks().await.unwrap() {
            let calls: Vec<&str> = callback
                .attempts
                .iter()
                .map(|a| a.outcome.as_str())
                .collect();
            let line = format!(
                "{}{}",
                callback.status.as_str(),
                if calls.is_empty() {
                    String::new()
                } else {
                    format!(" (calls: {})", calls.join(", "))
                }
            );
            if self.callbacks.get(&callback.id) != Some(&line) {
                let source = match callback.source {
                    shiftline::core::callback::Source::Queue => "asked in the queue",
                    shiftline::core::callback::Source::Voicemail => "left a voicemail",
                };
                lines.push(format!(
                    "callback for {} ({source}): {line}",
                    who_is(&callback.customer)
                ));
                self.callbacks.insert(callback.id.clone(), line);
            }
        }
        // Twilio's client retries a failing request at once; show such a run as one line.
        let mut i = 0;
        while i < lines.len() {
            let same = lines[i..].iter().take_while(|l| **l == lines[i]).count();
            let line = if same > 1 {
                format!("{} (x{same})", lines[i])
            } else {
                lines[i].clone()
            };
            self.print(out, stamp, &line);
            i += same;
        }
    }

    fn print(&mut self, out: &mut Vec<String>, stamp: &str, line: &str) {
        if stamp == self.last_stamp {
            out.push(format!("              {line}"));
        } else {
            out.push(format!("{stamp}  {line}"));
            self.last_stamp = stamp.to_string();
        }
    }
}

/// Lets `span` pass second by second, delivering and simulating what is due at each one;
/// long waits go in bigger strides, but always stop exactly when a timer is due, so a shift
/// that starts at 9:00 is seen at 9:00.
async fn play(
    app: &TestApp,
    clock: &ManualClock,
    span: TimeDelta,
    seen: &mut Seen,
    out: &mut Vec<String>,
    stamp: &dyn Fn() -> String,
) {
    use shiftline::clock::Clock;
    let mut passed = TimeDelta::zero();
    while passed < span {
        let stride = if passed < TimeDelta::minutes(2) {
            TimeDelta::seconds(1)
        } else if passed < TimeDelta::hours(1) {
            TimeDelta::seconds(30)
        } else {
            TimeDelta::minutes(10)
        };
        let now = clock.now();
        let next_timer = app
            .state
            .store
            .next_due()
            .await
            .unwrap()
            .filter(|due| *due > now);
        let mut stride = stride.min(span - passed);
        if let Some(due) = next_timer {
            stride = stride.min(due - now);
        }
        clock.advance(stride);
        passed += stride;
        app.settle().await;
        seen.look(app, out, &stamp()).await;
    }
}

async fn replay(path: &Path) -> String {
    let dialogue: Dialogue = toml::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dir = tempfile::tempdir().unwrap();
    let offset = *dialogue.start.offset();
    let clock = Arc::new(ManualClock::new(dialogue.start.to_utc()));
    let confirm = dialogue.confirm.as_deref().map(|mode| {
        toml::Value::String(mode.into())
            .try_into()
            .unwrap_or_else(|e| panic!("confirm = {mode:?}: {e}"))
    });
    let whisper_caller = dialogue.whisper_caller.as_deref().map(|choice| {
        toml::Value::String(choice.into())
            .try_into()
            .unwrap_or_else(|e| panic!("whisper_caller = {choice:?}: {e}"))
    });
    let options = Options {
        pin: dialogue.pin.clone(),
        confirm,
        whisper_caller,
        set_up: !dialogue.fresh_workspace,
        callbacks: dialogue.callbacks,
        roster: None,
        concurrency: None,
        realism: dialogue
            .twilio_latency_ms
            .map(|latency_ms| shiftline::config::SimulatorRealism {
                latency_ms,
                ..Default::default()
            }),
        ..Options::default()
    };
    let mut app = TestApp::start(dir.path(), clock.clone(), &options).await;
    let mut out = vec![format!("# {}", dialogue.title)];
    if let Some(ms) = dialogue.twilio_latency_ms {
        out.push(format!(
            "~~ Twilio answers every REST request after {ms} ms ~~"
        ));
    }
    let mut seen = Seen {
        records: records(&app).await,
        ..Seen::default()
    };
    let mut counter = 0;
    let mut last_customer_call = None;
    let mut ivr_call: Option<IvrCall> = None;
    let mut ivr_calls = 0;
    let zone: Option<chrono_tz::Tz> = dialogue
        .zone
        .as_deref()
        .map(|z| z.parse().expect("an IANA zone"));
    let stamp = || {
        use shiftline::clock::Clock;
        let now = clock.now();
        match zone {
            Some(zone) => now
                .with_timezone(&zone)
                .format("%a %H:%M:%S %Z")
                .to_string(),
            None => now.with_timezone(&offset).format("%a %H:%M:%S").to_string(),
        }
    };

    for step in &dialogue.step {
        let now = stamp();
        if let Some(failure) = &step.twilio {
            app.sim.fail_next(failure.status, failure.times);
            let line = match failure.times {
                0 => "~~ Twilio is back ~~".to_string(),
                n => format!(
                    "~~ Twilio will answer the next {n} request(s) with HTTP {} ~~",
                    failure.status
                ),
            };
            seen.print(&mut out, &now, &line);
        }
        if step.restart {
            app = app.restart(dir.path(), &options).await;
            seen.print(&mut out, &now, "~~ shiftline restarts ~~");
        }
        if let Some(down) = &step.down {
            seen.print(&mut out, &now, &format!("~~ shiftline stops for {down} ~~"));
            app = app
                .restart_after(dir.path(), &options, duration(down))
                .await;
            seen.print(&mut out, &stamp(), "~~ shiftline starts again ~~");
        }
        if step.setup {
            seen.print(&mut out, &now, "operator runs `shiftline twilio setup`");
            let report = shiftline::service::setup::run(&app.twilio, &app.state.settings)
                .await
                .expect("setup runs");
            for line in report.lines {
                seen.print(&mut out, &now, &line);
            }
            seen.print(&mut out, &now, &format!("{} change(s)", report.changes));
        }
        if let Some(phone) = &step.phone {
            let answers: Vec<Answer> = phone
                .answers
                .split(',')
                .map(|a| {
                    Answer::parse(a.trim()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                })
                .collect();
            app.sim.script_phone(&phone_of(&phone.worker), answers);
            seen.print(
                &mut out,
                &now,
                &format!("{}'s phone will answer: {}", phone.worker, phone.answers),
            );
        }
        if let Some(call) = &step.call {
            let digits = call
                .digits
                .as_deref()
                .map(|d| format!(":{d}"))
                .unwrap_or_default();
            let caller = Answer::parse(&format!("human{digits}")).expect("a caller");
            let later = call.later.as_deref().unwrap_or_default();
            let answers: Vec<Answer> = std::iter::once(caller)
                .chain(
                    later
                        .split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(|a| Answer::parse(a).unwrap_or_else(|e| panic!("later: {e}"))),
                )
                .collect();
            app.sim.script_phone(&call.from, answers);
            if let Some(words) = &call.says {
                app.sim.phone_says(&call.from, words);
            }
            let business = app.state.settings.business_number().to_string();
            let url = format!("{}/twilio/voice/customer", app.public_url());
            seen.print(
                &mut out,
                &now,
                &format!(
                    "{} calls the business line{}",
                    who_is(&call.from),
                    call.digits
                        .as_deref()
                        .map(|d| format!(" (will press {d})"))
                        .unwrap_or_default()
                ),
            );
            if let Some(later) = &call.later {
                seen.print(
                    &mut out,
                    &now,
                    &format!("{}'s phone will answer later calls: {later}", call.from),
                );
            }
            last_customer_call = Some(app.sim.place_call(&call.from, &business, &url));
        }
        if step.caller_hangs_up {
            let call = last_customer_call
                .as_deref()
                .expect("a customer call to hang up");
            seen.print(&mut out, &now, "the caller hangs up");
            app.sim.hang_up(call);
        }
        if let Some(ivr) = &step.ivr {
            if let Some(who) = &ivr.from {
                ivr_calls += 1;
                let from = phone_of(who);
                seen.print(
                    &mut out,
                    &now,
                    &format!("{} calls the intake line", who_is(&from)),
                );
                ivr_call = Some(IvrCall {
                    who: who_is(&from),
                    call_sid: format!("CA{ivr_calls:032x}"),
                    from,
                    action: Some("/twilio/voice/intake".into()),
                    last: None,
                });
            }
            let call = ivr_call
                .as_mut()
                .expect("an intake call (ivr = { from = ... }) comes first");
            let request = if ivr.retry {
                seen.print(&mut out, &now, "(Twilio sends the same request again)");
                call.last.clone().expect("a request to retry")
            } else {
                let path = call.action.clone().expect("the line is still open");
                let mut params = vec![
                    ("CallSid".to_string(), call.call_sid.clone()),
                    (
                        "AccountSid".to_string(),
                        "AC00000000000000000000000000000000".to_string(),
                    ),
                    ("From".to_string(), call.from.clone()),
                    ("To".to_string(), "+15550100000".to_string()),
                    ("CallStatus".to_string(), "in-progress".to_string()),
                ];
                if let Some(keys) = &ivr.press {
                    seen.print(&mut out, &now, &format!("{} presses {keys}", call.who));
                    params.push(("Digits".into(), keys.clone()));
                } else if let Some(words) = &ivr.say {
                    seen.print(&mut out, &now, &format!("{} says {words:?}", call.who));
                    params.push(("SpeechResult".into(), words.clone()));
                    params.push(("Confidence".into(), "0.91".into()));
                } else if ivr.silence {
                    seen.print(&mut out, &now, &format!("{} says nothing", call.who));
                    params.push(("Digits".into(), String::new()));
                }
                (path, params)
            };
            call.last = Some(request.clone());
            let borrowed: Vec<(&str, &str)> = request
                .1
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let (status, body) = app.post_form(&request.0, &borrowed, Signing::Twilio).await;
            assert!(status.is_success(), "{}: HTTP {status} {body}", request.0);
            let heard = shiftline::demo::intake_line::hear(&body, app.public_url())
                .unwrap_or_else(|e| panic!("{e}: {body}"));
            let (said, action, hangs_up) = (heard.said, heard.action, heard.hangs_up);
            for words in said {
                seen.print(&mut out, &now, &format!("hears {words:?}"));
            }
            call.action = if hangs_up { None } else { action };
            if hangs_up {
                seen.print(&mut out, &now, "the line hangs up");
            }
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
            seen.print(
                &mut out,
                &now,
                &format!("{} texts {shown:?}", who_is(&from)),
            );
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
                    seen.print(&mut out, &now, "(no reply)");
                }
                let segments = shiftline::core::domain::sms::segments(&text);
                for line in text.lines() {
                    let note = if segments > 1 {
                        format!(" [{segments} segments]")
                    } else {
                        String::new()
                    };
                    seen.print(&mut out, &now, &format!("reply {line:?}{note}"));
                }
            } else {
                seen.print(
                    &mut out,
                    &now,
                    &format!("HTTP {} {}", status.as_u16(), body.trim()),
                );
            }
        }
        // What the step set off plays out before anything else is looked at.
        app.sim.settle().await;
        seen.look(&app, &mut out, &now).await;
        let span = step
            .wait
            .as_deref()
            .map(duration)
            .unwrap_or(TimeDelta::seconds(20));
        if let Some(wait) = &step.wait {
            seen.print(&mut out, &now, &format!("... {wait} pass"));
        }
        play(&app, &clock, span, &mut seen, &mut out, &stamp).await;
    }
    // The port changes from run to run; the snapshot shows a fixed stand-in.
    let transcript = out
        .join("\n")
        .replace(app.public_url(), "https://shiftline.example.com")
        .replace(&app.sim.base_url(), "https://api.twilio.com");
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
