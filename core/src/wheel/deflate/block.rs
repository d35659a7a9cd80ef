//! Writing one deflate block from the symbols a parse chose: as a dynamic-Huffman block,
//! a fixed-Huffman one or a stored one, whichever is smallest, as zlib chooses.
//! Literals are not stored with the copies: the writer reads them from the bytes the
//! block stands for, as libdeflate's does.

use super::super::bitwriter::{BitWriter, Burst};
use super::super::blocks::{DIST_BASE, DIST_EXTRA, FIXED_LITLEN, LEN_BASE, LEN_EXTRA, ORDER};
use super::codes::{canonical, lengths, MAX_BITS};

/// Literal/length symbols (0-255 literals, 256 the end of a block, 257-285 lengths).
pub(super) const LITLEN: usize = 286;
/// Distance symbols.
pub(super) const DIST: usize = 30;
const END: usize = 256;

/// The length symbol (less 257) of each copy length.
const LEN_SYM: [u8; 259] = {
    let mut t = [0u8; 259];
    let mut s = 0;
    let mut len = 3;
    while len <= 258 {
        while s + 1 < 29 && LEN_BASE[s + 1] as usize <= len {
            s += 1;
        }
        t[len] = s as u8;
        len += 1;
    }
    t
};

/// The distance symbol of distances less one: below 256 directly, above by the
/// distance less one shifted right by 7 (every symbol from 16 on spans a multiple of
/// 128), as zlib looks them up.
const DIST_LOW: [u8; 256] = dist_table(0);
const DIST_HIGH: [u8; 256] = dist_table(7);

const fn dist_table(shift: u32) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let d = (i << shift) as u32;
        let mut s = 0;
        while s + 1 < 30 && DIST_BASE[s + 1] - 1 <= d {
            s += 1;
        }
        t[i] = s as u8;
        i += 1;
    }
    t
}

fn dist_symbol(dist_less_one: u32) -> usize {
    if dist_less_one < 256 {
        usize::from(DIST_LOW[dist_less_one as usize])
    } else {
        usize::from(DIST_HIGH[(dist_less_one >> 7) as usize])
    }
}

/// The symbols of a block being gathered, and how often each code is used. Literals
/// are only counted: the writer takes them from the bytes the block stands for.
pub(super) struct Gathered {
    /// The copies, in order, each with the literals before it.
    pub(super) copies: Vec<Sequence>,
    /// Literals since the last copy.
    run: u32,
    litlen: [u32; LITLEN],
    dist: [u32; DIST],
}

/// A copy and the literals before it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sequence {
    /// Literals before the copy.
    lits: u32,
    /// Length in bits 16.., distance less one below.
    len_dist: u32,
}

impl Gathered {
    /// Room for `n` copies.
    pub(super) fn with_capacity(n: usize) -> Self {
        Self {
            copies: Vec::with_capacity(n),
            run: 0,
            litlen: [0; LITLEN],
            dist: [0; DIST],
        }
    }

    /// Adds a literal.
    #[inline]
    pub(super) fn literal(&mut self, byte: u8) {
        self.litlen[usize::from(byte)] += 1;
        self.run += 1;
    }

    /// Adds a copy of `len` (3..=258) bytes from `dist` (1..=32768) back.
    #[inline]
    pub(super) fn copy(&mut self, len: usize, dist: usize) {
        debug_assert!((3..=258).contains(&len) && (1..=32768).contains(&dist));
        self.litlen[257 + usize::from(LEN_SYM[len])] += 1;
        self.dist[dist_symbol(dist as u32 - 1)] += 1;
        self.copies.push(Sequence {
            lits: self.run,
            len_dist: (len as u32) << 16 | (dist as u32 - 1),
        });
        self.run = 0;
    }

    /// Writes the gathered symbols as one block of `raw` (the bytes they stand for) and
    /// starts over.
    pub(super) fn write(&mut self, out: &mut BitWriter, raw: &[u8], last: bool) {
        self.litlen[END] = 1;
        let plan = Plan::new(&self.litlen, &self.dist);
        let extra = extra_bits(&self.litlen, &self.dist);
        let fixed = 3 + cost(&self.litlen, &FIXED.litlen_lens) + cost(&self.dist, &[5; DIST]);
        let dynamic = 3
            + plan.header_bits
            + cost(&self.litlen, &plan.litlen_lens)
            + cost(&self.dist, &plan.dist_lens);
        let stored = stored_bits(raw.len(), (out.position() % 8) as u32);
        if stored <= dynamic.min(fixed) + extra {
            out.stored(raw, last);
        } else if fixed <= dynamic {
            out.put(u32::from(last) | 0b010, 3);
            self.symbols_with(out, &FIXED, raw, fixed + extra);
        } else {
            out.put(u32::from(last) | 0b100, 3);
            plan.header(out);
            self.symbols_with(out, &plan, raw, dynamic + extra);
        }
        self.copies.clear();
        self.run = 0;
        self.litlen = [0; LITLEN];
        self.dist = [0; DIST];
    }

    /// Writes the symbols with codes `p`, `bits` in all.
    fn symbols_with(&self, out: &mut BitWriter, p: &Plan, raw: &[u8], bits: u64) {
        let mut w = out.burst(usize::try_from(bits / 8).unwrap_or(usize::MAX));
        let literals = |w: &mut Burst<'_>, bytes: &[u8]| {
            for &b in bytes {
                let b = usize::from(b);
                w.add(u32::from(p.litlen_codes[b]), u32::from(p.litlen_lens[b]));
                w.flush();
            }
        };
        let mut at = 0usize;
        for c in &self.copies {
            let (l, len, d) = (c.lits as usize, c.len_dist >> 16, c.len_dist & 0xffff);
            literals(&mut w, &raw[at..at + l]);
            at += l + len as usize;
            let ls = usize::from(LEN_SYM[len as usize]);
            let (code, bits) = (p.litlen_codes[257 + ls], p.litlen_lens[257 + ls]);
            w.add(
                u32::from(code) | (len - u32::from(LEN_BASE[ls])) << bits,
                u32::from(bits + LEN_EXTRA[ls]),
            );
            let ds = dist_symbol(d);
            let (code, bits) = (p.dist_codes[ds], p.dist_lens[ds]);
            w.add(
                u32::from(code) | (d + 1 - DIST_BASE[ds]) << bits,
                u32::from(bits + DIST_EXTRA[ds]),
            );
            w.flush();
        }
        literals(&mut w, &raw[at..]);
        w.add(
            u32::from(p.litlen_codes[END]),
            u32::from(p.litlen_lens[END]),
        );
        w.close();
    }
}

/// The bits of every code used `freq` times with lengths `lens`.
fn cost(freq: &[u32], lens: &[u8]) -> u64 {
    freq.iter()
        .zip(lens)
        .map(|(&f, &l)| u64::from(f) * u64::from(l))
        .sum()
}

/// The extra bits that follow length and distance codes, the same in any block type.
fn extra_bits(litlen: &[u32; LITLEN], dist: &[u32; DIST]) -> u64 {
    cost(&litlen[257..], &LEN_EXTRA) + cost(dist, &DIST_EXTRA)
}

/// The bits of `len` bytes as stored blocks (at most 65535 bytes each), written after
/// `pending` bits of an unfinished byte.
fn stored_bits(len: usize, pending: u32) -> u64 {
    let blocks = len.div_ceil(65535).max(1) as u64;
    let first_pad = u64::from((8 - (pending + 3) % 8) % 8);
    // Each block: 3 header bits, padding to a byte (only the first's depends on where
    // it starts; the others start on a byte), LEN and NLEN, the bytes.
    blocks * (3 + 32) + first_pad + (blocks - 1) * 5 + 8 * len as u64
}

/// A block's codes: lengths and bit-reversed codes for literals/lengths and distances,
/// and for a dynamic block its header.
struct Plan {
    litlen_lens: [u8; LITLEN],
    litlen_codes: [u16; LITLEN],
    dist_lens: [u8; DIST],
    dist_codes: [u16; DIST],
    /// The header's code-length symbols: (symbol, its extra bits' value).
    header: Vec<(u8, u8)>,
    cl_lens: [u8; 19],
    cl_codes: [u16; 19],
    /// Literal/length and distance code counts (HLIT + 257, HDIST + 1), and the count
    /// of code-length code lengths written (HCLEN + 4).
    counts: (usize, usize, usize),
    /// The bits of the dynamic header after its first three.
    header_bits: u64,
}

/// The fixed codes of RFC 1951 section 3.2.6.
static FIXED: std::sync::LazyLock<Plan> = std::sync::LazyLock::new(|| {
    // Symbols 286 and 287 take part in the fixed code but never occur; the code of
    // 280-285 is what it would be with them.
    let mut litlen_lens = [0u8; LITLEN];
    litlen_lens.copy_from_slice(&FIXED_LITLEN[..LITLEN]);
    let mut codes = [0u16; 288];
    canonical(&FIXED_LITLEN, &mut codes);
    let mut litlen_codes = [0u16; LITLEN];
    litlen_codes.copy_from_slice(&codes[..LITLEN]);
    let dist_lens = [5u8; DIST];
    let mut dist_codes = [0u16; DIST];
    canonical(&dist_lens, &mut dist_codes);
    Plan {
        litlen_lens,
        litlen_codes,
        dist_lens,
        dist_codes,
        header: Vec::new(),
        cl_lens: [0; 19],
        cl_codes: [0; 19],
        counts: (0, 0, 0),
        header_bits: 0,
    }
});

impl Plan {
    /// The dynamic codes for these counts (the end-of-block code counted once).
    fn new(litlen: &[u32; LITLEN], dist: &[u32; DIST]) -> Self {
        // Like zlib, at least two distance codes: some inflaters reject fewer.
        let mut dist = *dist;
        for i in 0..2 {
            if dist.iter().filter(|&&f| f > 0).count() < 2 && dist[i] == 0 {
                dist[i] = 1;
            }
        }
        let mut litlen_lens = [0u8; LITLEN];
        lengths(litlen, MAX_BITS, &mut litlen_lens);
        let mut dist_lens = [0u8; DIST];
        lengths(&dist, MAX_BITS, &mut dist_lens);
        let mut litlen_codes = [0u16; LITLEN];
        canonical(&litlen_lens, &mut litlen_codes);
        let mut dist_codes = [0u16; DIST];
        canonical(&dist_lens, &mut dist_codes);

        let nlit = 257
            + litlen_lens[257..]
                .iter()
                .rposition(|&l| l > 0)
                .map_or(0, |i| i + 1);
        let ndist = dist_lens.iter().rposition(|&l| l > 0).map_or(1, |i| i + 1);
        let all: Vec<u8> = litlen_lens[..nlit]
            .iter()
            .chain(&dist_lens[..ndist])
            .copied()
            .collect();
        let header = run_lengths(&all);
        let mut cl_freq = [0u32; 19];
        for &(s, _) in &header {
            cl_freq[usize::from(s)] += 1;
        }
        let mut cl_lens = [0u8; 19];
        lengths(&cl_freq, 7, &mut cl_lens);
        let mut cl_codes = [0u16; 19];
        canonical(&cl_lens, &mut cl_codes);
        let ncl = 4.max(
            ORDER
                .iter()
                .rposition(|&s| cl_lens[s] > 0)
                .map_or(0, |i| i + 1),
        );
        let header_bits = 14
            + 3 * ncl as u64
            + header
                .iter()
                .map(|&(s, _)| {
                    u64::from(cl_lens[usize::from(s)]) + u64::from(RUN_EXTRA[usize::from(s)])
                })
                .sum::<u64>();
        Self {
            litlen_lens,
            litlen_codes,
            dist_lens,
            dist_codes,
            header,
            cl_lens,
            cl_codes,
            counts: (nlit, ndist, ncl),
            header_bits,
        }
    }

    /// Writes the dynamic header after the block's first three bits.
    fn header(&self, out: &mut BitWriter) {
        let (nlit, ndist, ncl) = self.counts;
        out.put((nlit - 257) as u32, 5);
        out.put((ndist - 1) as u32, 5);
        out.put((ncl - 4) as u32, 4);
        for &s in &ORDER[..ncl] {
            out.put(u32::from(self.cl_lens[s]), 3);
        }
        for &(s, x) in &self.header {
            let s = usize::from(s);
            out.put(u32::from(self.cl_codes[s]), u32::from(self.cl_lens[s]));
            out.put(u32::from(x), u32::from(RUN_EXTRA[s]));
        }
    }
}

/// Extra bits after code-length symbols 16, 17 and 18.
const RUN_EXTRA: [u8; 19] = {
    let mut t = [0u8; 19];
    t[16] = 2;
    t[17] = 3;
    t[18] = 7;
    t
};

/// Code lengths as code-length symbols: 16 repeats the previous length 3-6 times, 17
/// writes 3-10 zeros, 18 writes 11-138 zeros.
fn run_lengths(lens: &[u8]) -> Vec<(u8, u8)> {
    let mut out = Vec::with_capacity(lens.len());
    let mut i = 0;
    while i < lens.len() {
        let l = lens[i];
        let run = lens[i..].iter().take_while(|&&x| x == l).count();
        i += run;
        let mut left = run;
        if l == 0 {
            while left >= 11 {
                let k = left.min(138);
                out.push((18, (k - 11) as u8));
                left -= k;
            }
            if left >= 3 {
                out.push((17, (left - 3) as u8));
                left = 0;
            }
        } else {
            out.push((l, 0));
            left -= 1;
            while left >= 3 {
                let k = left.min(6);
                out.push((16, (k - 3) as u8));
                left -= k;
            }
        }
        out.extend(std::iter::repeat_n((l, 0), left));
    }
    out
}
