//! The dispatcher's decisions: what to do with one event about one reservation.
//!
//! When TaskRouter reserves a worker, shiftline calls the worker's own phone and must be sure
//! a person (not a voicemail box) took the call before bridging the customer. Every event
//! about that call (the call started, it was answered with an AMD verdict, a key was
//! pressed, it ended, the reservation ended elsewhere) goes through `decide`, a pure
//! function of `(dispatch record, worker record, event, now)` that returns the new records,
//! the TwiML to answer with and the commands for the outbox. The lifecycle itself is the
//! rust-fsm table in `machine`.
//!
//! Missed calls (busy, no answer, failed, a machine, no key) count against the worker: each
//! one rests them for a cool-down (TaskRouter activity Unavailable, so the same call is not
//! offered straight back); after `missed_calls_before_offline` in a row they are taken
//! offline and told by SMS. An answered call resets the count.
//!
//! AMD is a help, never proof of a person: a `human` verdict bridges (confirm mode `amd`),
//! `machine` and `fax` reject, and `unknown` (short voicemail greetings often end there)
//! asks for 1 in every mode, like a call without AMD. The press-1 prompt names no caller;
//! only the whisper that goes with the bridge does (`whisper`).

pub mod machine;
pub mod whisper;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::core::domain::ConfirmMode;
use crate::core::domain::{
    CallSid, Locale, PhoneNumber, ReservationSid, SkillKey, TaskSid, WorkerSid,
};
use crate::core::effects::{Command, TimerEvent};
use crate::core::intake::machines::{PresenceInput, PresenceOutput, fire, presence};
use crate::core::intake::record::WorkerRecord;
use crate::core::intake::reply::{Arg, Reply};
use machine::{ReservationInput, ReservationOutput, ReservationState, reservation};
use whisper::{CallerHint, WhisperCaller, caller_hint};

/// Everything shiftline knows about one reservation it is calling a worker for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DispatchRecord {
    pub schema: u32,
    pub reservation_sid: ReservationSid,
    pub task_sid: TaskSid,
    pub worker_sid: WorkerSid,
    pub worker: PhoneNumber,
    pub skill: Option<SkillKey>,
    /// The customer's language, for the whisper; the worker's when the task has none.
    pub language: Locale,
    /// The customer's number (or whatever caller ID Twilio had).
    pub caller: String,
    pub caller_city: Option<String>,
    /// The call to the worker's phone, once Twilio has created it.
    pub call_sid: Option<CallSid>,
    pub mode: ConfirmMode,
    pub state: ReservationState,
    /// Why it ended, for operators.
    pub outcome: Option<Outcome>,
    /// The callback the worker makes, when the task is a callback request rather than a
    /// waiting caller.
    #[serde(default)]
    pub callback: Option<CallbackCall>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A callback a reserved worker is to make: once a person takes the call, shiftline
/// accepts the reservation itself and dials the customer (no queued call to bridge).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackCall {
    pub id: String,
    pub requested_at: DateTime<Utc>,
    /// The voicemail the worker hears before the customer is dialled.
    pub recording_sid: Option<String>,
}

/// Something that happened to the reservation or its call.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Twilio created the call (the REST answer, or an initiated/ringing status callback).
    CallStarted { call_sid: CallSid },
    /// The worker's phone was answered and Twilio asks for TwiML; `answered_by` is the
    /// synchronous AMD verdict, absent without synchronous AMD.
    Answered {
        call_sid: CallSid,
        answered_by: Option<AnsweredBy>,
    },
    /// The asynchronous AMD verdict.
    Amd { answered_by: AnsweredBy },
    /// The worker pressed keys at the prompt (empty: nothing before the timeout).
    Keys { digits: String },
    /// The call ended, or never started.
    CallStatus { status: FinalStatus },
    /// TaskRouter ended the reservation.
    ReservationEnded { reason: EndReason },
    /// Twilio refused to place the call.
    CallFailed { error: String },
}

/// Twilio's answering machine detection verdict (`AnsweredBy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnsweredBy {
    Human,
    /// `machine_start`, `machine_end_beep`, `machine_end_silence`, `machine_end_other`.
    Machine,
    Fax,
    /// AMD could not tell: short greetings often end here, so it is never taken as a human.
    Unknown,
}

impl AnsweredBy {
    /// Twilio's value; anything it does not know is `Unknown`.
    pub fn parse(value: &str) -> Self {
        match value {
            "human" => AnsweredBy::Human,
            "fax" => AnsweredBy::Fax,
            v if v.starts_with("machine") => AnsweredBy::Machine,
            _ => AnsweredBy::Unknown,
        }
    }

    /// A short stable name, for metrics.
    pub fn name(self) -> &'static str {
        match self {
            AnsweredBy::Human => "human",
            AnsweredBy::Machine => "machine",
            AnsweredBy::Fax => "fax",
            AnsweredBy::Unknown => "unknown",
        }
    }
}

/// How a call to a worker ended (a final `CallStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalStatus {
    Busy,
    NoAnswer,
    Failed,
    Canceled,
    Completed,
}

impl FinalStatus {
    /// Twilio's status when it is final; None for queued, initiated, ringing, in-progress.
    pub fn parse(status: &str) -> Option<Self> {
        Some(match status {
            "busy" => FinalStatus::Busy,
            "no-answer" => FinalStatus::NoAnswer,
            "failed" => FinalStatus::Failed,
            "canceled" => FinalStatus::Canceled,
            "completed" => FinalStatus::Completed,
            _ => return None,
        })
    }
}

/// Why TaskRouter ended a reservation (`reservation.timeout`, `.canceled`, `.rescinded`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    Timeout,
    Canceled,
    Rescinded,
}

/// Why a reservation ended, as operators read it (stored with the record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    #[serde(rename = "bridged")]
    Bridged,
    #[serde(rename = "voicemail")]
    Voicemail,
    #[serde(rename = "fax")]
    Fax,
    #[serde(rename = "no key")]
    NoKey,
    #[serde(rename = "wrong key")]
    WrongKey,
    #[serde(rename = "busy")]
    Busy,
    #[serde(rename = "no answer")]
    NoAnswer,
    #[serde(rename = "failed")]
    Failed,
    #[serde(rename = "canceled")]
    Canceled,
    #[serde(rename = "hung up")]
    HungUp,
    #[serde(rename = "timeout")]
    Timeout,
    #[serde(rename = "rescinded")]
    Rescinded,
    #[serde(rename = "call failed")]
    CallFailed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Bridged => "bridged",
            Outcome::Voicemail => "voicemail",
            Outcome::Fax => "fax",
            Outcome::NoKey => "no key",
            Outcome::WrongKey => "wrong key",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no answer",
            Outcome::Failed => "failed",
            Outcome::Canceled => "canceled",
            Outcome::HungUp => "hung up",
            Outcome::Timeout => "timeout",
            Outcome::Rescinded => "rescinded",
            Outcome::CallFailed => "call failed",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The TwiML to answer the worker's call with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Voice {
    /// "Billing call. Press 1 to take it." Nothing about the caller: nobody is known to be
    /// listening yet, and a voicemail box would record it.
    AskKey,
    /// A short whisper, then `<Dial><Queue reservationSid>`. Only a person gets here (a
    /// human verdict or a pressed 1), so the whisper may name the caller.
    Bridge(Whisper),
    /// "Goodbye" and hang up (a wrong key, or the call is no longer wanted).
    Goodbye,
    /// Hang up without a word (a machine, or a reservation that ended).
    HangUp,
    /// No TwiML needed: a status or AMD callback.
    Nothing,
}

/// What the worker hears as they are bridged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Whisper {
    /// Say the skill too: the worker heard no press-1 prompt that named it.
    pub skill: bool,
    /// What to say about the caller, as `dispatch.whisper_caller` allows.
    pub caller: Option<CallerHint>,
}

/// An SMS to send, rendered by the shell in the reader's language.
#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    pub to: PhoneNumber,
    pub locale: Locale,
    pub reply: Reply,
}

#[derive(Clone, Debug)]
pub struct Decision {
    pub record: DispatchRecord,
    /// The worker's record when it changed.
    pub worker: Option<WorkerRecord>,
    pub voice: Voice,
    pub commands: Vec<Command>,
    pub texts: Vec<Text>,
}

/// TaskRouter's assignment callback, parsed at the edge: who was reserved for which call.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    pub reservation_sid: ReservationSid,
    pub task_sid: TaskSid,
    pub worker_sid: WorkerSid,
    /// The worker's phone (their `contact_uri`).
    pub worker: PhoneNumber,
    pub skill: Option<SkillKey>,
    /// The caller's language, when the task has one.
    pub language: Option<Locale>,
    pub caller: String,
    pub caller_city: Option<String>,
    pub callback: Option<CallbackCall>,
}

/// The record of a new reservation and the first command for it: call the worker, or
/// reject the reservation when the Worker is not one of ours (made by hand in the console).
/// None when the reservation is already recorded: TaskRouter retried the callback and the
/// call is already on its way.
pub fn assign(
    assignment: &Assignment,
    existing: Option<&DispatchRecord>,
    worker: Option<&WorkerRecord>,
    now: DateTime<Utc>,
    settings: &DispatchSettings,
    default_language: Locale,
) -> Option<(DispatchRecord, Command)> {
    if existing.is_some() {
        return None;
    }
    let record = DispatchRecord {
        schema: 1,
        reservation_sid: assignment.reservation_sid.clone(),
        task_sid: assignment.task_sid.clone(),
        worker_sid: assignment.worker_sid.clone(),
        worker: assignment.worker.clone(),
        skill: assignment.skill.clone(),
        language: assignment
            .language
            .or(worker.map(|w| w.language))
            .unwrap_or(default_language),
        caller: assignment.caller.clone(),
        caller_city: assignment.caller_city.clone(),
        call_sid: None,
        mode: settings.confirm,
        state: ReservationState::Offered,
        outcome: None,
        callback: assignment.callback.clone(),
        created_at: now,
        updated_at: now,
    };
    let command = match worker {
        Some(_) => Command::PlaceCall {
            reservation_sid: assignment.reservation_sid.clone(),
            worker: assignment.worker.clone(),
            mode: settings.confirm,
            ring_timeout_secs: settings.ring_timeout_secs,
        },
        None => Command::RejectReservation {
            task_sid: assignment.task_sid.clone(),
            reservation_sid: assignment.reservation_sid.clone(),
            worker: assignment.worker.clone(),
        },
    };
    Some((record, command))
}

/// Whether the reservation still waits for the worker's call: calling after it ended would
/// ring the worker for a caller who is gone.
pub fn still_offered(record: &DispatchRecord) -> bool {
    record.state == ReservationState::Offered
}

pub fn decide(
    record: &DispatchRecord,
    worker: Option<&WorkerRecord>,
    event: &Event,
    now: DateTime<Utc>,
    settings: &DispatchSettings,
) -> Decision {
    let mut record = record.clone();
    if let Event::CallStarted { call_sid } | Event::Answered { call_sid, .. } = event {
        record.call_sid.get_or_insert_with(|| call_sid.clone());
    }
    let (input, why) = input_for(event);
    let before = record.state;
    let (state, output) = fire::<reservation::Impl>(before, &input);
    record.state = state;
    record.updated_at = now;
    let mut step = Step {
        now,
        settings,
        worker: worker.cloned(),
        commands: Vec::new(),
        texts: Vec::new(),
    };
    let voice = match output {
        Some(ReservationOutput::AskKey) => Voice::AskKey,
        Some(ReservationOutput::Bridge) => {
            record.outcome = Some(Outcome::Bridged);
            if let Some(w) = step.worker.as_mut() {
                w.missed_calls = 0;
            }
            // A queued caller's `<Dial><Queue reservationSid>` accepts the reservation; a
            // callback has no queued caller, so shiftline accepts it.
            if record.callback.is_some() {
                step.commands.push(Command::AcceptReservation {
                    task_sid: record.task_sid.clone(),
                    reservation_sid: record.reservation_sid.clone(),
                });
            }
            Voice::Bridge(Whisper {
                skill: before != ReservationState::Answered,
                caller: caller_hint(
                    &record.caller,
                    record.caller_city.as_deref(),
                    settings.whisper_caller,
                ),
            })
        }
        Some(ReservationOutput::Reject) => {
            record.outcome = why;
            step.reject(&record);
            step.missed();
            // Only status callbacks and failures get here; they answer no TwiML.
            Voice::Nothing
        }
        Some(ReservationOutput::RejectAndHangUp) => {
            record.outcome = why;
            step.reject(&record);
            // Answering the call's own request with <Hangup/> ends it; a callback that
            // is not the call's (async AMD) needs the Calls API to end it.
            if !matches!(event, Event::Answered { .. } | Event::Keys { .. }) {
                step.hang_up(&record, false);
            }
            step.missed();
            if why == Some(Outcome::WrongKey) {
                Voice::Goodbye
            } else {
                Voice::HangUp
            }
        }
        Some(ReservationOutput::HangUp) => {
            record.outcome = why;
            step.hang_up(&record, before != ReservationState::Answered);
            // TaskRouter moved the worker to its timeout activity: rest them and come back.
            if why == Some(Outcome::Timeout) {
                step.rest();
            }
            Voice::HangUp
        }
        None if matches!(event, Event::Answered { .. } | Event::Keys { .. })
            && matches!(state, ReservationState::Missed | ReservationState::Gone) =>
        {
            Voice::HangUp
        }
        None => Voice::Nothing,
    };
    let worker_changed = step.worker.as_ref() != worker;
    if let (Some(old), Some(new)) = (worker, step.worker.as_ref())
        && let Some(sync) = WorkerRecord::sync(old, new)
    {
        // After the rejection (which already rests the worker) and before the timer.
        let at = step
            .commands
            .iter()
            .position(|c| matches!(c, Command::Timer { .. }))
            .unwrap_or(step.commands.len());
        step.commands.insert(at, sync);
    }
    Decision {
        record,
        worker: if worker_changed {
            step.worker.map(|mut w| {
                w.updated_at = now;
                w
            })
        } else {
            None
        },
        voice,
        commands: step.commands,
        texts: step.texts,
    }
}

/// The machine input for an event, and the outcome it records if it ends the reservation.
fn input_for(event: &Event) -> (ReservationInput, Option<Outcome>) {
    use ReservationInput::*;
    match event {
        Event::CallStarted { .. } => (CallStarted, None),
        Event::Answered { answered_by, .. } => match answered_by {
            Some(AnsweredBy::Human) => (PickedUpHuman, None),
            Some(AnsweredBy::Machine) => (PickedUpMachine, Some(Outcome::Voicemail)),
            Some(AnsweredBy::Fax) => (PickedUpMachine, Some(Outcome::Fax)),
            // AMD could not tell (short greetings end here), or there is no AMD: in every
            // confirm mode, `amd` included, a person must press 1.
            Some(AnsweredBy::Unknown) | None => (PickedUp, None),
        },
        Event::Amd { answered_by } => match answered_by {
            AnsweredBy::Machine => (AmdMachine, Some(Outcome::Voicemail)),
            AnsweredBy::Fax => (AmdMachine, Some(Outcome::Fax)),
            // Unknown proves nothing either way: the press-1 prompt still decides.
            AnsweredBy::Human | AnsweredBy::Unknown => (AmdHuman, None),
        },
        Event::Keys { digits } if digits.trim() == "1" => (KeyOne, None),
        Event::Keys { digits } if digits.trim().is_empty() => (OtherKey, Some(Outcome::NoKey)),
        Event::Keys { .. } => (OtherKey, Some(Outcome::WrongKey)),
        Event::CallStatus { status } => match status {
            FinalStatus::Busy => (Unanswered, Some(Outcome::Busy)),
            FinalStatus::NoAnswer => (Unanswered, Some(Outcome::NoAnswer)),
            FinalStatus::Failed => (Unanswered, Some(Outcome::Failed)),
            FinalStatus::Canceled => (Unanswered, Some(Outcome::Canceled)),
            FinalStatus::Completed => (CallEnded, Some(Outcome::HungUp)),
        },
        Event::ReservationEnded { reason } => (
            Ended,
            Some(match reason {
                EndReason::Timeout => Outcome::Timeout,
                EndReason::Rescinded => Outcome::Rescinded,
                EndReason::Canceled => Outcome::Canceled,
            }),
        ),
        Event::CallFailed { .. } => (CallFailed, Some(Outcome::CallFailed)),
    }
}

struct Step<'a> {
    now: DateTime<Utc>,
    settings: &'a DispatchSettings,
    worker: Option<WorkerRecord>,
    commands: Vec<Command>,
    texts: Vec<Text>,
}

impl Step<'_> {
    fn reject(&mut self, record: &DispatchRecord) {
        self.commands.push(Command::RejectReservation {
            task_sid: record.task_sid.clone(),
            reservation_sid: record.reservation_sid.clone(),
            worker: record.worker.clone(),
        });
    }

    fn hang_up(&mut self, record: &DispatchRecord, ringing: bool) {
        if let Some(call_sid) = &record.call_sid {
            self.commands.push(Command::HangUpCall {
                call_sid: call_sid.clone(),
                worker: record.worker.clone(),
                ringing,
            });
        }
    }

    /// One more call missed in a row: rest, or go offline after too many.
    fn missed(&mut self) {
        let limit = self.settings.missed_calls_before_offline;
        let Some(worker) = self.worker.as_mut() else {
            return;
        };
        worker.missed_calls += 1;
        if worker.missed_calls < limit {
            self.rest();
            return;
        }
        let (next, _) = fire::<presence::Impl>(worker.presence, &PresenceInput::AskedOff);
        worker.presence = next;
        // An opted-out worker gets no proactive texts (carrier rules).
        if !worker.opted_out {
            self.texts.push(Text {
                to: worker.phone.clone(),
                locale: worker.language,
                reply: Reply::new("missed-calls-offline")
                    .arg("count", Arg::Number(i64::from(worker.missed_calls))),
            });
        }
    }

    /// A short rest in TaskRouter's Unavailable activity, ended by a timer.
    fn rest(&mut self) {
        let Some(worker) = self.worker.as_mut() else {
            return;
        };
        let (next, output) = fire::<presence::Impl>(worker.presence, &PresenceInput::MissedCall);
        worker.presence = next;
        if output == Some(PresenceOutput::Rest) {
            self.commands.push(Command::Timer {
                worker: worker.phone.clone(),
                due: self.now + TimeDelta::seconds(i64::from(self.settings.cooldown_secs)),
                event: TimerEvent::CoolDownOver,
            });
        }
    }
}

#[cfg(test)]
mod tests;

/// How the worker's phone is called (DESIGN 1.5).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchSettings {
    #[serde(default)]
    pub confirm: ConfirmMode,
    /// Seconds the worker's phone rings before the call counts as not answered.
    #[serde(default = "default_ring_timeout")]
    pub ring_timeout_secs: u32,
    /// Missed calls in a row after which the worker is taken offline.
    #[serde(default = "default_missed_calls")]
    pub missed_calls_before_offline: u32,
    /// Seconds a worker who missed a call rests before TaskRouter offers them calls again.
    #[serde(default = "default_cooldown")]
    pub cooldown_secs: u32,
    /// What the whisper says about the caller once a person took the call.
    #[serde(default)]
    pub whisper_caller: WhisperCaller,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            confirm: ConfirmMode::default(),
            ring_timeout_secs: default_ring_timeout(),
            missed_calls_before_offline: default_missed_calls(),
            cooldown_secs: default_cooldown(),
            whisper_caller: WhisperCaller::default(),
        }
    }
}

fn default_ring_timeout() -> u32 {
    20
}

fn default_missed_calls() -> u32 {
    2
}

fn default_cooldown() -> u32 {
    30
}
