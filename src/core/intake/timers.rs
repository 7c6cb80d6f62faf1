//! Timers that come back to a worker's machines: the end of a cool-down after a missed call,
//! and the boundaries of their weekly schedule.
//!
//! A schedule boundary does not replay history: when it fires (on time, or late after the
//! service was down) it looks at where the schedule stands *now* in the worker's zone, moves
//! presence there once, and sets the next boundary. So a worker whose shift started during
//! an outage is online after the restart, and a week-long outage fires once, not seven times.
//! Manual changes win until the next boundary: a boundary only brings an offline worker
//! online at a start, and an online one offline at an end. A temporary ON or OFF ("ON
//! until 6pm") wins over the schedule until it ends: a boundary inside it changes nothing
//! but sets the next one, and its end brings the worker to where the schedule stands.

use chrono::{DateTime, Utc};

use super::machines::{Presence, PresenceInput, fire, presence};
use super::record::WorkerRecord;
use super::reply::{Arg, Reply};
use crate::core::domain::catalog::Catalog;
use crate::core::effects::{Command, TimerEvent};

/// What a timer did.
#[derive(Clone, Debug)]
pub struct TimerOutcome {
    pub record: WorkerRecord,
    pub commands: Vec<Command>,
    /// Texts to the worker (not sent to a worker who opted out).
    pub notices: Vec<Reply>,
}

pub fn on_timer(
    worker: &WorkerRecord,
    event: TimerEvent,
    now: DateTime<Utc>,
    catalog: &Catalog,
) -> TimerOutcome {
    if worker.deactivated {
        return off_the_roster(worker, event, now);
    }
    let mut record = worker.clone();
    let mut commands = Vec::new();
    let mut notices = Vec::new();
    match event {
        TimerEvent::CoolDownOver => {
            record.presence = step(record.presence, PresenceInput::RestOver);
        }
        TimerEvent::ShiftBoundary { version } if version == worker.schedule_version => {
            let Some(schedule) = &worker.schedule else {
                return unchanged(worker);
            };
            let skills = catalog.in_menu_order(&worker.skills);
            let on_shift = schedule.is_on_shift(now, worker.time_zone);
            let held = worker.hold_at(now).is_some();
            match (on_shift, worker.presence) {
                _ if held => {}
                (true, Presence::Offline) if skills.is_empty() => {
                    notices.push(Reply::new("shift-no-skills"))
                }
                (true, Presence::Offline) => {
                    record.presence = step(record.presence, PresenceInput::AskedOn);
                    record.missed_calls = 0;
                    notices.push(Reply::new("shift-started").arg("skills", Arg::Skills(skills)));
                }
                (false, Presence::Online | Presence::CoolDown) => {
                    record.presence = step(record.presence, PresenceInput::AskedOff);
                    notices.push(Reply::new("shift-ended").text("next", next_start(&record, now)));
                }
                _ => {}
            }
            commands.extend(next_boundary(&record, now));
        }
        // A timer from a schedule since replaced or cleared.
        TimerEvent::ShiftBoundary { .. } => return unchanged(worker),
        TimerEvent::HoldOver { version, online } if version == worker.hold_version => {
            record.hold_until = None;
            // Back to what the schedule says now, or the opposite of the hold without one.
            let want_online = match &worker.schedule {
                Some(schedule) => schedule.is_on_shift(now, worker.time_zone),
                None => !online,
            };
            let skills = catalog.in_menu_order(&worker.skills);
            match (want_online, worker.presence) {
                (true, Presence::Offline) if !skills.is_empty() => {
                    record.presence = step(record.presence, PresenceInput::AskedOn);
                    notices.push(Reply::new("hold-over-online").arg("skills", Arg::Skills(skills)));
                }
                (false, Presence::Online | Presence::CoolDown) => {
                    record.presence = step(record.presence, PresenceInput::AskedOff);
                    notices.push(Reply::new("hold-over-offline"));
                }
                _ => {}
            }
        }
        TimerEvent::HoldOver { .. } => return unchanged(worker),
    }
    if let Some(sync) = WorkerRecord::sync(worker, &record) {
        commands.insert(0, sync);
    }
    if record != *worker {
        record.updated_at = now;
    }
    if worker.opted_out {
        notices.clear();
    }
    TimerOutcome {
        record,
        commands,
        notices,
    }
}

/// A worker off the roster stays as they are; their schedule's boundaries keep being set,
/// so a return to the roster finds the schedule still running.
fn off_the_roster(worker: &WorkerRecord, event: TimerEvent, now: DateTime<Utc>) -> TimerOutcome {
    match event {
        TimerEvent::ShiftBoundary { version } if version == worker.schedule_version => {
            TimerOutcome {
                commands: next_boundary(worker, now).into_iter().collect(),
                ..unchanged(worker)
            }
        }
        _ => unchanged(worker),
    }
}

fn unchanged(worker: &WorkerRecord) -> TimerOutcome {
    TimerOutcome {
        record: worker.clone(),
        commands: Vec::new(),
        notices: Vec::new(),
    }
}

fn step(state: Presence, input: PresenceInput) -> Presence {
    fire::<presence::Impl>(state, &input).0
}

/// The timer for the worker's next schedule boundary after `now`, if they have one.
pub fn next_boundary(record: &WorkerRecord, now: DateTime<Utc>) -> Option<Command> {
    let schedule = record.schedule.as_ref()?;
    let (due, _) = schedule.next_change(now, record.time_zone)?;
    Some(Command::Timer {
        worker: record.phone.clone(),
        due,
        event: TimerEvent::ShiftBoundary {
            version: record.schedule_version,
        },
    })
}

/// When the worker's next shift starts, in their zone ("Mon 9:00"), or "" without one.
pub fn next_start(record: &WorkerRecord, now: DateTime<Utc>) -> String {
    let Some(schedule) = &record.schedule else {
        return String::new();
    };
    let mut at = now;
    // The next change may be an end (worker on shift now); the start is the one after.
    for _ in 0..2 {
        match schedule.next_change(at, record.time_zone) {
            Some((due, true)) => return local(due, record),
            Some((due, false)) => at = due,
            None => break,
        }
    }
    String::new()
}

/// A moment in the worker's zone and language, as they would say it: "Mon 9:00", "lun 9:00".
pub fn local(at: DateTime<Utc>, record: &WorkerRecord) -> String {
    use chrono::Datelike;
    let local = at.with_timezone(&record.time_zone);
    const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const ES: [&str; 7] = ["lun", "mar", "mie", "jue", "vie", "sab", "dom"];
    let days = match record.language {
        crate::core::domain::Locale::En => EN,
        crate::core::domain::Locale::Es => ES,
    };
    let day = days[local.weekday().num_days_from_monday() as usize];
    format!("{day} {}", local.format("%-H:%M"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::core::domain::{Locale, PhoneNumber, SkillKey};
    use crate::core::intake::record::Source;
    use crate::core::schedule::{Request, parse};

    fn catalog() -> Catalog {
        Catalog::new(vec![crate::core::domain::catalog::Skill {
            key: SkillKey::parse("billing").unwrap(),
            names: [(Locale::En, "Billing".to_string())].into(),
        }])
    }

    fn worker(schedule: &str) -> WorkerRecord {
        let mut w = WorkerRecord::new(
            PhoneNumber::parse("+15550001111").unwrap(),
            "Ana".into(),
            Locale::En,
            vec![Locale::En],
            chrono_tz::America::Chicago,
            Source::Config,
            Utc::now(),
        );
        w.skills = vec![SkillKey::parse("billing").unwrap()];
        let Ok(Request::Set(s)) = parse(schedule) else {
            panic!("{schedule}")
        };
        w.schedule = Some(s);
        w.schedule_version = 3;
        w
    }

    /// 2026-03-02 is a Monday; Chicago is UTC-6 then.
    fn at(hour: i64, minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap()
            + chrono::TimeDelta::minutes(hour * 60 + minute)
    }

    #[test]
    fn a_shift_start_brings_an_offline_worker_online_and_sets_the_end() {
        let out = on_timer(
            &worker("mon-fri 9-17"),
            TimerEvent::ShiftBoundary { version: 3 },
            at(9, 0),
            &catalog(),
        );
        assert_eq!(out.record.presence, Presence::Online);
        assert_eq!(out.notices[0].key, "shift-started");
        let Command::Timer { due, .. } = out.commands.last().unwrap() else {
            panic!()
        };
        assert_eq!(*due, at(17, 0));
    }

    #[test]
    fn a_shift_start_leaves_a_worker_off_the_roster_offline_but_keeps_the_schedule_running() {
        let mut w = worker("mon-fri 9-17");
        w.deactivated = true;
        let out = on_timer(
            &w,
            TimerEvent::ShiftBoundary { version: 3 },
            at(9, 0),
            &catalog(),
        );
        assert_eq!(out.record, w);
        assert!(out.notices.is_empty());
        assert!(matches!(
            out.commands.as_slice(),
            [Command::Timer { due, .. }] if *due == at(17, 0)
        ));
    }

    #[test]
    fn a_shift_end_takes_an_online_worker_offline_and_says_when_the_next_starts() {
        let mut w = worker("mon-fri 9-17");
        w.presence = Presence::Online;
        let out = on_timer(
            &w,
            TimerEvent::ShiftBoundary { version: 3 },
            at(17, 0),
            &catalog(),
        );
        assert_eq!(out.record.presence, Presence::Offline);
        assert_eq!(out.notices[0].key, "shift-ended");
        assert!(
            out.notices[0]
                .args
                .iter()
                .any(|(_, v)| *v == Arg::Text("Tue 9:00".into())),
            "{:?}",
            out.notices
        );
    }

    #[test]
    fn a_manual_off_in_the_shift_holds_until_the_next_start() {
        let w = worker("mon-fri 9-17"); // offline by hand since 15:00
        let out = on_timer(
            &w,
            TimerEvent::ShiftBoundary { version: 3 },
            at(17, 0),
            &catalog(),
        );
        assert_eq!(out.record.presence, Presence::Offline);
        assert!(out.notices.is_empty(), "nothing to announce at the end");
    }

    #[test]
    fn a_temporary_on_outlasts_the_shift_end_then_the_schedule_takes_over() {
        let mut w = worker("mon-fri 9-17");
        w.presence = Presence::Online;
        w.hold_version = 4;
        w.hold_until = Some(at(18, 0)); // "ON until 6pm"
        let end = on_timer(
            &w,
            TimerEvent::ShiftBoundary { version: 3 },
            at(17, 0),
            &catalog(),
        );
        assert_eq!(end.record.presence, Presence::Online, "the hold wins");
        assert!(end.notices.is_empty(), "no 'your shift ended'");
        assert!(matches!(end.commands.last(), Some(Command::Timer { .. })));
        let over = on_timer(
            &end.record,
            TimerEvent::HoldOver {
                version: 4,
                online: true,
            },
            at(18, 0),
            &catalog(),
        );
        assert_eq!(over.record.presence, Presence::Offline);
        assert_eq!(over.record.hold_until, None);
        assert_eq!(over.notices[0].key, "hold-over-offline");
    }

    #[test]
    fn a_timer_from_an_older_schedule_does_nothing() {
        let out = on_timer(
            &worker("mon-fri 9-17"),
            TimerEvent::ShiftBoundary { version: 2 },
            at(9, 0),
            &catalog(),
        );
        assert_eq!(out.record.presence, Presence::Offline);
        assert!(out.commands.is_empty() && out.notices.is_empty());
    }

    #[test]
    fn a_boundary_fired_late_applies_the_schedule_as_it_stands_now() {
        // The 9:00 start was missed during an outage; at 11:00 the worker comes online once.
        let out = on_timer(
            &worker("mon-fri 9-17"),
            TimerEvent::ShiftBoundary { version: 3 },
            at(11, 0),
            &catalog(),
        );
        assert_eq!(out.record.presence, Presence::Online);
        // Missed the whole shift: nothing happens but the next boundary is set.
        let out = on_timer(
            &worker("mon-fri 9-17"),
            TimerEvent::ShiftBoundary { version: 3 },
            at(18, 0),
            &catalog(),
        );
        assert_eq!(out.record.presence, Presence::Offline);
        assert!(matches!(out.commands.last(), Some(Command::Timer { .. })));
    }

    #[test]
    fn the_cool_down_timer_brings_a_resting_worker_back_to_available() {
        let mut w = worker("mon-fri 9-17");
        w.presence = Presence::CoolDown;
        let out = on_timer(&w, TimerEvent::CoolDownOver, at(10, 0), &catalog());
        assert_eq!(out.record.presence, Presence::Online);
        assert!(out.commands[0].describe().contains("ActivitySid=Available"));
        w.presence = Presence::Offline;
        let out = on_timer(&w, TimerEvent::CoolDownOver, at(10, 0), &catalog());
        assert_eq!(
            out.record.presence,
            Presence::Offline,
            "a worker who went offline stays offline"
        );
        assert!(out.commands.is_empty());
    }
}
