//! What the patcher reads from a file before editing it: the headers, the whole dynamic
//! table (every entry, not only the ones an audit needs), the dynamic string table, and
//! where the `vn_file` fields of the version needs sit.
//!
//! Everything is found as the dynamic loader finds it: the program headers, then
//! `PT_DYNAMIC`, then the addresses in the dynamic table mapped through the `PT_LOAD`
//! segments. Section headers are only read later, to keep them in step with what moves.

use super::super::error::ElfError;
use super::super::header::{AddressMap, ElfClass, Header, Segment, PT_DYNAMIC, PT_INTERP, PT_LOAD};
use super::super::read::{bytes, Rd, Stop};
use super::super::version_needs::MAX_RECORDS;
use super::PatchError;

/// `DT_NULL`.
pub(super) const DT_NULL: u64 = 0;
/// `DT_NEEDED`.
pub(super) const DT_NEEDED: u64 = 1;
/// `DT_STRTAB`.
pub(super) const DT_STRTAB: u64 = 5;
/// `DT_STRSZ`.
pub(super) const DT_STRSZ: u64 = 10;
/// `DT_SONAME`.
pub(super) const DT_SONAME: u64 = 14;
/// `DT_RPATH`.
pub(super) const DT_RPATH: u64 = 15;
/// `DT_RUNPATH`.
pub(super) const DT_RUNPATH: u64 = 29;
/// `DT_DEBUG`.
pub(super) const DT_DEBUG: u64 = 21;
/// `DT_FLAGS_1`.
pub(super) const DT_FLAGS_1: u64 = 0x6fff_fffb;
/// `DT_VERNEED`.
const DT_VERNEED: u64 = 0x6fff_fffe;
/// `DT_VERNEEDNUM`.
const DT_VERNEEDNUM: u64 = 0x6fff_ffff;
/// `DT_MIPS_RLD_MAP_REL`: an offset relative to the address of the entry itself, so it
/// changes when the entry moves.
pub(super) const DT_MIPS_RLD_MAP_REL: u64 = 0x7000_0035;

const DYNAMIC: &str = "dynamic section";
const STRTAB: &str = "dynamic string table (DT_STRTAB)";
const VERNEED: &str = "version needs (DT_VERNEED)";

/// A read on a whole file cannot miss bytes; a gap would mean a bug, so it reads as out
/// of bounds.
pub(super) fn whole<T>(r: Result<T, Stop>, what: &'static str) -> Result<T, ElfError> {
    match r {
        Ok(t) => Ok(t),
        Err(Stop::Error(e)) => Err(e),
        Err(Stop::Gap(_)) => Err(ElfError::OutOfBounds { what }),
    }
}

/// One dynamic entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    /// `d_tag`.
    pub tag: u64,
    /// `d_val` / `d_ptr`.
    pub val: u64,
    /// The address the entry had in the input, for entries whose value is relative to
    /// their own address.
    pub was_at: Option<u64>,
}

/// The dynamic string table as found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StrTab {
    /// `DT_STRTAB`.
    pub addr: u64,
    /// Its file offset.
    pub offset: u64,
}

/// A file ready to be edited.
#[derive(Debug, Clone)]
pub(super) struct Image<'a> {
    /// The input.
    pub src: &'a [u8],
    /// The file header.
    pub header: Header,
    /// The program headers, in table order.
    pub segments: Vec<Segment>,
    /// Which of them is `PT_DYNAMIC`.
    pub dyn_index: usize,
    /// How many entries `PT_DYNAMIC` has room for.
    pub dyn_slots: u64,
    /// The dynamic entries before the first `DT_NULL`.
    pub entries: Vec<Entry>,
    /// The dynamic string table, if there is one.
    pub strtab: Option<StrTab>,
    /// Its bytes (`DT_STRSZ` of them).
    pub strings: &'a [u8],
    /// For each version need: the file offset of its `vn_file` field and the value.
    pub verneed: Vec<(u64, u64)>,
    /// Whether the file has `PT_INTERP` (an executable, PIE or not).
    pub interp: bool,
}

impl<'a> Image<'a> {
    /// Reads what the patcher needs.
    pub fn read(src: &'a [u8]) -> Result<Self, PatchError> {
        let header = whole(Header::read(src), "ELF header")?;
        let segments = whole(header.segments(src), "program header table")?;
        let rd = header.rd;
        // A segment that claims bytes past the end: the file is cut short, and new space
        // appended at its end would land inside that segment.
        if segments.iter().any(|s| {
            s.kind == PT_LOAD
                && s.offset
                    .checked_add(s.filesz)
                    .is_none_or(|e| e > src.len() as u64)
        }) {
            return Err(ElfError::OutOfBounds {
                what: "loadable segment",
            }
            .into());
        }
        let dyn_index = segments
            .iter()
            .position(|s| s.kind == PT_DYNAMIC)
            .ok_or(PatchError::NoDynamic)?;
        let dseg = segments[dyn_index];
        let ent = entry_size(rd.class);
        let dyn_slots = dseg.filesz / ent;
        let table = whole(bytes(src, dseg.offset, dyn_slots * ent, DYNAMIC), DYNAMIC)?;
        let w = rd.word_size() as usize;
        let mut entries = Vec::new();
        for (i, e) in table.chunks_exact(ent as usize).enumerate() {
            let (tag, val) = (rd.word(e, 0), rd.word(e, w));
            if tag == DT_NULL {
                break;
            }
            entries.push(Entry {
                tag,
                val,
                was_at: Some(dseg.vaddr.wrapping_add(i as u64 * ent)),
            });
        }
        let map = AddressMap::new(&segments);
        let last = |tag: u64| entries.iter().rev().find(|e| e.tag == tag).map(|e| e.val);
        let (strtab, strings) = match last(DT_STRTAB) {
            Some(addr) => {
                let (offset, avail) = map.offset(addr, STRTAB)?;
                let len = last(DT_STRSZ).unwrap_or(avail);
                let strings = whole(bytes(src, offset, len, STRTAB), STRTAB)?;
                (Some(StrTab { addr, offset }), strings)
            }
            None => (None, &[][..]),
        };
        let verneed = match last(DT_VERNEED) {
            Some(addr) => {
                let (offset, _) = map.offset(addr, VERNEED)?;
                need_files(src, rd, offset, last(DT_VERNEEDNUM))?
            }
            None => Vec::new(),
        };
        Ok(Self {
            src,
            header,
            dyn_index,
            dyn_slots,
            entries,
            strtab,
            strings,
            verneed,
            interp: segments.iter().any(|s| s.kind == PT_INTERP),
            segments,
        })
    }
}

/// The size of one dynamic entry.
pub(super) fn entry_size(class: ElfClass) -> u64 {
    match class {
        ElfClass::Elf32 => 8,
        ElfClass::Elf64 => 16,
    }
}

/// Walks the `Elf_Verneed` chain at `start`, returning where each `vn_file` is and its
/// value. Bounded like the reader's walk: by the count, by [`MAX_RECORDS`], by the file.
fn need_files(
    src: &[u8],
    rd: Rd,
    start: u64,
    count: Option<u64>,
) -> Result<Vec<(u64, u64)>, ElfError> {
    let mut out = Vec::new();
    let mut off = start;
    loop {
        if count.is_some_and(|c| out.len() as u64 >= c) {
            break;
        }
        if out.len() >= MAX_RECORDS {
            return Err(ElfError::Loop { what: VERNEED });
        }
        let e = whole(bytes(src, off, 16, VERNEED), VERNEED)?;
        out.push((off + 4, u64::from(rd.u32(e, 4))));
        let next = rd.u32(e, 12);
        if next == 0 {
            break;
        }
        off = off.saturating_add(u64::from(next));
    }
    Ok(out)
}
