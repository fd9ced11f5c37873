//! The command line: `brigade-bridge [run] --config bridge.toml [--check-config]`,
//! `brigade-bridge registration --config bridge.toml` to print the appservice registration, and
//! `brigade-bridge healthcheck` for a container's health check.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand, ValueEnum};
use tokio::net::TcpListener;
use tracing::error;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// Brigade's alert bridge: alert webhooks into Matrix rooms, exactly once.
#[derive(Debug, Parser)]
#[command(name = "brigade-bridge", version, about)]
pub struct Args {
    /// What to do (run when not given).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The configuration file.
    #[arg(
        long,
        global = true,
        env = "BRIGADE_BRIDGE_CONFIG",
        default_value = "bridge.toml"
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
    /// Run the bridge.
    Run,
    /// Print the appservice registration YAML for the homeserver.
    Registration,
    /// Ask the running bridge's `/healthz` (on `appservice.listen`): exit 0 when healthy, 1
    /// otherwise. The container image's HEALTHCHECK.
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

/// The program.
pub fn main() -> ExitCode {
    let args = Args::parse();
    // Arms the fault-injection points named in FAILPOINTS (only in builds with the
    // `failpoints` feature, for the end-to-end tests).
    let _failpoints = fail::FailScenario::setup();
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("brigade-bridge: {}: {error}", args.config.display());
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
    match args.command {
        Some(Command::Registration) => {
            print!("{}", crate::registration::yaml(&config));
            return ExitCode::SUCCESS;
        }
        Some(Command::Healthcheck) => {
            return brigade_core::health::check("brigade-bridge", config.appservice.listen)
        }
        Some(Command::Run) | None => {}
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match args.log_format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listen = config.appservice.listen;
        let listener = match TcpListener::bind(listen).await {
            Ok(listener) => listener,
            Err(error) => {
                error!(%error, %listen, "cannot listen for HTTP");
                return ExitCode::FAILURE;
            }
        };
        match crate::run(config, listener, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                error!(%error, "brigade-bridge stopped");
                ExitCode::FAILURE
            }
        }
    })
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        let _ = interrupt.await;
        return;
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
