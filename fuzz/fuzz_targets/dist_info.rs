//! The RECORD, METADATA and WHEEL parsers, and tag and file-name parsing: whatever
//! parses must print back to something that parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use truewheel_core::wheel::{Metadata, Record, WheelFilename, WheelInfo};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Record::parse(data) {
        let again = Record::parse(r.to_text().as_bytes()).expect("written RECORD parses");
        assert_eq!(again, r);
    }
    let _ = Metadata::parse(data);
    if let Ok(w) = WheelInfo::parse(data) {
        let again = WheelInfo::parse(w.to_text().as_bytes()).expect("written WHEEL parses");
        assert_eq!(again.tags(), w.tags());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(name) = text.parse::<WheelFilename>() {
            assert_eq!(name.to_string(), text);
        }
    }
});
