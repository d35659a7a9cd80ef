//! auditwheel's `show` text (`main_show.execute` of auditwheel 6.8), built from an
//! [`AbiReport`], so that `truewheel show` prints what `auditwheel show` prints: its
//! paragraphs, each after an empty line and wrapped as Python's `textwrap.wrap` wraps
//! them (70 columns, long words and hyphens unbroken), Python's `repr` of names and sets,
//! and the required libraries as `json.dumps(indent=4)` writes them (ASCII-escaped).
//!
//! One difference cannot be helped: auditwheel prints each library's versions as a
//! Python set, in an order that changes from run to run (string hashing is seeded at
//! each start), and its libraries in the order its scan met them. Here both are sorted.
//!
//! Written here, not taken from a crate: the rules are Python's textwrap's, and a Rust
//! wrapping crate breaks and measures lines its own way.

use super::report::AbiReport;
use super::set::Policy;
use crate::python::{json_str as py_json, repr as py_repr};

/// The paragraphs of `auditwheel show WHEEL` for a platform wheel (`verbose`: its `-v`,
/// which goes on past a verdict that stops it otherwise), each line ending in `\n`.
pub fn show_text(wheel: &str, report: &AbiReport, verbose: bool) -> String {
    let mut out = String::new();
    let linux = report.policies.linux().tag();
    para(
        &mut out,
        &format!(
            "{wheel} is consistent with the following platform tag: \"{}\".",
            report.overall
        ),
    );
    let stops = [
        (
            report.pyfpe == linux,
            "This wheel uses the PyFPE_jbuf function, which is not compatible with the \
             manylinux/musllinux tags. (see https://www.python.org/dev/peps/pep-0513/\
             #fpectl-builds-vs-no-fpectl-builds)",
        ),
        (
            report.ucs == linux,
            "This wheel is compiled against a narrow unicode (UCS2) version of Python, \
             which is not compatible with the manylinux/musllinux tags.",
        ),
        (
            report.machine == linux,
            "This wheel depends on unsupported ISA extensions.",
        ),
    ];
    for (applies, text) in stops {
        if applies {
            para(&mut out, text);
            if !verbose {
                return out;
            }
        }
    }
    if report.versioned_symbols.is_empty() {
        para(
            &mut out,
            "The wheel references no external versioned symbols from system-provided \
             shared libraries.",
        );
    } else {
        let libs: Vec<String> = report
            .versioned_symbols
            .iter()
            .map(|(lib, versions)| {
                let set: Vec<String> = versions.iter().map(|v| py_repr(v)).collect();
                format!("{lib} with versions {{{}}}", set.join(", "))
            })
            .collect();
        para(
            &mut out,
            &format!(
                "The wheel references external versioned symbols in these system-provided \
             shared libraries: {}",
                libs.join(", ")
            ),
        );
    }
    let priority = |tag| report.policy(tag).map_or(0, |p: &Policy| p.priority);
    if priority(&report.symbol) < report.policies.highest().priority {
        para(
            &mut out,
            &format!(
                "This constrains the platform tag to \"{}\". In order to achieve a more \
             compatible tag, you would need to recompile a new wheel from source on a \
             system with earlier versions of these libraries, such as a recent manylinux \
             image.",
                report.symbol
            ),
        );
        if !verbose {
            return out;
        }
    }
    let loosest = report
        .policies
        .lowest()
        .unwrap_or_else(|| report.policies.linux())
        .tag();
    match report.refs(&loosest) {
        Some(refs) if !refs.libs.is_empty() => {
            para(
                &mut out,
                "The following external shared libraries are required by the wheel:",
            );
            out.push_str("{\n");
            let rows: Vec<String> = refs
                .libs
                .iter()
                .map(|(lib, path)| {
                    let path = path.as_deref().map_or_else(|| "null".into(), py_json);
                    format!("    {}: {path}", py_json(lib))
                })
                .collect();
            out.push_str(&rows.join(",\n"));
            out.push_str("\n}\n");
        }
        _ => para(
            &mut out,
            "The wheel requires no external shared libraries! :)",
        ),
    }
    let overall = report.overall_policy().priority;
    // From loose to strict, as auditwheel walks its policies.
    for (verdict, refs) in report.verdicts.iter().zip(&report.external_refs).rev() {
        if verdict.priority <= overall {
            continue;
        }
        let (name, refs) = (py_repr(&verdict.policy.to_string()), &refs.refs);
        if !refs.libs.is_empty() {
            para(
                &mut out,
                &format!(
                    "In order to achieve the tag platform tag {name} the following shared \
                 library dependencies will need to be eliminated:"
                ),
            );
            para(
                &mut out,
                &refs.libs.keys().cloned().collect::<Vec<_>>().join(", "),
            );
        }
        if !refs.blacklist.is_empty() {
            para(
                &mut out,
                &format!(
                    "In order to achieve the tag platform tag {name} the following \
                 black-listed symbol dependencies will need to be eliminated:"
                ),
            );
            // (Sorted already, as `ExternalRefs` keeps them.)
            for (lib, symbols) in &refs.blacklist {
                para(&mut out, &format!("From {lib}: {}", symbols.join(", ")));
            }
        }
    }
    out
}

/// A paragraph as `printp` prints it: an empty line, then the text wrapped.
fn para(out: &mut String, text: &str) {
    out.push('\n');
    for line in wrap(text) {
        out.push_str(&line);
        out.push('\n');
    }
}

/// Python's `textwrap.wrap(text, break_long_words=False, break_on_hyphens=False)`:
/// whitespace characters become spaces, the text is cut into runs of spaces and of
/// other characters, and lines are filled greedily to 70 characters, a line's leading
/// and trailing spaces dropped; a word longer than a line is a line of its own.
fn wrap(text: &str) -> Vec<String> {
    const WIDTH: usize = 70;
    let text: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\x0b' | '\x0c' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let mut chunks: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices().skip(1) {
        let prev = text[..i].ends_with(' ');
        if (c == ' ') != prev {
            chunks.push(&text[start..i]);
            start = i;
        }
    }
    if start < text.len() {
        chunks.push(&text[start..]);
    }
    let blank = |s: &str| s.chars().all(|c| c == ' ');
    let len = |s: &str| s.chars().count();
    let mut lines = Vec::new();
    let mut next = 0;
    while next < chunks.len() {
        // Leading spaces go, except on the first line.
        if !lines.is_empty() && blank(chunks[next]) {
            next += 1;
            continue;
        }
        let mut line: Vec<&str> = Vec::new();
        let mut width = 0;
        while next < chunks.len() && width + len(chunks[next]) <= WIDTH {
            width += len(chunks[next]);
            line.push(chunks[next]);
            next += 1;
        }
        if line.is_empty() && next < chunks.len() {
            line.push(chunks[next]);
            next += 1;
        }
        if line.last().is_some_and(|c| blank(c)) {
            line.pop();
        }
        if !line.is_empty() {
            lines.push(line.concat());
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_as_python_textwrap() {
        // textwrap.wrap(s, break_long_words=False, break_on_hyphens=False), Python 3.11.
        let s = "cffi-1.17.1-cp311-cp311-linux_x86_64.whl is consistent with the following platform tag: \"linux_x86_64\".";
        assert_eq!(
            wrap(s),
            [
                "cffi-1.17.1-cp311-cp311-linux_x86_64.whl is consistent with the",
                "following platform tag: \"linux_x86_64\".",
            ]
        );
        let long = "x".repeat(80);
        assert_eq!(
            wrap(&format!("From {long}: a, b")),
            ["From".to_string(), format!("{long}:"), "a, b".to_string()]
        );
        let words = "aaa ".repeat(30);
        assert_eq!(
            wrap(&words),
            [
                "aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa",
                "aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa aaa",
            ]
        );
        assert_eq!(
            wrap(&format!("{} y", "x".repeat(70))),
            ["x".repeat(70), "y".into()]
        );
        assert_eq!(wrap(&format!("{}a", " ".repeat(75))), ["a"]);
        assert_eq!(wrap("a  b"), ["a  b"]);
        assert_eq!(wrap("  a"), ["  a"]);
        assert_eq!(wrap(""), Vec::<String>::new());
    }
}
