//! Steps 1 to 3 of the [module doc](super): finding a block boundary near a compressed
//! position, and walking from it to index a member's tail.

use super::{read_full, Counted, Deflated, Start, TailIndex, GAP, INBUF};
use crate::parallel::Parallel;
use crate::source::{RangeReader, ReadAt};
use crate::wheel::blocks::{plausible_headers, walk_two, Block, WalkError, Walker};

/// Compressed bytes read around a guessed position to find a boundary in.
const SEARCH: usize = 2 << 20;
/// What is read and searched first: a boundary is usually found a block or two after
/// the guess, and a search reads its data and tests half its bits.
const SEARCH_FIRST: usize = 512 << 10;
/// Compressed bytes a tail is cut into: pieces are walked two at a time on a thread
/// ([`walk_two`]), and pairs on several threads. Each cut costs a search (about 1 ms of
/// CPU); a piece of 2 MB takes some 10 ms to walk.
pub(super) const PIECE: u64 = 2 << 20;
/// Candidates walked before giving up on a position.
const TRIES: usize = 4096;
/// Blocks walked from each candidate: one past the boundary taken.
const WALK: usize = TRUSTED + 1;
/// The boundary of a candidate's walk taken as true (see the [module doc](super), step
/// 2): its start and two more may be false ones that fell into step; a fourth means
/// three false blocks each followed by a valid header.
const TRUSTED: usize = 4;

/// A stretch of blocks walked: the boundaries passed, with output relative to the
/// first, and the output in all.
#[derive(Debug, Default)]
pub(super) struct Piece {
    seen: Vec<(u64, u64)>,
    pub(super) out: u64,
}

/// A walk of a piece of a tail, block by block.
struct PieceWalk {
    /// The bit the walker's first byte starts at.
    origin: u64,
    /// The boundary the piece ends at, or `None` for the stream's end.
    to: Option<u64>,
    /// The member's compressed and inflated sizes.
    len: u64,
    size: u64,
    seen: Vec<(u64, u64)>,
    out: u64,
    /// The piece, once the walk reached its end as it must.
    done: Option<Piece>,
}

impl PieceWalk {
    /// Takes the next block; whether the walk goes on.
    fn visit(&mut self, b: Block) -> bool {
        self.out += b.out;
        let at = self.origin + b.end;
        let stop = self.to.unwrap_or(u64::MAX);
        let whole = if at == stop {
            true
        } else if at > stop || self.out > self.size {
            false
        } else if b.last {
            // The stream must end in the member's last byte, and not before `to`.
            self.to.is_none() && at.div_ceil(8) == self.len
        } else {
            self.seen.push((at, self.out));
            return true;
        };
        if whole {
            self.done = Some(Piece {
                seen: std::mem::take(&mut self.seen),
                out: self.out,
            });
        }
        false
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
    /// cut at boundaries found every [`PIECE`] bytes and its pieces are walked in pairs
    /// through `par` (each must end exactly where the next begins). A boundary whose
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
            // Pieces are walked two at a time on a thread.
            let ranges: Vec<(u64, Option<u64>)> = cuts.iter().copied().zip(ends).collect();
            let jobs: Vec<Box<dyn FnOnce() -> Vec<Option<Piece>> + Send + '_>> = ranges
                .chunks(2)
                .map(|pair| {
                    let pair = pair.to_vec();
                    Box::new(move || match pair[..] {
                        [a, b] => self.walk_two_pieces(a, b).into(),
                        _ => pair
                            .iter()
                            .map(|&(from, to)| self.walk_piece(from, to))
                            .collect(),
                    }) as Box<dyn FnOnce() -> Vec<Option<Piece>> + Send + '_>
                })
                .collect();
            let pieces: Vec<Option<Piece>> = crate::parallel::map(par, jobs)
                .into_iter()
                .flatten()
                .collect();
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
    pub(super) fn walk_piece(&self, bit: u64, to: Option<u64>) -> Option<Piece> {
        let (mut w, mut piece) = self.piece_walk(bit, to)?;
        while let Some(b) = w.next_block().ok()? {
            if !piece.visit(b) {
                break;
            }
        }
        piece.done
    }

    /// [`Deflated::walk_piece`] on two pieces at once ([`walk_two`]: a core walks two
    /// streams in less time than one after the other).
    fn walk_two_pieces(&self, a: (u64, Option<u64>), b: (u64, Option<u64>)) -> [Option<Piece>; 2] {
        let (Some((mut wa, pa)), Some((mut wb, pb))) =
            (self.piece_walk(a.0, a.1), self.piece_walk(b.0, b.1))
        else {
            return [self.walk_piece(a.0, a.1), self.walk_piece(b.0, b.1)];
        };
        let mut pieces = [pa, pb];
        // A walk that fails leaves its piece undecided (`None`), as `walk_piece` does.
        let _ = walk_two([&mut wa, &mut wb], |i, block| pieces[i].visit(block));
        pieces.map(|p| p.done)
    }

    /// A walker from boundary `bit`, and the walk's state.
    fn piece_walk(
        &self,
        bit: u64,
        to: Option<u64>,
    ) -> Option<(Walker<RangeReader<'_, S>>, PieceWalk)> {
        let byte = bit / 8;
        let r = RangeReader::new(self.src, self.start + byte, self.len - byte);
        let mut w = Walker::from_block_buffered(r, INBUF);
        w.skip_bits((bit % 8) as u32).ok()?;
        let walk = PieceWalk {
            origin: byte * 8,
            to,
            len: self.len,
            size: self.size,
            seen: vec![(bit, 0)],
            out: 0,
            done: None,
        };
        Some((w, walk))
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
            Ok(None) | Err(WalkError::Truncated) => break,
            Err(_) => return None,
        }
    }
    Some(seen.into_iter().map(|b| b + byte as u64 * 8).collect())
}
