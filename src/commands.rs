//! Commands the core asks the outside world to carry out. They are written to the durable
//! outbox in the same transaction as the state that caused them, and executed after commit.

use serde::{Deserialize, Serialize};

use crate::domain::PhoneNumber;
use crate::intake::machines::Presence;
use crate::intake::record::WorkerRecord;

/// The TaskRouter activity a worker should be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Available,
    Offline,
}

impl Activity {
    pub fn name(self) -> &'static str {
        match self {
            Activity::Available => "Available",
            Activity::Offline => "Offline",
        }
    }
}

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

impl WorkerSpec {
    pub fn of(record: &WorkerRecord) -> Self {
        let activity = match record.presence {
            Presence::Online => Activity::Available,
            Presence::Offline => Activity::Offline,
        };
        Self {
            phone: record.phone.clone(),
            name: record.name.clone(),
            activity,
            attributes: WorkerAttributes {
                skills: record.skills.iter().map(|s| s.to_string()).collect(),
                contact_uri: record.phone.to_string(),
                languages: record.languages.iter().map(|l| l.to_string()).collect(),
            },
        }
    }
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
}

impl Command {
    /// The worker a command is about: commands for one worker are delivered in order.
    pub fn worker(&self) -> &PhoneNumber {
        match self {
            Command::SyncWorker { spec, .. } => &spec.phone,
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
        }
    }
}
