//! `truewheel audit WHEEL... [--json] [--plat POLICY]` and `truewheel show WHEEL [--json]`
//! (auditwheel's `show`, whose `--json` is auditwheel's own schema).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;
use truewheel_core::audit::{self, AuditReport, ShowFlags};
use truewheel_core::elf::ElfInfo;
use truewheel_core::message::{one_line, printable};
use truewheel_core::policy::{show_text, AnalyzeOptions, HostLibc, ShowJson};
use truewheel_core::source::FileSource;
use truewheel_core::wheel::{Archive, Limits, PlatformTag};

use super::Context;
use crate::failure::Failure;
use crate::host::{DiskHost, Scope};
use crate::io::{open_scanning, DiskWheel, RayonParallel};

/// Arguments of `audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The wheels to audit.
    #[arg(required = true, value_name = "WHEEL")]
    wheels: Vec<PathBuf>,
    /// Print the full report as JSON (documented schema, versioned; an array for several wheels).
    #[arg(long)]
    json: bool,
    /// The policy each wheel must meet (default: the tags of its own file name).
    #[arg(long, value_name = "POLICY")]
    plat: Option<String>,
    /// Leave out libraries matching this pattern (fnmatch), as auditwheel's --exclude.
    #[arg(long, value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Colon-separated folders to search for outside libraries instead of the loader's
    /// configuration (auditwheel's --ldpaths).
    #[arg(long, value_name = "PATHS", conflicts_with = "wheel_only")]
    ldpaths: Option<String>,
    /// Look for libraries only inside the wheel, as the browser inspector does.
    #[arg(long)]
    wheel_only: bool,
    /// Do not fail a policy for an x86-64 ISA level beyond the baseline (x86_64_v2 and
    /// up), as auditwheel's --disable-isa-ext-check.
    #[arg(long)]
    disable_isa_ext_check: bool,
    /// Threads to use (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<usize>,
}

/// Arguments of `show` (as argparse reads auditwheel's: an option given twice takes its
/// last value; a long option may be shortened to a unique prefix).
#[derive(Debug, clap::Args)]
#[command(args_override_self = true, infer_long_args = true)]
pub struct ShowArgs {
    /// The wheel.
    #[arg(value_name = "WHEEL")]
    wheel: PathBuf,
    /// Print auditwheel's `show --json` schema (version 1).
    #[arg(long)]
    json: bool,
    /// Report a pure-Python wheel as such instead of failing (auditwheel's flag).
    #[arg(long)]
    allow_pure_python_wheel: bool,
    /// Colon-separated folders to search for outside libraries (auditwheel's --ldpaths).
    #[arg(long, value_name = "PATHS")]
    ldpaths: Option<String>,
    /// Do not check for an x86-64 ISA level beyond the baseline (auditwheel's flag).
    #[arg(long)]
    disable_isa_ext_check: bool,
}

fn scope(ldpaths: Option<&String>, wheel_only: bool) -> Scope {
    match (ldpaths, wheel_only) {
        (_, true) => Scope::WheelOnly,
        (Some(p), false) => Scope::Folders(p.split(':').map(str::to_owned).collect()),
        (None, false) => Scope::System,
    }
}

/// auditwheel's message for a wheel with no ELF file.
const NOT_PLATFORM: &str = "This does not look like a platform wheel, no ELF executable or shared library file (including compiled Python C extension) found in the wheel archive";

/// The ELF members of a wheel and what they need, read on all threads: largest first,
/// handed to threads as they come free, so the longest reads start at once (torch's
/// libtorch_cuda.so alone is 1 GB) and the other threads share out the rest.
pub fn scan_elfs(
    archive: &Archive<FileSource>,
    name: &str,
) -> Result<HashMap<String, ElfInfo>, Failure> {
    let mut members: Vec<_> = archive.members().iter().collect();
    members.sort_by_key(|m| std::cmp::Reverse(m.compressed_size));
    // `par_bridge` hands members out in this order as threads come free; results are
    // put back in order so that the error reported, if any, does not depend on timing.
    let mut scanned: Vec<_> = members
        .into_iter()
        .enumerate()
        .par_bridge()
        .map(|(i, m)| {
            (
                i,
                audit::scan_member_with(archive, m, &RayonParallel)
                    .map(|info| (m.name.clone(), info)),
            )
        })
        .collect();
    scanned.sort_unstable_by_key(|(i, _)| *i);
    let scanned = scanned
        .into_iter()
        .map(|(_, r)| r)
        .collect::<Result<Vec<_>, audit::AuditError>>()
        .map_err(|e| {
            Failure::unreadable_elf(&e, name, "the wheel holds a damaged library; rebuild it")
        })?;
    Ok(scanned
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect())
}

/// Opens and audits one wheel from disk, its members scanned while its `.dist-info`
/// files are read. The inner error is a wheel the policies cannot be evaluated on
/// (auditwheel's own refusals), the outer one bad input.
pub fn audit_path(
    path: &Path,
    limits: &Limits,
    flags: ShowFlags<'_>,
    host: &DiskHost,
) -> Result<(DiskWheel, Result<AuditReport, String>), Failure> {
    let (wheel, elfs) = open_scanning(path, limits, scan_elfs)?;
    let mut host = host.for_one_wheel();
    let report = match audit::audit_scanned(&wheel, &elfs, &mut host, flags) {
        Ok(report) => Ok(report),
        Err(audit::AuditError::Analyze(reason)) => Err(reason.to_string()),
        Err(e) => return Err(Failure::new(format!("{}: {e}", wheel.file_name()))),
    };
    if let Some(error) = host.error() {
        return Err(unread_library(&wheel.file_name(), &error));
    }
    crate::io::discard(elfs);
    Ok((wheel, report))
}

/// The failure of an audit that could not read a library it found, or the loader's
/// configuration (too many open files, an I/O error): taken for absent, it would have
/// changed the verdict.
pub fn unread_library(wheel: &str, error: &str) -> Failure {
    Failure::new(format!(
        "{wheel}: {error}, so the search for the libraries it needs cannot be trusted"
    ))
    .hint("check the file, and the limits of the process (ulimit -n)")
}

fn pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, Failure> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(crate::io::threads(jobs))
        .build()
        .map_err(|e| Failure::new(format!("cannot start worker threads: {e}")))
}

pub fn run(args: &Args, ctx: &Context) -> Result<ExitCode, Failure> {
    let plat: Option<PlatformTag> = args
        .plat
        .as_deref()
        .map(|p| {
            // (In the WASM build's words: the sentence names the value already.)
            truewheel_core::policy::audit_policy(p).map_err(|e| {
                Failure::new(e.to_string()).hint("policies look like manylinux_2_17_x86_64, manylinux2014_x86_64, musllinux_1_2_aarch64, linux_x86_64")
            })
        })
        .transpose()?;
    let bar = crate::progress::bar(ctx, args.wheels.len() as u64, "auditing");
    let host = DiskHost::new(scope(args.ldpaths.as_ref(), args.wheel_only));
    let flags = ShowFlags {
        exclude: &args.exclude,
        disable_isa_ext_check: args.disable_isa_ext_check,
        // `--wheel-only` answers as the browser does, from the wheel alone.
        host: if args.wheel_only {
            HostLibc::default()
        } else {
            crate::libc::host()
        },
        by_files: true,
    };
    let reports = pool(args.jobs)?.install(|| {
        args.wheels
            .par_iter()
            .map(|path| {
                let (wheel, report) = audit_path(path, &ctx.limits, flags, &host)?;
                let report = report
                    .map_err(|reason| Failure::new(format!("{}: {reason}", wheel.file_name())));
                crate::io::discard(wheel);
                bar.inc(1);
                report
            })
            .collect::<Vec<Result<AuditReport, Failure>>>()
    });
    bar.finish_and_clear();
    // A wheel that cannot be read does not hide the others' verdicts: each is said, in
    // argument order, after them, and the exit status is 2.
    let (mut reports, failures) = crate::io::partition(reports);
    if let Some(p) = &plat {
        for r in &mut reports {
            r.judge(p);
        }
    }
    let pass = |r: &AuditReport| {
        plat.as_ref()
            .map_or_else(|| r.meets_own_tags(), |p| r.meets(p))
    };
    if args.json {
        crate::io::print_json(&reports, args.wheels.len() > 1);
    } else {
        for r in &reports {
            crate::io::out(&printable(&render(r, plat.as_ref(), pass(r))));
        }
    }
    for f in &failures {
        f.print();
    }
    Ok(if !failures.is_empty() {
        ExitCode::from(2)
    } else if reports.iter().all(pass) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn show(args: &ShowArgs, ctx: &Context) -> Result<ExitCode, Failure> {
    let host = DiskHost::new(scope(args.ldpaths.as_ref(), false));
    let flags = ShowFlags {
        exclude: &[],
        disable_isa_ext_check: args.disable_isa_ext_check,
        host: crate::libc::host(),
        by_files: false,
    };
    let (wheel, report) = audit_path(&args.wheel, &ctx.limits, flags, &host)?;
    let name = wheel.file_name();
    let refused = |message: &str| {
        if args.json {
            let json = ShowJson::error(&name, message);
            crate::io::out(&format!("{}\n", truewheel_core::python::dumps(&json)));
        } else {
            // On stderr, as auditwheel logs it: its report's place stays empty.
            eprint!("{}", printable(&format!("{name}: {message}\n")));
        }
        Ok(ExitCode::from(1))
    };
    let report = match report {
        Ok(r) => r,
        Err(reason) => return refused(&reason),
    };
    // As auditwheel: a wheel without ELF files passes as pure only when its name is
    // (every platform tag `any`); one tagged for a platform is not a platform wheel.
    let named_pure =
        AnalyzeOptions::show(&wheel.filename.tags.platform).is_ok_and(|(_, pure)| pure);
    if report.pure && !(args.allow_pure_python_wheel && named_pure) {
        return refused(NOT_PLATFORM);
    }
    if args.json {
        let json = match &report.abi {
            Some(abi) => ShowJson::platform(&report.wheel, abi),
            None => ShowJson::pure(&report.wheel),
        };
        crate::io::out(&format!("{}\n", truewheel_core::python::dumps(&json)));
    } else if let Some(abi) = &report.abi {
        // auditwheel's words, as scripts and logs know them (`audit` has ours).
        crate::io::out(&printable(&show_text(&report.wheel, abi, ctx.verbose)));
    } else {
        // A pure wheel let through: auditwheel logs why it is not a platform wheel, and
        // prints no report.
        eprint!("{}", printable(&format!("{name}: {NOT_PLATFORM}\n")));
    }
    Ok(ExitCode::SUCCESS)
}

/// The text form: the verdict line, then the findings, most important first.
pub fn render(r: &AuditReport, plat: Option<&PlatformTag>, pass: bool) -> String {
    let mut o = String::new();
    let judged: &[PlatformTag] = plat.map_or(&r.platform_tags[..], std::slice::from_ref);
    match (&r.overall_tag, &r.foreign_binary) {
        (Some(overall), _) => {
            let _ = writeln!(o, "{}: {overall}", r.wheel);
        }
        // (No ELF file, but a binary for another system: its Linux tags fail, below.)
        (None, Some(f)) => {
            let _ = writeln!(
                o,
                "{}: no ELF files, but a binary for another system ({})",
                r.wheel, f.summary
            );
        }
        (None, None) if r.other_platform => {
            let _ = writeln!(
                o,
                "{}: not a Linux wheel ({}): no manylinux or musllinux policy applies",
                r.wheel,
                PlatformTag::dotted(&r.platform_tags)
            );
            if let (Some(p), false) = (plat, pass) {
                let _ = writeln!(o, "  fails {p}");
            }
            return o;
        }
        (None, None) if pass => {
            let _ = writeln!(o, "{}: pure (no ELF files; meets every policy)", r.wheel);
            return o;
        }
        // (A tag naming no policy: its note, below.)
        (None, None) => {
            let _ = writeln!(o, "{}: pure (no ELF files)", r.wheel);
        }
    }
    // When every tag asked for was judged apart, its note gives the verdict.
    if !pass && !r.all_judged_apart(judged) {
        let _ = writeln!(o, "  fails {}", PlatformTag::dotted(judged));
    }
    for note in &r.notes(judged, pass) {
        let _ = writeln!(o, "  {}", one_line(note));
    }
    // A finding quotes library and symbol names from the wheel: one line each, whatever
    // they hold, so that no name can forge a line of the report.
    for f in &r.findings {
        let _ = writeln!(
            o,
            "  {} → not {} or stricter",
            one_line(&f.text),
            f.rules_out
        );
    }
    o
}
