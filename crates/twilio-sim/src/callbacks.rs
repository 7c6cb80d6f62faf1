//! Delivering callbacks to shiftline: one background task posts them in the order they
//! were queued, signed with `X-Twilio-Signature` over the exact URL posted to.
//!
//! Twilio does not retry a failed TaskRouter callback (an assignment callback falls back
//! to `FallbackAssignmentCallbackUrl`, then is given up), so a failure here is logged and
//! dropped. `pending` counts what is queued or in flight, so `Simulator::settle` can
//! wait for it to reach zero.
//!
//! A voice request (a TwiML fetch, a status callback) carries a [`Then`]: once shiftline
//! has answered, the answer is handed back to the simulated account (under its lock)
//! *before* the request stops counting as pending, so whatever the answer sets off (the
//! next TwiML fetch, a task, a bridge) is queued before `settle` can see zero. One call's
//! whole conversation with shiftline is therefore awaited by one `settle`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::voice::Then;
use crate::redact::redact;
use crate::signature;

/// Twilio's limit for an assignment callback answer; the event callback allows 15 s,
/// but a test double has no reason to wait that long.
const TIMEOUT: Duration = Duration::from_secs(5);

/// One form POST to shiftline.
#[derive(Debug, Clone)]
pub(crate) struct Callback {
    /// `assignment` or the event type, for logs.
    pub kind: String,
    pub url: String,
    /// Tried when `url` fails (assignment callbacks only).
    pub fallback_url: Option<String>,
    pub params: Vec<(String, String)>,
    /// What to do with shiftline's answer; `None`: only its success matters.
    pub then: Option<Then>,
}

/// shiftline's answer to a request that carried a [`Then`].
#[derive(Debug)]
pub(crate) struct Reply {
    pub then: Then,
    /// The URL last tried.
    pub url: String,
    /// The HTTP status, or `None` when no answer came (refused connection, timeout).
    pub status: Option<u16>,
    pub body: String,
}

/// Takes replies back into the simulated account.
pub(crate) type OnReply = Box<dyn Fn(Reply) + Send + Sync>;

/// The sending side. Pushed to under the state lock, so callbacks leave in the order the
/// simulated account produced them.
pub(crate) struct Outbox {
    queue: mpsc::UnboundedSender<Callback>,
    pending: Arc<watch::Sender<usize>>,
}

impl Outbox {
    pub fn push(&self, callback: Callback) {
        self.pending.send_modify(|n| *n += 1);
        if self.queue.send(callback).is_err() {
            // The delivery task is gone (runtime shutting down): nothing will arrive.
            self.pending.send_modify(|n| *n -= 1);
        }
    }

    /// Watches the number of callbacks not yet delivered.
    pub fn pending(&self) -> watch::Receiver<usize> {
        self.pending.subscribe()
    }
}

/// The HTTP client callbacks go out with.
pub(crate) fn client() -> std::io::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(std::io::Error::other)
}

/// Starts the delivery task; callbacks are signed with `auth_token`, and the answers to
/// those carrying a [`Then`] go to `on_reply`.
pub(crate) fn start(client: reqwest::Client, auth_token: String, on_reply: OnReply) -> Outbox {
    let (queue, mut receiver) = mpsc::unbounded_channel::<Callback>();
    let pending = Arc::new(watch::channel(0usize).0);
    let counter = pending.clone();
    tokio::spawn(async move {
        while let Some(callback) = receiver.recv().await {
            let (url, status, body) = deliver(&client, &auth_token, &callback).await;
            if let Some(then) = callback.then {
                on_reply(Reply {
                    then,
                    url,
                    status,
                    body,
                });
            }
            counter.send_modify(|n| *n = n.saturating_sub(1));
        }
    });
    Outbox { queue, pending }
}

/// Posts a callback (then its fallback, if the first URL fails); the URL last tried,
/// its status and body.
async fn deliver(
    client: &reqwest::Client,
    auth_token: &str,
    callback: &Callback,
) -> (String, Option<u16>, String) {
    let mut last = (callback.url.clone(), None, String::new());
    for url in std::iter::once(&callback.url).chain(callback.fallback_url.iter()) {
        let signature = signature::sign(auth_token, url, &callback.params);
        let sent = client
            .post(url)
            .header("X-Twilio-Signature", signature)
            .header(reqwest::header::USER_AGENT, "TwilioProxy/1.1")
            .form(&callback.params)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                let body = if callback.then.is_some() {
                    response.text().await.unwrap_or_default()
                } else {
                    String::new()
                };
                if status.is_success() {
                    return (url.clone(), Some(status.as_u16()), body);
                }
                tracing::warn!(
                    kind = %callback.kind,
                    url = %redact(url),
                    status = status.as_u16(),
                    "simulated Twilio callback refused"
                );
                last = (url.clone(), Some(status.as_u16()), body);
            }
            Err(error) => {
                tracing::warn!(
                    kind = %callback.kind,
                    url = %redact(url),
                    error = %redact(&error.to_string()),
                    "simulated Twilio callback failed"
                );
                last = (url.clone(), None, String::new());
            }
        }
    }
    last
}
