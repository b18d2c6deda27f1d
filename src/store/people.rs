//! What is kept about a person: consent, profile, and its erasure.

use super::StoreResult;
use crate::people::{Consent, ConsentInput, PersonId, Profile};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// How much of a person to erase ([`super::shared::ErasePlan`] says what each level removes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erase {
    /// Personalization withdrawn: follows, interests, traits, purchases.
    Profile,
    /// Location withdrawn: the profile plus events and decisions; deliveries de-identified.
    History,
    /// Erasure request: all of it, consent records included.
    Everything,
}

/// Consent, the profile read on the check-in path, and erasure.
#[async_trait]
pub trait PeopleStore: Send + Sync {
    /// A person's consent, if they ever answered.
    async fn get_consent(&self, app: &str, user_id: &str) -> StoreResult<Option<Consent>>;
    /// Records a consent answer given at `at` (and its history entry).
    async fn put_consent(
        &self,
        app: &str,
        user_id: &str,
        consent: &ConsentInput,
        at: DateTime<Utc>,
    ) -> StoreResult<Consent>;
    /// Follows, interests and purchases at or after `since`.
    async fn profile(&self, person: &PersonId, since: DateTime<Utc>) -> StoreResult<Profile>;
    /// Erases what is kept about a person, as far as `what` says.
    async fn erase(&self, person: &PersonId, what: Erase) -> StoreResult<()>;
    /// Keeps a receipt of an erasure made at `at` (nothing else).
    async fn record_erasure(&self, receipt: &str, at: DateTime<Utc>) -> StoreResult<()>;
}
