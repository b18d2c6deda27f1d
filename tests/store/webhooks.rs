//! `WebhookStore`: endpoints per brand, the outbox rows the decision and event writes add
//! for subscribed endpoints, claiming due messages, attempts (retry, delivered, disabling
//! a failing endpoint), replay, rotation, and erasure of a person's messages.

use crate::fixtures::*;
use chrono::Duration;
use geoffer::events::EventKind;
use geoffer::store::Erase;
use geoffer::store::Store;
use geoffer::store::shared::{Change, mint_id};
use geoffer::store::webhooks::FailurePolicy;
use geoffer::webhooks::{
    AttemptOutcome, AttemptRecord, Endpoint, EndpointStatus, EventType, Message,
    budget_exhausted_payload, delivery_created_payload, visit_hook,
};
use serde_json::json;
use uuid::Uuid;

fn endpoint(brand: &str, types: &[EventType], status: EndpointStatus, n: i64) -> Endpoint {
    Endpoint {
        id: mint_id(at(n)),
        brand: brand.into(),
        url: format!("https://hooks.example.com/{n}"),
        event_types: types.to_vec(),
        secret: format!("whsec_secret{n}"),
        previous_secret: None,
        previous_secret_until: None,
        status,
        disabled_reason: None,
        consecutive_failures: 0,
        failing_since: None,
        created_at: at(n),
        updated_at: at(n),
    }
}

/// The audit entry of a change to `e` (by an admin key, at `t0`).
fn change(e: &Endpoint, action: &'static str) -> Change {
    Change::new(
        Some(&admin()),
        t0(),
        Some(&bid(&e.brand)),
        "webhook",
        e.id.to_string(),
        action,
    )
    .snapshots(None, Some(json!({"url": e.url})))
}

const POLICY: FailurePolicy = FailurePolicy {
    max_consecutive: 3,
    max_failing_for: Duration::hours(24),
};

fn attempt(
    m: &Message,
    at_: chrono::DateTime<chrono::Utc>,
    outcome: AttemptOutcome,
) -> AttemptRecord {
    AttemptRecord {
        id: mint_id(at_),
        message: m.id,
        endpoint: m.endpoint,
        at: at_,
        status_code: Some(if outcome == AttemptOutcome::Delivered {
            200
        } else {
            500
        }),
        error: (outcome != AttemptOutcome::Delivered).then(|| "the receiver answered 500".into()),
        duration_ms: 12,
        outcome,
    }
}

async fn due(s: &dyn Store, now: chrono::DateTime<chrono::Utc>) -> Vec<Message> {
    s.claim_due(now, now + Duration::minutes(2), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(m, _)| m)
        .collect()
}

async fn endpoints_are_kept_per_brand_and_rotation_keeps_the_old_secret_for_a_while(s: &dyn Store) {
    brand(s, "acme").await;
    brand(s, "other").await;
    let e = endpoint(
        "acme",
        &[EventType::DeliveryCreated],
        EndpointStatus::Active,
        0,
    );
    s.create_endpoint(&e, &change(&e, "create")).await.unwrap();
    assert_eq!(s.endpoints("acme").await.unwrap(), vec![e.clone()]);
    assert!(s.endpoints("other").await.unwrap().is_empty());
    assert!(s.endpoint("other", e.id).await.unwrap().is_none());
    let rotated = s
        .rotate_secret(
            "acme",
            e.id,
            "whsec_new",
            at(60 * 24),
            &change(&e, "rotate-secret"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.secret, "whsec_new");
    assert_eq!(rotated.previous_secret.as_deref(), Some("whsec_secret0"));
    assert_eq!(
        rotated.signing_secrets(at(2)),
        ["whsec_new", "whsec_secret0"]
    );
    assert_eq!(rotated.signing_secrets(at(60 * 24)), ["whsec_new"]);
    assert!(
        s.rotate_secret("other", e.id, "x", at(1), &change(&e, "rotate-secret"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !s.delete_endpoint("other", e.id, &change(&e, "delete"))
            .await
            .unwrap()
    );
    assert!(
        s.delete_endpoint("acme", e.id, &change(&e, "delete"))
            .await
            .unwrap()
    );
    assert!(s.endpoints("acme").await.unwrap().is_empty());
    let logged: Vec<String> = changes(s, Some("acme"), 10)
        .await
        .iter()
        .filter(|c| c.entity == "webhook")
        .map(|c| c.action.clone())
        .collect();
    assert_eq!(
        logged.len(),
        3,
        "create, rotate and delete are in the audit log: {logged:?}"
    );
}

async fn a_delivery_and_its_opening_queue_one_message_per_subscribed_active_endpoint(
    s: &dyn Store,
) {
    brand(s, "acme").await;
    brand(s, "other").await;
    let both = endpoint(
        "acme",
        &[EventType::DeliveryCreated, EventType::DeliveryOpened],
        EndpointStatus::Active,
        0,
    );
    let opened_only = endpoint(
        "acme",
        &[EventType::DeliveryOpened],
        EndpointStatus::Active,
        1,
    );
    let disabled = endpoint("acme", &EventType::ALL, EndpointStatus::Disabled, 2);
    let elsewhere = endpoint("other", &EventType::ALL, EndpointStatus::Active, 3);
    for e in [&both, &opened_only, &disabled, &elsewhere] {
        s.create_endpoint(e, &change(e, "create")).await.unwrap();
    }
    let d = delivered("c-1", "u1", "acme", Uuid::from_u128(1), at(5));
    let id = delivery_id(&d);
    s.save_decisions(vec![d.clone()]).await.unwrap();
    // A retry of the same check-in adds nothing.
    s.save_decisions(vec![d]).await.unwrap();
    let ev = event("o-1", "u1", EventKind::Opened { delivery_id: id }, at(6));
    s.apply_event("default", &person("u1"), &ev, &json!({}), at(6))
        .await
        .unwrap();
    let mut got: Vec<(Uuid, String)> = due(s, at(10))
        .await
        .into_iter()
        .map(|m| (m.endpoint, m.event_type))
        .collect();
    got.sort();
    let mut want = vec![
        (both.id, "delivery.created".to_string()),
        (both.id, "delivery.opened".to_string()),
        (opened_only.id, "delivery.opened".to_string()),
    ];
    want.sort();
    assert_eq!(got, want);
    assert!(
        due(s, at(10)).await.is_empty(),
        "claimed messages are leased"
    );
    assert_eq!(s.outbox_rows_of(person("u1").as_str()).await.unwrap(), 3);
}

async fn attempts_move_messages_on_and_an_endpoint_that_keeps_failing_is_disabled(s: &dyn Store) {
    brand(s, "acme").await;
    let e = endpoint(
        "acme",
        &[EventType::DeliveryCreated],
        EndpointStatus::Active,
        0,
    );
    s.create_endpoint(&e, &change(&e, "create")).await.unwrap();
    s.save_decisions(vec![delivered(
        "c-1",
        "u1",
        "acme",
        Uuid::from_u128(1),
        at(5),
    )])
    .await
    .unwrap();
    let m = due(s, at(5)).await.remove(0);
    assert_eq!(m.msg_id, format!("msg_{}_created", m.payload_delivery()));
    s.record_attempt(&attempt(&m, at(5), AttemptOutcome::Retry(at(30))), &POLICY)
        .await
        .unwrap();
    assert!(due(s, at(29)).await.is_empty(), "not before its retry time");
    let m = due(s, at(30)).await.remove(0);
    assert_eq!(m.attempts, 1);
    s.record_attempt(&attempt(&m, at(30), AttemptOutcome::Delivered), &POLICY)
        .await
        .unwrap();
    assert!(due(s, at(60 * 48)).await.is_empty(), "delivered");
    let list = s.attempts("acme", e.id, None, 10).await.unwrap();
    let outcomes: Vec<&str> = list.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["delivered", "failed"]);
    assert_eq!(
        s.attempts("acme", e.id, Some(list[0].id), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.attempts("other", e.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Replay queues it again; three failures in a row then disable the endpoint.
    assert!(!s.replay("other", e.id, list[0].id, at(100)).await.unwrap());
    assert!(s.replay("acme", e.id, list[0].id, at(100)).await.unwrap());
    for n in 0..3 {
        let now = at(100 + n * 60);
        let m = due(s, now).await.remove(0);
        let disabled = s
            .record_attempt(
                &attempt(&m, now, AttemptOutcome::Retry(now + Duration::minutes(60))),
                &POLICY,
            )
            .await
            .unwrap();
        assert_eq!(disabled.is_some(), n == 2, "the third failure disables it");
    }
    let e = s.endpoint("acme", e.id).await.unwrap().unwrap();
    assert_eq!(e.status, EndpointStatus::Disabled);
    assert!(e.disabled_reason.clone().unwrap().contains("3 consecutive"));
    assert!(
        due(s, at(60 * 24)).await.is_empty(),
        "nothing goes to a disabled endpoint"
    );
    // Re-enabled, its waiting message goes out again.
    let enabled = Endpoint {
        status: EndpointStatus::Active,
        disabled_reason: None,
        consecutive_failures: 0,
        failing_since: None,
        ..e.clone()
    };
    assert!(
        s.update_endpoint(&enabled, &change(&enabled, "update"), None)
            .await
            .unwrap()
    );
    assert_eq!(s.endpoint("acme", e.id).await.unwrap().unwrap(), enabled);
    assert_eq!(due(s, at(60 * 24)).await.len(), 1);
    // Only finished messages are purged: this one is leased (waiting), so it stays.
    assert_eq!(s.purge_webhook_messages(at(60 * 24 * 60)).await.unwrap(), 0);
}

async fn erasing_history_removes_the_persons_messages_and_their_attempts(s: &dyn Store) {
    brand(s, "acme").await;
    let e = endpoint(
        "acme",
        &[EventType::DeliveryCreated],
        EndpointStatus::Active,
        0,
    );
    s.create_endpoint(&e, &change(&e, "create")).await.unwrap();
    for user in ["u1", "u2"] {
        s.save_decisions(vec![delivered(
            &format!("c-{user}"),
            user,
            "acme",
            Uuid::from_u128(1),
            at(5),
        )])
        .await
        .unwrap();
    }
    for m in due(s, at(5)).await {
        s.record_attempt(&attempt(&m, at(5), AttemptOutcome::Retry(at(30))), &POLICY)
            .await
            .unwrap();
    }
    s.erase(&person("u1"), Erase::History).await.unwrap();
    assert_eq!(s.outbox_rows_of(person("u1").as_str()).await.unwrap(), 0);
    assert_eq!(s.outbox_rows_of(person("u2").as_str()).await.unwrap(), 1);
    let left = s.attempts("acme", e.id, None, 10).await.unwrap();
    assert_eq!(left.len(), 1, "u1's attempt went with its message");
    // Delivered, it is purged after retention with its attempts.
    let m = due(s, at(30)).await.remove(0);
    s.record_attempt(&attempt(&m, at(30), AttemptOutcome::Delivered), &POLICY)
        .await
        .unwrap();
    assert_eq!(
        s.purge_webhook_messages(at(5)).await.unwrap(),
        0,
        "not older than `before`"
    );
    assert_eq!(s.purge_webhook_messages(at(6)).await.unwrap(), 1);
    assert_eq!(s.outbox_rows_of(person("u2").as_str()).await.unwrap(), 0);
    assert!(s.attempts("acme", e.id, None, 10).await.unwrap().is_empty());
}

async fn a_disabled_endpoint_is_told_to_the_brand_and_resumes_when_enabled(s: &dyn Store) {
    brand(s, "acme").await;
    brand(s, "other").await;
    let failing = endpoint(
        "acme",
        &[EventType::DeliveryCreated, EventType::EndpointDisabled],
        EndpointStatus::Active,
        0,
    );
    let watcher = endpoint(
        "acme",
        &[EventType::EndpointDisabled],
        EndpointStatus::Active,
        1,
    );
    let deaf = endpoint(
        "acme",
        &[EventType::DeliveryCreated],
        EndpointStatus::Active,
        2,
    );
    let stranger = endpoint(
        "other",
        &[EventType::EndpointDisabled],
        EndpointStatus::Active,
        3,
    );
    for e in [&failing, &watcher, &deaf, &stranger] {
        s.create_endpoint(e, &change(e, "create")).await.unwrap();
    }
    s.save_decisions(vec![delivered(
        "c-1",
        "u1",
        "acme",
        Uuid::from_u128(1),
        at(5),
    )])
    .await
    .unwrap();
    // Only `failing` is attempted; `deaf` succeeds once so its streak stays empty.
    for n in 0..3 {
        let now = at(10 + n * 60);
        for (m, e) in s
            .claim_due(now, now + Duration::minutes(2), 100)
            .await
            .unwrap()
        {
            let outcome = if e.id == failing.id {
                AttemptOutcome::Retry(now + Duration::minutes(60))
            } else {
                AttemptOutcome::Delivered
            };
            let told = s
                .record_attempt(&attempt(&m, now, outcome), &POLICY)
                .await
                .unwrap();
            assert_eq!(told.is_some(), e.id == failing.id && n == 2);
        }
    }
    let e = s.endpoint("acme", failing.id).await.unwrap().unwrap();
    assert_eq!(e.status, EndpointStatus::Disabled);
    assert_eq!(e.consecutive_failures, 3);
    assert_eq!(e.failing_since, Some(at(10)));

    // The audit log says geoffer did it, why, after how many failures and since when.
    let log = changes(s, Some("acme"), 10).await;
    let entry = log
        .iter()
        .find(|c| c.action == "disable")
        .expect("a disable entry");
    assert_eq!(
        (entry.key_id.as_str(), entry.role.as_str()),
        ("system", "system")
    );
    assert_eq!(entry.entity, "webhook");
    assert_eq!(entry.entity_id, failing.id.to_string());
    assert_eq!(entry.at, at(130));
    let after = entry.after.as_ref().unwrap();
    assert_eq!(after["status"], "disabled");
    assert_eq!(after["consecutive_failures"], 3);
    assert_eq!(after["disabled_for_failing"], true);
    assert!(
        after["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("3 consecutive")
    );
    assert_eq!(entry.before.as_ref().unwrap()["status"], "active");
    assert!(!serde_json::to_string(&log).unwrap().contains("whsec_"));

    // `endpoint.disabled` is queued for the brand's other subscribed active endpoint only.
    let told: Vec<(Message, Endpoint)> = s.claim_due(at(131), at(133), 100).await.unwrap();
    assert_eq!(told.len(), 1, "one message: {told:?}");
    let (m, to) = &told[0];
    assert_eq!(to.id, watcher.id);
    assert_eq!(m.event_type, "endpoint.disabled");
    let body: serde_json::Value = serde_json::from_str(&m.payload).unwrap();
    assert_eq!(body["type"], "endpoint.disabled");
    assert_eq!(body["data"]["endpoint_id"], failing.id.to_string());
    assert_eq!(body["data"]["consecutive_failures"], 3);
    let sent = attempt(m, at(131), AttemptOutcome::Delivered);
    assert!(s.record_attempt(&sent, &POLICY).await.unwrap().is_none());

    // Enabled again with `resume_since`: its waiting message is due at once, not in an hour.
    let enabled = Endpoint {
        status: EndpointStatus::Active,
        disabled_reason: None,
        consecutive_failures: 0,
        failing_since: None,
        updated_at: at(140),
        ..e.clone()
    };
    assert!(due(s, at(140)).await.is_empty());
    assert!(
        s.update_endpoint(&enabled, &change(&enabled, "update"), Some(at(0)))
            .await
            .unwrap()
    );
    let resumed = due(s, at(140)).await;
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].endpoint, failing.id);
}

/// The delivery id a message's payload names.
trait PayloadDelivery {
    fn payload_delivery(&self) -> String;
}

impl PayloadDelivery for Message {
    fn payload_delivery(&self) -> String {
        let v: serde_json::Value = serde_json::from_str(&self.payload).unwrap();
        v["data"]["delivery_id"].as_str().unwrap().to_string()
    }
}

/// One batch of decisions of every kind (three of them, padded to four slots by SQLite):
/// each message goes to the endpoints that subscribe to it, once, with the payload given —
/// a delivery, the budget it used up, and visits entered and left.
async fn a_mixed_batch_queues_each_decisions_messages_and_no_others(s: &dyn Store) {
    brand(s, "acme").await;
    brand(s, "other").await;
    let all = endpoint("acme", &EventType::ALL, EndpointStatus::Active, 0);
    let visits = endpoint(
        "other",
        &[EventType::VisitExited],
        EndpointStatus::Active,
        1,
    );
    for e in [&all, &visits] {
        s.create_endpoint(e, &change(e, "create")).await.unwrap();
    }
    let mut spent = delivered("c-1", "u1", "acme", Uuid::from_u128(1), at(5));
    if let Some(x) = spent.delivery.as_mut() {
        x.budget_exhausted = Some(geoffer::decisions::record::BudgetExhausted {
            window: geoffer::limits::BudgetWindow::Total,
            limit: 10,
            day: at(5).date_naive(),
        });
    }
    let mut walked = decision("c-2", "u2", at(5));
    let fence = Uuid::from_u128(9);
    walked.visit_hooks = vec![
        visit_hook(EventType::VisitEntered, "p2", "u2", fence, "acme", at(5)),
        visit_hook(EventType::VisitExited, "p2", "u2", fence, "acme", at(5)),
        visit_hook(EventType::VisitExited, "p2", "u2", fence, "other", at(5)),
    ];
    let quiet = decision("c-3", "u3", at(5));
    s.save_decisions(vec![spent.clone(), walked.clone(), quiet])
        .await
        .unwrap();
    let mut got: Vec<(Uuid, String, String)> = due(s, at(10))
        .await
        .into_iter()
        .map(|m| (m.endpoint, m.event_type, m.payload))
        .collect();
    got.sort();
    let x = spent.delivery.as_ref().unwrap();
    let b = x.budget_exhausted.as_ref().unwrap();
    let hook = |i: usize| walked.visit_hooks[i].payload.clone();
    let mut want = vec![
        (
            all.id,
            "delivery.created".to_string(),
            delivery_created_payload(&spent, x),
        ),
        (
            all.id,
            "offer.budget_exhausted".to_string(),
            budget_exhausted_payload(&spent, x, b),
        ),
        (all.id, "visit.entered".to_string(), hook(0)),
        (all.id, "visit.exited".to_string(), hook(1)),
        (visits.id, "visit.exited".to_string(), hook(2)),
    ];
    want.sort();
    assert_eq!(got, want);
}

store_tests!(
    endpoints_are_kept_per_brand_and_rotation_keeps_the_old_secret_for_a_while,
    a_delivery_and_its_opening_queue_one_message_per_subscribed_active_endpoint,
    attempts_move_messages_on_and_an_endpoint_that_keeps_failing_is_disabled,
    erasing_history_removes_the_persons_messages_and_their_attempts,
    a_disabled_endpoint_is_told_to_the_brand_and_resumes_when_enabled,
    a_mixed_batch_queues_each_decisions_messages_and_no_others,
);
