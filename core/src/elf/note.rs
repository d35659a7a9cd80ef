//! The x86 ISA level a file needs, from its GNU property note (`NT_GNU_PROPERTY_TYPE_0`
//! in `.note.gnu.property`, per the "Linux Extensions to gABI" and the x86-64 psABI):
//! `GNU_PROPERTY_X86_ISA_1_NEEDED` with the bits for x86-64-v2, -v3 and -v4.
//!
//! The note is found through `PT_GNU_PROPERTY` when present, else through the `PT_NOTE`
//! segments, never through section headers. Like auditwheel, the highest level whose bit
//! is set wins, after the baseline bit is cleared.

use std::fmt;

use serde::{Serialize, Serializer};

use super::header::{ElfClass, Segment, PT_GNU_PROPERTY, PT_NOTE};
use super::read::{bytes, Rd, Stop, View};

/// `NT_GNU_PROPERTY_TYPE_0`.
const NT_GNU_PROPERTY_TYPE_0: u32 = 5;
/// `GNU_PROPERTY_X86_ISA_1_NEEDED`.
const GNU_PROPERTY_X86_ISA_1_NEEDED: u32 = 0xc000_8002;
/// Note segments larger than this are not read for properties.
const MAX_NOTES: u64 = 64 * 1024;

/// The x86 instruction-set level a file declares it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IsaLevel {
    /// x86-64 baseline (or no level bit beyond it).
    Baseline,
    /// x86-64-v2.
    V2,
    /// x86-64-v3.
    V3,
    /// x86-64-v4.
    V4,
    /// Bits this reader does not know (auditwheel: "unknown x86_64 ISA").
    Unknown(u32),
}

impl IsaLevel {
    /// From the property's bit mask.
    pub fn from_bits(bits: u32) -> Self {
        let bits = bits & !1;
        if bits & 8 != 0 {
            Self::V4
        } else if bits & 4 != 0 {
            Self::V3
        } else if bits & 2 != 0 {
            Self::V2
        } else if bits == 0 {
            Self::Baseline
        } else {
            Self::Unknown(bits)
        }
    }
}

impl fmt::Display for IsaLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Baseline => f.write_str("x86-64-baseline"),
            Self::V2 => f.write_str("x86-64-v2"),
            Self::V3 => f.write_str("x86-64-v3"),
            Self::V4 => f.write_str("x86-64-v4"),
            Self::Unknown(bits) => write!(f, "unknown ISA ({bits:#x})"),
        }
    }
}

impl Serialize for IsaLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The note segments to look in.
pub(crate) fn note_segments(segments: &[Segment]) -> Vec<Segment> {
    let prop: Vec<Segment> = segments
        .iter()
        .filter(|s| s.kind == PT_GNU_PROPERTY)
        .copied()
        .collect();
    if prop.is_empty() {
        segments
            .iter()
            .filter(|s| s.kind == PT_NOTE && s.filesz <= MAX_NOTES)
            .copied()
            .collect()
    } else {
        prop
    }
}

/// Reads the ISA level from the notes in `seg`, if it declares one.
pub(crate) fn isa_level<V: View + ?Sized>(
    v: &V,
    rd: Rd,
    seg: &Segment,
) -> Result<Option<IsaLevel>, Stop> {
    if seg.filesz > MAX_NOTES {
        return Ok(None);
    }
    let notes = bytes(v, seg.offset, seg.filesz, "note segment")?;
    let align: usize = if seg.align == 8 { 8 } else { 4 };
    let pad = |n: usize| n.checked_next_multiple_of(align);
    let mut at = 0usize;
    while at + 12 <= notes.len() {
        let (namesz, descsz, kind) = (
            rd.u32(notes, at) as usize,
            rd.u32(notes, at + 4) as usize,
            rd.u32(notes, at + 8),
        );
        let name_at = at + 12;
        let Some(desc_at) = name_at.checked_add(namesz).and_then(pad) else {
            break;
        };
        let Some(end) = desc_at.checked_add(descsz).and_then(pad) else {
            break;
        };
        let (Some(name), Some(desc)) = (
            notes.get(name_at..name_at + namesz),
            notes.get(desc_at..desc_at + descsz),
        ) else {
            break;
        };
        if kind == NT_GNU_PROPERTY_TYPE_0 && name == b"GNU\0" {
            if let Some(bits) = property(rd, desc) {
                return Ok(Some(IsaLevel::from_bits(bits)));
            }
        }
        at = end;
    }
    Ok(None)
}

/// The `GNU_PROPERTY_X86_ISA_1_NEEDED` value in a property array.
fn property(rd: Rd, desc: &[u8]) -> Option<u32> {
    let align = match rd.class {
        ElfClass::Elf32 => 4,
        ElfClass::Elf64 => 8,
    };
    let mut at = 0usize;
    while at + 8 <= desc.len() {
        let (kind, size) = (rd.u32(desc, at), rd.u32(desc, at + 4) as usize);
        let data = desc.get(at + 8..(at + 8).checked_add(size)?)?;
        if kind == GNU_PROPERTY_X86_ISA_1_NEEDED && size == 4 {
            return Some(rd.u32(data, 0));
        }
        at = (at + 8 + size).div_ceil(align) * align;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::header::Endian;

    #[test]
    fn levels_from_bits() {
        assert_eq!(IsaLevel::from_bits(1), IsaLevel::Baseline);
        assert_eq!(IsaLevel::from_bits(0b11), IsaLevel::V2);
        assert_eq!(IsaLevel::from_bits(0b101), IsaLevel::V3);
        assert_eq!(IsaLevel::from_bits(0b1111), IsaLevel::V4);
        assert_eq!(IsaLevel::from_bits(0x30), IsaLevel::Unknown(0x30));
        assert_eq!(IsaLevel::V3.to_string(), "x86-64-v3");
    }

    #[test]
    fn reads_a_property_note() {
        let rd = Rd {
            endian: Endian::Little,
            class: ElfClass::Elf64,
        };
        let mut n = Vec::new();
        // An unrelated note first, then the property note with two properties.
        for w in [4u32, 4, 3] {
            n.extend_from_slice(&w.to_le_bytes());
        }
        n.extend_from_slice(b"GNU\0abcd\0\0\0\0");
        for w in [4u32, 32, 5] {
            n.extend_from_slice(&w.to_le_bytes());
        }
        n.extend_from_slice(b"GNU\0");
        for w in [
            0xc000_0002u32,
            4,
            3,
            0,
            GNU_PROPERTY_X86_ISA_1_NEEDED,
            4,
            5,
            0,
        ] {
            n.extend_from_slice(&w.to_le_bytes());
        }
        let seg = Segment {
            kind: PT_GNU_PROPERTY,
            flags: 4,
            offset: 0,
            vaddr: 0,
            filesz: n.len() as u64,
            memsz: n.len() as u64,
            align: 8,
        };
        assert_eq!(isa_level(&n[..], rd, &seg).unwrap(), Some(IsaLevel::V3));
        // Hostile sizes end the walk instead of reading out of bounds.
        n[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(isa_level(&n[..], rd, &seg).unwrap(), None);
    }
}
