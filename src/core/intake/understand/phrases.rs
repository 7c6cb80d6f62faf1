//! Finding the phrases of the word tables in a text: by each word's surface form or stem,
//! a word of a class, or one slip away in a long word; where found phrases overlap the
//! longest wins ("on my way" is not ON, "back from lunch" is not OFF).

use std::collections::HashSet;

use super::lexicon::{Language, Lexicon, MIN_SLIP_LEN, Meaning, Pattern, Role, Strength};
use super::normalize;
use super::words::{Token, Words};
use crate::core::domain::catalog::Catalog;

/// One phrase found in the text.
#[derive(Clone, Debug)]
pub struct Match {
    pub start: usize,
    /// One past the last token it covers (gap words included).
    pub end: usize,
    /// Words of the phrase itself, for "longest wins".
    pub len: usize,
    pub role: Role,
    /// It matched a word one slip away from the phrase's.
    pub slip: bool,
    /// Every word matched as written (not only by stem): "availability" is the word
    /// "availability", even if it shares a stem with "available".
    pub exact: bool,
}

/// Every phrase of every language found in the text, then the longest ones kept where
/// they overlap (a phrase found with the same words in two roles keeps both).
/// `place`: the text names a place, so a weak time-zone phrase ("switch me to") may be one.
pub fn find(words: &Words, lexicon: &Lexicon, skills: &Skills, place: bool) -> Vec<Match> {
    let mut all = Vec::new();
    for (l, language) in lexicon.languages.iter().enumerate() {
        for (i, token) in words.tokens.iter().enumerate() {
            let mut keys: Vec<(&str, bool)> = vec![(token.word.as_str(), false)];
            keys.extend(token.stems[l].iter().map(|s| (s.as_str(), false)));
            if token.number.is_some() {
                keys.push(("#", false));
            }
            if skills.contains(&token.word) {
                keys.push(("{skill}", false));
            }
            let known = lexicon
                .languages
                .iter()
                .any(|l| l.vocabulary.contains(&token.word));
            let slips = if !known && token.word.chars().count() >= MIN_SLIP_LEN {
                language.slips_of(&token.word)
            } else {
                Vec::new()
            };
            keys.extend(slips.iter().map(|s| (*s, true)));
            let mut tried: Vec<usize> = Vec::new();
            for (key, slip) in keys {
                for &p in language.starting_with(key) {
                    if tried.contains(&p) {
                        continue;
                    }
                    tried.push(p);
                    let phrase = &language.phrases[p];
                    if let Some((end, exact)) = match_at(
                        language,
                        l,
                        &phrase.words,
                        &words.tokens,
                        i,
                        slip.then_some(key),
                        skills,
                    ) {
                        all.push(Match {
                            start: i,
                            end,
                            len: phrase.words.len(),
                            role: phrase.role,
                            slip,
                            exact,
                        });
                    }
                }
            }
        }
    }
    all.retain(|m| place || m.role != Role::Cue(Meaning::TimeZone, Strength::Likely));
    // Longest first; between equals, a phrase that says something on its own before a
    // short word that needs to stand alone ("back from lunch" before "I'm back").
    let alone = |m: &Match| matches!(m.role, Role::Cue(_, Strength::Alone));
    all.sort_by_key(|m| {
        (
            std::cmp::Reverse(m.len),
            std::cmp::Reverse(m.end - m.start),
            m.slip,
            !m.exact,
            alone(m),
            m.start,
        )
    });
    let cue = |m: &Match| matches!(m.role, Role::Cue(..));
    let mut kept: Vec<Match> = Vec::new();
    for m in all {
        let same = |k: &&Match| k.start == m.start && k.end == m.end && k.len == m.len;
        let same_span = kept.iter().any(|k| same(&k));
        let overlaps = kept.iter().any(|k| k.start < m.end && m.start < k.end);
        // A word the tables list as written outranks a look-alike by stem in the same place.
        let outranked = !m.exact && cue(&m) && kept.iter().any(|k| same(&k) && k.exact && cue(k));
        if ((same_span && !m.slip && !outranked) || !overlaps)
            && !kept
                .iter()
                .any(|k| k.start == m.start && k.end == m.end && k.role == m.role)
        {
            kept.push(m);
        }
    }
    kept.sort_by_key(|m| m.start);
    kept
}

/// Where the phrase `pattern` ends when it starts at token `i`, if it does. Gap words may
/// come between its words; `slip` is the command word the first token was read as.
fn match_at(
    language: &Language,
    l: usize,
    pattern: &[Pattern],
    tokens: &[Token],
    i: usize,
    slip: Option<&str>,
    skills: &Skills,
) -> Option<(usize, bool)> {
    let mut pos = i;
    let mut exact = true;
    for (k, word) in pattern.iter().enumerate() {
        if k > 0 {
            let mut gaps = 0;
            while gaps < 2
                && pos < tokens.len()
                && fits(language, l, word, &tokens[pos], None, skills).is_none()
                && language.gap.contains(&tokens[pos].word)
                && tokens[pos].clause == tokens[i].clause
            {
                pos += 1;
                gaps += 1;
            }
        }
        let token = tokens.get(pos)?;
        if token.clause != tokens[i].clause {
            return None;
        }
        exact &= fits(
            language,
            l,
            word,
            token,
            if k == 0 { slip } else { None },
            skills,
        )?;
        pos += 1;
    }
    Some((pos, exact))
}

/// Whether one token is one word of a pattern: the same word, another form of it (by stem),
/// a word of its class, or the slip the caller found. Some(true) when it is the word as
/// written, Some(false) when only another form of it.
fn fits(
    language: &Language,
    l: usize,
    word: &Pattern,
    token: &Token,
    slip: Option<&str>,
    skills: &Skills,
) -> Option<bool> {
    match word {
        Pattern::Number => token.number.map(|_| true),
        Pattern::Class(class) if class == "skill" => skills.contains(&token.word).then_some(true),
        Pattern::Class(class) => language
            .class(class)
            .iter()
            .filter_map(|(surface, stem)| same_word(l, surface, stem, token))
            .max(),
        Pattern::Word { surface, .. } if slip == Some(surface.as_str()) => Some(false),
        Pattern::Word { surface, stem } => same_word(l, surface, stem, token),
    }
}

/// The token is the phrase word `surface` (stem `stem`), or another form of it. A phrase
/// word that is its own stem ("log", "sign") takes every form of it ("logged", "signing").
/// An inflected phrase word meets only other inflected forms with a stem long enough to
/// mean something: "como" is not "comer" (both "com"), "nueve" is not "nuevo" (both
/// "nuev"), and "list" is not "listo".
fn same_word(l: usize, surface: &str, stem: &str, token: &Token) -> Option<bool> {
    if token.word == surface {
        return Some(true);
    }
    let other_form = token.stems[l].iter().any(|s| s == stem)
        && (surface == stem || (stem.chars().count() >= 5 && token.word != token.stems[l][0]));
    other_form.then_some(false)
}

/// The words of the business's skill names, folded: the `{skill}` class.
pub type Skills = HashSet<String>;

/// Built once for each catalog (`Catalog::words`).
pub fn skill_words(catalog: &Catalog) -> &Skills {
    catalog.words(|skills| {
        skills
            .iter()
            .flat_map(|s| {
                std::iter::once(s.key.as_str().replace('_', " "))
                    .chain(s.names.values().cloned())
                    .collect::<Vec<_>>()
            })
            .flat_map(|name| {
                normalize(&name)
                    .split(' ')
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|w| w.chars().count() >= 3)
            .collect()
    })
}
