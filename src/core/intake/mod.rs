//! Worker intake: what a worker's text means and what it does to their record.
//!
//! This is the pure core of shiftline: `on_text(context, phone, text, now, stored state)`
//! returns the new state, the replies and the commands, and never touches the network, the
//! clock or the disk. The store runs it inside a sled transaction, which may run it more
//! than once on a conflict; that is only safe because it is pure.
//!
//! - `understand` reads what a text means, with how sure ("I'm on" is ON, "on my way" is
//!   not, "maybe I should log off" asks back);
//! - `menu` reads an answer to the numbered skill menu;
//! - `machines` holds the Presence and Dialogue state machines (rust-fsm tables);
//! - `turn` runs a rostered worker's text through them;
//! - `enrol` handles texts from numbers that are not on the roster (JOIN).

pub mod enrol;
pub mod machines;
pub mod menu;
pub mod record;
pub mod reply;
pub mod timers;
pub mod turn;
pub mod understand;

use chrono::{DateTime, Utc};

use crate::core::domain::catalog::Catalog;
use crate::core::domain::{Enrolment, Locale, PhoneNumber};
use crate::core::effects::Command;
use enrol::PinAttempts;
use record::WorkerRecord;
use reply::Reply;
pub use turn::Input;

/// What the core needs to know about the business, from its configuration.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    /// Self-registration with a PIN, when the business allows it.
    pub enrolment: Option<&'a Enrolment>,
    /// The language for numbers that are not on the roster.
    pub default_language: Locale,
}

/// What to do with the stored wrong-PIN count of the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinUpdate {
    Keep,
    Set(PinAttempts),
    Clear,
}

/// The result of one inbound text.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The record to store, or None when the sender has none and still has none.
    pub record: Option<WorkerRecord>,
    pub pins: PinUpdate,
    pub replies: Vec<Reply>,
    pub commands: Vec<Command>,
    /// The language to render the replies in.
    pub locale: Locale,
    /// What the text was taken as, for metrics: a command's name, `menu_answer`, `yes`,
    /// `no`, `unsure` (asked back), `later`, or `other` (not understood).
    pub keyword: &'static str,
}

impl Outcome {
    fn reply_only(locale: Locale, reply: Reply) -> Self {
        Self {
            record: None,
            pins: PinUpdate::Keep,
            replies: vec![reply],
            commands: Vec::new(),
            locale,
            keyword: "other",
        }
    }
}

/// One inbound text from `phone`, given what is stored for that number.
pub fn on_text(
    ctx: &Context,
    phone: &PhoneNumber,
    text: &str,
    now: DateTime<Utc>,
    record: Option<&WorkerRecord>,
    attempts: Option<&PinAttempts>,
) -> Outcome {
    on_input(
        ctx,
        phone,
        &Input::Text(text.to_string()),
        now,
        record,
        attempts,
    )
}

/// One input from `phone`, by SMS or by phone, given what is stored for that number.
pub fn on_input(
    ctx: &Context,
    phone: &PhoneNumber,
    input: &Input,
    now: DateTime<Utc>,
    record: Option<&WorkerRecord>,
    attempts: Option<&PinAttempts>,
) -> Outcome {
    match record {
        // Answered as a number the business does not know, not offered JOIN: the business
        // took them off the roster, and only putting them back in the file undoes that.
        Some(record) if record.deactivated => {
            Outcome::reply_only(record.language, Reply::new("not-registered"))
        }
        Some(record) => {
            let turn = turn::on_input(ctx, record, input, now);
            Outcome {
                locale: turn.record.language,
                record: Some(turn.record),
                pins: PinUpdate::Keep,
                replies: turn.replies,
                commands: turn.commands,
                keyword: turn.keyword,
            }
        }
        None => {
            let intent = input.intent(ctx.default_language, ctx.catalog);
            let keyword = intent.as_ref().map_or("other", understand::Intent::name);
            Outcome {
                keyword,
                ..enrol::on_intent(ctx, phone, intent, now, attempts)
            }
        }
    }
}
