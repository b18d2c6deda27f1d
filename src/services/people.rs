//! People: the consent-change protocol, erasure, and consent as the request paths read it.
//!
//! A consent change follows the gate's protocol (`people/gate/`): mark the person
//! *changing*, commit to the store, publish the committed state. Forgetting a person goes
//! through Redis (limiter and habits) first, then the store, so a failure leaves something to
//! retry rather than a half-forgotten person who looks clean.

use crate::auth::Principal;
use crate::checkins::admission::Admission;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::habits::Habits;
use crate::limits::Limiter;
use crate::people::gate::{Allowed, ConsentGate, Lookup};
use crate::people::{Consent, ConsentInput, PersonId, check_user_id};
use crate::store::{Erase, Store, StoreError};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// Consent and erasure, with the hot state that must follow them.
pub struct PeopleService {
    store: Arc<dyn Store>,
    gate: Arc<dyn ConsentGate>,
    limiter: Arc<dyn Limiter>,
    habits: Arc<dyn Habits>,
    admission: Arc<Admission>,
    clock: Arc<dyn Clock>,
}

/// The proof of an erasure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureReceipt {
    /// Quote this id; it is kept, the person is not.
    pub receipt: String,
}

/// The handles a [`PeopleService`] needs.
pub struct PeopleDeps {
    /// The durable record of consent.
    pub store: Arc<dyn Store>,
    /// The hot copy of consent.
    pub gate: Arc<dyn ConsentGate>,
    /// Caps, erased with location data.
    pub limiter: Arc<dyn Limiter>,
    /// Visits and habits, erased with personalization.
    pub habits: Arc<dyn Habits>,
    /// Turns shared with check-ins: changes wait like check-ins under overload.
    pub admission: Arc<Admission>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl PeopleService {
    /// A people service over these handles.
    pub fn new(d: PeopleDeps) -> Self {
        Self {
            store: d.store,
            gate: d.gate,
            limiter: d.limiter,
            habits: d.habits,
            admission: d.admission,
            clock: d.clock,
        }
    }

    /// The one clock reading of this service; consent and erasure writes take it from here
    /// once the store accepts a `now`.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Sets a user's consent (app key). Withdrawing stops processing at once and erases what
    /// it covered: personalization takes habits and the profile with it; location takes the
    /// history too.
    pub async fn put_consent(
        &self,
        who: &Principal,
        user: &str,
        input: &ConsentInput,
    ) -> Result<Consent, ApiError> {
        let app = app_user(who, user)?;
        let _turn = self.admission.enter().await?;
        self.change_consent(app, user, input).await
    }

    /// The consent-change protocol for `app`'s `user`, without a key (the demo's consented
    /// person); callers other than [`put_consent`](Self::put_consent) hold no turn.
    pub async fn change_consent(
        &self,
        app: &str,
        user: &str,
        input: &ConsentInput,
    ) -> Result<Consent, ApiError> {
        let person = PersonId::of(app, user);
        // Record the withdrawal first: from this moment nothing new is processed.
        self.gate.begin_change(&person).await.map_err(|e| {
            ApiError::Unavailable(format!("could not record consent, try again: {e}"))
        })?;
        let consent = self.store.put_consent(app, user, input, self.now()).await?;
        self.gate
            .publish(&person, Some(Allowed::from(&consent)))
            .await;
        if !input.location {
            self.erase(&person, Erase::History).await?;
        } else if !input.personalization {
            self.erase(&person, Erase::Profile).await?;
        }
        Ok(consent)
    }

    /// A user's consent (app key); someone who never answered has everything off.
    pub async fn consent(&self, who: &Principal, user: &str) -> Result<Consent, ApiError> {
        let app = app_user(who, user)?;
        Ok(self
            .store
            .get_consent(app, user)
            .await?
            .unwrap_or_else(|| Consent::none(user)))
    }

    /// What the person allows: from the consent gate, or from the store (filling the gate).
    pub async fn allowed(
        &self,
        app: &str,
        user: &str,
        person: &PersonId,
    ) -> Result<Allowed, ApiError> {
        Ok(read_through(self.gate.as_ref(), self.store.as_ref(), app, user, person).await?)
    }

    /// Erases a user (app key): everything kept about them, consent included, in the store
    /// and in Redis. Later check-ins from the id are unconsented until consent is given again.
    pub async fn erase_user(
        &self,
        who: &Principal,
        user: &str,
    ) -> Result<ErasureReceipt, ApiError> {
        let app = app_user(who, user)?;
        let _turn = self.admission.enter().await?;
        let person = PersonId::of(app, user);
        // The consent record goes with everything else: later check-ins are unconsented.
        self.gate
            .begin_change(&person)
            .await
            .map_err(|e| ApiError::Unavailable(format!("could not erase, try again: {e}")))?;
        self.erase(&person, Erase::Everything).await?;
        self.gate.publish(&person, None).await;
        let receipt = uuid::Uuid::new_v4().to_string();
        self.store.record_erasure(&receipt, self.now()).await?;
        Ok(ErasureReceipt { receipt })
    }

    /// Erases `what` of `person` everywhere geoffer keeps it.
    async fn erase(&self, person: &PersonId, what: Erase) -> Result<(), ApiError> {
        self.habits.forget(person.as_str()).await.map_err(|e| {
            ApiError::Unavailable(format!("could not erase habit state, try again: {e}"))
        })?;
        if what != Erase::Profile {
            // Caps are about deliveries, not the profile; they go with location data.
            self.limiter
                .forget_person(person.as_str())
                .await
                .map_err(|e| {
                    ApiError::Unavailable(format!(
                        "could not erase rate-limit state, try again: {e}"
                    ))
                })?;
        }
        self.store.erase(person, what).await?;
        Ok(())
    }
}

/// The caller's app, once the key is an app key and the user id is well-formed.
fn app_user<'a>(who: &'a Principal, user_id: &str) -> Result<&'a str, ApiError> {
    let app = who.require_app()?;
    check_user_id(user_id).map_err(|e| ApiError::invalid("/path/user_id", e))?;
    Ok(app)
}

/// What a person allows, read through the consent gate: the gate's copy when it has one,
/// else the store's record, filled into the gate when no change raced with the read (the
/// protocol of `people::gate`). Check-ins and events both read consent here.
pub async fn read_through(
    gate: &dyn ConsentGate,
    store: &dyn Store,
    app: &str,
    user: &str,
    person: &PersonId,
) -> Result<Allowed, StoreError> {
    let ticket = match gate.get(person).await {
        Lookup::Known(allowed) => return Ok(allowed),
        Lookup::Ask(ticket) => ticket,
    };
    let allowed = store
        .get_consent(app, user)
        .await?
        .map_or(Allowed::NOTHING, |c| Allowed::from(&c));
    if let Some(ticket) = ticket {
        gate.fill(person, ticket, allowed).await;
    }
    Ok(allowed)
}
