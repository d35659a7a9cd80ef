//! `truewheel retag WHEEL... [--python-tag T] [--abi-tag T] [--platform-tag T] [--build N]
//! [--remove] [-w DIR]`: what `wheel tags` does, through the one wheel writer.
//!
//! A tag value replaces the set (`cp311.cp312`), or with a leading `+` adds to it and
//! with `-` removes from it, as `wheel tags` reads them. Sets come out sorted. The edits
//! are the core's ([`truewheel_core::wheel::retag`]), shared with the WASM build.
//! As `wheel tags` (argparse), an option given twice takes its last value, a long option
//! may be shortened to a unique prefix (`--python`), and each new wheel's file name is
//! printed, for a script to take up (`dist/$(truewheel retag …)`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use truewheel_core::wheel::retag::{retag, TagEdits};

use super::Context;
use crate::claims::{Claims, Words};
use crate::failure::Failure;
use crate::io::{ensure_dir, open_wheel, require_valid_record, write_atomic, write_options};

/// Arguments of `retag`.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true, infer_long_args = true)]
pub struct Args {
    /// The wheels to retag.
    #[arg(required = true, value_name = "WHEEL")]
    wheels: Vec<PathBuf>,
    /// Interpreter tags: `cp311.cp312` replaces, `+py3` adds, `-py2` removes.
    #[arg(long, allow_hyphen_values = true, value_name = "TAGS")]
    python_tag: Option<String>,
    /// ABI tags: `abi3` replaces, `+none` adds, `-cp311` removes.
    #[arg(long, allow_hyphen_values = true, value_name = "TAGS")]
    abi_tag: Option<String>,
    /// Platform tags: `manylinux_2_17_x86_64.manylinux2014_x86_64` replaces, `+T` adds, `-T` removes.
    #[arg(long, allow_hyphen_values = true, value_name = "TAGS")]
    platform_tag: Option<String>,
    /// Set the build tag (must start with a digit); an empty value removes it.
    #[arg(long, value_name = "BUILD")]
    build: Option<String>,
    /// Delete the original wheel once the new one is written.
    #[arg(long)]
    remove: bool,
    /// Directory for the new wheel (default: the original's directory).
    #[arg(short = 'w', long = "wheel-dir", value_name = "DIR")]
    wheel_dir: Option<PathBuf>,
}

pub fn run(args: &Args, ctx: &Context) -> ExitCode {
    // One wheel that cannot be retagged does not stop the others; each is said.
    let claims = Claims::new(
        &args.wheels,
        Words {
            made: "retagged",
            made_into: "was retagged into",
            verb: "retag",
        },
    );
    let mut failed = false;
    for path in &args.wheels {
        match retag_one(args, ctx, path, &claims) {
            Ok(out) => {
                if !ctx.quiet {
                    let name = out.file_name().unwrap_or(out.as_os_str());
                    crate::io::out(&format!("{}\n", name.to_string_lossy()));
                }
            }
            Err(failure) => {
                failure.print();
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Retags one wheel, its output claimed in `claims`.
fn retag_one(args: &Args, ctx: &Context, path: &Path, claims: &Claims) -> Result<PathBuf, Failure> {
    let wheel = open_wheel(path, &ctx.limits)?;
    let edits = TagEdits {
        python: args.python_tag.iter().cloned().collect(),
        abi: args.abi_tag.iter().cloned().collect(),
        platform: args.platform_tag.iter().cloned().collect(),
        build: args.build.clone(),
    };
    let retagged = retag(&wheel.filename, &wheel.info, &edits)
        .map_err(|e| Failure::new(format!("{}: {e}", wheel.file_name())))?;
    let dir = match &args.wheel_dir {
        Some(d) => d.clone(),
        // (A bare file name's parent is "", which names no folder in messages.)
        None => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    ensure_dir(&dir)?;
    let name = retagged.filename.to_string();
    let target = dir.join(&name);
    let same_file = target
        .canonicalize()
        .ok()
        .zip(path.canonicalize().ok())
        .is_some_and(|(a, b)| a == b);
    // Checked first, as the rewrite would check it: a no-op on a damaged wheel must not
    // pass for a good one (`wheel tags` checks the WHEEL file's hash there too).
    require_valid_record(&wheel)?;
    if same_file {
        // The name does not change, so neither do the tags (the WHEEL file's agree with
        // it): `wheel tags` leaves the file alone, however its WHEEL file is laid out.
        return Ok(target);
    }
    // No output replaces another input of the run, nor another's output (`wheel tags`
    // replaces both, and the wheel replaced is lost).
    if let Some(refusal) = claims.claim(&dir, &name, path) {
        return Err(Failure::new(refusal));
    }
    let changes = retagged
        .changes(&wheel)
        .map_err(|e| Failure::io("read", path, &e))?;
    let options = write_options()?;
    let written = write_atomic(&dir, &name, |w| {
        wheel
            .rewrite_with(&changes, w, options, &crate::io::RayonParallel)
            .map(|_| ())
    })?;
    if args.remove {
        std::fs::remove_file(path).map_err(|e| Failure::io("remove", path, &e))?;
    }
    Ok(written)
}
