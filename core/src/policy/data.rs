//! auditwheel's policy files, embedded verbatim and parsed once.
//!
//! `data/manylinux-policy.json`, `data/musllinux-policy.json` and
//! `data/android-policy.json` are copied byte for byte
//! from auditwheel (MIT license, `data/LICENSE-auditwheel`) by `scripts/refresh-policies`,
//! which also writes `data/source.rs` with the auditwheel version and the date.
//!
//! Why JSON and not generated Rust: a verbatim copy diffs cleanly against upstream, needs
//! no code generator to review, and a refresh is a copy. The price is one parse of
//! ~130 kB on first use (well under a millisecond); `serde_json` is already a dependency.
//! The files are fixed at compile time and validated by the tests below, so a parse
//! failure can only be a bad refresh, never a user's input.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::name::Libc;

mod source {
    include!("data/source.rs");
}
pub use source::{AUDITWHEEL_VERSION, COPIED_ON};

/// `manylinux-policy.json` as shipped by auditwheel.
pub const MANYLINUX_JSON: &str = include_str!("data/manylinux-policy.json");
/// `musllinux-policy.json` as shipped by auditwheel.
pub const MUSLLINUX_JSON: &str = include_str!("data/musllinux-policy.json");
/// `android-policy.json` as shipped by auditwheel (6.5 and later): one policy per API
/// level at which the NDK's stable libraries changed.
pub const ANDROID_JSON: &str = include_str!("data/android-policy.json");

/// One entry of a policy file, as written there.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RawPolicy {
    /// `linux`, `manylinux_2_17`, `musllinux_1_2`.
    pub name: String,
    /// Legacy names without architecture (`manylinux2014`).
    pub aliases: Vec<String>,
    /// Higher is stricter (more compatible); `linux` is 0.
    pub priority: u32,
    /// architecture → prefix (`GLIBC`) → allowed versions (`2.17`, without the prefix).
    pub symbol_versions: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// Libraries a wheel may link against without bundling them.
    pub lib_whitelist: Vec<String>,
    /// library → symbols a wheel must not import from it.
    pub blacklist: BTreeMap<String, Vec<String>>,
}

fn parse(json: &str) -> Vec<RawPolicy> {
    // The text is compiled in and checked by this module's tests.
    serde_json::from_str(json).expect("embedded auditwheel policy file is valid")
}

static MANYLINUX: LazyLock<Vec<RawPolicy>> = LazyLock::new(|| parse(MANYLINUX_JSON));
static MUSLLINUX: LazyLock<Vec<RawPolicy>> = LazyLock::new(|| parse(MUSLLINUX_JSON));
static ANDROID: LazyLock<Vec<RawPolicy>> = LazyLock::new(|| parse(ANDROID_JSON));

/// The parsed policy file of a libc family, in file order.
pub fn raw_policies(libc: Libc) -> &'static [RawPolicy] {
    match libc {
        Libc::Glibc => &MANYLINUX,
        Libc::Musl => &MUSLLINUX,
        Libc::Android => &ANDROID,
    }
}

/// auditwheel's `_validate_pep600_compliance`: walking from the strictest policy to the
/// loosest, each must allow every library and symbol version the stricter ones allow.
pub fn validate_pep600(policies: &[RawPolicy]) -> Result<(), String> {
    let mut ordered: Vec<&RawPolicy> = policies.iter().filter(|p| p.name != "linux").collect();
    ordered.sort_by_key(|p| std::cmp::Reverse(p.priority));
    let mut whitelist: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    let mut versions: BTreeMap<&str, BTreeMap<&str, std::collections::BTreeSet<&str>>> =
        BTreeMap::new();
    for policy in ordered {
        let missing: Vec<&str> = whitelist
            .iter()
            .filter(|l| !policy.lib_whitelist.iter().any(|w| w == *l))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{} lacks whitelisted libraries of stricter policies: {missing:?}",
                policy.name
            ));
        }
        whitelist.extend(policy.lib_whitelist.iter().map(String::as_str));
        for (arch, prefixes) in &policy.symbol_versions {
            let seen = versions.entry(arch).or_default();
            for (prefix, allowed) in prefixes {
                let before = seen.entry(prefix).or_default();
                let lost: Vec<&str> = before
                    .iter()
                    .filter(|v| !allowed.iter().any(|a| a == *v))
                    .copied()
                    .collect();
                if !lost.is_empty() {
                    return Err(format!(
                        "{}_{arch} lacks {prefix} versions of stricter policies: {lost:?}",
                        policy.name
                    ));
                }
                before.extend(allowed.iter().map(String::as_str));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_parse_and_are_pep600_consistent() {
        for libc in [Libc::Glibc, Libc::Musl, Libc::Android] {
            let policies = raw_policies(libc);
            assert!(policies.iter().any(|p| p.name == "linux"), "{libc}");
            validate_pep600(policies).unwrap();
        }
        assert!(raw_policies(Libc::Glibc).len() >= 16);
        assert!(!AUDITWHEEL_VERSION.is_empty() && COPIED_ON.len() == 10);
    }

    #[test]
    fn validation_catches_a_loosened_policy() {
        let mut policies = raw_policies(Libc::Glibc).to_vec();
        let newest = policies
            .iter_mut()
            .filter(|p| p.name != "linux")
            .min_by_key(|p| p.priority)
            .unwrap();
        newest.lib_whitelist.retain(|l| l != "libz.so.1");
        assert!(validate_pep600(&policies)
            .unwrap_err()
            .contains("libz.so.1"));
    }
}
