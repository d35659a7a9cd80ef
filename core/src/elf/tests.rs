//! Tests of the reader on the committed fixtures (`core/tests/elf-fixtures/make.sh`),
//! compared with readelf dumps made with them, and of the scanner against the parser.

use proptest::prelude::*;

use super::*;

mod elf_api {
    pub use crate::elf::*;
}
#[path = "../../tests/common/readelf.rs"]
mod readelf;

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../tests/elf-fixtures/", $name)) as &[u8],
            include_str!(concat!("../../tests/elf-fixtures/", $name, ".readelf")),
        )
    };
}

/// (name, bytes, readelf dump)
const FIXTURES: &[(&str, &[u8], &str)] = &[
    fixture!("x86_64-gnu.so"),
    fixture!("x86_64-sysv.so"),
    fixture!("x86_64-patchelf.so"),
    fixture!("x86_64-exe"),
    fixture!("i686.so"),
    fixture!("aarch64.so"),
    fixture!("armv7l.so"),
    fixture!("s390x.so"),
    fixture!("ppc64.so"),
    fixture!("ppc64le.so"),
    fixture!("riscv64.so"),
];

const NOSHDR: &[u8] = include_bytes!("../../tests/elf-fixtures/x86_64-noshdr.so");

fn fixture(name: &str) -> &'static [u8] {
    FIXTURES.iter().find(|f| f.0 == name).unwrap().1
}

#[test]
fn fixtures_match_readelf() {
    for (name, bytes, dump) in FIXTURES {
        let info = parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = readelf::parse(dump);
        assert!(!want.symbols.is_empty(), "{name}: the dump has symbols");
        assert_eq!(readelf::of(&info), want, "{name}");
    }
}

#[test]
fn fixture_architectures() {
    let cases = [
        (
            "x86_64-gnu.so",
            Some(Arch::X86_64),
            ElfClass::Elf64,
            Endian::Little,
        ),
        ("i686.so", Some(Arch::I686), ElfClass::Elf32, Endian::Little),
        (
            "aarch64.so",
            Some(Arch::Aarch64),
            ElfClass::Elf64,
            Endian::Little,
        ),
        (
            "armv7l.so",
            Some(Arch::Armv7l),
            ElfClass::Elf32,
            Endian::Little,
        ),
        ("s390x.so", Some(Arch::S390x), ElfClass::Elf64, Endian::Big),
        ("ppc64.so", Some(Arch::Ppc64), ElfClass::Elf64, Endian::Big),
        (
            "ppc64le.so",
            Some(Arch::Ppc64le),
            ElfClass::Elf64,
            Endian::Little,
        ),
        (
            "riscv64.so",
            Some(Arch::Riscv64),
            ElfClass::Elf64,
            Endian::Little,
        ),
    ];
    for (name, arch, class, endian) in cases {
        let info = parse(fixture(name)).unwrap();
        assert_eq!(
            (info.arch, info.class, info.endian, info.file_type),
            (arch, class, endian, FileType::SharedObject),
            "{name}"
        );
        assert_eq!(info.soname.as_deref(), Some("libdemo.so.1"), "{name}");
        let glibc = info
            .version_needs
            .iter()
            .flat_map(|n| &n.versions)
            .filter_map(|v| v.name.glibc())
            .max();
        assert!(glibc.is_some(), "{name} needs some GLIBC version");
        let api: Vec<_> = info
            .symbols
            .iter()
            .filter(|s| s.name == "demo_api")
            .map(|s| {
                let v = s.version.as_ref().unwrap();
                (v.name.as_str(), v.hidden, v.file.is_none())
            })
            .collect();
        assert_eq!(
            api,
            [("DEMO_1.0", true, true), ("DEMO_2.0", false, true)],
            "{name}"
        );
    }
}

#[test]
fn x86_64_details() {
    let gnu = parse(fixture("x86_64-gnu.so")).unwrap();
    assert_eq!(gnu.isa, Some(IsaLevel::V3));
    assert_eq!(gnu.runpath.as_deref(), Some("$ORIGIN/../lib"));
    assert_eq!(gnu.rpath, None);
    assert_eq!(gnu.machine, Machine::X86_64);
    let memcpy = gnu.symbols.iter().find(|s| s.name == "memcpy").unwrap();
    assert!(!memcpy.defined);
    assert_eq!(memcpy.kind, SymbolKind::Func);
    let v = memcpy.version.as_ref().unwrap();
    assert_eq!(
        (v.name.as_str(), v.file.as_deref()),
        ("GLIBC_2.14", Some("libc.so.6"))
    );
    assert_eq!(
        gnu.symbols
            .iter()
            .find(|s| s.name == "demo_tls")
            .unwrap()
            .kind,
        SymbolKind::Tls
    );

    let sysv = parse(fixture("x86_64-sysv.so")).unwrap();
    assert_eq!(sysv.rpath.as_deref(), Some("/opt/demo/lib"));
    assert_eq!(sysv.runpath, None);
    // Without section headers, the same information.
    assert_eq!(parse(NOSHDR).unwrap(), sysv);

    let exe = parse(fixture("x86_64-exe")).unwrap();
    assert_eq!(
        exe.interpreter.as_deref(),
        Some("/lib64/ld-linux-x86-64.so.2")
    );
    assert_eq!(exe.needed, ["libc.so.6"]);
}

#[test]
fn patchelf_edited_file() {
    let p = parse(fixture("x86_64-patchelf.so")).unwrap();
    assert_eq!(p.soname.as_deref(), Some("libdemo-patched.so.1"));
    assert_eq!(p.needed[0], "libextra-0123abcd.so.2");
    assert_eq!(
        p.runpath_dirs().collect::<Vec<_>>(),
        [
            "$ORIGIN/../demo.libs",
            "$ORIGIN/a/much/longer/runpath/than/before"
        ]
    );
    // Apart from what patchelf changed, the same as before.
    let mut before = parse(fixture("x86_64-gnu.so")).unwrap();
    before.soname.clone_from(&p.soname);
    before.runpath.clone_from(&p.runpath);
    before.needed.insert(0, p.needed[0].clone());
    assert_eq!(p, before);
}

#[test]
fn serializes_for_reports() {
    let info = parse(fixture("x86_64-gnu.so")).unwrap();
    let j = serde_json::to_value(&info).unwrap();
    assert_eq!(j["class"], "elf64");
    assert_eq!(j["machine"], "x86-64");
    assert_eq!(j["arch"], "x86_64");
    assert_eq!(j["file_type"], "shared object");
    assert_eq!(j["isa"], "x86-64-v3");
    assert_eq!(
        j["version_needs"][0]["versions"][0]["name"]
            .as_str()
            .map(|s| s.starts_with("GLIBC_")),
        Some(true)
    );
    let memcpy = j["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "memcpy")
        .unwrap();
    assert_eq!(
        memcpy["version"],
        serde_json::json!({"name": "GLIBC_2.14", "file": "libc.so.6", "hidden": false})
    );
}

/// Scans `bytes` fed in chunks of `chunk` bytes, passes as asked; also returns the number
/// of passes and the furthest offset fed in the first pass.
fn scan(bytes: &[u8], chunk: usize, opts: &Options) -> (Result<ElfInfo, ElfError>, u32, usize) {
    let mut s = ElfScanner::with_options(bytes.len() as u64, opts.clone());
    let mut first_pass_fed = None;
    loop {
        let mut fed = 0;
        for c in bytes.chunks(chunk.max(1)) {
            match s.feed(c) {
                Ok(Scan::NeedMore) => fed += c.len(),
                Ok(Scan::Done) => {
                    fed += c.len();
                    break;
                }
                Err(e) => return (Err(e), s.pass(), first_pass_fed.unwrap_or(fed)),
            }
        }
        first_pass_fed.get_or_insert(fed);
        match s.finish() {
            Ok(Outcome::Info(info)) => return (Ok(*info), s.pass(), first_pass_fed.unwrap()),
            Ok(Outcome::Rescan(ranges)) => assert!(!ranges.is_empty()),
            Err(e) => return (Err(e), s.pass(), first_pass_fed.unwrap()),
        }
    }
}

#[test]
fn scanning_in_any_chunking_equals_parsing() {
    let windows = [(0, 0), (64, 0), (0x900, 0), (0, 0x400), (16 << 20, 2 << 20)];
    // String tables kept whole, or as the names the reader needs (of the exports, all or
    // only those with an audit's prefixes).
    let prefixes: &[&str] = &["PyInit_", "init", "_cffi_pypyinit_"];
    let names = [(u64::MAX, None), (0, None), (0, Some(prefixes))];
    for (name, bytes, _) in FIXTURES.iter().chain([&("noshdr", NOSHDR, "")]) {
        for (names_from, defined_prefixes) in names {
            let want = parse_with(
                bytes,
                &Options {
                    defined_prefixes,
                    ..Options::default()
                },
            )
            .unwrap();
            for (window, trail) in windows {
                let opts = Options {
                    defined_prefixes,
                    window,
                    trail,
                    names_from,
                    ..Options::default()
                };
                let mut passes = Vec::new();
                for chunk in [1, 7, 64 * 1024, bytes.len()] {
                    let (got, pass, _) = scan(bytes, chunk, &opts);
                    assert_eq!(
                        got.as_ref(),
                        Ok(&want),
                        "{name} window {window} chunk {chunk}"
                    );
                    passes.push(pass);
                }
                assert!(
                    passes.windows(2).all(|p| p[0] == p[1]),
                    "{name} {window}/{trail}: passes {passes:?} depend on chunking"
                );
            }
        }
    }
}

#[test]
fn scanner_stops_early_and_keeps_one_pass_when_it_can() {
    // As the linker wrote it: the tables come first, .dynamic after the code; with the
    // window holding them, one pass that stops after .dynamic.
    let gnu = fixture("x86_64-gnu.so");
    let (info, passes, fed) = scan(gnu, 1, &Options::default());
    assert!(info.is_ok());
    assert_eq!(passes, 1);
    assert!(fed < gnu.len(), "stopped at {fed} of {}", gnu.len());
    // With nothing kept up front, the tables before .dynamic need another pass.
    let (info, passes, _) = scan(
        gnu,
        4096,
        &Options {
            window: 0,
            trail: 0,
            ..Options::default()
        },
    );
    assert!(info.is_ok());
    assert!((2..=MAX_PASSES_FOR_TEST).contains(&passes), "{passes}");
    // patchelf moved .dynsym and .gnu.hash (to 0x2138), then .dynamic (0x4000) and
    // .dynstr (0x4230) towards the end; the version tables stayed at the start. A window
    // that holds what lies before .dynamic reads it in one pass: .dynstr, after .dynamic,
    // is kept as it comes.
    let p = fixture("x86_64-patchelf.so");
    let (info, passes, fed) = scan(
        p,
        1,
        &Options {
            window: 0x2400,
            trail: 0,
            ..Options::default()
        },
    );
    assert!(info.is_ok());
    assert_eq!(
        (passes, fed),
        (1, 0x4230 + 0x18e),
        "stops at the end of .dynstr"
    );
    assert!(fed < p.len());
    // A window that ends before .dynsym: a second pass, for exactly those ranges.
    let (info, passes, _) = scan(
        p,
        7,
        &Options {
            window: 0x900,
            trail: 0,
            ..Options::default()
        },
    );
    assert!(info.is_ok());
    assert_eq!(passes, 2);
}

/// BOLT moves the program header table behind everything else (libLLVM, librustc_driver):
/// the dynamic table is known only after it has passed. The trail keeps it.
#[test]
fn program_headers_at_the_end() {
    let mut b = fixture("x86_64-gnu.so").to_vec();
    let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes(b[56..58].try_into().unwrap()) as usize;
    let table = b[phoff..phoff + n * 56].to_vec();
    while b.len() % 8 != 0 {
        b.push(0);
    }
    let at = b.len() as u64;
    b.extend(table);
    put(&mut b, 32, at);
    b[phoff..phoff + n * 56].fill(0);
    let want = parse(&b).unwrap();
    assert_eq!(want, parse(fixture("x86_64-gnu.so")).unwrap());
    for chunk in [1, 7, 4096] {
        let (got, passes, _) = scan(&b, chunk, &Options::default());
        assert_eq!((got.as_ref(), passes), (Ok(&want), 1), "chunk {chunk}");
        let opts = Options {
            window: 0x100,
            trail: 0,
            ..Options::default()
        };
        let (got, passes, _) = scan(&b, chunk, &opts);
        assert_eq!(got.as_ref(), Ok(&want));
        assert!(passes >= 2);
    }
}

const MAX_PASSES_FOR_TEST: u32 = scan::MAX_PASSES;

#[test]
fn scanner_reports_incomplete_input_apart_from_malformed() {
    let gnu = fixture("x86_64-gnu.so");
    let mut s = ElfScanner::new(gnu.len() as u64);
    assert_eq!(s.feed(&gnu[..100]), Ok(Scan::NeedMore));
    let e = s.finish().unwrap_err();
    assert!(e.is_incomplete(), "{e}");
    let mut bad = gnu.to_vec();
    bad[4] = 7;
    let mut s = ElfScanner::new(bad.len() as u64);
    let e = s.feed(&bad[..100]).unwrap_err();
    assert!(!e.is_incomplete());
    assert_eq!(e, ElfError::UnknownClass(7));
}

#[test]
fn scan_reader_streams_again_for_a_second_pass() {
    let gnu = fixture("x86_64-gnu.so");
    let mut opened = 0;
    let info = scan_reader(
        gnu.len() as u64,
        || {
            opened += 1;
            Ok(std::io::Cursor::new(gnu))
        },
        &Options {
            window: 0,
            trail: 0,
            ..Options::default()
        },
        1000,
    )
    .unwrap();
    assert_eq!(info, parse(gnu).unwrap());
    assert!(opened >= 2);
}

/// Offset of the first program header of type `kind` in a 64-bit little-endian file.
fn phdr(b: &[u8], kind: u32) -> usize {
    let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes(b[56..58].try_into().unwrap()) as usize;
    (0..n)
        .map(|i| phoff + i * 56)
        .find(|&at| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) == kind)
        .unwrap()
}

/// Offset of the value of dynamic entry `tag` in a 64-bit little-endian file.
fn dyn_value(b: &[u8], tag: u64) -> usize {
    let at = phdr(b, header::PT_DYNAMIC);
    let off = u64::from_le_bytes(b[at + 8..at + 16].try_into().unwrap()) as usize;
    (0..b.len() / 16)
        .map(|i| off + i * 16)
        .find(|&e| u64::from_le_bytes(b[e..e + 8].try_into().unwrap()) == tag)
        .unwrap()
        + 8
}

fn put(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn hostile_edits_are_errors() {
    let base = fixture("x86_64-sysv.so");
    // PT_DYNAMIC outside the file.
    let mut b = base.to_vec();
    let at = phdr(&b, header::PT_DYNAMIC) + 8;
    put(&mut b, at, 0xffff_ffff_ff00);
    assert_eq!(
        parse(&b),
        Err(ElfError::OutOfBounds {
            what: "dynamic section"
        })
    );
    // A string table cut before its last NUL.
    let mut b = base.to_vec();
    let at = dyn_value(&b, 10);
    let strsz = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    put(&mut b, at, strsz - 1);
    assert!(
        matches!(parse(&b), Err(ElfError::Unterminated { .. })),
        "{:?}",
        parse(&b)
    );
    // An absurd symbol count in the hash table.
    let mut b = base.to_vec();
    let hash = u64::from_le_bytes(b[dyn_value(&b, 4)..][..8].try_into().unwrap()) as usize;
    b[hash + 4..hash + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        parse(&b),
        Err(ElfError::OutOfBounds {
            what: "dynamic symbol table"
        })
    );
    // The scanner says the same: a table that cannot fit in the file is damage, not a
    // limit to raise.
    let mut s = ElfScanner::new(b.len() as u64);
    assert_eq!(
        s.feed(&b),
        Err(ElfError::OutOfBounds {
            what: "dynamic symbol table"
        })
    );
    // A table that fits in the file but not in the limit is refused as too large.
    let opts = Options {
        max_table: 64,
        ..Options::default()
    };
    assert!(matches!(
        parse_with(base, &opts),
        Err(ElfError::TooLarge { .. })
    ));
    // Same for an absurd string table size.
    let mut b = base.to_vec();
    let at = dyn_value(&b, 10);
    put(&mut b, at, 1 << 60);
    let mut s = ElfScanner::new(b.len() as u64);
    let cut = Err(ElfError::OutOfBounds {
        what: "dynamic string table (DT_STRTAB)",
    });
    assert_eq!(s.feed(&b), cut);
    assert_eq!(parse(&b).map(|_| Scan::Done), cut);
    // A DT_NEEDED name past the end of the string table.
    let mut b = base.to_vec();
    let at = dyn_value(&b, 1);
    put(&mut b, at, 0xff_ffff);
    assert_eq!(
        parse(&b),
        Err(ElfError::NameOutOfTable {
            what: "dynamic section"
        })
    );
    // A string table address no segment maps.
    let mut b = base.to_vec();
    let at = dyn_value(&b, 5);
    put(&mut b, at, 0x7fff_0000_0000);
    assert!(matches!(parse(&b), Err(ElfError::Unmapped { .. })));
    // A version-needs chain whose next entry is "behind" by 32-bit wrap-around.
    let mut b = base.to_vec();
    let vn = u64::from_le_bytes(b[dyn_value(&b, 0x6fff_fffe)..][..8].try_into().unwrap()) as usize;
    let at = dyn_value(&b, 0x6fff_ffff);
    put(&mut b, at, 1000);
    b[vn + 12..vn + 16].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    assert!(parse(&b).is_err());
    // Truncated anywhere: an error, never a panic.
    for cut in 0..base.len() {
        let _ = parse(&base[..cut]);
    }
    assert_eq!(parse(b"MZ\x90\0"), Err(ElfError::NotElf));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random bytes changed anywhere in a valid file: parse returns, never panics; and the
    /// scanner agrees with it.
    #[test]
    fn mutated_files_never_panic(
        which in 0..FIXTURES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        names in any::<bool>(),
    ) {
        let mut b = FIXTURES[which].1.to_vec();
        for (at, v) in edits {
            let i = at.index(b.len());
            b[i] = v;
        }
        if truncate {
            b.truncate(cut.index(b.len()));
        }
        let opts = Options::default();
        let parsed = parse_with(&b, &opts);
        let names_from = if names { 0 } else { opts.names_from };
        let (scanned, _, _) = scan(&b, 7, &Options { window: 64, names_from, ..opts });
        match (&parsed, &scanned) {
            (Ok(p), Ok(s)) => prop_assert_eq!(p, s),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "parse {:?} but scan {:?}", parsed.is_ok(), scanned.is_ok()),
        }
    }

    /// Arbitrary bytes behind a valid identification.
    #[test]
    fn random_headers_never_panic(class in 1u8..3, data in 1u8..3, rest in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut b = b"\x7fELF".to_vec();
        b.extend([class, data, 1, 0]);
        b.extend(rest);
        let _ = parse(&b);
        let _ = scan(&b, 3, &Options::default());
    }
}

#[test]
fn without_symbols_the_rest_is_the_same() {
    let opts = Options {
        symbols: false,
        ..Options::default()
    };
    for (name, bytes, _) in FIXTURES {
        let mut all = parse(bytes).unwrap();
        all.symbols.clear();
        assert_eq!(parse_with(bytes, &opts).unwrap(), all, "{name}");
        let (scanned, passes, _) = scan(bytes, 64, &opts);
        assert_eq!((scanned.unwrap(), passes), (all, 1), "{name}");
    }
}
