//! When a schedule puts a worker on or off shift. Each call turns the wall-clock shifts of the
//! days around `now` into instants with the zone's rules for those very dates (the DST rules are
//! in the `schedule` module docs), so nothing computed for one week is reused for another.

use chrono::{
    DateTime, Datelike, Days, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeDelta,
    TimeZone, Utc,
};
use chrono_tz::{GapInfo, Tz};

use super::Schedule;

/// How far ahead `next_change` looks: a weekly schedule changes within seven days (plus an
/// hour of DST) or never.
const SEARCH_DAYS: u64 = 8;

/// A stretch of real time on shift, `[start, end)`.
type Stretch = (DateTime<Utc>, DateTime<Utc>);

impl Schedule {
    /// Is `now` inside a shift, evaluated in `tz`: now's local date picks the days, and those
    /// days' shifts are resolved to instants under the DST rules, so the repeated fall-back hour
    /// is not worked twice. Instants within a day of chrono's limits are never on shift.
    pub fn is_on_shift(&self, now: DateTime<Utc>, tz: Tz) -> bool {
        let Some(today) = local_date(now, tz) else {
            return false;
        };
        // Yesterday's overnight shift may still run. Two days back and one ahead also cover
        // zones whose clocks jump across midnight.
        self.occurrences(tz, today, 2, 1)
            .iter()
            .any(|&(start, end)| start <= now && now < end)
    }

    /// The next instant strictly after `now` at which on-shift status changes, with the new
    /// status (true = a shift starts). None for an empty schedule, for one that is on shift
    /// all week, and when the change is more than 8 days away. Touching shifts are one
    /// stretch: no change is reported between them.
    pub fn next_change(&self, now: DateTime<Utc>, tz: Tz) -> Option<(DateTime<Utc>, bool)> {
        if self.shifts.is_empty() {
            return None;
        }
        let today = local_date(now, tz)?;
        let horizon = now.checked_add_signed(TimeDelta::days(SEARCH_DAYS as i64))?;
        // Two days past the horizon, so the last stretch that matters is never cut short by
        // the end of the window.
        let stretches = merge(self.occurrences(tz, today, 2, SEARCH_DAYS + 2));
        stretches
            .iter()
            .flat_map(|&(start, end)| [(start, true), (end, false)])
            .find(|&(at, _)| at > now)
            .filter(|&(at, _)| at <= horizon)
    }

    /// Every shift that starts on a local date from `back` days before `today` to `ahead`
    /// days after it, as instants. A shift that vanishes (wholly inside a skipped hour) is left out.
    fn occurrences(&self, tz: Tz, today: NaiveDate, back: u64, ahead: u64) -> Vec<Stretch> {
        let Some(first) = today.checked_sub_days(Days::new(back)) else {
            return Vec::new();
        };
        let mut stretches = Vec::new();
        for date in first.iter_days().take((back + ahead + 1) as usize) {
            for shift in self.shifts.iter().filter(|s| s.day == date.weekday()) {
                let end_date = if shift.is_overnight() {
                    date.succ_opt()
                } else {
                    Some(date)
                };
                let start = resolve(tz, date.and_time(shift.start));
                let end = end_date.and_then(|d| resolve(tz, d.and_time(shift.end)));
                if let (Some(start), Some(end)) = (start, end) {
                    if start < end {
                        stretches.push((start, end));
                    }
                }
            }
        }
        stretches
    }
}

/// The instant a wall-clock time happens in `tz`: a time in a skipped hour happens when the
/// clocks jump (the first instant after the gap), a time in a repeated hour at its first
/// occurrence.
fn resolve(tz: Tz, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&wall) {
        MappedLocalTime::Single(at) => Some(at.with_timezone(&Utc)),
        MappedLocalTime::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        MappedLocalTime::None => GapInfo::new(&wall, &tz)?
            .end
            .map(|at| at.with_timezone(&Utc)),
    }
}

/// The local date of `now` in `tz`. `DateTime::naive_local` panics within a day of chrono's
/// date limits, so the offset is applied with a checked add.
fn local_date(now: DateTime<Utc>, tz: Tz) -> Option<NaiveDate> {
    let offset = tz.offset_from_utc_datetime(&now.naive_utc()).fix();
    Some(now.naive_utc().checked_add_offset(offset)?.date())
}

/// Sorted, with overlapping and touching stretches joined, so every boundary is a real change.
fn merge(mut stretches: Vec<Stretch>) -> Vec<Stretch> {
    stretches.sort();
    let mut merged: Vec<Stretch> = Vec::with_capacity(stretches.len());
    for (start, end) in stretches {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use chrono::Weekday;
    use chrono_tz::America::Chicago;
    use chrono_tz::Europe::Madrid;

    use super::*;
    use crate::core::schedule::{Request, parse};

    fn schedule(text: &str) -> Schedule {
        match parse(text) {
            Ok(Request::Set(schedule)) => schedule,
            other => panic!("{text:?} did not parse to a schedule: {other:?}"),
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// A local wall time that exists once, on the weekday the test expects.
    fn local(tz: Tz, day: Weekday, text: &str) -> DateTime<Utc> {
        let wall: NaiveDateTime = text.parse().unwrap();
        assert_eq!(wall.weekday(), day, "{text} is not a {day}");
        tz.from_local_datetime(&wall)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn seconds(n: i64) -> TimeDelta {
        TimeDelta::seconds(n)
    }

    #[test]
    fn overnight_shift_is_on_across_midnight() {
        let s = schedule("sat 22-6");
        let tz = Chicago;
        let on = |text: &str, day| s.is_on_shift(local(tz, day, text), tz);
        assert!(!on("2026-06-13T21:59:59", Weekday::Sat));
        assert!(on("2026-06-13T22:00:00", Weekday::Sat));
        assert!(on("2026-06-13T23:59:59", Weekday::Sat));
        assert!(on("2026-06-14T00:00:00", Weekday::Sun));
        assert!(on("2026-06-14T05:59:59", Weekday::Sun));
        assert!(!on("2026-06-14T06:00:00", Weekday::Sun));
        // Friday night and Sunday night are not Saturday night.
        assert!(!on("2026-06-12T23:00:00", Weekday::Fri));
        assert!(!on("2026-06-14T23:00:00", Weekday::Sun));
        assert!(!on("2026-06-15T01:00:00", Weekday::Mon));

        let friday_noon = local(tz, Weekday::Fri, "2026-06-12T12:00:00");
        let saturday_ten = local(tz, Weekday::Sat, "2026-06-13T22:00:00");
        let sunday_six = local(tz, Weekday::Sun, "2026-06-14T06:00:00");
        assert_eq!(s.next_change(friday_noon, tz), Some((saturday_ten, true)));
        assert_eq!(s.next_change(saturday_ten, tz), Some((sunday_six, false)));
        let next_saturday = local(tz, Weekday::Sat, "2026-06-20T22:00:00");
        assert_eq!(s.next_change(sunday_six, tz), Some((next_saturday, true)));
    }

    #[test]
    fn an_empty_schedule_is_never_on_and_never_changes() {
        let now = utc("2026-06-13T12:00:00Z");
        assert!(!Schedule::default().is_on_shift(now, Chicago));
        assert_eq!(Schedule::default().next_change(now, Chicago), None);
    }

    #[test]
    fn a_schedule_on_all_week_never_changes() {
        let s = schedule("daily 0-24");
        for now in [utc("2026-03-08T08:00:00Z"), utc("2026-11-01T06:30:00Z")] {
            assert!(s.is_on_shift(now, Chicago));
            assert_eq!(s.next_change(now, Chicago), None);
        }
    }

    #[test]
    fn touching_shifts_are_one_stretch_with_no_change_between() {
        let tz = Chicago;
        let s = schedule("mon 9-12 12-17 sun 18-24 mon 0-6");
        let monday_ten = local(tz, Weekday::Mon, "2026-06-15T10:00:00");
        let monday_five_pm = local(tz, Weekday::Mon, "2026-06-15T17:00:00");
        assert_eq!(s.next_change(monday_ten, tz), Some((monday_five_pm, false)));
        let sunday_eight_pm = local(tz, Weekday::Sun, "2026-06-14T20:00:00");
        let monday_six = local(tz, Weekday::Mon, "2026-06-15T06:00:00");
        assert_eq!(
            s.next_change(sunday_eight_pm, tz),
            Some((monday_six, false))
        );
        assert!(s.is_on_shift(local(tz, Weekday::Mon, "2026-06-15T00:00:00"), tz));
    }

    #[test]
    fn next_change_is_strictly_after_now() {
        let tz = Chicago;
        let s = schedule("mon-fri 9-17");
        let nine = local(tz, Weekday::Mon, "2026-06-15T09:00:00");
        let five = local(tz, Weekday::Mon, "2026-06-15T17:00:00");
        assert_eq!(s.next_change(nine, tz), Some((five, false)));
        assert_eq!(s.next_change(nine - seconds(1), tz), Some((nine, true)));
    }

    #[test]
    fn instants_at_chronos_limits_do_not_panic() {
        let s = schedule("daily 9-17");
        for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            for tz in [Chicago, Madrid, chrono_tz::Pacific::Chatham, chrono_tz::UTC] {
                let _ = s.is_on_shift(now, tz);
                let _ = s.next_change(now, tz);
            }
        }
    }

    // America/Chicago, Sunday 2026-03-08: 2:00 CST becomes 3:00 CDT (08:00 UTC).

    #[test]
    fn chicago_spring_forward_a_shift_from_2_30_starts_at_3_00() {
        let s = schedule("sun 2:30-10");
        let saturday_noon = utc("2026-03-07T18:00:00Z");
        let three_cdt = utc("2026-03-08T08:00:00Z");
        assert_eq!(
            s.next_change(saturday_noon, Chicago),
            Some((three_cdt, true))
        );
        assert!(!s.is_on_shift(three_cdt - seconds(1), Chicago));
        assert!(s.is_on_shift(three_cdt, Chicago));
        assert_eq!(
            s.next_change(three_cdt, Chicago),
            Some((utc("2026-03-08T15:00:00Z"), false))
        );
    }

    #[test]
    fn chicago_spring_forward_a_shift_ending_at_2_30_ends_at_3_00() {
        let s = schedule("sat 22-2:30");
        let start = utc("2026-03-08T04:00:00Z"); // Sat 22:00 CST
        assert_eq!(
            s.next_change(start, Chicago),
            Some((utc("2026-03-08T08:00:00Z"), false))
        );
        assert!(s.is_on_shift(utc("2026-03-08T07:59:59Z"), Chicago));
    }

    #[test]
    fn chicago_spring_forward_a_shift_inside_the_skipped_hour_does_not_happen() {
        let s = schedule("sun 2:10-2:50");
        let saturday_noon = utc("2026-03-07T18:00:00Z");
        let next_week = utc("2026-03-15T07:10:00Z"); // Sun 2:10 CDT
        assert_eq!(
            s.next_change(saturday_noon, Chicago),
            Some((next_week, true))
        );
    }

    #[test]
    fn chicago_spring_forward_9_to_5_starts_at_9_local_on_both_sides() {
        let s = schedule("daily 9-17");
        let tz = Chicago;
        let before = utc("2026-03-07T12:00:00Z"); // Sat 6:00 CST
        assert_eq!(
            s.next_change(before, tz),
            Some((utc("2026-03-07T15:00:00Z"), true))
        );
        let after = utc("2026-03-08T00:00:00Z"); // Sat 18:00 CST
        assert_eq!(
            s.next_change(after, tz),
            Some((utc("2026-03-08T14:00:00Z"), true))
        );
        assert_eq!(
            s.next_change(utc("2026-03-08T14:00:00Z"), tz),
            Some((utc("2026-03-08T22:00:00Z"), false))
        );
    }

    // America/Chicago, Sunday 2026-11-01: 2:00 CDT becomes 1:00 CST (07:00 UTC), so 1:00-2:00
    // happens twice: 06:00-07:00 UTC, then 07:00-08:00 UTC.

    #[test]
    fn chicago_fall_back_a_shift_ending_at_1_30_ends_at_the_first_1_30() {
        let s = schedule("sat 22-1:30");
        let start = utc("2026-11-01T03:00:00Z"); // Sat 22:00 CDT
        let first_one_thirty = utc("2026-11-01T06:30:00Z");
        assert_eq!(
            s.next_change(start - seconds(1), Chicago),
            Some((start, true))
        );
        assert_eq!(
            s.next_change(start, Chicago),
            Some((first_one_thirty, false))
        );
        assert!(s.is_on_shift(first_one_thirty - seconds(1), Chicago));
        // 1:00-1:30 comes round again in CST: still off.
        for minute in [0, 10, 29] {
            let second_pass = utc("2026-11-01T07:00:00Z") + TimeDelta::minutes(minute);
            assert!(!s.is_on_shift(second_pass, Chicago), "{second_pass}");
        }
        assert_eq!(
            s.next_change(first_one_thirty, Chicago),
            Some((utc("2026-11-08T04:00:00Z"), true))
        );
    }

    #[test]
    fn chicago_fall_back_a_shift_starting_at_1_30_starts_at_the_first_1_30_and_stays_on() {
        let s = schedule("sun 1:30-10");
        let first_one_thirty = utc("2026-11-01T06:30:00Z");
        assert_eq!(
            s.next_change(utc("2026-11-01T00:00:00Z"), Chicago),
            Some((first_one_thirty, true))
        );
        for minute in (0..120).step_by(10) {
            let t = first_one_thirty + TimeDelta::minutes(minute);
            assert!(s.is_on_shift(t, Chicago), "{t}");
        }
        assert_eq!(
            s.next_change(first_one_thirty, Chicago),
            Some((utc("2026-11-01T16:00:00Z"), false))
        );
    }

    #[test]
    fn chicago_fall_back_9_to_5_starts_at_9_local_on_both_sides() {
        let s = schedule("daily 9-17");
        let tz = Chicago;
        assert_eq!(
            s.next_change(utc("2026-10-31T12:00:00Z"), tz),
            Some((utc("2026-10-31T14:00:00Z"), true))
        );
        assert_eq!(
            s.next_change(utc("2026-11-01T00:00:00Z"), tz),
            Some((utc("2026-11-01T15:00:00Z"), true))
        );
        assert!(!s.is_on_shift(utc("2026-11-01T14:30:00Z"), tz));
        assert!(s.is_on_shift(utc("2026-11-01T15:00:00Z"), tz));
    }

    // Europe/Madrid, Sunday 2026-03-29: 2:00 CET becomes 3:00 CEST (01:00 UTC).

    #[test]
    fn madrid_spring_forward_a_shift_from_2_30_starts_at_3_00() {
        let s = schedule("dom 2:30-10");
        assert_eq!(
            s.next_change(utc("2026-03-28T12:00:00Z"), Madrid),
            Some((utc("2026-03-29T01:00:00Z"), true))
        );
        assert!(!s.is_on_shift(utc("2026-03-29T00:59:59Z"), Madrid));
        assert!(s.is_on_shift(utc("2026-03-29T01:00:00Z"), Madrid));
    }

    #[test]
    fn madrid_spring_forward_9_to_5_starts_at_9_local_on_both_sides() {
        let s = schedule("todos los dias 9-17");
        assert_eq!(
            s.next_change(utc("2026-03-28T00:00:00Z"), Madrid),
            Some((utc("2026-03-28T08:00:00Z"), true))
        );
        assert_eq!(
            s.next_change(utc("2026-03-28T18:00:00Z"), Madrid),
            Some((utc("2026-03-29T07:00:00Z"), true))
        );
    }

    // Europe/Madrid, Sunday 2026-10-25: 3:00 CEST becomes 2:00 CET (01:00 UTC), so 2:00-3:00
    // happens twice: 00:00-01:00 UTC, then 01:00-02:00 UTC.

    #[test]
    fn madrid_fall_back_a_shift_ending_at_2_30_ends_at_the_first_2_30() {
        let s = schedule("sab 22-2:30");
        let start = utc("2026-10-24T20:00:00Z"); // Sat 22:00 CEST
        let first_two_thirty = utc("2026-10-25T00:30:00Z");
        assert_eq!(
            s.next_change(start, Madrid),
            Some((first_two_thirty, false))
        );
        assert!(s.is_on_shift(first_two_thirty - seconds(1), Madrid));
        assert!(!s.is_on_shift(utc("2026-10-25T01:15:00Z"), Madrid));
    }

    #[test]
    fn madrid_fall_back_9_to_5_starts_at_9_local_on_both_sides() {
        let s = schedule("todos los dias 9-17");
        assert_eq!(
            s.next_change(utc("2026-10-24T00:00:00Z"), Madrid),
            Some((utc("2026-10-24T07:00:00Z"), true))
        );
        assert_eq!(
            s.next_change(utc("2026-10-24T18:00:00Z"), Madrid),
            Some((utc("2026-10-25T08:00:00Z"), true))
        );
    }

    #[test]
    fn a_zone_is_read_by_name_so_utc_and_chicago_differ() {
        let s = schedule("mon 9-17");
        let monday_nine_utc = utc("2026-06-15T09:00:00Z");
        assert!(s.is_on_shift(monday_nine_utc, chrono_tz::UTC));
        assert!(!s.is_on_shift(monday_nine_utc, Chicago));
    }
}
