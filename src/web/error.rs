//! How a request fails. A malformed or unsigned request is the caller's fault and gets a
//! 4xx with a reason; a failure of ours is logged once, with its cause, and gets a 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub enum WebError {
    BadRequest(String),
    Forbidden(String),
    Unauthorized(String),
    NotFound(String),
    /// It existed and is no longer offered (an expired link).
    Gone(String),
    Internal,
}

impl WebError {
    /// Logs `cause` and hides it from the caller.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %crate::core::domain::redact(&cause.to_string()), "request failed");
        WebError::Internal
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, reason) = match self {
            WebError::BadRequest(r) => (StatusCode::BAD_REQUEST, r),
            WebError::Forbidden(r) => (StatusCode::FORBIDDEN, r),
            WebError::Unauthorized(r) => (StatusCode::UNAUTHORIZED, r),
            WebError::NotFound(r) => (StatusCode::NOT_FOUND, r),
            WebError::Gone(r) => (StatusCode::GONE, r),
            WebError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error".to_string(),
            ),
        };
        (status, format!("{reason}\n")).into_response()
    }
}
