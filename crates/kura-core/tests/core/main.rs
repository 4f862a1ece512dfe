//! Integration tests of the engine through its public API, on real folders, real git histories
//! and a real SQLite catalog.

mod archive;
mod catalog;
mod cleanup;
mod git;
mod imports;
mod quota;
mod snapshots;
mod vault;

use std::path::{Path, PathBuf};

use kura_core::{ImportOptions, Job, Project, ProjectEdit, SnapshotOptions, Vault};

/// A temporary vault plus a scratch folder for source trees.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub vault: Vault,
}

impl Default for Fixture {
    fn default() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        Fixture { dir, vault }
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::default()
    }

    /// A folder under the scratch area, created with the given files.
    pub fn tree(&self, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let root = self.dir.path().join(name);
        std::fs::create_dir_all(&root).unwrap();
        for (rel, data) in files {
            write(&root, rel, data);
        }
        root
    }

    /// Tracks `root` in place as a project.
    pub fn link(&self, root: &Path, name: &str) -> Project {
        self.vault
            .import_folder(
                root,
                &ImportOptions {
                    name: Some(name.into()),
                    link: true,
                    ..Default::default()
                },
                &Job::default(),
            )
            .unwrap()
            .project
    }

    pub fn snapshot(&self, project: &str, message: &str) -> kura_core::SnapshotReport {
        self.vault
            .snapshot(
                project,
                &SnapshotOptions {
                    message: Some(message.into()),
                    ..Default::default()
                },
                &Job::default(),
            )
            .unwrap()
    }
}

/// Sets a file's modification time an hour back, so that no snapshot counts it as "racily"
/// recent (written within the scan's clock resolution) and reads it again.
/// The edit that renames a project to `name`.
pub fn renamed(name: &str) -> ProjectEdit {
    ProjectEdit {
        name: Some(name.into()),
        ..Default::default()
    }
}

/// The edit that moves a project to `workspace`.
pub fn moved(workspace: &str) -> ProjectEdit {
    ProjectEdit {
        workspace: Some(workspace.into()),
        ..Default::default()
    }
}

pub fn backdate(path: &Path) {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

pub fn write(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

/// Deterministic pseudo-random bytes (xorshift), poorly compressible.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Every regular file under `root` with its bytes, sorted.
pub fn read_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir_files(root)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let data = std::fs::read(&p).unwrap();
            (rel, data)
        })
        .collect();
    out.sort();
    out
}

fn walkdir_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                if e.file_name() != ".git" {
                    stack.push(e.path());
                }
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }
    out
}
