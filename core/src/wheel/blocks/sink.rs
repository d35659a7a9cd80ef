//! The output of an inflating walk ([`super::inflate_walk`]): a buffer of the stream's
//! declared size, written by the walk's symbols as an inflater writes them.
//!
//! A repair both verifies an extension (inflates it) and splices its edit (walks its
//! blocks); decoding the same stream twice, once in zlib-rs and once in the walk, was
//! about a tenth of a small repair's CPU. The walk writing the bytes too does both in
//! one decode.

use super::{Result, WalkError};

/// Room past the declared size: copies are written eight bytes at a time, and a copy
/// that ends at the last byte may write up to seven past it.
const SLACK: usize = 8;

/// The output written so far, in a buffer of the declared size.
#[derive(Default)]
pub(super) struct Sink {
    buf: Vec<u8>,
    len: usize,
    size: usize,
}

impl Sink {
    /// An empty output that may grow to `size` bytes.
    pub(super) fn new(size: usize) -> Self {
        Self {
            buf: vec![0; size + SLACK],
            len: 0,
            size,
        }
    }

    /// Appends a literal byte.
    #[inline]
    pub(super) fn literal(&mut self, b: u8) -> Result<()> {
        if self.len >= self.size {
            return Err(WalkError::Long);
        }
        self.buf[self.len] = b;
        self.len += 1;
        Ok(())
    }

    /// Appends a copy of `length` bytes from `distance` back.
    #[inline]
    pub(super) fn copy(&mut self, distance: usize, length: usize) -> Result<()> {
        let (at, end) = (self.len, self.len + length);
        if end > self.size {
            return Err(WalkError::Long);
        }
        let Some(src) = at.checked_sub(distance) else {
            return Err(WalkError::Invalid("invalid distance too far back"));
        };
        let buf = &mut self.buf[..end + SLACK];
        if distance >= 8 {
            // Each eight bytes read lie before the eight written (the source is at
            // least eight back), so a copy that overlaps itself repeats as deflate
            // means it to.
            let mut i = 0;
            while i < length {
                let w: [u8; 8] = buf[src + i..src + i + 8].try_into().unwrap_or([0; 8]);
                buf[at + i..at + i + 8].copy_from_slice(&w);
                i += 8;
            }
        } else if distance == 1 {
            let b = buf[src];
            buf[at..end].fill(b);
        } else {
            for i in at..end {
                buf[i] = buf[i - distance];
            }
        }
        self.len = end;
        Ok(())
    }

    /// Appends stored bytes.
    pub(super) fn bytes(&mut self, b: &[u8]) -> Result<()> {
        let end = self.len + b.len();
        if end > self.size {
            return Err(WalkError::Long);
        }
        self.buf[self.len..end].copy_from_slice(b);
        self.len = end;
        Ok(())
    }

    /// The output so far.
    pub(super) fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The output.
    pub(super) fn finish(mut self) -> Vec<u8> {
        self.buf.truncate(self.len);
        self.buf
    }
}
