//! Which system package provides a file, asked of the package manager the way
//! auditwheel's `whichprovides` asks it (apk, rpm, then dpkg), for the SBOM `repair`
//! writes. A host without one, or a file no package owns, gives `None`.

use std::collections::HashMap;
use std::process::{Command, Stdio};

use rayon::prelude::*;

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
/// time of starting dpkg; `dpkg -S` itself where the lists are not readable. Returns the
/// package and, for a multi-arch list, its architecture.
fn dpkg_owner(path: &str) -> Option<(String, Option<String>)> {
    let Ok(dir) = std::fs::read_dir(DPKG_INFO) else {
        // "libyaml-0-2:amd64: /usr/lib/x86_64-linux-gnu/libyaml-0.so.2.0.9"
        let out = output("dpkg", &["-S", path])?;
        let owner = out.lines().next()?.split(": ").next()?;
        let (name, arch) = split_arch(owner);
        return Some((name.to_owned(), arch.map(str::to_owned)));
    };
    let mut lists: Vec<std::path::PathBuf> = dir
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "list"))
        .collect();
    // A library's package is nearly always named after it (libyaml-0.so.2 is in
    // libyaml-0-2): read those lists first, the rest after, in order.
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split(['.', '-']).next().unwrap_or(file);
    lists.sort_by_cached_key(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        (!name.starts_with(stem), p.clone())
    });
    // A library no package owns (a private one, found through LD_LIBRARY_PATH) means
    // reading every list: on all cores, searching bytes for the whole line.
    let line = format!("\n{path}\n");
    let finder = memchr::memmem::Finder::new(line.as_bytes());
    lists.par_iter().find_map_first(|list| {
        let text = std::fs::read(list).ok()?;
        let listed = finder.find(&text).is_some() || text.starts_with(&line.as_bytes()[1..]);
        listed.then(|| {
            let owner = list.file_stem()?.to_str()?;
            let (name, arch) = split_arch(owner);
            Some((name.to_owned(), arch.map(str::to_owned)))
        })?
    })
}

const DPKG_INFO: &str = "/var/lib/dpkg/info";
const DPKG_STATUS: &str = "/var/lib/dpkg/status";

/// `libyaml-0-2:amd64` → (`libyaml-0-2`, `amd64`).
fn split_arch(owner: &str) -> (&str, Option<&str>) {
    match owner.split_once(':') {
        Some((name, arch)) => (name, Some(arch)),
        None => (owner, None),
    }
}

/// The installed version of a package, as `dpkg -s` prints it, read from dpkg's status
/// database (starting dpkg costs more than the rest of a small repair).
fn dpkg_version(name: &str, arch: Option<&str>) -> Option<String> {
    let Ok(status) = std::fs::read_to_string(DPKG_STATUS) else {
        let out = output("dpkg", &["-s", name])?;
        return version_field(&out);
    };
    installed_version(&status, name, arch)
}

/// The `Version:` of the installed stanza for `name` (and `arch`, when given) in a dpkg
/// status file.
fn installed_version(status: &str, name: &str, arch: Option<&str>) -> Option<String> {
    status.split("\n\n").find_map(|stanza| {
        let field = |key: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
        };
        let installed = field("Status").is_some_and(|s| s.ends_with(" installed"));
        let arch_ok =
            arch.is_none_or(|a| field("Architecture").is_none_or(|x| x == a || x == "all"));
        (field("Package") == Some(name) && installed && arch_ok)
            .then(|| version_field(stanza))
            .flatten()
    })
}

fn version_field(text: &str) -> Option<String> {
    Some(
        text.lines()
            .find_map(|l| l.strip_prefix("Version: "))?
            .split_whitespace()
            .next()?
            .to_owned(),
    )
}

/// The package that provides `path`, if the host's package manager knows. The package
/// manager is asked about the fully resolved path (on a merged-/usr system dpkg knows
/// `/usr/lib/...`, not `/lib/...`), as whichprovides does.
pub fn provider(path: &str) -> Option<Provider> {
    // A repair of many wheels asks about the same libraries again and again; a library
    // no package owns costs a read of every dpkg list each time.
    static SEEN: std::sync::OnceLock<std::sync::Mutex<HashMap<String, Option<Provider>>>> =
        std::sync::OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(known) = seen.lock().ok().and_then(|m| m.get(path).cloned()) {
        return known;
    }
    let found = lookup(path);
    if let Ok(mut m) = seen.lock() {
        m.insert(path.to_owned(), found.clone());
    }
    found
}

fn lookup(path: &str) -> Option<Provider> {
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
    let (name, arch) = dpkg_owner(path)?;
    let version = dpkg_version(&name, arch.as_deref())?;
    Some(make("deb", &name, &version))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: libyaml-0-2\nStatus: install ok installed\nArchitecture: i386\nVersion: 0.2.4-1\n\n\
        Package: libyaml-0-2\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nVersion: 0.2.5-1+b1\n\n\
        Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0\n";

    #[test]
    fn versions_from_the_status_database() {
        assert_eq!(
            installed_version(STATUS, "libyaml-0-2", Some("amd64")).as_deref(),
            Some("0.2.5-1+b1")
        );
        assert_eq!(
            installed_version(STATUS, "libyaml-0-2", None).as_deref(),
            Some("0.2.4-1")
        );
        assert_eq!(installed_version(STATUS, "gone", None), None);
        assert_eq!(installed_version(STATUS, "absent", None), None);
    }

    #[test]
    fn owners_with_and_without_architecture() {
        assert_eq!(
            split_arch("libyaml-0-2:amd64"),
            ("libyaml-0-2", Some("amd64"))
        );
        assert_eq!(split_arch("zlib1g"), ("zlib1g", None));
    }

    /// The status database answers as `dpkg -s` does, on this host's packages.
    #[test]
    fn agrees_with_dpkg_on_this_host() {
        let Ok(status) = std::fs::read_to_string(DPKG_STATUS) else {
            return;
        };
        for pkg in ["dpkg", "libc6"] {
            let Some(out) = output("dpkg", &["-s", pkg]) else {
                continue;
            };
            let arch = out.lines().find_map(|l| l.strip_prefix("Architecture: "));
            assert_eq!(
                installed_version(&status, pkg, arch),
                version_field(&out),
                "{pkg}"
            );
        }
    }
}
