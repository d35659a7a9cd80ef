//! What the policy evaluation needs to know about one ELF file ([`ElfFacts`]), in the
//! terms auditwheel reads them with pyelftools, so that an ELF reader's output maps onto
//! it field by field; and the small rules auditwheel applies to those facts: the baseline
//! architecture of an ELF header (`elf::linux_arch`), the x86-64 ISA level of its GNU
//! property note ([`IsaLevel::from_x86_isa_1_needed`]), whether it is a Python extension
//! module ([`PythonExtension::detect`]) and which libc it was built for ([`detect_libc`]).
//!
//! Sources: auditwheel `lddtree.py` (`_get_platform`, `ldd`), `elfutils.py`.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::name::{Libc, NameError};
use crate::wheel::tags::Arch;

/// The facts of one ELF file, as an ELF reader finds them.
///
/// For a wheel member every field matters. For a library outside the wheel only `arch`,
/// `isa`, `needed`, `rpath`, `runpath` and `version_needs` are used (a resolver may leave
/// `symbols` empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ElfFacts {
    /// Class, byte order, machine and OS ABI: what decides whether a library found on a
    /// search path can serve this file.
    pub platform: ElfPlatform,
    /// The baseline architecture by auditwheel's table ([`crate::elf::linux_arch`]); `None` when
    /// auditwheel does not know it (then a wheel member is ignored).
    pub arch: Option<Arch>,
    /// The x86-64 ISA level the file declares it needs ([`IsaLevel::from_x86_isa_1_needed`]).
    pub isa: IsaLevel,
    /// `PT_INTERP`, as written (`/lib64/ld-linux-x86-64.so.2`).
    pub interpreter: Option<String>,
    /// `DT_NEEDED`, in file order.
    pub needed: Vec<String>,
    /// `DT_RPATH`, split on `:` (unexpanded: `$ORIGIN/../foo.libs`).
    pub rpath: Vec<String>,
    /// `DT_RUNPATH`, split on `:`.
    pub runpath: Vec<String>,
    /// `.gnu.version_r`: the versions needed, per needed file, in file order.
    pub version_needs: Vec<VersionNeed>,
    /// `.dynsym`, in table order (auditwheel reads the section named `.dynsym`).
    pub symbols: Vec<DynamicSymbol>,
}

/// The ELF header fields that decide compatibility between a file and a library
/// (auditwheel's `Platform.is_compatible`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct ElfPlatform {
    /// `EI_OSABI`.
    pub os_abi: u8,
    /// 64-bit class.
    pub is_64: bool,
    /// Little-endian.
    pub little_endian: bool,
    /// `e_machine`.
    pub machine: u16,
}

impl ElfPlatform {
    /// Whether a library of platform `other` can serve a file of this one: same class,
    /// byte order and machine; the OS ABIs equal or both of the none/System V/GNU/Linux
    /// family (0 and 3).
    pub fn is_compatible(&self, other: &Self) -> bool {
        let linux = |abi: u8| matches!(abi, 0 | 3);
        (self.os_abi == other.os_abi || (linux(self.os_abi) && linux(other.os_abi)))
            && self.is_64 == other.is_64
            && self.little_endian == other.little_endian
            && self.machine == other.machine
    }
}

/// One `Verneed` entry of `.gnu.version_r` with its `Vernaux` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionNeed {
    /// The file the versions are needed from (`vn_file`: `libc.so.6`).
    pub file: String,
    /// The version names (`vna_name`: `GLIBC_2.17`), in file order.
    pub versions: Vec<String>,
}

impl VersionNeed {
    /// A need from `file` of `versions`.
    pub fn new(file: &str, versions: &[&str]) -> Self {
        Self {
            file: file.to_owned(),
            versions: versions.iter().map(|&v| v.to_owned()).collect(),
        }
    }

    /// auditwheel's `elf_find_versioned_symbols` skips the dynamic loader's entries:
    /// `ld-linux*`, `ld64.so.2` (s390x), `ld64.so.1` (ppc64le).
    pub fn is_loader(&self) -> bool {
        self.file.starts_with("ld-linux") || self.file == "ld64.so.2" || self.file == "ld64.so.1"
    }
}

/// One `.dynsym` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DynamicSymbol {
    /// The name.
    pub name: String,
    /// `ST_TYPE`.
    pub kind: SymbolKind,
    /// `ST_BIND`.
    pub binding: SymbolBinding,
    /// `st_shndx != SHN_UNDEF`.
    pub defined: bool,
    /// The version name `.gnu.version` gives it (`GLIBC_2.28`), if any. Used in messages
    /// only (`fcntl64` needs `GLIBC_2.28`); auditwheel decides on `version_needs`.
    pub version: Option<String>,
    /// For an undefined symbol, the file its version is needed from (`libc.so.6`).
    pub version_file: Option<String>,
}

impl DynamicSymbol {
    /// An undefined, global function import, unversioned.
    pub fn import(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: SymbolKind::Func,
            binding: SymbolBinding::Global,
            defined: false,
            version: None,
            version_file: None,
        }
    }

    /// An undefined, global function import with a version needed from `file`.
    pub fn versioned_import(name: &str, version: &str, file: &str) -> Self {
        Self {
            version: Some(version.to_owned()),
            version_file: Some(file.to_owned()),
            ..Self::import(name)
        }
    }

    /// A defined, global function (an export).
    pub fn export(name: &str) -> Self {
        Self {
            defined: true,
            ..Self::import(name)
        }
    }
}

/// A symbol's type, as far as auditwheel distinguishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    /// `STT_NOTYPE`.
    NoType,
    /// `STT_OBJECT`.
    Object,
    /// `STT_FUNC`.
    Func,
    /// Anything else (`STT_TLS`, `STT_GNU_IFUNC`, …).
    Other,
}

/// A symbol's binding, as far as auditwheel distinguishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolBinding {
    /// `STB_LOCAL`.
    Local,
    /// `STB_GLOBAL`.
    Global,
    /// `STB_WEAK`: an optional import, never counted against a blacklist.
    Weak,
    /// Anything else (`STB_GNU_UNIQUE`, …).
    Other,
}

/// The instruction-set level an x86-64 ELF declares it needs
/// (`GNU_PROPERTY_X86_ISA_1_NEEDED`); auditwheel's "extended architecture".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum IsaLevel {
    /// No property, or baseline only: nothing beyond the architecture's baseline.
    #[default]
    Baseline,
    /// `x86-64-v2`.
    X86_64V2,
    /// `x86-64-v3`.
    X86_64V3,
    /// `x86-64-v4`.
    X86_64V4,
    /// Bits auditwheel does not know (it fails with `unknown x86_64 ISA`).
    Unknown,
}

impl IsaLevel {
    /// auditwheel's reading of `pr_data` of a 4-byte `GNU_PROPERTY_X86_ISA_1_NEEDED`
    /// (0xc0008002) property: drop the baseline bit 0, then v4 (bit 3) before v3 (bit 2)
    /// before v2 (bit 1); any other bit alone is unknown.
    ///
    /// Which property counts: auditwheel looks at x86_64 files only, takes, in each note
    /// section, the first `NT_GNU_PROPERTY_TYPE_0` note named `GNU` and in it the first such
    /// property with `pr_datasz == 4`; a later section's note overrides an earlier one.
    pub fn from_x86_isa_1_needed(bits: u32) -> Self {
        let data = bits & !1;
        if data & 8 != 0 {
            Self::X86_64V4
        } else if data & 4 != 0 {
            Self::X86_64V3
        } else if data & 2 != 0 {
            Self::X86_64V2
        } else if data != 0 {
            Self::Unknown
        } else {
            Self::Baseline
        }
    }

    /// The spelling auditwheel uses (`x86_64_v3`), `baseline` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::X86_64V2 => "x86_64_v2",
            Self::X86_64V3 => "x86_64_v3",
            Self::X86_64V4 => "x86_64_v4",
            Self::Unknown => "unknown",
        }
    }

    /// Whether a wheel may need this level: auditwheel compares it with the wheel's
    /// baseline architecture (`Architecture.is_superset`), so only `Baseline` passes.
    pub fn within_baseline(self) -> bool {
        self == Self::Baseline
    }
}

impl fmt::Display for IsaLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IsaLevel {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        [
            Self::Baseline,
            Self::X86_64V2,
            Self::X86_64V3,
            Self::X86_64V4,
            Self::Unknown,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
        .ok_or_else(|| NameError {
            text: s.to_owned(),
            kind: "ISA level",
            expected: "`baseline`, `x86_64_v2`, `x86_64_v3`, `x86_64_v4` or `unknown`",
        })
    }
}

serialize_display!(IsaLevel);

/// Which Python C API a module's init function belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PythonExtension {
    /// `init<mod>` or `_cffi_pypyinit_<mod>`: Python 2 (then UCS2 imports are checked).
    Python2,
    /// `PyInit_<mod>`: Python 3.
    Python3,
}

impl PythonExtension {
    /// auditwheel's `elf_is_python_extension`: the module name is the file name up to its
    /// first `.`; the first defined function symbol (in `.dynsym` order) named `init<mod>`,
    /// `PyInit_<mod>` or `_cffi_pypyinit_<mod>` decides.
    pub fn detect(file_name: &str, symbols: &[DynamicSymbol]) -> Option<Self> {
        let module = file_name.split('.').next().unwrap_or(file_name);
        symbols
            .iter()
            .filter(|s| s.defined && s.kind == SymbolKind::Func)
            .find_map(|s| {
                let n = s.name.as_str();
                if n.strip_prefix("PyInit_") == Some(module) {
                    Some(Self::Python3)
                } else if n.strip_prefix("init") == Some(module)
                    || n.strip_prefix("_cffi_pypyinit_") == Some(module)
                {
                    Some(Self::Python2)
                } else {
                    None
                }
            })
    }
}

/// A file that says it uses two C libraries (auditwheel raises `InvalidLibcError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("it depends on {found} ({needed}) but its libc was already taken to be {already}")]
pub struct LibcConflict {
    /// The libc the dependency belongs to.
    pub found: Libc,
    /// The dependency.
    pub needed: String,
    /// The libc decided before.
    pub already: Libc,
}

/// The C library a DT_NEEDED name is, as auditwheel's `ldd` tells: `libc.musl-*` and
/// `ld-musl-*` are musl; `libc.so.6`, `ld-linux-*` and `ld64.so.*` glibc.
pub fn libc_named(needed: &str) -> Option<Libc> {
    if needed.starts_with("libc.musl-") || needed.starts_with("ld-musl-") {
        Some(Libc::Musl)
    } else if needed == "libc.so.6"
        || needed.starts_with("ld-linux-")
        || needed.starts_with("ld64.so.")
    {
        Some(Libc::Glibc)
    } else {
        None
    }
}

/// Whether `soname` names the C library or its loader, which no wheel can bundle: a
/// name [`libc_named`] knows, or `libc.so`, the name maturin's musl builds link musl's
/// C library by (its loader takes the name as itself; auditwheel's musl policies allow
/// only `libc.musl-<arch>.so.1`).
pub fn is_c_library(soname: &str) -> bool {
    soname == "libc.so" || libc_named(soname).is_some()
}

/// auditwheel's libc detection in `ldd` for a wheel member: the interpreter first
/// (`ld-musl-*` is musl, any other is glibc), then the DT_NEEDED names (`libc.musl-*`,
/// `ld-musl-*` are musl; `libc.so.6`, `ld-linux-*`, `ld64.so.*` are glibc; a mix is an
/// error), then, as a last resort, the file name (`*-linux-musl.so`,
/// `*-arm-linux-musleabihf.so` are musl; `*-linux-gnu.so`, `*-arm-linux-gnueabihf.so`
/// are glibc only for CPython 3.11 or newer, as older musl builds used `gnu` too).
pub fn detect_libc(file_name: &str, facts: &ElfFacts) -> Result<Option<Libc>, LibcConflict> {
    let mut libc = facts.interpreter.as_deref().map(|interp| {
        let base = interp.rsplit('/').next().unwrap_or(interp);
        if base.starts_with("ld-musl-") {
            Libc::Musl
        } else {
            Libc::Glibc
        }
    });
    for needed in &facts.needed {
        let Some(found) = libc_named(needed) else {
            continue;
        };
        match libc {
            None => libc = Some(found),
            Some(already) if already != found => {
                return Err(LibcConflict {
                    found,
                    needed: needed.clone(),
                    already,
                })
            }
            Some(_) => {}
        }
    }
    if libc.is_none() {
        if file_name.ends_with("-arm-linux-musleabihf.so") || file_name.ends_with("-linux-musl.so")
        {
            libc = Some(Libc::Musl);
        } else if file_name.ends_with("-arm-linux-gnueabihf.so")
            || file_name.ends_with("-linux-gnu.so")
        {
            // `path.stem.split(".")[-1].split("-")`: `cpython-311-x86_64-linux-gnu`
            let stem = &file_name[..file_name.len() - ".so".len()];
            let soabi: Vec<&str> = stem.rsplit('.').next().unwrap_or(stem).split('-').collect();
            if soabi[0] == "cpython" && soabi.get(1).is_some_and(|v| cpython_3_11_or_newer(v)) {
                libc = Some(Libc::Glibc);
            }
        }
    }
    Ok(libc)
}

/// `v.startswith(("311", "312", …, "399"))`.
fn cpython_3_11_or_newer(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 3
        && b[0] == b'3'
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && (b[1] - b'0') * 10 + (b[2] - b'0') >= 11
}

/// The last path component of a member path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isa_levels_follow_auditwheel_bits() {
        assert_eq!(IsaLevel::from_x86_isa_1_needed(0), IsaLevel::Baseline);
        assert_eq!(IsaLevel::from_x86_isa_1_needed(1), IsaLevel::Baseline);
        assert_eq!(IsaLevel::from_x86_isa_1_needed(3), IsaLevel::X86_64V2);
        assert_eq!(IsaLevel::from_x86_isa_1_needed(7), IsaLevel::X86_64V3);
        assert_eq!(IsaLevel::from_x86_isa_1_needed(0xf), IsaLevel::X86_64V4);
        assert_eq!(IsaLevel::from_x86_isa_1_needed(8), IsaLevel::X86_64V4);
        assert_eq!(IsaLevel::from_x86_isa_1_needed(0x10), IsaLevel::Unknown);
        for l in [IsaLevel::Baseline, IsaLevel::X86_64V3, IsaLevel::Unknown] {
            assert_eq!(l.to_string().parse::<IsaLevel>().unwrap(), l);
        }
        assert!(IsaLevel::Baseline.within_baseline() && !IsaLevel::X86_64V2.within_baseline());
    }

    #[test]
    fn the_c_library_by_any_of_its_names() {
        for name in [
            "libc.so",
            "libc.so.6",
            "libc.musl-x86_64.so.1",
            "ld-musl-aarch64.so.1",
            "ld-linux-x86-64.so.2",
            "ld64.so.2",
        ] {
            assert!(is_c_library(name), "{name}");
        }
        for name in [
            "libcrypt.so.1",
            "libc++.so.1",
            "libm.so.6",
            "libcom_err.so.2",
        ] {
            assert!(!is_c_library(name), "{name}");
        }
    }

    #[test]
    fn python_extensions_by_init_symbol() {
        let syms = vec![
            DynamicSymbol::import("PyInit__core"),
            DynamicSymbol::export("helper"),
        ];
        assert_eq!(
            PythonExtension::detect("_core.cpython-311-x86_64-linux-gnu.so", &syms),
            None
        );
        let syms = vec![DynamicSymbol::export("PyInit__core")];
        assert_eq!(
            PythonExtension::detect("_core.cpython-311-x86_64-linux-gnu.so", &syms),
            Some(PythonExtension::Python3)
        );
        assert_eq!(
            PythonExtension::detect("_core.abi3.so", &syms),
            Some(PythonExtension::Python3)
        );
        assert_eq!(PythonExtension::detect("other.so", &syms), None);
        let mut obj = DynamicSymbol::export("PyInit__core");
        obj.kind = SymbolKind::Object;
        assert_eq!(PythonExtension::detect("_core.so", &[obj]), None);
        let py2 = vec![
            DynamicSymbol::export("initfoo"),
            DynamicSymbol::export("PyInit_foo"),
        ];
        assert_eq!(
            PythonExtension::detect("foo.so", &py2),
            Some(PythonExtension::Python2)
        );
        let cffi = vec![DynamicSymbol::export("_cffi_pypyinit_bar")];
        assert_eq!(
            PythonExtension::detect("bar.pypy-73.so", &cffi),
            Some(PythonExtension::Python2)
        );
    }

    #[test]
    fn libc_detection_order() {
        let facts = |interp: Option<&str>, needed: &[&str]| ElfFacts {
            interpreter: interp.map(str::to_owned),
            needed: needed.iter().map(|&s| s.to_owned()).collect(),
            ..ElfFacts::default()
        };
        let d = |name: &str, f: &ElfFacts| detect_libc(name, f).unwrap();
        assert_eq!(
            d("x.so", &facts(Some("/lib/ld-musl-x86_64.so.1"), &[])),
            Some(Libc::Musl)
        );
        assert_eq!(
            d("x", &facts(Some("/lib64/ld-linux-x86-64.so.2"), &[])),
            Some(Libc::Glibc)
        );
        assert_eq!(d("x.so", &facts(None, &["libc.so.6"])), Some(Libc::Glibc));
        assert_eq!(
            d("x.so", &facts(None, &["libc.musl-x86_64.so.1"])),
            Some(Libc::Musl)
        );
        assert_eq!(d("x.so", &facts(None, &["ld64.so.2"])), Some(Libc::Glibc));
        assert_eq!(d("x.so", &facts(None, &["libm.so.6"])), None);
        assert!(detect_libc(
            "x.so",
            &facts(None, &["libc.so.6", "libc.musl-x86_64.so.1"])
        )
        .is_err());
        assert!(detect_libc(
            "x",
            &facts(Some("/lib/ld-linux.so.2"), &["ld-musl-x86_64.so.1"])
        )
        .is_err());
        let none = facts(None, &[]);
        assert_eq!(
            d("m.cpython-311-x86_64-linux-gnu.so", &none),
            Some(Libc::Glibc)
        );
        assert_eq!(
            d("m.cpython-312-arm-linux-gnueabihf.so", &none),
            Some(Libc::Glibc)
        );
        assert_eq!(
            d("m.cpython-310-x86_64-linux-gnu.so", &none),
            None,
            "3.10 musl used gnu"
        );
        assert_eq!(d("m.pypy310-pp73-x86_64-linux-gnu.so", &none), None);
        assert_eq!(
            d("m.cpython-311-x86_64-linux-musl.so", &none),
            Some(Libc::Musl)
        );
        assert_eq!(d("m.abi3.so", &none), None);
    }
}
