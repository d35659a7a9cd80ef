//! What each policy asks a wheel to bundle: auditwheel's `ExternalReference` per policy
//! for one dependency tree (`WheelPolicies.lddtree_external_references`), the merge of
//! those over a wheel (`wheel_abi.update`), and the repair of the trees of non-extension
//! ELF files from the trees of others (`_fixup_elf_trees`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::input::{ElfFacts, SymbolBinding};
use super::name::Libc;
use super::set::PolicySet;
use super::tree::{is_libpython, DependencyTree, LibraryLocation, TreeLibrary};

/// What one policy asks of a tree or a wheel (auditwheel's `ExternalReference`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExternalRefs {
    /// Libraries the policy does not allow and the wheel does not carry: DT_NEEDED name →
    /// real path, `None` when it was not found. These are what `repair` grafts.
    pub libs: BTreeMap<String, Option<String>>,
    /// Blacklisted symbols imported: library → symbol names, sorted.
    pub blacklist: BTreeMap<String, Vec<String>>,
}

/// The dynamic loader is never a dependency to bundle: `ld-linux*`, `ld64.so.2` (s390x),
/// `ld64.so.1` (ppc64le).
pub(crate) fn is_loader(soname: &str) -> bool {
    soname.contains("ld-linux") || soname == "ld64.so.2" || soname == "ld64.so.1"
}

/// auditwheel's `lddtree_external_references` for one tree: one [`ExternalRefs`] per
/// policy of `policies`, in the set's order. `facts` are the top file's own facts.
pub(crate) fn external_references(
    policies: &PolicySet,
    tree: &DependencyTree,
    facts: &ElfFacts,
) -> Vec<ExternalRefs> {
    // Blacklists apply to the top file's direct needs only, and to its undefined,
    // non-weak dynamic symbols, whatever library actually provides them.
    let direct: BTreeSet<&String> = tree.needed.iter().collect();
    let imported: std::cell::OnceCell<BTreeSet<&str>> = std::cell::OnceCell::new();
    policies
        .iter()
        .map(|p| {
            if p.is_linux() {
                // `linux` has no whitelist: nothing is external.
                return ExternalRefs::default();
            }
            // libpython is a normal dependency on Android (auditwheel's `filter_libs`).
            let android = policies.libc() == Libc::Android;
            let allowed = |lib: &&String| {
                !(is_loader(lib) || p.whitelists(lib) || android && is_libpython(lib))
            };
            let mut blacklist = BTreeMap::new();
            let listed: Vec<(&String, &BTreeSet<String>)> = p
                .blacklist
                .iter()
                .filter(|(lib, _)| direct.contains(lib))
                .collect();
            if !listed.is_empty() {
                let imported =
                    imported.get_or_init(|| blacklisted_imports(policies, &direct, facts));
                for (lib, symbols) in listed {
                    // A blacklist entry `*` names every symbol.
                    let hit: Vec<String> = symbols
                        .iter()
                        .filter(|s| *s == "*" || imported.contains(s.as_str()))
                        .cloned()
                        .collect();
                    if !hit.is_empty() {
                        blacklist.insert(lib.clone(), hit);
                    }
                }
            }
            // Every library reachable through libraries that are neither the loader nor
            // whitelisted; a whitelisted library's own needs are not followed.
            let mut todo: Vec<&String> = tree.needed.iter().filter(allowed).collect();
            let mut reached: BTreeSet<&String> = BTreeSet::new();
            while let Some(lib) = todo.pop() {
                if !reached.insert(lib) {
                    continue;
                }
                if let Some(node) = tree.libraries.get(lib) {
                    todo.extend(
                        node.needed
                            .iter()
                            .filter(allowed)
                            .filter(|d| !reached.contains(d)),
                    );
                }
            }
            // Libraries found inside the wheel were walked through but are not external.
            let libs = reached
                .into_iter()
                .filter_map(|lib| {
                    let node = tree.libraries.get(lib);
                    match node.and_then(|n| n.location.as_ref()) {
                        Some(LibraryLocation::InWheel(_)) => None,
                        Some(LibraryLocation::External(path)) => {
                            Some((lib.clone(), Some(path.clone())))
                        }
                        None => Some((lib.clone(), None)),
                    }
                })
                .collect();
            ExternalRefs { libs, blacklist }
        })
        .collect()
}

/// The names, blacklisted by any policy for one of `direct`'s libraries, that `facts`
/// imports (undefined and not weak). One pass over the imports, each compared only when
/// a blacklisted name has its length: torch's files import thousands of symbols, the
/// blacklists name a few dozen.
fn blacklisted_imports<'f>(
    policies: &PolicySet,
    direct: &BTreeSet<&String>,
    facts: &'f ElfFacts,
) -> BTreeSet<&'f str> {
    let names: BTreeSet<&str> = policies
        .iter()
        .flat_map(|p| p.blacklist.iter())
        .filter(|(lib, _)| direct.contains(lib))
        .flat_map(|(_, symbols)| symbols.iter().map(String::as_str))
        .collect();
    let mut lengths = [false; 257];
    for n in &names {
        lengths[n.len().min(256)] = true;
    }
    facts
        .symbols
        .iter()
        .filter(|s| !s.defined && s.binding != SymbolBinding::Weak)
        .map(|s| s.name.as_str())
        .filter(|n| lengths[n.len().min(256)] && names.contains(n))
        .collect()
}

/// auditwheel's `update`: adds one file's references to the wheel's, policy by policy.
/// Blacklisted symbols are united; for a library named twice, the later path wins.
pub(crate) fn merge(into: &mut [ExternalRefs], from: &[ExternalRefs]) {
    for (acc, refs) in into.iter_mut().zip(from) {
        for (lib, symbols) in &refs.blacklist {
            let entry = acc.blacklist.entry(lib.clone()).or_default();
            let all: BTreeSet<String> = entry.iter().chain(symbols).cloned().collect();
            *entry = all.into_iter().collect();
        }
        for (lib, path) in &refs.libs {
            acc.libs.insert(lib.clone(), path.clone());
        }
    }
}

/// auditwheel's `_fixup_elf_trees`: a non-extension ELF file of the wheel (typically a
/// library grafted by an earlier repair) whose tree has unresolved libraries borrows the
/// resolutions of a fully resolved tree that reached this very file (through the RPATH of
/// the file that needs it), with what those resolutions need in turn.
///
/// `trees` holds `(member path, tree)` of the extensions first, then of the other files,
/// in wheel order; only the trees at `others` are changed.
pub(crate) fn fixup_trees(trees: &mut [(String, DependencyTree)], others: &[usize]) {
    let resolved: Vec<usize> = (0..trees.len())
        .filter(|&i| trees[i].1.fully_resolved())
        .collect();
    let mut replacements = Vec::new();
    for &i in others {
        let (path, tree) = &trees[i];
        if tree.fully_resolved() {
            continue;
        }
        let me = LibraryLocation::InWheel(path.clone());
        let Some(&reference) = resolved.iter().find(|&&r| {
            trees[r]
                .1
                .libraries
                .values()
                .any(|l| l.location.as_ref() == Some(&me))
        }) else {
            continue;
        };
        let reference = &trees[reference].1.libraries;
        let mut all: BTreeSet<String> = tree.libraries.keys().cloned().collect();
        let mut libraries: BTreeMap<String, TreeLibrary> = BTreeMap::new();
        for (soname, lib) in &tree.libraries {
            match reference.get(soname) {
                Some(borrowed) if lib.location.is_none() => {
                    libraries.insert(soname.clone(), borrowed.clone());
                    let mut new: BTreeSet<String> = borrowed
                        .needed
                        .iter()
                        .filter(|n| !all.contains(*n))
                        .cloned()
                        .collect();
                    while !new.is_empty() {
                        all.extend(new.iter().cloned());
                        let mut next = BTreeSet::new();
                        for n in &new {
                            if let Some(dep) = reference.get(n) {
                                libraries.insert(n.clone(), dep.clone());
                                next.extend(dep.needed.iter().cloned());
                            }
                        }
                        new = next.into_iter().filter(|n| !all.contains(n)).collect();
                    }
                }
                _ => {
                    libraries.insert(soname.clone(), lib.clone());
                }
            }
        }
        replacements.push((i, libraries));
    }
    for (i, libraries) in replacements {
        trees[i].1.libraries = libraries;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::input::{DynamicSymbol, IsaLevel};
    use crate::wheel::tags::Arch;

    fn lib(location: Option<LibraryLocation>, needed: &[&str]) -> TreeLibrary {
        TreeLibrary {
            location,
            needed: needed.iter().map(|&s| s.to_owned()).collect(),
            version_needs: Vec::new(),
            isa: IsaLevel::Baseline,
        }
    }

    fn ext(p: &str) -> Option<LibraryLocation> {
        Some(LibraryLocation::External(p.to_owned())).filter(|_| !p.is_empty())
    }

    #[test]
    fn whitelisted_libraries_are_not_followed_and_wheel_libraries_not_external() {
        let set = PolicySet::manylinux(&Arch::X86_64).unwrap();
        let tree = DependencyTree {
            needed: vec![
                "libc.so.6".into(),
                "libfoo.so.1".into(),
                "libm.so.6".into(),
                "ld-linux-x86-64.so.2".into(),
            ],
            libraries: BTreeMap::from([
                (
                    "libc.so.6".into(),
                    lib(ext("/lib64/libc.so.6"), &["libsecret.so"]),
                ),
                ("libm.so.6".into(), lib(ext("/lib64/libm.so.6"), &[])),
                ("libsecret.so".into(), lib(ext("/lib64/libsecret.so"), &[])),
                (
                    "libfoo.so.1".into(),
                    lib(
                        Some(LibraryLocation::InWheel("pkg.libs/libfoo.so.1".into())),
                        &["libbar.so.2"],
                    ),
                ),
                ("libbar.so.2".into(), lib(None, &[])),
                (
                    "ld-linux-x86-64.so.2".into(),
                    lib(ext("/lib64/ld-linux-x86-64.so.2"), &[]),
                ),
            ]),
        };
        let facts = ElfFacts {
            symbols: vec![
                DynamicSymbol::import("__cxa_thread_atexit"),
                DynamicSymbol::import("sin"),
            ],
            ..ElfFacts::default()
        };
        let refs = external_references(&set, &tree, &facts);
        assert_eq!(refs.len(), set.len());
        let strict = &refs[0];
        assert_eq!(
            strict.libs,
            BTreeMap::from([("libbar.so.2".to_owned(), None)])
        );
        assert!(
            refs.last().unwrap().libs.is_empty(),
            "linux has no externals"
        );
        // a blacklisted libc.so.6 symbol (manylinux 2.5 to 2.17 list some)
        let listed = set
            .highest()
            .blacklist
            .get("libc.so.6")
            .cloned()
            .unwrap_or_default();
        if let Some(sym) = listed.iter().next() {
            let with = ElfFacts {
                symbols: vec![DynamicSymbol::import(sym)],
                ..ElfFacts::default()
            };
            let refs = external_references(&set, &tree, &with);
            assert_eq!(refs[0].blacklist["libc.so.6"], vec![sym.clone()]);
            let mut w = with.clone();
            w.symbols[0].binding = SymbolBinding::Weak;
            assert!(external_references(&set, &tree, &w)[0].blacklist.is_empty());
        }
    }

    #[test]
    fn merge_unites_blacklists_and_keeps_the_later_path() {
        let mut acc = vec![ExternalRefs::default()];
        let a = ExternalRefs {
            libs: BTreeMap::from([("libx.so".to_owned(), Some("/a/libx.so".to_owned()))]),
            blacklist: BTreeMap::from([("libz.so.1".to_owned(), vec!["zcfree".to_owned()])]),
        };
        let b = ExternalRefs {
            libs: BTreeMap::from([("libx.so".to_owned(), Some("/b/libx.so".to_owned()))]),
            blacklist: BTreeMap::from([(
                "libz.so.1".to_owned(),
                vec!["zcalloc".to_owned(), "zcfree".to_owned()],
            )]),
        };
        merge(&mut acc, &[a]);
        merge(&mut acc, &[b]);
        assert_eq!(acc[0].libs["libx.so"].as_deref(), Some("/b/libx.so"));
        assert_eq!(acc[0].blacklist["libz.so.1"], ["zcalloc", "zcfree"]);
    }

    #[test]
    fn fixup_borrows_from_a_resolved_tree_that_reaches_the_file() {
        let ext_tree = DependencyTree {
            needed: vec!["libvendored.so".into()],
            libraries: BTreeMap::from([
                (
                    "libvendored.so".into(),
                    lib(
                        Some(LibraryLocation::InWheel("pkg.libs/libvendored.so".into())),
                        &["libdep.so"],
                    ),
                ),
                (
                    "libdep.so".into(),
                    lib(
                        Some(LibraryLocation::InWheel("pkg.libs/libdep.so".into())),
                        &["libdeeper.so"],
                    ),
                ),
                (
                    "libdeeper.so".into(),
                    lib(ext("/usr/lib/libdeeper.so"), &[]),
                ),
            ]),
        };
        let vendored = DependencyTree {
            needed: vec!["libdep.so".into()],
            libraries: BTreeMap::from([("libdep.so".into(), lib(None, &[]))]),
        };
        let mut trees = vec![
            ("pkg/_ext.so".to_owned(), ext_tree.clone()),
            ("pkg.libs/libvendored.so".to_owned(), vendored),
        ];
        fixup_trees(&mut trees, &[1]);
        let fixed = &trees[1].1;
        assert_eq!(
            fixed.libraries["libdep.so"],
            ext_tree.libraries["libdep.so"]
        );
        assert_eq!(
            fixed.libraries["libdeeper.so"],
            ext_tree.libraries["libdeeper.so"]
        );
        assert_eq!(fixed.needed, ["libdep.so"]);
    }
}
