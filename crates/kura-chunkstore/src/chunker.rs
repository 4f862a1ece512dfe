//! Content-defined chunking of a stream.
//!
//! The cut points are those of `fastcdc::v2020::StreamCDC` with its defaults (normalization
//! level 1, the original gear table), so stores written with either chunk alike and dedup
//! against each other. `StreamCDC` copies every chunk out of a buffer of `max` bytes, moves the
//! rest of the buffer to its front and zeroes the freed end, once per chunk. This chunker reads
//! into a buffer of two maximal chunks, cuts there and lends each chunk as a slice: the caller
//! copies only what it keeps, and the tail is moved once per refill of at least `max` bytes.

use std::io::{self, Read};

use fastcdc::v2020::{cut, Normalization, MASKS};

/// Buffer of this many maximal chunks: each refill reads at least one maximal chunk.
const BUFFER_CHUNKS: usize = 2;

/// Splits a stream into content-defined chunks; see the module documentation.
pub struct Chunker<R> {
    source: R,
    buffer: Vec<u8>,
    /// The bytes read and not yet handed out are `buffer[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    min: usize,
    avg: usize,
    max: usize,
    mask_s: u64,
    mask_l: u64,
}

impl<R: Read> Chunker<R> {
    /// A chunker with sizes `min` ≤ `avg` ≤ `max`, in the ranges `fastcdc::v2020` accepts.
    pub fn new(source: R, min: u32, avg: u32, max: u32) -> Chunker<R> {
        Chunker::with_buffer(source, min, avg, max, Vec::new())
    }

    /// Like [`Chunker::new`], reusing `buffer`'s allocation (see [`Chunker::into_buffer`]).
    pub fn with_buffer(source: R, min: u32, avg: u32, max: u32, mut buffer: Vec<u8>) -> Chunker<R> {
        let bits = fastcdc::v2020::logarithm2(avg);
        let normalization = Normalization::Level1.bits();
        let len = BUFFER_CHUNKS * max as usize;
        if buffer.len() != len {
            // A new buffer is asked for zeroed (`calloc`: the kernel maps zeroed pages as they
            // are first written), not filled with zeros here: a file of 300 KiB then touches
            // the pages it is read into, not all of 8 MiB.
            buffer = if buffer.capacity() >= len {
                buffer.clear();
                buffer.resize(len, 0);
                buffer
            } else {
                vec![0; len]
            };
        }
        Chunker {
            source,
            buffer,
            start: 0,
            end: 0,
            eof: false,
            min: min as usize,
            avg: avg as usize,
            max: max as usize,
            mask_s: MASKS[(bits + normalization) as usize],
            mask_l: MASKS[(bits - normalization) as usize],
        }
    }

    /// The next chunk, `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> io::Result<Option<&[u8]>> {
        // A cut needs `max` bytes ahead of it, or the end of the stream.
        if self.end - self.start < self.max && !self.eof {
            self.fill()?;
        }
        let ahead = &self.buffer[self.start..self.end];
        if ahead.is_empty() {
            return Ok(None);
        }
        let (_, len) = cut(
            ahead,
            self.min,
            self.avg,
            self.max,
            self.mask_s,
            self.mask_l,
            self.mask_s << 1,
            self.mask_l << 1,
        );
        let chunk = &self.buffer[self.start..self.start + len];
        self.start += len;
        Ok(Some(chunk))
    }

    /// Gives the buffer back for another chunker.
    pub fn into_buffer(self) -> Vec<u8> {
        self.buffer
    }

    /// Moves the unchunked tail to the front and reads until the buffer is full or the stream
    /// ends.
    fn fill(&mut self) -> io::Result<()> {
        self.buffer.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        while !self.eof && self.end < self.buffer.len() {
            match self.source.read(&mut self.buffer[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastcdc::v2020::StreamCDC;

    /// Pseudo-random bytes with some repetition, so that cuts fall at all kinds of places.
    fn data(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if (i / 5000) % 3 == 0 {
                    (i % 251) as u8
                } else {
                    x as u8
                }
            })
            .collect()
    }

    /// Reads at most `step` bytes per call, like a pipe or a slow disk.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn lengths_stream_cdc(data: &[u8], (min, avg, max): (u32, u32, u32)) -> Vec<usize> {
        StreamCDC::new(data, min, avg, max)
            .map(|c| c.unwrap().length)
            .collect()
    }

    fn chunks(mut c: Chunker<impl Read>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(chunk) = c.next_chunk().unwrap() {
            out.push(chunk.to_vec());
        }
        out
    }

    #[test]
    fn cuts_where_stream_cdc_cuts() {
        for (len, sizes) in [
            (0, (256, 1024, 4096)),
            (100, (256, 1024, 4096)),
            (256, (256, 1024, 4096)),
            (5000, (256, 1024, 4096)),
            (300_000, (256, 1024, 4096)),
            (300_000, (2048, 8192, 65536)),
            (3_000_000, (64 * 1024, 256 * 1024, 1024 * 1024)),
        ] {
            let d = data(len, len as u64);
            let expected = lengths_stream_cdc(&d, sizes);
            for step in [1 << 30, 4096, 777] {
                let got = chunks(Chunker::new(Trickle(&d, step), sizes.0, sizes.1, sizes.2));
                let lengths: Vec<usize> = got.iter().map(Vec::len).collect();
                assert_eq!(lengths, expected, "len {len}, sizes {sizes:?}, step {step}");
                assert_eq!(got.concat(), d);
            }
        }
    }

    #[test]
    fn a_reused_buffer_gives_the_same_chunks() {
        let (a, b) = (data(200_000, 1), data(150_000, 2));
        let first = Chunker::new(&a[..], 256, 1024, 4096);
        let fresh = chunks(Chunker::new(&b[..], 256, 1024, 4096));
        let mut c = first;
        while c.next_chunk().unwrap().is_some() {}
        let reused = chunks(Chunker::with_buffer(
            &b[..],
            256,
            1024,
            4096,
            c.into_buffer(),
        ));
        assert_eq!(reused, fresh);
    }

    #[test]
    fn read_errors_are_returned() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("device unplugged"))
            }
        }
        let mut c = Chunker::new(Broken, 256, 1024, 4096);
        let err = c.next_chunk().unwrap_err();
        assert_eq!(err.to_string(), "device unplugged");
    }
}
