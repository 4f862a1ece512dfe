//! A pack that fills is sealed (fsynced, renamed, its folder fsynced) on a thread of its own
//! while the next one is written. A seal that fails there must still fail the session: nothing
//! of it indexed, no pack and no temporary file left, and the store usable afterwards.
//!
//! The fault hook is process-wide, so this file holds a single test.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use kura_chunkstore::{ChunkStore, ChunkStoreOptions};
use kura_durable::faults::{self, FaultPlan, Op, EIO, ENOSPC};

mod common;
use common::{random, MB};

/// Every file under `packs/`, in its subfolders too.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.join("packs")];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                found.push(p);
            }
        }
    }
    found
}

#[test]
fn a_pack_whose_seal_fails_behind_the_writer_fails_the_session_and_leaves_nothing() {
    let data = random(1, 60 * MB);
    let never = AtomicBool::new(false);
    // The first, second and third pack's fsync, the first fsync of a pack's folder and the
    // second pack's rename into place; each with a full disk and an I/O error. Of the 4 packs,
    // the last is sealed by `finish` itself, the others behind the writer.
    let plans = [
        (Op::SyncFile, 1),
        (Op::SyncFile, 2),
        (Op::SyncFile, 3),
        (Op::SyncDir, 1),
        (Op::Rename, 2),
    ];
    for (op, nth) in plans {
        for errno in [ENOSPC, EIO] {
            let dir = tempfile::tempdir().unwrap();
            let store = ChunkStore::open(dir.path(), ChunkStoreOptions::default()).unwrap();
            let disk = faults::install(FaultPlan { op, nth, errno });
            let mut writer = store.writer();
            let result = writer
                .store(&mut &data[..], &mut |_| {}, &never)
                .and_then(|_| writer.finish());
            faults::uninstall();
            let case = format!("{} #{nth} failing with errno {errno}", op.name());
            assert!(disk.fired(), "{case}: the fault was not reached");
            let err = result.expect_err(&case);
            assert_eq!(err.is_disk_full(), errno == ENOSPC, "{case}: {err}");
            assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new(), "{case}");
            assert_eq!(store.usage().unwrap(), Default::default(), "{case}");

            // The same store takes the data once the disk is well again.
            let mut writer = store.writer();
            let stored = writer.store(&mut &data[..], &mut |_| {}, &never).unwrap();
            let stats = writer.finish().unwrap();
            assert!(stats.packs_written >= 4, "{case}: {stats:?}");
            let mut back = Vec::new();
            store.read_to(&stored.chunks, &mut back).unwrap();
            assert!(back == data, "{case}: the data read back differs");
        }
    }
}
