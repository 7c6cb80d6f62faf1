//! The per-worker state machines (DESIGN 1.3), written with rust-fsm: each table is the one
//! place its transitions are defined, and what a turn says or does follows from the table's
//! output. Inputs are named for what happened, outputs for what to do. States and inputs
//! are unit variants only; the data that travels with them (chosen skills, what a Confirm
//! step will save) lives in the worker record beside the machine states.
//!
//! Both tables are complete: every state has a rule for every input (rust-fsm silently keeps
//! one of two rules for the same pair, so each pair appears once). `tests` walks every pair.

use rust_fsm::state_machine;

state_machine! {
    /// Whether TaskRouter may offer calls to the worker. CoolDown is a short rest after a
    /// missed or timed-out call (TaskRouter activity Unavailable), so the same call is not
    /// offered straight back; a timer ends it.
    ///
    /// - Offline: AskedOn -> Online [SayOnline]; AskedOff -> Offline [SayStillOffline];
    ///   MissedCall, RestOver -> Offline
    /// - Online: AskedOff -> Offline [SayOffline]; AskedOn -> Online [SayStillOnline];
    ///   MissedCall -> CoolDown [Rest]; RestOver -> Online
    /// - CoolDown: AskedOff -> Offline [SayOffline]; AskedOn -> Online [SayStillOnline];
    ///   MissedCall -> CoolDown; RestOver -> Online [Resume]
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub presence(Offline)

    Offline => {
        AskedOn => Online [SayOnline],
        AskedOff => Offline [SayStillOffline],
        MissedCall => Offline,
        RestOver => Offline,
    },
    Online => {
        AskedOff => Offline [SayOffline],
        AskedOn => Online [SayStillOnline],
        MissedCall => CoolDown [Rest],
        RestOver => Online,
    },
    CoolDown => {
        AskedOff => Offline [SayOffline],
        AskedOn => Online [SayStillOnline],
        MissedCall => CoolDown,
        RestOver => Online [Resume],
    }
}

state_machine! {
    /// Where the worker is in a conversation. A step other than Idle expires after
    /// `MENU_TIMEOUT` of silence, so a worker who walks away comes back to a clean state.
    ///
    /// - Idle: SkillsAsked -> SkillMenu [ShowSkillMenu]; HoursAsked -> ScheduleEntry
    ///   [AskHours]; ChangeProposed (a complete change: "SCHEDULE mon-fri 9-17") and Guessed
    ///   (a command read from an unclear text) -> Confirm [AskToConfirm]; Confirmed, Refused
    ///   -> Idle [SayNothingToConfirm]; anything else stays Idle.
    /// - SkillMenu: Answered -> Confirm [AskToConfirm]; Misanswered, Unclear, Confirmed (YES
    ///   before picking) -> SkillMenu [ExplainAnswer]; Refused -> Idle [SayCancelled];
    ///   OtherCommand -> Idle (the command is carried out); TimedOut -> Idle [SayExpired];
    ///   SkillsAsked, HoursAsked, ChangeProposed, Guessed as from Idle.
    /// - ScheduleEntry: the same, for weekly hours.
    /// - Confirm: Confirmed -> Idle [Save]; Refused -> Idle [SayCancelled]; Unclear,
    ///   Misanswered -> Confirm [AskAgain]; Answered, ChangeProposed, Guessed -> Confirm
    ///   [AskToConfirm] (the new one replaces what was pending); OtherCommand -> Idle;
    ///   TimedOut -> Idle [SayExpired]; SkillsAsked, HoursAsked as from Idle.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub dialogue(Idle)

    Idle => {
        SkillsAsked => SkillMenu [ShowSkillMenu],
        HoursAsked => ScheduleEntry [AskHours],
        ChangeProposed => Confirm [AskToConfirm],
        Guessed => Confirm [AskToConfirm],
        Answered => Idle,
        Misanswered => Idle,
        Confirmed => Idle [SayNothingToConfirm],
        Refused => Idle [SayNothingToConfirm],
        Unclear => Idle,
        OtherCommand => Idle,
        TimedOut => Idle,
    },
    SkillMenu => {
        SkillsAsked => SkillMenu [ShowSkillMenu],
        HoursAsked => ScheduleEntry [AskHours],
        ChangeProposed => Confirm [AskToConfirm],
        Guessed => Confirm [AskToConfirm],
        Answered => Confirm [AskToConfirm],
        Misanswered => SkillMenu [ExplainAnswer],
        Confirmed => SkillMenu [ExplainAnswer],
        Refused => Idle [SayCancelled],
        Unclear => SkillMenu [ExplainAnswer],
        OtherCommand => Idle,
        TimedOut => Idle [SayExpired],
    },
    ScheduleEntry => {
        SkillsAsked => SkillMenu [ShowSkillMenu],
        HoursAsked => ScheduleEntry [AskHours],
        ChangeProposed => Confirm [AskToConfirm],
        Guessed => Confirm [AskToConfirm],
        Answered => Confirm [AskToConfirm],
        Misanswered => ScheduleEntry [ExplainAnswer],
        Confirmed => ScheduleEntry [ExplainAnswer],
        Refused => Idle [SayCancelled],
        Unclear => ScheduleEntry [ExplainAnswer],
        OtherCommand => Idle,
        TimedOut => Idle [SayExpired],
    },
    Confirm => {
        SkillsAsked => SkillMenu [ShowSkillMenu],
        HoursAsked => ScheduleEntry [AskHours],
        ChangeProposed => Confirm [AskToConfirm],
        Guessed => Confirm [AskToConfirm],
        Answered => Confirm [AskToConfirm],
        Misanswered => Confirm [AskAgain],
        Confirmed => Idle [Save],
        Refused => Idle [SayCancelled],
        Unclear => Confirm [AskAgain],
        OtherCommand => Idle,
        TimedOut => Idle [SayExpired],
    }
}

pub use dialogue::{Input as DialogueInput, Output as DialogueOutput, State as Dialogue};
pub use presence::{Input as PresenceInput, Output as PresenceOutput, State as Presence};

/// How long an open menu or confirm step waits for an answer.
pub const MENU_TIMEOUT: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// Feeds one input to a machine held as a bare state, the way the worker record stores it.
/// Both tables have a rule for every pair (`tests::every_pair_has_one_rule`), so this is
/// always the next state and the table's output, if any.
pub fn fire<M: rust_fsm::StateMachineImpl>(
    state: M::State,
    input: &M::Input,
) -> (M::State, Option<M::Output>)
where
    M::State: Copy,
{
    let output = M::output(&state, input);
    let next = M::transition(&state, input).unwrap_or(state);
    (next, output)
}

impl Presence {
    /// Online or offline as the worker sees it: a cool-down is a short pause of being online.
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Offline => "offline",
            Presence::Online | Presence::CoolDown => "online",
        }
    }
}

impl Dialogue {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialogue::Idle => "idle",
            Dialogue::SkillMenu => "skill_menu",
            Dialogue::Confirm => "confirm",
            Dialogue::ScheduleEntry => "schedule_entry",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_fsm::StateMachineImpl;

    const DIALOGUE_STATES: [Dialogue; 4] = [
        Dialogue::Idle,
        Dialogue::SkillMenu,
        Dialogue::ScheduleEntry,
        Dialogue::Confirm,
    ];

    const DIALOGUE_INPUTS: [DialogueInput; 11] = [
        DialogueInput::SkillsAsked,
        DialogueInput::HoursAsked,
        DialogueInput::ChangeProposed,
        DialogueInput::Guessed,
        DialogueInput::Answered,
        DialogueInput::Misanswered,
        DialogueInput::Confirmed,
        DialogueInput::Refused,
        DialogueInput::Unclear,
        DialogueInput::OtherCommand,
        DialogueInput::TimedOut,
    ];

    const PRESENCE_STATES: [Presence; 3] =
        [Presence::Offline, Presence::Online, Presence::CoolDown];
    const PRESENCE_INPUTS: [PresenceInput; 4] = [
        PresenceInput::AskedOn,
        PresenceInput::AskedOff,
        PresenceInput::MissedCall,
        PresenceInput::RestOver,
    ];

    /// Fails to compile when a variant is added and not listed above.
    #[allow(dead_code)]
    fn lists_are_complete(d: DialogueInput, p: PresenceInput) {
        match d {
            DialogueInput::SkillsAsked
            | DialogueInput::HoursAsked
            | DialogueInput::ChangeProposed
            | DialogueInput::Guessed
            | DialogueInput::Answered
            | DialogueInput::Misanswered
            | DialogueInput::Confirmed
            | DialogueInput::Refused
            | DialogueInput::Unclear
            | DialogueInput::OtherCommand
            | DialogueInput::TimedOut => {}
        }
        match p {
            PresenceInput::AskedOn
            | PresenceInput::AskedOff
            | PresenceInput::MissedCall
            | PresenceInput::RestOver => {}
        }
    }

    #[test]
    fn every_pair_has_one_rule() {
        for state in DIALOGUE_STATES {
            for input in DIALOGUE_INPUTS {
                assert!(
                    dialogue::Impl::transition(&state, &input).is_some(),
                    "dialogue {state:?} {input:?} has no rule"
                );
            }
        }
        for state in PRESENCE_STATES {
            for input in PRESENCE_INPUTS {
                assert!(
                    presence::Impl::transition(&state, &input).is_some(),
                    "presence {state:?} {input:?} has no rule"
                );
            }
        }
    }

    #[test]
    fn every_open_step_can_expire_back_to_idle() {
        for state in DIALOGUE_STATES {
            let (next, output) = fire::<dialogue::Impl>(state, &DialogueInput::TimedOut);
            assert_eq!(next, Dialogue::Idle);
            let expected = (state != Dialogue::Idle).then_some(DialogueOutput::SayExpired);
            assert_eq!(output, expected, "{state:?}");
        }
    }

    #[test]
    fn yes_saves_only_at_a_confirm_step() {
        assert_eq!(
            fire::<dialogue::Impl>(Dialogue::Idle, &DialogueInput::Confirmed),
            (Dialogue::Idle, Some(DialogueOutput::SayNothingToConfirm))
        );
        assert_eq!(
            fire::<dialogue::Impl>(Dialogue::Confirm, &DialogueInput::Confirmed),
            (Dialogue::Idle, Some(DialogueOutput::Save))
        );
        for state in [Dialogue::SkillMenu, Dialogue::ScheduleEntry] {
            let (next, output) = fire::<dialogue::Impl>(state, &DialogueInput::Confirmed);
            assert_eq!((next, output), (state, Some(DialogueOutput::ExplainAnswer)));
        }
    }

    #[test]
    fn another_command_always_leaves_the_step() {
        for state in DIALOGUE_STATES {
            let (next, output) = fire::<dialogue::Impl>(state, &DialogueInput::OtherCommand);
            assert_eq!((next, output), (Dialogue::Idle, None), "{state:?}");
        }
    }

    #[test]
    fn going_off_works_from_every_presence_and_only_a_cool_down_resumes() {
        for state in PRESENCE_STATES {
            assert_eq!(
                fire::<presence::Impl>(state, &PresenceInput::AskedOff).0,
                Presence::Offline
            );
        }
        assert_eq!(
            fire::<presence::Impl>(Presence::CoolDown, &PresenceInput::RestOver),
            (Presence::Online, Some(PresenceOutput::Resume))
        );
        assert_eq!(
            fire::<presence::Impl>(Presence::Offline, &PresenceInput::RestOver),
            (Presence::Offline, None)
        );
        assert_eq!(
            fire::<presence::Impl>(Presence::Online, &PresenceInput::MissedCall),
            (Presence::CoolDown, Some(PresenceOutput::Rest))
        );
    }

    #[test]
    fn states_persist_as_snake_case_names() {
        assert_eq!(
            serde_json::to_string(&Dialogue::SkillMenu).unwrap(),
            "\"skill_menu\""
        );
        assert_eq!(
            serde_json::to_string(&Presence::Online).unwrap(),
            "\"online\""
        );
    }
}
