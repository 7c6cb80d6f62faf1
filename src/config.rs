//! Settings: one TOML file for what a business describes (skills, workers, URLs) and
//! environment variables for secrets, which never live in a file in the repository.
//!
//! Every problem is reported with the field it is about (`workers[1].phone: ...`), so a
//! business can fix its file without reading code.

use crate::core::callback::CallbackSettings;
use crate::core::dispatch::DispatchSettings;
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use secrecy::SecretString;
use serde::Deserialize;

use crate::core::domain::Enrolment;
use crate::core::domain::catalog::{Catalog, Skill};
use crate::core::domain::{Locale, PhoneNumber, SkillKey};

pub const ENV_AUTH_TOKEN: &str = "SHIFTLINE_TWILIO_AUTH_TOKEN";
pub const ENV_API_TOKEN: &str = "SHIFTLINE_API_TOKEN";
pub const ENV_ENROLMENT_PIN: &str = "SHIFTLINE_ENROLMENT_PIN";
pub const ENV_DATABASE_URL: &str = "SHIFTLINE_DATABASE_URL";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Syntax(#[from] toml::de::Error),
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Validated settings.
#[derive(Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    /// The URL Twilio calls, without a trailing slash; signatures are checked against it.
    pub public_url: String,
    pub data_dir: PathBuf,
    /// None: run against the built-in Twilio simulator.
    pub twilio: Option<TwilioAccount>,
    /// Twilio's auth token, which signs webhooks (and the simulator's callbacks).
    pub auth_token: SecretString,
    /// The token was generated at start-up because none was set (simulator only).
    pub auth_token_generated: bool,
    /// Bearer token for `/api`; the API answers 401 to everyone when it is not set.
    pub api_token: Option<SecretString>,
    pub enrolment: Option<Enrolment>,
    pub default_language: Locale,
    pub default_time_zone: Tz,
    pub catalog: Catalog,
    /// The configuration's workers, until the service has written them to its store
    /// (`Application::build` empties it; read the store for who is rostered).
    pub roster: Vec<RosterEntry>,
    pub dispatch: DispatchSettings,
    pub customer: CustomerLine,
    pub voicemail: Voicemail,
    /// Calling back callers nobody could take (`[callbacks]`).
    pub callbacks: CallbackSettings,
    /// How the outbox talks to Twilio: in flight at once, and how long one request may take.
    pub requests: RequestLimits,
    /// How far the built-in simulator is from an instant, perfect Twilio.
    pub simulator: SimulatorRealism,
    /// A simulator running as its own process (`shiftline simulator`), shared by several
    /// instances, instead of one started in-process. Only without a Twilio account.
    pub simulator_url: Option<String>,
    /// Where the state lives.
    pub store: StoreChoice,
    /// How much memory the embedded store may keep as cache (`[store] cache_mb`).
    pub store_cache_mb: u64,
}

/// `[store] backend`: sled in `server.data_dir` for one instance, or PostgreSQL at
/// `SHIFTLINE_DATABASE_URL` for two or more.
#[derive(Clone, Debug)]
pub enum StoreChoice {
    Sled,
    Postgres { url: SecretString },
}

/// `[twilio] max_concurrent_requests` and `request_timeout_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestLimits {
    /// REST requests in flight at once, for the whole service. Twilio answers 429 (error
    /// 20429) past an account's concurrency limit, 100 by default; 32 stays well below it
    /// and leaves room for the account's other users (the console, other apps).
    pub max_concurrent: usize,
    /// A request unanswered after this long is abandoned and retried like a 5xx.
    pub timeout: std::time::Duration,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_concurrent: 32,
            timeout: std::time::Duration::from_secs(5),
        }
    }
}

/// `[simulator]`: the built-in Twilio's realism knobs, all off by default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimulatorRealism {
    /// Every REST answer comes this many milliseconds after the request...
    pub latency_ms: u64,
    /// ...plus up to this many more, at random.
    pub jitter_ms: u64,
    /// Requests a second the account may make; past it Twilio answers 429 with
    /// Retry-After.
    pub requests_per_second: Option<u32>,
    /// The fraction of requests answered 500.
    pub error_rate: f64,
    /// The fraction of requests never answered.
    pub hang_rate: f64,
    /// Seeds the draws behind the jitter, the errors and the hangs.
    pub seed: u64,
}

impl Settings {
    /// The number workers text and call: Twilio's, or the simulator's.
    pub fn intake_number(&self) -> PhoneNumber {
        match &self.twilio {
            Some(t) => t.intake_number.clone(),
            None => PhoneNumber::parse(SIMULATED_INTAKE_NUMBER).expect("a valid constant"),
        }
    }

    /// The number customers call and calls to workers come from.
    pub fn business_number(&self) -> PhoneNumber {
        match &self.twilio {
            Some(t) => t.business_number.clone(),
            None => PhoneNumber::parse(SIMULATED_BUSINESS_NUMBER).expect("a valid constant"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct TwilioAccount {
    pub account_sid: String,
    pub workspace_sid: String,
    pub workflow_sid: Option<String>,
    pub intake_number: PhoneNumber,
    pub business_number: PhoneNumber,
}

/// A worker listed in the configuration file.
#[derive(Clone, Debug, PartialEq)]
pub struct RosterEntry {
    pub phone: PhoneNumber,
    pub name: String,
    pub language: Locale,
    pub languages: Vec<Locale>,
    pub time_zone: Tz,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    twilio: Option<RawTwilio>,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    skills: Vec<RawSkill>,
    #[serde(default)]
    workers: Vec<RawWorker>,
    #[serde(default)]
    dispatch: DispatchSettings,
    #[serde(default)]
    customer: RawCustomer,
    #[serde(default)]
    voicemail: RawVoicemail,
    #[serde(default)]
    callbacks: RawCallbacks,
    #[serde(default)]
    simulator: RawSimulator,
    #[serde(default)]
    store: RawStore,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSimulator {
    /// A simulator running on its own, shared by several instances.
    url: Option<String>,
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    jitter_ms: u64,
    requests_per_second: Option<u32>,
    #[serde(default)]
    error_rate: f64,
    #[serde(default)]
    hang_rate: f64,
    #[serde(default)]
    seed: u64,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    backend: Option<String>,
    cache_mb: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustomer {
    #[serde(default)]
    menu: Vec<RawMenuItem>,
    hold_music_url: Option<String>,
    max_wait_secs: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMenuItem {
    digit: String,
    skill: String,
    language: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVoicemail {
    #[serde(default)]
    notify: Vec<String>,
    max_length_secs: Option<u32>,
    transcribe: Option<bool>,
    link_ttl_hours: Option<u32>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCallbacks {
    enabled: Option<bool>,
    key: Option<String>,
    priority: Option<u32>,
    attempts: Option<u32>,
    retry_after_mins: Option<u32>,
    hours: Option<String>,
}

/// When customers are called back unless `callbacks.hours` says otherwise: every day from
/// 9 in the morning to 8 in the evening, in `defaults.time_zone`.
pub const DEFAULT_CALLBACK_HOURS: &str = "daily 9am-8pm";

/// sled's cache by default: enough for the records of the workers who are texting (the
/// others are read from the OS page cache). sled holds about twice its cache in memory,
/// so this is the largest single part of the service's size. Measured on 2 cores, with
/// one writer thread: at 8 MB the 10,000-worker intake of `bench/intake.sh` runs as fast
/// as at 16 (20.6k and 21.3k turns/s against 20.8k and 21.0k, runs alternated) and its
/// 100,000-worker soak sits about 10 MB lower (88 MB against 97 at the end). Before the
/// writer thread, 8 MB cost the intake almost half its speed.
pub const DEFAULT_STORE_CACHE_MB: u64 = 8;

/// How long a caller waits for a busy worker by default: two minutes, as long as most
/// people stay on hold before hanging up.
pub const DEFAULT_MAX_WAIT_SECS: u32 = 120;

/// What a customer calling the business line hears and picks.
#[derive(Clone, Debug)]
pub struct CustomerLine {
    /// Digit -> skill (and language); empty: every call goes to the first skill.
    pub menu: Vec<MenuItem>,
    pub hold_music_url: String,
    /// The longest a caller waits for a busy worker before voicemail. A caller nobody
    /// online can take does not wait at all.
    pub max_wait_secs: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MenuItem {
    pub digit: char,
    pub skill: SkillKey,
    pub language: Option<Locale>,
}

#[derive(Clone, Debug)]
pub struct Voicemail {
    /// Who is texted about every new voicemail.
    pub notify: Vec<PhoneNumber>,
    pub max_length_secs: u32,
    /// Ask Twilio for a transcription of English voicemails (Twilio transcribes only
    /// en-US); the notify text then waits for it.
    pub transcribe: bool,
    /// How long the listen link in a voicemail text works.
    pub link_ttl: chrono::TimeDelta,
}

/// Twilio's own hold music, served from its public bucket.
pub const DEFAULT_HOLD_MUSIC: &str =
    "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3";
/// The simulator's numbers, used when no Twilio account is configured.
pub const SIMULATED_INTAKE_NUMBER: &str = "+15550100000";
pub const SIMULATED_BUSINESS_NUMBER: &str = "+15550100001";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    #[serde(default = "default_listen")]
    listen: String,
    public_url: Option<String>,
    #[serde(default = "default_data_dir")]
    data_dir: PathBuf,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            public_url: None,
            data_dir: default_data_dir(),
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}

fn default_data_dir() -> PathBuf {
    "./data".into()
}

/// `[twilio]`: the account (all four of its keys, or none for the built-in simulator)
/// and how hard to drive it.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTwilio {
    account_sid: Option<String>,
    workspace_sid: Option<String>,
    workflow_sid: Option<String>,
    intake_number: Option<String>,
    business_number: Option<String>,
    max_concurrent_requests: Option<usize>,
    request_timeout_secs: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    #[serde(default = "default_language")]
    language: String,
    #[serde(default = "default_time_zone")]
    time_zone: String,
}

impl Default for RawDefaults {
    fn default() -> Self {
        Self {
            language: default_language(),
            time_zone: default_time_zone(),
        }
    }
}

fn default_language() -> String {
    "en".into()
}

fn default_time_zone() -> String {
    "America/Chicago".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkill {
    key: String,
    #[serde(default)]
    names: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorker {
    phone: String,
    name: String,
    language: Option<String>,
    /// Languages the worker takes calls in; defaults to their texting language.
    languages: Option<Vec<String>>,
    time_zone: Option<String>,
}

impl Settings {
    /// Reads the file at `path`, secrets from the process environment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, |name| std::env::var(name).ok())
    }

    /// Parses settings from TOML text, with `env` standing in for the environment.
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text)?;
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());

        let listen = raw.server.listen.parse::<SocketAddr>().map_err(|e| {
            invalid(
                "server.listen",
                format!("{:?}: {e} (like \"127.0.0.1:8080\")", raw.server.listen),
            )
        })?;
        let public_url = match raw.server.public_url {
            Some(url) => parse_public_url(&url)?,
            None => format!("http://{listen}"),
        };
        let default_language =
            Locale::parse(&raw.defaults.language).map_err(|e| invalid("defaults.language", e))?;
        let default_time_zone = parse_tz(&raw.defaults.time_zone, "defaults.time_zone")?;
        let raw_twilio = raw.twilio.unwrap_or_default();
        let requests = parse_limits(&raw_twilio)?;
        let twilio = parse_twilio(raw_twilio)?;
        let knobs = &raw.simulator;
        let simulator = check_realism(SimulatorRealism {
            latency_ms: knobs.latency_ms,
            jitter_ms: knobs.jitter_ms,
            requests_per_second: knobs.requests_per_second,
            error_rate: knobs.error_rate,
            hang_rate: knobs.hang_rate,
            seed: knobs.seed,
        })?;
        let simulator_url = raw
            .simulator
            .url
            .map(|url| parse_simulator_url(&url, twilio.is_some(), &simulator))
            .transpose()?;
        let store_cache_mb = raw.store.cache_mb.unwrap_or(DEFAULT_STORE_CACHE_MB);
        if !(4..=4096).contains(&store_cache_mb) {
            return Err(invalid(
                "store.cache_mb",
                format!("{store_cache_mb} is not between 4 and 4096 megabytes"),
            ));
        }
        let store = match raw.store.backend.as_deref() {
            None | Some("sled") => StoreChoice::Sled,
            Some("postgres") => StoreChoice::Postgres {
                url: SecretString::from(env(ENV_DATABASE_URL).ok_or_else(|| {
                    invalid(
                        ENV_DATABASE_URL,
                        "must be set to the database's URL (postgres://user:password@host/db) when [store] backend = \"postgres\"",
                    )
                })?),
            },
            Some(other) => {
                return Err(invalid(
                    "store.backend",
                    format!("{other:?} is not a backend: \"sled\" (one instance) or \"postgres\" (one or more)"),
                ));
            }
        };

        let (auth_token, auth_token_generated) = match (env(ENV_AUTH_TOKEN), &twilio) {
            (Some(token), _) => (token, false),
            (None, Some(_)) => {
                return Err(invalid(
                    ENV_AUTH_TOKEN,
                    "must be set to the account's auth token when [twilio] is configured",
                ));
            }
            (None, None) if simulator_url.is_some() => {
                return Err(invalid(
                    ENV_AUTH_TOKEN,
                    "must be set to the token the simulator at simulator.url signs with (the one `shiftline simulator` was started with)",
                ));
            }
            (None, None) => (development_token(), true),
        };
        let enrolment = env(ENV_ENROLMENT_PIN)
            .map(|pin| {
                if pin.len() >= 4 && pin.chars().all(|c| c.is_ascii_alphanumeric()) {
                    Ok(Enrolment {
                        pin,
                        language: default_language,
                        time_zone: default_time_zone,
                    })
                } else {
                    Err(invalid(
                        ENV_ENROLMENT_PIN,
                        "must be at least 4 letters or digits",
                    ))
                }
            })
            .transpose()?;

        Ok(Self {
            listen,
            public_url,
            data_dir: raw.server.data_dir,
            twilio,
            auth_token: SecretString::from(auth_token),
            auth_token_generated,
            api_token: env(ENV_API_TOKEN).map(SecretString::from),
            enrolment,
            default_language,
            default_time_zone,
            roster: parse_roster(raw.workers, default_language, default_time_zone)?,
            customer: parse_customer(raw.customer, &parse_skills_ref(&raw.skills)?)?,
            catalog: parse_skills(raw.skills)?,
            dispatch: check_dispatch(raw.dispatch)?,
            voicemail: parse_voicemail(raw.voicemail)?,
            callbacks: parse_callbacks(raw.callbacks, default_time_zone)?,
            requests,
            simulator,
            simulator_url,
            store,
            store_cache_mb,
        })
    }
}

fn parse_public_url(raw: &str) -> Result<String, ConfigError> {
    let field = "server.public_url";
    let url = url::Url::parse(raw).map_err(|e| invalid(field, format!("{raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(
            field,
            format!("{raw:?} must be an http(s) URL like https://shiftline.example.com"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            field,
            format!("{raw:?} must not have a query or fragment"),
        ));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

fn parse_limits(raw: &RawTwilio) -> Result<RequestLimits, ConfigError> {
    let mut limits = RequestLimits::default();
    if let Some(n) = raw.max_concurrent_requests {
        if !(1..=100).contains(&n) {
            return Err(invalid(
                "twilio.max_concurrent_requests",
                format!(
                    "{n} must be from 1 to 100 (Twilio's default concurrency limit per account)"
                ),
            ));
        }
        limits.max_concurrent = n;
    }
    if let Some(secs) = raw.request_timeout_secs {
        if !(0.1..=120.0).contains(&secs) {
            return Err(invalid(
                "twilio.request_timeout_secs",
                format!("{secs} must be from 0.1 to 120 seconds"),
            ));
        }
        limits.timeout = std::time::Duration::from_secs_f64(secs);
    }
    Ok(limits)
}

/// The URL of a simulator running on its own. It is refused unless it is on this machine
/// or on a host named for it, so that a slip in the file can never send requests signed
/// with the account's token to some other server.
fn parse_simulator_url(
    raw: &str,
    has_account: bool,
    realism: &SimulatorRealism,
) -> Result<String, ConfigError> {
    let field = "simulator.url";
    if has_account {
        return Err(invalid(
            field,
            "a [twilio] account and a simulator exclude each other: remove one",
        ));
    }
    if *realism != SimulatorRealism::default() {
        return Err(invalid(
            field,
            "a simulator at a URL keeps its own realism knobs: set them where it runs (`shiftline simulator --config`)",
        ));
    }
    let url = url::Url::parse(raw).map_err(|e| invalid(field, format!("{raw:?}: {e}")))?;
    let named = |host: &str| {
        let first = host.split('.').next().unwrap_or_default();
        first == "simulator" || first == "twilio-sim"
    };
    let allowed = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(host)) => host == "localhost" || named(host),
        None => false,
    };
    if !matches!(url.scheme(), "http" | "https") || !allowed {
        return Err(invalid(
            field,
            format!(
                "{raw:?} must be an http URL on this machine (127.0.0.1, ::1, localhost) or on a host named simulator or twilio-sim"
            ),
        ));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

fn check_realism(raw: SimulatorRealism) -> Result<SimulatorRealism, ConfigError> {
    for (name, rate) in [("error_rate", raw.error_rate), ("hang_rate", raw.hang_rate)] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(invalid(
                format!("simulator.{name}"),
                format!("{rate} must be from 0.0 to 1.0"),
            ));
        }
    }
    if raw.requests_per_second == Some(0) {
        return Err(invalid(
            "simulator.requests_per_second",
            "must be at least 1 (leave it out for no limit)",
        ));
    }
    Ok(raw)
}

/// The account, when `[twilio]` names one; without its keys shiftline runs against the
/// built-in simulator.
fn parse_twilio(raw: RawTwilio) -> Result<Option<TwilioAccount>, ConfigError> {
    let account_keys = [
        &raw.account_sid,
        &raw.workspace_sid,
        &raw.workflow_sid,
        &raw.intake_number,
        &raw.business_number,
    ];
    if account_keys.iter().all(|v| v.is_none()) {
        return Ok(None);
    }
    let required = |value: Option<String>, field: &str| {
        value.ok_or_else(|| {
            invalid(
                format!("twilio.{field}"),
                "missing: a Twilio account needs account_sid, workspace_sid, intake_number and business_number (leave them all out to use the built-in simulator)",
            )
        })
    };
    let account_sid = required(raw.account_sid, "account_sid")?;
    let workspace_sid = required(raw.workspace_sid, "workspace_sid")?;
    let intake_number = required(raw.intake_number, "intake_number")?;
    let business_number = required(raw.business_number, "business_number")?;
    let sid = |value: String, prefix: &str, field: &str| {
        if crate::core::domain::is_sid(&value, prefix) {
            Ok(value)
        } else {
            Err(invalid(
                format!("twilio.{field}"),
                format!("{value:?} is not a SID like {prefix} followed by 32 hex digits"),
            ))
        }
    };
    Ok(Some(TwilioAccount {
        account_sid: sid(account_sid, "AC", "account_sid")?,
        workspace_sid: sid(workspace_sid, "WS", "workspace_sid")?,
        workflow_sid: raw
            .workflow_sid
            .map(|w| sid(w, "WW", "workflow_sid"))
            .transpose()?,
        intake_number: PhoneNumber::parse(&intake_number)
            .map_err(|e| invalid("twilio.intake_number", e))?,
        business_number: PhoneNumber::parse(&business_number)
            .map_err(|e| invalid("twilio.business_number", e))?,
    }))
}

/// An IANA zone name. Legacy abbreviations such as `EST` parse in chrono-tz but are fixed
/// offsets with no DST, so only `Area/City` names (and UTC) are taken.
fn parse_tz(raw: &str, field: &str) -> Result<Tz, ConfigError> {
    let named = raw.contains('/') || raw == "UTC";
    named.then(|| raw.parse::<Tz>().ok()).flatten().ok_or_else(|| {
        invalid(
            field,
            format!("{raw:?} is not an IANA time zone name like \"America/Chicago\" (abbreviations such as EST have no DST)"),
        )
    })
}

fn parse_skills(raw: Vec<RawSkill>) -> Result<Catalog, ConfigError> {
    if raw.is_empty() {
        return Err(invalid(
            "skills",
            "list at least one [[skills]] entry with a key and names",
        ));
    }
    let mut seen = HashSet::new();
    let mut skills = Vec::new();
    for (i, s) in raw.into_iter().enumerate() {
        let field = format!("skills[{i}]");
        let key = SkillKey::parse(&s.key).map_err(|e| invalid(format!("{field}.key"), e))?;
        if !seen.insert(key.clone()) {
            return Err(invalid(
                format!("{field}.key"),
                format!("\"{key}\" is listed twice"),
            ));
        }
        let mut names = BTreeMap::new();
        for (code, name) in s.names {
            let locale = Locale::parse(&code).map_err(|e| invalid(format!("{field}.names"), e))?;
            if name.trim().is_empty() {
                return Err(invalid(
                    format!("{field}.names.{code}"),
                    "must not be empty",
                ));
            }
            names.insert(locale, name.trim().to_string());
        }
        skills.push(Skill { key, names });
    }
    Ok(Catalog::new(skills))
}

fn parse_skills_ref(raw: &[RawSkill]) -> Result<Vec<SkillKey>, ConfigError> {
    raw.iter()
        .enumerate()
        .map(|(i, s)| SkillKey::parse(&s.key).map_err(|e| invalid(format!("skills[{i}].key"), e)))
        .collect()
}

fn parse_customer(raw: RawCustomer, skills: &[SkillKey]) -> Result<CustomerLine, ConfigError> {
    let mut menu: Vec<MenuItem> = Vec::new();
    for (i, item) in raw.menu.into_iter().enumerate() {
        let field = |name: &str| format!("customer.menu[{i}].{name}");
        let mut chars = item.digit.chars();
        let digit = match (chars.next(), chars.next()) {
            (Some(d), None) if d.is_ascii_digit() => d,
            _ => {
                return Err(invalid(
                    field("digit"),
                    format!("{:?} must be one key, 0 to 9", item.digit),
                ));
            }
        };
        if menu.iter().any(|m| m.digit == digit) {
            return Err(invalid(field("digit"), format!("{digit} is used twice")));
        }
        let skill = SkillKey::parse(&item.skill).map_err(|e| invalid(field("skill"), e))?;
        if !skills.contains(&skill) {
            return Err(invalid(
                field("skill"),
                format!("\"{skill}\" is not one of the [[skills]]"),
            ));
        }
        let language = item
            .language
            .map(|l| Locale::parse(&l).map_err(|e| invalid(field("language"), e)))
            .transpose()?;
        menu.push(MenuItem {
            digit,
            skill,
            language,
        });
    }
    let hold_music_url = match raw.hold_music_url {
        Some(url) => {
            url::Url::parse(&url)
                .map_err(|e| invalid("customer.hold_music_url", format!("{url:?}: {e}")))?;
            url
        }
        None => DEFAULT_HOLD_MUSIC.to_string(),
    };
    let max_wait_secs = raw.max_wait_secs.unwrap_or(DEFAULT_MAX_WAIT_SECS);
    if !(10..=3600).contains(&max_wait_secs) {
        return Err(invalid(
            "customer.max_wait_secs",
            format!("{max_wait_secs} is not between 10 and 3600 seconds"),
        ));
    }
    Ok(CustomerLine {
        menu,
        hold_music_url,
        max_wait_secs,
    })
}

fn check_dispatch(dispatch: DispatchSettings) -> Result<DispatchSettings, ConfigError> {
    if !(5..=60).contains(&dispatch.ring_timeout_secs) {
        return Err(invalid(
            "dispatch.ring_timeout_secs",
            "must be 5 to 60 seconds",
        ));
    }
    if dispatch.missed_calls_before_offline == 0 {
        return Err(invalid(
            "dispatch.missed_calls_before_offline",
            "must be at least 1",
        ));
    }
    // Ringing plus answering machine detection must end before TaskRouter's reservation
    // timeout, or a reservation could be bridged after TaskRouter gave up on it.
    if dispatch.ring_timeout_secs + 60 > crate::core::effects::RESERVATION_TIMEOUT_SECS {
        return Err(invalid(
            "dispatch.ring_timeout_secs",
            "ring time plus AMD must fit in the 120 s reservation timeout",
        ));
    }
    Ok(dispatch)
}

fn parse_voicemail(raw: RawVoicemail) -> Result<Voicemail, ConfigError> {
    let notify = raw
        .notify
        .iter()
        .enumerate()
        .map(|(i, n)| {
            PhoneNumber::parse(n).map_err(|e| invalid(format!("voicemail.notify[{i}]"), e))
        })
        .collect::<Result<_, _>>()?;
    let max_length_secs = raw.max_length_secs.unwrap_or(120);
    if !(10..=600).contains(&max_length_secs) {
        return Err(invalid(
            "voicemail.max_length_secs",
            "must be 10 to 600 seconds",
        ));
    }
    let link_ttl_hours = raw.link_ttl_hours.unwrap_or(72);
    if !(1..=24 * 30).contains(&link_ttl_hours) {
        return Err(invalid(
            "voicemail.link_ttl_hours",
            "must be 1 to 720 hours",
        ));
    }
    Ok(Voicemail {
        notify,
        max_length_secs,
        transcribe: raw.transcribe.unwrap_or(true),
        link_ttl: chrono::TimeDelta::hours(i64::from(link_ttl_hours)),
    })
}

fn parse_callbacks(raw: RawCallbacks, time_zone: Tz) -> Result<CallbackSettings, ConfigError> {
    let key_text = raw.key.unwrap_or_else(|| "1".to_string());
    let mut chars = key_text.chars();
    let key = match (chars.next(), chars.next()) {
        (Some(k), None) if k.is_ascii_digit() || k == '*' || k == '#' => k,
        _ => {
            return Err(invalid(
                "callbacks.key",
                format!("{key_text:?} must be one key: 0 to 9, * or #"),
            ));
        }
    };
    let attempts = raw.attempts.unwrap_or(2);
    if !(1..=10).contains(&attempts) {
        return Err(invalid("callbacks.attempts", "must be 1 to 10 calls"));
    }
    let retry_after_mins = raw.retry_after_mins.unwrap_or(30);
    if !(1..=24 * 60).contains(&retry_after_mins) {
        return Err(invalid(
            "callbacks.retry_after_mins",
            "must be 1 to 1440 minutes",
        ));
    }
    let hours_text = raw
        .hours
        .unwrap_or_else(|| DEFAULT_CALLBACK_HOURS.to_string());
    let hours = if hours_text.trim().is_empty() || hours_text.trim() == "any" {
        None
    } else {
        match crate::core::schedule::parse(&hours_text) {
            Ok(crate::core::schedule::Request::Set(week)) => Some(week),
            Ok(crate::core::schedule::Request::Clear) => None,
            Err(e) => {
                return Err(invalid(
                    "callbacks.hours",
                    format!("{hours_text:?}: {e} (like \"mon-fri 9am-6pm\", or \"any\")"),
                ));
            }
        }
    };
    Ok(CallbackSettings {
        enabled: raw.enabled.unwrap_or(true),
        key,
        priority: raw.priority.unwrap_or(0),
        attempts,
        retry_after: chrono::TimeDelta::minutes(i64::from(retry_after_mins)),
        hours,
        time_zone,
    })
}

fn parse_roster(
    raw: Vec<RawWorker>,
    language: Locale,
    time_zone: Tz,
) -> Result<Vec<RosterEntry>, ConfigError> {
    let mut seen = HashSet::new();
    let mut roster = Vec::new();
    for (i, w) in raw.into_iter().enumerate() {
        let field = |name: &str| format!("workers[{i}].{name}");
        let phone = PhoneNumber::parse(w.phone.trim()).map_err(|e| invalid(field("phone"), e))?;
        if !seen.insert(phone.clone()) {
            return Err(invalid(field("phone"), format!("{phone} is listed twice")));
        }
        let name = w.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(invalid(field("name"), "must be 1 to 40 characters"));
        }
        let language = match w.language {
            Some(code) => Locale::parse(&code).map_err(|e| invalid(field("language"), e))?,
            None => language,
        };
        let languages = match w.languages {
            Some(codes) => codes
                .iter()
                .map(|c| Locale::parse(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid(field("languages"), e))?,
            None => vec![language],
        };
        let time_zone = match w.time_zone {
            Some(tz) => parse_tz(&tz, &field("time_zone"))?,
            None => time_zone,
        };
        roster.push(RosterEntry {
            phone,
            name,
            language,
            languages,
            time_zone,
        });
    }
    Ok(roster)
}

/// A random token for running against the simulator when none is set; it is printed at
/// start-up so a developer can sign requests by hand.
fn development_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [[skills]]
        key = "billing"
        names = { en = "Billing", es = "Facturación" }
    "#;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse(text, |_| None)
    }

    #[test]
    fn errors_show_the_value_as_written_not_how_the_code_holds_it() {
        let typo =
            format!("{MINIMAL}\n[customer]\nmenu = [{{ digit = \"1\", skill = \"suport\" }}]\n");
        let e = parse(&typo).unwrap_err().to_string();
        assert_eq!(
            e,
            "customer.menu[0].skill: \"suport\" is not one of the [[skills]]"
        );
        let twice = format!("{MINIMAL}{MINIMAL}");
        let e = parse(&twice).unwrap_err().to_string();
        assert_eq!(e, "skills[1].key: \"billing\" is listed twice");
    }

    #[test]
    fn callbacks_are_on_by_default_within_daytime_hours_and_checked_when_set() {
        let settings = parse(MINIMAL).unwrap();
        let callbacks = &settings.callbacks;
        assert!(callbacks.enabled);
        assert_eq!((callbacks.key, callbacks.attempts), ('1', 2));
        let zone = settings.default_time_zone;
        let at = |h: u32| {
            chrono::TimeZone::with_ymd_and_hms(&zone, 2026, 3, 2, h, 0, 0)
                .unwrap()
                .to_utc()
        };
        assert_eq!(callbacks.open_at(at(10)), at(10));
        assert_eq!(
            callbacks.open_at(at(6)),
            at(9),
            "not before 9 in the morning"
        );

        let with = |section: &str| parse(&format!("{MINIMAL}\n[callbacks]\n{section}\n"));
        let any = with("hours = \"any\"\nkey = \"*\"").unwrap();
        assert_eq!(any.callbacks.hours, None);
        assert_eq!(any.callbacks.key, '*');
        for (bad, field) in [
            ("key = \"12\"", "callbacks.key"),
            ("attempts = 0", "callbacks.attempts"),
            ("retry_after_mins = 0", "callbacks.retry_after_mins"),
            ("hours = \"whenever\"", "callbacks.hours"),
        ] {
            let e = with(bad).unwrap_err().to_string();
            assert!(e.starts_with(field), "{bad}: {e}");
        }
    }

    #[test]
    fn postgres_needs_its_url_from_the_environment() {
        let text = format!("{MINIMAL}\n[store]\nbackend = \"postgres\"\n");
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.starts_with(ENV_DATABASE_URL), "{e}");
        let settings = Settings::parse(&text, |k| {
            (k == ENV_DATABASE_URL).then(|| "postgres://root@127.0.0.1/test".into())
        })
        .unwrap();
        assert!(matches!(settings.store, StoreChoice::Postgres { .. }));
        assert!(matches!(parse(MINIMAL).unwrap().store, StoreChoice::Sled));
        let e = parse(&format!("{MINIMAL}\n[store]\nbackend = \"mysql\"\n")).unwrap_err();
        assert!(e.to_string().starts_with("store.backend"), "{e}");
    }

    #[test]
    fn a_shared_simulator_must_be_on_this_machine_or_named_for_it() {
        let with = |url: &str| {
            let text = format!("{MINIMAL}\n[simulator]\nurl = \"{url}\"\n");
            Settings::parse(&text, |k| (k == ENV_AUTH_TOKEN).then(|| "token".into()))
        };
        for ok in [
            "http://127.0.0.1:9000",
            "http://localhost:9000/",
            "http://[::1]:9000",
            "http://simulator:9000",
            "http://twilio-sim.internal:9000",
        ] {
            let settings = with(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(settings.simulator_url.is_some());
        }
        for refused in [
            "http://api.twilio.com",
            "http://10.0.0.5:9000",
            "ftp://127.0.0.1",
        ] {
            let e = with(refused).unwrap_err().to_string();
            assert!(e.starts_with("simulator.url"), "{refused}: {e}");
        }
        let text = format!("{MINIMAL}\n[simulator]\nurl = \"http://127.0.0.1:9000\"\n");
        let e = parse(&text).unwrap_err().to_string();
        assert!(
            e.starts_with(ENV_AUTH_TOKEN),
            "the shared simulator's token: {e}"
        );
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../shiftline.example.toml");
        let settings = Settings::parse(text, |_| None).unwrap();
        assert_eq!(settings.catalog.len(), 3);
        assert_eq!(settings.roster.len(), 2);
        assert!(
            settings.twilio.is_none(),
            "the example runs on the simulator"
        );
        assert!(settings.auth_token_generated);
    }

    #[test]
    fn errors_name_the_field() {
        let bad_phone = format!("{MINIMAL}\n[[workers]]\nphone = \"555-1234\"\nname = \"Ana\"\n");
        assert!(
            error(&bad_phone).starts_with("workers[0].phone:"),
            "{}",
            error(&bad_phone)
        );
        let bad_tz = format!("{MINIMAL}\n[defaults]\ntime_zone = \"EST\"\n");
        assert!(error(&bad_tz).starts_with("defaults.time_zone:"));
        let bad_lang = format!(
            "{MINIMAL}\n[[workers]]\nphone = \"+15550001111\"\nname = \"Ana\"\nlanguage = \"fr\"\n"
        );
        assert!(error(&bad_lang).starts_with("workers[0].language:"));
        let bad_key = "[[skills]]\nkey = \"Tier-2\"\n";
        assert!(error(bad_key).starts_with("skills[0].key:"));
        let typo = format!("{MINIMAL}\n[server]\nlisten_addr = \"0.0.0.0:80\"\n");
        assert!(error(&typo).contains("listen_addr"), "{}", error(&typo));
    }

    #[test]
    fn the_whisper_names_the_city_unless_told_otherwise() {
        use crate::core::dispatch::whisper::WhisperCaller;
        assert_eq!(
            parse(MINIMAL).unwrap().dispatch.whisper_caller,
            WhisperCaller::City
        );
        for (text, expected) in [
            ("city", WhisperCaller::City),
            ("last_digits", WhisperCaller::LastDigits),
            ("none", WhisperCaller::Nothing),
        ] {
            let config = format!("{MINIMAL}\n[dispatch]\nwhisper_caller = \"{text}\"\n");
            assert_eq!(parse(&config).unwrap().dispatch.whisper_caller, expected);
        }
        let bad = format!("{MINIMAL}\n[dispatch]\nwhisper_caller = \"number\"\n");
        let message = error(&bad);
        assert!(
            message.contains("whisper_caller") && message.contains("last_digits"),
            "{message}"
        );
    }

    #[test]
    fn a_twilio_account_needs_its_auth_token_from_the_environment() {
        let text = format!(
            "{MINIMAL}\n[twilio]\naccount_sid = \"AC{0}\"\nworkspace_sid = \"WS{0}\"\nintake_number = \"+15550100000\"\nbusiness_number = \"+15550100001\"\n",
            "0".repeat(32)
        );
        assert!(error(&text).starts_with(ENV_AUTH_TOKEN));
        let settings =
            Settings::parse(&text, |k| (k == ENV_AUTH_TOKEN).then(|| "secret".into())).unwrap();
        assert!(!settings.auth_token_generated);
    }

    #[test]
    fn duplicate_workers_and_skills_are_refused() {
        let dup = format!("{MINIMAL}\n[[skills]]\nkey = \"billing\"\n");
        assert!(error(&dup).contains("listed twice"));
        let w = "[[workers]]\nphone = \"+15550001111\"\nname = \"Ana\"\n";
        assert!(error(&format!("{MINIMAL}\n{w}{w}")).starts_with("workers[1].phone"));
    }

    #[test]
    fn a_short_enrolment_pin_is_refused() {
        let e = Settings::parse(MINIMAL, |k| (k == ENV_ENROLMENT_PIN).then(|| "12".into()))
            .unwrap_err();
        assert!(e.to_string().starts_with(ENV_ENROLMENT_PIN));
    }
}
