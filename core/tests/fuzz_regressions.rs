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

/// An ELF whose writable segment sits in the last pages of the address space: the first
/// edit adds a segment just below 2^64, and a second edit must grow that segment rather
/// than fail because no page above it exists (the patcher computed the room for a new
/// segment even when it did not need one).
#[test]
fn patch_edits_again_a_file_at_the_top_of_the_address_space() {
    let mut data =
        include_bytes!("fuzz-regressions/patch-second-edit-top-of-address-space").to_vec();
    // Its section header table lies past its end, which is now refused on its own
    // (`a_section_header_table_past_the_end_is_refused…`): the table is taken away
    // (e_shoff and e_shnum zeroed), so that what this input found is still what is tried.
    assert_eq!(
        truewheel_core::elf::patch::apply(
            &data,
            &[Edit::RemoveRpath, Edit::AddNeeded(vec!["libx.so".into()])]
        )
        .unwrap_err(),
        truewheel_core::elf::patch::PatchError::SectionsOutside
    );
    data[0x28..0x30].fill(0);
    data[0x3c..0x3e].fill(0);
    let data = &data[..];
    let ops = [
        Edit::SetRpath {
            path: "$ORIGIN/../fuzz.libs:$ORIGIN/../fuzz.libs:".into(),
            force_rpath: false,
        },
        Edit::RemoveRpath,
        Edit::ReplaceNeeded(vec![("libm.so.6".into(), "libm-05.so.6".into())]),
    ];
    let once = apply(data, &ops).unwrap();
    let twice = apply(&once.bytes, &ops).expect("an edited file edits again");
    assert_eq!(names(&twice.bytes).unwrap(), names(&once.bytes).unwrap());
}

/// An ELF whose `PT_INTERP` claims more bytes than the file holds: a new interpreter that
/// "fits" in that claim was to be written over it, zeros to its claimed end (an allocation
/// of exabytes). The claim is refused as out of the file, and nothing is written.
#[test]
fn patch_refuses_an_interpreter_that_claims_more_than_the_file() {
    let data = include_bytes!("fuzz-regressions/patch-interpreter-larger-than-the-file");
    let ops = [
        Edit::RemoveNeeded(vec!["libc.so.6".into()]),
        Edit::SetInterpreter(format!("/lib/{}.so", "ld".repeat(46))),
        Edit::ReplaceNeeded(vec![("libm.so.6".into(), "libm-6f.so.6".into())]),
    ];
    let err = apply(data, &ops).unwrap_err();
    assert!(
        err.to_string().contains("interpreter path (PT_INTERP)"),
        "{err}"
    );
}

/// An ELF whose dynamic table puts a table at an address that maps behind the end of
/// the room before the next table: sizing the symbol-table speculation subtracted the
/// two and overflowed (a panic in a debug build). The scanner, fed as the fuzzer feeds
/// it, must answer as the whole-file parse does, or fail.
#[test]
fn elf_speculation_with_a_table_beyond_its_room() {
    use truewheel_core::elf::{parse, scan_at, scan_reader, Options};
    let data: &[u8] = include_bytes!("fuzz-regressions/elf-speculation-room-behind-its-table");
    let opts = Options {
        max_table: u64::MAX,
        window: 64,
        trail: 64,
        ..Options::default()
    };
    let whole = parse(data);
    for streamed in [
        scan_reader(data.len() as u64, || Ok(data), &opts, 7),
        scan_at(data, &opts),
    ] {
        if let (Ok(a), Ok(b)) = (&whole, &streamed) {
            assert_eq!(a, b);
        }
    }
}

/// An ELF whose `PT_INTERP` overlaps its `PT_DYNAMIC`: a new interpreter written in place
/// wrote over the dynamic table, and the result passed the read-back check (which read
/// the names only; the patcher then failed on the file it had made). The table is now
/// read back whole, and the edit refused.
#[test]
fn patch_refuses_an_interpreter_written_over_the_dynamic_table() {
    let data = include_bytes!("fuzz-regressions/patch-interpreter-over-the-dynamic-table");
    let mut buf = data.to_vec();
    let err = truewheel_core::elf::patch::apply_in_place(
        &mut buf,
        &[
            Edit::AddDebugTag,
            Edit::SetInterpreter(format!("/lib/{}.so", "ld".repeat(61))),
        ],
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("the dynamic table reads back otherwise"),
        "{err}"
    );
    assert_eq!(buf, data.to_vec(), "left as it was");
}
