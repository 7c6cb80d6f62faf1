//! The control API: what a test does to an in-process [`Simulator`] through its methods,
//! over HTTP, for a simulator running as its own process ([`crate::serve`]). Every route
//! is under `/__sim/`, a prefix no Twilio path starts with; HTTP Basic with the account
//! SID and auth token, as on the REST API (else 401, Twilio's error 20003); JSON in and
//! out. These requests see none of the realism knobs or injected failures and are not
//! recorded among the REST requests. [`crate::Remote`] is the client.
//!
//! Each handler calls the `Simulator` method of the same name; the routes and their
//! bodies are listed in the crate's doc. Errors are Twilio's error body (`code message
//! more_info status`): 400 (20001) for a body or a value refused, 404 (20404) for an
//! unknown `/__sim/` path.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ApiError;
use super::phones::Answer;
use super::realism::Realism;
use super::{RecordedRequest, SimCall, SimInfo, SimMessage, SimRecording, SimTask, SimWorker};
use super::{Simulator, routes};

/// Where the control API lives: no Twilio path starts with it.
pub(crate) const PREFIX: &str = "/__sim";

pub(crate) fn routes(simulator: Simulator) -> Router<Simulator> {
    Router::new()
        .route("/__sim/info", get(info))
        .route("/__sim/requests", get(requests))
        .route("/__sim/requests/take", post(take_requests))
        .route("/__sim/call-log", get(call_log))
        .route("/__sim/call-log/take", post(take_call_log))
        .route("/__sim/workers", get(workers))
        .route("/__sim/tasks", get(tasks).post(create_task))
        .route("/__sim/calls", get(calls).post(place_call))
        .route("/__sim/calls/{sid}/hang-up", post(hang_up))
        .route("/__sim/messages", get(messages))
        .route("/__sim/recordings", get(recordings))
        .route("/__sim/phones", post(script_phone))
        .route("/__sim/realism", get(realism).put(set_realism))
        .route("/__sim/fail-next", post(fail_next))
        .route("/__sim/tick", post(tick))
        .route("/__sim/settle", post(settle))
        .route("/__sim", any(not_found))
        .route("/__sim/", any(not_found))
        .route("/__sim/{*rest}", any(not_found))
        .route_layer(middleware::from_fn_with_state(simulator, require_auth))
}

/// A refusal, answered with Twilio's error body.
struct Refused(ApiError);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = (status, Json(self.0.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        response
    }
}

type Answered<T> = Result<T, Refused>;

fn invalid(message: impl Into<String>) -> Refused {
    Refused(ApiError::invalid(message))
}

/// The JSON body as `T` (no `Content-Type` needed).
fn read<T: DeserializeOwned>(body: &Bytes) -> Answered<T> {
    serde_json::from_slice(body)
        .map_err(|e| invalid(format!("the body is not what {PREFIX} expects: {e}")))
}

async fn require_auth(
    State(simulator): State<Simulator>,
    request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if simulator.with_state(|state| routes::authorized(state, authorization)) {
        next.run(request).await
    } else {
        Refused(ApiError::unauthenticated()).into_response()
    }
}

async fn not_found(uri: axum::http::Uri) -> Refused {
    Refused(ApiError::new(
        404,
        20404,
        format!("{} is not part of the simulator's control API", uri.path()),
    ))
}

async fn info(State(sim): State<Simulator>) -> Json<SimInfo> {
    Json(sim.info())
}

async fn requests(State(sim): State<Simulator>) -> Json<Vec<RecordedRequest>> {
    Json(sim.requests())
}

async fn take_requests(State(sim): State<Simulator>) -> Json<Vec<RecordedRequest>> {
    Json(sim.take_requests())
}

async fn call_log(State(sim): State<Simulator>) -> Json<Vec<String>> {
    Json(sim.call_log())
}

async fn take_call_log(State(sim): State<Simulator>) -> Json<Vec<String>> {
    Json(sim.take_call_log())
}

async fn workers(State(sim): State<Simulator>) -> Json<Vec<SimWorker>> {
    Json(sim.workers())
}

async fn tasks(State(sim): State<Simulator>) -> Json<Vec<SimTask>> {
    Json(sim.tasks())
}

async fn calls(State(sim): State<Simulator>) -> Json<Vec<SimCall>> {
    Json(sim.calls())
}

async fn messages(State(sim): State<Simulator>) -> Json<Vec<SimMessage>> {
    Json(sim.messages())
}

async fn recordings(State(sim): State<Simulator>) -> Json<Vec<SimRecording>> {
    Json(sim.recordings())
}

/// What a create answers: the new SID.
#[derive(Serialize, Deserialize)]
pub(crate) struct Created {
    pub sid: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTask {
    pub workflow_sid: String,
    pub attributes: Value,
}

async fn create_task(State(sim): State<Simulator>, body: Bytes) -> Answered<Json<Created>> {
    let NewTask {
        workflow_sid,
        attributes,
    } = read(&body)?;
    let sid = sim
        .create_task(&workflow_sid, attributes)
        .map_err(invalid)?;
    Ok(Json(Created { sid }))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCall {
    pub from: String,
    pub to: String,
    pub url: String,
}

async fn place_call(State(sim): State<Simulator>, body: Bytes) -> Answered<Json<Created>> {
    let NewCall { from, to, url } = read(&body)?;
    for (name, value) in [("from", &from), ("to", &to), ("url", &url)] {
        if value.trim().is_empty() {
            return Err(invalid(format!("{name} must not be empty")));
        }
    }
    Ok(Json(Created {
        sid: sim.place_call(&from, &to, &url),
    }))
}

async fn hang_up(State(sim): State<Simulator>, Path(sid): Path<String>) -> StatusCode {
    sim.hang_up(&sid);
    StatusCode::NO_CONTENT
}

/// A phone's script: one text (`"human:1, busy"`) or one text per answer.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Script {
    Text(String),
    List(Vec<String>),
}

/// `answers` (`script_phone`), `says` (`phone_says`), or both; what is left out stays.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhoneScript {
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<Script>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub says: Option<String>,
}

async fn script_phone(State(sim): State<Simulator>, body: Bytes) -> Answered<StatusCode> {
    let PhoneScript {
        number,
        answers,
        says,
    } = read(&body)?;
    if number.trim().is_empty() {
        return Err(invalid("number must not be empty"));
    }
    if answers.is_none() && says.is_none() {
        return Err(invalid("answers or says is required"));
    }
    // Both are checked before either is applied.
    let answers = answers
        .map(|answers| match answers {
            Script::Text(text) => Answer::parse_list(&text),
            Script::List(texts) => texts.iter().map(|t| Answer::parse(t)).collect(),
        })
        .transpose()
        .map_err(invalid)?;
    if let Some(answers) = answers {
        sim.script_phone(&number, answers);
    }
    if let Some(says) = says {
        sim.phone_says(&number, &says);
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn realism(State(sim): State<Simulator>) -> Json<Realism> {
    Json(sim.realism())
}

async fn set_realism(State(sim): State<Simulator>, body: Bytes) -> Answered<StatusCode> {
    let realism: Realism = read(&body)?;
    sim.set_realism(realism).map_err(invalid)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FailNext {
    pub status: u16,
    pub times: u32,
}

async fn fail_next(State(sim): State<Simulator>, body: Bytes) -> Answered<StatusCode> {
    let FailNext { status, times } = read(&body)?;
    if !(400..=599).contains(&status) {
        return Err(invalid(format!(
            "status {status} is not a failure (400 to 599)"
        )));
    }
    sim.fail_next(status, times);
    Ok(StatusCode::NO_CONTENT)
}

async fn tick(State(sim): State<Simulator>) -> StatusCode {
    sim.tick().await;
    StatusCode::NO_CONTENT
}

async fn settle(State(sim): State<Simulator>) -> StatusCode {
    sim.settle().await;
    StatusCode::NO_CONTENT
}
