//! `ChangeLogStore`: the catalog's change log that replicas sharing one database follow. A
//! backend one process owns alone (SQLite) keeps none and says so; PostgreSQL logs every
//! brand, fence and offer change in its transaction, in commit order.

use crate::fixtures::*;
use geoffer::store::{ChangedEntity, Store};

async fn every_catalog_change_is_logged_once_in_commit_order(s: &dyn Store) {
    let Some(start) = s.last_change().await.unwrap() else {
        // No shared log: every way of reading it says so.
        assert!(s.changes_after(0, 10).await.unwrap().is_none());
        assert!(s.watch_changes().await.unwrap().is_none());
        return;
    };
    let acme = brand(s, "acme").await;
    let f = s
        .put_fences(
            &admin(),
            &acme,
            vec![fence("A", Some("a"), &[])],
            false,
            at(1),
        )
        .await
        .unwrap()
        .remove(0)
        .0;
    let o = s
        .create_offer(&admin(), &acme, spec("Summer"), at(2))
        .await
        .unwrap();
    s.update_fence(&admin(), &acme, f.id, fence("A2", Some("a"), &[]), at(3))
        .await
        .unwrap();
    s.delete_offer(&admin(), &acme, o.id, at(4)).await.unwrap();
    // A refused change logs nothing.
    s.put_fences(
        &admin(),
        &acme,
        vec![fence("dup", Some("a"), &[])],
        false,
        at(5),
    )
    .await
    .unwrap_err();
    let rows = s.changes_after(start, 100).await.unwrap().unwrap();
    let got: Vec<(ChangedEntity, String, &str)> = rows
        .iter()
        .map(|r| (r.entity, r.id.clone(), r.brand.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (ChangedEntity::Brand, "acme".to_string(), "acme"),
            (ChangedEntity::Fence, f.id.to_string(), "acme"),
            (ChangedEntity::Offer, o.id.to_string(), "acme"),
            (ChangedEntity::Fence, f.id.to_string(), "acme"),
            (ChangedEntity::Offer, o.id.to_string(), "acme"),
        ]
    );
    assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(rows[1].at, at(1));
    assert_eq!(s.last_change().await.unwrap(), Some(rows[4].seq));
    // Resuming after a row gives exactly the rows after it, and a limit is a limit.
    let rest = s.changes_after(rows[2].seq, 100).await.unwrap().unwrap();
    assert_eq!(rest, rows[3..]);
    assert_eq!(s.changes_after(start, 2).await.unwrap().unwrap(), rows[..2]);
}

store_tests!(every_catalog_change_is_logged_once_in_commit_order,);

mod postgres_only {
    use crate::fixtures::*;
    use sqlx::Connection;
    use std::time::Duration;

    /// An identity column numbers rows when they are inserted, not when they commit. A
    /// writer that took its number first and commits last must not be skipped by a reader
    /// that resumes after the highest number it saw: while it is open, no later row may
    /// become visible.
    #[tokio::test]
    async fn a_change_that_takes_its_number_first_and_commits_last_is_not_skipped() {
        let backend = postgres().await;
        let s = backend.store();
        let acme = brand(s, "acme").await;
        let start = s.last_change().await.unwrap().unwrap();
        let mut slow = sqlx::PgConnection::connect(backend.pg_url().unwrap())
            .await
            .unwrap();
        // A writer that takes the log's lock and its number, then stalls before committing,
        // as the store's own writers do inside their transactions.
        sqlx::query("BEGIN").execute(&mut slow).await.unwrap();
        sqlx::query("SELECT pg_advisory_xact_lock(x'67656f66'::int8)")
            .execute(&mut slow)
            .await
            .unwrap();
        let first: i64 = sqlx::query_scalar(
            "INSERT INTO catalog_changes (at, entity, brand_id, entity_id)
             VALUES (0, 'brand', 'acme', 'acme') RETURNING seq",
        )
        .fetch_one(&mut slow)
        .await
        .unwrap();
        // Meanwhile another change is made through the store.
        let store = backend.shared();
        let later = tokio::spawn({
            let acme = acme.clone();
            async move {
                store
                    .create_offer(&admin(), &acme, spec("Later"), at(1))
                    .await
                    .unwrap()
            }
        });
        // While the first writer is open a reader sees nothing after `start`: not the
        // later change either, which would make it move past the first writer's number.
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert_eq!(s.changes_after(start, 10).await.unwrap().unwrap(), []);
        }
        assert!(
            !later.is_finished(),
            "the later change waits for the log's lock"
        );
        sqlx::query("COMMIT").execute(&mut slow).await.unwrap();
        let offer = later.await.unwrap();
        let rows = s.changes_after(start, 10).await.unwrap().unwrap();
        let seqs: Vec<(i64, String)> = rows.iter().map(|r| (r.seq, r.id.clone())).collect();
        assert_eq!(seqs.len(), 2);
        assert_eq!(seqs[0], (first, "acme".to_string()));
        assert!(seqs[1].0 > first);
        assert_eq!(seqs[1].1, offer.id.to_string());
    }
}
