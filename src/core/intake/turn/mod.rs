//! One text from a rostered worker, run through the Dialogue and Presence machines.
//!
//! The Dialogue step decides how a text is read: in a SkillMenu it is first an answer to the
//! menu, in a Confirm step first YES or NO, and otherwise (or when it is none of those) a
//! command. A command sent in the middle of a menu leaves the menu (`Leave`) and is carried
//! out, so a worker can always text OFF. Text that is neither changes nothing.

use chrono::{DateTime, Utc};

use super::Context;
use super::machines::{
    Dialogue, DialogueInput, DialogueOutput, Presence, PresenceInput, PresenceOutput, dialogue,
    fire, presence,
};
use super::menu::{self, MenuError};
use super::record::{Pending, WorkerRecord};
use super::reply::{Arg, Reply};
use super::timers;
use super::understand::{self, Answer, Intent, Reading, Verdict};
use crate::core::domain::catalog::Catalog;
use crate::core::domain::{Locale, SkillKey};
use crate::core::effects::Command;
use crate::core::schedule::Request;

/// The new record, what to say, and what to ask TaskRouter to do.
#[derive(Clone, Debug)]
pub struct Turn {
    pub record: WorkerRecord,
    pub replies: Vec<Reply>,
    pub commands: Vec<Command>,
    /// What the input was taken as (see `Outcome::keyword`).
    pub keyword: &'static str,
}

/// How much of an unrecognised text is quoted back to the worker.
const ECHO_CHARS: usize = 24;

/// What the worker sent: free text (an SMS, or speech the IVR heard), or a command chosen
/// from a keypad menu, which needs no reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Text(String),
    Key(Intent),
}

impl Input {
    /// What the input says, read in the worker's language first.
    pub fn read(&self, language: Locale, catalog: &Catalog) -> Reading {
        match self {
            Input::Text(text) => understand::read(text, language, catalog),
            Input::Key(intent) => Reading::sure(intent.clone()),
        }
    }

    /// The one command the input carries, when it is sure (for numbers not on the roster).
    pub fn intent(&self, language: Locale, catalog: &Catalog) -> Option<Intent> {
        match self.read(language, catalog).command() {
            Verdict::Sure(intent) => Some(intent),
            _ => None,
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

/// One input from a rostered worker, by SMS or by phone: the same machines either way.
pub fn on_input(ctx: &Context, before: &WorkerRecord, input: &Input, now: DateTime<Utc>) -> Turn {
    let mut t = Step {
        ctx,
        now,
        record: before.clone(),
        replies: Vec::new(),
        timers: Vec::new(),
        expired: false,
        keyword: "other",
    };
    if t.record.menu_expired(now) {
        t.dialogue(DialogueInput::TimedOut, None);
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
    /// Schedule and hold timers to set, beside the TaskRouter sync.
    timers: Vec<Command>,
    /// The text arrived after an open menu timed out.
    expired: bool,
    keyword: &'static str,
}

impl Step<'_> {
    fn say(&mut self, reply: Reply) {
        self.replies.push(reply);
    }

    /// Feeds the Dialogue machine and does what its output says. `explain` is what to say
    /// when the output is to explain a wrong answer (the caller knows what was wrong).
    fn dialogue(&mut self, input: DialogueInput, explain: Option<Reply>) {
        // A menu's answers are answers, not texts nobody understood.
        match input {
            DialogueInput::Answered | DialogueInput::Misanswered => self.keyword = "menu_answer",
            DialogueInput::Confirmed => self.keyword = "yes",
            DialogueInput::Refused => self.keyword = "no",
            DialogueInput::Guessed => self.keyword = "unsure",
            DialogueInput::Unclear => self.keyword = "other",
            _ => {}
        }
        let (next, output) = fire::<dialogue::Impl>(self.record.dialogue, &input);
        self.record.dialogue = next;
        self.record.dialogue_since = (next != Dialogue::Idle).then_some(self.now);
        if next == Dialogue::Idle && output != Some(DialogueOutput::Save) {
            self.record.pending = None;
        }
        match output {
            Some(DialogueOutput::ShowSkillMenu) => {
                let first = matches!(
                    self.record.pending,
                    Some(Pending::Skills {
                        then_online: true,
                        ..
                    })
                );
                let reply = if first {
                    Reply::new("skill-menu-first").text("name", self.record.name.clone())
                } else {
                    Reply::new("skill-menu")
                };
                self.say(reply.arg("menu", Arg::Menu));
            }
            Some(DialogueOutput::AskHours) => {
                let reply = Reply::new("schedule-ask").text("zone", zone_name(&self.record));
                self.say(reply);
            }
            Some(DialogueOutput::AskToConfirm) => {
                let reply = self.confirm_question();
                self.say(reply);
            }
            Some(DialogueOutput::AskAgain) => {
                let reply = self.confirm_reminder();
                self.say(reply);
            }
            Some(DialogueOutput::ExplainAnswer) => {
                self.say(explain.unwrap_or_else(|| Reply::new("menu-blank")));
            }
            Some(DialogueOutput::Save) => self.save(),
            Some(DialogueOutput::SayCancelled) => {
                let key = match self.record.presence {
                    Presence::Online | Presence::CoolDown => "cancelled-online",
                    Presence::Offline => "cancelled-offline",
                };
                self.say(Reply::new(key));
            }
            // Said only if what follows was an answer to the old menu: see `idle`.
            Some(DialogueOutput::SayExpired) => self.expired = true,
            Some(DialogueOutput::SayNothingToConfirm) => {
                let key = if self.expired {
                    "menu-expired"
                } else {
                    "nothing-to-confirm"
                };
                self.say(Reply::new(key));
            }
            None => {
                if let Some(reply) = explain {
                    self.say(reply);
                }
            }
        }
    }

    /// Feeds the Presence machine; returns its output for the caller's reply.
    fn presence(&mut self, input: PresenceInput) -> Option<PresenceOutput> {
        let (next, output) = fire::<presence::Impl>(self.record.presence, &input);
        self.record.presence = next;
        output
    }

    /// The question a Confirm step asks about what is pending.
    fn confirm_question(&self) -> Reply {
        match &self.record.pending {
            Some(Pending::Skills {
                chosen,
                then_online,
            }) => {
                let key = if *then_online {
                    "confirm-skills-online"
                } else {
                    "confirm-skills"
                };
                Reply::new(key).arg("skills", Arg::Skills(chosen.clone()))
            }
            Some(Pending::Schedule { schedule: Some(s) }) => Reply::new("confirm-schedule")
                .text("schedule", s.describe(self.record.language))
                .text("zone", zone_name(&self.record)),
            Some(Pending::Schedule { schedule: None }) => Reply::new("confirm-schedule-clear"),
            Some(Pending::Command { intent }) => self.guess_question(intent),
            None => Reply::new("nothing-to-confirm"),
        }
    }

    /// "Did you mean OFF?", or "Did you mean ON until 18:00?".
    fn guess_question(&self, intent: &Intent) -> Reply {
        match intent {
            Intent::Hold { online, until } => {
                let at = until.at(self.now, self.record.time_zone);
                Reply::new("confirm-guess-hold")
                    .arg("command", Arg::Command(command_key(intent)))
                    .text("until", timers::local(at, &self.record))
                    .arg("online", Arg::Number(i64::from(*online)))
            }
            _ => Reply::new("confirm-guess").arg("command", Arg::Command(command_key(intent))),
        }
    }

    /// What a Confirm step says to an answer that is neither YES nor NO.
    fn confirm_reminder(&self) -> Reply {
        match &self.record.pending {
            Some(Pending::Schedule { .. }) => Reply::new("confirm-schedule-unclear"),
            Some(Pending::Command { intent }) => {
                Reply::new("confirm-guess").arg("command", Arg::Command(command_key(intent)))
            }
            _ => Reply::new("confirm-unclear").arg("skills", Arg::Skills(self.pending_skills())),
        }
    }

    fn read(&self, input: &Input) -> Reading {
        input.read(self.record.language, self.ctx.catalog)
    }

    fn idle(&mut self, input: &Input) {
        let text = input.text();
        match self.read(input).command() {
            Verdict::Sure(intent) => self.command(intent),
            Verdict::Unsure(intent) => self.ask_back(intent),
            _ if self.expired && menu::parse(text, self.ctx.catalog).is_ok() => {
                self.say(Reply::new("menu-expired"))
            }
            Verdict::Later(online) => self.later(online),
            Verdict::Unknown(closest) => self.not_understood(text, &closest),
        }
    }

    fn later(&mut self, online: bool) {
        self.keyword = "later";
        self.say(Reply::new(if online {
            "later-online"
        } else {
            "later-offline"
        }));
    }

    /// A plausible reading that is not clear enough to act on: ask, and act on YES.
    fn ask_back(&mut self, intent: Intent) {
        self.record.pending = Some(Pending::Command { intent });
        self.dialogue(DialogueInput::Guessed, None);
    }

    fn menu_answer(&mut self, input: &Input) {
        let text = input.text();
        let count = self.ctx.catalog.len() as i64;
        match menu::parse(text, self.ctx.catalog) {
            Ok(skills) => self.pick(skills),
            Err(MenuError::NoSuchNumber(n)) => {
                let reply = Reply::new("menu-no-such-number")
                    .text("number", n)
                    .arg("count", Arg::Number(count));
                self.dialogue(DialogueInput::Misanswered, Some(reply));
            }
            Err(MenuError::Leave) => self.dialogue(DialogueInput::Refused, None),
            Err(MenuError::Unmatched(word)) => {
                let reply = Reply::new("menu-unmatched").text("text", echo(&word));
                self.dialogue(DialogueInput::Misanswered, Some(reply));
            }
            Err(MenuError::NotAnAnswer) => {
                let reading = self.read(input);
                match (other_command(&reading), reading.answer()) {
                    (Some(intent), _) => self.leave_for(intent),
                    (None, Some(Answer::No)) => self.dialogue(DialogueInput::Refused, None),
                    // YES before picking anything: there is nothing to say yes to yet.
                    (None, Some(Answer::Yes)) => {
                        self.dialogue(DialogueInput::Confirmed, Some(Reply::new("menu-blank")))
                    }
                    (None, None) => {
                        let reply = match echo(text) {
                            e if e.is_empty() => Reply::new("menu-blank"),
                            e => Reply::new("menu-unmatched").text("text", e),
                        };
                        self.dialogue(DialogueInput::Unclear, Some(reply));
                    }
                }
            }
        }
    }

    /// Weekly hours typed after a bare SCHEDULE.
    fn schedule_answer(&mut self, input: &Input) {
        let text = input.text();
        let reading = self.read(input);
        // "ya me voy, después pongo el horario": the command says what the "no" was for.
        if reading.answer() == Some(Answer::No)
            && other_command(&reading).is_none_or(|i| i.online().is_none())
        {
            return self.dialogue(DialogueInput::Refused, None);
        }
        match other_command(&reading) {
            Some(Intent::Schedule { hours }) if !hours.is_empty() => {
                self.propose_schedule(&hours, DialogueInput::Answered)
            }
            Some(intent) if understand::parse_hours(text).is_err() => self.leave_for(intent),
            // No digit, no schedule: a question or a remark, not hours to explain.
            _ if !text.chars().any(|c| c.is_ascii_digit())
                && understand::parse_hours(text).is_err() =>
            {
                let reply = Reply::new("schedule-unclear")
                    .text("text", echo(text))
                    .text("zone", zone_name(&self.record));
                self.dialogue(DialogueInput::Unclear, Some(reply));
            }
            _ => self.propose_schedule(text, DialogueInput::Answered),
        }
    }

    /// Reads weekly hours and asks to confirm them; a mistake is explained with an example
    /// and changes nothing.
    fn propose_schedule(&mut self, hours: &str, input: DialogueInput) {
        match understand::parse_hours(hours) {
            Ok(request) => {
                let schedule = match request {
                    Request::Set(schedule) => Some(schedule),
                    Request::Clear => None,
                };
                self.record.pending = Some(Pending::Schedule { schedule });
                self.dialogue(input, None);
            }
            Err(error) => {
                let reply = Reply::new("schedule-invalid").text("error", error.to_string());
                self.dialogue(DialogueInput::Misanswered, Some(reply));
            }
        }
    }

    fn confirm_answer(&mut self, input: &Input) {
        let text = input.text();
        let reading = self.read(input);
        let pending = self.record.pending.clone();
        if let Some(Pending::Schedule { .. }) = pending
            && let Some(hours) = corrected_hours(text, &reading)
        {
            return self.propose_schedule(&hours, DialogueInput::ChangeProposed);
        }
        match (reading.answer(), other_command(&reading)) {
            (Some(Answer::Yes), _) => self.dialogue(DialogueInput::Confirmed, None),
            // "wait, just log me off": the command says what the "no" was for, unless it
            // names what is being confirmed ("no, the schedule is wrong").
            (Some(Answer::No), Some(intent)) if !about_pending(&intent, pending.as_ref()) => {
                self.leave_for(intent)
            }
            (Some(Answer::No), _) => self.dialogue(DialogueInput::Refused, None),
            (None, other) => match (&pending, menu::parse(text, self.ctx.catalog), other) {
                (Some(Pending::Skills { .. }), Ok(skills), _) => self.pick(skills),
                (_, _, Some(intent)) => self.leave_for(intent),
                (_, _, None) => self.dialogue(DialogueInput::Unclear, None),
            },
        }
    }

    /// A valid menu answer: hold it and ask for confirmation.
    fn pick(&mut self, skills: Vec<SkillKey>) {
        let then_online = matches!(
            self.record.pending,
            Some(Pending::Skills {
                then_online: true,
                ..
            })
        );
        self.record.pending = Some(Pending::Skills {
            chosen: skills,
            then_online,
        });
        self.dialogue(DialogueInput::Answered, None);
    }

    /// What YES saves: skills (and going online, when the menu was opened by ON), weekly
    /// hours, or the command a guess asked about.
    fn save(&mut self) {
        let (chosen, then_online) = match self.record.pending.take() {
            Some(Pending::Skills {
                chosen,
                then_online,
            }) => (chosen, then_online),
            Some(Pending::Schedule { schedule }) => return self.save_schedule(schedule),
            Some(Pending::Command { intent }) => return self.command(intent),
            None => return,
        };
        self.record.skills = self.ctx.catalog.in_menu_order(&chosen);
        if then_online {
            self.presence(PresenceInput::AskedOn);
            self.record.missed_calls = 0;
            self.say(Reply::new("skills-saved-online").arg("skills", Arg::Skills(chosen)));
        } else {
            self.say(Reply::new("skills-saved").arg("skills", Arg::Skills(chosen)));
        }
    }

    /// Saves (or clears) the weekly hours and sets the timer for the next boundary. Saving
    /// does not change presence now: the next start or end does, and manual ON/OFF win
    /// until then.
    fn save_schedule(&mut self, schedule: Option<crate::core::schedule::Schedule>) {
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
        // A temporary ON or OFF holds until it ends; the schedule takes over from there.
        let from = self.record.hold_at(self.now).unwrap_or(self.now);
        match schedule.next_change(from, self.record.time_zone) {
            Some((at, starts)) => {
                let when = timers::local(at, &self.record);
                match (starts, self.record.language) {
                    (true, crate::core::domain::Locale::Es) => format!("en línea {when}"),
                    (false, crate::core::domain::Locale::Es) => format!("fuera de línea {when}"),
                    (true, _) => format!("online {when}"),
                    (false, _) => format!("offline {when}"),
                }
            }
            None => "-".to_string(),
        }
    }

    fn set_zone(&mut self, name: &str) {
        let zone = crate::core::schedule::zones::resolve(name)
            .or_else(|| crate::core::schedule::zones::find(name));
        match zone {
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

    /// Another command in the middle of a menu: close the menu, then carry it out.
    fn leave_for(&mut self, intent: Intent) {
        self.dialogue(DialogueInput::OtherCommand, None);
        self.command(intent);
    }

    fn open_menu(&mut self, then_online: bool) {
        self.record.pending = Some(Pending::Skills {
            chosen: Vec::new(),
            then_online,
        });
        self.dialogue(DialogueInput::SkillsAsked, None);
    }

    fn command(&mut self, intent: Intent) {
        self.keyword = intent.name();
        if matches!(
            intent,
            Intent::On | Intent::Off | Intent::Hold { .. } | Intent::Stop
        ) {
            // A new ON or OFF replaces any temporary one: its end must do nothing.
            self.record.hold_version += 1;
            self.record.hold_until = None;
        }
        match intent {
            Intent::Hold { online: true, .. } if self.skills().is_empty() => self.open_menu(true),
            Intent::Hold { online, until } => {
                let input = if online {
                    PresenceInput::AskedOn
                } else {
                    PresenceInput::AskedOff
                };
                self.presence(input);
                let at = until.at(self.now, self.record.time_zone);
                self.record.hold_until = Some(at);
                self.timers.push(Command::Timer {
                    worker: self.record.phone.clone(),
                    due: at,
                    event: crate::core::effects::TimerEvent::HoldOver {
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
                let key = match self.presence(PresenceInput::AskedOn) {
                    Some(PresenceOutput::SayStillOnline) => "already-online",
                    _ => "online",
                };
                // Coming back by choice starts a fresh count of missed calls.
                self.record.missed_calls = 0;
                let skills = self.skills();
                self.say(Reply::new(key).arg("skills", Arg::Skills(skills)));
            }
            Intent::Off => {
                let key = match self.presence(PresenceInput::AskedOff) {
                    Some(PresenceOutput::SayStillOffline) => "already-offline",
                    _ => "offline",
                };
                self.say(Reply::new(key));
            }
            Intent::Skills => self.open_menu(false),
            Intent::Status => self.status(),
            Intent::Help => self.say(Reply::new("help")),
            Intent::Lang {
                language: Some(locale),
            } => {
                self.record.language = locale;
                self.say(Reply::new("lang-set"));
            }
            Intent::Lang { language: None } => self.say(Reply::new("lang-options")),
            Intent::Yes => self.dialogue(DialogueInput::Confirmed, None),
            Intent::No => self.dialogue(DialogueInput::Refused, None),
            Intent::Stop => {
                self.presence(PresenceInput::AskedOff);
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
            Intent::Schedule { hours } if hours.trim().is_empty() => {
                self.record.pending = None;
                self.dialogue(DialogueInput::HoursAsked, None);
            }
            Intent::Schedule { hours } => {
                self.propose_schedule(&hours, DialogueInput::ChangeProposed)
            }
            Intent::TimeZone { zone } => self.set_zone(&zone),
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
        let hold = self.record.hold_at(self.now);
        let key = match (self.record.presence, skills.is_empty(), hold) {
            (Presence::Online | Presence::CoolDown, _, Some(_)) => "status-online-until",
            (Presence::Online | Presence::CoolDown, _, None) => "status-online",
            (Presence::Offline, _, Some(_)) => "status-offline-until",
            (Presence::Offline, false, None) => "status-offline",
            (Presence::Offline, true, None) => "status-offline-no-skills",
        };
        let until = hold
            .map(|at| timers::local(at, &self.record))
            .unwrap_or_default();
        self.say(
            Reply::new(key)
                .text("name", name)
                .text("until", until)
                .arg("skills", Arg::Skills(skills)),
        );
    }

    /// Nothing to act on: quote the text back and name the commands it came closest to.
    fn not_understood(&mut self, text: &str, closest: &[Intent]) {
        let reply = match (echo(text), closest) {
            (e, []) if e.is_empty() => Reply::new("not-understood-blank"),
            (e, []) => Reply::new("not-understood").text("text", e),
            (e, closest) => {
                let mut keys: Vec<&'static str> = closest.iter().map(command_key).collect();
                keys.dedup();
                Reply::new("not-understood-closest")
                    .text("text", e)
                    .arg("commands", Arg::Commands(keys))
            }
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
            Some(Pending::Schedule { .. } | Pending::Command { .. }) | None => Vec::new(),
        }
    }

    fn finish(mut self, before: &WorkerRecord) -> Turn {
        let mut commands: Vec<Command> = WorkerRecord::sync(before, &self.record)
            .into_iter()
            .collect();
        commands.append(&mut self.timers);
        if self.record != *before {
            self.record.updated_at = self.now;
        }
        Turn {
            record: self.record,
            replies: self.replies,
            commands,
            keyword: self.keyword,
        }
    }
}

/// A sure command other than YES or NO: what a worker means when they text a command in
/// the middle of a menu.
fn other_command(reading: &Reading) -> Option<Intent> {
    reading
        .sure_commands()
        .find(|i| !matches!(i, Intent::Yes | Intent::No))
        .cloned()
}

/// Whether a command is about the change awaiting YES ("no, the schedule is wrong").
fn about_pending(intent: &Intent, pending: Option<&Pending>) -> bool {
    matches!(
        (intent, pending),
        (Intent::Schedule { .. }, Some(Pending::Schedule { .. }))
            | (Intent::Skills, Some(Pending::Skills { .. }))
    )
}

/// New weekly hours sent at the schedule's confirm step, with or without a "no" before
/// them ("no, mon-thu 9-5").
fn corrected_hours(text: &str, reading: &Reading) -> Option<String> {
    // Only hours to set: "no" alone also reads as "clear the schedule".
    if matches!(
        understand::parse_hours(text),
        Ok(crate::core::schedule::Request::Set(_))
    ) {
        return Some(text.to_string());
    }
    if let Some(Intent::Schedule { hours }) = other_command(reading)
        && understand::parse_hours(&hours).is_ok()
    {
        return Some(hours);
    }
    understand::hours_within(text).map(str::to_string)
}

/// The message naming a command in the worker's language ("OFF", "SALIR").
pub fn command_key(intent: &Intent) -> &'static str {
    match intent {
        Intent::On | Intent::Hold { online: true, .. } => "command-on",
        Intent::Off | Intent::Hold { online: false, .. } => "command-off",
        Intent::Skills => "command-skills",
        Intent::Schedule { .. } => "command-schedule",
        Intent::Status => "command-status",
        Intent::Help => "command-help",
        Intent::Lang { .. } => "command-lang",
        Intent::Yes => "command-yes",
        Intent::No => "command-no",
        Intent::Stop => "command-stop",
        Intent::Start => "command-start",
        Intent::TimeZone { .. } => "command-tz",
        Intent::Join { .. } => "command-join",
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
        .filter(|c| crate::core::domain::sms::is_gsm7(*c) && *c != '"')
        .collect();
    let words = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().count() > ECHO_CHARS {
        let cut: String = words.chars().take(ECHO_CHARS).collect();
        format!("{}...", cut.trim_end())
    } else {
        words
    }
}

#[cfg(test)]
mod tests;
