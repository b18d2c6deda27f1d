//! `SessionStore`: console sessions, found by the hash of their token until they expire.

use crate::fixtures::*;
use geoffer::auth::{Role, SessionRecord, hash_session_token};
use geoffer::store::Store;

fn session(token: &str, role: Role, brand: Option<&str>, hours: i64) -> SessionRecord {
    SessionRecord {
        token_hash: hash_session_token(token),
        key_id: format!("key-{token}"),
        role,
        brand: brand.map(bid),
        created_at: t0(),
        expires_at: at(hours * 60),
    }
}

async fn a_session_is_found_by_its_token_hash_until_it_expires(s: &dyn Store) {
    brand(s, "acme").await;
    let made = session("t1", Role::Brand, Some("acme"), 12);
    s.create_session(&made).await.unwrap();
    let found = s
        .valid_session(&hash_session_token("t1"), at(60))
        .await
        .unwrap()
        .expect("valid an hour in");
    assert_eq!(found, made);
    assert_eq!(found.principal().brand, Some(bid("acme")));
    assert!(
        s.valid_session(&hash_session_token("t1"), at(12 * 60))
            .await
            .unwrap()
            .is_none(),
        "expired at its expiry time"
    );
    assert!(
        s.valid_session(&hash_session_token("other"), at(1))
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_deleted_session_is_gone_and_deleting_twice_is_fine(s: &dyn Store) {
    s.create_session(&session("t1", Role::Admin, None, 12))
        .await
        .unwrap();
    s.delete_session(&hash_session_token("t1")).await.unwrap();
    s.delete_session(&hash_session_token("t1")).await.unwrap();
    assert!(
        s.valid_session(&hash_session_token("t1"), at(1))
            .await
            .unwrap()
            .is_none()
    );
}

async fn purging_removes_only_expired_sessions(s: &dyn Store) {
    s.create_session(&session("short", Role::Support, None, 1))
        .await
        .unwrap();
    s.create_session(&session("long", Role::Admin, None, 12))
        .await
        .unwrap();
    assert_eq!(s.purge_sessions(at(2 * 60)).await.unwrap(), 1);
    assert!(
        s.valid_session(&hash_session_token("long"), at(2 * 60))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(s.purge_sessions(at(2 * 60)).await.unwrap(), 0);
}

store_tests!(
    a_session_is_found_by_its_token_hash_until_it_expires,
    a_deleted_session_is_gone_and_deleting_twice_is_fine,
    purging_removes_only_expired_sessions,
);
