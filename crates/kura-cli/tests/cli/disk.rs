//! Files on disk: writing fixtures, and capturing a folder tree (content hashes, executable bits,
//! symlink targets) to compare a restored or exported folder with the original, byte for byte.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Writes `data` to `path`, creating parent folders.
pub fn write(path: &Path, data: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, data).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Sets the mode bits of `path`.
pub fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Creates the symlink `path -> target`.
pub fn symlink(target: impl AsRef<Path>, path: &Path) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    std::os::unix::fs::symlink(target, path).unwrap();
}

/// True when the tests run as root (chmod does not stop root from reading; mounts are allowed).
pub fn running_as_root() -> bool {
    let probe = tempfile::NamedTempFile::new().unwrap();
    fs::metadata(probe.path()).unwrap().uid() == 0
}

/// One entry of a folder tree.
#[derive(Clone, PartialEq, Eq)]
pub enum Node {
    File {
        len: u64,
        hash: blake3::Hash,
        executable: bool,
    },
    Link(PathBuf),
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::File {
                len,
                hash,
                executable,
            } => write!(
                f,
                "file {len} bytes {}{}",
                &hash.to_hex()[..12],
                if *executable { " (executable)" } else { "" }
            ),
            Node::Link(t) => write!(f, "link -> {}", t.display()),
        }
    }
}

/// The files and links of a folder (folders themselves are not recorded), by relative path.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Tree(pub BTreeMap<String, Node>);

impl Tree {
    /// Reads every file and link under `root`, except inside `.git` folders.
    pub fn read(root: &Path) -> Tree {
        let mut tree = Tree::default();
        tree.walk(root, root);
        tree
    }

    fn walk(&mut self, root: &Path, dir: &Path) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let md = fs::symlink_metadata(&path).unwrap();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            if md.file_type().is_symlink() {
                self.0
                    .insert(rel, Node::Link(fs::read_link(&path).unwrap()));
            } else if md.is_dir() {
                if e.file_name() != ".git" {
                    self.walk(root, &path);
                }
            } else if md.is_file() {
                let data = fs::read(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                self.0.insert(
                    rel,
                    Node::File {
                        len: data.len() as u64,
                        hash: blake3::hash(&data),
                        executable: md.permissions().mode() & 0o111 != 0,
                    },
                );
            }
        }
    }

    /// The same tree without Kura's temp files (`.kura-tmp-*`, debris of a killed write, which
    /// versions and backups leave out).
    pub fn without_kura_temp(&self) -> Tree {
        Tree(
            self.0
                .iter()
                .filter(|(k, _)| {
                    !k.rsplit('/')
                        .next()
                        .is_some_and(|name| name.starts_with(".kura-tmp-"))
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    /// The same tree without the given paths (and everything under them).
    pub fn without(&self, paths: &[&str]) -> Tree {
        Tree(
            self.0
                .iter()
                .filter(|(k, _)| {
                    !paths
                        .iter()
                        .any(|p| k.as_str() == *p || k.starts_with(&format!("{p}/")))
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    pub fn paths(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    /// Panics with the differences when `actual` is not the same tree.
    pub fn assert_same(&self, actual: &Tree, what: &str) {
        if self == actual {
            return;
        }
        let mut diffs = Vec::new();
        for (k, v) in &self.0 {
            match actual.0.get(k) {
                None => diffs.push(format!("  missing  {k} ({v:?})")),
                Some(a) if a != v => diffs.push(format!("  differs  {k}: want {v:?}, got {a:?}")),
                Some(_) => {}
            }
        }
        for (k, v) in &actual.0 {
            if !self.0.contains_key(k) {
                diffs.push(format!("  extra    {k} ({v:?})"));
            }
        }
        let shown = diffs.len().min(40);
        panic!(
            "{what}: {} difference(s)\n{}",
            diffs.len(),
            diffs[..shown].join("\n")
        );
    }
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}
