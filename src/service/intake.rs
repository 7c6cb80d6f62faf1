//! A worker's text or phone-menu input, through the intake core, as one unit of work.

use std::sync::Arc;

use super::{Service, context};
use crate::core::domain::PhoneNumber;
use crate::core::intake::record::WorkerRecord;
use crate::core::intake::{self, Input, Outcome};
use crate::store::{Applied, RecordChange, StoreError, Via, WorkerChange, WorkerUnit};

/// Turns an outcome into the answer the channel sends (SMS text, TwiML), inside the unit of
/// work, so that a retried webhook is answered from what was stored.
pub type Render = Arc<dyn Fn(&Outcome, Option<&WorkerRecord>) -> String + Send + Sync>;

impl Service {
    /// A text from `from` (Twilio's `MessageSid` makes a retried webhook change nothing);
    /// returns once the state it reports is durable.
    pub async fn text(
        &self,
        from: PhoneNumber,
        message_sid: &str,
        body: String,
    ) -> Result<Applied, StoreError> {
        let messages = self.messages.clone();
        let settings = self.settings.clone();
        // What the core took the text as, for the metrics: noted while rendering, inside
        // the unit of work, so the text is read once.
        let taken_as = Arc::new(std::sync::Mutex::new("other"));
        let noted = taken_as.clone();
        let render: Render = Arc::new(move |outcome, _| {
            *noted.lock().unwrap_or_else(|e| e.into_inner()) = outcome.keyword;
            messages.render_all(outcome.locale, &outcome.replies, &settings.catalog)
        });
        let applied = self
            .input(
                from,
                format!("sms:{message_sid}"),
                Input::Text(body),
                Via::Sms,
                render,
            )
            .await?;
        if let Applied::Fresh { after, .. } = &applied {
            let language = after
                .as_ref()
                .map_or(self.settings.default_language, |w| w.language);
            let keyword = *taken_as.lock().unwrap_or_else(|e| e.into_inner());
            self.metrics.message(keyword, language.code());
        }
        Ok(applied)
    }

    /// One input from the intake line or an SMS: the intake core on the number's stored
    /// state, the answer rendered by `render`, all in one unit of work; returns once durable.
    pub async fn input(
        &self,
        from: PhoneNumber,
        event_id: String,
        input: Input,
        via: Via,
        render: Render,
    ) -> Result<Applied, StoreError> {
        let applied = self.apply_input(from, event_id, input, via, render).await?;
        self.committed(&applied).await?;
        Ok(applied)
    }

    /// `input` without waiting for durability (for a caller that batches it, or times it).
    pub async fn apply_input(
        &self,
        from: PhoneNumber,
        event_id: String,
        input: Input,
        via: Via,
        render: Render,
    ) -> Result<Applied, StoreError> {
        let now = self.clock.now();
        let settings = self.settings.clone();
        let phone = from.clone();
        self.store
            .apply_worker(WorkerUnit {
                phone: from,
                event_id: Some(event_id),
                now,
                via,
                timer: None,
                decide: Box::new(move |record, attempts| {
                    let ctx = context(&settings);
                    let outcome = intake::on_input(&ctx, &phone, &input, now, record, attempts);
                    WorkerChange {
                        reply: render(&outcome, outcome.record.as_ref()),
                        record: match outcome.record {
                            Some(new) if record != Some(&new) => RecordChange::Put(new),
                            _ => RecordChange::Keep,
                        },
                        pins: outcome.pins,
                        commands: outcome.commands,
                    }
                }),
            })
            .await
    }
}
