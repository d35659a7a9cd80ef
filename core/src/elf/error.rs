//! Errors of the ELF reader. Each is one phrase about the file's content; the caller adds
//! which wheel and which member it is about.

/// Why an ELF file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    /// The magic number is not `\x7fELF`.
    #[error("it is not an ELF file")]
    NotElf,
    /// `EI_CLASS` is neither 32- nor 64-bit.
    #[error("it has an unknown ELF class ({0})")]
    UnknownClass(u8),
    /// `EI_DATA` is neither little- nor big-endian.
    #[error("it has an unknown ELF byte order ({0})")]
    UnknownByteOrder(u8),
    /// A structure lies (partly) beyond the end of the file.
    #[error("the {what} lies outside the file (truncated or corrupt)")]
    OutOfBounds {
        /// Which structure.
        what: &'static str,
    },
    /// A dynamic-table address is not inside any loadable segment.
    #[error("the {what} address {vaddr:#x} is not inside any loadable segment")]
    Unmapped {
        /// Which table.
        what: &'static str,
        /// The address found in the dynamic table.
        vaddr: u64,
    },
    /// A string offset points past the end of the dynamic string table.
    #[error("a name in the {what} points past the end of the dynamic string table")]
    NameOutOfTable {
        /// What holds the offset.
        what: &'static str,
    },
    /// A string runs to the end of its table without a NUL.
    #[error("a string in the {what} is not NUL-terminated")]
    Unterminated {
        /// Which table.
        what: &'static str,
    },
    /// A linked list of records points back into itself.
    #[error("the {what} chain loops back on itself")]
    Loop {
        /// Which chain.
        what: &'static str,
    },
    /// A structure is inconsistent.
    #[error("the {what} is malformed: {reason}")]
    Malformed {
        /// Which structure.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A table is larger than the reader agrees to hold in memory.
    #[error("the {what} is too large to read ({size} bytes; the limit is {limit})")]
    TooLarge {
        /// Which table.
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The scanner was finished before it was fed the bytes it needs.
    #[error("the scan ended before byte {needed} was read ({fed} of {len} bytes were fed)")]
    Incomplete {
        /// The end of the first range still missing.
        needed: u64,
        /// How far the input was fed.
        fed: u64,
        /// The declared length of the file.
        len: u64,
    },
    /// The scanner was fed bytes past the declared length.
    #[error("more bytes were fed than the declared length ({len} bytes)")]
    Overfed {
        /// The declared length.
        len: u64,
    },
    /// [`super::ElfScanner::finish`] was called again after it returned the result.
    #[error("the scan was already finished")]
    Finished,
    /// The tables point at each other in an order that needs too many passes.
    #[error("the dynamic tables are laid out in an order that needs more than {0} passes")]
    TooManyPasses(u32),
}

impl ElfError {
    /// Whether this says "feed more bytes" rather than "the file is malformed".
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Self::Incomplete { .. })
    }
}
