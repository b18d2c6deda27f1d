//! Databases created on the fly on the test PostgreSQL server (`GEOFFER_TEST_PG_URL`, default
//! `postgres://postgres:postgres@127.0.0.1:5432/postgres`; `.ci/test` installs and starts
//! PostgreSQL when it is missing). Shared by the store and the HTTP test binaries.

use uuid::Uuid;

/// A database created for one test, dropped (with its connections) when this is dropped.
pub struct PgDatabase {
    /// Its URL.
    pub url: String,
    admin: String,
    name: String,
}

impl PgDatabase {
    /// Creates an empty database with a unique name.
    pub async fn create() -> Self {
        use sqlx::Connection;
        let admin = std::env::var("GEOFFER_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into());
        let name = format!("geoffer_test_{}", Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL answers at GEOFFER_TEST_PG_URL (.ci/test starts it)");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("creating the test database");
        let (base, _) = admin
            .rsplit_once('/')
            .expect("a database URL ends in /NAME");
        Self {
            url: format!("{base}/{name}"),
            admin,
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs inside the test's runtime: drop the database from a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}
