//! Reading part of a deflated member without inflating everything before it.
//!
//! An audit needs a library's first pages (headers, symbol and version tables) and its
//! dynamic table and strings, which patchelf moves to the end: in torch's
//! libtorch_cuda.so, 985 MB into a 1 GB file. A deflate stream has no index, but it is a
//! sequence of blocks, and a block decodes from its first bit given the 32 KiB of output
//! before it (the window its back-references may reach). So this module finds a block
//! boundary before the bytes wanted and decodes from there:
//!
//! 1. **Candidates.** Near a guessed compressed position, every bit is tested as the
//!    start of a stored block (`LEN` and its complement) or of a dynamic-Huffman block
//!    (its three codes must be as zlib accepts them):
//!    [`plausible_headers`](super::blocks::plausible_headers).
//! 2. **A chain.** A candidate can be false. Blocks are walked from it
//!    ([`Walker`](super::blocks::Walker), which needs no window): a false start soon
//!    hits a code zlib rejects, or ends a block where no valid header follows; one
//!    that falls into step with the stream does so exactly at a true block boundary,
//!    and a false block followed by valid headers again and again is vanishingly rare.
//!    So the first candidate whose walk passes several blocks is taken, from its
//!    fourth boundary on.
//! 3. **Where it is.** Blocks are walked from that boundary to the stream's end, which
//!    must be where the member's compressed data ends; their output lengths (which do
//!    not depend on the window's content) say where each boundary's output starts,
//!    counting back from the member's size. That is the [`TailIndex`]. A walk from an
//!    earlier guess stops where an earlier walk began. A long walk is cut at boundaries
//!    found along it, and its pieces are walked two at a time on each thread.
//! 4. **Which bytes are known.** From the latest boundary a little before the bytes
//!    wanted, the stream is decoded twice at once, with a window of `0x00` bytes and
//!    one of `0xFF` bytes. A byte copied, however indirectly, from the unknown window
//!    differs between the two; a wanted byte that differs ends the read (the caller
//!    starts further back), and once 32 KiB in a row agree, the window is fully known
//!    and one decode goes on alone.
//!
//! zlib cannot start at a bit position; `start_bytes` makes it start there. The
//! decoding itself is flate2's (zlib-rs). The member's CRC cannot be checked on a part,
//! which is why only the audit (which reads parts anyway) uses this. Nothing here is
//! needed for correctness: a caller that gets `None` or an error reads the member from
//! its start.

use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};

use super::bitwriter::start_bytes;
use crate::source::{RangeReader, ReadAt};

/// Deflate's window.
const WINDOW: usize = 32 << 10;
/// Compressed bytes read at a time.
pub(super) const INBUF: usize = 256 << 10;
/// Output a start must leave before the first byte wanted, for the window to become
/// known (step 4 of the module doc).
pub const GAP: u64 = 1 << 20;

/// A block boundary and where its output begins in the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    /// The block's first bit, counted from the start of the member's compressed data.
    pub bit: u64,
    /// Where in the uncompressed member the block's output begins.
    pub offset: u64,
}

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

/// Output bytes walked while indexing, for reports.
pub type Counted = u64;

/// A part of a member decoded from a located start: from the start's output to `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Where decoding began.
    pub start: Start,
    /// The offset just after the last byte used.
    pub until: u64,
}

impl<'a, S: ReadAt + ?Sized> Deflated<'a, S> {
    /// The compressed data of a deflated member; `None` for a stored one.
    pub fn of(archive: &'a super::Archive<S>, m: &super::Member) -> Option<Self>
    where
        S: Sized,
    {
        (m.compression == super::Compression::Deflated).then(|| Self {
            src: archive.source(),
            start: m.data_offset,
            len: m.compressed_size,
            size: m.size,
        })
    }
}

/// Block boundaries of a member's tail with where their output starts: every boundary
/// from the earliest start found to the member's end, as walks found them.
#[derive(Debug, Clone, Default)]
pub struct TailIndex {
    /// Sorted by bit (and so by offset).
    starts: Vec<Start>,
}

impl TailIndex {
    /// The latest boundary whose output starts at or before `offset`.
    pub fn before(&self, offset: u64) -> Option<Start> {
        let i = self.starts.partition_point(|s| s.offset <= offset);
        i.checked_sub(1).map(|i| self.starts[i])
    }

    /// The earliest boundary known.
    pub fn first(&self) -> Option<Start> {
        self.starts.first().copied()
    }
}

impl<S: ReadAt + ?Sized> Deflated<'_, S> {
    /// Decodes from `start` to the end and hands `sink` the bytes from `from` on, piece
    /// by piece with their offsets, once they are known (step 4 of the module doc);
    /// `sink` returns `false` to stop. Returns the bytes inflated. An error when the
    /// bytes from `from` on are not all known, or the data decodes differently than
    /// when `start` was located: what `sink` was given is then to be thrown away.
    pub fn read(
        &self,
        start: Start,
        from: u64,
        mut sink: impl FnMut(u64, &[u8]) -> bool,
    ) -> io::Result<u64> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
        let mut a = Decoder::new(self, start.bit, 0x00)?;
        let mut b = Some(Pending::new(Decoder::new(self, start.bit, 0xFF)?));
        let mut inflated = 0u64;
        let mut at = start.offset;
        // Bytes in a row that both decodes agree on: once a window's worth, every byte
        // after is known too.
        let mut run = 0usize;
        loop {
            let piece = a.next()?;
            if piece.is_empty() {
                if at != self.size || !a.ended_at_end() {
                    return Err(bad("the member's tail decoded differently the second time"));
                }
                return Ok(inflated);
            }
            let n = piece.len();
            inflated += n as u64;
            let end = at + n as u64;
            let skip = from.saturating_sub(at).min(n as u64) as usize;
            if let Some(other) = b.as_mut() {
                let theirs = other.take(n)?;
                inflated += n as u64;
                if theirs.len() != n {
                    return Err(bad("two decodes of the member's tail disagree in length"));
                }
                // A byte both decodes agree on is known; one wanted that is not ends it.
                if piece[skip..] != theirs[skip..] {
                    return Err(bad("the member's tail depends on data before it"));
                }
                run = match piece.iter().zip(theirs).rposition(|(x, y)| x != y) {
                    Some(i) => n - 1 - i,
                    None => run + n,
                };
                if run >= WINDOW {
                    b = None;
                }
            }
            if end > from && !sink(at + skip as u64, &piece[skip..]) {
                return Ok(inflated);
            }
            at = end;
        }
    }

    /// Decodes from `start` to offset `until`, discarding the output (what reading
    /// those bytes costs, for the benchmark's floor).
    pub fn inflate_span(&self, start: Start, until: u64) -> io::Result<u64> {
        let mut d = Decoder::new(self, start.bit, 0x00)?;
        let mut at = start.offset;
        while at < until {
            let n = d.next()?.len() as u64;
            if n == 0 {
                break;
            }
            at += n;
        }
        Ok(at - start.offset)
    }
}

/// A second decoder's output, taken in the first one's piece sizes.
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

    /// The next `n` bytes (fewer only at the end).
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.buf.len() - self.pos < n {
            self.buf.drain(..self.pos);
            self.pos = 0;
            while self.buf.len() < n {
                let next = self.dec.next()?;
                if next.is_empty() {
                    break;
                }
                self.buf.extend_from_slice(next);
            }
        }
        let k = n.min(self.buf.len() - self.pos);
        let out = &self.buf[self.pos..self.pos + k];
        self.pos += k;
        Ok(out)
    }
}

fn read_full<S: ReadAt + ?Sized>(src: &S, at: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut r = RangeReader::new(src, at, buf.len() as u64);
    r.read_exact(buf)
}

/// flate2's raw inflater from a bit position ([`start_bytes`]), primed with a stand-in
/// window.
struct Decoder<'a, S: ReadAt + ?Sized> {
    input: RangeReader<'a, S>,
    inbuf: Vec<u8>,
    inpos: usize,
    /// Bytes of `inbuf` that hold input.
    inlen: usize,
    inflater: Decompress,
    out: Vec<u8>,
    /// Bytes zlib is given in all.
    fed_len: u64,
    done: bool,
    input_done: bool,
}

impl<'a, S: ReadAt + ?Sized> Decoder<'a, S> {
    fn new(d: &Deflated<'a, S>, bit: u64, filler: u8) -> io::Result<Self> {
        let mut inflater = Decompress::new(false);
        inflater
            .set_dictionary(&vec![filler; WINDOW])
            .map_err(io::Error::other)?;
        let byte = bit / 8;
        let mut first = [0u8];
        read_full(d.src, d.start + byte, &mut first)?;
        let inbuf = start_bytes(first[0], (bit % 8) as u32);
        let fed_len = inbuf.len() as u64 + (d.len - byte - 1);
        Ok(Self {
            input: RangeReader::new(d.src, d.start + byte + 1, d.len - byte - 1),
            inlen: inbuf.len(),
            inbuf,
            inpos: 0,
            inflater,
            out: vec![0u8; 256 << 10],
            fed_len,
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
            if self.inpos == self.inlen && !self.input_done {
                if self.inbuf.len() < INBUF {
                    self.inbuf.resize(INBUF, 0);
                }
                self.inlen = self.input.read(&mut self.inbuf)?;
                self.inpos = 0;
                self.input_done = self.inlen == 0;
            }
            let before_out = self.inflater.total_out();
            let before_in = self.inflater.total_in();
            let status = self
                .inflater
                .decompress(
                    &self.inbuf[self.inpos..self.inlen],
                    &mut self.out,
                    FlushDecompress::None,
                )
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let used = (self.inflater.total_in() - before_in) as usize;
            self.inpos += used;
            let made = (self.inflater.total_out() - before_out) as usize;
            if status == Status::StreamEnd {
                self.done = true;
                return Ok(&self.out[..made]);
            }
            if made > 0 {
                return Ok(&self.out[..made]);
            }
            if used == 0 && self.input_done {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the deflate stream does not end",
                ));
            }
        }
    }

    /// Whether the stream ended within the last byte of the member's compressed data.
    fn ended_at_end(&self) -> bool {
        self.done && self.inflater.total_in() == self.fed_len
    }
}

mod locate;
#[cfg(test)]
mod tests;
