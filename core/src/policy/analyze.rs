//! The evaluation itself: auditwheel's `get_wheel_elfdata` and `analyze_wheel_abi`
//! (`wheel_abi.py`), step by step, on typed inputs ([`WheelElf`]); `AUDITWHEEL.md` in
//! this folder is the prose spec. Then, beyond auditwheel, the reasons behind every
//! policy the wheel misses ([`Reason`](super::Reason)).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::explain::{Explain, IsaFinding, VersionSource};
use super::external::{external_references, fixup_trees, merge, ExternalRefs};
use super::input::{
    detect_libc, file_name, ElfFacts, IsaLevel, LibcConflict, PythonExtension, SymbolKind,
};
use super::name::{Libc, SymbolVersion};
use super::options::AnalyzeOptions;
use super::report::{AbiReport, ElfRef, IgnoredElf, PolicyRefs};
use super::set::{PolicyError, PolicySet};
use super::tree::{DependencyTree, LibraryLocation, TreeLibrary};
use crate::wheel::tags::Arch;

/// One ELF file of the wheel, with its dependency tree.
///
/// Give every member that is an ELF file, in the order of the wheel's RECORD (auditwheel
/// walks RECORD; the order decides which file sets the architecture and libc when the
/// wheel's name does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelElf {
    /// The member path (`demo/_core.cpython-311-x86_64-linux-gnu.so`).
    pub path: String,
    /// What the ELF reader found in it (shared with the resolver, which hands the same
    /// facts to every tree that needs this file).
    pub facts: Arc<ElfFacts>,
    /// Its dependency tree ([`DependencyTree::build`]).
    pub tree: DependencyTree,
}

/// Why a wheel could not be evaluated (auditwheel fails the same way).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyzeError {
    /// ELF files under a `purelib` folder: the wheel must be platlib to be repaired.
    #[error("shared libraries are in the purelib folder ({}); a platform wheel keeps them in platlib", .0.join(", "))]
    SharedLibraryInPurelib(Vec<String>),
    /// No ELF file of a usable architecture.
    #[error("{}", not_platform_message(.arch.as_ref(), .ignored))]
    NotPlatformWheel {
        /// The architecture looked for, when known.
        arch: Option<Arch>,
        /// The files of other or unknown architectures.
        ignored: Vec<String>,
    },
    /// The policy a repair asked for is of another C library than the wheel's files.
    #[error("{member} links {found}, so no {requested} policy can apply to this wheel")]
    RequestedLibc {
        /// The first file of the other C library.
        member: String,
        /// Its C library.
        found: Libc,
        /// The requested policy's.
        requested: Libc,
    },
    /// A member whose dependencies mix two C libraries.
    #[error("{member}: {source}")]
    LibcConflict {
        /// The member path.
        member: String,
        /// What conflicts.
        source: LibcConflict,
    },
    /// A Python extension met before anything told which libc the wheel uses.
    #[error("couldn't detect libc for python extension {member}: it links neither glibc nor musl, and no tag of the wheel names its C library (an Android build is tagged android_<level>_<abi>)")]
    NoLibcForExtension {
        /// The member path.
        member: String,
    },
    /// An x86-64 ISA property with bits auditwheel does not know.
    #[error("{elf} declares an x86_64 ISA level auditwheel does not know")]
    UnknownIsa {
        /// The file.
        elf: ElfRef,
    },
    /// No policies for this libc and architecture.
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

fn not_platform_message(arch: Option<&Arch>, ignored: &[String]) -> String {
    match arch {
        Some(arch) if !ignored.is_empty() => format!(
            "Invalid binary wheel: no ELF executable or shared library file (including \
             compiled Python C extension) with a '{arch}' architecture found. The following \
             ELF files were found:\n\t{}\n",
            ignored.join("\n\t")
        ),
        _ => "This does not look like a platform wheel, no ELF executable or shared library \
              file (including compiled Python C extension) found in the wheel archive"
            .to_owned(),
    }
}

pub(super) type Versions = BTreeMap<String, BTreeSet<String>>;

fn add_needs(into: &mut Versions, needs: &[super::input::VersionNeed]) {
    for need in needs.iter().filter(|n| !n.is_loader()) {
        into.entry(need.file.clone())
            .or_default()
            .extend(need.versions.iter().cloned());
    }
}

pub(super) fn all_versions(v: &Versions) -> Vec<SymbolVersion> {
    v.values()
        .flatten()
        .map(|s| SymbolVersion::parse(s))
        .collect()
}

/// Evaluates a wheel's ELF files against the manylinux/musllinux policies, as
/// auditwheel's `analyze_wheel_abi` does, and explains every policy it misses.
pub fn analyze(elfs: &[WheelElf], options: &AnalyzeOptions) -> Result<AbiReport, AnalyzeError> {
    // ---- get_wheel_elfdata ------------------------------------------------------------
    let mut libc = options.libc;
    let mut arch = options.arch.clone();
    let mut policies: Option<PolicySet> = None;
    let mut purelib: Vec<String> = Vec::new();
    let mut invalid_machine: Vec<String> = Vec::new();
    let mut ignored: Vec<IgnoredElf> = Vec::new();
    let mut platform_wheel = false;
    let mut versioned: Versions = BTreeMap::new();
    let mut sources: Vec<VersionSource> = Vec::new();
    let (mut ucs2, mut pyfpe): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    // Indexes into `elfs` of the extensions and of the other ELF files evaluated.
    let (mut py, mut nonpy): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    let mut refs_by_elf: BTreeMap<usize, Vec<ExternalRefs>> = BTreeMap::new();

    for (i, elf) in elfs.iter().enumerate() {
        // auditwheel's `elf_file_filter`: exactly `.py`, case-sensitive.
        #[allow(clippy::case_sensitive_file_extension_comparisons)]
        if elf.path.ends_with(".py") {
            continue;
        }
        let name = file_name(&elf.path);
        if elf
            .path
            .split('/')
            .rev()
            .skip(1)
            .any(|dir| dir == "purelib")
        {
            purelib.push(name.to_owned());
        }
        if !purelib.is_empty() {
            continue;
        }
        let elf_libc =
            detect_libc(name, &elf.facts).map_err(|source| AnalyzeError::LibcConflict {
                member: elf.path.clone(),
                source,
            })?;
        let Some(elf_arch) = &elf.facts.arch else {
            invalid_machine.push(name.to_owned());
            ignored.push(IgnoredElf::UnknownArch {
                path: elf.path.clone(),
            });
            continue;
        };
        match &arch {
            None => arch = Some(elf_arch.clone()),
            Some(expected) if expected != elf_arch => {
                invalid_machine.push(name.to_owned());
                ignored.push(IgnoredElf::WrongArch {
                    path: elf.path.clone(),
                    found: elf_arch.clone(),
                    expected: expected.clone(),
                });
                continue;
            }
            Some(_) => {}
        }
        if let Some(found) = elf_libc {
            match libc {
                None => libc = Some(found),
                Some(expected) if expected != found => {
                    ignored.push(IgnoredElf::WrongLibc {
                        path: elf.path.clone(),
                        found,
                        expected,
                    });
                    continue;
                }
                Some(_) => {}
            }
        }
        if policies.is_none() {
            if let (Some(l), Some(a)) = (libc, &arch) {
                policies = Some(PolicySet::new(l, a, options.musl, options.android_api)?);
            }
        }
        platform_wheel = true;
        add_needs(&mut versioned, &elf.facts.version_needs);
        for need in elf.facts.version_needs.iter().filter(|n| !n.is_loader()) {
            for v in &need.versions {
                sources.push(VersionSource {
                    elf: ElfRef::Member {
                        path: elf.path.clone(),
                    },
                    member: Some(i),
                    library: need.file.clone(),
                    version: v.clone(),
                });
            }
        }
        match PythonExtension::detect(name, &elf.facts.symbols) {
            Some(kind) => {
                let Some(set) = &policies else {
                    return Err(AnalyzeError::NoLibcForExtension {
                        member: elf.path.clone(),
                    });
                };
                py.push(i);
                if references_pyfpe_jbuf(&elf.facts) {
                    pyfpe.push(elf.path.clone());
                }
                if kind == PythonExtension::Python2 && imports_ucs2(&elf.facts) {
                    ucs2.push(elf.path.clone());
                }
                refs_by_elf.insert(i, external_references(set, &elf.tree, &elf.facts));
            }
            None => nonpy.push(i),
        }
    }
    if !purelib.is_empty() {
        return Err(AnalyzeError::SharedLibraryInPurelib(purelib));
    }
    let (true, Some(arch)) = (platform_wheel, arch.clone()) else {
        // A repair asked for the other C library's policies (`--plat musllinux_*` for
        // a wheel of glibc files): that, not "no ELF file", is why none was evaluated.
        if options.requested.is_some() {
            if let Some(IgnoredElf::WrongLibc {
                path,
                found,
                expected,
            }) = ignored
                .iter()
                .find(|i| matches!(i, IgnoredElf::WrongLibc { .. }))
            {
                return Err(AnalyzeError::RequestedLibc {
                    member: path.clone(),
                    found: *found,
                    requested: *expected,
                });
            }
        }
        return Err(AnalyzeError::NotPlatformWheel {
            arch,
            ignored: invalid_machine,
        });
    };

    // Extensions first, then the other files, each in wheel order.
    let order: Vec<usize> = py.iter().chain(&nonpy).copied().collect();
    let mut trees: Vec<(String, DependencyTree)> = order
        .iter()
        .map(|&i| (elfs[i].path.clone(), elfs[i].tree.clone()))
        .collect();
    let others: Vec<usize> = (py.len()..order.len()).collect();
    fixup_trees(&mut trees, &others);
    let tree_of: BTreeMap<usize, &DependencyTree> = order
        .iter()
        .zip(&trees)
        .map(|(&i, (_, t))| (i, t))
        .collect();

    let needed_libs: BTreeSet<&str> = trees
        .iter()
        .flat_map(|(_, t)| t.needed.iter().map(String::as_str))
        .collect();
    // Nothing told the libc (no extension, no libc dependency): auditwheel asks the host.
    let libc_assumed = policies.is_none();
    let policies = match policies {
        Some(p) => p,
        None => PolicySet::new(options.host_libc, &arch, options.musl, options.android_api)?,
    };
    let mut roots: Vec<usize> = py.clone();
    for &i in &nonpy {
        // A file no other file needs is a root; every file's references are kept for repair.
        if !needed_libs.contains(file_name(&elfs[i].path)) {
            roots.push(i);
        }
        refs_by_elf.insert(
            i,
            external_references(&policies, tree_of[&i], &elfs[i].facts),
        );
    }

    // ---- analyze_wheel_abi --------------------------------------------------------------
    let n = policies.len();
    let linux = n - 1;
    let pol: Vec<&super::set::Policy> = policies.iter().collect();
    let mut external_refs: Vec<ExternalRefs> = vec![ExternalRefs::default(); n];
    for i in &roots {
        merge(&mut external_refs, &refs_by_elf[i]);
    }

    // The files outside the wheel some policy would bundle: real path → name, the first
    // name a path is seen under winning, walking policies from loose to strict.
    let mut external_libs: Vec<(String, String)> = Vec::new();
    for idx in (0..n).rev().filter(|&i| i != linux) {
        for (soname, path) in &external_refs[idx].libs {
            if let Some(path) = path {
                if !external_libs.iter().any(|(p, _)| p == path) {
                    external_libs.push((path.clone(), soname.clone()));
                }
            }
        }
    }
    let by_path: BTreeMap<&str, &TreeLibrary> = trees
        .iter()
        .flat_map(|(_, t)| t.libraries.values())
        .filter_map(|l| l.external_path().map(|p| (p, l)))
        .collect();
    // Their needed versions, by name (a later path under the same name wins).
    let mut external_versions: BTreeMap<String, (String, Versions)> = BTreeMap::new();
    for (path, soname) in &external_libs {
        let mut v = Versions::new();
        if let Some(lib) = by_path.get(path.as_str()) {
            add_needs(&mut v, &lib.version_needs);
        }
        external_versions.insert(soname.clone(), (path.clone(), v));
    }
    // What each policy's symbol check sees: the wheel's versions plus those of the
    // libraries that policy would bundle.
    let symbols_by_policy: Vec<Versions> = (0..n)
        .map(|idx| {
            let mut v = versioned.clone();
            for soname in external_refs[idx].libs.keys() {
                if let Some((_, ext)) = external_versions.get(soname) {
                    for (lib, set) in ext {
                        v.entry(lib.clone())
                            .or_default()
                            .extend(set.iter().cloned());
                    }
                }
            }
            v
        })
        .collect();
    let index_of =
        |p: &super::set::Policy| pol.iter().position(|q| q.name == p.name).unwrap_or(linux);

    // Per policy: the best policy its own symbols allow, never better than itself; the
    // best of those wins, the loosest policy first on a tie (Python's `max`).
    let mut symbol = index_of(policies.symbol_policy(&all_versions(&versioned)));
    let mut chosen_symbols = versioned.clone();
    let mut first = true;
    for idx in (0..n).rev().filter(|&i| i != linux) {
        let symbols = &symbols_by_policy[idx];
        let found = idx.max(index_of(policies.symbol_policy(&all_versions(symbols))));
        if first || found < symbol {
            symbol = found;
            chosen_symbols = symbols.clone();
            first = false;
        }
    }

    let best_where = |ok: &dyn Fn(usize) -> bool| (0..n).find(|&i| ok(i)).unwrap_or(linux);
    let reference = best_where(&|i| external_refs[i].libs.is_empty());
    let blacklist = best_where(&|i| external_refs[i].blacklist.is_empty());
    let graft_count = match options
        .requested
        .as_ref()
        .map(super::options::PlatRequest::base_name)
    {
        Some(base) if base != "auto" => {
            let prefix = format!("{base}_");
            (0..n)
                .filter(|&i| pol[i].tag().to_string().starts_with(&prefix))
                .map(|i| external_refs[i].libs.len())
                .min()
                .unwrap_or(0)
        }
        _ => (0..n)
            .filter(|&i| i != linux)
            .map(|i| external_refs[i].libs.len())
            .min()
            .unwrap_or(0),
    };
    let graft = best_where(&|i| external_refs[i].libs.len() <= graft_count);

    let so_names: BTreeSet<&str> = external_libs.iter().map(|(_, s)| s.as_str()).collect();
    let isa_findings = if options.disable_isa_ext_check {
        Vec::new()
    } else {
        machine_findings(&policies, elfs, &roots, &tree_of, &so_names)?
    };
    let machine = isa_findings
        .iter()
        .map(|f| f.limit.unwrap_or(linux))
        .max()
        .unwrap_or(0);
    let ucs = if ucs2.is_empty() { 0 } else { linux };
    let fpe = if pyfpe.is_empty() { 0 } else { linux };

    let mut overall = symbol.max(ucs).max(fpe).max(blacklist).max(machine);
    if options.requested.is_some() {
        overall = overall.max(graft);
    }
    if !options.allow_graft {
        overall = overall.max(reference);
    }

    // ---- beyond auditwheel: why each policy is missed ------------------------------------
    for (path, soname) in &external_libs {
        if let Some((_, v)) = external_versions.get(soname).filter(|(p, _)| p == path) {
            for (lib, versions) in v {
                for version in versions {
                    sources.push(VersionSource {
                        elf: ElfRef::Library {
                            soname: soname.clone(),
                            path: path.clone(),
                        },
                        member: None,
                        library: lib.clone(),
                        version: version.clone(),
                    });
                }
            }
        }
    }
    let verdicts = Explain {
        policies: &policies,
        elfs,
        roots: &roots,
        refs_by_elf: &refs_by_elf,
        tree_of: &tree_of,
        external_refs: &external_refs,
        symbols_by_policy: &symbols_by_policy,
        sources: &sources,
        isa: &isa_findings,
        ucs2: &ucs2,
        pyfpe: &pyfpe,
        overall,
        graft: options.requested.is_some().then_some((graft, graft_count)),
        allow_graft: options.allow_graft,
        imports: elfs.iter().map(|_| std::cell::OnceCell::new()).collect(),
    }
    .verdicts();

    let tagged = |refs: &[ExternalRefs]| -> Vec<PolicyRefs> {
        pol.iter()
            .zip(refs)
            .map(|(p, r)| PolicyRefs {
                policy: p.tag(),
                refs: r.clone(),
            })
            .collect()
    };
    Ok(AbiReport {
        libc: policies.libc(),
        libc_assumed,
        arch,
        overall: pol[overall].tag(),
        symbol: pol[symbol].tag(),
        reference: pol[reference].tag(),
        blacklist: pol[blacklist].tag(),
        machine: pol[machine].tag(),
        ucs: pol[ucs].tag(),
        pyfpe: pol[fpe].tag(),
        graft: pol[graft].tag(),
        versioned_symbols: chosen_symbols,
        external_refs: tagged(&external_refs),
        member_refs: refs_by_elf
            .iter()
            .map(|(&i, refs)| (elfs[i].path.clone(), tagged(refs)))
            .collect(),
        roots: roots.iter().map(|&i| elfs[i].path.clone()).collect(),
        extensions: py.iter().map(|&i| elfs[i].path.clone()).collect(),
        ignored,
        verdicts,
        policies,
    })
}

/// `elf_references_pyfpe_jbuf`: an undefined `PyFPE_jbuf`, `PyFPE_dummy` or
/// `PyFPE_counter` of type function or no type.
fn references_pyfpe_jbuf(facts: &ElfFacts) -> bool {
    facts.symbols.iter().any(|s| {
        !s.defined
            && matches!(
                s.name.as_str(),
                "PyFPE_jbuf" | "PyFPE_dummy" | "PyFPE_counter"
            )
            && matches!(s.kind, SymbolKind::Func | SymbolKind::NoType)
    })
}

/// `elf_find_ucs2_symbols`: an undefined function whose name contains `PyUnicodeUCS2_`.
fn imports_ucs2(facts: &ElfFacts) -> bool {
    facts
        .symbols
        .iter()
        .any(|s| !s.defined && s.kind == SymbolKind::Func && s.name.contains("PyUnicodeUCS2_"))
}

/// auditwheel's `_get_machine_policy`, as findings: the roots are checked, and the
/// libraries of their trees whose name some policy would bundle (by name: a library of
/// that name found anywhere counts).
fn machine_findings(
    policies: &PolicySet,
    elfs: &[WheelElf],
    roots: &[usize],
    tree_of: &BTreeMap<usize, &DependencyTree>,
    external_names: &BTreeSet<&str>,
) -> Result<Vec<IsaFinding>, AnalyzeError> {
    let linux = policies.len() - 1;
    let mut seen: BTreeSet<(bool, String)> = BTreeSet::new();
    let mut checks: Vec<(ElfRef, Option<&str>, IsaLevel)> = Vec::new();
    for &i in roots {
        if !seen.insert((true, elfs[i].path.clone())) {
            continue;
        }
        checks.push((
            ElfRef::Member {
                path: elfs[i].path.clone(),
            },
            None,
            elfs[i].facts.isa,
        ));
        for (soname, lib) in &tree_of[&i].libraries {
            if !external_names.contains(soname.as_str()) {
                continue;
            }
            let Some(location) = &lib.location else {
                continue;
            };
            if !seen.insert((false, location.path().to_owned())) {
                continue;
            }
            let elf = match location {
                LibraryLocation::InWheel(path) => ElfRef::Member { path: path.clone() },
                LibraryLocation::External(path) => ElfRef::Library {
                    soname: soname.clone(),
                    path: path.clone(),
                },
            };
            checks.push((elf, Some(soname), lib.isa));
        }
    }
    if let Some((elf, _, _)) = checks.iter().find(|c| c.2 == IsaLevel::Unknown) {
        return Err(AnalyzeError::UnknownIsa { elf: elf.clone() });
    }
    let mut findings = Vec::new();
    for (elf, soname, isa) in checks {
        if isa.within_baseline() {
            continue;
        }
        let limit = soname
            .and_then(|s| policies.iter().position(|p| p.whitelists(s)))
            .filter(|&i| i != linux);
        findings.push(IsaFinding { elf, isa, limit });
    }
    Ok(findings)
}
