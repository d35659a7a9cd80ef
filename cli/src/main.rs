//! `truewheel`: build, audit and repair Python wheels.
//!
//! A thin shell over `truewheel-core`: argument parsing, files, threads and terminal
//! output live here; every decision about wheels lives in the core.

mod commands;
mod failure;
mod io;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Build, audit and repair Python wheels.
#[derive(Debug, Parser)]
#[command(name = "truewheel", version, about, propagate_version = true)]
struct Cli {
    /// Print no progress and no notes (results and errors still go out).
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a wheel's name, tags, WHEEL and METADATA, members, binaries, and verify RECORD.
    Inspect(commands::inspect::Args),
    /// Give a wheel new tags (like `wheel tags`): new file name, WHEEL Tag lines, RECORD.
    Retag(commands::retag::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = commands::Context { quiet: cli.quiet };
    let result = match cli.command {
        Command::Inspect(args) => commands::inspect::run(&args, &ctx),
        Command::Retag(args) => commands::retag::run(&args, &ctx),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            failure.print();
            ExitCode::from(2)
        }
    }
}
