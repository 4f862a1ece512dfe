//! The backup's manifest: every item's entry, sealed and uploaded once every pack it names is
//! uploaded and indexed (when the upload fails it waits in the outbox, sent at the next run once
//! its chunks are held); and what the run changes in the file cache.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use kura_core::{Error, ErrorKind, Result};

use super::read::{Backed, CacheUpdate};
use super::Context;
use crate::crypto;
use crate::manifest::{BackupInfo, BackupProject, Entry, EntryKind, Manifest};
use crate::outbox;
use crate::repo;
use crate::state::{CachedFile, Counters};

/// What the read stage made, sorted for the manifest and the file cache.
pub(super) struct Contents {
    /// The manifest's entries, in the order of the items.
    pub(super) entries: Vec<Entry>,
    /// The files read, with their new cache entries.
    pub(super) put: Vec<(String, CachedFile)>,
    /// The paths no longer cached.
    pub(super) gone: Vec<String>,
}

/// Sorts what the read stage made into the manifest's entries and the file cache's changes;
/// counts the files and their bytes.
pub(super) fn contents(
    results: impl ExactSizeIterator<Item = Backed>,
    old_cache: &HashMap<String, CachedFile>,
    counters: &mut Counters,
) -> Contents {
    let mut entries = Vec::with_capacity(results.len());
    let mut cached = Vec::with_capacity(results.len());
    let mut put = Vec::new();
    for (entry, update) in results.flatten() {
        if entry.kind != EntryKind::Dir {
            counters.files += 1;
            counters.bytes += entry.size;
        }
        match update {
            CacheUpdate::Keep => cached.push(true),
            CacheUpdate::Put(c) => {
                cached.push(true);
                put.push((entry.path.clone(), c));
            }
            CacheUpdate::None => cached.push(false),
        }
        entries.push(entry);
    }
    let gone = gone_from_cache(old_cache, &entries, &cached);
    Contents { entries, put, gone }
}

/// Seals the manifest of the backup started at `started` (after `latest`) and uploads it; when
/// the upload fails it goes to the outbox. Returns its summary.
pub(super) fn write(
    ctx: &Context,
    counters: &mut Counters,
    (started, latest): (i64, Option<&str>),
    projects: Vec<BackupProject>,
    entries: Vec<Entry>,
) -> Result<BackupInfo> {
    let (vault, session, now) = (ctx.vault, ctx.session, ctx.now);
    let id = backup_id(started, latest)?;
    let manifest = Manifest {
        info: BackupInfo {
            id: id.clone(),
            started,
            finished: now(),
            host: crate::lock::host_name(),
            vault: vault.root().display().to_string(),
            files: counters.files,
            bytes: counters.bytes,
            projects: projects.len() as u64,
        },
        projects,
        entries,
    };
    let sealed = Bytes::from(repo::seal_object(
        &session.keys,
        &repo::backup_path(&id),
        &manifest,
    )?);
    // Packs this run sent are safe from prune only while its lock holds.
    ctx.heartbeat.ensure_held()?;
    counters.bytes_sent += sealed.len() as u64;
    let upload = session
        .store
        .write_in_background(vec![(repo::backup_path(&id), sealed.clone())]);
    if let Err(e) = session.store.wait(upload) {
        outbox::put_backup(&ctx.outbox, &id, &sealed)?;
        return Err(e);
    }
    Ok(manifest.info)
}

/// `20261121T020000Z-0000-1a2b`: the start time, a sequence number that keeps backups started
/// in the same second (or after the clock went back) in order after `latest`, random digits.
fn backup_id(started: i64, latest: Option<&str>) -> Result<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(started)
        .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let mut stamp = t
        .format(fmt)
        .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
    let mut seq = 0u32;
    if let Some((last_stamp, rest)) = latest.and_then(|l| l.split_once('-')) {
        if last_stamp >= stamp.as_str() {
            stamp = last_stamp.to_string();
            seq = rest
                .split('-')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
                + 1;
        }
    }
    Ok(format!(
        "{stamp}-{seq:04}-{}",
        hex::encode(crypto::random::<2>()?)
    ))
}

/// The paths of `old` that are no longer cached: gone from the vault, or no longer cacheable.
/// `cached[i]` tells whether `entries[i]` keeps or gets a cache entry.
fn gone_from_cache(
    old: &HashMap<String, CachedFile>,
    entries: &[Entry],
    cached: &[bool],
) -> Vec<String> {
    let still: HashSet<&str> = entries
        .iter()
        .zip(cached)
        .filter(|(_, &c)| c)
        .map(|(e, _)| e.path.as_str())
        .collect();
    old.keys()
        .filter(|p| !still.contains(p.as_str()))
        .cloned()
        .collect()
}
