//! Claims: the territory a task may change. Exclusive claims keep other tasks out; shared ones
//! only keep exclusive claimers out.
use crate::overlap::globs_may_overlap;
use globset::{GlobBuilder, GlobMatcher};
use std::fmt;

/// The prefix that turns a claim into a shared claim: `shared:docs/**`.
pub const SHARED_PREFIX: &str = "shared:";

/// A claim that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// The glob text is empty.
    #[error("claim \"{claim}\" has an empty glob; write a path or glob such as \"src/**\"")]
    Empty {
        /// The claim as written.
        claim: String,
    },
    /// The glob starts with `/`.
    #[error(
        "claim \"{claim}\" starts with '/'; claims are relative to the repository root, \
         write \"{}\"", claim.trim_start_matches('/')
    )]
    Absolute {
        /// The claim as written.
        claim: String,
    },
    /// globset refused the glob.
    #[error("claim \"{claim}\" is not a valid glob: {reason}; fix the glob syntax")]
    InvalidGlob {
        /// The claim as written.
        claim: String,
        /// globset's explanation.
        reason: String,
    },
}

/// A compiled claim glob; `*` stays within one path segment, `**` crosses segments.
#[derive(Clone)]
pub struct ClaimGlob {
    pattern: String,
    matcher: GlobMatcher,
}

impl ClaimGlob {
    /// Compiles `pattern` (repo-relative, `/`-separated); `claim` is the text for messages.
    fn compile(pattern: &str, claim: &str) -> Result<ClaimGlob, ClaimError> {
        if pattern.trim().is_empty() {
            return Err(ClaimError::Empty {
                claim: claim.to_owned(),
            });
        }
        if pattern.starts_with('/') {
            return Err(ClaimError::Absolute {
                claim: claim.to_owned(),
            });
        }
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|error| ClaimError::InvalidGlob {
                claim: claim.to_owned(),
                reason: error.kind().to_string(),
            })?;
        Ok(ClaimGlob {
            pattern: pattern.to_owned(),
            matcher: glob.compile_matcher(),
        })
    }

    /// Parses one glob, for example `src/**`.
    pub fn new(pattern: &str) -> Result<ClaimGlob, ClaimError> {
        ClaimGlob::compile(pattern, pattern)
    }

    /// The glob as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// True when the repo-relative `path` matches.
    pub fn is_match(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }
}

impl PartialEq for ClaimGlob {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl Eq for ClaimGlob {}

impl fmt::Debug for ClaimGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClaimGlob").field(&self.pattern).finish()
    }
}

impl fmt::Display for ClaimGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

/// One claim of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Only this task may touch matching paths while it holds the claim.
    Exclusive(ClaimGlob),
    /// Other shared claimers may touch matching paths too; exclusive claimers may not.
    Shared(ClaimGlob),
}

impl Claim {
    /// Parses `GLOB` or `shared:GLOB`.
    pub fn parse(text: &str) -> Result<Claim, ClaimError> {
        match text.strip_prefix(SHARED_PREFIX) {
            Some(glob) => ClaimGlob::compile(glob, text).map(Claim::Shared),
            None => ClaimGlob::compile(text, text).map(Claim::Exclusive),
        }
    }

    /// The glob, whatever the kind.
    pub fn glob(&self) -> &ClaimGlob {
        match self {
            Claim::Exclusive(glob) | Claim::Shared(glob) => glob,
        }
    }

    /// True for a shared claim.
    pub fn is_shared(&self) -> bool {
        matches!(self, Claim::Shared(_))
    }

    /// True when this claim and `other` cannot be held at the same time.
    pub fn conflicts_with(&self, other: &Claim) -> bool {
        !(self.is_shared() && other.is_shared())
            && globs_may_overlap(self.glob().pattern(), other.glob().pattern())
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Claim::Exclusive(glob) => write!(f, "{glob}"),
            Claim::Shared(glob) => write!(f, "{SHARED_PREFIX}{glob}"),
        }
    }
}

/// Every claim of one task. A task that declares none claims everything exclusively (`**`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimSet {
    claims: Vec<Claim>,
}

impl ClaimSet {
    /// Parses a task's `claims:` list; an empty list means [`ClaimSet::everything`].
    pub fn parse(texts: &[String]) -> Result<ClaimSet, ClaimError> {
        if texts.is_empty() {
            return Ok(ClaimSet::everything());
        }
        let claims = texts
            .iter()
            .map(|text| Claim::parse(text))
            .collect::<Result<_, _>>()?;
        Ok(ClaimSet { claims })
    }

    /// The exclusive claim of the whole repository, `**`.
    pub fn everything() -> ClaimSet {
        let matcher = GlobBuilder::new("**")
            .literal_separator(true)
            .build()
            .map(|glob| glob.compile_matcher());
        match matcher {
            Ok(matcher) => ClaimSet {
                claims: vec![Claim::Exclusive(ClaimGlob {
                    pattern: "**".to_owned(),
                    matcher,
                })],
            },
            // `**` always compiles; an empty set would allow nothing, which is the safe side.
            Err(_) => ClaimSet { claims: Vec::new() },
        }
    }

    /// The claims, in declared order.
    pub fn claims(&self) -> &[Claim] {
        &self.claims
    }

    /// True when some claim, exclusive or shared, matches `path`.
    pub fn allows(&self, path: &str) -> bool {
        self.claims.iter().any(|claim| claim.glob().is_match(path))
    }

    /// The paths no claim allows: a change to them leaves the task's territory.
    pub fn outside<'a>(&self, paths: &'a [String]) -> Vec<&'a str> {
        paths
            .iter()
            .map(String::as_str)
            .filter(|path| !self.allows(path))
            .collect()
    }

    /// True when an exclusive claim of either set may overlap any claim of the other.
    pub fn conflicts_with(&self, other: &ClaimSet) -> bool {
        self.claims.iter().any(|mine| {
            other
                .claims
                .iter()
                .any(|theirs| mine.conflicts_with(theirs))
        })
    }

    /// The claims as written in a plan (`src/**`, `shared:docs/**`).
    pub fn as_strings(&self) -> Vec<String> {
        self.claims.iter().map(Claim::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(claims: &[&str]) -> ClaimSet {
        let texts: Vec<String> = claims.iter().map(|c| c.to_string()).collect();
        ClaimSet::parse(&texts).unwrap()
    }

    #[test]
    fn no_claims_means_everything_exclusively() {
        let everything = set(&[]);
        assert_eq!(everything.as_strings(), vec!["**"]);
        assert!(everything.allows("any/where/at/all.rs"));
        assert!(everything.conflicts_with(&set(&["shared:docs/**"])));
    }

    #[test]
    fn a_star_does_not_cross_a_separator_but_a_double_star_does() {
        let claims = set(&["src/*.rs", "docs/**"]);
        assert!(claims.allows("src/lib.rs"));
        assert!(!claims.allows("src/lexer/mod.rs"));
        assert!(claims.allows("docs/a/b/c.md"));
    }

    #[test]
    fn outside_lists_the_paths_no_claim_allows() {
        let claims = set(&["src/lexer/**", "shared:Cargo.lock"]);
        let paths = vec![
            "src/lexer/mod.rs".to_string(),
            "Cargo.lock".to_string(),
            "src/lib.rs".to_string(),
        ];
        assert_eq!(claims.outside(&paths), vec!["src/lib.rs"]);
    }

    #[test]
    fn shared_claims_do_not_conflict_with_each_other() {
        assert!(!set(&["shared:Cargo.lock"]).conflicts_with(&set(&["shared:Cargo.lock"])));
    }

    #[test]
    fn an_exclusive_claim_conflicts_with_an_overlapping_shared_claim_either_way() {
        assert!(set(&["Cargo.lock"]).conflicts_with(&set(&["shared:Cargo.lock"])));
        assert!(set(&["shared:Cargo.lock"]).conflicts_with(&set(&["Cargo.lock"])));
    }

    #[test]
    fn disjoint_territories_do_not_conflict() {
        assert!(!set(&["src/lexer/**"]).conflicts_with(&set(&["src/parser/**", "src/lib.rs"])));
        assert!(set(&["src/*.rs"]).conflicts_with(&set(&["src/lib.rs"])));
    }

    #[test]
    fn shared_claims_display_with_their_prefix() {
        assert_eq!(
            set(&["src/**", "shared:docs/**"]).as_strings(),
            vec!["src/**", "shared:docs/**"]
        );
    }

    #[test]
    fn an_invalid_glob_names_the_claim_and_the_globset_reason() {
        let error = ClaimSet::parse(&["src/[abc".to_string()]).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("claim \"src/[abc\" is not a valid glob: "),
            "{message}"
        );
        assert!(message.contains("unclosed character class"), "{message}");
    }

    #[test]
    fn empty_and_absolute_claims_are_rejected_with_a_fix() {
        let error = Claim::parse("shared:").unwrap_err();
        assert_eq!(
            error,
            ClaimError::Empty {
                claim: "shared:".into()
            }
        );
        let error = Claim::parse("/src/**").unwrap_err();
        assert!(error.to_string().contains("write \"src/**\""), "{error}");
    }
}
