//! A timer the core set (the end of a cool-down, a shift boundary, the end of a temporary
//! ON or OFF), come due: fed back to the worker's machines in the unit of work that takes the
//! timer out, so it fires once.

use super::Service;
use crate::core::effects::{Command, TimerEvent};
use crate::core::intake::timers::on_timer;
use crate::store::{StoreError, TimerEntry, Via, WorkerChange, WorkerUnit};

impl Service {
    /// Fires one due timer; the texts it causes go out unless the worker opted out.
    pub async fn fire_timer(&self, timer: TimerEntry) -> Result<(), StoreError> {
        let now = self.clock.now();
        let settings = self.settings.clone();
        let messages = self.messages.clone();
        let event = timer.event;
        let applied = self
            .store
            .apply_worker(WorkerUnit {
                phone: timer.worker.clone(),
                event_id: None,
                now,
                via: via_of(event),
                timer: Some(timer.key()),
                decide: Box::new(move |record, _| {
                    let Some(worker) = record else {
                        return WorkerChange::none();
                    };
                    let out = on_timer(worker, event, now, &settings.catalog);
                    let texts = out.notices.iter().map(|reply| Command::SendSms {
                        to: worker.phone.clone(),
                        body: messages.render(worker.language, reply, &settings.catalog),
                    });
                    let commands = out.commands.into_iter().chain(texts).collect();
                    WorkerChange::put(record, out.record, commands)
                }),
            })
            .await?;
        self.committed(&applied).await
    }
}

/// Where a timer's change comes from, for the presence history.
fn via_of(event: TimerEvent) -> Via {
    match event {
        TimerEvent::CoolDownOver => Via::Dispatch,
        TimerEvent::ShiftBoundary { .. } | TimerEvent::HoldOver { .. } => Via::Schedule,
    }
}
