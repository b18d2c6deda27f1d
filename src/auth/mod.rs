//! API keys, roles and the authenticated caller.

mod cache;
mod keys;
mod principal;
mod session;

pub use cache::KeyCache;
pub use keys::{ApiKeyRecord, DEFAULT_APP, NewKey, generate_key, hash_secret, split_key};
pub use principal::{Principal, Role};
pub use session::{SessionRecord, csrf_token, hash_session_token};
