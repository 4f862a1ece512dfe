//! The large files of earlier versions: found in the history (the tail of an archive streams
//! them out of the chunk store into `large-files/`), and put back into the chunk store when a
//! project comes back.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use git2::{ObjectType, Oid, Repository};

use crate::error::{Error, Result};
use crate::history;
use crate::history::pointer::Pointer;
use crate::job::Job;
use crate::vault::Vault;

/// Every distinct chunk pointer in the history from `head`, with the path it has in the
/// latest version (if it is there). Only the blobs `may_be_pointer` keeps are read: those the
/// bundle says may be pointers (see [`Bundle::write`](super::bundle::Bundle::write)), or all but
/// those an unarchive put back itself from `files/`.
pub(super) fn history_pointers(
    repo: &Repository,
    head: Oid,
    may_be_pointer: &dyn Fn(&Oid) -> bool,
) -> Result<Vec<(Pointer, Option<String>)>> {
    let latest: HashMap<Oid, String> = history::files_of(repo, head)?
        .into_iter()
        .map(|f| (f.oid, f.path))
        .collect();
    let mut seen_trees: HashSet<Oid> = HashSet::new();
    let mut seen_blobs: HashSet<Oid> = HashSet::new();
    let mut out = Vec::new();
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    for id in walk {
        let commit = repo.find_commit(id?)?;
        let mut stack = vec![commit.tree_id()];
        while let Some(tid) = stack.pop() {
            if !seen_trees.insert(tid) {
                continue;
            }
            let tree = repo.find_tree(tid)?;
            for e in tree.iter() {
                match e.kind() {
                    Some(ObjectType::Tree) => stack.push(e.id()),
                    Some(ObjectType::Blob) if e.filemode() != 0o120000 => {
                        if !seen_blobs.insert(e.id()) || !may_be_pointer(&e.id()) {
                            continue;
                        }
                        let blob = repo.find_blob(e.id())?;
                        if Pointer::is_pointer(blob.content()) {
                            out.push((
                                Pointer::decode(blob.content())?,
                                latest.get(&e.id()).cloned(),
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}

/// The pointers of `pointers` whose content is in no file of the latest version, each content
/// once: what goes into `large-files/`.
pub(super) fn of_earlier_versions(pointers: &[(Pointer, Option<String>)]) -> Vec<&Pointer> {
    let latest_hashes: HashSet<[u8; 32]> = pointers
        .iter()
        .filter(|(_, latest)| latest.is_some())
        .map(|(ptr, _)| ptr.hash)
        .collect();
    let mut old_large: Vec<&Pointer> = Vec::new();
    let mut old_seen: HashSet<[u8; 32]> = HashSet::new();
    for (ptr, latest) in pointers {
        if latest.is_none() && !latest_hashes.contains(&ptr.hash) && old_seen.insert(ptr.hash) {
            old_large.push(ptr);
        }
    }
    old_large
}

impl Vault {
    /// Puts back into the chunk store every chunk the history needs and the store lacks, from
    /// `files/` (latest version) or `large-files/` (earlier ones). The blobs of `not_pointers`
    /// are known not to be pointers, and are not read again.
    pub(super) fn restore_chunks(
        &self,
        repo_path: &Path,
        head: Oid,
        top: &Path,
        not_pointers: &HashSet<Oid>,
        job: &Job,
    ) -> Result<u64> {
        let repo = history::open(repo_path)?;
        let pointers = history_pointers(&repo, head, &|id| !not_pointers.contains(id))?;
        let mut missing: Vec<(Pointer, Option<String>)> = Vec::new();
        for (ptr, latest) in pointers {
            let mut whole = true;
            for c in &ptr.chunks {
                if !self.chunks().contains(&c.id)? {
                    whole = false;
                    break;
                }
            }
            if !whole {
                missing.push((ptr, latest));
            }
        }
        if missing.is_empty() {
            return Ok(0);
        }
        let _chunks_lock = self.lock_chunks(false)?;
        let mut writer = self.chunks().writer();
        for (ptr, latest) in &missing {
            job.check()?;
            let by_hash = top.join("large-files").join(hex::encode(ptr.hash));
            let source = if by_hash.is_file() {
                by_hash
            } else if let Some(rel) = latest {
                top.join("files").join(rel)
            } else {
                return Err(Error::corrupt(format!(
                    "the archive lacks the content of a large file of an earlier version (BLAKE3 {})",
                    hex::encode(ptr.hash)
                )));
            };
            let mut f = File::open(&source).map_err(|e| Error::io("read", &source, e))?;
            let stored = writer.store(&mut f as &mut dyn Read, &mut |_| {}, job.flag())?;
            if stored.hash != ptr.hash || stored.chunks != ptr.chunks {
                return Err(Error::corrupt(format!(
                    "{} does not match the version history (its content changed after the last version was taken)",
                    source.display()
                )));
            }
        }
        Ok(writer.finish()?.stored_bytes_written)
    }
}
