//! The deflate walker against zlib: on any bytes, both accept the same streams with the
//! same output length, an inflating walk gives zlib's bytes and the walk's blocks (and
//! refuses one byte less room), the first bytes `inflate_head` gives are zlib's, a first byte
//! `first_byte_is_not` rules out is not zlib's, the sifted search for block headers
//! agrees with testing each bit, and two walks at once give what each gives alone. Then a
//! splice of an edited copy must not panic (it checks its own output).
#![no_main]

use std::io::{Read, Write};

use libfuzzer_sys::fuzz_target;
use truewheel_core::wheel::blocks::{
    first_byte_is_not, inflate_head, inflate_walk, plausible_header, plausible_headers,
    walk_two, Block, WalkError, Walker,
};
use truewheel_core::wheel::splice::splice;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        // `rest` as a raw deflate stream.
        let mut zlib = Vec::new();
        let mut d = flate2::read::DeflateDecoder::new(rest);
        let alone = blocks_alone(Walker::from_stream_start(rest));
        let ours = alone
            .1
            .is_ok()
            .then(|| alone.0.iter().map(|b| b.out).sum::<u64>());
        let accepted = d.read_to_end(&mut zlib).is_ok();
        match (accepted, ours) {
            (true, Some(total)) => assert_eq!(total, zlib.len() as u64),
            (true, None) => panic!("zlib inflates what the walker rejects"),
            (false, Some(_)) => panic!("the walker accepts what zlib rejects"),
            (false, None) => {}
        }
        // Room for what zlib gave, or (when it refused) for far more than these bytes
        // can give before they fail.
        let room = if accepted { zlib.len() } else { 1 << 22 };
        match inflate_walk(rest, room) {
            Ok((out, blocks)) => {
                assert!(accepted, "the inflating walk accepts what zlib rejects");
                assert_eq!(out, zlib);
                let walked: Vec<Block> = blocks.iter().map(|(b, _)| *b).collect();
                assert_eq!(walked, alone.0);
                if let Some(less) = room.checked_sub(1) {
                    assert_eq!(inflate_walk(rest, less).unwrap_err(), WalkError::Long);
                }
            }
            Err(e) => assert!(!accepted, "zlib inflates what the inflating walk rejects: {e}"),
        }
        if let Some(head) = inflate_head(rest, 16) {
            assert!(zlib.starts_with(&head) || zlib.len() < head.len());
        }
        // A first byte ruled out is not the one zlib inflates first (if any: what it
        // gave before an error counts too).
        for b in [0x7f, mode] {
            if first_byte_is_not(rest, b) {
                assert_ne!(zlib.first(), Some(&b));
            }
        }
        // Two walks at once, of `rest` and of what follows its first `mode` bytes (as a
        // walk from a block boundary: no window), give each walk's blocks and end.
        let tail = &rest[usize::from(mode).min(rest.len())..];
        let mut a = Walker::from_stream_start(rest);
        let mut b = Walker::from_block(tail);
        let mut seen: [Vec<Block>; 2] = [Vec::new(), Vec::new()];
        let ends = walk_two([&mut a, &mut b], |i, block| {
            seen[i].push(block);
            true
        });
        assert_eq!((&seen[0], &ends[0]), (&alone.0, &alone.1));
        let tail_alone = blocks_alone(Walker::from_block(tail));
        assert_eq!((&seen[1], &ends[1]), (&tail_alone.0, &tail_alone.1));
        // The sifted search finds exactly the positions the one-by-one test accepts.
        if rest.len() <= 2048 {
            let bits = rest.len() as u64 * 8;
            let sifted: Vec<u64> = plausible_headers(rest, mode as u64 % 64..bits).collect();
            let one_by_one: Vec<u64> =
                (mode as u64 % 64..bits).filter(|&b| plausible_header(rest, b)).collect();
            assert_eq!(sifted, one_by_one);
        }
        return;
    }
    // `rest` as content: deflate it, edit it, splice. With the top bit of `mode`, the
    // content is `rest` tiled to 70 KB (each copy a little different), so that its
    // blocks are long enough for a splice to keep runs of their symbols.
    let level = u32::from(mode >> 1) % 10;
    let content: Vec<u8> = if mode & 0x80 != 0 && !rest.is_empty() {
        rest.iter()
            .cycle()
            .take(70_000)
            .enumerate()
            .map(|(i, &b)| b ^ ((i / rest.len()) as u8 & mode & 0x0f))
            .collect()
    } else {
        rest.to_vec()
    };
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(&content).unwrap();
    let z = e.finish().unwrap();
    let mut new = content.clone();
    if let Some(n) = new.len().checked_sub(1) {
        // Two edits: one anywhere, one a few hundred bytes on (as a repair's are).
        let at = usize::from(mode) * 7919 % (n + 1);
        new[at] ^= 0x5a;
        let next = (at + 300 + usize::from(mode) * 13).min(n);
        new[next] ^= 0xa5;
    }
    new.extend_from_slice(&rest[..rest.len().min(usize::from(mode))]);
    if let Some(out) = splice(&content, &z, &new, 6) {
        let mut back = Vec::new();
        flate2::read::DeflateDecoder::new(&out[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == new);
    }
});

/// A walk's blocks, one at a time, and how it ended.
fn blocks_alone(mut w: Walker<&[u8]>) -> (Vec<Block>, Result<(), WalkError>) {
    let mut blocks = Vec::new();
    loop {
        match w.next_block() {
            Ok(Some(b)) => blocks.push(b),
            Ok(None) => return (blocks, Ok(())),
            Err(e) => return (blocks, Err(e)),
        }
    }
}
