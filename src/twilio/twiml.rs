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
