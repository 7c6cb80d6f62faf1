//! Commands the core asks the outside world to carry out. They are written to the durable
//! outbox in the same transaction as the state that caused them, and executed after commit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::core::domain::{CallSid, ConfirmMode, PhoneNumber, ReservationSid, TaskSid};

/// The TaskRouter activity a worker should be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Available,
    Offline,
    /// Resting after a missed call; also TaskRouter's activity after a reservation timeout.
    Unavailable,
}

impl Activity {
    /// The activity's FriendlyName in TaskRouter, as `twilio setup` creates it. Unavailable
    /// is where a worker goes after a rejected or timed-out reservation, so TaskRouter does
    /// not offer the same call straight back.
    pub const fn name(self) -> &'static str {
        match self {
            Activity::Available => "Available",
            Activity::Offline => "Offline",
            Activity::Unavailable => "Unavailable",
        }
    }
}

/// How long TaskRouter holds a reservation, in seconds (`twilio setup` sets it on the
/// workspace); ring time plus AMD must fit inside it.
pub const RESERVATION_TIMEOUT_SECS: u32 = 120;

/// The Worker attributes TaskRouter routes on. Serialized as the JSON string TaskRouter's
/// `Attributes` field takes, so field names are TaskRouter's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerAttributes {
    pub skills: Vec<String>,
    pub contact_uri: String,
    pub languages: Vec<String>,
}

/// Everything TaskRouter should hold about one worker. A sync command carries the whole
/// desired state, so a later command supersedes an earlier one for the same worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerSpec {
    pub phone: PhoneNumber,
    pub name: String,
    pub activity: Activity,
    pub attributes: WorkerAttributes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum Command {
    /// Create the TaskRouter Worker for this phone if it does not exist, then set its
    /// activity and attributes. Going unavailable also rejects pending reservations.
    SyncWorker {
        spec: WorkerSpec,
        reject_pending_reservations: bool,
    },
    /// Call the reserved worker's phone from the business number, with answering machine
    /// detection as the confirm mode asks; the call's URLs carry the reservation.
    PlaceCall {
        reservation_sid: ReservationSid,
        worker: PhoneNumber,
        mode: ConfirmMode,
        ring_timeout_secs: u32,
    },
    /// Decline the reservation and rest the worker, so the task goes to someone else.
    RejectReservation {
        task_sid: TaskSid,
        reservation_sid: ReservationSid,
        worker: PhoneNumber,
    },
    /// End a worker's call: cancel it while it rings, hang it up once answered.
    HangUpCall {
        call_sid: CallSid,
        worker: PhoneNumber,
        ringing: bool,
    },
    /// Send a live call (a waiting customer) to other TwiML, at `path` under the public URL.
    RedirectCall { call_sid: CallSid, path: String },
    /// A text from the intake number.
    SendSms { to: PhoneNumber, body: String },
    /// Put a callback request in TaskRouter as a task, at `not_before` (a retry, or the
    /// calling hours opening) or at once.
    CreateTask {
        callback: String,
        /// The task's attributes, a JSON object.
        attributes: String,
        priority: u32,
        timeout_secs: u32,
        not_before: Option<DateTime<Utc>>,
    },
    /// Accept a reservation shiftline itself carries out (a callback: the worker calls the
    /// customer, no queued call bridges them).
    AcceptReservation {
        task_sid: TaskSid,
        reservation_sid: ReservationSid,
    },
    /// Complete (done) or cancel (not wanted now) a callback's task.
    EndTask {
        task_sid: TaskSid,
        completed: bool,
        reason: String,
    },
    /// Text the notify list about a voicemail at `due` unless its transcription came first:
    /// whichever comes first sends the one text, so a transcription Twilio never sends
    /// does not keep a voicemail from being announced.
    AnnounceVoicemail {
        recording_sid: String,
        due: DateTime<Utc>,
    },
    /// Feed an event back to the worker's machines at `due` (a cool-down ending).
    Timer {
        worker: PhoneNumber,
        due: DateTime<Utc>,
        event: TimerEvent,
    },
}

/// How soon a command should go, most urgent first (the order of the variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// A customer is waiting on it: placing the worker's call, rejecting a reservation so
    /// the task goes to someone else, sending a caller to voicemail, hanging up a worker's
    /// ringing phone.
    Customer = 0,
    /// A worker's TaskRouter state: a shift starting is workers becoming available to
    /// customers, so it goes before the texts that announce it.
    Worker = 1,
    /// A text to a worker or the business.
    Notice = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerEvent {
    /// The rest after a missed call is over.
    CoolDownOver,
    /// A shift of the worker's weekly schedule starts or ends now; `version` is the
    /// schedule's, so a timer left from an older schedule does nothing.
    ShiftBoundary { version: u32 },
    /// A temporary ON or OFF ("ON until 6pm") ends; `version` is the hold's, so any later
    /// ON or OFF by hand makes this timer inert.
    HoldOver { version: u32, online: bool },
}

impl TimerEvent {
    /// For people reading the outbox, the logs and the demo.
    pub fn describe(&self) -> String {
        match self {
            TimerEvent::CoolDownOver => "rest after a missed call ends".to_string(),
            TimerEvent::ShiftBoundary { version } => {
                format!("shift starts or ends (schedule {version})")
            }
            TimerEvent::HoldOver { version, online } => format!(
                "temporary {} ends (change {version})",
                if *online { "ON" } else { "OFF" }
            ),
        }
    }
}

impl Command {
    /// Commands in one lane are delivered in order, lanes independently of each other.
    ///
    /// A worker's TaskRouter changes share a lane (their syncs and a rejection, which rests
    /// them), so TaskRouter never sees OFF before the ON that preceded it. The call to a
    /// reserved worker has a lane of its own: nothing has to go before it, and a waiting
    /// customer must not wait behind a sync that Twilio is making back off. A call's
    /// changes (hang up, redirect) and a recipient's texts have theirs.
    pub fn lane(&self) -> String {
        match self {
            Command::SyncWorker { spec, .. } => spec.phone.to_string(),
            Command::RejectReservation { worker, .. } | Command::Timer { worker, .. } => {
                worker.to_string()
            }
            Command::PlaceCall {
                reservation_sid, ..
            } => format!("reservation:{reservation_sid}"),
            Command::HangUpCall { call_sid, .. } | Command::RedirectCall { call_sid, .. } => {
                format!("call:{call_sid}")
            }
            Command::SendSms { to, .. } => format!("sms:{to}"),
            Command::CreateTask { callback, .. } => format!("callback:{callback}"),
            Command::AnnounceVoicemail { recording_sid, .. } => {
                format!("voicemail:{recording_sid}")
            }
            // A task is completed only after its reservation was accepted.
            Command::AcceptReservation { task_sid, .. } | Command::EndTask { task_sid, .. } => {
                format!("task:{task_sid}")
            }
        }
    }

    /// Which goes first when many wait: what a customer waits on, then what makes workers
    /// available to customers, then texts.
    pub fn priority(&self) -> Priority {
        match self {
            Command::PlaceCall { .. }
            | Command::RejectReservation { .. }
            | Command::HangUpCall { .. }
            | Command::RedirectCall { .. }
            | Command::AcceptReservation { .. } => Priority::Customer,
            Command::SyncWorker { .. } | Command::CreateTask { .. } | Command::EndTask { .. } => {
                Priority::Worker
            }
            Command::SendSms { .. } | Command::Timer { .. } | Command::AnnounceVoicemail { .. } => {
                Priority::Notice
            }
        }
    }

    /// Whether a customer is waiting on this command.
    pub fn is_urgent(&self) -> bool {
        self.priority() == Priority::Customer
    }

    /// Whether this is a worker sync, of which consecutive ones in a lane coalesce.
    pub fn is_sync(&self) -> bool {
        matches!(self, Command::SyncWorker { .. })
    }

    /// The one sync that stands for a run of consecutive syncs of a lane (oldest first):
    /// the newest carries the worker's whole desired state, and if a superseded one would
    /// have rejected pending reservations and the worker ends up offline, it rejects them
    /// too. None for an empty run or one that is not all syncs.
    pub fn coalesce_syncs<'a>(run: impl IntoIterator<Item = &'a Command>) -> Option<Command> {
        let mut last = None;
        let mut rejects = false;
        for command in run {
            let Command::SyncWorker {
                spec,
                reject_pending_reservations,
            } = command
            else {
                return None;
            };
            rejects |= *reject_pending_reservations;
            last = Some(spec);
        }
        let spec = last?;
        Some(Command::SyncWorker {
            spec: spec.clone(),
            reject_pending_reservations: rejects && spec.activity == Activity::Offline,
        })
    }

    /// When the command may run; None means at once.
    pub fn due(&self) -> Option<DateTime<Utc>> {
        match self {
            Command::Timer { due, .. } => Some(*due),
            Command::CreateTask { not_before, .. } => *not_before,
            Command::AnnounceVoicemail { due, .. } => Some(*due),
            _ => None,
        }
    }

    /// One line for transcripts and logs.
    pub fn describe(&self) -> String {
        match self {
            Command::SyncWorker {
                spec,
                reject_pending_reservations,
            } => {
                let attrs = serde_json::to_string(&spec.attributes).unwrap_or_default();
                let reject = if *reject_pending_reservations {
                    " RejectPendingReservations=true"
                } else {
                    ""
                };
                format!(
                    "TaskRouter <- sync worker {} ActivitySid={} Attributes={attrs}{reject}",
                    spec.name,
                    spec.activity.name()
                )
            }
            Command::PlaceCall {
                reservation_sid,
                worker,
                mode,
                ring_timeout_secs,
            } => format!(
                "call worker {worker} for {reservation_sid} (confirm {}, ring {ring_timeout_secs} s)",
                mode.name()
            ),
            Command::RejectReservation {
                reservation_sid, ..
            } => {
                format!("reject {reservation_sid}, worker Unavailable")
            }
            Command::HangUpCall {
                call_sid, ringing, ..
            } => {
                format!(
                    "{} {call_sid}",
                    if *ringing {
                        "cancel ringing call"
                    } else {
                        "hang up"
                    }
                )
            }
            Command::RedirectCall { call_sid, path } => format!("redirect {call_sid} to {path}"),
            Command::SendSms { to, body } => format!("text {to}: {body:?}"),
            Command::CreateTask {
                callback,
                priority,
                not_before,
                ..
            } => {
                let at = not_before.map_or(String::new(), |t| {
                    format!(" at {} UTC", t.format("%Y-%m-%d %H:%M:%S"))
                });
                format!("TaskRouter <- callback task for {callback} (priority {priority}){at}")
            }
            Command::AcceptReservation {
                reservation_sid, ..
            } => format!("accept {reservation_sid}"),
            Command::AnnounceVoicemail { recording_sid, due } => format!(
                "announce voicemail {recording_sid} at {} UTC unless its transcription comes first",
                due.format("%Y-%m-%d %H:%M:%S")
            ),
            Command::EndTask {
                task_sid,
                completed,
                reason,
            } => format!(
                "{} task {task_sid} ({reason})",
                if *completed { "complete" } else { "cancel" }
            ),
            Command::Timer { worker, due, event } => {
                format!(
                    "timer: {} for {worker} at {} UTC",
                    event.describe(),
                    due.format("%Y-%m-%d %H:%M:%S")
                )
            }
        }
    }
}
