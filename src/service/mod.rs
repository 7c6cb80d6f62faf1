//! Use cases between the HTTP edge and the core: each takes an event the web layer parsed,
//! runs the pure core inside one unit of work of the store, and returns what to answer.

pub mod setup;
