//! The block structure of a deflate stream (RFC 1951 §3.2), read without producing its
//! output: where each block starts and ends, to the bit, and how many bytes it inflates
//! to. A walk needs no window (back-references are counted, not copied), so it can start
//! at any block boundary, which is what [`super::seek`] needs to decode a member's end
//! without its start.
//!
//! # Why hand-written
//! Inflaters (zlib, zlib-rs, miniz_oxide) report block ends only through zlib's
//! `Z_BLOCK` flush, which flate2 does not expose; none starts at a bit position; and
//! all of them copy every byte, which a walk does not need. The decoding checks are
//! zlib's own (`inflate.c`, `inftrees.c`): a stream zlib rejects is rejected here too.

use std::io::{self, Read};

/// A block: where it starts and ends in the compressed stream, and its output length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// The bit where its header starts, counted from the walk's origin.
    pub start: u64,
    /// The bit just after its end-of-block code (or its stored bytes).
    pub end: u64,
    /// Bytes it inflates to.
    pub out: u64,
    /// How far before its first byte its back-references reach (0 if none does): the
    /// part of the window its output depends on.
    pub reach: u64,
    /// Whether it is the stream's last block (BFINAL).
    pub last: bool,
    /// How it is coded.
    pub kind: Kind,
}

/// How a block is coded (BTYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Stored bytes (BTYPE 00).
    Stored,
    /// The fixed Huffman codes (BTYPE 01).
    Fixed,
    /// Codes described in the block header (BTYPE 10).
    Dynamic,
}

/// Why a walk stopped: the data is not a deflate stream from where the walk started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    /// The data ended inside a block.
    #[error("the deflate data ends inside a block")]
    Truncated,
    /// Reading the data failed.
    #[error("reading the deflate data failed: {0}")]
    Io(String),
    /// Something zlib would reject, in zlib's words.
    #[error("{0}")]
    Invalid(&'static str),
}

impl From<WalkError> for io::Error {
    fn from(e: WalkError) -> Self {
        match e {
            WalkError::Truncated => io::Error::new(io::ErrorKind::UnexpectedEof, e.to_string()),
            _ => io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
        }
    }
}

type Result<T> = std::result::Result<T, WalkError>;

/// Reads bits LSB-first, as deflate packs them, from a byte source.
struct Bits<R> {
    src: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    /// Bits not yet consumed, lowest first; bits above `n` are the stream's next bits
    /// or zero.
    acc: u64,
    n: u32,
    /// Bytes moved into `acc` so far.
    loaded: u64,
    eof: bool,
}

impl<R: Read> Bits<R> {
    fn new(src: R, capacity: usize) -> Self {
        Self {
            src,
            buf: vec![0u8; capacity].into_boxed_slice(),
            pos: 0,
            len: 0,
            acc: 0,
            n: 0,
            loaded: 0,
            eof: false,
        }
    }

    /// Bits consumed since the origin.
    fn position(&self) -> u64 {
        self.loaded * 8 - u64::from(self.n)
    }

    /// Makes at least 56 bits available, unless the data ends first.
    #[inline]
    fn refill(&mut self) -> Result<()> {
        if self.n >= 56 {
            return Ok(());
        }
        if self.pos + 8 <= self.len {
            let w = u64::from_le_bytes(
                self.buf[self.pos..self.pos + 8]
                    .try_into()
                    .unwrap_or([0; 8]),
            );
            self.acc |= w << self.n;
            let take = (63 - self.n) / 8;
            self.pos += take as usize;
            self.loaded += u64::from(take);
            self.n += take * 8;
            return Ok(());
        }
        self.refill_slow()
    }

    #[cold]
    fn refill_slow(&mut self) -> Result<()> {
        while self.n <= 56 {
            if self.pos == self.len {
                if self.eof {
                    return Ok(());
                }
                self.len = loop {
                    match self.src.read(&mut self.buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(WalkError::Io(e.to_string())),
                    }
                };
                self.pos = 0;
                if self.len == 0 {
                    self.eof = true;
                    return Ok(());
                }
            }
            self.acc |= u64::from(self.buf[self.pos]) << self.n;
            self.pos += 1;
            self.loaded += 1;
            self.n += 8;
        }
        Ok(())
    }

    /// The next `k` bits (k ≤ 32) without consuming them; zero past the end.
    #[inline]
    fn peek(&self, k: u32) -> u32 {
        (self.acc & ((1u64 << k) - 1)) as u32
    }

    #[inline]
    fn consume(&mut self, k: u32) -> Result<()> {
        if k > self.n {
            return Err(WalkError::Truncated);
        }
        self.acc >>= k;
        self.n -= k;
        Ok(())
    }

    fn take(&mut self, k: u32) -> Result<u32> {
        self.refill()?;
        let v = self.peek(k);
        self.consume(k)?;
        Ok(v)
    }

    /// Skips `count` whole bytes (the data of a stored block); the position is on a
    /// byte boundary.
    fn skip_bytes(&mut self, mut count: u64) -> Result<()> {
        loop {
            while count > 0 && self.n >= 8 {
                self.consume(8)?;
                count -= 1;
            }
            if count == 0 {
                return Ok(());
            }
            // `acc` is spent; the bits above were copied ahead of `pos` and are stale
            // once `pos` moves.
            self.acc = 0;
            if self.pos == self.len {
                self.refill_slow()?;
                if self.n == 0 {
                    return Err(WalkError::Truncated);
                }
                continue;
            }
            let step = count.min((self.len - self.pos) as u64);
            self.pos += step as usize;
            self.loaded += step;
            count -= step;
        }
    }
}

/// Bits looked up at once; longer codes are decoded a bit at a time.
const FAST: u32 = 11;
const FAST_MASK: u64 = (1 << FAST) - 1;

/// A canonical Huffman code built from code lengths, as deflate defines it.
struct Code<const N: usize> {
    /// For each pattern of the next log2(N) bits: symbol << 8 | length, or 0 for a
    /// longer code. A fixed size, so that lookups need no bounds check.
    table: Box<[u32; N]>,
    /// Codes of each length (for the long path).
    counts: [u16; 16],
    /// Symbols ordered by code.
    symbols: Vec<u16>,
}

/// What kind of code is being built (zlib's `codetype`): the code-length code must be
/// complete, the others may be incomplete only when they have one code of one bit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CodeKind {
    Lengths,
    Literals,
    Distances,
}

/// Literal/length and distance codes.
type Fast = Code<{ 1 << FAST }>;
/// The code-length code (its codes have at most 7 bits).
type Small = Code<128>;

impl<const N: usize> Code<N> {
    /// Checks code lengths as zlib does (over-subscribed, or incomplete where that is
    /// not allowed); the count of codes of each length.
    fn check(lens: &[u8], kind: CodeKind) -> Result<[u16; 16]> {
        let mut counts = [0u16; 16];
        for &l in lens {
            counts[usize::from(l)] += 1;
        }
        counts[0] = 0;
        let max = (1..16).rev().find(|&l| counts[l] != 0).unwrap_or(0);
        let mut left = 1i32;
        let bad = || {
            WalkError::Invalid(match kind {
                CodeKind::Lengths => "invalid code lengths set",
                CodeKind::Literals => "invalid literal/lengths set",
                CodeKind::Distances => "invalid distances set",
            })
        };
        for &c in &counts[1..] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return Err(bad());
            }
        }
        if max != 0 && left > 0 && (kind == CodeKind::Lengths || max != 1) {
            return Err(bad());
        }
        Ok(counts)
    }

    /// The code for `lens`, looked up log2(N) bits at a time.
    fn new(lens: &[u8], kind: CodeKind) -> Result<Self> {
        let counts = Self::check(lens, kind)?;
        let mut offs = [0u16; 16];
        for l in 1..15 {
            offs[l + 1] = offs[l] + counts[l];
        }
        let mut symbols = vec![0u16; lens.len()];
        let mut table: Box<[u32; N]> = vec![0u32; N]
            .into_boxed_slice()
            .try_into()
            .map_err(|_| WalkError::Invalid("invalid code"))?;
        let bits = N.trailing_zeros();
        // Canonical codes, assigned in order of length then symbol.
        let mut next = [0u32; 16];
        let mut code = 0u32;
        for l in 1..16 {
            code = (code + u32::from(counts[l - 1])) << 1;
            next[l] = code;
        }
        for (sym, &l) in lens.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let l = usize::from(l);
            symbols[usize::from(offs[l])] = sym as u16;
            offs[l] += 1;
            let c = next[l];
            next[l] += 1;
            if l as u32 <= bits {
                let rev = c.reverse_bits() >> (32 - l);
                let entry = (sym as u32) << 8 | l as u32;
                let mut i = rev as usize;
                while i < table.len() {
                    table[i] = entry;
                    i += 1 << l;
                }
            }
        }
        Ok(Self {
            table,
            counts,
            symbols,
        })
    }

    /// Decodes one symbol; `refill` must have run.
    #[inline]
    fn decode<R: Read>(&self, bits: &mut Bits<R>) -> Result<u16> {
        let e = self.table[bits.peek(FAST) as usize & (N - 1)];
        if e != 0 {
            bits.consume(e & 0xff)?;
            return Ok((e >> 8) as u16);
        }
        self.decode_long(bits)
    }

    #[cold]
    fn decode_long<R: Read>(&self, bits: &mut Bits<R>) -> Result<u16> {
        let window = bits.peek(15);
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16u32 {
            code |= ((window >> (len - 1)) & 1) as i32;
            let count = i32::from(self.counts[len as usize]);
            if code - first < count {
                bits.consume(len)?;
                return Ok(self.symbols[(index + code - first) as usize]);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(WalkError::Invalid("invalid code"))
    }
}

/// The order code-length code lengths are stored in.
pub(super) const ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Base lengths and extra bits of length symbols 257..=285.
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances and extra bits of distance symbols 0..=29.
const DIST_BASE: [u32; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Walks a deflate stream block by block (see the module doc).
pub struct Walker<R> {
    bits: Bits<R>,
    /// Output so far, when the walk started at the stream's start: distances must not
    /// reach before it. `None` when the window before the origin is unknown.
    out: Option<u64>,
    done: bool,
    fixed: Option<(Fast, Fast)>,
    /// The current block's reach before its start (see [`Block::reach`]).
    reach: u64,
}

impl<R: Read> Walker<R> {
    /// A walk from the first bit of `src`, which is the start of a stream: distances are
    /// checked against what came before, as an inflater checks them.
    pub fn from_stream_start(src: R) -> Self {
        Self::new(src, Some(0))
    }

    /// A walk from the first bit of `src`, which is a block boundary somewhere in a
    /// stream, with an unknown window before it.
    pub fn from_block(src: R) -> Self {
        Self::new(src, None)
    }

    /// [`Walker::from_block`] reading `capacity` bytes at a time (for long walks over a
    /// file).
    pub fn from_block_buffered(src: R, capacity: usize) -> Self {
        Self::with_buffer(src, None, capacity)
    }

    fn new(src: R, out: Option<u64>) -> Self {
        // Small: walks are short, and often over a slice already in memory.
        Self::with_buffer(src, out, 8 << 10)
    }

    fn with_buffer(src: R, out: Option<u64>, capacity: usize) -> Self {
        Self {
            bits: Bits::new(src, capacity),
            out,
            done: false,
            fixed: None,
            reach: 0,
        }
    }

    /// Skips the first `n` bits (< 8) of the source, to start mid-byte.
    pub fn skip_bits(&mut self, n: u32) -> std::result::Result<(), WalkError> {
        self.bits.refill()?;
        self.bits.consume(n)
    }

    /// The next block, or `None` after the last.
    pub fn next_block(&mut self) -> Result<Option<Block>> {
        if self.done {
            return Ok(None);
        }
        let start = self.bits.position();
        self.reach = 0;
        let head = self.bits.take(3)?;
        let last = head & 1 == 1;
        let (kind, out) = match head >> 1 {
            0 => (Kind::Stored, self.stored()?),
            1 => {
                let fixed = self.fixed.take().map_or_else(fixed_codes, Ok)?;
                let out = self.codes(&fixed.0, &fixed.1);
                self.fixed = Some(fixed);
                (Kind::Fixed, out?)
            }
            2 => {
                let (lit, dist) = self.dynamic_header()?;
                (Kind::Dynamic, self.codes(&lit, &dist)?)
            }
            _ => return Err(WalkError::Invalid("invalid block type")),
        };
        self.done = last;
        Ok(Some(Block {
            start,
            end: self.bits.position(),
            out,
            reach: self.reach,
            last,
            kind,
        }))
    }

    fn stored(&mut self) -> Result<u64> {
        let pad = self.bits.n % 8;
        self.bits.consume(pad)?;
        let len = self.bits.take(16)?;
        let nlen = self.bits.take(16)?;
        if len != !nlen & 0xffff {
            return Err(WalkError::Invalid("invalid stored block lengths"));
        }
        self.bits.skip_bytes(u64::from(len))?;
        if let Some(o) = self.out.as_mut() {
            *o += u64::from(len);
        }
        Ok(u64::from(len))
    }

    fn dynamic_header(&mut self) -> Result<(Fast, Fast)> {
        let (lens, nlen, total) = self.dynamic_lengths()?;
        Ok((
            Fast::new(&lens[..nlen], CodeKind::Literals)?,
            Fast::new(&lens[nlen..total], CodeKind::Distances)?,
        ))
    }

    /// Reads a dynamic block's code descriptions and checks them as zlib does: the code
    /// lengths, and how many are literal/length ones and how many in all.
    fn dynamic_lengths(&mut self) -> Result<([u8; 320], usize, usize)> {
        let b = &mut self.bits;
        let nlen = b.take(5)? as usize + 257;
        let ndist = b.take(5)? as usize + 1;
        let ncode = b.take(4)? as usize + 4;
        if nlen > 286 || ndist > 30 {
            return Err(WalkError::Invalid("too many length or distance symbols"));
        }
        let mut cl = [0u8; 19];
        for &i in &ORDER[..ncode] {
            cl[i] = b.take(3)? as u8;
        }
        let cl_code = Small::new(&cl, CodeKind::Lengths)?;
        let mut lens = [0u8; 320];
        let total = nlen + ndist;
        let mut i = 0;
        while i < total {
            b.refill()?;
            let sym = cl_code.decode(b)?;
            let (value, n) = match sym {
                0..=15 => (sym as u8, 1),
                16 => {
                    let prev = i
                        .checked_sub(1)
                        .map(|p| lens[p])
                        .ok_or(WalkError::Invalid("invalid bit length repeat"))?;
                    (prev, 3 + b.take(2)? as usize)
                }
                17 => (0, 3 + b.take(3)? as usize),
                _ => (0, 11 + b.take(7)? as usize),
            };
            if i + n > total {
                return Err(WalkError::Invalid("invalid bit length repeat"));
            }
            lens[i..i + n].fill(value);
            i += n;
        }
        if lens[256] == 0 {
            return Err(WalkError::Invalid("invalid code -- missing end-of-block"));
        }
        Fast::check(&lens[..nlen], CodeKind::Literals)?;
        Fast::check(&lens[nlen..total], CodeKind::Distances)?;
        Ok((lens, nlen, total))
    }

    /// Walks a Huffman-coded block's symbols to its end-of-block; its output length.
    fn codes(&mut self, lit: &Fast, dist: &Fast) -> Result<u64> {
        let mut out = 0u64;
        'symbols: loop {
            self.bits.refill()?;
            // With 48 bits at hand, any symbol fits (15 + 5 + 15 + 13 bits for a length
            // and distance), so no check is needed per bit taken: the fast path, which
            // walks literals and lengths from the table until the bits run low.
            // The bit buffer in locals, so that it stays in registers.
            let (mut acc, mut n) = (self.bits.acc, self.bits.n);
            let mut reach = self.reach;
            while n >= 15 {
                let e = lit.table[(acc & FAST_MASK) as usize];
                // A literal's entry is 1..=0xff0f: one compare.
                if e.wrapping_sub(1) < 0xff0f {
                    acc >>= e & 0xff;
                    n -= e & 0xff;
                    out += 1;
                    continue;
                }
                let (len, sym) = (e & 0xff, e >> 8);
                if e == 0 || (sym > 256 && n < 48) {
                    break;
                }
                acc >>= len;
                n -= len;
                if sym == 256 {
                    (self.bits.acc, self.bits.n, self.reach) = (acc, n, reach);
                    break 'symbols;
                }
                let i = (sym - 257) as usize;
                if i >= LEN_BASE.len() {
                    return Err(WalkError::Invalid("invalid literal/length code"));
                }
                let extra = u32::from(LEN_EXTRA[i]);
                let length = u64::from(LEN_BASE[i]) + (acc & ((1 << extra) - 1));
                acc >>= extra;
                n -= extra;
                let e = dist.table[(acc & FAST_MASK) as usize];
                if e == 0 {
                    // A long distance code: the checked path.
                    (self.bits.acc, self.bits.n, self.reach) = (acc, n, reach);
                    self.distance(dist, out)?;
                    (acc, n, reach) = (self.bits.acc, self.bits.n, self.reach);
                } else {
                    acc >>= e & 0xff;
                    n -= e & 0xff;
                    let d = (e >> 8) as usize;
                    if d >= DIST_BASE.len() {
                        return Err(WalkError::Invalid("invalid distance code"));
                    }
                    let extra = u32::from(DIST_EXTRA[d]);
                    let distance = u64::from(DIST_BASE[d]) + (acc & ((1 << extra) - 1));
                    acc >>= extra;
                    n -= extra;
                    if let Some(before) = self.out {
                        if distance > before + out {
                            return Err(WalkError::Invalid("invalid distance too far back"));
                        }
                    }
                    reach = reach.max(distance.saturating_sub(out));
                }
                out += length;
            }
            (self.bits.acc, self.bits.n, self.reach) = (acc, n, reach);
            // A code longer than the table, or bits running low: one symbol, each step
            // checked (near the end of the data, the bits cannot be topped up).
            self.bits.refill()?;
            let sym = lit.decode(&mut self.bits)?;
            if sym < 256 {
                out += 1;
                continue;
            }
            if sym == 256 {
                break;
            }
            out += self.length(u32::from(sym), dist, out)?;
        }
        if let Some(o) = self.out.as_mut() {
            *o += out;
        }
        Ok(out)
    }

    /// The rest of a length symbol `sym`: its extra bits, the distance code and its
    /// extra bits (checked against the output before, when that is known; `out` is the
    /// block's output so far). Returns the length.
    #[inline]
    fn length(&mut self, sym: u32, dist: &Fast, out: u64) -> Result<u64> {
        let i = (sym - 257) as usize;
        if i >= LEN_BASE.len() {
            return Err(WalkError::Invalid("invalid literal/length code"));
        }
        let b = &mut self.bits;
        let extra = u32::from(LEN_EXTRA[i]);
        let length = u64::from(LEN_BASE[i]) + u64::from(b.peek(extra));
        b.consume(extra)?;
        self.distance(dist, out)?;
        Ok(length)
    }

    /// Reads a distance code and its extra bits, checking it against the output before
    /// when that is known; `out` is the block's output so far.
    #[inline]
    fn distance(&mut self, dist: &Fast, out: u64) -> Result<()> {
        let b = &mut self.bits;
        let d = usize::from(dist.decode(b)?);
        if d >= DIST_BASE.len() {
            return Err(WalkError::Invalid("invalid distance code"));
        }
        let extra = u32::from(DIST_EXTRA[d]);
        let distance = u64::from(DIST_BASE[d]) + u64::from(b.peek(extra));
        b.consume(extra)?;
        if let Some(before) = self.out {
            if distance > before + out {
                return Err(WalkError::Invalid("invalid distance too far back"));
            }
        }
        self.reach = self.reach.max(distance.saturating_sub(out));
        Ok(())
    }
}

/// The first `want` bytes that a deflate stream (starting at `data`'s first bit)
/// inflates to, or all of them if it is shorter; `None` when `data` ends first or is not
/// a deflate stream. For telling a member's kind by its first bytes: one small read
/// and a few symbols, where an inflater would set up its window and buffers.
pub fn inflate_head(data: &[u8], want: usize) -> Option<Vec<u8>> {
    let mut w = Walker::with_buffer(data, Some(0), 512);
    let mut out = Vec::with_capacity(want);
    while out.len() < want {
        let head = w.bits.take(3).ok()?;
        match head >> 1 {
            0 => {
                let pad = w.bits.n % 8;
                w.bits.consume(pad).ok()?;
                let len = w.bits.take(16).ok()?;
                let nlen = w.bits.take(16).ok()?;
                if len != !nlen & 0xffff {
                    return None;
                }
                for _ in 0..(len as usize).min(want - out.len()) {
                    out.push(w.bits.take(8).ok()? as u8);
                }
                if out.len() >= want {
                    break;
                }
            }
            1 | 2 => {
                let (lit, dist) = if head >> 1 == 1 {
                    fixed_codes().ok()?
                } else {
                    w.dynamic_header().ok()?
                };
                loop {
                    if out.len() >= want {
                        return Some(out);
                    }
                    w.bits.refill().ok()?;
                    let sym = lit.decode(&mut w.bits).ok()?;
                    if sym < 256 {
                        out.push(sym as u8);
                        continue;
                    }
                    if sym == 256 {
                        break;
                    }
                    let i = usize::from(sym - 257);
                    let extra = u32::from(*LEN_EXTRA.get(i)?);
                    let len = usize::from(LEN_BASE[i]) + w.bits.peek(extra) as usize;
                    w.bits.consume(extra).ok()?;
                    let d = usize::from(dist.decode(&mut w.bits).ok()?);
                    let extra = u32::from(*DIST_EXTRA.get(d)?);
                    let distance = DIST_BASE[d] as usize + w.bits.peek(extra) as usize;
                    w.bits.consume(extra).ok()?;
                    let from = out.len().checked_sub(distance)?;
                    for k in 0..len.min(want.saturating_sub(out.len())) {
                        out.push(out[from + k]);
                    }
                }
            }
            _ => return None,
        }
        if head & 1 == 1 {
            break;
        }
    }
    out.truncate(want);
    Some(out)
}

/// Deflate's fixed codes (RFC 1951 §3.2.6).
fn fixed_codes() -> Result<(Fast, Fast)> {
    let mut lens = [0u8; 288];
    lens[..144].fill(8);
    lens[144..256].fill(9);
    lens[256..280].fill(7);
    lens[280..].fill(8);
    // All 32 distance codes have 5 bits; 30 and 31 are rejected when they occur.
    Ok((
        Fast::new(&lens, CodeKind::Literals)?,
        Fast::new(&[5u8; 32], CodeKind::Distances)?,
    ))
}

/// Whether a dynamic or stored block's header is plausible at bit `bit` of `data`: the
/// cheap first test of a candidate boundary (a stored header by `LEN`/`NLEN`, a dynamic
/// one by its three codes, which must be as zlib accepts them). Fixed headers are no
/// signature (any three bits can read as one) and are not reported.
pub fn plausible_header(data: &[u8], bit: u64) -> bool {
    let Ok(byte) = usize::try_from(bit / 8) else {
        return false;
    };
    let shift = (bit % 8) as u32;
    // BFINAL, BTYPE, HLIT and HDIST fit in the first 16 bits after the start: most
    // positions fail on them, before anything is built.
    let Some(&[a, b, c]) = data.get(byte..byte + 3) else {
        return false;
    };
    let first = (u32::from(a) | u32::from(b) << 8 | u32::from(c) << 16) >> shift;
    match (first >> 1) & 3 {
        0 => {}
        2 if (first >> 3) & 31 <= 29 && (first >> 8) & 31 <= 29 => {}
        _ => return false,
    }
    // Enough for any dynamic header (at most 17 + 19*3 + 316*7 bits).
    let rest = &data[byte..data.len().min(byte + 320)];
    let mut w = Walker::with_buffer(rest, None, 512);
    if w.skip_bits(shift).is_err() {
        return false;
    }
    let Ok(head) = w.bits.take(3) else {
        return false;
    };
    if head >> 1 == 2 {
        return w.dynamic_lengths().is_ok();
    }
    let pad = w.bits.n % 8;
    w.bits.consume(pad).is_ok()
        && matches!((w.bits.take(16), w.bits.take(16)), (Ok(l), Ok(n)) if l == !n & 0xffff)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn deflate(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn sample(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491u32;
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if (i / 100_000) % 3 == 2 {
                    x as u8
                } else {
                    b"the quick brown fox jumps over the lazy dog "[(x % 44) as usize]
                }
            })
            .collect()
    }

    fn walk_all(z: &[u8]) -> Result<Vec<Block>> {
        let mut w = Walker::from_stream_start(z);
        let mut blocks = Vec::new();
        while let Some(b) = w.next_block()? {
            blocks.push(b);
        }
        Ok(blocks)
    }

    #[test]
    fn walks_what_zlib_writes_at_every_level() {
        let data = sample(700_000);
        for level in 0..=9 {
            let z = deflate(&data, level);
            let blocks = walk_all(&z).unwrap();
            let total: u64 = blocks.iter().map(|b| b.out).sum();
            assert_eq!(total, data.len() as u64, "level {level}");
            assert!(blocks.last().unwrap().last);
            // Each block starts where the previous ended, and the last ends in the
            // last byte.
            for pair in blocks.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
            }
            assert_eq!(
                blocks.last().unwrap().end.div_ceil(8),
                z.len() as u64,
                "level {level}"
            );
        }
    }

    #[test]
    fn a_walk_from_any_boundary_agrees() {
        let data = sample(900_000);
        let z = deflate(&data, 6);
        let blocks = walk_all(&z).unwrap();
        assert!(blocks.len() > 3);
        let b = blocks[blocks.len() / 2];
        let mut w = Walker::from_block(&z[(b.start / 8) as usize..]);
        w.skip_bits((b.start % 8) as u32).unwrap();
        let first = w.next_block().unwrap().unwrap();
        assert_eq!(first.end - first.start, b.end - b.start);
        assert_eq!(first.out, b.out);
        if b.kind != Kind::Fixed {
            assert!(plausible_header(&z, b.start));
        }
    }

    #[test]
    fn the_head_is_what_an_inflater_gives() {
        let data = sample(200_000);
        for level in 0..=9 {
            let z = deflate(&data, level);
            for want in [0, 1, 4, 64, 5000] {
                assert_eq!(
                    inflate_head(&z, want).as_deref(),
                    Some(&data[..want]),
                    "{level} {want}"
                );
            }
            // Too little of the stream: no answer, not a wrong one.
            assert_eq!(inflate_head(&z[..2], 5000), None);
        }
        let short = deflate(b"\x7fEL", 6);
        assert_eq!(inflate_head(&short, 4).as_deref(), Some(&b"\x7fEL"[..]));
        let runs = deflate(&[7u8; 1000], 9);
        assert_eq!(inflate_head(&runs, 300).as_deref(), Some(&[7u8; 300][..]));
        assert_eq!(inflate_head(&[0xff; 16], 4), None);
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let data = sample(300_000);
        let z = deflate(&data, 6);
        assert_eq!(walk_all(&z[..z.len() / 2]), Err(WalkError::Truncated));
        let mut x = 7u32;
        for _ in 0..200 {
            let mut bad = z.clone();
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let at = (x as usize >> 4) % bad.len();
            bad[at] ^= 1 << (x % 8);
            let _ = walk_all(&bad);
        }
        assert!(walk_all(&[0xff; 64]).is_err());
        assert!(walk_all(&[]).is_err());
    }

    #[test]
    fn a_distance_before_the_start_is_rejected_only_when_the_start_is_known() {
        // A fixed block: literal 'a', then length 3 at distance 2 (only 1 byte before).
        let mut bits: Vec<(u32, u32)> = vec![(1, 1), (1, 2)]; // BFINAL, BTYPE=01
        let rev = |c: u32, l: u32| c.reverse_bits() >> (32 - l);
        bits.push((rev(0x30 + u32::from(b'a'), 8), 8));
        bits.push((rev(1, 7), 7)); // symbol 257: length 3
        bits.push((rev(1, 5), 5)); // distance symbol 1: distance 2
        bits.push((rev(0, 7), 7)); // end of block
        let mut z = Vec::new();
        let (mut acc, mut n) = (0u64, 0u32);
        for (v, l) in bits {
            acc |= u64::from(v) << n;
            n += l;
        }
        while n > 0 {
            z.push(acc as u8);
            acc >>= 8;
            n = n.saturating_sub(8);
        }
        assert_eq!(
            walk_all(&z),
            Err(WalkError::Invalid("invalid distance too far back"))
        );
        let mut w = Walker::from_block(&z[..]);
        assert_eq!(w.next_block().unwrap().unwrap().out, 4);
    }
}
