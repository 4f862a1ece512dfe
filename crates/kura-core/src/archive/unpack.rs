//! Unpacking archives safely: `.tar.zst`, `.tar.gz` and `.zip`, streamed entry by entry.
//!
//! Every entry is checked before a byte of it is written: its path must follow the name rule
//! (see `names`: no `..`, no absolute path, no backslash or control character) and stay inside
//! the destination (no folder on the way that is a symbolic link), a
//! symbolic link must point inside the destination (resolved as the kernel would walk it,
//! through the links unpacked before it, and once more through all of them at the end: see
//! `links`), a hard link must name a file already unpacked, device files, fifos and sockets are
//! refused, and the sizes the entries declare must fit the expansion cap (`archive.
//! unpack_max_ratio` times the archive's size, and the free space less `archive.
//! unpack_free_reserve`). Sparse files are written with holes. The caller unpacks into a fresh
//! folder and removes it when this fails, so a refused or damaged archive leaves nothing behind.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::config::{ArchiveConfig, ByteSize};
use crate::error::{Error, ErrorKind, Result};
use crate::job::Job;

/// Buffer for copying entry data.
const COPY_CHUNK: usize = 1 << 20;
/// Bytes between progress reports.
const REPORT_EVERY: u64 = 8 << 20;
/// What any archive may unpack to, however small it is.
const RATIO_FLOOR: u64 = 64 << 20;

/// The container formats Kura can unpack, recognised by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// A tar stream compressed with zstd.
    TarZst,
    /// A tar stream compressed with gzip.
    TarGz,
    /// A zip file.
    Zip,
}

impl Format {
    /// Reads the first bytes of `path` to tell the format.
    pub(crate) fn detect(path: &Path) -> Result<Format> {
        let mut f = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let mut magic = [0u8; 4];
        let mut n = 0;
        while n < magic.len() {
            match f.read(&mut magic[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) => return Err(Error::io("read", path, e)),
            }
        }
        match &magic[..n] {
            [0x28, 0xb5, 0x2f, 0xfd] => Ok(Format::TarZst),
            [0x1f, 0x8b, ..] => Ok(Format::TarGz),
            [b'P', b'K', 3, 4] | [b'P', b'K', 5, 6] => Ok(Format::Zip),
            _ => Err(Error::invalid(format!(
                "{} is not a .tar.zst, .tar.gz or .zip archive (its first bytes say otherwise)",
                path.display()
            ))),
        }
    }
}

/// A cap on the bytes unpacked, with the error to give when it is passed (a quota).
pub(crate) struct Budget {
    /// Most bytes allowed.
    pub max_bytes: u64,
    /// Builds the error, given the bytes the archive holds at least.
    pub refuse: Box<dyn Fn(u64) -> Error + Send + Sync>,
}

/// What was unpacked.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Unpacked {
    /// Regular files written (hard links included).
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// The most an unpack may write: by the archive's size, and by the free space.
struct Cap {
    /// `unpack_max_ratio` times the archive's size (at least `RATIO_FLOOR`); `None`: no limit.
    by_ratio: Option<u64>,
    ratio: u32,
    /// The free space on the destination's disk less the reserve; `None`: unknown.
    by_space: Option<u64>,
    free: u64,
    reserve: ByteSize,
}

impl Cap {
    fn new(archive_size: u64, dest: &Path, settings: &ArchiveConfig) -> Cap {
        let ratio = settings.unpack_max_ratio;
        let free = fs4::available_space(dest).ok();
        Cap {
            by_ratio: (ratio > 0)
                .then(|| archive_size.saturating_mul(ratio as u64).max(RATIO_FLOOR)),
            ratio,
            by_space: free.map(|f| f.saturating_sub(settings.unpack_free_reserve.0)),
            free: free.unwrap_or(0),
            reserve: settings.unpack_free_reserve,
        }
    }
}

/// Unpacks the archive at `path` into the existing folder `dest`, within the expansion cap of
/// `settings`.
pub(crate) fn unpack(
    path: &Path,
    format: Format,
    dest: &Path,
    budget: Option<&Budget>,
    settings: &ArchiveConfig,
    job: &Job,
) -> Result<Unpacked> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let total = file.metadata().map(|m| m.len()).ok();
    let mut sink = Sink {
        root: dest.to_path_buf(),
        archive: path.to_path_buf(),
        budget,
        cap: Cap::new(total.unwrap_or(0), dest, settings),
        links: HashMap::new(),
        job,
        done: Unpacked::default(),
        reported: 0,
        total,
    };
    match format {
        Format::TarZst => {
            let decoder =
                zstd::stream::read::Decoder::new(file).map_err(|e| sink.damaged(&e.to_string()))?;
            sink.tar(decoder)?;
        }
        Format::TarGz => {
            let decoder =
                flate2::read::MultiGzDecoder::new(BufReader::with_capacity(COPY_CHUNK, file));
            sink.tar(decoder)?;
        }
        Format::Zip => sink.zip(file)?,
    }
    sink.check_links()?;
    job.bytes("unpacking", sink.done.bytes, None, None);
    Ok(sink.done)
}

/// Calls `visit` with each entry's cleaned path and kind, reading the whole tar stream (for
/// verification); returns the bytes of the regular files.
pub(crate) fn walk_tar(
    reader: impl Read,
    archive: &Path,
    job: &Job,
    mut visit: impl FnMut(&Path, &mut dyn Read) -> Result<()>,
) -> Result<u64> {
    let damaged = |why: &str| damaged_error(archive, why);
    let mut ar = tar::Archive::new(reader);
    let mut bytes = 0;
    for entry in ar.entries().map_err(|e| damaged(&e.to_string()))? {
        job.check()?;
        let mut entry = entry.map_err(|e| damaged(&e.to_string()))?;
        let raw = entry
            .path()
            .map_err(|e| damaged(&e.to_string()))?
            .into_owned();
        let Some(rel) = clean_rel(&raw)? else {
            continue;
        };
        bytes += entry.header().size().unwrap_or(0);
        visit(&rel, &mut entry)?;
        // Read what the visitor left, so damage anywhere in the stream is found.
        std::io::copy(&mut entry, &mut std::io::sink()).map_err(|e| damaged(&e.to_string()))?;
    }
    drain(ar.into_inner(), archive)?;
    Ok(bytes)
}

/// Reads the stream to its end after the tar's end marker, so the compressor's checksums and
/// a cut-off end are checked too.
fn drain(mut reader: impl Read, archive: &Path) -> Result<()> {
    std::io::copy(&mut reader, &mut std::io::sink())
        .map(|_| ())
        .map_err(|e| damaged_error(archive, &e.to_string()))
}

fn damaged_error(archive: &Path, why: &str) -> Error {
    Error::corrupt(format!(
        "the archive {} is damaged or truncated ({why}); nothing was kept from it",
        archive.display()
    ))
}

fn escape(entry: &Path, why: &str) -> Error {
    Error::new(
        ErrorKind::PathEscape,
        format!(
            "the archive entry '{}' is refused: {why}; nothing was written outside the destination",
            entry.display()
        ),
    )
}

/// The entry's path made relative and plain; `None` for the archive's root itself (`./`).
/// Refuses what the name rule refuses (see `names`): `..`, absolute paths, backslashes, control
/// characters, NUL, names that are not UTF-8 or too long (a `.git` folder may come along).
pub(crate) fn clean_rel(raw: &Path) -> Result<Option<PathBuf>> {
    Ok(crate::fs::names::archive_entry(raw)?.map(PathBuf::from))
}

/// Writes entries under `root`, checking each one.
struct Sink<'a> {
    root: PathBuf,
    archive: PathBuf,
    budget: Option<&'a Budget>,
    cap: Cap,
    /// The symbolic links unpacked so far, by path, with their targets.
    links: HashMap<PathBuf, PathBuf>,
    job: &'a Job,
    done: Unpacked,
    reported: u64,
    total: Option<u64>,
}

impl Sink<'_> {
    fn damaged(&self, why: &str) -> Error {
        damaged_error(&self.archive, why)
    }

    fn tar(&mut self, reader: impl Read) -> Result<()> {
        let mut ar = tar::Archive::new(reader);
        let entries = ar.entries().map_err(|e| self.damaged(&e.to_string()))?;
        for entry in entries {
            self.job.check()?;
            let mut entry = entry.map_err(|e| self.damaged(&e.to_string()))?;
            let raw = entry
                .path()
                .map_err(|e| self.damaged(&e.to_string()))?
                .into_owned();
            use tar::EntryType as T;
            let kind = entry.header().entry_type();
            match kind {
                T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => continue,
                _ => {}
            }
            let Some(rel) = clean_rel(&raw)? else {
                continue;
            };
            match kind {
                T::Regular | T::Continuous | T::GNUSparse => {
                    let mode = entry.header().mode().unwrap_or(0o644);
                    let mtime = entry.header().mtime().ok();
                    // A sparse entry's size is its full size, holes included.
                    self.fit(&rel, entry.size())?;
                    self.file(&rel, mode, mtime, kind == T::GNUSparse, &mut entry)?;
                }
                T::Directory => self.dir(&rel)?,
                T::Symlink => {
                    let target = entry
                        .link_name()
                        .map_err(|e| self.damaged(&e.to_string()))?
                        .ok_or_else(|| self.damaged("a symbolic link without a target"))?
                        .into_owned();
                    self.symlink(&rel, &target)?;
                }
                T::Link => {
                    let target = entry
                        .link_name()
                        .map_err(|e| self.damaged(&e.to_string()))?
                        .ok_or_else(|| self.damaged("a hard link without a target"))?
                        .into_owned();
                    self.hard_link(&rel, &target)?;
                }
                T::Char | T::Block => return Err(escape(&raw, "it is a device file")),
                T::Fifo => return Err(escape(&raw, "it is a fifo")),
                other => {
                    return Err(Error::invalid(format!(
                        "the archive entry '{}' has a type Kura does not unpack ({other:?})",
                        raw.display()
                    )))
                }
            }
        }
        drain(ar.into_inner(), &self.archive)
    }

    fn zip(&mut self, file: File) -> Result<()> {
        let mut zip =
            zip::ZipArchive::new(BufReader::new(file)).map_err(|e| self.damaged(&e.to_string()))?;
        for i in 0..zip.len() {
            self.job.check()?;
            let mut entry = zip.by_index(i).map_err(|e| self.damaged(&e.to_string()))?;
            let raw = PathBuf::from(
                entry
                    .name()
                    .map_err(|e| self.damaged(&e.to_string()))?
                    .into_owned(),
            );
            let Some(rel) = clean_rel(&raw)? else {
                continue;
            };
            let mode = entry.unix_mode().unwrap_or(0o644);
            match mode & 0o170000 {
                0o120000 => {
                    let mut target = Vec::new();
                    (&mut entry)
                        .take(4096)
                        .read_to_end(&mut target)
                        .map_err(|e| self.damaged(&e.to_string()))?;
                    use std::os::unix::ffi::OsStrExt;
                    let target = PathBuf::from(std::ffi::OsStr::from_bytes(&target));
                    self.symlink(&rel, &target)?;
                }
                0o020000 | 0o060000 => return Err(escape(&raw, "it is a device file")),
                0o010000 | 0o140000 => return Err(escape(&raw, "it is a fifo or socket")),
                _ if entry.is_dir() => self.dir(&rel)?,
                _ => {
                    self.fit(&rel, entry.size())?;
                    self.file(&rel, mode, None, false, &mut entry)?
                }
            }
        }
        Ok(())
    }

    /// Creates the folders above `rel`, refusing to go through a symlink or a file.
    fn parent_of(&self, rel: &Path) -> Result<PathBuf> {
        let mut cur = self.root.clone();
        if let Some(parent) = rel.parent() {
            for c in parent.components() {
                cur.push(c);
                match fs::symlink_metadata(&cur) {
                    Ok(md) if md.file_type().is_symlink() => {
                        return Err(escape(rel, "it goes through a symbolic link"))
                    }
                    Ok(md) if md.is_dir() => {}
                    Ok(_) => {
                        return Err(Error::invalid(format!(
                            "the archive entry '{}' lies under a file of the same archive",
                            rel.display()
                        )))
                    }
                    Err(_) => {
                        fs::create_dir(&cur).map_err(|e| Error::io("create folder", &cur, e))?
                    }
                }
            }
        }
        Ok(cur)
    }

    /// Refuses an entry declaring `size` bytes when the unpack would pass its cap.
    fn fit(&self, rel: &Path, size: u64) -> Result<()> {
        let after = self.done.bytes.saturating_add(size);
        let before = ByteSize(self.done.bytes).approx();
        // The ratio first: it is a property of the archive, the same on every machine.
        if let Some(limit) = self.cap.by_ratio.filter(|l| after > *l) {
            return Err(Error::new(
                ErrorKind::QuotaExceeded,
                format!(
                    "the archive {} would unpack to more than {}, {} times its own size (archive.unpack_max_ratio): its entry '{}' declares {} after {before}; nothing was kept. If you trust this archive, raise the limit (`kura config set archive.unpack_max_ratio N`, 0 for none)",
                    self.archive.display(),
                    ByteSize(limit).approx(),
                    self.cap.ratio,
                    rel.display(),
                    ByteSize(size).approx(),
                ),
            ));
        }
        if let Some(limit) = self.cap.by_space.filter(|l| after > *l) {
            return Err(Error::new(
                ErrorKind::DiskFull,
                format!(
                    "the archive {} would unpack to more than the disk can take: its entry '{}' declares {} after {before}, and the disk of {} has {} free, of which archive.unpack_free_reserve keeps {} ({} usable); free some space or unpack elsewhere; nothing was kept",
                    self.archive.display(),
                    rel.display(),
                    ByteSize(size).approx(),
                    self.root.display(),
                    ByteSize(self.cap.free).approx(),
                    self.cap.reserve,
                    ByteSize(limit).approx(),
                ),
            ));
        }
        Ok(())
    }

    /// Checks every link unpacked against all the others, now that they are all there: a link
    /// that was harmless when it was made can lead out through a link made after it.
    fn check_links(&self) -> Result<()> {
        let mut links: Vec<(&PathBuf, &PathBuf)> = self.links.iter().collect();
        links.sort();
        for (link, target) in links {
            crate::fs::links::resolve_link(link, target, &|p| self.links.get(p).cloned())
                .map_err(|why| escape(link, &format!("it is a symbolic link {why}")))?;
        }
        Ok(())
    }

    /// Clears what sits at `full` (a file or link an earlier entry wrote); a folder there is a
    /// conflict.
    fn clear(&mut self, rel: &Path, full: &Path) -> Result<()> {
        self.links.remove(rel);
        match fs::symlink_metadata(full) {
            Ok(md) if md.is_dir() => Err(Error::invalid(format!(
                "the archive entry '{}' is both a folder and a file",
                rel.display()
            ))),
            Ok(_) => fs::remove_file(full).map_err(|e| Error::io("replace", full, e)),
            Err(_) => Ok(()),
        }
    }

    fn dir(&mut self, rel: &Path) -> Result<()> {
        let full = self
            .parent_of(rel)?
            .join(rel.file_name().unwrap_or_default());
        match fs::symlink_metadata(&full) {
            Ok(md) if md.is_dir() => Ok(()),
            Ok(md) if md.file_type().is_symlink() => {
                Err(escape(rel, "a symbolic link stands where its folder goes"))
            }
            Ok(_) => Err(Error::invalid(format!(
                "the archive entry '{}' is both a file and a folder",
                rel.display()
            ))),
            Err(_) => fs::create_dir(&full).map_err(|e| Error::io("create folder", &full, e)),
        }
    }

    fn file(
        &mut self,
        rel: &Path,
        mode: u32,
        mtime: Option<u64>,
        sparse: bool,
        data: &mut dyn Read,
    ) -> Result<()> {
        let full = self
            .parent_of(rel)?
            .join(rel.file_name().unwrap_or_default());
        self.clear(rel, &full)?;
        let perm = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(perm)
            .open(&full)
            .map_err(|e| Error::io("create", &full, e))?;
        let mut buf = vec![0u8; COPY_CHUNK];
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.damaged(&e.to_string())),
            };
            self.done.bytes += n as u64;
            // A zip entry may hold more than it declared.
            self.fit(rel, 0)?;
            if let Some(b) = self.budget {
                if self.done.bytes > b.max_bytes {
                    return Err((b.refuse)(self.done.bytes));
                }
            }
            if sparse && buf[..n].iter().all(|&b| b == 0) {
                // A hole: skipped, never allocated (the length is set at the end).
                out.seek(SeekFrom::Current(n as i64))
                    .map_err(|e| Error::io("write", &full, e))?;
            } else {
                out.write_all(&buf[..n])
                    .map_err(|e| Error::io("write", &full, e))?;
            }
            if self.done.bytes - self.reported >= REPORT_EVERY {
                self.job.check()?;
                self.reported = self.done.bytes;
                self.job.bytes(
                    "unpacking",
                    self.done.bytes,
                    None,
                    rel.to_str().filter(|_| self.total.is_some()),
                );
            }
        }
        if sparse {
            let end = out
                .stream_position()
                .map_err(|e| Error::io("write", &full, e))?;
            out.set_len(end).map_err(|e| Error::io("write", &full, e))?;
        }
        if let Some(secs) = mtime {
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            let _ = out.set_modified(when);
        }
        self.done.files += 1;
        Ok(())
    }

    fn symlink(&mut self, rel: &Path, target: &Path) -> Result<()> {
        // The link's target, walked from the link's folder through the links made so far, must
        // stay inside the root.
        crate::fs::links::resolve_link(rel, target, &|p| self.links.get(p).cloned())
            .map_err(|why| escape(rel, &format!("it is a symbolic link {why}")))?;
        let full = self
            .parent_of(rel)?
            .join(rel.file_name().unwrap_or_default());
        self.clear(rel, &full)?;
        std::os::unix::fs::symlink(target, &full)
            .map_err(|e| Error::io("create link", &full, e))?;
        self.links.insert(rel.to_path_buf(), target.to_path_buf());
        Ok(())
    }

    fn hard_link(&mut self, rel: &Path, target: &Path) -> Result<()> {
        let target_rel = clean_rel(target)?
            .ok_or_else(|| escape(rel, "it is a hard link to the destination itself"))?;
        let target_full = self
            .parent_of(&target_rel)
            .map_err(|_| escape(rel, "it is a hard link through a symbolic link"))?
            .join(target_rel.file_name().unwrap_or_default());
        match fs::symlink_metadata(&target_full) {
            Ok(md) if md.is_file() => {}
            _ => {
                return Err(escape(
                    rel,
                    &format!(
                        "it is a hard link to {}, which is not a file unpacked before it",
                        target.display()
                    ),
                ))
            }
        }
        let full = self
            .parent_of(rel)?
            .join(rel.file_name().unwrap_or_default());
        self.clear(rel, &full)?;
        fs::hard_link(&target_full, &full).map_err(|e| Error::io("create link", &full, e))?;
        self.done.files += 1;
        Ok(())
    }
}
