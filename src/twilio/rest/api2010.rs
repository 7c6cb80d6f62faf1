//! API 2010 operations: outbound calls with answering-machine detection, live call
//! updates, and SMS (REFERENCE 6 and 7). Paths are under
//! `/2010-04-01/Accounts/{AccountSid}` and end in `.json`.

use super::client::TwilioClient;
use super::error::TwilioError;
use super::form::Params;
use super::resources::{Call, Message};

/// An outbound call. Give `url` (TwiML fetched when answered) or `twiml`; if both are
/// given Twilio ignores `twiml`.
///
/// With `machine_detection` set (`Enable` or `DetectMessageEnd`) and `async_amd` true,
/// the call connects at once and the verdict is posted to `async_amd_status_callback`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCreate {
    /// E.164 number or client/SIP address to call.
    pub to: String,
    /// A Twilio number or verified caller ID.
    pub from: String,
    pub url: Option<String>,
    pub twiml: Option<String>,
    /// HTTP method for `url` (`GET`/`POST`).
    pub method: Option<String>,
    pub status_callback: Option<String>,
    /// `initiated ringing answered completed`; one `StatusCallbackEvent` per value. Empty
    /// means Twilio's default (`completed` only).
    pub status_callback_event: Vec<String>,
    pub status_callback_method: Option<String>,
    /// Seconds to let it ring.
    pub timeout: Option<u32>,
    pub record: Option<bool>,
    pub machine_detection: Option<String>,
    pub machine_detection_timeout: Option<u32>,
    pub machine_detection_speech_threshold: Option<u32>,
    pub machine_detection_speech_end_threshold: Option<u32>,
    pub machine_detection_silence_timeout: Option<u32>,
    pub async_amd: Option<bool>,
    pub async_amd_status_callback: Option<String>,
    pub async_amd_status_callback_method: Option<String>,
}

/// Changes to a live call: new instructions (`url`+`method`, or `twiml`), or `status`
/// `completed` (hang up) / `canceled` (only while queued or ringing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallUpdate {
    pub url: Option<String>,
    pub method: Option<String>,
    pub twiml: Option<String>,
    pub status: Option<String>,
}

/// An outbound SMS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageCreate {
    pub to: String,
    /// A Twilio number (E.164).
    pub from: String,
    /// Up to 1600 characters.
    pub body: String,
    pub status_callback: Option<String>,
}

impl TwilioClient {
    /// `POST /Calls.json`.
    pub async fn create_call(&self, c: &CallCreate) -> Result<Call, TwilioError> {
        let params = Params::new()
            .set("To", &c.to)
            .set("From", &c.from)
            .opt("Url", c.url.as_deref())
            .opt("Twiml", c.twiml.as_deref())
            .opt("Method", c.method.as_deref())
            .opt("StatusCallback", c.status_callback.as_deref())
            .list("StatusCallbackEvent", &c.status_callback_event)
            .opt("StatusCallbackMethod", c.status_callback_method.as_deref())
            .opt("Timeout", c.timeout)
            .opt("Record", c.record)
            .opt("MachineDetection", c.machine_detection.as_deref())
            .opt("MachineDetectionTimeout", c.machine_detection_timeout)
            .opt(
                "MachineDetectionSpeechThreshold",
                c.machine_detection_speech_threshold,
            )
            .opt(
                "MachineDetectionSpeechEndThreshold",
                c.machine_detection_speech_end_threshold,
            )
            .opt(
                "MachineDetectionSilenceTimeout",
                c.machine_detection_silence_timeout,
            )
            .opt("AsyncAmd", c.async_amd)
            .opt(
                "AsyncAmdStatusCallback",
                c.async_amd_status_callback.as_deref(),
            )
            .opt(
                "AsyncAmdStatusCallbackMethod",
                c.async_amd_status_callback_method.as_deref(),
            );
        self.post(self.account_url(&["Calls"])?, &params).await
    }

    /// `POST /Calls/{sid}.json`.
    pub async fn update_call(&self, call_sid: &str, u: &CallUpdate) -> Result<Call, TwilioError> {
        let params = Params::new()
            .opt("Url", u.url.as_deref())
            .opt("Method", u.method.as_deref())
            .opt("Twiml", u.twiml.as_deref())
            .opt("Status", u.status.as_deref());
        self.post(self.account_url(&["Calls", call_sid])?, &params)
            .await
    }

    /// `POST /Messages.json`.
    pub async fn create_message(&self, m: &MessageCreate) -> Result<Message, TwilioError> {
        let params = Params::new()
            .set("To", &m.to)
            .set("From", &m.from)
            .set("Body", &m.body)
            .opt("StatusCallback", m.status_callback.as_deref());
        self.post(self.account_url(&["Messages"])?, &params).await
    }
}
