//! The walk's fast path: symbols decoded from the lookup tables alone, with the bit
//! buffer, the read position and the counts in locals (registers), refilled in place
//! (through memory, every refill would wait on a store and a load). It stops at a
//! block's end-of-block, or before a symbol it cannot take (a code longer than the
//! table, a symbol deflate does not define, the buffer's last 8 bytes), and the
//! checked path takes over.
//!
//! A literal and a copy take the same steps: the distance is looked up for both and
//! counted for copies only. A branch on which one came would be mispredicted about a
//! third of the time (a library's code is 60% literals). So each symbol is one chain
//! of dependent steps, and [`two`] runs two walks' chains interleaved on one core, to
//! fill one chain's waits with the other's steps. Measured on the first 30 MB of
//! libtorch_cpu.so's stream (97 MB of output), one core, best of four: 175 ms with
//! the branch, 153 ms without; its two halves at once 109–120 ms, one after the other
//! 141–149 ms.

use std::io::Read;

use super::huffman::{Fast, FAST, FAST_MASK, LONG, MATCH, SPECIAL};
use super::{Result, Sink, WalkError, Walker, DIST_BASE, LEN_BASE};

/// The output of each literal/length symbol: 1 for a literal, a length's base; 0 for
/// the rest (the fast path never counts them).
const LENGTH: [u16; 512] = {
    let mut t = [0u16; 512];
    let mut i = 0;
    while i < 256 {
        t[i] = 1;
        i += 1;
    }
    i = 257;
    while i < 257 + LEN_BASE.len() {
        t[i] = LEN_BASE[i - 257];
        i += 1;
    }
    t
};

/// [`DIST_BASE`] padded to 32 entries, for an index masked to five bits.
const DISTANCE: [u32; 32] = {
    let mut t = [0u32; 32];
    let mut i = 0;
    while i < DIST_BASE.len() {
        t[i] = DIST_BASE[i];
        i += 1;
    }
    t
};

/// The masks of 0 to 15 extra bits.
const MASK: [u64; 16] = {
    let mut t = [0u64; 16];
    let mut i = 0;
    while i < 16 {
        t[i] = (1 << i) - 1;
        i += 1;
    }
    t
};

type Table = [u32; 1 << FAST];

/// How the fast path stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// At the block's end-of-block symbol, taken.
    End,
    /// Before a symbol for the checked path.
    Slow,
}

/// One walk's state on the fast path.
#[derive(Clone, Copy)]
struct Lane {
    acc: u64,
    n: u32,
    pos: usize,
    /// The block's output so far.
    out: u64,
    reach: u64,
    /// How far before the block a copy may reach: the output before it, if known.
    before: u64,
}

impl Lane {
    /// The state of walk `w`, whose block's output so far is `out`, with room for a
    /// byte in the bit buffer (the checked refill can fill all 64 bits; the last byte
    /// loaded is then loaded again, its bits staying above `n`). `None` when there is
    /// no such byte.
    fn load<R>(w: &Walker<R>, out: u64) -> Option<Self> {
        let bits = &w.bits;
        let (mut n, mut pos) = (bits.n, bits.pos);
        if n > 63 {
            pos = pos.checked_sub(1)?;
            n -= 8;
        }
        Some(Self {
            acc: bits.acc,
            n,
            pos,
            out,
            reach: w.reach,
            before: w.out.unwrap_or(u64::MAX),
        })
    }

    /// Writes the state back into `w`, which it was loaded from, and the block's
    /// output so far into `out`.
    fn store<R>(&self, w: &mut Walker<R>, out: &mut u64) {
        let bits = &mut w.bits;
        bits.loaded = bits.loaded + self.pos as u64 - bits.pos as u64;
        bits.acc = self.acc;
        bits.n = self.n;
        bits.pos = self.pos;
        w.reach = self.reach;
        *out = self.out;
    }

    /// Takes one symbol; `Some` when the walk stops at it or before it. With `OUT`, its
    /// output is written to `sink` (an inflating walk), which is not touched otherwise.
    #[inline]
    fn step<const OUT: bool>(
        &mut self,
        buf: &[u8],
        lit: &Table,
        dist: &Table,
        sink: &mut Sink,
    ) -> Option<Result<Stop>> {
        // At least 56 bits: a length and a distance with their extra bits take at most
        // 40 from the tables.
        let Some(word) = buf.get(self.pos..self.pos + 8) else {
            return Some(Ok(Stop::Slow));
        };
        let mut acc = self.acc | u64::from_le_bytes(word.try_into().unwrap_or([0; 8])) << self.n;
        self.pos += ((63 - self.n) >> 3) as usize;
        let n = self.n | 56;
        let e = lit[(acc & FAST_MASK) as usize];
        if e & (SPECIAL | LONG) != 0 {
            self.acc = acc;
            self.n = n;
            if e & LONG == 0 && (e >> 8) & 0x1ff == 256 {
                self.acc >>= e & 0xff;
                self.n -= e & 0xff;
                return Some(Ok(Stop::End));
            }
            return Some(Ok(Stop::Slow));
        }
        // An entry's low byte is the bits of its code and extra bits, bits 20..24 those
        // of the code alone, and its top byte the extra bits.
        let after = acc >> (e & 0xff);
        let length = u64::from(LENGTH[((e >> 8) & 0x1ff) as usize])
            + ((acc >> ((e >> 20) & 0xf)) & MASK[(e >> 24) as usize & 15]);
        let d = dist[(after & FAST_MASK) as usize];
        // All ones for a copy, zero for a literal.
        let copy = 0u64.wrapping_sub(u64::from((e & MATCH) >> 17));
        if d & (copy as u32) & (SPECIAL | LONG) != 0 {
            self.acc = acc;
            self.n = n;
            return Some(Ok(Stop::Slow));
        }
        let distance = (u64::from(DISTANCE[((d >> 8) & 0x1f) as usize])
            + ((after >> ((d >> 20) & 0xf)) & MASK[(d >> 24) as usize & 15]))
            & copy;
        let used = (e & 0xff) + ((d & 0xff) & copy as u32);
        acc >>= used;
        self.acc = acc;
        self.n = n - used;
        let back = distance.saturating_sub(self.out);
        if back > self.before {
            return Some(Err(WalkError::Invalid("invalid distance too far back")));
        }
        self.reach = self.reach.max(back);
        if OUT {
            // A literal's byte is its symbol's low eight bits.
            let written = if copy == 0 {
                sink.literal((e >> 8) as u8)
            } else {
                sink.copy(distance as usize, length as usize)
            };
            if let Err(err) = written {
                return Some(Err(err));
            }
        }
        self.out += length;
        None
    }
}

impl<R: Read> Walker<R> {
    /// The fast path on this walk alone; `out` is the block's output so far.
    pub(super) fn fast(&mut self, lit: &Fast, dist: &Fast, out: &mut u64) -> Result<Stop> {
        let Some(mut lane) = Lane::load(self, *out) else {
            return Ok(Stop::Slow);
        };
        let buf = &self.bits.buf[..self.bits.len];
        let mut none = Sink::default();
        let stop = match self.sink.as_mut() {
            Some(sink) => loop {
                if let Some(stop) = lane.step::<true>(buf, &lit.table, &dist.table, sink) {
                    break stop;
                }
            },
            None => loop {
                if let Some(stop) = lane.step::<false>(buf, &lit.table, &dist.table, &mut none) {
                    break stop;
                }
            },
        };
        lane.store(self, out);
        stop
    }
}

/// The fast path on two walks at once, `a` and `b`, each inside a Huffman-coded block
/// with its codes and its output so far; runs until one of them stops, and says which
/// (0 for `a`) and how. The other is left where it was, ready to go on.
pub(super) fn two<A: Read, B: Read>(
    a: (&mut Walker<A>, &Fast, &Fast, &mut u64),
    b: (&mut Walker<B>, &Fast, &Fast, &mut u64),
) -> (usize, Result<Stop>) {
    let (wa, lit_a, dist_a, out_a) = a;
    let (wb, lit_b, dist_b, out_b) = b;
    // Walks only: an inflating walk's output is written on its own fast path.
    debug_assert!(wa.sink.is_none() && wb.sink.is_none());
    let lanes = (Lane::load(wa, *out_a), Lane::load(wb, *out_b));
    let (Some(mut la), Some(mut lb)) = lanes else {
        let first = usize::from(lanes.0.is_some());
        return (first, Ok(Stop::Slow));
    };
    let (buf_a, buf_b) = (&wa.bits.buf[..wa.bits.len], &wb.bits.buf[..wb.bits.len]);
    let mut none = Sink::default();
    let (which, stop) = loop {
        if let Some(stop) = la.step::<false>(buf_a, &lit_a.table, &dist_a.table, &mut none) {
            break (0, stop);
        }
        if let Some(stop) = lb.step::<false>(buf_b, &lit_b.table, &dist_b.table, &mut none) {
            break (1, stop);
        }
    };
    la.store(wa, out_a);
    lb.store(wb, out_b);
    (which, stop)
}
