//! Brand identifiers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A brand's id: 2–64 characters of lowercase ASCII letters, digits and `-`, not starting or
/// ending with `-`. It appears in URLs and Redis keys, so it is kept boring on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BrandId(String);

impl BrandId {
    /// Validates a brand id.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok_len = (2..=64).contains(&s.len());
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let ok_edges = !s.starts_with('-') && !s.ends_with('-');
        if ok_len && ok_chars && ok_edges {
            Ok(Self(s.to_string()))
        } else {
            Err(format!(
                "`{s}` is not a valid brand id: use 2-64 lowercase letters, digits and '-', \
                 not starting or ending with '-'"
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BrandId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BrandId> for String {
    fn from(b: BrandId) -> String {
        b.0
    }
}

impl fmt::Display for BrandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_uppercase_spaces_and_edge_dashes() {
        for bad in ["A", "Chill Co", "-chill", "chill-", "x", "chill_co", ""] {
            assert!(BrandId::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    proptest! {
        #[test]
        fn every_well_formed_id_parses(s in "[a-z0-9][a-z0-9-]{0,62}[a-z0-9]") {
            let id = BrandId::parse(&s).unwrap();
            prop_assert_eq!(id.as_str(), s.as_str());
        }

        #[test]
        fn ids_with_other_characters_never_parse(s in "[a-z]{1,10}[^a-z0-9-][a-z]{1,10}") {
            prop_assert!(BrandId::parse(&s).is_err());
        }
    }
}
