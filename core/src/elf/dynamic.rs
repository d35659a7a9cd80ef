//! The dynamic section (gABI "Dynamic Section"), found through `PT_DYNAMIC`: the entries
//! an audit reads, with the string-table offsets of the names still unresolved.
//!
//! Addresses in it (`DT_STRTAB`, `DT_SYMTAB`, …) are virtual addresses; the resolver maps
//! them to file offsets through the `PT_LOAD` segments, never through section headers,
//! which stripped or patchelf-edited files may lack or leave stale.

use super::error::ElfError;
use super::header::{ElfClass, Segment};
use super::read::{bytes, Rd, Stop, View};

const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_STRSZ: u64 = 10;
const DT_SYMENT: u64 = 11;
const DT_SONAME: u64 = 14;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;
const DT_GNU_HASH: u64 = 0x6fff_fef5;
const DT_VERSYM: u64 = 0x6fff_fff0;
const DT_VERDEF: u64 = 0x6fff_fffc;
const DT_VERDEFNUM: u64 = 0x6fff_fffd;
const DT_VERNEED: u64 = 0x6fff_fffe;
const DT_VERNEEDNUM: u64 = 0x6fff_ffff;

/// The entries of the dynamic table that the reader uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Dynamic {
    /// `DT_NEEDED` string offsets, in order.
    pub needed: Vec<u64>,
    /// `DT_SONAME`.
    pub soname: Option<u64>,
    /// `DT_RPATH`.
    pub rpath: Option<u64>,
    /// `DT_RUNPATH`.
    pub runpath: Option<u64>,
    /// `DT_STRTAB` (address).
    pub strtab: Option<u64>,
    /// `DT_STRSZ`.
    pub strsz: Option<u64>,
    /// `DT_SYMTAB` (address).
    pub symtab: Option<u64>,
    /// `DT_SYMENT`.
    pub syment: Option<u64>,
    /// `DT_HASH` (address).
    pub hash: Option<u64>,
    /// `DT_GNU_HASH` (address).
    pub gnu_hash: Option<u64>,
    /// `DT_VERSYM` (address).
    pub versym: Option<u64>,
    /// `DT_VERNEED` (address).
    pub verneed: Option<u64>,
    /// `DT_VERNEEDNUM`.
    pub verneednum: Option<u64>,
    /// `DT_VERDEF` (address).
    pub verdef: Option<u64>,
    /// `DT_VERDEFNUM`.
    pub verdefnum: Option<u64>,
}

impl Dynamic {
    /// Reads the table that `PT_DYNAMIC` points at, up to `DT_NULL` or the segment's end.
    pub fn read<V: View + ?Sized>(v: &V, rd: Rd, seg: &Segment) -> Result<Self, Stop> {
        const WHAT: &str = "dynamic section";
        let entsize: u64 = match rd.class {
            ElfClass::Elf32 => 8,
            ElfClass::Elf64 => 16,
        };
        let len = seg.filesz - seg.filesz % entsize;
        // An empty segment holds no tags, wherever it says it lies: a separate debug
        // file's (`objcopy --only-keep-debug`) points past its end (pyrealsense2's
        // `.so.debug` members were refused as damaged; pyelftools reads no tags).
        if len == 0 {
            return Ok(Self::default());
        }
        let table = bytes(v, seg.offset, len, WHAT)?;
        let mut d = Self::default();
        let w = rd.word_size() as usize;
        for e in table.chunks_exact(entsize as usize) {
            let (tag, val) = (rd.word(e, 0), rd.word(e, w));
            // A repeated entry: the last one wins, as in glibc's dynamic loader.
            let slot = match tag {
                DT_NULL => break,
                DT_NEEDED => {
                    d.needed.push(val);
                    continue;
                }
                DT_SONAME => &mut d.soname,
                DT_RPATH => &mut d.rpath,
                DT_RUNPATH => &mut d.runpath,
                DT_STRTAB => &mut d.strtab,
                DT_STRSZ => &mut d.strsz,
                DT_SYMTAB => &mut d.symtab,
                DT_SYMENT => &mut d.syment,
                DT_HASH => &mut d.hash,
                DT_GNU_HASH => &mut d.gnu_hash,
                DT_VERSYM => &mut d.versym,
                DT_VERNEED => &mut d.verneed,
                DT_VERNEEDNUM => &mut d.verneednum,
                DT_VERDEF => &mut d.verdef,
                DT_VERDEFNUM => &mut d.verdefnum,
                _ => continue,
            };
            *slot = Some(val);
        }
        if d.strtab.is_none() && (!d.needed.is_empty() || d.soname.is_some()) {
            return Err(ElfError::Malformed {
                what: WHAT,
                reason: "it names libraries but has no string table (DT_STRTAB)",
            }
            .into());
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::header::{Endian, PT_DYNAMIC};

    fn seg(offset: u64, filesz: u64) -> Segment {
        Segment {
            kind: PT_DYNAMIC,
            flags: 6,
            offset,
            vaddr: offset,
            filesz,
            memsz: filesz,
            align: 8,
        }
    }

    #[test]
    fn reads_entries_until_null() {
        let rd = Rd {
            endian: Endian::Big,
            class: ElfClass::Elf32,
        };
        let mut t = Vec::new();
        for (tag, val) in [
            (1u32, 10u32),
            (5, 0x100),
            (10, 0x20),
            (1, 20),
            (14, 3),
            (0, 0),
            (1, 99),
        ] {
            t.extend_from_slice(&tag.to_be_bytes());
            t.extend_from_slice(&val.to_be_bytes());
        }
        let d = Dynamic::read(&t[..], rd, &seg(0, t.len() as u64 + 8)).unwrap_err();
        assert!(matches!(d, Stop::Error(ElfError::OutOfBounds { .. })));
        let d = Dynamic::read(&t[..], rd, &seg(0, t.len() as u64)).unwrap();
        assert_eq!(d.needed, [10, 20]);
        assert_eq!(
            (d.strtab, d.strsz, d.soname),
            (Some(0x100), Some(0x20), Some(3))
        );
        // An empty segment past the end (a separate debug file's) holds no tags.
        let d = Dynamic::read(&t[..], rd, &seg(t.len() as u64 + 4096, 0)).unwrap();
        assert_eq!((d.needed.len(), d.strtab), (0, None));
    }

    #[test]
    fn needs_a_string_table_for_names() {
        let rd = Rd {
            endian: Endian::Little,
            class: ElfClass::Elf64,
        };
        let mut t = Vec::new();
        for (tag, val) in [(1u64, 10u64), (0, 0)] {
            t.extend_from_slice(&tag.to_le_bytes());
            t.extend_from_slice(&val.to_le_bytes());
        }
        assert!(matches!(
            Dynamic::read(&t[..], rd, &seg(0, 32)),
            Err(Stop::Error(ElfError::Malformed { .. }))
        ));
    }
}
