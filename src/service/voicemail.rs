//! Voicemail: a caller nobody could take is sent to a recording, and the recording is kept
//! and announced by text to the business's notify list.

use super::Service;
use crate::core::domain::{CallSid, SkillKey, TaskSid};
use crate::core::effects::Command;
use crate::core::intake::reply::{Arg, Reply};
use crate::store::{StoreError, VoicemailRecord};

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

    /// A recording is ready: keep it and text the notify list, once per recording. Returns
    /// whether it was new.
    pub async fn voicemail_recorded(&self, voicemail: VoicemailRecord) -> Result<bool, StoreError> {
        let settings = &self.settings;
        let locale = settings.default_language;
        let skill = voicemail
            .skill
            .as_deref()
            .and_then(|s| SkillKey::parse(s).ok())
            .and_then(|k| settings.catalog.get(&k))
            .map(|s| s.name(locale).to_string())
            .unwrap_or_default();
        let reply = Reply::new("voicemail-notify")
            .text("caller", voicemail.caller.clone())
            .text("skill", skill)
            .arg("seconds", Arg::Number(i64::from(voicemail.duration_secs)))
            .text("url", voicemail.recording_url.clone());
        let body = self.messages.render(locale, &reply, &settings.catalog);
        let commands = settings
            .voicemail
            .notify
            .iter()
            .map(|to| Command::SendSms {
                to: to.clone(),
                body: body.clone(),
            })
            .collect();
        let now = self.clock.now();
        let added = self.store.add_voicemail(voicemail, commands, now).await?;
        self.persisted().await?;
        Ok(added)
    }
}
