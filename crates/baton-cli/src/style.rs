//! Colours for people: only on a terminal, never when `NO_COLOR` is set.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// Whether stderr/stdout may carry ANSI colours.
pub fn colour() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stderr().is_terminal()
            && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true)
    })
}

fn paint(text: &str, code: &str) -> String {
    if colour() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Green.
pub fn good(text: &str) -> String {
    paint(text, "32")
}

/// Red.
pub fn bad(text: &str) -> String {
    paint(text, "31")
}

/// Yellow.
pub fn warn(text: &str) -> String {
    paint(text, "33")
}

/// Dim.
pub fn dim(text: &str) -> String {
    paint(text, "2")
}

/// Bold.
pub fn bold(text: &str) -> String {
    paint(text, "1")
}

/// The prefix of error messages.
pub fn error_label() -> String {
    bad("error:")
}

/// A status word coloured by what it means.
pub fn status(word: &str) -> String {
    match word {
        "completed" | "merged" | "succeeded" => good(word),
        "failed" | "blocked" | "conflicted" => bad(word),
        "cancelled" | "interrupted" | "skipped" | "needs_human" | "paused" => warn(word),
        "force_completed" => good(word),
        "running" | "checking" | "merging" => bold(word),
        _ => word.to_string(),
    }
}

/// `text` without the colour codes a terminal would add, so a snapshot holds wherever it runs.
#[cfg(test)]
pub(crate) fn strip_colours(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}
