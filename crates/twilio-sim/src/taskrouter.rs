//! TaskRouter REST v1 under `/v1/Workspaces/{WS}`: parameter checks and resource
//! updates. What a change sets in motion (offers, events) is in `routing`.
//!
//! Lists take their filters and paginate; unknown parameters are ignored; a parameter
//! naming a missing Activity, Workflow or TaskQueue is a 400 (code 20001), an unknown SID
//! in the path a 404 (code 20404). Creates answer 201, updates 200.

use serde_json::Value;

use super::error::ApiError;
use super::expression::{Scope, matches};
use super::routes::{Answer, Params};
use super::routing::parse_configuration;
use super::state::{Activity, State, TaskQueue, TaskStatus, Worker, Workflow};

pub(crate) fn handle(state: &mut State, method: &str, rest: &[&str], params: &Params) -> Answer {
    match (method, rest) {
        ("GET", []) => Ok((200, state.workspace_json())),
        ("POST", []) => update_workspace(state, params),
        ("GET", ["Activities"]) => list_activities(state, params),
        ("POST", ["Activities"]) => create_activity(state, params),
        ("GET", ["Activities", sid]) => Ok((200, state.activity_json(state.activity(sid)?))),
        ("GET", ["Workers"]) => list_workers(state, params),
        ("POST", ["Workers"]) => create_worker(state, params),
        ("GET", ["Workers", sid]) => Ok((200, state.worker_json(state.worker(sid)?))),
        ("POST", ["Workers", sid]) => update_worker(state, sid, params),
        ("GET", ["Workers", worker, "Reservations"]) => {
            state.worker(worker)?;
            list_reservations(state, params, Under::Worker(worker))
        }
        ("GET", ["Workers", worker, "Reservations", sid]) => {
            get_reservation(state, Under::Worker(worker), sid)
        }
        ("POST", ["Workers", worker, "Reservations", sid]) => {
            update_reservation(state, Under::Worker(worker), sid, params)
        }
        ("GET", ["TaskQueues"]) => list_queues(state, params),
        ("POST", ["TaskQueues"]) => create_queue(state, params),
        ("GET", ["TaskQueues", sid]) => Ok((200, state.queue_json(state.queue(sid)?))),
        ("POST", ["TaskQueues", sid]) => update_queue(state, sid, params),
        ("GET", ["Workflows"]) => list_workflows(state, params),
        ("POST", ["Workflows"]) => create_workflow(state, params),
        ("GET", ["Workflows", sid]) => Ok((200, state.workflow_json(state.workflow(sid)?))),
        ("POST", ["Workflows", sid]) => update_workflow(state, sid, params),
        ("GET", ["Tasks"]) => list_tasks(state, params),
        ("POST", ["Tasks"]) => create_task(state, params),
        ("GET", ["Tasks", sid]) => Ok((200, state.task_json(state.task(sid)?))),
        ("POST", ["Tasks", sid]) => update_task(state, sid, params),
        ("GET", ["Tasks", task, "Reservations"]) => {
            state.task(task)?;
            list_reservations(state, params, Under::Task(task))
        }
        ("GET", ["Tasks", task, "Reservations", sid]) => {
            get_reservation(state, Under::Task(task), sid)
        }
        ("POST", ["Tasks", task, "Reservations", sid]) => {
            update_reservation(state, Under::Task(task), sid, params)
        }
        _ => Err(ApiError::new(
            404,
            20404,
            format!("The requested resource /{} was not found", rest.join("/")),
        )),
    }
}

fn path(state: &State, tail: &str) -> String {
    format!("/v1/Workspaces/{}/{tail}", state.workspace_sid)
}

/// An Activity SID given as a parameter must exist.
fn activity_param<'a>(
    state: &State,
    params: &'a Params,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match params.get(name).filter(|v| !v.is_empty()) {
        Some(sid) if state.activities.contains_key(sid) => Ok(Some(sid)),
        Some(sid) => Err(ApiError::invalid(format!(
            "{name} {sid} is not an Activity"
        ))),
        None => Ok(None),
    }
}

/// An empty value clears an optional URL or filter.
fn optional(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_string())
}

fn update_workspace(state: &mut State, params: &Params) -> Answer {
    let default_activity = activity_param(state, params, "DefaultActivitySid")?.map(str::to_string);
    let timeout_activity = activity_param(state, params, "TimeoutActivitySid")?.map(str::to_string);
    let now = state.now();
    let ws = &mut state.workspace;
    if let Some(name) = params.get("FriendlyName") {
        ws.friendly_name = name.to_string();
    }
    if let Some(url) = params.get("EventCallbackUrl") {
        ws.event_callback_url = optional(url);
    }
    if let Some(filter) = params.get("EventsFilter") {
        ws.events_filter = optional(filter);
    }
    if default_activity.is_some() {
        ws.default_activity_sid = default_activity;
    }
    if timeout_activity.is_some() {
        ws.timeout_activity_sid = timeout_activity;
    }
    ws.date_updated = now;
    Ok((200, state.workspace_json()))
}

fn list_activities(state: &State, params: &Params) -> Answer {
    let available = params.bool("Available")?;
    let items: Vec<Value> = state
        .activities
        .values()
        .filter(|a| {
            params
                .get("FriendlyName")
                .is_none_or(|n| a.friendly_name == n)
        })
        .filter(|a| available.is_none_or(|v| a.available == v))
        .map(|a| state.activity_json(a))
        .collect();
    Ok((
        200,
        state.page(&path(state, "Activities"), "activities", items, params)?,
    ))
}

fn create_activity(state: &mut State, params: &Params) -> Answer {
    let name = params.required("FriendlyName")?.to_string();
    if state.activities.values().any(|a| a.friendly_name == name) {
        return Err(ApiError::invalid(format!(
            "An Activity named {name:?} already exists"
        )));
    }
    let available = params.bool("Available")?.unwrap_or(false);
    let sid = state.next_sid("WA");
    let activity = Activity {
        sid: sid.clone(),
        friendly_name: name,
        available,
        date_created: state.now(),
    };
    let body = state.activity_json(&activity);
    state.activities.insert(sid, activity);
    Ok((201, body))
}

fn list_workers(state: &State, params: &Params) -> Answer {
    let available = params.bool("Available")?;
    let expression = params
        .get("TargetWorkersExpression")
        .filter(|e| !e.is_empty());
    let items: Vec<Value> = state
        .workers
        .values()
        .filter(|w| {
            params
                .get("FriendlyName")
                .is_none_or(|n| w.friendly_name == n)
        })
        .filter(|w| {
            params
                .get("ActivitySid")
                .is_none_or(|s| w.activity_sid == s)
        })
        .filter(|w| {
            params
                .get("ActivityName")
                .is_none_or(|n| state.activity_name(&w.activity_sid) == n)
        })
        .filter(|w| available.is_none_or(|v| state.is_available(w) == v))
        .filter(|w| {
            expression.is_none_or(|e| {
                let value = state.worker_value(w);
                matches(
                    e,
                    &Scope {
                        roots: &[("worker", &value)],
                        bare: &value,
                    },
                )
            })
        })
        .map(|w| state.worker_json(w))
        .collect();
    Ok((
        200,
        state.page(&path(state, "Workers"), "workers", items, params)?,
    ))
}

fn create_worker(state: &mut State, params: &Params) -> Answer {
    let name = params.required("FriendlyName")?.to_string();
    if state.workers.values().any(|w| w.friendly_name == name) {
        return Err(ApiError::invalid(format!(
            "A Worker named {name} already exists"
        )));
    }
    let attributes = params
        .json_object("Attributes")?
        .unwrap_or_else(|| "{}".into());
    let activity = match activity_param(state, params, "ActivitySid")? {
        Some(sid) => sid.to_string(),
        None => state
            .workspace
            .default_activity_sid
            .clone()
            .ok_or_else(|| {
                ApiError::invalid(
                    "ActivitySid is required: the workspace has no DefaultActivitySid",
                )
            })?,
    };
    let now = state.now();
    let sid = state.next_sid("WK");
    let worker = Worker {
        sid: sid.clone(),
        friendly_name: name.clone(),
        activity_sid: activity,
        attributes,
        date_created: now,
        date_updated: now,
        date_status_changed: now,
        idle_since: now,
    };
    state.workers.insert(sid.clone(), worker);
    state.worker_event(
        "worker.created",
        &sid,
        None,
        format!("Worker {name} created"),
    );
    state.route_pending();
    Ok((201, state.worker_json(state.worker(&sid)?)))
}

fn update_worker(state: &mut State, sid: &str, params: &Params) -> Answer {
    state.worker(sid)?;
    let activity = activity_param(state, params, "ActivitySid")?;
    let attributes = params.json_object("Attributes")?;
    let reject_pending = params.bool("RejectPendingReservations")?.unwrap_or(false);
    let name = params.get("FriendlyName").filter(|n| !n.is_empty());
    if let Some(name) = name.filter(|n| {
        state
            .workers
            .values()
            .any(|w| w.friendly_name == *n && w.sid != sid)
    }) {
        return Err(ApiError::invalid(format!(
            "A Worker named {name} already exists"
        )));
    }

    let now = state.now();
    if let Some(worker) = state.workers.get_mut(sid) {
        if let Some(name) = name {
            worker.friendly_name = name.to_string();
        }
        worker.date_updated = now;
    }
    if let Some(attributes) = attributes {
        let changed = state
            .workers
            .get_mut(sid)
            .map(|w| std::mem::replace(&mut w.attributes, attributes.clone()) != attributes)
            .unwrap_or(false);
        if changed {
            let description = format!("Worker {sid} attributes updated");
            state.worker_event("worker.attributes.update", sid, None, description);
        }
    }
    if let Some(activity) = activity {
        state.set_worker_activity(sid, activity);
    }
    if reject_pending {
        state.reject_pending_of(sid);
    }
    state.route_pending();
    Ok((200, state.worker_json(state.worker(sid)?)))
}

fn list_queues(state: &State, params: &Params) -> Answer {
    let items: Vec<Value> = state
        .queues
        .values()
        .filter(|q| {
            params
                .get("FriendlyName")
                .is_none_or(|n| q.friendly_name == n)
        })
        .map(|q| state.queue_json(q))
        .collect();
    Ok((
        200,
        state.page(&path(state, "TaskQueues"), "task_queues", items, params)?,
    ))
}

fn task_order(params: &Params) -> Result<Option<String>, ApiError> {
    match params.get("TaskOrder") {
        None => Ok(None),
        Some(order @ ("FIFO" | "LIFO")) => Ok(Some(order.to_string())),
        Some(other) => Err(ApiError::invalid(format!(
            "TaskOrder {other:?} is not FIFO or LIFO"
        ))),
    }
}

fn create_queue(state: &mut State, params: &Params) -> Answer {
    let name = params.required("FriendlyName")?.to_string();
    let max_reserved = params.number("MaxReservedWorkers", 1..=50)?.unwrap_or(1);
    let order = task_order(params)?.unwrap_or_else(|| "FIFO".into());
    let now = state.now();
    let sid = state.next_sid("WQ");
    let queue = TaskQueue {
        sid: sid.clone(),
        friendly_name: name,
        target_workers: params.get("TargetWorkers").unwrap_or("1==1").to_string(),
        max_reserved_workers: max_reserved,
        task_order: order,
        date_created: now,
        date_updated: now,
    };
    let body = state.queue_json(&queue);
    state.queues.insert(sid, queue);
    Ok((201, body))
}

fn update_queue(state: &mut State, sid: &str, params: &Params) -> Answer {
    state.queue(sid)?;
    let max_reserved = params.number("MaxReservedWorkers", 1..=50)?;
    let order = task_order(params)?;
    let now = state.now();
    if let Some(queue) = state.queues.get_mut(sid) {
        if let Some(name) = params.get("FriendlyName").filter(|n| !n.is_empty()) {
            queue.friendly_name = name.to_string();
        }
        if let Some(target) = params.get("TargetWorkers") {
            queue.target_workers = target.to_string();
        }
        if let Some(n) = max_reserved {
            queue.max_reserved_workers = n;
        }
        if let Some(order) = order {
            queue.task_order = order;
        }
        queue.date_updated = now;
    }
    state.route_pending();
    Ok((200, state.queue_json(state.queue(sid)?)))
}

fn list_workflows(state: &State, params: &Params) -> Answer {
    let items: Vec<Value> = state
        .workflows
        .values()
        .filter(|w| {
            params
                .get("FriendlyName")
                .is_none_or(|n| w.friendly_name == n)
        })
        .map(|w| state.workflow_json(w))
        .collect();
    Ok((
        200,
        state.page(&path(state, "Workflows"), "workflows", items, params)?,
    ))
}

fn create_workflow(state: &mut State, params: &Params) -> Answer {
    let name = params.required("FriendlyName")?.to_string();
    let configuration = params.required("Configuration")?.to_string();
    let routing = parse_configuration(&configuration, &state.queues)?;
    let timeout = params
        .number("TaskReservationTimeout", 1..=86400)?
        .unwrap_or(120);
    let now = state.now();
    let sid = state.next_sid("WW");
    let workflow = Workflow {
        sid: sid.clone(),
        friendly_name: name,
        configuration,
        routing,
        assignment_callback_url: params.get("AssignmentCallbackUrl").and_then(optional),
        fallback_assignment_callback_url: params
            .get("FallbackAssignmentCallbackUrl")
            .and_then(optional),
        task_reservation_timeout: timeout,
        date_created: now,
        date_updated: now,
    };
    let body = state.workflow_json(&workflow);
    state.workflows.insert(sid, workflow);
    Ok((201, body))
}

fn update_workflow(state: &mut State, sid: &str, params: &Params) -> Answer {
    state.workflow(sid)?;
    let configuration = match params.get("Configuration") {
        Some(raw) => Some((raw.to_string(), parse_configuration(raw, &state.queues)?)),
        None => None,
    };
    let timeout = params.number("TaskReservationTimeout", 1..=86400)?;
    let re_evaluate = params.bool("ReEvaluateTasks")?.unwrap_or(false);
    let now = state.now();
    if let Some(workflow) = state.workflows.get_mut(sid) {
        if let Some(name) = params.get("FriendlyName").filter(|n| !n.is_empty()) {
            workflow.friendly_name = name.to_string();
        }
        if let Some((raw, routing)) = configuration {
            workflow.configuration = raw;
            workflow.routing = routing;
        }
        if let Some(url) = params.get("AssignmentCallbackUrl") {
            workflow.assignment_callback_url = optional(url);
        }
        if let Some(url) = params.get("FallbackAssignmentCallbackUrl") {
            workflow.fallback_assignment_callback_url = optional(url);
        }
        if let Some(timeout) = timeout {
            workflow.task_reservation_timeout = timeout;
        }
        workflow.date_updated = now;
    }
    if re_evaluate {
        state.re_evaluate(sid);
    }
    Ok((200, state.workflow_json(state.workflow(sid)?)))
}

fn list_tasks(state: &State, params: &Params) -> Answer {
    let statuses: Option<Vec<&str>> = params
        .get("AssignmentStatus")
        .map(|s| s.split(',').map(str::trim).collect());
    let items: Vec<Value> = state
        .tasks
        .values()
        .filter(|t| {
            statuses
                .as_ref()
                .is_none_or(|s| s.contains(&t.status.as_str()))
        })
        .filter(|t| {
            params
                .get("WorkflowSid")
                .is_none_or(|s| t.workflow_sid == s)
        })
        .filter(|t| {
            let queue = t
                .route
                .as_ref()
                .and_then(|r| state.queues.get(&r.queue_sid));
            params
                .get("TaskQueueSid")
                .is_none_or(|s| queue.is_some_and(|q| q.sid == s))
                && params
                    .get("TaskQueueName")
                    .is_none_or(|n| queue.is_some_and(|q| q.friendly_name == n))
        })
        .map(|t| state.task_json(t))
        .collect();
    Ok((
        200,
        state.page(&path(state, "Tasks"), "tasks", items, params)?,
    ))
}

fn create_task(state: &mut State, params: &Params) -> Answer {
    // Twilio lets WorkflowSid be left out when the workspace has exactly one workflow.
    let workflow = match params.get("WorkflowSid").filter(|s| !s.is_empty()) {
        Some(sid) => sid.to_string(),
        None if state.workflows.len() == 1 => {
            state.workflows.keys().next().cloned().unwrap_or_default()
        }
        None => return Err(ApiError::missing("WorkflowSid")),
    };
    let attributes = params
        .json_object("Attributes")?
        .unwrap_or_else(|| "{}".into());
    let priority = params
        .number("Priority", 0..=i64::from(i32::MAX))?
        .unwrap_or(0);
    let timeout = params.number("Timeout", 1..=1_209_600)?.unwrap_or(86_400);
    let sid = state.create_task(&workflow, attributes, priority, timeout)?;
    Ok((201, state.task_json(state.task(&sid)?)))
}

fn update_task(state: &mut State, sid: &str, params: &Params) -> Answer {
    let status = state.task(sid)?.status;
    let attributes = params.json_object("Attributes")?;
    let priority = params.number("Priority", 0..=i64::from(i32::MAX))?;
    let new_status = params.get("AssignmentStatus");
    let reason = params.get("Reason").filter(|r| !r.is_empty());
    match (new_status, status) {
        (None, _) => {}
        (Some("canceled"), TaskStatus::Pending | TaskStatus::Reserved)
        | (Some("completed"), TaskStatus::Assigned) => {
            if reason.is_none() {
                return Err(ApiError::invalid(
                    "Reason is required when a Task is canceled or completed",
                ));
            }
        }
        (Some(wanted @ ("canceled" | "completed")), current) => {
            return Err(ApiError::invalid(format!(
                "Task {sid} cannot become {wanted}: it is {}",
                current.as_str()
            )));
        }
        (Some(other), _) => {
            return Err(ApiError::invalid(format!(
                "AssignmentStatus {other:?} is not simulated (canceled or completed)"
            )));
        }
    }

    let now = state.now();
    if let Some(task) = state.tasks.get_mut(sid) {
        if let Some(p) = priority {
            task.priority = p;
        }
        task.date_updated = now;
    }
    if let Some(attributes) = attributes {
        if let Some(task) = state.tasks.get_mut(sid) {
            task.attributes = attributes;
        }
        state.task_event("task.updated", sid, format!("Task {sid} updated"));
    }
    match (new_status, reason) {
        (Some("canceled"), Some(reason)) => state.cancel_task(sid, reason),
        (Some("completed"), Some(reason)) => state.complete_task(sid, reason),
        _ => {}
    }
    state.route_pending();
    Ok((200, state.task_json(state.task(sid)?)))
}

/// Which list a reservation was asked for under.
#[derive(Clone, Copy)]
enum Under<'a> {
    Task(&'a str),
    Worker(&'a str),
}

impl Under<'_> {
    fn holds(self, task_sid: &str, worker_sid: &str) -> bool {
        match self {
            Under::Task(sid) => sid == task_sid,
            Under::Worker(sid) => sid == worker_sid,
        }
    }
}

fn list_reservations(state: &State, params: &Params, under: Under) -> Answer {
    let items: Vec<Value> = state
        .reservations
        .values()
        .filter(|r| under.holds(&r.task_sid, &r.worker_sid))
        .filter(|r| {
            params
                .get("ReservationStatus")
                .is_none_or(|s| r.status.as_str() == s)
        })
        .map(|r| state.reservation_json(r, matches!(under, Under::Worker(_))))
        .collect();
    let tail = match under {
        Under::Task(sid) => format!("Tasks/{sid}/Reservations"),
        Under::Worker(sid) => format!("Workers/{sid}/Reservations"),
    };
    Ok((
        200,
        state.page(&path(state, &tail), "reservations", items, params)?,
    ))
}

fn get_reservation(state: &State, under: Under, sid: &str) -> Answer {
    let reservation = state.reservation(sid)?;
    if !under.holds(&reservation.task_sid, &reservation.worker_sid) {
        return Err(ApiError::not_found("Reservation", sid));
    }
    Ok((
        200,
        state.reservation_json(reservation, matches!(under, Under::Worker(_))),
    ))
}

fn update_reservation(state: &mut State, under: Under, sid: &str, params: &Params) -> Answer {
    get_reservation(state, under, sid)?;
    let status = match (params.get("ReservationStatus"), params.get("Instruction")) {
        (Some(status), _) => status,
        (None, Some(instruction)) => {
            return Err(ApiError::invalid(format!(
                "Instruction {instruction:?} is not simulated: use ReservationStatus"
            )));
        }
        (None, None) => return Err(ApiError::missing("ReservationStatus")),
    };
    let activity = activity_param(state, params, "WorkerActivitySid")?;
    state.update_reservation(sid, status, activity)?;
    get_reservation(state, under, sid)
}
