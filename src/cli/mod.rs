//! `shiftline workers ...`: the operator's roster commands.
//!
//! ```text
//! shiftline workers [--config FILE] list
//! shiftline workers show PHONE
//! shiftline workers add PHONE NAME [--language L] [--languages L,L] [--time-zone TZ]
//! shiftline workers remove PHONE
//! shiftline workers offline PHONE [--quiet]
//! shiftline workers import FILE.csv
//! shiftline workers export [FILE.csv]
//! shiftline voicemails
//! shiftline callbacks
//! shiftline outbox
//! ```
//!
//! They work through the API while the service runs (with `SHIFTLINE_API_TOKEN`) and on the
//! store directly while it is stopped; `backend` decides which. Exit status: 0 done, 1 the
//! service or the store failed or no worker has the phone given, 2 bad usage or input (an
//! invalid worker, a phone number not in E.164, an unreadable file, a missing or wrong API
//! token).

mod backend;
pub mod csv;
pub mod sign;
pub mod store;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::{ConfigError, ENV_AUTH_TOKEN, Settings};
use crate::core::domain::PhoneNumber;
use crate::store::PresenceChange;
use crate::web::operator::NewWorker;
use backend::{Added, Backend, WorkerRow};

/// `--config`: the configuration file, `./shiftline.toml` unless SHIFTLINE_CONFIG names
/// another.
#[derive(Clone, Debug, clap::Args)]
pub struct ConfigFile {
    /// The configuration file.
    #[arg(
        long,
        short,
        default_value = "shiftline.toml",
        env = "SHIFTLINE_CONFIG"
    )]
    pub config: PathBuf,
}

/// The CSV columns, in the order `export` writes them.
pub const CSV_HEADER: [&str; 5] = ["phone", "name", "language", "languages", "time_zone"];

#[derive(Clone, Debug, Subcommand)]
pub enum WorkersCommand {
    /// Every worker: phone, name, presence, dialogue, skills, language, time zone.
    List,
    /// One worker, with their presence history.
    Show {
        /// E.164, like +15550001111.
        phone: String,
    },
    /// Add a worker, offline with no skills; checked like [[workers]] in the configuration.
    Add {
        /// E.164, like +15550001111.
        phone: String,
        /// 1 to 40 characters.
        name: String,
        /// The language they are texted in [default: defaults.language].
        #[arg(long)]
        language: Option<String>,
        /// Languages they take calls in, comma-separated [default: their language].
        #[arg(long, value_delimiter = ',')]
        languages: Option<Vec<String>>,
        /// IANA time zone, like America/Chicago [default: defaults.time_zone].
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// Remove a worker; TaskRouter takes them offline and rejects their pending calls.
    Remove {
        /// E.164, like +15550001111.
        phone: String,
    },
    /// Take a worker offline now, as if they had texted OFF, and text them that a manager
    /// did (not when they were offline already).
    Offline {
        /// E.164, like +15550001111.
        phone: String,
        /// Do not text the worker.
        #[arg(long, visible_alias = "no-text")]
        quiet: bool,
    },
    /// Add every worker of a CSV file with the header phone,name,language,languages,time_zone
    /// (only phone and name are required; languages are separated by spaces).
    Import { file: PathBuf },
    /// Write every worker as CSV, to FILE or to standard output.
    Export { file: Option<PathBuf> },
}

/// What an operator's command is about.
#[derive(Clone, Debug)]
pub enum Operation {
    Workers(WorkersCommand),
    /// Every stored voicemail.
    Voicemails,
    /// Every callback request, open and closed, with its calls.
    Callbacks,
    /// What waits for Twilio, and what Twilio refused for good.
    Outbox,
}

/// Why a command did not do what it was asked.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The command or its input is wrong: exit 2.
    Usage(String),
    /// The service or the store failed: exit 1.
    Failed(String),
}

/// What a command printed and how it ends.
struct Done {
    out: String,
    /// Some input was refused, though the rest was done (an import's bad rows).
    bad_input: bool,
}

impl Done {
    fn ok(out: String) -> Self {
        Self {
            out,
            bad_input: false,
        }
    }
}

/// Runs one operator's command with the configuration at `config`.
pub fn run(config: &Path, command: Operation) -> ExitCode {
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("shiftline: {}: {e}", config.display());
            return ExitCode::from(2);
        }
    };
    // A current-thread runtime: the CLI does one thing at a time, and the store's flush
    // task (which `Store::open` starts) runs on it.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("shiftline: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(execute(settings, command));
    match result {
        Ok(done) => {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout
                .write_all(done.out.as_bytes())
                .and_then(|()| stdout.flush())
            {
                // A closed pipe (`| head`) is the reader's choice, not a failure to report.
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("shiftline: writing the output: {e}");
                }
                return ExitCode::FAILURE;
            }
            if done.bad_input {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(Failure::Usage(message)) => {
            eprintln!("shiftline: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("shiftline: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the configuration as `serve` does, except that Twilio's auth token is not
/// required: the CLI signs nothing and never calls Twilio, and an operator listing workers
/// should not need the account's secret.
fn load_settings(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Settings::parse(&text, |name| {
        let value = std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if name == ENV_AUTH_TOKEN {
            value.or_else(|| Some("not-used-by-the-cli".into()))
        } else {
            value
        }
    })
}

/// A command with its arguments checked, ready to run.
enum Job {
    List,
    Show(PhoneNumber),
    Add(NewWorker),
    Remove(PhoneNumber),
    Offline { phone: PhoneNumber, text: bool },
    Import(CsvRows),
    Export(Option<PathBuf>),
    Voicemails,
    Callbacks,
    Outbox,
}

/// Checks the arguments before anything is opened, so a typo is reported as such and not
/// as a missing store or an unreachable service.
fn prepare(command: Operation) -> Result<Job, Failure> {
    let command = match command {
        Operation::Workers(command) => command,
        Operation::Voicemails => return Ok(Job::Voicemails),
        Operation::Callbacks => return Ok(Job::Callbacks),
        Operation::Outbox => return Ok(Job::Outbox),
    };
    Ok(match command {
        WorkersCommand::List => Job::List,
        WorkersCommand::Show { phone } => Job::Show(parse_phone(&phone)?),
        WorkersCommand::Add {
            phone,
            name,
            language,
            languages,
            time_zone,
        } => Job::Add(NewWorker {
            phone,
            name,
            language,
            languages,
            time_zone,
        }),
        WorkersCommand::Remove { phone } => Job::Remove(parse_phone(&phone)?),
        WorkersCommand::Offline { phone, quiet } => Job::Offline {
            phone: parse_phone(&phone)?,
            text: !quiet,
        },
        WorkersCommand::Import { file } => Job::Import(read_csv(&file)?),
        WorkersCommand::Export { file } => Job::Export(file),
    })
}

async fn execute(settings: Settings, command: Operation) -> Result<Done, Failure> {
    let job = prepare(command)?;
    // Workers the configuration file lists come back at the service's next start.
    let configured: HashSet<PhoneNumber> =
        settings.roster.iter().map(|e| e.phone.clone()).collect();
    if let Job::Add(new) = &job {
        // Checked here too, so a bad worker neither needs the service nor makes a store;
        // the service or the store checks it again with the same rules.
        new.validate(settings.default_language, settings.default_time_zone)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let creates = matches!(job, Job::Add(_) | Job::Import(_));
    let backend = backend::connect(&settings, creates).await?;
    tracing::debug!(via = %backend.describe(), "workers command");
    let done = match job {
        Job::List => Done::ok(table(&backend.list().await?)),
        Job::Show(phone) => match backend.show(&phone).await? {
            Some((worker, history)) => Done::ok(show(&worker, &history)),
            None => return Err(not_found(&phone)),
        },
        Job::Add(new) => {
            let added = backend.add(&new).await?;
            backend.finish().await?;
            match added {
                Added::Created => Done::ok(format!(
                    "added {} ({})\n",
                    new.phone.trim(),
                    new.name.trim()
                )),
                Added::Existing => Done::ok(format!(
                    "{} is already on the roster; nothing changed\n",
                    new.phone.trim()
                )),
                Added::Invalid(reason) => return Err(Failure::Usage(reason)),
            }
        }
        Job::Remove(phone) => {
            let Some(changed) = backend.remove(&phone).await? else {
                return Err(not_found(&phone));
            };
            backend.finish().await?;
            let mut out = format!("removed {phone}\n");
            if changed.deferred_sync {
                out += DEFERRED;
            }
            if configured.contains(&phone) {
                eprintln!(
                    "shiftline: warning: {phone} is listed in the configuration file's [[workers]] and comes back when the service starts; remove it there too"
                );
            }
            Done::ok(out)
        }
        Job::Offline { phone, text } => {
            let Some(changed) = backend.offline(&phone, text).await? else {
                return Err(not_found(&phone));
            };
            backend.finish().await?;
            let (name, presence) = changed
                .worker
                .as_ref()
                .map_or(("", "offline"), |w| (w.name.as_str(), w.presence.as_str()));
            let mut out = format!("{phone} ({name}) is {presence}\n");
            if changed.deferred_sync {
                out += DEFERRED;
            }
            Done::ok(out)
        }
        Job::Import(rows) => import(&backend, rows).await?,
        Job::Voicemails => Done::ok(voicemails(&backend.voicemails().await?)),
        Job::Callbacks => Done::ok(callbacks(&backend.callbacks().await?)),
        Job::Outbox => Done::ok(outbox(&backend.outbox().await?)),
        Job::Export(file) => {
            let workers = backend.list().await?;
            let csv = export(&workers);
            match file {
                None => Done::ok(csv),
                Some(path) => {
                    std::fs::write(&path, &csv).map_err(|e| {
                        Failure::Failed(format!("cannot write {}: {e}", path.display()))
                    })?;
                    Done::ok(format!(
                        "exported {} worker(s) to {}\n",
                        workers.len(),
                        path.display()
                    ))
                }
            }
        }
    };
    Ok(done)
}

/// Said when the store was changed directly: its TaskRouter sync waits in the outbox.
const DEFERRED: &str = "TaskRouter takes the worker offline when the service starts.\n";

/// A phone number as given on the command line; like the API, the "+" may be left out.
fn parse_phone(raw: &str) -> Result<PhoneNumber, Failure> {
    let raw = raw.trim();
    let full = if raw.starts_with('+') {
        raw.to_string()
    } else {
        format!("+{raw}")
    };
    PhoneNumber::parse(&full).map_err(|_| {
        Failure::Usage(format!(
            "{raw:?} is not an E.164 phone number like +15550001111"
        ))
    })
}

fn not_found(phone: &PhoneNumber) -> Failure {
    Failure::Failed(format!("no worker with phone {phone}"))
}

/// A CSV file's rows as workers, each with its line, or why the row is not one.
type CsvRows = Vec<(usize, Result<NewWorker, String>)>;

/// Reads an import file. A file that is not CSV, or whose header is wrong, is refused as a
/// whole before anything is added; a bad row is only that row's problem.
fn read_csv(path: &Path) -> Result<CsvRows, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    let rows = csv::parse(&text).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let Some((header, rows)) = rows.split_first() else {
        return Err(Failure::Usage(format!("{} is empty", path.display())));
    };
    let columns: Vec<String> = header
        .fields
        .iter()
        .map(|f| f.trim().to_ascii_lowercase())
        .collect();
    for (i, column) in columns.iter().enumerate() {
        if !CSV_HEADER.contains(&column.as_str()) {
            return Err(Failure::Usage(format!(
                "{}: line 1: unknown column {column:?}; the columns are {}",
                path.display(),
                CSV_HEADER.join(",")
            )));
        }
        if columns[..i].contains(column) {
            return Err(Failure::Usage(format!(
                "{}: line 1: column {column:?} is there twice",
                path.display()
            )));
        }
    }
    for required in ["phone", "name"] {
        if !columns.iter().any(|c| c == required) {
            return Err(Failure::Usage(format!(
                "{}: line 1: the header must name the columns, with at least phone and name (like {})",
                path.display(),
                CSV_HEADER.join(",")
            )));
        }
    }
    Ok(rows
        .iter()
        .map(|row| (row.line, worker_of(&columns, &row.fields)))
        .collect())
}

fn worker_of(columns: &[String], fields: &[String]) -> Result<NewWorker, String> {
    if fields.len() != columns.len() {
        return Err(format!(
            "{} field(s) where the header has {}",
            fields.len(),
            columns.len()
        ));
    }
    let mut worker = NewWorker::default();
    for (column, value) in columns.iter().zip(fields) {
        let value = value.trim();
        // An empty cell takes the default, as a left-out field does in the file.
        let optional = (!value.is_empty()).then(|| value.to_string());
        match column.as_str() {
            "phone" => worker.phone = value.to_string(),
            "name" => worker.name = value.to_string(),
            "language" => worker.language = optional,
            "languages" => {
                worker.languages = optional.map(|v| {
                    v.split([' ', ',', ';'])
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect()
                })
            }
            "time_zone" => worker.time_zone = optional,
            _ => {}
        }
    }
    Ok(worker)
}

/// Adds every row, reporting each; a bad row does not stop the others.
async fn import(backend: &Backend, rows: CsvRows) -> Result<Done, Failure> {
    let (mut added, mut existing, mut invalid) = (0, 0, 0);
    let mut out = String::new();
    for (line, row) in rows {
        let outcome = match row {
            Ok(worker) => match backend.add(&worker).await {
                Ok(Added::Created) => {
                    added += 1;
                    format!("added {}", worker.phone)
                }
                Ok(Added::Existing) => {
                    existing += 1;
                    format!("{} is already on the roster", worker.phone)
                }
                Ok(Added::Invalid(reason)) => {
                    invalid += 1;
                    format!("invalid: {reason}")
                }
                Err(failure) => {
                    // What was added so far stays: keep it and report it before giving up.
                    let _ = backend.finish().await;
                    out += &format!("line {line}: stopped; {added} added before this line\n");
                    let _ = std::io::stdout().lock().write_all(out.as_bytes());
                    return Err(failure);
                }
            },
            Err(problem) => {
                invalid += 1;
                format!("invalid: {problem}")
            }
        };
        out += &format!("line {line}: {outcome}\n");
    }
    backend.finish().await?;
    out += &format!("{added} added, {existing} already on the roster, {invalid} invalid\n");
    Ok(Done {
        out,
        bad_input: invalid > 0,
    })
}

fn export(workers: &[WorkerRow]) -> String {
    let mut out = String::new();
    csv::write_row(&mut out, &CSV_HEADER);
    for w in workers {
        let languages = w.languages.join(" ");
        csv::write_row(
            &mut out,
            &[&w.phone, &w.name, &w.language, &languages, &w.time_zone],
        );
    }
    out
}

/// Rows under a header, in aligned columns.
fn aligned<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out += padded.join("  ").trim_end();
        out.push('\n');
    };
    line(&header);
    for row in rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

/// A time as operators read it.
fn time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The voicemails as an aligned table, oldest first.
fn voicemails(list: &[crate::store::VoicemailRecord]) -> String {
    let rows: Vec<[String; 5]> = list
        .iter()
        .map(|v| {
            [
                time(&v.at),
                v.caller.clone(),
                v.skill.clone().unwrap_or_else(|| "-".into()),
                v.duration_secs.to_string(),
                v.recording_url.clone(),
            ]
        })
        .collect();
    let mut out = aligned(
        ["LEFT AT", "CALLER", "SKILL", "SECONDS", "RECORDING"],
        &rows,
    );
    if list.is_empty() {
        out += "(no voicemails)\n";
    }
    out
}

/// The callback requests as an aligned table, oldest first: each request's status and
/// every call to the customer.
fn callbacks(list: &[crate::core::callback::CallbackRecord]) -> String {
    let rows: Vec<[String; 6]> = list
        .iter()
        .map(|c| {
            let calls: Vec<String> = c
                .attempts
                .iter()
                .map(|a| format!("{} {}", a.at.format("%m-%d %H:%M"), a.outcome.as_str()))
                .collect();
            let next = match (c.status.is_open(), c.next_try) {
                (true, Some(at)) => format!("next try {}", time(&at)),
                _ => c
                    .closed_at
                    .map_or(String::new(), |at| format!("closed {}", time(&at))),
            };
            [
                time(&c.requested_at),
                c.customer.clone(),
                c.skill.as_ref().map_or("-".into(), |s| s.to_string()),
                format!("{} ({:?})", c.status.as_str(), c.source).to_lowercase(),
                if calls.is_empty() {
                    "-".into()
                } else {
                    calls.join(", ")
                },
                next,
            ]
        })
        .collect();
    let mut out = aligned(
        ["ASKED AT", "CUSTOMER", "SKILL", "STATUS", "CALLS", "WHEN"],
        &rows,
    );
    if list.is_empty() {
        out += "(no callbacks)\n";
    }
    out
}

/// The outbox: what waits (with when it is next tried and why the last try failed), then
/// what Twilio refused for good.
fn outbox(view: &crate::web::api::OutboxView) -> String {
    let pending: Vec<[String; 5]> = view
        .pending
        .iter()
        .map(|e| {
            [
                e.id.to_string(),
                e.not_before.as_ref().map_or_else(|| "now".into(), time),
                e.attempts.to_string(),
                e.command.clone(),
                e.last_error.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut out = aligned(["ID", "DUE", "ATTEMPTS", "COMMAND", "LAST ERROR"], &pending);
    if !view.parked.is_empty() {
        let parked: Vec<[String; 4]> = view
            .parked
            .iter()
            .map(|p| {
                [
                    p.id.to_string(),
                    time(&p.parked_at),
                    p.command.clone(),
                    p.error.clone(),
                ]
            })
            .collect();
        out += "\nparked (Twilio refused them for good):\n";
        out += &aligned(["ID", "PARKED AT", "COMMAND", "ERROR"], &parked);
    }
    out += &format!(
        "{} waiting, {} parked\n",
        view.pending.len(),
        view.parked.len()
    );
    out
}

/// The workers as an aligned table.
fn table(workers: &[WorkerRow]) -> String {
    let header = [
        "PHONE",
        "NAME",
        "PRESENCE",
        "DIALOGUE",
        "SKILLS",
        "LANGUAGE",
        "TIME ZONE",
    ];
    let rows: Vec<[String; 7]> = workers
        .iter()
        .map(|w| {
            [
                w.phone.clone(),
                w.name.clone(),
                w.presence.clone(),
                w.dialogue.clone(),
                or_dash(w.skills.join(",")),
                w.language.clone(),
                w.time_zone.clone(),
            ]
        })
        .collect();
    let mut out = aligned(header, &rows);
    if workers.is_empty() {
        out += "(no workers)\n";
    }
    out
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".into() } else { s }
}

/// One worker, field by field, then their presence history.
fn show(w: &WorkerRow, history: &[PresenceChange]) -> String {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut out = String::new();
    for (label, value) in [
        ("phone", w.phone.clone()),
        ("name", w.name.clone()),
        ("presence", w.presence.clone()),
        ("dialogue", w.dialogue.clone()),
        ("skills", or_dash(w.skills.join(", "))),
        ("language", w.language.clone()),
        ("takes calls in", w.languages.join(", ")),
        ("time zone", w.time_zone.clone()),
        ("opted out", yes_no(w.opted_out).to_string()),
        (
            "on the roster",
            if w.on_roster {
                "yes".to_string()
            } else {
                "no (no longer in the configuration file)".to_string()
            },
        ),
        (
            "worker sid",
            w.worker_sid.clone().unwrap_or_else(|| "-".into()),
        ),
        ("updated", w.updated_at.clone()),
    ] {
        out += &format!("{:<15} {value}\n", format!("{label}:"));
    }
    out += "history:\n";
    if history.is_empty() {
        out += "  (no presence changes yet)\n";
    }
    for change in history {
        let via = serde_json::to_value(change.via)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out += &format!(
            "  {}  {} -> {}  via {via}\n",
            change.at.format("%Y-%m-%d %H:%M:%S UTC"),
            change.from,
            change.to
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_row_takes_defaults_for_empty_cells_and_any_language_separator() {
        let cols = columns(&CSV_HEADER);
        let fields = columns(&["+15550001111", " Ana ", "", "es;en", ""]);
        let worker = worker_of(&cols, &fields).unwrap();
        assert_eq!(
            worker,
            NewWorker {
                phone: "+15550001111".into(),
                name: "Ana".into(),
                language: None,
                languages: Some(vec!["es".into(), "en".into()]),
                time_zone: None,
            }
        );
        assert!(worker_of(&cols, &columns(&["+15550001111", "Ana"])).is_err());
    }

    #[test]
    fn exported_rows_read_back_as_the_same_workers() {
        let row = WorkerRow {
            phone: "+15550001111".into(),
            name: "Ortiz, Ana".into(),
            presence: "offline".into(),
            dialogue: "idle".into(),
            skills: vec![],
            language: "es".into(),
            languages: vec!["es".into(), "en".into()],
            time_zone: "America/Mexico_City".into(),
            opted_out: false,
            on_roster: true,
            worker_sid: None,
            updated_at: String::new(),
        };
        let text = export(std::slice::from_ref(&row));
        let rows = csv::parse(&text).unwrap();
        let cols = columns(&CSV_HEADER);
        let worker = worker_of(&cols, &rows[1].fields).unwrap();
        assert_eq!(worker.name, "Ortiz, Ana");
        assert_eq!(worker.languages, Some(vec!["es".into(), "en".into()]));
        assert_eq!(worker.time_zone.as_deref(), Some("America/Mexico_City"));
    }

    #[test]
    fn phones_on_the_command_line_may_leave_out_the_plus() {
        assert_eq!(parse_phone("15550001111").unwrap().as_str(), "+15550001111");
        assert!(matches!(parse_phone("555-1234"), Err(Failure::Usage(_))));
    }
}
