//! Symbol versions: each policy boundary, on each architecture, both sides.

use super::*;

#[test]
fn glibc_2_17_is_manylinux2014_and_2_18_is_not() {
    let ok = one_symbol(&Arch::X86_64, "libc.so.6", "GLIBC_2.17");
    assert_eq!(ok.overall.to_string(), "manylinux_2_17_x86_64");
    assert_eq!(ok.symbol, ok.overall);
    assert_eq!(ok.satisfies(&tag("manylinux2014_x86_64")), Some(true));
    assert_eq!(ok.satisfies(&tag("manylinux2010_x86_64")), Some(false));
    let newer = one_symbol(&Arch::X86_64, "libc.so.6", "GLIBC_2.18");
    // There is no manylinux_2_18 policy: the next one is 2_24.
    assert_eq!(newer.overall.to_string(), "manylinux_2_24_x86_64");
    assert_eq!(newer.satisfies(&tag("manylinux2014_x86_64")), Some(false));
    let Reason::SymbolVersion { version, users } = &reasons(&newer, "manylinux_2_17_x86_64")[0]
    else {
        panic!("expected a symbol version reason");
    };
    assert_eq!(version.to_string(), "GLIBC_2.18");
    assert_eq!(users[0].elf, ElfRef::Member { path: CORE.into() });
    assert_eq!(
        (users[0].library.as_str(), users[0].symbols.as_slice()),
        ("libc.so.6", &["sym".to_owned()][..])
    );
}

#[test]
fn fcntl64_needs_glibc_2_28() {
    let mut sys = System::glibc(&Arch::X86_64);
    let ext = import(
        extension(CORE, &Arch::X86_64),
        "libc.so.6",
        "GLIBC_2.2.5",
        "memcpy",
    );
    let ext = import(ext, "libc.so.6", "GLIBC_2.28", "fcntl64");
    let report = show(&sys.wheel(vec![(CORE, ext)]), "linux_x86_64");
    assert_eq!(report.overall.to_string(), "manylinux_2_28_x86_64");
    for stricter in [
        "manylinux_2_27_x86_64",
        "manylinux_2_17_x86_64",
        "manylinux_2_5_x86_64",
    ] {
        let v = report.verdict(&tag(stricter)).unwrap();
        assert!(!v.satisfied);
        assert_eq!(
            v.reasons,
            [Reason::SymbolVersion {
                version: SymbolVersion::parse("GLIBC_2.28"),
                users: vec![VersionUser {
                    elf: ElfRef::Member { path: CORE.into() },
                    library: "libc.so.6".into(),
                    symbols: vec!["fcntl64".into()],
                }],
            }]
        );
    }
    for looser in [
        "manylinux_2_28_x86_64",
        "manylinux_2_41_x86_64",
        "linux_x86_64",
    ] {
        let v = report.verdict(&tag(looser)).unwrap();
        assert!(v.satisfied && v.reasons.is_empty(), "{looser}");
    }
    assert_eq!(report.versioned_symbols["libc.so.6"].len(), 2);
}

#[test]
fn every_policy_boundary_on_every_architecture() {
    let mut checked = 0;
    for arch in [
        "x86_64",
        "i686",
        "aarch64",
        "armv7l",
        "ppc64le",
        "ppc64",
        "s390x",
        "riscv64",
        "loongarch64",
    ] {
        let arch = Arch::parse(arch);
        let set = PolicySet::manylinux(&arch).unwrap();
        for policy in set.iter().filter(|p| !p.is_linux()) {
            let PolicyName::Manylinux(v) = policy.name else {
                unreachable!()
            };
            let own = format!("{}.{}", v.major, v.minor);
            if !policy.symbol_versions["GLIBC"].contains(&own) {
                continue; // glibc 2.37 added no symbol version on most architectures
            }
            let report = one_symbol(&arch, "libc.so.6", &format!("GLIBC_{own}"));
            // met by this policy, missed by every stricter one
            assert_eq!(report.overall, policy.tag(), "GLIBC_{own} on {arch}");
            checked += 1;
        }
    }
    assert!(checked > 80, "{checked}");
}

#[test]
fn aarch64_manylinux2014_allows_glibc_2_18() {
    let r = one_symbol(&Arch::Aarch64, "libc.so.6", "GLIBC_2.18");
    assert_eq!(r.overall.to_string(), "manylinux_2_17_aarch64");
    let r = one_symbol(&Arch::Aarch64, "libc.so.6", "GLIBC_2.22");
    assert_eq!(r.overall.to_string(), "manylinux_2_24_aarch64");
    // glibc 2.19 defined no new version on aarch64: no policy lists it
    let r = one_symbol(&Arch::Aarch64, "libc.so.6", "GLIBC_2.19");
    assert_eq!(r.overall.to_string(), "linux_aarch64");
}

#[test]
fn libstdcxx_and_gcc_limits() {
    let x = Arch::X86_64;
    let cases = [
        ("libstdc++.so.6", "GLIBCXX_3.4.19", "manylinux_2_17_x86_64"),
        ("libstdc++.so.6", "GLIBCXX_3.4.20", "manylinux_2_24_x86_64"),
        ("libstdc++.so.6", "GLIBCXX_3.4.8", "manylinux_2_5_x86_64"),
        ("libstdc++.so.6", "GLIBCXX_3.4.9", "manylinux_2_12_x86_64"),
        ("libstdc++.so.6", "CXXABI_1.3.7", "manylinux_2_17_x86_64"),
        ("libstdc++.so.6", "CXXABI_1.3.8", "manylinux_2_24_x86_64"),
        ("libstdc++.so.6", "CXXABI_TM_1", "manylinux_2_17_x86_64"),
        ("libstdc++.so.6", "GLIBCXX_3.4.33", "manylinux_2_39_x86_64"),
        ("libgcc_s.so.1", "GCC_4.2.0", "manylinux_2_5_x86_64"),
        ("libgcc_s.so.1", "GCC_4.3.0", "manylinux_2_12_x86_64"),
        ("libgcc_s.so.1", "GCC_4.8.0", "manylinux_2_17_x86_64"),
        ("libgcc_s.so.1", "GCC_7.0.0", "manylinux_2_27_x86_64"),
        ("libz.so.1", "ZLIB_1.2.5.2", "manylinux_2_17_x86_64"),
        ("libz.so.1", "ZLIB_1.2.9", "manylinux_2_27_x86_64"),
        ("libc.so.6", "GLIBC_2.5", "manylinux_2_5_x86_64"),
        ("libc.so.6", "GLIBC_2.6", "manylinux_2_12_x86_64"),
    ];
    for (file, version, want) in cases {
        let r = one_symbol(&x, file, version);
        assert_eq!(r.overall.to_string(), want, "{version}");
        assert_eq!(r.symbol.to_string(), want, "{version}");
    }
    // glibc versions of i686 start at GLIBC_2.0
    assert_eq!(
        one_symbol(&Arch::I686, "libc.so.6", "GLIBC_2.0")
            .overall
            .to_string(),
        "manylinux_2_5_i686"
    );
    assert_eq!(
        one_symbol(&x, "libc.so.6", "GLIBC_2.0").overall.to_string(),
        "linux_x86_64",
        "x86_64 glibc starts at 2.2.5"
    );
}

#[test]
fn private_and_unknown_versions() {
    let r = one_symbol(&Arch::X86_64, "libc.so.6", "GLIBC_PRIVATE");
    assert_eq!(r.overall.to_string(), "linux_x86_64");
    assert_eq!(r.symbol.to_string(), "linux_x86_64");
    assert!(
        matches!(&reasons(&r, "manylinux_2_41_x86_64")[0], Reason::SymbolVersion { version, .. } if version.to_string() == "GLIBC_PRIVATE")
    );
    // A prefix no policy governs is not checked.
    let mut sys = System::glibc(&Arch::X86_64).with("libssl.so.3", lib_facts(&Arch::X86_64, &[]));
    let ext = import(
        extension(CORE, &Arch::X86_64),
        "libssl.so.3",
        "OPENSSL_3.0.0",
        "SSL_new",
    );
    let r = repair(&sys.wheel(vec![(CORE, ext)]), "linux_x86_64", "auto");
    assert_eq!(r.symbol.to_string(), "manylinux_2_5_x86_64");
    // The loader's own versions are not collected.
    let ext = import(
        extension(CORE, &Arch::X86_64),
        "ld-linux-x86-64.so.2",
        "GLIBC_2.34",
        "_dl_x",
    );
    let r = show(&sys.wheel(vec![(CORE, ext)]), "linux_x86_64");
    assert_eq!(r.overall.to_string(), "manylinux_2_5_x86_64");
    assert!(r.versioned_symbols.is_empty());
}

#[test]
fn other_architectures() {
    for (arch, glibc, want, manylinux2014) in [
        ("i686", "GLIBC_2.12", "manylinux_2_12_i686", Some(true)),
        (
            "ppc64le",
            "GLIBC_2.17",
            "manylinux_2_17_ppc64le",
            Some(true),
        ),
        ("s390x", "GLIBC_2.28", "manylinux_2_28_s390x", Some(false)),
        ("armv7l", "GLIBC_2.31", "manylinux_2_31_armv7l", Some(false)),
        ("riscv64", "GLIBC_2.27", "manylinux_2_31_riscv64", None),
        ("ppc64", "GLIBC_2.17", "manylinux_2_17_ppc64", Some(true)),
    ] {
        let r = one_symbol(&Arch::parse(arch), "libc.so.6", glibc);
        assert_eq!(r.overall.to_string(), want);
        assert_eq!(
            r.satisfies(&tag(&format!("manylinux2014_{arch}"))),
            manylinux2014,
            "{arch}"
        );
    }
}
