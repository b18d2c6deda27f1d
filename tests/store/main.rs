//! The store conformance suite: the contract of every store trait, one module per trait.
//! Each case is written once, against `&dyn Store`, and `store_tests!` runs it on every
//! backend: SQLite and PostgreSQL (a fresh database per test on the server at
//! `GEOFFER_TEST_PG_URL`, default `postgres://postgres:postgres@127.0.0.1:5432/postgres`).

/// Runs each listed case (an `async fn(&dyn Store)` of the module) as one `#[tokio::test]`
/// per backend: `fences::sqlite::a_brand_cannot_see_or_change_another_brands_fences`. A case
/// left out of the list is dead code, which the build refuses.
macro_rules! store_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let backend = crate::fixtures::sqlite().await;
                    super::$case(backend.store()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let backend = crate::fixtures::postgres().await;
                    super::$case(backend.store()).await;
                }
            )*
        }
    };
}

mod audit;
mod brands;
mod changelog;
mod decisions;
mod events;
mod fences;
mod fixtures;
mod health;
mod offers;
mod people;
mod pg;
mod replay;
mod sessions;
mod support;
mod webhooks;
