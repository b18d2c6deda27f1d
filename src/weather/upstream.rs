//! One HTTP round trip to Open-Meteo, with no caching or policy.
//!
//! Kept apart from the provider so the policy code (cache, single-flight,
//! budget, breaker) reads without HTTP details, and so the URL and error
//! classification can be tested on their own.

use std::time::Duration;

use reqwest::{StatusCode, Url};

use super::config::OpenMeteoError;
use super::grid::GridCell;
use super::wire::{self, WireError};
use super::{Weather, reason};

/// Variables requested in `current=`; exactly what [`Weather`] needs.
const CURRENT_FIELDS: &str =
    "temperature_2m,apparent_temperature,precipitation,weather_code,is_day";

/// Why one upstream call failed; logged, then reduced to a reason string.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// Connect, read or the hard upstream timeout failed.
    #[error("request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The upstream answered with a non-2xx status.
    #[error("HTTP status {0}")]
    Status(StatusCode),
    /// The upstream answered 2xx with a body that is not usable weather.
    #[error("unusable body: {0}")]
    Body(#[from] WireError),
}

impl FetchError {
    /// The [`reason`] reported to callers for this failure.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            FetchError::Transport(_) | FetchError::Status(_) => reason::UPSTREAM_ERROR,
            FetchError::Body(_) => reason::BAD_RESPONSE,
        }
    }
}

/// Open-Meteo forecast endpoint client.
#[derive(Debug)]
pub(crate) struct Upstream {
    client: reqwest::Client,
    forecast_url: Url,
}

impl Upstream {
    /// Client for `{base_url}/v1/forecast`; every call (connect included) is
    /// cut at `timeout` so background calls cannot pile up behind a hung host.
    pub(crate) fn new(base_url: &str, timeout: Duration) -> Result<Self, OpenMeteoError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("geoffer/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Upstream {
            client,
            forecast_url: forecast_url(base_url)?,
        })
    }

    /// Current weather at the centre of `cell`.
    pub(crate) async fn fetch(&self, cell: GridCell) -> Result<Weather, FetchError> {
        let (lat, lon) = cell.centre();
        let mut url = self.forecast_url.clone();
        url.query_pairs_mut()
            .append_pair("latitude", &lat.to_string())
            .append_pair("longitude", &lon.to_string())
            .append_pair("current", CURRENT_FIELDS);
        let response = self.client.get(url).send().await?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status(status));
        }
        let body = response.bytes().await?;
        Ok(wire::parse_forecast(&body)?)
    }
}

/// `{base}/v1/forecast`, keeping any path prefix of the base (for proxies).
fn forecast_url(base: &str) -> Result<Url, OpenMeteoError> {
    let invalid = |reason: String| OpenMeteoError::InvalidBaseUrl {
        url: base.to_string(),
        reason,
    };
    let url = Url::parse(&format!(
        "{}/v1/forecast",
        base.trim().trim_end_matches('/')
    ))
    .map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("scheme must be http or https".into()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forecast_path_is_appended_to_any_base_url() {
        let u = forecast_url("https://api.open-meteo.com").unwrap();
        assert_eq!(u.as_str(), "https://api.open-meteo.com/v1/forecast");
        let u = forecast_url("http://127.0.0.1:8080/proxy/").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8080/proxy/v1/forecast");
        assert!(forecast_url("not a url").is_err());
        assert!(forecast_url("ftp://example.org").is_err());
    }

    #[tokio::test]
    async fn an_unreachable_upstream_is_a_transport_error_reported_as_upstream_error() {
        // Port 9 (discard) on loopback: nothing listens, the connect is refused.
        let up = Upstream::new("http://127.0.0.1:9", Duration::from_secs(2)).unwrap();
        let err = up.fetch(GridCell::of(52.52, 13.40)).await.unwrap_err();
        assert!(matches!(err, FetchError::Transport(_)), "{err:?}");
        assert_eq!(err.reason(), reason::UPSTREAM_ERROR);
    }
}
