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
//!    [`plausible_headers`].
//! 2. **A chain.** A candidate can be false. Blocks are walked from it ([`Walker`],
//!    which needs no window): a false start soon hits a code zlib rejects, or ends a
//!    block where no valid header follows; one that falls into step with the stream
//!    does so exactly at a true block boundary, and a false block followed by valid
//!    headers again and again is vanishingly rare. So the first candidate whose walk
//!    passes several blocks is taken, from its fourth boundary on.
//! 3. **Where it is.** Blocks are walked from that boundary to the stream's end, which
//!    must be where the member's compressed data ends; their output lengths (which do
//!    not depend on the window's content) say where each boundary's output starts,
//!    counting back from the member's size. That is the [`TailIndex`]. A walk from an
//!    earlier guess stops where an earlier walk began.
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
use super::blocks::{plausible_headers, Walker};
use crate::parallel::Parallel;
use crate::source::{RangeReader, ReadAt};

/// Deflate's window.
const WINDOW: usize = 32 << 10;
/// Compressed bytes read at a time.
const INBUF: usize = 256 << 10;
/// Compressed bytes read around a guessed position to find a boundary in.
const SEARCH: usize = 2 << 20;
/// What is read and searched first: a boundary is usually found a block or two after
/// the guess, and a search reads its data and tests half its bits.
const SEARCH_FIRST: usize = 512 << 10;
/// Compressed bytes a tail is cut into for walking on several threads.
const PIECE: u64 = 4 << 20;
/// Candidates walked before giving up on a position.
const TRIES: usize = 4096;
/// Blocks walked from each candidate: one past the boundary taken.
const WALK: usize = TRUSTED + 1;
/// The boundary of a candidate's walk taken as true (see the module doc, step 2): its
/// start and two more may be false ones that fell into step; a fourth means three
/// false blocks each followed by a valid header.
const TRUSTED: usize = 4;
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

/// A stretch of blocks walked: the boundaries passed, with output relative to the
/// first, and the output in all.
#[derive(Debug, Default)]
struct Piece {
    seen: Vec<(u64, u64)>,
    out: u64,
}

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
    /// Extends `index` back to a boundary at least [`GAP`] before `need` (step 3 of the
    /// module doc, by walking); returns the output bytes walked. Leaves `index` as it
    /// was when there is no boundary worth using (the tail would be more than half of
    /// the member) or the data is not what it should be.
    pub fn extend_index(&self, index: &mut TailIndex, need: u64, par: &dyn Parallel) -> Counted {
        let mut counted = 0;
        let Some(target) = need
            .checked_sub(GAP)
            .filter(|_| self.len >= 2 * SEARCH as u64)
        else {
            return counted;
        };
        // Compressed over uncompressed bytes, as a fraction: the member's average, then
        // what the tail walked so far measured.
        let mut ratio = match index.first() {
            Some(f) => (self.len - f.bit / 8, (self.size - f.offset).max(1)),
            None => (self.len, self.size.max(1)),
        };
        let mut back = index.first().map_or(0, |f| self.len - f.bit / 8);
        for _ in 0..6 {
            if index.first().is_some_and(|f| f.offset <= target) {
                return counted;
            }
            // Every guess leans late: a start found too late costs one more search and
            // nothing walked twice (the next walk stops where this one began), one found
            // too early a walk over what was not needed. A library's end (symbol and
            // string tables) often compresses several times better than its average, so
            // the first guess is a short walk that measures it; the next ones use the
            // ratio walked so far, which still varies along a tail (percent).
            let lean = if index.first().is_none() { 20 } else { 75 };
            let scaled = u128::from(self.size - target) * u128::from(ratio.0) * lean
                / (u128::from(ratio.1) * 100);
            // A boundary is found within a block or two (≲ 100 KB) after the guess.
            let guess = u64::try_from(scaled).unwrap_or(u64::MAX) + SEARCH as u64 / 8;
            back = guess.max(back + back / 4);
            if back > self.len / 2 {
                return counted;
            }
            if !self.walk_to_index(self.len - back, index, &mut counted, par) {
                return counted;
            }
            if let Some(f) = index.first() {
                ratio = (self.len - f.bit / 8, (self.size - f.offset).max(1));
            }
        }
        counted
    }

    /// Finds a boundary at or after compressed byte `from` and walks from it until the
    /// member's end or a boundary `index` knows, adding what it passed. A long stretch is
    /// cut at boundaries found every [`PIECE`] bytes and its pieces are walked through
    /// `par` at once (each must end exactly where the next begins). A boundary whose
    /// walk does not end where the member does (a deflate stream stored inside the
    /// member's data walks like one) is passed over, a few times.
    fn walk_to_index(
        &self,
        mut from: u64,
        index: &mut TailIndex,
        counted: &mut Counted,
        par: &dyn Parallel,
    ) -> bool {
        for _ in 0..3 {
            let Some(bit) = self.boundary_after(from) else {
                return false;
            };
            let stop = index.first();
            let stop_byte = stop.map_or(self.len, |s| s.bit / 8);
            let mut cuts = vec![bit];
            let mut at = bit / 8 + PIECE;
            while at + PIECE / 2 < stop_byte {
                match self.boundary_after(at) {
                    Some(c) if c / 8 < stop_byte && c > cuts[cuts.len() - 1] => cuts.push(c),
                    _ => {}
                }
                at += PIECE;
            }
            let ends: Vec<Option<u64>> = cuts[1..]
                .iter()
                .map(|&c| Some(c))
                .chain(std::iter::once(stop.map(|s| s.bit)))
                .collect();
            let jobs: Vec<Box<dyn FnOnce() -> Option<Piece> + Send + '_>> = cuts
                .iter()
                .zip(ends)
                .map(|(&from, to)| {
                    Box::new(move || self.walk_piece(from, to))
                        as Box<dyn FnOnce() -> Option<Piece> + Send + '_>
                })
                .collect();
            let pieces = crate::parallel::map(par, jobs);
            *counted += pieces.iter().flatten().map(|p| p.out).sum::<u64>();
            // Offsets are known from the end backwards.
            let mut end = stop.map_or(self.size, |s| s.offset);
            let mut found: Vec<Start> = Vec::new();
            let mut whole = true;
            for piece in pieces.into_iter().rev() {
                let Some(first) = piece.as_ref().and_then(|p| end.checked_sub(p.out)) else {
                    whole = false;
                    break;
                };
                let piece = piece.unwrap_or_default();
                let mut starts: Vec<Start> = piece
                    .seen
                    .into_iter()
                    .map(|(bit, o)| Start {
                        bit,
                        offset: first + o,
                    })
                    .collect();
                starts.append(&mut found);
                found = starts;
                end = first;
            }
            if whole {
                found.append(&mut index.starts);
                index.starts = found;
                return true;
            }
            from = bit / 8 + 1;
        }
        false
    }

    /// Walks from boundary `bit` to boundary `to` (or to the stream's end, which must be
    /// the member's): the boundaries passed (`to` not included) with their output
    /// relative to `bit`; `None` when the walk does not end so.
    fn walk_piece(&self, bit: u64, to: Option<u64>) -> Option<Piece> {
        let byte = bit / 8;
        let r = RangeReader::new(self.src, self.start + byte, self.len - byte);
        let mut w = Walker::from_block_buffered(r, INBUF);
        w.skip_bits((bit % 8) as u32).ok()?;
        let stop = to.unwrap_or(u64::MAX);
        let mut seen: Vec<(u64, u64)> = vec![(bit, 0)];
        let mut out = 0u64;
        loop {
            let b = w.next_block().ok()??;
            out += b.out;
            let at = byte * 8 + b.end;
            if at == stop {
                return Some(Piece { seen, out });
            }
            if at > stop || out > self.size {
                return None;
            }
            if b.last {
                // The stream must end in the member's last byte, and not before `to`.
                return (to.is_none() && at.div_ceil(8) == self.len).then_some(Piece { seen, out });
            }
            seen.push((at, out));
        }
    }

    /// A block boundary at or after compressed byte `from` (step 2 of the module doc):
    /// the fourth boundary of the first candidate whose walk passes [`TRUSTED`] blocks.
    fn boundary_after(&self, from: u64) -> Option<u64> {
        self.boundary_within(from, SEARCH_FIRST).or_else(|| {
            // A second search only when there is more to search.
            (self.len - from > SEARCH_FIRST as u64)
                .then(|| self.boundary_within(from, SEARCH))
                .flatten()
        })
    }

    /// [`Deflated::boundary_after`] among the candidates in the first half of `len`
    /// bytes from `from` (the rest is room for their walks).
    fn boundary_within(&self, from: u64, len: usize) -> Option<u64> {
        let n = usize::try_from((self.len - from).min(len as u64)).ok()?;
        let mut data = vec![0u8; n];
        read_full(self.src, self.start + from, &mut data).ok()?;
        let bits = (n as u64).saturating_sub(4096) * 8 / 2;
        let found = plausible_headers(&data, 0..bits)
            .take(TRIES)
            .filter_map(|c| walk(&data, c))
            .find(|w| w.len() > TRUSTED);
        found.map(|w| from * 8 + w[TRUSTED - 1])
    }

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

/// The block boundaries a walk from bit `c` of `data` passes (its start included, the
/// stream's end not), in order; `None` when it hits something zlib rejects within
/// [`WALK`] blocks.
fn walk(data: &[u8], c: u64) -> Option<Vec<u64>> {
    let byte = usize::try_from(c / 8).ok()?;
    let mut w = Walker::from_block(data.get(byte..)?);
    w.skip_bits((c % 8) as u32).ok()?;
    let mut seen = vec![c - byte as u64 * 8];
    for _ in 0..WALK {
        match w.next_block() {
            // The stream's end is no block's start.
            Ok(Some(b)) if b.last => break,
            Ok(Some(b)) => seen.push(b.end),
            // The end, or the end of the search window: what was walked stands.
            Ok(None) | Err(super::blocks::WalkError::Truncated) => break,
            Err(_) => return None,
        }
    }
    Some(seen.into_iter().map(|b| b + byte as u64 * 8).collect())
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

#[cfg(test)]
mod tests;
