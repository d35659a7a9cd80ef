//! Removing symbols and debug information from an ELF file, as `strip -s`
//! (`--strip-all`) does, which auditwheel runs on grafted libraries for `repair --strip`.
//!
//! Only sections that no segment maps can go: `.symtab`, non-allocated `.strtab`, and
//! `.debug*`/`.zdebug*`/`.stab*`/`.gnu.debuglto_*`. Everything the loader reads stays
//! byte for byte where it is; the kept non-allocated sections (`.comment`, `.shstrtab`,
//! `.gnu_debuglink`, …) are packed after the last segment, then a new section header
//! table, with `sh_link`/`sh_info` renumbered. A removed section with a segment after
//! it (patchelf adds one at the end of the file) cannot be cut out without moving that
//! segment: its bytes are zeroed, which a wheel's deflate takes to almost nothing.
//! Written here (not with `object`'s builder) because it must never move what is
//! mapped.

use super::error::ElfError;

const SHF_ALLOC: u64 = 0x2;
const SHF_INFO_LINK: u64 = 0x40;
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
const SHT_NOBITS: u32 = 8;
const SHT_REL: u32 = 9;
const SHT_RELA: u32 = 4;

#[derive(Clone, Copy)]
struct Layout {
    is_64: bool,
    big: bool,
}

impl Layout {
    fn get(self, b: &[u8], at: usize, size: usize) -> Result<u64, ElfError> {
        let s = b
            .get(at..at.saturating_add(size))
            .ok_or(ElfError::OutOfBounds { what: "ELF header" })?;
        let mut v = 0u64;
        for i in 0..size {
            let byte = if self.big { s[i] } else { s[size - 1 - i] };
            v = (v << 8) | u64::from(byte);
        }
        Ok(v)
    }
    fn put(self, b: &mut [u8], at: usize, size: usize, v: u64) {
        for i in 0..size {
            let shift = 8 * if self.big { size - 1 - i } else { i };
            b[at + i] = (v >> shift) as u8;
        }
    }
    fn word(self) -> usize {
        if self.is_64 {
            8
        } else {
            4
        }
    }
}

struct Section {
    header: Vec<u8>,
    name: String,
    kind: u32,
    flags: u64,
    offset: u64,
    size: u64,
    align: u64,
}

fn c_name(strtab: &[u8], at: u64) -> String {
    let Some(rest) = usize::try_from(at).ok().and_then(|a| strtab.get(a..)) else {
        return String::new();
    };
    let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end]).into_owned()
}

/// Zeroes the bytes of `out` in `range` that no range of `covered` (sorted by start)
/// holds.
fn zero_uncovered(out: &mut [u8], range: (u64, u64), covered: &[(u64, u64)]) {
    let len = out.len() as u64;
    let (mut at, to) = (range.0.min(len), range.1.min(len));
    let mut zero = |from: u64, to: u64| out[from as usize..to as usize].fill(0);
    for &(start, end) in covered {
        if at >= to || start >= to {
            break;
        }
        if start > at {
            zero(at, start);
        }
        at = at.max(end);
    }
    if at < to {
        zero(at, to);
    }
}

fn removable(s: &Section, index: usize, shstrndx: usize) -> bool {
    if s.flags & SHF_ALLOC != 0 || index == shstrndx {
        return false;
    }
    s.kind == SHT_SYMTAB
        || s.kind == SHT_STRTAB
        || [".debug", ".zdebug", ".stab", ".gnu.debuglto_"]
            .iter()
            .any(|p| s.name.starts_with(p))
}

/// Returns the file without its symbol table and debug sections; a file that has none
/// comes back unchanged.
pub fn strip_all(elf: &[u8]) -> Result<Vec<u8>, ElfError> {
    if elf.len() < 52 || &elf[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    let l = Layout {
        is_64: elf[4] == 2,
        big: elf[5] == 2,
    };
    let w = l.word();
    let (phoff, shoff) = (l.get(elf, 0x18 + w, w)?, l.get(elf, 0x18 + 2 * w, w)?);
    let base = 0x18 + 3 * w + 4; // after e_flags
    let phentsize = l.get(elf, base + 2, 2)? as usize;
    let phnum = l.get(elf, base + 4, 2)? as usize;
    let shentsize = l.get(elf, base + 6, 2)? as usize;
    let shnum = l.get(elf, base + 8, 2)? as usize;
    let shstrndx = l.get(elf, base + 10, 2)? as usize;
    if shoff == 0 || shnum == 0 {
        return Ok(elf.to_vec()); // no section headers: nothing to strip
    }
    if shstrndx >= shnum || shentsize < if l.is_64 { 64 } else { 40 } {
        return Err(ElfError::Malformed {
            what: "section header table",
            reason: "its string table index or entry size is out of range",
        });
    }
    // Everything a segment maps stays where it is, and so do the headers.
    let mut mapped_end = 0u64;
    let table = |off: u64, n: usize, size: usize| (off, off.saturating_add((n * size) as u64));
    let mut covered = vec![
        (0, if l.is_64 { 64 } else { 52 }),
        table(phoff, phnum, phentsize),
    ];
    for i in 0..phnum {
        let p = usize::try_from(phoff)
            .unwrap_or(usize::MAX)
            .saturating_add(i * phentsize);
        let (off, filesz) = if l.is_64 {
            (
                l.get(elf, p.saturating_add(8), 8)?,
                l.get(elf, p.saturating_add(32), 8)?,
            )
        } else {
            (
                l.get(elf, p.saturating_add(4), 4)?,
                l.get(elf, p.saturating_add(16), 4)?,
            )
        };
        mapped_end = mapped_end.max(off.saturating_add(filesz));
        covered.push((off, off.saturating_add(filesz)));
    }
    let mut sections = Vec::with_capacity(shnum);
    for i in 0..shnum {
        let at = usize::try_from(shoff)
            .unwrap_or(usize::MAX)
            .saturating_add(i * shentsize);
        let header = elf
            .get(at..at.saturating_add(shentsize))
            .ok_or(ElfError::OutOfBounds {
                what: "section header table",
            })?
            .to_vec();
        let (flags, offset, size, align) = if l.is_64 {
            (
                l.get(&header, 8, 8)?,
                l.get(&header, 24, 8)?,
                l.get(&header, 32, 8)?,
                l.get(&header, 48, 8)?,
            )
        } else {
            (
                l.get(&header, 8, 4)?,
                l.get(&header, 16, 4)?,
                l.get(&header, 20, 4)?,
                l.get(&header, 32, 4)?,
            )
        };
        sections.push(Section {
            name: String::new(),
            kind: l.get(&header, 4, 4)? as u32,
            header,
            flags,
            offset,
            size,
            align,
        });
    }
    let shstr = &sections[shstrndx];
    let names = elf
        .get(shstr.offset as usize..shstr.offset.saturating_add(shstr.size) as usize)
        .ok_or(ElfError::OutOfBounds {
            what: "section name table",
        })?
        .to_vec();
    for s in &mut sections {
        s.name = c_name(&names, l.get(&s.header, 0, 4)?);
    }
    let keep: Vec<bool> = sections
        .iter()
        .enumerate()
        .map(|(i, s)| i == 0 || !removable(s, i, shstrndx))
        .collect();
    if keep.iter().all(|&k| k) {
        return Ok(elf.to_vec());
    }
    let mut new_index = vec![0usize; shnum];
    let mut n = 0;
    for (i, &k) in keep.iter().enumerate() {
        if k {
            new_index[i] = n;
            n += 1;
        }
    }
    // Mapped bytes (and allocated sections, even past the last segment's file size).
    let mut end = mapped_end;
    for (s, &k) in sections.iter().zip(&keep) {
        if k && s.flags & SHF_ALLOC != 0 && s.kind != SHT_NOBITS {
            end = end.max(s.offset.saturating_add(s.size));
        }
    }
    // The file header always stays, even in a file no segment maps.
    let end = end.max(if l.is_64 { 64 } else { 52 });
    let end = usize::try_from(end)
        .ok()
        .filter(|&e| e <= elf.len())
        .ok_or(ElfError::OutOfBounds {
            what: "last segment",
        })?;
    let mut out = elf[..end].to_vec();
    covered.extend(
        sections
            .iter()
            .zip(&keep)
            .filter(|(s, &k)| k && s.flags & SHF_ALLOC != 0 && s.kind != SHT_NOBITS)
            .map(|(s, _)| (s.offset, s.offset.saturating_add(s.size))),
    );
    covered.sort_unstable();
    for (s, _) in sections
        .iter()
        .zip(&keep)
        .filter(|(s, &k)| !k && s.kind != SHT_NOBITS)
    {
        zero_uncovered(
            &mut out,
            (s.offset, s.offset.saturating_add(s.size)),
            &covered,
        );
    }
    let mut headers: Vec<Vec<u8>> = Vec::with_capacity(n);
    for (i, (s, &k)) in sections.iter().zip(&keep).enumerate() {
        if !k {
            continue;
        }
        let mut h = s.header.clone();
        let offset_field = if l.is_64 { 24 } else { 16 };
        if i != 0 && s.flags & SHF_ALLOC == 0 && s.kind != SHT_NOBITS && s.size > 0 {
            // Alignments are small powers of two; anything else is a hostile header
            // (and padding to it could run away).
            if s.align > 1 << 16 || (s.align > 1 && !s.align.is_power_of_two()) {
                return Err(ElfError::Malformed {
                    what: "section header table",
                    reason: "a section alignment is not a small power of two",
                });
            }
            let align = s.align.max(1) as usize;
            out.resize(out.len().next_multiple_of(align), 0);
            let data = elf
                .get(s.offset as usize..s.offset.saturating_add(s.size) as usize)
                .ok_or(ElfError::OutOfBounds {
                    what: "section data",
                })?;
            l.put(&mut h, offset_field, w, out.len() as u64);
            out.extend_from_slice(data);
        }
        // Renumber links to sections (0 stays 0; a link to a removed section is cut).
        let link_field = if l.is_64 { 40 } else { 24 };
        let link = l.get(&h, link_field, 4)? as usize;
        let link = if link < shnum && keep[link] {
            new_index[link]
        } else {
            0
        };
        l.put(&mut h, link_field, 4, link as u64);
        if matches!(s.kind, SHT_REL | SHT_RELA) || s.flags & SHF_INFO_LINK != 0 {
            let info = l.get(&h, link_field + 4, 4)? as usize;
            if info < shnum {
                let v = if keep[info] { new_index[info] } else { 0 };
                l.put(&mut h, link_field + 4, 4, v as u64);
            }
        }
        headers.push(h);
    }
    while out.len() % w != 0 {
        out.push(0);
    }
    let new_shoff = out.len() as u64;
    for h in headers {
        out.extend_from_slice(&h);
    }
    l.put(&mut out, 0x18 + 2 * w, w, new_shoff);
    l.put(&mut out, base + 8, 2, n as u64);
    l.put(&mut out, base + 10, 2, new_index[shstrndx] as u64);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBUG: &[u8] = include_bytes!("../../tests/elf-fixtures/x86_64-debug.so");
    const STRIPPED: &[u8] = include_bytes!("../../tests/elf-fixtures/x86_64-gnu.so");

    fn section_names(elf: &[u8]) -> Vec<String> {
        let l = Layout {
            is_64: true,
            big: false,
        };
        let shoff = l.get(elf, 0x28, 8).unwrap() as usize;
        let shnum = l.get(elf, 0x3c, 2).unwrap() as usize;
        let shstrndx = l.get(elf, 0x3e, 2).unwrap() as usize;
        let sh = |i: usize| shoff + i * 64;
        let stroff = l.get(elf, sh(shstrndx) + 24, 8).unwrap() as usize;
        (0..shnum)
            .map(|i| c_name(&elf[stroff..], l.get(elf, sh(i), 4).unwrap()))
            .collect()
    }

    #[test]
    fn removes_symbols_and_debug_info_only() {
        let before = section_names(DEBUG);
        assert!(before.iter().any(|n| n == ".symtab"));
        assert!(before.iter().any(|n| n.starts_with(".debug")));
        let out = strip_all(DEBUG).unwrap();
        assert!(out.len() < DEBUG.len());
        let after = section_names(&out);
        let expected: Vec<String> = before
            .iter()
            .filter(|n| *n != ".symtab" && *n != ".strtab" && !n.starts_with(".debug"))
            .cloned()
            .collect();
        assert_eq!(after, expected);
        // What the loader reads is unchanged.
        let a = crate::elf::parse(DEBUG).unwrap();
        let b = crate::elf::parse(&out).unwrap();
        assert_eq!(a.needed, b.needed);
        assert_eq!(a.soname, b.soname);
        assert_eq!(a.symbols, b.symbols);
        assert_eq!(a.version_needs, b.version_needs);
        // Idempotent, and a no-op on a stripped file.
        assert_eq!(strip_all(&out).unwrap(), out);
        assert_eq!(strip_all(STRIPPED).unwrap(), STRIPPED);
    }

    fn deflated_len(b: &[u8]) -> usize {
        use std::io::Write;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(b).unwrap();
        e.finish().unwrap().len()
    }

    /// A library patchelf edited has a segment after its debug information: stripping
    /// it cannot shorten the file, and zeroes what it removes instead.
    #[test]
    fn removed_sections_before_a_segment_are_zeroed() {
        use crate::elf::patch::{apply_in_place, Edit};
        let mut patched = DEBUG.to_vec();
        let edit = Edit::SetRpath {
            path: format!("$ORIGIN/{}", "long/".repeat(60)),
            force_rpath: true,
        };
        apply_in_place(&mut patched, &[edit]).unwrap().unwrap();
        let debug = crate::elf::parse(&patched).unwrap();
        let out = strip_all(&patched).unwrap();
        let after = section_names(&out);
        assert!(!after
            .iter()
            .any(|n| n == ".symtab" || n.starts_with(".debug")));
        // The new segment ends where the file did: nothing could be cut out.
        assert!(
            out.len() >= patched.len() - 4096,
            "{} of {}",
            out.len(),
            patched.len()
        );
        let b = crate::elf::parse(&out).unwrap();
        assert_eq!(debug.needed, b.needed);
        assert_eq!(debug.rpath, b.rpath);
        assert_eq!(debug.symbols, b.symbols);
        // Every byte a removed section held is zero, and the file deflates about as
        // small as the stripped file before the edit.
        let l = Layout {
            is_64: true,
            big: false,
        };
        let (shoff, shnum) = (
            l.get(&patched, 0x28, 8).unwrap() as usize,
            l.get(&patched, 0x3c, 2).unwrap() as usize,
        );
        let names = section_names(&patched);
        let mut zeroed = 0;
        for (i, name) in names.iter().enumerate().take(shnum) {
            if name == ".symtab" || name.starts_with(".debug") {
                let h = shoff + i * 64;
                let off = l.get(&patched, h + 24, 8).unwrap() as usize;
                let size = l.get(&patched, h + 32, 8).unwrap() as usize;
                assert!(out[off..off + size].iter().all(|&b| b == 0), "{name}");
                zeroed += size;
            }
        }
        assert!(zeroed > 2000, "{zeroed}");
        let plain = deflated_len(&strip_all(DEBUG).unwrap());
        assert!(
            deflated_len(&out) < plain + 1024,
            "{} vs {plain}",
            deflated_len(&out)
        );
        assert!(deflated_len(&patched) > plain + zeroed / 8);
    }

    #[test]
    fn fuzz_regressions() {
        // A section alignment of 2^60: padding to it used to run until memory ran out.
        let hostile = include_bytes!("../../tests/fuzz-regressions/strip-huge-alignment");
        assert!(strip_all(hostile).is_err());
        // A program header offset near the end of the address space overflowed.
        let hostile =
            include_bytes!("../../tests/fuzz-regressions/strip-program-header-offset-overflow");
        let _ = strip_all(hostile);
        // No segment, no allocated section: the header must still be there to patch.
        let mut bare = DEBUG.to_vec();
        bare[0x38] = 0; // e_phnum = 0
        bare[0x39] = 0;
        let _ = strip_all(&bare);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(strip_all(b"not an elf file at all, not at all, not at all, no").is_err());
        for cut in [60, 200, DEBUG.len() - 10] {
            let _ = strip_all(&DEBUG[..cut]);
        }
    }
}
