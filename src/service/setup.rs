//! `shiftline twilio setup`: makes a TaskRouter workspace ready for shiftline (DESIGN 1.8).
//!
//! It is idempotent: every resource is looked up by its FriendlyName, created when missing,
//! updated when it drifted from what the configuration asks for, and left alone otherwise,
//! so a second run changes nothing and says so.
//!
//! What it builds: the activities Available, Offline and Unavailable (the cool-down after a
//! missed or timed-out call); one TaskQueue per skill (`skills HAS "<key>"`); a Voicemail
//! queue that no worker matches (`1==2`); the `shiftline` workflow (skill -> its queue, then
//! voicemail after the wait, or at once when nobody with the skill is available); and the
//! workspace's event callback, default activity and timeout activity.

use serde_json::{Value, json};

use crate::config::Settings;
use crate::twilio::rest::{
    TaskQueueSpec, TwilioClient, TwilioError, WorkflowSpec, WorkspaceUpdate,
};

use crate::core::effects::Activity;
pub use crate::core::effects::RESERVATION_TIMEOUT_SECS;

pub const AVAILABLE: &str = Activity::Available.name();
pub const OFFLINE: &str = Activity::Offline.name();
pub const UNAVAILABLE: &str = Activity::Unavailable.name();
pub const VOICEMAIL_QUEUE: &str = "Voicemail";
pub const WORKFLOW: &str = "shiftline";
/// The events shiftline reacts to.
pub const EVENTS: &str = "task.canceled,task-queue.entered,workflow.timeout,reservation.accepted,reservation.rejected,reservation.timeout,reservation.canceled,reservation.rescinded";

/// What a run did, one line per resource, for the operator to read.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub changes: usize,
    pub workflow_sid: Option<String>,
}

impl Report {
    fn note(&mut self, changed: bool, line: String) {
        self.changes += usize::from(changed);
        self.lines.push(line);
    }
}

pub async fn run(client: &TwilioClient, settings: &Settings) -> Result<Report, TwilioError> {
    let mut report = Report::default();
    activity(client, AVAILABLE, true, &mut report).await?;
    let offline = activity(client, OFFLINE, false, &mut report).await?;
    let unavailable = activity(client, UNAVAILABLE, false, &mut report).await?;

    let mut skill_queues = Vec::new();
    for skill in settings.catalog.skills() {
        let target = format!("skills HAS \"{}\"", skill.key);
        let sid = queue(client, skill.key.as_str(), &target, &mut report).await?;
        skill_queues.push((skill.key.to_string(), sid));
    }
    let voicemail = queue(client, VOICEMAIL_QUEUE, "1==2", &mut report).await?;

    let configuration =
        workflow_configuration(&skill_queues, &voicemail, settings.customer.max_wait_secs);
    let base = &settings.public_url;
    let workflow_sid = workflow(
        client,
        &configuration,
        &format!("{base}/twilio/taskrouter/assignment"),
        &mut report,
    )
    .await?;
    report.workflow_sid = Some(workflow_sid);

    let workspace = client.fetch_workspace().await?;
    let wanted = WorkspaceUpdate {
        event_callback_url: Some(format!("{base}/twilio/taskrouter/events")),
        events_filter: Some(EVENTS.to_string()),
        default_activity_sid: Some(offline.clone()),
        timeout_activity_sid: Some(unavailable.clone()),
        ..WorkspaceUpdate::default()
    };
    let drifted = workspace.event_callback_url != wanted.event_callback_url
        || workspace.events_filter.as_deref().map(sorted_events) != Some(sorted_events(EVENTS))
        || workspace.default_activity_sid != wanted.default_activity_sid
        || workspace.timeout_activity_sid != wanted.timeout_activity_sid;
    if drifted {
        client.update_workspace(&wanted).await?;
        report.note(
            true,
            "updated workspace: event callback, default and timeout activities".into(),
        );
    } else {
        report.note(false, "ok      workspace settings".into());
    }
    Ok(report)
}

/// The webhook URLs to paste into the Twilio phone numbers.
pub fn webhook_urls(settings: &Settings) -> Vec<String> {
    let base = &settings.public_url;
    vec![
        format!("intake number, messaging webhook (POST): {base}/twilio/sms"),
        format!("intake number, voice webhook (POST):     {base}/twilio/voice/intake"),
        format!("business number, voice webhook (POST):   {base}/twilio/voice/customer"),
    ]
}

fn sorted_events(list: &str) -> Vec<String> {
    let mut events: Vec<String> = list.split(',').map(|e| e.trim().to_string()).collect();
    events.sort();
    events
}

/// Each skill's callback requests go to its queue too, to a worker who speaks the caller's
/// language, and wait there until someone is free (no caller is on the line; the task's
/// priority puts them after live callers). Their filters come first: a live call's filter
/// would match them too.
///
/// Each skill's calls go to its queue, to a worker who speaks the caller's language; a caller
/// waits there at most `max_wait_secs` for a busy worker, or not at all when nobody with the
/// skill is online (`skip_if`: TaskRouter counts a worker on a call as available, and
/// evaluates it when the call enters the queue and again whenever shiftline asks after a
/// worker went offline), and then reaches the voicemail queue.
pub fn workflow_configuration(
    skill_queues: &[(String, String)],
    voicemail: &str,
    max_wait_secs: u32,
) -> Value {
    let callbacks = skill_queues.iter().map(|(skill, queue)| {
        json!({
            "filter_friendly_name": format!("{skill} callbacks"),
            "expression": format!("type == \"callback\" AND skill == \"{skill}\""),
            "targets": [
                {"queue": queue, "expression": "worker.languages HAS task.language"}
            ]
        })
    });
    let filters: Vec<Value> = callbacks
        .chain(skill_queues.iter().map(|(skill, queue)| {
            json!({
                "filter_friendly_name": skill,
                "expression": format!("skill == \"{skill}\""),
                "targets": [
                    {
                        "queue": queue,
                        "expression": "worker.languages HAS task.language",
                        "timeout": max_wait_secs,
                        "skip_if": "workers.available == 0"
                    },
                    {"queue": voicemail}
                ]
            })
        }))
        .collect();
    json!({"task_routing": {"filters": filters, "default_filter": {"queue": voicemail}}})
}

async fn activity(
    client: &TwilioClient,
    name: &str,
    available: bool,
    report: &mut Report,
) -> Result<String, TwilioError> {
    let existing = client.list_activities(Some(name), None).await?;
    if let Some(a) = existing
        .into_iter()
        .find(|a| a.friendly_name.as_deref() == Some(name))
    {
        let sid = a.sid.unwrap_or_default();
        // An activity's availability cannot be changed after creation; say so if it is wrong.
        if a.available != Some(available) {
            report.note(false, format!("WARNING activity {name} ({sid}) has available={}, expected {available}: fix it in the console", a.available.map_or("unset".to_string(), |b| b.to_string())));
        } else {
            report.note(false, format!("ok      activity {name} ({sid})"));
        }
        return Ok(sid);
    }
    let created = client.create_activity(name, available).await?;
    let sid = created.sid.unwrap_or_default();
    report.note(true, format!("created activity {name} ({sid})"));
    Ok(sid)
}

async fn queue(
    client: &TwilioClient,
    name: &str,
    target_workers: &str,
    report: &mut Report,
) -> Result<String, TwilioError> {
    let spec = TaskQueueSpec {
        friendly_name: Some(name.to_string()),
        target_workers: Some(target_workers.to_string()),
        ..TaskQueueSpec::default()
    };
    let existing = client.list_task_queues(Some(name)).await?;
    match existing
        .into_iter()
        .find(|q| q.friendly_name.as_deref() == Some(name))
    {
        Some(q) if q.target_workers.as_deref() == Some(target_workers) => {
            let sid = q.sid.unwrap_or_default();
            report.note(false, format!("ok      queue {name} ({sid})"));
            Ok(sid)
        }
        Some(q) => {
            let sid = q.sid.unwrap_or_default();
            client.update_task_queue(&sid, &spec).await?;
            report.note(
                true,
                format!("updated queue {name} ({sid}): TargetWorkers {target_workers}"),
            );
            Ok(sid)
        }
        None => {
            let created = client.create_task_queue(&spec).await?;
            let sid = created.sid.unwrap_or_default();
            report.note(
                true,
                format!("created queue {name} ({sid}): TargetWorkers {target_workers}"),
            );
            Ok(sid)
        }
    }
}

async fn workflow(
    client: &TwilioClient,
    configuration: &Value,
    callback: &str,
    report: &mut Report,
) -> Result<String, TwilioError> {
    let spec = WorkflowSpec {
        friendly_name: Some(WORKFLOW.to_string()),
        configuration: Some(configuration.to_string()),
        assignment_callback_url: Some(callback.to_string()),
        task_reservation_timeout: Some(RESERVATION_TIMEOUT_SECS),
        ..WorkflowSpec::default()
    };
    let existing = client.list_workflows(Some(WORKFLOW)).await?;
    let Some(found) = existing
        .into_iter()
        .find(|w| w.friendly_name.as_deref() == Some(WORKFLOW))
    else {
        let created = client.create_workflow(&spec).await?;
        let sid = created.sid.unwrap_or_default();
        report.note(
            true,
            format!("created workflow {WORKFLOW} ({sid}): assignment callback {callback}"),
        );
        return Ok(sid);
    };
    let sid = found.sid.clone().unwrap_or_default();
    let same_config = found
        .configuration
        .as_deref()
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .is_some_and(|c| &c == configuration);
    let same = same_config
        && found.assignment_callback_url.as_deref() == Some(callback)
        && found.task_reservation_timeout == Some(RESERVATION_TIMEOUT_SECS);
    if same {
        report.note(false, format!("ok      workflow {WORKFLOW} ({sid})"));
    } else {
        client.update_workflow(&sid, &spec).await?;
        report.note(
            true,
            format!("updated workflow {WORKFLOW} ({sid}): routing and assignment callback"),
        );
    }
    Ok(sid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_skill_routes_to_its_queue_then_voicemail() {
        let config = workflow_configuration(&[("billing".into(), "WQ1".into())], "WQ9", 300);
        let callbacks = &config["task_routing"]["filters"][0];
        assert_eq!(
            callbacks["expression"],
            "type == \"callback\" AND skill == \"billing\""
        );
        assert_eq!(callbacks["targets"][0]["queue"], "WQ1");
        assert!(
            callbacks["targets"][0].get("timeout").is_none(),
            "a callback waits for a worker however long it takes"
        );
        let filter = &config["task_routing"]["filters"][1];
        assert_eq!(filter["expression"], "skill == \"billing\"");
        assert_eq!(filter["targets"][0]["queue"], "WQ1");
        assert_eq!(filter["targets"][0]["skip_if"], "workers.available == 0");
        assert_eq!(
            filter["targets"][0]["timeout"], 300,
            "customer.max_wait_secs"
        );
        assert_eq!(filter["targets"][1]["queue"], "WQ9");
        assert_eq!(config["task_routing"]["default_filter"]["queue"], "WQ9");
    }
}
