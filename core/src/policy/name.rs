//! The small typed values of the policy model: which C library a policy set is for
//! ([`Libc`]), a policy's name without its architecture ([`PolicyName`]: `linux`,
//! `manylinux_2_17`, `musllinux_1_2`), and a symbol version as auditwheel reads it
//! ([`SymbolVersion`]: `GLIBC_2.17` = prefix `GLIBC` + version `2.17`).
//!
//! Each parses with [`FromStr`] and prints with [`Display`](fmt::Display); the pair round-trips.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::wheel::tags::{Arch, GlibcVersion, LegacyManylinux, PlatformTag, ANDROID_ABIS};

/// Why a policy name, libc name or symbol version did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {kind}: expected {expected}")]
pub struct NameError {
    /// The text that was parsed.
    pub text: String,
    /// What it should have been.
    pub kind: &'static str,
    /// The accepted spellings.
    pub expected: &'static str,
}

/// The C library a wheel links against, which selects the policy family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Libc {
    /// GNU libc: the `manylinux` policies (PEP 600).
    Glibc,
    /// musl: the `musllinux` policies (PEP 656).
    Musl,
    /// Android's bionic: the `android` policies (PEP 738), chosen by the wheel's own tag,
    /// as auditwheel 6.5 and later choose them.
    Android,
}

impl Libc {
    /// The spelling auditwheel uses (`glibc`, `musl`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Glibc => "glibc",
            Self::Musl => "musl",
            Self::Android => "android",
        }
    }

    /// The platform tag prefix of the family (`manylinux`, `musllinux`).
    pub fn tag_prefix(self) -> &'static str {
        match self {
            Self::Glibc => "manylinux",
            Self::Musl => "musllinux",
            Self::Android => "android",
        }
    }
}

impl fmt::Display for Libc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Libc {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        match s {
            "glibc" => Ok(Self::Glibc),
            "musl" => Ok(Self::Musl),
            "android" => Ok(Self::Android),
            _ => Err(NameError {
                text: s.to_owned(),
                kind: "libc",
                expected: "`glibc`, `musl` or `android`",
            }),
        }
    }
}

/// A policy's name without its architecture, as in auditwheel's policy files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyName {
    /// `linux`: the catch-all policy with no promise (priority 0).
    Linux,
    /// `manylinux_X_Y`: glibc X.Y or newer (PEP 600).
    Manylinux(GlibcVersion),
    /// `musllinux_X_Y`: musl X.Y or newer (PEP 656).
    Musllinux(GlibcVersion),
    /// `android_N`: Android API level N or newer (PEP 738).
    Android(u32),
}

impl PolicyName {
    /// The policy's platform tag for an architecture (`manylinux_2_17_x86_64`).
    pub fn tag(self, arch: &Arch) -> PlatformTag {
        match self {
            Self::Linux => PlatformTag::Linux(arch.clone()),
            Self::Manylinux(glibc) => PlatformTag::Manylinux {
                glibc,
                arch: arch.clone(),
            },
            Self::Musllinux(musl) => PlatformTag::Musllinux {
                musl,
                arch: arch.clone(),
            },
            Self::Android(api) => PlatformTag::Android {
                api,
                abi: ANDROID_ABIS
                    .iter()
                    .find(|(_, a)| a == arch)
                    .map_or_else(|| arch.to_string(), |(abi, _)| (*abi).to_owned()),
            },
        }
    }

    /// The name a platform tag stands for, and its architecture; legacy aliases
    /// (`manylinux2014_x86_64`) map to their PEP 600 name. `None` for non-Linux tags.
    pub fn from_tag(tag: &PlatformTag) -> Option<(Self, &Arch)> {
        match tag {
            PlatformTag::Linux(arch) => Some((Self::Linux, arch)),
            PlatformTag::Manylinux { glibc, arch } => Some((Self::Manylinux(*glibc), arch)),
            PlatformTag::LegacyManylinux { alias, arch } => {
                Some((Self::Manylinux(alias.glibc()), arch))
            }
            PlatformTag::Musllinux { musl, arch } => Some((Self::Musllinux(*musl), arch)),
            PlatformTag::Android { api, abi } => ANDROID_ABIS
                .iter()
                .find(|(a, _)| a == abi)
                .map(|(_, arch)| (Self::Android(*api), arch)),
            _ => None,
        }
    }

    /// The libc family of the name; `None` for `linux`.
    pub fn libc(self) -> Option<Libc> {
        match self {
            Self::Linux => None,
            Self::Manylinux(_) => Some(Libc::Glibc),
            Self::Musllinux(_) => Some(Libc::Musl),
            Self::Android(_) => Some(Libc::Android),
        }
    }

    /// The legacy alias of a manylinux name (`manylinux_2_17` → `manylinux2014`), if any.
    pub fn legacy_alias(self) -> Option<LegacyManylinux> {
        match self {
            Self::Manylinux(glibc) => [
                LegacyManylinux::Manylinux1,
                LegacyManylinux::Manylinux2010,
                LegacyManylinux::Manylinux2014,
            ]
            .into_iter()
            .find(|a| a.glibc() == glibc),
            _ => None,
        }
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Linux => f.write_str("linux"),
            Self::Manylinux(v) => write!(f, "manylinux_{}_{}", v.major, v.minor),
            Self::Musllinux(v) => write!(f, "musllinux_{}_{}", v.major, v.minor),
            Self::Android(api) => write!(f, "android_{api}"),
        }
    }
}

impl FromStr for PolicyName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        let bad = || {
            NameError {
            text: s.to_owned(),
            kind: "policy name",
            expected: "`linux`, `manylinux_<major>_<minor>`, `musllinux_<major>_<minor>` or `android_<level>`",
        }
        };
        if s == "linux" {
            return Ok(Self::Linux);
        }
        let number = |d: &str| {
            (!d.is_empty()
                && d.bytes().all(|b| b.is_ascii_digit())
                && !(d.len() > 1 && d.starts_with('0')))
            .then(|| d.parse::<u32>().ok())
            .flatten()
        };
        if let Some(api) = s.strip_prefix("android_") {
            return number(api).map(Self::Android).ok_or_else(bad);
        }
        let (family, rest): (fn(GlibcVersion) -> Self, &str) =
            if let Some(rest) = s.strip_prefix("manylinux_") {
                (Self::Manylinux, rest)
            } else if let Some(rest) = s.strip_prefix("musllinux_") {
                (Self::Musllinux, rest)
            } else {
                return Err(bad());
            };
        let (major, minor) = rest.split_once('_').ok_or_else(bad)?;
        match (number(major), number(minor)) {
            (Some(major), Some(minor)) => Ok(family(GlibcVersion::new(major, minor))),
            _ => Err(bad()),
        }
    }
}

/// A symbol version name as auditwheel splits it: everything before the first `_` is the
/// prefix the policies are keyed by (`GLIBC`, `GLIBCXX`, `CXXABI`, `GCC`, `ZLIB`,
/// `LIBATOMIC`), the rest is the version (`2.17`, `LDBL_3.4.7`, `PRIVATE`).
///
/// auditwheel compares versions only as strings within a prefix's allowed set, never
/// numerically; [`SymbolVersion::numeric`] exists for sorting and messages only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SymbolVersion {
    /// Text before the first `_` (the whole name when there is none).
    pub prefix: String,
    /// Text after the first `_`; `None` when the name has no `_`.
    pub version: Option<String>,
}

impl SymbolVersion {
    /// Splits a version name the way auditwheel does (`str.partition("_")`). Never fails.
    pub fn parse(s: &str) -> Self {
        match s.split_once('_') {
            Some((prefix, version)) => Self {
                prefix: prefix.to_owned(),
                version: Some(version.to_owned()),
            },
            None => Self {
                prefix: s.to_owned(),
                version: None,
            },
        }
    }

    /// The dotted numeric parts of the version (`2.17` → `[2, 17]`); `None` when the
    /// version is not purely numeric (`PRIVATE`, `LDBL_3.4.7`, `ABI_DT_RELR`).
    pub fn numeric(&self) -> Option<Vec<u32>> {
        let v = self.version.as_deref()?;
        v.split('.').map(|p| p.parse().ok()).collect()
    }
}

impl fmt::Display for SymbolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}_{v}", self.prefix),
            None => f.write_str(&self.prefix),
        }
    }
}

impl FromStr for SymbolVersion {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

impl PartialOrd for SymbolVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders by prefix, then numeric versions numerically (`2.9` < `2.17`) before
/// non-numeric ones, then by text.
impl Ord for SymbolVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.prefix
            .cmp(&other.prefix)
            .then_with(|| match (self.numeric(), other.numeric()) {
                (Some(a), Some(b)) => a.cmp(&b),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            })
            .then_with(|| self.version.cmp(&other.version))
    }
}

serialize_display!(Libc, PolicyName, SymbolVersion);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_round_trip() {
        for s in [
            "linux",
            "manylinux_2_17",
            "manylinux_2_5",
            "musllinux_1_2",
            "android_24",
        ] {
            let n: PolicyName = s.parse().unwrap();
            assert_eq!(n.to_string(), s);
        }
        for bad in [
            "",
            "manylinux2014",
            "manylinux_2",
            "manylinux_02_17",
            "musllinux_1_x",
            "Linux",
        ] {
            assert!(bad.parse::<PolicyName>().is_err(), "{bad}");
        }
        assert_eq!(
            PolicyName::Manylinux(GlibcVersion::new(2, 17)).legacy_alias(),
            Some(LegacyManylinux::Manylinux2014)
        );
        assert_eq!(
            PolicyName::Manylinux(GlibcVersion::new(2, 28)).legacy_alias(),
            None
        );
    }

    #[test]
    fn names_map_to_and_from_tags() {
        let n = PolicyName::Manylinux(GlibcVersion::new(2, 17));
        assert_eq!(n.tag(&Arch::Aarch64).to_string(), "manylinux_2_17_aarch64");
        let alias: PlatformTag = "manylinux2014_aarch64".parse().unwrap();
        assert_eq!(PolicyName::from_tag(&alias), Some((n, &Arch::Aarch64)));
        let linux: PlatformTag = "linux_i686".parse().unwrap();
        assert_eq!(
            PolicyName::from_tag(&linux),
            Some((PolicyName::Linux, &Arch::I686))
        );
        assert_eq!(PolicyName::from_tag(&PlatformTag::Any), None);
        let android: PlatformTag = "android_24_arm64_v8a".parse().unwrap();
        assert_eq!(
            PolicyName::from_tag(&android),
            Some((PolicyName::Android(24), &Arch::Aarch64))
        );
        assert_eq!(PolicyName::Android(24).tag(&Arch::Aarch64), android);
    }

    #[test]
    fn libc_round_trips() {
        for l in [Libc::Glibc, Libc::Musl, Libc::Android] {
            assert_eq!(l.to_string().parse::<Libc>().unwrap(), l);
        }
        assert!("bionic".parse::<Libc>().is_err());
    }

    #[test]
    fn symbol_versions_split_like_python_partition() {
        let v = SymbolVersion::parse("GLIBCXX_LDBL_3.4.7");
        assert_eq!(v.prefix, "GLIBCXX");
        assert_eq!(v.version.as_deref(), Some("LDBL_3.4.7"));
        assert_eq!(v.numeric(), None);
        let p = SymbolVersion::parse("GLIBC_PRIVATE");
        assert_eq!(
            (p.prefix.as_str(), p.version.as_deref()),
            ("GLIBC", Some("PRIVATE"))
        );
        for s in ["GLIBC_2.17", "FOO", "FOO_", "GLIBC_ABI_DT_RELR", "_x"] {
            assert_eq!(SymbolVersion::parse(s).to_string(), s);
        }
        let mut vs: Vec<SymbolVersion> =
            ["GLIBC_2.17", "GLIBC_2.9", "GLIBC_PRIVATE", "GLIBC_2.2.5"]
                .iter()
                .map(|s| SymbolVersion::parse(s))
                .collect();
        vs.sort();
        let text: Vec<String> = vs.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            ["GLIBC_2.2.5", "GLIBC_2.9", "GLIBC_2.17", "GLIBC_PRIVATE"]
        );
    }
}
