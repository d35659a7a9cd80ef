//! The Huffman decoding under [`super::Walker`]: a bit reader over a byte source (LSB
//! first, as deflate packs bits) and canonical codes built from code lengths, checked as
//! zlib's `inftrees.c` checks them, decoded through a table of the next bits.

use std::io::{self, Read};

use super::{Result, Sink, WalkError};

/// Reads bits LSB-first, as deflate packs them, from a byte source.
pub(super) struct Bits<R> {
    src: R,
    pub(super) buf: Box<[u8]>,
    /// The next byte of `buf` to load, and the end of what it holds.
    pub(super) pos: usize,
    pub(super) len: usize,
    /// Bits not yet consumed, lowest first; bits above `n` are the stream's next bits
    /// or zero.
    pub(super) acc: u64,
    pub(super) n: u32,
    /// Bytes moved into `acc` so far.
    pub(super) loaded: u64,
    eof: bool,
}

impl<R: Read> Bits<R> {
    pub(super) fn new(src: R, capacity: usize) -> Self {
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
    pub(super) fn position(&self) -> u64 {
        self.loaded * 8 - u64::from(self.n)
    }

    /// Makes at least 56 bits available, unless the data ends first.
    #[inline]
    pub(super) fn refill(&mut self) -> Result<()> {
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
    pub(super) fn peek(&self, k: u32) -> u32 {
        (self.acc & ((1u64 << k) - 1)) as u32
    }

    #[inline]
    pub(super) fn consume(&mut self, k: u32) -> Result<()> {
        if k > self.n {
            return Err(WalkError::Truncated);
        }
        self.acc >>= k;
        self.n -= k;
        Ok(())
    }

    pub(super) fn take(&mut self, k: u32) -> Result<u32> {
        self.refill()?;
        let v = self.peek(k);
        self.consume(k)?;
        Ok(v)
    }

    /// Passes `count` whole bytes (the data of a stored block), writing them to `sink`
    /// when there is one; the position is on a byte boundary.
    pub(super) fn pass_bytes(&mut self, mut count: u64, mut sink: Option<&mut Sink>) -> Result<()> {
        loop {
            while count > 0 && self.n >= 8 {
                let byte = self.peek(8) as u8;
                self.consume(8)?;
                if let Some(sink) = sink.as_deref_mut() {
                    sink.literal(byte)?;
                }
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
            let step = count.min((self.len - self.pos) as u64) as usize;
            if let Some(sink) = sink.as_deref_mut() {
                sink.bytes(&self.buf[self.pos..self.pos + step])?;
            }
            self.pos += step;
            self.loaded += step as u64;
            count -= step as u64;
        }
    }
}

/// Bits looked up at once; longer codes are decoded a bit at a time.
pub(super) const FAST: u32 = 11;
pub(super) const FAST_MASK: u64 = (1 << FAST) - 1;
/// In a literal/length entry: a length symbol (a distance code follows).
pub(super) const MATCH: u32 = 1 << 17;
/// An entry the walker's fast path does not take: the end-of-block, or a symbol
/// deflate does not define (which the checked path rejects).
pub(super) const SPECIAL: u32 = 1 << 18;
/// An entry for a code longer than the table.
pub(super) const LONG: u32 = 1 << 19;

/// A canonical Huffman code built from code lengths, as deflate defines it.
pub(super) struct Code<const N: usize> {
    /// For each pattern of the next log2(N) bits: how many extra bits follow the
    /// symbol << 24 | the code's length << 20 | flags ([`MATCH`], [`SPECIAL`]) |
    /// symbol << 8 | the code's and the extra bits' length together; or [`LONG`] for
    /// a longer code. The walker's fast path skips a symbol with its extra bits in one
    /// shift by the low byte, and reads the extra bits' value beside that chain. A
    /// fixed size, so that lookups need no bounds check.
    pub(super) table: Box<[u32; N]>,
    /// Codes of each length (for the long path).
    counts: [u16; 16],
    /// Symbols ordered by code.
    symbols: Vec<u16>,
}

/// What kind of code is being built (zlib's `codetype`): the code-length code must be
/// complete, the others may be incomplete only when they have one code of one bit.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum CodeKind {
    Lengths,
    Literals,
    Distances,
}

/// Literal/length and distance codes.
pub(super) type Fast = Code<{ 1 << FAST }>;
/// The code-length code (its codes have at most 7 bits).
pub(super) type Small = Code<128>;
/// A code decoded bit by bit (a table of one entry, never filled): for a few symbols.
pub(super) type Bare = Code<1>;

/// How many extra bits follow symbol `sym` of a code of `kind` (0 for literals, the
/// end of block, and symbols deflate does not define, which the walker rejects).
fn extra_bits(kind: CodeKind, sym: usize) -> u32 {
    let extra = match kind {
        CodeKind::Literals => sym.checked_sub(257).and_then(|i| super::LEN_EXTRA.get(i)),
        CodeKind::Distances => super::DIST_EXTRA.get(sym),
        CodeKind::Lengths => None,
    };
    extra.map_or(0, |&e| u32::from(e))
}

/// The walker's flags for symbol `sym` of a code of `kind`.
fn flags(kind: CodeKind, sym: usize) -> u32 {
    match (kind, sym) {
        (CodeKind::Literals, 257..=285) => MATCH,
        (CodeKind::Literals, 256..) | (CodeKind::Distances, 30..) => SPECIAL,
        _ => 0,
    }
}

/// The first canonical code of each length, given how many codes each length has
/// (RFC 1951 §3.2.2): codes are assigned in order of length, then symbol.
fn first_codes(counts: &[u16; 16]) -> [u32; 16] {
    let mut first = [0u32; 16];
    let mut code = 0u32;
    for l in 1..16 {
        code = (code + u32::from(counts[l - 1])) << 1;
        first[l] = code;
    }
    first
}

/// The canonical code of `sym` among the literal/length code lengths `lens`, as bits
/// in stream order (deflate writes a code's most significant bit first) and their
/// count; `None` when `sym` has no code or the lengths are no code.
pub(super) fn stream_code(lens: &[u8], sym: usize) -> Option<(u32, u32)> {
    let len = *lens.get(sym)?;
    if len == 0 {
        return None;
    }
    let counts = Bare::check(lens, CodeKind::Literals).ok()?;
    let before = lens[..sym]
        .iter()
        .map(|&l| u32::from(l == len))
        .sum::<u32>();
    let code = first_codes(&counts)[usize::from(len)] + before;
    Some((code.reverse_bits() >> (32 - u32::from(len)), u32::from(len)))
}

impl<const N: usize> Code<N> {
    /// Checks code lengths as zlib does (over-subscribed, or incomplete where that is
    /// not allowed); the count of codes of each length.
    pub(super) fn check(lens: &[u8], kind: CodeKind) -> Result<[u16; 16]> {
        // Four counts kept apart: a code's lengths come in runs of one value, and one
        // count taking each in turn waits on its own last store (a third of the time
        // of telling a member's kind was here).
        let mut part = [[0u16; 16]; 4];
        let mut quads = lens.chunks_exact(4);
        for q in &mut quads {
            for (p, &l) in part.iter_mut().zip(q) {
                p[usize::from(l)] += 1;
            }
        }
        for &l in quads.remainder() {
            part[0][usize::from(l)] += 1;
        }
        let mut counts = [0u16; 16];
        for (l, c) in counts.iter_mut().enumerate().skip(1) {
            *c = part.iter().map(|p| p[l]).sum();
        }
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
    pub(super) fn new(lens: &[u8], kind: CodeKind) -> Result<Self> {
        let counts = Self::check(lens, kind)?;
        let mut offs = [0u16; 16];
        for l in 1..15 {
            offs[l + 1] = offs[l] + counts[l];
        }
        let mut symbols = vec![0u16; lens.len()];
        let mut table: Box<[u32; N]> = vec![LONG; N]
            .into_boxed_slice()
            .try_into()
            .map_err(|_| WalkError::Invalid("invalid code"))?;
        let bits = N.trailing_zeros();
        let mut next = first_codes(&counts);
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
                let extra = extra_bits(kind, sym);
                let entry = (sym as u32) << 8
                    | (l as u32 + extra)
                    | (l as u32) << 20
                    | extra << 24
                    | flags(kind, sym);
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
    pub(super) fn decode<R: Read>(&self, bits: &mut Bits<R>) -> Result<u16> {
        let e = self.table[bits.peek(FAST) as usize & (N - 1)];
        if e & LONG == 0 {
            bits.consume((e >> 20) & 0xf)?;
            return Ok(((e >> 8) & 0x1ff) as u16);
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
