//! The CLI's output, pinned with snapshots: what a user reads must not change by accident.
//! Fixtures are built here with the core's own writer, so they are deterministic.

use std::path::Path;
use std::process::Command;

use truewheel_core::wheel::{WheelWriter, WriteOptions};

const NAME: &str = "demo-1.0-cp311-cp311-linux_x86_64.whl";

fn fake_elf() -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // 64-bit
    h[5] = 1; // little-endian
    h[6] = 1;
    h[16] = 3; // ET_DYN
    h[18] = 62; // x86-64
    h
}

/// A small wheel, every member stored (level 0) so a test can edit bytes in place.
fn demo_wheel(dir: &Path) -> std::path::PathBuf {
    let mut w = WheelWriter::new(
        Vec::new(),
        WriteOptions {
            timestamp: None,
            level: 0,
        },
    );
    w.add("demo/__init__.py", b"from ._core import *\n", 0o644)
        .unwrap();
    w.add(
        "demo/_core.cpython-311-x86_64-linux-gnu.so",
        &fake_elf(),
        0o755,
    )
    .unwrap();
    w.add(
        "demo-1.0.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nSummary: A demo\nRequires-Python: >=3.8\nRequires-Dist: six\n\nLong text.\n",
        0o644,
    )
    .unwrap();
    w.add(
        "demo-1.0.dist-info/WHEEL",
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n",
        0o644,
    )
    .unwrap();
    let bytes = w.finish("demo-1.0.dist-info/RECORD").unwrap();
    let path = dir.join(NAME);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Changes a stored member's bytes in place and fixes its CRC-32 in both headers, so
/// only RECORD can tell: what a careless edit of a built wheel looks like.
fn tamper(path: &Path, member: &str, edit: impl FnOnce(&mut [u8])) {
    let mut bytes = std::fs::read(path).unwrap();
    let ar = truewheel_core::wheel::Archive::new(bytes.clone()).unwrap();
    let m = ar.member(member).unwrap().clone();
    let data = &mut bytes[m.data_offset as usize..(m.data_offset + m.size) as usize];
    edit(data);
    let crc = crc32fast::hash(data).to_le_bytes();
    let local = m.header_offset as usize;
    bytes[local + 14..local + 18].copy_from_slice(&crc);
    let mut central = b"PK\x01\x02".to_vec();
    central.truncate(4);
    let at = (0..bytes.len() - 46)
        .rev()
        .find(|&i| bytes[i..i + 4] == central[..] && bytes[i + 46..].starts_with(member.as_bytes()))
        .unwrap();
    bytes[at + 16..at + 20].copy_from_slice(&crc);
    std::fs::write(path, bytes).unwrap();
}

fn truewheel(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_truewheel"))
        .args(args)
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn inspect_text() {
    let dir = tempfile::tempdir().unwrap();
    demo_wheel(dir.path());
    let (code, out, err) = truewheel(dir.path(), &["inspect", NAME]);
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!(out);
}

#[test]
fn inspect_json() {
    let dir = tempfile::tempdir().unwrap();
    demo_wheel(dir.path());
    let (code, out, _) = truewheel(dir.path(), &["inspect", "--json", NAME]);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    insta::assert_json_snapshot!(value);
}

#[test]
fn tampered_member_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_wheel(dir.path());
    tamper(&path, "demo/_core.cpython-311-x86_64-linux-gnu.so", |elf| {
        elf[18] = 183;
    });
    let (code, _, err) = truewheel(dir.path(), &["inspect", NAME]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(err);
    let (code, _, err) = truewheel(dir.path(), &["retag", "--build", "1", "-w", "out", NAME]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(
            "error: RECORD hash mismatch for demo/_core.cpython-311-x86_64-linux-gnu.so"
        ),
        "{err}"
    );
    assert!(!dir
        .path()
        .join("out")
        .join("demo-1.0-1-cp311-cp311-linux_x86_64.whl")
        .exists());
}

#[test]
fn not_a_zip() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(NAME), b"hello").unwrap();
    let (code, out, err) = truewheel(dir.path(), &["inspect", NAME]);
    assert_eq!((code, out.as_str()), (2, ""));
    insta::assert_snapshot!(err);
}

#[test]
fn retag_prints_the_new_name_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    demo_wheel(dir.path());
    let args = [
        "retag",
        "--platform-tag",
        "manylinux_2_17_x86_64.manylinux2014_x86_64",
        "-w",
        "out",
        NAME,
    ];
    let (code, out, err) = truewheel(dir.path(), &args);
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!(out);
    // The file name alone, as `wheel tags` prints it.
    let new = std::path::Path::new("out").join(out.trim());
    let first = std::fs::read(dir.path().join(&new)).unwrap();
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    truewheel(dir.path(), &args);
    assert_eq!(first, std::fs::read(dir.path().join(&new)).unwrap());
    let (code, listing, _) = truewheel(dir.path(), &["inspect", new.to_str().unwrap()]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("retagged_listing", listing);
}
