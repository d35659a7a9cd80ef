//! Finding where a block may start, at any bit of a deflate stream: the cheap test of a
//! header that a search for a boundary (`wheel::seek`) runs at each bit, before it
//! walks the candidates left.

use super::Walker;

/// Whether a dynamic or stored block's header is plausible at bit `bit` of `data`: the
/// cheap first test of a candidate boundary (a stored header by `LEN`/`NLEN`, a dynamic
/// one by its three codes, which must be as zlib accepts them). Fixed headers are no
/// signature (any three bits can read as one) and are not reported.
pub fn plausible_header(data: &[u8], bit: u64) -> bool {
    let Ok(byte) = usize::try_from(bit / 8) else {
        return false;
    };
    let mut word = [0u8; 16];
    let have = data.len().saturating_sub(byte).min(16);
    word[..have].copy_from_slice(&data[byte..byte + have]);
    plausible_at(data, bit, u128::from_le_bytes(word) >> (bit % 8))
}

/// The bits of `bits` at which [`plausible_header`] holds, in order. A search tests
/// about a million positions, and testing each on its own was a branch on random bits
/// (10 ns a position): 64 positions at a time are first sifted with word operations
/// on the bits every header starts with, and only those left are tested.
pub fn plausible_headers(
    data: &[u8],
    bits: std::ops::Range<u64>,
) -> impl Iterator<Item = u64> + '_ {
    // The positions `base..base + 64` still to test, as a mask.
    let mut base = bits.start & !63;
    let mut left = 0u64;
    let mut sifted = false;
    std::iter::from_fn(move || loop {
        while left != 0 {
            let at = base + u64::from(left.trailing_zeros());
            left &= left - 1;
            if plausible_one(data, at) {
                return Some(at);
            }
        }
        if sifted {
            base += 64;
        }
        sifted = true;
        if base >= bits.end {
            return None;
        }
        // Only the positions within `bits`.
        let from = bits.start.saturating_sub(base).min(64);
        let to = (bits.end - base).min(64);
        let below_to = u64::MAX.checked_shr(64 - to as u32).unwrap_or(0);
        let from_on = u64::MAX.checked_shl(from as u32).unwrap_or(0);
        left = sift(data, base) & below_to & from_on;
    })
}

/// Whether [`plausible_header`] holds at `bit`, loading the bits once where 16 bytes
/// are at hand.
#[inline]
fn plausible_one(data: &[u8], bit: u64) -> bool {
    let byte = usize::try_from(bit / 8).unwrap_or(usize::MAX);
    match data.get(byte..byte.saturating_add(16)) {
        Some(w) => {
            let w = u128::from_le_bytes(w.try_into().unwrap_or([0; 16]));
            plausible_at(data, bit, w >> (bit % 8))
        }
        None => plausible_header(data, bit),
    }
}

/// Of the 64 positions from `base` (a multiple of 64), those that may start a block by
/// their first 13 bits, as a mask: a stored block whose `LEN` and `NLEN` match, or a
/// dynamic one whose HLIT and HDIST are in range. All of them where the data ends
/// within 16 bytes (the one-by-one test sees zeros past the end there).
fn sift(data: &[u8], base: u64) -> u64 {
    let byte = usize::try_from(base / 8).unwrap_or(usize::MAX);
    let Some(w) = data.get(byte..byte.saturating_add(16)) else {
        return u64::MAX;
    };
    let x = u128::from_le_bytes(w.try_into().unwrap_or([0; 16]));
    // Bit i of `at(s)` is bit `base + i + s` of the data.
    let at = |s: u32| (x >> s) as u64;
    // BTYPE (the two bits after BFINAL) 2, then HLIT ≤ 29 and HDIST ≤ 29: not 30 or 31,
    // whose four high bits are all ones.
    let dynamic =
        !at(1) & at(2) & !(at(4) & at(5) & at(6) & at(7)) & !(at(9) & at(10) & at(11) & at(12));
    // BTYPE 0: `LEN` and `NLEN` are at the next byte boundary after the three bits,
    // the byte after the position's for bits 0 to 5 of a byte, two after for 6 and 7.
    let mut lens = 0u64;
    for k in 0..8 {
        let fits = |j: u32| {
            let v = (x >> (8 * j)) as u32;
            u64::from(v & 0xffff == !(v >> 16) & 0xffff)
        };
        lens |= ((fits(k + 1) * 0x3f) | (fits(k + 2) * 0xc0)) << (8 * k);
    }
    let stored = !at(1) & !at(2) & lens;
    dynamic | stored
}

/// The Kraft shares of each pair of 3-bit code lengths (a code-length code's lengths
/// are at most 7 bits), in units of 2^-7: two lengths at a time.
const PAIR: [u8; 64] = {
    const SHARE: [u8; 8] = [0, 64, 32, 16, 8, 4, 2, 1];
    let mut t = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = SHARE[i & 7] + SHARE[i >> 3];
        i += 1;
    }
    t
};

/// [`plausible_header`] given `v`, the 128 bits of `data` from `bit` on (zeros past its
/// end). Most positions fail on their first 74 bits (BFINAL, BTYPE, and a stored
/// block's LEN and NLEN, or a dynamic one's HLIT, HDIST and code-length code, which
/// must be complete), tested on `v` before anything is built.
#[inline]
fn plausible_at(data: &[u8], bit: u64, v: u128) -> bool {
    match (v >> 1) & 3 {
        0 => {
            let at = usize::try_from((bit + 3).div_ceil(8)).unwrap_or(usize::MAX);
            return match data.get(at..at.saturating_add(4)) {
                Some(&[l0, l1, n0, n1]) => {
                    u16::from_le_bytes([l0, l1]) == !u16::from_le_bytes([n0, n1])
                }
                _ => false,
            };
        }
        2 if (v >> 3) & 31 <= 29 && (v >> 8) & 31 <= 29 => {}
        _ => return false,
    }
    // The code-length code is complete (and not over-subscribed) exactly when the
    // Kraft sum of its nonzero lengths (at most 7 bits) is 1, here in units of 2^-7.
    let ncode = ((v >> 13) & 15) as u32 + 4;
    // Only the `ncode` fields count: the ones after them are masked off.
    let fields = (v >> 17) & ((1u128 << (3 * ncode)) - 1);
    // All ten pairs, the masked ones adding nothing: a fixed count, not a branch.
    let kraft: u32 = (0..10)
        .map(|i| u32::from(PAIR[((fields >> (6 * i)) & 63) as usize]))
        .sum();
    if kraft != 128 {
        return false;
    }
    let Ok(byte) = usize::try_from(bit / 8) else {
        return false;
    };
    // Enough for any dynamic header (at most 17 + 19*3 + 316*7 bits).
    let rest = &data[byte..data.len().min(byte + 320)];
    let mut w = Walker::with_buffer(rest, None, 512);
    if w.skip_bits((bit % 8) as u32).is_err() {
        return false;
    }
    let Ok(head) = w.bits.take(3) else {
        return false;
    };
    if head >> 1 == 2 {
        return w.dynamic_lengths().is_ok();
    }
    let pad = w.bits.n % 8;
    w.bits.consume(pad).is_ok()
        && matches!((w.bits.take(16), w.bits.take(16)), (Ok(l), Ok(n)) if l == !n & 0xffff)
}
