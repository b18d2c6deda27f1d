//! Retries replay the first answer; one check-in yields at most one delivery.

use std::time::Duration;

use geoffer::limits::{Budget, Cap, ClaimOutcome, Window};

use super::harness::{DAY, Harness, generous, person, req, req_n};

conformance!(
    a_retried_claim_replays_the_first_grant_and_counts_nothing,
    a_retried_claim_replays_the_first_refusal_even_after_the_window_frees,
    a_retry_after_the_idempotency_ttl_counts_as_a_new_claim,
    a_checkin_that_got_a_grant_cannot_get_a_second_offer,
    a_refused_checkin_can_still_get_another_offer,
    a_released_grant_frees_every_cap_and_its_budget,
    malformed_ids_are_refused_before_anything_is_recorded,
    the_limiter_reports_its_kind_and_answers_pings,
);

async fn a_retried_claim_replays_the_first_grant_and_counts_nothing(h: Harness) {
    let p = person(20);
    let two_a_day = |n| {
        let mut r = req_n(&p, n);
        r.caps.person_day = Window::new(2, DAY);
        r
    };
    let at = h.grant(&two_a_day(0)).await;
    for _ in 0..3 {
        h.advance((h.limiter.idempotency_ttl() / 4).min(Duration::from_secs(60)));
        let replay = h.claim(&two_a_day(0)).await;
        assert_eq!(
            replay,
            ClaimOutcome::Granted {
                at,
                replayed: true,
                exhausted: None
            }
        );
    }
    h.grant(&two_a_day(1)).await;
    h.deny(&two_a_day(2), Cap::PersonDay).await;
}

async fn a_retried_claim_replays_the_first_refusal_even_after_the_window_frees(h: Harness) {
    let p = person(21);
    // A window shorter than the idempotency TTL of either backend.
    let window = h.limiter.idempotency_ttl() / 4;
    let one_a_window = |n| {
        let mut r = req_n(&p, n);
        r.caps.person_day = Window::new(1, window);
        r
    };
    h.grant(&one_a_window(0)).await;
    let first = h.deny(&one_a_window(1), Cap::PersonDay).await;
    h.advance(2 * window);
    assert_eq!(h.claim(&one_a_window(1)).await, ClaimOutcome::Denied(first));
    h.grant(&one_a_window(2)).await;
}

async fn a_retry_after_the_idempotency_ttl_counts_as_a_new_claim(h: Harness) {
    let p = person(25);
    let mut claim = req_n(&p, 0);
    claim.caps = generous();
    h.grant(&claim).await;
    h.advance(h.limiter.idempotency_ttl() - Duration::from_millis(1));
    assert!(matches!(
        h.claim(&claim).await,
        ClaimOutcome::Granted { replayed: true, .. }
    ));
    h.advance(Duration::from_millis(1));
    h.grant(&claim).await;
}

async fn a_checkin_that_got_a_grant_cannot_get_a_second_offer(h: Harness) {
    let p = person(22);
    let with_generous_caps = |offer: &str, brand: &str| {
        let mut r = req(&p, "ck-1", brand, offer, "fence");
        r.caps = generous();
        r
    };
    let at = h.grant(&with_generous_caps("cola", "chillco")).await;
    let denial = h
        .deny(
            &with_generous_caps("lamp", "lampco"),
            Cap::CheckinAlreadyServed,
        )
        .await;
    let holder = denial
        .held_by
        .expect("names the delivery that served the check-in");
    assert_eq!(
        (
            holder.offer_id.as_str(),
            holder.checkin_id.as_str(),
            holder.at
        ),
        ("cola", "ck-1", at)
    );
}

async fn a_refused_checkin_can_still_get_another_offer(h: Harness) {
    let p = person(23);
    h.limiter
        .cool_down(&p, "chillco", Duration::from_secs(3600))
        .await
        .expect("cool-down");
    h.deny(
        &req(&p, "ck-1", "chillco", "cola", "corner"),
        Cap::BrandCooldown,
    )
    .await;
    h.grant(&req(&p, "ck-1", "lampco", "lamp", "corner")).await;
}

async fn malformed_ids_are_refused_before_anything_is_recorded(h: Harness) {
    use geoffer::limits::LimiterError::InvalidRequest;
    let p = person(24);
    let mut bad_person = req_n(&p, 0);
    bad_person.person = "not a token}".into();
    assert!(matches!(
        h.limiter.claim(&bad_person).await,
        Err(InvalidRequest(_))
    ));
    let mut bad_offer = req_n(&p, 0);
    bad_offer.offer_id = "two words".into();
    assert!(matches!(
        h.limiter.claim(&bad_offer).await,
        Err(InvalidRequest(_))
    ));
    assert!(matches!(
        h.limiter.forget_person("{x}").await,
        Err(InvalidRequest(_))
    ));
    h.grant(&req_n(&p, 0)).await;
}

async fn the_limiter_reports_its_kind_and_answers_pings(h: Harness) {
    let expected = if h.redis.is_some() {
        "redis"
    } else {
        "in-process"
    };
    assert_eq!(h.limiter.kind(), expected);
    h.limiter.ping().await.expect("ping");
}

async fn a_released_grant_frees_every_cap_and_its_budget(h: Harness) {
    let p = person(26);
    let budgeted = |checkin: &str, who: &str| {
        let mut r = req(who, checkin, "chillco", "cola", "corner");
        r.budget = Budget {
            total: Some(1),
            daily: Some(1),
        };
        r
    };
    let first = budgeted("ck-a", &p);
    let at = h.grant(&first).await;
    h.limiter.release(&first, at).await.expect("released");
    // The released check-in answers the release from now on, and counts nothing.
    let replay = h.claim(&first).await;
    assert_eq!(
        replay.denial().map(|d| d.cap),
        Some(Cap::CheckinIdReused),
        "{replay:?}"
    );
    // Every personal cap (1 a day, for the brand, offer and fence) and the budget (1 in
    // all, 1 a day) are free again: the next check-in gets the offer...
    h.grant(&budgeted("ck-b", &p)).await;
    // ... and that one is counted: the budget refuses someone else now.
    let (other, third) = (person(27), person(28));
    h.deny(&budgeted("ck-c", &other), Cap::BudgetTotal).await;
    // Releasing twice, or a check-in that holds nothing, changes nothing.
    h.limiter.release(&first, at).await.expect("no-op");
    h.limiter
        .release(&budgeted("never", &p), at)
        .await
        .expect("no-op");
    h.deny(&budgeted("ck-d", &third), Cap::BudgetTotal).await;
}
