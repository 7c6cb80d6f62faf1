//! `shiftline demo`: the whole product on one machine, without a Twilio account.
//!
//! It starts shiftline the way `serve` does without a `[twilio]` section (the sled store,
//! the built-in Twilio simulator, the TaskRouter workspace set up, outbox delivery, the
//! simulator's timers), on a free loopback port, then reads commands from standard input:
//! text as a rostered worker, call the business line as a customer, choose how a worker's
//! phone answers, let time pass, look at the state. Meanwhile a background task prints what
//! the simulated Twilio saw, as it happens: REST requests, the call log, texts sent,
//! TaskRouter workers, dispatch outcomes, voicemails.
//!
//! A worker's text goes over HTTP to the running server, signed the way Twilio signs it, so
//! the demo takes the same path a real webhook does.
//!
//! Standard input may be a terminal (a prompt; events print as they come) or a pipe (no
//! prompt, commands echoed; after each command the demo waits until the service and the
//! simulator have done everything that is due, so a piped script gives a stable
//! transcript). The demo runs on the real clock: phones ring for real seconds, so scripts
//! use `wait` to let a call play out.

mod crowd;
pub mod intake_line;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::Local;
use regex::Regex;
use tokio::sync::{Mutex, mpsc, oneshot};
use twilio_sim::{Answer, RecordedRequest, Simulator};

use crate::app::{self, Application, StartError};
use crate::clock::{Clock, SystemClock};
use crate::config::{ConfigError, ENV_AUTH_TOKEN, Settings};
use crate::core::dispatch::DispatchRecord;
use crate::core::domain::PhoneNumber;
use crate::core::intake::machines::Presence;
use crate::core::intake::record::WorkerRecord;
use crate::outbox::Delivery;
use crate::store::Store;
use crate::web::AppState;
use crowd::{Crowd, Tally};

/// The configuration `shiftline demo` uses when none is given and it is in the current
/// directory.
pub const EXAMPLE_CONFIG: &str = "shiftline.example.toml";
/// The same file, built in, so the demo also runs outside a checkout.
const BUILT_IN_EXAMPLE: &str = include_str!("../../shiftline.example.toml");
/// Signs the demo's webhooks and the simulator's callbacks. A fixed, made-up token: the
/// demo never talks to Twilio, and a real token from the environment has no business
/// signing requests to a toy.
pub const DEMO_AUTH_TOKEN: &str = "shiftline-demo-token";
/// Who calls the business line when `call` does not say.
const DEFAULT_CALLER: &str = "+15559990000";
/// `wait` sleeps at most this long, so a typo cannot hang a script for an hour.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// How long the demo waits for the service and the simulator to go quiet after a command.
const SETTLE_LIMIT: Duration = Duration::from_secs(10);
/// How often the background tasks fire the simulator's timers and print new events.
const TICK: Duration = Duration::from_millis(250);
/// How a rostered worker's phone answers until `phone` says otherwise: a person who
/// presses 1, so a first call reaches someone.
const DEFAULT_PHONE: &str = "human:1";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Config { path: String, source: ConfigError },
    #[error("cannot create the data directory {dir}: {source}")]
    DataDir { dir: String, source: std::io::Error },
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot build the HTTP client: {0}")]
    Http(reqwest::Error),
}

/// Settings read for the demo, and where they came from.
pub struct Loaded {
    pub settings: Settings,
    /// A path, or a note that the built-in example is used.
    pub source: String,
}

/// Reads `config`; without one, `shiftline.example.toml` in the current directory, or the
/// built-in copy of it.
pub fn load_settings(config: Option<&Path>) -> Result<Loaded, DemoError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| DemoError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let (text, source) = match config {
        Some(path) => (read(path)?, path.display().to_string()),
        None if Path::new(EXAMPLE_CONFIG).is_file() => {
            (read(Path::new(EXAMPLE_CONFIG))?, EXAMPLE_CONFIG.to_string())
        }
        None => (
            BUILT_IN_EXAMPLE.to_string(),
            format!("the built-in {EXAMPLE_CONFIG}"),
        ),
    };
    let settings = parse_settings(&text).map_err(|source_error| DemoError::Config {
        path: source.clone(),
        source: source_error,
    })?;
    Ok(Loaded { settings, source })
}

/// Parses a configuration for the demo: any `[twilio]` section is dropped (the demo always
/// runs on the simulator) and webhooks are signed with [`DEMO_AUTH_TOKEN`]; the API token
/// and enrolment PIN still come from the environment.
pub fn parse_settings(text: &str) -> Result<Settings, ConfigError> {
    let mut settings = Settings::parse(text, |name| {
        if name == ENV_AUTH_TOKEN {
            Some(DEMO_AUTH_TOKEN.to_string())
        } else {
            std::env::var(name).ok()
        }
    })?;
    settings.twilio = None;
    settings.auth_token_generated = false;
    Ok(settings)
}

/// What `run` is told beyond the settings.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Keep the store here; None: a temporary directory, removed on exit.
    pub data_dir: Option<PathBuf>,
    /// Where the settings came from, for the banner.
    pub source: String,
    /// The simulated Twilio answers every REST request this much later (Twilio's real
    /// speed is 100-500 ms); None keeps the configuration's `[simulator]` knobs.
    pub twilio_latency_ms: Option<u64>,
    /// This many more workers on one shift starting a minute or two after start (see
    /// `crowd`).
    pub crowd: usize,
}

/// Runs the demo until `quit`, the end of standard input or Ctrl-C.
pub async fn run(mut settings: Settings, options: Options) -> Result<(), DemoError> {
    let (dir, temporary) = match &options.data_dir {
        Some(dir) => (dir.clone(), false),
        None => (temporary_dir(), true),
    };
    std::fs::create_dir_all(&dir).map_err(|source| DemoError::DataDir {
        dir: dir.display().to_string(),
        source,
    })?;
    settings.data_dir = dir.clone();
    let result = run_in(settings, &options, temporary).await;
    if temporary {
        // Best effort: a leftover directory in the temp dir harms nobody.
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn temporary_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::env::temp_dir().join(format!("shiftline-demo-{}-{nanos}", std::process::id()))
}

async fn run_in(
    mut settings: Settings,
    options: &Options,
    temporary: bool,
) -> Result<(), DemoError> {
    // The port is chosen first, so the URL the simulator calls back and signs is known
    // before anything is built from the settings.
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let listen_error = |source| StartError::Listen {
        addr: loopback.to_string(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(loopback)
        .await
        .map_err(listen_error)?;
    let addr = listener.local_addr().map_err(listen_error)?;
    let crowd = prepare(&mut settings, options, addr);

    // As `serve` does with no [twilio] section.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sim = app::start_simulator(&settings, clock.clone()).await?;
    // The service keeps its roster in the store only; the demo's is a few workers.
    let roster = settings.roster.clone();
    let app = Application::build(settings, clock, Some(sim.clone())).await?;
    // Customers' calls are enqueued to the workflow this sets up; without it they go to
    // voicemail.
    let changes = app.set_up_workspace().await?;
    sim.settle().await;
    // The set-up requests are summed up in the banner rather than listed.
    sim.take_requests();

    let state = app.service.clone();
    let delivery = app.delivery.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    // The outbox is delivered in the background as `serve` does; `settle` delivers too,
    // and waits for what the background holds (a lane is claimed by one of them at a time).
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = app.run_until_stopped(listener, shutdown, true).await {
            tracing::error!(%error, "the demo server stopped");
        }
    });

    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(DemoError::Http)?;
    let interactive = std::io::stdin().is_terminal();
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let crowd_phones = crowd.as_ref().map(|c| c.phones.clone()).unwrap_or_default();
    let mut watcher = Watcher::new(
        vec![state.settings.public_url.clone(), sim.base_url()],
        crowd,
    );
    // What is already there is the starting point, not news.
    watcher.look(&state, &sim).await;
    let demo = Arc::new(Demo {
        state,
        roster,
        sim,
        delivery,
        watcher: Mutex::new(watcher),
        http,
        // MessageSids unique across runs, so a kept store never mistakes a new text for a
        // replayed one.
        sid_prefix: format!("SM{run_id:016x}"),
        texts_sent: AtomicU64::new(0),
        crowd: crowd_phones,
        last_call: std::sync::Mutex::new(None),
        intake_call: Mutex::new(None),
        out: Out::new(interactive),
    });
    for worker in &demo.roster {
        if let Ok(answer) = Answer::parse(DEFAULT_PHONE) {
            demo.sim.script_phone(worker.phone.as_str(), vec![answer]);
        }
    }
    demo.banner(&options.source, temporary, changes);
    demo.enrol_crowd().await;

    let background = vec![
        tokio::spawn(tick_simulator(demo.clone())),
        tokio::spawn(print_events(demo.clone())),
    ];
    converse(&demo, interactive).await;

    for task in background {
        task.abort();
        let _ = task.await;
    }
    let _ = stop.send(());
    if tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .is_err()
    {
        tracing::warn!("the demo server did not stop within 5 s");
    }
    if let Err(error) = demo.state.store.durable().await {
        tracing::warn!(%error, "the store could not be made durable");
    }
    demo.out.event("stopped");
    Ok(())
}

/// The demo's settings: the service on `addr`, the simulator's latency, and the
/// `--crowd`'s workers added to the roster (returned, to follow them).
fn prepare(settings: &mut Settings, options: &Options, addr: SocketAddr) -> Option<Crowd> {
    settings.listen = addr;
    settings.public_url = format!("http://{addr}");
    if let Some(ms) = options.twilio_latency_ms {
        settings.simulator.latency_ms = ms;
    }
    (options.crowd > 0).then(|| {
        let crowd = Crowd::new(
            options.crowd,
            chrono::Utc::now(),
            settings.default_time_zone,
        );
        settings
            .roster
            .extend(crowd.roster(settings.default_time_zone));
        crowd
    })
}

/// Prompts, reads a command and runs it, until the input ends, Ctrl-C or `quit`.
async fn converse(demo: &Arc<Demo>, interactive: bool) {
    let mut lines = read_stdin();
    loop {
        demo.out.prompt();
        let line = tokio::select! {
            line = lines.recv() => line,
            _ = tokio::signal::ctrl_c() => None,
        };
        demo.out.left_prompt();
        let Some(line) = line else {
            if interactive {
                // Off the prompt's line after Ctrl-C or Ctrl-D.
                demo.out.plain(&[String::new()]);
            }
            demo.finish().await;
            return;
        };
        if !demo.handle(&line).await {
            return;
        }
    }
}

/// Lines from standard input, read on a plain thread: a blocked read there cannot hold up
/// the runtime's shutdown. The channel closes at the end of input.
fn read_stdin() -> mpsc::Receiver<String> {
    let (lines, receiver) = mpsc::channel(64);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match stdin.read_until(b'\n', &mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buffer)
                        .trim_end_matches(['\r', '\n'])
                        .to_string();
                    if lines.blocking_send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    receiver
}

/// Fires the simulator's timers (phones answering, ring and Gather timeouts, talk ending).
async fn tick_simulator(demo: Arc<Demo>) {
    loop {
        tokio::time::sleep(TICK).await;
        demo.sim.tick().await;
    }
}

/// Prints what happened between commands and while `wait` sleeps.
async fn print_events(demo: Arc<Demo>) {
    loop {
        tokio::time::sleep(TICK).await;
        let lines = demo.watcher.lock().await.look(&demo.state, &demo.sim).await;
        demo.out.events(&lines);
    }
}

struct Demo {
    state: AppState,
    /// The configured workers (and the crowd), as listed in the configuration.
    roster: Vec<crate::config::RosterEntry>,
    sim: Simulator,
    delivery: Delivery,
    /// What has been printed so far. A command holds it while it runs, so that what it set
    /// off is printed after it, in one piece.
    watcher: Mutex<Watcher>,
    http: reqwest::Client,
    sid_prefix: String,
    texts_sent: AtomicU64,
    /// The crowd's phones (`--crowd`), left out of `status`'s table.
    crowd: BTreeSet<String>,
    /// The CallSid of the last customer call, for `hangup`.
    last_call: std::sync::Mutex<Option<String>>,
    /// The worker's call to the intake line in progress, for `press` and `say`.
    intake_call: Mutex<Option<intake_line::IntakeCall>>,
    out: Out,
}

/// One line of input, understood.
#[derive(Clone, Debug, PartialEq)]
enum Command {
    Help,
    Quit,
    Status,
    Hangup,
    Wait(Duration),
    /// Until just after the `--crowd`'s shift starts.
    WaitForCrowd,
    Text {
        who: String,
        text: String,
    },
    Call {
        target: Option<String>,
        from: Option<String>,
    },
    Phone {
        who: String,
        answers: Vec<String>,
    },
    /// A worker calls the intake line.
    Dial {
        who: String,
    },
    /// At the intake line's prompt: keys or words.
    Respond(intake_line::Input),
}

fn parse(line: &str) -> Result<Command, String> {
    // `ana> on`, `ana>on`, `+15550003333> join 1234 Sam`: a single word before the `>`.
    if let Some((who, text)) = line.split_once('>') {
        let who = who.trim();
        if !who.is_empty() && !who.contains(char::is_whitespace) {
            return Ok(Command::Text {
                who: who.to_string(),
                text: text.trim().to_string(),
            });
        }
    }
    let (first, rest) = match line.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim()),
        None => (line, ""),
    };
    let words: Vec<&str> = rest.split_whitespace().collect();
    match first.to_lowercase().as_str() {
        "help" | "?" => Ok(Command::Help),
        "quit" | "exit" => Ok(Command::Quit),
        "status" => Ok(Command::Status),
        "hangup" | "hang-up" => Ok(Command::Hangup),
        "wait" if rest.eq_ignore_ascii_case("crowd") => Ok(Command::WaitForCrowd),
        "wait" => parse_wait(rest).map(Command::Wait),
        "call" => {
            let (target, from) = match words.as_slice() {
                [] => (None, None),
                [target] => (Some(target), None),
                [target, from] if from.starts_with('+') => (Some(target), Some(from)),
                [target, word, from] if word.eq_ignore_ascii_case("from") => {
                    (Some(target), Some(from))
                }
                _ => return Err("usage: call <skill or digit> [from +1555...]".into()),
            };
            Ok(Command::Call {
                target: target.map(|t| t.to_string()),
                from: from.map(|f| f.to_string()),
            })
        }
        "phone" => {
            let answers: Vec<String> = words
                .iter()
                .skip(1)
                .flat_map(|w| w.split(','))
                .map(|a| a.trim().to_lowercase())
                .filter(|a| !a.is_empty())
                .collect();
            match words.first() {
                Some(who) if !answers.is_empty() => Ok(Command::Phone {
                    who: who.to_string(),
                    answers,
                }),
                _ => Err(
                    "usage: phone <worker> <answer>[, <answer>...], like phone ana busy, human:1"
                        .into(),
                ),
            }
        }
        "dial" => match words.as_slice() {
            [who] => Ok(Command::Dial {
                who: who.to_string(),
            }),
            _ => Err("usage: dial <worker>, like dial ana (a call to the intake line)".into()),
        },
        "press" if !rest.is_empty() => {
            if !rest
                .chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
            {
                return Err("usage: press <keys>, like press 3 (digits, * and #)".into());
            }
            Ok(Command::Respond(intake_line::Input::Press(
                rest.to_string(),
            )))
        }
        "say" if !rest.is_empty() => {
            Ok(Command::Respond(intake_line::Input::Say(rest.to_string())))
        }
        // `ben skills`: a worker's name, then the text.
        _ => Ok(Command::Text {
            who: first.to_string(),
            text: rest.to_string(),
        }),
    }
}

/// `8`, `8s`, `1.5s`, `2m`.
fn parse_wait(arg: &str) -> Result<Duration, String> {
    let arg = arg.trim().to_lowercase();
    let (number, scale) = if let Some(n) = arg.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = arg.strip_suffix('s') {
        (n, 1.0)
    } else {
        (arg.as_str(), 1.0)
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| Duration::from_secs_f64((n * scale).min(MAX_WAIT.as_secs_f64() + 1.0)))
        .ok_or_else(|| format!("usage: wait <N>[s|m], like wait 8s (not {arg:?})"))
}

const HELP: &str = "\
commands (case does not matter):
  ana> on                      text as a worker, by name or +number (also: ana on, ben skills)
  call billing [from +1555…]   a customer calls the business line and picks a skill (or: call 2)
  phone ana busy, human:1      how ana's phone answers the next calls, in order; the last repeats:
                               human[:digits[:ring s|slow[:talk s]]], slow-human[:digits],
                               voicemail[:ring s], busy, no-answer, fail, fax
  hangup                       the last caller hangs up
  dial ana                     ana calls the intake line; then at its prompts:
  press 3 | say en línea       keys, or words as speech recognition heard them
  wait 8s                      let time pass (s or m, at most 2 m) while events print
  wait crowd                   with --crowd: until just after the crowd's shift starts
  status                       workers, TaskRouter, outbox and voicemails
  help                         this list
  quit                         stop (also: exit, Ctrl-D)";

impl Demo {
    fn banner(&self, source: &str, temporary: bool, setup_changes: usize) {
        let settings = &self.state.settings;
        let store = if temporary {
            format!("{} (removed on exit)", settings.data_dir.display())
        } else {
            settings.data_dir.display().to_string()
        };
        let menu = &settings.customer.menu;
        let skills: Vec<String> = settings
            .catalog
            .skills()
            .iter()
            .map(|skill| match menu.iter().find(|m| m.skill == skill.key) {
                Some(item) if menu.len() > 1 => format!("{} (key {})", skill.key, item.digit),
                _ => skill.key.to_string(),
            })
            .collect();
        let mut workers: Vec<String> = self
            .roster
            .iter()
            .filter(|w| !self.crowd.contains(w.phone.as_str()))
            .map(|w| format!("{} {} ({})", w.name, w.phone, w.language))
            .collect();
        if !self.crowd.is_empty() {
            workers.push(format!("and a crowd of {}", self.crowd.len()));
        }
        let lines = [
            "shiftline demo: the service and a simulated Twilio on this machine, no account needed"
                .to_string(),
            format!("config:    {source}"),
            format!("store:     {store}"),
            format!(
                "service:   {}  (webhooks signed with the auth token {DEMO_AUTH_TOKEN:?})",
                settings.public_url
            ),
            format!(
                "simulator: {}  (TaskRouter workspace set up, {setup_changes} change(s))",
                self.sim.base_url()
            ),
            format!(
                "numbers:   workers text {}, customers call {}",
                settings.intake_number(),
                settings.business_number()
            ),
            format!("workers:   {}", workers.join(", ")),
            format!("skills:    {}", skills.join(", ")),
            format!(
                "phones:    every worker's phone answers {DEFAULT_PHONE} (a person who presses 1) until `phone` says otherwise"
            ),
            "type `help` for the commands".to_string(),
        ];
        self.out.plain(&lines);
    }

    /// Runs one line; false when it is time to stop.
    async fn handle(&self, line: &str) -> bool {
        let line = line.trim();
        if line.is_empty() {
            return true;
        }
        if !self.out.interactive {
            // Nobody sees a piped command being typed; the transcript shows it.
            self.out.plain(&[format!("> {line}")]);
        }
        if line.starts_with('#') {
            return true;
        }
        let command = match parse(line) {
            Ok(command) => command,
            Err(problem) => {
                self.out.event(&format!("error: {problem}"));
                return true;
            }
        };
        match command {
            Command::Help => {
                self.out
                    .plain(&HELP.lines().map(str::to_string).collect::<Vec<_>>());
                return true;
            }
            Command::Quit => {
                self.finish().await;
                return false;
            }
            _ => {}
        }
        let mut watcher = self.watcher.lock().await;
        // Whatever happened before this command is printed before it.
        let earlier = watcher.look(&self.state, &self.sim).await;
        self.out.events(&earlier);
        let outcome = match command {
            Command::Status => Ok(self.status().await),
            Command::Hangup => Ok(self.hang_up()),
            Command::Text { who, text } => self.text(&who, &text).await,
            Command::Call { target, from } => self.call(target.as_deref(), from.as_deref()),
            Command::Phone { who, answers } => self.phone(&who, &answers).await,
            Command::Dial { who } => self.dial(&who).await,
            Command::Respond(input) => self.respond(input).await,
            Command::WaitForCrowd | Command::Wait(_) => {
                let span = match (&command, &watcher.crowd) {
                    (Command::Wait(span), _) => *span,
                    (_, Some(crowd)) => (crowd.starts.to_utc() - chrono::Utc::now()
                        + chrono::TimeDelta::milliseconds(300))
                    .to_std()
                    .unwrap_or_default(),
                    (_, None) => {
                        self.out
                            .event("error: there is no crowd (start the demo with --crowd N)");
                        return true;
                    }
                };
                let capped = span.min(MAX_WAIT);
                let mut lines = vec![format!("... {} s pass", capped.as_secs_f64())];
                if span > MAX_WAIT {
                    lines.push("(a wait is at most 2 minutes)".to_string());
                }
                self.out.events(&lines);
                // The background printer shows what happens meanwhile, as it happens.
                drop(watcher);
                let interrupted = tokio::select! {
                    _ = tokio::time::sleep(capped) => false,
                    _ = tokio::signal::ctrl_c() => true,
                };
                if interrupted {
                    self.finish().await;
                    return false;
                }
                watcher = self.watcher.lock().await;
                if command == Command::WaitForCrowd {
                    // The burst has just begun: back to the prompt without waiting for
                    // it to end, so the next command (a call) lands in the middle of it.
                    return true;
                }
                Ok(Vec::new())
            }
            Command::Help | Command::Quit => Ok(Vec::new()),
        };
        match outcome {
            Ok(lines) => self.out.events(&lines),
            Err(problem) => {
                self.out.event(&format!("error: {problem}"));
                return true;
            }
        }
        self.settle().await;
        let lines = watcher.look(&self.state, &self.sim).await;
        self.out.events(&lines);
        true
    }

    /// Lets what is due play out and prints it: the end of the demo.
    async fn finish(&self) {
        let mut watcher = self.watcher.lock().await;
        self.settle().await;
        let lines = watcher.look(&self.state, &self.sim).await;
        self.out.events(&lines);
    }

    /// Waits until the outbox and the simulator have nothing left to do now: delivers what
    /// is due, fires the simulator's due timers, waits for its callbacks to shiftline (which
    /// may write new outbox entries), until two rounds in a row deliver nothing.
    async fn settle(&self) {
        let rounds = async {
            let mut quiet = 0;
            for _ in 0..50 {
                let report = match self.delivery.deliver_due().await {
                    Ok(report) => report,
                    Err(error) => {
                        tracing::error!(%error, "outbox: cannot read the store");
                        return;
                    }
                };
                // The background delivery may hold what was due: wait for it too.
                let others = self.delivery.idle().await;
                self.sim.tick().await;
                self.sim.settle().await;
                if report.delivered == 0 && report.parked == 0 && !others {
                    quiet += 1;
                    if quiet == 2 {
                        return;
                    }
                } else {
                    quiet = 0;
                }
            }
        };
        if tokio::time::timeout(SETTLE_LIMIT, rounds).await.is_err() {
            self.out.event("(still busy after 10 s; going on)");
        }
    }

    /// A worker by name (or first name), or any +number.
    async fn worker(&self, who: &str) -> Result<(PhoneNumber, String), String> {
        let records = self
            .state
            .store
            .workers()
            .await
            .map_err(|e| format!("cannot read the store: {e}"))?;
        if who.starts_with('+') {
            let phone = PhoneNumber::parse(who)?;
            let name = records
                .iter()
                .find(|r| r.phone == phone)
                .map(|r| r.name.clone())
                .unwrap_or_else(|| phone.to_string());
            return Ok((phone, name));
        }
        let wanted = who.to_lowercase();
        let first_name = |r: &WorkerRecord| {
            r.name
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_lowercase()
        };
        records
            .iter()
            .find(|r| r.name.to_lowercase() == wanted)
            .or_else(|| records.iter().find(|r| first_name(r) == wanted))
            .map(|r| (r.phone.clone(), r.name.clone()))
            .ok_or_else(|| {
                let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
                format!(
                    "{who:?} is neither a command nor a worker (workers: {}; type help)",
                    names.join(", ")
                )
            })
    }

    /// A signed SMS webhook to the running server, as Twilio would send it.
    async fn text(&self, who: &str, text: &str) -> Result<Vec<String>, String> {
        let (phone, name) = self.worker(who).await?;
        self.out.event(&format!("{name} texts {text:?}"));
        let body = match self.post_sms(&phone, text).await? {
            Ok(body) => body,
            Err(refused) => return Ok(vec![refused]),
        };
        let replies = messages(&body);
        if replies.is_empty() {
            return Ok(vec![format!("(no reply to {name})")]);
        }
        Ok(replies
            .iter()
            .flat_map(|reply| reply.lines())
            .map(|line| format!("reply to {name}: {line:?}"))
            .collect())
    }

    /// Sends a text from `phone` through the SMS webhook, signed as Twilio signs it: the
    /// TwiML answer, or (inside) the refusal when shiftline did not answer 2xx.
    async fn post_sms(
        &self,
        phone: &PhoneNumber,
        text: &str,
    ) -> Result<Result<String, String>, String> {
        let n = self.texts_sent.fetch_add(1, Ordering::Relaxed) + 1;
        let sid = format!("{}{n:016x}", self.sid_prefix);
        let settings = &self.state.settings;
        let params: Vec<(String, String)> = [
            ("MessageSid", sid.as_str()),
            ("SmsSid", sid.as_str()),
            ("AccountSid", app::SIMULATOR_ACCOUNT),
            ("From", phone.as_str()),
            ("To", settings.intake_number().as_str()),
            ("Body", text),
            ("NumMedia", "0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        self.post_signed("/twilio/sms", &params).await
    }

    /// Posts `params` to the webhook at `path`, signed as Twilio signs it: the answer, or
    /// (inside) the refusal when shiftline did not answer 2xx.
    async fn post_signed(
        &self,
        path: &str,
        params: &[(String, String)],
    ) -> Result<Result<String, String>, String> {
        let url = format!("{}{path}", self.state.settings.public_url);
        let signature = crate::twilio::signature::sign(DEMO_AUTH_TOKEN, &url, params);
        let response = self
            .http
            .post(&url)
            .header("x-twilio-signature", signature)
            .form(params)
            .send()
            .await
            .map_err(|e| format!("the webhook {path} failed: {e}"))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| format!("the answer of {path} could not be read: {e}"))?;
        if !status.is_success() {
            return Ok(Err(format!("HTTP {} {}", status.as_u16(), body.trim())));
        }
        Ok(Ok(body))
    }

    /// `dial ana`: a new call from the worker to the intake line, answered by its greeting.
    async fn dial(&self, who: &str) -> Result<Vec<String>, String> {
        let (from, name) = self.worker(who).await?;
        let n = self.texts_sent.fetch_add(1, Ordering::Relaxed) + 1;
        let call = intake_line::IntakeCall {
            name: name.clone(),
            from,
            call_sid: format!("CA{}{n:016x}", &self.sid_prefix[2..]),
            action: Some("/twilio/voice/intake".to_string()),
        };
        self.out.event(&format!("{name} calls the intake line"));
        *self.intake_call.lock().await = Some(call);
        self.at_the_prompt(None).await
    }

    /// `press 3`, `say en línea`: the worker answers the intake line's last prompt.
    async fn respond(&self, input: intake_line::Input) -> Result<Vec<String>, String> {
        self.at_the_prompt(Some(input)).await
    }

    /// Sends `input` (or nothing: the call's start) to the intake line's last prompt and
    /// says what the worker hears.
    async fn at_the_prompt(
        &self,
        input: Option<intake_line::Input>,
    ) -> Result<Vec<String>, String> {
        let mut current = self.intake_call.lock().await;
        let call = current
            .as_mut()
            .filter(|c| c.action.is_some())
            .ok_or("nobody is on the intake line (dial a worker first, like dial ana)")?;
        match &input {
            Some(intake_line::Input::Press(keys)) => {
                self.out.event(&format!("{} presses {keys}", call.name))
            }
            Some(intake_line::Input::Say(words)) => {
                self.out.event(&format!("{} says {words:?}", call.name))
            }
            None => {}
        }
        let to = self.state.settings.intake_number();
        let params = call.params(to.as_str(), input.as_ref());
        let path = call.action.clone().unwrap_or_default();
        let twiml = match self.post_signed(&path, &params).await? {
            Ok(body) => body,
            Err(refused) => return Ok(vec![refused]),
        };
        let heard = intake_line::hear(&twiml, &self.state.settings.public_url)?;
        let mut lines: Vec<String> = heard
            .said
            .iter()
            .map(|words| format!("{} hears {words:?}", call.name))
            .collect();
        call.action = if heard.hangs_up { None } else { heard.action };
        if call.action.is_none() {
            lines.push("the intake line hangs up".to_string());
        }
        Ok(lines)
    }

    /// Enrols `--crowd` by text, each worker's texts in order and many workers at once,
    /// and says when their shift starts.
    async fn enrol_crowd(self: &Arc<Self>) {
        let Some((phones, starts, texts)) = self
            .watcher
            .lock()
            .await
            .crowd
            .as_ref()
            .map(|c| (c.phones.clone(), c.starts, c.texts.clone()))
        else {
            return;
        };
        let mut enrolling = tokio::task::JoinSet::new();
        let mut failed = 0;
        for phone in &phones {
            if enrolling.len() >= 16
                && let Some(Ok(false)) = enrolling.join_next().await
            {
                failed += 1;
            }
            let (demo, texts) = (self.clone(), texts.clone());
            let Ok(phone) = PhoneNumber::parse(phone) else {
                continue;
            };
            enrolling.spawn(async move {
                for text in &texts {
                    if !matches!(demo.post_sms(&phone, text).await, Ok(Ok(_))) {
                        return false;
                    }
                }
                true
            });
        }
        failed += enrolling.join_all().await.iter().filter(|ok| !**ok).count();
        let wait = (starts.to_utc() - chrono::Utc::now()).num_seconds().max(0);
        self.out.event(&format!(
            "crowd: {} workers texted their skills and hours ({}){}; their shift starts at {} (in {wait} s): `wait {}s`, then `call billing` during the burst",
            phones.len(),
            texts[3],
            if failed > 0 { format!(", {failed} failed") } else { String::new() },
            starts.format("%H:%M"),
            wait + 2,
        ));
    }

    fn call(&self, target: Option<&str>, from: Option<&str>) -> Result<Vec<String>, String> {
        let settings = &self.state.settings;
        let from = PhoneNumber::parse(from.unwrap_or(DEFAULT_CALLER))?;
        let (digit, plan) = call_plan(settings, target)?;
        // The caller is a person who presses the key at the menu and talks a minute.
        self.sim.script_phone(
            from.as_str(),
            vec![Answer::Human {
                after_secs: 0,
                digits: digit.map(String::from),
                talk_secs: 60,
            }],
        );
        let business = settings.business_number();
        let url = format!("{}/twilio/voice/customer", settings.public_url);
        let call_sid = self.sim.place_call(from.as_str(), business.as_str(), &url);
        *self.last_call.lock().unwrap_or_else(|e| e.into_inner()) = Some(call_sid);
        Ok(vec![format!(
            "{from} calls the business line {business} ({plan})"
        )])
    }

    fn hang_up(&self) -> Vec<String> {
        let last = self
            .last_call
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match last {
            Some(call_sid) => {
                self.sim.hang_up(&call_sid);
                vec!["the caller hangs up".to_string()]
            }
            None => vec!["nobody has called yet: nothing to hang up".to_string()],
        }
    }

    async fn phone(&self, who: &str, answers: &[String]) -> Result<Vec<String>, String> {
        let (phone, name) = self.worker(who).await?;
        let parsed = answers
            .iter()
            .map(|a| Answer::parse(a))
            .collect::<Result<Vec<_>, _>>()?;
        self.sim.script_phone(phone.as_str(), parsed);
        let repeats = if answers.len() > 1 {
            " (the last one repeats)"
        } else {
            ""
        };
        Ok(vec![format!(
            "{name}'s phone will answer: {}{repeats}",
            answers.join(", ")
        )])
    }

    /// The workers table, the outbox and the voicemails.
    async fn status(&self) -> Vec<String> {
        let store = &self.state.store;
        let records = match store.workers().await {
            Ok(records) => records,
            Err(e) => return vec![format!("error: cannot read the store: {e}")],
        };
        let taskrouter = self.sim.workers();
        // A worker with an open reservation is taken (ringing or on a call) though their
        // activity stays Available, as in TaskRouter: say so.
        let taken: BTreeSet<String> = self
            .sim
            .tasks()
            .iter()
            .flat_map(|t| &t.reservations)
            .filter(|r| r.status == "pending" || r.status == "accepted")
            .map(|r| format!("{}:{}", r.worker_sid, r.status))
            .collect();
        let mut rows = vec![[
            "name".to_string(),
            "phone".to_string(),
            "presence".to_string(),
            "skills".to_string(),
            "TaskRouter".to_string(),
        ]];
        let crowd = records
            .iter()
            .filter(|r| self.crowd.contains(r.phone.as_str()))
            .count();
        for record in records
            .iter()
            .filter(|r| !self.crowd.contains(r.phone.as_str()))
        {
            let activity = taskrouter
                .iter()
                .find(|w| w.friendly_name == record.phone.as_str())
                .map(|w| {
                    if taken.contains(&format!("{}:accepted", w.sid)) {
                        format!("{} (on a call)", w.activity_name)
                    } else if taken.contains(&format!("{}:pending", w.sid)) {
                        format!("{} (being called)", w.activity_name)
                    } else {
                        w.activity_name.clone()
                    }
                })
                .unwrap_or_else(|| "-".to_string());
            rows.push([
                record.name.clone(),
                record.phone.to_string(),
                presence(record).to_string(),
                skills(record),
                activity,
            ]);
        }
        let mut widths = [0usize; 5];
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut lines: Vec<String> = rows
            .iter()
            .map(|row| {
                let cells: Vec<String> = row
                    .iter()
                    .zip(widths)
                    .map(|(cell, width)| format!("{cell:width$}"))
                    .collect();
                format!("  {}", cells.join("  ").trim_end())
            })
            .collect();
        lines.insert(0, "workers:".to_string());
        if crowd > 0 {
            let online = records
                .iter()
                .filter(|r| {
                    self.crowd.contains(r.phone.as_str()) && r.presence != Presence::Offline
                })
                .count();
            lines.push(format!("crowd: {crowd} workers, {online} online"));
        }
        let pending = store.outbox().await.map(|o| o.len()).unwrap_or_default();
        let parked = store.parked().await.map(|p| p.len()).unwrap_or_default();
        let timers = store.timers().await.map(|t| t.len()).unwrap_or_default();
        lines.push(format!(
            "outbox: {pending} request(s) to Twilio waiting, {parked} refused for good \
             (parked); {timers} timer(s) set (cool-downs, shift starts and ends)"
        ));
        let voicemails = store.voicemails().await.unwrap_or_default();
        if voicemails.is_empty() {
            lines.push("voicemails: none".to_string());
        } else {
            lines.push(format!("voicemails: {}", voicemails.len()));
            for v in &voicemails {
                lines.push(format!(
                    "  from {} for {} ({} s) {}",
                    v.caller,
                    v.skill.as_deref().unwrap_or("-"),
                    v.duration_secs,
                    v.recording_url
                ));
            }
        }
        lines
    }
}

/// The key a caller presses for `target` (a skill or a digit) and what that will do.
fn call_plan(settings: &Settings, target: Option<&str>) -> Result<(Option<char>, String), String> {
    let menu = &settings.customer.menu;
    let language = settings.default_language;
    let name_of = |key: &crate::core::domain::SkillKey| {
        settings
            .catalog
            .get(key)
            .map(|s| s.name(language).to_string())
            .unwrap_or_else(|| key.to_string())
    };
    // With fewer than two choices the line plays no menu: every call is for one skill.
    let no_menu = || {
        let skill = menu
            .first()
            .map(|m| m.skill.clone())
            .or_else(|| settings.catalog.skills().first().map(|s| s.key.clone()));
        format!(
            "no menu: every call is for {}",
            skill.as_ref().map(name_of).unwrap_or_default()
        )
    };
    let Some(target) = target else {
        return Ok(if menu.len() < 2 {
            (None, no_menu())
        } else {
            (None, "will press nothing at the menu".to_string())
        });
    };
    let mut chars = target.chars();
    let digit = match (chars.next(), chars.next()) {
        (Some(digit), None) if digit.is_ascii_digit() => Some(digit),
        _ => None,
    };
    if let Some(digit) = digit {
        if menu.len() < 2 {
            return Ok((None, no_menu()));
        }
        let plan = match menu.iter().find(|m| m.digit == digit) {
            Some(item) => format!("will press {digit} for {}", name_of(&item.skill)),
            None => format!("will press {digit}, which is not on the menu"),
        };
        return Ok((Some(digit), plan));
    }
    let wanted = target.to_lowercase();
    let skill = settings
        .catalog
        .skills()
        .iter()
        .find(|s| s.key.as_str() == wanted || s.names.values().any(|n| n.to_lowercase() == wanted))
        .ok_or_else(|| {
            let keys: Vec<&str> = settings
                .catalog
                .skills()
                .iter()
                .map(|s| s.key.as_str())
                .collect();
            format!(
                "{target:?} is not a skill (skills: {}; or a menu digit)",
                keys.join(", ")
            )
        })?;
    if menu.len() < 2 {
        return Ok((None, no_menu()));
    }
    Ok(match menu.iter().find(|m| m.skill == skill.key) {
        Some(item) => (
            Some(item.digit),
            format!("will press {} for {}", item.digit, name_of(&skill.key)),
        ),
        None => (
            None,
            format!(
                "{} has no key on the menu: will press nothing",
                name_of(&skill.key)
            ),
        ),
    })
}

/// The `<Message>` texts of a TwiML reply.
fn messages(twiml: &str) -> Vec<String> {
    let Ok(doc) = roxmltree::Document::parse(twiml) else {
        return vec![twiml.to_string()];
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("Message"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

fn presence(record: &WorkerRecord) -> &'static str {
    match record.presence {
        Presence::Offline => "offline",
        Presence::Online => "online",
        Presence::CoolDown => "cooling down",
    }
}

fn skills(record: &WorkerRecord) -> String {
    if record.skills.is_empty() {
        return "-".to_string();
    }
    record
        .skills
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `WK00000000000000000000000000000001` -> `WK..01`, as the simulator's call log writes
/// the SIDs it made; other SIDs are left alone.
fn short_sids(text: &str) -> String {
    static SID: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b([A-Z]{2})([0-9a-f]{32})\b").expect("a valid pattern"));
    SID.replace_all(text, |caps: &regex::Captures| {
        let counter = caps[2].trim_start_matches('0');
        if counter.len() <= 4 {
            format!("{}..{counter:0>2}", &caps[1])
        } else {
            caps[0].to_string()
        }
    })
    .into_owned()
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut clipped: String = text.chars().take(max - 1).collect();
        clipped.push('…');
        clipped
    }
}

/// What has been printed, to print only what is new.
struct Watcher {
    /// shiftline's and the simulator's base URLs, left out of what is printed.
    bases: Vec<String>,
    presence: BTreeMap<String, String>,
    taskrouter: BTreeMap<String, String>,
    dispatch: BTreeMap<String, String>,
    messages: usize,
    voicemails: usize,
    parked: usize,
    /// `--crowd`: its events are counted, not printed one by one.
    crowd: Option<Crowd>,
}

impl Watcher {
    fn new(bases: Vec<String>, crowd: Option<Crowd>) -> Self {
        Self {
            crowd,
            bases,
            presence: BTreeMap::new(),
            taskrouter: BTreeMap::new(),
            dispatch: BTreeMap::new(),
            messages: 0,
            voicemails: 0,
            parked: 0,
        }
    }

    fn strip_bases(&self, text: &str) -> String {
        let mut text = text.to_string();
        for base in &self.bases {
            text = text.replace(base.as_str(), "");
        }
        short_sids(&text)
    }

    /// A REST request, short: no account or workspace prefix, no hosts, short SIDs, long
    /// values clipped.
    fn request(&self, request: &RecordedRequest) -> String {
        let workspace = format!("/v1/Workspaces/{}", app::SIMULATOR_WORKSPACE);
        let account = format!("/2010-04-01/Accounts/{}", app::SIMULATOR_ACCOUNT);
        let path = match request.path.strip_prefix(&workspace) {
            Some("") => "/Workspace".to_string(),
            Some(rest) => rest.to_string(),
            None => request
                .path
                .strip_prefix(&account)
                .unwrap_or(&request.path)
                .to_string(),
        };
        let mut line = format!("Twilio <- {} {}", request.method, short_sids(&path));
        for (name, value) in &request.params {
            let value = clip(&self.strip_bases(value), 100);
            if value.is_empty() || value.contains(char::is_whitespace) {
                line.push_str(&format!(" {name}={value:?}"));
            } else {
                line.push_str(&format!(" {name}={value}"));
            }
        }
        if !(200..300).contains(&request.status) {
            line.push_str(&format!(" -> {}", request.status));
        }
        line
    }

    /// Everything new since the last look, one line each.
    async fn look(&mut self, state: &AppState, sim: &Simulator) -> Vec<String> {
        let store = &state.store;
        let records = store.workers().await.unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot read the workers");
            Vec::new()
        });
        let names: BTreeMap<String, String> = records
            .iter()
            .map(|r| (r.phone.to_string(), r.name.clone()))
            .collect();
        let mut lines = Vec::new();
        let mut tally = Tally::default();
        self.twilio_news(sim, &names, &mut lines, &mut tally);
        let dispatch = store.dispatch_records().await.unwrap_or_default();
        self.dispatch_news(dispatch, &names, &mut lines);
        self.taskrouter_news(sim, &names, &mut lines, &mut tally);
        self.presence_news(&records, &mut lines, &mut tally);
        self.stored_news(store.as_ref(), &mut lines).await;
        lines.extend(tally.line());
        lines
    }

    /// Whether `text` is about the `--crowd`, whose events are counted, not shown.
    fn in_crowd(&self, text: &str) -> bool {
        self.crowd.as_ref().is_some_and(|c| c.mentions(text))
    }

    /// The requests Twilio received, the calls' progress and the texts it sent.
    fn twilio_news(
        &mut self,
        sim: &Simulator,
        names: &BTreeMap<String, String>,
        lines: &mut Vec<String>,
        tally: &mut Tally,
    ) {
        for request in sim.take_requests() {
            let line = self.request(&request);
            if self.in_crowd(&request.describe()) {
                tally.requests += 1;
            } else {
                // Where another request fell among the crowd's shows what went first.
                if tally.requests > 0 {
                    lines.push(format!("crowd: {} Twilio requests", tally.requests));
                    tally.requests = 0;
                }
                lines.push(line);
            }
        }
        static NUMBER: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"\+[0-9]{8,15}\b").expect("a valid pattern"));
        for line in sim.take_call_log() {
            let line = NUMBER.replace_all(&line, |caps: &regex::Captures| named(names, &caps[0]));
            lines.push(format!("call: {}", self.strip_bases(&line)));
        }
        let messages = sim.messages();
        for message in messages.iter().skip(self.messages) {
            if self.in_crowd(&message.to) {
                tally.texts += 1;
                continue;
            }
            lines.push(format!(
                "text to {}: {:?}",
                named(names, &message.to),
                self.strip_bases(&message.body)
            ));
        }
        self.messages = messages.len();
    }

    /// Reservations whose dispatch moved on.
    fn dispatch_news(
        &mut self,
        dispatch: Vec<DispatchRecord>,
        names: &BTreeMap<String, String>,
        lines: &mut Vec<String>,
    ) {
        for record in dispatch {
            let state = match record.outcome.map(|o| o.as_str()) {
                Some(outcome) if outcome != record.state.as_str() => {
                    format!("{} ({outcome})", record.state.as_str())
                }
                _ => record.state.as_str().to_string(),
            };
            if self.dispatch.get(record.reservation_sid.as_str()) != Some(&state) {
                let who = names
                    .get(record.worker.as_str())
                    .cloned()
                    .unwrap_or_else(|| record.worker.to_string());
                lines.push(format!(
                    "dispatch: {} for {who}: {state}",
                    short_sids(record.reservation_sid.as_str())
                ));
                self.dispatch
                    .insert(record.reservation_sid.to_string(), state);
            }
        }
    }

    /// TaskRouter Workers whose activity or attributes changed.
    fn taskrouter_news(
        &mut self,
        sim: &Simulator,
        names: &BTreeMap<String, String>,
        lines: &mut Vec<String>,
        tally: &mut Tally,
    ) {
        for worker in sim.workers() {
            let list = |field: &str| {
                worker.attributes[field]
                    .as_array()
                    .map(|values| {
                        values
                            .iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default()
            };
            let line = format!(
                "{} (skills {}; languages {})",
                worker.activity_name,
                list("skills"),
                list("languages")
            );
            if self.taskrouter.get(&worker.sid) != Some(&line)
                && self.in_crowd(&worker.friendly_name)
            {
                tally.available += usize::from(worker.activity_name == "Available");
                self.taskrouter.insert(worker.sid.clone(), line);
            } else if self.taskrouter.get(&worker.sid) != Some(&line) {
                let who = names
                    .get(&worker.friendly_name)
                    .cloned()
                    .unwrap_or_else(|| worker.friendly_name.clone());
                lines.push(format!(
                    "TaskRouter: worker {who} {} is {line}",
                    short_sids(&worker.sid)
                ));
                self.taskrouter.insert(worker.sid.clone(), line);
            }
        }
    }

    /// Workers who went online or offline, or changed skills.
    fn presence_news(
        &mut self,
        records: &[WorkerRecord],
        lines: &mut Vec<String>,
        tally: &mut Tally,
    ) {
        for record in records {
            let line = match record.presence {
                Presence::Offline => "offline".to_string(),
                _ => format!("{} for {}", presence(record), skills(record)),
            };
            let phone = record.phone.to_string();
            match self.presence.get(&phone) {
                Some(before) if *before != line && self.in_crowd(&phone) => {
                    if record.presence == Presence::Offline {
                        tally.offline += 1;
                    } else {
                        tally.online += 1;
                    }
                }
                Some(before) if *before != line => {
                    lines.push(format!("{} is now {line}", record.name));
                }
                _ => {}
            }
            self.presence.insert(phone, line);
        }
    }

    /// New voicemails, and commands Twilio refused for good.
    async fn stored_news(&mut self, store: &dyn Store, lines: &mut Vec<String>) {
        let voicemails = store.voicemails().await.unwrap_or_default();
        for v in voicemails.iter().skip(self.voicemails) {
            lines.push(format!(
                "voicemail stored: from {} for {} ({} s) {}",
                v.caller,
                v.skill.as_deref().unwrap_or("-"),
                v.duration_secs,
                self.strip_bases(&v.recording_url)
            ));
        }
        self.voicemails = voicemails.len();

        let parked = store.parked().await.unwrap_or_default();
        for p in parked.iter().skip(self.parked) {
            lines.push(format!(
                "outbox parked: {} ({})",
                p.entry.command.describe(),
                p.error
            ));
        }
        self.parked = parked.len();
    }
}

/// A phone with the worker's name, when it is a worker's.
fn named(names: &BTreeMap<String, String>, phone: &str) -> String {
    match names.get(phone) {
        Some(name) => format!("{phone} ({name})"),
        None => phone.to_string(),
    }
}

/// Standard output: events with the time, a prompt at a terminal.
struct Out {
    interactive: bool,
    /// The prompt is showing: an event printed now goes over it and puts it back.
    at_prompt: AtomicBool,
}

impl Out {
    fn new(interactive: bool) -> Self {
        Self {
            interactive,
            at_prompt: AtomicBool::new(false),
        }
    }

    fn prompt(&self) {
        if self.interactive {
            let mut stdout = std::io::stdout().lock();
            let _ = write!(stdout, "> ");
            let _ = stdout.flush();
            self.at_prompt.store(true, Ordering::SeqCst);
        }
    }

    fn left_prompt(&self) {
        self.at_prompt.store(false, Ordering::SeqCst);
    }

    fn event(&self, line: &str) {
        self.events(&[line.to_string()]);
    }

    /// Lines stamped with the local time, like a log.
    fn events(&self, lines: &[String]) {
        let stamp = Local::now().format("%H:%M:%S").to_string();
        let stamped: Vec<String> = lines.iter().map(|l| format!("{stamp} {l}")).collect();
        self.plain(&stamped);
    }

    /// Output is best effort: a closed pipe must not stop the demo's shutdown.
    fn plain(&self, lines: &[String]) {
        if lines.is_empty() {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        let over_prompt = self.at_prompt.load(Ordering::SeqCst);
        if over_prompt {
            let _ = write!(stdout, "\r");
        }
        for line in lines {
            let _ = writeln!(stdout, "{line}");
        }
        if over_prompt {
            let _ = write!(stdout, "> ");
        }
        let _ = stdout.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_understood() {
        let text = |who: &str, text: &str| Command::Text {
            who: who.into(),
            text: text.into(),
        };
        assert_eq!(parse("ana> on"), Ok(text("ana", "on")));
        assert_eq!(parse("Ana>on"), Ok(text("Ana", "on")));
        assert_eq!(parse("ben skills"), Ok(text("ben", "skills")));
        assert_eq!(parse("ana on > off"), Ok(text("ana", "on > off")));
        assert_eq!(parse("HELP"), Ok(Command::Help));
        assert_eq!(parse("Exit"), Ok(Command::Quit));
        assert_eq!(parse("wait 8s"), Ok(Command::Wait(Duration::from_secs(8))));
        assert_eq!(
            parse("wait 2m"),
            Ok(Command::Wait(Duration::from_secs(120)))
        );
        assert!(parse("wait soon").is_err());
        assert_eq!(
            parse("call billing from +15559990001"),
            Ok(Command::Call {
                target: Some("billing".into()),
                from: Some("+15559990001".into())
            })
        );
        assert_eq!(
            parse("phone ana busy, human:1"),
            Ok(Command::Phone {
                who: "ana".into(),
                answers: vec!["busy".into(), "human:1".into()]
            })
        );
        assert!(parse("phone ana").is_err());
    }

    #[test]
    fn simulator_sids_are_shortened() {
        assert_eq!(
            short_sids("WR00000000000000000000000000000001 for WK000000000000000000000000000000ab"),
            "WR..01 for WK..ab"
        );
        let real = "WR9a8b7c6d5e4f30211203f4e5d6c7b8a9";
        assert_eq!(short_sids(real), real);
    }

    #[test]
    fn a_call_presses_the_menu_key_of_its_skill() {
        let settings = parse_settings(BUILT_IN_EXAMPLE).expect("the example parses");
        assert_eq!(
            call_plan(&settings, Some("Support")).map(|p| p.0),
            Ok(Some('2'))
        );
        assert_eq!(
            call_plan(&settings, Some("spanish")).map(|p| p.0),
            Ok(Some('3'))
        );
        assert_eq!(call_plan(&settings, Some("1")).map(|p| p.0), Ok(Some('1')));
        assert!(call_plan(&settings, Some("sales")).is_err());
        let without_menu = BUILT_IN_EXAMPLE
            .split("[customer]")
            .next()
            .unwrap_or_default();
        let plain = parse_settings(without_menu).expect("the example parses");
        assert_eq!(
            call_plan(&plain, Some("support")),
            Ok((None, "no menu: every call is for Billing".to_string()))
        );
    }
}
