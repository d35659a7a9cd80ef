//! Writing a deflate stream bit by bit (RFC 1951 packs bits LSB-first): for our encoder
//! (stored blocks, and a [`Burst`] for a block's symbols), and for splicing streams at
//! block boundaries: whole blocks copied at any bit position, and empty blocks that
//! shift what follows to a wanted bit position (mod 8), so that a copied stored block
//! keeps its byte alignment. zlib has no API for either.

use super::blocks::ORDER;

/// A deflate bit stream being written.
#[derive(Debug, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    /// Bits in `acc` not yet in `bytes` (< 8 between calls).
    n: u32,
}

impl BitWriter {
    /// A writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
            ..Self::default()
        }
    }

    /// Writes the low `bits` bits of `value` (at most 32).
    pub fn put(&mut self, value: u32, bits: u32) {
        debug_assert!(bits <= 32 && (bits == 32 || value >> bits == 0));
        self.acc |= u64::from(value) << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, which deflate writes most significant bit first.
    fn code(&mut self, code: u32, bits: u32) {
        self.put(code.reverse_bits() >> (32 - bits), bits);
    }

    /// An empty fixed-Huffman block: 10 bits.
    fn empty_fixed(&mut self) {
        self.put(0b010, 3);
        self.code(0, 7);
    }

    /// An empty final fixed-Huffman block: the end of a stream with nothing left.
    pub fn empty_final(&mut self) {
        self.put(0b011, 3);
        self.code(0, 7);
    }

    /// Pads with zero bits to a byte boundary.
    pub fn align(&mut self) {
        self.put(0, (8 - self.n) % 8);
    }

    /// `raw` as stored blocks (one empty block for no bytes); the last is final if `last`.
    pub fn stored(&mut self, raw: &[u8], last: bool) {
        const MAX: usize = 65535;
        let blocks = raw.len().div_ceil(MAX).max(1);
        for i in 0..blocks {
            let piece = &raw[i * MAX..((i + 1) * MAX).min(raw.len())];
            self.put(u32::from(last && i + 1 == blocks), 3);
            self.align();
            let n = piece.len() as u16;
            self.bytes.extend_from_slice(&n.to_le_bytes());
            self.bytes.extend_from_slice(&(!n).to_le_bytes());
            self.bytes.extend_from_slice(piece);
        }
    }

    /// A writer for up to `room` more bytes of symbols, without a branch per symbol
    /// (see [`Burst`]).
    pub fn burst(&mut self, room: usize) -> Burst<'_> {
        let mut buf = std::mem::take(&mut self.bytes);
        let pos = buf.len();
        // The symbols' bytes, and the accumulator's eight past the last.
        buf.resize(pos + room + 16, 0);
        Burst {
            acc: self.acc,
            n: self.n,
            writer: self,
            buf,
            pos,
        }
    }

    /// An empty dynamic-Huffman block: 93 bits.
    fn empty_dynamic(&mut self) {
        self.put(0b100, 3);
        // 257 literal/length codes, 1 distance code, 18 code-length codes.
        self.put(0, 5);
        self.put(0, 5);
        self.put(14, 4);
        // Code-length code: 1 has one bit ('0'), 0 and 18 two ('10', '11').
        for sym in &ORDER[..18] {
            let len = match sym {
                1 => 1,
                0 | 18 => 2,
                _ => 0,
            };
            self.put(len, 3);
        }
        // Literals 0..=255 unused (138 + 118 zeros), end-of-block one bit, no distances.
        self.code(0b11, 2);
        self.put(138 - 11, 7);
        self.code(0b11, 2);
        self.put(118 - 11, 7);
        self.code(0b0, 1);
        self.code(0b10, 2);
        // The block: its end.
        self.code(0, 1);
    }

    /// Writes empty (non-final) blocks until the bit count is `r` (mod 8).
    pub fn pad_to(&mut self, r: u32) {
        let need = (r + 8 - self.n) % 8;
        // Fixed blocks add 2 (mod 8) each, the dynamic one 5.
        let (dynamic, fixed) = [
            (false, 0),
            (true, 2),
            (false, 1),
            (true, 3),
            (false, 2),
            (true, 0),
            (false, 3),
            (true, 1),
        ][need as usize];
        if dynamic {
            self.empty_dynamic();
        }
        for _ in 0..fixed {
            self.empty_fixed();
        }
        debug_assert_eq!(self.n, r % 8);
    }

    /// Copies bits `from..to` of `src`; the writer must be at `from` (mod 8), so bytes
    /// are copied whole (a stored block among them stays aligned).
    pub fn copy(&mut self, src: &[u8], from: u64, to: u64) {
        debug_assert_eq!(u64::from(self.n), from % 8);
        if from >= to {
            return;
        }
        let (first, last) = ((from / 8) as usize, (to / 8) as usize);
        let r = (from % 8) as u32;
        if first == last {
            let bits = (to - from) as u32;
            self.put((u32::from(src[first]) >> r) & ((1 << bits) - 1), bits);
            return;
        }
        // The rest of the first byte, whole bytes, then the last byte's first bits.
        self.put(u32::from(src[first]) >> r, 8 - r);
        debug_assert_eq!(self.n, 0);
        self.bytes.extend_from_slice(&src[first + 1..last]);
        let tail = (to % 8) as u32;
        if tail > 0 {
            self.put(u32::from(src[last]) & ((1 << tail) - 1), tail);
        }
    }

    /// Copies bits `from..to` of `src` at whatever bit the writer is at: for
    /// Huffman-coded bits, which need no alignment. Slower than [`Self::copy`] when
    /// the two are not aligned alike (each byte is shifted), and as fast when they are.
    pub fn copy_bits(&mut self, src: &[u8], from: u64, to: u64) {
        if u64::from(self.n) == from % 8 {
            self.copy(src, from, to);
            return;
        }
        let mut at = from;
        while at < to {
            let k = (to - at).min(32) as u32;
            let byte = (at / 8) as usize;
            let mut word = [0u8; 8];
            let have = src.len().saturating_sub(byte).min(8);
            word[..have].copy_from_slice(&src[byte..byte + have]);
            let v = (u64::from_le_bytes(word) >> (at % 8)) & ((1u64 << k) - 1);
            self.put(v as u32, k);
            at += u64::from(k);
        }
    }

    /// Bits written so far.
    pub fn position(&self) -> u64 {
        self.bytes.len() as u64 * 8 + u64::from(self.n)
    }

    /// Appends whole bytes; the writer must be on a byte boundary.
    pub fn extend(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.n, 0);
        self.bytes.extend_from_slice(bytes);
    }

    /// The bytes, the last one padded with zero bits.
    pub fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.bytes.push(self.acc as u8);
        }
        self.bytes
    }
}

/// A block's symbols written into room made ahead: a copy is at most 48 bits
/// (15 + 5 + 15 + 13), so with at most 7 bits pending each symbol fits the 64-bit
/// accumulator, which [`Burst::flush`] stores whole and advances by the bytes it
/// completed. [`Burst::close`] gives the bytes back to the writer.
pub struct Burst<'a> {
    writer: &'a mut BitWriter,
    buf: Vec<u8>,
    pos: usize,
    acc: u64,
    n: u32,
}

impl Burst<'_> {
    /// Adds the low `bits` bits of `value`; at most 48 between flushes.
    #[inline]
    pub fn add(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += bits;
    }

    /// Moves the whole bytes added into the buffer.
    #[inline]
    pub fn flush(&mut self) {
        self.buf[self.pos..self.pos + 8].copy_from_slice(&self.acc.to_le_bytes());
        let bytes = self.n / 8;
        self.pos += bytes as usize;
        self.acc >>= bytes * 8;
        self.n -= bytes * 8;
    }

    /// Flushes and gives the bytes back to the writer.
    pub fn close(mut self) {
        self.flush();
        self.buf.truncate(self.pos);
        self.writer.bytes = std::mem::take(&mut self.buf);
        (self.writer.acc, self.writer.n) = (self.acc, self.n);
    }
}

/// What an inflater is given to start at bit `r` (0..8) of a byte: empty blocks that
/// take a number of bits ≡ `r` (mod 8), then the byte's bits from `r` on. The bytes
/// after it then follow unchanged and stay on byte boundaries, so stored blocks are
/// aligned as in the original (zlib's `inflatePrime` does this, but flate2 does not
/// expose it).
pub fn start_bytes(byte: u8, r: u32) -> Vec<u8> {
    let mut w = BitWriter::default();
    w.pad_to(r);
    w.put(u32::from(byte) >> r, 8 - r);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit `i` of `bytes`, LSB-first as deflate packs them.
    fn bit(bytes: &[u8], i: u64) -> u32 {
        u32::from(bytes[(i / 8) as usize] >> (i % 8)) & 1
    }

    #[test]
    fn copied_bits_land_as_put_one_by_one_at_every_alignment() {
        let src: Vec<u8> = (0..97u32).map(|i| (i * 37 + 11) as u8).collect();
        let end = src.len() as u64 * 8;
        for lead in 0..8 {
            for (from, to) in [(0, end), (3, end - 5), (13, 14), (7, 7), (41, 700)] {
                let (mut fast, mut slow) = (BitWriter::default(), BitWriter::default());
                // `lead` bits before, so that the copy starts at every bit of a byte.
                for k in 0..lead {
                    fast.put(k & 1, 1);
                    slow.put(k & 1, 1);
                }
                fast.copy_bits(&src, from, to);
                for i in from..to {
                    slow.put(bit(&src, i), 1);
                }
                assert_eq!(
                    fast.finish(),
                    slow.finish(),
                    "lead {lead}, bits {from}..{to}"
                );
            }
        }
    }
}
