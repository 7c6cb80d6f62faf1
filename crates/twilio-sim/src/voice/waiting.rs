//! A caller waiting in a queue (`<Enqueue workflowSid>`): the `waitUrl` document, and
//! what its `<Gather>` leads to, run in the wait context.
//!
//! The `waitUrl` is requested once, with `QueuePosition QueueSid QueueTime AvgQueueTime
//! CurrentQueueSize MaxQueueSize`, and its document played once, taking no time:
//! - `Say`/`Play` are logged as heard.
//! - A `<Gather>` is the next Gather of the caller's script. With a digits group for it,
//!   its `action` is posted with `Digits` and the same queue parameters, and the answer is
//!   run here too (a Gather in it takes the next group); without one, its prompts play and
//!   the document goes on (no timeout is waited).
//! - `<Leave/>` takes the caller out of the queue: the task is canceled (reason `leave`,
//!   with its pending reservation), then the `<Enqueue action>` is requested with
//!   `QueueResult=leave QueueSid QueueTime` and its answer becomes the call's document;
//!   without an action the call goes on with the verbs after `<Enqueue>`.
//! - `<Hangup/>` hangs up (the task canceled, reason `hangup`).
//! - `<Redirect>` is not followed (Twilio would fetch it as the next wait document): one
//!   back to the same document (the hold loop) goes unmentioned, any other is logged.
//! - Verbs Twilio does not allow there (`Enqueue Dial Record Reject`) are ignored.
//!
//! An answer is dropped once the caller no longer waits (bridged, redirected, gone).

use super::{Params, Phase, Then, keyed, ok, push, resolve, shown};
use crate::callbacks::Reply;
use crate::state::{State, age};
use crate::twiml::{self, Gather, Verb};

impl State {
    /// shiftline answered the `waitUrl`, or a Gather action made while waiting.
    pub(super) fn on_wait_reply(&mut self, sid: &str, epoch: u64, queue: &Params, reply: Reply) {
        if !self.current(sid, epoch) || !self.waiting(sid) {
            return;
        }
        if !ok(reply.status) {
            let message = self.http_failure(&reply.url, reply.status);
            return self.log(sid, format!("warning 11200: {message}"));
        }
        match twiml::parse(&reply.body) {
            Ok(verbs) => self.run_waiting(sid, verbs, &reply.url, queue),
            Err(error) => self.log(sid, format!("warning 12100: {error}")),
        }
    }

    fn waiting(&self, sid: &str) -> bool {
        self.calls
            .get(sid)
            .is_some_and(|c| matches!(c.voice.phase, Phase::Enqueued { .. }))
    }

    fn run_waiting(&mut self, sid: &str, verbs: Vec<Verb>, doc_url: &str, queue: &Params) {
        for verb in verbs {
            match verb {
                // Keys pressed: the action's answer carries on from here.
                Verb::Gather(gather) if self.gather_while_waiting(sid, &gather, doc_url, queue) => {
                    return;
                }
                Verb::Leave => return self.leave(sid),
                Verb::Hangup => return self.end_call(sid, "completed"),
                Verb::Redirect { url } => {
                    let target = resolve(Some(doc_url), &url);
                    if target != doc_url {
                        let shown = shown(&target);
                        self.log(sid, format!("wait redirects to {shown} (not followed)"));
                    }
                    return;
                }
                other if !other.blocks() => self.play(sid, other),
                _ => {}
            }
        }
    }

    /// A `<Gather>` in the wait context; whether the caller pressed keys (and the
    /// document stops here for the action's answer).
    fn gather_while_waiting(
        &mut self,
        sid: &str,
        gather: &Gather,
        doc_url: &str,
        queue: &Params,
    ) -> bool {
        for prompt in gather.prompts.clone() {
            self.play(sid, prompt);
        }
        let Some(voice) = self.voice_mut(sid) else {
            return true;
        };
        let digits = voice.party.digits_at(voice.gathers_reached);
        voice.gathers_reached += 1;
        let epoch = voice.epoch;
        let Some(digits) = digits else {
            return false;
        };
        let digits = keyed(digits, gather);
        self.log(sid, format!("presses {digits}"));
        let action = resolve(Some(doc_url), gather.action.as_deref().unwrap_or(doc_url));
        let mut extra = vec![("Digits".to_string(), digits)];
        extra.extend(queue.iter().cloned());
        let then = Then::Wait {
            call: sid.to_string(),
            epoch,
            queue: queue.clone(),
        };
        self.request(sid, "wait gather", action, extra, then);
        true
    }

    /// `<Leave/>`: the caller leaves the queue and goes on with the `<Enqueue action>`'s
    /// answer, or with the verbs after `<Enqueue>`.
    fn leave(&mut self, sid: &str) {
        let now = self.now();
        let Some(voice) = self.voice_mut(sid) else {
            return;
        };
        let Phase::Enqueued {
            task_sid,
            action,
            queue_sid,
            since,
            ..
        } = std::mem::replace(&mut voice.phase, Phase::Active)
        else {
            return;
        };
        self.log(sid, "leaves the queue (leave)");
        self.leave_queue(&task_sid, "leave");
        let Some(action) = action else {
            return self.run(sid);
        };
        let mut extra = Params::new();
        push(&mut extra, "QueueResult", "leave");
        push(&mut extra, "QueueSid", queue_sid);
        push(&mut extra, "QueueTime", age(since, now).to_string());
        self.fetch(sid, &action, extra);
    }
}
