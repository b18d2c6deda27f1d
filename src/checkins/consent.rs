//! Step 1, consent: without location consent nothing is processed or stored.

use super::Engine;
use crate::error::ApiError;
use crate::people::gate::{Allowed, Lookup};
use crate::people::{PersonId, check_user_id};

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
    /// Check-ins and events both ask here.
    pub async fn consent(
        &self,
        app: &str,
        user_id: &str,
        person: &PersonId,
    ) -> Result<Allowed, ApiError> {
        let ticket = match self.consents.get(person).await {
            Lookup::Known(allowed) => return Ok(allowed),
            Lookup::Ask(ticket) => ticket,
        };
        let allowed = self
            .store
            .get_consent(app, user_id)
            .await?
            .map_or(Allowed::NOTHING, |c| Allowed::from(&c));
        if let Some(ticket) = ticket {
            self.consents.fill(person, ticket, allowed).await;
        }
        Ok(allowed)
    }
}
