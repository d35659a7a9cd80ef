//! The patcher on the reader's fixtures (`core/tests/elf-fixtures/make.sh`: eight
//! architectures, both byte orders and classes, a PIE, a patchelf-edited file, a file
//! without section headers): every edit read back by [`crate::elf::parse`], layouts,
//! idempotence, random sequences against a model, and hostile input.

use proptest::prelude::*;

use super::image::Image;
use super::*;
use crate::elf::header::{Header, PT_LOAD, PT_NOTE};
use crate::elf::{parse, ElfInfo};

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../../tests/elf-fixtures/", $name)) as &[u8],
        )
    };
}

const FIXTURES: &[(&str, &[u8])] = &[
    fixture!("x86_64-gnu.so"),
    fixture!("x86_64-sysv.so"),
    fixture!("x86_64-patchelf.so"),
    fixture!("x86_64-noshdr.so"),
    fixture!("x86_64-exe"),
    fixture!("i686.so"),
    fixture!("aarch64.so"),
    fixture!("armv7l.so"),
    fixture!("s390x.so"),
    fixture!("ppc64.so"),
    fixture!("ppc64le.so"),
    fixture!("riscv64.so"),
];

fn fixture(name: &str) -> &'static [u8] {
    FIXTURES.iter().find(|f| f.0 == name).unwrap().1
}

fn s(v: &str) -> String {
    v.to_owned()
}

/// What the reader says, reduced to what the patcher edits.
fn names_of(info: &ElfInfo) -> Names {
    Names {
        soname: info.soname.clone(),
        needed: info.needed.clone(),
        rpath: info.rpath.clone(),
        runpath: info.runpath.clone(),
    }
}

/// The symbols without the library their version comes from (which a rename changes).
fn symbols(info: &ElfInfo) -> Vec<String> {
    info.symbols
        .iter()
        .map(|s| {
            let v = s
                .version
                .as_ref()
                .map(|v| (v.name.as_str(), v.hidden, v.file.is_some()));
            format!(
                "{} {} {:?} {:?} {v:?}",
                s.name, s.defined, s.binding, s.kind
            )
        })
        .collect()
}

fn loads(bytes: &[u8]) -> Vec<crate::elf::header::Segment> {
    let h = Header::read(bytes).ok().unwrap();
    let segs = h.segments(bytes).ok().unwrap();
    segs.into_iter().filter(|s| s.kind == PT_LOAD).collect()
}

/// The reference model: patchelf's meaning of each edit on the four values (with the
/// duplicate-free `--add-needed`).
fn model(n: &mut Names, shared: bool, e: &Edit) {
    match e {
        Edit::SetSoname(x) => {
            if shared {
                n.soname = Some(x.clone());
            }
        }
        Edit::SetRpath { path, force_rpath } => {
            let (had_r, had_ru) = (n.rpath.is_some(), n.runpath.is_some());
            if !force_rpath && had_r && !had_ru {
                n.rpath = None;
                n.runpath = Some(path.clone());
            } else if *force_rpath && had_ru {
                n.runpath = None;
                n.rpath = Some(path.clone());
            } else if had_r || had_ru {
                if had_r {
                    n.rpath = Some(path.clone());
                }
                if had_ru {
                    n.runpath = Some(path.clone());
                }
            } else if path.is_empty() {
                // patchelf 0.18 on: an empty path where there is none changes nothing.
            } else if *force_rpath {
                n.rpath = Some(path.clone());
            } else {
                n.runpath = Some(path.clone());
            }
        }
        Edit::AddRpath { path, force_rpath } => {
            let joined = match n.runpath.as_deref().or(n.rpath.as_deref()) {
                None | Some("") => path.clone(),
                Some(c) => format!("{c}:{path}"),
            };
            let set = Edit::SetRpath {
                path: joined,
                force_rpath: *force_rpath,
            };
            model(n, shared, &set);
        }
        Edit::RemoveRpath => (n.rpath, n.runpath) = (None, None),
        // None of these is among the names; their own tests follow them.
        Edit::SetInterpreter(_)
        | Edit::NoDefaultLib
        | Edit::AddDebugTag
        | Edit::SetOsAbi(_)
        | Edit::SetExecstack(_)
        | Edit::ClearSymbolVersion(_) => {}
        Edit::RemoveNeeded(libs) => n.needed.retain(|l| !libs.contains(l)),
        Edit::ReplaceNeeded(pairs) => {
            for l in &mut n.needed {
                if let Some((_, new)) = pairs.iter().find(|(old, _)| old == l) {
                    l.clone_from(new);
                }
            }
        }
        Edit::AddNeeded(libs) => {
            let mut front = Vec::new();
            for l in libs {
                if !n.needed.contains(l) && !front.contains(l) {
                    front.push(l.clone());
                }
            }
            front.append(&mut n.needed);
            n.needed = front;
        }
    }
}

#[test]
fn every_edit_on_every_fixture_reads_back() {
    let long = "/opt/a-rather-long/path/to/libs".repeat(4);
    for (name, bytes) in FIXTURES {
        let before = parse(bytes).unwrap();
        let shared = before.file_type == crate::elf::FileType::SharedObject;
        let first = before.needed[0].clone();
        let edits = [
            Edit::SetSoname(s("librenamed-with-a-longer-name.so.7")),
            Edit::SetRpath {
                path: long.clone(),
                force_rpath: false,
            },
            Edit::SetRpath {
                path: s("$ORIGIN"),
                force_rpath: true,
            },
            Edit::RemoveRpath,
            Edit::ReplaceNeeded(vec![(first.clone(), s("libreplaced-0123abcd.so.6"))]),
            Edit::AddNeeded((0..8).map(|i| format!("libextra{i}.so.1")).collect()),
            Edit::RemoveNeeded(vec![first.clone()]),
        ];
        for e in &edits {
            let out = apply(bytes, std::slice::from_ref(e))
                .unwrap_or_else(|err| panic!("{name} {e:?}: {err}"));
            let after = parse(&out.bytes).unwrap();
            let mut want = names_of(&before);
            model(&mut want, shared, e);
            assert_eq!(names_of(&after), want, "{name} {e:?}");
            assert_eq!(out.bytes == *bytes, !out.changed, "{name} {e:?}");
            // Untouched: everything the edit is not about.
            assert_eq!(symbols(&after), symbols(&before), "{name} {e:?}");
            assert_eq!(after.version_defs, before.version_defs, "{name} {e:?}");
            assert_eq!(after.interpreter, before.interpreter, "{name} {e:?}");
            if let Edit::ReplaceNeeded(_) = e {
                let files: Vec<_> = after
                    .version_needs
                    .iter()
                    .map(|n| n.file.as_str())
                    .collect();
                assert!(!files.contains(&first.as_str()), "{name}: {files:?}");
                let renamed = before.version_needs.iter().any(|n| n.file == first);
                assert_eq!(
                    files.contains(&"libreplaced-0123abcd.so.6"),
                    renamed,
                    "{name}"
                );
            }
            // Idempotence: once more changes nothing.
            let again = apply(&out.bytes, std::slice::from_ref(e)).unwrap();
            assert!(!again.changed, "{name} {e:?} twice");
            assert_eq!(again.bytes, out.bytes, "{name} {e:?} twice");
        }
    }
}

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
fn an_empty_path_where_there_is_none_changes_nothing() {
    for (name, bytes) in FIXTURES {
        let info = parse(bytes).unwrap();
        if info.rpath.is_some() || info.runpath.is_some() {
            continue;
        }
        for force in [false, true] {
            assert_eq!(
                set_rpath(bytes, "", force).unwrap(),
                *bytes,
                "{name} {force}"
            );
        }
        // With a path there, the empty one replaces it.
        let one = set_rpath(bytes, "/x", false).unwrap();
        let none = set_rpath(&one, "", false).unwrap();
        assert_eq!(parse(&none).unwrap().runpath.as_deref(), Some(""), "{name}");
    }
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

/// `--add-rpath` appends after a `:`, to `DT_RUNPATH` before `DT_RPATH`, and creates a
/// `DT_RUNPATH` where there is none.
#[test]
fn add_rpath_appends() {
    let b = fixture("x86_64-gnu.so");
    let add = |bytes: &[u8], path: &str, force_rpath| {
        apply(
            bytes,
            &[Edit::AddRpath {
                path: s(path),
                force_rpath,
            }],
        )
        .unwrap()
        .bytes
    };
    let first = add(&remove_rpath(b).unwrap(), "/a", false);
    let info = parse(&first).unwrap();
    assert_eq!((info.runpath.as_deref(), info.rpath), (Some("/a"), None));
    let second = add(&first, "/b:/c", false);
    assert_eq!(parse(&second).unwrap().runpath.as_deref(), Some("/a:/b:/c"));
    let forced = parse(&add(&second, "/d", true)).unwrap();
    assert_eq!(
        (forced.rpath.as_deref(), forced.runpath),
        (Some("/a:/b:/c:/d"), None)
    );
}

/// `--shrink-rpath` keeps relative entries, and absolute ones that hold a needed library
/// not found before, within the allowed prefixes.
#[test]
fn shrink_rpath_keeps_what_finds_a_library() {
    let needed = vec![s("liba.so"), s("libb.so")];
    let mut holds =
        |dir: &str, lib: &str| matches!((dir, lib), ("/x" | "/y", "liba.so") | ("/z", "libb.so"));
    assert_eq!(
        shrink_rpath("$ORIGIN/lib:/w:/x:/y:/z:", &needed, &[], &mut holds),
        "$ORIGIN/lib:/x:/z"
    );
    assert_eq!(shrink_rpath("/x:/z", &needed, &["/z"], &mut holds), "/z");
    assert_eq!(shrink_rpath("", &needed, &[], &mut holds), "");
    assert_eq!(
        machine(fixture("aarch64.so")),
        Ok(crate::elf::Machine::Aarch64)
    );
}

#[test]
fn print_names_like_patchelf() {
    let n = names(fixture("x86_64-sysv.so")).unwrap();
    assert_eq!(n.search_path(), Some("/opt/demo/lib"));
    assert_eq!(n.soname.as_deref(), Some("libdemo.so.1"));
    let n = names(fixture("x86_64-gnu.so")).unwrap();
    assert_eq!(n.search_path(), Some("$ORIGIN/../lib"));
}

#[test]
fn soname_flags_need_no_dynamic_section_outside_shared_objects() {
    // The fixture made a static executable: ET_EXEC, its PT_DYNAMIC turned to PT_NULL.
    let mut b = fixture("x86_64-gnu.so").to_vec();
    assert!(is_shared_object(&b).unwrap());
    b[16..18].copy_from_slice(&2u16.to_le_bytes());
    let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
    let (phent, phnum) = (
        usize::from(u16::from_le_bytes([b[54], b[55]])),
        usize::from(u16::from_le_bytes([b[56], b[57]])),
    );
    for i in 0..phnum {
        let at = phoff + i * phent;
        if u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) == 2 {
            b[at..at + 4].copy_from_slice(&0u32.to_le_bytes());
        }
    }
    assert!(!is_shared_object(&b).unwrap());
    // As patchelf: --set-soname does nothing there, and nothing else is read.
    let mut buf = b.clone();
    assert_eq!(
        apply_in_place(&mut buf, &[Edit::SetSoname(s("libx.so"))]),
        Ok(None)
    );
    assert_eq!(apply_in_place(&mut buf, &[]), Ok(None));
    assert_eq!(buf, b);
    assert_eq!(names(&b), Err(PatchError::NoDynamic));
    assert_eq!(
        apply(&b, &[Edit::SetSoname(s("libx.so")), Edit::RemoveRpath]),
        Err(PatchError::NoDynamic)
    );
}

#[test]
fn only_linked_files_are_patched() {
    let mut b = fixture("x86_64-gnu.so").to_vec();
    assert_eq!(linked(&b), Ok(()));
    assert_eq!(linked(fixture("x86_64-exe")), Ok(()));
    for (raw, kind) in [(1u16, FileType::Relocatable), (4, FileType::Core)] {
        b[16..18].copy_from_slice(&raw.to_le_bytes());
        assert_eq!(linked(&b), Err(PatchError::NotLinked(kind)));
    }
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
fn field_edits_land_where_the_other_edits_left_the_headers_and_are_recorded() {
    for &(name, b) in FIXTURES {
        let had_stack = execstack(b).unwrap();
        for edits in [
            vec![Edit::SetExecstack(true), Edit::SetOsAbi(OsAbi(9))],
            vec![
                Edit::SetRpath {
                    path: "/r".repeat(600),
                    force_rpath: false,
                },
                Edit::AddNeeded(vec![s("libfield.so")]),
                Edit::SetExecstack(true),
                Edit::SetOsAbi(OsAbi(9)),
                Edit::NoDefaultLib,
                Edit::AddDebugTag,
            ],
        ] {
            let mut buf = b.to_vec();
            let got = apply_in_place(&mut buf, &edits);
            if had_stack.is_none() {
                assert_eq!(got, Err(PatchError::NoStackSegment), "{name}");
                assert_eq!(buf, b, "{name}: left as it was");
                continue;
            }
            let changes = got.unwrap().unwrap();
            assert_eq!(
                (execstack(&buf), os_abi(&buf)),
                (Ok(Some(true)), Ok(OsAbi(9))),
                "{name}"
            );
            // Every byte of the old file that changed is in a saved range, saved as it was.
            let ranges: Vec<_> = changes.ranges().collect();
            for (i, (x, y)) in b.iter().zip(&buf).enumerate() {
                if x != y {
                    assert!(
                        ranges.iter().any(|r| r.contains(&(i as u64))),
                        "{name}: byte {i:#x}"
                    );
                }
            }
            for (at, old) in &changes.saved {
                assert_eq!(
                    &b[*at as usize..*at as usize + old.len()],
                    &old[..],
                    "{name}"
                );
            }
            assert!(
                ranges.windows(2).all(|w| w[0].end < w[1].start),
                "{name}: {ranges:?}"
            );
            let info = parse(&buf).unwrap();
            assert_eq!(info.os_abi, 9);
            if edits.len() > 2 {
                assert_eq!(info.needed[0], "libfield.so", "{name}");
            }
        }
    }
}

#[test]
fn clear_symbol_version_unversions_only_the_symbols_named() {
    let mut tried = 0;
    for &(name, b) in FIXTURES {
        let before = parse(b).unwrap();
        let Some(sym) = before.symbols.iter().find(|s| s.version.is_some()) else {
            continue;
        };
        let out = apply(
            b,
            &[Edit::ClearSymbolVersion(vec![
                sym.name.clone(),
                s("nowhere"),
            ])],
        )
        .unwrap();
        assert!(out.changed, "{name}");
        let after = parse(&out.bytes).unwrap();
        for (x, y) in before.symbols.iter().zip(&after.symbols) {
            let want = if x.name == sym.name {
                None
            } else {
                x.version.clone()
            };
            assert_eq!((&y.name, &y.version), (&x.name, &want), "{name}");
        }
        tried += 1;
    }
    assert!(tried >= 8, "{tried} fixtures have versioned symbols");
}

#[test]
fn os_abi_names_as_patchelf() {
    for (text, abi, shown) in [
        ("sysv", 0, "System V"),
        ("system-v", 0, "System V"),
        (" Linux", 3, "Linux"),
        ("GNU", 3, "Linux"),
        ("FreeBSD", 9, "FreeBSD"),
        ("gnu hurd", 4, "GNU Hurd"),
        ("gnu-hurd", 4, "GNU Hurd"),
    ] {
        let a: OsAbi = text.parse().unwrap();
        assert_eq!((a, a.to_string()), (OsAbi(abi), shown.to_owned()));
    }
    assert_eq!(OsAbi(97).to_string(), "0x61");
    assert!("bogus".parse::<OsAbi>().unwrap_err().contains("freebsd"));
}

#[test]
fn malformed_input_is_an_error() {
    assert_eq!(
        apply(b"not an elf file", &[Edit::RemoveRpath]),
        Err(PatchError::Read(crate::elf::ElfError::NotElf))
    );
    let b = fixture("x86_64-gnu.so");
    for cut in 0..b.len() {
        let _ = apply(&b[..cut], &[Edit::AddNeeded(vec![s("libx.so")])]);
    }
    assert!(matches!(
        apply(b, &[Edit::SetSoname(s("nul\0inside"))]),
        Err(PatchError::NulInName(_))
    ));
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    let lib = prop::sample::select(vec![
        "libc.so.6",
        "libm.so.6",
        "liba.so",
        "libb.so.1",
        "libverylongname-0123456789abcdef.so.42",
    ]);
    prop_oneof![
        "[a-z]{1,24}".prop_map(|x| Edit::SetSoname(format!("lib{x}.so"))),
        ("[$A-Za-z/]{0,200}", any::<bool>())
            .prop_map(|(path, force_rpath)| Edit::SetRpath { path, force_rpath }),
        ("[$A-Za-z/]{0,40}", any::<bool>())
            .prop_map(|(path, force_rpath)| Edit::AddRpath { path, force_rpath }),
        Just(Edit::RemoveRpath),
        lib.clone().prop_map(|l| Edit::RemoveNeeded(vec![s(l)])),
        (lib.clone(), lib.clone()).prop_map(|(a, b)| Edit::ReplaceNeeded(vec![(s(a), s(b))])),
        prop::collection::vec(lib, 1..4)
            .prop_map(|v| Edit::AddNeeded(v.into_iter().map(s).collect())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random sequences of edits, one call each, keep every value right and the file
    /// readable; applying the whole sequence at once gives the same values.
    #[test]
    fn sequences_keep_values_right(
        which in 0..FIXTURES.len(),
        edits in prop::collection::vec(edit_strategy(), 1..12),
    ) {
        let (name, bytes) = FIXTURES[which];
        let before = parse(bytes).unwrap();
        let shared = before.file_type == crate::elf::FileType::SharedObject;
        let mut want = names_of(&before);
        let mut cur = bytes.to_vec();
        for e in &edits {
            cur = apply(&cur, std::slice::from_ref(e)).unwrap().bytes;
            model(&mut want, shared, e);
            let info = parse(&cur).unwrap();
            prop_assert_eq!(names_of(&info), want.clone(), "{} after {:?}", name, e);
            prop_assert_eq!(symbols(&info), symbols(&before));
        }
        let once = apply(bytes, &edits).unwrap();
        prop_assert_eq!(names_of(&parse(&once.bytes).unwrap()), want);
    }

    /// Damaged files give an error or a file that reads back, never a panic.
    #[test]
    fn mutated_files_never_panic(
        which in 0..FIXTURES.len(),
        muts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        e in edit_strategy(),
    ) {
        let mut b = FIXTURES[which].1.to_vec();
        for (at, v) in muts {
            let i = at.index(b.len());
            b[i] = v;
        }
        if let Ok(out) = apply(&b, &[e]) {
            if out.changed {
                let opts = Options { symbols: false, ..Options::default() };
                let read = crate::elf::parse_with(&out.bytes, &opts);
                prop_assert!(read.is_ok(), "{:?}", read);
            }
        }
    }
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

#[test]
fn in_place_edits_undo_on_error_and_report_changes() {
    let b = fixture("x86_64-sysv.so");
    let mut buf = b.to_vec();
    let c = apply_in_place(&mut buf, &[Edit::AddNeeded(vec![s("libnew.so")])])
        .unwrap()
        .unwrap();
    assert_eq!(c.old_len, b.len() as u64);
    // Only the changed ranges and the tail differ.
    for (i, (x, y)) in b.iter().zip(&buf).enumerate() {
        if x != y {
            assert!(c.ranges().any(|r| r.contains(&(i as u64))), "byte {i:#x}");
        }
    }
    let mut removed = b.to_vec();
    let c = apply_in_place(&mut removed, &[Edit::RemoveRpath, Edit::RemoveRpath]).unwrap();
    assert_eq!(
        c.unwrap().old_len,
        removed.len() as u64,
        "removing fits in place"
    );
    let mut bad = b"\x7fELF garbage".to_vec();
    assert!(apply_in_place(&mut bad, &[Edit::RemoveRpath]).is_err());
    assert_eq!(bad, b"\x7fELF garbage");
}
