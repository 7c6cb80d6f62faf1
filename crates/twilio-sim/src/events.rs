//! What TaskRouter tells shiftline: the assignment callback (REFERENCE 4) and the
//! workspace event callbacks (REFERENCE 5), with Twilio's parameter names.
//!
//! `Timestamp` is in epoch seconds (plus `TimestampMs` on events), `TaskAge` in seconds.
//! `ResourceType` is `task` for task and task-queue events, `reservation` and `worker`
//! otherwise. Events are only built when the workspace has an `EventCallbackUrl` and
//! the type passes its `EventsFilter`.

use chrono::{DateTime, Utc};

use super::callbacks::Callback;
use super::state::{State, age};

type Params = Vec<(String, String)>;

fn push(params: &mut Params, name: &str, value: impl Into<String>) {
    params.push((name.to_string(), value.into()));
}

impl State {
    /// Queues the assignment callback for a new reservation, if the workflow has a URL.
    pub(crate) fn send_assignment(&mut self, reservation_sid: &str) {
        let now = self.now();
        let Some(reservation) = self.reservations.get(reservation_sid) else {
            return;
        };
        let Some(task) = self.tasks.get(&reservation.task_sid) else {
            return;
        };
        let Some(workflow) = self.workflows.get(&task.workflow_sid) else {
            return;
        };
        let Some(url) = workflow.assignment_callback_url.clone() else {
            return;
        };
        let worker_attributes = self
            .workers
            .get(&reservation.worker_sid)
            .map(|w| w.attributes.clone())
            .unwrap_or_default();
        let mut params = Params::new();
        push(&mut params, "AccountSid", &self.account_sid);
        push(&mut params, "WorkspaceSid", &self.workspace_sid);
        push(&mut params, "WorkflowSid", &task.workflow_sid);
        let queue = task.route.as_ref().map(|r| r.queue_sid.clone());
        push(&mut params, "TaskQueueSid", queue.unwrap_or_default());
        push(&mut params, "WorkerSid", &reservation.worker_sid);
        push(&mut params, "WorkerAttributes", worker_attributes);
        push(&mut params, "TaskSid", &task.sid);
        push(&mut params, "TaskAttributes", &task.attributes);
        push(
            &mut params,
            "TaskAge",
            age(task.date_created, now).to_string(),
        );
        push(&mut params, "TaskPriority", task.priority.to_string());
        push(&mut params, "ReservationSid", reservation_sid);
        push(&mut params, "Timestamp", now.timestamp().to_string());
        let callback = Callback {
            kind: "assignment".into(),
            url,
            fallback_url: workflow.fallback_assignment_callback_url.clone(),
            params,
            then: None,
        };
        self.outbox.push(callback);
    }

    /// A task event (`task.created`, `task-queue.entered`, `task.canceled`, ...).
    pub(crate) fn task_event(&mut self, event_type: &str, task_sid: &str, description: String) {
        if !self.wants(event_type) {
            return;
        }
        let mut params = self.event_params(event_type, "task", task_sid, description);
        self.task_fields(&mut params, task_sid);
        self.send_event(event_type, params);
    }

    /// A reservation event: the task and worker fields plus `ReservationSid`.
    pub(crate) fn reservation_event(
        &mut self,
        event_type: &str,
        reservation_sid: &str,
        description: String,
    ) {
        if !self.wants(event_type) {
            return;
        }
        let Some(reservation) = self.reservations.get(reservation_sid) else {
            return;
        };
        let (task_sid, worker_sid) = (reservation.task_sid.clone(), reservation.worker_sid.clone());
        let mut params = self.event_params(event_type, "reservation", reservation_sid, description);
        self.task_fields(&mut params, &task_sid);
        self.worker_fields(&mut params, &worker_sid);
        push(&mut params, "ReservationSid", reservation_sid);
        self.send_event(event_type, params);
    }

    /// A worker event; `previous` (activity SID and since when) for `worker.activity.update`.
    pub(crate) fn worker_event(
        &mut self,
        event_type: &str,
        worker_sid: &str,
        previous: Option<(String, DateTime<Utc>)>,
        description: String,
    ) {
        if !self.wants(event_type) {
            return;
        }
        let mut params = self.event_params(event_type, "worker", worker_sid, description);
        self.worker_fields(&mut params, worker_sid);
        if let Some((activity_sid, since)) = previous {
            let millis = (self.now() - since).num_milliseconds().max(0);
            let name = self.activity_name(&activity_sid);
            push(&mut params, "WorkerPreviousActivitySid", activity_sid);
            push(&mut params, "WorkerPreviousActivityName", name);
            push(
                &mut params,
                "WorkerTimeInPreviousActivity",
                (millis / 1000).to_string(),
            );
            push(
                &mut params,
                "WorkerTimeInPreviousActivityMs",
                millis.to_string(),
            );
        }
        self.send_event(event_type, params);
    }

    fn wants(&self, event_type: &str) -> bool {
        self.workspace.event_callback_url.is_some()
            && self
                .workspace
                .events_filter
                .as_deref()
                .is_none_or(|filter| {
                    filter
                        .split(',')
                        .map(str::trim)
                        .any(|wanted| wanted == event_type)
                })
    }

    fn event_params(
        &mut self,
        event_type: &str,
        resource_type: &str,
        resource_sid: &str,
        description: String,
    ) -> Params {
        let now = self.now();
        let sid = self.next_sid("EV");
        let mut params = Params::new();
        push(&mut params, "Sid", sid);
        push(&mut params, "EventType", event_type);
        push(&mut params, "AccountSid", &self.account_sid);
        push(&mut params, "WorkspaceSid", &self.workspace_sid);
        push(&mut params, "WorkspaceName", &self.workspace.friendly_name);
        push(&mut params, "ResourceType", resource_type);
        push(&mut params, "ResourceSid", resource_sid);
        push(&mut params, "Timestamp", now.timestamp().to_string());
        push(
            &mut params,
            "TimestampMs",
            now.timestamp_millis().to_string(),
        );
        push(&mut params, "EventDescription", description);
        params
    }

    fn task_fields(&self, params: &mut Params, task_sid: &str) {
        let Some(task) = self.tasks.get(task_sid) else {
            return;
        };
        push(params, "TaskSid", &task.sid);
        push(params, "TaskAttributes", &task.attributes);
        push(
            params,
            "TaskAge",
            age(task.date_created, self.now()).to_string(),
        );
        push(params, "TaskPriority", task.priority.to_string());
        push(params, "TaskAssignmentStatus", task.status.as_str());
        if let Some(route) = &task.route {
            push(params, "TaskQueueSid", &route.queue_sid);
            let name = self.queues.get(&route.queue_sid);
            push(
                params,
                "TaskQueueName",
                name.map(|q| q.friendly_name.clone()).unwrap_or_default(),
            );
        }
        push(params, "WorkflowSid", &task.workflow_sid);
        if let Some(workflow) = self.workflows.get(&task.workflow_sid) {
            push(params, "WorkflowName", &workflow.friendly_name);
        }
        match (task.status.as_str(), &task.reason) {
            ("canceled", Some(reason)) => push(params, "TaskCanceledReason", reason),
            ("completed", Some(reason)) => push(params, "TaskCompletedReason", reason),
            _ => {}
        }
    }

    fn worker_fields(&self, params: &mut Params, worker_sid: &str) {
        let Some(worker) = self.workers.get(worker_sid) else {
            return;
        };
        push(params, "WorkerSid", &worker.sid);
        push(params, "WorkerName", &worker.friendly_name);
        push(params, "WorkerAttributes", &worker.attributes);
        push(params, "WorkerActivitySid", &worker.activity_sid);
        push(
            params,
            "WorkerActivityName",
            self.activity_name(&worker.activity_sid),
        );
    }

    fn send_event(&mut self, event_type: &str, params: Params) {
        let Some(url) = self.workspace.event_callback_url.clone() else {
            return;
        };
        self.outbox.push(Callback {
            kind: event_type.to_string(),
            url,
            fallback_url: None,
            params,
            then: None,
        });
    }
}
