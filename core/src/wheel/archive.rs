//! The zip container of a wheel: index the central directory once, then read members
//! lazily, by streaming, or raw (still compressed) for copying.
//!
//! Written here rather than taken from the `zip` crate because a wheel reader must see
//! more of the container than a zip library shows: refusing the archives that pip
//! (through Python's `zipfile`) would read differently from us — a local header that
//! disagrees with the central directory, overlapping members, bytes hidden between
//! members, after the directory or after a deflate stream, duplicate or escaping names —
//! needs every offset and both copies of each header. What zipfile cannot open at all
//! (patched data, a version needed past 6.3, a damaged extra field, a zip64 end record it
//! would not find) is refused too: pip could not install it, so no verdict should pass it.
//! `wheels-corpus/make-hostile` builds one archive for each of these cases. The format
//! itself (APPNOTE 6.3.x, zip64 included) is small; inflation is `flate2` on the pure-Rust
//! zlib-rs backend, the fastest we measured.

use std::collections::HashMap;
use std::io::{self, Read};

use super::error::{ArchiveError, LimitKind};
use super::splice::Walked;
use super::zip_records::{check_limits, check_name, find_eocd, parse_central};
use crate::source::{RangeReader, ReadAt};

mod local;

pub(crate) const LOCAL_SIG: u32 = 0x0403_4b50;
pub(crate) const CENTRAL_SIG: u32 = 0x0201_4b50;
pub(crate) const EOCD_SIG: u32 = 0x0605_4b50;
pub(crate) const EOCD64_SIG: u32 = 0x0606_4b50;
pub(crate) const EOCD64_LOCATOR_SIG: u32 = 0x0706_4b50;
pub(crate) const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
pub(crate) const ZIP64_EXTRA: u16 = 0x0001;

/// How a member's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Method 0.
    Stored,
    /// Method 8.
    Deflated,
}

impl Compression {
    /// The zip method number.
    pub fn method(self) -> u16 {
        match self {
            Self::Stored => 0,
            Self::Deflated => 8,
        }
    }
}

/// Limits that keep a hostile archive from exhausting memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest uncompressed size of one member.
    pub max_member_size: u64,
    /// Largest sum of uncompressed sizes.
    pub max_total_size: u64,
    /// Largest ratio of uncompressed to compressed size (for members over [`RATIO_FROM`]).
    pub max_ratio: u64,
    /// Most members.
    pub max_members: usize,
    /// Largest ELF string or symbol table an audit holds in memory.
    pub max_table: u64,
}

/// Members up to this size are never refused for their ratio: deflate reaches 1032-fold
/// on runs of zeros, and real wheels ship such files (onnx's test data holds 2.5 MB that
/// inflate 1015-fold); what a bomb costs lies in its size, which only a large member has.
pub const RATIO_FROM: u64 = 64 << 20;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_member_size: 4 << 30,
            max_total_size: 16 << 30,
            max_ratio: 1000,
            max_members: 1_000_000,
            // tensorflow's libtensorflow_cc.so.2 has an 82 MB `.dynstr`.
            max_table: 256 << 20,
        }
    }
}

/// One member of the archive, as the central directory describes it (and the local
/// header confirmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Path inside the archive (`/`-separated, relative).
    pub name: String,
    /// Compression method.
    pub compression: Compression,
    /// CRC-32 of the uncompressed data.
    pub crc32: u32,
    /// Size of the stored (compressed) data.
    pub compressed_size: u64,
    /// Size of the uncompressed data.
    pub size: u64,
    /// Offset of the local header.
    pub header_offset: u64,
    /// Offset of the compressed data.
    pub data_offset: u64,
    /// Its file attributes, as made.
    pub attributes: Attributes,
    /// DOS date and time of the member, as stored.
    pub dos_datetime: (u16, u16),
}

/// A member's file attributes as its central directory entry gives them: the system that
/// made it (the high byte of "version made by": 3 for Unix, 0 for MS-DOS, 10 and 11 for
/// Windows' NTFS and VFAT) and the external attributes, which that system defines. A
/// copied member keeps both as they are: a Windows wheel's members carry DOS attributes,
/// which written as Unix ones would unpack with no permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attributes {
    /// The system that made the member.
    pub made_by: u8,
    /// The external attributes: on Unix, the file's mode in the upper 16 bits.
    pub external: u32,
}

impl Attributes {
    /// The attributes of a file made on Unix with `mode` (type and permission bits).
    pub fn unix(mode: u32) -> Self {
        Self {
            made_by: 3,
            external: mode << 16,
        }
    }

    /// The Unix mode (type and permission bits), or 0 when there is none: another system
    /// than Unix gives one only when its upper 16 bits name a regular file or a folder
    /// (Python's `zipfile` on Windows writes `0o100666` there beside the DOS bits, and pip
    /// reads it whoever made the member).
    pub fn unix_mode(self) -> u32 {
        let mode = self.external >> 16;
        if self.made_by == 3 || matches!(mode & 0o170_000, 0o100_000 | 0o040_000) {
            mode
        } else {
            0
        }
    }
}

impl Member {
    /// The Unix mode (type and permission bits), or 0 when another system made it.
    pub fn unix_mode(&self) -> u32 {
        self.attributes.unix_mode()
    }

    /// Whether this is a directory entry (a name ending in `/`).
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }
}

/// An indexed wheel archive over a byte source.
pub struct Archive<S> {
    source: S,
    members: Vec<Member>,
    by_name: HashMap<String, usize>,
    comment_len: usize,
    limits: Limits,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Archive<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("members", &self.members.len())
            .finish_non_exhaustive()
    }
}

impl<S: ReadAt> Archive<S> {
    /// Indexes the archive with default [`Limits`].
    pub fn new(source: S) -> Result<Self, ArchiveError> {
        Self::with_limits(source, Limits::default())
    }

    /// Indexes the archive: reads the end record and the central directory, checks every
    /// local header against it and the layout for gaps and overlaps.
    pub fn with_limits(source: S, limits: Limits) -> Result<Self, ArchiveError> {
        let eocd = find_eocd(&source)?;
        if eocd.entries > limits.max_members as u64 {
            return Err(ArchiveError::Limit {
                limit: LimitKind::Members,
                reason: format!(
                    "it declares {} members, more than the limit of {}",
                    eocd.entries, limits.max_members
                ),
            });
        }
        if eocd.cd_offset.checked_add(eocd.cd_size) != Some(eocd.end_start) {
            return Err(ArchiveError::Corrupt(
                "the central directory does not end where the end record starts (data is hidden in between, or the archive has a prefix)".into(),
            ));
        }
        let cd_len = usize::try_from(eocd.cd_size)
            .map_err(|_| ArchiveError::Corrupt("the central directory is too large".into()))?;
        let mut cd = vec![0u8; cd_len];
        source
            .read_exact_at(eocd.cd_offset, &mut cd)
            .map_err(|_| ArchiveError::Truncated)?;

        let mut members = Vec::with_capacity(eocd.entries.min(1 << 16) as usize);
        let mut by_name = HashMap::with_capacity(members.capacity());
        let mut pos = 0usize;
        let mut total: u64 = 0;
        while pos < cd.len() {
            let member = parse_central(&cd, &mut pos)?;
            check_name(&member.name)?;
            total = total.saturating_add(member.size);
            check_limits(&member, total, &limits)?;
            if by_name.insert(member.name.clone(), members.len()).is_some() {
                return Err(ArchiveError::Duplicate(member.name));
            }
            members.push(member);
        }
        if members.len() as u64 != eocd.entries {
            return Err(ArchiveError::Corrupt(format!(
                "the end record declares {} members but the central directory holds {}",
                eocd.entries,
                members.len()
            )));
        }
        let mut archive = Self {
            source,
            members,
            by_name,
            comment_len: eocd.comment_len,
            limits,
        };
        local::check(&archive.source, &mut archive.members, eocd.cd_offset)?;
        Ok(archive)
    }

    /// The limits it was indexed with (the audit holds tables up to their `max_table`).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Members in central-directory order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// A member by exact name.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.by_name.get(name).map(|&i| &self.members[i])
    }

    /// The byte source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// Length of the archive comment.
    pub fn comment_len(&self) -> usize {
        self.comment_len
    }

    /// The archive comment (it ends the file).
    pub fn comment(&self) -> io::Result<Vec<u8>> {
        let mut out = vec![0; self.comment_len];
        let at = self.source.size().saturating_sub(self.comment_len as u64);
        self.source.read_exact_at(at, &mut out)?;
        Ok(out)
    }

    /// The stored bytes of a member, as a reader (for raw copies).
    pub fn raw_reader(&self, m: &Member) -> RangeReader<'_, S> {
        RangeReader::new(&self.source, m.data_offset, m.compressed_size)
    }

    /// A streaming reader of the uncompressed bytes; it checks the size and the CRC-32 as
    /// it reaches the end, and that the compressed stream fills the compressed size (no
    /// bytes hidden after it), and never yields more than the declared size.
    pub fn reader(&self, m: &Member) -> MemberReader<'_> {
        // Slices are read in place; other sources through one buffer that the inflater
        // reads from directly (`bufread`), so each byte is copied once.
        let raw: Box<dyn io::BufRead + '_> = match self.source.as_slice() {
            Some(all) => {
                let start = m.data_offset as usize;
                Box::new(&all[start..start + m.compressed_size as usize])
            }
            // No larger than the member: the buffer is zeroed before its first fill,
            // and 256 KB zeroed for each small member of a wheel added up.
            None => Box::new(io::BufReader::with_capacity(
                (m.compressed_size as usize).clamp(4 << 10, 256 << 10),
                self.raw_reader(m),
            )),
        };
        let inner = match m.compression {
            Compression::Stored => Inflate::Stored(raw),
            Compression::Deflated => Inflate::Deflated(flate2::bufread::DeflateDecoder::new(raw)),
        };
        MemberReader {
            inner,
            name: m.name.clone(),
            expected_size: m.size,
            expected_crc: m.crc32,
            read: 0,
            hasher: crc32fast::Hasher::new(),
            done: false,
        }
    }

    /// The first `n` uncompressed bytes of a member (fewer when it is shorter), read
    /// with one small read and no inflater set up (telling ELF files among torch's
    /// 11,000 headers is otherwise most of an audit's work on them). Not CRC-checked:
    /// for peeking at a kind, not for content.
    pub fn head(&self, m: &Member, n: usize) -> io::Result<Vec<u8>> {
        Ok(self.head_unless(m, n, None)?.unwrap_or_default())
    }

    /// Whether a member's content starts with `prefix` (false when it cannot be read):
    /// [`Archive::head`], except that a deflated member whose first block has no code
    /// for the prefix's first byte is not inflated at all.
    pub fn starts_with(&self, m: &Member, prefix: &[u8]) -> bool {
        self.head_unless(m, prefix.len(), prefix.first().copied())
            .is_ok_and(|h| h.is_some_and(|h| h == prefix))
    }

    /// [`Archive::head`], or `None` when the first block tells that the content does
    /// not start with `not` (see [`super::blocks::first_byte_is_not`]).
    fn head_unless(&self, m: &Member, n: usize, not: Option<u8>) -> io::Result<Option<Vec<u8>>> {
        let n = n.min(usize::try_from(m.size).unwrap_or(usize::MAX));
        let quick = match m.compression {
            Compression::Stored => {
                let mut buf = vec![0u8; n.min(m.compressed_size as usize)];
                self.raw_reader(m).read_exact(&mut buf)?;
                return Ok(Some(buf));
            }
            Compression::Deflated => {
                // A dynamic header takes at most ~300 bytes.
                let k = m.compressed_size.min(512 + 2 * n as u64) as usize;
                let mut raw = vec![0u8; k];
                self.raw_reader(m).read_exact(&mut raw)?;
                if not.is_some_and(|b| super::blocks::first_byte_is_not(&raw, b)) {
                    return Ok(None);
                }
                super::blocks::inflate_head(&raw, n)
            }
        };
        match quick {
            Some(head) if head.len() == n => Ok(Some(head)),
            _ => {
                let mut head = Vec::with_capacity(n);
                self.reader(m).take(n as u64).read_to_end(&mut head)?;
                Ok(Some(head))
            }
        }
    }

    /// The whole uncompressed content of a member, checked.
    pub fn read(&self, m: &Member) -> Result<Vec<u8>, ArchiveError> {
        let mut out = Vec::with_capacity(m.size.min(64 << 20) as usize);
        self.reader(m)
            .read_to_end(&mut out)
            .map_err(|e| ArchiveError::from_read(&m.name, &e))?;
        Ok(out)
    }

    /// [`Archive::read`], and when the member is deflated, the blocks of its stream, for
    /// a splice of an edit to it: both from one decode ([`blocks::inflate_walk`]), where
    /// inflating and walking it apart decoded it twice. Anything that decode does not
    /// take (damage, a short or long output, a CRC-32 that does not match, bytes after
    /// the stream) is read again by [`Archive::read`], whose checks say what is wrong.
    ///
    /// [`blocks::inflate_walk`]: super::blocks::inflate_walk
    pub fn read_walked(&self, m: &Member) -> Result<(Vec<u8>, Option<Walked>), ArchiveError> {
        self.read_walked_with(m, &mut |_| {})
    }

    /// [`Archive::read_walked`], handing the content to `out` as it is inflated, in
    /// order (see [`blocks::inflate_walk_with`]), when the blocks come back: without
    /// them, `out` may have seen a part of the content or none of it.
    ///
    /// [`blocks::inflate_walk_with`]: super::blocks::inflate_walk_with
    pub fn read_walked_with(
        &self,
        m: &Member,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(Vec<u8>, Option<Walked>), ArchiveError> {
        if let Some((content, walked)) = self.inflate_walked(m, out) {
            return Ok((content, Some(walked)));
        }
        let content = self.read(m)?;
        // A stream the checked inflater takes is one the walk takes (they reject what
        // zlib rejects): anything else is a bug in the walk.
        debug_assert!(
            m.compression != Compression::Deflated,
            "{}: zlib inflates what the inflating walk did not",
            m.name
        );
        Ok((content, None))
    }

    /// The one decode of [`Archive::read_walked`], when everything checks.
    fn inflate_walked(&self, m: &Member, out: &mut dyn FnMut(&[u8])) -> Option<(Vec<u8>, Walked)> {
        if m.compression != Compression::Deflated {
            return None;
        }
        // The stream is kept with its blocks, for the splice.
        let mut z = vec![0; usize::try_from(m.compressed_size).ok()?];
        self.raw_reader(m).read_exact(&mut z).ok()?;
        let size = usize::try_from(m.size).ok()?;
        let (content, blocks) = super::blocks::inflate_walk_with(&z, size, out).ok()?;
        let walked = Walked::whole(z, m.size, blocks)?;
        (content.len() == size && crc32fast::hash(&content) == m.crc32).then_some((content, walked))
    }

    /// The whole content of a member by name.
    pub fn read_by_name(&self, name: &str) -> Result<Option<Vec<u8>>, ArchiveError> {
        self.member(name).map(|m| self.read(m)).transpose()
    }
}

/// The decompressing half of a [`MemberReader`], over the member's stored bytes.
enum Inflate<'a> {
    Stored(Box<dyn io::BufRead + 'a>),
    Deflated(flate2::bufread::DeflateDecoder<Box<dyn io::BufRead + 'a>>),
}

impl Inflate<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Stored(r) => r.read(buf),
            Self::Deflated(d) => d.read(buf),
        }
    }

    /// Whether stored bytes are left once the stream has ended. The inflater takes only
    /// the bytes of the deflate stream (as a gzip reader must, to find the trailer), so
    /// what is left is bytes hidden after it, which Python's zipfile ignores.
    fn has_leftover(&mut self) -> io::Result<bool> {
        let raw = match self {
            Self::Stored(r) => r,
            Self::Deflated(d) => d.get_mut(),
        };
        Ok(!raw.fill_buf()?.is_empty())
    }
}

/// A checked, streaming reader of one member's uncompressed bytes.
pub struct MemberReader<'a> {
    inner: Inflate<'a>,
    name: String,
    expected_size: u64,
    expected_crc: u32,
    read: u64,
    hasher: crc32fast::Hasher,
    done: bool,
}

impl std::fmt::Debug for MemberReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberReader")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Read for MemberReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        // Allow one byte past the declared size, to notice a member that is longer.
        let room = self.expected_size - self.read + 1;
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want]).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the compressed data ends early",
                )
            } else {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the compressed data is damaged ({e})"),
                )
            }
        })?;
        self.read += n as u64;
        if self.read > self.expected_size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "it inflates to more than its declared size",
            ));
        }
        self.hasher.update(&buf[..n]);
        if n == 0 {
            self.done = true;
            if self.read != self.expected_size {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "it inflates to {} bytes, not its declared {}",
                        self.read, self.expected_size
                    ),
                ));
            }
            if self.hasher.clone().finalize() != self.expected_crc {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "its CRC-32 does not match",
                ));
            }
            if self.inner.has_leftover()? {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "bytes are hidden after the end of its compressed data",
                ));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
