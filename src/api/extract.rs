//! Extractors that turn every malformed request into a problem+json naming the field:
//! JSON bodies (with size limit and content-type check) and query strings.

use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// The largest body an endpoint accepts; set per resource with `app_data`.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body parsed into `T`, or a 400/413/415/422 problem naming what is wrong.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(1 << 20, |l| l.0);
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let mime = content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if mime != "application/json" && !mime.ends_with("+json") {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "send the body as application/json (got `{}`)",
                    if mime.is_empty() {
                        "no content type"
                    } else {
                        &mime
                    }
                )));
            }
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::BadRequest {
                    detail: format!("could not read the body: {e}"),
                    errors: vec![],
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(ValidJson)
        })
    }
}

/// Parses JSON, reporting the pointer of the first problem.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = to_pointer(e.path());
        let inner = e.inner();
        let reason = inner.to_string();
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::invalid(pointer, reason),
            _ => ApiError::BadRequest {
                detail: format!("the body is not valid JSON: {reason}"),
                errors: vec![FieldError::new(pointer, reason)],
            },
        }
    })?;
    // One JSON value and nothing after it but white space: `{…} xyz` is not a body.
    de.end().map_err(|e| ApiError::BadRequest {
        detail: format!("the body must be exactly one JSON value: {e}"),
        errors: vec![FieldError::new("", "unexpected bytes after the JSON value")],
    })?;
    Ok(value)
}

/// Reads a JSON value (one item of a batch) as `T`; a problem's pointer is relative to it.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = to_pointer(e.path());
        ApiError::invalid(pointer, e.inner().to_string())
    })
}

/// `features[3].geometry` → `/features/3/geometry`.
fn to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .fold(String::new(), |acc, s| acc + "/" + &s)
}

/// A query string parsed into `T`, or a 400 naming the parameter.
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let qs = req.query_string();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(qs));
        let res = serde_path_to_error::deserialize(de)
            .map(ValidQuery)
            .map_err(|e| {
                let name = e.path().to_string();
                let reason = e.inner().to_string();
                ApiError::BadRequest {
                    detail: format!("query parameter `{name}`: {reason}"),
                    errors: vec![FieldError::new(format!("/query/{name}"), reason)],
                }
            });
        std::future::ready(res)
    }
}

fn form_urlencoded_parse(qs: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(qs.as_bytes())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("app state missing")))?;
            let key = header
                .as_deref()
                .and_then(|h| h.strip_prefix("Bearer "))
                .ok_or(ApiError::Unauthorized)?;
            state.services.access.authenticate(key).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn a_type_error_names_its_pointer() {
        let err = parse_json::<Doc>(br#"{"items": [{"n": 1}, {"n": "x"}]}"#).unwrap_err();
        match err {
            ApiError::Validation { errors, .. } => assert_eq!(errors[0].pointer, "/items/1/n"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_nan_literal_is_a_syntax_error_with_its_place() {
        let err = parse_json::<Doc>(br#"{"items": [{"n": NaN}]}"#).unwrap_err();
        match err {
            ApiError::BadRequest { errors, .. } => assert_eq!(errors[0].pointer, "/items/0/n"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bytes_after_the_value_are_refused_and_white_space_is_not() {
        let err = parse_json::<Doc>(br#"{"items": []} xyz"#).unwrap_err();
        assert!(matches!(err, ApiError::BadRequest { .. }), "{err:?}");
        assert!(parse_json::<Doc>(br#"{"items": []}{"items": []}"#).is_err());
        assert!(parse_json::<Doc>(b"{\"items\": []} \n\t").is_ok());
    }

    #[test]
    fn an_unknown_field_is_refused() {
        assert!(parse_json::<Doc>(br#"{"items": [], "extra": 1}"#).is_err());
    }
}
