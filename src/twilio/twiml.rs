//! TwiML replies, written as strings with every text and attribute escaped.

/// `<Response><Message>text</Message></Response>`, or an empty `<Response/>` for no reply.
pub fn message(text: &str) -> String {
    if text.is_empty() {
        return empty();
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>",
        escape(text)
    )
}

pub fn empty() -> String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".to_string()
}

/// XML escaping for text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_is_escaped() {
        let xml = message("Tom & \"Jerry\" <3\u{7}");
        assert!(
            xml.contains("<Message>Tom &amp; &quot;Jerry&quot; &lt;3</Message>"),
            "{xml}"
        );
    }

    #[test]
    fn no_text_means_an_empty_response() {
        assert!(message("").ends_with("<Response/>"));
    }
}

/// A TwiML document built verb by verb; every text and attribute is escaped.
#[derive(Debug, Default)]
pub struct Response {
    body: String,
}

impl Response {
    pub fn new() -> Self {
        Self::default()
    }

    /// `<Say language=..>text</Say>`
    pub fn say(mut self, text: &str, language: &str) -> Self {
        self.body.push_str(&say(text, language));
        self
    }

    pub fn play(mut self, url: &str) -> Self {
        self.body.push_str(&format!("<Play>{}</Play>", escape(url)));
        self
    }

    /// `<Gather input="dtmf" numDigits=.. timeout=.. action=..>` around spoken prompts. With
    /// `action_on_empty`, silence still posts to the action (with empty Digits), so the
    /// caller decides what silence means instead of falling through.
    pub fn gather(
        mut self,
        action: &str,
        num_digits: u32,
        timeout: u32,
        action_on_empty: bool,
        prompts: &[(&str, &str)],
    ) -> Self {
        let inner: String = prompts.iter().map(|(text, lang)| say(text, lang)).collect();
        self.body.push_str(&format!(
            "<Gather input=\"dtmf\" numDigits=\"{num_digits}\" timeout=\"{timeout}\" action=\"{}\" method=\"POST\"{}>{inner}</Gather>",
            escape(action),
            if action_on_empty { " actionOnEmptyResult=\"true\"" } else { "" }
        ));
        self
    }

    /// A `<Gather>` that takes keys or speech; `num_digits` 0 means any number of keys,
    /// ended by `#`. Silence still posts to the action (empty `Digits`), so the caller's
    /// handler decides what silence means.
    pub fn gather_speech(
        mut self,
        action: &str,
        num_digits: u32,
        timeout: u32,
        language: &str,
        hints: &str,
        prompts: &[(&str, &str)],
    ) -> Self {
        let inner: String = prompts.iter().map(|(text, lang)| say(text, lang)).collect();
        let digits = match num_digits {
            0 => " finishOnKey=\"#\"".to_string(),
            n => format!(" numDigits=\"{n}\""),
        };
        self.body.push_str(&format!(
            "<Gather input=\"dtmf speech\"{digits} timeout=\"{timeout}\" speechTimeout=\"auto\" language=\"{}\" hints=\"{}\" action=\"{}\" method=\"POST\" actionOnEmptyResult=\"true\">{inner}</Gather>",
            escape(language),
            escape(hints),
            escape(action)
        ));
        self
    }

    /// A `<Gather>` for a code keyed in and ended with `#` (a PIN).
    pub fn gather_keys(mut self, action: &str, timeout: u32, prompts: &[(&str, &str)]) -> Self {
        let inner: String = prompts.iter().map(|(text, lang)| say(text, lang)).collect();
        self.body.push_str(&format!(
            "<Gather input=\"dtmf\" finishOnKey=\"#\" timeout=\"{timeout}\" action=\"{}\" method=\"POST\" actionOnEmptyResult=\"true\">{inner}</Gather>",
            escape(action)
        ));
        self
    }

    /// `<Enqueue workflowSid=.. waitUrl=.. action=..><Task priority=..>{json}</Task></Enqueue>`:
    /// a TaskRouter task; `action` is requested when the caller leaves the queue.
    pub fn enqueue_task(
        mut self,
        workflow_sid: &str,
        wait_url: &str,
        action: &str,
        priority: u32,
        task: &serde_json::Value,
    ) -> Self {
        self.body.push_str(&format!(
            "<Enqueue workflowSid=\"{}\" waitUrl=\"{}\" waitUrlMethod=\"POST\" action=\"{}\" method=\"POST\"><Task priority=\"{priority}\">{}</Task></Enqueue>",
            escape(workflow_sid),
            escape(wait_url),
            escape(action),
            escape(&task.to_string())
        ));
        self
    }

    /// What a waiting caller hears (the waitUrl document): spoken prompts and hold music,
    /// all inside a one-key `<Gather>` when `action` is given, so a key pressed at any
    /// moment of it is heard.
    pub fn hold(mut self, action: Option<&str>, prompts: &[(&str, &str)], music: &str) -> Self {
        let inner: String = prompts
            .iter()
            .map(|(text, lang)| say(text, lang))
            .chain(std::iter::once(format!("<Play>{}</Play>", escape(music))))
            .collect();
        match action {
            Some(action) => self.body.push_str(&format!(
                "<Gather input=\"dtmf\" numDigits=\"1\" timeout=\"1\" action=\"{}\" method=\"POST\">{inner}</Gather>",
                escape(action)
            )),
            None => self.body.push_str(&inner),
        }
        self
    }

    /// `<Leave/>`: the caller leaves the queue; `<Enqueue>`'s action says what comes next.
    pub fn leave(mut self) -> Self {
        self.body.push_str("<Leave/>");
        self
    }

    /// `<Dial callerId=.. action=.. timeout=..><Number>..</Number></Dial>`: calls a phone
    /// and bridges it; `action` is told how the call went (`DialCallStatus`).
    pub fn dial_number(
        mut self,
        number: &str,
        caller_id: &str,
        action: &str,
        timeout: u32,
    ) -> Self {
        self.body.push_str(&format!(
            "<Dial callerId=\"{}\" action=\"{}\" method=\"POST\" timeout=\"{timeout}\"><Number>{}</Number></Dial>",
            escape(caller_id),
            escape(action),
            escape(number)
        ));
        self
    }

    /// `<Dial><Queue reservationSid=../></Dial>`: bridges the caller TaskRouter reserved.
    pub fn dial_reservation(mut self, reservation_sid: &str) -> Self {
        self.body.push_str(&format!(
            "<Dial><Queue reservationSid=\"{}\"/></Dial>",
            escape(reservation_sid)
        ));
        self
    }

    /// `<Record>` with its status callback, and a transcription posted to `transcribe`
    /// when given.
    pub fn record(
        mut self,
        action: &str,
        max_length: u32,
        status_callback: &str,
        transcribe: Option<&str>,
    ) -> Self {
        let transcription = transcribe.map_or(String::new(), |url| {
            format!(
                " transcribe=\"true\" transcribeCallback=\"{}\"",
                escape(url)
            )
        });
        self.body.push_str(&format!(
            "<Record action=\"{}\" method=\"POST\" maxLength=\"{max_length}\" playBeep=\"true\" recordingStatusCallback=\"{}\" recordingStatusCallbackMethod=\"POST\"{transcription}/>",
            escape(action),
            escape(status_callback)
        ));
        self
    }

    pub fn redirect(mut self, url: &str) -> Self {
        self.body.push_str(&format!(
            "<Redirect method=\"POST\">{}</Redirect>",
            escape(url)
        ));
        self
    }

    pub fn hangup(mut self) -> Self {
        self.body.push_str("<Hangup/>");
        self
    }

    pub fn build(self) -> String {
        if self.body.is_empty() {
            return empty();
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{}</Response>",
            self.body
        )
    }
}

fn say(text: &str, language: &str) -> String {
    format!(
        "<Say language=\"{}\">{}</Say>",
        escape(language),
        escape(text)
    )
}
