//! Weekly schedules: what a worker texts after SCHEDULE/HORARIO, and when that puts them on
//! or off shift in their own IANA time zone. Pure: no I/O and no clock reads; callers pass `now`.
//!
//! # Grammar
//!
//! The text is folded first (lowercase, accents stripped, fancy dashes made `-`), so `Lun-Vié`,
//! `LUN - VIE` and `lun–vie` are the same. Other punctuation (`, ; / & !`) only separates words.
//!
//! * **Clear**: the whole text is `off`, `clear`, `none`, `no`, `delete`, `remove`, `borrar`,
//!   `ninguno`, `ninguna`, `nada` (or `no schedule`, `sin horario`) -> [`Request::Clear`].
//! * **Days**: `mon`/`monday`/`lun`/`lunes`, `tue`/`tues`/`tuesday`/`mar`/`martes`,
//!   `wed`/`weds`/`wednesday`/`mie`/`mier`/`miercoles`, `thu`/`thur`/`thurs`/`thursday`/`jue`/`jueves`,
//!   `fri`/`friday`/`vie`/`viernes`, `sat`/`saturday`/`sab`/`sabado`, `sun`/`sunday`/`dom`/`domingo`
//!   (English plurals and `sabados`/`domingos` too); ranges `mon-fri`, `lun a vie`, `mon to fri`,
//!   wrapping ones `fri-mon` (Fri, Sat, Sun, Mon); lists `mon,wed,fri`, `mon wed fri`, `lun y mie`;
//!   words `weekdays`/`entre semana` (Mon-Fri), `weekends`/`fin de semana`/`fines de semana`
//!   (Sat, Sun), `daily`/`every day`/`everyday`/`todos los dias`/`diario` (all seven).
//! * **Times**: 24-hour `9`, `9:30`, `17`, `17:30`, `0930`, `9h30`, `24` (midnight, only as an
//!   end); 12-hour `9am`, `9 am`, `9a`, `9 a.m.`, `5pm`, `5:30pm`, `5p`, `12pm` (noon), `12am`
//!   (midnight); words `noon`/`mediodia`, `midnight`/`medianoche`, and Spanish
//!   `9 de la manana`, `5 de la tarde`, `10 de la noche`.
//! * **Ranges**: `start-end`, `start to end`, `start a end` (`de 9 a 17`), also `–`, `until`,
//!   `hasta`. An `a` written onto the hour is am (`9a-5p`, and `9a 1-5` is two ranges); spaced
//!   before a time, or written into both (`9a17`), it is the Spanish "to". An end at or before
//!   the start runs past midnight into the next day: `sat 22-6` is Saturday 22:00 to Sunday
//!   6:00. `0-24` is the whole day.
//! * **Bare hours** (1 to 12 with no minutes and no am/pm, like the `9` and `5` in `9-5`) are
//!   the one place the parser guesses, because people write `9-5` for a day shift:
//!   - a bare end hour before the start is read as pm when that puts it after the start:
//!     `9-5` is 9:00-17:00, `9am-5` is 9:00-17:00, `noon-5` is 12:00-17:00, `6pm-12` is
//!     18:00-24:00; when pm would still be before the start it stays as written and the range
//!     runs overnight: `10pm-6` and `22-6` are 22:00-6:00;
//!   - a bare start hour before an end written with am/pm, noon or midnight is read as pm when
//!     that still ends after it: `1-5pm` is 13:00-17:00, `10-midnight` is 22:00-24:00, but
//!     `9-5pm` is 9:00-17:00.
//!
//!   Anything with minutes (`9:00-5:00`), a 24-hour hour (`0`, `13`-`24`) or am/pm is read exactly
//!   as written, which is why [`Schedule::describe`] always writes minutes: its output parses
//!   back to the same schedule. The worker confirms the read-back before anything is saved.
//! * **Groups**: days then their ranges, repeated: `mon-fri 9-17 sat 10-14`,
//!   `mon,wed,fri 8:30-12:00 13:00-17:30`. Several ranges per day are separated by spaces,
//!   commas or `and`/`y`. Hours may come first only before a single day list:
//!   `de 9 a 17 de lunes a viernes`. The words `from`, `de`, `desde`, `every`, `on`, `the`,
//!   `los`, `las`, `el`, `la`, `hours`, `horas` are ignored, and so are `h`, `hrs` and
//!   `o'clock` after an hour (`9h-17h`).
//!
//! Errors name what was wrong: no days, no hours, an hour past 24, minutes past 59, a range
//! that starts and ends at the same time, ranges that overlap (on one day, or an overnight
//! range running into the next day's), an unfinished range, an unknown word.
//!
//! # Time zones and daylight saving
//!
//! A shift is a wall-clock range in the worker's zone. Each time it is needed, each day's
//! wall-clock start and end are turned into instants with the zone's rules for that date;
//! no UTC window is ever cached, so a 9:00 start is 9:00 local on both sides of a change
//! (15:00 UTC before the March change in Chicago, 14:00 UTC after it).
//!
//! * **Skipped hour** (spring forward): a start or end that does not exist that day happens at
//!   the first instant after the gap. In Chicago on 2026-03-08 clocks go 1:59:59 -> 3:00, so a
//!   shift from 2:30 starts at 3:00 CDT, and one ending at 2:30 ends at 3:00 CDT. A shift lying
//!   wholly inside the gap (2:10-2:50) does not happen that day.
//! * **Repeated hour** (fall back): a start or end that happens twice happens at its first
//!   occurrence. In Chicago on 2026-11-01 clocks go 1:59:59 CDT -> 1:00 CST, so a shift ending at
//!   1:30 ends at 1:30 CDT, and the worker is not put back on shift when 1:00-1:30 comes round
//!   again in CST. This is why [`Schedule::is_on_shift`] checks the instant against the day's
//!   resolved start and end rather than comparing wall-clock times: a plain comparison would
//!   count that repeated half hour twice, and disagree with [`Schedule::next_change`].
//! * Shifts that touch (`mon 9-12 12-17`, or `mon 22-24 tue 0-6`) are one stretch on shift: no
//!   change is reported where one ends as the next begins.

mod describe;
mod error;
mod grammar;
mod week;
pub mod zones;

use chrono::{NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

pub use error::ParseError;

/// The days of the week, Monday first (the order menus and read-backs use).
pub(crate) const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];
pub use grammar::parse;

const MINUTES_PER_DAY: u32 = 24 * 60;
const MINUTES_PER_WEEK: u32 = 7 * MINUTES_PER_DAY;

/// A day's local start and end, before it is tied to a weekday.
type TimeRange = (NaiveTime, NaiveTime);

/// One weekly stretch of work: starts on `day` at `start` local time; an `end` at or before
/// `start` is on the next day (`end == start` is a whole day, only written as `0:00-24:00`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shift {
    pub day: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Shift {
    /// Runs past midnight into the next day (a whole-day `0:00-24:00` shift counts).
    pub fn is_overnight(&self) -> bool {
        self.end <= self.start
    }

    fn start_of_week_minute(&self) -> u32 {
        self.day.num_days_from_monday() * MINUTES_PER_DAY + minute_of_day(self.start)
    }

    fn length_minutes(&self) -> u32 {
        let (start, end) = (minute_of_day(self.start), minute_of_day(self.end));
        if end > start {
            end - start
        } else {
            end + MINUTES_PER_DAY - start
        }
    }
}

fn minute_of_day(time: NaiveTime) -> u32 {
    time.hour() * 60 + time.minute()
}

/// A weekly schedule: for each weekday, the local time ranges a worker works, in their IANA
/// zone. Always valid: shifts are whole minutes, never zero-length and never overlap, and they
/// are kept sorted by day then start, so two equal schedules compare equal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleRecord")]
pub struct Schedule {
    shifts: Vec<Shift>,
}

// Deserialization goes through the same checks as `Schedule::new`, so a hand-edited or
// corrupted record cannot smuggle overlapping shifts into the scheduler.
#[derive(Deserialize)]
struct ScheduleRecord {
    shifts: Vec<Shift>,
}

impl TryFrom<ScheduleRecord> for Schedule {
    type Error = ParseError;
    fn try_from(record: ScheduleRecord) -> Result<Self, ParseError> {
        Schedule::new(record.shifts)
    }
}

/// What the worker asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Set(Schedule),
    Clear,
}

impl Schedule {
    /// Checks and sorts the shifts. An empty list is the empty schedule (never on shift).
    pub fn new(mut shifts: Vec<Shift>) -> Result<Self, ParseError> {
        for shift in &shifts {
            let whole_minutes = |t: NaiveTime| t.second() == 0 && t.nanosecond() == 0;
            if !whole_minutes(shift.start) || !whole_minutes(shift.end) {
                return Err(ParseError::BadTime(describe::shift_label(shift)));
            }
            // A 24-hour shift is spelled 0:00-24:00; any other equal pair is a typo for nothing.
            if shift.start == shift.end && shift.start != NaiveTime::MIN {
                return Err(ParseError::ZeroLength(describe::shift_label(shift)));
            }
        }
        shifts.sort_by(|a, b| {
            a.start_of_week_minute()
                .cmp(&b.start_of_week_minute())
                .then(a.end.cmp(&b.end))
        });
        check_no_overlap(&shifts)?;
        Ok(Self { shifts })
    }

    /// The shifts, sorted by day (Monday first) then start time.
    pub fn shifts(&self) -> &[Shift] {
        &self.shifts
    }

    pub fn is_empty(&self) -> bool {
        self.shifts.is_empty()
    }
}

/// Sorted by start, overlaps show up between neighbours, plus the last shift of the week
/// wrapping into the first (a Sunday night shift running into Monday morning).
fn check_no_overlap(sorted: &[Shift]) -> Result<(), ParseError> {
    let overlaps = |earlier: &Shift, later_start: u32| {
        later_start < earlier.start_of_week_minute() + earlier.length_minutes()
    };
    for pair in sorted.windows(2) {
        if overlaps(&pair[0], pair[1].start_of_week_minute()) {
            return Err(ParseError::Overlap(pair[0], pair[1]));
        }
    }
    if let (Some(first), Some(last)) = (sorted.first(), sorted.last()) {
        if sorted.len() > 1 && overlaps(last, first.start_of_week_minute() + MINUTES_PER_WEEK) {
            return Err(ParseError::Overlap(*last, *first));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(day: Weekday, start: (u32, u32), end: (u32, u32)) -> Shift {
        Shift {
            day,
            start: NaiveTime::from_hms_opt(start.0, start.1, 0).unwrap(),
            end: NaiveTime::from_hms_opt(end.0, end.1, 0).unwrap(),
        }
    }

    #[test]
    fn schedule_shifts_are_sorted_whatever_order_they_come_in() {
        let a = shift(Weekday::Wed, (9, 0), (17, 0));
        let b = shift(Weekday::Mon, (13, 0), (17, 0));
        let c = shift(Weekday::Mon, (8, 0), (12, 0));
        let schedule = Schedule::new(vec![a, b, c]).unwrap();
        assert_eq!(schedule.shifts(), &[c, b, a]);
    }

    #[test]
    fn a_sunday_night_shift_overlapping_monday_morning_is_refused() {
        let sunday = shift(Weekday::Sun, (22, 0), (6, 0));
        let monday = shift(Weekday::Mon, (5, 0), (9, 0));
        assert_eq!(
            Schedule::new(vec![monday, sunday]),
            Err(ParseError::Overlap(sunday, monday))
        );
        let touching = shift(Weekday::Mon, (6, 0), (9, 0));
        assert!(Schedule::new(vec![touching, sunday]).is_ok());
    }

    #[test]
    fn schedule_serde_round_trips_and_refuses_overlaps() {
        let schedule = Schedule::new(vec![shift(Weekday::Sat, (22, 0), (6, 0))]).unwrap();
        let json = serde_json::to_string(&schedule).unwrap();
        assert_eq!(
            json,
            r#"{"shifts":[{"day":"Sat","start":"22:00:00","end":"06:00:00"}]}"#
        );
        assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), schedule);

        let overlapping = r#"{"shifts":[{"day":"Mon","start":"09:00:00","end":"12:00:00"},
            {"day":"Mon","start":"11:00:00","end":"13:00:00"}]}"#;
        assert!(serde_json::from_str::<Schedule>(overlapping).is_err());
    }

    #[test]
    fn a_whole_day_is_midnight_to_midnight_and_other_equal_times_are_refused() {
        assert!(Schedule::new(vec![shift(Weekday::Mon, (0, 0), (0, 0))]).is_ok());
        assert!(matches!(
            Schedule::new(vec![shift(Weekday::Mon, (9, 0), (9, 0))]),
            Err(ParseError::ZeroLength(_))
        ));
        let seconds = Shift {
            day: Weekday::Mon,
            start: NaiveTime::from_hms_opt(9, 0, 30).unwrap(),
            end: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        };
        assert!(matches!(
            Schedule::new(vec![seconds]),
            Err(ParseError::BadTime(_))
        ));
    }
}
