//! Latency summaries printed as markdown, so results paste straight into docs/benchmarks.md.

use hdrhistogram::Histogram;

/// A histogram of nanoseconds, 1 ns to 60 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// `p50 / p90 / p99 / p99.9 / max` of a nanosecond histogram, in microseconds.
pub fn percentiles_us(h: &Histogram<u64>) -> String {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
    format!(
        "{:.2} / {:.2} / {:.2} / {:.2} / {:.2}",
        us(0.5),
        us(0.9),
        us(0.99),
        us(0.999),
        h.max() as f64 / 1_000.0
    )
}

/// `p50 | p90 | p99 | p99.9 | max` of a nanosecond histogram, in milliseconds, as table cells.
pub fn percentiles_ms_cells(h: &Histogram<u64>) -> String {
    if h.is_empty() {
        return "- | - | - | - | -".into();
    }
    let ms = |v: u64| format!("{:.2}", v as f64 / 1e6);
    [0.5, 0.9, 0.99, 0.999]
        .iter()
        .map(|q| ms(h.value_at_quantile(*q)))
        .chain(std::iter::once(ms(h.max())))
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_in_microseconds() {
        let mut h = histogram();
        for v in 1..=1000u64 {
            h.record(v * 1_000).unwrap();
        }
        assert!(percentiles_us(&h).starts_with("500."));
    }
}
