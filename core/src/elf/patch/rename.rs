//! Renaming dynamic symbols (`--rename-dynamic-symbols`), as patchelf renames them: each
//! symbol of the dynamic symbol table named as a key of the map gets the new name,
//! appended to the dynamic string table; then the hash tables the loader looks names up
//! in are rebuilt for the new names.
//!
//! A GNU hash table (`DT_GNU_HASH`) needs the symbols it covers sorted by bucket, and a
//! new name may fall in another bucket: those symbols are reordered, and with them what
//! refers to a symbol by its index, the version indices (`DT_VERSYM`) and the dynamic
//! relocations (`DT_RELA`, `DT_REL`, `DT_JMPREL`). patchelf finds the relocations through
//! the section headers; they are found here as the loader finds them, through the
//! dynamic table, so a file without section headers is renamed the same way, and a
//! relocation section the loader never reads (one against `.symtab`) is left alone.
//! Symbols keep their order within a bucket. A SysV hash table (`DT_HASH`) is rebuilt
//! over the new order.
//!
//! Refused where the symbols must be reordered, which would break them: in MIPS files
//! (their global offset table follows the symbol order, `DT_MIPS_GOTSYM`), with
//! Android's packed relocations, or with an extended section index table for the
//! dynamic symbols (`DT_SYMTAB_SHNDX`).
//!
//! Every table keeps its size and place: only the string table grows (and moves, as for
//! any added name; [`super::layout`]).

use std::collections::HashMap;

use super::super::dynamic::Dynamic;
use super::super::header::{AddressMap, ElfClass, Machine};
use super::super::read::{c_bytes, Rd};
use super::super::symbols::{self, HashEntries};
use super::edit::State;
use super::image::{whole, Image};
use super::PatchError;

const DT_PLTRELSZ: u64 = 2;
const DT_RELA: u64 = 7;
const DT_RELASZ: u64 = 8;
const DT_RELAENT: u64 = 9;
const DT_REL: u64 = 17;
const DT_RELSZ: u64 = 18;
const DT_RELENT: u64 = 19;
const DT_PLTREL: u64 = 20;
const DT_JMPREL: u64 = 23;
const DT_SYMTAB_SHNDX: u64 = 34;
const DT_ANDROID_REL: u64 = 0x6000_000f;
const DT_ANDROID_RELA: u64 = 0x6000_0011;

/// Where `st_name` is in a symbol (the first field in both classes).
const ST_NAME: usize = 0;

const SYMBOLS: &str = "dynamic symbol table";
const GNU_HASH: &str = "GNU hash table (DT_GNU_HASH)";
const HASH: &str = "hash table (DT_HASH)";
const RELOCS: &str = "dynamic relocations";

/// The GNU hash of a name (the loader's `dl_new_hash`).
pub(super) fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| {
        h.wrapping_mul(33).wrapping_add(u32::from(c))
    })
}

/// The SysV hash of a name (the gABI's `elf_hash`).
pub(super) fn sysv_hash(name: &[u8]) -> u32 {
    name.iter().fold(0u32, |h, &c| {
        let h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        (h ^ (g >> 24)) & !g
    })
}

/// The symbol tables as found, and the names each symbol will have.
struct Symbols<'a> {
    rd: Rd,
    /// File offset of the table, its entry size and count.
    at: u64,
    entsize: u64,
    count: u64,
    /// The entries' bytes.
    table: &'a [u8],
    /// The names (index 0 is the null symbol's).
    names: Vec<Vec<u8>>,
    /// File offset of the version indices.
    versym: Option<u64>,
}

/// What a renaming writes (file offset, bytes), and the symbols' names in their new
/// order.
type Renamed = (Vec<(u64, Vec<u8>)>, Vec<Vec<u8>>);

/// The writes that rename the symbols named in `map` (old name to new), with the new
/// names added to `st`'s string table; `None` when no symbol has one of those names.
/// Gives the symbols' names in their new order too, for the read-back check.
pub(super) fn writes(
    img: &Image<'_>,
    st: &mut State<'_>,
    map: &[(String, String)],
) -> Result<Option<Renamed>, PatchError> {
    let rd = img.header.rd;
    let src = img.src;
    let d = whole(
        Dynamic::read(src, rd, &img.segments[img.dyn_index]),
        "dynamic section",
    )?;
    let addr_map = AddressMap::new(&img.segments);
    let Some(symtab) = d.symtab else {
        return Ok(None);
    };
    let count = whole(
        symbols::count(src, &img.header, &addr_map, &d, u64::MAX),
        SYMBOLS,
    )?;
    let Some(raw) = whole(
        symbols::raw(src, rd, &addr_map, &d, count, u64::MAX),
        SYMBOLS,
    )?
    else {
        return Ok(None);
    };
    let (at, _) = addr_map.offset(symtab, SYMBOLS)?;
    let mut syms = Symbols {
        rd,
        at,
        entsize: raw.entsize,
        count,
        table: raw.table,
        names: Vec::with_capacity(count as usize),
        versym: match d.versym {
            Some(a) => Some(addr_map.offset(a, SYMBOLS)?.0),
            None => None,
        },
    };
    for e in raw.table.chunks_exact(raw.entsize as usize) {
        let name = c_bytes(st.base, u64::from(rd.u32(e, ST_NAME)), SYMBOLS)?;
        syms.names.push(name.to_vec());
    }
    // The new names, each added once.
    let wanted: HashMap<&[u8], &str> = map
        .iter()
        .map(|(old, new)| (old.as_bytes(), new.as_str()))
        .collect();
    let mut added: HashMap<&str, u64> = HashMap::new();
    let mut renamed: Vec<(usize, u64)> = Vec::new();
    for i in 1..syms.names.len() {
        if let Some(&new) = wanted.get(syms.names[i].as_slice()) {
            let off = match added.get(new) {
                Some(&off) => off,
                None => {
                    let off = st.add(new)?;
                    added.insert(new, off);
                    off
                }
            };
            renamed.push((i, off));
            syms.names[i] = new.as_bytes().to_vec();
        }
    }
    if renamed.is_empty() {
        return Ok(None);
    }
    // Each entry's bytes with its new name offset, in the old order.
    let ent = syms.entsize as usize;
    let mut entries: Vec<Vec<u8>> = syms.table.chunks_exact(ent).map(<[u8]>::to_vec).collect();
    let wr = super::encode::Wr(rd);
    for &(i, off) in &renamed {
        let off = u32::try_from(off).map_err(|_| PatchError::NoRoom("string table"))?;
        wr.u32(&mut entries[i], ST_NAME as u64, off)?;
    }
    let mut out = Vec::new();
    // The new order: `order[new] = old`.
    let mut order: Vec<usize> = (0..syms.count as usize).collect();
    if let Some(gnu) = d.gnu_hash {
        gnu_rebuild(img, &addr_map, gnu, &syms, &mut order, &mut out)?;
    }
    let names: Vec<Vec<u8>> = order.iter().map(|&o| syms.names[o].clone()).collect();
    let moved = order.iter().enumerate().any(|(n, &o)| n != o);
    let table: Vec<u8> = order.iter().flat_map(|&o| entries[o].clone()).collect();
    out.push((syms.at, table));
    if moved {
        if let Some(v) = syms.versym {
            let old = whole(
                super::super::read::bytes(src, v, syms.count * 2, SYMBOLS),
                SYMBOLS,
            )?;
            let new: Vec<u8> = order
                .iter()
                .flat_map(|&o| old[2 * o..2 * o + 2].to_vec())
                .collect();
            out.push((v, new));
        }
        let mut new_of = vec![0u64; order.len()];
        for (n, &o) in order.iter().enumerate() {
            new_of[o] = n as u64;
        }
        relocations(img, &addr_map, &new_of, &mut out)?;
    }
    if let Some(h) = d.hash {
        sysv_rebuild(img, &addr_map, h, &names, &mut out)?;
    }
    Ok(Some((out, names)))
}

/// The GNU hash table's fields: bucket count, first hashed symbol, bloom words, shift.
fn gnu_header(src: &[u8], rd: Rd, off: u64) -> Result<[u64; 4], PatchError> {
    let h = whole(super::super::read::bytes(src, off, 16, GNU_HASH), GNU_HASH)?;
    Ok([0, 4, 8, 12].map(|i| u64::from(rd.u32(h, i))))
}

/// Sorts the hashed symbols by the bucket of their new names (`order[new] = old`) and
/// writes the table anew: bloom filter, buckets and chains.
fn gnu_rebuild(
    img: &Image<'_>,
    map: &AddressMap,
    addr: u64,
    syms: &Symbols<'_>,
    order: &mut [usize],
    out: &mut Vec<(u64, Vec<u8>)>,
) -> Result<(), PatchError> {
    let rd = syms.rd;
    let (off, _) = map.offset(addr, GNU_HASH)?;
    let [nbuckets, first, bloom, shift] = gnu_header(img.src, rd, off)?;
    let first = first as usize;
    if nbuckets == 0 || first >= order.len() {
        return Ok(());
    }
    // A table that hashes no symbol (ld writes one, its first hashed symbol at 1, for a
    // program that exports nothing) hashes none after the renaming either: the symbols
    // after `first` are imports, which it must not cover.
    let buckets_at = off + 16 + bloom * rd.word_size();
    let old = whole(
        super::super::read::bytes(img.src, buckets_at, nbuckets * 4, GNU_HASH),
        GNU_HASH,
    )?;
    if old.iter().all(|&b| b == 0) {
        return Ok(());
    }
    let hashes: Vec<u32> = syms.names.iter().map(|n| gnu_hash(n)).collect();
    order[first..].sort_by_key(|&o| u64::from(hashes[o]) % nbuckets);
    if order.iter().enumerate().any(|(n, &o)| n != o) {
        refuse_reorder(img)?;
    }
    let c = rd.word_size() * 8;
    let mut words = vec![0u64; bloom as usize];
    let mut buckets = vec![0u32; nbuckets as usize];
    let mut chains = vec![0u32; order.len() - first];
    for (k, &o) in order[first..].iter().enumerate() {
        let h = hashes[o];
        if !words.is_empty() {
            let w = (u64::from(h) / c) as usize % words.len();
            words[w] |= 1 << (u64::from(h) % c) | 1 << (u64::from(h >> shift) % c);
        }
        let b = (u64::from(h) % nbuckets) as usize;
        if buckets[b] == 0 {
            buckets[b] = u32::try_from(first + k).map_err(|_| PatchError::NoRoom(SYMBOLS))?;
        }
        let last = order
            .get(first + k + 1)
            .is_none_or(|&next| u64::from(hashes[next]) % nbuckets != b as u64);
        chains[k] = if last { h | 1 } else { h & !1 };
    }
    let wr = super::encode::Wr(rd);
    let mut table = Vec::new();
    for w in words {
        table.extend(wr.word_bytes(w)?);
    }
    for b in buckets.into_iter().chain(chains) {
        table.extend(wr.u32_bytes(b));
    }
    out.push((off + 16, table));
    Ok(())
}

/// Refuses what a reordering of the symbols would break ([the module](self)).
fn refuse_reorder(img: &Image<'_>) -> Result<(), PatchError> {
    let why = if img.header.machine == Machine::Mips {
        Some("a MIPS file's global offset table follows the order of its symbols")
    } else if img
        .entries
        .iter()
        .any(|e| matches!(e.tag, DT_ANDROID_REL | DT_ANDROID_RELA))
    {
        Some("its relocations are packed (Android's DT_ANDROID_REL/RELA)")
    } else if img.entries.iter().any(|e| e.tag == DT_SYMTAB_SHNDX) {
        Some("its symbols have extended section indices (DT_SYMTAB_SHNDX)")
    } else {
        None
    };
    match why {
        Some(why) => Err(PatchError::CannotReorder(why)),
        None => Ok(()),
    }
}

/// The dynamic relocations' symbol indices, remapped (`new_of[old]`).
fn relocations(
    img: &Image<'_>,
    map: &AddressMap,
    new_of: &[u64],
    out: &mut Vec<(u64, Vec<u8>)>,
) -> Result<(), PatchError> {
    let rd = img.header.rd;
    let tag = |t: u64| img.entries.iter().find(|e| e.tag == t).map(|e| e.val);
    let w = rd.word_size();
    let mut tables: Vec<(u64, u64, u64)> = Vec::new();
    if let (Some(a), Some(sz)) = (tag(DT_RELA), tag(DT_RELASZ)) {
        tables.push((a, sz, tag(DT_RELAENT).unwrap_or(3 * w)));
    }
    if let (Some(a), Some(sz)) = (tag(DT_REL), tag(DT_RELSZ)) {
        tables.push((a, sz, tag(DT_RELENT).unwrap_or(2 * w)));
    }
    if let (Some(a), Some(sz)) = (tag(DT_JMPREL), tag(DT_PLTRELSZ)) {
        let ent = if tag(DT_PLTREL) == Some(DT_REL) {
            tag(DT_RELENT).unwrap_or(2 * w)
        } else {
            tag(DT_RELAENT).unwrap_or(3 * w)
        };
        tables.push((a, sz, ent));
    }
    let wr = super::encode::Wr(rd);
    for (addr, size, ent) in tables {
        if size == 0 {
            continue;
        }
        if ent < 2 * w {
            return Err(PatchError::Read(super::super::error::ElfError::Malformed {
                what: RELOCS,
                reason: "its entry size is too small",
            }));
        }
        let (off, avail) = map.offset(addr, RELOCS)?;
        if size > avail {
            return Err(super::super::error::ElfError::OutOfBounds { what: RELOCS }.into());
        }
        // Each table is remapped from the input's bytes and written whole: where two
        // overlap (`DT_JMPREL` inside `DT_RELA`), both write the same new bytes.
        let mut table = whole(
            super::super::read::bytes(img.src, off, size, RELOCS),
            RELOCS,
        )?
        .to_vec();
        let mut changed = false;
        for e in table.chunks_exact_mut(ent as usize) {
            let info = rd.word(e, w as usize);
            let (sym, rest) = match rd.class {
                ElfClass::Elf32 => (info >> 8, info & 0xff),
                ElfClass::Elf64 => (info >> 32, info & 0xffff_ffff),
            };
            let new =
                *new_of
                    .get(sym as usize)
                    .ok_or(super::super::error::ElfError::Malformed {
                        what: RELOCS,
                        reason: "a relocation names a symbol past the end of the table",
                    })?;
            if new != sym {
                let info = match rd.class {
                    ElfClass::Elf32 => new << 8 | rest,
                    ElfClass::Elf64 => new << 32 | rest,
                };
                wr.word(e, w, info)?;
                changed = true;
            }
        }
        if changed {
            out.push((off, table));
        }
    }
    Ok(())
}

/// The SysV hash table written anew for `names` (index 0, the null symbol, in no chain).
fn sysv_rebuild(
    img: &Image<'_>,
    map: &AddressMap,
    addr: u64,
    names: &[Vec<u8>],
    out: &mut Vec<(u64, Vec<u8>)>,
) -> Result<(), PatchError> {
    let e = HashEntries::of(&img.header);
    let size = e.size;
    let (off, _) = map.offset(addr, HASH)?;
    let h = whole(
        super::super::read::bytes(img.src, off, 2 * size, HASH),
        HASH,
    )?;
    let (nbucket, nchain) = (e.get(h, 0), e.get(h, 1));
    if nbucket == 0 || nchain != names.len() as u64 {
        return Err(super::super::error::ElfError::Malformed {
            what: HASH,
            reason: "its chain count is not the symbol count",
        }
        .into());
    }
    let mut buckets = vec![0u64; nbucket as usize];
    let mut chains = vec![0u64; names.len()];
    for (i, name) in names.iter().enumerate().skip(1) {
        let b = (u64::from(sysv_hash(name)) % nbucket) as usize;
        chains[i] = buckets[b];
        buckets[b] = i as u64;
    }
    let wr = super::encode::Wr(img.header.rd);
    let mut table = Vec::with_capacity((buckets.len() + chains.len()) * size as usize);
    for v in buckets.into_iter().chain(chains) {
        // (An 8-byte entry is a 64-bit file's word.)
        if size == 8 {
            table.extend(wr.word_bytes(v)?);
        } else {
            table.extend(wr.u32_bytes(v as u32));
        }
    }
    out.push((off + 2 * size, table));
    Ok(())
}

/// Whether every symbol of `bytes` is found by its name (`names`, in table order)
/// through the hash tables, as the loader looks names up (through the GNU table, the
/// symbols it covers): the read-back check of a renaming.
pub(super) fn lookups_hold(img: &Image<'_>, names: &[Vec<u8>]) -> Result<bool, PatchError> {
    let bytes = img.src;
    let rd = img.header.rd;
    let d = whole(
        Dynamic::read(bytes, rd, &img.segments[img.dyn_index]),
        "dynamic section",
    )?;
    let map = AddressMap::new(&img.segments);
    if let Some(addr) = d.gnu_hash {
        let (off, _) = map.offset(addr, GNU_HASH)?;
        let [nbuckets, first, bloom, shift] = gnu_header(bytes, rd, off)?;
        let w = rd.word_size();
        let c = w * 8;
        let buckets_at = off + 16 + bloom * w;
        let chains_at = buckets_at + nbuckets * 4;
        let read = |at: u64, len: u64| {
            whole(
                super::super::read::bytes(bytes, at, len, GNU_HASH),
                GNU_HASH,
            )
        };
        // A table with every bucket empty covers no symbol.
        let covered = if read(buckets_at, nbuckets * 4)?.iter().any(|&b| b != 0) {
            names.len()
        } else {
            0
        };
        for (i, name) in names.iter().enumerate().take(covered).skip(first as usize) {
            let h = gnu_hash(name);
            if bloom > 0 {
                let word = rd.word(read(off + 16 + (u64::from(h) / c % bloom) * w, w)?, 0);
                let bits = 1u64 << (u64::from(h) % c) | 1u64 << (u64::from(h >> shift) % c);
                if word & bits != bits {
                    return Ok(false);
                }
            }
            let b = u64::from(h) % nbuckets;
            let mut k = u64::from(rd.u32(read(buckets_at + 4 * b, 4)?, 0));
            let found = loop {
                if k < first || k as usize >= names.len() {
                    break false;
                }
                let ch = rd.u32(read(chains_at + 4 * (k - first), 4)?, 0);
                if ch | 1 == h | 1 && k as usize == i {
                    break true;
                }
                if ch & 1 == 1 {
                    break false;
                }
                k += 1;
            };
            if !found {
                return Ok(false);
            }
        }
    }
    if let Some(addr) = d.hash {
        let e = HashEntries::of(&img.header);
        let (off, _) = map.offset(addr, HASH)?;
        let read = |k: u64| -> Result<u64, PatchError> {
            let b = whole(
                super::super::read::bytes(bytes, off + k * e.size, e.size, HASH),
                HASH,
            )?;
            Ok(e.get(b, 0))
        };
        let nbucket = read(0)?;
        if nbucket == 0 || read(1)? != names.len() as u64 {
            return Ok(false);
        }
        for (i, name) in names.iter().enumerate().skip(1) {
            let mut k = read(2 + u64::from(sysv_hash(name)) % nbucket)?;
            // A chain visits each symbol once at most.
            let mut steps = 0;
            while k != 0 && k != i as u64 && steps < names.len() {
                k = read(2 + nbucket + k)?;
                steps += 1;
            }
            if k != i as u64 {
                return Ok(false);
            }
        }
    }
    Ok(true)
}
