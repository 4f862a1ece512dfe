//! Large and binary files: streamed through the chunk store, which a version's git blob then
//! points to.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Result;
use crate::files::ScannedFile;
use crate::fs::regular::Beneath;
use crate::job::Job;

/// What became of a file meant for the chunk store.
pub(super) enum LargeOutcome<'f> {
    Stored(&'f ScannedFile, kura_chunkstore::StoredFile),
    /// It could not be read (the reason).
    Skipped(&'f ScannedFile, String),
}

/// Streams `files` into the chunk store, adding what is read to `done` and reporting progress.
pub(super) fn store_large<'f>(
    chunk_writer: &mut kura_chunkstore::ChunkWriter<'_>,
    root: &Beneath,
    files: &[&'f ScannedFile],
    job: &Job,
    done: &AtomicU64,
    progress: &(dyn Fn(Option<&str>) + Sync),
) -> Result<Vec<LargeOutcome<'f>>> {
    let mut out = Vec::with_capacity(files.len());
    for &f in files {
        job.check()?;
        let file = match root.open_regular(&f.rel) {
            Ok((file, _)) => file,
            Err(e) => {
                out.push(LargeOutcome::Skipped(f, e.to_string()));
                continue;
            }
        };
        let mut counted = 0u64;
        let stored = {
            let mut report = |n: u64| {
                done.fetch_add(n - counted, Ordering::Relaxed);
                counted = n;
                progress(Some(&f.rel));
            };
            let mut file = kura_chunkstore::ReadAhead::new(file);
            chunk_writer.store(&mut file as &mut dyn Read, &mut report, job.flag())
        };
        match stored {
            Ok(stored) => {
                done.fetch_add(stored.size.saturating_sub(counted), Ordering::Relaxed);
                out.push(LargeOutcome::Stored(f, stored));
            }
            Err(kura_chunkstore::Error::Input(source)) => {
                done.fetch_sub(counted, Ordering::Relaxed);
                out.push(LargeOutcome::Skipped(f, source.to_string()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}
