//! Parses `readelf -h -l -d -V --dyn-syms -W` output (GNU binutils 2.40) into the same
//! shape as an `ElfInfo`, so tests can compare the reader with readelf. Shared by the
//! unit tests (fixture dumps committed beside the fixtures) and `tests/system_libs.rs`.
//!
//! The includer defines `mod elf_api` re-exporting the `elf` module.

#![allow(dead_code, clippy::type_complexity, clippy::items_after_statements)]

use super::elf_api::{Binding, ElfInfo, SymbolKind};

/// One symbol: name, defined, binding, type, version (name, hidden).
pub type Sym = (String, bool, String, String, Option<(String, bool)>);

/// What readelf and the reader are compared on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dump {
    pub interpreter: Option<String>,
    pub needed: Vec<String>,
    pub soname: Option<String>,
    pub rpath: Option<String>,
    pub runpath: Option<String>,
    /// (file, [(version, weak, index)])
    pub needs: Vec<(String, Vec<(String, bool, u16)>)>,
    /// (index, name, base, parents)
    pub defs: Vec<(u16, String, bool, Vec<String>)>,
    pub symbols: Vec<Sym>,
}

fn bracketed(line: &str) -> Option<String> {
    let start = line.find('[')? + 1;
    let end = line.rfind(']')?;
    Some(line[start..end].to_owned())
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(key)? + key.len();
    line[at..].split_whitespace().next()
}

/// Parses the readelf text.
pub fn parse(text: &str) -> Dump {
    let mut d = Dump::default();
    #[derive(PartialEq)]
    enum Sec {
        None,
        Defs,
        Needs,
        Syms,
    }
    let mut sec = Sec::None;
    for line in text.lines() {
        if line.contains("[Requesting program interpreter:") {
            let s = bracketed(line).unwrap();
            d.interpreter = Some(
                s.trim_start_matches("Requesting program interpreter: ")
                    .to_owned(),
            );
            continue;
        }
        if line.contains("(NEEDED)") {
            d.needed.push(bracketed(line).unwrap());
            continue;
        }
        if line.contains("(SONAME)") {
            d.soname = bracketed(line);
            continue;
        }
        if line.contains("(RPATH)") {
            d.rpath = bracketed(line);
            continue;
        }
        if line.contains("(RUNPATH)") {
            d.runpath = bracketed(line);
            continue;
        }
        if line.starts_with("Version definition section") {
            sec = Sec::Defs;
            continue;
        }
        if line.starts_with("Version needs section") {
            sec = Sec::Needs;
            continue;
        }
        if line.starts_with("Symbol table '.dynsym'") {
            sec = Sec::Syms;
            continue;
        }
        if line.starts_with("Version symbols section") || line.trim().is_empty() {
            if !line.starts_with(' ') {
                sec = Sec::None;
            }
            continue;
        }
        match sec {
            Sec::Defs => {
                if let Some(name) = field(line, "Name: ") {
                    let index = field(line, "Index: ").unwrap().parse().unwrap();
                    let flags = line
                        .split("Flags: ")
                        .nth(1)
                        .unwrap()
                        .split("  ")
                        .next()
                        .unwrap();
                    d.defs
                        .push((index, name.to_owned(), flags.contains("BASE"), Vec::new()));
                } else if line.contains("Parent") {
                    let p = line.rsplit(": ").next().unwrap().trim().to_owned();
                    d.defs.last_mut().unwrap().3.push(p);
                }
            }
            Sec::Needs => {
                if let Some(file) = field(line, "File: ") {
                    d.needs.push((file.to_owned(), Vec::new()));
                } else if let Some(name) = field(line, "Name: ") {
                    let flags = line
                        .split("Flags: ")
                        .nth(1)
                        .unwrap()
                        .split("  ")
                        .next()
                        .unwrap();
                    let index = field(line, "Version: ").unwrap().parse().unwrap();
                    d.needs.last_mut().unwrap().1.push((
                        name.to_owned(),
                        flags.contains("WEAK"),
                        index,
                    ));
                }
            }
            Sec::Syms => {
                let mut t = line.split_whitespace();
                let Some(num) = t.next() else { continue };
                if num == "Num:" || num == "0:" {
                    continue;
                }
                let (_value, _size) = (t.next(), t.next());
                let kind = t.next().unwrap().to_owned();
                let bind = t.next().unwrap().to_owned();
                let _vis = t.next().unwrap();
                // ppc64le: "DEFAULT [<localentry>: 8]"
                if t.clone().next().is_some_and(|n| n.starts_with('[')) {
                    while !t.next().unwrap().ends_with(']') {}
                }
                let ndx = t.next().unwrap();
                // "bad section index[ 48]" (the section headers were rewritten, by BOLT)
                if ndx == "bad" {
                    while !t.next().unwrap().ends_with(']') {}
                }
                let name = t.next().unwrap_or("");
                let (base, version) = if let Some((n, v)) = name.split_once("@@") {
                    (n, Some((v.to_owned(), false)))
                } else if let Some((n, v)) = name.split_once('@') {
                    (n, Some((v.to_owned(), ndx != "UND")))
                } else {
                    (name, None)
                };
                // readelf names section symbols after their section; the table has no name.
                let base = if kind == "SECTION" { "" } else { base };
                d.symbols
                    .push((base.to_owned(), ndx != "UND", bind, kind, version));
            }
            Sec::None => {}
        }
    }
    d
}

fn bind_name(b: Binding) -> String {
    match b {
        Binding::Local => "LOCAL".into(),
        Binding::Global => "GLOBAL".into(),
        Binding::Weak => "WEAK".into(),
        Binding::Unique => "UNIQUE".into(),
        Binding::Other(v) => format!("<OS specific>: {v}"),
    }
}

fn kind_name(k: SymbolKind) -> String {
    match k {
        SymbolKind::NoType => "NOTYPE".into(),
        SymbolKind::Object => "OBJECT".into(),
        SymbolKind::Func => "FUNC".into(),
        SymbolKind::Section => "SECTION".into(),
        SymbolKind::File => "FILE".into(),
        SymbolKind::Common => "COMMON".into(),
        SymbolKind::Tls => "TLS".into(),
        SymbolKind::IFunc => "IFUNC".into(),
        SymbolKind::Other(v) => format!("<OS specific>: {v}"),
    }
}

/// The reader's result in the same shape. readelf does not print the version of a
/// symbol named like its version (the `DEMO_1.0` marker symbols), so neither does this.
pub fn of(info: &ElfInfo) -> Dump {
    Dump {
        interpreter: info.interpreter.clone(),
        needed: info.needed.clone(),
        soname: info.soname.clone(),
        rpath: info.rpath.clone(),
        runpath: info.runpath.clone(),
        needs: info
            .version_needs
            .iter()
            .map(|n| {
                (
                    n.file.clone(),
                    n.versions
                        .iter()
                        .map(|r| (r.name.to_string(), r.weak, r.index))
                        .collect(),
                )
            })
            .collect(),
        defs: info
            .version_defs
            .iter()
            .map(|d| {
                (
                    d.index,
                    d.name.to_string(),
                    d.base,
                    d.parents.iter().map(ToString::to_string).collect(),
                )
            })
            .collect(),
        symbols: info
            .symbols
            .iter()
            .map(|s| {
                let version = s
                    .version
                    .as_ref()
                    .filter(|v| v.name.as_str() != s.name)
                    .map(|v| (v.name.to_string(), v.hidden && s.defined));
                (
                    s.name.clone(),
                    s.defined,
                    bind_name(s.binding),
                    kind_name(s.kind),
                    version,
                )
            })
            .collect(),
    }
}
