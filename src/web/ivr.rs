//! The intake line: a worker calls from their registered phone and does by keypad or by
//! voice what they would do by SMS. Every key or phrase goes through the same pure core
//! (`intake::on_input`) and the same store transaction as a text; only the transport and
//! the renderer differ: replies are spoken from the `.voice` wording in `locales/`, and the
//! next prompt follows the worker's Dialogue step (main menu, skill menu, confirm).
//!
//! Each prompt's action URL carries a step number, and the step is the idempotency key
//! (`ivr:{CallSid}:{step}`): Twilio retrying a Gather action gets the stored TwiML back and
//! changes nothing twice. A caller who hangs up mid-menu leaves the menu open until it
//! expires (15 minutes), exactly as a worker who stops texting.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::WebError;
use super::signed_form::SignedForm;
use crate::core::domain::{Locale, PhoneNumber};
use crate::core::intake::machines::{Dialogue, Presence};
use crate::core::intake::record::WorkerRecord;
use crate::core::intake::reply::Reply;
use crate::core::intake::understand::Intent;
use crate::core::intake::{Input, Outcome};
use crate::store::Via;
use crate::twilio::twiml;

type Params = Query<HashMap<String, String>>;

/// Silences or wrong keys in a row before the line says goodbye.
const MAX_TRIES: u32 = 3;
/// Seconds a prompt waits for the first key or word.
const GATHER_TIMEOUT: u32 = 6;

fn twiml_response(body: String) -> Response {
    ([(CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

fn number(params: &HashMap<String, String>, name: &str) -> u32 {
    params.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// What a prompt collects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prompt {
    Main,
    Skills,
    Confirm,
}

impl Prompt {
    fn path(self) -> &'static str {
        match self {
            Prompt::Main => "menu",
            Prompt::Skills => "skills",
            Prompt::Confirm => "confirm",
        }
    }

    fn for_step(dialogue: Dialogue) -> Self {
        match dialogue {
            // Weekly hours are typed by SMS; by phone the main menu is offered instead.
            Dialogue::Idle | Dialogue::ScheduleEntry => Prompt::Main,
            Dialogue::SkillMenu => Prompt::Skills,
            Dialogue::Confirm => Prompt::Confirm,
        }
    }
}

/// Speech hints per language, so recognition expects the words the menu offers.
fn hints(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "online, offline, available, skills, status, yes, no",
        Locale::Es => "en línea, fuera de línea, disponible, salir, habilidades, estado, sí, no",
    }
}

struct Speaker<'a> {
    state: &'a AppState,
    locale: Locale,
    response: twiml::Response,
}

impl<'a> Speaker<'a> {
    fn new(state: &'a AppState, locale: Locale) -> Self {
        Self {
            state,
            locale,
            response: twiml::Response::new(),
        }
    }

    fn say(mut self, reply: &Reply) -> Self {
        let text =
            self.state
                .messages
                .render_voice(self.locale, reply, &self.state.settings.catalog);
        self.response = self.response.say(&text, self.locale.voice_language());
        self
    }

    /// A `<Gather>` for `prompt`, posting to its action with the next step number.
    fn ask(mut self, prompt: Prompt, prompts: &[Reply], step: u32, tries: u32) -> Self {
        let settings = &self.state.settings;
        let action = format!(
            "{}/twilio/voice/intake/{}?step={step}&tries={tries}",
            settings.public_url,
            prompt.path()
        );
        let texts: Vec<String> = prompts
            .iter()
            .map(|r| {
                self.state
                    .messages
                    .render_voice(self.locale, r, &settings.catalog)
            })
            .collect();
        let lang = self.locale.voice_language();
        let spoken: Vec<(&str, &str)> = texts.iter().map(|t| (t.as_str(), lang)).collect();
        // Several skills are keyed in one go and ended with #; the others take one key.
        let digits = if prompt == Prompt::Skills { 0 } else { 1 };
        self.response = self.response.gather_speech(
            &action,
            digits,
            GATHER_TIMEOUT,
            lang,
            hints(self.locale),
            &spoken,
        );
        self
    }

    fn hangup(mut self) -> Self {
        self.response = self.response.hangup();
        self
    }

    fn goodbye(mut self) -> Self {
        let text = self.state.messages.render_voice(
            self.locale,
            &Reply::new("ivr-goodbye"),
            &self.state.settings.catalog,
        );
        self.response = self
            .response
            .say(&text, self.locale.voice_language())
            .hangup();
        self
    }

    fn build(self) -> String {
        self.response.build()
    }
}

/// The greeting and the main menu for a known worker.
fn hello(state: &AppState, worker: &WorkerRecord, step: u32) -> String {
    let key = match worker.presence {
        Presence::Online | Presence::CoolDown => "ivr-hello-online",
        Presence::Offline => "ivr-hello-offline",
    };
    Speaker::new(state, worker.language)
        .ask(
            Prompt::Main,
            &[
                Reply::new(key).text("name", worker.name.clone()),
                Reply::new("ivr-menu"),
            ],
            step,
            0,
        )
        .build()
}

/// `POST /twilio/voice/intake`: a call to the intake line.
pub async fn intake(State(state): State<AppState>, form: SignedForm) -> Result<Response, WebError> {
    form.required("CallSid")?;
    let default = state.settings.default_language;
    // Caller ID may be withheld ("anonymous"): such a caller cannot be identified.
    let Ok(from) = PhoneNumber::parse(form.required("From")?) else {
        return Ok(twiml_response(not_registered(&state, default)));
    };
    match state
        .store
        .worker(&from)
        .await
        .map_err(WebError::internal)?
    {
        Some(worker) if worker.deactivated => {
            Ok(twiml_response(not_registered(&state, worker.language)))
        }
        Some(worker) => Ok(twiml_response(hello(&state, &worker, 1))),
        None if state.settings.enrolment.is_some() => Ok(twiml_response(ask_pin(
            &state,
            default,
            1,
            &[Reply::new("ivr-pin")],
        ))),
        None => Ok(twiml_response(not_registered(&state, default))),
    }
}

fn not_registered(state: &AppState, locale: Locale) -> String {
    Speaker::new(state, locale)
        .say(&Reply::new("ivr-not-registered"))
        .hangup()
        .build()
}

fn ask_pin(state: &AppState, locale: Locale, attempt: u32, prompts: &[Reply]) -> String {
    let settings = &state.settings;
    let action = format!(
        "{}/twilio/voice/intake/pin?try={attempt}",
        settings.public_url
    );
    let texts: Vec<String> = prompts
        .iter()
        .map(|r| state.messages.render_voice(locale, r, &settings.catalog))
        .collect();
    let spoken: Vec<(&str, &str)> = texts
        .iter()
        .map(|t| (t.as_str(), locale.voice_language()))
        .collect();
    twiml::Response::new()
        .gather_keys(&action, GATHER_TIMEOUT, &spoken)
        .build()
}

/// `POST /twilio/voice/intake/pin?try=N`: an unknown caller's enrolment PIN. Three tries per
/// call; wrong PINs also count against the number across calls (the same limit as SMS).
pub async fn pin(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    let call_sid = form.required("CallSid")?;
    let from = PhoneNumber::parse(form.required("From")?)
        .map_err(|e| WebError::BadRequest(format!("From: {e}")))?;
    let attempt = number(&params, "try").max(1);
    let digits: String = form
        .get("Digits")
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let locale = state.settings.default_language;
    // A worker registered by phone is named after their number until a manager renames them.
    let name = format!("Caller {}", &from.as_str()[from.as_str().len() - 4..]);
    let input = Input::Key(Intent::Join { pin: digits, name });
    let event_id = format!("ivr:{call_sid}:pin{attempt}");
    let speaker = state.clone();
    let body = apply(
        &state,
        event_id,
        &from,
        input,
        move |outcome, record| match record {
            Some(worker) => {
                let welcome = Speaker::new(&speaker, worker.language).say(&outcome_reply(outcome));
                welcome
                    .ask(Prompt::Main, &[Reply::new("ivr-menu")], 1, 0)
                    .build()
            }
            None if outcome
                .replies
                .first()
                .is_some_and(|r| r.key == "join-locked")
                || attempt >= MAX_TRIES =>
            {
                Speaker::new(&speaker, locale)
                    .say(&outcome_reply(outcome))
                    .goodbye()
                    .build()
            }
            None => ask_pin(
                &speaker,
                locale,
                attempt + 1,
                &[outcome_reply(outcome), Reply::new("join-usage")],
            ),
        },
    )
    .await?;
    Ok(twiml_response(body))
}

fn outcome_reply(outcome: &Outcome) -> Reply {
    outcome
        .replies
        .first()
        .cloned()
        .unwrap_or_else(|| Reply::new("not-understood-blank"))
}

/// `POST /twilio/voice/intake/menu`: 1 online, 2 offline, 3 skills, 4 status, 9 repeat,
/// or a spoken command.
pub async fn menu(
    state: State<AppState>,
    params: Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    step(state, params, form, Prompt::Main, |digits| match digits {
        "1" => Some(Input::Key(Intent::On)),
        "2" => Some(Input::Key(Intent::Off)),
        "3" => Some(Input::Key(Intent::Skills)),
        "4" => Some(Input::Key(Intent::Status)),
        _ => None,
    })
    .await
}

/// `POST /twilio/voice/intake/skills`: skill numbers keyed in one go ("13#"), or names said.
pub async fn skills(
    state: State<AppState>,
    params: Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    step(state, params, form, Prompt::Skills, |_| None).await
}

/// `POST /twilio/voice/intake/confirm`: 1 saves, 2 cancels.
pub async fn confirm(
    state: State<AppState>,
    params: Params,
    form: SignedForm,
) -> Result<Response, WebError> {
    step(
        state,
        params,
        form,
        Prompt::Confirm,
        |digits| match digits {
            "1" => Some(Input::Key(Intent::Yes)),
            "2" => Some(Input::Key(Intent::No)),
            _ => None,
        },
    )
    .await
}

/// One answer to a prompt. `keys` reads a keypad answer as a command; what it does not
/// read (skill numbers, speech) goes to the core as text, like an SMS.
async fn step(
    State(state): State<AppState>,
    Query(params): Params,
    form: SignedForm,
    prompt: Prompt,
    keys: impl Fn(&str) -> Option<Input>,
) -> Result<Response, WebError> {
    let call_sid = form.required("CallSid")?;
    let from = PhoneNumber::parse(form.required("From")?)
        .map_err(|e| WebError::BadRequest(format!("From: {e}")))?;
    let Some(worker) = state
        .store
        .worker(&from)
        .await
        .map_err(WebError::internal)?
    else {
        return Ok(twiml_response(not_registered(
            &state,
            state.settings.default_language,
        )));
    };
    if worker.deactivated {
        return Ok(twiml_response(not_registered(&state, worker.language)));
    }
    let step = number(&params, "step");
    let tries = number(&params, "tries");
    let digits: String = form
        .get("Digits")
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    let speech = form
        .get("SpeechResult")
        .unwrap_or_default()
        .trim()
        .to_string();
    // Keyed skill numbers are read one by one ("13" is skills 1 and 3).
    let spaced: String = digits.chars().map(|c| format!("{c} ")).collect();
    let input = match (keys(&digits), digits.is_empty(), speech.is_empty()) {
        (Some(input), _, _) => Some(input),
        (None, false, _) if prompt == Prompt::Skills => {
            Some(Input::Text(spaced.trim().to_string()))
        }
        (None, _, false) => Some(Input::Text(speech.to_string())),
        _ => None,
    };
    let locale = worker.language;
    let Some(input) = input else {
        // Silence, 9 or a key the menu does not have: ask again, then give up politely.
        let repeat = prompt == Prompt::Main && digits == "9";
        if tries + 1 >= MAX_TRIES && !repeat {
            return Ok(twiml_response(
                Speaker::new(&state, locale)
                    .say(&Reply::new("ivr-no-input"))
                    .goodbye()
                    .build(),
            ));
        }
        let mut prompts = Vec::new();
        if !repeat {
            prompts.push(Reply::new(if digits.is_empty() {
                "ivr-no-input"
            } else {
                "not-understood-blank"
            }));
        }
        prompts.extend(reprompt(&worker, prompt));
        let next_tries = if repeat { tries } else { tries + 1 };
        return Ok(twiml_response(
            Speaker::new(&state, locale)
                .ask(prompt, &prompts, step + 1, next_tries)
                .build(),
        ));
    };
    let event_id = format!("ivr:{call_sid}:{step}");
    let shared = state.clone();
    let body = apply(&state, event_id, &from, input, move |outcome, record| {
        let worker = record.unwrap_or(&worker);
        let next = Prompt::for_step(worker.dialogue);
        let mut speaker = Speaker::new(&shared, outcome.locale);
        // The skill menu and confirm replies are the next prompt itself; others are said first.
        let (said, asked): (Vec<&Reply>, Vec<&Reply>) = outcome
            .replies
            .iter()
            .partition(|r| next == Prompt::Main || !is_prompt(r));
        for reply in said {
            speaker = speaker.say(reply);
        }
        let mut prompts: Vec<Reply> = asked.into_iter().cloned().collect();
        if next == Prompt::Main {
            prompts.push(Reply::new("ivr-menu"));
        }
        if prompts.is_empty() {
            prompts.extend(reprompt(worker, next));
        }
        speaker.ask(next, &prompts, step + 1, 0).build()
    })
    .await?;
    Ok(twiml_response(body))
}

/// Replies that ask for the next answer (the skill menu, the confirm question).
fn is_prompt(reply: &Reply) -> bool {
    reply.key.starts_with("skill-menu")
        || reply.key.starts_with("confirm-")
        || reply.key.starts_with("menu-")
}

/// The question to repeat for a prompt, from the worker's record.
fn reprompt(worker: &WorkerRecord, prompt: Prompt) -> Vec<Reply> {
    use crate::core::intake::record::Pending;
    use crate::core::intake::reply::Arg;
    use crate::core::intake::turn::command_key;
    match prompt {
        Prompt::Main => vec![Reply::new("ivr-menu")],
        Prompt::Skills => vec![Reply::new("skill-menu").arg("menu", Arg::Menu)],
        Prompt::Confirm => match &worker.pending {
            Some(Pending::Schedule { .. }) => vec![Reply::new("confirm-schedule-unclear")],
            Some(Pending::Command { intent }) => {
                vec![Reply::new("confirm-guess").arg("command", Arg::Command(command_key(intent)))]
            }
            Some(Pending::Skills { chosen, .. }) => {
                vec![Reply::new("confirm-unclear").arg("skills", Arg::Skills(chosen.clone()))]
            }
            None => vec![Reply::new("confirm-unclear").arg("skills", Arg::Skills(Vec::new()))],
        },
    }
}

/// Runs one input through the intake use case, rendering the TwiML inside the unit of
/// work so a retried request gets the stored answer.
async fn apply(
    state: &AppState,
    event_id: String,
    from: &PhoneNumber,
    input: Input,
    render: impl Fn(&Outcome, Option<&WorkerRecord>) -> String + Send + Sync + 'static,
) -> Result<String, WebError> {
    let applied = state
        .input(
            from.clone(),
            event_id.clone(),
            input,
            Via::Ivr,
            std::sync::Arc::new(render),
        )
        .await
        .map_err(WebError::internal)?;
    tracing::info!(from = %from.masked(), event_id, "ivr step");
    Ok(applied.reply().to_string())
}
