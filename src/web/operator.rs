//! The operators' roster API, behind the same bearer token as the rest of `/api`:
//!
//! - `POST /api/workers` with `{"phone", "name", "language"?, "languages"?, "time_zone"?}`:
//!   201 with the worker when added, 200 with the worker as stored when the number is
//!   already on the roster (nothing is changed), 400 naming the field otherwise;
//! - `DELETE /api/workers/{phone}`: 204, or 404;
//! - `POST /api/workers/{phone}/offline[?text=false]`: 200 with the worker, or 404; the
//!   worker is texted that they were taken offline unless `text=false`.
//!
//! A body is checked with the rules of the configuration file's `[[workers]]`, and answers
//! name the field the same way (`phone: "555" is not an E.164 phone number ...`). Every
//! change is on disk before it is answered, and wakes the outbox for its TaskRouter sync.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api;
use super::error::WebError;
use crate::config::RosterEntry;
use crate::core::domain::{Locale, PhoneNumber};

/// A worker to add, as the API and the CLI's CSV files spell it. Only `phone` and `name`
/// are required; the others default as in the configuration file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorker {
    pub phone: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// Which field of a `NewWorker` is wrong, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidField {
    pub field: &'static str,
    pub problem: String,
}

fn invalid(field: &'static str, problem: impl Into<String>) -> InvalidField {
    InvalidField {
        field,
        problem: problem.into(),
    }
}

impl NewWorker {
    /// Checks the worker with the rules `config.rs` applies to `[[workers]]` entries (its
    /// checks are private to the file parser; `the_rules_match_the_configuration_file` keeps
    /// the two in step). A missing language or time zone takes the given defaults; missing
    /// call languages are the texting language.
    pub fn validate(
        &self,
        default_language: Locale,
        default_time_zone: Tz,
    ) -> Result<RosterEntry, InvalidField> {
        let phone = PhoneNumber::parse(self.phone.trim()).map_err(|e| invalid("phone", e))?;
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(invalid("name", "must be 1 to 40 characters"));
        }
        let language = match &self.language {
            Some(code) => Locale::parse(code).map_err(|e| invalid("language", e))?,
            None => default_language,
        };
        let languages = match &self.languages {
            Some(codes) => codes
                .iter()
                .map(|c| Locale::parse(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid("languages", e))?,
            None => vec![language],
        };
        let time_zone = match &self.time_zone {
            Some(raw) => parse_tz(raw).map_err(|e| invalid("time_zone", e))?,
            None => default_time_zone,
        };
        Ok(RosterEntry {
            phone,
            name,
            language,
            languages,
            time_zone,
        })
    }
}

/// An IANA `Area/City` zone (or UTC): abbreviations such as EST parse in chrono-tz but are
/// fixed offsets with no DST, which would put a worker's schedule an hour off half the year.
fn parse_tz(raw: &str) -> Result<Tz, String> {
    let named = raw.contains('/') || raw == "UTC";
    named.then(|| raw.parse::<Tz>().ok()).flatten().ok_or_else(|| {
        format!(
            "{raw:?} is not an IANA time zone name like \"America/Chicago\" (abbreviations such as EST have no DST)"
        )
    })
}

/// A phone number from the path; a "+" is easy to lose in a URL, so the digits alone do too.
pub(crate) fn path_phone(raw: &str) -> Result<PhoneNumber, WebError> {
    let raw = raw.trim();
    let full = if raw.starts_with('+') {
        raw.to_string()
    } else {
        format!("+{raw}")
    };
    PhoneNumber::parse(&full).map_err(WebError::BadRequest)
}

/// The worker's view, exactly as `GET /api/workers/{phone}` shows it.
async fn view(state: AppState, headers: HeaderMap, phone: &PhoneNumber) -> Response {
    api::get_worker(State(state), headers, Path(phone.to_string()))
        .await
        .into_response()
}

/// `?text=false`: take the worker offline without texting them.
#[derive(Debug, Deserialize)]
pub struct OfflineOptions {
    #[serde(default = "texted")]
    text: bool,
}

fn texted() -> bool {
    true
}

/// `POST /api/workers`: adds a worker, offline and with no skills.
pub async fn add_worker(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    api::authorize(&state, &headers)?;
    // Parsed by hand rather than with `Json`, whose rejections are 415/422 in axum's words:
    // here every malformed body is a 400 that names the field (serde says which).
    let new: NewWorker =
        serde_json::from_slice(&body).map_err(|e| WebError::BadRequest(format!("body: {e}")))?;
    let settings = &state.settings;
    let entry = new
        .validate(settings.default_language, settings.default_time_zone)
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let created = state.add_worker(&entry).await.map_err(WebError::internal)?;
    if created {
        tracing::info!(phone = %entry.phone.masked(), "operator added a worker");
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = view(state, headers, &entry.phone).await;
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    Ok(response)
}

/// `DELETE /api/workers/{phone}`: removes a worker, taking them offline in TaskRouter.
pub async fn remove_worker(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(phone): Path<String>,
) -> Result<StatusCode, WebError> {
    api::authorize(&state, &headers)?;
    let phone = path_phone(&phone)?;
    let removal = state
        .remove_worker(&phone)
        .await
        .map_err(WebError::internal)?
        .ok_or_else(|| WebError::NotFound(format!("no worker with phone {phone}")))?;
    tracing::info!(phone = %phone.masked(), synced = removal.synced, "operator removed a worker");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/workers/{phone}/offline`: takes a worker offline, as OFF would.
pub async fn force_offline(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(phone): Path<String>,
    Query(options): Query<OfflineOptions>,
) -> Result<Response, WebError> {
    api::authorize(&state, &headers)?;
    let phone = path_phone(&phone)?;
    let forced = state
        .force_offline(&phone, options.text)
        .await
        .map_err(WebError::internal)?
        .ok_or_else(|| WebError::NotFound(format!("no worker with phone {phone}")))?;
    state
        .metrics
        .worker_changed(Some(&forced.before), Some(&forced.after));
    tracing::info!(phone = %phone.masked(), from = forced.before.presence.as_str(), "operator took a worker offline");
    Ok(view(state, headers, &phone).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    /// The same worker through the configuration file's parser, for comparison.
    fn through_config(w: &NewWorker) -> Result<RosterEntry, String> {
        let mut text = String::from(
            "[[skills]]\nkey = \"billing\"\n[defaults]\nlanguage = \"es\"\ntime_zone = \"America/New_York\"\n[[workers]]\n",
        );
        text += &format!("phone = {:?}\nname = {:?}\n", w.phone, w.name);
        if let Some(l) = &w.language {
            text += &format!("language = {l:?}\n");
        }
        if let Some(ls) = &w.languages {
            text += &format!("languages = {ls:?}\n");
        }
        if let Some(tz) = &w.time_zone {
            text += &format!("time_zone = {tz:?}\n");
        }
        let settings = Settings::parse(&text, |_| None).map_err(|e| e.to_string())?;
        Ok(settings.roster[0].clone())
    }

    #[test]
    fn the_rules_match_the_configuration_file() {
        let ok = NewWorker {
            phone: "+15550001111".into(),
            name: " Ana ".into(),
            ..NewWorker::default()
        };
        let cases = [
            ok.clone(),
            NewWorker {
                language: Some("EN".into()),
                languages: Some(vec!["es".into(), "en".into()]),
                time_zone: Some("UTC".into()),
                ..ok.clone()
            },
            NewWorker {
                phone: "555-1234".into(),
                ..ok.clone()
            },
            NewWorker {
                phone: "+05550001111".into(),
                ..ok.clone()
            },
            NewWorker {
                name: "   ".into(),
                ..ok.clone()
            },
            NewWorker {
                name: "x".repeat(41),
                ..ok.clone()
            },
            NewWorker {
                language: Some("fr".into()),
                ..ok.clone()
            },
            NewWorker {
                languages: Some(vec!["en".into(), "de".into()]),
                ..ok.clone()
            },
            NewWorker {
                time_zone: Some("EST".into()),
                ..ok.clone()
            },
            NewWorker {
                time_zone: Some("Mars/Olympus".into()),
                ..ok.clone()
            },
        ];
        for case in cases {
            let ours = case
                .validate(Locale::Es, chrono_tz::America::New_York)
                .map_err(|e| format!("workers[0].{e}"));
            assert_eq!(ours, through_config(&case), "{case:?}");
        }
    }
}
