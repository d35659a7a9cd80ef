//! `--rename-dynamic-symbols` on the fixtures: names read back in the table (the patcher
//! itself checks that both hash tables find every symbol by its new name, and a test
//! here that the check can fail), and the versions follow a reordering.

use super::super::image::Image;
use super::*;
use crate::elf::patch::rename::{gnu_hash, lookups_hold, sysv_hash};

/// The symbol names of `b`, in table order (the null symbol left out).
fn symbol_names(b: &[u8]) -> Vec<String> {
    parse(b)
        .unwrap()
        .symbols
        .into_iter()
        .map(|s| s.name)
        .collect()
}

#[test]
fn renamed_symbols_read_back_and_hash_to_their_new_names() {
    let mut tried = 0;
    for &(name, b) in FIXTURES {
        let before = symbol_names(b);
        // A defined symbol and an imported one, where the file has them.
        let info = parse(b).unwrap();
        let defined = info
            .symbols
            .iter()
            .find(|s| s.defined)
            .map(|s| s.name.clone());
        let imported = info
            .symbols
            .iter()
            .find(|s| !s.defined)
            .map(|s| s.name.clone());
        let mut map: Vec<(String, String)> = Vec::new();
        for (old, new) in [
            (defined, "renamed_defined_symbol"),
            (imported, "zz_imported"),
        ] {
            if let Some(old) = old {
                map.push((old, format!("{new}_{}", name.len())));
            }
        }
        if map.is_empty() {
            continue;
        }
        let out = match apply(b, &[Edit::RenameDynamicSymbols(map.clone())]) {
            Ok(out) => out,
            Err(PatchError::CannotReorder(_)) => continue,
            Err(e) => panic!("{name}: {e}"),
        };
        assert!(out.changed, "{name}");
        let mut want: Vec<String> = before
            .iter()
            .map(|n| {
                map.iter()
                    .find(|(o, _)| o == n)
                    .map_or(n.clone(), |(_, new)| new.clone())
            })
            .collect();
        let mut got = symbol_names(&out.bytes);
        // The same names, perhaps in another order.
        want.sort();
        got.sort();
        assert_eq!(got, want, "{name}");
        // The versions stay with their symbols.
        let versions = |b: &[u8], renamed: bool| -> Vec<(String, Option<String>)> {
            let mut v: Vec<_> = parse(b)
                .unwrap()
                .symbols
                .into_iter()
                .map(|s| {
                    let n = if renamed {
                        map.iter()
                            .find(|(_, new)| *new == s.name)
                            .map_or(s.name.clone(), |(o, _)| o.clone())
                    } else {
                        s.name.clone()
                    };
                    (n, s.version.map(|v| format!("{:?}", v.name)))
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(versions(&out.bytes, true), versions(b, false), "{name}");
        // Renaming again finds nothing by the old names.
        assert!(
            !apply(&out.bytes, &[Edit::RenameDynamicSymbols(map)])
                .unwrap()
                .changed,
            "{name}"
        );
        tried += 1;
    }
    assert!(tried >= 8, "{tried} fixtures renamed");
}

/// The read-back check finds every symbol through both hash tables, and notices a
/// table that does not find one.
#[test]
fn the_lookup_check_notices_a_broken_table() {
    for &(name, b) in FIXTURES {
        let names: Vec<Vec<u8>> = std::iter::once(String::new())
            .chain(symbol_names(b))
            .map(String::into_bytes)
            .collect();
        assert_eq!(
            lookups_hold(&Image::read(b).unwrap(), &names),
            Ok(true),
            "{name}"
        );
        // Broken tables: no symbol is found.
        let img = Image::read(b).unwrap();
        let rd = img.header.rd;
        let d = crate::elf::dynamic::Dynamic::read(b, rd, &img.segments[img.dyn_index]).unwrap();
        let map = crate::elf::header::AddressMap::new(&img.segments);
        let mut broken = b.to_vec();
        if let Some(addr) = d.gnu_hash {
            let (off, _) = map.offset(addr, "GNU hash").unwrap();
            let off = off as usize;
            let (nbuckets, bloom) = (rd.u32(b, off) as usize, rd.u32(b, off + 8) as usize);
            let first = rd.u32(b, off + 4) as usize;
            // Chains whose hashes match no name (a table with every bucket empty would
            // cover no symbol).
            let at = off + 16 + bloom * rd.word_size() as usize + 4 * nbuckets;
            broken[at..at + 4 * (names.len() - first)].fill(0x5a);
        }
        if let Some(addr) = d.hash {
            let (off, _) = map.offset(addr, "hash").unwrap();
            let off = off as usize;
            let e = crate::elf::symbols::HashEntries::of(&img.header);
            let (size, nbucket) = (e.size as usize, e.get(&b[off..], 0) as usize);
            broken[off + 2 * size..off + (2 + nbucket) * size].fill(0);
        }
        assert_eq!(
            lookups_hold(&Image::read(&broken).unwrap(), &names),
            Ok(false),
            "{name}"
        );
    }
}

#[test]
fn hashes_as_the_loader_computes_them() {
    // From the gABI and glibc's dl_new_hash.
    assert_eq!(gnu_hash(b""), 5381);
    assert_eq!(gnu_hash(b"printf"), 0x156b_2bb8);
    assert_eq!(sysv_hash(b""), 0);
    assert_eq!(sysv_hash(b"printf"), 0x0779_05a6);
}

/// Where a renaming must reorder the symbols, a file that a reordering would break is
/// refused (here a MIPS machine number, whose global offset table follows the symbol
/// order); a renamed import reorders nothing and is made.
#[test]
fn a_reordering_is_refused_only_where_one_is_needed() {
    let mut b = fixture("x86_64-gnu.so").to_vec();
    b[18..20].copy_from_slice(&8u16.to_le_bytes());
    let info = parse(&b).unwrap();
    let import = info
        .symbols
        .iter()
        .find(|s| !s.defined)
        .unwrap()
        .name
        .clone();
    let out = apply(
        &b,
        &[Edit::RenameDynamicSymbols(vec![(import, s("zz_import"))])],
    )
    .unwrap();
    assert!(out.changed);
    // Every defined symbol renamed: at least one changes bucket.
    let map: Vec<(String, String)> = info
        .symbols
        .iter()
        .filter(|s| s.defined)
        .map(|s| (s.name.clone(), format!("{}_moved_elsewhere", s.name)))
        .collect();
    assert!(matches!(
        apply(&b, &[Edit::RenameDynamicSymbols(map)]),
        Err(PatchError::CannotReorder(_))
    ));
}
