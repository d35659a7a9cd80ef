//! Byte access shared by the whole-file parser and the streaming scanner.
//!
//! Every structure is read through a [`View`]: a file of known length of which some byte
//! ranges are held. A read outside the file is an error (the file is malformed or
//! truncated); a read inside the file of bytes that are not held is a [`Gap`], which the
//! scanner turns into "keep these bytes when they come" or "read these again". A whole
//! file in memory holds every byte, so it never has a gap.

use std::ops::Range;

use super::error::ElfError;
use super::header::{ElfClass, Endian};
use super::strings::{KeptStrings, StringWants};

/// Bytes the reader needs but does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Gap {
    /// The bytes the read needs.
    pub need: Range<u64>,
    /// The bytes worth keeping: `need`, widened when what follows is likely needed next
    /// (the rest of a chain whose length is not known before it is walked).
    pub want: Range<u64>,
    /// For a string table: keep only these names of it, not its bytes.
    pub strings: Option<Box<StringWants>>,
}

/// Why a read stopped: a gap to fill, or a malformed file.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Bytes are missing.
    Gap(Gap),
    /// The file is malformed.
    Error(ElfError),
}

impl From<ElfError> for Stop {
    fn from(e: ElfError) -> Self {
        Self::Error(e)
    }
}

/// A file of known length, some of whose bytes are held.
pub(crate) trait View {
    /// The length of the whole file.
    fn total_len(&self) -> u64;
    /// The bytes `[start, end)` if all are held (`start <= end <= total_len`).
    fn held(&self, start: u64, end: u64) -> Option<&[u8]>;
    /// The names kept of the string table at `table`, once it has all passed.
    fn kept_strings(&self, _table: &Range<u64>) -> Option<&KeptStrings> {
        None
    }
    /// Whether a large string table may be asked for as the names it needs
    /// ([`Gap::strings`]) rather than whole.
    fn keeps_names(&self) -> bool {
        false
    }
}

impl View for [u8] {
    fn total_len(&self) -> u64 {
        self.len() as u64
    }
    fn held(&self, start: u64, end: u64) -> Option<&[u8]> {
        self.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
    }
}

/// Reads `len` bytes at `off`.
pub(crate) fn bytes<'v, V: View + ?Sized>(
    v: &'v V,
    off: u64,
    len: u64,
    what: &'static str,
) -> Result<&'v [u8], Stop> {
    bytes_hint(v, off, len, 0, what)
}

/// Reads `len` bytes at `off`; on a gap, asks to keep `hint` bytes from `off` (clipped to
/// the file) so that a chain of records is fetched in one go.
pub(crate) fn bytes_hint<'v, V: View + ?Sized>(
    v: &'v V,
    off: u64,
    len: u64,
    hint: u64,
    what: &'static str,
) -> Result<&'v [u8], Stop> {
    let total = v.total_len();
    let end = off
        .checked_add(len)
        .filter(|&e| e <= total)
        .ok_or(ElfError::OutOfBounds { what })?;
    match v.held(off, end) {
        Some(b) => Ok(b),
        None => Err(Stop::Gap(Gap {
            need: off..end,
            want: off..end.max(off.saturating_add(hint).min(total)),
            strings: None,
        })),
    }
}

/// Fixed-layout reads from one record, in the file's byte order and class.
///
/// Callers fetch whole records first, so a short read cannot happen; should it, it reads
/// as zero rather than panicking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rd {
    /// Byte order.
    pub endian: Endian,
    /// Word size.
    pub class: ElfClass,
}

impl Rd {
    fn arr<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
        b.get(at..at.saturating_add(N))
            .and_then(|s| s.try_into().ok())
            .unwrap_or([0; N])
    }

    /// A `u16` at `at`.
    pub fn u16(self, b: &[u8], at: usize) -> u16 {
        let a = Self::arr(b, at);
        match self.endian {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        }
    }

    /// A `u32` at `at`.
    pub fn u32(self, b: &[u8], at: usize) -> u32 {
        let a = Self::arr(b, at);
        match self.endian {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }

    /// A `u64` at `at`.
    pub fn u64(self, b: &[u8], at: usize) -> u64 {
        let a = Self::arr(b, at);
        match self.endian {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        }
    }

    /// A class-sized word (`Elf32_Addr`/`Elf64_Addr`, `Off`, `Xword`) at `at`.
    pub fn word(self, b: &[u8], at: usize) -> u64 {
        match self.class {
            ElfClass::Elf32 => u64::from(self.u32(b, at)),
            ElfClass::Elf64 => self.u64(b, at),
        }
    }

    /// The size of a class-sized word.
    pub fn word_size(self) -> u64 {
        match self.class {
            ElfClass::Elf32 => 4,
            ElfClass::Elf64 => 8,
        }
    }
}

/// The NUL-terminated string at `at` in `table`, decoded lossily; `what` is the structure
/// that gives the offset.
pub(crate) fn c_str(table: &[u8], at: u64, what: &'static str) -> Result<String, ElfError> {
    Ok(String::from_utf8_lossy(c_bytes(table, at, what)?).into_owned())
}

/// The bytes of the NUL-terminated string at `at` in `table`, without the NUL.
pub(crate) fn c_bytes<'t>(
    table: &'t [u8],
    at: u64,
    what: &'static str,
) -> Result<&'t [u8], ElfError> {
    let start = usize::try_from(at)
        .ok()
        .filter(|&s| s <= table.len())
        .ok_or(ElfError::NameOutOfTable { what })?;
    let rest = &table[start..];
    let len = memchr::memchr(0, rest).ok_or(ElfError::Unterminated { what })?;
    Ok(&rest[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_both_byte_orders() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8];
        let le = Rd {
            endian: Endian::Little,
            class: ElfClass::Elf64,
        };
        let be = Rd {
            endian: Endian::Big,
            class: ElfClass::Elf32,
        };
        assert_eq!(le.u16(&b, 0), 0x0201);
        assert_eq!(be.u16(&b, 0), 0x0102);
        assert_eq!(le.word(&b, 0), 0x0807_0605_0403_0201);
        assert_eq!(be.word(&b, 4), 0x0506_0708);
        assert_eq!(le.u32(&b, 6), 0, "short reads are zero, not a panic");
    }

    #[test]
    fn bounds_and_gaps() {
        let file: &[u8] = &[0; 10];
        assert!(bytes(file, 8, 2, "x").is_ok());
        assert!(matches!(
            bytes(file, 9, 2, "x"),
            Err(Stop::Error(ElfError::OutOfBounds { what: "x" }))
        ));
        assert!(matches!(bytes(file, u64::MAX, 2, "x"), Err(Stop::Error(_))));
    }

    #[test]
    fn c_strings() {
        let t = b"\0libc.so.6\0bad";
        assert_eq!(c_str(t, 1, "t").unwrap(), "libc.so.6");
        assert_eq!(c_str(t, 0, "t").unwrap(), "");
        assert_eq!(c_str(t, 11, "t"), Err(ElfError::Unterminated { what: "t" }));
        assert_eq!(
            c_str(t, 99, "t"),
            Err(ElfError::NameOutOfTable { what: "t" })
        );
        assert_eq!(c_str(t, 14, "t"), Err(ElfError::Unterminated { what: "t" }));
    }
}
