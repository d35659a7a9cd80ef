//! `truewheel patchelf`'s output, pinned with snapshots: prints as patchelf prints, and
//! the errors a user reads. The ELF fixtures are the core's (`core/tests/elf-fixtures`).

use std::path::Path;
use std::process::Command;

const GNU: &[u8] = include_bytes!("../../core/tests/elf-fixtures/x86_64-gnu.so");

fn truewheel(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_truewheel"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn prints_like_patchelf() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.so"), GNU).unwrap();
    let (code, out, err) = truewheel(
        dir.path(),
        &[
            "patchelf",
            "--print-needed",
            "--print-rpath",
            "--print-soname",
            "lib.so",
        ],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!(out);
}

#[test]
fn edits_in_place_then_prints_the_new_values() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.so"), GNU).unwrap();
    let args = [
        "patchelf",
        "--add-needed",
        "libz.so.1",
        "--replace-needed",
        "libm.so.6",
        "libm-0123abcd.so.6",
        "--set-rpath",
        "$ORIGIN/../demo.libs",
        "--set-soname",
        "libdemo-renamed.so.1",
        "lib.so",
    ];
    let (code, out, err) = truewheel(dir.path(), &args);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (_, out, _) = truewheel(
        dir.path(),
        &[
            "patchelf",
            "--print-soname",
            "--print-rpath",
            "--print-needed",
            "lib.so",
        ],
    );
    insta::assert_snapshot!(out);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["lib.so"], "no temp file is left");
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not an ELF file\n").unwrap();
    let mut no_dynamic = GNU[..64].to_vec();
    no_dynamic[0x38..0x3a].copy_from_slice(&0u16.to_le_bytes()); // e_phnum = 0
    std::fs::write(dir.path().join("static"), &no_dynamic).unwrap();
    std::fs::write(dir.path().join("cut.so"), &GNU[..GNU.len() / 3]).unwrap();
    let mut all = String::new();
    for file in ["notes.txt", "static", "cut.so", "missing.so"] {
        let (code, out, err) = truewheel(dir.path(), &["patchelf", "--set-rpath", "/x", file]);
        assert_eq!((code, out.as_str()), (2, ""), "{file}");
        all.push_str(&err);
    }
    let (code, _, err) = truewheel(
        dir.path(),
        &["patchelf", "--output", "o", "--print-needed", "a", "b"],
    );
    assert_eq!(code, 2);
    all.push_str(&err);
    insta::assert_snapshot!(all);
}
