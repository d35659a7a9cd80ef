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
    /// The new RECORD's Unix mode; `None` keeps the old RECORD's, as auditwheel keeps it
    /// (it rewrites the unpacked file).
    pub record_mode: Option<u32>,
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
        self.rewrite_deferred(changes, BTreeMap::new(), out, options, par)
    }

    /// [`rewrite_with`](Self::rewrite_with), with contents made only when their turn
    /// to be written comes (`deferred`, by path: edits of members, or new members). The
    /// members to write are taken in batches of about 64 MiB: each batch's
    /// contents are made, deflated and written before the next is made, so that a wheel
    /// of a gigabyte of edited libraries is not held whole in memory, three times over
    /// (the edited bytes, the old deflate streams, the new ones).
    pub fn rewrite_deferred<W: Write>(
        &self,
        changes: &Changes,
        mut deferred: BTreeMap<String, Deferred<'_>>,
        out: W,
        options: WriteOptions,
        par: &dyn Parallel,
    ) -> std::io::Result<W> {
        // Their paths and modes apart, in name order: the contents are taken out as made.
        let later: Vec<(String, u32)> = deferred.iter().map(|(p, d)| (p.clone(), d.mode)).collect();
        let order = self.write_order(changes, &later);
        let rows = self.record.by_path();
        let mut w = WheelWriter::new(out, options);
        if let Some(comment) = &changes.comment {
            w.set_comment(comment.clone());
        }
        let mut at = 0;
        while at < order.len() {
            // The batch: items up to the one whose content reaches the budget.
            let mut end = at;
            let mut bytes = 0u64;
            while end < order.len() && bytes < BATCH {
                bytes += match &order[end] {
                    Item::Raw(_) => 0,
                    Item::Put(path, _) => changes.put[*path].0.len() as u64,
                    Item::Later(path, _) => deferred[*path].size,
                };
                end += 1;
            }
            let batch = &order[at..end];
            // The deferred contents of the batch, made on every thread.
            let mut jobs = Vec::new();
            let mut names = Vec::new();
            for item in batch {
                if let Item::Later(path, _) = item {
                    let d = deferred.remove(*path).expect("each path once in the order");
                    jobs.push(d.make);
                    names.push(*path);
                }
            }
            let mut made: Vec<(&str, Made)> = Vec::new();
            for (name, m) in names.into_iter().zip(crate::parallel::map(par, jobs)) {
                made.push((name, m?));
            }
            let made_for = |path: &str| made.iter().find(|(p, _)| *p == path).map(|(_, m)| m);
            // Each content of the batch, with the member it is an edit of.
            let mut items: Vec<BatchItem<'_>> = Vec::new();
            for item in batch {
                match item {
                    Item::Raw(_) => {}
                    Item::Put(path, _) => {
                        items.push((path, &changes.put[*path].0, changes.edited_from.get(*path)));
                    }
                    Item::Later(path, _) => {
                        if let Some(Made::Content(data, from)) = made_for(path) {
                            items.push((path, data, from.as_ref()));
                        }
                    }
                }
            }
            // The old deflate streams of edited members, read raw, unless they came walked.
            let mut streams: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
            for (path, _, from) in &items {
                let Some((from, _)) = from else { continue };
                let Some(m) = self.archive.member(from) else {
                    continue;
                };
                if m.compression == super::Compression::Deflated
                    && !changes.walked.contains_key(from.as_str())
                {
                    let mut raw = Vec::with_capacity(m.compressed_size as usize);
                    std::io::Read::read_to_end(&mut self.archive.raw_reader(m), &mut raw)?;
                    streams.insert(path, raw);
                }
            }
            let contents: Vec<Content<'_>> = items
                .iter()
                .map(|(path, data, from)| Content {
                    data,
                    base: from.and_then(|(from, old)| {
                        let walked = changes.walked.get(from.as_str());
                        let deflated = match walked {
                            Some(w) => w.stream(),
                            None => streams.get(path)?,
                        };
                        Some(Base {
                            old,
                            deflated,
                            walked,
                        })
                    }),
                })
                .collect();
            let prepared: BTreeMap<&str, _> = items
                .iter()
                .map(|(path, _, _)| *path)
                .zip(prepare_contents(&contents, options.level, par))
                .collect();
            for item in batch {
                match item {
                    Item::Raw(m) => {
                        let hash = rows.get(m.name.as_str()).and_then(|e| e.hash.clone());
                        w.copy_raw(&self.archive, m, hash)?;
                    }
                    Item::Put(path, mode) => {
                        w.add_prepared(path, &changes.put[*path].0, &prepared[path], *mode)?;
                    }
                    Item::Later(path, mode) => match made_for(path) {
                        Some(Made::Content(data, _)) => {
                            w.add_prepared(path, data, &prepared[path], *mode)?;
                        }
                        _ => {
                            let m = self.archive.member(path).ok_or_else(|| {
                                std::io::Error::other(format!(
                                    "{path} was left unchanged but is not in the wheel"
                                ))
                            })?;
                            let hash = rows.get(m.name.as_str()).and_then(|e| e.hash.clone());
                            w.copy_raw(&self.archive, m, hash)?;
                        }
                    },
                }
            }
            at = end;
        }
        let record_path = self.record_path();
        let record_mode = changes.record_mode.unwrap_or_else(|| {
            self.archive
                .member(&record_path)
                .map_or(0, super::Member::unix_mode)
        });
        w.finish_with_mode(&record_path, record_mode)
    }

    /// The members of the output, in the order they are written: the members in their
    /// original order (new ones after the rest of their kind), `.dist-info` last.
    fn write_order<'c>(
        &'c self,
        changes: &'c Changes,
        later: &'c [(String, u32)],
    ) -> Vec<Item<'c>> {
        let record_path = self.record_path();
        let prefix = format!("{}/", self.dist_info);
        let in_dist_info = |p: &str| p.starts_with(&prefix);
        let mut order = Vec::new();
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
                order.push(if changes.put.contains_key(&m.name) {
                    Item::Put(&m.name, m.unix_mode())
                } else if let Ok(i) = later.binary_search_by(|(p, _)| p.as_str().cmp(&m.name)) {
                    Item::Later(&later[i].0, m.unix_mode())
                } else {
                    Item::Raw(m)
                });
            }
            // New members of this kind, by name.
            let mut new: Vec<Item<'c>> = changes
                .put
                .iter()
                .map(|(path, (_, mode))| Item::Put(path, *mode))
                .chain(later.iter().map(|(path, mode)| Item::Later(path, *mode)))
                .filter(|item| {
                    let path = item.path();
                    in_dist_info(path) == pass_dist_info
                        && self.archive.member(path).is_none()
                        && path != record_path
                })
                .collect();
            new.sort_by(|a, b| a.path().cmp(b.path()));
            order.extend(new);
        }
        order
    }
}

/// Bytes of contents made and deflated at a time by [`Wheel::rewrite_deferred`]: a
/// batch's memory is about twice this, and within it every content is deflated on
/// every thread (a large member is split into chunks, so one member keeps them busy).
const BATCH: u64 = 64 << 20;

/// A member's new content, made when its turn comes (see [`Wheel::rewrite_deferred`]).
pub struct Deferred<'a> {
    /// Its Unix mode, for a new member (an existing one keeps its own).
    pub mode: u32,
    /// Its size, or a guess of it, to batch by.
    pub size: u64,
    /// Makes it.
    pub make: Box<dyn FnOnce() -> std::io::Result<Made> + Send + 'a>,
}

impl std::fmt::Debug for Deferred<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("mode", &self.mode)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// What a [`Deferred`] made.
#[derive(Debug)]
pub enum Made {
    /// New bytes and, for an edit of a member of the wheel, that member's name and what
    /// the edit overwrote in it (its untouched deflate blocks are reused).
    Content(Vec<u8>, Option<(String, Overwritten)>),
    /// Nothing changed: the member is copied as it is.
    Unchanged,
}

/// A content of a batch: its path, its bytes, and the member it is an edit of with what
/// the edit overwrote.
type BatchItem<'a> = (&'a str, &'a [u8], Option<&'a (String, Overwritten)>);

/// One member of the output, in the order written.
enum Item<'c> {
    /// Copied from the wheel as it is.
    Raw(&'c super::Member),
    /// Written from [`Changes::put`], with its mode.
    Put(&'c str, u32),
    /// Written from a [`Deferred`], with its mode.
    Later(&'c str, u32),
}

impl Item<'_> {
    fn path(&self) -> &str {
        match self {
            Item::Raw(m) => &m.name,
            Item::Put(p, _) | Item::Later(p, _) => p,
        }
    }
}
