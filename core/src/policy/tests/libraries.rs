//! Libraries: whitelisted, external, inside the wheel, blacklisted symbols, grafting.

use super::*;

#[test]
fn blacklisted_symbols() {
    let x = Arch::X86_64;
    let mut sys = System::glibc(&x);
    let mut ext = extension(CORE, &x);
    ext.symbols
        .push(DynamicSymbol::import("__cxa_thread_atexit_impl"));
    let r = show(&sys.wheel(vec![(CORE, ext.clone())]), "linux_x86_64");
    // listed for libc.so.6 up to manylinux_2_17, not from 2_24 on
    assert_eq!(r.blacklist.to_string(), "manylinux_2_24_x86_64");
    assert_eq!(r.overall.to_string(), "manylinux_2_24_x86_64");
    assert_eq!(
        reasons(&r, "manylinux2014_x86_64"),
        [Reason::BlacklistedSymbols {
            library: "libc.so.6".into(),
            symbols: vec!["__cxa_thread_atexit_impl".into()],
            members: vec![CORE.into()],
        }]
    );
    // a weak import is optional: not counted
    let mut weak = ext.clone();
    weak.symbols.last_mut().unwrap().binding = SymbolBinding::Weak;
    let r = show(&sys.wheel(vec![(CORE, weak)]), "linux_x86_64");
    assert_eq!(r.overall.to_string(), "manylinux_2_5_x86_64");
    // only the direct needs of the file are looked at (auditwheel quirk)
    let mut indirect = ext;
    indirect.needed.clear();
    indirect.needed.push("libm.so.6".into());
    let r = show(&sys.wheel(vec![(CORE, indirect)]), "manylinux_2_17_x86_64");
    assert_eq!(r.blacklist.to_string(), "manylinux_2_5_x86_64");
}

#[test]
fn a_library_outside_the_whitelist() {
    let x = Arch::X86_64;
    let mut sys = System::glibc(&x)
        .with("libfoo.so.1", lib_facts(&x, &["libc.so.6", "libbar.so.2"]))
        .with("libbar.so.2", lib_facts(&x, &["libc.so.6"]));
    let elfs = sys.wheel(vec![(CORE, needs(extension(CORE, &x), "libfoo.so.1"))]);
    // show: the library counts against every policy but linux
    let r = show(&elfs, "linux_x86_64");
    assert_eq!(r.overall.to_string(), "linux_x86_64");
    assert_eq!(r.reference.to_string(), "linux_x86_64");
    assert_eq!(r.symbol.to_string(), "manylinux_2_5_x86_64");
    let strict = reasons(&r, "manylinux_2_5_x86_64");
    assert_eq!(
        strict[0],
        Reason::ExternalLibrary {
            soname: "libbar.so.2".into(),
            path: Some("/usr/lib/libbar.so.2".into()),
            members: vec![CORE.into()],
            via: vec!["libfoo.so.1".into()],
            blocking: true,
        }
    );
    assert!(
        matches!(&strict[1], Reason::ExternalLibrary { soname, via, .. } if soname == "libfoo.so.1" && via.is_empty())
    );
    // repair: it will be bundled, so it does not lower the tag
    let r = repair(&elfs, "linux_x86_64", "auto");
    assert_eq!(r.overall.to_string(), "manylinux_2_5_x86_64");
    let v = r.verdict(&tag("manylinux_2_5_x86_64")).unwrap();
    assert!(v.satisfied);
    assert!(v.reasons.iter().all(|r| matches!(
        r,
        Reason::ExternalLibrary {
            blocking: false,
            ..
        }
    )));
    assert_eq!(r.refs(&tag("manylinux1_x86_64")).unwrap().libs.len(), 2);
    assert_eq!(r.member_refs[CORE][0].refs.libs.len(), 2);
}

#[test]
fn bundled_libraries_bring_their_symbol_versions() {
    let x = Arch::X86_64;
    let foo = import(lib_facts(&x, &[]), "libc.so.6", "GLIBC_2.28", "fcntl64");
    let mut sys = System::glibc(&x).with("libfoo.so.1", foo);
    let elfs = sys.wheel(vec![(CORE, needs(extension(CORE, &x), "libfoo.so.1"))]);
    let r = repair(&elfs, "linux_x86_64", "auto");
    assert_eq!(r.symbol.to_string(), "manylinux_2_28_x86_64");
    assert_eq!(r.overall.to_string(), "manylinux_2_28_x86_64");
    assert!(r.versioned_symbols["libc.so.6"].contains("GLIBC_2.28"));
    let Reason::SymbolVersion { users, .. } = &reasons(&r, "manylinux_2_17_x86_64")[0] else {
        panic!()
    };
    assert_eq!(
        users[0].elf,
        ElfRef::Library {
            soname: "libfoo.so.1".into(),
            path: "/usr/lib/libfoo.so.1".into()
        }
    );
}

#[test]
fn libexpat_is_whitelisted_from_manylinux2010() {
    let x = Arch::X86_64;
    let mut expat = lib_facts(&x, &["libc.so.6"]);
    let mut sys = System::glibc(&x).with("libexpat.so.1", expat.clone());
    let elfs = sys.wheel(vec![(CORE, needs(extension(CORE, &x), "libexpat.so.1"))]);
    let r = show(&elfs, "manylinux_2_12_x86_64");
    assert_eq!(r.overall.to_string(), "manylinux_2_12_x86_64");
    assert!(
        matches!(&reasons(&r, "manylinux1_x86_64")[0], Reason::ExternalLibrary { soname, .. } if soname == "libexpat.so.1")
    );
    assert!(reasons(&r, "manylinux2010_x86_64").is_empty());
    // the system's libexpat needs x86-64-v3: a policy whitelisting it is still fine
    expat.isa = IsaLevel::X86_64V3;
    let mut sys = System::glibc(&x).with("libexpat.so.1", expat);
    let elfs = sys.wheel(vec![(CORE, needs(extension(CORE, &x), "libexpat.so.1"))]);
    let r = repair(&elfs, "linux_x86_64", "auto");
    assert_eq!(r.machine.to_string(), "manylinux_2_12_x86_64");
    assert_eq!(r.overall.to_string(), "manylinux_2_12_x86_64");
    assert!(reasons(&r, "manylinux_2_5_x86_64").iter().any(|r| matches!(
        r,
        Reason::IsaExtension {
            isa: IsaLevel::X86_64V3,
            ..
        }
    )));
}

#[test]
fn whitelisted_libraries_are_not_followed() {
    let x = Arch::X86_64;
    let mut sys = System::glibc(&x); // libstdc++ needs libsecret.so.0, unknown here
    let ext = import(
        extension(CORE, &x),
        "libstdc++.so.6",
        "GLIBCXX_3.4",
        "_ZSt4cout",
    );
    let r = show(&sys.wheel(vec![(CORE, ext)]), "linux_x86_64");
    assert_eq!(r.overall.to_string(), "manylinux_2_5_x86_64");
    assert!(r.external_refs.iter().all(|p| p.refs.libs.is_empty()));
}

#[test]
fn libraries_inside_the_wheel_are_not_external_but_their_needs_are() {
    let x = Arch::X86_64;
    let vendored = "demo.libs/libvendored-1a2b3c4d.so.1";
    let mut sys = System::glibc(&x)
        .in_wheel(
            "libvendored-1a2b3c4d.so.1",
            vendored,
            lib_facts(&x, &["libfoo.so.1", "libc.so.6"]),
        )
        .with("libfoo.so.1", lib_facts(&x, &["libc.so.6"]));
    let elfs = sys.wheel(vec![
        (
            CORE,
            needs(extension(CORE, &x), "libvendored-1a2b3c4d.so.1"),
        ),
        (vendored, lib_facts(&x, &["libfoo.so.1", "libc.so.6"])),
    ]);
    let r = show(&elfs, "linux_x86_64");
    assert_eq!(r.roots, [CORE]);
    assert_eq!(r.extensions, [CORE]);
    let strict = r.refs(&tag("manylinux_2_5_x86_64")).unwrap();
    assert_eq!(strict.libs.keys().collect::<Vec<_>>(), ["libfoo.so.1"]);
    assert!(r.member_refs.contains_key(vendored), "kept for repair");
    // A file no member needs is a root of its own.
    let tool = "demo/bin/tool";
    let elfs = sys.wheel(vec![
        (CORE, extension(CORE, &x)),
        (tool, lib_facts(&x, &["libfoo.so.1", "libc.so.6"])),
    ]);
    let r = show(&elfs, "linux_x86_64");
    assert_eq!(r.roots, [CORE, tool]);
    assert_eq!(r.overall.to_string(), "linux_x86_64");
}

#[test]
fn a_vendored_library_borrows_resolutions_from_the_extension_tree() {
    let x = Arch::X86_64;
    let vendored = "demo.libs/libv.so";
    let ext_sys = System::glibc(&x)
        .in_wheel("libv.so", vendored, lib_facts(&x, &["libdep.so"]))
        .with("libdep.so", lib_facts(&x, &["libc.so.6"]));
    let mut ext_sys2 = ext_sys.clone();
    let core = ext_sys2
        .wheel(vec![(CORE, needs(extension(CORE, &x), "libv.so"))])
        .remove(0);
    // On its own (no RPATH of the extension), libv.so cannot find libdep.so.
    let mut bare = System::glibc(&x);
    let v = bare
        .wheel(vec![(vendored, lib_facts(&x, &["libdep.so"]))])
        .remove(0);
    assert!(v.tree.libraries["libdep.so"].location.is_none());
    let r = show(&[core, v], "linux_x86_64");
    let refs = &r.member_refs[vendored][0].refs;
    assert_eq!(
        refs.libs["libdep.so"].as_deref(),
        Some("/usr/lib/libdep.so")
    );
}

#[test]
fn libpython_is_never_resolved_and_counts_as_external() {
    let x = Arch::X86_64;
    let mut sys = System::glibc(&x).with("libpython3.11.so.1.0", lib_facts(&x, &[]));
    let elfs = sys.wheel(vec![(
        CORE,
        needs(extension(CORE, &x), "libpython3.11.so.1.0"),
    )]);
    let r = show(&elfs, "linux_x86_64");
    assert_eq!(r.overall.to_string(), "linux_x86_64");
    assert_eq!(
        r.refs(&tag("manylinux_2_5_x86_64")).unwrap().libs["libpython3.11.so.1.0"],
        None
    );
}

#[test]
fn repair_plat_limits_grafting_by_name_not_alias() {
    let x = Arch::X86_64;
    let mut sys = System::glibc(&x).with("libfoo.so.1", lib_facts(&x, &["libc.so.6"]));
    let elfs = sys.wheel(vec![(CORE, needs(extension(CORE, &x), "libfoo.so.1"))]);
    let r = repair(&elfs, "linux_x86_64", "manylinux_2_17_x86_64");
    assert_eq!(r.graft.to_string(), "manylinux_2_5_x86_64");
    assert_eq!(r.overall.to_string(), "manylinux_2_5_x86_64");
    // auditwheel matches `manylinux2014_` against PEP 600 names: nothing matches, so no
    // library may be grafted for the upgrade check.
    let r = repair(&elfs, "linux_x86_64", "manylinux2014_x86_64");
    assert_eq!(r.graft.to_string(), "linux_x86_64");
    assert_eq!(r.overall.to_string(), "linux_x86_64");
    assert!(
        reasons(&r, "manylinux_2_41_x86_64").contains(&Reason::TooManyLibraries {
            libraries: 1,
            allowed: 0
        })
    );
}

#[test]
fn repair_targets_like_auditwheel() {
    let x = Arch::X86_64;
    let mut sys = System::glibc(&x).with("libfoo.so.1", lib_facts(&x, &["libc.so.6"]));
    let elfs = sys.wheel(vec![(CORE, needs(extension(CORE, &x), "libfoo.so.1"))]);
    let plat: PlatRequest = "manylinux_2_17_x86_64".parse().unwrap();
    let r = repair(&elfs, "linux_x86_64", "manylinux_2_17_x86_64");
    // eligible for better than requested: both, the better first
    let t = r.repair_target(&plat, false).unwrap();
    assert_eq!(t.policy.to_string(), "manylinux_2_5_x86_64");
    let tags: Vec<String> = t.tags.iter().map(ToString::to_string).collect();
    assert_eq!(
        tags,
        [
            "manylinux_2_5_x86_64",
            "manylinux1_x86_64",
            "manylinux_2_17_x86_64",
            "manylinux2014_x86_64"
        ]
    );
    let t = r.repair_target(&plat, true).unwrap();
    assert_eq!(t.tags.len(), 2);
    assert_eq!(t.policy.to_string(), "manylinux_2_17_x86_64");
    // auto: the overall policy
    let auto = "auto".parse().unwrap();
    let r = repair(&elfs, "linux_x86_64", "auto");
    assert_eq!(
        r.repair_target(&auto, false).unwrap().policy.to_string(),
        "manylinux_2_5_x86_64"
    );
    // too-new symbols refuse a stricter request
    let ext = import(extension(CORE, &x), "libc.so.6", "GLIBC_2.28", "fcntl64");
    let r = repair(
        &sys.wheel(vec![(CORE, ext)]),
        "linux_x86_64",
        "manylinux_2_17_x86_64",
    );
    assert_eq!(
        r.repair_target(&plat, false),
        Err(RepairRefusal::SymbolVersions(tag("manylinux_2_17_x86_64")))
    );
    // auto on an x86-64-v2 wheel asks for the loosest policy, which the ISA refuses
    let mut v2 = extension(CORE, &x);
    v2.isa = IsaLevel::X86_64V2;
    let r = repair(&sys.wheel(vec![(CORE, v2)]), "linux_x86_64", "auto");
    assert_eq!(
        r.repair_target(&auto, false),
        Err(RepairRefusal::Isa(tag("manylinux_2_41_x86_64")))
    );
    // A refusal names the policy's legacy alias too, as a --plat may have spelled it.
    let msg = RepairRefusal::SymbolVersions(tag("manylinux_2_17_x86_64")).to_string();
    assert!(
        msg.starts_with(
            "cannot repair to `manylinux_2_17_x86_64` (`manylinux2014_x86_64`) because"
        ),
        "{msg}"
    );
    let msg = RepairRefusal::Isa(tag("manylinux_2_41_x86_64")).to_string();
    assert!(
        msg.starts_with("cannot repair to `manylinux_2_41_x86_64` because"),
        "{msg}"
    );
    let bad: PlatRequest = "manylinux_2_18_x86_64".parse().unwrap();
    assert!(matches!(
        r.repair_target(&bad, false),
        Err(RepairRefusal::UnknownPolicy(_))
    ));
}

/// Plan inputs with made-up hashes, and the `DT_NEEDED` names of the host libraries
/// given (none for the others).
struct Inputs(&'static [(&'static str, &'static [&'static str])]);

impl crate::repair::PlanInputs for Inputs {
    fn sha256_hex(&mut self, path: &str) -> Result<String, String> {
        Ok(format!("{:064x}", path.len()))
    }
    fn needed(&mut self, path: &str) -> Result<Vec<String>, String> {
        let needs = self
            .0
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(&[][..], |(_, n)| *n);
        Ok(needs.iter().map(|n| (*n).to_owned()).collect())
    }
    fn member_rpath(&mut self, _: &str) -> String {
        String::new()
    }
}

/// What a host reads ahead for a repair (`graft_sources`) is exactly what the plan then
/// grafts: here two extensions share one library, which needs another, and a vendored
/// library of the wheel needs a third.
#[test]
fn graft_sources_are_the_sources_the_plan_grafts() {
    let x = Arch::X86_64;
    let other = "demo/_other.cpython-311-x86_64-linux-gnu.so";
    let vendored = "demo.libs/libvendored-1a2b3c4d.so.1";
    let mut sys = System::glibc(&x)
        .in_wheel(
            "libvendored-1a2b3c4d.so.1",
            vendored,
            lib_facts(&x, &["libbaz.so.3"]),
        )
        .with("libfoo.so.1", lib_facts(&x, &["libc.so.6", "libbar.so.2"]))
        .with("libbar.so.2", lib_facts(&x, &["libc.so.6"]))
        .with("libbaz.so.3", lib_facts(&x, &["libc.so.6"]));
    let elfs = sys.wheel(vec![
        (
            CORE,
            needs(
                needs(extension(CORE, &x), "libfoo.so.1"),
                "libvendored-1a2b3c4d.so.1",
            ),
        ),
        (other, needs(extension(other, &x), "libfoo.so.1")),
        (vendored, lib_facts(&x, &["libbaz.so.3"])),
    ]);
    let r = repair(&elfs, "linux_x86_64", "auto");
    let policy = tag("manylinux_2_5_x86_64");
    let ahead = crate::repair::plan::graft_sources(&r, &policy);
    let plan = crate::repair::plan(&r, &policy, "demo", ".libs", false, &mut Inputs(&[])).unwrap();
    let mut grafted: Vec<&str> = plan.grafts.iter().map(|g| g.source.as_str()).collect();
    grafted.sort_unstable();
    assert_eq!(ahead, grafted);
    assert_eq!(ahead.len(), 3, "{ahead:?}");
}

/// A library missing deep in a member's tree is named with the library that needs it,
/// which the user can look up; one the member needs itself is named with the member.
#[test]
fn a_missing_library_is_named_with_what_needs_it() {
    let x = Arch::X86_64;
    let policy = tag("manylinux_2_5_x86_64");
    let mut sys =
        System::glibc(&x).with("libfoo.so.1", lib_facts(&x, &["libc.so.6", "libgone.so.9"]));
    let host = Inputs(&[("/usr/lib/libfoo.so.1", &["libc.so.6", "libgone.so.9"])]);
    for (top_needs, who) in [
        ("libfoo.so.1", format!("libfoo.so.1 (for {CORE})")),
        ("libgone.so.9", CORE.to_owned()),
    ] {
        let elfs = sys.wheel(vec![(CORE, needs(extension(CORE, &x), top_needs))]);
        let r = repair(&elfs, "linux_x86_64", "auto");
        let mut inputs = Inputs(host.0);
        let err =
            crate::repair::plan(&r, &policy, "demo", ".libs", false, &mut inputs).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot repair the wheel: the library libgone.so.9 that {who} needs could not be found")
        );
    }
}

/// Every library a member's tree misses is named, grouped by what needs it, so that one
/// search finds them all (the first alone was named: libssl after libcrypto).
#[test]
fn every_missing_library_is_named() {
    const DEPS: &[&str] = &["libc.so.6", "libssl.so.3", "libcrypto.so.3"];
    let x = Arch::X86_64;
    let policy = tag("manylinux_2_5_x86_64");
    let mut sys = System::glibc(&x).with("libdb.so.3", lib_facts(&x, DEPS));
    let mut inputs = Inputs(&[("/usr/lib/libdb.so.3", DEPS)]);
    let top = needs(needs(extension(CORE, &x), "libdb.so.3"), "libgone.so.9");
    let elfs = sys.wheel(vec![(CORE, top)]);
    let r = repair(&elfs, "linux_x86_64", "auto");
    let err = crate::repair::plan(&r, &policy, "demo", ".libs", false, &mut inputs).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot repair the wheel: the libraries libcrypto.so.3 and libssl.so.3 that \
             libdb.so.3 (for {CORE}) needs, and libgone.so.9 that {CORE} needs, could not be found"
        )
    );
}
