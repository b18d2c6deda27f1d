//! Consent, the profile read on the check-in path, and erasure.

use super::{SqliteStore, Tx, db_err, from_ms, ms};
use crate::domain::BrandId;
use crate::people::{Consent, ConsentInput, PersonId, Profile, Purchase};
use crate::store::shared::{ERASED, ErasePlan, erased_checkin_id};
use crate::store::{Erase, PeopleStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

#[async_trait]
impl PeopleStore for SqliteStore {
    async fn get_consent(&self, app: &str, user: &str) -> StoreResult<Option<Consent>> {
        let row = sqlx::query("SELECT location, personalization, updated_at FROM consents WHERE app_id = ? AND user_id = ?")
            .bind(app)
            .bind(user)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| Consent {
            user_id: user.to_string(),
            location: r.get::<i64, _>("location") != 0,
            personalization: r.get::<i64, _>("personalization") != 0,
            updated_at: Some(from_ms(r.get("updated_at"))),
        }))
    }

    async fn put_consent(
        &self,
        app: &str,
        user: &str,
        c: &ConsentInput,
        now: DateTime<Utc>,
    ) -> StoreResult<Consent> {
        let person = PersonId::of(app, user);
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO consents (app_id, user_id, person, location, personalization, updated_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (app_id, user_id) DO UPDATE SET location = excluded.location,
               personalization = excluded.personalization, updated_at = excluded.updated_at",
        )
        .bind(app)
        .bind(user)
        .bind(person.as_str())
        .bind(c.location)
        .bind(c.personalization)
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("INSERT INTO consent_events (person, location, personalization, at) VALUES (?, ?, ?, ?)")
            .bind(person.as_str())
            .bind(c.location)
            .bind(c.personalization)
            .bind(ms(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Consent {
            user_id: user.to_string(),
            location: c.location,
            personalization: c.personalization,
            updated_at: Some(now),
        })
    }

    async fn profile(&self, person: &PersonId, since: DateTime<Utc>) -> StoreResult<Profile> {
        // One round trip for the three parts: on the check-in path every query is a thread
        // hand-off to the SQLite worker, which costs more than the query itself.
        let rows = sqlx::query(
            "SELECT 'f' AS kind, brand_id AS a, NULL AS b, NULL AS c, 0 AS at FROM follows WHERE person = ?1
             UNION ALL SELECT 'i', interest, NULL, NULL, 0 FROM interests WHERE person = ?1
             UNION ALL SELECT * FROM (SELECT 'p', brand_id, sku, category, at FROM purchases
                                      WHERE person = ?1 AND at >= ?2 ORDER BY at DESC LIMIT 1000)",
        )
        .bind(person.as_str())
        .bind(ms(since))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut p = Profile::default();
        for r in rows {
            let a: String = r.get("a");
            match r.get::<String, _>("kind").as_str() {
                "f" => p.follows.extend(BrandId::parse(&a).ok()),
                "i" => p.interests.push(a),
                _ => p.purchases.push(Purchase {
                    brand: a,
                    sku: r.get("b"),
                    category: r.get("c"),
                    at: from_ms(r.get("at")),
                }),
            }
        }
        p.follows.sort();
        p.interests.sort();
        Ok(p)
    }

    async fn erase(&self, person: &PersonId, what: Erase) -> StoreResult<()> {
        let plan = ErasePlan::of(what);
        let p = person.as_str();
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        if plan.profile {
            run_each(
                &mut tx,
                p,
                &[
                    "DELETE FROM follows WHERE person = ?",
                    "DELETE FROM interests WHERE person = ?",
                    "DELETE FROM traits WHERE person = ?",
                    "DELETE FROM purchases WHERE person = ?",
                ],
            )
            .await?;
        }
        if plan.profile_events {
            run_each(&mut tx, p, &["DELETE FROM events WHERE person = ? AND kind IN ('purchase', 'follow', 'unfollow', 'traits')"]).await?;
        }
        if plan.history {
            erase_history(&mut tx, p).await?;
        }
        if plan.consents {
            run_each(
                &mut tx,
                p,
                &[
                    "DELETE FROM consents WHERE person = ?",
                    "DELETE FROM consent_events WHERE person = ?",
                ],
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn record_erasure(&self, receipt: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("INSERT INTO erasures (receipt, at) VALUES (?, ?)")
            .bind(receipt)
            .bind(ms(at))
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// Runs each statement with the person as its one parameter.
async fn run_each(tx: &mut Tx<'_>, person: &str, statements: &[&str]) -> StoreResult<()> {
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(*sql))
            .bind(person)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// Events and decisions go; the read log's mentions are redacted; deliveries stay as
/// de-identified counts for the brands' results.
async fn erase_history(tx: &mut Tx<'_>, p: &str) -> StoreResult<()> {
    // The support read log names the person by user id, check-in or delivery: redact it.
    sqlx::query(
        "UPDATE audit_reads SET subject = ?2, query = ?2 WHERE subject IN (
           SELECT user_id FROM consents WHERE person = ?1 UNION SELECT checkin_id FROM decisions WHERE person = ?1
           UNION SELECT id FROM deliveries WHERE person = ?1)",
    )
    .bind(p)
    .bind(ERASED)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    run_each(
        tx,
        p,
        &[
            "DELETE FROM decision_brands WHERE EXISTS (SELECT 1 FROM decisions d WHERE d.person = ?
               AND d.app_id = decision_brands.app_id AND d.checkin_id = decision_brands.checkin_id)",
            "DELETE FROM events WHERE person = ?",
            "DELETE FROM decisions WHERE person = ?",
            // Their attempts go with them (ON DELETE CASCADE).
            "DELETE FROM webhook_outbox WHERE person = ?",
        ],
    )
    .await?;
    let rows = sqlx::query("SELECT id FROM deliveries WHERE person = ?")
        .bind(p)
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
    for r in rows {
        sqlx::query("UPDATE deliveries SET person = ?1, user_id = ?1, device_id = NULL, checkin_id = ?2 WHERE id = ?3")
            .bind(ERASED)
            .bind(erased_checkin_id())
            .bind(r.get::<String, _>("id"))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}
