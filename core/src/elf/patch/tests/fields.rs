//! The field edits (`flags`): the OS ABI, the stack's flags and symbols' versions, made
//! where the other edits left the headers, and recorded in `Changes`.

use super::*;
use crate::elf::header::{PT_DYNAMIC, PT_GNU_STACK, PT_INTERP, PT_PHDR};

#[test]
fn field_edits_land_where_the_other_edits_left_the_headers_and_are_recorded() {
    for &(name, b) in FIXTURES {
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
            let changes = apply_in_place(&mut buf, &edits).unwrap().unwrap();
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

/// `b` without its `PT_GNU_STACK` entry: made `PT_NULL` (`null`), or taken out of the
/// table, which is one entry shorter (`PT_PHDR` too), as old linkers wrote it.
fn without_stack(b: &[u8], null: bool) -> Vec<u8> {
    let h = Header::read(b).unwrap();
    let f = super::super::encode::fields(h.rd.class);
    let wr = super::super::encode::Wr(h.rd);
    let phent = u64::from(h.phentsize);
    let segs = h.segments(b).unwrap();
    let i = segs.iter().position(|s| s.kind == PT_GNU_STACK).unwrap();
    let mut out = b.to_vec();
    let at = |k: usize| (h.phoff + k as u64 * phent) as usize;
    if null {
        wr.u32(&mut out, at(i) as u64, 0).unwrap();
        return out;
    }
    let last = segs.len() - 1;
    out.copy_within(at(i + 1)..at(last) + phent as usize, at(i));
    out[at(last)..at(last) + phent as usize].fill(0);
    let n = wr.u16_bytes(h.phnum - 1);
    out[f.e_phnum as usize..f.e_phnum as usize + 2].copy_from_slice(&n);
    if let Some(p) = segs.iter().position(|s| s.kind == PT_PHDR) {
        let p = if p > i { p - 1 } else { p };
        let size = wr.word_bytes(u64::from(h.phnum - 1) * phent).unwrap();
        for field in [f.p[3], f.p[4]] {
            let a = at(p) + field as usize;
            out[a..a + size.len()].copy_from_slice(&size);
        }
    }
    out
}

/// The stack's flags asked of a file without `PT_GNU_STACK` add the entry, as patchelf
/// does (glibc gives a library without one an executable stack, and 2.41 refuses to
/// `dlopen` it): in a `PT_NULL` slot, else in a table grown by it (moved, for a library;
/// grown in place, in a program), alone and beside edits that move the dynamic table.
/// The result reads back, runs the edit again to no change, and keeps every other entry.
#[test]
fn a_missing_stack_entry_is_added() {
    let mut cases: Vec<(String, Vec<u8>)> = vec![("ppc64.so".into(), fixture("ppc64.so").to_vec())];
    for &(name, b) in FIXTURES {
        if execstack(b).unwrap().is_some() {
            cases.push((format!("{name}, taken out"), without_stack(b, false)));
            cases.push((format!("{name}, PT_NULL"), without_stack(b, true)));
        }
    }
    for (name, b) in &cases {
        assert_eq!(execstack(b), Ok(None), "{name}");
        let b = &b[..];
        let before = Header::read(b).unwrap().segments(b).unwrap();
        for exec in [false, true] {
            for more in [vec![], vec![Edit::AddNeeded(vec![s("libstack.so")])]] {
                let mut edits = more.clone();
                edits.push(Edit::SetExecstack(exec));
                let out = apply(b, &edits).unwrap();
                assert!(out.changed, "{name}");
                assert_eq!(execstack(&out.bytes), Ok(Some(exec)), "{name}");
                let h = Header::read(&out.bytes[..]).unwrap();
                let segs = h.segments(&out.bytes[..]).unwrap();
                let stack = segs.iter().find(|s| s.kind == PT_GNU_STACK).unwrap();
                assert_eq!(
                    (
                        stack.offset,
                        stack.vaddr,
                        stack.filesz,
                        stack.memsz,
                        stack.align
                    ),
                    (0, 0, 0, 0, 1),
                    "{name}"
                );
                // Every entry of the input is still there (those that moved, moved).
                for k in [PT_LOAD, PT_NOTE, PT_DYNAMIC, PT_INTERP] {
                    let n = |v: &[crate::elf::header::Segment]| {
                        v.iter().filter(|s| s.kind == k).count()
                    };
                    assert!(n(&segs) >= n(&before), "{name}: {k:#x}");
                }
                let info = parse(&out.bytes).unwrap();
                if !more.is_empty() {
                    assert_eq!(info.needed[0], "libstack.so", "{name}");
                }
                assert!(!apply(&out.bytes, &edits).unwrap().changed, "{name}");
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
