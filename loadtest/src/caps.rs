//! The cap checker: replays the deliveries the generator received and flags every person who
//! got more offers than docs/rate-limits.md allows, over real-time sliding windows.
//!
//! About 300 lines, 110 of them tests.

use std::collections::{BTreeMap, HashMap, HashSet};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// One offer a simulated person received, as the check-in answer reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The simulated person (the app's user id).
    pub person: String,
    /// `offer.delivery_id`.
    pub delivery_id: String,
    /// `offer.brand`.
    pub brand: String,
    /// `offer.offer_id`.
    pub offer: String,
    /// `offer.fence.id`.
    pub fence: String,
    /// When the answer arrived, Unix milliseconds (the client's real clock).
    pub at_ms: i64,
}

/// A cap: at most `count` deliveries in any window of `period_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Deliveries allowed per window.
    pub count: usize,
    /// The window's length.
    pub period_ms: i64,
}

impl Window {
    /// `count` per `days` rolling days.
    pub const fn per_days(count: usize, days: i64) -> Self {
        Self {
            count,
            period_ms: days * DAY_MS,
        }
    }
}

/// The caps to verify: the deployment defaults plus each offer's own per-person cap.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A person, all brands, short window (default 1 per 24 h).
    pub person_day: Window,
    /// A person, all brands, long window (default 3 per 7 d).
    pub person_week: Window,
    /// A person and one brand (default 1 per 7 d).
    pub person_brand: Window,
    /// A person and one fence (default 1 per 24 h).
    pub person_fence: Window,
    /// A person and one offer, by offer id (`caps.per_person`); absent offers: once ever.
    pub person_offer: HashMap<String, Window>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            person_day: Window::per_days(1, 1),
            person_week: Window::per_days(3, 7),
            person_brand: Window::per_days(1, 7),
            person_fence: Window::per_days(1, 1),
            person_offer: HashMap::new(),
        }
    }
}

/// A person over a cap: which cap, its scope and the deliveries inside one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// `person-day`, `person-week`, `person-brand`, `person-offer`, `person-fence` or
    /// `duplicate-delivery`.
    pub cap: &'static str,
    /// The person.
    pub person: String,
    /// The brand, offer or fence the cap is scoped to (empty for all brands).
    pub scope: String,
    /// The deliveries that fell in one window, more than the cap allows.
    pub delivery_ids: Vec<String>,
}

/// Every cap violation in `deliveries`; empty means every person stayed within every cap.
pub fn check(deliveries: &[Delivery], limits: &Limits) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for d in deliveries {
        if !seen.insert(d.delivery_id.as_str()) {
            out.push(Violation {
                cap: "duplicate-delivery",
                person: d.person.clone(),
                scope: String::new(),
                delivery_ids: vec![d.delivery_id.clone()],
            });
        }
    }
    let mut by_person: BTreeMap<&str, Vec<&Delivery>> = BTreeMap::new();
    for d in deliveries {
        by_person.entry(d.person.as_str()).or_default().push(d);
    }
    for (person, mut mine) in by_person {
        mine.sort_by_key(|d| d.at_ms);
        let mut flag = |cap, scope: &str, w: Window, group: &[&Delivery]| {
            if let Some(ids) = over(group, w) {
                out.push(Violation {
                    cap,
                    person: person.to_string(),
                    scope: scope.to_string(),
                    delivery_ids: ids,
                });
            }
        };
        flag("person-day", "", limits.person_day, &mine);
        flag("person-week", "", limits.person_week, &mine);
        for (brand, group) in group_by(&mine, |d| &d.brand) {
            flag("person-brand", brand, limits.person_brand, &group);
        }
        for (fence, group) in group_by(&mine, |d| &d.fence) {
            flag("person-fence", fence, limits.person_fence, &group);
        }
        for (offer, group) in group_by(&mine, |d| &d.offer) {
            let w = limits
                .person_offer
                .get(offer)
                .copied()
                .unwrap_or(Window::per_days(1, 3650));
            flag("person-offer", offer, w, &group);
        }
    }
    out
}

/// The first window of `w.period_ms` holding more than `w.count` of the time-sorted `ds`.
/// Windows are half-open like the limiter's: a grant at `t` counts in `[t, t + period)`.
fn over(ds: &[&Delivery], w: Window) -> Option<Vec<String>> {
    let mut start = 0;
    for end in 0..ds.len() {
        while ds[end].at_ms - ds[start].at_ms >= w.period_ms {
            start += 1;
        }
        if end + 1 - start > w.count {
            return Some(
                ds[start..=end]
                    .iter()
                    .map(|d| d.delivery_id.clone())
                    .collect(),
            );
        }
    }
    None
}

fn group_by<'a>(
    ds: &[&'a Delivery],
    key: impl Fn(&Delivery) -> &String,
) -> BTreeMap<&'a str, Vec<&'a Delivery>> {
    let mut m: BTreeMap<&str, Vec<&Delivery>> = BTreeMap::new();
    for d in ds {
        let d: &'a Delivery = d;
        m.entry(key(d).as_str()).or_default().push(d);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: &str, person: &str, brand: &str, offer: &str, fence: &str, at_h: i64) -> Delivery {
        Delivery {
            person: person.into(),
            delivery_id: id.into(),
            brand: brand.into(),
            offer: offer.into(),
            fence: fence.into(),
            at_ms: at_h * HOUR_MS,
        }
    }

    fn caps(v: &[Violation]) -> Vec<&'static str> {
        v.iter().map(|x| x.cap).collect()
    }

    #[test]
    fn deliveries_within_every_cap_pass() {
        let ds = vec![
            d("1", "p", "a", "oa", "f1", 0),
            d("2", "p", "b", "ob", "f2", 25),
            d("3", "p", "c", "oc", "f3", 50),
            d("4", "q", "a", "oa", "f1", 1),
            d("5", "p", "a", "oa2", "f1", 24 * 8),
        ];
        assert_eq!(check(&ds, &Limits::default()), vec![]);
    }

    #[test]
    fn two_offers_in_one_day_break_the_day_cap() {
        let ds = vec![
            d("1", "p", "a", "oa", "f1", 0),
            d("2", "p", "b", "ob", "f2", 23),
        ];
        let v = check(&ds, &Limits::default());
        assert_eq!(caps(&v), vec!["person-day"]);
        assert_eq!(v[0].delivery_ids, vec!["1", "2"]);
    }

    #[test]
    fn a_window_is_half_open_so_exactly_24_hours_later_is_allowed() {
        let mut second = d("2", "p", "b", "ob", "f2", 24);
        assert_eq!(
            check(
                &[d("1", "p", "a", "oa", "f1", 0), second.clone()],
                &Limits::default()
            ),
            vec![]
        );
        second.at_ms -= 1;
        assert_eq!(
            caps(&check(
                &[d("1", "p", "a", "oa", "f1", 0), second],
                &Limits::default()
            )),
            vec!["person-day"]
        );
    }

    #[test]
    fn a_fourth_offer_in_seven_days_breaks_the_week_cap() {
        let ds: Vec<_> = (0..4)
            .map(|i| {
                d(
                    &i.to_string(),
                    "p",
                    &format!("b{i}"),
                    &format!("o{i}"),
                    &format!("f{i}"),
                    i * 40,
                )
            })
            .collect();
        let v = check(&ds, &Limits::default());
        assert_eq!(caps(&v), vec!["person-week"]);
        assert_eq!(v[0].delivery_ids.len(), 4);
    }

    #[test]
    fn the_same_brand_twice_in_a_week_breaks_the_brand_cap() {
        let ds = vec![
            d("1", "p", "a", "o1", "f1", 0),
            d("2", "p", "a", "o2", "f2", 24 * 6),
        ];
        let v = check(&ds, &Limits::default());
        assert_eq!(caps(&v), vec!["person-brand"]);
        assert_eq!(v[0].scope, "a");
    }

    #[test]
    fn the_same_fence_twice_in_a_day_is_flagged_for_the_fence() {
        let limits = Limits {
            person_day: Window::per_days(5, 1),
            person_brand: Window::per_days(5, 7),
            ..Limits::default()
        };
        let ds = vec![
            d("1", "p", "a", "o1", "f1", 0),
            d("2", "p", "a", "o2", "f1", 2),
        ];
        assert_eq!(caps(&check(&ds, &limits)), vec!["person-fence"]);
    }

    #[test]
    fn an_offer_is_once_ever_unless_it_says_otherwise() {
        let mut limits = Limits {
            person_day: Window::per_days(9, 1),
            person_week: Window::per_days(9, 7),
            person_brand: Window::per_days(9, 7),
            person_fence: Window::per_days(9, 1),
            ..Limits::default()
        };
        let ds = vec![
            d("1", "p", "a", "o1", "f1", 0),
            d("2", "p", "a", "o1", "f2", 24 * 40),
        ];
        assert_eq!(caps(&check(&ds, &limits)), vec!["person-offer"]);
        limits
            .person_offer
            .insert("o1".into(), Window::per_days(1, 30));
        assert_eq!(check(&ds, &limits), vec![]);
    }

    #[test]
    fn one_delivery_id_received_twice_is_flagged() {
        let ds = vec![
            d("1", "p", "a", "o1", "f1", 0),
            d("1", "q", "b", "o2", "f2", 0),
        ];
        assert!(caps(&check(&ds, &Limits::default())).contains(&"duplicate-delivery"));
    }
}
