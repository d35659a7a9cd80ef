//! From what the ELF reader found to what the policy evaluation needs: the one place the
//! two meet, so neither depends on the other's types.

use crate::elf::{self, ElfClass, ElfInfo, Endian};
use crate::policy::input::{
    DynamicSymbol, ElfFacts, ElfPlatform, IsaLevel, SymbolBinding, SymbolKind, VersionNeed,
};

fn isa(level: Option<elf::IsaLevel>) -> IsaLevel {
    match level {
        None | Some(elf::IsaLevel::Baseline) => IsaLevel::Baseline,
        Some(elf::IsaLevel::V2) => IsaLevel::X86_64V2,
        Some(elf::IsaLevel::V3) => IsaLevel::X86_64V3,
        Some(elf::IsaLevel::V4) => IsaLevel::X86_64V4,
        Some(elf::IsaLevel::Unknown(_)) => IsaLevel::Unknown,
    }
}

fn split(paths: Option<&str>) -> Vec<String> {
    paths
        .map(|p| p.split(':').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The policy inputs of one ELF file.
pub fn facts(info: &ElfInfo) -> ElfFacts {
    let is_64 = info.class == ElfClass::Elf64;
    let little_endian = info.endian == Endian::Little;
    let machine = info.machine.raw();
    let symbols = info
        .symbols
        .iter()
        .map(|s| DynamicSymbol {
            name: s.name.clone(),
            kind: match s.kind {
                elf::SymbolKind::NoType => SymbolKind::NoType,
                elf::SymbolKind::Object => SymbolKind::Object,
                elf::SymbolKind::Func => SymbolKind::Func,
                _ => SymbolKind::Other,
            },
            binding: match s.binding {
                elf::Binding::Local => SymbolBinding::Local,
                elf::Binding::Global => SymbolBinding::Global,
                elf::Binding::Weak => SymbolBinding::Weak,
                _ => SymbolBinding::Other,
            },
            defined: s.defined,
            version: s.version.as_ref().map(|v| v.name.to_string()),
            version_file: s.version.as_ref().and_then(|v| v.file.clone()),
        })
        .collect();
    ElfFacts {
        platform: ElfPlatform {
            os_abi: info.os_abi,
            is_64,
            little_endian,
            machine,
        },
        arch: info.arch.clone(),
        // The x86 ISA property counts for x86-64 files only, as auditwheel reads it: a
        // 32-bit x86 file may carry one too (`-z x86-64-v2`), and i686 has no levels.
        isa: if info.machine == elf::Machine::X86_64 && is_64 && little_endian {
            isa(info.isa)
        } else {
            IsaLevel::Baseline
        },
        interpreter: info.interpreter.clone(),
        needed: info.needed.clone(),
        rpath: split(info.rpath.as_deref()),
        runpath: split(info.runpath.as_deref()),
        version_needs: info
            .version_needs
            .iter()
            .map(|n| VersionNeed {
                file: n.file.clone(),
                versions: n.versions.iter().map(|v| v.name.to_string()).collect(),
            })
            .collect(),
        symbols,
    }
}
