//! `Health`: readiness checks.

use geoffer::store::Store;

/// A fresh store answers and can record, again and again.
async fn a_fresh_store_answers_and_can_record(s: &dyn Store) {
    s.ping().await.unwrap();
    s.write_probe().await.unwrap();
    s.write_probe().await.unwrap();
}

store_tests!(a_fresh_store_answers_and_can_record,);
