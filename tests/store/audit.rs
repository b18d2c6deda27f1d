//! `AuditStore`: the change log (newest first, by brand, by time) and the read log.

use crate::fixtures::*;
use geoffer::audit::{AuditQuery, ReadQuery, ReadRecord};
use geoffer::store::Store;

fn read(at_min: i64, key: &str, what: &'static str, subject: &str) -> ReadRecord {
    ReadRecord {
        at: at(at_min),
        key_id: key.into(),
        role: "support".into(),
        brand: None,
        what,
        app: Some("default".into()),
        subject: Some(subject.into()),
        query: format!("q={subject}"),
    }
}

async fn changes_are_listed_newest_first_by_brand_and_time_and_paged_by_id(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let beta = brand(s, "beta").await;
    for i in 1..=4 {
        s.create_offer(&admin(), &acme, spec(&format!("A{i}")), at(i))
            .await
            .unwrap();
    }
    s.create_offer(&admin(), &beta, spec("B"), at(9))
        .await
        .unwrap();
    let all = s
        .list_changes(&AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 7);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let acme_only = s
        .list_changes(&AuditQuery {
            brand: Some("acme".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(acme_only.len(), 5, "the brand and its four offers");
    let window = AuditQuery {
        from: Some(at(2)),
        to: Some(at(4)),
        limit: 100,
        ..Default::default()
    };
    let names: Vec<_> = s
        .list_changes(&window)
        .await
        .unwrap()
        .iter()
        .map(|e| e.after.as_ref().unwrap()["name"].clone())
        .collect();
    assert_eq!(
        names,
        ["A3", "A2"],
        "by the times passed in: from inclusive, to exclusive"
    );
    let page1 = s
        .list_changes(&AuditQuery {
            limit: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    let page2 = s
        .list_changes(&AuditQuery {
            limit: 100,
            before_id: Some(page1[2].id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page1.len() + page2.len(), 7);
    assert!(page2.iter().all(|e| e.id < page1[2].id));
}

async fn reads_are_logged_and_listed_newest_first_with_filters(s: &dyn Store) {
    s.record_read(&read(1, "k1", "timeline", "u1"))
        .await
        .unwrap();
    s.record_read(&read(2, "k2", "delivery", "d1"))
        .await
        .unwrap();
    s.record_read(&read(3, "k1", "decision", "c1"))
        .await
        .unwrap();
    let all = s
        .list_reads(&ReadQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let subjects: Vec<_> = all.iter().map(|r| r.subject.clone().unwrap()).collect();
    assert_eq!(subjects, ["c1", "d1", "u1"]);
    let r = &all[2];
    assert_eq!(
        (
            r.at,
            r.key_id.as_str(),
            r.what.as_str(),
            r.app.as_deref(),
            r.query.as_str()
        ),
        (at(1), "k1", "timeline", Some("default"), "q=u1")
    );
    let by_key = s
        .list_reads(&ReadQuery {
            key_id: Some("k1".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_key.len(), 2);
    let by_what = s
        .list_reads(&ReadQuery {
            what: Some("delivery".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_what.len(), 1);
    let window = s
        .list_reads(&ReadQuery {
            from: Some(at(2)),
            to: Some(at(3)),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(window.len(), 1);
    let older = s
        .list_reads(&ReadQuery {
            before_id: Some(all[1].id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
}

store_tests!(
    changes_are_listed_newest_first_by_brand_and_time_and_paged_by_id,
    reads_are_logged_and_listed_newest_first_with_filters,
);
