//! GNU symbol versioning (the LSB "Symbol Versioning" chapter): the version needs
//! (`DT_VERNEED`, `.gnu.version_r`: which versions this file requires from which library)
//! and the version definitions (`DT_VERDEF`, `.gnu.version_d`: which versions it provides).
//!
//! Both are linked lists whose `next` fields are byte offsets. They are read in two steps:
//! the records first (so that the scanner learns every range it needs in one round), then
//! the names, from the dynamic string table. A walk is bounded by the entry counts, by
//! [`MAX_RECORDS`] and by the file's end, so a hostile chain ends in an error, never in an
//! endless loop; offsets only move forward, in 64-bit arithmetic, so a chain cannot cycle.

use serde::Serialize;

use super::error::ElfError;
use super::read::{bytes_hint, Rd, Stop, View};
use super::strings::Names;
use super::version::SymbolVersion;

/// `VER_FLG_BASE`: the version definition of the file itself.
const VER_FLG_BASE: u16 = 0x1;
/// `VER_FLG_WEAK`: a weak version reference.
const VER_FLG_WEAK: u16 = 0x2;

/// The most records (entries plus auxiliary entries) one chain may have.
pub const MAX_RECORDS: usize = 65_536;

/// How many bytes to ask for when a chain record is missing: a whole chain is usually a
/// few hundred bytes, so one range fetches it all.
pub(crate) const CHAIN_HINT: u64 = 64 * 1024;

/// The versions a file requires from one library (`Elf_Verneed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionNeed {
    /// The library, as named in `DT_NEEDED` (`libc.so.6`).
    pub file: String,
    /// The versions required from it.
    pub versions: Vec<VersionRef>,
}

/// One required version (`Elf_Vernaux`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRef {
    /// The version name, `GLIBC_2.17`.
    pub name: SymbolVersion,
    /// `VER_FLG_WEAK`: the requirement is weak (the loader only warns if it is missing).
    pub weak: bool,
    /// The version index that `DT_VERSYM` entries use for it.
    pub index: u16,
}

/// One version this file defines (`Elf_Verdef`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionDef {
    /// The version index that `DT_VERSYM` entries use for it.
    pub index: u16,
    /// The version name (for the base definition, the file's soname).
    pub name: SymbolVersion,
    /// `VER_FLG_BASE`: the definition of the file itself, not a symbol version.
    pub base: bool,
    /// `VER_FLG_WEAK`.
    pub weak: bool,
    /// The versions this one inherits from.
    pub parents: Vec<SymbolVersion>,
}

/// A `DT_VERNEED` entry before its names are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawNeed {
    file: u64,
    aux: Vec<(u64, u16, u16)>,
}

/// A `DT_VERDEF` entry before its names are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawDef {
    flags: u16,
    index: u16,
    names: Vec<u64>,
}

/// Reads the chain of `Elf_Verneed` records at file offset `start`.
pub(crate) fn read_needs<V: View + ?Sized>(
    v: &V,
    rd: Rd,
    start: u64,
    count: Option<u64>,
) -> Result<Vec<RawNeed>, Stop> {
    const WHAT: &str = "version needs (DT_VERNEED)";
    let mut out = Vec::new();
    let mut records = 0usize;
    let mut off = start;
    loop {
        if count.is_some_and(|c| out.len() as u64 >= c) {
            break;
        }
        records += 1;
        if records > MAX_RECORDS {
            return Err(ElfError::Loop { what: WHAT }.into());
        }
        let e = bytes_hint(v, off, 16, CHAIN_HINT, WHAT)?;
        let (cnt, file, aux, next) = (rd.u16(e, 2), rd.u32(e, 4), rd.u32(e, 8), rd.u32(e, 12));
        let mut need = RawNeed {
            file: u64::from(file),
            aux: Vec::new(),
        };
        let mut a = off.saturating_add(u64::from(aux));
        for _ in 0..cnt {
            records += 1;
            if records > MAX_RECORDS {
                return Err(ElfError::Loop { what: WHAT }.into());
            }
            let x = bytes_hint(v, a, 16, CHAIN_HINT, WHAT)?;
            let (flags, other, name, anext) =
                (rd.u16(x, 4), rd.u16(x, 6), rd.u32(x, 8), rd.u32(x, 12));
            need.aux.push((u64::from(name), flags, other));
            if anext == 0 {
                break;
            }
            a = a.saturating_add(u64::from(anext));
        }
        out.push(need);
        if next == 0 {
            break;
        }
        off = off.saturating_add(u64::from(next));
    }
    Ok(out)
}

/// Reads the chain of `Elf_Verdef` records at file offset `start`.
pub(crate) fn read_defs<V: View + ?Sized>(
    v: &V,
    rd: Rd,
    start: u64,
    count: Option<u64>,
) -> Result<Vec<RawDef>, Stop> {
    const WHAT: &str = "version definitions (DT_VERDEF)";
    let mut out = Vec::new();
    let mut records = 0usize;
    let mut off = start;
    loop {
        if count.is_some_and(|c| out.len() as u64 >= c) {
            break;
        }
        records += 1;
        if records > MAX_RECORDS {
            return Err(ElfError::Loop { what: WHAT }.into());
        }
        let e = bytes_hint(v, off, 20, CHAIN_HINT, WHAT)?;
        let (flags, index, cnt, aux, next) = (
            rd.u16(e, 2),
            rd.u16(e, 4),
            rd.u16(e, 6),
            rd.u32(e, 12),
            rd.u32(e, 16),
        );
        let mut def = RawDef {
            flags,
            index,
            names: Vec::new(),
        };
        let mut a = off.saturating_add(u64::from(aux));
        for _ in 0..cnt {
            records += 1;
            if records > MAX_RECORDS {
                return Err(ElfError::Loop { what: WHAT }.into());
            }
            let x = bytes_hint(v, a, 8, CHAIN_HINT, WHAT)?;
            def.names.push(u64::from(rd.u32(x, 0)));
            let anext = rd.u32(x, 4);
            if anext == 0 {
                break;
            }
            a = a.saturating_add(u64::from(anext));
        }
        out.push(def);
        if next == 0 {
            break;
        }
        off = off.saturating_add(u64::from(next));
    }
    Ok(out)
}

/// The string-table offsets of the names of the version needs.
pub(crate) fn need_names(raw: &[RawNeed]) -> impl Iterator<Item = u64> + '_ {
    raw.iter()
        .flat_map(|n| std::iter::once(n.file).chain(n.aux.iter().map(|a| a.0)))
}

/// The string-table offsets of the names of the version definitions.
pub(crate) fn def_names(raw: &[RawDef]) -> impl Iterator<Item = u64> + '_ {
    raw.iter().flat_map(|d| d.names.iter().copied())
}

/// Looks up the names of the version needs.
pub(crate) fn name_needs(
    raw: &[RawNeed],
    strtab: &Names<'_>,
) -> Result<Vec<VersionNeed>, ElfError> {
    const WHAT: &str = "version needs (DT_VERNEED)";
    raw.iter()
        .map(|n| {
            Ok(VersionNeed {
                file: strtab.c_str(n.file, WHAT)?,
                versions: n
                    .aux
                    .iter()
                    .map(|&(name, flags, other)| {
                        Ok(VersionRef {
                            name: SymbolVersion::new(&strtab.c_str(name, WHAT)?),
                            weak: flags & VER_FLG_WEAK != 0,
                            index: other & 0x7fff,
                        })
                    })
                    .collect::<Result<_, ElfError>>()?,
            })
        })
        .collect()
}

/// Looks up the names of the version definitions.
pub(crate) fn name_defs(raw: &[RawDef], strtab: &Names<'_>) -> Result<Vec<VersionDef>, ElfError> {
    const WHAT: &str = "version definitions (DT_VERDEF)";
    raw.iter()
        .map(|d| {
            let mut names = d
                .names
                .iter()
                .map(|&n| Ok(SymbolVersion::new(&strtab.c_str(n, WHAT)?)))
                .collect::<Result<Vec<_>, ElfError>>()?
                .into_iter();
            let name = names.next().ok_or(ElfError::Malformed {
                what: WHAT,
                reason: "a definition has no name",
            })?;
            Ok(VersionDef {
                index: d.index & 0x7fff,
                name,
                base: d.flags & VER_FLG_BASE != 0,
                weak: d.flags & VER_FLG_WEAK != 0,
                parents: names.collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::header::{ElfClass, Endian};
    use crate::elf::strings::StrTab;

    const RD: Rd = Rd {
        endian: Endian::Little,
        class: ElfClass::Elf64,
    };

    fn need(cnt: u16, file: u32, aux: u32, next: u32) -> Vec<u8> {
        let mut b = vec![1, 0];
        b.extend_from_slice(&cnt.to_le_bytes());
        for w in [file, aux, next] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b
    }

    fn aux(flags: u16, other: u16, name: u32, next: u32) -> Vec<u8> {
        let mut b = 0u32.to_le_bytes().to_vec();
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&other.to_le_bytes());
        b.extend_from_slice(&name.to_le_bytes());
        b.extend_from_slice(&next.to_le_bytes());
        b
    }

    #[test]
    fn reads_and_names_needs() {
        let strtab = b"\0libc.so.6\0GLIBC_2.17\0GLIBC_2.2.5\0";
        let mut t = need(2, 1, 16, 0);
        t.extend(aux(0, 3, 11, 16));
        t.extend(aux(2, 0x8002, 22, 0));
        let raw = read_needs(&t[..], RD, 0, Some(1)).unwrap();
        let named = name_needs(&raw, &Names::new(StrTab::Whole(strtab))).unwrap();
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].file, "libc.so.6");
        let v: Vec<_> = named[0]
            .versions
            .iter()
            .map(|r| (r.name.as_str(), r.weak, r.index))
            .collect();
        assert_eq!(v, [("GLIBC_2.17", false, 3), ("GLIBC_2.2.5", true, 2)]);
    }

    #[test]
    fn hostile_chains_end() {
        // vn_next walking backwards through 32-bit wrap-around: out of the file.
        let mut t = need(0, 0, 16, 0xffff_fff0);
        t.extend(need(0, 0, 16, 0));
        assert!(matches!(
            read_needs(&t[..], RD, 0, None),
            Err(Stop::Error(ElfError::OutOfBounds { .. }))
        ));
        // An aux chain that points at itself forever (vna_next = 0 is the end, so a
        // self-loop is only possible through 16-byte strides) is bounded by vn_cnt.
        let mut t = need(u16::MAX, 0, 16, 0);
        for _ in 0..4 {
            t.extend(aux(0, 2, 0, 16));
        }
        assert!(matches!(
            read_needs(&t[..], RD, 0, None),
            Err(Stop::Error(ElfError::OutOfBounds { .. }))
        ));
        // A chain longer than any real one stops at the record limit.
        let t: Vec<u8> = (0..=MAX_RECORDS).flat_map(|_| need(0, 0, 0, 16)).collect();
        assert!(matches!(
            read_needs(&t[..], RD, 0, None),
            Err(Stop::Error(ElfError::Loop { .. }))
        ));
        // A name offset outside the string table.
        let raw = read_needs(&need(0, 99, 0, 0)[..], RD, 0, None).unwrap();
        assert!(name_needs(&raw, &Names::new(StrTab::Whole(b"\0"))).is_err());
    }

    #[test]
    fn reads_and_names_defs() {
        let strtab = b"\0libfoo.so.1\0FOO_1.0\0FOO_2.0\0";
        let mut t = Vec::new();
        // base definition, index 1, one aux
        for (flags, ndx, cnt, next) in [(1u16, 1u16, 1u16, 28u32), (0, 2, 1, 28), (0, 3, 2, 0)] {
            t.extend_from_slice(&1u16.to_le_bytes());
            t.extend_from_slice(&flags.to_le_bytes());
            t.extend_from_slice(&ndx.to_le_bytes());
            t.extend_from_slice(&cnt.to_le_bytes());
            t.extend_from_slice(&0u32.to_le_bytes());
            t.extend_from_slice(&20u32.to_le_bytes());
            t.extend_from_slice(&next.to_le_bytes());
            let names: &[u32] = match ndx {
                1 => &[1],
                2 => &[13],
                _ => &[21, 13],
            };
            for (i, n) in names.iter().enumerate() {
                t.extend_from_slice(&n.to_le_bytes());
                let next: u32 = if i + 1 < names.len() { 8 } else { 0 };
                t.extend_from_slice(&next.to_le_bytes());
            }
        }
        let raw = read_defs(&t[..], RD, 0, None).unwrap();
        let defs = name_defs(&raw, &Names::new(StrTab::Whole(strtab))).unwrap();
        let got: Vec<_> = defs
            .iter()
            .map(|d| (d.index, d.name.as_str(), d.base, d.parents.len()))
            .collect();
        assert_eq!(
            got,
            [
                (1, "libfoo.so.1", true, 0),
                (2, "FOO_1.0", false, 0),
                (3, "FOO_2.0", false, 1)
            ]
        );
        assert_eq!(defs[2].parents[0].as_str(), "FOO_1.0");
    }
}
