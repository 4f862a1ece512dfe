//! The commit stage: write the commit object and make the version durable in the commit order
//! (chunk packs → chunk index → git pack + .idx → `refs/heads/main` → catalog rows), or, when the
//! tree is the head's, only keep the files cache fresh.

use git2::Oid;
use kura_gitpack::{object_id, EncodedObject, ObjectKind};

use super::carry::Changes;
use super::trees::Trees;
use super::tunables::RACY_WINDOW_NS;
use super::writers::{HistoryPack, Writers};
use super::{dir_size, Context, Entry, SnapshotOptions};
use crate::catalog::{filelist, projects, usage};
use crate::error::{Error, Result};
use crate::history::{self, ChangeCounts, Trigger, Version};
use crate::model::CachedFile;
use crate::project::detect::Detected;
use crate::vault::Vault;

/// The new version's files, and what changed since the previous one.
pub(super) struct Contents<'a> {
    /// Sorted by path.
    pub entries: &'a [Entry],
    pub changes: &'a Changes<'a>,
    /// Whether the files cache matched the history (else it is written anew and the catalog
    /// caught up).
    pub cache_valid: bool,
    pub file_count: u64,
    /// The files' bytes.
    pub total_size: u64,
}

/// What the commit says besides its tree: who and why.
pub(super) struct Message<'a> {
    pub opts: &'a SnapshotOptions,
    /// A git author line.
    pub author: &'a str,
    pub trigger: Trigger,
}

/// A version committed.
pub(super) struct Committed {
    pub version: Version,
    /// New bytes added to the chunk store.
    pub new_chunk_bytes: u64,
}

/// Nothing to commit; keep the cache fresh so the next scan is quick. Returns the new bytes of the
/// chunk store.
pub(super) fn refresh_cache(
    ctx: &Context<'_>,
    writers: Writers<'_>,
    contents: &Contents<'_>,
) -> Result<u64> {
    drop(writers.history.pack);
    let new_chunk_bytes = writers.chunks.finish()?.stored_bytes_written;
    let head_id = ctx.head.map(|h| h.to_string()).unwrap_or_default();
    let head_bytes = ctx.head.map(history::id_bytes).unwrap_or_default();
    ctx.vault.write_cache(
        &ctx.project.id,
        contents.entries,
        &contents.changes.removed,
        &head_bytes,
        !contents.cache_valid,
        ctx.scan_start,
    )?;
    if !contents.cache_valid {
        // The catalog was behind the history (a crash between the two): catch it up.
        projects::set_head(
            &ctx.vault.db(),
            &ctx.project.id,
            &head_id,
            contents.total_size,
            contents.file_count,
        )?;
        ctx.vault.record_history_bytes(&ctx.project.id)?;
    }
    Ok(new_chunk_bytes)
}

/// Adds the trees and the commit to the pack, then commits in the commit order.
pub(super) fn commit(
    ctx: &Context<'_>,
    mut writers: Writers<'_>,
    contents: &Contents<'_>,
    trees: &Trees,
    message: &Message<'_>,
    detected: &Detected,
) -> Result<Committed> {
    ctx.job.check()?;
    let level = ctx.config.storage.history_compression_level;
    trees.add_to(&mut writers.history, level)?;
    tracing::debug!(elapsed = ?ctx.started.elapsed(), "trees added");
    let now = ctx.vault.now();
    let commit_oid = add_commit_object(ctx, &mut writers.history, trees, contents, message, now)?;

    // The commit order. The history's pack is sealed (its checksum, fsynced under its temporary
    // name, where nothing sees it) while the chunk store commits, and installed after.
    let file_count = contents.file_count;
    ctx.job.files("committing", file_count, Some(file_count));
    // The files cache is encoded meanwhile too, and stored once the version is the head.
    let Writers { chunks, history } = writers;
    let pack = history.into_pack();
    let (entries, removed) = (contents.entries, &contents.changes.removed);
    let (rewrite_all, scan_start) = (!contents.cache_valid, ctx.scan_start);
    let (chunked, sealed, cache) = std::thread::scope(|s| {
        let sealing = std::thread::Builder::new()
            .name("kura-seal".into())
            .spawn_scoped(s, move || pack.seal());
        let preparing = std::thread::Builder::new()
            .name("kura-cache".into())
            .spawn_scoped(s, move || {
                prepare_cache(entries, removed, &commit_oid, rewrite_all, scan_start)
            });
        let chunked = chunks.finish();
        let sealed: Result<_> = match sealing {
            Ok(t) => match t.join() {
                Ok(sealed) => sealed.map_err(Error::from),
                Err(_) => Err(Error::internal("sealing the history's pack panicked")),
            },
            Err(e) => Err(Error::internal(format!("cannot start a thread: {e}"))),
        };
        let cache: Result<_> = match preparing {
            Ok(t) => t
                .join()
                .map_err(|_| Error::internal("encoding the files cache panicked")),
            Err(e) => Err(Error::internal(format!("cannot start a thread: {e}"))),
        };
        (chunked, sealed, cache)
    });
    let new_chunk_bytes = chunked?.stored_bytes_written;
    let sealed = sealed?;
    tracing::debug!(elapsed = ?ctx.started.elapsed(), "chunks committed");
    if let Some(sealed) = sealed {
        sealed.install()?;
    }
    tracing::debug!(elapsed = ?ctx.started.elapsed(), "history pack committed");
    let commit_id = Oid::from_bytes(&commit_oid)?;
    history::set_head(ctx.repo_path, commit_id)?;
    let version_id = commit_id.to_string();
    ctx.vault.store_cache(&ctx.project.id, cache?.as_ref())?;
    tracing::debug!(elapsed = ?ctx.started.elapsed(), "files cache written");
    let history_bytes = dir_size(ctx.repo_path);
    let version = projects::NewVersion {
        head: &version_id,
        logical_size: contents.total_size,
        file_count: contents.file_count,
        now,
        new_chunk_bytes,
        history_bytes,
    };
    update_catalog(ctx, &version, detected)?;
    ctx.vault.record_usage_sample()?;
    tracing::debug!(elapsed = ?ctx.started.elapsed(), "catalog updated");
    let version = history::version_of(&ctx.repo()?.find_commit(commit_id)?);
    Ok(Committed {
        version,
        new_chunk_bytes,
    })
}

/// Writes the commit object into the pack; returns its id.
fn add_commit_object(
    ctx: &Context<'_>,
    history: &mut HistoryPack<'_>,
    trees: &Trees,
    contents: &Contents<'_>,
    m: &Message<'_>,
    now: i64,
) -> Result<[u8; 20]> {
    let level = ctx.config.storage.history_compression_level;
    let (author, trigger) = (m.author, m.trigger);
    let changes = &contents.changes.counts;
    let message = m
        .opts
        .message
        .clone()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| default_message(trigger, changes));
    let mut commit = format!("tree {}\n", hex::encode(trees.root));
    if let Some(h) = ctx.head {
        commit.push_str(&format!("parent {h}\n"));
    }
    commit.push_str(&format!(
        "author {author} {now} +0000\ncommitter Kura <kura@localhost> {now} +0000\n\n{}\n\nKura-Trigger: {}\nKura-Changes: +{} ~{} -{}\nKura-Files: {} {}\n",
        message.trim_end(),
        trigger.as_str(),
        changes.added,
        changes.modified,
        changes.removed,
        contents.file_count,
        contents.total_size
    ));
    let commit_oid = object_id(ObjectKind::Commit, commit.as_bytes());
    history.pack.add(&EncodedObject::encode(
        ObjectKind::Commit,
        commit.as_bytes(),
        level,
    ))?;
    Ok(commit_oid)
}

/// Points the project's catalog row at the new version, and replaces its detected labels, in one
/// transaction.
fn update_catalog(
    ctx: &Context<'_>,
    version: &projects::NewVersion<'_>,
    detected: &Detected,
) -> Result<()> {
    let p = ctx.project;
    let mut db = ctx.vault.db();
    let tx = db.transaction()?;
    projects::record_version(&tx, &p.id, version)?;
    projects::set_detected(&tx, &p.id, &detected.languages, &detected.frameworks)?;
    tx.commit()?;
    Ok(())
}

impl Vault {
    /// Replaces the files cache with `entries` (files that changed in `version` get it as their
    /// last version), unless nothing changed: no entry is dirty, none was `removed`, and the
    /// cache is not to be rebuilt (`rewrite_all`).
    fn write_cache(
        &self,
        project_id: &str,
        entries: &[Entry],
        removed: &[&str],
        version: &[u8; 20],
        rewrite_all: bool,
        scan_start: i64,
    ) -> Result<()> {
        let list = prepare_cache(entries, removed, version, rewrite_all, scan_start);
        self.store_cache(project_id, list.as_ref())
    }

    /// Stores a files cache made by [`prepare_cache`] (nothing for `None`).
    fn store_cache(&self, project_id: &str, list: Option<&filelist::Prepared>) -> Result<()> {
        let Some(list) = list else {
            return Ok(());
        };
        let mut db = self.db();
        let tx = db.transaction()?;
        filelist::store_prepared(&tx, project_id, list)?;
        tx.commit()?;
        Ok(())
    }

    /// Records the vault's total logical and stored bytes now, for growth over time.
    fn record_usage_sample(&self) -> Result<()> {
        usage::record_sample(&self.db(), self.now())
    }
}

/// The files cache of `entries`, encoded for the catalog (see [`Vault::write_cache`]); `None`
/// when nothing in it changed.
fn prepare_cache(
    entries: &[Entry],
    removed: &[&str],
    version: &[u8; 20],
    rewrite_all: bool,
    scan_start: i64,
) -> Option<filelist::Prepared> {
    if !rewrite_all && removed.is_empty() && !entries.iter().any(|e| e.dirty) {
        return None;
    }
    let list: Vec<(&str, CachedFile)> = entries
        .iter()
        .map(|e| {
            let (mtime_ns, ctime_ns, inode) = match &e.stat {
                // A file written just before the scan is stored with an impossible mtime so
                // that the next snapshot reads it again (the "racily clean" problem).
                Some(s) if s.mtime_ns >= scan_start - RACY_WINDOW_NS => (-1, s.ctime_ns, s.inode),
                Some(s) => (s.mtime_ns, s.ctime_ns, s.inode),
                None => (-1, -1, 0),
            };
            let file = CachedFile {
                size: e.size,
                mtime_ns,
                ctime_ns,
                inode,
                mode: e.mode,
                layer: e.layer,
                oid: e.oid,
                last_version: e.last_version.unwrap_or(*version),
            };
            (e.path.as_str(), file)
        })
        .collect();
    Some(filelist::prepare(&list))
}

fn default_message(trigger: Trigger, c: &ChangeCounts) -> String {
    let what = match trigger {
        Trigger::Desktop
        | Trigger::Cli
        | Trigger::Http
        | Trigger::Mcp
        | Trigger::Manual
        | Trigger::Api => "Snapshot",
        Trigger::Automatic => "Automatic snapshot",
        Trigger::Schedule => "Scheduled snapshot",
        Trigger::BeforeRestore => "Before restore",
        Trigger::BeforeArchive => "Before archive",
    };
    format!(
        "{what}: {} added, {} modified, {} removed",
        c.added, c.modified, c.removed
    )
}
