//! Where a snapshot's new objects go: one new pack of the project's history (blobs, trees, the
//! commit) and the chunk store's writer (the content of large files). The read stage fills them,
//! the tree stage adds to the pack, and the commit stage finishes them in the commit order.

use git2::{OdbLookupFlags, Oid};
use kura_gitpack::{EncodedObject, PackWriter};

use super::Context;
use crate::error::Result;
use crate::history::deltas::{self, Blob};

/// The two writers of a snapshot.
///
/// Fields drop in the order they are declared: a snapshot that fails stops the chunk writer
/// first, then lets go of the history's object database, then deletes the unfinished pack.
pub(super) struct Writers<'a> {
    pub chunks: kura_chunkstore::ChunkWriter<'a>,
    pub history: HistoryPack<'a>,
}

impl<'a> Writers<'a> {
    /// Starts the history's new pack, then the chunk writer.
    pub(super) fn open(ctx: &'a Context<'_>) -> Result<Self> {
        let history = HistoryPack::open(ctx)?;
        let chunks = ctx.vault.chunks().writer();
        Ok(Writers { chunks, history })
    }
}

/// The history's new pack, and its object database to leave out what the history holds already.
pub(super) struct HistoryPack<'a> {
    odb: git2::Odb<'a>,
    pub pack: PackWriter,
    /// Whether the history has a head, so its object database is worth looking in.
    has_head: bool,
    /// The zlib level of the history's objects.
    level: u32,
}

impl<'a> HistoryPack<'a> {
    fn open(ctx: &'a Context<'_>) -> Result<Self> {
        let pack = PackWriter::create(&ctx.repo_path.join("objects/pack"))?;
        let odb = ctx.repo()?.odb()?;
        Ok(HistoryPack {
            odb,
            pack,
            has_head: ctx.head.is_some(),
            level: ctx.config.storage.history_compression_level,
        })
    }

    /// Whether the history holds an object already. A history without a head has none worth
    /// looking for (at most a pack a crash left unreferenced: a duplicate does no harm). The
    /// object database was opened just now, so a miss need not re-read the pack folder, which
    /// libgit2 would otherwise do for every new object.
    pub(super) fn contains(&self, oid: &[u8; 20]) -> Result<bool> {
        Ok(self.pack.contains(oid)
            || (self.has_head
                && self
                    .odb
                    .exists_ext(Oid::from_bytes(oid)?, OdbLookupFlags::NO_REFRESH)))
    }

    /// The pack, letting go of the history's object database.
    pub(super) fn into_pack(self) -> PackWriter {
        self.pack
    }

    /// Adds `obj` to the pack unless the history holds it already.
    pub(super) fn add_new(&mut self, obj: &EncodedObject) -> Result<()> {
        if !self.contains(&obj.oid)? {
            self.pack.add(obj)?;
        }
        Ok(())
    }

    /// Adds `blob` to the pack unless the history holds it already; a delta whole when the pack
    /// cannot take it (its base was in the history already, so not in this pack).
    pub(super) fn add_new_blob(&mut self, blob: &Blob) -> Result<()> {
        if !self.contains(&blob.oid())? {
            deltas::add_blob(&mut self.pack, blob, self.level)?;
        }
        Ok(())
    }
}
