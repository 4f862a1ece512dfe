//! The archiver's tunables in one place: its buffers, how often it tells its progress, how hard
//! the history's loose objects are deflated into the bundle.

/// Buffer between the compressor and the archive file (and the reader of a history bundle).
pub(super) const WRITE_BUFFER: usize = 1 << 20;

/// Bytes between progress reports and cancellation checks while reading a file.
pub(super) const READ_CHUNK: usize = 1 << 20;

/// Files of the working folder up to this size are read ahead of the tar stream, on the thread
/// pool.
pub(super) const READ_AHEAD_FILE: u64 = 256 << 10;

/// Bytes of small files, and entries, read ahead at most in one batch (two batches are in
/// memory at once).
pub(super) const READ_AHEAD_BATCH_BYTES: u64 = 8 << 20;
pub(super) const READ_AHEAD_BATCH_FILES: usize = 1024;

/// Bytes of the working folder archived between two progress reports.
pub(super) const PROGRESS_BYTES: u64 = 8 << 20;

/// The zlib level of the history's loose objects, encoded as entries of the bundle's pack.
pub(super) const LOOSE_OBJECT_LEVEL: u32 = 6;
