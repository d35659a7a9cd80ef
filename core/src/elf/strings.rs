//! The dynamic string table, held whole or as only the strings that the other tables name.
//!
//! Most of a large library's `.dynstr` is the names of its exports (tensorflow's
//! libtensorflow_cc.so.2: 82 MB for 446,000 symbols), which an audit reads only to see
//! whether they start with a module-init prefix. Once the symbol table, the version
//! tables and the dynamic table are held, the offsets of every name the reader will ask
//! for are known, so the scanner can stream a large table through a [`KeptStrings`]
//! that keeps only those names (of the exports, only those a prefix matches) instead of
//! holding the table whole. That needs those tables before
//! the string table: true of lld's layout and of a file patchelf edited, and of any
//! layout within the scanner's first window; GNU ld puts the version tables after
//! `.dynstr`, so such a file with tables beyond the window keeps its table whole.

use std::cell::Cell;
use std::ops::Range;

use super::error::ElfError;
use super::read::c_bytes;

/// The structure named in errors about the string table.
pub(crate) const STRTAB: &str = "dynamic string table (DT_STRTAB)";

/// A string table as the reader sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StrTab<'a> {
    /// Every byte of the table.
    Whole(&'a [u8]),
    /// The strings a scan kept.
    Kept(&'a KeptStrings),
}

impl StrTab<'_> {
    /// The NUL-terminated string at `at`, decoded lossily; `what` is the structure that
    /// gives the offset.
    pub fn c_str(&self, at: u64, what: &'static str) -> Result<String, ElfError> {
        let bytes = match self {
            Self::Whole(table) => c_bytes(table, at, what)?,
            Self::Kept(k) => k.get(at, what)?,
        };
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// The table's length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Self::Whole(table) => table.len() as u64,
            Self::Kept(k) => k.table_len(),
        }
    }

    /// Whether the bytes at `at` start with one of `prefixes` (false past the table).
    pub fn starts_with_any(&self, at: u64, prefixes: &[&str]) -> bool {
        let bytes = match self {
            Self::Whole(table) => usize::try_from(at).ok().and_then(|at| table.get(at..)),
            Self::Kept(k) => match k.get(at, "") {
                Ok(b) => Some(b),
                // Kept, so it matched, but the table ended first: the caller's naming
                // reports it, as it would from a whole table.
                Err(ElfError::Unterminated { .. }) => return at < k.table_len(),
                Err(_) => None,
            },
        };
        bytes.is_some_and(|b| prefixes.iter().any(|p| b.starts_with(p.as_bytes())))
    }
}

/// Looks names up in a string table, refusing once they add up to more than a table of
/// that size holds. Names become owned strings, and a hostile file may point many
/// symbols or version records into one long string: n of them into an n-byte table
/// would otherwise allocate n²/2 bytes. Real names add up to about the table (a merged
/// tail is counted once per name).
pub(crate) struct Names<'a> {
    table: StrTab<'a>,
    left: Cell<u64>,
}

impl<'a> Names<'a> {
    /// Names from `table`.
    pub fn new(table: StrTab<'a>) -> Self {
        let limit = table.len().saturating_mul(4).saturating_add(16 << 20);
        Self {
            table,
            left: Cell::new(limit),
        }
    }

    /// The name at `at` (see [`StrTab::c_str`]).
    pub fn c_str(&self, at: u64, what: &'static str) -> Result<String, ElfError> {
        let name = self.table.c_str(at, what)?;
        let left = self.left.get().checked_sub(name.len() as u64);
        // Not a limit to raise: no linker writes such a table.
        let left = left.ok_or(ElfError::Malformed {
            what: STRTAB,
            reason: "its names overlap far more than any linker's do (corrupt or hostile)",
        })?;
        self.left.set(left);
        Ok(name)
    }

    /// Whether the bytes at `at` start with one of `prefixes` (false past the table).
    pub fn starts_with_any(&self, at: u64, prefixes: &[&str]) -> bool {
        self.table.starts_with_any(at, prefixes)
    }
}

/// A name to keep: its offset in the table, and whether only a prefix match keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Want {
    /// The offset in the table.
    pub at: u32,
    /// Kept only when it starts with one of the prefixes.
    pub if_prefixed: bool,
}

/// Which names of the table at `table` (file offsets) to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StringWants {
    /// Where the table lies in the file.
    pub table: Range<u64>,
    /// Sorted by offset; one entry per offset, unconditional when any use is.
    pub wants: Vec<Want>,
}

impl StringWants {
    /// The wants for the table at `table`, from the offsets the reader will name (those
    /// at or past the table's end are left out: the reader reports them itself).
    pub fn new(table: Range<u64>, offsets: impl IntoIterator<Item = (u64, bool)>) -> Self {
        let len = table.end - table.start;
        let mut wants: Vec<Want> = offsets
            .into_iter()
            .filter(|&(at, _)| at < len)
            .filter_map(|(at, if_prefixed)| {
                let at = u32::try_from(at).ok()?;
                Some(Want { at, if_prefixed })
            })
            .collect();
        // Sorting puts an offset's unconditional use first.
        wants.sort_unstable();
        wants.dedup_by_key(|w| w.at);
        Self { table, wants }
    }
}

/// How a kept name ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// Its bytes (without the NUL) are `bytes[start..start + len]`.
    Str { start: u32, len: u32 },
    /// The table ended before its NUL.
    Unterminated,
    /// It matched no prefix, and was dropped.
    Dropped,
}

/// A string table streamed in file order, keeping only the wanted names.
#[derive(Debug)]
pub(crate) struct KeptStrings {
    table: Range<u64>,
    prefixes: &'static [&'static str],
    wants: Vec<Want>,
    /// `wants[buckets[b]..buckets[b + 1]]` are those with `at >> shift == b`: an export's
    /// name is looked up once per symbol, and a plain binary search over hundreds of
    /// thousands of wants misses the cache at every step.
    buckets: Vec<u32>,
    shift: u32,
    /// The next want not yet reached.
    next: usize,
    /// Names begun but not yet ended (index in `wants`, offset in the table): usually
    /// none, as a name ends in the piece where it begins. All end at the same NUL, so
    /// each is a suffix of `run`, the table's bytes from the first of them on.
    open: Vec<(usize, u64)>,
    run: Vec<u8>,
    /// The kept names, end to end. Names that end at the same NUL (a linker merges a
    /// name that is the tail of another) share their bytes, so these are never more
    /// than the table's, whatever offsets the symbols give.
    bytes: Vec<u8>,
    /// The last name added to `bytes`: (table offset of its NUL, its start in `bytes`,
    /// its table offset).
    last: Option<(u64, usize, u64)>,
    /// Per want, in the order of `wants`, once it has ended.
    done: Vec<Option<Kept>>,
    /// The file offset up to which the table has been fed.
    fed_to: u64,
}

impl KeptStrings {
    /// A collector for `wants`; prefixed names are kept when they start with one of
    /// `prefixes`.
    pub fn new(wants: StringWants, prefixes: &'static [&'static str]) -> Self {
        let n = wants.wants.len();
        let len = wants.table.end - wants.table.start;
        // About four wants to a bucket.
        let per = (len / (n as u64 / 4).max(1)).max(1);
        let shift = per.ilog2();
        let mut buckets = Vec::with_capacity((len >> shift) as usize + 2);
        let mut i = 0;
        for b in 0..=(len >> shift) + 1 {
            while wants
                .wants
                .get(i)
                .is_some_and(|w| u64::from(w.at) >> shift < b)
            {
                i += 1;
            }
            buckets.push(i as u32);
        }
        Self {
            buckets,
            shift,
            fed_to: wants.table.start,
            table: wants.table,
            prefixes,
            wants: wants.wants,
            next: 0,
            open: Vec::new(),
            run: Vec::new(),
            bytes: Vec::new(),
            last: None,
            done: vec![None; n],
        }
    }

    /// Where the table lies in the file.
    pub fn table(&self) -> &Range<u64> {
        &self.table
    }

    /// The file offset up to which the table has been fed.
    pub fn fed_to(&self) -> u64 {
        self.fed_to
    }

    fn table_len(&self) -> u64 {
        self.table.end - self.table.start
    }

    /// Whether the whole table has been fed.
    pub fn is_complete(&self) -> bool {
        self.fed_to == self.table.end
    }

    /// How many bytes are held.
    pub fn held_bytes(&self) -> u64 {
        (self.bytes.capacity()
            + self.run.capacity()
            + self.open.capacity() * 16
            + self.done.capacity() * 12
            + self.wants.capacity() * 8) as u64
    }

    /// Takes the bytes `piece` at file offset `at`. Bytes already taken are skipped;
    /// a piece that starts past [`Self::fed_to`] would leave a hole and is ignored.
    pub fn feed(&mut self, at: u64, piece: &[u8]) {
        let end = (at + piece.len() as u64).min(self.table.end);
        if at > self.fed_to || end <= self.fed_to {
            return;
        }
        let base = self.fed_to - self.table.start;
        let data = &piece[(self.fed_to - at) as usize..(end - at) as usize];
        self.fed_to = end;
        // Names begun in an earlier piece: all end at the first NUL of this one.
        if !self.open.is_empty() {
            match memchr::memchr(0, data) {
                Some(n) => {
                    self.run.extend_from_slice(&data[..n]);
                    let run = std::mem::take(&mut self.run);
                    let from = self.open[0].1;
                    for (i, at) in std::mem::take(&mut self.open) {
                        self.close(i, at, &run[(at - from) as usize..]);
                    }
                }
                None => self.run.extend_from_slice(data),
            }
        }
        while let Some(w) = self.wants.get(self.next) {
            let at = u64::from(w.at);
            let Some(rest) = at
                .checked_sub(base)
                .and_then(|r| usize::try_from(r).ok())
                .and_then(|r| data.get(r..))
                .filter(|r| !r.is_empty())
            else {
                break;
            };
            let i = self.next;
            self.next += 1;
            match memchr::memchr(0, rest) {
                Some(n) => self.close(i, at, &rest[..n]),
                None => {
                    // The first name left open holds the rest of the piece; any later
                    // one is a suffix of it.
                    if self.open.is_empty() {
                        self.run.extend_from_slice(rest);
                    }
                    self.open.push((i, at));
                }
            }
        }
        if self.is_complete() {
            let run = std::mem::take(&mut self.run);
            let from = self.open.first().map_or(0, |o| o.1);
            for (i, at) in std::mem::take(&mut self.open) {
                // As in a whole table: an unended name is an error when named, unless
                // it is one a prefix decides on and none matches.
                let name = &run[(at - from) as usize..];
                self.done[i] = Some(if self.dropped(i, name) {
                    Kept::Dropped
                } else {
                    Kept::Unterminated
                });
            }
        }
    }

    fn dropped(&self, i: usize, name: &[u8]) -> bool {
        self.wants[i].if_prefixed && !self.prefixes.iter().any(|p| name.starts_with(p.as_bytes()))
    }

    /// Name `i`, at table offset `at`, ended: keeps it, or drops it when no prefix
    /// matches.
    fn close(&mut self, i: usize, at: u64, name: &[u8]) {
        if self.dropped(i, name) {
            self.done[i] = Some(Kept::Dropped);
            return;
        }
        let nul = at + name.len() as u64;
        let start = match self.last {
            // The tail of the name added last (names come in table order).
            Some((end, start, from)) if end == nul => start + (at - from) as usize,
            _ => {
                let start = self.bytes.len();
                self.bytes.extend_from_slice(name);
                self.last = Some((nul, start, at));
                start
            }
        };
        // `bytes` is at most the table, whose length fits in u32 (see `StringWants::new`).
        self.done[i] = Some(Kept::Str {
            start: start as u32,
            len: name.len() as u32,
        });
    }

    /// The name at `at` (an offset in the table), once the table is complete.
    fn get(&self, at: u64, what: &'static str) -> Result<&[u8], ElfError> {
        let len = self.table_len();
        if at > len {
            return Err(ElfError::NameOutOfTable { what });
        }
        let b = (at >> self.shift) as usize;
        let found = match (u32::try_from(at), self.buckets.get(b..b + 2)) {
            (Ok(at), Some(&[lo, hi])) => {
                let (lo, hi) = (lo as usize, hi as usize);
                self.wants[lo..hi]
                    .binary_search_by_key(&at, |w| w.at)
                    .ok()
                    .and_then(|i| self.done[lo + i])
            }
            _ => None,
        };
        match found {
            Some(Kept::Str { start, len }) => {
                Ok(&self.bytes[start as usize..(start + len) as usize])
            }
            // Past the last byte, as in a whole table: no NUL follows.
            Some(Kept::Unterminated) | None if at == len => Err(ElfError::Unterminated { what }),
            Some(Kept::Unterminated) => Err(ElfError::Unterminated { what }),
            // A name the wants left out is never asked for by the same reader; an
            // offset it did not foresee reads as outside the table, never as a name.
            Some(Kept::Dropped) | None => Err(ElfError::NameOutOfTable { what }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[u8] = b"\0libc.so.6\0PyInit_foo\0init\0helper\0GLIBC_2.17\0tail";

    fn whole(at: u64) -> Result<String, ElfError> {
        StrTab::Whole(TABLE).c_str(at, "t")
    }

    fn kept(wants: &[(u64, bool)], chunk: usize, base: u64) -> KeptStrings {
        let table = base..base + TABLE.len() as u64;
        let mut k = KeptStrings::new(
            StringWants::new(table, wants.iter().copied()),
            &["PyInit_", "init"],
        );
        for (i, c) in TABLE.chunks(chunk).enumerate() {
            k.feed(base + (i * chunk) as u64, c);
        }
        assert!(k.is_complete());
        k
    }

    #[test]
    fn kept_names_read_as_the_whole_table_reads_them() {
        let all: Vec<(u64, bool)> = (0..=TABLE.len() as u64 + 1).map(|a| (a, false)).collect();
        for chunk in [1, 2, 3, 5, 7, 64] {
            let k = kept(&all, chunk, 1000);
            // Every offset's name is the tail of one ending at the same NUL: the names
            // kept are the table's bytes once, not once per offset.
            assert!(k.bytes.len() <= TABLE.len(), "{}", k.bytes.len());
            for at in 0..=TABLE.len() as u64 + 1 {
                assert_eq!(
                    StrTab::Kept(&k).c_str(at, "t"),
                    whole(at),
                    "offset {at}, chunk {chunk}"
                );
            }
        }
    }

    #[test]
    fn prefixed_names_are_kept_only_when_they_match() {
        // "PyInit_foo" at 11, "init" at 22, "helper" at 27, "it" inside "init" at 24.
        let wants = [(11, true), (22, true), (27, true), (24, true), (1, false)];
        for chunk in [1, 2, 4, 64] {
            let k = kept(&wants, chunk, 0);
            let t = StrTab::Kept(&k);
            let p = ["PyInit_", "init"];
            assert_eq!(t.c_str(11, "t").unwrap(), "PyInit_foo");
            assert!(t.starts_with_any(11, &p));
            assert_eq!(t.c_str(22, "t").unwrap(), "init");
            assert!(!t.starts_with_any(27, &p), "chunk {chunk}");
            assert!(!t.starts_with_any(24, &p));
            assert_eq!(t.c_str(1, "t").unwrap(), "libc.so.6");
            // Only what matched is held.
            assert_eq!(k.bytes.len(), "PyInit_foo".len() + "init".len() + 9);
            assert!(k.open.is_empty());
        }
    }

    #[test]
    fn a_name_wanted_both_ways_is_kept_whole() {
        let k = kept(&[(27, true), (27, false)], 3, 0);
        assert_eq!(StrTab::Kept(&k).c_str(27, "t").unwrap(), "helper");
    }

    #[test]
    fn feeding_skips_what_it_has_and_ignores_holes() {
        let mut k = KeptStrings::new(StringWants::new(0..TABLE.len() as u64, [(1, false)]), &[]);
        k.feed(5, &TABLE[5..]);
        assert_eq!(k.fed_to(), 0, "a hole is not taken");
        k.feed(0, &TABLE[..8]);
        k.feed(4, &TABLE[4..]);
        assert!(k.is_complete());
        assert_eq!(StrTab::Kept(&k).c_str(1, "t").unwrap(), "libc.so.6");
    }
}
