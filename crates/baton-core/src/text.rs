//! Small helpers for messages about text files.

/// The 1-based line and column (in characters) of byte `offset` in `text`, for `file:line:col`
/// in error messages (an offset past the end or inside a character is moved back).
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters_from_one() {
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nxé", 6), (2, 3));
        assert_eq!(
            line_column("é\nxé", 5),
            (2, 2),
            "inside a character: moved back"
        );
        assert_eq!(line_column("short", 99), (1, 6));
    }
}
