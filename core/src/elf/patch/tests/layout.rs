//! Where an edit puts things: in place when they fit, a new segment once then extended,
//! program headers moved or grown where the loader and the kernel find them, section
//! headers and interpreters following.

use super::*;

#[test]
fn growth_moves_program_headers_once_then_extends() {
    for (name, bytes) in FIXTURES {
        let n0 = loads(bytes).len();
        let one = set_rpath(bytes, &"/x".repeat(2048), false).unwrap();
        assert_eq!(parse(&one).unwrap().runpath.unwrap().len(), 4096, "{name}");
        let l1 = loads(&one);
        let n1 = l1.len();
        // A new segment, unless the file already ended in a read-write one (patchelf
        // 0.14 left one there).
        let extended = *name == "x86_64-patchelf.so";
        assert_eq!(n1, if extended { n0 } else { n0 + 1 }, "{name}");
        let last = l1.last().unwrap();
        assert_eq!(last.offset + last.filesz, one.len() as u64, "{name}");
        assert_eq!(last.offset % last.align, last.vaddr % last.align, "{name}");
        // The second growth extends the segment made by the first.
        let two = add_needed(&one, "libanother-quite-long-name-for-growth.so.3").unwrap();
        let l2 = loads(&two);
        assert_eq!(l2.len(), n1, "{name}");
        assert_eq!(l2[..n1 - 1], l1[..n1 - 1], "{name}");
        assert_eq!(l2.last().unwrap().offset, last.offset, "{name}");
        let info = parse(&two).unwrap();
        assert_eq!(info.needed[0], "libanother-quite-long-name-for-growth.so.3");
        assert_eq!(info.runpath.unwrap().len(), 4096, "{name}");
    }
}

/// Where glibc's loader finds the program headers of a library without `PT_PHDR`, with
/// pages of `page` bytes: in the first `PT_LOAD` whose pages, as read from the file,
/// hold them (`_dl_map_segments`), at that segment's address for their offset. `None`
/// when none holds them (glibc copies them from the file then).
fn loader_phdrs(bytes: &[u8], page: u64) -> Option<u64> {
    let h = Header::read(bytes).ok().unwrap();
    let size = u64::from(h.phnum) * u64::from(h.phentsize);
    loads(bytes).into_iter().find_map(|s| {
        let mapoff = s.offset & !(page - 1);
        let end = (s.offset + s.filesz).next_multiple_of(page);
        (h.phoff >= mapoff && h.phoff + size <= end)
            .then(|| (s.vaddr & !(page - 1)) + h.phoff - mapoff)
    })
}

/// The address of the program headers in the segment that holds them in the file.
fn true_phdrs(bytes: &[u8]) -> Option<u64> {
    let h = Header::read(bytes).ok().unwrap();
    let size = u64::from(h.phnum) * u64::from(h.phentsize);
    loads(bytes)
        .into_iter()
        .find(|s| s.offset <= h.phoff && h.phoff + size <= s.offset + s.filesz)
        .map(|s| s.vaddr + h.phoff - s.offset)
}

#[test]
fn the_loader_finds_moved_program_headers_where_they_are() {
    // Found by a sweep: a library's program headers moved to a new segment right after
    // the data segment's last file page were read by glibc from that page's `.bss`
    // (zeros): C++ exceptions through such a library called `std::terminate`.
    let mut moved = 0;
    for (name, bytes) in FIXTURES.iter().filter(|(n, _)| !n.ends_with("exe")) {
        let grown = set_rpath(bytes, &"/x".repeat(2048), false).unwrap();
        let phoff = |b: &[u8]| Header::read(b).ok().unwrap().phoff;
        moved += usize::from(phoff(&grown) != phoff(bytes));
        for page in [0x1000, 0x4000, 0x10000] {
            if loads(bytes).iter().any(|s| s.align < page) {
                // A system with larger pages than the segments' alignment cannot load it.
                continue;
            }
            assert_eq!(
                loader_phdrs(&grown, page),
                true_phdrs(&grown),
                "{name} {page:#x}"
            );
        }
        // And so for the library's next edit, which extends the new segment.
        let two = add_needed(&grown, "libanother-quite-long-name-for-growth.so.3").unwrap();
        assert_eq!(loader_phdrs(&two, 0x1000), true_phdrs(&two), "{name}");
    }
    // All but the one that ended in a read-write segment already (patchelf's).
    assert_eq!(moved, 10);
}

#[test]
fn edits_that_fit_stay_in_place() {
    let b = fixture("x86_64-gnu.so");
    // Removing and reusing strings already there: no new segment, same length.
    let needed = parse(b).unwrap().needed;
    let out = apply(b, &[Edit::RemoveNeeded(vec![needed[0].clone()])]).unwrap();
    assert_eq!(out.bytes.len(), b.len());
    let back = apply(&out.bytes, &[Edit::AddNeeded(vec![needed[0].clone()])]).unwrap();
    assert_eq!(
        back.bytes.len(),
        b.len(),
        "the name is still in .dynstr, a slot is free"
    );
    assert_eq!(parse(&back.bytes).unwrap().needed, needed);
    // A forced conversion only retags.
    let out = apply(
        b,
        &[Edit::SetRpath {
            path: s("$ORIGIN/../lib"),
            force_rpath: true,
        }],
    )
    .unwrap();
    assert!(out.changed);
    assert_eq!(out.bytes.len(), b.len());
    let info = parse(&out.bytes).unwrap();
    assert_eq!(
        (info.rpath.as_deref(), info.runpath),
        (Some("$ORIGIN/../lib"), None)
    );
}

/// (name, sh_addr, sh_offset, sh_size) of each section of a 64-bit little-endian file.
fn sections(b: &[u8]) -> Vec<(String, u64, u64, u64)> {
    let u16_at = |at: usize| u64::from(u16::from_le_bytes(b[at..at + 2].try_into().unwrap()));
    let u32_at = |at: usize| u64::from(u32::from_le_bytes(b[at..at + 4].try_into().unwrap()));
    let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let (shoff, shnum, shstrndx) = (
        u64_at(0x28) as usize,
        u16_at(0x3c) as usize,
        u16_at(0x3e) as usize,
    );
    let sh = |i: usize| shoff + i * 64;
    let names = u64_at(sh(shstrndx) + 24) as usize;
    (0..shnum)
        .map(|i| {
            let name = crate::elf::read::c_str(&b[names..], u32_at(sh(i)), "t").unwrap();
            (
                name,
                u64_at(sh(i) + 16),
                u64_at(sh(i) + 24),
                u64_at(sh(i) + 32),
            )
        })
        .collect()
}

#[test]
fn section_headers_follow_the_tables() {
    let b = fixture("x86_64-gnu.so");
    let out = add_needed(b, "libnew.so.1").unwrap();
    let img = Image::read(&out).unwrap();
    let dseg = img.segments[img.dyn_index];
    let strtab = img.strtab.unwrap();
    let secs = sections(&out);
    let find = |n: &str| secs.iter().find(|s| s.0 == n).unwrap().clone();
    assert_eq!(
        find(".dynamic").1..find(".dynamic").3,
        dseg.vaddr..dseg.filesz
    );
    assert_eq!(find(".dynamic").2, dseg.offset);
    assert_eq!(
        find(".dynstr"),
        (
            s(".dynstr"),
            strtab.addr,
            strtab.offset,
            img.strings.len() as u64
        )
    );
    // Everything else is where it was.
    let old = sections(b);
    for (a, b) in old.iter().zip(&secs) {
        if a.0 != ".dynamic" && a.0 != ".dynstr" {
            assert_eq!(a, b);
        }
    }
}

/// `--set-interpreter`: a name that fits is written over the old one, `PT_INTERP` and
/// `.interp` sized to it, nothing else moving; a longer one goes to the new segment,
/// with `.interp` following it; with other edits in the same call too. A file without
/// an interpreter is refused.
#[test]
fn interpreters_in_place_and_moved() {
    let b = fixture("x86_64-exe");
    let old = interpreter(b).unwrap().unwrap();
    let interp_of = |out: &[u8]| {
        let img = Image::read(out).unwrap();
        let s = *img.segments.iter().find(|s| s.kind == PT_INTERP).unwrap();
        (s.offset, s.vaddr, s.filesz)
    };
    let section = |out: &[u8]| {
        let (_, addr, off, size) = sections(out)
            .into_iter()
            .find(|s| s.0 == ".interp")
            .unwrap();
        (off, addr, size)
    };
    let short = "/lib/ld.so";
    let out = apply(b, &[Edit::SetInterpreter(s(short))]).unwrap();
    assert_eq!(out.bytes.len(), b.len());
    assert_eq!(loads(&out.bytes), loads(b));
    assert_eq!(interpreter(&out.bytes).unwrap().as_deref(), Some(short));
    assert_eq!(interp_of(&out.bytes).2, short.len() as u64 + 1);
    assert_eq!(section(&out.bytes), interp_of(&out.bytes));
    assert!(
        !apply(&out.bytes, &[Edit::SetInterpreter(s(short))])
            .unwrap()
            .changed
    );

    let long = format!("/opt/{}/ld-linux-x86-64.so.2", "x".repeat(200));
    for edits in [
        vec![Edit::SetInterpreter(long.clone())],
        vec![
            Edit::SetInterpreter(long.clone()),
            Edit::AddNeeded(vec![s("libextra.so.1")]),
            Edit::SetRpath {
                path: s("$ORIGIN/lib"),
                force_rpath: false,
            },
        ],
    ] {
        let out = apply(b, &edits).unwrap();
        assert_eq!(interpreter(&out.bytes).unwrap(), Some(long.clone()));
        let (offset, vaddr, size) = interp_of(&out.bytes);
        assert!(offset >= b.len() as u64 && size == long.len() as u64 + 1);
        // Mapped by a loadable segment, where glibc reads it.
        assert!(loads(&out.bytes).iter().any(|l| l.vaddr <= vaddr
            && vaddr + size <= l.vaddr + l.filesz
            && l.offset + (vaddr - l.vaddr) == offset));
        assert_eq!(section(&out.bytes), (offset, vaddr, size));
        // Back to the old one: it fits where the long one is.
        let back = apply(&out.bytes, &[Edit::SetInterpreter(old.clone())]).unwrap();
        assert_eq!(interpreter(&back.bytes).unwrap(), Some(old.clone()));
    }
    assert_eq!(
        apply(fixture("x86_64-gnu.so"), &[Edit::SetInterpreter(s(short))]),
        Err(PatchError::NoInterpreter)
    );
    assert_eq!(interpreter(fixture("x86_64-gnu.so")), Ok(None));
    assert!(matches!(
        apply(b, &[Edit::SetInterpreter(s("a\0b"))]),
        Err(PatchError::NulInName(_))
    ));
}

#[test]
fn a_section_header_table_past_the_end_is_refused_before_anything_is_written_over_it() {
    // Cut inside the section header table, which sits at the end: a string table that
    // must move would go where the table is said to be.
    let b = fixture("x86_64-gnu.so");
    let shoff = u64::from_le_bytes(b[40..48].try_into().unwrap()) as usize;
    assert!(shoff > 0 && shoff < b.len());
    let cut = &b[..shoff + 10];
    let long = "x".repeat(4000);
    assert_eq!(
        apply(
            cut,
            &[Edit::SetRpath {
                path: long.clone(),
                force_rpath: false
            }]
        ),
        Err(PatchError::SectionsOutside)
    );
    assert!(apply(
        b,
        &[Edit::SetRpath {
            path: long,
            force_rpath: false
        }]
    )
    .is_ok());
}

#[test]
fn executables_keep_at_phdr_right() {
    // A PIE (PT_INTERP): its program header table takes the new segment's entry where it
    // is, over the interpreter path and the notes after it, which move to the new space;
    // PT_PHDR follows.
    let b = fixture("x86_64-exe");
    let before = Header::read(b).ok().unwrap();
    let out = set_rpath(b, &"/e".repeat(1000), false).unwrap();
    let h = Header::read(&out[..]).ok().unwrap();
    let segs = h.segments(&out[..]).ok().unwrap();
    assert_eq!((h.phoff, h.phnum), (before.phoff, before.phnum + 1));
    let first = loads(&out)[0];
    let phdr = segs.iter().find(|s| s.kind == 6).unwrap();
    assert_eq!(
        (phdr.offset, phdr.vaddr - first.vaddr),
        (h.phoff, h.phoff - first.offset)
    );
    assert_eq!(phdr.filesz, u64::from(h.phnum) * u64::from(h.phentsize));
    assert!(first.offset + first.filesz >= h.phoff + phdr.filesz);
    let (was, now) = (parse(b).unwrap(), parse(&out).unwrap());
    assert_eq!(now.interpreter, was.interpreter);
    // The notes read as they did, where their program headers now say.
    let notes = |f: &[u8]| {
        let h = Header::read(f).ok().unwrap();
        let mut n: Vec<Vec<u8>> = h
            .segments(f)
            .ok()
            .unwrap()
            .iter()
            .filter(|s| s.kind == PT_NOTE || s.kind == 0x6474_e553)
            .map(|s| f[s.offset as usize..(s.offset + s.filesz) as usize].to_vec())
            .collect();
        n.sort();
        n
    };
    assert_eq!(notes(&out), notes(b));
    assert_eq!(now.isa, was.isa);

    // With 64 MiB of .bss, the file grows by what the edit writes, not by the .bss: the
    // table moved past it had to keep the first segment's address-to-offset difference.
    let mut big = b.to_vec();
    let rw = segment_at(&big, |s| s.kind == PT_LOAD && s.flags == 6);
    let memsz = u64::from_le_bytes(big[rw + 40..rw + 48].try_into().unwrap());
    big[rw + 40..rw + 48].copy_from_slice(&(memsz + (64 << 20)).to_le_bytes());
    let out = apply(&big, &[Edit::AddNeeded(vec![s("libz.so.1")])])
        .unwrap()
        .bytes;
    assert!(
        out.len() < big.len() + (16 << 10),
        "{} -> {}",
        big.len(),
        out.len()
    );
    assert_eq!(parse(&out).unwrap().needed[0], "libz.so.1");

    // When what follows the table cannot move (here the notes' PT_NOTE, made a kind the
    // patcher does not move), the table moves to the new segment, which keeps the first
    // PT_LOAD's p_vaddr - p_offset.
    let mut stuck = b.to_vec();
    let note = segment_at(&stuck, |s| s.kind == PT_NOTE && s.offset < 0x400);
    stuck[note..note + 4].copy_from_slice(&0x6474_e550u32.to_le_bytes());
    let out = set_rpath(&stuck, &"/e".repeat(1000), false).unwrap();
    let h = Header::read(&out[..]).ok().unwrap();
    let segs = h.segments(&out[..]).ok().unwrap();
    let l = loads(&out);
    let (first, new) = (l[0], l[l.len() - 1]);
    assert_eq!(h.phoff, new.offset, "the table starts the new segment");
    assert_eq!(new.vaddr - new.offset, first.vaddr - first.offset);
    let phdr = segs.iter().find(|s| s.kind == 6).unwrap();
    assert_eq!((phdr.offset, phdr.vaddr), (new.offset, new.vaddr));
    assert_eq!(phdr.filesz, u64::from(h.phnum) * u64::from(h.phentsize));
}

/// The offset of the first program header of a 64-bit little-endian file that `is` picks.
fn segment_at(b: &[u8], is: impl Fn(&crate::elf::header::Segment) -> bool) -> usize {
    let h = Header::read(b).ok().unwrap();
    let i = h.segments(b).ok().unwrap().iter().position(is).unwrap();
    h.phoff as usize + i * usize::from(h.phentsize)
}

/// `--page-size`: a new segment is aligned to it at least, and to the file's own
/// largest alignment when that is larger; every segment keeps offset and address equal
/// modulo its alignment.
#[test]
fn a_new_segment_is_aligned_to_the_page_size_at_least() {
    for &(name, b) in FIXTURES {
        let own = loads(b).iter().map(|s| s.align).max().unwrap();
        for page in [1u64 << 10, 1 << 16, 1 << 21] {
            let edits = [
                Edit::AddNeeded(vec![s("libpage-size.so")]),
                Edit::PageSize(page),
            ];
            let out = apply(b, &edits).unwrap();
            let after = loads(&out.bytes);
            if after.len() > loads(b).len() {
                let top = after.iter().max_by_key(|s| s.vaddr).unwrap();
                assert_eq!(top.align, own.max(page).max(0x1000), "{name} at {page}");
            }
            for s in &after {
                assert_eq!(s.offset % s.align, s.vaddr % s.align, "{name} at {page}");
            }
        }
    }
}
