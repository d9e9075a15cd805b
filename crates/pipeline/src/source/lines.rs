//! Reading newline-delimited records with a size limit that holds even for a
//! line of gigabytes: bytes past the limit are counted, not kept.

use std::io::{self, BufRead};

/// How much of an over-long line is kept for the dead letter.
pub const KEEP_PREFIX: usize = 4096;

/// One line.
#[derive(Debug, PartialEq)]
pub enum Line<'a> {
    /// A line within the limit (without its `\n` / `\r\n`).
    Record { line_no: u64, bytes: &'a [u8] },
    /// A line over the limit: its length and its first bytes.
    TooLong {
        line_no: u64,
        len: usize,
        prefix: &'a [u8],
    },
}

/// Splits a byte stream into lines, 1-based line numbers.
pub struct LineReader<R> {
    inner: R,
    max: usize,
    line_no: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// Lines longer than `max` bytes come back as [`Line::TooLong`].
    pub fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            max,
            line_no: 0,
            buf: Vec::new(),
        }
    }

    /// The next non-blank line, or `None` at the end. Blank lines are skipped
    /// (they hold no record) and counted in `blank`.
    pub fn next_line(&mut self, blank: &mut u64) -> io::Result<Option<Line<'_>>> {
        loop {
            self.buf.clear();
            let mut len = 0usize;
            let mut saw_any = false;
            loop {
                let chunk = self.inner.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                saw_any = true;
                let (take, done) = match memchr::memchr(b'\n', chunk) {
                    Some(i) => (i, true),
                    None => (chunk.len(), false),
                };
                let room = (self.max + 1).saturating_sub(self.buf.len());
                self.buf.extend_from_slice(&chunk[..take.min(room)]);
                len += take;
                self.inner.consume(if done { take + 1 } else { take });
                if done {
                    break;
                }
            }
            if !saw_any {
                return Ok(None);
            }
            self.line_no += 1;
            if len > self.max {
                let keep = self.buf.len().min(KEEP_PREFIX);
                return Ok(Some(Line::TooLong {
                    line_no: self.line_no,
                    len,
                    prefix: &self.buf[..keep],
                }));
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                *blank += 1;
                continue;
            }
            return Ok(Some(Line::Record {
                line_no: self.line_no,
                bytes: &self.buf,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line read through a buffer of `cap` bytes, and the blank count.
    fn all_with(cap: usize, input: &[u8], max: usize) -> (Vec<String>, u64) {
        let mut r = LineReader::new(io::BufReader::with_capacity(cap, input), max);
        let mut blank = 0;
        let mut out = Vec::new();
        while let Some(l) = r.next_line(&mut blank).unwrap() {
            out.push(match l {
                Line::Record { line_no, bytes } => {
                    format!("{line_no}:{}", String::from_utf8_lossy(bytes))
                }
                Line::TooLong {
                    line_no,
                    len,
                    prefix,
                } => format!("{line_no}:long {len} {}", prefix.len()),
            });
        }
        (out, blank)
    }

    fn all(input: &[u8], max: usize) -> (Vec<String>, u64) {
        all_with(7, input, max)
    }

    #[test]
    fn splits_counts_and_limits() {
        let (lines, blank) = all(b"a\r\n\n  \nbcd\nxxxxxxxxxxxxxxxxxxxx\nlast", 5);
        assert_eq!(lines, vec!["1:a", "4:bcd", "5:long 20 6", "6:last"]);
        assert_eq!(blank, 2);
    }

    /// Every buffer size puts the line ends at different places against
    /// the reads: within one read, spanning two, or several in one.
    #[test]
    fn lines_come_out_the_same_whatever_the_buffer_size() {
        let input = b"a\r\n\n  \nbcd\r\nxxxxxxxxxxxxxxxxxxxx\n\r\nlonger line\nlast\r";
        for cap in [1, 2, 3, 5, 7, 16, 64, 1 << 20] {
            let (lines, blank) = all_with(cap, input, 12);
            assert_eq!(
                lines,
                ["1:a", "4:bcd", "5:long 20 13", "7:longer line", "8:last"],
                "buffer of {cap}"
            );
            assert_eq!(blank, 3, "buffer of {cap}");
        }
    }

    #[test]
    fn huge_line_is_not_buffered() {
        let mut input = vec![b'x'; 10 << 20];
        input.extend_from_slice(b"\nok\n");
        let (lines, _) = all(&input, 1 << 20);
        assert_eq!(
            lines,
            vec![
                format!("1:long {} {}", 10 << 20, KEEP_PREFIX),
                "2:ok".to_string()
            ]
        );
    }
}
