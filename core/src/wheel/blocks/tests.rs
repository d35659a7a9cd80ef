use std::io::{Read, Write};

use super::*;

fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn sample(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491u32;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if (i / 100_000) % 3 == 2 {
                x as u8
            } else {
                b"the quick brown fox jumps over the lazy dog "[(x % 44) as usize]
            }
        })
        .collect()
}

fn walk_all(z: &[u8]) -> Result<Vec<Block>> {
    let (blocks, end) = walked_alone(Walker::from_stream_start(z));
    end.map(|()| blocks)
}

#[test]
fn walks_what_zlib_writes_at_every_level() {
    let data = sample(700_000);
    for level in 0..=9 {
        let z = deflate(&data, level);
        let blocks = walk_all(&z).unwrap();
        let total: u64 = blocks.iter().map(|b| b.out).sum();
        assert_eq!(total, data.len() as u64, "level {level}");
        assert!(blocks.last().unwrap().last);
        // Each block starts where the previous ended, and the last ends in the
        // last byte.
        for pair in blocks.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert_eq!(
            blocks.last().unwrap().end.div_ceil(8),
            z.len() as u64,
            "level {level}"
        );
    }
}

#[test]
fn a_walk_from_any_boundary_agrees() {
    let data = sample(900_000);
    let z = deflate(&data, 6);
    let blocks = walk_all(&z).unwrap();
    assert!(blocks.len() > 3);
    let b = blocks[blocks.len() / 2];
    let mut w = Walker::from_block(&z[(b.start / 8) as usize..]);
    w.skip_bits((b.start % 8) as u32).unwrap();
    let first = w.next_block().unwrap().unwrap();
    assert_eq!(first.end - first.start, b.end - b.start);
    assert_eq!(first.out, b.out);
    if b.kind != Kind::Fixed {
        assert!(plausible_header(&z, b.start));
    }
}

#[test]
fn the_head_is_what_an_inflater_gives() {
    let data = sample(200_000);
    for level in 0..=9 {
        let z = deflate(&data, level);
        for want in [0, 1, 4, 64, 5000] {
            assert_eq!(
                inflate_head(&z, want).as_deref(),
                Some(&data[..want]),
                "{level} {want}"
            );
        }
        // Too little of the stream: no answer, not a wrong one.
        assert_eq!(inflate_head(&z[..2], 5000), None);
    }
    let short = deflate(b"\x7fEL", 6);
    assert_eq!(inflate_head(&short, 4).as_deref(), Some(&b"\x7fEL"[..]));
    let runs = deflate(&[7u8; 1000], 9);
    assert_eq!(inflate_head(&runs, 300).as_deref(), Some(&[7u8; 300][..]));
    assert_eq!(inflate_head(&[0xff; 16], 4), None);
}

#[test]
fn damage_is_an_error_not_a_panic() {
    let data = sample(300_000);
    let z = deflate(&data, 6);
    assert_eq!(walk_all(&z[..z.len() / 2]), Err(WalkError::Truncated));
    let mut x = 7u32;
    for _ in 0..200 {
        let mut bad = z.clone();
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let at = (x as usize >> 4) % bad.len();
        bad[at] ^= 1 << (x % 8);
        let _ = walk_all(&bad);
    }
    assert!(walk_all(&[0xff; 64]).is_err());
    assert!(walk_all(&[]).is_err());
}

#[test]
fn a_distance_before_the_start_is_rejected_only_when_the_start_is_known() {
    // A fixed block: literal 'a', then length 3 at distance 2 (only 1 byte before).
    let mut bits: Vec<(u32, u32)> = vec![(1, 1), (1, 2)]; // BFINAL, BTYPE=01
    let rev = |c: u32, l: u32| c.reverse_bits() >> (32 - l);
    bits.push((rev(0x30 + u32::from(b'a'), 8), 8));
    bits.push((rev(1, 7), 7)); // symbol 257: length 3
    bits.push((rev(1, 5), 5)); // distance symbol 1: distance 2
    bits.push((rev(0, 7), 7)); // end of block
    let mut z = Vec::new();
    let (mut acc, mut n) = (0u64, 0u32);
    for (v, l) in bits {
        acc |= u64::from(v) << n;
        n += l;
    }
    while n > 0 {
        z.push(acc as u8);
        acc >>= 8;
        n = n.saturating_sub(8);
    }
    assert_eq!(
        walk_all(&z),
        Err(WalkError::Invalid("invalid distance too far back"))
    );
    let mut w = Walker::from_block(&z[..]);
    assert_eq!(w.next_block().unwrap().unwrap().out, 4);
}

/// What `plausible_header` must answer, decided the long way: a walker reads the
/// header at `bit` and zlib's checks decide.
fn header_by_walker(data: &[u8], bit: u64) -> bool {
    let byte = (bit / 8) as usize;
    let Some(rest) = data.get(byte..data.len().min(byte + 320)) else {
        return false;
    };
    let mut w = Walker::with_buffer(rest, None, 512);
    if w.skip_bits((bit % 8) as u32).is_err() {
        return false;
    }
    match w.bits.take(3).map(|h| h >> 1) {
        Ok(2) => w.dynamic_lengths().is_ok(),
        Ok(0) => {
            let pad = w.bits.n % 8;
            w.bits.consume(pad).is_ok()
                && matches!((w.bits.take(16), w.bits.take(16)), (Ok(l), Ok(n)) if l == !n & 0xffff)
        }
        _ => false,
    }
}

#[test]
fn the_quick_header_test_agrees_with_a_walker() {
    let mut data = deflate(&sample(300_000), 6);
    data.extend(sample(20_000).iter().map(|b| b.wrapping_mul(151)));
    let (mut yes, mut total) = (0, 0);
    for bit in 0..(data.len() as u64 * 8) {
        let want = header_by_walker(&data, bit);
        assert_eq!(plausible_header(&data, bit), want, "bit {bit}");
        yes += usize::from(want);
        total += 1;
    }
    // Both answers occur, and the short end of the data is covered.
    assert!(yes > 10 && yes < total / 10, "{yes} of {total}");
}

/// Bytes that start stored and dynamic headers at every alignment: `LEN` and `NLEN`
/// pairs, and the HLIT and HDIST values just inside and outside their range, among
/// pseudo-random bytes.
fn planted_headers() -> Vec<u8> {
    let mut data = sample(60_000)
        .iter()
        .map(|b| b.wrapping_mul(151))
        .collect::<Vec<_>>();
    let mut at = 100;
    let mut k = 0u32;
    while at + 16 < data.len() {
        match k % 4 {
            0 => {
                let len = (k * 977) as u16;
                data[at..at + 2].copy_from_slice(&len.to_le_bytes());
                data[at + 2..at + 4].copy_from_slice(&(!len).to_le_bytes());
            }
            1 => data[at..at + 3].fill(0xff),
            2 => data[at..at + 3].fill(0x00),
            _ => {
                // BTYPE 2, HLIT 29 and HDIST 29, then HLIT 30, shifted by the position.
                let v = (0b10u32 << 1 | 29 << 3 | 29 << 8 | 30 << 16) << (k % 8);
                data[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
        at += 37 + (k as usize % 11);
        k += 1;
    }
    data
}

/// Lengths of a complete code of `n` ≥ 2 symbols: the first of them one bit shorter.
fn complete_lengths(n: usize) -> Vec<u8> {
    let bits = n.next_power_of_two().trailing_zeros() as u8;
    let short = (1 << bits) - n;
    (0..n).map(|i| bits - u8::from(i < short)).collect()
}

/// Writes a dynamic block's header (not final): the code-length code `cl` (all 19
/// lengths), then the literal/length and distance code lengths coded by it.
fn put_dynamic_header(
    w: &mut crate::wheel::bitwriter::BitWriter,
    cl: &[u8],
    lit: &[u8],
    dist: &[u8],
) {
    w.put(0b100, 3);
    w.put((lit.len() - 257) as u32, 5);
    w.put((dist.len() - 1) as u32, 5);
    w.put(19 - 4, 4);
    for &sym in &ORDER {
        w.put(u32::from(cl[sym]), 3);
    }
    for &len in lit.iter().chain(dist) {
        let (code, n) = huffman::stream_code(cl, usize::from(len)).unwrap();
        w.put(code, n);
    }
}

/// A dynamic header with `nlen` literal/length and `ndist` distance codes, all used,
/// preceded by `shift` zero bits.
fn dynamic_header(nlen: usize, ndist: usize, shift: u32) -> Vec<u8> {
    let mut w = crate::wheel::bitwriter::BitWriter::default();
    w.put(0, shift);
    // Code lengths 0 to 15 get five bits, 16 two and 17 and 18 three: complete.
    let cl: Vec<u8> = (0..19)
        .map(|s| match s {
            16 => 2,
            17 | 18 => 3,
            _ => 5,
        })
        .collect();
    put_dynamic_header(
        &mut w,
        &cl,
        &complete_lengths(nlen),
        &complete_lengths(ndist),
    );
    w.finish()
}

#[test]
fn the_scan_for_headers_agrees_with_the_test_at_each_bit() {
    let mut data = deflate(&sample(200_000), 6);
    data.extend(sample(20_000).iter().map(|b| b.wrapping_mul(151)));
    let end = data.len() as u64 * 8;
    let mut planted = planted_headers();
    // Dynamic headers at every alignment, with HLIT and HDIST across their ranges.
    let mut at = 20_000;
    let mut heads = Vec::new();
    for nlen in [257, 270, 286] {
        for ndist in [2, 14, 15, 16, 17, 29, 30] {
            for shift in 0..8 {
                let h = dynamic_header(nlen, ndist, shift);
                planted[at..at + h.len()].copy_from_slice(&h);
                heads.push(at as u64 * 8 + u64::from(shift));
                at += h.len() + 7;
            }
        }
    }
    for &h in &heads {
        assert!(plausible_header(&planted, h), "planted header at bit {h}");
    }
    let pend = planted.len() as u64 * 8;
    for (data, range) in [
        (&data, 0..end),
        (&data, 5..end - 3),
        (&data, end - 200..end),
        (&data, 0..0),
        (&data, 17..18),
        (&data, 63..65),
        (&data, 64..128),
        (&planted, 0..pend),
        (&planted, 1000..pend - 70),
    ] {
        let one_by_one: Vec<u64> = range
            .clone()
            .filter(|&b| plausible_header(data, b))
            .collect();
        assert_eq!(
            plausible_headers(data, range.clone()).collect::<Vec<_>>(),
            one_by_one,
            "{range:?}"
        );
    }
    // The planted headers are found: stored ones at several alignments among them.
    let found: Vec<u64> = plausible_headers(&planted, 0..pend).collect();
    let stored = found
        .iter()
        .filter(|&&b| {
            (u128::from_le_bytes(planted[b as usize / 8..][..16].try_into().unwrap()) >> (b % 8))
                & 6
                == 0
        })
        .count();
    assert!(
        stored > 100 && found.len() > 300,
        "{stored} stored of {}",
        found.len()
    );
}

/// A stream whose first block is dynamic, with codes for every byte but `0x7f`, and
/// holds `first` (literals by those codes), then a final stored block of `rest`.
fn first_block_without_0x7f(first: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut w = crate::wheel::bitwriter::BitWriter::default();
    // Code lengths 8 (one bit), 0 and 1 (two bits each): a complete code.
    let cl: Vec<u8> = (0..19)
        .map(|s| match s {
            8 => 1,
            0 | 1 => 2,
            _ => 0,
        })
        .collect();
    let mut lens = vec![8u8; 257];
    lens[0x7f] = 0;
    put_dynamic_header(&mut w, &cl, &lens, &[1, 1]);
    for &b in first {
        let (code, n) = huffman::stream_code(&lens, usize::from(b)).unwrap();
        w.put(code, n);
    }
    let (code, n) = huffman::stream_code(&lens, 256).unwrap();
    w.put(code, n);
    w.put(0b1, 3); // final, stored
    w.put(0, ((8 - w.position() % 8) % 8) as u32);
    w.put(rest.len() as u32, 16);
    w.put(!(rest.len() as u32) & 0xffff, 16);
    let mut out = w.finish();
    out.extend_from_slice(rest);
    out
}

#[test]
fn a_first_byte_is_ruled_out_only_when_the_first_block_holds_output_and_no_code_for_it() {
    let inflate = |z: &[u8]| {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(z)
            .read_to_end(&mut out)
            .unwrap();
        out
    };
    // Text has no code for 0x7f and starts in the first block: ruled out, and it is
    // indeed not what the stream starts with.
    let text = deflate(&sample(50_000), 6);
    assert!(first_byte_is_not(&text, 0x7f));
    assert!(!first_byte_is_not(&text, inflate(&text)[0]));
    // An ELF file's first block has a code for 0x7f.
    let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let elf = deflate(&elf[..200_000], 6);
    assert!(!first_byte_is_not(&elf, 0x7f));
    // A first block with no code for 0x7f: ruled out when it holds a byte, not when it
    // is empty and the next block starts with 0x7f.
    let z = first_block_without_0x7f(b"A", b"\x7fELF");
    assert_eq!(inflate(&z), b"A\x7fELF");
    assert!(first_byte_is_not(&z, 0x7f));
    let z = first_block_without_0x7f(b"", b"\x7fELF");
    assert_eq!(inflate(&z), b"\x7fELF");
    assert!(!first_byte_is_not(&z, 0x7f));
    assert_eq!(inflate_head(&z, 4).as_deref(), Some(&b"\x7fELF"[..]));
    // Stored and fixed first blocks do not tell.
    assert!(!first_byte_is_not(&deflate(b"A", 0), 0x7f));
    assert!(!first_byte_is_not(&deflate(b"A", 1), 0x7f));
}

/// Each walk's blocks and how it ended, walked two at a time with `walk_two`, `stop_at`
/// (per walk) being how many blocks `visit` takes before it says to stop.
fn walked_in_pairs(
    a: Walker<&[u8]>,
    b: Walker<&[u8]>,
    stop_at: [usize; 2],
) -> [(Vec<Block>, Result<()>); 2] {
    let (mut a, mut b) = (a, b);
    let mut seen: [Vec<Block>; 2] = [Vec::new(), Vec::new()];
    let [ra, rb] = walk_two([&mut a, &mut b], |i, block| {
        seen[i].push(block);
        seen[i].len() < stop_at[i]
    });
    let [sa, sb] = seen;
    [(sa, ra), (sb, rb)]
}

/// A walk's blocks one at a time, and how it ended.
fn walked_alone(mut w: Walker<&[u8]>) -> (Vec<Block>, Result<()>) {
    let mut blocks = Vec::new();
    loop {
        match w.next_block() {
            Ok(Some(b)) => blocks.push(b),
            Ok(None) => return (blocks, Ok(())),
            Err(e) => return (blocks, Err(e)),
        }
    }
}

#[test]
fn two_walks_at_once_give_the_blocks_each_gives_alone() {
    let big = deflate(&sample(700_000), 6);
    let fast = deflate(&sample(300_000), 1);
    let stored = deflate(&sample(200_000), 0);
    let fixed = deflate(b"a few bytes, coded with the fixed codes", 6);
    let blocks = walk_all(&big).unwrap();
    let mid = blocks[blocks.len() / 2].start;
    let from_mid = || {
        let mut w = Walker::from_block(&big[(mid / 8) as usize..]);
        w.skip_bits((mid % 8) as u32).unwrap();
        w
    };
    let streams: [&[u8]; 4] = [&big, &fast, &stored, &fixed];
    for a in streams {
        for b in streams {
            let got = walked_in_pairs(
                Walker::from_stream_start(a),
                Walker::from_stream_start(b),
                [usize::MAX; 2],
            );
            assert_eq!(got[0], walked_alone(Walker::from_stream_start(a)));
            assert_eq!(got[1], walked_alone(Walker::from_stream_start(b)));
        }
        // From a boundary in the middle, with an unknown window.
        let got = walked_in_pairs(from_mid(), Walker::from_stream_start(a), [usize::MAX; 2]);
        assert_eq!(got[0], walked_alone(from_mid()));
        assert_eq!(got[1], walked_alone(Walker::from_stream_start(a)));
    }
}

#[test]
fn a_walk_of_two_stops_each_where_told_and_keeps_an_error_to_its_own() {
    let big = deflate(&sample(700_000), 6);
    let other = deflate(&sample(500_000), 9);
    let whole = walk_all(&big).unwrap();
    assert!(whole.len() > 6);
    // The first walk stops after three blocks; the second goes on to its end.
    let [(a, ra), (b, rb)] = walked_in_pairs(
        Walker::from_stream_start(&big),
        Walker::from_stream_start(&other),
        [3, usize::MAX],
    );
    assert_eq!((a, ra), (whole[..3].to_vec(), Ok(())));
    assert_eq!((b, rb), walked_alone(Walker::from_stream_start(&other)));
    // A damaged stream fails as it fails alone, and the other walk is not disturbed.
    let truncated = &big[..big.len() / 2];
    // A bit flipped in the second half that the walk rejects there.
    let flipped = (big.len() / 2..big.len())
        .map(|at| {
            let mut bad = big.clone();
            bad[at] ^= 0x10;
            bad
        })
        .find(|bad| {
            let (blocks, end) = walked_alone(Walker::from_stream_start(bad));
            end.is_err() && blocks.len() > 2
        })
        .unwrap();
    for damaged in [truncated, &flipped[..]] {
        let alone = walked_alone(Walker::from_stream_start(damaged));
        assert!(alone.1.is_err());
        let [(a, ra), (b, rb)] = walked_in_pairs(
            Walker::from_stream_start(damaged),
            Walker::from_stream_start(&other),
            [usize::MAX; 2],
        );
        assert_eq!((a, ra), alone);
        assert_eq!((b, rb), walked_alone(Walker::from_stream_start(&other)));
    }
}

#[test]
fn a_copy_reaching_before_a_known_start_is_rejected_on_the_fast_path_too() {
    // From a boundary in the middle of a long stream, but as if it were the stream's
    // start: its copies reach back into a window that does not exist. 400 bytes of it:
    // the fast path takes all but the last 8, and the data then ends (an error of its
    // own) before the next copy that reaches back could be met on the checked path.
    let big = deflate(&sample(700_000), 6);
    let mid = walk_all(&big).unwrap()[3].start;
    let from = (mid / 8) as usize;
    let from_mid = || {
        let mut w = Walker::from_stream_start(&big[from..from + 400]);
        w.skip_bits((mid % 8) as u32).unwrap();
        w
    };
    let far = Err(WalkError::Invalid("invalid distance too far back"));
    let (blocks, end) = walked_alone(from_mid());
    assert_eq!((blocks.len(), &end), (0, &far));
    let [(a, ra), (b, rb)] =
        walked_in_pairs(from_mid(), Walker::from_stream_start(&big), [usize::MAX; 2]);
    assert_eq!((a.len(), ra), (0, far));
    assert_eq!((b, rb), walked_alone(Walker::from_stream_start(&big)));
}

fn inflated(z: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(z)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn an_inflating_walk_gives_what_an_inflater_gives_and_the_walks_blocks() {
    // Text, random bytes, runs (copies one and a few bytes back), at every level
    // (stored, fixed and dynamic blocks), and a stream of our encoder.
    let mut data = sample(700_000);
    data.extend(std::iter::repeat_n(7u8, 5000));
    data.extend((0..20_000).map(|i| [1u8, 2, 3][i % 3]));
    data.extend(b"short tail");
    let mut streams: Vec<Vec<u8>> = (0..=9).map(|level| deflate(&data, level)).collect();
    streams.push(deflate(b"a", 6));
    streams.push(deflate(b"", 6));
    streams.push(crate::wheel::deflate::deflate_chunk(
        &data,
        0..data.len(),
        6,
    ));
    for z in &streams {
        let want = inflated(z);
        let (out, blocks) = inflate_walk(z, want.len()).unwrap();
        assert_eq!(out, want);
        let walked = walk_all(z).unwrap();
        assert_eq!(blocks.iter().map(|(b, _)| *b).collect::<Vec<_>>(), walked);
        let mut at = 0;
        for (b, start) in &blocks {
            assert_eq!(*start, at);
            at += b.out;
        }
    }
}

#[test]
fn an_inflating_walk_refuses_more_output_than_its_size_and_damage() {
    let data = sample(300_000);
    for level in [0, 1, 6] {
        let z = deflate(&data, level);
        for size in [0, 1, data.len() - 1] {
            assert_eq!(
                inflate_walk(&z, size).unwrap_err(),
                WalkError::Long,
                "level {level}"
            );
        }
        // Cut short, and with flipped bits: an error, never a panic.
        assert!(inflate_walk(&z[..z.len() / 2], data.len()).is_err());
        for at in (0..z.len()).step_by(z.len() / 50) {
            let mut bad = z.clone();
            bad[at] ^= 0x5a;
            if let Ok((out, _)) = inflate_walk(&bad, data.len()) {
                // Where the damage still decodes, it decodes as zlib decodes it.
                let mut zl = Vec::new();
                let ok = flate2::read::DeflateDecoder::new(&bad[..])
                    .read_to_end(&mut zl)
                    .is_ok();
                assert!(ok && zl[..out.len()] == out[..], "level {level} at {at}");
            }
        }
    }
}
