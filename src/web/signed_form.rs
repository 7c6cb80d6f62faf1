//! The extractor every `/twilio/*` route takes: a form body whose `X-Twilio-Signature` is
//! valid for the public URL Twilio requested. There is no switch to skip the check; tests
//! sign their requests the way Twilio does.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use secrecy::ExposeSecret;

use super::AppState;
use super::error::WebError;
use crate::twilio::signature;

/// Twilio's bodies are small (an SMS is at most 1,600 characters); anything larger is not
/// a Twilio webhook.
const MAX_BODY: usize = 64 * 1024;

/// A verified form: every parameter Twilio sent, in order.
#[derive(Debug)]
pub struct SignedForm {
    params: Vec<(String, String)>,
}

impl SignedForm {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn required(&self, name: &str) -> Result<&str, WebError> {
        self.get(name)
            .ok_or_else(|| WebError::BadRequest(format!("missing form field {name}")))
    }
}

impl FromRequest<AppState> for SignedForm {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let form_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form_type {
            return Err(WebError::BadRequest(
                "expected an application/x-www-form-urlencoded body".into(),
            ));
        }
        let header = req
            .headers()
            .get("x-twilio-signature")
            .map(|v| v.to_str().map(str::to_string));
        let path_and_query = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_default();
        let body = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| WebError::BadRequest(format!("body larger than {MAX_BODY} bytes")))?;
        let params = parse_form(&body)?;

        let signature = match header {
            None => {
                return Err(WebError::Forbidden(
                    "missing X-Twilio-Signature header".into(),
                ));
            }
            Some(Err(_)) => {
                return Err(WebError::Forbidden(
                    "unreadable X-Twilio-Signature header".into(),
                ));
            }
            Some(Ok(s)) => s,
        };
        // The URL Twilio signed is the public one, whatever a proxy rewrote it to.
        let url = format!("{}{}", state.settings.public_url, path_and_query);
        let token = state.settings.auth_token.expose_secret();
        if !signature::is_valid(token, &url, &params, &signature) {
            return Err(WebError::Forbidden(format!(
                "X-Twilio-Signature does not match a request to {url}"
            )));
        }
        Ok(SignedForm { params })
    }
}

/// Every pair, decoded. Invalid UTF-8 is refused rather than replaced, since replacing it
/// would change what the signature covers.
fn parse_form(body: &Bytes) -> Result<Vec<(String, String)>, WebError> {
    std::str::from_utf8(body).map_err(|_| WebError::BadRequest("body is not UTF-8".into()))?;
    let mut params = Vec::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        params.push((decode(k)?, decode(v)?));
    }
    Ok(params)
}

/// Form decoding: `+` is a space, then percent escapes. Done by hand over
/// `percent-encoding` because `url::form_urlencoded` replaces invalid UTF-8 silently.
fn decode(raw: &[u8]) -> Result<String, WebError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| WebError::BadRequest("a form value is not UTF-8".into()))
}
