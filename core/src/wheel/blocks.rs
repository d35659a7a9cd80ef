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

mod fast;
mod huffman;
mod search;
mod sink;
mod symbols;
mod two;

pub use search::{plausible_header, plausible_headers};
pub use symbols::{symbols, Inside, Symbol};
pub use two::walk_two;

use fast::Stop;
use huffman::{Bare, Bits, Code, CodeKind, Fast, Small};
use sink::Sink;

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
    /// An inflating walk's output passed the size it was given.
    #[error("the deflate data inflates to more than expected")]
    Long,
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

/// The order code-length code lengths are stored in.
pub(super) const ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Base lengths and extra bits of length symbols 257..=285.
pub(super) const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
pub(super) const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances and extra bits of distance symbols 0..=29.
pub(super) const DIST_BASE: [u32; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
pub(super) const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// What [`Walker::begin`] found.
enum Began {
    /// The walk is over.
    Done,
    /// A stored block, walked.
    Block(Block),
    /// A Huffman-coded block, at its first symbol.
    Open(Open),
}

/// A Huffman-coded block being walked.
struct Open {
    start: u64,
    last: bool,
    kind: Kind,
    lit: Fast,
    dist: Fast,
    /// Its output so far.
    out: u64,
}

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
    /// Where the output goes, for an inflating walk ([`inflate_walk`]).
    sink: Option<Sink>,
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
            sink: None,
        }
    }

    /// Skips the first `n` bits (< 8) of the source, to start mid-byte.
    pub fn skip_bits(&mut self, n: u32) -> std::result::Result<(), WalkError> {
        self.bits.refill()?;
        self.bits.consume(n)
    }

    /// The next block, or `None` after the last.
    pub fn next_block(&mut self) -> Result<Option<Block>> {
        match self.begin()? {
            Began::Done => Ok(None),
            Began::Block(b) => Ok(Some(b)),
            Began::Open(mut open) => {
                self.codes(&open.lit, &open.dist, &mut open.out)?;
                Ok(Some(self.close(open)))
            }
        }
    }

    /// Reads the next block's header: a stored block is walked whole, a Huffman-coded
    /// one is left open at its first symbol.
    fn begin(&mut self) -> Result<Began> {
        if self.done {
            return Ok(Began::Done);
        }
        let start = self.bits.position();
        self.reach = 0;
        let head = self.bits.take(3)?;
        let last = head & 1 == 1;
        let (kind, (lit, dist)) = match head >> 1 {
            0 => {
                let out = self.stored()?;
                self.done = last;
                return Ok(Began::Block(Block {
                    start,
                    end: self.bits.position(),
                    out,
                    reach: 0,
                    last,
                    kind: Kind::Stored,
                }));
            }
            1 => (Kind::Fixed, self.fixed.take().map_or_else(fixed_codes, Ok)?),
            2 => (Kind::Dynamic, self.dynamic_header()?),
            _ => return Err(WalkError::Invalid("invalid block type")),
        };
        Ok(Began::Open(Open {
            start,
            last,
            kind,
            lit,
            dist,
            out: 0,
        }))
    }

    /// The block `open`, walked to its end-of-block.
    fn close(&mut self, open: Open) -> Block {
        if let Some(o) = self.out.as_mut() {
            *o += open.out;
        }
        self.done = open.last;
        let block = Block {
            start: open.start,
            end: self.bits.position(),
            out: open.out,
            reach: self.reach,
            last: open.last,
            kind: open.kind,
        };
        if open.kind == Kind::Fixed {
            self.fixed = Some((open.lit, open.dist));
        }
        block
    }

    fn stored(&mut self) -> Result<u64> {
        let pad = self.bits.n % 8;
        self.bits.consume(pad)?;
        let len = self.bits.take(16)?;
        let nlen = self.bits.take(16)?;
        if len != !nlen & 0xffff {
            return Err(WalkError::Invalid("invalid stored block lengths"));
        }
        self.bits.pass_bytes(u64::from(len), self.sink.as_mut())?;
        if let Some(o) = self.out.as_mut() {
            *o += u64::from(len);
        }
        Ok(u64::from(len))
    }

    fn dynamic_header<const N: usize>(&mut self) -> Result<(Code<N>, Code<N>)> {
        let (lens, nlen, total) = self.dynamic_lengths()?;
        Ok((
            Code::new(&lens[..nlen], CodeKind::Literals)?,
            Code::new(&lens[nlen..total], CodeKind::Distances)?,
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

    /// Walks a Huffman-coded block's symbols to its end-of-block, adding their output
    /// to `out`.
    fn codes(&mut self, lit: &Fast, dist: &Fast, out: &mut u64) -> Result<()> {
        loop {
            if self.fast(lit, dist, out)? == Stop::End || self.checked(lit, dist, out)? {
                return Ok(());
            }
        }
    }

    /// One symbol, each step checked (a code longer than the table, the end of the
    /// buffer near), its output added to `out`; whether it was the end-of-block.
    fn checked(&mut self, lit: &Fast, dist: &Fast, out: &mut u64) -> Result<bool> {
        self.bits.refill()?;
        let sym = lit.decode(&mut self.bits)?;
        match sym {
            0..=255 => {
                if let Some(sink) = self.sink.as_mut() {
                    sink.literal(sym as u8)?;
                }
                *out += 1;
            }
            256 => return Ok(true),
            _ => *out += self.length(u32::from(sym), dist, *out)?,
        }
        Ok(false)
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
        let distance = self.distance(dist, out)?;
        if let Some(sink) = self.sink.as_mut() {
            sink.copy(distance as usize, length as usize)?;
        }
        Ok(length)
    }

    /// Reads a distance code and its extra bits, checking it against the output before
    /// when that is known; `out` is the block's output so far. Returns the distance.
    #[inline]
    fn distance(&mut self, dist: &Fast, out: u64) -> Result<u64> {
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
        Ok(distance)
    }
}

/// What [`inflate_walk`] gives: the output, and the blocks, each with where its output
/// starts.
pub type Inflated = (Vec<u8>, Vec<(Block, u64)>);

/// Inflates the whole stream `z`, which should inflate to `size` bytes, while walking
/// it: its output (no more than `size` bytes) and its blocks, each with where its
/// output starts. An error is where zlib would stop too, or output past `size`.
pub fn inflate_walk(z: &[u8], size: usize) -> Result<Inflated> {
    inflate_walk_with(z, size, &mut |_| {})
}

/// Output handed on at a time by [`inflate_walk_with`].
const HAND_ON: usize = 256 << 10;

/// [`inflate_walk`], handing the output to `out` as it is made, in order, a few
/// hundred KiB at a time and the rest at the end (a hash of it can then run on another
/// core meanwhile). On an error, `out` has seen a part of the output.
pub fn inflate_walk_with(z: &[u8], size: usize, out: &mut dyn FnMut(&[u8])) -> Result<Inflated> {
    let mut w = Walker::with_buffer(z, Some(0), 64 << 10);
    w.sink = Some(Sink::new(size));
    let mut blocks = Vec::new();
    let mut at = 0u64;
    let mut handed = 0;
    while let Some(b) = w.next_block()? {
        blocks.push((b, at));
        at += b.out;
        if let Some(made) = w.sink.as_ref().map(Sink::written) {
            if made.len() - handed >= HAND_ON {
                out(&made[handed..]);
                handed = made.len();
            }
        }
    }
    let made = w.sink.take().unwrap_or_default().finish();
    out(&made[handed..]);
    Ok((made, blocks))
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
                // A few symbols are decoded: codes without lookup tables (`Bare`), as
                // filling tables would cost more than decoding bit by bit.
                let (lit, dist): (Bare, Bare) = if head >> 1 == 1 {
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
                    let (len, distance) = copy(&mut w.bits, sym, &dist)?;
                    let (len, distance) = (len as usize, distance as usize);
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

/// Whether a deflate stream surely does not inflate to `byte` first, told from its
/// first block's header alone: a dynamic block with no code for `byte` whose first
/// symbol is not its end (a literal, or a copy, which cannot come first). `false` when
/// that does not tell (inflate to know). Most members of a wheel are text, which has
/// no code for ELF's `0x7f`: this spares building their codes and decoding.
pub fn first_byte_is_not(data: &[u8], byte: u8) -> bool {
    let mut w = Walker::with_buffer(data, Some(0), 512);
    if !w.bits.take(3).is_ok_and(|head| head >> 1 == 2) {
        return false;
    }
    let Ok((lens, nlen, _)) = w.dynamic_lengths() else {
        return false;
    };
    if lens[usize::from(byte)] != 0 {
        return false;
    }
    let Some((end, bits)) = huffman::stream_code(&lens[..nlen], 256) else {
        return false;
    };
    w.bits.refill().is_ok() && w.bits.n >= bits && w.bits.peek(bits) != end
}

/// The copy that length symbol `sym` starts: its length, with its extra bits, and its
/// distance, read with `dist`, with its extra bits; `None` for a length or distance
/// symbol deflate does not define, or a stream cut short. For the paths that take
/// symbols one by one to output or list them (the walk's own checks the window too).
#[inline]
fn copy<R: Read, const N: usize>(
    bits: &mut Bits<R>,
    sym: u16,
    dist: &Code<N>,
) -> Option<(u32, u32)> {
    let i = usize::from(sym.checked_sub(257)?);
    let extra = u32::from(*LEN_EXTRA.get(i)?);
    let len = u32::from(LEN_BASE[i]) + bits.peek(extra);
    bits.consume(extra).ok()?;
    let d = usize::from(dist.decode(bits).ok()?);
    let extra = u32::from(*DIST_EXTRA.get(d)?);
    let distance = DIST_BASE[d] + bits.peek(extra);
    bits.consume(extra).ok()?;
    Some((len, distance))
}

/// The code lengths of deflate's fixed literal/length code (RFC 1951 §3.2.6), all 288.
pub(super) const FIXED_LITLEN: [u8; 288] = {
    let mut lens = [8u8; 288];
    let mut s = 144;
    while s < 280 {
        lens[s] = if s < 256 { 9 } else { 7 };
        s += 1;
    }
    lens
};

/// Deflate's fixed codes (RFC 1951 §3.2.6).
fn fixed_codes<const N: usize>() -> Result<(Code<N>, Code<N>)> {
    // All 32 distance codes have 5 bits; 30 and 31 are rejected when they occur.
    Ok((
        Code::new(&FIXED_LITLEN, CodeKind::Literals)?,
        Code::new(&[5u8; 32], CodeKind::Distances)?,
    ))
}

#[cfg(test)]
mod tests;
