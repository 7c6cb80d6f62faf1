//! A text as words: folded (lowercase, no accents, no invisible characters), with emoji and
//! texting shorthand spelled out ("brb", "toy", "can't"), stretched letters shrunk ("onnn"),
//! "6pm" split into "6 pm", and each word's stem in every language. Punctuation is kept only
//! as the end of a clause, since a negation or a question mark speaks to its own clause.

pub use crate::core::text::{fold, normalize};

use super::lexicon::{Language, Lexicon};

/// One word of a text.
#[derive(Clone, Debug)]
pub struct Token {
    /// The folded word, after shorthand was spelled out.
    pub word: String,
    /// Which clause of the text it is in (clauses end at punctuation).
    pub clause: usize,
    pub number: Option<u32>,
    /// Byte offset in the original text just after the word it came from.
    pub end: usize,
    /// The word's stems, per language of the lexicon (more than one where a Spanish
    /// pronoun may be glued on: "desconectame").
    pub stems: Vec<Vec<String>>,
}

/// A text split into words and clauses.
#[derive(Clone, Debug, Default)]
pub struct Words {
    pub tokens: Vec<Token>,
    /// Clauses that end in (or contain) a question mark.
    pub questions: Vec<usize>,
}

impl Words {
    pub fn is_question(&self, clause: usize) -> bool {
        self.questions.contains(&clause)
    }

    pub fn clause_count(&self) -> usize {
        self.tokens.last().map_or(0, |t| t.clause + 1)
    }
}

/// Punctuation that ends a clause.
fn ends_clause(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | ';' | ':' | '!' | '?' | '¿' | '¡' | '…' | '\n' | '(' | ')' | '？' | '。' | '！'
    )
}

/// Splits `text` into words. `prefer` is the language whose shorthand wins when two
/// languages read one ("k" is "ok" in English and "que" in Spanish).
pub fn split(text: &str, lexicon: &Lexicon, prefer: usize) -> Words {
    let mut words = Words::default();
    let mut clause = 0;
    let mut clause_has_words = false;
    let mut pieces = raw_pieces(text, lexicon, prefer);
    // A question mark before a clause's words ("¿estoy?") belongs to the clause it opens.
    let mut pending_question = false;
    for piece in pieces.drain(..) {
        match piece {
            Piece::Break { question } => {
                if question {
                    if clause_has_words {
                        words.questions.push(clause);
                    } else {
                        pending_question = true;
                    }
                }
                if clause_has_words {
                    clause += 1;
                    clause_has_words = false;
                }
            }
            Piece::Word { word, end } => {
                // "then", "pero": a new thought starts at the word, which stays in it.
                if clause_has_words && lexicon.languages.iter().any(|l| l.boundary.contains(&word))
                {
                    clause += 1;
                }
                if pending_question {
                    words.questions.push(clause);
                    pending_question = false;
                }
                clause_has_words = true;
                let stems = lexicon
                    .languages
                    .iter()
                    .map(|language| stems_of(language, &word))
                    .collect();
                let spelled = lexicon
                    .languages
                    .iter()
                    .find_map(|l| l.numbers.get(&word).copied());
                words.tokens.push(Token {
                    number: number(&word).or(spelled),
                    word,
                    clause,
                    end,
                    stems,
                });
            }
        }
    }
    words
}

fn number(word: &str) -> Option<u32> {
    (word.len() <= 4 && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse().ok())
        .flatten()
}

/// The stems of a word in one language; for a language with glued pronouns, also the stem
/// of the word without one.
fn stems_of(language: &Language, word: &str) -> Vec<String> {
    let mut stems = vec![language.stem(word)];
    for clitic in &language.clitics {
        if let Some(base) = word.strip_suffix(clitic.as_str())
            && base.chars().count() >= 4
        {
            let stem = language.stem(base);
            if !stems.contains(&stem) {
                stems.push(stem);
            }
        }
    }
    stems
}

enum Piece {
    Word { word: String, end: usize },
    Break { question: bool },
}

/// The words and clause breaks of the raw text, shorthand spelled out.
fn raw_pieces(text: &str, lexicon: &Lexicon, prefer: usize) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut start = 0;
    // Chunks are whitespace-separated, so apostrophes are seen inside their word.
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_whitespace() {
            if start < i {
                chunk(&text[start..i], i, lexicon, prefer, &mut pieces);
            }
            if c == '\n' {
                pieces.push(Piece::Break { question: false });
            }
            start = i + c.len_utf8();
        }
    }
    pieces
}

fn chunk(raw: &str, end: usize, lexicon: &Lexicon, prefer: usize, pieces: &mut Vec<Piece>) {
    let mut text = raw.to_lowercase().replace(['’', '‘', '`', '´'], "'");
    // Emoji are never ASCII.
    let ascii = text.is_ascii();
    for language in ordered(lexicon, prefer).filter(|_| !ascii) {
        for (emoji, word) in &language.emoji {
            if text.contains(emoji.as_str()) {
                text = text.replace(emoji.as_str(), &format!(" {word} "));
            }
        }
    }
    let text = expand_apostrophes(&text, lexicon, prefer);
    let folded = fold(&text);
    let mut word = String::new();
    let chars: Vec<char> = folded.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = |c: char| {
            matches!(c, '.' | ':' | ',')
                && i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
        };
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        flush(&mut word, end, lexicon, prefer, pieces);
        if c == '@' {
            pieces.push(Piece::Word {
                word: "at".into(),
                end,
            });
        } else if c == '?' || c == '？' || c == '¿' {
            pieces.push(Piece::Break { question: true });
        } else if ends_clause(c) && !between_digits(c) {
            pieces.push(Piece::Break { question: false });
        }
    }
    flush(&mut word, end, lexicon, prefer, pieces);
}

/// "can't" -> "can not", "I'll" -> "i will", "Ana's" -> "ana": whole words first, then
/// endings, longest first.
fn expand_apostrophes(text: &str, lexicon: &Lexicon, prefer: usize) -> String {
    if !text.contains('\'') {
        return text.to_string();
    }
    let core = text.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
    for language in ordered(lexicon, prefer) {
        if let Some((_, expansion)) = language.apostrophe_words.iter().find(|(k, _)| k == core) {
            return text.replacen(core, expansion, 1);
        }
    }
    for language in ordered(lexicon, prefer) {
        for (ending, expansion) in &language.apostrophe_endings {
            if let Some(stem) = core.strip_suffix(ending.as_str())
                && !stem.is_empty()
            {
                return text.replacen(core, &format!("{stem}{expansion}"), 1);
            }
        }
    }
    text.replace('\'', "")
}

/// The languages, the preferred one first.
fn ordered(lexicon: &Lexicon, prefer: usize) -> impl Iterator<Item = &Language> {
    let first = lexicon.languages.get(prefer);
    first.into_iter().chain(
        lexicon
            .languages
            .iter()
            .enumerate()
            .filter(move |(i, _)| *i != prefer)
            .map(|(_, l)| l),
    )
}

/// Emits the word being built: split where letters meet digits ("6pm", "30min"), stretched
/// letters shrunk, shorthand spelled out.
fn flush(word: &mut String, end: usize, lexicon: &Lexicon, prefer: usize, pieces: &mut Vec<Piece>) {
    if word.is_empty() {
        return;
    }
    let whole = std::mem::take(word);
    // Shorthand with digits in it ("2moro", "b4") is spelled out before the split.
    if let Some(spelled) = spelling(&whole, lexicon, prefer) {
        for w in spelled {
            pieces.push(Piece::Word { word: w, end });
        }
        return;
    }
    for part in split_digits(&whole) {
        let part = shrink(&part, lexicon, prefer);
        match spelling(&part, lexicon, prefer) {
            Some(spelled) => {
                pieces.extend(spelled.into_iter().map(|w| Piece::Word { word: w, end }))
            }
            None => pieces.push(Piece::Word { word: part, end }),
        }
    }
}

fn spelling(word: &str, lexicon: &Lexicon, prefer: usize) -> Option<Vec<String>> {
    ordered(lexicon, prefer).find_map(|language| language.spelling.get(word).cloned())
}

fn split_digits(word: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut last_digit = None;
    for c in word.chars() {
        let digit = c.is_ascii_digit();
        if last_digit != Some(digit) {
            parts.push(String::new());
        }
        parts.last_mut().expect("a part was pushed").push(c);
        last_digit = Some(digit);
    }
    parts
}

/// "onnnn" -> "on", "logginggg" -> "logging", "desconectamee" -> "desconectame": each
/// letter typed three times or more (or twice at the end) is read as once or twice,
/// whichever the tables know by form or stem; twice when none of them is known.
fn shrink(word: &str, lexicon: &Lexicon, prefer: usize) -> String {
    let chars: Vec<char> = word.chars().collect();
    // Runs of one letter: (start, length).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        match runs.last_mut() {
            Some((start, len)) if chars[*start] == c => *len += 1,
            _ => runs.push((i, 1)),
        }
    }
    let last = runs.len().saturating_sub(1);
    let stretched: Vec<usize> = (0..runs.len())
        .filter(|&r| runs[r].1 >= 3 || (r == last && runs[r].1 == 2 && chars.len() > 4))
        .take(4)
        .collect();
    if stretched.is_empty() {
        return word.to_string();
    }
    let known = |w: &str| {
        lexicon
            .languages
            .iter()
            .any(|l| l.vocabulary.contains(w) || l.vocabulary_stems.contains(&l.stem(w)))
            || spelling(w, lexicon, prefer).is_some()
    };
    // Every choice of once or twice for each stretched run, twice first.
    let mut fallback = None;
    for choice in 0..(1u32 << stretched.len()) {
        let mut out = String::new();
        for (r, &(start, len)) in runs.iter().enumerate() {
            let keep = match stretched.iter().position(|&s| s == r) {
                Some(bit) if choice & (1 << bit) != 0 => 1,
                Some(_) => 2.min(len),
                None => len,
            };
            out.extend(std::iter::repeat_n(chars[start], keep));
        }
        if known(&out) {
            return out;
        }
        fallback.get_or_insert(out);
    }
    fallback.unwrap_or_else(|| word.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::lexicon::LEXICON;
    use super::*;

    fn words(text: &str) -> Vec<String> {
        split(text, &LEXICON, 0)
            .tokens
            .into_iter()
            .map(|t| t.word)
            .collect()
    }

    #[test]
    fn shorthand_contractions_and_emoji_are_spelled_out() {
        assert_eq!(words("I can't"), ["i", "can", "not"]);
        assert_eq!(words("I’m on"), ["i", "am", "on"]);
        assert_eq!(words("brb"), ["be", "right", "back"]);
        assert_eq!(words("👍"), ["yes"]);
        assert_eq!(words("👍🏽👍"), ["yes", "yes"]);
        assert_eq!(words("off til 6pm"), ["off", "til", "6", "pm"]);
        assert_eq!(words("toy conectada"), ["estoy", "conectada"]);
    }

    #[test]
    fn stretched_letters_are_read_as_the_word() {
        assert_eq!(words("onnnnn"), ["on"]);
        assert_eq!(words("OFFFFF"), ["off"]);
        assert_eq!(words("siiii"), ["si"]);
    }

    #[test]
    fn punctuation_ends_a_clause_and_a_question_mark_marks_it() {
        let split = split("No, I'm on. Am I on?", &LEXICON, 0);
        let clauses: Vec<usize> = split.tokens.iter().map(|t| t.clause).collect();
        assert_eq!(clauses, [0, 1, 1, 1, 2, 2, 2]);
        assert_eq!(split.questions, [2]);
        let times = super::split("back at 6:30", &LEXICON, 0);
        assert!(times.tokens.iter().all(|t| t.clause == 0));
    }

    #[test]
    fn a_glued_pronoun_is_also_read_without_it() {
        let es = LEXICON
            .languages
            .iter()
            .position(|l| l.locale == crate::core::domain::Locale::Es)
            .unwrap();
        let token = &split("desconectame", &LEXICON, es).tokens[0];
        assert!(
            token.stems[es].contains(&"desconect".to_string()),
            "{:?}",
            token.stems[es]
        );
    }
}
