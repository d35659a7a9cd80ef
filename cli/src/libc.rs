//! The host's C library as auditwheel's `Libc.detect()` finds it: musl when `/lib` holds
//! exactly one `libc.musl-*.so.1`, whose version (the musl loader prints it when run
//! with no arguments) selects the musllinux policy evaluated; glibc otherwise. In a
//! musllinux_1_1 container auditwheel evaluates `musllinux_1_1` only, not the newest.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use truewheel_core::policy::{HostLibc, Libc, MuslPolicies};
use truewheel_core::wheel::GlibcVersion;

/// This machine's C library, found once a run.
pub fn host() -> HostLibc {
    static HOST: OnceLock<HostLibc> = OnceLock::new();
    *HOST.get_or_init(|| detect(Path::new("/")))
}

/// The C library of the system under `root`.
fn detect(root: &Path) -> HostLibc {
    let loaders = crate::ldpaths::glob(&root.join("lib/libc.musl-*.so.1"));
    // auditwheel unpacks exactly one; none or several is no musl system to it.
    let [loader] = loaders.as_slice() else {
        return HostLibc::default();
    };
    // Pipes, not /dev/null, which a bare root may lack.
    let printed = Command::new(loader)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .unwrap_or_default();
    HostLibc {
        libc: Libc::Musl,
        // A version it cannot read: auditwheel takes the newest policy ("can't
        // determine musl libc version, latest known version will be used").
        musl: musl_version(&printed).map_or(MuslPolicies::Latest, MuslPolicies::Host),
    }
}

/// `Version 1.2.4` in what the musl loader prints (auditwheel's
/// `Version (\d+).(\d+).(\d+)`), as major and minor.
fn musl_version(text: &str) -> Option<GlibcVersion> {
    text.match_indices("Version ").find_map(|(at, word)| {
        let rest = &text[at + word.len()..];
        let mut parts = rest.splitn(3, |c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        // The patch number must be there too, as the pattern asks.
        let patch = parts.next()?;
        patch
            .starts_with(|c: char| c.is_ascii_digit())
            .then_some(GlibcVersion::new(major, minor))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn reads_the_version_as_auditwheel_does() {
        let printed = "musl libc (x86_64)\nVersion 1.2.4\nDynamic Program Loader\n";
        assert_eq!(musl_version(printed), Some(GlibcVersion::new(1, 2)));
        assert_eq!(
            musl_version("Version 1.1.24\n"),
            Some(GlibcVersion::new(1, 1))
        );
        assert_eq!(musl_version("Version 1.2\n"), None);
        assert_eq!(musl_version("no version here"), None);
    }

    fn loader(dir: &Path, name: &str, prints: &str) {
        let path = dir.join("lib").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("#!/bin/sh\nprintf '{prints}' >&2\nexit 1\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_musl_loader_in_lib_makes_a_musl_host_of_its_version() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(detect(root.path()), HostLibc::default());
        loader(
            root.path(),
            "libc.musl-x86_64.so.1",
            "musl libc (x86_64)\\nVersion 1.1.24\\n",
        );
        assert_eq!(
            detect(root.path()),
            HostLibc {
                libc: Libc::Musl,
                musl: MuslPolicies::Host(GlibcVersion::new(1, 1)),
            }
        );
        // Two loaders: auditwheel finds no musl.
        loader(root.path(), "libc.musl-aarch64.so.1", "Version 1.2.4\\n");
        assert_eq!(detect(root.path()), HostLibc::default());
        // One that prints no version: musl, the newest policy.
        let other = tempfile::tempdir().unwrap();
        loader(other.path(), "libc.musl-x86_64.so.1", "something else\\n");
        assert_eq!(
            detect(other.path()),
            HostLibc {
                libc: Libc::Musl,
                musl: MuslPolicies::Latest,
            }
        );
    }
}
