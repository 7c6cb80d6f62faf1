//! [`Remote`]: a simulator in another process, driven through its control API
//! (`control`) with the methods a test calls on an in-process
//! [`Simulator`](crate::Simulator), async and fallible.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::control::{Created, FailNext, NewCall, NewTask, PhoneScript, Script};
use super::phones::Answer;
use super::realism::Realism;
use super::{RecordedRequest, SimCall, SimInfo, SimMessage, SimRecording, SimTask, SimWorker};

/// How long one control request may take, `settle` included, before it fails with
/// [`RemoteError::Http`].
const TIMEOUT: Duration = Duration::from_secs(120);

/// Why a [`Remote`] call failed.
#[derive(Debug)]
pub enum RemoteError {
    /// No answer: the simulator is not listening, the connection broke, or the request
    /// timed out.
    Http(reqwest::Error),
    /// The simulator refused: 401 (wrong account SID or auth token), 400 (a value it does
    /// not take: a bad script, impossible realism knobs, an unknown workflow...), 404.
    /// `message` is the one in its error body.
    Refused { status: u16, message: String },
    /// The answer was not the JSON expected (not a simulator at that URL?).
    Unexpected(String),
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::Http(error) => write!(f, "the Twilio simulator did not answer: {error}"),
            RemoteError::Refused { status, message } => {
                write!(f, "the Twilio simulator refused ({status}): {message}")
            }
            RemoteError::Unexpected(what) => {
                write!(f, "the Twilio simulator answered unexpectedly: {what}")
            }
        }
    }
}

impl std::error::Error for RemoteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RemoteError::Http(error) => Some(error),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for RemoteError {
    fn from(error: reqwest::Error) -> Self {
        RemoteError::Http(error)
    }
}

/// A simulator running elsewhere (`shiftline simulator`, [`crate::serve`]), driven over
/// its control API. Its methods are [`Simulator`](crate::Simulator)'s, same names and
/// same answers, but async and returning a `Result`: `sim.workers()` becomes
/// `remote.workers().await?`. A cheap handle, clone it freely.
#[derive(Clone)]
pub struct Remote {
    http: reqwest::Client,
    base_url: String,
    account_sid: String,
    auth_token: String,
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .finish_non_exhaustive()
    }
}

impl Remote {
    /// The simulator at `base_url` (`http://127.0.0.1:9000`, with or without a trailing
    /// `/`), whose account is `account_sid` with `auth_token`. Connects lazily: nothing
    /// is sent until a method is called ([`Remote::wait_until_up`] to wait for a process
    /// that is starting).
    pub fn new(
        base_url: impl Into<String>,
        account_sid: impl Into<String>,
        auth_token: impl Into<String>,
    ) -> Result<Remote, RemoteError> {
        let http = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Remote {
            http,
            base_url: base_url.into().trim_end_matches('/').to_string(),
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
        })
    }

    /// The base for both API 2010 and TaskRouter, as
    /// [`Simulator::base_url`](crate::Simulator::base_url): the URL this handle was made
    /// with.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<Option<T>, RemoteError> {
        let mut request = self
            .http
            .request(method, format!("{}/__sim/{path}", self.base_url))
            .basic_auth(&self.account_sid, Some(&self.auth_token));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if !status.is_success() {
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(RemoteError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        if status == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| RemoteError::Unexpected(format!("{path}: {e}")))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, RemoteError> {
        self.call(reqwest::Method::GET, path, None::<&()>)
            .await?
            .ok_or_else(|| RemoteError::Unexpected(format!("{path}: no body")))
    }

    /// A POST (or PUT) whose answer is a JSON body.
    async fn fetch<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, RemoteError> {
        self.call(method, path, body)
            .await?
            .ok_or_else(|| RemoteError::Unexpected(format!("{path}: no body")))
    }

    /// A POST (or PUT) whose answer does not matter beyond its success.
    async fn act(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<(), RemoteError> {
        self.call::<Value>(method, path, body).await.map(drop)
    }

    /// Who the simulator is and how much it holds.
    pub async fn info(&self) -> Result<SimInfo, RemoteError> {
        self.get("info").await
    }

    /// Waits for a simulator that is starting (a process just spawned) to answer,
    /// asking every 50 ms for at most `timeout`; the last error if it never does. A
    /// refusal (wrong credentials) is returned at once.
    pub async fn wait_until_up(&self, timeout: Duration) -> Result<SimInfo, RemoteError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.info().await {
                Err(RemoteError::Http(error)) if tokio::time::Instant::now() < deadline => {
                    tracing::trace!(%error, "the Twilio simulator is not up yet");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                answer => return answer,
            }
        }
    }

    /// Every REST request answered (and still held), in order, without taking them.
    pub async fn requests(&self) -> Result<Vec<RecordedRequest>, RemoteError> {
        self.get("requests").await
    }

    /// Every REST request answered since the last take, in order; the simulator forgets
    /// them.
    pub async fn take_requests(&self) -> Result<Vec<RecordedRequest>, RemoteError> {
        self.fetch(reqwest::Method::POST, "requests/take", None::<&()>)
            .await
    }

    /// The call log held, without taking it.
    pub async fn call_log(&self) -> Result<Vec<String>, RemoteError> {
        self.get("call-log").await
    }

    /// What happened on calls since the last take, one line each.
    pub async fn take_call_log(&self) -> Result<Vec<String>, RemoteError> {
        self.fetch(reqwest::Method::POST, "call-log/take", None::<&()>)
            .await
    }

    pub async fn workers(&self) -> Result<Vec<SimWorker>, RemoteError> {
        self.get("workers").await
    }

    pub async fn tasks(&self) -> Result<Vec<SimTask>, RemoteError> {
        self.get("tasks").await
    }

    pub async fn calls(&self) -> Result<Vec<SimCall>, RemoteError> {
        self.get("calls").await
    }

    pub async fn messages(&self) -> Result<Vec<SimMessage>, RemoteError> {
        self.get("messages").await
    }

    pub async fn recordings(&self) -> Result<Vec<SimRecording>, RemoteError> {
        self.get("recordings").await
    }

    /// A customer task, as [`Simulator::create_task`](crate::Simulator::create_task); the
    /// task SID.
    pub async fn create_task(
        &self,
        workflow_sid: &str,
        attributes: Value,
    ) -> Result<String, RemoteError> {
        let body = NewTask {
            workflow_sid: workflow_sid.to_string(),
            attributes,
        };
        let created: Created = self
            .fetch(reqwest::Method::POST, "tasks", Some(&body))
            .await?;
        Ok(created.sid)
    }

    /// The next calls to (or from) `number` are answered this way, as
    /// [`Simulator::script_phone`](crate::Simulator::script_phone); an empty list clears
    /// the script.
    pub async fn script_phone(
        &self,
        number: &str,
        answers: Vec<Answer>,
    ) -> Result<(), RemoteError> {
        let texts = answers.iter().map(Answer::to_string).collect();
        self.post_script(number, Script::List(texts)).await
    }

    /// [`Remote::script_phone`] with the script as dialogue files write it:
    /// `"human:1, busy"` (see [`Answer::parse_list`]). A script that does not read is
    /// refused (400) and the number's script left as it was.
    pub async fn script_phone_text(&self, number: &str, answers: &str) -> Result<(), RemoteError> {
        self.post_script(number, Script::Text(answers.to_string()))
            .await
    }

    async fn post_script(&self, number: &str, answers: Script) -> Result<(), RemoteError> {
        let body = PhoneScript {
            number: number.to_string(),
            answers: Some(answers),
            says: None,
        };
        self.act(reqwest::Method::POST, "phones", Some(&body)).await
    }

    /// What the person on `number` says when recorded (their transcription), as
    /// [`Simulator::phone_says`](crate::Simulator::phone_says); `""` forgets it.
    pub async fn phone_says(&self, number: &str, text: &str) -> Result<(), RemoteError> {
        let body = PhoneScript {
            number: number.to_string(),
            answers: None,
            says: Some(text.to_string()),
        };
        self.act(reqwest::Method::POST, "phones", Some(&body)).await
    }

    /// A customer's call from `from` to `to` whose voice webhook is `url`, as
    /// [`Simulator::place_call`](crate::Simulator::place_call); the CallSid.
    pub async fn place_call(&self, from: &str, to: &str, url: &str) -> Result<String, RemoteError> {
        let body = NewCall {
            from: from.to_string(),
            to: to.to_string(),
            url: url.to_string(),
        };
        let created: Created = self
            .fetch(reqwest::Method::POST, "calls", Some(&body))
            .await?;
        Ok(created.sid)
    }

    /// The caller (or callee) of `call_sid` hangs up now, as
    /// [`Simulator::hang_up`](crate::Simulator::hang_up).
    pub async fn hang_up(&self, call_sid: &str) -> Result<(), RemoteError> {
        let path = format!("calls/{}/hang-up", segment(call_sid));
        self.act(reqwest::Method::POST, &path, None::<&()>).await
    }

    /// The next `times` REST requests fail with `status` (400 to 599), as
    /// [`Simulator::fail_next`](crate::Simulator::fail_next).
    pub async fn fail_next(&self, status: u16, times: u32) -> Result<(), RemoteError> {
        let body = FailNext { status, times };
        self.act(reqwest::Method::POST, "fail-next", Some(&body))
            .await
    }

    /// The realism knobs in force.
    pub async fn realism(&self) -> Result<Realism, RemoteError> {
        self.get("realism").await
    }

    /// As [`Simulator::set_realism`](crate::Simulator::set_realism): knobs that fail
    /// [`Realism::validate`] are refused (400, with its message) and the old ones kept.
    pub async fn set_realism(&self, realism: Realism) -> Result<(), RemoteError> {
        self.act(reqwest::Method::PUT, "realism", Some(&realism))
            .await
    }

    /// Fires what is due now, as [`Simulator::tick`](crate::Simulator::tick) (a
    /// standalone simulator also ticks on its own every 250 ms).
    pub async fn tick(&self) -> Result<(), RemoteError> {
        self.act(reqwest::Method::POST, "tick", None::<&()>).await
    }

    /// Answers once every callback queued so far has been delivered or given up, as
    /// [`Simulator::settle`](crate::Simulator::settle).
    pub async fn settle(&self) -> Result<(), RemoteError> {
        self.act(reqwest::Method::POST, "settle", None::<&()>).await
    }
}

/// `text` as one path segment (a SID never needs it; anything else stays one segment).
fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
