//! The result of a policy evaluation ([`AbiReport`]): every tag auditwheel's
//! `WheelAbIInfo` holds, and, for every policy, whether the wheel meets it and each
//! reason it does not ([`PolicyVerdict`], [`Reason`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::external::ExternalRefs;
use super::input::IsaLevel;
use super::name::{Libc, SymbolVersion};
use super::set::{Policy, PolicySet};
use crate::wheel::tags::{Arch, PlatformTag};

/// An ELF file a reason is about: a wheel member or a library outside the wheel.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ElfRef {
    /// A member of the wheel, by member path.
    Member {
        /// The member path.
        path: String,
    },
    /// A library outside the wheel.
    Library {
        /// Its DT_NEEDED name.
        soname: String,
        /// Its real path.
        path: String,
    },
}

impl std::fmt::Display for ElfRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Member { path } => f.write_str(path),
            Self::Library { soname, path } => write!(f, "{soname} ({path})"),
        }
    }
}

/// Who needs a symbol version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionUser {
    /// The file with the `.gnu.version_r` entry.
    pub elf: ElfRef,
    /// The library the version is needed from (`libc.so.6`).
    pub library: String,
    /// The imported symbols bound to that version (`fcntl64`), when known.
    pub symbols: Vec<String>,
}

/// Why a wheel does not meet a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A symbol version the policy governs and does not allow (too new, or private).
    SymbolVersion {
        /// The version (`GLIBC_2.28`).
        version: SymbolVersion,
        /// The files needing it: wheel members, and libraries that would be bundled.
        users: Vec<VersionUser>,
    },
    /// A library the policy does not allow and the wheel does not carry.
    ExternalLibrary {
        /// Its DT_NEEDED name.
        soname: String,
        /// Where it was found; `None` when it was not.
        path: Option<String>,
        /// The wheel members whose trees reach it.
        members: Vec<String>,
        /// The libraries that name it in their DT_NEEDED, when not a member directly.
        via: Vec<String>,
        /// Whether it counts against the tag in this evaluation: auditwheel `show` counts
        /// it (`allow_graft` off); `repair` does not, it bundles the library instead.
        blocking: bool,
    },
    /// Symbols the policy blacklists for a library the wheel links.
    BlacklistedSymbols {
        /// The library (`libz.so.1`).
        library: String,
        /// The symbols imported.
        symbols: Vec<String>,
        /// The wheel members that import them.
        members: Vec<String>,
    },
    /// A file that needs an instruction set beyond the architecture's baseline.
    IsaExtension {
        /// The file.
        elf: ElfRef,
        /// The level it needs.
        isa: IsaLevel,
    },
    /// Python 2 extensions built for a narrow-unicode (UCS2) interpreter.
    Ucs2 {
        /// The members importing `PyUnicodeUCS2_*`.
        members: Vec<String>,
    },
    /// Extensions importing `PyFPE_jbuf` (a `--with-fpectl` interpreter, PEP 513).
    PyFpeJbuf {
        /// The members.
        members: Vec<String>,
    },
    /// `repair --plat`: more libraries to bundle than the requested policy needs.
    TooManyLibraries {
        /// Libraries this policy would bundle.
        libraries: usize,
        /// Libraries the requested policy bundles.
        allowed: usize,
    },
}

/// A wheel member that auditwheel leaves out of the evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum IgnoredElf {
    /// An ELF machine auditwheel does not know (or a soft-float / old-EABI ARM file).
    UnknownArch {
        /// The member path.
        path: String,
    },
    /// Another architecture than the wheel's (from its name, or its first ELF file).
    WrongArch {
        /// The member path.
        path: String,
        /// The file's architecture.
        found: Arch,
        /// The wheel's.
        expected: Arch,
    },
    /// Another libc than the wheel's.
    WrongLibc {
        /// The member path.
        path: String,
        /// The file's libc.
        found: Libc,
        /// The wheel's.
        expected: Libc,
    },
}

/// What one policy asks of a wheel or of one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRefs {
    /// The policy.
    pub policy: PlatformTag,
    /// Libraries to bundle and blacklisted symbols.
    #[serde(flatten)]
    pub refs: ExternalRefs,
}

/// One policy's verdict on a wheel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyVerdict {
    /// The policy (`manylinux_2_17_x86_64`).
    pub policy: PlatformTag,
    /// Its legacy names (`manylinux2014_x86_64`).
    pub aliases: Vec<PlatformTag>,
    /// Its priority (higher is stricter).
    pub priority: u32,
    /// Whether the wheel is consistent with it (it is the overall tag or looser).
    pub satisfied: bool,
    /// What stands in the way (for a satisfied policy, only non-blocking libraries).
    pub reasons: Vec<Reason>,
}

/// The outcome of [`analyze`](super::analyze()), auditwheel's `WheelAbIInfo`.
#[derive(Debug, Clone, Serialize)]
pub struct AbiReport {
    /// The libc the wheel was evaluated for.
    pub libc: Libc,
    /// Whether nothing in the wheel told the libc (no file links one: static or
    /// libc-free binaries), so the host's was assumed, as auditwheel does.
    #[serde(skip)]
    pub libc_assumed: bool,
    /// The architecture (baseline) the wheel was evaluated for.
    pub arch: Arch,
    /// The best policy the wheel meets: auditwheel's `overall_policy`, the `overall_tag`.
    pub overall: PlatformTag,
    /// The best policy its symbol versions allow (`sym_policy`, `sym_tag`).
    pub symbol: PlatformTag,
    /// The best policy without bundling anything (`ref_policy`).
    pub reference: PlatformTag,
    /// The best policy its blacklisted symbols allow (`blacklist_policy`).
    pub blacklist: PlatformTag,
    /// The best policy its ISA levels allow (`machine_policy`).
    pub machine: PlatformTag,
    /// `linux` when a Python 2 extension uses UCS2, else the strictest (`ucs_policy`).
    pub ucs: PlatformTag,
    /// `linux` when an extension uses `PyFPE_jbuf`, else the strictest (`pyfpe_policy`).
    pub pyfpe: PlatformTag,
    /// The best policy bundling no more than the requested one (`graft_policy`).
    pub graft: PlatformTag,
    /// Versions needed, by library: the wheel's own plus those of the libraries the
    /// `symbol` policy would bundle (auditwheel's `versioned_symbols`).
    pub versioned_symbols: BTreeMap<String, BTreeSet<String>>,
    /// What each policy asks of the whole wheel, strictest first (`external_refs`).
    pub external_refs: Vec<PolicyRefs>,
    /// What each policy asks of each ELF member, for `repair` (`full_external_refs`).
    pub member_refs: BTreeMap<String, Vec<PolicyRefs>>,
    /// The members evaluated as roots: extensions, and other ELF files no member needs.
    pub roots: Vec<String>,
    /// The members that are Python extension modules.
    pub extensions: Vec<String>,
    /// Members left out, and why.
    pub ignored: Vec<IgnoredElf>,
    /// Every policy's verdict, strictest first, `linux` last.
    pub verdicts: Vec<PolicyVerdict>,
    /// The policies evaluated.
    #[serde(skip)]
    pub policies: PolicySet,
}

impl AbiReport {
    /// The policy a tag of this report names.
    pub fn policy(&self, tag: &PlatformTag) -> Option<&Policy> {
        self.policies.get(tag)
    }

    /// The overall policy.
    pub fn overall_policy(&self) -> &Policy {
        self.policy(&self.overall)
            .unwrap_or_else(|| self.policies.linux())
    }

    /// What a policy asks of the whole wheel, by any of its names.
    pub fn refs(&self, tag: &PlatformTag) -> Option<&ExternalRefs> {
        let own = self.policy(tag)?.tag();
        self.external_refs
            .iter()
            .find(|r| r.policy == own)
            .map(|r| &r.refs)
    }

    /// The verdict for a policy, by any of its names (`manylinux2014_x86_64`).
    pub fn verdict(&self, tag: &PlatformTag) -> Option<&PolicyVerdict> {
        let policy = self.policy(tag)?;
        let own = policy.tag();
        self.verdicts.iter().find(|v| v.policy == own)
    }

    /// Whether the wheel meets the policy a tag names; `None` when no policy of this
    /// evaluation has that name (another libc or architecture, or an unknown version).
    pub fn satisfies(&self, tag: &PlatformTag) -> Option<bool> {
        self.verdict(tag).map(|v| v.satisfied)
    }
}
