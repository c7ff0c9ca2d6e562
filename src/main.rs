//! `wsflow`: the command-line edge of the project.
//!
//! A thin binary over the library crates in `crates/`: it parses arguments,
//! wires the crates together and turns their errors into exit codes.
//! Business rules live in the crates, never here.

mod run_cmd;
mod token_cmd;
mod up;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Local and AWS runner for API Gateway WebSocket APIs driving AWS Step Functions.
#[derive(Debug, Parser)]
#[command(name = "wsflow", version, about)]
struct Cli {
    /// What to do; with none, `up`.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the whole application from template.yaml on one local port
    /// (the default when no command is given).
    Up(up::UpArgs),
    /// Validate and run one Amazon States Language definition; prints a
    /// DescribeExecution-shaped JSON object; exit 0 only when it succeeded.
    Run(run_cmd::RunArgs),
    /// Validate a definition (ValidateStateMachineDefinition semantics).
    Validate(run_cmd::ValidateArgs),
    /// Print a JWT the app's `$connect` authorizer accepts (`AuthMode=jwt`).
    Token(token_cmd::TokenArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // `wsflow` alone is `wsflow up` with its defaults.
    let command = match cli.command {
        Some(command) => command,
        None => match Cli::try_parse_from(["wsflow", "up"]) {
            Ok(Cli {
                command: Some(command),
            }) => command,
            _ => {
                eprintln!("wsflow: cannot derive the default `up` arguments");
                return ExitCode::from(2);
            }
        },
    };
    let result = match command {
        Command::Up(args) => match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(up::up(args)).map(|()| true),
            Err(e) => Err(e.into()),
        },
        Command::Run(args) => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(run_cmd::run(&args)),
            Err(e) => Err(e.into()),
        },
        Command::Validate(args) => run_cmd::validate(&args),
        Command::Token(args) => token_cmd::token(&args).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("wsflow: {e:#}");
            ExitCode::from(2)
        }
    }
}
