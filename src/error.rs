//! The one API error type: every 4xx and 5xx leaves the service as RFC 9457 problem+json.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before retrying a 503 (`Retry-After`).
pub const RETRY_AFTER_S: u64 = 1;

/// One field-level problem: a JSON pointer into the request and what is wrong there.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    /// RFC 6901 pointer into the request body (or `/query/name`, `/path/name`).
    pub pointer: String,
    /// What is wrong, written for the person who has to fix it.
    pub reason: String,
}

impl FieldError {
    /// A problem at `pointer`.
    pub fn new(pointer: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            reason: reason.into(),
        }
    }
}

/// The problem+json body (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem; see docs/errors.md.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// Field-level problems, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No key, or a key we do not know.
    #[error("a valid API key is required: send `Authorization: Bearer <key>`")]
    Unauthorized,
    /// The key is valid but its role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The person has not given the consent this needs.
    #[error("{0}")]
    ConsentRequired(String),
    /// Nothing there, or nothing this key may see (no existence leak).
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed JSON but breaks a rule.
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The body is not JSON at all, or a query/path parameter is malformed.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The change conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A `checkin_id` already decided for another user or another report of the app.
    #[error("{0}")]
    CheckinIdReused(String),
    /// The body is larger than this endpoint accepts.
    #[error("the request body is larger than the {0} bytes this endpoint accepts")]
    PayloadTooLarge(usize),
    /// The body is not `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// None of the media types the `Accept` header lists can be produced.
    #[error("{0}")]
    NotAcceptable(String),
    /// The app is past a request limit (`app_requests_per_minute`); the answer carries
    /// `Retry-After`. Never used for a person's caps (those answer 200 `none`).
    #[error("{detail}")]
    RateLimited { detail: String, retry_after_s: u64 },
    /// A dependency (store, limiter) cannot be reached, or the service is overloaded; the
    /// answer carries `Retry-After`.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else; details go to the log, never to the client.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A validation error with one field problem.
    pub fn invalid(pointer: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(pointer, reason)])
    }

    /// A validation error listing every field problem found.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.pointer, one.reason),
            many => format!("{} fields are invalid; see `errors`", many.len()),
        };
        Self::Validation { detail, errors }
    }

    /// The database cannot record: 503 with a detail that names no internals (the cause goes
    /// to the log).
    pub fn unavailable_store(cause: &anyhow::Error) -> Self {
        tracing::warn!(error.cause_chain = ?cause, "the database cannot record");
        Self::Unavailable("the database cannot record right now; retry later".into())
    }

    /// The slug that ends the problem `type` URI.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::ConsentRequired(_) => "consent-required",
            Self::NotFound(_) => "not-found",
            Self::Validation { .. } => "validation",
            Self::BadRequest { .. } => "bad-request",
            Self::Conflict(_) => "conflict",
            Self::CheckinIdReused(_) => "checkin-id-reused",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::NotAcceptable(_) => "not-acceptable",
            Self::RateLimited { .. } => "app-request-limit",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The problem+json body this error answers with (internals never in it).
    pub fn to_problem(&self) -> Problem {
        let status = self.status_code();
        let errors = match self {
            Self::Validation { errors, .. } | Self::BadRequest { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        Problem {
            type_: problem_type(self.slug()),
            title: title_for(status),
            status: status.as_u16(),
            detail: self.to_string(),
            errors,
        }
    }
}

/// The `type` URI of a problem slug (documented in docs/errors.md).
pub fn problem_type(slug: &str) -> String {
    format!("https://geoffer.dev/problems/{slug}")
}

/// The canonical reason phrase, used as the problem title.
pub fn title_for(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_string()
}

/// A problem+json response from parts; used where no `ApiError` exists (middleware rewrites).
pub fn problem_response(status: StatusCode, slug: &str, detail: String) -> HttpResponse {
    let body = Problem {
        type_: problem_type(slug),
        title: title_for(status),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
    };
    json_problem(status, &body)
}

fn json_problem(status: StatusCode, body: &Problem) -> HttpResponse {
    let mut res = HttpResponse::build(status).json(body);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    res
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::ConsentRequired(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Conflict(_) | Self::CheckinIdReused(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            // The client sees no internals; the log keeps the whole chain.
            tracing::error!(error.cause_chain = ?cause, "request failed");
        }
        let mut res = json_problem(self.status_code(), &self.to_problem());
        match self {
            Self::Unauthorized => {
                res.headers_mut().insert(
                    actix_web::http::header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer"),
                );
            }
            Self::RateLimited { retry_after_s, .. } => {
                res.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    HeaderValue::from(*retry_after_s),
                );
            }
            Self::Unavailable(_) => {
                res.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    HeaderValue::from(RETRY_AFTER_S),
                );
            }
            _ => {}
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_error_hides_its_cause_from_the_client() {
        let err = ApiError::Internal(anyhow::anyhow!("disk /var/secret exploded"));
        let problem = err.to_problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("secret"));
    }

    #[test]
    fn one_field_error_is_named_in_the_detail() {
        let err = ApiError::invalid(
            "/geometry/coordinates/1",
            "latitude must be within -90..=90",
        );
        assert!(err.to_string().contains("/geometry/coordinates/1"));
        assert_eq!(err.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
