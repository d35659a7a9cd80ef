//! Deflating an edited member by reusing its old deflate blocks. A repair changes a few
//! hundred bytes of an extension (its dynamic table, names, a new segment at the end);
//! deflating the whole file again at level 6 was most of the time `repair` spent on a
//! small wheel. A block of the old stream decodes to the same bytes in the new one when
//! its output and what its back-references reach before it are unchanged, so such
//! blocks are copied bit for bit (`bitwriter`). A block an edit does touch is taken
//! symbol by symbol: a run of its symbols whose output and whose copies' sources are
//! unchanged decodes to the same bytes too, written as a block of its own (the old
//! block's code descriptions, the run's bits, an end-of-block code). Only the rest —
//! the changed bytes, the symbols that copy from them, runs too short to pay for a
//! repeated header — is deflated anew, primed with the window before it, as
//! [`super::deflate`] deflates chunks. (Whole blocks are 20–60 KB; a repair's edits are
//! a few hundred bytes and a new tail.) The result is one ordinary deflate stream.
//!
//! The new stream is checked by inflating it before it is used (`check`); a splice that
//! does not apply (the file shrank, the old stream does not walk) gives `None`, and the
//! caller deflates the member from scratch.

use super::bitwriter::BitWriter;
use super::blocks::{symbols, Block, Kind, Walker};
use super::deflate::deflate_ranges;
use crate::parallel::{Parallel, Sequential};
use std::ops::Range;

mod check;
use check::{check, Cuts};

/// Deflate's window.
const WINDOW: u64 = 32 << 10;
/// Up to this size a member is spliced whenever a block can be reused.
const SMALL: u64 = 1 << 20;
/// Changes closer than this are one stretch to deflate.
const JOIN: u64 = 4 << 10;

/// What an edit overwrote in a file: enough to tell which bytes changed without a
/// second copy of the whole file (an editor works on the file's own buffer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overwritten {
    /// The file's length before the edit; everything from there on is new.
    pub old_len: u64,
    /// The start and old bytes of each range the edit wrote over, sorted and disjoint.
    /// The old bytes outside them are unchanged.
    pub ranges: Vec<(u64, Vec<u8>)>,
}

impl Overwritten {
    /// The whole old file: an edit that may have changed any byte.
    pub fn whole(old: Vec<u8>) -> Self {
        Self {
            old_len: old.len() as u64,
            ranges: vec![(0, old)],
        }
    }

    /// Nothing overwritten in a file of `len` bytes.
    pub fn nothing(len: u64) -> Self {
        Self {
            old_len: len,
            ranges: Vec::new(),
        }
    }
}

/// Ranges of `new` that differ from what `old` says it overwrote, sorted and merged,
/// with everything past the old end. Per 4 KiB page, from its first differing byte to
/// its last; pages closer than [`JOIN`] merge.
fn changed(old: &Overwritten, new: &[u8]) -> Vec<(u64, u64)> {
    const PAGE: u64 = 4096;
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut add = |s: u64, e: u64| match out.last_mut() {
        Some(last) if s <= last.1 + JOIN => last.1 = last.1.max(e),
        _ => out.push((s, e)),
    };
    let common = old.old_len.min(new.len() as u64);
    // The differing span of the page being gathered (ranges may share a page).
    let mut page: Option<(u64, u64, u64)> = None;
    for (at, bytes) in &old.ranges {
        let end = (at + bytes.len() as u64).min(common);
        let mut s = *at;
        while s < end {
            let e = ((s / PAGE + 1) * PAGE).min(end);
            let (a, b) = (
                &bytes[(s - at) as usize..(e - at) as usize],
                &new[s as usize..e as usize],
            );
            if let Some(first) = a.iter().zip(b).position(|(x, y)| x != y) {
                let last = a.iter().zip(b).rposition(|(x, y)| x != y).unwrap_or(first);
                let (lo, hi) = (s + first as u64, s + last as u64 + 1);
                page = match page {
                    Some((p, l, h)) if p == s / PAGE => Some((p, l.min(lo), h.max(hi))),
                    Some((_, l, h)) => {
                        add(l, h);
                        Some((s / PAGE, lo, hi))
                    }
                    None => Some((s / PAGE, lo, hi)),
                };
            }
            s = e;
        }
    }
    if let Some((_, l, h)) = page {
        add(l, h);
    }
    if new.len() as u64 > common {
        add(common, new.len() as u64);
    }
    out
}

/// What the new stream is made of, in order.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    /// Old blocks copied: their bits, and whether the last is the old final block.
    Reuse { from: u64, to: u64, last: bool },
    /// New bytes deflated afresh.
    Fresh { from: u64, to: u64 },
    /// Some symbols of an old Huffman-coded block, written as a block of their own:
    /// its code descriptions (`codes`), the symbols' bits, and its end-of-block code.
    /// `whole` when they are all of it: the old block's output start, and whether it
    /// was the old final block.
    Run {
        kind: Kind,
        codes: (u64, u64),
        symbols: (u64, u64),
        eob: (u32, u32),
        whole: Option<(u64, bool)>,
    },
}

/// An old member's raw deflate stream and its blocks, each with where its output
/// starts: what a splice walks the old stream for. A caller may have them ahead:
/// walked ([`walk`]), or read with the member's content in one decode
/// ([`Archive::read_walked`](super::Archive::read_walked)); walking pyyaml's 1.5 MB
/// extension in the splice took 4.5 ms, in line after everything else its repair did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walked {
    z: Vec<u8>,
    /// The length it inflates to.
    size: u64,
    blocks: Vec<(Block, u64)>,
}

/// Raw deflate stream `z` with its blocks, if it walks as one whole stream that
/// inflates to `size` bytes and ends in its last byte.
pub fn walk(z: &[u8], size: u64) -> Option<Walked> {
    Walked::whole(z.to_vec(), size, blocks(z, size)?)
}

/// The blocks of `z`, if it walks as one whole stream that inflates to `size` bytes
/// and ends in its last byte.
fn blocks(z: &[u8], size: u64) -> Option<Vec<(Block, u64)>> {
    let mut w = Walker::from_stream_start(z);
    let mut blocks = Vec::new();
    let mut at = 0u64;
    while let Some(b) = w.next_block().ok()? {
        blocks.push((b, at));
        at += b.out;
    }
    whole(z.len() as u64, size, &blocks).then_some(blocks)
}

/// Whether `blocks` are one whole stream of `z_len` bytes that inflates to `size`
/// bytes and ends in its last byte.
fn whole(z_len: u64, size: u64, blocks: &[(Block, u64)]) -> bool {
    blocks.last().is_some_and(|&(last, start)| {
        start + last.out == size && last.last && last.end.div_ceil(8) == z_len
    })
}

impl Walked {
    /// Stream `z` with its blocks, each with where its output starts, if they are one
    /// whole stream that inflates to `size` bytes and ends in its last byte.
    pub fn whole(z: Vec<u8>, size: u64, blocks: Vec<(Block, u64)>) -> Option<Self> {
        whole(z.len() as u64, size, &blocks).then_some(Self { z, size, blocks })
    }

    /// The raw deflate stream.
    pub fn stream(&self) -> &[u8] {
        &self.z
    }
}

/// The shortest run of an old block's symbols worth writing as a block of its own
/// (which repeats the block's code descriptions, up to ~100 bytes): shorter runs are
/// deflated afresh with what is around them.
const MIN_RUN: u64 = 4 << 10;

/// Whether any change overlaps `from..to`.
fn touches(changes: &[(u64, u64)], from: u64, to: u64) -> bool {
    let i = changes.partition_point(|&(_, end)| end <= from);
    changes.get(i).is_some_and(|&(start, _)| start < to)
}

/// The pieces being planned.
#[derive(Default)]
struct Pieces(Vec<Piece>);

impl Pieces {
    /// New bytes `from..to`, joined to fresh bytes just before them.
    fn fresh(&mut self, from: u64, to: u64) {
        if from >= to {
            return;
        }
        match self.0.last_mut() {
            Some(Piece::Fresh { to: end, .. }) if *end == from => *end = to,
            _ => self.0.push(Piece::Fresh { from, to }),
        }
    }

    /// Old block `b` whole.
    fn reuse(&mut self, b: &Block) {
        match self.0.last_mut() {
            Some(Piece::Reuse { to, last, .. }) if *to == b.start => {
                *to = b.end;
                *last = b.last;
            }
            _ => self.0.push(Piece::Reuse {
                from: b.start,
                to: b.end,
                last: b.last,
            }),
        }
    }

    /// Dirty block `b` (its output starting at `start`), symbol by symbol: runs of
    /// symbols whose output and whose copies' sources no change touches are kept, the
    /// rest is fresh. The whole block is fresh when its symbols cannot be listed.
    fn split(&mut self, old_z: &[u8], b: &Block, start: u64, changes: &[(u64, u64)]) {
        let inside = (b.kind != Kind::Stored && b.out >= MIN_RUN)
            .then(|| symbols(old_z, b))
            .flatten();
        let Some(inside) = inside else {
            self.fresh(start, start + b.out);
            return;
        };
        let kind = b.kind;
        let codes = (b.start + 3, inside.body);
        let syms = &inside.symbols;
        // The first symbol of the clean run being gathered.
        let mut run: Option<usize> = None;
        let close = |pieces: &mut Self, first: usize, end_bit: u64, end_at: u64| {
            let (from, bit) = (start + syms[first].at, syms[first].bit);
            if start + end_at - from >= MIN_RUN {
                // Every symbol of the block, from its first to its end.
                let whole = (first == 0 && end_at == b.out).then_some((start, b.last));
                pieces.0.push(Piece::Run {
                    kind,
                    codes,
                    symbols: (bit, end_bit),
                    eob: inside.eob,
                    whole,
                });
            } else {
                pieces.fresh(from, start + end_at);
            }
        };
        for (i, sym) in syms.iter().enumerate() {
            let at = start + sym.at;
            let len = u64::from(sym.len);
            // (A copy from before the stream's start cannot be: the walk checked.)
            let clean = !touches(changes, at, at + len)
                && (sym.dist == 0
                    || at
                        .checked_sub(u64::from(sym.dist))
                        .is_some_and(|src| !touches(changes, src, src + len)));
            match (clean, run) {
                (true, None) => run = Some(i),
                (false, Some(first)) => {
                    close(self, first, sym.bit, sym.at);
                    run = None;
                    self.fresh(at, at + len);
                }
                (false, None) => self.fresh(at, at + len),
                (true, Some(_)) => {}
            }
        }
        if let Some(first) = run {
            close(self, first, inside.eob_bit, b.out);
        }
    }
}

/// Plans the pieces: each old block is reused when no change touches its output or
/// its window; a block a change does touch keeps the runs of its symbols that no
/// change touches; the rest, and what `new` adds, is fresh.
fn plan(old_z: &[u8], blocks: &[(Block, u64)], changes: &[(u64, u64)], new_len: u64) -> Vec<Piece> {
    let mut pieces = Pieces::default();
    let mut c = 0;
    for (b, start) in blocks {
        // What the block's output depends on: itself and what its references reach.
        let (s, e) = (start.saturating_sub(b.reach), start + b.out);
        while c < changes.len() && changes[c].1 <= s.saturating_sub(WINDOW) {
            c += 1;
        }
        let dirty = changes[c..]
            .iter()
            .take_while(|&&(cs, _)| cs < e)
            .any(|&(_, ce)| ce > s);
        if dirty {
            pieces.split(old_z, b, *start, changes);
        } else {
            pieces.reuse(b);
        }
    }
    let old_len = blocks.last().map_or(0, |(b, s)| s + b.out);
    pieces.fresh(old_len, new_len);
    pieces.0
}

/// Fresh stretches are deflated in parts of this size at once, through the host's
/// threads. A splice is one job, and the stretch around an edit is the whole of every
/// block it touches: 172 KB of pysqlite3's 376 KB extension, deflated on one core
/// while the other had nothing left to do, ended the run.
const FRESH_PART: usize = 64 << 10;

/// `from..to` in parts of [`FRESH_PART`] (one empty part for an empty range).
fn parts(from: usize, to: usize) -> impl Iterator<Item = Range<usize>> {
    let n = (to - from).div_ceil(FRESH_PART).max(1);
    (0..n).map(move |i| from + i * FRESH_PART..(from + (i + 1) * FRESH_PART).min(to))
}

/// Deflates `new`, an edited copy of `old` whose raw deflate stream is `old_z`, reusing
/// what it can (see the module doc); `None` when splicing does not apply or saves
/// little, and the caller should deflate `new` whole.
pub fn splice(old: &[u8], old_z: &[u8], new: &[u8], level: u32) -> Option<Vec<u8>> {
    splice_with(
        &Overwritten::whole(old.to_vec()),
        old_z,
        None,
        new,
        level,
        &Sequential,
    )
}

/// [`splice`] of a file edited in place, `old` saying what the edit overwrote, with
/// `old_z`'s blocks if they were walked ahead, deflating the fresh stretches' parts
/// and checking the result through `par` (the bytes are the same whatever `par` does).
pub fn splice_with(
    old: &Overwritten,
    old_z: &[u8],
    walked: Option<&Walked>,
    new: &[u8],
    level: u32,
    par: &dyn Parallel,
) -> Option<Vec<u8>> {
    let (out, cuts) = assemble(old, old_z, walked, new, level, par)?;
    let right = check(
        &out,
        new,
        &cuts.at,
        &cuts.to_check(cfg!(debug_assertions)),
        par,
    );
    // Given an `old` that `old_z` inflates to, a splice is right by construction: the
    // check guards against a bug, and a debug build (the fuzzer's) stops on one.
    debug_assert!(right, "a spliced stream does not inflate to the new bytes");
    right.then_some(out)
}

/// [`splice_with`] before its check: the new stream, and where the check may cut it.
fn assemble(
    old: &Overwritten,
    old_z: &[u8],
    walked: Option<&Walked>,
    new: &[u8],
    level: u32,
    par: &dyn Parallel,
) -> Option<(Vec<u8>, Cuts)> {
    if (new.len() as u64) < old.old_len || old.old_len == 0 {
        return None;
    }
    // A walk of another stream would only fail the check; it is not taken.
    let walked = walked.filter(|w| w.z == old_z && w.size == old.old_len);
    let own;
    let blocks = match walked {
        Some(w) => &w.blocks,
        None => {
            own = blocks(old_z, old.old_len)?;
            &own
        }
    };
    let changes = changed(old, new);
    let pieces = plan(old_z, blocks, &changes, new.len() as u64);
    let fresh: u64 = pieces
        .iter()
        .map(|p| match p {
            Piece::Fresh { from, to } => to - from,
            Piece::Reuse { .. } | Piece::Run { .. } => 0,
        })
        .sum();
    // Mostly new: deflating it whole, in parallel chunks, is as quick (a small file
    // gets little from chunks, so any reuse pays there).
    let len = new.len() as u64;
    if fresh == len || (len > SMALL && fresh * 2 > len) {
        return None;
    }
    // deflate_chunk ends the stream when a part reaches the data's end, and with a sync
    // flush (byte-aligned) otherwise, each part primed with the window before it.
    let fresh_parts = pieces.iter().filter_map(|p| match *p {
        Piece::Fresh { from, to } => Some(parts(from as usize, to as usize)),
        Piece::Reuse { .. } | Piece::Run { .. } => None,
    });
    let mut deflated = deflate_ranges(new, fresh_parts.flatten(), level, par).into_iter();
    let mut w = BitWriter::with_capacity(old_z.len() + 4096);
    let mut cuts = Cuts::default();
    let n = pieces.len();
    for (i, piece) in pieces.into_iter().enumerate() {
        let end = i + 1 == n;
        debug_assert!(!matches!(piece, Piece::Fresh { to, .. } if end && to != new.len() as u64));
        match piece {
            Piece::Reuse { from, to, last } => {
                let first = blocks.partition_point(|(b, _)| b.start < from);
                let out_at = blocks.get(first).map_or(0, |(_, start)| *start);
                let before = w.position();
                w.pad_to((from % 8) as u32);
                if w.position() != before {
                    // Empty blocks, written to align the copy: a segment of their own.
                    cuts.offer(before, out_at, true);
                    cuts.mark();
                }
                // The copied blocks keep their places in the output, and their bits
                // shift by where the copy starts.
                let at = w.position();
                for (k, (b, start)) in blocks[first..]
                    .iter()
                    .take_while(|(b, _)| b.start < to)
                    .enumerate()
                {
                    cuts.offer(at + (b.start - from), *start, k == 0);
                }
                if last && !end {
                    cuts.mark();
                    // The old final block goes on: its BFINAL bit is cleared. Find
                    // where it starts among the copied blocks.
                    let final_start = blocks.last()?.0.start;
                    w.copy(old_z, from, final_start);
                    w.put(0, 1);
                    w.copy(old_z, final_start + 1, to);
                } else {
                    w.copy(old_z, from, to);
                }
            }
            Piece::Fresh { from, to } => {
                w.pad_to(0);
                cuts.offer(w.position(), from, false);
                cuts.mark();
                for _ in parts(from as usize, to as usize) {
                    w.extend(&deflated.next()?);
                }
            }
            Piece::Run {
                kind,
                codes,
                symbols,
                eob,
                whole,
            } => {
                // A whole block whose every symbol is clean, with its old final bit, is
                // the old block's bits, only perhaps at another alignment: as a copy,
                // it needs no check.
                match whole {
                    Some((at, last)) if last == end => cuts.offer(w.position(), at, true),
                    _ => cuts.mark(),
                }
                let btype = if kind == Kind::Fixed { 1 } else { 2 };
                w.put(u32::from(end) | btype << 1, 3);
                w.copy_bits(old_z, codes.0, codes.1);
                w.copy_bits(old_z, symbols.0, symbols.1);
                w.put(eob.0, eob.1);
            }
        }
    }
    Some((w.finish(), cuts))
}

#[cfg(test)]
mod tests;
