//! Resources as Twilio renders them: snake_case fields from the OpenAPI specs, `url`s on
//! the simulator's own host, TaskRouter dates in ISO 8601 and API 2010 dates in
//! RFC 2822. Fields the simulator has no value for are `null`, as on Twilio.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use url::Url;

use super::error::ApiError;
use super::routes::Params;
use super::state::{
    Activity, Call, Message, Recording, Reservation, State, Task, TaskQueue, Worker, Workflow, age,
};

/// TaskRouter's date format: `2014-05-14T10:50:02Z`.
pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// API 2010's date format: `Fri, 20 Aug 2010 01:13:42 +0000`.
pub(crate) fn rfc2822(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

impl State {
    fn workspace_url(&self) -> String {
        format!("{}/v1/Workspaces/{}", self.base_url, self.workspace_sid)
    }

    fn account_uri(&self) -> String {
        format!("/2010-04-01/Accounts/{}", self.account_sid)
    }

    pub(crate) fn workspace_json(&self) -> Value {
        let ws = &self.workspace;
        let url = self.workspace_url();
        let name = |sid: &Option<String>| sid.as_deref().map(|s| self.activity_name(s));
        json!({
            "account_sid": self.account_sid,
            "date_created": iso(ws.date_created),
            "date_updated": iso(ws.date_updated),
            "default_activity_name": name(&ws.default_activity_sid),
            "default_activity_sid": ws.default_activity_sid,
            "event_callback_url": ws.event_callback_url,
            "events_filter": ws.events_filter,
            "friendly_name": ws.friendly_name,
            "multi_task_enabled": false,
            "sid": self.workspace_sid,
            "timeout_activity_name": name(&ws.timeout_activity_sid),
            "timeout_activity_sid": ws.timeout_activity_sid,
            "prioritize_queue_order": "FIFO",
            "url": url,
            "links": {
                "activities": format!("{url}/Activities"),
                "task_queues": format!("{url}/TaskQueues"),
                "tasks": format!("{url}/Tasks"),
                "workers": format!("{url}/Workers"),
                "workflows": format!("{url}/Workflows"),
            },
        })
    }

    pub(crate) fn activity_json(&self, a: &Activity) -> Value {
        json!({
            "account_sid": self.account_sid,
            "available": a.available,
            "date_created": iso(a.date_created),
            "date_updated": iso(a.date_created),
            "friendly_name": a.friendly_name,
            "sid": a.sid,
            "workspace_sid": self.workspace_sid,
            "url": format!("{}/Activities/{}", self.workspace_url(), a.sid),
            "links": { "workspace": self.workspace_url() },
        })
    }

    pub(crate) fn worker_json(&self, w: &Worker) -> Value {
        let url = format!("{}/Workers/{}", self.workspace_url(), w.sid);
        json!({
            "account_sid": self.account_sid,
            "activity_name": self.activity_name(&w.activity_sid),
            "activity_sid": w.activity_sid,
            "attributes": w.attributes,
            "available": self.is_available(w),
            "date_created": iso(w.date_created),
            "date_status_changed": iso(w.date_status_changed),
            "date_updated": iso(w.date_updated),
            "friendly_name": w.friendly_name,
            "sid": w.sid,
            "workspace_sid": self.workspace_sid,
            "url": url,
            "links": {
                "reservations": format!("{url}/Reservations"),
                "activity": format!("{}/Activities/{}", self.workspace_url(), w.activity_sid),
                "workspace": self.workspace_url(),
            },
        })
    }

    pub(crate) fn queue_json(&self, q: &TaskQueue) -> Value {
        json!({
            "account_sid": self.account_sid,
            "assignment_activity_sid": null,
            "assignment_activity_name": null,
            "date_created": iso(q.date_created),
            "date_updated": iso(q.date_updated),
            "friendly_name": q.friendly_name,
            "max_reserved_workers": q.max_reserved_workers,
            "reservation_activity_sid": null,
            "reservation_activity_name": null,
            "sid": q.sid,
            "target_workers": q.target_workers,
            "task_order": q.task_order,
            "url": format!("{}/TaskQueues/{}", self.workspace_url(), q.sid),
            "workspace_sid": self.workspace_sid,
            "links": { "workspace": self.workspace_url() },
        })
    }

    pub(crate) fn workflow_json(&self, w: &Workflow) -> Value {
        json!({
            "account_sid": self.account_sid,
            "assignment_callback_url": w.assignment_callback_url,
            "configuration": w.configuration,
            "date_created": iso(w.date_created),
            "date_updated": iso(w.date_updated),
            "document_content_type": "application/json",
            "fallback_assignment_callback_url": w.fallback_assignment_callback_url,
            "friendly_name": w.friendly_name,
            "sid": w.sid,
            "task_reservation_timeout": w.task_reservation_timeout,
            "workspace_sid": self.workspace_sid,
            "url": format!("{}/Workflows/{}", self.workspace_url(), w.sid),
            "links": { "workspace": self.workspace_url() },
        })
    }

    pub(crate) fn task_json(&self, t: &Task) -> Value {
        let url = format!("{}/Tasks/{}", self.workspace_url(), t.sid);
        let queue = t.route.as_ref().and_then(|r| self.queues.get(&r.queue_sid));
        json!({
            "account_sid": self.account_sid,
            "age": age(t.date_created, self.now()),
            "assignment_status": t.status.as_str(),
            "attributes": t.attributes,
            "addons": "{}",
            "date_created": iso(t.date_created),
            "date_updated": iso(t.date_updated),
            "task_queue_entered_date": t.route.as_ref().map(|r| iso(r.entered)),
            "priority": t.priority,
            "reason": t.reason,
            "sid": t.sid,
            "task_queue_sid": queue.map(|q| &q.sid),
            "task_queue_friendly_name": queue.map(|q| &q.friendly_name),
            "task_channel_sid": null,
            "task_channel_unique_name": "default",
            "timeout": t.timeout,
            "workflow_sid": t.workflow_sid,
            "workflow_friendly_name": self.workflows.get(&t.workflow_sid).map(|w| &w.friendly_name),
            "workspace_sid": self.workspace_sid,
            "url": url,
            "links": { "reservations": format!("{url}/Reservations"), "workspace": self.workspace_url() },
        })
    }

    /// A reservation; `url` under the task or the worker, as it was asked for.
    pub(crate) fn reservation_json(&self, r: &Reservation, under_worker: bool) -> Value {
        let url = if under_worker {
            format!(
                "{}/Workers/{}/Reservations/{}",
                self.workspace_url(),
                r.worker_sid,
                r.sid
            )
        } else {
            format!(
                "{}/Tasks/{}/Reservations/{}",
                self.workspace_url(),
                r.task_sid,
                r.sid
            )
        };
        json!({
            "account_sid": self.account_sid,
            "date_created": iso(r.date_created),
            "date_updated": iso(r.date_updated),
            "reservation_status": r.status.as_str(),
            "sid": r.sid,
            "task_sid": r.task_sid,
            "worker_name": self.workers.get(&r.worker_sid).map(|w| &w.friendly_name),
            "worker_sid": r.worker_sid,
            "workspace_sid": self.workspace_sid,
            "url": url,
        })
    }

    pub(crate) fn message_json(&self, m: &Message) -> Value {
        let uri = format!("{}/Messages/{}.json", self.account_uri(), m.sid);
        json!({
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": m.body,
            "date_created": rfc2822(m.date_created),
            "date_sent": null,
            "date_updated": rfc2822(m.date_created),
            "direction": "outbound-api",
            "error_code": null,
            "error_message": null,
            "from": m.from,
            "messaging_service_sid": m.messaging_service_sid,
            "num_media": "0",
            "num_segments": "1",
            "price": null,
            "price_unit": "USD",
            "sid": m.sid,
            "status": "queued",
            "subresource_uris": { "media": format!("{}/Messages/{}/Media.json", self.account_uri(), m.sid) },
            "to": m.to,
            "uri": uri,
        })
    }

    pub(crate) fn call_json(&self, c: &Call) -> Value {
        let ended = c.voice.ended_at.is_some();
        json!({
            "account_sid": self.account_sid,
            "annotation": null,
            "answered_by": c.voice.answered_by,
            "api_version": "2010-04-01",
            "caller_name": null,
            "date_created": rfc2822(c.date_created),
            "date_updated": rfc2822(c.date_updated),
            "direction": c.direction,
            "duration": ended.then(|| c.voice.duration(self.now()).to_string()),
            "end_time": c.voice.ended_at.map(rfc2822),
            "forwarded_from": null,
            "from": c.from,
            "from_formatted": c.from,
            "group_sid": null,
            "parent_call_sid": c.parent_call_sid,
            "phone_number_sid": null,
            "price": null,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": c.sid,
            "start_time": c.voice.answered_at.map(rfc2822),
            "status": c.status,
            "subresource_uris": {},
            "to": c.to,
            "to_formatted": c.to,
            "trunk_sid": null,
            "uri": format!("{}/Calls/{}.json", self.account_uri(), c.sid),
        })
    }

    pub(crate) fn recording_json(&self, r: &Recording) -> Value {
        let uri = format!("{}/Recordings/{}", self.account_uri(), r.sid);
        json!({
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "call_sid": r.call_sid,
            "channels": 1,
            "conference_sid": null,
            "date_created": rfc2822(r.date_created),
            "date_updated": rfc2822(r.date_created),
            "duration": r.duration.to_string(),
            "encryption_details": null,
            "error_code": null,
            "media_url": format!("{}{uri}", self.base_url),
            "price": null,
            "price_unit": "USD",
            "sid": r.sid,
            "source": "RecordVerb",
            "start_time": rfc2822(r.date_created),
            "status": "completed",
            "subresource_uris": {
                "transcriptions": format!("{uri}/Transcriptions.json"),
            },
            "uri": format!("{uri}.json"),
        })
    }

    /// The transcription of `r`, which has one.
    pub(crate) fn transcription_json(&self, r: &Recording) -> Option<Value> {
        let t = r.transcription.as_ref()?;
        let status = if t.text.is_some() {
            "completed"
        } else {
            "failed"
        };
        Some(json!({
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "date_created": rfc2822(r.date_created),
            "date_updated": rfc2822(r.date_created),
            "duration": r.duration.to_string(),
            "price": null,
            "price_unit": "USD",
            "recording_sid": r.sid,
            "sid": t.sid,
            "status": status,
            "transcription_text": t.text,
            "type": "fast",
            "uri": format!("{}/Transcriptions/{}.json", self.account_uri(), t.sid),
        }))
    }

    /// One page of a TaskRouter list. `PageSize` (default 50, at most 1000) sets its
    /// length; `next_page_url` carries the filters and a `PageToken` naming the last SID
    /// shown, so pages stay stable when resources are added meanwhile.
    pub(crate) fn page(
        &self,
        path: &str,
        key: &str,
        items: Vec<Value>,
        params: &Params,
    ) -> Result<Value, ApiError> {
        let page_size = match params.get("PageSize") {
            None => 50,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| ApiError::invalid(format!("PageSize {raw:?} is not 1 to 1000")))?,
        };
        let page: u64 = params.get("Page").and_then(|p| p.parse().ok()).unwrap_or(0);
        let after = params
            .get("PageToken")
            .map(|token| token.strip_prefix("PA").unwrap_or(token).to_string());
        let mut rest = items.into_iter().filter(|item| match &after {
            Some(after) => item["sid"].as_str().is_some_and(|sid| sid > after.as_str()),
            None => true,
        });
        let shown: Vec<Value> = rest.by_ref().take(page_size).collect();
        let more = rest.next().is_some();

        let filters: Vec<(&str, &str)> = params
            .pairs()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "PageSize" | "Page" | "PageToken"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let link = |page: u64, token: Option<&str>| -> Result<String, ApiError> {
            let mut url = Url::parse(&format!("{}{path}", self.base_url))
                .map_err(|e| ApiError::new(500, 20500, format!("bad page URL: {e}")))?;
            {
                let mut query = url.query_pairs_mut();
                query.extend_pairs(&filters);
                query.append_pair("PageSize", &page_size.to_string());
                query.append_pair("Page", &page.to_string());
                if let Some(token) = token {
                    query.append_pair("PageToken", token);
                }
            }
            Ok(url.to_string())
        };
        let next = match (more, shown.last().and_then(|v| v["sid"].as_str())) {
            (true, Some(last)) => Some(link(page + 1, Some(&format!("PA{last}")))?),
            _ => None,
        };
        let current_token = params.get("PageToken");
        Ok(json!({
            key: shown,
            "meta": {
                "first_page_url": link(0, None)?,
                "key": key,
                "next_page_url": next,
                "page": page,
                "page_size": page_size,
                "previous_page_url": null,
                "url": link(page, current_token)?,
            },
        }))
    }
}
