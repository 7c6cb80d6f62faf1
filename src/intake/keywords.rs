//! Whole-message phrase matching (never substrings), so "on my way" is not ON and a wrong guess never changes a worker's state.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::domain::Locale;

/// What a worker's text means, independent of the conversation state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    On,
    Off,
    Skills,
    /// SCHEDULE and the rest of the text after the keyword (trimmed, original case kept), e.g. "mon-fri 9-17".
    Schedule(String),
    Status,
    Help,
    /// LANG with the language asked for, None when the text was just "lang"/"idioma" or an unknown code.
    Lang(Option<Locale>),
    Yes,
    No,
    /// Carrier opt-out words.
    Stop,
    /// Carrier opt-in words.
    Start,
    /// ON or OFF for a while: "ON until 6pm", "OFF for 30m" (see `hold`).
    Hold {
        online: bool,
        until: super::hold::Until,
    },
    /// TZ and the zone or city asked for, e.g. "America/Chicago" or "Madrid" (may be empty).
    TimeZone(String),
    /// `JOIN <pin> <name>` (also "unirse"/"registrar"); name is the rest of the text, trimmed, original case, may be empty.
    Join {
        pin: String,
        name: String,
    },
}

// One SMS segment. Anything longer is a conversation, not a command, and guessing at it is
// worse than saying we did not understand.
const MAX_COMMAND_CHARS: usize = 160;

// Phrase tables: every entry is already in `normalize` form (a test checks this), so lookups are
// plain string equality.

const ON_EN: &[&str] = &[
    "on",
    "online",
    "on line",
    "available",
    "avail",
    "log in",
    "login",
    "logged in",
    "sign in",
    "signin",
    "clock in",
    "clocked in",
    "ready",
    "ready to work",
    "ready for calls",
    "on duty",
    "back",
    "in",
    "count me in",
];
const ON_ES: &[&str] = &[
    "activo",
    "activa",
    "activar",
    "disponible",
    "conectado",
    "conectada",
    "conectar",
    "conecto",
    "en linea",
    "listo",
    "lista",
    "entrar",
    "entro",
    "encender",
    "a trabajar",
    "de vuelta",
    "volvi",
];

const OFF_EN: &[&str] = &[
    "off",
    "offline",
    "off line",
    "out",
    "unavailable",
    "not available",
    "log out",
    "logout",
    "logged out",
    "log off",
    "logoff",
    "sign out",
    "signout",
    "sign off",
    "clock out",
    "clocked out",
    "done",
    "all done",
    "done for today",
    "done for the day",
    "finished",
    "busy",
    "away",
    "on break",
    "break",
    "taking a break",
    "lunch",
    "on lunch",
    "lunch break",
    "bye",
    "goodbye",
    "goodnight",
    "good night",
    "off duty",
    "not working",
    "cant work",
    "can t work",
    "cannot work",
    "can not work",
    "unable to work",
];
const OFF_ES: &[&str] = &[
    "salir",
    "salgo",
    "fuera",
    "fuera de linea",
    "desconectado",
    "desconectada",
    "desconectar",
    "desconecto",
    "no disponible",
    "apagado",
    "apagar",
    "terminar",
    "termine",
    "ya termine",
    "me voy",
    "adios",
    "hasta manana",
    "inactivo",
    "inactiva",
    "ocupado",
    "ocupada",
    "descanso",
    "en descanso",
    "no puedo",
    "no puedo trabajar",
    "no trabajo",
];

const SKILLS_EN: &[&str] = &[
    "skills",
    "skill",
    "my skills",
    "change skills",
    "update skills",
    "queues",
    "queue",
    "departments",
];
const SKILLS_ES: &[&str] = &[
    "habilidades",
    "habilidad",
    "mis habilidades",
    "cambiar habilidades",
    "destrezas",
    "colas",
    "departamentos",
];

const STATUS_EN: &[&str] = &[
    "status",
    "stat",
    "my status",
    "what s my status",
    "whats my status",
    "what is my status",
    "am i on",
    "am i online",
    "am i available",
];
const STATUS_ES: &[&str] = &[
    "estado",
    "estatus",
    "mi estado",
    "cual es mi estado",
    "como estoy",
];

const HELP_EN: &[&str] = &[
    "help",
    "help me",
    "menu",
    "commands",
    "options",
    "what can i do",
    "info",
    "h",
];
const HELP_ES: &[&str] = &[
    "ayuda",
    "ayudame",
    "comandos",
    "opciones",
    "que puedo hacer",
];

const YES_EN: &[&str] = &[
    "yes", "y", "yeah", "yea", "yep", "yup", "ok", "okay", "sure", "confirm", "correct", "save",
];
const YES_ES: &[&str] = &[
    "si",
    "s",
    "claro",
    "claro que si",
    "vale",
    "dale",
    "de acuerdo",
    "esta bien",
    "correcto",
    "confirmar",
    "guardar",
];

const NO_EN: &[&str] = &["no", "n", "nope", "nah", "cancel", "no thanks"];
const NO_ES: &[&str] = &["cancelar", "no gracias"];

// Carrier keywords are English-only and only count as the whole message (no fillers): the carrier
// itself matches them that way, and our opt-out state must agree with the carrier's. "cancel" is
// a carrier word too but is kept as No; the caller decides by conversation state.
const STOP_WORDS: &[&str] = &[
    "stop",
    "stopall",
    "stop all",
    "unsubscribe",
    "end",
    "quit",
    "revoke",
    "optout",
    "opt out",
];
const START_WORDS: &[&str] = &["start", "unstop", "opt in", "optin"];

// Negation + an ON phrase of the same language is a clear "I am not available". Kept per
// language so "No, I'm back" (an English answer then a statement) is not read as OFF.
const NEGATIONS_EN: &[&str] = &[
    "not",
    "not going to be",
    "won t be",
    "wont be",
    "will not be",
    "can t be",
    "cant be",
    "cannot be",
    "don t",
    "dont",
    "never",
];
const NEGATIONS_ES: &[&str] = &[
    "no",
    "no estoy",
    "no me",
    "no voy a estar",
    "ya no",
    "ya no estoy",
    "nunca",
    "nunca estoy",
];

// First-word commands carry free text after them, so they are recognised by their first word
// and allowed past the length limit.
const SCHEDULE_WORDS: &[&str] = &[
    "schedule", "hours", "shift", "shifts", "horario", "horarios", "horas", "turno", "turnos",
];
const JOIN_WORDS: &[&str] = &["join", "register", "unirse", "registrar"];

const LANG_KEYWORDS: &[&str] = &[
    "lang",
    "language",
    "change language",
    "set language",
    "idioma",
    "lenguaje",
    "cambiar idioma",
];
const LANG_NAMES_EN: &[&str] = &["english", "ingles"];
const LANG_NAMES_ES: &[&str] = &["spanish", "espanol", "castellano"];
// Codes only count after a LANG keyword: a bare "en" or "es" is too easily something else.
const LANG_CODES_EN: &[&str] = &["en", "eng"];
const LANG_CODES_ES: &[&str] = &["es", "esp", "spa"];
// "in spanish", "en ingles", "switch to spanish".
const LANG_PREPOSITIONS: &[&str] = &["in", "to", "en", "a", "al"];

const LEADING_FILLERS: &[&str] = &[
    "i",
    "sorry",
    "lo siento",
    "yo",
    "hi",
    "hello",
    "hey",
    "ok",
    "okay",
    "please",
    "pls",
    "plz",
    "i m",
    "im",
    "i am",
    "am",
    "good morning",
    "good afternoon",
    "good evening",
    "hola",
    "buenas",
    "buenos dias",
    "buen dia",
    "buenas tardes",
    "buenas noches",
    "por favor",
    "estoy",
    "ya",
    "me",
    "go",
    "going",
    "turn",
    "set me",
    "set me as",
    "put me",
    "mark me",
    "mark me as",
    "switch",
    "log me",
    "sign me",
];
const TRAILING_FILLERS: &[&str] = &[
    "now",
    "right now",
    "for now",
    "for today",
    "for the day",
    "please",
    "pls",
    "plz",
    "thanks",
    "thank you",
    "thx",
    "today",
    "gracias",
    "ahora",
    "ahora mismo",
    "ya",
    "hoy",
    "por favor",
];

static PHRASES: LazyLock<HashMap<&'static str, Intent>> = LazyLock::new(|| {
    let tables: [(&[&str], Intent); 16] = [
        (ON_EN, Intent::On),
        (ON_ES, Intent::On),
        (OFF_EN, Intent::Off),
        (OFF_ES, Intent::Off),
        (SKILLS_EN, Intent::Skills),
        (SKILLS_ES, Intent::Skills),
        (STATUS_EN, Intent::Status),
        (STATUS_ES, Intent::Status),
        (HELP_EN, Intent::Help),
        (HELP_ES, Intent::Help),
        (YES_EN, Intent::Yes),
        (YES_ES, Intent::Yes),
        (NO_EN, Intent::No),
        (NO_ES, Intent::No),
        (LANG_NAMES_EN, Intent::Lang(Some(Locale::En))),
        (LANG_NAMES_ES, Intent::Lang(Some(Locale::Es))),
    ];
    let mut map = HashMap::new();
    for (phrases, intent) in tables {
        for phrase in phrases {
            map.insert(*phrase, intent.clone());
        }
    }
    map
});

static CARRIER: LazyLock<HashMap<&'static str, Intent>> = LazyLock::new(|| {
    let stop = STOP_WORDS.iter().map(|w| (*w, Intent::Stop));
    let start = START_WORDS.iter().map(|w| (*w, Intent::Start));
    stop.chain(start).collect()
});

static LEADING: LazyLock<Vec<Vec<&'static str>>> = LazyLock::new(|| split_all(LEADING_FILLERS));
static TRAILING: LazyLock<Vec<Vec<&'static str>>> = LazyLock::new(|| split_all(TRAILING_FILLERS));

// Checked on the raw text because normalization turns punctuation and emoji into nothing.
static ONLY_QUESTION_MARKS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\s?¿？]*[?？][\s?¿？]*$").expect("valid regex"));
static ONLY_THUMBS_UP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:\x{1F44D}[\x{1F3FB}-\x{1F3FF}]?\x{FE0F}?\s*)+$").expect("valid regex")
});
static ONLY_THUMBS_DOWN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:\x{1F44E}[\x{1F3FB}-\x{1F3FF}]?\x{FE0F}?\s*)+$").expect("valid regex")
});
// Last line of defence: whatever the tables say, a negated message never puts a worker online.
static NEGATION_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:not|no|cant|can t|cannot|dont|don t|won t|wont|never|nunca|unable)\b")
        .expect("valid regex")
});
// "No, estoy disponible" answers a question and then says the opposite of "no estoy disponible";
// normalization erases the comma, so the raw text is checked for a pause after the negation.
static NEGATION_THEN_PAUSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:no|not|nope|nunca|never)\s*[,.;:!?¡¿…\-–—]").expect("valid regex")
});

fn split_all(phrases: &[&'static str]) -> Vec<Vec<&'static str>> {
    phrases.iter().map(|p| p.split(' ').collect()).collect()
}

impl Intent {
    /// A short stable name, for metrics and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Intent::On => "on",
            Intent::Off => "off",
            Intent::Skills => "skills",
            Intent::Schedule(_) => "schedule",
            Intent::Status => "status",
            Intent::Help => "help",
            Intent::Lang(_) => "lang",
            Intent::Yes => "yes",
            Intent::No => "no",
            Intent::Stop => "stop",
            Intent::Start => "start",
            Intent::Join { .. } => "join",
            Intent::TimeZone(_) => "tz",
            Intent::Hold { online: true, .. } => "on_until",
            Intent::Hold { online: false, .. } => "off_for",
        }
    }
}

/// Lowercase, accents stripped (NFD, combining marks removed: "sí" -> "si", "facturación" -> "facturacion", "ñ" -> "n"),
/// every char that is not alphanumeric replaced by a space (punctuation, emoji, apostrophes: "I'm" -> "i m"),
/// whitespace collapsed to single spaces, trimmed. Also used by the skill-menu parser.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    // Lowercasing first lets NFD see "İ" as "i" + a combining dot, which is then dropped.
    for c in text.chars().flat_map(char::to_lowercase).nfd() {
        // Invisible format characters (zero-width spaces and joiners, bidi controls, BOM) are
        // dropped, not read as gaps: a worker who sees "on" on screen meant "on".
        if is_combining_mark(c) || is_invisible(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{00ad}')
}

/// First words that set the worker's time zone.
const TZ_WORDS: &[&str] = &["tz", "timezone", "zona", "zone"];

/// The intent of a whole message, or None when it is not a command (then the caller replies with help and changes nothing).
pub fn understand(text: &str) -> Option<Intent> {
    let (first, rest) = first_word(text);
    if SCHEDULE_WORDS.contains(&first.as_str()) {
        return Some(Intent::Schedule(free_text(rest).to_string()));
    }
    if TZ_WORDS.contains(&first.as_str()) {
        return Some(Intent::TimeZone(free_text(rest).to_string()));
    }
    if first == "time"
        && let (second, rest) = first_word(rest)
        && second == "zone"
    {
        return Some(Intent::TimeZone(free_text(rest).to_string()));
    }
    if JOIN_WORDS.contains(&first.as_str()) {
        let rest = free_text(rest);
        let (pin, name) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        return Some(Intent::Join {
            pin: pin.trim_matches(|c: char| !c.is_alphanumeric()).to_string(),
            name: name.trim().to_string(),
        });
    }
    if text.chars().nth(MAX_COMMAND_CHARS).is_some() {
        return None;
    }
    if ONLY_QUESTION_MARKS.is_match(text) {
        return Some(Intent::Status);
    }
    if ONLY_THUMBS_UP.is_match(text) {
        return Some(Intent::Yes);
    }
    if ONLY_THUMBS_DOWN.is_match(text) {
        return Some(Intent::No);
    }
    let normalized = normalize(text);
    if normalized.is_empty() {
        return None;
    }
    let intent = match_phrases(&normalized, NEGATION_THEN_PAUSE.is_match(text))?;
    if intent == Intent::On && NEGATION_WORD.is_match(&normalized) {
        return None;
    }
    Some(intent)
}

/// The first word of the raw text, normalized, and the raw text after it.
fn first_word(text: &str) -> (String, &str) {
    let start = text.find(char::is_alphanumeric).unwrap_or(text.len());
    let word_len = text[start..]
        .find(|c: char| !(c.is_alphanumeric() || is_combining_mark(c)))
        .unwrap_or(text.len() - start);
    let end = start + word_len;
    (normalize(&text[start..end]), &text[end..])
}

/// The worker's own words after a first-word command, minus the separator they typed
/// ("schedule: mon-fri") and with nothing at all when only punctuation or emoji follow.
fn free_text(rest: &str) -> &str {
    let rest = rest
        .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | ';' | '.' | '='))
        .trim();
    if rest.chars().any(char::is_alphanumeric) {
        rest
    } else {
        ""
    }
}

/// Tries the message with every combination of polite fillers stripped from either end, least
/// stripped first, so an exact phrase that happens to begin with a filler ("me voy", "ok") wins.
fn match_phrases(normalized: &str, pause_after_negation: bool) -> Option<Intent> {
    let words: Vec<&str> = normalized.split(' ').collect();
    let n = words.len();

    let mut starts = vec![false; n + 1];
    starts[0] = true;
    for pos in 0..n {
        if !starts[pos] {
            continue;
        }
        for filler in LEADING.iter() {
            if words[pos..].starts_with(filler) && pos + filler.len() < n {
                starts[pos + filler.len()] = true;
            }
        }
    }
    let mut ends = vec![false; n + 1];
    ends[n] = true;
    for end in (1..=n).rev() {
        if !ends[end] {
            continue;
        }
        for filler in TRAILING.iter() {
            if words[..end].ends_with(filler) && end > filler.len() {
                ends[end - filler.len()] = true;
            }
        }
    }

    let mut spans: Vec<(usize, usize)> = (0..n)
        .filter(|&i| starts[i])
        .flat_map(|i| (i + 1..=n).filter(|&j| ends[j]).map(move |j| (i, j)))
        .collect();
    spans.sort_by_key(|&(i, j)| (i + (n - j), i));

    let mut fallback = None;
    for (i, j) in spans {
        let phrase = words[i..j].join(" ");
        match meaning(&phrase, i == 0 && j == n) {
            // "lang es please" must reach "lang es" before settling for "unknown language".
            Some(Intent::Lang(None)) => fallback = Some(Intent::Lang(None)),
            Some(Intent::Off) if pause_after_negation && NEGATION_WORD.is_match(&phrase) => {}
            Some(intent) => return Some(intent),
            None => {}
        }
    }
    fallback
}

fn meaning(phrase: &str, whole_message: bool) -> Option<Intent> {
    let carrier = if whole_message {
        CARRIER.get(phrase)
    } else {
        None
    };
    if let Some(intent) = carrier.or_else(|| PHRASES.get(phrase)) {
        return Some(intent.clone());
    }
    if is_negated_on(phrase, NEGATIONS_EN, ON_EN) || is_negated_on(phrase, NEGATIONS_ES, ON_ES) {
        return Some(Intent::Off);
    }
    language_request(phrase)
}

fn is_negated_on(phrase: &str, negations: &[&str], on: &[&str]) -> bool {
    negations.iter().any(|neg| {
        phrase
            .strip_prefix(neg)
            .and_then(|rest| rest.strip_prefix(' '))
            .is_some_and(|rest| on.contains(&rest))
    })
}

fn language_request(phrase: &str) -> Option<Intent> {
    if let Some(locale) = language_named(phrase) {
        return Some(Intent::Lang(Some(locale)));
    }
    let rest = LANG_KEYWORDS.iter().find_map(|kw| {
        let rest = phrase.strip_prefix(kw)?;
        if rest.is_empty() {
            Some("")
        } else {
            rest.strip_prefix(' ')
        }
    })?;
    let locale = if LANG_CODES_EN.contains(&rest) {
        Some(Locale::En)
    } else if LANG_CODES_ES.contains(&rest) {
        Some(Locale::Es)
    } else {
        language_named(rest)
    };
    Some(Intent::Lang(locale))
}

/// "spanish", "español", "in english", "al inglés".
fn language_named(phrase: &str) -> Option<Locale> {
    let name = LANG_PREPOSITIONS
        .iter()
        .find_map(|p| phrase.strip_prefix(p)?.strip_prefix(' '))
        .unwrap_or(phrase);
    if LANG_NAMES_EN.contains(&name) {
        Some(Locale::En)
    } else if LANG_NAMES_ES.contains(&name) {
        Some(Locale::Es)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn assert_all(cases: &[(&str, Option<Intent>)]) {
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|(text, want)| {
                let got = understand(text);
                (got != *want).then(|| format!("{text:?}: want {want:?}, got {got:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[track_caller]
    fn assert_each(texts: &[&str], want: Option<Intent>) {
        let cases: Vec<(&str, Option<Intent>)> = texts.iter().map(|t| (*t, want.clone())).collect();
        assert_all(&cases);
    }

    fn schedule(s: &str) -> Option<Intent> {
        Some(Intent::Schedule(s.to_string()))
    }

    fn join(pin: &str, name: &str) -> Option<Intent> {
        Some(Intent::Join {
            pin: pin.to_string(),
            name: name.to_string(),
        })
    }

    #[test]
    fn invisible_characters_do_not_split_words() {
        assert_eq!(understand("o\u{200b}n"), Some(Intent::On));
        assert_eq!(understand("\u{feff}OFF"), Some(Intent::Off));
        assert_eq!(understand("Sorry, I can't work today"), Some(Intent::Off));
        assert_eq!(understand("yo no puedo"), Some(Intent::Off));
        assert_eq!(understand("\u{202e}on\u{202c}"), Some(Intent::On));
    }

    #[test]
    fn normalize_strips_accents_case_and_punctuation() {
        let cases = [
            ("sí", "si"),
            ("Sí!", "si"),
            ("facturación", "facturacion"),
            ("Año", "ano"),
            ("ñ", "n"),
            ("I'm", "i m"),
            ("  ON!!!  ", "on"),
            ("on 👍", "on"),
            ("¿Cómo   estoy?", "como estoy"),
            ("fuera\tde\nlínea", "fuera de linea"),
            ("İ", "i"),
            ("e\u{301}", "e"),
            ("a\u{200D}b", "ab"),
            ("1,3", "1 3"),
            ("🙂", ""),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input), want, "normalize({input:?})");
        }
    }

    #[test]
    fn punctuation_case_and_emoji_do_not_matter() {
        assert_each(
            &[
                "ON",
                "on",
                " On! ",
                "on 👍",
                "ON!!!",
                "Online.",
                "disponible",
                "DISPONIBLE",
                "¡Disponible!",
            ],
            Some(Intent::On),
        );
        assert_each(
            &["OFF", "Off.", "offline!!", "OFF 👋", "Fuera"],
            Some(Intent::Off),
        );
    }

    #[test]
    fn on_my_way_is_not_on() {
        assert_all(&[
            ("on my way", None),
            ("On my way!", None),
            ("I'm on my way", None),
            ("turn on the lights", None),
            ("I'm on", Some(Intent::On)),
            ("im on", Some(Intent::On)),
        ]);
    }

    #[test]
    fn english_on_and_off_phrases_are_understood() {
        assert_each(
            &[
                "online",
                "on line",
                "available",
                "avail",
                "log in",
                "login",
                "logged in",
                "sign in",
                "signin",
                "clock in",
                "ready",
                "ready to work",
                "on duty",
                "back",
                "I'm back",
                "in",
                "I'm in",
                "go online",
                "turn on",
                "switch on",
                "mark me available",
            ],
            Some(Intent::On),
        );
        assert_each(
            &[
                "offline",
                "off line",
                "unavailable",
                "not available",
                "log out",
                "logout",
                "logged out",
                "log off",
                "sign out",
                "signout",
                "sign off",
                "clock out",
                "done",
                "done for today",
                "Done for the day.",
                "finished",
                "busy",
                "away",
                "on break",
                "break",
                "bye",
                "goodnight",
                "good night",
                "off duty",
                "I'm done",
                "going offline",
                "turn off",
                "sign me out",
                "log me off",
            ],
            Some(Intent::Off),
        );
    }

    #[test]
    fn spanish_keywords_are_understood() {
        assert_each(
            &[
                "activo",
                "Activa",
                "activar",
                "disponible",
                "conectado",
                "conectada",
                "en línea",
                "En linea",
                "listo",
                "lista",
                "entrar",
                "entro",
                "encender",
                "a trabajar",
                "¡A trabajar!",
                "estoy disponible",
                "Ya estoy disponible",
                "Hola, estoy conectada",
                "me conecto",
            ],
            Some(Intent::On),
        );
        assert_each(
            &[
                "salir",
                "salgo",
                "fuera",
                "fuera de línea",
                "desconectado",
                "desconectada",
                "desconectar",
                "no disponible",
                "apagado",
                "apagar",
                "terminar",
                "terminé",
                "Ya terminé",
                "me voy",
                "Ya me voy",
                "me voy ya",
                "adiós",
                "inactivo",
                "inactiva",
                "ocupado",
                "ocupada",
                "descanso",
                "en descanso",
                "estoy en descanso",
                "hasta mañana",
            ],
            Some(Intent::Off),
        );
        assert_all(&[
            ("habilidades", Some(Intent::Skills)),
            ("Mis habilidades", Some(Intent::Skills)),
            ("cambiar habilidades", Some(Intent::Skills)),
            ("destrezas", Some(Intent::Skills)),
            ("colas", Some(Intent::Skills)),
            ("departamentos", Some(Intent::Skills)),
            ("estado", Some(Intent::Status)),
            ("estatus", Some(Intent::Status)),
            ("¿Cómo estoy?", Some(Intent::Status)),
            ("ayuda", Some(Intent::Help)),
            ("Ayúdame", Some(Intent::Help)),
            ("comandos", Some(Intent::Help)),
            ("opciones", Some(Intent::Help)),
            ("¿Qué puedo hacer?", Some(Intent::Help)),
            ("menú", Some(Intent::Help)),
            ("Sí", Some(Intent::Yes)),
            ("si", Some(Intent::Yes)),
            ("claro", Some(Intent::Yes)),
            ("vale", Some(Intent::Yes)),
            ("dale", Some(Intent::Yes)),
            ("De acuerdo", Some(Intent::Yes)),
            ("correcto", Some(Intent::Yes)),
            ("confirmar", Some(Intent::Yes)),
            ("guardar", Some(Intent::Yes)),
            ("sí, por favor", Some(Intent::Yes)),
            ("cancelar", Some(Intent::No)),
            ("No, gracias", Some(Intent::No)),
        ]);
    }

    #[test]
    fn polite_fillers_around_a_phrase_are_ignored() {
        assert_all(&[
            ("Hi, I'm available now", Some(Intent::On)),
            ("please log me in", Some(Intent::On)),
            ("log me out please", Some(Intent::Off)),
            ("estoy disponible", Some(Intent::On)),
            ("ya estoy disponible", Some(Intent::On)),
            ("hello, online right now, thanks", Some(Intent::On)),
            ("hey I am on duty today", Some(Intent::On)),
            ("Buenos días, disponible por favor", Some(Intent::On)),
            ("set me online pls", Some(Intent::On)),
            ("ok, off for today thx", Some(Intent::Off)),
            ("okay offline", Some(Intent::Off)),
            ("ok", Some(Intent::Yes)),
            ("OK!", Some(Intent::Yes)),
            ("ok thanks", Some(Intent::Yes)),
            ("yes please", Some(Intent::Yes)),
            ("no thank you", Some(Intent::No)),
            ("status please", Some(Intent::Status)),
            ("help!! please", Some(Intent::Help)),
        ]);
    }

    #[test]
    fn fillers_alone_are_not_commands() {
        assert_each(
            &[
                "hi",
                "hello",
                "please",
                "thanks",
                "hola",
                "gracias",
                "buenas",
                "ya",
                "me",
                "going",
                // A greeting as often as a goodbye, so not OFF.
                "buenas noches",
            ],
            None,
        );
    }

    #[test]
    fn negated_availability_is_never_on() {
        assert_each(
            &[
                "not available",
                "not on",
                "not online",
                "not ready",
                "no disponible",
                "no estoy disponible",
                "can't work",
                "cant work today",
                "unavailable",
                "I'm not available",
                "not working today",
                "no puedo",
                "I am not on right now",
                "Ya no estoy disponible",
                "won't be available today",
                "not ready to work",
                "no estoy conectada hoy",
                "never on duty",
            ],
            Some(Intent::Off),
        );
    }

    #[test]
    fn unclear_negations_are_not_understood() {
        // A negation near an ON word that is not a clean "not <on phrase>" could be either answer.
        assert_each(
            &[
                "No, I'm available",
                "no I'm back",
                "no on",
                "not sure if I'm available",
                "I'm available, not busy",
                "don't know",
                "no estoy seguro si disponible",
                "No, estoy disponible",
                "No. Disponible",
                "no - I'm available",
            ],
            None,
        );
    }

    #[test]
    fn on_phrases_contain_no_negation_word() {
        for phrase in ON_EN.iter().chain(ON_ES) {
            assert!(!NEGATION_WORD.is_match(phrase), "{phrase:?} looks negated");
        }
        for filler in LEADING_FILLERS.iter().chain(TRAILING_FILLERS) {
            assert!(
                !NEGATION_WORD.is_match(filler),
                "filler {filler:?} would hide a negation"
            );
        }
    }

    #[test]
    fn skills_keywords_open_the_menu() {
        assert_each(
            &[
                "skills",
                "SKILL",
                "queues",
                "queue",
                "my skills",
                "change skills",
                "update skills",
                "departments",
                "Skills please",
            ],
            Some(Intent::Skills),
        );
    }

    #[test]
    fn schedule_keeps_the_rest_of_the_original_text() {
        assert_all(&[
            ("schedule mon-fri 9-17", schedule("mon-fri 9-17")),
            ("SCHEDULE", schedule("")),
            ("Schedule!", schedule("")),
            ("horario lun-vie 9-17", schedule("lun-vie 9-17")),
            ("Schedule: Weekdays 9am-5pm ", schedule("Weekdays 9am-5pm")),
            ("schedule off", schedule("off")),
            ("hours Mon-Thu 8-4", schedule("Mon-Thu 8-4")),
            ("horas", schedule("")),
            ("shift 9-5", schedule("9-5")),
            ("shifts sat 10-2", schedule("sat 10-2")),
            ("Turno Lunes 8-14", schedule("Lunes 8-14")),
        ]);
    }

    #[test]
    fn join_reads_pin_and_name_from_the_original_text() {
        assert_all(&[
            ("JOIN 4321 Maria Lopez", join("4321", "Maria Lopez")),
            ("join", join("", "")),
            ("join 4321", join("4321", "")),
            ("  Join   4321   José  Núñez ", join("4321", "José  Núñez")),
            ("unirse 1111 Ana", join("1111", "Ana")),
            ("Registrar 2222 Luis Gómez", join("2222", "Luis Gómez")),
            ("register 3333 Sam", join("3333", "Sam")),
        ]);
    }

    #[test]
    fn question_mark_alone_asks_for_status() {
        assert_each(&["?", "??", " ? ", "¿?", "？"], Some(Intent::Status));
        assert_each(
            &[
                "status",
                "Status?",
                "stat",
                "my status",
                "What's my status?",
                "whats my status",
                "am I on?",
                "am i online",
                "estado",
                "¿Cómo estoy?",
            ],
            Some(Intent::Status),
        );
        assert_ne!(understand("?"), Some(Intent::Help));
    }

    #[test]
    fn help_keywords_ask_for_the_command_list() {
        assert_each(
            &[
                "help",
                "HELP!",
                "menu",
                "ayuda",
                "commands",
                "comandos",
                "options",
                "opciones",
                "What can I do?",
                "que puedo hacer",
                "info",
                "h",
            ],
            Some(Intent::Help),
        );
    }

    #[test]
    fn language_requests_name_the_language() {
        let es = Some(Intent::Lang(Some(Locale::Es)));
        let en = Some(Intent::Lang(Some(Locale::En)));
        let unknown = Some(Intent::Lang(None));
        assert_all(&[
            ("lang es", es.clone()),
            ("LANG ES", es.clone()),
            ("lang en", en.clone()),
            ("language spanish", es.clone()),
            ("idioma inglés", en.clone()),
            ("idioma ingles", en.clone()),
            ("idioma es", es.clone()),
            ("lang espanol", es.clone()),
            ("lang es please", es.clone()),
            ("español", es.clone()),
            ("Espanol", es.clone()),
            ("spanish", es.clone()),
            ("castellano", es.clone()),
            ("English", en.clone()),
            ("ingles", en.clone()),
            ("inglés", en.clone()),
            ("en español por favor", es.clone()),
            ("in English please", en.clone()),
            ("switch to spanish", es.clone()),
            ("lang", unknown.clone()),
            ("language", unknown.clone()),
            ("idioma", unknown.clone()),
            ("lang fr", unknown.clone()),
            ("es", None),
            ("en", None),
        ]);
    }

    #[test]
    fn yes_and_no_answers_are_understood() {
        assert_each(
            &[
                "yes",
                "Y",
                "yeah",
                "yea",
                "yep",
                "yup",
                "ok",
                "okay",
                "sure",
                "confirm",
                "correct",
                "save",
                "si",
                "sí",
                "s",
                "claro",
                "vale",
                "dale",
                "de acuerdo",
                "correcto",
                "confirmar",
                "guardar",
                "👍",
                " 👍 ",
                "👍🏽",
                "👍👍",
            ],
            Some(Intent::Yes),
        );
        assert_each(
            &[
                "no",
                "No.",
                "n",
                "nope",
                "nah",
                "cancel",
                "cancelar",
                "no gracias",
                "no thanks",
                "👎",
            ],
            Some(Intent::No),
        );
        assert_each(&["👍 maybe", "👎 not sure"], None);
    }

    #[test]
    fn carrier_words_are_stop_and_start() {
        assert_each(
            &[
                "stop",
                "STOP",
                "Stop.",
                "stopall",
                "stop all",
                "unsubscribe",
                "end",
                "quit",
                "revoke",
                "optout",
                "opt out",
                "opt-out",
            ],
            Some(Intent::Stop),
        );
        assert_each(
            &["start", "START", "unstop", "opt in", "optin"],
            Some(Intent::Start),
        );
        assert_all(&[("cancel", Some(Intent::No)), ("yes", Some(Intent::Yes))]);
    }

    #[test]
    fn carrier_words_only_count_as_the_whole_message() {
        assert_each(
            &[
                "please stop",
                "stop please",
                "start now",
                "don't stop",
                "stop calling me",
                "end shift",
            ],
            None,
        );
    }

    #[test]
    fn empty_emoji_and_punctuation_only_are_not_commands() {
        assert_each(
            &[
                "", "   ", "!!!", "...", "👋", "🙂🙂", "-", "\u{200D}", "\n\t",
            ],
            None,
        );
    }

    #[test]
    fn unknown_text_is_not_a_command() {
        assert_each(
            &[
                "what time is it",
                "call me",
                "I'll be there soon",
                "on it",
                "onboarding",
                "online?!? not sure",
            ],
            None,
        );
    }

    #[test]
    fn long_messages_are_not_commands() {
        let padded_on = format!("on{}", " ".repeat(MAX_COMMAND_CHARS));
        let shouting_on = format!("ON{}", "!".repeat(200));
        let chatty = format!("I'm available {}", "and happy to help ".repeat(10));
        assert_each(&[&padded_on, &shouting_on, &chatty], None);

        let at_limit = format!("on{}", " ".repeat(MAX_COMMAND_CHARS - 2));
        assert_eq!(understand(&at_limit), Some(Intent::On));

        let long_hours = format!("schedule {}", "mon 9-17 ".repeat(30));
        assert_eq!(
            understand(&long_hours),
            schedule(long_hours["schedule ".len()..].trim())
        );
        let long_name = "N".repeat(200);
        assert_eq!(
            understand(&format!("join 4321 {long_name}")),
            join("4321", &long_name)
        );
    }

    #[test]
    fn hostile_input_never_panics() {
        let inputs = [
            "x".repeat(1600),
            "á".repeat(1600),
            "\u{301}".repeat(1600),
            "👍".repeat(1600),
            "?".repeat(1600),
            "\u{0}\u{1}\u{7f}\u{1b}[31m".to_string(),
            "مرحبا بالعالم".to_string(),
            "\u{202E}hello\u{202C}".to_string(),
            "👨\u{200D}👩\u{200D}👧".to_string(),
            "\u{FEFF}\u{FFFD}\u{10FFFF}".to_string(),
            "\u{301}".to_string(),
            "ǅ ﬁ ß".to_string(),
        ];
        for input in &inputs {
            assert_eq!(understand(input), None, "{input:?}");
        }
        assert_eq!(understand("\u{202E}on\u{202C}"), Some(Intent::On));
        assert_eq!(understand("o\u{200D}n"), Some(Intent::On));
    }

    #[test]
    fn every_table_phrase_is_understood_as_its_intent() {
        // Guards against a filler, first-word command or carrier word shadowing a phrase.
        for (phrase, intent) in PHRASES.iter() {
            assert_eq!(understand(phrase).as_ref(), Some(intent), "{phrase:?}");
        }
        for (phrase, intent) in CARRIER.iter() {
            assert_eq!(understand(phrase).as_ref(), Some(intent), "{phrase:?}");
        }
    }

    #[test]
    fn table_phrases_are_normalized_and_unambiguous() {
        let tables: &[(&str, &[&str])] = &[
            ("on", ON_EN),
            ("on", ON_ES),
            ("off", OFF_EN),
            ("off", OFF_ES),
            ("skills", SKILLS_EN),
            ("skills", SKILLS_ES),
            ("status", STATUS_EN),
            ("status", STATUS_ES),
            ("help", HELP_EN),
            ("help", HELP_ES),
            ("yes", YES_EN),
            ("yes", YES_ES),
            ("no", NO_EN),
            ("no", NO_ES),
            ("stop", STOP_WORDS),
            ("start", START_WORDS),
            ("lang en", LANG_NAMES_EN),
            ("lang es", LANG_NAMES_ES),
            ("schedule", SCHEDULE_WORDS),
            ("join", JOIN_WORDS),
        ];
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for (intent, phrases) in tables {
            for phrase in *phrases {
                assert_eq!(normalize(phrase), *phrase, "table entry is not normalized");
                if let Some(other) = seen.insert(*phrase, *intent) {
                    assert_eq!(other, *intent, "{phrase:?} means both {other} and {intent}");
                }
            }
        }
        for phrase in LEADING_FILLERS
            .iter()
            .chain(TRAILING_FILLERS)
            .chain(LANG_KEYWORDS)
        {
            assert_eq!(
                normalize(phrase),
                *phrase,
                "filler or keyword is not normalized"
            );
        }
    }
}
