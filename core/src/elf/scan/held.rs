//! What the scanner holds of the file: the kept ranges, the trail of the bytes just fed,
//! and the view of them (with the names kept of a string table) that the reader reads.

use std::ops::Range;

use crate::elf::read::View;
use crate::elf::strings::KeptStrings;

/// The bytes held: sorted, disjoint, non-adjacent chunks.
#[derive(Debug, Default)]
pub(super) struct Store {
    pub(super) len: u64,
    pub(super) chunks: Vec<(u64, Vec<u8>)>,
}

impl Store {
    pub(super) fn held_bytes(&self) -> u64 {
        self.chunks.iter().map(|(_, d)| d.len() as u64).sum()
    }

    pub(super) fn insert(&mut self, start: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = start + data.len() as u64;
        if let Some((s, d)) = self.chunks.last_mut() {
            let last_end = *s + d.len() as u64;
            if last_end == start {
                d.extend_from_slice(data);
                return;
            }
            if last_end < start {
                self.chunks.push((start, data.to_vec()));
                return;
            }
        } else {
            self.chunks.push((start, data.to_vec()));
            return;
        }
        // Fill only the holes, then merge neighbours.
        let mut cur = start;
        let mut new = Vec::new();
        for (s, d) in &self.chunks {
            let e = *s + d.len() as u64;
            if e <= cur {
                continue;
            }
            if *s >= end {
                break;
            }
            if *s > cur {
                new.push((
                    cur,
                    data[(cur - start) as usize..(*s - start) as usize].to_vec(),
                ));
            }
            cur = e;
            if cur >= end {
                break;
            }
        }
        if cur < end {
            new.push((cur, data[(cur - start) as usize..].to_vec()));
        }
        self.chunks.extend(new);
        self.chunks.sort_by_key(|c| c.0);
        let mut merged: Vec<(u64, Vec<u8>)> = Vec::with_capacity(self.chunks.len());
        for (s, d) in self.chunks.drain(..) {
            match merged.last_mut() {
                Some((ps, pd)) if *ps + pd.len() as u64 == s => pd.extend_from_slice(&d),
                _ => merged.push((s, d)),
            }
        }
        self.chunks = merged;
    }

    /// The bytes held from `start` to the end of the chunk that holds it.
    pub(super) fn held_from(&self, start: u64) -> Option<&[u8]> {
        let i = self
            .chunks
            .partition_point(|c| c.0 <= start)
            .checked_sub(1)?;
        let (s, d) = &self.chunks[i];
        d.get(usize::try_from(start - s).ok()?..)
    }
}

impl View for Store {
    fn total_len(&self) -> u64 {
        self.len
    }
    fn held(&self, start: u64, end: u64) -> Option<&[u8]> {
        if start == end {
            return Some(&[]);
        }
        let i = self
            .chunks
            .partition_point(|c| c.0 <= start)
            .checked_sub(1)?;
        let (s, d) = &self.chunks[i];
        let from = usize::try_from(start - s).ok()?;
        let to = usize::try_from(end - s).ok()?;
        d.get(from..to)
    }
}

/// The bytes just fed: `[start, start + data.len())`, ending at the pass position.
#[derive(Debug, Default)]
pub(super) struct Trail {
    pub(super) start: u64,
    pub(super) data: Vec<u8>,
}

impl Trail {
    pub(super) fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }

    /// Appends the piece at `at`, then keeps from the last multiple of `keep` that is at
    /// least `keep` behind the end: what is held is a function of the position alone, not
    /// of the chunking.
    pub(super) fn push(&mut self, at: u64, piece: &[u8], keep: u64) {
        let end = at + piece.len() as u64;
        let from = end.saturating_sub(keep) / keep * keep;
        if self.end() != at || from >= at {
            let from = from.max(at);
            self.start = from;
            self.data.clear();
            self.data.extend_from_slice(&piece[(from - at) as usize..]);
            return;
        }
        self.data.extend_from_slice(piece);
        if from > self.start {
            self.data.drain(..(from - self.start) as usize);
            self.start = from;
        }
    }

    /// The bytes held from `start` to the end.
    pub(super) fn held_from(&self, start: u64) -> Option<&[u8]> {
        (start >= self.start).then(|| self.data.get((start - self.start) as usize..))?
    }

    pub(super) fn held(&self, start: u64, end: u64) -> Option<&[u8]> {
        if start < self.start || end > self.end() {
            return None;
        }
        self.data
            .get((start - self.start) as usize..(end - self.start) as usize)
    }
}

/// What the reader sees: the kept bytes, the trail and the names kept of a string table.
pub(super) struct Held<'a> {
    pub(super) store: &'a Store,
    pub(super) trail: &'a Trail,
    pub(super) names: Option<&'a KeptStrings>,
    pub(super) keeps_names: bool,
}

impl View for Held<'_> {
    fn total_len(&self) -> u64 {
        self.store.len
    }
    fn held(&self, start: u64, end: u64) -> Option<&[u8]> {
        self.store
            .held(start, end)
            .or_else(|| self.trail.held(start, end))
    }
    fn kept_strings(&self, table: &Range<u64>) -> Option<&KeptStrings> {
        self.names.filter(|k| k.table() == table && k.is_complete())
    }
    fn keeps_names(&self) -> bool {
        self.keeps_names
    }
}

/// Adds `r` to a sorted list of disjoint ranges, merging.
pub(super) fn add_range(list: &mut Vec<Range<u64>>, r: Range<u64>) {
    if r.is_empty() {
        return;
    }
    list.push(r);
    list.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(list.len());
    for r in list.drain(..) {
        match out.last_mut() {
            Some(p) if p.end >= r.start => p.end = p.end.max(r.end),
            _ => out.push(r),
        }
    }
    *list = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_fills_holes_and_merges() {
        let mut s = Store {
            len: 100,
            chunks: Vec::new(),
        };
        s.insert(10, &[1; 5]);
        s.insert(15, &[2; 5]);
        s.insert(30, &[3; 5]);
        assert_eq!(s.chunks.len(), 2);
        s.insert(0, &[9; 40]);
        assert_eq!(s.chunks.len(), 1);
        let d = s.held(0, 40).unwrap();
        assert_eq!(&d[8..12], &[9, 9, 1, 1]);
        assert_eq!(&d[18..22], &[2, 2, 9, 9]);
        assert_eq!(&d[29..31], &[9, 3]);
        assert_eq!(s.held_bytes(), 40);
        assert!(s.held(39, 41).is_none());
        assert_eq!(s.held(50, 50), Some(&[][..]));
        s.insert(60, &[4; 2]);
        s.insert(50, &[5; 2]);
        assert_eq!(s.held(50, 52), Some(&[5, 5][..]));
        assert!(s.held(52, 53).is_none());
    }

    #[test]
    fn ranges_merge() {
        let mut l = Vec::new();
        add_range(&mut l, 10..20);
        add_range(&mut l, 30..40);
        add_range(&mut l, 15..30);
        add_range(&mut l, 5..5);
        assert_eq!(l, vec![10..40]);
    }
}
