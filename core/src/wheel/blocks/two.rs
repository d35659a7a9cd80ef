//! Two walks at once on one core: each symbol of a walk is a chain of dependent steps
//! (a table lookup waits on the bits the previous symbol left), so a core walking one
//! stream mostly waits. Interleaving two streams' symbols ([`super::fast::two`]) fills
//! those waits: a walk of two pieces of a tail this way takes about 0.8 of the time of
//! walking them one after the other.

use std::io::Read;

use super::fast::{self, Stop};
use super::{Began, Block, Open, Result, Walker};

/// Where one of the two walks is.
enum Progress {
    /// Between blocks.
    Between,
    /// Inside a Huffman-coded block.
    In(Open),
    /// Done: its last block was handed over, `visit` stopped it, or it failed.
    Over(Result<()>),
}

/// Walks two streams at once, handing each block to `visit` with its walk's index (0
/// for the first) as [`Walker::next_block`] gives them. A walk stops after its last
/// block, when `visit` returns `false`, or at an error; what each ended with is
/// returned (the other walk goes on alone).
pub fn walk_two<R: Read>(
    walks: [&mut Walker<R>; 2],
    mut visit: impl FnMut(usize, Block) -> bool,
) -> [Result<()>; 2] {
    let [a, b] = walks;
    let mut lanes = [Progress::Between, Progress::Between];
    loop {
        // Each walk into a Huffman-coded block, or to its end.
        for (i, w) in [(0, &mut *a), (1, &mut *b)] {
            while matches!(lanes[i], Progress::Between) {
                lanes[i] = match w.begin() {
                    Ok(Began::Done) => Progress::Over(Ok(())),
                    Ok(Began::Block(block)) => next(visit(i, block), block),
                    Ok(Began::Open(open)) => Progress::In(open),
                    Err(e) => Progress::Over(Err(e)),
                };
            }
        }
        let (ended, stopped) = match &mut lanes {
            [Progress::In(oa), Progress::In(ob)] => {
                let (i, stop) = fast::two(
                    (&mut *a, &oa.lit, &oa.dist, &mut oa.out),
                    (&mut *b, &ob.lit, &ob.dist, &mut ob.out),
                );
                let (w, open) = if i == 0 { (&mut *a, oa) } else { (&mut *b, ob) };
                let ended = match stop {
                    Ok(Stop::End) => Ok(true),
                    Ok(Stop::Slow) => w.checked(&open.lit, &open.dist, &mut open.out),
                    Err(e) => Err(e),
                };
                (ended, i)
            }
            // One walk left: it finishes its block alone.
            [Progress::In(open), Progress::Over(_)] => (
                a.codes(&open.lit, &open.dist, &mut open.out).map(|()| true),
                0,
            ),
            [Progress::Over(_), Progress::In(open)] => (
                b.codes(&open.lit, &open.dist, &mut open.out).map(|()| true),
                1,
            ),
            _ => break,
        };
        match ended {
            Ok(false) => {}
            Ok(true) => {
                if let Progress::In(open) =
                    std::mem::replace(&mut lanes[stopped], Progress::Between)
                {
                    let w = if stopped == 0 { &mut *a } else { &mut *b };
                    let block = w.close(open);
                    lanes[stopped] = next(visit(stopped, block), block);
                }
            }
            Err(e) => lanes[stopped] = Progress::Over(Err(e)),
        }
    }
    lanes.map(|lane| match lane {
        Progress::Over(result) => result,
        Progress::Between | Progress::In(_) => Ok(()),
    })
}

/// Where a walk is after `block`, given whether `visit` wants more.
fn next(more: bool, block: Block) -> Progress {
    if more && !block.last {
        Progress::Between
    } else {
        Progress::Over(Ok(()))
    }
}
