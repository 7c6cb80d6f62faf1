//! Domain newtypes, parsed once at the edge so the core never handles raw strings.

pub mod catalog;
pub mod sid;
pub mod sms;

pub use sid::{CallSid, ReservationSid, TaskSid, WorkerSid, is_sid};

use std::fmt;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A phone number in E.164 form: `+`, a country code, at most 15 digits in all.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts E.164 only (`+15550001111`). Twilio sends E.164 for real numbers and strings
    /// such as `anonymous` otherwise; those are not phone numbers and are refused here.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let digits = raw.strip_prefix('+').unwrap_or("");
        let ok = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(format!(
                "{raw:?} is not an E.164 phone number like +15550001111"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the country code's first digit and the last four hidden,
    /// for logs (`+1******1111`).
    pub fn masked(&self) -> String {
        let s = &self.0;
        let tail = &s[s.len() - 4..];
        format!("{}{}{}", &s[..2], "*".repeat(s.len() - 6), tail)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `text` with every E.164-looking number masked like `PhoneNumber::masked`, for log lines
/// that carry free text (a command's description, Twilio's error message).
pub fn redact(text: &str) -> String {
    static NUMBER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(\+|%2B)([1-9]\d{7,14})").expect("a valid pattern")
    });
    // Numbers also travel URL-encoded in query strings (`caller=%2B1555...`).
    NUMBER
        .replace_all(text, |caps: &regex::Captures| {
            match PhoneNumber::parse(&format!("+{}", &caps[2])) {
                Ok(p) => format!("{}{}", &caps[1], &p.masked()[1..]),
                Err(_) => caps[0].to_string(),
            }
        })
        .into_owned()
}

/// A skill's stable key (`billing`), used in TaskRouter attributes and expressions, so it is
/// limited to lowercase letters, digits and `_` (TaskRouter expressions do not allow `-`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SkillKey(String);

impl SkillKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = !raw.is_empty()
            && raw.len() <= 32
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(format!(
                "{raw:?} is not a skill key: use lowercase letters, digits and _ (like \"billing\")"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SkillKey {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<SkillKey> for String {
    fn from(k: SkillKey) -> String {
        k.0
    }
}

impl fmt::Display for SkillKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A language shiftline ships messages for. Adding one means a `locales/<code>.ftl` file,
/// a variant here, and its words in `intake::keywords`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    En,
    Es,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Es];

    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Es => "es",
        }
    }

    /// The language code `<Say>` and `<Gather>` take.
    pub fn voice_language(self) -> &'static str {
        match self {
            Locale::En => "en-US",
            Locale::Es => "es-MX",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|l| l.code()).collect();
                format!(
                    "{code:?} is not a shipped language (one of {})",
                    known.join(", ")
                )
            })
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_parse_and_others_do_not() {
        assert!(PhoneNumber::parse("+15550001111").is_ok());
        for bad in [
            "15550001111",
            "+1555",
            "anonymous",
            "+1555000111a",
            "",
            "+0123456789",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn masked_numbers_keep_country_code_and_last_four() {
        let p = PhoneNumber::parse("+15550001111").unwrap();
        assert_eq!(p.masked(), "+1******1111");
    }

    #[test]
    fn redact_masks_every_number_in_free_text() {
        assert_eq!(
            redact("text +15550001111: \"New voicemail from +15559990000\""),
            "text +1******1111: \"New voicemail from +1******0000\""
        );
        assert_eq!(
            redact("reject WR123, worker Unavailable"),
            "reject WR123, worker Unavailable"
        );
        assert_eq!(
            redact("/recorded?caller=%2B15559990000&x=1"),
            "/recorded?caller=%2B1******0000&x=1"
        );
    }

    #[test]
    fn skill_keys_must_be_expression_safe() {
        assert!(SkillKey::parse("billing").is_ok());
        assert!(SkillKey::parse("tier_2").is_ok());
        assert!(SkillKey::parse("tier-2").is_err());
        assert!(SkillKey::parse("Billing").is_err());
    }
}

/// How shiftline makes sure a person, not a voicemail box, took the call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfirmMode {
    /// Answering machine detection only: a human is bridged after a short whisper.
    #[serde(rename = "amd")]
    Amd,
    /// The worker must press 1; voicemail boxes cannot.
    #[serde(rename = "press1")]
    Press1,
    /// Asynchronous AMD while the worker is asked to press 1: whichever says "machine" first wins.
    #[default]
    #[serde(rename = "amd+press1")]
    AmdPress1,
}

impl ConfirmMode {
    /// As the configuration names it (`dispatch.confirm`).
    pub const fn name(self) -> &'static str {
        match self {
            ConfirmMode::Amd => "amd",
            ConfirmMode::Press1 => "press1",
            ConfirmMode::AmdPress1 => "amd+press1",
        }
    }
}

/// Self-registration by SMS or phone with the business's PIN (`JOIN 1234 Ana`): the
/// language and zone a newly registered worker starts with.
#[derive(Clone, Debug)]
pub struct Enrolment {
    pub pin: String,
    pub language: Locale,
    pub time_zone: Tz,
}
