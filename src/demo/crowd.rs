//! `shiftline demo --crowd N`: N more workers, all on the same daily shift starting a minute
//! or two after the demo starts, so the demo shows a shift-start burst: hundreds of
//! TaskRouter syncs and texts due at the same instant. With `--twilio-latency-ms 200`
//! (Twilio's real speed) a customer's call made during the burst (`call billing`) shows its
//! worker's call going out ahead of the syncs still waiting.
//!
//! The crowd enrols the way workers do, by text (skills, then hours), and its events are
//! summed up in one line per look instead of a line each.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use regex::Regex;

use crate::config::RosterEntry;
use crate::core::domain::{Locale, PhoneNumber};

/// The crowd's shift: when it starts (local time), and the texts that set it.
pub struct Crowd {
    pub phones: BTreeSet<String>,
    pub starts: DateTime<Tz>,
    pub texts: Vec<String>,
}

impl Crowd {
    /// `n` workers whose shift starts at the second full minute from `now` (at least a
    /// minute to enrol them all), in `zone`.
    pub fn new(n: usize, now: DateTime<Utc>, zone: Tz) -> Self {
        let local = now.with_timezone(&zone) + TimeDelta::seconds(60);
        let starts = local + TimeDelta::seconds(60 - i64::from(local.second()));
        let start = starts.time();
        // Eight hours, or until midnight: a shift that crosses it is another matter.
        let (later, wrapped) = start.overflowing_add_signed(TimeDelta::hours(8));
        let end = if wrapped == 0 {
            later
        } else {
            NaiveTime::from_hms_opt(23, 59, 0).expect("a valid time")
        };
        let hours = format!("daily {}-{}", start.format("%H:%M"), end.format("%H:%M"));
        Self {
            phones: (1..=n).map(|i| phone(i).to_string()).collect(),
            starts,
            texts: ["skills", "1 2", "yes", &format!("schedule {hours}"), "yes"]
                .map(str::to_string)
                .to_vec(),
        }
    }

    /// The crowd as configuration roster entries, in English and `zone`.
    pub fn roster(&self, zone: Tz) -> Vec<RosterEntry> {
        self.phones
            .iter()
            .enumerate()
            .filter_map(|(i, phone)| {
                Some(RosterEntry {
                    phone: PhoneNumber::parse(phone).ok()?,
                    name: format!("Crowd {:03}", i + 1),
                    language: Locale::En,
                    languages: vec![Locale::En],
                    time_zone: zone,
                })
            })
            .collect()
    }

    /// Whether a line (a request, a text) is about a crowd worker.
    pub fn mentions(&self, line: &str) -> bool {
        static NUMBER: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"\+[0-9]{8,15}").expect("a valid pattern"));
        NUMBER
            .find_iter(line)
            .any(|m| self.phones.contains(m.as_str()))
    }
}

/// What the crowd did since the last look, summed up.
#[derive(Default)]
pub struct Tally {
    pub requests: usize,
    pub texts: usize,
    pub online: usize,
    pub offline: usize,
    pub available: usize,
}

impl Tally {
    /// One line, or none when the crowd did nothing.
    pub fn line(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.requests, "Twilio requests"),
            (self.texts, "texts sent"),
            (self.online, "went online"),
            (self.offline, "went offline"),
            (self.available, "now Available in TaskRouter"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        (!parts.is_empty()).then(|| format!("crowd: {}", parts.join(", ")))
    }
}

fn phone(i: usize) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1555300{i:04}")).expect("a valid number")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shift_starts_on_a_full_minute_at_least_a_minute_away() {
        let zone: Tz = "America/Chicago".parse().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-03-02T14:01:37-06:00")
            .unwrap()
            .to_utc();
        let crowd = Crowd::new(3, now, zone);
        assert_eq!(crowd.starts.format("%H:%M:%S").to_string(), "14:03:00");
        assert_eq!(crowd.texts[3], "schedule daily 14:03-22:03");
        assert_eq!(crowd.roster(zone).len(), 3);
        assert!(crowd.mentions("POST /Workers FriendlyName=+15553000002 ..."));
        assert!(!crowd.mentions("POST /Workers FriendlyName=+15550001111 ..."));
    }

    #[test]
    fn a_late_shift_ends_before_midnight() {
        let zone: Tz = "UTC".parse().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-03-02T20:30:10Z")
            .unwrap()
            .to_utc();
        let crowd = Crowd::new(1, now, zone);
        assert_eq!(crowd.texts[3], "schedule daily 20:32-23:59");
    }
}
