//! Deliveries as CSV or NDJSON. Both are derived from the JSON form of a delivery, so the three
//! formats carry the same fields with the same text (CSV: an empty cell means absent).

use super::deliveries::Delivery;
use serde_json::Value;

/// What a deliveries request answers with, chosen by its `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON page with a cursor.
    Json,
    /// Every matching row, streamed as CSV with a header line.
    Csv,
    /// Every matching row, streamed as one JSON object per line.
    Ndjson,
}

impl Format {
    /// The response's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Ndjson => "application/x-ndjson",
        }
    }

    /// Picks the format from an `Accept` header: the highest `q` wins, earlier wins ties, and
    /// no header (or `*/*`) means JSON. `Err` lists what is on offer.
    pub fn negotiate(accept: Option<&str>) -> Result<Self, String> {
        let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
            return Ok(Self::Json);
        };
        let mut best: Option<(f32, Self)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let mime = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let format = match mime.as_str() {
                "application/json" | "application/*" | "*/*" => Self::Json,
                "text/csv" | "text/*" => Self::Csv,
                "application/x-ndjson" | "application/ndjson" => Self::Ndjson,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, format));
            }
        }
        best.map(|(_, f)| f).ok_or_else(|| {
            format!(
                "cannot answer with `{accept}`: ask for application/json, text/csv or application/x-ndjson"
            )
        })
    }
}

/// The CSV columns, in order: the fields of a delivery's JSON form.
pub const COLUMNS: [&str; 14] = [
    "id",
    "created_at",
    "app",
    "user_id",
    "device_id",
    "brand",
    "offer_id",
    "fence_id",
    "checkin_id",
    "title",
    "body",
    "redemption_code",
    "expires_at",
    "status",
];

/// The CSV header line.
pub fn csv_header() -> String {
    COLUMNS.join(",") + "\r\n"
}

/// One delivery as a CSV line (RFC 4180: CRLF, quotes doubled inside quoted cells).
pub fn csv_line(d: &Delivery) -> String {
    let v = serde_json::to_value(d).unwrap_or(Value::Null);
    let cells: Vec<String> = COLUMNS
        .iter()
        .map(|c| match &v[*c] {
            Value::Null => String::new(),
            Value::String(s) => csv_cell(s),
            other => csv_cell(&other.to_string()),
        })
        .collect();
    cells.join(",") + "\r\n"
}

/// One delivery as an NDJSON line.
pub fn ndjson_line(d: &Delivery) -> String {
    serde_json::to_string(d).unwrap_or_default() + "\n"
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_header_picks_the_format_by_quality() {
        assert_eq!(Format::negotiate(None), Ok(Format::Json));
        assert_eq!(Format::negotiate(Some("text/csv")), Ok(Format::Csv));
        assert_eq!(
            Format::negotiate(Some("application/json;q=0.5, application/x-ndjson")),
            Ok(Format::Ndjson)
        );
        assert_eq!(Format::negotiate(Some("*/*")), Ok(Format::Json));
        assert!(Format::negotiate(Some("image/png")).is_err());
        assert!(Format::negotiate(Some("text/csv;q=0")).is_err());
    }

    #[test]
    fn a_cell_with_commas_quotes_or_newlines_is_quoted() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a, \"b\"\nc"), "\"a, \"\"b\"\"\nc\"");
    }
}
