//! Positional byte sources: what the archive reader reads from.
//!
//! A wheel may be hundreds of megabytes. The CLI reads it through a file handle with
//! positional reads (no mmap, so resident memory stays bounded); the WASM build holds the
//! bytes in memory. Both are a [`ReadAt`]: random access, shareable between threads, so
//! different members can be inflated in parallel from one open wheel.

use std::io;

/// A random-access, thread-shareable source of bytes.
pub trait ReadAt: Sync {
    /// Total length of the source in bytes.
    fn size(&self) -> u64;

    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (0 at the end).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;

    /// The whole source as a slice, when it lives in memory (lets readers skip copies).
    fn as_slice(&self) -> Option<&[u8]> {
        None
    }

    /// Fills `buf` from `offset`, or fails with `UnexpectedEof`.
    fn read_exact_at(&self, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read_at(offset, buf) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "unexpected end of data",
                    ))
                }
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl ReadAt for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        if start >= self.len() {
            return Ok(0);
        }
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
    fn as_slice(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl ReadAt for Vec<u8> {
    fn size(&self) -> u64 {
        self.as_slice().size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.as_slice().read_at(offset, buf)
    }
    fn as_slice(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
    fn as_slice(&self) -> Option<&[u8]> {
        (**self).as_slice()
    }
}

/// A file read with positional reads; the length is taken once, when it is opened.
#[cfg(unix)]
#[derive(Debug)]
pub struct FileSource {
    file: std::fs::File,
    len: u64,
}

#[cfg(unix)]
impl FileSource {
    /// Wraps an open file.
    pub fn new(file: std::fs::File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Self { file, len })
    }
}

#[cfg(unix)]
impl ReadAt for FileSource {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        if offset >= self.len {
            return Ok(0);
        }
        let max = usize::try_from(self.len - offset).unwrap_or(usize::MAX);
        let n = buf.len().min(max);
        self.file.read_at(&mut buf[..n], offset)
    }
}

/// A [`std::io::Read`] over a byte range of a [`ReadAt`].
pub struct RangeReader<'a, S: ReadAt + ?Sized> {
    src: &'a S,
    pos: u64,
    end: u64,
}

impl<'a, S: ReadAt + ?Sized> RangeReader<'a, S> {
    /// Reads `len` bytes from `start`.
    pub fn new(src: &'a S, start: u64, len: u64) -> Self {
        Self {
            src,
            pos: start,
            end: start.saturating_add(len),
        }
    }
}

impl<S: ReadAt + ?Sized> io::Read for RangeReader<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end - self.pos;
        if left == 0 {
            return Ok(0);
        }
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let got = self.src.read_at(self.pos, &mut buf[..n])?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends inside a member",
            ));
        }
        self.pos += got as u64;
        Ok(got)
    }
}

/// Small reads at rising offsets served from one buffer read ahead: the local headers of
/// a wheel's many small members (torch has 12,000) lie a few KiB apart, so one read
/// serves many of them instead of two system calls each. The caller says how far ahead
/// is worth reading: past a large member, the bytes read ahead are its data, copied
/// for nothing.
pub struct ReadAhead<'a, S: ReadAt + ?Sized> {
    src: &'a S,
    at: u64,
    buf: Vec<u8>,
}

impl<'a, S: ReadAt + ?Sized> ReadAhead<'a, S> {
    /// The most read at once.
    pub const AHEAD: usize = 64 << 10;

    /// A reader of `src` with nothing read yet.
    pub fn new(src: &'a S) -> Self {
        Self {
            src,
            at: 0,
            buf: Vec::new(),
        }
    }

    /// Fills `out` from `offset`, as [`ReadAt::read_exact_at`], reading up to
    /// [`Self::AHEAD`] bytes ahead when it must read.
    pub fn read_exact_at(&mut self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.read_exact_within(offset, out, Self::AHEAD)
    }

    /// [`Self::read_exact_at`], reading at most `window` bytes from `offset` (never
    /// fewer than `out` needs, never more than [`Self::AHEAD`]) when it must read.
    pub fn read_exact_within(
        &mut self,
        offset: u64,
        out: &mut [u8],
        window: usize,
    ) -> io::Result<()> {
        let held = offset
            .checked_sub(self.at)
            .and_then(|k| usize::try_from(k).ok())
            .and_then(|k| self.buf.get(k..k.checked_add(out.len())?));
        if let Some(held) = held {
            out.copy_from_slice(held);
            return Ok(());
        }
        if out.len() > Self::AHEAD {
            return self.src.read_exact_at(offset, out);
        }
        let n = self
            .src
            .size()
            .saturating_sub(offset)
            .min(window.min(Self::AHEAD) as u64) as usize;
        self.buf.resize(n.max(out.len()), 0);
        self.at = offset;
        if let Err(e) = self.src.read_exact_at(offset, &mut self.buf) {
            self.buf.clear();
            return Err(e);
        }
        out.copy_from_slice(&self.buf[..out.len()]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_gives_what_the_source_holds() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut ahead = ReadAhead::new(&data);
        // Rising, falling back, straddling a refill, larger than the buffer, at the end.
        for (at, len) in [
            (0, 30),
            (10, 5),
            (65_530, 30),
            (3, 4),
            (70_000, 100_000),
            (199_990, 10),
        ] {
            let mut out = vec![0u8; len];
            ahead.read_exact_at(at as u64, &mut out).unwrap();
            assert_eq!(out, data[at..at + len], "{at} {len}");
        }
        // A window smaller than the read, and windows that end just after it.
        let mut narrow = ReadAhead::new(&data);
        for (at, len, window) in [
            (100, 30, 1),
            (200, 30, 40),
            (235, 5, 40),
            (5_000, 8, 8),
            (5_004, 8, 8),
        ] {
            let mut out = vec![0u8; len];
            narrow
                .read_exact_within(at as u64, &mut out, window)
                .unwrap();
            assert_eq!(out, data[at..at + len], "{at} {len} {window}");
        }
        let mut out = [0u8; 11];
        assert!(ahead.read_exact_at(199_990, &mut out).is_err());
        assert!(ahead.read_exact_at(u64::MAX - 3, &mut out).is_err());
    }
}
