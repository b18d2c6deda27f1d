//! Step 1, consent: without location consent nothing is processed or stored. For a report
//! outside every fence the consent read is also the round trip that closes the person's open
//! visits (docs/visits.md): one script on the person's slot reads the gate's entry and, when
//! it allows location, moves the visit state.

use super::Engine;
use crate::error::ApiError;
use crate::habits::{Leaving, Left, Track};
use crate::people::gate::Allowed;
use crate::people::{PersonId, check_user_id};
use crate::services::people::read_through;

impl Engine {
    /// The person behind `user_id` of `app` (no I/O): the user id is checked first.
    pub(super) fn person_of(app: &str, user_id: &str) -> Result<PersonId, ApiError> {
        check_user_id(user_id).map_err(|e| ApiError::invalid("/user_id", e))?;
        Ok(PersonId::of(app, user_id))
    }

    /// The person behind `user_id` of `app` and what they allow; 403 without location consent.
    pub(super) async fn require_consent(
        &self,
        app: &str,
        user_id: &str,
    ) -> Result<(PersonId, Allowed), ApiError> {
        let person = Self::person_of(app, user_id)?;
        let consent = self.require(app, user_id, &person).await?;
        Ok((person, consent))
    }

    /// What `person` allows; 403 without location consent.
    pub(super) async fn require(
        &self,
        app: &str,
        user_id: &str,
        person: &PersonId,
    ) -> Result<Allowed, ApiError> {
        let consent = self.consent(app, user_id, person).await?;
        self.allows(user_id, consent)
    }

    /// `consent`, or 403 when it does not allow location.
    pub(super) fn allows(&self, user_id: &str, consent: Allowed) -> Result<Allowed, ApiError> {
        if !consent.location {
            self.metrics.count("none", "consent-required");
            return Err(ApiError::ConsentRequired(format!(
                "user `{user_id}` has not given location consent; PUT /v1/users/{{user_id}}/consent first"
            )));
        }
        Ok(consent)
    }

    /// Consent for a report outside every fence, and the visits it closed: one round trip on
    /// Redis when the gate holds the person's state (the common case); else the gate's
    /// protocol (`read_through`), then the visits. An unreachable hot state closes nothing
    /// (the visit ends later, by the margin or the timeout) and consent comes from the store.
    pub(super) async fn consent_leaving(
        &self,
        app: &str,
        user_id: &str,
        person: &PersonId,
        leave: (&Track, &str, i64, i64),
    ) -> Result<(Allowed, Left), ApiError> {
        let (track, key, at_ms, now_ms) = leave;
        let habits = self.habits.as_ref();
        let reachable = match habits
            .leave(person.as_str(), false, track, key, at_ms, now_ms)
            .await
        {
            Ok(Leaving {
                gate: Some(consent),
                left,
            }) => return Ok((self.allows(user_id, consent)?, left)),
            Ok(_) => true,
            Err(_) => false,
        };
        let consent = self.require(app, user_id, person).await?;
        if !reachable {
            return Ok((consent, Left::default()));
        }
        let left = habits
            .leave(person.as_str(), true, track, key, at_ms, now_ms)
            .await
            .map(|l| l.left)
            .unwrap_or_default();
        Ok((consent, left))
    }

    /// What the person allows: from the consent gate, or from the store (filling the gate).
    async fn consent(
        &self,
        app: &str,
        user_id: &str,
        person: &PersonId,
    ) -> Result<Allowed, ApiError> {
        let (gate, store) = (self.consents.as_ref(), self.store.as_ref());
        Ok(read_through(gate, store, app, user_id, person).await?)
    }
}
