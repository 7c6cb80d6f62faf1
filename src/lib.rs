//! shiftline: workers text or call in to go online for a business's phone work; customers'
//! calls are queued by skill in Twilio TaskRouter and bridged to the workers' own phones.
//!
//! The layout follows DESIGN.md: a pure conversation core (`intake`), a sled store that
//! applies one event per transaction (`store`), Twilio specifics (`twilio`) and the HTTP
//! edge (`web`). `app` wires them together.

pub mod allocator;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod core;
pub mod demo;
pub mod i18n;
pub mod metrics;
pub mod outbox;
pub mod service;
pub mod store;
pub mod twilio;
pub mod web;
