//! The read-back: a schedule in the worker's words and language ("Mon-Fri 9:00-17:00").
//!
//! Days with identical hours are grouped (three or more in a row become a range, `Mon-Fri`,
//! fewer a list, `Sat, Sun`), groups are separated by `; `. Times always carry minutes and a
//! midnight end is written `24:00`: the bare-hour guesses of the grammar never apply to them,
//! so the text parses back to exactly the same schedule. Only ASCII is used, so the read-back
//! stays in one GSM-7 segment's alphabet.

use chrono::{NaiveTime, Timelike, Weekday};

use super::{Schedule, Shift, TimeRange, WEEK};
use crate::core::domain::Locale;

impl Schedule {
    /// Short read-back in the worker's language, e.g. en `Mon-Fri 9:00-17:00`,
    /// `Mon, Wed, Fri 8:30-12:00, 13:00-17:30`, `Sat 22:00-6:00`; es `lun-vie 9:00-17:00`.
    /// The empty schedule reads `none` / `ninguno`.
    pub fn describe(&self, locale: Locale) -> String {
        if self.shifts.is_empty() {
            return match locale {
                Locale::En => "none",
                Locale::Es => "ninguno",
            }
            .to_string();
        }
        // Shifts are sorted by day then start, so each day's ranges come out in order.
        let mut ranges_by_day: [Vec<TimeRange>; 7] = Default::default();
        for shift in &self.shifts {
            ranges_by_day[shift.day.num_days_from_monday() as usize].push((shift.start, shift.end));
        }
        let mut groups: Vec<([bool; 7], &[TimeRange])> = Vec::new();
        for (day, ranges) in ranges_by_day.iter().enumerate() {
            if ranges.is_empty() {
                continue;
            }
            match groups.iter_mut().find(|(_, r)| *r == ranges.as_slice()) {
                Some((days, _)) => days[day] = true,
                None => {
                    let mut days = [false; 7];
                    days[day] = true;
                    groups.push((days, ranges));
                }
            }
        }
        groups
            .iter()
            .map(|(days, ranges)| {
                let ranges: Vec<String> = ranges.iter().map(|&(s, e)| range_label(s, e)).collect();
                format!("{} {}", days_label(days, locale), ranges.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// `Mon 9:00-12:00`, for error messages (always English: `ParseError`'s Display is).
pub(crate) fn shift_label(shift: &Shift) -> String {
    format!(
        "{} {}",
        day_name(shift.day, Locale::En),
        range_label(shift.start, shift.end)
    )
}

fn range_label(start: NaiveTime, end: NaiveTime) -> String {
    let end = if end == NaiveTime::MIN {
        "24:00".to_string()
    } else {
        time_label(end)
    };
    format!("{}-{end}", time_label(start))
}

fn time_label(time: NaiveTime) -> String {
    format!("{}:{:02}", time.hour(), time.minute())
}

fn day_name(day: Weekday, locale: Locale) -> &'static str {
    let i = day.num_days_from_monday() as usize;
    match locale {
        Locale::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i],
        Locale::Es => ["lun", "mar", "mie", "jue", "vie", "sab", "dom"][i],
    }
}

fn days_label(days: &[bool; 7], locale: Locale) -> String {
    let name = |i: usize| day_name(WEEK[i], locale);
    let count = days.iter().filter(|d| **d).count();
    if count == 7 {
        return format!("{}-{}", name(0), name(6));
    }
    // One run that wraps over the weekend (Fri, Sat, Sun, Mon) reads as the worker wrote it.
    let starts: Vec<usize> = (0..7).filter(|&i| days[i] && !days[(i + 6) % 7]).collect();
    if let [start] = starts[..] {
        if count >= 3 && start + count > 7 {
            return format!("{}-{}", name(start), name((start + count - 1) % 7));
        }
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while i < 7 {
        if !days[i] {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < 7 && days[j + 1] {
            j += 1;
        }
        if j - i >= 2 {
            parts.push(format!("{}-{}", name(i), name(j)));
        } else {
            parts.extend((i..=j).map(|d| name(d).to_string()));
        }
        i = j + 1;
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::schedule::{Request, parse};

    fn schedule(text: &str) -> Schedule {
        match parse(text) {
            Ok(Request::Set(schedule)) => schedule,
            other => panic!("{text:?} did not parse to a schedule: {other:?}"),
        }
    }

    fn reads(text: &str, en: &str, es: &str) {
        let s = schedule(text);
        assert_eq!(s.describe(Locale::En), en, "{text:?}");
        assert_eq!(s.describe(Locale::Es), es, "{text:?}");
    }

    #[test]
    fn issue_examples_read_back_in_the_workers_words() {
        reads("mon-fri 9-17", "Mon-Fri 9:00-17:00", "lun-vie 9:00-17:00");
        reads(
            "weekdays 9am-5pm",
            "Mon-Fri 9:00-17:00",
            "lun-vie 9:00-17:00",
        );
        reads("lun-vie 9-17", "Mon-Fri 9:00-17:00", "lun-vie 9:00-17:00");
        reads(
            "mon,wed,fri 8:30-12:00 13:00-17:30",
            "Mon, Wed, Fri 8:30-12:00, 13:00-17:30",
            "lun, mie, vie 8:30-12:00, 13:00-17:30",
        );
        reads("sat 22-6", "Sat 22:00-6:00", "sab 22:00-6:00");
    }

    #[test]
    fn identical_days_are_grouped_and_groups_follow_the_week() {
        reads(
            "sat 10-14 mon-fri 9-17",
            "Mon-Fri 9:00-17:00; Sat 10:00-14:00",
            "lun-vie 9:00-17:00; sab 10:00-14:00",
        );
        reads(
            "mon tue thu fri sat 9-17",
            "Mon, Tue, Thu-Sat 9:00-17:00",
            "lun, mar, jue-sab 9:00-17:00",
        );
        reads(
            "weekends 8-12",
            "Sat, Sun 8:00-12:00",
            "sab, dom 8:00-12:00",
        );
        reads("daily 7-15", "Mon-Sun 7:00-15:00", "lun-dom 7:00-15:00");
        reads("fri-mon 20-4", "Fri-Mon 20:00-4:00", "vie-lun 20:00-4:00");
        reads(
            "mon wed fri-sun 9-17",
            "Mon, Wed, Fri-Sun 9:00-17:00",
            "lun, mie, vie-dom 9:00-17:00",
        );
    }

    #[test]
    fn midnight_ends_read_as_24_00_and_whole_days_as_0_00_to_24_00() {
        reads("sun 18-24", "Sun 18:00-24:00", "dom 18:00-24:00");
        reads("tue 0-24", "Tue 0:00-24:00", "mar 0:00-24:00");
        reads("thu 10pm-12am", "Thu 22:00-24:00", "jue 22:00-24:00");
    }

    #[test]
    fn the_empty_schedule_reads_none() {
        assert_eq!(Schedule::default().describe(Locale::En), "none");
        assert_eq!(Schedule::default().describe(Locale::Es), "ninguno");
    }

    #[test]
    fn read_backs_parse_back_to_the_same_schedule() {
        for text in [
            "mon-fri 9-17",
            "mon,wed,fri 8:30-12:00 13:00-17:30",
            "sat 22-6",
            "fri-mon 9:00-5:00",
            "sun 0-24 mon 0-6",
            "weekdays 9-12 1-5 weekends 10-2",
        ] {
            let s = schedule(text);
            for locale in Locale::ALL {
                assert_eq!(
                    schedule(&s.describe(locale)),
                    s,
                    "{text:?} in {locale}: {}",
                    s.describe(locale)
                );
            }
        }
    }
}
