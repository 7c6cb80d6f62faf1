//! Temporary overrides: "ON until 6pm", "OFF for 30m", "activo hasta las 18", "salir por
//! 2 horas". The command is carried out now and ends by itself at the time given, in the
//! worker's own zone.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use regex::Regex;

use super::keywords::{Intent, normalize, understand};

/// When a temporary override ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// The next time the worker's clock shows this time.
    Time(NaiveTime),
    For(TimeDelta),
}

impl Until {
    /// The instant it ends, from `now` in `zone`; a time already past today means tomorrow.
    pub fn at(self, now: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        match self {
            Until::For(span) => now + span,
            Until::Time(time) => {
                let local = now.with_timezone(&zone);
                for day in 0..3 {
                    let date = local.date_naive() + TimeDelta::days(day);
                    // earliest(): in a repeated hour the first one; a skipped time has none.
                    if let Some(at) = date.and_time(time).and_local_timezone(zone).earliest()
                        && at > local
                    {
                        return at.with_timezone(&Utc);
                    }
                }
                now + TimeDelta::hours(24)
            }
        }
    }
}

/// "<command> until <time>" and "<command> for <span>", in English and Spanish.
static HOLD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<head>.+?)\s+(?:(?P<until>until|till|til|hasta las|hasta la|hasta)|(?P<for>for|por|durante))\s+(?P<rest>.+)$")
        .expect("a valid pattern")
});
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<h>\d{1,2})(?:\s*(?::|h)?\s*(?P<m>\d{2}))?\s*(?P<ampm>am|a m|pm|p m)?$")
        .expect("a valid pattern")
});
static SPAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?P<n>\d{1,3})|an|a|una|un)\s*(?P<unit>m|min|mins|minute|minutes|minuto|minutos|h|hr|hrs|hour|hours|hora|horas)$")
        .expect("a valid pattern")
});

/// An ON or OFF with an end: (true for ON, when it ends). None for anything else.
pub fn parse(text: &str) -> Option<(bool, Until)> {
    let folded = normalize(text);
    let caps = HOLD.captures(&folded)?;
    let online = match understand(&caps["head"])? {
        Intent::On => true,
        Intent::Off => false,
        _ => return None,
    };
    let rest = caps["rest"].trim();
    let until = if caps.name("until").is_some() {
        Until::Time(time(rest)?)
    } else {
        Until::For(span(rest)?)
    };
    Some((online, until))
}

fn time(text: &str) -> Option<NaiveTime> {
    match text {
        "noon" | "mediodia" => return NaiveTime::from_hms_opt(12, 0, 0),
        "midnight" | "medianoche" => return NaiveTime::from_hms_opt(0, 0, 0),
        _ => {}
    }
    let caps = TIME.captures(text)?;
    let mut hour: u32 = caps["h"].parse().ok()?;
    let minute: u32 = caps
        .name("m")
        .map_or(Some(0), |m| m.as_str().parse().ok())?;
    match caps.name("ampm").map(|m| m.as_str().starts_with('p')) {
        Some(pm) if (1..=12).contains(&hour) => hour = hour % 12 + if pm { 12 } else { 0 },
        Some(_) => return None,
        None => {}
    }
    NaiveTime::from_hms_opt(hour, minute, 0)
}

fn span(text: &str) -> Option<TimeDelta> {
    let caps = SPAN.captures(text)?;
    let n: i64 = caps
        .name("n")
        .map_or(Some(1), |n| n.as_str().parse().ok())?;
    let minutes = if caps["unit"].starts_with('h') {
        n * 60
    } else {
        n
    };
    // A day at most: longer absences are what OFF and a schedule are for.
    (1..=24 * 60)
        .contains(&minutes)
        .then(|| TimeDelta::minutes(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn on_until_a_time_and_off_for_a_while_are_understood() {
        assert_eq!(parse("ON until 6pm"), Some((true, Until::Time(t(18, 0)))));
        assert_eq!(
            parse("online till 18:30"),
            Some((true, Until::Time(t(18, 30))))
        );
        assert_eq!(
            parse("I'm available until noon"),
            Some((true, Until::Time(t(12, 0))))
        );
        assert_eq!(
            parse("OFF for 30m"),
            Some((false, Until::For(TimeDelta::minutes(30))))
        );
        assert_eq!(
            parse("off for 2 hours"),
            Some((false, Until::For(TimeDelta::hours(2))))
        );
        assert_eq!(
            parse("off for an hour"),
            Some((false, Until::For(TimeDelta::hours(1))))
        );
        assert_eq!(
            parse("activo hasta las 6 pm"),
            Some((true, Until::Time(t(18, 0))))
        );
        assert_eq!(
            parse("salir por 45 minutos"),
            Some((false, Until::For(TimeDelta::minutes(45))))
        );
    }

    #[test]
    fn other_texts_are_not_holds() {
        for text in [
            "on",
            "off",
            "on my way until 6pm",
            "status until 6pm",
            "off for good",
            "on until 25pm",
            "off for 9999h",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn a_time_already_past_today_means_tomorrow_in_the_workers_zone() {
        use chrono::TimeZone;
        let zone = chrono_tz::America::Chicago;
        // 19:00 in Chicago (UTC-6).
        let now = Utc.with_ymd_and_hms(2026, 3, 3, 1, 0, 0).unwrap();
        assert_eq!(
            Until::Time(t(18, 0)).at(now, zone),
            Utc.with_ymd_and_hms(2026, 3, 4, 0, 0, 0).unwrap()
        );
        assert_eq!(
            Until::Time(t(20, 0)).at(now, zone),
            Utc.with_ymd_and_hms(2026, 3, 3, 2, 0, 0).unwrap()
        );
    }
}
