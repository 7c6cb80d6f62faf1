//! Twilio REST client: TaskRouter v1 and API 2010 (Calls, Messages), sending exactly what
//! Twilio's official helper library sends (checked by `.ci/conformance`).
//!
//! - `client`: endpoints, Basic auth, per-request timeout, retries with jittered
//!   exponential backoff (429, 5xx, no answer), and pagination in both APIs' shapes.
//! - `taskrouter` / `api2010`: one method per operation shiftline uses, with request
//!   structs whose `None` fields are left out of the form.
//! - `resources`: the lenient response types; `error`: [`TwilioError`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), shiftline::twilio::rest::TwilioError> {
//! use shiftline::twilio::rest::{Endpoints, RetryPolicy, TwilioClient, WorkerUpdate};
//! let client = TwilioClient::new(
//!     "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
//!     "auth-token".into(),
//!     "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
//!     Endpoints::twilio(),
//!     RetryPolicy::default(),
//! );
//! let offline = WorkerUpdate {
//!     activity_sid: Some("WAffffffffffffffffffffffffffffffff".into()),
//!     reject_pending_reservations: Some(true),
//!     ..Default::default()
//! };
//! client.update_worker("WKcccccccccccccccccccccccccccccccc", &offline).await?;
//! # Ok(()) }
//! ```

mod api2010;
mod client;
mod error;
mod form;
mod resources;
mod taskrouter;

#[cfg(test)]
mod tests;

pub use api2010::{CallCreate, CallUpdate, MessageCreate};
pub use client::{Endpoints, RetryPolicy, TwilioClient};
pub use error::{ErrorKind, TwilioError};
pub use resources::{
    Activity, Call, Message, Reservation, Task, TaskQueue, Worker, Workflow, Workspace,
};
pub use taskrouter::{
    ReservationPath, ReservationUpdate, TaskQueueSpec, TaskUpdate, WorkerFilter, WorkerUpdate,
    WorkflowSpec, WorkspaceUpdate,
};
