//! The `shiftline` command.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use shiftline::cli::ConfigFile;
use shiftline::clock::SystemClock;
use shiftline::config::Settings;

/// jemalloc instead of glibc's allocator: glibc kept what a start-up with a large roster
/// freed (the parsed configuration) and gave every runtime thread an arena of its own, so
/// a long-running service grew and never gave memory back; jemalloc returns freed pages
/// after a few seconds (`bench/intake.sh`, soak).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(version, about = "Send a business's phone work to people at home")]
struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "SHIFTLINE_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve {
        #[command(flatten)]
        file: ConfigFile,
    },
    /// Work with the Twilio account.
    Twilio {
        #[command(subcommand)]
        command: TwilioCommand,
    },
    /// Try shiftline on this machine, without a Twilio account.
    ///
    /// Starts the service and a simulated Twilio, then a prompt to text as workers, call as
    /// a customer and watch what happens. Commands can also be piped in
    /// (`shiftline demo < script.txt`); type `help` for the list.
    Demo {
        /// The configuration file [default: shiftline.example.toml if present, else a
        /// built-in copy of it]. A [twilio] section is ignored.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Keep the store in this directory instead of a temporary one removed on exit.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The simulated Twilio answers every REST request this many milliseconds later
        /// (real Twilio takes 100-500).
        #[arg(long, value_name = "MS")]
        twilio_latency_ms: Option<u64>,
        /// Add this many workers whose shift starts a minute or two after start, all at
        /// once: a shift-start burst to watch (try with --twilio-latency-ms 200).
        #[arg(long, value_name = "N", default_value_t = 0)]
        crowd: usize,
    },
    /// The store's schema, and moving a deployment between sled and PostgreSQL.
    Store {
        #[command(subcommand)]
        command: shiftline::cli::store::StoreCommand,
    },
    /// Run the built-in Twilio simulator on its own, for several instances to share
    /// (`[simulator] url` in their configuration). It signs its callbacks with
    /// SHIFTLINE_TWILIO_AUTH_TOKEN and applies the configuration's [simulator] knobs.
    Simulator {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: std::net::SocketAddr,
        /// The configuration file (its [simulator] knobs).
        #[arg(long, short, env = "SHIFTLINE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Look at and change the roster: through the API while the service runs (set
    /// SHIFTLINE_API_TOKEN), on the store directly while it is stopped.
    ///
    /// Exit status: 0 done, 1 the service or the store failed or no worker has the phone
    /// given, 2 bad usage or input.
    Workers {
        /// The configuration file.
        #[arg(
            long,
            short,
            global = true,
            default_value = "shiftline.toml",
            env = "SHIFTLINE_CONFIG"
        )]
        config: PathBuf,
        #[command(subcommand)]
        command: shiftline::cli::WorkersCommand,
    },
    /// List the voicemails callers left: when, who, for which skill, how long, the
    /// recording. Through the API or the store, as `workers` does.
    ///
    /// Exit status: 0 done, 1 the service or the store failed, 2 bad usage.
    Voicemails {
        #[command(flatten)]
        file: ConfigFile,
    },
    /// List the callback requests, open and closed: who asked and when, for which skill,
    /// each call to the customer and how it went, and the next try or when it closed.
    /// Through the API or the store, as `workers` does.
    ///
    /// Exit status: 0 done, 1 the service or the store failed, 2 bad usage.
    Callbacks {
        #[command(flatten)]
        file: ConfigFile,
    },
    /// List the commands waiting for Twilio (when each is next tried, its attempts and last
    /// error) and those Twilio refused for good. Through the API or the store, as `workers`
    /// does.
    ///
    /// Exit status: 0 done, 1 the service or the store failed, 2 bad usage.
    Outbox {
        #[command(flatten)]
        file: ConfigFile,
    },
}

#[derive(Subcommand)]
enum TwilioCommand {
    /// Make the TaskRouter workspace ready (idempotent) and print the webhook URLs.
    Setup {
        #[command(flatten)]
        file: ConfigFile,
    },
    /// Print the X-Twilio-Signature Twilio would send with a webhook request, to send one
    /// by hand: `shiftline twilio sign --curl URL -d From=+15550001111 -d Body=on`.
    ///
    /// Signs with SHIFTLINE_TWILIO_AUTH_TOKEN: the account's auth token, or the development
    /// token `shiftline serve` prints at start-up when none is set (set one to have the same
    /// token on both sides). Exit status: 0 printed, 2 bad usage or no token.
    Sign {
        /// The public URL of the webhook, as Twilio calls it (server.public_url and the
        /// route), like https://shiftline.example.com/twilio/sms.
        url: String,
        /// Form parameters, NAME=VALUE, in any order.
        #[arg(value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// A form parameter, NAME=VALUE, as curl's -d takes it (repeatable).
        #[arg(short = 'd', long = "data", value_name = "NAME=VALUE")]
        data: Vec<String>,
        /// Print a curl command that sends the signed request instead of the signature.
        #[arg(long)]
        curl: bool,
        #[arg(long, env = shiftline::config::ENV_AUTH_TOKEN, hide = true, hide_env_values = true)]
        token: Option<String>,
    },
}

fn main() -> ExitCode {
    if let Err(e) =
        shiftline::allocator::give_back_freed_pages(shiftline::allocator::DIRTY_DECAY_MS)
    {
        eprintln!("{e}");
    }
    let cli = Cli::parse();
    // The demo's terminal is for the conversation; only warnings and errors are logged.
    let level = match cli.command {
        Command::Demo { .. } => "warn",
        // The commands' output is the answer; the store's and HTTP client's news is not.
        Command::Workers { .. }
        | Command::Voicemails { .. }
        | Command::Callbacks { .. }
        | Command::Outbox { .. } => "warn",
        _ => "info",
    };
    init_logs(cli.log_json, level);
    match cli.command {
        Command::Serve { file } => serve(file.config),
        Command::Demo {
            config,
            data_dir,
            twilio_latency_ms,
            crowd,
        } => demo(config, data_dir, twilio_latency_ms, crowd),
        Command::Twilio {
            command: TwilioCommand::Setup { file },
        } => twilio_setup(file.config),
        Command::Twilio {
            command:
                TwilioCommand::Sign {
                    url,
                    params,
                    data,
                    curl,
                    token,
                },
        } => twilio_sign(&url, data.into_iter().chain(params).collect(), curl, token),
        Command::Workers { config, command } => {
            shiftline::cli::run(&config, shiftline::cli::Operation::Workers(command))
        }
        Command::Voicemails { file } => {
            shiftline::cli::run(&file.config, shiftline::cli::Operation::Voicemails)
        }
        Command::Callbacks { file } => {
            shiftline::cli::run(&file.config, shiftline::cli::Operation::Callbacks)
        }
        Command::Outbox { file } => {
            shiftline::cli::run(&file.config, shiftline::cli::Operation::Outbox)
        }
        Command::Store { command } => store(command),
        Command::Simulator { listen, config } => simulator(listen, config),
    }
}

fn store(command: shiftline::cli::store::StoreCommand) -> ExitCode {
    use shiftline::cli::store::{Location, StoreCommand, copy};
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match command {
        StoreCommand::Migrate { file } => {
            let Some(settings) = load(&file.config) else {
                return ExitCode::from(2);
            };
            let shiftline::config::StoreChoice::Postgres { url } = &settings.store else {
                println!(
                    "The store is sled ({}): it has no schema to migrate.",
                    settings.data_dir.display()
                );
                return ExitCode::SUCCESS;
            };
            let store =
                match shiftline::store::PgStore::connect(secrecy::ExposeSecret::expose_secret(url))
                {
                    Ok(store) => store,
                    Err(e) => {
                        eprintln!("shiftline: store migrate: {e}");
                        return ExitCode::FAILURE;
                    }
                };
            match runtime.block_on(store.migrate()) {
                Ok(ran) if ran.is_empty() => println!("The schema is up to date."),
                Ok(ran) => println!(
                    "Applied migrations {}.",
                    ran.iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(e) => {
                    eprintln!("shiftline: store migrate: {e}");
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        StoreCommand::Copy { from, to } => {
            let env = |k: &str| std::env::var(k).ok();
            let (from, to) = match (Location::parse(&from, env), Location::parse(&to, env)) {
                (Ok(from), Ok(to)) => (from, to),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("shiftline: store copy: {e}");
                    return ExitCode::from(2);
                }
            };
            let result = runtime.block_on(async {
                let source = from.open(false).await?;
                let target = to.open(true).await?;
                copy(source.as_ref(), target.as_ref()).await
            });
            match result {
                Ok(copied) => {
                    println!(
                        "Copied {} workers, {} outbox commands, {} timers, {} reservations, {} voicemails, {} callback requests and {} handled webhook ids; the copy reads back the same.",
                        copied.workers,
                        copied.outbox,
                        copied.timers,
                        copied.dispatch,
                        copied.voicemails,
                        copied.callbacks,
                        copied.handled_events
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("shiftline: store copy: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn simulator(listen: std::net::SocketAddr, config: Option<PathBuf>) -> ExitCode {
    let realism = match &config {
        Some(path) => match load(path) {
            Some(settings) => settings.simulator,
            None => return ExitCode::from(2),
        },
        None => Default::default(),
    };
    let token = std::env::var(shiftline::config::ENV_AUTH_TOKEN)
        .ok()
        .filter(|t| !t.trim().is_empty());
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match runtime.block_on(shiftline::app::run_simulator(
        listen, token, &realism, shutdown,
    )) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shiftline simulator: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sets up the configured account's workspace and prints what it did.
fn twilio_setup(config: PathBuf) -> ExitCode {
    let Some(settings) = load(&config) else {
        return ExitCode::from(2);
    };
    if settings.twilio.is_none() {
        println!(
            "No [twilio] section in {}: `shiftline serve` sets up its built-in simulator by itself.",
            config.display()
        );
        return ExitCode::SUCCESS;
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let client = shiftline::app::twilio_client(&settings, None);
    let report = match runtime.block_on(shiftline::service::setup::run(&client, &settings)) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("shiftline: twilio setup: {e}");
            return ExitCode::FAILURE;
        }
    };
    for line in &report.lines {
        println!("{line}");
    }
    if report.changes == 0 {
        println!("Nothing to change: the workspace was already set up.");
    } else {
        println!("{} change(s) made.", report.changes);
    }
    println!("\nPaste these into the phone numbers in the Twilio console:");
    for line in shiftline::service::setup::webhook_urls(&settings) {
        println!("  {line}");
    }
    ExitCode::SUCCESS
}

/// Prints a webhook's signature, or a curl command sending it signed.
fn twilio_sign(url: &str, params: Vec<String>, curl: bool, token: Option<String>) -> ExitCode {
    let request = match shiftline::cli::sign::Request::parse(url, &params) {
        Ok(request) => request,
        Err(shiftline::cli::Failure::Usage(e) | shiftline::cli::Failure::Failed(e)) => {
            eprintln!("shiftline: twilio sign: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(token) = token.filter(|t| !t.trim().is_empty()) else {
        eprintln!(
            "shiftline: twilio sign: set {} to the token the service checks signatures with (the account's auth token, or the development token `shiftline serve` printed at start-up)",
            shiftline::config::ENV_AUTH_TOKEN
        );
        return ExitCode::from(2);
    };
    if curl {
        print!("{}", request.curl(&token));
    } else {
        println!("{}", request.signature(&token));
    }
    ExitCode::SUCCESS
}

fn demo(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    twilio_latency_ms: Option<u64>,
    crowd: usize,
) -> ExitCode {
    let loaded = match shiftline::demo::load_settings(config.as_deref()) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("shiftline demo: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let options = shiftline::demo::Options {
        data_dir,
        source: loaded.source,
        twilio_latency_ms,
        crowd,
    };
    let result = runtime.block_on(shiftline::demo::run(loaded.settings, options));
    // Background work (the simulator's server, idle connections) is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shiftline demo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: PathBuf) -> ExitCode {
    let Some(settings) = load(&config) else {
        return ExitCode::from(2);
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(shiftline::app::serve(
        settings,
        Arc::new(SystemClock),
        shutdown_signal(),
    )) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shiftline: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The settings in `config`, or None after saying what is wrong with them.
fn load(config: &std::path::Path) -> Option<Settings> {
    Settings::load(config)
        .map_err(|e| {
            eprintln!("shiftline: {}: {e}", config.display());
            if !config.exists() {
                eprintln!(
                    "  (try --config shiftline.example.toml, or `shiftline demo` to see it work)"
                );
            }
        })
        .ok()
}

/// A tokio runtime, or None after saying why there is none.
fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new()
        .map_err(|e| eprintln!("shiftline: cannot start the runtime: {e}"))
        .ok()
}

/// Logs to stderr; `RUST_LOG` overrides `default_level`.
fn init_logs(json: bool, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    // Colour codes only for a person at a terminal: in a file or a pipe they are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
