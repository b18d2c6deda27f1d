//! Erasure forgets the person completely; the offer's budget is not personal and stays.

use geoffer::limits::{Budget, Cap, ClaimOutcome};

use super::harness::{HOUR, Harness, generous, person, req};

conformance!(forgetting_a_person_erases_caps_cool_downs_and_answers_but_not_budgets);

async fn forgetting_a_person_erases_caps_cool_downs_and_answers_but_not_budgets(h: Harness) {
    let (p, q) = (person(50), person(51));
    let budget = Budget {
        total: Some(1),
        daily: None,
    };
    let cola = |who: &str, checkin: &str| {
        let mut c = req(who, checkin, "chillco", "cola", "corner");
        c.budget = budget;
        c
    };
    h.grant(&cola(&p, "ck-1")).await;
    h.limiter
        .cool_down(&p, "lampco", HOUR)
        .await
        .expect("cool-down");
    h.deny(
        &req(&p, "ck-2", "lampco", "lamp", "park"),
        Cap::BrandCooldown,
    )
    .await;

    h.limiter.forget_person(&p).await.expect("forget");

    // The check-in's answer is gone: the same claim is answered afresh, and the offer's
    // budget, which remembers that check-in, does not charge it twice.
    let again = h.claim(&cola(&p, "ck-1")).await;
    assert!(
        matches!(
            again,
            ClaimOutcome::Granted {
                replayed: false,
                ..
            }
        ),
        "{again:?}"
    );
    // The cool-down is gone too.
    let mut lamp = req(&p, "ck-3", "lampco", "lamp", "park");
    lamp.caps = generous();
    h.grant(&lamp).await;
    // The budget was not personal: its one delivery is still spent.
    h.deny(&cola(&q, "ck-q"), Cap::BudgetTotal).await;
}
