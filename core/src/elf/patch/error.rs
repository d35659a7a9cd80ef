//! Errors of the ELF patcher. Each is one phrase about the file or the edit; the caller
//! adds which file it is about.

use super::super::ElfError;

/// Why an ELF file could not be patched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The file could not be read.
    #[error("{0}")]
    Read(#[from] ElfError),
    /// The file is not linked: an object file (`.o`), a core dump. patchelf refuses it
    /// ("wrong ELF type") whatever is asked.
    #[error("it is not an executable or a shared library (its ELF type is {0}): only a linked file has a dynamic section to read or edit")]
    NotLinked(super::super::header::FileType),
    /// `--rename-dynamic-symbols` on a file whose symbols cannot be reordered.
    #[error(
        "its dynamic symbols cannot be renamed: the GNU hash table needs them reordered, and {0}"
    )]
    CannotReorder(&'static str),
    /// `--set-execstack` or `--clear-execstack` on a statically linked file without
    /// `PT_GNU_STACK`.
    #[error("it has no PT_GNU_STACK program header to set the stack's flags in, and this patcher adds one only to a dynamically linked file")]
    NoStackSegment,
    /// The section header table lies past the end of the file (it was cut short).
    #[error("its section header table lies past the end of the file (was it cut short?)")]
    SectionsOutside,
    /// The file has no `PT_DYNAMIC` (it is statically linked, or an object file).
    #[error("it has no dynamic section (a statically linked file has no libraries to edit)")]
    NoDynamic,
    /// The file has no `PT_INTERP` (a shared library, or a statically linked program).
    #[error(
        "it has no interpreter (PT_INTERP): it is a shared library or a statically linked program"
    )]
    NoInterpreter,
    /// The file has no `PT_LOAD` segment to extend the address space from.
    #[error("it has no loadable segment")]
    NoLoad,
    /// The dynamic table has no `DT_STRTAB`, so names cannot be added.
    #[error("its dynamic section has no string table (DT_STRTAB)")]
    NoStringTable,
    /// A name to write contains a NUL byte, which would cut it short.
    #[error("the name {0:?} contains a NUL byte")]
    NulInName(String),
    /// The program header table is full: `e_phnum` would reach `PN_XNUM`.
    #[error("its program header table cannot take another entry")]
    TooManySegments,
    /// The new segment would not fit in the address space or the file would be too large.
    #[error("there is no room for a new segment in its {0}")]
    NoRoom(&'static str),
    /// A table written by the patcher would not be read back as it was meant to be; the
    /// result is refused rather than returned damaged.
    #[error("the patched file would not read back as intended ({0}); nothing was changed")]
    Verify(String),
}
