//! The symbols of one Huffman-coded block, each with its bit and output positions, for
//! a splice that keeps the runs of a block's symbols an edit does not reach
//! ([`crate::wheel::splice`]): the walk in the parent module only counts them.

use super::huffman::{stream_code, Code, CodeKind, Fast};
use super::{copy, fixed_codes, Block, Walker};

/// One symbol of a Huffman-coded block, as [`symbols`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol {
    /// The bit where its code starts, counted from the stream's first bit.
    pub bit: u64,
    /// Where its output starts, counted from the block's first output byte.
    pub at: u64,
    /// Bytes it outputs: 1 for a literal, a copy's length.
    pub len: u32,
    /// How far back a copy reads from (0 for a literal).
    pub dist: u32,
}

/// The inside of a Huffman-coded block: enough to write any run of its symbols as a
/// block of their own (its code descriptions, the symbols' bits, an end-of-block code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inside {
    /// The bit where its symbols start: its code descriptions are the bits from its
    /// start + 3 to here (none for fixed codes).
    pub body: u64,
    /// The bit where its end-of-block code starts.
    pub eob_bit: u64,
    /// Its end-of-block code as a bit writer puts it: the bits in stream order, and
    /// their count.
    pub eob: (u32, u32),
    /// Its symbols, in order, without the end-of-block.
    pub symbols: Vec<Symbol>,
}

/// The symbols of block `b` of the deflate stream `z` (as a walk from the stream's
/// first bit gave it), decoded on the checked path; `None` for a stored block, or when
/// the block does not decode as the walk said.
pub fn symbols(z: &[u8], b: &Block) -> Option<Inside> {
    let byte = usize::try_from(b.start / 8).ok()?;
    let base = b.start / 8 * 8;
    let mut w = Walker::with_buffer(z.get(byte..)?, None, 8 << 10);
    w.skip_bits((b.start % 8) as u32).ok()?;
    let head = w.bits.take(3).ok()?;
    let (lit, dist, eob): (Fast, Fast, (u32, u32)) = match head >> 1 {
        1 => {
            let (lit, dist) = fixed_codes().ok()?;
            // The end-of-block is the first 7-bit code: seven zeros.
            (lit, dist, (0, 7))
        }
        2 => {
            let (lens, nlen, total) = w.dynamic_lengths().ok()?;
            let eob = stream_code(&lens[..nlen], 256)?;
            (
                Code::new(&lens[..nlen], CodeKind::Literals).ok()?,
                Code::new(&lens[nlen..total], CodeKind::Distances).ok()?,
                eob,
            )
        }
        _ => return None,
    };
    let body = base + w.bits.position();
    let mut symbols = Vec::new();
    let mut at = 0u64;
    let eob_bit = loop {
        w.bits.refill().ok()?;
        let bit = base + w.bits.position();
        let sym = lit.decode(&mut w.bits).ok()?;
        if sym == 256 {
            break bit;
        }
        let (len, distance) = if sym < 256 {
            (1, 0)
        } else {
            copy(&mut w.bits, sym, &dist)?
        };
        symbols.push(Symbol {
            bit,
            at,
            len,
            dist: distance,
        });
        at += u64::from(len);
    };
    (base + w.bits.position() == b.end && at == b.out).then_some(Inside {
        body,
        eob_bit,
        eob,
        symbols,
    })
}
