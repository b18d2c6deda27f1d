//! Key material. A key is `gk_<id>_<secret>`: the id finds the record, the secret is stored only
//! as a SHA-256 hash (keys are 256 random bits, so a slow password hash buys nothing) and is
//! compared in constant time.

use super::Role;
use crate::domain::BrandId;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};

/// A stored key: never the secret, only its hash.
#[derive(Clone, PartialEq)]
pub struct ApiKeyRecord {
    /// Public part of the key; safe to log.
    pub id: String,
    /// SHA-256 of the secret part.
    pub secret_hash: Vec<u8>,
    /// What it may do.
    pub role: Role,
    /// For brand keys, the brand.
    pub brand: Option<BrandId>,
    /// For app keys, the app whose users it speaks for (user ids are scoped to it).
    pub app: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for ApiKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyRecord")
            .field("id", &self.id)
            .field("secret_hash", &"[redacted]")
            .field("role", &self.role)
            .field("brand", &self.brand)
            .field("app", &self.app)
            .finish()
    }
}

/// The app an app key speaks for when none is named.
pub const DEFAULT_APP: &str = "default";

/// A freshly generated key: the record to store and the full key to show once.
pub struct NewKey {
    /// What the store keeps.
    pub record: ApiKeyRecord,
    /// The full key; shown to its owner once, never stored.
    pub plaintext: String,
}

/// Makes a new random key.
pub fn generate_key(role: Role, brand: Option<BrandId>, created_at: DateTime<Utc>) -> NewKey {
    let mut rng = rand::rng();
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let secret = URL_SAFE_NO_PAD.encode(secret);
    NewKey {
        plaintext: format!("gk_{id}_{secret}"),
        record: ApiKeyRecord {
            id,
            secret_hash: hash_secret(&secret),
            app: (role == Role::App).then(|| DEFAULT_APP.to_string()),
            role,
            brand,
            created_at,
        },
    }
}

/// Splits a presented key into id and secret.
pub fn split_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("gk_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && !secret.is_empty()).then_some((id, secret))
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_splits_back_into_its_record() {
        let k = generate_key(Role::Admin, None, Utc::now());
        let (id, secret) = split_key(&k.plaintext).unwrap();
        assert_eq!(id, k.record.id);
        assert_eq!(hash_secret(secret), k.record.secret_hash);
    }

    #[test]
    fn malformed_keys_do_not_split() {
        for bad in ["", "gk_", "gk_short_x", "bearer", "gk_0123456789abcdef_"] {
            assert!(split_key(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_hash() {
        let k = generate_key(Role::App, None, Utc::now());
        assert!(!format!("{:?}", k.record).contains(&hex::encode(&k.record.secret_hash)));
    }
}
