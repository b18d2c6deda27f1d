//! `BrandStore`: brands and API keys.

use crate::fixtures::*;
use geoffer::auth::{Role, generate_key};
use geoffer::store::Store;
use geoffer::store::{Brand, StoreError};

async fn a_created_brand_is_read_back_and_brands_are_listed_in_id_order(s: &dyn Store) {
    brand(s, "zeta").await;
    brand(s, "acme").await;
    let got = s.get_brand(&bid("acme")).await.unwrap().unwrap();
    assert_eq!((got.name.as_str(), got.created_at), ("acme Inc", t0()));
    let ids: Vec<String> = s
        .list_brands()
        .await
        .unwrap()
        .iter()
        .map(|b| b.id.to_string())
        .collect();
    assert_eq!(ids, ["acme", "zeta"]);
    assert!(s.get_brand(&bid("nobody")).await.unwrap().is_none());
}

async fn creating_a_brand_twice_is_a_conflict_that_changes_nothing(s: &dyn Store) {
    brand(s, "acme").await;
    let again = Brand {
        id: bid("acme"),
        name: "Other".into(),
        created_at: at(5),
    };
    let err = s.create_brand(&admin(), &again).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        s.get_brand(&bid("acme")).await.unwrap().unwrap().name,
        "acme Inc"
    );
    let log = changes(s, None, 10).await;
    assert_eq!(log.len(), 1, "only the first creation is audited");
}

async fn a_brand_is_audited_by_its_creator_at_its_creation_time(s: &dyn Store) {
    brand(s, "acme").await;
    let log = changes(s, None, 10).await;
    let e = &log[0];
    assert_eq!(
        (e.entity.as_str(), e.action.as_str(), e.entity_id.as_str()),
        ("brand", "create", "acme")
    );
    assert_eq!(
        (e.key_id.as_str(), e.role.as_str(), e.brand.as_deref()),
        ("k-admin", "admin", Some("acme"))
    );
    assert_eq!(e.at, t0());
    assert!(e.before.is_none());
    assert_eq!(e.after.as_ref().unwrap()["name"], "acme Inc");
}

async fn a_key_is_found_by_its_id_with_its_role_brand_and_app(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let key = generate_key(Role::Brand, Some(acme.clone()), at(3));
    s.create_key(Some(&admin()), &key.record).await.unwrap();
    let found = s.find_key(&key.record.id).await.unwrap().unwrap();
    assert_eq!(found.role, Role::Brand);
    assert_eq!(found.brand, Some(acme));
    assert_eq!(found.secret_hash, key.record.secret_hash);
    assert_eq!(found.created_at, at(3));
    assert!(s.find_key("no-such-key").await.unwrap().is_none());
}

async fn a_key_from_the_command_line_is_audited_as_cli_without_its_secret(s: &dyn Store) {
    let key = generate_key(Role::Support, None, at(7));
    s.create_key(None, &key.record).await.unwrap();
    let log = changes(s, None, 10).await;
    let e = &log[0];
    assert_eq!(
        (e.entity.as_str(), e.key_id.as_str(), e.role.as_str()),
        ("key", "cli", "admin")
    );
    assert_eq!(e.at, at(7));
    let after = e.after.as_ref().unwrap();
    assert_eq!(after["id"], key.record.id.as_str());
    assert!(after.get("secret_hash").is_none(), "{after}");
}

async fn creating_a_key_twice_is_a_conflict(s: &dyn Store) {
    let key = generate_key(Role::Admin, None, at(0));
    s.create_key(None, &key.record).await.unwrap();
    let err = s.create_key(None, &key.record).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

store_tests!(
    a_created_brand_is_read_back_and_brands_are_listed_in_id_order,
    creating_a_brand_twice_is_a_conflict_that_changes_nothing,
    a_brand_is_audited_by_its_creator_at_its_creation_time,
    a_key_is_found_by_its_id_with_its_role_brand_and_app,
    a_key_from_the_command_line_is_audited_as_cli_without_its_secret,
    creating_a_key_twice_is_a_conflict,
);
