//! Producing a new wheel from an opened one plus changes — what `retag` and `repair` do.
//! Unchanged members are copied raw (compressed bytes identical, hash taken from the
//! verified RECORD); changed and new ones are written from memory; RECORD is regenerated.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use super::deflate::{prepare_contents, Base, Content, Parallel, Sequential};
use super::splice::{Overwritten, Walked};
use super::writer::{WheelWriter, WriteOptions};
use super::Wheel;
use crate::source::ReadAt;

/// What to change in a wheel.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// New content for existing members (or new members), by path, with a Unix mode for
    /// new ones (existing members keep theirs).
    pub put: BTreeMap<String, (Vec<u8>, u32)>,
    /// Members to drop.
    pub remove: BTreeSet<String>,
    /// For a new content that is an edit of a member of the wheel (by path): that
    /// member's name and what the edit overwrote, so that the blocks the edit left
    /// alone are reused.
    pub edited_from: BTreeMap<String, (String, Overwritten)>,
    /// The deflate streams of members of the wheel, with their blocks, walked ahead
    /// (by member name), for the edits of them: they are not read again.
    pub walked: BTreeMap<String, Walked>,
    /// The archive comment of the output (none when `None`).
    pub comment: Option<Vec<u8>>,
}

impl Changes {
    /// Sets a member's content.
    pub fn put(&mut self, path: impl Into<String>, data: Vec<u8>, mode: u32) {
        self.put.insert(path.into(), (data, mode));
    }

    /// Sets a member's content, an edit of member `from` that overwrote `old`.
    pub fn put_edit(
        &mut self,
        path: impl Into<String>,
        data: Vec<u8>,
        mode: u32,
        from: impl Into<String>,
        old: Overwritten,
    ) {
        let path = path.into();
        self.edited_from.insert(path.clone(), (from.into(), old));
        self.put.insert(path, (data, mode));
    }
}

impl<S: ReadAt> Wheel<S> {
    /// Writes this wheel with `changes` applied into `out`. Order: the members in their
    /// original order (new ones after the rest of their kind), `.dist-info` last, RECORD
    /// at the very end. The caller must have verified RECORD: unchanged members keep
    /// the hashes it gives.
    pub fn rewrite<W: Write>(
        &self,
        changes: &Changes,
        out: W,
        options: WriteOptions,
    ) -> std::io::Result<W> {
        self.rewrite_with(changes, out, options, &Sequential)
    }

    /// [`rewrite`](Self::rewrite), deflating the changed members' chunks through `par`
    /// (the bytes are the same whatever `par` does).
    pub fn rewrite_with<W: Write>(
        &self,
        changes: &Changes,
        out: W,
        options: WriteOptions,
        par: &dyn Parallel,
    ) -> std::io::Result<W> {
        // The old deflate streams of edited members, read raw, unless they came walked.
        let mut streams: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
        for (path, (from, _)) in &changes.edited_from {
            let Some(m) = self.archive.member(from) else {
                continue;
            };
            if m.compression == super::Compression::Deflated
                && !changes.walked.contains_key(from.as_str())
            {
                let mut raw = Vec::with_capacity(m.compressed_size as usize);
                std::io::Read::read_to_end(&mut self.archive.raw_reader(m), &mut raw)?;
                streams.insert(path.as_str(), raw);
            }
        }
        let contents: Vec<Content<'_>> = changes
            .put
            .iter()
            .map(|(path, (data, _))| Content {
                data,
                base: changes.edited_from.get(path).and_then(|(from, old)| {
                    let walked = changes.walked.get(from.as_str());
                    let deflated = match walked {
                        Some(w) => w.stream(),
                        None => streams.get(path.as_str())?,
                    };
                    Some(Base {
                        old,
                        deflated,
                        walked,
                    })
                }),
            })
            .collect();
        let prepared: BTreeMap<&str, _> = changes
            .put
            .keys()
            .map(String::as_str)
            .zip(prepare_contents(&contents, options.level, par))
            .collect();
        let mut w = WheelWriter::new(out, options);
        if let Some(comment) = &changes.comment {
            w.set_comment(comment.clone());
        }
        let record_path = self.record_path();
        let prefix = format!("{}/", self.dist_info);
        let in_dist_info = |p: &str| p.starts_with(&prefix);
        let rows = self.record.by_path();
        for pass_dist_info in [false, true] {
            for m in self.archive.members() {
                if m.name == record_path
                    || changes.remove.contains(&m.name)
                    || in_dist_info(&m.name) != pass_dist_info
                {
                    continue;
                }
                if super::record::is_unhashed(&m.name, &self.dist_info) {
                    // Signatures over the old RECORD are void once it changes.
                    continue;
                }
                match changes.put.get(&m.name) {
                    Some((data, _)) => {
                        w.add_prepared(&m.name, data, &prepared[m.name.as_str()], m.unix_mode)?;
                    }
                    None => {
                        let hash = rows.get(m.name.as_str()).and_then(|e| e.hash.clone());
                        w.copy_raw(&self.archive, m, hash)?;
                    }
                }
            }
            for (path, (data, mode)) in &changes.put {
                if in_dist_info(path) == pass_dist_info
                    && self.archive.member(path).is_none()
                    && *path != record_path
                {
                    w.add_prepared(path, data, &prepared[path.as_str()], *mode)?;
                }
            }
        }
        w.finish(&record_path)
    }
}
