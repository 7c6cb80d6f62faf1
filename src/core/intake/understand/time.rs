//! Times inside a text: "until 6pm", "for 30 min", "back in 15", "hasta las 6 de la tarde",
//! "por media hora". The words come from the lexicon (`minute`, `hour`, `half`, `am`, ...);
//! this file only knows how they combine.

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::lexicon::Modifier;

/// When a temporary ON or OFF ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Until {
    /// The next time the worker's clock shows this time ("until 18:00", "until 6pm").
    Time(NaiveTime),
    /// An hour said without am or pm ("until 6"): the next 6:00 or 18:00, whichever comes
    /// first, as a person would read it.
    Hour(NaiveTime),
    /// A span from now, in minutes ("for 30 min").
    Minutes(i64),
}

impl Until {
    pub fn for_span(span: TimeDelta) -> Self {
        Until::Minutes(span.num_minutes())
    }

    /// The instant it ends, from `now` in `zone`; a time already past today means tomorrow.
    pub fn at(self, now: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        match self {
            Until::Minutes(minutes) => now + TimeDelta::minutes(minutes),
            Until::Time(time) => next_local(time, now, zone),
            Until::Hour(time) => {
                let later = time + TimeDelta::hours(12);
                next_local(time, now, zone).min(next_local(later, now, zone))
            }
        }
    }
}

fn next_local(time: NaiveTime, now: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
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

/// One word of a time, as the reader found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Number(u32),
    Word(Modifier),
    /// Any other word: a time stops there.
    Other,
}

/// The longest span of time starting at `parts[0]` ("30 min", "an hour", "media hora",
/// "una hora y media"), with how many parts it took. `bare` accepts a number without a
/// unit ("back in 15"), read as minutes.
pub fn span(parts: &[Part], bare: bool) -> Option<(TimeDelta, usize)> {
    use Modifier::{Half, Hour, Minute, One};
    let (minutes, used) = match parts {
        // "half an hour", "half hour", "media hora"
        [
            Part::Word(One),
            Part::Word(Half),
            Part::Word(One),
            Part::Word(Hour),
            ..,
        ] => (30, 4),
        [Part::Word(Half), Part::Word(One), Part::Word(Hour), ..] => (30, 3),
        [Part::Word(Half), Part::Word(Hour), ..] => (30, 2),
        [Part::Word(One), Part::Word(Half), Part::Word(Hour), ..] => (30, 3),
        // "an hour and a half", "una hora y media", "2 hours"
        [Part::Number(n), Part::Word(Hour), rest @ ..] => {
            (60 * i64::from(*n) + half(rest).0, 2 + half(rest).1)
        }
        [Part::Word(One), Part::Word(Hour), rest @ ..] => (60 + half(rest).0, 2 + half(rest).1),
        [Part::Number(n), Part::Word(Minute), ..] => (i64::from(*n), 2),
        [Part::Word(One), Part::Word(Minute), ..] => (1, 2),
        [Part::Number(n), ..] if bare => (i64::from(*n), 1),
        _ => return None,
    };
    // A day at most: longer absences are what OFF and a schedule are for.
    (1..=24 * 60)
        .contains(&minutes)
        .then(|| (TimeDelta::minutes(minutes), used))
}

/// "... and a half" after an hour: 30 more minutes and the parts it took.
fn half(rest: &[Part]) -> (i64, usize) {
    match rest {
        [Part::Word(Modifier::One), Part::Word(Modifier::Half), ..] => (30, 2),
        [Part::Word(Modifier::Half), ..] => (30, 1),
        _ => (0, 0),
    }
}

/// The clock time starting at `parts[0]` ("6", "6 pm", "18 30", "noon", "6 de la tarde").
pub fn clock(parts: &[Part]) -> Option<(Until, usize)> {
    use Modifier::{Am, Half, Midnight, Noon, Pm};
    let (hour, minute, used) = match parts {
        [Part::Word(Noon), ..] => return Some((Until::Time(hms(12, 0)?), 1)),
        [Part::Word(Midnight), ..] => return Some((Until::Time(hms(0, 0)?), 1)),
        [Part::Number(h), Part::Number(m), ..] if *m < 60 => (*h, *m, 2),
        // "a las 6 y media"
        [Part::Number(h), Part::Word(Half), ..] => (*h, 30, 2),
        [Part::Number(h), ..] => (*h, 0, 1),
        _ => return None,
    };
    let (hour, minute) = if hour >= 100 && minute == 0 && used == 1 {
        // "1830", "630": a time written without its colon.
        (hour / 100, hour % 100)
    } else {
        (hour, minute)
    };
    match parts.get(used) {
        Some(Part::Word(Pm)) if (1..=12).contains(&hour) => {
            Some((Until::Time(hms(hour % 12 + 12, minute)?), used + 1))
        }
        Some(Part::Word(Am)) if (1..=12).contains(&hour) => {
            Some((Until::Time(hms(hour % 12, minute)?), used + 1))
        }
        _ if (1..=12).contains(&hour) => Some((Until::Hour(hms(hour % 12, minute)?), used)),
        _ => Some((Until::Time(hms(hour, minute)?), used)),
    }
}

fn hms(hour: u32, minute: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(hour, minute, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Modifier::{Am, Half, Hour, Minute, Noon, One, Pm};
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn spans_read_numbers_units_and_halves() {
        let n = Part::Number;
        let w = Part::Word;
        assert_eq!(
            span(&[n(30), w(Minute)], false),
            Some((TimeDelta::minutes(30), 2))
        );
        assert_eq!(
            span(&[w(One), w(Hour)], false),
            Some((TimeDelta::hours(1), 2))
        );
        assert_eq!(
            span(&[w(Half), w(One), w(Hour)], false),
            Some((TimeDelta::minutes(30), 3))
        );
        assert_eq!(
            span(&[w(One), w(Hour), w(Half)], false),
            Some((TimeDelta::minutes(90), 3))
        );
        assert_eq!(span(&[n(15)], true), Some((TimeDelta::minutes(15), 1)));
        assert_eq!(span(&[n(15)], false), None);
        assert_eq!(span(&[n(9999), w(Hour)], false), None);
    }

    #[test]
    fn clock_times_read_am_pm_and_bare_hours() {
        let n = Part::Number;
        let w = Part::Word;
        assert_eq!(clock(&[n(6), w(Pm)]), Some((Until::Time(t(18, 0)), 2)));
        assert_eq!(clock(&[n(18), n(30)]), Some((Until::Time(t(18, 30)), 2)));
        assert_eq!(clock(&[n(6)]), Some((Until::Hour(t(6, 0)), 1)));
        assert_eq!(clock(&[w(Noon)]), Some((Until::Time(t(12, 0)), 1)));
        assert_eq!(clock(&[n(25), w(Pm)]), None);
        assert_eq!(clock(&[n(12), w(Am)]), Some((Until::Time(t(0, 0)), 2)));
    }

    #[test]
    fn a_bare_hour_is_the_next_of_morning_and_evening() {
        let zone = chrono_tz::America::Chicago;
        // 14:00 in Chicago (UTC-6): "until 6" is 18:00 today.
        let now = Utc.with_ymd_and_hms(2026, 3, 3, 20, 0, 0).unwrap();
        assert_eq!(
            Until::Hour(t(6, 0)).at(now, zone),
            Utc.with_ymd_and_hms(2026, 3, 4, 0, 0, 0).unwrap()
        );
        // "until 18:00" at 19:00 is tomorrow.
        let evening = Utc.with_ymd_and_hms(2026, 3, 4, 1, 0, 0).unwrap();
        assert_eq!(
            Until::Time(t(18, 0)).at(evening, zone),
            Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap()
        );
    }
}
