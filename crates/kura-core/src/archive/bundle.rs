//! The history as a git bundle v2: planned and written into an archive at the speed of a copy,
//! and read back into a new repository.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use git2::{ObjectType, Oid, Repository};

use super::tunables::{LOOSE_OBJECT_LEVEL, WRITE_BUFFER};
use super::BUNDLE_HEADER;
use crate::error::{Error, ErrorKind, Result};
use crate::history;

/// The history from `head` as a git bundle v2, ready to be written. Its pack joins the
/// history's packs as they are (no object is inflated or compressed again) plus its few loose
/// objects, so it is written at the speed of a copy (git's own packer would deflate every object
/// again and search for deltas), and its length is known before it is written.
pub(crate) struct Bundle {
    header: Vec<u8>,
    pack: kura_gitpack::JoinedPack,
    /// The repository's loose objects.
    loose: Vec<Oid>,
}

pub(super) fn bundle_failed(e: &dyn std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("cannot write the history bundle: {e}"),
    )
}

impl Bundle {
    /// Plans the bundle of `repo` at `head`; `loose` are the repository's loose objects
    /// ([`loose_objects`]). The objects of `leave_out` are left out of it, but for those a
    /// delta in it needs: [`Bundle::left_out`].
    pub(crate) fn plan(
        repo: &Repository,
        head: Oid,
        loose: &[kura_gitpack::EncodedObject],
        leave_out: &HashSet<Oid>,
    ) -> Result<Bundle> {
        let mut header = BUNDLE_HEADER.to_vec();
        header.extend_from_slice(format!("{head} HEAD\n{head} {}\n\n", history::BRANCH).as_bytes());
        let raw: HashSet<kura_gitpack::Oid> = leave_out
            .iter()
            .filter_map(|o| o.as_bytes().try_into().ok())
            .collect();
        let pack =
            kura_gitpack::JoinedPack::plan_without(&repo.path().join("objects/pack"), loose, &raw)
                .map_err(|e| bundle_failed(&e))?;
        Ok(Bundle {
            header,
            pack,
            loose: loose
                .iter()
                .map(|o| Oid::from_bytes(&o.oid))
                .collect::<std::result::Result<_, _>>()?,
        })
    }

    /// The bundle of `repo` at `head` without the blobs `files` (by path) carries.
    pub(crate) fn without_carried(
        repo: &Repository,
        head: Oid,
        files: &std::collections::HashMap<String, Oid>,
    ) -> Result<Bundle> {
        let loose = loose_objects(repo)?;
        let leave_out: HashSet<Oid> = files.values().copied().collect();
        Bundle::plan(repo, head, &loose, &leave_out)
    }

    /// Whether the packs it was planned from are still the history's (no repack and no new
    /// pack since).
    pub(crate) fn is_current(&self) -> Result<bool> {
        self.pack.is_current().map_err(|e| bundle_failed(&e))
    }

    /// The objects asked to be left out that the bundle does not hold.
    pub(crate) fn left_out(&self) -> HashSet<Oid> {
        self.pack
            .left_out()
            .iter()
            .filter_map(|o| Oid::from_bytes(o).ok())
            .collect()
    }

    /// Bytes its pack would take with nothing left out.
    pub(crate) fn whole_pack_len(&self) -> u64 {
        self.pack.whole_len()
    }

    /// Bytes the bundle takes.
    pub(crate) fn len(&self) -> u64 {
        self.header.len() as u64 + self.pack.len()
    }

    /// Writes the bundle to `out`. Returns the objects that may be chunk pointers: blobs that
    /// start like one, objects whose start the copy could not see (deltas), and the loose
    /// objects. Every other blob is certainly not a pointer.
    pub(crate) fn write(&self, out: &mut dyn Write) -> Result<HashSet<Oid>> {
        out.write_all(&self.header).map_err(|e| bundle_failed(&e))?;
        let copied = self
            .pack
            .write(crate::history::pointer::MAGIC, out)
            .map_err(|e| bundle_failed(&e))?;
        let mut candidates: HashSet<Oid> = HashSet::new();
        for id in copied.marked.iter().chain(&copied.deltas) {
            candidates.insert(Oid::from_bytes(id)?);
        }
        candidates.extend(self.loose.iter().copied());
        Ok(candidates)
    }
}

/// The repository's loose objects (left by git itself, or by older versions of Kura), encoded as
/// pack entries.
pub(super) fn loose_objects(repo: &Repository) -> Result<Vec<kura_gitpack::EncodedObject>> {
    let objects = repo.path().join("objects");
    let odb = repo.odb()?;
    let mut found = Vec::new();
    for dir in fs::read_dir(&objects).map_err(|e| Error::io("read", &objects, e))? {
        let dir = dir.map_err(|e| Error::io("read", &objects, e))?;
        let prefix = dir.file_name().to_string_lossy().into_owned();
        if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        for f in fs::read_dir(dir.path()).map_err(|e| Error::io("read", &dir.path(), e))? {
            let f = f.map_err(|e| Error::io("read", &dir.path(), e))?;
            let rest = f.file_name().to_string_lossy().into_owned();
            let Ok(oid) = Oid::from_str(&format!("{prefix}{rest}")) else {
                continue;
            };
            let obj = odb.read(oid)?;
            let kind = match obj.kind() {
                ObjectType::Commit => kura_gitpack::ObjectKind::Commit,
                ObjectType::Tree => kura_gitpack::ObjectKind::Tree,
                ObjectType::Blob => kura_gitpack::ObjectKind::Blob,
                ObjectType::Tag => kura_gitpack::ObjectKind::Tag,
                _ => continue,
            };
            found.push(kura_gitpack::EncodedObject::encode(
                kind,
                obj.data(),
                LOOSE_OBJECT_LEVEL,
            ));
        }
    }
    Ok(found)
}

/// Reads a git bundle v2 into the (new, empty) bare repository at `repo_path`: indexes its pack
/// and points `main` at the bundle's `refs/heads/main`. Returns that commit.
pub(crate) fn read_bundle(bundle: &Path, repo_path: &Path) -> Result<Oid> {
    let bad = |why: &str| {
        Error::corrupt(format!(
            "the history bundle {} is damaged ({why})",
            bundle.display()
        ))
    };
    let file = File::open(bundle).map_err(|e| Error::io("open", bundle, e))?;
    let mut reader = std::io::BufReader::with_capacity(WRITE_BUFFER, file);
    let mut line = Vec::new();
    let read_line = |r: &mut std::io::BufReader<File>, line: &mut Vec<u8>| -> Result<()> {
        line.clear();
        std::io::BufRead::read_until(r, b'\n', line).map_err(|e| Error::io("read", bundle, e))?;
        Ok(())
    };
    read_line(&mut reader, &mut line)?;
    if line != BUNDLE_HEADER {
        return Err(bad("it does not start with '# v2 git bundle'"));
    }
    let mut main = None;
    loop {
        read_line(&mut reader, &mut line)?;
        if line.is_empty() {
            return Err(bad("it ends before its pack"));
        }
        if line == b"\n" {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if text.starts_with('-') {
            return Err(bad("it needs prerequisite commits"));
        }
        if let Some((oid, name)) = text.split_once(' ') {
            if name == history::BRANCH || (main.is_none() && name == "HEAD") {
                main = Some(Oid::from_str(oid).map_err(|_| bad("a reference is not an id"))?);
            }
        }
    }
    let head = main.ok_or_else(|| bad("it has no refs/heads/main"))?;
    let repo = history::open(repo_path)?;
    let odb = repo.odb()?;
    let mut writer = odb.packwriter()?;
    std::io::copy(&mut reader, &mut writer).map_err(|e| bad(&e.to_string()))?;
    writer.commit().map_err(|e| bad(e.message()))?;
    repo.find_commit(head)
        .map_err(|_| bad("its main commit is not in its pack"))?;
    history::set_head(repo_path, head)?;
    Ok(head)
}

/// Versions in the history from `head`.
pub(super) fn count_versions(repo: &Repository, head: Oid) -> Result<u64> {
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    Ok(walk.count() as u64)
}
