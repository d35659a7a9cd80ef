//! Inputs the fuzzers (fuzz/) found, kept so they stay handled.

use truewheel_core::elf::patch::{apply, names, Edit};

/// An ELF whose dynamic string table lies outside the file, given edits that change
/// nothing in it (a soname on a file the edit does not apply to, an RPATH removal with no
/// RPATH): the patcher returns the input as it was, unchanged, rather than failing or
/// writing something new; that the strings cannot be read is the input's own defect.
#[test]
fn patch_leaves_an_unreadable_file_alone_when_nothing_changes() {
    let data = include_bytes!("fuzz-regressions/patch-unchanged-unreadable-strings");
    assert!(names(data).is_err(), "the input's strings are unreadable");
    let ops = [
        Edit::SetSoname("libfuzz-0.so.1".into()),
        Edit::SetSoname("libfuzz-0.so.1".into()),
        Edit::RemoveRpath,
    ];
    let out = apply(data, &ops).unwrap();
    assert!(!out.changed);
    assert_eq!(out.bytes, data.to_vec());
}
