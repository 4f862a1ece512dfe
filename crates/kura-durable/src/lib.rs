//! Crash-safe file writes, in one place: write a temp file in the same folder, fsync it, rename
//! it into place, fsync the folder (bupstash's `dir_chunk_storage.rs` order). Writers that finish
//! in one folder at the same time share its fsync (`group`).
//!
//! Every step goes through a [`Disk`]: the real operating system ([`OsDisk`]) unless a test
//! replaced it through [`faults`], which fails the Nth write, fsync or rename with `ENOSPC` or
//! `EIO`, so that every operation can be failed at every durable step and the vault checked
//! after reopening (redb's `tests/crash_consistency.rs` is the model).
//!
//! Errors are [`Failure`]s: the step, the path and the OS error; each crate turns them into its
//! own error type at its boundary.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("notes/today.txt");
//! kura_durable::write_file(&path, b"saved\n").unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"saved\n");
//! ```

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub mod faults;
mod group;
#[cfg(target_os = "linux")]
mod spare;
#[cfg(target_os = "linux")]
pub use spare::{Spares, SPARES_DIR};

/// Elsewhere than on Linux (no `RENAME_EXCHANGE`, no leases), saves take the rename path.
#[cfg(not(target_os = "linux"))]
mod no_spares {
    use std::fs::File;
    use std::io::{self, BufWriter, Read};
    use std::path::{Path, PathBuf};

    use crate::Failure;

    pub const SPARES_DIR: &str = ".kura-tmp-spares";

    pub struct Spares;

    impl Spares {
        pub fn new(_dir: PathBuf) -> Spares {
            Spares
        }

        pub fn write_from(&self, path: &Path, reader: &mut dyn Read) -> Result<u64, Failure> {
            crate::write_from(path, reader)
        }

        pub fn write_with(
            &self,
            path: &Path,
            fill: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
        ) -> Result<(), Failure> {
            crate::write_with(path, fill)
        }
    }
}
#[cfg(not(target_os = "linux"))]
pub use no_spares::{Spares, SPARES_DIR};

/// Size of the buffer used to stream file contents into a temp file.
pub const COPY_BUFFER: usize = 1 << 20;

/// Prefix of the temp files [`write_with`] creates beside their target, and of every other temp
/// file or folder Kura makes in the vault: backups skip such names and cleanup removes them.
pub const TEMP_PREFIX: &str = ".kura-tmp-";

/// Whether a file name is one of Kura's temp files (see [`TEMP_PREFIX`]).
pub fn is_temp_name(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().starts_with(TEMP_PREFIX.as_bytes())
}

/// The durable steps of a write, as a small storage seam. The default is [`OsDisk`]; tests
/// install a failing one through [`faults::install`].
pub trait Disk: Send + Sync {
    /// Writes a file's content: `fill` writes into `out`.
    fn write(
        &self,
        out: &mut dyn Write,
        fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()>;
    /// Flushes a file's content and metadata to stable storage.
    fn sync_file(&self, file: &File) -> io::Result<()>;
    /// Renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Swaps the names of two existing entries in one step.
    fn exchange(&self, a: &Path, b: &Path) -> io::Result<()>;
    /// Flushes a folder's entries (new names, renames) to stable storage.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Creates one folder (its parent exists).
    fn create_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The real operating system.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsDisk;

impl Disk for OsDisk {
    fn write(
        &self,
        out: &mut dyn Write,
        fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        fill(out)
    }

    fn sync_file(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn exchange(&self, a: &Path, b: &Path) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{renameat_with, RenameFlags, CWD};
            renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (a, b);
            Err(io::ErrorKind::Unsupported.into())
        }
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        #[cfg(unix)]
        {
            File::open(dir)?.sync_all()
        }
        #[cfg(not(unix))]
        {
            let _ = dir;
            Ok(())
        }
    }

    fn create_dir(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir(dir)
    }
}

/// A durable step that failed: what was being done, to which path, and the OS error.
#[derive(Debug)]
pub struct Failure {
    /// The step, as a verb phrase: "write", "sync", "replace", "sync folder", "create folder",
    /// "create a temporary file in".
    pub action: &'static str,
    pub path: PathBuf,
    pub source: io::Error,
}

impl Failure {
    fn at<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Failure + 'a {
        move |source| Failure {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether the disk was full (`ENOSPC`, or a quota: `EDQUOT`).
    pub fn is_disk_full(&self) -> bool {
        is_disk_full(&self.source)
    }
}

/// Whether an OS error says the disk (or the user's quota on it) is full.
pub fn is_disk_full(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::StorageFull
        || e.kind() == io::ErrorKind::QuotaExceeded
        || e.raw_os_error() == Some(faults::ENOSPC)
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot {} {}: {}",
            self.action,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Writes `data` to `path` atomically and durably, creating its folder if needed.
pub fn write_file(path: &Path, data: &[u8]) -> Result<(), Failure> {
    write_with(path, |w| w.write_all(data))
}

/// Streams `reader` into `path` atomically and durably; returns the number of bytes written.
pub fn write_from(path: &Path, reader: &mut dyn Read) -> Result<u64, Failure> {
    let mut written = 0;
    write_with(path, |f| {
        written = copy(reader, f)?;
        Ok(())
    })?;
    Ok(written)
}

/// Copies `reader` into `out`; returns the bytes copied. Use it rather than `io::copy` into a
/// `BufWriter`: that reads straight into the writer's spare room, and a reader without
/// `read_buf` (any `dyn Read`) has all of it zeroed first at every read: 2 MiB of memset for a
/// 1 KiB save into the 1 MiB buffer of [`write_with`].
pub fn copy(reader: &mut dyn Read, out: &mut dyn Write) -> io::Result<u64> {
    let mut buf = vec![0; 64 << 10];
    let mut copied = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all(&buf[..n])?;
        copied += n as u64;
    }
}

/// Creates a temp file beside `path`, lets `fill` write it, then fsyncs it, renames it into place
/// and fsyncs the folder. On any error the temp file is removed and `path` is untouched.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<(), Failure> {
    write_with_prefix(path, TEMP_PREFIX, fill)
}

/// [`write_with`] with temp files named `<prefix><random>` (for folders whose owner cleans up
/// its own temp names).
pub fn write_with_prefix(
    path: &Path,
    prefix: &str,
    fill: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<(), Failure> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(Failure::at("create folder", dir))?;
    let tmp = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile_in(dir)
        .map_err(Failure::at("create a temporary file in", dir))?;
    with_disk(|disk| {
        let file = tmp.as_file();
        {
            let mut w = BufWriter::with_capacity(COPY_BUFFER, file);
            let mut fill = Some(fill);
            disk.write(&mut io::sink(), &mut |_| match fill.take() {
                Some(fill) => fill(&mut w).and_then(|()| w.flush()),
                None => Ok(()),
            })
            .map_err(Failure::at("write", path))?;
        }
        disk.sync_file(file).map_err(Failure::at("sync", path))?;
        let tmp_path = tmp.into_temp_path();
        disk.rename(&tmp_path, path)
            .map_err(Failure::at("replace", path))?;
        // The name now belongs to `path`; nothing to remove.
        let _ = tmp_path.keep();
        group::sync_dir(dir, &|| disk.sync_dir(dir)).map_err(Failure::at("sync folder", dir))
    })
}

/// Writes `data` to `out` (a file being filled at `path`) as one durable write step; for
/// writers that manage their own temp file (the pack writers).
pub fn write_all(out: &mut dyn Write, data: &[u8], path: &Path) -> Result<(), Failure> {
    with_disk(|disk| disk.write(out, &mut |w| w.write_all(data)))
        .map_err(Failure::at("write", path))
}

/// Fsyncs a file's content and metadata.
pub fn sync_file(file: &File, path: &Path) -> Result<(), Failure> {
    with_disk(|disk| disk.sync_file(file)).map_err(Failure::at("sync", path))
}

/// Bytes a file filled in order may run ahead of the disk before [`Writeback`] starts their
/// writeback.
pub const WRITEBACK_STEP: u64 = 8 << 20;

/// Starts the writeback of a file filled in order every [`WRITEBACK_STEP`] bytes, behind its
/// writer: the fsync that completes the file then waits for the last few megabytes, not for the
/// whole file, and the disk works while the writer goes on.
#[derive(Debug, Default)]
pub struct Writeback {
    /// Where the bytes whose writeback has not been started begin.
    from: u64,
}

impl Writeback {
    /// For a file whose bytes before `from` are not this writer's (or are written already).
    pub fn starting_at(from: u64) -> Writeback {
        Writeback { from }
    }

    /// The writer has handed the file its bytes up to `end`.
    pub fn written_to(&mut self, file: &File, end: u64) {
        if end >= self.from + WRITEBACK_STEP {
            writeback::start(file, self.from, end - self.from);
            self.from = end;
        }
    }
}

#[cfg(target_os = "linux")]
mod writeback {
    use std::fs::File;
    use std::os::fd::AsRawFd;

    /// Asks the kernel to start writing `len` bytes of `file` from `offset` to the disk now,
    /// without waiting for them (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, as RocksDB's
    /// `bytes_per_sync` does). A hint only: it makes nothing durable, and a failure to write
    /// shows at the file's fsync.
    #[allow(unsafe_code)]
    pub(super) fn start(file: &File, offset: u64, len: u64) {
        let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
            return;
        };
        // SAFETY: sync_file_range on a descriptor `file` owns and keeps open for the call; it
        // takes integers and touches no memory of ours. Its result is a hint's and is ignored.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
}

/// Elsewhere than on Linux there is no such hint; the fsync does all the work.
#[cfg(not(target_os = "linux"))]
mod writeback {
    pub(super) fn start(_file: &std::fs::File, _offset: u64, _len: u64) {}
}

/// Fsyncs a folder so that renames and new entries in it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<(), Failure> {
    with_disk(|disk| group::sync_dir(dir, &|| disk.sync_dir(dir)))
        .map_err(Failure::at("sync folder", dir))
}

/// Renames `from` to `to` (replacing it) and fsyncs the folder of `to`, and that of `from` when
/// it differs, so the move survives a crash.
pub fn rename(from: &Path, to: &Path) -> Result<(), Failure> {
    with_disk(|disk| disk.rename(from, to)).map_err(Failure::at("move into place", to))?;
    let to_dir = parent_or_dot(to);
    sync_dir(to_dir)?;
    let from_dir = parent_or_dot(from);
    if from_dir != to_dir {
        sync_dir(from_dir)?;
    }
    Ok(())
}

/// Renames `from` to `to` without fsyncing a folder, for callers that fsync several renames'
/// folders at once; still one durable step of the seam.
pub fn rename_only(from: &Path, to: &Path) -> Result<(), Failure> {
    with_disk(|disk| disk.rename(from, to)).map_err(Failure::at("move into place", to))
}

/// Like [`rename_only`], but refuses (`AlreadyExists`) when `to` exists: for names unique by
/// construction (a random id), as a guard against a clash, not against a concurrent writer.
pub fn rename_new(from: &Path, to: &Path) -> Result<(), Failure> {
    if to.symlink_metadata().is_ok() {
        return Err(Failure::at("move into place", to)(io::Error::from(
            io::ErrorKind::AlreadyExists,
        )));
    }
    rename_only(from, to)
}

/// Creates one folder (its parent exists) and fsyncs the parent; an existing folder is fine.
pub fn create_dir(dir: &Path) -> Result<(), Failure> {
    match with_disk(|disk| disk.create_dir(dir)) {
        Ok(()) => sync_dir(parent_or_dot(dir)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(Failure::at("create folder", dir)(e)),
    }
}

/// Creates `dir` and any missing parents, fsyncing each new one's parent.
pub fn create_dir_all(dir: &Path) -> Result<(), Failure> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing: Vec<&Path> = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.as_os_str().is_empty() || d.is_dir() {
            break;
        }
        missing.push(d);
        cur = d.parent();
    }
    for d in missing.iter().rev() {
        create_dir(d)?;
    }
    Ok(())
}

/// Creates `dir` and any missing parents as folders of the user alone (mode 0700), as the XDG
/// base directory spec asks for state, config and runtime folders; existing ones are left as
/// they are.
#[cfg(unix)]
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

fn parent_or_dot(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Runs `f` with the disk in use: the OS, or the one a test installed.
fn with_disk<R>(f: impl FnOnce(&dyn Disk) -> R) -> R {
    match faults::installed() {
        Some(disk) => f(&*disk),
        None => f(&OsDisk),
    }
}
