//! The log file of a supervised process: every line appended, up to a cap in bytes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Default cap on a process's log file (see [`crate::CommandSpec::log_cap`]): 256 MiB.
pub const DEFAULT_LOG_CAP: u64 = 256 * 1024 * 1024;

/// The line that ends a log file whose cap was reached, saying what was not written.
pub fn log_cap_marker(cap: u64, bytes: u64, lines: u64) -> String {
    format!(
        "[baton: log cap of {cap} bytes reached; {bytes} more bytes in {lines} lines not written]"
    )
}

/// A log file that takes lines until the next one would take it past its cap.
///
/// The file may already hold lines (it is opened for appending): they count against the cap,
/// so the cap bounds the file, not one process's share of it.
#[derive(Debug)]
pub(crate) struct LogFile {
    file: Option<BufWriter<File>>,
    cap: u64,
    written: u64,
    /// Once a line did not fit, no later line is written (even a shorter one), so the file
    /// is a prefix of the output.
    full: bool,
    unwritten_bytes: u64,
    unwritten_lines: u64,
}

impl LogFile {
    /// Opens (creating it and its parents) `path` for appending, capped at `cap` bytes.
    pub(crate) fn open(path: &Path, cap: u64) -> std::io::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let written = file.metadata()?.len();
        Ok(Self {
            file: Some(BufWriter::new(file)),
            cap,
            written,
            full: false,
            unwritten_bytes: 0,
            unwritten_lines: 0,
        })
    }

    /// Appends `line` and a newline, or counts it as not written once the cap is reached.
    pub(crate) fn line(&mut self, line: &str) {
        let size = line.len() as u64 + 1;
        if self.full || self.written.saturating_add(size) > self.cap {
            self.full = true;
            self.unwritten_bytes += size;
            self.unwritten_lines += 1;
            return;
        }
        let Some(file) = &mut self.file else { return };
        let done = file
            .write_all(line.as_bytes())
            .and_then(|()| file.write_all(b"\n"));
        match done {
            Ok(()) => self.written += size,
            // A broken log must not break supervision; stop logging.
            Err(_) => self.file = None,
        }
    }

    /// Writes buffered lines to the file, so that a reader of the log sees them.
    pub(crate) fn flush(&mut self) {
        if let Some(file) = &mut self.file
            && file.flush().is_err()
        {
            self.file = None;
        }
    }

    /// Ends the log: if lines were left out, one last line says how many and how large.
    pub(crate) fn finish(&mut self) {
        if self.full
            && let Some(file) = &mut self.file
        {
            let marker = log_cap_marker(self.cap, self.unwritten_bytes, self.unwritten_lines);
            let _ = writeln!(file, "{marker}");
        }
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn lines_that_fit_are_written_whole_and_no_marker_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.log");
        let mut log = LogFile::open(&path, 6).unwrap();
        log.line("ab");
        log.line("cd");
        log.finish();
        assert_eq!(read(&path), "ab\ncd\n");
    }

    #[test]
    fn the_first_line_past_the_cap_stops_the_log_and_the_marker_counts_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut log = LogFile::open(&path, 7).unwrap();
        log.line("abc");
        log.line("defg");
        // Would fit in what is left, but the log is a prefix of the output: not written.
        log.line("h");
        log.finish();
        let expected = format!("abc\n{}\n", log_cap_marker(7, 7, 2));
        assert_eq!(read(&path), expected);
    }

    #[test]
    fn what_the_file_already_holds_counts_against_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.log");
        std::fs::write(&path, "12345\n").unwrap();
        let mut log = LogFile::open(&path, 8).unwrap();
        log.line("ab");
        log.finish();
        assert_eq!(read(&path), format!("12345\n{}\n", log_cap_marker(8, 3, 1)));
    }
}
