//! A console session: who signed in with which key, until when. The store keeps only a
//! SHA-256 of the session token, so a copy of the database signs nobody in.

use super::{Principal, Role};
use crate::domain::BrandId;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// A stored console session (never the token itself).
#[derive(Clone, PartialEq)]
pub struct SessionRecord {
    /// SHA-256 of the session token the cookie carries.
    pub token_hash: Vec<u8>,
    /// The public id of the key used to sign in (audit trails name it).
    pub key_id: String,
    /// That key's role.
    pub role: Role,
    /// For brand keys, their brand.
    pub brand: Option<BrandId>,
    /// When the session began.
    pub created_at: DateTime<Utc>,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("token_hash", &"[redacted]")
            .field("key_id", &self.key_id)
            .field("role", &self.role)
            .field("brand", &self.brand)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl SessionRecord {
    /// The caller the session stands for, with the rights of the key it began with.
    pub fn principal(&self) -> Principal {
        Principal {
            key_id: self.key_id.clone(),
            role: self.role,
            brand: self.brand.clone(),
            app: None,
        }
    }
}

/// The stored form of a session token.
pub fn hash_session_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The CSRF token of the session whose token is `token`: derived, so it needs no storage,
/// and unguessable without the session token (which only the cookie carries).
pub fn csrf_token(token: &str) -> String {
    hex::encode(Sha256::digest(
        format!("geoffer-console-csrf:{token}").as_bytes(),
    ))
}
