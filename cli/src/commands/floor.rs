//! `truewheel floor WHEEL...` (hidden; for `bench/run`): how long merely inflating the
//! bytes an audit must read takes, on the same threads. First an untimed scan learns how
//! far into each member the audit reads; then only that inflation is timed.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use rayon::prelude::*;
use truewheel_core::audit::scan_member_counted;

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
            if s.reach > 0 {
                work.push((w, i, s.reach));
            }
        }
    }
    // Largest first, one task each, as the audit schedules its scans.
    work.sort_by_key(|w| std::cmp::Reverse(w.2));
    let start = Instant::now();
    work.par_iter()
        .with_max_len(1)
        .try_for_each(|&(w, i, reach)| {
            let wheel = &wheels[w];
            let m = &wheel.archive.members()[i];
            // The same 256 KiB reads the audit's scanner makes.
            let mut r = wheel.archive.reader(m).take(reach);
            let mut buf = vec![0u8; 256 * 1024];
            while r.read(&mut buf)? > 0 {}
            Ok::<(), std::io::Error>(())
        })
        .map_err(|e| Failure::new(format!("inflating failed: {e}")))?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"seconds\": {seconds:.6}, \"reach_bytes\": {reach_total}, \"inflated_bytes\": {inflated_total}}}"
    );
    Ok(ExitCode::SUCCESS)
}
