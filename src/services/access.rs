//! Who is asking: a bearer key checked against its stored hash (cached once verified).

use crate::auth::{KeyCache, Principal, hash_secret, split_key};
use crate::error::ApiError;
use crate::store::Store;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Verifies API keys; the API's extractor and the console's sign-in both ask here.
pub struct AccessService {
    store: Arc<dyn Store>,
    keys: Arc<KeyCache>,
}

impl AccessService {
    /// Verifies keys against `store`, remembering verified records in `keys`.
    pub fn new(store: Arc<dyn Store>, keys: Arc<KeyCache>) -> Self {
        Self { store, keys }
    }

    /// The principal a full key (`gk_<id>_<secret>`) stands for, or 401.
    pub async fn authenticate(&self, key: &str) -> Result<Principal, ApiError> {
        let (id, secret) = split_key(key.trim()).ok_or(ApiError::Unauthorized)?;
        let record = match self.keys.get(id) {
            Some(r) => r,
            None => {
                let r = self
                    .store
                    .find_key(id)
                    .await
                    .map_err(|e| ApiError::Internal(e.into()))?;
                let r = r.ok_or(ApiError::Unauthorized)?;
                self.keys.put(r.clone());
                r
            }
        };
        // Constant-time: how much of a guess matched must not show in the timing.
        if !bool::from(record.secret_hash.ct_eq(&hash_secret(secret))) {
            return Err(ApiError::Unauthorized);
        }
        Ok(Principal {
            key_id: record.id,
            role: record.role,
            brand: record.brand,
            app: record.app,
        })
    }
}
