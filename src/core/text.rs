//! Folding a worker's text for comparison: the understanding layer, the skill menu, the
//! schedule grammar and the time zone names all read text folded the same way.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lowercase, accents and invisible characters removed ("Sí" -> "si", "ñ" -> "n").
pub fn fold(text: &str) -> String {
    // Most texts are plain ASCII, which has no accents or invisible characters to drop:
    // spare them the Unicode decomposition, the costliest part of reading a text.
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    // Lowercasing first lets NFD see "İ" as "i" + a combining dot, which is then dropped.
    text.chars()
        .flat_map(char::to_lowercase)
        .nfd()
        .filter(|c| !is_combining_mark(*c) && !is_invisible(*c))
        .collect()
}

/// `fold`, then every run of characters that are not letters or digits as one space:
/// "¿Facturación, y  soporte?" -> "facturacion y soporte". For matching names.
pub fn normalize(text: &str) -> String {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Zero-width spaces and joiners, bidi controls, BOM, soft hyphen: a worker who sees "on"
/// on screen meant "on".
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{00ad}' | '\u{fe0f}' | '\u{fe0e}')
        || ('\u{1f3fb}'..='\u{1f3ff}').contains(&c)
}
