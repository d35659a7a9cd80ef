//! The dynamic symbol table (gABI "Symbol Table", `DT_SYMTAB`) with each symbol's version
//! (`DT_VERSYM`, mapped through the version needs and definitions).
//!
//! The dynamic table does not say how many symbols there are. The count comes from the
//! SysV hash table (`DT_HASH`: `nchain`), else from walking the GNU hash table
//! (`DT_GNU_HASH`: the highest bucket's chain up to its end marker), else from the
//! `.dynsym` section header when the file still has one.

use std::collections::BTreeMap;

use serde::Serialize;

use super::dynamic::Dynamic;
use super::error::ElfError;
use super::header::{AddressMap, ElfClass, Header, Machine};
use super::read::{bytes, bytes_hint, Rd, Stop, View};
use super::strings::Names;
use super::version::SymbolVersion;
use super::version_needs::{VersionDef, VersionNeed, CHAIN_HINT};

/// A symbol's binding (`STB_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Binding {
    /// `STB_LOCAL`.
    Local,
    /// `STB_GLOBAL`.
    Global,
    /// `STB_WEAK`.
    Weak,
    /// `STB_GNU_UNIQUE`.
    Unique,
    /// Any other value.
    Other(u8),
}

impl Binding {
    /// From the high nibble of `st_info`.
    pub fn from_raw(v: u8) -> Self {
        match v {
            0 => Self::Local,
            1 => Self::Global,
            2 => Self::Weak,
            10 => Self::Unique,
            other => Self::Other(other),
        }
    }
}

/// A symbol's type (`STT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolKind {
    /// `STT_NOTYPE`.
    NoType,
    /// `STT_OBJECT`: data.
    Object,
    /// `STT_FUNC`: code.
    Func,
    /// `STT_SECTION`.
    Section,
    /// `STT_FILE`.
    File,
    /// `STT_COMMON`.
    Common,
    /// `STT_TLS`: thread-local data.
    Tls,
    /// `STT_GNU_IFUNC`: an indirect function.
    IFunc,
    /// Any other value.
    Other(u8),
}

impl SymbolKind {
    /// From the low nibble of `st_info`.
    pub fn from_raw(v: u8) -> Self {
        match v {
            0 => Self::NoType,
            1 => Self::Object,
            2 => Self::Func,
            3 => Self::Section,
            4 => Self::File,
            5 => Self::Common,
            6 => Self::Tls,
            10 => Self::IFunc,
            other => Self::Other(other),
        }
    }
}

/// The version attached to a dynamic symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolVersionRef {
    /// The version name.
    pub name: SymbolVersion,
    /// For a version required from another file (`DT_VERNEED`), that file; `None` for a
    /// version this file defines (`DT_VERDEF`).
    pub file: Option<String>,
    /// The hidden bit (`0x8000` in `DT_VERSYM`): not the default version of the name.
    pub hidden: bool,
}

/// One entry of the dynamic symbol table (the null symbol 0 is left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DynamicSymbol {
    /// The name.
    pub name: String,
    /// Defined in this file (`st_shndx != SHN_UNDEF`); otherwise imported.
    pub defined: bool,
    /// Binding.
    pub binding: Binding,
    /// Type.
    pub kind: SymbolKind,
    /// Its version, if versioned.
    pub version: Option<SymbolVersionRef>,
}

/// The raw tables of the symbols, before names and versions are attached.
pub(crate) struct RawSymbols<'v> {
    pub table: &'v [u8],
    pub entsize: u64,
    pub versym: Option<&'v [u8]>,
}

const SYMBOLS: &str = "dynamic symbol table";

/// The entries of a SysV hash table (`DT_HASH`): 4 bytes, but 8 in 64-bit s390 files.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HashEntries {
    rd: Rd,
    /// Bytes an entry.
    pub size: u64,
}

impl HashEntries {
    /// The entries of a file with `header`.
    pub fn of(header: &Header) -> Self {
        let wide = header.machine == Machine::S390 && header.rd.class == ElfClass::Elf64;
        Self {
            rd: header.rd,
            size: if wide { 8 } else { 4 },
        }
    }

    /// Entry `k` of `table` (bytes from the table's start, `nbucket` being entry 0).
    pub fn get(self, table: &[u8], k: usize) -> u64 {
        let at = k * self.size as usize;
        if self.size == 8 {
            self.rd.u64(table, at)
        } else {
            u64::from(self.rd.u32(table, at))
        }
    }
}

/// How many entries the dynamic symbol table has.
pub(crate) fn count<V: View + ?Sized>(
    v: &V,
    header: &Header,
    map: &AddressMap,
    d: &Dynamic,
    max_table: u64,
) -> Result<u64, Stop> {
    let rd = header.rd;
    if let Some(hash) = d.hash {
        const WHAT: &str = "hash table (DT_HASH)";
        let (off, _) = map.offset(hash, WHAT)?;
        let e = HashEntries::of(header);
        return Ok(e.get(bytes(v, off, 2 * e.size, WHAT)?, 1));
    }
    if let Some(gnu) = d.gnu_hash {
        return match gnu_count(v, rd, map, gnu, max_table)? {
            GnuCount::Hashed(n) => Ok(n),
            // A table that hashes no symbol says nothing of the ones before it: ld writes
            // one with its first hashed symbol at 1 for a program that exports nothing,
            // whatever it imports. The section headers tell, where there are any.
            GnuCount::NoneFrom(first) => Ok(first.max(section_count(v, header)?)),
        };
    }
    section_count(v, header)
}

/// What a GNU hash table says of the symbol count.
enum GnuCount {
    /// One past the last chain's end.
    Hashed(u64),
    /// Nothing: no symbol is hashed, and the first one would be this one.
    NoneFrom(u64),
}

/// Walks the GNU hash table: the symbol count is one past the last chain's end.
fn gnu_count<V: View + ?Sized>(
    v: &V,
    rd: Rd,
    map: &AddressMap,
    addr: u64,
    max_table: u64,
) -> Result<GnuCount, Stop> {
    const WHAT: &str = "GNU hash table (DT_GNU_HASH)";
    let (off, avail) = map.offset(addr, WHAT)?;
    let h = bytes(v, off, 16, WHAT)?;
    let (nbuckets, symoffset, bloom) = (
        u64::from(rd.u32(h, 0)),
        u64::from(rd.u32(h, 4)),
        u64::from(rd.u32(h, 8)),
    );
    let buckets_at = off.saturating_add(16 + bloom * rd.word_size());
    let buckets = bytes(v, buckets_at, nbuckets * 4, WHAT)?;
    let last = (0..nbuckets as usize)
        .map(|i| rd.u32(buckets, i * 4))
        .max()
        .unwrap_or(0);
    let last = u64::from(last);
    if last == 0 {
        return Ok(GnuCount::NoneFrom(symoffset));
    }
    if last < symoffset {
        return Err(ElfError::Malformed {
            what: WHAT,
            reason: "a bucket points below the first hashed symbol",
        }
        .into());
    }
    let chains_at = buckets_at.saturating_add(nbuckets * 4);
    let table_end = off.saturating_add(avail);
    let mut at = chains_at.saturating_add((last - symoffset) * 4);
    let mut idx = last;
    // Read the chain in blocks, bounded by the segment, until its end marker. Blocks
    // double, so that a scanner re-reading from the start as bytes come does so only a
    // logarithmic number of times; a chain longer than the largest symbol table allowed
    // is refused.
    let mut block = 4096u64;
    loop {
        if (idx - last) * 4 > max_table {
            return Err(ElfError::TooLarge {
                what: WHAT,
                size: (idx - last) * 4,
                limit: max_table,
            }
            .into());
        }
        block = block.min(table_end.saturating_sub(at) / 4 * 4);
        if block == 0 {
            return Err(ElfError::OutOfBounds { what: WHAT }.into());
        }
        let b = bytes_hint(v, at, block, CHAIN_HINT, WHAT)?;
        for w in b.chunks_exact(4) {
            if rd.u32(w, 0) & 1 == 1 {
                return Ok(GnuCount::Hashed(idx + 1));
            }
            idx += 1;
        }
        at = at.saturating_add(block);
        block = block.saturating_mul(2);
    }
}

/// The `.dynsym` section header's entry count, for files with neither hash table.
fn section_count<V: View + ?Sized>(v: &V, header: &Header) -> Result<u64, Stop> {
    const WHAT: &str = "section header table";
    const SHT_DYNSYM: u32 = 11;
    let rd = header.rd;
    let entsize = match rd.class {
        ElfClass::Elf32 => 40,
        ElfClass::Elf64 => 64,
    };
    if header.shoff == 0 || header.shnum == 0 || u64::from(header.shentsize) < entsize {
        return Ok(0);
    }
    let step = u64::from(header.shentsize);
    let table = bytes(v, header.shoff, step * u64::from(header.shnum), WHAT)?;
    for s in table.chunks_exact(step as usize) {
        if rd.u32(s, 4) == SHT_DYNSYM {
            let (size, ent) = match rd.class {
                ElfClass::Elf32 => (rd.word(s, 20), rd.word(s, 36)),
                ElfClass::Elf64 => (rd.word(s, 32), rd.word(s, 56)),
            };
            return Ok(size.checked_div(ent).unwrap_or(0));
        }
    }
    Ok(0)
}

/// The size of an `Elf_Sym` of the file's class: the least `DT_SYMENT` can be.
pub(crate) fn min_entsize(rd: Rd) -> u64 {
    match rd.class {
        ElfClass::Elf32 => 16,
        ElfClass::Elf64 => 24,
    }
}

/// Fetches the symbol table and the version indices of `n` symbols.
pub(crate) fn raw<'v, V: View + ?Sized>(
    v: &'v V,
    rd: Rd,
    map: &AddressMap,
    d: &Dynamic,
    n: u64,
    max_table: u64,
) -> Result<Option<RawSymbols<'v>>, Stop> {
    let Some(symtab) = d.symtab else {
        return Ok(None);
    };
    let min = min_entsize(rd);
    let entsize = d.syment.unwrap_or(min);
    if entsize < min {
        return Err(ElfError::Malformed {
            what: SYMBOLS,
            reason: "its entry size (DT_SYMENT) is too small",
        }
        .into());
    }
    let size = n
        .checked_mul(entsize)
        .ok_or(ElfError::OutOfBounds { what: SYMBOLS })?;
    let (off, _) = map.offset(symtab, SYMBOLS)?;
    // A table that cannot fit in the file is damage, not a limit to raise.
    if off.checked_add(size).is_none_or(|e| e > v.total_len()) {
        return Err(ElfError::OutOfBounds { what: SYMBOLS }.into());
    }
    if size > max_table {
        return Err(ElfError::TooLarge {
            what: SYMBOLS,
            size,
            limit: max_table,
        }
        .into());
    }
    let table = bytes(v, off, size, SYMBOLS)?;
    let versym = match d.versym {
        Some(addr) if n > 0 => {
            const WHAT: &str = "symbol version table (DT_VERSYM)";
            let (off, _) = map.offset(addr, WHAT)?;
            Some(bytes(v, off, n * 2, WHAT)?)
        }
        _ => None,
    };
    Ok(Some(RawSymbols {
        table,
        entsize,
        versym,
    }))
}

/// The file offset and value of the version index (the `DT_VERSYM` entry) of each
/// dynamic symbol named one of `names`, in table order: what patchelf's
/// `--clear-symbol-version` sets to `VER_NDX_GLOBAL`. None in a file without versions.
pub(crate) fn version_slots(v: &[u8], names: &[String]) -> Result<Vec<(u64, u16)>, Stop> {
    const WHAT: &str = "symbol version table (DT_VERSYM)";
    let header = Header::read(v)?;
    let segments = header.segments(v)?;
    let rd = header.rd;
    let Some(dseg) = segments
        .iter()
        .find(|s| s.kind == super::header::PT_DYNAMIC)
    else {
        return Ok(Vec::new());
    };
    let d = Dynamic::read(v, rd, dseg)?;
    let (Some(versym), Some(strtab)) = (d.versym, d.strtab) else {
        return Ok(Vec::new());
    };
    let map = AddressMap::new(&segments);
    let n = count(v, &header, &map, &d, u64::MAX)?;
    let Some(raw) = raw(v, rd, &map, &d, n, u64::MAX)? else {
        return Ok(Vec::new());
    };
    let (str_off, avail) = map.offset(strtab, super::strings::STRTAB)?;
    let strings = bytes(v, str_off, d.strsz.unwrap_or(avail), super::strings::STRTAB)?;
    let (at, _) = map.offset(versym, WHAT)?;
    let mut out = Vec::new();
    for (i, e) in raw.table.chunks_exact(raw.entsize as usize).enumerate() {
        let (name, _) = entry_name(rd, e);
        let name = super::read::c_str(strings, u64::from(name), SYMBOLS)?;
        if i > 0 && names.contains(&name) {
            let slot = at + 2 * i as u64;
            out.push((slot, rd.u16(bytes(v, slot, 2, WHAT)?, 0)));
        }
    }
    Ok(out)
}

/// The string-table offsets of the symbols' names, each with whether only a prefix
/// match keeps it (a defined symbol, when `prefixed`).
pub(crate) fn name_offsets<'r>(
    raw: &'r RawSymbols<'_>,
    rd: Rd,
    prefixed: bool,
) -> impl Iterator<Item = (u64, bool)> + 'r {
    raw.table
        .chunks_exact(raw.entsize as usize)
        .skip(1)
        .map(move |e| {
            let (name, shndx) = entry_name(rd, e);
            (u64::from(name), prefixed && shndx != 0)
        })
}

/// An entry's `st_name` and `st_shndx`.
fn entry_name(rd: Rd, e: &[u8]) -> (u32, u16) {
    match rd.class {
        ElfClass::Elf32 => (rd.u32(e, 0), rd.u16(e, 14)),
        ElfClass::Elf64 => (rd.u32(e, 0), rd.u16(e, 6)),
    }
}

/// Names the symbols and attaches their versions.
pub(crate) fn named(
    raw: &RawSymbols<'_>,
    rd: Rd,
    strtab: &Names<'_>,
    needs: &[VersionNeed],
    defs: &[VersionDef],
    defined_prefixes: Option<&[&str]>,
) -> Result<Vec<DynamicSymbol>, ElfError> {
    let mut versions: BTreeMap<u16, (&SymbolVersion, Option<&str>)> = BTreeMap::new();
    for d in defs.iter().filter(|d| !d.base) {
        versions.insert(d.index, (&d.name, None));
    }
    for n in needs {
        for r in &n.versions {
            versions.insert(r.index, (&r.name, Some(n.file.as_str())));
        }
    }
    let step = raw.entsize as usize;
    raw.table
        .chunks_exact(step)
        .enumerate()
        .skip(1)
        .filter_map(|(i, e)| {
            let (name, info, shndx) = match rd.class {
                ElfClass::Elf32 => (rd.u32(e, 0), e[12], rd.u16(e, 14)),
                ElfClass::Elf64 => (rd.u32(e, 0), e[4], rd.u16(e, 6)),
            };
            if let (Some(prefixes), true) = (defined_prefixes, shndx != 0) {
                // Decide on the bytes, before a name is allocated.
                if !strtab.starts_with_any(u64::from(name), prefixes) {
                    return None;
                }
            }
            Some((i, name, info, shndx))
        })
        .map(|(i, name, info, shndx)| {
            let version = raw.versym.and_then(|vs| {
                let raw = rd.u16(vs, i * 2);
                let (name, file) = versions.get(&(raw & 0x7fff))?;
                Some(SymbolVersionRef {
                    name: (*name).clone(),
                    file: file.map(str::to_owned),
                    hidden: raw & 0x8000 != 0,
                })
            });
            Ok(DynamicSymbol {
                name: strtab.c_str(u64::from(name), SYMBOLS)?,
                defined: shndx != 0,
                binding: Binding::from_raw(info >> 4),
                kind: SymbolKind::from_raw(info & 0xf),
                version,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::header::Endian;
    use crate::elf::strings::StrTab;

    /// Symbols whose names are the tails of one long string are refused before their
    /// names add up to more than a bound, not allocated quadratically.
    #[test]
    fn names_are_bounded_by_the_table() {
        let len = 32 << 10;
        let mut strtab = vec![b'a'; len];
        strtab.push(0);
        let n = 2048;
        let mut table = vec![0u8; 24 * (n + 1)];
        for i in 1..=n {
            table[24 * i..24 * i + 4].copy_from_slice(&(i as u32).to_le_bytes());
        }
        let raw = RawSymbols {
            table: &table,
            entsize: 24,
            versym: None,
        };
        let rd = Rd {
            endian: Endian::Little,
            class: ElfClass::Elf64,
        };
        let named =
            |strtab: &[u8]| named(&raw, rd, &Names::new(StrTab::Whole(strtab)), &[], &[], None);
        assert!(matches!(
            named(&strtab),
            Err(ElfError::Malformed { what, .. }) if what.starts_with("dynamic string table")
        ));
        // Short names in a table as long are read.
        for b in strtab.iter_mut().step_by(64).skip(1) {
            *b = 0;
        }
        let names = named(&strtab).unwrap();
        assert_eq!(names.len(), n);
        assert_eq!(names[0].name.len(), 63);
    }

    #[test]
    fn st_info_nibbles() {
        assert_eq!(Binding::from_raw(0x12 >> 4), Binding::Global);
        assert_eq!(SymbolKind::from_raw(0x12 & 0xf), SymbolKind::Func);
        assert_eq!(Binding::from_raw(10), Binding::Unique);
        assert_eq!(SymbolKind::from_raw(10), SymbolKind::IFunc);
        assert_eq!(Binding::from_raw(7), Binding::Other(7));
        assert_eq!(
            serde_json::to_string(&(Binding::Weak, SymbolKind::Tls)).unwrap(),
            r#"["weak","tls"]"#
        );
    }
}
