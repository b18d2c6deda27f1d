//! Reading the scripts' answers.
//!
//! Answers are short space-separated strings rather than Lua tables so that the very
//! same text can be stored as the idempotency record and replayed verbatim.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::limits::{BudgetWindow, Cap, ClaimOutcome, Denial, Holder, LimiterError};

/// Parses `G <at_ms>` or `D <cap> <limit> <period_ms> <until_ms> <held_at_ms> <checkin> <offer>`.
pub(super) fn parse_answer(answer: &str, replayed: bool) -> Result<ClaimOutcome, LimiterError> {
    let bad = || LimiterError::Internal(format!("unreadable limiter answer {answer:?}"));
    let mut parts = answer.splitn(8, ' ');
    match parts.next() {
        Some("G") => {
            let at = parts.next().and_then(millis).ok_or_else(bad)?;
            Ok(ClaimOutcome::Granted {
                at,
                replayed,
                exhausted: None,
            })
        }
        Some("D") => {
            let cap = parts.next().and_then(Cap::parse).ok_or_else(bad)?;
            let mut num = || {
                parts
                    .next()
                    .and_then(|p| p.parse::<i64>().ok())
                    .ok_or_else(bad)
            };
            let (limit, period, until, held_at) = (num()?, num()?, num()?, num()?);
            let checkin = parts.next().ok_or_else(bad)?;
            let offer = parts.next().ok_or_else(bad)?;
            let held_by = millis_i64(held_at).map(|at| Holder {
                offer_id: offer.to_owned(),
                checkin_id: checkin.to_owned(),
                at,
            });
            Ok(ClaimOutcome::Denied(Denial {
                cap,
                limit: u64::try_from(limit).unwrap_or(0),
                period: u64::try_from(period)
                    .ok()
                    .filter(|ms| *ms > 0)
                    .map(Duration::from_millis),
                held_by,
                until: millis_i64(until),
            }))
        }
        _ => Err(bad()),
    }
}

/// The grant with what budget.lua said after its `OK`: nothing, ` total` or ` daily`
/// (the budget window this reservation used up).
pub(super) fn with_exhausted(
    outcome: ClaimOutcome,
    used_up: &str,
) -> Result<ClaimOutcome, LimiterError> {
    let window = match used_up.trim() {
        "" => None,
        name => Some(BudgetWindow::parse(name).ok_or_else(|| {
            LimiterError::Internal(format!("unreadable budget answer {used_up:?}"))
        })?),
    };
    Ok(match outcome {
        ClaimOutcome::Granted { at, replayed, .. } => ClaimOutcome::Granted {
            at,
            replayed,
            exhausted: window,
        },
        denied => denied,
    })
}

fn millis(text: &str) -> Option<DateTime<Utc>> {
    millis_i64(text.parse().ok()?)
}

/// Negative values stand for "absent" on the wire.
fn millis_i64(ms: i64) -> Option<DateTime<Utc>> {
    if ms < 0 {
        None
    } else {
        DateTime::from_timestamp_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_with_a_holder_reads_back_every_field() {
        let outcome = parse_answer("D person-day 1 86400000 200 100 ck-1 offer-9", false).unwrap();
        let denial = outcome.denial().unwrap();
        assert_eq!(denial.cap, Cap::PersonDay);
        assert_eq!(denial.limit, 1);
        assert_eq!(denial.period, Some(Duration::from_secs(86_400)));
        let holder = denial.held_by.as_ref().unwrap();
        assert_eq!(
            (holder.checkin_id.as_str(), holder.offer_id.as_str()),
            ("ck-1", "offer-9")
        );
        assert_eq!(holder.at.timestamp_millis(), 100);
        assert_eq!(denial.until.unwrap().timestamp_millis(), 200);
    }

    #[test]
    fn absent_values_read_as_none() {
        let outcome = parse_answer("D budget-total 100 -1 -1 -1 - -", false).unwrap();
        let denial = outcome.denial().unwrap();
        assert_eq!(
            (denial.period, &denial.held_by, denial.until),
            (None, &None, None)
        );
    }

    #[test]
    fn garbage_is_an_internal_error_not_a_panic() {
        assert!(parse_answer("X", false).is_err());
        assert!(parse_answer("D person-day one", false).is_err());
        assert!(parse_answer("", true).is_err());
    }
}
