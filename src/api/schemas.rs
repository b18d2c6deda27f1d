//! Schemas of the API's own lists (used with `#[param(schema_with = …)]`); the schemas of
//! domain values are in `crate::domain::schemas`.

use crate::domain::schemas::one_of;
use utoipa::openapi::{RefOr, Schema};

/// A delivery status (`crate::decisions::deliveries::STATUSES`).
pub fn delivery_status() -> RefOr<Schema> {
    one_of(crate::decisions::deliveries::STATUSES).into()
}

/// A kind of support read (`crate::audit::reads::WHATS`).
pub fn read_kind() -> RefOr<Schema> {
    one_of(crate::audit::reads::WHATS).into()
}
