//! Core metadata (`METADATA`, versions 1.0 to 2.4 of the core metadata specification).
//!
//! The fields every tool needs are typed; every header is also kept in order, so a report
//! can show all of them and nothing is lost.

use serde::Serialize;

use super::headers::Headers;

/// Metadata versions the specification defines.
const KNOWN_VERSIONS: [&str; 8] = ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2", "2.3", "2.4"];

/// Parsed core metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Metadata {
    /// `Metadata-Version`.
    pub metadata_version: String,
    /// `Name`.
    pub name: String,
    /// `Version`.
    pub version: String,
    /// `Summary`.
    pub summary: Option<String>,
    /// `Requires-Python`.
    pub requires_python: Option<String>,
    /// `Requires-Dist`, in order.
    pub requires_dist: Vec<String>,
    /// `Provides-Extra`, in order.
    pub provides_extra: Vec<String>,
    /// `License-Expression` (2.4) or `License`.
    pub license: Option<String>,
    /// `Dynamic` (2.2+).
    pub dynamic: Vec<String>,
    /// Every header, in file order.
    pub fields: Vec<(String, String)>,
    /// The description: the body, or the `Description` header of older versions.
    pub description: Option<String>,
}

impl Metadata {
    /// Parses METADATA bytes; the error is one phrase naming what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let h = Headers::parse(bytes).map_err(|e| e.to_string())?;
        let metadata_version = h
            .get("Metadata-Version")
            .ok_or("it has no Metadata-Version")?
            .trim()
            .to_owned();
        let major = metadata_version.split('.').next().unwrap_or("");
        if !KNOWN_VERSIONS.contains(&metadata_version.as_str()) && major != "2" {
            return Err(format!("Metadata-Version `{metadata_version}` is unknown"));
        }
        let name = h
            .get("Name")
            .filter(|n| !n.is_empty())
            .ok_or("it has no Name")?
            .to_owned();
        let version = h
            .get("Version")
            .filter(|v| !v.is_empty())
            .ok_or("it has no Version")?
            .to_owned();
        let all = |k| h.get_all(k).map(str::to_owned).collect::<Vec<_>>();
        let description = h
            .body
            .clone()
            .filter(|b| !b.is_empty())
            .or_else(|| h.get("Description").map(str::to_owned));
        Ok(Self {
            summary: h.get("Summary").map(str::to_owned),
            requires_python: h.get("Requires-Python").map(str::to_owned),
            requires_dist: all("Requires-Dist"),
            provides_extra: all("Provides-Extra"),
            license: h
                .get("License-Expression")
                .or_else(|| h.get("License"))
                .map(str::to_owned),
            dynamic: all("Dynamic"),
            fields: h.fields,
            description,
            metadata_version,
            name,
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_2_4_file() {
        let m = Metadata::parse(
            b"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nSummary: A demo\nLicense-Expression: MIT\nRequires-Dist: six>=1\nRequires-Dist: attrs; extra == \"x\"\nProvides-Extra: x\nRequires-Python: >=3.8\n\n# Demo\n",
        )
        .unwrap();
        assert_eq!(m.name, "demo");
        assert_eq!(m.requires_dist.len(), 2);
        assert_eq!(m.license.as_deref(), Some("MIT"));
        assert_eq!(m.description.as_deref(), Some("# Demo\n"));
        assert_eq!(m.fields.len(), 9);
    }

    #[test]
    fn refuses_incomplete_files() {
        assert!(Metadata::parse(b"Name: x\nVersion: 1\n").is_err());
        assert!(Metadata::parse(b"Metadata-Version: 2.1\nVersion: 1\n").is_err());
        assert!(Metadata::parse(b"Metadata-Version: 2.1\nName: x\n").is_err());
        assert!(Metadata::parse(b"Metadata-Version: 9.0\nName: x\nVersion: 1\n").is_err());
    }
}
