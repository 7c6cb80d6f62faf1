//! `<Dial><Number>`: the dialling call (the parent) places a child call to the number
//! (`Direction=outbound-dial`, `ParentCallSid`, `From` = `callerId` or the parent's
//! `From`), which rings as scripted with `Simulator::script_phone`.
//!
//! - Whoever picks up within the Dial's `timeout` is an answer: a person talks for their
//!   `talk_secs`, a voicemail box (or fax) stays [`BOX_TALK`] s, a message being left
//!   (`<Dial><Number>` asks for no AMD); then the child completes.
//! - A busy or failing phone, or nobody within the timeout: the child ends `busy`,
//!   `failed` or `no-answer`.
//! - When the child ends, the parent's Dial `action` is requested with `DialCallStatus
//!   DialCallSid DialCallDuration` and its answer run; without an action the parent goes
//!   on with the verbs after `<Dial>`.
//! - The parent hanging up ends the child (`completed` if answered, `canceled` while it
//!   rings); the action is still requested, as Twilio does, and its answer not run. A REST
//!   redirect of the parent ends the child and requests no action.

use chrono::TimeDelta;

use super::{Params, Phase, Then, Timer, Voice, push, resolve, short};
use crate::callbacks::Callback;
use crate::phones::Answer;
use crate::state::{Call, State};

/// Seconds a voicemail box (or fax) that answers a dialled number keeps the line.
const BOX_TALK: u32 = 20;

/// A `<Dial>`'s attributes that matter for a number.
pub(crate) struct Options {
    pub caller_id: Option<String>,
    pub action: Option<String>,
    pub timeout: u32,
}

/// What the child leg of a `<Dial><Number>` keeps of its dialling.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DialLeg {
    pub parent: String,
    /// The Dial's `action`, resolved against the parent's document.
    pub action: Option<String>,
}

impl State {
    /// Places the child call to `number` and rings it; the parent waits on it.
    pub(super) fn dial_number(&mut self, parent: &str, number: String, options: Options) {
        let now = self.now();
        let Some(call) = self.calls.get(parent) else {
            return;
        };
        // Twilio's default caller ID is the dialling call's own `From`.
        let from = options.caller_id.unwrap_or_else(|| call.from.clone());
        let action = options
            .action
            .map(|a| resolve(call.voice.doc_url.as_deref(), &a));
        let party = self.phones.next(&number).unwrap_or(Answer::NoAnswer);
        let child = self.next_sid("CA");
        self.log(parent, format!("dials {number} (caller ID {from})"));
        let leg = DialLeg {
            parent: parent.to_string(),
            action,
        };
        let call = Call {
            sid: child.clone(),
            to: number,
            from,
            direction: "outbound-dial".into(),
            status: "queued".into(),
            url: None,
            twiml: None,
            params: Vec::new(),
            updates: Vec::new(),
            parent_call_sid: Some(parent.to_string()),
            date_created: now,
            date_updated: now,
            voice: Voice {
                party,
                dial: Some(leg),
                ..Voice::default()
            },
        };
        self.calls.insert(child.clone(), call);
        // Before ringing: a busy phone ends the child, and the parent goes on, at once.
        if let Some(voice) = self.voice_mut(parent) {
            voice.phase = Phase::Dialing {
                child: child.clone(),
            };
        }
        self.ring(&child, options.timeout);
    }

    /// The dialled number picks up: both legs talk for the callee's talk time.
    pub(super) fn connect_dial_leg(&mut self, child: &str) {
        let now = self.now();
        let Some(call) = self.calls.get_mut(child) else {
            return;
        };
        call.status = "in-progress".into();
        call.date_updated = now;
        let voice = &mut call.voice;
        voice.answered_at = Some(now);
        voice.phase = Phase::Talking;
        let talk = voice.party.talk_secs().unwrap_or(BOX_TALK);
        voice.timer = Some((now + TimeDelta::seconds(talk.into()), Timer::TalkEnds));
        let who = voice.party.who();
        let parent = voice.dial.as_ref().map(|leg| short(&leg.parent));
        self.log(child, format!("answered by {who}"));
        self.log(
            child,
            format!("bridged with {}", parent.unwrap_or_default()),
        );
    }

    /// The dialled number's call ended with `status` (or was moved elsewhere): the
    /// dialling call is told through its Dial action, or goes on after `<Dial>`.
    pub(super) fn dial_leg_ended(&mut self, child: &str, status: &str) {
        let now = self.now();
        let Some(call) = self.calls.get_mut(child) else {
            return;
        };
        let Some(leg) = call.voice.dial.take() else {
            return;
        };
        let talked = call.voice.duration(now);
        let dialing = Phase::Dialing {
            child: child.to_string(),
        };
        let waits = self
            .calls
            .get(&leg.parent)
            .is_some_and(|p| p.voice.phase == dialing);
        let parent_live = self.live(&leg.parent);
        if parent_live && !waits {
            // Redirected meanwhile: its Dial is over and its action never requested.
            return;
        }
        if let Some(voice) = self.voice_mut(&leg.parent).filter(|_| waits) {
            voice.phase = Phase::Active;
        }
        let mut extra = Params::new();
        push(&mut extra, "DialCallStatus", status);
        push(&mut extra, "DialCallSid", child);
        push(&mut extra, "DialCallDuration", talked.to_string());
        match (leg.action, parent_live) {
            (Some(action), true) => self.fetch(&leg.parent, &action, extra),
            (Some(action), false) => self.notify_dial_action(&leg.parent, action, extra),
            (None, true) => self.run(&leg.parent),
            (None, false) => {}
        }
    }

    /// The Dial action of a parent that has hung up: requested, its answer not run.
    fn notify_dial_action(&mut self, parent: &str, action: String, extra: Params) {
        let Some(call) = self.calls.get(parent) else {
            return;
        };
        let mut params = self.call_params(call);
        params.extend(extra);
        self.outbox.push(Callback {
            kind: "dial action".into(),
            url: action,
            fallback_url: None,
            params,
            then: Some(Then::Notify {
                call: parent.to_string(),
            }),
        });
    }

    /// The dialling call is gone: the dialled number's call ends with it.
    pub(super) fn hang_up_dial_leg(&mut self, child: &str) {
        let answered = self
            .calls
            .get(child)
            .is_some_and(|c| c.voice.answered_at.is_some());
        self.end_call(child, if answered { "completed" } else { "canceled" });
    }
}
