//! The local headers of an indexed archive: each read and checked against the central
//! directory (name, method, sizes and CRC, a data descriptor's too), the data offsets
//! filled in, and the members checked to tile the space before the directory with no
//! byte left over. The headers of small members are read together, through a window
//! that stops where a large member's data begins.

use super::{Member, DESCRIPTOR_SIG, LOCAL_SIG, ZIP64_EXTRA};
use crate::source::{ReadAhead, ReadAt};
use crate::wheel::error::ArchiveError;
use crate::wheel::zip_records::{find_extra, u16le, u32le, u64le, FLAG_UTF8};

const FLAG_DESCRIPTOR: u16 = 1 << 3;

/// Reads each local header, checks it against the central directory, fills in the data
/// offsets, and checks that members tile the space before the central directory.
pub(super) fn check<S: ReadAt>(
    source: &S,
    members: &mut [Member],
    cd_offset: u64,
) -> Result<(), ArchiveError> {
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by_key(|&i| members[i].header_offset);
    let windows = header_windows(members, &order);
    let mut expected_start = 0u64;
    let mut ahead = ReadAhead::new(source);
    let mut var = Vec::new();
    for (i, window) in order.into_iter().zip(windows) {
        let m = &members[i];
        if m.header_offset != expected_start {
            return Err(if m.header_offset < expected_start {
                ArchiveError::Member {
                    member: m.name.clone(),
                    reason: "it overlaps the member before it".into(),
                }
            } else {
                ArchiveError::Corrupt(format!(
                    "{} bytes before member {} belong to no member (hidden data)",
                    m.header_offset - expected_start,
                    m.name
                ))
            });
        }
        let mut fixed = [0u8; 30];
        ahead
            .read_exact_within(m.header_offset, &mut fixed, window)
            .map_err(|_| ArchiveError::Truncated)?;
        let bad = |reason: &str| ArchiveError::Member {
            member: m.name.clone(),
            reason: format!("its local header {reason}"),
        };
        if u32le(&fixed, 0) != LOCAL_SIG {
            return Err(bad("is missing or damaged"));
        }
        let flags = u16le(&fixed, 6);
        let method = u16le(&fixed, 8);
        let name_len = u16le(&fixed, 26) as usize;
        let extra_len = u16le(&fixed, 28) as usize;
        var.resize(name_len + extra_len, 0);
        ahead
            .read_exact_at(m.header_offset + 30, &mut var)
            .map_err(|_| ArchiveError::Truncated)?;
        if &var[..name_len] != m.name.as_bytes() {
            return Err(bad(&format!(
                "names it `{}`, the central directory `{}`",
                String::from_utf8_lossy(&var[..name_len]),
                m.name
            )));
        }
        // Python's zipfile decodes the local name by the local header's own UTF-8
        // flag and refuses the member when it reads differently.
        if !m.name.is_ascii() && flags & FLAG_UTF8 == 0 {
            return Err(bad("does not mark the name as UTF-8"));
        }
        if method != m.compression.method() {
            return Err(bad("gives another compression method"));
        }
        if flags & FLAG_DESCRIPTOR == 0 {
            let crc = u32le(&fixed, 14);
            let (mut csize, mut usize_) =
                (u64::from(u32le(&fixed, 18)), u64::from(u32le(&fixed, 22)));
            if csize == 0xFFFF_FFFF || usize_ == 0xFFFF_FFFF {
                if let Some(z) = find_extra(&var[name_len..], ZIP64_EXTRA) {
                    if z.len() >= 16 {
                        usize_ = u64le(z, 0);
                        csize = u64le(z, 8);
                    }
                }
            }
            if crc != m.crc32 || csize != m.compressed_size || usize_ != m.size {
                return Err(bad(
                    "disagrees with the central directory on the size or CRC",
                ));
            }
        }
        let data_offset = m.header_offset + 30 + (name_len + extra_len) as u64;
        let data_end = data_offset
            .checked_add(m.compressed_size)
            .filter(|&e| e <= cd_offset)
            .ok_or_else(|| ArchiveError::Member {
                member: m.name.clone(),
                reason: "its data runs past the central directory".into(),
            })?;
        let end = if flags & FLAG_DESCRIPTOR != 0 {
            data_end + descriptor_len(source, data_end, m, cd_offset)?
        } else {
            data_end
        };
        members[i].data_offset = data_offset;
        expected_start = end;
    }
    if expected_start != cd_offset {
        return Err(ArchiveError::Corrupt(format!(
            "{} bytes before the central directory belong to no member (hidden data)",
            cd_offset.saturating_sub(expected_start)
        )));
    }
    Ok(())
}

/// Length of the data descriptor after a member's data: optional signature, CRC, and
/// 4- or 8-byte sizes, matched against the central directory.
fn descriptor_len<S: ReadAt>(
    source: &S,
    at: u64,
    m: &Member,
    limit: u64,
) -> Result<u64, ArchiveError> {
    let mut buf = [0u8; 24];
    let avail = usize::try_from(limit.saturating_sub(at))
        .unwrap_or(24)
        .min(24);
    source
        .read_exact_at(at, &mut buf[..avail])
        .map_err(|_| ArchiveError::Truncated)?;
    let buf = &buf[..avail];
    let candidates: [(usize, bool, bool); 4] = [
        (16, true, false),
        (24, true, true),
        (12, false, false),
        (20, false, true),
    ];
    for (len, sig, wide) in candidates {
        if len > buf.len() {
            continue;
        }
        let mut p = 0;
        if sig {
            if u32le(buf, 0) != DESCRIPTOR_SIG {
                continue;
            }
            p = 4;
        }
        let crc = u32le(buf, p);
        let (cs, us) = if wide {
            (u64le(buf, p + 4), u64le(buf, p + 12))
        } else {
            (u64::from(u32le(buf, p + 4)), u64::from(u32le(buf, p + 8)))
        };
        if crc == m.crc32 && cs == m.compressed_size && us == m.size {
            return Ok(len as u64);
        }
    }
    Err(ArchiveError::Member {
        member: m.name.clone(),
        reason: "its data descriptor disagrees with the central directory".into(),
    })
}

/// For each member in header order, how far to read ahead from its local header when
/// it must be read: through the headers of the members after it while each starts
/// within [`CLOSE`] bytes of the one before's end (small members: one read serves many),
/// and no further (past a large member, reading ahead copies its data for nothing).
/// A header's end is estimated from its name's length with room for an extra field (a
/// longer one is simply read again).
fn header_windows(members: &[Member], order: &[usize]) -> Vec<usize> {
    /// Bytes of data between two headers that are cheaper to copy than a read.
    const CLOSE: u64 = 4 << 10;
    let ahead = ReadAhead::<[u8]>::AHEAD as u64;
    let header_end = |m: &Member| {
        m.header_offset
            .saturating_add(30 + 96 + m.name.len() as u64)
    };
    let mut windows = vec![0usize; order.len()];
    let mut next: Option<(u64, u64)> = None; // (offset, window) of the following header
    for (k, &i) in order.iter().enumerate().rev() {
        let m = &members[i];
        let own = header_end(m) - m.header_offset;
        let w = match next {
            // Offsets come from the central directory, unchecked yet: no arithmetic may wrap.
            Some((at, win)) if at <= header_end(m).saturating_add(CLOSE) => {
                (at - m.header_offset).saturating_add(win).max(own)
            }
            _ => own,
        };
        let w = w.min(ahead);
        windows[k] = usize::try_from(w).unwrap_or(usize::MAX);
        next = Some((m.header_offset, w));
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::Compression;

    /// Small members' headers are read together; a large member's data is not read
    /// ahead; no window exceeds the read-ahead's limit or falls short of its header.
    #[test]
    fn header_windows_read_small_members_together_and_skip_large_data() {
        let at = |name: &str, header_offset: u64| Member {
            name: name.into(),
            compression: Compression::Deflated,
            crc32: 0,
            compressed_size: 0,
            size: 0,
            header_offset,
            data_offset: 0,
            attributes: super::super::Attributes::default(),
            dos_datetime: (0, 0),
        };
        // Listed out of order: the windows follow `order`.
        let members = vec![
            at("c", 3_000),
            at("a", 0),
            at("b", 1_000),
            at("big", 5_000),
            at("after", 5_000_000),
            at("last", 5_001_000),
        ];
        let order = [1, 2, 0, 3, 4, 5];
        let w = header_windows(&members, &order);
        let own = |m: &Member| 30 + 96 + m.name.len();
        // a, b, c and big's header in one read; big's data not.
        assert_eq!(w[0], 5_000 + own(&members[3]));
        assert_eq!(w[3], own(&members[3]));
        assert_eq!(w[4], 1_000 + own(&members[5]));
        assert_eq!(w[5], own(&members[5]));
        // Tightly packed headers stop at the limit.
        let packed: Vec<Member> = (0..10_000u64).map(|i| at("m", i * 100)).collect();
        let order: Vec<usize> = (0..packed.len()).collect();
        let w = header_windows(&packed, &order);
        assert!(w
            .iter()
            .all(|&x| x <= ReadAhead::<[u8]>::AHEAD && x >= own(&packed[0])));
        assert_eq!(w[0], ReadAhead::<[u8]>::AHEAD);
        // Offsets at the end of the range (a hostile zip64 directory) do not wrap.
        let edge = [at("x", u64::MAX - 5), at("y", u64::MAX)];
        assert_eq!(header_windows(&edge, &[0, 1]).len(), 2);
    }
}
