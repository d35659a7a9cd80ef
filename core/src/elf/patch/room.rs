//! Room for more program headers where the table is, in an executable: the notes and
//! the interpreter path that follow the table (which only program and section headers
//! point at) move to the new space, as patchelf moves them, and the table grows over
//! them. The kernel computes `AT_PHDR` from the table's offset and the first segment's
//! (see `layout.rs`), so a table moved to the new space must keep that segment's
//! address-to-offset difference: above an executable's `.bss`, the file was padded to
//! its end (a program with 64 MiB of `.bss` could not be edited; `git` grew by 161 KB).

use std::ops::Range;

use super::super::header::{PT_GNU_PROPERTY, PT_INTERP, PT_LOAD, PT_NOTE, PT_PHDR};
use super::encode::Fields;
use super::image::Image;
use super::sections;

/// The largest alignment kept for a copied segment (a page of 64 KiB).
const MAX_ALIGN: u64 = 0x10000;

/// The program headers to move, by index, so that the table can take `entries` more
/// where it is; `None` when that cannot be done safely: the bytes after the table hold
/// something else (a hash table, symbols) or something no header describes, or the
/// first segment does not map them.
pub(super) fn to_move(img: &Image<'_>, f: &Fields, entries: u64) -> Option<Vec<usize>> {
    let h = &img.header;
    let phent = u64::from(h.phentsize);
    let table_end = h
        .phoff
        .checked_add(u64::from(h.phnum).checked_mul(phent)?)?;
    let need = table_end..table_end.checked_add(phent.checked_mul(entries)?)?;
    if need.end > img.src.len() as u64 {
        return None;
    }
    let overlaps = |r: &Range<u64>| r.start < need.end && need.start < r.end;
    // One segment maps the table and the room from the file; PT_PHDR describes the
    // table where it is.
    let mut loads = 0;
    let mut moved = Vec::new();
    for (i, s) in img.segments.iter().enumerate() {
        let range = s.offset..s.offset.checked_add(s.filesz)?;
        match s.kind {
            PT_LOAD if range.start <= h.phoff && need.end <= range.end => loads += 1,
            PT_PHDR if s.offset != h.phoff => return None,
            PT_INTERP | PT_NOTE | PT_GNU_PROPERTY if overlaps(&range) => {
                if range.start < table_end || range.end > img.src.len() as u64 {
                    return None;
                }
                moved.push(i);
            }
            _ if s.filesz > 0 && overlaps(&range) && s.kind != PT_LOAD => return None,
            _ => {}
        }
    }
    if loads != 1 {
        return None;
    }
    let in_moved = |r: &Range<u64>| {
        moved.iter().any(|&i| {
            let s = img.segments[i];
            s.offset <= r.start && r.end <= s.offset + s.filesz
        })
    };
    // Every section with bytes in the room (allocated or not) lies within a segment that
    // moves; without
    // section headers, the segments that move must cover the room.
    let sections = sections::read(img, f).ok()?;
    if sections.is_empty() {
        let mut at = need.start;
        let mut spans: Vec<Range<u64>> = moved
            .iter()
            .map(|&i| img.segments[i].offset..img.segments[i].offset + img.segments[i].filesz)
            .collect();
        spans.sort_by_key(|r| r.start);
        for r in spans {
            if r.start > at {
                return None;
            }
            at = at.max(r.end);
        }
        return (at >= need.end).then_some(moved);
    }
    sections
        .iter()
        .map(sections::Section::file_range)
        .filter(|r| r.start < r.end && overlaps(r))
        .all(|r| in_moved(&r))
        .then_some(moved)
}

/// Where the segments that make room go in the new space.
pub(super) struct Placed {
    /// Each run of overlapping segments (a `PT_NOTE` and the `PT_GNU_PROPERTY` inside
    /// it), copied once: its bytes in the input, and their new offset.
    pub runs: Vec<(Range<u64>, u64)>,
    /// Each segment's new offset, by index.
    pub segments: Vec<(usize, u64)>,
    /// Where the new space's content ends.
    pub end: u64,
}

/// Places the segments `copied` from offset `at` on, each run at an offset that keeps
/// its alignment (8 bytes at least).
pub(super) fn place(img: &Image<'_>, copied: &[usize], mut at: u64) -> Placed {
    let seg = |i: usize| img.segments[i];
    let mut order = copied.to_vec();
    order.sort_by_key(|&i| seg(i).offset);
    let mut placed = Placed {
        runs: Vec::new(),
        segments: Vec::new(),
        end: at,
    };
    let mut k = 0;
    while k < order.len() {
        let start = seg(order[k]).offset;
        let mut end = start + seg(order[k]).filesz;
        let mut j = k + 1;
        while j < order.len() && seg(order[j]).offset <= end {
            end = end.max(seg(order[j]).offset + seg(order[j]).filesz);
            j += 1;
        }
        let align = order[k..j]
            .iter()
            .map(|&i| seg(i).align)
            .filter(|a| a.is_power_of_two() && *a <= MAX_ALIGN)
            .fold(8, u64::max);
        let to = at + (start % align + align - at % align) % align;
        for &i in &order[k..j] {
            placed.segments.push((i, to + (seg(i).offset - start)));
        }
        placed.runs.push((start..end, to));
        at = to + (end - start);
        k = j;
    }
    placed.end = at;
    placed
}
