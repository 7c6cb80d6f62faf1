//! The pure core: what shiftline decides, as plain functions of `(record, event, now)`.
//! Nothing here reads a clock, the network or the disk, and nothing here imports the shell
//! (`tests/layers.rs` checks it).
//!
//! - `domain`: the values the rest is made of (phone numbers, SIDs, skills, languages);
//! - `intake`: what a worker's text or key means and what it does to their record;
//! - `dispatch`: what an event about a reserved worker's call does;
//! - `callback`: calling back a caller nobody could take;
//! - `schedule`: weekly hours and their boundaries;
//! - `effects`: what the core asks the outside world to do (the outbox commands);
//! - `text`: folding text for comparison (case, accents, invisible characters).

pub mod callback;
pub mod dispatch;
pub mod domain;
pub mod effects;
pub mod intake;
pub mod schedule;
pub mod text;
