//! The HTTP core shared by every Twilio operation: where requests go, how they are
//! authenticated, retried and paged.
//!
//! One request goes through [`TwilioClient::execute`]:
//!
//! ```text
//! attempt ──2xx──────────────────────────────▶ Ok(body)
//!    │
//!    ├─ no answer / timeout / 429 / 5xx ──▶ (attempts left?) ─yes─▶ sleep(jittered) ─▶ attempt
//!    │                                                   └─no──▶ Err
//!    └─ other 4xx ──────────────────────────────────────────────▶ Err (permanent)
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::TwilioError;
use super::form::Params;

/// Where the two Twilio APIs live. Tests and the built-in simulator point these at
/// themselves; production uses [`Endpoints::twilio`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// API 2010 (Calls, Messages), e.g. `https://api.twilio.com`.
    pub api_base: String,
    /// TaskRouter v1, e.g. `https://taskrouter.twilio.com`.
    pub taskrouter_base: String,
}

impl Endpoints {
    /// Twilio's real hosts.
    pub fn twilio() -> Self {
        Self {
            api_base: "https://api.twilio.com".to_string(),
            taskrouter_base: "https://taskrouter.twilio.com".to_string(),
        }
    }
}

/// How hard one operation tries before giving up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total tries, the first included (0 is treated as 1).
    pub attempts: u32,
    /// Backoff before the second try; doubles each time.
    pub base_delay: Duration,
    /// Ceiling for one backoff.
    pub max_delay: Duration,
    /// Limit for one HTTP request, connect to last body byte.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// One try and no retry, for a caller that retries itself (the outbox).
    pub fn once(timeout: Duration) -> Self {
        Self {
            attempts: 1,
            timeout,
            ..Self::default()
        }
    }

    /// The pause after `failed` failed tries: uniform in `[0, min(max, base * 2^(failed-1))]`.
    ///
    /// Full jitter rather than a fixed schedule so that many requests throttled together
    /// (429 is per account) do not come back together.
    pub fn backoff(&self, failed: u32) -> Duration {
        let exponent = failed.saturating_sub(1).min(31);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::random_range(0..=nanos))
    }
}

/// Which API a list belongs to; they page differently (REFERENCE 3, Pagination).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    TaskRouter,
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "no API 2010 list is needed yet; the follower is tested for it"
        )
    )]
    Api2010,
}

/// Pages followed at most per list, so a server that always answers with a next page
/// cannot keep us looping.
const MAX_PAGES: usize = 100;

/// A Twilio REST client for one account and one TaskRouter workspace.
///
/// Cloning is cheap (one `Arc`), so handlers and background tasks each keep their own.
#[derive(Clone)]
pub struct TwilioClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    account_sid: String,
    auth_token: SecretString,
    workspace_sid: String,
    endpoints: Endpoints,
    retry: RetryPolicy,
}

impl fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioClient")
            .field("account_sid", &self.inner.account_sid)
            .field("workspace_sid", &self.inner.workspace_sid)
            .field("endpoints", &self.inner.endpoints)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

fn user_agent() -> &'static str {
    concat!("shiftline/", env!("CARGO_PKG_VERSION"))
}

impl TwilioClient {
    /// A client authenticating as `account_sid` with HTTP Basic (REFERENCE 9).
    ///
    /// Panics only if the TLS backend cannot initialise, which is a start-up failure.
    /// The timeout and headers are set per request instead of on the builder, so there
    /// is no other way for construction to fail.
    pub fn new(
        account_sid: &str,
        auth_token: SecretString,
        workspace_sid: &str,
        endpoints: Endpoints,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                http: reqwest::Client::new(),
                account_sid: account_sid.to_string(),
                auth_token,
                workspace_sid: workspace_sid.to_string(),
                endpoints,
                retry,
            }),
        }
    }

    /// The same account and connection pool, trying requests as `retry` says.
    pub fn with_retry(&self, retry: RetryPolicy) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                account_sid: inner.account_sid.clone(),
                auth_token: inner.auth_token.clone(),
                workspace_sid: inner.workspace_sid.clone(),
                endpoints: inner.endpoints.clone(),
                retry,
            }),
        }
    }

    pub fn account_sid(&self) -> &str {
        &self.inner.account_sid
    }

    pub fn workspace_sid(&self) -> &str {
        &self.inner.workspace_sid
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// `{taskrouter_base}/v1/Workspaces/{ws}/{segments...}`. TaskRouter paths have no
    /// `.json` suffix.
    pub(crate) fn workspace_url(&self, segments: &[&str]) -> Result<Url, TwilioError> {
        let mut all = vec!["v1", "Workspaces", self.inner.workspace_sid.as_str()];
        all.extend_from_slice(segments);
        build_url(&self.inner.endpoints.taskrouter_base, &all)
    }

    /// `{api_base}/2010-04-01/Accounts/{AC}/{segments...}.json`: API 2010 paths end in
    /// `.json` (without it Twilio answers XML).
    pub(crate) fn account_url(&self, segments: &[&str]) -> Result<Url, TwilioError> {
        let mut all: Vec<String> = ["2010-04-01", "Accounts", &self.inner.account_sid]
            .iter()
            .map(|s| s.to_string())
            .chain(segments.iter().map(|s| s.to_string()))
            .collect();
        if let Some(last) = all.last_mut() {
            last.push_str(".json");
        }
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        build_url(&self.inner.endpoints.api_base, &all)
    }

    /// POST a form and parse the resource Twilio answers with.
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        url: Url,
        params: &Params,
    ) -> Result<T, TwilioError> {
        let (status, body) = self
            .execute(Method::POST, &url, Some(&params.encode()))
            .await?;
        parse(status, &body)
    }

    /// GET one resource.
    pub(crate) async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T, TwilioError> {
        let (status, body) = self.execute(Method::GET, &url, None).await?;
        parse(status, &body)
    }

    /// GET a list with `query` as filters, following next-page links until the last page
    /// (or [`MAX_PAGES`]). `key` names the array in each page (`workers`, `calls`, ...).
    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        api: Api,
        mut url: Url,
        query: &Params,
        key: &str,
    ) -> Result<Vec<T>, TwilioError> {
        if !query.pairs().is_empty() {
            url.query_pairs_mut().extend_pairs(query.pairs());
        }
        let base = match api {
            Api::TaskRouter => &self.inner.endpoints.taskrouter_base,
            Api::Api2010 => &self.inner.endpoints.api_base,
        };
        let mut items = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            if pages == MAX_PAGES {
                tracing::warn!(key, pages, "Twilio list truncated at the page limit");
                break;
            }
            pages += 1;
            let (status, body) = self.execute(Method::GET, &url, None).await?;
            let page: Page = parse(status, &body)?;
            let (page_items, link) = page.split(key);
            let page_items: Vec<T> = match page_items {
                Some(v) => {
                    serde_json::from_value(v).map_err(|e| TwilioError::decode(status, &e, &body))?
                }
                None => {
                    let reason = format!("no {key:?} array in the page");
                    return Err(TwilioError::decode(status, &reason, &body));
                }
            };
            items.extend(page_items);
            next = match link {
                Some(link) => Some(next_page_url(base, &link)?),
                None => None,
            };
        }
        Ok(items)
    }

    /// `GET /Recordings/{sid}.mp3`: a recording's audio, as a response whose body the
    /// caller streams on (a voicemail may be megabytes). Not retried: a listener retries.
    pub async fn recording_audio(
        &self,
        recording_sid: &str,
    ) -> Result<reqwest::Response, TwilioError> {
        let inner = &self.inner;
        let mut url = self.account_url(&["Recordings", recording_sid])?;
        let path = url.path().trim_end_matches(".json").to_string() + ".mp3";
        url.set_path(&path);
        let response = inner
            .http
            .get(url)
            .basic_auth(&inner.account_sid, Some(inner.auth_token.expose_secret()))
            .header(USER_AGENT, user_agent())
            .timeout(inner.retry.timeout)
            .send()
            .await
            .map_err(|e| TwilioError::transport(&e))?;
        let status = response.status().as_u16();
        if response_is_success(status) {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        Err(TwilioError::from_response(status, &text))
    }

    /// Send one request with the retry policy; the 2xx status and body, or the last error.
    ///
    /// Every failure is retried unless permanent, POSTs included. 429 and connection
    /// failures are safe (Twilio never processed the request), but a 5xx or a timeout
    /// after a create may come from a request Twilio did carry out, so a retried
    /// `create_call` or `create_message` can, rarely, happen twice. The alternative, not
    /// retrying creates, turns every blip into a lost call; callers that cannot accept a
    /// duplicate pass a policy with `attempts: 1`.
    async fn execute(
        &self,
        method: Method,
        url: &Url,
        body: Option<&str>,
    ) -> Result<(u16, String), TwilioError> {
        let retry = &self.inner.retry;
        let attempts = retry.attempts.max(1);
        let mut attempt = 1;
        loop {
            match self.attempt(&method, url, body).await {
                Ok(answer) => return Ok(answer),
                Err(error) => {
                    // The URL holds only SIDs; the token is in a header we never log.
                    tracing::warn!(
                        method = %method,
                        path = url.path(),
                        status = error.status,
                        code = error.code,
                        message = %crate::core::domain::redact(&error.message),
                        attempt,
                        attempts,
                        "Twilio request failed"
                    );
                    if error.is_permanent() || attempt >= attempts {
                        return Err(error);
                    }
                    let asked = error.retry_after.unwrap_or_default();
                    tokio::time::sleep(retry.backoff(attempt).max(asked)).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&str>,
    ) -> Result<(u16, String), TwilioError> {
        let inner = &self.inner;
        let mut request = inner
            .http
            .request(method.clone(), url.clone())
            .basic_auth(&inner.account_sid, Some(inner.auth_token.expose_secret()))
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, user_agent())
            .timeout(inner.retry.timeout);
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| TwilioError::transport(&e))?;
        let status = response.status().as_u16();
        // Twilio gives whole seconds; the HTTP-date form is not used by its APIs.
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response
            .text()
            .await
            .map_err(|e| TwilioError::transport(&e))?;
        if response_is_success(status) {
            Ok((status, text))
        } else {
            let mut error = TwilioError::from_response(status, &text);
            error.retry_after = retry_after;
            Err(error)
        }
    }
}

fn response_is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

fn parse<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, TwilioError> {
    serde_json::from_str(body).map_err(|e| TwilioError::decode(status, &e, body))
}

/// `base` with `segments` appended as path segments (each percent-encoded, so a SID
/// can never change the path's shape).
fn build_url(base: &str, segments: &[&str]) -> Result<Url, TwilioError> {
    let mut url = Url::parse(base)
        .map_err(|e| TwilioError::request(format!("bad Twilio base URL {base:?}: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| TwilioError::request(format!("Twilio base URL {base:?} cannot take a path")))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// One page of a list in either API's shape.
#[derive(Deserialize)]
struct Page {
    /// TaskRouter: `meta.key` and an absolute `meta.next_page_url`.
    #[serde(default)]
    meta: Option<Meta>,
    /// API 2010: a relative `next_page_uri` at the top level.
    #[serde(default)]
    next_page_uri: Option<String>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    next_page_url: Option<String>,
}

impl Page {
    /// This page's items (under `meta.key` if given, else `key`) and its next-page link.
    fn split(mut self, key: &str) -> (Option<serde_json::Value>, Option<String>) {
        let (meta_key, meta_next) = match self.meta {
            Some(m) => (m.key, m.next_page_url),
            None => (None, None),
        };
        let key = meta_key.as_deref().unwrap_or(key);
        let items = self.rest.remove(key).filter(|v| !v.is_null());
        let next = meta_next
            .or(self.next_page_uri)
            .filter(|s| !s.trim().is_empty());
        (items, next)
    }
}

/// Where to fetch a next page, given the API's configured `base`.
///
/// A relative link (API 2010 `next_page_uri`) goes under `base`. An absolute link
/// (TaskRouter `next_page_url`) names Twilio's real host even when we talk to a mock or
/// the simulator, so unless it already points under `base` its scheme and host are
/// replaced by `base`, keeping path and query. This also means credentials are only ever
/// sent to the configured hosts, whatever a page says.
fn next_page_url(base: &str, link: &str) -> Result<Url, TwilioError> {
    let base_trimmed = base.trim_end_matches('/');
    let joined = if link.starts_with('/') {
        format!("{base_trimmed}{link}")
    } else if link.starts_with(&format!("{base_trimmed}/")) {
        link.to_string()
    } else {
        let parsed = Url::parse(link)
            .map_err(|e| TwilioError::request(format!("unusable next page link {link:?}: {e}")))?;
        match parsed.query() {
            Some(q) => format!("{base_trimmed}{}?{q}", parsed.path()),
            None => format!("{base_trimmed}{}", parsed.path()),
        }
    };
    Url::parse(&joined)
        .map_err(|e| TwilioError::request(format!("unusable next page link {joined:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_page_on_twilio_is_moved_to_the_configured_host() {
        let url = next_page_url(
            "http://127.0.0.1:4010",
            "https://taskrouter.twilio.com/v1/Workspaces/WS1/Workers?PageSize=1&PageToken=PT1",
        )
        .expect("rebased");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:4010/v1/Workspaces/WS1/Workers?PageSize=1&PageToken=PT1"
        );
    }

    #[test]
    fn a_next_page_already_under_the_base_is_kept() {
        let link = "http://sim.local/twilio/v1/Workspaces/WS1/Workers?PageToken=PT1";
        let url = next_page_url("http://sim.local/twilio/", link).expect("kept");
        assert_eq!(url.as_str(), link);
    }

    #[test]
    fn a_relative_next_page_uri_goes_under_the_api_base() {
        let url = next_page_url(
            "https://api.twilio.com",
            "/2010-04-01/Accounts/AC1/Calls.json?Page=1&PageToken=PA1",
        )
        .expect("joined");
        assert_eq!(
            url.as_str(),
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?Page=1&PageToken=PA1"
        );
    }

    #[test]
    fn backoff_stays_within_the_exponential_ceiling() {
        let policy = RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            timeout: Duration::from_secs(1),
        };
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(2) <= Duration::from_millis(200));
            assert!(policy.backoff(3) <= Duration::from_millis(300));
            assert!(policy.backoff(40) <= Duration::from_millis(300));
        }
    }

    #[test]
    fn path_segments_are_escaped() {
        let url = build_url("https://api.twilio.com/", &["2010-04-01", "a/b?c"]).expect("url");
        assert_eq!(url.as_str(), "https://api.twilio.com/2010-04-01/a%2Fb%3Fc");
    }
}
