//! The callback core, event by event: what a request becomes and which commands it asks for.

use chrono::{TimeZone, Utc};

use super::*;

/// Monday 2 March 2026, 10:00 in Chicago (16:00 UTC).
fn monday_10am() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 16, 0, 0).unwrap()
}

fn settings() -> CallbackSettings {
    let hours = match crate::core::schedule::parse("mon-fri 9am-5pm").unwrap() {
        crate::core::schedule::Request::Set(week) => Some(week),
        crate::core::schedule::Request::Clear => None,
    };
    CallbackSettings {
        enabled: true,
        key: '1',
        priority: 0,
        attempts: 2,
        retry_after: TimeDelta::minutes(30),
        hours,
        time_zone: chrono_tz::America::Chicago,
    }
}

fn request() -> Request {
    Request {
        id: "CA01".into(),
        customer: "+13125550123".into(),
        caller_city: Some("Chicago".into()),
        skill: Some(SkillKey::parse("billing").unwrap()),
        language: Locale::En,
        source: Source::Queue,
        voicemail: None,
    }
}

fn res(n: u8) -> ReservationSid {
    ReservationSid::parse(&format!("WR{:032}", n)).unwrap()
}

fn task(n: u8) -> TaskSid {
    TaskSid::parse(&format!("WT{:032}", n)).unwrap()
}

fn ana() -> PhoneNumber {
    PhoneNumber::parse("+15550001111").unwrap()
}

/// Applies events in turn from a fresh request at `now`, returning the last decision and
/// the record after it.
fn run(events: &[Event], now: DateTime<Utc>) -> (Decision, CallbackRecord) {
    let settings = settings();
    let first = decide(None, &Event::Requested(request()), now, &settings);
    let mut record = first.record.clone().expect("a new request is stored");
    let mut last = first;
    for event in events {
        last = decide(Some(&record), event, now, &settings);
        if let Some(next) = &last.record {
            record = next.clone();
        }
    }
    (last, record)
}

fn created_at(decision: &Decision) -> Vec<Option<DateTime<Utc>>> {
    decision
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::CreateTask { not_before, .. } => Some(*not_before),
            _ => None,
        })
        .collect()
}

fn reserved(n: u8) -> Event {
    Event::Reserved {
        task_sid: task(n),
        reservation_sid: res(n),
    }
}

fn dialed(n: u8, outcome: DialOutcome) -> Event {
    Event::Dialed {
        reservation_sid: res(n),
        worker: ana(),
        outcome,
        talk_secs: if outcome == DialOutcome::Answered {
            90
        } else {
            0
        },
    }
}

#[test]
fn a_request_in_calling_hours_goes_to_taskrouter_at_once_with_its_routing_fields() {
    let (decision, record) = run(&[], monday_10am());
    assert_eq!(record.status, Status::Waiting);
    assert_eq!(created_at(&decision), vec![None]);
    let Command::CreateTask { attributes, .. } = &decision.commands[0] else {
        panic!("{:?}", decision.commands);
    };
    let attributes: serde_json::Value = serde_json::from_str(attributes).unwrap();
    assert_eq!(attributes["type"], "callback");
    assert_eq!(attributes["callback"], "CA01");
    assert_eq!(attributes["skill"], "billing");
    assert_eq!(attributes["language"], "en");
}

#[test]
fn a_request_at_night_waits_for_the_calling_hours() {
    // Friday 21:00 in Chicago: the next opening is Monday 9:00 (15:00 UTC).
    let friday_night = Utc.with_ymd_and_hms(2026, 3, 7, 3, 0, 0).unwrap();
    let (decision, record) = run(&[], friday_night);
    let monday_9am = Utc.with_ymd_and_hms(2026, 3, 9, 14, 0, 0).unwrap();
    assert_eq!(created_at(&decision), vec![Some(monday_9am)]);
    assert_eq!(record.next_try, Some(monday_9am));
}

#[test]
fn asking_twice_for_the_same_call_changes_nothing() {
    let (decision, _) = run(&[Event::Requested(request())], monday_10am());
    assert_eq!(decision.record, None);
    assert!(decision.commands.is_empty());
}

#[test]
fn a_reservation_in_calling_hours_calls_the_worker() {
    let (decision, record) = run(&[reserved(1)], monday_10am());
    assert_eq!(decision.offer, Some(Offer::CallWorker));
    assert_eq!(record.status, Status::Calling);
    assert_eq!(record.reservation_sid, Some(res(1)));
    assert!(decision.commands.is_empty());
}

#[test]
fn a_reservation_after_hours_is_withdrawn_and_the_request_waits_for_the_morning() {
    let settings = settings();
    let first = decide(None, &Event::Requested(request()), monday_10am(), &settings);
    let record = first.record.unwrap();
    // Monday 18:00 in Chicago: a worker still online at night.
    let evening = Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap();
    let decision = decide(Some(&record), &reserved(1), evening, &settings);
    assert_eq!(decision.offer, Some(Offer::Withdrawn));
    assert!(matches!(
        &decision.commands[0],
        Command::EndTask {
            completed: false,
            ..
        }
    ));
    let tuesday_9am = Utc.with_ymd_and_hms(2026, 3, 3, 15, 0, 0).unwrap();
    assert_eq!(created_at(&decision), vec![Some(tuesday_9am)]);
    let record = decision.record.unwrap();
    assert_eq!(record.status, Status::Waiting);
    // The cancellation comes back as an event: it must not put a second task in.
    let later = decide(
        Some(&record),
        &Event::TaskCanceled { task_sid: task(1) },
        evening,
        &settings,
    );
    assert!(later.commands.is_empty(), "{:?}", later.commands);
}

#[test]
fn an_answered_callback_is_returned_and_its_task_completed() {
    let (decision, record) = run(
        &[reserved(1), dialed(1, DialOutcome::Answered)],
        monday_10am(),
    );
    assert_eq!(record.status, Status::Returned);
    assert_eq!(record.closed_at, Some(monday_10am()));
    assert_eq!(record.attempts.len(), 1);
    assert_eq!(record.attempts[0].talk_secs, 90);
    assert_eq!(
        decision.commands,
        vec![Command::EndTask {
            task_sid: task(1),
            completed: true,
            reason: "answered".into()
        }]
    );
}

#[test]
fn a_customer_who_does_not_answer_is_tried_again_later_then_the_request_closes() {
    let (decision, record) = run(
        &[reserved(1), dialed(1, DialOutcome::NoAnswer)],
        monday_10am(),
    );
    assert_eq!(record.status, Status::Waiting);
    assert_eq!(
        created_at(&decision),
        vec![Some(monday_10am() + TimeDelta::minutes(30))]
    );
    assert!(decision.notices.is_empty());

    let (decision, record) = run(
        &[
            reserved(1),
            dialed(1, DialOutcome::NoAnswer),
            reserved(2),
            dialed(2, DialOutcome::Busy),
        ],
        monday_10am(),
    );
    assert_eq!(record.status, Status::Abandoned);
    assert_eq!(record.missed(), 2);
    assert!(created_at(&decision).is_empty(), "no third try");
    assert_eq!(decision.notices.len(), 1);
    assert_eq!(decision.notices[0].reply.key, "callback-abandoned");
}

#[test]
fn a_retry_that_would_fall_after_hours_waits_for_the_next_opening() {
    // Monday 16:45 in Chicago: 30 minutes later is after 17:00.
    let late = Utc.with_ymd_and_hms(2026, 3, 2, 22, 45, 0).unwrap();
    let (decision, _) = run(&[reserved(1), dialed(1, DialOutcome::NoAnswer)], late);
    let tuesday_9am = Utc.with_ymd_and_hms(2026, 3, 3, 15, 0, 0).unwrap();
    assert_eq!(created_at(&decision), vec![Some(tuesday_9am)]);
}

#[test]
fn a_repeated_or_stale_dial_result_counts_once() {
    let (decision, record) = run(
        &[
            reserved(1),
            dialed(1, DialOutcome::NoAnswer),
            dialed(1, DialOutcome::NoAnswer),
        ],
        monday_10am(),
    );
    assert_eq!(record.attempts.len(), 1);
    assert!(decision.commands.is_empty());
    let (_, record) = run(&[reserved(2), dialed(1, DialOutcome::Busy)], monday_10am());
    assert!(record.attempts.is_empty(), "another reservation's result");
}

#[test]
fn a_worker_who_missed_the_call_leaves_the_task_to_taskrouter() {
    let ended = Event::WorkerCallEnded {
        reservation_sid: res(1),
        worker: ana(),
        bridged: false,
    };
    let (decision, record) = run(&[reserved(1), ended], monday_10am());
    assert_eq!(record.status, Status::Waiting);
    assert!(record.attempts.is_empty());
    assert!(
        decision.commands.is_empty(),
        "TaskRouter offers the same task to the next worker"
    );
}

#[test]
fn a_worker_who_hangs_up_before_dialling_costs_the_customer_no_try() {
    let ended = Event::WorkerCallEnded {
        reservation_sid: res(1),
        worker: ana(),
        bridged: true,
    };
    let (decision, record) = run(&[reserved(1), ended], monday_10am());
    assert_eq!(record.status, Status::Waiting);
    assert_eq!(record.attempts[0].outcome, DialOutcome::WorkerLeft);
    assert_eq!(record.missed(), 0);
    assert_eq!(created_at(&decision), vec![None], "straight back in");
    // After the dial result, the end of the worker's call changes nothing.
    let ended = Event::WorkerCallEnded {
        reservation_sid: res(1),
        worker: ana(),
        bridged: true,
    };
    let (decision, _) = run(
        &[reserved(1), dialed(1, DialOutcome::Answered), ended],
        monday_10am(),
    );
    assert!(decision.commands.is_empty());
}

#[test]
fn a_task_taskrouter_dropped_is_put_back_and_a_closed_request_withdraws_its_task() {
    let (decision, record) = run(&[Event::TaskCanceled { task_sid: task(9) }], monday_10am());
    assert_eq!(record.status, Status::Waiting);
    assert_eq!(created_at(&decision), vec![None]);

    let (decision, _) = run(
        &[reserved(1), dialed(1, DialOutcome::Answered), reserved(2)],
        monday_10am(),
    );
    assert_eq!(decision.offer, Some(Offer::Withdrawn));
    assert!(matches!(
        &decision.commands[..],
        [Command::EndTask {
            completed: false,
            ..
        }]
    ));
}

#[test]
fn a_transcription_is_kept_with_the_voicemail() {
    let settings = settings();
    let mut with_voicemail = request();
    with_voicemail.source = Source::Voicemail;
    with_voicemail.voicemail = Some(Voicemail {
        recording_sid: "RE01".into(),
        duration_secs: 12,
        transcription: None,
    });
    let now = monday_10am();
    let record = decide(None, &Event::Requested(with_voicemail), now, &settings)
        .record
        .unwrap();
    let words = Event::Transcribed {
        text: "Please call me about my bill".into(),
    };
    let record = decide(Some(&record), &words, now, &settings)
        .record
        .unwrap();
    assert_eq!(
        record.voicemail.unwrap().transcription.as_deref(),
        Some("Please call me about my bill")
    );
}

#[test]
fn a_second_task_for_a_request_being_returned_is_withdrawn_but_a_reoffer_is_not() {
    // TaskRouter offers the same task to the next worker: that one calls.
    let reoffer = Event::Reserved {
        task_sid: task(1),
        reservation_sid: res(2),
    };
    let (decision, record) = run(&[reserved(1), reoffer], monday_10am());
    assert_eq!(decision.offer, Some(Offer::CallWorker));
    assert_eq!(record.reservation_sid, Some(res(2)));
    // A duplicate task (a retried create) while someone is calling: withdrawn.
    let (decision, record) = run(&[reserved(1), reserved(2)], monday_10am());
    assert_eq!(decision.offer, Some(Offer::Withdrawn));
    assert_eq!(record.reservation_sid, Some(res(1)));
    assert!(matches!(
        &decision.commands[..],
        [Command::EndTask { completed: false, task_sid, .. }] if *task_sid == task(2)
    ));
}
