//! Unpacking archives safely: `.tar.zst`, `.tar.gz` and `.zip`, streamed entry by entry.
//!
//! Every entry is checked before a byte of it is written: its path must follow the name rule
//! (see `names`: no `..`, no absolute path, no backslash or control character) and stay inside
//! the destination (no folder on the way that is a symbolic link), a
//! symbolic link must point inside the destination, a hard link must name a file already
//! unpacked, and device files, fifos and sockets are refused. The caller unpacks into a fresh
//! folder and removes it when this fails, so a refused or damaged archive leaves nothing behind.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::job::Job;

/// Buffer for copying entry data.
const COPY_CHUNK: usize = 1 << 20;
/// Bytes between progress reports.
const REPORT_EVERY: u64 = 8 << 20;

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

/// Unpacks the archive at `path` into the existing folder `dest`.
pub(crate) fn unpack(
    path: &Path,
    format: Format,
    dest: &Path,
    budget: Option<&Budget>,
    job: &Job,
) -> Result<Unpacked> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let total = file.metadata().map(|m| m.len()).ok();
    let mut sink = Sink {
        root: dest.to_path_buf(),
        archive: path.to_path_buf(),
        budget,
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
    Ok(crate::names::archive_entry(raw)?.map(PathBuf::from))
}

/// Writes entries under `root`, checking each one.
struct Sink<'a> {
    root: PathBuf,
    archive: PathBuf,
    budget: Option<&'a Budget>,
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
                    self.file(&rel, mode, mtime, &mut entry)?;
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
                _ => self.file(&rel, mode, None, &mut entry)?,
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

    /// Clears what sits at `full` (a file or link an earlier entry wrote); a folder there is a
    /// conflict.
    fn clear(&self, rel: &Path, full: &Path) -> Result<()> {
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
            if let Some(b) = self.budget {
                if self.done.bytes > b.max_bytes {
                    return Err((b.refuse)(self.done.bytes));
                }
            }
            out.write_all(&buf[..n])
                .map_err(|e| Error::io("write", &full, e))?;
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
        if let Some(secs) = mtime {
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            let _ = out.set_modified(when);
        }
        self.done.files += 1;
        Ok(())
    }

    fn symlink(&mut self, rel: &Path, target: &Path) -> Result<()> {
        // The link's target, resolved from the link's folder, must stay inside the root.
        if target.is_absolute() {
            return Err(escape(
                rel,
                &format!(
                    "it is a symbolic link to the absolute path {}",
                    target.display()
                ),
            ));
        }
        let mut depth: i64 = rel.components().count() as i64 - 1;
        for c in target.components() {
            match c {
                Component::ParentDir => depth -= 1,
                Component::Normal(_) => depth += 1,
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => {
                    return Err(escape(rel, "it is a symbolic link to an absolute path"))
                }
            }
            if depth < 0 {
                return Err(escape(
                    rel,
                    &format!(
                        "it is a symbolic link to {}, outside the destination",
                        target.display()
                    ),
                ));
            }
        }
        let full = self
            .parent_of(rel)?
            .join(rel.file_name().unwrap_or_default());
        self.clear(rel, &full)?;
        std::os::unix::fs::symlink(target, &full).map_err(|e| Error::io("create link", &full, e))
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
