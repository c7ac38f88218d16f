//! Git object ids.

use std::fmt;
use std::str::FromStr;

use crate::GitError;

/// A git object id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid(String);

impl Oid {
    /// The id as hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The all-zero id of the same length ("no object" in `update-ref`).
    pub fn zero_like(&self) -> Oid {
        Oid("0".repeat(self.0.len()))
    }

    /// Whether this is an all-zero id.
    pub fn is_zero(&self) -> bool {
        self.0.bytes().all(|b| b == b'0')
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Oid {
    type Err = GitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let valid = matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit());
        if valid {
            Ok(Oid(text.to_ascii_lowercase()))
        } else {
            Err(GitError::InvalidOid {
                text: text.to_owned(),
            })
        }
    }
}

impl AsRef<str> for Oid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_must_be_full_length_hex() {
        let oid: Oid = "ABCDEF0123456789abcdef0123456789abcdef01".parse().unwrap();
        assert_eq!(oid.as_str(), "abcdef0123456789abcdef0123456789abcdef01");
        assert!(!oid.is_zero());
        assert!(oid.zero_like().is_zero());
        assert!("abc".parse::<Oid>().is_err());
        assert!("g".repeat(40).parse::<Oid>().is_err());
    }
}
