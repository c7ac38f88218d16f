//! "Did you mean" hints for misspelt names.

/// The candidate closest to `wanted`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a, I>(wanted: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let length = wanted.chars().count();
    let limit = (length.max(3) / 3).min(length.saturating_sub(1));
    candidates
        .into_iter()
        .filter(|candidate| *candidate != wanted)
        .map(|candidate| (edit_distance(wanted, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// ` (did you mean "x"?)` or the empty string.
pub(crate) fn hint<'a, I>(wanted: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match did_you_mean(wanted, candidates) {
        Some(candidate) => format!(" (did you mean \"{candidate}\"?)"),
        None => String::new(),
    }
}

/// Edit distance counting insertions, deletions, substitutions and adjacent transpositions.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_typo_gets_a_suggestion() {
        assert_eq!(did_you_mean("parsr", ["lexer", "parser"]), Some("parser"));
        assert_eq!(did_you_mean("tset", ["build", "test"]), Some("test"));
        assert_eq!(did_you_mean("agnet", ["agent", "id"]), Some("agent"));
    }

    #[test]
    fn a_distant_name_gets_no_suggestion() {
        assert_eq!(did_you_mean("zzz", ["lexer", "parser"]), None);
        assert_eq!(did_you_mean("a", ["b"]), None);
    }

    #[test]
    fn edit_distance_counts_transpositions_once() {
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
