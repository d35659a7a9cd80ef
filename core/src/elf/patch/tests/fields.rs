//! The field edits (`flags`): the OS ABI, the stack's flags and symbols' versions, made
//! where the other edits left the headers, and recorded in `Changes`.

use super::*;

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
