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

pub mod machine;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Dispatch;
use crate::core::domain::ConfirmMode;
use crate::core::domain::{Locale, PhoneNumber, SkillKey};
use crate::core::effects::{Command, TimerEvent};
use crate::core::intake::machines::{PresenceInput, fire, presence};
use crate::core::intake::record::WorkerRecord;
use crate::core::intake::reply::{Arg, Reply};
use machine::{ReservationInput, ReservationOutput, ReservationState, reservation};

/// Everything shiftline knows about one reservation it is calling a worker for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DispatchRecord {
    pub schema: u32,
    pub reservation_sid: String,
    pub task_sid: String,
    pub worker_sid: String,
    pub worker: PhoneNumber,
    pub skill: Option<SkillKey>,
    /// The customer's language, for the whisper; the worker's when the task has none.
    pub language: Locale,
    /// The customer's number (or whatever caller ID Twilio had).
    pub caller: String,
    pub caller_city: Option<String>,
    /// The call to the worker's phone, once Twilio has created it.
    pub call_sid: Option<String>,
    pub mode: ConfirmMode,
    pub state: ReservationState,
    /// Why it ended, for operators: "bridged", "busy", "machine", "no key", ...
    pub outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Something that happened to the reservation or its call.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Twilio created the call (the REST answer, or an initiated/ringing status callback).
    CallStarted { call_sid: String },
    /// The worker's phone was answered and Twilio asks for TwiML; `answered_by` is the
    /// synchronous AMD verdict, absent without synchronous AMD.
    Answered {
        call_sid: String,
        answered_by: Option<String>,
    },
    /// The asynchronous AMD verdict.
    Amd { answered_by: String },
    /// The worker pressed keys at the prompt (empty: nothing before the timeout).
    Keys { digits: String },
    /// A final call status: busy, failed, no-answer, canceled or completed.
    CallStatus { status: String },
    /// TaskRouter ended the reservation: timeout, canceled, rescinded.
    ReservationEnded { reason: String },
    /// Twilio refused to place the call.
    CallFailed { error: String },
}

/// The TwiML to answer the worker's call with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Voice {
    /// "Billing call from Chicago. Press 1 to take it."
    AskKey,
    /// A short whisper, then `<Dial><Queue reservationSid>`.
    Bridge,
    /// "Goodbye" and hang up (a wrong key, or the call is no longer wanted).
    Goodbye,
    /// Hang up without a word (a machine, or a reservation that ended).
    HangUp,
    /// No TwiML needed: a status or AMD callback.
    Nothing,
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

pub fn decide(
    record: &DispatchRecord,
    worker: Option<&WorkerRecord>,
    event: &Event,
    now: DateTime<Utc>,
    settings: &Dispatch,
) -> Decision {
    let mut record = record.clone();
    if let Event::CallStarted { call_sid } | Event::Answered { call_sid, .. } = event {
        record.call_sid.get_or_insert_with(|| call_sid.clone());
    }
    let (input, why) = input_for(event);
    let before = record.state;
    let (state, output) = fire::<reservation::Impl>(before, &input)
        .expect("the reservation table has a rule for every pair");
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
            record.outcome = Some("bridged".into());
            if let Some(w) = step.worker.as_mut() {
                w.missed_calls = 0;
            }
            Voice::Bridge
        }
        Some(ReservationOutput::Reject) => {
            record.outcome = Some(why.into());
            step.reject(&record);
            step.missed();
            // Only status callbacks and failures get here; they answer no TwiML.
            Voice::Nothing
        }
        Some(ReservationOutput::RejectAndHangUp) => {
            record.outcome = Some(why.into());
            step.reject(&record);
            // Answering the call's own request with <Hangup/> ends it; a callback that
            // is not the call's (async AMD) needs the Calls API to end it.
            if !matches!(event, Event::Answered { .. } | Event::Keys { .. }) {
                step.hang_up(&record, false);
            }
            step.missed();
            if why == "wrong key" {
                Voice::Goodbye
            } else {
                Voice::HangUp
            }
        }
        Some(ReservationOutput::HangUp) => {
            record.outcome = Some(why.into());
            step.hang_up(&record, before != ReservationState::Answered);
            // TaskRouter moved the worker to its timeout activity: rest them and come back.
            if why == "timeout" {
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
        && let Some(sync) = Command::sync(old, new)
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

/// The machine input for an event, and the outcome it would record.
fn input_for(event: &Event) -> (ReservationInput, &'static str) {
    use ReservationInput::*;
    match event {
        Event::CallStarted { .. } => (CallStarted, ""),
        Event::Answered { answered_by, .. } => match answered_by.as_deref() {
            Some("human") => (PickedUpHuman, ""),
            Some(v) if v.starts_with("machine") => (PickedUpMachine, "voicemail"),
            Some("fax") => (PickedUpMachine, "fax"),
            // `unknown` (AMD could not tell) and no AMD at all: ask for a key.
            _ => (PickedUp, ""),
        },
        Event::Amd { answered_by } => match answered_by.as_str() {
            v if v.starts_with("machine") => (AmdMachine, "voicemail"),
            "fax" => (AmdMachine, "fax"),
            _ => (AmdHuman, ""),
        },
        Event::Keys { digits } if digits.trim() == "1" => (KeyOne, ""),
        Event::Keys { digits } if digits.trim().is_empty() => (OtherKey, "no key"),
        Event::Keys { .. } => (OtherKey, "wrong key"),
        Event::CallStatus { status } => match status.as_str() {
            "busy" => (Unanswered, "busy"),
            "no-answer" => (Unanswered, "no answer"),
            "failed" => (Unanswered, "failed"),
            "canceled" => (Unanswered, "canceled"),
            "completed" => (CallEnded, "hung up"),
            _ => (CallStarted, ""),
        },
        Event::ReservationEnded { reason } => (
            Ended,
            match reason.as_str() {
                "timeout" => "timeout",
                "rescinded" => "rescinded",
                _ => "canceled",
            },
        ),
        Event::CallFailed { .. } => (CallFailed, "call failed"),
    }
}

struct Step<'a> {
    now: DateTime<Utc>,
    settings: &'a Dispatch,
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
        let (next, _) = fire::<presence::Impl>(worker.presence, &PresenceInput::GoOffline)
            .expect("the presence table has a rule for every pair");
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
        let (next, _) = fire::<presence::Impl>(worker.presence, &PresenceInput::Rest)
            .expect("the presence table has a rule for every pair");
        if next != worker.presence {
            worker.presence = next;
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
