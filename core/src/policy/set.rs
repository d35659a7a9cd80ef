//! One policy ([`Policy`]) and the policies that apply to a wheel of one libc and one
//! architecture ([`PolicySet`]), built from auditwheel's policy files exactly as
//! auditwheel's `WheelPolicies` builds them.
//!
//! Ordering: a policy's priority says how strict (how widely compatible) it is:
//! `manylinux_2_5` is 100, `manylinux_2_17` 80, `linux` 0. auditwheel calls the strictest
//! policy the "highest" and the loosest non-`linux` one the "lowest"; so do we.
//! [`PolicySet::iter`] walks from strict to loose, `linux` last.
//!
//! musl: auditwheel evaluates exactly one musllinux policy, chosen by the musl version of
//! the machine it runs on, or the newest one it knows when that is not a musl system
//! ([`MuslPolicies`]). [`MuslPolicies::All`] is a truewheel extension for listings.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::data::{raw_policies, RawPolicy};
use super::name::{Libc, NameError, PolicyName, SymbolVersion};
use crate::wheel::tags::{Arch, GlibcVersion, LegacyManylinux, PlatformTag};

/// A problem building or searching a policy set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The architecture is not one auditwheel knows.
    #[error("there are no manylinux or musllinux policies for architecture `{0}`")]
    UnknownArch(Arch),
    /// No musllinux policy for this architecture (and musl version).
    #[error("there is no {policy} policy for architecture `{arch}`")]
    NoMuslPolicy {
        /// The policy that was looked for (`musllinux_1_3`, or `musllinux` for any).
        policy: String,
        /// The architecture.
        arch: Arch,
    },
    /// A name that is not a policy of this set.
    #[error("no policy named `{name}` for {libc} on {arch}")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The libc of the set.
        libc: Libc,
        /// The architecture of the set.
        arch: Arch,
    },
    /// No Android policy at or below the wheel's API level (auditwheel's: "no Android
    /// policies match the platform tag").
    #[error("no Android policies match the platform tag `{0}`: the lowest API level Python supports is 21")]
    NoAndroidPolicy(PlatformTag),
    /// A policy file entry that does not fit the model (a bad refresh).
    #[error("auditwheel policy data: {0}")]
    BadData(String),
    /// A name that does not parse.
    #[error(transparent)]
    Name(#[from] NameError),
}

/// One policy for one architecture: what a wheel may link against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `linux`, `manylinux_X_Y` or `musllinux_X_Y`.
    pub name: PolicyName,
    /// The architecture the policy is for.
    pub arch: Arch,
    /// Higher is stricter; `linux` is 0.
    pub priority: u32,
    /// Legacy names (`manylinux2014`), as auditwheel lists them.
    pub aliases: Vec<LegacyManylinux>,
    /// prefix (`GLIBC`) → allowed versions without the prefix (`2.17`). A prefix that is
    /// not a key here is not checked at all (auditwheel ignores `OPENSSL_3.0.0`).
    pub symbol_versions: BTreeMap<String, BTreeSet<String>>,
    /// Libraries (by DT_NEEDED name) a wheel may use without bundling them.
    pub lib_whitelist: BTreeSet<String>,
    /// library → symbols a wheel must not import when it links that library.
    pub blacklist: BTreeMap<String, BTreeSet<String>>,
}

impl Policy {
    /// The policy's own platform tag (`manylinux_2_17_x86_64`, `linux_x86_64`).
    pub fn tag(&self) -> PlatformTag {
        self.name.tag(&self.arch)
    }

    /// The legacy tags of the policy (`manylinux2014_x86_64`).
    pub fn alias_tags(&self) -> Vec<PlatformTag> {
        self.aliases
            .iter()
            .map(|&alias| PlatformTag::LegacyManylinux {
                alias,
                arch: self.arch.clone(),
            })
            .collect()
    }

    /// Whether a tag names this policy, by its own name or an alias.
    pub fn answers_to(&self, tag: &PlatformTag) -> bool {
        *tag == self.tag() || self.alias_tags().contains(tag)
    }

    /// Whether this is the catch-all `linux` policy.
    pub fn is_linux(&self) -> bool {
        self.name == PolicyName::Linux
    }

    /// Whether a library may be used without bundling it.
    pub fn whitelists(&self, soname: &str) -> bool {
        self.lib_whitelist.contains(soname)
    }

    /// Whether a symbol version is allowed: `None` when its prefix is not governed by
    /// the policy (then auditwheel does not look at it).
    pub fn allows(&self, version: &SymbolVersion) -> Option<bool> {
        let allowed = self.symbol_versions.get(&version.prefix)?;
        Some(
            version
                .version
                .as_ref()
                .is_some_and(|v| allowed.contains(v)),
        )
    }

    /// The versions of `required` this policy governs and does not allow (auditwheel's
    /// `policy_is_satisfied`, which is true exactly when this is empty).
    pub fn disallowed<'a>(
        &self,
        required: impl IntoIterator<Item = &'a SymbolVersion>,
    ) -> Vec<&'a SymbolVersion> {
        required
            .into_iter()
            .filter(|v| self.allows(v) == Some(false))
            .collect()
    }

    /// Whether `self` is stricter (more compatible) than `other`.
    pub fn stricter_than(&self, other: &Policy) -> bool {
        self.priority > other.priority
    }

    fn from_raw(raw: &RawPolicy, libc: Libc, arch: &Arch) -> Result<Self, PolicyError> {
        let bad = |what: String| PolicyError::BadData(format!("policy `{}`: {what}", raw.name));
        let name: PolicyName = raw
            .name
            .parse()
            .map_err(|e: NameError| bad(e.to_string()))?;
        if name.libc().is_some_and(|l| l != libc) {
            return Err(bad(format!("found in the {libc} policy file")));
        }
        let aliases = raw
            .aliases
            .iter()
            .map(
                |alias| match format!("{alias}_{arch}").parse::<PlatformTag>() {
                    Ok(PlatformTag::LegacyManylinux { alias, .. })
                        if PolicyName::Manylinux(alias.glibc()) == name =>
                    {
                        Ok(alias)
                    }
                    _ => Err(bad(format!("alias `{alias}` is not a legacy name of it"))),
                },
            )
            .collect::<Result<_, _>>()?;
        let symbol_versions = if name == PolicyName::Linux {
            BTreeMap::new()
        } else {
            raw.symbol_versions
                .get(arch.as_str())
                .ok_or_else(|| bad(format!("no symbol versions for {arch}")))?
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect()
        };
        Ok(Self {
            name,
            arch: arch.clone(),
            priority: raw.priority,
            aliases,
            symbol_versions,
            lib_whitelist: fixup_musl_libc_soname(libc, arch, &raw.lib_whitelist),
            blacklist: raw
                .blacklist
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
        })
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.tag())
    }
}

/// auditwheel's `_fixup_musl_libc_soname`: musl's `libc.so` is installed as
/// `libc.musl-<arch>.so.1`, so that is the name a musl wheel's DT_NEEDED carries.
fn fixup_musl_libc_soname(libc: Libc, arch: &Arch, whitelist: &[String]) -> BTreeSet<String> {
    whitelist
        .iter()
        .map(
            |soname| match (libc, soname.as_str(), musl_arch_name(arch)) {
                (Libc::Musl, "libc.so", Some(a)) => format!("libc.musl-{a}.so.1"),
                _ => soname.clone(),
            },
        )
        .collect()
}

/// The architecture as spelled in musl's loader and libc names.
fn musl_arch_name(arch: &Arch) -> Option<&'static str> {
    Some(match arch {
        Arch::X86_64 => "x86_64",
        Arch::I686 => "x86",
        Arch::Aarch64 => "aarch64",
        Arch::S390x => "s390x",
        Arch::Ppc64le => "ppc64le",
        Arch::Armv7l => "armv7",
        Arch::Riscv64 => "riscv64",
        Arch::Loongarch64 => "loongarch64",
        _ => return None,
    })
}

/// Which musllinux policies a musl [`PolicySet`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MuslPolicies {
    /// The newest musllinux policy known: what auditwheel does on a machine that is not a
    /// musl system (`can't determine musl libc version, latest known version will be used`).
    #[default]
    Latest,
    /// `musllinux_X_Y` for a host running musl X.Y: what auditwheel does on a musl system.
    Host(GlibcVersion),
    /// Every musllinux policy (not auditwheel: for listings and lookups).
    All,
}

/// The policies for one libc and one architecture, strictest first, `linux` last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySet {
    libc: Libc,
    arch: Arch,
    policies: Vec<Policy>,
}

/// Whether auditwheel knows the architecture (its `Architecture` enum, baselines only).
pub(super) fn known_arch(arch: &Arch) -> bool {
    !matches!(arch, Arch::Other(_))
}

impl PolicySet {
    /// The manylinux policies of an architecture, and `linux`.
    pub fn manylinux(arch: &Arch) -> Result<Self, PolicyError> {
        Self::build(Libc::Glibc, arch, |_| true)
    }

    /// The musllinux policies of an architecture, selected as auditwheel does, and `linux`.
    pub fn musllinux(arch: &Arch, which: MuslPolicies) -> Result<Self, PolicyError> {
        let missing = |policy: String| PolicyError::NoMuslPolicy {
            policy,
            arch: arch.clone(),
        };
        match which {
            MuslPolicies::All => {
                let set = Self::build(Libc::Musl, arch, |_| true)?;
                if set.policies.len() < 2 {
                    return Err(missing("musllinux".into()));
                }
                Ok(set)
            }
            MuslPolicies::Host(v) => {
                let wanted = PolicyName::Musllinux(v);
                let set = Self::build(Libc::Musl, arch, |n| n == wanted)?;
                if set.policies.len() != 2 {
                    return Err(missing(wanted.to_string()));
                }
                Ok(set)
            }
            MuslPolicies::Latest => {
                let mut set = Self::build(Libc::Musl, arch, |_| true)?;
                // auditwheel keeps `linux` and the loosest musllinux policy.
                let n = set.policies.len();
                if n < 2 {
                    return Err(missing("musllinux".into()));
                }
                set.policies.drain(..n - 2);
                Ok(set)
            }
        }
    }

    /// The Android policies for a wheel of API level `api`, as auditwheel chooses them:
    /// the policy file lists only the levels at which the NDK's stable libraries changed,
    /// so the one of the highest level at or below the wheel's is taken, named as the
    /// wheel's level (its tag is the wheel's own), beside `linux`.
    pub fn android(arch: &Arch, api: u32) -> Result<Self, PolicyError> {
        let mut set = Self::build(Libc::Android, arch, |_| true)?;
        let chosen = set
            .policies
            .iter()
            .filter(|p| matches!(p.name, PolicyName::Android(level) if level <= api))
            .max_by_key(|p| match p.name {
                PolicyName::Android(level) => level,
                _ => 0,
            })
            .cloned();
        let Some(mut chosen) = chosen else {
            return Err(PolicyError::NoAndroidPolicy(
                PolicyName::Android(api).tag(arch),
            ));
        };
        chosen.name = PolicyName::Android(api);
        set.policies.retain(Policy::is_linux);
        set.policies.insert(0, chosen);
        Ok(set)
    }

    /// The policies auditwheel uses for a libc and an architecture (for Android, the
    /// wheel's API level; without one, the lowest).
    pub fn new(
        libc: Libc,
        arch: &Arch,
        musl: MuslPolicies,
        android_api: Option<u32>,
    ) -> Result<Self, PolicyError> {
        match libc {
            Libc::Glibc => Self::manylinux(arch),
            Libc::Musl => Self::musllinux(arch, musl),
            Libc::Android => Self::android(arch, android_api.unwrap_or(21)),
        }
    }

    fn build(
        libc: Libc,
        arch: &Arch,
        keep: impl Fn(PolicyName) -> bool,
    ) -> Result<Self, PolicyError> {
        if !known_arch(arch) {
            return Err(PolicyError::UnknownArch(arch.clone()));
        }
        let mut policies = Vec::new();
        for raw in raw_policies(libc) {
            let is_linux = raw.name == "linux";
            if !is_linux && !raw.symbol_versions.contains_key(arch.as_str()) {
                continue;
            }
            let policy = Policy::from_raw(raw, libc, arch)?;
            if is_linux || keep(policy.name) {
                policies.push(policy);
            }
        }
        policies.sort_by_key(|p| std::cmp::Reverse(p.priority));
        if policies.last().is_none_or(|p| !p.is_linux()) {
            return Err(PolicyError::BadData(
                "no `linux` policy of priority 0".into(),
            ));
        }
        Ok(Self {
            libc,
            arch: arch.clone(),
            policies,
        })
    }

    /// The libc family.
    pub fn libc(&self) -> Libc {
        self.libc
    }

    /// The architecture.
    pub fn arch(&self) -> &Arch {
        &self.arch
    }

    /// The policies, strictest first, `linux` last.
    pub fn iter(&self) -> std::slice::Iter<'_, Policy> {
        self.policies.iter()
    }

    /// How many policies, `linux` included.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// Always false: a set holds at least `linux`.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// auditwheel's `highest`: the strictest policy (`manylinux_2_5_x86_64`).
    pub fn highest(&self) -> &Policy {
        &self.policies[0]
    }

    /// auditwheel's `lowest`: the loosest policy that is not `linux`, if there is one.
    pub fn lowest(&self) -> Option<&Policy> {
        let n = self.policies.len();
        (n >= 2).then(|| &self.policies[n - 2])
    }

    /// The catch-all `linux` policy.
    pub fn linux(&self) -> &Policy {
        &self.policies[self.policies.len() - 1]
    }

    /// The policy a tag names, by name or alias (auditwheel's `get_policy_by_name`).
    pub fn get(&self, tag: &PlatformTag) -> Option<&Policy> {
        self.policies.iter().find(|p| p.answers_to(tag))
    }

    /// The policy a name spells (`manylinux2014_x86_64`, `manylinux_2_28_x86_64`,
    /// `musllinux_1_2_x86_64`, `linux_x86_64`).
    pub fn by_name(&self, name: &str) -> Result<&Policy, PolicyError> {
        name.parse::<PlatformTag>()
            .ok()
            .and_then(|tag| self.get(&tag))
            .ok_or_else(|| PolicyError::NotFound {
                name: name.to_owned(),
                libc: self.libc,
                arch: self.arch.clone(),
            })
    }

    /// auditwheel's `versioned_symbols_policy`: the strictest policy that allows every
    /// version in `required` whose prefix it governs. `linux` always qualifies.
    pub fn symbol_policy<'a, I>(&self, required: I) -> &Policy
    where
        I: IntoIterator<Item = &'a SymbolVersion>,
        I::IntoIter: Clone,
    {
        let required = required.into_iter();
        self.policies
            .iter()
            .find(|p| p.disallowed(required.clone()).is_empty())
            .unwrap_or_else(|| self.linux())
    }
}

impl<'a> IntoIterator for &'a PolicySet {
    type Item = &'a Policy;
    type IntoIter = std::slice::Iter<'a, Policy>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(set: &PolicySet) -> Vec<String> {
        set.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn x86_64_manylinux_set_is_ordered_strict_to_loose() {
        let set = PolicySet::manylinux(&Arch::X86_64).unwrap();
        assert_eq!(set.highest().to_string(), "manylinux_2_5_x86_64");
        assert_eq!(set.linux().to_string(), "linux_x86_64");
        assert!(set.lowest().unwrap().priority > 0);
        let prios: Vec<u32> = set.iter().map(|p| p.priority).collect();
        assert!(prios.windows(2).all(|w| w[0] > w[1]), "{prios:?}");
        let n = names(&set);
        let pos = |s: &str| n.iter().position(|x| x == s).unwrap();
        assert!(pos("manylinux_2_5_x86_64") < pos("manylinux_2_12_x86_64"));
        assert!(pos("manylinux_2_17_x86_64") < pos("manylinux_2_28_x86_64"));
    }

    #[test]
    fn lookups_by_name_and_alias() {
        let set = PolicySet::manylinux(&Arch::X86_64).unwrap();
        let p2014 = set.by_name("manylinux2014_x86_64").unwrap();
        assert_eq!(p2014.to_string(), "manylinux_2_17_x86_64");
        assert_eq!(p2014.priority, 80);
        assert_eq!(set.by_name("manylinux_2_17_x86_64").unwrap(), p2014);
        assert_eq!(
            set.by_name("manylinux1_x86_64").unwrap().to_string(),
            "manylinux_2_5_x86_64"
        );
        assert_eq!(
            set.by_name("manylinux2010_x86_64").unwrap().to_string(),
            "manylinux_2_12_x86_64"
        );
        assert!(set.by_name("manylinux_2_28_x86_64").is_ok());
        assert!(set.by_name("linux_x86_64").unwrap().is_linux());
        assert!(matches!(
            set.by_name("manylinux_2_17_aarch64"),
            Err(PolicyError::NotFound { .. })
        ));
        assert!(set.by_name("manylinux_2_99_x86_64").is_err());
        let arm = PolicySet::manylinux(&Arch::Aarch64).unwrap();
        assert!(arm.by_name("manylinux_2_28_aarch64").is_ok());
        assert!(arm.by_name("manylinux2014_aarch64").is_ok());
        assert!(
            arm.by_name("manylinux1_aarch64").is_err(),
            "manylinux1 had no aarch64"
        );
        let musl = PolicySet::musllinux(&Arch::X86_64, MuslPolicies::Latest).unwrap();
        assert!(musl.by_name("musllinux_1_2_x86_64").is_ok());
    }

    #[test]
    fn every_architecture_auditwheel_lists_has_its_policies() {
        let expect: [(&Arch, &[&str]); 9] = [
            (
                &Arch::X86_64,
                &[
                    "manylinux_2_5",
                    "manylinux_2_12",
                    "manylinux_2_17",
                    "manylinux_2_28",
                ],
            ),
            (
                &Arch::I686,
                &[
                    "manylinux_2_5",
                    "manylinux_2_12",
                    "manylinux_2_17",
                    "manylinux_2_28",
                ],
            ),
            (&Arch::Aarch64, &["manylinux_2_17", "manylinux_2_28"]),
            (&Arch::Armv7l, &["manylinux_2_17", "manylinux_2_31"]),
            (&Arch::Ppc64le, &["manylinux_2_17", "manylinux_2_28"]),
            (&Arch::Ppc64, &["manylinux_2_17"]),
            (&Arch::S390x, &["manylinux_2_17", "manylinux_2_28"]),
            (&Arch::Riscv64, &["manylinux_2_31", "manylinux_2_39"]),
            (&Arch::Loongarch64, &["manylinux_2_36", "manylinux_2_38"]),
        ];
        for (arch, wanted) in expect {
            let set = PolicySet::manylinux(arch).unwrap();
            for w in wanted {
                let tag = format!("{w}_{arch}");
                assert!(set.by_name(&tag).is_ok(), "{tag}");
            }
            assert!(set
                .iter()
                .all(|p| p.is_linux() || !p.symbol_versions.is_empty()));
        }
        assert!(PolicySet::manylinux(&Arch::Aarch64)
            .unwrap()
            .by_name("manylinux_2_12_aarch64")
            .is_err());
        assert!(PolicySet::manylinux(&Arch::Ppc64).unwrap().len() == 2);
        assert!(matches!(
            PolicySet::manylinux(&Arch::Other("sparc64".into())),
            Err(PolicyError::UnknownArch(_))
        ));
    }

    #[test]
    fn every_policy_of_the_files_builds_for_each_of_its_arches() {
        for libc in [Libc::Glibc, Libc::Musl, Libc::Android] {
            for raw in raw_policies(libc) {
                for arch in raw.symbol_versions.keys() {
                    let arch = Arch::parse(arch);
                    let name: PolicyName = raw.name.parse().unwrap();
                    // (An Android set holds the one policy of the wheel's level.)
                    let level = match name {
                        PolicyName::Android(level) => Some(level),
                        _ => None,
                    };
                    let set = PolicySet::new(libc, &arch, MuslPolicies::All, level).unwrap();
                    let policy = set.get(&name.tag(&arch)).unwrap();
                    assert_eq!(policy.priority, raw.priority);
                    for alias in policy.alias_tags() {
                        // every alias parses back to the same policy
                        let again: PlatformTag = alias.to_string().parse().unwrap();
                        assert_eq!(set.get(&again), Some(policy), "{alias}");
                        assert_eq!(again.to_pep600(), policy.tag());
                    }
                    assert_eq!(policy.aliases.len(), raw.aliases.len());
                }
            }
        }
    }

    #[test]
    fn musl_sets_follow_auditwheel_selection() {
        let latest = PolicySet::musllinux(&Arch::X86_64, MuslPolicies::Latest).unwrap();
        assert_eq!(names(&latest), ["musllinux_1_2_x86_64", "linux_x86_64"]);
        let host =
            PolicySet::musllinux(&Arch::Aarch64, MuslPolicies::Host(GlibcVersion::new(1, 1)))
                .unwrap();
        assert_eq!(names(&host), ["musllinux_1_1_aarch64", "linux_aarch64"]);
        let all = PolicySet::musllinux(&Arch::I686, MuslPolicies::All).unwrap();
        assert_eq!(
            names(&all),
            ["musllinux_1_1_i686", "musllinux_1_2_i686", "linux_i686"]
        );
        assert!(
            PolicySet::musllinux(&Arch::X86_64, MuslPolicies::Host(GlibcVersion::new(1, 3)))
                .is_err()
        );
        assert!(PolicySet::musllinux(&Arch::Ppc64, MuslPolicies::Latest).is_err());
        let loong = PolicySet::musllinux(&Arch::Loongarch64, MuslPolicies::All).unwrap();
        assert_eq!(
            names(&loong),
            ["musllinux_1_2_loongarch64", "linux_loongarch64"]
        );
        // musl's libc is whitelisted under its installed name
        let p = latest.highest();
        assert!(p.whitelists("libc.musl-x86_64.so.1") && !p.whitelists("libc.so"));
        assert!(all.highest().whitelists("libc.musl-x86.so.1"));
        assert!(p.symbol_versions.is_empty());
    }

    #[test]
    fn symbol_policy_picks_the_strictest_allowing_all() {
        let set = PolicySet::manylinux(&Arch::X86_64).unwrap();
        let v = |s: &str| SymbolVersion::parse(s);
        let pick = |vs: &[SymbolVersion]| set.symbol_policy(vs).to_string();
        assert_eq!(pick(&[]), "manylinux_2_5_x86_64");
        assert_eq!(
            pick(&[v("GLIBC_2.2.5"), v("GLIBC_2.5")]),
            "manylinux_2_5_x86_64"
        );
        assert_eq!(pick(&[v("GLIBC_2.17")]), "manylinux_2_17_x86_64");
        assert_eq!(pick(&[v("GLIBC_2.18")]), "manylinux_2_24_x86_64");
        assert_eq!(pick(&[v("GLIBC_2.28")]), "manylinux_2_28_x86_64");
        assert_eq!(pick(&[v("GLIBC_PRIVATE")]), "linux_x86_64");
        assert_eq!(pick(&[v("GLIBC_2.99")]), "linux_x86_64");
        assert_eq!(
            pick(&[v("OPENSSL_3.0.0"), v("Qt_5")]),
            "manylinux_2_5_x86_64"
        );
        let strict = set.highest();
        assert_eq!(strict.allows(&v("OPENSSL_3.0.0")), None);
        assert_eq!(strict.allows(&v("GLIBC")), Some(false));
        assert_eq!(
            strict.allows(&v("ZLIB_1.2.0")),
            Some(false),
            "ZLIB is governed, empty"
        );
    }
}
