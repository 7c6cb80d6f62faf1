//! Reads the text after SCHEDULE/HORARIO: folding, a small tokenizer, then a recursive-descent
//! parser over days, times and ranges. The grammar itself is documented in [`crate::core::schedule`].
//!
//! Folding mirrors `intake::understand::normalize` (lowercase, accents and invisible characters
//! dropped) but keeps `-` and the `:` between digits, which carry meaning here.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveTime;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::error::quote;
use super::{MINUTES_PER_DAY, ParseError, Request, Schedule, Shift, TimeRange, WEEK};
use crate::core::text::is_invisible;

/// Bit `i` is the weekday `i` days after Monday.
type DaySet = u8;

// Day names, Monday first. Every entry is already folded (lowercase, no accents).
const DAY_NAMES: [&[&str]; 7] = [
    &["mon", "monday", "mondays", "lun", "lunes"],
    &["tue", "tues", "tuesday", "tuesdays", "mar", "martes"],
    &[
        "wed",
        "weds",
        "wednesday",
        "wednesdays",
        "mie",
        "mier",
        "miercoles",
    ],
    &[
        "thu",
        "thur",
        "thurs",
        "thursday",
        "thursdays",
        "jue",
        "jueves",
    ],
    &["fri", "friday", "fridays", "vie", "viernes"],
    &["sat", "saturday", "saturdays", "sab", "sabado", "sabados"],
    &["sun", "sunday", "sundays", "dom", "domingo", "domingos"],
];

const WEEKDAYS: DaySet = 0b001_1111;
const WEEKEND: DaySet = 0b110_0000;
const EVERY_DAY: DaySet = 0b111_1111;

const DAY_GROUPS: &[(&str, DaySet)] = &[
    ("weekdays", WEEKDAYS),
    ("weekday", WEEKDAYS),
    ("entre semana", WEEKDAYS),
    ("weekends", WEEKEND),
    ("weekend", WEEKEND),
    ("fin de semana", WEEKEND),
    ("fines de semana", WEEKEND),
    ("finde", WEEKEND),
    ("daily", EVERY_DAY),
    ("every day", EVERY_DAY),
    ("everyday", EVERY_DAY),
    ("all week", EVERY_DAY),
    ("todos los dias", EVERY_DAY),
    ("todo los dias", EVERY_DAY),
    ("toda la semana", EVERY_DAY),
    ("cada dia", EVERY_DAY),
    ("diario", EVERY_DAY),
    ("a diario", EVERY_DAY),
    ("diariamente", EVERY_DAY),
];
const LONGEST_DAY_PHRASE: usize = 3;

/// The whole text, folded, that clears the schedule.
const CLEAR_WORDS: &[&str] = &[
    "off",
    "clear",
    "none",
    "no",
    "delete",
    "remove",
    "no schedule",
    "clear schedule",
    "borrar",
    "ninguno",
    "ninguna",
    "nada",
    "sin horario",
    "borrar horario",
];

/// Join a range's two ends, for days and times alike (besides `-`).
const RANGE_WORDS: &[&str] = &[
    "to", "a", "al", "thru", "through", "till", "til", "until", "hasta",
];

/// Skipped between items: list joiners and words that add nothing ("from 9", "los lunes").
const NOISE_WORDS: &[&str] = &[
    "and", "y", "plus", "from", "de", "desde", "del", "los", "las", "el", "la", "every", "each",
    "on", "the", "at", "hours", "horas", "hrs",
];

/// Written right after an hour and meaning nothing more ("17h", "9 hrs", "5 o'clock").
const HOUR_SUFFIXES: &[&str] = &["h", "hs", "hr", "hrs", "horas", "hours", "oclock"];

const NOON_WORDS: &[&str] = &["noon", "midday", "mediodia"];
const MIDNIGHT_WORDS: &[&str] = &["midnight", "medianoche"];

#[derive(Clone, Copy, Debug)]
enum DayWord {
    One(usize),
    Group(DaySet),
}

impl DayWord {
    fn set(self) -> DaySet {
        match self {
            DayWord::One(i) => 1 << i,
            DayWord::Group(set) => set,
        }
    }
}

static DAY_WORDS: LazyLock<HashMap<&'static str, DayWord>> = LazyLock::new(|| {
    let singles = DAY_NAMES
        .iter()
        .enumerate()
        .flat_map(|(i, names)| names.iter().map(move |n| (*n, DayWord::One(i))));
    let groups = DAY_GROUPS.iter().map(|(n, set)| (*n, DayWord::Group(*set)));
    singles.chain(groups).collect()
});

/// Parses the text after the SCHEDULE/HORARIO keyword.
pub fn parse(text: &str) -> Result<Request, ParseError> {
    let folded = fold(text);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if CLEAR_WORDS.contains(&words.join(" ").as_str()) {
        return Ok(Request::Clear);
    }
    let mut parser = Parser {
        text: &folded,
        tokens: tokenize(&folded),
        pos: 0,
    };
    let segments = parser.segments()?;
    Schedule::new(shifts(segments)?).map(Request::Set)
}

/// `core::text::fold`, with every kind of dash read as `-` (invisible characters are
/// dropped: "9\u{200b}-17" is "9-17").
fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .nfd()
        .filter(|&c| !is_combining_mark(c) && !is_invisible(c))
        .map(|c| if is_dash(c) { '-' } else { c })
        .collect()
}

// Phones autocorrect "9-5" into en or em dashes.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe58}' | '\u{fe63}' | '\u{ff0d}' | '~'
    )
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Word(String),
    Num(String),
    /// Between the hour and minutes: `:` or `.` or `h` between digits.
    Colon,
    Dash,
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    /// Byte span in the folded text, for quoting in errors.
    start: usize,
    end: usize,
}

/// Words (letters), numbers (ASCII digits), `-` and hour-minute separators. All other
/// characters only separate tokens. Non-ASCII digits count as letters, so they surface as an
/// unknown word instead of being misread as a time.
fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |(b, _)| *b);
    let char_at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let is_digit = |i: usize| char_at(i).is_some_and(|c| c.is_ascii_digit());
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(c) = char_at(i) {
        let start = i;
        if c.is_ascii_digit() {
            while is_digit(i) {
                i += 1;
            }
            let kind = Kind::Num(text[byte_at(start)..byte_at(i)].to_string());
            tokens.push(token(kind, byte_at(start), byte_at(i)));
        } else if c.is_alphanumeric() {
            while char_at(i).is_some_and(|c| c.is_alphanumeric() && !c.is_ascii_digit()) {
                i += 1;
            }
            let word = &text[byte_at(start)..byte_at(i)];
            if word == "h" && start > 0 && is_digit(start - 1) && is_digit(i) {
                tokens.push(token(Kind::Colon, byte_at(start), byte_at(i)));
            } else if let Some((meridiem, end)) = dotted_meridiem(word, &chars, i) {
                tokens.push(token(
                    Kind::Word(meridiem.to_string()),
                    byte_at(start),
                    byte_at(end),
                ));
                i = end;
            } else {
                tokens.push(token(
                    Kind::Word(word.to_string()),
                    byte_at(start),
                    byte_at(i),
                ));
            }
        } else {
            i += 1;
            if c == '-' {
                tokens.push(token(Kind::Dash, byte_at(start), byte_at(i)));
            } else if matches!(c, ':' | '.') && start > 0 && is_digit(start - 1) && is_digit(i) {
                tokens.push(token(Kind::Colon, byte_at(start), byte_at(i)));
            }
        }
    }
    tokens
}

fn token(kind: Kind, start: usize, end: usize) -> Token {
    Token { kind, start, end }
}

/// `a.m.`, `p. m.`: the word `a`/`p` at chars[..after] followed by `.m` (a space allowed
/// before the m, a dot after it). Returns the meridiem and the char index after it.
fn dotted_meridiem(
    word: &str,
    chars: &[(usize, char)],
    after: usize,
) -> Option<(&'static str, usize)> {
    let meridiem = match word {
        "a" => "am",
        "p" => "pm",
        _ => return None,
    };
    let at = |i: usize| chars.get(i).map(|(_, c)| *c);
    if at(after) != Some('.') {
        return None;
    }
    let mut i = after + 1;
    if at(i) == Some(' ') {
        i += 1;
    }
    if at(i) != Some('m') {
        return None;
    }
    i += 1;
    if at(i).is_some_and(char::is_alphanumeric) {
        return None;
    }
    if at(i) == Some('.') {
        i += 1;
    }
    Some((meridiem, i))
}

/// A run of days or a run of time ranges, with the worker's words for error messages.
enum Segment {
    Days(DaySet, String),
    Times(Vec<TimeRange>, String),
}

/// Days come before their hours; hours may come first only when one day list follows and
/// nothing else ("de 9 a 17 de lunes a viernes"), because with more groups it would be a
/// guess which days they belong to.
fn shifts(segments: Vec<Segment>) -> Result<Vec<Shift>, ParseError> {
    let pairs: Vec<(DaySet, Vec<TimeRange>)> = match segments.as_slice() {
        [] => return Err(ParseError::Empty),
        [Segment::Times(ranges, _), Segment::Days(days, _)] => vec![(*days, ranges.clone())],
        [Segment::Times(_, words), ..] => return Err(ParseError::NoDays(words.clone())),
        _ => {
            let mut pairs = Vec::new();
            for chunk in segments.chunks(2) {
                match chunk {
                    [Segment::Days(days, _), Segment::Times(ranges, _)] => {
                        pairs.push((*days, ranges.clone()));
                    }
                    [Segment::Days(_, words)] => return Err(ParseError::NoTimes(words.clone())),
                    // The parser never emits two runs of the same kind in a row.
                    _ => return Err(ParseError::Empty),
                }
            }
            pairs
        }
    };
    let mut shifts = Vec::new();
    for (days, ranges) in pairs {
        for (i, day) in WEEK.iter().enumerate() {
            if days & (1 << i) != 0 {
                shifts.extend(ranges.iter().map(|&(start, end)| Shift {
                    day: *day,
                    start,
                    end,
                }));
            }
        }
    }
    Ok(shifts)
}

/// A time as written, before the range it is in decides how to read it.
#[derive(Clone, Copy, Debug)]
struct Clock {
    /// Minutes after midnight when it starts a range: 0..=1440, 1440 (from `24`) is refused.
    as_start: u32,
    /// Minutes after midnight when it ends a range: midnight (`24`, `12am`, `midnight`) is 1440.
    as_end: u32,
    /// 1 to 12 with no minutes and no am/pm: open to the `9-5` guesses.
    bare: bool,
    /// Written with am/pm, noon or midnight.
    marked: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Half {
    Am,
    Pm,
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn segments(&mut self) -> Result<Vec<Segment>, ParseError> {
        let mut segments = Vec::new();
        loop {
            self.skip_noise();
            if self.pos >= self.tokens.len() {
                return Ok(segments);
            }
            let from = self.pos;
            if let Some(days) = self.day_list()? {
                segments.push(Segment::Days(days, self.quote(from, self.pos)));
            } else if self.time_at(self.pos) {
                let ranges = self.time_list()?;
                segments.push(Segment::Times(ranges, self.quote(from, self.pos)));
            } else {
                return Err(self.unexpected());
            }
        }
    }

    fn unexpected(&self) -> ParseError {
        match self.kind(self.pos) {
            Some(Kind::Word(word)) => ParseError::UnknownWord(quote(word)),
            // A stray separator after a full time, as in "930:15".
            _ => ParseError::BadTime(self.quote(self.pos.saturating_sub(1), self.pos + 2)),
        }
    }

    fn word(&self, at: usize) -> Option<&str> {
        match self.tokens.get(at).map(|t| &t.kind) {
            Some(Kind::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn kind(&self, at: usize) -> Option<&Kind> {
        self.tokens.get(at).map(|t| &t.kind)
    }

    /// The worker's words from token `from` up to (not including) `to`.
    fn quote(&self, from: usize, to: usize) -> String {
        let to = to.min(self.tokens.len());
        if from >= to {
            return String::new();
        }
        quote(&self.text[self.tokens[from].start..self.tokens[to - 1].end])
    }

    fn skip_noise(&mut self) {
        while self.pos < self.tokens.len()
            && self.day_at(self.pos).is_none()
            && !self.time_at(self.pos)
        {
            match self.kind(self.pos) {
                Some(Kind::Dash) => {}
                Some(Kind::Word(w)) if NOISE_WORDS.contains(&w.as_str()) => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    /// The day word or phrase at `at` and how many tokens it takes, longest phrase first.
    fn day_at(&self, at: usize) -> Option<(DayWord, usize)> {
        (1..=LONGEST_DAY_PHRASE).rev().find_map(|n| {
            let words: Option<Vec<&str>> = (at..at + n).map(|i| self.word(i)).collect();
            DAY_WORDS.get(words?.join(" ").as_str()).map(|d| (*d, n))
        })
    }

    fn time_at(&self, at: usize) -> bool {
        match self.kind(at) {
            Some(Kind::Num(_)) => true,
            Some(Kind::Word(w)) => {
                NOON_WORDS.contains(&w.as_str()) || MIDNIGHT_WORDS.contains(&w.as_str())
            }
            _ => false,
        }
    }

    fn connector_at(&self, at: usize) -> bool {
        match self.kind(at) {
            Some(Kind::Dash) => true,
            Some(Kind::Word(w)) => RANGE_WORDS.contains(&w.as_str()),
            _ => false,
        }
    }

    fn day_list(&mut self) -> Result<Option<DaySet>, ParseError> {
        let Some(mut days) = self.day_item()? else {
            return Ok(None);
        };
        loop {
            let before_noise = self.pos;
            self.skip_noise();
            match self.day_item()? {
                Some(more) => days |= more,
                None => {
                    self.pos = before_noise;
                    return Ok(Some(days));
                }
            }
        }
    }

    /// One day, one group word, or a range of two days (`fri-mon` wraps over the weekend).
    fn day_item(&mut self) -> Result<Option<DaySet>, ParseError> {
        let from = self.pos;
        let Some((first, len)) = self.day_at(from) else {
            return Ok(None);
        };
        self.pos += len;
        if !self.connector_at(self.pos) {
            return Ok(Some(first.set()));
        }
        let after = self.pos + 1;
        let Some((last, len)) = self.day_at(after) else {
            // "Mon-Fri - 9-5": a dash before the hours only separates.
            if self.kind(self.pos) == Some(&Kind::Dash) && self.time_at(after) {
                return Ok(Some(first.set()));
            }
            return Err(ParseError::Unfinished(self.quote(from, after)));
        };
        self.pos = after + len;
        match (first, last) {
            (DayWord::One(a), DayWord::One(b)) => {
                let span = (b + 7 - a) % 7;
                Ok(Some((0..=span).fold(0, |set, k| set | 1 << ((a + k) % 7))))
            }
            _ => Err(ParseError::BadDayRange(self.quote(from, self.pos))),
        }
    }

    fn time_list(&mut self) -> Result<Vec<TimeRange>, ParseError> {
        let mut ranges = vec![self.time_range()?];
        loop {
            let before_noise = self.pos;
            self.skip_noise();
            if self.time_at(self.pos) {
                ranges.push(self.time_range()?);
            } else {
                self.pos = before_noise;
                return Ok(ranges);
            }
        }
    }

    fn time_range(&mut self) -> Result<TimeRange, ParseError> {
        let from = self.pos;
        let start = self.time()?;
        if !self.connector_at(self.pos) || !self.time_at(self.pos + 1) {
            let to = self.pos + usize::from(self.connector_at(self.pos));
            return Err(ParseError::Unfinished(self.quote(from, to)));
        }
        self.pos += 1;
        let end = self.time()?;
        let words = self.quote(from, self.pos);
        let (start, end) = read_range(start, end);
        if start >= MINUTES_PER_DAY {
            return Err(ParseError::MidnightStart(words));
        }
        if start == end {
            return Err(ParseError::ZeroLength(words));
        }
        Ok((clock_time(start), clock_time(end % MINUTES_PER_DAY)))
    }

    fn time(&mut self) -> Result<Clock, ParseError> {
        let from = self.pos;
        let digits = match self.kind(from) {
            Some(Kind::Num(digits)) => digits.clone(),
            Some(Kind::Word(w)) if NOON_WORDS.contains(&w.as_str()) => {
                self.pos += 1;
                return Ok(Clock {
                    as_start: 12 * 60,
                    as_end: 12 * 60,
                    bare: false,
                    marked: true,
                });
            }
            Some(Kind::Word(w)) if MIDNIGHT_WORDS.contains(&w.as_str()) => {
                self.pos += 1;
                return Ok(Clock {
                    as_start: 0,
                    as_end: MINUTES_PER_DAY,
                    bare: false,
                    marked: true,
                });
            }
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        let (hour_digits, minute_digits) = match digits.len() {
            1 | 2 => (digits.clone(), self.minutes_after_colon()),
            // "0930", "930": hours and minutes run together.
            3 | 4 => {
                let (h, m) = digits.split_at(digits.len() - 2);
                (h.to_string(), Some(m.to_string()))
            }
            _ => return Err(ParseError::BadTime(self.quote(from, self.pos))),
        };
        if minute_digits.as_ref().is_some_and(|m| m.len() != 2) {
            return Err(ParseError::BadTime(self.quote(from, self.pos)));
        }
        if self
            .word(self.pos)
            .is_some_and(|w| HOUR_SUFFIXES.contains(&w))
        {
            self.pos += 1;
        } else if self.word(self.pos) == Some("o") && self.word(self.pos + 1) == Some("clock") {
            // "5 o'clock": the apostrophe splits it in two words.
            self.pos += 2;
        }
        // At most four digits in all, so these always parse.
        let hour: u32 = hour_digits.parse().unwrap_or(u32::MAX);
        let minute: u32 = minute_digits
            .as_deref()
            .map_or(0, |m| m.parse().unwrap_or(u32::MAX));
        let half = self.half(hour);
        if minute > 59 {
            return Err(ParseError::MinuteOutOfRange(self.quote(from, self.pos)));
        }
        if let Some(half) = half {
            if !(1..=12).contains(&hour) {
                return Err(ParseError::BadTime(self.quote(from, self.pos)));
            }
            let hour = hour % 12 + if half == Half::Pm { 12 } else { 0 };
            let minutes = hour * 60 + minute;
            return Ok(Clock {
                as_start: minutes,
                // 12am ends the day, like 24:00.
                as_end: if minutes == 0 {
                    MINUTES_PER_DAY
                } else {
                    minutes
                },
                bare: false,
                marked: true,
            });
        }
        if hour > 24 {
            return Err(ParseError::HourOutOfRange(quote(&hour_digits)));
        }
        if hour == 24 && minute > 0 {
            return Err(ParseError::BadTime(self.quote(from, self.pos)));
        }
        let minutes = hour * 60 + minute;
        Ok(Clock {
            as_start: minutes,
            as_end: minutes,
            bare: minute_digits.is_none() && (1..=12).contains(&hour),
            marked: false,
        })
    }

    /// `:30` after an hour (and a `:00` seconds part, from copied timestamps).
    fn minutes_after_colon(&mut self) -> Option<String> {
        if self.kind(self.pos) != Some(&Kind::Colon) {
            return None;
        }
        let Some(Kind::Num(minutes)) = self.kind(self.pos + 1).cloned() else {
            return None;
        };
        self.pos += 2;
        if self.kind(self.pos) == Some(&Kind::Colon)
            && self.kind(self.pos + 1) == Some(&Kind::Num("00".to_string()))
        {
            self.pos += 2;
        }
        Some(minutes)
    }

    /// Whether the `a` at `at` is the Spanish "to" rather than am: it must come before a time,
    /// and be spaced off the hour before it (`9 a 17`) or written into both (`9a17`); `9a 1-5`
    /// is 9am then another range.
    fn a_means_to(&self, at: usize) -> bool {
        self.time_at(at + 1) && (!self.touches_previous(at) || self.touches_previous(at + 1))
    }

    /// No space or punctuation between the token at `at` and the one before it.
    fn touches_previous(&self, at: usize) -> bool {
        at > 0 && at < self.tokens.len() && self.tokens[at - 1].end == self.tokens[at].start
    }

    /// am/pm after an hour: `am`, `pm`, `a`, `p`, `a.m.`, Spanish `de la manana/tarde/noche`.
    fn half(&mut self, hour: u32) -> Option<Half> {
        // "10 de la noche" is 22:00, but "12 de la noche" is midnight and "2 de la noche" 2:00.
        let night = if hour == 12 || hour < 6 {
            Half::Am
        } else {
            Half::Pm
        };
        let part_of_day = |w: &str| match w {
            "manana" | "madrugada" => Some(Half::Am),
            "tarde" => Some(Half::Pm),
            "noche" => Some(night),
            _ => None,
        };
        let word = self.word(self.pos)?;
        let half = match word {
            "am" => Some(Half::Am),
            "pm" | "p" => Some(Half::Pm),
            "a" if !self.a_means_to(self.pos) => Some(Half::Am),
            _ => part_of_day(word),
        };
        if half.is_some() {
            self.pos += 1;
            return half;
        }
        if matches!(word, "de" | "por" | "en") && self.word(self.pos + 1) == Some("la") {
            let half = part_of_day(self.word(self.pos + 2)?)?;
            self.pos += 3;
            return Some(half);
        }
        None
    }
}

/// The `9-5` guesses (see the module docs): only bare hours are reinterpreted, so anything
/// with minutes or am/pm is read exactly as written.
fn read_range(start: Clock, end: Clock) -> (u32, u32) {
    let (mut s, mut e) = (start.as_start, end.as_end);
    let half_day = 12 * 60;
    if end.bare && e < s && e + half_day > s {
        e += half_day;
    }
    if start.bare && end.marked && s + half_day < e {
        s += half_day;
    }
    (s, e)
}

fn clock_time(minutes: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or(NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    type HourMinute = (u32, u32);

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn shifts_of(text: &str) -> Vec<(Weekday, NaiveTime, NaiveTime)> {
        match parse(text) {
            Ok(Request::Set(s)) => s.shifts().iter().map(|s| (s.day, s.start, s.end)).collect(),
            other => panic!("{text:?} did not parse to a schedule: {other:?}"),
        }
    }

    /// Every day in `days` with the same ranges, in schedule order.
    fn expect(
        days: &[Weekday],
        ranges: &[(HourMinute, HourMinute)],
    ) -> Vec<(Weekday, NaiveTime, NaiveTime)> {
        days.iter()
            .flat_map(|d| {
                ranges
                    .iter()
                    .map(move |&((sh, sm), (eh, em))| (*d, hm(sh, sm), hm(eh, em)))
            })
            .collect()
    }

    fn same(texts: &[&str], expected: Vec<(Weekday, NaiveTime, NaiveTime)>) {
        for text in texts {
            assert_eq!(shifts_of(text), expected, "{text:?}");
        }
    }

    fn error(text: &str) -> ParseError {
        match parse(text) {
            Err(e) => e,
            Ok(r) => panic!("{text:?} should be refused, got {r:?}"),
        }
    }

    use chrono::Weekday::{self, *};
    const MON_FRI: &[Weekday] = &[Mon, Tue, Wed, Thu, Fri];

    #[test]
    fn schedule_mon_fri_9_17_is_five_day_shifts() {
        same(
            &[
                "mon-fri 9-17",
                "MON-FRI 9-17",
                "Mon - Fri  9 - 17",
                "mon to fri 9 to 17",
            ],
            expect(MON_FRI, &[((9, 0), (17, 0))]),
        );
    }

    #[test]
    fn schedule_weekdays_9am_5pm_is_the_same_as_mon_fri_9_17() {
        same(
            &[
                "weekdays 9am-5pm",
                "weekdays 9 am - 5 pm",
                "weekdays 9a-5p",
                "Weekdays 9 A.M. to 5 P.M.",
                "weekdays 9:00am-5:00pm",
                "entre semana 9-17",
            ],
            expect(MON_FRI, &[((9, 0), (17, 0))]),
        );
    }

    #[test]
    fn horario_lun_vie_9_17_is_the_same_in_spanish() {
        same(
            &[
                "lun-vie 9-17",
                "Lun a Vie 9 a 17",
                "de lunes a viernes de 9 a 17",
                "lunes–viernes 9–17",
                "lun al vie 9h-17h",
                "de 9 a 17 de lunes a viernes",
                "lun-vie 9 de la manana a 5 de la tarde",
            ],
            expect(MON_FRI, &[((9, 0), (17, 0))]),
        );
    }

    #[test]
    fn schedule_mon_wed_fri_with_two_ranges_makes_six_shifts() {
        same(
            &[
                "mon,wed,fri 8:30-12:00 13:00-17:30",
                "mon wed fri 8:30-12:00, 13:00-17:30",
                "Mon, Wed & Fri 8.30-12 and 1pm-5:30pm",
                "lun, mie y vie 0830-1200 y 1300-1730",
                "lun mié vie 8h30-12h 13h-17h30",
            ],
            expect(&[Mon, Wed, Fri], &[((8, 30), (12, 0)), ((13, 0), (17, 30))]),
        );
    }

    #[test]
    fn schedule_sat_22_6_is_a_night_shift_past_midnight() {
        same(
            &[
                "sat 22-6",
                "saturday 10pm-6am",
                "sab 22:00-06:00",
                "sábado 10 de la noche a 6 de la manana",
            ],
            expect(&[Sat], &[((22, 0), (6, 0))]),
        );
    }

    #[test]
    fn schedule_off_and_its_synonyms_clear_the_schedule() {
        for text in [
            "off",
            "OFF",
            "Off!",
            "clear",
            "none",
            "no",
            "borrar",
            "ninguno",
            " nada ",
            "sin horario",
        ] {
            assert_eq!(parse(text), Ok(Request::Clear), "{text:?}");
        }
    }

    #[test]
    fn day_names_are_case_accent_and_spacing_tolerant() {
        for (i, names) in DAY_NAMES.iter().enumerate() {
            for name in *names {
                for written in [name.to_string(), name.to_uppercase(), format!("  {name}  ")] {
                    assert_eq!(
                        shifts_of(&format!("{written} 9-17")),
                        expect(&[WEEK[i]], &[((9, 0), (17, 0))])
                    );
                }
            }
        }
        same(
            &["Miércoles 9-17", "MIÉ 9-17", "mie\u{301} 9-17"],
            expect(&[Wed], &[((9, 0), (17, 0))]),
        );
        same(
            &["sábado 9-17", "SÁB 9-17"],
            expect(&[Sat], &[((9, 0), (17, 0))]),
        );
    }

    #[test]
    fn day_ranges_wrap_around_the_weekend() {
        same(
            &["fri-mon 9-17", "vie a lun 9-17"],
            expect(&[Mon, Fri, Sat, Sun], &[((9, 0), (17, 0))]),
        );
        same(&["mon-mon 9-17"], expect(&[Mon], &[((9, 0), (17, 0))]));
    }

    #[test]
    fn day_words_cover_weekends_and_every_day() {
        let nine_to_five = &[((9, 0), (17, 0))];
        same(
            &[
                "weekends 9-17",
                "fin de semana 9-17",
                "fines de semana 9-17",
                "sat sun 9-17",
            ],
            expect(&[Sat, Sun], nine_to_five),
        );
        same(
            &[
                "daily 9-17",
                "every day 9-17",
                "everyday 9-17",
                "todos los dias 9-17",
                "todos los días 9-17",
                "diario 9-17",
                "mon-sun 9-17",
            ],
            expect(&[Mon, Tue, Wed, Thu, Fri, Sat, Sun], nine_to_five),
        );
        same(
            &[
                "weekdays and sat 9-17",
                "mon-fri, sat 9-17",
                "Mon-Fri - Sat 9-17",
            ],
            expect(&[Mon, Tue, Wed, Thu, Fri, Sat], nine_to_five),
        );
        same(
            &[
                "every monday and friday 9-17",
                "los lunes y viernes 9-17",
                "mon/fri 9-17",
            ],
            expect(&[Mon, Fri], nine_to_five),
        );
    }

    #[test]
    fn twelve_hour_times_read_noon_and_midnight_correctly() {
        same(
            &["mon 12pm-5pm", "mon noon-5pm", "mon mediodia a 5pm"],
            expect(&[Mon], &[((12, 0), (17, 0))]),
        );
        same(
            &["mon 12am-6am", "mon midnight-6", "mon 0-6"],
            expect(&[Mon], &[((0, 0), (6, 0))]),
        );
        same(
            &[
                "mon 6pm-12am",
                "mon 6pm-midnight",
                "mon 18-24",
                "mon 6pm-12",
            ],
            expect(&[Mon], &[((18, 0), (0, 0))]),
        );
        same(
            &["mon 5:30pm-11:45pm"],
            expect(&[Mon], &[((17, 30), (23, 45))]),
        );
    }

    #[test]
    fn bare_hours_that_run_backwards_read_the_end_as_pm() {
        let cases = [
            ("mon 9-5", (9, 0), (17, 0)),
            ("mon 9am-5", (9, 0), (17, 0)),
            ("mon 11-1", (11, 0), (13, 0)),
            ("mon noon-5", (12, 0), (17, 0)),
            ("mon 9-12", (9, 0), (12, 0)),
            // pm would still be before the start: the range runs overnight as written.
            ("mon 10pm-6", (22, 0), (6, 0)),
            ("mon 22-6", (22, 0), (6, 0)),
            ("mon 20-4", (20, 0), (4, 0)),
            // Minutes or 24-hour hours are never reinterpreted.
            ("mon 9:00-5:00", (9, 0), (5, 0)),
            ("mon 13-5:00", (13, 0), (5, 0)),
            ("mon 1-17", (1, 0), (17, 0)),
        ];
        for (text, start, end) in cases {
            assert_eq!(shifts_of(text), expect(&[Mon], &[(start, end)]), "{text:?}");
        }
    }

    #[test]
    fn a_bare_start_before_a_pm_end_is_read_as_pm_only_when_it_fits() {
        let cases = [
            ("mon 9-5pm", (9, 0), (17, 0)),
            ("mon 1-5pm", (13, 0), (17, 0)),
            ("mon 10-midnight", (22, 0), (0, 0)),
            ("mon 10-noon", (10, 0), (12, 0)),
            ("mon 12-5pm", (12, 0), (17, 0)),
            ("lun de 9 a 5 de la tarde", (9, 0), (17, 0)),
        ];
        for (text, start, end) in cases {
            assert_eq!(shifts_of(text), expect(&[Mon], &[(start, end)]), "{text:?}");
        }
    }

    #[test]
    fn several_groups_each_keep_their_own_hours() {
        let mut expected = expect(MON_FRI, &[((9, 0), (17, 0))]);
        expected.extend(expect(&[Sat], &[((10, 0), (14, 0))]));
        same(
            &[
                "mon-fri 9-17 sat 10-14",
                "sat 10-14; mon-fri 9-17",
                "lun-vie 9-17, sab 10-14",
            ],
            expected,
        );
        same(
            &["mon 9-12 mon 13-17", "mon 9-12 and 13-17"],
            expect(&[Mon], &[((9, 0), (12, 0)), ((13, 0), (17, 0))]),
        );
    }

    #[test]
    fn a_is_am_when_written_onto_the_hour_and_to_when_spaced() {
        same(
            &["mon 9 a 17", "mon 9a17", "mon 9a-5p", "mon 9 a - 5 p"],
            expect(&[Mon], &[((9, 0), (17, 0))]),
        );
        same(
            &["mon 6-9a 1-5", "mon 6-9a, 1-5"],
            expect(&[Mon], &[((1, 0), (5, 0)), ((6, 0), (9, 0))]),
        );
    }

    #[test]
    fn four_digit_and_dotted_times_read_as_hours_and_minutes() {
        same(
            &[
                "tue 0930-1730",
                "tue 930-1730",
                "tue 9.30-17.30",
                "tue 9h30-17h30",
                "tue 9:30:00-17:30:00",
            ],
            expect(&[Tue], &[((9, 30), (17, 30))]),
        );
        same(
            &[
                "tue 9 o'clock to 5 o'clock",
                "tue 9h-17h",
                "tue 9 hrs - 17 hrs",
                "tue 9\u{200b}-17",
            ],
            expect(&[Tue], &[((9, 0), (17, 0))]),
        );
    }

    #[test]
    fn touching_ranges_and_whole_days_are_allowed() {
        same(
            &["mon 9-12 12-17"],
            expect(&[Mon], &[((9, 0), (12, 0)), ((12, 0), (17, 0))]),
        );
        same(
            &["sun 0-24", "sun 0:00-24:00", "sun 12am-12am"],
            expect(&[Sun], &[((0, 0), (0, 0))]),
        );
    }

    #[test]
    fn empty_text_asks_for_days_and_hours() {
        for text in ["", "   ", "!!", "from the"] {
            assert_eq!(error(text), ParseError::Empty, "{text:?}");
        }
    }

    #[test]
    fn hours_without_days_are_refused_naming_the_hours() {
        assert_eq!(error("9-17"), ParseError::NoDays("9-17".into()));
        assert_eq!(
            error("9-17 mon-fri sat 10-14"),
            ParseError::NoDays("9-17".into())
        );
    }

    #[test]
    fn days_without_hours_are_refused_naming_the_days() {
        assert_eq!(error("mon-fri"), ParseError::NoTimes("mon-fri".into()));
        assert_eq!(error("mon-fri 9-17 sat"), ParseError::NoTimes("sat".into()));
        assert_eq!(
            error("lunes y martes"),
            ParseError::NoTimes("lunes y martes".into())
        );
        assert_eq!(error("mon\n\ntue"), ParseError::NoTimes("mon tue".into()));
    }

    #[test]
    fn an_hour_past_24_is_refused() {
        assert_eq!(error("mon 9-25"), ParseError::HourOutOfRange("25".into()));
        assert_eq!(error("mon 99-17"), ParseError::HourOutOfRange("99".into()));
        assert_eq!(error("mon 13pm-5pm"), ParseError::BadTime("13pm".into()));
        assert_eq!(error("mon 0am-5pm"), ParseError::BadTime("0am".into()));
        assert_eq!(error("mon 9-24:30"), ParseError::BadTime("24:30".into()));
        assert_eq!(error("mon 123456-7"), ParseError::BadTime("123456".into()));
    }

    #[test]
    fn minutes_past_59_are_refused() {
        assert_eq!(
            error("mon 9:75-17"),
            ParseError::MinuteOutOfRange("9:75".into())
        );
        assert_eq!(
            error("mon 9-1790"),
            ParseError::MinuteOutOfRange("1790".into())
        );
        assert_eq!(error("mon 9:5-17"), ParseError::BadTime("9:5".into()));
    }

    #[test]
    fn a_range_that_starts_and_ends_at_the_same_time_is_refused() {
        assert_eq!(error("mon 9-9"), ParseError::ZeroLength("9-9".into()));
        assert_eq!(
            error("mon 9am-9:00"),
            ParseError::ZeroLength("9am-9:00".into())
        );
        assert_eq!(error("mon 0-0"), ParseError::ZeroLength("0-0".into()));
    }

    #[test]
    fn a_range_cannot_start_at_24() {
        assert_eq!(error("mon 24-6"), ParseError::MidnightStart("24-6".into()));
    }

    #[test]
    fn overlapping_ranges_on_one_day_are_refused() {
        let shift = |day, s, e| Shift {
            day,
            start: s,
            end: e,
        };
        assert_eq!(
            error("mon 9-12 11-13"),
            ParseError::Overlap(
                shift(Mon, hm(9, 0), hm(12, 0)),
                shift(Mon, hm(11, 0), hm(13, 0))
            )
        );
        assert_eq!(
            error("mon-fri 9-17 wed 8-10"),
            ParseError::Overlap(
                shift(Wed, hm(8, 0), hm(10, 0)),
                shift(Wed, hm(9, 0), hm(17, 0))
            )
        );
        // An overnight range running into the next day's first range.
        assert_eq!(
            error("sat 22-6 sun 5-9"),
            ParseError::Overlap(
                shift(Sat, hm(22, 0), hm(6, 0)),
                shift(Sun, hm(5, 0), hm(9, 0))
            )
        );
        assert!(matches!(
            error("mon 9-17 mon 9-17"),
            ParseError::Overlap(..)
        ));
    }

    #[test]
    fn an_unknown_word_is_named() {
        assert_eq!(
            error("mon-fri 9-17 maybe"),
            ParseError::UnknownWord("maybe".into())
        );
        assert_eq!(error("mondy 9-17"), ParseError::UnknownWord("mondy".into()));
        assert_eq!(error("mon 9-17 ٣"), ParseError::UnknownWord("٣".into()));
        assert_eq!(error("mon off"), ParseError::UnknownWord("off".into()));
    }

    #[test]
    fn unfinished_ranges_are_refused() {
        assert_eq!(error("mon 9"), ParseError::Unfinished("9".into()));
        assert_eq!(error("mon 9-"), ParseError::Unfinished("9-".into()));
        assert_eq!(error("mon 9 to fri"), ParseError::Unfinished("9 to".into()));
        assert_eq!(error("mon-"), ParseError::Unfinished("mon-".into()));
        assert_eq!(
            error("mon to 9-17"),
            ParseError::Unfinished("mon to".into())
        );
        assert_eq!(
            error("weekdays-sat 9-17"),
            ParseError::BadDayRange("weekdays-sat".into())
        );
    }

    #[test]
    fn error_messages_are_short_and_quote_long_words_cut() {
        let long = "x".repeat(500);
        let errors = [
            error(""),
            error(&long),
            error(&format!("mon 9-17 {long}")),
            error("mon-fri"),
            error("weekdays and weekends and every day"),
            error("9-17"),
            error("mon 9-25"),
            error("mon 9:75-17"),
            error("mon 13pm-1"),
            error("mon 24-6"),
            error("mon 9"),
            error("weekdays-sat 9-17"),
            error("mon 9-9"),
            error("mon 10:00-11:00 10:30-11:30"),
        ];
        for e in errors {
            let text = e.to_string();
            assert!(text.chars().count() < 80, "{text:?} is too long");
            assert!(text.is_ascii(), "{text:?}");
        }
        assert_eq!(
            error(&long),
            ParseError::UnknownWord(format!("{}...", "x".repeat(17)))
        );
        assert_eq!(
            error("mon 9-25").to_string(),
            "Hour 25 is past 24. Example: 9-17 or 9am-5pm"
        );
        assert_eq!(
            error("mon 9-12 11-13").to_string(),
            "Mon 9:00-12:00 overlaps Mon 11:00-13:00"
        );
    }

    #[test]
    fn hostile_input_never_panics() {
        let inputs = [
            "9".repeat(5000),
            "mon ".repeat(2000),
            "mon 9-10 ".repeat(500),
            "-".repeat(1000),
            ":".repeat(100),
            "9:".repeat(100),
            "\u{301}".repeat(100),
            "👍 mon 9-17 👍".to_string(),
            "\u{0}\u{7f}\u{1b}[31m".to_string(),
            "a.m. p. m. a. p.".to_string(),
            "İ ǅ ﬁ ß".to_string(),
        ];
        for input in &inputs {
            let _ = parse(input);
        }
    }
}
