//! Twilio REST client (being written).
