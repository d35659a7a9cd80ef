//! Scanning a large deflated ELF member by inflating only its start and the parts its
//! dynamic tables are in. The member is streamed from its start as usual; whenever the
//! scanner waits for bytes far ahead and little is left after them (patchelf's tables
//! at the end of a library), the member is decoded from a deflate block just before
//! them ([`crate::wheel::seek`]) instead of being inflated up to them. A later pass
//! (tables the scanner learns about only from the dynamic table) streams the start
//! again, up to the last of them, and jumps the same way.
//!
//! Any failure of the seeking machinery gives `None`, and the caller scans the member
//! the plain way, so the result never depends on whether a jump worked.

use std::io::Read;

use super::Scanned;
use crate::elf::scan::MAX_PASSES;
use crate::elf::{ElfScanner, Options, Outcome, Scan};
use crate::parallel::Parallel;
use crate::source::ReadAt;
use crate::wheel::seek::{Deflated, Span, Start, TailIndex, GAP};
use crate::wheel::{Archive, Member};

/// Members smaller than this (compressed) are streamed: a jump saves too little.
const MIN_COMPRESSED: u64 = 16 << 20;
/// The least output a jump must skip.
const MIN_SKIP: u64 = 16 << 20;

/// Whether jumping from `pos` to `want` saves work: what is skipped must exceed, with
/// room, what locating a start costs (walking the blocks from it to the end).
fn worth(size: u64, pos: u64, want: u64) -> bool {
    want >= pos + MIN_SKIP && want - pos > 2 * (size - want) + 4 * GAP
}

/// Whether decoding on from `pos` to `want` costs more than starting again from a
/// boundary the index already holds before `want`: what is skipped must exceed twice
/// what is decoded from there (twice, as two decodes run until the window is known).
/// A library whose dynamic table lies a few megabytes before patchelf's tables (torch's
/// libtorch_cuda_linalg: 8 MB, its symbol table between) otherwise decodes all of it.
fn closer(index: &TailIndex, pos: u64, want: u64) -> bool {
    want.checked_sub(GAP)
        .and_then(|target| index.before(target))
        .is_some_and(|st| st.offset >= pos && st.offset - pos > 2 * (want - st.offset))
}

/// How a jump ended.
enum Jump {
    /// The scanner is done, or the member's end was fed: finish the pass.
    Ended,
    /// No start could be found, nothing was fed: go on streaming.
    NoStart,
}

/// The scan state across passes.
struct Seeker<'a, S: ReadAt> {
    data: Deflated<'a, S>,
    /// Where long walks are spread.
    par: &'a dyn Parallel,
    index: TailIndex,
    spans: Vec<Span>,
    inflated: u64,
    /// Whether locating already failed (it is not tried twice).
    hopeless: bool,
}

impl<S: ReadAt> Seeker<'_, S> {
    /// A boundary to decode `want` from: at least [`GAP`] before it (`margin` times),
    /// and near enough that decoding from it does not cost more than a jump saves.
    fn start_for(&mut self, size: u64, want: u64, margin: u64) -> Option<Start> {
        let ok = |st: &Start| !worth(size, st.offset, want);
        let target = want.checked_sub(margin * GAP)?;
        if let Some(st) = self.index.before(target).filter(ok) {
            return Some(st);
        }
        if self.hopeless {
            return None;
        }
        self.inflated +=
            self.data
                .extend_index(&mut self.index, want - (margin - 1) * GAP, self.par);
        let found = self.index.before(target).filter(ok);
        self.hopeless = found.is_none();
        found
    }

    /// Feeds the scanner from located starts, jumping again when that pays; `None`
    /// when something failed after bytes were fed.
    fn jump(&mut self, s: &mut ElfScanner, size: u64) -> Option<Jump> {
        // How far before what is wanted to start: further after a start whose window
        // never became known in time (output that copies from long runs before it).
        let mut margin = 1;
        let mut fed_to = 0;
        loop {
            let Some(want) = s.next_wanted() else {
                return Some(Jump::Ended);
            };
            let want = want.max(fed_to);
            let Some(start) = self.start_for(size, want, margin) else {
                return if fed_to == 0 {
                    Some(Jump::NoStart)
                } else {
                    None
                };
            };
            let (mut until, mut failed, mut again) = (want, false, false);
            let index = &self.index;
            let read = self.data.read(start, want, |at, piece| {
                let end = at + piece.len() as u64;
                until = end;
                match s.feed_at(at, piece) {
                    Err(_) => {
                        failed = true;
                        false
                    }
                    Ok(Scan::Done) => false,
                    Ok(Scan::NeedMore) => match s.next_wanted() {
                        Some(next) if worth(size, end, next) || closer(index, end, next) => {
                            again = true;
                            false
                        }
                        _ => true,
                    },
                }
            });
            self.spans.push(Span { start, until });
            fed_to = fed_to.max(until);
            match read {
                Ok(n) => self.inflated += n,
                // Bytes handed out were right (both decodes agreed on them): go on from
                // an earlier start.
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData && margin < 16 && !failed => {
                    margin *= 4;
                    continue;
                }
                Err(_) => return None,
            }
            if failed {
                return None;
            }
            margin = 1;
            if !again {
                return Some(Jump::Ended);
            }
        }
    }
}

/// Scans `m` as the module doc says; `None` when the member is not worth it or any
/// step failed (the caller then scans it the plain way).
pub(super) fn scan_seeking<S: ReadAt>(
    archive: &Archive<S>,
    m: &Member,
    opts: &Options,
    par: &dyn Parallel,
) -> Option<Scanned> {
    let data = Deflated::of(archive, m)?;
    if m.compressed_size < MIN_COMPRESSED {
        return None;
    }
    let mut seeker = Seeker {
        data,
        par,
        index: TailIndex::default(),
        spans: Vec::new(),
        inflated: 0,
        hopeless: false,
    };
    let mut s = ElfScanner::with_options(m.size, opts.clone());
    let mut buf = vec![0u8; 256 * 1024];
    let mut reach = 0u64;
    for _ in 0..MAX_PASSES {
        let mut r = archive.reader(m);
        let mut pos = 0u64;
        loop {
            // Jump as soon as the scanner waits far ahead (in the first pass, once it
            // has read the program headers), not once its start window is full: what
            // it wants of the start after the jump (the symbol and version tables the
            // dynamic table points to) is read by the next pass up to exactly where it
            // ends, where filling the window first streamed 4 MiB that the next pass
            // streamed again (torch's libtorch_cpu and libtorch_cuda need 8 MB).
            let far = s.next_wanted().is_some_and(|w| worth(m.size, pos, w));
            if far && !seeker.hopeless {
                match seeker.jump(&mut s, m.size)? {
                    Jump::Ended => break,
                    Jump::NoStart => {}
                }
            }
            let n = r.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            seeker.inflated += n as u64;
            pos += n as u64;
            reach = reach.max(pos);
            if s.feed(&buf[..n]).ok()? == Scan::Done {
                break;
            }
        }
        match s.finish().ok()? {
            Outcome::Info(info) => {
                return Some(Scanned {
                    info: Some(*info),
                    inflated: seeker.inflated,
                    reach,
                    spans: seeker.spans,
                })
            }
            Outcome::Rescan(_) => {}
        }
    }
    None
}
