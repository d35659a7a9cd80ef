use std::io::{Read, Write};

use super::*;

fn inflate(z: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(z)
        .read_to_end(&mut out)
        .expect("our stream inflates");
    out
}

fn zlib_rs(data: &[u8], level: u32) -> usize {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap().len()
}

fn xorshift(seed: u32) -> impl FnMut() -> u32 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    }
}

/// Kinds of content: random bytes, one byte repeated, text, low-entropy bytes, and a
/// mix that changes every few KB, as a library's sections do.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let mut r = xorshift(0x9e37_79b9);
    let random: Vec<u8> = (0..70_000).map(|_| r() as u8).collect();
    let text: Vec<u8> = (0..200_000)
        .map(|_| b"the quick brown fox jumps over a lazy dog; GLIBC_2.17 "[(r() % 53) as usize])
        .collect();
    let low: Vec<u8> = (0..100_000).map(|_| (r() % 5) as u8).collect();
    let mix: Vec<u8> = (0..300_000usize)
        .map(|i| match (i / 5000) % 3 {
            0 => r() as u8,
            1 => text[i % text.len()],
            _ => (i / 300) as u8,
        })
        .collect();
    vec![
        ("random", random),
        ("zeros", vec![0; 100_000]),
        ("text", text),
        ("low", low),
        ("mix", mix),
    ]
}

#[test]
fn every_level_round_trips_every_kind_of_content() {
    for (name, data) in samples() {
        for level in 0..=9 {
            let z = encode(&data, 0..data.len(), level, true);
            assert!(inflate(&z) == data, "{name} level {level}");
        }
    }
}

#[test]
fn short_inputs_round_trip() {
    let mut r = xorshift(5);
    for len in 0..300 {
        let data: Vec<u8> = (0..len)
            .map(|i| if i % 3 == 0 { r() as u8 } else { b'a' })
            .collect();
        for level in [0, 1, 6, 9] {
            let z = encode(&data, 0..data.len(), level, true);
            assert_eq!(inflate(&z), data, "len {len} level {level}");
        }
    }
}

/// Parts of one buffer, each primed with the window before it, concatenate into one
/// stream: the way the chunked deflate uses the encoder. Copies reach back across the
/// cuts (the content repeats with a period shorter than the window).
#[test]
fn parts_primed_with_the_window_concatenate() {
    let (_, mix) = samples().pop().unwrap();
    for cut in [1, 4, 5000, 65_536, 100_001] {
        for level in [1, 5, 6] {
            let mut z = encode(&mix, 0..cut, level, false);
            z.extend(encode(&mix, cut..cut, level, false));
            z.extend(encode(&mix, cut..mix.len(), level, true));
            assert!(inflate(&z) == mix, "cut {cut} level {level}");
        }
    }
}

/// A part that is not last ends on a byte boundary with an empty stored block, so that
/// the next part can follow; the last ends the stream.
#[test]
fn a_part_ends_with_a_sync_flush_unless_last() {
    let data = b"hello hello hello hello".repeat(10);
    for level in [0, 6] {
        let z = encode(&data, 0..data.len(), level, false);
        assert_eq!(&z[z.len() - 4..], &[0, 0, 0xff, 0xff], "level {level}");
        let mut d = flate2::Decompress::new(false);
        let mut out = vec![0u8; 1000];
        let status = d
            .decompress(&z, &mut out, flate2::FlushDecompress::None)
            .unwrap();
        assert_eq!(status, flate2::Status::Ok, "level {level}: not ended");
        assert_eq!(&out[..d.total_out() as usize], &data[..]);
    }
    assert_eq!(encode(&[], 0..0, 6, true), [0x03, 0x00]);
}

/// Random bytes do not grow by more than stored blocks' headers.
#[test]
fn incompressible_content_is_stored() {
    let (_, random) = samples().swap_remove(0);
    let z = encode(&random, 0..random.len(), 6, true);
    assert!(
        z.len() <= random.len() + 5 * random.len().div_ceil(65535) + 1,
        "{}",
        z.len()
    );
}

/// On a real program (this test binary, a few MB of code and data), each level's
/// output inflates back, is no larger than zlib-rs's at the same level, and the levels
/// trade size for time in order; level 9 is no larger than zlib-rs's level 9 either,
/// zlib's own lazy parse with its longest chains.
#[test]
fn a_real_binary_compresses_as_well_as_zlib_rs() {
    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let data = &exe[..exe.len().min(3 << 20)];
    let zlib9 = zlib_rs(data, 9);
    let mut sizes = Vec::new();
    for level in [1, 4, 6, 9] {
        let z = encode(data, 0..data.len(), level, true);
        assert!(inflate(&z) == data, "level {level}");
        let theirs = zlib_rs(data, level);
        assert!(
            z.len() <= theirs,
            "level {level}: {} > zlib-rs {theirs}",
            z.len()
        );
        if level == 9 {
            assert!(
                z.len() <= zlib9,
                "level {level}: {} > zlib-rs 9 {zlib9}",
                z.len()
            );
        }
        sizes.push(z.len());
    }
    assert!(sizes.windows(2).all(|w| w[1] <= w[0]), "{sizes:?}");
}

/// Data of few byte values (bases of a genome, say): literals are cheap there, so a
/// block takes only copies long enough to pay (libdeflate's minimum by the values
/// used), and comes out smaller than zlib-rs's at the same level; text is searched
/// harder at level 6, and comes out no larger than zlib-rs's.
#[test]
fn few_values_and_text_compress_as_well_as_zlib_rs() {
    let mut r = xorshift(11);
    let bases: Vec<u8> = (0..200_000).map(|_| b"ACGT"[(r() % 4) as usize]).collect();
    let (_, text) = samples().swap_remove(2);
    for (name, data) in [("bases", bases), ("text", text)] {
        let z = encode(&data, 0..data.len(), 6, true);
        assert!(inflate(&z) == data, "{name}");
        let theirs = zlib_rs(&data, 6);
        assert!(z.len() <= theirs, "{name}: {} > zlib-rs {theirs}", z.len());
    }
}
