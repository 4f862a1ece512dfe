//! Importing archive files: ordinary ones become projects; crafted ones (path escapes, links
//! out, devices) and damaged ones are refused with nothing written and no project created.

use std::io::Write;
use std::path::{Path, PathBuf};

use kura_core::{ErrorKind, ImportArchiveOptions, Job, ProjectFilter};

use crate::{read_tree, Fixture};

/// One raw tar entry.
enum Raw<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    CharDevice(&'a str),
}

/// A tar stream with the entries written as they are (no path checks of the tar crate).
fn tar_bytes(entries: &[Raw<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_old();
        let (name, kind, data, link): (&str, tar::EntryType, &[u8], Option<&str>) = match e {
            Raw::File(n, d) => (n, tar::EntryType::Regular, d, None),
            Raw::Dir(n) => (n, tar::EntryType::Directory, b"", None),
            Raw::Symlink(n, t) => (n, tar::EntryType::Symlink, b"", Some(t)),
            Raw::HardLink(n, t) => (n, tar::EntryType::Link, b"", Some(t)),
            Raw::CharDevice(n) => (n, tar::EntryType::Char, b"", None),
        };
        let raw = h.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(t) = link {
            raw.linkname[..t.len()].copy_from_slice(t.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// zstd with frame checksums, as Kura writes its archives.
fn zst(data: &[u8]) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    e.include_checksum(true).unwrap();
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn save(fx: &Fixture, name: &str, data: &[u8]) -> PathBuf {
    let p = fx.dir.path().join("in").join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, data).unwrap();
    p
}

fn import(fx: &Fixture, path: &Path) -> kura_core::Result<kura_core::Project> {
    fx.vault
        .import_archive(path, &ImportArchiveOptions::default(), &Job::default())
}

/// No project, and no staging folder, were left.
fn assert_nothing_created(fx: &Fixture) {
    let all = fx
        .vault
        .projects(&ProjectFilter {
            all_workspaces: true,
            ..Default::default()
        })
        .unwrap();
    assert!(all.is_empty(), "{all:?}");
    let left: Vec<_> = std::fs::read_dir(fx.vault.root().join("projects"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn tar_gz_tar_zst_and_zip_import_as_projects() {
    let fx = Fixture::new();
    let entries = [
        Raw::Dir("app-1.0/"),
        Raw::File("app-1.0/README.md", b"# app\n"),
        Raw::File("app-1.0/src/lib.rs", b"pub fn f() {}\n"),
        Raw::Symlink("app-1.0/docs", "src"),
    ];
    let tgz = save(&fx, "app.tar.gz", &gz(&tar_bytes(&entries)));
    let p = import(&fx, &tgz).unwrap();
    assert_eq!(p.name, "app-1.0");
    assert_eq!(p.kind, "imported");
    let tree = read_tree(&p.path);
    assert_eq!(
        tree,
        vec![
            ("README.md".to_string(), b"# app\n".to_vec()),
            ("src/lib.rs".to_string(), b"pub fn f() {}\n".to_vec()),
        ]
    );
    assert_eq!(
        std::fs::read_link(p.path.join("docs")).unwrap(),
        Path::new("src")
    );
    assert_eq!(fx.vault.versions(&p.id, None).unwrap().len(), 1);

    let tzst = save(
        &fx,
        "tool.tar.zst",
        &zst(&tar_bytes(&[Raw::File("main.go", b"package main\n")])),
    );
    let p = import(&fx, &tzst).unwrap();
    assert_eq!(p.name, "tool");
    assert_eq!(read_tree(&p.path).len(), 1);

    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("lib/a.py", opts).unwrap();
    z.write_all(b"print(1)\n").unwrap();
    let zipped = save(&fx, "py.zip", &z.finish().unwrap().into_inner());
    let p = import(&fx, &zipped).unwrap();
    assert_eq!(p.name, "lib");
    assert_eq!(
        read_tree(&p.path),
        vec![("a.py".to_string(), b"print(1)\n".to_vec())]
    );
    // Same name again: refused, nothing added.
    let err = import(&fx, &zipped).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
}

#[test]
fn entries_that_escape_are_refused_and_nothing_lands_outside() {
    let cases: Vec<(&str, Vec<Raw<'_>>)> = vec![
        (
            "dotdot",
            vec![Raw::File("ok.txt", b"x"), Raw::File("../evil", b"pwned")],
        ),
        ("deep-dotdot", vec![Raw::File("a/../../evil", b"pwned")]),
        ("absolute", vec![Raw::File("/tmp/kura-evil-abs", b"pwned")]),
        (
            "symlink-out",
            vec![Raw::Symlink("etc", "/etc"), Raw::File("etc/evil", b"pwned")],
        ),
        (
            "symlink-up",
            vec![Raw::Symlink("up", "../.."), Raw::File("up/evil", b"pwned")],
        ),
        ("hardlink-out", vec![Raw::HardLink("passwd", "/etc/passwd")]),
        ("hardlink-up", vec![Raw::HardLink("evil", "../outside.txt")]),
        ("device", vec![Raw::CharDevice("null")]),
    ];
    for (name, entries) in cases {
        for (ext, data) in [
            ("tar.gz", gz(&tar_bytes(&entries))),
            ("tar.zst", zst(&tar_bytes(&entries))),
        ] {
            let fx = Fixture::new();
            std::fs::write(fx.dir.path().join("outside.txt"), b"keep").unwrap();
            let path = save(&fx, &format!("{name}.{ext}"), &data);
            let err = import(&fx, &path).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::PathEscape, "{name}.{ext}: {err}");
            assert!(err.message().contains("refused"), "{err}");
            assert!(!fx.dir.path().join("evil").exists(), "{name}.{ext}");
            assert!(!fx.dir.path().join("in/evil").exists(), "{name}.{ext}");
            assert!(!Path::new("/tmp/kura-evil-abs").exists());
            assert!(!Path::new("/etc/evil").exists());
            assert_eq!(
                std::fs::read(fx.dir.path().join("outside.txt")).unwrap(),
                b"keep"
            );
            assert_nothing_created(&fx);
        }
    }
}

#[test]
fn zip_entries_that_escape_are_refused() {
    for (name, build) in [("dotdot", 0), ("absolute", 1), ("symlink", 2)] {
        let fx = Fixture::new();
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        match build {
            0 => z.start_file("../evil", opts).unwrap(),
            1 => z.start_file("/tmp/kura-evil-zip", opts).unwrap(),
            _ => {
                z.add_symlink("etc", "/etc", opts).unwrap();
                z.start_file("etc/evil", opts).unwrap();
            }
        }
        z.write_all(b"pwned").unwrap();
        let path = save(
            &fx,
            &format!("{name}.zip"),
            &z.finish().unwrap().into_inner(),
        );
        let err = import(&fx, &path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PathEscape, "{name}: {err}");
        assert!(!fx.dir.path().join("in/evil").exists());
        assert!(!fx.dir.path().join("evil").exists());
        assert!(!Path::new("/tmp/kura-evil-zip").exists());
        assert_nothing_created(&fx);
    }
}

#[test]
fn truncated_and_corrupt_archives_are_refused_cleanly() {
    let body = crate::noise(300_000, 5);
    let entries = [Raw::File("a.bin", &body), Raw::File("b.txt", b"hello")];
    let tar = tar_bytes(&entries);
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("a.bin", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(&body).unwrap();
    let zip_bytes = z.finish().unwrap().into_inner();
    let mut flipped = zst(&tar);
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    for (name, data) in [
        ("cut.tar.zst", zst(&tar)[..zst(&tar).len() / 2].to_vec()),
        ("cut.tar.gz", gz(&tar)[..gz(&tar).len() / 2].to_vec()),
        ("cut.zip", zip_bytes[..zip_bytes.len() - 30].to_vec()),
        ("flipped.tar.zst", flipped),
    ] {
        let fx = Fixture::new();
        let path = save(&fx, name, &data);
        let err = import(&fx, &path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{name}: {err}");
        assert!(err.message().contains("damaged or truncated"), "{err}");
        assert_nothing_created(&fx);
    }
    let fx = Fixture::new();
    let path = save(&fx, "notes.tar.gz", b"just some text, not an archive");
    let err = import(&fx, &path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_nothing_created(&fx);
}

#[test]
fn an_imported_folder_keeps_modification_times_and_is_not_read_again() {
    let fx = Fixture::new();
    let src = fx.dir.path().join("old-project");
    let last_year =
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_735_689_600);
    for i in 0..20 {
        let path = src.join(format!("src/m{i}.rs"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("pub fn f{i}() {{}}\n")).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(last_year)
            .unwrap();
    }
    let p = fx
        .vault
        .import_folder(
            &src,
            &kura_core::ImportOptions {
                name: Some("old".into()),
                ..Default::default()
            },
            &Job::default(),
        )
        .unwrap()
        .project;
    let copied = std::fs::metadata(p.path.join("src/m7.rs")).unwrap();
    assert_eq!(copied.modified().unwrap(), last_year);
    // The import's version took in files changed long before it: the next one finds them as
    // they were, without reading them again.
    let again = fx
        .vault
        .snapshot(
            &p.id,
            &kura_core::SnapshotOptions::default(),
            &Job::default(),
        )
        .unwrap();
    assert_eq!(again.files_read, 0, "{again:?}");
    assert!(again.version.is_none(), "nothing changed: {again:?}");
}
