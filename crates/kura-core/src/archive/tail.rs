//! The tail of an archive: the tar stream after the history bundle, compressed (multithreaded
//! zstd, with a checksum) into the frames after the first: the working folder, then the large
//! files of earlier versions.

use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::sync::mpsc::Receiver;

use git2::{Oid, Repository};
use rayon::prelude::*;

use super::folder::FolderEntry;
use super::large_files::{self, history_pointers};
use super::rawframe::Publishing;
use super::streams::{write_error, CountWriter, FileReader, Progress};
use super::thin::{self, BlobHasher, HashingReader};
use super::tunables::{READ_AHEAD_BATCH_BYTES, READ_AHEAD_BATCH_FILES, READ_AHEAD_FILE};
use super::{plain_header, ArchiveMetadata, BUNDLE_MISSING};
use crate::error::{Error, Result};
use crate::fs::regular::Beneath;
use crate::history::pointer::Pointer;
use crate::job::Job;
use crate::model::Project;
use crate::vault::Vault;

/// The tar stream of the tail, counted before and after compression.
type TailTar<'p> = tar::Builder<
    CountWriter<zstd::stream::write::Encoder<'static, CountWriter<BufWriter<Publishing<'p>>>>>,
>;

/// What the tail of one archive is written from.
pub(super) struct TailSource<'a> {
    pub(super) project: &'a Project,
    /// The project's folder, its files opened by their names in it.
    pub(super) folder: &'a Beneath,
    pub(super) repo: &'a Repository,
    pub(super) head: Oid,
    pub(super) meta: &'a ArchiveMetadata,
    /// The folder every entry of the archive sits under.
    pub(super) top: &'a Path,
    /// Threads compressing (1: the calling one alone).
    pub(super) threads: u32,
    /// Files whose content the history bundle leaves to `files/`, by path, with the blob each
    /// must hash to.
    pub(super) carried: &'a HashMap<String, Oid>,
    /// The archive file, for the errors.
    pub(super) dest: &'a Path,
    pub(super) job: &'a Job,
}

/// What the tail wrote.
pub(super) struct Tail {
    /// Files of the working folder archived.
    pub(super) files: u64,
    /// Bytes of its tar stream.
    pub(super) content: u64,
    /// Bytes it takes in the file, compressed.
    pub(super) len: u64,
}

impl Vault {
    /// The archive's tar stream after the history bundle, compressed into `out`: the working
    /// folder, then the large files of earlier versions (which are known once the bundle's
    /// thread sends the blobs that may be pointers on `candidates`).
    pub(super) fn write_archive_tail(
        &self,
        source: &TailSource<'_>,
        entries: &[FolderEntry],
        out: BufWriter<Publishing<'_>>,
        candidates: &Receiver<HashSet<Oid>>,
    ) -> Result<Tail> {
        let io = |e: std::io::Error| write_error(source.dest, e);
        let level = self.config().archive.compression_level;
        let mut builder = open_tar(out, level, source.threads, &io)?;
        let mut progress = Progress {
            done: 0,
            total: entries
                .iter()
                .filter(|e| e.md.is_file())
                .map(|e| e.md.len())
                .sum::<u64>(),
            reported: 0,
        };
        let mut apart = Vec::new();
        let files = append_folder(
            &mut builder,
            source,
            entries,
            &mut progress,
            &mut apart,
            &io,
        )?;
        // The version's content of files that changed while they were archived.
        thin::append_history_blobs(
            &mut builder,
            source.repo,
            &apart,
            source.top,
            source.meta,
            &io,
        )?;

        // Large files of earlier versions, streamed out of the chunk store.
        let candidates = candidates
            .recv()
            .map_err(|_| Error::internal(BUNDLE_MISSING))?;
        let pointers = history_pointers(source.repo, source.head, &|id| candidates.contains(id))?;
        let old_large = large_files::of_earlier_versions(&pointers);
        progress.total += old_large.iter().map(|p| p.size).sum::<u64>();
        self.append_large_files(&mut builder, &old_large, source, &mut progress, &io)?;
        source
            .job
            .bytes("archiving", progress.done, Some(progress.total), None);
        finish(builder, files, &io)
    }

    /// Streams each of `old_large` out of the chunk store into `builder` as
    /// `large-files/<blake3>`.
    pub(super) fn append_large_files<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        old_large: &[&Pointer],
        source: &TailSource<'_>,
        progress: &mut Progress,
        io: &dyn Fn(std::io::Error) -> Error,
    ) -> Result<()> {
        for ptr in old_large.iter().copied() {
            source.job.check()?;
            let mut h = plain_header(ptr.size, 0o644, source.meta.archived_at);
            let name = source.top.join("large-files").join(hex::encode(ptr.hash));
            let (reader, mut writer) = std::io::pipe().map_err(io)?;
            let chunks = self.chunks();
            let res = std::thread::scope(|s| {
                let feeder = s.spawn(move || {
                    let r = chunks.read_to(&ptr.chunks, &mut writer);
                    drop(writer);
                    r
                });
                let appended = builder.append_data(&mut h, &name, reader);
                let fed = feeder
                    .join()
                    .unwrap_or_else(|_| Err(kura_chunkstore::Error::Cancelled));
                (appended, fed)
            });
            match res {
                (_, Err(e)) => return Err(e.into()),
                (Err(e), _) => return Err(io(e)),
                (Ok(()), Ok(n)) if n != ptr.size => {
                    return Err(Error::corrupt(format!(
                        "a large file of an earlier version has {n} bytes, its pointer says {}; run `kura verify`",
                        ptr.size
                    )))
                }
                _ => {}
            }
            progress.done += ptr.size;
        }
        Ok(())
    }
}

/// The compressor over `out` and the tar stream into it.
fn open_tar<'p>(
    out: BufWriter<Publishing<'p>>,
    level: i32,
    threads: u32,
    io: &dyn Fn(std::io::Error) -> Error,
) -> Result<TailTar<'p>> {
    let mut encoder = zstd::stream::write::Encoder::new(
        CountWriter {
            inner: out,
            bytes: 0,
        },
        level,
    )
    .map_err(io)?;
    encoder.include_checksum(true).map_err(io)?;
    if threads > 1 {
        encoder.multithread(threads).map_err(io)?;
    }
    let mut builder = tar::Builder::new(CountWriter {
        inner: encoder,
        bytes: 0,
    });
    builder.mode(tar::HeaderMode::Complete);
    builder.follow_symlinks(false);
    Ok(builder)
}

/// The working folder under `files/`; returns the files archived. A file whose content the
/// bundle leaves to `files/` but that changed or went since the version is named in `apart`.
///
/// Small files are read (and hashed, when the bundle leaves their content to them) ahead of
/// the tar stream, a batch at a time on the thread pool, while this thread appends the batch
/// before: opening and reading many small files is otherwise this one thread's work while the
/// compressor's threads wait for it. Larger files are streamed as they come.
fn append_folder<'e>(
    builder: &mut TailTar<'_>,
    source: &TailSource<'e>,
    entries: &'e [FolderEntry],
    progress: &mut Progress,
    apart: &mut Vec<Oid>,
    io: &dyn Fn(std::io::Error) -> Error,
) -> Result<u64> {
    let job = source.job;
    let files_dir = source.top.join("files");
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_size(0);
    h.set_mtime(source.meta.archived_at.max(0) as u64);
    builder
        .append_data(&mut h, &files_dir, std::io::empty())
        .map_err(io)?;
    let batches = read_ahead_batches(entries);
    let mut appended = Appended {
        files: 0,
        seen: HashSet::new(),
        apart,
    };
    std::thread::scope(|s| -> Result<()> {
        // One batch read ahead, waiting while the one before is appended.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Option<Ahead>>>(1);
        let reading = &batches;
        let from = ReadAhead {
            folder: source.folder,
            job,
            carried: source.carried,
        };
        s.spawn(move || {
            for batch in reading {
                let read = entries[batch.clone()]
                    .par_iter()
                    .map(|e| from.read(e))
                    .collect();
                // The appending side stopped (failed or cancelled): so does this one.
                if job.is_cancelled() || tx.send(read).is_err() {
                    break;
                }
            }
        });
        for batch in &batches {
            job.check()?;
            let ahead = rx
                .recv()
                .map_err(|_| Error::internal("the archive's reader stopped"))?;
            for (e, ahead) in entries[batch.clone()].iter().zip(ahead) {
                job.check()?;
                append_entry(
                    builder,
                    source,
                    &files_dir,
                    e,
                    ahead,
                    progress,
                    &mut appended,
                    io,
                )?;
            }
        }
        Ok(())
    })?;
    let Appended { files, seen, apart } = appended;
    // Files gone since the version: theirs go in apart too.
    if seen.len() != source.carried.len() {
        apart.extend(
            source
                .carried
                .iter()
                .filter(|(k, _)| !seen.contains(k.as_str()))
                .map(|(_, oid)| *oid),
        );
    }
    Ok(files)
}

/// What appending the folder has done so far.
struct Appended<'e, 'a> {
    files: u64,
    /// Paths whose content the bundle leaves to `files/`, met.
    seen: HashSet<&'e str>,
    apart: &'a mut Vec<Oid>,
}

/// A small file read ahead of the tar stream, or why it could not be.
enum Ahead {
    /// Its bytes (exactly as many as its header says) and, when the bundle leaves its content
    /// to it, their blob id.
    Read(Vec<u8>, Option<Oid>),
    /// It could not be opened.
    NotOpened(std::io::Error),
    /// It could not be read as long as listed (or the job was cancelled).
    NotRead(std::io::Error),
}

/// The entries read ahead in batches: consecutive ranges of `entries`, each of at most
/// [`READ_AHEAD_BATCH_FILES`] entries and about [`READ_AHEAD_BATCH_BYTES`] of small files.
fn read_ahead_batches(entries: &[FolderEntry]) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, e) in entries.iter().enumerate() {
        if is_read_ahead(e) {
            bytes += e.md.len();
        }
        if i + 1 - start >= READ_AHEAD_BATCH_FILES || bytes >= READ_AHEAD_BATCH_BYTES {
            batches.push(start..i + 1);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < entries.len() {
        batches.push(start..entries.len());
    }
    batches
}

/// Whether `e` is a file small enough to be read ahead.
fn is_read_ahead(e: &FolderEntry) -> bool {
    e.md.is_file() && e.md.len() <= READ_AHEAD_FILE
}

/// Where files are read ahead from: the folder, and the contents the bundle leaves to it.
#[derive(Clone, Copy)]
struct ReadAhead<'a> {
    folder: &'a Beneath,
    job: &'a Job,
    carried: &'a HashMap<String, Oid>,
}

impl ReadAhead<'_> {
    /// Reads `e` whole when it is a small file (`None` otherwise), checked to be as long as
    /// listed, and hashed when the bundle leaves its content to it.
    fn read(&self, e: &FolderEntry) -> Option<Ahead> {
        if !is_read_ahead(e) {
            return None;
        }
        let full = self.folder.path().join(&e.rel);
        let file = match self.folder.open_regular(&e.rel) {
            Ok((f, _)) => f,
            Err(err) => return Some(Ahead::NotOpened(err)),
        };
        let mut reader = FileReader {
            inner: file,
            left: e.md.len(),
            path: &full,
            job: self.job,
            progress: None,
        };
        let mut data = Vec::with_capacity(e.md.len() as usize);
        if let Err(err) = reader.read_to_end(&mut data) {
            return Some(Ahead::NotRead(err));
        }
        let carried = e.rel.to_str().and_then(|r| self.carried.get(r));
        let id = carried.map(|_| {
            let mut hasher = BlobHasher::new(data.len() as u64);
            hasher.update(&data);
            hasher.finish()
        });
        Some(Ahead::Read(data, id))
    }
}

/// Appends one entry of the folder under `files_dir`: read `ahead` (a small file), or read now.
#[allow(clippy::too_many_arguments)]
fn append_entry<'e>(
    builder: &mut TailTar<'_>,
    source: &TailSource<'e>,
    files_dir: &Path,
    e: &'e FolderEntry,
    ahead: Option<Ahead>,
    progress: &mut Progress,
    appended: &mut Appended<'e, '_>,
    io: &dyn Fn(std::io::Error) -> Error,
) -> Result<()> {
    let job = source.job;
    let name = files_dir.join(&e.rel);
    let full = source.project.path.join(&e.rel);
    let mut h = tar::Header::new_gnu();
    h.set_metadata_in_mode(&e.md, tar::HeaderMode::Complete);
    let ft = e.md.file_type();
    if ft.is_symlink() {
        let target = source
            .folder
            .read_link(&e.rel)
            .map_err(|err| Error::io("read link", &full, err))?;
        h.set_size(0);
        return builder.append_link(&mut h, &name, &target).map_err(io);
    }
    if ft.is_dir() {
        h.set_size(0);
        return builder
            .append_data(&mut h, &name, std::io::empty())
            .map_err(io);
    }
    let rel = e.rel.to_str().filter(|_| !source.carried.is_empty());
    let carried = rel.and_then(|r| source.carried.get(r).map(|oid| (r, oid)));
    // The blob id of what went in, when the bundle leaves this content to the file.
    let got = match ahead {
        Some(Ahead::NotOpened(err)) => return Err(Error::io("read", &full, err)),
        Some(Ahead::NotRead(err)) => return Err(io(err)),
        Some(Ahead::Read(data, id)) => {
            builder
                .append_data(&mut h, &name, data.as_slice())
                .map_err(io)?;
            progress.advance(data.len() as u64, job, &full);
            id
        }
        None => {
            let (f, _) = source
                .folder
                .open_regular(&e.rel)
                .map_err(|err| Error::io("read", &full, err))?;
            let reader = FileReader {
                inner: f,
                left: e.md.len(),
                path: &full,
                job,
                progress: Some(&mut *progress),
            };
            if carried.is_some() {
                let mut hashing = HashingReader {
                    inner: reader,
                    hasher: BlobHasher::new(e.md.len()),
                };
                builder
                    .append_data(&mut h, &name, &mut hashing)
                    .map_err(io)?;
                Some(hashing.hasher.finish())
            } else {
                builder.append_data(&mut h, &name, reader).map_err(io)?;
                None
            }
        }
    };
    if let Some((rel, oid)) = carried {
        // The bundle leaves this content to the file: it must be the version's.
        if got.as_ref() != Some(oid) {
            // Changed since the version: the version's content goes in apart.
            tracing::debug!(path = rel, "archive: a file changed since its version");
            appended.apart.push(*oid);
        }
        appended.seen.insert(rel);
    }
    appended.files += 1;
    Ok(())
}

/// Ends the tar stream and the compressor, and flushes what is left to the file.
fn finish(builder: TailTar<'_>, files: u64, io: &dyn Fn(std::io::Error) -> Error) -> Result<Tail> {
    let counted = builder.into_inner().map_err(io)?;
    let content = counted.bytes;
    let mut written = counted.inner.finish().map_err(io)?;
    written.inner.flush().map_err(io)?;
    Ok(Tail {
        files,
        content,
        len: written.bytes,
    })
}
