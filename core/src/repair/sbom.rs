//! The software bill of materials `repair` adds when it bundles libraries that a system
//! package provides: `<dist-info>/sboms/auditwheel.cdx.json`, CycloneDX 1.4, as auditwheel
//! writes it (`auditwheel.sboms`), so tools reading auditwheel's SBOMs read ours. Which
//! package provides a file is host knowledge (`dpkg -S`, `rpm -qf`, `apk info -W`); the
//! CLI finds it, this module only writes the document.

use std::fmt::Write as _;

use serde::Serialize;
use sha2::Digest;

/// A system package that provides a bundled library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// `deb`, `rpm` or `apk`.
    pub package_type: String,
    /// The distribution (`/etc/os-release` `ID`), if known.
    pub distro: Option<String>,
    /// The package name.
    pub name: String,
    /// The package version.
    pub version: String,
}

/// Lowercase hexadecimal, as Python's `hexdigest()`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Percent-encoding as Python's `urllib.parse.quote(value, safe="")`.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

impl Provider {
    /// The package URL: `pkg:deb/debian/libyaml-0-2@0.2.5-1`.
    pub fn purl(&self) -> String {
        let mut p = format!("pkg:{}/", self.package_type.to_ascii_lowercase());
        if let Some(d) = &self.distro {
            p.push_str(&quote(d));
            p.push('/');
        }
        p.push_str(&quote(&self.name));
        p.push('@');
        p.push_str(&quote(&self.version));
        p
    }
}

#[derive(Serialize)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    name: String,
    version: String,
    purl: String,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Metadata {
    component: Component,
    tools: Vec<Tool>,
}

#[derive(Serialize)]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "dependsOn", skip_serializing_if = "Option::is_none")]
    depends_on: Option<Vec<String>>,
}

#[derive(Serialize)]
struct Bom {
    #[serde(rename = "bomFormat")]
    format: &'static str,
    #[serde(rename = "specVersion")]
    spec_version: &'static str,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

/// The SBOM of a repaired wheel, or `None` when no bundled file has a known provider.
/// `provided` pairs each bundled library's host path with its package.
pub fn sbom(
    wheel_file: &str,
    dist_name: &str,
    version: &str,
    provided: &[(String, Provider)],
) -> Option<String> {
    if provided.is_empty() {
        return None;
    }
    let wheel_purl = format!(
        "pkg:pypi/{}@{}?file_name={}",
        quote(dist_name),
        quote(version),
        quote(wheel_file)
    );
    let top = || Component {
        kind: "library",
        bom_ref: wheel_purl.clone(),
        name: dist_name.to_owned(),
        version: version.to_owned(),
        purl: wheel_purl.clone(),
    };
    let mut sorted: Vec<&(String, Provider)> = provided.iter().collect();
    sorted.sort_by(|a, b| (a.1.purl(), &a.0).cmp(&(b.1.purl(), &b.0)));
    let mut components = vec![top()];
    let mut depends = Vec::new();
    let mut dependencies = Vec::new();
    for (path, p) in sorted {
        let hash = hex(&sha2::Sha256::digest(path.as_bytes()));
        let bom_ref = format!("{}#{hash}", p.purl());
        components.push(Component {
            kind: "library",
            bom_ref: bom_ref.clone(),
            name: p.name.clone(),
            version: p.version.clone(),
            purl: p.purl(),
        });
        depends.push(bom_ref.clone());
        dependencies.push(Dependency {
            reference: bom_ref,
            depends_on: None,
        });
    }
    dependencies.insert(
        0,
        Dependency {
            reference: wheel_purl.clone(),
            depends_on: Some(depends),
        },
    );
    let bom = Bom {
        format: "CycloneDX",
        spec_version: "1.4",
        version: 1,
        metadata: Metadata {
            component: top(),
            tools: vec![Tool {
                name: "truewheel",
                version: env!("CARGO_PKG_VERSION"),
            }],
        },
        components,
        dependencies,
    };
    serde_json::to_string(&bom).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_auditwheel_for_pyyaml() {
        let p = Provider {
            package_type: "deb".into(),
            distro: Some("debian".into()),
            name: "libyaml-0-2".into(),
            version: "0.2.5-1".into(),
        };
        assert_eq!(p.purl(), "pkg:deb/debian/libyaml-0-2@0.2.5-1");
        let file = "pyyaml-6.0.3-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl";
        let json = sbom(
            file,
            "pyyaml",
            "6.0.3",
            &[("/lib/x86_64-linux-gnu/libyaml-0.so.2.0.9".into(), p)],
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        // As auditwheel 6.8.2 wrote it for the same input (its tool entry aside).
        assert_eq!(v["components"][1]["bom-ref"], "pkg:deb/debian/libyaml-0-2@0.2.5-1#6d067702cfa8bde4deb09f5a4cc5d5bfea413240030f4be918355d2a0fb5577c");
        assert_eq!(
            v["metadata"]["component"]["purl"],
            format!("pkg:pypi/pyyaml@6.0.3?file_name={file}")
        );
        assert_eq!(
            v["dependencies"][0]["dependsOn"][0],
            v["components"][1]["bom-ref"]
        );
        assert!(v["dependencies"][1].get("dependsOn").is_none());
        assert_eq!(sbom(file, "pyyaml", "6.0.3", &[]), None);
        assert_eq!(quote("a+b/c d"), "a%2Bb%2Fc%20d");
    }
}
