//! The section header table, as the patcher reads and updates it. The loader never reads
//! it, but `readelf`, debuggers and `strip` do: a section whose bytes moved gets its new
//! offset, address and size.

use super::encode::{Fields, Wr};
use super::image::Image;
use super::overlay::Overlay;
use super::PatchError;

/// `SHT_NOBITS`: the section takes no bytes of the file (`.bss`).
pub(super) const SHT_NOBITS: u32 = 8;

/// One section header.
#[derive(Debug, Clone, Copy)]
pub(super) struct Section {
    /// Where its header is.
    pub at: u64,
    /// `sh_type`, `sh_flags`, `sh_addr`, `sh_offset`, `sh_size`.
    pub kind: u32,
    pub flags: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
}

impl Section {
    /// The file bytes it takes (none for `SHT_NOBITS`).
    pub fn file_range(&self) -> std::ops::Range<u64> {
        let len = if self.kind == SHT_NOBITS {
            0
        } else {
            self.size
        };
        self.offset..self.offset.saturating_add(len)
    }
}

/// The section headers (none for a file without them). One whose table lies past its end
/// (cut short) is refused, as patchelf refuses it: new space at the end of the file would
/// be read as that table.
pub(super) fn read(img: &Image<'_>, f: &Fields) -> Result<Vec<Section>, PatchError> {
    let h = &img.header;
    let rd = h.rd;
    let size = u64::from(h.shentsize);
    if h.shoff == 0 || size < f.sh_size {
        return Ok(Vec::new());
    }
    let at0 = h.shoff;
    let mut count = u64::from(h.shnum);
    if count == 0 {
        // Extended numbering: the count is in the first header's sh_size.
        match img
            .src
            .get(at0 as usize..)
            .and_then(|b| b.get(..size as usize))
        {
            Some(b) => count = rd.word(b, f.sh[3] as usize),
            None => return Err(PatchError::SectionsOutside),
        }
    }
    let table_end = count.checked_mul(size).and_then(|s| s.checked_add(at0));
    if table_end.is_none_or(|end| end > img.src.len() as u64) {
        return Err(PatchError::SectionsOutside);
    }
    Ok((0..count)
        .map(|i| {
            let at = at0 + i * size;
            let sh = &img.src[at as usize..(at + size) as usize];
            Section {
                at,
                kind: rd.u32(sh, 4),
                flags: rd.word(sh, f.sh[0] as usize),
                addr: rd.word(sh, f.sh[1] as usize),
                offset: rd.word(sh, f.sh[2] as usize),
                size: rd.word(sh, f.sh[3] as usize),
            }
        })
        .collect())
}

/// Applies `new(section) -> (offset, addr, size)` to each section header.
pub(super) fn update(
    img: &Image<'_>,
    wr: Wr,
    f: &Fields,
    out: &mut Overlay,
    new: impl Fn(&Section) -> Option<(u64, u64, u64)>,
) -> Result<(), PatchError> {
    let size = u64::from(img.header.shentsize);
    for s in read(img, f)? {
        if let Some((offset, addr, len)) = new(&s) {
            let mut e = img.src[s.at as usize..(s.at + size) as usize].to_vec();
            wr.word(&mut e, f.sh[1], addr)?;
            wr.word(&mut e, f.sh[2], offset)?;
            wr.word(&mut e, f.sh[3], len)?;
            out.put(s.at, &e)?;
        }
    }
    Ok(())
}
