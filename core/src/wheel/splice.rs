//! Deflating an edited member by reusing its old deflate blocks. A repair changes a few
//! hundred bytes of an extension (its dynamic table, names, a new segment at the end);
//! deflating the whole file again at level 6 was most of the time `repair` spent on a
//! small wheel. A block of the old stream decodes to the same bytes in the new one when
//! its output and what its back-references reach before it are unchanged, so
//! such blocks are copied bit for bit (`bitwriter`), and only the stretches
//! around the edits are deflated anew, primed with the window before them, as
//! [`super::deflate`] deflates chunks. The result is one ordinary deflate stream.
//!
//! The new stream is checked by inflating it before it is used; a splice that does not
//! apply (the file shrank, the old stream does not walk) gives `None`, and the caller
//! deflates the member from scratch.

use super::bitwriter::BitWriter;
use super::blocks::{Block, Walker};
use super::deflate::deflate_ranges;
use crate::parallel::{Parallel, Sequential};
use std::ops::Range;

/// Deflate's window.
const WINDOW: u64 = 32 << 10;
/// Up to this size a member is spliced whenever a block can be reused.
const SMALL: u64 = 1 << 20;
/// Changes closer than this are one stretch to deflate.
const JOIN: u64 = 4 << 10;

/// Ranges of `new` that differ from `old`, sorted and merged, with everything past the
/// end of `old`.
fn changed(old: &[u8], new: &[u8]) -> Vec<(u64, u64)> {
    const PAGE: usize = 4096;
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut add = |s: u64, e: u64| match out.last_mut() {
        Some(last) if s <= last.1 + JOIN => last.1 = last.1.max(e),
        _ => out.push((s, e)),
    };
    let common = old.len().min(new.len());
    for (i, (a, b)) in old[..common]
        .chunks(PAGE)
        .zip(new[..common].chunks(PAGE))
        .enumerate()
    {
        if a == b {
            continue;
        }
        let base = (i * PAGE) as u64;
        let first = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
        let last = a.iter().zip(b).rposition(|(x, y)| x != y).unwrap_or(0);
        add(base + first as u64, base + last as u64 + 1);
    }
    if new.len() > common {
        add(common as u64, new.len() as u64);
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
}

/// The old stream's blocks, if it walks as one whole stream that inflates to `size`
/// bytes and ends in its last byte.
fn blocks(old_z: &[u8], size: u64) -> Option<Vec<(Block, u64)>> {
    let mut w = Walker::from_stream_start(old_z);
    let mut out = Vec::new();
    let mut at = 0u64;
    while let Some(b) = w.next_block().ok()? {
        out.push((b, at));
        at += b.out;
    }
    let last = out.last()?.0;
    (at == size && last.last && last.end.div_ceil(8) == old_z.len() as u64).then_some(out)
}

/// Plans the pieces: each old block is reused when no change touches its output or
/// its window; the rest, and what `new` adds, is fresh.
fn plan(blocks: &[(Block, u64)], changes: &[(u64, u64)], new_len: u64) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
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
        match (dirty, pieces.last_mut()) {
            (false, Some(Piece::Reuse { to, last, .. })) => {
                *to = b.end;
                *last = b.last;
            }
            (false, _) => pieces.push(Piece::Reuse {
                from: b.start,
                to: b.end,
                last: b.last,
            }),
            (true, Some(Piece::Fresh { to, .. })) => *to = e,
            (true, _) => pieces.push(Piece::Fresh {
                from: *start,
                to: e,
            }),
        }
    }
    let old_len = blocks.last().map_or(0, |(b, s)| s + b.out);
    if new_len > old_len {
        match pieces.last_mut() {
            Some(Piece::Fresh { to, .. }) => *to = new_len,
            _ => pieces.push(Piece::Fresh {
                from: old_len,
                to: new_len,
            }),
        }
    }
    pieces
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
    splice_with(old, old_z, new, level, &Sequential)
}

/// [`splice`], deflating the fresh stretches' parts through `par` (the bytes are the
/// same whatever `par` does).
pub fn splice_with(
    old: &[u8],
    old_z: &[u8],
    new: &[u8],
    level: u32,
    par: &dyn Parallel,
) -> Option<Vec<u8>> {
    if new.len() < old.len() || old.is_empty() {
        return None;
    }
    let blocks = blocks(old_z, old.len() as u64)?;
    let changes = changed(old, new);
    let pieces = plan(&blocks, &changes, new.len() as u64);
    let fresh: u64 = pieces
        .iter()
        .map(|p| match p {
            Piece::Fresh { from, to } => to - from,
            Piece::Reuse { .. } => 0,
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
        Piece::Reuse { .. } => None,
    });
    let mut deflated = deflate_ranges(new, fresh_parts.flatten(), level, par).into_iter();
    let mut w = BitWriter::with_capacity(old_z.len() + 4096);
    let n = pieces.len();
    for (i, piece) in pieces.into_iter().enumerate() {
        let end = i + 1 == n;
        debug_assert!(!matches!(piece, Piece::Fresh { to, .. } if end && to != new.len() as u64));
        match piece {
            Piece::Reuse { from, to, last } => {
                w.pad_to((from % 8) as u32);
                if last && !end {
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
                for _ in parts(from as usize, to as usize) {
                    w.extend(&deflated.next()?);
                }
            }
        }
    }
    let out = w.finish();
    inflates_to(&out, new).then_some(out)
}

/// Whether raw deflate stream `z` is one whole stream, all of `z`, that inflates to
/// exactly `want`: the check every splice passes before use. One call inflates it all
/// into room for one byte more than `want` (a reader handing the inflater 32 KB at a
/// time took 10% longer).
fn inflates_to(z: &[u8], want: &[u8]) -> bool {
    let mut out = Vec::with_capacity(want.len() + 1);
    let mut d = flate2::Decompress::new(false);
    matches!(
        d.decompress_vec(z, &mut out, flate2::FlushDecompress::Finish),
        Ok(flate2::Status::StreamEnd)
    ) && d.total_in() == z.len() as u64
        && out == want
}

#[cfg(test)]
mod tests;
