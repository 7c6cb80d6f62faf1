//! Property tests for `shiftline::core::schedule`: the parser never panics on any text, every schedule
//! it accepts reads back (in English and Spanish) to text that parses to the same schedule, and
//! `next_change` / `is_on_shift` agree with each other at every instant, across DST changes, in
//! zones with whole-hour DST (America/Chicago, Europe/Madrid), none (UTC) and a 45-minute
//! offset that moves at 2:45 (Pacific/Chatham).

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use shiftline::core::domain::Locale;
use shiftline::core::schedule::{ParseError, Request, Schedule, Shift, parse};

// Kept modest so the whole file runs in a few seconds.
const CASES: u32 = 256;

const ZONES: [Tz; 4] = [
    chrono_tz::America::Chicago,
    chrono_tz::Europe::Madrid,
    chrono_tz::UTC,
    chrono_tz::Pacific::Chatham,
];

/// Pieces of the grammar, valid and not, to build texts that get deep into the parser.
const TOKENS: &[&str] = &[
    "mon",
    "Monday",
    "lun",
    "LUNES",
    "tue",
    "tues",
    "martes",
    "wed",
    "mié",
    "miercoles",
    "thu",
    "thurs",
    "jue",
    "fri",
    "vie",
    "sat",
    "sábado",
    "sun",
    "dom",
    "weekdays",
    "weekends",
    "every day",
    "daily",
    "entre semana",
    "fin de semana",
    "todos los dias",
    "diario",
    "0",
    "1",
    "5",
    "6",
    "9",
    "12",
    "13",
    "17",
    "22",
    "24",
    "25",
    "99",
    "9:30",
    "12:00",
    "17:30",
    "0930",
    "9:75",
    "9:5",
    "12345",
    "9am",
    "9 am",
    "9a",
    "5pm",
    "5:30pm",
    "5 p.m.",
    "12am",
    "12pm",
    "13pm",
    "0am",
    "noon",
    "midnight",
    "mediodia",
    "de la manana",
    "de la tarde",
    "de la noche",
    "-",
    "–",
    "to",
    "a",
    "al",
    "hasta",
    "y",
    "and",
    "de",
    "from",
    "the",
    "h",
    ",",
    ";",
    ":",
    ".",
    "off",
    "clear",
    "no",
    "borrar",
    "foo",
    "👍",
    "?",
    "\u{301}",
    "\u{200b}",
    "٣",
];
const GLUE: &[&str] = &["", " ", "  ", ",", ", ", "-", " - ", ";", "\n"];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (prop::sample::select(TOKENS), prop::sample::select(GLUE)),
        0..14,
    )
    .prop_map(|parts| parts.into_iter().map(|(t, g)| format!("{t}{g}")).collect())
}

/// Texts shaped like real schedules (days, then one or more ranges), so most of them parse.
fn schedule_text() -> impl Strategy<Value = String> {
    let day = prop::sample::select(
        &[
            "mon", "tue", "wed", "thu", "fri", "sat", "sun", "lun", "mar", "mie", "jue", "vie",
            "sab", "dom",
        ][..],
    );
    let days = prop_oneof![
        prop::collection::vec(day.clone(), 1..4).prop_map(|d| d.join(", ")),
        (day.clone(), day).prop_map(|(a, b)| format!("{a}-{b}")),
        prop::sample::select(&["weekdays", "weekends", "daily", "fin de semana"][..])
            .prop_map(str::to_string),
    ];
    let time = prop_oneof![
        (0u32..=24).prop_map(|h| h.to_string()),
        (
            0u32..24,
            prop::sample::select(&[0u32, 5, 15, 30, 45, 59][..])
        )
            .prop_map(|(h, m)| format!("{h}:{m:02}")),
        (
            1u32..=12,
            prop::sample::select(&["am", "pm", "a", "p", " am", " pm"][..])
        )
            .prop_map(|(h, half)| format!("{h}{half}")),
    ];
    let range = (
        time.clone(),
        prop::sample::select(&["-", " - ", " to ", " a ", "–"][..]),
        time,
    )
        .prop_map(|(a, to, b)| format!("{a}{to}{b}"));
    let group = (days, prop::collection::vec(range, 1..3))
        .prop_map(|(days, ranges)| format!("{days} {}", ranges.join(" ")));
    prop::collection::vec(group, 1..4).prop_map(|groups| groups.join(" "))
}

/// Any valid schedule: random shifts, each kept only if it overlaps none kept before. Starts
/// lean towards 1:00-4:00, where the DST changes of the test zones are.
fn any_schedule() -> impl Strategy<Value = Schedule> {
    let start = prop_oneof![0u32..1440, 60u32..240, Just(0u32)];
    let length = prop_oneof![1u32..=1440, 1u32..=180];
    prop::collection::vec((0u32..7, start, length), 0..8).prop_map(|raw| {
        let mut shifts: Vec<Shift> = Vec::new();
        for (day, start, length) in raw {
            let minute = |m: u32| NaiveTime::from_hms_opt(m / 60 % 24, m % 60, 0).unwrap();
            let shift = Shift {
                day: Weekday::try_from(day as u8).unwrap(),
                start: minute(start),
                end: minute(start + length),
            };
            let mut candidate = shifts.clone();
            candidate.push(shift);
            if Schedule::new(candidate).is_ok() {
                shifts.push(shift);
            }
        }
        Schedule::new(shifts).unwrap()
    })
}

/// Instants in 2020-2035, half of them in the months when the test zones change clocks.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let start = utc(2020, 1, 1).timestamp();
    let end = utc(2036, 1, 1).timestamp();
    let anywhere = (start..end).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap());
    let near_changes = (
        2020i32..=2035,
        prop::sample::select(&[3u32, 4, 9, 10, 11][..]),
        1u32..=28,
        0i64..86_400,
    )
        .prop_map(|(y, m, d, s)| utc(y, m, d) + TimeDelta::seconds(s));
    prop_oneof![anywhere, near_changes]
}

fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_time(NaiveTime::MIN)
        .and_utc()
}

fn zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(&ZONES[..])
}

fn assert_reads_back(schedule: &Schedule) -> Result<(), TestCaseError> {
    for locale in Locale::ALL {
        let text = schedule.describe(locale);
        prop_assert!(text.is_ascii(), "{text:?} is not plain ASCII");
        prop_assert_eq!(
            parse(&text),
            Ok(Request::Set(schedule.clone())),
            "read-back {:?} in {}",
            text,
            locale
        );
    }
    Ok(())
}

fn assert_short(error: &ParseError) -> Result<(), TestCaseError> {
    let text = error.to_string();
    prop_assert!(text.chars().count() < 80, "{text:?} is too long");
    prop_assert!(!text.contains(['\n', '\r']), "{text:?} is not one line");
    Ok(())
}

fn check_parse(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(Request::Set(schedule)) => {
            prop_assert!(!schedule.is_empty());
            assert_reads_back(&schedule)
        }
        Ok(Request::Clear) => Ok(()),
        Err(error) => assert_short(&error),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn parse_never_panics_on_any_text(text in any::<String>()) {
        check_parse(&text)?;
    }

    #[test]
    fn parse_never_panics_on_printable_text(text in "\\PC{0,80}") {
        check_parse(&text)?;
    }

    #[test]
    fn parse_never_panics_on_grammar_token_soup(text in token_soup()) {
        check_parse(&text)?;
    }

    #[test]
    fn schedule_shaped_texts_parse_and_read_back_to_the_same_schedule(text in schedule_text()) {
        check_parse(&text)?;
    }

    #[test]
    fn any_valid_schedule_reads_back_to_itself(schedule in any_schedule()) {
        if !schedule.is_empty() {
            assert_reads_back(&schedule)?;
        }
    }

    #[test]
    fn status_just_after_each_change_is_the_one_reported(
        schedule in any_schedule(),
        now in instant(),
        tz in zone(),
    ) {
        // Walk a few changes: each is strictly later, within 8 days, flips the status, and the
        // status holds from one change up to the next.
        let mut at = now;
        let mut previous: Option<bool> = None;
        for _ in 0..4 {
            let status = schedule.is_on_shift(at, tz);
            match schedule.next_change(at, tz) {
                Some((change, on)) => {
                    prop_assert!(change > at);
                    prop_assert!(change <= at + TimeDelta::days(8));
                    prop_assert_eq!(status, !on, "status at {} before a change to {}", at, on);
                    prop_assert_eq!(schedule.is_on_shift(change, tz), on, "at {}", change);
                    let just_before = change - TimeDelta::seconds(1);
                    if just_before >= at {
                        prop_assert_eq!(schedule.is_on_shift(just_before, tz), !on, "at {}", just_before);
                    }
                    if let Some(previous) = previous {
                        prop_assert_eq!(previous, !on, "changes alternate");
                    }
                    previous = Some(on);
                    at = change;
                }
                None => {
                    // Nothing ever changes: an empty schedule, or one on shift all week.
                    prop_assert_eq!(status, !schedule.is_empty());
                    for days in 1..=8 {
                        let later = at + TimeDelta::days(days) - TimeDelta::minutes(days * 37);
                        prop_assert_eq!(schedule.is_on_shift(later, tz), status);
                    }
                    break;
                }
            }
        }
    }

    #[test]
    fn any_representable_instant_is_handled_without_panic(
        schedule in any_schedule(),
        seconds in DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp(),
        tz in zone(),
    ) {
        let now = DateTime::from_timestamp(seconds, 0).unwrap();
        let _ = schedule.is_on_shift(now, tz);
        let _ = schedule.next_change(now, tz);
    }
}
