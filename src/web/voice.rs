//! Voice webhooks: the customer line (greeting, menu, queue), the call to a reserved
//! worker (answer, key, AMD verdict, status) and voicemail. Each answers TwiML; what the
//! worker's call does is decided by the pure dispatcher (`crate::core::dispatch`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::WebError;
use super::signed_form::SignedForm;
use crate::config::MenuItem;
use crate::core::callback::{
    DialOutcome, LIVE_PRIORITY, Request as CallbackRequest, Source, Status as CallbackStatus,
};
use crate::core::dispatch::whisper::CallerHint;
use crate::core::dispatch::{AnsweredBy, DispatchRecord, Event, FinalStatus, Voice, Whisper};
use crate::core::domain::{CallSid, Locale, PhoneNumber, ReservationSid, SkillKey};
use crate::core::intake::reply::{Arg, Reply};
use crate::service::dispatch::RenderVoice;
use crate::service::listen_link;
use crate::service::voicemail::Caller;
use crate::store::VoicemailRecord;
use crate::twilio::twiml;
use secrecy::ExposeSecret;

type Params = Query<HashMap<String, String>>;

fn twiml_response(body: String) -> Response {
    ([(CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// A value safe to put in a query string.
pub fn query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Where a caller goes to leave a message (path and query, under the public URL): the
/// recording's webhooks get back what the voicemail and its callback request need.
pub fn voicemail_path(skill: &str, language: &str, caller: &str, city: &str) -> String {
    format!(
        "/twilio/voice/voicemail/start?skill={}&lang={}&caller={}&city={}",
        query_value(skill),
        query_value(language),
        query_value(caller),
        query_value(city)
    )
}

/// The queue's own pages' query: the language, skill and city a callback request keeps.
fn queue_query(language: &str, skill: &str, city: &str) -> String {
    format!(
        "lang={}&skill={}&city={}",
        query_value(language),
        query_value(skill),
        query_value(city)
    )
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> &'a str {
    params.get(name).map(String::as_str).unwrap_or_default()
}

fn locale_param(params: &HashMap<String, String>, state: &AppState) -> Locale {
    params
        .get("lang")
        .and_then(|l| Locale::parse(l).ok())
        .unwrap_or(state.settings.default_language)
}

fn skill_name(state: &AppState, skill: Option<&SkillKey>, locale: Locale) -> String {
    state.settings.catalog.name_of(skill, locale)
}

fn text(state: &AppState, locale: Locale, reply: Reply) -> String {
    state
        .messages
        .render(locale, &reply, &state.settings.catalog)
}

// ----- the customer line ---------------------------------------------------------------

/// `POST /twilio/voice/customer`: greeting and menu, or straight into the queue.
pub async fn customer(
    State(state): State<AppState>,
    form: SignedForm,
) -> Result<Response, WebError> {
    form.required("CallSid")?;
    let menu = &state.settings.customer.menu;
    if menu.len() < 2 {
        return Ok(twiml_response(enqueue(&state, &form, menu.first())));
    }
    Ok(twiml_response(menu_twiml(&state, 1, None)))
}

fn menu_twiml(state: &AppState, attempt: u32, sorry: Option<&str>) -> String {
    let default = state.settings.default_language;
    let mut prompts: Vec<(String, &str)> = Vec::new();
    if let Some(sorry) = sorry {
        prompts.push((sorry.to_string(), default.voice_language()));
    } else {
        prompts.push((
            text(state, default, Reply::new("customer-greeting")),
            default.voice_language(),
        ));
    }
    for item in &state.settings.customer.menu {
        let locale = item.language.unwrap_or(default);
        let reply = Reply::new("customer-menu-item")
            .text("skill", skill_name(state, Some(&item.skill), locale))
            .text("digit", item.digit.to_string());
        prompts.push((text(state, locale, reply), locale.voice_language()));
    }
    let action = format!(
        "{}/twilio/voice/customer/choice?try={attempt}",
        state.settings.public_url
    );
    let prompts: Vec<(&str, &str)> = prompts.iter().map(|(t, l)| (t.as_str(), *l)).collect();
    twiml::Response::new()
        .gather(&action, 1, 6, true, &prompts)
        .build()
}

/// `POST /twilio/voice/customer/choice?try=N`: the menu key. A wrong key or silence is
/// asked once more, then the caller goes to the first department rather than nowhere.
pub async fn customer_choice(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    let digits = form.get("Digits").unwrap_or_default();
    let menu = &state.settings.customer.menu;
    if let Some(item) = menu.iter().find(|m| digits.starts_with(m.digit)) {
        return Ok(twiml_response(enqueue(&state, &form, Some(item))));
    }
    let attempt: u32 = params.get("try").and_then(|t| t.parse().ok()).unwrap_or(1);
    if attempt >= 2 {
        return Ok(twiml_response(enqueue(&state, &form, menu.first())));
    }
    let sorry = text(
        &state,
        state.settings.default_language,
        Reply::new("customer-no-choice"),
    );
    Ok(twiml_response(menu_twiml(
        &state,
        attempt + 1,
        Some(&sorry),
    )))
}

/// `<Enqueue>` with the task TaskRouter routes on; without a workflow (not set up yet) the
/// caller is sent to voicemail rather than left in silence.
fn enqueue(state: &AppState, form: &SignedForm, item: Option<&MenuItem>) -> String {
    let settings = &state.settings;
    let skill = item
        .map(|i| i.skill.clone())
        .or_else(|| settings.catalog.skills().first().map(|s| s.key.clone()));
    let language = item
        .and_then(|i| i.language)
        .unwrap_or(settings.default_language);
    let caller = form.get("From").unwrap_or_default();
    let skill_key = skill.as_ref().map(|s| s.as_str()).unwrap_or_default();
    // Twilio's lookup of the caller's city, for the whisper; absent or empty when it does
    // not know (CallerCity is the older name of the same field).
    let caller_city = ["FromCity", "CallerCity"]
        .into_iter()
        .filter_map(|name| form.get(name))
        .find(|city| !city.trim().is_empty())
        .unwrap_or_default();
    let base = &settings.public_url;
    let Some(workflow_sid) = state.workflow_sid() else {
        tracing::error!(
            "no TaskRouter workflow known: run `shiftline twilio setup`; caller sent to voicemail"
        );
        let path = voicemail_path(skill_key, language.code(), caller, caller_city);
        return twiml::Response::new()
            .redirect(&format!("{base}{path}"))
            .build();
    };
    let task = json!({
        "skill": skill.as_ref().map(|s| s.as_str()),
        "language": language.code(),
        "caller": caller,
        "caller_city": caller_city,
    });
    // The queue's own pages carry what a callback request needs (Twilio sends only the
    // call's fields to them).
    let query = queue_query(language.code(), skill_key, caller_city);
    let wait_url = format!("{base}/twilio/voice/customer/wait?{query}");
    let action = format!("{base}/twilio/voice/customer/left?{query}");
    twiml::Response::new()
        .enqueue_task(&workflow_sid, &wait_url, &action, LIVE_PRIORITY, &task)
        .build()
}

/// `POST /twilio/voice/customer/wait`: what a waiting caller hears; Twilio plays it in a
/// loop. A caller with a number to call back may press the callback key at any moment.
pub async fn customer_wait(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    Ok(twiml_response(hold_twiml(&state, &params, &form)))
}

fn hold_twiml(state: &AppState, params: &HashMap<String, String>, form: &SignedForm) -> String {
    let locale = locale_param(params, state);
    let lang = locale.voice_language();
    let mut prompts = vec![text(state, locale, Reply::new("customer-hold"))];
    if let Some(position) = form
        .get("QueuePosition")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p > 1)
    {
        let reply = Reply::new("customer-position").arg("position", Arg::Number(position));
        prompts.push(text(state, locale, reply));
    }
    let callbacks = &state.settings.callbacks;
    let can_call_back = callbacks.enabled && callback_number(form).is_some();
    let action = can_call_back.then(|| {
        prompts.push(text(
            state,
            locale,
            Reply::new("customer-hold-callback").text("key", callbacks.key.to_string()),
        ));
        format!(
            "{}/twilio/voice/customer/callback?{}",
            state.settings.public_url,
            queue_query(
                param(params, "lang"),
                param(params, "skill"),
                param(params, "city")
            )
        )
    });
    let prompts: Vec<(&str, &str)> = prompts.iter().map(|p| (p.as_str(), lang)).collect();
    twiml::Response::new()
        .hold(
            action.as_deref(),
            &prompts,
            &state.settings.customer.hold_music_url,
        )
        .build()
}

/// The caller's number, when it is one that can be called back (not withheld).
fn callback_number(form: &SignedForm) -> Option<String> {
    form.get("From")
        .filter(|from| PhoneNumber::parse(from).is_ok())
        .map(str::to_string)
}

/// `POST /twilio/voice/customer/callback`: a key pressed while waiting. The callback key
/// makes the caller leave the queue with a callback request (durable before they hear it
/// is taken); any other key, or none, goes back to the hold.
pub async fn customer_callback(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    let call_sid = form.required("CallSid")?.to_string();
    let pressed = form.get("Digits").unwrap_or_default();
    let callbacks = &state.settings.callbacks;
    let wants_callback = callbacks.enabled && pressed.starts_with(callbacks.key);
    let Some(customer) = callback_number(&form).filter(|_| wants_callback) else {
        return Ok(twiml_response(hold_twiml(&state, &params, &form)));
    };
    let request = CallbackRequest {
        id: call_sid,
        customer,
        caller_city: params.get("city").filter(|c| !c.is_empty()).cloned(),
        skill: params.get("skill").and_then(|s| SkillKey::parse(s).ok()),
        language: locale_param(&params, &state),
        source: Source::Queue,
        voicemail: None,
    };
    state
        .request_callback(request)
        .await
        .map_err(WebError::internal)?;
    Ok(twiml_response(twiml::Response::new().leave().build()))
}

/// `POST /twilio/voice/customer/left`: the caller left the queue (`<Enqueue>`'s action).
/// After the callback key they hear that they will be called back; a queue that could not
/// take them sends them to voicemail rather than dropping them.
pub async fn customer_left(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    let locale = locale_param(&params, &state);
    let body = match form.get("QueueResult").unwrap_or_default() {
        "leave" => twiml::Response::new()
            .say(
                &text(&state, locale, Reply::new("customer-callback-thanks")),
                locale.voice_language(),
            )
            .hangup()
            .build(),
        "queue-full" | "error" | "system-error" => {
            let path = voicemail_path(
                param(&params, "skill"),
                locale.code(),
                form.get("From").unwrap_or_default(),
                param(&params, "city"),
            );
            twiml::Response::new()
                .redirect(&format!("{}{path}", state.settings.public_url))
                .build()
        }
        _ => twiml::Response::new().hangup().build(),
    };
    Ok(twiml_response(body))
}

// ----- the call to the reserved worker --------------------------------------------------

/// Runs one event about a reservation through the dispatcher, durably, and returns the
/// TwiML the dispatcher chose (empty for callbacks that answer none). An unknown
/// reservation (not ours, or long gone) gets a hang-up.
pub async fn dispatch_event(
    state: &AppState,
    reservation_sid: &ReservationSid,
    event_id: String,
    event: Event,
) -> Result<String, WebError> {
    let render = render_voice(state);
    match state
        .call_event(reservation_sid.as_str(), event_id, event, render)
        .await
        .map_err(WebError::internal)?
    {
        Some(reply) => Ok(reply),
        None => {
            tracing::warn!(%reservation_sid, "event for an unknown reservation");
            Ok(twiml::Response::new().hangup().build())
        }
    }
}

/// What the worker's call hears, rendered inside the dispatcher's unit of work.
fn render_voice(state: &AppState) -> RenderVoice {
    let state = state.clone();
    Arc::new(move |record, voice, locale| voice_twiml(&state, record, voice.clone(), locale))
}

/// The whisper and prompt the worker hears, in the worker's language. What may be said
/// about the caller, and when, is the dispatcher's decision (`Voice`).
fn voice_twiml(state: &AppState, record: &DispatchRecord, voice: Voice, locale: Locale) -> String {
    let lang = locale.voice_language();
    let skill = skill_name(state, record.skill.as_ref(), locale);
    let base = &state.settings.public_url;
    match voice {
        Voice::AskKey => {
            let action = format!(
                "{base}/twilio/voice/dispatch/key?reservation={}",
                record.reservation_sid
            );
            let key = match record.callback {
                Some(_) => "whisper-callback-press1",
                None => "whisper-press1",
            };
            let prompt = text(state, locale, Reply::new(key).text("skill", skill));
            // Silence posts too (actionOnEmptyResult), so "no key" is decided here.
            twiml::Response::new()
                .gather(&action, 1, 6, true, &[(&prompt, lang)])
                .build()
        }
        Voice::Bridge(whisper) if record.callback.is_some() => {
            callback_twiml(state, record, &whisper, skill, locale)
        }
        Voice::Bridge(whisper) => {
            let words = text(state, locale, whisper_reply(&whisper, skill));
            twiml::Response::new()
                .say(&words, lang)
                .dial_reservation(record.reservation_sid.as_str())
                .build()
        }
        Voice::Goodbye => twiml::Response::new()
            .say(&text(state, locale, Reply::new("whisper-goodbye")), lang)
            .hangup()
            .build(),
        Voice::HangUp => twiml::Response::new().hangup().build(),
        Voice::Nothing => String::new(),
    }
}

/// A callback the worker took: what it is about, the caller's message if they left one,
/// then the customer dialled from the business number. The `<Dial>` action hears how that
/// call went.
fn callback_twiml(
    state: &AppState,
    record: &DispatchRecord,
    whisper: &Whisper,
    skill: String,
    locale: Locale,
) -> String {
    let Some(callback) = &record.callback else {
        return twiml::Response::new().hangup().build();
    };
    let settings = &state.settings;
    let lang = locale.voice_language();
    // The dispatcher's time for this event (rendering runs inside the unit of work, which
    // may run twice: it reads no clock of its own).
    let now = record.updated_at;
    let asked = text(
        state,
        locale,
        asked_when(
            callback.requested_at,
            now,
            settings.default_time_zone,
            locale,
        ),
    );
    let key = match &whisper.caller {
        None => "whisper-callback",
        Some(CallerHint::City(_)) => "whisper-callback-city",
        Some(CallerHint::LastDigits(_)) => "whisper-callback-digits",
    };
    let mut about = Reply::new(key).text("skill", skill).text("asked", asked);
    about = match &whisper.caller {
        Some(CallerHint::City(city)) => about.text("city", city.clone()),
        Some(CallerHint::LastDigits(digits)) => about.text("digits", spoken_digits(digits)),
        None => about,
    };
    let mut response = twiml::Response::new().say(&text(state, locale, about), lang);
    if let Some(recording_sid) = &callback.recording_sid {
        let link = listen_link::link(
            &settings.public_url,
            settings.auth_token.expose_secret(),
            recording_sid,
            now + settings.voicemail.link_ttl,
        );
        response = response
            .say(
                &text(state, locale, Reply::new("whisper-callback-message")),
                lang,
            )
            .play(&link);
    }
    let action = format!(
        "{}/twilio/voice/callback/dialed?reservation={}",
        settings.public_url, record.reservation_sid
    );
    response
        .say(
            &text(state, locale, Reply::new("whisper-callback-dialing")),
            lang,
        )
        .dial_number(
            &record.caller,
            settings.business_number().as_str(),
            &action,
            CUSTOMER_RING_SECS,
        )
        .build()
}

/// "at 14:05", "yesterday at 21:01" or "on 03/02 at 21:01" (02/03 in Spanish), in the
/// business's zone.
fn asked_when(
    requested: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    zone: chrono_tz::Tz,
    locale: Locale,
) -> Reply {
    let (asked, today) = (requested.with_timezone(&zone), now.with_timezone(&zone));
    let days = (today.date_naive() - asked.date_naive()).num_days();
    let key = match days {
        ..=0 => "whisper-asked-today",
        1 => "whisper-asked-yesterday",
        _ => "whisper-asked-earlier",
    };
    Reply::new(key)
        .text("time", asked.format("%H:%M").to_string())
        .text(
            "date",
            asked
                .format(match locale {
                    Locale::Es => "%d/%m",
                    _ => "%m/%d",
                })
                .to_string(),
        )
}

/// How long the customer's phone rings on a callback: long enough for someone who was
/// not expecting the call to reach it, short of most voicemail pick-ups.
const CUSTOMER_RING_SECS: u32 = 25;

/// "Billing call from Chicago. Connecting." when the worker has heard nothing yet;
/// "Call from Chicago. Connecting." after the press-1 prompt named the skill.
fn whisper_reply(whisper: &Whisper, skill: String) -> Reply {
    let key = match (whisper.skill, &whisper.caller) {
        (true, None) => "whisper-connect",
        (true, Some(CallerHint::City(_))) => "whisper-connect-city",
        (true, Some(CallerHint::LastDigits(_))) => "whisper-connect-digits",
        (false, None) => "connecting",
        (false, Some(CallerHint::City(_))) => "connecting-city",
        (false, Some(CallerHint::LastDigits(_))) => "connecting-digits",
    };
    let reply = Reply::new(key).text("skill", skill);
    match &whisper.caller {
        Some(CallerHint::City(city)) => reply.text("city", city.clone()),
        Some(CallerHint::LastDigits(digits)) => reply.text("digits", spoken_digits(digits)),
        None => reply,
    }
}

/// "0123" as "0 1 2 3", which text-to-speech otherwise reads as a number.
fn spoken_digits(digits: &str) -> String {
    digits
        .chars()
        .map(String::from)
        .collect::<Vec<String>>()
        .join(" ")
}

fn reservation(params: &HashMap<String, String>) -> Result<ReservationSid, WebError> {
    params
        .get("reservation")
        .and_then(|r| ReservationSid::parse(r).ok())
        .ok_or_else(|| WebError::BadRequest("the URL has no reservation".into()))
}

fn call_sid(form: &SignedForm) -> Result<CallSid, WebError> {
    CallSid::parse(form.required("CallSid")?)
        .map_err(|e| WebError::BadRequest(format!("CallSid: {e}")))
}

/// `POST /twilio/voice/dispatch/answer?reservation=WR..`: the worker's phone was answered.
pub async fn dispatch_answer(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    let reservation_sid = reservation(&params)?;
    let call_sid = call_sid(&form)?;
    let answered_by = form.get("AnsweredBy").map(AnsweredBy::parse);
    if let Some(verdict) = answered_by {
        state.metrics.amd_result(verdict.name());
    }
    let id = format!("answer:{call_sid}");
    let twiml = dispatch_event(
        &state,
        &reservation_sid,
        id,
        Event::Answered {
            call_sid,
            answered_by,
        },
    )
    .await?;
    Ok(twiml_response(if twiml.is_empty() {
        twiml::empty()
    } else {
        twiml
    }))
}

/// `POST /twilio/voice/dispatch/key?reservation=WR..`: what the worker pressed (or nothing).
pub async fn dispatch_key(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    let reservation_sid = reservation(&params)?;
    let call_sid = call_sid(&form)?;
    let digits = form.get("Digits").unwrap_or_default().to_string();
    let id = format!("key:{call_sid}");
    let twiml = dispatch_event(&state, &reservation_sid, id, Event::Keys { digits }).await?;
    Ok(twiml_response(if twiml.is_empty() {
        twiml::empty()
    } else {
        twiml
    }))
}

/// `POST /twilio/voice/dispatch/amd?reservation=WR..`: the asynchronous AMD verdict.
pub async fn dispatch_amd(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<StatusCode, WebError> {
    let reservation_sid = reservation(&params)?;
    let call_sid = call_sid(&form)?;
    let answered_by = AnsweredBy::parse(form.required("AnsweredBy")?);
    state.metrics.amd_result(answered_by.name());
    dispatch_event(
        &state,
        &reservation_sid,
        format!("amd:{call_sid}"),
        Event::Amd { answered_by },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /twilio/voice/dispatch/status?reservation=WR..`: the call's status callback.
pub async fn dispatch_status(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<StatusCode, WebError> {
    let reservation_sid = reservation(&params)?;
    let call_sid = call_sid(&form)?;
    let status = form.required("CallStatus")?;
    let id = format!("status:{call_sid}:{status}");
    let event = match FinalStatus::parse(status) {
        Some(status) => Event::CallStatus { status },
        None => Event::CallStarted { call_sid },
    };
    dispatch_event(&state, &reservation_sid, id, event).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /twilio/voice/callback/dialed?reservation=WR..`: the worker's call to the customer
/// ended (`<Dial>`'s action). The attempt is recorded, then the worker hears what comes
/// next: nothing after a conversation, a retry or the request's end otherwise.
pub async fn callback_dialed(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    let reservation_sid = reservation(&params)?;
    let status = form.required("DialCallStatus")?;
    let outcome = DialOutcome::parse(status)
        .ok_or_else(|| WebError::BadRequest(format!("DialCallStatus {status:?} is not final")))?;
    let talk_secs = form
        .get("DialCallDuration")
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    let Some(record) = state
        .store
        .dispatch_record(reservation_sid.as_str())
        .await
        .map_err(WebError::internal)?
    else {
        return Ok(twiml_response(twiml::Response::new().hangup().build()));
    };
    let after = state
        .callback_dialed(&record, outcome, talk_secs)
        .await
        .map_err(WebError::internal)?;
    let locale = state
        .worker_language(&record.worker)
        .await
        .unwrap_or(record.language);
    let key = match after.map(|r| r.status) {
        _ if outcome == DialOutcome::Answered => None,
        Some(CallbackStatus::Abandoned) => Some("whisper-callback-closed"),
        Some(_) => Some("whisper-callback-retry"),
        None => None,
    };
    let mut response = twiml::Response::new();
    if let Some(key) = key {
        response = response.say(
            &text(&state, locale, Reply::new(key)),
            locale.voice_language(),
        );
    }
    Ok(twiml_response(response.hangup().build()))
}

// ----- voicemail -------------------------------------------------------------------------

/// `POST /twilio/voice/voicemail/start?skill=&lang=&caller=`: the caller leaves a message.
pub async fn voicemail_start(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    form.required("CallSid")?;
    let locale = locale_param(&params, &state);
    let base = &state.settings.public_url;
    let skill = params.get("skill").cloned().unwrap_or_default();
    let caller = params
        .get("caller")
        .cloned()
        .or_else(|| form.get("From").map(str::to_string))
        .unwrap_or_default();
    let action = format!("{base}/twilio/voice/voicemail/done?lang={locale}");
    let query = format!(
        "skill={}&caller={}&lang={locale}&city={}",
        query_value(&skill),
        query_value(&caller),
        query_value(params.get("city").map(String::as_str).unwrap_or_default())
    );
    let callback = format!("{base}/twilio/voice/voicemail/recorded?{query}");
    let transcribe = state
        .transcribes(locale)
        .then(|| format!("{base}/twilio/voice/voicemail/transcribed?{query}"));
    let body = twiml::Response::new()
        .say(
            &text(&state, locale, Reply::new("voicemail-prompt")),
            locale.voice_language(),
        )
        .record(
            &action,
            state.settings.voicemail.max_length_secs,
            &callback,
            transcribe.as_deref(),
        )
        .build();
    Ok(twiml_response(body))
}

/// `POST /twilio/voice/voicemail/done`: after the recording.
pub async fn voicemail_done(
    State(state): State<AppState>,
    Query(params): Params,
    _form: SignedForm,
) -> Result<Response, WebError> {
    let locale = locale_param(&params, &state);
    let body = twiml::Response::new()
        .say(
            &text(&state, locale, Reply::new("voicemail-thanks")),
            locale.voice_language(),
        )
        .hangup()
        .build();
    Ok(twiml_response(body))
}

/// `POST /twilio/voice/voicemail/recorded`: the recording is ready: keep it, tell the
/// notify list.
pub async fn voicemail_recorded(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<StatusCode, WebError> {
    if form
        .get("RecordingStatus")
        .is_some_and(|s| s != "completed")
    {
        return Ok(StatusCode::NO_CONTENT);
    }
    let now = state.clock.now();
    let skill = params.get("skill").filter(|s| !s.is_empty()).cloned();
    let voicemail = VoicemailRecord {
        recording_sid: form.required("RecordingSid")?.to_string(),
        call_sid: form.required("CallSid")?.to_string(),
        caller: params.get("caller").cloned().unwrap_or_default(),
        skill: skill.clone(),
        recording_url: form.required("RecordingUrl")?.to_string(),
        duration_secs: form
            .get("RecordingDuration")
            .and_then(|d| d.parse().ok())
            .unwrap_or(0),
        at: now,
    };
    let recording = voicemail.recording_sid.clone();
    let caller = Caller {
        language: locale_param(&params, &state),
        city: params.get("city").filter(|c| !c.is_empty()).cloned(),
    };
    let added = state
        .voicemail_recorded(voicemail, caller)
        .await
        .map_err(WebError::internal)?;
    tracing::info!(%recording, added, "voicemail");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /twilio/voice/voicemail/transcribed`: Twilio's transcription (or its failure):
/// the notify list gets the voicemail's text now.
pub async fn voicemail_transcribed(
    State(state): State<AppState>,
    form: SignedForm,
) -> Result<StatusCode, WebError> {
    let recording_sid = form.required("RecordingSid")?;
    let words = (form.get("TranscriptionStatus") == Some("completed"))
        .then(|| form.get("TranscriptionText"))
        .flatten()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    state
        .voicemail_transcribed(recording_sid, words)
        .await
        .map_err(WebError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}
