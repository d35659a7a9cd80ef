//! The ELF reader: whole-file parse, and the streaming scanner fed in uneven chunks,
//! which must agree with it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use truewheel_core::elf::{parse, scan_reader, Options};

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
    let _ = truewheel_core::elf::strip::strip_all(data);
});
