//! Callbacks: a caller nobody could take is called back by a worker's own phone.
//!
//! A request comes from a caller who pressed the callback key while waiting, or who left a
//! voicemail. Each request becomes a TaskRouter task with the caller's skill and language,
//! so TaskRouter offers it to a worker exactly like a live call (after live callers unless
//! `callbacks.priority` says otherwise). The dispatcher then calls the worker as for a live
//! call (AMD and press 1); a person who takes it hears what the callback is about, the
//! voicemail if there is one, and is connected to the customer, dialled from the business
//! number. A customer who does not answer is tried again later, only within the business's
//! calling hours, and after `callbacks.attempts` calls the request is closed and the notify
//! list told. Every attempt is kept on the record.
//!
//! `decide` is a pure function of `(record, event, now, settings)`, like the dispatcher's:
//! the shell stores what it returns and hands the commands to the outbox.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::core::domain::{Locale, PhoneNumber, ReservationSid, SkillKey, TaskSid};
use crate::core::effects::Command;
use crate::core::intake::reply::{Arg, Reply};
use crate::core::schedule::Schedule;

#[cfg(test)]
mod tests;

/// One caller to call back, and everything that happened to the request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallbackRecord {
    pub schema: u32,
    /// The customer's call that asked (its CallSid): one request per call, however often
    /// Twilio retries the webhook that made it.
    pub id: String,
    /// The number to call back, as Twilio gave it.
    pub customer: String,
    pub caller_city: Option<String>,
    pub skill: Option<SkillKey>,
    pub language: Locale,
    pub source: Source,
    pub voicemail: Option<Voicemail>,
    pub requested_at: DateTime<Utc>,
    pub status: Status,
    /// The reservation of the worker calling now (status `calling`).
    pub reservation_sid: Option<ReservationSid>,
    /// The TaskRouter task of the current attempt, once TaskRouter offered it.
    pub task_sid: Option<TaskSid>,
    /// When the next task goes to TaskRouter (a retry, or the calling hours opening).
    pub next_try: Option<DateTime<Utc>>,
    pub attempts: Vec<Attempt>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// Why the caller is to be called back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Pressed the callback key while waiting in the queue.
    Queue,
    /// Left a voicemail.
    Voicemail,
}

/// The message a caller left, for the worker to hear before calling back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voicemail {
    pub recording_sid: String,
    pub duration_secs: u32,
    pub transcription: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for TaskRouter to offer it to a worker (or for its next try).
    Waiting,
    /// A worker took it and is connected, or being connected, to the customer.
    Calling,
    /// A worker talked with the customer.
    Returned,
    /// The customer never answered; closed and the notify list told.
    Abandoned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Calling => "calling",
            Status::Returned => "returned",
            Status::Abandoned => "abandoned",
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, Status::Waiting | Status::Calling)
    }
}

/// One call to the customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub worker: PhoneNumber,
    pub reservation_sid: ReservationSid,
    pub outcome: DialOutcome,
    pub talk_secs: u32,
}

/// How the call to the customer went (Twilio's `DialCallStatus`), or that the worker hung
/// up before the customer was dialled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialOutcome {
    Answered,
    Busy,
    NoAnswer,
    Failed,
    /// The worker's call ended before the customer's phone was dialled or answered.
    WorkerLeft,
}

impl DialOutcome {
    /// Twilio's `DialCallStatus`; None for a value it does not send on a finished Dial.
    pub fn parse(status: &str) -> Option<Self> {
        Some(match status {
            "completed" | "answered" => DialOutcome::Answered,
            "busy" => DialOutcome::Busy,
            "no-answer" => DialOutcome::NoAnswer,
            "failed" => DialOutcome::Failed,
            // The worker hung up while the customer's phone rang.
            "canceled" => DialOutcome::WorkerLeft,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DialOutcome::Answered => "answered",
            DialOutcome::Busy => "busy",
            DialOutcome::NoAnswer => "no answer",
            DialOutcome::Failed => "failed",
            DialOutcome::WorkerLeft => "worker left",
        }
    }

    /// Counts against the customer: they were called and did not pick up.
    fn customer_missed(self) -> bool {
        matches!(
            self,
            DialOutcome::Busy | DialOutcome::NoAnswer | DialOutcome::Failed
        )
    }
}

/// What a caller asked for, as the edge read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub id: String,
    pub customer: String,
    pub caller_city: Option<String>,
    pub skill: Option<SkillKey>,
    pub language: Locale,
    pub source: Source,
    pub voicemail: Option<Voicemail>,
}

/// Something that happened to a callback request.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A caller asked to be called back (a second ask for the same call changes nothing).
    Requested(Request),
    /// Twilio transcribed the voicemail.
    Transcribed { text: String },
    /// TaskRouter reserved a worker for the request's task.
    Reserved {
        task_sid: TaskSid,
        reservation_sid: ReservationSid,
    },
    /// The worker's call to the customer ended.
    Dialed {
        reservation_sid: ReservationSid,
        worker: PhoneNumber,
        outcome: DialOutcome,
        talk_secs: u32,
    },
    /// The worker's call ended. Not `bridged` (they never took it): TaskRouter offers the
    /// same task to someone else. Taken but the customer never dialled (they hung up during
    /// the voicemail): a new task goes in at once, the customer lost nothing.
    WorkerCallEnded {
        reservation_sid: ReservationSid,
        worker: PhoneNumber,
        bridged: bool,
    },
    /// TaskRouter dropped the task (its time to live ran out, or it was canceled in the
    /// console): a new one goes in, the request stays open.
    TaskCanceled { task_sid: TaskSid },
}

/// What a reservation for a callback task should do, decided with the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Call the worker as for a live call.
    CallWorker,
    /// Not now (outside calling hours, or the request is closed): the task was canceled.
    Withdrawn,
}

/// An SMS to the business's notify list, rendered by the shell.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub reply: Reply,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The new record; None when nothing changes.
    pub record: Option<CallbackRecord>,
    pub commands: Vec<Command>,
    pub notices: Vec<Notice>,
    /// For `Reserved`: whether the worker is to be called.
    pub offer: Option<Offer>,
}

impl Decision {
    fn none() -> Self {
        Self {
            record: None,
            commands: Vec::new(),
            notices: Vec::new(),
            offer: None,
        }
    }
}

/// `[callbacks]`, read by the config and handed to `decide`.
#[derive(Clone, Debug, PartialEq)]
pub struct CallbackSettings {
    pub enabled: bool,
    /// The key a waiting caller presses to be called back.
    pub key: char,
    /// TaskRouter priority of a callback task; live callers have `LIVE_PRIORITY`.
    pub priority: u32,
    /// Calls to the customer before the request is closed.
    pub attempts: u32,
    /// Time between two calls to a customer who did not answer.
    pub retry_after: TimeDelta,
    /// When customers may be called, in `time_zone`; None is any time.
    pub hours: Option<Schedule>,
    pub time_zone: Tz,
}

/// The TaskRouter priority of a live caller's task: callbacks (priority 0 by default) are
/// offered after live callers, oldest first within each.
pub const LIVE_PRIORITY: u32 = 10;

/// How long a callback task may wait in TaskRouter before it is dropped (and put back by
/// `TaskCanceled`): TaskRouter's own default, one day.
pub const TASK_TIMEOUT_SECS: u32 = 86_400;

impl CallbackSettings {
    /// The first instant at or after `at` within calling hours (`at` itself when there are
    /// no hours, or when the hours never change: always open).
    pub fn open_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        match &self.hours {
            Some(hours) if !hours.is_on_shift(at, self.time_zone) => hours
                .next_change(at, self.time_zone)
                .map_or(at, |(when, _)| when),
            _ => at,
        }
    }

    fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.hours
            .as_ref()
            .is_none_or(|h| h.is_empty() || h.is_on_shift(at, self.time_zone))
    }
}

pub fn decide(
    record: Option<&CallbackRecord>,
    event: &Event,
    now: DateTime<Utc>,
    settings: &CallbackSettings,
) -> Decision {
    match (record, event) {
        (None, Event::Requested(request)) => requested(request, now, settings),
        (Some(_), Event::Requested(_)) | (None, _) => Decision::none(),
        (Some(record), event) => {
            let mut next = record.clone();
            next.updated_at = now;
            let mut decision = Decision::none();
            match event {
                Event::Requested(_) => {}
                Event::Transcribed { text } => {
                    if let Some(v) = next.voicemail.as_mut() {
                        v.transcription = Some(text.clone());
                    }
                }
                Event::Reserved {
                    task_sid,
                    reservation_sid,
                } => reserved(
                    &mut next,
                    task_sid,
                    reservation_sid,
                    now,
                    settings,
                    &mut decision,
                ),
                Event::Dialed {
                    reservation_sid,
                    worker,
                    outcome,
                    talk_secs,
                } => {
                    if next.status == Status::Calling
                        && next.reservation_sid.as_ref() == Some(reservation_sid)
                        && !next.tried(reservation_sid)
                    {
                        let attempt = Attempt {
                            at: now,
                            worker: worker.clone(),
                            reservation_sid: reservation_sid.clone(),
                            outcome: *outcome,
                            talk_secs: *talk_secs,
                        };
                        after_attempt(&mut next, attempt, now, settings, &mut decision);
                    }
                }
                Event::WorkerCallEnded {
                    reservation_sid,
                    worker,
                    bridged,
                } => {
                    let current = next.status == Status::Calling
                        && next.reservation_sid.as_ref() == Some(reservation_sid)
                        && !next.tried(reservation_sid);
                    if current && !bridged {
                        next.status = Status::Waiting;
                        next.reservation_sid = None;
                    } else if current {
                        let attempt = Attempt {
                            at: now,
                            worker: worker.clone(),
                            reservation_sid: reservation_sid.clone(),
                            outcome: DialOutcome::WorkerLeft,
                            talk_secs: 0,
                        };
                        after_attempt(&mut next, attempt, now, settings, &mut decision);
                    }
                }
                Event::TaskCanceled { task_sid } => {
                    // Only the task of the current try matters, and only if nothing else
                    // (a postponement, which cancels it on purpose) put a new one in.
                    let current = next.task_sid.as_ref().is_none_or(|t| t == task_sid);
                    let postponed = next.next_try.is_some_and(|t| t > now);
                    if next.status == Status::Waiting && current && !postponed {
                        next.task_sid = None;
                        let at = settings.open_at(now);
                        decision
                            .commands
                            .push(create_task(&next, at, now, settings));
                        next.next_try = Some(at);
                    }
                }
            }
            if next != *record {
                decision.record = Some(next);
            }
            decision
        }
    }
}

impl CallbackRecord {
    /// Whether this reservation's call already counted as an attempt.
    fn tried(&self, reservation_sid: &ReservationSid) -> bool {
        self.attempts
            .iter()
            .any(|a| &a.reservation_sid == reservation_sid)
    }

    /// Calls to the customer they did not answer.
    pub fn missed(&self) -> u32 {
        let missed = self
            .attempts
            .iter()
            .filter(|a| a.outcome.customer_missed())
            .count();
        u32::try_from(missed).unwrap_or(u32::MAX)
    }

    /// The TaskRouter attributes of its task: the live call's routing fields (skill,
    /// language) plus what marks it as a callback.
    pub fn task_attributes(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "callback",
            "callback": self.id,
            "skill": self.skill.as_ref().map(|s| s.as_str()),
            "language": self.language.code(),
            "caller": self.customer,
            "caller_city": self.caller_city.clone().unwrap_or_default(),
        })
    }
}

impl CallbackRecord {
    /// A new request, waiting, with nothing tried yet.
    pub fn new(request: &Request, now: DateTime<Utc>) -> Self {
        Self {
            schema: 1,
            id: request.id.clone(),
            customer: request.customer.clone(),
            caller_city: request.caller_city.clone(),
            skill: request.skill.clone(),
            language: request.language,
            source: request.source,
            voicemail: request.voicemail.clone(),
            requested_at: now,
            status: Status::Waiting,
            reservation_sid: None,
            task_sid: None,
            next_try: None,
            attempts: Vec::new(),
            closed_at: None,
            updated_at: now,
        }
    }
}

fn requested(request: &Request, now: DateTime<Utc>, settings: &CallbackSettings) -> Decision {
    let mut record = CallbackRecord::new(request, now);
    let at = settings.open_at(now);
    record.next_try = Some(at);
    let command = create_task(&record, at, now, settings);
    Decision {
        record: Some(record),
        commands: vec![command],
        ..Decision::none()
    }
}

fn reserved(
    next: &mut CallbackRecord,
    task_sid: &TaskSid,
    reservation_sid: &ReservationSid,
    now: DateTime<Utc>,
    settings: &CallbackSettings,
    decision: &mut Decision,
) {
    if !next.status.is_open() {
        decision.offer = Some(Offer::Withdrawn);
        decision
            .commands
            .push(end_task(task_sid, false, "the callback is closed"));
        return;
    }
    if next.status == Status::Calling && next.task_sid.as_ref().is_some_and(|t| t != task_sid) {
        // A second task for a request a worker is already returning (a create that Twilio
        // carried out but answered too late, retried): one worker calls, not two.
        decision.offer = Some(Offer::Withdrawn);
        decision.commands.push(end_task(
            task_sid,
            false,
            "a duplicate of the task being returned",
        ));
        return;
    }
    if !settings.is_open(now) {
        // A worker online at night must not call a customer at night: the task goes and
        // a new one waits for the hours to open.
        decision.offer = Some(Offer::Withdrawn);
        decision
            .commands
            .push(end_task(task_sid, false, "outside calling hours"));
        let at = settings.open_at(now);
        next.status = Status::Waiting;
        next.reservation_sid = None;
        next.task_sid = None;
        next.next_try = Some(at);
        decision.commands.push(create_task(next, at, now, settings));
        return;
    }
    decision.offer = Some(Offer::CallWorker);
    next.status = Status::Calling;
    next.task_sid = Some(task_sid.clone());
    next.reservation_sid = Some(reservation_sid.clone());
    next.next_try = None;
}

fn after_attempt(
    next: &mut CallbackRecord,
    attempt: Attempt,
    now: DateTime<Utc>,
    settings: &CallbackSettings,
    decision: &mut Decision,
) {
    let outcome = attempt.outcome;
    next.attempts.push(attempt);
    next.reservation_sid = None;
    if let Some(task_sid) = next.task_sid.take() {
        decision
            .commands
            .push(end_task(&task_sid, true, outcome.as_str()));
    }
    if outcome == DialOutcome::Answered {
        next.status = Status::Returned;
        next.closed_at = Some(now);
        next.next_try = None;
        return;
    }
    if next.missed() >= settings.attempts.max(1) {
        next.status = Status::Abandoned;
        next.closed_at = Some(now);
        next.next_try = None;
        decision.notices.push(Notice {
            reply: Reply::new("callback-abandoned")
                .text("caller", next.customer.clone())
                .arg("attempts", Arg::Number(i64::from(next.missed()))),
        });
        return;
    }
    // A worker who left before dialling costs the customer nothing: straight back to the
    // queue. A customer who did not answer is tried again after a while.
    let wait = if outcome.customer_missed() {
        settings.retry_after
    } else {
        TimeDelta::zero()
    };
    let at = settings.open_at(now + wait);
    next.status = Status::Waiting;
    next.next_try = Some(at);
    decision.commands.push(create_task(next, at, now, settings));
}

fn create_task(
    record: &CallbackRecord,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    settings: &CallbackSettings,
) -> Command {
    Command::CreateTask {
        callback: record.id.clone(),
        attributes: record.task_attributes().to_string(),
        priority: settings.priority,
        timeout_secs: TASK_TIMEOUT_SECS,
        not_before: (at > now).then_some(at),
    }
}

fn end_task(task_sid: &TaskSid, completed: bool, reason: &str) -> Command {
    Command::EndTask {
        task_sid: task_sid.clone(),
        completed,
        reason: reason.to_string(),
    }
}
