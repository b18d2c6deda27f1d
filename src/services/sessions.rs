//! Console sessions: sign in with an API key, look a session up, sign out. The session lives
//! in the store (any replica serves it); the browser holds only a random token.

use super::AccessService;
use crate::auth::{Principal, Role, SessionRecord, csrf_token, hash_session_token};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::store::Store;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use std::sync::Arc;

/// Sign-in, session look-up and sign-out for the console.
pub struct SessionService {
    store: Arc<dyn Store>,
    access: Arc<AccessService>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
}

/// A session just begun: the token goes into the cookie, never anywhere else.
pub struct NewSession {
    /// The session token (the cookie's value).
    pub token: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
    /// Who signed in.
    pub who: Principal,
}

/// A valid session, as a request finds it.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    /// Who is signed in.
    pub who: Principal,
    /// The token every form of this session must carry back.
    pub csrf: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

impl SessionService {
    /// Sessions stored in `store`, lasting `ttl`, begun with keys `access` verifies.
    pub fn new(
        store: Arc<dyn Store>,
        access: Arc<AccessService>,
        clock: Arc<dyn Clock>,
        ttl: Duration,
    ) -> Self {
        Self {
            store,
            access,
            clock,
            ttl,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Begins a session for a brand, support or admin key; app keys speak for people, not
    /// for staff, and are refused. Expired sessions are swept on the way.
    pub async fn sign_in(&self, key: &str) -> Result<NewSession, ApiError> {
        let who = self.access.authenticate(key).await?;
        if who.role == Role::App {
            return Err(ApiError::Forbidden(
                "app keys cannot sign in to the console; use a brand, support or admin key".into(),
            ));
        }
        let now = self.now();
        self.store.purge_sessions(now).await?;
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let token = URL_SAFE_NO_PAD.encode(raw);
        let record = SessionRecord {
            token_hash: hash_session_token(&token),
            key_id: who.key_id.clone(),
            role: who.role,
            brand: who.brand.clone(),
            created_at: now,
            expires_at: now + self.ttl,
        };
        self.store.create_session(&record).await?;
        Ok(NewSession {
            token,
            expires_at: record.expires_at,
            who,
        })
    }

    /// The session the cookie's `token` stands for, if it is still valid.
    pub async fn find(&self, token: &str) -> Result<Option<ActiveSession>, ApiError> {
        let found = self
            .store
            .valid_session(&hash_session_token(token), self.now())
            .await?;
        Ok(found.map(|s| ActiveSession {
            who: s.principal(),
            csrf: csrf_token(token),
            expires_at: s.expires_at,
        }))
    }

    /// Ends the session of `token`.
    pub async fn sign_out(&self, token: &str) -> Result<(), ApiError> {
        self.store
            .delete_session(&hash_session_token(token))
            .await?;
        Ok(())
    }
}
