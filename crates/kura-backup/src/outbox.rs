//! The outbox, `<vault>/backup/<target>/outbox/`: packs and manifests a run could not send, kept
//! byte for byte as they would be uploaded, and sent first by the next run.
//!
//! `<pack id>.pack` and `<pack id>.index` become `data/<xx>/<pack id>` and `index/<pack id>`;
//! `<backup id>.backup` becomes `backups/<backup id>`. A pack is committed to the outbox by its
//! `.index` file (written after the `.pack`): a `.pack` without its `.index` was never committed
//! (or was sent already) and is removed. A waiting manifest is sent only when every chunk it names
//! is held at the target; one whose data was pruned meanwhile is dropped (the next backup stores
//! the files again). While anything waits, prune refuses: it cannot see what the waiting
//! manifest needs.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use kura_core::{Error, ErrorKind, Result};

use crate::fsio;
use crate::repo::{self, PackIndex};
use crate::session::Session;
use crate::state::Counters;
use crate::state::State;

/// The outbox of `target` in the vault at `vault_root`.
pub(crate) fn dir(vault_root: &Path, target: &str) -> PathBuf {
    vault_root.join("backup").join(target).join("outbox")
}

/// Keeps a pack that could not be sent: the `.pack` first, then the `.index` that commits it.
pub(crate) fn put_pack(outbox: &Path, pack: &str, bytes: &[u8], index: &[u8]) -> Result<()> {
    fsio::write_durably(&outbox.join(format!("{pack}.pack")), bytes)?;
    fsio::write_durably(&outbox.join(format!("{pack}.index")), index)
}

/// Keeps a manifest that could not be sent.
pub(crate) fn put_backup(outbox: &Path, id: &str, sealed: &[u8]) -> Result<()> {
    fsio::write_durably(&outbox.join(format!("{id}.backup")), sealed)
}

/// The outbox's file names, sorted (none when it does not exist).
fn names(outbox: &Path) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(outbox) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Refuses (`conflict`) while packs or a manifest of `target` wait in the outbox: prune would
/// not know which packs at the target that manifest needs, and could delete them.
pub(crate) fn ensure_empty(outbox: &Path, target: &str) -> Result<()> {
    let waiting = names(outbox)
        .into_iter()
        .filter(|n| n.ends_with(".pack") || n.ends_with(".backup"))
        .count();
    if waiting == 0 {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Conflict,
        format!("target '{target}' has a backup waiting in the outbox; run a backup first to send it, then prune (prune cannot see what it needs and could delete it; {waiting} files wait in {})", outbox.display()),
    ))
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::from_io("remove", path, e)),
    }
}

fn is_pack_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Sends the waiting packs, each with its index (pack first), adding their blobs to the blob
/// cache; removes debris (temporary files, a `.pack` without its `.index` or the reverse). Stops
/// at the first failed upload.
pub(crate) fn send_packs(
    session: &Session,
    state: &mut State,
    outbox: &Path,
    counters: &mut Counters,
) -> Result<u64> {
    let names = names(outbox);
    if names.is_empty() {
        return Ok(0);
    }
    let mut sent = 0;
    let mut removed = 0;
    for name in &names {
        let path = outbox.join(name);
        if name.starts_with(kura_durable::TEMP_PREFIX) {
            remove(&path)?;
            removed += 1;
            continue;
        }
        if let Some(id) = name.strip_suffix(".index") {
            if !names.contains(&format!("{id}.pack")) {
                tracing::warn!(file = %path.display(), "removing an index left in the outbox without its pack");
                remove(&path)?;
                removed += 1;
            }
            continue;
        }
        let Some(id) = name.strip_suffix(".pack") else {
            continue;
        };
        let files = PackFiles {
            index: outbox.join(format!("{id}.index")),
            pack: path,
        };
        match read_waiting_pack(session, id, &files)? {
            Some(pack) => {
                send_pack(session, state, id, &files, pack, counters)?;
                sent += 1;
            }
            None => removed += 1,
        }
    }
    if sent + removed > 0 {
        fsio::sync_dir(outbox)?;
    }
    if sent > 0 {
        tracing::info!(sent, "sent the packs that waited in the outbox");
    }
    Ok(sent)
}

/// The two files of a pack in the outbox.
struct PackFiles {
    /// `<pack id>.pack`.
    pack: PathBuf,
    /// `<pack id>.index`, which commits it.
    index: PathBuf,
}

/// A pack of the outbox, read and checked, as it is uploaded.
struct WaitingPack {
    /// The pack's bytes.
    bytes: Vec<u8>,
    /// Its index, sealed with a checksum.
    index: Vec<u8>,
    /// Its index, opened: the blobs it holds.
    parsed: PackIndex,
}

/// Reads the pack `id` of the outbox and its index, and checks them: the index must be there,
/// the name a pack id, and the index one this target can open of this very pack. When not, the
/// files are removed with a warning and nothing is returned; a file that cannot be read is the
/// error.
fn read_waiting_pack(
    session: &Session,
    id: &str,
    files: &PackFiles,
) -> Result<Option<WaitingPack>> {
    let Some(index) = read_index_file(id, files)? else {
        return Ok(None);
    };
    let bytes = std::fs::read(&files.pack).map_err(|e| Error::from_io("read", &files.pack, e))?;
    match open_waiting_pack(session, id, bytes, index) {
        Ok(pack) if pack.parsed.pack == id => Ok(Some(pack)),
        Ok(_) => {
            tracing::warn!(file = %files.pack.display(), "removing a pack from the outbox whose index is another pack's");
            remove(&files.index)?;
            remove(&files.pack)?;
            Ok(None)
        }
        Err(e) => {
            tracing::warn!(file = %files.pack.display(), "removing a pack from the outbox that this target cannot read: {e}");
            remove(&files.index)?;
            remove(&files.pack)?;
            Ok(None)
        }
    }
}

/// The bytes of the index of the outbox's pack `id`. A pack without its index, or whose name is
/// not a pack id, is removed (with its index) with a warning, and nothing is returned; an index
/// that cannot be read is the error.
fn read_index_file(id: &str, files: &PackFiles) -> Result<Option<Vec<u8>>> {
    match std::fs::read(&files.index) {
        Ok(index) if is_pack_id(id) => Ok(Some(index)),
        Ok(_) => {
            tracing::warn!(file = %files.pack.display(), "removing a file in the outbox that is not a pack of Kura's");
            remove(&files.index)?;
            remove(&files.pack)?;
            Ok(None)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(file = %files.pack.display(), "removing a pack left in the outbox without its index: a run stopped before it was kept, or after it was sent");
            remove(&files.pack)?;
            Ok(None)
        }
        Err(e) => Err(Error::from_io("read", &files.index, e)),
    }
}

/// Opens the `index` of pack `id` with the target's keys and returns the pack as it is
/// uploaded, its index sealed with a checksum. An index this target cannot open is the error.
fn open_waiting_pack(
    session: &Session,
    id: &str,
    bytes: Vec<u8>,
    index: Vec<u8>,
) -> Result<WaitingPack> {
    let object = repo::index_path(id);
    let parsed = repo::open_object::<PackIndex>(
        &session.keys,
        &object,
        &format!("the index of pack {id}"),
        &index,
        true,
    )?;
    // Kept by an older Kura, without a checksum: stored again with one.
    let index = match repo::has_checksum(&index) {
        true => index,
        false => repo::seal_object(&session.keys, &object, &parsed)?,
    };
    Ok(WaitingPack {
        bytes,
        index,
        parsed,
    })
}

/// Uploads the outbox's pack `id`, the pack first, and waits for it; then adds its blobs to the
/// blob cache of `state` and removes its files from the outbox, the index first.
fn send_pack(
    session: &Session,
    state: &mut State,
    id: &str,
    files: &PackFiles,
    pack: WaitingPack,
    counters: &mut Counters,
) -> Result<()> {
    counters.bytes_sent += (pack.bytes.len() + pack.index.len()) as u64;
    let up = session.store.write_in_background(vec![
        (repo::pack_path(id), pack.bytes.into()),
        (repo::index_path(id), pack.index.into()),
    ]);
    session.store.wait(up)?;
    state.add_pack(
        &session.target.name,
        id,
        pack.parsed.blobs.iter().map(|b| b.id),
    )?;
    remove(&files.index)?;
    remove(&files.pack)?;
    Ok(())
}

/// Sends the waiting manifests whose every chunk is in `held` (the blobs the target holds, known
/// after [`send_packs`]); drops the others with a warning, since uploading them would make
/// backups that cannot be restored. Stops at the first failed upload.
pub(crate) fn send_backups(
    session: &Session,
    outbox: &Path,
    held: &HashSet<[u8; 32]>,
    counters: &mut Counters,
) -> Result<u64> {
    let mut sent = 0;
    let mut dropped = 0;
    for name in names(outbox) {
        let Some(id) = name.strip_suffix(".backup") else {
            continue;
        };
        let path = outbox.join(&name);
        let bytes = std::fs::read(&path).map_err(|e| Error::from_io("read", &path, e))?;
        // One kept by an older Kura, without a checksum, is stored again with one.
        let missing = session.manifest_from(id, &bytes, true).and_then(|m| {
            let mut missing = 0usize;
            for e in &m.entries {
                missing += e.chunk_ids()?.iter().filter(|c| !held.contains(*c)).count();
            }
            let bytes = match repo::has_checksum(&bytes) {
                true => bytes,
                false => repo::seal_object(&session.keys, &repo::backup_path(id), &m)?,
            };
            Ok((missing, bytes))
        });
        match missing {
            Ok((0, bytes)) => {
                counters.bytes_sent += bytes.len() as u64;
                let up = session
                    .store
                    .write_in_background(vec![(repo::backup_path(id), bytes.into())]);
                session.store.wait(up)?;
                sent += 1;
            }
            Ok((missing, _)) => {
                tracing::warn!(backup = %id, missing, "dropping the backup waiting in the outbox: data it needs is no longer at the target (pruned meanwhile); this run backs the files up again");
                dropped += 1;
            }
            Err(e) => {
                tracing::warn!(backup = %id, "dropping the backup waiting in the outbox, which this target cannot read: {e}");
                dropped += 1;
            }
        }
        remove(&path)?;
    }
    if sent + dropped > 0 {
        fsio::sync_dir(outbox)?;
    }
    if sent > 0 {
        tracing::info!(sent, "sent the backups that waited in the outbox");
    }
    Ok(sent)
}
