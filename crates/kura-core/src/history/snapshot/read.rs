//! The read stage: read what changed, small files in parallel batches into the git pack, large
//! ones streamed through the chunk store, and add each file's entry to the new version.
//!
//! Three kinds of thread: a pool of readers (as many as the cores, or [`READERS`] when the files
//! are not in the page cache: [`readers_for`]) reads and encodes small files
//! ([`read_small`]), this thread appends them to the pack as they come (a few files at a time
//! over a channel of [`READ_QUEUE`] sends, within the [`ReadBudget`]), and meanwhile one more
//! thread streams the files known to be large into the chunk store ([`store_large`]). Files
//! found binary only once read go to the chunk store after that.

use std::sync::atomic::{AtomicU64, Ordering};

use kura_gitpack::{EncodedObject, ObjectKind};
use rayon::prelude::*;

use super::budget::{CloseOnDrop, ReadBudget};
use super::large_files::{store_large, LargeOutcome};
use super::namesakes::{may_be_namesake, Namesakes};
use super::small_files::{large_by_rule, read_small, Outcome, Run};
use super::tunables::{
    CACHE_PROBES, PROGRESS_INTERVAL, READERS, READ_QUEUE, RUN_MIN, SEND_BYTES, SEND_FILES,
};
use super::writers::{HistoryPack, Writers};
use super::{Context, Draft, Entry};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::files::{EntryKind, ScannedFile, SkippedFile};
use crate::fs::regular::{cached_at, Beneath};
use crate::history::deltas::Blob;
use crate::history::pointer::Pointer;
use crate::model::Layer;

/// The files to read, by where they go.
struct Split<'f> {
    /// Read whole into git blobs (unless found binary once read).
    small: Vec<&'f ScannedFile>,
    /// Streamed into the chunk store by size or name alone.
    large: Vec<&'f ScannedFile>,
}

/// What the parallel read leaves for later.
struct ReadInParallel<'f> {
    /// The files known to be large, stored (or not).
    stored_large: Vec<LargeOutcome<'f>>,
    /// Small files found to be binary once read.
    found_large: Vec<&'f ScannedFile>,
}

/// Reads `to_read` into the writers and adds their entries (or the reasons they were skipped) to
/// `draft`; returns the bytes read.
pub(super) fn read_changed(
    ctx: &Context<'_>,
    writers: &mut Writers<'_>,
    to_read: &[ScannedFile],
    draft: &mut Draft,
) -> Result<u64> {
    let (config, job) = (ctx.config, ctx.job);
    // Files are opened in the folder by their names in it, never through a link on the way.
    let root = &Beneath::new(ctx.root);
    let split = split_by_rule(to_read, config);
    let total_read_bytes: u64 = split
        .small
        .iter()
        .chain(split.large.iter())
        .map(|f| f.size)
        .sum();
    // Bytes read so far, by both of the threads below.
    let done = AtomicU64::new(0);
    let progress = |item: Option<&str>| {
        job.bytes(
            "storing",
            done.load(Ordering::Relaxed),
            Some(total_read_bytes),
            item,
        )
    };
    let ReadInParallel {
        stored_large,
        found_large,
    } = read_in_parallel(ctx, root, writers, &split, &done, &progress, draft)?;
    job.check()?;
    // Files found to be binary only once read go to the chunk store now.
    let stored_found = store_large(
        &mut writers.chunks,
        root,
        &found_large,
        job,
        &done,
        &progress,
    )?;
    add_pointers(
        config,
        &mut writers.history,
        stored_large.into_iter().chain(stored_found),
        draft,
    )?;
    Ok(done.load(Ordering::Relaxed))
}

/// Sorts the files to read into small and large.
fn split_by_rule<'f>(to_read: &'f [ScannedFile], config: &Config) -> Split<'f> {
    let mut large: Vec<&ScannedFile> = Vec::new();
    let mut small: Vec<&ScannedFile> = Vec::new();
    for f in to_read {
        if f.kind == EntryKind::File && large_by_rule(f, config) {
            large.push(f);
        } else {
            small.push(f);
        }
    }
    Split { small, large }
}

/// Small files: a pool of readers ([`readers_for`])
/// hash and deflate them; this thread appends the results to the pack as they come.
/// Meanwhile another thread streams the files known to be large into the chunk store.
fn read_in_parallel<'f, P>(
    ctx: &Context<'_>,
    root: &Beneath,
    writers: &mut Writers<'_>,
    split: &Split<'f>,
    done: &AtomicU64,
    progress: &P,
    draft: &mut Draft,
) -> Result<ReadInParallel<'f>>
where
    P: Fn(Option<&str>) + Sync,
{
    let (config, job) = (ctx.config, ctx.job);
    let Writers { chunks, history } = writers;
    let threads = readers_for(root, &split.small);
    let readers = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("kura-read-{i}"))
        .build()
        .map_err(|e| Error::internal(format!("cannot start reader threads: {e}")))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(usize, Outcome)>>(READ_QUEUE);
    let small_ref = &split.small;
    let cancelled = job.flag();
    let budget = ReadBudget::default();
    let budget = &budget;
    let namesakes = Namesakes::default();
    let namesakes = &namesakes;
    std::thread::scope(|scope| -> Result<ReadInParallel<'f>> {
        scope.spawn(move || {
            readers.install(|| {
                // Each run of files a reader takes in order, with what it knows of them. Runs
                // of RUN_MIN files at least (the first of a run has no base for a delta), unless
                // that would leave readers idle: a few files, each large, still share out.
                let start = || (Outbox::new(tx.clone(), namesakes), Run::default());
                let run_min = (small_ref.len() / (4 * threads)).clamp(1, RUN_MIN);
                small_ref
                    .par_iter()
                    .with_min_len(run_min)
                    .enumerate()
                    .for_each_init(start, |(outbox, run), (i, f)| {
                        if cancelled.load(Ordering::Relaxed) {
                            return;
                        }
                        if !budget.try_take(f.size) {
                            // What this reader holds must reach the writer before it waits
                            // for the writer to give bytes back.
                            outbox.send();
                            budget.take(f.size);
                        }
                        let outcome = read_small(root, f, config, i, run, namesakes, budget);
                        outbox.push(i, f, outcome);
                    })
            })
        });
        // From here on, however this ends, the budget closes, so that no reader waits on it
        // for a writer that is gone (the scope waits for the readers before it returns): also
        // when the large files' thread cannot start.
        let _closing = CloseOnDrop(budget);
        let large_ref = &split.large;
        let storing = std::thread::Builder::new()
            .name("kura-large".into())
            .spawn_scoped(scope, move || {
                store_large(chunks, root, large_ref, job, done, progress)
            })
            .map_err(|e| Error::internal(format!("cannot start a thread: {e}")))?;
        let found_large = append_small(rx, &split.small, budget, history, done, progress, draft)?;
        let stored_large = storing
            .join()
            .unwrap_or_else(|_| Err(Error::internal("storing large files panicked")))?;
        Ok(ReadInParallel {
            stored_large,
            found_large,
        })
    })
}

/// How many threads read and encode `small`: as many as the cores (up to [`READERS`]) when the
/// files are in the page cache already, else [`READERS`] (see there). A few files spread over
/// the list, each by its last byte, stand for all of them.
fn readers_for(root: &Beneath, small: &[&ScannedFile]) -> usize {
    let cores = std::thread::available_parallelism().map_or(READERS, |n| n.get().min(READERS));
    if cores == READERS {
        return READERS;
    }
    let step = (small.len() / CACHE_PROBES).max(1);
    let cached = small
        .iter()
        .step_by(step)
        .filter(|f| f.kind == EntryKind::File && f.size > 0)
        .take(CACHE_PROBES)
        .all(|f| match root.open_regular(&f.rel) {
            Ok((file, _)) => cached_at(&file, f.size - 1) == Some(true),
            // Gone or no longer a file since the scan: it says nothing of the others.
            Err(_) => true,
        });
    if cached {
        cores
    } else {
        READERS
    }
}

/// What a reader read, on its way to the writer a few files at a time: a send that finds the
/// writer waiting wakes it, a system call and a switch of threads, and small files come by the
/// tens of thousands. A blob stored whole that may be a namesake goes at once, and is noted
/// then: any delta against it comes after it, and the readers learn of it as soon as they can
/// (a namesake read while it waits would find no base).
struct Outbox<'n, 'f> {
    tx: std::sync::mpsc::SyncSender<Vec<(usize, Outcome)>>,
    namesakes: &'n Namesakes<'f>,
    outcomes: Vec<(usize, Outcome)>,
    /// The blobs among them stored whole that may be namesakes, to note once they are sent.
    whole: Vec<(&'f ScannedFile, kura_gitpack::Oid, usize)>,
    /// Bytes of the files among them (as the read budget counts them).
    bytes: u64,
}

impl<'n, 'f> Outbox<'n, 'f> {
    fn new(
        tx: std::sync::mpsc::SyncSender<Vec<(usize, Outcome)>>,
        namesakes: &'n Namesakes<'f>,
    ) -> Self {
        Outbox {
            tx,
            namesakes,
            outcomes: Vec::new(),
            whole: Vec::new(),
            bytes: 0,
        }
    }

    /// Adds the outcome of the `i`th file, sending what it holds once that is
    /// [`SEND_FILES`] files or [`SEND_BYTES`], or a namesake.
    fn push(&mut self, i: usize, f: &'f ScannedFile, outcome: Outcome) {
        let mut now = false;
        if let Outcome::Git(Blob::Whole(obj)) = &outcome {
            let len = obj.size as usize;
            now = may_be_namesake(len);
            if now {
                self.whole.push((f, obj.oid, len));
            }
        }
        self.outcomes.push((i, outcome));
        self.bytes += f.size;
        if now || self.outcomes.len() >= SEND_FILES || self.bytes >= SEND_BYTES {
            self.send();
        }
    }

    fn send(&mut self) {
        if self.outcomes.is_empty() {
            return;
        }
        let _ = self.tx.send(std::mem::take(&mut self.outcomes));
        self.bytes = 0;
        for (f, oid, len) in self.whole.drain(..) {
            self.namesakes.note(f, oid, len);
        }
    }
}

impl Drop for Outbox<'_, '_> {
    /// A reader's run of files is done: what it holds goes to the writer.
    fn drop(&mut self) {
        self.send();
    }
}

/// Appends the readers' blobs to the pack as they come, with their entries; returns the files
/// found to be binary once read.
fn append_small<'f>(
    rx: std::sync::mpsc::Receiver<Vec<(usize, Outcome)>>,
    small: &[&'f ScannedFile],
    budget: &ReadBudget,
    history: &mut HistoryPack<'_>,
    done: &AtomicU64,
    progress: &impl Fn(Option<&str>),
    draft: &mut Draft,
) -> Result<Vec<&'f ScannedFile>> {
    let mut found_large: Vec<&ScannedFile> = Vec::new();
    let mut last_report = std::time::Instant::now();
    for (i, outcome) in rx.into_iter().flatten() {
        let f = small[i];
        budget.give(f.size);
        let oid = match outcome {
            Outcome::Git(blob) => {
                history.add_new_blob(&blob)?;
                Some(blob.oid())
            }
            Outcome::Large => {
                found_large.push(f);
                None
            }
            Outcome::Skipped(reason) => {
                draft.skipped.push(SkippedFile {
                    path: f.rel.clone(),
                    reason,
                });
                None
            }
        };
        if let Some(oid) = oid {
            done.fetch_add(f.size, Ordering::Relaxed);
            draft.files_read += 1;
            draft
                .entries
                .push(changed_entry(f, oid, Layer::Git, f.size));
        }
        if last_report.elapsed() >= PROGRESS_INTERVAL {
            progress(None);
            last_report = std::time::Instant::now();
        }
    }
    Ok(found_large)
}

/// Stores a pointer blob in the pack for each file stored in the chunk store, with its entry.
fn add_pointers<'f>(
    config: &Config,
    history: &mut HistoryPack<'_>,
    outcomes: impl Iterator<Item = LargeOutcome<'f>>,
    draft: &mut Draft,
) -> Result<()> {
    for outcome in outcomes {
        let (f, stored) = match outcome {
            LargeOutcome::Stored(f, stored) => (f, stored),
            LargeOutcome::Skipped(f, reason) => {
                draft.skipped.push(SkippedFile {
                    path: f.rel.clone(),
                    reason,
                });
                continue;
            }
        };
        draft.files_read += 1;
        let pointer = Pointer {
            size: stored.size,
            hash: stored.hash,
            chunks: stored.chunks,
        }
        .encode();
        let obj = EncodedObject::encode(
            ObjectKind::Blob,
            &pointer,
            config.storage.history_compression_level,
        );
        history.add_new(&obj)?;
        draft
            .entries
            .push(changed_entry(f, obj.oid, Layer::Chunks, stored.size));
    }
    Ok(())
}

/// The entry of a file read now, whose content is stored in `layer` as `oid`: it changed in the
/// new version (or its last version is found later, by comparing with the previous one).
fn changed_entry(f: &ScannedFile, oid: [u8; 20], layer: Layer, size: u64) -> Entry {
    Entry {
        path: f.rel.clone(),
        mode: f.git_mode(),
        oid,
        layer,
        stat: Some(f.stat()),
        last_version: None,
        size,
        dirty: true,
    }
}
