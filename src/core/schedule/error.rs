//! Why a schedule text was refused. Each variant carries the worker's own words (folded and
//! cut to [`MAX_QUOTE_CHARS`]) so the reply can say exactly what to fix; `Display` is a short
//! English line with an example, under 80 characters. Localised replies match on the variant.

use thiserror::Error;

use super::Shift;
use super::describe::shift_label;

/// Quotes longer than this are cut (with `...`), which keeps every message under 80 characters.
pub(crate) const MAX_QUOTE_CHARS: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ParseError {
    /// Nothing after the keyword (or only filler words).
    #[error("Send days and hours, e.g. SCHEDULE mon-fri 9-17")]
    Empty,
    /// A word that is not a day, a time, a connector or a known filler.
    #[error("Unknown word \"{0}\". Example: mon-fri 9-17")]
    UnknownWord(String),
    /// Hours with no days before them (the quoted hours).
    #[error("Which days for {0}? Example: mon-fri 9-17")]
    NoDays(String),
    /// Days with no hours after them (the quoted days).
    #[error("What hours on {0}? Example: mon-fri 9-17")]
    NoTimes(String),
    /// An hour past 24 (the quoted hour).
    #[error("Hour {0} is past 24. Example: 9-17 or 9am-5pm")]
    HourOutOfRange(String),
    /// Minutes past 59 (the quoted time).
    #[error("Minutes in {0} are past 59. Example: 9:30")]
    MinuteOutOfRange(String),
    /// Something shaped like a time that is not one: `13pm`, `0am`, `9:5`, `24:30`, `12345`.
    #[error("\"{0}\" is not a time. Example: 9, 9:30, 9am or 17:00")]
    BadTime(String),
    /// 24:00 used as a start (the quoted range); it only ends a day.
    #[error("{0}: 24:00 only ends a range; start at 0 instead")]
    MidnightStart(String),
    /// A range or list cut short: `mon-`, `9-`, `9 to`, a time with no end.
    #[error("\"{0}\" is incomplete. Example: mon-fri 9-17")]
    Unfinished(String),
    /// A day range with a word such as `weekdays` at one end.
    #[error("\"{0}\" is not a day range. Example: mon-fri")]
    BadDayRange(String),
    /// A range that starts and ends at the same time (the quoted range).
    #[error("{0} starts and ends at the same time")]
    ZeroLength(String),
    /// Two ranges that share time, the earlier first.
    #[error("{} overlaps {}", shift_label(.0), shift_label(.1))]
    Overlap(Shift, Shift),
}

/// The worker's words as an error quotes them: on one line, cut to length.
pub(crate) fn quote(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= MAX_QUOTE_CHARS {
        text
    } else {
        let cut: String = text.chars().take(MAX_QUOTE_CHARS - 3).collect();
        format!("{cut}...")
    }
}
