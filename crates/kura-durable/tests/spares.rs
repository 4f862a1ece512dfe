//! Saves that swap a spare file in for the one they replace: the new content is in place, the
//! replaced file's inode is kept for the next save only when nothing else can see it, and
//! concurrent saves and readers never see a mix of two files.
#![cfg(target_os = "linux")]

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kura_durable::Spares;

struct Scene {
    _dir: tempfile::TempDir,
    files: PathBuf,
    spares_dir: PathBuf,
}

fn scene() -> Scene {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("project");
    fs::create_dir(&files).unwrap();
    Scene {
        spares_dir: dir.path().join(kura_durable::SPARES_DIR),
        files,
        _dir: dir,
    }
}

fn save(spares: &Spares, path: &Path, data: &[u8]) {
    spares.write_with(path, |w| w.write_all(data)).unwrap();
}

fn ino(path: &Path) -> u64 {
    fs::symlink_metadata(path).unwrap().ino()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The spare files (not the `.owner` files that say whose they are).
fn spares_in(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| !n.ends_with(".owner"))
        .collect()
}

/// Every spare holds nothing but zeros, and is private.
fn assert_spares_empty(dir: &Path) {
    for name in names(dir) {
        let m = fs::symlink_metadata(dir.join(&name)).unwrap();
        assert!(m.is_file(), "{name}");
        let data = fs::read(dir.join(&name)).unwrap();
        assert!(data.iter().all(|b| *b == 0), "spare {name} holds data");
        assert_eq!(m.permissions().mode() & 0o777, 0o600, "{name}");
    }
}

#[test]
fn a_replaced_files_inode_carries_the_next_save_and_keeps_nothing_of_it() {
    let s = scene();
    let spares = Spares::new(s.spares_dir.clone());
    let (a, b) = (s.files.join("a.txt"), s.files.join("b.txt"));
    fs::write(&a, b"the old a").unwrap();
    fs::set_permissions(&a, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(&b, b"the old b").unwrap();
    let old_a = ino(&a);

    save(&spares, &a, b"the new a");
    spares.settle();
    assert_eq!(fs::read(&a).unwrap(), b"the new a");
    assert_ne!(ino(&a), old_a);
    assert_eq!(
        names(&s.files),
        ["a.txt", "b.txt"],
        "nothing left beside it"
    );
    assert_eq!(spares_in(&s.spares_dir).len(), 1);
    assert_spares_empty(&s.spares_dir);

    save(&spares, &b, b"the new b");
    spares.settle();
    assert_eq!(fs::read(&b).unwrap(), b"the new b");
    assert_eq!(ino(&b), old_a, "the inode a had carries b's new content");
    assert_eq!(
        fs::metadata(&b).unwrap().permissions().mode() & 0o777,
        0o600,
        "a's mode did not travel with its inode"
    );
    assert_eq!(fs::read(&a).unwrap(), b"the new a");
    assert_spares_empty(&s.spares_dir);
}

#[test]
fn a_file_held_open_or_linked_elsewhere_keeps_its_old_content() {
    let s = scene();
    let spares = Spares::new(s.spares_dir.clone());
    let held = s.files.join("held.txt");
    let linked = s.files.join("linked.txt");
    let other_name = s.files.join("other-name.txt");
    fs::write(&held, b"read by someone").unwrap();
    fs::write(&linked, b"also known elsewhere").unwrap();
    fs::hard_link(&linked, &other_name).unwrap();
    let mut reader = fs::File::open(&held).unwrap();

    save(&spares, &held, b"new");
    save(&spares, &linked, b"new too");
    // Further saves would reuse any spare kept: none may be one of those two files.
    for i in 0..4 {
        let p = s.files.join(format!("f{i}"));
        fs::write(&p, b"x").unwrap();
        save(&spares, &p, format!("file {i}").as_bytes());
    }
    spares.settle();
    let mut seen = String::new();
    reader.read_to_string(&mut seen).unwrap();
    assert_eq!(seen, "read by someone");
    assert_eq!(fs::read(&other_name).unwrap(), b"also known elsewhere");
    assert_eq!(fs::read(&held).unwrap(), b"new");
    assert_eq!(fs::read(&linked).unwrap(), b"new too");
    assert_eq!(fs::metadata(&other_name).unwrap().nlink(), 1);
    assert_spares_empty(&s.spares_dir);
}

#[test]
fn links_and_new_files_are_written_by_rename_and_a_links_target_is_untouched() {
    let s = scene();
    let spares = Spares::new(s.spares_dir.clone());
    let target = s.files.join("target.txt");
    let link = s.files.join("link.txt");
    fs::write(&target, b"pointed at").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();

    save(&spares, &link, b"a file now");
    assert!(fs::symlink_metadata(&link).unwrap().is_file());
    assert_eq!(fs::read(&link).unwrap(), b"a file now");
    assert_eq!(fs::read(&target).unwrap(), b"pointed at");

    let new = s.files.join("sub").join("new.txt");
    save(&spares, &new, b"made");
    assert_eq!(fs::read(&new).unwrap(), b"made");
    spares.settle();
    assert!(spares_in(&s.spares_dir).is_empty(), "no spare was needed");
}

#[test]
fn another_owner_never_gets_a_spare_this_one_keeps_and_takes_over_those_left() {
    let s = scene();
    let first = Spares::new(s.spares_dir.clone());
    let (a, b, c) = (s.files.join("a"), s.files.join("b"), s.files.join("c"));
    for p in [&a, &b, &c] {
        fs::write(p, b"old").unwrap();
    }
    let old_a = ino(&a);
    save(&first, &a, b"1");
    first.settle();
    // The kept spare (a's old inode) belongs to `first`, alive: `second` makes its own.
    let second = Spares::new(s.spares_dir.clone());
    save(&second, &b, b"2");
    second.settle();
    assert_ne!(ino(&b), old_a);
    assert_eq!(spares_in(&s.spares_dir).len(), 2);
    // `first` is dropped: a newcomer takes its spare over.
    drop(first);
    let third = Spares::new(s.spares_dir.clone());
    save(&third, &c, b"3");
    third.settle();
    assert_eq!(ino(&c), old_a);
    assert_eq!(
        [
            fs::read(&a).unwrap(),
            fs::read(&b).unwrap(),
            fs::read(&c).unwrap()
        ],
        [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]
    );
    assert_spares_empty(&s.spares_dir);
}

/// Content that names its file and says how long it is: `<name>:<len>:` then filler.
fn content(name: &str, seq: usize) -> Vec<u8> {
    let len = 40 + (seq * 7919) % 3000;
    let mut v = format!("{name}:{len:06}:").into_bytes();
    v.resize(len, b'a' + (seq % 26) as u8);
    v
}

fn check(name: &str, data: &[u8]) {
    let text = String::from_utf8_lossy(&data[..data.len().min(40)]).into_owned();
    let prefix = format!("{name}:");
    assert!(
        data.starts_with(prefix.as_bytes()),
        "{name} holds another file's content: {text}"
    );
    let len: usize = std::str::from_utf8(&data[prefix.len()..prefix.len() + 6])
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(data.len(), len, "{name} is incomplete: {text}");
}

#[test]
fn concurrent_saves_and_readers_see_whole_files_of_their_own_name() {
    let s = scene();
    let spares = Arc::new(Spares::new(s.spares_dir.clone()));
    let names_: Vec<String> = (0..16).map(|i| format!("n{i:02}")).collect();
    for n in &names_ {
        fs::write(s.files.join(n), content(n, 0)).unwrap();
    }
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (dir, names_, done) = (s.files.clone(), names_.clone(), done.clone());
            std::thread::spawn(move || {
                let mut reads = 0;
                while !done.load(Ordering::Relaxed) || reads < 100 {
                    let n = &names_[(reads * 5 + r) % names_.len()];
                    // Open, then read slowly: the file may be replaced meanwhile.
                    let mut f = fs::File::open(dir.join(n)).unwrap();
                    let mut head = [0u8; 16];
                    let got = f.read(&mut head).unwrap();
                    std::thread::yield_now();
                    let mut rest = Vec::new();
                    f.read_to_end(&mut rest).unwrap();
                    check(n, &[&head[..got], &rest[..]].concat());
                    reads += 1;
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let (dir, names_, spares) = (s.files.clone(), names_.clone(), spares.clone());
            std::thread::spawn(move || {
                for seq in 1..=150 {
                    let n = &names_[(seq * 3 + w) % names_.len()];
                    save(&spares, &dir.join(n), &content(n, seq * 10 + w));
                }
            })
        })
        .collect();
    for t in writers {
        t.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    for t in readers {
        t.join().unwrap();
    }
    spares.settle();
    for n in &names_ {
        check(n, &fs::read(s.files.join(n)).unwrap());
    }
    assert_eq!(names(&s.files), names_, "nothing left beside the files");
    assert!(spares_in(&s.spares_dir).len() <= 32);
    assert_spares_empty(&s.spares_dir);
}

#[test]
fn a_save_still_lands_when_the_spares_folder_was_removed_by_hand() {
    let s = scene();
    let spares = Spares::new(s.spares_dir.clone());
    let (a, b) = (s.files.join("a"), s.files.join("b"));
    fs::write(&a, b"old a").unwrap();
    fs::write(&b, b"old b").unwrap();
    save(&spares, &a, b"new a");
    spares.settle();
    assert_eq!(spares_in(&s.spares_dir).len(), 1, "a spare is kept");
    fs::remove_dir_all(&s.spares_dir).unwrap();

    save(&spares, &b, b"new b");
    assert_eq!(fs::read(&b).unwrap(), b"new b");
    assert_eq!(names(&s.files), ["a", "b"]);
    save(&spares, &a, b"newer a");
    spares.settle();
    assert_eq!(fs::read(&a).unwrap(), b"newer a");
    assert_spares_empty(&s.spares_dir);
}

/// The child of [`a_lease_break_never_ends_the_saving_process`]: saves one file over and over
/// (each replaced file is zeroed under a write lease), then waits for a line on stdin.
#[test]
fn lease_holder_child() {
    let Some(dir) = std::env::var_os("KURA_TEST_LEASE_CHILD") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let spares = Spares::new(dir.join(kura_durable::SPARES_DIR));
    let file = dir.join("project/f.txt");
    for i in 0..3000 {
        save(&spares, &file, format!("save {i}\n").as_bytes());
    }
    spares.settle();
    // The test harness may print on the same line first: the word ends it.
    println!("\nsaved");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
}

/// Another process opening a file whose lease a saving process holds makes the kernel send the
/// holder `SIGIO`, whose default action ends a process: four processes saving the same files
/// killed each other that way. The saving process (a child running the test above) lives
/// through both the lease breaks of this process opening its spares while it saves, and a plain
/// `SIGIO` afterwards, and the file holds whole content.
#[test]
fn a_lease_break_never_ends_the_saving_process() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let s = scene();
    let root = s.files.parent().unwrap().to_path_buf();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lease_holder_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("KURA_TEST_LEASE_CHILD", &root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    // Open every spare, again and again, while the child saves: each open of a leased one
    // breaks the lease.
    let stop = Arc::new(AtomicBool::new(false));
    let opener = {
        let (stop, dir) = (stop.clone(), s.spares_dir.clone());
        std::thread::spawn(move || {
            let mut opened = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
                    if fs::File::open(e.path()).is_ok() {
                        opened += 1;
                    }
                }
            }
            opened
        })
    };
    let mut said = String::new();
    loop {
        said.clear();
        if out.read_line(&mut said).unwrap() == 0 || said.trim_end().ends_with("saved") {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let opened = opener.join().unwrap();
    assert!(
        opened > 0,
        "no spare was ever opened; the test proved nothing"
    );
    let killed = Command::new("kill")
        .args(["-s", "IO", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(std::time::Duration::from_millis(200));
    let _ = child.stdin.take().unwrap().write_all(b"done\n");
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), None, "the saving process died of a signal");
    assert!(status.success(), "{status}");
    assert_eq!(fs::read(s.files.join("f.txt")).unwrap(), b"save 2999\n");
}
