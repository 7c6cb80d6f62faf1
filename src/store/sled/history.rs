//! How the presence history lies in its sled tree: one key per worker and day, holding
//! that day's changes in order, so a worker's history is a prefix scan.
//!
//! Why by day: sled keeps about 32 bytes of memory for every key it holds, evicted or not
//! (measured on 0.34). A key per change made the process grow with every ON and OFF; a
//! key per worker and day grows by one key a day for a worker who works that day.
//!
//! Keys are the phone, a zero byte, then either the day (4 bytes: days since 1970,
//! big-endian) for a day's list, or a sequence number (8 bytes) for a change kept alone:
//! the changes beyond `PER_DAY` in one day, and every change written before day keys
//! existed. Values are JSON: a list for a day, one change for a key of its own.

use chrono::{DateTime, Utc};

use crate::core::domain::PhoneNumber;
use crate::store::{PresenceChange, StoreError};

/// At most this many changes share a day's key. A worker who toggles all day long gets a
/// key per change after that, so no change rewrites an ever longer list.
pub(super) const PER_DAY: usize = 64;

/// Where one worker's history starts.
pub(super) fn prefix(phone: &PhoneNumber) -> Vec<u8> {
    let mut key = phone.as_str().as_bytes().to_vec();
    key.push(0);
    key
}

/// The key of a worker's list of changes on the day (UTC) of `at`.
pub(super) fn day_key(phone: &PhoneNumber, at: DateTime<Utc>) -> Vec<u8> {
    let day = at
        .timestamp()
        .div_euclid(86_400)
        .clamp(0, i64::from(u32::MAX)) as u32;
    let mut key = prefix(phone);
    key.extend_from_slice(&day.to_be_bytes());
    key
}

/// Adds `change` to its day's list unless the list is full (`PER_DAY`); a change that
/// does not fit comes back, to be kept under a key of its own (`change_key`).
pub(super) fn append<T>(day: &mut Vec<T>, change: T) -> Option<T> {
    if day.len() >= PER_DAY {
        return Some(change);
    }
    day.push(change);
    None
}

/// The key of one change kept on its own.
pub(super) fn change_key(phone: &PhoneNumber, sequence: u64) -> Vec<u8> {
    let mut key = prefix(phone);
    key.extend_from_slice(&sequence.to_be_bytes());
    key
}

/// The phone a key belongs to.
pub(super) fn phone_of(key: &[u8]) -> Result<PhoneNumber, StoreError> {
    let phone = key.split(|b| *b == 0).next().unwrap_or_default();
    PhoneNumber::parse(&String::from_utf8_lossy(phone)).map_err(StoreError::Codec)
}

/// The changes one value holds: a day's list, or a single change.
pub(super) fn decode(value: &[u8]) -> Result<Vec<PresenceChange>, StoreError> {
    Ok(match value.first() {
        Some(b'[') => serde_json::from_slice(value)?,
        _ => vec![serde_json::from_slice(value)?],
    })
}

/// One worker's changes, read key by key, in the order they happened. Keys do not sort
/// by time across their two kinds; a stable sort keeps a day's own order.
pub(super) fn in_order(mut changes: Vec<PresenceChange>) -> Vec<PresenceChange> {
    changes.sort_by_key(|c| c.at);
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Via;

    fn change(at: i64) -> PresenceChange {
        PresenceChange {
            at: DateTime::from_timestamp(at, 0).unwrap(),
            from: "offline".into(),
            to: "available".into(),
            via: Via::Sms,
        }
    }

    #[test]
    fn a_day_and_a_lone_change_decode_alike() {
        let day = serde_json::to_vec(&vec![change(1), change(2)]).unwrap();
        let lone = serde_json::to_vec(&change(3)).unwrap();
        assert_eq!(decode(&day).unwrap(), vec![change(1), change(2)]);
        assert_eq!(decode(&lone).unwrap(), vec![change(3)]);
    }

    #[test]
    fn a_full_day_hands_the_change_back() {
        let mut day = Vec::new();
        for i in 0..PER_DAY {
            assert_eq!(append(&mut day, i), None);
        }
        assert_eq!(append(&mut day, PER_DAY), Some(PER_DAY));
        assert_eq!(day.len(), PER_DAY);
    }

    #[test]
    fn keys_stay_under_their_phone_and_name_it() {
        let phone = PhoneNumber::parse("+15550001111").unwrap();
        let other = PhoneNumber::parse("+155500011112").unwrap();
        let at = DateTime::from_timestamp(86_400 * 20_000 + 5, 0).unwrap();
        for key in [day_key(&phone, at), change_key(&phone, 7)] {
            assert!(key.starts_with(&prefix(&phone)));
            assert!(!key.starts_with(&prefix(&other)));
            assert_eq!(phone_of(&key).unwrap(), phone);
        }
        // The same day, whatever the hour; the next day, another key.
        let later = at + chrono::TimeDelta::hours(23);
        assert_eq!(day_key(&phone, at), day_key(&phone, later));
        assert_ne!(
            day_key(&phone, at),
            day_key(&phone, later + chrono::TimeDelta::hours(1))
        );
    }
}
