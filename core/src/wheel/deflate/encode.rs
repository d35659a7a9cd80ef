//! A deflate encoder for data held whole in memory, written here because zlib-rs
//! (flate2's pure-Rust backend) runs zlib-ng's strategies, which on shared libraries
//! are slower and larger than libdeflate's: at level 6 it took 309 ms for 16.5 MB of
//! libraries that this encoder's level 6 writes 4% smaller in 261 ms (libdeflate, in C,
//! 189 ms at the same size). The Rust ports of libdeflate are not dependencies to take:
//! `zenflate` is AGPL-3.0, and `libdeflate` 26.x is a machine-written port with yanked
//! releases.
//!
//! It parses as libdeflate does: hash chains searched to a depth ([`super::chains`]),
//! greedy at the low levels and lazy from level 5 (a match at the next position that is
//! longer, or as long and nearer by enough to pay for a literal, takes over), and a
//! block ends where its symbols' mix changes ([`Split`], libdeflate's heuristic). Each
//! block is written in the cheapest of its three forms ([`super::block`]).
//!
//! Levels are zlib's scale in what they give: each compressed the shared libraries we
//! measured at least as well as zlib (CPython's) at the same level, so that
//! `repair -z N` writes no larger wheels than `auditwheel repair -z N` (25 grafted
//! libraries, 16.5 MB: zlib 1 7.368 MB, ours 6.976; zlib 4 7.010, ours 6.893; zlib 6
//! 6.853, ours 6.765; zlib 9 6.826, ours 6.697; at level 6, 44 libraries of the corpus
//! wheels, 41.9 MB: zlib 12.282 MB, ours 12.236; 196 Python sources, 5.2 MB: zlib
//! 1.3355 MB, ours 1.3351).

use std::ops::Range;

use super::super::bitwriter::BitWriter;
use super::block::Gathered;
use super::chains::{Chains, MAX_MATCH, WINDOW};

/// How hard a level searches.
#[derive(Debug, Clone, Copy)]
struct Effort {
    /// Whether to look for a better match at the next position before taking one.
    lazy: bool,
    /// Candidates looked at for a position, and a match this long is taken without
    /// looking further: in machine code and data, and in text-like data.
    binary: (u32, usize),
    text: (u32, usize),
}

/// What each level does: libdeflate's settings, one step lower from level 5 on (its
/// level 5 compresses machine code better than zlib's 6 already), except for
/// text-like data at levels 5 and 6, which is searched as at level 7 (at 16
/// candidates Python sources came out 1.1% larger than zlib's level 6, at 35 its size).
fn effort(level: u32) -> Effort {
    let (lazy, binary, text) = match level {
        0..=2 => (false, (6, 10), (6, 10)),
        3 => (false, (12, 14), (12, 14)),
        4 => (false, (16, 30), (16, 30)),
        5 | 6 => (true, (16, 30), (35, 65)),
        7 => (true, (35, 65), (35, 65)),
        8 => (true, (100, 130), (100, 130)),
        _ => (true, (300, MAX_MATCH), (300, MAX_MATCH)),
    };
    Effort { lazy, binary, text }
}

/// A block's search: candidates per position, the length taken at once, and the
/// shortest copy taken.
#[derive(Debug, Clone, Copy)]
struct Search {
    depth: u32,
    nice: usize,
    min_len: usize,
}

/// The shortest copy worth taking by the count of byte values a block uses
/// (libdeflate's table): with few values literals are cheap, and short copies cost
/// more than they save. From 80 values on, 3.
const MIN_LENS: [u8; 80] = [
    9, 9, 9, 9, 9, 9, 8, 8, 7, 7, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
];

/// How many byte values `data` uses, counting up to `most`.
fn values(data: &[u8], most: usize) -> usize {
    let mut seen = [false; 256];
    let mut n = 0;
    for &b in data {
        let s = &mut seen[usize::from(b)];
        if !*s {
            *s = true;
            n += 1;
            if n >= most {
                break;
            }
        }
    }
    n
}

/// The search for a block that starts `data` (the rest of the range) in a range that
/// is text-like or not: the shortest copy by the byte values the block's first 4 KiB
/// use. Under 512 bytes, copies of 3: a fixed-code block is likely, where literals
/// cost 8-9 bits whatever they are.
fn search(effort: Effort, text: bool, data: &[u8]) -> Search {
    let (depth, nice) = if text { effort.text } else { effort.binary };
    if data.len() < 512 {
        return Search {
            depth,
            nice,
            min_len: 3,
        };
    }
    let used = values(&data[..data.len().min(4096)], MIN_LENS.len());
    let min_len = MIN_LENS.get(used).map_or(3, |&m| usize::from(m));
    // A shallow search rarely finds the long copies a high minimum asks for.
    let most = match depth {
        0..=4 => 4,
        5..=9 => 5,
        10..=15 => 7,
        _ => MAX_MATCH,
    };
    Search {
        depth,
        nice,
        min_len: min_len.min(most),
    }
}

/// The base-2 logarithm of a distance, rounded down: what a lazy comparison weighs
/// a farther copy by (its extra bits).
fn log2(dist: usize) -> i32 {
    (usize::BITS - 1 - dist.leading_zeros()) as i32
}

/// Raw deflate blocks for `data[range]`, which may copy from the 32 KiB of `data`
/// before it (an inflater has them from the blocks before). With `last`, the stream
/// ends here; otherwise it ends with a sync flush (an empty stored block), so that the
/// next part starts on a byte boundary. Level 0 stores the bytes.
pub(super) fn encode(data: &[u8], range: Range<usize>, level: u32, last: bool) -> Vec<u8> {
    // The chains count positions in `u32` from the window's start: a longer range goes
    // in parts (the callers give at most a chunk, 256 KiB).
    const MOST: usize = 1 << 30;
    if range.len() > MOST {
        let cut = range.start + MOST;
        let mut out = encode(data, range.start..cut, level, false);
        out.extend(encode(data, cut..range.end, level, last));
        return out;
    }
    let mut out = BitWriter::with_capacity(range.len() / 2 + 64);
    if level == 0 {
        out.stored(&data[range], last);
        if !last {
            out.stored(&[], false);
        }
        return out.finish();
    }
    if range.is_empty() {
        if last {
            out.empty_final();
        } else {
            out.stored(&[], false);
        }
        return out.finish();
    }
    let effort = effort(level);
    let start = range.start.saturating_sub(WINDOW);
    let end = range.end;
    let mut chains = Chains::new(start, end);
    // The window before the range: positions whose four bytes are known.
    for p in start..range.start.min(data.len().saturating_sub(3)) {
        chains.insert(data, p);
    }
    let mut block = Gathered::with_capacity((range.len() / 8).min(MAX_COPIES));
    let mut split = Split::default();
    // Text-like: fewer than 128 byte values in the whole range. Judged per range, not
    // per block: a library's string tables are text-like too, but searching them
    // harder cost psycopg2's repair 4% of its CPU for 0.03% of its size.
    let text = values(&data[range.clone()], 128) < 128;
    let mut tuned = search(effort, text, &data[range.start..end]);
    let mut block_start = range.start;
    let mut cur = range.start;
    while cur < end {
        if block.copies.len() >= MAX_COPIES
            || cur - block_start >= MAX_BLOCK
            || split.should_end(cur - block_start, end - cur)
        {
            block.write(&mut out, &data[block_start..cur], false);
            block_start = cur;
            split = Split::default();
            tuned = search(effort, text, &data[cur..end]);
        }
        if end - cur < 4 {
            block.literal(data[cur]);
            cur += 1;
            continue;
        }
        let max = (end - cur).min(MAX_MATCH);
        let shortest = (tuned.min_len - 1).min(max - 1);
        let (mut len, mut dist) = chains.find(data, cur, max, shortest, tuned.depth, tuned.nice);
        // Positions before this are in the chains.
        let mut inserted = cur + 1;
        if dist == 0 || len < tuned.min_len {
            split.literal(data[cur]);
            block.literal(data[cur]);
            cur += 1;
            continue;
        }
        // Lazy, as libdeflate: a match at the next position at least as long, and
        // longer or nearer by enough to pay for a literal, takes over.
        while effort.lazy && len < tuned.nice && end - cur > 4 {
            let max = (end - cur - 1).min(MAX_MATCH);
            if len > max {
                break;
            }
            let (next, next_dist) =
                chains.find(data, cur + 1, max, len - 1, tuned.depth / 2, tuned.nice);
            inserted = cur + 2;
            if next_dist == 0
                || next < len
                || 4 * (next - len) as i32 + log2(dist) - log2(next_dist) <= 2
            {
                break;
            }
            split.literal(data[cur]);
            block.literal(data[cur]);
            cur += 1;
            (len, dist) = (next, next_dist);
        }
        split.copy(len);
        block.copy(len, dist);
        let to = (cur + len).min(data.len().saturating_sub(3));
        chains.skip(data, inserted, to);
        cur += len;
    }
    chains.recycle();
    block.write(&mut out, &data[block_start..end], last);
    if !last {
        out.stored(&[], false);
    }
    out.finish()
}

/// Copies in a block at most.
const MAX_COPIES: usize = 50_000;
/// Bytes a block stands for at most.
const MAX_BLOCK: usize = 300_000;
/// Bytes a block stands for at least, unless the data ends.
const MIN_BLOCK: usize = 5_000;
/// Symbols between checks whether to end the block.
const PER_CHECK: u32 = 512;

/// Whether the data has changed enough to end a block and start new codes, as
/// libdeflate decides: symbols are sorted into ten coarse kinds (eight by a literal's
/// top two and low bit, short and long copies), and a block ends when the kinds' mix
/// in the last 512 symbols differs from the block's so far by more than a cutoff.
#[derive(Default)]
struct Split {
    // Counts of each kind: since the last check, and in the block before it.
    new: [u32; 10],
    old: [u32; 10],
    new_n: u32,
    old_n: u32,
}

impl Split {
    /// Counts a literal.
    #[inline]
    fn literal(&mut self, b: u8) {
        self.new[usize::from(((b >> 5) & 6) | (b & 1))] += 1;
        self.new_n += 1;
    }

    /// Counts a copy.
    #[inline]
    fn copy(&mut self, len: usize) {
        self.new[8 + usize::from(len >= 9)] += 1;
        self.new_n += 1;
    }

    /// Whether to end a block of `len` bytes here, with `left` bytes of data after.
    #[inline]
    fn should_end(&mut self, len: usize, left: usize) -> bool {
        if self.new_n < PER_CHECK || len < MIN_BLOCK || left < MIN_BLOCK {
            return false;
        }
        self.check(len)
    }

    /// Compares the mix since the last check with the block's before it (in integers:
    /// each side's shares scaled by both counts), with a cutoff that grows with the
    /// block and is higher for short ones, whose code descriptions cost more per byte;
    /// then takes the new counts into the block's.
    fn check(&mut self, len: usize) -> bool {
        if self.old_n > 0 {
            let (new_n, old_n) = (u64::from(self.new_n), u64::from(self.old_n));
            let delta: u64 = (0..10)
                .map(|i| {
                    let expected = u64::from(self.old[i]) * new_n;
                    let actual = u64::from(self.new[i]) * old_n;
                    expected.abs_diff(actual)
                })
                .sum();
            let items = old_n + new_n;
            let mut cutoff = new_n * 200 / 512 * old_n;
            if len < 10_000 && items < 8192 {
                cutoff += cutoff * (8192 - items) / 8192;
            }
            if delta + (len as u64 / 4096) * old_n >= cutoff {
                return true;
            }
        }
        for i in 0..10 {
            self.old[i] += self.new[i];
            self.new[i] = 0;
        }
        self.old_n += self.new_n;
        self.new_n = 0;
        false
    }
}

#[cfg(test)]
mod tests;
