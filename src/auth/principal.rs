//! Who is calling, and what their role lets them touch.

use crate::domain::BrandId;
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A key's role (see API.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including brands and keys.
    Admin,
    /// Its own brand's fences, offers and results.
    Brand,
    /// Consent, check-ins and events for its users.
    App,
    /// Read-only across brands.
    Support,
}

impl Role {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Brand => "brand",
            Role::App => "app",
            Role::Support => "support",
        }
    }

    /// Parses a lowercase role name.
    pub fn parse(s: &str) -> Option<Self> {
        [Role::Admin, Role::Brand, Role::App, Role::Support]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The key's public id (safe to log and audit).
    pub key_id: String,
    /// Its role.
    pub role: Role,
    /// For brand keys, their brand.
    pub brand: Option<BrandId>,
    /// For app keys, their app (user ids are scoped to it).
    pub app: Option<String>,
}

impl Principal {
    /// Reading a brand's configuration: admin and support anywhere, a brand key only its own.
    /// Another brand's things are reported missing, so their existence does not leak.
    pub fn can_read_brand(&self, brand: &BrandId) -> Result<(), ApiError> {
        match self.role {
            Role::Admin | Role::Support => Ok(()),
            Role::Brand if self.brand.as_ref() == Some(brand) => Ok(()),
            Role::Brand => Err(ApiError::NotFound(format!("brand `{brand}` not found"))),
            Role::App => Err(ApiError::Forbidden(
                "app keys cannot read brand configuration".into(),
            )),
        }
    }

    /// Changing a brand's configuration: admin anywhere, a brand key only its own.
    pub fn can_write_brand(&self, brand: &BrandId) -> Result<(), ApiError> {
        match self.role {
            Role::Support => Err(ApiError::Forbidden("support keys are read-only".into())),
            _ => self.can_read_brand(brand),
        }
    }

    /// Only admins.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            r => Err(ApiError::Forbidden(format!(
                "{} keys cannot do this; it needs an admin key",
                r.as_str()
            ))),
        }
    }

    /// Only apps (consent, check-ins, events); returns the app whose users the key speaks for.
    pub fn require_app(&self) -> Result<&str, ApiError> {
        match (self.role, &self.app) {
            (Role::App, Some(app)) => Ok(app),
            (Role::App, None) => Ok(crate::auth::DEFAULT_APP),
            (r, _) => Err(ApiError::Forbidden(format!(
                "{} keys cannot do this; it needs an app key",
                r.as_str()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand_key(b: &str) -> Principal {
        Principal {
            key_id: "k".into(),
            role: Role::Brand,
            brand: Some(BrandId::parse(b).unwrap()),
            app: None,
        }
    }

    #[test]
    fn a_brand_key_sees_another_brand_as_missing() {
        let other = BrandId::parse("beanline").unwrap();
        let err = brand_key("chillco").can_read_brand(&other).unwrap_err();
        assert!(matches!(err, ApiError::NotFound(_)));
    }

    #[test]
    fn support_reads_everything_and_writes_nothing() {
        let p = Principal {
            key_id: "s".into(),
            role: Role::Support,
            brand: None,
            app: None,
        };
        let b = BrandId::parse("chillco").unwrap();
        assert!(p.can_read_brand(&b).is_ok());
        assert!(matches!(p.can_write_brand(&b), Err(ApiError::Forbidden(_))));
    }
}
