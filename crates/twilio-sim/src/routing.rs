//! TaskRouter's routing, as far as shiftline depends on it.
//!
//! A new task goes through the workflow's filters top-down; the first whose expression
//! matches its attributes (else `default_filter`) gives the targets it will try in order.
//! Entering a target puts the task in that target's queue (`task-queue.entered` when
//! the queue changes) and offers it to the eligible worker idle longest (ties: lowest
//! SID): available activity, no pending or accepted reservation (single-tasking),
//! matching the queue's `TargetWorkers` and the target's `expression`. An offer is a
//! pending reservation, a `reservation.created` event and the assignment callback.
//!
//! Transitions:
//! - accepted: reservation `accepted`, task `assigned`.
//! - rejected / timeout (at `tick`, after the workflow's `TaskReservationTimeout`; the
//!   worker moves to the workspace's `TimeoutActivitySid`): the task is `pending` again,
//!   moves on if its target timed out meanwhile, and is offered again.
//! - target `timeout`: counted on task age and cumulative over the targets, as TaskRouter
//!   does; at `tick` a pending task past it enters the next target. Past the last
//!   target's timeout the task is canceled (`workflow.timeout`). A target without a
//!   timeout keeps the task until it is taken or canceled (the voicemail queue).
//! - `skip_if` is evaluated once, on entry, and only when no reservation was made.
//! - task TTL (`Timeout`): at `tick` the task is canceled ("Task TTL Exceeded").
//!
//! - `ReEvaluateTasks` on a workflow update sends its pending tasks through their
//!   filter's steps again from the first, `skip_if` included.
//!
//! Simplified: one reservation per task at a time (`MaxReservedWorkers` is stored but
//! ignored), no multi-tasking, no task channels or capacity, no `order_by` or
//! `known_worker_sid`; tasks are offered in priority then creation
//! order; a task that matches no filter and has no default filter stays pending
//! unrouted. Routing runs after every change rather than on Twilio's own schedule, and
//! timers fire only when `tick` is called.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::expression::{Scope, matches};
use super::state::{
    Reservation, ReservationStatus, Route, State, Task, TaskQueue, TaskStatus, age, attributes,
};

#[derive(Debug, Deserialize)]
struct WorkflowConfiguration {
    task_routing: TaskRouting,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct TaskRouting {
    #[serde(default)]
    pub filters: Vec<Filter>,
    #[serde(default)]
    pub default_filter: Option<Target>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    pub filter_friendly_name: String,
    pub expression: String,
    pub targets: Vec<Target>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Target {
    pub queue: String,
    #[serde(default)]
    pub expression: Option<String>,
    #[serde(default)]
    pub timeout: Option<u64>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub skip_if: Option<String>,
}

/// Reads a workflow `Configuration`, refusing it (as Twilio does) when it is not the
/// documented shape or names a queue that does not exist.
pub(crate) fn parse_configuration(
    raw: &str,
    queues: &BTreeMap<String, TaskQueue>,
) -> Result<TaskRouting, ApiError> {
    let config: WorkflowConfiguration = serde_json::from_str(raw)
        .map_err(|e| ApiError::invalid(format!("Invalid Configuration: {e}")))?;
    let routing = config.task_routing;
    for filter in &routing.filters {
        if filter.targets.is_empty() {
            return Err(ApiError::invalid(format!(
                "Invalid Configuration: filter {:?} has no targets",
                filter.filter_friendly_name
            )));
        }
    }
    let targets = routing
        .filters
        .iter()
        .flat_map(|f| f.targets.iter())
        .chain(routing.default_filter.iter());
    for target in targets {
        if !queues.contains_key(&target.queue) {
            return Err(ApiError::invalid(format!(
                "Invalid Configuration: TaskQueue {} does not exist",
                target.queue
            )));
        }
    }
    Ok(routing)
}

/// When a task leaves target `index`, in seconds of task age: the target's own timeout
/// plus those of the targets before it. `None`: it never times out.
fn deadline(targets: &[Target], index: usize) -> Option<u64> {
    let own = targets.get(index)?.timeout?;
    Some(
        own + targets[..index]
            .iter()
            .filter_map(|t| t.timeout)
            .sum::<u64>(),
    )
}

impl State {
    /// Creates a task on `workflow_sid` and routes it.
    pub(crate) fn create_task(
        &mut self,
        workflow_sid: &str,
        attributes_json: String,
        priority: i64,
        timeout: u64,
    ) -> Result<String, ApiError> {
        let workflow = self
            .workflow(workflow_sid)
            .map_err(|_| ApiError::invalid(format!("Workflow {workflow_sid} does not exist")))?;
        let task_value = attributes(&attributes_json);
        let scope = Scope {
            roots: &[("task", &task_value)],
            bare: &task_value,
        };
        let filter = workflow
            .routing
            .filters
            .iter()
            .position(|f| matches(&f.expression, &scope));
        let routable = filter.is_some() || workflow.routing.default_filter.is_some();
        let now = self.now();
        let sid = self.next_sid("WT");
        self.tasks.insert(
            sid.clone(),
            Task {
                sid: sid.clone(),
                attributes: attributes_json,
                status: TaskStatus::Pending,
                priority,
                timeout,
                workflow_sid: workflow_sid.to_string(),
                route: None,
                reason: None,
                date_created: now,
                date_updated: now,
            },
        );
        self.task_event("task.created", &sid, format!("Task {sid} created"));
        if routable {
            self.enter_target(&sid, filter, 0);
        } else {
            tracing::warn!(task = %sid, "no workflow filter matches and there is no default filter");
        }
        self.route_pending();
        Ok(sid)
    }

    /// The targets of one filter of a workflow (`None`: the default filter).
    fn targets(&self, workflow_sid: &str, filter: Option<usize>) -> Vec<Target> {
        let Some(workflow) = self.workflows.get(workflow_sid) else {
            return Vec::new();
        };
        match filter {
            Some(i) => workflow
                .routing
                .filters
                .get(i)
                .map(|f| f.targets.clone())
                .unwrap_or_default(),
            None => workflow
                .routing
                .default_filter
                .clone()
                .into_iter()
                .collect(),
        }
    }

    /// Puts a task in target `index` of its filter, offers it, and follows `skip_if`.
    fn enter_target(&mut self, task_sid: &str, filter: Option<usize>, mut index: usize) {
        loop {
            let now = self.now();
            let Some(task) = self.tasks.get(task_sid) else {
                return;
            };
            let targets = self.targets(&task.workflow_sid, filter);
            let Some(target) = targets.get(index) else {
                return;
            };
            let moved = task
                .route
                .as_ref()
                .is_none_or(|r| r.queue_sid != target.queue);
            let Some(task) = self.tasks.get_mut(task_sid) else {
                return;
            };
            task.route = Some(Route {
                filter,
                target: index,
                queue_sid: target.queue.clone(),
                entered: now,
            });
            if let Some(priority) = target.priority {
                task.priority = priority;
            }
            if moved {
                let name = self
                    .queues
                    .get(&target.queue)
                    .map(|q| q.friendly_name.clone())
                    .unwrap_or_default();
                let description = format!("Task {task_sid} entered TaskQueue {name}");
                self.task_event("task-queue.entered", task_sid, description);
            }
            if self.try_reserve(task_sid) {
                return;
            }
            let skip = index + 1 < targets.len()
                && target
                    .skip_if
                    .as_deref()
                    .is_some_and(|e| self.skip_holds(e, task_sid, &target.queue));
            if !skip {
                return;
            }
            index += 1;
        }
    }

    /// Evaluates a `skip_if` expression, where `workers.available`, `workers.unavailable`
    /// and `workers.WA…` count the workers of the queue by activity.
    fn skip_holds(&self, expression: &str, task_sid: &str, queue_sid: &str) -> bool {
        let (Some(task), Some(queue)) = (self.tasks.get(task_sid), self.queues.get(queue_sid))
        else {
            return false;
        };
        let task_value = attributes(&task.attributes);
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for worker in self.workers.values() {
            if !self.in_queue(queue, &self.worker_value(worker), &task_value) {
                continue;
            }
            let state = if self.is_available(worker) {
                "available"
            } else {
                "unavailable"
            };
            *counts.entry(state.into()).or_default() += 1;
            *counts.entry(worker.activity_sid.clone()).or_default() += 1;
        }
        let mut workers: Map<String, Value> = ["available", "unavailable"]
            .iter()
            .map(|k| (k.to_string(), json!(0)))
            .collect();
        workers.extend(counts.into_iter().map(|(k, n)| (k, json!(n))));
        let workers = Value::Object(workers);
        matches(
            expression,
            &Scope {
                roots: &[("workers", &workers), ("task", &task_value)],
                bare: &task_value,
            },
        )
    }

    /// Whether a worker matches a queue's `TargetWorkers`. An empty expression matches
    /// nobody (tasks wait there), without the parse warning a malformed one logs.
    fn in_queue(&self, queue: &TaskQueue, worker_value: &Value, task_value: &Value) -> bool {
        !queue.target_workers.trim().is_empty()
            && matches(
                &queue.target_workers,
                &Scope {
                    roots: &[("worker", worker_value), ("task", task_value)],
                    bare: worker_value,
                },
            )
    }

    /// Offers a pending task to the eligible worker idle longest; whether one was found.
    fn try_reserve(&mut self, task_sid: &str) -> bool {
        let Some(task) = self.tasks.get(task_sid) else {
            return false;
        };
        let Some(route) = task.route.clone() else {
            return false;
        };
        if task.status != TaskStatus::Pending {
            return false;
        }
        let targets = self.targets(&task.workflow_sid, route.filter);
        let (Some(target), Some(queue)) =
            (targets.get(route.target), self.queues.get(&route.queue_sid))
        else {
            return false;
        };
        let task_value = attributes(&task.attributes);
        let chosen = self
            .workers
            .values()
            .filter(|w| self.is_available(w) && !self.is_busy(&w.sid))
            .filter(|w| {
                let worker_value = self.worker_value(w);
                let scope = Scope {
                    roots: &[("worker", &worker_value), ("task", &task_value)],
                    bare: &worker_value,
                };
                self.in_queue(queue, &worker_value, &task_value)
                    && target
                        .expression
                        .as_deref()
                        .is_none_or(|e| matches(e, &scope))
            })
            .min_by(|a, b| (a.idle_since, &a.sid).cmp(&(b.idle_since, &b.sid)))
            .map(|w| (w.sid.clone(), w.friendly_name.clone()));
        let Some((worker_sid, worker_name)) = chosen else {
            return false;
        };

        let now = self.now();
        let sid = self.next_sid("WR");
        self.reservations.insert(
            sid.clone(),
            Reservation {
                sid: sid.clone(),
                task_sid: task_sid.to_string(),
                worker_sid: worker_sid.clone(),
                status: ReservationStatus::Pending,
                date_created: now,
                date_updated: now,
            },
        );
        if let Some(task) = self.tasks.get_mut(task_sid) {
            task.status = TaskStatus::Reserved;
            task.date_updated = now;
        }
        if let Some(worker) = self.workers.get_mut(&worker_sid) {
            worker.idle_since = now;
        }
        let description = format!("Reservation {sid} created for Worker {worker_name}");
        self.reservation_event("reservation.created", &sid, description);
        self.send_assignment(&sid);
        true
    }

    /// `ReEvaluateTasks=true` on a workflow update: every pending task of the workflow
    /// goes through its filter's steps again from the first, so `skip_if` is evaluated
    /// anew (a step nobody can serve any more is skipped at once). Tasks keep their age,
    /// which step timeouts are measured on.
    pub(crate) fn re_evaluate(&mut self, workflow_sid: &str) {
        let pending: Vec<(String, Option<usize>)> = self
            .tasks
            .values()
            .filter(|t| t.status == TaskStatus::Pending && t.workflow_sid == workflow_sid)
            .filter_map(|t| t.route.as_ref().map(|r| (t.sid.clone(), r.filter)))
            .collect();
        for (sid, filter) in pending {
            self.enter_target(&sid, filter, 0);
        }
        self.route_pending();
    }

    /// Offers every pending task, highest priority first (`<Task priority>`, `Priority`,
    /// or the target's `priority`), then oldest first (SIDs count up).
    pub(crate) fn route_pending(&mut self) {
        let mut waiting: Vec<(i64, String)> = self
            .tasks
            .values()
            .filter(|t| t.status == TaskStatus::Pending && t.route.is_some())
            .map(|t| (-t.priority, t.sid.clone()))
            .collect();
        waiting.sort();
        for (_, sid) in waiting {
            self.try_reserve(&sid);
        }
    }

    /// A reservation ended without being accepted: the task is pending again and is
    /// re-evaluated (its target may have timed out meanwhile), then offered again.
    fn reoffer(&mut self, task_sid: &str) {
        let now = self.now();
        match self.tasks.get_mut(task_sid) {
            Some(task) if task.status == TaskStatus::Reserved => {
                task.status = TaskStatus::Pending;
                task.date_updated = now;
            }
            _ => return,
        }
        self.advance_expired(task_sid);
        self.try_reserve(task_sid);
    }

    /// Moves a pending task past every target whose timeout its age has reached.
    fn advance_expired(&mut self, task_sid: &str) {
        loop {
            let now = self.now();
            let Some(task) = self.tasks.get(task_sid) else {
                return;
            };
            let Some(route) = task.route.clone() else {
                return;
            };
            if task.status != TaskStatus::Pending {
                return;
            }
            let targets = self.targets(&task.workflow_sid, route.filter);
            let Some(deadline) = deadline(&targets, route.target) else {
                return;
            };
            if age(task.date_created, now) < deadline {
                return;
            }
            if route.target + 1 < targets.len() {
                self.enter_target(task_sid, route.filter, route.target + 1);
            } else {
                let description = format!("Task {task_sid} reached the end of its workflow");
                self.task_event("workflow.timeout", task_sid, description);
                self.cancel_task(task_sid, "Workflow Timeout");
                return;
            }
        }
    }

    /// Sets a worker's activity, with a `worker.activity.update` event when it changes.
    /// Does not route: callers do once their whole change is applied.
    pub(crate) fn set_worker_activity(&mut self, worker_sid: &str, activity_sid: &str) {
        let now = self.now();
        let available = self
            .activities
            .get(activity_sid)
            .is_some_and(|a| a.available);
        let activity_name = self.activity_name(activity_sid);
        let Some(worker) = self.workers.get_mut(worker_sid) else {
            return;
        };
        if worker.activity_sid == activity_sid {
            return;
        }
        let previous = (
            std::mem::replace(&mut worker.activity_sid, activity_sid.to_string()),
            worker.date_status_changed,
        );
        worker.date_status_changed = now;
        worker.date_updated = now;
        if available {
            worker.idle_since = now;
        }
        let description = format!(
            "Worker {} updated to {} Activity",
            worker.friendly_name, activity_name
        );
        self.worker_event(
            "worker.activity.update",
            worker_sid,
            Some(previous),
            description,
        );
    }

    /// Accepts or rejects a pending reservation (`ReservationStatus`), optionally moving
    /// the worker to `worker_activity` first so a rejected task is not offered straight
    /// back to them.
    pub(crate) fn update_reservation(
        &mut self,
        reservation_sid: &str,
        status: &str,
        worker_activity: Option<&str>,
    ) -> Result<(), ApiError> {
        let reservation = self.reservation(reservation_sid)?;
        if reservation.status != ReservationStatus::Pending {
            return Err(ApiError::invalid(format!(
                "Reservation {reservation_sid} is not pending (it is {})",
                reservation.status.as_str()
            )));
        }
        let (task_sid, worker_sid) = (reservation.task_sid.clone(), reservation.worker_sid.clone());
        if let Some(activity) = worker_activity {
            self.activity(activity).map_err(|_| {
                ApiError::invalid(format!("WorkerActivitySid {activity} is not an Activity"))
            })?;
        }
        let new_status = match status {
            "accepted" => ReservationStatus::Accepted,
            "rejected" => ReservationStatus::Rejected,
            other => {
                return Err(ApiError::invalid(format!(
                    "ReservationStatus {other:?} is not simulated (accepted or rejected)"
                )));
            }
        };
        let now = self.now();
        if let Some(r) = self.reservations.get_mut(reservation_sid) {
            r.status = new_status;
            r.date_updated = now;
        }
        let worker_name = self
            .workers
            .get(&worker_sid)
            .map(|w| w.friendly_name.clone())
            .unwrap_or_default();
        if new_status == ReservationStatus::Accepted {
            if let Some(task) = self.tasks.get_mut(&task_sid) {
                task.status = TaskStatus::Assigned;
                task.date_updated = now;
            }
            let description = format!("Reservation {reservation_sid} accepted by {worker_name}");
            self.reservation_event("reservation.accepted", reservation_sid, description);
        } else {
            let description = format!("Reservation {reservation_sid} rejected by {worker_name}");
            self.reservation_event("reservation.rejected", reservation_sid, description);
        }
        if let Some(activity) = worker_activity {
            self.set_worker_activity(&worker_sid, activity);
        }
        if new_status == ReservationStatus::Rejected {
            self.reoffer(&task_sid);
        }
        self.route_pending();
        Ok(())
    }

    /// `RejectPendingReservations=true` on a worker update.
    pub(crate) fn reject_pending_of(&mut self, worker_sid: &str) {
        let pending: Vec<String> = self
            .reservations
            .values()
            .filter(|r| r.worker_sid == worker_sid && r.status == ReservationStatus::Pending)
            .map(|r| r.sid.clone())
            .collect();
        for sid in pending {
            if let Err(error) = self.update_reservation(&sid, "rejected", None) {
                tracing::warn!(reservation = %sid, ?error, "could not reject");
            }
        }
    }

    /// Cancels a task: its pending reservations are canceled first.
    pub(crate) fn cancel_task(&mut self, task_sid: &str, reason: &str) {
        let now = self.now();
        let pending: Vec<String> = self
            .reservations
            .values()
            .filter(|r| r.task_sid == task_sid && r.status == ReservationStatus::Pending)
            .map(|r| r.sid.clone())
            .collect();
        for sid in pending {
            if let Some(r) = self.reservations.get_mut(&sid) {
                r.status = ReservationStatus::Canceled;
                r.date_updated = now;
            }
            let description = format!("Reservation {sid} canceled: {reason}");
            self.reservation_event("reservation.canceled", &sid, description);
        }
        if let Some(task) = self.tasks.get_mut(task_sid) {
            task.status = TaskStatus::Canceled;
            task.reason = Some(reason.to_string());
            task.date_updated = now;
        }
        let description = format!("Task {task_sid} canceled: {reason}");
        self.task_event("task.canceled", task_sid, description);
    }

    /// Completes an assigned task; its accepted reservation completes with it.
    pub(crate) fn complete_task(&mut self, task_sid: &str, reason: &str) {
        let now = self.now();
        let accepted: Vec<String> = self
            .reservations
            .values()
            .filter(|r| r.task_sid == task_sid && r.status == ReservationStatus::Accepted)
            .map(|r| r.sid.clone())
            .collect();
        for sid in accepted {
            if let Some(r) = self.reservations.get_mut(&sid) {
                r.status = ReservationStatus::Completed;
                r.date_updated = now;
            }
            let description = format!("Reservation {sid} completed");
            self.reservation_event("reservation.completed", &sid, description);
        }
        if let Some(task) = self.tasks.get_mut(task_sid) {
            task.status = TaskStatus::Completed;
            task.reason = Some(reason.to_string());
            task.date_updated = now;
        }
        let description = format!("Task {task_sid} completed: {reason}");
        self.task_event("task.completed", task_sid, description);
    }

    /// Fires the timers due at the clock's now, then offers what is pending.
    pub(crate) fn tick(&mut self) {
        let now = self.now();
        let timed_out: Vec<(String, String, String)> = self
            .reservations
            .values()
            .filter(|r| r.status == ReservationStatus::Pending)
            .filter(|r| {
                let limit = self
                    .tasks
                    .get(&r.task_sid)
                    .and_then(|t| self.workflows.get(&t.workflow_sid))
                    .map_or(120, |w| w.task_reservation_timeout);
                age(r.date_created, now) >= limit
            })
            .map(|r| (r.sid.clone(), r.task_sid.clone(), r.worker_sid.clone()))
            .collect();
        for (sid, task_sid, worker_sid) in timed_out {
            if let Some(r) = self.reservations.get_mut(&sid) {
                r.status = ReservationStatus::Timeout;
                r.date_updated = now;
            }
            let description = format!("Reservation {sid} timed out");
            self.reservation_event("reservation.timeout", &sid, description);
            if let Some(activity) = self.workspace.timeout_activity_sid.clone() {
                self.set_worker_activity(&worker_sid, &activity);
            }
            self.reoffer(&task_sid);
        }

        let expired: Vec<String> = self
            .tasks
            .values()
            .filter(|t| matches!(t.status, TaskStatus::Pending | TaskStatus::Reserved))
            .filter(|t| age(t.date_created, now) >= t.timeout)
            .map(|t| t.sid.clone())
            .collect();
        for sid in expired {
            self.cancel_task(&sid, "Task TTL Exceeded");
        }

        let waiting: Vec<String> = self
            .tasks
            .values()
            .filter(|t| t.status == TaskStatus::Pending)
            .map(|t| t.sid.clone())
            .collect();
        for sid in waiting {
            self.advance_expired(&sid);
        }
        self.route_pending();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(timeout: Option<u64>) -> Target {
        Target {
            queue: "WQ".into(),
            expression: None,
            timeout,
            priority: None,
            skip_if: None,
        }
    }

    #[test]
    fn target_timeouts_add_up_over_task_age() {
        let targets = [target(Some(60)), target(Some(30)), target(None)];
        assert_eq!(deadline(&targets, 0), Some(60));
        assert_eq!(deadline(&targets, 1), Some(90));
        assert_eq!(deadline(&targets, 2), None);
    }
}
