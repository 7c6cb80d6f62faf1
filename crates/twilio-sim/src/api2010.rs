//! API 2010 under `/2010-04-01/Accounts/{AC}`: Messages and Calls, recorded;
//! Recordings (the resource and its audio) and Transcriptions, read only.
//!
//! A message is stored as `queued` and goes no further. A call is created `queued`
//! (the create answer says so) with every create parameter kept, then starts ringing the
//! scripted phone on `To` (`voice`: status callbacks, AMD, TwiML). `POST /Calls/{CA}.json`
//! hangs up (`Status=completed`), cancels a ringing call (`Status=canceled`) or redirects
//! a live one (`Url`/`Twiml`); every update is also recorded on the call. An update to a
//! call that has ended is refused with 21220, as Twilio refuses to redirect a finished
//! call.

use serde_json::Value;

use super::error::ApiError;
use super::media;
use super::routes::{Answer, Body, Params};
use super::state::{Call, Message, State};
use super::voice::{FINAL, Voice};

pub(crate) fn handle(state: &mut State, method: &str, rest: &[&str], params: &Params) -> Answer {
    let json_sid = |file: &str| file.strip_suffix(".json").map(str::to_string);
    match (method, rest) {
        ("POST", ["Messages.json"]) => create_message(state, params),
        ("GET", ["Messages", file]) => {
            let sid = json_sid(file).unwrap_or_default();
            let message = state
                .messages
                .iter()
                .find(|m| m.sid == sid)
                .ok_or_else(|| ApiError::not_found("Message", &sid))?;
            Ok((200, state.message_json(message)))
        }
        ("POST", ["Calls.json"]) => create_call(state, params),
        ("GET", ["Calls", file]) => {
            let sid = json_sid(file).unwrap_or_default();
            let call = state
                .calls
                .get(&sid)
                .ok_or_else(|| ApiError::not_found("Call", &sid))?;
            Ok((200, state.call_json(call)))
        }
        ("POST", ["Calls", file]) => {
            let sid = json_sid(file).unwrap_or_default();
            update_call(state, &sid, params)
        }
        ("GET", ["Transcriptions", file]) => {
            let sid = json_sid(file).unwrap_or_default();
            state
                .recordings
                .iter()
                .filter(|r| r.transcription.as_ref().is_some_and(|t| t.sid == sid))
                .find_map(|r| state.transcription_json(r))
                .map(|json| (200, json))
                .ok_or_else(|| ApiError::not_found("Transcription", &sid))
        }
        _ => Err(ApiError::new(
            404,
            20404,
            format!("The requested resource /{} was not found", rest.join("/")),
        )),
    }
}

/// `GET /Recordings/{RE}.json`: the resource; `{RE}` or `{RE}.wav`: its audio as WAV
/// (`audio/x-wav`), `{RE}.mp3` as MP3 (`audio/mpeg`); both silence (`media`).
pub(crate) fn recording(state: &State, file: &str) -> Result<(u16, Body), ApiError> {
    let (sid, extension) = file.rsplit_once('.').unwrap_or((file, "wav"));
    let recording = state
        .recordings
        .iter()
        .find(|r| r.sid == sid)
        .ok_or_else(|| ApiError::not_found("Recording", sid))?;
    let body = match extension {
        "json" => Body::Json(state.recording_json(recording)),
        "wav" => Body::Media {
            content_type: "audio/x-wav",
            bytes: media::wav(recording.duration),
        },
        "mp3" => Body::Media {
            content_type: "audio/mpeg",
            bytes: media::mp3(recording.duration),
        },
        _ => return Err(ApiError::not_found("Recording", file)),
    };
    Ok((200, body))
}

/// E.164 as far as the simulator cares: `+` and 8 to 15 digits.
fn is_phone_number(raw: &str) -> bool {
    raw.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn create_message(state: &mut State, params: &Params) -> Answer {
    let to = params
        .required("To")
        .map_err(|_| ApiError::new(400, 21604, "A 'To' phone number is required."))?;
    if !is_phone_number(to) {
        return Err(ApiError::new(
            400,
            21211,
            format!("Invalid 'To' Phone Number: {to}"),
        ));
    }
    let from = params.get("From").filter(|v| !v.is_empty());
    let service = params.get("MessagingServiceSid").filter(|v| !v.is_empty());
    if from.is_none() && service.is_none() {
        return Err(ApiError::new(
            400,
            21603,
            "A 'From' phone number is required.",
        ));
    }
    let body = params
        .required("Body")
        .map_err(|_| ApiError::new(400, 21602, "Message body is required."))?;
    let message = Message {
        sid: state.next_sid("SM"),
        to: to.to_string(),
        from: from.map(str::to_string),
        messaging_service_sid: service.map(str::to_string),
        body: body.to_string(),
        date_created: state.now(),
    };
    let json = state.message_json(&message);
    state.messages.push(message);
    Ok((201, json))
}

fn create_call(state: &mut State, params: &Params) -> Answer {
    let to = params
        .required("To")
        .map_err(|_| ApiError::new(400, 21201, "No 'To' number is specified"))?;
    let from = params
        .required("From")
        .map_err(|_| ApiError::new(400, 21213, "No 'From' number is specified"))?;
    let url = params.get("Url").filter(|v| !v.is_empty());
    // Twilio ignores Twiml when Url is also given.
    let twiml = params
        .get("Twiml")
        .filter(|v| !v.is_empty() && url.is_none());
    if url.is_none() && twiml.is_none() && params.get("ApplicationSid").is_none() {
        return Err(ApiError::new(
            400,
            21205,
            "Url, Twiml or ApplicationSid is required",
        ));
    }
    let now = state.now();
    let call = Call {
        sid: state.next_sid("CA"),
        to: to.to_string(),
        from: from.to_string(),
        direction: "outbound-api".into(),
        status: "queued".into(),
        url: url.map(str::to_string),
        twiml: twiml.map(str::to_string),
        params: params.pairs().to_vec(),
        updates: Vec::new(),
        parent_call_sid: None,
        date_created: now,
        date_updated: now,
        voice: Voice::default(),
    };
    let json = state.call_json(&call);
    let sid = call.sid.clone();
    state.calls.insert(sid.clone(), call);
    state.start_outbound(&sid);
    Ok((201, json))
}

fn update_call(state: &mut State, sid: &str, params: &Params) -> Answer {
    let now = state.now();
    let call = state
        .calls
        .get_mut(sid)
        .ok_or_else(|| ApiError::not_found("Call", sid))?;
    if FINAL.contains(&call.status.as_str()) {
        return Err(ApiError::new(
            400,
            21220,
            "Call is not in-progress. Cannot redirect.",
        ));
    }
    let status = params.get("Status");
    match status {
        None | Some("completed" | "canceled") => {}
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "Status {other:?} is not completed or canceled"
            )));
        }
    }
    let url = params.get("Url").filter(|v| !v.is_empty());
    let twiml = params.get("Twiml").filter(|v| !v.is_empty());
    if url.is_some() && twiml.is_some() {
        return Err(ApiError::invalid("Url and Twiml are mutually exclusive"));
    }
    if let Some(url) = url {
        call.url = Some(url.to_string());
        call.twiml = None;
    }
    if let Some(twiml) = twiml {
        call.twiml = Some(twiml.to_string());
        call.url = None;
    }
    call.updates.push(params.pairs().to_vec());
    call.date_updated = now;
    state.rest_update(sid, status, url, twiml);
    let json: Value = {
        let call = &state.calls[sid];
        state.call_json(call)
    };
    Ok((200, json))
}
