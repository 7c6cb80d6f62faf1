//! The word tables of every shipped language (`locales/<code>.words.toml`), compiled once
//! into phrase patterns: each word of a phrase is kept as written and as its stem, so a
//! phrase matches other forms of its words ("log off" matches "logging off").

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use serde::Deserialize;

use crate::core::domain::Locale;

/// The word tables shipped in the binary: adding a language is adding its file here.
const SOURCES: [(Locale, &str); 2] = [
    (
        Locale::En,
        include_str!("../../../../locales/en.words.toml"),
    ),
    (
        Locale::Es,
        include_str!("../../../../locales/es.words.toml"),
    ),
];

/// Every shipped language's tables, built on first use.
pub static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    Lexicon::load(&SOURCES).unwrap_or_else(|e| panic!("the shipped word tables are invalid: {e}"))
});

/// What a command word says, before the words around it are taken into account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Meaning {
    On,
    Off,
    Status,
    Help,
    Skills,
    Schedule,
    Yes,
    No,
    LangEn,
    LangEs,
    /// A language request without a language ("lang", "idioma").
    Lang,
    /// A time zone named anywhere in the text ("I moved to Phoenix").
    TimeZone,
    /// Looks like a command and is not ("on my way"): its words mean nothing else.
    NotACommand,
}

/// How much one phrase says on its own (see the top of `en.words.toml`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strength {
    Alone,
    Likely,
    Try,
    Sure,
    /// A schedule keyword that only counts as the first word ("hours mon-fri 9-5").
    First,
}

/// Words that change what a command means, or carry nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Modifier {
    Negation,
    Hedge,
    Future,
    Present,
    Question,
    Request,
    Return,
    Reason,
    Filler,
    Gap,
    Until,
    For,
    In,
    At,
    Minute,
    Hour,
    Half,
    One,
    Am,
    Pm,
    Noon,
    Midnight,
    TimeZone,
    Join,
    Stop,
    Start,
    /// Ends a clause ("then", "pero"); handled when the text is split.
    Boundary,
    /// A clause after it corrects the one before ("but", "actually", "pero").
    Contrast,
    /// "a couple of": two.
    Couple,
    /// Late: about later even with "today" in the text.
    Late,
    /// "ahorita": now or in a while; makes going online (only) uncertain.
    MaybeLater,
    /// A question put as a request ("could you confirm whether I'm on?"): asks even so.
    Indirect,
    /// Time that has passed ("I've been trying for 10 minutes", "llevo 10 minutos"): a
    /// span in its clause is not a hold.
    Elapsed,
    /// Said around a number without changing it ("like 45 min", "unos 20").
    Approx,
}

/// What a matched phrase is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Cue(Meaning, Strength),
    Word(Modifier),
}

/// One word of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    Word {
        surface: String,
        stem: String,
    },
    /// Any word of the language's class ("{break}").
    Class(String),
    /// Any number ("take {n}").
    Number,
}

#[derive(Clone, Debug)]
pub struct Phrase {
    pub role: Role,
    pub words: Vec<Pattern>,
}

/// One language's tables, compiled.
pub struct Language {
    pub locale: Locale,
    stemmer: Stemmer,
    pub spelling: HashMap<String, Vec<String>>,
    /// Whole words with an apostrophe ("can't") and their expansion.
    pub apostrophe_words: Vec<(String, String)>,
    /// Endings after an apostrophe ("n't", "'ll"), longest first, and their expansion.
    pub apostrophe_endings: Vec<(String, String)>,
    /// Pronouns Spanish glues to a verb ("desconéctame"), tried off before stemming.
    pub clitics: Vec<String>,
    /// Words allowed between the words of a phrase.
    pub gap: HashSet<String>,
    pub emoji: Vec<(String, String)>,
    /// Class name -> its words, as (surface form, stem).
    classes: HashMap<String, Vec<(String, String)>>,
    /// Words that end a clause as punctuation does ("then", "pero").
    pub boundary: HashSet<String>,
    /// How the language answers the numbered skill menu.
    pub menu: MenuWords,
    /// Numbers written as words ("two", "quince"), read as numbers in times.
    pub numbers: HashMap<String, u32>,
    /// "in the morning", "de la tarde": the words of `am` and `pm` with more than one word,
    /// as (words, "am" or "pm"), longest first.
    pub parts_of_day: Vec<(Vec<String>, &'static str)>,
    pub phrases: Vec<Phrase>,
    /// Phrases by the surface form or stem of their first word ("{break}" phrases under
    /// every word of the class, "{n}" ones under `#`).
    by_first: HashMap<String, Vec<usize>>,
    /// Every word the tables know, for telling a slip from a word the tables know.
    pub vocabulary: HashSet<String>,
    /// The stems of `vocabulary`, for reading stretched letters ("logginggg").
    pub vocabulary_stems: HashSet<String>,
    /// Words of five letters or more that carry a command, by each form with one letter
    /// deleted, for finding slips ("availble" -> "available") with hash lookups.
    deletions: HashMap<String, Vec<String>>,
}

pub struct Lexicon {
    pub languages: Vec<Language>,
}

/// Slips are only forgiven in words this long: in shorter ones one letter changes the
/// meaning (on/no, si/no, off/of).
pub const MIN_SLIP_LEN: usize = 5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    language: String,
    stemmer: String,
    #[serde(default)]
    clitics: Vec<String>,
    #[serde(default)]
    spelling: HashMap<String, String>,
    #[serde(default)]
    apostrophes: HashMap<String, String>,
    #[serde(default)]
    emoji: HashMap<String, String>,
    #[serde(default)]
    classes: HashMap<String, Vec<String>>,
    intent: HashMap<String, Strengths>,
    words: HashMap<String, Vec<String>>,
    #[serde(default)]
    menu: MenuWords,
    #[serde(default)]
    numbers: HashMap<String, u32>,
}

/// Words for answering the numbered skill menu, folded.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuWords {
    /// Whole answers that pick every skill ("all", "todas").
    #[serde(default)]
    pub all: Vec<String>,
    /// Words passed over between picks.
    #[serde(default)]
    pub filler: Vec<String>,
    /// Numbers and ordinals written as words.
    #[serde(default)]
    pub numbers: HashMap<String, usize>,
    /// The last item of the menu.
    #[serde(default)]
    pub last: Vec<String>,
    /// Passed over right after an ordinal ("the first one").
    #[serde(default)]
    pub after_ordinal: Vec<String>,
    /// Before picks that are left out ("everything except support", "todas menos la 2").
    #[serde(default)]
    pub except: Vec<String>,
    /// A whole answer that closes the menu without saving ("exit", "salir").
    #[serde(default)]
    pub leave: Vec<String>,
    /// Before a number: the first N skills ("the first two", "las primeras dos").
    #[serde(default)]
    pub first_n: Vec<String>,
    /// The skills not named otherwise ("the other two", "las demás"): passed over with the
    /// number that counts them.
    #[serde(default)]
    pub others: Vec<String>,
}

impl MenuWords {
    fn fold(self) -> Self {
        let fold = |v: Vec<String>| v.iter().map(|w| super::words::normalize(w)).collect();
        Self {
            all: fold(self.all),
            filler: fold(self.filler),
            numbers: self
                .numbers
                .into_iter()
                .map(|(k, v)| (super::words::normalize(&k), v))
                .collect(),
            last: fold(self.last),
            after_ordinal: fold(self.after_ordinal),
            except: fold(self.except),
            leave: fold(self.leave),
            first_n: fold(self.first_n),
            others: fold(self.others),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Strengths {
    #[serde(default)]
    sure: Vec<String>,
    #[serde(default)]
    likely: Vec<String>,
    #[serde(default)]
    alone: Vec<String>,
    #[serde(default)]
    r#try: Vec<String>,
    #[serde(default)]
    first: Vec<String>,
}

impl Lexicon {
    pub fn load(sources: &[(Locale, &str)]) -> Result<Self, String> {
        let languages = sources
            .iter()
            .map(|(locale, text)| {
                Language::parse(*locale, text)
                    .map_err(|e| format!("locales/{locale}.words.toml: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { languages })
    }
}

impl Language {
    fn parse(locale: Locale, text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        if file.language != locale.code() {
            return Err(format!(
                "language = {:?}, expected {:?}",
                file.language,
                locale.code()
            ));
        }
        let algorithm = match file.stemmer.as_str() {
            "english" => Algorithm::English,
            "spanish" => Algorithm::Spanish,
            "french" => Algorithm::French,
            "portuguese" => Algorithm::Portuguese,
            "italian" => Algorithm::Italian,
            "german" => Algorithm::German,
            other => return Err(format!("stemmer {other:?} is not one rust-stemmers has")),
        };
        let mut language = Language {
            locale,
            stemmer: Stemmer::create(algorithm),
            spelling: HashMap::new(),
            apostrophe_words: Vec::new(),
            apostrophe_endings: Vec::new(),
            clitics: file.clitics,
            gap: HashSet::new(),
            boundary: HashSet::new(),
            menu: MenuWords::fold(file.menu),
            numbers: file
                .numbers
                .into_iter()
                .map(|(k, v)| (super::words::fold(&k), v))
                .collect(),
            parts_of_day: Vec::new(),
            emoji: file.emoji.into_iter().collect(),
            classes: HashMap::new(),
            phrases: Vec::new(),
            by_first: HashMap::new(),
            vocabulary: HashSet::new(),
            vocabulary_stems: HashSet::new(),
            deletions: HashMap::new(),
        };
        for (word, meaning) in file.spelling {
            let words = super::words::fold(&meaning)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            language.spelling.insert(super::words::fold(&word), words);
        }
        for (key, expansion) in file.apostrophes {
            let key = key.replace('’', "'");
            if key.starts_with('\'') || key.starts_with("n'") {
                language.apostrophe_endings.push((key, expansion));
            } else {
                language.apostrophe_words.push((key, expansion));
            }
        }
        language
            .apostrophe_endings
            .sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        // Emoji with modifiers first, so the longest sequence is replaced.
        language
            .emoji
            .sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));

        for (name, words) in &file.classes {
            let mut forms = Vec::new();
            for word in words {
                let folded = super::words::fold(word);
                language
                    .vocabulary
                    .extend(folded.split_whitespace().map(str::to_string));
                forms.push((folded.clone(), language.stem(&folded)));
            }
            language.classes.insert(name.clone(), forms);
        }
        // The business's skill names are only known at run time: `{skill}` is checked then.
        language.classes.entry("skill".into()).or_default();
        for (name, strengths) in &file.intent {
            let meaning = meaning(name)?;
            let lists = [
                (Strength::Sure, &strengths.sure),
                (Strength::Likely, &strengths.likely),
                (Strength::Alone, &strengths.alone),
                (Strength::Try, &strengths.r#try),
                (Strength::First, &strengths.first),
            ];
            for (strength, phrases) in lists {
                for phrase in phrases {
                    language.add(Role::Cue(meaning, strength), phrase)?;
                }
            }
        }
        for word in file.words.get("gap").into_iter().flatten() {
            language.gap.insert(super::words::fold(word));
        }
        for word in file.words.get("boundary").into_iter().flatten() {
            language.boundary.insert(super::words::fold(word));
        }
        for (kind, meridiem) in [("am", "am"), ("pm", "pm")] {
            for phrase in file.words.get(kind).into_iter().flatten() {
                let words: Vec<String> = super::words::normalize(phrase)
                    .split(' ')
                    .map(str::to_string)
                    .collect();
                if words.len() > 1 {
                    language.parts_of_day.push((words, meridiem));
                }
            }
        }
        language
            .parts_of_day
            .sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        for (name, phrases) in &file.words {
            let modifier = modifier(name)?;
            for phrase in phrases {
                language.add(Role::Word(modifier), phrase)?;
            }
        }
        language.index();
        Ok(language)
    }

    /// The language's stem of a folded word.
    pub fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }

    fn add(&mut self, role: Role, phrase: &str) -> Result<(), String> {
        let folded = super::words::fold(phrase);
        // "?" is the only punctuation a phrase may carry: "online?" asks, it does not tell.
        let words: Vec<Pattern> = folded
            .split_whitespace()
            .map(
                |word| match word.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                    Some("n") => Ok(Pattern::Number),
                    Some(class) if self.classes.contains_key(class) => {
                        Ok(Pattern::Class(class.to_string()))
                    }
                    Some(class) => Err(format!("{phrase:?}: no class {{{class}}}")),
                    None => Ok(Pattern::Word {
                        surface: word.to_string(),
                        stem: self.stem(word),
                    }),
                },
            )
            .collect::<Result<_, _>>()?;
        if words.is_empty() {
            return Err(format!("an empty phrase in {role:?}"));
        }
        for word in &words {
            if let Pattern::Word { surface, .. } = word {
                self.vocabulary.insert(surface.clone());
            }
        }
        self.phrases.push(Phrase { role, words });
        Ok(())
    }

    fn index(&mut self) {
        let mut by_first: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, phrase) in self.phrases.iter().enumerate() {
            let keys: Vec<String> = match &phrase.words[0] {
                Pattern::Word { surface, stem } => vec![surface.clone(), stem.clone()],
                Pattern::Class(class) if class == "skill" => vec!["{skill}".to_string()],
                Pattern::Class(class) => self.classes[class]
                    .iter()
                    .flat_map(|(surface, stem)| [surface.clone(), stem.clone()])
                    .collect(),
                Pattern::Number => vec!["#".to_string()],
            };
            for key in keys {
                let list = by_first.entry(key).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        self.by_first = by_first;
        self.vocabulary_stems = self.vocabulary.iter().map(|w| self.stem(w)).collect();

        // Slips are looked for among the words that carry a command, not among fillers.
        let mut deletions: HashMap<String, Vec<String>> = HashMap::new();
        for phrase in &self.phrases {
            if !matches!(phrase.role, Role::Cue(..)) {
                continue;
            }
            for word in &phrase.words {
                if let Pattern::Word { surface, .. } = word
                    && surface.chars().count() >= MIN_SLIP_LEN
                {
                    for key in std::iter::once(surface.clone()).chain(deleted_one(surface)) {
                        let list = deletions.entry(key).or_default();
                        if !list.contains(surface) {
                            list.push(surface.clone());
                        }
                    }
                }
            }
        }
        self.deletions = deletions;
    }

    /// Phrases whose first word may be `key` (a surface form, a stem, or `#` for numbers).
    pub fn starting_with(&self, key: &str) -> &[usize] {
        self.by_first
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The words of a class, as (surface form, stem).
    pub fn class(&self, class: &str) -> &[(String, String)] {
        self.classes
            .get(class)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Command words one slip away from `word` (a letter missing, added, changed or two
    /// swapped), found through the shared one-deletion forms.
    pub fn slips_of(&self, word: &str) -> Vec<&str> {
        let mut found: Vec<&str> = Vec::new();
        for key in std::iter::once(word.to_string()).chain(deleted_one(word)) {
            for candidate in self.deletions.get(&key).into_iter().flatten() {
                if candidate != word
                    && strsim::osa_distance(candidate, word) == 1
                    && !found.contains(&candidate.as_str())
                {
                    found.push(candidate);
                }
            }
        }
        found
    }
}

/// Every form of `word` with one character deleted.
fn deleted_one(word: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len()).map(move |i| {
        chars
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, c)| c)
            .collect()
    })
}

fn meaning(name: &str) -> Result<Meaning, String> {
    Ok(match name {
        "on" => Meaning::On,
        "off" => Meaning::Off,
        "status" => Meaning::Status,
        "help" => Meaning::Help,
        "skills" => Meaning::Skills,
        "schedule" => Meaning::Schedule,
        "yes" => Meaning::Yes,
        "no" => Meaning::No,
        "lang_en" => Meaning::LangEn,
        "lang_es" => Meaning::LangEs,
        "lang" => Meaning::Lang,
        "tz" => Meaning::TimeZone,
        "none" => Meaning::NotACommand,
        other => return Err(format!("[intent.{other}] is not an intent shiftline knows")),
    })
}

fn modifier(name: &str) -> Result<Modifier, String> {
    use Modifier::*;
    Ok(match name {
        "negation" => Negation,
        "hedge" => Hedge,
        "future" => Future,
        "present" => Present,
        "question" => Question,
        "request" => Request,
        "return" => Return,
        "reason" => Reason,
        "filler" => Filler,
        "gap" => Gap,
        "until" => Until,
        "for" => For,
        "in" => In,
        "at" => At,
        "minute" => Minute,
        "hour" => Hour,
        "half" => Half,
        "one" => One,
        "am" => Am,
        "pm" => Pm,
        "noon" => Noon,
        "midnight" => Midnight,
        "tz" => TimeZone,
        "join" => Join,
        "boundary" => Boundary,
        "contrast" => Contrast,
        "couple" => Couple,
        "late" => Late,
        "maybe_later" => MaybeLater,
        "indirect" => Indirect,
        "elapsed" => Elapsed,
        "approx" => Approx,
        "stop" => Stop,
        "start" => Start,
        other => {
            return Err(format!(
                "[words] {other} is not a kind of word shiftline knows"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_tables_load() {
        assert_eq!(LEXICON.languages.len(), 2);
        for language in &LEXICON.languages {
            assert!(language.phrases.len() > 100, "{}", language.locale);
        }
    }

    #[test]
    fn a_slip_finds_the_word_it_was_meant_to_be() {
        let en = &LEXICON.languages[0];
        assert_eq!(en.slips_of("availble"), vec!["available"]);
        assert!(en.slips_of("offlin").contains(&"offline"));
        assert!(en.slips_of("available").is_empty());
    }

    #[test]
    fn a_table_naming_an_unknown_intent_or_class_is_refused() {
        let bad_intent =
            "language = \"en\"\nstemmer = \"english\"\n[intent.dance]\nsure = [\"x\"]\n[words]\n";
        assert!(Lexicon::load(&[(Locale::En, bad_intent)]).is_err());
        let bad_class =
            "language = \"en\"\nstemmer = \"english\"\n[intent.on]\nsure = [\"{nope}\"]\n[words]\n";
        let error = Lexicon::load(&[(Locale::En, bad_class)]).err().unwrap();
        assert!(error.contains("no class"), "{error}");
    }
}
