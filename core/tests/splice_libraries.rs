//! Splicing this machine's libraries as a repair edits them (a new SONAME, a renamed
//! DT_NEEDED, an RPATH, which patchelf's layout puts in a new segment at the end): the
//! spliced stream inflates to the edited file, and it is no larger than deflating the
//! edited file whole. Libraries that are not present are skipped, but at least 5 must
//! be found; the test is skipped entirely where there is no x86_64 library directory.

use std::io::{Read, Write};
use std::path::Path;

use truewheel_core::parallel::Sequential;
use truewheel_core::repair::editor::CoreEditor;
use truewheel_core::repair::{ElfEditor, ElfEdits};
use truewheel_core::wheel::splice::splice_with;

const DIR: &str = "/usr/lib/x86_64-linux-gnu";
const LIBS: &[&str] = &[
    "libc.so.6",
    "libz.so.1",
    "libsqlite3.so.0",
    "libssl.so.3",
    "libexpat.so.1",
    "libffi.so.8",
    "liblzma.so.5",
    "libzstd.so.1",
    "libgomp.so.1",
    "libbz2.so.1.0",
    "libyaml-0.so.2",
];

fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn inflate(z: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(z)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn edited_libraries_splice_to_their_new_bytes() {
    if !Path::new(DIR).is_dir() {
        eprintln!("skipped: no {DIR}");
        return;
    }
    let mut checked = 0;
    for lib in LIBS {
        let Ok(old) = std::fs::read(Path::new(DIR).join(lib)) else {
            continue;
        };
        let info = truewheel_core::elf::parse(&old).unwrap_or_else(|e| panic!("{lib}: {e}"));
        let edits = ElfEdits {
            soname: Some(format!("{lib}-0123abcd")),
            replace_needed: info
                .needed
                .first()
                .map(|n| vec![(n.clone(), format!("{n}-89abcdef"))])
                .unwrap_or_default(),
            rpath: Some("$ORIGIN/../demo.libs".into()),
            ..ElfEdits::default()
        };
        let mut new = old.clone();
        let saved = CoreEditor
            .edit(&mut new, &edits)
            .unwrap_or_else(|e| panic!("{lib}: {e}"))
            .unwrap_or_else(|| panic!("{lib}: the edit changed nothing"));
        // What the edit costs a stream deflated whole: the new tail (a copy of the
        // string table, the moved program headers) deflated.
        let growth = deflate(&new, 6)
            .len()
            .saturating_sub(deflate(&old, 6).len());
        for level in [1, 6, 9] {
            let z = deflate(&old, level);
            let out = splice_with(&saved, &z, &new, 6, &Sequential)
                .unwrap_or_else(|| panic!("{lib} at level {level}: no splice"));
            assert!(inflate(&out) == new, "{lib} at level {level}");
            // The old blocks are kept: the old stream grows by what the edit adds.
            assert!(
                out.len() <= z.len() + growth + z.len() / 100 + 1024,
                "{lib} at level {level}: {} bytes from {} (the edit adds {growth})",
                out.len(),
                z.len()
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} libraries found in {DIR}");
}
