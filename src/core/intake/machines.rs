//! The per-worker state machines (DESIGN 1.3), written with rust-fsm so that every
//! transition is listed in one table. States and inputs are unit variants only; the data
//! that travels with them (chosen skills, what a Confirm step will save) lives in the
//! worker record beside the machine states.
//!
//! rust-fsm silently keeps one of two rules for the same (state, input) pair, so each pair
//! appears once below; `every_pair_has_one_rule` checks the tables are complete.

use rust_fsm::state_machine;

state_machine! {
    /// Whether TaskRouter may offer calls to the worker. CoolDown is a short rest after a
    /// missed or timed-out call (TaskRouter activity Unavailable), so the same call is not
    /// offered straight back; a timer ends it (`Rested`).
    ///
    /// - Offline: GoOnline -> Online [WentOnline]; GoOffline -> Offline [AlreadyOffline];
    ///   Rest, Rested -> Offline
    /// - Online: GoOffline -> Offline [WentOffline]; GoOnline -> Online [AlreadyOnline];
    ///   Rest -> CoolDown [CoolingDown]; Rested -> Online
    /// - CoolDown: GoOffline -> Offline [WentOffline]; GoOnline -> Online [AlreadyOnline];
    ///   Rest -> CoolDown; Rested -> Online [BackOnline]
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub presence(Offline)

    Offline => {
        GoOnline => Online [WentOnline],
        GoOffline => Offline [AlreadyOffline],
        Rest => Offline,
        Rested => Offline,
    },
    Online => {
        GoOffline => Offline [WentOffline],
        GoOnline => Online [AlreadyOnline],
        Rest => CoolDown [CoolingDown],
        Rested => Online,
    },
    CoolDown => {
        GoOffline => Offline [WentOffline],
        GoOnline => Online [AlreadyOnline],
        Rest => CoolDown,
        Rested => Online [BackOnline],
    }
}

state_machine! {
    /// Where the worker is in a conversation. A step other than Idle expires after
    /// `MENU_TIMEOUT` of silence, so a worker who walks away comes back to a clean state.
    ///
    /// - Idle: OpenSkillMenu -> SkillMenu [ShowMenu]; OpenScheduleEntry -> ScheduleEntry
    ///   [AskSchedule]; Propose -> Confirm [AskConfirm] (a complete change, such as
    ///   "SCHEDULE mon-fri 9-17"); Guess -> Confirm [AskConfirm] (a command read from a text
    ///   that was not clear: "Did you mean OFF?"); Leave/Expire -> Idle
    /// - SkillMenu: ValidAnswer -> Confirm [AskConfirm]; InvalidAnswer -> SkillMenu [ExplainMenu];
    ///   OpenSkillMenu -> SkillMenu [ShowMenu]; Cancel -> Idle [Cancelled];
    ///   Leave -> Idle (another command interrupts); Expire -> Idle [Expired]
    /// - ScheduleEntry: the same as SkillMenu, for weekly hours
    /// - Confirm: Yes -> Idle [Save]; No/Cancel -> Idle [Cancelled]; Unclear -> Confirm [AskAgain];
    ///   ValidAnswer/Propose -> Confirm [AskConfirm] (a new answer replaces the pending one);
    ///   OpenSkillMenu -> SkillMenu [ShowMenu]; Leave -> Idle; Expire -> Idle [Expired]
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub dialogue(Idle)

    Idle => {
        OpenSkillMenu => SkillMenu [ShowMenu],
        OpenScheduleEntry => ScheduleEntry [AskSchedule],
        Propose => Confirm [AskConfirm],
        Guess => Confirm [AskConfirm],
        Leave => Idle,
        Expire => Idle,
    },
    SkillMenu => {
        ValidAnswer => Confirm [AskConfirm],
        InvalidAnswer => SkillMenu [ExplainMenu],
        OpenSkillMenu => SkillMenu [ShowMenu],
        OpenScheduleEntry => ScheduleEntry [AskSchedule],
        Propose => Confirm [AskConfirm],
        Guess => Confirm [AskConfirm],
        Cancel => Idle [Cancelled],
        Leave => Idle,
        Expire => Idle [Expired],
    },
    ScheduleEntry => {
        ValidAnswer => Confirm [AskConfirm],
        InvalidAnswer => ScheduleEntry [ExplainMenu],
        OpenSkillMenu => SkillMenu [ShowMenu],
        OpenScheduleEntry => ScheduleEntry [AskSchedule],
        Propose => Confirm [AskConfirm],
        Guess => Confirm [AskConfirm],
        Cancel => Idle [Cancelled],
        Leave => Idle,
        Expire => Idle [Expired],
    },
    Confirm => {
        Yes => Idle [Save],
        No => Idle [Cancelled],
        Cancel => Idle [Cancelled],
        Unclear => Confirm [AskAgain],
        ValidAnswer => Confirm [AskConfirm],
        Propose => Confirm [AskConfirm],
        Guess => Confirm [AskConfirm],
        OpenSkillMenu => SkillMenu [ShowMenu],
        OpenScheduleEntry => ScheduleEntry [AskSchedule],
        Leave => Idle,
        Expire => Idle [Expired],
    }
}

pub use dialogue::{Input as DialogueInput, Output as DialogueOutput, State as Dialogue};
pub use presence::{Input as PresenceInput, Output as PresenceOutput, State as Presence};

/// How long an open menu or confirm step waits for an answer.
pub const MENU_TIMEOUT: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// Feeds one input to a machine held as a bare state, the way the worker record stores it.
/// Returns `None` when the table has no rule for the pair, which the callers treat as a bug
/// in their own choice of input, never as something a worker's text can cause.
pub fn fire<M: rust_fsm::StateMachineImpl>(
    state: M::State,
    input: &M::Input,
) -> Option<(M::State, Option<M::Output>)> {
    let output = M::output(&state, input);
    M::transition(&state, input).map(|next| (next, output))
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

    const DIALOGUE_STATES: [Dialogue; 4] = [
        Dialogue::Idle,
        Dialogue::SkillMenu,
        Dialogue::ScheduleEntry,
        Dialogue::Confirm,
    ];

    #[test]
    fn every_pair_has_one_rule() {
        use DialogueInput::*;
        for state in DIALOGUE_STATES {
            for input in [OpenSkillMenu, OpenScheduleEntry, Propose, Leave, Expire] {
                assert!(
                    fire::<dialogue::Impl>(state, &input).is_some(),
                    "{state:?} {input:?}"
                );
            }
        }
        for state in [Presence::Offline, Presence::Online, Presence::CoolDown] {
            for input in [
                PresenceInput::GoOnline,
                PresenceInput::GoOffline,
                PresenceInput::Rest,
                PresenceInput::Rested,
            ] {
                assert!(fire::<presence::Impl>(state, &input).is_some());
            }
        }
    }

    #[test]
    fn every_open_step_can_expire_back_to_idle() {
        for state in DIALOGUE_STATES {
            let (next, _) = fire::<dialogue::Impl>(state, &DialogueInput::Expire).unwrap();
            assert_eq!(next, Dialogue::Idle);
        }
    }

    #[test]
    fn yes_outside_a_confirm_step_has_no_rule() {
        assert!(fire::<dialogue::Impl>(Dialogue::Idle, &DialogueInput::Yes).is_none());
        assert_eq!(
            fire::<dialogue::Impl>(Dialogue::Confirm, &DialogueInput::Yes),
            Some((Dialogue::Idle, Some(DialogueOutput::Save)))
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
