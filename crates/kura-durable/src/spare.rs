//! Saves that replace a file without taking a new inode each time.
//!
//! [`crate::write_with`] writes a new temp file and renames it over the old one: the old file's
//! inode is freed and the next save takes a new one. On ext4 without a journal, taking an inode
//! skips every inode freed in the last minute (`recently_deleted`, which reads each one's
//! `dtime`), under the folder's lock; thousands of saves a second into one folder spent most of
//! their time there, and slowed down as the freed inodes piled up.
//!
//! [`Spares::write_with`] writes into a spare file instead (one kept, zeroed, from an earlier
//! save, else a new one), cuts it to what was written, fsyncs it, and swaps it with the file it
//! replaces in one step (`renameat2(RENAME_EXCHANGE)`): a reader sees the old content or the
//! new, never a mix, as with a rename, and the folder is fsynced as before. The replaced file
//! now has the spare's name; a thread of the [`Spares`] zeroes it (or empties it, past
//! [`ZERO_UP_TO`]) and keeps it for a later save, but only when nothing else has it open (a
//! write lease, which the kernel grants only to the one open file description) and it has one
//! name and no extended attributes. Otherwise its name is removed, exactly what a rename over
//! it would have done: a reader holding the old file keeps reading the old content. Doing that
//! off the save's path took a tenth of a small save's time off.
//!
//! Spares live in one folder per filesystem of project folders ([`SPARES_DIR`], a temp name:
//! backups, listings and cleanup leave it alone). A spare's name says whose it is (process id
//! and an id of its `Spares`), and each `Spares` keeps its `.owner` file locked (`flock`) while
//! it lives, so processes sharing a vault never share a spare, whatever their process id
//! namespaces; the spares of one whose lock is gone (its process ended, or it was dropped) are
//! taken over by the next that starts. New files, links, files on another filesystem, and
//! systems without `RENAME_EXCHANGE` take the rename path.

use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};

use crate::{group, parent_or_dot, with_disk, Failure, COPY_BUFFER};

/// The folder of spare files, in the folder that holds the project folders.
pub const SPARES_DIR: &str = ".kura-tmp-spares";

/// Spares one process keeps, at most.
const KEEP: usize = 32;

/// Spare files for saves that replace files in folders on one filesystem.
pub struct Spares {
    shared: Arc<Shared>,
    /// The thread that empties replaced files, started with the first one.
    recycler: Mutex<Option<Recycler>>,
}

struct Recycler {
    queue: mpsc::Sender<PathBuf>,
    thread: std::thread::JoinHandle<()>,
}

struct Shared {
    dir: PathBuf,
    /// Names this `Spares` makes: `<pid>-<owner, hex>-<n>`; `<pid>-<owner, hex>.owner`, kept
    /// open and locked (`flock`) while it lives, says it is alive, to every process (whatever
    /// its process id namespace).
    owner: u64,
    owner_lock: Mutex<Option<File>>,
    pool: Mutex<Vec<Spare>>,
    /// Whether the leftovers of earlier processes were looked at.
    adopted: AtomicBool,
    /// Cleared when the system refuses `RENAME_EXCHANGE`.
    exchange: AtomicBool,
    /// The device of the spares' folder, once it exists (0 before).
    dev: AtomicU64,
    next: AtomicU64,
    /// Replaced files not yet emptied.
    pending: Mutex<usize>,
    emptied: Condvar,
}

struct Spare {
    path: PathBuf,
    /// Open, at offset 0, holding `len` zero bytes.
    file: File,
    len: u64,
}

/// A replaced file up to this size is zeroed and keeps its blocks, so that the next save of a
/// size up to it overwrites them: no block freed and none allocated, which made small saves a
/// third faster here. Larger ones are emptied.
const ZERO_UP_TO: u64 = 64 << 10;

impl Spares {
    /// Spares kept in `dir` (created when first needed).
    pub fn new(dir: PathBuf) -> Spares {
        static MADE: AtomicU64 = AtomicU64::new(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let owner = now.wrapping_add(MADE.fetch_add(1, Ordering::Relaxed));
        Spares {
            shared: Arc::new(Shared {
                dir,
                owner,
                owner_lock: Mutex::new(None),
                pool: Mutex::new(Vec::new()),
                adopted: AtomicBool::new(false),
                exchange: AtomicBool::new(true),
                dev: AtomicU64::new(0),
                next: AtomicU64::new(0),
                pending: Mutex::new(0),
                emptied: Condvar::new(),
            }),
            recycler: Mutex::new(None),
        }
    }

    /// Waits until every file replaced so far is emptied and kept, or removed.
    pub fn settle(&self) {
        let mut pending = lock(&self.shared.pending);
        while *pending > 0 {
            pending = self
                .shared
                .emptied
                .wait(pending)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Hands the replaced file at `name` to the recycling thread; empties it here when the
    /// thread cannot be started.
    fn recycle(&self, name: PathBuf) {
        *lock(&self.shared.pending) += 1;
        let mut recycler = lock(&self.recycler);
        if recycler.is_none() {
            let (queue, rx) = mpsc::channel::<PathBuf>();
            let shared = Arc::clone(&self.shared);
            let thread = std::thread::Builder::new()
                .name("kura-spares".into())
                .spawn(move || {
                    for name in rx {
                        shared.keep_if_private(name);
                        shared.one_done();
                    }
                });
            if let Ok(thread) = thread {
                *recycler = Some(Recycler { queue, thread });
            }
        }
        let unsent = match recycler.as_ref() {
            Some(r) => r.queue.send(name).err().map(|e| e.0),
            None => Some(name),
        };
        drop(recycler);
        if let Some(name) = unsent {
            self.shared.keep_if_private(name);
            self.shared.one_done();
        }
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
            Ok(m) if m.is_file() && self.shared.exchange.load(Ordering::Relaxed) => m,
            _ => return crate::write_with(path, fill),
        };
        let Some(spare) = self.shared.take(&old) else {
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
                // What the zeros left beyond the new content goes.
                let mut file = &spare.file;
                let written = file.stream_position().map_err(Failure::at("write", path))?;
                if written < spare.len {
                    spare
                        .file
                        .set_len(written)
                        .map_err(Failure::at("write", path))?;
                }
                disk.sync_file(&spare.file)
                    .map_err(Failure::at("sync", path))
            })();
            if let Err(e) = filled {
                self.shared.put_back_written(spare);
                return Err(e);
            }
            match disk.exchange(&spare.path, path) {
                Ok(()) => {
                    // `spare.path` now names the replaced file; the new one is closed at once,
                    // so that nothing of this process keeps the file at `path` open (a save to
                    // the same path at the same time may be recycling it already).
                    let Spare {
                        path: name, file, ..
                    } = spare;
                    drop(file);
                    self.recycle(name);
                    group::sync_dir(dir, &|| disk.sync_dir(dir))
                        .map_err(Failure::at("sync folder", dir))
                }
                Err(e)
                    if unsupported(&e)
                        || (e.kind() == io::ErrorKind::NotFound && !spare.path.exists()) =>
                {
                    // Another mount of the same filesystem, no RENAME_EXCHANGE, or the spares'
                    // folder removed by hand: what was written goes in the usual way.
                    if unsupported(&e) && e.raw_os_error() != Some(libc::EXDEV) {
                        self.shared.exchange.store(false, Ordering::Relaxed);
                    }
                    let gone = e.kind() == io::ErrorKind::NotFound;
                    if gone {
                        lock(&self.shared.pool).clear();
                        self.shared.dev.store(0, Ordering::Relaxed);
                    }
                    let mut file = &spare.file;
                    let res = file
                        .rewind()
                        .map_err(Failure::at("read back", &spare.path))
                        .and_then(|()| {
                            crate::write_with(path, |w| io::copy(&mut file, w).map(drop))
                        });
                    if !gone {
                        self.shared.put_back_written(spare);
                    }
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
                    self.shared.put_back_written(spare);
                    Err(Failure::at("replace", path)(e))
                }
            }
        })
    }
}

impl Drop for Spares {
    fn drop(&mut self) {
        let recycler = lock(&self.recycler).take();
        if let Some(Recycler { queue, thread }) = recycler {
            drop(queue);
            let _ = thread.join();
        }
        // What it kept is anyone's now.
        if lock(&self.shared.owner_lock).take().is_some() {
            let _ = fs::remove_file(self.shared.owner_path());
        }
    }
}

impl Shared {
    fn one_done(&self) {
        let mut pending = lock(&self.pending);
        *pending = pending.saturating_sub(1);
        self.emptied.notify_all();
    }

    /// A spare on the filesystem of `old`, zeroed or empty; `None` when there is none to be had.
    fn take(&self, old: &fs::Metadata) -> Option<Spare> {
        use std::os::unix::fs::MetadataExt;
        if !self.adopted.swap(true, Ordering::Relaxed) {
            self.adopt_leftovers();
        }
        let dev = match self.dev.load(Ordering::Relaxed) {
            0 => {
                fs::create_dir_all(&self.dir).ok()?;
                self.claim_owner()?;
                let dev = fs::metadata(&self.dir).ok()?.dev();
                self.dev.store(dev, Ordering::Relaxed);
                dev
            }
            dev => dev,
        };
        if dev != old.dev() {
            return None;
        }
        if let Some(s) = lock(&self.pool).pop() {
            return Some(s);
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self
            .dir
            .join(format!("{}-{:x}-{n}", std::process::id(), self.owner));
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .ok()?;
        Some(Spare { path, file, len: 0 })
    }

    /// Keeps `spare` (zeroed or empty, at offset 0) for a later save; removes it when enough
    /// are kept.
    fn put_back(&self, spare: Spare) {
        let mut pool = lock(&self.pool);
        if pool.len() < KEEP {
            pool.push(spare);
        } else {
            drop(pool);
            let _ = fs::remove_file(&spare.path);
        }
    }

    /// Keeps a spare that a failed save wrote into, emptied.
    fn put_back_written(&self, mut spare: Spare) {
        let mut file = &spare.file;
        if spare.file.set_len(0).is_ok() && file.rewind().is_ok() {
            spare.len = 0;
            self.put_back(spare);
        } else {
            let _ = fs::remove_file(&spare.path);
        }
    }

    /// Keeps the replaced file at `name` as an empty spare when nothing else can see it, else
    /// removes the name (what a rename over it would have done).
    fn keep_if_private(&self, name: PathBuf) {
        #[allow(clippy::single_match_else)]
        match open_private(&name) {
            Some(file) => match zeroed_if_private(&file) {
                Some(len) => self.put_back(Spare {
                    path: name,
                    file,
                    len,
                }),
                None => {
                    let _ = fs::remove_file(&name);
                }
            },
            _ => {
                let _ = fs::remove_file(&name);
            }
        }
    }

    fn owner_path(&self) -> PathBuf {
        self.dir
            .join(format!("{}-{:x}.owner", std::process::id(), self.owner))
    }

    /// Makes (again, if the folder was removed) and locks this `Spares`'s `.owner` file; `None`
    /// when it cannot, and then no spare is used: others could not tell ours are in use.
    fn claim_owner(&self) -> Option<()> {
        let path = self.owner_path();
        let mut held = lock(&self.owner_lock);
        if held.is_some() && path.exists() {
            return Some(());
        }
        let file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .ok()?;
        try_flock(&file).then_some(())?;
        *held = Some(file);
        Some(())
    }

    /// Takes over the spares, and the replaced files not yet emptied, of the [`Spares`] that are
    /// gone: whose `.owner` file is missing or no longer locked (its process ended, or it was
    /// dropped).
    fn adopt_leftovers(&self) {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut alive: std::collections::HashMap<String, bool> = Default::default();
        let mut gone_owners = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".owner") {
                continue;
            }
            let Some((owner, _n)) = name.rsplit_once('-') else {
                continue;
            };
            let is_alive = *alive.entry(owner.to_string()).or_insert_with(|| {
                let path = self.dir.join(format!("{owner}.owner"));
                match fs::File::open(&path) {
                    Ok(f) if !try_flock(&f) => true,
                    Ok(f) => {
                        gone_owners.push((path, f));
                        false
                    }
                    Err(_) => false,
                }
            });
            if !is_alive {
                self.keep_if_private(e.path());
            }
        }
        // Removed while still locked by this process, so that no new owner of that name (a
        // process id used again) is taken for gone between the check and the removal.
        for (path, _locked) in gone_owners {
            let _ = fs::remove_file(path);
        }
    }
}

/// An exclusive `flock`, without waiting.
fn try_flock(file: &File) -> bool {
    use rustix::fs::{flock, FlockOperation};
    flock(file, FlockOperation::NonBlockingLockExclusive).is_ok()
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

/// Opens a file without following a link or waiting on a FIFO; `None` unless it is a regular
/// file.
fn open_private(path: &Path) -> Option<File> {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    file.metadata().ok()?.is_file().then_some(file)
}

/// Zeroes a replaced file (up to [`ZERO_UP_TO`], else empties it) when nothing else can see
/// it: a regular file with one name, no extended attributes, and no open file description but
/// ours (a write lease is granted only then; it is held while the file is zeroed, so an open in
/// between waits and then finds zeros, under a name nobody else uses). Returns its length.
fn zeroed_if_private(file: &File) -> Option<u64> {
    use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
    let meta = file.metadata().ok()?;
    if meta.nlink() != 1 || rustix::fs::flistxattr_query(file) != Ok(0) {
        return None;
    }
    if !take_write_lease(file) {
        return None;
    }
    let len = if meta.len() <= ZERO_UP_TO {
        meta.len()
    } else {
        0
    };
    let zeroed = if len > 0 {
        file.write_all_at(&vec![0; len as usize], 0).is_ok()
    } else {
        file.set_len(0).is_ok()
    };
    let emptied = zeroed
        && (meta.mode() & 0o7777 == 0o600
            || file
                .set_permissions(fs::Permissions::from_mode(0o600))
                .is_ok());
    set_lease(file, libc::F_UNLCK);
    emptied.then_some(len)
}

/// Takes a write lease on `file` ([`set_lease`]), after making sure the lease cannot end the
/// process: when another process opens a leased file, the kernel tells the holder with `SIGIO`,
/// whose default action terminates. The lease is given up as soon as the file is zeroed whether
/// or not that signal came (the opener waits until then), so the signal carries nothing Kura
/// needs, and a process whose `SIGIO` is left at its default gets a handler that does nothing.
/// A handler, not `SIG_IGN`: an ignored signal stays ignored in the programs Kura starts (git,
/// an editor), a handler does not survive their `exec`. `SA_RESTART`, so that no system call of
/// another thread fails with `EINTR` because of it. A handler the program set itself is kept.
fn take_write_lease(file: &File) -> bool {
    static QUIET_SIGIO: std::sync::Once = std::sync::Once::new();
    QUIET_SIGIO.call_once(quiet_sigio);
    set_lease(file, libc::F_WRLCK)
}

#[allow(unsafe_code)]
fn quiet_sigio() {
    extern "C" fn nothing(_: libc::c_int) {}
    // SAFETY: sigaction reads and writes only the two structs given, which live on this stack
    // and are fully initialised (zeroed, then set); the handler touches nothing, so it is
    // async-signal-safe.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGIO, std::ptr::null(), &mut old) != 0
            || old.sa_sigaction != libc::SIG_DFL
        {
            return;
        }
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = nothing as extern "C" fn(libc::c_int) as libc::sighandler_t;
        new.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut new.sa_mask);
        libc::sigaction(libc::SIGIO, &new, std::ptr::null_mut());
    }
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
