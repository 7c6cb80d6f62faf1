//! What the words around a command do to it (step 3 of the module doc):
//!
//! - a negation before "available" makes it OFF; before "log off", an unsure ON; before an
//!   attempt ("can't log in") a problem report unless it is plainly about today;
//! - a time after it: "until 6" or "for 2 hours" makes a hold, "at 8" or "in 10 min" makes
//!   it about later; "back in 20" / "vuelvo a las 3" is a break with its end;
//! - a question about the state ("am I on?", "estoy conectada?") asks for STATUS; a polite
//!   request ("can you log me out?") stays a command;
//! - a hedge ("maybe", "no se"), a likely word on its own, or signals both ways make it
//!   uncertain; ON and OFF both sure is never acted on;
//! - YES and NO count only as an answer: alone in their clause with filler around them.

use super::lexicon::{Meaning, Modifier, Role, Strength};
use super::phrases::Match;
use super::time::{self, Part, Until};
use super::words::Words;
use super::{Intent, Reading, free_text};
use crate::core::domain::Locale;

/// Words allowed between a negation and what it negates, other than fillers.
const NEGATION_REACH: usize = 1;

/// Builds the reading of a text from the phrases found in it.
pub(super) fn of(text: &str, words: &Words, matches: &[Match]) -> Reading {
    let mut reading = Reading::default();
    let context = Context::new(text, words, matches);
    let mut presence: Vec<Presence> = Vec::new();
    for clause in 0..words.clause_count() {
        presence.extend(context.presence_in(clause));
    }
    context.other_commands(text, &mut reading);
    // "only till 4", "nomas hasta la 1": a time limit and nothing else reads as being on
    // until then, but only enough to ask.
    if presence.is_empty() && reading.found.is_empty() {
        presence.extend(context.limit_alone());
    }

    let mut now = moves_now(&presence, &mut reading);

    // "on? off? idk": both ways with only question marks is not a question about the state.
    let bare_status = |way: bool| {
        presence
            .iter()
            .any(|p| matches!(p, Presence::Status { online, asked: false } if *online == way))
    };
    if bare_status(true) && bare_status(false) {
        reading.found.retain(|(i, _)| *i != Intent::Status);
        reading.both_ways = true;
        return reading;
    }
    let both_sure = |now: &[(Intent, bool, usize)]| {
        let way = |online: bool| {
            now.iter()
                .any(|(i, sure, _)| *sure && i.online() == Some(online))
        };
        way(true) && way(false)
    };
    if both_sure(&now) {
        // "I said I couldn't work, but I'm free now: put me online": after a "but" or an
        // "actually", the later clause corrects the earlier one.
        match context.correction() {
            Some(from) => now.retain(|(_, _, clause)| *clause >= from),
            None => {
                reading.both_ways = true;
                return reading;
            }
        }
        if both_sure(&now) {
            reading.both_ways = true;
            return reading;
        }
    }
    choose(now, &presence, &context, &mut reading);
    if reading.found.iter().any(|(i, _)| i.online().is_some()) {
        reading.later = None;
    }
    reading
}

/// The moves asked for now, each as (intent, sure, clause); what is not a move now (later,
/// a question, a near miss) goes straight into `reading`.
fn moves_now(presence: &[Presence], reading: &mut Reading) -> Vec<(Intent, bool, usize)> {
    // "logging off, back on at 7": off now and on at a time is a break until then; "log me
    // in but I have to leave at 4": on now and off at a time is on until then.
    let later_at = |way: bool| {
        presence.iter().find_map(|p| match p {
            Presence::Later {
                online,
                at: Some(until),
            } if *online == way => Some(*until),
            _ => None,
        })
    };
    let back_at = later_at(true);
    let leave_at = later_at(false);
    // Each move asked for now: (intent, sure, clause).
    let mut now: Vec<(Intent, bool, usize)> = Vec::new();
    for p in presence {
        match *p {
            Presence::Now {
                online: false,
                until: None,
                sure,
                clause,
            } if back_at.is_some() => now.push((
                Intent::Hold {
                    online: false,
                    until: back_at.expect("checked above"),
                },
                sure,
                clause,
            )),
            Presence::Now {
                online: true,
                until: None,
                sure,
                clause,
            } if leave_at.is_some() => now.push((
                Intent::Hold {
                    online: true,
                    until: leave_at.expect("checked above"),
                },
                sure,
                clause,
            )),
            Presence::Now {
                online,
                until,
                sure,
                clause,
            } => {
                let intent = match until {
                    Some(until) => Intent::Hold { online, until },
                    None if online => Intent::On,
                    None => Intent::Off,
                };
                now.push((intent, sure, clause));
            }
            Presence::Later { online, .. } => {
                reading.later.get_or_insert(online);
            }
            Presence::Status { .. } => {
                if !reading.found.contains(&(Intent::Status, true)) {
                    reading.found.push((Intent::Status, true));
                }
            }
            Presence::Near { online, .. } => {
                reading
                    .near
                    .push(if online { Intent::On } else { Intent::Off })
            }
        }
    }

    now
}

/// Puts the move to act on first in `reading.found`: the surest, and sure only when
/// nothing in the text speaks against it.
fn choose(
    mut now: Vec<(Intent, bool, usize)>,
    presence: &[Presence],
    context: &Context<'_>,
    reading: &mut Reading,
) {
    // The surest first, holds before plain ON and OFF: a hold says more. Mixed signals, a
    // hedge or an answer against it ("No, I'm available") make it uncertain; a weak word
    // the other way only counts in the same clause or after it ("sick but available"
    // acts, "available but sick" asks).
    now.sort_by_key(|(intent, sure, _)| (!*sure, !matches!(intent, Intent::Hold { .. })));
    if let Some((intent, sure, clause)) = now.first().cloned() {
        let against = now.iter().any(|(other, other_sure, other_clause)| {
            other.online() != intent.online() && (*other_sure || !sure || *other_clause >= clause)
        });
        // "entro y salgo": a short word the other way in the same clause, even if it was
        // not alone, says this is not a plain command.
        let near_against = presence.iter().any(|p| {
            matches!(p, Presence::Near { online, clause: c } if Some(*online) != intent.online() && *c == clause)
        });
        let going_on = intent.online() == Some(true);
        let answered_no = going_on && context.answered_no();
        let maybe_later = going_on && context.has_anywhere(Modifier::MaybeLater);
        let doubted = against || near_against || answered_no || maybe_later || context.hedged;
        reading.found.insert(0, (intent, sure && !doubted));
    }
}

/// A move of presence that one phrase asks for, after the words around it.
#[derive(Clone, Debug, PartialEq)]
enum Presence {
    Now {
        online: bool,
        until: Option<Until>,
        sure: bool,
        /// The clause it was said in.
        clause: usize,
    },
    Later {
        online: bool,
        at: Option<Until>,
    },
    /// "am I on?": a question about the state; `asked` when a question word says so, not
    /// only a question mark ("on? off?" asks nothing clear).
    Status {
        online: bool,
        asked: bool,
    },
    /// A command word that the words around it took away ("on" in "on the bus").
    Near {
        online: bool,
        clause: usize,
    },
}

/// The phrases found, arranged for asking what surrounds a command.
/// What a clause says about the cues in it, beside the cues themselves.
struct Mood {
    question: bool,
    request: bool,
    future: bool,
    late: bool,
    present: bool,
    /// A reason anywhere in the text ("my internet is down").
    reasons: bool,
}

struct Context<'a> {
    words: &'a Words,
    matches: &'a [Match],
    /// A hedge anywhere ("maybe", "not sure") makes every reading uncertain.
    hedged: bool,
    /// Negations that turned a command around (their "no" is not an answer).
    used_negations: std::cell::RefCell<Vec<usize>>,
    /// The text names weekly hours ("de martes a sabado de 10 a 6"): a time in it is a
    /// schedule, not how long to stay on.
    names_weekly_hours: bool,
}

impl<'a> Context<'a> {
    fn new(text: &str, words: &'a Words, matches: &'a [Match]) -> Self {
        Self {
            names_weekly_hours: super::hours_within(text).is_some(),
            words,
            matches,
            hedged: matches
                .iter()
                .any(|m| m.role == Role::Word(Modifier::Hedge)),
            used_negations: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn clause(&self, m: &Match) -> usize {
        self.words.tokens[m.start].clause
    }

    fn in_clause(&self, clause: usize) -> impl Iterator<Item = (usize, &'a Match)> + '_ {
        self.matches
            .iter()
            .enumerate()
            .filter(move |(_, m)| self.words.tokens[m.start].clause == clause)
    }

    fn has_anywhere(&self, modifier: Modifier) -> bool {
        self.matches.iter().any(|m| m.role == Role::Word(modifier))
    }

    fn has(&self, clause: usize, modifier: Modifier) -> bool {
        self.in_clause(clause)
            .any(|(_, m)| m.role == Role::Word(modifier))
    }

    /// The clause asks a question: a question mark, or it opens with "am I", "is my".
    fn is_question(&self, clause: usize) -> bool {
        self.words.is_question(clause) || self.asks(clause)
    }

    /// The clause asks with a question word ("am I", "is my", "cual", "or not").
    fn asks(&self, clause: usize) -> bool {
        // The first word that carries anything ("switch which queues" opens with "switch"),
        // past an interjection ("wait, what skills do I have?").
        let interjection = |i: usize| {
            self.matches.iter().any(|m| {
                (m.start..m.end).contains(&i)
                    && matches!(m.role, Role::Cue(Meaning::Yes | Meaning::No, _))
            })
        };
        let first = (0..self.words.tokens.len()).find(|&i| {
            self.words.tokens[i].clause == clause && !self.light_token(i) && !interjection(i)
        });
        let opens = first.is_some_and(|i| {
            self.matches
                .iter()
                .any(|m| m.start == i && m.role == Role::Word(Modifier::Question))
        });
        let tag = self.in_clause(clause).any(|(_, m)| {
            m.role == Role::Word(Modifier::Question) && m.end == self.clause_end(clause)
        });
        opens || tag
    }

    fn clause_end(&self, clause: usize) -> usize {
        self.words
            .tokens
            .iter()
            .rposition(|t| t.clause == clause)
            .map_or(0, |i| i + 1)
    }

    /// Every word of the clause other than `cue` is filler, politeness, a time word, a
    /// number or the same command: the test for short words such as "on" ("I'm on now,
    /// thanks") and for answers ("yes please").
    fn alone(&self, cue: &Match) -> bool {
        let clause = self.clause(cue);
        let meaning = match cue.role {
            Role::Cue(meaning, _) => Some(meaning),
            Role::Word(_) => None,
        };
        // Another command beside it ("in and out") means it is not alone, even where the
        // same word is also a filler or a preposition; so does any word that says
        // something (a reason, a day, an unknown word: "school started back").
        let other_command = |m: &Match| match m.role {
            Role::Cue(Meaning::Yes, _) => false,
            Role::Cue(other, _) => Some(other) != meaning,
            Role::Word(_) => false,
        };
        let light = |m: &Match| match m.role {
            Role::Cue(other, _) => other == Meaning::Yes || Some(other) == meaning,
            Role::Word(modifier) => {
                is_light(m.role)
                    || is_time_word(m.role)
                    || matches!(
                        modifier,
                        Modifier::Request
                            | Modifier::Until
                            | Modifier::For
                            | Modifier::In
                            | Modifier::At
                            // Words that change the command rather than add to it.
                            | Modifier::Negation
                            | Modifier::Hedge
                            | Modifier::Future
                            | Modifier::Late
                            | Modifier::MaybeLater
                            | Modifier::Question
                            | Modifier::Indirect
                    )
            }
        };
        self.words
            .tokens
            .iter()
            .enumerate()
            .filter(|(i, t)| t.clause == clause && !(cue.start..cue.end).contains(i))
            .all(|(i, t)| {
                let covering = || {
                    self.matches
                        .iter()
                        .filter(move |m| (m.start..m.end).contains(&i))
                };
                !covering().any(&other_command) && (t.number.is_some() || covering().any(&light))
            })
    }

    /// The phrase is the first word of its clause that carries anything, and more than a
    /// letter: "y" opens Spanish sentences as "and", "n" and "s" are typos as often as not.
    fn opens_clause(&self, m: &Match) -> bool {
        let first = self
            .words
            .tokens
            .iter()
            .position(|t| t.clause == self.clause(m));
        let long = m.end - m.start > 1 || self.words.tokens[m.start].word.chars().count() > 1;
        long && first.is_some_and(|f| (f..m.start).all(|i| self.light_token(i)))
    }

    /// The negation that turns `cue` around, if any: before it in its clause, with at most
    /// `NEGATION_REACH` words between them that are not filler.
    fn negation_of(&self, cue: &Match) -> Option<usize> {
        self.in_clause(self.clause(cue))
            .filter(|(_, m)| m.role == Role::Word(Modifier::Negation) && m.end <= cue.start)
            .filter(|(_, m)| {
                let between = (m.end..cue.start).filter(|&i| !self.light_token(i)).count();
                between <= NEGATION_REACH
            })
            .map(|(n, _)| n)
            .last()
    }

    /// A token that carries nothing (filler, gap, time-now, politeness).
    fn light_token(&self, i: usize) -> bool {
        self.matches.iter().any(|m| {
            (m.start..m.end).contains(&i)
                && (is_light(m.role) || m.role == Role::Word(Modifier::Request))
        })
    }

    /// The parts of a time from token `from` on, in the clause: numbers and time words,
    /// stopping at any other word ("the", "las" and "y" are passed over inside a time).
    fn parts_from(&self, clause: usize, from: usize) -> Vec<Part> {
        let mut parts = Vec::new();
        let mut i = from;
        while let Some(token) = self.words.tokens.get(i).filter(|t| t.clause == clause) {
            if let Some(n) = token.number {
                parts.push(Part::Number(n));
                i += 1;
                continue;
            }
            let time_word = self
                .matches
                .iter()
                .find(|m| m.start == i && is_time_word(m.role));
            if let Some(m) = time_word {
                match m.role {
                    // "a couple hours", "un par de horas".
                    Role::Word(Modifier::Couple) => parts.push(Part::Number(2)),
                    // "like 45 min", "unos 20", "an hour or so": nothing to the time.
                    Role::Word(Modifier::Approx) => {}
                    Role::Word(modifier) => parts.push(Part::Word(modifier)),
                    Role::Cue(..) => {}
                }
                i = m.end;
                continue;
            }
            // "until the 5", "hasta el mediodia", "una hora y media": small words inside a time.
            let small = matches!(
                token.word.as_str(),
                "and" | "y" | "the" | "el" | "la" | "las" | "next" | "proximas" | "proximos"
            );
            if small {
                i += 1;
                continue;
            }
            parts.push(Part::Other);
            break;
        }
        parts
    }

    /// The time named after a preposition of one of `kinds`, from token `after` on, in the
    /// clause or (for a hold) the clauses after it that name no command of their own.
    fn time_after(&self, clause: usize, after: usize, kinds: &[Modifier]) -> Option<Until> {
        for (_, m) in self.in_clause(clause).filter(|(_, m)| m.start >= after) {
            let Role::Word(kind) = m.role else { continue };
            if !kinds.contains(&kind) {
                continue;
            }
            let parts = self.parts_from(clause, m.end);
            let until = match kind {
                Modifier::Until | Modifier::At => time::clock(&parts).map(|(u, _)| u),
                Modifier::For | Modifier::In => {
                    time::span(&parts, true).map(|(s, _)| Until::for_span(s))
                }
                _ => None,
            };
            if until.is_some() {
                return until;
            }
        }
        None
    }

    /// A time for a hold in the clauses after `clause` that carry no command ("logging in,
    /// only until noon", "ahorita vuelvo, 20 min").
    fn time_in_next_clauses(&self, clause: usize, kinds: &[Modifier], bare: bool) -> Option<Until> {
        (clause + 1..self.words.clause_count())
            .take_while(|&c| {
                !self
                    .in_clause(c)
                    .any(|(_, m)| matches!(m.role, Role::Cue(..)))
            })
            .find_map(|c| {
                let start = self.words.tokens.iter().position(|t| t.clause == c)?;
                self.time_after(c, start, kinds)
                    .or_else(|| bare.then(|| self.bare_span_at(c, start)).flatten())
            })
    }

    /// A span with no preposition at `at` or at the clause's first number ("break 15 min",
    /// "taking 5", "5 minutitos y regreso").
    fn bare_span_at(&self, clause: usize, at: usize) -> Option<Until> {
        // Only light words between: "back on, until 4" is not "back in 4".
        let start = (at..self.clause_end(clause))
            .find(|&i| self.words.tokens[i].number.is_some() || self.is_time_word_at(i))
            .filter(|&i| (at..i).all(|j| self.light_token(j)))?;
        let parts = self.parts_from(clause, start);
        time::span(&parts, true).map(|(s, _)| Until::for_span(s))
    }

    /// A span with its unit that opens the clause before `before` ("una horita y ya me
    /// voy", "2 more hours then I'm out").
    fn span_before(&self, clause: usize, before: usize) -> Option<Until> {
        let start = self.words.tokens.iter().position(|t| t.clause == clause)?;
        let first = (start..before).find(|&i| !self.light_token(i) || self.is_time_word_at(i))?;
        let parts = self.parts_from(clause, first);
        let (span, used) = time::span(&parts, false)?;
        (used > 0).then(|| Until::for_span(span))
    }

    /// A span with its unit anywhere in the clause ("a half hour", "15 min").
    fn span_in(&self, clause: usize) -> Option<Until> {
        let start = self.words.tokens.iter().position(|t| t.clause == clause)?;
        (start..self.clause_end(clause)).find_map(|i| {
            let parts = self.parts_from(clause, i);
            time::span(&parts, false).map(|(s, _)| Until::for_span(s))
        })
    }

    /// A unit of time follows the first number at or after `at` ("2 horas", not "2").
    fn unit_after(&self, clause: usize, at: usize) -> bool {
        let parts = self.parts_from(clause, at);
        time::span(&parts, false).is_some()
    }

    fn is_time_word_at(&self, i: usize) -> bool {
        self.matches
            .iter()
            .any(|m| m.start == i && is_time_word(m.role))
    }

    /// What the presence commands of one clause ask for, after the words around them.
    fn presence_in(&self, clause: usize) -> Vec<Presence> {
        let mood = Mood {
            question: self.is_question(clause),
            request: self.has(clause, Modifier::Request),
            future: self.has(clause, Modifier::Future),
            late: self.has(clause, Modifier::Late),
            present: self.has(clause, Modifier::Present),
            reasons: self
                .matches
                .iter()
                .any(|m| m.role == Role::Word(Modifier::Reason)),
        };

        // "back in 20", "be back at 3", "5 minutitos y regreso": a break with its end.
        if let Some((_, back)) = self
            .in_clause(clause)
            .find(|(_, m)| m.role == Role::Word(Modifier::Return))
            && !mood.question
        {
            let start = self
                .words
                .tokens
                .iter()
                .position(|t| t.clause == clause)
                .unwrap_or(0);
            let until = self
                .time_after(clause, back.end, &[Modifier::In, Modifier::At])
                .or_else(|| self.bare_span_at(clause, back.end))
                .or_else(|| self.time_after(clause, start, &[Modifier::In, Modifier::At]))
                .or_else(|| self.bare_span_at(clause, start))
                .or_else(|| self.time_in_next_clauses(clause, &[Modifier::In, Modifier::At], true));
            if until.is_some() || mood.future {
                // "back tomorrow": gone until then.
                return vec![Presence::Now {
                    online: false,
                    until,
                    sure: true,
                    clause,
                }];
            }
        }

        self.in_clause(clause)
            .filter_map(|(_, cue)| self.cue_presence(clause, cue, &mood))
            .collect()
    }

    /// What one ON or OFF cue of `clause` says, read with the clause's mood: a move now
    /// (with how long), later, a question about where the worker stands, or a word that
    /// only comes near a command.
    fn cue_presence(&self, clause: usize, cue: &Match, mood: &Mood) -> Option<Presence> {
        let Role::Cue(meaning, strength) = cue.role else {
            return None;
        };
        // A phrase listed both as sure and as an attempt ("log in") is an attempt.
        let attempt = Role::Cue(meaning, Strength::Try);
        if strength == Strength::Sure
            && self
                .matches
                .iter()
                .any(|o| o.start == cue.start && o.end == cue.end && o.role == attempt)
        {
            return None;
        }
        let online = match meaning {
            Meaning::On => true,
            Meaning::Off => false,
            _ => return None,
        };
        if strength == Strength::Alone && !self.alone(cue) {
            return Some(Presence::Near { online, clause });
        }
        let negation = self.negation_of(cue);
        let (online, mut sure) = match (negation, online, strength) {
            (None, _, Strength::Likely) => (online, false),
            (None, _, _) => (online, true),
            // "I can't log in" is a problem to report unless it plainly is about today.
            (Some(_), true, Strength::Try) => (false, mood.present || mood.reasons),
            (Some(_), true, _) => (false, true),
            // "not done yet", "don't log me off": staying on, said indirectly.
            (Some(_), false, _) => (true, false),
        };
        if let Some(n) = negation {
            self.used_negations.borrow_mut().push(n);
        }
        // "could you confirm whether I'm logged in?" asks, however politely.
        let indirect = self.has(clause, Modifier::Indirect);
        if (mood.question && !mood.request) || indirect {
            // "estoy conectada?" asks; "does this include lunch time?" asks something else.
            let asked = self.asks(clause) || indirect;
            return Some(if asked || self.alone(cue) {
                Presence::Status { online, asked }
            } else {
                Presence::Near { online, clause }
            });
        }
        // "log out?" alone is not sure; "can you log me out?" is a request.
        sure &= !mood.question || mood.request;
        // "I'll be on at 3", "el viernes no trabajo": about later, not now.
        let at = self.time_after(clause, cue.end, &[Modifier::In, Modifier::At]);
        if (at.is_some() && negation.is_none()) || (mood.future && !mood.present) || mood.late {
            return Some(Presence::Later { online, at });
        }
        // "on till 6", "off for 2 hours", "break 15 min", "taking 5".
        let span_from = (cue.start..cue.end)
            .find(|&i| self.words.tokens[i].number.is_some())
            .unwrap_or(cue.end);
        // "una horita nada más y ya me voy": a span before leaving is how long to stay.
        if !online
            && negation.is_none()
            && let Some(stay) = self.span_before(clause, cue.start)
        {
            return Some(Presence::Now {
                online: true,
                until: Some(stay),
                sure,
                clause,
            });
        }
        // "I've been trying to log off for 10 minutes": time that has passed, not a hold.
        let elapsed = self.has(clause, Modifier::Elapsed);
        let until = if negation.is_some() || elapsed {
            None
        } else {
            // A bare number only after OFF ("break 15"); with a unit after ON too
            // ("disponible 2 horas").
            self.time_after(clause, cue.end, &[Modifier::Until, Modifier::For])
                .or_else(|| {
                    self.bare_span_at(clause, span_from)
                        .filter(|_| !online || self.unit_after(clause, span_from))
                })
                // "taking a half hour break": a span with its unit anywhere in the clause.
                .or_else(|| (!online).then(|| self.span_in(clause)).flatten())
                .or_else(|| {
                    self.time_in_next_clauses(clause, &[Modifier::Until, Modifier::For], !online)
                })
        };
        if cue.slip && strength != Strength::Sure {
            sure = false;
        }
        // "I can do an hour or so", "solo puedo hasta las 4": a weak word with a time
        // limit says plainly what it means.
        if strength == Strength::Likely
            && negation.is_none()
            && until.is_some()
            && !self.names_weekly_hours
        {
            sure = true;
        }
        Some(Presence::Now {
            online,
            until,
            sure,
            clause,
        })
    }

    /// A time limit ("until 4") in a text with no command.
    fn limit_alone(&self) -> Option<Presence> {
        (0..self.words.clause_count()).find_map(|clause| {
            let start = self.words.tokens.iter().position(|t| t.clause == clause)?;
            let until = self.time_after(clause, start, &[Modifier::Until])?;
            Some(Presence::Now {
                online: true,
                until: Some(until),
                sure: false,
                clause,
            })
        })
    }

    /// The first clause after the last "but" or "actually", when the text has one.
    fn correction(&self) -> Option<usize> {
        self.matches
            .iter()
            .filter(|m| m.role == Role::Word(Modifier::Contrast))
            .map(|m| self.clause(m))
            .max()
    }

    /// A "no" that is an answer, not the negation of a command ("No, I'm available") nor
    /// part of a correction ("wait no, on").
    fn answered_no(&self) -> bool {
        let correction = |m: &Match| {
            self.matches.iter().any(|c| {
                c.role == Role::Word(Modifier::Contrast) && c.start <= m.start && m.end <= c.end
            })
        };
        self.matches.iter().any(|m| {
            m.role == Role::Cue(Meaning::No, Strength::Sure)
                && !self.negated(m)
                && !correction(m)
                && self.alone(m)
        })
    }

    /// This "no" turned a command around.
    fn negated(&self, m: &Match) -> bool {
        self.used_negations.borrow().iter().any(|&n| {
            let neg = &self.matches[n];
            neg.start == m.start && neg.end == m.end
        })
    }

    /// Commands other than ON and OFF: skills, schedule, time zone, language, status,
    /// help, yes, no; the most important first.
    fn other_commands(&self, text: &str, reading: &mut Reading) {
        let mut found: Vec<(u8, Intent, bool)> = Vec::new();
        for m in self.matches {
            let Role::Cue(meaning, strength) = m.role else {
                continue;
            };
            let sure = match strength {
                Strength::Sure | Strength::Try => true,
                Strength::First => m.start == 0,
                // "switch me to eastern": kept by `find` only when the text names a place.
                Strength::Likely if meaning == Meaning::TimeZone => true,
                Strength::Likely | Strength::Alone => false,
            };
            if meaning == Meaning::TimeZone && !sure {
                continue;
            }
            if strength == Strength::First && !sure {
                continue;
            }
            let clause = self.clause(m);
            // Asked with a question word ("what skills do I have?"), not only a question
            // mark ("skills??" opens the menu).
            let asking = self.asks(clause) && !self.has(clause, Modifier::Request);
            let hours = hours_in(&text[self.words.tokens[m.end - 1].end..]);
            let intent = match meaning {
                // "what skills do I have?", "what's my schedule?": asking, not changing.
                Meaning::Skills | Meaning::Schedule if asking && hours.is_empty() => {
                    (4, Intent::Status)
                }
                Meaning::Skills => (1, Intent::Skills),
                Meaning::Schedule => (
                    2,
                    Intent::Schedule {
                        hours: hours.to_string(),
                    },
                ),
                Meaning::LangEn | Meaning::LangEs | Meaning::Lang => (
                    3,
                    Intent::Lang {
                        language: self.language_asked(),
                    },
                ),
                Meaning::TimeZone => (
                    3,
                    Intent::TimeZone {
                        zone: text.trim().to_string(),
                    },
                ),
                Meaning::Status => (4, Intent::Status),
                Meaning::Help => (5, Intent::Help),
                // YES and NO are answers: alone in their clause ("yes please", "no, thanks")
                // or opening it ("no I picked the wrong one"), never a word inside a sentence
                // ("mi internet esta bien lento").
                Meaning::Yes | Meaning::No if !self.alone(m) && !self.opens_clause(m) => continue,
                // "I'll do it later" agrees to nothing now.
                Meaning::Yes if self.has(clause, Modifier::Future) => continue,
                Meaning::Yes => (6, Intent::Yes),
                Meaning::No if self.negated(m) => continue,
                Meaning::No => (7, Intent::No),
                Meaning::On | Meaning::Off | Meaning::NotACommand => continue,
            };
            if !found.iter().any(|(_, i, _)| *i == intent.1) {
                found.push((intent.0, intent.1, sure));
            }
        }
        found.sort_by_key(|(rank, _, sure)| (!*sure, *rank));
        reading
            .found
            .extend(found.into_iter().map(|(_, i, s)| (i, s)));
    }

    /// The language a LANG request names: the one said at the greatest length ("text me in
    /// spanish, my english is bad" is Spanish), None when two tie or none is named.
    fn language_asked(&self) -> Option<Locale> {
        let mut named: Vec<(usize, Locale)> = self
            .matches
            .iter()
            .filter_map(|m| match m.role {
                Role::Cue(Meaning::LangEn, Strength::Sure) => Some((m.len, Locale::En)),
                Role::Cue(Meaning::LangEs, Strength::Sure) => Some((m.len, Locale::Es)),
                _ => None,
            })
            .collect();
        named.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        match named.as_slice() {
            [] => None,
            [(_, one)] => Some(*one),
            [(a, first), (b, second), ..] if a > b || first == second => Some(*first),
            _ => None,
        }
    }
}

fn is_light(role: Role) -> bool {
    matches!(
        role,
        Role::Word(
            Modifier::Filler
                | Modifier::Gap
                | Modifier::Present
                | Modifier::Contrast
                | Modifier::Boundary
        )
    )
}

fn is_time_word(role: Role) -> bool {
    matches!(
        role,
        Role::Word(
            Modifier::Minute
                | Modifier::Hour
                | Modifier::Half
                | Modifier::One
                | Modifier::Am
                | Modifier::Pm
                | Modifier::Noon
                | Modifier::Midnight
                | Modifier::Couple
                | Modifier::Approx
        )
    )
}

/// The hours after a SCHEDULE keyword, without the words that join them to it ("my
/// schedule is mon-fri 9-5", "horario: lunes a viernes"); empty when what follows has
/// neither a digit nor a day ("change my schedule please"), so the worker is asked for it.
pub(super) fn hours_in(after: &str) -> &str {
    use crate::core::schedule::ParseError;
    let hours = free_text(after);
    match super::parse_hours(hours) {
        Ok(_) => hours,
        // Other words around the hours ("is mon-fri 9-5 please"); a real mistake in the
        // hours ("mon 9-12 11-13") is kept whole, for the reply to explain it.
        Err(ParseError::UnknownWord(_)) if super::hours_within(hours).is_some() => {
            super::hours_within(hours).unwrap_or(hours)
        }
        Err(ParseError::Empty | ParseError::UnknownWord(_))
            if !hours.chars().any(|c| c.is_ascii_digit()) =>
        {
            ""
        }
        Err(_) => hours,
    }
}
