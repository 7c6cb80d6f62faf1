//! Phone numbers are masked in the simulator's own logs (`+15550001111` ->
//! `+1******1111`), in free text and URL-encoded in query strings (`%2B1555...`), so a
//! log line about a callback never carries a caller's number.

/// `text` with every number after `+` or `%2B` of 8 digits or more masked: its first digit
/// and its last four stay.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['+', '%']) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let sign = ["+", "%2B", "%2b"]
            .into_iter()
            .find(|s| from.starts_with(s))
            .unwrap_or(&from[..1]);
        let after = &from[sign.len()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        out.push_str(sign);
        if sign != "%" && digits >= 8 {
            out.push_str(&after[..1]);
            out.push_str(&"*".repeat(digits - 5));
            out.push_str(&after[digits - 4..digits]);
        } else {
            out.push_str(&after[..digits]);
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn numbers_keep_their_first_digit_and_last_four() {
        assert_eq!(
            redact("call +15550001111 -> +15559990000"),
            "call +1******1111 -> +1******0000"
        );
        assert_eq!(
            redact("http://x/recorded?caller=%2B15559990000&n=%2b4479460000"),
            "http://x/recorded?caller=%2B1******0000&n=%2b4*****0000"
        );
    }

    #[test]
    fn everything_else_is_left_as_it_is() {
        for text in [
            "reject WR1, 100% +1234 a+b %41 %",
            "",
            "+",
            "%2B",
            "ümlaut +",
        ] {
            assert_eq!(redact(text), text);
        }
    }
}
