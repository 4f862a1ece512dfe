//! The failing disk fails exactly the planned step, and a failed atomic write leaves the old file
//! and no temp file behind. One test function: the hook is process-wide.

use std::io::Write;

use kura_durable::faults::{self, FaultPlan, Op, EIO, ENOSPC};

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn each_step_of_an_atomic_write_fails_cleanly_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file.txt");
    kura_durable::write_file(&path, b"old").unwrap();

    let counting = faults::install(FaultPlan::count_only());
    kura_durable::write_file(&path, b"new").unwrap();
    let counts = counting.counts();
    assert_eq!(counts.get(Op::Write), 1);
    assert_eq!(counts.get(Op::SyncFile), 1);
    assert_eq!(counts.get(Op::Rename), 1);
    assert_eq!(counts.get(Op::SyncDir), 1);
    kura_durable::write_file(&path, b"old").unwrap();

    for op in [Op::Write, Op::SyncFile, Op::Rename] {
        for errno in [ENOSPC, EIO] {
            let disk = faults::install(FaultPlan { op, nth: 1, errno });
            let err = kura_durable::write_file(&path, b"new").unwrap_err();
            assert!(disk.fired());
            assert_eq!(err.source.raw_os_error(), Some(errno));
            assert_eq!(err.is_disk_full(), errno == ENOSPC);
            assert_eq!(std::fs::read(&path).unwrap(), b"old", "{op:?} {errno}");
            assert_eq!(entries(dir.path()), ["file.txt"], "no temp file left");
        }
    }
    // The same for a save that swaps a spare in: the file is untouched, and what was written
    // into the spare is gone from it.
    let spares_dir = tempfile::tempdir().unwrap();
    let spares = kura_durable::Spares::new(spares_dir.path().join("spares"));
    spares
        .write_with(&path, |w| w.write_all(b"swapped"))
        .unwrap();
    spares.settle();
    assert_eq!(std::fs::read(&path).unwrap(), b"swapped");
    kura_durable::write_file(&path, b"old").unwrap();
    for op in [Op::Write, Op::SyncFile, Op::Rename] {
        for errno in [ENOSPC, EIO] {
            let disk = faults::install(FaultPlan { op, nth: 1, errno });
            let err = spares
                .write_with(&path, |w| w.write_all(b"new"))
                .unwrap_err();
            assert!(disk.fired());
            assert_eq!(err.source.raw_os_error(), Some(errno));
            assert_eq!(std::fs::read(&path).unwrap(), b"old", "{op:?} {errno}");
            assert_eq!(entries(dir.path()), ["file.txt"], "nothing left beside it");
            for spare in entries(&spares_dir.path().join("spares")) {
                let data = std::fs::read(spares_dir.path().join("spares").join(&spare)).unwrap();
                assert!(
                    data.iter().all(|b| *b == 0),
                    "spare {spare} kept data after {op:?} {errno}"
                );
            }
        }
    }
    // A failed folder fsync comes after the rename: the new content is in place, and the caller
    // is told the write may not survive a crash.
    faults::install(FaultPlan {
        op: Op::SyncDir,
        nth: 1,
        errno: EIO,
    });
    assert!(kura_durable::write_file(&path, b"new").is_err());
    faults::uninstall();
    assert!(faults::current().is_none());
    kura_durable::create_dir_all(&dir.path().join("a/b/c")).unwrap();
    assert!(dir.path().join("a/b/c").is_dir());

    assert_eq!(
        FaultPlan::parse("rename:3:ENOSPC").unwrap(),
        FaultPlan {
            op: Op::Rename,
            nth: 3,
            errno: ENOSPC
        }
    );
    assert!(FaultPlan::parse("rename:x:EIO").is_err());
}
