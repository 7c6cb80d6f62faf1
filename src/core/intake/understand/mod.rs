//! What a worker's text means: read the way a person reads it, not matched against a list.
//!
//! 1. `words` folds the text into words and clauses, spelling out shorthand and emoji.
//! 2. Every phrase of every language's tables (`lexicon`, from `locales/*.words.toml`) is
//!    looked for, by each word's surface form or stem, or one slip away in a long word; the
//!    longest phrases win ("on my way" is not ON, "back from lunch" is not OFF).
//! 3. The words around a command change it (`Reading::of`): a negation turns "available"
//!    into OFF; a time after it makes ON a hold ("on till 6"); "back in 20" is a break; a
//!    question about the state asks for STATUS; a hedge, a likely word on its own or mixed
//!    signals make it uncertain; a future time makes it about later, not now.
//! 4. The result is scored: each command found is sure or unsure, and the caller (the
//!    conversation step) decides: act on a sure one, ask back on an unsure one, never act on
//!    a text that asks both ways.
//!
//! Pure and table-driven: no I/O, and adding a synonym or a language is a data change.

pub mod lexicon;
mod phrases;
mod reading;
pub mod time;
mod words;

pub use self::words::normalize;

use serde::{Deserialize, Serialize};

pub use self::lexicon::MIN_SLIP_LEN;

/// The menu words of every shipped language (`[menu]` in `locales/*.words.toml`).
pub fn menu_words() -> impl Iterator<Item = &'static lexicon::MenuWords> {
    LEXICON.languages.iter().map(|l| &l.menu)
}
use self::lexicon::{LEXICON, Lexicon, Modifier, Role};
use self::phrases::{Match, find, skill_words};
pub use self::time::Until;
use self::words::Words;
use crate::core::domain::Locale;
use crate::core::domain::catalog::Catalog;

/// What a worker's text asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "intent")]
pub enum Intent {
    On,
    Off,
    Skills,
    /// SCHEDULE and the worker's words after it (original case), e.g. "mon-fri 9-17".
    Schedule {
        hours: String,
    },
    Status,
    Help,
    /// LANG with the language asked for, None when none we know was named.
    Lang {
        language: Option<Locale>,
    },
    Yes,
    No,
    /// Carrier opt-out words.
    Stop,
    /// Carrier opt-in words.
    Start,
    /// ON or OFF for a while: "ON until 6pm", "OFF for 30m", "back in 20".
    Hold {
        online: bool,
        until: Until,
    },
    /// TZ and the zone or city asked for (may be empty).
    TimeZone {
        zone: String,
    },
    /// `JOIN <pin> <name>`; the name keeps its case and may be empty.
    Join {
        pin: String,
        name: String,
    },
}

impl Intent {
    /// A short stable name, for metrics and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Intent::On => "on",
            Intent::Off => "off",
            Intent::Skills => "skills",
            Intent::Schedule { .. } => "schedule",
            Intent::Status => "status",
            Intent::Help => "help",
            Intent::Lang { .. } => "lang",
            Intent::Yes => "yes",
            Intent::No => "no",
            Intent::Stop => "stop",
            Intent::Start => "start",
            Intent::Join { .. } => "join",
            Intent::TimeZone { .. } => "tz",
            Intent::Hold { online: true, .. } => "on_until",
            Intent::Hold { online: false, .. } => "off_for",
        }
    }

    /// Which way it moves the worker's presence, if it does.
    pub fn online(&self) -> Option<bool> {
        match self {
            Intent::On | Intent::Hold { online: true, .. } => Some(true),
            Intent::Off | Intent::Stop | Intent::Hold { online: false, .. } => Some(false),
            _ => None,
        }
    }
}

/// What to do with a text when no menu is open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// One clear command: carry it out.
    Sure(Intent),
    /// A plausible command that is not clear enough to act on: ask back.
    Unsure(Intent),
    /// Going online (true) or offline (false) later, not now ("I'll be on at 3").
    Later(bool),
    /// No command; the commands it came closest to, for the reply (may be empty).
    Unknown(Vec<Intent>),
}

/// A YES or NO at a confirm step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
}

/// Longer texts are conversations, not commands: guessing at them is worse than saying we
/// did not understand. Two SMS segments.
const MAX_CHARS: usize = 320;

/// What a text says, with how sure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reading {
    /// Commands found, each sure (true) or not, the most important first.
    found: Vec<(Intent, bool)>,
    /// A move of presence later, not now.
    later: Option<bool>,
    /// Commands it came near without saying them.
    near: Vec<Intent>,
    /// It asks to go online and offline at once ("on or off?").
    both_ways: bool,
}

/// Reads `text` from a worker who texts in `language` (whose shorthand wins a tie), for a
/// business with the skills of `catalog`.
pub fn read(text: &str, language: Locale, catalog: &Catalog) -> Reading {
    let lexicon: &Lexicon = &LEXICON;
    if text.chars().nth(MAX_CHARS).is_some() {
        return Reading::default();
    }
    let prefer = lexicon
        .languages
        .iter()
        .position(|l| l.locale == language)
        .unwrap_or(0);
    let words = words::split(text, lexicon, prefer);
    if words.tokens.is_empty() {
        // "?" alone asks where the worker stands.
        return if words.questions.is_empty() && !text.contains(['?', '¿', '？']) {
            Reading::default()
        } else {
            Reading::sure(Intent::Status)
        };
    }
    let place = crate::core::schedule::zones::find(text).is_some();
    let matches = find(&words, lexicon, skill_words(catalog), place);
    if let Some(reading) = whole_text_command(text, &words, &matches) {
        return reading;
    }
    let mut reading = reading::of(text, &words, &matches);
    // Weekly hours with no keyword ("esta semana trabajo de martes a sabado 9 a 5").
    if !reading
        .sure_commands()
        .any(|i| !matches!(i, Intent::Yes | Intent::No))
        && let Some(hours) = hours_within(text)
    {
        reading.found.insert(
            0,
            (
                Intent::Schedule {
                    hours: hours.to_string(),
                },
                true,
            ),
        );
    }
    reading
}

/// Builds the tables `read` relies on (the lexicon, the place names, the schedule
/// grammar's words) by reading a text in each language, so that the first workers to
/// text after a start-up do not wait for them.
pub fn warm_up(catalog: &Catalog) {
    for (text, language) in [
        ("on until 6pm, mon-fri 9-5 in Chicago", Locale::En),
        (
            "me conecto hasta las 6, lunes a viernes de 9 a 5",
            Locale::Es,
        ),
    ] {
        read(text, language, catalog);
        let _ = parse_hours(text);
    }
}

/// Weekly hours as the schedule grammar reads them, with numbers and parts of the day
/// written as words spelled out first ("monday to friday nine to five" -> "monday to friday
/// 9 to 5", "de ocho de la mañana a cuatro de la tarde" -> "de 8 am a 4 pm").
pub fn parse_hours(
    text: &str,
) -> Result<crate::core::schedule::Request, crate::core::schedule::ParseError> {
    crate::core::schedule::parse(&spell_out(text))
}

fn spell_out(text: &str) -> String {
    let lexicon: &Lexicon = &LEXICON;
    let folded = words::fold(text);
    if !folded.split(|c: char| !c.is_alphanumeric()).any(|w| {
        lexicon.languages.iter().any(|l| {
            l.numbers.contains_key(w)
                || l.parts_of_day
                    .iter()
                    .any(|(p, _)| p.first().is_some_and(|f| f == w))
        })
    }) {
        return text.to_string();
    }
    let pieces: Vec<&str> = folded.split_whitespace().collect();
    let core = |w: &str| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    'words: while i < pieces.len() {
        for language in &lexicon.languages {
            for (phrase, meridiem) in &language.parts_of_day {
                let fits = phrase
                    .iter()
                    .enumerate()
                    .all(|(k, w)| pieces.get(i + k).is_some_and(|p| core(p) == *w));
                if fits {
                    out.push(meridiem.to_string());
                    i += phrase.len();
                    continue 'words;
                }
            }
        }
        let word = core(pieces[i]);
        match lexicon.languages.iter().find_map(|l| l.numbers.get(&word)) {
            Some(n) => out.push(pieces[i].replacen(&word, &n.to_string(), 1)),
            None => out.push(pieces[i].to_string()),
        }
        i += 1;
    }
    out.join(" ")
}

/// Weekly hours written inside a longer text: the longest run of its words, between word
/// boundaries, that the schedule grammar reads as a schedule with days and times.
pub fn hours_within(text: &str) -> Option<&str> {
    if !text.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            text.char_indices()
                .filter(|(_, c)| c.is_whitespace() || *c == ',')
                .map(|(i, c)| i + c.len_utf8()),
        )
        .collect();
    let ends: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| c.is_whitespace() || matches!(c, ',' | '.' | '!' | '?'))
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    for &start in &starts {
        for &end in ends.iter().rev().filter(|&&e| e > start) {
            let candidate = text[start..end].trim();
            let has_day = candidate.chars().any(char::is_alphabetic);
            if has_day
                && candidate.chars().any(|c| c.is_ascii_digit())
                && matches!(
                    parse_hours(candidate),
                    Ok(crate::core::schedule::Request::Set(_))
                )
            {
                return Some(candidate);
            }
        }
    }
    None
}

/// How a text was read, phrase by phrase, for a developer asking why (`examples/read.rs`).
pub fn explain(text: &str, language: Locale, catalog: &Catalog) -> String {
    let lexicon: &Lexicon = &LEXICON;
    let prefer = lexicon
        .languages
        .iter()
        .position(|l| l.locale == language)
        .unwrap_or(0);
    let words = words::split(text, lexicon, prefer);
    let mut out = String::new();
    for token in &words.tokens {
        out.push_str(&format!("{}/{} ", token.word, token.clause));
    }
    out.push_str(&format!(" questions={:?}\n", words.questions));
    let place = crate::core::schedule::zones::find(text).is_some();
    for m in find(&words, lexicon, skill_words(catalog), place) {
        let span: Vec<&str> = words.tokens[m.start..m.end]
            .iter()
            .map(|t| t.word.as_str())
            .collect();
        out.push_str(&format!(
            "  {:?} {:?}{}\n",
            span.join(" "),
            m.role,
            if m.slip { " (slip)" } else { "" }
        ));
    }
    out.push_str(&format!("  => {:?}\n", read(text, language, catalog)));
    out
}

/// The one command a text carries, when it is sure: for callers that only act (the intake
/// line's speech, metrics) and never ask back.
pub fn understand(text: &str, language: Locale, catalog: &Catalog) -> Option<Intent> {
    match read(text, language, catalog).command() {
        Verdict::Sure(intent) => Some(intent),
        _ => None,
    }
}

impl Reading {
    /// A reading with nothing to doubt: a key pressed on the phone menu.
    pub fn sure(intent: Intent) -> Self {
        Self {
            found: vec![(intent, true)],
            ..Self::default()
        }
    }

    /// What to do with the text when no menu is open: the most important sure command, else
    /// the most important unsure one, and a bare YES or NO last; never a presence change
    /// when it asks both ways.
    pub fn command(&self) -> Verdict {
        if self.both_ways {
            return Verdict::Unknown(vec![Intent::On, Intent::Off]);
        }
        let answer = |i: &Intent| matches!(i, Intent::Yes | Intent::No);
        if let Some((intent, _)) = self.found.iter().find(|(i, sure)| *sure && !answer(i)) {
            return Verdict::Sure(intent.clone());
        }
        if let Some((intent, _)) = self.found.iter().find(|(i, _)| !answer(i)) {
            return Verdict::Unsure(intent.clone());
        }
        if let Some((intent, sure)) = self.found.first() {
            return if *sure {
                Verdict::Sure(intent.clone())
            } else {
                Verdict::Unsure(intent.clone())
            };
        }
        match self.later {
            Some(online) => Verdict::Later(online),
            None => Verdict::Unknown(self.near.clone()),
        }
    }

    /// YES or NO, when the text clearly says one of them.
    pub fn answer(&self) -> Option<Answer> {
        let yes = self.found.contains(&(Intent::Yes, true));
        let no = self.found.contains(&(Intent::No, true));
        match (yes, no) {
            (true, false) => Some(Answer::Yes),
            (false, true) => Some(Answer::No),
            _ => None,
        }
    }

    /// Every sure command found, for a step that takes only some kinds.
    pub fn sure_commands(&self) -> impl Iterator<Item = &Intent> {
        self.found.iter().filter(|(_, sure)| *sure).map(|(i, _)| i)
    }
}

/// A carrier word, JOIN or TZ: commands whose meaning is the whole text or its first word.
fn whole_text_command(text: &str, words: &Words, matches: &[Match]) -> Option<Reading> {
    let all = |modifier: Modifier| {
        matches.iter().any(|m| {
            m.role == Role::Word(modifier) && m.start == 0 && m.end == words.tokens.len() && !m.slip
        })
    };
    if all(Modifier::Stop) {
        return Some(Reading::sure(Intent::Stop));
    }
    if all(Modifier::Start) {
        return Some(Reading::sure(Intent::Start));
    }
    let first = matches.iter().find(|m| m.start == 0 && !m.slip)?;
    let rest = || free_text(&text[words.tokens[first.end - 1].end..]).to_string();
    match first.role {
        Role::Word(Modifier::Join) => {
            let rest = rest();
            let (pin, name) = rest.split_once(char::is_whitespace).unwrap_or((&rest, ""));
            Some(Reading::sure(Intent::Join {
                pin: pin.trim_matches(|c: char| !c.is_alphanumeric()).to_string(),
                name: name.trim().to_string(),
            }))
        }
        Role::Word(Modifier::TimeZone) => Some(Reading::sure(Intent::TimeZone { zone: rest() })),
        _ => None,
    }
}

/// The worker's own words after a command, minus the separator they typed ("schedule:
/// mon-fri"), and nothing at all when only punctuation or emoji follow.
pub(super) fn free_text(rest: &str) -> &str {
    let rest = rest
        .trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, ':' | ',' | ';' | '.' | '=' | '-')
        })
        .trim();
    if rest.chars().any(char::is_alphanumeric) {
        rest
    } else {
        ""
    }
}

#[cfg(test)]
mod tests;
