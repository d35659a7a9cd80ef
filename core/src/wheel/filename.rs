//! Wheel file names (PEP 427, with the name rules of the binary distribution format spec):
//! `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::tags::{TagError, TagSet};

/// Why a wheel file name did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilenameError {
    /// The name does not end in `.whl`.
    #[error("`{0}` is not a wheel file name: it does not end in `.whl`")]
    NotAWheel(String),
    /// Wrong number of `-`-separated parts.
    #[error("`{0}` is not a valid wheel file name: expected name-version[-build]-python-abi-platform.whl")]
    Parts(String),
    /// The distribution name has characters PEP 427 does not allow, or `__` (which
    /// packaging refuses: an escaped name has no two separators in a row).
    #[error("`{file}` has an invalid distribution name `{name}`: only letters, digits, `_` and `.` are allowed, and no `__`")]
    Name {
        /// The whole file name.
        file: String,
        /// The offending name.
        name: String,
    },
    /// The version is not a PEP 440 version (which pip refuses since 24.1, and
    /// packaging's `parse_wheel_filename`, auditwheel's reader, too).
    #[error("`{file}` has an invalid version `{version}`: it is not a PEP 440 version")]
    Version {
        /// The whole file name.
        file: String,
        /// The offending version.
        version: String,
    },
    /// The build tag does not start with a digit.
    #[error("`{file}` has an invalid build tag `{build}`: it must start with a digit")]
    Build {
        /// The whole file name.
        file: String,
        /// The offending build tag.
        build: String,
    },
    /// A tag does not parse.
    #[error("`{file}` has an invalid tag: {source}")]
    Tag {
        /// The whole file name.
        file: String,
        /// The tag error.
        source: TagError,
    },
}

/// A distribution name, as written in a file name, with its PEP 503 normal form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DistName(String);

impl DistName {
    /// Wraps a name; any spelling (`PyYAML`, `typing_extensions`).
    pub fn new(name: &str) -> Self {
        Self(name.to_owned())
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// PEP 503 normal form: lowercase, runs of `-`, `_`, `.` become one `-`.
    pub fn normalized(&self) -> String {
        normalize_name(&self.0)
    }

    /// The form used in file names and `.dist-info` folders: normal form with `_` for `-`.
    pub fn escaped(&self) -> String {
        self.normalized().replace('-', "_")
    }

    /// Whether two spellings name the same distribution.
    pub fn matches(&self, other: &str) -> bool {
        self.normalized() == normalize_name(other)
    }
}

/// PEP 503 normalization of a project name.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_sep = false;
        }
    }
    out
}

impl fmt::Display for DistName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A build tag: a number, then an optional string, compared in that order; the text is
/// kept as written (`007` stays `007`). The number has as many digits as it is written
/// with, as Python's `int` reads it (`wheel tags` writes a build tag of 30 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BuildTag {
    /// The leading number's digits, without its leading zeros (`""` for zero).
    digits: String,
    /// The rest.
    pub rest: String,
    text: String,
}

impl BuildTag {
    /// The leading number's digits, without its leading zeros (`""` for zero).
    pub fn number(&self) -> &str {
        &self.digits
    }
}

impl Ord for BuildTag {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // A number with fewer digits is smaller; of as many, the digits compare.
        (self.digits.len(), &self.digits, &self.rest, &self.text).cmp(&(
            other.digits.len(),
            &other.digits,
            &other.rest,
            &other.text,
        ))
    }
}

impl PartialOrd for BuildTag {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for BuildTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for BuildTag {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        // Digits, then anything a file name component holds (packaging reads `1+x` too).
        if split == 0
            || !s
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"-/\\".contains(&b))
        {
            return Err(());
        }
        Ok(Self {
            digits: s[..split].trim_start_matches('0').to_owned(),
            rest: s[split..].to_owned(),
            text: s.to_owned(),
        })
    }
}

/// A parsed wheel file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelFilename {
    /// Distribution name, as written.
    pub name: DistName,
    /// Version, as written.
    pub version: String,
    /// Optional build tag.
    pub build: Option<BuildTag>,
    /// The compressed tag sets.
    pub tags: TagSet,
}

impl WheelFilename {
    /// The `.dist-info` folder this wheel is expected to hold, as it is spelled in the name.
    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", self.name, self.version)
    }

    /// The same wheel with other tags.
    #[must_use]
    pub fn with_tags(&self, tags: TagSet) -> Self {
        Self {
            tags,
            ..self.clone()
        }
    }
}

impl FromStr for WheelFilename {
    type Err = FilenameError;
    fn from_str(file: &str) -> Result<Self, FilenameError> {
        let stem = file
            .strip_suffix(".whl")
            .ok_or_else(|| FilenameError::NotAWheel(file.to_owned()))?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build, py, abi, plat) = match parts.as_slice() {
            [n, v, p, a, pl] => (*n, *v, None, *p, *a, *pl),
            [n, v, b, p, a, pl] => (*n, *v, Some(*b), *p, *a, *pl),
            _ => return Err(FilenameError::Parts(file.to_owned())),
        };
        if name.is_empty()
            || name.contains("__")
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return Err(FilenameError::Name {
                file: file.to_owned(),
                name: name.to_owned(),
            });
        }
        if version.trim() != version || version.parse::<pep440_rs::Version>().is_err() {
            return Err(FilenameError::Version {
                file: file.to_owned(),
                version: version.to_owned(),
            });
        }
        let build = build
            .map(|b| {
                b.parse().map_err(|()| FilenameError::Build {
                    file: file.to_owned(),
                    build: b.to_owned(),
                })
            })
            .transpose()?;
        let tags = TagSet::parse(py, abi, plat).map_err(|source| FilenameError::Tag {
            file: file.to_owned(),
            source,
        })?;
        Ok(Self {
            name: DistName::new(name),
            version: version.to_owned(),
            build,
            tags,
        })
    }
}

impl fmt::Display for WheelFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name, self.version)?;
        if let Some(build) = &self.build {
            write!(f, "-{build}")?;
        }
        write!(f, "-{}.whl", self.tags)
    }
}

impl Serialize for WheelFilename {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_real_names() {
        let f: WheelFilename =
            "pyyaml-6.0.3-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
                .parse()
                .unwrap();
        assert_eq!(f.name.as_str(), "pyyaml");
        assert_eq!(f.version, "6.0.3");
        assert_eq!(f.tags.platform.len(), 2);
        assert_eq!(f.build, None);

        let f: WheelFilename = "six-1.16.0-py2.py3-none-any.whl".parse().unwrap();
        // PEP 440's other spellings, kept as written.
        for v in ["1.0alpha1", "1.0_beta", "2!1.0.post1.dev2+local_1", "v1.0"] {
            let f: WheelFilename = format!("demo-{v}-py3-none-any.whl").parse().unwrap();
            assert_eq!(f.version, v);
        }
        assert_eq!(f.tags.expand().len(), 2);

        let f: WheelFilename = "Foo_Bar-1.0-1local-cp311-abi3-musllinux_1_2_aarch64.whl"
            .parse()
            .unwrap();
        let build = f.build.as_ref().unwrap();
        assert_eq!((build.number(), build.rest.as_str()), ("1", "local"));
        assert_eq!(f.name.normalized(), "foo-bar");
        assert_eq!(f.name.escaped(), "foo_bar");
        assert_eq!(f.dist_info_dir(), "Foo_Bar-1.0.dist-info");
    }

    #[test]
    fn build_numbers_of_any_length_compare_as_numbers() {
        let tag = |s: &str| s.parse::<BuildTag>().unwrap();
        // 30 digits (`wheel tags --build` writes it; pip installs it): it was refused,
        // the number read into 64 bits.
        let long = tag("123456789012345678901234567890");
        assert_eq!(long.to_string(), "123456789012345678901234567890");
        assert!(tag("99999999999999999999") < long);
        assert!(tag("007") < tag("10") && tag("2") < tag("10") && tag("0") < tag("1"));
        assert!(tag("1") < tag("1a") && tag("1a") < tag("1b") && tag("1b") < tag("2"));
        assert_eq!(tag("007").number(), "7");
        assert_eq!(tag("000").number(), "");
        let f: WheelFilename = "demo-1.0-123456789012345678901234567890-py3-none-any.whl"
            .parse()
            .unwrap();
        assert_eq!(f.build, Some(long));
    }

    #[test]
    fn refuses_bad_names() {
        for bad in [
            "foo-1.0-py3-none-any.zip",
            "foo-py3-none-any.whl",
            "foo-1.0-x-y-py3-none-any.whl",
            "foo-1.0-py3-none-Any.whl",
            "fo o-1.0-py3-none-any.whl",
            "foo-1.0-build-py3-none-any.whl",
            "-1.0-py3-none-any.whl",
            // Not PEP 440 versions (pip refuses them), and a name with `__`.
            "demo-1..0-py3-none-any.whl",
            "demo-1.0_-py3-none-any.whl",
            "demo-.1-py3-none-any.whl",
            "demo-1.0.-py3-none-any.whl",
            "demo-notaversion-py3-none-any.whl",
            "demo-1!!0-py3-none-any.whl",
            "demo-1.0++a-py3-none-any.whl",
            "de__mo-1.0-py3-none-any.whl",
        ] {
            assert!(bad.parse::<WheelFilename>().is_err(), "{bad}");
        }
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_name("Foo.._Bar"), "foo-bar");
        assert!(DistName::new("PyYAML").matches("pyyaml"));
        assert!(DistName::new("typing_extensions").matches("typing-extensions"));
    }

    proptest! {
        #[test]
        fn filenames_round_trip(
            name in "[A-Za-z][A-Za-z0-9_.]{0,12}".prop_filter("no __", |n| !n.contains("__")),
            version in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}(\\+[a-z0-9]{1,4})?",
            build in proptest::option::of("[0-9]{1,3}[a-z]{0,3}"),
            py in prop_oneof![Just("py3"), Just("cp311"), Just("py2.py3"), Just("pp310")],
            abi in prop_oneof![Just("none"), Just("abi3"), Just("cp311")],
            plat in prop_oneof![Just("any"), Just("manylinux2014_x86_64.manylinux_2_17_x86_64"),
                Just("musllinux_1_2_aarch64"), Just("macosx_11_0_arm64"), Just("win_amd64"), Just("linux_i686")],
        ) {
            let text = match &build {
                Some(b) => format!("{name}-{version}-{b}-{py}-{abi}-{plat}.whl"),
                None => format!("{name}-{version}-{py}-{abi}-{plat}.whl"),
            };
            let parsed: WheelFilename = text.parse().unwrap();
            prop_assert_eq!(parsed.to_string(), text.clone());
            let again: WheelFilename = parsed.to_string().parse().unwrap();
            prop_assert_eq!(again, parsed);
        }
    }
}
