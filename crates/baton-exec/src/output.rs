//! Reading child output line by line and keeping a capped copy of it.

use std::collections::VecDeque;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc::Sender;

use baton_protocol::OutputStream;

/// Longest line kept; the rest of a longer line is dropped, and the line ends with a marker
/// saying how many bytes were not shown (see [`cut_marker`]).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The output lines kept in memory: the first lines, the last lines, and how many were dropped between.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapturedOutput {
    /// The first lines, in order.
    pub head: Vec<String>,
    /// The last lines, in order (never overlapping `head`).
    pub tail: Vec<String>,
    /// Number of lines between `head` and `tail` that were not kept.
    pub omitted_lines: u64,
}

impl CapturedOutput {
    /// All kept lines joined by newlines, with a `... N lines omitted ...` marker where lines were dropped.
    pub fn text(&self) -> String {
        let mut lines: Vec<String> = self.head.clone();
        if self.omitted_lines > 0 {
            lines.push(format!("... {} lines omitted ...", self.omitted_lines));
        }
        lines.extend(self.tail.iter().cloned());
        lines.join("\n")
    }

    /// Total number of lines the process printed.
    pub fn total_lines(&self) -> u64 {
        self.head.len() as u64 + self.tail.len() as u64 + self.omitted_lines
    }
}

/// Keeps the head and tail of a stream of lines.
#[derive(Debug)]
pub(crate) struct Collector {
    head_cap: usize,
    tail_cap: usize,
    head: Vec<String>,
    tail: VecDeque<String>,
    total: u64,
}

impl Collector {
    pub(crate) fn new(cap: crate::OutputCap) -> Self {
        Self {
            head_cap: cap.head,
            tail_cap: cap.tail,
            head: Vec::new(),
            tail: VecDeque::new(),
            total: 0,
        }
    }

    pub(crate) fn push(&mut self, line: &str) {
        self.total += 1;
        // What is kept in memory is for people (failure reasons): each line at most
        // MAX_LINE_BYTES, even when the spec delivers longer lines whole.
        let line = &*shorten(line);
        if self.head.len() < self.head_cap {
            self.head.push(line.to_owned());
        } else if self.tail_cap > 0 {
            if self.tail.len() == self.tail_cap {
                self.tail.pop_front();
            }
            self.tail.push_back(line.to_owned());
        }
    }

    pub(crate) fn finish(self) -> CapturedOutput {
        let kept = self.head.len() as u64 + self.tail.len() as u64;
        CapturedOutput {
            omitted_lines: self.total.saturating_sub(kept),
            head: self.head,
            tail: self.tail.into(),
        }
    }
}

/// What a pipe reader reports.
#[derive(Debug)]
pub(crate) enum Raw {
    /// One complete (or final, unterminated) line.
    Line(OutputStream, String),
    /// The pipe reached end of file.
    Eof,
}

/// `line` cut at [`MAX_LINE_BYTES`] (on a character boundary) with the marker, or as it is.
fn shorten(line: &str) -> std::borrow::Cow<'_, str> {
    if line.len() <= MAX_LINE_BYTES {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut cut = MAX_LINE_BYTES;
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    std::borrow::Cow::Owned(format!("{}{}", &line[..cut], cut_marker(line.len() - cut)))
}

/// The text appended to a line cut at [`MAX_LINE_BYTES`], so that no line is cut silently.
pub fn cut_marker(dropped: usize) -> String {
    format!("… [line cut: {dropped} bytes not shown]")
}

/// Reads `reader` line by line (lossy UTF-8, lines capped at [`MAX_LINE_BYTES`] and marked
/// when cut) into `tx`. When `tx` is full the reader waits, so the pipe fills and a process
/// that floods blocks in its writes instead of growing baton's memory.
pub(crate) async fn pump_lines<R>(reader: R, stream: OutputStream, tx: Sender<Raw>, max: usize)
where
    R: AsyncRead + Unpin,
{
    let mut reader = BufReader::with_capacity(MAX_LINE_BYTES, reader);
    let mut line: Vec<u8> = Vec::new();
    let mut dropped = 0usize;
    loop {
        let (consumed, complete) = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(buf) => {
                let (chunk, consumed, complete) = match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => (&buf[..i], i + 1, true),
                    None => (buf, buf.len(), false),
                };
                let room = max.saturating_sub(line.len());
                let kept = chunk.len().min(room);
                line.extend_from_slice(&chunk[..kept]);
                dropped += chunk.len() - kept;
                (consumed, complete)
            }
        };
        reader.consume(consumed);
        if complete
            && tx
                .send(Raw::Line(stream, to_text(&mut line, &mut dropped)))
                .await
                .is_err()
        {
            return;
        }
    }
    if !line.is_empty() {
        let _ = tx
            .send(Raw::Line(stream, to_text(&mut line, &mut dropped)))
            .await;
    }
    let _ = tx.send(Raw::Eof).await;
}

fn to_text(line: &mut Vec<u8>, dropped: &mut usize) -> String {
    if *dropped == 0 && line.last() == Some(&b'\r') {
        line.pop();
    }
    let mut text = String::from_utf8_lossy(line).into_owned();
    if *dropped > 0 {
        text.push_str(&cut_marker(*dropped));
    }
    line.clear();
    *dropped = 0;
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collector_keeps_head_and_tail_and_counts_the_rest() {
        let mut collector = Collector::new(crate::OutputCap { head: 2, tail: 3 });
        for i in 0..10 {
            collector.push(&i.to_string());
        }
        let out = collector.finish();
        assert_eq!(out.head, ["0", "1"]);
        assert_eq!(out.tail, ["7", "8", "9"]);
        assert_eq!(out.omitted_lines, 5);
        assert_eq!(out.text(), "0\n1\n... 5 lines omitted ...\n7\n8\n9");
        assert_eq!(out.total_lines(), 10);
    }

    #[test]
    fn short_output_is_kept_whole() {
        let mut collector = Collector::new(crate::OutputCap::default());
        collector.push("a");
        collector.push("b");
        let out = collector.finish();
        assert_eq!(out.text(), "a\nb");
        assert_eq!(out.omitted_lines, 0);
    }

    #[tokio::test]
    async fn long_lines_are_cut_and_invalid_utf8_is_replaced() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.push(b'\n');
        input.extend_from_slice(b"ok\xff\r\nlast");
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        pump_lines(input.as_slice(), OutputStream::Stdout, tx, MAX_LINE_BYTES).await;
        let mut lines = Vec::new();
        while let Some(Raw::Line(_, text)) = rx.recv().await {
            lines.push(text);
        }
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            format!("{}{}", "x".repeat(MAX_LINE_BYTES), cut_marker(10))
        );
        assert_eq!(lines[1], "ok\u{fffd}");
        assert_eq!(lines[2], "last");
    }
}

#[cfg(test)]
mod cut_tests {
    use super::*;

    #[tokio::test]
    async fn a_line_cut_across_many_reads_counts_every_dropped_byte_and_the_next_line_is_whole() {
        let mut input = vec![b'y'; 5 * MAX_LINE_BYTES + 3];
        input.extend_from_slice(b"\r\nnext\n");
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        pump_lines(input.as_slice(), OutputStream::Stderr, tx, MAX_LINE_BYTES).await;
        let mut lines = Vec::new();
        while let Some(Raw::Line(_, text)) = rx.recv().await {
            lines.push(text);
        }
        // The carriage return is among the dropped bytes.
        let dropped = 4 * MAX_LINE_BYTES + 4;
        assert_eq!(
            lines,
            [
                format!("{}{}", "y".repeat(MAX_LINE_BYTES), cut_marker(dropped)),
                "next".to_owned()
            ]
        );
    }
}
