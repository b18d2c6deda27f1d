//! What a console request can fail with, answered as an HTML page (never problem+json).

use super::pages;
use crate::error::ApiError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// A console failure.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No valid session: go and sign in.
    #[error("sign in first")]
    SignIn,
    /// A form came back without this session's CSRF token.
    #[error(
        "This form was refused: it did not carry this session's security token. Reload the page and try again."
    )]
    Csrf,
    /// A form that cannot be read at all.
    #[error("the form could not be read: {0}")]
    BadForm(String),
    /// What a service answered.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn => StatusCode::SEE_OTHER,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::BadForm(_) => StatusCode::BAD_REQUEST,
            Self::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignIn = self {
            return pages::see_other("/console/sign-in");
        }
        if let Self::Api(ApiError::Internal(cause)) = self {
            tracing::error!(error.cause_chain = ?cause, "console request failed");
        }
        let status = self.status_code();
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Refused",
            s if s.is_server_error() => "Something went wrong",
            _ => "That did not work",
        };
        pages::render(
            status,
            "error.html",
            minijinja::context! { title, status => status.as_u16(), message => self.to_string() },
        )
    }
}
