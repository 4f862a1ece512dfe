//! Blobs stored as git deltas against a like blob stored whole just before them. A snapshot's
//! readers and an unarchive both put files into a new pack in path order, where files next to
//! each other are often alike (pages of generated docs, versions of one package side by side).
//! Each delta is one deep, against a blob of the same pack: reading a file applies at most one
//! delta to a whole blob.

use std::sync::Arc;

use kura_gitpack::{DeltaAdded, DeltaBase, EncodedDelta, EncodedObject, ObjectKind, PackWriter};

use crate::error::{Error, Result};

/// The largest blob a run keeps after storing it whole, for the blobs after it to be stored as
/// deltas against it. A run keeps at most one.
const DELTA_BASE_MAX: usize = 1 << 20;

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

/// What one thread knows of the blobs it encoded in order: the blob the next ones are stored as
/// deltas against.
#[derive(Default)]
pub(crate) struct DeltaRun {
    base: Option<DeltaBase>,
}

impl DeltaRun {
    /// The next blob is not next to the last one: it starts a new run.
    pub(crate) fn restart(&mut self) {
        self.base = None;
    }

    /// Encodes `data` as a delta against the run's base when it is alike (of a similar size,
    /// and the delta at most half its size); else whole, and it becomes the base.
    pub(crate) fn encode(&mut self, data: Vec<u8>, level: u32) -> Blob {
        let len = data.len();
        let delta = self
            .base
            .as_ref()
            .filter(|b| len <= 2 * b.data().len() + 64 && b.data().len() <= 2 * len + 64)
            .and_then(|base| EncodedDelta::encode(ObjectKind::Blob, &data, base, level));
        if let Some(delta) = delta {
            return Blob::Delta(delta, Some(data));
        }
        let obj = EncodedObject::encode(ObjectKind::Blob, &data, level);
        if len <= DELTA_BASE_MAX {
            self.base = Some(DeltaBase::new(obj.oid, Arc::new(data)));
        }
        Blob::Whole(obj)
    }
}

/// Appends `blob` to `pack`; a delta the pack cannot take (its base is not in it) goes in whole.
pub(crate) fn add_blob(pack: &mut PackWriter, blob: &Blob, level: u32) -> Result<()> {
    match blob {
        Blob::Whole(obj) => {
            pack.add(obj)?;
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
