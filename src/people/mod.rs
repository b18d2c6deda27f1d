//! People: pseudonymous, scoped to the app that reports them, with consent and a profile.

mod consent;
pub mod gate;
mod profile;

pub use consent::{Consent, ConsentInput};
pub use profile::{Profile, Purchase};

use sha2::{Digest, Sha256};
use std::fmt;

/// A person's pseudonymous token: a hash of the app and the app's user id. It keys everything
/// geoffer keeps about a person (Redis hash tags included), so raw user ids stay in few places.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonId(String);

impl PersonId {
    /// The token of `user_id` in `app`.
    pub fn of(app: &str, user_id: &str) -> Self {
        let mut h = Sha256::new();
        h.update(app.as_bytes());
        h.update([0]);
        h.update(user_id.as_bytes());
        Self(hex::encode(&h.finalize()[..16]))
    }

    /// Wraps a stored token.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The token (32 lowercase hex characters).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validates a user id as apps send it: 1–128 printable characters.
pub fn check_user_id(s: &str) -> Result<(), String> {
    if (1..=128).contains(&s.chars().count()) && !s.chars().any(char::is_control) {
        Ok(())
    } else {
        Err("user_id must be 1-128 printable characters".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_user_in_two_apps_is_two_people() {
        assert_ne!(PersonId::of("app-a", "u-1"), PersonId::of("app-b", "u-1"));
        assert_eq!(PersonId::of("app-a", "u-1"), PersonId::of("app-a", "u-1"));
        assert_eq!(PersonId::of("a", "b").as_str().len(), 32);
    }

    #[test]
    fn app_and_user_boundaries_do_not_collide() {
        assert_ne!(PersonId::of("ab", "c"), PersonId::of("a", "bc"));
    }
}
