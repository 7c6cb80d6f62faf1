//! Twilio specifics: webhook signatures and TwiML.

pub mod signature;
pub mod twiml;
