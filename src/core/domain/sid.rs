//! Twilio's SIDs as types: a reservation's SID cannot be passed where a call's is expected.
//! Each is parsed once at the edge (two letters of its kind and 32 hex digits) and stored
//! as the plain string, so records written before the types existed read the same.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether `value` is a Twilio SID of the kind `prefix` names (`WR`, `AC`, ...): the two
/// letters and 32 hex digits.
pub fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

macro_rules! sid {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// The SID, or an error naming what was expected.
            pub fn parse(raw: &str) -> Result<Self, String> {
                if is_sid(raw, $prefix) {
                    Ok(Self(raw.to_string()))
                } else {
                    Err(format!("{raw:?} is not a {} SID ({}...)", $prefix, $prefix))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

sid!(
    /// A TaskRouter reservation: one worker offered one task.
    ReservationSid,
    "WR"
);
sid!(
    /// A TaskRouter task: one customer's call waiting.
    TaskSid,
    "WT"
);
sid!(
    /// A TaskRouter worker.
    WorkerSid,
    "WK"
);
sid!(
    /// A call (the customer's, or the one to a worker's phone).
    CallSid,
    "CA"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sid_of_the_wrong_kind_or_shape_is_refused() {
        let call = format!("CA{}", "0".repeat(32));
        assert!(CallSid::parse(&call).is_ok());
        assert!(ReservationSid::parse(&call).is_err());
        assert!(CallSid::parse("CA123").is_err());
        assert!(CallSid::parse(&format!("CA{}", "g".repeat(32))).is_err());
    }

    #[test]
    fn a_sid_is_stored_as_its_plain_string() {
        let sid = ReservationSid::parse(&format!("WR{}", "a".repeat(32))).unwrap();
        let json = serde_json::to_string(&sid).unwrap();
        assert_eq!(json, format!("\"WR{}\"", "a".repeat(32)));
        assert_eq!(serde_json::from_str::<ReservationSid>(&json).unwrap(), sid);
    }
}
