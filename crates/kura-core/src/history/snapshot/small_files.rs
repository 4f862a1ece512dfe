//! Small files: which files are small enough to read whole, and reading one into a git blob
//! (whole, or as a delta against a like file read just before it or against its namesake).

use std::io::Read;

use kura_gitpack::{EncodedObject, ObjectKind};

use super::budget::ReadBudget;
use super::namesakes::Namesakes;
use super::tunables::{BINARY_SNIFF, CHUNK_EXTENSION_MIN_SIZE};
use crate::config::Config;
use crate::files::{EntryKind, ScannedFile};
use crate::fs::regular::Beneath;
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
    root: &Beneath,
    f: &ScannedFile,
    config: &Config,
    index: usize,
    run: &mut Run,
    namesakes: &Namesakes<'_>,
    budget: &ReadBudget,
) -> Outcome {
    run.next(index);
    let level = config.storage.history_compression_level;
    if f.kind == EntryKind::Symlink {
        return match root.read_link(&f.rel) {
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
    // No more than one byte past the chunk store's threshold: a file grown since the scan goes
    // there, and one that keeps growing does not fill memory. Its start is read first: a file
    // found to belong in the chunk store by it is not read whole here only to be read again
    // there.
    let most = config.storage.large_file_threshold.0;
    let read = root.open_regular(&f.rel).and_then(|(file, md)| {
        let mut data = Vec::with_capacity(md.len().min(most) as usize + 1);
        let mut file = file.take(most + 1);
        (&mut file)
            .take(BINARY_SNIFF as u64)
            .read_to_end(&mut data)?;
        if belongs_in_chunks(&data, md.len(), config) {
            return Ok(None);
        }
        file.read_to_end(&mut data)?;
        Ok(Some(data))
    });
    let data = match read {
        Ok(Some(d)) => d,
        Ok(None) => return Outcome::Large,
        Err(e) => return Outcome::Skipped(e.to_string()),
    };
    if belongs_in_chunks(&data, data.len() as u64, config) {
        return Outcome::Large;
    }
    Outcome::Git(run.deltas.encode_or(data, level, kind_of(&f.rel), |data| {
        namesakes.base_for(root, f, data, budget)
    }))
}

/// Whether a file of `len` bytes that starts with `start` goes to the chunk store: it is over
/// the threshold, it could be read as a pointer to the chunk store, or it is binary (a NUL in
/// its first [`BINARY_SNIFF`] bytes) and not tiny.
fn belongs_in_chunks(start: &[u8], len: u64, config: &Config) -> bool {
    let s = &config.storage;
    len >= s.large_file_threshold.0
        || start.starts_with(MAGIC)
        || (len >= s.binary_min_size.0 && start[..start.len().min(BINARY_SNIFF)].contains(&0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanned(rel: &str, size: u64) -> ScannedFile {
        ScannedFile {
            rel: rel.to_string(),
            kind: EntryKind::File,
            size,
            mtime_ns: 0,
            ctime_ns: 0,
            inode: 0,
            executable: false,
        }
    }

    /// What reading `rel`, scanned as a regular file of `size` bytes, gives; on a thread, so a
    /// read that waits forever fails the test instead of hanging it.
    fn read(root: &std::path::Path, rel: &str, size: u64, config: &Config) -> Outcome {
        read_scanned(root, scanned(rel, size), config)
    }

    /// What reading `file`, as the scan found it under `root`, gives; on a thread as [`read`].
    fn read_scanned(root: &std::path::Path, file: ScannedFile, config: &Config) -> Outcome {
        let (root, config) = (root.to_path_buf(), config.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let outcome = read_small(
                &Beneath::new(&root),
                &file,
                &config,
                0,
                &mut Run::default(),
                &Namesakes::default(),
                &ReadBudget::default(),
            );
            let _ = tx.send(outcome);
        });
        rx.recv_timeout(std::time::Duration::from_secs(120))
            .expect("the read returned instead of waiting")
    }

    fn skipped_because(outcome: Outcome) -> String {
        match outcome {
            Outcome::Skipped(reason) => reason,
            Outcome::Git(_) => panic!("read as a blob"),
            Outcome::Large => panic!("sent to the chunk store"),
        }
    }

    #[test]
    fn a_file_or_a_folder_on_its_way_replaced_after_the_scan_is_skipped_not_waited_on_nor_followed()
    {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let config = Config::default();
        std::fs::write(root.join("secret"), b"not the project's").unwrap();

        // A named pipe with no writer where the scan saw a file: an open would wait for one.
        use rustix::fs::{mknodat, FileType, Mode, CWD};
        mknodat(CWD, root.join("pipe"), FileType::Fifo, Mode::from(0o600), 0).unwrap();
        let reason = skipped_because(read(root, "pipe", 10, &config));
        assert!(reason.contains("no longer a regular file"), "{reason}");

        // A link: its target is not read in the file's place.
        std::os::unix::fs::symlink(root.join("secret"), root.join("link")).unwrap();
        let reason = skipped_because(read(root, "link", 10, &config));
        assert!(reason.contains("replaced by a link"), "{reason}");
        std::os::unix::fs::symlink("/dev/zero", root.join("zeros")).unwrap();
        let reason = skipped_because(read(root, "zeros", 10, &config));
        assert!(reason.contains("replaced by a link"), "{reason}");

        std::fs::create_dir(root.join("folder")).unwrap();
        let reason = skipped_because(read(root, "folder", 10, &config));
        assert!(reason.contains("no longer a regular file"), "{reason}");

        // A folder on the way replaced by a link to one outside, holding a file of that name.
        std::fs::create_dir(root.join("elsewhere")).unwrap();
        std::fs::write(root.join("elsewhere/key"), b"not the project's").unwrap();
        std::os::unix::fs::symlink(root.join("elsewhere"), root.join("folder/sub")).unwrap();
        let reason = skipped_because(read(root, "folder/sub/key", 17, &config));
        assert!(reason.contains("a folder on its way"), "{reason}");
        // A link the scan found there: the other folder's link of that name is not read either.
        std::os::unix::fs::symlink("/etc/passwd", root.join("elsewhere/to")).unwrap();
        let link = ScannedFile {
            kind: EntryKind::Symlink,
            ..scanned("folder/sub/to", 11)
        };
        let reason = skipped_because(read_scanned(root, link, &config));
        assert!(reason.contains("a folder on its way"), "{reason}");

        // The file itself, for contrast, is read.
        let Outcome::Git(blob) = read(root, "secret", 17, &config) else {
            panic!("a regular file is read");
        };
        assert_eq!(
            blob.oid(),
            kura_gitpack::object_id(ObjectKind::Blob, b"not the project's")
        );
    }

    #[test]
    fn a_small_file_grown_past_the_threshold_since_the_scan_goes_to_the_chunk_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.storage.large_file_threshold.0 = 64 * 1024;
        std::fs::write(dir.path().join("log.txt"), vec![b'a'; 200 * 1024]).unwrap();
        assert!(matches!(
            read(dir.path(), "log.txt", 100, &config),
            Outcome::Large
        ));
    }

    #[test]
    fn a_file_is_binary_by_a_nul_in_its_start_once_it_is_not_tiny() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::default();
        let min = config.storage.binary_min_size.0 as usize;
        let with_nul_at = |name: &str, len: usize, at: usize| {
            let mut data = vec![b'a'; len];
            data[at] = 0;
            std::fs::write(dir.path().join(name), &data).unwrap();
            read(dir.path(), name, len as u64, &config)
        };
        let is_blob_of = |outcome: Outcome, name: &str| match outcome {
            Outcome::Git(blob) => {
                let data = std::fs::read(dir.path().join(name)).unwrap();
                assert_eq!(blob.oid(), kura_gitpack::object_id(ObjectKind::Blob, &data));
            }
            Outcome::Large => panic!("{name} sent to the chunk store"),
            Outcome::Skipped(why) => panic!("{name} skipped: {why}"),
        };
        let large = with_nul_at("first-byte.bin", min, 0);
        assert!(matches!(large, Outcome::Large), "a NUL at the start");
        let large = with_nul_at("end-of-start.bin", 3 * min, BINARY_SNIFF - 1);
        assert!(matches!(large, Outcome::Large), "a NUL at the start's end");
        // Read whole, and kept as a blob: a NUL past the start, or a file under the size.
        let name = "past-the-start.txt";
        is_blob_of(with_nul_at(name, 3 * min, BINARY_SNIFF), name);
        let name = "tiny.bin";
        is_blob_of(with_nul_at(name, min - 1, 0), name);
    }
}
