//! Twilio's error answer: `{"code", "message", "more_info", "status"}` (the legacy shape
//! both APIs use, REFERENCE 9).

use serde_json::{Value, json};

/// A REST request the simulator refuses, as Twilio would.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: u32,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// A parameter is invalid or the resource is not in a state that allows the change.
    /// TaskRouter answers 20001 for both.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, 20001, message)
    }

    pub fn missing(param: &str) -> Self {
        Self::invalid(format!(
            "Missing required parameter {param} in the post body"
        ))
    }

    pub fn not_found(resource: &str, sid: &str) -> Self {
        Self::new(
            404,
            20404,
            format!("The requested resource {resource} {sid} was not found"),
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(401, 20003, "Authenticate")
    }

    /// What `fail_next` answers with: a 5xx is 20500, 429 is 20429, 400 an invalid
    /// parameter (20001), anything else 20000 + status.
    pub fn injected(status: u16) -> Self {
        let (code, message) = match status {
            500..=599 => (20500, "Internal Server Error"),
            429 => (20429, "Too Many Requests"),
            400 => (20001, "Invalid parameter"),
            401 => (20003, "Authenticate"),
            _ => (20000 + u32::from(status), "Simulated failure"),
        };
        Self::new(status, code, message)
    }

    pub fn body(&self) -> Value {
        json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status,
        })
    }
}
