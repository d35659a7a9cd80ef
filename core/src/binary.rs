//! A one-line identification of a binary from its first bytes: ELF (class, byte order,
//! type, machine), Mach-O or PE (with their machine), or a WebAssembly module (what
//! pyodide's extensions are). The full ELF reader lives in `elf`; this is what a
//! listing needs, from a peek at the first [`PEEK`] bytes. Mach-O and PE are told by more
//! than their first bytes, since any member is peeked: a Java class starts as a universal
//! Mach-O does, and a text may start with `MZ`.

use std::fmt;
use std::io::Read;

use serde::Serialize;

use crate::source::ReadAt;
use crate::wheel::{Archive, Member};

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
    /// A Mach-O file (macOS, iOS).
    MachO {
        /// `64-bit`, `32-bit` or `universal`.
        variant: &'static str,
        /// The CPU (`x86_64`, `arm64`, …) of a thin file; a universal one has several.
        #[serde(skip_serializing_if = "Option::is_none")]
        machine: Option<String>,
    },
    /// A PE file (Windows DLL or executable).
    Pe {
        /// The COFF machine (`x86-64`, `arm64`, `i386`, …).
        machine: String,
    },
    /// A WebAssembly module (pyodide's and emscripten's extensions).
    Wasm,
}

/// The Mach-O CPU name for a `cputype`, as Apple's tools spell it.
fn macho_cpu_name(cpu: u32) -> String {
    match cpu {
        7 => "i386".into(),
        0x0100_0007 => "x86_64".into(),
        12 => "arm".into(),
        0x0100_000C => "arm64".into(),
        0x0200_000C => "arm64_32".into(),
        18 => "ppc".into(),
        0x0100_0012 => "ppc64".into(),
        other => format!("cpu {other}"),
    }
}

/// The PE machine name for a COFF `Machine` value.
fn pe_machine_name(machine: u16) -> String {
    match machine {
        0x014C => "i386".into(),
        0x8664 => "x86-64".into(),
        0xAA64 => "arm64".into(),
        0x01C4 => "arm".into(),
        0x0200 => "ia64".into(),
        other => format!("machine {other:#06x}"),
    }
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

/// Identifies a member of an archive as a binary from its first [`PEEK`] bytes, whatever
/// its name (programs have no telling name: ruff's Mach-O `.data/scripts/ruff`,
/// setuptools' `cli-64.exe`). A member that cannot be inflated is no binary here; the
/// RECORD check says what is wrong with it.
pub fn peek<S: ReadAt>(archive: &Archive<S>, m: &Member) -> Option<BinaryKind> {
    if m.is_dir() || m.size < 20 {
        return None;
    }
    let mut head = [0u8; PEEK];
    let want = head.len().min(usize::try_from(m.size).unwrap_or(PEEK));
    let mut r = archive.reader(m);
    let mut got = 0;
    while got < want {
        match r.read(&mut head[got..want]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    BinaryKind::sniff(&head[..got])
}

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
            // A thin file's CPU type follows its magic, in the file's byte order.
            let cpu = |big: bool| {
                let b = head.get(4..8)?.try_into().ok()?;
                Some(macho_cpu_name(if big {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                }))
            };
            match magic {
                0xFEED_FACF | 0xCFFA_EDFE => {
                    return Some(Self::MachO {
                        variant: "64-bit",
                        machine: cpu(magic == 0xFEED_FACF),
                    })
                }
                0xFEED_FACE | 0xCEFA_EDFE => {
                    return Some(Self::MachO {
                        variant: "32-bit",
                        machine: cpu(magic == 0xFEED_FACE),
                    })
                }
                // A universal file gives its count of architectures next, a Java class
                // its version (45 or more), as file(1) tells them apart.
                0xCAFE_BABE | 0xCAFE_BABF
                    if head.len() >= 8
                        && u32::from_be_bytes([head[4], head[5], head[6], head[7]]) < 45 =>
                {
                    return Some(Self::MachO {
                        variant: "universal",
                        machine: None,
                    })
                }
                _ => {}
            }
        }
        // A DOS header whose `e_lfanew` points at the PE signature.
        if head.starts_with(b"MZ") && head.len() >= 0x40 {
            let at = u32::from_le_bytes([head[0x3C], head[0x3D], head[0x3E], head[0x3F]]) as usize;
            if head.get(at..at.saturating_add(4)) == Some(b"PE\0\0") {
                let machine = head.get(at + 4..at + 6).map_or_else(
                    || "unknown".into(),
                    |m| pe_machine_name(u16::from_le_bytes([m[0], m[1]])),
                );
                return Some(Self::Pe { machine });
            }
        }
        // The magic `\0asm` and version 1.
        if head.starts_with(b"\0asm\x01\0\0\0") {
            return Some(Self::Wasm);
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
            Self::MachO {
                variant,
                machine: Some(m),
            } => write!(f, "Mach-O {variant}, {m}"),
            Self::MachO { variant, .. } => write!(f, "Mach-O {variant}"),
            Self::Pe { machine } => write!(f, "PE (Windows), {machine}"),
            Self::Wasm => f.write_str("WebAssembly module"),
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
        assert_eq!(
            BinaryKind::sniff(&pe).unwrap().to_string(),
            "PE (Windows), unknown"
        );
        let mut amd64 = pe.clone();
        amd64.extend([0x64, 0x86]);
        assert_eq!(
            BinaryKind::sniff(&amd64).unwrap().to_string(),
            "PE (Windows), x86-64"
        );
        assert_eq!(
            BinaryKind::sniff(b"\0asm\x01\0\0\0\x01\x05")
                .unwrap()
                .to_string(),
            "WebAssembly module"
        );
        assert_eq!(BinaryKind::sniff(b"\0asm"), None);
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
            "Mach-O 64-bit, arm64"
        );
    }
}
