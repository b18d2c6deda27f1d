//! Opaque cursors and page sizes, as every list (API or console) takes them.

use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page size.
pub const MAX_LIMIT: u32 = 1000;

/// Validates `limit`.
pub fn limit(v: Option<u32>) -> Result<u32, ApiError> {
    match v {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::BadRequest {
            detail: format!("limit must be between 1 and {MAX_LIMIT}, got {n}"),
            errors: vec![crate::error::FieldError::new(
                "/query/limit",
                format!("must be 1-{MAX_LIMIT}"),
            )],
        }),
    }
}

/// Encodes the last item's key as an opaque cursor.
pub fn encode(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// Decodes a cursor made by [`encode`].
pub fn decode<T: std::str::FromStr>(cursor: Option<&str>) -> Result<Option<T>, ApiError> {
    let Some(c) = cursor else { return Ok(None) };
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest {
            detail: "cursor is not one this API issued; start again without it".into(),
            errors: vec![crate::error::FieldError::new(
                "/query/cursor",
                "unknown cursor",
            )],
        })
}
