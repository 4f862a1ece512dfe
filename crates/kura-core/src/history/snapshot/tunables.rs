//! The snapshot's tunables in one place: what is read again, how many threads read, how much
//! waits in memory, and where a file is stored before it is read.

use std::time::Duration;

/// Files changed less than this long before the scan are re-read even when their stat data
/// matches the cache (their mtime may not have ticked yet after a write).
pub(super) const RACY_WINDOW_NS: i64 = 2_000_000_000;

/// Threads reading and compressing small files when they are not all in the page cache: more
/// than the cores, since reads wait on the disk (the Rust docs' 52,000 files, none cached, were
/// read 1.5× as fast with 8 readers as with 2, on 2 cores). Files in the cache already are read
/// by as many threads as there are cores, up to this: there the work is all the CPU's, and
/// more threads only take turns on it (8 readers on 2 cores took 10% more CPU time than 2).
pub(super) const READERS: usize = 8;

/// Files looked at, spread over the list, to tell whether the files to read are in the page
/// cache (see [`READERS`]).
pub(super) const CACHE_PROBES: usize = 16;

/// Sends of encoded small files waiting to be appended to the pack.
pub(super) const READ_QUEUE: usize = 16;
/// A reader sends what it read to the pack writer once it holds this many files, or this many
/// bytes of them (so that what readers hold back stays a small part of [`READ_BUDGET`]).
pub(super) const SEND_FILES: usize = 32;
pub(super) const SEND_BYTES: u64 = 1 << 20;

/// Bytes of small files being read or waiting for the pack: a reader waits before a file that
/// would go over (unless nothing is in flight), so memory stays bounded when many files near
/// `large_file_threshold` come at once.
pub(super) const READ_BUDGET: u64 = 32 << 20;

/// Bytes read to decide whether a file is binary.
pub(super) const BINARY_SNIFF: usize = 8192;

/// Files with one of the `chunk_extensions` go to the chunk store unread from this size on;
/// smaller ones are read like any other.
pub(super) const CHUNK_EXTENSION_MIN_SIZE: u64 = 4096;

/// The sizes of the files a snapshot stores as deltas against a namesake elsewhere in the folder
/// ([`super::namesakes`]): below this a delta saves too little to pay for reading the namesake
/// again; above the upper bound, its index would take too much memory for one reader.
pub(super) const NAMESAKE_MIN: usize = 4 << 10;
pub(super) const NAMESAKE_MAX: usize = 1 << 20;

/// How often the read stage reports progress while it appends small files to the pack.
pub(super) const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// The fewest files a reader reads in order before it takes files from elsewhere in the list
/// (the first file of each run has no earlier one to be stored as a delta against).
pub(super) const RUN_MIN: usize = 16;
