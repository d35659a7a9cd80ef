//! The archive reader's tests: what it reads, and what it refuses as Python's zipfile
//! would read it differently.

use super::*;
use crate::wheel::zip_records::{u16le, u32le, FLAG_UTF8};

use crate::wheel::writer::{WheelWriter, WriteOptions};

fn two_members() -> Vec<u8> {
    let mut w = WheelWriter::new(Vec::new(), WriteOptions::default());
    w.add("a/one.txt", b"first member", 0o644).unwrap();
    w.add("a/two.txt", b"second member", 0o644).unwrap();
    w.finish("d-1.dist-info/RECORD").unwrap()
}

/// An archive over bare member data (the reader needs only the source and offsets).
fn ar(bytes: Vec<u8>) -> Archive<Vec<u8>> {
    Archive {
        source: bytes,
        members: Vec::new(),
        by_name: HashMap::new(),
        comment_len: 0,
        limits: Limits::default(),
    }
}

fn err(bytes: Vec<u8>) -> String {
    Archive::new(bytes).unwrap_err().to_string()
}

#[test]
fn reads_what_the_writer_wrote() {
    let ar = Archive::new(two_members()).unwrap();
    assert_eq!(ar.members().len(), 3);
    assert_eq!(
        ar.read_by_name("a/two.txt").unwrap().unwrap(),
        b"second member"
    );
}

#[test]
fn refuses_bytes_after_the_end_record() {
    let mut b = two_members();
    b.push(0);
    assert!(err(b).contains("bytes follow the end of the archive"));
}

#[test]
fn refuses_bytes_hidden_between_members() {
    let b = two_members();
    let ar = Archive::new(b.clone()).unwrap();
    let second = ar.member("a/two.txt").unwrap().header_offset as usize;
    // Shift everything after the first member by 3 bytes and fix the offsets the
    // central directory and end record give: the 3 bytes belong to no member.
    let mut shifted = b[..second].to_vec();
    shifted.extend_from_slice(b"xyz");
    shifted.extend_from_slice(&b[second..]);
    let fix = |bytes: &mut Vec<u8>, at: usize| {
        let v = u32le(bytes, at) + 3;
        bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    };
    let eocd = shifted.len() - 22;
    fix(&mut shifted, eocd + 16);
    let cd = u32le(&shifted, eocd + 16) as usize;
    let mut p = cd;
    while u32le(&shifted, p) == CENTRAL_SIG {
        if u32le(&shifted, p + 42) as usize >= second {
            fix(&mut shifted, p + 42);
        }
        let n = 46
            + u16le(&shifted, p + 28) as usize
            + u16le(&shifted, p + 30) as usize
            + u16le(&shifted, p + 32) as usize;
        p += n;
    }
    assert!(err(shifted).contains("belong to no member"));
}

#[test]
fn refuses_a_local_header_that_names_another_file() {
    let mut b = two_members();
    let at = 30; // the first local header's name
    b[at] = b'z';
    assert!(err(b).contains("its local header names it `z/one.txt`"));
}

#[test]
fn truncated_and_empty_archives() {
    let b = two_members();
    assert!(matches!(
        Archive::new(b[..b.len() - 30].to_vec()).unwrap_err(),
        ArchiveError::Truncated
    ));
    assert!(err(Vec::new()).contains("the file is empty"));
    // Starts like a zip, but its end record is gone: cut short.
    assert!(matches!(
        Archive::new(b"PK\x03\x04 not really a zip archive at all".to_vec()).unwrap_err(),
        ArchiveError::Truncated
    ));
}

/// The offset of each central directory entry of `b` (whose end record has no comment).
fn central_entries(b: &[u8]) -> Vec<usize> {
    let mut p = u32le(b, b.len() - 22 + 16) as usize;
    let mut out = Vec::new();
    while u32le(b, p) == CENTRAL_SIG {
        out.push(p);
        p += 46 + u16le(b, p + 28) as usize + u16le(b, p + 30) as usize + u16le(b, p + 32) as usize;
    }
    out
}

/// `b` with a zip64 end record (plus `extensible` bytes) and locator inserted before
/// its end record, which keeps its real values.
fn with_zip64_end(b: &[u8], extensible: &[u8], disks: u32) -> Vec<u8> {
    let eocd = b.len() - 22;
    let (entries, cd_size, cd_off) = (
        u64::from(u16le(b, eocd + 10)),
        u64::from(u32le(b, eocd + 12)),
        u64::from(u32le(b, eocd + 16)),
    );
    let mut out = b[..eocd].to_vec();
    let rec_at = out.len() as u64;
    out.extend_from_slice(&EOCD64_SIG.to_le_bytes());
    out.extend_from_slice(&(44 + extensible.len() as u64).to_le_bytes());
    out.extend_from_slice(&[45, 3, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    for v in [entries, entries, cd_size, cd_off] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(extensible);
    out.extend_from_slice(&EOCD64_LOCATOR_SIG.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&rec_at.to_le_bytes());
    out.extend_from_slice(&disks.to_le_bytes());
    out.extend_from_slice(&b[eocd..]);
    out
}

#[test]
fn zip64_end_records_as_python_reads_them() {
    let b = two_members();
    let ar = Archive::new(with_zip64_end(&b, &[], 1)).unwrap();
    assert_eq!(
        ar.read_by_name("a/one.txt").unwrap().unwrap(),
        b"first member"
    );
    // Python's zipfile looks for the record 56 bytes before the locator only.
    assert!(err(with_zip64_end(&b, &[0; 8], 1)).contains("extensible data sector"));
    assert!(err(with_zip64_end(&b, &[], 2)).contains("multi-disk"));
}

#[test]
fn refuses_an_end_record_signature_in_the_comment() {
    let mut b = two_members();
    let comment = b"note PK\x05\x06 end";
    let eocd = b.len() - 22;
    b[eocd + 20..eocd + 22].copy_from_slice(&(comment.len() as u16).to_le_bytes());
    b.extend_from_slice(comment);
    assert!(err(b.clone()).contains("comment holds an end-of-central-directory signature"));
    // Without the signature the comment is fine.
    let n = b.len();
    b[n - 8..n - 4].copy_from_slice(b"PK\x05\x07");
    assert_eq!(Archive::new(b).unwrap().comment_len(), comment.len());
}

#[test]
fn refuses_what_python_cannot_open() {
    let b = two_members();
    let first = central_entries(&b)[0];
    let mut v = b.clone();
    v[first + 6] = 64;
    assert!(err(v).contains("needs zip version 6.4 to extract"));
    let mut v = b.clone();
    v[first + 8] |= 1 << 5;
    assert!(err(v).contains("compressed patched data (flag bit 5)"));
}

#[test]
fn refuses_a_utf8_name_the_local_header_does_not_mark() {
    let mut w = WheelWriter::new(Vec::new(), WriteOptions::default());
    w.add("a/caf\u{e9}.txt", b"x", 0o644).unwrap();
    let mut b = w.finish("d-1.dist-info/RECORD").unwrap();
    assert!(Archive::new(b.clone()).is_ok());
    b[7] &= !((FLAG_UTF8 >> 8) as u8);
    assert!(err(b).contains("its local header does not mark the name as UTF-8"));
}

#[test]
fn refuses_bytes_after_the_deflate_stream() {
    use std::io::Write as _;
    let data = b"the member's content, deflated".repeat(4);
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&data).unwrap();
    let stream = z.finish().unwrap();
    let crc = crc32fast::hash(&data);
    let member = |compressed_size| Member {
        name: "a/b.txt".into(),
        compression: Compression::Deflated,
        crc32: crc,
        compressed_size,
        size: data.len() as u64,
        header_offset: 0,
        data_offset: 0,
        attributes: Attributes::unix(0o644),
        dos_datetime: (0, 0),
    };
    let mut hidden = stream.clone();
    hidden.extend_from_slice(b"HIDDEN");
    let whole = ar(stream.clone());
    assert_eq!(whole.read(&member(stream.len() as u64)).unwrap(), data);
    let e = ar(hidden.clone())
        .read(&member(hidden.len() as u64))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bytes are hidden after the end of its compressed data"),
        "{e}"
    );
}

/// One decode gives the content and the stream's blocks; whatever that decode does not
/// take fails with the words of the checked reader.
#[test]
fn reading_with_the_walk_reads_as_the_checked_reader_and_fails_as_it() {
    use std::io::Write as _;
    let data: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(i) >> 7) as u8 ^ (i % 251) as u8)
        .collect();
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    z.write_all(&data).unwrap();
    let stream = z.finish().unwrap();
    let member = |compression, compressed_size: usize, size: usize, crc32| Member {
        name: "a/_ext.so".into(),
        compression,
        crc32,
        compressed_size: compressed_size as u64,
        size: size as u64,
        header_offset: 0,
        data_offset: 0,
        attributes: Attributes::unix(0o755),
        dos_datetime: (0, 0),
    };
    let crc = crc32fast::hash(&data);
    let good = member(Compression::Deflated, stream.len(), data.len(), crc);
    let (content, walked) = ar(stream.clone()).read_walked(&good).unwrap();
    assert_eq!(content, data);
    assert_eq!(
        walked,
        super::super::splice::walk(&stream, data.len() as u64)
    );
    assert!(walked.is_some());

    let mut hidden = stream.clone();
    hidden.extend_from_slice(b"HIDDEN");
    let mut flipped = stream.clone();
    flipped[stream.len() / 2] ^= 0x10;
    let bad = [
        (
            hidden.clone(),
            member(Compression::Deflated, hidden.len(), data.len(), crc),
        ),
        (
            stream.clone(),
            member(Compression::Deflated, stream.len(), data.len(), !crc),
        ),
        (
            stream.clone(),
            member(Compression::Deflated, stream.len(), data.len() + 1, crc),
        ),
        (
            stream.clone(),
            member(Compression::Deflated, stream.len(), data.len() - 1, crc),
        ),
        (
            stream.clone(),
            member(Compression::Deflated, stream.len() - 3, data.len(), crc),
        ),
        (
            flipped.clone(),
            member(Compression::Deflated, flipped.len(), data.len(), crc),
        ),
    ];
    for (i, (bytes, m)) in bad.into_iter().enumerate() {
        let ar = ar(bytes);
        let checked = ar.read(&m).unwrap_err().to_string();
        assert_eq!(
            ar.read_walked(&m).unwrap_err().to_string(),
            checked,
            "case {i}"
        );
    }

    let stored = member(Compression::Stored, data.len(), data.len(), crc);
    assert_eq!(ar(data.clone()).read_walked(&stored).unwrap(), (data, None));
}
