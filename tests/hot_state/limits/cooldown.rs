//! A dismissal cools the brand down: that brand only, until it ends, never shortened.

use geoffer::limits::Cap;

use super::harness::{HOUR, Harness, MINUTE, generous, person, req};

conformance!(
    a_cool_down_blocks_that_brand_only_and_ends_on_time,
    a_cool_down_is_extended_but_never_shortened,
);

async fn a_cool_down_blocks_that_brand_only_and_ends_on_time(h: Harness) {
    let p = person(40);
    let claim = |checkin: &str, brand: &str| {
        let mut r = req(
            &p,
            checkin,
            brand,
            &format!("{brand}-offer-{checkin}"),
            checkin,
        );
        r.caps = generous();
        r
    };
    let start = h.now();
    h.limiter
        .cool_down(&p, "chillco", 2 * HOUR)
        .await
        .expect("cool-down");
    h.advance(HOUR);
    let denial = h.deny(&claim("ck-1", "chillco"), Cap::BrandCooldown).await;
    assert_eq!(denial.until, Some(start + 2 * HOUR));
    h.grant(&claim("ck-2", "lampco")).await;

    h.clock.set(start + 2 * HOUR - MINUTE);
    h.deny(&claim("ck-3", "chillco"), Cap::BrandCooldown).await;
    h.clock.set(start + 2 * HOUR);
    h.grant(&claim("ck-4", "chillco")).await;
}

async fn a_cool_down_is_extended_but_never_shortened(h: Harness) {
    let p = person(41);
    let claim = |checkin: &str| req(&p, checkin, "chillco", "cola", "corner");
    let start = h.now();
    h.limiter
        .cool_down(&p, "chillco", 4 * HOUR)
        .await
        .expect("cool-down");
    h.advance(HOUR);
    h.limiter
        .cool_down(&p, "chillco", HOUR)
        .await
        .expect("shorter cool-down");
    let denial = h.deny(&claim("ck-1"), Cap::BrandCooldown).await;
    assert_eq!(denial.until, Some(start + 4 * HOUR), "not shortened");

    h.limiter
        .cool_down(&p, "chillco", 5 * HOUR)
        .await
        .expect("longer cool-down");
    let denial = h.deny(&claim("ck-2"), Cap::BrandCooldown).await;
    assert_eq!(denial.until, Some(start + 6 * HOUR), "extended");
}
