//! How many SMS segments a text costs. A text that is all GSM-7 fits 160 characters in one
//! segment and 153 per segment when split; a single character outside GSM-7 (an emoji, a
//! curly quote, an "á") makes the whole text UCS-2: 70 in one, 67 per segment when split.

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Characters that take an escape septet as well: they count twice.
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{0c}";

pub fn is_gsm7(c: char) -> bool {
    GSM7_BASIC.contains(c) || GSM7_EXTENDED.contains(c)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

pub fn encoding(text: &str) -> Encoding {
    if text.chars().all(is_gsm7) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// The number of segments the text is sent as.
pub fn segments(text: &str) -> usize {
    let (units, single, per_part) = match encoding(text) {
        Encoding::Gsm7 => {
            let septets = text
                .chars()
                .map(|c| if GSM7_EXTENDED.contains(c) { 2 } else { 1 })
                .sum::<usize>();
            (septets, 160, 153)
        }
        // UTF-16 code units: an emoji outside the BMP takes two.
        Encoding::Ucs2 => (text.encode_utf16().count(), 70, 67),
    };
    if units <= single {
        1
    } else {
        units.div_ceil(per_part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_english_is_gsm7_and_counts_by_160_then_153() {
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(segments(&"a".repeat(307)), 3);
    }

    #[test]
    fn one_accent_outside_gsm7_makes_the_text_ucs2() {
        assert_eq!(encoding("Facturación"), Encoding::Ucs2);
        assert_eq!(encoding("Español ñ é"), Encoding::Gsm7);
        assert_eq!(segments(&format!("ó{}", "a".repeat(69))), 1);
        assert_eq!(segments(&format!("ó{}", "a".repeat(70))), 2);
    }

    #[test]
    fn bidi_marks_and_curly_quotes_are_not_gsm7() {
        assert_eq!(encoding("\u{2068}Ana\u{2069}"), Encoding::Ucs2);
        assert_eq!(encoding("you\u{2019}re"), Encoding::Ucs2);
    }

    #[test]
    fn extended_characters_count_twice() {
        assert_eq!(segments(&"€".repeat(80)), 1);
        assert_eq!(segments(&"€".repeat(81)), 2);
    }
}
