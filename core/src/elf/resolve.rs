//! The reader proper: from a [`View`] of the file to an [`ElfInfo`], or to the list of byte
//! ranges still missing.
//!
//! The order follows the file's own pointers: file header → program headers →
//! `PT_INTERP`, the note segments and `PT_DYNAMIC` → through the dynamic table's addresses,
//! mapped by the `PT_LOAD` segments, the string table, the version needs and definitions,
//! the hash table (for the symbol count), the symbol table and the version indices. Parts
//! that do not depend on each other are all attempted, so one round reports every range
//! that can be known to be missing.

use std::ops::Range;

use super::dynamic::Dynamic;
use super::error::ElfError;
use super::header::{linux_arch, AddressMap, Header, Machine, Segment, PT_DYNAMIC, PT_INTERP};
use super::note::{isa_level, note_segments};
use super::read::{bytes, c_str, Gap, Rd, Stop, View};
use super::strings::{Names, StrTab, StringWants, STRTAB};
use super::symbols::{self, RawSymbols};
use super::version_needs::{
    def_names, name_defs, name_needs, need_names, read_defs, read_needs, RawDef, RawNeed,
};
use super::{ElfInfo, Options};

/// What one round of reading found.
#[derive(Debug)]
pub(crate) enum Resolution {
    /// Everything.
    Done(Box<ElfInfo>),
    /// These bytes are missing.
    Pending(Vec<Gap>),
}

/// Interpreter paths longer than this are not read.
const MAX_INTERP: u64 = 4096;

/// Turns a gap into "not yet", keeping errors.
fn soft<T>(gaps: &mut Vec<Gap>, r: Result<T, Stop>) -> Result<Option<T>, ElfError> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(Stop::Gap(g)) => {
            gaps.push(g);
            Ok(None)
        }
        Err(Stop::Error(e)) => Err(e),
    }
}

/// The path `PT_INTERP` names (the patcher reads it through here too).
pub(super) fn interpreter<V: View + ?Sized>(v: &V, seg: &Segment) -> Result<String, Stop> {
    const WHAT: &str = "interpreter path (PT_INTERP)";
    let b = bytes(v, seg.offset, seg.filesz.min(MAX_INTERP), WHAT)?;
    Ok(c_str(b, 0, WHAT)?)
}

/// The most bytes asked for a table whose length is not known yet.
const MAX_SPECULATION: u64 = 64 << 20;

/// While the symbol count is missing (its hash table is), asks for the symbol and
/// version-index tables too, so that a later pass gets them with the hash table instead
/// of needing one more pass of its own. Tables do not overlap, so each has at most the
/// room up to the next table (or the end of its segment), and each room bounds the
/// symbol count: the symbol table's is not all table when patchelf left the old string
/// table after it (paddlepaddle's libpaddle.so: 25 MB of it), the version indices' then
/// says how many there are.
fn speculate<V: View + ?Sized>(v: &V, rd: Rd, map: &AddressMap, d: &Dynamic, gaps: &mut Vec<Gap>) {
    let starts: Vec<u64> = [
        d.strtab, d.symtab, d.versym, d.verneed, d.verdef, d.hash, d.gnu_hash,
    ]
    .into_iter()
    .flatten()
    .filter_map(|a| map.offset(a, "table").ok().map(|(off, _)| off))
    .collect();
    let room = |addr: u64| {
        let (off, avail) = map.offset(addr, "table").ok()?;
        let end = starts
            .iter()
            .copied()
            .filter(|&s| s > off)
            .fold(off.saturating_add(avail), u64::min)
            .min(v.total_len());
        (end > off).then(|| (off, end - off))
    };
    let min = symbols::min_entsize(rd);
    let entsize = d.syment.unwrap_or(min).max(min);
    let sym = d.symtab.and_then(room);
    let ver = d.versym.and_then(room);
    let bounds = [sym.map(|(_, r)| r / entsize), ver.map(|(_, r)| r / 2)];
    let Some(n) = bounds.into_iter().flatten().min() else {
        return;
    };
    for (table, size) in [(sym, n.saturating_mul(entsize)), (ver, n.saturating_mul(2))] {
        let Some((off, _)) = table else {
            continue;
        };
        let end = off.saturating_add(size);
        if size > 0 && size <= MAX_SPECULATION && v.held(off, end).is_none() {
            gaps.push(Gap {
                need: off..end,
                want: off..end,
                strings: None,
            });
        }
    }
}

/// The gap for a missing string table: only the names the reader will look up, when
/// the view allows it and every table that names them is held; otherwise all of it.
#[allow(clippy::too_many_arguments)]
fn strtab_gap<V: View + ?Sized>(
    v: &V,
    opts: &Options,
    d: &Dynamic,
    table: Range<u64>,
    needs: Option<&[RawNeed]>,
    defs: Option<&[RawDef]>,
    syms: Option<&Option<RawSymbols<'_>>>,
    rd: Rd,
) -> Gap {
    let len = table.end - table.start;
    let names = match (needs, defs, syms) {
        (Some(needs), Some(defs), Some(syms))
            if v.keeps_names()
                && len >= opts.names_from
                && u32::try_from(len).is_ok()
                // Every name is needed when every symbol is.
                && (opts.defined_prefixes.is_some() || !opts.symbols) =>
        {
            let fixed = d
                .needed
                .iter()
                .copied()
                .chain(d.soname)
                .chain(d.rpath)
                .chain(d.runpath);
            let versions = need_names(needs).chain(def_names(defs));
            let mut offsets: Vec<(u64, bool)> = fixed.chain(versions).map(|o| (o, false)).collect();
            if let Some(raw) = syms {
                offsets.extend(symbols::name_offsets(
                    raw,
                    rd,
                    opts.defined_prefixes.is_some(),
                ));
            }
            Some(Box::new(StringWants::new(table.clone(), offsets)))
        }
        _ => None,
    };
    Gap {
        need: table.clone(),
        want: table,
        strings: names,
    }
}

/// Reads as much as the view holds.
pub(crate) fn resolve<V: View + ?Sized>(v: &V, opts: &Options) -> Result<Resolution, ElfError> {
    let mut gaps = Vec::new();
    let Some(header) = soft(&mut gaps, Header::read(v))? else {
        return Ok(Resolution::Pending(gaps));
    };
    let Some(segments) = soft(&mut gaps, header.segments(v))? else {
        return Ok(Resolution::Pending(gaps));
    };
    let rd = header.rd;
    let mut info = ElfInfo {
        class: rd.class,
        endian: rd.endian,
        os_abi: header.os_abi,
        file_type: header.file_type,
        machine: header.machine,
        flags: header.flags,
        arch: linux_arch(header.machine, rd.class, rd.endian, header.flags),
        isa: None,
        interpreter: None,
        dynamic: false,
        soname: None,
        needed: Vec::new(),
        rpath: None,
        runpath: None,
        version_needs: Vec::new(),
        version_defs: Vec::new(),
        symbols: Vec::new(),
    };
    if let Some(seg) = segments.iter().find(|s| s.kind == PT_INTERP) {
        info.interpreter = soft(&mut gaps, interpreter(v, seg))?;
    }
    if matches!(header.machine, Machine::X86 | Machine::X86_64) {
        for seg in note_segments(&segments) {
            if let Some(Some(level)) = soft(&mut gaps, isa_level(v, rd, &seg))? {
                info.isa = Some(level);
                break;
            }
        }
    }
    let Some(dseg) = segments.iter().find(|s| s.kind == PT_DYNAMIC) else {
        return Ok(if gaps.is_empty() {
            Resolution::Done(Box::new(info))
        } else {
            Resolution::Pending(gaps)
        });
    };
    info.dynamic = true;
    let Some(d) = soft(&mut gaps, Dynamic::read(v, rd, dseg))? else {
        return Ok(Resolution::Pending(gaps));
    };
    let map = AddressMap::new(&segments);

    // The string table: whole, or the names a scan kept of it; when it is missing, it
    // is asked for below, once it is known whether its names can be.
    let mut missing_strtab = None;
    let strtab = match d.strtab {
        Some(addr) => {
            let (off, avail) = map.offset(addr, STRTAB)?;
            let len = d.strsz.unwrap_or(avail);
            // A table that cannot fit in the file is damage, not a limit to raise.
            let Some(end) = off.checked_add(len).filter(|&e| e <= v.total_len()) else {
                return Err(ElfError::OutOfBounds { what: STRTAB });
            };
            if len > opts.max_table {
                return Err(ElfError::TooLarge {
                    what: STRTAB,
                    size: len,
                    limit: opts.max_table,
                });
            }
            let table = off..end;
            if let Some(b) = v.held(off, end) {
                Some(StrTab::Whole(b))
            } else if let Some(k) = v.kept_strings(&table) {
                Some(StrTab::Kept(k))
            } else {
                missing_strtab = Some(table);
                None
            }
        }
        None => Some(StrTab::Whole(&[])),
    };
    let needs = match d.verneed {
        Some(addr) => {
            let (off, _) = map.offset(addr, "version needs (DT_VERNEED)")?;
            soft(&mut gaps, read_needs(v, rd, off, d.verneednum))?
        }
        None => Some(Vec::new()),
    };
    let defs = match d.verdef {
        Some(addr) => {
            let (off, _) = map.offset(addr, "version definitions (DT_VERDEF)")?;
            soft(&mut gaps, read_defs(v, rd, off, d.verdefnum))?
        }
        None => Some(Vec::new()),
    };
    let syms = if opts.symbols && d.symtab.is_some() {
        if let Some(n) = soft(
            &mut gaps,
            symbols::count(v, &header, &map, &d, opts.max_table),
        )? {
            soft(&mut gaps, symbols::raw(v, rd, &map, &d, n, opts.max_table))?
        } else {
            speculate(v, rd, &map, &d, &mut gaps);
            None
        }
    } else {
        Some(None)
    };

    if let Some(table) = missing_strtab {
        gaps.push(strtab_gap(
            v,
            opts,
            &d,
            table,
            needs.as_deref(),
            defs.as_deref(),
            syms.as_ref(),
            rd,
        ));
    }
    let (Some(strtab), Some(needs), Some(defs), Some(syms)) = (strtab, needs, defs, syms) else {
        return Ok(Resolution::Pending(gaps));
    };
    if !gaps.is_empty() {
        return Ok(Resolution::Pending(gaps));
    }
    let strtab = Names::new(strtab);
    let name = |off: u64| strtab.c_str(off, "dynamic section");
    info.needed = d
        .needed
        .iter()
        .map(|&o| name(o))
        .collect::<Result<_, _>>()?;
    info.soname = d.soname.map(name).transpose()?;
    info.rpath = d.rpath.map(name).transpose()?;
    info.runpath = d.runpath.map(name).transpose()?;
    info.version_needs = name_needs(&needs, &strtab)?;
    info.version_defs = name_defs(&defs, &strtab)?;
    if let Some(raw) = syms {
        info.symbols = symbols::named(
            &raw,
            rd,
            &strtab,
            &info.version_needs,
            &info.version_defs,
            opts.defined_prefixes,
        )?;
    }
    Ok(Resolution::Done(Box::new(info)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::header::{ElfClass, Endian, PT_LOAD};

    /// A file of which nothing is held.
    struct Len(u64);
    impl View for Len {
        fn total_len(&self) -> u64 {
            self.0
        }
        fn held(&self, _: u64, _: u64) -> Option<&[u8]> {
            None
        }
    }

    /// The symbol table is followed by 25 MB that are no table (the string table
    /// patchelf left behind), then the version indices: the count their room gives
    /// bounds what is asked for the symbols.
    #[test]
    fn speculation_is_bounded_by_either_table() {
        let load = Segment {
            kind: PT_LOAD,
            flags: 4,
            offset: 0,
            vaddr: 0,
            filesz: 100 << 20,
            memsz: 100 << 20,
            align: 0x1000,
        };
        let map = AddressMap::new(&[load]);
        let rd = Rd {
            endian: Endian::Little,
            class: ElfClass::Elf64,
        };
        let (symtab, n) = (0x1000u64, 1000u64);
        let versym = symtab + n * 24 + (25 << 20);
        let d = Dynamic {
            symtab: Some(symtab),
            versym: Some(versym),
            verneed: Some(versym + n * 2),
            ..Dynamic::default()
        };
        let mut gaps = Vec::new();
        speculate(&Len(100 << 20), rd, &map, &d, &mut gaps);
        let asked: Vec<_> = gaps.iter().map(|g| g.need.clone()).collect();
        assert_eq!(asked, [symtab..symtab + n * 24, versym..versym + n * 2]);
        // Without version indices, the symbol table's room is all there is to go by.
        let d = Dynamic { versym: None, ..d };
        gaps.clear();
        speculate(&Len(100 << 20), rd, &map, &d, &mut gaps);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].need.start, symtab);
        assert!(gaps[0].need.end > versym);
    }
}
