//! Why a wheel cannot be repaired ([`PlanError`]), in sentences that name what to look
//! for: every library a member's tree misses, by what needs it.

use crate::wheel::PlatformTag;

/// Why a wheel cannot be repaired.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Needed libraries were not found on this host: every one a member's tree misses,
    /// so that one search finds them all.
    #[error("cannot repair the wheel: {}", not_found(member, missing))]
    NotFound {
        /// The wheel member whose tree needs them.
        member: String,
        /// The libraries, in name order, each with the library of the tree that needs
        /// it, when not the member itself.
        missing: Vec<(String, Option<String>)>,
    },
    /// A member needs the C library by a name the policy does not allow (musl's
    /// `libc.so`): grafting it would give the program a second C library beside the
    /// loader's, so no repair can meet the policy.
    #[error("cannot repair the wheel: {member} needs {soname}, the C library, which no repair can bundle; link it by the name the policy allows, or leave it out with --exclude {soname}")]
    CLibrary {
        /// The wheel member whose tree needs it.
        member: String,
        /// The name it is needed by.
        soname: String,
    },
    /// A needed library was found but could not be read.
    #[error("cannot repair the wheel: {source_path} (the library {soname} that {member} needs) could not be read: {reason}")]
    Unreadable {
        /// The library.
        soname: String,
        /// Where it was found.
        source_path: String,
        /// The wheel member whose tree needs it.
        member: String,
        /// What went wrong.
        reason: String,
    },
    /// `--lib-sdir` would put the grafted libraries out of their place in the wheel.
    #[error("-L {0:?} would put the grafted libraries outside their place in the wheel (a `..` part, or a backslash); give a folder name such as .libs")]
    LibsDir(String),
    /// An Android wheel below API level 24 needs a RUNPATH to find its grafts, which
    /// its loader does not read (auditwheel's words).
    #[error("cannot repair the wheel for {0}: grafting libraries with RUNPATH requires API level 24 or higher")]
    AndroidRunpath(PlatformTag),
    /// The policy chosen has no references in the report (should not happen).
    #[error("the evaluation has no entry for policy {0}")]
    NoPolicy(PlatformTag),
}

/// `the library A that N needs could not be found`; several, by who needs them: `the
/// libraries A and B that N needs, and C that M needs, could not be found`.
fn not_found(member: &str, missing: &[(String, Option<String>)]) -> String {
    let mut by_needer: Vec<(Option<&str>, Vec<&str>)> = Vec::new();
    for (soname, via) in missing {
        match by_needer.iter_mut().find(|(v, _)| *v == via.as_deref()) {
            Some((_, libs)) => libs.push(soname),
            None => by_needer.push((via.as_deref(), vec![soname])),
        }
    }
    let parts: Vec<String> = by_needer
        .iter()
        .map(|(via, libs)| format!("{} that {} needs", and_list(libs), needer(member, *via)))
        .collect();
    let what = if missing.len() == 1 {
        "library"
    } else {
        "libraries"
    };
    match parts.as_slice() {
        [one] => format!("the {what} {one} could not be found"),
        _ => format!("the {what} {}, could not be found", parts.join(", and ")),
    }
}

/// `A`, `A and B`, `A, B and C`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Who needs a library that was not found: the member, or the library of its tree
/// that needs it directly (`libfoo.so.1 (for demo/_core.so)`).
fn needer(member: &str, via: Option<&str>) -> String {
    match via {
        Some(lib) => format!("{lib} (for {member})"),
        None => member.to_owned(),
    }
}
