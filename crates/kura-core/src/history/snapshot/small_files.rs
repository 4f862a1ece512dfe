//! Small files: which files are small enough to read whole, and reading one into a git blob
//! (whole, or as a delta against a like file read just before it or against its namesake).

use std::fs;
use std::io::Read;
use std::path::Path;

use kura_gitpack::{EncodedObject, ObjectKind};

use super::budget::ReadBudget;
use super::namesakes::Namesakes;
use super::tunables::{BINARY_SNIFF, CHUNK_EXTENSION_MIN_SIZE};
use crate::config::Config;
use crate::files::{EntryKind, ScannedFile};
use crate::history::deltas::{kind_of, Blob, DeltaRun};
use crate::history::pointer::MAGIC;
use crate::model::file_type_of;

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
/// files it read before: a blob like the run's last base, or its last base of the file's kind,
/// is stored as a delta against it; else one like its namesake stored whole elsewhere in the
/// folder, as a delta against that.
pub(super) fn read_small(
    root: &Path,
    f: &ScannedFile,
    config: &Config,
    index: usize,
    run: &mut Run,
    namesakes: &Namesakes<'_>,
    budget: &ReadBudget,
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
    Outcome::Git(run.deltas.encode_or(data, level, kind_of(&f.rel), |data| {
        namesakes.base_for(root, f, data, budget)
    }))
}

fn memchr0(data: &[u8]) -> bool {
    data.contains(&0)
}
