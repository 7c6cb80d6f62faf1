//! Tests of the callback core (written elsewhere).
