//! The archive file as two writers fill it at once: the first zstd frame (the tar stream's head,
//! `metadata.json` and the history bundle, in stored blocks: git has deflated the history
//! already) by one thread, and the compressed frames after it (the tail) by the calling one;
//! then the first thread reads back and hashes what the other wrote.

use std::collections::HashSet;
use std::io::{BufWriter, Seek, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender};

use git2::Oid;
use tempfile::NamedTempFile;

use super::bundle::{bundle_failed, Bundle};
use super::rawframe;
use super::streams::{write_error, StopWriter};
use super::tail::Tail;
use super::tunables::WRITE_BUFFER;
use super::{plain_header, ArchiveMetadata, BUNDLE_MISSING};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::vault::Vault;

/// The first frame: the head of the tar stream, then the bundle and its padding.
pub(super) struct FirstFrame {
    /// The tar stream before the bundle's bytes: `metadata.json`, the records, the bundle's
    /// header.
    head: Vec<u8>,
    /// Zeros after the bundle, up to the tar stream's next block.
    padding: u64,
    /// Bytes of the tar stream the frame holds.
    pub(super) content: u64,
    /// Bytes the frame takes in the file.
    pub(super) len: u64,
}

/// What the two writers made of the file.
pub(super) struct Frames {
    pub(super) tail: Tail,
    /// SHA-256 of the whole file, hex.
    pub(super) sha256: String,
}

impl Vault {
    /// The head of the tar stream: metadata.json first (so `tar -xO` finds it fast), then the
    /// bundle's tar header; the bundle and its padding follow.
    pub(super) fn first_frame(
        &self,
        meta: &ArchiveMetadata,
        top: &Path,
        bundle: &Bundle,
        dest: &Path,
    ) -> Result<FirstFrame> {
        let io = |e: std::io::Error| write_error(dest, e);
        let mut head_tar = tar::Builder::new(Vec::new());
        head_tar.mode(tar::HeaderMode::Complete);
        let meta_json = serde_json::to_vec_pretty(meta)
            .map_err(|e| Error::internal(format!("cannot write metadata.json: {e}")))?;
        let mut h = plain_header(meta_json.len() as u64, 0o644, meta.archived_at);
        head_tar
            .append_data(&mut h, top.join("metadata.json"), &meta_json[..])
            .map_err(io)?;
        if let Some((lines, collections)) = self.records_for_archive(&meta.id)? {
            for (name, bytes) in [
                (crate::records::ARCHIVE_RECORDS, lines),
                (crate::records::ARCHIVE_COLLECTIONS, collections),
            ] {
                let mut h = plain_header(bytes.len() as u64, 0o644, meta.archived_at);
                head_tar
                    .append_data(&mut h, top.join(name), &bytes[..])
                    .map_err(io)?;
            }
        }
        let mut h = plain_header(bundle.len(), 0o644, meta.archived_at);
        // Only the header: the bundle itself is written by the frame's thread.
        head_tar
            .append_data(&mut h, top.join("history.bundle"), std::io::empty())
            .map_err(io)?;
        let head = std::mem::take(head_tar.get_mut());
        let padding = (512 - bundle.len() % 512) % 512;
        let content = head.len() as u64 + bundle.len() + padding;
        Ok(FirstFrame {
            head,
            padding,
            content,
            len: rawframe::frame_len(content),
        })
    }
}

/// Writes the first frame at the start of `tmp` on a thread of its own while `write_tail`
/// writes the rest after it (it receives the bundle's pointer candidates once the bundle is
/// written); returns what the tail wrote and the file's SHA-256.
pub(super) fn write_frames(
    tmp: &NamedTempFile,
    first: &FirstFrame,
    bundle: &Bundle,
    dest: &Path,
    job: &Job,
    write_tail: impl FnOnce(
        BufWriter<rawframe::Publishing<'_>>,
        &Receiver<HashSet<Oid>>,
    ) -> Result<Tail>,
) -> Result<Frames> {
    let io = |e: std::io::Error| write_error(dest, e);
    let frame_file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io("write", tmp.path(), e))?;
    let mut tail_file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io("write", tmp.path(), e))?;
    tail_file
        .seek(std::io::SeekFrom::Start(first.len))
        .map_err(io)?;
    let published = rawframe::Published::default();
    let (candidates_tx, candidates_rx) = std::sync::mpsc::channel();
    let (tail, hashed) = std::thread::scope(|s| {
        let frame_thread = s.spawn(|| {
            write_first_frame(
                &frame_file,
                first,
                bundle,
                &published,
                candidates_tx,
                dest,
                job,
            )
        });
        let _end = rawframe::EndGuard(&published);
        let sink = rawframe::Publishing::new(tail_file, first.len, &published);
        let tail = write_tail(BufWriter::with_capacity(WRITE_BUFFER, sink), &candidates_rx);
        published.end(tail.is_ok());
        let hashed = frame_thread
            .join()
            .unwrap_or_else(|_| Err(Error::internal("the archive writer thread panicked")));
        (tail, hashed)
    });
    // When the frame's thread fails, the tail only sees the bundle missing: its error is the
    // one to tell. When the tail fails, the frame's thread stops and has nothing to tell.
    let (tail, hashed) = match (tail, hashed) {
        (Ok(tail), Ok(hashed)) => (tail, hashed),
        (Err(e), Err(frame)) if e.message() == BUNDLE_MISSING => return Err(frame),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let sha256 = hashed
        .map(hex::encode)
        .ok_or_else(|| Error::internal("the archive's checksum was not computed"))?;
    Ok(Frames { tail, sha256 })
}

/// The first frame's thread: the tar head, the bundle, its padding, then the candidates sent to
/// the tail and the rest of the file hashed as the tail publishes it.
fn write_first_frame(
    frame_file: &std::fs::File,
    first: &FirstFrame,
    bundle: &Bundle,
    published: &rawframe::Published,
    // Taken, not borrowed: when this thread fails before it sends, the sender goes with it, so
    // the tail's wait for the candidates ends (the bundle missing) instead of blocking for ever.
    candidates_tx: Sender<HashSet<Oid>>,
    dest: &Path,
    job: &Job,
) -> Result<Option<[u8; 32]>> {
    let io = |e: std::io::Error| write_error(dest, e);
    let frame = rawframe::RawFrame::new(frame_file, 0, first.content).map_err(io)?;
    // Stops when the job is cancelled or the rest of the archive failed.
    let mut frame = StopWriter {
        inner: frame,
        stop: &|| job.is_cancelled() || published.failed(),
    };
    frame.write_all(&first.head).map_err(io)?;
    let candidates = bundle.write(&mut frame).map_err(|e| {
        if job.is_cancelled() {
            Error::cancelled()
        } else {
            e
        }
    })?;
    frame
        .write_all(&[0u8; 512][..first.padding as usize])
        .map_err(io)?;
    let hasher = frame.inner.finish().map_err(|e| bundle_failed(&e))?;
    let _ = candidates_tx.send(candidates);
    rawframe::follow(frame_file, first.len, published, hasher).map_err(io)
}
