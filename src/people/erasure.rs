//! Forgetting a person: in Redis (limiter and habits) first, then in the store, so a failure
//! leaves something to retry rather than a half-forgotten person who looks clean.

use crate::error::ApiError;
use crate::people::PersonId;
use crate::state::AppState;
use crate::store::Erase;

/// Erases `what` of `person` everywhere geoffer keeps it.
pub async fn erase(state: &AppState, person: &PersonId, what: Erase) -> Result<(), ApiError> {
    let engine = &state.engine;
    engine.habits().forget(person.as_str()).await.map_err(|e| {
        ApiError::Unavailable(format!("could not erase habit state, try again: {e}"))
    })?;
    if what != Erase::Profile {
        // Caps are about deliveries, not the profile; they go with location data.
        engine
            .limiter()
            .forget_person(person.as_str())
            .await
            .map_err(|e| {
                ApiError::Unavailable(format!("could not erase rate-limit state, try again: {e}"))
            })?;
    }
    state.store.erase(person, what).await?;
    Ok(())
}
