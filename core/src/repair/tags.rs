//! The tags a repaired wheel gets, written exactly as auditwheel's
//! `wheeltools.add_platforms` writes them: the file name's platform set is the old one
//! less the replaced tags (`linux_<arch>`) plus the new ones, sorted; WHEEL drops the
//! replaced `Tag:` lines and appends the new ones (for every interpreter-ABI pair it
//! already lists) after all other headers, as Python's email generator does.

use crate::wheel::tags::{sort_by_text, TagSet};
use crate::wheel::{PlatformTag, WheelFilename, WheelInfo};

/// auditwheel's `get_replace_platforms`: the tags a policy's tag replaces.
pub fn replaced_by(policy: &PlatformTag) -> Vec<PlatformTag> {
    match policy {
        PlatformTag::Linux(_) => Vec::new(),
        other => other
            .linux_arch()
            .map(|arch| vec![PlatformTag::Linux(arch.clone())])
            .unwrap_or_default(),
    }
}

fn unique<T: PartialEq + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// The new file name and WHEEL of a wheel given `platforms` (in order), replacing
/// `remove`.
pub fn add_platforms(
    name: &WheelFilename,
    info: &WheelInfo,
    platforms: &[PlatformTag],
    remove: &[PlatformTag],
) -> (WheelFilename, WheelInfo) {
    let mut remove = remove.to_vec();
    let original = &name.tags.platform;
    let mut tags = unique(
        original
            .iter()
            .filter(|t| !remove.contains(t))
            .chain(platforms)
            .cloned(),
    );
    let mut not_purelib = false;
    if tags.contains(&PlatformTag::Any) && tags.len() > 1 {
        tags.retain(|t| *t != PlatformTag::Any);
        remove.push(PlatformTag::Any);
        not_purelib = true;
    }
    sort_by_text(&mut tags);
    let mut new_name = name.clone();
    new_name.tags.platform = tags;

    // The lines as auditwheel handles them, as strings: a line of compressed sets
    // (maturin 1.7) is kept whole unless it is one of the replaced tags.
    let old: Vec<TagSet> = info.tag_lines().to_vec();
    let pairs = unique(old.iter().map(|t| (t.python.clone(), t.abi.clone())));
    let with = |plats: &[PlatformTag]| -> Vec<TagSet> {
        pairs
            .iter()
            .flat_map(|(python, abi)| {
                plats.iter().map(move |p| TagSet {
                    python: python.clone(),
                    abi: abi.clone(),
                    platform: vec![p.clone()],
                })
            })
            .collect()
    };
    let unwanted = with(&remove);
    let mut updated: Vec<TagSet> = old
        .iter()
        .filter(|t| !unwanted.contains(t))
        .cloned()
        .collect();
    updated.extend(with(platforms).into_iter().filter(|t| !old.contains(t)));
    let mut new_info = info.clone();
    if updated != old {
        new_info.append_tag_lines(updated);
        if not_purelib {
            new_info.set_purelib_false();
        }
    }
    (new_name, new_info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyyaml_becomes_manylinux2014() {
        let name: WheelFilename = "pyyaml-6.0.3-cp311-cp311-linux_x86_64.whl".parse().unwrap();
        let info = WheelInfo::parse(
            b"Wheel-Version: 1.0\nGenerator: setuptools (80.9.0)\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n\n",
        )
        .unwrap();
        let policy: PlatformTag = "manylinux_2_17_x86_64".parse().unwrap();
        let platforms = [policy.clone(), "manylinux2014_x86_64".parse().unwrap()];
        let (n, i) = add_platforms(&name, &info, &platforms, &replaced_by(&policy));
        assert_eq!(
            n.to_string(),
            "pyyaml-6.0.3-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
        );
        assert_eq!(
            i.to_text(),
            "Wheel-Version: 1.0\nGenerator: setuptools (80.9.0)\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n\n"
        );
    }

    /// A line of compressed sets (maturin 1.7) is a string to auditwheel: kept
    /// whole, and the new tags appended after it.
    #[test]
    fn a_compressed_tag_line_is_kept_as_auditwheel_keeps_it() {
        let name: WheelFilename = "x-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
            .parse()
            .unwrap();
        let info = WheelInfo::parse(
            b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64\n",
        )
        .unwrap();
        let policy: PlatformTag = "manylinux_2_5_x86_64".parse().unwrap();
        let platforms = [policy.clone(), "manylinux1_x86_64".parse().unwrap()];
        let (n, i) = add_platforms(&name, &info, &platforms, &replaced_by(&policy));
        assert_eq!(
            n.to_string(),
            "x-1-cp311-cp311-manylinux1_x86_64.manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_5_x86_64.whl"
        );
        // What auditwheel 6.8.2 wrote for tw_tagset (wheels-corpus/make-local).
        assert_eq!(
            i.to_text(),
            "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64\nTag: cp311-cp311-manylinux_2_5_x86_64\nTag: cp311-cp311-manylinux1_x86_64\n\n"
        );
        assert_eq!(i.tags().len(), 4);
    }

    #[test]
    fn nothing_to_change_keeps_wheel_as_is() {
        let name: WheelFilename = "x-1-cp311-cp311-manylinux_2_17_x86_64.whl".parse().unwrap();
        let info = WheelInfo::parse(
            b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\n",
        )
        .unwrap();
        let p: PlatformTag = "manylinux_2_17_x86_64".parse().unwrap();
        let (n, i) = add_platforms(&name, &info, std::slice::from_ref(&p), &replaced_by(&p));
        assert_eq!(n, name);
        assert_eq!(i.to_text(), info.to_text());
    }
}
