//! Staging folders: where an import or an unarchive builds a project before it is put in place,
//! and how cleanup tells the leftovers of a killed one from those of one still running.
//!
//! A staging folder is `.kura-tmp-<what>-<pid>-XXXX` beside the projects (or the histories). Its
//! content is built in `content/`; beside it, `.owner` is kept locked (`flock`) by the process
//! while it works, so the lock says whether that process is alive, and `.claims` lists, one
//! absolute path a line, the project folders and histories it created outside the staging folder
//! before their catalog row exists. The lock file appears already locked (it is locked under
//! another name, then renamed), so a staging folder with `.owner` unlocked is one whose process
//! is gone: cleanup removes it with every claimed path that no catalog row took. A process killed
//! while it made the folder, before `.owner` is there, is told by the process id in the name: no
//! such process, nothing claimed yet.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fs::durable::{self, FileLock};

const OWNER: &str = ".owner";
const CLAIMS: &str = ".claims";
const CONTENT: &str = "content";

/// A staging folder this process owns; removed on drop.
pub(crate) struct Staging {
    dir: tempfile::TempDir,
    _owner: FileLock,
}

impl Staging {
    /// A new staging folder `.kura-tmp-<what>-<pid>-XXXX` in `base` (created when missing),
    /// with an empty `content/`.
    pub(crate) fn new(base: &Path, what: &str) -> Result<Staging> {
        durable::create_dir_all(base)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!(
                "{}{what}-{}-",
                kura_durable::TEMP_PREFIX,
                std::process::id()
            ))
            .tempdir_in(base)
            .map_err(|e| Error::io("create a folder in", base, e))?;
        let taking = dir.path().join(".owner-taking");
        let owner = FileLock::try_acquire(&taking, true)?
            .ok_or_else(|| Error::internal("a new staging folder's lock is held elsewhere"))?;
        let at = dir.path().join(OWNER);
        fs::rename(&taking, &at).map_err(|e| Error::io("rename", &taking, e))?;
        let content = dir.path().join(CONTENT);
        fs::create_dir(&content).map_err(|e| Error::io("create folder", &content, e))?;
        Ok(Staging { dir, _owner: owner })
    }

    /// Where the content is built.
    pub(crate) fn content(&self) -> PathBuf {
        self.dir.path().join(CONTENT)
    }

    /// Records `path` (a project folder or a history this call created) as made by this staging
    /// until its catalog row exists: if the process dies before that, cleanup removes it.
    pub(crate) fn claim(&self, path: &Path) -> Result<()> {
        let file = self.dir.path().join(CLAIMS);
        let mut line = path.as_os_str().as_encoded_bytes().to_vec();
        if line.contains(&b'\n') {
            return Err(Error::invalid(format!(
                "{} holds a line break; Kura does not make folders of such names",
                path.display()
            )));
        }
        line.push(b'\n');
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .map_err(|e| Error::io("open", &file, e))?;
        f.write_all(&line)
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io("write", &file, e))?;
        // The list's own name, the first time, must outlive a crash as well.
        durable::sync_dir(self.dir.path())
    }
}

/// What a leftover staging folder is.
pub(crate) enum Leftover {
    /// Not a staging folder of this kind, or one still being made (no `.owner`): the caller
    /// decides, by age.
    Unknown,
    /// Its process is alive: left alone.
    Running,
    /// Its process is gone: the paths it claimed (none removed yet). The lock is held while
    /// they are removed (none when the process died before it made `.owner`).
    Abandoned {
        claims: Vec<PathBuf>,
        _lock: Option<FileLock>,
    },
}

/// Whether the staging folder at `dir` is still owned by a running process.
pub(crate) fn inspect(dir: &Path) -> Leftover {
    let owner = dir.join(OWNER);
    if !owner.is_file() {
        // Killed while making the folder (the name says by whom: a process that is gone), or
        // still being made, or not a staging folder: the caller goes by its age.
        return match maker(dir) {
            Some(pid) if !alive(pid) => Leftover::Abandoned {
                claims: Vec::new(),
                _lock: None,
            },
            _ => Leftover::Unknown,
        };
    }
    match FileLock::try_acquire(&owner, true) {
        Ok(Some(lock)) => Leftover::Abandoned {
            claims: claims(dir),
            _lock: Some(lock),
        },
        _ => Leftover::Running,
    }
}

/// The paths the staging folder at `dir` claimed.
fn claims(dir: &Path) -> Vec<PathBuf> {
    fs::read(dir.join(CLAIMS))
        .map(|data| {
            data.split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    use std::os::unix::ffi::OsStrExt;
                    PathBuf::from(std::ffi::OsStr::from_bytes(l))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every path claimed by a staging folder in `bases` whose process is still running: cleanup
/// leaves these alone even when an abandoned staging claims one of them too (two imports of one
/// name may both claim a folder name before one of them gets it).
pub(crate) fn running_claims(bases: &[PathBuf]) -> std::collections::HashSet<PathBuf> {
    let mut busy = std::collections::HashSet::new();
    for base in bases {
        for e in fs::read_dir(base).into_iter().flatten().flatten() {
            let name = e.file_name();
            if !name
                .to_string_lossy()
                .starts_with(kura_durable::TEMP_PREFIX)
            {
                continue;
            }
            if let Leftover::Running = inspect(&e.path()) {
                busy.extend(claims(&e.path()));
            }
        }
    }
    busy
}

/// The process that made the staging folder `dir`, from its name (`.kura-tmp-<what>-<pid>-XXXX`).
fn maker(dir: &Path) -> Option<u32> {
    let name = dir.file_name()?.to_str()?;
    let rest = name.strip_prefix(kura_durable::TEMP_PREFIX)?;
    let mut parts = rest.rsplitn(3, '-');
    let _random = parts.next()?;
    let pid = parts.next()?.parse().ok()?;
    parts.next().filter(|what| !what.is_empty())?;
    Some(pid)
}

/// Whether process `pid` runs (`/proc/<pid>`); where `/proc` is missing, every process counts as
/// running, so nothing is removed on a guess.
fn alive(pid: u32) -> bool {
    !Path::new("/proc/self").exists() || Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_whose_maker_died_before_its_lock_existed_is_abandoned() {
        let base = tempfile::tempdir().unwrap();
        // What a process killed between making the folder and its `.owner` leaves.
        let dead = u32::MAX - 7;
        let left = base.path().join(format!(".kura-tmp-history-{dead}-Ab12Cd"));
        fs::create_dir(&left).unwrap();
        fs::write(left.join(".owner-taking"), b"").unwrap();
        assert!(matches!(inspect(&left), Leftover::Abandoned { claims, .. } if claims.is_empty()));
        // The same, made by a process that runs (this one): the caller goes by its age.
        let making = base
            .path()
            .join(format!(".kura-tmp-import-{}-Xy34Zw", std::process::id()));
        fs::create_dir(&making).unwrap();
        assert!(matches!(inspect(&making), Leftover::Unknown));
        // A name without a process id: the caller goes by its age.
        let other = base.path().join(".kura-tmp-something");
        fs::create_dir(&other).unwrap();
        assert!(matches!(inspect(&other), Leftover::Unknown));
        // A whole staging folder of this process: running.
        let staging = Staging::new(base.path(), "unarchive").unwrap();
        assert_eq!(maker(staging.dir.path()), Some(std::process::id()));
        assert!(matches!(inspect(staging.dir.path()), Leftover::Running));
    }
}
