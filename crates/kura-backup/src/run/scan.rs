//! The local half of a run, made while the target is being opened: the vault held against chunk
//! gc, the catalog and the records copied, everything to back up listed, and the last run's file
//! cache loaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use kura_core::{Error, ErrorKind, ProjectFilter, ProjectStatus, Result, Vault};

use super::walk::{is_git_temp, is_objects, walk};
use super::Item;
use crate::manifest::BackupProject;
use crate::state::{CachedFile, State};

/// The local half of a run, made while the target is being opened: the vault held against chunk
/// gc, the catalog copied, everything to back up listed, and the last run's file cache loaded.
pub(crate) struct Scan {
    pub(super) _hold: kura_core::ChunkHold,
    pub(super) started: i64,
    pub(super) catalog_copy: PathBuf,
    pub(super) items: Vec<Item>,
    pub(super) projects: Vec<BackupProject>,
    pub(super) old_cache: HashMap<String, CachedFile>,
}

/// Makes the [`Scan`] of a run of `target` that starts at `started`; gives up (`cancelled`) soon
/// after `stop` is set, as when the target turned out to be unavailable.
pub(crate) fn scan(vault: &Vault, target: &str, started: i64, stop: &AtomicBool) -> Result<Scan> {
    let hold = vault.hold_chunks()?;
    let catalog_copy = vault.root().join("backup").join(target).join("catalog.db");
    // The last run's file cache is loaded meanwhile.
    let (listed, old_cache) = std::thread::scope(|s| {
        let cache = s.spawn(|| State::open(vault.root())?.file_cache(target));
        let listed = vault
            .backup_catalog_to(&catalog_copy)
            .and_then(|()| vault.backup_records_to(&records_copy(&catalog_copy)))
            .and_then(|()| collect(vault, &catalog_copy, stop));
        (listed, cache.join())
    });
    let (items, projects) = listed?;
    let old_cache =
        old_cache.map_err(|_| Error::new(ErrorKind::Internal, "a backup thread panicked"))??;
    Ok(Scan {
        _hold: hold,
        started,
        catalog_copy,
        items,
        projects,
        old_cache,
    })
}

/// Where a run keeps its consistent copy of the records database, beside the catalog's.
pub(super) fn records_copy(catalog_copy: &Path) -> PathBuf {
    catalog_copy.with_file_name("records.db")
}

/// Everything to back up, in an order that keeps references consistent: the catalog copy, then
/// settings and other vault files, then history refs before history objects, then chunk packs
/// (held against gc), then working folders outside the vault.
fn collect(
    vault: &Vault,
    catalog_copy: &Path,
    stop: &AtomicBool,
) -> Result<(Vec<Item>, Vec<BackupProject>)> {
    let mut items = collect_vault(vault.root(), catalog_copy, stop)?;
    let projects = collect_projects(vault, &mut items, stop)?;
    Ok((items, projects))
}

/// The vault's own files: the catalog and records copies, settings and other vault files,
/// history refs before history objects, then chunk packs.
fn collect_vault(root: &Path, catalog_copy: &Path, stop: &AtomicBool) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let meta = std::fs::symlink_metadata(catalog_copy)
        .map_err(|e| Error::from_io("read", catalog_copy, e))?;
    items.push(Item::new(
        "vault/catalog.db".into(),
        catalog_copy.to_path_buf(),
        &meta,
    ));
    let records = records_copy(catalog_copy);
    let meta =
        std::fs::symlink_metadata(&records).map_err(|e| Error::from_io("read", &records, e))?;
    items.push(Item::new("vault/records.db".into(), records, &meta));
    let skip_top = [
        "backup",
        "locks",
        "discard",
        "catalog.db",
        "catalog.db-wal",
        "catalog.db-shm",
        "records.db",
        "records.db-wal",
        "records.db-shm",
        // The event log: what happened lately, for the doors' streams. A restored vault starts
        // a new one (numbered above this one's, see kura_api::Events).
        "events.db",
        "events.db-wal",
        "events.db-shm",
        "histories",
        "chunks",
    ];
    let top = |rel: &Path| {
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        !(rel.components().count() == 1 && first.as_deref().is_some_and(|f| skip_top.contains(&f)))
    };
    walk(root, "vault", &mut items, &top, stop)?;
    let histories = root.join("histories");
    walk(
        &histories,
        "vault/histories",
        &mut items,
        &|rel| !is_objects(rel) && !is_git_temp(rel),
        stop,
    )?;
    let mut objects = Vec::new();
    let not_temp = |rel: &Path| !is_git_temp(rel);
    walk(&histories, "vault/histories", &mut objects, &not_temp, stop)?;
    items.extend(objects.into_iter().filter(|i| {
        let rel = Path::new(i.name.trim_start_matches("vault/histories/"));
        rel.ancestors().any(is_objects)
    }));
    walk(
        &root.join("chunks"),
        "vault/chunks",
        &mut items,
        &|rel: &Path| !rel.to_string_lossy().starts_with("index.db"),
        stop,
    )?;
    Ok(items)
}

/// The working folders outside the vault, added to `items` (project by project, active ones
/// first), and every project as the manifest names it.
fn collect_projects(
    vault: &Vault,
    items: &mut Vec<Item>,
    stop: &AtomicBool,
) -> Result<Vec<BackupProject>> {
    let root = vault.root();
    let mut projects = Vec::new();
    for status in [
        ProjectStatus::Active,
        ProjectStatus::Archived,
        ProjectStatus::Deleted,
    ] {
        let filter = ProjectFilter {
            all_workspaces: true,
            status: Some(status),
            ..Default::default()
        };
        for p in vault.projects(&filter)? {
            let prefix = match p.path.strip_prefix(root) {
                Ok(rel) => format!("vault/{}", rel.to_string_lossy()),
                Err(_) => {
                    let prefix = format!("folders/{}", p.id);
                    if p.path.is_dir() {
                        walk(&p.path, &prefix, items, &|_| true, stop)?;
                    } else {
                        tracing::warn!(project = %p.name, path = %p.path.display(), "the folder of a linked project is missing; its history is still backed up");
                    }
                    prefix
                }
            };
            projects.push(BackupProject {
                id: p.id.clone(),
                name: p.name.clone(),
                workspace: p.workspace.clone(),
                linked: p.linked,
                status: p.status.as_str().to_string(),
                head: p.head.clone(),
                logical_size: p.logical_size,
                file_count: p.file_count,
                path: p.path.display().to_string(),
                prefix,
            });
        }
    }
    Ok(projects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_scan_gives_up_and_a_running_one_lists_the_vault() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("backup/usb")).unwrap();
        let scanned = scan(&vault, "usb", 0, &AtomicBool::new(false)).unwrap();
        assert!(scanned.items.iter().any(|i| i.name == "vault/catalog.db"));
        let err = scan(&vault, "usb", 0, &AtomicBool::new(true))
            .err()
            .expect("a stopped scan fails");
        assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    }
}
