use std::io::{Read, Write};

use super::*;
use crate::repair::editor::CoreEditor;
use crate::repair::{ElfEditor, ElfEdits};

fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn inflate(z: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(z)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Like a library: code-ish text with incompressible stretches (which zlib stores).
fn library(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491u32;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if (i / 150_000) % 4 == 3 {
                x as u8
            } else {
                b"mov rax, [rbp+8]; call GLIBC_2.17 symbol "[(x % 40) as usize]
            }
        })
        .collect()
}

/// What a repair does to an extension: a few bytes near the start, a name in the
/// middle, and a new segment at the end.
fn edit(old: &[u8], tail: usize) -> Vec<u8> {
    let mut new = old.to_vec();
    new[64..72].copy_from_slice(b"PATCHED!");
    let mid = old.len() / 2;
    new[mid..mid + 20].copy_from_slice(b"libyaml-0-8ec1a697.s");
    new.extend((0..tail).map(|i| (i % 251) as u8));
    new
}

#[test]
fn a_spliced_stream_inflates_to_the_new_bytes_and_reuses_most() {
    let old = library(1_500_000);
    for level in [0, 1, 6, 9] {
        let z = deflate(&old, level);
        for tail in [0, 1, 5000, 70_000] {
            let new = edit(&old, tail);
            let Some(out) = splice(&old, &z, &new, 6) else {
                // zlib-rs's level 1 writes few, huge blocks: an edit dirties most.
                assert_eq!(level, 1, "tail {tail}");
                continue;
            };
            assert!(inflate(&out) == new, "level {level} tail {tail}");
            // Reused: long runs of the old stream's bytes appear in the new one.
            let probe = &z[z.len() / 4..z.len() / 4 + 64];
            assert!(
                out.windows(64).any(|w| w == probe),
                "level {level}: nothing reused"
            );
            let whole = deflate(&new, 6).len();
            assert!(
                out.len() <= whole.max(z.len()) + whole / 50 + 64,
                "level {level}: {} vs {whole}",
                out.len()
            );
        }
    }
}

#[test]
fn unchanged_bytes_give_the_old_stream() {
    let old = library(400_000);
    let z = deflate(&old, 6);
    assert!(splice(&old, &z, &old, 6) == Some(z));
}

#[test]
fn edits_at_the_very_ends_and_in_every_block() {
    let old = library(600_000);
    let z = deflate(&old, 6);
    let mut new = old.clone();
    new[0] ^= 1;
    let n = new.len();
    new[n - 1] ^= 1;
    assert!(inflate(&splice(&old, &z, &new, 6).unwrap()) == new);
    // Changes every 10 KB: what is reused must still give the right bytes.
    let mut all = old.clone();
    for i in (0..all.len()).step_by(10_000) {
        all[i] ^= 0x55;
    }
    if let Some(out) = splice(&old, &z, &all, 6) {
        assert!(inflate(&out) == all);
    }
    // Over 1 MiB, half must be reused: changes 10 KB apart leave runs of symbols to
    // keep between them, changes closer than a run's least length leave none.
    let big = library(3 << 20);
    let z = deflate(&big, 6);
    let mut spread = big.clone();
    for i in (0..spread.len() * 2 / 3).step_by(10_000) {
        spread[i] ^= 0x55;
    }
    assert!(inflate(&splice(&big, &z, &spread, 6).unwrap()) == spread);
    let mut most = big.clone();
    for i in (0..most.len() * 2 / 3).step_by(MIN_RUN as usize / 2) {
        most[i] ^= 0x55;
    }
    assert!(splice(&big, &z, &most, 6).is_none());
}

#[test]
fn what_does_not_apply_gives_none() {
    let old = library(200_000);
    let z = deflate(&old, 6);
    assert!(splice(&old, &z, &old[..1000], 6).is_none(), "shorter");
    assert!(
        splice(&old, &z[..z.len() - 10], &old, 6).is_none(),
        "truncated stream"
    );
    assert!(
        splice(&old[..1000], &z, &old, 6).is_none(),
        "stream of other bytes"
    );
    assert!(splice(&[], &[], b"x", 6).is_none());
}

#[test]
fn changed_ranges_are_merged_and_include_the_growth() {
    let old = vec![0u8; 100_000];
    let mut new = old.clone();
    new[10] = 1;
    new[20] = 1;
    new[50_000] = 1;
    new.extend_from_slice(&[9; 10]);
    assert_eq!(
        changed(&Overwritten::whole(old), &new),
        vec![(10, 21), (50_000, 50_001), (100_000, 100_010)]
    );
}

/// The old bytes of the ranges that `writes` cover (sorted, merged, within `old`), as
/// an in-place edit saves them.
fn saved(old: &[u8], writes: &[(usize, Vec<u8>)]) -> Overwritten {
    let mut r: Vec<(usize, usize)> = writes
        .iter()
        .map(|(at, b)| (*at, (at + b.len()).min(old.len())))
        .filter(|(s, e)| s < e)
        .collect();
    r.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in r {
        match merged.last_mut() {
            Some(m) if s <= m.1 => m.1 = m.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    Overwritten {
        old_len: old.len() as u64,
        ranges: merged
            .into_iter()
            .map(|(s, e)| (s as u64, old[s..e].to_vec()))
            .collect(),
    }
}

proptest::proptest! {
    /// What an in-place edit saved tells the same changes as the whole old file: writes
    /// that share a page, cross pages, rewrite bytes as they were, or run past the end.
    #[test]
    fn saved_ranges_tell_the_changes_the_whole_file_does(
        writes in proptest::collection::vec(
            (0usize..40_000, proptest::collection::vec(0u8..3, 1..6000)), 0..12),
        grow in 0usize..9000,
    ) {
        let old: Vec<u8> = (0..30_000).map(|i| (i % 3) as u8).collect();
        let mut new = old.clone();
        new.resize(old.len() + grow, 7);
        let writes: Vec<(usize, Vec<u8>)> = writes
            .into_iter()
            .map(|(at, mut b)| {
                b.truncate(new.len().saturating_sub(at));
                (at.min(new.len()), b)
            })
            .collect();
        for (at, b) in &writes {
            new[*at..at + b.len()].copy_from_slice(b);
        }
        proptest::prop_assert_eq!(
            changed(&saved(&old, &writes), &new),
            changed(&Overwritten::whole(old.clone()), &new)
        );
    }
}

/// The check of a whole stream, uncut.
fn inflates_whole(z: &[u8], want: &[u8]) -> bool {
    check(z, want, &[(0, 0)], &[true], &Sequential)
}

/// The check before use takes exactly one whole stream of exactly the new bytes.
#[test]
fn the_check_wants_the_whole_stream_and_the_exact_bytes() {
    let data = library(100_000);
    let z = deflate(&data, 6);
    assert!(inflates_whole(&z, &data));
    assert!(inflates_whole(&deflate(b"", 6), b""));
    // Bytes after the stream's end, a stream cut short, output longer or shorter.
    assert!(!inflates_whole(&[&z[..], b"\0"].concat(), &data));
    assert!(!inflates_whole(&z[..z.len() - 1], &data));
    assert!(!inflates_whole(&z, &data[..data.len() - 1]));
    assert!(!inflates_whole(&z, &[&data[..], b"x"].concat()));
    let mut other = data.clone();
    other[50_000] ^= 1;
    assert!(!inflates_whole(&z, &other));
    assert!(!inflates_whole(b"\xff\xff", b""));
    assert!(!inflates_whole(b"", b""));
}

/// Cut at block starts, the check passes whatever order its segments run in; a cut
/// that is not where a block starts, or that says the wrong output offset, fails it, as
/// does a change to any segment's bytes or to the output it must give.
#[test]
fn a_cut_check_takes_block_starts_and_nothing_else() {
    let data = library(1_200_000);
    // Level 1 writes few blocks; chunked, it writes more, and empty stored ones.
    let chunked = crate::wheel::deflate::prepare(&data, 1)
        .deflated
        .unwrap()
        .to_vec();
    for (level, z) in [(1, chunked), (6, deflate(&data, 6)), (9, deflate(&data, 9))] {
        let blocks = blocks(&z, data.len() as u64).unwrap();
        assert!(blocks.len() > 4, "level {level}: {} blocks", blocks.len());
        let cuts: Vec<(u64, u64)> = blocks
            .iter()
            .step_by(2)
            .map(|(b, at)| (b.start, *at))
            .collect();
        let all = vec![true; cuts.len()];
        assert!(check(&z, &data, &cuts, &all, &Sequential), "level {level}");
        assert!(
            check(&z, &data, &cuts, &all, &crate::parallel::Backwards),
            "level {level}"
        );
        let (bit, at) = cuts[1];
        for wrong in [(bit + 1, at), (bit - 1, at), (bit, at + 1), (bit, at - 1)] {
            let mut bad = cuts.clone();
            bad[1] = wrong;
            assert!(
                !check(&z, &data, &bad, &all, &Sequential),
                "level {level}: {wrong:?}"
            );
        }
        for (k, &(bit, _)) in cuts.iter().enumerate() {
            let mut flipped = z.clone();
            flipped[(bit / 8) as usize + 100] ^= 0x10;
            assert!(
                !check(&flipped, &data, &cuts, &all, &Sequential),
                "level {level}: {bit}"
            );
            // A segment not selected is not inflated.
            let mut others = all.clone();
            others[k] = false;
            assert!(
                check(&flipped, &data, &cuts, &others, &Sequential),
                "level {level}: {bit}"
            );
        }
        let mut other = data.clone();
        other[data.len() - 10] ^= 1;
        assert!(
            !check(&z, &other, &cuts, &all, &Sequential),
            "level {level}"
        );
    }
}

/// The bits `from..to` of `z`, one a byte.
fn bits(z: &[u8], from: u64, to: u64) -> Vec<u8> {
    (from..to)
        .map(|i| (z[(i / 8) as usize] >> (i % 8)) & 1)
        .collect()
}

/// A release build inflates only the segments of a splice holding more than old blocks
/// copied bit for bit, and the last (`check`'s module doc): each segment left unmarked
/// must be exactly the old stream's bits from the old block that starts its output.
/// A 1.2 MB library edited at its start, middle and end has such segments, and the
/// marked ones are a small part of it.
#[test]
fn unmarked_segments_are_old_bits_copied() {
    let old = library(1_200_000);
    for tail in [0, 3000] {
        let new = edit(&old, tail);
        let z = deflate(&old, 6);
        let whole = Overwritten::whole(old.clone());
        let (out, cuts) = assemble(&whole, &z, None, &new, 6, &Sequential).unwrap();
        assert_eq!(inflate(&out), new);
        let old_blocks = blocks(&z, old.len() as u64).unwrap();
        let n = cuts.at.len();
        let mut unmarked = 0;
        for i in (0..n - 1).filter(|&i| !cuts.new[i]) {
            let ((bit, at), end) = (cuts.at[i], cuts.at[i + 1].0);
            let (b, _) = old_blocks
                .iter()
                .find(|(_, start)| *start == at)
                .expect("an unmarked segment starts at an old block");
            assert_eq!(
                bits(&out, bit, end),
                bits(&z, b.start, b.start + (end - bit)),
                "tail {tail}: segment {i}"
            );
            unmarked += 1;
        }
        assert!(unmarked >= 2, "tail {tail}: {unmarked} of {n} unmarked");
        let marked: u64 = (0..n)
            .filter(|&i| cuts.new[i])
            .map(|i| cuts.at.get(i + 1).map_or(new.len() as u64, |c| c.1) - cuts.at[i].1)
            .sum();
        // Marked segments end where copies start: they hold the three edits and the
        // blocks around them, not a fixed stretch of output each.
        assert!(
            marked * 10 < new.len() as u64,
            "tail {tail}: {marked} marked"
        );
        // The marked segments are those around the edits, and the last is always taken.
        let release = cuts.to_check(false);
        assert!(release[0] && release[n - 1], "{release:?}");
        assert_eq!(release.iter().filter(|&&c| !c).count(), unmarked);
        assert!(cuts.to_check(true).iter().all(|&c| c));
        assert!(check(&out, &new, &cuts.at, &release, &Sequential));
    }
}

/// Fresh stretches longer than a part are deflated in parts, in any order, to the same
/// bytes: around each edit, and a tail of 0, one part less or more, or several parts.
#[test]
fn fresh_parts_give_the_same_bytes_whatever_order_they_run_in() {
    let old = library(600_000);
    let z = deflate(&old, 6);
    for tail in [
        0,
        FRESH_PART - 1,
        FRESH_PART,
        FRESH_PART + 1,
        3 * FRESH_PART + 17,
    ] {
        let new = edit(&old, tail);
        let seq = splice(&old, &z, &new, 6).expect("an edit this small splices");
        let with = |walked: Option<&Walked>, par: &dyn Parallel| {
            splice_with(&Overwritten::whole(old.clone()), &z, walked, &new, 6, par)
        };
        let back = with(None, &crate::parallel::Backwards);
        assert_eq!(Some(&seq), back.as_ref(), "tail {tail}");
        // Walked ahead, the same bytes; a walk of another stream is not taken.
        let walked = walk(&z, old.len() as u64).unwrap();
        assert_eq!(
            Some(&seq),
            with(Some(&walked), &Sequential).as_ref(),
            "tail {tail}"
        );
        let other = walk(&deflate(&old, 1), old.len() as u64).unwrap();
        assert_eq!(
            Some(&seq),
            with(Some(&other), &Sequential).as_ref(),
            "tail {tail}"
        );
        assert!(inflate(&seq) == new, "tail {tail}");
    }
    let empty: Vec<Range<usize>> = parts(5, 5).collect();
    assert!(empty.len() == 1 && empty[0] == (5..5));
    assert_eq!(
        parts(0, FRESH_PART + 1).collect::<Vec<_>>(),
        [0..FRESH_PART, FRESH_PART..FRESH_PART + 1]
    );
}

#[test]
fn an_edit_inside_a_block_keeps_the_rest_of_its_symbols() {
    let old = library(600_000);
    let z = deflate(&old, 6);
    let walked = blocks(&z, old.len() as u64).unwrap();
    let mut new = old.clone();
    new[300_000..300_008].copy_from_slice(b"PATCHED!");
    new.extend_from_slice(&[7; 5000]);
    let changes = changed(&Overwritten::whole(old.clone()), &new);
    let pieces = plan(&z, &walked, &changes, new.len() as u64);
    let fresh: u64 = pieces
        .iter()
        .map(|p| match p {
            Piece::Fresh { from, to } => to - from,
            _ => 0,
        })
        .sum();
    // Whole blocks are far larger than what changed: only the changed bytes, the
    // symbols that copy from them and short runs between those are deflated anew,
    // where every block whose output or window a change touches was before.
    let dirty: u64 = walked
        .iter()
        .filter(|(b, at)| {
            changes
                .iter()
                .any(|&(s, e)| s < at + b.out && e > at.saturating_sub(b.reach))
        })
        .map(|(b, _)| b.out)
        .sum();
    assert!(dirty > 16_000, "dirty blocks of {dirty} bytes");
    assert!(
        fresh < 5008 + 4 * MIN_RUN && fresh < dirty / 2,
        "fresh {fresh} of {dirty}"
    );
    assert!(pieces.iter().any(|p| matches!(p, Piece::Run { .. })));
    assert!(inflate(&splice(&old, &z, &new, 6).unwrap()) == new);
}

#[test]
fn runs_of_fixed_and_dynamic_blocks_are_written_as_blocks_of_their_own() {
    // zlib-rs's level 1 writes fixed-code blocks, the others dynamic ones.
    let old = library(40_000);
    for level in [1, 6, 9] {
        let z = deflate(&old, level);
        let mut new = old.clone();
        new[20_000] ^= 0x20;
        let out = splice(&old, &z, &new, 6).unwrap();
        assert!(inflate(&out) == new, "level {level}");
        let walked = blocks(&z, old.len() as u64).unwrap();
        let changes = changed(&Overwritten::whole(old.clone()), &new);
        let kinds: Vec<Kind> = plan(&z, &walked, &changes, new.len() as u64)
            .iter()
            .filter_map(|p| match p {
                Piece::Run { kind, .. } => Some(*kind),
                _ => None,
            })
            .collect();
        let want = if level == 1 {
            Kind::Fixed
        } else {
            Kind::Dynamic
        };
        assert!(kinds.contains(&want), "level {level}: runs {kinds:?}");
    }
}

const SYSTEM_DIR: &str = "/usr/lib/x86_64-linux-gnu";
const SYSTEM_LIBS: &[&str] = &[
    "libc.so.6",
    "libz.so.1",
    "libsqlite3.so.0",
    "libssl.so.3",
    "libexpat.so.1",
    "libffi.so.8",
    "liblzma.so.5",
    "libzstd.so.1",
    "libgomp.so.1",
    "libbz2.so.1.0",
    "libyaml-0.so.2",
];

/// This machine's libraries, spliced after the edits a graft makes (a new SONAME, a
/// renamed DT_NEEDED, an RPATH, which patchelf's layout puts in a new segment at the
/// end). Those not present are skipped, but at least 5 must be found; the test is
/// skipped entirely where there is no x86_64 library directory.
#[test]
fn edited_libraries_splice_to_their_new_bytes() {
    if !std::path::Path::new(SYSTEM_DIR).is_dir() {
        eprintln!("skipped: no {SYSTEM_DIR}");
        return;
    }
    let mut checked = 0;
    for lib in SYSTEM_LIBS {
        let Ok(old) = std::fs::read(std::path::Path::new(SYSTEM_DIR).join(lib)) else {
            continue;
        };
        let info = crate::elf::parse(&old).unwrap_or_else(|e| panic!("{lib}: {e}"));
        let edits = ElfEdits {
            soname: Some(format!("{lib}-0123abcd")),
            replace_needed: info
                .needed
                .first()
                .map(|n| vec![(n.clone(), format!("{n}-89abcdef"))])
                .unwrap_or_default(),
            rpath: Some("$ORIGIN/../demo.libs".into()),
            ..ElfEdits::default()
        };
        let mut new = old.clone();
        let saved = CoreEditor
            .edit(&mut new, &edits)
            .unwrap_or_else(|e| panic!("{lib}: {e}"))
            .unwrap_or_else(|| panic!("{lib}: the edit changed nothing"));
        // What the edit costs a stream deflated whole: the new tail (a copy of the
        // string table, the moved program headers) deflated.
        let growth = deflate(&new, 6)
            .len()
            .saturating_sub(deflate(&old, 6).len());
        for level in [1, 6, 9] {
            let z = deflate(&old, level);
            let out = splice_with(&saved, &z, None, &new, 6, &Sequential)
                .unwrap_or_else(|| panic!("{lib} at level {level}: no splice"));
            assert!(inflate(&out) == new, "{lib} at level {level}");
            // The old blocks are kept: the old stream grows by what the edit adds.
            assert!(
                out.len() <= z.len() + growth + z.len() / 100 + 1024,
                "{lib} at level {level}: {} bytes from {} (the edit adds {growth})",
                out.len(),
                z.len()
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 5,
        "only {checked} libraries found in {SYSTEM_DIR}"
    );
}
