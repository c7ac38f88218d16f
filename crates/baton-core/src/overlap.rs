//! Could two globs ever match the same path? A sound, slightly conservative answer.
//!
//! Patterns are expanded over `{a,b}` alternatives, split into `/` segments, and compared
//! segment by segment: a `**` segment absorbs any number of segments, and two ordinary
//! segments overlap when some single segment text matches both (an exact check over literals,
//! `?` and `*`; character classes count as "any one character").
use globset::GlobBuilder;
use std::collections::BTreeSet;

/// Expansions beyond this many alternatives give up and answer "may overlap".
const MAX_EXPANSIONS: usize = 64;

/// True when some repo-relative path may match both globs. Never false when one does.
pub fn globs_may_overlap(a: &str, b: &str) -> bool {
    if let Some(answer) = literal_against_glob(a, b).or_else(|| literal_against_glob(b, a)) {
        return answer;
    }
    let (Some(left), Some(right)) = (parse_pattern(a), parse_pattern(b)) else {
        return true;
    };
    left.iter().any(|x| {
        right
            .iter()
            .any(|y| segments_overlap(x, y, 0, 0, &mut BTreeSet::new()))
    })
}

/// When `literal` has no glob syntax, the exact answer: does `glob` match it?
fn literal_against_glob(literal: &str, glob: &str) -> Option<bool> {
    if literal.contains(['*', '?', '[', ']', '{', '}', '\\']) {
        return None;
    }
    let matcher = GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .ok()?
        .compile_matcher();
    Some(matcher.is_match(literal))
}

/// One path segment of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: zero or more whole segments.
    Recursive,
    /// Anything else: tokens matched within one segment.
    Tokens(Vec<Token>),
}

/// One element of a segment pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `?` or a character class: exactly one character.
    One,
    /// `*`: any run of characters.
    Star,
}

/// Every alternative of a pattern as segments; `None` when unsure how to read it.
fn parse_pattern(pattern: &str) -> Option<Vec<Vec<Segment>>> {
    let mut alternatives = Vec::new();
    expand_braces(pattern, &mut alternatives)?;
    alternatives.iter().map(|alt| split_segments(alt)).collect()
}

/// Expands the first `{..}` of `pattern` (recursively); pushes every brace-free alternative.
fn expand_braces(pattern: &str, out: &mut Vec<String>) -> Option<()> {
    let chars: Vec<char> = pattern.chars().collect();
    let Some(open) = find_unescaped(&chars, 0, |c| c == '{') else {
        out.push(pattern.to_owned());
        return (out.len() <= MAX_EXPANSIONS).then_some(());
    };
    let close = find_unescaped(&chars, open + 1, |c| c == '}' || c == '{')?;
    if chars[close] == '{' {
        return None; // nested alternatives: globset rejects them anyway
    }
    let prefix: String = chars[..open].iter().collect();
    let suffix: String = chars[close + 1..].iter().collect();
    let mut start = open + 1;
    loop {
        let end = find_unescaped(&chars[..close], start, |c| c == ',').unwrap_or(close);
        let middle: String = chars[start..end].iter().collect();
        expand_braces(&format!("{prefix}{middle}{suffix}"), out)?;
        if end == close {
            return Some(());
        }
        start = end + 1;
    }
}

/// Index of the first char at or after `from` satisfying `wanted`, outside escapes and classes.
fn find_unescaped(chars: &[char], from: usize, wanted: impl Fn(char) -> bool) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '[' => i = class_end(chars, i)? + 1,
            c if wanted(c) => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Index of the `]` closing the class opened at `open`.
fn class_end(chars: &[char], open: usize) -> Option<usize> {
    let mut i = open + 1;
    if chars.get(i) == Some(&'!') || chars.get(i) == Some(&'^') {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        i += 1; // a leading `]` is a member, not the end
    }
    while i < chars.len() {
        if chars[i] == ']' {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Splits a brace-free pattern into segments; `None` when a class could match `/`.
fn split_segments(pattern: &str) -> Option<Vec<Segment>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut segments = Vec::new();
    let mut tokens = Vec::new();
    let mut raw = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' => {
                segments.push(finish_segment(&raw, std::mem::take(&mut tokens)));
                raw.clear();
                i += 1;
                continue;
            }
            '\\' => {
                let escaped = *chars.get(i + 1)?;
                tokens.push(Token::Literal(escaped));
                raw.push('\\');
                raw.push(escaped);
                i += 2;
                continue;
            }
            '[' => {
                let end = class_end(&chars, i)?;
                if chars[i..=end].contains(&'/') {
                    return None;
                }
                tokens.push(Token::One);
                raw.extend(&chars[i..=end]);
                i = end + 1;
                continue;
            }
            '?' => tokens.push(Token::One),
            '*' => tokens.push(Token::Star),
            c => tokens.push(Token::Literal(c)),
        }
        raw.push(chars[i]);
        i += 1;
    }
    segments.push(finish_segment(&raw, tokens));
    Some(segments)
}

fn finish_segment(raw: &str, tokens: Vec<Token>) -> Segment {
    if raw == "**" {
        Segment::Recursive
    } else {
        Segment::Tokens(tokens)
    }
}

/// Can `a[i..]` and `b[j..]` match a common sequence of path segments?
fn segments_overlap(
    a: &[Segment],
    b: &[Segment],
    i: usize,
    j: usize,
    seen: &mut BTreeSet<(usize, usize)>,
) -> bool {
    if !seen.insert((i, j)) {
        return false; // already explored from here
    }
    match (a.get(i), b.get(j)) {
        (None, None) => true,
        (Some(Segment::Recursive), other) => {
            segments_overlap(a, b, i + 1, j, seen)
                || (other.is_some() && segments_overlap(a, b, i, j + 1, seen))
        }
        (other, Some(Segment::Recursive)) => {
            segments_overlap(a, b, i, j + 1, seen)
                || (other.is_some() && segments_overlap(a, b, i + 1, j, seen))
        }
        (Some(Segment::Tokens(x)), Some(Segment::Tokens(y))) => {
            tokens_overlap(x, y) && segments_overlap(a, b, i + 1, j + 1, seen)
        }
        (None, Some(_)) | (Some(_), None) => false,
    }
}

/// Is there a single segment text matched by both token lists? Explores the product automaton.
fn tokens_overlap(a: &[Token], b: &[Token]) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![(0, 0)];
    while let Some((i, j)) = stack.pop() {
        if !seen.insert((i, j)) {
            continue;
        }
        if i == a.len() && j == b.len() {
            return true;
        }
        if a.get(i) == Some(&Token::Star) {
            stack.push((i + 1, j));
        }
        if b.get(j) == Some(&Token::Star) {
            stack.push((i, j + 1));
        }
        let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) else {
            continue;
        };
        if x == Token::Star && y == Token::Star {
            continue; // consuming under both stars changes nothing
        }
        let compatible = match (x, y) {
            (Token::Literal(p), Token::Literal(q)) => p == q,
            _ => true,
        };
        if compatible {
            let next_i = if x == Token::Star { i } else { i + 1 };
            let next_j = if y == Token::Star { j } else { j + 1 };
            stack.push((next_i, next_j));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_documented_examples_hold() {
        assert!(!globs_may_overlap("src/lexer/**", "src/lib.rs"));
        assert!(globs_may_overlap("src/*.rs", "src/lib.rs"));
        assert!(!globs_may_overlap("docs/**", "src/**"));
        assert!(!globs_may_overlap("**/*.md", "src/a.rs"));
        assert!(globs_may_overlap("**", "src/deep/file.txt"));
        assert!(globs_may_overlap("**", "**"));
    }

    #[test]
    fn a_star_stays_within_one_segment() {
        assert!(!globs_may_overlap("src/*", "src/a/b.rs"));
        assert!(!globs_may_overlap("src/*", "src/*/b.rs"));
        assert!(globs_may_overlap("src/**", "src/*/b.rs"));
    }

    #[test]
    fn segment_wildcards_are_compared_by_their_literal_parts() {
        assert!(!globs_may_overlap("src/*.rs", "src/*.md"));
        assert!(globs_may_overlap("src/a*", "src/*b"));
        assert!(!globs_may_overlap("src/a*", "src/b*"));
        assert!(globs_may_overlap("src/?.rs", "src/[ab].rs"));
        assert!(!globs_may_overlap("src/?.rs", "src/ab.rs"));
    }

    #[test]
    fn alternatives_are_expanded_even_across_separators() {
        assert!(globs_may_overlap("{docs,src}/**", "src/lib.rs"));
        assert!(!globs_may_overlap("{docs,tests}/**", "src/**"));
        assert!(globs_may_overlap("{src/a,b}/x", "src/*/x"));
    }

    #[test]
    fn recursive_segments_in_the_middle_absorb_zero_or_more_segments() {
        assert!(globs_may_overlap("a/**/b", "a/b"));
        assert!(globs_may_overlap("a/**/b", "a/x/y/b"));
        assert!(!globs_may_overlap("a/**/b", "a/x/c"));
        assert!(globs_may_overlap("**/b/**", "a/**/c"));
    }

    #[test]
    fn unreadable_patterns_are_assumed_to_overlap() {
        assert!(globs_may_overlap("src/[abc", "docs/*"));
        assert!(globs_may_overlap("{a,{b,c}}", "docs/*"));
    }

    const SEGMENTS: &[&str] = &["a", "b", "c.rs", "d.md", "ab"];
    const GLOB_SEGMENTS: &[&str] = &[
        "a",
        "b",
        "c.rs",
        "d.md",
        "ab",
        "*",
        "**",
        "*.rs",
        "*.md",
        "a*",
        "*b",
        "?",
        "[ab]",
        "{a,b}",
        "{a/b,c.rs}",
        "c.*",
    ];

    fn path() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(SEGMENTS), 1..5).prop_map(|s| s.join("/"))
    }

    fn glob() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(GLOB_SEGMENTS), 1..4).prop_map(|s| s.join("/"))
    }

    fn matches(pattern: &str, path: &str) -> bool {
        GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map(|g| g.compile_matcher().is_match(path))
            .unwrap_or(false)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn a_path_matching_both_globs_means_they_may_overlap(
            a in glob(),
            b in glob(),
            paths in prop::collection::vec(path(), 1..12),
        ) {
            for p in &paths {
                if matches(&a, p) && matches(&b, p) {
                    prop_assert!(globs_may_overlap(&a, &b), "{a} and {b} both match {p}");
                }
            }
        }

        #[test]
        fn a_glob_overlaps_every_path_it_matches(a in glob(), p in path()) {
            if matches(&a, &p) {
                prop_assert!(globs_may_overlap(&a, &p));
                prop_assert!(globs_may_overlap(&p, &a));
            }
        }

        #[test]
        fn overlap_is_symmetric(a in glob(), b in glob()) {
            prop_assert_eq!(globs_may_overlap(&a, &b), globs_may_overlap(&b, &a));
        }
    }
}
