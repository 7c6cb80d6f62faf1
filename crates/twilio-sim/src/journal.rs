//! What the simulator keeps for a test to read or take (the REST requests it answered,
//! the call log): the most recent entries, at most a fixed number, so that a simulator
//! nobody drains (one running for hours as its own process) holds a bounded amount.

use std::collections::VecDeque;

/// How many REST requests ([`Simulator::take_requests`](crate::Simulator::take_requests))
/// and, separately, how many call log lines
/// ([`Simulator::take_call_log`](crate::Simulator::take_call_log)) the simulator keeps
/// until they are taken: past it, the oldest are dropped (and counted, see
/// [`SimInfo`](crate::SimInfo)).
pub const RECORD_LIMIT: usize = 100_000;

/// The most recent entries, oldest first, at most `limit` of them.
pub(crate) struct Journal<T> {
    entries: VecDeque<T>,
    limit: usize,
    /// How many entries were dropped to stay within `limit`, ever.
    dropped: u64,
}

impl<T: Clone> Journal<T> {
    pub fn new(limit: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            limit: limit.max(1),
            dropped: 0,
        }
    }

    /// Appends `entry`, dropping the oldest one if the journal is full.
    pub fn push(&mut self, entry: T) {
        if self.entries.len() >= self.limit {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    /// Every entry held, oldest first; the journal is left empty.
    pub fn take(&mut self) -> Vec<T> {
        self.entries.drain(..).collect()
    }

    /// Every entry held, oldest first.
    pub fn to_vec(&self) -> Vec<T> {
        self.entries.iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_journal_drops_its_oldest_entries_and_counts_them() {
        let mut journal = Journal::new(3);
        for n in 1..=5 {
            journal.push(n);
        }
        assert_eq!(journal.to_vec(), vec![3, 4, 5]);
        assert_eq!(journal.dropped(), 2);
        assert_eq!(journal.take(), vec![3, 4, 5]);
        assert_eq!(journal.len(), 0);
        journal.push(6);
        assert_eq!(journal.to_vec(), vec![6]);
        assert_eq!(journal.dropped(), 2);
    }
}
