//! The output of an edit as writes over the input: a new length, byte ranges of the
//! input copied elsewhere (the string table), and bytes written at offsets.
//!
//! An edit changes a few hundred bytes of a file and appends a few kilobytes, while
//! the file may be hundreds of megabytes: held this way, the caller can patch its own
//! buffer in place (and a file on disk can be copied by the kernel, then only the
//! changed ranges written), instead of the core copying the whole file.

use std::ops::Range;

use super::PatchError;

/// Writes over an input of known length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Overlay {
    /// The length of the input.
    pub old_len: u64,
    /// The length of the output (never shorter than the input).
    pub len: u64,
    /// Ranges of the input copied to an offset (applied before the writes).
    pub copies: Vec<(u64, Range<u64>)>,
    /// Bytes written at an offset, in order.
    pub writes: Vec<(u64, Vec<u8>)>,
}

impl Overlay {
    /// No change to an input of `len` bytes.
    pub fn new(len: u64) -> Self {
        Self {
            old_len: len,
            len,
            ..Self::default()
        }
    }

    /// Grows the output to `len` bytes (zeros).
    pub fn grow(&mut self, len: u64) {
        self.len = self.len.max(len);
    }

    /// Writes `b` at `at`, which must lie inside the output.
    pub fn put(&mut self, at: u64, b: &[u8]) -> Result<(), PatchError> {
        match at.checked_add(b.len() as u64) {
            Some(end) if end <= self.len => {
                self.writes.push((at, b.to_vec()));
                Ok(())
            }
            _ => Err(PatchError::Verify(format!(
                "a write at {at:#x} lies outside the file"
            ))),
        }
    }

    /// Copies `from` (a range of the input) to `at`, beyond the input's end.
    pub fn copy(&mut self, at: u64, from: Range<u64>) -> Result<(), PatchError> {
        let n = from.end.saturating_sub(from.start);
        if from.end > self.old_len || at < self.old_len || at.saturating_add(n) > self.len {
            return Err(PatchError::Verify(format!(
                "a copy to {at:#x} lies outside the new space"
            )));
        }
        self.copies.push((at, from));
        Ok(())
    }

    /// The ranges of the input that the writes change (for writing only those back).
    pub fn changed(&self) -> Vec<Range<u64>> {
        let mut r: Vec<Range<u64>> = self
            .writes
            .iter()
            .map(|(at, b)| *at..(at + b.len() as u64).min(self.old_len))
            .filter(|r| r.start < r.end)
            .collect();
        r.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<u64>> = Vec::with_capacity(r.len());
        for x in r {
            match merged.last_mut() {
                Some(m) if x.start <= m.end => m.end = m.end.max(x.end),
                _ => merged.push(x),
            }
        }
        merged
    }

    /// Applies the overlay to `buf`, which holds the input. Returns what the changed
    /// ranges held before, to undo with [`Overlay::undo`].
    pub fn apply(&self, buf: &mut Vec<u8>) -> Vec<(u64, Vec<u8>)> {
        let saved: Vec<(u64, Vec<u8>)> = self
            .changed()
            .into_iter()
            .map(|r| (r.start, buf[r.start as usize..r.end as usize].to_vec()))
            .collect();
        buf.resize(self.len as usize, 0);
        for (at, from) in &self.copies {
            buf.copy_within(from.start as usize..from.end as usize, *at as usize);
        }
        for (at, b) in &self.writes {
            buf[*at as usize..*at as usize + b.len()].copy_from_slice(b);
        }
        saved
    }

    /// Restores `buf` to the input after [`Overlay::apply`].
    pub fn undo(&self, buf: &mut Vec<u8>, saved: Vec<(u64, Vec<u8>)>) {
        restore(buf, self.old_len, saved);
    }
}

/// Restores `buf` to an input of `old_len` bytes from the bytes `saved` before an edit.
pub(super) fn restore(buf: &mut Vec<u8>, old_len: u64, saved: Vec<(u64, Vec<u8>)>) {
    buf.truncate(old_len as usize);
    for (at, b) in saved {
        buf[at as usize..at as usize + b.len()].copy_from_slice(&b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_and_undoes() {
        let input = b"0123456789".to_vec();
        let mut o = Overlay::new(10);
        o.grow(16);
        o.copy(12, 2..5).unwrap();
        o.put(1, b"ab").unwrap();
        o.put(2, b"XY").unwrap();
        o.put(9, b"!!").unwrap();
        assert!(o.put(15, b"xx").is_err());
        assert!(o.copy(8, 0..2).is_err(), "copies only go beyond the input");
        assert_eq!(o.changed(), [1..4, 9..10]);
        let mut buf = input.clone();
        let saved = o.apply(&mut buf);
        assert_eq!(buf, b"0aXY45678!!\x00234\x00");
        o.undo(&mut buf, saved);
        assert_eq!(buf, input);
    }
}
