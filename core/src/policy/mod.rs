//! manylinux (PEP 600) and musllinux (PEP 656) policies as data, and the evaluation of a
//! wheel's ELF files against them, agreeing with auditwheel.
//!
//! The policies are auditwheel's own policy files, embedded verbatim ([`data`]; refreshed
//! by `scripts/refresh-policies`; auditwheel version in [`AUDITWHEEL_VERSION`]). The
//! evaluation ([`analyze()`]) is auditwheel's `analyze_wheel_abi`, step for step, quirks
//! included, so a verdict here is the verdict of `auditwheel show` / `repair`;
//! `AUDITWHEEL.md` beside this file states that algorithm in prose and lists the quirks.
//!
//! Why mirror rather than redesign: users compare our verdict with auditwheel's, and a
//! wheel repaired here must be accepted by anyone re-checking it with auditwheel. Where
//! auditwheel consults the host (the libc of the running system, its musl version), the
//! caller says what to assume ([`AnalyzeOptions`]).
//!
//! The pieces:
//! - [`Policy`], [`PolicySet`]: the policies for one libc and architecture, strictest
//!   first, looked up by name or alias ([`PolicySet::by_name`]);
//! - [`ElfFacts`], [`DependencyTree`], [`WheelElf`]: what an ELF reader and a library
//!   resolver ([`LibraryResolver`]) supply, one per ELF member of the wheel;
//! - [`analyze()`] → [`AbiReport`]: auditwheel's tags (`overall`, `symbol`, …), the
//!   libraries each policy would bundle, and for every policy the [`Reason`]s it is missed;
//! - [`ShowJson`]: the same as `auditwheel show --json` prints it (mapping in [`show`]);
//!   [`AbiReport::repair_target`]: the tags `repair --plat` writes, or why it refuses.
//!
//! Nothing here reads a file or prints: inputs are values, outputs are `serde` values.

pub mod analyze;
pub mod data;
mod explain;
pub mod external;
pub mod input;
pub mod name;
pub mod options;
pub mod report;
pub mod set;
pub mod show;
pub mod show_text;
pub mod target;
pub mod tree;

#[cfg(test)]
mod tests;

pub use analyze::{analyze, AnalyzeError, WheelElf};
pub use data::{AUDITWHEEL_VERSION, COPIED_ON};
pub use external::ExternalRefs;
pub use input::{
    detect_libc, DynamicSymbol, ElfFacts, IsaLevel, LibcConflict, PythonExtension, SymbolBinding,
    SymbolKind, VersionNeed,
};
pub use name::{Libc, NameError, PolicyName, SymbolVersion};
pub use options::{
    audit_policy, tags_arch, tags_libc, AnalyzeOptions, HostLibc, PlatRequest, RequestError,
    TagArchError, TagLibcError,
};
pub use report::{AbiReport, ElfRef, IgnoredElf, PolicyRefs, PolicyVerdict, Reason, VersionUser};
pub use set::{MuslPolicies, Policy, PolicyError, PolicySet};
pub use show::ShowJson;
pub use show_text::show_text;
pub use target::{RepairRefusal, RepairTarget};
pub use tree::{
    DependencyTree, LibraryLocation, LibraryResolver, ResolveRequest, Resolved, TreeLibrary,
};
