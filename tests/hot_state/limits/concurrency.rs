//! Under any concurrency a person never gets more than the caps allow.

use std::collections::HashMap;
use std::sync::Arc;

use geoffer::limits::{Budget, Cap, ClaimOutcome, ClaimRequest, Limiter, Window};

use super::harness::{DAY, Harness, generous, person, req_n, same_answer};

conformance!(
    a_thousand_concurrent_claims_for_one_person_grant_exactly_one,
    with_five_a_day_a_thousand_concurrent_claims_grant_exactly_five,
    every_checkin_sent_twice_concurrently_gets_one_answer_and_counts_once,
    duplicated_checkins_racing_for_a_budget_spend_it_once_each,
);

/// Sends every request at once (one task each) and returns the answers in order.
async fn race(limiter: &Arc<dyn Limiter>, requests: Vec<ClaimRequest>) -> Vec<ClaimOutcome> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|r| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.claim(&r).await })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("task").expect("limiter answers"));
    }
    answers
}

fn grants(answers: &[ClaimOutcome]) -> usize {
    answers.iter().filter(|a| a.is_granted()).count()
}

async fn a_thousand_concurrent_claims_for_one_person_grant_exactly_one(h: Harness) {
    let p = person(30);
    let answers = race(&h.limiter, (0..1000).map(|n| req_n(&p, n)).collect()).await;
    assert_eq!(grants(&answers), 1);
    assert!(
        answers
            .iter()
            .filter_map(|a| a.denial())
            .all(|d| d.cap == Cap::PersonDay)
    );
}

async fn with_five_a_day_a_thousand_concurrent_claims_grant_exactly_five(h: Harness) {
    let p = person(31);
    let requests = (0..1000)
        .map(|n| {
            let mut r = req_n(&p, n);
            r.caps = generous();
            r.caps.person_day = Window::new(5, DAY);
            r
        })
        .collect();
    let answers = race(&h.limiter, requests).await;
    assert_eq!(grants(&answers), 5);
}

async fn every_checkin_sent_twice_concurrently_gets_one_answer_and_counts_once(h: Harness) {
    let p = person(32);
    let claim = |n| {
        let mut r = req_n(&p, n);
        r.caps = generous();
        r.caps.person_day = Window::new(5, DAY);
        r
    };
    let requests = (0..200).flat_map(|n| [claim(n), claim(n)]).collect();
    let answers = race(&h.limiter, requests).await;
    for pair in answers.chunks(2) {
        assert!(same_answer(&pair[0], &pair[1]), "{pair:?}");
    }
    let fresh = answers
        .iter()
        .filter(|a| {
            matches!(
                a,
                ClaimOutcome::Granted {
                    replayed: false,
                    ..
                }
            )
        })
        .count();
    assert_eq!(
        fresh, 5,
        "each granted check-in is granted fresh exactly once"
    );
    assert_eq!(grants(&answers), 10, "and replayed to its twin");
    h.deny(&claim(1000), Cap::PersonDay).await;
}

async fn duplicated_checkins_racing_for_a_budget_spend_it_once_each(h: Harness) {
    let claim = |n: usize| {
        let mut r = req_n(&person(1000 + n as u64), n);
        r.offer_id = "hot-drink".into();
        r.budget = Budget {
            total: Some(50),
            daily: None,
        };
        r
    };
    let requests = (0..300).flat_map(|n| [claim(n), claim(n)]).collect();
    let answers = race(&h.limiter, requests).await;
    let mut per_checkin: HashMap<usize, bool> = HashMap::new();
    for (n, pair) in answers.chunks(2).enumerate() {
        assert!(same_answer(&pair[0], &pair[1]), "{pair:?}");
        per_checkin.insert(n, pair[0].is_granted());
    }
    assert_eq!(per_checkin.values().filter(|g| **g).count(), 50);
    h.deny(&claim(999), Cap::BudgetTotal).await;
}
