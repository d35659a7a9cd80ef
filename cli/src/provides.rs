//! Which system package provides a file, asked of the package manager the way
//! auditwheel's `whichprovides` asks it (apk, rpm, then dpkg), for the SBOM `repair`
//! writes. A host without one, or a file no package owns, gives `None`.

use std::process::{Command, Stdio};

use truewheel_core::repair::sbom::Provider;

fn distro() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines().find_map(|l| {
        let v = l.strip_prefix("ID=")?;
        Some(v.trim_matches('"').to_owned())
    })
}

/// Whether a program is on `PATH` (spawning a missing one costs a dozen failed execs).
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    if !on_path(program) {
        return None;
    }
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The package whose file list names `path`: what `dpkg -S` answers, read from dpkg's
/// own lists (`/var/lib/dpkg/info/<package>[:<arch>].list`), which takes a tenth of the
/// time of starting dpkg; `dpkg -S` itself where the lists are not readable.
fn dpkg_owner(path: &str) -> Option<String> {
    let Ok(dir) = std::fs::read_dir("/var/lib/dpkg/info") else {
        // "libyaml-0-2:amd64: /usr/lib/x86_64-linux-gnu/libyaml-0.so.2.0.9"
        let out = output("dpkg", &["-S", path])?;
        return Some(out.lines().next()?.split(':').next()?.to_owned());
    };
    let mut lists: Vec<std::path::PathBuf> = dir
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "list"))
        .collect();
    lists.sort();
    lists.into_iter().find_map(|list| {
        let text = std::fs::read_to_string(&list).ok()?;
        text.lines().any(|l| l == path).then(|| {
            let stem = list.file_stem()?.to_str()?;
            Some(stem.split(':').next().unwrap_or(stem).to_owned())
        })?
    })
}

/// The package that provides `path`, if the host's package manager knows. The package
/// manager is asked about the fully resolved path (on a merged-/usr system dpkg knows
/// `/usr/lib/...`, not `/lib/...`), as whichprovides does.
pub fn provider(path: &str) -> Option<Provider> {
    let distro = distro()?;
    let resolved = std::fs::canonicalize(path).ok()?;
    let path = resolved.to_str()?;
    let make = |kind: &str, name: &str, version: &str| Provider {
        package_type: kind.to_owned(),
        distro: Some(distro.clone()),
        name: name.to_owned(),
        version: version.to_owned(),
    };
    // apk: "/usr/lib/libz.so.1 is owned by zlib-1.3.1-r0"
    if let Some(out) = output("apk", &["info", "--who-owns", path]) {
        if let Some(owner) = out.lines().find_map(|l| l.split(" is owned by ").nth(1)) {
            if let Some((name, version)) = owner.trim().split_once('-') {
                return Some(make("apk", name, version));
            }
        }
    }
    if let Some(out) = output(
        "rpm",
        &[
            "-qf",
            "--queryformat",
            "%{NAME} %{VERSION} %{RELEASE} %{ARCH}",
            path,
        ],
    ) {
        let parts: Vec<&str> = out.trim().split(' ').collect();
        if let [name, version, release, ..] = parts.as_slice() {
            return Some(make("rpm", name, &format!("{version}-{release}")));
        }
    }
    let name = dpkg_owner(path)?;
    let status = output("dpkg", &["-s", &name])?;
    let version = status
        .lines()
        .find_map(|l| l.strip_prefix("Version: "))?
        .split_whitespace()
        .next()?
        .to_owned();
    Some(make("deb", &name, &version))
}
