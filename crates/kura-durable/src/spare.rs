//! Saves that replace a file without taking a new inode each time.
//!
//! [`crate::write_with`] writes a new temp file and renames it over the old one: the old file's
//! inode is freed and the next save takes a new one. On ext4 without a journal, taking an inode
//! skips every inode freed in the last minute (`recently_deleted`, which reads each one's
//! `dtime`), under the folder's lock; thousands of saves a second into one folder spent most of
//! their time there, and slowed down as the freed inodes piled up.
//!
//! [`Spares::write_with`] writes into a spare file instead (an empty one kept from an earlier
//! save, else a new one), fsyncs it, and swaps it with the file it replaces in one step
//! (`renameat2(RENAME_EXCHANGE)`): a reader sees the old content or the new, never a mix, as
//! with a rename, and the folder is fsynced as before. The replaced file now has the spare's
//! name; it is emptied and kept for a later save, but only when nothing else has it open (a
//! write lease, which the kernel grants only to the one open file description) and it has one
//! name and no extended attributes. Otherwise its name is removed, exactly what a rename over
//! it would have done: a reader holding the old file keeps reading the old content.
//!
//! Spares live in one folder per filesystem of project folders ([`SPARES_DIR`], a temp name:
//! backups, listings and cleanup leave it alone). Each process holds an exclusive `flock` on the
//! spares it keeps, so processes sharing a vault never share a spare, and spares left by a
//! process that died (unlocked) are taken over. New files, links, files on another filesystem,
//! and systems without `RENAME_EXCHANGE` take the rename path.

use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::{group, parent_or_dot, with_disk, Failure, COPY_BUFFER};

/// The folder of spare files, in the folder that holds the project folders.
pub const SPARES_DIR: &str = ".kura-tmp-spares";

/// Spares one process keeps, at most.
const KEEP: usize = 32;

/// Spare files for saves that replace files in folders on one filesystem.
pub struct Spares {
    dir: PathBuf,
    pool: Mutex<Vec<Spare>>,
    /// Whether the leftovers of earlier processes were looked at.
    adopted: AtomicBool,
    /// Cleared when the system refuses `RENAME_EXCHANGE`.
    exchange: AtomicBool,
    next: AtomicU64,
}

struct Spare {
    path: PathBuf,
    /// Open, empty, locked with `flock` by this process.
    file: File,
}

impl Spares {
    /// Spares kept in `dir` (created when first needed).
    pub fn new(dir: PathBuf) -> Spares {
        Spares {
            dir,
            pool: Mutex::new(Vec::new()),
            adopted: AtomicBool::new(false),
            exchange: AtomicBool::new(cfg!(target_os = "linux")),
            next: AtomicU64::new(0),
        }
    }

    /// The folder the spares are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// [`crate::write_from`], reusing the inode of the file it replaces.
    pub fn write_from(&self, path: &Path, reader: &mut dyn io::Read) -> Result<u64, Failure> {
        let mut written = 0;
        self.write_with(path, |f| {
            written = crate::copy(reader, f)?;
            Ok(())
        })?;
        Ok(written)
    }

    /// [`crate::write_with`]: atomic and durable, and `path` untouched on any error; an existing
    /// regular file is replaced by swapping a spare in (see the module's notes).
    pub fn write_with(
        &self,
        path: &Path,
        fill: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
    ) -> Result<(), Failure> {
        let old = match fs::symlink_metadata(path) {
            Ok(m) if m.is_file() && self.exchange.load(Ordering::Relaxed) => m,
            _ => return crate::write_with(path, fill),
        };
        let Some(spare) = self.take(&old) else {
            return crate::write_with(path, fill);
        };
        let dir = parent_or_dot(path);
        with_disk(|disk| {
            let filled = (|| {
                let mut w = BufWriter::with_capacity(COPY_BUFFER, &spare.file);
                let mut fill = Some(fill);
                disk.write(&mut io::sink(), &mut |_| match fill.take() {
                    Some(fill) => fill(&mut w).and_then(|()| w.flush()),
                    None => Ok(()),
                })
                .map_err(Failure::at("write", path))?;
                drop(w);
                disk.sync_file(&spare.file)
                    .map_err(Failure::at("sync", path))
            })();
            if let Err(e) = filled {
                self.put_back(spare);
                return Err(e);
            }
            match disk.exchange(&spare.path, path) {
                Ok(()) => {
                    let Spare { path: name, file } = spare;
                    drop(file);
                    // `name` now holds the replaced file.
                    self.recycle(name);
                    group::sync_dir(dir, &|| disk.sync_dir(dir))
                        .map_err(Failure::at("sync folder", dir))
                }
                Err(e) if unsupported(&e) => {
                    // Another mount of the same filesystem, or no RENAME_EXCHANGE: what was
                    // written goes in the usual way.
                    if e.raw_os_error() != Some(libc::EXDEV) {
                        self.exchange.store(false, Ordering::Relaxed);
                    }
                    let mut file = &spare.file;
                    let res = file
                        .rewind()
                        .map_err(Failure::at("read back", &spare.path))
                        .and_then(|()| {
                            crate::write_with(path, |w| io::copy(&mut file, w).map(drop))
                        });
                    self.put_back(spare);
                    res
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && !path.exists() => {
                    // The file was removed meanwhile: the spare takes its name.
                    disk.rename(&spare.path, path)
                        .map_err(Failure::at("replace", path))?;
                    group::sync_dir(dir, &|| disk.sync_dir(dir))
                        .map_err(Failure::at("sync folder", dir))
                }
                Err(e) => {
                    self.put_back(spare);
                    Err(Failure::at("replace", path)(e))
                }
            }
        })
    }

    /// A spare on the filesystem of `old`, empty and locked; `None` when there is none to be had.
    fn take(&self, old: &fs::Metadata) -> Option<Spare> {
        use std::os::unix::fs::MetadataExt;
        if !self.adopted.swap(true, Ordering::Relaxed) {
            self.adopt_leftovers();
        }
        let dev = fs::metadata(&self.dir).ok().map(|m| m.dev());
        if dev.is_some_and(|d| d != old.dev()) {
            return None;
        }
        if let Some(s) = lock(&self.pool).pop() {
            return Some(s);
        }
        fs::create_dir_all(&self.dir).ok()?;
        if fs::metadata(&self.dir).ok()?.dev() != old.dev() {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = self.dir.join(format!("{}-{now:x}-{n}", std::process::id()));
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode_0600()
            .open(&path)
            .ok()?;
        if !try_flock(&file) {
            // Another process took it over between the create and the lock: it is theirs.
            return None;
        }
        Some(Spare { path, file })
    }

    /// Keeps `spare` for a later save, emptied; removes it when it cannot be emptied or enough
    /// are kept.
    fn put_back(&self, spare: Spare) {
        let mut pool = lock(&self.pool);
        if pool.len() < KEEP && spare.file.set_len(0).is_ok() {
            let mut file = &spare.file;
            if file.rewind().is_ok() {
                pool.push(spare);
                return;
            }
        }
        drop(pool);
        let _ = fs::remove_file(&spare.path);
    }

    /// Keeps the replaced file now at `name` as a spare when that is safe, else removes the
    /// name (what a rename over it would have done).
    fn recycle(&self, name: PathBuf) {
        match reusable(&name) {
            Some(file) => self.put_back(Spare { path: name, file }),
            None => {
                let _ = fs::remove_file(&name);
            }
        }
    }

    /// Takes over the spares of processes that are gone (their `flock` was released); removes
    /// those beyond what one process keeps.
    fn adopt_leftovers(&self) {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in rd.flatten() {
            let path = e.path();
            let Some(file) = open_private(&path) else {
                continue;
            };
            if !try_flock(&file) {
                continue; // a live process's
            }
            if lock(&self.pool).len() < KEEP && file.set_len(0).is_ok() {
                lock(&self.pool).push(Spare { path, file });
            } else {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether an exchange failed because the system or the mounts do not allow it (not a fault of
/// the disk).
fn unsupported(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported
        || matches!(
            e.raw_os_error(),
            Some(libc::EXDEV | libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
        )
}

trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Mode0600 for fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

/// Opens a file without following a link or waiting on a FIFO; `None` unless it is a regular
/// file.
fn open_private(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    file.metadata().ok()?.is_file().then_some(file)
}

/// The replaced file at `name`, emptied and locked, when nothing else can see it: a regular file
/// with this one name, no extended attributes, and no open file description but ours (a write
/// lease is granted only then; it is held while the file is emptied, so an open in between waits
/// and then finds it empty under a name nobody else uses).
fn reusable(name: &Path) -> Option<File> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let file = open_private(name)?;
    let meta = file.metadata().ok()?;
    if meta.nlink() != 1 {
        return None;
    }
    if rustix::fs::flistxattr_query(&file) != Ok(0) {
        return None;
    }
    if !set_lease(&file, libc::F_WRLCK) {
        return None;
    }
    let emptied = file.set_len(0).is_ok()
        && (meta.mode() & 0o7777 == 0o600
            || file
                .set_permissions(fs::Permissions::from_mode(0o600))
                .is_ok())
        && try_flock(&file);
    set_lease(&file, libc::F_UNLCK);
    emptied.then_some(file)
}

/// Takes (`F_WRLCK`) or gives up (`F_UNLCK`) a lease on `file`: a write lease is granted only
/// when no other open file description of the file exists, in any process.
#[allow(unsafe_code)]
fn set_lease(file: &File, kind: libc::c_int) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor `file` owns and keeps open for the call; F_SETLEASE takes an
    // int and touches no memory.
    unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, kind) == 0 }
}

/// An exclusive `flock`, without waiting.
fn try_flock(file: &File) -> bool {
    use rustix::fs::{flock, FlockOperation};
    flock(file, FlockOperation::NonBlockingLockExclusive).is_ok()
}
