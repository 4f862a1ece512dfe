//! Small files: which files are small enough to read whole, reading one into a git blob (whole,
//! or as a delta against a like file read just before it), and the budget that bounds the bytes in
//! flight between the readers and the pack writer.

use std::fs;
use std::io::Read;
use std::path::Path;

use kura_gitpack::{EncodedObject, ObjectKind};

use super::tunables::{BINARY_SNIFF, CHUNK_EXTENSION_MIN_SIZE, READ_BUDGET};
use crate::config::Config;
use crate::files::{EntryKind, ScannedFile};
use crate::history::deltas::{Blob, DeltaRun};
use crate::history::pointer::MAGIC;
use crate::model::file_type_of;

/// The bytes in flight between the readers and the pack writer (see [`READ_BUDGET`]).
#[derive(Default)]
pub(super) struct ReadBudget {
    /// Bytes in flight, and whether the writer has stopped taking files.
    state: std::sync::Mutex<(u64, bool)>,
    freed: std::sync::Condvar,
}

impl ReadBudget {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `n` more bytes fit (or nothing is in flight), then counts them.
    pub(super) fn take(&self, n: u64) {
        let mut s = self.lock();
        while !s.1 && s.0 > 0 && s.0 + n > READ_BUDGET {
            s = self.freed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.0 += n;
    }

    pub(super) fn give(&self, n: u64) {
        {
            let mut s = self.lock();
            s.0 = s.0.saturating_sub(n);
        }
        self.freed.notify_all();
    }

    /// The writer stopped (done, or failed): no reader waits any more.
    fn close(&self) {
        self.lock().1 = true;
        self.freed.notify_all();
    }
}

/// Closes a [`ReadBudget`] when the writer's loop ends, however it ends.
pub(super) struct CloseOnDrop<'a>(pub(super) &'a ReadBudget);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// What reading a small file gave.
pub(super) enum Outcome {
    /// A blob, whole or as a delta against an earlier one.
    Git(Blob),
    Large,
    Skipped(String),
}

/// What a reader knows of the run of files it reads in order: the blobs after a blob stored
/// whole are stored as deltas against it while they are alike (pages of generated docs,
/// versions of one package side by side), each one delta deep.
#[derive(Default)]
pub(super) struct Run {
    /// The place in the list of files to read of the file this reader read last.
    last: Option<usize>,
    /// The blob the next ones are stored as deltas against.
    deltas: DeltaRun,
}

impl Run {
    /// Moves on to the file at `index`; a file not next to the last one starts a new run.
    fn next(&mut self, index: usize) {
        if self.last.map(|l| l + 1) != Some(index) {
            self.deltas.restart();
        }
        self.last = Some(index);
    }
}

/// Which files go to the chunk store by size or name alone (before reading them).
pub(super) fn large_by_rule(f: &ScannedFile, config: &Config) -> bool {
    let s = &config.storage;
    if f.size >= s.large_file_threshold.0 {
        return true;
    }
    if f.size >= CHUNK_EXTENSION_MIN_SIZE {
        let ext = file_type_of(&f.rel);
        if !ext.is_empty()
            && s.chunk_extensions
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&ext))
        {
            return true;
        }
    }
    false
}

/// Reads a small file (or a link), the `index`th of the files to read, and encodes it as a git
/// blob, or says it belongs in the chunk store after all. `run` is what this reader knows of the
/// files it read before: a blob like the run's base is stored as a delta against it.
pub(super) fn read_small(
    root: &Path,
    f: &ScannedFile,
    config: &Config,
    index: usize,
    run: &mut Run,
) -> Outcome {
    run.next(index);
    let path = root.join(&f.rel);
    let level = config.storage.history_compression_level;
    if f.kind == EntryKind::Symlink {
        return match fs::read_link(&path) {
            Ok(target) => {
                use std::os::unix::ffi::OsStrExt;
                Outcome::Git(Blob::Whole(EncodedObject::encode(
                    ObjectKind::Blob,
                    target.as_os_str().as_bytes(),
                    level,
                )))
            }
            Err(e) => Outcome::Skipped(e.to_string()),
        };
    }
    // Sized from the scan, so reading needs no stat of its own.
    let read = fs::File::open(&path).and_then(|mut file| {
        let mut data =
            Vec::with_capacity(f.size.min(config.storage.large_file_threshold.0) as usize + 1);
        file.read_to_end(&mut data)?;
        Ok(data)
    });
    let data = match read {
        Ok(d) => d,
        Err(e) => return Outcome::Skipped(e.to_string()),
    };
    let s = &config.storage;
    if data.len() as u64 >= s.large_file_threshold.0 || data.starts_with(MAGIC) {
        return Outcome::Large;
    }
    if data.len() as u64 >= s.binary_min_size.0 && memchr0(&data[..data.len().min(BINARY_SNIFF)]) {
        return Outcome::Large;
    }
    Outcome::Git(run.deltas.encode(data, level))
}

fn memchr0(data: &[u8]) -> bool {
    data.contains(&0)
}
