//! Our deflate encoder against zlib-rs's inflater: at every level, what `prepare`
//! deflates (in chunks of 4 KiB under the fuzzer, each primed with the window before
//! it) inflates back to exactly the input. The input is taken as it is, or stretched
//! into copies that each differ a little from the one before, so that long copies, far
//! ones and blocks of every kind occur.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use truewheel_core::wheel::deflate::prepare;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let level = u32::from(mode % 10);
    let input: Vec<u8> = if mode & 0x80 == 0 || rest.is_empty() {
        rest.to_vec()
    } else {
        // Up to 64 KiB of copies of `rest`, the k-th with every (k + 7)-th byte changed.
        let copies = (65_536 / rest.len()).clamp(1, 64);
        (0..copies)
            .flat_map(|k| {
                rest.iter().enumerate().map(move |(i, &b)| {
                    if i % (k + 7) == 0 {
                        b.wrapping_add(k as u8)
                    } else {
                        b
                    }
                })
            })
            .collect()
    };
    let p = prepare(&input, level);
    if let Some(z) = p.deflated.map(|d| d.to_vec()) {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(&z[..])
            .read_to_end(&mut out)
            .expect("our deflate stream inflates");
        assert!(out == input, "our deflate stream inflates to other bytes");
    }
});
