//! The worker record: the machines' states plus the data that travels with them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::machines::{Dialogue, MENU_TIMEOUT, Presence};
use crate::core::domain::{Locale, PhoneNumber, SkillKey};
use crate::core::effects::{Activity, Command, WorkerAttributes, WorkerSpec};

/// Bumped when the stored shape changes in a way old records cannot be read as.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerRecord {
    pub schema: u32,
    pub phone: PhoneNumber,
    pub name: String,
    /// The language the worker is texted in.
    pub language: Locale,
    /// Languages the worker takes calls in (TaskRouter `languages` attribute).
    pub languages: Vec<Locale>,
    pub time_zone: Tz,
    pub presence: Presence,
    pub dialogue: Dialogue,
    /// When the current non-Idle dialogue step was last prompted; it expires from there.
    pub dialogue_since: Option<DateTime<Utc>>,
    /// Saved skills, in menu order.
    pub skills: Vec<SkillKey>,
    /// What a SkillMenu or Confirm step is building.
    pub pending: Option<Pending>,
    /// The worker texted a carrier opt-out word: no proactive texts until they opt back in.
    pub opted_out: bool,
    /// How the worker joined the roster.
    pub source: Source,
    /// TaskRouter's Worker SID, once TaskRouter has assigned one.
    pub worker_sid: Option<String>,
    /// Calls offered and missed in a row (busy, no answer, voicemail, no key).
    #[serde(default)]
    pub missed_calls: u32,
    /// Weekly hours in the worker's time zone; presence follows them at each boundary.
    #[serde(default)]
    pub schedule: Option<crate::core::schedule::Schedule>,
    /// Bumped whenever the schedule or the zone changes, so a timer set for an older
    /// schedule recognises itself as stale and does nothing.
    #[serde(default)]
    pub schedule_version: u32,
    /// Bumped by every ON or OFF, so the end of an earlier temporary one does nothing.
    #[serde(default)]
    pub hold_version: u32,
    /// When the temporary ON or OFF in force ("ON until 6pm", "off for 30m") ends. Until
    /// then it wins over the schedule: a shift boundary leaves the worker as they asked.
    #[serde(default)]
    pub hold_until: Option<DateTime<Utc>>,
    /// Off the roster: the configuration file listed the worker and no longer does. The
    /// record stays for its history and for a return to the file, but the worker changes
    /// nothing by text or phone and TaskRouter offers them nothing.
    #[serde(default)]
    pub deactivated: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Config,
    Enrolled,
}

/// A change being built in a menu and awaiting YES.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Pending {
    Skills {
        /// Empty while the menu is open; the worker's pick once they answered.
        chosen: Vec<SkillKey>,
        /// The menu was opened by ON with no skills saved: saving also goes online.
        then_online: bool,
    },
    /// Weekly hours to save; None clears them. While the worker is still typing them
    /// (ScheduleEntry) nothing is pending yet.
    Schedule {
        schedule: Option<crate::core::schedule::Schedule>,
    },
    /// A command read from a text that was not clear enough to act on ("Did you mean
    /// OFF?"); YES carries it out.
    Command { intent: super::understand::Intent },
}

impl WorkerRecord {
    /// Everything TaskRouter should hold about this worker.
    pub fn spec(&self) -> WorkerSpec {
        let activity = match self.presence {
            _ if self.deactivated => Activity::Offline,
            Presence::Online => Activity::Available,
            Presence::Offline => Activity::Offline,
            Presence::CoolDown => Activity::Unavailable,
        };
        // The skills stay in the record for a return to the roster; TaskRouter's Worker
        // loses them, so it matches no queue even if made Available in the console.
        let skills = if self.deactivated {
            Vec::new()
        } else {
            self.skills.iter().map(|s| s.to_string()).collect()
        };
        WorkerSpec {
            phone: self.phone.clone(),
            name: self.name.clone(),
            activity,
            attributes: WorkerAttributes {
                skills,
                contact_uri: self.phone.to_string(),
                languages: self.languages.iter().map(|l| l.to_string()).collect(),
            },
        }
    }

    /// The TaskRouter sync a change of `before` into `after` needs, if any. Every path that
    /// changes a worker (texts, the phone menu, calls, timers, the roster) goes through here,
    /// so the rule lives in one place: send the whole new state, and reject pending
    /// reservations when the worker becomes unavailable to TaskRouter.
    pub fn sync(before: &WorkerRecord, after: &WorkerRecord) -> Option<Command> {
        let (old, new) = (before.spec(), after.spec());
        (old != new).then(|| Command::SyncWorker {
            reject_pending_reservations: old.activity != Activity::Offline
                && new.activity == Activity::Offline,
            spec: new,
        })
    }

    pub fn new(
        phone: PhoneNumber,
        name: String,
        language: Locale,
        languages: Vec<Locale>,
        time_zone: Tz,
        source: Source,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            phone,
            name,
            language,
            languages,
            time_zone,
            presence: Presence::Offline,
            dialogue: Dialogue::Idle,
            dialogue_since: None,
            skills: Vec::new(),
            pending: None,
            opted_out: false,
            source,
            worker_sid: None,
            missed_calls: 0,
            schedule: None,
            schedule_version: 0,
            hold_version: 0,
            hold_until: None,
            deactivated: false,
            updated_at: now,
        }
    }

    /// The end of the temporary ON or OFF in force at `now`, if one is.
    pub fn hold_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.hold_until.filter(|until| *until > now)
    }

    /// The dialogue step as it stands at `now`: an open step past its timeout reads as Idle,
    /// even before the worker's next text makes the expiry durable.
    pub fn dialogue_at(&self, now: DateTime<Utc>) -> Dialogue {
        if self.menu_expired(now) {
            Dialogue::Idle
        } else {
            self.dialogue
        }
    }

    pub fn menu_expired(&self, now: DateTime<Utc>) -> bool {
        self.dialogue != Dialogue::Idle
            && self
                .dialogue_since
                .is_none_or(|since| now - since >= MENU_TIMEOUT)
    }
}
