//! `truewheel`: build, audit and repair Python wheels.
//!
//! A thin shell over `truewheel-core`: argument parsing, files, threads and terminal
//! output live here; every decision about wheels lives in the core.

mod claims;
mod commands;
mod failure;
mod host;
mod interrupt;
mod io;
mod ldpaths;
mod libc;
mod limits;
mod progress;
mod provides;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Audit, repair and retag Python wheels: a drop-in for auditwheel, patchelf and `wheel tags`.
#[derive(Debug, Parser)]
#[command(name = "truewheel", version, about, propagate_version = true)]
struct Cli {
    /// Print no progress and no notes (results and errors still go out).
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Print more: `repair` tells what it grafted and edited (auditwheel's -v; additive,
    /// as auditwheel's, though one is all there is).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(flatten)]
    limits: limits::LimitArgs,
    #[command(subcommand)]
    command: Command,
}

/// truewheel called as `patchelf`.
#[derive(Debug, Parser)]
#[command(
    name = "patchelf",
    about = "Edit DT_NEEDED, RPATH/RUNPATH and SONAME of ELF files (truewheel, as patchelf)"
)]
struct AsPatchelf {
    /// Print no notes (results and errors still go out).
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    limits: limits::LimitArgs,
    #[command(flatten)]
    args: commands::patchelf::Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a wheel's name, tags, WHEEL and METADATA, members, binaries, and verify RECORD.
    Inspect(commands::inspect::Args),
    /// Audit wheels against the manylinux/musllinux policies (exit 1 if one fails).
    Audit(commands::audit::Args),
    /// What `auditwheel show` says of a wheel (`--json`: auditwheel's own schema).
    Show(commands::audit::ShowArgs),
    /// Bundle the outside libraries a wheel needs and retag it (like `auditwheel repair`).
    Repair(commands::repair::Args),
    /// Time inflating only what an audit reads (for bench/run).
    #[command(hide = true)]
    Floor(commands::floor::Args),
    /// Give a wheel new tags (like `wheel tags`): new file name, WHEEL Tag lines, RECORD.
    Retag(commands::retag::Args),
    /// Edit DT_NEEDED, RPATH/RUNPATH and SONAME of ELF files (patchelf's flags).
    Patchelf(commands::patchelf::Args),
}

/// The version `patchelf --version` gives when truewheel is called as `patchelf`: the
/// patchelf whose flags and meanings it follows (auditwheel asks for 0.14.5 or later).
const PATCHELF_VERSION: &str = "0.18.0";

/// jemalloc in the static (musl) build, as ripgrep, uv and ruff link it there. musl's
/// allocator maps and unmaps small groups of blocks as they fill and empty (578 `mmap`
/// calls to repair three small wheels, against 40 with glibc's) and takes a lock that
/// the deflate threads contend on (910 `futex` calls against 56): those wheels took 55
/// ms against glibc's 35, and 39 with jemalloc. (mimalloc was as fast, but held 84 MB at
/// its peak repairing jaxlib, against jemalloc's 38 and glibc's 30.)
#[cfg(all(target_env = "musl", target_pointer_width = "64"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // Called as `patchelf` (`ln -s truewheel patchelf` on the PATH), it is patchelf, for
    // the tools that run patchelf by that name (auditwheel's repair, build scripts).
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let as_patchelf = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|n| n == "patchelf");
    if as_patchelf {
        if args.len() == 2 && (args[1] == "--version" || args[1] == "-V") {
            io::out(&format!(
                "patchelf {PATCHELF_VERSION} (truewheel {})\n",
                env!("CARGO_PKG_VERSION")
            ));
            return ExitCode::SUCCESS;
        }
        // Its own parser, so that its usage and errors name it `patchelf`, not
        // `truewheel patchelf`.
        let p = AsPatchelf::parse_from(args);
        let ctx = commands::Context {
            quiet: p.quiet,
            verbose: false,
            limits: p.limits.limits(),
        };
        return commands::patchelf::run(&p.args, &ctx).unwrap_or_else(|failure| {
            failure.print();
            ExitCode::from(2)
        });
    }
    let cli = Cli::parse_from(args);
    let ctx = commands::Context {
        quiet: cli.quiet,
        verbose: cli.verbose > 0 && !cli.quiet,
        limits: cli.limits.limits(),
    };
    let result = match cli.command {
        Command::Inspect(args) => Ok(commands::inspect::run(&args, &ctx)),
        Command::Retag(args) => Ok(commands::retag::run(&args, &ctx)),
        Command::Audit(args) => commands::audit::run(&args, &ctx),
        Command::Show(args) => commands::audit::show(&args, &ctx),
        Command::Floor(args) => commands::floor::run(&args, &ctx),
        Command::Repair(args) => commands::repair::run(&args, &ctx),
        Command::Patchelf(args) => commands::patchelf::run(&args, &ctx),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            failure.print();
            ExitCode::from(2)
        }
    }
}
