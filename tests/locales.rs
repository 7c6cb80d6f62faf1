//! Every message of every shipped language renders, fits in two SMS segments with
//! realistic arguments, and carries no invisible characters.

use shiftline::config::Settings;
use shiftline::core::domain::Locale;
use shiftline::core::domain::sms::segments;
use shiftline::core::intake::reply::{Arg, Reply};
use shiftline::i18n::Messages;

const ROSTER: &str = include_str!("fixtures/roster.toml");

fn leak(id: &str) -> &'static str {
    Box::leak(id.to_string().into_boxed_str())
}

/// A reply for `id` with every argument a message may take, at a realistic worst case:
/// a long name, every skill, the longest quoted text the core echoes back.
fn with_all_args(id: &str) -> Reply {
    let settings = Settings::parse(ROSTER, |_| None).unwrap();
    let all = settings
        .catalog
        .skills()
        .iter()
        .map(|s| s.key.clone())
        .collect();
    Reply::new(leak(id))
        .text("name", "Maria Guadalupe Lopez")
        .text("text", "I wanted to let you know...")
        .text("number", "99")
        .arg("count", Arg::Number(3))
        .arg("skills", Arg::Skills(all))
        .arg("menu", Arg::Menu)
        .text("skill", "Billing")
        .text("digit", "3")
        .text("schedule", "Mon, Wed, Fri 8:30-12:00, 13:00-17:30; Sat 22:00-6:00")
        .text("zone", "Mexico City")
        .text("next", "offline Wed 17:30")
        .text("until", "Wed 18:30")
        .text("error", "Mon 9:00-12:00 overlaps Mon 11:00-13:00")
        .text("caller", "+15559990000")
        .text("key", "1")
        .text("time", "14:05")
        .text("date", "03/02")
        .text("asked", "yesterday at 21:01")
        .arg("attempts", Arg::Number(2))
        .text(
            "words",
            // A transcription as the voicemail text shortens it (WORDS_IN_TEXT characters).
            "Hi, this is Maria Guadalupe, I was charged twice for the same order this month and nobody answered the...",
        )
        .text("city", "San Francisco")
        .text("digits", "1 2 3 4")
        .arg("position", Arg::Number(12))
        .arg("seconds", Arg::Number(125))
        .arg("command", Arg::Command("command-schedule"))
        .arg("commands", Arg::Commands(vec!["command-skills", "command-schedule", "command-status"]))
        .text(
            "url",
            "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/RE00000000000000000000000000000001",
        )
}

#[test]
fn every_message_fits_in_two_segments_in_every_language() {
    let settings = Settings::parse(ROSTER, |_| None).unwrap();
    let messages = Messages::load().unwrap();
    for locale in Locale::ALL {
        let ids = messages.ids(locale);
        assert!(
            ids.len() > 30,
            "{locale}: only {} messages found",
            ids.len()
        );
        for id in ids {
            let text = messages.render(locale, &with_all_args(&id), &settings.catalog);
            assert_ne!(text, id, "{locale}/{id} did not render");
            assert!(
                !text.contains('{'),
                "{locale}/{id} left a placeable: {text}"
            );
            if !Messages::spoken_only(&id) {
                assert!(
                    segments(&text) <= 2,
                    "{locale}/{id} needs {} segments: {text}",
                    segments(&text)
                );
            }
            let spoken = messages.render_voice(locale, &with_all_args(&id), &settings.catalog);
            // Texts about calls are only ever sent as SMS; everything else may be spoken.
            let sms_only = matches!(
                id.as_str(),
                "missed-calls-offline"
                    | "voicemail-notify"
                    | "voicemail-notify-words"
                    | "callback-abandoned"
                    | "operator-offline"
            ) || id.starts_with("shift-")
                || id.starts_with("hold-over");
            let says_text = ["Text ", "Reply ", "Envía ", "Responde "]
                .iter()
                .any(|w| spoken.contains(w));
            assert!(
                !spoken.contains('{') && (sms_only || !says_text),
                "{locale}/{id} spoken: {spoken}"
            );
            let invisible = text
                .chars()
                .find(|c| matches!(c, '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}'));
            assert_eq!(invisible, None, "{locale}/{id} has an invisible character");
            assert!(
                !text.contains(['\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}']),
                "{locale}/{id} has curly quotes"
            );
        }
    }
}

#[test]
fn every_language_has_the_same_messages() {
    let messages = Messages::load().unwrap();
    let mut english = messages.ids(Locale::En);
    english.sort();
    for locale in Locale::ALL {
        let mut ids = messages.ids(locale);
        ids.sort();
        assert_eq!(ids, english, "{locale} differs from en");
    }
}

#[test]
fn english_replies_stay_in_one_gsm7_segment() {
    let settings = Settings::parse(ROSTER, |_| None).unwrap();
    let messages = Messages::load().unwrap();
    for id in messages
        .ids(Locale::En)
        .into_iter()
        .filter(|id| !Messages::spoken_only(id))
    {
        let text = messages.render(Locale::En, &with_all_args(&id), &settings.catalog);
        assert_eq!(
            shiftline::core::domain::sms::encoding(&text),
            shiftline::core::domain::sms::Encoding::Gsm7,
            "en/{id} is not GSM-7: {text}"
        );
    }
}
