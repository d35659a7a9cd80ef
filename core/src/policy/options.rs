//! How an evaluation is set up ([`AnalyzeOptions`]), as auditwheel's `show` and `repair`
//! set up `analyze_wheel_abi`: the libc and architecture read from the wheel's platform
//! tags (`wheeltools.get_wheel_libc` / `get_wheel_architecture`), what the host would
//! decide when nothing else does, and the `repair` flags.

use std::fmt;
use std::str::FromStr;

use super::name::{Libc, NameError};
use super::set::MuslPolicies;
use crate::wheel::tags::{Arch, PlatformTag};

/// Why the wheel's platform tags name no single architecture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagArchError {
    /// Only `any`: a pure wheel (auditwheel's `NonPlatformWheelError`).
    #[error("the wheel is tagged `any`")]
    Pure,
    /// No tag ends in an architecture auditwheel knows.
    #[error("unknown architecture")]
    Unknown,
    /// Several architectures, or a tag without one beside tags with one.
    #[error("wheels with multiple architectures are not supported")]
    Multiple,
}

/// Why the wheel's platform tags name no single libc.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagLibcError {
    /// No `manylinux`/`musllinux`/`android` tag.
    #[error("unknown libc used")]
    Unknown,
    /// Tags of two families (`manylinux` and `musllinux`, or `android`).
    #[error("wheels with multiple libc are not supported")]
    Multiple,
    /// An Android wheel with more than one platform tag: its one tag names the API
    /// level its policy is chosen by (auditwheel's words).
    #[error("Android wheels must have exactly one platform tag, got {0}")]
    AndroidTags(String),
}

/// auditwheel's `get_wheel_architecture`: the baseline architecture all platform tags
/// end in (`_x86_64`, and also `_x86_64_v3`, `_arm64_v8a` → aarch64; any tag, even
/// `macosx_11_0_x86_64`, is matched by its ending).
pub fn tags_arch(platforms: &[PlatformTag]) -> Result<Arch, TagArchError> {
    let mut texts: Vec<String> = platforms.iter().map(ToString::to_string).collect();
    texts.sort();
    texts.dedup();
    let mut found: Vec<Arch> = Vec::new();
    let (mut missed, mut pure) = (false, true);
    for text in &texts {
        let any = text == "any";
        pure &= any;
        missed |= any;
        if any {
            continue;
        }
        let mut hit = false;
        for (name, base) in &AUDITWHEEL_ARCHES {
            if text.strip_suffix(name).is_some_and(|t| t.ends_with('_')) {
                if !found.contains(base) {
                    found.push(base.clone());
                }
                hit = true;
            }
        }
        missed |= !hit;
    }
    match found.len() {
        0 if pure => Err(TagArchError::Pure),
        0 => Err(TagArchError::Unknown),
        1 if !missed => Ok(found.remove(0)),
        _ => Err(TagArchError::Multiple),
    }
}

/// auditwheel's `get_wheel_libc`: the libc all platform tags agree on, by prefix.
pub fn tags_libc(platforms: &[PlatformTag]) -> Result<Libc, TagLibcError> {
    let (mut glibc, mut musl, mut android) = (false, false, false);
    for text in platforms.iter().map(ToString::to_string) {
        glibc |= text.starts_with("manylinux");
        musl |= text.starts_with("musllinux");
        android |= text.starts_with("android");
    }
    match (glibc, musl, android) {
        (false, false, false) => Err(TagLibcError::Unknown),
        (true, false, false) => Ok(Libc::Glibc),
        (false, true, false) => Ok(Libc::Musl),
        (false, false, true) => Ok(Libc::Android),
        _ => Err(TagLibcError::Multiple),
    }
}

/// The architectures auditwheel knows, in the order of its `Architecture` enum (which
/// matters where it matches names by suffix), with the baseline each stands for
/// (`arm64_v8a` is Android's name for aarch64).
pub(crate) const AUDITWHEEL_ARCHES: [(&str, Arch); 13] = [
    ("aarch64", Arch::Aarch64),
    ("arm64_v8a", Arch::Aarch64),
    ("armv7l", Arch::Armv7l),
    ("i686", Arch::I686),
    ("loongarch64", Arch::Loongarch64),
    ("ppc64", Arch::Ppc64),
    ("ppc64le", Arch::Ppc64le),
    ("riscv64", Arch::Riscv64),
    ("s390x", Arch::S390x),
    ("x86_64", Arch::X86_64),
    ("x86_64_v2", Arch::X86_64),
    ("x86_64_v3", Arch::X86_64),
    ("x86_64_v4", Arch::X86_64),
];

/// A `--plat` request of `auditwheel repair`: `auto` or a policy name with its
/// architecture (`manylinux_2_17_x86_64`, `manylinux2014_x86_64`, `musllinux_1_2_aarch64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatRequest {
    /// `auto`: the best policy the wheel meets.
    Auto,
    /// One policy, by any of its names.
    Tag(PlatformTag),
}

impl PlatRequest {
    /// auditwheel's `plat_base`: the request without its architecture suffix
    /// (`manylinux_2_17`, `manylinux2014`, `auto`). auditwheel matches this text against
    /// policy names (not aliases) when it limits grafting; see `AUDITWHEEL.md`.
    pub fn base_name(&self) -> String {
        match self {
            Self::Auto => "auto".into(),
            Self::Tag(tag) => {
                let text = tag.to_string();
                for (suffix, _) in AUDITWHEEL_ARCHES {
                    if let Some(base) = text.strip_suffix(suffix).and_then(|b| b.strip_suffix('_'))
                    {
                        return base.to_owned();
                    }
                }
                text
            }
        }
    }

    /// The architecture the request names, if any.
    pub fn arch(&self) -> Option<&Arch> {
        match self {
            Self::Auto => None,
            Self::Tag(tag) => tag.linux_arch(),
        }
    }
}

impl fmt::Display for PlatRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Tag(t) => write!(f, "{t}"),
        }
    }
}

impl FromStr for PlatRequest {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        if s == "auto" {
            return Ok(Self::Auto);
        }
        match s.parse::<PlatformTag>() {
            Ok(
                tag @ (PlatformTag::Manylinux { .. }
                | PlatformTag::LegacyManylinux { .. }
                | PlatformTag::Musllinux { .. }),
            ) => Ok(Self::Tag(tag)),
            _ => Err(NameError {
                text: s.to_owned(),
                kind: "--plat value",
                expected: "`auto` or a manylinux/musllinux tag such as `manylinux_2_17_x86_64`",
            }),
        }
    }
}

/// A policy for `audit --plat` (and the Action's `policy`): a manylinux, musllinux or
/// plain `linux` tag of an architecture auditwheel knows. Any other tag would be
/// "failed" by every wheel and "met" by every pure one, so a misspelling
/// (`manylinux_2_17_amd64`, `musllinux_2_17_x86_64`) is refused instead.
pub fn audit_policy(s: &str) -> Result<PlatformTag, NameError> {
    let known = super::set::known_arch;
    if let Ok(tag) = s.parse::<PlatformTag>() {
        let ok = match &tag {
            PlatformTag::Manylinux { glibc, arch } => glibc.major == 2 && known(arch),
            PlatformTag::Musllinux { musl, arch } => musl.major == 1 && known(arch),
            PlatformTag::LegacyManylinux { alias, arch } => alias.supports(arch),
            // ruff and uv publish `linux_armv6l` wheels (see `Arch::same_machine`).
            PlatformTag::Linux(arch) => known(arch) || arch.same_machine(&Arch::Armv7l),
            PlatformTag::Android { .. } => tag.android_arch().is_some(),
            _ => false,
        };
        if ok {
            return Ok(tag);
        }
    }
    Err(NameError {
        text: s.to_owned(),
        kind: "policy",
        expected: "a manylinux, musllinux, android or linux tag of a known architecture, such as `manylinux_2_17_x86_64`",
    })
}

/// What auditwheel asks of the machine it runs on: its C library (`Libc.detect()`: musl
/// when `/lib/libc.musl-*.so.1` exists), assumed for a wheel whose files link none, and
/// for musl, its version, which selects the musllinux policy evaluated. The default is a
/// machine without musl (and a browser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostLibc {
    /// The host's C library.
    pub libc: Libc,
    /// The musllinux policy to evaluate: the host's musl, or the newest known.
    pub musl: MuslPolicies,
}

impl Default for HostLibc {
    fn default() -> Self {
        Self {
            libc: Libc::Glibc,
            musl: MuslPolicies::Latest,
        }
    }
}

/// The set-up of one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// The libc the wheel's name says, if it says one.
    pub libc: Option<Libc>,
    /// The architecture the wheel's name says, if it says one (a baseline).
    pub arch: Option<Arch>,
    /// An Android wheel's API level, from its one platform tag: its policy is chosen by
    /// it (see [`super::PolicySet::android`]).
    pub android_api: Option<u32>,
    /// The libc to assume when neither the name nor any ELF file tells; auditwheel asks
    /// the host (musl when `/lib/libc.musl-*.so.1` exists, else glibc).
    pub host_libc: Libc,
    /// Which musllinux policy to evaluate; auditwheel asks the host's musl.
    pub musl: MuslPolicies,
    /// `--disable-isa-ext-check`.
    pub disable_isa_ext_check: bool,
    /// Whether libraries outside the whitelist may be bundled (`repair`), so they do not
    /// lower the overall tag; `show` says no.
    pub allow_graft: bool,
    /// `repair --plat`: `None` for `show`.
    pub requested: Option<PlatRequest>,
}

impl AnalyzeOptions {
    /// These options on `host` (see [`HostLibc`]).
    #[must_use]
    pub fn on(mut self, host: HostLibc) -> Self {
        self.host_libc = host.libc;
        self.musl = host.musl;
        self
    }
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self {
            libc: None,
            arch: None,
            android_api: None,
            host_libc: Libc::Glibc,
            musl: MuslPolicies::Latest,
            disable_isa_ext_check: false,
            allow_graft: false,
            requested: None,
        }
    }
}

/// Why `repair --plat` refuses a wheel before looking inside (auditwheel's parser errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The wheel is for another architecture than `--plat`.
    #[error("can't repair a wheel with {wheel} architecture to a wheel targeting {requested}")]
    Arch {
        /// The wheel's.
        wheel: Arch,
        /// `--plat`'s.
        requested: Arch,
    },
    /// The wheel is for another libc than `--plat`.
    #[error("can't repair a wheel with {wheel} libc to a wheel targeting {requested}")]
    Libc {
        /// The wheel's.
        wheel: Libc,
        /// `--plat`'s.
        requested: Libc,
    },
    /// Android tags.
    #[error(transparent)]
    Tags(#[from] TagLibcError),
}

impl AnalyzeOptions {
    /// `auditwheel show`: libc and architecture from the platform tags when they tell.
    /// Also says whether the name is pure (`any`), which `--allow-pure-python-wheel` uses.
    pub fn show(platforms: &[PlatformTag]) -> Result<(Self, bool), TagLibcError> {
        let arch = tags_arch(platforms);
        let libc = tags_libc(platforms).ok();
        let mut android_api = None;
        if libc == Some(Libc::Android) {
            // (One tag that names no level, `android_x`, is refused too: as auditwheel's,
            // no policy matches it.)
            let [PlatformTag::Android { api, .. }] = platforms else {
                let mut texts: Vec<String> = platforms.iter().map(ToString::to_string).collect();
                texts.sort();
                texts.dedup();
                return Err(TagLibcError::AndroidTags(format!("[{}]", texts.join(", "))));
            };
            android_api = Some(*api);
        }
        let pure = arch == Err(TagArchError::Pure);
        Ok((
            Self {
                libc,
                arch: arch.ok(),
                android_api,
                ..Self::default()
            },
            pure,
        ))
    }

    /// `auditwheel repair --plat <request>`: the architecture from the tags, else from the
    /// request; the libc from the tags, else from the request's prefix; a contradiction is
    /// refused. `allow_graft` is on.
    pub fn repair(
        platforms: &[PlatformTag],
        request: &PlatRequest,
    ) -> Result<(Self, bool), RequestError> {
        let (mut options, pure) = Self::show(platforms)?;
        let requested_arch = request.arch().cloned();
        match (&options.arch, requested_arch) {
            (Some(wheel), Some(req)) if *wheel != req => {
                return Err(RequestError::Arch {
                    wheel: wheel.clone(),
                    requested: req,
                })
            }
            (None, req) => options.arch = req,
            _ => {}
        }
        let base = request.base_name();
        for libc in [Libc::Glibc, Libc::Musl] {
            if base.starts_with(libc.tag_prefix()) {
                match options.libc {
                    None => options.libc = Some(libc),
                    Some(wheel) if wheel != libc => {
                        return Err(RequestError::Libc {
                            wheel,
                            requested: libc,
                        })
                    }
                    Some(_) => {}
                }
            }
        }
        options.allow_graft = true;
        options.requested = Some(request.clone());
        Ok((options, pure))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &[&str]) -> Vec<PlatformTag> {
        s.iter().map(|t| t.parse().unwrap()).collect()
    }

    #[test]
    fn architecture_from_tags() {
        assert_eq!(
            tags_arch(&tags(&["manylinux_2_17_x86_64", "manylinux2014_x86_64"])),
            Ok(Arch::X86_64)
        );
        assert_eq!(tags_arch(&tags(&["linux_aarch64"])), Ok(Arch::Aarch64));
        assert_eq!(
            tags_arch(&tags(&["musllinux_1_2_ppc64le"])),
            Ok(Arch::Ppc64le)
        );
        assert_eq!(tags_arch(&tags(&["manylinux_2_17_ppc64"])), Ok(Arch::Ppc64));
        assert_eq!(tags_arch(&tags(&["any"])), Err(TagArchError::Pure));
        assert_eq!(tags_arch(&tags(&["win_amd64"])), Err(TagArchError::Unknown));
        assert_eq!(
            tags_arch(&tags(&["linux_x86_64", "linux_i686"])),
            Err(TagArchError::Multiple)
        );
        assert_eq!(
            tags_arch(&tags(&["linux_x86_64", "any"])),
            Err(TagArchError::Multiple)
        );
        assert_eq!(
            tags_arch(&tags(&["macosx_11_0_x86_64"])),
            Ok(Arch::X86_64),
            "auditwheel quirk"
        );
    }

    #[test]
    fn libc_from_tags() {
        assert_eq!(tags_libc(&tags(&["manylinux2014_x86_64"])), Ok(Libc::Glibc));
        assert_eq!(tags_libc(&tags(&["musllinux_1_1_x86_64"])), Ok(Libc::Musl));
        assert_eq!(
            tags_libc(&tags(&["linux_x86_64"])),
            Err(TagLibcError::Unknown)
        );
        assert_eq!(
            tags_libc(&tags(&["manylinux_2_17_x86_64", "musllinux_1_1_x86_64"])),
            Err(TagLibcError::Multiple)
        );
    }

    #[test]
    fn show_and_repair_setups() {
        let (show, pure) = AnalyzeOptions::show(&tags(&["linux_x86_64"])).unwrap();
        assert_eq!(
            (show.libc, show.arch.clone(), pure),
            (None, Some(Arch::X86_64), false)
        );
        assert!(!show.allow_graft && show.requested.is_none());
        let (_, pure) = AnalyzeOptions::show(&tags(&["any"])).unwrap();
        assert!(pure);
        let req: PlatRequest = "musllinux_1_2_aarch64".parse().unwrap();
        let (rep, _) = AnalyzeOptions::repair(&tags(&["linux_aarch64"]), &req).unwrap();
        assert_eq!(
            (rep.libc, rep.arch),
            (Some(Libc::Musl), Some(Arch::Aarch64))
        );
        assert!(rep.allow_graft);
        let err = AnalyzeOptions::repair(&tags(&["linux_x86_64"]), &req).unwrap_err();
        assert!(matches!(err, RequestError::Arch { .. }));
        let err = AnalyzeOptions::repair(&tags(&["manylinux_2_17_aarch64"]), &req).unwrap_err();
        assert!(matches!(err, RequestError::Libc { .. }));
        let auto: PlatRequest = "auto".parse().unwrap();
        let (rep, _) = AnalyzeOptions::repair(&tags(&["linux_x86_64"]), &auto).unwrap();
        assert_eq!(rep.libc, None);
    }

    #[test]
    fn plat_requests() {
        for s in [
            "auto",
            "manylinux_2_17_x86_64",
            "manylinux2014_aarch64",
            "musllinux_1_2_ppc64le",
        ] {
            assert_eq!(s.parse::<PlatRequest>().unwrap().to_string(), s);
        }
        assert!("linux_x86_64".parse::<PlatRequest>().is_err());
        assert!("macosx_11_0_arm64".parse::<PlatRequest>().is_err());
        let base = |s: &str| s.parse::<PlatRequest>().unwrap().base_name();
        assert_eq!(base("manylinux_2_17_x86_64"), "manylinux_2_17");
        assert_eq!(base("manylinux2014_ppc64le"), "manylinux2014");
        assert_eq!(base("manylinux_2_17_ppc64"), "manylinux_2_17");
        assert_eq!(base("musllinux_1_2_armv7l"), "musllinux_1_2");
        assert_eq!(base("auto"), "auto");
    }
}
