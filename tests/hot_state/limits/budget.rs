//! Offer budgets: exact under racing people, idempotent, and a refusal gives the
//! person's caps back.

use std::sync::Arc;

use geoffer::limits::{Budget, BudgetWindow, Cap, ClaimOutcome, ClaimRequest, Limiter};

use super::harness::{HOUR, Harness, MINUTE, person, req, t0};
use std::time::Duration;

conformance!(
    a_total_budget_of_100_grants_exactly_100_among_1000_people_racing,
    a_daily_budget_of_100_grants_exactly_100_per_utc_day,
    a_budget_refusal_releases_the_persons_claim,
    a_budget_refusal_is_replayed_to_a_retry,
    only_the_claim_that_takes_the_last_unit_of_a_total_budget_reports_it,
    a_daily_budget_is_reported_used_up_once_each_day_and_the_total_once,
    a_retry_of_the_claim_that_used_up_the_budget_reports_it_again,
);

fn budgeted(n: u64, checkin: &str, budget: Budget) -> ClaimRequest {
    let mut r = req(&person(n), checkin, "chillco", "cola", "corner");
    r.budget = budget;
    r
}

async fn race(limiter: &Arc<dyn Limiter>, requests: Vec<ClaimRequest>) -> Vec<ClaimOutcome> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|r| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.claim(&r).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task").expect("limiter answers"));
    }
    answers
}

async fn a_total_budget_of_100_grants_exactly_100_among_1000_people_racing(h: Harness) {
    let budget = Budget {
        total: Some(100),
        daily: None,
    };
    let requests = (0..1000)
        .map(|n| budgeted(n, &format!("ck-{n}"), budget))
        .collect();
    let answers = race(&h.limiter, requests).await;
    assert_eq!(answers.iter().filter(|a| a.is_granted()).count(), 100);
    for denial in answers.iter().filter_map(|a| a.denial()) {
        assert_eq!((denial.cap, denial.limit), (Cap::BudgetTotal, 100));
    }
}

async fn a_daily_budget_of_100_grants_exactly_100_per_utc_day(h: Harness) {
    let budget = Budget {
        total: None,
        daily: Some(100),
    };
    let day_one = (0..1000)
        .map(|n| budgeted(n, &format!("d1-{n}"), budget))
        .collect();
    let answers = race(&h.limiter, day_one).await;
    assert_eq!(answers.iter().filter(|a| a.is_granted()).count(), 100);
    let midnight = t0().date_naive().succ_opt().expect("tomorrow");
    let midnight = midnight.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    for denial in answers.iter().filter_map(|a| a.denial()) {
        assert_eq!((denial.cap, denial.limit), (Cap::BudgetDaily, 100));
        assert_eq!(denial.until, Some(midnight));
    }

    // Next UTC day (15 h later, within everyone's 24 h caps): the refused 900 had their
    // claims released, so they compete for a fresh 100.
    h.clock.set(midnight);
    let refused: Vec<u64> = (0..1000)
        .filter(|n| !answers[*n as usize].is_granted())
        .collect();
    let day_two = refused
        .iter()
        .map(|n| budgeted(*n, &format!("d2-{n}"), budget))
        .collect();
    let answers = race(&h.limiter, day_two).await;
    assert_eq!(answers.iter().filter(|a| a.is_granted()).count(), 100);
}

async fn a_budget_refusal_releases_the_persons_claim(h: Harness) {
    let budget = Budget {
        total: Some(1),
        daily: Some(1),
    };
    h.grant(&budgeted(1, "ck-a", budget)).await;

    // Person 2 is refused by the budget; their day cap, week cap and the check-in itself
    // must be as if nothing happened, so another brand's offer can still go out.
    h.deny(&budgeted(2, "ck-b", budget), Cap::BudgetTotal).await;
    h.grant(&req(&person(2), "ck-b", "lampco", "lamp", "corner"))
        .await;
    h.deny(
        &req(&person(2), "ck-c", "bagco", "bag", "park"),
        Cap::PersonDay,
    )
    .await;
}

async fn a_budget_refusal_is_replayed_to_a_retry(h: Harness) {
    let budget = Budget {
        total: None,
        daily: Some(1),
    };
    // 30 s before midnight UTC (the clock starts at 09:00), so that the daily budget frees
    // a minute later, inside either backend's idempotency TTL.
    h.advance(15 * HOUR - Duration::from_secs(30));
    h.grant(&budgeted(1, "ck-a", budget)).await;
    let first = h.deny(&budgeted(2, "ck-b", budget), Cap::BudgetDaily).await;
    h.advance(MINUTE);
    assert!(MINUTE < h.limiter.idempotency_ttl());
    assert_eq!(
        h.claim(&budgeted(2, "ck-b", budget)).await,
        ClaimOutcome::Denied(first)
    );
    h.grant(&budgeted(2, "ck-c", budget)).await;
}

/// The budget window a fresh grant reports used up (panics on anything but a fresh grant).
async fn used_up(h: &Harness, req: &ClaimRequest) -> Option<BudgetWindow> {
    match h.claim(req).await {
        ClaimOutcome::Granted {
            replayed: false,
            exhausted,
            ..
        } => exhausted,
        other => panic!(
            "expected a fresh grant for {}, got {other:?}",
            req.checkin_id
        ),
    }
}

async fn only_the_claim_that_takes_the_last_unit_of_a_total_budget_reports_it(h: Harness) {
    let budget = Budget {
        total: Some(50),
        daily: None,
    };
    let requests = (0..400)
        .map(|n| budgeted(n, &format!("ck-{n}"), budget))
        .collect();
    let answers = race(&h.limiter, requests).await;
    let reported: Vec<_> = answers
        .iter()
        .filter_map(|a| match a {
            ClaimOutcome::Granted { exhausted, .. } => *exhausted,
            ClaimOutcome::Denied(_) => None,
        })
        .collect();
    assert_eq!(answers.iter().filter(|a| a.is_granted()).count(), 50);
    assert_eq!(reported, vec![BudgetWindow::Total]);
}

async fn a_daily_budget_is_reported_used_up_once_each_day_and_the_total_once(h: Harness) {
    let budget = Budget {
        total: Some(5),
        daily: Some(2),
    };
    let midnight = |days: u64| {
        let day = t0().date_naive() + chrono::Days::new(days);
        day.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
    };
    assert_eq!(used_up(&h, &budgeted(1, "d1-a", budget)).await, None);
    assert_eq!(
        used_up(&h, &budgeted(2, "d1-b", budget)).await,
        Some(BudgetWindow::Daily)
    );
    h.deny(&budgeted(3, "d1-c", budget), Cap::BudgetDaily).await;
    h.clock.set(midnight(1));
    assert_eq!(used_up(&h, &budgeted(3, "d2-a", budget)).await, None);
    assert_eq!(
        used_up(&h, &budgeted(4, "d2-b", budget)).await,
        Some(BudgetWindow::Daily)
    );
    h.clock.set(midnight(2));
    // The fifth delivery takes the last unit of the total (and only the first of the day).
    assert_eq!(
        used_up(&h, &budgeted(5, "d3-a", budget)).await,
        Some(BudgetWindow::Total)
    );
    h.deny(&budgeted(6, "d3-b", budget), Cap::BudgetTotal).await;
}

async fn a_retry_of_the_claim_that_used_up_the_budget_reports_it_again(h: Harness) {
    let budget = Budget {
        total: Some(2),
        daily: None,
    };
    assert_eq!(used_up(&h, &budgeted(1, "ck-a", budget)).await, None);
    let last = budgeted(2, "ck-b", budget);
    assert_eq!(used_up(&h, &last).await, Some(BudgetWindow::Total));
    h.advance(MINUTE);
    // A retry (its decision may not have been recorded): the same report, nothing counted.
    assert!(matches!(
        h.claim(&last).await,
        ClaimOutcome::Granted {
            replayed: true,
            exhausted: Some(BudgetWindow::Total),
            ..
        }
    ));
    h.deny(&budgeted(3, "ck-c", budget), Cap::BudgetTotal).await;
}
