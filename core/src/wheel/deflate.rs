//! Deflating new members in fixed chunks that can be compressed at once, as pigz does:
//! each chunk is a raw deflate run primed with the 32 KiB before it and ended by a sync
//! flush (an empty stored block, so the next starts on a byte boundary), and the last one
//! ends the stream. The chunks concatenate into one ordinary deflate stream that any
//! inflater reads. Chunk boundaries depend only on the data's length, so the bytes are
//! the same whether the chunks run one after another ([`Sequential`]) or on many cores
//! (a [`Parallel`] the host provides): output never depends on the thread count.
//!
//! The chunks are deflated by our own encoder (`deflate::encode`), which compresses shared
//! libraries smaller and faster than zlib-rs does.

mod block;
mod chains;
mod codes;
mod encode;

use super::record::RecordHash;

/// Bytes per chunk: small enough that the libraries a repair grafts (mostly 0.2-3 MB)
/// split evenly over a few cores (with 1 MiB chunks a 1.4 MB library ran as 1 MiB +
/// 0.4 MiB, one core idle for half the time: repairing pysqlite3 went from 43 to 40 ms on
/// two cores with 256 KiB), large enough that the dictionary and flush cost little. On 62
/// system libraries of 0.2-4 MB the chunked streams were 0.05% smaller than unchunked
/// ones in total (a sync flush also ends a block where the data changes), the worst one
/// 0.5% (1 KB) larger; with 1 MiB chunks 0.03% smaller, the worst 0.04% larger.
///
/// The fuzzer's inputs are at most 70 KB: there, chunks are short, so that its inputs
/// are deflated in several, each primed with the window before it.
pub const CHUNK: usize = if cfg!(fuzzing) { 4 << 10 } else { 256 << 10 };

pub use crate::parallel::{Parallel, Sequential};

/// One job of [`prepare_contents`], for a [`Parallel`].
type Job<'a> = Box<dyn FnOnce() -> Part + Send + 'a>;

/// What a job gives back.
enum Part {
    /// Deflated bytes: a chunk, or a whole spliced member.
    Deflated(Vec<u8>),
    /// A content's CRC-32 and RECORD hash.
    Sums(u32, RecordHash),
}

/// Rough cost of a job per byte, to start the longest first (measured here: deflating
/// at level 6 takes about 17 ns a byte; a splice 7 ns a byte of the member, as it walks
/// all of it, inflates a quarter and deflates a little, or 3 ns when it was walked
/// ahead; the sums 2 ns).
const DEFLATE_COST: u64 = 17;
const SPLICE_COST: u64 = 7;
const WALKED_SPLICE_COST: u64 = 3;
const SUMS_COST: u64 = 2;

/// A member's content made ready to write: checksums, and deflated bytes when deflate
/// made it smaller (otherwise it is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// CRC-32 of the content.
    pub crc32: u32,
    /// RECORD hash of the content.
    pub hash: RecordHash,
    /// The deflated bytes, or `None` to store the content as is.
    pub deflated: Option<Pieces>,
}

/// Deflated bytes in pieces, one after another: a content's chunks, deflated apart.
/// Joining them was a copy of everything deflated, on one core at the end of a repair.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pieces(Vec<Vec<u8>>);

impl Pieces {
    /// Bytes in all.
    pub fn len(&self) -> usize {
        self.0.iter().map(Vec::len).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pieces, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.0.iter().map(Vec::as_slice)
    }

    /// The bytes, joined.
    pub fn to_vec(&self) -> Vec<u8> {
        self.0.concat()
    }
}

/// The chunk ranges of `len` bytes (one empty range for empty data).
fn chunks(len: usize) -> Vec<std::ops::Range<usize>> {
    if len == 0 {
        return std::iter::once(0..0).collect();
    }
    (0..len)
        .step_by(CHUNK)
        .map(|s| s..(s + CHUNK).min(len))
        .collect()
}

/// Deflates `data[range]`, primed with the window before it; the last chunk finishes the
/// stream, the others end with a sync flush. The bytes depend only on the data, the
/// range and the level, never on what ran before on the thread.
pub(super) fn deflate_chunk(data: &[u8], range: std::ops::Range<usize>, level: u32) -> Vec<u8> {
    let last = range.end == data.len();
    encode::encode(data, range, level.min(9), last)
}

/// [`deflate_chunk`] of each of `ranges` of `data`, through `par`, in order.
pub(super) fn deflate_ranges(
    data: &[u8],
    ranges: impl IntoIterator<Item = std::ops::Range<usize>>,
    level: u32,
    par: &dyn Parallel,
) -> Vec<Vec<u8>> {
    let jobs: Vec<Box<dyn FnOnce() -> Vec<u8> + Send + '_>> = ranges
        .into_iter()
        .map(|r| Box::new(move || deflate_chunk(data, r, level)) as Box<_>)
        .collect();
    crate::parallel::map(par, jobs)
}

/// Prepares several contents at once: every chunk of every content is one job for `par`.
pub fn prepare_all(contents: &[&[u8]], level: u32, par: &dyn Parallel) -> Vec<Prepared> {
    let contents: Vec<Content<'_>> = contents
        .iter()
        .map(|&data| Content { data, base: None })
        .collect();
    prepare_contents(&contents, level, par)
}

/// A content to prepare, and what it was edited from, if anything.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    /// The new bytes.
    pub data: &'a [u8],
    /// The old bytes and their raw deflate stream, to reuse (see [`super::splice`]).
    pub base: Option<Base<'a>>,
}

/// An old member an edited content came from.
#[derive(Debug, Clone, Copy)]
pub struct Base<'a> {
    /// What the edit overwrote in it.
    pub old: &'a super::splice::Overwritten,
    /// Its raw deflate stream, as stored in the archive.
    pub deflated: &'a [u8],
    /// That stream's blocks, when they were walked ahead.
    pub walked: Option<&'a super::splice::Walked>,
}

/// [`prepare_all`] for contents that may be edits: an edit that keeps its length or
/// grows is spliced from its old stream (one job), falling back to deflating it whole.
/// Level 0 splices nothing: it stores every content, as `auditwheel repair -z 0` does.
pub fn prepare_contents(contents: &[Content<'_>], level: u32, par: &dyn Parallel) -> Vec<Prepared> {
    // Every job, tagged with its content, its place in the content's stream and its
    // rough cost; the sums (CRC-32 and RECORD hash) of each content are jobs too, so
    // that none runs alone after the rest.
    let mut tagged: Vec<((usize, usize), u64, Job<'_>)> = Vec::new();
    let mut counts = vec![0; contents.len()];
    for (i, c) in contents.iter().enumerate() {
        let data = c.data;
        let len = data.len() as u64;
        tagged.push((
            (i, 0),
            SUMS_COST * len,
            Box::new(move || Part::Sums(crc32fast::hash(data), RecordHash::sha256(data))),
        ));
        if let Some(base) = c
            .base
            .filter(|b| level > 0 && data.len() as u64 >= b.old.old_len)
        {
            counts[i] = 1;
            let cost = if base.walked.is_some() {
                WALKED_SPLICE_COST
            } else {
                SPLICE_COST
            };
            tagged.push((
                (i, 0),
                cost * len,
                Box::new(move || {
                    Part::Deflated(
                        super::splice::splice_with(
                            base.old,
                            base.deflated,
                            base.walked,
                            data,
                            level,
                            par,
                        )
                        .unwrap_or_else(|| {
                            deflate_ranges(data, chunks(data.len()), level, par).concat()
                        }),
                    )
                }),
            ));
            continue;
        }
        for (k, r) in chunks(data.len()).into_iter().enumerate() {
            let cost = DEFLATE_COST * r.len() as u64;
            counts[i] += 1;
            tagged.push((
                (i, k),
                cost,
                Box::new(move || Part::Deflated(deflate_chunk(data, r, level))),
            ));
        }
    }
    // Longest first: a long job that cannot be split (a splice) started last would end
    // the run on one core while the others sit idle.
    tagged.sort_by_key(|(_, cost, _)| std::cmp::Reverse(*cost));
    let owners: Vec<(usize, usize)> = tagged.iter().map(|(at, _, _)| *at).collect();
    let jobs: Vec<Job<'_>> = tagged.into_iter().map(|(_, _, job)| job).collect();
    let mut pieces: Vec<Vec<Vec<u8>>> = counts.iter().map(|&n| vec![Vec::new(); n]).collect();
    let mut sums: Vec<Option<(u32, RecordHash)>> = vec![None; contents.len()];
    for ((i, k), part) in owners.into_iter().zip(crate::parallel::map(par, jobs)) {
        match part {
            Part::Sums(crc, hash) => sums[i] = Some((crc, hash)),
            Part::Deflated(bytes) => pieces[i][k] = bytes,
        }
    }
    contents
        .iter()
        .zip(pieces.into_iter().zip(sums))
        .map(|(c, (pieces, sums))| {
            let (crc32, hash) = sums.expect("every content has its sums job");
            let deflated = Pieces(pieces);
            Prepared {
                crc32,
                hash,
                deflated: (deflated.len() < c.data.len()).then_some(deflated),
            }
        })
        .collect()
}

/// Prepares one content on the calling thread.
pub fn prepare(data: &[u8], level: u32) -> Prepared {
    prepare_all(&[data], level, &Sequential)
        .pop()
        .expect("one content, one result")
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn inflate(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    /// Content that compresses, with references across chunk boundaries.
    fn sample(len: usize) -> Vec<u8> {
        let mut x = 0x1234_5678u32;
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if i % 7 == 0 {
                    (x & 0xff) as u8
                } else {
                    b"repeated text, "[i % 15]
                }
            })
            .collect()
    }

    use crate::parallel::Backwards;

    #[test]
    fn chunked_streams_inflate_to_the_content() {
        for len in [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12_345] {
            let data = sample(len);
            let p = prepare(&data, 6);
            match &p.deflated {
                Some(d) => assert_eq!(inflate(&d.to_vec()), data, "len {len}"),
                None => assert!(len < 16, "len {len} should compress"),
            }
            assert_eq!(p.crc32, crc32fast::hash(&data));
        }
    }

    #[test]
    fn bytes_do_not_depend_on_how_jobs_run() {
        let a = sample(2 * CHUNK + 77);
        let b = sample(CHUNK / 3);
        let seq = prepare_all(&[&a, &b], 6, &Sequential);
        let back = prepare_all(&[&a, &b], 6, &Backwards);
        assert_eq!(seq, back);
        assert_eq!(inflate(&seq[0].deflated.as_ref().unwrap().to_vec()), a);
        assert_eq!(inflate(&seq[1].deflated.as_ref().unwrap().to_vec()), b);
    }

    /// Like a library: text-like code, incompressible stretches, and low-entropy data.
    fn library_like(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491u32;
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                match (i / 150_000) % 4 {
                    3 => x as u8,
                    2 => (x >> 24) as u8 & 0x0f,
                    _ => b"mov rax, [rbp+8]; call GLIBC_2.17 symbol "[(x % 40) as usize],
                }
            })
            .collect()
    }

    /// A chunk's bytes do not depend on what its thread deflated before. A thread once
    /// kept its compressor between chunks, reset: zlib-rs's reset leaves the window's old
    /// bytes past the data, which a match search reads, so lightgbm's repaired extension
    /// came out in one of two streams (both valid) by which thread had run which chunk.
    #[test]
    fn chunks_do_not_depend_on_what_the_thread_deflated_before() {
        let data = library_like(800_000);
        let parts: Vec<_> = (0..data.len())
            .step_by(64 << 10)
            .map(|s| s..(s + (64 << 10)).min(data.len()))
            .collect();
        for level in [1, 6, 9] {
            let fresh: Vec<Vec<u8>> = parts
                .iter()
                .map(|r| deflate_chunk(&data, r.clone(), level))
                .collect();
            let forward = deflate_ranges(&data, parts.clone(), level, &Sequential);
            let backward = deflate_ranges(&data, parts.clone(), level, &Backwards);
            assert_eq!(forward, fresh, "level {level}");
            assert_eq!(backward, fresh, "level {level}");
        }
    }

    /// An edit is spliced from its old stream, except at level 0, which stores it as it
    /// stores everything else (a splice would keep the old blocks' compression).
    #[test]
    fn level_0_stores_an_edit_instead_of_splicing_it() {
        let old = library_like(300_000);
        let mut new = old.clone();
        new[1000..1008].copy_from_slice(b"PATCHED!");
        let old_z = encode::encode(&old, 0..old.len(), 6, true);
        let overwritten = super::super::splice::Overwritten::whole(old.clone());
        let edit = Content {
            data: &new,
            base: Some(Base {
                old: &overwritten,
                deflated: &old_z,
                walked: None,
            }),
        };
        let spliced = &prepare_contents(&[edit], 6, &Sequential)[0];
        assert_eq!(inflate(&spliced.deflated.as_ref().unwrap().to_vec()), new);
        let stored = &prepare_contents(&[edit], 0, &Sequential)[0];
        assert_eq!(stored.deflated, None);
        assert_eq!(stored.crc32, crc32fast::hash(&new));
    }

    #[test]
    fn chunking_costs_almost_nothing() {
        let data = sample(4 * CHUNK);
        let chunked = prepare(&data, 6).deflated.unwrap().len();
        let whole = encode::encode(&data, 0..data.len(), 6, true).len();
        assert!(chunked <= whole + whole / 100, "{chunked} vs {whole}");
    }

    /// This machine's shared libraries (the six largest of 0.1-1.5 MB, so that the
    /// test takes seconds in a debug build), deflated in chunks: at level 6 each
    /// inflates back and they are smaller in all than zlib-rs makes them; at levels 1
    /// and 9 the two smallest inflate back. Skipped where there is no x86_64 library
    /// directory.
    #[test]
    fn system_libraries_round_trip_smaller_than_zlib_rs() {
        let dir = std::path::Path::new("/usr/lib/x86_64-linux-gnu");
        let Ok(entries) = std::fs::read_dir(dir) else {
            eprintln!("skipped: no {}", dir.display());
            return;
        };
        let mut libs: Vec<(u64, std::path::PathBuf)> = entries
            .filter_map(|e| {
                let e = e.ok()?;
                let meta = e.metadata().ok()?;
                let name = e.file_name().into_string().ok()?;
                (meta.is_file()
                    && name.contains(".so")
                    && (100_000..1_500_000).contains(&meta.len()))
                .then(|| (meta.len(), e.path()))
            })
            .collect();
        libs.sort();
        libs.reverse();
        libs.truncate(6);
        assert!(
            libs.len() >= 5,
            "only {} libraries in {}",
            libs.len(),
            dir.display()
        );
        let (mut ours, mut theirs) = (0, 0);
        for (i, (_, path)) in libs.iter().enumerate() {
            let data = std::fs::read(path).unwrap();
            let levels: &[u32] = if i + 2 >= libs.len() {
                &[1, 6, 9]
            } else {
                &[6]
            };
            for &level in levels {
                let z = prepare(&data, level)
                    .deflated
                    .expect("a library deflates")
                    .to_vec();
                assert!(inflate(&z) == data, "{} at level {level}", path.display());
                if level == 6 {
                    ours += z.len();
                }
            }
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
            std::io::Write::write_all(&mut e, &data).unwrap();
            theirs += e.finish().unwrap().len();
        }
        assert!(ours < theirs, "level 6: {ours} bytes, zlib-rs {theirs}");
    }
}
