//! Which platform tags `repair` writes, and when it refuses: auditwheel's
//! `main_repair.execute` after `analyze_wheel_abi`, on an [`AbiReport`].

use super::options::PlatRequest;
use super::report::AbiReport;
use super::set::Policy;
use crate::wheel::tags::PlatformTag;

/// Why `repair` refuses the requested policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepairRefusal {
    /// `--plat` names no policy of this wheel's libc and architecture.
    #[error("there is no policy `{0}` for this wheel")]
    UnknownPolicy(String),
    /// Symbol versions newer than the policy allows.
    #[error("cannot repair to {} because of the presence of too-recent versioned symbols; compile the wheel on an older toolchain", named(.0))]
    SymbolVersions(PlatformTag),
    /// A UCS2 Python 2 build.
    #[error("cannot repair to {} because it was compiled against a UCS2 build of Python; compile it against a wide-unicode build", named(.0))]
    Ucs2(PlatformTag),
    /// Blacklisted symbols.
    #[error("cannot repair to {} because it depends on black-listed symbols", named(.0))]
    Blacklist(PlatformTag),
    /// ISA extensions.
    #[error("cannot repair to {} because it depends on unsupported ISA extensions", named(.0))]
    Isa(PlatformTag),
}

/// A policy as a refusal names it: its tag, and its legacy alias when it has one (a
/// `--plat manylinux1_x86_64` is refused as `manylinux_2_5_x86_64` (`manylinux1_x86_64`)).
fn named(tag: &PlatformTag) -> String {
    match tag.legacy_alias() {
        Some(alias) => format!("`{tag}` (`{alias}`)"),
        None => format!("`{tag}`"),
    }
}

/// What `repair` makes of a wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairTarget {
    /// The policy whose libraries are bundled (`abis[0]`: the overall policy when the wheel
    /// earns better than requested, else the requested one); its per-member libraries are
    /// in [`AbiReport::member_refs`].
    pub policy: PlatformTag,
    /// The platform tags written, in order: name, then aliases, of that policy, then of the
    /// requested one when they differ.
    pub tags: Vec<PlatformTag>,
}

fn names(p: &Policy) -> Vec<PlatformTag> {
    let mut v = vec![p.tag()];
    v.extend(p.alias_tags());
    v
}

impl AbiReport {
    /// auditwheel's choice of target for `repair --plat <request>` (and `--only-plat`).
    /// Note: like auditwheel, it does not refuse a wheel using `PyFPE_jbuf`; such a wheel's
    /// overall policy is `linux`, so it just gets no better tag than requested.
    pub fn repair_target(
        &self,
        request: &PlatRequest,
        only_plat: bool,
    ) -> Result<RepairTarget, RepairRefusal> {
        let policies = &self.policies;
        let requested = match request {
            PlatRequest::Auto => {
                let overall = self.overall_policy();
                if overall.is_linux() {
                    policies.lowest().unwrap_or(overall)
                } else {
                    overall
                }
            }
            PlatRequest::Tag(_) => {
                let name = format!("{}_{}", request.base_name(), policies.arch());
                policies
                    .by_name(&name)
                    .map_err(|_| RepairRefusal::UnknownPolicy(name.clone()))?
            }
        };
        let stricter_than =
            |tag: &PlatformTag| self.policy(tag).is_some_and(|p| requested.stricter_than(p));
        let own = requested.tag();
        if stricter_than(&self.symbol) {
            return Err(RepairRefusal::SymbolVersions(own));
        }
        if stricter_than(&self.ucs) {
            return Err(RepairRefusal::Ucs2(own));
        }
        if stricter_than(&self.blacklist) {
            return Err(RepairRefusal::Blacklist(own));
        }
        if stricter_than(&self.machine) {
            return Err(RepairRefusal::Isa(own));
        }
        let overall = self.overall_policy();
        if !only_plat && overall.stricter_than(requested) {
            let mut tags = names(overall);
            tags.extend(names(requested));
            return Ok(RepairTarget {
                policy: overall.tag(),
                tags,
            });
        }
        Ok(RepairTarget {
            policy: own,
            tags: names(requested),
        })
    }
}
