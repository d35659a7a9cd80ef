//! The records of the zip format (APPNOTE 6.3.x) that a reader must parse: the end of
//! central directory record (and its zip64 form), central directory entries with their
//! zip64 extra fields, and the checks on names and sizes that make a member safe to read.

use super::archive::{
    Attributes, Compression, Limits, Member, CENTRAL_SIG, EOCD64_LOCATOR_SIG, EOCD64_SIG, EOCD_SIG,
    LOCAL_SIG, ZIP64_EXTRA,
};
use super::error::{ArchiveError, LimitKind};
use crate::source::ReadAt;

const FLAG_ENCRYPTED: u16 = 1;
const FLAG_PATCHED: u16 = 1 << 5;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
pub(crate) const FLAG_UTF8: u16 = 1 << 11;
/// The highest "version needed to extract" Python's zipfile opens (APPNOTE 6.3).
const MAX_EXTRACT_VERSION: u8 = 63;

pub(crate) fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
pub(crate) fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
pub(crate) fn u64le(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The end of central directory, zip64 values folded in.
pub(crate) struct Eocd {
    pub(crate) entries: u64,
    pub(crate) cd_size: u64,
    pub(crate) cd_offset: u64,
    /// Where the end records start (the zip64 record if any, else the classic one).
    pub(crate) end_start: u64,
    pub(crate) comment_len: usize,
}

pub(crate) fn find_extra(extra: &[u8], id: u16) -> Option<&[u8]> {
    let mut p = 0;
    while p + 4 <= extra.len() {
        let tag = u16le(extra, p);
        let len = u16le(extra, p + 2) as usize;
        let body = extra.get(p + 4..p + 4 + len)?;
        if tag == id {
            return Some(body);
        }
        p += 4 + len;
    }
    None
}

pub(crate) fn find_eocd<S: ReadAt>(src: &S) -> Result<Eocd, ArchiveError> {
    let len = src.size();
    if len == 0 {
        return Err(ArchiveError::NotZip("the file is empty".into()));
    }
    if len < 22 {
        return Err(ArchiveError::NotZip(
            "the file is too short to be a zip archive".into(),
        ));
    }
    let tail_len = len.min(22 + 65535) as usize;
    let mut tail = vec![0u8; tail_len];
    src.read_exact_at(len - tail_len as u64, &mut tail)
        .map_err(|_| ArchiveError::Truncated)?;
    // The last signature wins, as in Python's zipfile; the comment must then reach the end
    // exactly, so nothing can hide after the end record.
    let pos = (0..=tail_len - 22)
        .rev()
        .find(|&p| u32le(&tail, p) == EOCD_SIG)
        .ok_or_else(|| {
            let mut head = [0u8; 4];
            let is_zip_start =
                src.read_exact_at(0, &mut head).is_ok() && u32le(&head, 0) == LOCAL_SIG;
            if is_zip_start {
                ArchiveError::Truncated
            } else {
                ArchiveError::NotZip("it has no zip end-of-central-directory record".into())
            }
        })?;
    let rec = &tail[pos..];
    let comment_len = u16le(rec, 20) as usize;
    if 22 + comment_len != rec.len() {
        return Err(ArchiveError::Corrupt(
            "bytes follow the end of the archive (after the end-of-central-directory record)"
                .into(),
        ));
    }
    // Unless the record ends the file with no comment, Python's zipfile takes the last
    // signature anywhere in the tail, even one too close to the end to start a record
    // (this one is the last that can), and then finds no end record at all.
    if comment_len > 0 && rec[1..].windows(4).any(|w| u32le(w, 0) == EOCD_SIG) {
        return Err(ArchiveError::Corrupt(
            "the archive comment holds an end-of-central-directory signature (Python's zipfile would not find the end record)".into(),
        ));
    }
    if u16le(rec, 4) != 0 || u16le(rec, 6) != 0 {
        return Err(ArchiveError::Corrupt(
            "multi-disk (split) archives are not supported".into(),
        ));
    }
    let eocd_at = len - (tail_len - pos) as u64;
    let mut entries = u64::from(u16le(rec, 10));
    let mut cd_size = u64::from(u32le(rec, 12));
    let mut cd_offset = u64::from(u32le(rec, 16));
    if u16le(rec, 8) != u16le(rec, 10) {
        return Err(ArchiveError::Corrupt(
            "the end record's two member counts disagree".into(),
        ));
    }
    let mut end_start = eocd_at;
    // A zip64 locator sits just before the classic end record.
    if eocd_at >= 20 {
        let mut loc = [0u8; 20];
        src.read_exact_at(eocd_at - 20, &mut loc)
            .map_err(|_| ArchiveError::Truncated)?;
        if u32le(&loc, 0) == EOCD64_LOCATOR_SIG {
            if u32le(&loc, 4) != 0 || u32le(&loc, 16) > 1 {
                return Err(ArchiveError::Corrupt(
                    "multi-disk (split) archives are not supported (the zip64 locator names another disk)".into(),
                ));
            }
            let rec64_at = u64le(&loc, 8);
            if rec64_at.checked_add(56).is_none_or(|e| e > eocd_at - 20) {
                return Err(ArchiveError::Corrupt(
                    "the zip64 end record locator points outside the archive".into(),
                ));
            }
            let mut r = [0u8; 56];
            src.read_exact_at(rec64_at, &mut r)
                .map_err(|_| ArchiveError::Truncated)?;
            if u32le(&r, 0) != EOCD64_SIG {
                return Err(ArchiveError::Corrupt(
                    "the zip64 end record is missing".into(),
                ));
            }
            let rec_size = u64le(&r, 4);
            if rec64_at
                .checked_add(12)
                .and_then(|v| v.checked_add(rec_size))
                != Some(eocd_at - 20)
            {
                return Err(ArchiveError::Corrupt(
                    "the zip64 end record has a wrong size or data follows it".into(),
                ));
            }
            // Python's zipfile assumes the record is the bare 56 bytes just before the
            // locator; with an extensible data sector it misses the record and reads
            // every member at a shifted offset.
            if rec_size != 44 {
                return Err(ArchiveError::Corrupt(
                    "the zip64 end record has an extensible data sector, which Python's zipfile does not read (it would read the members at other offsets)".into(),
                ));
            }
            if u32le(&r, 16) != 0 || u32le(&r, 20) != 0 {
                return Err(ArchiveError::Corrupt(
                    "multi-disk (split) archives are not supported (the zip64 end record names another disk)".into(),
                ));
            }
            let e64 = u64le(&r, 32);
            if e64 != u64le(&r, 24) {
                return Err(ArchiveError::Corrupt(
                    "the zip64 end record's two member counts disagree".into(),
                ));
            }
            let (s64, o64) = (u64le(&r, 40), u64le(&r, 48));
            // Classic fields must be the zip64 values or the 0xFF.. markers.
            let agrees =
                |classic: u64, wide: u64, marker: u64| classic == marker || classic == wide;
            if !(agrees(entries, e64, 0xFFFF)
                && agrees(cd_size, s64, 0xFFFF_FFFF)
                && agrees(cd_offset, o64, 0xFFFF_FFFF))
            {
                return Err(ArchiveError::Corrupt(
                    "the zip64 end record disagrees with the classic one".into(),
                ));
            }
            entries = e64;
            cd_size = s64;
            cd_offset = o64;
            end_start = rec64_at;
        }
    }
    Ok(Eocd {
        entries,
        cd_size,
        cd_offset,
        end_start,
        comment_len,
    })
}

pub(crate) fn parse_central(cd: &[u8], pos: &mut usize) -> Result<Member, ArchiveError> {
    let p = *pos;
    let corrupt = || {
        ArchiveError::Corrupt(format!(
            "the central directory is damaged at entry offset {p}"
        ))
    };
    if p + 46 > cd.len() || u32le(cd, p) != CENTRAL_SIG {
        return Err(corrupt());
    }
    let made_by_os = cd[p + 5];
    let extract_version = cd[p + 6];
    let flags = u16le(cd, p + 8);
    let method = u16le(cd, p + 10);
    let time = u16le(cd, p + 12);
    let date = u16le(cd, p + 14);
    let crc32 = u32le(cd, p + 16);
    let mut compressed_size = u64::from(u32le(cd, p + 20));
    let mut size = u64::from(u32le(cd, p + 24));
    let name_len = u16le(cd, p + 28) as usize;
    let extra_len = u16le(cd, p + 30) as usize;
    let comment_len = u16le(cd, p + 32) as usize;
    let disk = u16le(cd, p + 34);
    let external = u32le(cd, p + 38);
    let mut header_offset = u64::from(u32le(cd, p + 42));
    let end = p + 46 + name_len + extra_len + comment_len;
    if end > cd.len() {
        return Err(corrupt());
    }
    let raw_name = &cd[p + 46..p + 46 + name_len];
    let extra = &cd[p + 46 + name_len..p + 46 + name_len + extra_len];
    *pos = end;

    let name = if flags & FLAG_UTF8 != 0 || raw_name.is_ascii() {
        String::from_utf8(raw_name.to_vec()).map_err(|_| ArchiveError::BadName {
            name: String::from_utf8_lossy(raw_name).into_owned(),
            reason: "it is not valid UTF-8",
        })?
    } else {
        // Python reads such names as cp437, which would differ from any UTF-8 reading.
        return Err(ArchiveError::BadName {
            name: String::from_utf8_lossy(raw_name).into_owned(),
            reason: "it is not ASCII and not marked as UTF-8",
        });
    };
    if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) != 0 {
        return Err(ArchiveError::Member {
            member: name,
            reason: "it is encrypted; wheels cannot hold encrypted members".into(),
        });
    }
    // What Python's zipfile (so pip) refuses to open must not read as fine here.
    if flags & FLAG_PATCHED != 0 {
        return Err(ArchiveError::Member {
            member: name,
            reason:
                "it is compressed patched data (flag bit 5), which Python's zipfile cannot read"
                    .into(),
        });
    }
    if extract_version > MAX_EXTRACT_VERSION {
        return Err(ArchiveError::Member {
            member: name,
            reason: format!(
                "it needs zip version {}.{} to extract; Python's zipfile reads up to 6.3",
                extract_version / 10,
                extract_version % 10
            ),
        });
    }
    check_extra(extra, &name)?;
    let compression = match method {
        0 => Compression::Stored,
        8 => Compression::Deflated,
        other => {
            return Err(ArchiveError::Member {
                member: name,
                reason: format!("it uses compression method {other}; truewheel reads stored (0) and deflated (8) members"),
            })
        }
    };
    let mut disk = u32::from(disk);
    if size == 0xFFFF_FFFF
        || compressed_size == 0xFFFF_FFFF
        || header_offset == 0xFFFF_FFFF
        || disk == 0xFFFF
    {
        let z = find_extra(extra, ZIP64_EXTRA).ok_or_else(|| ArchiveError::Member {
            member: name.clone(),
            reason: "it needs a zip64 extra field but has none".into(),
        })?;
        let mut q = 0;
        let mut take = |field: &mut u64| -> Result<(), ArchiveError> {
            if *field == 0xFFFF_FFFF {
                if q + 8 > z.len() {
                    return Err(ArchiveError::Member {
                        member: name.clone(),
                        reason: "its zip64 extra field is too short".into(),
                    });
                }
                *field = u64le(z, q);
                q += 8;
            }
            Ok(())
        };
        take(&mut size)?;
        take(&mut compressed_size)?;
        take(&mut header_offset)?;
        if disk == 0xFFFF && q + 4 <= z.len() {
            disk = u32le(z, q);
        }
    }
    if disk != 0 {
        return Err(ArchiveError::Corrupt(
            "multi-disk (split) archives are not supported".into(),
        ));
    }
    if compression == Compression::Stored && compressed_size != size {
        return Err(ArchiveError::Member {
            member: name,
            reason: "it is stored but its two sizes differ".into(),
        });
    }
    let attributes = Attributes {
        made_by: made_by_os,
        external,
    };
    if attributes.unix_mode() & 0o170_000 == 0o120_000 {
        return Err(ArchiveError::Member {
            member: name,
            reason: "it is a symbolic link; wheels cannot hold links".into(),
        });
    }
    Ok(Member {
        name,
        compression,
        crc32,
        compressed_size,
        size,
        header_offset,
        data_offset: 0,
        attributes,
        dos_datetime: (date, time),
    })
}

/// Checks that a central entry's extra field is a sequence of well-formed records with at
/// most one zip64 record: Python's zipfile refuses a record that runs past the field, and
/// applies every zip64 record in turn where this reader takes the first.
fn check_extra(extra: &[u8], name: &str) -> Result<(), ArchiveError> {
    let bad = |reason: &str| ArchiveError::Member {
        member: name.to_owned(),
        reason: format!("its extra field {reason}"),
    };
    let mut p = 0;
    let mut zip64 = 0;
    while p + 4 <= extra.len() {
        let len = u16le(extra, p + 2) as usize;
        if p + 4 + len > extra.len() {
            return Err(bad("is damaged (a record runs past its end)"));
        }
        if u16le(extra, p) == ZIP64_EXTRA {
            zip64 += 1;
            if zip64 > 1 {
                return Err(bad("holds two zip64 records"));
            }
        }
        p += 4 + len;
    }
    Ok(())
}

pub(crate) fn check_limits(m: &Member, total: u64, limits: &Limits) -> Result<(), ArchiveError> {
    if m.size > limits.max_member_size {
        return Err(ArchiveError::MemberLimit {
            member: m.name.clone(),
            limit: LimitKind::MemberSize,
            reason: format!(
                "it declares {} bytes, more than the limit of {} bytes per member",
                m.size, limits.max_member_size
            ),
        });
    }
    if total > limits.max_total_size {
        return Err(ArchiveError::Limit {
            limit: LimitKind::TotalSize,
            reason: format!(
                "its members declare more than {} bytes in all",
                limits.max_total_size
            ),
        });
    }
    // "More than N times": compared without dividing, so that 1.5-fold is over a limit of
    // 1 (integer division said 1). (The ratio is said to a tenth; an f64 holds it.)
    let compressed = m.compressed_size.max(1);
    if m.size > super::archive::RATIO_FROM
        && u128::from(m.size) > u128::from(compressed) * u128::from(limits.max_ratio)
    {
        return Err(ArchiveError::MemberLimit {
            member: m.name.clone(),
            limit: LimitKind::Ratio,
            reason: format!(
                "it would inflate {:.1}-fold, past the limit of {} (a zip bomb?)",
                {
                    #[allow(clippy::cast_precision_loss)]
                    let ratio = m.size as f64 / compressed as f64;
                    ratio
                },
                limits.max_ratio
            ),
        });
    }
    Ok(())
}

/// Refuses names that could escape the install directory or read differently elsewhere.
pub(crate) fn check_name(name: &str) -> Result<(), ArchiveError> {
    let bad = |reason| {
        Err(ArchiveError::BadName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    // Nearly every name is printable ASCII with no backslash: one branch-free pass over
    // its bytes says so (it vectorizes; a torch wheel has 12,000 names), and only a name
    // that fails it is looked at again, in the checks' order, for the message. A line
    // break or a terminal escape in a path is never a real file name; quoted in a
    // message or a report, it would forge lines.
    // (`x - 0x20 >= 0x5f`, wrapping, is `x < 0x20 || x >= 0x7f`.)
    let suspect = name.as_bytes().iter().fold(0u8, |acc, &x| {
        acc | u8::from(x.wrapping_sub(0x20) >= 0x5f) | u8::from(x == b'\\')
    }) != 0;
    let (nul, control, backslash) = if suspect {
        (
            name.contains('\0'),
            name.chars().any(char::is_control),
            name.contains('\\'),
        )
    } else {
        (false, false, false)
    };
    if nul {
        return bad("it contains a NUL byte");
    }
    if control {
        return bad("it contains a control character");
    }
    if backslash {
        return bad("it contains a backslash");
    }
    if name.starts_with('/') {
        return bad("it is an absolute path");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return bad("it starts with a drive letter");
    }
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    // How deep the name is so far: a `..` above the top climbs out of the archive; one
    // below it only names a folder twice, which installers refuse all the same.
    let (mut depth, mut dotdot) = (0usize, false);
    for part in trimmed.as_bytes().split(|&b| b == b'/') {
        match part {
            b".." if depth == 0 => return bad("it climbs out of the archive with `..`"),
            b".." => (depth, dotdot) = (depth - 1, true),
            b"" => return bad("it has an empty path component"),
            b"." => return bad("it has a `.` path component"),
            _ => depth += 1,
        }
    }
    if dotdot {
        return bad("it has a `..` path component");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass test of ASCII names answers as the three checks it replaced, for
    /// every byte, alone and with the others (the first failing check names the fault).
    #[test]
    fn name_checks_in_one_pass_agree_with_the_separate_checks() {
        let reference = |name: &str| -> Option<&'static str> {
            if name.contains('\0') {
                Some("it contains a NUL byte")
            } else if name.chars().any(char::is_control) {
                Some("it contains a control character")
            } else if name.contains('\\') {
                Some("it contains a backslash")
            } else {
                None
            }
        };
        let reason = |name: &str| match check_name(name) {
            Err(ArchiveError::BadName { reason, .. }) => Some(reason),
            _ => None,
        };
        for a in 0u8..0x80 {
            for b in [b'x', 0, b'\\', b'\n', 0x7f] {
                let name = format!("p/a{}b{}.so", a as char, b as char);
                let want = reference(&name);
                if want.is_some() {
                    assert_eq!(reason(&name), want, "{name:?}");
                } else {
                    assert!(check_name(&name).is_ok(), "{name:?}");
                }
            }
        }
        // Non-ASCII: a C1 control is one too.
        assert_eq!(
            reason("p/a\u{85}.so"),
            Some("it contains a control character")
        );
        assert!(check_name("p/caf\u{e9}.so").is_ok());
    }

    fn record(tag: u16, body: &[u8]) -> Vec<u8> {
        let mut v = tag.to_le_bytes().to_vec();
        v.extend_from_slice(&(body.len() as u16).to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn names_that_escape_or_deceive() {
        for (name, reason) in [
            ("../x", "climbs out"),
            ("a/../x", "has a `..` path component"),
            ("a/./b", "`.` path component"),
            ("a//b", "empty path component"),
            ("/a", "absolute path"),
            ("c:/a", "drive letter"),
            ("a\\b", "backslash"),
            ("a\0b", "NUL byte"),
            ("a\nb.py", "control character"),
            ("a/\u{1b}[2Jb.py", "control character"),
        ] {
            let e = check_name(name).unwrap_err().to_string();
            assert!(e.contains(reason), "{name:?}: {e}");
        }
        assert!(check_name("pkg/caf\u{e9}.py").is_ok());
        assert!(check_name("pkg/sub/").is_ok());
    }

    #[test]
    fn extra_fields_must_be_well_formed() {
        let ok = [record(0xCAFE, b"abc"), record(ZIP64_EXTRA, &[0; 8])].concat();
        assert!(check_extra(&ok, "m").is_ok());
        // Fewer than 4 trailing bytes are padding, as Python's zipfile reads them.
        assert!(check_extra(&[ok.clone(), vec![0, 0]].concat(), "m").is_ok());
        let mut overrun = record(0xCAFE, b"abc");
        overrun[2] = 40;
        let e = check_extra(&overrun, "m").unwrap_err().to_string();
        assert!(
            e.contains("member m is unreadable: its extra field is damaged"),
            "{e}"
        );
        let twice = [record(ZIP64_EXTRA, &[0; 8]), record(ZIP64_EXTRA, &[1; 8])].concat();
        let e = check_extra(&twice, "m").unwrap_err().to_string();
        assert!(e.contains("holds two zip64 records"), "{e}");
    }
}
