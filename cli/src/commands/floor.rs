//! `truewheel floor WHEEL...` (hidden; for `bench/run`): how long merely inflating the
//! bytes an audit must read takes, on the same threads. First an untimed scan learns how
//! far into each member the audit reads from its start, and which later parts it decoded
//! from deflate blocks near them; then only inflating those is timed (what a reader that
//! knew where every block starts would do; finding the blocks is the audit's overhead).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use rayon::prelude::*;
use truewheel_core::audit::scan_member_counted;
use truewheel_core::wheel::seek::Deflated;

use super::Context;
use crate::failure::Failure;
use crate::io::open_wheel;

/// Arguments of `floor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The wheels.
    #[arg(required = true)]
    wheels: Vec<PathBuf>,
}

pub fn run(args: &Args, ctx: &Context) -> Result<ExitCode, Failure> {
    let wheels = args
        .wheels
        .iter()
        .map(|p| open_wheel(p, &ctx.limits))
        .collect::<Result<Vec<_>, _>>()?;
    let mut work = Vec::new();
    let (mut reach_total, mut inflated_total) = (0u64, 0u64);
    for (w, wheel) in wheels.iter().enumerate() {
        for (i, m) in wheel.archive.members().iter().enumerate() {
            let s = scan_member_counted(wheel, m).map_err(|e| Failure::new(e.to_string()))?;
            reach_total += s.reach;
            inflated_total += s.inflated;
            if s.reach > 0 || !s.spans.is_empty() {
                let cost = s.reach
                    + s.spans
                        .iter()
                        .map(|p| p.until - p.start.offset)
                        .sum::<u64>();
                work.push((w, i, s.reach, s.spans, cost));
            }
        }
    }
    // Largest first, one task each, as the audit schedules its scans.
    work.sort_by_key(|w| std::cmp::Reverse(w.4));
    let start = Instant::now();
    work.par_iter()
        .with_max_len(1)
        .try_for_each(|(w, i, reach, spans, _)| {
            let wheel = &wheels[*w];
            let m = &wheel.archive.members()[*i];
            // The same 256 KiB reads the audit's scanner makes.
            let mut r = wheel.archive.reader(m).take(*reach);
            let mut buf = vec![0u8; 256 * 1024];
            while r.read(&mut buf)? > 0 {}
            if let Some(data) = Deflated::of(&wheel.archive, m) {
                for span in spans {
                    data.inflate_span(span.start, span.until)?;
                }
            }
            Ok::<(), std::io::Error>(())
        })
        .map_err(|e| Failure::new(format!("inflating failed: {e}")))?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"seconds\": {seconds:.6}, \"reach_bytes\": {reach_total}, \"inflated_bytes\": {inflated_total}}}"
    );
    Ok(ExitCode::SUCCESS)
}
