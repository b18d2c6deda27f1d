//! Step 1, consent: without location consent nothing is processed or stored.

use super::Engine;
use crate::error::ApiError;
use crate::people::gate::Allowed;
use crate::people::{PersonId, check_user_id};
use crate::services::people::read_through;

impl Engine {
    /// The person behind `user_id` of `app` and what they allow; 403 without location consent.
    pub(super) async fn require_consent(
        &self,
        app: &str,
        user_id: &str,
    ) -> Result<(PersonId, Allowed), ApiError> {
        check_user_id(user_id).map_err(|e| ApiError::invalid("/user_id", e))?;
        let person = PersonId::of(app, user_id);
        let consent = self.consent(app, user_id, &person).await?;
        if !consent.location {
            self.metrics.count("none", "consent-required");
            return Err(ApiError::ConsentRequired(format!(
                "user `{user_id}` has not given location consent; PUT /v1/users/{{user_id}}/consent first"
            )));
        }
        Ok((person, consent))
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
