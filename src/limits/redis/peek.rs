//! [`Limiter::peek`](super::super::Limiter::peek) on Redis: `peek.lua` reads the person's
//! grant log, the asked offers' logs and the brands' cool-downs in one read-only call; the
//! fields are judged here with claim.lua's rules (same formats, same order of checks).

use std::collections::HashMap;

use crate::limits::{Ask, Cap, Window};

/// The hash fields a peek at `asks` reads: `a`, then each offer's and brand's once.
pub(super) fn fields(asks: &[Ask]) -> Vec<String> {
    let mut out = vec!["a".to_owned()];
    for ask in asks {
        for f in [format!("o:{}", ask.offer_id), format!("cd:{}", ask.brand)] {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// One grant of the all-grants log `a`: '<at> <checkin> <offer> <brand> <fence>'.
struct Grant<'a> {
    at: i64,
    brand: &'a str,
    fence: &'a str,
}

/// Judges each ask against the fields `fields(asks)` named (values in the same order).
pub(super) fn judge(
    asks: &[Ask],
    names: &[String],
    values: &[Option<String>],
    now: i64,
) -> Vec<Option<Cap>> {
    let got: HashMap<&str, &str> = names
        .iter()
        .zip(values)
        .filter_map(|(n, v)| v.as_deref().map(|v| (n.as_str(), v)))
        .collect();
    let grants: Vec<Grant> = got
        .get("a")
        .map(|a| {
            a.lines()
                .filter_map(|l| {
                    let mut p = l.split(' ');
                    let at = p.next()?.parse().ok()?;
                    let (_, _, brand, fence) = (p.next()?, p.next()?, p.next()?, p.next()?);
                    Some(Grant { at, brand, fence })
                })
                .collect()
        })
        .unwrap_or_default();
    asks.iter()
        .map(|ask| {
            let until: i64 = got
                .get(format!("cd:{}", ask.brand).as_str())
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(-1);
            if until > now {
                return Some(Cap::BrandCooldown);
            }
            // 'o:<offer>' is '<ends>' then one '\n<at> <checkin>' per grant.
            let offer_grants: Vec<i64> = got
                .get(format!("o:{}", ask.offer_id).as_str())
                .map(|v| {
                    v.lines()
                        .skip(1)
                        .filter_map(|l| l.split(' ').next()?.parse().ok())
                        .collect()
                })
                .unwrap_or_default();
            let all = || grants.iter();
            let caps = &ask.caps;
            let full = |w: Window, times: &mut dyn Iterator<Item = i64>| {
                w.count == 0
                    || (w.period_ms() > 0
                        && times.filter(|at| *at > now - w.period_ms()).count() >= w.count as usize)
            };
            if full(caps.person_day, &mut all().map(|g| g.at)) {
                Some(Cap::PersonDay)
            } else if full(caps.person_week, &mut all().map(|g| g.at)) {
                Some(Cap::PersonWeek)
            } else if full(
                caps.person_brand,
                &mut all().filter(|g| g.brand == ask.brand).map(|g| g.at),
            ) {
                Some(Cap::PersonBrand)
            } else if full(caps.person_offer, &mut offer_grants.iter().copied()) {
                Some(Cap::PersonOffer)
            } else if full(
                caps.person_fence,
                &mut all().filter(|g| g.fence == ask.fence_id).map(|g| g.at),
            ) {
                Some(Cap::PersonFence)
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Caps;

    fn ask(offer: &str, brand: &str, fence: &str) -> Ask {
        Ask {
            brand: brand.into(),
            offer_id: offer.into(),
            fence_id: fence.into(),
            caps: Caps::default(),
        }
    }

    #[test]
    fn a_grant_an_hour_ago_fills_the_day_and_an_old_one_does_not() {
        let asks = [ask("o1", "b1", "f1")];
        let names = fields(&asks);
        assert_eq!(names, ["a", "o:o1", "cd:b1"]);
        let hour = 3_600_000;
        let now = 100 * 24 * hour;
        let recent = format!("{} c1 o9 b9 f9", now - hour);
        let values = [Some(recent), None, None];
        assert_eq!(judge(&asks, &names, &values, now), [Some(Cap::PersonDay)]);
        let old = format!("{} c1 o9 b9 f9", now - 25 * hour);
        let values = [Some(old), None, None];
        assert_eq!(judge(&asks, &names, &values, now), [None]);
    }

    #[test]
    fn a_cool_down_and_an_offer_already_given_are_named() {
        let asks = [ask("o1", "b1", "f1"), ask("o2", "b2", "f2")];
        let names = fields(&asks);
        let now = 1_000_000_000_000;
        let mut values = vec![None; names.len()];
        let at = |n: &str| names.iter().position(|x| x == n).unwrap();
        values[at("cd:b1")] = Some(format!("{}", now + 1000));
        values[at("o:o2")] = Some(format!("{}\n{} c7", now + 1000, now - 1000 * 86_400_000));
        assert_eq!(
            judge(&asks, &names, &values, now),
            [Some(Cap::BrandCooldown), Some(Cap::PersonOffer)]
        );
    }
}
