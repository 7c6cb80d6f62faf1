//! Built-in Twilio simulator (being written).
