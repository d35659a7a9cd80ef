//! Finding earlier occurrences of the bytes at a position, as libdeflate's
//! `hc_matchfinder` does: hash chains over 4-byte prefixes (the latest position of each
//! hash, and for each position in the window the one before it with its hash), and the
//! latest position of each 3-byte hash, for short copies close by and to tell at once
//! that a position has no match. Candidates are compared four bytes at a time (the
//! first four, and the four ending one past the best length so far), then extended
//! eight at a time.
//!
//! Positions are `u32` counts from the start of the window (1 for its first byte, 0 for
//! none), so a table entry at or below a position's cutoff is out of the window or
//! empty, and a chain strictly descends. A candidate is taken only after its bytes are
//! compared, so a hash collision costs a comparison, never a wrong match.

use std::cell::Cell;

/// Deflate's window: the farthest a copy may reach back.
pub(super) const WINDOW: usize = 32 << 10;
/// The longest copy deflate can express.
pub(super) const MAX_MATCH: usize = 258;
/// A 3-byte match farther back than this costs more bits than three literals (zlib's
/// `TOO_FAR`).
const FAR3: usize = 4096;

/// Most bits of the 4-byte hash (a table of 256 KiB); the 3-byte one has two fewer.
const HASH4_BITS: u32 = 16;

/// Entries of the 4-byte hash table, and of the 3-byte one.
const HEAD4: usize = 1 << HASH4_BITS;
const HEAD3: usize = HEAD4 >> 2;

/// The chains of the positions added so far. The tables have a fixed size, so that an
/// index masked to it needs no bounds check (the checks were a quarter of the
/// instructions of inserting a position); the part of the hash tables that is used is
/// sized to the data (zeroing all 320 KiB for each small file of a wheel being built
/// cost more than deflating it). Their memory is kept for the thread's next encode
/// ([`SPARE`]).
pub(super) struct Chains {
    head4: Box<[u32; HEAD4]>,
    head3: Box<[u32; HEAD3]>,
    /// The chain links, one per position of the window. Never zeroed: a link is read
    /// only for a position in the window, which wrote it when it was added (the next
    /// position with its slot is a window further on).
    prev: Box<[u32; WINDOW]>,
    /// How far the hashes are shifted down: 32 less their bits.
    shift4: u32,
    shift3: u32,
    /// Where positions are counted from.
    base: usize,
}

/// The four bytes at `p`, little-endian.
#[inline]
fn load32(d: &[u8], p: usize) -> u32 {
    u32::from_le_bytes(d[p..p + 4].try_into().expect("four bytes"))
}

/// The eight bytes at `p`, little-endian.
#[inline]
fn load64(d: &[u8], p: usize) -> u64 {
    u64::from_le_bytes(d[p..p + 8].try_into().expect("eight bytes"))
}

/// The hash of four bytes (libdeflate's multiplier), `32 - shift` bits.
#[inline]
fn hash4(x: u32, shift: u32) -> usize {
    // (The mask changes nothing, `shift` is 16 or more: it tells the compiler.)
    (x.wrapping_mul(0x1E35_A7BD) >> shift) as usize & (HEAD4 - 1)
}

/// The hash of the first three of four bytes, `32 - shift` bits.
#[inline]
fn hash3(x: u32, shift: u32) -> usize {
    ((x << 8).wrapping_mul(0x1E35_A7BD) >> shift) as usize & (HEAD3 - 1)
}

/// How long the bytes at `a` and `b` agree, knowing the first `n` do, up to `max`.
#[inline]
fn extend(d: &[u8], a: usize, b: usize, mut n: usize, max: usize) -> usize {
    while n + 8 <= max {
        let x = load64(d, a + n) ^ load64(d, b + n);
        if x != 0 {
            return n + (x.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while n < max && d[a + n] == d[b + n] {
        n += 1;
    }
    n
}

thread_local! {
    /// The tables of the thread's last encode, for its next: fresh ones for each 256 KiB
    /// chunk were 448 KiB of new pages to fault in each time, a fifth of a small repair's
    /// page faults (with musl's allocator, which unmaps them at once, a third).
    static SPARE: Cell<Option<Tables>> = const { Cell::new(None) };
}

/// The three tables of [`Chains`].
type Tables = (Box<[u32; HEAD4]>, Box<[u32; HEAD3]>, Box<[u32; WINDOW]>);

/// A table of `N` zeros, made on the heap (an array returned by value would be made on
/// the stack first: 256 KiB).
#[allow(clippy::unnecessary_box_returns)]
fn table<const N: usize>() -> Box<[u32; N]> {
    vec![0; N]
        .into_boxed_slice()
        .try_into()
        .expect("a slice of N entries")
}

impl Chains {
    /// Empty chains for the positions `base..end`.
    pub(super) fn new(base: usize, end: usize) -> Self {
        let len = end.saturating_sub(base).max(1);
        // About two table slots per position, 256 at least.
        let bits4 = (usize::BITS - len.leading_zeros() + 1).clamp(8, HASH4_BITS);
        let bits3 = bits4 - 2;
        let spare = SPARE.try_with(Cell::take).ok().flatten();
        let (mut head4, mut head3, prev) = spare.unwrap_or_else(|| (table(), table(), table()));
        head4[..1 << bits4].fill(0);
        head3[..1 << bits3].fill(0);
        Self {
            head4,
            head3,
            prev,
            shift4: 32 - bits4,
            shift3: 32 - bits3,
            base,
        }
    }

    /// Keeps the tables for the thread's next encode.
    pub(super) fn recycle(self) {
        let Self {
            head4, head3, prev, ..
        } = self;
        // (Not while the thread's locals are being torn down; nothing encodes then.)
        let _ = SPARE.try_with(|spare| spare.set(Some((head4, head3, prev))));
    }

    /// The link slot of position `rel`.
    #[inline]
    fn slot(rel: u32) -> usize {
        rel as usize & (WINDOW - 1)
    }

    /// Adds position `p`, whose next four bytes must be in `d`.
    #[inline]
    pub(super) fn insert(&mut self, d: &[u8], p: usize) {
        let x = load32(d, p);
        let rel = (p - self.base + 1) as u32;
        let (h4, h3) = (hash4(x, self.shift4), hash3(x, self.shift3));
        self.prev[Self::slot(rel)] = self.head4[h4];
        self.head4[h4] = rel;
        self.head3[h3] = rel;
    }

    /// Adds positions `from..to`, each of whose next four bytes must be in `d`.
    #[inline]
    pub(super) fn skip(&mut self, d: &[u8], from: usize, to: usize) {
        if from >= to {
            return;
        }
        let (head4, head3, prev) = (&mut self.head4, &mut self.head3, &mut self.prev);
        let (base, shift4, shift3) = (self.base, self.shift4, self.shift3);
        for (i, w) in d[from..to + 3].windows(4).enumerate() {
            // (One load: indexing the four bytes one by one made four, and five
            // instructions more a position.)
            let x = u32::from_le_bytes(w.try_into().expect("four bytes"));
            let rel = (from + i - base + 1) as u32;
            let h = hash4(x, shift4);
            prev[Self::slot(rel)] = head4[h];
            head4[h] = rel;
            head3[hash3(x, shift3)] = rel;
        }
    }

    /// Adds position `cur` and finds the longest earlier match for it longer than
    /// `best`, at most `max` bytes, looking at up to `depth` candidates and stopping at
    /// one of `nice` bytes. Gives (length, distance), or (`best`, 0) when none is longer.
    // Always inlined into its two callers: a call cost 9% of its instructions (saved
    // registers and arguments), 3% of an encode's time.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(super) fn find(
        &mut self,
        d: &[u8],
        cur: usize,
        max: usize,
        mut best: usize,
        depth: u32,
        nice: usize,
    ) -> (usize, usize) {
        debug_assert!(best < max && max >= 4 && cur + max <= d.len());
        let x = load32(d, cur);
        let rel = (cur - self.base + 1) as u32;
        let (h4, h3) = (hash4(x, self.shift4), hash3(x, self.shift3));
        let mut cand = self.head4[h4];
        let near = self.head3[h3];
        self.prev[Self::slot(rel)] = cand;
        self.head4[h4] = rel;
        self.head3[h3] = rel;
        // Positions at or below this are out of the window (0: none).
        let cutoff = rel.saturating_sub(WINDOW as u32);
        // The latest position with these three bytes' hash: when it is out of the
        // window, no earlier position has the same four (or three) bytes within it.
        if near <= cutoff {
            return (best, 0);
        }
        let mut found = 0;
        if best < 3 {
            let dist = (rel - near) as usize;
            if dist <= FAR3 && load32(d, cur - dist) << 8 == x << 8 {
                best = 3;
                found = dist;
            }
        }
        if cand <= cutoff {
            return (best, found);
        }
        let mut left = depth;
        // A candidate's position, `cur - (rel - cand)`, in one addition.
        let off = cur.wrapping_sub(rel as usize);
        let at = |cand: u32| off.wrapping_add(cand as usize);
        // The next candidate of the chain, or none when it is out of the window or
        // `depth` candidates have been looked at.
        let prev = &self.prev;
        let mut next = |cand: u32| {
            left -= 1;
            let c = prev[Self::slot(cand)];
            (c > cutoff && left > 0).then_some(c)
        };
        // Until a copy of four bytes is found, candidates are compared on those only;
        // then a longer one must also agree on the four bytes ending one past `best`.
        let mut longer = best >= 4;
        loop {
            if longer {
                let tail = load32(d, cur + best - 3);
                while load32(d, at(cand) + best - 3) != tail || load32(d, at(cand)) != x {
                    let Some(c) = next(cand) else {
                        return (best, found);
                    };
                    cand = c;
                }
            } else {
                while load32(d, at(cand)) != x {
                    let Some(c) = next(cand) else {
                        return (best, found);
                    };
                    cand = c;
                }
                longer = true;
            }
            let c = at(cand);
            let len = extend(d, c, cur, 4, max);
            if len > best {
                best = len;
                found = cur - c;
                if best >= nice || best >= max {
                    return (best, found);
                }
            }
            let Some(c) = next(cand) else {
                return (best, found);
            };
            cand = c;
        }
    }
}
