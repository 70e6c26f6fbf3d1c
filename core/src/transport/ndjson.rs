//! Incremental NDJSON framing (Ollama's native streams): bytes -> complete lines -> the same
//! [`Frame`]s the SSE and event-stream framings produce, so one `ChunkStream` drives them all.
//!
//! Each read is scanned once: the splitter remembers how far it has looked for a newline, so a
//! long line arriving in many small reads is not re-scanned from its start (no quadratic
//! re-parsing). Blank lines are skipped; a `\r` before the newline is dropped; a last line the
//! server ended the body with but did not terminate is still delivered on a clean end.

use super::classify;
use super::framing::{Frame, Frames};
use crate::api::{Error, ErrorKind};
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};

/// Splits a byte stream into lines as the bytes arrive.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    buf: Vec<u8>,
    /// Start of the first line not handed out yet.
    start: usize,
    /// Bytes from `start` on already searched for a newline.
    scanned: usize,
}

impl LineSplitter {
    /// Appends one read.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            // Drop consumed lines now and then, so the buffer stays the size of one line.
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete, non-blank line (without its line ending), if one has arrived.
    pub(crate) fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            let from = self.start + self.scanned;
            let pos = self.buf[from..].iter().position(|b| *b == b'\n');
            let Some(pos) = pos else {
                self.scanned = self.buf.len() - self.start;
                return None;
            };
            let end = from + pos;
            let line = trim_cr(&self.buf[self.start..end]).to_vec();
            self.start = end + 1;
            self.scanned = 0;
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Some(line);
            }
        }
    }

    /// What is left after the body ended: a last line sent without a newline.
    pub(crate) fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = trim_cr(&self.buf[self.start..]).to_vec();
        self.start = self.buf.len();
        self.scanned = 0;
        (!rest.iter().all(u8::is_ascii_whitespace)).then_some(rest)
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A line as a data-only frame; a line that is not UTF-8 is an `invalid_response` error.
fn frame(line: Vec<u8>, provider: &str) -> Result<Frame, Error> {
    match String::from_utf8(line) {
        Ok(data) => Ok(Frame {
            event: String::new(),
            data,
        }),
        Err(e) => Err(Error::new(
            ErrorKind::InvalidResponse,
            format!("stream is not UTF-8: {e}"),
        )
        .with_provider(provider)),
    }
}

/// Frames a body as NDJSON lines. A transport failure (or a line that is not UTF-8) is the
/// last item; after it nothing more is read.
pub(super) fn lines(
    body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    provider: &str,
) -> Frames {
    struct State {
        body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
        split: LineSplitter,
        provider: String,
        ended: bool,
    }
    let state = State {
        body,
        split: LineSplitter::default(),
        provider: provider.to_string(),
        ended: false,
    };
    stream::unfold(state, |mut st| async move {
        loop {
            if let Some(line) = st.split.next_line() {
                let item = frame(line, &st.provider);
                st.ended |= item.is_err();
                return Some((item, st));
            }
            if st.ended {
                return None;
            }
            match st.body.next().await {
                Some(Ok(bytes)) => st.split.push(&bytes),
                Some(Err(e)) => {
                    st.ended = true;
                    let err = classify(&e, &st.provider);
                    return Some((Err(err), st));
                }
                None => {
                    st.ended = true;
                    if let Some(line) = st.split.finish() {
                        return Some((frame(line, &st.provider), st));
                    }
                    return None;
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_lines(reads: &[&[u8]]) -> Vec<String> {
        let mut split = LineSplitter::default();
        let mut out = Vec::new();
        for r in reads {
            split.push(r);
            while let Some(line) = split.next_line() {
                out.push(String::from_utf8(line).expect("utf8"));
            }
        }
        if let Some(line) = split.finish() {
            out.push(String::from_utf8(line).expect("utf8"));
        }
        out
    }

    #[test]
    fn lines_split_across_reads_are_joined() {
        let text = "{\"a\":1}\n{\"message\":{\"content\":\"hé\"}}\r\n\n{\"done\":true}";
        let bytes = text.as_bytes();
        let expected = vec![
            "{\"a\":1}".to_string(),
            "{\"message\":{\"content\":\"hé\"}}".to_string(),
            "{\"done\":true}".to_string(),
        ];
        // Every way of cutting the body in two, and one byte per read.
        for cut in 0..=bytes.len() {
            assert_eq!(
                all_lines(&[&bytes[..cut], &bytes[cut..]]),
                expected,
                "cut {cut}"
            );
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(all_lines(&singles), expected);
    }

    #[test]
    fn blank_lines_and_trailing_newline_give_nothing_extra() {
        assert_eq!(all_lines(&[b"\n\n{}\n\n", b"  \n"]), vec!["{}".to_string()]);
        assert!(all_lines(&[b""]).is_empty());
    }

    #[test]
    fn buffer_is_compacted_as_lines_are_consumed() {
        let mut split = LineSplitter::default();
        for i in 0..1000 {
            split.push(format!("{{\"n\":{i}}}\n").as_bytes());
            assert_eq!(
                split
                    .next_line()
                    .map(|l| String::from_utf8(l).expect("utf8")),
                Some(format!("{{\"n\":{i}}}"))
            );
        }
        assert!(split.buf.len() < 64, "buffer grew to {}", split.buf.len());
    }

    #[test]
    fn non_utf8_line_is_an_error() {
        let err = frame(vec![0xff, 0xfe], "ollama").expect_err("not utf-8");
        assert_eq!(err.kind, ErrorKind::InvalidResponse);
        assert_eq!(err.provider.as_deref(), Some("ollama"));
        let ok = frame(b"{}".to_vec(), "ollama").expect("frame");
        assert_eq!(ok.data, "{}");
        assert_eq!(ok.event, "");
    }
}
