//! What the worker is told about the caller when their phone is answered.
//!
//! Voicemail boxes record what they hear, and workers use their personal phones: a
//! caller's number or city spoken before a person is known to be on the line ends up on a
//! worker's voicemail. So the press-1 prompt names only the skill, and the caller is named
//! in the whisper that goes with the bridge, which only a human verdict or a pressed 1
//! reaches (DESIGN 7, privacy). How much is said is the business's choice
//! (`dispatch.whisper_caller`): the city Twilio looked up, else the last digits; only the
//! last digits; or nothing.

use serde::Deserialize;

use crate::core::domain::PhoneNumber;

/// How much of the caller the bridge whisper names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum WhisperCaller {
    /// The caller's city when Twilio knows it, else the last digits of their number.
    #[default]
    #[serde(rename = "city")]
    City,
    /// The last digits of the caller's number.
    #[serde(rename = "last_digits")]
    LastDigits,
    /// Nothing about the caller.
    #[serde(rename = "none")]
    Nothing,
}

/// How many digits of the caller's number `last_digits` says: enough to recognise a
/// caller who rings back, too few to call them.
pub const LAST_DIGITS: usize = 4;

/// What the bridge whisper says about the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallerHint {
    /// "from Chicago", as a person would say it (Twilio sends `CHICAGO`).
    City(String),
    /// "from a number ending in 1234": the digits only, the shell spaces them for speech.
    LastDigits(String),
}

/// What to say about a caller with this number and (Twilio's) city; None says nothing.
pub fn caller_hint(caller: &str, city: Option<&str>, setting: WhisperCaller) -> Option<CallerHint> {
    let city = city.map(str::trim).filter(|c| !c.is_empty());
    match (setting, city) {
        (WhisperCaller::Nothing, _) => None,
        (WhisperCaller::City, Some(city)) => Some(CallerHint::City(spoken_city(city))),
        (WhisperCaller::City | WhisperCaller::LastDigits, _) => last_digits(caller),
    }
}

/// The last digits of a real number. A withheld caller ID (`anonymous`) has none, and a
/// number no longer than the digits said would be given away whole, so neither is read.
fn last_digits(caller: &str) -> Option<CallerHint> {
    let number = PhoneNumber::parse(caller).ok()?;
    let digits: Vec<char> = number
        .as_str()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    (digits.len() > LAST_DIGITS)
        .then(|| CallerHint::LastDigits(digits[digits.len() - LAST_DIGITS..].iter().collect()))
}

/// `SAN FRANCISCO` as `San Francisco`: some voices spell out words in capitals. A city
/// already in mixed case is left as written.
fn spoken_city(city: &str) -> String {
    if city.chars().any(char::is_lowercase) {
        return city.to_string();
    }
    city.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLER: &str = "+13125550123";

    #[test]
    fn the_city_is_said_when_twilio_knows_it_else_the_last_four_digits() {
        assert_eq!(
            caller_hint(CALLER, Some("CHICAGO"), WhisperCaller::City),
            Some(CallerHint::City("Chicago".into()))
        );
        for unknown in [None, Some(""), Some("  ")] {
            assert_eq!(
                caller_hint(CALLER, unknown, WhisperCaller::City),
                Some(CallerHint::LastDigits("0123".into())),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn last_digits_never_says_the_city_and_none_says_nothing() {
        assert_eq!(
            caller_hint(CALLER, Some("CHICAGO"), WhisperCaller::LastDigits),
            Some(CallerHint::LastDigits("0123".into()))
        );
        assert_eq!(
            caller_hint(CALLER, Some("CHICAGO"), WhisperCaller::Nothing),
            None
        );
    }

    #[test]
    fn a_withheld_number_has_no_digits_to_say() {
        for caller in ["anonymous", "", "+1234"] {
            assert_eq!(
                caller_hint(caller, None, WhisperCaller::City),
                None,
                "{caller}"
            );
        }
        assert_eq!(
            caller_hint("anonymous", Some("MIAMI"), WhisperCaller::City),
            Some(CallerHint::City("Miami".into()))
        );
    }

    #[test]
    fn cities_in_capitals_are_said_as_written_by_people() {
        assert_eq!(spoken_city("SAN FRANCISCO"), "San Francisco");
        assert_eq!(spoken_city("ST. LOUIS"), "St. Louis");
        assert_eq!(spoken_city("McAllen"), "McAllen");
    }
}
