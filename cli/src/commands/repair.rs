//! `truewheel repair WHEEL... -w DIR [--plat P] [--only-plat] [--exclude PAT] [--strip]
//! [--json] [-j N]`: a drop-in for `auditwheel repair`, with auditwheel's flags.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;
use serde::Serialize;
use truewheel_core::audit;
use truewheel_core::message::one_line;
use truewheel_core::policy::{AnalyzeOptions, PlatRequest, RepairRefusal};
use truewheel_core::repair::editor::CoreEditor;
use truewheel_core::repair::{self, tags::add_platforms, Plan};
use truewheel_core::wheel::PlatformTag;

mod inputs;

use inputs::{read_library, verify_and_scan, Inputs};

use super::Context;
use crate::claims::{Claims, Words};
use crate::failure::Failure;
use crate::host::{DiskHost, Scope};
use crate::io::{ensure_dir, open_wheel, write_options, write_unsynced, DiskWheel, Unsynced};

/// Arguments of `repair` (auditwheel's spellings; its flags are booleans). As argparse
/// reads them for auditwheel, an option given twice takes its last value and a long
/// option may be shortened to a unique prefix (`--only` for `--only-plat`).
#[derive(Debug, clap::Args)]
#[command(args_override_self = true, infer_long_args = true)]
#[allow(clippy::struct_excessive_bools)]
pub struct Args {
    /// The wheels to repair.
    #[arg(required = true, value_name = "WHEEL")]
    wheels: Vec<PathBuf>,
    /// Directory for the repaired wheels.
    #[arg(
        short = 'w',
        long = "wheel-dir",
        value_name = "DIR",
        default_value = "wheelhouse"
    )]
    wheel_dir: PathBuf,
    /// The policy to reach: a name (`manylinux_2_17_x86_64`, `manylinux2014_x86_64`) or
    /// `auto` (the best the wheel can reach).
    #[arg(
        long,
        value_name = "PLATFORM",
        default_value = "auto",
        env = "AUDITWHEEL_PLAT"
    )]
    plat: String,
    /// Tag only the requested policy, even when the wheel earns a better one.
    #[arg(long)]
    only_plat: bool,
    /// Leave out libraries matching this pattern (they must be present at run time).
    #[arg(long, value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Strip symbols and debug information (`strip -s`) from every ELF file of the wheel
    /// and every grafted library.
    #[arg(long)]
    strip: bool,
    /// Deflate level for the members repair writes (0-9; -1 means 6, zlib's default).
    #[arg(
        short = 'z',
        long = "zip-compression-level",
        value_name = "LEVEL",
        default_value_t = -1,
        env = "AUDITWHEEL_ZIP_COMPRESSION_LEVEL",
        value_parser = clap::value_parser!(i32).range(-1..=9),
        allow_negative_numbers = true
    )]
    zip_compression_level: i32,
    /// Folder suffix for grafted libraries (`<name>.libs`).
    #[arg(
        short = 'L',
        long = "lib-sdir",
        value_name = "SUFFIX",
        default_value = ".libs"
    )]
    lib_sdir: String,
    /// Do not update the wheel's filename tags and WHEEL info.
    #[arg(long = "no-update-tags")]
    no_update_tags: bool,
    /// Colon-separated folders to search instead of the loader's configuration.
    #[arg(long, value_name = "PATHS")]
    ldpaths: Option<String>,
    /// Copy a pure-Python wheel (platform tag `any`, no ELF file) to the output folder
    /// unchanged instead of refusing it.
    #[arg(long = "allow-pure-python-wheel")]
    allow_pure_python_wheel: bool,
    /// Do not fail a policy for an x86-64 ISA level beyond the baseline (x86_64_v2 and
    /// up), as auditwheel's --disable-isa-ext-check.
    #[arg(long)]
    disable_isa_ext_check: bool,
    /// auditwheel's ELF patcher. truewheel makes the edits itself, so `patchelf` and
    /// `lief-patchelf` give the same wheel; `none` refuses a wheel that needs an edit.
    #[arg(
        long,
        value_name = "PATCHER",
        value_enum,
        default_value = "patchelf",
        env = "AUDITWHEEL_PATCHER"
    )]
    patcher: Patcher,
    /// Print what was done as JSON.
    #[arg(long)]
    json: bool,
    /// Threads to use (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<usize>,
}

/// auditwheel's `--patcher` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Patcher {
    /// The edits patchelf would make (made by truewheel).
    Patchelf,
    /// The same edits (auditwheel's LIEF-based patchelf).
    LiefPatchelf,
    /// No ELF edits: a wheel that needs one is refused.
    None,
}

/// What `repair --json` reports for one wheel.
#[derive(Debug, Serialize)]
pub struct RepairReport {
    /// The input wheel.
    pub wheel: String,
    /// The repaired wheel written.
    pub output: String,
    /// The policy whose libraries were bundled.
    pub policy: PlatformTag,
    /// The platform tags of the output's name.
    pub tags: Vec<PlatformTag>,
    /// Grafts and edits.
    pub plan: Plan,
}

pub fn run(args: &Args, ctx: &Context) -> Result<ExitCode, Failure> {
    // As auditwheel's choices: a policy or `auto`, never `linux_*` (which no repair
    // reaches: it is what a wheel is before one).
    let request: PlatRequest = args.plat.parse().map_err(|e| {
        Failure::new(format!("--plat {}: {e}", args.plat))
            .hint("policies look like manylinux_2_17_x86_64, manylinux2014_x86_64, musllinux_1_2_aarch64, or auto")
    })?;
    // (`-L` is checked before any work; the distribution's name cannot add a `..`.)
    repair::plan::libs_dir("x", &args.lib_sdir).map_err(|e| Failure::new(e.to_string()))?;
    // Two inputs of one name would race for one output name, the last rename winning:
    // the later ones are refused, and the others repaired.
    let mut seen = std::collections::HashSet::new();
    let twice: std::collections::HashSet<usize> = (0..args.wheels.len())
        .filter(|&i| {
            args.wheels[i]
                .file_name()
                .is_some_and(|name| !seen.insert(name))
        })
        .collect();
    ensure_dir(&args.wheel_dir)?;
    let scope = args.ldpaths.as_ref().map_or(Scope::System, |p| {
        Scope::Folders(p.split(':').map(str::to_owned).collect())
    });
    let host = DiskHost::new(scope);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(crate::io::threads(args.jobs))
        .build()
        .map_err(|e| Failure::new(format!("cannot start worker threads: {e}")))?;
    // Syncing an output to disk waits for the disk (a few ms, more on a busy machine):
    // a thread of its own does it, and renames the output into place, while the
    // workers repair the next wheels. Without that thread, outputs are synced in place.
    let (to_sync, outputs) = std::sync::mpsc::channel::<(usize, Unsynced)>();
    let syncer = std::thread::Builder::new()
        .name("sync".into())
        .spawn(move || {
            outputs
                .into_iter()
                .map(|(i, out)| (i, out.persist()))
                .collect::<Vec<_>>()
        })
        .ok();
    // Smallest wheels first. A small wheel's time goes to work on one thread (the
    // loader's paths, a package lookup that reads every dpkg list for a private
    // library), a large one's to deflating, which spreads over every core; a small
    // wheel started last would end the run on one core while the others sit idle.
    let mut order: Vec<usize> = (0..args.wheels.len()).collect();
    order.sort_by_key(|&i| std::fs::metadata(&args.wheels[i]).map_or(0, |m| m.len()));
    let claimed = Claims::new(
        &args.wheels,
        Words {
            made: "repaired",
            made_into: "is repaired into",
            verb: "repair",
        },
    );
    let mut results: Vec<(usize, Result<Reported, Failure>)> = pool.install(|| {
        order
            .par_iter()
            .with_max_len(1)
            .map(|&i| {
                if twice.contains(&i) {
                    let failure = Failure::new(format!(
                        "{} is given twice (or two wheels share its name), and both would be repaired into one output file",
                        args.wheels[i].display()
                    ))
                    .hint("repair wheels of the same name into different -w directories");
                    return (i, Err(failure));
                }
                let outcome = repair_one(args, ctx, &args.wheels[i], &request, &host, &claimed);
                let result = outcome.and_then(|o| match o {
                    Outcome::Done(report, out) => match to_sync.send((i, out)) {
                        Ok(()) => Ok(Ok(*report)),
                        Err(unsent) => unsent.0 .1.persist().map(|_| Ok(*report)),
                    },
                    Outcome::Copied(report) => Ok(Ok(report)),
                    Outcome::Refused(message) => Ok(Err(message)),
                });
                (i, result)
            })
            .collect()
    });
    drop(to_sync);
    // Reports and errors in the order the wheels were given.
    results.sort_by_key(|(i, _)| *i);
    if let Some(syncer) = syncer {
        let synced = syncer.join().map_err(|_| {
            Failure::new("cannot write the repaired wheels: the thread syncing them failed")
        })?;
        for (i, result) in synced {
            if let Err(failure) = result {
                results[i].1 = Err(failure);
            }
        }
    }
    // A wheel that failed does not hide the others: each is reported, and `--json`
    // still lists what was written.
    let mut reports = Vec::new();
    let (mut refused, mut failed) = (false, false);
    for (_, r) in results {
        let r = match r {
            Ok(r) => r,
            Err(failure) => {
                failure.print();
                failed = true;
                continue;
            }
        };
        match r {
            Ok(report) => {
                if ctx.verbose {
                    eprint!("{}", describe(&report));
                }
                if !args.json && !ctx.quiet {
                    crate::io::out(&format!("{}\n", report.output));
                }
                reports.push(report);
            }
            Err(message) => {
                eprintln!("error: {}", one_line(&message));
                refused = true;
            }
        }
    }
    if args.json {
        crate::io::print_json(&reports, args.wheels.len() > 1);
    }
    Ok(if failed {
        ExitCode::from(2)
    } else if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `-v` tells of a repair: the tags reached, each library grafted (from where, as
/// what) and each member edited.
fn describe(report: &RepairReport) -> String {
    use std::fmt::Write as _;
    if report.policy == PlatformTag::Any {
        return format!("{}: a pure-Python wheel, copied unchanged\n", report.wheel);
    }
    let tags: Vec<String> = report.tags.iter().map(ToString::to_string).collect();
    let mut o = format!("{}: tagged {}\n", report.wheel, tags.join(", "));
    for g in &report.plan.grafts {
        let _ = writeln!(o, "  grafted {} as {} ({})", g.source, g.member, g.edits);
    }
    for (member, edits) in &report.plan.members {
        let _ = writeln!(o, "  edited {member} ({edits})");
    }
    for (from, to) in &report.plan.scripts {
        let _ = writeln!(o, "  moved {from} to {to}, a shim left in its place");
    }
    o
}

enum Outcome {
    /// Repaired: the report, and the output still to be synced and renamed into place.
    Done(Box<RepairReport>, Unsynced),
    /// A pure wheel copied as it is (`--allow-pure-python-wheel`).
    Copied(RepairReport),
    Refused(String),
}

/// `--allow-pure-python-wheel`: the wheel, byte for byte, in the output folder (written
/// atomically; nothing is written when it is already there, as auditwheel does).
fn copy_unchanged(args: &Args, path: &Path, wheel: &DiskWheel) -> Result<RepairReport, Failure> {
    let name = wheel.file_name();
    let target = args.wheel_dir.join(&name);
    if !crate::io::same_file(&target, path) {
        let mut input = crate::io::open_regular(path).map_err(|e| Failure::io("read", path, &e))?;
        crate::io::write_atomic(&args.wheel_dir, &name, |out| {
            std::io::copy(&mut input, out).map(|_| ())
        })?;
    }
    Ok(RepairReport {
        wheel: name,
        output: target.display().to_string(),
        policy: PlatformTag::Any,
        tags: wheel.filename.tags.platform.clone(),
        plan: Plan::default(),
    })
}

/// What `run` reports of a wheel: what was done, or why it was refused.
type Reported = Result<RepairReport, String>;

fn repair_one(
    args: &Args,
    ctx: &Context,
    path: &Path,
    request: &PlatRequest,
    host: &DiskHost,
    claimed: &Claims,
) -> Result<Outcome, Failure> {
    let wheel = open_wheel(path, &ctx.limits)?;
    let name = wheel.file_name();
    let (elfs, mut kept) = verify_and_scan(&wheel, args.wheels.len() == 1)?;
    let (options, pure) = AnalyzeOptions::repair(&wheel.filename.tags.platform, request)
        .map_err(|e| Failure::new(format!("{name}: {e}")))?;
    let mut options = options.on(crate::libc::host());
    options.disable_isa_ext_check = args.disable_isa_ext_check;
    if pure && elfs.is_empty() && args.allow_pure_python_wheel {
        // (Copied onto itself, it is left as it is: nothing is written.)
        if let Some(refusal) = claimed.claim_path(&args.wheel_dir.join(&name), &name, path) {
            return Ok(Outcome::Refused(refusal));
        }
        return copy_unchanged(args, path, &wheel).map(Outcome::Copied);
    }
    // A wheel tagged `any` that holds ELF files is repaired as a platform wheel (its
    // architecture taken from them, `any` replaced and Root-Is-Purelib made false), as
    // auditwheel repairs it.
    if elfs.is_empty() {
        return Ok(Outcome::Refused(format!(
            "{name}: this does not look like a platform wheel: it holds no ELF file, so there is nothing to repair"
        )));
    }
    let mut h = host.for_one_wheel();
    let report = match audit::audit(&wheel, &elfs, &mut h, &options, false, &args.exclude) {
        Ok(r) => r,
        Err(audit::AuditError::Analyze(reason)) => {
            return Ok(Outcome::Refused(format!("{name}: {reason}")))
        }
        Err(e) => return Err(Failure::new(format!("{name}: {e}"))),
    };
    if let Some(error) = h.error() {
        return Err(super::audit::unread_library(&name, &error));
    }
    let abi = report
        .abi
        .as_ref()
        .expect("a platform wheel has an evaluation");
    let target = match abi.repair_target(request, args.only_plat) {
        Ok(t) => t,
        // A `--plat` naming no policy is a mistake in the command (auditwheel exits 2
        // too), not a wheel that fails one.
        Err(unknown @ RepairRefusal::UnknownPolicy(_)) => {
            let known: Vec<String> = abi
                .policies
                .iter()
                .filter(|p| !p.is_linux())
                .map(|p| p.tag().to_string())
                .collect();
            return Err(Failure::new(format!("{name}: {unknown}"))
                .hint(format!("--plat takes one of: {}", known.join(", "))));
        }
        Err(refusal) => return Ok(Outcome::Refused(format!("{name}: {refusal}"))),
    };
    // The libraries to graft are read and hashed (for their names) on all threads, while
    // the package lookup for auditwheel's SBOM, which waits on files, runs beside.
    let sources = repair::plan::graft_sources(abi, &target.policy);
    let (mut inputs, providers) = rayon::join(
        || Inputs::read_ahead(&elfs, &sources),
        || crate::provides::providers(&sources),
    );
    let android = matches!(target.policy, PlatformTag::Android { .. });
    let plan = match repair::plan(
        abi,
        &target.policy,
        wheel.filename.name.as_str(),
        &args.lib_sdir,
        args.strip,
        &mut inputs,
    ) {
        Ok(plan) => plan,
        // A policy the wheel cannot meet, as a too-new symbol: refused.
        Err(e @ (repair::PlanError::AndroidRunpath(_) | repair::PlanError::CLibrary { .. })) => {
            return Ok(Outcome::Refused(format!("{name}: {e}")));
        }
        Err(e) => {
            let one =
                matches!(&e, repair::PlanError::NotFound { missing, .. } if missing.len() == 1);
            let hint = match e {
                // An Android wheel was cross-compiled: only --ldpaths is searched.
                repair::PlanError::NotFound { .. } if android => {
                    if one {
                        "give the folder of the Android build's libraries with --ldpaths, or leave it out with --exclude"
                    } else {
                        "give the folders of the Android build's libraries with --ldpaths, or leave them out with --exclude"
                    }
                }
                // (--ldpaths replaces LD_LIBRARY_PATH and the system's folders.)
                repair::PlanError::NotFound { .. } if args.ldpaths.is_some() => {
                    if one {
                        "add its folder to --ldpaths (which replaces LD_LIBRARY_PATH and the system's folders), or leave it out with --exclude"
                    } else {
                        "add their folders to --ldpaths (which replaces LD_LIBRARY_PATH and the system's folders), or leave them out with --exclude"
                    }
                }
                repair::PlanError::NotFound { .. } => {
                    if one {
                        "install the library, or point LD_LIBRARY_PATH at its folder, or leave it out with --exclude"
                    } else {
                        "install the libraries, or point LD_LIBRARY_PATH at their folders, or leave them out with --exclude"
                    }
                }
                repair::PlanError::Unreadable { .. } => {
                    "make the file readable, or leave it out with --exclude"
                }
                repair::PlanError::LibsDir(_)
                | repair::PlanError::NoPolicy(_)
                | repair::PlanError::AndroidRunpath(_)
                | repair::PlanError::CLibrary { .. } => "",
            };
            let failure = Failure::new(format!("{name}: {e}"));
            return Err(if hint.is_empty() {
                failure
            } else {
                failure.hint(hint)
            });
        }
    };
    if args.patcher == Patcher::None {
        let needing: Vec<&str> = plan
            .grafts
            .iter()
            .filter(|g| g.edits.patches())
            .map(|g| g.member.as_str())
            .chain(
                plan.members
                    .iter()
                    .filter(|(_, e)| e.patches())
                    .map(|(m, _)| m.as_str()),
            )
            .collect();
        if let Some(first) = needing.first() {
            return Ok(Outcome::Refused(format!(
                "{name}: --patcher none makes no ELF edits, and {} file(s) need them, {first} first",
                needing.len()
            )));
        }
    }
    // Only the members to edit are needed now.
    kept.contents
        .retain(|member, _| plan.members.contains_key(member));
    kept.walked
        .retain(|member, _| plan.members.contains_key(member));
    // auditwheel's SBOM: the bundled files that a system package provides. Every graft's
    // source was among those looked up.
    let provided: Vec<(String, truewheel_core::repair::sbom::Provider)> = plan
        .grafts
        .iter()
        .filter_map(|g| {
            let i = sources.binary_search(&g.source.as_str()).ok()?;
            Some((g.source.clone(), providers[i].clone()?))
        })
        .collect();
    let (new_name, info) = if args.no_update_tags {
        (wheel.filename.clone(), wheel.info.clone())
    } else {
        let remove = repair::tags::replaced_by(&target.tags[0]);
        add_platforms(&wheel.filename, &wheel.info, &target.tags, &remove)
    };
    let out_name = new_name.to_string();
    let sbom = truewheel_core::repair::sbom::sbom(
        &out_name,
        wheel.filename.name.as_str(),
        &wheel.filename.version,
        &provided,
    );
    // A wheel the repair would leave as it is (nothing to graft or edit, its tags
    // already those reached), given in the output folder: left there, as it is, where
    // auditwheel rewrites it in place (`repair -w dist dist/*.whl` over wheels already
    // repaired, or tagged by maturin).
    let unchanged = plan.grafts.is_empty()
        && plan.members.is_empty()
        && sbom.is_none()
        && new_name == wheel.filename
        && info == wheel.info;
    if unchanged && crate::io::same_file(&args.wheel_dir.join(&out_name), path) {
        return Ok(Outcome::Copied(RepairReport {
            wheel: name,
            output: args.wheel_dir.join(&out_name).display().to_string(),
            policy: target.policy,
            tags: new_name.tags.platform.clone(),
            plan,
        }));
    }
    if let Some(refusal) = claimed.claim(&args.wheel_dir, &out_name, path) {
        return Ok(Outcome::Refused(refusal));
    }
    let mut write_opts = write_options()?;
    write_opts.level = u32::try_from(args.zip_compression_level).unwrap_or(6);
    let editor = CoreEditor;
    let written = write_unsynced(&args.wheel_dir, &out_name, |w| {
        repair::apply(
            &wheel,
            &plan,
            &mut kept,
            &mut |path| read_library(&mut inputs.libraries, path),
            &editor,
            &info,
            sbom.as_deref(),
            w,
            write_opts,
            &crate::io::RayonParallel,
        )
        .map(|_| ())
        .map_err(|e| std::io::Error::other(e.to_string()))
    })?;
    let report = RepairReport {
        wheel: name,
        output: written.target().display().to_string(),
        policy: target.policy,
        // What the name carries: the tags reached, and those of the input's it keeps
        // (all of them with --no-update-tags).
        tags: new_name.tags.platform.clone(),
        plan,
    };
    Ok(Outcome::Done(Box::new(report), written))
}
