//! Weekly schedules (being written).
