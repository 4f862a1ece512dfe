//! Restore from a backup: one project's folder, or the whole vault (catalog, settings,
//! histories, chunk packs, every working folder), to a new folder.
//!
//! Files are written into a staging folder beside the destination, each pack downloaded once and
//! its blobs written where they belong; then modes and times are set, files fsynced, and the
//! staging folder renamed into place. A manifest is not trusted: a path that is absolute or
//! climbs out (`..`) is refused before anything is written, and symbolic links are made last,
//! never inside another link, so nothing is ever written through one. A whole-vault restore then rebuilds the chunk index from the
//! packs and points every project at its restored folder (linked ones under `linked/<name>`).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use kura_core::{Error, ErrorKind, Job, Progress, Result, Vault};
use rayon::prelude::*;
use serde::Serialize;

use crate::fsio;
use crate::manifest::{BackupProject, Entry, EntryKind, Manifest};
use crate::repo;
use crate::session::{BlobPlace, Session};

/// What a restore did.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct BackupRestoreReport {
    /// The backup restored from.
    pub backup: String,
    /// Where it went.
    #[cfg_attr(feature = "utoipa", schema(value_type = String))]
    pub destination: PathBuf,
    /// Files written.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Projects restored (names).
    pub projects: Vec<String>,
}

/// Reads a backup's manifest; `reference` is an id or `latest`.
pub(crate) fn load_manifest(session: &Session, reference: &str) -> Result<Manifest> {
    let ids = session.backup_ids()?;
    let id = if reference == "latest" {
        ids.last().cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "target '{}' holds no backup yet; run `kura backup run {}` first",
                    session.target.name, session.target.name
                ),
            )
        })?
    } else {
        let matching: Vec<&String> = ids.iter().filter(|i| i.starts_with(reference)).collect();
        match matching.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "target '{}' has no backup '{reference}'; `kura backup list {}` shows them",
                        session.target.name, session.target.name
                    ),
                ))
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("'{reference}' names several backups; give more of the id"),
                ))
            }
        }
    };
    session
        .read_manifest(&id)
        .map_err(|e| at_target(session, e))
}

/// A `corrupt` error of an object, said to be at the session's target.
fn at_target(session: &Session, e: Error) -> Error {
    if e.kind() != ErrorKind::Corrupt {
        return e;
    }
    Error::new(
        ErrorKind::Corrupt,
        format!(
            "{} at target '{}'; `kura backup verify {} --full` lists everything the damage affects",
            e.message(),
            session.target.name,
            session.target.name
        ),
    )
}

/// Finds a project in a backup by name, `workspace/name` or id.
pub(crate) fn find_project<'m>(
    manifest: &'m Manifest,
    reference: &str,
) -> Result<&'m BackupProject> {
    let found: Vec<&BackupProject> = manifest
        .projects
        .iter()
        .filter(|p| {
            p.id == reference
                || p.name.eq_ignore_ascii_case(reference)
                || format!("{}/{}", p.workspace, p.name).eq_ignore_ascii_case(reference)
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::new(
            ErrorKind::NotFound,
            format!("backup {} holds no project '{reference}'", manifest.info.id),
        )),
        _ => Err(Error::new(
            ErrorKind::InvalidInput,
            format!("several projects in backup {} are called '{reference}'; use workspace/name or the id", manifest.info.id),
        )),
    }
}

pub(crate) fn restore(
    session: &Session,
    backup: &str,
    project: Option<&str>,
    dest: &Path,
    job: &Job,
) -> Result<BackupRestoreReport> {
    let manifest = load_manifest(session, backup)?;
    for e in &manifest.entries {
        check_relative(&manifest, &e.path, &e.path)?;
    }
    check_destination(dest)?;
    // Where each entry goes, relative to the destination.
    let mut plan: Vec<(PathBuf, &Entry)> = Vec::new();
    let mut projects = Vec::new();
    let linked_dirs = linked_folders(&manifest);
    match project {
        Some(reference) => {
            let p = find_project(&manifest, reference)?;
            projects.push(p.name.clone());
            for e in &manifest.entries {
                if let Some(rel) = under(&e.path, &p.prefix) {
                    plan.push((PathBuf::from(rel), e));
                }
            }
        }
        None => {
            projects.extend(manifest.projects.iter().map(|p| p.name.clone()));
            for e in &manifest.entries {
                if let Some(rel) = under(&e.path, "vault") {
                    if is_history_debris(rel) {
                        continue;
                    }
                    plan.push((PathBuf::from(rel), e));
                } else if let Some((prefix, folder)) = linked_dirs
                    .iter()
                    .find(|(prefix, _)| under(&e.path, prefix).is_some())
                {
                    let rel = under(&e.path, prefix).unwrap_or_default();
                    plan.push((Path::new(folder).join(rel), e));
                }
            }
        }
    }
    for (rel, e) in &plan {
        check_relative(&manifest, &e.path, rel)?;
        if project.is_none() && e.kind == EntryKind::Symlink && is_vault_own(rel) {
            return Err(Error::new(
                ErrorKind::PathEscape,
                format!("the link '{}' in backup {} takes the place of the vault's own files, which the restore opens and writes; nothing was restored (the backup was damaged or crafted)", e.path, manifest.info.id),
            ));
        }
    }
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::from_io("create folder", parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".kura-restore-")
        .tempdir_in(parent)
        .map_err(|e| Error::from_io("create a folder in", parent, e))?;
    // On any failure the staging folder is removed and the destination left as it was.
    let (files, bytes) = write_entries(session, &plan, staging.path(), job).map_err(|e| {
        if e.kind() == ErrorKind::Corrupt {
            Error::new(
                ErrorKind::Corrupt,
                format!(
                    "{}; nothing was restored to {}. `kura backup verify {} --full` lists everything the damage affects; an older backup may still hold these files",
                    e.message(),
                    dest.display(),
                    session.target.name
                ),
            )
        } else {
            e
        }
    })?;
    if project.is_none() {
        finish_vault(staging.path(), dest, &manifest, &linked_dirs)?;
    }
    if dest.exists() {
        std::fs::remove_dir(dest).map_err(|e| Error::from_io("replace", dest, e))?;
    }
    let staged = staging.keep();
    fsio::rename(&staged, dest)?;
    Ok(BackupRestoreReport {
        backup: manifest.info.id.clone(),
        destination: dest.to_path_buf(),
        files,
        bytes,
        projects,
    })
}

/// Refuses (`path_escape`) a path that is not plainly relative (absolute, or with a `..`, root or
/// prefix component): `what` names the manifest entry it comes from.
fn check_relative(manifest: &Manifest, what: &str, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::PathEscape,
        format!(
            "backup {} holds an entry '{what}' that would be restored outside the destination; nothing was restored (the backup was damaged or crafted)",
            manifest.info.id
        ),
    ))
}

/// Whether `rel` (relative to a restored vault) is the catalog, the settings, or inside the
/// histories or the chunk store: what opening the restored vault (and using it later) writes to,
/// so it must not be a link. Kura never makes links there.
fn is_vault_own(rel: &Path) -> bool {
    const FILES: [&str; 7] = [
        "catalog.db",
        "catalog.db-wal",
        "catalog.db-shm",
        "records.db",
        "records.db-wal",
        "records.db-shm",
        "config.toml",
    ];
    let mut parts = rel.components();
    match parts.next().and_then(|c| c.as_os_str().to_str()) {
        Some("chunks" | "histories") => true,
        Some(name) => FILES.contains(&name) && parts.next().is_none(),
        None => true,
    }
}

/// Whether `rel` (in the vault) is a temp file libgit2 left in a history: backups made before
/// they were left out may hold one (a link, when a process was killed while libgit2 probed a new
/// history), which a restore skips rather than refusing the whole backup for it.
fn is_history_debris(rel: &str) -> bool {
    let path = Path::new(rel);
    path.starts_with("histories")
        && path
            .components()
            .any(|c| kura_core::is_libgit2_temp(c.as_os_str()))
}

/// `path` relative to `prefix` when it is `prefix` itself ("") or under it.
fn under<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    if path == prefix {
        Some("")
    } else {
        path.strip_prefix(prefix).and_then(|r| r.strip_prefix('/'))
    }
}

/// Linked (and other outside) project folders of a whole-vault restore: prefix → `linked/<name>`.
fn linked_folders(manifest: &Manifest) -> Vec<(String, String)> {
    linked_folders_of(&manifest.projects)
}

fn linked_folders_of(projects: &[BackupProject]) -> Vec<(String, String)> {
    let mut used = std::collections::HashSet::new();
    projects
        .iter()
        .filter(|p| p.prefix.starts_with("folders/"))
        .map(|p| {
            let base = if p.linked { "linked" } else { "projects" };
            let mut folder = format!("{base}/{}", p.name);
            if !used.insert(folder.to_lowercase()) {
                folder = format!("{base}/{}-{}", p.name, &p.id[..8.min(p.id.len())]);
                used.insert(folder.to_lowercase());
            }
            (p.prefix.clone(), folder)
        })
        .collect()
}

/// Where a whole-vault restore puts project `p`'s folder, relative to the new vault: where it
/// was inside the old vault, or `linked/<name>` (`projects/<name>`) for one that lived outside.
fn folder_in_vault<'p>(
    p: &'p BackupProject,
    old_root: &Path,
    linked: &'p [(String, String)],
) -> Option<&'p Path> {
    match linked.iter().find(|(prefix, _)| *prefix == p.prefix) {
        Some((_, folder)) => Some(Path::new(folder)),
        None => Path::new(&p.path).strip_prefix(old_root).ok(),
    }
}

/// One project of a restore preview.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RestoreRow {
    pub id: String,
    pub name: String,
    pub workspace: String,
    pub status: String,
    /// The folder its files go to.
    pub to: String,
    pub files: u64,
    pub bytes: u64,
}

/// What a restore would write where, before it runs.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RestorePreview {
    /// A whole vault (every project), not one project's folder.
    pub whole: bool,
    /// Where it goes.
    pub destination: String,
    pub rows: Vec<RestoreRow>,
    pub files: u64,
    pub bytes: u64,
}

/// What restoring `project` (or everything) of a backup into `dest` writes where: one project's
/// working folder goes into `dest` itself; everything makes a vault at `dest`, each project's
/// folder where [`restore`] puts it.
pub(crate) fn preview(
    info: &crate::BackupInfo,
    projects: &[BackupProject],
    project: Option<&str>,
    dest: &Path,
) -> Result<RestorePreview> {
    let row = |p: &BackupProject, to: &Path| RestoreRow {
        id: p.id.clone(),
        name: p.name.clone(),
        workspace: p.workspace.clone(),
        status: p.status.clone(),
        to: to.display().to_string(),
        files: p.file_count,
        bytes: p.logical_size,
    };
    let destination = dest.display().to_string();
    if let Some(reference) = project {
        let manifest = Manifest {
            info: info.clone(),
            projects: projects.to_vec(),
            entries: Vec::new(),
        };
        let p = find_project(&manifest, reference)?;
        return Ok(RestorePreview {
            whole: false,
            destination,
            rows: vec![row(p, dest)],
            files: p.file_count,
            bytes: p.logical_size,
        });
    }
    let linked = linked_folders_of(projects);
    let old_root = Path::new(&info.vault);
    let rows = projects
        .iter()
        .filter_map(|p| Some(row(p, &dest.join(folder_in_vault(p, old_root, &linked)?))))
        .collect();
    Ok(RestorePreview {
        whole: true,
        destination,
        rows,
        files: info.files,
        bytes: info.bytes,
    })
}

fn check_destination(dest: &Path) -> Result<()> {
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!(
                        "{} is not empty; restore into a new or empty folder (nothing was changed)",
                        dest.display()
                    ),
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::from_io("read", dest, e)),
    }
}

/// Writes the planned entries under `root`: folders (and files made of several chunks, at their
/// full length) first, then file contents pack by pack (a file of one chunk is created, written
/// and given its mode and time in one go), then the other files' modes and times, then links,
/// then folder modes and times, and one `syncfs` makes it all durable before the caller renames
/// the folder into place. Links come after everything that is written by path, so no write goes
/// through one. Returns the number of files and their bytes.
fn write_entries(
    session: &Session,
    plan: &[(PathBuf, &Entry)],
    root: &Path,
    job: &Job,
) -> Result<(u64, u64)> {
    let blobs = session.blob_map()?;
    let chunks = create_folders_and_group_chunks(session, &blobs, plan, root)?;
    write_packs(session, plan, root, chunks.by_pack, job)?;
    set_file_modes_and_times(plan, root)?;
    make_links(plan, root)?;
    set_folder_modes_and_times(plan, root)?;
    sync_file_system(root)?;
    Ok((chunks.files, chunks.bytes))
}

/// One chunk of a restored file: the blob that holds it, the file's index in the restore plan,
/// and the offset in the file where the chunk's bytes go.
struct ChunkWrite<'b> {
    place: &'b BlobPlace,
    plan_index: usize,
    offset: u64,
}

/// The chunks a restore writes, grouped by the pack that holds them (each pack is then read
/// once), with the number of files planned and their bytes.
struct ChunksByPack<'b> {
    by_pack: HashMap<&'b str, Vec<ChunkWrite<'b>>>,
    files: u64,
    bytes: u64,
}

/// The first stage of writing a restore: creates every planned folder, and every file made of
/// several chunks at its full length (a file of one chunk is created later, by its pack's
/// reader), and finds the pack of every chunk in `blobs`. A chunk that no pack holds is refused
/// (`corrupt`) before any file content is written.
fn create_folders_and_group_chunks<'b>(
    session: &Session,
    blobs: &'b HashMap<[u8; 32], BlobPlace>,
    plan: &[(PathBuf, &Entry)],
    root: &Path,
) -> Result<ChunksByPack<'b>> {
    let mut by_pack: HashMap<&str, Vec<ChunkWrite>> = HashMap::new();
    let mut files = 0u64;
    let mut total = 0u64;
    for (i, (rel, e)) in plan.iter().enumerate() {
        let path = root.join(rel);
        match e.kind {
            EntryKind::Dir => std::fs::create_dir_all(&path)
                .map_err(|err| Error::from_io("create folder", &path, err))?,
            EntryKind::Symlink => {}
            EntryKind::File => {
                make_parent(&path)?;
                let ids = e.chunk_ids()?;
                if ids.len() != 1 {
                    let f =
                        File::create(&path).map_err(|err| Error::from_io("create", &path, err))?;
                    f.set_len(e.size)
                        .map_err(|err| Error::from_io("write", &path, err))?;
                }
                let mut offset = 0u64;
                for id in ids {
                    let place = blobs.get(&id).ok_or_else(|| {
                        Error::new(
                            ErrorKind::Corrupt,
                            format!("backup data for {} is missing at target '{}' (chunk {}); run `kura backup verify`", e.path, session.target.name, hex::encode(&id[..8])),
                        )
                    })?;
                    by_pack
                        .entry(place.pack.as_str())
                        .or_default()
                        .push(ChunkWrite {
                            place,
                            plan_index: i,
                            offset,
                        });
                    offset += place.entry.raw_length as u64;
                }
                files += 1;
                total += e.size;
            }
        }
    }
    Ok(ChunksByPack {
        by_pack,
        files,
        bytes: total,
    })
}

/// The second stage of writing a restore: reads the packs a few at a time
/// ([`crate::store::Store::reads_at_once`]), each pack once, and writes their chunks into
/// the files, reporting the bytes read as progress. Each reader holds one pack in memory.
fn write_packs(
    session: &Session,
    plan: &[(PathBuf, &Entry)],
    root: &Path,
    by_pack: HashMap<&str, Vec<ChunkWrite>>,
    job: &Job,
) -> Result<()> {
    let done = AtomicU64::new(0);
    let packs: Vec<_> = by_pack.into_iter().collect();
    // Reading packs waits on the target (a drive, the network) more than on the CPU.
    let readers = rayon::ThreadPoolBuilder::new()
        .num_threads(session.store.reads_at_once())
        .build()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot start readers: {e}")))?;
    readers.install(|| {
        packs
            .par_iter()
            .try_for_each(|(pack, wants)| write_pack(session, plan, root, pack, wants, &done, job))
    })
}

/// Reads one pack, checks it against its name (its hash), writes the chunks `wants` asks of it
/// and adds its size to the bytes `done`, which it reports as progress.
fn write_pack(
    session: &Session,
    plan: &[(PathBuf, &Entry)],
    root: &Path,
    pack: &str,
    wants: &[ChunkWrite],
    done: &AtomicU64,
    job: &Job,
) -> Result<()> {
    job.check()?;
    let object = repo::pack_path(pack);
    let data = session.store.read(&object)?;
    // Every byte of a pack counts, not only the blobs wanted from it: a pack is
    // named by its hash.
    if blake3::hash(&data).to_hex().as_str() != pack {
        return Err(damaged_pack(session, plan, &object, wants));
    }
    write_chunks(session, plan, root, pack, &object, &data, wants)?;
    let n = done.fetch_add(data.len() as u64, Ordering::Relaxed) + data.len() as u64;
    job.report(Progress {
        phase: "restoring",
        done: n,
        total: None,
        unit: "bytes",
        item: None,
    });
    Ok(())
}

/// The error for a pack whose content does not match its hash: it names the pack's object and
/// the files that need it (the first by name, and how many more).
fn damaged_pack(
    session: &Session,
    plan: &[(PathBuf, &Entry)],
    object: &str,
    wants: &[ChunkWrite],
) -> Error {
    let mut files: Vec<&str> = wants
        .iter()
        .map(|want| plan[want.plan_index].1.path.as_str())
        .collect();
    files.sort_unstable();
    files.dedup();
    Error::new(
        ErrorKind::Corrupt,
        format!(
            "{object} at target '{}' is damaged: its content does not match its hash, so {} cannot be restored",
            session.target.name,
            first_and_more(&files)
        ),
    )
}

/// The files a damage costs, for its message: the first, and how many more (`a.txt and 2 more
/// files`), or `a file` when none is known.
fn first_and_more(files: &[&str]) -> String {
    match files {
        [] => "a file".to_string(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} and {} more files", rest.len()),
    }
}

/// Writes the chunks `wants` asks of one pack, whose bytes `data` are already checked: in pack
/// order, every use of a blob comes together, so each blob is opened once and let go before the
/// next, and a reader holds one pack and one blob.
fn write_chunks(
    session: &Session,
    plan: &[(PathBuf, &Entry)],
    root: &Path,
    pack: &str,
    object: &str,
    data: &[u8],
    wants: &[ChunkWrite],
) -> Result<()> {
    let mut wants: Vec<&ChunkWrite> = wants.iter().collect();
    wants.sort_by_key(|want| want.place.entry.offset);
    let mut current: Option<([u8; 32], Vec<u8>)> = None;
    let damaged = |err: Error, id: &[u8; 32]| damaged_blob(session, plan, &wants, err, id);
    for want in wants.iter().copied() {
        let e = &want.place.entry;
        if current.as_ref().map(|(id, _)| id) != Some(&e.id) {
            drop(current.take());
            let start = e.offset as usize;
            let end = start + e.length as usize;
            let stored = data.get(start..end).ok_or_else(|| {
                damaged(
                    Error::new(
                        ErrorKind::Corrupt,
                        format!("{object} is shorter than its index says"),
                    ),
                    &e.id,
                )
            })?;
            let raw = repo::open_blob(&session.keys, e, stored, pack)
                .map_err(|err| damaged(err, &e.id))?;
            current = Some((e.id, raw));
        }
        let raw = &current.as_ref().expect("opened just above").1;
        write_chunk(root, &plan[want.plan_index], raw, want.offset)?;
    }
    Ok(())
}

/// The error for a blob that cannot be opened (`err` says why): it names the files that hold
/// data of the blob `id` (the first in pack order, and how many more). `wants` is in pack order.
fn damaged_blob(
    session: &Session,
    plan: &[(PathBuf, &Entry)],
    wants: &[&ChunkWrite],
    err: Error,
    id: &[u8; 32],
) -> Error {
    let mut files: Vec<&str> = wants
        .iter()
        .filter(|want| want.place.entry.id == *id)
        .map(|want| plan[want.plan_index].1.path.as_str())
        .collect();
    files.dedup();
    Error::new(
        ErrorKind::Corrupt,
        format!(
            "{} at target '{}', so {} cannot be restored",
            err.message(),
            session.target.name,
            first_and_more(&files)
        ),
    )
}

/// Writes one chunk's bytes `raw` into the file of the plan entry `(rel, entry)` under `root`. A
/// file of one chunk is created, written whole and given its mode and time here; a chunk of a
/// longer file is written at `offset` into the file created at its full length before.
fn write_chunk(
    root: &Path,
    (rel, entry): &(PathBuf, &Entry),
    raw: &[u8],
    offset: u64,
) -> Result<()> {
    let path = root.join(rel);
    if single_chunk(entry) {
        use std::io::Write as _;
        let mut f = File::create(&path).map_err(|err| Error::from_io("create", &path, err))?;
        f.write_all(raw)
            .map_err(|err| Error::from_io("write", &path, err))?;
        set_mode_and_time(&f, &path, entry)?;
    } else {
        let f = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|err| Error::from_io("open", &path, err))?;
        f.write_all_at(raw, offset)
            .map_err(|err| Error::from_io("write", &path, err))?;
    }
    Ok(())
}

/// Gives every file of several chunks its mode and time, once all its chunks are written (a
/// file of one chunk got them when it was written).
fn set_file_modes_and_times(plan: &[(PathBuf, &Entry)], root: &Path) -> Result<()> {
    plan.par_iter().try_for_each(|(rel, e)| -> Result<()> {
        let path = root.join(rel);
        if e.kind == EntryKind::File && !single_chunk(e) {
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|err| Error::from_io("open", &path, err))?;
            set_mode_and_time(&f, &path, e)?;
        }
        Ok(())
    })
}

/// Creates every planned link, in plan order, after everything that is written by path, so no
/// write goes through one.
fn make_links(plan: &[(PathBuf, &Entry)], root: &Path) -> Result<()> {
    for (rel, e) in plan.iter().filter(|(_, e)| e.kind == EntryKind::Symlink) {
        make_link(root, rel, e)?;
    }
    Ok(())
}

/// Gives every planned folder its mode and time: last, deepest first, so writing into them does
/// not change their times again. A time that cannot be set is let go.
fn set_folder_modes_and_times(plan: &[(PathBuf, &Entry)], root: &Path) -> Result<()> {
    let mut dirs: Vec<_> = plan
        .iter()
        .filter(|(_, e)| e.kind == EntryKind::Dir)
        .collect();
    dirs.sort_by_key(|(rel, _)| std::cmp::Reverse(rel.components().count()));
    for (rel, e) in dirs {
        let path = root.join(rel);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(e.mode & 0o7777))
            .map_err(|err| Error::from_io("set mode of", &path, err))?;
        if let Ok(f) = File::open(&path) {
            let _ = f.set_modified(mtime(e.mtime_ns));
        }
    }
    Ok(())
}

/// Makes everything written under `root` durable with one flush of the whole file system instead
/// of an fsync per file: the same guarantee before the rename, at a fraction of the cost for many
/// small files.
fn sync_file_system(root: &Path) -> Result<()> {
    let dir = File::open(root).map_err(|err| Error::from_io("open", root, err))?;
    rustix::fs::syncfs(&dir).map_err(|err| Error::from_io("sync", root, err.into()))
}

/// Whether a file is one chunk: then it is created and written whole by its pack's reader.
fn single_chunk(e: &Entry) -> bool {
    // The chunk list is hex: one 32-byte id is 64 characters.
    e.kind == EntryKind::File && e.chunks.len() == 64
}

fn set_mode_and_time(f: &File, path: &Path, e: &Entry) -> Result<()> {
    f.set_permissions(std::fs::Permissions::from_mode(e.mode & 0o7777))
        .map_err(|err| Error::from_io("set mode of", path, err))?;
    f.set_modified(mtime(e.mtime_ns))
        .map_err(|err| Error::from_io("set time of", path, err))
}

fn mtime(ns: i64) -> std::time::SystemTime {
    if ns >= 0 {
        UNIX_EPOCH + Duration::from_nanos(ns as u64)
    } else {
        UNIX_EPOCH - Duration::from_nanos(ns.unsigned_abs())
    }
}

/// Creates the link of entry `e` at `root/rel`, refusing (`path_escape`) when that path is taken
/// already (a file or folder of the same backup would be replaced) or when a folder on the way is
/// a link (the new link would land outside `root`).
fn make_link(root: &Path, rel: &Path, e: &Entry) -> Result<()> {
    let refuse = |why: &str| {
        Error::new(
            ErrorKind::PathEscape,
            format!(
                "the link '{}' in the backup {why}; nothing was restored (the backup was damaged or crafted)",
                e.path
            ),
        )
    };
    let mut on_the_way = root.to_path_buf();
    for part in rel.parent().into_iter().flat_map(Path::components) {
        on_the_way.push(part);
        match std::fs::symlink_metadata(&on_the_way) {
            Ok(m) if m.file_type().is_symlink() => return Err(refuse("lies inside another link")),
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => break,
            Err(err) => return Err(Error::from_io("read", &on_the_way, err)),
        }
    }
    let path = root.join(rel);
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(refuse(
            "has the path of a file or folder of the same backup",
        ));
    }
    make_parent(&path)?;
    let link = e.link.as_deref().unwrap_or_default();
    std::os::unix::fs::symlink(link, &path).map_err(|err| Error::from_io("create link", &path, err))
}

fn make_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(p) if !p.is_dir() => {
            std::fs::create_dir_all(p).map_err(|e| Error::from_io("create folder", p, e))
        }
        _ => Ok(()),
    }
}

/// Turns a restored vault tree into a working vault at `dest`: chunk index rebuilt from the
/// packs, projects pointed at their restored folders.
fn finish_vault(
    staging: &Path,
    dest: &Path,
    manifest: &Manifest,
    linked: &[(String, String)],
) -> Result<()> {
    let chunks = kura_chunkstore::ChunkStore::open(&staging.join("chunks"), Default::default())
        .map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot open the restored chunk store: {e}"),
            )
        })?;
    chunks.rebuild_index().map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("cannot rebuild the restored chunk index: {e}"),
        )
    })?;
    drop(chunks);
    // Managed project folders outside the vault come back inside it.
    let config_path = staging.join("config.toml");
    let mut config = kura_core::Config::load_file_only(&config_path)?;
    if config.paths.projects.take().is_some() {
        config.save(&config_path)?;
    }
    let vault = Vault::open(staging)?;
    // Every version of every history must come back as it went in: a history holding a path no
    // restore would write (a damaged or crafted backup) is refused, as an archive's would be.
    for p in &manifest.projects {
        vault.check_history_restorable(&p.id, &Job::default())?;
    }
    let old_root = Path::new(&manifest.info.vault);
    for p in &manifest.projects {
        let Some(rel) = folder_in_vault(p, old_root, linked) else {
            continue;
        };
        check_relative(manifest, &format!("project {}", p.name), rel)?;
        let new_path = dest.join(rel);
        vault.relocate_project(&p.id, &new_path)?;
    }
    Ok(())
}
