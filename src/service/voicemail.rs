//! Voicemail: a caller nobody could take is sent to a recording; the recording is kept,
//! becomes a callback request, and is announced by text to the business's notify list with
//! a listen link (and Twilio's transcription, when one was asked for).

use super::Service;
use super::listen_link;
use crate::core::callback::{Request, Source, Voicemail};
use crate::core::domain::{CallSid, Locale, SkillKey, TaskSid};
use crate::core::effects::Command;
use crate::core::intake::reply::{Arg, Reply};
use crate::store::{StoreError, VoicemailRecord};

/// Where a voicemail came from, as the recording's webhooks carry it.
#[derive(Clone, Debug)]
pub struct Caller {
    pub language: Locale,
    pub city: Option<String>,
}

impl Service {
    /// The caller of `call_sid` reached the voicemail queue: send their call to the
    /// recording TwiML at `path` (once per task, however often TaskRouter says it).
    pub async fn to_voicemail(
        &self,
        task_sid: &TaskSid,
        call_sid: CallSid,
        path: String,
    ) -> Result<(), StoreError> {
        let command = Command::RedirectCall { call_sid, path };
        let now = self.clock.now();
        self.store
            .enqueue(&format!("voicemail:{task_sid}"), vec![command], now)
            .await?;
        self.persisted().await
    }

    /// Whether Twilio is asked to transcribe a message in `language` (it transcribes
    /// English only).
    pub fn transcribes(&self, language: Locale) -> bool {
        self.settings.voicemail.transcribe && language == Locale::En
    }

    /// A recording is ready: keep it, make it a callback request, and text the notify list
    /// (now, or with the transcription when one is coming), once per recording. Returns
    /// whether it was new.
    pub async fn voicemail_recorded(
        &self,
        voicemail: VoicemailRecord,
        caller: Caller,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let commands = if self.transcribes(caller.language) {
            vec![Command::AnnounceVoicemail {
                recording_sid: voicemail.recording_sid.clone(),
                due: now + TRANSCRIPTION_WAIT,
            }]
        } else {
            self.voicemail_notice(&voicemail, None, now)
        };
        let request = Request {
            id: voicemail.call_sid.clone(),
            customer: voicemail.caller.clone(),
            caller_city: caller.city,
            skill: voicemail
                .skill
                .as_deref()
                .and_then(|s| SkillKey::parse(s).ok()),
            language: caller.language,
            source: Source::Voicemail,
            voicemail: Some(Voicemail {
                recording_sid: voicemail.recording_sid.clone(),
                duration_secs: voicemail.duration_secs,
                transcription: None,
            }),
        };
        let added = self.store.add_voicemail(voicemail, commands, now).await?;
        self.persisted().await?;
        self.request_callback(request).await?;
        Ok(added)
    }

    /// Twilio's transcription of a voicemail arrived (or failed, or never came in time:
    /// `text` None): text the notify list now. Once per recording, whichever comes first.
    pub async fn voicemail_transcribed(
        &self,
        recording_sid: &str,
        text: Option<String>,
    ) -> Result<(), StoreError> {
        let voicemails = self.store.voicemails().await?;
        let Some(voicemail) = voicemails.iter().find(|v| v.recording_sid == recording_sid) else {
            tracing::warn!(recording_sid, "transcription of an unknown recording");
            return Ok(());
        };
        if let Some(words) = &text {
            self.callback_transcribed(&voicemail.call_sid, words.clone())
                .await?;
        }
        let now = self.clock.now();
        let commands = self.voicemail_notice(voicemail, text.as_deref(), now);
        self.store
            .enqueue(
                &format!("voicemail-announced:{recording_sid}"),
                commands,
                now,
            )
            .await?;
        self.persisted().await
    }

    /// The texts announcing a voicemail to the notify list.
    fn voicemail_notice(
        &self,
        voicemail: &VoicemailRecord,
        words: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<Command> {
        let settings = &self.settings;
        let locale = settings.default_language;
        let skill = voicemail
            .skill
            .as_deref()
            .and_then(|s| SkillKey::parse(s).ok());
        let skill = settings.catalog.name_of(skill.as_ref(), locale);
        let expires = now + settings.voicemail.link_ttl;
        let url = listen_link::link(
            &settings.public_url,
            secrecy::ExposeSecret::expose_secret(&settings.auth_token),
            &voicemail.recording_sid,
            expires,
        );
        let key = match words {
            Some(_) => "voicemail-notify-words",
            None => "voicemail-notify",
        };
        let reply = Reply::new(key)
            .text("caller", voicemail.caller.clone())
            .text("skill", skill)
            .arg("seconds", Arg::Number(i64::from(voicemail.duration_secs)))
            .text("url", url)
            .text("words", shortened(words.unwrap_or_default()));
        let body = self.messages.render(locale, &reply, &settings.catalog);
        to_notify_list(settings, &body)
    }
}

/// The same text to everyone on the business's notify list (`voicemail.notify`).
pub(super) fn to_notify_list(settings: &crate::config::Settings, body: &str) -> Vec<Command> {
    settings
        .voicemail
        .notify
        .iter()
        .map(|to| Command::SendSms {
            to: to.clone(),
            body: body.to_string(),
        })
        .collect()
}

/// How long a voicemail's text waits for Twilio's transcription (usually there within a
/// minute or two) before it goes without the words.
pub const TRANSCRIPTION_WAIT: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// How much of a transcription a voicemail text carries: the text stays within two SMS
/// segments, and the listen link has the whole message.
pub const WORDS_IN_TEXT: usize = 100;

/// The first `WORDS_IN_TEXT` characters of `words`, cut after a whole word, with "..."
/// when something was left out.
fn shortened(words: &str) -> String {
    let words = words.trim();
    if words.chars().count() <= WORDS_IN_TEXT {
        return words.to_string();
    }
    let cut: String = words.chars().take(WORDS_IN_TEXT).collect();
    let whole = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}...", whole.trim_end_matches([',', '.', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_transcription_is_cut_after_a_whole_word() {
        assert_eq!(shortened("  Call me back.  "), "Call me back.");
        let long = "word ".repeat(40);
        let short = shortened(&long);
        assert!(short.ends_with("word..."), "{short}");
        assert!(short.chars().count() <= WORDS_IN_TEXT + 3, "{short}");
    }
}
