//! The ELF reader: whole-file parse, and the streaming scanner fed in uneven chunks or
//! read at offsets, which must agree with it, with string tables kept whole or as the names needed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use truewheel_core::elf::{parse, parse_with, scan_at, scan_reader, Options};

fuzz_target!(|data: &[u8]| {
    let whole = parse(data);
    let opts = Options {
        max_table: u64::MAX,
        window: 64,
        trail: 64,
        ..Options::default()
    };
    let streamed = scan_reader(data.len() as u64, || Ok(data), &opts, 7);
    if let (Ok(a), Ok(b)) = (&whole, &streamed) {
        assert_eq!(a, b, "scanner and parse disagree");
    }
    // As the audit reads: only the exports with these prefixes, any string table kept
    // as the names needed.
    let audit = Options {
        defined_prefixes: Some(&["PyInit_", "init"]),
        names_from: 0,
        ..opts
    };
    let whole = parse_with(data, &audit);
    let streamed = scan_reader(data.len() as u64, || Ok(data), &audit, 7);
    if let (Ok(a), Ok(b)) = (&whole, &streamed) {
        assert_eq!(a, b, "scanner keeping names and parse disagree");
    }
    // As a host library is read: at offsets, in passes, nothing kept on speculation.
    if let (Ok(a), Ok(b)) = (&whole, &scan_at(data, &audit)) {
        assert_eq!(a, b, "reading at offsets and parse disagree");
    }
    let _ = truewheel_core::elf::strip::strip_all(data);
});
