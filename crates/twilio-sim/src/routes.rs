//! The HTTP edge: every Twilio request goes through one handler that applies the realism knobs
//! (latency, rate limit, errors, hangs: `realism`), checks Basic auth, applies
//! `fail_next`, dispatches on the path, and records what it answered.
//!
//! Dispatch is a match on path segments rather than an axum route table so that the
//! recording, the auth check and the injected failures see every request the same way,
//! unknown paths included (404, code 20404; a known path with the wrong method is a 404
//! too). Parameters are the query string plus, for a POST, the form body, in order.
//!
//! Paths under `/__sim/` are the control API (`control`), routed before this handler:
//! they see none of the realism knobs or injected failures and are not recorded.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use tokio::time::Instant;

use super::error::ApiError;
use super::realism::Outcome;
use super::redact::redact;
use super::state::State;
use super::{RecordedRequest, Simulator, api2010, control, taskrouter};

/// A status and the JSON resource, or Twilio's error.
pub(crate) type Answer = Result<(u16, Value), ApiError>;

/// What a REST request is answered with: JSON, or a recording's audio.
pub(crate) enum Body {
    Json(Value),
    Media {
        content_type: &'static str,
        bytes: Vec<u8>,
    },
}

/// The request's parameters, in the order they came.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Present and not empty.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::missing(name))
    }

    /// TaskRouter booleans: `true`/`1`/`yes` and `false`/`0`/`no`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.get(name)
            .map(|raw| match raw.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(ApiError::invalid(format!(
                    "{name} {raw:?} is not a boolean"
                ))),
            })
            .transpose()
    }

    /// A whole number within `range`.
    pub fn number<T>(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<Option<T>, ApiError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display,
    {
        self.get(name)
            .map(|raw| {
                raw.parse::<T>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid(format!(
                            "{name} {raw:?} is not a number from {} to {}",
                            range.start(),
                            range.end()
                        ))
                    })
            })
            .transpose()
    }

    /// A JSON object passed as a string (`Attributes`), kept as given.
    pub fn json_object(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.get(name)
            .map(|raw| match serde_json::from_str::<Value>(raw) {
                Ok(Value::Object(_)) => Ok(raw.to_string()),
                _ => Err(ApiError::invalid(format!("{name} must be a JSON object"))),
            })
            .transpose()
    }
}

/// The control API under `/__sim/` (`control`), and Twilio's REST API everywhere else.
pub(crate) fn router(simulator: Simulator) -> Router {
    Router::new()
        .merge(control::routes(simulator.clone()))
        .fallback(handle)
        .with_state(simulator)
}

async fn handle(
    AxumState(simulator): AxumState<Simulator>,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let mut pairs = uri.query().map(decode).unwrap_or_default();
    if method != Method::GET {
        pairs.extend(decode(&String::from_utf8_lossy(&body)));
    }
    let verdict = simulator.with_state(|state| state.conditions.decide(Instant::now()));
    // Latency is a real sleep here, outside the state lock, so slow answers overlap as
    // they do on Twilio and a client's timeouts see real time pass.
    if !verdict.delay.is_zero() {
        tokio::time::sleep(verdict.delay).await;
    }
    let refusal = match verdict.outcome {
        Outcome::Serve => None,
        // Never answered; the future is dropped when the client gives up and closes the
        // connection.
        Outcome::Hang => return std::future::pending().await,
        Outcome::Throttle { .. } => Some(ApiError::injected(429)),
        Outcome::Fail => Some(ApiError::injected(500)),
    };
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (status, body) = simulator.with_state(|state| {
        serve(
            state,
            Request {
                method: method.as_str(),
                path: uri.path(),
                params: Params(pairs),
                authorization,
                refusal,
            },
        )
    });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match body {
        Body::Json(body) => (status, Json(body)).into_response(),
        Body::Media {
            content_type,
            bytes,
        } => (status, [(CONTENT_TYPE, content_type)], bytes).into_response(),
    };
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Twilio API\""),
        );
    }
    if let Outcome::Throttle { retry_after_secs } = verdict.outcome {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
    }
    response
}

/// One REST request, parsed.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub params: Params,
    pub authorization: Option<&'a str>,
    /// What the realism knobs answer instead (429, 500), before anything else is checked.
    pub refusal: Option<ApiError>,
}

fn decode(form: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect()
}

/// Answers one request and records it. Runs under the state lock, with no await.
pub(crate) fn serve(state: &mut State, request: Request<'_>) -> (u16, Body) {
    let Request {
        method,
        path,
        params,
        authorization,
        refusal,
    } = request;
    let answer = if let Some(refusal) = refusal {
        // Like Twilio's edge refusing a request: before authentication, never applied.
        Err(refusal)
    } else if !authorized(state, authorization) {
        Err(ApiError::unauthenticated())
    } else if let Some(status) = take_failure(state) {
        // Injected failures are never applied: like a Twilio 5xx or 429 before processing.
        Err(ApiError::injected(status))
    } else {
        dispatch(state, method, path, &params)
    };
    let (status, body) = match answer {
        Ok(answer) => answer,
        Err(error) => (error.status, Body::Json(error.body())),
    };
    let request = RecordedRequest {
        method: method.to_string(),
        path: path.to_string(),
        params: params.0,
        status,
    };
    if state.standalone {
        tracing::debug!(request = %redact(&request.describe()), "simulated REST request");
    }
    state.requests.push(request);
    (status, body)
}

/// Whether `authorization` is HTTP Basic with the account SID and auth token.
pub(crate) fn authorized(state: &State, authorization: Option<&str>) -> bool {
    let Some(encoded) = authorization.and_then(|h| h.strip_prefix("Basic ")) else {
        return false;
    };
    let expected = format!("{}:{}", state.account_sid, state.auth_token);
    STANDARD
        .decode(encoded.trim())
        .is_ok_and(|decoded| decoded == expected.as_bytes())
}

fn take_failure(state: &mut State) -> Option<u16> {
    let (status, times) = state.failures?;
    state.failures = (times > 1).then(|| (status, times - 1));
    Some(status)
}

fn dispatch(
    state: &mut State,
    method: &str,
    path: &str,
    params: &Params,
) -> Result<(u16, Body), ApiError> {
    let json = |answer: Answer| answer.map(|(status, value)| (status, Body::Json(value)));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1", "Workspaces", workspace, rest @ ..] => {
            if *workspace != state.workspace_sid {
                return Err(ApiError::not_found("Workspace", workspace));
            }
            json(taskrouter::handle(state, method, rest, params))
        }
        ["2010-04-01", "Accounts", account, "Recordings", file] if method == "GET" => {
            if *account != state.account_sid {
                return Err(ApiError::not_found("Account", account));
            }
            api2010::recording(state, file)
        }
        // The RecordingUrl the simulator hands out: the same recording.
        ["recordings", file] if method == "GET" => api2010::recording(state, file),
        ["2010-04-01", "Accounts", account, rest @ ..] => {
            if *account != state.account_sid {
                return Err(ApiError::not_found("Account", account));
            }
            json(api2010::handle(state, method, rest, params))
        }
        _ => Err(ApiError::new(
            404,
            20404,
            format!("The requested resource {path} was not found"),
        )),
    }
}
