//! Reading a file from start to end with the disk kept busy ahead of the reader.

use std::fs::File;
use std::io::{self, Read};
use std::num::NonZeroU64;

/// How far ahead of the reader the kernel is asked to have read.
const WINDOW: u64 = 32 << 20;

/// A file read sequentially. The kernel is told (`posix_fadvise(WILLNEED)`) to read up to two
/// [`WINDOW`]s beyond what was read, a window at a time, so a file that is not in the page cache
/// streams from the disk while its chunks are hashed and compressed, instead of each read waiting
/// for the disk in turn. For a file already cached the advice finds nothing to do.
pub struct ReadAhead {
    file: File,
    pos: u64,
    /// Where the advice given so far ends.
    advised: u64,
}

impl ReadAhead {
    /// Starts reading `file` at its current position, which must be its start.
    pub fn new(file: File) -> ReadAhead {
        let mut r = ReadAhead {
            file,
            pos: 0,
            advised: 0,
        };
        r.advise();
        r
    }

    fn advise(&mut self) {
        if self.advised >= self.pos + WINDOW {
            return;
        }
        let from = self.advised.max(self.pos);
        let end = self.pos + 2 * WINDOW;
        // Advice only: where it is refused or unknown, reads are just not helped.
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        let _ = rustix::fs::fadvise(
            &self.file,
            from,
            NonZeroU64::new(end - from),
            rustix::fs::Advice::WillNeed,
        );
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
        let _ = NonZeroU64::new(end - from);
        self.advised = end;
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.pos += n as u64;
        self.advise();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_the_whole_file_in_order() {
        let mut f = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..3 * WINDOW as usize / 2 + 7)
            .map(|i| (i % 251) as u8)
            .collect();
        f.write_all(&data).unwrap();
        use std::io::Seek;
        f.rewind().unwrap();
        let mut back = Vec::new();
        ReadAhead::new(f).read_to_end(&mut back).unwrap();
        assert!(back == data, "{} bytes read of {}", back.len(), data.len());
    }
}
