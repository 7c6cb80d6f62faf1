//! The resources Twilio returns, as far as shiftline reads them (field names from the
//! OpenAPI specs, snake_case as Twilio sends them).
//!
//! Parsing is lenient on purpose: every field is optional and defaults when missing,
//! `null` is `None`, unknown fields are ignored (Twilio adds fields without notice), and a
//! URL field holding `""` (as in Twilio's own example bodies) is `None`. JSON documents
//! Twilio stores for us (`attributes`, `configuration`) stay JSON text; the caller parses
//! them into its own types.

use serde::{Deserialize, Deserializer};

/// `""` and `null` both mean "no URL".
fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(d)?;
    Ok(value.filter(|s| !s.trim().is_empty()))
}

/// A TaskRouter Workspace.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Workspace {
    pub sid: Option<String>,
    pub friendly_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub event_callback_url: Option<String>,
    /// Comma-separated event types; `None` means all events.
    pub events_filter: Option<String>,
    pub default_activity_sid: Option<String>,
    pub default_activity_name: Option<String>,
    pub timeout_activity_sid: Option<String>,
    pub timeout_activity_name: Option<String>,
    pub multi_task_enabled: Option<bool>,
    pub prioritize_queue_order: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub url: Option<String>,
}

/// A Worker state (Offline, Available, ...).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Activity {
    pub sid: Option<String>,
    pub friendly_name: Option<String>,
    /// Whether a Worker in this activity can be offered tasks.
    pub available: Option<bool>,
    pub workspace_sid: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub url: Option<String>,
}

/// A TaskRouter Worker.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Worker {
    pub sid: Option<String>,
    pub friendly_name: Option<String>,
    pub activity_sid: Option<String>,
    pub activity_name: Option<String>,
    /// The Worker's attributes as JSON text (e.g. `{"skills":["en"]}`).
    pub attributes: Option<String>,
    pub available: Option<bool>,
    pub date_status_changed: Option<String>,
    pub workspace_sid: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub url: Option<String>,
}

/// A TaskQueue.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TaskQueue {
    pub sid: Option<String>,
    pub friendly_name: Option<String>,
    /// The expression selecting Workers for this queue's tasks.
    pub target_workers: Option<String>,
    pub max_reserved_workers: Option<u32>,
    pub task_order: Option<String>,
    pub reservation_activity_sid: Option<String>,
    pub assignment_activity_sid: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub url: Option<String>,
}

/// A Workflow: routing rules plus where assignments are announced.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Workflow {
    pub sid: Option<String>,
    pub friendly_name: Option<String>,
    /// The routing configuration as JSON text.
    pub configuration: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub assignment_callback_url: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub fallback_assignment_callback_url: Option<String>,
    /// Seconds TaskRouter waits for a reservation to be answered.
    pub task_reservation_timeout: Option<u32>,
    #[serde(deserialize_with = "empty_as_none")]
    pub url: Option<String>,
}

/// A Task (one customer call waiting for, or being handled by, a Worker).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Task {
    pub sid: Option<String>,
    /// `pending reserved assigned canceled completed wrapping`.
    pub assignment_status: Option<String>,
    /// The Task's attributes as JSON text.
    pub attributes: Option<String>,
    pub workflow_sid: Option<String>,
    pub task_queue_sid: Option<String>,
    pub reason: Option<String>,
    pub priority: Option<i64>,
    pub timeout: Option<u64>,
    pub age: Option<u64>,
    #[serde(deserialize_with = "empty_as_none")]
    pub url: Option<String>,
}

/// A Reservation: a Task offered to one Worker. (Reservations have no friendly name;
/// `worker_name` is the Worker's.)
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Reservation {
    pub sid: Option<String>,
    /// `pending accepted rejected timeout canceled rescinded wrapping completed`.
    pub reservation_status: Option<String>,
    pub worker_sid: Option<String>,
    pub worker_name: Option<String>,
    pub task_sid: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub url: Option<String>,
}

/// A voice Call (API 2010).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Call {
    pub sid: Option<String>,
    /// `queued ringing in-progress completed busy failed no-answer canceled`.
    pub status: Option<String>,
    /// AMD verdict once known (`human`, `machine`, ...).
    pub answered_by: Option<String>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub direction: Option<String>,
    pub parent_call_sid: Option<String>,
    pub duration: Option<String>,
    pub uri: Option<String>,
}

/// An SMS or MMS Message (API 2010).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Message {
    pub sid: Option<String>,
    /// `queued sending sent failed delivered undelivered ...`.
    pub status: Option<String>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub body: Option<String>,
    pub num_segments: Option<String>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    pub uri: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_url_fields_parse_as_none() {
        let w: Workflow = serde_json::from_str(
            r#"{"sid": "WW1", "assignment_callback_url": "",
                "fallback_assignment_callback_url": null, "task_reservation_timeout": 120}"#,
        )
        .expect("parses");
        assert_eq!(w.assignment_callback_url, None);
        assert_eq!(w.fallback_assignment_callback_url, None);
        assert_eq!(w.task_reservation_timeout, Some(120));
        let ws: Workspace = serde_json::from_str(r#"{"event_callback_url": ""}"#).expect("parses");
        assert_eq!(ws.event_callback_url, None);
    }

    #[test]
    fn unknown_fields_and_nulls_are_tolerated() {
        let w: Worker = serde_json::from_str(
            r#"{"sid": "WK1", "activity_name": null, "available": null,
                "links": {"channels": "https://x"}, "brand_new_field": [1, 2]}"#,
        )
        .expect("parses");
        assert_eq!(w.sid.as_deref(), Some("WK1"));
        assert_eq!(w.activity_name, None);
        assert_eq!(w.available, None);
    }
}
