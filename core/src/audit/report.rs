//! The report of `truewheel audit`: a verdict first (the best policy the wheel meets, as
//! auditwheel's `overall_tag`), then findings — each reason once, with the loosest policy
//! it rules out, most important first — then the ELF members, then the full evaluation.
//! Schema version [`AUDIT_SCHEMA`]; `show --json` uses auditwheel's own schema instead
//! (`policy::show`).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::findings::{findings, Finding};
use crate::binary::elf_machine_name;
use crate::elf::ElfInfo;
use crate::policy::report::{AbiReport, IgnoredElf};
use crate::policy::{Libc, MuslPolicies, PolicySet};
use crate::source::ReadAt;
use crate::wheel::{PlatformTag, Wheel};

/// Version of the JSON schema of [`AuditReport`].
pub const AUDIT_SCHEMA: u32 = 1;

/// Why a wheel could not be audited.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// An ELF member is malformed.
    #[error("ELF member {member} is malformed: {reason}")]
    Elf {
        /// The member.
        member: String,
        /// What is wrong.
        reason: String,
    },
    /// An ELF member's tables are larger than the limit on what is held in memory.
    #[error("ELF member {member}: {reason}")]
    TooLarge {
        /// The member.
        member: String,
        /// Which table, its size and the limit.
        reason: String,
    },
    /// A member could not be read.
    #[error(transparent)]
    Archive(crate::wheel::ArchiveError),
    /// The policies cannot be evaluated (as auditwheel fails).
    #[error("{0}")]
    Analyze(crate::policy::AnalyzeError),
    /// The platform tags name no C library the policies can be evaluated for.
    #[error("{0}")]
    Tags(#[from] crate::policy::options::TagLibcError),
}

/// One ELF member, summarized.
#[derive(Debug, Clone, Serialize)]
pub struct ElfSummary {
    /// Member path.
    pub path: String,
    /// `ELF 64-bit LSB shared object, x86-64`.
    pub summary: String,
    /// The Linux architecture, if known.
    pub arch: Option<String>,
    /// `DT_SONAME`.
    pub soname: Option<String>,
    /// `DT_NEEDED`.
    pub needed: Vec<String>,
    /// `DT_RPATH`.
    pub rpath: Option<String>,
    /// `DT_RUNPATH`.
    pub runpath: Option<String>,
    /// The x86 ISA level it declares, if any.
    pub isa: Option<String>,
    /// Symbol versions needed, per library.
    pub version_needs: BTreeMap<String, Vec<String>>,
}

/// Everything `audit` reports for one wheel.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Schema version.
    pub schema: u32,
    /// The wheel's file name.
    pub wheel: String,
    /// No ELF member: nothing to check.
    pub pure: bool,
    /// No ELF member, and every platform tag names another system (`win_amd64`,
    /// `macosx_11_0_arm64`): no Linux policy applies, and none is met (auditwheel calls
    /// it no platform wheel).
    pub other_platform: bool,
    /// The platform tags of the file name.
    pub platform_tags: Vec<PlatformTag>,
    /// The best policy met without bundling anything (auditwheel's `overall_tag`).
    pub overall_tag: Option<PlatformTag>,
    /// The best policy the symbol versions allow (auditwheel's `sym_tag`).
    pub symbol_tag: Option<PlatformTag>,
    /// Reasons, most important first.
    pub findings: Vec<Finding>,
    /// The ELF members.
    pub elfs: Vec<ElfSummary>,
    /// The full evaluation.
    pub abi: Option<AbiReport>,
    /// Whether the wheel meets each Linux platform tag of its file name, or only the
    /// policy asked for once [`judge`](Self::judge) is given one (what the exit status
    /// reflects): by `abi`, or, for a tag it has no policy for, by an evaluation that
    /// has one (every musllinux policy; the other C library's family when no file links
    /// one).
    pub tag_verdicts: BTreeMap<String, bool>,
    /// Those other evaluations.
    #[serde(skip)]
    pub also: Vec<AbiReport>,
    /// Whether an ELF file is for Linux (OS ABI System V or GNU): a FreeBSD wheel's are
    /// not, and its own tags are not a mistake.
    #[serde(skip)]
    linux_files: bool,
    /// In a wheel with no ELF file but a Linux or Android platform tag, its first binary
    /// for another system (a Mach-O, PE or WebAssembly file): a mis-tagged build, which
    /// fails those tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_binary: Option<ForeignBinary>,
}

/// A binary of a wheel that Linux does not load, named with what it is.
#[derive(Debug, Clone, Serialize)]
pub struct ForeignBinary {
    /// The member.
    pub path: String,
    /// What it is, as `inspect` says it (`Mach-O 64-bit, arm64`).
    pub summary: String,
}

/// The first member of a wheel with no ELF file that is a binary of another system.
fn foreign_binary<S: ReadAt>(wheel: &Wheel<S>) -> Option<ForeignBinary> {
    let archive = &wheel.archive;
    archive.members().iter().find_map(|m| {
        let kind = crate::binary::peek(archive, m)?;
        (!matches!(kind, crate::binary::BinaryKind::Elf { .. })).then(|| ForeignBinary {
            path: m.name.clone(),
            summary: kind.to_string(),
        })
    })
}

/// Whether platform tags name only other systems than Linux (none is `any` or Linux's).
fn is_other_platform(tags: &[PlatformTag]) -> bool {
    !tags.is_empty()
        && tags
            .iter()
            .all(|t| *t != PlatformTag::Any && t.linux_arch().is_none())
}

/// The tags of a set's policies but `linux`, as a list (`manylinux_2_5_x86_64, …`).
fn listed(policies: &PolicySet) -> String {
    let tags: Vec<String> = policies
        .iter()
        .filter(|p| !p.is_linux())
        .map(|p| p.tag().to_string())
        .collect();
    tags.join(", ")
}

/// The C library a Linux platform tag's family stands for (`None` for `linux_*` and
/// tags of other systems).
pub fn tag_libc(tag: &PlatformTag) -> Option<Libc> {
    match tag {
        PlatformTag::Manylinux { .. } | PlatformTag::LegacyManylinux { .. } => Some(Libc::Glibc),
        PlatformTag::Musllinux { .. } => Some(Libc::Musl),
        PlatformTag::Android { .. } => Some(Libc::Android),
        _ => None,
    }
}

/// Why a manylinux or musllinux tag of a wheel with no ELF file cannot be met when
/// it names no policy (`manylinux_2_3_x86_64`, which pip installs nowhere: its tags
/// for x86_64 start at 2.5): a pure wheel meets every policy, not a name of none.
fn pure_no_policy(tag: &PlatformTag) -> Option<String> {
    let arch = tag.linux_arch()?;
    let family = match tag_libc(tag)? {
        Libc::Glibc => PolicySet::manylinux(arch),
        Libc::Musl => PolicySet::musllinux(arch, MuslPolicies::All),
        Libc::Android => return None,
    }
    .ok()?;
    if family.get(&tag.to_pep600()).is_some() {
        return None;
    }
    Some(format!(
        "{tag}: there is no such policy; for {arch} the {} policies are {}",
        family.libc().tag_prefix(),
        listed(&family)
    ))
}

/// The API level an Android evaluation judged at (its one `android` policy's).
fn android_level(abi: &AbiReport) -> Option<u32> {
    abi.policies.iter().find_map(|p| match p.name {
        crate::policy::PolicyName::Android(level) => Some(level),
        _ => None,
    })
}

fn summary(path: &str, info: &ElfInfo) -> ElfSummary {
    let kind = crate::binary::BinaryKind::Elf {
        bits: if info.class == crate::elf::ElfClass::Elf64 {
            64
        } else {
            32
        },
        endian: if info.endian == crate::elf::Endian::Little {
            "little"
        } else {
            "big"
        },
        kind: match info.file_type {
            crate::elf::FileType::SharedObject => "shared object",
            crate::elf::FileType::Executable => "executable",
            crate::elf::FileType::Relocatable => "relocatable",
            _ => "other",
        },
        machine: elf_machine_name(info.machine.raw()),
    };
    ElfSummary {
        path: path.to_owned(),
        summary: kind.to_string(),
        arch: info.arch.as_ref().map(ToString::to_string),
        soname: info.soname.clone(),
        needed: info.needed.clone(),
        rpath: info.rpath.clone(),
        runpath: info.runpath.clone(),
        isa: info.isa.map(|i| format!("{i:?}")),
        version_needs: info
            .version_needs
            .iter()
            .map(|n| {
                (
                    n.file.clone(),
                    n.versions.iter().map(|v| v.name.to_string()).collect(),
                )
            })
            .collect(),
    }
}

impl AuditReport {
    /// Builds the report of a wheel from its ELF members and their evaluation.
    pub fn new<S: ReadAt>(
        wheel: &Wheel<S>,
        elfs: &HashMap<String, ElfInfo>,
        abi: Option<AbiReport>,
        also: Vec<AbiReport>,
    ) -> Self {
        let mut paths: Vec<&String> = elfs.keys().collect();
        paths.sort();
        let mut report = Self {
            schema: AUDIT_SCHEMA,
            wheel: wheel.file_name(),
            pure: abi.is_none(),
            other_platform: abi.is_none() && is_other_platform(&wheel.filename.tags.platform),
            platform_tags: wheel.filename.tags.platform.clone(),
            overall_tag: abi.as_ref().map(|a| a.overall.clone()),
            symbol_tag: abi.as_ref().map(|a| a.symbol.clone()),
            findings: abi.as_ref().map(findings).unwrap_or_default(),
            elfs: paths.into_iter().map(|p| summary(p, &elfs[p])).collect(),
            abi,
            tag_verdicts: BTreeMap::new(),
            also,
            // (ELFOSABI_NONE, the System V ABI most Linux files carry, and ELFOSABI_GNU.)
            linux_files: elfs.values().any(|e| matches!(e.os_abi, 0 | 3)),
            // (Every member is peeked, so only where it can change a verdict.)
            foreign_binary: None,
        };
        if report.abi.is_none()
            && report
                .platform_tags
                .iter()
                .any(|t| t.policy_arch().is_some())
        {
            report.foreign_binary = foreign_binary(wheel);
        }
        report.tag_verdicts = report
            .judged_tags()
            .map(|t| (t.to_string(), report.meets(t)))
            .collect();
        report
    }

    /// Whether the wheel's Linux files are all it holds for tags of other systems only
    /// (`win_amd64`, `macosx_*`): a mis-tagged build, which those systems cannot load.
    fn foreign_only(&self) -> bool {
        self.abi.is_some()
            && self.linux_files
            && !self.platform_tags.is_empty()
            && self
                .platform_tags
                .iter()
                .all(|t| *t != PlatformTag::Any && t.policy_arch().is_none())
    }

    /// The tags of the name that are judged: the Linux and Android ones, or, for Linux
    /// files in a wheel tagged only for other systems, those (which fail).
    fn judged_tags(&self) -> impl Iterator<Item = &PlatformTag> {
        let foreign = self.foreign_only();
        self.platform_tags
            .iter()
            .filter(move |t| t.policy_arch().is_some() || foreign)
    }

    /// Whether the wheel meets a policy (a pure wheel meets every one; a tag the
    /// evaluation does not know, such as another architecture's, is not met).
    pub fn meets(&self, tag: &PlatformTag) -> bool {
        match &self.abi {
            // (Not met: a Linux tag of a wheel for another system, or of one whose
            // binaries are for another.)
            None => {
                let other_system = self.other_platform && tag.linux_arch().is_some();
                let mis_tagged = self.foreign_binary.is_some() && tag.policy_arch().is_some();
                !(other_system || mis_tagged || self.no_policy(tag).is_some())
            }
            Some(abi) => {
                if matches!(tag, PlatformTag::Linux(_)) {
                    return tag.linux_arch().is_some_and(|a| a.same_machine(&abi.arch));
                }
                // An Android wheel is judged at its own API level; a higher level allows
                // every library a lower one does, so it is met when that one is.
                if let (PlatformTag::Android { api, .. }, Some(own)) = (tag, android_level(abi)) {
                    if *api >= own && tag.android_arch().as_ref() == Some(&abi.arch) {
                        let own_tag = crate::policy::PolicyName::Android(own).tag(&abi.arch);
                        return abi.satisfies(&own_tag).unwrap_or(false);
                    }
                }
                let tag = tag.to_pep600();
                std::iter::once(abi)
                    .chain(&self.also)
                    .find_map(|a| a.satisfies(&tag))
                    .unwrap_or(false)
            }
        }
    }

    /// Judges the wheel by `plat` (`--plat`) alone: [`tag_verdicts`](Self::tag_verdicts)
    /// then holds its verdict only, as the exit status reflects it.
    pub fn judge(&mut self, plat: &PlatformTag) {
        self.tag_verdicts = BTreeMap::from([(plat.to_string(), self.meets(plat))]);
    }

    /// Whether every tag of `judged` was judged by another evaluation than the main one
    /// ([`judged_apart`](Self::judged_apart)): the notes then say the verdict, and the
    /// findings its cause.
    pub fn all_judged_apart(&self, judged: &[PlatformTag]) -> bool {
        judged.iter().all(|t| self.judged_apart(t).is_some())
    }

    /// Why a tag the main evaluation has no policy for was judged by another, in one
    /// sentence, when it was (see [`AuditReport::tag_verdicts`]).
    pub fn judged_apart(&self, tag: &PlatformTag) -> Option<String> {
        let abi = self.abi.as_ref()?;
        let pep600 = tag.to_pep600();
        if abi.satisfies(&pep600).is_some() {
            return None;
        }
        let other = self.also.iter().find(|a| a.satisfies(&pep600).is_some())?;
        let verdict = if other.satisfies(&pep600) == Some(true) {
            "meets"
        } else {
            "fails"
        };
        Some(if other.libc == abi.libc {
            format!(
                "{verdict} {tag}, judged by every {} policy (auditwheel, here, evaluates {} only)",
                other.libc.tag_prefix(),
                listed(&abi.policies)
            )
        } else {
            format!(
                "{verdict} {tag}, judged by the {} policies (no file links a C library)",
                other.libc.tag_prefix()
            )
        })
    }

    /// Why a tag of the other C library's family cannot be met, in one sentence: the
    /// policies evaluated are those of the C library the files link (or, when none links
    /// one and no evaluation of the tag's family was made, the host's).
    pub fn other_family(&self, tag: &PlatformTag) -> Option<String> {
        let abi = self.abi.as_ref()?;
        let wanted = tag_libc(tag)?;
        if wanted == abi.libc || self.also.iter().any(|o| o.libc == wanted) {
            return None;
        }
        Some(if abi.libc == Libc::Android {
            format!(
                "{tag}: the wheel is for Android, so no {} policy applies",
                wanted.tag_prefix()
            )
        } else if abi.libc_assumed {
            format!(
                "{tag}: no file links a C library, and the {} policies could not be evaluated",
                wanted.tag_prefix()
            )
        } else {
            format!(
                "{tag}: the wheel's files link {}, so no {} policy applies",
                abi.libc,
                wanted.tag_prefix()
            )
        })
    }

    /// Why a tag of another system cannot be met by a wheel of Linux files, in one
    /// sentence.
    pub fn other_system(&self, tag: &PlatformTag) -> Option<String> {
        let abi = self.abi.as_ref()?;
        // (Beside a Linux tag, another system's may be met by other files of the wheel.)
        if !self.foreign_only() || *tag == PlatformTag::Any || tag.policy_arch().is_some() {
            return None;
        }
        let first = self.elfs.first().map_or("", |e| e.path.as_str());
        Some(format!(
            "{tag}: the wheel's binaries are ELF files for Linux ({first}, {}), which this system does not load; tag it for Linux or build it for {tag}",
            abi.arch
        ))
    }

    /// Why the Linux tags among `judged` of a wheel with no ELF file cannot be met, in one
    /// sentence: its binaries are for another system, or its tags name only others.
    pub fn no_elf_note(&self, judged: &[PlatformTag]) -> Option<String> {
        let linux: Vec<PlatformTag> = judged
            .iter()
            .filter(|t| t.policy_arch().is_some())
            .cloned()
            .collect();
        if linux.is_empty() {
            return None;
        }
        let tags = PlatformTag::dotted(&linux);
        if let Some(f) = &self.foreign_binary {
            return Some(format!(
                "{tags}: the wheel holds no ELF file for Linux to load, only a binary for another system, {} ({}); build it for Linux, or tag it for the system it is for",
                f.path, f.summary
            ));
        }
        self.other_platform.then(|| {
            format!(
                "{tags}: the wheel holds no ELF file, and its tags name another system ({})",
                PlatformTag::dotted(&self.platform_tags)
            )
        })
    }

    /// Why a tag of the files' own architecture and C library cannot be met when no
    /// policy of that name exists (`manylinux_2_17_riscv64`: riscv64's start at 2.31), or,
    /// for an Android wheel, when the tag's API level is below the one it was built for.
    pub fn no_policy(&self, tag: &PlatformTag) -> Option<String> {
        let Some(abi) = self.abi.as_ref() else {
            return pure_no_policy(tag);
        };
        let arch = tag.policy_arch()?;
        if !arch.same_machine(&abi.arch) || tag_libc(tag)? != abi.libc {
            return None;
        }
        let pep600 = tag.to_pep600();
        if std::iter::once(abi)
            .chain(&self.also)
            .any(|a| a.satisfies(&pep600).is_some())
        {
            return None;
        }
        if let (PlatformTag::Android { api, .. }, Some(own)) = (tag, android_level(abi)) {
            return (*api < own).then(|| {
                format!(
                    "{tag}: the wheel is built for Android API level {own}, which is above {api}"
                )
            });
        }
        // Every policy of the family, not only those evaluated (auditwheel evaluates
        // one musllinux policy).
        let family = match abi.libc {
            Libc::Musl => PolicySet::musllinux(&abi.arch, MuslPolicies::All),
            _ => PolicySet::manylinux(&abi.arch),
        };
        Some(format!(
            "{tag}: there is no such policy; for {} the {} policies are {}",
            abi.arch,
            abi.libc.tag_prefix(),
            family.as_ref().map_or_else(|_| String::new(), listed)
        ))
    }

    /// Why a Linux tag of another architecture than the files' cannot be met, in one
    /// sentence.
    pub fn other_arch(&self, tag: &PlatformTag) -> Option<String> {
        let abi = self.abi.as_ref()?;
        let arch = tag.policy_arch()?;
        (!arch.same_machine(&abi.arch)).then(|| {
            format!(
                "{tag}: the wheel's files are built for {}, not {arch}",
                abi.arch
            )
        })
    }

    /// The ELF files no policy judged (auditwheel leaves them out too), one sentence each,
    /// the first three and a count of the rest: a stray file of another architecture or
    /// C library meets a wheel's tags without a word otherwise.
    pub fn ignored_notes(&self) -> Vec<String> {
        const SHOWN: usize = 3;
        let Some(abi) = &self.abi else {
            return Vec::new();
        };
        let mut notes: Vec<String> = abi
            .ignored
            .iter()
            .take(SHOWN)
            .map(|i| match i {
                IgnoredElf::WrongArch {
                    path,
                    found,
                    expected,
                } => format!(
                    "{path} is built for {found}, not {expected}: no policy judges it (auditwheel leaves it out too)"
                ),
                IgnoredElf::WrongLibc {
                    path,
                    found,
                    expected,
                } => format!(
                    "{path} links {found}, not {expected}: no policy judges it (auditwheel leaves it out too)"
                ),
                IgnoredElf::UnknownArch { path } => format!(
                    "{path} is for a machine auditwheel does not know: no policy judges it"
                ),
            })
            .collect();
        if abi.ignored.len() > SHOWN {
            notes.push(format!(
                "and {} more ELF files no policy judges",
                abi.ignored.len() - SHOWN
            ));
        }
        notes
    }

    /// What explains a verdict on the tags `judged` besides the findings, one sentence
    /// each: when it is a fail, why a tag cannot be met (no ELF file for Linux, the other
    /// C library's family, another architecture, no such policy, another system); and
    /// which tags another evaluation judged, and the ELF files no policy judged.
    pub fn notes(&self, judged: &[PlatformTag], pass: bool) -> Vec<String> {
        let mut notes = Vec::new();
        if !pass {
            notes.extend(self.no_elf_note(judged));
            notes.extend(judged.iter().filter_map(|t| self.other_family(t)));
            notes.extend(judged.iter().filter_map(|t| self.other_arch(t)));
            notes.extend(judged.iter().filter_map(|t| self.no_policy(t)));
            notes.extend(judged.iter().filter_map(|t| self.other_system(t)));
        }
        notes.extend(judged.iter().filter_map(|t| self.judged_apart(t)));
        notes.extend(self.ignored_notes());
        notes
    }

    /// Whether the wheel meets every Linux (or Android) platform tag its file name
    /// claims; Linux files in a wheel tagged only for other systems meet none of them.
    pub fn meets_own_tags(&self) -> bool {
        self.judged_tags().all(|t| self.meets(t))
    }
}
