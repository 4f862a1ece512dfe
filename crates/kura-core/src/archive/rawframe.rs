//! Two pieces that let an archive be written from two threads at once.
//!
//! [`RawFrame`] writes a zstd frame of raw (stored) blocks, RFC 8878 §3.1.1: its size follows
//! from the length of its content alone, so the part of the file after it can be written at the
//! same time, by another thread. [`Follower`] computes the SHA-256 of a file from its start while
//! another writer appends to it, reading back what that writer has published.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::{Condvar, Mutex};

use sha2::{Digest, Sha256};

/// The largest block zstd allows (and the window this frame declares).
const BLOCK: usize = 128 << 10;
/// Frame magic, frame header descriptor (an 8-byte content size, no single segment, no checksum,
/// no dictionary) and window descriptor (2^17 bytes).
const FRAME_HEADER: [u8; 6] = [0x28, 0xB5, 0x2F, 0xFD, 0xC0, 0x38];

/// Bytes a frame of raw blocks holding `content` bytes takes.
pub(crate) fn frame_len(content: u64) -> u64 {
    let blocks = content.div_ceil(BLOCK as u64).max(1);
    FRAME_HEADER.len() as u64 + 8 + blocks * 3 + content
}

/// Writes a frame of exactly `content` bytes, stored, at `offset` of `file`, hashing the bytes
/// of the frame as they are written.
pub(crate) struct RawFrame<'a> {
    file: &'a File,
    at: u64,
    left: u64,
    buf: Vec<u8>,
    hasher: Sha256,
}

impl<'a> RawFrame<'a> {
    pub fn new(file: &'a File, offset: u64, content: u64) -> std::io::Result<RawFrame<'a>> {
        let mut f = RawFrame {
            file,
            at: offset,
            left: content,
            buf: Vec::with_capacity(BLOCK),
            hasher: Sha256::new(),
        };
        let mut header = FRAME_HEADER.to_vec();
        header.extend_from_slice(&content.to_le_bytes());
        f.put(&header)?;
        Ok(f)
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all_at(bytes, self.at)?;
        self.hasher.update(bytes);
        self.at += bytes.len() as u64;
        Ok(())
    }

    /// Writes the buffered block, `last` or not.
    fn block(&mut self, last: bool) -> std::io::Result<()> {
        let header = ((self.buf.len() as u32) << 3) | u32::from(last);
        let mut data = std::mem::take(&mut self.buf);
        self.put(&header.to_le_bytes()[..3])?;
        self.put(&data)?;
        data.clear();
        self.buf = data;
        Ok(())
    }

    /// Ends the frame; fails when the content was not exactly the announced length. Returns the
    /// hash of the frame so far, to go on with what follows it.
    pub fn finish(mut self) -> std::io::Result<Sha256> {
        if self.left != 0 {
            return Err(std::io::Error::other(format!(
                "{} bytes fewer than planned were written",
                self.left
            )));
        }
        self.block(true)?;
        Ok(self.hasher)
    }
}

impl std::io::Write for RawFrame<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if data.len() as u64 > self.left {
            return Err(std::io::Error::other(
                "more bytes than planned were written",
            ));
        }
        let n = data.len().min(BLOCK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        self.left -= n as u64;
        // The block that holds the last byte is written by `finish`, marked last.
        if self.buf.len() == BLOCK && self.left > 0 {
            self.block(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the writer of the file's tail has published: bytes written from the start of the tail,
/// and whether it is done (or gave up).
#[derive(Default)]
pub(crate) struct Published {
    state: Mutex<(u64, Option<bool>)>,
    changed: Condvar,
}

impl Published {
    /// `n` more bytes are in the file.
    pub fn advance(&self, n: u64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 += n;
        self.changed.notify_all();
    }

    /// The writer is done: `ok`, or it failed and the follower should stop. The first call
    /// counts.
    pub fn end(&self, ok: bool) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.1.get_or_insert(ok);
        self.changed.notify_all();
    }

    /// True once the writer ended with a failure.
    pub fn failed(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 == Some(false)
    }

    /// Waits until more than `seen` bytes are published or the writer ended; returns the bytes
    /// published and how it ended.
    fn wait_past(&self, seen: u64) -> (u64, Option<bool>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while s.0 <= seen && s.1.is_none() {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        *s
    }
}

/// Ends [`Published`] as failed when dropped before the writer ended it (the writer panicked),
/// so that the follower does not wait forever.
pub(crate) struct EndGuard<'a>(pub &'a Published);

impl Drop for EndGuard<'_> {
    fn drop(&mut self) {
        self.0.end(false);
    }
}

/// A file writer that publishes each write to [`Published`] (for [`follow`]).
pub(crate) struct Publishing<'a> {
    file: File,
    published: &'a Published,
    /// Where the next write lands in the file.
    end: u64,
    writeback: kura_durable::Writeback,
}

impl<'a> Publishing<'a> {
    /// Writes into `file`, whose position is `at`, publishing what it wrote to `published`.
    pub(crate) fn new(file: File, at: u64, published: &'a Published) -> Self {
        Publishing {
            file,
            published,
            end: at,
            writeback: kura_durable::Writeback::starting_at(at),
        }
    }
}

impl std::io::Write for Publishing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.published.advance(n as u64);
        self.end += n as u64;
        self.writeback.written_to(&self.file, self.end);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Goes on with `hasher` over the bytes of `file` from `offset` as they are published; returns
/// the SHA-256 once the writer is done, `None` when it failed.
pub(crate) fn follow(
    file: &File,
    offset: u64,
    published: &Published,
    mut hasher: Sha256,
) -> std::io::Result<Option<[u8; 32]>> {
    let mut buf = vec![0u8; 1 << 20];
    let mut seen = 0u64;
    loop {
        let (total, ended) = published.wait_past(seen);
        match ended {
            Some(false) => return Ok(None),
            Some(true) if total == seen => return Ok(Some(hasher.finalize().into())),
            _ => {}
        }
        while seen < total {
            let want = buf.len().min((total - seen) as usize);
            file.read_exact_at(&mut buf[..want], offset + seen)?;
            hasher.update(&buf[..want]);
            seen += want as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};

    #[test]
    fn a_raw_frame_is_read_by_zstd_and_followed_by_a_compressed_one() {
        for content in [1usize, 511, BLOCK, BLOCK + 1, 3 * BLOCK + 7] {
            let data: Vec<u8> = (0..content).map(|i| (i * 7 % 251) as u8).collect();
            let mut file = tempfile::tempfile().unwrap();
            let head = frame_len(content as u64);
            let published = Published::default();
            let whole = std::thread::scope(|s| {
                let reader = file.try_clone().unwrap();
                let published = &published;
                let follower = s.spawn(move || {
                    let mut frame = RawFrame::new(&reader, 0, content as u64).unwrap();
                    frame.write_all(&data[..content / 2]).unwrap();
                    frame.write_all(&data[content / 2..]).unwrap();
                    let hasher = frame.finish().unwrap();
                    follow(&reader, head, published, hasher).unwrap()
                });
                let mut tail = file.try_clone().unwrap();
                tail.seek(std::io::SeekFrom::Start(head)).unwrap();
                let tail = Publishing::new(tail, head, published);
                let mut z = zstd::stream::write::Encoder::new(tail, 3).unwrap();
                z.write_all(b" and after it, compressed").unwrap();
                z.finish().unwrap();
                published.end(true);
                follower.join().unwrap()
            });
            let mut bytes = Vec::new();
            file.seek(std::io::SeekFrom::Start(0)).unwrap();
            file.read_to_end(&mut bytes).unwrap();
            let decoded = zstd::stream::decode_all(&bytes[..]).unwrap();
            let mut want: Vec<u8> = (0..content).map(|i| (i * 7 % 251) as u8).collect();
            want.extend_from_slice(b" and after it, compressed");
            assert_eq!(decoded, want, "content of {content} bytes");
            let expected: [u8; 32] = Sha256::digest(&bytes).into();
            assert_eq!(whole, Some(expected), "the followed hash is the file's");
        }
    }

    #[test]
    fn a_frame_refuses_more_or_fewer_bytes_than_planned() {
        let file = tempfile::tempfile().unwrap();
        let mut frame = RawFrame::new(&file, 0, 4).unwrap();
        assert!(frame.write_all(b"12345").is_err());
        let mut frame = RawFrame::new(&file, 0, 4).unwrap();
        frame.write_all(b"123").unwrap();
        assert!(frame.finish().is_err());
    }
}
