//! The streaming scanner: reads an ELF file fed in chunks, in file order, as a zip member
//! is inflated, holding a bounded part of it and saying as soon as it has seen enough.
//!
//! ```
//! # use truewheel_core::elf::{ElfScanner, Outcome, Scan};
//! # fn chunks() -> Vec<Vec<u8>> { vec![] }
//! # let total_len = 0;
//! let mut s = ElfScanner::new(total_len);
//! for chunk in chunks() {
//!     if s.feed(&chunk)? == Scan::Done {
//!         break; // stop inflating
//!     }
//! }
//! match s.finish() {
//!     Ok(Outcome::Info(info)) => { /* … */ }
//!     Ok(Outcome::Rescan(ranges)) => { /* stream again from the start, feed again */ }
//!     Err(e) if e.is_incomplete() => { /* the input ended early */ }
//!     Err(e) => { /* malformed */ }
//! }
//! # Ok::<(), truewheel_core::elf::ElfError>(())
//! ```
//!
//! # What is kept, and when it stops
//! The reader (the private `resolve` module) runs on the bytes held so far and reports the ranges it
//! misses. A missing range that lies ahead is kept when it passes, and the reader runs
//! again once its last byte has come; one that lies behind was dropped, and is read in a
//! later pass. Before the dynamic table says what is needed, the scanner keeps the first
//! [`Options::window`] bytes: a linker puts the symbol, string and version tables near
//! the start, but the dynamic table itself after the code, so they must be kept until it
//! comes. patchelf moves `.dynamic` and `.dynstr` (sometimes `.gnu.version_r`) to the
//! end of the file, which the scanner meets in order. It also keeps a trail of the last
//! [`Options::trail`] bytes fed: BOLT (libLLVM, librustc_driver) moves the program header
//! table after `.dynamic`, and patchelf may put `.dynsym` just before it, so what turns
//! out to be needed late is usually still in the trail. Only a file whose tables lie
//! beyond the window and well before the point where they become known needs a second
//! pass, which [`ElfScanner::finish`] asks for with the exact ranges.
//!
//! A large string table that has not passed by the time the tables that name its strings
//! are held (the usual case beyond the window: lld puts `.dynstr` after the symbol and
//! version tables, patchelf moves it to the end) streams through a collector that keeps
//! only those names (see the private `strings` module).
//!
//! Memory held is bounded by the window, the trail (at most twice its size) and the
//! tables (each at most [`Options::max_table`]), never by the file size. Chunks are split at the points where
//! the reader runs again, so the outcome does not depend on how the input is chunked.

use std::io::{self, Read};
use std::ops::Range;

mod held;

use held::{add_range, Held, Store, Trail};

use super::error::ElfError;
use super::read::{Gap, View};
use super::resolve::{resolve, Resolution};
use super::strings::{KeptStrings, StringWants};
use super::{ElfInfo, Options};
use crate::source::ReadAt;

/// The most passes over the input a file may need.
pub const MAX_PASSES: u32 = 4;

/// What the scanner wants after a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// Feed the next chunk.
    NeedMore,
    /// Stop feeding: call [`ElfScanner::finish`].
    Done,
}

/// The result of a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The file is read.
    Info(Box<ElfInfo>),
    /// The scanner needs these byte ranges, which it dropped in the pass just ended. Feed
    /// the file again from its start (or [`ElfScanner::feed_at`] just these ranges, which
    /// may lead to one more pass when they point at further data that was dropped).
    Rescan(Vec<Range<u64>>),
}

#[derive(Debug)]
enum State {
    Running,
    Complete(Box<ElfInfo>),
    Failed(ElfError),
    Finished,
}

/// Reads an ELF file fed in chunks (see the module doc).
#[derive(Debug)]
pub struct ElfScanner {
    opts: Options,
    pass: u32,
    /// How far the input of this pass has been fed.
    pos: u64,
    store: Store,
    trail: Trail,
    /// Ranges to keep when they pass (sorted, merged).
    wanted: Vec<Range<u64>>,
    /// Ranges needed that were dropped in this pass.
    lost: Vec<Range<u64>>,
    /// Run the reader again when `pos` reaches this; `None` when nothing ahead can help.
    wake: Option<u64>,
    /// The names kept of a large string table, which is then not stored.
    names: Option<KeptStrings>,
    /// Set when another table overlaps the string table: it is then stored whole.
    whole_strings: bool,
    state: State,
}

impl ElfScanner {
    /// A scanner for a file of `len` bytes, with the default [`Options`].
    pub fn new(len: u64) -> Self {
        Self::with_options(len, Options::default())
    }

    /// A scanner for a file of `len` bytes.
    pub fn with_options(len: u64, opts: Options) -> Self {
        let mut s = Self {
            opts,
            pass: 1,
            pos: 0,
            store: Store {
                len,
                chunks: Vec::new(),
            },
            trail: Trail::default(),
            wanted: Vec::new(),
            lost: Vec::new(),
            wake: None,
            names: None,
            whole_strings: false,
            state: State::Running,
        };
        // Learn what is needed first; an error is reported by the first feed.
        let _ = s.step();
        s
    }

    /// Which pass this is (1 for the first).
    pub fn pass(&self) -> u32 {
        self.pass
    }

    /// The first byte at or after what was fed that the scanner waits for, once it
    /// knows: a caller may skip the input up to there (the audit does, by decoding a
    /// deflated member from a later block; see `wheel::seek`). In the first pass, the
    /// scanner also keeps the first [`Options::window`] bytes before it knows.
    pub fn next_wanted(&self) -> Option<u64> {
        if !matches!(self.state, State::Running) || self.wake.is_none() {
            return None;
        }
        self.wanted
            .iter()
            .filter(|r| r.end > self.pos)
            .map(|r| r.start.max(self.pos))
            .min()
    }

    /// How far this pass has been fed.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// How many bytes the scanner holds now.
    pub fn held_bytes(&self) -> u64 {
        self.store.held_bytes()
            + self.trail.data.len() as u64
            + self.names.as_ref().map_or(0, KeptStrings::held_bytes)
    }

    /// Feeds the next chunk of the file, in file order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Scan, ElfError> {
        self.feed_at(self.pos, chunk)
    }

    /// Feeds a chunk that starts at `offset`. Within a pass, offsets must not go back: a
    /// caller may skip what it knows is not needed, but not revisit.
    pub fn feed_at(&mut self, offset: u64, chunk: &[u8]) -> Result<Scan, ElfError> {
        match &self.state {
            State::Running => {}
            State::Failed(e) => return Err(e.clone()),
            State::Complete(_) | State::Finished => return Ok(Scan::Done),
        }
        let len = self.store.len;
        offset
            .checked_add(chunk.len() as u64)
            .filter(|&e| e <= len)
            .ok_or(ElfError::Overfed { len })?;
        if self.wake.is_none() {
            return Ok(Scan::Done);
        }
        let mut at = offset;
        let mut rest = chunk;
        while !rest.is_empty() {
            let cut = match self.wake {
                Some(w) if w > at && w - at < rest.len() as u64 => (w - at) as usize,
                _ => rest.len(),
            };
            let (piece, tail) = rest.split_at(cut);
            self.absorb(at, piece);
            at += cut as u64;
            rest = tail;
            self.pos = self.pos.max(at);
            if self.wake.is_some_and(|w| self.pos >= w) && self.step()? == Scan::Done {
                return Ok(Scan::Done);
            }
        }
        Ok(Scan::NeedMore)
    }

    /// Keeps what is wanted of `piece`, which starts at `at`.
    fn absorb(&mut self, at: u64, piece: &[u8]) {
        let end = at + piece.len() as u64;
        let window = if self.pass == 1 { self.opts.window } else { 0 };
        if at < window {
            let stop = end.min(window);
            if at == 0 && self.store.chunks.is_empty() {
                // The window is kept whole: one allocation, no copies as it grows.
                let cap = window.min(self.store.len);
                let cap = usize::try_from(cap).unwrap_or(0);
                self.store.chunks.push((0, Vec::with_capacity(cap)));
            }
            self.store.insert(at, &piece[..(stop - at) as usize]);
        }
        let keep = self.opts.trail;
        // The reader runs next at `wake`, or at the end of this piece when that is past
        // (pieces are cut at `wake`), and the trail is only read then: it need hold
        // only what it holds at that position (whole multiples of `keep`, from the last
        // one at least `keep` behind), and nothing while that position is within the
        // window, which holds all of it. Copying more was copying a library streamed
        // to its end into the trail, then shifting it along.
        let runs_at = self.wake.map_or(end, |w| w.max(end));
        if keep > 0 && runs_at > window {
            let from = (runs_at.saturating_sub(keep) / keep * keep).max(at);
            if from < end {
                self.trail.push(from, &piece[(from - at) as usize..], keep);
            }
        }
        for r in &self.wanted {
            let (s, e) = (r.start.max(at), r.end.min(end));
            if s >= e {
                continue;
            }
            // The string table whose names are kept goes to them, the rest is stored.
            let t = self.names.as_ref().map_or(0..0, |k| k.table().clone());
            for (s, e) in [(s, e.min(t.start)), (s.max(t.end), e)] {
                if s < e {
                    self.store
                        .insert(s, &piece[(s - at) as usize..(e - at) as usize]);
                }
            }
            let (ks, ke) = (s.max(t.start), e.min(t.end));
            if let Some(k) = self.names.as_mut().filter(|_| ks < ke) {
                k.feed(ks, &piece[(ks - at) as usize..(ke - at) as usize]);
            }
        }
    }

    /// Takes up a string table's names: from the bytes held behind the position, then
    /// as they pass, or in the next pass.
    fn want_names(&mut self, wants: StringWants, need: &Range<u64>) {
        if self
            .names
            .as_ref()
            .is_none_or(|k| *k.table() != wants.table)
        {
            let prefixes = self.opts.defined_prefixes.unwrap_or(&[]);
            self.names = Some(KeptStrings::new(wants, prefixes));
        }
        let Some(k) = self.names.as_mut() else {
            return;
        };
        let behind = need.end.min(self.pos).max(need.start);
        while k.fed_to() < behind {
            let from = k.fed_to();
            let Some(b) = self
                .store
                .held_from(from)
                .filter(|b| !b.is_empty())
                .or_else(|| self.trail.held_from(from).filter(|b| !b.is_empty()))
            else {
                break;
            };
            let b = &b[..b.len().min((behind - from) as usize)];
            k.feed(from, b);
        }
        if k.fed_to() < behind {
            add_range(&mut self.lost, k.fed_to()..need.end);
        } else if !k.is_complete() {
            add_range(&mut self.wanted, k.fed_to().max(self.pos)..need.end);
            self.wake = Some(self.wake.map_or(need.end, |w| w.min(need.end)));
        }
    }

    /// Runs the reader on what is held and decides what to keep and when to run again.
    fn step(&mut self) -> Result<Scan, ElfError> {
        loop {
            let view = Held {
                store: &self.store,
                trail: &self.trail,
                names: self.names.as_ref(),
                keeps_names: !self.whole_strings,
            };
            let gaps = match resolve(&view, &self.opts) {
                Err(e) => {
                    self.state = State::Failed(e.clone());
                    self.wake = None;
                    return Err(e);
                }
                Ok(Resolution::Done(info)) => {
                    self.state = State::Complete(info);
                    self.wake = None;
                    return Ok(Scan::Done);
                }
                Ok(Resolution::Pending(gaps)) => gaps,
            };
            self.wake = None;
            let names = gaps
                .iter()
                .find_map(|g| g.strings.as_ref().map(|w| w.table.clone()));
            if names.as_ref().is_some_and(|t| {
                gaps.iter()
                    .any(|g| g.strings.is_none() && g.need.start < t.end && t.start < g.need.end)
            }) {
                // Another table lies in the string table, whose bytes would not be
                // stored: store it whole instead.
                self.whole_strings = true;
                self.names = None;
                continue;
            }
            let mut rerun = false;
            for Gap {
                need,
                want,
                strings,
            } in gaps
            {
                if let Some(wants) = strings {
                    self.want_names(*wants, &need);
                    rerun |= self.names.as_ref().is_some_and(KeptStrings::is_complete);
                    continue;
                }
                let behind = need.end.min(self.pos).max(need.start);
                let view = Held {
                    store: &self.store,
                    trail: &self.trail,
                    names: None,
                    keeps_names: false,
                };
                if need.end > self.pos && view.held(need.start, behind).is_some() {
                    // Keep what the trail holds of it before the trail moves on.
                    let (s, e) = (want.start.max(self.trail.start), self.pos);
                    if let Some(b) = (s < e).then(|| self.trail.held(s, e)).flatten() {
                        self.store.insert(s, b);
                    }
                    add_range(&mut self.wanted, want.start.max(self.pos)..want.end);
                    // Wait for the whole of what is wanted: a chain within the
                    // hint is then read in one go, not one record per wake.
                    let at = want.end.max(need.end);
                    self.wake = Some(self.wake.map_or(at, |w| w.min(at)));
                } else {
                    add_range(&mut self.lost, want);
                }
            }
            if rerun {
                // The held bytes completed the names: read them now.
                continue;
            }
            let wanted: u64 = self.wanted.iter().map(|r| r.end - r.start).sum();
            let limit = self.opts.max_table.saturating_add(self.opts.window);
            if wanted > limit {
                let e = ElfError::TooLarge {
                    what: "set of dynamic tables",
                    size: wanted,
                    limit,
                };
                self.state = State::Failed(e.clone());
                return Err(e);
            }
            return Ok(if self.wake.is_some() {
                Scan::NeedMore
            } else {
                Scan::Done
            });
        }
    }

    /// Ends a pass: the file's information, or the ranges to read in another pass.
    pub fn finish(&mut self) -> Result<Outcome, ElfError> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Complete(info) => return Ok(Outcome::Info(info)),
            State::Failed(e) => {
                self.state = State::Failed(e.clone());
                return Err(e);
            }
            State::Finished => return Err(ElfError::Finished),
            State::Running => self.state = State::Running,
        }
        if let Some(needed) = self.wake.filter(|_| self.lost.is_empty()) {
            return Err(ElfError::Incomplete {
                needed,
                fed: self.pos,
                len: self.store.len,
            });
        }
        if let Some(needed) = self.wake {
            // Some ranges were lost, but the input also stopped before others came.
            return Err(ElfError::Incomplete {
                needed,
                fed: self.pos,
                len: self.store.len,
            });
        }
        self.pass += 1;
        if self.pass > MAX_PASSES {
            let e = ElfError::TooManyPasses(MAX_PASSES);
            self.state = State::Failed(e.clone());
            return Err(e);
        }
        let ranges = std::mem::take(&mut self.lost);
        self.wanted.clone_from(&ranges);
        self.pos = 0;
        self.step()?;
        Ok(Outcome::Rescan(ranges))
    }
}

/// An error of [`scan_reader`]: the file, or reading it.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The ELF file is malformed or incomplete.
    #[error(transparent)]
    Elf(#[from] ElfError),
    /// Reading the stream failed.
    #[error("reading failed: {0}")]
    Io(#[from] io::Error),
}

/// Scans a file of `len` bytes from a stream that `open` starts (again, for a later pass),
/// reading only as far as needed.
pub fn scan_reader<R: Read>(
    len: u64,
    mut open: impl FnMut() -> io::Result<R>,
    opts: &Options,
    chunk: usize,
) -> Result<ElfInfo, StreamError> {
    let mut s = ElfScanner::with_options(len, opts.clone());
    let mut buf = vec![0u8; chunk.max(1)];
    loop {
        let mut r = open()?;
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if s.feed(&buf[..n])? == Scan::Done {
                break;
            }
        }
        match s.finish()? {
            Outcome::Info(info) => return Ok(*info),
            Outcome::Rescan(_) => {}
        }
    }
}

/// Bytes read at a time by [`scan_at`].
const AT_CHUNK: usize = 64 << 10;

/// Scans a file that can be read at any offset (a library on disk): only what the reader
/// asks for is read, jumping ahead to it, and nothing is kept on speculation (no window,
/// no trail); what turns out to be needed behind is read in another pass, which costs a
/// few positional reads. Streaming libc this way held its first 1.9 MB until its
/// dynamic table came, near its end: 500 page faults and 2.8 ms, for tables of 30 KB.
pub fn scan_at<S: ReadAt + ?Sized>(src: &S, opts: &Options) -> Result<ElfInfo, StreamError> {
    let len = src.size();
    let opts = Options {
        window: 0,
        trail: 0,
        ..opts.clone()
    };
    let mut s = ElfScanner::with_options(len, opts);
    let mut buf = vec![0u8; AT_CHUNK];
    loop {
        while let Some(at) = s.next_wanted() {
            // Wanted bytes past the end (a bogus offset) end the pass; `finish` says why.
            let n = len.saturating_sub(at).min(AT_CHUNK as u64) as usize;
            if n == 0 {
                break;
            }
            src.read_exact_at(at, &mut buf[..n])?;
            if s.feed_at(at, &buf[..n])? == Scan::Done {
                break;
            }
        }
        match s.finish()? {
            Outcome::Info(info) => return Ok(*info),
            Outcome::Rescan(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_elf_fails_on_first_feed() {
        let mut s = ElfScanner::new(64);
        assert_eq!(s.feed(&[0; 64]), Err(ElfError::NotElf));
        assert_eq!(s.finish(), Err(ElfError::NotElf));
        let mut s = ElfScanner::new(10);
        assert_eq!(s.feed(&[1; 11]), Err(ElfError::Overfed { len: 10 }));
    }
}
