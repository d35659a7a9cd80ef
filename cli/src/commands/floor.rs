//! `truewheel floor WHEEL...` (hidden; for `bench/run`): how long merely inflating the
//! bytes an audit must read takes, on the same threads. First an untimed scan learns how
//! far into each member the audit reads from its start, and where the first part it
//! read near the end begins; then only inflating those is timed: the start up to the
//! furthest byte read, and from the block before the first byte read near the end to
//! the member's end. (A deflate stream says where a byte is only through everything
//! after it, or before it: a reader must decode at least that much.)

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use rayon::prelude::*;
use truewheel_core::audit::scan_member_counted;
use truewheel_core::wheel::seek::Deflated;

use super::Context;
use crate::failure::Failure;
use crate::io::{open_wheel, RayonParallel};

/// Reaches up to this are a peek at a member's kind, not a scan.
const HEAD: u64 = 64;

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
            let s = scan_member_counted(&wheel.archive, m, &RayonParallel)
                .map_err(|e| Failure::new(e.to_string()))?;
            reach_total += s.reach;
            inflated_total += s.inflated;
            let tail = s.spans.iter().map(|p| p.start).min_by_key(|st| st.offset);
            if s.reach > 0 || tail.is_some() {
                let cost = s.reach + tail.map_or(0, |st| m.size - st.offset);
                work.push((w, i, s.reach, tail, cost));
            }
        }
    }
    let floor_total: u64 = work.iter().map(|w| w.4).sum();
    // Largest first, one task each, as the audit schedules its scans.
    work.sort_by_key(|w| std::cmp::Reverse(w.4));
    let start = Instant::now();
    work.par_iter()
        .with_max_len(1)
        .try_for_each(|(w, i, reach, tail, _)| {
            let wheel = &wheels[*w];
            let m = &wheel.archive.members()[*i];
            if *reach <= HEAD {
                // A kind told by the first bytes, read as the audit reads them.
                wheel.archive.head(m, *reach as usize)?;
            } else {
                // The same 256 KiB reads the audit's scanner makes.
                let mut r = wheel.archive.reader(m).take(*reach);
                let mut buf = vec![0u8; 256 * 1024];
                while r.read(&mut buf)? > 0 {}
            }
            if let (Some(data), Some(start)) = (Deflated::of(&wheel.archive, m), tail) {
                data.inflate_span(*start, m.size)?;
            }
            Ok::<(), std::io::Error>(())
        })
        .map_err(|e| Failure::new(format!("inflating failed: {e}")))?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"seconds\": {seconds:.6}, \"floor_bytes\": {floor_total}, \"reach_bytes\": {reach_total}, \"inflated_bytes\": {inflated_total}}}"
    );
    Ok(ExitCode::SUCCESS)
}
