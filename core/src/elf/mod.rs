//! Reading ELF files for auditing wheels: class, byte order, machine and Linux wheel
//! architecture, type, interpreter, `DT_NEEDED`, `DT_SONAME`, `DT_RPATH`/`DT_RUNPATH`, the
//! GNU version needs and definitions, the dynamic symbols with their versions, and the x86
//! ISA level. 32- and 64-bit, both byte orders (System V gABI; LSB symbol versioning;
//! Linux gABI extensions for the property note).
//!
//! Two entry points share one reader: [`parse`] for a whole file in memory, and
//! [`ElfScanner`] for a file fed in chunks in file order (a zip member being inflated),
//! which keeps a bounded amount of it and says when it has seen enough (see [`scan`]).
//! [`patch`] edits what the reader reads (patchelf's operations) and reads its output back.
//!
//! # Locating things
//! Everything is found through the program headers and the dynamic table: `PT_DYNAMIC`
//! gives the table, whose `DT_STRTAB`/`DT_SYMTAB`/`DT_VERSYM`/`DT_VERNEED`/`DT_VERDEF`/
//! `DT_HASH`/`DT_GNU_HASH` addresses are mapped to file offsets by the `PT_LOAD` segments.
//! Section headers are used only to count the symbols of a file with no hash table at all.
//! So stripped files and files edited by patchelf (which moves `.dynamic` and `.dynstr`
//! to the end of the file and leaves the section headers behind them) read the same way.
//!
//! # Why hand-written, not `object` or `goblin`
//! Measured on this project's needs (release build, libLLVM 190 MB with 39,117 dynamic
//! symbols, and libclang-cpp 56 MB; `object` 0.40 and `goblin` 0.10):
//! - Streaming with bounded memory decides it. `object::read::elf::ElfFile::parse` and
//!   `goblin::elf::Elf::parse` want the whole file as one slice (`object` also takes a
//!   `ReadCache`, which needs `Read + Seek`; an inflating zip stream is neither), and both
//!   go to the end of the file while parsing: given the first 16 MB of libclang-cpp,
//!   `object` fails ("Invalid ELF section header offset/size/alignment") and so does
//!   `goblin` ("bad offset"); `object`'s symbol versions (`VersionTable`) are found
//!   through the section headers, which sit at the end. Holding libLLVM whole to parse it
//!   took 393 MB of peak RSS. The reader here works over a `View` of which byte ranges
//!   are held, so one code path serves the whole-file parse and the [`ElfScanner`], which
//!   learns from each missing range what to keep and when to stop: libLLVM streamed in
//!   64 KiB chunks stops after 134 of 190 MB in 57 ms at 32 MB peak RSS (libclang-cpp:
//!   28 MB; librustc_driver: 80 of 146 MB read, 27 MB).
//! - Hostile input: every read is checked against the file length and the held ranges
//!   before any allocation (a table is only ever a slice of bytes already held), chains
//!   are bounded by their counts and by [`version_needs::MAX_RECORDS`], and offsets only
//!   move forward in 64-bit arithmetic, so nothing panics, loops or allocates beyond the
//!   input (a mutation property test and truncation at every offset check it).
//! - Speed: whole-file parse of libLLVM with every symbol name and version as owned
//!   values takes 9.4 ms, against 2.1 ms for `object` (which borrows the names and was
//!   not asked to build a report) and 16.7 ms for `goblin`: negligible next to inflating.
//! - wasm32: all three build for `wasm32-unknown-unknown`; this one adds no dependency.

pub mod dynamic;
pub mod error;
pub mod header;
pub mod note;
pub mod patch;
mod read;
mod resolve;
pub mod scan;
mod strings;
pub mod strip;
pub mod symbols;
pub mod version;
pub mod version_needs;

use serde::Serialize;

pub use error::ElfError;
pub use header::{linux_arch, ElfClass, Endian, FileType, Machine};
pub use note::IsaLevel;
pub use scan::{scan_at, scan_reader, ElfScanner, Outcome, Scan, StreamError};
pub use symbols::{Binding, DynamicSymbol, SymbolKind, SymbolVersionRef};
pub use version::SymbolVersion;
pub use version_needs::{VersionDef, VersionNeed, VersionRef};

use crate::wheel::Arch;

/// What an audit needs to know about one ELF file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElfInfo {
    /// 32- or 64-bit.
    pub class: ElfClass,
    /// Byte order.
    pub endian: Endian,
    /// `EI_OSABI` (0 System V, 3 GNU/Linux).
    pub os_abi: u8,
    /// Object file type.
    pub file_type: FileType,
    /// Target machine.
    pub machine: Machine,
    /// `e_flags` (ABI flags; for ARM the EABI version and float ABI).
    pub flags: u32,
    /// The Linux wheel architecture, when the file fits one (see [`linux_arch`]).
    pub arch: Option<Arch>,
    /// The x86 ISA level the file declares it needs (`.note.gnu.property`), if any.
    pub isa: Option<IsaLevel>,
    /// The program interpreter (`PT_INTERP`), for executables.
    pub interpreter: Option<String>,
    /// Whether the file has a dynamic section (`PT_DYNAMIC`); a static executable has not.
    pub dynamic: bool,
    /// `DT_SONAME`.
    pub soname: Option<String>,
    /// `DT_NEEDED`, in order.
    pub needed: Vec<String>,
    /// `DT_RPATH`, as written (`:`-separated).
    pub rpath: Option<String>,
    /// `DT_RUNPATH`, as written (`:`-separated).
    pub runpath: Option<String>,
    /// The versions required from each needed library (`DT_VERNEED`).
    pub version_needs: Vec<VersionNeed>,
    /// The versions this file defines (`DT_VERDEF`).
    pub version_defs: Vec<VersionDef>,
    /// The dynamic symbols, in table order without the null symbol (empty when
    /// [`Options::symbols`] is off).
    pub symbols: Vec<DynamicSymbol>,
}

impl ElfInfo {
    /// The directories of `DT_RPATH`, in order.
    pub fn rpath_dirs(&self) -> impl Iterator<Item = &str> {
        self.rpath.iter().flat_map(|p| p.split(':'))
    }

    /// The directories of `DT_RUNPATH`, in order.
    pub fn runpath_dirs(&self) -> impl Iterator<Item = &str> {
        self.runpath.iter().flat_map(|p| p.split(':'))
    }
}

/// What to read and how much memory to allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Read the dynamic symbols (on by default). Off, the scanner needs fewer bytes.
    pub symbols: bool,
    /// Of the defined (exported) symbols, keep only those whose name starts with one of
    /// these prefixes (`None`: keep all). Imports are always kept. A library such as
    /// torch's libtorch_cpu.so exports ~10^5 symbols an audit never reads.
    pub defined_prefixes: Option<&'static [&'static str]>,
    /// The largest string or symbol table to hold, in bytes (default 256 MiB; the largest
    /// real ones seen, tensorflow's and CUDA libraries', are a few tens of MiB, 82 MB at most).
    pub max_table: u64,
    /// Scanner only: how many bytes from the start of the file to keep before the dynamic
    /// table says which of them are needed (default 16 MiB). A file whose tables lie
    /// further in is read in a second pass.
    pub window: u64,
    /// Scanner only: how many of the bytes just fed to keep (default 2 MiB), for tables
    /// that turn out to be needed only once something later is read. Tools that rewrite
    /// a library (BOLT, patchelf) put the program headers or the dynamic table after the
    /// tables they point at, typically within a megabyte.
    pub trail: u64,
    /// Scanner only: a string table at least this large (default 1 MiB) that has not
    /// passed when the other tables are read is kept as the names they point at (of the
    /// exports, only those with a [`Options::defined_prefixes`] prefix), not whole:
    /// tensorflow's 82 MB `.dynstr` then costs a few MB. Without such prefixes (and with
    /// symbols read) every name is needed, and the table is kept whole.
    pub names_from: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            symbols: true,
            defined_prefixes: None,
            max_table: 256 << 20,
            window: 16 << 20,
            trail: 2 << 20,
            names_from: 1 << 20,
        }
    }
}

/// Reads a whole ELF file held in memory.
pub fn parse(bytes: &[u8]) -> Result<ElfInfo, ElfError> {
    parse_with(
        bytes,
        &Options {
            max_table: u64::MAX,
            ..Options::default()
        },
    )
}

/// Reads a whole ELF file held in memory, with options.
pub fn parse_with(bytes: &[u8], opts: &Options) -> Result<ElfInfo, ElfError> {
    match resolve::resolve(bytes, opts)? {
        resolve::Resolution::Done(info) => Ok(*info),
        // A slice holds every byte of the file, so no read can miss.
        resolve::Resolution::Pending(_) => Err(ElfError::OutOfBounds { what: "file" }),
    }
}

#[cfg(test)]
mod tests;
