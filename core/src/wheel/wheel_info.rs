//! The `WHEEL` file of a `.dist-info` folder (PEP 427): format version, generator,
//! purelib flag, tags and build number.

use serde::Serialize;

use super::headers::Headers;
use super::tags::{Tag, TagSet};

/// A parsed `WHEEL` file. The original header order is kept so rewriting changes only what
/// was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WheelInfo {
    /// `Wheel-Version`, as `(major, minor)`.
    pub wheel_version: (u32, u32),
    /// `Generator`, if given.
    pub generator: Option<String>,
    /// `Root-Is-Purelib`.
    pub root_is_purelib: bool,
    /// The `Tag` lines: each usually one tag, but it may be compressed sets. Serialized
    /// as the tags they stand for ([`WheelInfo::tags`]).
    #[serde(rename = "tags", serialize_with = "expanded")]
    lines: Vec<TagSet>,
    /// `Build`, if given.
    pub build: Option<String>,
    #[serde(skip)]
    headers: Headers,
}

/// `WheelInfo::lines` as the tags they stand for (what `inspect --json` shows).
fn expanded<S: serde::Serializer>(lines: &[TagSet], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(lines.iter().flat_map(TagSet::expand))
}

impl WheelInfo {
    /// Parses WHEEL bytes; the error is one phrase naming what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let headers = Headers::parse(bytes).map_err(|e| e.to_string())?;
        let version = headers
            .get("Wheel-Version")
            .ok_or("it has no Wheel-Version")?
            .trim();
        let wheel_version = version
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .ok_or_else(|| format!("Wheel-Version `{version}` is not a version"))?;
        if wheel_version.0 != 1 {
            return Err(format!(
                "Wheel-Version {version} is not supported (pip installs only 1.x)"
            ));
        }
        let root_is_purelib = match headers
            .get("Root-Is-Purelib")
            .map(|v| v.trim().to_ascii_lowercase())
        {
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(v) => return Err(format!("Root-Is-Purelib `{v}` is not true or false")),
            None => return Err("it has no Root-Is-Purelib".into()),
        };
        // A line may hold compressed sets; it stands for every triple they make.
        let lines = headers
            .get_all("Tag")
            .map(|line| TagSet::parse_line(line.trim()).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            wheel_version,
            generator: headers.get("Generator").map(str::to_owned),
            root_is_purelib,
            lines,
            build: headers.get("Build").map(str::to_owned),
            headers,
        })
    }

    /// A WHEEL for a new wheel.
    pub fn new(generator: &str, root_is_purelib: bool, tags: &[Tag]) -> Self {
        let mut info = Self {
            wheel_version: (1, 0),
            generator: Some(generator.to_owned()),
            root_is_purelib,
            lines: Vec::new(),
            build: None,
            headers: Headers::default(),
        };
        info.headers.fields = vec![
            ("Wheel-Version".into(), "1.0".into()),
            ("Generator".into(), generator.into()),
            ("Root-Is-Purelib".into(), root_is_purelib.to_string()),
        ];
        info.set_tags(tags);
        info
    }

    /// Replaces the `Tag` lines, where the first one stood (or at the end).
    pub fn set_tags(&mut self, tags: &[Tag]) {
        let fields = &mut self.headers.fields;
        let at = fields
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case("Tag"))
            .unwrap_or(fields.len());
        fields.retain(|(k, _)| !k.eq_ignore_ascii_case("Tag"));
        let at = at.min(fields.len());
        let new = tags.iter().map(|t| ("Tag".to_owned(), t.to_string()));
        fields.splice(at..at, new);
        self.lines = tags.iter().map(TagSet::of).collect();
    }

    /// The tags the `Tag` lines stand for, in order.
    pub fn tags(&self) -> Vec<Tag> {
        self.lines.iter().flat_map(TagSet::expand).collect()
    }

    /// The `Tag` lines as written, each a set (one tag, or compressed sets).
    pub fn tag_lines(&self) -> &[TagSet] {
        &self.lines
    }

    /// Replaces the `Tag` lines the way Python's `email` does on `del m["Tag"]` followed
    /// by `add_header` for each: the new lines go after every other header, and the file
    /// ends in a blank line (as auditwheel writes WHEEL).
    pub fn append_tag_lines(&mut self, lines: Vec<TagSet>) {
        let fields = &mut self.headers.fields;
        fields.retain(|(k, _)| !k.eq_ignore_ascii_case("Tag"));
        fields.extend(lines.iter().map(|t| ("Tag".to_owned(), t.to_string())));
        self.headers.body.get_or_insert_with(String::new);
        self.lines = lines;
    }

    /// Marks the wheel platlib (`Root-Is-Purelib: False`, moved last, as auditwheel does
    /// when a platform tag replaces `any`).
    pub fn set_purelib_false(&mut self) {
        let fields = &mut self.headers.fields;
        fields.retain(|(k, _)| !k.eq_ignore_ascii_case("Root-Is-Purelib"));
        fields.push(("Root-Is-Purelib".into(), "False".into()));
        self.root_is_purelib = false;
    }

    /// Sets or removes the `Build` line.
    pub fn set_build(&mut self, build: Option<String>) {
        let fields = &mut self.headers.fields;
        fields.retain(|(k, _)| !k.eq_ignore_ascii_case("Build"));
        if let Some(b) = &build {
            fields.push(("Build".into(), b.clone()));
        }
        self.build = build;
    }

    /// The file text.
    pub fn to_text(&self) -> String {
        self.headers.to_text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_retag() {
        let text = "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.41.2)\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\nBuild: 1\n";
        let mut w = WheelInfo::parse(text.as_bytes()).unwrap();
        assert!(!w.root_is_purelib);
        assert_eq!(w.tags().len(), 1);
        assert_eq!(w.to_text(), text);
        w.set_tags(&[
            "cp311-cp311-manylinux_2_17_x86_64".parse().unwrap(),
            "cp311-cp311-manylinux2014_x86_64".parse().unwrap(),
        ]);
        assert_eq!(
            w.to_text(),
            "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.41.2)\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\nBuild: 1\n"
        );
    }

    /// maturin 1.7 wrote one line for a wheel's two platform tags; pip and
    /// auditwheel accept it.
    #[test]
    fn a_line_of_compressed_tag_sets_stands_for_every_triple() {
        let text = "Wheel-Version: 1.0\nGenerator: maturin (1.7.0)\nRoot-Is-Purelib: false\nTag: cp312-cp312-manylinux_2_17_s390x.manylinux2014_s390x\n";
        let w = WheelInfo::parse(text.as_bytes()).unwrap();
        let tags: Vec<String> = w.tags().iter().map(ToString::to_string).collect();
        assert_eq!(
            tags,
            [
                "cp312-cp312-manylinux_2_17_s390x",
                "cp312-cp312-manylinux2014_s390x"
            ]
        );
        assert_eq!(w.to_text(), text, "an unchanged WHEEL is written as it was");
        assert!(WheelInfo::parse(
            b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp312-cp312-manylinux_2_17_s390x.Bad\n"
        )
        .is_err());
    }

    #[test]
    fn refuses_bad_files() {
        assert!(WheelInfo::parse(b"Generator: x\n").is_err());
        assert!(WheelInfo::parse(b"Wheel-Version: 2.0\nRoot-Is-Purelib: true\n").is_err());
        assert!(WheelInfo::parse(b"Wheel-Version: 1.0\nRoot-Is-Purelib: maybe\n").is_err());
        assert!(
            WheelInfo::parse(b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none\n")
                .is_err()
        );
    }
}
