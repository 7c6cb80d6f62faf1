//! Texts from numbers that are not on the roster. Only `JOIN <pin> <name>` with the
//! business's enrolment PIN does anything; wrong PINs are limited per number so a PIN cannot
//! be guessed by brute force.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::record::{Source, WorkerRecord};
use super::reply::Reply;
use super::understand::{Intent, understand};
use super::{Context, Outcome, PinUpdate};
use crate::core::domain::PhoneNumber;

/// Wrong PINs allowed from one number within `PIN_WINDOW` before it is locked out.
pub const MAX_PIN_FAILURES: u32 = 5;
pub const PIN_WINDOW: TimeDelta = TimeDelta::hours(1);
const MAX_NAME_CHARS: usize = 40;

/// Wrong-PIN attempts from one number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinAttempts {
    pub failures: u32,
    pub window_start: DateTime<Utc>,
}

impl PinAttempts {
    fn current(attempts: Option<&PinAttempts>, now: DateTime<Utc>) -> PinAttempts {
        match attempts {
            Some(a) if now - a.window_start < PIN_WINDOW => a.clone(),
            _ => PinAttempts {
                failures: 0,
                window_start: now,
            },
        }
    }
}

pub fn on_text(
    ctx: &Context,
    phone: &PhoneNumber,
    text: &str,
    now: DateTime<Utc>,
    attempts: Option<&PinAttempts>,
) -> Outcome {
    on_intent(
        ctx,
        phone,
        understand(text, ctx.default_language, ctx.catalog),
        now,
        attempts,
    )
}

/// What an unknown number asked for (by SMS or by phone) and what comes of it.
pub fn on_intent(
    ctx: &Context,
    phone: &PhoneNumber,
    intent: Option<Intent>,
    now: DateTime<Utc>,
    attempts: Option<&PinAttempts>,
) -> Outcome {
    let locale = ctx.default_language;
    let reply = |r: Reply| Outcome::reply_only(locale, r);
    let Some(enrolment) = ctx.enrolment else {
        return reply(Reply::new("not-registered"));
    };
    let Some(Intent::Join { pin, name }) = intent else {
        return reply(Reply::new("not-registered-join"));
    };
    let attempts = PinAttempts::current(attempts, now);
    if attempts.failures >= MAX_PIN_FAILURES {
        return reply(Reply::new("join-locked"));
    }
    let name = clean_name(&name);
    if pin.is_empty() || name.is_empty() {
        return reply(Reply::new("join-usage"));
    }
    if !same_pin(&pin, &enrolment.pin) {
        let failures = attempts.failures + 1;
        let key = if failures >= MAX_PIN_FAILURES {
            "join-locked"
        } else {
            "join-wrong-pin"
        };
        let mut outcome = reply(Reply::new(key));
        outcome.pins = PinUpdate::Set(PinAttempts {
            failures,
            ..attempts
        });
        return outcome;
    }
    let record = WorkerRecord::new(
        phone.clone(),
        name.clone(),
        enrolment.language,
        vec![enrolment.language],
        enrolment.time_zone,
        Source::Enrolled,
        now,
    );
    Outcome {
        locale: record.language,
        record: Some(record),
        pins: PinUpdate::Clear,
        replies: vec![Reply::new("join-welcome").text("name", name)],
        commands: Vec::new(),
        keyword: "join",
    }
}

/// A name as a person would write it: printable, single-spaced, not too long for an SMS.
fn clean_name(raw: &str) -> String {
    let words: Vec<&str> = raw.split_whitespace().collect();
    words
        .join(" ")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | '&' | '"'))
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Compares without stopping at the first differing byte, so timing tells nothing.
fn same_pin(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::Enrolment;
    use crate::core::domain::Locale;
    use crate::core::domain::catalog::Catalog;

    fn ctx(enrolment: &Enrolment) -> Context<'_> {
        static CATALOG: std::sync::LazyLock<Catalog> = std::sync::LazyLock::new(Catalog::default);
        Context {
            catalog: &CATALOG,
            enrolment: Some(enrolment),
            default_language: Locale::En,
        }
    }

    fn enrolment() -> Enrolment {
        Enrolment {
            pin: "4321".into(),
            language: Locale::Es,
            time_zone: chrono_tz::America::Chicago,
        }
    }

    fn phone() -> PhoneNumber {
        PhoneNumber::parse("+15550007777").unwrap()
    }

    #[test]
    fn the_right_pin_registers_the_sender_with_the_defaults() {
        let e = enrolment();
        let out = on_text(
            &ctx(&e),
            &phone(),
            "JOIN 4321  Maria   Lopez",
            Utc::now(),
            None,
        );
        let record = out.record.expect("registered");
        assert_eq!(record.name, "Maria Lopez");
        assert_eq!(record.language, Locale::Es);
        assert_eq!(out.pins, PinUpdate::Clear);
    }

    #[test]
    fn wrong_pins_lock_the_number_for_an_hour() {
        let e = enrolment();
        let now = Utc::now();
        let mut attempts = None;
        for _ in 0..MAX_PIN_FAILURES {
            let out = on_text(&ctx(&e), &phone(), "JOIN 0000 Eve", now, attempts.as_ref());
            assert!(out.record.is_none());
            let PinUpdate::Set(a) = out.pins else {
                panic!("failure not counted")
            };
            attempts = Some(a);
        }
        let locked = on_text(&ctx(&e), &phone(), "JOIN 4321 Eve", now, attempts.as_ref());
        assert!(
            locked.record.is_none(),
            "the right PIN is refused while locked"
        );
        assert_eq!(locked.replies[0].key, "join-locked");
        let later = now + PIN_WINDOW;
        let out = on_text(
            &ctx(&e),
            &phone(),
            "JOIN 4321 Eve",
            later,
            attempts.as_ref(),
        );
        assert!(out.record.is_some(), "the lock ends after the window");
    }

    #[test]
    fn other_texts_from_unknown_numbers_change_nothing() {
        let e = enrolment();
        let out = on_text(&ctx(&e), &phone(), "ON", Utc::now(), None);
        assert!(out.record.is_none());
        assert_eq!(out.pins, PinUpdate::Keep);
        assert_eq!(out.replies[0].key, "not-registered-join");
    }
}
