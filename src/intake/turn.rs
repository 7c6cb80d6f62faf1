//! One text from a rostered worker, run through the Dialogue and Presence machines.
//!
//! The Dialogue step decides how a text is read: in a SkillMenu it is first an answer to the
//! menu, in a Confirm step first YES or NO, and otherwise (or when it is none of those) a
//! command. A command sent in the middle of a menu leaves the menu (`Leave`) and is carried
//! out, so a worker can always text OFF. Text that is neither changes nothing.

use chrono::{DateTime, Utc};

use super::Context;
use super::keywords::{Intent, understand};
use super::machines::{
    Dialogue, DialogueInput, DialogueOutput, Presence, PresenceInput, PresenceOutput, dialogue,
    fire, presence,
};
use super::menu::{self, MenuError};
use super::record::{Pending, WorkerRecord};
use super::reply::{Arg, Reply};
use super::timers;
use crate::commands::Command;
use crate::domain::SkillKey;
use crate::schedule::Request;

/// The new record, what to say, and what to ask TaskRouter to do.
#[derive(Clone, Debug)]
pub struct Turn {
    pub record: WorkerRecord,
    pub replies: Vec<Reply>,
    pub commands: Vec<Command>,
}

/// How much of an unrecognised text is quoted back to the worker.
const ECHO_CHARS: usize = 24;

/// What the worker sent: free text (an SMS, or speech the IVR heard), or a command chosen
/// from a keypad menu, which needs no reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    Text(&'a str),
    Key(Intent),
}

impl Input<'_> {
    pub fn intent(&self) -> Option<Intent> {
        match self {
            Input::Text(text) => understand(text).or_else(|| {
                super::hold::parse(text).map(|(online, until)| Intent::Hold { online, until })
            }),
            Input::Key(intent) => Some(intent.clone()),
        }
    }

    /// The text to read as a menu answer or quote back; a keypad command has none.
    fn text(&self) -> &str {
        match self {
            Input::Text(text) => text,
            Input::Key(_) => "",
        }
    }
}

/// One SMS from a rostered worker.
pub fn on_text(ctx: &Context, before: &WorkerRecord, text: &str, now: DateTime<Utc>) -> Turn {
    on_input(ctx, before, &Input::Text(text), now)
}

/// One input from a rostered worker, by SMS or by phone: the same machines either way.
pub fn on_input(ctx: &Context, before: &WorkerRecord, input: &Input, now: DateTime<Utc>) -> Turn {
    let mut t = Step {
        ctx,
        now,
        record: before.clone(),
        replies: Vec::new(),
        timers: Vec::new(),
        expired: false,
    };
    if t.record.menu_expired(now) {
        t.dialogue(DialogueInput::Expire);
        t.record.pending = None;
        t.expired = true;
    }
    match t.record.dialogue {
        Dialogue::SkillMenu => t.menu_answer(input),
        Dialogue::ScheduleEntry => t.schedule_answer(input),
        Dialogue::Confirm => t.confirm_answer(input),
        Dialogue::Idle => t.idle(input),
    }
    t.finish(before)
}

struct Step<'a> {
    ctx: &'a Context<'a>,
    now: DateTime<Utc>,
    record: WorkerRecord,
    replies: Vec<Reply>,
    /// Schedule timers to set, beside the TaskRouter sync.
    timers: Vec<Command>,
    /// The text arrived after an open menu timed out.
    expired: bool,
}

impl Step<'_> {
    fn say(&mut self, reply: Reply) {
        self.replies.push(reply);
    }

    fn dialogue(&mut self, input: DialogueInput) -> Option<DialogueOutput> {
        let (next, output) = fire::<dialogue::Impl>(self.record.dialogue, &input)
            .expect("turn only fires inputs the dialogue table has for the current step");
        self.record.dialogue = next;
        self.record.dialogue_since = (next != Dialogue::Idle).then_some(self.now);
        output
    }

    fn presence(&mut self, input: PresenceInput) -> Option<PresenceOutput> {
        let (next, output) = fire::<presence::Impl>(self.record.presence, &input)
            .expect("the presence table has a rule for every pair");
        self.record.presence = next;
        output
    }

    fn idle(&mut self, input: &Input) {
        let text = input.text();
        match input.intent() {
            Some(intent) => self.command(intent),
            None if self.expired && menu::parse(text, self.ctx.catalog).is_ok() => {
                self.say(Reply::new("menu-expired"))
            }
            None => self.not_understood(text),
        }
    }

    fn menu_answer(&mut self, input: &Input) {
        let text = input.text();
        let count = self.ctx.catalog.len() as i64;
        match menu::parse(text, self.ctx.catalog) {
            Ok(skills) => self.pick(skills),
            Err(MenuError::NoSuchNumber(n)) => {
                self.dialogue(DialogueInput::InvalidAnswer);
                self.say(
                    Reply::new("menu-no-such-number")
                        .text("number", n)
                        .arg("count", Arg::Number(count)),
                );
            }
            Err(MenuError::Unmatched(word)) => {
                self.dialogue(DialogueInput::InvalidAnswer);
                self.say(Reply::new("menu-unmatched").text("text", echo(&word)));
            }
            Err(MenuError::NotAnAnswer) => match input.intent() {
                Some(Intent::No) => self.cancel(DialogueInput::Cancel),
                // YES before picking anything: there is nothing to say yes to yet.
                Some(Intent::Yes) => {
                    self.dialogue(DialogueInput::InvalidAnswer);
                    self.say(Reply::new("menu-blank"));
                }
                None => {
                    self.dialogue(DialogueInput::InvalidAnswer);
                    let reply = match echo(text) {
                        e if e.is_empty() => Reply::new("menu-blank"),
                        e => Reply::new("menu-unmatched").text("text", e),
                    };
                    self.say(reply);
                }
                Some(intent) => self.leave_for(intent),
            },
        }
    }

    /// Weekly hours typed after a bare SCHEDULE.
    fn schedule_answer(&mut self, input: &Input) {
        let text = input.text();
        match input.intent() {
            Some(Intent::No) => self.cancel(DialogueInput::Cancel),
            Some(Intent::Schedule(hours)) => {
                self.propose_schedule(&hours, DialogueInput::ValidAnswer)
            }
            Some(intent) if crate::schedule::parse(text).is_err() => self.leave_for(intent),
            _ => self.propose_schedule(text, DialogueInput::ValidAnswer),
        }
    }

    /// Reads weekly hours and asks to confirm them; a mistake is explained with an example
    /// and changes nothing.
    fn propose_schedule(&mut self, hours: &str, input: DialogueInput) {
        match crate::schedule::parse(hours) {
            Ok(request) => {
                self.dialogue(input);
                let schedule = match request {
                    Request::Set(schedule) => Some(schedule),
                    Request::Clear => None,
                };
                let reply = match &schedule {
                    Some(s) => Reply::new("confirm-schedule")
                        .text("schedule", s.describe(self.record.language))
                        .text("zone", zone_name(&self.record)),
                    None => Reply::new("confirm-schedule-clear"),
                };
                self.record.pending = Some(Pending::Schedule { schedule });
                self.say(reply);
            }
            Err(error) => {
                if self.record.dialogue == Dialogue::ScheduleEntry {
                    self.dialogue(DialogueInput::InvalidAnswer);
                }
                self.say(Reply::new("schedule-invalid").text("error", error.to_string()));
            }
        }
    }

    fn confirm_answer(&mut self, input: &Input) {
        let text = input.text();
        let schedule_pending = matches!(self.record.pending, Some(Pending::Schedule { .. }));
        match input.intent() {
            Some(Intent::Yes) => {
                self.dialogue(DialogueInput::Yes);
                self.save();
            }
            Some(Intent::No) => self.cancel(DialogueInput::No),
            Some(Intent::Schedule(hours)) if schedule_pending => {
                self.propose_schedule(&hours, DialogueInput::Propose)
            }
            None if schedule_pending && crate::schedule::parse(text).is_ok() => {
                self.propose_schedule(text, DialogueInput::Propose)
            }
            None if schedule_pending => {
                self.dialogue(DialogueInput::Unclear);
                self.say(Reply::new("confirm-schedule-unclear"));
            }
            intent => match (menu::parse(text, self.ctx.catalog), intent) {
                (Ok(skills), _) => self.pick(skills),
                (Err(_), Some(intent)) => self.leave_for(intent),
                (Err(_), None) => {
                    self.dialogue(DialogueInput::Unclear);
                    let skills = self.pending_skills();
                    self.say(Reply::new("confirm-unclear").arg("skills", Arg::Skills(skills)));
                }
            },
        }
    }

    /// A valid menu answer: hold it and ask for confirmation.
    fn pick(&mut self, skills: Vec<SkillKey>) {
        self.dialogue(DialogueInput::ValidAnswer);
        let then_online = matches!(
            self.record.pending,
            Some(Pending::Skills {
                then_online: true,
                ..
            })
        );
        self.record.pending = Some(Pending::Skills {
            chosen: skills.clone(),
            then_online,
        });
        let key = if then_online {
            "confirm-skills-online"
        } else {
            "confirm-skills"
        };
        self.say(Reply::new(key).arg("skills", Arg::Skills(skills)));
    }

    fn save(&mut self) {
        let (chosen, then_online) = match self.record.pending.take() {
            Some(Pending::Skills {
                chosen,
                then_online,
            }) => (chosen, then_online),
            Some(Pending::Schedule { schedule }) => return self.save_schedule(schedule),
            None => return,
        };
        self.record.skills = self.ctx.catalog.in_menu_order(&chosen);
        if then_online {
            self.presence(PresenceInput::GoOnline);
            self.record.missed_calls = 0;
            self.say(Reply::new("skills-saved-online").arg("skills", Arg::Skills(chosen)));
        } else {
            self.say(Reply::new("skills-saved").arg("skills", Arg::Skills(chosen)));
        }
    }

    /// Saves (or clears) the weekly hours and sets the timer for the next boundary. Saving
    /// does not change presence now: the next start or end does, and manual ON/OFF win
    /// until then.
    fn save_schedule(&mut self, schedule: Option<crate::schedule::Schedule>) {
        self.record.schedule = schedule;
        self.record.schedule_version += 1;
        self.timers
            .extend(timers::next_boundary(&self.record, self.now));
        let reply = match &self.record.schedule {
            Some(s) => Reply::new("schedule-saved")
                .text("schedule", s.describe(self.record.language))
                .text("zone", zone_name(&self.record))
                .text("next", self.next_change()),
            None => Reply::new("schedule-cleared"),
        };
        self.say(reply);
    }

    /// "online Mon 9:00" or "offline Fri 17:00": what the schedule does next, in the
    /// worker's zone and language.
    fn next_change(&self) -> String {
        let Some(schedule) = &self.record.schedule else {
            return String::new();
        };
        match schedule.next_change(self.now, self.record.time_zone) {
            Some((at, starts)) => {
                let when = timers::local(at, &self.record);
                match (starts, self.record.language) {
                    (true, crate::domain::Locale::Es) => format!("en línea {when}"),
                    (false, crate::domain::Locale::Es) => format!("fuera de línea {when}"),
                    (true, _) => format!("online {when}"),
                    (false, _) => format!("offline {when}"),
                }
            }
            None => "-".to_string(),
        }
    }

    fn set_zone(&mut self, name: &str) {
        match crate::schedule::zones::resolve(name) {
            Some(zone) => {
                self.record.time_zone = zone;
                // The boundaries move with the zone: the old timer goes stale, a new one is set.
                if self.record.schedule.is_some() {
                    self.record.schedule_version += 1;
                    self.timers
                        .extend(timers::next_boundary(&self.record, self.now));
                }
                self.say(Reply::new("tz-set").text("zone", zone_name(&self.record)));
            }
            None => self.say(Reply::new("tz-unknown")),
        }
    }

    fn cancel(&mut self, input: DialogueInput) {
        self.dialogue(input);
        self.record.pending = None;
        let key = match self.record.presence {
            Presence::Online | Presence::CoolDown => "cancelled-online",
            Presence::Offline => "cancelled-offline",
        };
        self.say(Reply::new(key));
    }

    /// Another command in the middle of a menu: close the menu, then carry it out.
    fn leave_for(&mut self, intent: Intent) {
        self.dialogue(DialogueInput::Leave);
        self.record.pending = None;
        self.command(intent);
    }

    fn open_menu(&mut self, then_online: bool) {
        self.dialogue(DialogueInput::OpenSkillMenu);
        self.record.pending = Some(Pending::Skills {
            chosen: Vec::new(),
            then_online,
        });
        let reply = if then_online {
            Reply::new("skill-menu-first").text("name", self.record.name.clone())
        } else {
            Reply::new("skill-menu")
        };
        self.say(reply.arg("menu", Arg::Menu));
    }

    fn command(&mut self, intent: Intent) {
        if matches!(
            intent,
            Intent::On | Intent::Off | Intent::Hold { .. } | Intent::Stop
        ) {
            self.record.hold_version += 1;
        }
        match intent {
            Intent::Hold { online: true, .. } if self.skills().is_empty() => self.open_menu(true),
            Intent::Hold { online, until } => {
                let input = if online {
                    PresenceInput::GoOnline
                } else {
                    PresenceInput::GoOffline
                };
                self.presence(input);
                let at = until.at(self.now, self.record.time_zone);
                self.timers.push(Command::Timer {
                    worker: self.record.phone.clone(),
                    due: at,
                    event: crate::commands::TimerEvent::HoldOver {
                        version: self.record.hold_version,
                        online,
                    },
                });
                let until = timers::local(at, &self.record);
                let reply = if online {
                    Reply::new("hold-online")
                        .arg("skills", Arg::Skills(self.skills()))
                        .text("until", until)
                } else {
                    Reply::new("hold-offline").text("until", until)
                };
                self.say(reply);
            }
            Intent::On if self.skills().is_empty() => self.open_menu(true),
            Intent::On => {
                let key = match self.presence(PresenceInput::GoOnline) {
                    Some(PresenceOutput::AlreadyOnline) => "already-online",
                    _ => "online",
                };
                // Coming back by choice starts a fresh count of missed calls.
                self.record.missed_calls = 0;
                let skills = self.skills();
                self.say(Reply::new(key).arg("skills", Arg::Skills(skills)));
            }
            Intent::Off => {
                let key = match self.presence(PresenceInput::GoOffline) {
                    Some(PresenceOutput::AlreadyOffline) => "already-offline",
                    _ => "offline",
                };
                self.say(Reply::new(key));
            }
            Intent::Skills => self.open_menu(false),
            Intent::Status => self.status(),
            Intent::Help => self.say(Reply::new("help")),
            Intent::Lang(Some(locale)) => {
                self.record.language = locale;
                self.say(Reply::new("lang-set"));
            }
            Intent::Lang(None) => self.say(Reply::new("lang-options")),
            Intent::Yes | Intent::No if self.expired => self.say(Reply::new("menu-expired")),
            Intent::Yes | Intent::No => self.say(Reply::new("nothing-to-confirm")),
            Intent::Stop => {
                self.presence(PresenceInput::GoOffline);
                self.record.opted_out = true;
                self.say(Reply::new("opted-out"));
            }
            Intent::Start => {
                self.record.opted_out = false;
                self.say(Reply::new("opted-in"));
                self.status();
            }
            Intent::Join { .. } => {
                let name = self.record.name.clone();
                self.say(Reply::new("join-already").text("name", name));
            }
            Intent::Schedule(hours) if hours.trim().is_empty() => {
                self.dialogue(DialogueInput::OpenScheduleEntry);
                self.record.pending = None;
                let reply = Reply::new("schedule-ask").text("zone", zone_name(&self.record));
                self.say(reply);
            }
            Intent::Schedule(hours) => self.propose_schedule(&hours, DialogueInput::Propose),
            Intent::TimeZone(name) => self.set_zone(&name),
        }
    }

    fn status(&mut self) {
        self.presence_status();
        if let Some(schedule) = &self.record.schedule {
            let reply = Reply::new("status-schedule")
                .text("schedule", schedule.describe(self.record.language))
                .text("zone", zone_name(&self.record))
                .text("next", self.next_change());
            self.say(reply);
        }
    }

    fn presence_status(&mut self) {
        let skills = self.skills();
        let name = self.record.name.clone();
        let key = match (self.record.presence, skills.is_empty()) {
            (Presence::Online | Presence::CoolDown, _) => "status-online",
            (Presence::Offline, false) => "status-offline",
            (Presence::Offline, true) => "status-offline-no-skills",
        };
        self.say(
            Reply::new(key)
                .text("name", name)
                .arg("skills", Arg::Skills(skills)),
        );
    }

    fn not_understood(&mut self, text: &str) {
        let reply = match echo(text) {
            e if e.is_empty() => Reply::new("not-understood-blank"),
            e => Reply::new("not-understood").text("text", e),
        };
        self.say(reply);
    }

    /// Saved skills that the business still offers.
    fn skills(&self) -> Vec<SkillKey> {
        self.ctx.catalog.in_menu_order(&self.record.skills)
    }

    fn pending_skills(&self) -> Vec<SkillKey> {
        match &self.record.pending {
            Some(Pending::Skills { chosen, .. }) => chosen.clone(),
            Some(Pending::Schedule { .. }) | None => Vec::new(),
        }
    }

    fn finish(mut self, before: &WorkerRecord) -> Turn {
        let mut commands: Vec<Command> = Command::sync(before, &self.record).into_iter().collect();
        commands.append(&mut self.timers);
        if self.record != *before {
            self.record.updated_at = self.now;
        }
        Turn {
            record: self.record,
            replies: self.replies,
            commands,
        }
    }
}

/// The worker's zone as they would name it: "Chicago" for America/Chicago.
fn zone_name(record: &WorkerRecord) -> String {
    let name = record.time_zone.name();
    name.rsplit('/').next().unwrap_or(name).replace('_', " ")
}

/// The start of a worker's text, safe to quote in a reply: characters outside GSM-7 (emoji,
/// most accents) would turn the whole reply into a short UCS-2 message, so they are dropped.
fn echo(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| crate::i18n::sms::is_gsm7(*c) && *c != '"')
        .collect();
    let words = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().count() > ECHO_CHARS {
        let cut: String = words.chars().take(ECHO_CHARS).collect();
        format!("{}...", cut.trim_end())
    } else {
        words
    }
}
