//! Blobs stored as git deltas against a like blob stored whole just before them, or the last one
//! of their kind. A snapshot's readers and an unarchive both put files into a new pack in path
//! order, where files next to each other are often alike (pages of generated docs, versions of
//! one package side by side, a package's modules each as `.js`, `.d.ts` and `.js.map`).
//! A snapshot also tries a file against one of the same name stored whole earlier, elsewhere in
//! the folder ([`DeltaRun::encode_or`]). Each delta is one deep, against a blob of the same pack:
//! reading a file applies at most one delta to a whole blob.

use std::borrow::Borrow;

use kura_gitpack::{DeltaAdded, DeltaBase, EncodedDelta, EncodedObject, ObjectKind, PackWriter};

use crate::error::{Error, Result};

/// The largest blob a run keeps after storing it whole, for the blobs after it to be stored as
/// deltas against it. A run keeps at most one.
const DELTA_BASE_MAX: usize = 1 << 20;
/// The largest base whose memory the next base of the thread reuses (a larger one is let go of
/// when it is replaced, so that a thread does not keep the memory of its largest base).
const BASE_REUSED: usize = 256 << 10;

/// A blob encoded for a pack.
pub(crate) enum Blob {
    Whole(EncodedObject),
    /// A delta against the run's base, with the blob's content to store it whole if the pack
    /// cannot take the delta (its base was not written to that pack): see [`Blob::base_is_ahead`].
    Delta(EncodedDelta, Option<Vec<u8>>),
}

impl Blob {
    pub(crate) fn oid(&self) -> kura_gitpack::Oid {
        match self {
            Blob::Whole(obj) => obj.oid,
            Blob::Delta(delta, _) => delta.oid,
        }
    }

    /// Lets go of a delta's content, for a writer that appends every blob of its runs to one
    /// pack in order (so a delta's base is always before it): [`add_blob`] then refuses a delta
    /// whose base is missing instead of storing it whole.
    pub(crate) fn base_is_ahead(self) -> Blob {
        match self {
            Blob::Delta(delta, _) => Blob::Delta(delta, None),
            whole => whole,
        }
    }
}

/// What one thread knows of the blobs it encoded in order: the blobs the next ones are stored as
/// deltas against. A file is tried against the last blob stored whole, then against the last one
/// of its kind (`.js` after `.d.ts` and `.js.map`, in a folder of a package that has all three
/// for each module).
#[derive(Default)]
pub(crate) struct DeltaRun {
    /// The bases, the last stored whole first, each with its kind ([`kind_of`]). The first
    /// `live` are the current run's; the rest are kept after a restart for their memory (a base
    /// and its index made anew for every run cost page faults on each of their pages; see
    /// [`BASE_REUSED`]).
    bases: Vec<(String, DeltaBase)>,
    live: usize,
}

/// The kinds of file a run keeps a base for.
const KINDS: usize = 4;
/// The largest base a run keeps for its kind once a blob of another kind was stored whole after
/// it (only the last base may be larger, up to [`DELTA_BASE_MAX`]).
const KIND_BASE_MAX: usize = 64 << 10;

/// The kind of the file at `path`: its name from the first dot on (`.d.ts`, `.js.map`), or
/// nothing.
pub(crate) fn kind_of(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.find('.').map_or("", |at| &name[at..])
}

impl DeltaRun {
    /// The next blob is not next to the last one: it starts a new run.
    pub(crate) fn restart(&mut self) {
        self.live = 0;
        self.bases.retain(|(_, b)| b.data().len() <= BASE_REUSED);
    }

    /// Encodes `data`, the content of a file of `kind` ([`kind_of`]), as a delta against the
    /// run's last base, or else its last base of that kind, when it is alike (of a similar size,
    /// and the delta at most half its size); else whole, and it becomes the base.
    pub(crate) fn encode(&mut self, data: Vec<u8>, level: u32, kind: &str) -> Blob {
        self.encode_or(data, level, kind, |_| None::<DeltaBase>)
    }

    /// As [`DeltaRun::encode`], and then against the base `other` gives for it (a blob of this
    /// pack stored whole), before it is stored whole.
    pub(crate) fn encode_or<B: Borrow<DeltaBase>>(
        &mut self,
        data: Vec<u8>,
        level: u32,
        kind: &str,
        other: impl FnOnce(&[u8]) -> Option<B>,
    ) -> Blob {
        let len = data.len();
        let live = &self.bases[..self.live];
        let alike = |b: &&DeltaBase| alike_in_size(len, b.data().len());
        let last = live.first().map(|(_, b)| b).filter(alike);
        let of_kind = live
            .iter()
            .skip(1)
            .find(|(k, _)| k == kind)
            .map(|(_, b)| b)
            .filter(alike);
        let against = |base: &DeltaBase| EncodedDelta::encode(ObjectKind::Blob, &data, base, level);
        let delta = last
            .and_then(against)
            .or_else(|| of_kind.and_then(against))
            .or_else(|| against(other(&data)?.borrow()));
        if let Some(delta) = delta {
            return Blob::Delta(delta, Some(data));
        }
        let obj = EncodedObject::encode(ObjectKind::Blob, &data, level);
        if len <= DELTA_BASE_MAX {
            self.keep(kind, obj.oid, data);
        }
        Blob::Whole(obj)
    }

    /// Makes the blob `oid` of `kind`, whose content is `data`, the last base: in the place of
    /// the base of its kind, else of a spare one, else of the least recent.
    fn keep(&mut self, kind: &str, oid: kura_gitpack::Oid, data: Vec<u8>) {
        let slot = match self.bases[..self.live].iter().position(|(k, _)| k == kind) {
            Some(at) => Some(at),
            None if self.live < self.bases.len() => Some(self.live),
            None if self.live < KINDS => None,
            None => Some(self.live - 1),
        };
        let at = match slot {
            Some(at) => {
                let (k, base) = &mut self.bases[at];
                if data.len().max(base.data().len()) <= BASE_REUSED {
                    base.renew(oid, &data);
                } else {
                    *base = DeltaBase::new(oid, data);
                }
                k.clear();
                k.push_str(kind);
                at
            }
            None => {
                self.bases
                    .push((kind.to_string(), DeltaBase::new(oid, data)));
                self.bases.len() - 1
            }
        };
        if at >= self.live {
            self.live += 1;
        }
        self.bases[..=at].rotate_right(1);
        // Only the last base may be larger than a kind's.
        if self.live > 1 && self.bases[1].1.data().len() > KIND_BASE_MAX {
            self.bases.remove(1);
            self.live -= 1;
        }
    }
}

/// Whether a blob of `len` bytes and a base of `base_len` are near enough in size to try a delta.
pub(crate) fn alike_in_size(len: usize, base_len: usize) -> bool {
    len <= 2 * base_len + 64 && base_len <= 2 * len + 64
}

/// Appends `blob` to `pack`; a delta the pack cannot take (its base is not in it) goes in whole,
/// as does one whose content is at hand and whose base went in as a delta itself (the same
/// content was in the pack already, stored as a delta), so that reading stays one delta deep.
pub(crate) fn add_blob(pack: &mut PackWriter, blob: &Blob, level: u32) -> Result<()> {
    match blob {
        Blob::Whole(obj) => {
            pack.add(obj)?;
        }
        Blob::Delta(delta, Some(data)) if !pack.holds_whole(&delta.base) => {
            if !pack.contains(&delta.oid) {
                pack.add(&EncodedObject::encode(ObjectKind::Blob, data, level))?;
            }
        }
        Blob::Delta(delta, content) => {
            if pack.add_delta(delta)? == DeltaAdded::NeedsWhole {
                let Some(data) = content else {
                    return Err(Error::internal(format!(
                        "the base of the delta of blob {} is not in its pack",
                        hex::encode(delta.oid)
                    )));
                };
                pack.add(&EncodedObject::encode(ObjectKind::Blob, data, level))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of `len` bytes that differs from the others of its `kind` only in `n`.
    fn page(kind: u8, n: u32, len: usize) -> Vec<u8> {
        let mut x = u64::from(kind).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut out: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        out[len / 2..len / 2 + 4].copy_from_slice(&n.to_le_bytes());
        out
    }

    fn whole(blob: &Blob) -> kura_gitpack::Oid {
        match blob {
            Blob::Whole(obj) => obj.oid,
            Blob::Delta(..) => panic!("a delta where a whole blob was expected"),
        }
    }

    fn delta(blob: &Blob) -> (&EncodedDelta, Option<&Vec<u8>>) {
        match blob {
            Blob::Delta(delta, content) => (delta, content.as_ref()),
            Blob::Whole(_) => panic!("a whole blob where a delta was expected"),
        }
    }

    #[test]
    fn like_blobs_go_in_as_deltas_against_the_run_base_and_a_restart_starts_anew() {
        let mut run = DeltaRun::default();
        let first = whole(&run.encode(page(1, 0, 20_000), 1, ""));
        let second = run.encode(page(1, 1, 20_000), 1, "");
        let (d, content) = delta(&second);
        assert_eq!(d.base, first);
        assert_eq!(content, Some(&page(1, 1, 20_000)), "kept to go in whole");
        // A writer that appends in order needs no content to fall back on.
        let third = run.encode(page(1, 2, 20_000), 1, "").base_is_ahead();
        assert_eq!(delta(&third).1, None);

        // After a restart, the old base is not used, even for a like blob; the new run's first
        // blob is its base, in the old one's memory.
        run.restart();
        let again = whole(&run.encode(page(1, 3, 20_000), 1, ""));
        assert_eq!(delta(&run.encode(page(1, 4, 20_000), 1, "")).0.base, again);
        // An unlike blob goes in whole and becomes the base.
        let other = whole(&run.encode(page(2, 0, 10_000), 1, ""));
        assert_eq!(delta(&run.encode(page(2, 1, 10_000), 1, "")).0.base, other);
    }

    #[test]
    fn a_base_above_the_reused_size_is_replaced_and_let_go_of_at_a_restart() {
        let mut run = DeltaRun::default();
        let big = whole(&run.encode(page(3, 0, BASE_REUSED + 1), 1, ""));
        assert_eq!(
            delta(&run.encode(page(3, 1, BASE_REUSED + 1), 1, ""))
                .0
                .base,
            big
        );
        run.restart();
        assert!(
            run.bases.is_empty(),
            "a large base is not kept past its run"
        );
        let small = whole(&run.encode(page(4, 0, 5_000), 1, ""));
        run.restart();
        assert_eq!(run.bases.len(), 1, "a small base is kept for its memory");
        // The next base, larger than the reused size, replaces it whole.
        let big = whole(&run.encode(page(5, 0, BASE_REUSED * 2), 1, ""));
        assert_ne!(big, small);
        let next = run.encode(page(5, 1, BASE_REUSED * 2), 1, "");
        assert_eq!(delta(&next).0.base, big);
    }

    #[test]
    fn a_file_is_tried_against_the_last_blob_of_its_kind_too() {
        assert_eq!(kind_of("lib/index.d.ts"), ".d.ts");
        assert_eq!(kind_of("lib/index.js.map"), ".js.map");
        assert_eq!(kind_of("a.b/LICENSE"), "");
        // A package's folder: for each module its .d.ts, .js and .js.map, unlike one another.
        let mut run = DeltaRun::default();
        let kinds = [".d.ts", ".js", ".js.map"];
        let first: Vec<_> = (0..3)
            .map(|k| whole(&run.encode(page(k, 0, 9_000), 1, kinds[k as usize])))
            .collect();
        for module in 1..4 {
            for k in 0..3 {
                let blob = run.encode(page(k, module, 9_000), 1, kinds[k as usize]);
                assert_eq!(
                    delta(&blob).0.base,
                    first[k as usize],
                    "module {module}, {k}"
                );
            }
        }
        // A run keeps a base for a few kinds: a fifth kind takes the place of the least recent.
        for k in 3..5 {
            run.encode(page(k, 0, 9_000), 1, &format!(".k{k}"));
        }
        assert_eq!(run.live, KINDS);
        let blob = run.encode(page(0, 9, 9_000), 1, ".d.ts");
        assert!(
            matches!(blob, Blob::Whole(_)),
            "the .d.ts base was let go of"
        );
        // A base larger than a kind's is let go of once another kind comes after it.
        let mut run = DeltaRun::default();
        run.encode(page(6, 0, KIND_BASE_MAX + 1), 1, ".html");
        run.encode(page(7, 0, 9_000), 1, ".css");
        let blob = run.encode(page(6, 1, KIND_BASE_MAX + 1), 1, ".html");
        assert!(matches!(blob, Blob::Whole(_)));
    }
}
