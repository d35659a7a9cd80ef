//! The findings of an audit: each reason a stricter policy is not met, said once in one
//! sentence, with the loosest policy it rules out.

use serde::Serialize;

use crate::policy::input::is_c_library;
use crate::policy::report::{AbiReport, ElfRef, Reason};
use crate::wheel::PlatformTag;

/// One reason a stricter policy is not met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// One sentence.
    pub text: String,
    /// The loosest policy it rules out (it rules out every stricter one too).
    pub rules_out: PlatformTag,
    /// `false` for a library `repair` would bundle: it lowers the tag only until repaired.
    pub blocking: bool,
    /// The reason, as data.
    pub reason: Reason,
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [first, rest @ ..] if rest.len() <= 2 => format!("{first}, {}", rest.join(", ")),
        [first, second, ..] => format!("{first}, {second} and {} more", items.len() - 2),
    }
}

/// One sentence for a reason.
pub fn describe(reason: &Reason) -> String {
    match reason {
        Reason::SymbolVersion { version, users } => {
            // One file needing the version from two libraries (GLIBC_2.28 from libc.so.6
            // and from libpthread.so.0) is named once, with the symbols of both.
            let mut by_elf: Vec<(&ElfRef, Vec<String>)> = Vec::new();
            for u in users {
                match by_elf.iter_mut().find(|(e, _)| *e == &u.elf) {
                    Some((_, symbols)) => symbols.extend(u.symbols.iter().cloned()),
                    None => by_elf.push((&u.elf, u.symbols.clone())),
                }
            }
            let who: Vec<String> = by_elf
                .into_iter()
                .map(|(elf, mut symbols)| {
                    symbols.sort();
                    symbols.dedup();
                    if symbols.is_empty() {
                        format!("{elf}")
                    } else {
                        format!("{elf} ({})", list(&symbols))
                    }
                })
                .collect();
            format!("needs {version} in {}", list(&who))
        }
        Reason::ExternalLibrary {
            soname,
            path,
            members,
            via,
            blocking,
        } => {
            let from = if via.is_empty() {
                list(members)
            } else {
                format!("{} through {}", list(members), list(via))
            };
            let found = match path {
                Some(p) => format!("found at {p}"),
                // (Not "on this system": a browser, and `--wheel-only`, look in the
                // wheel alone.)
                None => "not found".to_owned(),
            };
            let fix = if is_c_library(soname) {
                // maturin's musl builds name `libc.so`, which musl's loader takes as
                // itself but the policy (auditwheel's) knows as `libc.musl-<arch>.so.1`.
                "it is the C library, which no repair can bundle: link it by the name the policy allows"
            } else if *blocking {
                "bundle it with `truewheel repair`"
            } else {
                "repair bundles it"
            };
            format!("needs {soname}, which the policy does not allow, in {from} ({found}; {fix})")
        }
        Reason::BlacklistedSymbols {
            library,
            symbols,
            members,
        } => {
            format!(
                "uses {} from {library}, which the policy forbids, in {}",
                list(symbols),
                list(members)
            )
        }
        Reason::IsaExtension { elf, isa } => {
            format!("{elf} needs {isa}, beyond the architecture's baseline")
        }
        Reason::Ucs2 { members } => {
            format!("{} built for a narrow-unicode (UCS2) Python", list(members))
        }
        Reason::PyFpeJbuf { members } => {
            format!("{} use PyFPE_jbuf (a --with-fpectl Python)", list(members))
        }
        Reason::TooManyLibraries { libraries, allowed } => {
            format!(
                "would bundle {libraries} libraries where the requested policy bundles {allowed}"
            )
        }
    }
}

fn blocking(reason: &Reason) -> bool {
    !matches!(
        reason,
        Reason::ExternalLibrary {
            blocking: false,
            ..
        }
    )
}

/// Each reason once, with the loosest policy it rules out; loosest first.
pub fn findings(abi: &AbiReport) -> Vec<Finding> {
    let mut verdicts: Vec<_> = abi.verdicts.iter().collect();
    verdicts.sort_by_key(|v| v.priority);
    let mut out: Vec<Finding> = Vec::new();
    for v in verdicts {
        for r in &v.reasons {
            let text = describe(r);
            if out.iter().any(|f| f.text == text) {
                continue;
            }
            out.push(Finding {
                text,
                rules_out: v.policy.clone(),
                blocking: blocking(r),
                reason: r.clone(),
            });
        }
    }
    out
}
