//! Scripted phones: what the person or machine on a number does when a call reaches it
//! (or, for a caller, how they behave once their call is answered by shiftline's TwiML).
//!
//! Each number has a list of [`Answer`]s used one per call, in order; the last one
//! repeats. A number with no script never answers (`NoAnswer`); a caller with no script
//! is a person who presses nothing. For a caller (`Simulator::place_call`) only the
//! digits and talk time of a `Human` (or `QuietHuman`) matter: shiftline answers at once,
//! so `after_secs` is not used, and any other answer behaves as a person who presses nothing.

use std::collections::{BTreeMap, VecDeque};

/// How long a plain `human` lets the phone ring, in seconds.
const HUMAN_AFTER: u32 = 3;
/// `slow`: longer than a quick pick-up, still inside a 20 s ring timeout.
const SLOW_AFTER: u32 = 15;
/// `slow-human`: slower than shiftline's 20 s ring timeout.
const SLOW_HUMAN_AFTER: u32 = 30;
/// How long a person talks once bridged, and at most what they leave on a `<Record>`.
const TALK: u32 = 60;
/// When a voicemail box picks up: inside a 20 s ring timeout, so AMD has work to do.
const VOICEMAIL_AFTER: u32 = 10;
const FAX_AFTER: u32 = 3;

/// How a phone answers a call (what the scripted person or machine on that number does).
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A person answers after `after_secs` of ringing, presses `digits` at the
    /// `<Gather>`s they reach (None: says nothing; `2/1`: 2 at the first, 1 at the second,
    /// see [`Answer::parse`]), and talks for `talk_secs` once bridged.
    Human {
        after_secs: u32,
        digits: Option<String>,
        talk_secs: u32,
    },
    /// A voicemail box answers after `after_secs`: AMD says `machine_start`
    /// (`MachineDetection=Enable`) or `machine_end_beep` (`DetectMessageEnd`); never
    /// presses keys.
    Voicemail {
        after_secs: u32,
    },
    /// A person who picks up and says nothing at first: AMD's silence timeout ends in
    /// `unknown`. Otherwise a `Human` (presses `digits`, talks `talk_secs`).
    QuietHuman {
        after_secs: u32,
        digits: Option<String>,
        talk_secs: u32,
    },
    /// A voicemail box whose greeting is too short for AMD to call it a machine: AMD says
    /// `unknown` (either detection mode). Never presses keys.
    ShortGreeting {
        after_secs: u32,
    },
    Busy,
    NoAnswer,
    Fail,
    Fax {
        after_secs: u32,
    },
}

impl Answer {
    /// Reads one answer as dialogue files write it. The grammar (keywords lower case,
    /// fields separated by `:`, surrounding spaces ignored):
    ///
    /// ```text
    /// answer    = human | slow-human | quiet-human | voicemail | short-greeting | fax
    ///           | "busy" | "no-answer" | "fail"
    /// human     = "human" [ ":" digits [ ":" ring [ ":" talk ] ] ]
    /// quiet-human = "quiet-human" [ ":" digits [ ":" ring [ ":" talk ] ] ]   AMD: unknown
    /// slow-human= "slow-human" [ ":" digits [ ":" talk ] ]
    /// voicemail = "voicemail" [ ":" seconds ]         ring seconds, default 10
    /// short-greeting = "short-greeting" [ ":" seconds ]   ring seconds, default 10; AMD: unknown
    /// fax       = "fax" [ ":" seconds ]               ring seconds, default 3
    /// digits    = group { "/" group }                 one group per Gather reached
    /// group     = { "0".."9" | "*" | "#" }             empty: lets that Gather time out
    /// ring      = "slow" | seconds                    default 3; slow = 15
    /// talk      = seconds                             default 60
    /// ```
    ///
    /// So `human` answers after 3 s, presses nothing and talks 60 s; `human:1` presses 1;
    /// `human:1:slow` answers after 15 s; `human::slow` is slow and silent;
    /// `human:1:5:30` answers after 5 s and talks 30 s; `slow-human:1` answers after 30 s
    /// (slower than a 20 s ring timeout). `failed` and `noanswer` are accepted for
    /// `fail` and `no-answer`.
    ///
    /// Digits in groups: the n-th group is pressed at the n-th `<Gather>` the person
    /// reaches (a `waitUrl` Gather counts), and past the last group every Gather times
    /// out. So `human:2/1` presses 2 at the first Gather and 1 at the second, `human:/1`
    /// lets the first time out and presses 1 at the second, and a single group (`human:1`)
    /// is pressed at the first Gather only.
    pub fn parse(text: &str) -> Result<Answer, String> {
        let text = text.trim();
        let mut fields = text.split(':');
        let keyword = fields.next().unwrap_or_default();
        let rest: Vec<&str> = fields.collect();
        let refuse = |why: &str| Err(format!("{text:?} is not a phone answer: {why}"));
        let seconds = |raw: &str| -> Result<u32, String> {
            raw.parse::<u32>()
                .ok()
                .filter(|n| *n <= 3600)
                .ok_or_else(|| format!("{text:?}: {raw:?} is not a number of seconds (0-3600)"))
        };
        let digits = |raw: &str| -> Result<Option<String>, String> {
            if raw.is_empty() {
                Ok(None)
            } else if raw
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | '/'))
            {
                Ok(Some(raw.to_string()))
            } else {
                Err(format!("{text:?}: {raw:?} are not keypad digits"))
            }
        };
        match keyword {
            "human" | "slow-human" | "quiet-human" => {
                let slow = keyword == "slow-human";
                let max = if slow { 2 } else { 3 };
                if rest.len() > max {
                    return refuse("too many fields");
                }
                let digits = digits(rest.first().copied().unwrap_or_default())?;
                let (after_secs, talk) = if slow {
                    (SLOW_HUMAN_AFTER, rest.get(1))
                } else {
                    let after = match rest.get(1).copied() {
                        None | Some("") => HUMAN_AFTER,
                        Some("slow") => SLOW_AFTER,
                        Some(raw) => seconds(raw)?,
                    };
                    (after, rest.get(2))
                };
                let talk_secs = match talk.copied() {
                    None | Some("") => TALK,
                    Some(raw) => seconds(raw)?,
                };
                Ok(if keyword == "quiet-human" {
                    Answer::QuietHuman {
                        after_secs,
                        digits,
                        talk_secs,
                    }
                } else {
                    Answer::Human {
                        after_secs,
                        digits,
                        talk_secs,
                    }
                })
            }
            "voicemail" | "short-greeting" | "fax" => {
                let after_secs = match rest.as_slice() {
                    [] | [""] if keyword == "fax" => FAX_AFTER,
                    [] | [""] => VOICEMAIL_AFTER,
                    [raw] => seconds(raw)?,
                    _ => return refuse("too many fields"),
                };
                Ok(match keyword {
                    "fax" => Answer::Fax { after_secs },
                    "short-greeting" => Answer::ShortGreeting { after_secs },
                    _ => Answer::Voicemail { after_secs },
                })
            }
            "busy" | "no-answer" | "noanswer" | "fail" | "failed" if rest.is_empty() => {
                Ok(match keyword {
                    "busy" => Answer::Busy,
                    "fail" | "failed" => Answer::Fail,
                    _ => Answer::NoAnswer,
                })
            }
            "busy" | "no-answer" | "noanswer" | "fail" | "failed" => refuse("takes no fields"),
            _ => refuse(
                "expected human, slow-human, quiet-human, voicemail, short-greeting, fax, busy, no-answer or fail",
            ),
        }
    }

    /// Reads a script: answers separated by commas, as dialogue files write them
    /// (`"human:1, busy"`), each read by [`Answer::parse`]. An empty (or blank) text is
    /// the empty script, which clears a number's script.
    pub fn parse_list(text: &str) -> Result<Vec<Answer>, String> {
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        text.split(',').map(Answer::parse).collect()
    }

    /// The person who calls in when a number has no script: answers at once (the
    /// simulator does not wait on a caller), presses nothing, talks a minute.
    pub(crate) fn default_caller() -> Answer {
        Answer::Human {
            after_secs: 0,
            digits: None,
            talk_secs: TALK,
        }
    }

    /// What `answered by …` says in the call log.
    pub(crate) fn who(&self) -> &'static str {
        match self {
            Answer::Human { .. } | Answer::QuietHuman { .. } => "human",
            Answer::Voicemail { .. } | Answer::ShortGreeting { .. } => "voicemail",
            Answer::Fax { .. } => "fax",
            Answer::Busy => "busy",
            Answer::NoAnswer => "nobody",
            Answer::Fail => "nobody",
        }
    }

    /// The keys pressed at the `gather`-th `<Gather>` reached (0 = the first): that
    /// digits group, `None` when it is empty or there is none (the Gather times out).
    pub(crate) fn digits_at(&self, gather: usize) -> Option<String> {
        match self {
            Answer::Human {
                digits: Some(digits),
                ..
            }
            | Answer::QuietHuman {
                digits: Some(digits),
                ..
            } => digits
                .split('/')
                .nth(gather)
                .filter(|group| !group.is_empty())
                .map(str::to_string),
            _ => None,
        }
    }

    /// Seconds of talk once bridged, or left on a `<Record>`.
    pub(crate) fn talk_secs(&self) -> Option<u32> {
        match self {
            Answer::Human { talk_secs, .. } | Answer::QuietHuman { talk_secs, .. } => {
                Some(*talk_secs)
            }
            _ => None,
        }
    }
}

/// The text [`Answer::parse`] reads back to the same answer, with every field spelled
/// out: `human:1:3:60`, `human::15:60`, `quiet-human:1:3:60`, `voicemail:10`,
/// `short-greeting:10`, `fax:3`, `busy`, `no-answer`, `fail`. (Seconds past 3600, which `parse` refuses, are written all the same.)
impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Human {
                after_secs,
                digits,
                talk_secs,
            } => {
                let digits = digits.as_deref().unwrap_or_default();
                write!(f, "human:{digits}:{after_secs}:{talk_secs}")
            }
            Answer::QuietHuman {
                after_secs,
                digits,
                talk_secs,
            } => {
                let digits = digits.as_deref().unwrap_or_default();
                write!(f, "quiet-human:{digits}:{after_secs}:{talk_secs}")
            }
            Answer::Voicemail { after_secs } => write!(f, "voicemail:{after_secs}"),
            Answer::ShortGreeting { after_secs } => write!(f, "short-greeting:{after_secs}"),
            Answer::Fax { after_secs } => write!(f, "fax:{after_secs}"),
            Answer::Busy => f.write_str("busy"),
            Answer::NoAnswer => f.write_str("no-answer"),
            Answer::Fail => f.write_str("fail"),
        }
    }
}

impl std::str::FromStr for Answer {
    type Err = String;

    fn from_str(text: &str) -> Result<Answer, String> {
        Answer::parse(text)
    }
}

/// As its text (`"human:1:3:60"`), the syntax of [`Answer::parse`].
impl serde::Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// From the text [`Answer::parse`] reads.
impl<'de> serde::Deserialize<'de> for Answer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Answer, D::Error> {
        let text = String::deserialize(deserializer)?;
        Answer::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The scripts, by number, and what the person on each number says when recorded.
#[derive(Default)]
pub(crate) struct Phones {
    scripts: BTreeMap<String, VecDeque<Answer>>,
    says: BTreeMap<String, String>,
}

impl Phones {
    /// What the person on `number` says on a `<Record>` (its transcription); an empty
    /// (or blank) text forgets it. Kept apart from the answers, which it outlives.
    pub fn say(&mut self, number: &str, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            self.says.remove(number);
        } else {
            self.says.insert(number.to_string(), text.to_string());
        }
    }

    pub fn says(&self, number: &str) -> Option<&str> {
        self.says.get(number).map(String::as_str)
    }

    pub fn script(&mut self, number: &str, answers: Vec<Answer>) {
        if answers.is_empty() {
            self.scripts.remove(number);
        } else {
            self.scripts.insert(number.to_string(), answers.into());
        }
    }

    /// The answer for the next call to (or from) `number`: the script's next entry, the
    /// last one repeating; `None` when the number has no script.
    pub fn next(&mut self, number: &str) -> Option<Answer> {
        let script = self.scripts.get_mut(number)?;
        if script.len() > 1 {
            script.pop_front()
        } else {
            script.front().cloned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn human(after_secs: u32, digits: Option<&str>, talk_secs: u32) -> Answer {
        Answer::Human {
            after_secs,
            digits: digits.map(str::to_string),
            talk_secs,
        }
    }

    #[test]
    fn answer_parse_accepts_the_documented_grammar() {
        let cases = [
            ("human", human(3, None, 60)),
            ("human:1", human(3, Some("1"), 60)),
            ("human:9", human(3, Some("9"), 60)),
            ("human:1:slow", human(15, Some("1"), 60)),
            ("human::slow", human(15, None, 60)),
            ("human:12#:5:30", human(5, Some("12#"), 30)),
            ("human:1::20", human(3, Some("1"), 20)),
            ("human:2/1", human(3, Some("2/1"), 60)),
            ("human:/1:slow", human(15, Some("/1"), 60)),
            ("slow-human:1", human(30, Some("1"), 60)),
            ("slow-human", human(30, None, 60)),
            ("slow-human:2:45", human(30, Some("2"), 45)),
            ("  voicemail ", Answer::Voicemail { after_secs: 10 }),
            ("voicemail:25", Answer::Voicemail { after_secs: 25 }),
            ("short-greeting", Answer::ShortGreeting { after_secs: 10 }),
            ("short-greeting:4", Answer::ShortGreeting { after_secs: 4 }),
            (
                "quiet-human:1",
                Answer::QuietHuman {
                    after_secs: 3,
                    digits: Some("1".into()),
                    talk_secs: 60,
                },
            ),
            ("fax", Answer::Fax { after_secs: 3 }),
            ("fax:4", Answer::Fax { after_secs: 4 }),
            ("busy", Answer::Busy),
            ("no-answer", Answer::NoAnswer),
            ("noanswer", Answer::NoAnswer),
            ("fail", Answer::Fail),
            ("failed", Answer::Fail),
        ];
        for (text, expected) in cases {
            assert_eq!(Answer::parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn answer_parse_refuses_garbage() {
        for text in [
            "",
            "Human",
            "person",
            "human:one",
            "human:1:fast",
            "human:1:slow:long",
            "human:1:2:3:4",
            "human:1:-3",
            "human:1:99999",
            "slow-human:1:slow",
            "voicemail:soon",
            "voicemail:1:2",
            "short-greeting:1:2",
            "quiet-human:x",
            "busy:1",
            "no-answer:5",
            "fax:x",
            "human 1",
        ] {
            let refused = Answer::parse(text);
            assert!(refused.is_err(), "{text:?} gave {refused:?}");
        }
    }

    #[test]
    fn an_answer_written_out_reads_back_the_same() {
        let answers = [
            human(3, None, 60),
            human(0, Some("12#*"), 5),
            human(30, Some("1"), 3600),
            Answer::Voicemail { after_secs: 25 },
            Answer::ShortGreeting { after_secs: 10 },
            Answer::QuietHuman {
                after_secs: 15,
                digits: None,
                talk_secs: 60,
            },
            Answer::Fax { after_secs: 3 },
            Answer::Busy,
            Answer::NoAnswer,
            Answer::Fail,
        ];
        for answer in answers {
            let text = answer.to_string();
            assert_eq!(Answer::parse(&text), Ok(answer.clone()), "{text}");
            let json = serde_json::to_string(&answer).unwrap();
            assert_eq!(json, format!("{text:?}"));
            assert_eq!(serde_json::from_str::<Answer>(&json).unwrap(), answer);
        }
        assert_eq!(human(3, Some("1"), 60).to_string(), "human:1:3:60");
        assert!(serde_json::from_str::<Answer>("\"person\"").is_err());
    }

    #[test]
    fn digits_groups_are_pressed_one_per_gather_reached() {
        let groups = |text: &str| -> Vec<Option<String>> {
            let answer = Answer::parse(text).unwrap();
            (0..3).map(|n| answer.digits_at(n)).collect()
        };
        let some = |d: &str| Some(d.to_string());
        assert_eq!(groups("human:1"), [some("1"), None, None], "the first only");
        assert_eq!(groups("human:2/1"), [some("2"), some("1"), None]);
        assert_eq!(groups("human:/1"), [None, some("1"), None]);
        assert_eq!(groups("quiet-human:12#/*"), [some("12#"), some("*"), None]);
        assert_eq!(groups("human"), [None, None, None]);
        assert_eq!(groups("voicemail"), [None, None, None]);
        assert!(Answer::parse("human:1/x").is_err());
        assert_eq!(
            Answer::parse("human:2/1").unwrap().to_string(),
            "human:2/1:3:60"
        );
    }

    #[test]
    fn a_script_reads_as_a_comma_separated_list() {
        assert_eq!(
            Answer::parse_list("human:1, busy ,voicemail"),
            Ok(vec![
                human(3, Some("1"), 60),
                Answer::Busy,
                Answer::Voicemail { after_secs: 10 }
            ])
        );
        assert_eq!(Answer::parse_list("  "), Ok(Vec::new()));
        assert!(Answer::parse_list("human:1,,busy").is_err());
        assert!(Answer::parse_list("human:1, person").is_err());
    }

    #[test]
    fn a_script_is_used_in_order_and_its_last_answer_repeats() {
        let mut phones = Phones::default();
        phones.script("+1", vec![Answer::Busy, Answer::NoAnswer]);
        assert_eq!(phones.next("+1"), Some(Answer::Busy));
        assert_eq!(phones.next("+1"), Some(Answer::NoAnswer));
        assert_eq!(phones.next("+1"), Some(Answer::NoAnswer));
        assert_eq!(phones.next("+2"), None);
    }
}
