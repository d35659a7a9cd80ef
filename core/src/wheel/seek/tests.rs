use std::io::Write;

use super::locate::PIECE;
use super::*;
use crate::parallel::{Backwards, Sequential};

/// Data shaped like a library: a compressible head, a long incompressible middle, and
/// a compressible tail (the part an audit wants).
fn library(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9u32;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    (0..len)
        .map(|i| {
            if i < len / 8 || i > len - len / 8 {
                let word = next() % 64;
                b"ELF dynamic table symbol version GLIBC_2.17 needed"[word as usize % 48]
            } else {
                (next() & 0xff) as u8
            }
        })
        .collect()
}

fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn member<'a>(data: &[u8], z: &'a [u8]) -> Deflated<'a, [u8]> {
    Deflated {
        src: z,
        start: 0,
        len: z.len() as u64,
        size: data.len() as u64,
    }
}

/// The latest boundary at least [`GAP`] before `need`.
fn locate(d: &Deflated<'_, [u8]>, need: u64) -> Option<Start> {
    let mut index = TailIndex::default();
    d.extend_index(&mut index, need, &Sequential);
    index.before(need.checked_sub(GAP)?)
}

/// Locates and reads from `need` to the end; the start and the bytes.
/// As the audit does, a start further back is tried when the window does not become
/// known before `need` (compressible data copies unknown bytes on for long).
fn tail_of(data: &[u8], z: &[u8], need: u64) -> Option<(Start, Vec<u8>)> {
    let d = member(data, z);
    for margin in [1, 4, 16] {
        let mut index = TailIndex::default();
        d.extend_index(&mut index, need - (margin - 1) * GAP, &Sequential);
        let start = index.before(need.checked_sub(margin * GAP)?)?;
        let mut got = Vec::new();
        let mut first = None;
        let read = d.read(start, need, |at, piece| {
            first.get_or_insert(at);
            got.extend_from_slice(piece);
            true
        });
        match read {
            Ok(_) => {
                assert_eq!(first, Some(need));
                return Some((start, got));
            }
            Err(e) => assert!(e.to_string().contains("depends on data before"), "{e}"),
        }
    }
    panic!("no start from which the tail is known")
}

#[test]
fn decodes_the_end_without_the_start() {
    for level in [6, 9] {
        let data = library(24 << 20);
        let z = deflate(&data, level);
        let need = data.len() as u64 - (1 << 20);
        let (s, got) = tail_of(&data, &z, need).expect("a block boundary near the end");
        assert!(s.offset + GAP <= need, "level {level}: {s:?}");
        assert!(s.offset > data.len() as u64 / 2, "the tail is long: {s:?}");
        assert!(got == data[need as usize..], "level {level}: {s:?}");
    }
}

/// zlib's level 1 writes fixed-Huffman blocks only, whose headers are no signature:
/// there may be no start to find, but bytes handed out must be right.
#[test]
fn fixed_blocks_give_right_bytes_or_nothing() {
    let data = library(24 << 20);
    let z = deflate(&data, 1);
    let need = data.len() as u64 - (1 << 20);
    let d = member(&data, &z);
    if let Some(s) = locate(&d, need) {
        let mut got = Vec::new();
        if d.read(s, need, |_, p| {
            got.extend_from_slice(p);
            true
        })
        .is_ok()
        {
            assert!(got == data[need as usize..], "{s:?}");
        }
    }
}

#[test]
fn stored_blocks_are_found_too() {
    let data = library(16 << 20);
    let z = deflate(&data, 0);
    let need = data.len() as u64 - (2 << 20);
    let (s, got) = tail_of(&data, &z, need).unwrap();
    assert!(got == data[need as usize..], "{s:?}");
}

#[test]
fn a_stop_ends_the_read() {
    let data = library(24 << 20);
    let z = deflate(&data, 6);
    let need = data.len() as u64 - (2 << 20);
    let d = member(&data, &z);
    let s = tail_of(&data, &z, need).unwrap().0;
    let mut got = Vec::new();
    d.read(s, need, |at, p| {
        assert_eq!(at as usize, need as usize + got.len());
        got.extend_from_slice(p);
        got.len() < 100_000
    })
    .unwrap();
    assert!(got.len() >= 100_000);
    assert!(got == data[need as usize..need as usize + got.len()]);
}

#[test]
fn nothing_for_small_or_near_start_needs() {
    let data = library(8 << 20);
    let z = deflate(&data, 6);
    assert!(
        tail_of(&data, &z, 2 << 20).is_none(),
        "more than half: read from the start"
    );
    let tiny = deflate(b"hello", 6);
    assert!(tail_of(b"hello", &tiny, 1).is_none());
}

#[test]
fn a_damaged_end_is_not_used() {
    let data = library(16 << 20);
    let mut z = deflate(&data, 6);
    let n = z.len();
    z.truncate(n - 100);
    let d = member(&data, &z);
    assert!(locate(&d, data.len() as u64 - (1 << 20)).is_none());
}

/// A member that stores another deflate stream (a compressed resource inside a
/// library): boundaries of the inner stream walk like real ones but do not decode to
/// the member's end, and must not be used.
#[test]
fn an_inner_stream_is_not_taken_for_the_member() {
    let mut data = library(24 << 20);
    let inner = deflate(&library(3 << 20)[..], 6);
    let at = data.len() - (5 << 20);
    data[at..at + inner.len()].copy_from_slice(&inner);
    let z = deflate(&data, 6);
    let need = data.len() as u64 - (1 << 20);
    if let Some((s, got)) = tail_of(&data, &z, need) {
        assert!(got == data[need as usize..], "{s:?}");
    }
}

/// Data with incompressible stretches, which zlib stores: stored blocks then start
/// at byte boundaries that a decoder started mid-byte must keep.
#[test]
fn decodes_from_every_boundary_at_every_bit_offset() {
    use crate::wheel::blocks::Walker;
    let data = library(3 << 20);
    let mut shifts = [false; 8];
    for level in [0, 1, 6, 9] {
        let z = deflate(&data, level);
        let d = member(&data, &z);
        let mut w = Walker::from_stream_start(&z[..]);
        let mut blocks = Vec::new();
        while let Some(b) = w.next_block().unwrap() {
            blocks.push(b);
        }
        let mut offset = 0u64;
        for b in &blocks {
            shifts[(b.start % 8) as usize] = true;
            let start = Start {
                bit: b.start,
                offset,
            };
            let walked = d
                .walk_piece(b.start, None)
                .map(|p| data.len() as u64 - p.out);
            assert_eq!(walked, Some(offset), "level {level} {b:?}");
            let mut got = Vec::new();
            let mut dec = Decoder::new(&d, start.bit, 0).unwrap();
            let window = &data[offset.saturating_sub(WINDOW as u64) as usize..offset as usize];
            if !window.is_empty() {
                let mut inflater = Decompress::new(false);
                inflater.set_dictionary(window).unwrap();
                dec.inflater = inflater;
            }
            loop {
                let piece = dec.next().unwrap();
                if piece.is_empty() {
                    break;
                }
                got.extend_from_slice(piece);
            }
            assert!(got == data[offset as usize..], "level {level} {b:?}");
            assert!(dec.ended_at_end());
            offset += b.out;
        }
    }
    assert!(
        shifts.iter().all(|&s| s),
        "every bit offset is tried: {shifts:?}"
    );
}

/// A second, earlier need walks only to where the first walk began, and the index then
/// holds both stretches with the same offsets as one walk from the earlier start.
#[test]
fn an_earlier_need_extends_the_index() {
    let data = library(24 << 20);
    let z = deflate(&data, 6);
    let d = member(&data, &z);
    let mut index = TailIndex::default();
    let late = data.len() as u64 - (1 << 20);
    let first_walk = d.extend_index(&mut index, late, &Sequential);
    let late_start = index.before(late - GAP).unwrap();
    let early = data.len() as u64 - (6 << 20);
    let second_walk = d.extend_index(&mut index, early, &Sequential);
    let early_start = index.before(early - GAP).unwrap();
    assert!(early_start.offset < late_start.offset);
    assert!(
        second_walk < data.len() as u64 - early_start.offset,
        "{first_walk} {second_walk}"
    );
    // The index holds exactly the boundaries a walk from the stream's start passes.
    let truth = boundaries(&z);
    for s in index
        .starts
        .iter()
        .filter(|s| s.offset >= early_start.offset)
    {
        assert!(truth.contains(s), "{s:?}");
    }
    assert_eq!(
        index.starts.len(),
        truth
            .iter()
            .filter(|s| s.offset >= index.starts[0].offset)
            .count()
    );
}

/// Every block boundary of a whole stream and where its output starts.
fn boundaries(z: &[u8]) -> Vec<Start> {
    let mut w = crate::wheel::blocks::Walker::from_stream_start(z);
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(b) = w.next_block().unwrap() {
        out.push(Start {
            bit: b.start,
            offset: at,
        });
        at += b.out;
    }
    out
}

/// A long tail is walked in pieces; whatever order they run in, the index is the one a
/// single walk gives.
#[test]
fn pieces_walked_in_any_order_give_the_same_index() {
    let data = library(48 << 20);
    let z = deflate(&data, 6);
    let d = member(&data, &z);
    let need = data.len() as u64 / 5 * 3;
    let mut a = TailIndex::default();
    d.extend_index(&mut a, need, &Sequential);
    let mut b = TailIndex::default();
    d.extend_index(&mut b, need, &Backwards);
    assert!(a.starts[0].offset + GAP <= need, "{:?}", a.starts[0]);
    assert!(
        z.len() as u64 - a.starts[0].bit / 8 > 2 * PIECE + PIECE / 2,
        "the tail is cut at least twice: two pieces are walked at once, one alone"
    );
    assert_eq!(a.starts, b.starts);
    let truth = boundaries(&z);
    let from = a.starts[0].offset;
    assert_eq!(
        a.starts,
        truth
            .into_iter()
            .filter(|s| s.offset >= from)
            .collect::<Vec<_>>()
    );
}
