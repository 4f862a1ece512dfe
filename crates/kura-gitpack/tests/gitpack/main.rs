//! Packs written by kura-gitpack, checked with the real `git` CLI.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kura_gitpack::{
    encode_tree, object_id, DeltaAdded, DeltaBase, EncodedDelta, EncodedObject, ObjectKind, Oid,
    PackWriter, TreeEntry,
};

/// Runs git hermetically (no user or system config), returning its output whatever the status.
fn git_output(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git must be installed to run these tests");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Runs git and insists it succeeds; returns stdout.
fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = git_output(dir, args, None);
    assert!(
        out.status.success(),
        "git {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn git_str(dir: &Path, args: &[&str]) -> String {
    String::from_utf8(git(dir, args))
        .unwrap()
        .trim_end()
        .to_string()
}

fn init_bare(root: &Path) -> PathBuf {
    let repo = root.join("vault.git");
    git(root, &["init", "--bare", "--quiet", "vault.git"]);
    repo
}

fn pack_dir(repo: &Path) -> PathBuf {
    repo.join("objects/pack")
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// `git fsck --full --strict` must succeed and report nothing.
fn assert_fsck_clean(repo: &Path) {
    let out = git_output(repo, &["fsck", "--full", "--strict", "--no-progress"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "fsck failed: {stdout}{stderr}");
    assert!(
        stderr.trim().is_empty() && stdout.trim().is_empty(),
        "fsck reported: {stdout}{stderr}"
    );
}

fn file(mode: u32, name: &str, oid: Oid) -> TreeEntry {
    TreeEntry {
        mode,
        name: name.as_bytes().to_vec(),
        oid,
    }
}

fn commit_bytes(tree: &Oid, parent: Option<&Oid>, time: u64, message: &str) -> Vec<u8> {
    let mut text = format!("tree {}\n", hex::encode(tree));
    if let Some(parent) = parent {
        text += &format!("parent {}\n", hex::encode(parent));
    }
    let who = "Kura Test <kura@example.com>";
    text += &format!("author {who} {time} +0100\ncommitter {who} {time} +0100\n\n{message}\n");
    text.into_bytes()
}

/// Pseudo-random, incompressible bytes.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

struct Snapshot {
    files: Vec<(&'static str, Vec<u8>)>,
    commit: Oid,
}

/// Writes a first snapshot: files at the root and in `src/`, `src.rs` next to `src/` (git's
/// ordering rule), an executable, a symlink and an empty file.
fn write_first_snapshot(repo: &Path) -> Snapshot {
    let big: Vec<u8> = (0..3_000_000u32)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .take(3 << 20)
        .collect();
    let files: Vec<(&'static str, Vec<u8>)> = vec![
        ("README.md", b"# Kura\n\nA vault.\n".to_vec()),
        ("empty", Vec::new()),
        ("src.rs", b"fn sibling() {}\n".to_vec()),
        ("src/main.rs", b"fn main() { println!(\"hi\"); }\n".to_vec()),
        ("src/data.bin", noise(100_000, 42)),
        ("src/big.txt", big),
        ("run.sh", b"#!/bin/sh\necho run\n".to_vec()),
    ];

    let mut pack = PackWriter::create(&pack_dir(repo)).unwrap();
    let mut blob = |name: &str| {
        let data = &files.iter().find(|(n, _)| *n == name).unwrap().1;
        pack.add_data(ObjectKind::Blob, data, 6).unwrap()
    };
    let mut src = vec![
        file(0o100644, "main.rs", blob("src/main.rs")),
        file(0o100644, "data.bin", blob("src/data.bin")),
        file(0o100644, "big.txt", blob("src/big.txt")),
    ];
    let mut root = vec![
        file(0o100644, "README.md", blob("README.md")),
        file(0o100644, "empty", blob("empty")),
        file(0o100644, "src.rs", blob("src.rs")),
        file(0o100755, "run.sh", blob("run.sh")),
    ];
    let link = pack.add_data(ObjectKind::Blob, b"README.md", 6).unwrap();
    let src_tree = pack
        .add_data(ObjectKind::Tree, &encode_tree(&mut src), 6)
        .unwrap();
    root.push(file(0o040000, "src", src_tree));
    root.push(file(0o120000, "link", link));
    let root_tree = pack
        .add_data(ObjectKind::Tree, &encode_tree(&mut root), 6)
        .unwrap();
    let commit = pack
        .add_data(
            ObjectKind::Commit,
            &commit_bytes(&root_tree, None, 1_700_000_000, "First snapshot"),
            6,
        )
        .unwrap();
    let info = pack.finish().unwrap().expect("objects were added");
    assert_eq!(info.objects, 11);
    assert_eq!(fs::metadata(&info.pack_path).unwrap().len(), info.bytes);
    assert!(info.pack_path.ends_with(format!("{}.pack", info.name)));
    assert!(info.index_path.ends_with(format!("{}.idx", info.name)));

    let hex = hex::encode(commit);
    git(repo, &["update-ref", "refs/heads/main", &hex]);
    git(repo, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    Snapshot { files, commit }
}

#[test]
fn git_reads_verifies_and_clones_a_written_pack() {
    let root = tempfile::tempdir().unwrap();
    let repo = init_bare(root.path());
    let snapshot = write_first_snapshot(&repo);

    // Only the .pack and .idx remain; no temp files.
    let names = dir_names(&pack_dir(&repo));
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("pack-")), "{names:?}");
    let idx = pack_dir(&repo).join(names.iter().find(|n| n.ends_with(".idx")).unwrap());
    let verify =
        String::from_utf8(git(&repo, &["verify-pack", "-v", idx.to_str().unwrap()])).unwrap();
    assert!(verify.contains("non delta: 11 objects"), "{verify}");
    assert_fsck_clean(&repo);

    for (path, content) in &snapshot.files {
        let spec = format!("main:{path}");
        assert_eq!(&git(&repo, &["cat-file", "-p", &spec]), content, "{path}");
    }
    assert_eq!(
        git_str(&repo, &["cat-file", "-t", &hex::encode(snapshot.commit)]),
        "commit"
    );
    assert_eq!(git_str(&repo, &["log", "--format=%s"]), "First snapshot");
    let listing = git_str(
        &repo,
        &["ls-tree", "--format=%(objectmode) %(path)", "main"],
    );
    assert_eq!(
        listing,
        "100644 README.md\n100644 empty\n120000 link\n100755 run.sh\n100644 src.rs\n040000 src"
    );

    let checkout = root.path().join("checkout");
    git(
        root.path(),
        &[
            "clone",
            "--quiet",
            repo.to_str().unwrap(),
            checkout.to_str().unwrap(),
        ],
    );
    for (path, content) in &snapshot.files {
        assert_eq!(&fs::read(checkout.join(path)).unwrap(), content, "{path}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(checkout.join("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o111, 0, "run.sh must be executable");
        assert_eq!(
            fs::read_link(checkout.join("link")).unwrap(),
            Path::new("README.md")
        );
    }
}

#[test]
fn a_second_pack_adds_a_child_commit() {
    let root = tempfile::tempdir().unwrap();
    let repo = init_bare(root.path());
    let first = write_first_snapshot(&repo);

    let mut pack = PackWriter::create(&pack_dir(&repo)).unwrap();
    let changed = pack
        .add_data(ObjectKind::Blob, b"# Kura\n\nChanged.\n", 1)
        .unwrap();
    let base_tree = git_str(&repo, &["rev-parse", "main^{tree}"]);
    let src_tree = git_str(&repo, &["rev-parse", "main:src"]);
    let mut entries = vec![
        file(0o100644, "README.md", changed),
        file(
            0o040000,
            "src",
            hex::decode(src_tree).unwrap().try_into().unwrap(),
        ),
    ];
    let tree = pack
        .add_data(ObjectKind::Tree, &encode_tree(&mut entries), 1)
        .unwrap();
    assert_ne!(hex::encode(tree), base_tree);
    let commit = commit_bytes(&tree, Some(&first.commit), 1_700_000_600, "Second snapshot");
    let commit = pack.add_data(ObjectKind::Commit, &commit, 1).unwrap();
    let info = pack.finish().unwrap().unwrap();
    assert_eq!(info.objects, 3);
    git(
        &repo,
        &[
            "update-ref",
            "refs/heads/main",
            &hex::encode(commit),
            &hex::encode(first.commit),
        ],
    );

    let log = git_str(&repo, &["log", "--oneline"]);
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(
        log.lines().next().unwrap().ends_with("Second snapshot"),
        "{log}"
    );
    assert_eq!(
        git(&repo, &["show", "main:README.md"]),
        b"# Kura\n\nChanged.\n"
    );
    assert_eq!(
        git(&repo, &["show", "main~1:README.md"]),
        b"# Kura\n\nA vault.\n"
    );
    assert_eq!(dir_names(&pack_dir(&repo)).len(), 4);
    assert_fsck_clean(&repo);
}

#[test]
fn object_id_matches_git_hash_object() {
    let root = tempfile::tempdir().unwrap();
    let inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"hello\n".to_vec(),
        b"no newline".to_vec(),
        noise(70_000, 7),
        vec![0u8; 1 << 20],
    ];
    for data in &inputs {
        let out = git_output(root.path(), &["hash-object", "--stdin"], Some(data));
        assert!(out.status.success());
        let expected = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            hex::encode(object_id(ObjectKind::Blob, data)),
            expected.trim(),
            "len {}",
            data.len()
        );
    }
    let commit = commit_bytes(&[0xab; 20], None, 1, "x");
    let out = git_output(
        root.path(),
        &["hash-object", "-t", "commit", "--literally", "--stdin"],
        Some(&commit),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        hex::encode(object_id(ObjectKind::Commit, &commit)),
        String::from_utf8(out.stdout).unwrap().trim()
    );
}

#[test]
fn duplicates_are_stored_once() {
    let root = tempfile::tempdir().unwrap();
    let repo = init_bare(root.path());
    let mut pack = PackWriter::create(&pack_dir(&repo)).unwrap();
    let obj = EncodedObject::encode(ObjectKind::Blob, b"same content", 6);
    assert!(!pack.contains(&obj.oid));
    assert!(pack.add(&obj).unwrap());
    assert!(pack.contains(&obj.oid));
    assert!(!pack.add(&obj).unwrap());
    // Same content at another level: same id, still a duplicate.
    assert_eq!(
        pack.add_data(ObjectKind::Blob, b"same content", 0).unwrap(),
        obj.oid
    );
    assert_eq!(pack.object_count(), 1);
    let info = pack.finish().unwrap().unwrap();
    assert_eq!(info.objects, 1);

    let verify = String::from_utf8(git(
        &repo,
        &["verify-pack", "-v", info.index_path.to_str().unwrap()],
    ))
    .unwrap();
    assert_eq!(verify.matches(&hex::encode(obj.oid)).count(), 1, "{verify}");
    assert!(verify.contains("non delta: 1 object"), "{verify}");
}

/// A pack of several times the writeback step (whose writeback starts while it is written, and
/// whose large entries bypass the write buffer) reads back whole in git.
#[test]
fn a_pack_far_larger_than_the_writeback_step_reads_back_whole() {
    let root = tempfile::tempdir().unwrap();
    let repo = init_bare(root.path());
    let mut pack = PackWriter::create(&pack_dir(&repo)).unwrap();
    let step = kura_durable::WRITEBACK_STEP as usize;
    let blobs: Vec<Vec<u8>> = (0..7)
        .map(|i| noise(step / 2 + i * 4099, i as u64 + 1))
        .chain((0..3000).map(|i| noise(1000 + i % 700, 100 + i as u64)))
        .collect();
    let mut ids = Vec::new();
    for data in &blobs {
        ids.push(pack.add_data(ObjectKind::Blob, data, 1).unwrap());
    }
    let info = pack.finish().unwrap().unwrap();
    assert!(
        info.bytes > 3 * kura_durable::WRITEBACK_STEP,
        "{}",
        info.bytes
    );
    git(&repo, &["verify-pack", info.index_path.to_str().unwrap()]);
    // Every large blob, and some of the small ones after them.
    let checked = ids.iter().zip(&blobs).enumerate();
    for (_, (id, data)) in checked.filter(|(i, _)| *i < 7 || i % 97 == 0) {
        let read = git(&repo, &["cat-file", "blob", &hex::encode(id)]);
        assert!(read == *data, "blob {} differs", hex::encode(id));
    }
}

#[test]
fn writing_the_same_pack_twice_reuses_the_installed_files() {
    let root = tempfile::tempdir().unwrap();
    let repo = init_bare(root.path());
    let write = || {
        let mut pack = PackWriter::create(&pack_dir(&repo)).unwrap();
        pack.add_data(ObjectKind::Blob, b"one", 6).unwrap();
        pack.add_data(ObjectKind::Blob, b"two", 6).unwrap();
        pack.finish().unwrap().unwrap()
    };
    let first = write();
    let second = write();
    assert_eq!(first, second);
    assert_eq!(
        dir_names(&pack_dir(&repo)),
        [
            format!("{}.idx", first.name),
            format!("{}.pack", first.name)
        ]
    );
    git(&repo, &["verify-pack", first.index_path.to_str().unwrap()]);
}

#[test]
fn finishing_an_empty_pack_leaves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let repo = init_bare(root.path());
    let pack = PackWriter::create(&pack_dir(&repo)).unwrap();
    assert_eq!(
        dir_names(&pack_dir(&repo)).len(),
        1,
        "the temp file exists while writing"
    );
    assert_eq!(pack.finish().unwrap(), None);
    assert!(dir_names(&pack_dir(&repo)).is_empty());
}

#[test]
fn dropping_an_unfinished_pack_leaves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let repo = init_bare(root.path());
    let mut pack = PackWriter::create(&pack_dir(&repo)).unwrap();
    pack.add_data(ObjectKind::Blob, &noise(5 << 20, 3), 1)
        .unwrap();
    let names = dir_names(&pack_dir(&repo));
    assert!(
        names.len() == 1 && names[0].starts_with(".kura-tmp-"),
        "{names:?}"
    );
    drop(pack);
    assert!(dir_names(&pack_dir(&repo)).is_empty());
}

#[test]
fn a_sealed_pack_is_seen_by_git_only_once_installed_and_dropped_leaves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let repo = init_bare(root.path());
    let data = noise(3 << 20, 4);
    let mut pack = PackWriter::create(&pack_dir(&repo)).unwrap();
    let oid = pack.add_data(ObjectKind::Blob, &data, 1).unwrap();
    let sealed = pack.seal().unwrap().expect("one object was added");
    let names = dir_names(&pack_dir(&repo));
    assert!(
        names.len() == 1 && names[0].starts_with(".kura-tmp-"),
        "sealed, only the temporary file: {names:?}"
    );
    let id = hex::encode(oid);
    let missing = git_output(&repo, &["cat-file", "-e", &id], None);
    assert!(!missing.status.success(), "git does not see a sealed pack");
    let info = sealed.install().unwrap();
    assert_eq!(info.objects, 1);
    assert_eq!(git(&repo, &["cat-file", "blob", &id]), data);
    let verified = git_output(
        &repo,
        &["verify-pack", info.index_path.to_str().unwrap()],
        None,
    );
    assert!(verified.status.success(), "{verified:?}");

    let mut pack = PackWriter::create(&pack_dir(&repo)).unwrap();
    pack.add_data(ObjectKind::Blob, &noise(1 << 20, 5), 1)
        .unwrap();
    drop(pack.seal().unwrap());
    let mut left = dir_names(&pack_dir(&repo));
    left.sort();
    assert_eq!(
        left,
        vec![format!("{}.idx", info.name), format!("{}.pack", info.name)],
        "a sealed pack dropped before its install leaves nothing"
    );
}

#[test]
fn a_missing_pack_dir_is_reported_with_its_path() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("no/such/dir");
    let err = PackWriter::create(&missing).unwrap_err();
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}

/// Many small objects, encoded on several threads and appended in order, as the snapshot path does.
#[test]
fn many_objects_from_several_threads() {
    const COUNT: usize = 30_000;
    let root = tempfile::tempdir().unwrap();
    let repo = init_bare(root.path());
    let encoded: Vec<EncodedObject> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                s.spawn(move || {
                    (w * COUNT / 4..(w + 1) * COUNT / 4)
                        .map(|i| {
                            EncodedObject::encode(
                                ObjectKind::Blob,
                                format!("file {i}\n").as_bytes(),
                                1,
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut pack = PackWriter::create(&pack_dir(&repo)).unwrap();
    for obj in &encoded {
        assert!(pack.add(obj).unwrap());
    }
    let info = pack.finish().unwrap().unwrap();
    assert_eq!(info.objects as usize, COUNT);
    git(&repo, &["verify-pack", info.index_path.to_str().unwrap()]);

    let probe: Vec<u8> = [0, 12_345, COUNT - 1]
        .iter()
        .map(|&i| format!("{}\n", hex::encode(encoded[i].oid)))
        .collect::<String>()
        .into_bytes();
    let out = git_output(&repo, &["cat-file", "--batch"], Some(&probe));
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("file 0\n")
            && text.contains("file 12345\n")
            && text.contains(&format!("file {}\n", COUNT - 1)),
        "{text}"
    );
}

/// A repository whose history holds deltas (after `git repack -adf`, OFS_DELTA entries), a
/// second pack on top, and a loose object: joined into one pack behind a bundle header, the
/// real `git` verifies, clones and fscks it, and every object is there.
#[test]
fn joined_packs_make_a_bundle_git_clones_with_deltas_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    fs::create_dir(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    let text: String = (0..400)
        .map(|i| format!("line {i} of a long file\n"))
        .collect();
    for v in 0..6 {
        fs::write(work.join("notes.txt"), format!("{text}version {v}\n")).unwrap();
        // A file that starts with the marker, whose versions git also stores as deltas.
        fs::write(work.join("marked.txt"), format!("more {text}version {v}\n")).unwrap();
        git(&work, &["add", "notes.txt", "marked.txt"]);
        commit(&work, &format!("v{v}"));
    }
    git(&work, &["repack", "-adfq"]);
    let deltas = pack_idx(&work);
    let verify = String::from_utf8(git(&work, &["verify-pack", "-v", &deltas])).unwrap();
    assert!(
        verify.contains("chain length"),
        "the test needs deltas: {verify}"
    );
    // The packs as the join sees them (in name order), the one with deltas last, so that its
    // entries land at other offsets than in their own pack.
    let joined = dir.path().join("packs");
    fs::create_dir(&joined).unwrap();
    for ext in ["idx", "pack"] {
        fs::copy(
            Path::new(&deltas).with_extension(ext),
            joined.join(format!("pack-2.{ext}")),
        )
        .unwrap();
    }
    // One more commit as a second pack, and one loose blob of our own.
    fs::write(work.join("extra.txt"), "more\n").unwrap();
    git(&work, &["add", "extra.txt"]);
    commit(&work, "v6");
    git(&work, &["repack", "-dq"]);
    let newer = fs::read_dir(work.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "idx") && p.to_string_lossy() != deltas)
        .unwrap();
    for ext in ["idx", "pack"] {
        fs::copy(
            newer.with_extension(ext),
            joined.join(format!("pack-1.{ext}")),
        )
        .unwrap();
    }
    let loose = EncodedObject::encode(ObjectKind::Blob, b"only loose\n", 6);
    let head = String::from_utf8(git(&work, &["rev-parse", "HEAD"])).unwrap();
    let head = head.trim();

    let bundle = dir.path().join("history.bundle");
    let mut out = Vec::new();
    out.extend_from_slice(
        format!("# v2 git bundle\n{head} HEAD\n{head} refs/heads/main\n\n").as_bytes(),
    );
    let plan = kura_gitpack::JoinedPack::plan(&joined, std::slice::from_ref(&loose)).unwrap();
    let copied = plan.write(b"more", &mut out).unwrap();
    assert_eq!(
        copied.bytes,
        plan.len(),
        "the planned length is the written one"
    );
    fs::write(&bundle, &out).unwrap();
    // Of the packs' blobs, extra.txt and every version of marked.txt start with the marker,
    // the versions git stored as deltas included: told from each delta's first instruction
    // (a copy of its base's start), not by resolving it. No delta is left unknown.
    let extra = String::from_utf8(git(&work, &["rev-parse", "HEAD:extra.txt"])).unwrap();
    let mut expected = vec![extra.trim().to_string()];
    for v in 0..6 {
        let rev = format!("HEAD~{}:marked.txt", 6 - v);
        expected.push(
            String::from_utf8(git(&work, &["rev-parse", &rev]))
                .unwrap()
                .trim()
                .to_string(),
        );
    }
    expected.sort();
    let mut marked: Vec<String> = copied.marked.iter().map(hex::encode).collect();
    marked.sort();
    assert_eq!(marked, expected);
    let delta_count = verify
        .lines()
        .filter(|l| l.contains(" blob ") && l.split_whitespace().count() > 5)
        .count();
    assert!(
        delta_count >= 6,
        "the test needs blobs stored as deltas: {verify}"
    );
    assert_eq!(copied.deltas, Vec::<Oid>::new());

    let all = String::from_utf8(git(&work, &["count-objects", "-v"])).unwrap();
    let in_packs: u32 = all
        .lines()
        .find_map(|l| l.strip_prefix("in-pack: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(copied.objects, in_packs + 1);
    git(&work, &["bundle", "verify", bundle.to_str().unwrap()]);
    git(
        dir.path(),
        &["clone", "-q", bundle.to_str().unwrap(), "clone"],
    );
    let clone = dir.path().join("clone");
    git(&clone, &["fsck", "--strict", "--no-dangling"]);
    assert_eq!(
        fs::read_to_string(clone.join("notes.txt")).unwrap(),
        format!("{text}version 5\n")
    );
    assert_eq!(
        String::from_utf8(git(&clone, &["rev-list", "--count", "HEAD"]))
            .unwrap()
            .trim(),
        "7"
    );
    let kept = git(&clone, &["cat-file", "-p", &hex::encode(loose.oid)]);
    assert_eq!(kept, b"only loose\n");
}

/// `git commit` as a fixed author.
fn commit(work: &Path, message: &str) {
    git(
        work,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "-m",
            message,
        ],
    );
}

fn pack_idx(work: &Path) -> String {
    let dir = work.join(".git/objects/pack");
    let idx = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .unwrap();
    idx.to_string_lossy().into_owned()
}

/// Objects left out of a join go, but a base a delta that stays needs is kept: the real `git`
/// indexes the joined pack with no delta left unresolved, and a repository holding the left-out
/// blobs fetches it whole.
#[test]
fn a_join_leaves_out_what_it_is_asked_to_but_the_bases_of_deltas_it_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    fs::create_dir(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    let text: String = (0..400).map(|i| format!("line {i} of a file\n")).collect();
    for v in 0..5 {
        fs::write(work.join("notes.txt"), format!("{text}version {v}\n")).unwrap();
        fs::write(work.join("solo.txt"), format!("alone, version {v}\n")).unwrap();
        git(&work, &["add", "notes.txt", "solo.txt"]);
        commit(&work, &format!("v{v}"));
    }
    git(&work, &["repack", "-adfq"]);
    let idx = pack_idx(&work);
    let id = |rev: &str| -> Oid {
        hex::decode(git_str(&work, &["rev-parse", rev]))
            .unwrap()
            .try_into()
            .unwrap()
    };
    let notes = id("HEAD:notes.txt");
    let solo = id("HEAD:solo.txt");
    // Git keeps the newest version whole and the older ones as deltas of it.
    let listing = git_str(&work, &["verify-pack", "-v", &idx]);
    assert!(
        listing
            .lines()
            .any(|l| l.ends_with(&hex::encode(notes)) && l.split_whitespace().count() == 7),
        "the test needs a delta based on the latest notes.txt: {listing}"
    );

    let leave_out: std::collections::HashSet<Oid> = [notes, solo].into_iter().collect();
    let packs = work.join(".git/objects/pack");
    let plan = kura_gitpack::JoinedPack::plan_without(&packs, &[], &leave_out).unwrap();
    let whole = kura_gitpack::JoinedPack::plan(&packs, &[]).unwrap();
    assert_eq!(plan.left_out().iter().collect::<Vec<_>>(), vec![&solo]);
    assert_eq!(plan.objects() + 1, whole.objects());
    assert_eq!(plan.whole_len(), whole.len());
    assert!(plan.len() < whole.len());
    let mut out = Vec::new();
    let copied = plan.write(b"-", &mut out).unwrap();
    assert_eq!(copied.bytes, plan.len());
    let pack = dir.path().join("joined.pack");
    fs::write(&pack, &out).unwrap();
    // No `--fix-thin`: a delta whose base were missing would fail here.
    git(dir.path(), &["index-pack", pack.to_str().unwrap()]);
    let listed = git_str(dir.path(), &["verify-pack", "-v", "joined.idx"]);
    assert!(!listed.contains(&hex::encode(solo)), "{listed}");
    assert!(listed.contains(&hex::encode(notes)), "{listed}");

    // Behind a bundle header, a repository that has the left-out blob takes it whole.
    let head = git_str(&work, &["rev-parse", "HEAD"]);
    let mut bundle = format!("# v2 git bundle\n{head} refs/heads/main\n\n").into_bytes();
    bundle.extend_from_slice(&out);
    fs::write(dir.path().join("thin.bundle"), &bundle).unwrap();
    git(
        dir.path(),
        &["init", "-q", "--bare", "-b", "main", "other.git"],
    );
    let other = dir.path().join("other.git");
    git_output(
        &other,
        &["hash-object", "-w", "--stdin"],
        Some(b"alone, version 4\n"),
    );
    git(&other, &["fetch", "-q", "../thin.bundle", "main:main"]);
    git(&other, &["fsck", "--strict", "--no-dangling"]);
}

/// A page of "HTML" that shares most of its bytes with the pages of nearby `i`.
fn page(i: usize) -> Vec<u8> {
    let mut page =
        b"<!DOCTYPE html><html><head><link rel=stylesheet href=style.css></head>".repeat(20);
    page.extend_from_slice(format!("<h1>Page {i}</h1>").as_bytes());
    page.extend_from_slice(&noise(300 + i % 50, i as u64 / 7));
    page.extend_from_slice(
        b"<footer>the same footer on every page</footer>"
            .repeat(30)
            .as_slice(),
    );
    page
}

#[test]
fn chains_of_deltas_read_back_in_git_and_stop_at_the_depth_limit() {
    let root = tempfile::tempdir().unwrap();
    let repo = init_bare(root.path());
    let mut pack = PackWriter::create(&pack_dir(&repo)).unwrap();
    let pages: Vec<Vec<u8>> = (0..200).map(page).collect();
    let mut ids = vec![pack.add_data(ObjectKind::Blob, &pages[0], 1).unwrap()];
    let mut outcomes = Vec::new();
    for pair in pages.windows(2) {
        let base = DeltaBase::new(*ids.last().unwrap(), pair[0].clone());
        let delta = EncodedDelta::encode(ObjectKind::Blob, &pair[1], &base, 1)
            .expect("pages that share most of their bytes");
        let outcome = pack.add_delta(&delta).unwrap();
        if outcome == DeltaAdded::NeedsWhole {
            pack.add_data(ObjectKind::Blob, &pair[1], 1).unwrap();
        }
        outcomes.push(outcome);
        ids.push(delta.oid);
    }
    // A delta of an object already in the pack adds nothing; one whose base is not in the pack
    // is refused.
    let first = DeltaBase::new(ids[0], pages[0].clone());
    let again = EncodedDelta::encode(ObjectKind::Blob, &pages[1], &first, 1).unwrap();
    assert_eq!(pack.add_delta(&again).unwrap(), DeltaAdded::AlreadyInPack);
    let elsewhere = object_id(ObjectKind::Blob, b"not in this pack");
    let elsewhere = DeltaBase::new(elsewhere, pages[0].clone());
    let orphan = EncodedDelta::encode(ObjectKind::Blob, &page(1000), &elsewhere, 1).unwrap();
    assert_eq!(pack.add_delta(&orphan).unwrap(), DeltaAdded::NeedsWhole);
    let info = pack.finish().unwrap().unwrap();
    assert_eq!(info.objects, 200);

    // Every 51st page starts a new chain: none is more than 50 deltas deep.
    let whole = outcomes
        .iter()
        .filter(|o| **o == DeltaAdded::NeedsWhole)
        .count();
    assert_eq!(whole, 3, "{outcomes:?}");
    let verbose = git_str(
        &repo,
        &["verify-pack", "-v", info.index_path.to_str().unwrap()],
    );
    assert!(verbose.contains("chain length = 50: "), "{verbose}");
    assert!(!verbose.contains("chain length = 51"), "{verbose}");
    // Nothing refers to these blobs: fsck checks them without calling them dangling.
    let fsck = [
        "fsck",
        "--full",
        "--strict",
        "--no-dangling",
        "--no-progress",
    ];
    assert_eq!(git_str(&repo, &fsck), "");
    for (id, data) in ids.iter().zip(&pages) {
        let read = git(&repo, &["cat-file", "blob", &hex::encode(id)]);
        assert!(read == *data, "blob {} differs", hex::encode(id));
    }
    // The deltas made the pack far smaller than the pages deflated one by one.
    let whole_size: usize = pages
        .iter()
        .map(|p| EncodedObject::encode(ObjectKind::Blob, p, 1).deflated_len())
        .sum();
    assert!(
        info.bytes * 3 < whole_size as u64,
        "{} against {whole_size}",
        info.bytes
    );
}

/// A plan holds while the packs it joins are the folder's: a new pack, or a repack that
/// replaces them, makes it stale (an archive then plans again instead of failing to write).
#[test]
fn a_join_plan_is_current_until_the_packs_change() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    fs::create_dir(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    fs::write(work.join("a.txt"), "first\n").unwrap();
    git(&work, &["add", "a.txt"]);
    commit(&work, "v1");
    git(&work, &["repack", "-adq"]);
    let packs = work.join(".git/objects/pack");
    let plan = kura_gitpack::JoinedPack::plan(&packs, &[]).unwrap();
    assert!(plan.is_current().unwrap(), "nothing changed since the plan");

    fs::write(work.join("a.txt"), "second\n").unwrap();
    git(&work, &["add", "a.txt"]);
    commit(&work, "v2");
    git(&work, &["repack", "-dq"]);
    assert!(
        !plan.is_current().unwrap(),
        "a new pack beside the planned one"
    );
    let replanned = kura_gitpack::JoinedPack::plan(&packs, &[]).unwrap();
    assert!(replanned.is_current().unwrap());
    git(&work, &["repack", "-adq"]);
    assert!(
        !replanned.is_current().unwrap(),
        "a repack replaced the planned packs"
    );
}
