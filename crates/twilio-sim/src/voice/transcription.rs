//! `<Record transcribe="true">`: what the recorded person says, as their phone script
//! tells it (`Simulator::phone_says`).
//!
//! A person (`Human`, `QuietHuman`, or an unscripted caller) with a `says` text and a
//! recording of 2 to 120 seconds (Twilio's limits) is transcribed: `completed`, the text
//! verbatim. Anyone else (no `says`, a machine, a recording too short or too long) gets
//! `failed` and no text. The transcription (`TR…`) is kept on the recording, and the
//! `transcribeCallback`, if any, is posted after the recording status callback: the call's
//! parameters (`CallStatus=completed`) plus `TranscriptionSid TranscriptionText` (only
//! when there is text) `TranscriptionStatus TranscriptionUrl RecordingSid RecordingUrl`.

use super::{Then, push};
use crate::callbacks::Callback;
use crate::phones::Answer;
use crate::state::{State, Transcription};

/// The recording lengths Twilio transcribes, in seconds.
const TRANSCRIBED: std::ops::RangeInclusive<u32> = 2..=120;

impl State {
    /// Transcribes recording `recording_sid` of call `sid` and posts `callback`, if any.
    pub(super) fn transcribe(&mut self, sid: &str, recording_sid: &str, callback: Option<String>) {
        let text = self.said(sid, recording_sid);
        let transcription_sid = self.next_sid("TR");
        let Some(recording) = self.recordings.iter_mut().find(|r| r.sid == recording_sid) else {
            return;
        };
        recording.transcription = Some(Transcription {
            sid: transcription_sid.clone(),
            text: text.clone(),
        });
        let recording_url = recording.url.clone();
        match &text {
            Some(text) => self.log(sid, format!("transcription: {text:?}")),
            None => self.log(sid, "transcription failed"),
        }
        let (Some(callback), Some(mut params)) = (callback, self.hung_up_params(sid)) else {
            return;
        };
        let status = if text.is_some() {
            "completed"
        } else {
            "failed"
        };
        push(&mut params, "TranscriptionSid", &transcription_sid);
        if let Some(text) = text {
            push(&mut params, "TranscriptionText", text);
        }
        push(&mut params, "TranscriptionStatus", status);
        let url = self.transcription_url(&transcription_sid);
        push(&mut params, "TranscriptionUrl", url);
        push(&mut params, "RecordingSid", recording_sid);
        push(&mut params, "RecordingUrl", recording_url);
        self.outbox.push(Callback {
            kind: "transcription".into(),
            url: callback,
            fallback_url: None,
            params,
            then: Some(Then::Notify {
                call: sid.to_string(),
            }),
        });
    }

    /// What the person recorded on call `sid` said, if it can be transcribed.
    fn said(&self, sid: &str, recording_sid: &str) -> Option<String> {
        let call = self.calls.get(sid)?;
        let recording = self.recordings.iter().find(|r| r.sid == recording_sid)?;
        let person = matches!(
            call.voice.party,
            Answer::Human { .. } | Answer::QuietHuman { .. }
        );
        if !person || !TRANSCRIBED.contains(&recording.duration) {
            return None;
        }
        // The party is the caller of an inbound call, the callee of any other.
        let number = if call.direction == "inbound" {
            &call.from
        } else {
            &call.to
        };
        self.phones.says(number).map(str::to_string)
    }

    /// Where the REST API serves a transcription.
    pub(crate) fn transcription_url(&self, transcription_sid: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Transcriptions/{transcription_sid}.json",
            self.base_url, self.account_sid
        )
    }
}
