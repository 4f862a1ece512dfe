//! The run's tunables in one place: how many blobs wait for the packer, how large a blob can be,
//! how often progress is reported, and which files get packs of their own. The pack size and the
//! chunk sizes are format constants, in `repo.rs`; how many uploads are in flight is the store's
//! (`Store::uploads_in_flight`).

use crate::repo;

/// Blobs waiting between the chunking threads and the packer.
pub(super) const BLOB_QUEUE: usize = 64;
/// The largest a blob can be: a whole chunk that did not compress (zstd's bound), sealed.
pub(super) const MAX_BLOB_LEN: usize =
    repo::CHUNK_MAX as usize + (repo::CHUNK_MAX as usize >> 7) + 4096;
/// Progress is reported every this many files.
pub(super) const PROGRESS_EVERY: u64 = 256;
/// Files of at least this size get packs of their own: shared packs are kept whole while any
/// blob in them is used, so a large dead file sharing them would stay at the target.
pub(super) const OWN_PACKS_FROM: u64 = 4 << 20;
