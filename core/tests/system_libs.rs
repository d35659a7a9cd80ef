//! The ELF reader against `readelf` on this machine's libraries: NEEDED, SONAME,
//! RPATH/RUNPATH, version needs and definitions, and every dynamic symbol with its
//! version, read both whole and by the streaming scanner. Libraries that are not present
//! are skipped, but at least 15 must be found; the test is skipped entirely where there
//! is no readelf or no x86_64 library directory.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use truewheel_core::elf::{self, ElfScanner, Options, Outcome, Scan};
use truewheel_core::source::FileSource;

mod elf_api {
    pub use truewheel_core::elf::*;
}
#[path = "common/readelf.rs"]
mod readelf;

const DIR: &str = "/usr/lib/x86_64-linux-gnu";
const LIBS: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libz.so.1",
    "libssl.so.3",
    "libcrypto.so.3",
    "libstdc++.so.6",
    "libgcc_s.so.1",
    "libsqlite3.so.0",
    "libpython3.11.so.1.0",
    "libffi.so.8",
    "libexpat.so.1",
    "libbz2.so.1.0",
    "liblzma.so.5",
    "libzstd.so.1",
    "libcurl.so.4",
    "libreadline.so.8",
    "libselinux.so.1",
    "libgomp.so.1",
    "libxml2.so.2",
    "libpcre2-8.so.0",
    "libquadmath.so.0",
    "libresolv.so.2",
    "libtinfo.so.6",
    "libgmp.so.10",
    "libkrb5.so.3",
];

fn readelf(path: &Path) -> Option<String> {
    let out = Command::new("readelf")
        .args(["-h", "-l", "-d", "-V", "--dyn-syms", "-W"])
        .arg(path)
        .env("LC_ALL", "C")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Feeds `bytes` in chunks, with as many passes as asked for.
fn scan(bytes: &[u8], chunk: usize, opts: &Options) -> (elf::ElfInfo, u32, u64) {
    let mut s = ElfScanner::with_options(bytes.len() as u64, opts.clone());
    let mut peak = 0;
    loop {
        for c in bytes.chunks(chunk) {
            let r = s.feed(c).unwrap();
            peak = peak.max(s.held_bytes());
            if r == Scan::Done {
                break;
            }
        }
        match s.finish().unwrap() {
            Outcome::Info(info) => return (*info, s.pass(), peak),
            Outcome::Rescan(_) => {}
        }
    }
}

/// Compares piecewise, for readable failures.
fn assert_same(lib: &str, got: &readelf::Dump, want: &readelf::Dump) {
    assert_eq!(got.needed, want.needed, "{lib} NEEDED");
    assert_eq!(got.soname, want.soname, "{lib} SONAME");
    assert_eq!(
        (&got.rpath, &got.runpath),
        (&want.rpath, &want.runpath),
        "{lib} paths"
    );
    assert_eq!(got.needs, want.needs, "{lib} version needs");
    assert_eq!(got.defs, want.defs, "{lib} version definitions");
    assert_eq!(got.symbols.len(), want.symbols.len(), "{lib} symbol count");
    for (i, (g, w)) in got.symbols.iter().zip(&want.symbols).enumerate() {
        assert_eq!(g, w, "{lib} symbol {}", i + 1);
    }
}

#[test]
fn system_libraries_match_readelf() {
    if readelf(Path::new("/bin/sh")).is_none() || !Path::new(DIR).is_dir() {
        eprintln!("skipped: no readelf or no {DIR}");
        return;
    }
    let mut checked = Vec::new();
    for lib in LIBS {
        let path = Path::new(DIR).join(lib);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let dump = readelf(&path).unwrap();
        let info = elf::parse(&bytes).unwrap_or_else(|e| panic!("{lib}: {e}"));
        let want = readelf::parse(&dump);
        assert_same(lib, &readelf::of(&info), &want);
        assert_eq!(
            info.arch,
            Some(truewheel_core::wheel::Arch::X86_64),
            "{lib}"
        );
        // The scanner, in a few chunkings, gives the same answer in one pass.
        for chunk in [4096, 64 * 1024, bytes.len()] {
            let (scanned, passes, _) = scan(&bytes, chunk, &Options::default());
            assert_eq!(scanned, info, "{lib} scanned in chunks of {chunk}");
            assert_eq!(passes, 1, "{lib}");
        }
        // And with no window at all, in more passes.
        let (scanned, _, _) = scan(
            &bytes,
            64 * 1024,
            &Options {
                window: 0,
                ..Options::default()
            },
        );
        assert_eq!(scanned, info, "{lib} scanned without a window");
        // Read at offsets as the host's libraries are, with symbols and without.
        let file = FileSource::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(
            elf::scan_at(&file, &Options::default()).unwrap(),
            info,
            "{lib} read at offsets"
        );
        let needs_only = Options {
            symbols: false,
            ..Options::default()
        };
        assert_eq!(
            elf::scan_at(&file, &needs_only).unwrap(),
            elf::parse_with(&bytes, &needs_only).unwrap(),
            "{lib} read at offsets, without symbols"
        );
        checked.push(*lib);
    }
    assert!(
        checked.len() >= 15,
        "only {} libraries found: {checked:?}",
        checked.len()
    );
}

/// A library whose string table a patchelf-style edit moved behind everything else, as in
/// repaired wheels (torch's libtorch_cuda.so): scanned with the audit's options, the
/// table streams through as the names the reader needs, and the scanner holds far less
/// than the table, with the same answer as the whole-file parse.
#[test]
fn a_moved_string_table_is_kept_as_the_names_needed() {
    let path = Path::new(DIR).join("libstdc++.so.6");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipped: no {}", path.display());
        return;
    };
    let edit = elf::patch::Edit::SetRpath {
        path: "$ORIGIN/../moved.libs".into(),
        force_rpath: false,
    };
    let moved = elf::patch::apply(&bytes, &[edit]).unwrap().bytes;
    let prefixes: &[&str] = &["PyInit_", "init", "_cffi_pypyinit_"];
    for defined_prefixes in [Some(prefixes), None] {
        // The edit moved .dynstr (302 KB) behind .dynamic; the window holds the symbol and
        // version tables before it (up to 0x7a758), and no trail, so that the table is
        // not held by either.
        let opts = Options {
            defined_prefixes,
            window: 0x80000,
            trail: 0,
            ..Options::default()
        };
        let want = elf::parse_with(&moved, &opts).unwrap();
        let whole = Options {
            names_from: u64::MAX,
            ..opts.clone()
        };
        let names = Options {
            names_from: 0,
            ..opts.clone()
        };
        let (got_whole, _, peak_whole) = scan(&moved, 64 * 1024, &whole);
        let (got_names, _, peak_names) = scan(&moved, 64 * 1024, &names);
        assert_eq!(got_whole, want);
        assert_eq!(got_names, want, "{defined_prefixes:?}");
        // Read at offsets, a pass per jump back, as a host library is.
        assert_eq!(
            elf::scan_at(&moved, &opts).unwrap(),
            want,
            "{defined_prefixes:?}"
        );
        eprintln!("held at most: {peak_whole} bytes whole, {peak_names} as names");
        if defined_prefixes.is_some() {
            // Nearly all of .dynstr is export names no prefix matches.
            assert!(
                peak_names + (100 << 10) < peak_whole,
                "{peak_names} vs {peak_whole}"
            );
        } else {
            // Every name is needed: the table is held whole.
            assert_eq!(peak_names, peak_whole);
        }
    }
}

/// The biggest shared objects around (LLVM, rustc's driver): read in one streaming pass,
/// with memory bounded by the window plus the tables, and stopping before the end.
#[test]
fn big_libraries_stream_in_bounded_memory() {
    let mut candidates: Vec<std::path::PathBuf> = ["/usr/lib/llvm-14/lib/libclang-cpp.so.14"]
        .iter()
        .map(Into::into)
        .collect();
    if let Some(home) = std::env::var_os("RUSTUP_HOME").or_else(|| {
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".rustup").into_os_string())
    }) {
        let toolchains = Path::new(&home).join("toolchains");
        for tc in std::fs::read_dir(toolchains)
            .into_iter()
            .flatten()
            .flatten()
        {
            for f in std::fs::read_dir(tc.path().join("lib"))
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = f.file_name().to_string_lossy().into_owned();
                if name.starts_with("libLLVM") || name.starts_with("librustc_driver") {
                    candidates.push(f.path());
                }
            }
        }
    }
    for path in candidates.iter().filter(|p| p.is_file()).take(3) {
        let bytes = std::fs::read(path).unwrap();
        let opts = Options::default();
        let t = Instant::now();
        let mut s = ElfScanner::new(bytes.len() as u64);
        let mut fed = 0u64;
        let mut peak = 0;
        for c in bytes.chunks(64 * 1024) {
            fed += c.len() as u64;
            let r = s.feed(c).unwrap();
            peak = peak.max(s.held_bytes());
            if r == Scan::Done {
                break;
            }
        }
        let Outcome::Info(info) = s.finish().unwrap() else {
            panic!("{}: needs a second pass", path.display());
        };
        let elapsed = t.elapsed();
        eprintln!(
            "{}: {} MB, stopped at {} MB, peak held {} MB, {} symbols, {elapsed:?}",
            path.display(),
            bytes.len() >> 20,
            fed >> 20,
            peak >> 20,
            info.symbols.len()
        );
        assert!(peak <= opts.window + opts.max_table);
        assert!(peak < 100 << 20);
        assert_eq!(*info, elf::parse(&bytes).unwrap());
        if let Some(dump) = readelf(path) {
            let want = readelf::parse(&dump);
            assert_same(&path.display().to_string(), &readelf::of(&info), &want);
        }
    }
}
