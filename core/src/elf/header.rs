//! The ELF file header and the program header table (System V gABI, "ELF Header" and
//! "Program Header"): class, byte order, type, machine and flags, and the segments
//! through which everything else is found.
//!
//! The machine maps to a Linux wheel architecture the way auditwheel's `lddtree` does:
//! by `e_machine`, class and byte order together (`EM_PPC64` is `ppc64le` or `ppc64` by
//! byte order; `EM_ARM` 32-bit little-endian is `armv7l` only for the EABI version 5
//! hard-float ABI that manylinux armv7l requires).

use std::fmt;

use serde::Serialize;

use super::error::ElfError;
use super::read::{bytes, Rd, Stop, View};
use crate::wheel::Arch;

/// The word size of the file (`EI_CLASS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ElfClass {
    /// `ELFCLASS32`.
    Elf32,
    /// `ELFCLASS64`.
    Elf64,
}

impl ElfClass {
    /// 32 or 64.
    pub fn bits(self) -> u8 {
        match self {
            Self::Elf32 => 32,
            Self::Elf64 => 64,
        }
    }
}

/// The byte order of the file (`EI_DATA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Endian {
    /// `ELFDATA2LSB`.
    Little,
    /// `ELFDATA2MSB`.
    Big,
}

/// The object file type (`e_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    /// `ET_REL`: a relocatable object (`.o`).
    Relocatable,
    /// `ET_EXEC`: a position-dependent executable.
    Executable,
    /// `ET_DYN`: a shared object, or a position-independent executable.
    SharedObject,
    /// `ET_CORE`: a core dump.
    Core,
    /// Any other value.
    Other(u16),
}

impl FileType {
    /// From `e_type`.
    pub fn from_raw(v: u16) -> Self {
        match v {
            1 => Self::Relocatable,
            2 => Self::Executable,
            3 => Self::SharedObject,
            4 => Self::Core,
            other => Self::Other(other),
        }
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Relocatable => f.write_str("relocatable"),
            Self::Executable => f.write_str("executable"),
            Self::SharedObject => f.write_str("shared object"),
            Self::Core => f.write_str("core"),
            Self::Other(v) => write!(f, "type {v:#x}"),
        }
    }
}

/// The target machine (`e_machine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Machine {
    /// `EM_386` (3).
    X86,
    /// `EM_X86_64` (62).
    X86_64,
    /// `EM_ARM` (40).
    Arm,
    /// `EM_AARCH64` (183).
    Aarch64,
    /// `EM_PPC` (20).
    Ppc,
    /// `EM_PPC64` (21).
    Ppc64,
    /// `EM_S390` (22), both s390 and s390x.
    S390,
    /// `EM_RISCV` (243).
    RiscV,
    /// `EM_LOONGARCH` (258).
    LoongArch,
    /// `EM_MIPS` (8).
    Mips,
    /// Any other value.
    Other(u16),
}

impl Machine {
    /// From `e_machine`.
    pub fn from_raw(v: u16) -> Self {
        match v {
            3 => Self::X86,
            62 => Self::X86_64,
            40 => Self::Arm,
            183 => Self::Aarch64,
            20 => Self::Ppc,
            21 => Self::Ppc64,
            22 => Self::S390,
            243 => Self::RiscV,
            258 => Self::LoongArch,
            8 => Self::Mips,
            other => Self::Other(other),
        }
    }

    /// The `e_machine` value.
    pub fn raw(self) -> u16 {
        match self {
            Self::X86 => 3,
            Self::X86_64 => 62,
            Self::Arm => 40,
            Self::Aarch64 => 183,
            Self::Ppc => 20,
            Self::Ppc64 => 21,
            Self::S390 => 22,
            Self::RiscV => 243,
            Self::LoongArch => 258,
            Self::Mips => 8,
            Self::Other(v) => v,
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::X86 => "i386",
            Self::X86_64 => "x86-64",
            Self::Arm => "arm",
            Self::Aarch64 => "aarch64",
            Self::Ppc => "ppc",
            Self::Ppc64 => "ppc64",
            Self::S390 => "s390",
            Self::RiscV => "riscv",
            Self::LoongArch => "loongarch",
            Self::Mips => "mips",
            Self::Other(v) => return write!(f, "machine {v}"),
        })
    }
}

serialize_display!(FileType, Machine);

/// `EF_ARM_EABIMASK`: the EABI version bits of an ARM `e_flags`.
const EF_ARM_EABIMASK: u32 = 0xff00_0000;
/// `EF_ARM_EABI_VER5`.
const EF_ARM_EABI_VER5: u32 = 0x0500_0000;
/// `EF_ARM_ABI_FLOAT_HARD`: the hard-float procedure call standard.
const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;

/// The Linux wheel architecture of a file, as auditwheel decides it: `None` when the
/// combination is not one a Linux wheel can hold (x32, big-endian aarch64, soft-float ARM…).
pub fn linux_arch(machine: Machine, class: ElfClass, endian: Endian, flags: u32) -> Option<Arch> {
    use ElfClass::{Elf32, Elf64};
    use Endian::{Big, Little};
    Some(match (machine, class, endian) {
        (Machine::X86, Elf32, Little) => Arch::I686,
        (Machine::X86_64, Elf64, Little) => Arch::X86_64,
        (Machine::Ppc64, Elf64, Little) => Arch::Ppc64le,
        (Machine::Ppc64, Elf64, Big) => Arch::Ppc64,
        (Machine::RiscV, Elf64, Little) => Arch::Riscv64,
        (Machine::Aarch64, Elf64, Little) => Arch::Aarch64,
        (Machine::S390, Elf64, Big) => Arch::S390x,
        (Machine::LoongArch, Elf64, Little) => Arch::Loongarch64,
        (Machine::Arm, Elf32, Little)
            if flags & EF_ARM_EABIMASK == EF_ARM_EABI_VER5
                && flags & EF_ARM_ABI_FLOAT_HARD != 0 =>
        {
            Arch::Armv7l
        }
        _ => return None,
    })
}

/// The fields of the file header this reader uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub rd: Rd,
    pub os_abi: u8,
    pub file_type: FileType,
    pub machine: Machine,
    pub flags: u32,
    pub phoff: u64,
    pub phentsize: u16,
    pub phnum: u16,
    pub shoff: u64,
    pub shentsize: u16,
    pub shnum: u16,
}

/// The size of `e_ident` plus what is needed to know the class.
const IDENT: u64 = 16;

impl Header {
    /// Reads the file header.
    pub fn read<V: View + ?Sized>(v: &V) -> Result<Self, Stop> {
        let ident = match bytes(v, 0, IDENT, "ELF header") {
            Ok(b) => b,
            Err(Stop::Error(_)) => {
                // Shorter than an identification: either not ELF, or a cut ELF.
                let n = v.total_len().min(4);
                let head = bytes(v, 0, n, "ELF header")?;
                return Err(if b"\x7fELF".starts_with(head) && n == 4 {
                    ElfError::OutOfBounds { what: "ELF header" }
                } else {
                    ElfError::NotElf
                }
                .into());
            }
            Err(gap) => return Err(gap),
        };
        if &ident[..4] != b"\x7fELF" {
            return Err(ElfError::NotElf.into());
        }
        let class = match ident[4] {
            1 => ElfClass::Elf32,
            2 => ElfClass::Elf64,
            c => return Err(ElfError::UnknownClass(c).into()),
        };
        let endian = match ident[5] {
            1 => Endian::Little,
            2 => Endian::Big,
            e => return Err(ElfError::UnknownByteOrder(e).into()),
        };
        let os_abi = ident[7];
        let rd = Rd { endian, class };
        let size = match class {
            ElfClass::Elf32 => 52,
            ElfClass::Elf64 => 64,
        };
        let b = bytes(v, 0, size, "ELF header")?;
        // Offsets of the fields after e_entry differ by class.
        let (phoff, shoff, rest) = match class {
            ElfClass::Elf32 => (rd.word(b, 28), rd.word(b, 32), 36),
            ElfClass::Elf64 => (rd.word(b, 32), rd.word(b, 40), 48),
        };
        let header = Self {
            rd,
            os_abi,
            file_type: FileType::from_raw(rd.u16(b, 16)),
            machine: Machine::from_raw(rd.u16(b, 18)),
            flags: rd.u32(b, rest),
            phoff,
            phentsize: rd.u16(b, rest + 6),
            phnum: rd.u16(b, rest + 8),
            shoff,
            shentsize: rd.u16(b, rest + 10),
            shnum: rd.u16(b, rest + 12),
        };
        Ok(header)
    }

    /// The program headers.
    pub fn segments<V: View + ?Sized>(&self, v: &V) -> Result<Vec<Segment>, Stop> {
        const WHAT: &str = "program header table";
        if self.phnum == 0 {
            return Ok(Vec::new());
        }
        if self.phnum == 0xffff {
            return Err(ElfError::Malformed {
                what: WHAT,
                reason: "extended program header counts (PN_XNUM) are not supported",
            }
            .into());
        }
        let entsize = match self.rd.class {
            ElfClass::Elf32 => 32,
            ElfClass::Elf64 => 56,
        };
        if u64::from(self.phentsize) < entsize {
            return Err(ElfError::Malformed {
                what: WHAT,
                reason: "its entry size is too small",
            }
            .into());
        }
        let step = u64::from(self.phentsize);
        let table = bytes(v, self.phoff, step * u64::from(self.phnum), WHAT)?;
        let rd = self.rd;
        Ok(table
            .chunks_exact(step as usize)
            .map(|e| match rd.class {
                ElfClass::Elf32 => Segment {
                    kind: rd.u32(e, 0),
                    offset: rd.word(e, 4),
                    vaddr: rd.word(e, 8),
                    filesz: rd.word(e, 16),
                    memsz: rd.word(e, 20),
                    flags: rd.u32(e, 24),
                    align: rd.word(e, 28),
                },
                ElfClass::Elf64 => Segment {
                    kind: rd.u32(e, 0),
                    flags: rd.u32(e, 4),
                    offset: rd.word(e, 8),
                    vaddr: rd.word(e, 16),
                    filesz: rd.word(e, 32),
                    memsz: rd.word(e, 40),
                    align: rd.word(e, 48),
                },
            })
            .collect())
    }
}

/// `PT_NULL`: an unused entry.
pub(crate) const PT_NULL: u32 = 0;
/// `PT_LOAD`.
pub(crate) const PT_LOAD: u32 = 1;
/// `PT_DYNAMIC`.
pub(crate) const PT_DYNAMIC: u32 = 2;
/// `PT_INTERP`.
pub(crate) const PT_INTERP: u32 = 3;
/// `PT_NOTE`.
pub(crate) const PT_NOTE: u32 = 4;
/// `PT_PHDR`: the program header table itself.
pub(crate) const PT_PHDR: u32 = 6;
/// `PT_GNU_STACK`: whether the stack is executable.
pub(crate) const PT_GNU_STACK: u32 = 0x6474_e551;
/// `PT_GNU_PROPERTY`.
pub(crate) const PT_GNU_PROPERTY: u32 = 0x6474_e553;

/// One program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    #[allow(dead_code)]
    pub memsz: u64,
    pub align: u64,
}

/// Maps virtual addresses to file offsets through the `PT_LOAD` segments.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddressMap {
    loads: Vec<Segment>,
}

impl AddressMap {
    /// The loadable segments of `segments`.
    pub fn new(segments: &[Segment]) -> Self {
        Self {
            loads: segments
                .iter()
                .filter(|s| s.kind == PT_LOAD)
                .copied()
                .collect(),
        }
    }

    /// The file offset of `vaddr`, and how many bytes of the segment's file image follow
    /// it.
    pub fn offset(&self, vaddr: u64, what: &'static str) -> Result<(u64, u64), ElfError> {
        self.loads
            .iter()
            .find_map(|s| {
                let delta = vaddr.checked_sub(s.vaddr)?;
                (delta < s.filesz).then(|| (s.offset.saturating_add(delta), s.filesz - delta))
            })
            .ok_or(ElfError::Unmapped { what, vaddr })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_mapping_follows_auditwheel() {
        use ElfClass::{Elf32, Elf64};
        use Endian::{Big, Little};
        let cases = [
            (Machine::X86_64, Elf64, Little, 0, Some(Arch::X86_64)),
            (Machine::X86_64, Elf32, Little, 0, None),
            (Machine::X86, Elf32, Little, 0, Some(Arch::I686)),
            (Machine::Ppc64, Elf64, Little, 2, Some(Arch::Ppc64le)),
            (Machine::Ppc64, Elf64, Big, 1, Some(Arch::Ppc64)),
            (Machine::Aarch64, Elf64, Little, 0, Some(Arch::Aarch64)),
            (Machine::Aarch64, Elf64, Big, 0, None),
            (Machine::S390, Elf64, Big, 0, Some(Arch::S390x)),
            (Machine::S390, Elf32, Big, 0, None),
            (Machine::RiscV, Elf64, Little, 5, Some(Arch::Riscv64)),
            (
                Machine::LoongArch,
                Elf64,
                Little,
                0,
                Some(Arch::Loongarch64),
            ),
            (Machine::Arm, Elf32, Little, 0x0500_0400, Some(Arch::Armv7l)),
            (Machine::Arm, Elf32, Little, 0x0500_0200, None),
            (Machine::Arm, Elf32, Little, 0x0400_0400, None),
            (Machine::Mips, Elf64, Little, 0, None),
        ];
        for (m, c, e, flags, want) in cases {
            assert_eq!(
                linux_arch(m, c, e, flags),
                want,
                "{m} {c:?} {e:?} {flags:#x}"
            );
        }
    }

    #[test]
    fn machine_raw_round_trips() {
        for v in [3, 62, 40, 183, 20, 21, 22, 243, 258, 8, 999] {
            assert_eq!(Machine::from_raw(v).raw(), v);
        }
        assert_eq!(Machine::from_raw(62).to_string(), "x86-64");
        assert_eq!(FileType::from_raw(3).to_string(), "shared object");
    }

    #[test]
    fn header_errors() {
        let v: &[u8] = b"\x7fEL";
        assert_eq!(
            Header::read(v).map(|_| ()).map_err(|e| format!("{e:?}")),
            Err("Error(NotElf)".into())
        );
        let v: &[u8] = b"\x7fELF\x02\x01";
        assert!(matches!(
            Header::read(v),
            Err(Stop::Error(ElfError::OutOfBounds { .. }))
        ));
        let mut h = [0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 3;
        assert!(matches!(
            Header::read(&h[..]),
            Err(Stop::Error(ElfError::UnknownClass(3)))
        ));
        h[4] = 2;
        h[5] = 9;
        assert!(matches!(
            Header::read(&h[..]),
            Err(Stop::Error(ElfError::UnknownByteOrder(9)))
        ));
    }

    #[test]
    fn address_map() {
        let seg = |vaddr, offset, filesz| Segment {
            kind: PT_LOAD,
            flags: 4,
            offset,
            vaddr,
            filesz,
            memsz: filesz,
            align: 0x1000,
        };
        let m = AddressMap::new(&[seg(0, 0, 0x1000), seg(0x3000, 0x2000, 0x100)]);
        assert_eq!(m.offset(0x10, "t").unwrap(), (0x10, 0xff0));
        assert_eq!(m.offset(0x3010, "t").unwrap(), (0x2010, 0xf0));
        assert!(m.offset(0x2000, "t").is_err());
        assert!(m.offset(u64::MAX, "t").is_err());
    }
}
