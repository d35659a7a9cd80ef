//! A one-line identification of a binary from its first bytes: ELF (class, byte order,
//! type, machine), Mach-O or PE. The full ELF reader lives in `elf`; this is what a
//! listing needs, from a peek at the first [`PEEK`] bytes. Mach-O and PE are told by more
//! than their first bytes, since any member is peeked: a Java class starts as a universal
//! Mach-O does, and a text may start with `MZ`.

use std::fmt;

use serde::Serialize;

/// What a binary member is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "format", rename_all = "lowercase")]
pub enum BinaryKind {
    /// An ELF file.
    Elf {
        /// 32 or 64.
        bits: u8,
        /// `little` or `big`.
        endian: &'static str,
        /// `shared object`, `executable`, `relocatable`, …
        kind: &'static str,
        /// The machine, named as `readelf` does (`x86-64`, `aarch64`, …).
        machine: String,
    },
    /// A Mach-O file (macOS).
    MachO {
        /// `64-bit`, `32-bit` or `universal`.
        variant: &'static str,
    },
    /// A PE file (Windows DLL or executable).
    Pe,
}

/// The ELF machine name for an `e_machine` value, as `readelf -h` and the Linux tags spell it.
pub fn elf_machine_name(machine: u16) -> String {
    match machine {
        3 => "i386".into(),
        8 => "mips".into(),
        20 => "ppc".into(),
        21 => "ppc64".into(),
        22 => "s390".into(),
        40 => "arm".into(),
        62 => "x86-64".into(),
        183 => "aarch64".into(),
        243 => "riscv".into(),
        258 => "loongarch".into(),
        other => format!("machine {other}"),
    }
}

/// How many first bytes [`BinaryKind::sniff`] wants: enough for a PE file's DOS stub,
/// after which its `PE` signature comes.
pub const PEEK: usize = 1024;

impl BinaryKind {
    /// Identifies a binary from its first bytes (at least 20 for ELF, up to [`PEEK`]).
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.len() >= 20 && head.starts_with(b"\x7fELF") {
            let bits = match head[4] {
                1 => 32,
                2 => 64,
                _ => return None,
            };
            let big = match head[5] {
                1 => false,
                2 => true,
                _ => return None,
            };
            let rd = |at: usize| {
                let b = [head[at], head[at + 1]];
                if big {
                    u16::from_be_bytes(b)
                } else {
                    u16::from_le_bytes(b)
                }
            };
            let kind = match rd(16) {
                1 => "relocatable",
                2 => "executable",
                3 => "shared object",
                4 => "core file",
                _ => "unknown type",
            };
            return Some(Self::Elf {
                bits,
                endian: if big { "big" } else { "little" },
                kind,
                machine: elf_machine_name(rd(18)),
            });
        }
        if head.len() >= 4 {
            let magic = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
            match magic {
                0xFEED_FACF | 0xCFFA_EDFE => return Some(Self::MachO { variant: "64-bit" }),
                0xFEED_FACE | 0xCEFA_EDFE => return Some(Self::MachO { variant: "32-bit" }),
                // A universal file gives its count of architectures next, a Java class
                // its version (45 or more), as file(1) tells them apart.
                0xCAFE_BABE | 0xCAFE_BABF
                    if head.len() >= 8
                        && u32::from_be_bytes([head[4], head[5], head[6], head[7]]) < 45 =>
                {
                    return Some(Self::MachO {
                        variant: "universal",
                    })
                }
                _ => {}
            }
        }
        // A DOS header whose `e_lfanew` points at the PE signature.
        if head.starts_with(b"MZ") && head.len() >= 0x40 {
            let at = u32::from_le_bytes([head[0x3C], head[0x3D], head[0x3E], head[0x3F]]) as usize;
            if head.get(at..at.saturating_add(4)) == Some(b"PE\0\0") {
                return Some(Self::Pe);
            }
        }
        None
    }
}

impl fmt::Display for BinaryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Elf {
                bits,
                endian,
                kind,
                machine,
            } => {
                let e = if *endian == "little" { "LSB" } else { "MSB" };
                write!(f, "ELF {bits}-bit {e} {kind}, {machine}")
            }
            Self::MachO { variant } => write!(f, "Mach-O {variant}"),
            Self::Pe => f.write_str("PE (Windows)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_elf_headers() {
        let mut h = [0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[16] = 3;
        h[18] = 62;
        assert_eq!(
            BinaryKind::sniff(&h).unwrap().to_string(),
            "ELF 64-bit LSB shared object, x86-64"
        );
        h[5] = 2;
        h[16] = 0;
        h[17] = 3;
        h[18] = 0;
        h[19] = 22;
        assert_eq!(
            BinaryKind::sniff(&h).unwrap().to_string(),
            "ELF 64-bit MSB shared object, s390"
        );
        assert_eq!(BinaryKind::sniff(b"#!/bin/sh"), None);
    }

    #[test]
    fn tells_pe_and_mach_o_from_look_alikes() {
        let mut pe = vec![0u8; 0x84];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3C] = 0x80;
        pe[0x80..].copy_from_slice(b"PE\0\0");
        assert_eq!(BinaryKind::sniff(&pe), Some(BinaryKind::Pe));
        // `MZ` alone, or a signature out of the bytes given, is not a PE file.
        assert_eq!(BinaryKind::sniff(&pe[..0x80]), None);
        assert_eq!(BinaryKind::sniff(b"MZ is a text that starts so"), None);
        let fat = b"\xca\xfe\xba\xbe\x00\x00\x00\x02\x01\x00\x00\x07";
        assert_eq!(
            BinaryKind::sniff(fat).unwrap().to_string(),
            "Mach-O universal"
        );
        // A Java class (version 52): not a Mach-O file.
        assert_eq!(
            BinaryKind::sniff(b"\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x1d"),
            None
        );
        let thin = b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01\x00\x00\x00\x00";
        assert_eq!(
            BinaryKind::sniff(thin).unwrap().to_string(),
            "Mach-O 64-bit"
        );
    }
}
