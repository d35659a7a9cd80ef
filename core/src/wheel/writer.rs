//! The one wheel writer: members copied raw from another archive (their compressed bytes
//! untouched, no inflate/deflate) or added from memory, then a fresh RECORD, then the
//! central directory. Output is deterministic: members in the order written, timestamps
//! either kept from the source or all set to one given time (`SOURCE_DATE_EPOCH`).

use std::collections::HashSet;
use std::io::{self, Read, Write};

use super::archive::{
    Archive, Attributes, Compression, Member, CENTRAL_SIG, EOCD64_LOCATOR_SIG, EOCD64_SIG,
    EOCD_SIG, LOCAL_SIG, ZIP64_EXTRA,
};
use super::deflate::{prepare, Prepared};
use super::record::{Record, RecordEntry, RecordHash};
use crate::source::ReadAt;

/// 1980-01-01 00:00:00, the earliest DOS time: what `wheel` uses without SOURCE_DATE_EPOCH.
pub const DOS_EPOCH: (u16, u16) = ((1 << 5) | 1, 0);

/// Converts seconds since the Unix epoch (UTC) to a DOS `(date, time)`, clamped to the
/// range DOS time can express, as Python's `zipfile` and `wheel` do.
pub fn dos_datetime(unix_seconds: u64) -> (u16, u16) {
    const MIN: u64 = 315_532_800; // 1980-01-01
    let secs = unix_seconds.max(MIN);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    if y > 2107 {
        return ((127 << 9) | (12 << 5) | 31, (23 << 11) | (59 << 5) | 29);
    }
    let date = (((y - 1980) as u16) << 9) | ((mo as u16) << 5) | d as u16;
    let time = ((h as u16) << 11) | ((m as u16) << 5) | (s as u16 / 2);
    (date, time)
}

/// How the writer stamps and compresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// One DOS `(date, time)` for every member, or `None` to keep copied members' own and
    /// give new ones [`DOS_EPOCH`].
    pub timestamp: Option<(u16, u16)>,
    /// Deflate level for new members (0–9).
    pub level: u32,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            timestamp: None,
            level: 6,
        }
    }
}

/// The mode a new member is written with: a regular file when `mode` names no type, and
/// `rw-r--r--` when it gives no permission (a member replaced in a wheel made on Windows,
/// whose attributes are not Unix ones: written with none, it would unpack unreadable).
fn new_mode(mode: u32) -> u32 {
    const PERMISSIONS: u32 = 0o7777;
    let mode = if mode & PERMISSIONS == 0 {
        mode | 0o644
    } else {
        mode
    };
    if mode & 0o170_000 == 0 {
        mode | 0o100_000
    } else {
        mode
    }
}

struct CentralEntry {
    name: String,
    method: u16,
    datetime: (u16, u16),
    crc32: u32,
    compressed_size: u64,
    size: u64,
    offset: u64,
    attributes: Attributes,
}

/// Counts bytes written, so offsets are known without seeking.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a wheel archive.
pub struct WheelWriter<W: Write> {
    out: Counting<W>,
    entries: Vec<CentralEntry>,
    /// The names written, for refusing a second member of a name.
    names: HashSet<String>,
    record: Record,
    options: WriteOptions,
    /// The archive comment (none unless set).
    comment: Vec<u8>,
}

const MAX32: u64 = 0xFFFF_FFFF;

impl<W: Write> WheelWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W, options: WriteOptions) -> Self {
        Self {
            out: Counting {
                inner: out,
                written: 0,
            },
            entries: Vec::new(),
            names: HashSet::new(),
            record: Record::default(),
            comment: Vec::new(),
            options,
        }
    }

    fn check_new(&self, name: &str) -> io::Result<()> {
        if self.names.contains(name) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("member {name} was written twice"),
            ));
        }
        Ok(())
    }

    fn local_header(&mut self, e: &CentralEntry) -> io::Result<()> {
        let zip64 = e.size >= MAX32 || e.compressed_size >= MAX32;
        let mut h = Vec::with_capacity(30 + e.name.len() + 20);
        h.extend_from_slice(&LOCAL_SIG.to_le_bytes());
        h.extend_from_slice(&(if zip64 { 45u16 } else { 20 }).to_le_bytes());
        h.extend_from_slice(&flags(&e.name).to_le_bytes());
        h.extend_from_slice(&e.method.to_le_bytes());
        h.extend_from_slice(&e.datetime.1.to_le_bytes());
        h.extend_from_slice(&e.datetime.0.to_le_bytes());
        h.extend_from_slice(&e.crc32.to_le_bytes());
        if zip64 {
            h.extend_from_slice(&u32::MAX.to_le_bytes());
            h.extend_from_slice(&u32::MAX.to_le_bytes());
        } else {
            h.extend_from_slice(&(e.compressed_size as u32).to_le_bytes());
            h.extend_from_slice(&(e.size as u32).to_le_bytes());
        }
        h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        h.extend_from_slice(&(if zip64 { 20u16 } else { 0 }).to_le_bytes());
        h.extend_from_slice(e.name.as_bytes());
        if zip64 {
            h.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
            h.extend_from_slice(&16u16.to_le_bytes());
            h.extend_from_slice(&e.size.to_le_bytes());
            h.extend_from_slice(&e.compressed_size.to_le_bytes());
        }
        self.out.write_all(&h)
    }

    /// Copies a member's stored bytes unchanged, under its own name. `hash` is its RECORD
    /// hash (from the verified source RECORD), so nothing is inflated.
    pub fn copy_raw<S: ReadAt>(
        &mut self,
        archive: &Archive<S>,
        member: &Member,
        hash: Option<RecordHash>,
    ) -> io::Result<()> {
        self.copy_raw_as(archive, member, &member.name, hash)
    }

    /// Copies a member's stored bytes unchanged, under a new name.
    pub fn copy_raw_as<S: ReadAt>(
        &mut self,
        archive: &Archive<S>,
        member: &Member,
        name: &str,
        hash: Option<RecordHash>,
    ) -> io::Result<()> {
        self.check_new(name)?;
        let e = CentralEntry {
            name: name.to_owned(),
            method: member.compression.method(),
            datetime: self.options.timestamp.unwrap_or(member.dos_datetime),
            crc32: member.crc32,
            compressed_size: member.compressed_size,
            size: member.size,
            offset: self.out.written,
            attributes: member.attributes,
        };
        self.local_header(&e)?;
        let copied = io::copy(&mut archive.raw_reader(member), &mut self.out)?;
        debug_assert_eq!(copied, member.compressed_size);
        if !member.is_dir() {
            self.record.entries.push(RecordEntry {
                path: name.to_owned(),
                hash,
                size: Some(member.size),
            });
        }
        self.names.insert(e.name.clone());
        self.entries.push(e);
        Ok(())
    }

    /// Adds a member from memory, deflated (or stored when deflate does not help).
    pub fn add(&mut self, name: &str, data: &[u8], mode: u32) -> io::Result<()> {
        let prepared = prepare(data, self.options.level);
        self.add_prepared(name, data, &prepared, mode)
    }

    /// Adds a member from memory that [`prepare`] (or
    /// `prepare_all`) already deflated and hashed.
    pub fn add_prepared(
        &mut self,
        name: &str,
        data: &[u8],
        prepared: &Prepared,
        mode: u32,
    ) -> io::Result<()> {
        self.check_new(name)?;
        let (method, body_len) = match &prepared.deflated {
            Some(d) => (Compression::Deflated, d.len()),
            None => (Compression::Stored, data.len()),
        };
        let e = CentralEntry {
            name: name.to_owned(),
            method: method.method(),
            datetime: self.options.timestamp.unwrap_or(DOS_EPOCH),
            crc32: prepared.crc32,
            compressed_size: body_len as u64,
            size: data.len() as u64,
            offset: self.out.written,
            attributes: Attributes::unix(new_mode(mode)),
        };
        self.local_header(&e)?;
        match &prepared.deflated {
            Some(d) => d.iter().try_for_each(|piece| self.out.write_all(piece))?,
            None => self.out.write_all(data)?,
        }
        self.record.entries.push(RecordEntry {
            path: name.to_owned(),
            hash: Some(prepared.hash.clone()),
            size: Some(data.len() as u64),
        });
        self.names.insert(e.name.clone());
        self.entries.push(e);
        Ok(())
    }

    /// Adds a member read from a stream (hashing it on the way); for large new files.
    pub fn add_reader(&mut self, name: &str, mut data: impl Read, mode: u32) -> io::Result<()> {
        let mut buf = Vec::new();
        data.read_to_end(&mut buf)?;
        self.add(name, &buf, mode)
    }

    /// Sets the archive comment, which `retag` keeps as `wheel tags` keeps it (at most
    /// 65,535 bytes: the rest is dropped).
    pub fn set_comment(&mut self, mut comment: Vec<u8>) {
        comment.truncate(0xFFFF);
        self.comment = comment;
    }

    /// The RECORD rows so far.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// Writes RECORD at `record_path` (listing every member and itself), the central
    /// directory and the end records; returns the output.
    pub fn finish(self, record_path: &str) -> io::Result<W> {
        self.finish_with_mode(record_path, 0o644)
    }

    /// [`finish`](Self::finish), RECORD written with Unix mode `mode` (with no permission
    /// bits, `rw-r--r--`).
    pub fn finish_with_mode(mut self, record_path: &str, mode: u32) -> io::Result<W> {
        let mut record = std::mem::take(&mut self.record);
        record.entries.push(RecordEntry {
            path: record_path.to_owned(),
            hash: None,
            size: None,
        });
        let text = record.to_text();
        self.add(record_path, text.as_bytes(), mode)?;
        let cd_start = self.out.written;
        let entries = std::mem::take(&mut self.entries);
        for e in &entries {
            write_central(&mut self.out, e)?;
        }
        let cd_end = self.out.written;
        let cd_size = cd_end - cd_start;
        let count = entries.len() as u64;
        let zip64 = count >= 0xFFFF || cd_start >= MAX32 || cd_size >= MAX32;
        let mut t = Vec::with_capacity(98);
        if zip64 {
            t.extend_from_slice(&EOCD64_SIG.to_le_bytes());
            t.extend_from_slice(&44u64.to_le_bytes());
            t.extend_from_slice(&((3u16 << 8) | 45).to_le_bytes());
            t.extend_from_slice(&45u16.to_le_bytes());
            t.extend_from_slice(&0u32.to_le_bytes());
            t.extend_from_slice(&0u32.to_le_bytes());
            t.extend_from_slice(&count.to_le_bytes());
            t.extend_from_slice(&count.to_le_bytes());
            t.extend_from_slice(&cd_size.to_le_bytes());
            t.extend_from_slice(&cd_start.to_le_bytes());
            t.extend_from_slice(&EOCD64_LOCATOR_SIG.to_le_bytes());
            t.extend_from_slice(&0u32.to_le_bytes());
            t.extend_from_slice(&cd_end.to_le_bytes());
            t.extend_from_slice(&1u32.to_le_bytes());
        }
        t.extend_from_slice(&EOCD_SIG.to_le_bytes());
        t.extend_from_slice(&0u16.to_le_bytes());
        t.extend_from_slice(&0u16.to_le_bytes());
        let c16 = count.min(0xFFFF) as u16;
        t.extend_from_slice(&c16.to_le_bytes());
        t.extend_from_slice(&c16.to_le_bytes());
        t.extend_from_slice(&(cd_size.min(MAX32) as u32).to_le_bytes());
        t.extend_from_slice(&(cd_start.min(MAX32) as u32).to_le_bytes());
        t.extend_from_slice(&(self.comment.len() as u16).to_le_bytes());
        t.extend_from_slice(&self.comment);
        self.out.write_all(&t)?;
        self.out.flush()?;
        Ok(self.out.inner)
    }
}

fn flags(name: &str) -> u16 {
    if name.is_ascii() {
        0
    } else {
        1 << 11
    }
}

fn write_central<W: Write>(out: &mut W, e: &CentralEntry) -> io::Result<()> {
    let mut extra = Vec::new();
    if e.size >= MAX32 {
        extra.extend_from_slice(&e.size.to_le_bytes());
    }
    if e.compressed_size >= MAX32 {
        extra.extend_from_slice(&e.compressed_size.to_le_bytes());
    }
    if e.offset >= MAX32 {
        extra.extend_from_slice(&e.offset.to_le_bytes());
    }
    let zip64 = !extra.is_empty();
    let mut h = Vec::with_capacity(46 + e.name.len() + 28);
    h.extend_from_slice(&CENTRAL_SIG.to_le_bytes());
    let version = if zip64 { 45u16 } else { 20 };
    h.extend_from_slice(&((u16::from(e.attributes.made_by) << 8) | version).to_le_bytes());
    h.extend_from_slice(&version.to_le_bytes());
    h.extend_from_slice(&flags(&e.name).to_le_bytes());
    h.extend_from_slice(&e.method.to_le_bytes());
    h.extend_from_slice(&e.datetime.1.to_le_bytes());
    h.extend_from_slice(&e.datetime.0.to_le_bytes());
    h.extend_from_slice(&e.crc32.to_le_bytes());
    h.extend_from_slice(&(e.compressed_size.min(MAX32) as u32).to_le_bytes());
    h.extend_from_slice(&(e.size.min(MAX32) as u32).to_le_bytes());
    h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
    h.extend_from_slice(&(if zip64 { extra.len() as u16 + 4 } else { 0 }).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // comment
    h.extend_from_slice(&0u16.to_le_bytes()); // disk
    h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    h.extend_from_slice(&e.attributes.external.to_le_bytes());
    h.extend_from_slice(&(e.offset.min(MAX32) as u32).to_le_bytes());
    h.extend_from_slice(e.name.as_bytes());
    if zip64 {
        h.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
        h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        h.extend_from_slice(&extra);
    }
    out.write_all(&h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dos_times() {
        assert_eq!(dos_datetime(0), DOS_EPOCH);
        // 2023-11-14 22:13:20 UTC
        let (d, t) = dos_datetime(1_700_000_000);
        assert_eq!((d >> 9) + 1980, 2023);
        assert_eq!((d >> 5) & 0xF, 11);
        assert_eq!(d & 0x1F, 14);
        assert_eq!((t >> 11, (t >> 5) & 0x3F, (t & 0x1F) * 2), (22, 13, 20));
    }

    #[test]
    fn written_archive_reads_back() {
        let mut w = WheelWriter::new(Vec::new(), WriteOptions::default());
        w.add("a/b.txt", b"hello hello hello hello", 0o644).unwrap();
        w.add("a/x", b"", 0o755).unwrap();
        assert!(w.add("a/x", b"", 0o755).is_err());
        let bytes = w.finish("d-1.dist-info/RECORD").unwrap();
        let ar = Archive::new(bytes).unwrap();
        let names: Vec<_> = ar.members().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a/b.txt", "a/x", "d-1.dist-info/RECORD"]);
        assert_eq!(
            ar.read_by_name("a/b.txt").unwrap().unwrap(),
            b"hello hello hello hello"
        );
        assert_eq!(ar.member("a/x").unwrap().unix_mode(), 0o100_755);
        let rec =
            Record::parse(&ar.read_by_name("d-1.dist-info/RECORD").unwrap().unwrap()).unwrap();
        assert_eq!(rec.entries.len(), 3);
        assert_eq!(
            rec.entries[0].hash,
            Some(RecordHash::sha256(b"hello hello hello hello"))
        );
    }
}
