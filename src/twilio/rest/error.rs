//! What went wrong talking to Twilio, and whether trying again can help (REFERENCE 9).
//!
//! Twilio answers errors with `{"code", "message", "more_info", "status"}`; newer services
//! use RFC 9457 (`type title status code detail`). Both are read here, and a body that is
//! not JSON at all (a proxy's HTML page) still yields an error carrying its first 200
//! characters, so the cause is never lost.

use serde_json::Value;

/// A failed Twilio REST call.
///
/// `status` is the HTTP status when Twilio (or something in between) answered; `None`
/// means the request never got an answer (connection refused, timeout, TLS failure).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct TwilioError {
    /// What kind of failure this is; decides [`TwilioError::is_permanent`].
    pub kind: ErrorKind,
    /// HTTP status of Twilio's answer, if there was one.
    pub status: Option<u16>,
    /// Twilio's error code (`20003`, `21211`, ...), if the body carried one.
    pub code: Option<i64>,
    /// Twilio's message, the transport error, or the start of an unreadable body.
    pub message: String,
    /// Twilio's documentation link for `code` (RFC 9457 `type`).
    pub more_info: Option<String>,
    /// Extra detail from the body (`details`, or RFC 9457 extension members such as a
    /// validator's `validation` list), as compact JSON.
    pub details: Option<String>,
    /// How long Twilio asked us to wait before trying again (`Retry-After` on a 429 or a
    /// 503), if it said.
    pub retry_after: Option<std::time::Duration>,
}

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No answer: connection, TLS or timeout. Transient.
    Transport,
    /// Twilio answered with a non-2xx status.
    Status,
    /// Twilio answered 2xx but the body is not the resource we asked for. Retrying
    /// would repeat a request that probably succeeded, so this counts as permanent.
    Decode,
    /// The request could not be built (a base URL that does not parse). Permanent.
    Request,
    /// A caller-declared condition expected to clear by itself (see
    /// [`TwilioError::transient`]).
    Transient,
}

/// How much of a non-JSON body an error keeps.
const BODY_EXCERPT_CHARS: usize = 200;
/// How much of `details` an error keeps, so one odd answer cannot flood the logs.
const DETAILS_CHARS: usize = 500;

impl TwilioError {
    /// Twilio asked the whole account to slow down (HTTP 429, error 20429).
    pub fn is_throttled(&self) -> bool {
        self.kind == ErrorKind::Status && self.status == Some(429)
    }

    /// Whether trying the same request again is pointless: a 4xx other than 429 (the
    /// request itself is wrong, or forbidden), an unreadable success, or a bad base URL.
    /// Network failures, timeouts, 429 and 5xx are transient.
    pub fn is_permanent(&self) -> bool {
        match self.kind {
            ErrorKind::Transport | ErrorKind::Transient => false,
            ErrorKind::Status => match self.status {
                Some(429) => false,
                Some(s) => (400..500).contains(&s),
                None => false,
            },
            ErrorKind::Decode | ErrorKind::Request => true,
        }
    }

    /// An answer that makes no sense to the caller although Twilio accepted the request
    /// (e.g. a created resource without a sid). Permanent: repeating would not help.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::bare(ErrorKind::Decode, None, message.into())
    }

    /// A failure the caller expects to clear if the work is tried again later (e.g. an
    /// activity that `shiftline twilio setup` has not created yet). Not permanent.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::bare(ErrorKind::Transient, None, message.into())
    }

    /// A transport failure (no HTTP answer).
    pub(crate) fn transport(err: &reqwest::Error) -> Self {
        let what = if err.is_timeout() {
            "timed out"
        } else if err.is_connect() {
            "could not connect"
        } else {
            "transport error"
        };
        Self::bare(
            ErrorKind::Transport,
            None,
            format!("{what}: {}", chain(err)),
        )
    }

    /// A request we could not even build.
    pub(crate) fn request(message: impl Into<String>) -> Self {
        Self::bare(ErrorKind::Request, None, message.into())
    }

    /// A 2xx answer whose body did not parse as the expected resource.
    pub(crate) fn decode(status: u16, reason: &dyn std::fmt::Display, body: &str) -> Self {
        Self::bare(
            ErrorKind::Decode,
            Some(status),
            format!(
                "unexpected response body ({reason}): {}",
                excerpt(body, BODY_EXCERPT_CHARS)
            ),
        )
    }

    /// The error for a non-2xx answer, read from Twilio's body in either shape.
    pub(crate) fn from_response(status: u16, body: &str) -> Self {
        let mut error = Self::bare(ErrorKind::Status, Some(status), String::new());
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body) else {
            error.message = if body.trim().is_empty() {
                format!("HTTP {status} with an empty body")
            } else {
                excerpt(body, BODY_EXCERPT_CHARS)
            };
            return error;
        };
        let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_string);
        error.code = map.get("code").and_then(as_i64);
        // Legacy bodies have `message`; RFC 9457 has `detail` (specific) and `title`
        // (generic), so prefer the specific one.
        error.message = text("message")
            .or_else(|| text("detail"))
            .or_else(|| text("title"))
            .unwrap_or_else(|| excerpt(body, BODY_EXCERPT_CHARS));
        error.more_info = text("more_info")
            .or_else(|| text("type"))
            .filter(|s| !s.is_empty());
        const KNOWN: [&str; 8] = [
            "code",
            "message",
            "more_info",
            "status",
            "type",
            "title",
            "detail",
            "instance",
        ];
        let extra: serde_json::Map<String, Value> = map
            .iter()
            .filter(|(k, v)| !KNOWN.contains(&k.as_str()) && !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !extra.is_empty() {
            error.details = Some(excerpt(&Value::Object(extra).to_string(), DETAILS_CHARS));
        }
        error
    }

    fn bare(kind: ErrorKind, status: Option<u16>, message: String) -> Self {
        Self {
            kind,
            status,
            code: None,
            message,
            more_info: None,
            details: None,
            retry_after: None,
        }
    }

    fn describe(&self) -> String {
        let mut out = String::from("Twilio");
        if let Some(status) = self.status {
            out.push_str(&format!(" HTTP {status}"));
        }
        if let Some(code) = self.code {
            out.push_str(&format!(" code {code}"));
        }
        out.push_str(": ");
        out.push_str(&self.message);
        if let Some(more_info) = &self.more_info {
            out.push_str(&format!(" (see {more_info})"));
        }
        if let Some(details) = &self.details {
            out.push_str(&format!(" details: {details}"));
        }
        out
    }
}

/// Twilio sends `code` as a number; tolerate a numeric string too.
fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// The first `max` characters (not bytes, so a multi-byte character is never split).
fn excerpt(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// reqwest's Display shows only the outermost error ("error sending request"); the cause
/// (connection refused, DNS, TLS) is in the source chain.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_twilio_body_gives_code_message_and_more_info() {
        let e = TwilioError::from_response(
            404,
            r#"{"code": 20404, "message": "The requested resource was not found",
                "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}"#,
        );
        assert_eq!(e.status, Some(404));
        assert_eq!(e.code, Some(20404));
        assert_eq!(e.message, "The requested resource was not found");
        assert_eq!(
            e.more_info.as_deref(),
            Some("https://www.twilio.com/docs/errors/20404")
        );
        assert!(e.is_permanent());
        let shown = e.to_string();
        for part in ["404", "20404", "not found", "docs/errors/20404"] {
            assert!(shown.contains(part), "{shown}");
        }
    }

    #[test]
    fn an_rfc_9457_body_uses_detail_and_type() {
        let e = TwilioError::from_response(
            422,
            r#"{"type": "https://example.com/probs/invalid", "title": "Invalid request",
                "status": 422, "code": 21211, "detail": "To is not a valid number",
                "validation": [{"message": "bad To"}]}"#,
        );
        assert_eq!(e.code, Some(21211));
        assert_eq!(e.message, "To is not a valid number");
        assert_eq!(
            e.more_info.as_deref(),
            Some("https://example.com/probs/invalid")
        );
        assert!(e.details.as_deref().is_some_and(|d| d.contains("bad To")));
    }

    #[test]
    fn a_non_json_body_keeps_its_first_200_characters() {
        let body = format!("<html>{}</html>", "é".repeat(300));
        let e = TwilioError::from_response(502, &body);
        assert_eq!(e.code, None);
        assert_eq!(e.message.chars().count(), 201, "200 chars and an ellipsis");
        assert!(e.message.starts_with("<html>é"));
        assert!(!e.is_permanent());
    }

    #[test]
    fn only_4xx_other_than_429_are_permanent() {
        let status = |s| TwilioError::from_response(s, "");
        assert!(status(400).is_permanent());
        assert!(status(401).is_permanent());
        assert!(status(404).is_permanent());
        assert!(!status(429).is_permanent());
        assert!(!status(500).is_permanent());
        assert!(!status(503).is_permanent());
        assert!(!TwilioError::bare(ErrorKind::Transport, None, "x".into()).is_permanent());
    }
}
