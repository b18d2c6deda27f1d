//! Each cap blocks exactly at its limit, names itself and says who holds the window.

use std::time::Duration;

use geoffer::limits::{Cap, Window};

use super::harness::{DAY, HOUR, Harness, MINUTE, only, person, req, req_n};

conformance!(
    every_window_cap_blocks_exactly_at_its_limit_and_names_the_oldest_holder,
    default_person_week_cap_allows_three_offers_in_seven_days,
    default_person_brand_cap_blocks_the_same_brand_for_seven_days,
    default_person_offer_cap_allows_an_offer_once_ever,
    default_person_fence_cap_blocks_the_same_fence_for_a_day,
    a_cap_of_zero_refuses_everything,
);

async fn every_window_cap_blocks_exactly_at_its_limit_and_names_the_oldest_holder(h: Harness) {
    let window = Window::new(3, 2 * DAY);
    let caps = [
        Cap::PersonDay,
        Cap::PersonWeek,
        Cap::PersonBrand,
        Cap::PersonOffer,
        Cap::PersonFence,
    ];
    for (i, cap) in caps.into_iter().enumerate() {
        let p = person(i as u64);
        // Same brand, offer and fence every time, so each cap is the one that binds.
        let claim = |n: usize| {
            let mut r = req(&p, &format!("ck-{n}"), "brand", "offer", "fence");
            r.caps = only(cap, window);
            r
        };
        let first_at = h.grant(&claim(0)).await;
        for n in 1..3 {
            h.advance(MINUTE);
            h.grant(&claim(n)).await;
        }
        h.advance(MINUTE);
        let denial = h.deny(&claim(3), cap).await;
        assert_eq!(denial.limit, 3, "{cap}");
        assert_eq!(denial.period, Some(2 * DAY), "{cap}");
        let holder = denial.held_by.expect("a window cap names its holder");
        assert_eq!(
            (holder.checkin_id.as_str(), holder.offer_id.as_str()),
            ("ck-0", "offer")
        );
        assert_eq!(holder.at, first_at);
        assert_eq!(denial.until, Some(first_at + 2 * DAY));
    }
}

async fn default_person_week_cap_allows_three_offers_in_seven_days(h: Harness) {
    let p = person(1);
    let first_at = h.grant(&req_n(&p, 0)).await;
    for n in 1..3 {
        h.advance(DAY + HOUR);
        h.grant(&req_n(&p, n)).await;
    }
    h.advance(DAY + HOUR);
    let denial = h.deny(&req_n(&p, 3), Cap::PersonWeek).await;
    assert_eq!((denial.limit, denial.period), (3, Some(7 * DAY)));
    assert_eq!(denial.held_by.expect("holder").offer_id, "offer-0");
    assert_eq!(denial.until, Some(first_at + 7 * DAY));

    h.clock.set(first_at + 7 * DAY + MINUTE);
    h.grant(&req_n(&p, 4)).await;
}

async fn default_person_brand_cap_blocks_the_same_brand_for_seven_days(h: Harness) {
    let p = person(2);
    let first_at = h.grant(&req(&p, "ck-1", "chillco", "cola", "corner")).await;
    h.advance(DAY + HOUR);
    let denial = h
        .deny(
            &req(&p, "ck-2", "chillco", "lemonade", "station"),
            Cap::PersonBrand,
        )
        .await;
    assert_eq!((denial.limit, denial.period), (1, Some(7 * DAY)));
    assert_eq!(denial.held_by.expect("holder").offer_id, "cola");
    assert_eq!(denial.until, Some(first_at + 7 * DAY));
    // Another brand is not blocked by this cap.
    h.grant(&req(&p, "ck-3", "lampco", "lamp", "station")).await;
}

async fn default_person_offer_cap_allows_an_offer_once_ever(h: Harness) {
    let p = person(3);
    let first_at = h.grant(&req(&p, "ck-1", "chillco", "cola", "corner")).await;
    h.advance(8 * DAY);
    let denial = h
        .deny(
            &req(&p, "ck-2", "chillco", "cola", "station"),
            Cap::PersonOffer,
        )
        .await;
    assert_eq!(denial.limit, 1);
    assert_eq!(denial.period, Some(3650 * DAY));
    assert_eq!(denial.until, Some(first_at + 3650 * DAY));
    h.advance(400 * DAY);
    h.deny(
        &req(&p, "ck-3", "chillco", "cola", "park"),
        Cap::PersonOffer,
    )
    .await;
}

async fn default_person_fence_cap_blocks_the_same_fence_for_a_day(h: Harness) {
    let p = person(4);
    let fence_only = |checkin: &str, brand: &str, offer: &str, fence: &str| {
        let mut r = req(&p, checkin, brand, offer, fence);
        r.caps = only(Cap::PersonFence, r.caps.person_fence);
        r
    };
    let first_at = h
        .grant(&fence_only("ck-1", "chillco", "cola", "corner"))
        .await;
    h.advance(HOUR);
    let denial = h
        .deny(
            &fence_only("ck-2", "lampco", "lamp", "corner"),
            Cap::PersonFence,
        )
        .await;
    assert_eq!((denial.limit, denial.period), (1, Some(DAY)));
    assert_eq!(denial.until, Some(first_at + DAY));
    h.grant(&fence_only("ck-3", "lampco", "lamp", "station"))
        .await;
    h.clock.set(first_at + DAY + MINUTE);
    h.grant(&fence_only("ck-4", "bagco", "bag", "corner")).await;
}

async fn a_cap_of_zero_refuses_everything(h: Harness) {
    let mut r = req_n(&person(5), 0);
    r.caps.person_offer = Window::new(0, Duration::from_secs(3600));
    let denial = h.deny(&r, Cap::PersonOffer).await;
    assert_eq!((denial.limit, &denial.held_by), (0, &None));
}
