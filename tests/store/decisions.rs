//! `DecisionStore`: decisions recorded once per (app, check-in), retries answered with the
//! first, traces purged.

use crate::fixtures::*;
use geoffer::decisions::DeliveryFilter;
use geoffer::store::Store;
use serde_json::json;
use uuid::Uuid;

async fn new_decisions_have_no_prior_and_are_read_back(s: &dyn Store) {
    let d = delivered("c1", "u1", "acme", Uuid::from_u128(1), at(2));
    let priors = s
        .save_decisions(vec![d.clone(), decision("c2", "u1", at(3))])
        .await
        .unwrap();
    assert_eq!(priors, [None, None]);
    let got = s.decisions_by_checkin("c1").await.unwrap();
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(
        (
            g.app.as_str(),
            g.user_id.as_str(),
            g.at,
            g.decision.as_str()
        ),
        ("default", "u1", at(2), "offer")
    );
    assert_eq!(g.response, d.response);
    assert_eq!(
        g.trace,
        json!({"fences": [], "checkin": "c1"}),
        "the trace is read back unpacked"
    );
    assert_eq!(g.brands, ["acme"]);
    assert_eq!(g.delivery_id, Some(delivery_id(&d).to_string()));
    assert!(g.trace_purged_at.is_none());
}

async fn a_prior_decision_gives_the_user_fingerprint_and_first_answer(s: &dyn Store) {
    let d = decision("c1", "u1", at(0));
    s.save_decisions(vec![d.clone()]).await.unwrap();
    let p = s.prior_decision("default", "c1").await.unwrap().unwrap();
    assert_eq!(
        (p.user_id, p.fingerprint, p.response),
        ("u1".to_string(), Some(d.fingerprint), d.response)
    );
    assert!(s.prior_decision("other", "c1").await.unwrap().is_none());
    assert!(s.prior_decision("default", "c9").await.unwrap().is_none());
}

async fn a_retry_within_one_batch_gets_the_first_and_only_the_first_is_kept(s: &dyn Store) {
    let first = delivered("c1", "u1", "acme", Uuid::from_u128(1), at(0));
    let retry = delivered("c1", "u2", "acme", Uuid::from_u128(1), at(1));
    let priors = s.save_decisions(vec![first.clone(), retry]).await.unwrap();
    assert!(priors[0].is_none());
    let p = priors[1].as_ref().expect("the retry finds the first");
    assert_eq!(
        (p.user_id.as_str(), p.response.clone()),
        ("u1", first.response.clone())
    );
    let kept = s.decisions_by_checkin("c1").await.unwrap();
    assert_eq!(
        kept.iter().map(|d| d.user_id.as_str()).collect::<Vec<_>>(),
        ["u1"]
    );
    let all = s
        .list_deliveries(&DeliveryFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|d| d.id).collect::<Vec<_>>(),
        [delivery_id(&first)]
    );
}

async fn a_retry_of_a_stored_decision_gets_what_was_recorded_and_adds_nothing(s: &dyn Store) {
    let first = delivered("c1", "u1", "acme", Uuid::from_u128(1), at(0));
    s.save_decisions(vec![first.clone()]).await.unwrap();
    let mut retry = delivered("c1", "u1", "beta", Uuid::from_u128(2), at(1));
    retry.response = json!({"decision": "offer", "second": true});
    let priors = s
        .save_decisions(vec![retry, decision("c2", "u1", at(1))])
        .await
        .unwrap();
    let p = priors[0].as_ref().expect("the retry finds the stored one");
    assert_eq!(
        (p.response.clone(), p.fingerprint.clone()),
        (first.response.clone(), Some(first.fingerprint.clone()))
    );
    assert!(
        priors[1].is_none(),
        "the new one in the same batch is saved"
    );
    assert_eq!(
        s.decisions_by_checkin("c1").await.unwrap()[0].brands,
        ["acme"]
    );
    assert_eq!(
        s.list_deliveries(&DeliveryFilter::default(), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s.decisions_by_checkin("c2").await.unwrap().len(), 1);
}

async fn one_checkin_id_used_by_two_apps_is_two_decisions(s: &dyn Store) {
    let mut other = decision("c1", "u1", at(0));
    other.app = "zapp".into();
    let priors = s
        .save_decisions(vec![other, decision("c1", "u1", at(0))])
        .await
        .unwrap();
    assert_eq!(priors, [None, None]);
    let apps: Vec<_> = s
        .decisions_by_checkin("c1")
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.app)
        .collect();
    assert_eq!(apps, ["default", "zapp"], "ordered by app");
}

async fn purging_traces_nulls_the_old_ones_and_notes_when(s: &dyn Store) {
    s.save_decisions(vec![
        decision("old", "u1", at(0)),
        decision("new", "u1", at(60)),
    ])
    .await
    .unwrap();
    assert_eq!(s.purge_traces(at(30), at(90)).await.unwrap(), 1);
    let old = &s.decisions_by_checkin("old").await.unwrap()[0];
    assert_eq!(
        (old.trace.clone(), old.trace_purged_at),
        (serde_json::Value::Null, Some(at(90)))
    );
    assert_eq!(
        old.response["checkin_id"], "old",
        "the decision itself stays"
    );
    let new = &s.decisions_by_checkin("new").await.unwrap()[0];
    assert!(new.trace.is_object() && new.trace_purged_at.is_none());
    assert_eq!(
        s.purge_traces(at(30), at(91)).await.unwrap(),
        0,
        "a purged trace is not purged again"
    );
}

/// Batches of every size around the store's statement shapes (SQLite pads a batch to a
/// power of two and reuses the prepared statements of each size): each decision is recorded
/// exactly as given — its brands, its delivery or none — and nothing else is.
async fn batches_of_any_size_record_exactly_what_was_given(s: &dyn Store) {
    let mut saved = 0;
    // 3 and 5 twice: the second time, the same shapes run again.
    for (round, n) in [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 3, 5]
        .into_iter()
        .enumerate()
    {
        let batch: Vec<_> = (0..n)
            .map(|i| {
                let checkin = format!("b{round}-{i}");
                let mut d = if i % 3 == 0 {
                    delivered(&checkin, "u1", "acme", Uuid::from_u128(1), at(i))
                } else {
                    decision(&checkin, "u1", at(i))
                };
                d.brands = (0..i % 4).map(|b| format!("brand-{b}")).collect();
                d
            })
            .collect();
        let priors = s.save_decisions(batch.clone()).await.unwrap();
        assert!(priors.iter().all(Option::is_none), "batch of {n}: all new");
        for d in &batch {
            let got = s.decisions_by_checkin(&d.checkin_id).await.unwrap();
            assert_eq!(got.len(), 1, "{} recorded once", d.checkin_id);
            let g = &got[0];
            let mut brands = d.brands.clone();
            brands.sort();
            let mut got_brands = g.brands.clone();
            got_brands.sort();
            assert_eq!(
                (&g.user_id, g.at, &g.response, got_brands),
                (&d.user_id, d.at, &d.response, brands),
                "{}",
                d.checkin_id
            );
            assert_eq!(
                g.delivery_id,
                d.delivery.as_ref().map(|x| x.id.to_string()),
                "{}",
                d.checkin_id
            );
            assert_eq!(
                g.trace,
                json!({"fences": [], "checkin": d.checkin_id}),
                "{}",
                d.checkin_id
            );
        }
        saved += batch.iter().filter(|d| d.delivery.is_some()).count();
        let deliveries = s
            .list_deliveries(&DeliveryFilter::default(), None, 100)
            .await
            .unwrap();
        assert_eq!(deliveries.len(), saved, "after the batch of {n}");
    }
    // A retry of a whole batch adds nothing and answers each with its first record.
    let retry: Vec<_> = (0..5)
        .map(|i| {
            let mut d = decision(&format!("b11-{i}"), "u1", at(50));
            d.response = json!({"second": true});
            d
        })
        .collect();
    let priors = s.save_decisions(retry).await.unwrap();
    for (i, p) in priors.iter().enumerate() {
        let p = p.as_ref().expect("the retry finds the first");
        assert_eq!(p.response["checkin_id"], format!("b11-{i}"));
    }
}

store_tests!(
    new_decisions_have_no_prior_and_are_read_back,
    a_prior_decision_gives_the_user_fingerprint_and_first_answer,
    a_retry_within_one_batch_gets_the_first_and_only_the_first_is_kept,
    a_retry_of_a_stored_decision_gets_what_was_recorded_and_adds_nothing,
    one_checkin_id_used_by_two_apps_is_two_decisions,
    purging_traces_nulls_the_old_ones_and_notes_when,
    batches_of_any_size_record_exactly_what_was_given,
);
