//! The signed-in browser: the session cookie, the extractor that finds its session, and the
//! CSRF check every form passes.

use super::ConsoleError;
use crate::auth::Principal;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "geoffer_console";

/// A signed-in request: who, and the CSRF token its forms carry.
pub struct Signed {
    /// Who signed in, with the rights of the key they used.
    pub who: Principal,
    /// This session's CSRF token.
    pub csrf: String,
    /// The session token (for sign-out).
    pub(super) token: String,
}

impl Signed {
    /// Refuses a form whose `csrf` field is not this session's token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), ConsoleError> {
        csrf_matches(&self.csrf, sent)
            .then_some(())
            .ok_or(ConsoleError::Csrf)
    }
}

/// Compares a sent CSRF token with the expected one in constant time; empty never matches.
pub fn csrf_matches(expected: &str, sent: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
}

impl FromRequest for Signed {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        Box::pin(async move {
            let (Some(state), Some(token)) = (state, token) else {
                return Err(ConsoleError::SignIn);
            };
            match state.services.sessions.find(&token).await? {
                Some(s) => Ok(Signed {
                    who: s.who,
                    csrf: s.csrf,
                    token,
                }),
                None => Err(ConsoleError::SignIn),
            }
        })
    }
}

/// A console cookie: HttpOnly, SameSite=Strict, only sent under `/console`, and Secure when
/// the request came over TLS (directly or, per `Forwarded`, through a proxy).
pub fn cookie(
    req: &HttpRequest,
    name: &'static str,
    value: String,
    max_age_s: i64,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .max_age(time::Duration::seconds(max_age_s))
        .finish()
}
