//! Writing an edited dynamic table back: in place when it fits, otherwise into new space
//! at the end of the file that a `PT_LOAD` segment maps.
//!
//! # What goes where
//! - The dynamic table is rewritten in place when its entries and a `DT_NULL` fit in
//!   `PT_DYNAMIC` (removing entries always fits; linkers rarely leave spare slots).
//! - New strings are never squeezed into the old string table: the whole table is copied
//!   to the new space with the strings appended, so every offset into it (symbol names,
//!   version names) stays valid, and `DT_STRTAB`/`DT_STRSZ` point at the copy.
//! - The new space is mapped by extending the last `PT_LOAD` when it is a plain
//!   read-write segment that ends the file (one we made before: edits in sequence grow one
//!   segment instead of adding one each time), else by a new `PT_LOAD`. Its entry takes a
//!   `PT_NULL` slot if the table has one; in an executable, the table grows where it is
//!   when the interpreter path and notes after it can move to the new space
//!   ([`room`](super::room)); otherwise the program header table itself moves to the
//!   start of the new space, one entry longer, and `PT_PHDR` follows it.
//! - Old copies are left where they were: nothing that still points at them (a stale
//!   section header, `_DYNAMIC` in a symbol table) sees a half-edited table.
//!
//! # Addresses
//! The new segment starts at file offset `O` (the end of the file, 8-aligned) and address
//! `V`, with `O ≡ V (mod A)`, where `A` is the largest `p_align` of the `PT_LOAD`s (at
//! least 4 KiB), and above every page that an existing segment (with its `.bss`) uses.
//! For a library `V = roundup(max end, A) + O mod A`; when its program headers move, `O`
//! is also past the last file page of every segment, where glibc looks for them (see
//! [`write`]). For an executable whose program headers move, the kernel computes
//! `AT_PHDR` as `e_phoff` plus the first `PT_LOAD`'s `p_vaddr - p_offset` (before Linux
//! 5.18), so the new segment keeps that same difference, padding the file if it must:
//! up to the end of the `.bss`, which is why an executable's table grows in place when
//! it can (as patchelf's does).
//!
//! A `PT_GNU_STACK` entry asked for by the stack's flags in a file without one (glibc
//! then gives the process an executable stack, and 2.41 refuses to `dlopen` the file)
//! takes a `PT_NULL` slot the new `PT_LOAD` does not take; with none, the program header
//! table grows by it as by a new `PT_LOAD` (moved or grown in place, never by
//! extending a segment). It has patchelf's fields: `PF_R | PF_W`, `PF_X` if asked, an
//! alignment of 1, all else 0.
//!
//! A new interpreter (`--set-interpreter`) is written over the old one when it fits, with
//! `PT_INTERP`'s sizes made its own; a longer one goes at the end of the new space, which
//! the loader maps (glibc reads the name from memory, the kernel from the file).
//!
//! Section headers, when present, follow: `.dynamic` (`SHT_DYNAMIC`), `.dynstr` (the
//! allocated `SHT_STRTAB` at the old `DT_STRTAB`) and `.interp` (the allocated
//! `SHT_PROGBITS` at the old `PT_INTERP`) get their new offset, address and size.

use super::super::header::{Segment, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_NULL, PT_PHDR};
use super::edit::State;
use super::encode::{entry, fields, Wr};
use super::image::{entry_size, Image, DT_MIPS_RLD_MAP_REL, DT_NULL, DT_STRSZ, DT_STRTAB};
use super::overlay::Overlay;
use super::sections::{self, Section};
use super::{room, PatchError};
use crate::elf::{ElfClass, ElfError};

/// `PF_W | PF_R`.
const PF_RW: u32 = 6;
/// `SHT_PROGBITS`.
const SHT_PROGBITS: u32 = 1;
/// `SHT_STRTAB`.
const SHT_STRTAB: u32 = 3;
/// `SHT_DYNAMIC`.
const SHT_DYNAMIC: u32 = 6;
/// `SHF_ALLOC`.
const SHF_ALLOC: u64 = 2;
/// The most zeros written to keep an executable's `AT_PHDR` right (its `.bss` and page
/// rounding); beyond this the file is refused rather than bloated.
const MAX_PADDING: u64 = 16 << 20;
/// The smallest page size assumed for a new segment.
const MIN_PAGE: u64 = 0x1000;
/// The largest page size of a Linux system (aarch64, ppc64le, loongarch64 and mips may
/// use 64 KiB).
const MAX_PAGE: u64 = 0x10000;

fn align_up(v: u64, a: u64) -> Option<u64> {
    v.checked_add(a - 1).map(|x| x / a * a)
}

/// How the new space gets mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mapping {
    /// Extend this `PT_LOAD`.
    Extend(usize),
    /// A new `PT_LOAD` in this `PT_NULL` slot.
    NullSlot(usize),
    /// A new `PT_LOAD`, with the program header table moved into the new space.
    MovePhdrs,
    /// A new `PT_LOAD`, its entry added to the table where it is, over the notes and
    /// interpreter path that follow it, which move to the new space ([`room`]).
    GrowPhdrs,
}

/// A `PT_GNU_STACK` entry, executable or not, as patchelf adds it.
fn stack_segment(exec: bool) -> Segment {
    Segment {
        kind: PT_GNU_STACK,
        flags: PF_RW | if exec { super::flags::PF_X } else { 0 },
        offset: 0,
        vaddr: 0,
        filesz: 0,
        memsz: 0,
        align: 1,
    }
}

/// Lays the edited state, a new interpreter if given, and a new `PT_GNU_STACK` entry
/// if asked (`stack`: whether it makes the stack executable), out as writes over the
/// input; a new segment is aligned to `page` at least (`--page-size`).
pub(super) fn write(
    img: &Image<'_>,
    st: &mut State<'_>,
    interp: Option<&str>,
    stack: Option<bool>,
    page: Option<u64>,
) -> Result<Overlay, PatchError> {
    let rd = img.header.rd;
    let wr = Wr(rd);
    let f = fields(rd.class);
    let ent = entry_size(rd.class);
    let phent = u64::from(img.header.phentsize);
    let mut out = Overlay::new(img.src.len() as u64);
    let nulls: Vec<usize> = (0..img.segments.len())
        .filter(|&i| img.segments[i].kind == PT_NULL)
        .collect();
    let stack = stack.map(stack_segment);
    // The new interpreter and its NUL, with `PT_INTERP`'s index; it moves when longer.
    let interp = match interp {
        Some(path) => {
            let i = img
                .segments
                .iter()
                .position(|s| s.kind == PT_INTERP)
                .ok_or(PatchError::NoInterpreter)?;
            // The old name is overwritten where it lies: all of it must be in the file.
            let s = img.segments[i];
            if s.offset
                .checked_add(s.filesz)
                .is_none_or(|end| end > img.src.len() as u64)
            {
                return Err(ElfError::OutOfBounds {
                    what: "interpreter path (PT_INTERP)",
                }
                .into());
            }
            let mut bytes = path.as_bytes().to_vec();
            bytes.push(0);
            Some((i, bytes))
        }
        None => None,
    };
    let move_interp = interp
        .as_ref()
        .is_some_and(|(i, b)| b.len() as u64 > img.segments[*i].filesz);
    let old_interp = interp.as_ref().map(|(i, _)| img.segments[*i].vaddr);
    for (&(at, val), &(_, was)) in st.verneed.iter().zip(&img.verneed) {
        if val != was {
            let val = u32::try_from(val).map_err(|_| PatchError::NoRoom("string table"))?;
            out.put(at, &wr.u32_bytes(val))?;
        }
    }
    let move_str = !st.added.is_empty();
    if move_str {
        st.ensure_strsz();
    }
    let n = st.entries.len() as u64;
    let dseg = img.segments[img.dyn_index];
    let move_dyn = n + 1 > img.dyn_slots;
    if !move_str && !move_dyn && !move_interp && (stack.is_none() || !nulls.is_empty()) {
        write_dynamic(wr, &mut out, st, dseg.offset, dseg.vaddr, img.dyn_slots)?;
        if let Some(seg) = stack {
            let at = img.header.phoff + nulls[0] as u64 * phent;
            out.put(at, &entry(wr, &f, &vec![0; phent as usize], &seg)?)?;
        }
        if let Some((i, bytes)) = &interp {
            let s = img.segments[*i];
            let len = put_interp(&mut out, s, bytes)?;
            let at = img.header.phoff + *i as u64 * u64::from(img.header.phentsize);
            out.put(at + f.p[3], &wr.word_bytes(len)?)?;
            out.put(at + f.p[4], &wr.word_bytes(len)?)?;
            sections::update(img, wr, &f, &mut out, |sh| {
                is_interp(sh.kind, sh.flags, sh.addr, old_interp)
                    .then_some((s.offset, s.vaddr, len))
            })?;
        }
        return Ok(out);
    }

    let loads: Vec<usize> = (0..img.segments.len())
        .filter(|&i| img.segments[i].kind == PT_LOAD)
        .collect();
    let (&first, &last) = loads.first().zip(loads.last()).ok_or(PatchError::NoLoad)?;
    let page = loads
        .iter()
        .map(|&i| img.segments[i].align)
        .fold(page.unwrap_or(0).max(MIN_PAGE), u64::max);
    if !page.is_power_of_two() {
        return Err(PatchError::NoRoom(
            "address space (a segment alignment is not a power of two)",
        ));
    }
    let max_end = loads
        .iter()
        .map(|&i| img.segments[i].vaddr.checked_add(img.segments[i].memsz))
        .try_fold(0u64, |m, e| e.map(|e| m.max(e)))
        .ok_or(PatchError::NoRoom("address space"))?;
    let file_len = out.len;
    let mapping = choose(img, &loads, file_len);
    // The stack's entry takes a `PT_NULL` slot that the new `PT_LOAD` leaves; with none,
    // the table takes both entries.
    let stack_slot = stack.and_then(|_| match mapping {
        Mapping::NullSlot(i) => nulls.iter().copied().find(|&j| j != i),
        _ => nulls.first().copied(),
    });
    let stack_grows = stack.is_some() && stack_slot.is_none();
    let mapping = if stack_grows {
        Mapping::MovePhdrs
    } else {
        mapping
    };
    // Entries the table grows by, when it grows.
    let added = 1 + u64::from(stack_grows);
    // An executable's table grows where it is when what follows it can move (moved to
    // the new space, it must keep the first segment's address-to-offset difference).
    let grow = if mapping == Mapping::MovePhdrs && img.interp {
        room::to_move(img, &f, added)
    } else {
        None
    };
    let mapping = if grow.is_some() {
        Mapping::GrowPhdrs
    } else {
        mapping
    };
    let grow = grow.unwrap_or_default();
    // A new interpreter goes to the new space when the old one's place is taken; the
    // other segments that make room are copied there as they are.
    let move_interp = move_interp || interp.as_ref().is_some_and(|(i, _)| grow.contains(i));
    let copied: Vec<usize> = grow
        .iter()
        .copied()
        .filter(|&i| interp.as_ref().is_none_or(|(j, _)| *j != i))
        .collect();
    let phnum = u64::from(img.header.phnum);

    // Where the new space starts, in the file and in memory.
    let end8 = align_up(file_len, 8).ok_or(PatchError::NoRoom("file"))?;
    // Only a new mapping needs room above the highest segment: extending the last one
    // must not fail because the page after it would not fit.
    let above = || align_up(max_end, page).ok_or(PatchError::NoRoom("address space"));
    let (o, v) = match mapping {
        Mapping::Extend(i) => {
            let s = img.segments[i];
            let v = s
                .vaddr
                .checked_add(end8 - s.offset)
                .ok_or(PatchError::NoRoom("address space"))?;
            (end8, v)
        }
        Mapping::MovePhdrs if img.interp => {
            let s = img.segments[first];
            let delta = s.vaddr.wrapping_sub(s.offset);
            if delta % page != 0 {
                return Err(PatchError::NoRoom(
                    "address space (the first segment is not page-aligned)",
                ));
            }
            // The first segment's address is at least `delta`, so `above` is too.
            let o = end8.max(above()?.saturating_sub(delta));
            if o - end8 > MAX_PADDING {
                return Err(PatchError::NoRoom(
                    "file (the executable's .bss would need more than 16 MiB of padding)",
                ));
            }
            (
                o,
                o.checked_add(delta)
                    .ok_or(PatchError::NoRoom("address space"))?,
            )
        }
        Mapping::MovePhdrs => {
            // glibc finds a library's program headers (it has no `PT_PHDR`) in the first
            // `PT_LOAD` whose pages, read from the file, hold them: beside the last page
            // of the data segment they would be found there, in its `.bss`, zeroed.
            // They go past every page an earlier segment maps from the file, at the
            // largest page size a system of the machine may use (the segments' own
            // alignment, 64 KiB at most).
            let g = page.min(MAX_PAGE);
            let ends = loads
                .iter()
                .map(|&i| img.segments[i].offset.checked_add(img.segments[i].filesz))
                .try_fold(0u64, |m, e| e.map(|e| m.max(e)))
                .ok_or(PatchError::NoRoom("file"))?;
            let o = end8.max(align_up(ends, g).ok_or(PatchError::NoRoom("file"))?);
            (o, above()? + o % page)
        }
        Mapping::NullSlot(_) | Mapping::GrowPhdrs => (end8, above()? + end8 % page),
    };

    // The new space: [program headers][dynamic table][string table].
    let mut cur = o;
    let phdr_at = cur;
    if mapping == Mapping::MovePhdrs {
        cur += (phnum + added) * phent;
    }
    let dyn_at = if move_dyn {
        cur = align_up(cur, 8).ok_or(PatchError::NoRoom("file"))?;
        let at = cur;
        cur += (n + 1) * ent;
        at
    } else {
        dseg.offset
    };
    let str_at = cur;
    let str_len = (st.base.len() + st.added.len()) as u64;
    if move_str {
        cur += str_len;
    }
    let interp_at = cur;
    if move_interp {
        cur += interp.as_ref().map_or(0, |(_, b)| b.len() as u64);
    }
    // The segments copied to make room, placed after it.
    let placed = room::place(img, &copied, cur);
    cur = placed.end;
    let end = cur;
    // Every address in the new space is at most the end's, so checking the end suffices.
    let addr = |off: u64| v + (off - o);
    let top = v.checked_add(end - o);
    if usize::try_from(end).is_err()
        || top.is_none_or(|t| rd.class == ElfClass::Elf32 && t > u64::from(u32::MAX))
    {
        return Err(PatchError::NoRoom("address space"));
    }
    out.grow(end);
    for (from, to) in &placed.runs {
        out.copy(*to, from.clone())?;
    }

    if move_str {
        for e in &mut st.entries {
            match e.tag {
                DT_STRTAB => e.val = addr(str_at),
                DT_STRSZ => e.val = str_len,
                _ => {}
            }
        }
        let from = img.strtab.map_or(0, |t| t.offset);
        out.copy(str_at, from..from + st.base.len() as u64)?;
        out.put(str_at + st.base.len() as u64, &st.added)?;
    }
    let (dyn_addr, slots) = if move_dyn {
        (addr(dyn_at), n + 1)
    } else {
        (dseg.vaddr, img.dyn_slots)
    };
    write_dynamic(wr, &mut out, st, dyn_at, dyn_addr, slots)?;

    // Program headers: PT_DYNAMIC, the segment mapping the new space, PT_PHDR.
    let mut segs = img.segments.clone();
    let mut raws: Vec<Vec<u8>> = (0..phnum)
        .map(|i| {
            let at = (img.header.phoff + i * phent) as usize;
            img.src[at..at + phent as usize].to_vec()
        })
        .collect();
    if move_dyn {
        let d = &mut segs[img.dyn_index];
        (d.offset, d.vaddr, d.filesz, d.memsz) = (dyn_at, dyn_addr, slots * ent, slots * ent);
    }
    // Where the interpreter ends up: (offset, address, size).
    let mut interp_place = None;
    if let Some((i, bytes)) = &interp {
        let s = &mut segs[*i];
        if move_interp {
            out.put(interp_at, bytes)?;
            (s.offset, s.vaddr) = (interp_at, addr(interp_at));
            (s.filesz, s.memsz) = (bytes.len() as u64, bytes.len() as u64);
        } else {
            let len = put_interp(&mut out, *s, bytes)?;
            (s.filesz, s.memsz) = (len, len);
        }
        interp_place = Some((s.offset, s.vaddr, s.filesz));
    }
    for &(i, at) in &placed.segments {
        (segs[i].offset, segs[i].vaddr) = (at, addr(at));
    }
    if let (Some(seg), Some(j)) = (stack, stack_slot) {
        (segs[j], raws[j]) = (seg, vec![0; phent as usize]);
    }
    let new = Segment {
        kind: PT_LOAD,
        flags: PF_RW,
        offset: o,
        vaddr: v,
        filesz: end - o,
        memsz: end - o,
        align: page,
    };
    match mapping {
        Mapping::Extend(i) => {
            segs[i].filesz = end - segs[i].offset;
            segs[i].memsz = segs[i].filesz;
        }
        Mapping::NullSlot(i) => {
            // The new PT_LOAD goes after the last one: loads stay sorted by address.
            let raw = raws.remove(i);
            segs.remove(i);
            let at = if i < last { last } else { last + 1 };
            raws.insert(at, raw);
            segs.insert(at, new);
        }
        Mapping::MovePhdrs | Mapping::GrowPhdrs => {
            raws.insert(last + 1, vec![0; phent as usize]);
            segs.insert(last + 1, new);
            if let Some(seg) = stack.filter(|_| stack_grows) {
                raws.push(vec![0; phent as usize]);
                segs.push(seg);
            }
            let size = (phnum + added) * phent;
            for s in segs.iter_mut().filter(|s| s.kind == PT_PHDR) {
                (s.filesz, s.memsz) = (size, size);
                if mapping == Mapping::MovePhdrs {
                    (s.offset, s.vaddr) = (phdr_at, v);
                }
            }
        }
    }
    let table_at = if mapping == Mapping::MovePhdrs {
        phdr_at
    } else {
        img.header.phoff
    };
    let mut table = Vec::with_capacity(raws.len() * phent as usize);
    for (s, raw) in segs.iter().zip(&raws) {
        table.extend_from_slice(&entry(wr, &f, raw, s)?);
    }
    out.put(table_at, &table)?;
    if matches!(mapping, Mapping::MovePhdrs | Mapping::GrowPhdrs) {
        let count = u16::try_from(phnum + added)
            .ok()
            .filter(|&c| c < 0xffff)
            .ok_or(PatchError::TooManySegments)?;
        if mapping == Mapping::MovePhdrs {
            out.put(f.e_phoff, &wr.word_bytes(phdr_at)?)?;
        }
        out.put(f.e_phnum, &wr.u16_bytes(count))?;
    }
    let old_str = img.strtab.map(|s| s.addr);
    // A section inside a segment that was copied to make room: where its copy is.
    let copy_of = |s: &Section| {
        let r = s.file_range();
        placed.segments.iter().find_map(|&(i, at)| {
            let g = img.segments[i];
            (r.start < r.end && g.offset <= r.start && r.end <= g.offset + g.filesz).then(|| {
                let off = at + (r.start - g.offset);
                (off, addr(off), s.size)
            })
        })
    };
    sections::update(img, wr, &f, &mut out, |s| {
        if s.kind == SHT_DYNAMIC && move_dyn {
            Some((dyn_at, dyn_addr, slots * ent))
        } else if s.kind == SHT_STRTAB
            && s.flags & SHF_ALLOC != 0
            && move_str
            && Some(s.addr) == old_str
        {
            Some((str_at, addr(str_at), str_len))
        } else if is_interp(s.kind, s.flags, s.addr, old_interp) {
            interp_place
        } else {
            copy_of(s)
        }
    })?;
    Ok(out)
}

/// Writes a new interpreter over the old one (`s`, which it fits), zeroing the rest of
/// the old; gives its size.
fn put_interp(out: &mut Overlay, s: Segment, bytes: &[u8]) -> Result<u64, PatchError> {
    let mut fill = bytes.to_vec();
    fill.resize(
        usize::try_from(s.filesz)
            .unwrap_or(bytes.len())
            .max(bytes.len()),
        0,
    );
    out.put(s.offset, &fill)?;
    Ok(bytes.len() as u64)
}

/// Whether a section header is `.interp`: allocated program bits where `PT_INTERP` was.
fn is_interp(kind: u32, flags: u64, sh_addr: u64, old: Option<u64>) -> bool {
    kind == SHT_PROGBITS && flags & SHF_ALLOC != 0 && Some(sh_addr) == old
}

/// Picks how to map the new space.
fn choose(img: &Image<'_>, loads: &[usize], file_len: u64) -> Mapping {
    if let Some(&i) = loads.last() {
        let s = img.segments[i];
        let highest = loads.iter().all(|&j| img.segments[j].vaddr <= s.vaddr);
        if highest
            && s.flags == PF_RW
            && s.memsz == s.filesz
            && s.offset.checked_add(s.filesz) == Some(file_len)
        {
            return Mapping::Extend(i);
        }
    }
    match img.segments.iter().position(|s| s.kind == PT_NULL) {
        Some(i) => Mapping::NullSlot(i),
        None => Mapping::MovePhdrs,
    }
}

/// Writes the entries and `DT_NULL` padding to `slots` entries at `at`.
fn write_dynamic(
    wr: Wr,
    out: &mut Overlay,
    st: &State<'_>,
    at: u64,
    addr: u64,
    slots: u64,
) -> Result<(), PatchError> {
    let ent = entry_size(wr.0.class);
    let w = wr.0.word_size();
    let mut table = vec![0; (slots * ent) as usize];
    for i in 0..slots {
        let e_at = i * ent;
        let (tag, val) = match st.entries.get(i as usize) {
            Some(e) if e.tag == DT_MIPS_RLD_MAP_REL => {
                let here = addr + i * ent;
                (
                    e.tag,
                    e.was_at
                        .map_or(e.val, |was| e.val.wrapping_add(was).wrapping_sub(here)),
                )
            }
            Some(e) => (e.tag, e.val),
            None => (DT_NULL, 0),
        };
        let mask = if wr.0.class == ElfClass::Elf32 {
            u64::from(u32::MAX)
        } else {
            u64::MAX
        };
        wr.word(&mut table, e_at, tag)?;
        wr.word(&mut table, e_at + w, val & mask)?;
    }
    out.put(at, &table)
}
