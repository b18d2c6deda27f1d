//! `/console/sign-in` and `/console/sign-out`.
//!
//! The sign-in form has no session yet, so its CSRF token is a double submit: the GET sets a
//! random token in a short-lived cookie and in the form; the POST must carry both, equal.

use super::ConsoleError;
use super::pages;
use super::session::{SESSION_COOKIE, Signed, cookie, csrf_matches};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use minijinja::context;
use rand::Rng;
use serde::Deserialize;

/// The sign-in form's own CSRF cookie.
const SIGN_IN_COOKIE: &str = "geoffer_console_signin";

/// The sign-in form, as posted.
#[derive(Deserialize)]
pub struct SignInForm {
    /// The API key.
    #[serde(default)]
    key: String,
    /// The form's CSRF token.
    #[serde(default)]
    csrf: String,
}

/// A form that carries only its CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
}

/// `GET /console/sign-in`; someone already signed in goes on to the console.
pub async fn form(req: HttpRequest, signed: Option<Signed>) -> HttpResponse {
    match signed {
        Some(_) => pages::see_other("/console"),
        None => sign_in_page(&req, StatusCode::OK, None),
    }
}

fn sign_in_page(req: &HttpRequest, status: StatusCode, error: Option<String>) -> HttpResponse {
    let mut raw = [0u8; 24];
    rand::rng().fill_bytes(&mut raw);
    let csrf = URL_SAFE_NO_PAD.encode(raw);
    let mut res = pages::render(status, "sign_in.html", context! { csrf => &csrf, error });
    let _ = res.add_cookie(&cookie(req, SIGN_IN_COOKIE, csrf, 3600));
    res
}

/// `POST /console/sign-in`: a valid brand, support or admin key begins a session.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, ConsoleError> {
    let expected = req
        .cookie(SIGN_IN_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if !csrf_matches(&expected, &form.csrf) {
        return Err(ConsoleError::Csrf);
    }
    let session = match state.services.sessions.sign_in(&form.key).await {
        Ok(s) => s,
        Err(ApiError::Unauthorized) => {
            return Ok(sign_in_page(
                &req,
                StatusCode::UNAUTHORIZED,
                Some("That key was not recognised. Paste the whole key, starting with gk_.".into()),
            ));
        }
        Err(ApiError::Forbidden(why)) => {
            return Ok(sign_in_page(&req, StatusCode::FORBIDDEN, Some(why)));
        }
        Err(e) => return Err(e.into()),
    };
    // The browser forgets the cookie when the server forgets the session.
    let ttl = i64::from(state.settings.console_session_hours) * 3600;
    let mut res = pages::see_other("/console");
    let _ = res.add_cookie(&cookie(&req, SESSION_COOKIE, session.token, ttl));
    let _ = res.add_removal_cookie(&cookie(&req, SIGN_IN_COOKIE, String::new(), 0));
    Ok(res)
}

/// `POST /console/sign-out`: ends the session and forgets the cookie.
pub async fn sign_out(
    who: Signed,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    who.check_csrf(&form.csrf)?;
    state.services.sessions.sign_out(&who.token).await?;
    let mut res = pages::see_other("/console/sign-in");
    let _ = res.add_removal_cookie(&cookie(&req, SESSION_COOKIE, String::new(), 0));
    Ok(res)
}
