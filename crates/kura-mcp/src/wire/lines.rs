//! Lines of the input, each at most a given length: a longer line is reported as soon as it
//! crosses the limit and then skipped to its end, never held in memory whole.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// How much of a line over the limit is kept, to find its request's `id`.
const KEPT_OF_A_LONG_LINE: usize = 64 << 10;

/// How much is read from the input at a time.
const READ_BUFFER: usize = 256 << 10;

/// The most memory kept for the next line once a line has been read.
const RETAINED_LINE_BUFFER: usize = 1 << 20;

/// What [`Lines::next`] found.
pub(super) enum Line<'a> {
    /// A whole line, without its `\n`.
    Whole(&'a [u8]),
    /// A line longer than the limit: its first bytes. The rest is skipped by the next calls.
    TooLong(&'a [u8]),
    /// The end of the input.
    End,
}

pub(super) struct Lines<R> {
    input: BufReader<R>,
    max: usize,
    line: Vec<u8>,
    /// Skipping the rest of a line that was too long.
    skipping: bool,
}

impl<R: AsyncRead + Unpin> Lines<R> {
    pub(super) fn new(input: R, max: usize) -> Self {
        Lines {
            input: BufReader::with_capacity(READ_BUFFER, input),
            max,
            line: Vec::new(),
            skipping: false,
        }
    }

    /// The next line. A last line without `\n` counts as a line.
    pub(super) async fn next(&mut self) -> io::Result<Line<'_>> {
        if self.line.capacity() > RETAINED_LINE_BUFFER {
            // A long line was read: give its memory back rather than keep it for the session.
            self.line = Vec::new();
        }
        self.line.clear();
        loop {
            let available = self.input.fill_buf().await?;
            if available.is_empty() {
                let ended_in_a_line = !self.line.is_empty() && !self.skipping;
                self.skipping = false;
                return Ok(if ended_in_a_line {
                    Line::Whole(&self.line)
                } else {
                    Line::End
                });
            }
            let newline = available.iter().position(|b| *b == b'\n');
            let part = &available[..newline.unwrap_or(available.len())];
            let used = part.len() + usize::from(newline.is_some());
            if self.skipping {
                self.input.consume(used);
                if newline.is_some() {
                    self.skipping = false;
                }
                continue;
            }
            if self.line.len() + part.len() > self.max {
                let keep = KEPT_OF_A_LONG_LINE
                    .min(self.max)
                    .saturating_sub(self.line.len())
                    .min(part.len());
                self.line.extend_from_slice(&part[..keep]);
                self.line.truncate(KEPT_OF_A_LONG_LINE);
                self.input.consume(used);
                self.skipping = newline.is_none();
                return Ok(Line::TooLong(&self.line));
            }
            self.line.extend_from_slice(part);
            self.input.consume(used);
            if newline.is_some() {
                return Ok(Line::Whole(&self.line));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(input: &[u8], max: usize) -> Vec<String> {
        let mut lines = Lines::new(input, max);
        let mut seen = Vec::new();
        loop {
            match lines.next().await.unwrap() {
                Line::Whole(l) => seen.push(format!("line {}", String::from_utf8_lossy(l))),
                Line::TooLong(l) => seen.push(format!("long {}", String::from_utf8_lossy(l))),
                Line::End => return seen,
            }
        }
    }

    #[tokio::test]
    async fn a_long_line_is_reported_once_and_skipped() {
        assert_eq!(
            all(b"ab\nabcdefgh\ncd\nabcdefghij", 4).await,
            ["line ab", "long abcd", "line cd", "long abcd"]
        );
        assert_eq!(all(b"abcd\n\nx", 4).await, ["line abcd", "line ", "line x"]);
        assert!(all(b"", 4).await.is_empty());
    }
}
