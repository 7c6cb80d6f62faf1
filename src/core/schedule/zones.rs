//! Reading a time zone the way a worker writes it: an IANA name ("America/Chicago") or a
//! well-known city ("Chicago", "Ciudad de México"). Abbreviations such as EST are refused:
//! they are fixed offsets with no daylight saving time, so a schedule would drift.

use chrono_tz::Tz;

use crate::core::text::normalize;

/// Cities workers are likely to name, folded like `normalize` folds them.
const CITIES: &[(&str, &str)] = &[
    ("chicago", "America/Chicago"),
    ("houston", "America/Chicago"),
    ("dallas", "America/Chicago"),
    ("austin", "America/Chicago"),
    ("san antonio", "America/Chicago"),
    ("new york", "America/New_York"),
    ("nyc", "America/New_York"),
    ("nueva york", "America/New_York"),
    ("miami", "America/New_York"),
    ("atlanta", "America/New_York"),
    ("boston", "America/New_York"),
    ("philadelphia", "America/New_York"),
    ("detroit", "America/Detroit"),
    ("denver", "America/Denver"),
    ("phoenix", "America/Phoenix"),
    ("los angeles", "America/Los_Angeles"),
    ("la", "America/Los_Angeles"),
    ("san francisco", "America/Los_Angeles"),
    ("seattle", "America/Los_Angeles"),
    ("las vegas", "America/Los_Angeles"),
    ("anchorage", "America/Anchorage"),
    ("honolulu", "Pacific/Honolulu"),
    ("puerto rico", "America/Puerto_Rico"),
    ("san juan", "America/Puerto_Rico"),
    ("mexico city", "America/Mexico_City"),
    ("ciudad de mexico", "America/Mexico_City"),
    ("cdmx", "America/Mexico_City"),
    ("mexico", "America/Mexico_City"),
    ("guadalajara", "America/Mexico_City"),
    ("monterrey", "America/Monterrey"),
    ("tijuana", "America/Tijuana"),
    ("bogota", "America/Bogota"),
    ("lima", "America/Lima"),
    ("caracas", "America/Caracas"),
    ("santiago", "America/Santiago"),
    ("buenos aires", "America/Argentina/Buenos_Aires"),
    ("madrid", "Europe/Madrid"),
    ("barcelona", "Europe/Madrid"),
    ("spain", "Europe/Madrid"),
    ("espana", "Europe/Madrid"),
    ("london", "Europe/London"),
    ("londres", "Europe/London"),
    // US regions as workers name them; each is its main city's zone, with daylight time.
    ("pacific", "America/Los_Angeles"),
    ("pacific time", "America/Los_Angeles"),
    ("pacifico", "America/Los_Angeles"),
    ("hora del pacifico", "America/Los_Angeles"),
    ("eastern", "America/New_York"),
    ("eastern time", "America/New_York"),
    ("east coast", "America/New_York"),
    ("hora del este", "America/New_York"),
    ("central", "America/Chicago"),
    ("central time", "America/Chicago"),
    ("hora del centro", "America/Chicago"),
    ("mountain", "America/Denver"),
    ("mountain time", "America/Denver"),
    ("hora de la montana", "America/Denver"),
];

/// The zone a worker asked for, or None.
pub fn resolve(text: &str) -> Option<Tz> {
    let text = text.trim();
    if text.contains('/')
        && let Some(tz) = text.parse::<Tz>().ok().or_else(|| {
            chrono_tz::TZ_VARIANTS
                .iter()
                .copied()
                .find(|tz| tz.name().eq_ignore_ascii_case(text))
        })
    {
        return Some(tz);
    }
    let folded = normalize(text);
    CITIES
        .iter()
        .find(|(city, _)| *city == folded)
        .and_then(|(_, name)| name.parse().ok())
}

/// A zone named anywhere in a sentence ("I moved to Phoenix, change my time zone"): an IANA
/// name, or the longest city or region found as whole words.
pub fn find(text: &str) -> Option<Tz> {
    if let Some(tz) = text.split_whitespace().find_map(|word| {
        let word = word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '/' || c == '_'));
        word.contains('/').then(|| resolve(word)).flatten()
    }) {
        return Some(tz);
    }
    // Each city as a whole word (" los angeles "), made once: every text is searched.
    static PADDED: std::sync::LazyLock<Vec<(String, &'static str)>> =
        std::sync::LazyLock::new(|| {
            CITIES
                .iter()
                // Two-letter names ("la") are words too often to be found inside a sentence.
                .filter(|(city, _)| city.len() > 2)
                .map(|(city, name)| (format!(" {city} "), *name))
                .collect()
        });
    let padded = format!(" {} ", normalize(text));
    PADDED
        .iter()
        .filter(|(city, _)| padded.contains(city.as_str()))
        .max_by_key(|(city, _)| city.len())
        .and_then(|(_, name)| name.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_found_inside_a_sentence() {
        assert_eq!(
            find("I moved to Phoenix, change my time zone"),
            Some(chrono_tz::America::Phoenix)
        );
        assert_eq!(
            find("im on pacific time now"),
            Some(chrono_tz::America::Los_Angeles)
        );
        assert_eq!(
            find("me mude a Los Angeles"),
            Some(chrono_tz::America::Los_Angeles)
        );
        assert_eq!(
            find("set it to America/Denver please"),
            Some(chrono_tz::America::Denver)
        );
        assert_eq!(find("my zone is whatever"), None);
    }

    #[test]
    fn iana_names_and_cities_resolve() {
        assert_eq!(
            resolve("America/Chicago"),
            Some(chrono_tz::America::Chicago)
        );
        assert_eq!(
            resolve("america/chicago"),
            Some(chrono_tz::America::Chicago)
        );
        assert_eq!(resolve("Chicago"), Some(chrono_tz::America::Chicago));
        assert_eq!(resolve(" madrid "), Some(chrono_tz::Europe::Madrid));
        assert_eq!(
            resolve("Ciudad de México"),
            Some(chrono_tz::America::Mexico_City)
        );
    }

    #[test]
    fn abbreviations_and_unknown_places_do_not() {
        assert_eq!(resolve("EST"), None);
        assert_eq!(resolve("CST"), None);
        assert_eq!(resolve("Atlantis"), None);
        assert_eq!(resolve(""), None);
    }
}
