//! Editing the dynamic section of an ELF file, as `patchelf` does: set `DT_SONAME`;
//! replace, add and remove `DT_NEEDED` entries (renaming the library in the version needs,
//! `.gnu.version_r`, too); set `DT_RPATH` or `DT_RUNPATH` and convert between them; remove
//! them; read them. Bytes in, new bytes out, for ET_DYN and ET_EXEC, 32- and 64-bit, both
//! byte orders (System V gABI "Dynamic Section", "Program Header"; LSB symbol versioning).
//!
//! [`apply`] reads the file as the dynamic loader does (program headers → `PT_DYNAMIC` →
//! addresses mapped through `PT_LOAD`), so stripped files and files without section
//! headers are edited the same way; it edits a model of the dynamic table and its string
//! table (`edit.rs`), then lays it out as writes over the input (`overlay.rs`): in place
//! when it fits, else into new space mapped by a new or extended `PT_LOAD` segment,
//! moving the program header table when it has no free slot (`layout.rs` says exactly
//! how). Before returning, it reads its own output back with [`crate::elf::parse`] and
//! checks every name it meant to write and that no `PT_LOAD`s overlap; a result that
//! does not read back is an error, so a caller never gets a damaged file. Applying an
//! edit that is already true changes nothing (`changed == false`), so applying the same
//! edit twice gives the same bytes as once. [`apply_in_place`] does the same on the
//! caller's buffer and says which byte ranges changed (a 300 MB library is not copied,
//! and the CLI writes back only those ranges after a kernel-side copy of the file).
//!
//! # Why hand-written, not `object`'s `build::elf::Builder`
//! Measured with `object` 0.40 (feature `build`) and `object-rewrite` 0.1.1 (the
//! patchelf-like tool built on it) on this machine's libraries:
//! - A round trip with no edit is not faithful: the Builder regenerates `.dynsym`,
//!   `.dynstr`, the version sections and `.dynamic` from its model. Reading and writing
//!   back libz changed 1,971 bytes (`.dynstr` reordered, `.dynsym`, `.gnu.version*`,
//!   `.dynamic`, `.shstrtab`), libstdc++ 307,537 bytes, a 15 KB gcc-built library 650.
//!   An auditwheel repair should change the bytes it means to change, nothing else.
//! - It does not move what must grow: the Builder keeps allocated sections at their
//!   offsets and leaves placing a grown `.dynstr` or `.dynamic` to the caller;
//!   `object-rewrite` adding 8 `DT_NEEDED` entries failed with "Overlapping immovable
//!   sections" on every library tried (a gcc-built one, libz, libssl, libstdc++,
//!   libsqlite3), and on libm it could not even read the file ("Unsupported section
//!   type"). It also needs section headers, which stripped files may lack.
//! - It builds for wasm32, but so does this, with no dependency.
//!
//! patchelf itself keeps the program headers at the start and moves the sections that
//! follow them out of the way, which needs section headers and rewrites the symbol
//! table's addresses. Moving the program header table into the new segment instead
//! needs neither, and loaders accept it: glibc reads the table wherever `e_phoff` says
//! and finds it mapped in the new `PT_LOAD`; musl needs it inside a `PT_LOAD` for
//! `dl_iterate_phdr` (and so exception unwinding), which it is; for executables the new
//! segment is placed so that the kernel's `AT_PHDR` is right (see `layout.rs`).
//!
//! Differences from patchelf, on purpose: strings are never overwritten in place (they
//! may be shared with symbol names); `--add-needed` of a library already needed adds no
//! duplicate; files without section headers are edited (patchelf refuses them); the file
//! is never left half-written (patchelf can be killed mid-write).
//!
//! Limits, shared with patchelf: a moved `.dynamic` is writable but no longer under
//! `PT_GNU_RELRO`; `--remove-needed` leaves the version needs of the removed library, so
//! the loader asserts unless that library is loaded anyway (libc always is). An
//! executable whose program headers cannot grow in place (what follows them is not
//! notes or the interpreter path) and must move while its `.bss` would need more than
//! 16 MiB of padding is refused.

mod edit;
mod encode;
mod error;
mod flags;
mod image;
mod layout;
mod overlay;
mod plan;
mod rename;
mod room;
mod sections;

use std::ops::Range;

use serde::Serialize;

pub use error::PatchError;
pub use flags::{execstack, os_abi, OsAbi};

use super::header::{FileType, Header, PT_INTERP};
use edit::State;
use image::{Image, DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME};

/// One edit, with the meaning of the patchelf flag of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// `--set-soname NAME`: set `DT_SONAME` (shared objects only; others are left alone).
    SetSoname(String),
    /// `--set-rpath PATH [--force-rpath]`: set `DT_RUNPATH`, converting a `DT_RPATH`; with
    /// `force_rpath`, set `DT_RPATH`, converting a `DT_RUNPATH`.
    SetRpath {
        /// The `:`-separated search path.
        path: String,
        /// `--force-rpath`.
        force_rpath: bool,
    },
    /// `--add-rpath PATH [--force-rpath]`: append to the search path (after a `:`), then
    /// set it as `SetRpath` does.
    AddRpath {
        /// The `:`-separated directories to append.
        path: String,
        /// `--force-rpath`.
        force_rpath: bool,
    },
    /// `--remove-rpath`: remove `DT_RPATH` and `DT_RUNPATH`.
    RemoveRpath,
    /// `--set-interpreter PATH`: the program interpreter (`PT_INTERP`, `.interp`), in place
    /// when it fits, else in the new segment.
    SetInterpreter(String),
    /// `--remove-needed LIB...`: remove the `DT_NEEDED` entries naming these libraries.
    RemoveNeeded(Vec<String>),
    /// `--replace-needed OLD NEW...`: rename needed libraries, in one pass (the first pair
    /// whose `OLD` matches an entry applies), in `DT_NEEDED` and in the version needs.
    ReplaceNeeded(Vec<(String, String)>),
    /// `--add-needed LIB...`: add `DT_NEEDED` entries, first in the table, in this order
    /// (patchelf adds them sorted); libraries already needed are skipped.
    AddNeeded(Vec<String>),
    /// `--no-default-lib`: `DF_1_NODEFLIB` in `DT_FLAGS_1`.
    NoDefaultLib,
    /// `--add-debug-tag`: a `DT_DEBUG` entry, unless there is one.
    AddDebugTag,
    /// `--set-os-abi ABI`: the file header's `EI_OSABI`.
    SetOsAbi(OsAbi),
    /// `--set-execstack` (true) or `--clear-execstack` (false): `PF_X` of `PT_GNU_STACK`
    /// (clearing wins when both are given, as in patchelf).
    SetExecstack(bool),
    /// `--clear-symbol-version SYMBOL...`: these dynamic symbols' version indices made
    /// `VER_NDX_GLOBAL` (a symbol not in the table is passed over, as in patchelf).
    ClearSymbolVersion(Vec<String>),
    /// `--page-size SIZE` (a power of two): not an edit of its own, but the least
    /// alignment of a new segment, for the other edits. The file's own segments' largest
    /// alignment is kept when it is larger (patchelf takes SIZE instead of its guess for
    /// the machine; here the guess is that alignment, which the systems the file was
    /// linked for need).
    PageSize(u64),
    /// `--rename-dynamic-symbols MAP`: each dynamic symbol named as a key (the whole
    /// name) gets the value as its name; the hash tables follow, the symbols they cover
    /// reordered by their new names, with what refers to them by index.
    RenameDynamicSymbols(Vec<(String, String)>),
}

/// The result of [`apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patched {
    /// The new file.
    pub bytes: Vec<u8>,
    /// Whether any edit changed anything (if not, `bytes` is the input).
    pub changed: bool,
}

/// The names in a dynamic section that patchelf prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Names {
    /// `DT_SONAME`.
    pub soname: Option<String>,
    /// `DT_NEEDED`, in order.
    pub needed: Vec<String>,
    /// `DT_RPATH`.
    pub rpath: Option<String>,
    /// `DT_RUNPATH`.
    pub runpath: Option<String>,
}

impl Names {
    /// What `patchelf --print-rpath` prints: `DT_RUNPATH` if there is one, else
    /// `DT_RPATH`.
    pub fn search_path(&self) -> Option<&str> {
        self.runpath.as_deref().or(self.rpath.as_deref())
    }
}

/// Whether the file is a shared object (`ET_DYN`, which a position-independent executable
/// is too). patchelf prints and sets a soname only there: for any other file
/// `--print-soname` prints nothing and `--set-soname` does nothing, and neither needs
/// a dynamic section. Reads the file header only.
pub fn is_shared_object(bytes: &[u8]) -> Result<bool, PatchError> {
    let header = image::whole(Header::read(bytes), "ELF header")?;
    Ok(header.file_type == FileType::SharedObject)
}

/// Refuses a file that is not an executable or a shared object (an object file, a core
/// dump), as patchelf refuses it whatever is asked. Reads the file header only.
pub fn linked(bytes: &[u8]) -> Result<(), PatchError> {
    let header = image::whole(Header::read(bytes), "ELF header")?;
    match header.file_type {
        FileType::Executable | FileType::SharedObject => Ok(()),
        other => Err(PatchError::NotLinked(other)),
    }
}

/// The machine a file is for (`e_machine`), from its header only: what `--shrink-rpath`
/// compares a library it finds with.
pub fn machine(bytes: &[u8]) -> Result<super::Machine, PatchError> {
    Ok(image::whole(Header::read(bytes), "ELF header")?.machine)
}

/// patchelf's `--shrink-rpath`: the entries of `rpath` kept, `:`-joined. A relative entry
/// (`$ORIGIN/...`) is kept; an absolute one only if it starts with one of `allowed` (when
/// any is given) and holds one of `needed` not found in an earlier entry, as `holds(dir,
/// library)` tells (the host looks: a file of the same machine).
pub fn shrink_rpath(
    rpath: &str,
    needed: &[String],
    allowed: &[&str],
    holds: &mut dyn FnMut(&str, &str) -> bool,
) -> String {
    let mut found = vec![false; needed.len()];
    let mut kept: Vec<&str> = Vec::new();
    for dir in rpath.split(':').filter(|d| !d.is_empty()) {
        if !dir.starts_with('/') {
            kept.push(dir);
            continue;
        }
        if !allowed.is_empty() && !allowed.iter().any(|p| dir.starts_with(p)) {
            continue;
        }
        let mut any = false;
        for (lib, f) in needed.iter().zip(&mut found) {
            if !*f && holds(dir, lib) {
                *f = true;
                any = true;
            }
        }
        if any {
            kept.push(dir);
        }
    }
    kept.join(":")
}

/// The program interpreter (`PT_INTERP`) that `--print-interpreter` prints: `None` for a
/// file without one (a shared library, a static program). Reads the program headers only.
pub fn interpreter(bytes: &[u8]) -> Result<Option<String>, PatchError> {
    const WHAT: &str = "interpreter path (PT_INTERP)";
    let header = image::whole(Header::read(bytes), "ELF header")?;
    let segments = image::whole(header.segments(bytes), "program header table")?;
    match segments.iter().find(|s| s.kind == PT_INTERP) {
        Some(seg) => Ok(Some(image::whole(
            super::resolve::interpreter(bytes, seg),
            WHAT,
        )?)),
        None => Ok(None),
    }
}

/// Reads the names patchelf prints (`--print-soname`, `--print-needed`, `--print-rpath`).
pub fn names(bytes: &[u8]) -> Result<Names, PatchError> {
    let img = Image::read(bytes)?;
    names_of(&State::new(&img))
}

fn names_of(st: &State<'_>) -> Result<Names, PatchError> {
    Ok(Names {
        soname: st.name(DT_SONAME)?,
        needed: st.names(DT_NEEDED)?,
        rpath: st.name(DT_RPATH)?,
        runpath: st.name(DT_RUNPATH)?,
    })
}

/// Applies `edits` in order and returns the new file.
pub fn apply(bytes: &[u8], edits: &[Edit]) -> Result<Patched, PatchError> {
    let mut buf = bytes.to_vec();
    let changes = apply_in_place(&mut buf, edits)?;
    Ok(Patched {
        bytes: buf,
        changed: changes.is_some(),
    })
}

/// What [`apply_in_place`] changed in a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The length of the file before the edit; everything from there on is new.
    pub old_len: u64,
    /// The start and old bytes of each range of the file that was rewritten, sorted and
    /// disjoint (what a caller needs to compare, or to undo).
    pub saved: Vec<(u64, Vec<u8>)>,
}

impl Changes {
    /// Records that `len` bytes at `at` of `buf` are about to be rewritten: the part in
    /// the old file joins the saved ranges (with the bytes it had before any edit).
    fn record(&mut self, buf: &[u8], at: u64, len: u64) {
        let end = (at + len).min(self.old_len);
        if at >= end {
            return;
        }
        // The saved ranges that touch [at, end) merge with it into one.
        let (mut lo, mut hi) = (at, end);
        let (touching, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.saved)
            .into_iter()
            .partition(|(s, old)| *s <= end && at <= s + old.len() as u64);
        for (s, old) in &touching {
            lo = lo.min(*s);
            hi = hi.max(s + old.len() as u64);
        }
        let mut bytes = buf[lo as usize..hi as usize].to_vec();
        for (s, old) in &touching {
            let from = (s - lo) as usize;
            bytes[from..from + old.len()].copy_from_slice(old);
        }
        self.saved = kept;
        let i = self.saved.partition_point(|(s, _)| *s < lo);
        self.saved.insert(i, (lo, bytes));
    }

    /// The ranges of the old bytes that were rewritten, sorted and disjoint.
    pub fn ranges(&self) -> impl Iterator<Item = Range<u64>> + '_ {
        self.saved
            .iter()
            .map(|(at, old)| *at..at + old.len() as u64)
    }
}

/// Applies `edits` in order to the file held in `buf`, in place: `None` when nothing
/// changes. On an error `buf` holds the input again. A large file is edited without a
/// second copy, and [`Changes`] says which bytes to write back.
pub fn apply_in_place(buf: &mut Vec<u8>, edits: &[Edit]) -> Result<Option<Changes>, PatchError> {
    // The fields' edits are found on the input first: nothing is written when one
    // cannot be made.
    let fields = if edits.iter().any(flags::is_field) {
        Some(flags::writes(buf, edits)?)
    } else {
        None
    };
    let mut changes = match plan::plan(buf, edits)? {
        Some(plan) => {
            let saved = plan.overlay.apply(buf);
            if let Err(e) = plan::verify(buf, &plan) {
                plan.overlay.undo(buf, saved);
                return Err(e);
            }
            Some(Changes {
                old_len: plan.overlay.old_len,
                saved,
            })
        }
        None => None,
    };
    let Some(writes) = fields else {
        return Ok(changes);
    };
    // Made where the other edits left those fields: found again when they changed the
    // file (the program header table may have moved).
    let writes = match &changes {
        None => writes,
        Some(c) => match flags::writes(buf, edits) {
            Ok(w) => w,
            Err(e) => {
                overlay::restore(buf, c.old_len, c.saved.clone());
                return Err(e);
            }
        },
    };
    for (at, bytes) in writes {
        let c = changes.get_or_insert_with(|| Changes {
            old_len: buf.len() as u64,
            saved: Vec::new(),
        });
        c.record(buf, at, bytes.len() as u64);
        buf[at as usize..at as usize + bytes.len()].copy_from_slice(&bytes);
    }
    Ok(changes)
}

/// `--set-soname`: [`apply`] with one edit, returning the bytes.
pub fn set_soname(bytes: &[u8], soname: &str) -> Result<Vec<u8>, PatchError> {
    Ok(apply(bytes, &[Edit::SetSoname(soname.to_owned())])?.bytes)
}

/// `--set-rpath` (`force_rpath`: `--force-rpath`): [`apply`] with one edit.
pub fn set_rpath(bytes: &[u8], path: &str, force_rpath: bool) -> Result<Vec<u8>, PatchError> {
    let edit = Edit::SetRpath {
        path: path.to_owned(),
        force_rpath,
    };
    Ok(apply(bytes, &[edit])?.bytes)
}

/// `--remove-rpath`: [`apply`] with one edit.
pub fn remove_rpath(bytes: &[u8]) -> Result<Vec<u8>, PatchError> {
    Ok(apply(bytes, &[Edit::RemoveRpath])?.bytes)
}

/// `--replace-needed OLD NEW`: [`apply`] with one edit.
pub fn replace_needed(bytes: &[u8], old: &str, new: &str) -> Result<Vec<u8>, PatchError> {
    let edit = Edit::ReplaceNeeded(vec![(old.to_owned(), new.to_owned())]);
    Ok(apply(bytes, &[edit])?.bytes)
}

/// `--add-needed LIB`: [`apply`] with one edit.
pub fn add_needed(bytes: &[u8], lib: &str) -> Result<Vec<u8>, PatchError> {
    Ok(apply(bytes, &[Edit::AddNeeded(vec![lib.to_owned()])])?.bytes)
}

/// `--remove-needed LIB`: [`apply`] with one edit.
pub fn remove_needed(bytes: &[u8], lib: &str) -> Result<Vec<u8>, PatchError> {
    Ok(apply(bytes, &[Edit::RemoveNeeded(vec![lib.to_owned()])])?.bytes)
}

#[cfg(test)]
mod tests;
