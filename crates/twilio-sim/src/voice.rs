//! Calls that progress: ringing, answering (with AMD), running shiftline's TwiML, waiting
//! in a TaskRouter queue, bridging, recording a voicemail, hanging up.
//!
//! Outbound calls (`POST /Calls.json`) ring the scripted phone on `To` (see `phones`);
//! inbound calls come from [`Simulator::place_call`](super::Simulator::place_call).
//! Everything the call asks of shiftline (TwiML fetches, Gather and Record actions,
//! status, AMD and recording callbacks) goes through the ordered callback queue, and a
//! TwiML answer is acted on before the request stops counting as pending, so `settle`
//! waits for a whole conversation. Ring and talk time and Gather timeouts are timers on
//! the simulator's clock, fired by `tick`.
//!
//! Parameters: every TwiML request carries `CallSid AccountSid From To CallStatus
//! ApiVersion Direction Caller Called` (+ `AnsweredBy` on the first fetch with sync AMD,
//! `Digits` on a Gather action, the queue fields on `waitUrl`, the recording fields on a
//! Record action). Status callbacks add `CallbackSource SequenceNumber Timestamp`,
//! `CallDuration` on `completed` and `AnsweredBy` on `answered`/`completed` when AMD was
//! asked for; the `initiated` one says `CallStatus=initiated`. `<Enqueue>` task
//! attributes are the `<Task>` JSON with the snake_cased call parameters written over
//! it. `<Reject reason="busy">` ends the call `busy`, any other reason `no-answer`.
//!
//! Submodules: `dial` (`<Dial><Number>` and its child call), `waiting` (the `waitUrl`
//! document, its Gather and `<Leave/>`), `transcription` (`<Record transcribe>`).
//!
//! Each call has an `epoch`, bumped whenever its flow is cut (hang-up, REST redirect, end):
//! an answer to a request made in an older epoch is dropped, as Twilio drops a TwiML
//! document for a call that moved on.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use url::Url;

use super::callbacks::{Callback, Reply};
use super::json::rfc2822;
use super::phones::Answer;
use super::redact::redact;
use super::state::{Call, Recording, State, TaskStatus};
use super::twiml::{self, Dial, DialTarget, Enqueue, Gather, Record, Verb};

mod dial;
mod transcription;
mod waiting;

pub(crate) use dial::DialLeg;

type Params = Vec<(String, String)>;

/// How many TwiML documents one call may fetch without the clock moving: past that it
/// is taken for a redirect loop and ended, so `settle` cannot wait forever.
const MAX_DOCUMENTS_AT_ONCE: u32 = 100;

/// Call statuses after which nothing more happens.
pub(crate) const FINAL: [&str; 5] = ["completed", "busy", "failed", "no-answer", "canceled"];

/// `MachineDetectionDuration` (ms) reported for each verdict: fixed, so runs repeat.
const DETECTION_MS: [(&str, u32); 4] = [
    ("human", 1800),
    ("machine_start", 3200),
    ("machine_end_beep", 9500),
    ("fax", 1200),
];

/// What to do with shiftline's answer to a voice request.
#[derive(Clone, Debug)]
pub(crate) enum Then {
    /// A TwiML document for the call: run it.
    Run { call: String, epoch: u64 },
    /// TwiML only listened to (`<Queue url>`): what it says is logged.
    Listen { call: String, epoch: u64 },
    /// TwiML for a caller waiting in a queue (the `waitUrl` document, or the answer to
    /// its Gather's action), run in the wait context (`waiting`); `queue` are the queue
    /// parameters the `waitUrl` was requested with.
    Wait {
        call: String,
        epoch: u64,
        queue: Params,
    },
    /// Go on running the call's document (after the asynchronous AMD verdict).
    Resume { call: String, epoch: u64 },
    /// A notification (status, recording callback, `<Record>` action): only a failure
    /// matters, and it is logged.
    Notify { call: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Amd {
    Off,
    Enable,
    DetectMessageEnd,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Phase {
    /// Running its TwiML, or waiting for the next document.
    Active,
    Ringing,
    /// Waiting at a `<Gather>` for digits that will not come.
    Gathering(Gather),
    /// In a TaskRouter queue behind a task (`<Enqueue workflowSid>`).
    Enqueued {
        task_sid: String,
        workflow_sid: String,
        /// The `<Enqueue action>`, requested when the caller leaves with `<Leave/>`.
        action: Option<String>,
        /// The voice queue's `QU…` (empty for a call known only from its task).
        queue_sid: String,
        since: DateTime<Utc>,
    },
    /// Waiting on its `<Dial><Number>`: `child` rings or talks.
    Dialing {
        child: String,
    },
    /// The child leg of a `<Dial><Number>`, answered and bridged to its parent.
    Talking,
    /// Talking to `other` (the two legs of a `<Dial><Queue reservationSid>`).
    Bridged {
        other: String,
        task_sid: String,
        worker_sid: String,
        post_work_activity_sid: Option<String>,
    },
    Ended,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// The scripted phone picks up.
    Answer,
    /// Nobody picked up within `Timeout`.
    RingTimeout,
    GatherTimeout,
    /// The bridged people are done talking.
    TalkEnds,
}

/// A call's voice side.
#[derive(Clone, Debug)]
pub(crate) struct Voice {
    /// Who is on the far end: the callee of an outbound call, the caller of an inbound one.
    pub party: Answer,
    pub epoch: u64,
    /// The verbs of the current document still to run.
    pub program: VecDeque<Verb>,
    /// The URL the current document came from (relative URLs resolve against it).
    pub doc_url: Option<String>,
    pub phase: Phase,
    pub timer: Option<(DateTime<Utc>, Timer)>,
    /// How many `<Gather>`s the party has reached: the next one gets that digits group
    /// of its script ([`Answer::digits_at`]).
    pub gathers_reached: usize,
    /// Set on the child leg of a `<Dial><Number>`: who dialled, and what to tell them.
    pub dial: Option<DialLeg>,
    pub amd: Amd,
    /// `AsyncAmd=true`: the URL is fetched without `AnsweredBy`.
    pub async_amd: bool,
    pub async_amd_callback: Option<String>,
    /// An asynchronous AMD verdict not posted yet.
    pub amd_pending: bool,
    pub answered_by: Option<String>,
    pub status_callback: Option<String>,
    pub status_events: Vec<String>,
    pub sequence: u32,
    pub ring_timeout: u32,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Documents fetched at one clock instant (the loop guard).
    pub burst: (Option<DateTime<Utc>>, u32),
}

impl Default for Voice {
    fn default() -> Self {
        Voice {
            party: Answer::default_caller(),
            epoch: 0,
            program: VecDeque::new(),
            doc_url: None,
            phase: Phase::Active,
            timer: None,
            gathers_reached: 0,
            dial: None,
            amd: Amd::Off,
            async_amd: false,
            async_amd_callback: None,
            amd_pending: false,
            answered_by: None,
            status_callback: None,
            status_events: Vec::new(),
            sequence: 0,
            ring_timeout: 60,
            answered_at: None,
            ended_at: None,
            burst: (None, 0),
        }
    }
}

impl Voice {
    /// Seconds between answer and end (or now), 0 if never answered.
    pub fn duration(&self, now: DateTime<Utc>) -> u64 {
        self.answered_at.map_or(0, |start| {
            u64::try_from((self.ended_at.unwrap_or(now) - start).num_seconds()).unwrap_or(0)
        })
    }
}

/// `CA000…0001` as `CA..01` in the call log; SIDs not made by the simulator's counters
/// stay whole.
pub(crate) fn short(sid: &str) -> String {
    let zeros = sid
        .get(2..)
        .map_or(0, |rest| rest.bytes().take_while(|b| *b == b'0').count());
    if sid.len() == 34 && zeros >= 24 {
        let digits = sid[2..].trim_start_matches('0');
        format!("{}..{digits:0>2}", &sid[..2])
    } else {
        sid.to_string()
    }
}

/// A URL as the call log shows it: the path and query (the host and port of a test
/// server change from run to run).
fn shown(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => match parsed.query() {
            Some(query) => format!("{}?{query}", parsed.path()),
            None => parsed.path().to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// Resolves a TwiML URL against the document it appeared in.
fn resolve(base: Option<&str>, url: &str) -> String {
    match base.and_then(|b| Url::parse(b).ok()) {
        Some(base) => base
            .join(url)
            .map_or_else(|_| url.to_string(), String::from),
        None => url.to_string(),
    }
}

fn ok(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

fn push(params: &mut Params, name: &str, value: impl Into<String>) {
    params.push((name.to_string(), value.into()));
}

/// The AMD verdict for who answered.
fn verdict(party: &Answer, amd: Amd) -> Option<&'static str> {
    match (party, amd) {
        (_, Amd::Off) => None,
        (Answer::Human { .. }, _) => Some("human"),
        (Answer::Voicemail { .. }, Amd::Enable) => Some("machine_start"),
        (Answer::Voicemail { .. }, Amd::DetectMessageEnd) => Some("machine_end_beep"),
        (Answer::Fax { .. }, _) => Some("fax"),
        // A silent pick-up or a greeting too short to judge: AMD cannot tell.
        (Answer::QuietHuman { .. } | Answer::ShortGreeting { .. }, _) => Some("unknown"),
        _ => Some("unknown"),
    }
}

/// The digits a Gather takes of what the party keys in: at most `numDigits`, up to the
/// `finishOnKey`.
fn keyed(mut digits: String, gather: &Gather) -> String {
    if let Some(n) = gather.num_digits {
        digits = digits.chars().take(n).collect();
    }
    if !gather.finish_on_key.is_empty()
        && let Some(cut) = digits.find(gather.finish_on_key.as_str())
    {
        digits.truncate(cut);
    }
    digits
}

/// Twilio's snake_cased call parameters, as `<Enqueue>` adds them to task attributes.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl State {
    fn log(&mut self, sid: &str, what: impl AsRef<str>) {
        let line = format!("{} {}", short(sid), what.as_ref());
        if self.standalone {
            tracing::info!(call = %redact(&line), "simulated call");
        }
        self.call_log.push(line);
    }

    fn live(&self, sid: &str) -> bool {
        self.calls
            .get(sid)
            .is_some_and(|c| !FINAL.contains(&c.status.as_str()))
    }

    /// Whether an answer made in `epoch` still concerns the call.
    fn current(&self, sid: &str, epoch: u64) -> bool {
        self.live(sid) && self.calls.get(sid).is_some_and(|c| c.voice.epoch == epoch)
    }

    fn voice_mut(&mut self, sid: &str) -> Option<&mut Voice> {
        self.calls.get_mut(sid).map(|c| &mut c.voice)
    }

    /// The parameters of every TwiML request about a call.
    fn call_params(&self, call: &Call) -> Params {
        let mut params = Params::new();
        push(&mut params, "CallSid", &call.sid);
        push(&mut params, "AccountSid", &self.account_sid);
        push(&mut params, "From", &call.from);
        push(&mut params, "To", &call.to);
        push(&mut params, "CallStatus", &call.status);
        push(&mut params, "ApiVersion", "2010-04-01");
        push(&mut params, "Direction", &call.direction);
        push(&mut params, "Caller", &call.from);
        push(&mut params, "Called", &call.to);
        if let Some(parent) = &call.parent_call_sid {
            push(&mut params, "ParentCallSid", parent);
        }
        for (prefix, number) in [("From", &call.from), ("To", &call.to)] {
            if let Some((city, state)) = crate::geo::place(number) {
                push(&mut params, &format!("{prefix}City"), city);
                push(&mut params, &format!("{prefix}State"), state);
                push(&mut params, &format!("{prefix}Country"), "US");
            }
        }
        params
    }

    /// Queues a request about `sid` to `url` with the call's parameters plus `extra`.
    fn request(&mut self, sid: &str, kind: &str, url: String, extra: Params, then: Then) {
        let Some(call) = self.calls.get(sid) else {
            return;
        };
        let mut params = self.call_params(call);
        params.extend(extra);
        self.outbox.push(Callback {
            kind: kind.to_string(),
            url,
            fallback_url: None,
            params,
            then: Some(then),
        });
    }

    /// Fetches the next TwiML document of a call (resolved against the current one).
    fn fetch(&mut self, sid: &str, url: &str, extra: Params) {
        let now = self.now();
        let Some(voice) = self.voice_mut(sid) else {
            return;
        };
        if voice.burst.0 == Some(now) {
            voice.burst.1 += 1;
        } else {
            voice.burst = (Some(now), 1);
        }
        if voice.burst.1 > MAX_DOCUMENTS_AT_ONCE {
            self.log(
                sid,
                format!("error: {MAX_DOCUMENTS_AT_ONCE} TwiML documents without time passing (a redirect loop?)"),
            );
            return self.end_call(sid, "completed");
        }
        let Some(call) = self.calls.get(sid) else {
            return;
        };
        let epoch = call.voice.epoch;
        let url = resolve(call.voice.doc_url.as_deref(), url);
        let then = Then::Run {
            call: sid.to_string(),
            epoch,
        };
        self.request(sid, "twiml", url, extra, then);
    }

    /// Ends a call with an application error, as Twilio does after its "an application
    /// error has occurred" message.
    fn app_error(&mut self, sid: &str, code: u32, message: &str) {
        self.log(sid, format!("error {code}: {message}"));
        self.end_call(sid, "completed");
    }

    /// Posts a status callback for `event` if the call asked for it.
    fn status_event(&mut self, sid: &str, event: &str) {
        let now = self.now();
        let Some(call) = self.calls.get_mut(sid) else {
            return;
        };
        let voice = &mut call.voice;
        let Some(url) = voice.status_callback.clone() else {
            return;
        };
        if !voice.status_events.iter().any(|e| e == event) {
            return;
        }
        let sequence = voice.sequence;
        voice.sequence += 1;
        let call = &self.calls[sid];
        let mut params = self.call_params(call);
        if event == "initiated" {
            params
                .iter_mut()
                .filter(|(k, _)| k == "CallStatus")
                .for_each(|(_, v)| *v = "initiated".into());
        }
        push(&mut params, "CallbackSource", "call-progress-events");
        push(&mut params, "SequenceNumber", sequence.to_string());
        push(&mut params, "Timestamp", rfc2822(now));
        if event == "completed" {
            push(
                &mut params,
                "CallDuration",
                call.voice.duration(now).to_string(),
            );
        }
        if matches!(event, "answered" | "completed")
            && let Some(answered_by) = &call.voice.answered_by
        {
            push(&mut params, "AnsweredBy", answered_by);
        }
        self.outbox.push(Callback {
            kind: format!("status {event}"),
            url,
            fallback_url: None,
            params,
            then: Some(Then::Notify {
                call: sid.to_string(),
            }),
        });
    }

    /// A call just created over REST starts ringing the scripted phone on `To`.
    pub(crate) fn start_outbound(&mut self, sid: &str) {
        let Some(call) = self.calls.get(sid) else {
            return;
        };
        let param = |name: &str| {
            call.params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
        };
        let mut events: Vec<String> = call
            .params
            .iter()
            .filter(|(k, _)| k == "StatusCallbackEvent")
            .flat_map(|(_, v)| v.split([' ', ',']).map(str::to_ascii_lowercase))
            .filter(|e| !e.is_empty())
            .collect();
        if events.is_empty() {
            events.push("completed".into());
        }
        let timeout = param("Timeout")
            .and_then(|t| t.parse::<u32>().ok())
            .map_or(60, |t| t.clamp(1, 600));
        let amd = match param("MachineDetection").as_deref() {
            _ if param("SendDigits").is_some() => Amd::Off,
            Some("Enable") => Amd::Enable,
            Some("DetectMessageEnd") => Amd::DetectMessageEnd,
            _ => Amd::Off,
        };
        let async_amd = param("AsyncAmd").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let async_callback = param("AsyncAmdStatusCallback").filter(|v| !v.is_empty());
        let status_callback = param("StatusCallback").filter(|v| !v.is_empty());
        let party = self.phones.next(&call.to).unwrap_or(Answer::NoAnswer);
        let Some(voice) = self.voice_mut(sid) else {
            return;
        };
        voice.party = party;
        voice.amd = amd;
        voice.async_amd = async_amd;
        voice.async_amd_callback = async_callback.filter(|_| async_amd && amd != Amd::Off);
        voice.status_callback = status_callback;
        voice.status_events = events;
        self.status_event(sid, "initiated");
        self.ring(sid, timeout);
    }

    /// Rings the call's party: a busy or failing phone ends the call at once, anyone
    /// else rings until they pick up (`Timer::Answer`) or `timeout` seconds pass.
    pub(crate) fn ring(&mut self, sid: &str, timeout: u32) {
        let now = self.now();
        let Some(call) = self.calls.get_mut(sid) else {
            return;
        };
        call.voice.ring_timeout = timeout;
        let (from, to, party) = (call.from.clone(), call.to.clone(), call.voice.party.clone());
        match party {
            Answer::Busy => {
                self.log(sid, format!("{from} -> {to}: busy"));
                self.end_call(sid, "busy");
            }
            Answer::Fail => {
                self.log(sid, format!("{from} -> {to}: failed"));
                self.end_call(sid, "failed");
            }
            _ => {
                self.log(sid, format!("{from} -> {to}: ringing"));
                let after = match party {
                    Answer::Human { after_secs, .. }
                    | Answer::QuietHuman { after_secs, .. }
                    | Answer::Voicemail { after_secs }
                    | Answer::ShortGreeting { after_secs }
                    | Answer::Fax { after_secs } => Some(after_secs),
                    _ => None,
                };
                let timer = match after {
                    Some(after) if after < timeout => {
                        (now + TimeDelta::seconds(after.into()), Timer::Answer)
                    }
                    _ => (now + TimeDelta::seconds(timeout.into()), Timer::RingTimeout),
                };
                if let Some(call) = self.calls.get_mut(sid) {
                    call.status = "ringing".into();
                    call.date_updated = now;
                    call.voice.phase = Phase::Ringing;
                    call.voice.timer = Some(timer);
                }
                self.status_event(sid, "ringing");
            }
        }
    }

    /// A customer calls shiftline: the call's voice URL is fetched at once.
    pub(crate) fn place_call(&mut self, from: &str, to: &str, url: &str) -> String {
        let now = self.now();
        let sid = self.next_sid("CA");
        let party = self
            .phones
            .next(from)
            .unwrap_or_else(Answer::default_caller);
        self.calls.insert(
            sid.clone(),
            Call {
                sid: sid.clone(),
                to: to.to_string(),
                from: from.to_string(),
                direction: "inbound".into(),
                status: "ringing".into(),
                url: Some(url.to_string()),
                twiml: None,
                params: Vec::new(),
                updates: Vec::new(),
                parent_call_sid: None,
                date_created: now,
                date_updated: now,
                voice: Voice {
                    party,
                    ..Voice::default()
                },
            },
        );
        self.log(&sid, format!("{from} -> {to} inbound: ringing"));
        self.fetch(&sid, url, Params::new());
        sid
    }

    /// Fires the call timers due at the clock's now, earliest first.
    pub(crate) fn tick_calls(&mut self) {
        // Bounded: a timer only ever sets a later one, but never loop forever on a bug.
        for _ in 0..10_000 {
            let now = self.now();
            let due = self
                .calls
                .values()
                .filter_map(|c| {
                    let (at, timer) = c.voice.timer?;
                    (at <= now).then(|| (at, c.sid.clone(), timer))
                })
                .min();
            let Some((_, sid, timer)) = due else {
                return;
            };
            if let Some(voice) = self.voice_mut(&sid) {
                voice.timer = None;
            }
            match timer {
                Timer::Answer => self.answer(&sid),
                Timer::RingTimeout => self.end_call(&sid, "no-answer"),
                Timer::GatherTimeout => self.gather_timed_out(&sid),
                Timer::TalkEnds => self.end_call(&sid, "completed"),
            }
        }
    }

    /// The scripted phone picks up: AMD, the `answered` callback, then the call's TwiML.
    fn answer(&mut self, sid: &str) {
        let now = self.now();
        let Some(call) = self.calls.get_mut(sid) else {
            return;
        };
        if call.voice.dial.is_some() {
            return self.connect_dial_leg(sid);
        }
        call.status = "in-progress".into();
        call.date_updated = now;
        let voice = &mut call.voice;
        voice.phase = Phase::Active;
        voice.answered_at = Some(now);
        let verdict = verdict(&voice.party, voice.amd);
        voice.answered_by = verdict.map(str::to_string);
        voice.amd_pending = voice.async_amd_callback.is_some();
        let sync_amd = verdict.filter(|_| !voice.async_amd);
        let who = voice.party.who();
        let (url, twiml) = (call.url.clone(), call.twiml.clone());
        self.log(sid, format!("answered by {who}"));
        if let Some(verdict) = sync_amd {
            self.log(sid, format!("AMD: {verdict}"));
        }
        self.status_event(sid, "answered");
        let mut extra = Params::new();
        if let Some(verdict) = sync_amd {
            push(&mut extra, "AnsweredBy", verdict);
        }
        match (url, twiml) {
            (Some(url), _) => self.fetch(sid, &url, extra),
            (None, Some(twiml)) => self.load(sid, &twiml, None),
            (None, None) => self.app_error(sid, 21205, "ApplicationSid is not simulated"),
        }
    }

    /// shiftline answered a voice request.
    pub(crate) fn on_reply(&mut self, reply: Reply) {
        match reply.then.clone() {
            Then::Run { call, epoch } => {
                if !self.current(&call, epoch) {
                    return;
                }
                if !ok(reply.status) {
                    let message = self.http_failure(&reply.url, reply.status);
                    self.app_error(&call, 11200, &message);
                    return;
                }
                self.load(&call, &reply.body, Some(reply.url));
            }
            Then::Listen { call, epoch } => {
                if !self.current(&call, epoch) {
                    return;
                }
                if !ok(reply.status) {
                    let message = self.http_failure(&reply.url, reply.status);
                    self.log(&call, format!("warning 11200: {message}"));
                    return;
                }
                match twiml::parse(&reply.body) {
                    Ok(verbs) => {
                        for verb in verbs {
                            match verb {
                                Verb::Gather(gather) => {
                                    for prompt in gather.prompts {
                                        self.play(&call, prompt);
                                    }
                                }
                                other if !other.blocks() => self.play(&call, other),
                                _ => {}
                            }
                        }
                    }
                    Err(error) => self.log(&call, format!("warning 12100: {error}")),
                }
            }
            Then::Wait { call, epoch, queue } => self.on_wait_reply(&call, epoch, &queue, reply),
            Then::Resume { call, epoch } => {
                if self.current(&call, epoch) {
                    self.run(&call);
                }
            }
            Then::Notify { call } => {
                if !ok(reply.status) {
                    let message = self.http_failure(&reply.url, reply.status);
                    self.log(&call, format!("callback error 11200: {message}"));
                }
            }
        }
    }

    fn http_failure(&self, url: &str, status: Option<u16>) -> String {
        match status {
            Some(status) => format!("HTTP {status} from {}", shown(url)),
            None => format!("no answer from {}", shown(url)),
        }
    }

    /// Makes `body` the call's document and runs it.
    fn load(&mut self, sid: &str, body: &str, url: Option<String>) {
        let verbs = match twiml::parse(body) {
            Ok(verbs) => verbs,
            Err(error) => return self.app_error(sid, 12100, &error),
        };
        let now = self.now();
        let Some(call) = self.calls.get_mut(sid) else {
            return;
        };
        if call.status == "ringing" {
            // An inbound call is answered by its first document.
            call.status = "in-progress".into();
            call.date_updated = now;
            call.voice.answered_at = Some(now);
        }
        call.voice.program = verbs.into();
        call.voice.doc_url = url;
        call.voice.phase = Phase::Active;
        self.run(sid);
    }

    /// Logs what the party hears.
    fn play(&mut self, sid: &str, verb: Verb) {
        match verb {
            Verb::Say { text, language } => match language {
                Some(language) => self.log(sid, format!("hears {text:?} ({language})")),
                None => self.log(sid, format!("hears {text:?}")),
            },
            Verb::Play { url } => self.log(sid, format!("hears audio {}", shown(&url))),
            Verb::Unsupported(name) => {
                self.log(sid, format!("warning 12200: <{name}> is not simulated"));
            }
            _ => {}
        }
    }

    /// Runs the call's document until it waits, leaves or ends.
    fn run(&mut self, sid: &str) {
        loop {
            let Some(call) = self.calls.get_mut(sid) else {
                return;
            };
            if FINAL.contains(&call.status.as_str()) {
                return;
            }
            let voice = &mut call.voice;
            let verb = voice.program.pop_front();
            if voice.amd_pending && verb.as_ref().is_none_or(Verb::blocks) {
                // The asynchronous verdict comes once the prompts before the first verb
                // that waits have played (a Gather's own prompts included): before any
                // digits are posted. The verb runs when shiftline has answered it.
                let verb = match verb {
                    Some(Verb::Gather(mut gather)) => {
                        for prompt in std::mem::take(&mut gather.prompts) {
                            self.play(sid, prompt);
                        }
                        Some(Verb::Gather(gather))
                    }
                    other => other,
                };
                if let Some(verb) = verb
                    && let Some(voice) = self.voice_mut(sid)
                {
                    voice.program.push_front(verb);
                }
                self.post_async_amd(sid);
                return;
            }
            let Some(verb) = verb else {
                self.end_call(sid, "completed");
                return;
            };
            match verb {
                Verb::Say { .. } | Verb::Play { .. } | Verb::Unsupported(_) => self.play(sid, verb),
                Verb::Pause { .. } | Verb::Leave => {}
                Verb::Gather(gather) => return self.gather(sid, gather),
                Verb::Redirect { url } => return self.fetch(sid, &url, Params::new()),
                Verb::Hangup => return self.end_call(sid, "completed"),
                Verb::Reject { reason } => {
                    let status = if reason == "busy" {
                        "busy"
                    } else {
                        "no-answer"
                    };
                    self.log(sid, format!("rejected ({reason})"));
                    return self.end_call(sid, status);
                }
                Verb::Enqueue(enqueue) => return self.enqueue(sid, enqueue),
                Verb::Dial(dial) => {
                    if self.dial(sid, dial) {
                        return;
                    }
                }
                Verb::Record(record) => return self.record(sid, record),
            }
        }
    }

    fn post_async_amd(&mut self, sid: &str) {
        let Some(call) = self.calls.get_mut(sid) else {
            return;
        };
        call.voice.amd_pending = false;
        let (Some(url), Some(verdict)) = (
            call.voice.async_amd_callback.clone(),
            call.voice.answered_by.clone(),
        ) else {
            return self.run(sid);
        };
        let epoch = call.voice.epoch;
        let millis = DETECTION_MS
            .iter()
            .find(|(v, _)| *v == verdict)
            .map_or(5000, |(_, ms)| *ms);
        let mut params = Params::new();
        push(&mut params, "CallSid", sid);
        push(&mut params, "AccountSid", &self.account_sid);
        push(&mut params, "AnsweredBy", &verdict);
        push(&mut params, "MachineDetectionDuration", millis.to_string());
        self.log(sid, format!("AMD: {verdict}"));
        self.outbox.push(Callback {
            kind: "amd".into(),
            url,
            fallback_url: None,
            params,
            then: Some(Then::Resume {
                call: sid.to_string(),
                epoch,
            }),
        });
    }

    fn gather(&mut self, sid: &str, gather: Gather) {
        for prompt in gather.prompts.clone() {
            self.play(sid, prompt);
        }
        let now = self.now();
        let Some(voice) = self.voice_mut(sid) else {
            return;
        };
        let digits = voice.party.digits_at(voice.gathers_reached);
        voice.gathers_reached += 1;
        let Some(digits) = digits else {
            voice.timer = Some((
                now + TimeDelta::seconds(gather.timeout.into()),
                Timer::GatherTimeout,
            ));
            voice.phase = Phase::Gathering(gather);
            return;
        };
        let digits = keyed(digits, &gather);
        let action = gather.action.clone().or_else(|| voice.doc_url.clone());
        self.log(sid, format!("presses {digits}"));
        self.gather_action(sid, action, digits);
    }

    fn gather_action(&mut self, sid: &str, action: Option<String>, digits: String) {
        match action {
            Some(action) => self.fetch(sid, &action, vec![("Digits".into(), digits)]),
            None => self.app_error(sid, 11100, "a <Gather> without action in inline TwiML"),
        }
    }

    fn gather_timed_out(&mut self, sid: &str) {
        let Some(voice) = self.voice_mut(sid) else {
            return;
        };
        let Phase::Gathering(gather) = std::mem::replace(&mut voice.phase, Phase::Active) else {
            return;
        };
        let action = gather.action.clone().or_else(|| voice.doc_url.clone());
        self.log(sid, "presses nothing");
        if gather.action_on_empty_result {
            self.gather_action(sid, action, String::new());
        } else {
            self.run(sid);
        }
    }

    /// `<Enqueue workflowSid>`: the caller waits behind a new TaskRouter task.
    fn enqueue(&mut self, sid: &str, enqueue: Enqueue) {
        let Some(workflow_sid) = enqueue.workflow_sid.filter(|w| !w.is_empty()) else {
            let name = enqueue.name;
            return self.app_error(
                sid,
                12200,
                &format!(
                    "<Enqueue> into a plain queue ({name:?}) is not simulated: use workflowSid"
                ),
            );
        };
        let task = enqueue.task.unwrap_or(twiml::TaskNoun {
            attributes: "{}".into(),
            priority: None,
            timeout: None,
        });
        let mut attributes = match serde_json::from_str::<Value>(&task.attributes) {
            Ok(Value::Object(map)) => map,
            _ => {
                return self.app_error(sid, 12100, "the <Task> of <Enqueue> is not a JSON object");
            }
        };
        let Some(call) = self.calls.get(sid) else {
            return;
        };
        for (name, value) in self.call_params(call) {
            attributes.insert(snake(&name), Value::String(value));
        }
        if self.workflow(&workflow_sid).is_err() {
            return self.app_error(
                sid,
                12200,
                &format!("workflowSid {workflow_sid} is not a Workflow"),
            );
        }
        let position = 1 + self
            .calls
            .values()
            .filter(|c| {
                !FINAL.contains(&c.status.as_str())
                    && matches!(&c.voice.phase, Phase::Enqueued { workflow_sid: w, .. } if *w == workflow_sid)
            })
            .count();
        let queue_sid = match self.voice_queues.get(&workflow_sid) {
            Some(sid) => sid.clone(),
            None => {
                let queue = self.next_sid("QU");
                self.voice_queues
                    .insert(workflow_sid.clone(), queue.clone());
                queue
            }
        };
        self.log(sid, format!("waits in queue (position {position})"));
        match enqueue.wait_url.as_deref() {
            None => self.log(sid, "hears hold music"),
            Some("") => {}
            Some(wait_url) => {
                let Some(call) = self.calls.get(sid) else {
                    return;
                };
                let url = resolve(call.voice.doc_url.as_deref(), wait_url);
                let queue = vec![
                    ("QueuePosition".to_string(), position.to_string()),
                    ("QueueSid".to_string(), queue_sid.clone()),
                    ("QueueTime".to_string(), "0".to_string()),
                    ("AvgQueueTime".to_string(), "0".to_string()),
                    ("CurrentQueueSize".to_string(), position.to_string()),
                    ("MaxQueueSize".to_string(), "100".to_string()),
                ];
                let then = Then::Wait {
                    call: sid.to_string(),
                    epoch: call.voice.epoch,
                    queue: queue.clone(),
                };
                self.request(sid, "wait", url, queue, then);
            }
        }
        let created = self.create_task(
            &workflow_sid,
            Value::Object(attributes).to_string(),
            task.priority.unwrap_or(0),
            task.timeout.unwrap_or(86_400),
        );
        match created {
            Ok(task_sid) => {
                let now = self.now();
                if let Some(voice) = self.voice_mut(sid) {
                    voice.phase = Phase::Enqueued {
                        task_sid,
                        workflow_sid,
                        action: enqueue.action,
                        queue_sid,
                        since: now,
                    };
                }
            }
            Err(error) => self.app_error(sid, 12200, &error.message),
        }
    }

    /// `<Dial>`; whether the call now waits on it (a bridge, a number ringing). A failed
    /// dial of a queue logs why and lets the document go on.
    fn dial(&mut self, sid: &str, dial: Dial) -> bool {
        match dial.target {
            DialTarget::Queue {
                reservation_sid: Some(reservation),
                post_work_activity_sid,
                url,
                ..
            } => self.dial_queue(sid, &reservation, post_work_activity_sid, url),
            DialTarget::Number(number) => {
                let options = dial::Options {
                    caller_id: dial.caller_id,
                    action: dial.action,
                    timeout: dial.timeout,
                };
                self.dial_number(sid, number, options);
                true
            }
            DialTarget::Queue { name, .. } => {
                self.log(
                    sid,
                    format!(
                        "dial failed: <Queue>{name}</Queue> without reservationSid is not simulated"
                    ),
                );
                false
            }
            DialTarget::Other(what) => {
                self.log(sid, format!("dial failed: {what} is not simulated"));
                false
            }
        }
    }

    /// `<Dial><Queue reservationSid>`: accepts the reservation and bridges the caller
    /// waiting behind its task; whether it did.
    fn dial_queue(
        &mut self,
        sid: &str,
        reservation_sid: &str,
        post_work_activity_sid: Option<String>,
        queue_url: Option<String>,
    ) -> bool {
        let shown_reservation = short(reservation_sid);
        let Some(reservation) = self.reservations.get(reservation_sid) else {
            self.log(
                sid,
                format!("dial failed: no reservation {shown_reservation}"),
            );
            return false;
        };
        let (task_sid, worker_sid, status) = (
            reservation.task_sid.clone(),
            reservation.worker_sid.clone(),
            reservation.status,
        );
        if status.as_str() != "pending" {
            self.log(
                sid,
                format!(
                    "dial failed: reservation {shown_reservation} is {}",
                    status.as_str()
                ),
            );
            return false;
        }
        let customer = self
            .calls
            .values()
            .find(|c| {
                !FINAL.contains(&c.status.as_str())
                    && matches!(&c.voice.phase, Phase::Enqueued { task_sid: t, .. } if *t == task_sid)
            })
            .map(|c| c.sid.clone());
        let Some(customer) = customer else {
            self.log(
                sid,
                format!("dial failed: nobody waits for reservation {shown_reservation}"),
            );
            return false;
        };
        if let Err(error) = self.update_reservation(reservation_sid, "accepted", None) {
            self.log(sid, format!("dial failed: {}", error.message));
            return false;
        }
        self.log(
            sid,
            format!(
                "bridged with {} (reservation {shown_reservation} accepted)",
                short(&customer)
            ),
        );
        if let Some(url) = queue_url {
            let doc_url = self.calls.get(sid).and_then(|c| c.voice.doc_url.clone());
            let url = resolve(doc_url.as_deref(), &url);
            let epoch = self.calls.get(&customer).map_or(0, |c| c.voice.epoch);
            let extra = vec![
                ("QueueSid".to_string(), String::new()),
                ("QueueTime".to_string(), "0".to_string()),
                ("DequeingCallSid".to_string(), sid.to_string()),
            ];
            let then = Then::Listen {
                call: customer.clone(),
                epoch,
            };
            self.request(&customer, "queue-url", url, extra, then);
        }
        let talk = [sid, customer.as_str()]
            .iter()
            .find_map(|s| self.calls.get(*s).and_then(|c| c.voice.party.talk_secs()))
            .unwrap_or(60);
        let now = self.now();
        for (leg, other) in [(sid, customer.as_str()), (customer.as_str(), sid)] {
            if let Some(voice) = self.voice_mut(leg) {
                voice.phase = Phase::Bridged {
                    other: other.to_string(),
                    task_sid: task_sid.clone(),
                    worker_sid: worker_sid.clone(),
                    post_work_activity_sid: post_work_activity_sid.clone(),
                };
                voice.timer = None;
            }
        }
        if let Some(voice) = self.voice_mut(sid) {
            voice.timer = Some((now + TimeDelta::seconds(talk.into()), Timer::TalkEnds));
        }
        true
    }

    /// `<Record>`: the party leaves a voicemail and hangs up.
    fn record(&mut self, sid: &str, record: Record) {
        let Some(call) = self.calls.get(sid) else {
            return;
        };
        let seconds = call
            .voice
            .party
            .talk_secs()
            .unwrap_or(10)
            .min(record.max_length);
        let doc_url = call.voice.doc_url.clone();
        let action = record.action.clone().or_else(|| doc_url.clone());
        let recording_sid = self.next_sid("RE");
        let url = format!("{}/recordings/{recording_sid}", self.base_url);
        self.log(sid, format!("records a voicemail ({seconds} s)"));
        let now = self.now();
        self.recordings.push(Recording {
            sid: recording_sid.clone(),
            call_sid: sid.to_string(),
            url: url.clone(),
            duration: seconds,
            date_created: now,
            transcription: None,
        });
        if let Some(action) = action {
            let action = resolve(doc_url.as_deref(), &action);
            let extra = vec![
                ("RecordingUrl".to_string(), url.clone()),
                ("RecordingDuration".to_string(), seconds.to_string()),
                ("RecordingSid".to_string(), recording_sid.clone()),
                ("Digits".to_string(), "hangup".to_string()),
            ];
            let Some(mut params) = self.hung_up_params(sid) else {
                return;
            };
            params.extend(extra);
            // The caller has hung up: the answer is not run.
            self.outbox.push(Callback {
                kind: "record action".into(),
                url: action,
                fallback_url: None,
                params,
                then: Some(Then::Notify {
                    call: sid.to_string(),
                }),
            });
        }
        if let Some(callback) = record.recording_status_callback {
            let callback = resolve(doc_url.as_deref(), &callback);
            let mut params = Params::new();
            push(&mut params, "AccountSid", &self.account_sid);
            push(&mut params, "CallSid", sid);
            push(&mut params, "RecordingSid", &recording_sid);
            push(&mut params, "RecordingUrl", &url);
            push(&mut params, "RecordingStatus", "completed");
            push(&mut params, "RecordingDuration", seconds.to_string());
            push(&mut params, "RecordingChannels", "1");
            push(&mut params, "RecordingSource", "RecordVerb");
            self.outbox.push(Callback {
                kind: "recording".into(),
                url: callback,
                fallback_url: None,
                params,
                then: Some(Then::Notify {
                    call: sid.to_string(),
                }),
            });
        }
        if record.transcribe {
            let callback = record
                .transcribe_callback
                .map(|c| resolve(doc_url.as_deref(), &c));
            self.transcribe(sid, &recording_sid, callback);
        }
        self.end_call(sid, "completed");
    }

    /// A call's parameters as it hangs up (`CallStatus=completed`), for the requests
    /// that follow a `<Record>`.
    fn hung_up_params(&self, sid: &str) -> Option<Params> {
        let mut params = self.call_params(self.calls.get(sid)?);
        params
            .iter_mut()
            .filter(|(k, _)| k == "CallStatus")
            .for_each(|(_, v)| *v = "completed".into());
        Some(params)
    }

    /// Ends a call with `status`, with what that means for its queue or bridge: a
    /// waiting caller's task is canceled, a bridge ends both legs and completes the task.
    pub(crate) fn end_call(&mut self, sid: &str, status: &str) {
        let now = self.now();
        let Some(call) = self.calls.get_mut(sid) else {
            return;
        };
        if FINAL.contains(&call.status.as_str()) {
            return;
        }
        call.status = status.to_string();
        call.date_updated = now;
        let voice = &mut call.voice;
        voice.ended_at = Some(now);
        voice.timer = None;
        voice.epoch += 1;
        voice.program.clear();
        voice.amd_pending = false;
        let phase = std::mem::replace(&mut voice.phase, Phase::Ended);
        let dial_leg = voice.dial.is_some();
        let talked = voice.duration(now);
        match status {
            // A dialled number's talk time is what the dialling call is told.
            "completed" if dial_leg && phase == Phase::Talking => {
                self.log(sid, format!("completed (talked {talked} s)"));
            }
            "completed" => self.log(sid, "completed"),
            _ => self.log(sid, format!("completed ({status})")),
        }
        self.status_event(sid, "completed");
        if dial_leg {
            self.dial_leg_ended(sid, status);
        }
        match phase {
            Phase::Enqueued { task_sid, .. } => self.leave_queue(&task_sid, "hangup"),
            Phase::Dialing { child } => self.hang_up_dial_leg(&child),
            Phase::Bridged {
                other,
                task_sid,
                worker_sid,
                post_work_activity_sid,
            } => {
                self.end_call(&other, "completed");
                self.end_bridge(&task_sid, &worker_sid, post_work_activity_sid.as_deref());
            }
            _ => {}
        }
    }

    /// A waiting caller left: its task is canceled (with its pending reservation).
    fn leave_queue(&mut self, task_sid: &str, reason: &str) {
        let open = self
            .tasks
            .get(task_sid)
            .is_some_and(|t| matches!(t.status, TaskStatus::Pending | TaskStatus::Reserved));
        if open {
            self.cancel_task(task_sid, reason);
            self.route_pending();
        }
    }

    /// A bridged call is over: the task completes and the worker moves to the
    /// post-work activity.
    fn end_bridge(&mut self, task_sid: &str, worker_sid: &str, post_work: Option<&str>) {
        let assigned = self
            .tasks
            .get(task_sid)
            .is_some_and(|t| t.status == TaskStatus::Assigned);
        if !assigned {
            return;
        }
        self.complete_task(task_sid, "call completed");
        if let Some(activity) = post_work.filter(|a| self.activities.contains_key(*a)) {
            self.set_worker_activity(worker_sid, activity);
        }
        self.route_pending();
    }

    /// `hang_up`: the person on the call hangs up (declines, while it rings).
    pub(crate) fn hang_up(&mut self, sid: &str) {
        let Some(call) = self.calls.get(sid) else {
            return;
        };
        if FINAL.contains(&call.status.as_str()) {
            return;
        }
        let declined = call.direction != "inbound" && call.voice.phase == Phase::Ringing;
        self.log(sid, "hangs up");
        self.end_call(sid, if declined { "busy" } else { "completed" });
    }

    /// `POST /Calls/{sid}.json` after validation: hang up, cancel or redirect.
    pub(crate) fn rest_update(
        &mut self,
        sid: &str,
        status: Option<&str>,
        url: Option<&str>,
        twiml: Option<&str>,
    ) {
        let Some(call) = self.calls.get(sid) else {
            return;
        };
        let ringing = matches!(call.status.as_str(), "queued" | "ringing");
        match status {
            Some("canceled") if ringing => {
                self.log(sid, "canceled over REST");
                self.end_call(sid, "canceled");
            }
            // Twilio ignores a cancel once the call is answered.
            Some("canceled") => {}
            Some(_) => {
                self.log(sid, "hung up over REST");
                self.end_call(sid, "completed");
            }
            // A ringing call keeps the new URL for when it is answered.
            None if ringing => {}
            None => {
                if url.is_none() && twiml.is_none() {
                    return;
                }
                self.log(sid, "redirected over REST");
                self.interrupt(sid, "redirected");
                match (url, twiml) {
                    (Some(url), _) => self.fetch(sid, url, Params::new()),
                    (None, Some(twiml)) => self.load(sid, twiml, None),
                    (None, None) => {}
                }
            }
        }
    }

    /// Stops whatever a live call was doing: a waiting caller leaves the queue (its task
    /// canceled with `reason`), a bridge ends (the other leg hangs up).
    fn interrupt(&mut self, sid: &str, reason: &str) {
        let Some(voice) = self.voice_mut(sid) else {
            return;
        };
        voice.epoch += 1;
        voice.timer = None;
        voice.program.clear();
        let phase = std::mem::replace(&mut voice.phase, Phase::Active);
        match phase {
            Phase::Enqueued { task_sid, .. } => {
                self.log(sid, format!("leaves the queue ({reason})"));
                self.leave_queue(&task_sid, reason);
            }
            Phase::Dialing { child } => self.hang_up_dial_leg(&child),
            // The dialled number's call is moved elsewhere: for the caller the Dial is over.
            Phase::Talking => self.dial_leg_ended(sid, "completed"),
            Phase::Bridged {
                other,
                task_sid,
                worker_sid,
                post_work_activity_sid,
            } => {
                self.end_call(&other, "completed");
                self.end_bridge(&task_sid, &worker_sid, post_work_activity_sid.as_deref());
            }
            _ => {}
        }
    }

    /// A customer call known only from its task (`Simulator::create_task`) waits in that
    /// task's queue.
    pub(crate) fn wait_in_queue(&mut self, call_sid: &str, task_sid: &str) {
        let Some(workflow_sid) = self.tasks.get(task_sid).map(|t| t.workflow_sid.clone()) else {
            return;
        };
        let now = self.now();
        if let Some(voice) = self.voice_mut(call_sid) {
            voice.phase = Phase::Enqueued {
                task_sid: task_sid.to_string(),
                workflow_sid,
                action: None,
                queue_sid: String::new(),
                since: now,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulator_sids_are_shortened_and_others_kept() {
        assert_eq!(short("CA00000000000000000000000000000001"), "CA..01");
        assert_eq!(short("WR000000000000000000000000000000a2"), "WR..a2");
        assert_eq!(short("CA00000000000000000000000000000100"), "CA..100");
        assert_eq!(
            short("CA0123456789abcdef0123456789abcdef"),
            "CA0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn call_parameters_are_snake_cased_for_task_attributes() {
        assert_eq!(snake("CallSid"), "call_sid");
        assert_eq!(snake("From"), "from");
        assert_eq!(snake("ApiVersion"), "api_version");
    }

    #[test]
    fn relative_twiml_urls_resolve_against_the_document() {
        assert_eq!(
            resolve(Some("http://127.0.0.1:9/twilio/voice/a?x=1"), "/b"),
            "http://127.0.0.1:9/b"
        );
        assert_eq!(
            resolve(Some("http://127.0.0.1:9/twilio/voice/a"), "c"),
            "http://127.0.0.1:9/twilio/voice/c"
        );
        assert_eq!(resolve(None, "https://x.test/y"), "https://x.test/y");
        assert_eq!(shown("http://127.0.0.1:9/twilio/a?b=c"), "/twilio/a?b=c");
    }
}
