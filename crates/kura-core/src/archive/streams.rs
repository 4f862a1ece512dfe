//! The readers and writers the archive's bytes flow through: counting, stopping on cancel,
//! reading a file exactly as long as its tar header says; and what a failed write is told as.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use super::tunables::{PROGRESS_BYTES, READ_CHUNK};
use crate::error::{Error, ErrorKind};
use crate::job::Job;

/// Counts the bytes written into the compressor (the archive's content size).
pub(super) struct CountWriter<W> {
    pub(super) inner: W,
    pub(super) bytes: u64,
}

impl<W: Write> Write for CountWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The marker inside an `io::Error` that means "the job was cancelled".
#[derive(Debug)]
pub(super) struct CancelledIo;

impl std::fmt::Display for CancelledIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for CancelledIo {}

pub(super) fn is_cancel(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<CancelledIo>())
}

/// Fails writes with [`CancelledIo`] once `stop` says so.
pub(super) struct StopWriter<'a, W> {
    pub(super) inner: W,
    pub(super) stop: &'a dyn Fn() -> bool,
}

impl<W: Write> Write for StopWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.stop)() {
            return Err(std::io::Error::other(CancelledIo));
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Reads exactly `size` bytes of a file for the tar stream, reporting progress and stopping
/// when the job is cancelled; a file that shrank or grew meanwhile is an error (the tar header
/// already holds its size).
pub(super) struct FileReader<'a> {
    pub(super) inner: File,
    pub(super) left: u64,
    pub(super) path: &'a Path,
    pub(super) job: &'a Job,
    /// What it counts its bytes into (none for a file read ahead: it is counted once
    /// appended).
    pub(super) progress: Option<&'a mut Progress>,
}

/// Bytes archived so far, of how many, and when progress was last told.
pub(super) struct Progress {
    pub(super) done: u64,
    pub(super) total: u64,
    pub(super) reported: u64,
}

impl Progress {
    /// Counts `n` more bytes archived (of the file at `path`), telling `job` every
    /// [`PROGRESS_BYTES`].
    pub(super) fn advance(&mut self, n: u64, job: &Job, path: &Path) {
        self.done += n;
        if self.done - self.reported >= PROGRESS_BYTES {
            self.reported = self.done;
            job.bytes("archiving", self.done, Some(self.total), path.to_str());
        }
    }
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.job.is_cancelled() {
            return Err(std::io::Error::other(CancelledIo));
        }
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(format!(
                    "{} grew while it was being archived; archive again",
                    self.path.display()
                ))),
            };
        }
        let want = buf.len().min(self.left as usize).min(READ_CHUNK);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::other(format!(
                "{} shrank while it was being archived; archive again",
                self.path.display()
            )));
        }
        self.left -= n as u64;
        if let Some(p) = self.progress.as_deref_mut() {
            p.advance(n as u64, self.job, self.path);
        }
        Ok(n)
    }
}

/// What a failed write of the archive `dest` is told as: cancelled, disk full, or another I/O
/// error.
pub(super) fn write_error(dest: &Path, e: std::io::Error) -> Error {
    if is_cancel(&e) {
        Error::cancelled()
    } else if crate::error::is_disk_full(&e) {
        Error::new(
            ErrorKind::DiskFull,
            format!(
                "the disk is full while writing {}; free some space and try again",
                dest.display()
            ),
        )
    } else {
        Error::new(
            ErrorKind::Io,
            format!("cannot write the archive {}: {e}", dest.display()),
        )
    }
}
