//! Small helpers for reading client records: JSON fields, bounded text, dollars.

use baton_protocol::AgentEvent;
use serde_json::Value;

/// Longest tool or command output kept in an event; the rest is cut with a marker that says
/// how much. (Usage, results, errors and file changes are never cut.)
pub const MAX_EVENT_OUTPUT_BYTES: usize = 16 * 1024;

/// `text` cut to [`MAX_EVENT_OUTPUT_BYTES`] at a character boundary, with a marker when cut.
pub fn bounded(text: &str) -> String {
    if text.len() <= MAX_EVENT_OUTPUT_BYTES {
        return text.to_string();
    }
    let mut end = MAX_EVENT_OUTPUT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[... {} bytes cut by baton]",
        &text[..end],
        text.len() - end
    )
}

/// A line as JSON, or the event that stands for it when it is not: nothing for a blank line,
/// [`AgentEvent::Unknown`] holding the text otherwise.
pub(crate) fn parse_line(line: &str) -> Result<Value, Option<AgentEvent>> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Err(None);
    }
    serde_json::from_str(trimmed).map_err(|_| Some(unknown_text(trimmed)))
}

/// An [`AgentEvent::Unknown`] holding a line of text.
pub(crate) fn unknown_text(line: &str) -> AgentEvent {
    AgentEvent::Unknown {
        raw: Value::String(line.to_string()),
    }
}

/// An [`AgentEvent::Unknown`] holding a record.
pub(crate) fn unknown(raw: Value) -> AgentEvent {
    AgentEvent::Unknown { raw }
}

/// The string at `path` (object keys) in `value`.
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path)?.as_str()
}

/// The unsigned number at `path` in `value` (0 when absent or not a number).
pub(crate) fn u64_at(value: &Value, path: &[&str]) -> u64 {
    at(value, path).and_then(Value::as_u64).unwrap_or(0)
}

/// The value at `path` (object keys) in `value`.
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

/// The text of a tool result's content: a string, or the text parts of an array, or the JSON.
pub(crate) fn content_text(content: Option<&Value>) -> String {
    match content {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(other) => other.to_string(),
    }
}

/// Dollars as integer micro-dollars, rounded to the nearest; `None` for a negative or
/// non-finite amount.
pub fn dollars_to_micros(dollars: f64) -> Option<u64> {
    if !dollars.is_finite() || dollars < 0.0 {
        return None;
    }
    let micros = (dollars * 1_000_000.0).round();
    // Saturating float-to-int conversion is what `as` does for finite values.
    Some(micros as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_become_rounded_micro_dollars() {
        assert_eq!(dollars_to_micros(0.19278999999999996), Some(192_790));
        assert_eq!(dollars_to_micros(0.0026), Some(2_600));
        assert_eq!(dollars_to_micros(-1.0), None);
        assert_eq!(dollars_to_micros(f64::NAN), None);
    }

    #[test]
    fn long_output_is_cut_at_a_character_boundary_with_a_marker() {
        let text = "é".repeat(MAX_EVENT_OUTPUT_BYTES);
        let cut = bounded(&text);
        assert!(cut.len() < text.len());
        assert!(cut.ends_with(&format!(
            "[... {} bytes cut by baton]",
            text.len() - MAX_EVENT_OUTPUT_BYTES
        )));
        assert_eq!(bounded("short"), "short");
    }
}
