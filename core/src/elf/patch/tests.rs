//! The patcher on the reader's fixtures (`core/tests/elf-fixtures/make.sh`: eight
//! architectures, both byte orders and classes, a PIE, a patchelf-edited file, a file
//! without section headers): every edit read back by [`crate::elf::parse`], idempotence,
//! random sequences against a model, and hostile input; where an edit puts things is in
//! `layout`, the field edits in `fields`.

use proptest::prelude::*;

use super::image::Image;
use super::*;
use crate::elf::header::{Header, PT_LOAD, PT_NOTE};
use crate::elf::{parse, ElfInfo, Options};

mod fields;
mod layout;
mod rename;

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
        | Edit::ClearSymbolVersion(_)
        | Edit::PageSize(_)
        | Edit::RenameDynamicSymbols(_) => {}
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
        any::<bool>().prop_map(Edit::SetExecstack),
        prop::sample::select(vec![1u64 << 12, 1 << 16]).prop_map(Edit::PageSize),
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

    /// Damaged files give an error or a file that reads back, never a panic. (A field
    /// edit, such as the stack's flags, is made without reading the rest of the file: a
    /// file damaged where the reader looks comes back as damaged, no more.)
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
        let opts = Options { symbols: false, ..Options::default() };
        let readable = crate::elf::parse_with(&b, &opts).is_ok();
        if let Ok(out) = apply(&b, std::slice::from_ref(&e)) {
            if out.changed && (readable || !matches!(e, Edit::SetExecstack(_))) {
                let read = crate::elf::parse_with(&out.bytes, &opts);
                prop_assert!(read.is_ok(), "{:?}", read);
            }
        }
    }
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
