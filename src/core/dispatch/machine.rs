//! The reservation lifecycle, as rust-fsm tables: one machine per TaskRouter reservation
//! that shiftline is calling a worker for.
//!
//! - Offered: the assignment callback arrived and the call to the worker is queued.
//!   CallStarted -> Ringing; PickedUp -> Answered [AskKey]; PickedUpHuman -> Bridged [Bridge];
//!   PickedUpMachine, AmdMachine -> Missed [RejectAndHangUp]; Unanswered, CallFailed,
//!   CallEnded -> Missed [Reject]; Ended -> Gone [HangUp]; KeyOne, OtherKey, AmdHuman -> Offered
//! - Ringing: the same as Offered (the call exists, nobody answered yet).
//! - Answered: the worker picked up and hears the whisper and the press-1 prompt.
//!   KeyOne -> Bridged [Bridge]; OtherKey, AmdMachine -> Missed [RejectAndHangUp];
//!   CallEnded, Unanswered -> Missed [Reject]; Ended -> Gone [HangUp]; AmdHuman, CallStarted,
//!   PickedUp* -> Answered
//! - Bridged: `<Dial><Queue reservationSid>` was answered; TaskRouter accepts the
//!   reservation itself. Everything -> Bridged.
//! - Missed: rejected because nobody (or a machine) took it. Everything -> Missed.
//! - Gone: the reservation ended elsewhere (timed out, canceled, rescinded) and the worker's
//!   call was hung up. Everything -> Gone.
//!
//! The three final states ignore late and duplicated callbacks, so a retried webhook can
//! never place a second call or bridge a reservation that is no longer pending.

use rust_fsm::state_machine;

state_machine! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub reservation(Offered)

    Offered => {
        CallStarted => Ringing,
        PickedUp => Answered [AskKey],
        PickedUpHuman => Bridged [Bridge],
        PickedUpMachine => Missed [RejectAndHangUp],
        AmdMachine => Missed [RejectAndHangUp],
        AmdHuman => Offered,
        KeyOne => Offered,
        OtherKey => Offered,
        Unanswered => Missed [Reject],
        CallFailed => Missed [Reject],
        CallEnded => Missed [Reject],
        Ended => Gone [HangUp],
    },
    Ringing => {
        CallStarted => Ringing,
        PickedUp => Answered [AskKey],
        PickedUpHuman => Bridged [Bridge],
        PickedUpMachine => Missed [RejectAndHangUp],
        AmdMachine => Missed [RejectAndHangUp],
        AmdHuman => Ringing,
        KeyOne => Ringing,
        OtherKey => Ringing,
        Unanswered => Missed [Reject],
        CallFailed => Missed [Reject],
        CallEnded => Missed [Reject],
        Ended => Gone [HangUp],
    },
    Answered => {
        CallStarted => Answered,
        PickedUp => Answered,
        PickedUpHuman => Answered,
        PickedUpMachine => Answered,
        AmdHuman => Answered,
        AmdMachine => Missed [RejectAndHangUp],
        KeyOne => Bridged [Bridge],
        OtherKey => Missed [RejectAndHangUp],
        Unanswered => Missed [Reject],
        CallFailed => Missed [Reject],
        CallEnded => Missed [Reject],
        Ended => Gone [HangUp],
    },
    Bridged => {
        CallStarted => Bridged,
        PickedUp => Bridged,
        PickedUpHuman => Bridged,
        PickedUpMachine => Bridged,
        AmdHuman => Bridged,
        AmdMachine => Bridged,
        KeyOne => Bridged,
        OtherKey => Bridged,
        Unanswered => Bridged,
        CallFailed => Bridged,
        CallEnded => Bridged,
        Ended => Bridged,
    },
    Missed => {
        CallStarted => Missed,
        PickedUp => Missed,
        PickedUpHuman => Missed,
        PickedUpMachine => Missed,
        AmdHuman => Missed,
        AmdMachine => Missed,
        KeyOne => Missed,
        OtherKey => Missed,
        Unanswered => Missed,
        CallFailed => Missed,
        CallEnded => Missed,
        Ended => Missed,
    },
    Gone => {
        CallStarted => Gone,
        PickedUp => Gone,
        PickedUpHuman => Gone,
        PickedUpMachine => Gone,
        AmdHuman => Gone,
        AmdMachine => Gone,
        KeyOne => Gone,
        OtherKey => Gone,
        Unanswered => Gone,
        CallFailed => Gone,
        CallEnded => Gone,
        Ended => Gone,
    }
}

pub use reservation::{
    Input as ReservationInput, Output as ReservationOutput, State as ReservationState,
};

impl ReservationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationState::Offered => "offered",
            ReservationState::Ringing => "ringing",
            ReservationState::Answered => "answered",
            ReservationState::Bridged => "bridged",
            ReservationState::Missed => "missed",
            ReservationState::Gone => "gone",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::intake::machines::fire;
    use ReservationInput::*;
    use ReservationState::*;
    use rust_fsm::StateMachineImpl;

    const STATES: [ReservationState; 6] = [Offered, Ringing, Answered, Bridged, Missed, Gone];
    const INPUTS: [ReservationInput; 12] = [
        CallStarted,
        PickedUp,
        PickedUpHuman,
        PickedUpMachine,
        AmdHuman,
        AmdMachine,
        KeyOne,
        OtherKey,
        Unanswered,
        CallFailed,
        CallEnded,
        Ended,
    ];

    #[test]
    fn every_state_has_a_rule_for_every_input() {
        for state in STATES {
            for input in INPUTS {
                assert!(
                    reservation::Impl::transition(&state, &input).is_some(),
                    "{state:?} {input:?}"
                );
            }
        }
    }

    #[test]
    fn final_states_never_move_or_act_again() {
        for state in [Bridged, Missed, Gone] {
            for input in INPUTS {
                assert_eq!(
                    fire::<reservation::Impl>(state, &input),
                    (state, None),
                    "{state:?} {input:?}"
                );
            }
        }
    }

    #[test]
    fn only_a_human_or_a_pressed_1_bridges() {
        for state in STATES {
            for input in INPUTS {
                let (next, output) = fire::<reservation::Impl>(state, &input);
                if output == Some(ReservationOutput::Bridge) {
                    assert!(
                        matches!(input, PickedUpHuman | KeyOne),
                        "{state:?} {input:?}"
                    );
                    assert_eq!(next, Bridged);
                }
            }
        }
    }

    #[test]
    fn a_machine_is_never_bridged() {
        for state in [Offered, Ringing, Answered] {
            let (next, _) = fire::<reservation::Impl>(state, &AmdMachine);
            assert_eq!(next, Missed, "{state:?}");
        }
    }
}
