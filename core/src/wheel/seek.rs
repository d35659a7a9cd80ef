//! Reading the end of a deflated member without inflating everything before it.
//!
//! An audit needs a library's first pages (headers, symbol and version tables) and its
//! dynamic table, which linkers put after the code: in torch's libtorch_cuda.so, 985 MB
//! into a 1 GB file. A deflate stream has no index, but it is a sequence of blocks, and
//! a block can be decoded from its first bit given the 32 KiB of output before it (the
//! window its back-references may reach). So this module finds block boundaries near the
//! end of the compressed data and decodes from there:
//!
//! 1. **Candidates.** Every bit position in a search window is tested as the start of a
//!    stored block (`LEN` and its complement `NLEN`) or of a dynamic-Huffman block (its
//!    three code descriptions must form complete prefix codes, with an end-of-block
//!    code), as zlib would check them. Fixed-Huffman headers are too weak a signature
//!    and are skipped. A candidate is kept when it decodes, with a stand-in window, to
//!    exactly where the member's compressed data ends; the length decoded then says
//!    where its output starts (`size - L`).
//! 2. **Two starts that must agree.** A kept candidate can still be false: Huffman codes
//!    resynchronise, so decoding from a wrong bit can produce a few wrong bytes and then
//!    fall into step with the real stream. And a true one's first bytes may copy from
//!    the unknown window. So the tail is decoded from two kept candidates at least 1 MiB
//!    apart, one with a window of zero bytes and one with `0xFF` bytes, and a byte is
//!    handed out only where both decodes agree: a wrong byte would have to be produced
//!    identically by two unrelated false starts (or by two different stand-in windows).
//!    Any disagreement at or after the first byte asked for ends the attempt.
//!
//! zlib cannot start at a bit position, so the compressed bytes are shifted into byte
//! alignment on the fly ([`Shifted`]); the decoding itself is flate2's (zlib-rs).
//! Nothing here is needed for correctness: a caller that gets `None` or an error reads
//! the member from its start.

use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};

use crate::source::{RangeReader, ReadAt};

/// Deflate's window.
const WINDOW: usize = 32 << 10;
/// Compressed bytes searched for candidates from each starting point.
const SEARCH: usize = 512 << 10;
/// Candidates tried from each starting point before moving further back.
const TRIES: usize = 64;

/// A block boundary from which the member decodes to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockStart {
    /// The block's first bit, counted from the start of the member's compressed data.
    pub bit: u64,
    /// Where in the uncompressed member the block's output begins.
    pub offset: u64,
}

/// Two block boundaries to decode the tail from (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tail {
    /// The earlier start, at least 1 MiB of compressed data before `late`.
    pub early: BlockStart,
    /// The later start.
    pub late: BlockStart,
}

/// Compressed bytes between the two starts.
const APART: u64 = 1 << 20;
/// Output between the later start and the first byte needed.
const GAP: u64 = 2 << 20;

/// The compressed bytes of a member, in its archive.
#[derive(Debug, Clone, Copy)]
pub struct Deflated<'a, S: ReadAt + ?Sized> {
    /// The archive.
    pub src: &'a S,
    /// Offset of the compressed data in the archive.
    pub start: u64,
    /// Compressed length.
    pub len: u64,
    /// Uncompressed length.
    pub size: u64,
}

impl<S: ReadAt + ?Sized> Deflated<'_, S> {
    /// Finds two starts whose output begins well before `need_from` (see the module
    /// doc); `None` when there are none worth using (the tail would be more than half
    /// of the member) or the data is not what it should be.
    pub fn locate(&self, need_from: u64) -> Option<Tail> {
        // A true start's first bytes may copy from the window it lacks, and such bytes
        // are copied on: the later start lies well before what is needed.
        self.find_tail(need_from, GAP)
    }

    /// Two starts whose output begins at least `gap` bytes before `need_from`.
    fn find_tail(&self, need_from: u64, gap: u64) -> Option<Tail> {
        let need = need_from.checked_sub(gap)?;
        if self.len < 4 * APART {
            return None;
        }
        // Start where the member's average compression puts `need`, with room.
        let ratio = self.len as f64 / self.size as f64;
        let mut back = ((self.size - need) as f64 * ratio * 1.25) as u64 + SEARCH as u64;
        while back + APART <= self.len / 2 {
            let from = self.len - back;
            match self.first_from(from) {
                Some(late) if late.offset <= need => {
                    let early = self.first_from(late.bit / 8 - APART)?;
                    return (early.offset < late.offset).then_some(Tail { early, late });
                }
                // Found, but it starts too late: look further back.
                Some(_) | None => back = back.saturating_mul(3),
            }
        }
        None
    }

    /// The first candidate at or after compressed byte `from` that decodes to the end.
    fn first_from(&self, from: u64) -> Option<BlockStart> {
        let n = SEARCH.min(usize::try_from(self.len - from).ok()?);
        let mut window = vec![0u8; n];
        read_full(self.src, self.start + from, &mut window).ok()?;
        let mut tried = 0;
        for bit in 0..(n.saturating_sub(600)) * 8 {
            if !is_block_start(&window, bit) {
                continue;
            }
            tried += 1;
            if tried > TRIES {
                return None;
            }
            let bit = from * 8 + bit as u64;
            let t0 = std::time::Instant::now();
            let r = self.decodes_to_end(bit);
            eprintln!("DBG cand bit {bit} ({}) -> {:?} in {:?}", bit as f64 / 8.0 / self.len as f64, r, t0.elapsed());
            if let Some(t) = r {
                return Some(t);
            }
        }
        None
    }

    /// Decodes from `bit` to the end; where its output starts, if it ends exactly at the
    /// end of the compressed data.
    fn decodes_to_end(&self, bit: u64) -> Option<BlockStart> {
        let mut d = Decoder::new(self, bit, 0x00).ok()?;
        let mut total = 0u64;
        loop {
            let n = d.next().ok()?.len() as u64;
            if n == 0 {
                break;
            }
            total += n;
            if total > self.size {
                return None;
            }
        }
        d.ended_at_end().then(|| BlockStart {
            bit,
            offset: self.size - total,
        })
    }

    /// Decodes from `start` to the end, handing `sink` each piece; for measuring.
    pub fn decode_from(
        &self,
        start: BlockStart,
        mut sink: impl FnMut(&[u8]) -> bool,
    ) -> io::Result<()> {
        let mut d = Decoder::new(self, start.bit, 0x00)?;
        loop {
            let piece = d.next()?;
            if piece.is_empty() || !sink(piece) {
                return Ok(());
            }
        }
    }

    /// Decodes the tail from both starts at once (one with a window of zeros, one of
    /// `0xFF`) and hands `sink` the bytes from `need_from` on, piece by piece with their
    /// offsets, once both decodes agree on them; `sink` returns `false` to stop. An error
    /// when they disagree, or the data decodes differently than when `tail` was found:
    /// what `sink` was given is then to be thrown away.
    pub fn read_tail(
        &self,
        tail: Tail,
        need_from: u64,
        mut sink: impl FnMut(u64, &[u8]) -> bool,
    ) -> io::Result<()> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
        let mut a = Pending::new(Decoder::new(self, tail.early.bit, 0x00)?);
        let mut b = Pending::new(Decoder::new(self, tail.late.bit, 0xFF)?);
        // The early decode's output before the late one's start is not compared.
        let mut skip = tail.late.offset - tail.early.offset;
        while skip > 0 {
            let n = a.fill()?.min(usize::try_from(skip).unwrap_or(usize::MAX));
            if n == 0 {
                return Err(bad("the member's tail ended early"));
            }
            a.consume(n);
            skip -= n as u64;
        }
        let mut at = tail.late.offset;
        loop {
            let (na, nb) = (a.fill()?, b.fill()?);
            let n = na.min(nb);
            if n == 0 {
                if na != nb || at != self.size || !a.dec.ended_at_end() || !b.dec.ended_at_end() {
                    return Err(bad("the member's tail decoded differently the second time"));
                }
                return Ok(());
            }
            let end = at + n as u64;
            if end > need_from {
                let from = usize::try_from(need_from.saturating_sub(at)).unwrap_or(n);
                let (x, y) = (&a.peek(n)[from..], &b.peek(n)[from..]);
                if x != y {
                    return Err(bad("two decodes of the member's tail disagree"));
                }
                if !sink(at + from as u64, x) {
                    return Ok(());
                }
            }
            a.consume(n);
            b.consume(n);
            at = end;
        }
    }
}

/// A decoder's output not yet used.
struct Pending<'a, S: ReadAt + ?Sized> {
    dec: Decoder<'a, S>,
    buf: Vec<u8>,
    pos: usize,
}

impl<'a, S: ReadAt + ?Sized> Pending<'a, S> {
    fn new(dec: Decoder<'a, S>) -> Self {
        Self {
            dec,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// How many bytes are ready (decoding more when none are); 0 at the end.
    fn fill(&mut self) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            let next = self.dec.next()?;
            self.buf.clear();
            self.buf.extend_from_slice(next);
            self.pos = 0;
        }
        Ok(self.buf.len() - self.pos)
    }

    fn peek(&self, n: usize) -> &[u8] {
        &self.buf[self.pos..self.pos + n]
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
    }
}

fn read_full<S: ReadAt + ?Sized>(src: &S, at: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut r = RangeReader::new(src, at, buf.len() as u64);
    r.read_exact(buf)
}

/// The compressed data from a bit position on, shifted into byte alignment.
struct Shifted<'a, S: ReadAt + ?Sized> {
    inner: RangeReader<'a, S>,
    shift: u32,
    /// The byte read last, whose high bits start the next output byte.
    carry: Option<u8>,
    buf: Vec<u8>,
}

impl<'a, S: ReadAt + ?Sized> Shifted<'a, S> {
    fn new(d: &Deflated<'a, S>, bit: u64) -> Self {
        let byte = bit / 8;
        Self {
            inner: RangeReader::new(d.src, d.start + byte, d.len - byte),
            shift: (bit % 8) as u32,
            carry: None,
            buf: vec![0u8; 256 << 10],
        }
    }

    /// The next shifted bytes into `out`, which is left empty only at the end.
    fn fill(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        out.clear();
        while out.is_empty() {
            let n = self.inner.read(&mut self.buf)?;
            if self.shift == 0 {
                out.extend_from_slice(&self.buf[..n]);
                return Ok(());
            }
            let s = self.shift;
            for &byte in &self.buf[..n] {
                if let Some(c) = self.carry {
                    out.push((c >> s) | (byte << (8 - s)));
                }
                self.carry = Some(byte);
            }
            if n == 0 {
                // The last byte's remaining bits, zero-padded.
                if let Some(c) = self.carry.take() {
                    out.push(c >> s);
                }
                return Ok(());
            }
        }
        Ok(())
    }
}

/// flate2's raw inflater over [`Shifted`] input, primed with a filler window.
struct Decoder<'a, S: ReadAt + ?Sized> {
    input: Shifted<'a, S>,
    inbuf: Vec<u8>,
    inpos: usize,
    inflater: Decompress,
    out: Vec<u8>,
    /// Shifted bytes there are in all.
    shifted_len: u64,
    done: bool,
    input_done: bool,
}

impl<'a, S: ReadAt + ?Sized> Decoder<'a, S> {
    fn new(d: &Deflated<'a, S>, bit: u64, filler: u8) -> io::Result<Self> {
        let mut inflater = Decompress::new(false);
        inflater
            .set_dictionary(&[filler; WINDOW])
            .map_err(io::Error::other)?;
        Ok(Self {
            input: Shifted::new(d, bit),
            inbuf: Vec::with_capacity(256 << 10),
            inpos: 0,
            inflater,
            out: vec![0u8; 256 << 10],
            shifted_len: (d.len * 8 - bit).div_ceil(8),
            done: false,
            input_done: false,
        })
    }

    /// The next piece of output; empty at the end of the stream.
    fn next(&mut self) -> io::Result<&[u8]> {
        if self.done {
            return Ok(&[]);
        }
        loop {
            if self.inpos == self.inbuf.len() && !self.input_done {
                self.input.fill(&mut self.inbuf)?;
                self.inpos = 0;
                self.input_done = self.inbuf.is_empty();
            }
            let before_out = self.inflater.total_out();
            let before_in = self.inflater.total_in();
            let status = self
                .inflater
                .decompress(&self.inbuf[self.inpos..], &mut self.out, FlushDecompress::None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let used = (self.inflater.total_in() - before_in) as usize;
            self.inpos += used;
            let made = (self.inflater.total_out() - before_out) as usize;
            if used == 0 && made == 0 && status != Status::StreamEnd && self.inpos < self.inbuf.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the deflate stream makes no progress",
                ));
            }
            if status == Status::StreamEnd {
                self.done = true;
                return Ok(&self.out[..made]);
            }
            if made > 0 {
                return Ok(&self.out[..made]);
            }
            if self.input_done && self.inpos == self.inbuf.len() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the deflate stream does not end",
                ));
            }
        }
    }

    /// Whether the stream ended within the last byte of the member's compressed data.
    fn ended_at_end(&self) -> bool {
        self.done && self.inflater.total_in() + 1 >= self.shifted_len
    }
}

/// Reads bits LSB-first, as deflate packs them.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn take(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for i in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            v |= u32::from((byte >> (self.pos % 8)) & 1) << i;
            self.pos += 1;
        }
        Some(v)
    }
}

/// A canonical Huffman code as deflate builds one from code lengths.
struct Code {
    counts: [u16; 16],
    symbols: Vec<u16>,
}

impl Code {
    /// The code for `lens`, with how many codes are left unused (0: complete); `None`
    /// when it is over-subscribed.
    fn new(lens: &[u8]) -> Option<(Self, i32)> {
        let mut counts = [0u16; 16];
        for &l in lens {
            counts[usize::from(l)] += 1;
        }
        let mut left = 1i32;
        for &c in &counts[1..] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return None;
            }
        }
        let mut offs = [0u16; 16];
        for l in 1..15 {
            offs[l + 1] = offs[l] + counts[l];
        }
        let mut symbols = vec![0u16; lens.len()];
        for (sym, &l) in lens.iter().enumerate() {
            if l != 0 {
                symbols[usize::from(offs[usize::from(l)])] = sym as u16;
                offs[usize::from(l)] += 1;
            }
        }
        counts[0] = 0;
        Some((Self { counts, symbols }, left))
    }

    fn decode(&self, r: &mut Bits<'_>) -> Option<u16> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= r.take(1)? as i32;
            let count = i32::from(self.counts[len]);
            if code - first < count {
                return self.symbols.get((index + code - first) as usize).copied();
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        None
    }
}

/// The order code-length code lengths are stored in.
const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// Whether a stored or dynamic block plausibly starts at bit `bit` of `data`.
fn is_block_start(data: &[u8], bit: usize) -> bool {
    let mut r = Bits { data, pos: bit };
    let Some(head) = r.take(3) else {
        return false;
    };
    match head >> 1 {
        0 => {
            // Stored: LEN and NLEN after the byte boundary; zlib emits no empty ones
            // but at a flush, which a member does not contain mid-stream... except a
            // sync flush; an empty block is still a block boundary.
            let at = r.pos.div_ceil(8);
            match data.get(at..at + 4) {
                Some(b) => {
                    let len = u16::from_le_bytes([b[0], b[1]]);
                    let nlen = u16::from_le_bytes([b[2], b[3]]);
                    len == !nlen
                }
                None => false,
            }
        }
        2 => dynamic_header_ok(&mut r).is_some(),
        _ => false,
    }
}

/// Checks a dynamic block's code descriptions as zlib does.
fn dynamic_header_ok(r: &mut Bits<'_>) -> Option<()> {
    let hlit = r.take(5)? as usize + 257;
    let hdist = r.take(5)? as usize + 1;
    let hclen = r.take(4)? as usize + 4;
    if hlit > 286 || hdist > 30 {
        return None;
    }
    let mut cl = [0u8; 19];
    for &i in &ORDER[..hclen] {
        cl[i] = r.take(3)? as u8;
    }
    let (cl_code, left) = Code::new(&cl)?;
    if left != 0 {
        return None;
    }
    let mut lens = [0u8; 316];
    let total = hlit + hdist;
    let mut i = 0;
    while i < total {
        let sym = cl_code.decode(r)?;
        let (value, n) = match sym {
            0..=15 => (sym as u8, 1),
            16 => (*lens.get(i.checked_sub(1)?)?, 3 + r.take(2)? as usize),
            17 => (0, 3 + r.take(3)? as usize),
            18 => (0, 11 + r.take(7)? as usize),
            _ => return None,
        };
        if i + n > total {
            return None;
        }
        lens[i..i + n].fill(value);
        i += n;
    }
    let (lit, dist) = lens[..total].split_at(hlit);
    if lit[256] == 0 {
        return None;
    }
    let complete_or_single = |l: &[u8]| -> Option<()> {
        let (_, left) = Code::new(l)?;
        let used = l.iter().filter(|&&x| x != 0).count();
        (left == 0 || used <= 1).then_some(())
    };
    complete_or_single(lit)?;
    complete_or_single(dist)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Data shaped like a library: a compressible head, a long incompressible middle,
    /// and a compressible tail (the part an audit wants).
    fn library(len: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        (0..len)
            .map(|i| {
                if i < len / 8 || i > len - len / 8 {
                    let word = next() % 64;
                    b"ELF dynamic table symbol version GLIBC_2.17 needed"[word as usize % 48]
                } else {
                    (next() & 0xff) as u8
                }
            })
            .collect()
    }

    fn deflate(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn tail_of(data: &[u8], z: &[u8], need_from: u64) -> Option<(Tail, Vec<u8>)> {
        let d = Deflated {
            src: z,
            start: 0,
            len: z.len() as u64,
            size: data.len() as u64,
        };
        let t = d.locate(need_from)?;
        let mut got = Vec::new();
        let mut first = None;
        d.read_tail(t, need_from, |at, piece| {
            first.get_or_insert(at);
            got.extend_from_slice(piece);
            true
        })
        .unwrap();
        assert_eq!(first, Some(need_from));
        Some((t, got))
    }

    #[test]
    fn decodes_the_end_without_the_start() {
        for level in [6, 9] {
            let data = library(24 << 20);
            let z = deflate(&data, level);
            let need = data.len() as u64 - (1 << 20);
            let (t, got) = tail_of(&data, &z, need).expect("a block boundary near the end");
            assert!(t.late.offset <= need, "level {level}: {t:?}");
            assert!(t.early.offset > data.len() as u64 / 2, "the tail is short: {t:?}");
            assert!(got == data[need as usize..], "level {level}: {t:?}");
        }
    }

    /// zlib's level 1 writes fixed-Huffman blocks only, whose headers are no signature:
    /// a false start may fall into step with the stream, and the two decodes must then
    /// either agree on the right bytes or give up.
    #[test]
    fn fixed_blocks_give_right_bytes_or_nothing() {
        let data = library(24 << 20);
        let z = deflate(&data, 1);
        let need = data.len() as u64 - (1 << 20);
        let d = Deflated {
            src: &z[..],
            start: 0,
            len: z.len() as u64,
            size: data.len() as u64,
        };
        if let Some(t) = d.locate(need) {
            let mut got = Vec::new();
            let read = d.read_tail(t, need, |_, p| {
                got.extend_from_slice(p);
                true
            });
            if read.is_ok() {
                assert!(got == data[need as usize..], "{t:?}");
            }
        }
    }

    #[test]
    fn stored_blocks_are_found_too() {
        let data = library(16 << 20);
        let z = deflate(&data, 0);
        let need = data.len() as u64 - (2 << 20);
        let (t, got) = tail_of(&data, &z, need).unwrap();
        assert!(got == data[need as usize..], "{t:?}");
    }

    #[test]
    fn nothing_for_small_or_near_start_needs() {
        let data = library(4 << 20);
        let z = deflate(&data, 6);
        assert!(tail_of(&data, &z, 1000).is_none(), "more than half: read from the start");
        let tiny = deflate(b"hello", 6);
        assert!(tail_of(b"hello", &tiny, 1).is_none());
    }

    #[test]
    fn a_damaged_end_is_not_used() {
        let data = library(16 << 20);
        let mut z = deflate(&data, 6);
        let n = z.len();
        z.truncate(n - 100);
        let d = Deflated {
            src: &z[..],
            start: 0,
            len: z.len() as u64,
            size: data.len() as u64,
        };
        assert!(d.locate(data.len() as u64 - (1 << 20)).is_none());
    }

    #[test]
    fn headers_of_real_blocks_pass() {
        let data = library(1 << 20);
        let z = deflate(&data, 6);
        // The stream's first block starts at bit 0.
        assert!(is_block_start(&z, 0));
    }
}
