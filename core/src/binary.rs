//! A one-line identification of a binary from its first bytes: ELF (class, byte order,
//! type, machine), Mach-O or PE. The full ELF reader lives in `elf`; this is what a
//! listing needs, from a 64-byte peek.

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

impl BinaryKind {
    /// Identifies a binary from its first bytes (at least 20 for ELF).
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
                0xCAFE_BABE | 0xCAFE_BABF => {
                    return Some(Self::MachO {
                        variant: "universal",
                    })
                }
                _ => {}
            }
        }
        if head.starts_with(b"MZ") {
            return Some(Self::Pe);
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
        assert_eq!(BinaryKind::sniff(b"MZ\x90\x00"), Some(BinaryKind::Pe));
        assert_eq!(BinaryKind::sniff(b"#!/bin/sh"), None);
    }
}
