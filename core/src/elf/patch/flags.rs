//! The edits of single fields that nothing else moves, made on the file as the other
//! edits left it: the OS ABI byte of the file header (`--set-os-abi`), the flags of
//! `PT_GNU_STACK`, which tell the kernel and the loader whether the stack is executable
//! (`--set-execstack`, `--clear-execstack`: glibc 2.41 refuses to `dlopen` a library
//! that asks for one, and clearing the flag is the usual fix), and symbols' version
//! indices (`--clear-symbol-version`: a symbol then binds to any version, which lowers
//! the glibc a library needs when the newer version was the only reason).

use std::fmt;
use std::str::FromStr;

use super::super::header::{Header, PT_GNU_STACK};
use super::encode::{fields, Wr};
use super::image::whole;
use super::{Edit, PatchError};

/// `PF_X`.
pub(super) const PF_X: u32 = 1;
/// `EI_OSABI`, in `e_ident`.
const EI_OSABI: u64 = 7;

/// The OS ABI of an ELF file (`EI_OSABI`), named as patchelf names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsAbi(pub u8);

/// patchelf's names, as `--print-os-abi` prints them, and the spellings `--set-os-abi`
/// takes (case, surrounding spaces, and a space for a hyphen aside): patchelf's, and the
/// names of the `ELFOSABI_*` constants.
const NAMES: &[(u8, &str, &[&str])] = &[
    (0, "System V", &["system-v", "sysv", "none"]),
    (1, "HP-UX", &["hp-ux", "hpux"]),
    (2, "NetBSD", &["netbsd"]),
    (3, "Linux", &["linux", "gnu"]),
    (4, "GNU Hurd", &["gnu-hurd", "hurd"]),
    (6, "Solaris", &["solaris"]),
    (7, "AIX", &["aix"]),
    (8, "IRIX", &["irix"]),
    (9, "FreeBSD", &["freebsd"]),
    (10, "Tru64", &["tru64"]),
    (12, "OpenBSD", &["openbsd"]),
    (13, "OpenVMS", &["openvms"]),
];

impl fmt::Display for OsAbi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match NAMES.iter().find(|n| n.0 == self.0) {
            Some(n) => f.write_str(n.1),
            None => write!(f, "0x{:02X}", self.0),
        }
    }
}

impl FromStr for OsAbi {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase().replace(' ', "-");
        NAMES
            .iter()
            .find(|n| n.2.contains(&lower.as_str()))
            .map(|n| Self(n.0))
            .ok_or_else(|| {
                let names: Vec<&str> = NAMES.iter().map(|n| n.2[0]).collect();
                format!(
                    "{s:?} is not an OS ABI patchelf knows; it takes {}",
                    names.join(", ")
                )
            })
    }
}

/// The file's OS ABI, from its header (`--print-os-abi`).
pub fn os_abi(bytes: &[u8]) -> Result<OsAbi, PatchError> {
    Ok(OsAbi(whole(Header::read(bytes), "ELF header")?.os_abi))
}

/// Whether the file asks for an executable stack (`--print-execstack`): `None` when it
/// has no `PT_GNU_STACK` (the system's default then applies).
pub fn execstack(bytes: &[u8]) -> Result<Option<bool>, PatchError> {
    let header = whole(Header::read(bytes), "ELF header")?;
    let segments = whole(header.segments(bytes), "program header table")?;
    Ok(segments
        .iter()
        .find(|s| s.kind == PT_GNU_STACK)
        .map(|s| s.flags & PF_X != 0))
}

/// Whether an edit is one of these fields'.
pub(super) fn is_field(e: &Edit) -> bool {
    matches!(
        e,
        Edit::SetOsAbi(_) | Edit::SetExecstack(_) | Edit::ClearSymbolVersion(_)
    )
}

/// Whether `edits` make the stack executable, if they set its flags at all (clearing
/// wins when both are asked, as in patchelf).
pub(super) fn stack_request(edits: &[Edit]) -> Option<bool> {
    edits
        .iter()
        .filter_map(|e| match e {
            Edit::SetExecstack(x) => Some(*x),
            _ => None,
        })
        .reduce(|a, b| a && b)
}

/// The writes that make `bytes` say what the field edits among `edits` ask (none when
/// it says so already). The stack's flags are written in its `PT_GNU_STACK` entry; a
/// file without one gets the entry from the layout ([`super::layout::write`]).
pub(super) fn writes(bytes: &[u8], edits: &[Edit]) -> Result<Vec<(u64, Vec<u8>)>, PatchError> {
    let header = whole(Header::read(bytes), "ELF header")?;
    let mut out = Vec::new();
    if let Some(abi) = edits.iter().rev().find_map(|e| match e {
        Edit::SetOsAbi(a) => Some(*a),
        _ => None,
    }) {
        if abi.0 != header.os_abi {
            out.push((EI_OSABI, vec![abi.0]));
        }
    }
    if let Some(exec) = stack_request(edits) {
        let segments = whole(header.segments(bytes), "program header table")?;
        if let Some(i) = segments.iter().position(|s| s.kind == PT_GNU_STACK) {
            let flags = segments[i].flags;
            let new = if exec { flags | PF_X } else { flags & !PF_X };
            if new != flags {
                let p_flags = fields(header.rd.class).p[5];
                let at = header.phoff + i as u64 * u64::from(header.phentsize) + p_flags;
                out.push((at, Wr(header.rd).u32_bytes(new).to_vec()));
            }
        }
    }
    let names: Vec<String> = edits
        .iter()
        .filter_map(|e| match e {
            Edit::ClearSymbolVersion(n) => Some(n.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    if !names.is_empty() {
        const VER_NDX_GLOBAL: u16 = 1;
        let slots = whole(
            super::super::symbols::version_slots(bytes, &names),
            "symbol version table (DT_VERSYM)",
        )?;
        for (at, value) in slots {
            if value != VER_NDX_GLOBAL {
                out.push((at, Wr(header.rd).u16_bytes(VER_NDX_GLOBAL).to_vec()));
            }
        }
    }
    Ok(out)
}
