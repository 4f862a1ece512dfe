//! The archiver's tunables in one place: its buffers, how often it tells its progress, how hard
//! the history's loose objects are deflated into the bundle.

/// Buffer between the compressor and the archive file (and the reader of a history bundle).
pub(super) const WRITE_BUFFER: usize = 1 << 20;

/// Bytes between progress reports and cancellation checks while reading a file.
pub(super) const READ_CHUNK: usize = 1 << 20;

/// Bytes of the working folder archived between two progress reports.
pub(super) const PROGRESS_BYTES: u64 = 8 << 20;

/// The zlib level of the history's loose objects, encoded as entries of the bundle's pack.
pub(super) const LOOSE_OBJECT_LEVEL: u32 = 6;
