//! The check every splice passes before its stream is used: that the new stream is one
//! whole raw deflate stream that inflates to exactly the new bytes. Given an old stream
//! that inflates to the old bytes, a splice is right by construction; the check guards
//! against a bug in it. It is cut at block starts into segments inflated at once.
//!
//! A release build inflates only the segments that hold more than old blocks copied
//! bit for bit, and the last one (the stream's end). An old block whose bits are the
//! same, and whose output and window the plan found unchanged, decodes as it did:
//! inflating it again checked the copy of its bits and nothing else, and was most of
//! the check's time (on the bench's three small wheels, whose largest extension is
//! pyyaml's 1.5 MB, the check's CPU fell from 5.8 to 3.3 ms). A debug build (the
//! tests', the fuzzer's) inflates them all.

use super::super::bitwriter::{start_bytes, BitWriter};
use super::WINDOW;
use crate::parallel::Parallel;

/// Output between the places where the check cuts the new stream: a splice of a
/// 1.5 MB extension was checked by one inflate on one core after everything else of
/// its wheel was done, and so ended the run. The fuzzer's inputs are at most 70 KB:
/// there, segments are short, so that its splices are checked in several.
pub(super) const SEGMENT: u64 = if cfg!(fuzzing) { 4 << 10 } else { 256 << 10 };

/// Block starts in the new stream, as (bit, output offset); the first is the stream's
/// start. Each starts a segment, which is marked when it gets anything but old blocks
/// copied bit for bit. A marked segment starts at the last block start before what it
/// gets and ends where a copy starts, so that a release build inflates little more
/// than the new material (cut every [`SEGMENT`] only, the check inflated 1 MB of the
/// three small wheels' 1.9 MB of extensions); an unmarked one is at least [`SEGMENT`]
/// long, or ends where a marked one starts.
pub(super) struct Cuts {
    pub(super) at: Vec<(u64, u64)>,
    pub(super) new: Vec<bool>,
    /// The last block start offered and not taken.
    offered: Option<(u64, u64)>,
}

impl Default for Cuts {
    fn default() -> Self {
        Self {
            at: vec![(0, 0)],
            new: vec![false],
            offered: None,
        }
    }
}

impl Cuts {
    /// A block starts at `bit`, its output at `at`; with `copy`, a copy of old blocks
    /// starts there.
    pub(super) fn offer(&mut self, bit: u64, at: u64, copy: bool) {
        let (Some(&(start_bit, start)), Some(&marked)) = (self.at.last(), self.new.last()) else {
            return;
        };
        if (marked && copy && bit > start_bit) || at >= start + SEGMENT {
            self.at.push((bit, at));
            self.new.push(false);
            self.offered = None;
        } else {
            self.offered = Some((bit, at));
        }
    }

    /// What is written next, up to the next cut, is not old blocks copied bit for bit.
    pub(super) fn mark(&mut self) {
        let (Some(&(start_bit, _)), Some(&marked)) = (self.at.last(), self.new.last()) else {
            return;
        };
        if marked {
            return;
        }
        // The old blocks since the segment's start stay in an unmarked one.
        if let Some(cut) = self.offered.take().filter(|&(bit, _)| bit > start_bit) {
            self.at.push(cut);
            self.new.push(false);
        }
        if let Some(last) = self.new.last_mut() {
            *last = true;
        }
    }

    /// Which segments to inflate: all of them with `all` (a debug build), else the
    /// marked ones and the last (see the module doc).
    pub(super) fn to_check(&self, all: bool) -> Vec<bool> {
        let n = self.new.len();
        self.new
            .iter()
            .enumerate()
            .map(|(i, &new)| all || new || i + 1 == n)
            .collect()
    }
}

/// Whether raw deflate stream `z` is one whole stream, all of `z`, that inflates to
/// exactly `want`: the check every splice passes before use. It is cut at block starts
/// (`cuts`), and the segments are inflated at once through `par`, each primed with the
/// 32 KiB of `want` before it (what an inflate of the whole stream would have there).
/// A segment other than the last is given an empty final stored block after its last
/// bit and must end exactly there, so each ends at the next one's first bit; the last
/// must end with the stream's final block at the stream's last byte. Then the segments,
/// one after another, are the whole stream, and inflate to exactly `want`. Only the
/// segments `which` selects are inflated (all, when it is all `true`).
pub(super) fn check(
    z: &[u8],
    want: &[u8],
    cuts: &[(u64, u64)],
    which: &[bool],
    par: &dyn Parallel,
) -> bool {
    let ends = cuts
        .iter()
        .skip(1)
        .map(|&(bit, at)| Some((bit, at)))
        .chain(std::iter::once(None));
    let jobs: Vec<Box<dyn FnOnce() -> bool + Send + '_>> = cuts
        .iter()
        .zip(ends)
        .zip(which)
        .filter(|(_, &chosen)| chosen)
        .map(|((&(bit, at), end), _)| {
            Box::new(move || segment_inflates_to(z, bit, end, want, at)) as Box<_>
        })
        .collect();
    crate::parallel::map(par, jobs).into_iter().all(|ok| ok)
}

/// Whether `z` from bit `bit` up to `end` (a bit and its output offset; `None` for the
/// stream's end) inflates to exactly `all[at..end's offset]`, primed with the window of
/// `all` before `at` (see [`check`]).
fn segment_inflates_to(z: &[u8], bit: u64, end: Option<(u64, u64)>, all: &[u8], at: u64) -> bool {
    let (Ok(byte), Ok(at)) = (usize::try_from(bit / 8), usize::try_from(at)) else {
        return false;
    };
    let Some(&first) = z.get(byte) else {
        return false;
    };
    let head = start_bytes(first, (bit % 8) as u32);
    let (body, tail, upto) = match end {
        None => (z.get(byte + 1..), Vec::new(), all.len()),
        Some((end_bit, end_at)) => {
            // The end's byte up to the end's bit, then an empty final stored block.
            let mut t = BitWriter::default();
            t.copy(z, end_bit / 8 * 8, end_bit);
            t.put(0b001, 3);
            t.put(0, ((8 - t.position() % 8) % 8) as u32);
            t.extend(&[0, 0, 0xff, 0xff]);
            let last = usize::try_from(end_bit / 8).unwrap_or(usize::MAX);
            let upto = usize::try_from(end_at).unwrap_or(usize::MAX);
            (z.get(byte + 1..last), t.finish(), upto)
        }
    };
    let (Some(body), Some(want)) = (body, all.get(at..upto)) else {
        return false;
    };
    let window = &all[at.saturating_sub(WINDOW as usize)..at];
    inflates_to(&[&head, body, &tail], window, want)
}

/// Whether `parts`, one after another, are one whole raw deflate stream, all of them,
/// that inflates to exactly `want` after the window `window`. The output is compared
/// 256 KiB at a time through one buffer: inflating all of it into fresh memory cost
/// more in page faults than the inflater's window upkeep between calls does.
fn inflates_to(parts: &[&[u8]], window: &[u8], want: &[u8]) -> bool {
    const OUT: usize = 256 << 10;
    let mut buf = vec![0u8; OUT.min(want.len() + 1)];
    let mut d = flate2::Decompress::new(false);
    if !window.is_empty() && d.set_dictionary(window).is_err() {
        return false;
    }
    let mut seen = 0usize;
    let mut parts = parts.iter().filter(|p| !p.is_empty());
    let Some(mut part) = parts.next() else {
        return false;
    };
    // Where `part` starts, in the input's count.
    let mut part_start = 0u64;
    loop {
        let (used, made) = (d.total_in(), d.total_out());
        let rest = &part[(used - part_start) as usize..];
        let Ok(status) = d.decompress(rest, &mut buf, flate2::FlushDecompress::None) else {
            return false;
        };
        let n = (d.total_out() - made) as usize;
        if want.get(seen..seen + n) != Some(&buf[..n]) {
            return false;
        }
        seen += n;
        let part_done = d.total_in() - part_start == part.len() as u64;
        match status {
            flate2::Status::StreamEnd => {
                return seen == want.len() && part_done && parts.next().is_none()
            }
            _ if part_done => match parts.next() {
                Some(next) => {
                    part_start += part.len() as u64;
                    part = next;
                }
                // All input given, and the stream goes on: cut short.
                None if n == 0 => return false,
                None => {}
            },
            // No progress: the stream is cut short.
            _ if n == 0 && d.total_in() == used => return false,
            _ => {}
        }
    }
}
