//! `truewheel inspect WHEEL... [--json]`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;
use truewheel_core::inspect::{report, InspectReport};
use truewheel_core::message::{one_line, printable};
use truewheel_core::wheel::more_problems;

use super::Context;
use crate::failure::Failure;
use crate::io::{open_wheel, verify};

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The wheels to inspect.
    #[arg(required = true, value_name = "WHEEL")]
    wheels: Vec<PathBuf>,
    /// Print the report as JSON (one object per wheel; an array for several).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args, ctx: &Context) -> ExitCode {
    // Wheels in parallel, and members of each wheel in parallel (rayon nests them).
    let results = args
        .wheels
        .par_iter()
        .map(|path| {
            let wheel = open_wheel(path, &ctx.limits)?;
            let (issues, hashed) = verify(&wheel)?;
            Ok(report(&wheel, issues, hashed))
        })
        .collect::<Vec<Result<InspectReport, Failure>>>();
    // A wheel that cannot be read does not hide the others' reports: each is said, in
    // argument order, after them.
    let (reports, failures) = crate::io::partition(results);
    if args.json {
        crate::io::print_json(&reports, args.wheels.len() > 1);
    } else {
        for (i, r) in reports.iter().enumerate() {
            if i > 0 {
                crate::io::out("\n");
            }
            crate::io::out(&printable(&render(r)));
        }
    }
    // A RECORD that disagrees with the archive is bad input: say so after the report.
    let mut bad = false;
    for r in &reports {
        if let Some(first) = r.record.issues.first() {
            bad = true;
            let more = more_problems(r.record.issues.len() - 1);
            Failure::new(format!("{first} in {}{more}", r.filename))
                .hint(first.hint())
                .print();
        }
    }
    for f in &failures {
        f.print();
    }
    if bad || !failures.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn human(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The text form of the report.
pub fn render(r: &InspectReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", r.filename);
    let _ = writeln!(
        o,
        "  name {}  version {}{}",
        r.name,
        r.version,
        r.build
            .as_ref()
            .map(|b| format!("  build {b}"))
            .unwrap_or_default()
    );
    let _ = writeln!(o, "  tags {}", r.tags.join(" "));
    let w = &r.wheel;
    let _ = writeln!(
        o,
        "  WHEEL  Wheel-Version {}.{}, Root-Is-Purelib {}{}",
        w.wheel_version.0,
        w.wheel_version.1,
        w.root_is_purelib,
        w.generator
            .as_ref()
            .map(|g| format!(", Generator {}", one_line(g)))
            .unwrap_or_default()
    );
    let m = &r.metadata;
    let _ = writeln!(
        o,
        "  METADATA  Metadata-Version {}, Name {}, Version {}",
        one_line(&m.metadata_version),
        one_line(&m.name),
        one_line(&m.version)
    );
    // (A folded value is one line here, so that it cannot pass for another field.)
    if let Some(s) = &m.summary {
        let _ = writeln!(o, "    Summary: {}", one_line(s));
    }
    if let Some(s) = &m.requires_python {
        let _ = writeln!(o, "    Requires-Python: {}", one_line(s));
    }
    for d in &m.requires_dist {
        let _ = writeln!(o, "    Requires-Dist: {}", one_line(d));
    }
    if r.record.ok {
        let _ = writeln!(o, "  RECORD  ok ({} files hashed)", r.record.hashed);
    } else {
        let _ = writeln!(o, "  RECORD  {} problem(s)", r.record.issues.len());
        for i in &r.record.issues {
            let _ = writeln!(o, "    {}", one_line(&i.to_string()));
        }
    }
    if !r.binaries.is_empty() {
        let _ = writeln!(o, "  binaries");
        let width = r.binaries.iter().map(|b| b.path.len()).max().unwrap_or(0);
        for b in &r.binaries {
            let _ = writeln!(o, "    {:width$}  {}", b.path, b.summary);
        }
    }
    let _ = writeln!(
        o,
        "  members ({}, {} unpacked, {} stored)",
        r.members.len(),
        human(r.total_size),
        human(r.total_compressed_size)
    );
    for mem in &r.members {
        let method = match mem.compression {
            truewheel_core::wheel::Compression::Stored => "stored",
            truewheel_core::wheel::Compression::Deflated => "deflated",
        };
        let _ = writeln!(
            o,
            "    {:>10}  {:>10}  {method:8}  {}",
            mem.size, mem.compressed_size, mem.path
        );
    }
    o
}
