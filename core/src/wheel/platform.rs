//! Platform tags: PEP 600 `manylinux_X_Y_arch` and the legacy aliases of PEP 513/571/599,
//! PEP 656 `musllinux_X_Y_arch`, `linux_*`, `macosx_*`, `win*` and `any`, with the
//! architectures and C library versions they name. Parse and print round-trip exactly.

use std::fmt;
use std::str::FromStr;

use super::tags::{check_chars, tag_error, TagError};

/// A CPU architecture as spelled in Linux platform tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    /// `x86_64`
    X86_64,
    /// `i686`
    I686,
    /// `aarch64`
    Aarch64,
    /// `armv7l`
    Armv7l,
    /// `ppc64le`
    Ppc64le,
    /// `ppc64` (big-endian)
    Ppc64,
    /// `s390x`
    S390x,
    /// `riscv64`
    Riscv64,
    /// `loongarch64`
    Loongarch64,
    /// Any other spelling (`armv6l`, `i386`, …).
    Other(String),
}

impl Arch {
    /// The spelling used in tags.
    pub fn as_str(&self) -> &str {
        match self {
            Self::X86_64 => "x86_64",
            Self::I686 => "i686",
            Self::Aarch64 => "aarch64",
            Self::Armv7l => "armv7l",
            Self::Ppc64le => "ppc64le",
            Self::Ppc64 => "ppc64",
            Self::S390x => "s390x",
            Self::Riscv64 => "riscv64",
            Self::Loongarch64 => "loongarch64",
            Self::Other(s) => s,
        }
    }

    /// Whether two architectures are one machine as far as an ELF file's header tells:
    /// equal, or both 32-bit ARM (`armv6l`, `armv7l`, `armv8l`: one `EM_ARM`, which
    /// auditwheel calls `armv7l`; ruff and uv publish `linux_armv6l` wheels).
    pub fn same_machine(&self, other: &Arch) -> bool {
        let arm32 = |a: &Arch| matches!(a.as_str(), "armv6l" | "armv7l" | "armv8l");
        self == other || (arm32(self) && arm32(other))
    }

    /// Parses an architecture; unknown spellings are kept as [`Arch::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "x86_64" => Self::X86_64,
            "i686" => Self::I686,
            "aarch64" => Self::Aarch64,
            "armv7l" => Self::Armv7l,
            "ppc64le" => Self::Ppc64le,
            "ppc64" => Self::Ppc64,
            "s390x" => Self::S390x,
            "riscv64" => Self::Riscv64,
            "loongarch64" => Self::Loongarch64,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Android's ABI names (PEP 738) and the architecture each is.
pub const ANDROID_ABIS: [(&str, Arch); 4] = [
    ("arm64_v8a", Arch::Aarch64),
    ("x86_64", Arch::X86_64),
    ("armeabi_v7a", Arch::Armv7l),
    ("x86", Arch::I686),
];

/// The legacy manylinux names of PEP 513, PEP 571 and PEP 599.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LegacyManylinux {
    /// `manylinux1` = `manylinux_2_5`.
    Manylinux1,
    /// `manylinux2010` = `manylinux_2_12`.
    Manylinux2010,
    /// `manylinux2014` = `manylinux_2_17`.
    Manylinux2014,
}

impl LegacyManylinux {
    /// The prefix as spelled in tags.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manylinux1 => "manylinux1",
            Self::Manylinux2010 => "manylinux2010",
            Self::Manylinux2014 => "manylinux2014",
        }
    }

    /// The glibc version the alias stands for.
    pub fn glibc(self) -> GlibcVersion {
        match self {
            Self::Manylinux1 => GlibcVersion::new(2, 5),
            Self::Manylinux2010 => GlibcVersion::new(2, 12),
            Self::Manylinux2014 => GlibcVersion::new(2, 17),
        }
    }

    /// The legacy alias of `manylinux_<glibc>_<arch>`, where the PEPs define one.
    pub fn for_policy(glibc: GlibcVersion, arch: &Arch) -> Option<Self> {
        let alias = match (glibc.major, glibc.minor) {
            (2, 5) => Self::Manylinux1,
            (2, 12) => Self::Manylinux2010,
            (2, 17) => Self::Manylinux2014,
            _ => return None,
        };
        alias.supports(arch).then_some(alias)
    }

    /// Whether the alias was defined for this architecture.
    pub fn supports(self, arch: &Arch) -> bool {
        match self {
            Self::Manylinux1 | Self::Manylinux2010 => matches!(arch, Arch::X86_64 | Arch::I686),
            Self::Manylinux2014 => matches!(
                arch,
                Arch::X86_64
                    | Arch::I686
                    | Arch::Aarch64
                    | Arch::Armv7l
                    | Arch::Ppc64
                    | Arch::Ppc64le
                    | Arch::S390x
            ),
        }
    }
}

/// A `major.minor` C library version (glibc for manylinux, musl for musllinux).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GlibcVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl GlibcVersion {
    /// A version from its parts.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A platform tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlatformTag {
    /// `any`
    Any,
    /// `manylinux_X_Y_arch` (PEP 600).
    Manylinux {
        /// The glibc version.
        glibc: GlibcVersion,
        /// The architecture.
        arch: Arch,
    },
    /// `manylinux1_arch`, `manylinux2010_arch`, `manylinux2014_arch`.
    LegacyManylinux {
        /// Which alias.
        alias: LegacyManylinux,
        /// The architecture.
        arch: Arch,
    },
    /// `musllinux_X_Y_arch` (PEP 656).
    Musllinux {
        /// The musl version.
        musl: GlibcVersion,
        /// The architecture.
        arch: Arch,
    },
    /// `linux_arch`: built on Linux, no portability promise.
    Linux(Arch),
    /// `macosx_X_Y_arch`.
    Macos {
        /// Major version of macOS.
        major: u32,
        /// Minor version of macOS.
        minor: u32,
        /// `x86_64`, `arm64`, `universal2`, `intel`, …
        arch: String,
    },
    /// `win32`, `win_amd64`, `win_arm64`, `win_ia64`.
    Windows(String),
    /// `android_<api>_<abi>` (PEP 738): the Android API level the wheel needs, and its
    /// ABI as Android spells it (`arm64_v8a`, `x86_64`, `armeabi_v7a`, `x86`).
    Android {
        /// The API level (21 is the lowest Python supports).
        api: u32,
        /// The ABI, as in the tag.
        abi: String,
    },
    /// Any other well-formed platform tag (`ios_…`, `android_…`, `freebsd_…`).
    Other(String),
}

/// Splits `X_Y_rest` into its two leading numbers and the rest.
fn split_version(s: &str) -> Option<(u32, u32, &str)> {
    let (major, rest) = s.split_once('_')?;
    let (minor, arch) = rest.split_once('_')?;
    let parse = |d: &str| {
        (!d.is_empty()
            && d.bytes().all(|b| b.is_ascii_digit())
            && !(d.len() > 1 && d.starts_with('0')))
        .then(|| d.parse().ok())
        .flatten()
    };
    Some((parse(major)?, parse(minor)?, arch))
}

impl FromStr for PlatformTag {
    type Err = TagError;
    fn from_str(s: &str) -> Result<Self, TagError> {
        check_chars(s, "platform")?;
        if s == "any" {
            return Ok(Self::Any);
        }
        let bad = |reason| Err(tag_error(s, "platform", reason));
        for alias in [
            LegacyManylinux::Manylinux1,
            LegacyManylinux::Manylinux2010,
            LegacyManylinux::Manylinux2014,
        ] {
            if let Some(arch) = s
                .strip_prefix(alias.as_str())
                .and_then(|r| r.strip_prefix('_'))
            {
                if arch.is_empty() {
                    return bad("the architecture is missing");
                }
                return Ok(Self::LegacyManylinux {
                    alias,
                    arch: Arch::parse(arch),
                });
            }
        }
        if let Some(rest) = s.strip_prefix("manylinux_") {
            return match split_version(rest) {
                Some((major, minor, arch)) if !arch.is_empty() => Ok(Self::Manylinux {
                    glibc: GlibcVersion::new(major, minor),
                    arch: Arch::parse(arch),
                }),
                _ => bad("expected manylinux_<major>_<minor>_<arch>"),
            };
        }
        if let Some(rest) = s.strip_prefix("musllinux_") {
            return match split_version(rest) {
                Some((major, minor, arch)) if !arch.is_empty() => Ok(Self::Musllinux {
                    musl: GlibcVersion::new(major, minor),
                    arch: Arch::parse(arch),
                }),
                _ => bad("expected musllinux_<major>_<minor>_<arch>"),
            };
        }
        if let Some(rest) = s.strip_prefix("macosx_") {
            return match split_version(rest) {
                Some((major, minor, arch)) if !arch.is_empty() => Ok(Self::Macos {
                    major,
                    minor,
                    arch: arch.to_owned(),
                }),
                _ => bad("expected macosx_<major>_<minor>_<arch>"),
            };
        }
        if let Some(arch) = s.strip_prefix("linux_") {
            if arch.is_empty() {
                return bad("the architecture is missing");
            }
            return Ok(Self::Linux(Arch::parse(arch)));
        }
        if s == "win32" || s.starts_with("win_") {
            return Ok(Self::Windows(s.to_owned()));
        }
        if let Some((api, abi)) = s.strip_prefix("android_").and_then(|r| r.split_once('_')) {
            let level = (!api.is_empty()
                && api.bytes().all(|b| b.is_ascii_digit())
                && !(api.len() > 1 && api.starts_with('0')))
            .then(|| api.parse().ok())
            .flatten();
            if let (Some(api), false) = (level, abi.is_empty()) {
                return Ok(Self::Android {
                    api,
                    abi: abi.to_owned(),
                });
            }
        }
        if s.starts_with("manylinux") || s.starts_with("musllinux") || s == "linux" {
            return bad("unknown manylinux/musllinux spelling");
        }
        Ok(Self::Other(s.to_owned()))
    }
}

impl fmt::Display for PlatformTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::Manylinux { glibc, arch } => {
                write!(f, "manylinux_{}_{}_{arch}", glibc.major, glibc.minor)
            }
            Self::LegacyManylinux { alias, arch } => write!(f, "{}_{arch}", alias.as_str()),
            Self::Musllinux { musl, arch } => {
                write!(f, "musllinux_{}_{}_{arch}", musl.major, musl.minor)
            }
            Self::Linux(arch) => write!(f, "linux_{arch}"),
            Self::Macos { major, minor, arch } => write!(f, "macosx_{major}_{minor}_{arch}"),
            Self::Windows(s) | Self::Other(s) => f.write_str(s),
            Self::Android { api, abi } => write!(f, "android_{api}_{abi}"),
        }
    }
}

impl PlatformTag {
    /// Tags as a wheel's name writes a set of them: `manylinux2014_x86_64.manylinux_2_17_x86_64`.
    pub fn dotted(tags: &[Self]) -> String {
        let texts: Vec<String> = tags.iter().map(ToString::to_string).collect();
        texts.join(".")
    }

    /// The Linux architecture this tag names, if it is a Linux tag.
    pub fn linux_arch(&self) -> Option<&Arch> {
        match self {
            Self::Manylinux { arch, .. }
            | Self::LegacyManylinux { arch, .. }
            | Self::Musllinux { arch, .. }
            | Self::Linux(arch) => Some(arch),
            _ => None,
        }
    }

    /// The glibc version a manylinux tag (either spelling) promises.
    pub fn manylinux_glibc(&self) -> Option<GlibcVersion> {
        match self {
            Self::Manylinux { glibc, .. } => Some(*glibc),
            Self::LegacyManylinux { alias, .. } => Some(alias.glibc()),
            _ => None,
        }
    }

    /// The architecture of a tag that policies judge: a Linux one's, or an Android one's
    /// (by its ABI).
    pub fn policy_arch(&self) -> Option<Arch> {
        self.linux_arch().cloned().or_else(|| self.android_arch())
    }

    /// The architecture of an Android tag, by its ABI (`arm64_v8a` is aarch64); `None`
    /// for other tags and unknown ABIs.
    pub fn android_arch(&self) -> Option<Arch> {
        let Self::Android { abi, .. } = self else {
            return None;
        };
        ANDROID_ABIS
            .iter()
            .find(|(a, _)| a == abi)
            .map(|(_, arch)| arch.clone())
    }

    /// The PEP 600 spelling of a legacy alias; other tags are returned unchanged.
    #[must_use]
    pub fn to_pep600(&self) -> Self {
        match self {
            Self::LegacyManylinux { alias, arch } => Self::Manylinux {
                glibc: alias.glibc(),
                arch: arch.clone(),
            },
            other => other.clone(),
        }
    }

    /// The legacy alias of a PEP 600 tag, where one is defined.
    pub fn legacy_alias(&self) -> Option<Self> {
        match self {
            Self::Manylinux { glibc, arch } => {
                LegacyManylinux::for_policy(*glibc, arch).map(|alias| Self::LegacyManylinux {
                    alias,
                    arch: arch.clone(),
                })
            }
            _ => None,
        }
    }
}

serialize_display!(PlatformTag, Arch);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::tags::{AbiTag, PythonTag};
    use proptest::prelude::*;

    #[test]
    fn every_platform_family_parses_and_round_trips() {
        let cases = [
            ("any", PlatformTag::Any),
            (
                "manylinux_2_17_x86_64",
                PlatformTag::Manylinux {
                    glibc: GlibcVersion::new(2, 17),
                    arch: Arch::X86_64,
                },
            ),
            (
                "manylinux_2_28_aarch64",
                PlatformTag::Manylinux {
                    glibc: GlibcVersion::new(2, 28),
                    arch: Arch::Aarch64,
                },
            ),
            (
                "manylinux1_x86_64",
                PlatformTag::LegacyManylinux {
                    alias: LegacyManylinux::Manylinux1,
                    arch: Arch::X86_64,
                },
            ),
            (
                "manylinux2010_i686",
                PlatformTag::LegacyManylinux {
                    alias: LegacyManylinux::Manylinux2010,
                    arch: Arch::I686,
                },
            ),
            (
                "manylinux2014_ppc64le",
                PlatformTag::LegacyManylinux {
                    alias: LegacyManylinux::Manylinux2014,
                    arch: Arch::Ppc64le,
                },
            ),
            (
                "musllinux_1_2_x86_64",
                PlatformTag::Musllinux {
                    musl: GlibcVersion::new(1, 2),
                    arch: Arch::X86_64,
                },
            ),
            (
                "musllinux_1_1_armv7l",
                PlatformTag::Musllinux {
                    musl: GlibcVersion::new(1, 1),
                    arch: Arch::Armv7l,
                },
            ),
            (
                "macosx_10_9_x86_64",
                PlatformTag::Macos {
                    major: 10,
                    minor: 9,
                    arch: "x86_64".into(),
                },
            ),
            (
                "macosx_11_0_universal2",
                PlatformTag::Macos {
                    major: 11,
                    minor: 0,
                    arch: "universal2".into(),
                },
            ),
            ("win_amd64", PlatformTag::Windows("win_amd64".into())),
            ("win32", PlatformTag::Windows("win32".into())),
            ("win_arm64", PlatformTag::Windows("win_arm64".into())),
            ("linux_x86_64", PlatformTag::Linux(Arch::X86_64)),
            ("linux_riscv64", PlatformTag::Linux(Arch::Riscv64)),
            ("linux_loongarch64", PlatformTag::Linux(Arch::Loongarch64)),
            ("linux_s390x", PlatformTag::Linux(Arch::S390x)),
            (
                "linux_armv6l",
                PlatformTag::Linux(Arch::Other("armv6l".into())),
            ),
            (
                "ios_13_0_arm64_iphoneos",
                PlatformTag::Other("ios_13_0_arm64_iphoneos".into()),
            ),
            (
                "android_24_arm64_v8a",
                PlatformTag::Android {
                    api: 24,
                    abi: "arm64_v8a".into(),
                },
            ),
            (
                "android_21_armeabi_v7a",
                PlatformTag::Android {
                    api: 21,
                    abi: "armeabi_v7a".into(),
                },
            ),
            ("android_x86", PlatformTag::Other("android_x86".into())),
        ];
        for (text, want) in cases {
            let got: PlatformTag = text.parse().unwrap();
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), text);
        }
    }

    #[test]
    fn legacy_aliases_map_to_pep600_and_back() {
        let t: PlatformTag = "manylinux2014_aarch64".parse().unwrap();
        assert_eq!(t.to_pep600().to_string(), "manylinux_2_17_aarch64");
        assert_eq!(t.manylinux_glibc(), Some(GlibcVersion::new(2, 17)));
        let p: PlatformTag = "manylinux_2_5_i686".parse().unwrap();
        assert_eq!(p.legacy_alias().unwrap().to_string(), "manylinux1_i686");
        let p: PlatformTag = "manylinux_2_12_aarch64".parse().unwrap();
        assert_eq!(p.legacy_alias(), None, "manylinux2010 had no aarch64");
        let p: PlatformTag = "manylinux_2_28_x86_64".parse().unwrap();
        assert_eq!(p.legacy_alias(), None);
    }

    #[test]
    fn bad_platform_tags_are_refused() {
        for bad in [
            "",
            "Linux_x86_64",
            "manylinux_2_x86_64",
            "manylinux_2_17_",
            "manylinux_02_17_x86_64",
            "musllinux_1",
            "manylinux3_x86_64",
            "linux-x86_64",
            "manylinux1_",
        ] {
            assert!(bad.parse::<PlatformTag>().is_err(), "{bad:?} should fail");
        }
    }

    fn arch() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("x86_64".to_owned()),
            Just("aarch64".to_owned()),
            Just("i686".to_owned()),
            Just("ppc64le".to_owned()),
            "[a-z][a-z0-9]{0,6}",
        ]
    }

    proptest! {
        #[test]
        fn platform_tags_round_trip(major in 0u32..40, minor in 0u32..60, arch in arch(), family in 0..6) {
            let text = match family {
                0 => format!("manylinux_{major}_{minor}_{arch}"),
                1 => format!("musllinux_{major}_{minor}_{arch}"),
                2 => format!("linux_{arch}"),
                3 => format!("macosx_{major}_{minor}_{arch}"),
                4 => format!("manylinux2014_{arch}"),
                _ => format!("win_{arch}"),
            };
            let tag: PlatformTag = text.parse().unwrap();
            prop_assert_eq!(tag.to_string(), text);
            let again: PlatformTag = tag.to_string().parse().unwrap();
            prop_assert_eq!(again, tag);
        }

        #[test]
        fn any_tag_text_that_parses_round_trips(s in "[a-z0-9_]{1,24}") {
            if let Ok(t) = s.parse::<PlatformTag>() { prop_assert_eq!(t.to_string(), s.clone()); }
            if let Ok(t) = s.parse::<AbiTag>() { prop_assert_eq!(t.to_string(), s.clone()); }
            if let Ok(t) = s.parse::<PythonTag>() { prop_assert_eq!(t.to_string(), s); }
        }
    }
}
