//! The turn logic itself, on records in memory: what one input does to a worker's record,
//! what it says and what it asks TaskRouter to do.

use chrono::{TimeDelta, TimeZone};

use super::*;
use crate::core::domain::catalog::Skill;
use crate::core::domain::{Locale, PhoneNumber};
use crate::core::effects::TimerEvent;
use crate::core::intake::machines::MENU_TIMEOUT;
use crate::core::intake::record::Source;

fn catalog() -> Catalog {
    let skill = |key: &str, en: &str| Skill {
        key: SkillKey::parse(key).unwrap(),
        names: [(Locale::En, en.to_string())].into(),
    };
    Catalog::new(vec![
        skill("billing", "Billing"),
        skill("support", "Support"),
    ])
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 3, 16, 0, 0).unwrap()
}

fn ana() -> WorkerRecord {
    WorkerRecord::new(
        PhoneNumber::parse("+15550001111").unwrap(),
        "Ana".into(),
        Locale::En,
        vec![Locale::En],
        chrono_tz::America::Chicago,
        Source::Config,
        now() - TimeDelta::days(1),
    )
}

fn with_skills() -> WorkerRecord {
    WorkerRecord {
        skills: vec![SkillKey::parse("billing").unwrap()],
        ..ana()
    }
}

/// Runs texts one after another, a minute apart, as the store would.
fn texts(mut record: WorkerRecord, texts: &[&str]) -> (WorkerRecord, Vec<Turn>) {
    let catalog = catalog();
    let ctx = Context {
        catalog: &catalog,
        enrolment: None,
        default_language: Locale::En,
    };
    let mut turns = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let at = now() + TimeDelta::minutes(i as i64);
        let turn = on_input(&ctx, &record, &Input::Text(text.to_string()), at);
        record = turn.record.clone();
        turns.push(turn);
    }
    (record, turns)
}

fn keys(turn: &Turn) -> Vec<&'static str> {
    turn.replies.iter().map(|r| r.key).collect()
}

#[test]
fn the_first_on_opens_the_menu_and_yes_saves_and_goes_online() {
    let (record, turns) = texts(ana(), &["on", "1", "yes"]);
    assert_eq!(keys(&turns[0]), ["skill-menu-first"]);
    assert_eq!(keys(&turns[1]), ["confirm-skills-online"]);
    assert_eq!(keys(&turns[2]), ["skills-saved-online"]);
    assert_eq!(record.presence, Presence::Online);
    assert_eq!(record.dialogue, Dialogue::Idle);
    assert!(record.pending.is_none());
    assert!(
        turns[2]
            .commands
            .iter()
            .any(|c| matches!(c, Command::SyncWorker { .. })),
        "going online syncs TaskRouter"
    );
}

#[test]
fn off_in_the_middle_of_a_menu_closes_it_and_goes_offline() {
    let online = WorkerRecord {
        presence: Presence::Online,
        ..with_skills()
    };
    let (record, turns) = texts(online, &["skills", "off"]);
    assert_eq!(keys(&turns[1]), ["offline"]);
    assert_eq!(record.dialogue, Dialogue::Idle);
    assert_eq!(record.presence, Presence::Offline);
    assert!(record.pending.is_none());
}

#[test]
fn an_unclear_text_asks_back_and_only_yes_acts() {
    let online = WorkerRecord {
        presence: Presence::Online,
        ..with_skills()
    };
    let (asked, turns) = texts(online.clone(), &["maybe I should log off"]);
    assert_eq!(keys(&turns[0]), ["confirm-guess"]);
    assert_eq!(asked.presence, Presence::Online, "a guess changes nothing");
    assert_eq!(asked.dialogue, Dialogue::Confirm);

    let (yes, _) = texts(asked.clone(), &["yes"]);
    assert_eq!(yes.presence, Presence::Offline);
    let (no, turns) = texts(asked, &["no"]);
    assert_eq!(no.presence, Presence::Online);
    assert_eq!(keys(&turns[0]), ["cancelled-online"]);
}

#[test]
fn a_menu_left_alone_expires_and_a_late_answer_is_told_so() {
    let catalog = catalog();
    let ctx = Context {
        catalog: &catalog,
        enrolment: None,
        default_language: Locale::En,
    };
    let (in_menu, _) = texts(with_skills(), &["skills"]);
    let late = now() + MENU_TIMEOUT + TimeDelta::minutes(1);
    let turn = on_input(&ctx, &in_menu, &Input::Text("1".into()), late);
    assert_eq!(keys(&turn), ["menu-expired"]);
    assert_eq!(turn.record.dialogue, Dialogue::Idle);
    assert_eq!(turn.record.skills, with_skills().skills, "nothing saved");
}

#[test]
fn yes_with_nothing_to_confirm_changes_nothing() {
    let (record, turns) = texts(with_skills(), &["yes"]);
    assert_eq!(keys(&turns[0]), ["nothing-to-confirm"]);
    assert_eq!(record, with_skills());
}

#[test]
fn a_hold_goes_online_and_sets_the_timer_that_ends_it() {
    let (record, turns) = texts(with_skills(), &["on until 6pm"]);
    assert_eq!(keys(&turns[0]), ["hold-online"]);
    assert_eq!(record.presence, Presence::Online);
    let timer = turns[0].commands.iter().find_map(|c| match c {
        Command::Timer { due, event, .. } => Some((*due, *event)),
        _ => None,
    });
    // 18:00 in Chicago (UTC-6) that day.
    let due = Utc.with_ymd_and_hms(2026, 3, 4, 0, 0, 0).unwrap();
    assert_eq!(
        timer,
        Some((
            due,
            TimerEvent::HoldOver {
                version: record.hold_version,
                online: true
            }
        ))
    );
}

#[test]
fn a_schedule_is_read_back_and_saved_only_on_yes() {
    let (asked, turns) = texts(with_skills(), &["schedule mon-fri 9-17"]);
    assert_eq!(keys(&turns[0]), ["confirm-schedule"]);
    assert!(asked.schedule.is_none());
    let (saved, turns) = texts(asked, &["sounds good"]);
    assert_eq!(keys(&turns[0]), ["schedule-saved"]);
    assert!(saved.schedule.is_some());
    assert!(
        turns[0].commands.iter().any(|c| matches!(
            c,
            Command::Timer {
                event: TimerEvent::ShiftBoundary { .. },
                ..
            }
        )),
        "the next boundary's timer is set"
    );
}

#[test]
fn a_wrong_menu_answer_explains_and_keeps_the_menu_open() {
    let (record, turns) = texts(with_skills(), &["skills", "9"]);
    assert_eq!(keys(&turns[1]), ["menu-no-such-number"]);
    assert_eq!(record.dialogue, Dialogue::SkillMenu);
}

#[test]
fn stop_opts_out_and_takes_the_worker_offline() {
    let online = WorkerRecord {
        presence: Presence::Online,
        ..with_skills()
    };
    let (record, turns) = texts(online, &["STOP"]);
    assert_eq!(keys(&turns[0]), ["opted-out"]);
    assert!(record.opted_out);
    assert_eq!(record.presence, Presence::Offline);
}
