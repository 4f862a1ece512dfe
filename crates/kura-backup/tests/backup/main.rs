//! Integration tests of backups through the public API, on real vaults (real git histories, real
//! SQLite, real chunk packs), a real folder target and a real S3 server (`rclone serve s3`).

mod folder;
mod integrity;
mod os_keyring;
mod s3;
mod safety;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};

use kura_core::{Clock, ImportOptions, Job, NewProject, SnapshotOptions, Vault};

/// A clock the test moves by hand.
pub struct TestClock(pub AtomicI64);

impl TestClock {
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A vault with several projects (text, a large binary file, several versions, a linked one).
pub struct Scene {
    pub dir: tempfile::TempDir,
    pub vault: Vault,
    pub linked: PathBuf,
}

impl Default for Scene {
    fn default() -> Self {
        Self::new()
    }
}

impl Scene {
    pub fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        vault
            .create_project(&NewProject {
                name: "site".into(),
                ..Default::default()
            })
            .unwrap();
        save(&vault, "site", "index.html", b"<h1>first</h1>\n");
        save(&vault, "site", "css/style.css", b"body { color: red }\n");
        snapshot(&vault, "site", "first");
        save(&vault, "site", "index.html", b"<h1>second</h1>\n");
        save(&vault, "site", "assets/video.bin", &noise(3 << 20, 7));
        snapshot(&vault, "site", "second");
        vault
            .create_project(&NewProject {
                name: "api".into(),
                ..Default::default()
            })
            .unwrap();
        for i in 0..50 {
            save(
                &vault,
                "api",
                &format!("src/mod{i}.rs"),
                format!("pub fn f{i}() -> u32 {{ {i} }}\n").as_bytes(),
            );
        }
        snapshot(&vault, "api", "many small files");
        let linked = dir.path().join("outside/tool");
        std::fs::create_dir_all(linked.join("bin")).unwrap();
        std::fs::write(linked.join("README.md"), b"a linked project\n").unwrap();
        std::fs::write(linked.join("bin/blob.dat"), noise(1 << 20, 9)).unwrap();
        std::os::unix::fs::symlink("README.md", linked.join("LINK.md")).unwrap();
        std::fs::write(linked.join("bin/run.sh"), b"#!/bin/sh\necho run\n").unwrap();
        std::fs::set_permissions(
            linked.join("bin/run.sh"),
            std::os::unix::fs::PermissionsExt::from_mode(0o750),
        )
        .unwrap();
        vault
            .import_folder(
                &linked,
                &ImportOptions {
                    link: true,
                    ..Default::default()
                },
                &Job::default(),
            )
            .unwrap();
        Scene { dir, vault, linked }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

pub fn save(vault: &Vault, project: &str, rel: &str, data: &[u8]) {
    vault.save_file(project, rel, &mut &data[..]).unwrap();
}

pub fn snapshot(vault: &Vault, project: &str, message: &str) {
    let opts = SnapshotOptions {
        message: Some(message.into()),
        ..Default::default()
    };
    vault.snapshot(project, &opts, &Job::default()).unwrap();
}

/// Deterministic incompressible bytes.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut counter = 0u64;
    while out.len() < len {
        let mut h = blake3::Hasher::new();
        h.update(&seed.to_le_bytes());
        h.update(&counter.to_le_bytes());
        out.extend_from_slice(h.finalize().as_bytes());
        counter += 1;
    }
    out.truncate(len);
    out
}

/// Every file under `root` (links as `-> target`), by relative path, with its content hash.
pub fn tree_digest(root: &Path) -> BTreeMap<String, String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let value = if e.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(e.path()).unwrap().display())
            } else {
                blake3::hash(&std::fs::read(e.path()).unwrap())
                    .to_hex()
                    .to_string()
            };
            (rel, value)
        })
        .collect()
}

/// `git log` of a bare history, as the git CLI prints it.
pub fn git_log(history: &Path) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(history)
        .args(["log", "--format=%H %an %at %s", "main"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The magic bytes that start a manifest or pack index written since repository format 2; the
/// 32-byte checksum of the object follows them, then its body (zstd JSON, sealed when encrypted).
pub const OBJECT_MAGIC: &[u8; 8] = b"KBOBJ002";

/// An object's header (empty when it has none, as an older Kura wrote) and its body.
pub fn object_body(stored: &[u8]) -> (&[u8], &[u8]) {
    if stored.starts_with(OBJECT_MAGIC) {
        stored.split_at(OBJECT_MAGIC.len() + 32)
    } else {
        (&[], stored)
    }
}

/// Object `path` of an unencrypted target holding `json`, with its checksum, as Kura writes it
/// (what anyone who can write to the target can make; the crafted-manifest tests do).
pub fn seal_plain_object(path: &str, json: &[u8]) -> Vec<u8> {
    let body = zstd::stream::encode_all(json, 1).unwrap();
    let mut h = blake3::Hasher::new_derive_key("kura-backup object checksum, format 2");
    h.update(&(path.len() as u64).to_le_bytes());
    h.update(path.as_bytes());
    h.update(&body);
    [&OBJECT_MAGIC[..], h.finalize().as_bytes(), &body].concat()
}
