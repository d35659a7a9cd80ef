//! auditwheel's `show --json` document (schema version 1, `auditwheel/show-schema.json`),
//! built from an [`AbiReport`], so `truewheel show --json` can print the same object.
//!
//! The mapping, field by field (`main_show._output_json`):
//! - `overall_tag` = [`AbiReport::overall`], `sym_tag` = [`AbiReport::symbol`];
//! - `pyfpe`, `ucs2`, `unsupported_isa` = whether `pyfpe`, `ucs`, `machine` are `linux`;
//! - `versioned_symbols` = [`AbiReport::versioned_symbols`], lists sorted;
//! - `external_libs` = the libraries the *strictest* policy would bundle (the text output
//!   of `show` lists those of the loosest instead);
//! - `policy_upgrades` = for each policy stricter than the overall one, from loose to
//!   strict, its `libs_to_eliminate` and `blacklisted_symbols`, each only when non-empty,
//!   and the policy only when one of them is.
//!
//! auditwheel prints it with `json.dumps(indent=4)`, ASCII-escaped; byte-identical output
//! needs a 4-space pretty printer and `\uXXXX` escapes, which are the CLI's business.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::report::AbiReport;

/// The `show --json` schema version.
pub const SHOW_JSON_VERSION: u32 = 1;

/// One `show --json` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ShowJson {
    /// A platform wheel's verdict.
    Platform(ShowPlatform),
    /// A pure wheel with `--allow-pure-python-wheel`.
    Pure {
        /// Always 1.
        version: u32,
        /// The wheel's file name.
        wheel: String,
        /// Always true.
        pure: bool,
    },
    /// A wheel auditwheel could not evaluate.
    Error {
        /// Always 1.
        version: u32,
        /// The wheel's file name.
        wheel: String,
        /// The message.
        error: String,
    },
}

/// The `result_platform` object (its booleans are the schema's).
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShowPlatform {
    /// Always 1.
    pub version: u32,
    /// The wheel's file name.
    pub wheel: String,
    /// Always false.
    pub pure: bool,
    /// The best tag.
    pub overall_tag: String,
    /// The best tag by symbol versions.
    pub sym_tag: String,
    /// `PyFPE_jbuf` is used.
    pub pyfpe: bool,
    /// UCS2 symbols are used.
    pub ucs2: bool,
    /// An ISA extension is needed.
    pub unsupported_isa: bool,
    /// library → versions, sorted.
    pub versioned_symbols: BTreeMap<String, Vec<String>>,
    /// Libraries to bundle for the strictest policy → real path or null.
    pub external_libs: BTreeMap<String, Option<String>>,
    /// policy → what to eliminate, in auditwheel's order.
    pub policy_upgrades: Ordered<Upgrade>,
}

/// What to eliminate to reach a policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Upgrade {
    /// Libraries to eliminate, sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub libs_to_eliminate: Option<Vec<String>>,
    /// library → blacklisted symbols, sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blacklisted_symbols: Option<BTreeMap<String, Vec<String>>>,
}

/// A JSON object whose keys keep their insertion order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl ShowJson {
    /// The document for an evaluated wheel.
    pub fn platform(wheel: &str, report: &AbiReport) -> Self {
        let linux = report.policies.linux().tag();
        let overall = report.overall_policy().priority;
        let mut upgrades = Vec::new();
        // auditwheel walks its policies from loose to strict.
        for (verdict, refs) in report.verdicts.iter().zip(&report.external_refs).rev() {
            if verdict.priority <= overall {
                continue;
            }
            let refs = &refs.refs;
            let upgrade = Upgrade {
                libs_to_eliminate: (!refs.libs.is_empty())
                    .then(|| refs.libs.keys().cloned().collect()),
                blacklisted_symbols: (!refs.blacklist.is_empty()).then(|| refs.blacklist.clone()),
            };
            if upgrade != Upgrade::default() {
                upgrades.push((verdict.policy.to_string(), upgrade));
            }
        }
        let strictest = report
            .external_refs
            .first()
            .map(|r| r.refs.libs.clone())
            .unwrap_or_default();
        Self::Platform(ShowPlatform {
            version: SHOW_JSON_VERSION,
            wheel: wheel.to_owned(),
            pure: false,
            overall_tag: report.overall.to_string(),
            sym_tag: report.symbol.to_string(),
            pyfpe: report.pyfpe == linux,
            ucs2: report.ucs == linux,
            unsupported_isa: report.machine == linux,
            versioned_symbols: report
                .versioned_symbols
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
            external_libs: strictest,
            policy_upgrades: Ordered(upgrades),
        })
    }

    /// The document for a pure wheel.
    pub fn pure(wheel: &str) -> Self {
        Self::Pure {
            version: SHOW_JSON_VERSION,
            wheel: wheel.to_owned(),
            pure: true,
        }
    }

    /// The document for a wheel that could not be evaluated.
    pub fn error(wheel: &str, message: &str) -> Self {
        Self::Error {
            version: SHOW_JSON_VERSION,
            wheel: wheel.to_owned(),
            error: message.to_owned(),
        }
    }
}
