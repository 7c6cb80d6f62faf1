//! Delivering callbacks to shiftline: one background task posts them in the order they
//! were queued, signed with `X-Twilio-Signature` over the exact URL posted to.
//!
//! Twilio does not retry a failed TaskRouter callback (an assignment callback falls back
//! to `FallbackAssignmentCallbackUrl`, then is given up), so a failure here is logged and
//! dropped. `pending` counts what is queued or in flight, so `Simulator::settle` can
//! wait for it to reach zero.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::twilio::signature;

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
}

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

/// Starts the delivery task; callbacks are signed with `auth_token`.
pub(crate) fn start(auth_token: String) -> std::io::Result<Outbox> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(std::io::Error::other)?;
    let (queue, mut receiver) = mpsc::unbounded_channel::<Callback>();
    let pending = Arc::new(watch::channel(0usize).0);
    let counter = pending.clone();
    tokio::spawn(async move {
        while let Some(callback) = receiver.recv().await {
            deliver(&client, &auth_token, &callback).await;
            counter.send_modify(|n| *n = n.saturating_sub(1));
        }
    });
    Ok(Outbox { queue, pending })
}

async fn deliver(client: &reqwest::Client, auth_token: &str, callback: &Callback) {
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
            Ok(response) if response.status().is_success() => return,
            Ok(response) => tracing::warn!(
                kind = %callback.kind,
                url,
                status = response.status().as_u16(),
                "simulated Twilio callback refused"
            ),
            Err(error) => tracing::warn!(
                kind = %callback.kind,
                url,
                %error,
                "simulated Twilio callback failed"
            ),
        }
    }
}
