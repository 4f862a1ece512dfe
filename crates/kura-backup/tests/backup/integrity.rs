//! Every object a backup stores is checked when it is read: a byte flipped or a word edited
//! anywhere in a pack, a pack index, a manifest or the config, or an object copied over another,
//! is reported by verify as damage of that object (by its path at the target, not a file inside
//! it), and restore refuses rather than write anything it was not given. For an unencrypted and
//! an encrypted folder target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use kura_backup::{Backups, SecretKind, Secrets, Target, VerifyMode};
use kura_core::{ErrorKind, Job};

use crate::{object_body, save, seal_plain_object, tree_digest, Scene};

/// A target with two backups (the second after a change in `api`), so that there are two
/// manifests and at least two packs with their indexes.
struct Repo {
    name: String,
    /// Encrypted: each command derives the key again (seconds in a test build), so the checks
    /// that only repeat what the unencrypted target's show are left out.
    encrypted: bool,
    dir: PathBuf,
    /// The backups, oldest first, with what a whole restore of each gives.
    restored: Vec<(String, BTreeMap<String, String>)>,
}

static RESTORES: AtomicUsize = AtomicUsize::new(0);

fn fresh_dest(scene: &Scene) -> PathBuf {
    scene.path(&format!(
        "restores/r{}",
        RESTORES.fetch_add(1, Ordering::Relaxed)
    ))
}

/// What a whole restore holds, leaving out the files the restore itself rewrites for the place
/// it restores to (the catalog points the projects at their new folders; the chunk index is
/// rebuilt).
fn restored_digest(dest: &Path) -> BTreeMap<String, String> {
    let mut digest = tree_digest(dest);
    digest.retain(|path, _| {
        !(path.starts_with("catalog.db")
            || path.starts_with("records.db")
            || path.starts_with("events.db")
            || path.starts_with("chunks/index.db"))
    });
    digest
}

fn repo(scene: &Scene, backups: &Backups, name: &str, encrypt: bool) -> Repo {
    let dir = scene.path(name);
    std::fs::create_dir(&dir).unwrap();
    if encrypt {
        std::env::set_var(
            kura_backup::secret_env_var(name, SecretKind::Passphrase),
            "correct horse battery staple",
        );
    }
    let target = Target {
        encrypt,
        ..Target::folder(name, &dir)
    };
    backups
        .add_target(&target, &Secrets::default(), false)
        .unwrap();
    backups.run_backup(name, &Job::default()).unwrap();
    save(
        &scene.vault,
        "api",
        "src/lib.rs",
        b"pub mod changed_after_the_first_backup;\n",
    );
    backups.run_backup(name, &Job::default()).unwrap();
    let mut restored = Vec::new();
    for info in backups.backups(name).unwrap() {
        let dest = fresh_dest(scene);
        backups
            .restore(name, &info.id, None, &dest, &Job::default())
            .unwrap();
        let digest = restored_digest(&dest);
        if !encrypt {
            // The digest leaves out only what depends on the destination.
            let again = fresh_dest(scene);
            backups
                .restore(name, &info.id, None, &again, &Job::default())
                .unwrap();
            assert_eq!(restored_digest(&again), digest);
        }
        assert!(
            digest.contains_key("projects/api/src/main.rs"),
            "{digest:?}"
        );
        restored.push((info.id, digest));
    }
    assert_eq!(restored.len(), 2);
    let repo = Repo {
        name: name.into(),
        encrypted: encrypt,
        dir,
        restored,
    };
    assert!(
        backups
            .verify(name, VerifyMode::Full, &Job::default())
            .unwrap()
            .is_ok(),
        "the repository is sound before it is damaged"
    );
    let kinds: Vec<String> = repo
        .objects()
        .iter()
        .map(|o| o.split('/').next().unwrap().to_string())
        .collect();
    for kind in ["config", "data", "index", "backups"] {
        assert!(kinds.iter().any(|k| k == kind), "{kinds:?}");
    }
    assert!(repo.objects_under("data/").len() >= 2);
    repo
}

impl Repo {
    /// Every object at the target (paths from its top), but for lock objects (only there while
    /// a command runs) and the temporary files of writes.
    fn objects(&self) -> Vec<String> {
        let mut objects: Vec<String> = walkdir::WalkDir::new(&self.dir)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                e.path()
                    .strip_prefix(&self.dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|p| !p.starts_with(".tmp/") && !p.starts_with("locks/"))
            .collect();
        objects.sort();
        objects
    }

    fn objects_under(&self, prefix: &str) -> Vec<String> {
        self.objects()
            .into_iter()
            .filter(|o| o.starts_with(prefix))
            .collect()
    }

    fn read(&self, object: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(object)).unwrap()
    }

    fn write(&self, object: &str, bytes: &[u8]) {
        std::fs::write(self.dir.join(object), bytes).unwrap();
    }

    /// Runs `check` with `object` changed to `damaged`, then puts the original back.
    fn with_damage(&self, object: &str, damaged: &[u8], check: impl FnOnce()) {
        let original = self.read(object);
        self.write(object, damaged);
        check();
        self.write(object, &original);
    }
}

/// Checks that damage of `object` (described by `what`) is found and named: by verify --full,
/// by a quick verify when it reads such objects (all but packs), and by restore, which refuses
/// and writes nothing, or (for a backup that does not need the object) restores exactly what
/// it restored before the damage. On an encrypted target, quick verify is left out and the
/// restores stop at the first refusal.
fn assert_damage_is_caught(
    scene: &Scene,
    backups: &Backups,
    repo: &Repo,
    object: &str,
    what: &str,
) {
    let name = repo.name.as_str();
    let mut modes = vec![VerifyMode::Full];
    if !object.starts_with("data/") && !repo.encrypted {
        modes.push(VerifyMode::Structure);
    }
    for mode in modes {
        match backups.verify(name, mode, &Job::default()) {
            Ok(report) => assert!(
                report.problems.iter().any(|p| p.object == object),
                "{name}: {what}: verify ({mode:?}) does not name {object}: {:?}",
                report.problems
            ),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Corrupt, "{name}: {what}: {e}");
                assert!(
                    e.message().contains(object),
                    "{name}: {what}: the error does not name {object}: {e}"
                );
            }
        }
    }
    let mut refused = 0;
    for (id, digest) in repo.restored.iter().rev() {
        let dest = fresh_dest(scene);
        match backups.restore(name, id, None, &dest, &Job::default()) {
            Ok(_) => assert_eq!(
                &restored_digest(&dest),
                digest,
                "{name}: {what}: the restore of backup {id} wrote other data than before"
            ),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Corrupt, "{name}: {what}: {e}");
                assert!(
                    e.message().contains(object),
                    "{name}: {what}: the restore's error does not name {object}: {e}"
                );
                assert!(!dest.exists(), "{name}: {what}: a refused restore wrote");
                refused += 1;
                if repo.encrypted {
                    break;
                }
            }
        }
    }
    assert!(
        refused > 0,
        "{name}: {what}: every restore went through as if nothing was wrong"
    );
}

/// Where to flip a byte of an object of `len` bytes: its start (magic bytes, format header),
/// in and after the checksum a header may hold, its middle and its end. On an encrypted target,
/// where each check derives the key again (slow on purpose, and slower in test builds), only
/// its start and its middle.
fn flip_positions(len: usize, encrypted: bool) -> Vec<usize> {
    let mut at = if encrypted {
        vec![0, len / 2]
    } else {
        vec![0, 5, 8, 20, 39, 40, 41, len / 3, len / 2, len - 2, len - 1]
    };
    at.retain(|p| *p < len);
    at.sort();
    at.dedup();
    at
}

/// A scene with `src/main.rs` in project `api`, and its backups.
fn scene() -> Scene {
    let scene = Scene::new();
    save(&scene.vault, "api", "src/main.rs", b"fn main() {}\n");
    scene
}

fn flips_are_caught(scene: &Scene, backups: &Backups, repo: &Repo, encrypted: bool) {
    for object in repo.objects() {
        let bytes = repo.read(&object);
        let mut positions = flip_positions(bytes.len(), encrypted);
        if encrypted && object.starts_with("data/") {
            // A pack is checked by its hash alone, without the key: one flip says it.
            positions = vec![bytes.len() / 2];
        }
        for at in positions {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x01;
            let what = format!("byte {at} of {} flipped", bytes.len());
            repo.with_damage(&object, &damaged, || {
                assert_damage_is_caught(scene, backups, repo, &object, &what)
            });
        }
    }
}

/// One object copied over another of the same kind: each is sound, but not the object it claims
/// to be (an older manifest passed off as the latest backup, a pack's index for another pack).
fn swaps_are_caught(scene: &Scene, backups: &Backups, repo: &Repo) {
    for kind in ["backups/", "index/"] {
        let objects = repo.objects_under(kind);
        let (older, newer) = (&objects[0], &objects[1]);
        for (from, over) in [(older, newer), (newer, older)] {
            let what = format!("{from} copied over it");
            repo.with_damage(over, &repo.read(from), || {
                assert_damage_is_caught(scene, backups, repo, over, &what)
            });
        }
    }
}

#[test]
fn a_flipped_byte_in_any_object_of_a_plain_backup_is_named_and_refused() {
    let scene = scene();
    let backups = Backups::new(&scene.vault);
    let repo = repo(&scene, &backups, "flip-plain", false);
    flips_are_caught(&scene, &backups, &repo, false);
    assert!(backups
        .verify("flip-plain", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
}

#[test]
fn an_object_of_a_plain_backup_copied_over_another_is_named_and_refused() {
    let scene = scene();
    let backups = Backups::new(&scene.vault);
    let repo = repo(&scene, &backups, "swap-plain", false);
    swaps_are_caught(&scene, &backups, &repo);
}

/// Flips, swaps and an edit of the config, on one encrypted target (each command derives the
/// key from the passphrase, which takes seconds in a test build).
#[test]
fn any_damage_to_an_encrypted_backup_is_named_and_refused() {
    let scene = scene();
    let backups = Backups::new(&scene.vault);
    let repo = repo(&scene, &backups, "sealed", true);
    flips_are_caught(&scene, &backups, &repo, true);
    swaps_are_caught(&scene, &backups, &repo);
    // Its manifests and indexes cannot be read, let alone edited, without the key; its config
    // is plain JSON.
    let config = repo.read("config");
    let edited = replace_once(&config, b"\"iterations\": 3", b"\"iterations\": 4");
    repo.with_damage("config", &edited, || {
        assert_damage_is_caught(&scene, &backups, &repo, "config", "iterations edited")
    });
    assert!(backups
        .verify("sealed", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
}

/// `bytes` with the first `from` replaced by `to`.
fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{:?} is not there", String::from_utf8_lossy(from)));
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

/// A manifest or index of an unencrypted target with one word of its JSON changed: decompressed,
/// edited, compressed again and put back behind the header it had (if it has one).
fn edited_json(stored: &[u8], edit: impl FnOnce(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let (header, body) = object_body(stored);
    let json = zstd::stream::decode_all(body).unwrap();
    let json = edit(&json);
    [header, &zstd::stream::encode_all(&json[..], 1).unwrap()].concat()
}

#[test]
fn a_one_word_edit_of_a_plain_manifest_index_or_config_is_named_and_refused() {
    let scene = scene();
    let backups = Backups::new(&scene.vault);
    let repo = repo(&scene, &backups, "edit-plain", false);

    // The case of the issue: src/main.rs renamed src/maim.rs in a manifest.
    for manifest in repo.objects_under("backups/") {
        let edited = edited_json(&repo.read(&manifest), |json| {
            replace_once(json, b"api/src/main.rs", b"api/src/maim.rs")
        });
        repo.with_damage(&manifest, &edited, || {
            assert_damage_is_caught(
                &scene,
                &backups,
                &repo,
                &manifest,
                "main.rs renamed maim.rs",
            );
            assert!(
                !walkdir::WalkDir::new(scene.path("restores"))
                    .into_iter()
                    .any(|e| e.unwrap().file_name() == "maim.rs"),
                "a restore wrote the edited name"
            );
        });
    }
    // An index saying a blob is one byte longer than it is (restore would put the rest of the
    // file one byte off).
    for index in repo.objects_under("index/") {
        let edited = edited_json(&repo.read(&index), |json| {
            let text = String::from_utf8(json.to_vec()).unwrap();
            let at = text.find("\"raw_length\":").unwrap() + "\"raw_length\":".len();
            let digits: String = text[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let word = format!("\"raw_length\":{digits}");
            let longer = format!("\"raw_length\":{}", digits.parse::<u64>().unwrap() + 1);
            replace_once(json, word.as_bytes(), longer.as_bytes())
        });
        repo.with_damage(&index, &edited, || {
            assert_damage_is_caught(&scene, &backups, &repo, &index, "a blob's length edited")
        });
    }
    // The config's chunker settings.
    let config = repo.read("config");
    let edited = replace_once(&config, b"\"chunk_min\": 262144", b"\"chunk_min\": 262145");
    repo.with_damage("config", &edited, || {
        assert_damage_is_caught(&scene, &backups, &repo, "config", "chunk_min edited")
    });
}

/// A crafted manifest with a checksum made for it is accepted (anyone who can write an
/// unencrypted target can do that): what the checksum guards against is damage and edits
/// by hand, and the crafted-manifest tests in `safety.rs` rely on this helper being right.
#[test]
fn a_manifest_sealed_again_with_its_checksum_is_read() {
    let scene = scene();
    let backups = Backups::new(&scene.vault);
    let repo = repo(&scene, &backups, "reseal", false);
    let manifest = repo.objects_under("backups/").pop().unwrap();
    let stored = repo.read(&manifest);
    let (_, body) = object_body(&stored);
    let json = zstd::stream::decode_all(body).unwrap();
    repo.write(&manifest, &seal_plain_object(&manifest, &json));
    assert!(backups
        .verify("reseal", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
}

/// Turns the repository into one as Kura wrote it before format 2: indexes and manifests without
/// their header, a config of format 1 without a checksum.
fn as_written_by_format_1(repo: &Repo) {
    for object in repo.objects() {
        if object.starts_with("index/") || object.starts_with("backups/") {
            let stored = repo.read(&object);
            let (header, body) = object_body(&stored);
            assert!(!header.is_empty(), "{object} has a header");
            repo.write(&object, body);
        }
    }
    let mut config: serde_json::Value = serde_json::from_slice(&repo.read("config")).unwrap();
    let fields = config.as_object_mut().unwrap();
    assert!(fields.remove("checksum").is_some());
    fields.insert("version".into(), 1.into());
    repo.write("config", &serde_json::to_vec_pretty(&config).unwrap());
}

#[test]
fn a_repository_of_format_1_is_read_as_it_is_then_upgraded_by_the_next_run() {
    let scene = scene();
    let backups = Backups::new(&scene.vault);
    let repo = repo(&scene, &backups, "old", false);
    as_written_by_format_1(&repo);
    // A manifest an older Kura left in the outbox goes out with a checksum.
    let waiting = repo.objects_under("backups/").pop().unwrap();
    let outbox = scene.vault.root().join("backup/old/outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    let id = waiting.trim_start_matches("backups/");
    std::fs::rename(repo.dir.join(&waiting), outbox.join(format!("{id}.backup"))).unwrap();

    // Read as it is: listed, verified, restored.
    assert!(backups
        .verify("old", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
    let (first, digest) = &repo.restored[0];
    let dest = fresh_dest(&scene);
    backups
        .restore("old", first, None, &dest, &Job::default())
        .unwrap();
    assert_eq!(&restored_digest(&dest), digest);

    // The next run upgrades it: every object gets its checksum, the config says format 2.
    backups.run_backup("old", &Job::default()).unwrap();
    let config: serde_json::Value = serde_json::from_slice(&repo.read("config")).unwrap();
    assert_eq!(config["version"], 2, "{config}");
    assert!(config["checksum"].is_string(), "{config}");
    let objects = repo.objects();
    assert!(objects.contains(&waiting), "the waiting backup was sent");
    for object in &objects {
        if object.starts_with("index/") || object.starts_with("backups/") {
            assert!(
                repo.read(object).starts_with(crate::OBJECT_MAGIC),
                "{object} has no checksum after the upgrade"
            );
        }
    }
    assert!(backups
        .verify("old", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
    for (id, digest) in &repo.restored {
        let dest = fresh_dest(&scene);
        backups
            .restore("old", id, None, &dest, &Job::default())
            .unwrap();
        assert_eq!(&restored_digest(&dest), digest, "backup {id}");
    }

    // From now on an object without a checksum is damage, not an older format.
    let manifest = repo.objects_under("backups/").remove(0);
    let stored = repo.read(&manifest);
    let (_, body) = object_body(&stored);
    let edited = replace_once(
        &zstd::stream::decode_all(body).unwrap(),
        b"api/src/main.rs",
        b"api/src/maim.rs",
    );
    let unchecked = zstd::stream::encode_all(&edited[..], 1).unwrap();
    repo.with_damage(&manifest, &unchecked, || {
        assert_damage_is_caught(&scene, &backups, &repo, &manifest, "checksum left out")
    });
}
