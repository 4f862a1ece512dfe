//! The vault: where all of Kura's data for one user lives, and the handle every operation goes
//! through.
//!
//! ```text
//! <vault>/config.toml          settings
//! <vault>/catalog.db           SQLite catalog (WAL)
//! <vault>/histories/<id>.git   one bare git repository per project
//! <vault>/chunks/              the chunk store (large and binary files), see kura-chunkstore
//! <vault>/projects/<name>/     working folders of managed projects
//! <vault>/templates/<name>/    project templates saved by the user
//! <vault>/locks/               advisory lock files
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use kura_chunkstore::{ChunkStore, ChunkStoreOptions};
use rusqlite::Connection;

use crate::catalog::{self, projects};
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::fs::durable::{self, FileLock};
use crate::history::Trigger;
use crate::job::Job;
use crate::project::listing::Listing;

/// Where time comes from; tests pass a fixed clock.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The real clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// An open vault. Cheap to share between threads (`Arc<Vault>`); several processes may open the
/// same vault at once.
///
/// What only reads it is on [`VaultReader`], which a vault dereferences to; what changes it is on
/// `Vault` itself. The doors (CLI, desktop, HTTP, MCP) hold the service (`kura_api::Api`), which
/// owns the vault and hands them a `&VaultReader` alone: every change they make goes through the
/// service, which announces it.
pub struct Vault {
    reader: VaultReader,
}

/// An open vault, read-only: everything of [`Vault`] that reads without changing the vault (its
/// caches aside).
pub struct VaultReader {
    root: PathBuf,
    config: RwLock<Arc<Config>>,
    db: Mutex<Connection>,
    chunks: ChunkStore,
    clock: Arc<dyn Clock>,
    listing: Mutex<Listing>,
    pub(crate) records: std::sync::OnceLock<kura_records::Records>,
    pub(crate) records_init: Mutex<()>,
    /// Spare files for saves that replace a file (`kura_durable::Spares`), in the projects
    /// folder.
    spares: kura_durable::Spares,
    /// The door this process serves, the trigger of versions that do not name theirs.
    door: RwLock<Trigger>,
}

impl std::ops::Deref for Vault {
    type Target = VaultReader;

    fn deref(&self) -> &VaultReader {
        &self.reader
    }
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("root", &self.root).finish()
    }
}

impl std::fmt::Debug for VaultReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultReader")
            .field("root", &self.root)
            .finish()
    }
}

/// Creates `dir` and its missing parents, each with mode 0700 and made durable.
fn create_private_dirs(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur.filter(|d| !d.as_os_str().is_empty()) {
        if std::fs::symlink_metadata(d).is_ok() {
            break;
        }
        missing.push(d);
        cur = d.parent();
    }
    for d in missing.into_iter().rev() {
        match std::fs::DirBuilder::new().mode(0o700).create(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("create folder", d, e)),
        }
        if let Some(parent) = d.parent().filter(|p| !p.as_os_str().is_empty()) {
            durable::sync_dir(parent)?;
        }
    }
    Ok(())
}

/// The name of the workspace created on first open.
pub const DEFAULT_WORKSPACE: &str = "default";

impl Vault {
    /// The vault location when none is given: `KURA_HOME`, else the platform data folder
    /// (`~/.local/share/kura` on Linux).
    pub fn default_location() -> Result<PathBuf> {
        if let Some(home) = std::env::var_os("KURA_HOME").filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(home));
        }
        directories::ProjectDirs::from("", "", "kura")
            .map(|d| d.data_dir().to_path_buf())
            .ok_or_else(|| {
                Error::invalid(
                    "cannot find a data folder for this user; set KURA_HOME or pass --vault",
                )
            })
    }

    /// Opens the vault at [`Vault::default_location`], creating it and any missing parent first,
    /// as the XDG base directory spec asks of an app: a fresh account has no `~/.local/share`.
    /// The folders it creates are the user's alone (mode 0700). (A vault a person names is
    /// opened with [`Vault::open`], which refuses a location whose parent is missing: that is a
    /// drive not connected.)
    pub fn open_default() -> Result<Vault> {
        let root = Vault::default_location()?;
        create_private_dirs(&root)?;
        Vault::open(&root)
    }

    /// Opens the vault at `root`, creating it on first use (its parent folder must exist: a vault
    /// on a drive that is not mounted is refused, not created half-way).
    pub fn open(root: &Path) -> Result<Vault> {
        Vault::open_with_clock(root, Arc::new(SystemClock))
    }

    /// Like [`Vault::open`], with the given clock.
    pub fn open_with_clock(root: &Path, clock: Arc<dyn Clock>) -> Result<Vault> {
        set_git_options();
        if !root.is_dir() {
            let parent = root.parent().filter(|p| !p.as_os_str().is_empty());
            match parent {
                Some(p) if !p.is_dir() => {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        format!(
                            "the vault folder {} cannot be reached: {} does not exist (is its drive connected?)",
                            root.display(),
                            p.display()
                        ),
                    ))
                }
                _ => durable::create_dir_all(root)?,
            }
        }
        let root = root
            .canonicalize()
            .map_err(|e| Error::io("open vault folder", root, e))?;
        for dir in ["histories", "projects", "templates", "locks"] {
            durable::create_dir_all(&root.join(dir))?;
        }
        let config = Config::load(&root.join("config.toml"))?;
        let conn = catalog::open(&root.join("catalog.db"))?;
        let chunks = ChunkStore::open(
            &root.join("chunks"),
            ChunkStoreOptions {
                zstd_level: config.storage.compression_level,
                cache_bytes: config.storage.cache_size.0 as usize,
                ..ChunkStoreOptions::default()
            },
        )?;
        if !root.join("chunks").join("index.db").exists() {
            // A new vault's chunk index is made with it, so that what the vault takes on disk
            // does not change when the index is first used; later it is opened when first used.
            chunks.usage()?;
        }
        let spares = kura_durable::Spares::new(
            config
                .paths
                .projects
                .clone()
                .unwrap_or_else(|| root.join("projects"))
                .join(kura_durable::SPARES_DIR),
        );
        let vault = Vault {
            reader: VaultReader {
                spares,
                root,
                config: RwLock::new(Arc::new(config)),
                db: Mutex::new(conn),
                chunks,
                clock,
                listing: Mutex::default(),
                records: std::sync::OnceLock::new(),
                records_init: Mutex::new(()),
                door: RwLock::new(Trigger::Manual),
            },
        };
        vault.ensure_default_workspace()?;
        Ok(vault)
    }
}

impl Drop for VaultReader {
    fn drop(&mut self) {
        catalog::optimize_on_close(self.db.get_mut().unwrap_or_else(|e| e.into_inner()));
    }
}

impl VaultReader {
    /// Says which door this process serves (desktop, cli, http, mcp): versions taken without a
    /// trigger of their own (imports, restores, unarchiving) name it.
    pub fn set_door(&self, door: Trigger) {
        *self.door.write().unwrap_or_else(|e| e.into_inner()) = door;
    }

    /// The door set by [`Vault::set_door`] ([`Trigger::Manual`] until one is set).
    pub fn door(&self) -> Trigger {
        *self.door.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The vault folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The settings in force (config.toml plus environment overrides).
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Path of `config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }
}

impl Vault {
    /// Changes one setting in `config.toml` (validated) and in this handle; returns the settings
    /// now in force. Other processes see it when they next open the vault. (The chunk store's
    /// compression level and cache size apply from the next open.)
    pub fn set_config(&self, key: &str, value: &str) -> Result<Arc<Config>> {
        let _guard = FileLock::acquire(&self.root.join("locks/config.lock"), true)?;
        let path = self.config_path();
        // Start from the file alone, so environment overrides are not written into it.
        let mut file_config = Config::load_file_only(&path)?;
        file_config.set(key, value)?;
        file_config.save(&path)?;
        let in_force = Arc::new(Config::load(&path)?);
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = in_force.clone();
        Ok(in_force)
    }
}

impl VaultReader {
    pub(crate) fn db(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The in-memory project list; lock it only while holding [`Vault::db`].
    pub(crate) fn listing(&self) -> MutexGuard<'_, Listing> {
        self.listing.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn spares(&self) -> &kura_durable::Spares {
        &self.spares
    }

    pub(crate) fn chunks(&self) -> &ChunkStore {
        &self.chunks
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    pub(crate) fn history_path(&self, project_id: &str) -> PathBuf {
        self.root
            .join("histories")
            .join(format!("{project_id}.git"))
    }

    pub(crate) fn projects_dir(&self) -> PathBuf {
        self.config()
            .paths
            .projects
            .clone()
            .unwrap_or_else(|| self.root.join("projects"))
    }

    pub(crate) fn templates_dir(&self) -> PathBuf {
        self.root.join("templates")
    }

    fn project_lock_path(&self, project_id: &str) -> PathBuf {
        self.root.join("locks").join(format!("{project_id}.lock"))
    }

    /// Lock held while writing a project's history (one writer per project across processes).
    pub(crate) fn lock_project(&self, project_id: &str) -> Result<FileLock> {
        // A lock released a moment ago can still look held: a child process forked by another
        // thread (git, tar) shares the lock until its exec closes it. A real writer holds it
        // far longer than these tries.
        acquire_or_busy(
            &self.project_lock_path(project_id),
            true,
            11,
            "another Kura process is writing this project right now; try again when it is done",
        )
    }

    /// [`Self::lock_project`] for work that is not to give up when another writer holds it (an
    /// archive, after its repack, meeting a snapshot): waits until that writer is done, or `job`
    /// is cancelled.
    pub(crate) fn lock_project_waiting(&self, project_id: &str, job: &Job) -> Result<FileLock> {
        let path = self.project_lock_path(project_id);
        loop {
            if let Some(lock) = FileLock::try_acquire(&path, true)? {
                return Ok(lock);
            }
            job.check()?;
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Held shared while a file of a project's folder is saved, renamed, deleted or copied in,
    /// and exclusive while an archive takes its last version and frees the folder: a change
    /// cannot land in a folder after the archive's version and be freed with it. A writer that
    /// finds an archive holding it is told to try again (it then finds the project archived).
    pub(crate) fn lock_folder(&self, project_id: &str, exclusive: bool) -> Result<FileLock> {
        let path = self
            .root
            .join("locks")
            .join(format!("{project_id}.folder.lock"));
        if exclusive {
            // Writers hold it for one file or one copy; the archive waits for them.
            return FileLock::acquire(&path, true);
        }
        acquire_or_busy(
            &path,
            false,
            25,
            "the project is being archived right now; try again when that is done",
        )
    }

    /// Shared while chunks are being written; exclusive while garbage is collected.
    pub(crate) fn lock_chunks(&self, exclusive: bool) -> Result<FileLock> {
        FileLock::acquire(&self.root.join("locks/chunks.lock"), exclusive)
    }

    /// Writes a consistent copy of the catalog to `dest` with SQLite's online backup API, while
    /// other connections keep reading and writing. `dest` is replaced if it exists.
    pub fn backup_catalog_to(&self, dest: &Path) -> Result<()> {
        let _ = std::fs::remove_file(dest);
        catalog::copy_to(&self.db(), dest).map_err(|e| match Error::from(e) {
            err if err.kind() == ErrorKind::Internal => Error::new(
                ErrorKind::Io,
                format!("cannot copy the catalog to {}: {err}", dest.display()),
            ),
            err => err,
        })
    }

    /// Keeps `kura gc` from deleting chunk packs, and repacks from removing history packs, while
    /// the guard lives (a backup reading the vault holds it, and a verify); snapshots are not
    /// blocked.
    pub fn hold_chunks(&self) -> Result<ChunkHold> {
        Ok(ChunkHold {
            _histories: FileLock::acquire(&self.histories_lock(), false)?,
            _lock: self.lock_chunks(false)?,
        })
    }

    /// Shared while a backup run reads the histories' files by name; a repack removes the
    /// packs it made redundant only while it can hold it exclusively.
    pub(crate) fn histories_lock(&self) -> PathBuf {
        self.root.join("locks/histories.lock")
    }
}

impl Vault {
    /// Points project `id` at a new working folder (after a restore placed it elsewhere).
    pub fn relocate_project(&self, id: &str, path: &Path) -> Result<()> {
        let text = path
            .to_str()
            .ok_or_else(|| Error::invalid(format!("{} is not valid UTF-8", path.display())))?;
        if !projects::set_path(&self.db(), id, text)? {
            return Err(Error::not_found(format!(
                "there is no project with id {id}"
            )));
        }
        Ok(())
    }
}

/// Bytes of pack files libgit2 keeps mapped at once, in windows of [`GIT_WINDOW`]: without a
/// limit (8 GiB by default) an export of a large history keeps every page of its packs it
/// touched resident, as much memory as the packs are big. Mapped pages count in the process's
/// memory: at 64 MiB in windows of 16 MiB an export of the Rust docs peaked at 106–113 MB, at 32
/// MiB in windows of 8 MiB at 57–63 MB, for about 3% more time (`benchmarks.md`, 2026-11-28).
const GIT_MAPPED_LIMIT: usize = 32 << 20;
/// See [`GIT_MAPPED_LIMIT`].
const GIT_WINDOW: usize = 8 << 20;

/// Sets libgit2's options for this process, once: its memory limits, and no hash check of every
/// object it reads. That check (SHA-1 with collision detection) was a sixth of a repack's time
/// and a share of every export; damage to a pack or loose object still fails its zlib stream's
/// checksum, and `kura verify` hashes every object it reads itself (see `verify::read_object`).
#[allow(unsafe_code)]
fn set_git_options() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        git2::opts::strict_hash_verification(false);
        // SAFETY: process-wide libgit2 options, set before this process opens a history.
        let set = unsafe {
            git2::opts::set_mwindow_size(GIT_WINDOW)
                .and_then(|()| git2::opts::set_mwindow_mapped_limit(GIT_MAPPED_LIMIT))
        };
        if let Err(e) = set {
            tracing::warn!("libgit2's memory limits cannot be set: {e}");
        }
    });
}

/// Takes the lock at `path` in `tries` tries 20 ms apart; `busy` with `why` when another holder
/// keeps it all that time.
fn acquire_or_busy(path: &Path, exclusive: bool, tries: u32, why: &str) -> Result<FileLock> {
    for attempt in 0..tries {
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if let Some(lock) = FileLock::try_acquire(path, exclusive)? {
            return Ok(lock);
        }
    }
    Err(Error::new(ErrorKind::Busy, why))
}

/// Has the C allocator give large blocks back to the system when they are freed: the programs
/// call it first thing. glibc serves a block of 128 KiB or more from its own mapping, but raises
/// that bar to the largest such block freed so far (up to 32 MiB), after which a snapshot's read
/// buffers and chunks come from per-thread heaps, where what is freed stays resident: a first
/// snapshot of a 90,000-file `node_modules` peaked at 194 MiB with 127 MB in use. A fixed bar
/// of 256 KiB took it to 116 MiB, and an export of it from 154 to 131 MiB, in the same
/// time (`bench/README.md`; one heap for all threads saved as much but made the parallel walk
/// of an unchanged re-snapshot 1.7× slower). A `MALLOC_MMAP_THRESHOLD_` set in the environment
/// is left to rule.
///
/// Smaller blocks come from the per-thread heaps, and a heap gives back the free memory at its
/// end once that is more than a bar, 128 KiB by default: a snapshot's readers free and take such
/// blocks by the thousand, and each time the bar was crossed the pages went back to the system
/// and came again as page faults. A bar of 2 MiB made a first snapshot of the Rust docs 4%
/// faster for 2 MB more at its peak (the benchmarks chapter, 2026-11-29). A
/// `MALLOC_TRIM_THRESHOLD_` set in the environment is left to rule. Elsewhere than glibc this
/// does nothing.
#[allow(unsafe_code)]
pub fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    for (variable, parameter, value) in [
        (
            "MALLOC_MMAP_THRESHOLD_",
            libc::M_MMAP_THRESHOLD,
            MMAP_THRESHOLD,
        ),
        (
            "MALLOC_TRIM_THRESHOLD_",
            libc::M_TRIM_THRESHOLD,
            TRIM_THRESHOLD,
        ),
    ] {
        if std::env::var_os(variable).is_none() {
            // SAFETY: mallopt only sets a parameter of glibc's allocator; it is thread-safe.
            unsafe {
                libc::mallopt(parameter, value);
            }
        }
    }
}

/// Blocks this large or larger are mapped on their own and unmapped when freed (see
/// [`give_back_freed_memory`]).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 256 << 10;

/// A heap gives back the free memory at its end once it is more than this (see
/// [`give_back_freed_memory`]).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 2 << 20;

/// A shared hold on the chunk store that keeps garbage collection out; see [`Vault::hold_chunks`].
#[derive(Debug)]
pub struct ChunkHold {
    _histories: FileLock,
    _lock: FileLock,
}
