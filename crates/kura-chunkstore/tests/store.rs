//! Chunk store behaviour against real files in temporary folders.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use kura_chunkstore::{ChunkRef, ChunkStore, ChunkStoreOptions, Error, StoredFile, WriteStats};

mod common;
use common::{random, MB};

/// Text-like bytes that zstd shrinks a lot.
fn compressible(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0u64;
    while out.len() < len {
        out.extend_from_slice(
            format!("line {i}: the quick brown fox jumps over the lazy dog\n").as_bytes(),
        );
        i += 1;
    }
    out.truncate(len);
    out
}

fn open(dir: &Path) -> ChunkStore {
    ChunkStore::open(dir, ChunkStoreOptions::default()).unwrap()
}

fn never() -> AtomicBool {
    AtomicBool::new(false)
}

fn store_all(store: &ChunkStore, files: &[&[u8]]) -> Vec<StoredFile> {
    let mut writer = store.writer();
    let stored = files
        .iter()
        .map(|data| writer.store(&mut &data[..], &mut |_| {}, &never()).unwrap())
        .collect();
    writer.finish().unwrap();
    stored
}

fn store_one(store: &ChunkStore, data: &[u8]) -> StoredFile {
    store_all(store, &[data]).pop().unwrap()
}

/// Stores `data` in a session of its own; also returns what the session wrote.
fn store_counted(store: &ChunkStore, data: &[u8]) -> (StoredFile, WriteStats) {
    let mut writer = store.writer();
    let stored = writer.store(&mut &data[..], &mut |_| {}, &never()).unwrap();
    (stored, writer.finish().unwrap())
}

fn read_back(store: &ChunkStore, chunks: &[ChunkRef]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let n = store.read_to(chunks, &mut out)?;
    assert_eq!(n, out.len() as u64);
    Ok(out)
}

/// Every `.pack` file under `packs/`.
fn pack_files(dir: &Path) -> Vec<PathBuf> {
    let mut packs = Vec::new();
    for sub in fs::read_dir(dir.join("packs")).unwrap() {
        let sub = sub.unwrap().path();
        if sub.is_dir() {
            for f in fs::read_dir(&sub).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "pack") {
                    packs.push(f);
                }
            }
        }
    }
    packs.sort();
    packs
}

fn tmp_files(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir.join("packs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("tmp-"))
        .collect()
}

fn pack_id(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn round_trip_is_byte_identical_for_many_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let sizes = [0, 1, 1000, 256 * 1024 - 1, 256 * 1024, 3 * MB + 7, 10 * MB];
    let files: Vec<Vec<u8>> = sizes.iter().map(|&n| random(n as u64, n)).collect();
    let refs: Vec<&[u8]> = files.iter().map(|f| &f[..]).collect();
    let stored = store_all(&store, &refs);
    for (data, file) in files.iter().zip(&stored) {
        assert_eq!(file.size, data.len() as u64);
        assert_eq!(file.hash, *blake3::hash(data).as_bytes());
        let total: u64 = file.chunks.iter().map(|c| u64::from(c.len)).sum();
        assert_eq!(total, file.size);
        assert_eq!(read_back(&store, &file.chunks).unwrap(), *data);
    }
    assert!(stored[0].chunks.is_empty(), "empty input has no chunks");
    assert_eq!(stored[1].chunks.len(), 1, "a small file is one chunk");
    assert_eq!(stored[3].chunks.len(), 1, "below min_chunk is one chunk");
    assert!(stored[6].chunks.len() > 3, "10 MB is split");
    // Reopened, without the cache, it reads the same.
    drop(store);
    let store = open(dir.path());
    assert_eq!(read_back(&store, &stored[6].chunks).unwrap(), files[6]);
    assert!(store.verify(&mut |_, _| {}).unwrap().is_ok());
}

#[test]
fn identical_and_shifted_content_is_deduplicated() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = random(1, 20 * MB);
    let (first, written) = store_counted(&store, &data);
    assert!(written.stored_bytes_written > 19 * MB as u64);
    let stored_before = store.usage().unwrap().stored_bytes;

    let (again, written) = store_counted(&store, &data);
    assert_eq!(again.new_chunks, 0);
    assert_eq!(written, WriteStats::default());
    assert_eq!(again.chunks, first.chunks);

    let mut shifted = random(2, 100);
    shifted.extend_from_slice(&data);
    let (moved, written) = store_counted(&store, &shifted);
    assert!(
        written.stored_bytes_written < (shifted.len() / 5) as u64,
        "shifting by 100 bytes rewrote {} of {} bytes",
        written.stored_bytes_written,
        shifted.len()
    );
    assert!(moved.new_chunks <= 2, "{} new chunks", moved.new_chunks);
    let usage = store.usage().unwrap();
    assert!(usage.stored_bytes < stored_before + 5 * MB as u64);
    assert_eq!(read_back(&store, &moved.chunks).unwrap(), shifted);

    // Within one session, before anything is indexed.
    let other = random(3, 6 * MB);
    let twice = store_all(&store, &[&other, &other]);
    assert!(twice[0].new_chunks > 0);
    assert_eq!(twice[1].new_chunks, 0);
}

#[test]
fn compressible_data_is_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = compressible(8 * MB);
    let (file, written) = store_counted(&store, &data);
    assert!(
        written.stored_bytes_written < (data.len() / 4) as u64,
        "{} bytes stored for {}",
        written.stored_bytes_written,
        data.len()
    );
    let usage = store.usage().unwrap();
    assert_eq!(usage.raw_bytes, data.len() as u64);
    assert!(usage.stored_bytes < usage.raw_bytes / 4);
    assert_eq!(read_back(&store, &file.chunks).unwrap(), data);
}

#[test]
fn two_writers_storing_the_same_data_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = random(4, 8 * MB);
    let results: Vec<StoredFile> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| s.spawn(|| store_one(&store, &data)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results[0].chunks, results[1].chunks);
    for file in &results {
        assert_eq!(read_back(&store, &file.chunks).unwrap(), data);
    }
    // A second process on the same folder reads it too.
    let other = open(dir.path());
    assert_eq!(read_back(&other, &results[1].chunks).unwrap(), data);
    let report = store.verify(&mut |_, _| {}).unwrap();
    assert!(report.is_ok(), "{report:?}");
    let ids: HashSet<_> = results[0].chunks.iter().map(|c| c.id).collect();
    assert_eq!(store.usage().unwrap().chunks, ids.len() as u64);
}

#[test]
fn a_corrupt_byte_is_reported_by_read_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = random(5, 3 * MB);
    let file = store_one(&store, &data);
    let packs = pack_files(dir.path());
    assert_eq!(packs.len(), 1);
    let mut bytes = fs::read(&packs[0]).unwrap();
    bytes[12 + 1000] ^= 0x55; // inside the first blob
    fs::write(&packs[0], &bytes).unwrap();

    // Blobs are packed in the order compression finishes: the error names the damaged one.
    let damaged = match read_back(&store, &file.chunks) {
        Err(Error::Corrupt { what }) => {
            assert!(what.contains(&pack_id(&packs[0])), "{what}");
            let damaged = file
                .chunks
                .iter()
                .find(|c| what.contains(&hex::encode(c.id)));
            damaged
                .expect("the error names a chunk of the file")
                .clone()
        }
        other => panic!("expected Corrupt, got {other:?}"),
    };
    let mut last = (0, 0);
    let report = store
        .verify(&mut |done, total| last = (done, total))
        .unwrap();
    assert_eq!(
        report.bad_chunks.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![damaged.id]
    );
    assert_eq!(report.bad_chunks[0].pack, pack_id(&packs[0]));
    assert_eq!(report.chunks_checked, file.chunks.len() as u64);
    assert!(!report.is_ok());
    assert_eq!(last.0, last.1);
    assert!(last.1 > 0);
    // The undamaged chunks still read.
    let intact: Vec<ChunkRef> = file
        .chunks
        .iter()
        .filter(|c| **c != damaged)
        .cloned()
        .collect();
    assert_eq!(intact.len(), file.chunks.len() - 1);
    read_back(&store, &intact).unwrap();
}

/// A long file is read by several threads, each every few chunks: what comes out is in the
/// recipe's order, and a damaged chunk in the middle stops the read there, after exactly the
/// chunks before it.
#[test]
fn a_long_file_reads_back_in_order_and_stops_at_a_damaged_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = random(9, 40 * MB);
    let file = store_one(&store, &data);
    assert!(file.chunks.len() >= 16, "{} chunks", file.chunks.len());
    assert_eq!(read_back(&store, &file.chunks).unwrap(), data);

    let packs = pack_files(dir.path());
    let pack = packs
        .iter()
        .find(|p| fs::metadata(p).unwrap().len() > 8 * MB as u64)
        .expect("a full pack");
    let mut bytes = fs::read(pack).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    fs::write(pack, &bytes).unwrap();

    let mut out = Vec::new();
    let what = match store.read_to(&file.chunks, &mut out) {
        Err(Error::Corrupt { what }) => what,
        other => panic!("expected Corrupt, got {other:?}"),
    };
    let damaged = file
        .chunks
        .iter()
        .position(|c| what.contains(&hex::encode(c.id)))
        .expect("the error names a chunk of the file");
    let before: usize = file.chunks[..damaged].iter().map(|c| c.len as usize).sum();
    assert_eq!(out.len(), before, "written before chunk {damaged}");
    assert!(out == data[..before], "the chunks before it, in order");
}

/// Damage in several blobs of one pack, between intact ones: the check (which reads a pack's
/// chunks on several threads, each reusing its buffers from chunk to chunk) names exactly the
/// chunks that no longer read, in the same order at every run, and counts every chunk once.
#[test]
fn verify_names_every_damaged_chunk_of_a_pack_and_only_those() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // Compressible and incompressible stretches: blobs of different sizes, decompressed into
    // the same buffers one after another.
    let mut data = random(11, 4 * MB);
    data.extend(compressible(4 * MB));
    data.extend(random(12, 4 * MB));
    let file = store_one(&store, &data);
    let packs = pack_files(dir.path());
    assert_eq!(packs.len(), 1);
    assert!(file.chunks.len() >= 6, "{} chunks", file.chunks.len());
    let mut bytes = fs::read(&packs[0]).unwrap();
    let len = bytes.len();
    for at in [12 + 100, len / 3, len / 2, 2 * len / 3] {
        bytes[at] ^= 0x55;
    }
    fs::write(&packs[0], &bytes).unwrap();
    let unreadable: HashSet<_> = file
        .chunks
        .iter()
        .filter(|c| read_back(&store, &[(*c).clone()]).is_err())
        .map(|c| c.id)
        .collect();
    assert!(
        unreadable.len() >= 2 && unreadable.len() < file.chunks.len(),
        "{} of {} chunks damaged",
        unreadable.len(),
        file.chunks.len()
    );

    let report = store.verify(&mut |_, _| {}).unwrap();
    let named: Vec<_> = report.bad_chunks.iter().map(|c| c.id).collect();
    assert_eq!(named.iter().copied().collect::<HashSet<_>>(), unreadable);
    assert_eq!(named.len(), unreadable.len(), "each named once: {named:?}");
    let again = store.verify(&mut |_, _| {}).unwrap();
    assert_eq!(
        again.bad_chunks, report.bad_chunks,
        "the same order each time"
    );
    let distinct: HashSet<_> = file.chunks.iter().map(|c| c.id).collect();
    assert_eq!(report.chunks_checked, distinct.len() as u64);
}

#[test]
fn a_truncated_pack_is_reported_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = random(6, 5 * MB);
    let file = store_one(&store, &data);
    let packs = pack_files(dir.path());
    let len = fs::metadata(&packs[0]).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&packs[0])
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    let report = store.verify(&mut |_, _| {}).unwrap();
    assert_eq!(
        report.bad_packs.iter().map(|p| &p.id).collect::<Vec<_>>(),
        vec![&pack_id(&packs[0])]
    );
    assert!(!report.bad_chunks.is_empty());
    let ids: HashSet<_> = file.chunks.iter().map(|c| c.id).collect();
    assert!(report.bad_chunks.iter().all(|c| ids.contains(&c.id)));
    assert!(
        report.bad_chunks.len() < file.chunks.len(),
        "the first half still reads"
    );
    assert!(matches!(
        read_back(&store, &file.chunks),
        Err(Error::Corrupt { .. })
    ));
}

/// A pack cut short by a few bytes loses its trailer only: its chunks still read, and the report
/// names every one of them, so the caller can say which files depend on the pack.
#[test]
fn a_pack_missing_its_last_bytes_names_the_chunks_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let file = store_one(&store, &random(9, 3 * MB));
    let other = store_one(&store, &random(10, 2 * MB));
    let packs = pack_files(dir.path());
    assert_eq!(packs.len(), 2);
    // The pack holding the first file's chunks.
    let holding = packs
        .iter()
        .find(|p| {
            let bytes = fs::read(p).unwrap();
            let id = file.chunks[0].id;
            bytes.windows(32).any(|w| w == id)
        })
        .unwrap()
        .clone();
    let len = fs::metadata(&holding).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&holding)
        .unwrap()
        .set_len(len - 30)
        .unwrap();

    let full = store.verify(&mut |_, _| {}).unwrap();
    assert!(!full.is_ok());
    assert!(full.bad_chunks.is_empty(), "every blob is intact: {full:?}");
    assert_eq!(full.bad_packs.len(), 1);
    assert_eq!(full.bad_packs[0].id, pack_id(&holding));
    let mut held = full.bad_packs[0].chunks.clone();
    held.sort();
    let mut expected: Vec<_> = file.chunks.iter().map(|c| c.id).collect();
    expected.sort();
    expected.dedup();
    assert_eq!(held, expected);

    // Checking only the first file's chunks finds the same damage; only the other file's, none.
    let part = store
        .verify_chunks(&file.chunks.iter().map(|c| c.id).collect(), &mut |_, _| {})
        .unwrap();
    assert_eq!(part.bad_packs, full.bad_packs);
    assert_eq!(part.chunks_checked, expected.len() as u64);
    let rest = store
        .verify_chunks(&other.chunks.iter().map(|c| c.id).collect(), &mut |_, _| {})
        .unwrap();
    assert!(rest.is_ok(), "{rest:?}");
    read_back(&store, &file.chunks).unwrap();
}

#[test]
fn garbage_and_missing_packs_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let file = store_one(&store, &random(7, 2 * MB));
    let packs = pack_files(dir.path());
    // Garbage under a valid pack name, and the real pack gone.
    let garbage_id = "ab".repeat(32);
    let garbage = dir
        .path()
        .join("packs/ab")
        .join(format!("{garbage_id}.pack"));
    fs::create_dir_all(garbage.parent().unwrap()).unwrap();
    fs::write(&garbage, random(8, 5000)).unwrap();
    fs::remove_file(&packs[0]).unwrap();

    let report = store.verify(&mut |_, _| {}).unwrap();
    assert_eq!(report.missing_packs, vec![pack_id(&packs[0])]);
    assert_eq!(
        report.bad_packs.iter().map(|p| &p.id).collect::<Vec<_>>(),
        vec![&garbage_id]
    );
    assert!(
        report.bad_packs[0].chunks.is_empty(),
        "garbage holds no indexed chunk"
    );
    assert_eq!(report.unindexed_packs, vec![garbage_id]);
    assert_eq!(report.bad_chunks.len(), file.chunks.len());
    assert!(matches!(
        read_back(&store, &file.chunks),
        Err(Error::Corrupt { .. })
    ));
    assert_eq!(store.rebuild_index().unwrap(), 0, "garbage is skipped");
}

#[test]
fn rebuild_index_restores_reads_after_losing_index_db() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = random(9, 40 * MB);
    let b = compressible(3 * MB);
    let files = store_all(&store, &[&a, &b]);
    let usage = store.usage().unwrap();
    assert!(usage.packs >= 2, "40 MB fills more than one pack");
    drop(store);
    for name in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = fs::remove_file(dir.path().join(name));
    }

    let store = open(dir.path());
    assert!(matches!(
        read_back(&store, &files[0].chunks),
        Err(Error::NotFound(_))
    ));
    assert_eq!(store.rebuild_index().unwrap(), usage.chunks);
    assert_eq!(read_back(&store, &files[0].chunks).unwrap(), a);
    assert_eq!(read_back(&store, &files[1].chunks).unwrap(), b);
    assert_eq!(store.usage().unwrap(), usage);
}

#[test]
fn gc_with_nothing_live_frees_everything() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store_one(&store, &random(10, 4 * MB));
    // Packs seal at 16 MiB in the order chunks come back from the compressors: 40 MB makes
    // at least two whatever that order (20 MB could fill one exactly with its last chunk).
    store_one(&store, &random(11, 40 * MB));
    let before = store.usage().unwrap();
    assert!(before.packs >= 3, "{before:?}");

    let report = store.gc(&HashSet::new()).unwrap();
    assert_eq!(u64::from(report.packs_deleted), before.packs);
    assert_eq!(report.chunks_removed, before.chunks);
    assert_eq!(report.bytes_freed, before.stored_bytes);
    assert_eq!(store.usage().unwrap(), Default::default());
    assert!(pack_files(dir.path()).is_empty());
}

#[test]
fn gc_keeps_live_files_readable_and_rewrites_sparse_packs() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let sizes = [3 * MB, 3 * MB, 4 * MB, 2 * MB];
    let data: Vec<Vec<u8>> = (0..4).map(|i| random(20 + i as u64, sizes[i])).collect();
    // Files 0 and 1 in packs of their own; 2 and 3 share one pack.
    let f0 = store_one(&store, &data[0]);
    let f1 = store_one(&store, &data[1]);
    let shared = store_all(&store, &[&data[2], &data[3]]);
    assert_eq!(store.usage().unwrap().packs, 3);

    // Keep half of the files: 0 (its whole pack) and 2 (two thirds of the shared pack).
    let live: HashSet<_> = f0
        .chunks
        .iter()
        .chain(&shared[0].chunks)
        .map(|c| c.id)
        .collect();
    let report = store.gc(&live).unwrap();
    assert_eq!(report.packs_deleted, 1, "{report:?}");
    assert_eq!(
        report.packs_rewritten, 0,
        "a mostly live pack is kept as is"
    );
    assert_eq!(
        report.chunks_removed,
        (f1.chunks.len() + shared[1].chunks.len()) as u64
    );
    assert_eq!(read_back(&store, &f0.chunks).unwrap(), data[0]);
    assert_eq!(read_back(&store, &shared[0].chunks).unwrap(), data[2]);
    assert!(!store.contains(&f1.chunks[0].id).unwrap());
    assert!(matches!(
        read_back(&store, &f1.chunks),
        Err(Error::NotFound(_))
    ));

    // Now keep only the first chunk of the shared pack: it gets rewritten.
    let third: Vec<ChunkRef> = shared[0].chunks[..1].to_vec();
    let live: HashSet<_> = f0.chunks.iter().chain(&third).map(|c| c.id).collect();
    let before = store.usage().unwrap();
    let report = store.gc(&live).unwrap();
    assert_eq!(report.packs_rewritten, 1, "{report:?}");
    assert_eq!(report.packs_deleted, 1);
    let after = store.usage().unwrap();
    assert_eq!(before.stored_bytes - after.stored_bytes, report.bytes_freed);
    assert!(report.bytes_freed > MB as u64);
    assert_eq!(
        read_back(&store, &third).unwrap(),
        data[2][..third[0].len as usize]
    );
    assert_eq!(read_back(&store, &f0.chunks).unwrap(), data[0]);
    let verify = store.verify(&mut |_, _| {}).unwrap();
    assert!(
        verify.is_ok() && verify.unindexed_packs.is_empty(),
        "{verify:?}"
    );
}

#[test]
fn gc_leaves_young_unindexed_packs_for_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let file = store_one(&store, &random(30, 2 * MB));
    // Simulate a pack another writer made durable but has not indexed yet.
    let pack = &pack_files(dir.path())[0];
    let young_id = "cd".repeat(32);
    let young = dir.path().join("packs/cd").join(format!("{young_id}.pack"));
    fs::create_dir_all(young.parent().unwrap()).unwrap();
    fs::copy(pack, &young).unwrap();
    fs::write(dir.path().join("packs/tmp-0123"), b"unfinished").unwrap();

    let report = store
        .gc(&file.chunks.iter().map(|c| c.id).collect())
        .unwrap();
    assert_eq!(report.packs_deleted, 0);
    assert!(young.exists());
    assert_eq!(tmp_files(dir.path()).len(), 1);
    let verify = store.verify(&mut |_, _| {}).unwrap();
    assert_eq!(verify.unindexed_packs, vec![young_id]);
    assert!(verify.is_ok());
}

#[test]
fn a_dropped_writer_leaves_no_pack_and_no_index_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = random(40, 20 * MB);
    let small = random(41, 1000);
    let stored = {
        let mut writer = store.writer();
        writer
            .store(&mut &small[..], &mut |_| {}, &never())
            .unwrap();
        writer.store(&mut &data[..], &mut |_| {}, &never()).unwrap()
        // dropped here, a full pack sealed and one open
    };
    assert!(pack_files(dir.path()).is_empty());
    assert!(tmp_files(dir.path()).is_empty());
    assert_eq!(store.usage().unwrap(), Default::default());
    assert!(!store.contains(&stored.chunks[0].id).unwrap());
}

#[test]
fn cancel_stops_the_store_and_indexes_nothing_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = random(50, 30 * MB);
    let mut writer = store.writer();

    let cancelled = AtomicBool::new(true);
    let result = writer.store(&mut &data[..], &mut |_| {}, &cancelled);
    assert!(matches!(result, Err(Error::Cancelled)));

    // Cancelled midway, after a pack was already sealed.
    let cancel = AtomicBool::new(false);
    let mut seen = 0;
    let result = writer.store(
        &mut &data[..],
        &mut |done| {
            seen = done;
            if done > 20 * MB as u64 {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(seen > 20 * MB as u64 && seen < data.len() as u64);

    // The writer still works for other files; only those get indexed.
    let other = random(51, 2 * MB);
    let kept = writer
        .store(&mut &other[..], &mut |_| {}, &never())
        .unwrap();
    let stats = writer.finish().unwrap();
    assert_eq!(stats.chunks_written, kept.chunks.len() as u64);
    assert_eq!(stats.raw_bytes_written, other.len() as u64);
    let usage = store.usage().unwrap();
    assert_eq!(usage.chunks, kept.chunks.len() as u64);
    assert_eq!(read_back(&store, &kept.chunks).unwrap(), other);

    // And storing the cancelled file again writes its chunks for real.
    let (again, written) = store_counted(&store, &data);
    assert_eq!(again.size, data.len() as u64);
    assert!(written.stored_bytes_written > 29 * MB as u64);
    assert_eq!(read_back(&store, &again.chunks).unwrap(), data);
}

#[test]
fn progress_reports_bytes_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let data = compressible(7 * MB);
    let mut calls = Vec::new();
    let mut writer = store.writer();
    let file = writer
        .store(&mut &data[..], &mut |n| calls.push(n), &never())
        .unwrap();
    writer.finish().unwrap();
    assert!(calls.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(calls.last().copied(), Some(file.size));
    assert_eq!(calls.len(), file.chunks.len());
}

#[test]
fn input_errors_are_reported_as_such() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("device unplugged"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(1);
            self.0 -= n;
            Ok(n)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut writer = store.writer();
    let result = writer.store(&mut Failing(9 * MB), &mut |_| {}, &never());
    assert!(matches!(result, Err(Error::Input(_))), "{result:?}");
    assert_eq!(writer.finish().unwrap().chunks_written, 0);
    assert!(pack_files(dir.path()).is_empty());
}

#[test]
fn a_failed_pack_write_poisons_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    // Chunks of at most 64 KiB: the queues between the reader and the packer hold a few dozen
    // chunks, under 2 MiB, however slowly the packer runs.
    let options = ChunkStoreOptions {
        min_chunk: 16 * 1024,
        avg_chunk: 32 * 1024,
        max_chunk: 64 * 1024,
        ..ChunkStoreOptions::default()
    };
    let store = ChunkStore::open(dir.path(), options).unwrap();
    let small = random(60, 1000);
    let mut writer = store.writer();
    writer
        .store(&mut &small[..], &mut |_| {}, &never())
        .unwrap();
    // The pack being written loses its folder: sealing it cannot succeed. (The packer thread
    // may add a file while the folder is being emptied: then it is emptied again.)
    let packs = dir.path().join("packs");
    loop {
        match fs::remove_dir_all(&packs) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => continue,
            Err(e) => panic!("remove {}: {e}", packs.display()),
        }
    }
    // Sealing happens on the packer thread: the store call that fills the pack, or a later
    // one, learns of the failure, and so does `finish` in any case.
    let big = random(61, 20 * MB);
    let mut results = vec![writer.store(&mut &big[..], &mut |_| {}, &never()).err()];
    for seed in 62..70 {
        let more = random(seed, 4 * MB);
        results.push(writer.store(&mut &more[..], &mut |_| {}, &never()).err());
    }
    // The first pack fills and fails to seal about 16 MiB in. The reader is never more than
    // the queues (under 2 MiB) ahead of the packer, so it learns of the failure before it has
    // read 4 MiB more: in the 20 MiB call or the one after it, whatever the threads' timing.
    // That call gets the write's own error; every call after it refuses.
    let first = results.iter().position(Option::is_some);
    let first = first.unwrap_or_else(|| panic!("no call failed: {results:?}"));
    assert!(first <= 1, "{results:?}");
    assert!(
        matches!(results[first], Some(Error::Io { .. })),
        "{results:?}"
    );
    for later in &results[first + 1..] {
        let msg = later.as_ref().map(Error::to_string).unwrap_or_default();
        assert!(msg.contains("earlier pack write"), "{results:?}");
    }
    let finished = writer.finish();
    assert!(finished.is_err(), "{finished:?}");
    // The small chunk was in the lost pack: it must not be indexed.
    assert!(!store.contains(blake3::hash(&small).as_bytes()).unwrap());
}

#[test]
fn disk_full_is_recognised() {
    let err = Error::Io {
        path: "packs/tmp-1".into(),
        source: std::io::Error::from_raw_os_error(libc::ENOSPC),
    };
    assert!(err.is_disk_full());
    let err = Error::Io {
        path: "packs/tmp-1".into(),
        source: std::io::Error::from_raw_os_error(libc::EACCES),
    };
    assert!(!err.is_disk_full());
}

/// Peak resident memory of this process, from /proc (Linux only).
fn peak_rss_mb() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Measures ingest speed on the binaries of an installed Rust toolchain (~500 MB).
/// `cargo test --release -p kura-chunkstore --test store -- --ignored --nocapture ingest`
#[test]
#[ignore = "measurement, run by hand"]
fn ingest_throughput_on_real_binaries() {
    let home = std::env::var("HOME").unwrap();
    let mut files = Vec::new();
    let mut total = 0u64;
    let toolchains = PathBuf::from(home).join(".rustup/toolchains");
    let mut names: Vec<_> = fs::read_dir(&toolchains)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    // One toolchain only: two would mostly deduplicate against each other.
    let mut stack = vec![names[0].join("lib")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() && meta.len() > 100_000 && total < 500 * MB as u64 {
                total += meta.len();
                files.push(path);
            }
        }
    }
    // Warm the page cache so the number is the store's speed, not the disk's.
    let mut buf = vec![0u8; 1 << 20];
    for f in &files {
        let mut input = fs::File::open(f).unwrap();
        while input.read(&mut buf).unwrap() > 0 {}
    }
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let start = std::time::Instant::now();
    let mut writer = store.writer();
    for f in &files {
        let mut input = fs::File::open(f).unwrap();
        writer.store(&mut input, &mut |_| {}, &never()).unwrap();
    }
    let stats = writer.finish().unwrap();
    let secs = start.elapsed().as_secs_f64();
    let usage = store.usage().unwrap();
    println!(
        "ingested {} files, {:.0} MB in {secs:.2} s = {:.0} MB/s; {:.0} MB after dedup, stored \
         {:.0} MB in {} packs ({} chunks); peak RSS {:?} MB",
        files.len(),
        total as f64 / 1e6,
        total as f64 / 1e6 / secs,
        usage.raw_bytes as f64 / 1e6,
        usage.stored_bytes as f64 / 1e6,
        stats.packs_written,
        usage.chunks,
        peak_rss_mb()
    );
    let start = std::time::Instant::now();
    let report = store.verify(&mut |_, _| {}).unwrap();
    println!(
        "verify: {:.0} MB/s raw",
        usage.raw_bytes as f64 / 1e6 / start.elapsed().as_secs_f64()
    );
    assert!(report.is_ok());
}

/// Stores a 4 GB generated stream and checks memory stays bounded.
/// `cargo test --release -p kura-chunkstore --test store -- --ignored --nocapture huge`
#[test]
#[ignore = "slow, run by hand"]
fn huge_stream_has_bounded_memory() {
    struct Generated {
        left: u64,
        xof: blake3::OutputReader,
    }
    impl Read for Generated {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = (buf.len() as u64).min(self.left) as usize;
            self.xof.fill(&mut buf[..n]);
            self.left -= n as u64;
            Ok(n)
        }
    }
    let size = 4_000_000_000u64;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let start = std::time::Instant::now();
    let mut input = Generated {
        left: size,
        xof: blake3::Hasher::new().update(b"huge").finalize_xof(),
    };
    let mut writer = store.writer();
    let file = writer.store(&mut input, &mut |_| {}, &never()).unwrap();
    writer.finish().unwrap();
    let secs = start.elapsed().as_secs_f64();
    let rss = peak_rss_mb();
    println!(
        "4 GB stream: {} chunks in {secs:.1} s = {:.0} MB/s, peak RSS {rss:?} MB",
        file.chunks.len(),
        size as f64 / 1e6 / secs
    );
    assert_eq!(file.size, size);
    if let Some(rss) = rss {
        assert!(rss < 300, "peak RSS {rss} MB");
    }
}
