//! TaskRouter v1 operations on the client's workspace (REFERENCE 3).
//!
//! Each operation is a path under `/v1/Workspaces/{ws}` plus a parameter list; parameter
//! names are the spec's. Request structs leave a field `None` (or a list empty) to leave
//! the parameter out, which for an update means "keep what Twilio has".

use super::client::{Api, TwilioClient};
use super::error::TwilioError;
use super::form::Params;
use super::resources::{Activity, Reservation, Task, TaskQueue, Worker, Workflow, Workspace};

/// Changes to the workspace. `events_filter` is a comma list such as
/// `task.created,task.canceled`; leaving it out means "all events".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceUpdate {
    pub friendly_name: Option<String>,
    pub event_callback_url: Option<String>,
    pub events_filter: Option<String>,
    pub default_activity_sid: Option<String>,
    pub timeout_activity_sid: Option<String>,
}

/// Filters for listing Workers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerFilter {
    pub friendly_name: Option<String>,
    /// An expression over attributes, e.g. `skills HAS "en"`.
    pub target_workers_expression: Option<String>,
    pub page_size: Option<u32>,
}

/// Changes to a Worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerUpdate {
    pub activity_sid: Option<String>,
    /// JSON text; replaces all of the Worker's attributes.
    pub attributes: Option<String>,
    pub friendly_name: Option<String>,
    /// Only valid when the new activity is unavailable.
    pub reject_pending_reservations: Option<bool>,
}

/// A TaskQueue's settings, for create and update alike: `None` leaves a setting out
/// (Twilio's default on create, unchanged on update). Create requires `friendly_name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQueueSpec {
    pub friendly_name: Option<String>,
    /// Worker selection; Twilio defaults to `1==1`.
    pub target_workers: Option<String>,
    /// 1 to 50.
    pub max_reserved_workers: Option<u32>,
    /// `FIFO` or `LIFO`.
    pub task_order: Option<String>,
    pub reservation_activity_sid: Option<String>,
    pub assignment_activity_sid: Option<String>,
}

/// A Workflow's settings, for create and update alike: `None` leaves a setting out
/// (Twilio's default on create, unchanged on update). Create requires `friendly_name` and
/// `configuration`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkflowSpec {
    pub friendly_name: Option<String>,
    /// The routing configuration as JSON text.
    pub configuration: Option<String>,
    pub assignment_callback_url: Option<String>,
    pub fallback_assignment_callback_url: Option<String>,
    /// Seconds to wait for a reservation answer (Twilio's default is 120).
    pub task_reservation_timeout: Option<u32>,
}

/// Changes to a Task. Twilio requires `reason` when canceling or completing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskUpdate {
    /// `pending reserved assigned canceled completed wrapping`.
    pub assignment_status: Option<String>,
    pub reason: Option<String>,
}

/// A Reservation is reachable under its Task and under its Worker; both paths act on the
/// same reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReservationPath {
    Task {
        task_sid: String,
        reservation_sid: String,
    },
    Worker {
        worker_sid: String,
        reservation_sid: String,
    },
}

impl ReservationPath {
    fn segments(&self) -> [&str; 4] {
        match self {
            Self::Task {
                task_sid,
                reservation_sid,
            } => ["Tasks", task_sid, "Reservations", reservation_sid],
            Self::Worker {
                worker_sid,
                reservation_sid,
            } => ["Workers", worker_sid, "Reservations", reservation_sid],
        }
    }
}

/// Changes to a Reservation: accept or reject it, or answer with an instruction.
///
/// Reject with `worker_activity_sid` set to an unavailable activity, or TaskRouter may
/// offer the Worker the next task at once. For `instruction = "dequeue"` the `dequeue_*`
/// fields say how to bridge the waiting call to the Worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReservationUpdate {
    /// `accepted`, `rejected`, ...
    pub reservation_status: Option<String>,
    pub worker_activity_sid: Option<String>,
    /// `dequeue`, `call`, `redirect` or `conference`.
    pub instruction: Option<String>,
    pub dequeue_from: Option<String>,
    pub dequeue_post_work_activity_sid: Option<String>,
    pub dequeue_timeout: Option<u32>,
    pub dequeue_status_callback_url: Option<String>,
    /// Sent as one `DequeueStatusCallbackEvent` per value.
    pub dequeue_status_callback_event: Vec<String>,
}

impl TwilioClient {
    /// `GET /v1/Workspaces/{ws}`.
    pub async fn fetch_workspace(&self) -> Result<Workspace, TwilioError> {
        self.get(self.workspace_url(&[])?).await
    }

    /// `POST /v1/Workspaces/{ws}`.
    pub async fn update_workspace(&self, u: &WorkspaceUpdate) -> Result<Workspace, TwilioError> {
        let params = Params::new()
            .opt("FriendlyName", u.friendly_name.as_deref())
            .opt("EventCallbackUrl", u.event_callback_url.as_deref())
            .opt("EventsFilter", u.events_filter.as_deref())
            .opt("DefaultActivitySid", u.default_activity_sid.as_deref())
            .opt("TimeoutActivitySid", u.timeout_activity_sid.as_deref());
        self.post(self.workspace_url(&[])?, &params).await
    }

    /// `GET /Activities`, all pages.
    pub async fn list_activities(
        &self,
        friendly_name: Option<&str>,
        page_size: Option<u32>,
    ) -> Result<Vec<Activity>, TwilioError> {
        let query = Params::new()
            .opt("FriendlyName", friendly_name)
            .opt("PageSize", page_size);
        let url = self.workspace_url(&["Activities"])?;
        self.list(Api::TaskRouter, url, &query, "activities").await
    }

    /// `POST /Activities`.
    pub async fn create_activity(
        &self,
        friendly_name: &str,
        available: bool,
    ) -> Result<Activity, TwilioError> {
        let params = Params::new()
            .set("FriendlyName", friendly_name)
            .set("Available", available);
        self.post(self.workspace_url(&["Activities"])?, &params)
            .await
    }

    /// `GET /Workers`, all pages.
    pub async fn list_workers(&self, f: &WorkerFilter) -> Result<Vec<Worker>, TwilioError> {
        let query = Params::new()
            .opt("FriendlyName", f.friendly_name.as_deref())
            .opt(
                "TargetWorkersExpression",
                f.target_workers_expression.as_deref(),
            )
            .opt("PageSize", f.page_size);
        let url = self.workspace_url(&["Workers"])?;
        self.list(Api::TaskRouter, url, &query, "workers").await
    }

    /// `POST /Workers`. Without `activity_sid` the Worker starts in the workspace's
    /// default activity.
    pub async fn create_worker(
        &self,
        friendly_name: &str,
        attributes_json: Option<&str>,
        activity_sid: Option<&str>,
    ) -> Result<Worker, TwilioError> {
        let params = Params::new()
            .set("FriendlyName", friendly_name)
            .opt("ActivitySid", activity_sid)
            .opt("Attributes", attributes_json);
        self.post(self.workspace_url(&["Workers"])?, &params).await
    }

    /// `POST /Workers/{sid}`.
    pub async fn update_worker(
        &self,
        worker_sid: &str,
        u: &WorkerUpdate,
    ) -> Result<Worker, TwilioError> {
        let params = Params::new()
            .opt("ActivitySid", u.activity_sid.as_deref())
            .opt("Attributes", u.attributes.as_deref())
            .opt("FriendlyName", u.friendly_name.as_deref())
            .opt("RejectPendingReservations", u.reject_pending_reservations);
        self.post(self.workspace_url(&["Workers", worker_sid])?, &params)
            .await
    }

    /// `GET /TaskQueues`, all pages.
    pub async fn list_task_queues(
        &self,
        friendly_name: Option<&str>,
    ) -> Result<Vec<TaskQueue>, TwilioError> {
        let query = Params::new().opt("FriendlyName", friendly_name);
        let url = self.workspace_url(&["TaskQueues"])?;
        self.list(Api::TaskRouter, url, &query, "task_queues").await
    }

    /// `POST /TaskQueues`.
    pub async fn create_task_queue(&self, s: &TaskQueueSpec) -> Result<TaskQueue, TwilioError> {
        self.post(self.workspace_url(&["TaskQueues"])?, &task_queue_params(s))
            .await
    }

    /// `POST /TaskQueues/{sid}`.
    pub async fn update_task_queue(
        &self,
        sid: &str,
        s: &TaskQueueSpec,
    ) -> Result<TaskQueue, TwilioError> {
        self.post(
            self.workspace_url(&["TaskQueues", sid])?,
            &task_queue_params(s),
        )
        .await
    }

    /// `GET /Workflows`, all pages.
    pub async fn list_workflows(
        &self,
        friendly_name: Option<&str>,
    ) -> Result<Vec<Workflow>, TwilioError> {
        let query = Params::new().opt("FriendlyName", friendly_name);
        let url = self.workspace_url(&["Workflows"])?;
        self.list(Api::TaskRouter, url, &query, "workflows").await
    }

    /// `POST /Workflows`.
    pub async fn create_workflow(&self, s: &WorkflowSpec) -> Result<Workflow, TwilioError> {
        self.post(self.workspace_url(&["Workflows"])?, &workflow_params(s))
            .await
    }

    /// `POST /Workflows/{sid}`.
    pub async fn update_workflow(
        &self,
        sid: &str,
        s: &WorkflowSpec,
    ) -> Result<Workflow, TwilioError> {
        self.post(
            self.workspace_url(&["Workflows", sid])?,
            &workflow_params(s),
        )
        .await
    }

    /// `POST /Workflows/{sid}` with `ReEvaluateTasks=true`: TaskRouter routes the
    /// workflow's pending tasks again from their first step, `skip_if` included.
    pub async fn re_evaluate_tasks(&self, sid: &str) -> Result<Workflow, TwilioError> {
        self.post(
            self.workspace_url(&["Workflows", sid])?,
            &Params::new().set("ReEvaluateTasks", true),
        )
        .await
    }

    /// `POST /Tasks`. `timeout` is the Task's time to live in seconds.
    pub async fn create_task(
        &self,
        workflow_sid: &str,
        attributes_json: &str,
        priority: Option<u32>,
        timeout: Option<u32>,
    ) -> Result<Task, TwilioError> {
        let params = Params::new()
            .set("WorkflowSid", workflow_sid)
            .set("Attributes", attributes_json)
            .opt("Priority", priority)
            .opt("Timeout", timeout);
        self.post(self.workspace_url(&["Tasks"])?, &params).await
    }

    /// `POST /Tasks/{sid}`.
    pub async fn update_task(&self, task_sid: &str, u: &TaskUpdate) -> Result<Task, TwilioError> {
        let params = Params::new()
            .opt("AssignmentStatus", u.assignment_status.as_deref())
            .opt("Reason", u.reason.as_deref());
        self.post(self.workspace_url(&["Tasks", task_sid])?, &params)
            .await
    }

    /// `POST /Tasks/{task}/Reservations/{sid}` or `/Workers/{worker}/Reservations/{sid}`.
    pub async fn update_reservation(
        &self,
        path: ReservationPath,
        u: &ReservationUpdate,
    ) -> Result<Reservation, TwilioError> {
        let params = Params::new()
            .opt("ReservationStatus", u.reservation_status.as_deref())
            .opt("WorkerActivitySid", u.worker_activity_sid.as_deref())
            .opt("Instruction", u.instruction.as_deref())
            .opt("DequeueFrom", u.dequeue_from.as_deref())
            .opt(
                "DequeuePostWorkActivitySid",
                u.dequeue_post_work_activity_sid.as_deref(),
            )
            .opt("DequeueTimeout", u.dequeue_timeout)
            .opt(
                "DequeueStatusCallbackUrl",
                u.dequeue_status_callback_url.as_deref(),
            )
            .list(
                "DequeueStatusCallbackEvent",
                &u.dequeue_status_callback_event,
            );
        self.post(self.workspace_url(&path.segments())?, &params)
            .await
    }
}

fn task_queue_params(s: &TaskQueueSpec) -> Params {
    Params::new()
        .opt("FriendlyName", s.friendly_name.as_deref())
        .opt("TargetWorkers", s.target_workers.as_deref())
        .opt("MaxReservedWorkers", s.max_reserved_workers)
        .opt("TaskOrder", s.task_order.as_deref())
        .opt(
            "ReservationActivitySid",
            s.reservation_activity_sid.as_deref(),
        )
        .opt(
            "AssignmentActivitySid",
            s.assignment_activity_sid.as_deref(),
        )
}

fn workflow_params(s: &WorkflowSpec) -> Params {
    Params::new()
        .opt("FriendlyName", s.friendly_name.as_deref())
        .opt("Configuration", s.configuration.as_deref())
        .opt(
            "AssignmentCallbackUrl",
            s.assignment_callback_url.as_deref(),
        )
        .opt(
            "FallbackAssignmentCallbackUrl",
            s.fallback_assignment_callback_url.as_deref(),
        )
        .opt("TaskReservationTimeout", s.task_reservation_timeout)
}
