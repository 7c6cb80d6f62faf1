//! The understanding corpus (`tests/corpus/`, see its README): every labelled text is run
//! through the pure conversation core twice, with Ana online and with Ana offline, at the
//! dialogue step its section names. A text is understood when both runs do what its label
//! says; a wrong flip is a run that moved her presence where the label did not.
//!
//! Prints accuracy and wrong flips per half, per language and per step; fails below 97% on
//! either half or on any wrong flip.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use shiftline::core::domain::catalog::{Catalog, Skill};
use shiftline::core::domain::{Locale, PhoneNumber, SkillKey};
use shiftline::core::intake::Context;
use shiftline::core::intake::machines::{Dialogue, Presence};
use shiftline::core::intake::record::{Pending, Source, WorkerRecord};
use shiftline::core::intake::turn::{Input, Turn, on_input};

const MIN_ACCURACY: f64 = 0.97;

#[derive(Clone, Debug)]
struct Case {
    half: &'static str,
    step: String,
    language: Locale,
    label: String,
    text: String,
    line: usize,
}

fn corpus(half: &'static str, source: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut section: Option<(String, Locale)> = None;
    for (n, line) in source.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let (step, lang) = header.split_once(' ').expect("[step lang]");
            let language = Locale::parse(lang).expect("a shipped language");
            section = Some((step.to_string(), language));
            continue;
        }
        let (label, text) = line
            .split_once(" | ")
            .unwrap_or_else(|| panic!("{half}:{}: `label | text`", n + 1));
        let (step, language) = section.clone().expect("a section before the first text");
        cases.push(Case {
            half,
            step,
            language,
            label: label.trim().to_string(),
            text: text.to_string(),
            line: n + 1,
        });
    }
    cases
}

fn catalog() -> Catalog {
    let skill = |key: &str, en: &str, es: &str| Skill {
        key: SkillKey::parse(key).unwrap(),
        names: [(Locale::En, en.to_string()), (Locale::Es, es.to_string())].into(),
    };
    Catalog::new(vec![
        skill("billing", "Billing", "Facturación"),
        skill("support", "Support", "Soporte"),
        skill("spanish", "Spanish", "Español"),
    ])
}

/// A Tuesday at 10:00 in Chicago.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 3, 16, 0, 0).unwrap()
}

fn ana(case: &Case, presence: Presence) -> WorkerRecord {
    let mut record = WorkerRecord::new(
        PhoneNumber::parse("+15550001111").unwrap(),
        "Ana".into(),
        case.language,
        vec![case.language],
        chrono_tz::America::Chicago,
        Source::Config,
        now() - TimeDelta::days(3),
    );
    record.presence = presence;
    record.skills = vec![SkillKey::parse("billing").unwrap()];
    let billing = vec![SkillKey::parse("billing").unwrap()];
    let (dialogue, pending) = match case.step.as_str() {
        "idle" => (Dialogue::Idle, None),
        "skill_menu" => (
            Dialogue::SkillMenu,
            Some(Pending::Skills {
                chosen: Vec::new(),
                then_online: false,
            }),
        ),
        "schedule_entry" => (Dialogue::ScheduleEntry, None),
        "confirm_skills" => (
            Dialogue::Confirm,
            Some(Pending::Skills {
                chosen: billing,
                then_online: false,
            }),
        ),
        "confirm_schedule" => {
            let shiftline::core::schedule::Request::Set(schedule) =
                shiftline::core::schedule::parse("mon-fri 9-17").unwrap()
            else {
                unreachable!()
            };
            (
                Dialogue::Confirm,
                Some(Pending::Schedule {
                    schedule: Some(schedule),
                }),
            )
        }
        other => panic!("unknown step {other}"),
    };
    record.dialogue = dialogue;
    record.pending = pending;
    record.dialogue_since = (dialogue != Dialogue::Idle).then(|| now() - TimeDelta::minutes(1));
    record
}

/// What a turn did, in the corpus's labels.
fn observed(case: &Case, before: &WorkerRecord, turn: &Turn) -> String {
    let key = turn.replies.first().map_or("", |r| r.key);
    let after = &turn.record;
    let hold = turn.commands.iter().any(|c| {
        matches!(
            c,
            shiftline::core::effects::Command::Timer {
                event: shiftline::core::effects::TimerEvent::HoldOver { .. },
                ..
            }
        )
    });
    match key {
        "opted-out" => "stop".into(),
        "opted-in" => "start".into(),
        "hold-online" if hold => "on_until".into(),
        "hold-offline" if hold => "off_for".into(),
        "online" | "already-online" | "skills-saved-online" => "on".into(),
        "offline" | "already-offline" => "off".into(),
        "skill-menu" | "skill-menu-first" => "skills".into(),
        "schedule-ask" | "confirm-schedule" | "confirm-schedule-clear" | "schedule-invalid"
            if case.step == "schedule_entry" =>
        {
            if key == "schedule-ask" {
                "schedule".into()
            } else {
                "hours".into()
            }
        }
        "schedule-ask" | "confirm-schedule" | "confirm-schedule-clear" | "schedule-invalid" => {
            "schedule".into()
        }
        k if k.starts_with("status-") => "status".into(),
        "help" => "help".into(),
        "lang-set" => format!("lang_{}", after.language),
        "lang-options" => "lang".into(),
        "tz-set" | "tz-unknown" => "tz".into(),
        "nothing-to-confirm" => "yes|no".into(),
        "skills-saved" | "schedule-saved" | "schedule-cleared" => "yes".into(),
        "cancelled-online" | "cancelled-offline" => "no|cancel".into(),
        "confirm-skills" | "confirm-skills-online" => match &after.pending {
            Some(Pending::Skills { chosen, .. }) => {
                let mut keys: Vec<String> = chosen.iter().map(|k| k.to_string()).collect();
                keys.sort();
                format!("pick {}", keys.join(" "))
            }
            _ => "pick ?".into(),
        },
        k if k.starts_with("confirm-guess") => "ask".into(),
        _ if after.presence != before.presence => format!("moved:{key}"),
        _ => "none".into(),
    }
}

fn accepts(label: &str, observed: &str) -> bool {
    let label = label.trim();
    if let Some(keys) = label.strip_prefix("pick ") {
        let mut keys: Vec<&str> = keys.split_whitespace().collect();
        keys.sort();
        return observed == format!("pick {}", keys.join(" "));
    }
    match label {
        "unclear" => matches!(observed, "none" | "ask"),
        // At idle, YES and NO both get "there is nothing to confirm", a helpful reply that
        // changes nothing, as a text that is not a command should.
        "yes" | "no" | "none" if observed == "yes|no" => true,
        "no" | "cancel" => observed == "no|cancel",
        _ => observed == label,
    }
}

/// Whether presence may end as `after` under `label`.
fn flip_allowed(label: &str, before: Presence, after: Presence) -> bool {
    let online = |p: Presence| p != Presence::Offline;
    if online(before) == online(after) {
        return true;
    }
    match label {
        "on" | "on_until" => online(after),
        "off" | "off_for" | "stop" => !online(after),
        _ => false,
    }
}

#[derive(Default)]
struct Tally {
    total: usize,
    understood: usize,
    flips: usize,
}

impl Tally {
    fn add(&mut self, ok: bool, flip: bool) {
        self.total += 1;
        self.understood += usize::from(ok);
        self.flips += usize::from(flip);
    }

    fn accuracy(&self) -> f64 {
        self.understood as f64 / self.total.max(1) as f64
    }
}

#[test]
fn the_corpus_is_understood() {
    let catalog = catalog();
    let ctx = Context {
        catalog: &catalog,
        enrolment: None,
        default_language: Locale::En,
    };
    let mut cases = corpus("first_half", include_str!("corpus/first_half.txt"));
    cases.extend(corpus(
        "second_half",
        include_str!("corpus/second_half.txt"),
    ));
    cases.extend(corpus("holdout", include_str!("corpus/holdout.txt")));
    cases.extend(corpus(
        "fresh_check",
        include_str!("corpus/fresh_check.txt"),
    ));
    assert!(cases.len() >= 300, "the corpus has {} texts", cases.len());

    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut misses = String::new();
    let mut flips = String::new();
    for case in &cases {
        let mut ok = true;
        let mut flipped = false;
        let mut seen = Vec::new();
        for presence in [Presence::Online, Presence::Offline] {
            let before = ana(case, presence);
            let turn = on_input(&ctx, &before, &Input::Text(case.text.clone()), now());
            let got = observed(case, &before, &turn);
            ok &= accepts(&case.label, &got);
            if !flip_allowed(&case.label, before.presence, turn.record.presence) {
                flipped = true;
            }
            seen.push(got);
        }
        let rows = [
            (case.half.to_string(), "all".to_string()),
            (case.half.to_string(), format!("lang {}", case.language)),
            (case.half.to_string(), format!("step {}", case.step)),
        ];
        for row in rows {
            tallies.entry(row).or_default().add(ok, flipped);
        }
        let line = format!(
            "  {}:{} [{} {}] {:?}: want {}, got {}\n",
            case.half,
            case.line,
            case.step,
            case.language,
            case.text,
            case.label,
            seen.join(" / ")
        );
        if flipped {
            flips.push_str(&line);
        } else if !ok {
            misses.push_str(&line);
        }
    }

    let mut report =
        String::from("\nunderstanding corpus: understood (both presence states) and wrong flips\n");
    for ((half, row), tally) in &tallies {
        writeln!(
            report,
            "  {half:<12} {row:<22} {:>4}/{:<4} {:>6.1}%  wrong flips {}",
            tally.understood,
            tally.total,
            100.0 * tally.accuracy(),
            tally.flips
        )
        .unwrap();
    }
    println!("{report}");
    if !misses.is_empty() {
        println!("not understood:\n{misses}");
    }
    if !flips.is_empty() {
        println!("WRONG FLIPS:\n{flips}");
    }
    for ((half, row), tally) in &tallies {
        if row == "all" {
            assert!(
                tally.accuracy() >= MIN_ACCURACY,
                "{half}: {:.1}% understood, below {:.0}%",
                100.0 * tally.accuracy(),
                100.0 * MIN_ACCURACY
            );
        }
    }
    assert!(flips.is_empty(), "wrong presence flips:\n{flips}");
}
