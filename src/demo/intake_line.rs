//! The intake phone line in the demo: a worker dials it, presses keys and says words, and
//! the transcript shows what they hear, as Twilio would drive the call (each answer a
//! signed webhook to the prompt's action, the TwiML answer read for what is spoken).

use crate::core::domain::PhoneNumber;

/// What a caller takes from one TwiML answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Heard {
    /// Everything `<Say>`s, in order (inside a `<Gather>` too).
    pub said: Vec<String>,
    /// Where the next key press or words go: the `<Gather>`'s action, as a path.
    pub action: Option<String>,
    pub hangs_up: bool,
}

/// Reads a TwiML answer as the caller experiences it. `public_url` is cut from the front
/// of the action so that it can be posted to any address of the service.
pub fn hear(twiml: &str, public_url: &str) -> Result<Heard, String> {
    let doc = roxmltree::Document::parse(twiml).map_err(|e| format!("not TwiML ({e})"))?;
    let said = doc
        .descendants()
        .filter(|n| n.has_tag_name("Say"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect();
    let action = doc
        .descendants()
        .find(|n| n.has_tag_name("Gather"))
        .and_then(|g| g.attribute("action"))
        .map(|a| a.trim_start_matches(public_url).to_string());
    let hangs_up = doc.descendants().any(|n| n.has_tag_name("Hangup"));
    Ok(Heard {
        said,
        action,
        hangs_up,
    })
}

/// A worker's call to the intake line, between demo commands.
pub struct IntakeCall {
    pub name: String,
    pub from: PhoneNumber,
    pub call_sid: String,
    /// Where the line's last prompt posts; None once it hung up.
    pub action: Option<String>,
}

/// What the caller does at a prompt.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Press(String),
    Say(String),
}

impl IntakeCall {
    /// The webhook's parameters for the next request: the call's, and the input's.
    pub fn params(&self, to: &str, input: Option<&Input>) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = [
            ("CallSid", self.call_sid.as_str()),
            ("AccountSid", crate::app::SIMULATOR_ACCOUNT),
            ("From", self.from.as_str()),
            ("To", to),
            ("CallStatus", "in-progress"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        match input {
            Some(Input::Press(keys)) => params.push(("Digits".into(), keys.clone())),
            Some(Input::Say(words)) => {
                params.push(("SpeechResult".into(), words.clone()));
                // What Twilio reports for clear speech; shiftline ignores low confidence.
                params.push(("Confidence".into(), "0.9".into()));
            }
            None => {}
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hears_the_prompt_and_where_it_posts() {
        let twiml = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hi Ana.</Say><Gather input="dtmf speech" action="https://x.example/twilio/voice/intake/menu?n=1"><Say>Press 1.</Say></Gather><Redirect>/twilio/voice/intake</Redirect></Response>"#;
        let heard = hear(twiml, "https://x.example").unwrap();
        assert_eq!(heard.said, ["Hi Ana.", "Press 1."]);
        assert_eq!(
            heard.action.as_deref(),
            Some("/twilio/voice/intake/menu?n=1")
        );
        assert!(!heard.hangs_up);
        let bye = hear("<Response><Say>Bye.</Say><Hangup/></Response>", "").unwrap();
        assert!(bye.hangs_up && bye.action.is_none());
        assert!(hear("on", "").is_err());
    }
}
