//! The ELF patcher: edits chosen by the last bytes, applied to the whole input (so the
//! seed libraries stay valid ELF files); an edited file
//! must read back with the values asked for (the patcher checks that itself and errs
//! otherwise), and applying the same edits again gives the same names (the bytes may
//! differ when a sequence flips a value back and forth, e.g. RPATH to RUNPATH and back).
#![no_main]

use libfuzzer_sys::fuzz_target;
use truewheel_core::elf::patch::{apply, names, Edit, OsAbi};

fn edits(sel: &[u8]) -> Vec<Edit> {
    sel.iter()
        .map(|b| match b % 11 {
            0 => Edit::SetSoname(format!("libfuzz-{b}.so.1")),
            1 => Edit::SetRpath {
                path: "$ORIGIN/../fuzz.libs:".repeat(usize::from(b % 5) + 1),
                force_rpath: b & 0x40 != 0,
            },
            2 => Edit::RemoveRpath,
            3 => Edit::AddNeeded(vec![format!("libadded{b}.so")]),
            4 => Edit::RemoveNeeded(vec!["libc.so.6".into()]),
            // In place when short, moved when long (a library has none: an error).
            5 => Edit::SetInterpreter(format!("/lib/{}.so", "ld".repeat(usize::from(b % 64)))),
            6 => Edit::ReplaceNeeded(vec![("libm.so.6".into(), format!("libm-{b:02x}.so.6"))]),
            // The fields made after the rest, where the rest left the headers.
            7 => Edit::SetExecstack(b & 0x10 != 0),
            8 => Edit::SetOsAbi(OsAbi(b >> 4)),
            9 => Edit::ClearSymbolVersion(vec!["malloc".into(), "tw_dep_value".into()]),
            _ if b & 0x30 == 0x30 => Edit::PageSize(1 << (10 + (b >> 6) * 4)),
            _ if b & 0x30 == 0x20 => Edit::RenameDynamicSymbols(vec![
                ("malloc".into(), format!("tw_malloc_{b}")),
                ("tw_dep_value".into(), "v".into()),
            ]),
            _ if b & 0x10 != 0 => Edit::NoDefaultLib,
            _ => Edit::AddDebugTag,
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let ops = edits(&data[data.len() - 3..]);
    let elf = data;
    let once = apply(elf, &ops);
    // A file whose names cannot be read comes back untouched when nothing applies to it
    // (core/tests/fuzz_regressions.rs); the property below is about readable files.
    if names(elf).is_err() {
        return;
    }
    if let Ok(once) = once {
        let twice = apply(&once.bytes, &ops).expect("an edited file edits again");
        assert_eq!(
            names(&twice.bytes).expect("edited files read"),
            names(&once.bytes).expect("edited files read"),
            "the same edits give the same names"
        );
    }
});
