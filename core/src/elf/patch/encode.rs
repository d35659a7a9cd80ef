//! Writing integers and program headers in a file's class and byte order: the records
//! the patcher builds whole before they go into the [`Overlay`](super::overlay::Overlay),
//! and where each field lies in them.

use super::super::header::Segment;
use super::super::read::Rd;
use super::PatchError;
use crate::elf::{ElfClass, Endian};

/// Writes integers in the file's byte order and class into a buffer (one record, built
/// whole before it goes into the [`Overlay`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Wr(pub Rd);

impl Wr {
    fn put(buf: &mut [u8], at: u64, b: &[u8]) -> Result<(), PatchError> {
        usize::try_from(at)
            .ok()
            .and_then(|a| buf.get_mut(a..a.checked_add(b.len())?))
            .map(|dst| dst.copy_from_slice(b))
            .ok_or_else(|| {
                PatchError::Verify(format!("a field at {at:#x} lies outside its record"))
            })
    }

    /// The bytes of a `u16`.
    pub fn u16_bytes(self, v: u16) -> [u8; 2] {
        match self.0.endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// The bytes of a `u32`.
    pub fn u32_bytes(self, v: u32) -> [u8; 4] {
        match self.0.endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// Writes a `u32` into `buf`.
    pub fn u32(self, buf: &mut [u8], at: u64, v: u32) -> Result<(), PatchError> {
        Self::put(buf, at, &self.u32_bytes(v))
    }

    /// The bytes of a class-sized word; in a 32-bit file the value must fit in 32 bits.
    pub fn word_bytes(self, v: u64) -> Result<Vec<u8>, PatchError> {
        Ok(match self.0.class {
            ElfClass::Elf32 => {
                let v = u32::try_from(v).map_err(|_| PatchError::NoRoom("32-bit address space"))?;
                self.u32_bytes(v).to_vec()
            }
            ElfClass::Elf64 => match self.0.endian {
                Endian::Little => v.to_le_bytes().to_vec(),
                Endian::Big => v.to_be_bytes().to_vec(),
            },
        })
    }

    /// Writes a class-sized word into `buf`.
    pub fn word(self, buf: &mut [u8], at: u64, v: u64) -> Result<(), PatchError> {
        Self::put(buf, at, &self.word_bytes(v)?)
    }
}

/// Field offsets that differ by class.
pub(super) struct Fields {
    /// `e_phoff`, `e_phnum` in the file header.
    pub e_phoff: u64,
    pub e_phnum: u64,
    /// In a program header: `p_offset`, `p_vaddr`, `p_paddr`, `p_filesz`, `p_memsz`,
    /// `p_flags`, `p_align`.
    pub p: [u64; 7],
    /// In a section header: `sh_flags`, `sh_addr`, `sh_offset`, `sh_size`, and its size.
    pub sh: [u64; 4],
    pub sh_size: u64,
}

/// The field offsets of a file of `class`.
pub(super) fn fields(class: ElfClass) -> Fields {
    match class {
        ElfClass::Elf32 => Fields {
            e_phoff: 28,
            e_phnum: 44,
            p: [4, 8, 12, 16, 20, 24, 28],
            sh: [8, 12, 16, 20],
            sh_size: 40,
        },
        ElfClass::Elf64 => Fields {
            e_phoff: 32,
            e_phnum: 56,
            p: [8, 16, 24, 32, 40, 4, 48],
            sh: [8, 16, 24, 32],
            sh_size: 64,
        },
    }
}

/// The program header `s` as written over `raw`, the entry it was (or zeros): a segment
/// that moved (or is new) gets `p_paddr = p_vaddr`; others keep theirs.
pub(super) fn entry(wr: Wr, f: &Fields, raw: &[u8], s: &Segment) -> Result<Vec<u8>, PatchError> {
    let mut e = raw.to_vec();
    wr.u32(&mut e, 0, s.kind)?;
    let [p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align] = f.p;
    wr.word(&mut e, p_offset, s.offset)?;
    let paddr = if s.vaddr == wr.0.word(raw, p_vaddr as usize) {
        wr.0.word(raw, p_paddr as usize)
    } else {
        s.vaddr
    };
    wr.word(&mut e, p_vaddr, s.vaddr)?;
    wr.word(&mut e, p_paddr, paddr)?;
    wr.word(&mut e, p_filesz, s.filesz)?;
    wr.word(&mut e, p_memsz, s.memsz)?;
    wr.u32(&mut e, p_flags, s.flags)?;
    wr.word(&mut e, p_align, s.align)?;
    Ok(e)
}
