//! Twilio specifics: webhook signatures and TwiML.

pub mod rest;
pub mod signature;
pub mod twiml;
