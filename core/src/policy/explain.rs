//! Beyond auditwheel: for every policy a wheel misses, each reason ([`Reason`]), from the
//! intermediate results of [`analyze`](super::analyze()). auditwheel computes the same
//! facts but reports only some of them (`show` lists libraries and blacklisted symbols
//! per policy, and one symbol-version tag); here every symbol version too new for a
//! policy is named with the files and symbols needing it.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

use super::analyze::{all_versions, Versions, WheelElf};
use super::external::ExternalRefs;
use super::input::{ElfFacts, IsaLevel};
use super::name::SymbolVersion;
use super::report::{ElfRef, PolicyVerdict, Reason, VersionUser};
use super::set::PolicySet;
use super::tree::DependencyTree;

/// A `.gnu.version_r` version of a wheel member or an external library.
pub(super) struct VersionSource {
    /// The file.
    pub elf: ElfRef,
    /// Its index in the wheel's ELF list, for a member.
    pub member: Option<usize>,
    /// The library the version is needed from.
    pub library: String,
    /// The version name.
    pub version: String,
}

/// A file needing more than the baseline instruction set.
pub(super) struct IsaFinding {
    /// The file.
    pub elf: ElfRef,
    /// The level.
    pub isa: IsaLevel,
    /// The strictest policy that whitelists it (an external library), which the machine
    /// policy is lowered to; `None` when it lowers to `linux`.
    pub limit: Option<usize>,
}

/// What the verdicts are made of; policies are indexes into `policies`.
pub(super) struct Explain<'a> {
    pub policies: &'a PolicySet,
    pub elfs: &'a [WheelElf],
    pub roots: &'a [usize],
    pub refs_by_elf: &'a BTreeMap<usize, Vec<ExternalRefs>>,
    pub tree_of: &'a BTreeMap<usize, &'a DependencyTree>,
    pub external_refs: &'a [ExternalRefs],
    pub symbols_by_policy: &'a [Versions],
    pub sources: &'a [VersionSource],
    pub isa: &'a [IsaFinding],
    pub ucs2: &'a [String],
    pub pyfpe: &'a [String],
    pub overall: usize,
    /// With `--plat`: the graft policy and how many libraries it bundles.
    pub graft: Option<(usize, usize)>,
    pub allow_graft: bool,
    /// Each member's imports by version, made when a reason first names one of them.
    pub imports: Vec<OnceCell<Imports<'a>>>,
}

/// A file's undefined symbols by (version, file it is needed from, when the symbol
/// names one), each list sorted. Made once per file: a version too new for one policy
/// is too new for every stricter one, and torch's files import thousands of symbols.
pub(super) type Imports<'a> = BTreeMap<(&'a str, Option<&'a str>), Vec<&'a str>>;

fn imports(facts: &ElfFacts) -> Imports<'_> {
    let mut by: Imports<'_> = BTreeMap::new();
    for sym in facts.symbols.iter().filter(|s| !s.defined) {
        if let Some(version) = sym.version.as_deref() {
            by.entry((version, sym.version_file.as_deref()))
                .or_default()
                .push(&sym.name);
        }
    }
    for names in by.values_mut() {
        names.sort_unstable();
        names.dedup();
    }
    by
}

impl Explain<'_> {
    /// One verdict per policy, in the set's order.
    pub fn verdicts(&self) -> Vec<PolicyVerdict> {
        self.policies
            .iter()
            .enumerate()
            .map(|(idx, policy)| PolicyVerdict {
                policy: policy.tag(),
                aliases: policy.alias_tags(),
                priority: policy.priority,
                satisfied: idx >= self.overall,
                reasons: if policy.is_linux() {
                    Vec::new()
                } else {
                    self.reasons(idx)
                },
            })
            .collect()
    }

    fn reasons(&self, idx: usize) -> Vec<Reason> {
        let policy = &self.policies.iter().as_slice()[idx];
        let refs = &self.external_refs[idx];
        let mut reasons = Vec::new();
        let required = all_versions(&self.symbols_by_policy[idx]);
        let mut bad: Vec<&SymbolVersion> = policy.disallowed(&required);
        bad.sort();
        bad.dedup();
        let bundled: BTreeSet<&String> = refs.libs.keys().collect();
        for version in bad {
            reasons.push(Reason::SymbolVersion {
                version: version.clone(),
                users: self.version_users(version, &bundled),
            });
        }
        for (soname, path) in &refs.libs {
            let (members, via) = self.needed_by(idx, soname);
            reasons.push(Reason::ExternalLibrary {
                soname: soname.clone(),
                path: path.clone(),
                members,
                via,
                blocking: !self.allow_graft,
            });
        }
        for (library, symbols) in &refs.blacklist {
            let members = self
                .roots
                .iter()
                .filter(|i| self.refs_by_elf[i][idx].blacklist.contains_key(library))
                .map(|&i| self.elfs[i].path.clone())
                .collect();
            reasons.push(Reason::BlacklistedSymbols {
                library: library.clone(),
                symbols: symbols.clone(),
                members,
            });
        }
        for f in self.isa {
            if f.limit.is_none_or(|limit| idx < limit) {
                reasons.push(Reason::IsaExtension {
                    elf: f.elf.clone(),
                    isa: f.isa,
                });
            }
        }
        if !self.ucs2.is_empty() {
            reasons.push(Reason::Ucs2 {
                members: self.ucs2.to_vec(),
            });
        }
        if !self.pyfpe.is_empty() {
            reasons.push(Reason::PyFpeJbuf {
                members: self.pyfpe.to_vec(),
            });
        }
        if let Some((graft, allowed)) = self.graft {
            if idx < graft {
                reasons.push(Reason::TooManyLibraries {
                    libraries: refs.libs.len(),
                    allowed,
                });
            }
        }
        reasons
    }

    /// The files needing `version`: members, and the libraries the policy bundles.
    fn version_users(
        &self,
        version: &SymbolVersion,
        bundled: &BTreeSet<&String>,
    ) -> Vec<VersionUser> {
        let text = version.to_string();
        let mut users: Vec<VersionUser> = Vec::new();
        for s in self.sources.iter().filter(|s| s.version == text) {
            if let ElfRef::Library { soname, .. } = &s.elf {
                if !bundled.contains(soname) {
                    continue;
                }
            }
            let symbols: Vec<String> = match s.member {
                Some(i) => {
                    let by = self.imports[i].get_or_init(|| imports(&self.elfs[i].facts));
                    // A symbol that names no file is needed from any.
                    let mut names: Vec<String> = [Some(s.library.as_str()), None]
                        .into_iter()
                        .filter_map(|file| by.get(&(text.as_str(), file)))
                        .flatten()
                        .map(|n| (*n).to_owned())
                        .collect();
                    names.sort();
                    names.dedup();
                    names
                }
                None => Vec::new(),
            };
            let user = VersionUser {
                elf: s.elf.clone(),
                library: s.library.clone(),
                symbols,
            };
            if !users.contains(&user) {
                users.push(user);
            }
        }
        users
    }

    /// The roots reaching an external library under policy `idx`, and the libraries that
    /// name it directly when a root does not.
    fn needed_by(&self, idx: usize, soname: &str) -> (Vec<String>, Vec<String>) {
        let mut members = Vec::new();
        let mut via = BTreeSet::new();
        for &i in self.roots {
            if !self.refs_by_elf[&i][idx].libs.contains_key(soname) {
                continue;
            }
            members.push(self.elfs[i].path.clone());
            let tree = self.tree_of[&i];
            if !tree.needed.iter().any(|n| n == soname) {
                for (name, lib) in &tree.libraries {
                    if lib.needed.iter().any(|n| n == soname) {
                        via.insert(name.clone());
                    }
                }
            }
        }
        (members, via.into_iter().collect())
    }
}
