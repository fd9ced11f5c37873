//! The command line: `brigade-bot [run] --config bot.toml [--check-config] [--log-format json]`,
//! and `brigade-bot healthcheck` for a container's health check.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand, ValueEnum};
use tokio::net::TcpListener;
use tracing::error;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// Default log filter: the bot at info, the SDK only when something is wrong. The SDK's HTTP
/// client logs expected 404s (absent account data, related events) as errors; every error that
/// matters reaches the bot's own code, which logs it with context.
pub const DEFAULT_LOG_FILTER: &str =
    "info,matrix_sdk=warn,matrix_sdk::http_client=off,matrix_sdk::sync=off,\
     matrix_sdk_base=warn,matrix_sdk_crypto=warn,matrix_sdk_crypto::backups=error";

/// Brigade's Matrix bot: incident response in Matrix rooms.
#[derive(Debug, Parser)]
#[command(name = "brigade-bot", version, about)]
pub struct Args {
    /// What to do (run when not given).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The configuration file.
    #[arg(
        long,
        global = true,
        env = "BRIGADE_CONFIG",
        default_value = "bot.toml"
    )]
    pub config: PathBuf,
    /// Validate the configuration and exit: 0 when valid, 2 with the reason otherwise.
    #[arg(long)]
    pub check_config: bool,
    /// How log lines are written (the level comes from RUST_LOG).
    #[arg(long, value_enum, env = "BRIGADE_LOG_FORMAT", default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
}

/// The subcommands.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Command {
    /// Run the bot.
    Run,
    /// Ask the running bot's `/healthz` (on `http.listen`): exit 0 when healthy, 1 otherwise.
    /// The container image's HEALTHCHECK.
    Healthcheck,
}

/// Log line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Text for people.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The program: parse arguments, load the configuration, set up logging, run until a signal.
pub fn main() -> ExitCode {
    let args = Args::parse();
    // Arms the fault-injection points named in FAILPOINTS (only in builds with the
    // `failpoints` feature, for the end-to-end tests).
    let _failpoints = fail::FailScenario::setup();
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("brigade-bot: {}: {error}", args.config.display());
            return match args.command {
                // Docker reserves every status but 0 and 1.
                Some(Command::Healthcheck) => ExitCode::FAILURE,
                _ => ExitCode::from(2),
            };
        }
    };
    if args.check_config {
        println!("{}: configuration is valid", args.config.display());
        return ExitCode::SUCCESS;
    }
    if matches!(args.command, Some(Command::Healthcheck)) {
        return brigade_core::health::check("brigade-bot", config.http.listen);
    }
    init_tracing(args.log_format);

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match TcpListener::bind(config.http.listen).await {
            Ok(listener) => listener,
            Err(error) => {
                error!(%error, listen = %config.http.listen, "cannot listen for HTTP");
                return ExitCode::FAILURE;
            }
        };
        match crate::run(config, listener, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                error!(%error, "brigade-bot stopped");
                ExitCode::FAILURE
            }
        }
    })
}

fn init_tracing(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                error!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the bot");
                let _ = interrupt.await;
                return;
            }
        };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
