use chrono::TimeZone;

use super::*;
use crate::core::intake::machines::Presence;
use crate::core::intake::record::Source;

fn settings() -> DispatchSettings {
    DispatchSettings::default()
}

/// Runs events on a record in `mode`, with `settings`.
fn run_in(
    mode: ConfirmMode,
    settings: &DispatchSettings,
    events: &[Event],
) -> (DispatchRecord, Vec<Decision>) {
    let mut record = DispatchRecord { mode, ..record() };
    let mut worker = worker();
    let mut decisions = Vec::new();
    for event in events {
        let d = decide(&record, Some(&worker), event, now(), settings);
        record = d.record.clone();
        if let Some(w) = &d.worker {
            worker = w.clone();
        }
        decisions.push(d);
    }
    (record, decisions)
}

fn call() -> CallSid {
    CallSid::parse(&format!("CA{}", "1".repeat(32))).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap()
}

fn worker() -> WorkerRecord {
    let mut w = WorkerRecord::new(
        PhoneNumber::parse("+15550001111").unwrap(),
        "Ana".into(),
        Locale::En,
        vec![Locale::En],
        chrono_tz::America::Chicago,
        Source::Config,
        now(),
    );
    w.presence = Presence::Online;
    w.skills = vec![SkillKey::parse("billing").unwrap()];
    w
}

fn record() -> DispatchRecord {
    DispatchRecord {
        schema: 1,
        reservation_sid: ReservationSid::parse(&format!("WR{}", "1".repeat(32))).unwrap(),
        task_sid: TaskSid::parse(&format!("WT{}", "1".repeat(32))).unwrap(),
        worker_sid: WorkerSid::parse(&format!("WK{}", "1".repeat(32))).unwrap(),
        worker: PhoneNumber::parse("+15550001111").unwrap(),
        skill: Some(SkillKey::parse("billing").unwrap()),
        language: Locale::En,
        caller: "+15559990000".into(),
        caller_city: Some("Chicago".into()),
        call_sid: None,
        mode: ConfirmMode::AmdPress1,
        state: ReservationState::Offered,
        outcome: None,
        callback: None,
        created_at: now(),
        updated_at: now(),
    }
}

/// Runs events in order, as the store would, carrying both records along.
fn run(
    events: &[Event],
    mut worker: WorkerRecord,
) -> (DispatchRecord, WorkerRecord, Vec<Decision>) {
    let mut record = record();
    let mut decisions = Vec::new();
    for event in events {
        let d = decide(&record, Some(&worker), event, now(), &settings());
        record = d.record.clone();
        if let Some(w) = &d.worker {
            worker = w.clone();
        }
        decisions.push(d);
    }
    (record, worker, decisions)
}

fn started() -> Event {
    Event::CallStarted { call_sid: call() }
}

fn answered(by: Option<&str>) -> Event {
    Event::Answered {
        call_sid: call(),
        answered_by: by.map(AnsweredBy::parse),
    }
}

#[test]
fn a_human_who_presses_1_is_bridged_and_the_miss_count_resets() {
    let mut w = worker();
    w.missed_calls = 1;
    let (record, worker, d) = run(
        &[
            started(),
            answered(None),
            Event::Keys { digits: "1".into() },
        ],
        w,
    );
    assert_eq!(d[1].voice, Voice::AskKey);
    assert_eq!(
        d[2].voice,
        Voice::Bridge(Whisper {
            skill: false,
            caller: Some(CallerHint::City("Chicago".into()))
        })
    );
    assert_eq!(record.state, ReservationState::Bridged);
    assert_eq!(worker.missed_calls, 0);
    assert!(
        d.iter().all(|d| d.commands.is_empty()),
        "a bridge needs no REST command"
    );
}

#[test]
fn a_machine_verdict_rejects_hangs_up_and_rests_the_worker() {
    let (record, worker, d) = run(
        &[
            started(),
            answered(None),
            Event::Amd {
                answered_by: AnsweredBy::parse("machine_start"),
            },
        ],
        worker(),
    );
    assert_eq!(record.state, ReservationState::Missed);
    assert_eq!(record.outcome, Some(Outcome::Voicemail));
    assert_eq!(worker.presence, Presence::CoolDown);
    let kinds: Vec<String> = d[2].commands.iter().map(|c| c.describe()).collect();
    assert!(
        kinds.iter().any(|k| k.contains("ActivitySid=Unavailable")),
        "the worker rests in TaskRouter: {kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|k| k.starts_with(&format!("reject WR{}", "1".repeat(32)))),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|k| *k == format!("hang up {}", call())),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|k| k.contains("rest after a missed call ends")),
        "{kinds:?}"
    );
}

#[test]
fn a_synchronous_machine_answer_is_hung_up_by_twiml() {
    let (record, _, d) = run(&[started(), answered(Some("machine_end_beep"))], worker());
    assert_eq!(record.state, ReservationState::Missed);
    assert_eq!(d[1].voice, Voice::HangUp);
    assert!(
        !d[1]
            .commands
            .iter()
            .any(|c| matches!(c, Command::HangUpCall { .. }))
    );
}

#[test]
fn a_second_miss_in_a_row_takes_the_worker_offline_with_a_text() {
    let mut w = worker();
    w.missed_calls = 1;
    let (_, worker, d) = run(
        &[Event::CallStatus {
            status: FinalStatus::NoAnswer,
        }],
        w,
    );
    assert_eq!(worker.presence, Presence::Offline);
    assert_eq!(worker.missed_calls, 2);
    assert_eq!(d[0].texts.len(), 1);
    assert_eq!(d[0].texts[0].reply.key, "missed-calls-offline");
    assert!(
        d[0].commands
            .iter()
            .any(|c| c.describe().contains("ActivitySid=Offline"))
    );
}

#[test]
fn an_opted_out_worker_taken_offline_gets_no_text() {
    let mut w = worker();
    w.missed_calls = 1;
    w.opted_out = true;
    let (_, worker, d) = run(
        &[Event::CallStatus {
            status: FinalStatus::Busy,
        }],
        w,
    );
    assert_eq!(worker.presence, Presence::Offline);
    assert!(d[0].texts.is_empty());
}

#[test]
fn a_reservation_timeout_while_ringing_cancels_the_call_without_counting_a_miss() {
    let (record, worker, d) = run(
        &[
            started(),
            Event::ReservationEnded {
                reason: EndReason::Timeout,
            },
        ],
        worker(),
    );
    assert_eq!(record.state, ReservationState::Gone);
    assert_eq!(worker.missed_calls, 0);
    assert_eq!(worker.presence, Presence::CoolDown);
    assert!(
        d[1].commands
            .iter()
            .any(|c| c.describe() == format!("cancel ringing call {}", call()))
    );
}

#[test]
fn a_caller_who_hangs_up_while_the_worker_rings_counts_no_miss() {
    let (record, worker, d) = run(
        &[
            started(),
            Event::ReservationEnded {
                reason: EndReason::Canceled,
            },
        ],
        worker(),
    );
    assert_eq!(record.state, ReservationState::Gone);
    assert_eq!(worker.missed_calls, 0);
    assert_eq!(worker.presence, Presence::Online);
    assert!(
        d[1].commands
            .iter()
            .any(|c| c.describe() == format!("cancel ringing call {}", call()))
    );
}

#[test]
fn late_callbacks_after_the_end_change_nothing() {
    let (record, _, d) = run(
        &[
            started(),
            Event::ReservationEnded {
                reason: EndReason::Canceled,
            },
            answered(None),
            Event::Keys { digits: "1".into() },
        ],
        worker(),
    );
    assert_eq!(record.state, ReservationState::Gone);
    assert_eq!(
        d[2].voice,
        Voice::HangUp,
        "a call answered after the end is hung up, never bridged"
    );
    assert_eq!(d[3].voice, Voice::HangUp);
    assert!(d[2].commands.is_empty() && d[3].commands.is_empty());
}

#[test]
fn a_wrong_key_says_goodbye_and_counts_a_miss() {
    let (record, worker, d) = run(
        &[
            started(),
            answered(None),
            Event::Keys { digits: "7".into() },
        ],
        worker(),
    );
    assert_eq!(record.outcome, Some(Outcome::WrongKey));
    assert_eq!(d[2].voice, Voice::Goodbye);
    assert_eq!(worker.missed_calls, 1);
}

const MODES: [ConfirmMode; 3] = [
    ConfirmMode::Amd,
    ConfirmMode::Press1,
    ConfirmMode::AmdPress1,
];

#[test]
fn an_unknown_verdict_asks_for_1_in_every_mode_and_silence_rejects() {
    for mode in MODES {
        let (record, d) = run_in(
            mode,
            &settings(),
            &[
                started(),
                answered(Some("unknown")),
                Event::Keys {
                    digits: String::new(),
                },
            ],
        );
        assert_eq!(d[1].voice, Voice::AskKey, "{mode:?}");
        assert_eq!(record.state, ReservationState::Missed, "{mode:?}");
        assert_eq!(record.outcome, Some(Outcome::NoKey), "{mode:?}");
        assert!(
            d[2].commands
                .iter()
                .any(|c| matches!(c, Command::RejectReservation { .. })),
            "{mode:?}"
        );
    }
}

#[test]
fn an_unknown_asynchronous_verdict_leaves_the_prompt_to_decide() {
    let (record, d) = run_in(
        ConfirmMode::AmdPress1,
        &settings(),
        &[
            started(),
            answered(None),
            Event::Amd {
                answered_by: AnsweredBy::Unknown,
            },
        ],
    );
    assert_eq!(d[2].voice, Voice::Nothing);
    assert_eq!(record.state, ReservationState::Answered);
    assert!(d[2].commands.is_empty(), "{:?}", d[2].commands);
}

#[test]
fn a_human_verdict_is_whispered_the_skill_and_the_city() {
    let (record, d) = run_in(
        ConfirmMode::Amd,
        &settings(),
        &[started(), answered(Some("human"))],
    );
    assert_eq!(record.state, ReservationState::Bridged);
    assert_eq!(
        d[1].voice,
        Voice::Bridge(Whisper {
            skill: true,
            caller: Some(CallerHint::City("Chicago".into()))
        })
    );
}

#[test]
fn the_whisper_says_what_the_business_chose_about_the_caller() {
    let cases = [
        (
            WhisperCaller::City,
            Some(CallerHint::City("Chicago".into())),
        ),
        (
            WhisperCaller::LastDigits,
            Some(CallerHint::LastDigits("0000".into())),
        ),
        (WhisperCaller::Nothing, None),
    ];
    for (whisper_caller, expected) in cases {
        let settings = DispatchSettings {
            whisper_caller,
            ..settings()
        };
        let (_, d) = run_in(
            ConfirmMode::AmdPress1,
            &settings,
            &[
                started(),
                answered(None),
                Event::Keys { digits: "1".into() },
            ],
        );
        assert_eq!(
            d[2].voice,
            Voice::Bridge(Whisper {
                skill: false,
                caller: expected
            }),
            "{whisper_caller:?}"
        );
    }
}
